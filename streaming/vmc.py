"""VMC protocol messages (protocol.vmc.info, Performer -> Marionette) and the Unity conversion.

Pure functions: a :class:`BoneLayout` (which joints are sent under which names) is built once per
rig, and :func:`frame_messages` turns one :class:`PoseResult` into encoded OSC messages.

**Coordinates.** Our frame is right-handed, Y up, +Z forward, metres, quaternions x y z w
(DESIGN §3); Unity's is left-handed, Y up, +Z forward, metres, x y z w (VMC.md §1). The two differ
by the mirror ``M = diag(-1, 1, 1)`` (X flips). A position maps to ``M p = (-x, y, z)``; a rotation
matrix to ``M R M``. For a rotation by ``theta`` about axis ``a``, ``M R M`` is the rotation by
``theta`` about ``-M a`` (a reflection reverses the sense of rotation), so the quaternion
``(a sin(theta/2), cos(theta/2))`` maps to ``(x, -y, -z, w)``. Both maps are their own inverse.

**What a frame carries.** Bone values are local (VMC.md §1). Generic mode sends every joint's own
local transform under its own name (optionally prefixed), with the v2.1 root scale and offset.
Humanoid mode sends each mapped bone relative to its parent in Unity's humanoid hierarchy (joints
without a Unity name composed in), normalised by default: rotations relative to the rig's T-pose,
identity when the rig stands in it, as VRM receivers apply them to their normalised avatars (see
:meth:`BoneLayout.humanoid`). A bone's position is its offset in its parent's frame at the current
pose. Joint 0's motion away from its rest position goes into ``/VMC/Ext/Root/Pos`` (rotation
identity) and the root bone keeps its rest offset, so receivers that apply bone positions and
receivers that only apply the root both place the rig right. Without a skeleton (names only) bone
positions are zero (as iFacialMocap sends; receivers must untick "Bone Position Synchronize") and
``Root/Pos`` carries the root translation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from engine import rotations as rot
from engine.humanoid_bones import HUMAN_BODY_BONES  # Unity's enum names, which VMC bone names are
from engine.skeleton import Skeleton
from streaming.frames import PoseResult
from streaming.osc_encoding import encode_message, encode_named_float_messages

__all__ = [
    "VMC_PORT",
    "HUMAN_BODY_BONES",
    "to_unity_position",
    "to_unity_rotation",
    "encode_ok",
    "encode_time",
    "encode_root_pos",
    "encode_bone_pos",
    "BoneLayout",
    "guess_humanoid_map",
    "collides_with_humanoid",
    "GENERIC_PREFIX",
    "tpose_alignment",
    "frame_messages",
]

VMC_PORT = 39539  # Marionette's receive port (VMC.md §1, "Roles/ports")

_MIRROR_POS = np.array([-1.0, 1.0, 1.0])
_MIRROR_QUAT = np.array([1.0, -1.0, -1.0, 1.0])


def to_unity_position(p: np.ndarray) -> np.ndarray:
    """``(..., 3)`` positions, our frame -> Unity's: ``(-x, y, z)`` (its own inverse)."""
    return np.asarray(p, dtype=np.float64) * _MIRROR_POS + 0.0  # + 0.0 turns -0.0 into 0.0


def to_unity_rotation(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` x y z w quaternions, our frame -> Unity's: ``(x, -y, -z, w)`` (its own inverse)."""
    return np.asarray(q, dtype=np.float64) * _MIRROR_QUAT + 0.0


# --------------------------------------------------------------------------- encoders
def encode_ok(loaded: int = 1, calib_state: int | None = None, calib_mode: int | None = None, tracking: int | None = None) -> bytes:
    """``/VMC/Ext/OK i loaded [i calibState i calibMode] [i tracking]`` (v2.5 adds calibration,
    v2.7 tracking; calibState 3 = done, calibMode 0 = normal, tracking 1 = ok)."""
    args = [int(loaded)]
    if calib_state is not None or calib_mode is not None or tracking is not None:
        args += [int(calib_state or 0), int(calib_mode or 0)]
    if tracking is not None:
        args.append(int(tracking))
    return encode_message("/VMC/Ext/OK", *args)


def encode_time(seconds: float) -> bytes:
    """``/VMC/Ext/T f time``: sender-relative seconds."""
    return encode_message("/VMC/Ext/T", float(seconds))


def encode_root_pos(
    position: Sequence[float],
    rotation: Sequence[float],
    scale: Sequence[float] | None = None,
    offset: Sequence[float] | None = None,
) -> bytes:
    """``/VMC/Ext/Root/Pos s "root" fff pos ffff quat [fff scale fff offset]`` (values already in
    Unity's frame; the v2.1 scale and offset are sent when ``scale`` is given)."""
    px, py, pz = (float(v) for v in position)
    qx, qy, qz, qw = (float(v) for v in rotation)
    extra: list[float] = []
    if scale is not None:
        extra = [float(v) for v in scale] + [float(v) for v in (offset if offset is not None else (0.0, 0.0, 0.0))]
    return encode_message("/VMC/Ext/Root/Pos", "root", px, py, pz, qx, qy, qz, qw, *extra)


def encode_bone_pos(name: str, position: Sequence[float], rotation: Sequence[float]) -> bytes:
    """``/VMC/Ext/Bone/Pos s name fff localPos ffff localRot`` (values already in Unity's frame)."""
    px, py, pz = (float(v) for v in position)
    qx, qy, qz, qw = (float(v) for v in rotation)
    return encode_message("/VMC/Ext/Bone/Pos", name, px, py, pz, qx, qy, qz, qw)


# --------------------------------------------------------------------------- layout
def guess_humanoid_map(names: Sequence[str]) -> dict[str, str]:
    """Joint name -> Unity name for joints already named like ``HumanBodyBones`` entries.

    Matching ignores case and any ``prefix:`` (``mixamorig:Hips`` -> ``Hips``); the first joint
    wins when two match the same bone.
    """
    lookup = {b.lower(): b for b in HUMAN_BODY_BONES}
    out: dict[str, str] = {}
    for name in names:
        unity = lookup.get(name.rsplit(":", 1)[-1].lower())
        if unity is not None and unity not in out.values():
            out[name] = unity
    return out


def collides_with_humanoid(name: str) -> bool:
    """True when a receiver matching ``HumanBodyBones`` names would apply a bone called ``name``
    (case-insensitive, after any ``prefix:``, as MOVIN-style names are written)."""
    return name.rsplit(":", 1)[-1].lower() in _HUMAN_LOWER


_HUMAN_LOWER = frozenset(b.lower() for b in HUMAN_BODY_BONES)
GENERIC_PREFIX = "anyrig:"  # the default generic-mode prefix when a rig's names collide with Unity's


def _unity_parent_candidates(bone: str) -> tuple[str, ...]:
    """Unity's humanoid parent of ``bone`` and the fallbacks when that one is not mapped."""
    trunk = ("UpperChest", "Chest", "Spine", "Hips")
    side = "Left" if bone.startswith("Left") else "Right" if bone.startswith("Right") else ""
    part = bone[len(side):]
    if bone == "Hips":
        return ()
    if bone in ("Spine", "Chest", "UpperChest"):
        return trunk[trunk.index(bone) + 1:]
    if bone == "Neck":
        return trunk
    if bone == "Head":
        return ("Neck",) + trunk
    if part in ("Eye",) or bone == "Jaw":
        return ("Head",)
    if part == "Shoulder":
        return trunk
    if part == "UpperArm":
        return (f"{side}Shoulder",) + trunk
    if part == "UpperLeg":
        return ("Hips",)
    chain = {"LowerArm": "UpperArm", "Hand": "LowerArm", "LowerLeg": "UpperLeg", "Foot": "LowerLeg", "Toes": "Foot"}
    if part in chain:
        return (side + chain[part],)
    for finger in ("Thumb", "Index", "Middle", "Ring", "Little"):
        if part.startswith(finger):
            seg = part[len(finger):]
            return {"Proximal": (f"{side}Hand",), "Intermediate": (f"{side}{finger}Proximal",), "Distal": (f"{side}{finger}Intermediate",)}[seg]
    return ()


def _snap_to_axes(m: np.ndarray) -> np.ndarray:
    """The signed permutation nearest ``m`` when within 30 degrees of it, else ``m`` itself."""
    snapped = np.zeros((3, 3))
    for r in range(3):
        c = int(np.argmax(np.abs(m[r])))
        snapped[r, c] = np.sign(m[r, c])
    if np.abs(snapped).sum(axis=0).tolist() != [1.0, 1.0, 1.0] or np.linalg.det(snapped) < 0:
        return m
    angle = np.arccos(np.clip((np.trace(snapped.T @ m) - 1.0) / 2.0, -1.0, 1.0))
    return snapped if angle < np.radians(30.0) else m


def tpose_alignment(skeleton: Skeleton, unity_to_joint: Mapping[str, int]) -> np.ndarray:
    """``(3, 3)`` the rotation taking the rig's rest pose to VRM's T-pose frame (up +Y, the
    character's left +X, facing +Z), snapped to the axes; identity when the bones needed are missing.

    From the rest positions of the mapped Hips, Head (or Neck / Spine) and the left and right
    upper arms (or upper legs); a rig already upright and facing +Z gets exactly the identity.
    """
    rest = skeleton.rest_positions()
    top = next((unity_to_joint[b] for b in ("Head", "Neck", "UpperChest", "Chest", "Spine") if b in unity_to_joint), None)
    pair = next(((unity_to_joint[f"Left{b}"], unity_to_joint[f"Right{b}"]) for b in ("UpperArm", "UpperLeg", "Shoulder")
                 if f"Left{b}" in unity_to_joint and f"Right{b}" in unity_to_joint), None)
    if "Hips" not in unity_to_joint or top is None or pair is None:
        return np.eye(3)
    up = rest[top] - rest[unity_to_joint["Hips"]]
    left = rest[pair[0]] - rest[pair[1]]
    if np.linalg.norm(up) < 1e-9:
        return np.eye(3)
    y = up / np.linalg.norm(up)
    x = left - np.dot(left, y) * y
    if np.linalg.norm(x) < 1e-9:
        return np.eye(3)
    x = x / np.linalg.norm(x)
    rest_frame = np.stack([x, y, np.cross(x, y)], axis=1)  # columns: the rig's left, up, forward
    return _snap_to_axes(rest_frame.T)


@dataclass(frozen=True, eq=False)
class BoneLayout:
    """Which joints a VMC frame sends, under which names, relative to what.

    Build it with :meth:`humanoid` or :meth:`generic`, once per rig.

    Attributes:
        names: ``(B,)`` wire names.
        joints: ``(B,)`` joint index of each sent bone.
        rest_translations: ``(J, 3)`` metres from the skeleton, or ``None`` (names only).
        convention: ``"generic"`` (every joint's own local transform), ``"raw"`` (humanoid: the rig's
            rotations relative to each bone's Unity parent) or ``"normalized"`` (humanoid:
            rotations relative to the rig's T-pose, VRM's normalised bones).
        unity_parents: ``(B,)`` humanoid: index of each bone's Unity parent among the sent bones
            (``-1``: none, the Hips); ``None`` for generic layouts.
        frames: ``(B, 3, 3)`` humanoid: the matrix ``K`` that turns a joint's world rotation ``W``
            into the world rotation sent, ``W @ K`` (see :meth:`humanoid`).
        parents: ``(J,)`` the skeleton's parents (humanoid layouts with a skeleton).
        root_scale: add the v2.1 scale and offset to ``/VMC/Ext/Root/Pos`` (generic streams).
        prefix: generic: what was put before every joint name.
    """

    names: tuple[str, ...]
    joints: np.ndarray
    rest_translations: np.ndarray | None
    convention: str = "generic"
    unity_parents: np.ndarray | None = None
    frames: np.ndarray | None = None
    parents: np.ndarray | None = None
    root_scale: bool = False
    prefix: str = ""

    @classmethod
    def generic(cls, rig: Skeleton | Sequence[str], *, prefix: str | None = None) -> BoneLayout:
        """Every joint under its own name (the MOVIN-style generic-rig convention, VMC.md §1).

        ``prefix`` is put before every name (MOVIN writes ``prefix:boneName``); ``None`` uses
        :data:`GENERIC_PREFIX` when any joint name collides with a Unity ``HumanBodyBones`` name
        (a dragon's ``Chest``, ``Head``, ``Jaw`` would otherwise be applied by humanoid receivers)
        and no prefix otherwise. Every frame's ``/VMC/Ext/Root/Pos`` carries the v2.1 scale
        ``(1, 1, 1)`` and offset ``(0, 0, 0)``: the rig is sent at its own size.
        """
        names = rig.names if isinstance(rig, Skeleton) else tuple(str(n) for n in rig)
        if prefix is None:
            prefix = GENERIC_PREFIX if any(collides_with_humanoid(n) for n in names) else ""
        wire = tuple(prefix + n for n in names)
        trans = np.array(rig.rest_translations) if isinstance(rig, Skeleton) else None
        return cls(wire, np.arange(len(names)), trans, "generic", root_scale=True, prefix=prefix)

    @classmethod
    def humanoid(
        cls,
        rig: Skeleton | Sequence[str],
        joint_to_unity: Mapping[str, str] | None = None,
        *,
        normalized: bool = True,
        facing_turn: np.ndarray | None = None,
    ) -> BoneLayout:
        """The mapped joints under Unity ``HumanBodyBones`` names, relative to their Unity parents.

        Each bone's rotation is relative to its parent in Unity's humanoid hierarchy (Hips ->
        Spine -> Chest -> UpperChest -> Neck -> Head; shoulders under UpperChest, else Chest ...;
        fingers under the hand), computed from world transforms, so rig joints without a Unity
        name are composed in and a rig whose hierarchy differs from Unity's (a shoulder not below
        the bone mapped as UpperChest) is still sent relative to the bone Unity parents it to.
        With ``W`` a joint's world rotation, the world rotation sent is ``W @ K``:

        - ``normalized`` (default): ``K = W0^T G^T``, with ``W0`` the joint's rest world rotation
          and ``G`` the turn of the rest pose into the T-pose frame (:func:`tpose_alignment`):
          every bone is identity in the T-pose, as VRM's normalised bones (UniVRM, VSeeFace,
          Warudo, VNyan) expect, and a receiver's avatar built in that T-pose from the same bone
          offsets reproduces the rig's world pose;
        - raw (``normalized=False``): ``K = A^T``, with ``A`` the turn the loader applied
          (``facing_turn``, a VRM 0.x rig's 180 degrees about Y; identity otherwise): the rig's
          own rotations, rest included, for a receiver that has the same skeleton.

        Args:
            rig: the skeleton (or its joint names; then rotations are sent as they are and
                positions are zero).
            joint_to_unity: joint name -> Unity bone name; ``None`` uses :func:`guess_humanoid_map`.
                (:class:`engine.rig.Rig.humanoid` maps the other way: invert it.)
            normalized: see above.
            facing_turn: ``(4,)`` x y z w, the rotation the loader applied to the rig's roots.

        Raises:
            ValueError: an unknown joint or Unity bone name, a Unity bone mapped twice, or no bone.
        """
        names = rig.names if isinstance(rig, Skeleton) else tuple(str(n) for n in rig)
        mapping = dict(guess_humanoid_map(names) if joint_to_unity is None else joint_to_unity)
        known = set(HUMAN_BODY_BONES)
        bad = sorted(u for u in mapping.values() if u not in known)
        if bad:
            raise ValueError(f"not Unity HumanBodyBones names: {bad[:5]}")
        missing = sorted(j for j in mapping if j not in names)
        if missing:
            raise ValueError(f"humanoid map names joints the rig does not have: {missing[:5]}")
        if len(set(mapping.values())) != len(mapping):
            raise ValueError("humanoid map sends two joints to the same Unity bone")
        sent = [j for j, n in enumerate(names) if n in mapping]
        if not sent:
            raise ValueError("no joint of the rig maps to a Unity humanoid bone")
        wire = tuple(mapping[names[j]] for j in sent)
        convention = "normalized" if normalized else "raw"
        if not isinstance(rig, Skeleton):
            return cls(wire, np.array(sent), None, convention)
        bone_of = {u: b for b, u in enumerate(wire)}
        sent_set = set(sent)
        unity_parents = []
        for b, j in enumerate(sent):
            parent = next((bone_of[u] for u in _unity_parent_candidates(wire[b]) if u in bone_of), None)
            if parent is None:  # not a Unity hierarchy: the nearest sent ancestor in the rig
                a = int(rig.parents[j])
                while a >= 0 and a not in sent_set:
                    a = int(rig.parents[a])
                parent = sent.index(a) if a >= 0 else -1
            unity_parents.append(parent)
        if normalized:
            G = tpose_alignment(rig, {u: sent[b] for u, b in bone_of.items()})
            W0 = rig.rest_world()[0][sent]  # (B, 3, 3)
            frames = np.swapaxes(W0, -1, -2) @ G.T
        else:
            A = np.eye(3) if facing_turn is None else rot.quat_to_matrix(np.asarray(facing_turn, dtype=np.float64))
            frames = np.broadcast_to(A.T, (len(sent), 3, 3)).copy()
        return cls(wire, np.array(sent), np.array(rig.rest_translations), convention, np.array(unity_parents), frames, np.array(rig.parents))

    def _world(self, local_r: np.ndarray, local_t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Forward kinematics one depth level at a time (same values as
        :func:`engine.kinematics.forward_kinematics`, a few vectorised steps instead of one per joint)."""
        levels = self.__dict__.get("_levels")
        if levels is None:
            depth = np.zeros(len(self.parents), dtype=int)
            for j, p in enumerate(self.parents):
                depth[j] = depth[p] + 1 if p >= 0 else 0
            levels = [(np.flatnonzero(depth == d), self.parents[depth == d]) for d in range(1, int(depth.max()) + 1)]
            object.__setattr__(self, "_levels", levels)
        W, P = local_r.copy(), local_t.copy()
        for idx, par in levels:
            P[idx] = P[par] + np.einsum("jab,jb->ja", W[par], local_t[idx])
            W[idx] = W[par] @ local_r[idx]
        return W, P

    def local_transforms(self, result: PoseResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bone positions, bone rotations and the root displacement, in **our** frame.

        Returns:
            ``(positions (B, 3) metres, rotations (B, 4) x y z w, root (3,) metres)`` where ``root``
            is what ``/VMC/Ext/Root/Pos`` carries (see the module docstring).
        """
        rotations = np.asarray(result.rotations, dtype=np.float64)
        root_t = np.asarray(result.root_translation, dtype=np.float64)
        if self.rest_translations is None:
            return np.zeros((len(self.names), 3)), rotations[self.joints], root_t
        root = root_t - self.rest_translations[0]
        if self.unity_parents is None:  # generic: every joint's own local transform
            positions = self.rest_translations.copy()
            return positions, rotations.copy(), root
        trans = self.rest_translations.copy()
        trans[0] = root_t
        W, P = self._world(rot.quat_to_matrix(rotations), trans)
        Ws = W[self.joints] @ self.frames  # (B, 3, 3) world rotations sent
        Ps = P[self.joints]  # (B, 3)
        up = self.unity_parents
        has = up >= 0
        parent_r = np.where(has[:, None, None], Ws[np.maximum(up, 0)], np.eye(3))
        parent_p = np.where(has[:, None], Ps[np.maximum(up, 0)], root)
        parent_rt = np.swapaxes(parent_r, -1, -2)
        local_r = parent_rt @ Ws
        local_p = np.einsum("bij,bj->bi", parent_rt, Ps - parent_p)
        return local_p, rot.matrix_to_quat(local_r, orthonormal=True), root


# --------------------------------------------------------------------------- one frame
def frame_messages(layout: BoneLayout, result: PoseResult, time_s: float) -> list[bytes]:
    """The encoded messages of one VMC frame, in send order.

    ``/VMC/Ext/OK 1`` (loaded), ``/VMC/Ext/T``, ``/VMC/Ext/Root/Pos``, then one
    ``/VMC/Ext/Bone/Pos`` per bone ("all bones sent every frame", VMC.md §1), converted to Unity's
    frame with :func:`to_unity_position` and :func:`to_unity_rotation`.

    Args:
        layout: which bones, from :meth:`BoneLayout.humanoid` or :meth:`BoneLayout.generic`.
        result: the pose; its joint count must match the layout's rig.
        time_s: the ``/VMC/Ext/T`` value, sender-relative seconds.
    """
    if layout.joints.size and int(layout.joints.max()) >= result.num_joints:
        raise ValueError(f"pose has {result.num_joints} joints but the bone layout needs joint {int(layout.joints.max())}")
    if layout.rest_translations is not None and len(layout.rest_translations) != result.num_joints:
        raise ValueError(f"pose has {result.num_joints} joints, the layout's skeleton {len(layout.rest_translations)}")
    positions, rotations, root = layout.local_transforms(result)
    positions = to_unity_position(positions)
    rotations = to_unity_rotation(rotations)
    scale = (1.0, 1.0, 1.0) if layout.root_scale else None
    messages = [encode_ok(1), encode_time(time_s), encode_root_pos(to_unity_position(root), (0.0, 0.0, 0.0, 1.0), scale)]
    # Same bytes as encode_bone_pos per bone (tests/streaming/test_vmc.py checks it), packed at once.
    messages += encode_named_float_messages("/VMC/Ext/Bone/Pos", layout.names, np.concatenate([positions, rotations], axis=1))
    return messages
