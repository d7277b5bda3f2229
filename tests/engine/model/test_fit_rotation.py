from __future__ import annotations

import numpy as np
from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.model.fit_rotation import FitPlan, shortest_arc
from engine.model.rig_tensors import build_rig_tensors
from engine.skeleton import Skeleton


def _fit(sk: Skeleton, quats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fitted and true world deltas (reference = rest) for one posed frame."""
    rig = build_rig_tensors(sk)
    pos = forward_kinematics(sk.parents, rot.quat_to_matrix(quats), sk.rest_translations)
    ref = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)
    plan = FitPlan.build(ref[1][None] / sk.height, rig.parents, rig.child1, rig.child2, rig.depth)
    fit = plan.rotations((pos[1] / sk.height)[None, None])[0, 0]
    return fit, pos[0] @ np.swapaxes(ref[0], -1, -2)


def test_shortest_arc_turns_a_onto_b() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 20, 3))
    a, b = a / np.linalg.norm(a, axis=-1, keepdims=True), b / np.linalg.norm(b, axis=-1, keepdims=True)
    r = shortest_arc(a, b)
    np.testing.assert_allclose((r @ a[..., None])[..., 0], b, atol=1e-12)
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), (20, 3, 3)), atol=1e-12)


def test_hips_get_full_rotation_and_chains_inherit_twist() -> None:
    # Hips with two legs and a spine; the legs are straight chains (hip -> knee -> foot).
    parents = np.array([-1, 0, 1, 2, 0, 4, 5, 0])
    offsets = np.array([[0, 1, 0], [0.1, -0.05, 0], [0, -0.45, 0], [0, -0.45, 0], [-0.1, -0.05, 0], [0, -0.45, 0], [0, -0.45, 0], [0, 0.5, 0.0]])
    sk = Skeleton(tuple(f"j{i}" for i in range(8)), parents, offsets, rot.quat_identity((8,)))
    yaw = rot.axis_angle_to_quat(np.array([0.0, 1.2, 0.0]))
    quats = rot.quat_identity((8,))
    quats[0] = yaw  # the whole body turns about the vertical: every bone direction turns with it...
    fit, true = _fit(sk, quats)
    # ...and the vertical leg bones get the hips' yaw by inheritance, not a twist-free identity.
    np.testing.assert_allclose(fit, true, atol=1e-9)
    quats[2] = rot.axis_angle_to_quat(np.array([0.7, 0.0, 0.0]))  # bend a knee
    fit, true = _fit(sk, quats)
    np.testing.assert_allclose(fit[2], true[2], atol=1e-9)  # single child, no extra twist: exact
    np.testing.assert_allclose(fit[3], fit[2], atol=1e-12)  # a leaf copies its parent


def test_shortest_arc_stays_a_rotation_at_and_near_a_half_turn() -> None:
    """Chained fits multiply these matrices level by level: a non-rotation here once blew a
    training run up (values ~1e32), so flips must give proper rotations too."""
    rng = np.random.default_rng(0)
    a = rng.normal(size=(50, 3))
    a /= np.linalg.norm(a, axis=-1, keepdims=True)
    b = -a + rng.normal(0.0, 1e-5, a.shape)
    b /= np.linalg.norm(b, axis=-1, keepdims=True)
    b[:10] = -a[:10]  # exact half turns
    r = shortest_arc(a, b)
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
    np.testing.assert_allclose((r @ a[..., None])[..., 0], b, atol=1e-4)
    np.testing.assert_array_equal(shortest_arc(np.zeros((2, 3)), a[:2]), np.broadcast_to(np.eye(3), (2, 3, 3)))


def test_one_frame_path_equals_the_level_loop_with_flips_and_planar_joints() -> None:
    """The live step takes the scalar one-frame path, training the vectorised level loop: the two
    must give the same fit, including exact half turns, zero-length bones and planar joints."""
    from .conftest import random_skeleton

    sk = random_skeleton(40, seed=3)
    rig = build_rig_tensors(sk)
    ref = rig.ref_pos.numpy()
    plan = FitPlan.build(ref, rig.parents, rig.child1, rig.child2, rig.depth)
    rng = np.random.default_rng(0)
    frames = ref[:, None] + rng.normal(0.0, 0.05, (1, 6, sk.num_joints, 3))
    c1 = rig.child1[0].numpy()
    chain = np.flatnonzero((c1 != np.arange(sk.num_joints)) & ~plan.ref_planar)  # single-child rule joints
    j = chain[-1]
    frames[0, 1] = ref[0]  # every fit above j is the identity...
    frames[0, 1, c1[j]] = 2 * ref[0, j] - ref[0, c1[j]]  # ...and j's offset flips: an exact half turn
    frames[0, 2, c1[5]] = frames[0, 2, 5]  # a zero-length bone
    frames[0, 3] = ref[0]  # the reference itself: identity everywhere
    together = plan.rotations(frames)  # T = 6: the level loop
    for t in range(frames.shape[1]):
        alone = plan.rotations(frames[:, t : t + 1])  # T = 1: the scalar path
        np.testing.assert_allclose(alone[:, 0], together[:, t], atol=1e-12)
    rotations = together.reshape(-1, 3, 3)
    np.testing.assert_allclose(rotations @ np.swapaxes(rotations, -1, -2), np.broadcast_to(np.eye(3), rotations.shape), atol=1e-9)
    assert plan.ref_planar.any()  # the rig has planar joints, so both branches ran
