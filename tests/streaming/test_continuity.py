"""No flips: hemisphere alignment and the angular speed limit."""

import numpy as np
import pytest

from engine import rotations as rot
from streaming.continuity import ContinuityConfig, RotationContinuity

FRAME_NS = 33_333_333


def _about_y(deg):
    return rot.axis_angle_to_quat(np.array([[0.0, np.radians(deg), 0.0]]))


def test_a_sign_flip_is_not_a_turn_and_the_output_keeps_the_previous_sign():
    c = RotationContinuity()
    first = c(_about_y(10.0), 0)
    second = c(-_about_y(12.0), FRAME_NS)
    assert np.sum(first * second) > 0
    assert np.degrees(rot.quat_geodesic_angle(second, _about_y(12.0)))[0] == pytest.approx(0.0, abs=1e-6)
    assert c.limited == 0


def test_a_flip_is_cut_to_the_speed_limit_and_completed_over_the_next_frames():
    c = RotationContinuity(ContinuityConfig(max_speed_deg_s=1500.0))
    c(_about_y(0.0), 0)
    out = [c(_about_y(170.0), k * FRAME_NS) for k in range(1, 5)]
    steps = [np.degrees(rot.quat_geodesic_angle(a, b))[0] for a, b in zip([_about_y(0.0)] + out, out)]
    assert max(steps) == pytest.approx(50.0, abs=0.1)  # 1500 deg/s at 30 fps
    assert np.degrees(rot.quat_geodesic_angle(out[-1], _about_y(170.0)))[0] < 1e-6
    assert c.limited == 3


def test_after_a_gap_or_reset_the_new_rotation_is_taken_as_it_is():
    c = RotationContinuity()
    c(_about_y(0.0), 0)
    assert np.allclose(c(_about_y(120.0), 2_000_000_000), _about_y(120.0))
    c.reset()
    assert np.allclose(c(_about_y(-60.0), 2_000_000_000 + FRAME_NS), _about_y(-60.0))


def test_bad_config_is_refused():
    with pytest.raises(ValueError, match="max_speed_deg_s"):
        RotationContinuity(ContinuityConfig(max_speed_deg_s=0.0))
