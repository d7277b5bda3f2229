"""Authored probe motions: one known rotation at a time on a humanoid, to measure what reaches a rig.

Each probe starts from a relaxed stance (the humanoid's rest pose with both upper arms lowered to
10 degrees from vertical) and turns one body part about one world axis by a known angle per frame:

=====================  ===========================  ==================  =====================
probe                  joint(s) turned              world axis          angle (degrees)
=====================  ===========================  ==================  =====================
``head_yaw``           Head                         +Y (up)             +-60, two cycles
``head_pitch``         Head                         +X (left)           +-30 (+ = nod down)
``head_roll``          Head                         +Z (forward)        +-20
``torso_twist``        Spine, Chest, UpperChest     +Y                  +-40 (shared evenly)
``forearm_pronation``  LeftLowerArm, arm held out   the forearm's axis  +-70
``arm_side_raise``     LeftUpperArm                 +Z                  0 -> 120 -> 0
``arm_front_raise``    LeftUpperArm                 -X                  0 -> 150 -> 0
``arms_relaxed``       nothing                      --                  0
=====================  ===========================  ==================  =====================

Axes are the performer's (internal frame: X = performer's left, Y up, Z forward, facing +Z). A
rotation is applied as a *world* delta at the joint (``W_j <- D W_j``; descendants keep their local
rotations and so turn with it), so the authored angle is exactly the rotation of the part relative
to the body part above it. Oscillating probes do two sine cycles; raises do one smooth up and down.
Pure numpy: the renderer and the live path are in :mod:`tools.live_probes`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.rig import Clip
from engine.skeleton import Skeleton

__all__ = ["PROBES", "ProbeMotion", "ProbeSpec", "author_probe", "probe_spec", "relaxed_stance"]

RELAXED_ARM_DEG = 10.0  # upper arms this far from vertical in the relaxed stance (keeps them off the body)


@dataclass(frozen=True)
class ProbeSpec:
    """One probe.

    Attributes:
        name: probe name (see the module table).
        part: what it turns: ``"head"``, ``"torso"``, ``"upper_arm"``, ``"forearm"`` or ``"none"``.
        axis: ``"yaw"`` / ``"pitch"`` / ``"roll"`` (world Y / X / Z), ``"side"`` (+Z), ``"front"``
            (-X) or ``"twist"`` (the part's own bone axis).
        amplitude_deg: peak angle.
        shape: ``"sine"`` (+-amplitude, two cycles), ``"raise"`` (0 -> amplitude -> 0) or ``"hold"``.
    """

    name: str
    part: str
    axis: str
    amplitude_deg: float
    shape: str


PROBES: tuple[ProbeSpec, ...] = (
    ProbeSpec("head_yaw", "head", "yaw", 60.0, "sine"),
    ProbeSpec("head_pitch", "head", "pitch", 30.0, "sine"),
    ProbeSpec("head_roll", "head", "roll", 20.0, "sine"),
    ProbeSpec("torso_twist", "torso", "yaw", 40.0, "sine"),
    ProbeSpec("forearm_pronation", "forearm", "twist", 70.0, "sine"),
    ProbeSpec("arm_side_raise", "upper_arm", "side", 120.0, "raise"),
    ProbeSpec("arm_front_raise", "upper_arm", "front", 150.0, "raise"),
    ProbeSpec("arms_relaxed", "none", "yaw", 0.0, "hold"),
)

# World axes of the named probe axes (internal frame of a performer facing +Z).
WORLD_AXES: dict[str, np.ndarray] = {
    "yaw": np.array([0.0, 1.0, 0.0]), "pitch": np.array([1.0, 0.0, 0.0]), "roll": np.array([0.0, 0.0, 1.0]),
    "side": np.array([0.0, 0.0, 1.0]), "front": np.array([-1.0, 0.0, 0.0]),
}


def probe_spec(name: str) -> ProbeSpec:
    """The probe called ``name`` (``KeyError`` lists the names)."""
    for p in PROBES:
        if p.name == name:
            return p
    raise KeyError(f"no probe {name!r}; probes: {[p.name for p in PROBES]}")


@dataclass(frozen=True, eq=False)
class ProbeMotion:
    """An authored probe on a skeleton.

    Attributes:
        spec: the probe.
        clip: ``(T, J)`` local rotations and translations, 30 fps.
        angle_deg: ``(T,)`` the authored angle of each frame, degrees.
        axis: ``(3,)`` the world axis the part turns about (the forearm's axis for ``twist``).
    """

    spec: ProbeSpec
    clip: Clip
    angle_deg: np.ndarray
    axis: np.ndarray


def _world_rotations(skeleton: Skeleton, local: np.ndarray) -> np.ndarray:
    """``(..., J, 4)`` world rotations of local rotations ``(..., J, 4)``."""
    world_m, _ = forward_kinematics(skeleton.parents, rot.quat_to_matrix(local), skeleton.rest_translations)
    return rot.matrix_to_quat(world_m)


def _turn(skeleton: Skeleton, local: np.ndarray, joint: int, delta: np.ndarray) -> np.ndarray:
    """``local`` with joint ``joint`` turned by the world rotation ``delta`` (``(..., 4)``); descendants follow."""
    world = _world_rotations(skeleton, local)
    parent = skeleton.parents[joint]
    new_world = rot.quat_multiply(delta, world[..., joint, :])
    out = local.copy()
    out[..., joint, :] = new_world if parent < 0 else rot.quat_multiply(rot.quat_conjugate(world[..., parent, :]), new_world)
    return rot.quat_normalize(out)


def _aim(skeleton: Skeleton, local: np.ndarray, joint: int, child: int, direction: np.ndarray) -> np.ndarray:
    """``local`` with the bone ``joint -> child`` turned (shortest arc) to point along ``direction``."""
    _, pos = forward_kinematics(skeleton.parents, rot.quat_to_matrix(local), skeleton.rest_translations)
    return _turn(skeleton, local, joint, rot.quat_between(pos[child] - pos[joint], direction))


def relaxed_stance(skeleton: Skeleton, bones: dict[str, str], *, keep_left_arm_out: bool = False) -> np.ndarray:
    """``(J, 4)`` the rest pose with the upper arms lowered to :data:`RELAXED_ARM_DEG` from vertical."""
    local = np.array(skeleton.rest_rotations, dtype=np.float64)
    tilt = np.radians(RELAXED_ARM_DEG)
    for side, sign in (("Left", 1.0), ("Right", -1.0)):
        if side == "Left" and keep_left_arm_out:
            continue
        upper, lower = skeleton.index(bones[f"{side}UpperArm"]), skeleton.index(bones[f"{side}LowerArm"])
        local = _aim(skeleton, local, upper, lower, np.array([sign * np.sin(tilt), -np.cos(tilt), 0.0]))
    return local


def _signal(spec: ProbeSpec, frames: int) -> np.ndarray:
    """``(T,)`` authored angle per frame, degrees."""
    t = np.arange(frames, dtype=np.float64)
    if spec.shape == "sine":
        return spec.amplitude_deg * np.sin(2.0 * np.pi * 2.0 * t / max(frames, 1))
    if spec.shape == "raise":
        return spec.amplitude_deg * 0.5 * (1.0 - np.cos(2.0 * np.pi * t / max(frames - 1, 1)))
    return np.zeros(frames)


def author_probe(skeleton: Skeleton, bones: dict[str, str], spec: ProbeSpec | str, frames: int = 120, fps: float = 30.0) -> ProbeMotion:
    """The probe ``spec`` as a clip of ``frames`` frames on a humanoid skeleton with bone map ``bones``.

    Args:
        skeleton: a humanoid skeleton (e.g. the bundled humanoid).
        bones: Unity ``HumanBodyBones`` name -> joint name (``Head``, ``Spine``, ``Chest``,
            ``LeftUpperArm``, ``LeftLowerArm``, ``LeftHand`` ... must be present).
        spec: the probe or its name.
        frames: number of frames (the tests use a handful; measuring uses 120+).
        fps: frame rate.
    """
    spec = probe_spec(spec) if isinstance(spec, str) else spec
    if frames < 2:
        raise ValueError(f"a probe needs at least 2 frames, got {frames}")
    missing = [b for b in ("Head", "Spine", "LeftUpperArm", "LeftLowerArm", "LeftHand", "RightUpperArm", "RightLowerArm") if b not in bones]
    if missing:
        raise ValueError(f"the probe skeleton lacks humanoid bones {missing}")
    j = lambda role: skeleton.index(bones[role])  # noqa: E731
    angle = _signal(spec, frames)
    stance = relaxed_stance(skeleton, bones, keep_left_arm_out=spec.part == "forearm")
    local = np.broadcast_to(stance, (frames,) + stance.shape).copy()
    axis = WORLD_AXES.get(spec.axis, WORLD_AXES["yaw"])
    if spec.part == "head":
        local = _turn(skeleton, local, j("Head"), rot.axis_angle_to_quat(np.radians(angle)[:, None] * axis))
    elif spec.part == "torso":
        spine = [j(b) for b in ("Spine", "Chest", "UpperChest") if b in bones]
        for s in spine:
            local = _turn(skeleton, local, s, rot.axis_angle_to_quat(np.radians(angle / len(spine))[:, None] * axis))
    elif spec.part == "forearm":
        _, pos = forward_kinematics(skeleton.parents, rot.quat_to_matrix(stance), skeleton.rest_translations)
        axis = pos[j("LeftHand")] - pos[j("LeftLowerArm")]
        axis = axis / np.linalg.norm(axis)
        local = _turn(skeleton, local, j("LeftLowerArm"), rot.axis_angle_to_quat(np.radians(angle)[:, None] * axis))
    elif spec.part == "upper_arm":
        local = _turn(skeleton, local, j("LeftUpperArm"), rot.axis_angle_to_quat(np.radians(angle)[:, None] * axis))
    trans = np.broadcast_to(skeleton.rest_translations, (frames,) + skeleton.rest_translations.shape).copy()
    return ProbeMotion(spec, Clip(f"probe:{spec.name}", fps, local, trans), angle, np.asarray(axis, dtype=np.float64))
