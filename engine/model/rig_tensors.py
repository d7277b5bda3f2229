"""Per-rig tensors the networks consume, padded so one batch holds rigs with different joint counts.

Normalisation (DESIGN §3): positions are root-relative (joint 0, the first root) and divided by
the skeleton's rest height (:attr:`engine.skeleton.Skeleton.height`, metres), in the world frame
(Y up). Local rest translations are divided by the same height; the root's is set to zero (the
model never sees where the rig stands). Rotations enter as 6D = the first two rows of the local
rotation matrix (:mod:`engine.rotations`).

Padding: joints ``J..J_max`` of a smaller rig have ``joint_mask`` false, hop ``max_hop``, edge
``OTHER``, parent = themselves, zero features. The attention masks let a real joint see only real
joints, and a padded joint see only itself (so no softmax row is empty and padding cannot leak).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import torch

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.model.names import encode_names
from engine.skeleton import MAX_HOP, EdgeType, Skeleton, translated_joints

__all__ = ["RigTensors", "build_rig_tensors", "collate_rigs", "normalize_positions"]


CUE_OFFSET_FRACTION = 1e-4  # child offsets shorter than this fraction of the height carry no rotation cue

@dataclass(frozen=True)
class RigTensors:
    """Everything per rig that does not change from frame to frame; batch dimension first.

    Attributes:
        joint_mask: ``(B, J)`` bool, true on real joints.
        parents: ``(B, J)`` int64 parent index; roots and padding point at themselves.
        child1: ``(B, J)`` int64 child with the longest rest offset; the joint itself if none.
            Only cue children count (as in the analytic IK): not shorter than
            :data:`CUE_OFFSET_FRACTION` of the height, not animated by translation.
        child2: ``(B, J)`` int64 second-longest cue child; the joint itself if fewer than two.
        depth: ``(B, J)`` int64 number of ancestors (padding 0).
        hop: ``(B, J, J)`` int64 tree distance clipped to ``MAX_HOP``.
        edge: ``(B, J, J)`` int64 :class:`EdgeType` of joint j seen from joint i.
        mask_local: ``(B, J, J)`` bool attention mask of local layers: j is i or an ancestor of i.
        mask_global: ``(B, J, J)`` bool attention mask of global layers: every real joint.
        rest_pos: ``(B, J, 3)`` rest world positions, root-relative, / height.
        rest_local: ``(B, J, 3)`` rest local translations (parent space) / height; root zero.
        rest_rot6d: ``(B, J, 6)`` rest local rotations (identity for BVH rigs).
        names: ``(B, J, F)`` joint-name features (:mod:`engine.model.names`).
        ref_pos: ``(B, J, 3)`` reference pose positions, root-relative, / height.
        ref_rot6d: ``(B, J, 6)`` reference pose local rotations.
        ref_world6d: ``(B, J, 6)`` reference pose world rotations (forward kinematics of ``ref_rot6d``).
        height: ``(B,)`` metres, the normaliser of every position above.
    """

    joint_mask: torch.Tensor
    parents: torch.Tensor
    child1: torch.Tensor
    child2: torch.Tensor
    depth: torch.Tensor
    hop: torch.Tensor
    edge: torch.Tensor
    mask_local: torch.Tensor
    mask_global: torch.Tensor
    rest_pos: torch.Tensor
    rest_local: torch.Tensor
    rest_rot6d: torch.Tensor
    names: torch.Tensor
    ref_pos: torch.Tensor
    ref_rot6d: torch.Tensor
    ref_world6d: torch.Tensor
    height: torch.Tensor

    @property
    def batch_size(self) -> int:
        return int(self.joint_mask.shape[0])

    @property
    def num_joints(self) -> int:
        """Padded joint count J of the batch."""
        return int(self.joint_mask.shape[1])

    def to(self, device: torch.device | str) -> RigTensors:
        """The same tensors on ``device``."""
        return replace(self, **{f.name: getattr(self, f.name).to(device) for f in fields(self)})

    def select(self, b: int) -> RigTensors:
        """Rig ``b`` of the batch as a batch of one (still padded to J)."""
        return replace(self, **{f.name: getattr(self, f.name)[b : b + 1] for f in fields(self)})


def normalize_positions(positions: np.ndarray, height: float) -> np.ndarray:
    """World positions ``(..., J, 3)`` metres -> root-relative ``/ height`` (model space)."""
    positions = np.asarray(positions, dtype=np.float64)
    return (positions - positions[..., :1, :]) / height


def build_rig_tensors(
    skeleton: Skeleton, ref_positions: np.ndarray | None = None, ref_rotations: np.ndarray | None = None
) -> RigTensors:
    """Tensors of one rig (batch of one, no padding).

    Args:
        skeleton: the target rig.
        ref_positions: ``(J, 3)`` world metres of the reference pose; default the rest pose.
        ref_rotations: ``(J, 4)`` x y z w local rotations of the reference pose; default rest.
    """
    J = skeleton.num_joints
    height = skeleton.height
    rest_world = skeleton.rest_positions()
    if ref_positions is None or ref_rotations is None:
        ref_positions, ref_rotations = rest_world, skeleton.rest_rotations
    ref_positions = np.asarray(ref_positions, dtype=np.float64).reshape(J, 3)
    ref_rotations = np.asarray(ref_rotations, dtype=np.float64).reshape(J, 4)
    if not (np.isfinite(ref_positions).all() and np.isfinite(ref_rotations).all()):
        raise ValueError("reference pose contains non-finite values")
    parents = skeleton.parents.copy()
    parents[parents < 0] = np.flatnonzero(parents < 0)
    child1, child2 = np.arange(J), np.arange(J)
    lengths = np.linalg.norm(skeleton.rest_translations, axis=-1)
    # As the analytic IK: zero-length children and children animated by translation (their
    # reference offset is not the rotated rest offset) say nothing about the joint's rotation.
    cue = (lengths > CUE_OFFSET_FRACTION * height) & ~translated_joints(skeleton, ref_positions, rot.quat_to_matrix(ref_rotations))
    for j in range(J):
        kids = sorted((c for c in skeleton.children(j) if cue[c]), key=lambda c: -lengths[c])
        if kids:
            child1[j] = kids[0]
        if len(kids) > 1:
            child2[j] = kids[1]
    rest_local = skeleton.rest_translations / height
    rest_local[skeleton.parents < 0] = 0.0
    ref_world, _ = forward_kinematics(skeleton.parents, rot.quat_to_matrix(ref_rotations), skeleton.rest_translations)
    ancestor = skeleton.ancestor_mask()
    eye = np.eye(J, dtype=bool)
    f32 = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32))[None]  # noqa: E731
    return RigTensors(
        joint_mask=torch.ones(1, J, dtype=torch.bool),
        parents=torch.as_tensor(parents, dtype=torch.int64)[None],
        child1=torch.as_tensor(child1, dtype=torch.int64)[None],
        child2=torch.as_tensor(child2, dtype=torch.int64)[None],
        depth=torch.as_tensor(skeleton.depths(), dtype=torch.int64)[None],
        hop=torch.as_tensor(skeleton.hop_distances(MAX_HOP))[None],
        edge=torch.as_tensor(skeleton.edge_types())[None],
        mask_local=torch.as_tensor(ancestor | eye)[None],
        mask_global=torch.ones(1, J, J, dtype=torch.bool),
        rest_pos=f32(normalize_positions(rest_world, height)),
        rest_local=f32(rest_local),
        rest_rot6d=f32(rot.quat_to_sixd(skeleton.rest_rotations)),
        names=f32(encode_names(skeleton.names)),
        ref_pos=f32(normalize_positions(ref_positions, height)),
        ref_rot6d=f32(rot.quat_to_sixd(ref_rotations)),
        ref_world6d=f32(rot.matrix_to_sixd(ref_world)),
        height=torch.tensor([height], dtype=torch.float32),
    )


def collate_rigs(rigs: list[RigTensors], pad_to: int | None = None) -> RigTensors:
    """Concatenate rigs along the batch, padding every one to ``pad_to`` (default: the largest J)."""
    J_max = max(r.num_joints for r in rigs)
    pad_to = J_max if pad_to is None else pad_to
    if pad_to < J_max:
        raise ValueError(f"pad_to={pad_to} is smaller than the largest rig ({J_max} joints)")
    return RigTensors(**{f.name: torch.cat([_pad(r, f.name, pad_to) for r in rigs]) for f in fields(RigTensors)})


def _pad(rig: RigTensors, name: str, J: int) -> torch.Tensor:
    value = getattr(rig, name)
    n = rig.num_joints
    if name == "height" or n == J:
        return value
    B = value.shape[0]
    if name in ("parents", "child1", "child2"):
        tail = torch.arange(n, J, dtype=value.dtype).expand(B, J - n)
        return torch.cat([value, tail], dim=1)
    if name in ("hop", "edge", "mask_local", "mask_global"):
        fill = {"hop": MAX_HOP, "edge": int(EdgeType.OTHER), "mask_local": False, "mask_global": False}[name]
        out = torch.full((B, J, J), fill, dtype=value.dtype)
        out[:, :n, :n] = value
        if name.startswith("mask"):
            idx = torch.arange(n, J)
            out[:, idx, idx] = True  # a padded joint attends to itself only
        return out
    out = torch.zeros((B, J) + tuple(value.shape[2:]), dtype=value.dtype)
    out[:, :n] = value
    return out
