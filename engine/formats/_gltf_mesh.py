"""glTF skinned meshes -> one :class:`~engine.rig.Mesh` in the rest pose.

Private helper of :mod:`engine.formats.gltf`. Vertices are skinned with the rest-pose joint matrices
(glTF §3.7.3.3: ``sum_i w_i * world(joint_i) @ inverseBindMatrix_i @ v``), so the mesh appears as
it does in the node rest pose even when the file was bound in another pose. Primitives that cannot
be decoded (Draco compression, missing attributes, bad indices) are skipped with a note.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.formats._gltf_accessors import GltfDocument, _is_int
from engine.errors import RigFormatError, RigLimitError
from engine.rig import Mesh

__all__ = ["build_mesh", "inverse_bind_matrices", "morph_target_name"]

MODE_TRIANGLES = 4
VERTICES_PER_BLOCK = 65_536  # skinning works on blocks of vertices: (block, 4, 4) temporaries only


def inverse_bind_matrices(doc: GltfDocument, skin: dict[str, Any], n_joints: int) -> np.ndarray:
    """``(J, 4, 4)`` inverse bind matrices of a skin (identity when the skin has none)."""
    if "inverseBindMatrices" not in skin:
        return np.tile(np.eye(4), (n_joints, 1, 1))
    acc = doc.accessor(skin["inverseBindMatrices"])
    if acc.shape != (n_joints, 16) and not (acc.shape[1] == 16 and acc.shape[0] >= n_joints):
        raise doc.fail(f"inverseBindMatrices has {acc.shape[0]} elements of {acc.shape[1]} for {n_joints} joints")
    ibm = acc[:n_joints].reshape(n_joints, 4, 4).transpose(0, 2, 1)  # column-major -> (J, 4, 4)
    if not np.isfinite(ibm).all():
        raise doc.fail("inverseBindMatrices contains non-finite numbers")
    return ibm


def build_mesh(
    doc: GltfDocument,
    node_meshes: list[tuple[int, np.ndarray, np.ndarray]],
    notes: list[str],
) -> Mesh | None:
    """Merge skinned and joint-attached rigid primitives into one rest-pose mesh.

    Args:
        doc: the document.
        node_meshes: per mesh node, ``(mesh index, skin matrices (K, 4, 4), skeleton joint index
            (K,) of each skin joint)``. Skin matrices are ``world(joint) @ inverseBindMatrix`` in
            the rest pose; a rigid mesh under a joint passes its node's world matrix as the only
            "skin joint" (K = 1) and needs no JOINTS_0 / WEIGHTS_0.
        notes: receives one line per skipped mesh or primitive.

    Returns:
        The merged mesh, or ``None`` when nothing could be decoded.
    """
    parts: list[tuple[np.ndarray, np.ndarray | None, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []
    for mesh_index, skin_mats, joint_map in node_meshes:
        mesh = doc.item("meshes", mesh_index)
        name = mesh.get("name") if isinstance(mesh.get("name"), str) else f"mesh_{mesh_index}"
        prims = mesh.get("primitives")
        if not isinstance(prims, list):
            notes.append(f"mesh {name!r} skipped: it has no primitives array")
            continue
        extras = mesh.get("extras")
        target_names = extras.get("targetNames") if isinstance(extras, dict) else None
        failures: list[tuple[int, str]] = []
        for k, prim in enumerate(prims):
            try:
                parts.append(_primitive(doc, prim, skin_mats, joint_map, target_names, name))
            except RigLimitError:
                raise  # over a limit: the whole file is refused, not one primitive skipped
            except RigFormatError as exc:
                failures.append((k, exc.reason))
        if failures and len(failures) == len(prims) and len({r for _, r in failures}) == 1:
            notes.append(f"mesh {name!r} skipped: {failures[0][1]}")
        else:
            notes.extend(f"mesh {name!r} primitive {k} skipped: {reason}" for k, reason in failures)
    if not parts:
        return None
    with np.errstate(over="ignore"):  # checked just below
        positions = np.concatenate([p[0] for p in parts]).astype(np.float32)
    if not np.isfinite(positions).all():  # float64 -> float32 overflows above 3.4e38
        raise doc.fail("mesh vertex positions overflow float32 (non-finite after skinning)")
    offsets = np.cumsum([0] + [len(p[0]) for p in parts])
    has_normals = all(p[1] is not None for p in parts)
    morph_names = tuple(dict.fromkeys(n for p in parts for n in p[5]))  # first-seen order, one per name
    morph_deltas = None
    if morph_names:  # stored densely: every target over every vertex
        doc.check_limit("morph target offsets (targets x vertices)", len(morph_names) * int(offsets[-1]), "morph_values")
        morph_deltas = np.zeros((len(morph_names), int(offsets[-1]), 3), dtype=np.float32)
        for p, o in zip(parts, offsets):
            for n, delta in p[5].items():
                morph_deltas[morph_names.index(n), o:o + len(delta)] = delta
    return Mesh(
        morph_names=morph_names,
        morph_deltas=morph_deltas,
        positions=positions,
        normals=np.concatenate([p[1] for p in parts]).astype(np.float32) if has_normals else None,  # type: ignore[misc]
        indices=np.concatenate([p[2] + o for p, o in zip(parts, offsets)]).astype(np.uint32),
        joints=np.concatenate([p[3] for p in parts]).astype(np.int64),
        weights=np.concatenate([p[4] for p in parts]).astype(np.float32),
    )


def _primitive(doc: GltfDocument, prim: Any, skin_mats: np.ndarray, joint_map: np.ndarray, target_names: Any = None,
               mesh_name: str = "mesh"):
    if not isinstance(prim, dict):
        raise doc.fail("primitive is not an object")
    ext = prim.get("extensions")
    if isinstance(ext, dict) and "KHR_draco_mesh_compression" in ext:
        raise doc.fail("Draco compression is not supported")
    if prim.get("mode", MODE_TRIANGLES) != MODE_TRIANGLES:
        raise doc.fail(f"primitive mode {prim.get('mode')!r} is not triangles")
    attrs = prim.get("attributes")
    if not isinstance(attrs, dict) or "POSITION" not in attrs:
        raise doc.fail("primitive has no POSITION attribute")
    pos = doc.accessor(attrs["POSITION"])
    V = len(pos)
    doc.vertices += V
    doc.check_limit("mesh vertices", doc.vertices, "vertices")
    if pos.shape[1] != 3 or not np.isfinite(pos).all():
        raise doc.fail("POSITION must be finite VEC3")
    if not np.isfinite(skin_mats).all():
        raise doc.fail("skinning matrices overflow (non-finite joint world x inverse bind matrix)")
    if len(joint_map) == 1:  # rigid mesh attached to one joint
        joints = np.zeros((V, 4), dtype=np.int64)
        weights = np.tile([1.0, 0.0, 0.0, 0.0], (V, 1))
    else:
        if "JOINTS_0" not in attrs or "WEIGHTS_0" not in attrs:
            raise doc.fail("skinned primitive lacks JOINTS_0 or WEIGHTS_0")
        sets = [k for k in range(8) if f"JOINTS_{k}" in attrs and f"WEIGHTS_{k}" in attrs]
        joints_f = np.concatenate([doc.accessor(attrs[f"JOINTS_{k}"], normalize_ints=False) for k in sets], axis=1)
        weights = np.concatenate([doc.accessor(attrs[f"WEIGHTS_{k}"]) for k in sets], axis=1)
        if joints_f.shape != (V, 4 * len(sets)) or weights.shape != joints_f.shape:
            raise doc.fail("JOINTS_n/WEIGHTS_n must be VEC4 with one element per vertex")
        if joints_f.min() < 0 or joints_f.max() >= len(joint_map):
            raise doc.fail(f"JOINTS_n refers to joint {int(joints_f.max())} of a skin with {len(joint_map)} joints")
        weights = np.where(np.isfinite(weights), np.maximum(weights, 0.0), 0.0)
        # More than four influences (JOINTS_1...): keep the four strongest per vertex.
        strongest = np.argsort(-weights, axis=1, kind="stable")[:, :4]
        joints = np.take_along_axis(joints_f, strongest, axis=1).astype(np.int64)
        weights = np.take_along_axis(weights, strongest, axis=1)
        total = weights.sum(axis=1, keepdims=True)
        weights = np.where(total > 1e-12, weights / np.where(total > 1e-12, total, 1.0), np.array([1.0, 0.0, 0.0, 0.0]))
    if "indices" in prim:
        idx = doc.accessor(prim["indices"], normalize_ints=False)[:, 0]
    else:
        idx = np.arange(V, dtype=np.float64)
    if len(idx) % 3 or (len(idx) and (idx.min() < 0 or idx.max() >= V)):
        raise doc.fail("triangle indices are not a multiple of 3 or out of range")
    nrm = doc.accessor(attrs["NORMAL"]) if _is_int(attrs.get("NORMAL")) else None
    if nrm is not None and not (nrm.shape == (V, 3) and np.isfinite(nrm).all()):
        nrm = None
    morph_in = _morph_targets(doc, prim, V, target_names, mesh_name)
    morphs = {n: np.empty((V, 3)) for n in morph_in}
    positions = np.empty((V, 3))
    normals = None if nrm is None else np.empty((V, 3))
    for v0 in range(0, V, VERTICES_PER_BLOCK):
        v1 = min(V, v0 + VERTICES_PER_BLOCK)
        blend = np.einsum("vk,vkab->vab", weights[v0:v1], skin_mats[joints[v0:v1]])  # (B, 4, 4) rest skinning matrices
        positions[v0:v1] = np.einsum("vab,vb->va", blend[:, :3, :3], pos[v0:v1]) + blend[:, :3, 3]
        if normals is not None:
            normals[v0:v1] = np.einsum("vab,vb->va", blend[:, :3, :3], nrm[v0:v1])
        for n, delta in morph_in.items():  # offsets turn and scale with the vertex, no translation
            morphs[n][v0:v1] = np.einsum("vab,vb->va", blend[:, :3, :3], delta[v0:v1])
    if normals is not None:
        length = np.linalg.norm(normals, axis=1, keepdims=True)
        normals = np.where(length > 1e-12, normals / np.where(length > 1e-12, length, 1.0), np.array([0.0, 1.0, 0.0]))
    with np.errstate(over="ignore"):
        morphs32 = {n: d.astype(np.float32) for n, d in morphs.items()}
    if not all(np.isfinite(d).all() for d in morphs32.values()):
        raise doc.fail("morph target offsets overflow float32 (non-finite after skinning)")
    return positions, normals, idx.astype(np.int64).reshape(-1, 3), joint_map[joints], weights, morphs32


def _morph_targets(doc: GltfDocument, prim: dict, V: int, target_names: Any, mesh_name: str) -> dict[str, np.ndarray]:
    """``name -> (V, 3)`` POSITION offsets of the primitive's morph targets (names from the
    primitive's or the mesh's ``extras.targetNames``, else ``<mesh>_target_<k>``); targets without
    POSITION are skipped."""
    targets = prim.get("targets")
    if targets is None:
        return {}
    if not isinstance(targets, list):
        raise doc.fail("primitive 'targets' must be an array")
    names = _names_list(prim.get("extras", {}).get("targetNames") if isinstance(prim.get("extras"), dict) else None) or _names_list(target_names)
    out: dict[str, np.ndarray] = {}
    for k, target in enumerate(targets):
        if not isinstance(target, dict) or not _is_int(target.get("POSITION")):
            continue
        doc.morph_values += V
        doc.check_limit("morph target offsets", doc.morph_values, "morph_values")
        delta = doc.accessor(target["POSITION"])
        if delta.shape != (V, 3) or not np.isfinite(delta).all():
            raise doc.fail(f"morph target {k} POSITION must be finite VEC3 with one element per vertex")
        out.setdefault(names[k] if k < len(names) and names[k] else f"{mesh_name}_target_{k}", delta)
    return out


def _names_list(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) and all(isinstance(x, str) for x in value) else []


def morph_target_name(mesh: Any, mesh_index: int, k: int) -> str:
    """The name :func:`build_mesh` gives target ``k`` of glTF mesh ``mesh`` (its first primitive's
    ``extras.targetNames`` (UniVRM), else the mesh's, else ``<mesh>_target_<k>``)."""
    name = mesh.get("name") if isinstance(mesh, dict) and isinstance(mesh.get("name"), str) else f"mesh_{mesh_index}"
    prims = mesh.get("primitives") if isinstance(mesh, dict) else None
    first = prims[0] if isinstance(prims, list) and prims and isinstance(prims[0], dict) else {}
    extras = mesh.get("extras") if isinstance(mesh, dict) else None
    names = _names_list(first.get("extras", {}).get("targetNames") if isinstance(first.get("extras"), dict) else None) or _names_list(
        extras.get("targetNames") if isinstance(extras, dict) else None)
    return names[k] if k < len(names) and names[k] else f"{name}_target_{k}"
