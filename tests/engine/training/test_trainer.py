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
