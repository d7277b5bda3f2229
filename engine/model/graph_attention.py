"""GL-GMHA: skeleton-aware multi-head attention over the joints of one frame (DESIGN §4).

Graphormer-style content-dependent biases are added to the attention logits before the
``1/sqrt(D)`` scaling (REFERENCE.md §1, "GL-GMHA"):
``q_i.k_j + q_i.Eq[hop_ij] + k_j.Ek[hop_ij] + q_i.Eq'[edge_ij] + k_j.Ek'[edge_ij]``.
The hop and edge embeddings are one table of ``R = (max_hop + 1) + num_edge_types`` rows. For
speed, each query/key is dotted with the R rows once, the hop and edge parts are summed into all
``(max_hop + 1) * num_edge_types`` pairs, and the ``(J, J)`` bias is a gather by the pair index
``hop * num_edge_types + edge`` (built once per rig), which is cheaper than a one-hot product.

*Local* layers mask every key that is not the query joint or one of its ancestors (the chain to
the root); *global* layers see every real joint. Models alternate them by layer parity.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["relation_index", "additive_mask", "attend", "GraphAttention", "FeedForward", "GraphBlock"]


def relation_index(hop: torch.Tensor, edge: torch.Tensor, max_hop: int, num_edge_types: int) -> torch.Tensor:
    """``(B, J, J)`` int64 pair index ``clip(hop) * num_edge_types + edge``."""
    return hop.clamp(0, max_hop) * num_edge_types + edge


def additive_mask(mask: torch.Tensor) -> torch.Tensor:
    """Bool mask (true = may attend) -> float 0 / ``-inf`` to add to attention logits."""
    return torch.zeros(mask.shape, device=mask.device).masked_fill(~mask, float("-inf"))


def attend(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """``softmax(q k^T / sqrt(D) + bias) v`` written out (faster than SDPA's math path on small CPU shapes).

    ``q`` ``(..., Q, D)``, ``k``/``v`` ``(..., K, D)``, ``bias`` broadcastable to ``(..., Q, K)``
    with ``-inf`` on masked keys (every row must keep at least one finite entry).
    """
    scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5 + bias
    return torch.softmax(scores, dim=-1) @ v


class GraphAttention(nn.Module):
    """Multi-head self-attention across joints with relation biases.

    Args:
        width: channels C.
        heads: H; head dim D = C / H.
        max_hop: hop distances run 0..max_hop.
        num_edge_types: edge types run 0..num_edge_types - 1.
    """

    def __init__(self, width: int, heads: int, max_hop: int, num_edge_types: int) -> None:
        super().__init__()
        self.heads = heads
        self.num_hops = max_hop + 1
        self.num_edges = num_edge_types
        num_relations = self.num_hops + num_edge_types
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        # Relation embeddings seen by the query and by the key, per head: (R, H, D) flattened.
        self.rel_q = nn.Parameter(torch.zeros(num_relations, width))
        self.rel_k = nn.Parameter(torch.zeros(num_relations, width))
        nn.init.normal_(self.rel_q, std=0.02)
        nn.init.normal_(self.rel_k, std=0.02)

    def forward(self, x: torch.Tensor, relations: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attend across joints, independently for every frame.

        Args:
            x: ``(B, T, J, C)`` joint tokens.
            relations: ``(B, J, J)`` int64 pair index (:func:`relation_index`).
            mask: ``(B, J, J)`` float additive mask: 0 where query joint i may attend to key joint
                j, ``-inf`` elsewhere (:func:`additive_mask`, built once per rig).

        Returns:
            ``(B, T, J, C)``.
        """
        B, T, J, C = x.shape
        H = self.heads
        D = C // H
        qkv = self.qkv(x).view(B, T, J, 3, H, D).permute(3, 0, 1, 4, 2, 5)  # (3, B, T, H, J, D)
        q, k, v = qkv
        index = relations[:, None, None].expand(B, T, H, J, J)
        pair_q, pair_k = self._pairs(qkv[:2])  # (B, T, H, J, P) each
        bias = pair_q.gather(-1, index)  # [i, j] = q_i . E[rel_ij]
        bias = bias + pair_k.transpose(-1, -2).contiguous().gather(-2, index)  # + k_j . E[rel_ij]
        # The reference adds the biases before the 1/sqrt(D) scaling, so they are scaled too.
        bias = bias * D**-0.5 + mask[:, None, None]  # (B, T, H, J, J)
        y = attend(q, k, v, bias)  # (B, T, H, J, D)
        return self.out(y.transpose(2, 3).reshape(B, T, J, C))

    def _pairs(self, qk: torch.Tensor) -> torch.Tensor:
        """Queries and keys ``(2, B, T, H, J, D)`` dotted with every (hop, edge) pair's embedding
        (``rel_q`` for queries, ``rel_k`` for keys) in one matmul: ``(2, B, T, H, J, P)``."""
        _, B, T, H, J, D = qk.shape
        tables = torch.stack([self.rel_q, self.rel_k]).view(2, 1, 1, -1, H, D).permute(0, 1, 2, 4, 5, 3)  # (2, 1, 1, H, D, R)
        r = qk @ tables  # (2, B, T, H, J, R)
        pairs = r[..., : self.num_hops, None] + r[..., None, self.num_hops :]  # (2, B, T, H, J, hops, edges)
        return pairs.reshape(2, B, T, H, J, self.num_hops * self.num_edges)


class FeedForward(nn.Module):
    """Pre-norm two-layer GELU MLP applied to every token."""

    def __init__(self, width: int, mult: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, mult * width), nn.GELU(), nn.Linear(mult * width, width))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class GraphBlock(nn.Module):
    """Residual pre-norm GL-GMHA then FFN; ``local`` picks the ancestor or the all-joint mask."""

    def __init__(self, width: int, heads: int, max_hop: int, num_edge_types: int, ffn_mult: int, local: bool) -> None:
        super().__init__()
        self.local = local
        self.norm = nn.LayerNorm(width)
        self.attn = GraphAttention(width, heads, max_hop, num_edge_types)
        self.ffn = FeedForward(width, ffn_mult)

    def forward(self, x: torch.Tensor, relations: torch.Tensor, mask_local: torch.Tensor, mask_global: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, J, C)`` -> ``(B, T, J, C)``."""
        mask = mask_local if self.local else mask_global
        x = x + self.attn(self.norm(x), relations, mask)
        return x + self.ffn(x)
