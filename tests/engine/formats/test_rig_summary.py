"""Tests of engine/formats/rig_summary.py: describe(), and the ``info`` / ``convert`` sub-commands."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import main
from engine.formats.bvh import read_bvh
from engine.formats.clip_resample import resample_clip
from engine.rig import Clip, Rig
from engine.formats.rig_summary import describe, format_description, tree_text
from engine.skeleton import Skeleton

from tests.conftest import REPO_ROOT as REPO
SHARED_BVH = "pan_retargeting/dog/Dog_example.bvh"


def run_subprocess(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(REPO / "main.py"), *args], capture_output=True, text=True, timeout=120, cwd=REPO)


@pytest.fixture
def run_main(capsys):
    """``main.main(argv)`` in this process (a fresh interpreter costs seconds of torch import)."""

    def run(*args: str) -> subprocess.CompletedProcess:
        code = main.main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(args, code, out, err)

    return run


def branching_rig() -> Rig:
    #        0 pelvis
    #   1 spine  4 tail  5 leg
    #   2 neck
    #   3 head (end site)
    parents = np.array([-1, 0, 1, 2, 0, 0])
    sk = Skeleton(("pelvis", "spine", "neck", "head", "tail", "leg"), parents, np.tile([0.0, 0.2, 0.0], (6, 1)), np.tile([0, 0, 0, 1.0], (6, 1)), [3], [[0, 0.1, 0]])
    clip = Clip.rest(sk, frames=11, fps=20.0, name="idle")
    return Rig("creature", sk, [clip], humanoid={"Hips": "pelvis"})


def test_describe_reports_the_hierarchy_and_clips():
    d = describe(branching_rig())
    assert d["joints"] == 6 and d["names"][0] == "pelvis"
    h = d["hierarchy"]
    assert h["roots"] == ["pelvis"] and h["max_depth"] == 3 and h["leaves"] == 3 and h["end_sites"] == 1
    assert h["branching"] == {"pelvis": 3}
    assert d["clips"] == [{"name": "idle", "frames": 11, "fps": 20.0, "duration_s": 0.5}]
    assert d["height_m"] == pytest.approx(0.7)  # 0 .. 0.2*3 + 0.1 end site
    assert d["humanoid"] == {"Hips": "pelvis"} and d["mesh"] is None
    json.dumps(d)  # plain data
    assert tree_text(branching_rig()).splitlines() == ["pelvis", "  spine", "    neck", "      head *", "  tail", "  leg"]
    text = format_description(d)
    assert "joints: 6" in text and "idle: 11 frames at 20 fps" in text and "pelvis (3)" in text


def test_info_json_on_a_shared_bvh_matches_the_manifest(shared_data):
    path = shared_data / SHARED_BVH
    if not path.is_file():
        pytest.skip(f"{SHARED_BVH} missing")
    with open(shared_data / "manifest.csv", newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["file"] == SHARED_BVH)
    res = run_subprocess("info", str(path), "--json")
    assert res.returncode == 0, res.stderr
    d = json.loads(res.stdout)
    assert d["joints"] == int(row["joints"])
    assert d["clips"][0]["frames"] == int(row["frames"])
    assert d["hierarchy"]["end_sites"] == int(row["end_sites"])
    assert d["units"] == "cm" and 0.1 < d["height_m"] < 10


def test_info_text_on_a_shared_bvh(shared_data, run_main):
    res = run_main("info", str(shared_data / SHARED_BVH))
    assert res.returncode == 0, res.stderr
    assert "joints: 21" in res.stdout and "Hips" in res.stdout


def test_info_on_bad_files_exits_2_with_one_line(tmp_path, run_main):
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\nROOT a\n{\n  OFFSET 0 0 oops\n}\n")
    res = run_main("info", str(bad))
    assert res.returncode == 2 and res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {bad}: ") and "line 4" in lines[0]
    res = run_main("info", str(tmp_path / "missing.glb"))
    assert res.returncode == 2 and res.stderr.strip().splitlines() == [f"error: {tmp_path / 'missing.glb'}: file not found"]


def test_convert_bvh_to_bvh_with_resampling(shared_data, tmp_path, run_main):
    src = shared_data / "mann_dog/D1_010_KAN01_002.bvh"  # 60 fps
    if not src.is_file():
        pytest.skip(f"{src} missing")
    out = tmp_path / "dog30.bvh"
    res = run_main("convert", str(src), str(out), "--fps", "30")
    assert res.returncode == 0, res.stderr
    a, b = read_bvh(src), read_bvh(out)
    assert b.clips[0].fps == pytest.approx(30.0, rel=1e-6)
    assert b.clips[0].duration == pytest.approx(a.clips[0].duration, abs=1 / 30)
    want = resample_clip(a.clips[0], 30.0).positions(a.skeleton)
    assert np.abs(b.clips[0].positions(b.skeleton) - want).max() < 1e-5 * a.skeleton.height
    # Source frames near the new grid come through almost unchanged ("Frame Time: 0.016667" is
    # 59.9988 fps, so the grids drift apart by 0.1% of a frame per frame).
    np.testing.assert_allclose(b.clips[0].positions(b.skeleton)[:40], a.clips[0].positions(a.skeleton)[:80:2], atol=1e-4)


def test_convert_errors_exit_2(tmp_path, shared_data, run_main):
    src = shared_data / SHARED_BVH
    res = run_main("convert", str(src), str(tmp_path / "out.fbx"))
    assert res.returncode == 2 and "unsupported output extension" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = run_main("convert", str(src), str(tmp_path / "out.bvh"), "--clip", "nope")
    assert res.returncode == 2 and "no clip named 'nope'" in res.stderr
    bad = tmp_path / "bad.bvh"
    bad.write_text("HIERARCHY\n")
    res = run_main("convert", str(bad), str(tmp_path / "out.bvh"))
    assert res.returncode == 2 and res.stderr.startswith(f"error: {bad}: ")
    assert not (tmp_path / "out.bvh").exists()


def test_convert_bvh_to_glb_and_back(shared_data, tmp_path, run_main):
    pytest.importorskip("engine.formats.gltf_write")
    pytest.importorskip("engine.formats.gltf")
    src = shared_data / SHARED_BVH
    glb, bvh = tmp_path / "dog.glb", tmp_path / "dog.bvh"
    assert run_main("convert", str(src), str(glb)).returncode == 0
    res = run_main("convert", str(glb), str(bvh), "--clip", "Dog_example")
    assert res.returncode == 0, res.stderr
    a, b = read_bvh(src), read_bvh(bvh)
    pa = a.clips[0].positions(a.skeleton)
    pb = b.clips[0].positions(b.skeleton)[:, [b.skeleton.index(n) for n in a.skeleton.names]]
    assert pa.shape == pb.shape
    assert np.abs(pa - pb).max() < 1e-5 * a.skeleton.height
