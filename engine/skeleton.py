"""The skeleton: joint names, hierarchy and rest pose, plus the graph facts the model needs.

A skeleton stores, per joint ``j`` (parents always come before their children):
- ``parents[j]``: parent index, ``-1`` for a root;
- ``rest_translations[j]``: ``(3,)`` metres, the joint's origin in its parent's space at rest;
- ``rest_rotations[j]``: ``(4,)`` x y z w, the joint's local rotation at rest (BVH rigs: identity).
End sites are extra leaf points (BVH ``End Site``, glTF leaf tips) that carry no rotation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

import numpy as np

from engine import rotations as rot
from engine.kinematics import forward_kinematics

__all__ = ["EdgeType", "Skeleton", "MAX_HOP", "translated_joints"]

MAX_HOP = 5  # hop distances are clipped here, as in the reference model (REFERENCE.md §1)


class EdgeType(IntEnum):
    """Relation of joint ``j`` to joint ``i`` in the ``edge_types()[i, j]`` matrix."""

    SELF = 0
    PARENT = 1  # j is i's parent
    CHILD = 2  # j is i's child
    SIBLING = 3  # same parent
    OTHER = 4


@dataclass(frozen=True, eq=False)
class Skeleton:
    """An immutable joint hierarchy with its rest pose.

    Attributes:
        names: joint names, unique.
        parents: ``(J,)`` int64 parent indices, ``-1`` for roots, parents before children.
        rest_translations: ``(J, 3)`` float64 metres, parent space.
        rest_rotations: ``(J, 4)`` float64 x y z w, parent space.
        end_sites: ``(E,)`` joint indices that own an end site, and ``end_offsets`` ``(E, 3)``
            their offsets in that joint's space.
    """

    names: tuple[str, ...]
    parents: np.ndarray
    rest_translations: np.ndarray
    rest_rotations: np.ndarray
    end_site_joints: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    end_site_offsets: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))

    def __post_init__(self) -> None:
        names = tuple(str(n) for n in self.names)
        parents = np.asarray(self.parents, dtype=np.int64).reshape(-1)
        J = len(names)
        trans = np.asarray(self.rest_translations, dtype=np.float64).reshape(J, 3)
        rots = rot.quat_normalize(np.asarray(self.rest_rotations, dtype=np.float64).reshape(J, 4))
        ends = np.asarray(self.end_site_joints, dtype=np.int64).reshape(-1)
        end_offsets = np.asarray(self.end_site_offsets, dtype=np.float64).reshape(len(ends), 3)
        if J == 0:
            raise ValueError("a skeleton needs at least one joint")
        if len(parents) != J:
            raise ValueError(f"{len(parents)} parent indices for {J} joints")
        if len(set(names)) != J:
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"duplicate joint names: {dup[:5]}")
        for j, p in enumerate(parents):
            if p >= j or p < -1:
                raise ValueError(f"joint {names[j]!r} (index {j}) has parent index {p}; parents must come first")
        if not (np.isfinite(trans).all() and np.isfinite(rots).all() and np.isfinite(end_offsets).all()):
            raise ValueError("rest pose contains non-finite values")
        if len(ends) and (ends.min() < 0 or ends.max() >= J):
            raise ValueError("end site refers to a joint index out of range")
        for name, value in (
            ("names", names),
            ("parents", parents),
            ("rest_translations", trans),
            ("rest_rotations", rots),
            ("end_site_joints", ends),
            ("end_site_offsets", end_offsets),
        ):
            if isinstance(value, np.ndarray):
                value.setflags(write=False)
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------------ basic facts
    @property
    def num_joints(self) -> int:
        return len(self.names)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"Skeleton({self.num_joints} joints, root={self.names[0]!r}, height={self.height:.3g} m)"

    def index(self, name: str) -> int:
        """Index of the joint called ``name`` (``KeyError`` names the missing joint)."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no joint named {name!r}") from None

    def children(self, j: int) -> list[int]:
        """Indices of ``j``'s direct children."""
        return [int(c) for c in np.flatnonzero(self.parents == j)]

    @property
    def roots(self) -> list[int]:
        return [int(j) for j in np.flatnonzero(self.parents < 0)]

    def depths(self) -> np.ndarray:
        """``(J,)`` number of ancestors of each joint."""
        d = np.zeros(self.num_joints, dtype=np.int64)
        for j, p in enumerate(self.parents):
            if p >= 0:
                d[j] = d[p] + 1
        return d

    def chain_to_root(self, j: int) -> list[int]:
        """``[j, parent(j), ..., root]``."""
        chain = [int(j)]
        while self.parents[chain[-1]] >= 0:
            chain.append(int(self.parents[chain[-1]]))
        return chain

    def ancestor_mask(self) -> np.ndarray:
        """``(J, J)`` bool, ``[i, j]`` true when ``j`` is ``i`` or one of its ancestors."""
        J = self.num_joints
        mask = np.eye(J, dtype=bool)
        for j, p in enumerate(self.parents):
            if p >= 0:
                mask[j] |= mask[p]
        return mask

    def hop_distances(self, clip: int | None = MAX_HOP) -> np.ndarray:
        """``(J, J)`` int64 tree distance in edges between joints (clipped to ``clip``)."""
        anc = self.ancestor_mask()
        depth = self.depths()
        # Lowest common ancestor depth = number of shared ancestors - 1.
        shared = anc.astype(np.int64) @ anc.T.astype(np.int64)
        same_tree = shared > 0
        hop = depth[:, None] + depth[None, :] - 2 * (shared - 1)
        hop = np.where(same_tree, hop, np.iinfo(np.int64).max // 4)
        return np.minimum(hop, clip) if clip is not None else hop

    def edge_types(self) -> np.ndarray:
        """``(J, J)`` int64 :class:`EdgeType` of joint ``j`` seen from joint ``i``."""
        J = self.num_joints
        p = self.parents
        e = np.full((J, J), int(EdgeType.OTHER), dtype=np.int64)
        sib = (p[:, None] == p[None, :]) & (p[:, None] >= 0)
        e[sib] = EdgeType.SIBLING
        idx = np.arange(J)
        has_parent = p >= 0
        e[idx[has_parent], p[has_parent]] = EdgeType.PARENT
        e[p[has_parent], idx[has_parent]] = EdgeType.CHILD
        e[idx, idx] = EdgeType.SELF
        return e

    # ------------------------------------------------------------------ rest pose
    def rest_world(self) -> tuple[np.ndarray, np.ndarray]:
        """Rest world rotations ``(J, 3, 3)`` and positions ``(J, 3)``."""
        mats, pos = forward_kinematics(self.parents, rot.quat_to_matrix(self.rest_rotations), self.rest_translations)
        return mats, pos

    def rest_positions(self) -> np.ndarray:
        """``(J, 3)`` world positions of the joints at rest, metres."""
        return self.rest_world()[1]

    def end_site_positions(self, world_rotations: np.ndarray, world_positions: np.ndarray) -> np.ndarray:
        """World positions ``(..., E, 3)`` of the end sites for a posed skeleton."""
        j = self.end_site_joints
        return world_positions[..., j, :] + np.einsum("...eab,eb->...ea", world_rotations[..., j, :, :], self.end_site_offsets)

    @property
    def height(self) -> float:
        """Rest-pose size in metres: the largest extent of joints and end sites (never zero)."""
        mats, pos = self.rest_world()
        pts = np.concatenate([pos, self.end_site_positions(mats, pos)], axis=0)
        ext = pts.max(axis=0) - pts.min(axis=0)
        return float(max(ext.max(), 1e-6))

    def bone_lengths(self) -> np.ndarray:
        """``(J,)`` rest distance of each joint from its parent (0 for roots)."""
        lengths = np.linalg.norm(self.rest_translations, axis=-1)
        return np.where(self.parents >= 0, lengths, 0.0)

    # ------------------------------------------------------------------ derived skeletons
    def subset(self, keep: list[int] | np.ndarray) -> Skeleton:
        """The sub-skeleton of the joints in ``keep``.

        A kept joint whose parent is dropped is re-attached to its nearest kept ancestor with its
        rest transform composed along the dropped chain, so rest world positions are unchanged.
        """
        keep = sorted(int(k) for k in keep)
        if not keep:
            raise ValueError("subset needs at least one joint")
        mats, pos = self.rest_world()
        new_index = {old: new for new, old in enumerate(keep)}
        parents, trans, rots = [], [], []
        for old in keep:
            p = int(self.parents[old])
            while p >= 0 and p not in new_index:
                p = int(self.parents[p])
            parents.append(new_index.get(p, -1))
            if p < 0:
                trans.append(pos[old])
                rots.append(rot.matrix_to_quat(mats[old]))
            else:
                trans.append(mats[p].T @ (pos[old] - pos[p]))
                rots.append(rot.matrix_to_quat(mats[p].T @ mats[old]))
        ends = [(new_index[j], o) for j, o in zip(self.end_site_joints, self.end_site_offsets) if int(j) in new_index]
        return Skeleton(
            names=tuple(self.names[k] for k in keep),
            parents=np.array(parents),
            rest_translations=np.array(trans),
            rest_rotations=np.array(rots),
            end_site_joints=np.array([e[0] for e in ends], dtype=np.int64),
            end_site_offsets=np.array([e[1] for e in ends]).reshape(-1, 3),
        )

    def scaled(self, factor: float) -> Skeleton:
        """The same skeleton with every length multiplied by ``factor``."""
        return Skeleton(
            self.names,
            self.parents,
            self.rest_translations * factor,
            self.rest_rotations,
            self.end_site_joints,
            self.end_site_offsets * factor,
        )

    def normalize_positions(self, positions: np.ndarray, root: int = 0) -> np.ndarray:
        """Root-relative, height-normalised positions: ``(p - p[root]) / height``.

        This is the model-facing normalisation (DESIGN §3). ``positions`` is ``(..., J, 3)``.
        """
        positions = np.asarray(positions, dtype=np.float64)
        return (positions - positions[..., root : root + 1, :]) / self.height


def translated_joints(skeleton: Skeleton, ref_positions: np.ndarray, ref_local: np.ndarray) -> np.ndarray:
    """``(J,)`` bool: joints whose reference-pose offset from their parent is not the rotated rest
    offset (by more than 1% of the rest length plus 0.1% of the height): animated by translation,
    so no cue for their parent's rotation.

    Args:
        skeleton: the rig.
        ref_positions: ``(J, 3)`` world metres of the reference pose.
        ref_local: ``(J, 3, 3)`` local rotation matrices of the reference pose.
    """
    J = skeleton.num_joints
    if ref_positions.shape != (J, 3):
        raise ValueError(f"ref_positions must be ({J}, 3), got {ref_positions.shape}")
    world, _ = forward_kinematics(skeleton.parents, ref_local, skeleton.rest_translations)
    out = np.zeros(J, dtype=bool)
    for c, p in enumerate(skeleton.parents):
        if p >= 0:
            predicted = world[p] @ skeleton.rest_translations[c]
            tol = 0.01 * np.linalg.norm(skeleton.rest_translations[c]) + 1e-3 * skeleton.height
            out[c] = np.linalg.norm(ref_positions[c] - ref_positions[p] - predicted) > tol
    return out
