"""Write a :class:`~engine.rig.Rig` as a binary glTF 2.0 file (.glb) that passes the Khronos validator.

Layout of the file:
- one node per joint (``translation`` + ``rotation`` of the rest pose, children in joint order),
  one scene whose roots are the root joints (and the mesh node); end sites are leaf nodes outside
  the skin marked ``extras.end_site``;
- one skin over all joints, with inverse bind matrices = inverse rest world matrices, so a mesh
  given in rest-pose world coordinates is bound exactly as it is; ``extras.humanoid`` holds
  ``rig.humanoid`` if set. The skin is written even without a mesh (the validator reports it as
  unused, a warning) because :func:`engine.formats.gltf.read_gltf` finds the skeleton through it;
- the mesh, if the rig has one: POSITION, NORMAL, JOINTS_0 (unsigned short), WEIGHTS_0 (float,
  rows summing to 1), triangle indices, and its morph targets (POSITION offsets, names in the
  mesh's ``extras.targetNames``);
- one animation per clip: a translation and a rotation channel per joint, ``LINEAR``, key times
  ``frame / fps`` seconds, and a ``weights`` channel on the mesh node when morph weights are given.

Every accessor has its own 4-byte aligned bufferView in the single BIN chunk (glTF §3.6, §4.4).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from engine import rotations as rot
from engine.rig import Clip, Mesh, Rig

__all__ = ["glb_bytes", "write_glb"]

ARRAY_BUFFER = 34962
ELEMENT_ARRAY_BUFFER = 34963
FLOAT, UNSIGNED_SHORT, UNSIGNED_INT = 5126, 5123, 5125
TYPES = {1: "SCALAR", 3: "VEC3", 4: "VEC4", 16: "MAT4"}
DTYPES = {FLOAT: np.dtype("<f4"), UNSIGNED_SHORT: np.dtype("<u2"), UNSIGNED_INT: np.dtype("<u4")}


def write_glb(rig: Rig, path: str | Path, *, clips: list[str] | None = None,
              morph_weights: dict[str, np.ndarray] | None = None) -> None:
    """Write ``rig`` (skeleton, mesh if any, and clips) to ``path`` as a .glb file.

    Args:
        rig: the rig; its clips must have one column per skeleton joint.
        path: the output file (overwritten).
        clips: names of the clips to write (default: all of them, in order).
        morph_weights: ``clip name -> (T, M)`` weights of the mesh's morph targets per clip frame
            (order of ``rig.mesh.morph_names``), written as the clip's ``weights`` channel.

    Raises:
        KeyError: a requested clip does not exist.
        ValueError: a clip does not match the skeleton, or morph weights do not match the clip and mesh.
    """
    Path(path).write_bytes(glb_bytes(rig, clips=clips, morph_weights=morph_weights))


def glb_bytes(rig: Rig, *, clips: list[str] | None = None, morph_weights: dict[str, np.ndarray] | None = None) -> bytes:
    """The .glb file :func:`write_glb` would write, as bytes."""
    chosen = rig.clips if clips is None else [rig.clip(n) for n in clips]
    builder = _Builder()
    doc = builder.doc
    sk = rig.skeleton
    J = sk.num_joints
    nodes: list[dict[str, Any]] = []
    for j in range(J):
        q = _unit_quats(sk.rest_rotations[j][None])[0]
        nodes.append({"name": sk.names[j], "translation": _floats(sk.rest_translations[j]), "rotation": _floats(q)})
    for j, p in enumerate(sk.parents):
        if p >= 0:
            nodes[p].setdefault("children", []).append(j)
    for k, (j, offset) in enumerate(zip(sk.end_site_joints, sk.end_site_offsets)):
        # End sites (BVH "End Site") as marked leaf nodes outside the skin; read_gltf restores them.
        nodes[j].setdefault("children", []).append(len(nodes))
        nodes.append({"name": f"{sk.names[j]}_end_site_{k}", "translation": _floats(offset), "extras": {"end_site": True}})
    roots = [int(r) for r in sk.roots]
    mats, pos = sk.rest_world()
    world = np.tile(np.eye(4), (J, 1, 1))
    world[:, :3, :3] = mats
    world[:, :3, 3] = pos
    ibm = np.linalg.inv(world).transpose(0, 2, 1).reshape(J, 16)  # column-major MAT4
    skin: dict[str, Any] = {"name": f"{rig.name}_skin", "joints": list(range(J)), "inverseBindMatrices": builder.accessor(ibm, FLOAT)}
    if len(roots) == 1:
        skin["skeleton"] = roots[0]
    if rig.humanoid:
        # Not a glTF extension: engine.formats.gltf.read_gltf reads it back (VRM files use their own).
        skin["extras"] = {"humanoid": dict(rig.humanoid)}
    doc["skins"] = [skin]
    scene_nodes = list(roots)
    mesh_node = None
    if rig.mesh is not None:
        doc["meshes"] = [_mesh(builder, rig.mesh, J)]
        nodes.append({"name": f"{rig.name}_mesh", "mesh": 0, "skin": 0})
        mesh_node = len(nodes) - 1
        scene_nodes.append(mesh_node)
    doc["nodes"] = nodes
    doc["scenes"] = [{"name": rig.name, "nodes": scene_nodes}]
    doc["scene"] = 0
    morphs = len(rig.mesh.morph_names) if rig.mesh is not None else 0
    for name, w in (morph_weights or {}).items():
        clip = rig.clip(name)
        if mesh_node is None or np.shape(w) != (clip.num_frames, morphs) or morphs == 0:
            raise ValueError(f"morph weights of clip {name!r} must be ({clip.num_frames}, {morphs}) for a mesh with morph targets")
    animations = [_animation(builder, c, J, (morph_weights or {}).get(c.name), mesh_node) for c in chosen if c.num_frames > 0]
    if animations:
        doc["animations"] = animations
    return builder.finish()


def _mesh(builder: _Builder, mesh: Mesh, J: int) -> dict[str, Any]:
    positions = np.asarray(mesh.positions, dtype=np.float32).reshape(-1, 3)
    V = len(positions)
    joints, weights = _influences(np.asarray(mesh.joints).reshape(V, -1), np.asarray(mesh.weights, dtype=np.float64).reshape(V, -1))
    if joints.size and joints.max() >= J:
        raise ValueError(f"mesh refers to joint {int(joints.max())} but the skeleton has {J} joints")
    attributes = {
        "POSITION": builder.accessor(positions, FLOAT, target=ARRAY_BUFFER, bounds=True),
        "JOINTS_0": builder.accessor(joints.astype(np.uint16), UNSIGNED_SHORT, target=ARRAY_BUFFER),
        "WEIGHTS_0": builder.accessor(weights, FLOAT, target=ARRAY_BUFFER),
    }
    if mesh.normals is not None:
        n = np.asarray(mesh.normals, dtype=np.float64).reshape(V, 3)
        length = np.linalg.norm(n, axis=1, keepdims=True)
        n = np.where(length > 1e-8, n / np.where(length > 1e-8, length, 1.0), np.array([0.0, 1.0, 0.0])).astype(np.float32)
        attributes["NORMAL"] = builder.accessor(n, FLOAT, target=ARRAY_BUFFER)
    indices = np.asarray(mesh.indices).reshape(-1)
    if indices.size and (indices.min() < 0 or indices.max() >= V):
        raise ValueError("mesh indices out of range")
    itype, idt = (UNSIGNED_SHORT, np.uint16) if V <= 65535 else (UNSIGNED_INT, np.uint32)
    prim: dict[str, Any] = {"attributes": attributes, "mode": 4}
    if indices.size:
        prim["indices"] = builder.accessor(indices.astype(idt)[:, None], itype, target=ELEMENT_ARRAY_BUFFER)
    out: dict[str, Any] = {"name": "mesh", "primitives": [prim]}
    if mesh.morph_names and mesh.morph_deltas is not None:
        deltas = np.asarray(mesh.morph_deltas, dtype=np.float32).reshape(len(mesh.morph_names), V, 3)
        prim["targets"] = [{"POSITION": builder.accessor(d, FLOAT, target=ARRAY_BUFFER, bounds=True)} for d in deltas]
        out["weights"] = [0.0] * len(mesh.morph_names)
        out["extras"] = {"targetNames": list(mesh.morph_names)}  # the de facto convention (Blender, three.js)
    return out


def _influences(joints: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(V, 4)`` joints and float32 weights: duplicates merged, strongest four kept, rows sum to 1.

    The validator rejects a joint listed twice with non-zero weight and weights whose sum is not 1
    (glTF §3.7.3.3), so both are fixed here; unused slots get joint 0 and weight 0.
    """
    V, K = joints.shape
    weights = np.where(np.isfinite(weights), np.maximum(weights, 0.0), 0.0)
    for k in range(K):  # fold later duplicates into the first occurrence
        for m in range(k + 1, K):
            dup = joints[:, m] == joints[:, k]
            weights[dup, k] += weights[dup, m]
            weights[dup, m] = 0.0
    order = np.argsort(-weights, axis=1, kind="stable")[:, :4]
    j4 = np.take_along_axis(joints, order, axis=1)
    w4 = np.take_along_axis(weights, order, axis=1)
    if K < 4:
        j4 = np.pad(j4, ((0, 0), (0, 4 - K)))
        w4 = np.pad(w4, ((0, 0), (0, 4 - K)))
    total = w4.sum(axis=1, keepdims=True)
    w4 = np.where(total > 1e-12, w4 / np.where(total > 1e-12, total, 1.0), np.array([1.0, 0.0, 0.0, 0.0]))
    j4 = np.where(w4 > 0, j4, 0)
    w32 = w4.astype(np.float32)
    w32[:, 0] = np.float32(1.0) - w32[:, 1:].sum(axis=1, dtype=np.float32)  # exact float32 sum of 1
    return j4, w32


def _animation(builder: _Builder, clip: Clip, J: int, morph_weights: np.ndarray | None = None,
               mesh_node: int | None = None) -> dict[str, Any]:
    T, Jc, _ = clip.rotations.shape
    if Jc != J:
        raise ValueError(f"clip {clip.name!r} has {Jc} joints, the skeleton {J}")
    times = (np.arange(T) / clip.fps).astype(np.float32)[:, None]
    inp = builder.accessor(times, FLOAT, bounds=True)
    quats = _unit_quats(clip.rotations)  # (T, J, 4)
    samplers, channels = [], []
    for j in range(J):
        for path, values in (("translation", clip.translations[:, j].astype(np.float32)), ("rotation", quats[:, j])):
            samplers.append({"input": inp, "output": builder.accessor(values, FLOAT), "interpolation": "LINEAR"})
            channels.append({"sampler": len(samplers) - 1, "target": {"node": j, "path": path}})
    if morph_weights is not None and mesh_node is not None:  # glTF: T x M scalars, frame by frame
        values = np.asarray(morph_weights, dtype=np.float32).reshape(-1, 1)
        samplers.append({"input": inp, "output": builder.accessor(values, FLOAT), "interpolation": "LINEAR"})
        channels.append({"sampler": len(samplers) - 1, "target": {"node": mesh_node, "path": "weights"}})
    # extras.fps lets engine.formats.gltf.read_gltf resample at the exact rate instead of inferring it.
    return {"name": clip.name, "samplers": samplers, "channels": channels, "extras": {"fps": float(clip.fps)}}


def _unit_quats(q: np.ndarray) -> np.ndarray:
    """``(..., 4)`` float32 unit quaternions, consecutive ones (axis 0) in the same hemisphere."""
    q = rot.quat_normalize(np.asarray(q, dtype=np.float64))
    if q.ndim == 3 and len(q) > 1:
        signs = np.sign(np.sum(q[1:] * q[:-1], axis=-1))  # (T-1, J)
        signs = np.where(signs == 0, 1.0, signs)
        flips = np.concatenate([np.ones((1,) + q.shape[1:-1]), np.cumprod(signs, axis=0)], axis=0)
        q = q * flips[..., None]
    q32 = q.astype(np.float32)
    return q32 / np.linalg.norm(q32, axis=-1, keepdims=True)


def _floats(v: np.ndarray) -> list[float]:
    return [float(x) for x in np.asarray(v, dtype=np.float32)]


class _Builder:
    """Accumulates the JSON document and the BIN chunk."""

    def __init__(self) -> None:
        self.doc: dict[str, Any] = {
            "asset": {"version": "2.0", "generator": "AnyRig engine.formats.gltf_write"},
            "buffers": [],
            "bufferViews": [],
            "accessors": [],
        }
        self.chunks: list[bytes] = []
        self.size = 0

    def accessor(self, data: np.ndarray, ctype: int, *, target: int | None = None, bounds: bool = False) -> int:
        """Append ``(count, components)`` data as a new bufferView + accessor; returns its index."""
        data = np.ascontiguousarray(data, dtype=DTYPES[ctype])
        data = data.reshape(len(data), -1)  # (count, components)
        raw = data.tobytes()
        view: dict[str, Any] = {"buffer": 0, "byteOffset": self.size, "byteLength": len(raw)}
        if target is not None:
            view["target"] = target
        self.doc["bufferViews"].append(view)
        self.chunks.append(raw + b"\0" * (-len(raw) % 4))
        self.size += len(raw) + (-len(raw) % 4)
        acc: dict[str, Any] = {
            "bufferView": len(self.doc["bufferViews"]) - 1,
            "componentType": ctype,
            "count": int(len(data)),
            "type": TYPES[data.shape[1]],
        }
        if bounds:
            acc["min"] = [float(x) for x in data.min(axis=0)]
            acc["max"] = [float(x) for x in data.max(axis=0)]
        self.doc["accessors"].append(acc)
        return len(self.doc["accessors"]) - 1

    def finish(self) -> bytes:
        binary = b"".join(self.chunks)
        self.doc["buffers"] = [{"byteLength": len(binary)}] if binary else []
        if not binary:
            del self.doc["bufferViews"], self.doc["accessors"]
        js = json.dumps(self.doc, separators=(",", ":")).encode("utf-8")
        js += b" " * (-len(js) % 4)
        chunks = struct.pack("<II", len(js), 0x4E4F534A) + js
        if binary:
            chunks += struct.pack("<II", len(binary), 0x004E4942) + binary
        return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks
