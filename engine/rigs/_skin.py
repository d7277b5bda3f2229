"""Private helper of :mod:`engine.rigs.builder`: the simple skinned body of an authored rig."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np

from engine.rig import Mesh

__all__ = ["skin_mesh"]


class RigDesign(Protocol):
    """What the skin reads of a :class:`engine.rigs.builder.RigDesign` (declared here, so the
    builder imports this module and not the other way round)."""

    joints: Sequence[Any]  # JointSpec: name, radius, tip
    sheets: Sequence[tuple]

    @property
    def parents(self) -> np.ndarray: ...

    def rest_positions(self) -> np.ndarray: ...


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


_SIDES = 8  # sides of each bone segment's cross-section


def _segment(a: np.ndarray, b: np.ndarray, ra: float, rb: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A capped, tapered 8-sided tube from ``a`` to ``b``: 3 rings + 2 cap centres.

    Returns ``(positions (26, 3), normals (26, 3), triangles (48, 3))`` with local vertex indices;
    rings are vertices ``0:8`` (at ``a``), ``8:16`` (middle), ``16:24`` (at ``b``), then the caps.
    """
    axis = _unit(b - a)
    ref = np.array([0.0, 1.0, 0.0]) if abs(axis[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    u = _unit(np.cross(axis, ref))
    v = np.cross(axis, u)
    ang = 2 * np.pi * np.arange(_SIDES) / _SIDES
    radial = np.cos(ang)[:, None] * u + np.sin(ang)[:, None] * v  # (8, 3)
    pos, nrm = [], []
    for t, r in ((0.0, ra), (0.5, 0.5 * (ra + rb)), (1.0, rb)):
        pos.append(a + t * (b - a) + r * radial)
        nrm.append(radial)
    pos += [a[None], b[None]]
    nrm += [-axis[None], axis[None]]
    tris = []
    for ring in range(2):
        for k in range(_SIDES):
            i0, i1 = ring * _SIDES + k, ring * _SIDES + (k + 1) % _SIDES
            tris += [(i0, i1, i1 + _SIDES), (i0, i1 + _SIDES, i0 + _SIDES)]
    for k in range(_SIDES):
        tris.append((24, (k + 1) % _SIDES, k))
        tris.append((25, 16 + k, 16 + (k + 1) % _SIDES))
    return np.concatenate(pos), np.concatenate(nrm), np.array(tris)


def _sheet(design: RigDesign, rows: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Double-sided, flat-shaded triangles joining consecutive rows of a sheet.

    Returns ``(positions (V, 3), normals (V, 3), triangles (F, 3), joint of each vertex (V,))``;
    every vertex follows one joint rigidly. Degenerate triangles (two points in one place) are
    dropped.
    """
    pos = design.rest_positions()
    index = {s.name: i for i, s in enumerate(design.joints)}
    pts = np.array([[pos[index[j]] + np.asarray(o) for j, o in row] for row in rows])  # (R, C, 3)
    owners = np.array([[index[j] for j, _ in row] for row in rows])  # (R, C)
    P, N, O = [], [], []
    for r in range(len(rows) - 1):
        for c in range(len(rows[0]) - 1):
            quad = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c)]
            for tri in ((quad[0], quad[1], quad[2]), (quad[0], quad[2], quad[3])):
                v = np.array([pts[k] for k in tri])
                n = np.cross(v[1] - v[0], v[2] - v[0])
                if np.linalg.norm(n) < 1e-10:
                    continue
                o = [owners[k] for k in tri]
                P += [v, v[::-1]]
                N += [np.tile(_unit(n), (3, 1)), np.tile(-_unit(n), (3, 1))]
                O += [o, o[::-1]]
    if not P:
        return np.zeros((0, 3)), np.zeros((0, 3)), np.zeros((0, 3), dtype=np.int64), np.zeros(0, dtype=np.int64)
    positions = np.concatenate(P)
    return positions, np.concatenate(N), np.arange(len(positions)).reshape(-1, 3), np.concatenate(O)


def skin_mesh(design: RigDesign) -> Mesh:
    """A simple skinned body: one tapered tube per bone plus the design's sheets, in the rest pose.

    The tube from joint ``p`` to its child ``j`` follows ``p``; its far ring is shared half and half
    with ``j`` when ``j`` carries a bone of its own, so bends look smooth. Leaf end sites get a tube
    too. Sheets (wing membranes, feathers) are double-sided and rigidly skinned per vertex.
    ``positions`` are world metres; each vertex has up to 2 influences (weights sum to 1).
    """
    pos = design.rest_positions()
    parents = design.parents
    has_bone = np.zeros(len(pos), dtype=bool)
    has_bone[parents[parents >= 0]] = True
    has_bone |= np.array([s.tip is not None for s in design.joints])
    segments = []  # (start, end, owner, far_joint or -1, r_start, r_end)
    for j, (s, p) in enumerate(zip(design.joints, parents)):
        if p >= 0:
            rp = design.joints[p].radius
            far_r = s.radius if has_bone[j] else 0.6 * rp
            segments.append((pos[p], pos[j], p, j if has_bone[j] else -1, rp, far_r))
        if s.tip is not None:
            segments.append((pos[j], pos[j] + np.asarray(s.tip), j, -1, s.radius, 0.5 * s.radius))
    P, N, F, JI, W = [], [], [], [], []
    for a, b, owner, far, ra, rb in segments:
        if np.linalg.norm(b - a) < 1e-6:
            continue
        p_, n_, f_ = _segment(a, b, ra, rb)
        ji = np.zeros((len(p_), 4), dtype=np.int64)
        w = np.zeros((len(p_), 4))
        ji[:, 0], w[:, 0] = owner, 1.0
        if far >= 0:
            far_verts = list(range(16, 24)) + [25]
            ji[far_verts, 1], w[far_verts, 0], w[far_verts, 1] = far, 0.5, 0.5
        F.append(f_ + sum(len(x) for x in P))
        P.append(p_)
        N.append(n_)
        JI.append(ji)
        W.append(w)
    for rows in design.sheets:
        p_, n_, f_, owners = _sheet(design, rows)
        ji = np.zeros((len(p_), 4), dtype=np.int64)
        w = np.zeros((len(p_), 4))
        ji[:, 0], w[:, 0] = owners, 1.0
        F.append(f_ + sum(len(x) for x in P))
        P.append(p_)
        N.append(n_)
        JI.append(ji)
        W.append(w)
    return Mesh(
        positions=np.concatenate(P).astype(np.float32),
        indices=np.concatenate(F).astype(np.uint32),
        joints=np.concatenate(JI).astype(np.uint16),
        weights=np.concatenate(W).astype(np.float32),
        normals=np.concatenate(N).astype(np.float32),
    )
