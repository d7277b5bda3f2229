"""Procedural skeletons: many body plans, random proportions, axis conventions and names.

:func:`random_rig` draws a :class:`SyntheticRig` from a body plan (biped, quadruped, winged, bird,
multi-leg spider/crab/insect, snake/fish, tentacled, random tree, blob). Each plan places joints
in world space (metres, Y up, +Z forward; the creature faces +Z) with random proportions, limb
counts, chain lengths, fingers, tails and necks; then a random **local-axis convention** gives
every joint its rest orientation (identity as in BVH, bone-along-Y with roll as in Blender,
bone-along-X as in Maya, bone-along-Z, or random), so one world motion yields different local
rotations on different rigs. Names come from :mod:`engine.synthetic.naming`.

Besides the skeleton, a synthetic rig carries, per joint and in the joint's own local frame, the
axes and limits the motion generator (:mod:`engine.synthetic.motions`) uses: the twist axis
(along the bone to the joint's main child), two swing axes perpendicular to it (the first one is
the anatomical hinge, from the world rest pose) and three angle limits in radians.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import rotations as rot
from engine.skeleton import Skeleton
from engine.synthetic.naming import JointLabel, name_joints

__all__ = ["BODY_PLANS", "CONVENTIONS", "SyntheticRig", "convention_frames", "random_rig"]

BODY_PLANS = ("biped", "quadruped", "winged", "bird", "multileg", "snake", "tentacles", "tree", "blob")
# Plan weights: humans and quadrupeds dominate real rigs, but every plan stays frequent.
_PLAN_WEIGHTS = np.array([0.2, 0.2, 0.12, 0.08, 0.12, 0.1, 0.06, 0.08, 0.04])
CONVENTIONS = ("identity", "bone_y", "bone_x", "bone_z", "random", "mixed")  # index order matters below

_UP = np.array([0.0, 1.0, 0.0])
_FWD = np.array([0.0, 0.0, 1.0])

# Swing about the hinge axis, swing about the other axis, twist: degrees per body part.
_LIMITS_DEG = {
    "hips": (0, 0, 0), "root": (0, 0, 0), "body": (25, 25, 20), "spine": (25, 20, 20), "chest": (25, 20, 20),
    "neck": (40, 30, 30), "head": (45, 35, 40), "jaw": (30, 5, 5), "ear": (40, 30, 20), "eye": (25, 25, 5),
    "arm": (80, 60, 50), "leg": (70, 35, 25), "wing": (70, 50, 40), "tail": (35, 35, 20), "finger": (60, 15, 10),
    "toe": (40, 10, 5), "fin": (45, 30, 30), "antenna": (40, 40, 10), "tentacle": (45, 45, 25), "claw": (45, 20, 15),
    "bone": (45, 35, 30),
}


@dataclass(frozen=True, eq=False)
class SyntheticRig:
    """A procedural skeleton plus what the motion generator needs.

    Attributes:
        skeleton: the rig.
        plan: body plan name (one of :data:`BODY_PLANS`).
        convention: local-axis convention (one of :data:`CONVENTIONS`).
        naming: naming style of the joint names.
        twist_axes: ``(J, 3)`` unit bone direction of each joint in its own local frame.
        swing_axes: ``(J, 2, 3)`` two unit axes perpendicular to the twist axis, local frame; the
            first is the joint's hinge axis.
        limits: ``(J, 3)`` radians: maximum swing about each swing axis and maximum twist.
    """

    skeleton: Skeleton
    plan: str
    convention: str
    naming: str
    twist_axes: np.ndarray
    swing_axes: np.ndarray
    limits: np.ndarray


class _Builder:
    """Accumulates joints in world space: parent index, position and label."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.parents: list[int] = []
        self.pos: list[np.ndarray] = []
        self.labels: list[JointLabel] = []

    def add(self, parent: int, pos: np.ndarray, label: JointLabel) -> int:
        self.parents.append(parent)
        self.pos.append(np.asarray(pos, dtype=np.float64))
        self.labels.append(label)
        return len(self.parents) - 1

    def chain(
        self,
        parent: int,
        start: np.ndarray,
        direction: np.ndarray,
        length: float,
        n: int,
        part: str,
        side: str = "",
        group: int = 0,
        curl: np.ndarray | None = None,
        wobble: float = 0.15,
    ) -> list[int]:
        """Add ``n`` joints from ``start`` along ``direction`` (bending by ``curl`` per segment).

        The first joint sits at ``start``; the chain's total reach beyond it is ``length``. Returns
        the new joint indices (the last one is the chain's tip).
        """
        rng = self.rng
        d = np.asarray(direction, dtype=np.float64)
        d = d / np.linalg.norm(d)
        seg = rng.uniform(0.6, 1.4, size=max(n - 1, 1))
        seg = seg / seg.sum() * length
        idx = [self.add(parent, start, JointLabel(part, side, 0, n, group))]
        p = np.asarray(start, dtype=np.float64)
        for k in range(1, n):
            if curl is not None:
                d = d + curl
            d = d + rng.normal(0.0, wobble, 3)
            d = d / np.linalg.norm(d)
            p = p + d * seg[k - 1]
            idx.append(self.add(idx[-1], p, JointLabel(part, side, k, n, group)))
        return idx


def _mirror(v: np.ndarray, side: str) -> np.ndarray:
    """``v`` given for the left side (+X); the right side mirrors X."""
    v = np.array(v, dtype=np.float64)
    if side == "R":
        v[0] = -v[0]
    return v


def _fingers(b: _Builder, hand: int, side: str, direction: np.ndarray, size: float) -> None:
    rng = b.rng
    count = int(rng.choice([1, 2, 3, 4, 5], p=[0.1, 0.1, 0.3, 0.2, 0.3]))
    hand_pos = b.pos[hand]
    for f in range(count):
        spread = (f - (count - 1) / 2) * 0.35
        d = direction + np.array([0.0, 0.0, spread]) + rng.normal(0, 0.1, 3)
        start = hand_pos + direction * size * 0.5 + np.array([0.0, 0.0, spread * size * 0.5])
        b.chain(hand, start, d, size * rng.uniform(0.6, 1.2), int(rng.integers(2, 5)), "finger", side, f)


def _head(b: _Builder, neck_top: int, forward: np.ndarray, size: float) -> int:
    rng = b.rng
    head = b.add(neck_top, b.pos[neck_top] + (forward * 0.3 + _UP) / np.linalg.norm(forward * 0.3 + _UP) * size * 0.5, JointLabel("head"))
    if rng.random() < 0.5:
        b.chain(head, b.pos[head] + forward * size * 0.3, forward - _UP * 0.3, size * 0.6, int(rng.integers(1, 3)), "jaw")
    if rng.random() < 0.3:
        for side in "LR":
            b.chain(head, b.pos[head] + _mirror([size * 0.3, size * 0.4, 0], side), _mirror([0.4, 1, -0.2], side), size * 0.5, int(rng.integers(1, 4)), "ear", side)
    if rng.random() < 0.2:
        for side in "LR":
            b.add(head, b.pos[head] + _mirror([size * 0.2, size * 0.2, size * 0.4], side), JointLabel("eye", side))
    if rng.random() < 0.1:
        b.add(head, b.pos[head] + _UP * size, JointLabel("head", "", 1, 2))
    return head


def _tail(b: _Builder, parent: int, size: float, n_range: tuple[int, int] = (1, 10)) -> None:
    rng = b.rng
    n = int(rng.integers(n_range[0], n_range[1] + 1))
    droop = rng.uniform(-0.15, 0.1)
    b.chain(parent, b.pos[parent] - _FWD * size * 0.1, -_FWD + _UP * rng.uniform(-0.5, 0.5), size * rng.uniform(0.3, 1.5), n, "tail", curl=_UP * droop)


def _spine(b: _Builder, root: int, direction: np.ndarray, length: float, n: int, part: str = "spine") -> list[int]:
    return b.chain(root, b.pos[root] + direction / np.linalg.norm(direction) * length / (n + 1), direction, length, n, part, wobble=0.05)


def _plan_biped(b: _Builder, tail_p: float = 0.25, wings: bool = False) -> None:
    rng = b.rng
    leg = rng.uniform(0.35, 0.55)
    lean = rng.choice([0.0, rng.uniform(0.0, 1.5)], p=[0.6, 0.4])  # >0: dinosaur-like forward lean
    hips = b.add(-1, [0.0, leg, 0.0], JointLabel("hips"))
    spine = _spine(b, hips, np.array([0.0, 1.0, lean]), rng.uniform(0.2, 0.35), int(rng.integers(1, 5)))
    top = spine[-1]
    n_neck = int(rng.choice([1, 2, 3, int(rng.integers(4, 9))], p=[0.5, 0.2, 0.15, 0.15]))
    neck = b.chain(top, b.pos[top] + np.array([0.0, 0.04, 0.02 * lean]), np.array([0.0, 1.0, 0.3 * lean]), rng.uniform(0.05, 0.05 * n_neck + 0.1), n_neck, "neck", wobble=0.05)
    _head(b, neck[-1], _FWD, rng.uniform(0.08, 0.16))
    arm_len = rng.uniform(0.25, 0.5) * (rng.uniform(0.3, 0.7) if lean > 0.7 else 1.0)
    droop = rng.uniform(-1.2, 0.3)  # T-pose at 0, A-pose below
    for side in "LR":
        shoulder = b.pos[top] + _mirror([rng.uniform(0.03, 0.08), -0.02, 0.0], side)
        n_arm = int(rng.choice([3, 4, 5], p=[0.3, 0.6, 0.1]))
        arm = b.chain(top, shoulder, _mirror([1.0, droop, rng.uniform(-0.3, 0.3)], side), arm_len, n_arm, "arm", side, wobble=0.08)
        if rng.random() < 0.5:
            _fingers(b, arm[-1], side, _mirror([1.0, droop, 0.0], side) / np.hypot(1.0, droop), arm_len * 0.2)
        hip = b.pos[hips] + _mirror([rng.uniform(0.05, 0.12), -0.03, 0.0], side)
        n_leg = int(rng.choice([3, 4, 5], p=[0.3, 0.6, 0.1]))
        leg_idx = b.chain(hips, hip, [0.0, -1.0, rng.uniform(-0.1, 0.1)], leg * 0.9, n_leg - 1, "leg", side, wobble=0.05)
        b.add(leg_idx[-1], b.pos[leg_idx[-1]] + np.array([0.0, -0.02, rng.uniform(0.05, 0.15)]), JointLabel("leg", side, n_leg - 1, n_leg))
        if wings:
            w = b.chain(top, b.pos[top] + _mirror([0.05, 0.05, -0.05], side), _mirror([1.0, rng.uniform(0.0, 0.8), -0.3], side), rng.uniform(0.4, 1.2), int(rng.integers(3, 6)), "wing", side, wobble=0.1)
            if rng.random() < 0.6:
                for f in range(int(rng.integers(2, 5))):
                    b.chain(w[-1], b.pos[w[-1]], _mirror([1.0, -0.3 * f, -0.5 * f], side), rng.uniform(0.2, 0.6), int(rng.integers(1, 4)), "finger", side, f)
    if rng.random() < tail_p or lean > 0.7:
        _tail(b, hips, 1.0)


def _plan_quadruped(b: _Builder, wings: bool = False) -> None:
    rng = b.rng
    leg = rng.uniform(0.25, 0.7)
    body = rng.uniform(0.4, 1.0)
    hips = b.add(-1, [0.0, leg, -body / 2], JointLabel("hips"))
    spine = _spine(b, hips, np.array([0.0, rng.uniform(-0.1, 0.2), 1.0]), body, int(rng.integers(1, 6)))
    chest = spine[-1]
    long_neck = rng.random() < 0.25
    n_neck = int(rng.integers(4, 10)) if long_neck else int(rng.integers(1, 4))
    neck = b.chain(chest, b.pos[chest] + np.array([0.0, 0.03, 0.05]), [0.0, rng.uniform(0.3, 1.5), 1.0], rng.uniform(0.1, 0.3) * (3 if long_neck else 1), n_neck, "neck", wobble=0.05)
    _head(b, neck[-1], _FWD, rng.uniform(0.08, 0.2))
    front_part = "arm" if rng.random() < 0.5 else "leg"
    for side in "LR":
        for attach, part, group in ((chest, front_part, 0), (hips, "leg", 1 if front_part == "leg" else 0)):
            n = int(rng.choice([3, 4, 5], p=[0.3, 0.5, 0.2]))
            start = b.pos[attach] + _mirror([rng.uniform(0.05, 0.15), -0.05, 0.0], side)
            idx = b.chain(attach, start, [0.0, -1.0, rng.uniform(-0.2, 0.2)], leg * 0.95, n, part, side, group, wobble=0.12)
            if rng.random() < 0.2:
                b.add(idx[-1], b.pos[idx[-1]] + np.array([0.0, -0.01, 0.06]), JointLabel("toe", side, 0, 1, group))
        if wings:
            w = b.chain(chest, b.pos[chest] + _mirror([0.08, 0.1, 0.0], side), _mirror([1.0, rng.uniform(0.0, 1.0), -0.2], side), rng.uniform(0.5, 1.5), int(rng.integers(3, 6)), "wing", side, wobble=0.1)
            if rng.random() < 0.6:
                for f in range(int(rng.integers(2, 5))):
                    b.chain(w[-1], b.pos[w[-1]], _mirror([1.0, -0.2 * f, -0.6 * f], side), rng.uniform(0.3, 0.8), int(rng.integers(1, 4)), "finger", side, f)
    if rng.random() < 0.85:
        _tail(b, hips, body, (1, 12))


def _plan_bird(b: _Builder) -> None:
    rng = b.rng
    leg = rng.uniform(0.15, 0.5)
    hips = b.add(-1, [0.0, leg, 0.0], JointLabel("hips"))
    spine = _spine(b, hips, np.array([0.0, rng.uniform(0.2, 1.0), 1.0]), rng.uniform(0.15, 0.3), int(rng.integers(1, 3)))
    n_neck = int(rng.integers(1, 9))
    neck = b.chain(spine[-1], b.pos[spine[-1]] + np.array([0.0, 0.03, 0.03]), [0.0, 1.0, rng.uniform(0.0, 1.0)], rng.uniform(0.05, 0.5), n_neck, "neck", wobble=0.08)
    _head(b, neck[-1], _FWD, rng.uniform(0.04, 0.1))
    for side in "LR":
        w = b.chain(spine[-1], b.pos[spine[-1]] + _mirror([0.05, 0.02, 0.0], side), _mirror([1.0, rng.uniform(-0.3, 0.5), -0.2], side), rng.uniform(0.3, 1.0), int(rng.integers(3, 5)), "wing", side, wobble=0.1)
        if rng.random() < 0.4:
            for f in range(int(rng.integers(2, 6))):
                b.chain(w[-1], b.pos[w[-1]], _mirror([0.6, 0.0, -1.0], side), rng.uniform(0.1, 0.3), int(rng.integers(1, 3)), "finger", side, f)
        idx = b.chain(hips, b.pos[hips] + _mirror([0.05, -0.02, 0.0], side), [0.0, -1.0, 0.1], leg * 0.9, int(rng.integers(3, 5)), "leg", side, wobble=0.15)
        for f in range(int(rng.choice([0, 3, 4]))):
            b.chain(idx[-1], b.pos[idx[-1]], [(f - 1.5) * 0.4, -0.1, 1.0 if f < 3 else -1.0], leg * 0.15, 2, "toe", side, f)
    _tail(b, hips, 0.4, (1, 4))


def _plan_multileg(b: _Builder) -> None:
    rng = b.rng
    height = rng.uniform(0.1, 0.4)
    body = b.add(-1, [0.0, height, 0.0], JointLabel("body"))
    if rng.random() < 0.7:
        b.chain(body, b.pos[body] - _FWD * 0.05, -_FWD + _UP * rng.uniform(-0.3, 0.3), rng.uniform(0.1, 0.4), int(rng.integers(1, 4)), "tail", wobble=0.05)
    head = b.chain(body, b.pos[body] + _FWD * 0.08, _FWD, rng.uniform(0.05, 0.15), int(rng.integers(1, 3)), "head", wobble=0.05)[-1]
    if rng.random() < 0.5:
        for side in "LR":
            b.chain(head, b.pos[head] + _mirror([0.02, 0.01, 0.02], side), _mirror([0.4, 0.5, 1.0], side), rng.uniform(0.05, 0.3), int(rng.integers(2, 6)), "antenna", side, curl=-_UP * 0.05)
    pairs = int(rng.choice([2, 3, 4, 5, 6], p=[0.1, 0.3, 0.35, 0.15, 0.1]))
    reach = rng.uniform(0.15, 0.6)
    for side in "LR":
        for k in range(pairs):
            z = 0.08 - 0.16 * k / max(pairs - 1, 1)
            n = int(rng.integers(3, 6))
            b.chain(body, b.pos[body] + _mirror([0.04, 0.0, z], side), _mirror([1.0, 0.8, z * 4], side), reach, n, "leg", side, k, curl=-_UP * rng.uniform(0.2, 0.6), wobble=0.08)
        if rng.random() < 0.3:
            claw = b.chain(body, b.pos[body] + _mirror([0.03, 0.0, 0.1], side), _mirror([0.5, 0.2, 1.0], side), reach * 0.6, int(rng.integers(2, 4)), "claw", side)
            for f in range(2):
                b.chain(claw[-1], b.pos[claw[-1]], _mirror([0.3 * (2 * f - 1), 0.0, 1.0], side), reach * 0.2, 2, "finger", side, f)


def _plan_snake(b: _Builder) -> None:
    rng = b.rng
    n = int(rng.integers(6, 31))
    length = rng.uniform(0.5, 3.0)
    fish = rng.random() < 0.4
    root = b.add(-1, [0.0, 0.1, -length / 2], JointLabel("root" if rng.random() < 0.5 else "hips"))
    body = b.chain(root, b.pos[root] + _FWD * length / n, _FWD, length, n, "spine", wobble=0.03 if fish else 0.2)
    if rng.random() < 0.7:
        _head(b, body[-1], _FWD, length / n * 1.5)
    if fish:
        for side in "LR":
            b.chain(body[len(body) // 2], b.pos[body[len(body) // 2]] + _mirror([0.05, 0, 0], side), _mirror([1, -0.3, -0.5], side), length * 0.15, int(rng.integers(1, 4)), "fin", side)
        if rng.random() < 0.5:
            b.chain(body[len(body) // 3], b.pos[body[len(body) // 3]] + _UP * 0.05, _UP - _FWD * 0.5, length * 0.1, int(rng.integers(1, 3)), "fin", "", 1)
    if rng.random() < 0.5:
        _tail(b, root, length * 0.3, (1, 5))


def _plan_tentacles(b: _Builder) -> None:
    rng = b.rng
    root = b.add(-1, [0.0, 0.5, 0.0], JointLabel("body"))
    _spine(b, root, _UP + _FWD * rng.uniform(-0.5, 0.5), rng.uniform(0.1, 0.4), int(rng.integers(1, 4)), "head")
    k = int(rng.integers(3, 9))
    for t in range(k):
        a = 2 * np.pi * t / k
        d = np.array([np.cos(a), -rng.uniform(0.2, 1.5), np.sin(a)])
        side = "L" if np.cos(a) > 1e-6 else "R" if np.cos(a) < -1e-6 else ""
        b.chain(root, b.pos[root] + d * 0.05, d, rng.uniform(0.3, 1.0), int(rng.integers(3, 11)), "tentacle", side, t, wobble=0.15)


def _plan_tree(b: _Builder) -> None:
    rng = b.rng
    n = int(rng.integers(3, 60))
    b.add(-1, [0.0, 0.5, 0.0], JointLabel("root"))
    chains: dict[int, int] = {}
    for j in range(1, n):
        # Prefer extending a recent joint, so the tree has chains and occasional branches.
        parent = j - 1 if rng.random() < 0.6 else int(rng.integers(j))
        group = chains.setdefault(parent, len(chains))
        d = rng.normal(0, 1, 3)
        b.add(parent, b.pos[parent] + d / np.linalg.norm(d) * rng.uniform(0.03, 0.3), JointLabel("bone", "", j, n, group))


def _plan_blob(b: _Builder) -> None:
    rng = b.rng
    root = b.add(-1, [0.0, 0.0, 0.0], JointLabel("root"))
    body = b.add(root, [0.0, rng.uniform(0.1, 0.5), 0.0], JointLabel("body"))
    for k in range(int(rng.integers(0, 5))):
        d = rng.normal(0, 1, 3)
        b.chain(body, b.pos[body] + d * 0.1, d, rng.uniform(0.1, 0.4), int(rng.integers(1, 3)), "bone", "", k)


_PLANS = {
    "biped": _plan_biped,
    "quadruped": _plan_quadruped,
    "winged": lambda b: _plan_quadruped(b, wings=True) if b.rng.random() < 0.5 else _plan_biped(b, 0.7, wings=True),
    "bird": _plan_bird,
    "multileg": _plan_multileg,
    "snake": _plan_snake,
    "tentacles": _plan_tentacles,
    "tree": _plan_tree,
    "blob": _plan_blob,
}


def convention_frames(convention: str, dirs: np.ndarray, sides: list[str], rng: np.random.Generator) -> np.ndarray:
    """World rest orientations ``(J, 3, 3)`` of joints under a local-axis convention.

    ``bone_x``/``bone_y``/``bone_z`` put that local axis along the bone (negated on some right-side
    joints, as Maya rigs do), rolled about it by zero (rule-based roll) or a random angle;
    ``identity`` keeps world axes (BVH); ``random`` draws any rotation; ``mixed`` picks one of these
    per joint.

    Args:
        convention: one of :data:`CONVENTIONS`.
        dirs: ``(J, 3)`` unit world direction of each joint's bone (towards its main child).
        sides: per joint ``"L"``, ``"R"`` or ``""``.
        rng: random source for rolls, signs and random frames.
    """
    J = len(dirs)
    kinds = np.full(J, CONVENTIONS.index(convention)) if convention != "mixed" else rng.integers(5, size=J)
    roll = np.zeros(J) if rng.random() < 0.5 else rng.uniform(-np.pi, np.pi, J)
    sign = np.where((np.array(sides) == "R") & (rng.random(J) < 0.5), -1.0, 1.0) if J else np.ones(0)
    ref = np.where(np.abs(dirs @ _UP)[:, None] < 0.95, _UP, _FWD)
    e1 = np.cross(ref, dirs)
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    e2 = np.cross(dirs, e1)
    c, s = np.cos(roll)[:, None], np.sin(roll)[:, None]
    e1 = c * e1 + s * e2
    d = sign[:, None] * dirs
    third = np.cross(d, e1)
    out = np.empty((J, 3, 3))
    for axis, kind in ((0, 2), (1, 1), (2, 3)):  # bone_x -> column 0, bone_y -> 1, bone_z -> 2
        sel = kinds == kind
        out[sel, :, axis] = d[sel]
        out[sel, :, (axis + 1) % 3] = e1[sel]
        out[sel, :, (axis + 2) % 3] = third[sel]
    out[kinds == 0] = np.eye(3)
    rnd = kinds == 4
    out[rnd] = rot.axis_angle_to_matrix(rng.normal(0, 1, (int(rnd.sum()), 3)) * 1.5)
    return out


def random_rig(rng: np.random.Generator, plan: str | None = None, convention: str | None = None, naming: str | None = None) -> SyntheticRig:
    """Draw a procedural rig.

    Args:
        rng: random source; the rig is a deterministic function of its state.
        plan: body plan (default: random, see :data:`BODY_PLANS`).
        convention: local-axis convention (default: random, see :data:`CONVENTIONS`).
        naming: naming style (default: random).

    Returns:
        A rig whose size (largest rest extent) is between about 0.1 and 4 metres.
    """
    plan = plan or str(rng.choice(BODY_PLANS, p=_PLAN_WEIGHTS / _PLAN_WEIGHTS.sum()))
    convention = convention or str(rng.choice(CONVENTIONS, p=[0.25, 0.25, 0.2, 0.1, 0.1, 0.1]))
    b = _Builder(rng)
    _PLANS[plan](b)
    parents = np.array(b.parents)
    scale = float(np.exp(rng.uniform(np.log(0.3), np.log(3.0))))
    pos = np.stack(b.pos) * scale * rng.uniform(0.8, 1.25, size=3)  # random per-axis proportions
    J = len(parents)
    children = [[c for c in range(J) if parents[c] == j] for j in range(J)]
    dirs = np.empty((J, 3))
    for j in range(J):
        same = [c for c in children[j] if b.labels[c].part == b.labels[j].part]
        main = (same or children[j] or [None])[0]
        if main is not None:
            d = pos[main] - pos[j]
        elif parents[j] >= 0:
            d = pos[j] - pos[parents[j]]
        else:
            d = _UP.copy()
        n = np.linalg.norm(d)
        dirs[j] = d / n if n > 1e-9 else _UP
    world = convention_frames(convention, dirs, [label.side for label in b.labels], rng)
    local_r = world.copy()
    local_t = pos.copy()
    has_p = parents >= 0
    local_r[has_p] = np.swapaxes(world[parents[has_p]], -1, -2) @ world[has_p]
    local_t[has_p] = np.einsum("jba,jb->ja", world[parents[has_p]], pos[has_p] - pos[parents[has_p]])
    leaves = [j for j in range(J) if not children[j]]
    ends = [j for j in leaves if rng.random() < 0.5]
    end_offsets = [world[j].T @ dirs[j] * np.linalg.norm(local_t[j]) * rng.uniform(0.3, 1.0) if parents[j] >= 0 else world[j].T @ dirs[j] * 0.1 * scale for j in ends]
    names, style = name_joints(b.labels, rng, naming)
    skeleton = Skeleton(
        names=tuple(names),
        parents=parents,
        rest_translations=local_t,
        rest_rotations=rot.matrix_to_quat(local_r, orthonormal=True),
        end_site_joints=np.array(ends, dtype=np.int64),
        end_site_offsets=np.array(end_offsets).reshape(-1, 3),
    )
    # Motion axes: the hinge is perpendicular to the bone and to world up (or forward).
    hinge = np.cross(dirs, np.where(np.abs(dirs @ _UP)[:, None] < 0.9, _UP, _FWD))
    hinge /= np.linalg.norm(hinge, axis=-1, keepdims=True)
    other = np.cross(dirs, hinge)
    to_local = np.swapaxes(world, -1, -2)  # (J, 3, 3) world -> joint frame
    twist_axes = np.einsum("jab,jb->ja", to_local, dirs)
    swing_axes = np.stack([np.einsum("jab,jb->ja", to_local, hinge), np.einsum("jab,jb->ja", to_local, other)], axis=1)
    limits = np.deg2rad([_LIMITS_DEG.get(label.part, _LIMITS_DEG["bone"]) for label in b.labels])
    limits = limits * rng.uniform(0.6, 1.3, size=limits.shape)
    limits[parents < 0] = 0.0  # the root moves through the motion generator's root trajectory
    return SyntheticRig(skeleton, plan, convention, style, twist_axes, swing_axes, limits)
