"""The canonical performer: skeleton, rest poses, frames, landmarks -> joints, mocap -> joints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.perception.landmark_simulator import landmarks_from_performer
from engine.perception.landmarks import LandmarkFrame, internal_to_world
from engine.performer import (
    NUM_PERFORMER_JOINTS,
    PERFORMER_CHAINS,
    PERFORMER_JOINTS,
    body_frame,
    hand_frames,
    performer_arms_down_positions,
    performer_index,
    performer_positions_from_landmarks,
    performer_rest_positions,
    performer_skeleton,
)
from engine.performer.from_mocap import MocapError, performer_positions_from_mocap


def test_skeleton_matches_rest_positions_and_is_symmetric() -> None:
    sk = performer_skeleton()
    rest = performer_rest_positions()
    assert sk.num_joints == NUM_PERFORMER_JOINTS == len(PERFORMER_JOINTS)
    np.testing.assert_allclose(sk.rest_positions(), rest, atol=1e-12)
    for name in PERFORMER_JOINTS:
        if name.startswith("left_"):
            l, r = rest[performer_index(name)], rest[performer_index("right_" + name[5:])]
            np.testing.assert_allclose(l * [-1, 1, 1], r)
    assert 1.5 < sk.height < 1.9
    for chain in PERFORMER_CHAINS.values():
        for a, b in zip(chain, chain[1:]):
            assert sk.parents[performer_index(b)] == performer_index(a)


def test_arms_down_keeps_arm_lengths() -> None:
    t, d = performer_rest_positions(), performer_arms_down_positions()
    for side in ("left", "right"):
        sh = performer_index(f"{side}_upper_arm")
        hand = performer_index(f"{side}_hand")
        assert np.linalg.norm(t[hand] - t[sh]) == pytest.approx(np.linalg.norm(d[hand] - d[sh]))
        assert d[hand, 1] < d[sh, 1] - 0.4


def test_frames_at_rest_and_turned() -> None:
    rest = performer_rest_positions()
    np.testing.assert_allclose(body_frame(rest), np.eye(3), atol=1e-12)
    yaw = np.radians(90)
    R = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    np.testing.assert_allclose(body_frame(rest @ R.T), R, atol=1e-12)
    hands = hand_frames(rest)
    for m in hands:
        np.testing.assert_allclose(m.T @ m, np.eye(3), atol=1e-12)
        assert np.linalg.det(m) == pytest.approx(1.0)
    assert hands[0][:, 0] @ [1, 0, 0] > 0.99 and hands[1][:, 0] @ [-1, 0, 0] > 0.99


def test_landmarks_round_trip_exactly() -> None:
    rest = performer_rest_positions()
    pelvis = rest[performer_index("pelvis")]
    world = internal_to_world(landmarks_from_performer(rest) - pelvis)
    frame = LandmarkFrame(world, np.zeros((33, 3)), np.ones(33), np.ones(33), True, 0)
    np.testing.assert_allclose(performer_positions_from_landmarks(frame), rest - pelvis, atol=1e-12)


def test_mocap_gives_plausible_performer(shared_data: Path) -> None:
    from engine.formats.rigio import load_rig

    rig = load_rig(shared_data / "animated_drawings/cmu1/jumping_jacks.bvh")
    pos = performer_positions_from_mocap(rig.skeleton, rig.clips[0])
    T = rig.clips[0].num_frames
    assert pos.shape == (T, NUM_PERFORMER_JOINTS, 3) and np.isfinite(pos).all()
    parents = np.array(performer_skeleton().parents)
    lengths = np.linalg.norm(pos[:, 1:] - pos[:, parents[1:]], axis=-1)
    assert lengths.min() > 0.005  # no collapsed bones
    # Rigid bones keep their length over the clip (they come from one skeleton).
    fore = lengths[:, performer_index("left_hand") - 1]
    assert fore.std() < 1e-6
    head = pos[:, performer_index("head"), 1]
    assert np.all(head > pos[:, performer_index("pelvis"), 1])


def test_mocap_without_humanoid_bones_is_a_clear_error() -> None:
    from engine.rigs.bundled import load_bundled_rig

    rig = load_bundled_rig("snake")
    with pytest.raises(MocapError, match="lacks humanoid bones"):
        performer_positions_from_mocap(rig.skeleton, rig.clips[0].slice(0, 2))
