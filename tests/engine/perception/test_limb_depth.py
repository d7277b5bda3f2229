"""Arm depth from the arm's remembered length: a flattened arm raised toward the camera gets its depth back."""

from __future__ import annotations

import numpy as np
import pytest

from engine.perception.landmark_simulator import landmarks_from_performer
from engine.perception.landmarks import Landmark as L
from engine.perception.landmarks import LandmarkFrame, internal_to_world
from engine.perception.limb_depth import ArmDepth
from engine.performer import performer_arms_down_positions


def _relaxed() -> np.ndarray:
    return landmarks_from_performer(performer_arms_down_positions())


def _raise_left_arm_forward(points: np.ndarray, degrees: float, flatten: bool) -> np.ndarray:
    """The left arm (straight) swung forward about the shoulder's left-right axis; ``flatten``
    keeps MediaPipe's flattened depth: every moved point at the shoulder's depth."""
    p = points.copy()
    s = p[L.LEFT_SHOULDER]
    a = np.radians(degrees)
    turn = np.array([[1.0, 0.0, 0.0], [0.0, np.cos(a), np.sin(a)], [0.0, -np.sin(a), np.cos(a)]])  # -Y toward +Z (the front)
    arm = [int(L[f"LEFT_{n}"]) for n in ("ELBOW", "WRIST", "INDEX", "PINKY", "THUMB")]
    p[arm] = s + (p[arm] - s) @ turn.T
    if flatten:
        p[arm, 2] = s[2]
    return p


def test_a_relaxed_arm_is_left_alone_and_a_flattened_forward_raise_gets_its_depth_back() -> None:
    depth = ArmDepth()
    rest = _relaxed()
    assert np.array_equal(depth.restore(rest), rest)  # the length is learned from it, nothing moves
    for degrees in (50.0, 70.0):
        truth = _raise_left_arm_forward(rest, degrees, flatten=False)
        flat = _raise_left_arm_forward(rest, degrees, flatten=True)
        out = depth.restore(flat)
        upper = out[L.LEFT_ELBOW] - out[L.LEFT_SHOULDER]
        true_upper = truth[L.LEFT_ELBOW] - truth[L.LEFT_SHOULDER]
        # Its length again (the remembered one forgets 1e-4 a frame), forward, as far as the truth.
        assert np.linalg.norm(upper) == pytest.approx(np.linalg.norm(true_upper), rel=1e-3)
        assert upper[2] == pytest.approx(true_upper[2], rel=1e-2) and upper[2] > 0
        np.testing.assert_allclose(out[L.LEFT_WRIST], truth[L.LEFT_WRIST], atol=2e-3)  # the forearm follows
        np.testing.assert_array_equal(out[L.RIGHT_WRIST], flat[L.RIGHT_WRIST])  # the other arm untouched


def test_small_shortenings_are_left_to_mediapipe_and_its_sign_is_kept_when_it_has_depth() -> None:
    depth = ArmDepth()
    rest = _relaxed()
    depth.restore(rest)
    slight = _raise_left_arm_forward(rest, 20.0, flatten=True)  # implies 20 deg: below the ramp
    assert np.array_equal(depth.restore(slight), slight)
    back = _raise_left_arm_forward(rest, -60.0, flatten=False)  # pushed back, MediaPipe's depth about right ...
    half = back.copy()
    moved = [int(L[f"LEFT_{n}"]) for n in ("ELBOW", "WRIST", "INDEX", "PINKY", "THUMB")]
    half[moved, 2] = rest[L.LEFT_SHOULDER, 2] + 0.8 * (back[moved, 2] - rest[L.LEFT_SHOULDER, 2])  # ... but a bit short
    out = depth.restore(half)
    assert (out[L.LEFT_ELBOW] - out[L.LEFT_SHOULDER])[2] < (half[L.LEFT_ELBOW] - half[L.LEFT_SHOULDER])[2] < 0  # deeper, still back


def test_the_frame_adapter_keeps_image_landmarks_and_a_reset_forgets_the_lengths() -> None:
    rest = _relaxed()
    ones = np.ones(33)
    image = np.random.default_rng(0).uniform(size=(33, 3))
    depth = ArmDepth()
    depth(LandmarkFrame(internal_to_world(rest), image, ones, ones, True, 0))
    flat = _raise_left_arm_forward(rest, 70.0, flatten=True)
    out = depth(LandmarkFrame(internal_to_world(flat), image, ones, ones, True, 33))
    assert out.t_ms == 33 and np.array_equal(out.image, image)
    assert not np.allclose(out.world, internal_to_world(flat))
    depth.reset()
    again = depth(LandmarkFrame(internal_to_world(flat), image, ones, ones, True, 66))
    np.testing.assert_allclose(again.world, internal_to_world(flat))  # no remembered length: nothing to restore


def test_broken_landmarks_pass_through_and_are_not_remembered() -> None:
    """Overflowing or NaN landmarks are the next stages' to drop; the remembered lengths stay sane."""
    rest = _relaxed()
    ones = np.ones(33)
    depth = ArmDepth()
    depth(LandmarkFrame(internal_to_world(rest), np.zeros((33, 3)), ones, ones, True, 0))
    huge = rest.copy()
    huge[L.LEFT_ELBOW] = 1e308
    frame = LandmarkFrame(internal_to_world(huge), np.zeros((33, 3)), ones, ones, True, 33)  # finite, but overflows
    with np.errstate(over="ignore", invalid="ignore"):
        assert depth(frame) is frame
    flat = _raise_left_arm_forward(rest, 70.0, flatten=True)
    out = depth.restore(flat)
    assert 0.1 < np.linalg.norm(out[L.LEFT_ELBOW] - out[L.LEFT_SHOULDER]) < 0.5
