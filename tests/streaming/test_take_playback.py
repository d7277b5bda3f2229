"""Playing takes back: every take format loads with its rig, the play head scrubs, loops and stops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import rotations as rot
from engine.rigs.bundled import build_rig
from streaming.take_files import Take, TakeError, save_take
from streaming.take_playback import TakePlayer, load_take_rig


@pytest.fixture(scope="module")
def snake_take() -> Take:
    """45 poses (1.5 s at 30 fps) of the bundled snake turning its root about Y."""
    sk = build_rig("snake").rig.skeleton
    T, J = 45, sk.num_joints
    angles = np.linspace(0.0, np.pi / 2, T)
    rotations = np.broadcast_to(sk.rest_rotations, (T, J, 4)).copy()
    rotations[:, 0] = rot.quat_multiply(rot.axis_angle_to_quat(angles[:, None] * [0.0, 1.0, 0.0]), sk.rest_rotations[0])
    root = np.broadcast_to(sk.rest_translations[0], (T, 3)).copy()
    root[:, 0] = np.linspace(0.0, 0.5, T)
    t_ns = (np.arange(T) * 1e9 / 30).astype(np.int64) + 10**9
    return Take(tuple(sk.names), np.arange(T), t_ns, rotations, root, np.zeros((T, J, 3)), sk, "", "snake", 30.0)


@pytest.mark.parametrize("suffix", [".npz", ".glb", ".bvh"])
def test_every_take_format_plays_back_the_recorded_motion(snake_take: Take, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"take_001{suffix}"
    save_take(snake_take, path)
    rig = load_take_rig(path)
    player = TakePlayer(rig)
    assert rig.skeleton.num_joints == snake_take.skeleton.num_joints
    assert player.clip.num_frames == 45 and player.duration_s == pytest.approx(44 / 30)
    player.seek(player.duration_s)
    last = player.pose()
    # World positions match the recorded take's (BVH re-bases the rest pose, so compare positions, not rotations).
    from engine.kinematics import forward_kinematics

    trans = np.array(snake_take.skeleton.rest_translations)
    trans[0] = snake_take.root_translations[-1]
    _, want = forward_kinematics(snake_take.skeleton.parents, rot.quat_to_matrix(snake_take.rotations[-1]), trans)
    np.testing.assert_allclose(last.positions, want, atol=1e-4)
    assert last.index == 44 and last.source_id.startswith("take:")


def test_play_head_scrubs_loops_and_stops(snake_take: Take, tmp_path: Path) -> None:
    path = tmp_path / "t.npz"
    save_take(snake_take, path)
    player = TakePlayer(load_take_rig(path))
    player.advance(0.5)
    assert player.position_s == 0.0  # paused: the clock does not move it
    player.playing = True
    player.advance(0.5)
    assert player.frame == 15
    player.seek(-3.0)
    assert player.position_s == 0.0
    player.seek(1.4)
    player.advance(0.2)  # past the end (1.4667 s): loops
    assert player.playing and player.position_s == pytest.approx((1.6) % player.duration_s)
    player.loop = False
    player.seek(1.4)
    player.advance(0.2)
    assert not player.playing and player.position_s == pytest.approx(player.duration_s)
    first, middle = TakePlayer(player.rig), TakePlayer(player.rig)
    middle.seek(0.7)
    assert rot.quat_geodesic_angle(first.pose().rotations[0], middle.pose().rotations[0]) > np.radians(30)


def test_unplayable_files_are_refused_with_the_reason(snake_take: Take, tmp_path: Path) -> None:
    bare = Take(snake_take.names, snake_take.index, snake_take.t_capture_ns, snake_take.rotations,
                snake_take.root_translations, snake_take.positions, None, "", "snake", 30.0)
    path = tmp_path / "no_skeleton.npz"
    save_take(bare, path)
    with pytest.raises(TakeError, match="no skeleton"):
        load_take_rig(path)
