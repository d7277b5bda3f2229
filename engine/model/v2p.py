"""Video-to-Pose (V2P): perception tokens -> root-relative joint positions of a target rig (DESIGN §4).

Per-joint queries come from the rig encoder (rest pose, names, topology, reference pose; run once
per rig). Every frame they cross-attend to that frame's perception tokens through a generic token
interface: ``tokens (B, T, N, token_dim)`` plus ``token_mask (B, T, N)``. Landmarks today
(N = 33 tokens of x, y, z, visibility, each with a learned landmark-id embedding), DINOv2 patch
tokens later (token_dim = 1024, ``num_token_ids`` = 0 or 257). A learned "null" token is always
attendable, so a frame with no valid token (nobody detected) gives finite output.

Blocks: cross-attention to the frame's tokens -> causal temporal attention -> GL-GMHA (local on
even blocks) -> FFN. The head predicts an offset from the reference pose: positions are
``ref_pos + head(x)``, model space (root-relative / height, world frame).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from engine.model.config import V2PConfig
from engine.model.graph_attention import FeedForward, GraphAttention, attend
from engine.model.rig_encoder import RigEncoder, RigGraph, rig_graph
from engine.model.rig_tensors import RigTensors
from engine.model.temporal import TemporalAttention

__all__ = ["V2PState", "TokenCrossAttention", "V2PBlock", "V2PModel"]


class V2PState(NamedTuple):
    """Per-rig state of a V2P step, computed once by :meth:`V2PModel.prepare`."""

    graph: RigGraph
    query: torch.Tensor  # (B, J, C) rig queries
    ref_pos: torch.Tensor  # (B, J, 3)


class TokenCrossAttention(nn.Module):
    """Joint queries attend to the perception tokens of the same frame."""

    def __init__(self, width: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(width, width)
        self.kv = nn.Linear(width, 2 * width)
        self.out = nn.Linear(width, width)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, token_mask: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, J, C)``, ``tokens`` ``(B, T, N, C)``, ``token_mask`` ``(B, T, N)`` -> ``(B, T, J, C)``."""
        B, T, J, C = x.shape
        N = tokens.shape[2]
        H = self.heads
        q = self.q(x).view(B, T, J, H, C // H).transpose(2, 3)  # (B, T, H, J, D)
        k, v = self.kv(tokens).view(B, T, N, 2, H, C // H).permute(3, 0, 1, 4, 2, 5)  # each (B, T, H, N, D)
        bias = torch.zeros(token_mask.shape, device=x.device).masked_fill(~token_mask, float("-inf"))  # (B, T, N)
        y = attend(q, k, v, bias[:, :, None, None, :])  # (B, T, H, J, D)
        return self.out(y.transpose(2, 3).reshape(B, T, J, C))


class V2PBlock(nn.Module):
    """Cross-attention to tokens, causal temporal attention, GL-GMHA, FFN (all pre-norm residual)."""

    def __init__(self, cfg: V2PConfig, local: bool) -> None:
        super().__init__()
        self.local = local
        self.norm_c = nn.LayerNorm(cfg.width)
        self.cross = TokenCrossAttention(cfg.width, cfg.heads)
        self.norm_t = nn.LayerNorm(cfg.width)
        self.temporal = TemporalAttention(cfg.width, cfg.heads, cfg.window)
        self.norm_g = nn.LayerNorm(cfg.width)
        self.graph = GraphAttention(cfg.width, cfg.heads, cfg.max_hop, cfg.num_edge_types)
        self.ffn = FeedForward(cfg.width, cfg.ffn_mult)

    def _after_temporal(self, x: torch.Tensor, graph: RigGraph) -> torch.Tensor:
        mask = graph.mask_local if self.local else graph.mask_global
        x = x + self.graph(self.norm_g(x), graph.relations, mask)
        return x + self.ffn(x)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, token_mask: torch.Tensor, graph: RigGraph, window: int | None = None) -> torch.Tensor:
        """``x`` ``(B, T, J, C)`` -> ``(B, T, J, C)``."""
        x = x + self.cross(self.norm_c(x), tokens, token_mask)
        x = x + self.temporal(self.norm_t(x), window)
        return self._after_temporal(x, graph)

    def step(self, x: torch.Tensor, tokens: torch.Tensor, token_mask: torch.Tensor, graph: RigGraph, cache: tuple[torch.Tensor, torch.Tensor], t: torch.Tensor) -> torch.Tensor:
        """One frame ``x`` ``(B, 1, J, C)`` with this block's KV ring buffers."""
        x = x + self.cross(self.norm_c(x), tokens, token_mask)
        x = x + self.temporal.step(self.norm_t(x), cache[0], cache[1], t)
        return self._after_temporal(x, graph)


class V2PModel(nn.Module):
    """The Video-to-Pose network; see the module docstring for inputs and outputs."""

    def __init__(self, cfg: V2PConfig) -> None:
        super().__init__()
        self.cfg = cfg
        C = cfg.width
        self.rig_encoder = RigEncoder(C, cfg.heads, cfg.rig_layers, cfg.name_features, cfg.max_hop, cfg.num_edge_types, cfg.ffn_mult)
        self.token_in = nn.Linear(cfg.token_dim, C)
        self.token_id = nn.Embedding(cfg.num_token_ids, C) if cfg.num_token_ids > 0 else None
        self.null_token = nn.Parameter(torch.zeros(C))
        self.token_norm = nn.LayerNorm(C)
        self.blocks = nn.ModuleList(V2PBlock(cfg, local=i % 2 == 0) for i in range(cfg.layers))
        self.head = nn.Sequential(nn.LayerNorm(C), nn.Linear(C, C), nn.GELU(), nn.Linear(C, 3))
        self._init_weights()

    def _init_weights(self) -> None:
        # The head starts at zero, so the untrained model outputs the reference pose.
        nn.init.normal_(self.null_token, std=0.02)
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def prepare(self, rig: RigTensors) -> V2PState:
        """The per-rig state (run once per rig; a session caches it)."""
        graph = rig_graph(rig, self.cfg.max_hop, self.cfg.num_edge_types)
        return V2PState(graph, self.rig_encoder(rig, graph), rig.ref_pos)

    def _embed_tokens(self, tokens: torch.Tensor, token_mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, T, N, token_dim)`` -> ``(B, T, N + 1, C)`` with the null token last, and its mask."""
        B, T, N, _ = tokens.shape
        x = self.token_in(tokens)
        if self.token_id is not None:
            x = x + self.token_id.weight[:N]
        x = torch.cat([x, self.null_token.expand(B, T, 1, -1)], dim=2)  # (B, T, N + 1, C)
        mask = torch.cat([token_mask, token_mask.new_ones(B, T, 1)], dim=2)  # (B, T, N + 1)
        return self.token_norm(x), mask

    def forward(self, tokens: torch.Tensor, token_mask: torch.Tensor, state: V2PState, window: int | None = None) -> torch.Tensor:
        """Full causal forward: tokens ``(B, T, N, token_dim)`` -> positions ``(B, T, J, 3)`` model space."""
        tok, mask = self._embed_tokens(tokens, token_mask)
        B, T = tok.shape[:2]
        x = state.query[:, None].expand(B, T, -1, -1)  # (B, T, J, C)
        for block in self.blocks:
            x = block(x, tok, mask, state.graph, window)
        return state.ref_pos[:, None] + self.head(x)

    def empty_cache(self, state: V2PState, window: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Zeroed KV ring buffers of every block for the rigs of ``state``."""
        B, J, _ = state.query.shape
        W = self.cfg.window if window is None else window
        return [blk.temporal.empty_cache(B, J, W, state.query.device, state.query.dtype) for blk in self.blocks]

    def step(self, tokens: torch.Tensor, token_mask: torch.Tensor, state: V2PState, caches: list[tuple[torch.Tensor, torch.Tensor]], t: torch.Tensor) -> torch.Tensor:
        """One causal frame: tokens ``(B, 1, N, token_dim)`` -> ``(B, 1, J, 3)``; updates ``caches``."""
        tok, mask = self._embed_tokens(tokens, token_mask)
        x = state.query[:, None]  # (B, 1, J, C)
        for block, cache in zip(self.blocks, caches):
            x = block.step(x, tok, mask, state.graph, cache, t)
        return state.ref_pos[:, None] + self.head(x)
