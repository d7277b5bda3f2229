"""The receivers shipped in resources/receivers, run on real AnyRig streams where this machine can run them.

- Unity: ``AnyRigVmcCore.cs`` compiled with Mono's ``mcs`` and run on datagrams from the real sender;
  ``AnyRigVmcReceiver.cs`` (the MonoBehaviour) type-checked against the UnityEngine declarations it
  uses (tests/resources/UnityEngineApi.cs; Unity itself is not installed here).
- Blender: ``anyrig_blender.py``'s decoding and pose maths under this Python, and the whole add-on
  under ``blender -b`` (Debian's Blender 3.4): a dragon GLB imported, posed from the stream over UDP,
  and takes imported at their own frame rate. Each part skips when its tool is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.formats.rigio import load_rig
from streaming.frames import PoseResult
from streaming.osc_encoding import IMMEDIATELY, split_into_bundles
from streaming.vmc import BoneLayout, frame_messages
from tests.conftest import REPO_ROOT

RECEIVERS = REPO_ROOT / "resources" / "receivers"
DRAGON_GLB = REPO_ROOT / "resources" / "rigs" / "dragon.glb"
sys.path.insert(0, str(RECEIVERS / "blender"))
import anyrig_blender  # noqa: E402


def _dragon_frame(seed: int = 0) -> tuple[object, PoseResult, BoneLayout]:
    """The bundled dragon GLB in a random pose (every joint turned up to ~30 degrees), its root moved."""
    from engine import rotations as rot
    from engine.kinematics import forward_kinematics

    rig = load_rig(DRAGON_GLB)
    sk = rig.skeleton
    rng = np.random.default_rng(seed)
    rotations = rot.quat_multiply(sk.rest_rotations, rot.axis_angle_to_quat(rng.normal(scale=0.3, size=(sk.num_joints, 3))))
    trans = np.array(sk.rest_translations)
    trans[0] += [0.3, 0.1, -0.2]
    _, pos = forward_kinematics(sk.parents, rot.quat_to_matrix(rotations), trans)
    return rig, PoseResult(rotations, trans[0], pos, 0, 0), BoneLayout.generic(sk)


def _datagrams(layout: BoneLayout, result: PoseResult, max_bytes: int = 1500) -> list[bytes]:
    """One frame as the sender puts it on the wire: bundles split under ``max_bytes`` (several datagrams)."""
    return split_into_bundles(frame_messages(layout, result, 0.5), IMMEDIATELY, max_bytes)


def _write(path: Path, datagrams: list[bytes]) -> Path:
    path.write_bytes(b"".join(struct.pack("<i", len(d)) + d for d in datagrams))
    return path


# --------------------------------------------------------------------------- Unity (C#)
@pytest.fixture(scope="module")
def vmc_dump(tmp_path_factory) -> Path:
    if shutil.which("mcs") is None or shutil.which("mono") is None:
        pytest.skip("Mono (mcs, mono) is not installed")
    exe = tmp_path_factory.mktemp("cs") / "vmcdump.exe"
    subprocess.run(["mcs", f"-out:{exe}", str(RECEIVERS / "unity" / "AnyRigVmcCore.cs"), str(Path(__file__).parent / "VmcDump.cs")],
                   check=True, capture_output=True, text=True, timeout=120)
    return exe


def test_unity_core_decodes_the_generic_stream(vmc_dump: Path, tmp_path: Path) -> None:
    rig, result, layout = _dragon_frame()
    grams = _datagrams(layout, result)
    assert len(grams) > 1  # a frame split over several bundles is put back together
    out = subprocess.run(["mono", str(vmc_dump), str(_write(tmp_path / "d.bin", grams))], check=True, capture_output=True, text=True, timeout=60).stdout
    lines = [l.split() for l in out.splitlines()]
    bones = {l[1]: (l[2], np.array(l[3:], dtype=float)) for l in lines if l[0] == "bone"}
    pos, quats, root = layout.local_transforms(result)
    assert len(bones) == rig.skeleton.num_joints
    for b, wire in enumerate(layout.names):
        joint, values = bones[wire]
        assert joint == rig.skeleton.names[b]  # the "anyrig:" prefix stripped for matching
        np.testing.assert_allclose(values[:3], pos[b] * [-1, 1, 1], atol=1e-6)  # Unity frame, float32
        np.testing.assert_allclose(values[3:], quats[b] * [1, -1, -1, 1], atol=1e-6)
    root_line = next(l for l in lines if l[0] == "root")
    np.testing.assert_allclose(np.array(root_line[1:], dtype=float), root * [-1, 1, 1], atol=1e-6)
    assert next(l for l in lines if l[0] == "scale")[1:] == ["1", "1", "1"]
    assert lines[-1] == ["time", "0.5", "ok", "True"]


def test_unity_core_ignores_garbage(vmc_dump: Path, tmp_path: Path) -> None:
    rig, result, layout = _dragon_frame()
    grams = [b"\x00\x01garbage", b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 999)] + _datagrams(layout, result)[:1]
    out = subprocess.run(["mono", str(vmc_dump), str(_write(tmp_path / "g.bin", grams))], check=True, capture_output=True, text=True, timeout=60).stdout
    assert sum(l.startswith("bone ") for l in out.splitlines()) > 0


def test_unity_monobehaviour_type_checks(tmp_path: Path) -> None:
    if shutil.which("mcs") is None:
        pytest.skip("Mono's mcs is not installed")
    # Never "-out:/dev/null": mcs replaces its output file, and would replace the device with a file.
    proc = subprocess.run(["mcs", "-target:library", f"-out:{tmp_path / 'receiver.dll'}", str(RECEIVERS / "unity" / "AnyRigVmcCore.cs"),
                           str(RECEIVERS / "unity" / "AnyRigVmcReceiver.cs"), str(Path(__file__).parent / "UnityEngineApi.cs")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- Blender (Python core)
def test_blender_core_rebuilds_the_rigs_world_pose() -> None:
    """Decoding plus forward kinematics in the add-on give the sender's joint positions (glTF frame)."""
    rig, result, layout = _dragon_frame()
    frame = None
    for gram in _datagrams(layout, result):
        frame = anyrig_blender.decode_packet(gram, frame)
    names, parents, rests = anyrig_blender.read_glb_joints(DRAGON_GLB)
    assert names == list(rig.skeleton.names)
    world = anyrig_blender.stream_world(names, parents, rests, frame)
    got = np.array([w[:3, 3] for w in world])
    np.testing.assert_allclose(got, result.positions, atol=1e-5)
    rest_world = anyrig_blender.world_transforms(parents, rests)
    np.testing.assert_allclose([w[:3, 3] for w in rest_world], rig.skeleton.rest_positions(), atol=1e-6)


# --------------------------------------------------------------------------- Blender (the add-on in Blender)
def _blender(*args: str) -> dict:
    if shutil.which("blender") is None:
        pytest.skip("Blender is not installed")
    out = Path(args[-1])
    # Blender's embedded Python takes its standard library from the first python3 on PATH: keep the
    # system's (with the numpy Blender ships with), not a virtual environment's.
    env = {**os.environ, "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([shutil.which("blender"), "-b", "--factory-startup", "--python", str(Path(__file__).parent / "blender_check.py"), "--", *args],
                          capture_output=True, text=True, timeout=300, env=env)
    assert out.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_blender_addon_poses_an_imported_rig_from_the_stream(tmp_path: Path) -> None:
    rig, result, layout = _dragon_frame()
    report = _blender("link", str(DRAGON_GLB), str(_write(tmp_path / "d.bin", _datagrams(layout, result))), str(tmp_path / "out.json"))
    assert report["applied"]
    heads = report["heads"]
    gltf_to_blender = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])
    worst = 0.0
    for j, name in enumerate(rig.skeleton.names):
        if name in heads:
            worst = max(worst, float(np.linalg.norm(np.array(heads[name]) - gltf_to_blender @ result.positions[j])))
    assert len(heads) >= rig.skeleton.num_joints - 1 and worst < 1e-4 * rig.skeleton.height, worst


@pytest.mark.parametrize("suffix", [".glb", ".bvh"])
def test_blender_imports_takes_at_their_frame_rate(tmp_path: Path, suffix: str) -> None:
    """Blender's glTF importer would put a GLB take on the scene's 24 fps grid; import_take sets 30 first."""
    from streaming.take_files import save_take
    from tests.streaming.test_take_files_faithful import HUMANOID_GLB, _take

    take = _take(load_rig(HUMANOID_GLB).skeleton, rig_path=str(HUMANOID_GLB), frames=31, fps=30.0)
    path = tmp_path / f"take{suffix}"
    save_take(take, path)
    report = _blender("take", str(path), str(tmp_path / "out.json"))
    assert report["fps"] == pytest.approx(30.0) and report["scene_fps"] == pytest.approx(30.0, abs=1e-6)
    assert any(r[1] - r[0] == pytest.approx(30.0, abs=1.01) for r in report["frame_range"]), report["frame_range"]
