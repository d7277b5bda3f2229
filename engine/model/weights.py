"""Save and load model weights: ``NAME.safetensors`` + ``NAME.json`` (config), DESIGN §4.

Our own weights are never pickled. Foreign PyTorch checkpoints (``.pt``) load through
:func:`load_foreign_state_dict`, which uses ``torch.load(weights_only=True)`` (no code execution)
and unwraps the usual containers; mapping foreign names onto our modules is a converter's job.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from engine.errors import AnyRigError
from engine.model.config import P2RConfig, V2PConfig, config_from_json, config_to_json
from engine.model.p2r import P2RModel
from engine.model.v2p import V2PModel

__all__ = ["WeightsError", "DEFAULT_WEIGHTS_DIR", "save_weights", "load_weights", "load_foreign_state_dict", "weights_paths"]

logger = logging.getLogger(__name__)

DEFAULT_WEIGHTS_DIR = Path(__file__).resolve().parents[2] / "resources" / "weights"


class WeightsError(AnyRigError):
    """A weights file that cannot be used: names the file and the fault."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def weights_paths(path: str | Path) -> tuple[Path, Path]:
    """``(NAME.safetensors, NAME.json)`` for ``path`` given with either suffix or none."""
    path = Path(path)
    stem = path.with_suffix("") if path.suffix in (".safetensors", ".json") else path
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


def save_weights(model: P2RModel | V2PModel, path: str | Path, extra: dict | None = None) -> Path:
    """Write ``model``'s parameters and config; returns the ``.safetensors`` path.

    Args:
        model: the network.
        path: destination stem (suffix optional).
        extra: JSON-able facts stored beside the config (training steps, data, licence notes).
    """
    st_path, json_path = weights_paths(path)
    st_path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(tensors, str(st_path))
    meta = json.loads(config_to_json(model.cfg))
    if extra:
        meta["extra"] = extra
    json_path.write_text(json.dumps(meta, indent=2, sort_keys=True))
    return st_path


def load_weights(path: str | Path, device: torch.device | str = "cpu") -> P2RModel | V2PModel:
    """Build the model described by ``NAME.json`` and load ``NAME.safetensors`` into it (eval mode).

    Raises:
        WeightsError: a file is missing, the config is invalid, or a tensor name/shape differs.
    """
    st_path, json_path = weights_paths(path)
    for p in (st_path, json_path):
        if not p.is_file():
            raise WeightsError(p, "file not found")
    try:
        meta = json.loads(json_path.read_text())
        cfg = config_from_json({"kind": meta.get("kind"), "config": meta.get("config", {})})
    except (ValueError, TypeError) as exc:
        raise WeightsError(json_path, f"invalid config: {exc}") from exc
    model: P2RModel | V2PModel = P2RModel(cfg) if isinstance(cfg, P2RConfig) else V2PModel(cfg)
    try:
        tensors = load_file(str(st_path))
    except Exception as exc:  # safetensors raises its own SafetensorError for corrupt headers
        raise WeightsError(st_path, f"not a readable safetensors file: {exc}") from exc
    _check_names_and_shapes(model, tensors, st_path)
    model.load_state_dict(tensors)
    return model.to(device).eval()


def _check_names_and_shapes(model: torch.nn.Module, tensors: dict[str, torch.Tensor], path: Path) -> None:
    expected = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    if missing or unexpected:
        raise WeightsError(path, f"tensor names differ from the config: missing {missing[:5]}, unexpected {unexpected[:5]}")
    wrong = [f"{k} {tuple(tensors[k].shape)} != {s}" for k, s in expected.items() if tuple(tensors[k].shape) != s]
    if wrong:
        raise WeightsError(path, f"tensor shapes differ from the config: {wrong[:5]}")


def load_foreign_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a foreign ``.pt`` checkpoint, safely (``weights_only=True``).

    Accepts a bare state dict or one wrapped under ``model_state``/``model``/``model_state_dict``/
    ``state_dict`` (REFERENCE.md §4), and strips a ``module.`` prefix (DataParallel).
    """
    path = Path(path)
    if not path.is_file():
        raise WeightsError(path, "file not found")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # unpickling errors come in many types
        raise WeightsError(path, f"not a safe PyTorch checkpoint: {exc}") from exc
    if isinstance(obj, dict):
        for key in ("model_state", "model", "model_state_dict", "state_dict"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise WeightsError(path, "no state dict of tensors found")
    return {k.removeprefix("module."): v for k, v in obj.items()}
