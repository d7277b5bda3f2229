"""Generators of hostile rig files (issue 14): each reproduces one fault a loader once had.

Written here instead of committed as binaries; every function returns the bytes (or writes the
files) of one case. :func:`gltf_json` builds a small glTF document whose arrays travel in one
base64 data: URI buffer, :func:`glb` wraps such a document in the binary container.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

COMPONENT = {np.dtype("float32"): 5126, np.dtype("uint16"): 5123, np.dtype("uint8"): 5121, np.dtype("uint32"): 5125}
TYPES = {1: "SCALAR", 3: "VEC3", 4: "VEC4", 16: "MAT4"}


def gltf_json(nodes: list[dict[str, Any]], arrays: list[np.ndarray] = (), **top: Any) -> dict[str, Any]:
    """A glTF 2.0 document: ``nodes``, one accessor + bufferView per array (``(count, width)``), extra top-level keys."""
    blob = b""
    views, accessors = [], []
    for a in arrays:
        a = np.ascontiguousarray(a)
        a2 = a.reshape(len(a), -1)
        views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": a.nbytes})
        accessors.append({"bufferView": len(views) - 1, "componentType": COMPONENT[a.dtype], "count": len(a2), "type": TYPES[a2.shape[1]]})
        blob += a.tobytes()
        blob += b"\0" * (-len(blob) % 4)
    doc: dict[str, Any] = {"asset": {"version": "2.0"}, "nodes": nodes, "scenes": [{"nodes": [0]}]}
    if arrays:
        doc["buffers"] = [{"byteLength": len(blob), "uri": "data:application/octet-stream;base64," + base64.b64encode(blob).decode()}]
        doc["bufferViews"] = views
        doc["accessors"] = accessors
    doc.update(top)
    return doc


def glb(doc: dict[str, Any], bin_chunk: bytes = b"") -> bytes:
    """``doc`` in the GLB container (glTF §4.4), with an optional BIN chunk."""
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    body = struct.pack("<II", len(js), 0x4E4F534A) + js
    if bin_chunk:
        bin_chunk += b"\0" * (-len(bin_chunk) % 4)
        body += struct.pack("<II", len(bin_chunk), 0x004E4942) + bin_chunk
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


def chain_nodes(n: int, **first: Any) -> list[dict[str, Any]]:
    """``n`` nodes, each the child of the one before, 0.1 apart; ``first`` adds keys to node 0."""
    nodes = [{"name": f"n{i}", "translation": [0, 0.1, 0], **({"children": [i + 1]} if i + 1 < n else {})} for i in range(n)]
    nodes[0].update(first)
    return nodes


def animation(node_paths: list[tuple[int, str]], samplers: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """One animation: channel ``k`` drives ``node_paths[k]`` with sampler ``k`` = ``(input, output)`` accessors."""
    return [{
        "channels": [{"sampler": k, "target": {"node": n, "path": p}} for k, (n, p) in enumerate(node_paths)],
        "samplers": [{"input": i, "output": o} for i, o in samplers],
    }]  # fmt: skip


# %% item 1: hang in the SVD --------------------------------------------------------------------
def overflowing_scale_key_glb() -> bytes:
    """Float32 scale keys of 3e38 on a 10-node chain: the animated world matrices overflow to inf (no NaN)."""
    times = np.array([0.0, 1.0], dtype=np.float32)
    scale = np.array([[3e38, 1.0, 1.0], [3e38, 1.0, 1.0]], dtype=np.float32)  # non-uniform: the SVD path
    anims = animation([(i, "scale") for i in range(10)], [(0, 1)] * 10)
    doc = gltf_json(chain_nodes(10), [times, scale], animations=anims)
    return glb(doc)


def overflowing_rest_scale_gltf() -> bytes:
    """Rest scales of 1e200 on a 3-node chain: the rest world matrix overflows to inf."""
    nodes = chain_nodes(3)
    for n in nodes:
        n["scale"] = [1e200, 1, 1]
    return json.dumps(gltf_json(nodes)).encode()


# %% item 2: memory ---------------------------------------------------------------------------
def zero_filled_mesh_glb(count: int = 5_600_000) -> bytes:
    """A mesh whose POSITION accessor has no bufferView: ``count`` zero-filled vertices from a few hundred bytes."""
    nodes = [{"name": "root", "children": [1]}, {"name": "body", "mesh": 0}]
    doc = gltf_json(nodes, meshes=[{"primitives": [{"attributes": {"POSITION": 0}}]}], skins=[{"joints": [0]}])
    doc["accessors"] = [{"componentType": 5126, "count": count, "type": "VEC3"}]
    return glb(doc)


def long_nonuniform_animation_glb(seconds: float = 36_000.0) -> bytes:
    """Two keys ``seconds`` apart with non-uniform scale on a 30-node chain (once 4.75 GB)."""
    times = np.array([0.0, seconds], dtype=np.float32)
    scale = np.array([[1.0, 2.0, 1.0], [1.0, 3.0, 1.0]], dtype=np.float32)
    anims = animation([(i, "scale") for i in range(30)], [(0, 1)] * 30)
    return glb(gltf_json(chain_nodes(30), [times, scale], animations=anims))


def nonuniform_animation_glb(frames: int, joints: int) -> bytes:
    """A legal non-uniform-scale clip of ``frames`` frames at 30 fps on a ``joints`` chain (the slow SVD path)."""
    times = np.array([0.0, (frames - 1) / 30.0], dtype=np.float32)
    scale = np.array([[1.0, 2.0, 1.0], [1.0, 3.0, 1.0]], dtype=np.float32)
    anims = animation([(i, "scale") for i in range(joints)], [(0, 1)] * joints)
    anims[0]["extras"] = {"fps": 30}
    return glb(gltf_json(chain_nodes(joints), [times, scale], animations=anims))


def bvh_text(joints: int, frames: int) -> bytes:
    """A BVH chain of ``joints`` joints (3 rotation channels, 6 on the root) with ``frames`` frames of small angles."""
    lines = ["HIERARCHY"]
    for j in range(joints):
        lines.append(("ROOT" if j == 0 else "JOINT") + f" j{j}")
        lines.append("{")
        lines.append("OFFSET 0 10 0")
        lines.append("CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation" if j == 0 else "CHANNELS 3 Zrotation Xrotation Yrotation")
    lines += ["End Site", "{", "OFFSET 0 10 0", "}"] + ["}"] * joints
    lines += ["MOTION", f"Frames: {frames}", "Frame Time: 0.0333333"]
    row = " ".join(["1.5"] * (3 + 3 * joints))
    head = "\n".join(lines) + "\n"
    return head.encode() + (row + "\n").encode() * frames


# %% item 3: URIs -----------------------------------------------------------------------------
def external_buffer_gltf(uri: str, byte_length: int = 32) -> bytes:
    """A .gltf whose keyframes (2 times, 2 VEC3 translations: 32 bytes) come from the external buffer ``uri``."""
    doc = gltf_json(chain_nodes(2))
    doc["buffers"] = [{"byteLength": byte_length, "uri": uri}]
    doc["bufferViews"] = [{"buffer": 0, "byteOffset": 0, "byteLength": 8}, {"buffer": 0, "byteOffset": 8, "byteLength": 24}]
    doc["accessors"] = [{"bufferView": 0, "componentType": 5126, "count": 2, "type": "SCALAR"},
                        {"bufferView": 1, "componentType": 5126, "count": 2, "type": "VEC3"}]  # fmt: skip
    doc["animations"] = animation([(1, "translation")], [(0, 1)])
    return json.dumps(doc).encode()


def external_buffer_bytes() -> bytes:
    """The 32 bytes :func:`external_buffer_gltf` expects: times 0, 1 s; translations (0, 0.1, 0), (0, 0.2, 0)."""
    return np.array([0.0, 1.0, 0, 0.1, 0, 0, 0.2, 0], dtype=np.float32).tobytes()


# %% item 4: recursion ------------------------------------------------------------------------
def deeply_nested_gltf(depth: int = 100_000) -> bytes:
    """A .gltf whose ``extras`` nest ``depth`` arrays deep (Python's json recursion limit is about 1,000)."""
    return b'{"asset": {"version": "2.0"}, "nodes": [{}], "extras": ' + b"[" * depth + b"]" * depth + b"}"


# %% item 5: inf vertices ---------------------------------------------------------------------
def overflowing_vertices_glb() -> bytes:
    """A rigid mesh under a node scaled 100x whose float32 vertices are 3e38: skinned, they overflow float32."""
    nodes = [{"name": "root", "children": [1]}, {"name": "body", "mesh": 0, "scale": [100, 100, 100]}]
    pos = np.array([[3e38, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    doc = gltf_json(nodes, [pos], meshes=[{"primitives": [{"attributes": {"POSITION": 0}}]}], skins=[{"joints": [0]}])
    return glb(doc)


# %% item 6: deep chains ----------------------------------------------------------------------
def chain_glb(n: int) -> bytes:
    """An ``n``-node chain, all of it one skin (a 10,000-node chain once took 7 s, quadratic)."""
    return glb(gltf_json(chain_nodes(n), skins=[{"joints": list(range(n))}]))


def write_all(folder: Path) -> dict[str, Path]:
    """Write every single-file case into ``folder``; returns name -> path (the CLI test runs ``info`` on each)."""
    folder.mkdir(parents=True, exist_ok=True)
    cases = {
        "overflowing_scale_key.glb": overflowing_scale_key_glb(),
        "overflowing_rest_scale.gltf": overflowing_rest_scale_gltf(),
        "zero_filled_mesh.glb": zero_filled_mesh_glb(),
        "long_nonuniform_animation.glb": long_nonuniform_animation_glb(),
        "etc_passwd.gltf": external_buffer_gltf("../../../../../../etc/passwd"),
        "absolute_uri.gltf": external_buffer_gltf("/etc/passwd"),
        "dev_zero.gltf": external_buffer_gltf("/dev/zero", 1 << 30),
        "deeply_nested.gltf": deeply_nested_gltf(),
        "overflowing_vertices.glb": overflowing_vertices_glb(),
    }
    out = {}
    for name, data in cases.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out
