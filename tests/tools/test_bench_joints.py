"""``main.py bench joints``: a tiny smoke run, the grown rigs, and the large-rig warning."""

from __future__ import annotations

import json
import logging

import numpy as np

from engine.rigs.bundled import build_rig
from main import main
from streaming.processor import LIVE_JOINT_BUDGET, build_processor
from tools.bench_joints import grow_rig


def test_grow_rig_adds_chains_of_joints() -> None:
    base = build_rig("dragon").rig
    grown = grow_rig(base, 125)
    sk = grown.skeleton
    assert sk.num_joints == 125 and sk.names[: base.skeleton.num_joints] == base.skeleton.names
    assert np.all(sk.parents[1:] < np.arange(1, 125))  # parents before children
    assert len(set(sk.names)) == 125


def test_bench_joints_smoke(tmp_path, capsys) -> None:
    out = tmp_path / "joints.json"
    assert main(["bench", "joints", "--joints", "62,80", "--frames", "4", "--seconds", "1", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r["joints"] for r in rows] == [62, 80]
    assert all(r["frames"] == 4 and r["work_p50_ms"] > 0 and r["pipeline_fps"] > 0 for r in rows)
    assert "budget" in capsys.readouterr().out


def test_a_rig_over_the_joint_budget_is_warned_about(caplog) -> None:
    rig = grow_rig(build_rig("dragon").rig, LIVE_JOINT_BUDGET + 10)
    with caplog.at_level(logging.WARNING, logger="streaming.processor"):
        build_processor(rig, use_models=False).close()
    assert f"has {LIVE_JOINT_BUDGET + 10} joints" in caplog.text and "bench joints" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="streaming.processor"):
        build_processor(build_rig("dragon").rig, use_models=False).close()
    assert "joints: the live budget" not in caplog.text
