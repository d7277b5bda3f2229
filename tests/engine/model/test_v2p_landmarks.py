"""The landmark V2P: tokens, the residual estimator, and the training pieces (tiny runs)."""

from __future__ import annotations

import argparse

import numpy as np
import torch

from engine.model.config import V2PConfig
from engine.model.v2p import V2PModel
from engine.model.weights import load_weights
from engine.perception.landmark_simulator import NoiseConfig, simulate_landmarks
from engine.performer import NUM_PERFORMER_JOINTS, PERFORMER_PARENTS, performer_positions_from_landmarks, performer_rest_positions
from engine.training.v2p_landmarks import HumanMotion, augment_motion, load_human_motions, simulate_batch, train_v2p_landmarks
from engine.model.v2p_landmarks import PERFORMER_SCALE, V2PPerformer, landmark_tokens_from_frame

TINY = V2PConfig(width=16, heads=2, rig_layers=1, layers=1, window=8)


def _clip(T: int = 12, seed: int = 0):
    rest = performer_rest_positions()
    wave = np.stack([rest + [0.0, 0.0, 0.02 * np.sin(t / 3)] for t in range(T)])
    return simulate_landmarks(wave, fps=30.0, seed=seed, noise=NoiseConfig.realistic())


def test_tokens_scale_and_mask() -> None:
    frame = next(f for f in _clip().frames if f.person_found)
    tokens, mask = landmark_tokens_from_frame(frame)
    assert tokens.shape == (33, 4) and tokens.dtype == np.float32 and mask.all()
    np.testing.assert_allclose(tokens[:, :3] * PERFORMER_SCALE, frame.internal_world(), atol=1e-5)
    np.testing.assert_allclose(tokens[:, 3], frame.visibility, atol=1e-6)
    empty = landmark_tokens_from_frame(type(frame).empty(0))
    assert not empty[1].any() and not empty[0].any()


def test_untrained_model_is_the_geometric_mapping() -> None:
    # The head starts at zero, so the residual estimator returns exactly the geometric mapping.
    est = V2PPerformer(V2PModel(TINY))
    for frame in _clip().frames:
        if frame.person_found:
            np.testing.assert_allclose(est.step(frame), performer_positions_from_landmarks(frame), atol=1e-5)
    assert est.session.frames_seen > 0
    est.reset()
    assert est.session.frames_seen == 0


def test_augmentation_keeps_the_skeleton_plausible() -> None:
    rest = np.broadcast_to(performer_rest_positions(), (20, NUM_PERFORMER_JOINTS, 3))
    out = augment_motion(rest, np.random.default_rng(3))
    assert out.shape == rest.shape and np.isfinite(out).all()
    lengths = lambda p: np.linalg.norm(p[:, 1:] - p[:, list(PERFORMER_PARENTS[1:])], axis=-1)  # noqa: E731
    # Rigid swings keep bone lengths constant over time; proportions change by at most ~12% x size.
    assert np.ptp(lengths(out), axis=0).max() < 1e-9
    torso = np.linalg.norm(out[0, 3] - out[0, 0])
    assert 0.41 < torso < 0.57


def test_simulated_batch_shapes_and_geometric_base() -> None:
    motions = load_human_motions(None)  # the bundled humanoid's clips
    assert {m.name.split(":")[1] for m in motions} >= {"walk", "wave", "idle"}
    b = simulate_batch(motions, 3, 10, np.random.default_rng(0))
    assert b["tokens"].shape == (3, 10, 33, 4) and b["mask"].shape == (3, 10, 33)
    assert b["target"].shape == b["geometric"].shape == (3, 10, 28, 3)
    err = (b["geometric"] - b["target"]).norm(dim=-1)[b["found"]].mean() * PERFORMER_SCALE
    assert 0.005 < float(err) < 0.15  # noisy landmarks: centimetres off, not metres


def test_two_step_training_writes_loadable_weights(tmp_path) -> None:
    torch.manual_seed(0)
    config = '{"width": 16, "heads": 2, "rig_layers": 1, "layers": 1, "window": 8}'
    args = argparse.Namespace(out=str(tmp_path), steps=2, batch=2, lr=1e-3, data=None, resume=False, seed=0, config=config, max_minutes=None)
    assert train_v2p_landmarks(args) == 0
    model = load_weights(tmp_path / "best")
    assert isinstance(model, V2PModel) and model.cfg.width == 16
    assert (tmp_path / "log.jsonl").read_text().count("val_mpjpe_cm") >= 1
    est = V2PPerformer(model)
    frame = next(f for f in _clip().frames if f.person_found)
    assert np.isfinite(est.step(frame)).all()


def test_train_command_dispatches_v2p_landmarks(tmp_path) -> None:
    import main

    config = '{"width": 16, "heads": 2, "rig_layers": 1, "layers": 1, "window": 8}'
    argv = ["train", "v2p-landmarks", "--out", str(tmp_path), "--steps", "2", "--batch", "2", "--config", config]
    assert main.main(argv) == 0
    assert isinstance(load_weights(tmp_path / "best"), V2PModel)


def test_motion_container() -> None:
    m = HumanMotion("x", np.zeros((3, 28, 3)))
    assert m.positions.shape == (3, 28, 3)
