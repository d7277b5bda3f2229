"""Data-parallel training on 2 CPU processes (gloo), against one process with the same global batch."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from engine.training.distributed import DistContext, init_distributed, shard_range
from engine.training.trainer import TrainSettings, fit

TINY = json.dumps({"width": 16, "heads": 2, "rig_layers": 1, "layers": 1, "window": 4})
STEPS, BATCH = 4, 4


def _settings(out: Path, steps: int = STEPS, resume: bool = False) -> TrainSettings:
    # lr 0.05: with the 50-step warm-up the weights move ~1e-3 per step, so the weight checks below can fail
    # data_workers=0 in the ranks: the test runs 2 ranks on what may be 2 shared cores
    return TrainSettings("p2r", out, steps=steps, batch=BATCH, lr=0.05, device="cpu", resume=resume, seed=0, config=TINY,
                         data_workers=0, pool_size=16)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _rank(rank: int, world_size: int, port: int, out: str, steps: int, resume: bool) -> None:
    """One torchrun-like rank: the environment torchrun sets, then the trainer."""
    os.environ.update({"RANK": str(rank), "LOCAL_RANK": str(rank), "WORLD_SIZE": str(world_size),
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port)})
    ctx = init_distributed(torch.device("cpu"))
    try:
        model, _ = fit(_settings(Path(out), steps, resume), ctx)
        torch.save(model.state_dict(), Path(out) / f"rank{rank}.pt")
    finally:
        ctx.close()


def _run_two_ranks(out: Path, steps: int = STEPS, resume: bool = False) -> None:
    mp.start_processes(_rank, args=(2, _free_port(), str(out), steps, resume), nprocs=2, join=True, start_method="spawn")


def _initial_weights() -> dict[str, torch.Tensor]:
    from engine.model.config import config_from_json
    from engine.model.p2r import P2RModel

    torch.manual_seed(0)  # as the trainer seeds before building the model
    return P2RModel(config_from_json({"kind": "p2r", "config": json.loads(TINY)})).state_dict()


def _losses(out: Path) -> dict[int, float]:
    rows = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    return {r["step"]: r["loss"] for r in rows if "loss" in r}


def test_shard_range_splits_the_global_batch() -> None:
    assert shard_range(8, DistContext(rank=1, world_size=4)) == range(2, 4)
    assert shard_range(8, DistContext()) == range(8)
    with pytest.raises(ValueError, match="multiple of the world size 3"):
        shard_range(8, DistContext(rank=0, world_size=3))


def test_without_torchrun_nothing_is_initialised(monkeypatch) -> None:
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    ctx = init_distributed(torch.device("cpu"))
    assert (ctx.rank, ctx.world_size, ctx.is_main, ctx.distributed) == (0, 1, True, False)
    assert ctx.mean({"a": 2.0}) == {"a": 2.0} and ctx.any(False) is False
    assert not torch.distributed.is_initialized()


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process_with_the_same_global_batch(tmp_path: Path) -> None:
    two, one = tmp_path / "two", tmp_path / "one"
    _run_two_ranks(two)
    rank0, rank1 = torch.load(two / "rank0.pt"), torch.load(two / "rank1.pt")
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), "ranks hold different weights"
    single, _ = fit(_settings(one), DistContext())
    # Same samples, same noise, gradients averaged over equal shards = the whole batch's gradient:
    # only float summation order differs.
    two_losses, one_losses = _losses(two), _losses(one)
    assert sorted(two_losses) == list(range(STEPS))
    for step, loss in one_losses.items():
        assert two_losses[step] == pytest.approx(loss, rel=1e-5), f"step {step}"
    # Adam divides by the root of tiny second moments, so near-zero gradients turn summation-order
    # noise into up to ~1e-4 of weight; training moved the weights by up to ~1e-2.
    initial = _initial_weights()
    assert max(float((v - initial[k]).abs().max()) for k, v in single.state_dict().items()) > 5e-3
    for k, v in single.state_dict().items():
        torch.testing.assert_close(rank0[k], v, rtol=0, atol=1e-3)
    # Only rank 0 wrote the run folder's files.
    assert sorted(p.name for p in two.iterdir()) == sorted(
        ["best.json", "best.safetensors", "log.jsonl", "model.json", "model.safetensors", "optimizer.pt", "rank0.pt", "rank1.pt"]
    )
    assert json.loads((two / "model.json").read_text())["extra"]["world_size"] == 2


@pytest.mark.slow
def test_resume_on_a_different_world_size(tmp_path: Path) -> None:
    """2 ranks for 2 steps, then 1 process to step 4 == 1 process for 4 steps."""
    split, straight = tmp_path / "split", tmp_path / "straight"
    _run_two_ranks(split, steps=2)
    resumed, _ = fit(_settings(split, STEPS, resume=True), DistContext())
    direct, _ = fit(_settings(straight), DistContext())
    assert _losses(split)[3] == pytest.approx(_losses(straight)[3], rel=1e-5)
    for k, v in direct.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[k], v, rtol=0, atol=1e-3)
