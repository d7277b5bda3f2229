"""OSC encoders against hand-written byte literals (OSC 1.0), and against python-osc's parser."""

from __future__ import annotations

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder

from streaming.osc_encoding import (
    IMMEDIATELY,
    OscEncodeError,
    encode_bundle,
    encode_float32,
    encode_int32,
    encode_message,
    encode_named_float_messages,
    encode_string,
    encode_timetag,
    encode_type_tags,
    split_into_bundles,
    unix_to_ntp,
)

STRINGS = [
    ("", b"\x00\x00\x00\x00"),
    ("a", b"a\x00\x00\x00"),
    ("abc", b"abc\x00"),
    ("abcd", b"abcd\x00\x00\x00\x00"),  # a full word still needs its NUL: 4 more bytes
    ("root", b"root\x00\x00\x00\x00"),
    ("é", b"\xc3\xa9\x00\x00"),  # UTF-8
]
INTS = [
    (0, b"\x00\x00\x00\x00"),
    (1, b"\x00\x00\x00\x01"),
    (-1, b"\xff\xff\xff\xff"),
    (2**31 - 1, b"\x7f\xff\xff\xff"),
    (-(2**31), b"\x80\x00\x00\x00"),
    (np.int64(258), b"\x00\x00\x01\x02"),
]
FLOATS = [
    (0.0, b"\x00\x00\x00\x00"),
    (1.0, b"\x3f\x80\x00\x00"),
    (0.5, b"\x3f\x00\x00\x00"),
    (-2.5, b"\xc0\x20\x00\x00"),
    (np.float32(1.5), b"\x3f\xc0\x00\x00"),
]
TAGS = [
    ("", b",\x00\x00\x00"),
    ("i", b",i\x00\x00"),
    ("sif", b",sif\x00\x00\x00\x00"),
    ("sfffffff", b",sfffffff\x00\x00\x00"),
]
MESSAGES = [
    (("/VMC/Ext/OK", 1), b"/VMC/Ext/OK\x00,i\x00\x00\x00\x00\x00\x01"),
    (("/VMC/Ext/T", 1.5), b"/VMC/Ext/T\x00\x00,f\x00\x00\x3f\xc0\x00\x00"),
    (("/x",), b"/x\x00\x00,\x00\x00\x00"),
    (("/a", "hi", 2, 0.5), b"/a\x00\x00,sif\x00\x00\x00\x00hi\x00\x00\x00\x00\x00\x02\x3f\x00\x00\x00"),
    (
        ("/VMC/Ext/Root/Pos", "root", 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0),
        b"/VMC/Ext/Root/Pos\x00\x00\x00,sfffffff\x00\x00\x00root\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x3f\x80\x00\x00\x00\x00\x00\x00"
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x3f\x80\x00\x00",
    ),
]


@pytest.mark.parametrize("value, expected", STRINGS)
def test_string(value: str, expected: bytes) -> None:
    assert encode_string(value) == expected


@pytest.mark.parametrize("value, expected", INTS)
def test_int32(value: int, expected: bytes) -> None:
    assert encode_int32(value) == expected


@pytest.mark.parametrize("value, expected", FLOATS)
def test_float32(value: float, expected: bytes) -> None:
    assert encode_float32(value) == expected


@pytest.mark.parametrize("tags, expected", TAGS)
def test_type_tags(tags: str, expected: bytes) -> None:
    assert encode_type_tags(tags) == expected


@pytest.mark.parametrize("args, expected", MESSAGES)
def test_message(args: tuple, expected: bytes) -> None:
    assert encode_message(*args) == expected
    parsed = OscMessage(expected)  # python-osc agrees on what the bytes mean
    assert parsed.address == args[0]
    assert list(parsed.params) == pytest.approx(list(args[1:]))


def test_message_matches_python_osc_builder() -> None:
    args = ("LeftUpperArm", 0.25, -1.0, 3.5, 0.0, 0.70710677, 0.0, 0.70710677)
    builder = OscMessageBuilder(address="/VMC/Ext/Bone/Pos")
    builder.add_arg(args[0], "s")
    for a in args[1:]:
        builder.add_arg(a, "f")
    assert encode_message("/VMC/Ext/Bone/Pos", *args) == builder.build().dgram


def test_named_float_messages_equal_one_message_each() -> None:
    values = np.random.default_rng(0).normal(size=(6, 7))
    names = ["Hips", "a", "abc", "abcd", "mixamorig:LeftArm", "é"]
    fast = encode_named_float_messages("/VMC/Ext/Bone/Pos", names, values)
    assert fast == [encode_message("/VMC/Ext/Bone/Pos", n, *row) for n, row in zip(names, values.tolist())]
    with pytest.raises(OscEncodeError, match="2 names for 6 rows"):
        encode_named_float_messages("/x", ["a", "b"], values)
    with pytest.raises(OscEncodeError, match="must start with '/'"):
        encode_named_float_messages("x", names, values)


def test_timetags() -> None:
    assert encode_timetag(IMMEDIATELY) == b"\x00\x00\x00\x00\x00\x00\x00\x01"
    # 1970-01-01 is 2,208,988,800 s after 1900-01-01 = 0x83AA7E80.
    assert encode_timetag(unix_to_ntp(0.0)) == b"\x83\xaa\x7e\x80\x00\x00\x00\x00"
    assert encode_timetag(unix_to_ntp(0.5)) == b"\x83\xaa\x7e\x80\x80\x00\x00\x00"
    assert encode_timetag(unix_to_ntp(1.25)) == b"\x83\xaa\x7e\x81\x40\x00\x00\x00"


def test_bundle() -> None:
    msg = b"/x\x00\x00,\x00\x00\x00"
    expected = b"#bundle\x00" + b"\x00\x00\x00\x00\x00\x00\x00\x01" + b"\x00\x00\x00\x08" + msg
    assert encode_bundle([msg]) == expected
    assert encode_bundle([]) == b"#bundle\x00\x00\x00\x00\x00\x00\x00\x00\x01"
    two = encode_bundle([encode_message("/a", 1), encode_message("/b", 2.0)], unix_to_ntp(1.25))
    parsed = OscBundle(two)
    assert [m.address for m in parsed] == ["/a", "/b"] and [m.params for m in parsed] == [[1], [2.0]]
    assert parsed.timestamp == pytest.approx(1.25)  # python-osc converts NTP back to Unix time


def test_split_into_bundles_keeps_order_and_size() -> None:
    elements = [encode_message(f"/m{i}", i) for i in range(10)]  # 12 bytes each, 16 with the size
    bundles = split_into_bundles(elements, IMMEDIATELY, max_bytes=16 + 3 * 16 + 15)  # room for 3, not 4
    assert [len(b) for b in bundles] == [64, 64, 64, 32]
    assert [m.address for b in bundles for m in OscBundle(b)] == [f"/m{i}" for i in range(10)]
    assert len(split_into_bundles(elements, IMMEDIATELY, max_bytes=10)) == 10  # oversized: one each


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: encode_message("VMC/Ext/OK", 1), "must start with '/'"),
        (lambda: encode_string("a\x00b"), "NUL"),
        (lambda: encode_int32(2**31), "out of range"),
        (lambda: encode_message("/a", True), "bool"),
        (lambda: encode_message("/a", [1, 2]), "unsupported OSC argument type list"),
        (lambda: encode_bundle([b"abc"]), "not a multiple of 4"),
        (lambda: encode_timetag(-1), "out of range"),
    ],
)
def test_errors_name_the_fault(call, match: str) -> None:
    with pytest.raises(OscEncodeError, match=match):
        call()
