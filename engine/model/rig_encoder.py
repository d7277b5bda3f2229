"""The per-rig encoder shared by P2R and V2P: rest pose, names, topology and reference pose.

It runs once per rig (a session caches its output) and produces one token per joint that
conditions every frame. Inputs per joint, all in model space (:mod:`engine.model.rig_tensors`):
rest position (3), rest local translation (3), rest local rotation 6D (6), reference position (3),
reference local and world rotations 6D (6 + 6) and the name features (F).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from engine.model.graph_attention import GraphBlock, additive_mask, relation_lookup
from engine.model.rig_tensors import RigTensors

__all__ = ["RigGraph", "RigEncoder", "rig_graph"]

RIG_INPUTS = 3 + 3 + 6 + 3 + 6 + 6


class RigGraph(NamedTuple):
    """Topology tensors every GL-GMHA layer needs (a NamedTuple so ``torch.compile`` takes it)."""

    relations: torch.Tensor  # (2, B, 1, 1, J * J) int64 flat (hop, edge) pair lookup (relation_lookup)
    mask_local: torch.Tensor  # (B, J, J) float 0 / -inf, ancestors and self
    mask_global: torch.Tensor  # (B, J, J) float 0 / -inf, every real joint
    parents: torch.Tensor  # (B, J) int64, roots/padding point at themselves
    child1: torch.Tensor  # (B, J) int64 longest child (self if none)


def rig_graph(rig: RigTensors, max_hop: int, num_edge_types: int) -> RigGraph:
    """The :class:`RigGraph` of a batch of rigs."""
    relations = relation_lookup(rig.hop, rig.edge, max_hop, num_edge_types)
    return RigGraph(relations, additive_mask(rig.mask_local), additive_mask(rig.mask_global), rig.parents, rig.child1)


class RigEncoder(nn.Module):
    """Per-joint rig tokens ``(B, J, C)`` from a :class:`RigTensors` batch.

    Args:
        width: C.
        heads: attention heads.
        layers: graph blocks, alternating local (even index) and global (odd index).
        name_features: length F of the name features.
        max_hop, num_edge_types: sizes of the relation tables.
        ffn_mult: FFN expansion.
    """

    def __init__(self, width: int, heads: int, layers: int, name_features: int, max_hop: int, num_edge_types: int, ffn_mult: int) -> None:
        super().__init__()
        self.inp = nn.Linear(RIG_INPUTS, width)
        self.names = nn.Linear(name_features, width)
        self.blocks = nn.ModuleList(GraphBlock(width, heads, max_hop, num_edge_types, ffn_mult, local=i % 2 == 0) for i in range(layers))
        self.norm = nn.LayerNorm(width)

    def forward(self, rig: RigTensors, graph: RigGraph) -> torch.Tensor:
        """``(B, J, C)`` rig tokens; padded joints hold finite values that nothing real reads."""
        feats = torch.cat([rig.rest_pos, rig.rest_local, rig.rest_rot6d, rig.ref_pos, rig.ref_rot6d, rig.ref_world6d], dim=-1)
        x = (self.inp(feats) + self.names(rig.names))[:, None]  # (B, 1, J, C)
        for block in self.blocks:
            x = block(x, graph.relations, graph.mask_local, graph.mask_global)
        return self.norm(x[:, 0])
