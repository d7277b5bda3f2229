"""The hand landmarker's palm: which hand a reading is (chirality), and its axes in the camera's frame."""

import numpy as np
import pytest

from engine import rotations as rot
from engine.face_hands.hand_orientation import CHIRALITY, clearly_side, hand_chirality, palm_axes


def _right_hand(curl: float = 0.5) -> np.ndarray:
    """21 landmarks (MediaPipe hand axes: x right, y down, z away) of a right hand held up with its
    palm to the camera: thumb and index on the image's right, fingers bent toward the camera by ``curl`` rad."""
    w = np.zeros((21, 3))
    bases = {1: 0.045, 5: 0.03, 9: 0.008, 13: -0.012, 17: -0.03}  # x of each finger's base (thumb CMC first)
    for k, (base, x) in enumerate(bases.items()):
        if k == 0:
            w[1] = [0.03, -0.02, 0.0]
            for j in (2, 3, 4):
                w[j] = w[j - 1] + 0.025 * np.array([0.6, -0.6, -np.sin(curl)])
            continue
        w[base] = [x, -0.085 + 0.005 * abs(x) / 0.03, 0.0]
        for j in (1, 2, 3):
            angle = curl * j
            d = np.array([0.0, -np.cos(angle), -np.sin(angle)])
            w[base + j] = w[base + j - 1] + 0.03 * d
    return w


def _left_hand(curl: float = 0.5) -> np.ndarray:
    return _right_hand(curl) * np.array([-1.0, 1.0, 1.0])  # the mirror image


def test_a_bent_hand_shows_which_hand_it_is_and_its_mirror_image_the_other():
    assert np.sign(hand_chirality(_right_hand())) == CHIRALITY["right"]
    assert np.sign(hand_chirality(_left_hand())) == CHIRALITY["left"]
    assert clearly_side(_right_hand(), "right") and not clearly_side(_right_hand(), "left")
    assert clearly_side(_left_hand(), "left") and not clearly_side(_left_hand(), "right")
    mirrored_depth = _left_hand() * np.array([1.0, 1.0, -1.0])  # a left hand read with its depth reversed
    assert not clearly_side(mirrored_depth, "left")


def test_the_check_holds_whichever_way_the_hand_is_turned():
    for axis_angle in ([0.0, 2.5, 0.0], [1.2, 0.0, 0.4], [0.0, 0.0, 3.0], [-0.7, 1.9, 0.2]):
        R = rot.axis_angle_to_matrix(np.array(axis_angle))
        assert clearly_side(_left_hand() @ R.T, "left"), axis_angle
        assert clearly_side(_right_hand() @ R.T, "right"), axis_angle


def test_a_flat_hand_is_not_clearly_either_hand():
    assert abs(hand_chirality(_right_hand(curl=0.0))) < 0.3
    assert not clearly_side(_right_hand(curl=0.0), "right") and not clearly_side(_right_hand(curl=0.0), "left")


def test_palm_axes_are_in_the_internal_camera_frame():
    along, across = palm_axes(_right_hand(), np.eye(3))
    assert along == pytest.approx([0.0, 1.0, 0.0], abs=0.05)  # fingers up (MediaPipe y is down)
    assert across == pytest.approx([1.0, 0.0, 0.0], abs=0.05)  # pinky -> index: toward the image's right
    view = rot.axis_angle_to_matrix(np.array([0.0, 0.3, 0.0]))
    turned = palm_axes(_right_hand(), view)
    assert turned[1] == pytest.approx(view @ across, abs=1e-9)


def test_a_hand_read_with_its_depth_reversed_does_not_continue_a_forearm_that_points_at_the_camera():
    from engine.face_hands.hand_orientation import continues_forearm

    tilt = rot.axis_angle_to_matrix(np.array([np.radians(60.0), 0.0, 0.0]))  # fingers up and toward the camera
    hand = _right_hand() @ tilt.T
    forearm = tilt @ np.array([0.0, -1.0, 0.0]) * np.array([1.0, -1.0, -1.0])  # the fingers' direction, internal axes
    assert forearm[2] > 0.3  # toward the camera
    assert continues_forearm(hand, np.eye(3), forearm)
    assert not continues_forearm(hand * np.array([1.0, 1.0, -1.0]), np.eye(3), forearm)
    sideways = np.array([1.0, 0.0, 0.0])  # a forearm in the image plane shows nothing about depth
    assert continues_forearm(hand, np.eye(3), sideways) and continues_forearm(hand * np.array([1.0, 1.0, -1.0]), np.eye(3), sideways)
