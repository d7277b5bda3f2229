"""Landmark simulator: exact round trip without noise, measurable noise, determinism by seed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.perception.landmark_simulator import NoiseConfig, simulate_landmarks
from engine.performer import body_frame, performer_positions_from_landmarks
from engine.performer.from_mocap import performer_positions_from_mocap


@pytest.fixture(scope="module")
def jumping_jacks(shared_data: Path) -> tuple[np.ndarray, float]:
    from engine.formats.rigio import load_rig

    rig = load_rig(shared_data / "animated_drawings/cmu1/jumping_jacks.bvh")
    return performer_positions_from_mocap(rig.skeleton, rig.clips[0]), rig.clips[0].fps


@pytest.fixture(scope="module")
def bundled_humanoid() -> tuple[np.ndarray, float]:
    from engine.rigs.bundled import load_bundled_rig

    rig = load_bundled_rig("humanoid")
    clip = rig.clip("wave") if "wave" in [c.name for c in rig.clips] else max(rig.clips, key=lambda c: c.num_frames)
    return performer_positions_from_mocap(rig.skeleton, clip), clip.fps


def _recover(sim) -> np.ndarray:
    return np.stack([performer_positions_from_landmarks(f) for f in sim.frames])


@pytest.mark.parametrize("source", ["jumping_jacks", "bundled_humanoid"])
def test_round_trip_without_noise(source: str, request: pytest.FixtureRequest) -> None:
    pos, fps = request.getfixturevalue(source)
    sim = simulate_landmarks(pos, fps=fps, seed=3)
    assert len(sim.frames) == len(pos) and all(f.person_found for f in sim.frames)
    np.testing.assert_allclose(_recover(sim), sim.targets, atol=1e-9)
    assert [f.t_ms for f in sim.frames[:3]] == [0, round(1000 / fps), round(2000 / fps)]
    # Targets are hip-centred and upright (Y up) in the camera-aligned frame.
    assert np.abs(sim.targets[:, 0]).max() < 1e-9
    assert np.all(body_frame(sim.targets)[:, 1, 1] > 0.5)
    # Image landmarks of a performer 2.5-4.5 m away fall inside the picture.
    img = np.stack([f.image for f in sim.frames])
    assert np.all((img[..., :2] > 0) & (img[..., :2] < 1))


def test_noise_changes_things_measurably(jumping_jacks) -> None:
    pos, fps = jumping_jacks
    clean = simulate_landmarks(pos, fps=fps, seed=5)
    noisy = simulate_landmarks(pos, fps=fps, seed=5, noise=NoiseConfig(depth_noise_m=0.05))
    err = np.linalg.norm(_recover(noisy) - clean.targets, axis=-1)
    world_d = np.stack([n.world - c.world for n, c in zip(noisy.frames, clean.frames)])
    assert 0.01 < err.mean() < 0.1
    assert np.abs(world_d[..., 2]).mean() > 5 * np.abs(world_d[..., :2]).mean()  # depth only
    jitter = simulate_landmarks(pos, fps=fps, seed=5, noise=NoiseConfig(jitter_m=0.01))
    assert np.abs(np.stack([j.world - c.world for j, c in zip(jitter.frames, clean.frames)])[..., 0]).mean() > 0.005
    wide = simulate_landmarks(pos, fps=fps, seed=5, noise=NoiseConfig(hip_width_scale=(1.3, 1.3)))
    rec = _recover(wide)
    from engine.performer import performer_index

    width = lambda q: np.linalg.norm(q[:, performer_index("left_upper_leg")] - q[:, performer_index("right_upper_leg")], axis=-1)  # noqa: E731
    np.testing.assert_allclose(width(rec), 1.3 * width(wide.targets), rtol=1e-9)
    drops = simulate_landmarks(pos, fps=fps, seed=5, noise=NoiseConfig(dropout_start=0.2, dropout_mean_frames=3))
    lost = [not f.person_found for f in drops.frames]
    assert 0 < sum(lost) < len(lost)
    assert all(np.all(f.world == 0) for f, miss in zip(drops.frames, lost) if miss)


def test_deterministic_by_seed_and_camera_varies(jumping_jacks) -> None:
    pos, fps = jumping_jacks
    noise = NoiseConfig.realistic()
    a = simulate_landmarks(pos, fps=fps, seed=11, noise=noise)
    b = simulate_landmarks(pos, fps=fps, seed=11, noise=noise)
    c = simulate_landmarks(pos, fps=fps, seed=12, noise=noise)
    assert all(np.array_equal(x.world, y.world) and x.person_found == y.person_found for x, y in zip(a.frames, b.frames))
    assert not np.allclose(a.camera.position, c.camera.position)
    assert not np.allclose(a.targets, c.targets)  # the camera turns the hip-centred targets
    arrays = a.stacked()
    assert arrays["world"].shape == (len(pos), 33, 3) and arrays["person_found"].dtype == bool
    np.testing.assert_array_equal(arrays["world"][3], a.frames[3].world)


def test_visibility_drops_on_the_far_side(jumping_jacks) -> None:
    pos, fps = jumping_jacks
    from engine.perception.landmark_simulator import CameraConfig
    from engine.perception.landmarks import Landmark

    side_view = simulate_landmarks(pos[:5], fps=fps, seed=0, camera=CameraConfig(yaw_deg=(89.0, 89.0), pitch_deg=(0.0, 0.0)))
    vis = np.stack([f.visibility for f in side_view.frames])
    near_far = vis[:, [Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE]].mean(axis=0)
    assert abs(near_far[0] - near_far[1]) > 0.5
