"""Orientation frames of the performer's body segments, from the 33 landmarks (what positions lose).

Joint positions do not show a head's facing and roll, the chest's twist against the pelvis or a
forearm's twist; the landmarks do (ears, eyes and nose; shoulders against hips; index, pinky and
wrist). :func:`segment_frames` builds one rotation matrix per segment in :data:`SEGMENTS` from
landmarks in the internal frame (metres, Y up), each from two directions:

===================  ===================================  ===========================================
segment              primary axis                         secondary axis (made orthogonal)
===================  ===================================  ===========================================
pelvis               right hip -> left hip                hips' middle -> shoulders' middle
chest                right shoulder -> left shoulder      hips' middle -> shoulders' middle
head                 right ear/eye -> left ear/eye        ears' middle -> nose
left/right_hand      wrist -> knuckles' middle            pinky knuckle -> index knuckle
left/right_foot      heel -> toe                          heel -> ankle
left/right_upper_arm shoulder -> elbow                    elbow bend normal (upper x lower arm)
left/right_lower_arm elbow -> wrist                       pinky knuckle -> index knuckle
left/right_upper_leg hip -> knee                          heel -> toe
left/right_lower_leg knee -> ankle                        heel -> toe
===================  ===================================  ===========================================

The head is the exception when the image landmarks are given: MediaPipe's world landmarks flatten
the face in depth (a 60 deg head turn reads as about 20 deg from the ears and nose), so the head's
frame comes from a weak-perspective fit of a rigid face model (the simulator's, nose, eyes, ears,
mouth) to the face's 2D image landmarks: the linear least-squares 2x3 projection, made
row-orthonormal, gives the rotation (:func:`face_rotation`).

When the face landmarker saw the face, its rotation (:mod:`engine.performer.face_head`) replaces
the fit: on the rendered probes it reads yaw and roll far closer (head gain 0.78 and 0.98, the
fit's 0.64 and 0.70) and without the fit's pitch bias (the fit is turned up by ``FIT_PITCH_DEG``:
it read a level rendered head as 38-40 degrees pitched down); while the face is
lost the fit takes over, bridged by the last offset between the two.

The chest's turn is the other one MediaPipe flattens (a 40 deg torso twist reads as about 29 deg from
the world shoulders): :class:`SegmentTracker` keeps the widest shoulder span it has seen (slowly
forgotten) as the performer's shoulder width and, once the span seen sideways implies a turn of more
than ~10-20 deg, restores the depth between the shoulders that this width requires (the sign
stays MediaPipe's); smaller turns are left as measured, where the correction would only add noise.

Likewise the hand landmarker's palm, when its reading is clearly the performer's hand
(:mod:`engine.face_hands.hand_orientation`), sets the hand's frame and the forearm's twist (the
pose's knuckles do not turn with a pronation), bridged the same way while the hand is lost.

MediaPipe also turns the chest with a head turn and the hips with a chest twist; the tracker
takes a fixed share of each back out (:mod:`engine.performer.trunk_coupling`) and reports the
pelvis's correction (``SegmentPose.pelvis_fix``) so the hip landmarks can be turned to match.

The trunk and head segments turn at most ``_MAX_TURN_DEG_S`` (600 / 900 deg/s) toward a new
reading, so MediaPipe's occasional one-frame swap to a side view does not swing the spine and neck;
the upper arms' roll about their bone (from the elbow's bend normal, which swings on a nearly
straight arm) at most ``_MAX_ROLL_DEG_S`` (450 deg/s), their direction not at all.

Retargeting needs each segment's turn *from the performer's rest*: :class:`SegmentTracker` keeps
the rest frames (computed by the same functions from the rest landmarks, so the axis choice above
never matters) and returns ``Q_s = R_s(t) R_s(rest)^T``, the world-frame rotation from rest, with a
per-frame confidence: the lowest visibility of the landmarks used, times how well the two axes are
defined (an upper arm's bend normal is undefined when the elbow is straight).
"""

from __future__ import annotations

import numpy as np

from engine import rotations as rot
from engine.perception.landmarks import Landmark as L
from engine.perception.landmarks import LandmarkFrame, world_to_internal
from engine.performer.face_head import FaceHeadBridge
from engine.performer.trunk_coupling import MEDIAPIPE_TRUNK_COUPLING, TrunkCoupling, decouple_trunk

__all__ = ["SEGMENTS", "SOURCE_POSES", "face_rotation", "restore_shoulder_depth", "segment_frames", "rest_segment_frames", "SegmentTracker", "SegmentPose"]

SEGMENTS: tuple[str, ...] = (
    "pelvis", "chest", "head",
    *(f"{s}_{p}" for s in ("left", "right") for p in ("upper_arm", "lower_arm", "hand", "upper_leg", "lower_leg", "foot")),
)
SOURCE_POSES = ("t_pose", "arms_down")
_MIN_BEND_SIN = 0.35  # elbow bend sine (~20 deg) above which the upper arm's bend normal is fully trusted


def _unit(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    return v / np.maximum(n, 1e-9), n[..., 0]


def _frame(primary: np.ndarray, secondary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rotation ``(..., 3, 3)`` with columns (primary, secondary made orthogonal, their cross) and how
    well the secondary axis is defined (its sine against the primary, ``(...,)``)."""
    a, _ = _unit(primary)
    b, _ = _unit(secondary)
    b_perp = b - np.sum(b * a, axis=-1, keepdims=True) * a
    b_perp, sine = _unit(b_perp)
    return np.stack([a, b_perp, np.cross(a, b_perp)], axis=-1), sine


# The front of the face only: MediaPipe's ear landmarks are guesses once an ear turns away (with
# them the fit's yaw gain on rendered head turns was 0.66, without them 0.77).
_FACE_MARKS = (L.NOSE, L.LEFT_EYE_INNER, L.LEFT_EYE, L.LEFT_EYE_OUTER, L.RIGHT_EYE_INNER, L.RIGHT_EYE, L.RIGHT_EYE_OUTER,
               L.MOUTH_LEFT, L.MOUTH_RIGHT)


def _face_model() -> np.ndarray:
    """``(9, 3)`` the face points of :data:`_FACE_MARKS` in the head frame (x left, y up, z forward), metres."""
    from engine.perception.landmark_simulator import FACE_POINTS
    from engine.performer.canonical import performer_index, performer_rest_positions

    rest = performer_rest_positions()
    nose = rest[performer_index("head_end")] - rest[performer_index("head")]
    model = {int(L.NOSE): nose}
    for mark, (x, y, z) in FACE_POINTS.items():
        model[int(mark)] = np.array([x, y, z])
        model[int(L[mark.name.replace("LEFT", "RIGHT")])] = np.array([-x, y, z])
    return np.stack([model[int(m)] for m in _FACE_MARKS])


_FACE_MODEL = _face_model()
_FACE_MODEL_CENTRED = _FACE_MODEL - _FACE_MODEL.mean(0)
_FACE_MODEL_GRAM_INV = np.linalg.inv(_FACE_MODEL_CENTRED.T @ _FACE_MODEL_CENTRED)


def face_rotation(image: np.ndarray, image_size: tuple[int, int]) -> np.ndarray:
    """``(3, 3)`` the head's rotation (head frame -> internal frame) from 2D face landmarks.

    Weak perspective: pixel offsets from the face's centroid ``m_i ~ s P M_i`` with ``P`` the first
    two rows of the rotation (image y flipped to point up, x = internal X); ``P`` is the linear
    least-squares fit, made row-orthonormal (SVD), and the third row is their cross product.

    Args:
        image: ``(33, 3)`` normalised image landmarks (x, y in [0, 1]).
        image_size: ``(width, height)`` pixels.
    """
    w, h = image_size
    m = np.asarray(image, dtype=np.float64)[list(_FACE_MARKS), :2] * [w, -h]
    m = m - m.mean(0)
    P = (m.T @ _FACE_MODEL_CENTRED) @ _FACE_MODEL_GRAM_INV  # (2, 3)
    u, _, vt = np.linalg.svd(P, full_matrices=False)
    rows = u @ vt
    return np.stack([rows[0], rows[1], np.cross(rows[0], rows[1])])


def segment_frames(points: np.ndarray, visibility: np.ndarray | None = None, image: np.ndarray | None = None,
                   image_size: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Segment frames ``(S, 3, 3)`` and confidences ``(S,)`` in [0, 1] (order of :data:`SEGMENTS`).

    Args:
        points: ``(33, 3)`` landmarks in the internal frame (metres).
        visibility: ``(33,)`` landmark visibilities (ones when omitted).
        image, image_size: the normalised image landmarks ``(33, 3)`` and the image's ``(width,
            height)``; when given, the head's frame comes from :func:`face_rotation`.
    """
    p = np.asarray(points, dtype=np.float64)
    vis = np.ones(len(p)) if visibility is None else np.asarray(visibility, dtype=np.float64)
    up = 0.5 * (p[L.LEFT_SHOULDER] + p[L.RIGHT_SHOULDER]) - 0.5 * (p[L.LEFT_HIP] + p[L.RIGHT_HIP])
    ears = 0.5 * (p[L.LEFT_EAR] + p[L.RIGHT_EAR])
    primary = [p[L.LEFT_HIP] - p[L.RIGHT_HIP], p[L.LEFT_SHOULDER] - p[L.RIGHT_SHOULDER],
               (p[L.LEFT_EAR] - p[L.RIGHT_EAR]) + (p[L.LEFT_EYE_OUTER] - p[L.RIGHT_EYE_OUTER])]
    secondary = [up, up, p[L.NOSE] - ears]
    torso = float(vis[[L.LEFT_HIP, L.RIGHT_HIP, L.LEFT_SHOULDER, L.RIGHT_SHOULDER]].min())
    seen = [torso, torso, min(float(vis[L.NOSE]), float(max(vis[L.LEFT_EYE_OUTER], vis[L.RIGHT_EYE_OUTER])))]  # one eye suffices
    need = [0.2, 0.2, 0.2]
    for side in ("LEFT", "RIGHT"):
        ix = {n: int(L[f"{side}_{n}"]) for n in ("SHOULDER", "ELBOW", "WRIST", "INDEX", "PINKY", "HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX")}
        lm = {n: p[i] for n, i in ix.items()}
        upper, lower = lm["ELBOW"] - lm["SHOULDER"], lm["WRIST"] - lm["ELBOW"]
        across_hand = lm["INDEX"] - lm["PINKY"]
        foot = lm["FOOT_INDEX"] - lm["HEEL"]
        primary += [upper, lower, 0.5 * (lm["INDEX"] + lm["PINKY"]) - lm["WRIST"], lm["KNEE"] - lm["HIP"], lm["ANKLE"] - lm["KNEE"], foot]
        secondary += [np.cross(upper, lower), across_hand, across_hand, foot, foot, lm["ANKLE"] - lm["HEEL"]]
        v = lambda *names: float(vis[[ix[n] for n in names]].min())  # noqa: E731
        seen += [v("SHOULDER", "ELBOW", "WRIST"), v("ELBOW", "WRIST", "INDEX", "PINKY"), v("WRIST", "INDEX", "PINKY"),
                 v("HIP", "KNEE", "HEEL", "FOOT_INDEX"), v("KNEE", "ANKLE", "HEEL", "FOOT_INDEX"), v("ANKLE", "HEEL", "FOOT_INDEX")]
        # The upper arm's bend normal is only trusted as far as the elbow is bent.
        need += [_MIN_BEND_SIN, 0.2, 0.2, 0.2, 0.2, 0.2]
    frames, sine = _frame(np.stack(primary), np.stack(secondary))
    if image is not None and image_size is not None:
        frames[2] = face_rotation(image, image_size) @ _FIT_LEVEL @ _HEAD_MODEL_FRAME
    conf = np.minimum(np.asarray(seen), np.clip(sine / np.asarray(need), 0.0, 1.0))
    return frames, conf


def _head_model_frame() -> np.ndarray:
    """The head frame :func:`segment_frames` builds from world landmarks, for the face model at rest."""
    from engine.perception.landmark_simulator import landmarks_from_performer
    from engine.performer.canonical import performer_rest_positions

    p = landmarks_from_performer(performer_rest_positions())
    ears = 0.5 * (p[L.LEFT_EAR] + p[L.RIGHT_EAR])
    return _frame((p[L.LEFT_EAR] - p[L.RIGHT_EAR]) + (p[L.LEFT_EYE_OUTER] - p[L.RIGHT_EYE_OUTER]), p[L.NOSE] - ears)[0]


_HEAD_MODEL_FRAME = _head_model_frame()
# MediaPipe places the face's points differently from the face model: the fit read a level head as
# pitched 38-40 degrees down on every rendered probe (at rest; eval-live --probes --body-only) and
# 25-44 degrees below the face landmarker's head on the real clips (eval-face-hands,
# head_face_vs_fit). The fit is turned back up by the rendered value.
FIT_PITCH_DEG = 40.0
_FIT_LEVEL = rot.axis_angle_to_matrix(np.array([np.radians(FIT_PITCH_DEG), 0.0, 0.0]))


def rest_segment_frames(source_pose: str = "t_pose") -> np.ndarray:
    """``(S, 3, 3)`` segment frames of the performer's rest (``"t_pose"`` or ``"arms_down"``), from
    the landmarks :mod:`engine.perception.landmark_simulator` places on the rest skeleton.

    In the rest pose the arms are straight; the upper arm's frame then takes the bend normal of a
    slightly bent elbow (bent forward, as a relaxed arm bends), so it is defined.
    """
    from engine.perception.landmark_simulator import landmarks_from_performer
    from engine.performer.canonical import performer_arms_down_positions, performer_index, performer_rest_positions

    if source_pose not in SOURCE_POSES:
        raise ValueError(f"source_pose must be one of {SOURCE_POSES}, got {source_pose!r}")
    pos = performer_rest_positions() if source_pose == "t_pose" else performer_arms_down_positions()
    frames, _ = segment_frames(landmarks_from_performer(pos))
    bent = pos.copy()
    for side in ("left", "right"):  # bend each elbow 10 degrees forward so the bend normal exists
        pivot = pos[performer_index(f"{side}_lower_arm")]
        for part in ("hand", "hand_end", "thumb"):
            j = performer_index(f"{side}_{part}")
            d = pos[j] - pivot
            bent[j] = pivot + d * np.cos(np.radians(10.0)) + np.array([0.0, 0.0, np.linalg.norm(d) * np.sin(np.radians(10.0))])
    bent_frames, _ = segment_frames(landmarks_from_performer(bent))
    for side in ("left", "right"):
        s = SEGMENTS.index(f"{side}_upper_arm")
        frames[s] = bent_frames[s]
    return frames


class SegmentPose:
    """One frame's segment turns from rest.

    Attributes:
        turns: ``{source_pose: (S, 3, 3)}`` world-frame rotations ``R_s(t) R_s(rest)^T`` per rest pose.
        confidence: ``(S,)`` in [0, 1].
        frames: ``(S, 3, 3)`` the segment frames themselves.
        rest_axes: ``{source_pose: (S, 3)}`` each segment's primary axis at rest (a limb's bone), world.
        pelvis_fix: ``(3, 3)`` the turn that undid the pelvis's coupling to the chest (world), or
            None (:mod:`engine.performer.trunk_coupling`; the hip landmarks need the same turn).
    """

    __slots__ = ("turns", "confidence", "frames", "rest_axes", "pelvis_fix")

    def __init__(self, turns: dict[str, np.ndarray], confidence: np.ndarray, frames: np.ndarray,
                 rest_axes: dict[str, np.ndarray], pelvis_fix: np.ndarray | None = None) -> None:
        self.turns, self.confidence, self.frames, self.rest_axes = turns, confidence, frames, rest_axes
        self.pelvis_fix = pelvis_fix

    def turn(self, segment: str, source_pose: str = "t_pose") -> np.ndarray:
        """``(3, 3)`` the world rotation of ``segment`` from its rest in ``source_pose``."""
        return self.turns[source_pose][SEGMENTS.index(segment)]


# Fastest believable turn of the trunk and head segments, deg/s (a quick head shake is ~400-600):
# MediaPipe now and then swaps to a side view for a frame or two (on the head-yaw probe the
# shoulder span collapsed from 0.32 to 0.07 m in one frame, an 86 degree chest turn); a segment
# frame turns at most this fast toward the new reading. Limbs and hands are not held back like this (a fast
# pronation passes 1000 deg/s).
_MAX_TURN_DEG_S = {"pelvis": 600.0, "chest": 600.0, "head": 900.0}
_FRESH_GAP_S = 0.25  # a longer gap between frames starts afresh (no limit)
_MIN_STEP_S = 1.0 / 30.0  # each frame may turn at least a 30 fps frame's worth (replays run faster than real time)
_WIDTH_DECAY = 1e-4  # per frame: the remembered shoulder width forgets 3 % in 10 s at 30 fps
_DEPTH_FIX_DEG = (10.0, 20.0)  # implied shoulder turn: no depth fix below, full above
_DEPTH_GAIN_MAX = 1.6  # the restored turn is at most this many times the turn MediaPipe's depth shows


# The upper arms' roll about their bone (its twist, from the elbow's bend normal) turns at most this
# fast: a nearly straight elbow's bend normal swings by 20-30 degrees within a frame or two where
# the arm passes the camera's axis (the rendered front raise), which no arm does.
_ROLL_LIMITED = ("left_upper_arm", "right_upper_arm")
_MAX_ROLL_DEG_S = 450.0


def _limit_roll(frame: np.ndarray, prev: np.ndarray, most: float) -> np.ndarray:
    """``frame`` with its roll about its own first axis turned at most ``most`` radians from ``prev``'s
    (``prev`` carried onto the new first axis by the shortest turn); the first axis is kept."""
    a, a_prev = frame[:, 0], prev[:, 0]
    carried = rot.quat_to_matrix(rot.quat_between(a_prev, a)) @ prev
    b, b_carried = frame[:, 1], carried[:, 1]
    roll = float(np.arctan2(np.cross(b_carried, b) @ a, b_carried @ b))
    if abs(roll) <= most:
        return frame
    return rot.axis_angle_to_matrix(a * np.copysign(most, roll)) @ carried


def restore_shoulder_depth(points: np.ndarray, width: float) -> np.ndarray:
    """``points`` ``(33, 3)`` with the shoulders' depth difference restored toward a span of ``width``.

    The turn the sideways span implies, ``acos(side / width)``, is trusted only as far as MediaPipe's
    own depth agrees: at most :data:`_DEPTH_GAIN_MAX` times the turn the raw depth shows, and not at
    all once the span implies more than one more multiple of it (a shoulder landmark pulled inward,
    e.g. while the head turns, shortens the span without any depth); only above
    :data:`_DEPTH_FIX_DEG` (below, the correction would mostly be noise).
    """
    l, r = int(L.LEFT_SHOULDER), int(L.RIGHT_SHOULDER)
    v = points[l] - points[r]
    side = float(np.hypot(v[0], v[1]))
    if width <= 0 or side >= width or side < 1e-6:
        return points
    implied = np.degrees(np.arccos(side / width))
    raw = np.degrees(np.arctan2(abs(v[2]), side))
    t = float(np.clip((implied - _DEPTH_FIX_DEG[0]) / (_DEPTH_FIX_DEG[1] - _DEPTH_FIX_DEG[0]), 0.0, 1.0))
    # A span far shorter than the depth explains is an artefact (a shoulder landmark pulled inward), not a turn.
    t *= float(np.clip(_DEPTH_GAIN_MAX + 1.0 - implied / max(raw, 1e-6), 0.0, 1.0))
    turn = raw + t * (min(implied, _DEPTH_GAIN_MAX * raw) - raw)
    if turn <= raw:
        return points
    dz = np.copysign(side * np.tan(np.radians(turn)), v[2])
    out = points.copy()
    mid = 0.5 * (points[l, 2] + points[r, 2])
    out[l, 2], out[r, 2] = mid + 0.5 * dz, mid - 0.5 * dz
    return out


class SegmentTracker:
    """Landmark frames -> :class:`SegmentPose`; keeps the rest frames, the shoulder width seen so
    far and the face-to-fit offset of the head (:class:`~engine.performer.face_head.FaceHeadBridge`).

    Args:
        coupling: the share of each trunk segment's twist MediaPipe puts into the one below it,
            undone before the speed limit (:mod:`engine.performer.trunk_coupling`); None keeps
            the segments as seen.

    Call :meth:`reset` when the performer changes.
    """

    def __init__(self, coupling: TrunkCoupling | None = MEDIAPIPE_TRUNK_COUPLING) -> None:
        self.coupling = coupling
        self.shoulder_width = 0.0
        self._head = FaceHeadBridge()
        # The hand landmarker's palm, bridged like the face (the hand and the forearm's twist).
        self._palm_bridges = {(side, part): FaceHeadBridge() for side in ("left", "right") for part in ("lower_arm", "hand")}
        self._last: dict[int, np.ndarray] = {}  # the trunk, head and upper-arm frames of the previous call
        self._last_t: float | None = None
        self._rest_t = {pose: np.swapaxes(rest_segment_frames(pose), -1, -2) for pose in SOURCE_POSES}
        self._rest_axes = {pose: rest_t[:, 0, :].copy() for pose, rest_t in self._rest_t.items()}

    def from_points(self, points: np.ndarray, visibility: np.ndarray | None = None, image: np.ndarray | None = None,
                    image_size: tuple[int, int] | None = None, face_head: np.ndarray | None = None,
                    t_s: float = 0.0, palms: dict[str, np.ndarray] | None = None) -> SegmentPose:
        """Segment turns of ``(33, 3)`` internal-frame landmarks (see :func:`segment_frames`).

        Args:
            face_head: ``(4,)`` x y z w the face landmarker's head rotation (canonical face ->
                camera, which is the internal frame's axes), or None when the face was not seen.
            palms: ``side -> (2, 3)`` the hand landmarker's wrist -> knuckles and pinky -> index
                directions (internal axes) for the hands it sees: they set the hand's frame and the
                forearm's twist (the pose's knuckles do not turn with a pronation); bridged like
                the face while a hand is lost.
            t_s: the frame's time in seconds (the bridge's fade while the face is lost).
        """
        points = np.asarray(points, dtype=np.float64)
        span = float(np.linalg.norm(points[L.LEFT_SHOULDER] - points[L.RIGHT_SHOULDER]))
        self.shoulder_width = max(span, self.shoulder_width * (1.0 - _WIDTH_DECAY))
        frames, conf = segment_frames(restore_shoulder_depth(points, self.shoulder_width), visibility, image, image_size)
        face = None if face_head is None else rot.quat_to_matrix(np.asarray(face_head, dtype=np.float64)) @ _HEAD_MODEL_FRAME
        head = SEGMENTS.index("head")
        frames[head] = self._head.update(frames[head], face, t_s)
        if face is not None:
            conf[head] = 1.0  # the face landmarker found the face: its rotation does not need the pose's visibility
        self._bridge_palms(points, frames, conf, palms or {}, t_s)
        pelvis_fix = self._decouple(frames) if self.coupling is not None else None
        self._limit_speed(frames, float(t_s))
        return SegmentPose({pose: frames @ rest_t for pose, rest_t in self._rest_t.items()}, conf, frames, self._rest_axes,
                           pelvis_fix)

    def _bridge_palms(self, points: np.ndarray, frames: np.ndarray, conf: np.ndarray, palms: dict[str, np.ndarray],
                      t_s: float) -> None:
        """The hands' and forearms' frames from the hand landmarker's palms where seen (in place).

        Only the palm gives these two segments their roll: the pose's index and pinky knuckles do
        not turn with a pronation (gain 0.00 on the rendered probe), and the twist they gave made
        the humanoid's and the held-out CMU rig's local rotations worse on every rendered clip
        (README, "Live capture accuracy"). So their confidence is the palm's: 1 while seen, fading
        with the bridge once lost, 0 without one (the rig's forearm and hand then keep the
        solver's twist).
        """
        for side in ("left", "right"):
            axes = palms.get(side)
            seen: dict[str, np.ndarray | None] = {"lower_arm": None, "hand": None}
            if axes is not None:
                S = side.upper()
                forearm = points[L[f"{S}_WRIST"]] - points[L[f"{S}_ELBOW"]]
                (arm, hand), sine = _frame(np.stack([forearm, axes[0]]), np.stack([axes[1], axes[1]]))
                if sine.min() > 0.2:  # a palm across seen (nearly) along the forearm gives no twist
                    seen = {"lower_arm": arm, "hand": hand}
            for part, frame in seen.items():
                s = SEGMENTS.index(f"{side}_{part}")
                bridge = self._palm_bridges[(side, part)]
                frames[s] = bridge.update(frames[s], frame, t_s)
                conf[s] = bridge.weight(t_s)

    def _decouple(self, frames: np.ndarray) -> np.ndarray:
        """Undo the trunk coupling on the pelvis and chest frames (in place); returns the pelvis's
        correction (world rotation)."""
        rest_t = self._rest_t["t_pose"]
        index = {name: SEGMENTS.index(name) for name in ("pelvis", "chest", "head")}
        turns = {name: frames[s] @ rest_t[s] for name, s in index.items()}
        up = {name: turns[name][:, 1] for name in ("pelvis", "chest")}  # rest frames stand upright: their up is world Y
        fixed = decouple_trunk(turns, up, self.coupling)
        for name, turn in fixed.items():
            frames[index[name]] = turn @ rest_t[index[name]].T
        return fixed["pelvis"] @ turns["pelvis"].T

    def _limit_speed(self, frames: np.ndarray, t_s: float) -> None:
        """Turn the trunk and head frames at most :data:`_MAX_TURN_DEG_S` from the previous call's (in place)."""
        dt = None if self._last_t is None else t_s - self._last_t
        self._last_t = t_s
        for name, speed in _MAX_TURN_DEG_S.items():
            s = SEGMENTS.index(name)
            prev = self._last.get(s)
            if prev is not None and dt is not None and dt <= _FRESH_GAP_S:
                step = frames[s] @ prev.T
                angle = float(np.arccos(np.clip(0.5 * (np.trace(step) - 1.0), -1.0, 1.0)))
                most = np.radians(speed) * max(dt, _MIN_STEP_S)
                if angle > most:
                    frames[s] = rot.axis_angle_to_matrix(rot.matrix_to_axis_angle(step) * (most / angle)) @ prev
            self._last[s] = frames[s].copy()
        for name in _ROLL_LIMITED:
            s = SEGMENTS.index(name)
            prev = self._last.get(s)
            if prev is not None and dt is not None and dt <= _FRESH_GAP_S:
                frames[s] = _limit_roll(frames[s], prev, np.radians(_MAX_ROLL_DEG_S) * max(dt, _MIN_STEP_S))
            self._last[s] = frames[s].copy()

    def reset(self) -> None:
        """Forget the shoulder width, the head's face offset and the last frames (a new performer)."""
        self.shoulder_width = 0.0
        self._head.reset()
        for bridge in self._palm_bridges.values():
            bridge.reset()
        self._last.clear()
        self._last_t = None

    def __call__(self, landmarks: LandmarkFrame, image_size: tuple[int, int] | None = None,
                 face_head: np.ndarray | None = None, palms: dict[str, np.ndarray] | None = None) -> SegmentPose:
        """Segment turns of a MediaPipe landmark frame (world landmarks, visibility; the image
        landmarks too when ``image_size`` = ``(width, height)`` is known; the face landmarker's
        head rotation ``face_head`` when the face was seen)."""
        image = landmarks.image if image_size is not None else None
        return self.from_points(world_to_internal(landmarks.world), landmarks.visibility, image, image_size,
                                face_head, landmarks.t_ms / 1000.0, palms)
