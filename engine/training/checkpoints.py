"""Training checkpoints of a run folder: ``model.*`` weights plus ``optimizer.pt`` (state, step, best score)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from engine.model.weights import save_weights

__all__ = ["resume_checkpoint", "save_checkpoint"]

logger = logging.getLogger(__name__)


def save_checkpoint(model: torch.nn.Module, opt: torch.optim.Optimizer, out: Path, step: int, best: float, extra: dict) -> None:
    """Write ``out/model.*`` and ``out/optimizer.pt`` (optimiser state, step, best score)."""
    save_weights(model, out / "model", {**extra, "step": step})
    tmp = out / "optimizer.pt.tmp"
    torch.save({"optimizer": opt.state_dict(), "step": step, "best": best}, tmp)
    os.replace(tmp, out / "optimizer.pt")  # atomic: a crash mid-save keeps the previous state


def resume_checkpoint(opt: torch.optim.Optimizer, out: Path) -> tuple[int, float]:
    """Load ``out/optimizer.pt`` into ``opt``; returns ``(next step, best score)``, ``(0, inf)`` without one."""
    path = out / "optimizer.pt"
    if not path.is_file():
        return 0, float("inf")
    state = torch.load(path, weights_only=True)
    opt.load_state_dict(state["optimizer"])
    logger.info("resuming %s from step %d", out, int(state["step"]) + 1)
    return int(state["step"]) + 1, float(state["best"])
