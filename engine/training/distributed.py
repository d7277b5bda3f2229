"""Data-parallel training with PyTorch's own engine: ``torchrun`` + DistributedDataParallel.

``python main.py train ...`` runs as one process, or unchanged under ``torchrun --nproc_per_node N``
(also multi-node). :func:`init_distributed` reads torchrun's environment (``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``/``MASTER_PORT``) and joins the process group:
NCCL when the model runs on CUDA (one GPU per local rank), gloo on the CPU. Without that
environment (or with ``WORLD_SIZE=1``) nothing is initialised and every helper here is a no-op,
so the single-process path stays exactly what it was.

The trainers split each step's *global* batch (``--batch``) across the ranks: sample ``i`` of a
step has its own seed, rank ``r`` draws samples ``r * B/W .. (r+1) * B/W - 1``. So ranks train on
different data, the union over ranks does not depend on the world size, and a run can resume on
a different number of processes (the checkpoint holds global steps).
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

__all__ = ["DistContext", "init_distributed", "shard_range"]

logger = logging.getLogger(__name__)

TIMEOUT = timedelta(minutes=30)  # a rank waits this long for the others (rank 0 validates alone)


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in the run.

    Attributes:
        rank: global rank, 0 .. world_size - 1 (0 without torchrun).
        world_size: number of processes (1 without torchrun).
        local_rank: rank on this node (picks the GPU).
        device: the device this rank trains on.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0: the one process that writes checkpoints, logs and the progress bar."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """``module`` in DistributedDataParallel when distributed (gradients averaged over ranks), else itself."""
        if not self.distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(module, device_ids=ids)

    def mean(self, values: dict[str, float]) -> dict[str, float]:
        """Each value averaged over the ranks (every rank must call this at the same step)."""
        if not self.distributed or not values:
            return values
        keys = sorted(values)
        t = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=self._collective_device)
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return {k: float(v) / self.world_size for k, v in zip(keys, t.tolist())}

    def any(self, flag: bool) -> bool:
        """True on every rank when ``flag`` is true on any (keeps e.g. a time limit in step)."""
        if not self.distributed:
            return flag
        t = torch.tensor([int(flag)], device=self._collective_device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self) -> None:
        if self.distributed:
            dist.barrier()

    def close(self) -> None:
        """Leave the process group (idempotent)."""
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()

    @property
    def _collective_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")


def init_distributed(device: torch.device) -> DistContext:
    """Join torchrun's process group when launched by it; ``device`` is the single-process choice.

    Under torchrun a CUDA ``device`` becomes ``cuda:LOCAL_RANK`` and the backend NCCL; a CPU run
    uses gloo.

    Raises:
        RuntimeError: torchrun asked for more local ranks than there are GPUs.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext(device=device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(f"local rank {local_rank} needs a GPU, but this node has {torch.cuda.device_count()}")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend, rank=rank, world_size=world_size, timeout=TIMEOUT)
    logger.info("rank %d of %d (local %d) on %s, %s", rank, world_size, local_rank, device, backend)
    return DistContext(rank, world_size, local_rank, device)


def shard_range(global_batch: int, ctx: DistContext) -> range:
    """The sample indices of a step's global batch that this rank draws.

    Raises:
        ValueError: the global batch does not split evenly over the ranks.
    """
    if global_batch % ctx.world_size:
        raise ValueError(f"--batch {global_batch} (the global batch) must be a multiple of the world size {ctx.world_size}")
    per_rank = global_batch // ctx.world_size
    return range(ctx.rank * per_rank, (ctx.rank + 1) * per_rank)
