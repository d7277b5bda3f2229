from __future__ import annotations

import json

import pytest
import torch

from engine.model.p2r import P2RModel
from engine.model.v2p import V2PModel
from engine.model.weights import load_weights
from engine.training.trainer import TrainSettings, p2r_loss, train

TINY = json.dumps({"width": 16, "heads": 2, "rig_layers": 1, "layers": 1, "window": 4})


def test_p2r_loss_is_zero_on_the_target_and_ignores_padding() -> None:
    target = torch.tensor([1.0, 0, 0, 0, 1, 0]).expand(1, 2, 3, 6).clone()
    mask = torch.tensor([[True, True, False]])
    pred = target.clone()
    pred[:, :, 2] = torch.tensor([0.0, 1, 0, 1, 0, 0])  # wrong only on the padded joint
    loss, parts = p2r_loss(pred, target, mask)
    assert float(loss) < 1e-3 and parts["angle_deg"] < 0.2
    pred[:, :, 1] = torch.tensor([0.0, 1, 0, 1, 0, 0])  # 180 degrees off on a real joint
    loss, parts = p2r_loss(pred, target, mask)
    assert parts["angle_deg"] == pytest.approx(90.0, abs=0.5)  # half the real joints


def test_the_world_term_counts_a_parents_error_on_every_joint_below_it() -> None:
    """With the rig, a root turned 90 deg is 90 deg off in the world on the whole chain, 1 joint of 3 locally."""
    from engine.model.rig_tensors import build_rig_tensors
    from engine.skeleton import Skeleton
    from engine import rotations as rot
    import numpy as np

    sk = Skeleton(("a", "b", "c"), np.array([-1, 0, 1]), np.array([[0, 0, 0], [0, 1, 0], [0, 1, 0.0]]), rot.quat_identity((3,)))
    rig = build_rig_tensors(sk)
    target = torch.tensor([1.0, 0, 0, 0, 1, 0]).expand(1, 2, 3, 6).clone()
    pred = target.clone()
    pred[:, :, 0] = torch.tensor([0.0, -1, 0, 1, 0, 0])  # the root turned 90 deg about z
    _, local = p2r_loss(pred, target, rig.joint_mask)
    _, both = p2r_loss(pred, target, rig.joint_mask, rig)
    assert local["angle_deg"] == pytest.approx(30.0, abs=0.5) and "world_angle_deg" not in local
    assert both["world_angle_deg"] == pytest.approx(90.0, abs=0.5)


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["p2r", "v2p"])
def test_train_few_steps_then_resume(tmp_path, kind: str) -> None:
    cfg = TINY if kind == "p2r" else json.dumps({**json.loads(TINY), "num_token_ids": 8})
    settings = TrainSettings(kind, tmp_path, steps=2, batch=2, lr=1e-3, device="cpu", data=None, resume=False, seed=0, config=cfg)
    metrics = train(settings)
    assert all(torch.isfinite(torch.tensor(v)) for v in metrics.values()) and "val_loss" in metrics
    model = load_weights(tmp_path / "model")
    assert isinstance(model, P2RModel if kind == "p2r" else V2PModel) and model.cfg.width == 16
    assert (tmp_path / "best.safetensors").is_file() and (tmp_path / "optimizer.pt").is_file()
    first = model.state_dict()
    resumed = TrainSettings(kind, tmp_path, steps=3, batch=2, lr=1e-3, device="cpu", data=None, resume=True, seed=0, config=None)
    train(resumed)
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps[-1] == 2 and steps.count(0) == 2  # resumed at step 2: step 0 is not redone
    assert json.loads((tmp_path / "model.json").read_text())["extra"]["step"] == 2
    after = load_weights(tmp_path / "model").state_dict()
    assert any(not torch.equal(first[k], after[k]) for k in first)


def test_orientation_hints_are_the_true_world_rotations_give_or_take_their_weight() -> None:
    """Hinted joints sit near their true world rotation (closer at a higher weight); the rest hint nothing."""
    import numpy as np

    from engine import rotations as rot
    from engine.kinematics import forward_kinematics
    from engine.model.batching import orientation_hints

    rng = np.random.default_rng(0)
    parents = np.array([-1] + list(range(39)))
    quats = rot.axis_angle_to_quat(rng.normal(0, 0.5, (32, 40, 3)))
    world = forward_kinematics(parents, rot.quat_to_matrix(quats), np.zeros((40, 3)))[0]
    errors, weights = [], []
    for _ in range(20):
        hints = orientation_hints(parents, quats, rng)
        w = hints[..., 6]
        assert ((w == 0) | ((w >= 0.3) & (w <= 1.0))).all()
        never = (w == 0).all(0)
        np.testing.assert_allclose(hints[:, never, :6].reshape(-1, 6), np.tile([1, 0, 0, 0, 1, 0], (32 * never.sum(), 1)))
        on = w > 0
        errors.append(np.degrees(rot.geodesic_angle(rot.sixd_to_matrix(hints[..., :6].astype(np.float64))[on], world[on])))
        weights.append(w[on])
    errors, weights = np.concatenate(errors), np.concatenate(weights)
    assert errors.size > 1000 and np.median(errors) < 15.0
    assert np.median(errors[weights > 0.8]) < np.median(errors[weights < 0.5])


@pytest.mark.slow
def test_train_a_hinted_p2r_from_given_weights(tmp_path) -> None:
    """--init with orientation_cue: a run starts from the given weights and validates on hinted batches too."""
    first = tmp_path / "first"
    train(TrainSettings("p2r", first, steps=1, batch=2, lr=1e-3, device="cpu", seed=0, config=TINY))
    cfg = json.dumps({**json.loads(TINY), "orientation_cue": True})
    metrics = train(TrainSettings("p2r", tmp_path / "hinted", steps=2, batch=2, lr=1e-3, device="cpu", seed=0, config=cfg, init=str(first / "model")))
    assert "val_hinted_loss" in metrics and all(torch.isfinite(torch.tensor(v)) for v in metrics.values())
    model = load_weights(tmp_path / "hinted" / "model")
    assert model.cfg.orientation_cue
    assert json.loads((tmp_path / "hinted" / "model.json").read_text())["extra"]["init"] == str(first / "model")
