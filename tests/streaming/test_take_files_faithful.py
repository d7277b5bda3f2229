"""Takes and conversions open at the right size, rate and with the character (issue 15, items 6 and 7)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.formats.bvh import bvh_file_units, read_bvh
from engine.formats.gltf import read_gltf
from engine.formats.rigio import load_rig, save_rig
from engine.rig import Rig
from engine.skeleton import Skeleton
from streaming.take_files import Take, save_take
from tests.conftest import REPO_ROOT
from tests.engine.formats.test_gltf_write import _errors, validate  # noqa: F401 (fixture)

HUMANOID_GLB = REPO_ROOT / "resources" / "rigs" / "humanoid.glb"


def _scaled(skeleton: Skeleton, factor: float) -> Skeleton:
    return Skeleton(skeleton.names, skeleton.parents, skeleton.rest_translations * factor, skeleton.rest_rotations,
                    skeleton.end_site_joints, skeleton.end_site_offsets * factor)


def _take(skeleton: Skeleton, rig_path: str = "", frames: int = 31, fps: float = 30.0) -> Take:
    """Frames of the rest pose with a swaying root, stamped exactly 1/fps apart."""
    from engine.kinematics import forward_kinematics
    from engine import rotations as rot

    rotations = np.broadcast_to(skeleton.rest_rotations, (frames,) + skeleton.rest_rotations.shape).copy()
    root = skeleton.rest_translations[0] + np.sin(np.arange(frames) / 5.0)[:, None] * [0.1 * skeleton.height, 0.0, 0.0]
    trans = np.broadcast_to(skeleton.rest_translations, (frames,) + skeleton.rest_translations.shape).copy()
    trans[:, 0] = root
    _, positions = forward_kinematics(skeleton.parents, rot.quat_to_matrix(rotations), trans)
    stamps = (np.arange(frames) * round(1e9 / fps)).astype(np.int64)
    return Take(skeleton.names, np.arange(frames), stamps, rotations, root, positions, skeleton, rig_path, "take", fps)


@pytest.mark.parametrize("height", [23.5, 1.7, 0.3])
def test_bvh_takes_and_conversions_read_back_at_their_size(tmp_path: Path, height: float) -> None:
    """One unit rule (cm over 0.5 m, m below) for takes and ``convert``; the reader's guess agrees."""
    base = load_rig(HUMANOID_GLB).skeleton
    sk = _scaled(base, height / base.height)
    take_path = tmp_path / "take.bvh"
    save_take(_take(sk), take_path)
    back = read_bvh(take_path)
    assert back.skeleton.height == pytest.approx(height, rel=1e-6)
    assert back.source.units == ("cm" if height > 0.5 else "m") and bvh_file_units(height) == (100.0 if height > 0.5 else 1.0)
    conv_path = tmp_path / "convert.bvh"
    save_rig(Rig("r", sk, [_take(sk).to_clip()]), conv_path)
    assert read_bvh(conv_path).skeleton.height == pytest.approx(height, rel=1e-6)
    assert take_path.read_text().split("MOTION")[0] == conv_path.read_text().split("MOTION")[0]  # same hierarchy text


def test_bvh_frame_time_gives_importers_the_exact_rate(tmp_path: Path) -> None:
    sk = load_rig(HUMANOID_GLB).skeleton
    path = tmp_path / "take.bvh"
    save_take(_take(sk), path)
    line = next(l for l in path.read_text().splitlines() if l.startswith("Frame Time:"))
    frame_time = float(line.split(":")[1])
    assert 1.0 / frame_time == 30.0 and read_bvh(path).clips[0].fps == 30.0  # "0.03333333" gave 30.0000003


def test_glb_take_is_the_whole_character(tmp_path: Path, validate) -> None:  # noqa: F811
    """Mesh, skin and humanoid map of the recorded rig come along; the validator finds no unused skin."""
    rig = load_rig(HUMANOID_GLB)
    assert rig.mesh is not None and rig.humanoid
    path = tmp_path / "take.glb"
    save_take(_take(rig.skeleton, rig_path=str(HUMANOID_GLB)), path)
    report = validate(path)
    assert _errors(report) == []
    assert not [m for m in report["issues"]["messages"] if m["code"] == "UNUSED_OBJECT" and "skins" in str(m.get("pointer"))]
    back = read_gltf(path)
    assert back.mesh is not None and back.mesh.positions.shape == rig.mesh.positions.shape
    np.testing.assert_allclose(back.mesh.positions, rig.mesh.positions, atol=1e-5)
    assert back.humanoid == rig.humanoid and back.clips[0].num_frames == 31


def test_glb_take_without_its_rig_file_still_writes_the_skeleton(tmp_path: Path) -> None:
    sk = load_rig(HUMANOID_GLB).skeleton
    path = tmp_path / "take.glb"
    save_take(_take(sk, rig_path=str(tmp_path / "gone.glb")), path)
    back = read_gltf(path)
    assert back.mesh is None and back.skeleton.names == sk.names


def _glb_parts(path: Path) -> tuple[dict, bytes]:
    import json
    import struct

    data = path.read_bytes()
    json_len = struct.unpack_from("<I", data, 12)[0]
    doc = json.loads(data[20:20 + json_len])
    bin_len = struct.unpack_from("<I", data, 20 + json_len)[0]
    return doc, data[28 + json_len:28 + json_len + bin_len]


def _floats(doc: dict, blob: bytes, accessor: int) -> np.ndarray:
    acc = doc["accessors"][accessor]
    view = doc["bufferViews"][acc["bufferView"]]
    start = view.get("byteOffset", 0) + acc.get("byteOffset", 0)
    return np.frombuffer(blob, np.float32, acc["count"] * {"SCALAR": 1, "VEC3": 3}[acc["type"]], start)


def test_a_rig_with_morph_targets_gets_its_face_in_glb_takes(tmp_path: Path, validate) -> None:  # noqa: F811
    """Morph targets named after ARKit shapes, VRM presets or VRoid's names read back and take the
    face's weights in a GLB take (the animation's weights channel); the Khronos validator agrees."""
    import dataclasses

    from engine.face_hands.expressions import vrm0_expressions
    from engine.formats.gltf_write import write_glb
    from engine.perception.face_landmarker import BLENDSHAPE_NAMES

    rig = load_rig(HUMANOID_GLB)
    V = len(rig.mesh.positions)
    names = ("blendShape1.jawOpen", "Fcl_EYE_Close_L", "A", "MyOwnShape")
    deltas = np.zeros((len(names), V, 3), np.float32)
    for k in range(len(names)):
        deltas[k, k::7, 1] = -0.01 * (k + 1)  # every 7th vertex, a different amount per target
    face_rig = dataclasses.replace(rig, mesh=dataclasses.replace(rig.mesh, morph_names=names, morph_deltas=deltas))
    rig_file = tmp_path / "face_rig.glb"
    write_glb(face_rig, rig_file)
    back = read_gltf(rig_file)
    assert back.mesh.morph_names == names
    np.testing.assert_allclose(back.mesh.morph_deltas, deltas, atol=1e-6)

    take = _take(rig.skeleton, rig_path=str(rig_file), frames=31)
    blend = np.zeros((31, len(BLENDSHAPE_NAMES)))
    blend[:, BLENDSHAPE_NAMES.index("jawOpen")] = np.linspace(0.0, 0.8, 31)
    blend[:, BLENDSHAPE_NAMES.index("eyeBlinkLeft")] = 0.5
    take = dataclasses.replace(take, blendshapes=blend)
    path = tmp_path / "take.glb"
    save_take(take, path)
    assert _errors(validate(path)) == []
    doc, blob = _glb_parts(path)
    anim = doc["animations"][0]
    assert "blendshapes" in anim["extras"]  # still there for readers of the raw scores
    mesh_node = next(i for i, n in enumerate(doc["nodes"]) if "mesh" in n)
    channel = next(c for c in anim["channels"] if c["target"]["path"] == "weights")
    assert channel["target"]["node"] == mesh_node and doc["meshes"][0]["extras"]["targetNames"] == list(names)
    weights = _floats(doc, blob, anim["samplers"][channel["sampler"]]["output"]).reshape(-1, len(names))
    assert weights.shape == (31, 4)
    np.testing.assert_allclose(weights[:, 0], np.linspace(0.0, 0.8, 31), atol=1e-4)  # jawOpen by its ARKit name
    np.testing.assert_allclose(weights[:, 1], 0.5, atol=1e-4)  # VRoid's Fcl_EYE_Close_L = VRM Blink_L = eyeBlinkLeft
    np.testing.assert_allclose(weights[:, 2], [vrm0_expressions(b)["A"] for b in blend], atol=1e-4)
    assert np.all(weights[:, 3] == 0.0)  # no match: left at rest
