"""Fuzz tests of the BVH reader: any input either parses or raises RigFormatError, quickly."""

from __future__ import annotations

import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.formats.bvh import read_bvh
from engine.errors import RigFormatError

VALID = """HIERARCHY
ROOT Hips
{
  OFFSET 0 90 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 0 10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 10 0
    }
  }
  JOINT Leg
  {
    OFFSET 10 -40 0
    CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
  }
}
MOTION
Frames: 3
Frame Time: 0.033333
0 90 0 0 0 0 10 20 30 10 -40 0 1 2 3
1 91 0 5 0 0 11 21 31 10 -40 0 4 5 6
2 92 0 9 0 0 12 22 32 10 -40 0 7 8 9
"""

VOCAB = [
    "{", "}", "ROOT", "JOINT", "End", "Site", "OFFSET", "CHANNELS", "MOTION", "Frames:", "Frame", "Time:",
    "HIERARCHY", "Xrotation", "Yposition", "0", "6", "7", "-1", "1e308", "1e999", "nan", "-inf", "9" * 400,
    "0.0000001", "\t", "\r\n", "\n", "Hips", "x", "\x00", "é", "１", "²", "3_0",
]


def parses_or_format_error(data: str | bytes) -> None:
    start = time.perf_counter()
    try:
        rig = read_bvh("fuzz.bvh", data=data)
    except RigFormatError as e:
        assert e.path == "fuzz.bvh" and e.reason
        assert e.line is None or e.line >= 1
    else:
        for clip in rig.clips:
            assert np.isfinite(clip.rotations).all() and np.isfinite(clip.translations).all()
    assert time.perf_counter() - start < 2.0


def test_the_seed_file_is_valid():
    rig = read_bvh("fuzz.bvh", data=VALID)
    assert rig.skeleton.num_joints == 3 and rig.clips[0].num_frames == 3


mutation = st.tuples(
    st.sampled_from(["delete", "insert", "replace", "del_line", "dup_line", "swap_lines"]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    st.one_of(st.sampled_from(VOCAB), st.text(max_size=8)),
)


def mutate(text: str, ops: list[tuple[str, int, int, str]]) -> str:
    for kind, a, b, payload in ops:
        if kind in ("delete", "insert", "replace"):
            tokens = text.split(" ")
            i = a % (len(tokens) + 1)
            if kind == "delete":
                del tokens[i : i + 1]
            elif kind == "insert":
                tokens.insert(i, payload)
            else:
                tokens[i : i + 1] = [payload]
            text = " ".join(tokens)
        else:
            lines = text.split("\n")
            i, j = a % len(lines), b % len(lines)
            if kind == "del_line":
                del lines[i]
            elif kind == "dup_line":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@settings(max_examples=300)
@given(st.lists(mutation, min_size=1, max_size=4))
def test_mutated_text_parses_or_raises_rig_format_error(ops):
    parses_or_format_error(mutate(VALID, ops))


@settings(max_examples=150)
@given(st.integers(0, len(VALID)), st.integers(0, 40), st.binary(min_size=1, max_size=16))
def test_random_bytes_parse_or_raise_rig_format_error(pos, cut, junk):
    raw = VALID.encode()
    parses_or_format_error(raw[:pos] + junk + raw[pos + cut :])


@pytest.mark.parametrize(
    "text",
    [
        VALID.replace("Frames: 3", "Frames: 1000000000000"),
        VALID.replace("Frames: 3", "Frames: " + "9" * 5000),
        VALID.replace("OFFSET 0 90 0", "OFFSET 0 1e308 0"),
        VALID.replace("OFFSET 0 90 0", "OFFSET 0 " + "9" * 5000 + " 0"),
        VALID.replace("CHANNELS 6 X", "CHANNELS " + "9" * 5000 + " X"),
        VALID.replace("Frame Time: 0.033333", "Frame Time: 1e-320"),
        VALID.replace("0 90 0 0 0 0", "0 1e300 0 0 0 0"),
    ],
)
def test_huge_values_are_rejected_quickly(text):
    start = time.perf_counter()
    with pytest.raises(RigFormatError):
        read_bvh("huge.bvh", data=text)
    assert time.perf_counter() - start < 1.0


def nested(depth: int, close: bool = True) -> str:
    opens = "".join(f"JOINT j{d}\n{{\nOFFSET 0 1 0\nCHANNELS 3 Zrotation Xrotation Yrotation\n" for d in range(1, depth))
    closes = "}\n" * depth if close else "}\n" * (depth - 1)
    row = " ".join(["0"] * (6 + 3 * (depth - 1)))
    return f"HIERARCHY\nROOT j0\n{{\nOFFSET 0 0 0\nCHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation\n{opens}{closes}MOTION\nFrames: 1\nFrame Time: 0.1\n{row}\n"


def test_5000_nested_joints_parse_without_recursion():
    start = time.perf_counter()
    rig = read_bvh("deep.bvh", data=nested(5000), scale=1.0)
    assert rig.skeleton.num_joints == 5000
    assert rig.skeleton.depths().max() == 4999
    assert rig.skeleton.height == pytest.approx(4999.0)
    assert time.perf_counter() - start < 10.0
    with pytest.raises(RigFormatError, match="MOTION before"):
        read_bvh("deep.bvh", data=nested(5000, close=False))
