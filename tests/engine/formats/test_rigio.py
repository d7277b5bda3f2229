"""Tests of engine/formats/rigio.py: content sniffing, errors, reference clip, save dispatch, folder listing."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.errors import RigFormatError
from engine.rig import Clip, Rig
from engine.formats.rigio import iter_rig_files, load_rig, save_rig, sniff_format
from engine.skeleton import Skeleton

BVH = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Head
  {
    OFFSET 0 160 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 20 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.04
0 90 0 10 0 0 0 0 45
0 91 0 20 0 0 0 0 90
"""


def small_rig(clips: list[str] = ("walk", "Reference")) -> Rig:
    sk = Skeleton(("root", "tip"), np.array([-1, 0]), [[0, 0.5, 0], [0, 1.0, 0]], rot.quat_normalize(np.array([[0, 0, 0.3, 1], [0.2, 0, 0, 1]])))
    out = []
    for k, name in enumerate(clips):
        q = rot.euler_to_quat(np.array([[[0, 0, 10.0 * k], [5.0 * k, 0, 0]]] * 3), "XYZ", degrees=True)
        out.append(Clip(name, 30.0, q, np.broadcast_to(sk.rest_translations, (3, 2, 3)).copy()))
    return Rig("small", sk, out)


def test_bvh_is_recognised_by_content_whatever_the_extension(tmp_path):
    path = tmp_path / "motion.txt"
    path.write_text(BVH)
    rig = load_rig(path)
    assert rig.source.format == "bvh" and rig.skeleton.names == ("Hips", "Head")
    assert rig.source.units == "cm" and rig.skeleton.height == pytest.approx(1.8)
    assert load_rig(path, scale=1.0).skeleton.height == pytest.approx(180.0)


def test_sniffing():
    assert sniff_format("a.bvh", b"\xef\xbb\xbf  \r\nHIERARCHY\n") == "bvh"
    assert sniff_format("a.x", b"glTF\x02\x00\x00\x00") == "gltf"
    assert sniff_format("a.gltf", b' {"asset": {}}') == "gltf"
    with pytest.raises(RigFormatError, match="unrecognised content for .fbx"):
        sniff_format("a.fbx", b"Kaydara FBX Binary")


def test_errors_name_the_file(tmp_path):
    with pytest.raises(RigFormatError, match="file not found") as info:
        load_rig(tmp_path / "missing.bvh")
    assert info.value.path.endswith("missing.bvh")
    with pytest.raises(RigFormatError, match="not a regular file"):
        load_rig(tmp_path)
    (tmp_path / "junk.bvh").write_bytes(b"\x00\x01 not a rig")
    with pytest.raises(RigFormatError, match="unrecognised content"):
        load_rig(tmp_path / "junk.bvh")
    (tmp_path / "doc.gltf").write_text('{"not": "gltf"}')
    with pytest.raises(RigFormatError, match="asset"):
        load_rig(tmp_path / "doc.gltf")
    (tmp_path / "broken.gltf").write_text('{"asset": ')
    with pytest.raises(RigFormatError, match="not valid JSON"):
        load_rig(tmp_path / "broken.gltf")
    (tmp_path / "bad.bvh").write_text(BVH.replace("Frames: 2", "Frames: 3"))
    with pytest.raises(RigFormatError, match="only 2 rows"):
        load_rig(tmp_path / "bad.bvh")


def test_options_for_another_format_are_ignored(tmp_path, caplog):
    path = tmp_path / "m.bvh"
    path.write_text(BVH)
    rig = load_rig(path, skin=0, scale=0.01)
    assert rig.skeleton.height == pytest.approx(1.8)
    assert "skin" in caplog.text


def test_reference_clip_sets_the_reference_pose(tmp_path):
    path = tmp_path / "reference.bvh"  # a BVH clip is named after its file stem
    path.write_text(BVH)
    rig = load_rig(path)
    np.testing.assert_allclose(rig.reference_pose, rig.clips[0].rotations[0])
    other = tmp_path / "walk.bvh"
    other.write_text(BVH)
    assert load_rig(other).reference_pose is None


def test_save_bvh_round_trip_and_unit_choice(tmp_path):
    rig = small_rig()
    save_rig(rig, tmp_path / "out.bvh", clip="Reference")
    back = load_rig(tmp_path / "out.bvh")
    assert back.source.units == "cm"  # taller than 0.5 m -> written in cm, guessed back as cm
    want = rig.clip("Reference").positions(rig.skeleton)
    np.testing.assert_allclose(back.clips[0].positions(back.skeleton), want, atol=1e-6)
    tiny = Rig("tiny", rig.skeleton.scaled(0.2), rig.clips)  # 0.2 m: written in metres
    save_rig(tiny, tmp_path / "tiny.bvh", fps=60.0)
    back = load_rig(tmp_path / "tiny.bvh")
    assert back.source.units == "m" and back.skeleton.height == pytest.approx(tiny.skeleton.height)
    assert back.clips[0].fps == pytest.approx(60.0) and back.clips[0].num_frames == 5
    with pytest.raises(ValueError, match="unsupported extension"):
        save_rig(rig, tmp_path / "out.fbx")


def test_save_glb_round_trip(tmp_path):
    pytest.importorskip("engine.formats.gltf_write")
    pytest.importorskip("engine.formats.gltf")
    rig = small_rig()
    save_rig(rig, tmp_path / "out.glb", fps=15.0)
    back = load_rig(tmp_path / "out.glb")
    assert [c.name for c in back.clips] == ["walk", "Reference"]
    assert back.reference_pose is not None
    np.testing.assert_allclose(rot.quat_to_matrix(back.reference_pose), rot.quat_to_matrix(rig.clip("Reference").rotations[0]), atol=1e-5)
    for name in ("walk", "Reference"):
        assert back.clip(name).num_frames == 2  # 3 frames at 30 fps = 0.0667 s -> 2 frames at 15 fps
        np.testing.assert_allclose(back.clip(name).positions(back.skeleton)[-1], rig.clip(name).positions(rig.skeleton)[-1], atol=1e-5)
    save_rig(rig, tmp_path / "one.glb", clip="walk")
    assert [c.name for c in load_rig(tmp_path / "one.glb").clips] == ["walk"]


def test_shared_glb_loads_through_the_dispatcher(shared_data):
    pytest.importorskip("engine.formats.gltf")
    glbs = [p for p in iter_rig_files(shared_data) if p.suffix == ".glb"]
    if not glbs:
        pytest.skip("no GLB in the shared data")
    rig = load_rig(glbs[0])
    assert rig.source.format in ("glb", "vrm") and rig.skeleton.num_joints > 0


def test_iter_rig_files(tmp_path):
    for rel in ("b/z.BVH", "a.glb", "b/c/d.vrm", "x.gltf", "notes.txt", "e.fbx"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("")
    (tmp_path / "dir.bvh").mkdir()
    got = [p.relative_to(tmp_path).as_posix() for p in iter_rig_files(tmp_path)]
    assert got == ["a.glb", "b/c/d.vrm", "b/z.BVH", "x.gltf"]


@pytest.mark.parametrize("rel", ["quaternius_animals/Cat_simple.glb", "misc_gltf/RobotExpressive.glb", "quaternius_dinosaurs/Trex.glb"])
def test_shared_glb_to_bvh_keeps_world_positions(shared_data, tmp_path, rel):
    """glTF rigs (rest rotations not identity) re-based for BVH: every joint within 1e-5 of the height."""
    pytest.importorskip("engine.formats.gltf")
    if not (shared_data / rel).is_file():
        pytest.skip(f"{rel} missing")
    a = load_rig(shared_data / rel)
    clip = a.clips[0]
    save_rig(a, tmp_path / "out.bvh", clip=clip.name)
    b = load_rig(tmp_path / "out.bvh")
    assert b.source.units == "cm" and b.skeleton.height == pytest.approx(a.skeleton.height, rel=1e-5)
    names = [n.replace(" ", "_") for n in a.skeleton.names]
    pb = b.clips[0].positions(b.skeleton)[:, [b.skeleton.index(n) for n in names]]
    assert np.abs(clip.positions(a.skeleton) - pb).max() < 1e-5 * a.skeleton.height
