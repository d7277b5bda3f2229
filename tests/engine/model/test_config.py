from __future__ import annotations

import json

import pytest

from engine.model.config import P2RConfig, V2PConfig, config_from_json, config_to_json


@pytest.mark.parametrize("cfg", [P2RConfig(), P2RConfig(width=32, layers=2, predict_world_delta=False), V2PConfig(), V2PConfig(token_dim=1024, num_token_ids=0)])
def test_json_round_trip(cfg: P2RConfig | V2PConfig) -> None:
    assert config_from_json(config_to_json(cfg)) == cfg


def test_bad_configs_raise() -> None:
    with pytest.raises(ValueError, match="unknown p2r config keys"):
        config_from_json(json.dumps({"kind": "p2r", "config": {"widht": 3}}))
    with pytest.raises(ValueError, match="kind"):
        config_from_json({"kind": "xyz", "config": {}})
    with pytest.raises(ValueError, match="divisible"):
        P2RConfig(width=30, heads=4)
    with pytest.raises(ValueError, match="window"):
        V2PConfig(window=0)
