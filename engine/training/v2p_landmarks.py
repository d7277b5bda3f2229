"""Train the landmark V2P (:mod:`engine.model.v2p_landmarks`) on human motion through the landmark simulator.

Data (DESIGN §5, shipped weights use freely licensed material only):

- human clips of ``../shared/data`` whose manifest licence is free
  (:func:`engine.training.data_licences.training_files`, which also drops the held-out skeletons of
  ``resources/eval_split.json``) and which name the humanoid bones the performer needs;
- the bundled humanoid's clips (authored here, CC0);
- procedural variation on top of them: mirrored motion, random playback speed (0.6-1.5x), random
  body size and per-bone proportions, and smooth random swings of the arms about the shoulders and
  the legs about the hips.

Every clip becomes performer positions at 30 fps (:func:`engine.performer.from_mocap.performer_positions_from_mocap`);
each training sample is a random T-frame window of one clip filmed by a random camera with
MediaPipe-like noise (:func:`engine.perception.landmark_simulator.simulate_landmarks`, noise levels
``NoiseConfig.realistic()`` scaled by a random factor in [0.3, 1.6]). Target: the clean performer
positions in the camera-aligned internal frame, pelvis-relative, / :data:`PERFORMER_SCALE`. The network
predicts a correction of the geometric mapping (see :mod:`engine.model.v2p_landmarks`); lost frames are
held as the live path holds them.

Validation: the held-out human skeleton (``AD_cmu1_31``: ``animated_drawings/cmu1/jumping_jacks.bvh``)
when present, else the bundled humanoid's ``walk``; the geometric mapping's score on the same
samples is logged beside it (``val_geo_mpjpe_cm``).

Loss: L1 on positions + 0.5 x L1 on frame-to-frame velocities (penalises jitter), both model space.
Optimiser: AdamW, warm-up then cosine decay (as :mod:`engine.training.trainer`), one CPU thread by
default. Like the trainer it runs under ``torchrun`` (:mod:`engine.training.distributed`: ``--batch``
is the global batch, sample ``i`` of step ``s`` seeded by (seed, 2, s, i), rank 0 validates and
writes) and builds batches ahead in ``data_workers`` processes (:mod:`engine.training.step_loader`).
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

from engine import rotations as rot
from engine.formats.clip_resample import resample_clip
from engine.model.config import V2PConfig, config_from_json
from engine.model.v2p import V2PModel
from engine.model.weights import load_weights, save_weights
from engine.perception.landmark_simulator import NoiseConfig, simulate_landmarks
from engine.perception.landmarks import world_to_internal
from engine.performer import NUM_PERFORMER_JOINTS, PERFORMER_JOINTS, PERFORMER_PARENTS, performer_index, performer_positions_from_world_landmarks
from engine.training.checkpoints import resume_checkpoint, save_checkpoint
from engine.training.distributed import DistContext, init_distributed, shard_range
from engine.training.step_loader import step_batches
from engine.model.v2p_landmarks import PERFORMER_SCALE, landmark_tokens_from_arrays, performer_rig_tensors

__all__ = ["LandmarkTrainConfig", "HumanMotion", "load_human_motions", "augment_motion", "simulate_batch", "train_v2p_landmarks"]

logger = logging.getLogger(__name__)

FPS = 30.0
VAL_FILE = "animated_drawings/cmu1/jumping_jacks.bvh"  # the held-out human skeleton (AD_cmu1_31)
# Shipped default: small enough for the CPU budget of DESIGN §6 at J = 28.
DEFAULT_CONFIG = V2PConfig(width=64, heads=4, rig_layers=1, layers=2, window=32, token_dim=4, num_token_ids=33)
_MIRROR = np.array([PERFORMER_JOINTS.index(n.replace("left_", "#").replace("right_", "left_").replace("#", "right_")) for n in PERFORMER_JOINTS])


@dataclass(frozen=True)
class LandmarkTrainConfig:
    """Settings of one run (from the ``train v2p`` command line)."""

    out: Path
    steps: int = 3300
    batch: int = 8
    frames: int = 24  # T of a training window (<= the model window)
    lr: float = 1e-3
    data: Path | None = None
    resume: bool = False
    seed: int = 0
    config: str | None = None
    max_minutes: float | None = None  # stop (and save) after this long
    threads: int = 1  # torch threads on the CPU: 2 were slower than 1 on the 2-core machine
    data_workers: int = 1  # processes simulating batches ahead (0: in the training process)
    device: str = "auto"


@dataclass(frozen=True)
class HumanMotion:
    """One clip as performer positions ``(T, 28, 3)`` at 30 fps, metres, Y up (``name`` says where from)."""

    name: str
    positions: np.ndarray


def load_human_motions(data_dir: Path | None, *, include_bundled: bool = True, only: str | None = None) -> list[HumanMotion]:
    """The freely licensed human clips (see the module docstring), as performer positions at 30 fps.

    Args:
        data_dir: the shared data folder, or None for the bundled clips only.
        include_bundled: add the bundled humanoid's clips.
        only: load just this relative file (ignoring the licence/held-out filters: validation).
    """
    from engine.training.data_licences import read_manifest, training_files
    from engine.performer.from_mocap import MocapError, performer_positions_from_mocap
    from engine.formats.rigio import load_rig

    motions: list[HumanMotion] = []
    if data_dir is not None:
        if only is not None:
            entries = [e for e in read_manifest(data_dir).values() if e.file == only]
        else:
            entries = [e for e in training_files(data_dir, "free") if e.category == "human"]
        for e in entries:
            rig = load_rig(data_dir / e.file)
            for clip in rig.clips:
                if clip.num_frames < 8:
                    continue
                try:
                    pos = performer_positions_from_mocap(rig.skeleton, resample_clip(clip, FPS), rig.humanoid or None)
                except MocapError as exc:
                    logger.info("skipped %s: %s", e.file, exc)
                    break
                motions.append(HumanMotion(f"{e.file}:{clip.name}", pos))
    if include_bundled and only is None:
        from engine.rigs.bundled import build_rig

        authored = build_rig("humanoid")
        for clip in authored.file_clips():
            if clip.num_frames >= 8:
                pos = performer_positions_from_mocap(authored.rig.skeleton, resample_clip(clip, FPS), authored.rig.humanoid or None)
                motions.append(HumanMotion(f"bundled/humanoid:{clip.name}", pos))
    return motions


def _torso(p: np.ndarray) -> float:
    return float(np.median(np.linalg.norm(p[:, performer_index("neck")] - p[:, performer_index("pelvis")], axis=-1)))


def _smooth_angles(T: int, amplitude: float, rng: np.random.Generator) -> np.ndarray:
    """``(T, 3)`` a smooth random rotation vector track (sum of two sines per axis), radians."""
    t = np.arange(T)[:, None] / FPS
    freq = rng.uniform(0.2, 1.2, (2, 3))
    phase = rng.uniform(0, 2 * np.pi, (2, 3))
    amp = rng.uniform(0, amplitude, (2, 3)) / 2
    return (amp[0] * np.sin(2 * np.pi * freq[0] * t + phase[0]) + amp[1] * np.sin(2 * np.pi * freq[1] * t + phase[1]))


def _subtree(root: int) -> list[int]:
    out = [root]
    for j, p in enumerate(PERFORMER_PARENTS):
        if p in out and j not in out:
            out.append(j)
    return out


def augment_motion(positions: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A randomly varied copy of performer positions ``(T, 28, 3)`` (see the module docstring)."""
    p = np.array(positions, dtype=np.float64)
    if rng.random() < 0.5:  # mirror: x -> -x, left <-> right
        p = p[:, _MIRROR] * np.array([-1.0, 1.0, 1.0])
    # Per-bone proportions (symmetric), then overall size; rebuilt parent-first.
    factors = rng.uniform(0.88, 1.12, NUM_PERFORMER_JOINTS)
    factors = 0.5 * (factors + factors[_MIRROR])
    out = p.copy()
    for j in range(1, NUM_PERFORMER_JOINTS):
        par = PERFORMER_PARENTS[j]
        out[:, j] = out[:, par] + factors[j] * (p[:, j] - p[:, par])
    p = out
    p *= rng.uniform(0.42, 0.56) / max(_torso(p), 1e-6)
    # Smooth random swings of the limbs about their first joint.
    T = p.shape[0]
    for side in ("left", "right"):
        for chain, amplitude in ((f"{side}_upper_arm", 1.2), (f"{side}_upper_leg", 0.5)):
            if rng.random() < 0.5:
                root = performer_index(chain)
                mats = rot.axis_angle_to_matrix(_smooth_angles(T, amplitude, rng))  # (T, 3, 3)
                idx = _subtree(root)[1:]
                p[:, idx] = p[:, root, None] + np.einsum("tab,tjb->tja", mats, p[:, idx] - p[:, root, None])
    return p


def _window(motion: np.ndarray, T: int, rng: np.random.Generator) -> np.ndarray:
    """``T`` frames of ``motion`` at a random speed (linear interpolation; short clips loop back and forth)."""
    speed = rng.uniform(0.6, 1.5)
    n = motion.shape[0]
    start = rng.uniform(0, max(n - 1 - speed * (T - 1), 0))
    f = start + speed * np.arange(T)
    period = 2 * (n - 1)
    f = np.abs(((f % period) + period) % period)
    f = np.where(f > n - 1, period - f, f)  # ping-pong past the end
    i0 = np.floor(f).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (f - i0)[:, None, None]
    return (1 - w) * motion[i0] + w * motion[i1]


def _noise(rng: np.random.Generator) -> NoiseConfig:
    base, k = NoiseConfig.realistic(), rng.uniform(0.3, 1.6)
    return NoiseConfig(depth_noise_m=k * base.depth_noise_m, depth_drift_m=k * base.depth_drift_m, drift_rho=base.drift_rho,
                       jitter_m=k * base.jitter_m, image_jitter=k * base.image_jitter, occluded_noise_m=k * base.occluded_noise_m,
                       dropout_start=k * base.dropout_start, dropout_mean_frames=base.dropout_mean_frames,
                       visibility_noise=base.visibility_noise, hip_width_scale=base.hip_width_scale)


def _hold_lost(world: np.ndarray, visibility: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Frames without a person replaced by the last frame with one, as the live path's
    :class:`engine.perception.hold.LandmarkHold` does (frames before the first detection stay empty)."""
    world, visibility, found = world.copy(), visibility.copy(), found.copy()
    for t in range(1, len(found)):
        if not found[t] and found[t - 1]:
            world[t], visibility[t], found[t] = world[t - 1], visibility[t - 1], True
    return world, visibility, found


def simulate_batch(motions: list[HumanMotion], batch: int, T: int, rng: np.random.Generator | list[np.random.Generator], *,
                   augment: bool = True) -> dict[str, torch.Tensor]:
    """A training batch: ``tokens (B, T, 33, 4)``, ``mask (B, T, 33)``, ``target (B, T, 28, 3)`` model space,
    ``geometric (B, T, 28, 3)``: the geometric mapping of the same (held) landmarks, model space (the base
    the network corrects, see :mod:`engine.model.v2p_landmarks`), and ``found (B, T)``.

    ``rng`` is one generator for the batch or one per sample (``batch`` of them: sample ``b`` then
    depends only on its own, so a batch split over processes simulates the same samples).
    """
    weights = np.array([np.sqrt(m.positions.shape[0]) for m in motions])
    rngs = rng if isinstance(rng, list) else [rng] * batch
    if len(rngs) != batch:
        raise ValueError(f"simulate_batch: {len(rngs)} generators for a batch of {batch}")
    tokens, masks, targets, geo = [], [], [], []
    for rng in rngs:
        m = motions[rng.choice(len(motions), p=weights / weights.sum())]
        pos = _window(m.positions, T, rng)
        pos = augment_motion(pos, rng) if augment else pos
        clip = simulate_landmarks(pos, fps=FPS, seed=int(rng.integers(2**31)), noise=_noise(rng))
        s = clip.stacked()
        world, vis, found = _hold_lost(world_to_internal(s["world"]), s["visibility"], s["person_found"])
        tok, mask = landmark_tokens_from_arrays(world, vis, found)
        tokens.append(tok)
        masks.append(mask)
        targets.append(clip.targets / PERFORMER_SCALE)
        geo.append(performer_positions_from_world_landmarks(world) * found[:, None, None] / PERFORMER_SCALE)
    f32 = lambda xs: torch.from_numpy(np.stack(xs).astype(np.float32))  # noqa: E731
    mask_t = torch.from_numpy(np.stack(masks))
    return {"tokens": f32(tokens), "mask": mask_t, "target": f32(targets), "geometric": f32(geo), "found": mask_t[..., 0].clone()}


def landmark_v2p_loss(pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 positions + 0.5 x L1 velocities (model space); also MPJPE in cm (x PERFORMER_SCALE)."""
    pos = (pred - target).abs().mean()
    vel = ((pred[:, 1:] - pred[:, :-1]) - (target[:, 1:] - target[:, :-1])).abs().mean()
    mpjpe_cm = float((pred - target).norm(dim=-1).mean().detach()) * PERFORMER_SCALE * 100
    return pos + 0.5 * vel, {"pos_l1": float(pos.detach()), "vel_l1": float(vel.detach()), "mpjpe_cm": mpjpe_cm}


def _lr_factor(step: int, total: int, warmup: int = 100) -> float:
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 0.05 + 0.95 * 0.5 * (1.0 + math.cos(math.pi * progress))


class _LandmarkLoss(torch.nn.Module):
    """The training loss as one module (what DistributedDataParallel wraps): the network predicts a
    residual on the geometric mapping."""

    def __init__(self, model: V2PModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, b: dict[str, torch.Tensor], rig) -> tuple[torch.Tensor, dict[str, float]]:
        B = b["tokens"].shape[0]
        state = self.model.prepare(rig)
        state = state._replace(query=state.query.expand(B, -1, -1), ref_pos=state.ref_pos.expand(B, -1, -1))
        pred = b["geometric"] + self.model(b["tokens"], b["mask"], state) - state.ref_pos[:, None]
        return landmark_v2p_loss(pred, b["target"])


def _shard_batch(motions: list[HumanMotion], frames: int, seed: int, shard: range, step: int) -> dict[str, torch.Tensor]:
    """This rank's samples of step ``step`` (sample ``i`` seeded by (seed, 2, step, i))."""
    return simulate_batch(motions, len(shard), frames, [np.random.default_rng([seed, 2, step, i]) for i in shard])


def _build_model(cfg: LandmarkTrainConfig) -> V2PModel:
    if cfg.resume and (cfg.out / "model.json").is_file():
        model = load_weights(cfg.out / "model")
        assert isinstance(model, V2PModel)
        return model.train()
    config = DEFAULT_CONFIG
    if cfg.config:
        text = Path(cfg.config).read_text() if Path(cfg.config).is_file() else cfg.config
        overrides = json.loads(text)
        config = config_from_json({"kind": "v2p", "config": {**vars(config), **overrides.get("config", overrides)}})  # type: ignore[assignment]
    return V2PModel(config).train()


def _validate(model: V2PModel, rig, batches: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    model.eval()
    tot: dict[str, float] = {}
    with torch.no_grad():
        state = model.prepare(rig)
        for b in batches:
            B = b["tokens"].shape[0]
            st = state._replace(query=state.query.expand(B, -1, -1), ref_pos=state.ref_pos.expand(B, -1, -1))
            pred = b["geometric"] + model(b["tokens"], b["mask"], st) - st.ref_pos[:, None]
            _, parts = landmark_v2p_loss(pred, b["target"])
            geo_err = (b["geometric"] - b["target"]).norm(dim=-1)  # frames without a person hold zeros: score found frames
            found = b["found"][..., None].float()
            parts["geo_mpjpe_cm"] = float((geo_err * found).sum() / (found.sum() * geo_err.shape[-1]).clamp_min(1)) * PERFORMER_SCALE * 100
            for k, v in parts.items():
                tot[f"val_{k}"] = tot.get(f"val_{k}", 0.0) + v / len(batches)
    model.train()
    return tot


def train_landmark_v2p(cfg: LandmarkTrainConfig) -> dict[str, float]:
    """Run (or resume) a training; writes ``model.*``, ``best.*``, ``optimizer.pt`` and ``log.jsonl`` in ``cfg.out``.

    Returns the last validation metrics on rank 0 (``{}`` on the other ranks of a torchrun run).
    """
    from engine.model.session import resolve_device

    ctx = init_distributed(resolve_device(cfg.device))
    try:
        return _train(cfg, ctx)
    finally:
        ctx.close()


def _train(cfg: LandmarkTrainConfig, ctx: DistContext) -> dict[str, float]:
    from functools import partial

    device = ctx.device
    torch.set_num_threads(cfg.threads)
    shard = shard_range(cfg.batch, ctx)
    torch.manual_seed(cfg.seed)
    cfg.out.mkdir(parents=True, exist_ok=True)
    motions = load_human_motions(cfg.data)
    if not motions:
        raise ValueError("no training motions found")
    if ctx.is_main:
        logger.info("training motions: %d clips, %d frames: %s", len(motions), sum(m.positions.shape[0] for m in motions), [m.name for m in motions])
    val_motions = load_human_motions(cfg.data, only=VAL_FILE) if cfg.data else []
    val_motions = val_motions or [m for m in motions if m.name.endswith(":walk")]
    val_rng = np.random.default_rng([cfg.seed, 7])
    val_batches = [_to(simulate_batch(val_motions, 16, cfg.frames, val_rng, augment=False), device) for _ in range(3)] if ctx.is_main else []
    model = _build_model(cfg).to(device)
    loss_of = ctx.wrap(_LandmarkLoss(model))
    rig = performer_rig_tensors().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.01)
    start, best = resume_checkpoint(opt, cfg.out) if cfg.resume else (0, float("inf"))
    extra = {"kind": "v2p_landmarks", "data": "free-licence human clips (" + ", ".join(sorted({m.name.split(':')[0] for m in motions})) + ") + procedural variation",
             "validation": val_motions[0].name.split(":")[0], "seed": cfg.seed, "frames": cfg.frames, "batch": cfg.batch, "world_size": ctx.world_size}
    metrics: dict[str, float] = {}
    t0 = time.monotonic()
    every = max(50, min(250, cfg.steps // 20))
    batches = step_batches(partial(_shard_batch, motions, cfg.frames, cfg.seed, shard), start, cfg.steps, cfg.data_workers)
    log = open(cfg.out / "log.jsonl", "a") if ctx.is_main else None
    try:
        for step, b in zip(range(start, cfg.steps), batches):
            for group in opt.param_groups:
                group["lr"] = cfg.lr * _lr_factor(step, cfg.steps)
            loss, parts = loss_of(_to(b, device), rig)
            opt.zero_grad(set_to_none=True)
            loss.backward()  # every rank: DDP averages the gradients here
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            elapsed = time.monotonic() - t0
            if step % 10 == 0:
                logged = ctx.mean({"loss": float(loss.detach()), **parts})
                if log is not None:
                    log.write(json.dumps({"step": step, **logged, "elapsed_s": round(elapsed, 1)}) + "\n")
                    log.flush()
            out_of_time = ctx.any(cfg.max_minutes is not None and elapsed > 60 * cfg.max_minutes)
            if ctx.is_main and (step % every == 0 or step == cfg.steps - 1 or out_of_time):
                metrics = _validate(model, rig, val_batches)
                log.write(json.dumps({"step": step, **metrics, "elapsed_s": round(elapsed, 1)}) + "\n")
                log.flush()
                logger.info("step %d: %s", step, {k: round(v, 3) for k, v in metrics.items()})
                if metrics["val_mpjpe_cm"] < best:
                    best = metrics["val_mpjpe_cm"]
                    save_weights(model, cfg.out / "best", {**extra, "step": step, **metrics})
                save_checkpoint(model, opt, cfg.out, step, best, extra)
            if out_of_time:
                logger.info("time limit reached at step %d", step)
                break
    finally:
        if log is not None:
            log.close()
    ctx.barrier()  # the last checkpoint is on disk before any rank returns
    return metrics


def _to(b: dict[str, torch.Tensor], device: torch.device) -> dict[str, torch.Tensor]:
    return {k: v.to(device) for k, v in b.items()}


def train_v2p_landmarks(args: argparse.Namespace) -> int:
    """Entry point for ``python main.py train v2p`` (the landmark variant); reads the ``train`` options.

    Uses ``args.out``, ``args.steps``, ``args.batch``, ``args.lr``, ``args.data``, ``args.resume``,
    ``args.seed``, ``args.config`` and, when present, ``args.max_minutes``, ``args.threads``,
    ``args.data_workers`` and ``args.device``.
    """
    cfg = LandmarkTrainConfig(out=Path(args.out), steps=args.steps, batch=args.batch, lr=args.lr,
                              data=Path(args.data) if args.data else None, resume=args.resume, seed=args.seed,
                              config=args.config, max_minutes=getattr(args, "max_minutes", None),
                              threads=getattr(args, "threads", 1), data_workers=getattr(args, "data_workers", 1),
                              device=getattr(args, "device", "auto"))
    metrics = train_landmark_v2p(cfg)
    logger.info("finished: %s", json.dumps(metrics))
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.training.v2p_landmarks --out DIR [--steps N] ...`` (same options as ``train v2p``)."""
    p = argparse.ArgumentParser(prog="python -m engine.training.v2p_landmarks", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=LandmarkTrainConfig.steps)
    p.add_argument("--batch", type=int, default=LandmarkTrainConfig.batch)
    p.add_argument("--lr", type=float, default=LandmarkTrainConfig.lr)
    p.add_argument("--data", default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", default=None)
    p.add_argument("--max-minutes", type=float, default=None)
    p.add_argument("--threads", type=int, default=LandmarkTrainConfig.threads)
    p.add_argument("--data-workers", type=int, default=LandmarkTrainConfig.data_workers)
    p.add_argument("--device", default=LandmarkTrainConfig.device)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return train_v2p_landmarks(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
