"""Hand landmarks -> finger curl, spread and thumb opposition."""

from __future__ import annotations

import numpy as np
import pytest

from engine.face_hands.fingers import finger_pose


def flat_hand(bend: float = 0.0, spread_index: float = 0.0) -> np.ndarray:
    """(21, 3) a flat hand in the x-y plane (fingers along +y), each long-finger joint bent by ``bend`` toward +z."""
    p = np.zeros((21, 3))
    knuckles_x = {1: 0.03, 2: 0.01, 3: -0.01, 4: -0.03}  # index, middle, ring, little
    for f, x in knuckles_x.items():
        base = 1 + 4 * f
        p[base] = (x, 0.08, 0.0)
        direction = np.array([0.0, 1.0, 0.0])
        if f == 1 and spread_index:
            direction = np.array([np.sin(spread_index), np.cos(spread_index), 0.0])
        point = p[base].copy()
        for k in range(1, 4):
            angle = bend * k
            d = np.array([direction[0], direction[1] * np.cos(angle), np.sin(angle)])
            point = point + 0.025 * d / np.linalg.norm(d)
            p[base + k] = point
    # thumb: in the palm plane, out to +x and up
    for k, q in enumerate([(0.02, 0.02, 0.0), (0.045, 0.04, 0.0), (0.06, 0.06, 0.0), (0.07, 0.08, 0.0)]):
        p[1 + k] = q
    return p


def test_a_flat_hand_is_straight() -> None:
    pose = finger_pose(flat_hand())
    np.testing.assert_allclose(pose.curl[1:], 0.0, atol=1e-6)
    np.testing.assert_allclose(pose.spread[1:], 0.0, atol=1e-6)
    assert pose.thumb_opposition == pytest.approx(0.0, abs=1e-6)


def test_bent_fingers_give_their_joint_angles() -> None:
    pose = finger_pose(flat_hand(bend=0.4))
    # joint k's segment is bent 0.4 * k from the palm line, so each joint adds 0.4 rad
    np.testing.assert_allclose(pose.curl[1:], 0.4, atol=1e-6)


def test_spread_is_relative_to_the_middle_finger() -> None:
    pose = finger_pose(flat_hand(spread_index=0.2))
    assert pose.spread[1] == pytest.approx(0.2, abs=1e-6) and pose.spread[3] == pytest.approx(0.0, abs=1e-6)


def test_bad_input_is_named() -> None:
    with pytest.raises(ValueError, match=r"\(21, 3\)"):
        finger_pose(np.zeros((20, 3)))
