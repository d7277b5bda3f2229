from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.model.p2r import P2RModel
from engine.solvers.learned_p2r import DEFAULT_P2R_WEIGHTS, P2RSolver
from engine.model.weights import weights_paths
from engine.solvers.base import RotationSolver

from tests.engine.model.conftest import TINY_P2R, randomize, skeletons  # noqa: F401 (skeletons is a fixture)


def _motion(skeleton, T: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    quats = rot.axis_angle_to_quat(rng.normal(0, 0.3, (T, skeleton.num_joints, 3)))
    trans = np.broadcast_to(skeleton.rest_translations, (T, skeleton.num_joints, 3)).copy()
    trans[:, 0] += rng.normal(0, 1.0, (T, 3))  # root translation must not matter
    return forward_kinematics(skeleton.parents, rot.quat_to_matrix(quats), trans)[1]


def test_solver_protocol_step_equals_solve(skeletons) -> None:
    sk = skeletons[1]
    solver = P2RSolver(randomize(P2RModel(TINY_P2R)))
    assert isinstance(solver, RotationSolver)
    with pytest.raises(RuntimeError, match="reset"):
        solver.step(np.zeros((sk.num_joints, 3)))
    solver.reset(sk, sk.rest_positions(), sk.rest_rotations)
    pos = _motion(sk, 3 * TINY_P2R.window, 0)
    clip = solver.solve(pos)
    steps = np.stack([solver.step(p) for p in pos])
    assert clip.shape == (len(pos), sk.num_joints, 4)
    np.testing.assert_allclose(np.linalg.norm(clip, axis=-1), 1.0, atol=1e-9)
    assert np.degrees(rot.quat_geodesic_angle(steps, clip)).max() < 0.05
    with pytest.raises(ValueError, match="non-finite"):
        solver.step(np.full((sk.num_joints, 3), np.nan))
    with pytest.raises(ValueError, match="J="):
        solver.solve(pos[:, :3])


def test_untrained_solver_returns_the_reference_rotations(skeletons) -> None:
    sk = skeletons[0]
    solver = P2RSolver(P2RModel(TINY_P2R))
    ref = rot.axis_angle_to_quat(np.random.default_rng(3).normal(0, 0.4, (sk.num_joints, 3)))
    ref_pos = forward_kinematics(sk.parents, rot.quat_to_matrix(ref), sk.rest_translations)[1]
    solver.reset(sk, ref_pos, ref)
    out = solver.step(ref_pos)
    assert np.degrees(rot.quat_geodesic_angle(out, ref)).max() < 1e-3


@pytest.mark.skipif(not weights_paths(DEFAULT_P2R_WEIGHTS)[0].is_file(), reason="no shipped P2R weights yet")
def test_shipped_weights_load_and_run(skeletons) -> None:
    solver = P2RSolver.from_weights()
    sk = skeletons[1]
    solver.reset(sk, sk.rest_positions(), sk.rest_rotations)
    out = solver.solve(_motion(sk, 10, 1))
    assert out.shape == (10, sk.num_joints, 4) and np.isfinite(out).all()


def test_reset_on_the_same_rig_keeps_the_session_and_forgets_the_history(skeletons) -> None:
    """Rebinding the same rig (the live processor does after its warm-up) must not rebuild the
    session (that would recompile a compiled step) yet must start from a clean history."""
    sk = skeletons[0]
    ref = sk.rest_positions()
    solver = P2RSolver(randomize(P2RModel(TINY_P2R)))
    solver.reset(sk, ref, sk.rest_rotations)
    session = solver._session
    moved = ref + np.random.default_rng(0).normal(0, 0.05, ref.shape)
    first = solver.step(moved)
    solver.step(ref)
    solver.reset(sk, ref, sk.rest_rotations)
    assert solver._session is session and session.frames_seen == 0
    np.testing.assert_array_equal(solver.step(moved), first)
    solver.reset(sk, moved, sk.rest_rotations)  # another reference pose: a new session
    assert solver._session is not session


def _head_yaw_deg(solver: P2RSolver, hints: np.ndarray | None) -> tuple[float, float]:
    """The humanoid Head's yaw and the Chest's turn (degrees) after 10 steps at the reference pose."""
    from engine.rigs.bundled import load_bundled_rig

    sk = load_bundled_rig("humanoid").skeleton
    ref = load_bundled_rig("humanoid").reference_rotations()
    W, P = forward_kinematics(sk.parents, rot.quat_to_matrix(ref), sk.rest_translations)
    solver.reset(sk, P, ref)
    for _ in range(10):
        q = solver.step(P, None if hints is None else hints(W, sk))
    out, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(q), sk.rest_translations)
    head, chest = sk.index("Head"), sk.index("Chest")
    _, twist = rot.swing_twist(rot.matrix_to_quat(out[head] @ W[head].T), np.array([0.0, 1.0, 0.0]))
    return float(np.degrees(2 * np.arctan2(twist[1], twist[3]))), float(np.degrees(rot.geodesic_angle(out[chest], W[chest])))


@pytest.mark.skipif(not weights_paths(DEFAULT_P2R_WEIGHTS)[0].is_file(), reason="no shipped P2R weights")
def test_the_shipped_p2r_turns_a_head_toward_its_hint() -> None:
    """The shipped weights read orientation hints: a 40 deg yaw hinted on the Head turns it that way
    (partly: the learned trust is about 0.2, README), and the unhinted Chest stays."""
    solver = P2RSolver.from_weights()
    assert solver.takes_hints

    def hints(W, sk):
        out = np.zeros((sk.num_joints, 7))
        out[:, 0] = out[:, 4] = 1.0
        j = sk.index("Head")
        out[j, :6] = (rot.axis_angle_to_matrix(np.array([0.0, np.radians(40.0), 0.0])) @ W[j])[:2].reshape(6)
        out[j, 6] = 1.0
        return out

    yaw_free, _ = _head_yaw_deg(solver, None)
    yaw, chest = _head_yaw_deg(solver, hints)
    assert abs(yaw_free) < 1.0 and yaw > 2.5 and chest < 1.0
