"""``python main.py bench model``: per-frame step latency of P2R and V2P (DESIGN §6).

For every joint count J (25, 60, 100), window W = 32 and backend (eager, ``torch.compile``, and on
CUDA TensorRT when installed) it times one causal KV-cached step per frame (p50/p95 over
``--iters`` frames after a warm-up), and, for eager, the naive alternative that recomputes the
full W-frame window every frame; the table reports the ratio. Compiled outputs are compared with
eager ones (max abs difference over the timed frames). Weights do not change latency, sizes do: the
configs of the shipped weights are used when present (P2R, and the landmark V2P, which is the V2P
network the live loop runs), else the defaults; V2P gets landmark tokens (N = 33, x y z
visibility) and the random rig as its target. The zero-initialised output heads get small random
weights so that the eager/compiled comparison sees non-constant outputs. Rigs are random trees of
J joints.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch

from engine import rotations as rot
from engine.model.config import P2RConfig, V2PConfig
from engine.model.p2r import P2RModel
from engine.model.rig_tensors import build_rig_tensors
from engine.model.session import P2RSession, V2PSession, resolve_device
from engine.solvers.learned_p2r import DEFAULT_P2R_WEIGHTS
from engine.model.v2p import V2PModel
from engine.model.weights import load_weights, weights_paths
from engine.skeleton import Skeleton
from engine.model.v2p_landmarks import DEFAULT_V2P_LANDMARK_WEIGHTS

__all__ = ["bench_model", "markdown_table", "cmd_bench_model"]

logger = logging.getLogger(__name__)

JOINT_COUNTS = (25, 60, 100)


def _bench_skeleton(J: int, seed: int = 0) -> Skeleton:
    """A random tree of ``J`` joints (parents before children), bones of 5-15 cm."""
    rng = np.random.default_rng(seed)
    parents = np.array([-1] + [int(rng.integers(max(0, j - 4), j)) for j in range(1, J)])
    offsets = rng.normal(0.0, 0.1, (J, 3))
    return Skeleton(tuple(f"joint{j}" for j in range(J)), parents, offsets, rot.quat_identity((J,)))


def _shipped_config(weights: Path, default: P2RConfig | V2PConfig) -> P2RConfig | V2PConfig:
    """The config the shipped weights were built with (the sizes the live loop runs), else ``default``."""
    return load_weights(weights).cfg if weights_paths(weights)[0].is_file() else default


def _percentiles(times: list[float]) -> dict[str, float]:
    ms = np.asarray(times) * 1e3
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95)), "mean_ms": float(ms.mean())}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time_session(make_session, inputs: list[tuple], device: torch.device, warmup: int) -> tuple[dict, list[torch.Tensor], float]:
    t0 = time.perf_counter()
    session = make_session()
    session.step(*inputs[0])  # first call compiles
    _sync(device)
    compile_s = time.perf_counter() - t0
    for x in inputs[1 : 1 + warmup]:
        session.step(*x)
    session.reset()
    times, outs = [], []
    for x in inputs:
        _sync(device)
        t = time.perf_counter()
        out = session.step(*x)
        _sync(device)
        times.append(time.perf_counter() - t)
        outs.append(out.detach().cpu())
    return {**_percentiles(times), "compile_s": compile_s, "backend_used": session.backend}, outs, compile_s


def _time_recompute(model, state, inputs: list[torch.Tensor], window: int, device: torch.device, is_p2r: bool) -> dict:
    """The naive alternative: run the full causal forward on the last W frames for every new frame."""
    buf = torch.zeros((1, window) + tuple(inputs[0][0].shape), device=device)
    mbuf = torch.ones((1, window) + tuple(inputs[0][1].shape), dtype=torch.bool, device=device) if not is_p2r else None
    times = []
    with torch.no_grad():
        for x in inputs:
            _sync(device)
            t = time.perf_counter()
            buf = torch.roll(buf, -1, dims=1)
            buf[0, -1] = x[0]
            if is_p2r:
                model(buf, state)[:, -1]
            else:
                mbuf = torch.roll(mbuf, -1, dims=1)
                mbuf[0, -1] = x[1]
                model(buf, mbuf, state)[:, -1]
            _sync(device)
            times.append(time.perf_counter() - t)
    return _percentiles(times)


def bench_model(
    device: str = "auto",
    iters: int = 200,
    joints: tuple[int, ...] = JOINT_COUNTS,
    backends: tuple[str, ...] | None = None,
    p2r_config: P2RConfig | None = None,
    v2p_config: V2PConfig | None = None,
    warmup: int = 20,
) -> list[dict]:
    """Time the causal steps; returns one row per (model, J, backend, mode).

    Args:
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        iters: timed frames per configuration.
        joints: joint counts J.
        backends: default eager + compile (+ tensorrt on CUDA when installed).
        p2r_config, v2p_config: model sizes (default: shipped P2R config / V2P defaults).
        warmup: untimed steps after the first (compiling) one.
    """
    dev = resolve_device(device)
    if backends is None:
        backends = ("eager", "compile")
        if dev.type == "cuda" and importlib.util.find_spec("torch_tensorrt") is not None:
            backends += ("tensorrt",)
    p2r_config = p2r_config or _shipped_config(DEFAULT_P2R_WEIGHTS, P2RConfig())
    v2p_config = v2p_config or _shipped_config(DEFAULT_V2P_LANDMARK_WEIGHTS, V2PConfig())
    gen = torch.Generator().manual_seed(0)
    rows: list[dict] = []
    for J in joints:
        rig = build_rig_tensors(_bench_skeleton(J))
        for name, model, session_cls in (("p2r", P2RModel(p2r_config), P2RSession), ("v2p", V2PModel(v2p_config), V2PSession)):
            with torch.no_grad():
                model.head[-1].weight.copy_(0.05 * torch.randn(model.head[-1].weight.shape, generator=gen))
            model = model.to(dev).eval()
            if name == "p2r":
                inputs = [(0.3 * torch.randn(J, 3, generator=gen).to(dev),) for _ in range(iters)]
            else:
                n, c = v2p_config.num_token_ids or 33, v2p_config.token_dim
                inputs = [(torch.randn(n, c, generator=gen).to(dev), torch.ones(n, dtype=torch.bool, device=dev)) for _ in range(iters)]
            base = {"model": name, "J": J, "W": model.cfg.window, "device": str(dev), "threads": torch.get_num_threads()}
            eager_out: list[torch.Tensor] = []
            for backend in backends:
                stats, outs, _ = _time_session(lambda: session_cls(model, rig, device=dev, backend=backend), inputs, dev, warmup)
                if backend == "eager":
                    eager_out = outs
                    diff = 0.0
                else:
                    diff = float(max((a - b).abs().max() for a, b in zip(outs, eager_out))) if eager_out else float("nan")
                rows.append({**base, "backend": backend, "mode": "kv_cached", **stats, "max_abs_diff_vs_eager": diff})
                logger.info("%s J=%d %s: p50 %.3f ms", name, J, backend, stats["p50_ms"])
            with torch.no_grad():
                state = model.prepare(rig.to(dev))
            rec = _time_recompute(model, state, [x if name == "v2p" else (x[0],) for x in inputs], model.cfg.window, dev, name == "p2r")
            kv = next(r for r in rows if r["model"] == name and r["J"] == J and r["backend"] == "eager")
            rows.append({**base, "backend": "eager", "mode": "recompute_window", **rec, "ratio_vs_kv_cached": rec["p50_ms"] / kv["p50_ms"]})
    return rows


STEP_BUDGET_MS = {"cpu": 5.0, "cuda": 1.0}  # DESIGN §6: one V2P + P2R frame, J <= 100


def _budget_ms(rows: list[dict]) -> float:
    return STEP_BUDGET_MS["cuda" if rows and str(rows[0]["device"]).startswith("cuda") else "cpu"]


def markdown_table(rows: list[dict]) -> str:
    """The rows as a Markdown table, plus the V2P + P2R sum per J and backend against the budget."""
    lines = ["| model | J | W | backend | mode | p50 ms | p95 ms | compile s | max diff vs eager | recompute / cached |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['ratio_vs_kv_cached']:.1f}x" if "ratio_vs_kv_cached" in r else ""
        comp = f"{r['compile_s']:.1f}" if "compile_s" in r else ""
        diff = f"{r['max_abs_diff_vs_eager']:.1e}" if "max_abs_diff_vs_eager" in r else ""
        lines.append(f"| {r['model']} | {r['J']} | {r['W']} | {r['backend']} | {r['mode']} | {r['p50_ms']:.3f} | {r['p95_ms']:.3f} | {comp} | {diff} | {ratio} |")
    budget = _budget_ms(rows)
    lines += ["", f"| J | backend | V2P + P2R p50 ms | DESIGN §6 budget ({budget} ms) |", "|---|---|---|---|"]
    cached = [r for r in rows if r["mode"] == "kv_cached"]
    for J in sorted({r["J"] for r in cached}):
        for backend in dict.fromkeys(r["backend"] for r in cached):
            pair = [r["p50_ms"] for r in cached if r["J"] == J and r["backend"] == backend]
            if len(pair) == 2:
                verdict = "met" if sum(pair) <= budget else "missed"
                lines.append(f"| {J} | {backend} | {sum(pair):.3f} | {verdict} |")
    return "\n".join(lines)


def cmd_bench_model(args: argparse.Namespace) -> int:
    """CLI handler of ``bench model``: prints the Markdown table, writes JSON with ``--json``."""
    rows = bench_model(device=args.device, iters=args.iters)
    print(markdown_table(rows))  # the table is the command's output
    if args.json_out:
        meta = {"torch": torch.__version__, "cpu_threads": torch.get_num_threads(), "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None}
        Path(args.json_out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    return 0
