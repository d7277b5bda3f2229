"""Tests of engine/formats/bvh.py: channel semantics, every fault as RigFormatError, shared files, round trips."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from engine import rotations as rot
from engine.formats.bvh import CMU_UNIT_M, guess_unit_scale, read_bvh, write_bvh
from engine.errors import RigFormatError
from engine.rig import Clip, Rig
from engine.formats.rigio import iter_rig_files
from engine.skeleton import Skeleton

logger = logging.getLogger(__name__)

# Two roots, a 6-channel root in ZXY, a 3-channel XYZ joint with an end site, a position-only joint,
# a 6-channel non-root joint with interleaved channels, and a 1-channel root. Row width 19.
SMALL = """HIERARCHY
ROOT Hips
{
\tOFFSET 1 2 3
\tCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
\tJOINT Spine
\t{
\t\tOFFSET 0 10 0
\t\tCHANNELS 3 Xrotation Yrotation Zrotation
\t\tEnd Site
\t\t{
\t\t\tOFFSET 0 5 0
\t\t}
\t}
\tJOINT Slide
\t{
\t\tOFFSET 4 0 0
\t\tCHANNELS 3 Xposition Yposition Zposition
\t}
\tJOINT Free
\t{
\t\tOFFSET 0 0 7
\t\tCHANNELS 6 Yrotation Xposition Zrotation Yposition Xrotation Zposition
\t}
}
ROOT Prop
{
\tOFFSET 0 0 0
\tCHANNELS 1 Yrotation
}
MOTION
Frames: 2
Frame Time: 0.5
"""
ROWS = [
    "10 20 30 30 40 50 5 10 15 1 2 3 60 -1 70 -2 80 -3 90",
    "0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0",
]


def small_text(rows: list[str] = ROWS) -> str:
    return SMALL + "\n".join(rows) + "\n"


def same_rotation(q1: np.ndarray, q2: np.ndarray) -> bool:
    return np.allclose(rot.quat_to_matrix(q1), rot.quat_to_matrix(q2), atol=1e-10)


def test_channel_semantics_of_a_hand_written_file():
    rig = read_bvh("small.bvh", data=small_text(), scale=1.0)
    sk, clip = rig.skeleton, rig.clips[0]
    assert sk.names == ("Hips", "Spine", "Slide", "Free", "Prop")
    assert sk.parents.tolist() == [-1, 0, 0, 0, -1]
    assert sk.roots == [0, 4]
    np.testing.assert_allclose(sk.rest_rotations, np.tile([0, 0, 0, 1.0], (5, 1)))
    np.testing.assert_allclose(sk.rest_translations[:4], [[1, 2, 3], [0, 10, 0], [4, 0, 0], [0, 0, 7]])
    assert sk.end_site_joints.tolist() == [1]
    np.testing.assert_allclose(sk.end_site_offsets, [[0, 5, 0]])
    assert clip.name == "small" and clip.fps == 2.0 and clip.num_frames == 2
    q, t = clip.rotations[0], clip.translations[0]
    # Root positions replace the OFFSET; Euler angles apply in channel order, intrinsic, degrees.
    np.testing.assert_allclose(t[0], [10, 20, 30])
    assert same_rotation(q[0], rot.euler_to_quat([30, 40, 50], "ZXY", degrees=True))
    assert same_rotation(q[1], rot.euler_to_quat([5, 10, 15], "XYZ", degrees=True))
    np.testing.assert_allclose(t[1], [0, 10, 0])  # no position channels: the OFFSET
    np.testing.assert_allclose(t[2], [1, 2, 3])  # position-only joint
    assert same_rotation(q[2], [0, 0, 0, 1])
    assert same_rotation(q[3], rot.euler_to_quat([60, 70, 80], "YZX", degrees=True))
    np.testing.assert_allclose(t[3], [-1, -2, -3])
    assert same_rotation(q[4], rot.euler_to_quat([90, 0, 0], "YXZ", degrees=True))
    assert same_rotation(clip.rotations[1], np.tile([0, 0, 0, 1.0], (5, 1)))


def test_crlf_tabs_blank_lines_and_trailing_whitespace():
    messy = small_text().replace("\n", "  \t\r\n").replace("MOTION", "\r\nMOTION") + "\r\n\r\n"
    a = read_bvh("a.bvh", data=small_text(), scale=1.0)
    b = read_bvh("b.bvh", data=messy.encode("utf-8"), scale=1.0)
    np.testing.assert_allclose(a.clips[0].rotations, b.clips[0].rotations)
    np.testing.assert_allclose(a.clips[0].translations, b.clips[0].translations)


def test_zero_frames_gives_a_rest_only_rig():
    rig = read_bvh("rest.bvh", data=SMALL.replace("Frames: 2", "Frames: 0"))
    assert rig.clips == [] and rig.skeleton.num_joints == 5


def test_scale_and_unit_guess():
    assert guess_unit_scale(170.0) == (0.01, "cm")
    assert guess_unit_scale(25.0) == (CMU_UNIT_M, "cmu")
    assert guess_unit_scale(1.7) == (1.0, "m")
    rig = read_bvh("small.bvh", data=small_text())  # rest height 17 units (0 to 2+10+5) -> CMU units
    assert rig.source.units == "cmu" and rig.source.unit_scale == pytest.approx(CMU_UNIT_M)
    np.testing.assert_allclose(rig.skeleton.rest_translations[1], [0, 10 * CMU_UNIT_M, 0])
    np.testing.assert_allclose(rig.clips[0].translations[0, 0], np.array([10, 20, 30]) * CMU_UNIT_M)
    cm = read_bvh("small.bvh", data=small_text(), scale=0.01)
    assert cm.source.unit_scale == 0.01 and cm.source.units == "cm"
    assert cm.skeleton.height == pytest.approx(0.17)


def test_z_up_file_is_turned_y_up_with_identity_rest_rotations():
    y_up = read_bvh("s.bvh", data=small_text(), scale=1.0)
    z_up = read_bvh("s.bvh", data=small_text(), scale=1.0, up_axis="z")
    C = rot.euler_to_matrix([-90.0, 0, 0], "XYZ", degrees=True)
    np.testing.assert_allclose(C @ [0, 0, 1], [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(z_up.skeleton.rest_rotations, np.tile([0, 0, 0, 1.0], (5, 1)))
    np.testing.assert_allclose(z_up.clips[0].positions(z_up.skeleton), y_up.clips[0].positions(y_up.skeleton) @ C.T, atol=1e-9)
    assert z_up.source.up_axis == "Z"
    with pytest.raises(ValueError):
        read_bvh("s.bvh", data=small_text(), up_axis="X")


ROW_LINE = SMALL.count("\n") + 1  # line number of the first motion row
ERRORS = [
    ("", 1, "empty"),
    ("HIERARCHY\nMOTION\nFrames: 0\nFrame Time: 0.1\n", 2, "no joints"),
    (SMALL.replace("HIERARCHY", "HIERARCHIE"), 1, "HIERARCHY"),
    (SMALL.replace("\tJOINT Spine", "\tJIONT Spine"), 6, "unknown keyword"),
    (SMALL.replace("\t\tEnd Site\n\t\t{", "\t\tEnd Site\n"), 12, "expected '{'"),
    (SMALL.replace("}\nROOT Prop", "ROOT Prop"), 25, "ROOT inside"),
    (SMALL.replace("MOTION", "}\nMOTION"), 31, "unbalanced"),
    (SMALL.replace("Zrotation Xrotation Yrotation", "Zrotation Xrotation Wrotation"), 5, "unknown channel"),
    (SMALL.replace("CHANNELS 3 Xrotation Yrotation Zrotation", "CHANNELS 4 Xrotation Yrotation Zrotation"), 9, "lists 3"),
    (SMALL.replace("CHANNELS 1 Yrotation", "CHANNELS 7 Yrotation"), 29, "0..6"),
    (SMALL.replace("CHANNELS 1 Yrotation", "CHANNELS 2 Yrotation Yrotation"), 29, "repeated"),
    (SMALL.replace("OFFSET 4 0 0", "OFFSET 4 0 nan"), 17, "not finite"),
    (SMALL.replace("OFFSET 4 0 0", "OFFSET 4 0 x"), 17, "not a number"),
    (SMALL.replace("OFFSET 4 0 0", "OFFSET 4 0"), 17, "3 numbers"),
    (SMALL.replace("JOINT Slide", "JOINT Spine"), 15, "duplicate joint name"),
    (SMALL.replace("\t\tOFFSET 0 10 0\n", ""), 13, "no OFFSET"),
    (SMALL.replace("\t\tCHANNELS 3 Xposition Yposition Zposition\n", ""), 18, "no CHANNELS"),
    (SMALL.replace("Frames: 2", "Frames: two"), ROW_LINE - 2, "Frames"),
    (SMALL.replace("Frame Time: 0.5", "Frame Time: 0"), ROW_LINE - 1, "positive"),
    (SMALL.replace("Frame Time: 0.5", "Frame Time: -1"), ROW_LINE - 1, "positive"),
    (SMALL.replace("Frame Time: 0.5", "Frames Time 0.5"), ROW_LINE - 1, "Frame Time"),
    (SMALL.split("MOTION")[0], ROW_LINE - 4, "no MOTION"),
    (small_text([ROWS[0]]), ROW_LINE, "only 1 rows"),
    (small_text(ROWS + [ROWS[1]]), ROW_LINE + 2, "more motion rows"),
    (small_text([ROWS[0], ROWS[1] + " 1"]), ROW_LINE + 1, "has 20 values"),
    (small_text([ROWS[0], ROWS[1].replace("0", "inf", 1)]), ROW_LINE + 1, "not finite"),
    (small_text([ROWS[0].replace("30", "NaN", 1), ROWS[1]]), ROW_LINE, "not finite"),
    (small_text([ROWS[0], ROWS[1].replace("0", "1e999", 1)]), ROW_LINE + 1, "not finite"),
    (small_text([ROWS[0], ROWS[1].replace("0", "abc", 1)]), ROW_LINE + 1, "not a number"),
    (SMALL.replace("Frames: 2", "Frames: 1000000000000") + "\n".join(ROWS), ROW_LINE + 1, "only 2 rows"),
]


@pytest.mark.parametrize("text, line, words", ERRORS, ids=[e[2] + f"@{e[1]}" for e in ERRORS])
def test_every_fault_is_a_rig_format_error_with_its_line(text, line, words):
    with pytest.raises(RigFormatError) as info:
        read_bvh("bad.bvh", data=text)
    assert words in info.value.reason
    assert info.value.line == line, info.value
    assert info.value.path == "bad.bvh"


def test_missing_file_names_it(tmp_path):
    with pytest.raises(RigFormatError, match="nope.bvh"):
        read_bvh(tmp_path / "nope.bvh")


# ------------------------------------------------------------------------------ shared data
def bvh_files(folder):
    return [p for p in iter_rig_files(folder) if p.suffix.lower() == ".bvh"]


def test_every_shared_bvh_loads_with_sane_world_positions(shared_data):
    files = bvh_files(shared_data)
    assert len(files) >= 50
    for path in files:
        start = time.perf_counter()
        rig = read_bvh(path)
        elapsed = time.perf_counter() - start
        sk = rig.skeleton
        pos = rig.clips[0].positions(sk)  # (T, J, 3)
        logger.debug("%s: %d joints, %d frames, height %.3f m (%s), %.0f ms", path.name, len(sk), len(pos), sk.height, rig.source.units, elapsed * 1e3)
        assert np.isfinite(pos).all(), path
        assert 0.1 < sk.height < 10.0, (path, sk.height)
        extent = pos.max(axis=1) - pos.min(axis=1)  # (T, 3) per-frame pose size stays sane
        assert (extent.max(axis=1) < 5 * sk.height).all(), path
        assert elapsed < 3.0, (path, elapsed)  # typically 0.01-0.2 s; loose for a busy 2-core box


def _world_by_name(rig: Rig, names: tuple[str, ...]) -> np.ndarray:
    pos = rig.clips[0].positions(rig.skeleton)
    return pos[:, [rig.skeleton.index(n) for n in names]]


def assert_same_motion(a: Rig, b: Rig, tol: float = 1e-5) -> None:
    """World positions of every joint and end site of every frame agree to ``tol`` of the height."""
    pa = a.clips[0].positions(a.skeleton)
    pb = _world_by_name(b, a.skeleton.names)
    assert pa.shape == pb.shape
    err = np.abs(pa - pb).max() / a.skeleton.height
    assert err < tol, err
    ra, wa = a.clips[0].world(a.skeleton)
    rb, wb = b.clips[0].world(b.skeleton)
    ea, eb = a.skeleton.end_site_positions(ra, wa), b.skeleton.end_site_positions(rb, wb)
    order_a = np.argsort([a.skeleton.names[j] for j in a.skeleton.end_site_joints], kind="stable")
    order_b = np.argsort([b.skeleton.names[j] for j in b.skeleton.end_site_joints], kind="stable")
    np.testing.assert_allclose(ea[:, order_a], eb[:, order_b], atol=tol * a.skeleton.height)


ROUND_TRIP_FILES = [
    "ganimator/truebones_crab/Crab-dance-long.bvh",
    "iclone_cmu/002_01.bvh",
    "animated_drawings/cmu1/jumping_jacks.bvh",
    "deep_motion_editing/xia/rest.bvh",
    "mann_dog/D1_010_KAN01_002.bvh",
    "pan_retargeting/lafan1/Lafan1_example.bvh",
]


@pytest.mark.parametrize("rel", ROUND_TRIP_FILES)
def test_shared_file_round_trip_in_centimetres(shared_data, tmp_path, rel):
    if not (shared_data / rel).is_file():
        pytest.skip(f"{rel} not in the shared data")
    a = read_bvh(shared_data / rel)
    out = tmp_path / "out.bvh"
    write_bvh(a, out, scale=100.0)
    b = read_bvh(out, scale=0.01)
    assert b.skeleton.num_joints == a.skeleton.num_joints
    assert b.clips[0].fps == pytest.approx(a.clips[0].fps, rel=1e-6)
    assert_same_motion(a, b)
    assert read_bvh(out).source.units == "cm" or a.skeleton.height <= 0.5


def hand_built_rig(seed: int = 0, T: int = 24) -> Rig:
    """Non-identity rest rotations, two roots, end sites, animated translations (6-channel joints)."""
    rng = np.random.default_rng(seed)
    parents = np.array([-1, 0, 1, 2, 1, 4, 0, -1, 7])
    J = len(parents)
    sk = Skeleton(
        tuple(f"bone {j}" if j % 3 == 0 else f"b{j}" for j in range(J)),  # spaces are sanitised
        parents,
        rng.normal(size=(J, 3)) * 0.3,
        rot.quat_normalize(rng.normal(size=(J, 4))),
        end_site_joints=[3, 5, 8],
        end_site_offsets=rng.normal(size=(3, 3)) * 0.1,
    )
    rotations = rot.quat_normalize(rng.normal(size=(T, J, 4)))
    translations = np.broadcast_to(sk.rest_translations, (T, J, 3)).copy()
    translations[:, [0, 7]] += rng.normal(size=(T, 2, 3))
    translations[:, 2] += rng.normal(size=(T, 3)) * 0.05  # a stretching bone -> 6 channels
    return Rig("hand", sk, [Clip("anim", 25.0, rotations, translations)])


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "YZX"])
def test_hand_built_rig_round_trip(tmp_path, order):
    a = hand_built_rig()
    out = tmp_path / "hand.bvh"
    write_bvh(a, out, euler_order=order)
    b = read_bvh(out)  # the unit rule reads back at the written size
    np.testing.assert_allclose(b.skeleton.rest_rotations, np.tile([0, 0, 0, 1.0], (b.skeleton.num_joints, 1)))
    text = out.read_text()
    assert text.count("CHANNELS 6") == 3  # two roots + the stretching bone
    assert text.count("End Site") == 3
    sk = a.skeleton  # the written names differ only by spaces turned into "_"
    names = tuple(n.replace(" ", "_") for n in sk.names)
    renamed = Rig("hand", Skeleton(names, sk.parents, sk.rest_translations, sk.rest_rotations, sk.end_site_joints, sk.end_site_offsets), a.clips)
    assert_same_motion(renamed, b)


def test_hand_built_rig_round_trip_in_cm_with_resampling(tmp_path):
    a = hand_built_rig(seed=1)
    out = tmp_path / "hand_cm.bvh"
    write_bvh(a, out, scale=100.0, clip="anim")
    b = read_bvh(out, scale=0.01)
    assert b.clips[0].name == "hand_cm" and b.clips[0].fps == pytest.approx(25.0)
    renamed = [n.replace(" ", "_") for n in a.skeleton.names]
    pa = a.clips[0].positions(a.skeleton)
    pb = b.clips[0].positions(b.skeleton)[:, [b.skeleton.index(n) for n in renamed]]
    assert np.abs(pa - pb).max() < 1e-5 * a.skeleton.height
    write_bvh(a, out, fps=50.0)
    assert read_bvh(out)  # the unit rule reads back at the written size.clips[0].num_frames == 47


def test_z_up_file_round_trip(tmp_path):
    a = read_bvh("z.bvh", data=small_text(), scale=1.0, up_axis="Z")
    write_bvh(a, tmp_path / "z.bvh")
    assert_same_motion(a, read_bvh(tmp_path / "z.bvh"))


def test_rig_without_clip_writes_its_rest_pose(tmp_path):
    a = hand_built_rig()
    a.clips = []
    write_bvh(a, tmp_path / "rest.bvh")
    b = read_bvh(tmp_path / "rest.bvh")
    assert b.clips[0].num_frames == 1
    pb = b.clips[0].positions(b.skeleton)[0]
    np.testing.assert_allclose(pb, a.skeleton.rest_positions(), atol=1e-6)
    with pytest.raises(KeyError):
        write_bvh(hand_built_rig(), tmp_path / "x.bvh", clip="missing")
    with pytest.raises(ValueError):
        write_bvh(hand_built_rig(), tmp_path / "x.bvh", euler_order="XXY")
