"""Batches built in a worker process are the in-process batches, in step order."""

from __future__ import annotations

import os

import pytest
import torch

from engine.training.step_loader import step_batches


def _make(step: int) -> dict[str, torch.Tensor | int]:
    g = torch.Generator().manual_seed(step)
    return {"x": torch.randn(3, 4, generator=g), "pid": os.getpid()}


def test_worker_batches_equal_in_process_batches_in_step_order() -> None:
    here = list(step_batches(_make, 3, 9, workers=0))
    there = list(step_batches(_make, 3, 9, workers=1))
    assert len(here) == len(there) == 6
    for a, b in zip(here, there):
        torch.testing.assert_close(a["x"], b["x"], rtol=0, atol=0)
    assert {b["pid"] for b in here} == {os.getpid()}
    assert os.getpid() not in {b["pid"] for b in there}  # built in another process


def test_negative_worker_count_is_an_error() -> None:
    with pytest.raises(ValueError, match="data workers must be >= 0"):
        step_batches(_make, 0, 1, workers=-1)
