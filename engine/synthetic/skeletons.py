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
from engine.synthetic._body_plans import PLANS, Builder
from engine.synthetic.naming import name_joints

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

_HINGE_PARTS = frozenset({"arm", "leg", "wing", "finger", "toe", "claw"})
_HINGE_SCALE = np.array([1.0, 0.1, 0.15])  # hinge joints: full bend, a tenth of the other swing, little twist


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
    b = Builder(rng)
    PLANS[plan](b)
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
    # Middle joints of limbs (elbows, knees, inner finger joints) bend like hinges, as in real
    # bodies: little swing about the other axis and little twist. It also makes the parent's twist
    # visible in the positions (the bend plane), which real motions show and P2R can learn.
    hinge_joint = np.array([label.part in _HINGE_PARTS and 0 < label.index < label.count - 1 for label in b.labels], dtype=bool)
    limits[hinge_joint] *= _HINGE_SCALE
    limits[parents < 0] = 0.0  # the root moves through the motion generator's root trajectory
    return SyntheticRig(skeleton, plan, convention, style, twist_axes, swing_axes, limits)
