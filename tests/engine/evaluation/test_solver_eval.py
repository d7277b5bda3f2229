"""``main.py eval``: report schema and sane values on small rigs written to a temp folder."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from engine import rotations as rot
from engine.evaluation.solver_eval import EvalConfig, cmd_eval, evaluate_clip
from engine.solvers.analytic_ik import AnalyticIKSolver
from engine.rig import Clip, Rig
from engine.skeleton import Skeleton
from engine.synthetic.dataset import MotionDataset

rigio = pytest.importorskip("engine.formats.rigio")

METRIC_KEYS = {"rot_err_deg_determined", "rot_err_deg_all", "mpjpe_pct_height", "fps", "step_fps", "frames"}


def _branching_rig_clip(rng: np.random.Generator, frames: int = 12) -> Rig:
    """Identity rest (BVH-like); every inner joint has >= 2 non-collinear children."""
    parents = np.array([-1, 0, 0, 0, 1, 1, 2, 2, 3, 3])
    trans = rng.normal(0, 0.3, (10, 3))
    trans[0] = [0, 1, 0]
    sk = Skeleton(tuple(f"j{i}" for i in range(10)), parents, trans, rot.quat_identity((10,)), np.arange(4, 10), rng.normal(0, 0.1, (6, 3)))
    q = rot.axis_angle_to_quat(rng.normal(0, 0.5, (frames, 10, 3)))
    t = np.broadcast_to(trans, (frames, 10, 3)).copy()
    t[:, 0] += np.linspace(0, 0.5, frames)[:, None]
    return Rig("branch", sk, [Clip("move", 30.0, q, t)])


def _procedural_rig(seed: int) -> Rig:
    s = MotionDataset(seed=seed, window=20, pool_size=4)[0]
    return Rig("proc", s.skeleton, [Clip("proc", 30.0, s.rotations, s.translations)])


def _args(tmp_path, **kw) -> argparse.Namespace:
    base = dict(data=str(tmp_path / "data"), json_out=str(tmp_path / "out.json"), noise=0.0, weights=str(tmp_path / "none"), max_frames=10, split=None)
    base.update(kw)
    return argparse.Namespace(**base)


def test_baseline_is_exact_on_clean_multi_child_rig():
    rig = _branching_rig_clip(np.random.default_rng(0))
    stats = evaluate_clip(AnalyticIKSolver(), rig.skeleton, rig.clips[0], EvalConfig(max_frames=5))
    m = stats.metrics()
    assert m["frames"] == 5 and m["rot_err_deg_determined"] < 1e-5 and m["mpjpe_pct_height"] < 1e-6
    assert m["rot_err_deg_all"] > 1.0  # leaves keep the reference rotation and are wrong
    noisy = evaluate_clip(AnalyticIKSolver(), rig.skeleton, rig.clips[0], EvalConfig(noise=0.01, max_frames=5)).metrics()
    assert 0.01 < noisy["rot_err_deg_determined"] < 20.0


def test_cmd_eval_writes_the_documented_report(tmp_path):
    (tmp_path / "data" / "sub").mkdir(parents=True)
    rigio.save_rig(_branching_rig_clip(np.random.default_rng(1)), tmp_path / "data" / "branch.bvh")
    rigio.save_rig(_procedural_rig(2), tmp_path / "data" / "sub" / "proc.glb")
    assert cmd_eval(_args(tmp_path)) == 0
    report = json.loads((tmp_path / "out.json").read_text())
    assert {"schema_version", "data", "split", "noise", "max_frames", "seed", "solvers", "overall", "overall_frames", "skeletons", "errors"} <= set(report)
    assert report["solvers"]["analytic_ik"]["available"] is True and report["solvers"]["ref_hold"]["available"] is True
    assert report["solvers"]["p2r"]["available"] is False and report["solvers"]["p2r"]["reason"]
    assert set(report["skeletons"]) == {"branch.bvh", "sub/proc.glb"}
    for entry in report["skeletons"].values():
        assert {"files", "clips", "frames", "joints", "determined_joints", "height_m", "solvers"} <= set(entry)
        assert entry["frames"] == 10 and set(entry["solvers"]["analytic_ik"]) == METRIC_KEYS
    branch = report["skeletons"]["branch.bvh"]["solvers"]["analytic_ik"]
    assert branch["rot_err_deg_determined"] < 1e-3 and branch["mpjpe_pct_height"] < 1e-3
    proc = report["skeletons"]["sub/proc.glb"]["solvers"]["analytic_ik"]
    assert 0.0 <= proc["rot_err_deg_determined"] < 60.0 and proc["mpjpe_pct_height"] < 1e-3  # twist only
    overall = report["overall"]["analytic_ik"]
    assert overall["frames"] == 20 and overall["fps"] > 0 and overall["step_fps"] > 0
    hold = report["overall"]["ref_hold"]
    assert hold["rot_err_deg_determined"] > overall["rot_err_deg_determined"]  # the rigs move
    assert report["errors"] == []


def test_split_selects_held_out_files_and_bad_files_are_reported(tmp_path):
    (tmp_path / "data").mkdir()
    rigio.save_rig(_branching_rig_clip(np.random.default_rng(3)), tmp_path / "data" / "keep.bvh")
    rigio.save_rig(_branching_rig_clip(np.random.default_rng(4)), tmp_path / "data" / "other.bvh")
    (tmp_path / "data" / "broken.bvh").write_text("HIERARCHY\nROOT a\n{\n")
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"files": ["keep.bvh", "broken.bvh"]}))
    assert cmd_eval(_args(tmp_path, split=str(split), noise=0.01)) == 0
    report = json.loads((tmp_path / "out.json").read_text())
    assert set(report["skeletons"]) == {"keep.bvh"} and report["noise"] == 0.01
    assert [e["file"] for e in report["errors"]] == ["broken.bvh"]


def test_tiny_random_p2r_is_evaluated(tmp_path):
    solver_mod = pytest.importorskip("engine.solvers.learned_p2r")
    from engine.model.config import P2RConfig
    from engine.model.p2r import P2RModel
    from engine.model.weights import save_weights

    save_weights(P2RModel(P2RConfig(width=16, heads=2, rig_layers=1, layers=1, window=4)), tmp_path / "w" / "tiny")
    (tmp_path / "data").mkdir()
    rigio.save_rig(_branching_rig_clip(np.random.default_rng(5)), tmp_path / "data" / "branch.bvh")
    assert cmd_eval(_args(tmp_path, weights=str(tmp_path / "w" / "tiny"))) == 0
    report = json.loads((tmp_path / "out.json").read_text())
    assert report["solvers"]["p2r"]["available"] is True and solver_mod.P2RSolver.name == "p2r"
    m = report["overall"]["p2r"]
    assert set(m) == METRIC_KEYS and 0.0 <= m["rot_err_deg_all"] <= 180.0 and m["fps"] > 0


def test_missing_folder_is_an_error(tmp_path):
    assert cmd_eval(_args(tmp_path, data=str(tmp_path / "nope"))) == 2


def test_baseline_on_a_shared_held_out_bvh(shared_data, tmp_path):
    """The CMU-derived jumping jacks (a held-out human skeleton): clean positions, baseline only."""
    src = shared_data / "animated_drawings" / "cmu1" / "jumping_jacks.bvh"
    if not src.is_file():
        pytest.skip("jumping_jacks.bvh not in the shared data")
    rig = rigio.load_rig(src)
    m = evaluate_clip(AnalyticIKSolver(), rig.skeleton, rig.clips[0], EvalConfig(max_frames=60)).metrics()
    assert m["frames"] == 60
    assert m["mpjpe_pct_height"] < 1e-3  # swing is exact, so joint positions are reproduced
    assert 0.5 < m["rot_err_deg_determined"] < 25.0  # arm twist relative to frame 0 is not observable
