"""Regression tests for hostile rig files (issue 14, items 1-6): no hang, bounded memory, no read outside the rig's folder.

The files come from :mod:`tests.engine.formats.hostile_files`. Cases that once hung or took
gigabytes run in a child process (``main.py info``) under a wall-clock limit, so a regression
fails the test instead of hanging or killing the suite; the child reports its peak RSS.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.errors import RigFormatError, RigLimitError
from engine.formats.bvh import read_bvh
from engine.formats.gltf import read_gltf
from engine.formats.read_limits import ReadLimits, json_depth
from engine.formats.rigio import load_rig
from tests.conftest import REPO_ROOT
from tests.engine.formats import hostile_files as hostile

CHILD_TIMEOUT_S = 60.0  # generous for a loaded 2-core CI machine; each case takes well under 2 s alone
INFO_SECONDS = 10.0  # "main.py info returns within a few seconds" (process start included, loaded machine)

_CHILD = """
import json, resource, sys, time
from engine.formats.rigio import load_rig
t = time.perf_counter()
try:
    rig = load_rig(sys.argv[1]); out = {"loaded": True, "frames": [c.num_frames for c in rig.clips], "joints": rig.skeleton.num_joints}
except Exception as exc:
    out = {"loaded": False, "type": type(exc).__name__, "message": str(exc), "limit": getattr(exc, "limit", None)}
out["seconds"] = time.perf_counter() - t
# VmHWM is this process image's own peak; ru_maxrss also counts the parent's RSS at fork (Linux).
hwm = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")]
out["peak_rss_mb"] = int(hwm[0]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def load_in_child(path: Path) -> dict:
    """``load_rig(path)`` in a fresh interpreter under :data:`CHILD_TIMEOUT_S`; its outcome, time and peak RSS."""
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def info_in_child(path: Path) -> tuple[int, str, float]:
    """``main.py info PATH``: exit code, output, wall seconds."""
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "main.py", "info", str(path)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - t


# %% item 1: hang in the SVD on inf matrices, FIFO buffer ----------------------------------------
def test_overflowing_scale_key_fails_instead_of_hanging(tmp_path):
    path = tmp_path / "scale.glb"
    path.write_bytes(hostile.overflowing_scale_key_glb())
    out = load_in_child(path)
    assert not out["loaded"] and out["type"] == "RigFormatError"
    assert "overflow" in out["message"] and str(path) in out["message"]
    code, text, seconds = info_in_child(path)
    assert code == 2 and "overflow" in text and seconds < INFO_SECONDS


def test_overflowing_rest_scale_names_the_node():
    with pytest.raises(RigFormatError, match="rest world matrix of node 'n1' overflows"):
        read_gltf("rest.gltf", data=hostile.overflowing_rest_scale_gltf())


def test_orthonormalize_refuses_infinite_matrices():
    from engine import rotations as rot

    m = np.eye(3)
    m[0, 0] = np.inf
    with pytest.raises(ValueError, match="non-finite"):
        rot.orthonormalize(m)


def test_fifo_as_buffer_or_rig_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.bin")
    rig = tmp_path / "rig.gltf"
    rig.write_bytes(hostile.external_buffer_gltf("pipe.bin"))
    with pytest.raises(RigFormatError, match="not a regular file"):
        load_rig(rig)
    os.mkfifo(tmp_path / "pipe.glb")
    with pytest.raises(RigFormatError, match="not a regular file"):
        load_rig(tmp_path / "pipe.glb")
    with pytest.raises(RigFormatError, match="not a regular file"):
        read_gltf(tmp_path / "pipe.glb")
    with pytest.raises(RigFormatError, match="not a regular file"):
        read_bvh(tmp_path / "pipe.glb")


# %% item 2: memory ---------------------------------------------------------------------------
def test_zero_filled_mesh_is_over_the_vertex_limit_in_bounded_memory(tmp_path):
    path = tmp_path / "zero.glb"
    path.write_bytes(hostile.zero_filled_mesh_glb())
    assert path.stat().st_size < 1000
    out = load_in_child(path)
    assert out["type"] == "RigLimitError" and out["limit"] == "vertices", out
    assert "vertices" in out["message"] and "5,600,000" in out["message"]
    assert out["peak_rss_mb"] < 600, out  # once 3.9 GB


def test_long_nonuniform_animation_is_refused_quickly(tmp_path):
    path = tmp_path / "long.glb"
    path.write_bytes(hostile.long_nonuniform_animation_glb())
    out = load_in_child(path)
    assert out["type"] == "RigLimitError" and out["limit"] == "nonuniform_clip_values", out
    assert out["seconds"] < 5 and out["peak_rss_mb"] < 600, out  # once 28 s and 4.75 GB


def test_nonuniform_animation_under_the_limit_loads(tmp_path):
    rig = read_gltf("ok.glb", data=hostile.nonuniform_animation_glb(frames=2000, joints=20))
    assert rig.clips[0].num_frames == 2000 and np.isfinite(rig.clips[0].translations).all()
    assert any("non-uniform" in n for n in rig.source.notes)


def test_large_bvh_loads_in_bounded_memory(tmp_path):
    path = tmp_path / "big.bvh"
    path.write_bytes(hostile.bvh_text(joints=60, frames=33_000))  # 24 MB, 1.98 M joint-frames: just under clip_values
    out = load_in_child(path)
    assert out["loaded"] and out["frames"] == [33_000], out
    assert out["peak_rss_mb"] < 700, out  # the same file took 600 MB before; a 60 MB one 2.1 GB


def test_bvh_over_the_clip_limit_stops_while_reading_motion(tmp_path):
    path = tmp_path / "over.bvh"
    path.write_bytes(hostile.bvh_text(joints=60, frames=40_000))
    with pytest.raises(RigLimitError, match="clip_values") as info:
        load_rig(path)
    assert info.value.limit == "clip_values" and str(path) in str(info.value)


def test_file_size_cap_applies_through_load_rig(tmp_path):
    path = tmp_path / "huge.bvh"
    with open(path, "wb") as f:  # sparse: no disk space used, nothing read
        f.write(b"HIERARCHY\n")
        f.truncate(ReadLimits().file_bytes + 1)
    t = time.perf_counter()
    with pytest.raises(RigLimitError, match="file_bytes"):
        load_rig(path)
    assert time.perf_counter() - t < 1.0


def test_every_reader_enforces_limits_given_to_it(tmp_path):
    small = ReadLimits(joints=5, file_bytes=10_000)
    with pytest.raises(RigLimitError, match="joints") as info:
        read_gltf("chain.glb", data=hostile.chain_glb(10), limits=small)
    assert info.value.limit == "joints"
    with pytest.raises(RigLimitError, match="joints"):
        read_bvh("chain.bvh", data=hostile.bvh_text(joints=10, frames=1), limits=small)
    with pytest.raises(RigLimitError, match="file_bytes"):
        read_bvh("long.bvh", data=hostile.bvh_text(joints=2, frames=2000), limits=small)
    path = tmp_path / "chain.glb"
    path.write_bytes(hostile.chain_glb(10))
    with pytest.raises(RigLimitError, match="joints"):
        load_rig(path, limits=small)


# %% item 3: URIs -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "uri, reason",
    [
        ("../../../../../../etc/passwd", "outside the rig's folder"),
        ("%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "outside the rig's folder"),
        ("/etc/passwd", "not a relative path"),
        ("file:///etc/passwd", "not a relative path"),
        ("/dev/zero", "not a relative path"),
    ],
)
def test_buffer_uris_outside_the_folder_are_refused(tmp_path, uri, reason):
    folder = tmp_path / "rigs" / "mine"
    folder.mkdir(parents=True)
    path = folder / "rig.gltf"
    path.write_bytes(hostile.external_buffer_gltf(uri))
    with pytest.raises(RigFormatError, match=reason) as info:
        load_rig(path)
    assert str(path) in str(info.value)


def test_symlink_out_of_the_folder_is_refused_and_inside_is_read(tmp_path):
    outside = tmp_path / "secret.bin"
    outside.write_bytes(hostile.external_buffer_bytes())
    folder = tmp_path / "rig"
    folder.mkdir()
    (folder / "link.bin").symlink_to(outside)
    (folder / "rig.gltf").write_bytes(hostile.external_buffer_gltf("link.bin"))
    with pytest.raises(RigFormatError, match="outside the rig's folder"):
        load_rig(folder / "rig.gltf")
    (folder / "sub").mkdir()
    (folder / "sub" / "keys.bin").write_bytes(hostile.external_buffer_bytes())
    (folder / "inside.bin").symlink_to(folder / "sub" / "keys.bin")
    (folder / "ok.gltf").write_bytes(hostile.external_buffer_gltf("inside.bin"))
    (folder / "sub.gltf").write_bytes(hostile.external_buffer_gltf("sub/keys.bin"))
    for name in ("ok.gltf", "sub.gltf"):
        clip = load_rig(folder / name).clips[0]
        np.testing.assert_allclose(clip.translations[[0, -1], 1], [[0, 0.1, 0], [0, 0.2, 0]], atol=1e-6)


def test_device_file_reached_through_a_symlink_is_refused(tmp_path):
    (tmp_path / "zero.bin").symlink_to("/dev/zero")
    (tmp_path / "rig.gltf").write_bytes(hostile.external_buffer_gltf("zero.bin", 1 << 30))
    with pytest.raises(RigFormatError, match="outside the rig's folder|not a regular file"):
        load_rig(tmp_path / "rig.gltf")


# %% item 4: recursion ------------------------------------------------------------------------
def test_deeply_nested_json_is_a_limit_error(tmp_path):
    path = tmp_path / "deep.gltf"
    path.write_bytes(hostile.deeply_nested_gltf())
    with pytest.raises(RigLimitError, match="nested too deeply") as info:
        load_rig(path)
    assert info.value.limit == "json_depth"
    with pytest.raises(RigLimitError, match="json_depth"):
        read_gltf("deep.glb", data=hostile.glb(json.loads(hostile.deeply_nested_gltf(100))))
    path.write_bytes(hostile.deeply_nested_gltf(100))  # parses, but deeper than any glTF needs
    with pytest.raises(RigLimitError, match="JSON nesting depth: 101"):
        load_rig(path)


def test_json_depth_is_iterative():
    value: list = []
    for _ in range(50_000):
        value = [value]
    assert json_depth(value) == 50_001 and json_depth({"a": [1, {"b": 2}]}) == 3 and json_depth(3) == 0


# %% item 5: inf vertices ---------------------------------------------------------------------
def test_mesh_vertices_overflowing_float32_are_an_error():
    with pytest.raises(RigFormatError, match="overflow float32"):
        read_gltf("verts.glb", data=hostile.overflowing_vertices_glb())


# %% item 6: deep chains ----------------------------------------------------------------------
def test_long_chain_loads_in_linear_time():
    t = time.perf_counter()
    rig = read_gltf("chain.glb", data=hostile.chain_glb(10_000))
    seconds = time.perf_counter() - t
    assert rig.skeleton.num_joints == 10_000
    assert seconds < 5.0  # 7.2 s before (quadratic cycle check); about 1.2 s now on a loaded 2-core machine


def test_cycle_in_a_long_chain_is_found():
    doc = hostile.gltf_json(hostile.chain_nodes(20_000))
    doc["nodes"][4_999].pop("children")  # nodes 5,000..19,999 become a ring with no root
    doc["nodes"][-1]["children"] = [5_000]
    t = time.perf_counter()
    with pytest.raises(RigFormatError, match="cycle"):
        read_gltf("loop.glb", data=hostile.glb(doc))
    assert time.perf_counter() - t < 5.0


# %% the CLI on every case --------------------------------------------------------------------
@pytest.mark.slow
def test_info_on_every_hostile_file_returns_one_line_quickly(tmp_path):
    for name, path in hostile.write_all(tmp_path).items():
        code, text, seconds = info_in_child(path)
        assert seconds < INFO_SECONDS, (name, seconds)
        assert code == 2 and text.startswith("error: ") and len(text.strip().splitlines()) == 1, (name, text)
