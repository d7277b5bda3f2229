"""Orientation links: performer segment turns -> rig joint rotations (head facing, twists, hands, feet).

Positions lose what a segment's orientation carries (:mod:`engine.performer.segments`). An
:class:`OrientationLink` ties one rig joint to one performer segment; :class:`OrientationRetarget`
applies the links after the rotation solver, on world rotations, so the rig's local axis
conventions never matter. With ``Q`` the segment's world turn from the performer's rest (in the
link's ``source_pose``), ``H`` the turn from the performer's facing (+Z) to the rig's, ``W_0``
the joint's world rotation in the rig's rest pose (the pose the retargeter matches to the
performer's rest; the reference pair may be any pose, e.g. with a turned head) and ``W`` the
solver's (whose twist comes from the reference pair):

- ``orient``: ``W <- H Q H^T W_0`` (the head, hands, feet: the joint turns as the segment does,
  a dragon's head yaws about the vertical when the performer's does, without roll leakage);
- ``twist``: the segment's twist ``tau`` (``Q`` split into a twist about its rest axis, then the
  shortest swing) is given to the joint about its current bone, measured the same way from ``W_0``
  (shortest swing of ``W_0``'s bone onto the current one, then ``tau``), so the bone keeps the
  direction the positions gave it and a rig whose rest limb points elsewhere (an A-pose, a wing)
  still gets the performer's twist (upper/lower arm and leg twist, wings, forelegs);
- ``turn``: the twist of the segment against ``relative_to`` about the performer's up axis, times
  ``weight``, turns the joint about the rig's matching axis (chest twist distributed along a
  spine and neck, the head's turn spread over a long neck).

Each link's effect is scaled by its weight and by the segment's confidence in the frame. Joints
whose rotation the positions determine (a mapped child) keep their solved world rotation unless
linked; the others (jaws, fingers, ends of chains) keep their local rotation and so follow.

A solver that takes orientation hints (the P2R with ``orientation_cue``) gets the same targets
before it runs (:meth:`OrientationRetarget.hints`): each linked joint's world rotation with the
links applied to its neutral rotation swung onto its bone in the target positions, weighted by
the segments' confidence. The links still apply after the solver.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from engine import rotations as rot
from engine.performer.segments import SEGMENTS, SOURCE_POSES, SegmentPose
from engine.retarget.chains import joint_part
from engine.retarget.json_objects import object_with_fields
from engine.skeleton import Skeleton

__all__ = ["LINK_MODES", "OrientationLink", "OrientationRetarget", "facing_turn", "looks_humanoid", "suggest_orientation_links", "validate_link"]

LINK_MODES = ("orient", "twist", "turn")
_UP = np.array([0.0, 1.0, 0.0])
_CONF_LOW, _CONF_FULL = 0.2, 0.6  # segment confidence: no effect at or below LOW, full at FULL


@dataclass
class OrientationLink:
    """One rig joint driven by one performer segment's orientation.

    Attributes:
        joint: rig joint name.
        segment: performer segment (:data:`engine.performer.segments.SEGMENTS`).
        mode: ``"orient"``, ``"twist"`` or ``"turn"`` (module docstring).
        weight: fraction of the segment's turn applied (``turn``: this joint's share).
        relative_to: ``turn``: the segment the turn is measured against (e.g. ``pelvis`` for the chest).
        source_pose: performer pose that matches the rig's reference pose for this joint
            (``"t_pose"`` or ``"arms_down"``).
    """

    joint: str
    segment: str
    mode: str = "orient"
    weight: float = 1.0
    relative_to: str | None = None
    source_pose: str = "t_pose"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_link(data: Any, where: str, skeleton: Skeleton | None = None) -> OrientationLink:
    """An :class:`OrientationLink` from a JSON object; raises ``ValueError`` naming the fault."""
    object_with_fields(data, where, OrientationLink)
    if not isinstance(data.get("joint"), str) or not isinstance(data.get("segment"), str):
        raise ValueError(f"{where} needs 'joint' and 'segment' names")
    link = OrientationLink(**data)
    if link.segment not in SEGMENTS:
        raise ValueError(f"{where}.segment {link.segment!r} is not a performer segment {list(SEGMENTS)}")
    if link.mode not in LINK_MODES:
        raise ValueError(f"{where}.mode {link.mode!r} is not one of {LINK_MODES}")
    if link.mode == "turn" and link.relative_to not in SEGMENTS:
        raise ValueError(f"{where}: a 'turn' link needs 'relative_to', a performer segment")
    if not isinstance(link.weight, (int, float)) or not np.isfinite(link.weight) or not 0.0 <= link.weight <= 1.0:
        raise ValueError(f"{where}.weight must be a number in [0, 1], got {link.weight!r}")
    if link.source_pose not in SOURCE_POSES:
        raise ValueError(f"{where}.source_pose {link.source_pose!r} is not one of {SOURCE_POSES}")
    if skeleton is not None and link.joint not in skeleton.names:
        raise ValueError(f"{where}.joint names {link.joint!r}, which the rig does not have")
    link.weight = float(link.weight)
    return link


def facing_turn(forward: np.ndarray | list[float]) -> np.ndarray:
    """``(3, 3)`` the turn about +Y taking the performer's facing (+Z) onto a rig's horizontal ``forward``."""
    f = np.asarray(forward, dtype=np.float64) * [1.0, 0.0, 1.0]
    n = np.linalg.norm(f)
    if n < 1e-9:
        raise ValueError("'forward' must not be vertical")
    f = f / n
    return np.stack([np.cross(_UP, f), _UP, f], axis=-1)


# %% suggestion -------------------------------------------------------------------------------------
_LIMB_PARTS = {"arm": ("upper_arm", "lower_arm", "hand"), "leg": ("upper_leg", "lower_leg", "foot")}


def suggest_orientation_links(skeleton: Skeleton, retarget_map: Any) -> list[OrientationLink]:
    """Links for a chain map: head, chest twist along spine and neck, limb twists, hands and feet.

    - the joint at the end of the ``neck`` chain (or the start of the ``head`` chain): ``orient`` head;
    - spine joints after the root: ``turn`` chest against pelvis, growing to the full turn at the
      chest; neck joints: the full chest turn plus a growing share of the head's turn against the
      chest (none on a humanoid's single neck joint: its head takes all of it, as authored);
    - limbs copied from the same-side performer limb (not mirrored): the joints that start the
      upper and lower segments take their ``twist`` (by name, else by position along the chain);
      a humanoid's hand and foot take ``orient``, other rigs' a ``twist``.
    """
    links: list[OrientationLink] = []
    by_source: dict[str, Any] = {}
    for cm in retarget_map.chains:
        if cm.rule == "direct" and not cm.mirror and cm.source not in by_source:
            by_source[cm.source] = cm
    humanoid = looks_humanoid(retarget_map)
    head = None
    if "neck" in by_source:
        head = by_source["neck"].target[-1]
    elif "head" in by_source:
        head = by_source["head"].target[0]
    if "spine" in by_source:
        spine = by_source["spine"].target[1:]
        for k, name in enumerate(spine, start=1):
            links.append(OrientationLink(name, "chest", "turn", k / len(spine), "pelvis"))
    if "neck" in by_source:
        neck = [n for n in by_source["neck"].target[1:-1]]
        for k, name in enumerate(neck, start=1):
            if "spine" in by_source:
                links.append(OrientationLink(name, "chest", "turn", 1.0, "pelvis"))
            if not humanoid and head is not None:
                links.append(OrientationLink(name, "head", "turn", round(k / (len(neck) + 1), 4), "chest"))
    if head is not None:
        links.append(OrientationLink(head, "head", "orient"))
    for source, cm in by_source.items():
        kind = "arm" if source.endswith("_arm") else "leg" if source.endswith("_leg") else None
        if kind is None:
            continue
        side = source.split("_")[0]
        upper, lower, end = _LIMB_PARTS[kind]
        parts = [joint_part(n) for n in cm.target]
        bones = cm.target[1:-1] if len(cm.target) > 2 else []
        for name, part in zip(cm.target[1:], parts[1:]):
            if part in (upper, lower):
                links.append(OrientationLink(name, f"{side}_{part}", "twist", source_pose=cm.source_pose))
        if not any(p in (upper, lower) for p in parts[1:]) and len(bones) >= 2:  # unnamed limb parts
            links.append(OrientationLink(bones[-2], f"{side}_{upper}", "twist", source_pose=cm.source_pose))
            links.append(OrientationLink(bones[-1], f"{side}_{lower}", "twist", source_pose=cm.source_pose))
        ends = [n for n, p in zip(cm.target, parts) if p == end]
        if ends:
            links.append(OrientationLink(ends[0], f"{side}_{end}", "orient" if humanoid else "twist", source_pose=cm.source_pose))
    seen: set[tuple[str, str, str, str | None]] = set()
    out = []
    for link in links:
        key = (link.joint, link.segment, link.mode, link.relative_to)
        if key not in seen and link.joint in skeleton.names:
            seen.add(key)
            out.append(link)
    return out


def looks_humanoid(retarget_map: Any) -> bool:
    """Mapped bone for bone (a humanoid): the arms start at a shoulder, not at the spine joint."""
    spine = next((c for c in retarget_map.chains if c.source == "spine"), None)
    arm = next((c for c in retarget_map.chains if c.source == "left_arm" and not c.mirror), None)
    return bool(spine and arm and arm.target[0] != spine.target[-1] and "leg" in " ".join(
        c.source or "" for c in retarget_map.chains) and not any("wing" in n.lower() for c in retarget_map.chains for n in c.target))


# %% applying ---------------------------------------------------------------------------------------
class OrientationRetarget:
    """Applies orientation links to a solver's local rotations, frame by frame (stateless).

    Args:
        skeleton: the rig.
        retarget_map: its map (``forward``, chains, and ``orientations``: the links).
        neutral_rotations: ``(J, 4)`` the rig pose that matches the performer's rest (default: the
            rest pose, as the retargeter's positions assume).
    """

    def __init__(self, skeleton: Skeleton, retarget_map: Any, neutral_rotations: np.ndarray | None = None) -> None:
        self.skeleton = skeleton
        self.links = list(getattr(retarget_map, "orientations", []) or [])
        self._H = facing_turn(retarget_map.forward)
        J = skeleton.num_joints
        parents = skeleton.parents
        if neutral_rotations is None:
            neutral_rotations = skeleton.rest_rotations
        ref_local = rot.quat_to_matrix(np.asarray(neutral_rotations, dtype=np.float64))
        self._ref_world = np.empty((J, 3, 3))
        for j in range(J):
            p = parents[j]
            self._ref_world[j] = ref_local[j] if p < 0 else self._ref_world[p] @ ref_local[j]
        mapped = {n for cm in retarget_map.chains for n in cm.target[1:]}
        self._keep_world = np.array([p < 0 or any(skeleton.names[c] in mapped for c in skeleton.children(j))
                                     for j, p in enumerate(parents)])
        # The bone a twist turns about: toward the longest child (rest offset, the joint's own frame).
        offsets = skeleton.rest_translations
        self._bone = np.zeros((J, 3))
        self._child = np.full(J, -1)
        for j in range(J):
            kids = skeleton.children(j)
            if kids:
                c = max(kids, key=lambda k: np.linalg.norm(offsets[k]))
                self._bone[j] = offsets[c]
                self._child[j] = c
        # The same bone in the neutral pose, world frame, unit (zero without a child): what hints() swings.
        rest_bone = np.einsum("jab,jb->ja", self._ref_world, self._bone)
        norms = np.linalg.norm(rest_bone, axis=1, keepdims=True)
        self._rest_bone_dir = np.where(norms > 1e-9, rest_bone / np.maximum(norms, 1e-12), 0.0)
        self._by_joint: dict[int, list[OrientationLink]] = {}
        for link in self.links:
            self._by_joint.setdefault(skeleton.index(link.joint), []).append(link)
        self._affected = np.zeros(J, dtype=bool)  # linked joints and everything below them
        for j in range(J):
            self._affected[j] = j in self._by_joint or (parents[j] >= 0 and self._affected[parents[j]])

    def __call__(self, local_rotations: np.ndarray, pose: SegmentPose | None) -> np.ndarray:
        """``(J, 4)`` local rotations with the links applied (unchanged when ``pose`` is None)."""
        q = np.asarray(local_rotations, dtype=np.float64)
        if pose is None or not self._by_joint:
            return q
        parents = self.skeleton.parents
        local = rot.quat_to_matrix(q)
        J = len(parents)
        solved = np.empty((J, 3, 3))
        new = np.empty((J, 3, 3))
        changed: list[int] = []
        rel: list[np.ndarray] = []
        H = self._H
        for j in range(J):
            p = parents[j]
            solved[j] = local[j] if p < 0 else solved[p] @ local[j]
            if not self._affected[j]:
                new[j] = solved[j]
                continue
            base = solved[j] if (p < 0 or self._keep_world[j]) else new[p] @ local[j]
            for link in self._by_joint.get(j, ()):
                base = self._apply(link, j, base, pose, H)
            new[j] = base
            changed.append(j)
            rel.append(base if p < 0 else new[p].T @ base)
        out = q.copy()
        if changed:
            out[changed] = rot.matrix_to_quat(np.stack(rel), orthonormal=True)
        return out

    def hints(self, positions: np.ndarray, pose: SegmentPose | None) -> np.ndarray:
        """``(J, 7)`` orientation hints for a solver that takes them (world 6D and weight:
        :func:`engine.model.p2r.hint_correction`).

        A linked joint's hint is its world rotation after its links, applied to its neutral world
        rotation swung onto its bone in ``positions`` (``(J, 3)`` world, the solver's input); its
        weight is the links' largest confidence ramp. Other joints (and all without ``pose``) get
        weight 0.
        """
        out = np.zeros((self.skeleton.num_joints, 7))
        out[:, 0] = out[:, 4] = 1.0  # identity 6D
        if pose is None:
            return out
        for j, links in self._by_joint.items():
            W = self._ref_world[j]
            c = self._child[j]
            if c >= 0 and self._rest_bone_dir[j].any():
                bone = np.asarray(positions[c], dtype=np.float64) - positions[j]
                length = float(np.sqrt(bone @ bone))
                if length > 1e-9:
                    W = _swing(self._rest_bone_dir[j], bone / length) @ W
            weight = 0.0
            for link in links:
                W = self._apply(link, j, W, pose, self._H)
                weight = max(weight, _confidence_ramp(link, pose))
            if weight > 0.0 and np.isfinite(W).all():  # a non-finite segment turn hints nothing
                out[j, :6] = W[:2].reshape(6)
                out[j, 6] = weight
        return out

    def _apply(self, link: OrientationLink, j: int, W: np.ndarray, pose: SegmentPose, H: np.ndarray) -> np.ndarray:
        s = SEGMENTS.index(link.segment)
        w = link.weight * _confidence_ramp(link, pose)
        if w <= 0.0:
            return W
        Q = pose.turns[link.source_pose][s]
        if link.mode == "turn":
            R = pose.turns[link.source_pose][SEGMENTS.index(link.relative_to)]
            axis = R @ _UP  # the reference segment's up, performer world
            return _rotation(H @ axis, w * _twist_angle(Q @ R.T, axis)) @ W
        if link.mode == "orient":
            return _partial(H @ Q @ H.T @ self._ref_world[j] @ W.T, w) @ W
        bone = W @ self._bone[j]  # twist about the current bone
        norm = float(np.sqrt(bone @ bone))
        if norm < 1e-12:
            return W
        bone = bone / norm
        tau = _twist_angle(Q, pose.rest_axes[link.source_pose][s])
        W0 = self._ref_world[j]
        minimal = _swing(W0 @ self._bone[j] / norm, bone) @ W0
        # The target shares the bone with W: the change is a twist about it, up to rounding.
        return _rotation(bone, w * _twist_angle(_rotation(bone, tau) @ minimal @ W.T, bone)) @ W


def _confidence_ramp(link: OrientationLink, pose: SegmentPose) -> float:
    """0 at or below a segment confidence of ``_CONF_LOW``, 1 from ``_CONF_FULL`` (the lower of the link's segments)."""
    conf = float(pose.confidence[SEGMENTS.index(link.segment)])
    if link.relative_to is not None:
        conf = min(conf, float(pose.confidence[SEGMENTS.index(link.relative_to)]))
    return min(max((conf - _CONF_LOW) / (_CONF_FULL - _CONF_LOW), 0.0), 1.0)


# Small 3x3 helpers in plain numpy (one frame, a few dozen joints: the batched helpers of
# engine.rotations cost more in call overhead than in arithmetic here).
def _axial(M: np.ndarray) -> np.ndarray:
    """``2 sin(angle) * axis`` of a rotation matrix."""
    return np.array([M[2, 1] - M[1, 2], M[0, 2] - M[2, 0], M[1, 0] - M[0, 1]])


def _twist_angle(M: np.ndarray, axis: np.ndarray) -> float:
    """Angle of the twist of rotation ``M`` about unit ``axis`` (swing-twist split), radians:
    ``2 atan2(axis . q_xyz, q_w)`` with ``q_xyz = axial / (4 q_w)`` and ``4 q_w^2 = 1 + trace``."""
    along = float(axis[0]) * (M[2, 1] - M[1, 2]) + float(axis[1]) * (M[0, 2] - M[2, 0]) + float(axis[2]) * (M[1, 0] - M[0, 1])
    return 2.0 * math.atan2(along, 1.0 + M[0, 0] + M[1, 1] + M[2, 2])


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues: rotation by ``angle`` about unit ``axis`` (written out: no temporaries)."""
    x, y, z = float(axis[0]), float(axis[1]), float(axis[2])
    c, s = math.cos(angle), math.sin(angle)
    t = 1.0 - c
    return np.array([[c + t * x * x, t * x * y - s * z, t * x * z + s * y],
                     [t * x * y + s * z, c + t * y * y, t * y * z - s * x],
                     [t * x * z - s * y, t * y * z + s * x, c + t * z * z]])


def _partial(M: np.ndarray, w: float) -> np.ndarray:
    """The rotation ``M`` scaled to the fraction ``w`` of its angle (same axis)."""
    if w >= 1.0:
        return M
    u = _axial(M)
    n = float(np.sqrt(u @ u))
    if n < 1e-12:
        return M if M[0, 0] + M[1, 1] + M[2, 2] > 0 else rot.axis_angle_to_matrix(rot.matrix_to_axis_angle(M) * w)
    return _rotation(u / n, w * float(np.arctan2(0.5 * n, 0.5 * (M[0, 0] + M[1, 1] + M[2, 2] - 1.0))))


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The shortest-arc rotation taking unit ``a`` onto unit ``b``."""
    ax, ay, az = float(a[0]), float(a[1]), float(a[2])
    bx, by, bz = float(b[0]), float(b[1]), float(b[2])
    cx, cy, cz = ay * bz - az * by, az * bx - ax * bz, ax * by - ay * bx
    n = math.sqrt(cx * cx + cy * cy + cz * cz)
    dot = ax * bx + ay * by + az * bz
    if n < 1e-12:
        return np.eye(3) if dot > 0 else rot.quat_to_matrix(rot.quat_between(a, b))
    return _rotation(np.array([cx / n, cy / n, cz / n]), math.atan2(n, dot))
