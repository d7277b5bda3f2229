"""Procedural motions: within joint limits, smooth, deterministic."""

from __future__ import annotations

import numpy as np

from engine import rotations as rot
from engine.synthetic.motions import evaluate_motion, random_motion_params
from engine.synthetic.skeletons import random_rig


def test_joint_offsets_stay_within_limits():
    for seed in range(10):
        rng = np.random.default_rng(seed)
        rig = random_rig(rng)
        params = random_motion_params(rig, rng)
        q, _ = evaluate_motion(rig, params, np.linspace(0, 10, 200))
        offset = rot.quat_multiply(rot.quat_conjugate(rig.skeleton.rest_rotations)[None], q)  # (T, J, 4)
        angle = rot.quat_geodesic_angle(rot.quat_identity(offset.shape[:-1]), offset)
        bound = np.hypot(rig.limits[:, 0], rig.limits[:, 1]) + rig.limits[:, 2]
        non_root = rig.skeleton.parents >= 0
        assert (angle[:, non_root] <= bound[non_root] + 1e-9).all()
        # Twist about the bone stays within its limit.
        _, twist = rot.swing_twist(offset[:, non_root], rig.twist_axes[non_root])
        tw = rot.quat_geodesic_angle(rot.quat_identity(twist.shape[:-1]), twist)
        assert (tw <= rig.limits[non_root, 2] + 1e-6).all()


def test_motion_is_smooth_and_moves():
    moved = 0
    for seed in range(10):
        rng = np.random.default_rng(100 + seed)
        rig = random_rig(rng)
        q, root = evaluate_motion(rig, random_motion_params(rig, rng), np.arange(90) / 30.0)
        step = rot.quat_geodesic_angle(q[1:], q[:-1])
        assert np.degrees(step.max()) < 25.0  # per frame at 30 fps
        assert np.linalg.norm(np.diff(root, axis=0), axis=-1).max() < 0.1 * rig.skeleton.height
        moved += np.degrees(rot.quat_geodesic_angle(q[0], q[-1]).max()) > 1.0
    assert moved >= 8


def test_motion_is_deterministic_and_time_analytic():
    rig = random_rig(np.random.default_rng(1))
    p1 = random_motion_params(rig, np.random.default_rng(2))
    p2 = random_motion_params(rig, np.random.default_rng(2))
    t = np.array([0.0, 0.5, 7.25])
    a, ra = evaluate_motion(rig, p1, t)
    b, rb = evaluate_motion(rig, p2, t)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ra, rb)
    c, _ = evaluate_motion(rig, p1, t[2:])  # a single time gives the same frame
    np.testing.assert_allclose(c[0], a[2], atol=1e-12)
