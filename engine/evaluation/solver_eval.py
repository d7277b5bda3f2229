"""``python main.py eval``: learned P2R against the analytic IK baseline on a folder of rigs.

Protocol. Every BVH / glTF / GLB / VRM file under ``--data`` is loaded (``engine.formats.rigio``); with
``--split FILE`` only the skeletons (manifest ``skeleton`` ids) or files listed there are kept.
For each clip with at least two frames, frame 0 is the reference pose-rotation pair (ground-truth
positions and local rotations) and frames ``1 .. --max-frames`` are evaluated: the solvers get the
ground-truth world joint positions, plus Gaussian noise of standard deviation
``--noise * skeleton height`` when asked (seeded per clip, the same for every solver); the
reference stays clean. Each solver is ``reset`` once per clip and runs ``solve`` on the frames;
``step`` is timed separately on the first :data:`STEP_FRAMES` frames of each skeleton.

Metrics (per skeleton, pooled over its clips and frames):

- ``rot_err_deg_determined``: mean geodesic angle in degrees between predicted and ground-truth
  local rotations over *determined* joints (joints with a child at a non-zero rest offset that
  the clip does not translate, whose rotation the positions fix up to twist:
  :func:`engine.solvers.analytic_ik.determined_joints`); ``null`` for a rig without any;
- ``rot_err_deg_all``: the same over all joints (leaf rotations are invisible in positions);
- ``mpjpe_pct_height``: mean joint position error of forward kinematics of the predicted
  rotations (with the clip's ground-truth local translations: root trajectory and rest offsets)
  against the clean ground-truth positions, in percent of the skeleton height;
- ``fps``: frames per second of ``solve``; ``step_fps``: of per-frame ``step`` calls.

JSON report (``--json OUT``)::

    {
      "schema_version": 1,
      "data": str, "split": str | null, "noise": float, "max_frames": int, "seed": int,
      "solvers": {NAME: {"available": bool, "reason": str | null, "weights": str | null}},
      "overall": {NAME: METRICS},         # mean over skeletons (each skeleton counts once);
                                          # fps/step_fps/frames pooled over all frames
      "overall_frames": {NAME: METRICS},  # pooled over all evaluated frames
      "skeletons": {SKELETON_ID: {
          "files": [str], "clips": int, "frames": int, "joints": int,
          "determined_joints": int, "height_m": float,
          "solvers": {NAME: METRICS}}},
      "errors": [{"file": str, "solver": str | null, "error": str}]
    }
    METRICS = {"rot_err_deg_determined": float | null, "rot_err_deg_all": float,
               "mpjpe_pct_height": float, "fps": float, "step_fps": float, "frames": int}

Solver names: ``"analytic_ik"`` (told the ``--noise`` level, so it shrinks uncertain rotation changes
towards the reference) and ``"ref_hold"`` always (``ref_hold`` outputs the reference
rotations on every frame: the floor any solver must beat), ``"p2r"`` when ``engine.solvers.learned_p2r`` imports and weights load (``--weights`` or
the shipped default; run on CUDA when available); otherwise ``solvers["p2r"]`` says why not.
``SKELETON_ID`` is the manifest id when ``DIR/manifest.csv`` lists the file, else its path
relative to ``DIR``.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.training.data_licences import load_split, read_manifest
from engine.errors import AnyRigError
from engine.solvers.analytic_ik import AnalyticIKSolver, determined_joints
from engine.kinematics import forward_kinematics
from engine.rig import Clip
from engine.solvers.base import RotationSolver
from engine.skeleton import Skeleton

__all__ = ["EvalConfig", "ReferenceHoldSolver", "SolverStats", "evaluate_clip", "evaluate_files", "load_p2r", "cmd_eval", "STEP_FRAMES", "SCHEMA_VERSION"]

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
STEP_FRAMES = 32  # frames per skeleton timed through step() (a learned model steps slowly on a CPU)


@dataclass(frozen=True)
class EvalConfig:
    """Evaluation settings.

    Attributes:
        noise: position noise standard deviation as a fraction of the skeleton height.
        max_frames: frames evaluated per clip (after the reference frame 0).
        seed: base seed of the noise (combined with a hash of file and clip name).
    """

    noise: float = 0.0
    max_frames: int = 300
    seed: int = 0


@dataclass
class SolverStats:
    """Running sums of one solver's errors and timings over some frames."""

    rot_det_sum: float = 0.0
    rot_det_count: int = 0
    rot_all_sum: float = 0.0
    rot_all_count: int = 0
    mpjpe_sum: float = 0.0  # percent of height, summed over joints and frames
    mpjpe_count: int = 0
    frames: int = 0
    solve_s: float = 0.0
    step_frames: int = 0
    step_s: float = 0.0

    def add(self, other: SolverStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def metrics(self) -> dict[str, float | int | None]:
        """The METRICS object of the report."""
        return {
            "rot_err_deg_determined": self.rot_det_sum / self.rot_det_count if self.rot_det_count else None,
            "rot_err_deg_all": self.rot_all_sum / self.rot_all_count if self.rot_all_count else None,
            "mpjpe_pct_height": self.mpjpe_sum / self.mpjpe_count if self.mpjpe_count else None,
            "fps": self.frames / self.solve_s if self.solve_s > 0 else None,
            "step_fps": self.step_frames / self.step_s if self.step_s > 0 else None,
            "frames": self.frames,
        }


def evaluate_clip(
    solver: RotationSolver, skeleton: Skeleton, clip: Clip, config: EvalConfig, noise_key: str = "", step_frames: int = STEP_FRAMES
) -> SolverStats | None:
    """Score one solver on one clip (frame 0 is the reference); None if the clip has < 2 frames.

    Args:
        solver: any :class:`~engine.solvers.base.RotationSolver`.
        skeleton: the clip's rig.
        clip: ground truth; only its first ``config.max_frames + 1`` frames are used.
        config: noise level, frame budget and seed.
        noise_key: text hashed into the noise seed (file and clip name), so every solver sees
            the same noisy positions.
        step_frames: frames to time through ``step`` (0: none; steps are slow for a learned
            model on a CPU, so the caller spends a budget per skeleton).
    """
    clip = clip.slice(0, config.max_frames + 1)
    if clip.num_frames < 2:
        return None
    gt_rot = rot.quat_normalize(clip.rotations)  # (T, J, 4)
    gt_pos = clip.positions(skeleton)  # (T, J, 3) world metres
    height = skeleton.height
    inputs = gt_pos[1:]
    if config.noise > 0:
        rng = np.random.default_rng([config.seed, zlib.crc32(noise_key.encode())])
        inputs = inputs + rng.normal(0.0, config.noise * height, inputs.shape)
    stats = SolverStats()
    solver.reset(skeleton, gt_pos[0], gt_rot[0])
    t0 = time.perf_counter()
    pred = np.asarray(solver.solve(inputs), dtype=np.float64)  # (T-1, J, 4)
    stats.solve_s = time.perf_counter() - t0
    n = len(inputs)
    stats.frames = n
    k = min(step_frames, n)
    if k > 0:
        solver.reset(skeleton, gt_pos[0], gt_rot[0])
        t0 = time.perf_counter()
        for frame in inputs[:k]:
            solver.step(frame)
        stats.step_s = time.perf_counter() - t0
        stats.step_frames = k
    err = np.degrees(rot.quat_geodesic_angle(pred, gt_rot[1:]))  # (T-1, J)
    det = determined_joints(skeleton, clip.translations)
    stats.rot_det_sum = float(err[:, det].sum())
    stats.rot_det_count = int(err[:, det].size)
    stats.rot_all_sum = float(err.sum())
    stats.rot_all_count = int(err.size)
    _, fk = forward_kinematics(skeleton.parents, rot.quat_to_matrix(pred), clip.translations[1:])
    pct = 100.0 * np.linalg.norm(fk - gt_pos[1:], axis=-1) / height  # (T-1, J)
    stats.mpjpe_sum = float(pct.sum())
    stats.mpjpe_count = int(pct.size)
    return stats


def load_p2r(weights: str | None) -> tuple[RotationSolver | None, str | None, str | None]:
    """The learned solver, or why it is unavailable: ``(solver, reason, weights path)``."""
    try:
        from engine.solvers.learned_p2r import DEFAULT_P2R_WEIGHTS, P2RSolver
        from engine.model.weights import weights_paths
    except ImportError as e:
        return None, f"engine.solvers.learned_p2r is not importable: {e}", weights
    path = Path(weights) if weights else Path(DEFAULT_P2R_WEIGHTS)
    if not weights_paths(path)[0].is_file():
        return None, f"no P2R weights at {weights_paths(path)[0]}", str(path)
    try:
        return P2RSolver.from_weights(path, device="auto"), None, str(path)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError, AnyRigError) as e:
        return None, f"loading P2R weights from {path} failed: {e}", str(path)


class ReferenceHoldSolver:
    """The trivial solver: every frame gets the reference pose's local rotations."""

    name = "ref_hold"
    takes_hints = False

    def __init__(self) -> None:
        self._ref: np.ndarray | None = None

    def reset(self, skeleton: Skeleton, ref_positions: np.ndarray, ref_rotations: np.ndarray) -> None:
        self._ref = rot.quat_normalize(np.asarray(ref_rotations, dtype=np.float64))

    def step(self, positions: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        if self._ref is None:
            raise RuntimeError("ReferenceHoldSolver.step called before reset()")
        return self._ref.copy()

    def solve(self, positions: np.ndarray) -> np.ndarray:
        if self._ref is None:
            raise RuntimeError("ReferenceHoldSolver.solve called before reset()")
        return np.broadcast_to(self._ref, (len(positions),) + self._ref.shape).copy()


@dataclass
class _SkeletonEntry:
    files: list[str] = field(default_factory=list)
    clips: int = 0
    frames: int = 0
    joints: int = 0
    determined: int = 0
    height: float = 0.0
    stats: dict[str, SolverStats] = field(default_factory=dict)


def _skeleton_report(entry: _SkeletonEntry) -> dict:
    return {
        "files": entry.files,
        "clips": entry.clips,
        "frames": entry.frames,
        "joints": entry.joints,
        "determined_joints": entry.determined,
        "height_m": entry.height,
        "solvers": {name: s.metrics() for name, s in entry.stats.items()},
    }


def _overall(entries: dict[str, _SkeletonEntry], names: list[str]) -> tuple[dict, dict]:
    """Mean over skeletons, and pooled over frames, per solver."""
    macro, pooled = {}, {}
    for name in names:
        total = SolverStats()
        per = []
        for e in entries.values():
            if name in e.stats:
                total.add(e.stats[name])
                per.append(e.stats[name].metrics())
        m = total.metrics()
        pooled[name] = m
        mean = dict(m)
        for key in ("rot_err_deg_determined", "rot_err_deg_all", "mpjpe_pct_height"):
            vals = [p[key] for p in per if p[key] is not None]
            mean[key] = float(np.mean(vals)) if vals else None
        macro[name] = mean
    return macro, pooled


def evaluate_files(
    files: list[tuple[Path, str, str]], solvers: list[RotationSolver], config: EvalConfig
) -> tuple[dict[str, _SkeletonEntry], list[dict]]:
    """Run every solver on every clip of the files.

    Args:
        files: ``(path, relative name, skeleton id)`` per rig file.
        solvers: the solvers to compare.
        config: evaluation settings.

    Returns:
        ``(per-skeleton entries, errors)``; a file that fails to load or a solver that fails on a
        clip is recorded in errors and skipped.
    """
    from engine.formats.rigio import load_rig

    entries: dict[str, _SkeletonEntry] = {}
    errors: list[dict] = []
    for path, rel, sid in files:
        try:
            rig = load_rig(path)
        except (AnyRigError, OSError, ValueError) as e:
            errors.append({"file": rel, "solver": None, "error": str(e)})
            logger.warning("skipping %s: %s", rel, e)
            continue
        sk = rig.skeleton
        entry = entries.setdefault(sid, _SkeletonEntry())
        entry.files.append(rel)
        entry.joints, entry.height = sk.num_joints, sk.height
        entry.determined = int(determined_joints(sk).sum())
        for clip in rig.clips:
            if clip.num_frames < 2:
                continue
            entry.clips += 1
            entry.frames += min(clip.num_frames - 1, config.max_frames)
            for solver in solvers:
                try:
                    done = entry.stats[solver.name].step_frames if solver.name in entry.stats else 0
                    stats = evaluate_clip(solver, sk, clip, config, f"{rel}#{clip.name}", max(STEP_FRAMES - done, 0))
                except (ValueError, RuntimeError, IndexError) as e:
                    errors.append({"file": rel, "solver": solver.name, "error": f"clip {clip.name!r}: {e}"})
                    logger.warning("%s on %s clip %r failed: %s", solver.name, rel, clip.name, e)
                    continue
                if stats is not None:
                    entry.stats.setdefault(solver.name, SolverStats()).add(stats)
        logger.info("evaluated %s (%s): %d clips", rel, sid, len(rig.clips))
    return entries, errors


def _select_files(data: Path, split_path: str | None) -> list[tuple[Path, str, str]]:
    from engine.formats.rigio import iter_rig_files

    manifest = read_manifest(data)
    split = load_split(split_path) if split_path else None
    out = []
    for path in sorted(iter_rig_files(data)):
        rel = path.relative_to(data).as_posix() if path.is_relative_to(data) else str(path)
        entry = manifest.get(rel)
        sid = entry.skeleton if entry is not None and entry.skeleton else rel
        if split is not None and not split.holds_out(rel, sid):
            continue
        out.append((path, rel, sid))
    return out


def _fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)


def cmd_eval(args) -> int:
    """Handler of ``main.py eval`` (arguments: see ``main.build_parser``); returns the exit code."""
    data = Path(args.data)
    if not data.is_dir():
        logger.error("--data %s is not a folder", data)
        return 2
    config = EvalConfig(noise=float(args.noise), max_frames=int(args.max_frames))
    files = _select_files(data, args.split)
    if not files:
        logger.error("no rig files to evaluate under %s%s", data, f" for split {args.split}" if args.split else "")
        return 2
    solvers: list[RotationSolver] = [AnalyticIKSolver(position_noise=config.noise), ReferenceHoldSolver()]
    info = {name: {"available": True, "reason": None, "weights": None} for name in ("analytic_ik", "ref_hold")}
    p2r, reason, weights = load_p2r(args.weights)
    info["p2r"] = {"available": p2r is not None, "reason": reason, "weights": weights}
    if p2r is not None:
        solvers.append(p2r)
    else:
        logger.warning("P2R not evaluated: %s", reason)
    entries, errors = evaluate_files(files, solvers, config)
    names = [s.name for s in solvers]
    overall, pooled = _overall(entries, names)
    report = {
        "schema_version": SCHEMA_VERSION,
        "data": str(data),
        "split": args.split,
        "noise": config.noise,
        "max_frames": config.max_frames,
        "seed": config.seed,
        "solvers": info,
        "overall": overall,
        "overall_frames": pooled,
        "skeletons": {sid: _skeleton_report(e) for sid, e in sorted(entries.items())},
        "errors": errors,
    }
    for sid, e in sorted(entries.items()):
        for name, s in e.stats.items():
            m = s.metrics()
            logger.info(
                "%-32s %-12s det %6s deg  all %6s deg  mpjpe %6s %%  %7s fps", sid, name,
                _fmt(m["rot_err_deg_determined"]), _fmt(m["rot_err_deg_all"]), _fmt(m["mpjpe_pct_height"]),
                _fmt(m["fps"], ".0f")
            )
    for name, m in overall.items():
        logger.info(
            "OVERALL %-12s det %6s deg  all %6s deg  mpjpe %6s %%  %7s fps", name, _fmt(m["rot_err_deg_determined"]),
            _fmt(m["rot_err_deg_all"]), _fmt(m["mpjpe_pct_height"]), _fmt(m["fps"], ".0f")
        )
    if args.json_out:
        Path(args.json_out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_out).write_text(json.dumps(report, indent=2), encoding="utf-8")
        logger.info("wrote %s", args.json_out)
    return 0
