"""glTF node graph: parents, local TRS, world matrices, skeleton node selection, matrix -> local.

Private helper of :mod:`engine.formats.gltf`. glTF nodes carry translation, rotation (x y z w) and scale,
or a column-major 4x4 ``matrix`` (glTF §3.5.3); the engine's skeleton has no scale, so the reader
works with full world matrices and converts them to scale-free local rotations/translations with
:func:`locals_from_world`, which keeps every joint's world position exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine import rotations as rot
from engine.formats._gltf_accessors import GltfDocument, _is_int

UNIFORM_RTOL = 1e-4

__all__ = ["NodeGraph", "bake_uniform_scale", "locals_from_world", "skeleton_nodes", "trs_matrix"]


@dataclass(frozen=True, eq=False)
class NodeGraph:
    """Every node's parent and local TRS.

    Attributes:
        parents: ``(N,)`` parent node index, ``-1`` for scene roots.
        translations: ``(N, 3)`` float64 local translations, file units.
        rotations: ``(N, 4)`` float64 x y z w local rotations (unit).
        scales: ``(N, 3)`` float64 local scales.
        names: ``(N,)`` unique node names (``node_<i>`` for unnamed nodes).
    """

    parents: np.ndarray
    translations: np.ndarray
    rotations: np.ndarray
    scales: np.ndarray
    names: tuple[str, ...]

    @staticmethod
    def from_document(doc: GltfDocument) -> NodeGraph:
        """Parse ``nodes``: checks children indices, single parents and cycles."""
        nodes = doc.array("nodes")
        N = len(nodes)
        doc.check_limit("nodes", N, "nodes")
        parents = np.full(N, -1, dtype=np.int64)
        trans = np.zeros((N, 3))
        rots = np.tile([0.0, 0.0, 0.0, 1.0], (N, 1))
        scales = np.ones((N, 3))
        for i in range(N):
            node = doc.item("nodes", i)
            children = node.get("children", [])
            if not isinstance(children, list):
                raise doc.fail(f"nodes[{i}].children must be an array")
            for c in children:
                if not _is_int(c) or not 0 <= c < N or c == i:
                    raise doc.fail(f"nodes[{i}] has invalid child index {c!r}")
                if parents[c] >= 0:
                    raise doc.fail(f"node {c} has two parents ({parents[c]} and {i})")
                parents[c] = i
            trans[i], rots[i], scales[i] = _node_trs(doc, node, i)
        _check_acyclic(doc, parents)
        return NodeGraph(parents, trans, rots, scales, _unique_names(nodes))

    def local_matrices(self) -> np.ndarray:
        """``(N, 4, 4)`` local rest matrices."""
        return trs_matrix(self.translations, self.rotations, self.scales)

    def world_matrices(self) -> np.ndarray:
        """``(N, 4, 4)`` rest world matrices (the scene root frame)."""
        local = self.local_matrices()
        world = np.empty_like(local)
        done = np.zeros(len(local), dtype=bool)
        for i in range(len(local)):
            chain = []
            p = i
            while p >= 0 and not done[p]:
                chain.append(p)
                p = int(self.parents[p])
            for n in reversed(chain):
                q = int(self.parents[n])
                with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked by the caller
                    world[n] = local[n] if q < 0 else world[q] @ local[n]
                done[n] = True
        return world


def _check_acyclic(doc: GltfDocument, parents: np.ndarray) -> None:
    """Fail on a cycle in the parent links, in time linear in the node count.

    Each walk up from a node stops at the first node already known to reach a root; a walk that
    meets a node of its own path has found a cycle.
    """
    state = np.zeros(len(parents), dtype=np.int8)  # 0 unseen, 1 on the current walk, 2 reaches a root
    for i in range(len(parents)):
        path = []
        p = i
        while p >= 0 and state[p] == 0:
            state[p] = 1
            path.append(p)
            p = int(parents[p])
        if p >= 0 and state[p] == 1:
            raise doc.fail(f"the node graph has a cycle through node {p}")
        state[path] = 2


def _node_trs(doc: GltfDocument, node: dict[str, Any], i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t, q, s = _node_trs_unchecked(doc, node, i)
    if not (np.isfinite(t).all() and np.isfinite(q).all() and np.isfinite(s).all()):
        raise doc.fail(f"nodes[{i}] transform overflows (non-finite translation, rotation or scale)")
    return t, q, s


def _node_trs_unchecked(doc: GltfDocument, node: dict[str, Any], i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if "matrix" in node:
        m = _floats(doc, node["matrix"], 16, f"nodes[{i}].matrix").reshape(4, 4).T  # column-major
        t = m[:3, 3].copy()
        lin = m[:3, :3]
        s = np.linalg.norm(lin, axis=0)
        if not np.isfinite(s).all():
            raise doc.fail(f"nodes[{i}].matrix overflows (column lengths are not finite)")
        if np.linalg.det(lin) < 0:
            s[0] = -s[0]
        if np.any(np.abs(s) < 1e-12):
            return t, np.array([0.0, 0.0, 0.0, 1.0]), s
        return t, rot.matrix_to_quat(lin / s), s
    t = _floats(doc, node.get("translation", [0, 0, 0]), 3, f"nodes[{i}].translation")
    q = _floats(doc, node.get("rotation", [0, 0, 0, 1]), 4, f"nodes[{i}].rotation")
    s = _floats(doc, node.get("scale", [1, 1, 1]), 3, f"nodes[{i}].scale")
    norm = np.linalg.norm(q)
    if norm < 1e-8:
        raise doc.fail(f"nodes[{i}].rotation is a zero quaternion")
    return t, q / norm, s


def _floats(doc: GltfDocument, value: Any, n: int, what: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) != n or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        raise doc.fail(f"{what} must be an array of {n} numbers")
    out = np.array(value, dtype=np.float64)
    if not np.isfinite(out).all():
        raise doc.fail(f"{what} contains non-finite numbers")
    return out


def _unique_names(nodes: list[Any]) -> tuple[str, ...]:
    names: list[str] = []
    seen: set[str] = set()
    for i, node in enumerate(nodes):
        base = node.get("name") if isinstance(node, dict) else None
        base = base if isinstance(base, str) and base else f"node_{i}"
        name, k = base, 1
        while name in seen:
            k += 1
            name = f"{base}_{k}"
        seen.add(name)
        names.append(name)
    return tuple(names)


def trs_matrix(t: np.ndarray, q: np.ndarray, s: np.ndarray) -> np.ndarray:
    """``(..., 4, 4)`` matrices ``T @ R @ S`` from ``(..., 3)``, ``(..., 4)`` x y z w, ``(..., 3)``."""
    shape = np.broadcast_shapes(t.shape[:-1], q.shape[:-1], s.shape[:-1])
    m = np.zeros(shape + (4, 4))
    m[..., :3, :3] = rot.quat_to_matrix(q) * s[..., None, :]
    m[..., :3, 3] = t
    m[..., 3, 3] = 1.0
    return m


def skeleton_nodes(parents: np.ndarray, joints: list[int]) -> list[int]:
    """The skeleton's node indices, parents before children.

    The skin's joints plus every node between a joint and its nearest joint ancestor; when the
    joints form several top-level trees under a common ancestor, that ancestor (and the nodes on
    the way) joins too, so the skeleton has one root wherever the file allows it.

    Args:
        parents: ``(N,)`` node parents, ``-1`` for scene roots.
        joints: the skin's joint node indices.
    """
    members = set(joints)
    tops: list[int] = []
    for j in joints:
        path, p = [], int(parents[j])
        while p >= 0 and p not in members:
            path.append(p)
            p = int(parents[p])
        if p >= 0:
            members.update(path)
        else:
            tops.append(j)
    if len(tops) > 1:
        chains = [_ancestors(parents, t) for t in tops]
        common = set(chains[0]).intersection(*chains[1:])
        if common:
            lca = next(a for a in chains[0] if a in common)
            for chain in chains:
                members.update(chain[: chain.index(lca) + 1])
    return _topological(parents, members)


def _ancestors(parents: np.ndarray, node: int) -> list[int]:
    """``[node, parent, ..., scene root]``."""
    chain = [node]
    while parents[chain[-1]] >= 0:
        chain.append(int(parents[chain[-1]]))
    return chain


def _topological(parents: np.ndarray, members: set[int]) -> list[int]:
    # File order when it already lists parents first (files written by engine.formats.gltf_write keep the
    # rig's joint order); else depth first from each member root, children in file order.
    order = sorted(members)
    if all(parents[n] < n or parents[n] not in members for n in order):
        return order
    children: dict[int, list[int]] = {}
    for n in sorted(members):
        children.setdefault(int(parents[n]) if parents[n] in members else -1, []).append(n)
    order: list[int] = []
    stack = list(reversed(children.get(-1, [])))
    while stack:
        n = stack.pop()
        order.append(n)
        stack.extend(reversed(children.get(n, [])))
    return order


def locals_from_world(parents: np.ndarray, world: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scale-free local rotations and translations that reproduce world positions exactly.

    World rotations are the polar (nearest rotation) part of each world matrix; a joint's local
    translation is its world offset from the parent expressed in the parent's world rotation, so
    forward kinematics gives back the exact glTF world positions (accumulated scale is baked into
    the translations). With non-uniform scale the rotations are an approximation.

    Args:
        parents: ``(J,)`` skeleton parents, parents before children.
        world: ``(..., J, 4, 4)`` world matrices.

    Returns:
        ``(rotations (..., J, 4) x y z w, translations (..., J, 3))``, parent space.
    """
    rw = rot.orthonormalize(world[..., :3, :3])  # (..., J, 3, 3)
    pw = world[..., :3, 3]  # (..., J, 3)
    local_r = rw.copy()
    local_t = pw.copy()
    has_parent = parents >= 0
    p = np.where(has_parent, parents, 0)
    rp_t = np.swapaxes(rw[..., p, :, :], -1, -2)  # (..., J, 3, 3) parent world rotation transposed
    local_r[..., has_parent, :, :] = (rp_t @ rw)[..., has_parent, :, :]
    offs = np.einsum("...jab,...jb->...ja", rp_t, pw - pw[..., p, :])
    local_t[..., has_parent, :] = offs[..., has_parent, :]
    return rot.matrix_to_quat(local_r, orthonormal=True), local_t  # products of orthonormalized matrices


def bake_uniform_scale(
    parents: np.ndarray, above: np.ndarray, trans: np.ndarray, rots: np.ndarray, scales: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """Fast path of :func:`locals_from_world` when every scale is uniform and positive.

    With uniform scales a joint's local rotation is its node rotation and its local translation is
    the node translation times the parent's accumulated scale; roots also take the transform of
    the nodes above them. Scales uniform to ``UNIFORM_RTOL`` count as uniform (their mean is used,
    a relative position error below ``UNIFORM_RTOL``). Returns ``None`` when some scale is
    non-uniform or not positive.

    Args:
        parents: ``(J,)`` skeleton parents.
        above: ``(J, 4, 4)`` world matrix of the nodes above each root (ignored for non-roots).
        trans, rots, scales: ``(T, J, 3)``, ``(T, J, 4)``, ``(T, J, 3)`` node TRS per frame.

    Returns:
        ``(rotations (T, J, 4), translations (T, J, 3))`` or ``None``.
    """
    s = scales.mean(axis=-1)  # (T, J); exporters write scale keys like (1, 1.00001, 1)
    if not (np.all(s > 0) and np.allclose(scales, s[..., None], rtol=UNIFORM_RTOL, atol=0.0)):
        return None
    roots = parents < 0
    lin = above[:, :3, :3]  # (J, 3, 3), used for roots only
    s_above = np.cbrt(np.linalg.det(lin[roots]))  # (R,)
    if np.any(s_above <= 0) or not np.allclose(np.linalg.svd(lin[roots], compute_uv=False), s_above[:, None], rtol=UNIFORM_RTOL, atol=0.0):
        return None
    acc = np.empty_like(s)  # (T, J) accumulated world scale
    out_t = trans.copy()
    out_r = rots.copy()
    k = 0
    for j, p in enumerate(parents):  # parents come first
        if p >= 0:
            acc[:, j] = acc[:, p] * s[:, j]
            out_t[:, j] = trans[:, j] * acc[:, p, None]
            continue
        acc[:, j] = s_above[k] * s[:, j]
        out_t[:, j] = trans[:, j] @ lin[j].T + above[j, :3, 3]
        out_r[:, j] = rot.quat_multiply(rot.matrix_to_quat(lin[j] / s_above[k]), rots[:, j])
        k += 1
    return out_r, out_t
