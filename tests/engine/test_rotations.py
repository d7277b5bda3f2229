"""Rotation conversions against scipy, including edge cases (180 degrees, gimbal lock, unnormalised input)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from engine import rotations as rot

N = 500


@pytest.fixture(scope="module")
def rand_rot() -> Rotation:
    r = Rotation.random(N, random_state=7)
    # Edge cases: identity, 180-degree turns about each axis and a diagonal, tiny angles.
    extra = Rotation.from_rotvec(
        np.array([[0, 0, 0], [np.pi, 0, 0], [0, np.pi, 0], [0, 0, np.pi], [np.pi / np.sqrt(3)] * 3, [1e-9, 0, 0], [0, 1e-7, 0]])
    )
    return Rotation.concatenate([r, extra])


def _same_quat(a: np.ndarray, b: np.ndarray, atol: float = 1e-9) -> None:
    dots = np.abs(np.sum(a * b, axis=-1))
    np.testing.assert_allclose(dots, 1.0, atol=atol)


def test_quat_matrix_round_trip_matches_scipy(rand_rot: Rotation) -> None:
    q = rand_rot.as_quat()
    np.testing.assert_allclose(rot.quat_to_matrix(q), rand_rot.as_matrix(), atol=1e-12)
    _same_quat(rot.matrix_to_quat(rand_rot.as_matrix()), q)


def test_quat_to_matrix_accepts_unnormalised_input(rand_rot: Rotation) -> None:
    q = rand_rot.as_quat() * np.linspace(0.1, 10, len(rand_rot))[:, None]
    np.testing.assert_allclose(rot.quat_to_matrix(q), rand_rot.as_matrix(), atol=1e-12)


def test_matrix_to_quat_projects_noisy_matrices(rand_rot: Rotation) -> None:
    noisy = rand_rot.as_matrix() + np.random.default_rng(0).normal(scale=1e-4, size=(len(rand_rot), 3, 3))
    q = rot.matrix_to_quat(noisy)
    assert np.all(np.degrees(rot.quat_geodesic_angle(q, rand_rot.as_quat())) < 0.05)
    np.testing.assert_allclose(np.linalg.norm(q, axis=-1), 1.0, atol=1e-12)


def test_sixd_round_trip_and_row_convention(rand_rot: Rotation) -> None:
    m = rand_rot.as_matrix()
    d6 = rot.matrix_to_sixd(m)
    np.testing.assert_allclose(d6[:, :3], m[:, 0, :])  # first row
    np.testing.assert_allclose(d6[:, 3:], m[:, 1, :])  # second row
    np.testing.assert_allclose(rot.sixd_to_matrix(d6), m, atol=1e-12)
    _same_quat(rot.sixd_to_quat(rot.quat_to_sixd(rand_rot.as_quat())), rand_rot.as_quat())


def test_sixd_to_matrix_orthonormalises_arbitrary_input() -> None:
    d6 = np.random.default_rng(1).normal(size=(100, 6))
    m = rot.sixd_to_matrix(d6)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)


def test_axis_angle_matches_scipy(rand_rot: Rotation) -> None:
    v = rand_rot.as_rotvec()
    _same_quat(rot.axis_angle_to_quat(v), rand_rot.as_quat())
    back = rot.quat_to_axis_angle(rand_rot.as_quat())
    # 180-degree rotations have two valid rotation vectors (v and -v).
    np.testing.assert_allclose(rot.axis_angle_to_matrix(back), rand_rot.as_matrix(), atol=1e-9)
    np.testing.assert_allclose(rot.matrix_to_axis_angle(rand_rot.as_matrix())[:N], v[:N], atol=1e-9)


@pytest.mark.parametrize("order", rot.EULER_ORDERS)
def test_euler_matches_scipy_intrinsic(order: str, rand_rot: Rotation) -> None:
    angles = rand_rot.as_euler(order)
    np.testing.assert_allclose(rot.euler_to_matrix(angles, order), rand_rot.as_matrix(), atol=1e-12)
    ours = rot.matrix_to_euler(rand_rot.as_matrix(), order)
    np.testing.assert_allclose(rot.euler_to_matrix(ours, order), rand_rot.as_matrix(), atol=1e-9)
    np.testing.assert_allclose(ours[:N], angles[:N], atol=1e-9)
    deg = rot.quat_to_euler(rand_rot.as_quat(), order, degrees=True)
    _same_quat(rot.euler_to_quat(deg, order, degrees=True), rand_rot.as_quat())


@pytest.mark.parametrize("order", rot.EULER_ORDERS)
def test_euler_gimbal_lock_reconstructs_matrix(order: str) -> None:
    angles = np.array([[0.3, np.pi / 2, 0.7], [-1.2, -np.pi / 2, 2.0], [2.5, np.pi / 2 - 1e-9, -0.4]])
    m = rot.euler_to_matrix(angles, order)
    back = rot.matrix_to_euler(m, order)
    np.testing.assert_allclose(rot.euler_to_matrix(back, order), m, atol=1e-7)
    assert np.all(np.abs(back[:, 1]) <= np.pi / 2 + 1e-12)


def test_bad_euler_order_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="Euler order"):
        rot.euler_to_matrix(np.zeros(3), "XXY")


def test_multiply_apply_conjugate_match_scipy(rand_rot: Rotation) -> None:
    other = Rotation.random(len(rand_rot), random_state=3)
    _same_quat(rot.quat_multiply(rand_rot.as_quat(), other.as_quat()), (rand_rot * other).as_quat())
    v = np.random.default_rng(2).normal(size=(len(rand_rot), 3))
    np.testing.assert_allclose(rot.quat_apply(rand_rot.as_quat(), v), rand_rot.apply(v), atol=1e-12)
    _same_quat(rot.quat_conjugate(rand_rot.as_quat()), rand_rot.inv().as_quat())


def test_geodesic_angle_matches_scipy_magnitude(rand_rot: Rotation) -> None:
    other = Rotation.random(len(rand_rot), random_state=4)
    expected = (rand_rot.inv() * other).magnitude()
    np.testing.assert_allclose(rot.geodesic_angle(rand_rot.as_matrix(), other.as_matrix()), expected, atol=1e-9)
    np.testing.assert_allclose(rot.quat_geodesic_angle(rand_rot.as_quat(), -other.as_quat()), expected, atol=1e-9)
    np.testing.assert_allclose(rot.quat_geodesic_angle(rand_rot.as_quat(), rand_rot.as_quat()), 0.0, atol=1e-7)


def test_slerp_matches_scipy() -> None:
    from scipy.spatial.transform import Slerp

    a = Rotation.random(50, random_state=5)
    b = Rotation.random(50, random_state=6)
    for t in (0.0, 0.25, 0.5, 1.0):
        expected = [Slerp([0, 1], Rotation.concatenate([a[i], b[i]]))(t).as_quat() for i in range(50)]
        _same_quat(rot.slerp(a.as_quat(), b.as_quat(), t), np.array(expected), atol=1e-9)
    # Nearly identical endpoints do not divide by zero.
    q = a.as_quat()
    assert np.isfinite(rot.slerp(q, q, 0.3)).all()


def test_swing_twist_recomposes_and_twist_is_about_axis(rand_rot: Rotation) -> None:
    axis = np.random.default_rng(3).normal(size=(len(rand_rot), 3))
    swing, twist = rot.swing_twist(rand_rot.as_quat(), axis)
    _same_quat(rot.quat_multiply(swing, twist), rand_rot.as_quat(), atol=1e-9)
    unit = axis / np.linalg.norm(axis, axis=-1, keepdims=True)
    np.testing.assert_allclose(np.cross(twist[:, :3], unit), 0.0, atol=1e-9)
    # The swing moves the axis the same way the full rotation does.
    np.testing.assert_allclose(rot.quat_apply(swing, unit), rand_rot.apply(unit), atol=1e-9)


def test_swing_twist_of_pure_twist_and_180_swing() -> None:
    q = Rotation.from_rotvec([0, 0, 1.0]).as_quat()
    swing, twist = rot.swing_twist(q, np.array([0, 0, 1.0]))
    _same_quat(swing, rot.quat_identity(), atol=1e-12)
    _same_quat(twist, q)
    q180 = Rotation.from_rotvec([np.pi, 0, 0]).as_quat()
    swing, twist = rot.swing_twist(q180, np.array([0, 0, 1.0]))
    _same_quat(twist, rot.quat_identity())
    _same_quat(swing, q180)


def test_quat_between_maps_directions_including_opposite() -> None:
    rng = np.random.default_rng(4)
    u = rng.normal(size=(200, 3))
    v = rng.normal(size=(200, 3))
    v[0] = -u[0]
    v[1] = u[1] * 3.0
    q = rot.quat_between(u, v)
    un = u / np.linalg.norm(u, axis=-1, keepdims=True)
    vn = v / np.linalg.norm(v, axis=-1, keepdims=True)
    np.testing.assert_allclose(rot.quat_apply(q, un), vn, atol=1e-9)


def test_functions_do_not_modify_input_and_keep_batch_shape() -> None:
    q = Rotation.random(12, random_state=8).as_quat().reshape(3, 4, 4)
    q_copy = q.copy()
    assert rot.quat_to_matrix(q).shape == (3, 4, 3, 3)
    assert rot.matrix_to_euler(rot.quat_to_matrix(q), "ZXY").shape == (3, 4, 3)
    assert rot.quat_to_sixd(q).shape == (3, 4, 6)
    np.testing.assert_array_equal(q, q_copy)
