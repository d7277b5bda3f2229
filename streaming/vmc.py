"""VMC protocol messages (protocol.vmc.info, Performer -> Marionette) and the Unity conversion.

Pure functions: a :class:`BoneLayout` (which joints are sent under which names) is built once per
rig, and :func:`frame_messages` turns one :class:`PoseResult` into encoded OSC messages.

**Coordinates.** Our frame is right-handed, Y up, +Z forward, metres, quaternions x y z w
(DESIGN §3); Unity's is left-handed, Y up, +Z forward, metres, x y z w (VMC.md §1). The two differ
by the mirror ``M = diag(-1, 1, 1)`` (X flips). A position maps to ``M p = (-x, y, z)``; a rotation
matrix to ``M R M``. For a rotation by ``theta`` about axis ``a``, ``M R M`` is the rotation by
``theta`` about ``-M a`` (a reflection reverses the sense of rotation), so the quaternion
``(a sin(theta/2), cos(theta/2))`` maps to ``(x, -y, -z, w)``. Both maps are their own inverse.

**What a frame carries.** Bone values are local (VMC.md §1). A bone's rotation is relative to the
nearest *sent* ancestor (in humanoid mode a Unity bone such as ``Chest`` may skip joints of our rig
that have no Unity name: their rotations are composed in), and its position is its offset in that
ancestor's frame at the current pose. Joint 0's motion away from its rest position goes into
``/VMC/Ext/Root/Pos`` (rotation identity), and joint 0's bone keeps its rest offset, so receivers
that apply bone positions and receivers that only apply the root both place the rig right. Without a
skeleton (names only) bone positions are zero (as iFacialMocap sends; receivers must untick "Bone
Position Synchronize") and ``Root/Pos`` carries the root translation.
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


def encode_root_pos(position: Sequence[float], rotation: Sequence[float]) -> bytes:
    """``/VMC/Ext/Root/Pos s "root" fff pos ffff quat`` (values already in Unity's frame)."""
    px, py, pz = (float(v) for v in position)
    qx, qy, qz, qw = (float(v) for v in rotation)
    return encode_message("/VMC/Ext/Root/Pos", "root", px, py, pz, qx, qy, qz, qw)


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


@dataclass(frozen=True, eq=False)
class BoneLayout:
    """Which joints a VMC frame sends, under which names, relative to which ancestor.

    Build it with :meth:`humanoid` or :meth:`generic`, once per rig.

    Attributes:
        names: ``(B,)`` wire names, in skeleton order (parents first).
        joints: ``(B,)`` joint index of each sent bone.
        chains: per bone, the joints from just below its sent ancestor down to the bone itself; the
            bone's local transform is the product of their local transforms.
        rest_translations: ``(J, 3)`` metres from the skeleton, or ``None`` (names only).
    """

    names: tuple[str, ...]
    joints: np.ndarray
    chains: tuple[tuple[int, ...], ...]
    rest_translations: np.ndarray | None

    def __post_init__(self) -> None:
        # Composition plan: joint j's transform relative to its nearest sent ancestor is its local
        # transform, preceded by its parent's relative transform when the parent is not sent. Joints
        # needing that are grouped by depth, so each level is one vectorised step.
        levels: list[tuple[np.ndarray, np.ndarray]] = []
        if self.rest_translations is not None:
            parent_of = {c[k]: c[k - 1] for c in self.chains for k in range(1, len(c))}
            depth: dict[int, int] = {}
            for j in sorted(parent_of):  # parents come before children
                depth[j] = depth.get(parent_of[j], 0) + 1
            for d in sorted(set(depth.values())):
                idx = [j for j in sorted(depth) if depth[j] == d]
                levels.append((np.array(idx), np.array([parent_of[j] for j in idx])))
        object.__setattr__(self, "_levels", levels)

    @classmethod
    def generic(cls, rig: Skeleton | Sequence[str]) -> BoneLayout:
        """Every joint under its own name (the MOVIN-style generic-rig convention, VMC.md §1)."""
        if isinstance(rig, Skeleton):
            names = rig.names
            return cls(tuple(names), np.arange(len(names)), tuple((j,) for j in range(len(names))), np.array(rig.rest_translations))
        names = tuple(str(n) for n in rig)
        return cls(names, np.arange(len(names)), tuple((j,) for j in range(len(names))), None)

    @classmethod
    def humanoid(cls, rig: Skeleton | Sequence[str], joint_to_unity: Mapping[str, str] | None = None) -> BoneLayout:
        """The mapped joints under Unity ``HumanBodyBones`` names.

        Args:
            rig: the skeleton (or its joint names; then rotations are sent as they are, without
                composing unmapped joints, and positions are zero).
            joint_to_unity: joint name -> Unity bone name; ``None`` uses :func:`guess_humanoid_map`.
                (:class:`engine.rig.Rig.humanoid` maps the other way: invert it.)

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
        if not isinstance(rig, Skeleton):
            return cls(wire, np.array(sent), tuple((j,) for j in sent), None)
        chains = []
        sent_set = set(sent)
        for j in sent:
            chain = [j]
            p = int(rig.parents[j])
            while p >= 0 and p not in sent_set:
                chain.append(p)
                p = int(rig.parents[p])
            chains.append(tuple(reversed(chain)))
        return cls(wire, np.array(sent), tuple(chains), np.array(rig.rest_translations))

    def local_transforms(self, result: PoseResult) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bone positions, bone rotations and the root displacement, in **our** frame.

        Returns:
            ``(positions (B, 3) metres, rotations (B, 4) x y z w, root (3,) metres)`` where ``root``
            is what ``/VMC/Ext/Root/Pos`` carries (see the module docstring).
        """
        rotations = np.asarray(result.rotations, dtype=np.float64)
        if self.rest_translations is None:
            return np.zeros((len(self.names), 3)), rotations[self.joints], np.array(result.root_translation, dtype=np.float64)
        trans = self.rest_translations
        rel_q, rel_p = rotations.copy(), trans.copy()  # (J, 4), (J, 3) relative to the nearest sent ancestor
        for idx, par in self._levels:  # type: ignore[attr-defined]
            rel_p[idx] = rel_p[par] + rot.quat_apply(rel_q[par], trans[idx])
            rel_q[idx] = rot.quat_multiply(rel_q[par], rotations[idx])
        out_p, out_q = rel_p[self.joints], rel_q[self.joints]
        root = np.asarray(result.root_translation, dtype=np.float64) - trans[0]
        return out_p, out_q, root


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
    messages = [encode_ok(1), encode_time(time_s), encode_root_pos(to_unity_position(root), (0.0, 0.0, 0.0, 1.0))]
    # Same bytes as encode_bone_pos per bone (tests/streaming/test_vmc.py checks it), packed at once.
    messages += encode_named_float_messages("/VMC/Ext/Bone/Pos", layout.names, np.concatenate([positions, rotations], axis=1))
    return messages
