"""Analytic IK baseline: exact on clean data where positions determine rotations."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.solvers.analytic_ik import AnalyticIKSolver, determined_joints
from engine.kinematics import forward_kinematics
from engine.solvers.base import RotationSolver
from engine.skeleton import Skeleton
from engine.synthetic.dataset import MotionDataset


def _branching_rig(rng: np.random.Generator) -> Skeleton:
    """Root with 3 children, each with 2 children, each with 2 leaves: every inner joint has
    >= 2 non-collinear children. Random rest rotations (non-identity local axes)."""
    parents = [-1, 0, 0, 0]  # root -> 3 children
    parents += [p for p in (1, 2, 3) for _ in range(2)]  # each -> 2 children (joints 4..9)
    parents += [p for p in range(4, 10) for _ in range(2)]  # each -> 2 leaves (joints 10..21)
    J = len(parents)
    trans = rng.normal(0, 0.3, (J, 3))
    trans[0] = [0, 1, 0]
    rest = rot.axis_angle_to_quat(rng.normal(0, 1, (J, 3)))
    return Skeleton(tuple(f"j{i}" for i in range(J)), np.array(parents), trans, rest)


def _pose(sk: Skeleton, rng: np.random.Generator, T: int) -> tuple[np.ndarray, np.ndarray]:
    q = rot.quat_multiply(sk.rest_rotations[None], rot.axis_angle_to_quat(rng.normal(0, 0.6, (T, sk.num_joints, 3))))
    trans = np.broadcast_to(sk.rest_translations, (T, sk.num_joints, 3)).copy()
    trans[:, 0] += rng.normal(0, 0.5, (T, 3))
    return q, forward_kinematics(sk.parents, rot.quat_to_matrix(q), trans)[1]


def test_solver_follows_the_protocol():
    assert isinstance(AnalyticIKSolver(), RotationSolver)


def test_rotations_of_multi_child_joints_are_recovered_exactly():
    rng = np.random.default_rng(0)
    sk = _branching_rig(rng)
    q, pos = _pose(sk, rng, 20)
    ref_q, ref_pos = _pose(sk, rng, 1)
    solver = AnalyticIKSolver()
    solver.reset(sk, ref_pos[0], ref_q[0])
    out = solver.solve(pos)
    inner = np.array([len(sk.children(j)) >= 2 for j in range(sk.num_joints)])
    assert inner.sum() >= 10
    err = rot.quat_geodesic_angle(out, q)
    assert err[:, inner].max() < 1e-6
    # Leaves keep the reference's local rotation.
    np.testing.assert_allclose(rot.quat_geodesic_angle(out[:, ~inner], np.broadcast_to(ref_q[0][~inner], out[:, ~inner].shape)), 0.0, atol=1e-7)


def test_fk_of_solution_reproduces_positions_on_procedural_rigs():
    ds = MotionDataset(seed=5, window=16, pool_size=64)
    solver = AnalyticIKSolver()
    for i in range(25):
        s = ds[i]
        sk = s.skeleton
        solver.reset(sk, s.ref_positions, s.ref_rotations)
        out = solver.solve(s.positions)
        trans = np.broadcast_to(sk.rest_translations, out.shape[:2] + (3,)).copy()
        trans[:, 0] = s.positions[:, 0]
        _, pos = forward_kinematics(sk.parents, rot.quat_to_matrix(out), trans)
        assert np.abs(pos - s.positions).max() < 1e-6 * sk.height
        # Swing is exact; only twist of single-child joints (and leaves) can differ.
        det = determined_joints(sk)
        assert det.sum() > 0


def test_twist_comes_from_the_reference_pose():
    """A chain rotated only about its own bones: the solver keeps the reference twist."""
    sk = Skeleton(("a", "b", "c"), np.array([-1, 0, 1]), np.array([[0, 0, 0], [0, 1.0, 0], [0, 1.0, 0]]), rot.quat_identity((3,)))
    twist = rot.axis_angle_to_quat(np.array([[0, 0.7, 0], [0, -0.4, 0], [0, 0, 0]]))
    pos = forward_kinematics(sk.parents, rot.quat_to_matrix(twist)[None], sk.rest_translations)[1]
    solver = AnalyticIKSolver()
    solver.reset(sk, pos[0], twist)
    np.testing.assert_allclose(rot.quat_geodesic_angle(solver.step(pos[0]), twist), 0.0, atol=1e-9)
    solver.reset(sk, pos[0], rot.quat_identity((3,)))
    np.testing.assert_allclose(rot.quat_geodesic_angle(solver.step(pos[0]), rot.quat_identity((3,))), 0.0, atol=1e-9)


def test_step_equals_solve_and_noise_degrades_gracefully():
    rng = np.random.default_rng(1)
    sk = _branching_rig(rng)
    q, pos = _pose(sk, rng, 8)
    solver = AnalyticIKSolver()
    solver.reset(sk, pos[0], q[0])
    full = solver.solve(pos)
    steps = np.stack([solver.step(p) for p in pos])
    np.testing.assert_allclose(rot.quat_geodesic_angle(full, steps), 0.0, atol=1e-9)
    noisy = solver.solve(pos + rng.normal(0, 0.005 * sk.height, pos.shape))
    inner = determined_joints(sk)
    assert np.degrees(rot.quat_geodesic_angle(noisy, q)[:, inner]).mean() < 10.0


def test_errors():
    solver = AnalyticIKSolver()
    with pytest.raises(RuntimeError, match="reset"):
        solver.solve(np.zeros((1, 3, 3)))
    sk = Skeleton(("a", "b"), np.array([-1, 0]), np.array([[0, 0, 0], [0, 1.0, 0]]), rot.quat_identity((2,)))
    with pytest.raises(ValueError):
        solver.reset(sk, np.zeros((2, 3)), np.zeros((3, 4)))
    solver.reset(sk, np.zeros((2, 3)), rot.quat_identity((2,)))
    with pytest.raises(ValueError, match="positions"):
        solver.solve(np.zeros((4, 3, 3)))
    np.testing.assert_array_equal(determined_joints(sk), [True, False])


def test_translated_children_are_no_rotation_cue():
    """A static root whose only child (the hips) is moved by translation keeps the reference rotation."""
    sk = Skeleton(("root", "hips", "spine"), np.array([-1, 0, 1]), np.array([[0, 0, 0], [0, 1.0, 0], [0, 0.5, 0]]), rot.quat_identity((3,)))
    q = rot.quat_identity((5, 3))
    q[:, 1] = rot.axis_angle_to_quat(np.array([0.3, 0, 0]) * np.arange(5)[:, None])
    trans = np.broadcast_to(sk.rest_translations, (5, 3, 3)).copy()
    trans[:, 1] += np.array([0.2, -0.1, 0.3]) * (1 + np.arange(5))[:, None]  # hips slide away from rest
    pos = forward_kinematics(sk.parents, rot.quat_to_matrix(q), trans)[1]
    solver = AnalyticIKSolver()
    solver.reset(sk, pos[0], q[0])
    out = solver.solve(pos[1:])
    np.testing.assert_allclose(rot.quat_geodesic_angle(out, q[1:]), 0.0, atol=1e-9)
    assert not determined_joints(sk, trans)[0] and determined_joints(sk)[0]


def test_coincident_children_do_not_invent_a_twist():
    """A hand whose finger roots all sit at one offset (glTF rigs do this) keeps the reference twist."""
    names = ("arm", "pad", "hand", "f1", "f2", "f3", "t1", "t2", "t3")
    parents = np.array([-1, 0, 0, 2, 2, 2, 3, 4, 5])
    trans = np.array(
        [[0, 0, 0], [0.3, 0, 0], [0, 1.0, 0], [0, 0.3, 0], [0, 0.3, 0], [0, 0.3, 0], [0.1, 0.2, 0], [0, 0.2, 0], [-0.1, 0.2, 0]]
    )
    rng = np.random.default_rng(2)
    sk = Skeleton(names, parents, trans, rot.axis_angle_to_quat(rng.normal(0, 0.5, (9, 3))))
    ref = rot.quat_multiply(sk.rest_rotations, rot.axis_angle_to_quat(rng.normal(0, 0.4, (9, 3))))
    pose = ref.copy()
    pose[0] = rot.axis_angle_to_quat(np.array([0.4, -0.9, 0.3]))  # the arm (multi-child, exact) moves
    ref_pos = forward_kinematics(sk.parents, rot.quat_to_matrix(ref), sk.rest_translations)[1]
    pos = forward_kinematics(sk.parents, rot.quat_to_matrix(pose), sk.rest_translations)[1]
    solver = AnalyticIKSolver()
    solver.reset(sk, ref_pos, ref)
    np.testing.assert_allclose(rot.quat_geodesic_angle(solver.step(pos), pose), 0.0, atol=1e-7)


def test_known_noise_level_shrinks_towards_the_reference():
    ds = MotionDataset(seed=9, split="val", window=16, pool_size=16)
    rng = np.random.default_rng(0)
    raw_err, shrunk_err = [], []
    for i in range(12):
        s = ds[i]
        noisy = s.positions + rng.normal(0, 0.01 * s.skeleton.height, s.positions.shape)
        det = determined_joints(s.skeleton)
        for solver, out in ((AnalyticIKSolver(), raw_err), (AnalyticIKSolver(position_noise=0.01), shrunk_err)):
            solver.reset(s.skeleton, s.ref_positions, s.ref_rotations)
            out.append(np.degrees(rot.quat_geodesic_angle(solver.solve(noisy), s.rotations))[:, det].mean())
    assert np.mean(shrunk_err) < 0.8 * np.mean(raw_err)
    with pytest.raises(ValueError, match="position_noise"):
        AnalyticIKSolver(position_noise=-1.0)


def test_a_nearly_collinear_extra_child_does_not_roll_the_joint() -> None:
    """The snake's root has its spine behind and its head 4 cm ahead, 2 mm above the spine's axis:
    millimetres of noise on the head must not roll the root (it rolled the whole snake 87 deg on
    live positions when that child fixed the twist); the twist stays the reference's."""
    from engine.kinematics import forward_kinematics
    from engine.rigs.bundled import load_bundled_rig

    rig = load_bundled_rig("snake")
    sk = rig.skeleton
    ref = rig.reference_rotations()
    _, ref_pos = forward_kinematics(sk.parents, rot.quat_to_matrix(ref), sk.rest_translations)
    solver = AnalyticIKSolver()
    solver.reset(sk, ref_pos, ref)
    noisy = ref_pos.copy()
    noisy[sk.index("Head")] += [-0.005, -0.008, 0.0]  # 5 mm left, 8 mm down
    noisy[sk.index("Jaw")] += [-0.005, -0.008, 0.0]
    root = solver.step(noisy)[sk.index("Spine01")]
    assert np.degrees(rot.quat_geodesic_angle(root, ref[sk.index("Spine01")])) < 1.0
