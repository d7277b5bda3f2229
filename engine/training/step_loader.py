"""Training batches built ahead in worker processes (torch's own DataLoader), one item per step.

Building a batch (procedural rigs, motions, forward kinematics, simulated landmarks) is numpy
work in Python, as slow as the model step on these small networks. With ``workers >= 1`` it runs
in that many worker processes while the trainer's process runs the model, so a 2-core machine
uses both cores; ``workers = 0`` builds each batch in the trainer's process (the old behaviour).
A batch is a deterministic function of its step (``make(step)``), so the result is the same
either way and resuming at any step needs no loader state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset

__all__ = ["StepBatches", "step_batches"]

PREFETCH = 4  # batches each worker keeps ready: enough to hide jitter, little memory


class StepBatches(Dataset):
    """Item ``step`` is ``make(step)``: this rank's share of that step's batch."""

    def __init__(self, make: Callable[[int], Any], steps: int) -> None:
        self.make, self.steps = make, steps

    def __len__(self) -> int:
        return self.steps

    def __getitem__(self, step: int) -> Any:
        return self.make(step)


def step_batches(make: Callable[[int], Any], start: int, stop: int, workers: int) -> Iterator[Any]:
    """The batches of steps ``start .. stop - 1`` in order, built by ``workers`` processes (0: here).

    Raises:
        ValueError: a negative worker count.
    """
    if workers < 0:
        raise ValueError(f"data workers must be >= 0, got {workers}")
    if workers == 0:
        return (make(step) for step in range(start, stop))
    loader = DataLoader(
        StepBatches(make, stop), batch_size=None, sampler=range(start, stop), num_workers=workers,
        prefetch_factor=PREFETCH, multiprocessing_context="fork" if "fork" in torch.multiprocessing.get_all_start_methods() else None,
    )
    return iter(loader)
