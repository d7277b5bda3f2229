"""The canonical performer: the fixed humanoid skeleton that live perception produces.

Every perception front end (MediaPipe landmarks, the V2P network, mocap used for training) ends in
positions of this one skeleton; retargeting then maps it onto any rig. Frame: internal (DESIGN §3),
metres, Y up; the rest pose faces +Z with the performer's left side on +X, in a T-pose.

Joints are named like the bones that start at them (``left_upper_arm`` sits at the shoulder, as
in Unity/VRM), with a few tips: ``head_end`` is the nose (it gives the facing), ``left_hand_end``
the middle of the index and pinky knuckles, ``left_thumb`` the thumb knuckle (together with the
wrist these give the hand's orientation, see :func:`hand_frames`), ``left_toe`` the tip of the foot
and ``left_heel`` the heel.

Definitions shared by every source (so that a landmark frame and a mocap frame give the same
skeleton): ``pelvis`` = the middle of the two hip joints; ``neck`` = the middle of the shoulders;
``spine`` and ``chest`` = 1/3 and 2/3 of the way from pelvis to neck; ``head`` = the middle of the
ears; ``left_collar`` = 1/4 of the way from the neck to the left shoulder.
"""

from __future__ import annotations

import numpy as np

from engine.perception.landmarks import Landmark, LandmarkFrame, world_to_internal
from engine.skeleton import Skeleton

__all__ = [
    "PERFORMER_JOINTS",
    "PERFORMER_PARENTS",
    "PERFORMER_CHAINS",
    "NUM_PERFORMER_JOINTS",
    "performer_index",
    "performer_skeleton",
    "performer_rest_positions",
    "performer_arms_down_positions",
    "performer_positions_from_landmarks",
    "performer_positions_from_world_landmarks",
    "body_frame",
    "hand_frames",
]

_SIDE_ARM = ("collar", "upper_arm", "lower_arm", "hand", "hand_end", "thumb")
_SIDE_LEG = ("upper_leg", "lower_leg", "foot", "toe", "heel")

PERFORMER_JOINTS: tuple[str, ...] = (
    "pelvis", "spine", "chest", "neck", "head", "head_end",
    *(f"left_{n}" for n in _SIDE_ARM), *(f"right_{n}" for n in _SIDE_ARM),
    *(f"left_{n}" for n in _SIDE_LEG), *(f"right_{n}" for n in _SIDE_LEG),
)
NUM_PERFORMER_JOINTS = len(PERFORMER_JOINTS)  # 28


def performer_index(name: str) -> int:
    """Index of a performer joint by name (``KeyError`` names the missing joint)."""
    try:
        return PERFORMER_JOINTS.index(name)
    except ValueError:
        raise KeyError(f"no performer joint named {name!r}") from None


_PARENT_NAMES = {
    "pelvis": None, "spine": "pelvis", "chest": "spine", "neck": "chest", "head": "neck", "head_end": "head",
}
for _s in ("left", "right"):
    _PARENT_NAMES.update({
        f"{_s}_collar": "chest", f"{_s}_upper_arm": f"{_s}_collar", f"{_s}_lower_arm": f"{_s}_upper_arm",
        f"{_s}_hand": f"{_s}_lower_arm", f"{_s}_hand_end": f"{_s}_hand", f"{_s}_thumb": f"{_s}_hand",
        f"{_s}_upper_leg": "pelvis", f"{_s}_lower_leg": f"{_s}_upper_leg", f"{_s}_foot": f"{_s}_lower_leg",
        f"{_s}_toe": f"{_s}_foot", f"{_s}_heel": f"{_s}_foot",
    })
PERFORMER_PARENTS: tuple[int, ...] = tuple(
    -1 if _PARENT_NAMES[n] is None else PERFORMER_JOINTS.index(_PARENT_NAMES[n]) for n in PERFORMER_JOINTS
)

# Named chains (joint names, root to tip) that retargeting maps onto rig chains.
PERFORMER_CHAINS: dict[str, tuple[str, ...]] = {
    "spine": ("pelvis", "spine", "chest", "neck"),
    "neck": ("neck", "head"),
    "head": ("head", "head_end"),
    **{f"{s}_arm": (f"{s}_collar", f"{s}_upper_arm", f"{s}_lower_arm", f"{s}_hand", f"{s}_hand_end") for s in ("left", "right")},
    **{f"{s}_leg": (f"{s}_upper_leg", f"{s}_lower_leg", f"{s}_foot", f"{s}_toe") for s in ("left", "right")},
}

# T-pose of a 1.75 m adult, metres; X = performer's left, Y up, Z forward.
_REST_LEFT = {
    "collar": (0.0475, 1.45, 0.0), "upper_arm": (0.19, 1.45, 0.0), "lower_arm": (0.47, 1.45, 0.0),
    "hand": (0.72, 1.45, 0.0), "hand_end": (0.81, 1.45, 0.0), "thumb": (0.755, 1.435, 0.045),
    "upper_leg": (0.09, 0.95, 0.0), "lower_leg": (0.09, 0.52, 0.0), "foot": (0.09, 0.09, 0.0),
    "toe": (0.09, 0.01, 0.16), "heel": (0.09, 0.03, -0.05),
}
_REST_CENTRE = {
    "pelvis": (0.0, 0.95, 0.0), "spine": (0.0, 0.95 + 0.5 / 3, 0.0), "chest": (0.0, 0.95 + 1.0 / 3, 0.0),
    "neck": (0.0, 1.45, 0.0), "head": (0.0, 1.60, 0.0), "head_end": (0.0, 1.58, 0.10),
}


def performer_rest_positions() -> np.ndarray:
    """``(28, 3)`` float64 world positions of the rest T-pose, metres."""
    pos = np.zeros((NUM_PERFORMER_JOINTS, 3))
    for name, p in _REST_CENTRE.items():
        pos[performer_index(name)] = p
    for name, (x, y, z) in _REST_LEFT.items():
        pos[performer_index(f"left_{name}")] = (x, y, z)
        pos[performer_index(f"right_{name}")] = (-x, y, z)
    return pos


def performer_arms_down_positions() -> np.ndarray:
    """``(28, 3)`` the rest pose with both arms hanging down (the reference for forelegs)."""
    pos = performer_rest_positions()
    for side in ("left", "right"):
        shoulder = pos[performer_index(f"{side}_upper_arm")].copy()
        for part in ("lower_arm", "hand", "hand_end", "thumb"):
            j = performer_index(f"{side}_{part}")
            dx, dy, dz = pos[j] - shoulder
            # Turn the arm 90 degrees about Z so that it hangs down: left (x, y) -> (y, -x), right (x, y) -> (-y, x).
            pos[j] = shoulder + (np.array([dy, -dx, dz]) if side == "left" else np.array([-dy, dx, dz]))
    return pos


def performer_skeleton() -> Skeleton:
    """The performer as a :class:`Skeleton` (identity rest rotations, rest = T-pose)."""
    pos = performer_rest_positions()
    parents = np.array(PERFORMER_PARENTS)
    trans = pos.copy()
    trans[1:] = pos[1:] - pos[parents[1:]]
    rots = np.tile([0.0, 0.0, 0.0, 1.0], (NUM_PERFORMER_JOINTS, 1))
    return Skeleton(PERFORMER_JOINTS, parents, trans, rots)


def _mid(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return 0.5 * (a + b)


def performer_positions_from_world_landmarks(world: np.ndarray) -> np.ndarray:
    """Performer joint positions from world landmarks already in the internal frame.

    Args:
        world: ``(..., 33, 3)`` landmarks, metres, internal frame (see
            :func:`engine.perception.landmarks.world_to_internal`).

    Returns:
        ``(..., 28, 3)`` float64 performer positions in the same frame (pelvis at the hip centre).
    """
    L = np.asarray(world, dtype=np.float64)
    out = np.zeros(L.shape[:-2] + (NUM_PERFORMER_JOINTS, 3))

    def put(name: str, value: np.ndarray) -> None:
        out[..., performer_index(name), :] = value

    pelvis = _mid(L[..., Landmark.LEFT_HIP, :], L[..., Landmark.RIGHT_HIP, :])
    neck = _mid(L[..., Landmark.LEFT_SHOULDER, :], L[..., Landmark.RIGHT_SHOULDER, :])
    put("pelvis", pelvis)
    put("spine", pelvis + (neck - pelvis) / 3.0)
    put("chest", pelvis + (neck - pelvis) * 2.0 / 3.0)
    put("neck", neck)
    put("head", _mid(L[..., Landmark.LEFT_EAR, :], L[..., Landmark.RIGHT_EAR, :]))
    put("head_end", L[..., Landmark.NOSE, :])
    for side in ("left", "right"):
        lm = {n: L[..., Landmark[f"{side.upper()}_{n}"], :] for n in (
            "SHOULDER", "ELBOW", "WRIST", "INDEX", "PINKY", "THUMB", "HIP", "KNEE", "ANKLE", "HEEL", "FOOT_INDEX")}
        put(f"{side}_collar", neck + 0.25 * (lm["SHOULDER"] - neck))
        put(f"{side}_upper_arm", lm["SHOULDER"])
        put(f"{side}_lower_arm", lm["ELBOW"])
        put(f"{side}_hand", lm["WRIST"])
        put(f"{side}_hand_end", _mid(lm["INDEX"], lm["PINKY"]))
        put(f"{side}_thumb", lm["THUMB"])
        put(f"{side}_upper_leg", lm["HIP"])
        put(f"{side}_lower_leg", lm["KNEE"])
        put(f"{side}_foot", lm["ANKLE"])
        put(f"{side}_toe", lm["FOOT_INDEX"])
        put(f"{side}_heel", lm["HEEL"])
    return out


def performer_positions_from_landmarks(frame: LandmarkFrame) -> np.ndarray:
    """The direct geometric mapping, landmarks -> performer joints (baseline, fallback, training target).

    Args:
        frame: one landmark frame; its MediaPipe world landmarks are turned into the internal frame.

    Returns:
        ``(28, 3)`` float64 metres, internal frame (X image right = performer's left when they face
        the camera, Y up, Z toward the camera), pelvis at the origin. All zeros when no person
        was found (hold the last pose with :class:`engine.perception.hold.LandmarkHold`).
    """
    return performer_positions_from_world_landmarks(world_to_internal(frame.world))


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _frame_from(x_axis: np.ndarray, y_hint: np.ndarray) -> np.ndarray:
    """Right-handed rotation matrices ``(..., 3, 3)`` whose columns are x, y (y_hint made orthogonal), z = x cross y."""
    x = _normalize(x_axis)
    y = _normalize(y_hint - np.sum(y_hint * x, axis=-1, keepdims=True) * x)
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=-1)


def body_frame(positions: np.ndarray) -> np.ndarray:
    """Orientation of the performer's pelvis, ``(..., 3, 3)`` (columns: left, up, forward).

    Built from the hip line (right hip -> left hip = +X) and the pelvis -> neck direction (+Y, made
    orthogonal); identity at rest. ``positions`` is ``(..., 28, 3)``.
    """
    p = np.asarray(positions, dtype=np.float64)
    left = p[..., performer_index("left_upper_leg"), :] - p[..., performer_index("right_upper_leg"), :]
    up = p[..., performer_index("neck"), :] - p[..., performer_index("pelvis"), :]
    return _frame_from(left, up)


def hand_frames(positions: np.ndarray) -> np.ndarray:
    """Orientation of both hands, ``(..., 2, 3, 3)`` (left, right), rotation matrices (columns = axes).

    Column 0 runs from the wrist to ``hand_end`` (the middle of the index and pinky knuckles);
    column 2 points to the thumb's side (made orthogonal to column 0); column 1 = column 2 x
    column 0 completes a right-handed frame: it points out of the back of the left hand and out of
    the palm of the right hand. This uses the wrist, the index and pinky knuckles and the thumb:
    all the hand landmarks BlazePose gives. ``positions`` is ``(..., 28, 3)``.
    """
    p = np.asarray(positions, dtype=np.float64)
    frames = []
    for side in ("left", "right"):
        wrist = p[..., performer_index(f"{side}_hand"), :]
        along = p[..., performer_index(f"{side}_hand_end"), :] - wrist
        thumb = p[..., performer_index(f"{side}_thumb"), :] - wrist
        m = _frame_from(along, thumb)  # columns: along, thumb side, along x thumb
        frames.append(np.stack([m[..., 0], -m[..., 2], m[..., 1]], axis=-1))
    return np.stack(frames, axis=-3)
