"""``python main.py bench joints``: how the live per-frame work scales with the rig's joint count.

The bundled dragon (62 joints) is grown to each requested joint count by extra tail-like chains
of 10 joints hung from its joints in turn (a large rig has many chains, not one very long one).
Per joint count, two measurements:

1. **work**: the live processor (the same stages and defaults as ``main.py run``) on
   ``--frames`` synthetic frames back to back on one thread: p50 / p95 of the per-frame work;
2. **pipeline**: the threaded pipeline fed at 30 fps and sending VMC (every joint) to a receiver
   on 127.0.0.1 for ``--seconds`` (:func:`tools.bench_live.measure_pipeline`): processed fps and
   capture -> send p50 / p95.

The live budget is 30 fps with a capture -> send median of at most 40 ms (DESIGN §6).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from engine.rig import Rig
from engine.skeleton import Skeleton
from streaming.frames import Frame
from streaming.processor import build_processor
from streaming.stats import LatencyStats

__all__ = ["LIVE_BUDGET_MS", "cmd_bench_joints", "grow_rig", "measure_joints"]

logger = logging.getLogger(__name__)

LIVE_BUDGET_MS = 1000.0 / 30.0  # one frame at 30 fps: per-frame work above this cannot keep up
CHAIN_LENGTH = 10


def grow_rig(rig: Rig, joints: int) -> Rig:
    """``rig`` with chains of :data:`CHAIN_LENGTH` extra joints added until it has ``joints`` joints (clips dropped)."""
    sk = rig.skeleton
    J0 = sk.num_joints
    if joints <= J0:
        return rig
    names, parents = list(sk.names), list(int(p) for p in sk.parents)
    trans, rots = [np.asarray(sk.rest_translations)], [np.asarray(sk.rest_rotations)]
    bone = 0.3 * sk.height / CHAIN_LENGTH
    chain, attach = 0, 0
    while len(names) < joints:
        for k in range(min(CHAIN_LENGTH, joints - len(names))):
            parents.append(attach if k == 0 else len(names) - 1)
            names.append(f"extra{chain}_{k}")
            trans.append(np.array([[0.0, bone, 0.0]]))
            rots.append(np.array([[0.0, 0.0, 0.0, 1.0]]))
        chain += 1
        attach = (attach + 7) % J0  # spread the chains over the rig
    grown = Skeleton(tuple(names), np.array(parents), np.concatenate(trans), np.concatenate(rots))
    return Rig(f"{rig.name}+{joints - J0}", grown)


def measure_joints(joint_counts: list[int], frames: int, seconds: float, *, device: str = "auto", backend: str = "auto") -> list[dict[str, Any]]:
    """Per-frame work and threaded-pipeline latency for rigs of each joint count (synthetic performer)."""
    import tempfile

    from engine.formats.rigio import save_rig
    from tools.bench_live import measure_pipeline

    from engine.rigs.bundled import build_rig
    from streaming.synthetic_source import SyntheticSource

    base = build_rig("dragon").rig
    rows = []
    for J in joint_counts:
        rig = grow_rig(base, J)
        processor = build_processor(rig, perception="simulated", device=device, backend=backend)
        series = LatencyStats()
        with SyntheticSource(realtime=False) as src:
            for i in range(frames):
                f = src.read()
                t = time.monotonic_ns()
                result = processor.process(type(f)(f.image, t, i, "synthetic", landmarks=f.landmarks))
                if result is not None:
                    series.add_ms((time.monotonic_ns() - t) / 1e6)
        processor.close()
        d = series.to_dict()
        mean = float(d["mean_ms"])
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / f"{rig.name}.glb"
            save_rig(rig, path)
            pipe = measure_pipeline(str(path), seconds, device=device, backend=backend)
        send = pipe["latency_ms"].get("capture_to_vmc") or {"p50_ms": 0.0, "p95_ms": 0.0}
        rows.append({
            "joints": rig.skeleton.num_joints, "frames": d["count"], "work_p50_ms": d["p50_ms"], "work_p95_ms": d["p95_ms"],
            "work_fps": 1000.0 / mean if mean > 0 else 0.0, "pipeline_fps": pipe["fps"]["processed"],
            "send_p50_ms": send["p50_ms"], "send_p95_ms": send["p95_ms"],
            "within_budget": pipe["fps"]["processed"] >= 29.0 and 0 < send["p50_ms"] <= 40.0, "model": processor.info.to_dict(),
        })  # fmt: skip
        logger.info("%d joints: work p50 %.1f ms; pipeline %.1f fps, send p50 %.1f ms", J, d["p50_ms"], rows[-1]["pipeline_fps"], send["p50_ms"])
    return rows


def cmd_bench_joints(args: argparse.Namespace) -> int:
    """Print a table of per-frame latency against joint count; ``--json`` writes it too."""
    counts = [int(x) for x in str(args.joints).split(",") if x.strip()]
    rows = measure_joints(counts, args.frames, args.seconds, device=args.device)
    print(f"{'joints':>7} {'work p50':>9} {'work p95':>9} {'pipe fps':>9} {'send p50':>9} {'send p95':>9}  budget")
    for r in rows:
        print(f"{r['joints']:>7} {r['work_p50_ms']:>9.1f} {r['work_p95_ms']:>9.1f} {r['pipeline_fps']:>9.1f} "
              f"{r['send_p50_ms']:>9.1f} {r['send_p95_ms']:>9.1f}  {'holds' if r['within_budget'] else 'MISSED'}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"frames": args.frames, "budget_ms": LIVE_BUDGET_MS, "rows": rows}, indent=2) + "\n")
    return 0
