"""Metrics of the live evaluation: known answers on constructed tracks."""

from __future__ import annotations

import numpy as np

from engine import rotations as rot
from engine.evaluation.live_metrics import bone_length_cv, camera_frame_targets, jitter_ms2, mpjpe_cm, pa_mpjpe_cm, rotation_error_deg
from engine.performer import performer_index, performer_rest_positions


def _track(T: int = 10) -> np.ndarray:
    rest = performer_rest_positions()
    return np.stack([rest + [0.01 * t, 0.0, 0.0] for t in range(T)])


def test_mpjpe_is_zero_on_itself_and_counts_only_found_frames() -> None:
    gt = _track()
    assert mpjpe_cm(gt, gt) == 0.0
    pred = gt.copy()
    pred[:, 5] += [0.0, 0.1, 0.0]  # 10 cm on one joint of 28
    assert abs(mpjpe_cm(pred, gt) - 10.0 / 28) < 1e-9
    found = np.zeros(len(gt), bool)
    found[3] = True
    pred[4] += 5.0  # a lost frame full of garbage does not count
    assert abs(mpjpe_cm(pred, gt, found) - 10.0 / 28) < 1e-9


def test_pa_mpjpe_ignores_rotation_and_scale_but_not_shape() -> None:
    gt = _track(3)
    r = rot.axis_angle_to_matrix(np.array([0.3, -1.0, 0.2]))
    turned = 1.3 * gt @ r.T
    assert pa_mpjpe_cm(turned, gt) < 1e-6
    assert mpjpe_cm(turned, gt) > 10.0
    bent = gt.copy()
    bent[:, 8] += [0.0, -0.2, 0.0]
    assert pa_mpjpe_cm(bent, gt) > 0.3


def test_jitter_is_zero_for_constant_velocity_and_measures_noise() -> None:
    found = np.ones(10, bool)
    assert jitter_ms2(_track(), found, 30.0) < 1e-9
    shaky = _track()
    shaky[5] += [0.0, 0.01, 0.0]  # a 1 cm spike at 30 fps: accelerations of 9, 18, 9 m/s^2 around it
    assert abs(jitter_ms2(shaky, found, 30.0) - (9 + 18 + 9) / 8) < 1e-6
    found[5] = False  # triples touching a lost frame are skipped
    assert jitter_ms2(shaky, found, 30.0) < 1e-9


def test_bone_length_cv_zero_for_rigid_motion_positive_for_stretch() -> None:
    found = np.ones(10, bool)
    assert max(bone_length_cv(_track(), found).values()) < 1e-9
    stretched = _track()
    stretched[::2, performer_index("left_lower_arm")] *= 1.1  # the elbow moves out every other frame
    cv = bone_length_cv(stretched, found)
    assert cv["left_lower_arm"] > 0.01 and cv["right_lower_arm"] < 1e-9


def test_rotation_error_degrees() -> None:
    q = np.tile(rot.quat_identity(), (4, 3, 1))
    turned = q.copy()
    turned[:, 1] = rot.axis_angle_to_quat(np.array([0.0, np.radians(30.0), 0.0]))
    err = rotation_error_deg(turned, q, [0, 1])
    assert abs(err["mean"] - 15.0) < 1e-6 and abs(err["per_joint"][1] - 30.0) < 1e-6


def test_camera_frame_targets_for_a_camera_in_front() -> None:
    # Camera on +Z looking at -Z: right = +X, down = -Y, view = -Z; internal frame = world frame.
    R = np.stack([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]], axis=-1)
    gt = _track(2)
    out = camera_frame_targets(gt, R)
    np.testing.assert_allclose(out, gt - gt[:, :1], atol=1e-12)
