"""Procedural smooth motions of synthetic rigs, within joint limits.

Each joint moves in its swing-twist space (axes from :class:`~engine.synthetic.skeletons.SyntheticRig`):
three angle signals (swing about the hinge, swing about the other axis, twist), each a sum of a
few sines (some motions share one base frequency, like a gait) plus a bias (a held pose), squashed
by ``limit * tanh(.)`` so they never leave the joint's limits. The joint's local rotation is its
rest rotation followed by that offset, ``L(t) = L_rest * swing(t) * twist(t)``, all in the joint's
own frame. The root turns about world Y, pitches and rolls a little, and travels along its
heading with bobbing and sway. Motions are analytic in time, so any time (e.g. a reference
frame far from the window) costs the same.

All times in seconds, angles in radians, lengths in metres, world frame Y up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import rotations as rot
from engine.synthetic.skeletons import SyntheticRig

__all__ = ["MotionParams", "random_motion_params", "evaluate_motion"]

_K = 3  # sines per angle signal


@dataclass(frozen=True, eq=False)
class MotionParams:
    """A procedural motion of one rig (evaluate it with :func:`evaluate_motion`).

    Attributes:
        freq: ``(J, 3, K)`` Hz of each sine of each angle signal.
        phase: ``(J, 3, K)`` radians.
        amp: ``(J, 3, K)`` amplitudes (before the tanh squashing).
        bias: ``(J, 3)`` constant offset of each signal (a held pose).
        root: ``(8,)`` root trajectory parameters: initial heading, turn rate (rad/s), turn
            wobble amplitude and frequency, speed (fraction of rig size per second), bob
            amplitude (fraction of size), pitch and roll amplitudes (radians).
        root_tilt: ``(3,)`` a constant extra root orientation (axis-angle, radians) for rigs
            that fly, swim or lie down.
    """

    freq: np.ndarray
    phase: np.ndarray
    amp: np.ndarray
    bias: np.ndarray
    root: np.ndarray
    root_tilt: np.ndarray


def random_motion_params(rig: SyntheticRig, rng: np.random.Generator) -> MotionParams:
    """Draw a random smooth motion for ``rig``; deterministic given the rng state."""
    J = rig.skeleton.num_joints
    energy = rng.uniform(0.2, 1.2)  # how much the whole body moves
    if rng.random() < 0.5:
        # Gait-like: integer multiples of one base frequency, coherent phases within a limb.
        base = rng.uniform(0.3, 1.5)
        freq = base * rng.integers(1, 3, size=(J, 3, _K))
    else:
        freq = np.exp(rng.uniform(np.log(0.05), np.log(2.0), size=(J, 3, _K)))
    phase = rng.uniform(-np.pi, np.pi, size=(J, 3, _K))
    # Faster components move less (like real motion), keeping angular speeds plausible.
    amp = rng.uniform(0.0, 1.0, size=(J, 3, _K)) * energy / np.sqrt(_K) / np.maximum(1.0, freq / 0.7)
    amp[:, 2] *= 0.6  # twist moves less than swing
    active = rng.random(J) < rng.uniform(0.6, 1.0)  # some joints stay still
    amp *= active[:, None, None]
    bias = rng.normal(0.0, rng.uniform(0.1, 0.7), size=(J, 3)) * active[:, None]
    root = np.array(
        [
            rng.uniform(-np.pi, np.pi),  # initial heading about +Y
            rng.normal(0.0, 0.3),  # turn rate rad/s
            rng.uniform(0.0, 0.4),  # heading wobble amplitude rad
            rng.uniform(0.05, 0.5),  # heading wobble frequency Hz
            rng.choice([0.0, rng.uniform(0.0, 1.0)]),  # forward speed, sizes per second
            rng.uniform(0.0, 0.05),  # vertical bob, fraction of size
            rng.uniform(0.0, 0.2),  # pitch amplitude rad
            rng.uniform(0.0, 0.2),  # roll amplitude rad
        ]
    )
    tilt = rng.normal(0.0, 1.0, 3) * rng.uniform(0.0, np.pi) if rng.random() < 0.15 else np.zeros(3)
    return MotionParams(freq, phase, amp, bias, root, tilt)


def _root_motion(params: MotionParams, t: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    """World orientation offset ``(T, 4)`` and displacement ``(T, 3)`` of the root at times ``t``."""
    h0, turn, wob_a, wob_f, speed, bob, pitch_a, roll_a = params.root
    heading = h0 + turn * t + wob_a * np.sin(2 * np.pi * wob_f * t)
    # Displacement along the heading: the closed form integral of speed * (sin h, cos h) is not
    # elementary, so integrate at the analytic heading of the mid-interval (exact when turn = 0).
    h_mid = h0 + turn * t / 2
    dist = speed * size * t
    disp = np.stack([dist * np.sin(h_mid), bob * size * np.sin(2 * np.pi * 2 * wob_f * t), dist * np.cos(h_mid)], axis=-1)
    yaw = rot.axis_angle_to_quat(heading[:, None] * np.array([0.0, 1.0, 0.0]))
    pitch = pitch_a * np.sin(2 * np.pi * wob_f * 1.3 * t + 0.7)
    roll = roll_a * np.sin(2 * np.pi * wob_f * 0.9 * t + 1.9)
    tilt = rot.axis_angle_to_quat(np.stack([pitch, np.zeros_like(t), roll], axis=-1))
    q = rot.quat_multiply(yaw, rot.quat_multiply(tilt, rot.axis_angle_to_quat(params.root_tilt)))
    return q, disp


def evaluate_motion(rig: SyntheticRig, params: MotionParams, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations and root translations of ``rig`` at times ``t``.

    Args:
        rig: the synthetic rig.
        params: its motion.
        t: ``(T,)`` seconds.

    Returns:
        ``(rotations (T, J, 4) x y z w local, parent space, rest included;
        root_translation (T, 3) metres, world)``; the root is joint 0.
    """
    t = np.asarray(t, dtype=np.float64)
    sk = rig.skeleton
    phase = 2 * np.pi * params.freq[None] * t[:, None, None, None] + params.phase[None]  # (T, J, 3, K)
    signal = (params.amp[None] * np.sin(phase)).sum(-1) + params.bias[None]  # (T, J, 3)
    angles = rig.limits[None] * np.tanh(signal)  # (T, J, 3) radians, within limits
    swing_vec = angles[..., 0:1] * rig.swing_axes[None, :, 0] + angles[..., 1:2] * rig.swing_axes[None, :, 1]
    twist_vec = angles[..., 2:3] * rig.twist_axes[None]
    offset = rot.quat_multiply(rot.axis_angle_to_quat(swing_vec), rot.axis_angle_to_quat(twist_vec))
    rotations = rot.quat_multiply(sk.rest_rotations[None], offset)  # (T, J, 4)
    root_q, disp = _root_motion(params, t, sk.height)
    roots = sk.roots
    rotations[:, roots] = rot.quat_multiply(root_q[:, None], sk.rest_rotations[None, roots])
    root_translation = sk.rest_translations[0][None] + disp
    return rot.quat_normalize(rotations), root_translation
