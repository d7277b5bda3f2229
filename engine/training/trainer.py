"""``python main.py train p2r|v2p``: train a network on procedural (+ freely licensed real) motions.

Run folder ``--out``:
- ``model.safetensors`` + ``model.json``: the latest weights and config (loadable by
  :func:`engine.model.weights.load_weights`); ``best.*``: the best validation score so far;
- ``optimizer.pt``: optimiser state and step counter, plain tensors and numbers
  (``torch.load(weights_only=True)`` reads it); ``--resume`` continues from it;
- ``log.jsonl``: one JSON object per logged step (training) or validation.

Data: :class:`engine.synthetic.dataset.MotionDataset` (train split for training, the val split
for validation: disjoint procedural rigs and held-out real skeletons, so validation measures
unseen skeletons). ``--data`` mixes in real motions whose licence is free (CC0, MIT, CC-BY, CMU).

P2R loss (documented choice): SmoothL1 (beta 0.05) on the 6D output + 0.1 x mean geodesic angle
(radians) between predicted and target local rotations, both masked to real joints; a P2R with
``orientation_cue`` adds 0.1 x the mean geodesic angle of the *world* rotations
(:data:`WORLD_ANGLE_WEIGHT`): a hint is a world rotation, and on local rotations alone following
an accurate hint under a parent that is off costs as much as ignoring it, so the model learned to
ignore hints (a first run: the hinted joints' world error 20.7° against the hints' own 9.0°). Half of the
samples get input noise (:mod:`engine.model.batching`, up to :data:`MAX_NOISE`) because at run
time P2R reads V2P output; the other half stay clean, so the model keeps (and improves on) the
exact analytic prior where the input is exact. Validation scores both: ``val_clean_*`` and
``val_noisy_*`` batches, and ``val_loss`` (which picks ``best.*``) is their mean. A P2R with
``orientation_cue`` gets orientation hints on half of its samples (:data:`HINT_FRACTION`,
:func:`engine.model.batching.orientation_hints`) and a third validation set, ``val_hinted_*``
(noisy positions, every sample hinted).

``--init WEIGHTS`` starts from trained weights (a warm start, not a resume: new optimiser and
schedule). Where the new config adds frame inputs (``orientation_cue``, ``grandchild_cue``), the
first layer's new input columns and the head's new output (the hint trust's logit) start at
zero, so without hints the model starts out computing exactly what the given weights did.
V2P loss: L1 on model-space positions of real joints; tokens from
:func:`engine.model.batching.landmark_tokens`.

Both losses are per-sample means (masked mean over a sample's real joints and frames, then the
mean over samples), so the mean over ranks of equal shards is the loss of the whole batch.

Optimiser: AdamW (weight decay 0.01), linear warm-up over 50 steps then cosine decay to 10%,
gradient norm clipped at 1.0.

Scale: the run works unchanged under ``torchrun`` (:mod:`engine.training.distributed`:
DistributedDataParallel, gloo on CPUs, NCCL on GPUs); ``--batch`` is the global batch, split over
the ranks, each sample seeded by (seed, step, sample index), so ranks draw different data and a
run resumes on any world size. Only rank 0 validates and writes checkpoints, ``log.jsonl`` and the
progress bar. Batches are built ahead in ``data_workers`` processes
(:mod:`engine.training.step_loader`); on the CPU the model step uses ``threads`` torch threads
(default 1: on this 2-core machine 2 threads were slower, README "Training at scale").
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from engine.kinematics import world_rotations_padded
from engine.model.batching import Batch, landmark_tokens, make_batch
from engine.model.config import P2RConfig, V2PConfig, config_from_json
from engine.model.p2r import P2RModel
from engine.model.rig_tensors import RigTensors
from engine.model.session import resolve_device
from engine.model.sixd import geodesic_angle, sixd_to_matrix
from engine.model.v2p import V2PModel
from engine.model.weights import load_weights, save_weights
from engine.training.checkpoints import resume_checkpoint, save_checkpoint
from engine.training.distributed import DistContext, init_distributed, shard_range
from engine.training.step_loader import step_batches

__all__ = ["TrainSettings", "cmd_train", "fit", "train", "p2r_loss", "v2p_loss"]

logger = logging.getLogger(__name__)

WARMUP_STEPS = 50
VAL_BATCHES = 4
MAX_NOISE = 0.02  # P2R input noise level cap, fraction of rig height (see batching)
CLEAN_FRACTION = 0.5  # share of P2R training samples without input noise
POOL_SIZE = 1024  # procedural rigs in the training pool (rig generation is the slow part of data)
HINT_FRACTION = 0.5  # share of P2R training samples with orientation hints (orientation_cue models)
WORLD_ANGLE_WEIGHT = 0.1  # weight of the world-rotation angle in the loss of orientation_cue models


def _sample_mean(values: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Mean over samples of each sample's ``w``-weighted mean; ``values``, ``w``: ``(B, T, J)``."""
    return ((values * w).sum((1, 2)) / w.sum((1, 2)).clamp_min(1.0)).mean()


def p2r_loss(pred6d: torch.Tensor, target6d: torch.Tensor, joint_mask: torch.Tensor, rig: RigTensors | None = None,
             ) -> tuple[torch.Tensor, dict[str, float]]:
    """SmoothL1 on 6D + 0.1 x geodesic angle, per-sample masked mean over real joints and frames;
    with ``rig``, also :data:`WORLD_ANGLE_WEIGHT` x the world rotations' geodesic angle."""
    w = joint_mask[:, None, :].float().expand(pred6d.shape[:3])  # (B, T, J)
    l1 = _sample_mean(torch.nn.functional.smooth_l1_loss(pred6d, target6d, beta=0.05, reduction="none").mean(-1), w)
    pred, target = sixd_to_matrix(pred6d), sixd_to_matrix(target6d)
    angle = _sample_mean(geodesic_angle(pred, target), w)
    loss, parts = l1 + 0.1 * angle, {"rot_l1": float(l1.detach()), "angle_deg": float(torch.rad2deg(angle.detach()))}
    if rig is not None:
        world = _sample_mean(geodesic_angle(world_rotations_padded(pred, rig.parents, rig.depth),
                                            world_rotations_padded(target, rig.parents, rig.depth)), w)
        loss = loss + WORLD_ANGLE_WEIGHT * world
        parts["world_angle_deg"] = float(torch.rad2deg(world.detach()))
    return loss, parts


def v2p_loss(pred: torch.Tensor, target: torch.Tensor, joint_mask: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 on model-space positions, per-sample masked mean over real joints; also MPJPE (model units)."""
    w = joint_mask[:, None, :].float().expand(pred.shape[:3])  # (B, T, J)
    l1 = _sample_mean((pred - target).abs().mean(-1), w)
    mpjpe = _sample_mean((pred - target).norm(dim=-1), w)
    return l1, {"pos_l1": float(l1.detach()), "mpjpe": float(mpjpe.detach())}


@dataclass(frozen=True)
class TrainSettings:
    """Settings of one run (the ``train`` CLI arguments).

    Attributes:
        kind: ``"p2r"`` or ``"v2p"``.
        out: run folder.
        steps: total optimisation steps (a resumed run continues up to this count).
        batch: samples per step.
        lr: peak learning rate.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        data: shared data folder for real motions (free licences only), or None.
        resume: continue from ``out/optimizer.pt`` and ``out/model.*``.
        seed: data and initialisation seed.
        config: JSON text or file with model config overrides.
        max_minutes: stop (checkpointing first) after this much wall time, or None.
        threads: torch threads of the model step on the CPU.
        data_workers: processes building batches ahead (0: in the training process).
        pool_size: procedural rigs in the training pool (validation uses a quarter).
        init: weights to start from (warm start; see the module docstring), or None.
    """

    kind: str
    out: Path
    steps: int
    batch: int
    lr: float
    device: str = "auto"
    data: str | None = None
    resume: bool = False
    seed: int = 0
    config: str | None = None
    max_minutes: float | None = None
    threads: int = 1  # 2 were slower than 1 on the 2-core machine (README "Training at scale")
    data_workers: int = 1
    pool_size: int = POOL_SIZE
    init: str | None = None

    @property
    def checkpoint_every(self) -> int:
        """Validate and checkpoint every this many steps (and at the last step)."""
        return max(10, min(250, self.steps // 10))

    @property
    def log_every(self) -> int:
        return max(1, min(25, self.steps // 20))


def _build_model(s: TrainSettings) -> torch.nn.Module:
    if s.resume and (s.out / "model.json").is_file():
        return load_weights(s.out / "model").train()
    cfg: P2RConfig | V2PConfig = P2RConfig() if s.kind == "p2r" else V2PConfig()
    if s.config:
        text = Path(s.config).read_text() if Path(s.config).is_file() else s.config
        overrides = json.loads(text)
        overrides = overrides.get("config", overrides)
        cfg = config_from_json({"kind": s.kind, "config": {**vars(cfg), **overrides}})
    model = P2RModel(cfg) if s.kind == "p2r" else V2PModel(cfg)
    if s.init:
        warm_start(model, load_weights(s.init))
    return model.train()


def warm_start(model: torch.nn.Module, source: torch.nn.Module) -> None:
    """Copy ``source``'s weights into ``model`` (same kind; ``model`` may take more frame inputs and
    give more outputs).

    A weight or bias that grew (the first layer's inputs, the head's outputs) gets the old values
    and zeros for the new ones; any other difference in shape or name is an error naming the tensor.
    """
    if type(model) is not type(source):
        raise ValueError(f"cannot start a {type(model).__name__} from {type(source).__name__} weights")
    own = model.state_dict()
    given = source.state_dict()
    missing = sorted(set(own) ^ set(given))
    if missing:
        raise ValueError(f"weights differ in tensors {missing[:5]}: not the same architecture")
    with torch.no_grad():
        for name, value in given.items():
            target = own[name]
            grown = [a - b for a, b in zip(target.shape, value.shape)]
            if target.dim() == value.dim() and min(grown, default=0) >= 0 and sum(g > 0 for g in grown) <= 1:  # one axis grew at most
                target.zero_()
                target[tuple(slice(0, n) for n in value.shape)] = value
            else:
                raise ValueError(f"{name}: shape {tuple(value.shape)} does not fit {tuple(target.shape)}")


def _lr_factor(step: int, total: int) -> float:
    if step < WARMUP_STEPS:
        return (step + 1) / WARMUP_STEPS
    progress = min(1.0, (step - WARMUP_STEPS) / max(1, total - WARMUP_STEPS))
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))


def _forward(model: torch.nn.Module, batch: Batch, rng: np.random.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(model, P2RModel):
        state = model.prepare(batch.rig)
        world_rig = batch.rig if model.cfg.orientation_cue else None
        return p2r_loss(model(batch.positions, state, hints=batch.hints), batch.rot6d, batch.rig.joint_mask, world_rig)
    state = model.prepare(batch.rig)
    tokens, mask = landmark_tokens(batch.clean_positions, batch.rig.joint_mask, model.cfg.num_token_ids or 33, rng)
    pred = model(tokens.to(batch.positions.device), mask.to(batch.positions.device), state)
    return v2p_loss(pred, batch.clean_positions, batch.rig.joint_mask)


class _LossOf(torch.nn.Module):
    """The training loss as one module (what DistributedDataParallel wraps: every parameter is used in ``forward``)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch, rng: np.random.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        return _forward(self.model, batch, rng)


def _batch(ds, step: int, size: int, rng: np.random.Generator, noise: float, clean_fraction: float = 0.0, hint_fraction: float | None = None) -> Batch:
    start = (step * size) % len(ds)
    return make_batch([ds[(start + b) % len(ds)] for b in range(size)], rng, noise, clean_fraction, hint_fraction)


def _shard_batch(ds, seed: int, global_batch: int, shard: range, noise: float, clean_fraction: float, hint_fraction: float | None, step: int) -> Batch:
    """This rank's samples of step ``step``: sample ``i`` is dataset item ``step * B + i`` with noise seeded by (seed, step, i)."""
    samples = [ds[(step * global_batch + i) % len(ds)] for i in shard]
    return make_batch(samples, [np.random.default_rng([seed, 2, step, i]) for i in shard], noise, clean_fraction, hint_fraction)


def _validate(model: torch.nn.Module, val_sets: dict[str, list[Batch]], device: torch.device, seed: int) -> dict[str, float]:
    """Mean loss and loss parts per validation set (``val_<set>_<name>``); ``val_loss`` averages the sets."""
    model.eval()
    out: dict[str, float] = {}
    with torch.no_grad():
        for set_name, batches in val_sets.items():
            for batch in batches:
                loss, parts = _forward(model, batch.to(device), np.random.default_rng(seed))
                for k, v in {"loss": float(loss), **parts}.items():
                    key = f"val_{set_name}_{k}"
                    out[key] = out.get(key, 0.0) + v / len(batches)
    model.train()
    out["val_loss"] = sum(out[f"val_{name}_loss"] for name in val_sets) / len(val_sets)
    return out


def train(s: TrainSettings) -> dict[str, float]:
    """Run (or resume) training; returns the last validation metrics (on rank 0; ``{}`` on the other ranks)."""
    ctx = init_distributed(resolve_device(s.device))
    try:
        return fit(s, ctx)[1]
    finally:
        ctx.close()


def fit(s: TrainSettings, ctx: DistContext) -> tuple[torch.nn.Module, dict[str, float]]:
    """Train as rank ``ctx.rank`` of ``ctx.world_size`` (the process group already joined).

    Returns:
        This rank's model after the last step, and the last validation metrics (``{}`` off rank 0).
    """
    from functools import partial

    from engine.synthetic.dataset import MotionDataset  # imported here: heavy, and only training needs it

    device = ctx.device
    if device.type == "cpu":
        torch.set_num_threads(s.threads)
    shard = shard_range(s.batch, ctx)
    torch.manual_seed(s.seed)  # the same initial weights on every rank
    s.out.mkdir(parents=True, exist_ok=True)
    model = _build_model(s).to(device)
    loss_of = ctx.wrap(_LossOf(model))
    window = model.cfg.window
    opt = torch.optim.AdamW(model.parameters(), lr=s.lr, weight_decay=0.01)
    start, best = resume_checkpoint(opt, s.out) if s.resume else (0, float("inf"))
    data_dir = Path(s.data) if s.data else None
    train_ds = MotionDataset(seed=s.seed, split="train", window=window, real_data_dir=data_dir, licence_filter="free", pool_size=s.pool_size)
    noise = MAX_NOISE if s.kind == "p2r" else 0.0
    hinted = isinstance(model, P2RModel) and model.cfg.orientation_cue
    make = partial(_shard_batch, train_ds, s.seed, s.batch, shard, noise, CLEAN_FRACTION if s.kind == "p2r" else 0.0, HINT_FRACTION if hinted else None)
    val_sets: dict[str, list[Batch]] = {}
    if ctx.is_main:
        val_ds = MotionDataset(seed=s.seed, split="val", window=window, real_data_dir=data_dir, licence_filter="free", pool_size=s.pool_size)
        val_rng = np.random.default_rng([s.seed, 1])
        val_sets["clean"] = [_batch(val_ds, i, s.batch, val_rng, 0.0) for i in range(VAL_BATCHES)]
        if s.kind == "p2r":
            val_sets["noisy"] = [_batch(val_ds, i, s.batch, val_rng, MAX_NOISE) for i in range(VAL_BATCHES)]
        if hinted:
            val_sets["hinted"] = [_batch(val_ds, i, s.batch, val_rng, MAX_NOISE, 0.0, 1.0) for i in range(VAL_BATCHES)]
    extra = {"kind": s.kind, "data": "procedural" + (f" + free-licence real motions from {data_dir}" if data_dir else ""), "seed": s.seed,
             "world_size": ctx.world_size, "global_batch": s.batch, "init": s.init}
    metrics: dict[str, float] = {}
    t0 = time.monotonic()
    validating_s = 0.0  # rank 0's validation and checkpoint time, left out of the throughput
    steps_done = 0
    log = open(s.out / "log.jsonl", "a") if ctx.is_main else None
    bar = tqdm(range(start, s.steps), initial=start, total=s.steps, desc=f"train {s.kind}", disable=not ctx.is_main)
    batches = step_batches(make, start, s.steps, s.data_workers)
    try:
        for step, batch in zip(bar, batches):
            batch = batch.to(device)
            rng = np.random.default_rng([s.seed, 3, step, ctx.rank])  # V2P stand-in tokens
            for group in opt.param_groups:
                group["lr"] = s.lr * _lr_factor(step, s.steps)
            loss, parts = loss_of(batch, rng)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # every rank: DDP averages the gradients here
            # The same averaged gradients on every rank, so all ranks skip a bad step together.
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            if not torch.isfinite(grad_norm):  # an overflowing gradient would turn every weight into NaN
                logger.warning("step %d: non-finite loss or gradient norm, skipped", step)
                opt.zero_grad(set_to_none=True)
                continue
            opt.step()
            steps_done += 1
            bar.set_postfix(loss=f"{float(loss.detach()):.4f}", **{k: f"{v:.3g}" for k, v in parts.items()})
            if step % s.log_every == 0:
                logged = ctx.mean({"loss": float(loss.detach()), **parts})
                if log is not None:
                    log.write(json.dumps({"step": step, **logged, "lr": opt.param_groups[0]["lr"], "elapsed_s": time.monotonic() - t0}) + "\n")
                    log.flush()
            out_of_time = ctx.any(s.max_minutes is not None and time.monotonic() - t0 > 60.0 * s.max_minutes)
            last = step == s.steps - 1 or out_of_time
            if ctx.is_main and (step % s.checkpoint_every == 0 or last):
                t_val = time.monotonic()
                metrics = _validate(model, val_sets, device, s.seed)
                log.write(json.dumps({"step": step, **metrics, "elapsed_s": time.monotonic() - t0}) + "\n")
                log.flush()
                if metrics["val_loss"] < best:
                    best = metrics["val_loss"]
                    save_weights(model, s.out / "best", {**extra, "step": step, **metrics})
                save_checkpoint(model, opt, s.out, step, best, extra)
                validating_s += time.monotonic() - t_val
            if out_of_time:
                logger.info("stopping at step %d: --max-minutes %.1f reached", step, s.max_minutes)
                break
        if log is not None:
            row = {"step": s.steps - 1 if steps_done == 0 else step, **_throughput(steps_done, s.batch, time.monotonic() - t0 - validating_s, ctx)}
            log.write(json.dumps(row) + "\n")
    finally:
        bar.close()
        if log is not None:
            log.close()
    ctx.barrier()  # the last checkpoint is on disk before any rank returns
    return model, metrics


def _throughput(steps: int, global_batch: int, train_s: float, ctx: DistContext) -> dict[str, float]:
    """The run's training speed (rank 0's wall time without validation and checkpoints), logged at the end."""
    rate = steps * global_batch / max(train_s, 1e-9)
    logger.info("trained %d steps x %d samples in %.1f s: %.2f samples/s (%d process%s, %s)",
                steps, global_batch, train_s, rate, ctx.world_size, "es" if ctx.distributed else "", ctx.device)
    return {"throughput": {"steps": steps, "global_batch": global_batch, "train_s": round(train_s, 2), "samples_per_s": round(rate, 3),
                           "world_size": ctx.world_size, "threads": torch.get_num_threads(), "device": str(ctx.device)}}


def cmd_train(args: argparse.Namespace) -> int:
    """CLI handler of ``train`` (see ``main.py``); ``v2p-landmarks`` is the live landmark V2P."""
    if args.model == "v2p-landmarks":
        from engine.training.v2p_landmarks import train_v2p_landmarks

        return train_v2p_landmarks(args)
    settings = TrainSettings(
        args.model, Path(args.out), args.steps, args.batch, args.lr, args.device, args.data, args.resume, args.seed, args.config,
        args.max_minutes, args.threads, args.data_workers, init=args.init,
    )
    metrics = train(settings)
    logger.info("finished: %s", json.dumps(metrics))
    return 0
