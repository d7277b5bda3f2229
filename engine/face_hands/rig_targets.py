"""Which joints of a rig the face and hands drive, and about which axis: jaw, eyes, finger bones.

Found once per rig (:func:`find_face_hand_targets`), by name, checked by geometry:

- **jaw**: the humanoid map's ``Jaw``, else a joint whose name contains ``jaw`` below a head-like
  joint (a dragon's or a quadruped's ``Jaw``, a bird's ``LowerBeak``, a ``mandible``); without a name, a leaf child of the head whose rest
  offset points forward and down. It opens about the rig's left-right axis so that the jaw's
  forward direction turns down;
- **eyes**: the humanoid map's ``LeftEye`` / ``RightEye``, else joints named ``eye`` with a side,
  below the head. Yaw turns about the up axis, pitch about the left-right axis;
- **fingers**: Unity ``HumanBodyBones`` finger roles (``LeftIndexProximal`` ...) from the rig's
  humanoid map or matching joint names. Curl turns each bone toward the palm; spread turns the
  proximal bone in the palm plane toward the index side;
- **grips** (non-humanoid limbs, from the retarget map's ``face_hands.grips``,
  :mod:`engine.retarget.face_hand_joints`): each turns by its angle times the hand's closure,
  bending its tip downward (about its bone x down; a bone pointing straight down bends backward).

The retarget map's ``face_hands`` may also name the jaw and eye joints; a name there wins over
the search above (``""`` = none).

Every axis is computed in world space at the rig's reference pose, then stored in the joint's own
local frame, so applying an angle is one quaternion product on the solved local rotation
(``q_local * axis_angle(axis_local, angle)``): the offset rides along with whatever the body
solver did to the parents. Rig conventions: the rig faces +Z with its left side on +X at its
reference pose (glTF's frame, DESIGN §3), which the bundled rigs and the retargeter assume too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from engine import rotations as rot
from engine.face_hands.fingers import FINGERS, FingerPose, hand_closure
from engine.kinematics import forward_kinematics
from engine.retarget.face_hand_joints import FaceHandJoints
from engine.rig import Rig

__all__ = ["JointAxis", "FaceHandTargets", "find_face_hand_targets", "offset_rotations", "face_hand_offsets"]

_UP = np.array([0.0, 1.0, 0.0])
_FORWARD = np.array([0.0, 0.0, 1.0])
_LEFT = np.array([1.0, 0.0, 0.0])
_PHALANGES = ("Proximal", "Intermediate", "Distal")
_JAW_WORDS = ("jaw", "mandible", "lowerbeak", "beaklower", "lowerlip")


@dataclass(frozen=True)
class JointAxis:
    """A joint and a unit rotation axis in its local frame (positive angle = the named motion)."""

    joint: int
    axis: tuple[float, float, float]


@dataclass(frozen=True)
class FaceHandTargets:
    """The face and hand joints of one rig (empty fields: the rig has no such joint).

    Attributes:
        jaw: opens with a positive angle.
        eyes: ``side -> (yaw axis, pitch axis)``; yaw > 0 toward the performer's left, pitch > 0 up.
        curl: ``(side, finger index, phalanx index) -> axis``, positive = toward the palm.
        spread: ``(side, finger index) -> axis`` on the proximal bone, positive = toward the index.
        grips: ``side -> [(axis, radians at a closed fist)]``.
    """

    jaw: JointAxis | None = None
    eyes: dict[str, tuple[JointAxis, JointAxis]] = field(default_factory=dict)
    curl: dict[tuple[str, int, int], JointAxis] = field(default_factory=dict)
    spread: dict[tuple[str, int], JointAxis] = field(default_factory=dict)
    grips: dict[str, list[tuple[JointAxis, float]]] = field(default_factory=dict)

    @property
    def has_fingers(self) -> bool:
        return bool(self.curl)

    def summary(self) -> str:
        """One line for logs: what was found."""
        sides = sorted({s for s, _, _ in self.curl})
        return (f"jaw {'yes' if self.jaw else 'no'}, eyes {len(self.eyes)}, "
                f"finger bones {len(self.curl)} ({'/'.join(sides) or 'none'}), grips {sum(map(len, self.grips.values()))}")


def _unit(v: np.ndarray) -> np.ndarray:
    n = float(np.linalg.norm(v))
    return v / n if n > 1e-9 else v


def _local(joint: int, world_axis: np.ndarray, world_rot: np.ndarray) -> JointAxis:
    """``world_axis`` expressed in ``joint``'s frame at the reference pose."""
    a = _unit(world_rot[joint].T @ _unit(world_axis))
    return JointAxis(joint, (float(a[0]), float(a[1]), float(a[2])))


def _core(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.rsplit(":", 1)[-1].lower())


def _side_of(name: str) -> str | None:
    core = name.rsplit(":", 1)[-1]
    low = core.lower()
    if low.startswith("left") or re.search(r"(^|[_.\s])l([_.\s]|$)", low) or low.endswith(("_l", ".l")) or "left" in low:
        return "left"
    if low.startswith("right") or re.search(r"(^|[_.\s])r([_.\s]|$)", low) or low.endswith(("_r", ".r")) or "right" in low:
        return "right"
    return None


def _descendants(parents: np.ndarray, root: int) -> set[int]:
    out = {root}
    for j in range(root + 1, len(parents)):
        if int(parents[j]) in out:
            out.add(j)
    return out - {root}


def _children(parents: np.ndarray, j: int) -> list[int]:
    return [c for c in range(len(parents)) if int(parents[c]) == j]


def find_face_hand_targets(rig: Rig, joints: FaceHandJoints | None = None) -> FaceHandTargets:
    """The jaw, eye, finger and grip joints of ``rig`` with their axes (see the module docstring).

    Args:
        joints: the retarget map's face and hand joints (None: found automatically, no grips).
    """
    sk = rig.skeleton
    parents = np.asarray(sk.parents)
    world_rot, world_pos = forward_kinematics(parents, rot.quat_to_matrix(rig.reference_rotations()), sk.rest_translations)
    names = list(sk.names)
    index = {n: i for i, n in enumerate(names)}
    humanoid = {unity: index[j] for unity, j in rig.humanoid.items() if j in index}
    for j, n in enumerate(names):  # joints named like Unity bones, when the rig has no map for them
        humanoid.setdefault(n.rsplit(":", 1)[-1], j)
    heads = [humanoid["Head"]] if "Head" in humanoid else [j for j, n in enumerate(names) if "head" in _core(n)]
    below_head = set().union(*(_descendants(parents, h) for h in heads)) if heads else set()

    joints = joints or FaceHandJoints()
    jaw = _find_jaw(names, humanoid, heads, below_head, parents, world_pos) if joints.jaw is None else index.get(joints.jaw)
    jaw_axis = None
    if jaw is not None:
        kids = _children(parents, jaw)
        forward = (world_pos[kids[0]] - world_pos[jaw]) if kids else (world_pos[jaw] - world_pos[int(parents[jaw])])
        forward = forward - np.dot(forward, _LEFT) * _LEFT  # in the rig's sagittal plane
        if float(np.linalg.norm(forward)) < 1e-9 or float(np.dot(_unit(forward), _FORWARD)) < 0.0:
            forward = _FORWARD
        jaw_axis = _local(jaw, np.cross(_unit(forward), -_UP), world_rot)  # turns forward toward down

    eyes: dict[str, tuple[JointAxis, JointAxis]] = {}
    for side in ("left", "right"):
        unity = "LeftEye" if side == "left" else "RightEye"
        named = getattr(joints, f"{side}_eye")
        j = humanoid.get(unity) if named is None else index.get(named)
        if j is None and named is None:
            found = [k for k in sorted(below_head) if "eye" in _core(names[k]) and _side_of(names[k]) == side
                     and not any(w in _core(names[k]) for w in ("lid", "brow", "lash"))]
            j = found[0] if found else None
        if j is not None:
            # yaw > 0 toward the performer's (= the rig's) left: about +Y turns +Z toward +X.
            eyes[side] = (_local(j, _UP, world_rot), _local(j, -_LEFT, world_rot))  # pitch: about -X turns +Z up

    curl: dict[tuple[str, int, int], JointAxis] = {}
    spread: dict[tuple[str, int], JointAxis] = {}
    for side, Side in (("left", "Left"), ("right", "Right")):
        hand = humanoid.get(f"{Side}Hand")
        bones = {(f, k): humanoid.get(f"{Side}{finger}{phalanx}") for f, finger in enumerate(FINGERS) for k, phalanx in enumerate(_PHALANGES)}
        if hand is None or bones[(2, 0)] is None or bones[(1, 0)] is None or bones[(4, 0)] is None:
            continue
        along = _unit(world_pos[bones[(2, 0)]] - world_pos[hand])  # hand -> middle knuckle
        across = world_pos[bones[(1, 0)]] - world_pos[bones[(4, 0)]]  # little -> index knuckle
        across = _unit(across - np.dot(across, along) * along)
        palm = np.cross(along, across) * (1.0 if side == "left" else -1.0)  # the palm's facing side
        for (f, k), j in bones.items():
            if j is None:
                continue
            kids = _children(parents, j)
            direction = _unit(world_pos[kids[0]] - world_pos[j]) if kids else _unit(world_pos[j] - world_pos[int(parents[j])])
            toward = _unit(palm - across) if f == 0 else palm  # the thumb folds across the palm
            curl[(side, f, k)] = _local(j, np.cross(direction, toward), world_rot)
            if k == 0:
                spread[(side, f)] = _local(j, np.cross(direction, across), world_rot)
    grips: dict[str, list[tuple[JointAxis, float]]] = {}
    for grip in joints.grips:
        j = index.get(grip.joint)
        if j is None:
            continue
        kids = _children(parents, j)
        bone = _unit(world_pos[kids[0]] - world_pos[j]) if kids else _unit(world_pos[j] - world_pos[int(parents[j])])
        axis = np.cross(bone, -_UP)  # turns the bone toward down
        if float(np.linalg.norm(axis)) < 0.2:  # (nearly) vertical bone: bend it backward
            axis = np.cross(bone, -_FORWARD)
        grips.setdefault(grip.side, []).append((_local(j, _unit(axis), world_rot), float(np.radians(grip.angle_deg))))
    return FaceHandTargets(jaw_axis, eyes, curl, spread, grips)


def _find_jaw(names: list[str], humanoid: dict[str, int], heads: list[int], below_head: set[int],
              parents: np.ndarray, world_pos: np.ndarray) -> int | None:
    if "Jaw" in humanoid:
        return humanoid["Jaw"]
    named = [j for j in sorted(below_head) if any(w in _core(names[j]) for w in _JAW_WORDS)]
    if named:
        return named[0]
    for h in heads:  # geometry only: the lowest leaf child of the head pointing forward and down
        leaves = [c for c in _children(parents, h) if not _children(parents, c)
                  and float(np.dot(world_pos[c] - world_pos[h], _FORWARD)) > 0 and float(np.dot(world_pos[c] - world_pos[h], _UP)) < 0]
        if leaves:
            return min(leaves, key=lambda c: float(world_pos[c][1]))
    return None


def offset_rotations(rotations: np.ndarray, offsets: list[tuple[JointAxis, float]]) -> np.ndarray:
    """``(J, 4)`` local rotations with each ``(joint axis, radians)`` turned in: ``q * axis_angle``.

    Several offsets on one joint compose in the given order. Returns a new array.
    """
    out = np.array(rotations, dtype=np.float64)
    live = [(target, angle) for target, angle in offsets if angle != 0.0]
    if not live:
        return out
    joints = np.array([target.joint for target, _ in live])
    deltas = rot.axis_angle_to_quat(np.array([target.axis for target, _ in live]) * np.array([angle for _, angle in live])[:, None])
    # One vectorised product per round: round k applies each joint's k-th offset (their order kept).
    seen: dict[int, int] = {}
    rounds = np.array([seen.__setitem__(j, seen.get(j, -1) + 1) or seen[j] for j in joints.tolist()])
    for k in range(int(rounds.max()) + 1):
        pick = rounds == k
        out[joints[pick]] = rot.quat_multiply(out[joints[pick]], deltas[pick])
    return out


def face_hand_offsets(targets: FaceHandTargets, *, jaw: float = 0.0, gaze: dict[str, tuple[float, float]] | None = None,
                      hands: dict[str, FingerPose] | None = None) -> list[tuple[JointAxis, float]]:
    """The ``(axis, radians)`` list for :func:`offset_rotations` from the face and hand signals.

    Args:
        targets: the rig's joints.
        jaw: jaw opening, radians.
        gaze: ``side -> (yaw, pitch)`` radians.
        hands: ``side -> FingerPose`` (performer's sides; a missing side is left at the solver's pose).
    """
    out: list[tuple[JointAxis, float]] = []
    if targets.jaw is not None:
        out.append((targets.jaw, float(jaw)))
    for side, (yaw_axis, pitch_axis) in targets.eyes.items():
        yaw, pitch = (gaze or {}).get(side, (0.0, 0.0))
        out += [(yaw_axis, float(yaw)), (pitch_axis, float(pitch))]
    for side, pose in (hands or {}).items():
        for f in range(5):
            if (side, f) in targets.spread:
                out.append((targets.spread[(side, f)], float(pose.spread[f])))
            for k in range(3):
                axis = targets.curl.get((side, f, k))
                if axis is not None:
                    angle = float(pose.curl[f, k]) + (float(pose.thumb_opposition) if (f, k) == (0, 0) else 0.0)
                    out.append((axis, angle))
        closure = hand_closure(pose) if side in targets.grips else 0.0
        out += [(axis, closure * full) for axis, full in targets.grips.get(side, ())]
    return out
