"""Hip translation from 2D-3D landmark correspondences recovers a known camera-space position."""

from __future__ import annotations

import numpy as np

from engine.perception.landmarks import LandmarkFrame
from engine.perception.root_motion import DEFAULT_FOV_DEG, estimate_hip_translation, root_offset_internal

W, H = 640, 480


def _frame(t: np.ndarray, seed: int = 0, noise_px: float = 0.0) -> LandmarkFrame:
    rng = np.random.default_rng(seed)
    world = rng.normal(scale=0.3, size=(33, 3))  # hip-centred body-sized cloud, metres
    world[:, 1] *= 2.5  # taller than wide
    focal = 0.5 * W / np.tan(0.5 * np.radians(DEFAULT_FOV_DEG))
    cam = world + t
    image = np.zeros((33, 3))
    image[:, 0] = 0.5 + (focal * cam[:, 0] / cam[:, 2] + rng.normal(scale=noise_px, size=33)) / W
    image[:, 1] = 0.5 + (focal * cam[:, 1] / cam[:, 2] + rng.normal(scale=noise_px, size=33)) / H
    ones = np.ones(33)
    return LandmarkFrame(world, image, ones, ones, True, 0)


def test_recovers_a_known_translation_exactly() -> None:
    for t in (np.array([0.0, 0.1, 3.0]), np.array([-0.8, -0.2, 2.2]), np.array([1.1, 0.4, 5.0])):
        np.testing.assert_allclose(estimate_hip_translation(_frame(t), (W, H)), t, atol=1e-9)


def test_pixel_noise_gives_centimetre_errors_and_motion_is_tracked() -> None:
    a = estimate_hip_translation(_frame(np.array([0.0, 0.0, 3.0]), noise_px=1.0), (W, H))
    b = estimate_hip_translation(_frame(np.array([0.5, 0.0, 3.0]), noise_px=1.0), (W, H))
    assert np.abs(a - [0, 0, 3.0]).max() < 0.1
    assert 0.4 < b[0] - a[0] < 0.6  # half a metre to the performer's right is seen as such


def test_no_person_or_too_few_visible_points_gives_none() -> None:
    frame = _frame(np.array([0.0, 0.0, 3.0]))
    assert estimate_hip_translation(LandmarkFrame.empty(0), (W, H)) is None
    hidden = LandmarkFrame(frame.world, frame.image, np.zeros(33), np.ones(33), True, 0)
    assert estimate_hip_translation(hidden, (W, H)) is None


def test_internal_frame_flips_y_and_z() -> None:
    np.testing.assert_allclose(root_offset_internal(np.array([0.2, 0.3, 3.0])), [0.2, -0.3, -3.0])
