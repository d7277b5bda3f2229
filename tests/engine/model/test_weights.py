from __future__ import annotations

import json

import pytest
import torch

from engine.model.p2r import P2RModel
from engine.model.rig_tensors import build_rig_tensors
from engine.model.v2p import V2PModel
from engine.model.weights import WeightsError, load_foreign_state_dict, load_weights, save_weights

from .conftest import TINY_P2R, TINY_V2P, randomize


@pytest.mark.parametrize("model", [P2RModel(TINY_P2R), V2PModel(TINY_V2P)], ids=["p2r", "v2p"])
def test_round_trip(tmp_path, model, skeletons) -> None:
    model = randomize(model)
    st = save_weights(model, tmp_path / "net", {"note": "test"})
    assert st.name == "net.safetensors" and (tmp_path / "net.json").is_file()
    assert json.loads((tmp_path / "net.json").read_text())["extra"] == {"note": "test"}
    loaded = load_weights(tmp_path / "net.safetensors")
    assert type(loaded) is type(model) and loaded.cfg == model.cfg and not loaded.training
    for (k, a), (k2, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert k == k2 and torch.equal(a, b)


def test_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(WeightsError, match="not found"):
        load_weights(tmp_path / "missing")
    save_weights(P2RModel(TINY_P2R), tmp_path / "net")
    meta = json.loads((tmp_path / "net.json").read_text())
    meta["config"]["width"] = 32
    (tmp_path / "net.json").write_text(json.dumps(meta))
    with pytest.raises(WeightsError, match="shapes differ"):
        load_weights(tmp_path / "net")
    (tmp_path / "net.json").write_text("{not json")
    with pytest.raises(WeightsError, match="net.json: invalid config"):
        load_weights(tmp_path / "net")
    (tmp_path / "bad.json").write_text(json.dumps({"kind": "p2r", "config": {}}))
    (tmp_path / "bad.safetensors").write_bytes(b"\x00garbage")
    with pytest.raises(WeightsError, match="safetensors"):
        load_weights(tmp_path / "bad")


def test_foreign_checkpoint_loads_safely(tmp_path) -> None:
    sd = {"module.a.weight": torch.ones(2, 2), "module.b": torch.zeros(3)}
    torch.save({"model_state": sd, "epoch": 60}, tmp_path / "ckpt.pt")
    got = load_foreign_state_dict(tmp_path / "ckpt.pt")
    assert set(got) == {"a.weight", "b"} and torch.equal(got["a.weight"], torch.ones(2, 2))

    class Evil:
        def __reduce__(self):  # would run code under a plain torch.load
            return (print, ("pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pt")
    with pytest.raises(WeightsError, match="safe PyTorch checkpoint"):
        load_foreign_state_dict(tmp_path / "evil.pt")
