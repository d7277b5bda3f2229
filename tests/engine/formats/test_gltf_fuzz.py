"""Fuzz engine.formats.gltf.read_gltf: corrupted GLB bytes and mutated glTF JSON raise only RigFormatError."""

from __future__ import annotations

import base64
import json
import struct
import time

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import rotations as rot
from engine.errors import RigFormatError
from engine.formats.gltf import read_gltf
from engine.formats.gltf_write import glb_bytes
from engine.rig import Clip, Mesh, Rig
from engine.skeleton import Skeleton

SECONDS_PER_EXAMPLE = 5.0  # generous for slow CI machines; typical examples take milliseconds


def _small_rig() -> Rig:
    sk = Skeleton(("a", "b", "c"), np.array([-1, 0, 1]), np.array([[0, 1, 0], [0, 0.5, 0], [0, 0.5, 0]]), np.tile([0.0, 0, 0, 1], (3, 1)))
    T = 4
    rots = rot.axis_angle_to_quat(np.linspace(0, 1, T)[:, None, None] * np.array([[0, 0, 1.0]] * 3))
    clip = Clip("c", 10.0, rots, np.broadcast_to(sk.rest_translations, (T, 3, 3)).copy())
    verts = np.array([[0, 1, 0], [0.1, 1.5, 0], [0, 2, 0.1]], dtype=np.float32)
    mesh = Mesh(verts, np.array([[0, 1, 2]], dtype=np.uint32), np.array([[0, 1, 0, 0], [1, 2, 0, 0], [2, 0, 0, 0]]),
                np.array([[1, 0, 0, 0], [0.5, 0.5, 0, 0], [1, 0, 0, 0]], dtype=np.float32))  # fmt: skip
    return Rig("small", sk, [clip], mesh)


GLB = glb_bytes(_small_rig())


def _as_gltf_json(glb: bytes) -> dict:
    """The same document as .gltf JSON with the BIN chunk as a data: URI."""
    (json_len,) = struct.unpack_from("<I", glb, 12)
    doc = json.loads(glb[20 : 20 + json_len])
    binary = glb[20 + json_len + 8 :]
    doc["buffers"][0]["uri"] = "data:application/octet-stream;base64," + base64.b64encode(binary).decode()
    return doc


GLTF = _as_gltf_json(GLB)


def _read_expecting_format_error_only(data: bytes) -> None:
    start = time.perf_counter()
    try:
        read_gltf("fuzz.glb", data=data)
    except RigFormatError:
        pass
    assert time.perf_counter() - start < SECONDS_PER_EXAMPLE


def test_unmodified_inputs_read():
    assert read_gltf("ok.glb", data=GLB).skeleton.num_joints == 3
    assert read_gltf("ok.gltf", data=json.dumps(GLTF).encode()).clips[0].num_frames == 4


@given(st.lists(st.tuples(st.integers(0, len(GLB) - 1), st.integers(0, 255)), min_size=1, max_size=8))
def test_byte_flips(flips):
    data = bytearray(GLB)
    for pos, value in flips:
        data[pos] = value
    _read_expecting_format_error_only(bytes(data))


@given(st.integers(0, len(GLB) - 1))
def test_truncations(n):
    with pytest.raises(RigFormatError):
        read_gltf("fuzz.glb", data=GLB[:n])


@given(st.integers(20, len(GLB) - 4), st.sampled_from([0, 1, 3, 0x7FFFFFFF, 0xFFFFFFFF]))
def test_length_fields(pos, value):
    data = bytearray(GLB)
    data[pos : pos + 4] = struct.pack("<I", value)
    _read_expecting_format_error_only(bytes(data))


def _paths(node, prefix=()):
    """Every (path) to a value inside the JSON document, except the big data URI."""
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "uri":
                yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


PATHS = [p for p in _paths(GLTF) if p]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.sampled_from([0, 1, -1, 2**31, 1e308, -0.5]) | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.sampled_from(["node", "count", "bufferView", "children", "path"]), inner, max_size=3),
    max_leaves=8,
)


@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES, st.booleans()), min_size=1, max_size=4))
def test_json_mutations(mutations):
    doc = json.loads(json.dumps(GLTF))
    for path, value, delete in mutations:
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    _read_expecting_format_error_only(json.dumps(doc, allow_nan=True).encode())
