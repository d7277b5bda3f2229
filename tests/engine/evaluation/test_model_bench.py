from __future__ import annotations

import math

from engine.evaluation.model_bench import bench_model, markdown_table
from engine.model.config import P2RConfig, V2PConfig


def test_bench_smoke_tiny() -> None:
    rows = bench_model(device="cpu", iters=5, joints=(10,), backends=("eager",), warmup=1,
                       p2r_config=P2RConfig(width=16, heads=2, layers=2, window=8), v2p_config=V2PConfig(width=16, heads=2, layers=2, window=8))
    assert {(r["model"], r["mode"]) for r in rows} == {("p2r", "kv_cached"), ("p2r", "recompute_window"), ("v2p", "kv_cached"), ("v2p", "recompute_window")}
    for r in rows:
        assert r["J"] == 10 and r["W"] == 8 and 0 < r["p50_ms"] <= r["p95_ms"] + 1e-9 and math.isfinite(r["mean_ms"])
    assert all(r["ratio_vs_kv_cached"] > 0 for r in rows if r["mode"] == "recompute_window")
    table = markdown_table(rows)
    assert "| p2r | 10 | 8 | eager | kv_cached |" in table and "V2P + P2R" in table
    assert "DESIGN §6 budget (5.0 ms)" in table


def test_table_judges_the_summed_step_against_the_budget() -> None:
    def row(model: str, J: int, backend: str, p50: float, device: str = "cpu") -> dict:
        return {"model": model, "J": J, "W": 32, "backend": backend, "mode": "kv_cached", "p50_ms": p50, "p95_ms": p50, "device": device}

    rows = [row("p2r", 25, "eager", 2.0), row("v2p", 25, "eager", 2.5), row("p2r", 100, "eager", 3.0), row("v2p", 100, "eager", 2.5)]
    table = markdown_table(rows)
    assert "| 25 | eager | 4.500 | met |" in table and "| 100 | eager | 5.500 | missed |" in table
    gpu = markdown_table([row("p2r", 25, "compile", 0.4, "cuda"), row("v2p", 25, "compile", 0.7, "cuda")])
    assert "budget (1.0 ms)" in gpu and "| 25 | compile | 1.100 | missed |" in gpu
