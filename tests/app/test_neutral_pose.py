"""Neutral-pose calibration: the performer's neutral maps onto the reference, lengths and body kept."""

from __future__ import annotations

import numpy as np
import pytest

from app.neutral_pose import CORRECTED_JOINTS, CalibratedRetarget, NeutralPose, reference_positions
from engine import rotations as rot
from engine.performer import PERFORMER_JOINTS, PERFORMER_PARENTS, performer_arms_down_positions, performer_index, performer_rest_positions
from engine.retarget.mapping import ChainMap, RetargetMap


def _bones(p: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(p[j] - p[q]) for j, q in enumerate(PERFORMER_PARENTS) if q >= 0])


def _wobble(p: np.ndarray, seed: int, scale: float = 0.05) -> np.ndarray:
    return p + np.random.default_rng(seed).normal(0.0, scale, p.shape)


def test_standing_in_the_neutral_pose_gives_the_reference() -> None:
    rest, down = performer_rest_positions(), performer_arms_down_positions()
    calib = NeutralPose(down, rest)
    np.testing.assert_allclose(calib.apply(down), rest, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_a_neutral_equal_to_the_reference_changes_nothing(seed: int) -> None:
    rest = performer_rest_positions()
    pose = _wobble(rest, seed)
    np.testing.assert_allclose(NeutralPose(rest, rest).apply(pose), pose, atol=1e-9)


@pytest.mark.parametrize("seed", range(5))
def test_bone_lengths_and_the_body_joints_are_kept(seed: int) -> None:
    neutral = _wobble(performer_arms_down_positions(), seed + 10)
    pose = _wobble(performer_rest_positions(), seed)
    out = NeutralPose(neutral, performer_rest_positions()).apply(pose)
    np.testing.assert_allclose(_bones(out), _bones(pose), atol=1e-9)
    for name in ("pelvis", "spine", "chest", "neck", "left_collar", "right_upper_arm", "left_upper_leg"):
        np.testing.assert_allclose(out[performer_index(name)], pose[performer_index(name)], atol=1e-12)
    moved = {PERFORMER_JOINTS[j] for j in np.flatnonzero(np.linalg.norm(out - pose, axis=1) > 1e-9)}
    assert moved and moved <= set(CORRECTED_JOINTS)


def test_turning_around_keeps_the_calibration() -> None:
    neutral = _wobble(performer_arms_down_positions(), 3, 0.03)
    pose = _wobble(performer_rest_positions(), 4, 0.03)
    calib = NeutralPose(neutral, performer_rest_positions())
    R = rot.axis_angle_to_matrix(np.array([0.0, 2.0, 0.0]))  # 2 rad about +Y
    np.testing.assert_allclose(calib.apply(pose @ R.T), calib.apply(pose) @ R.T, atol=1e-9)


def test_reference_follows_the_maps_arms_down_chains() -> None:
    m = RetargetMap(rig="quad", chains=[
        ChainMap(target=["a", "b"], source="left_arm", source_pose="arms_down"),
        ChainMap(target=["c", "d"], source="right_arm", source_pose="t_pose"),
    ])
    ref = reference_positions(m)
    down, rest = performer_arms_down_positions(), performer_rest_positions()
    for name in ("left_hand", "left_thumb", "left_lower_arm"):
        np.testing.assert_allclose(ref[performer_index(name)], down[performer_index(name)])
    for name in ("right_hand", "right_thumb"):
        np.testing.assert_allclose(ref[performer_index(name)], rest[performer_index(name)])
    np.testing.assert_allclose(reference_positions(None), rest)


def test_calibrated_retarget_feeds_the_corrected_performer() -> None:
    seen = []
    stage = CalibratedRetarget(lambda p: seen.append(p) or p[:3], NeutralPose(performer_arms_down_positions(), performer_rest_positions()))
    stage(performer_arms_down_positions())
    np.testing.assert_allclose(seen[0], performer_rest_positions(), atol=1e-9)


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="neutral"):
        NeutralPose(np.zeros((27, 3)), performer_rest_positions())
    with pytest.raises(ValueError, match="reference"):
        NeutralPose(performer_rest_positions(), np.full((28, 3), np.nan))
