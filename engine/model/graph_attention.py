"""GL-GMHA: skeleton-aware multi-head attention over the joints of one frame (DESIGN §4).

Graphormer-style content-dependent biases are added to the attention logits before the
``1/sqrt(D)`` scaling (REFERENCE.md §1, "GL-GMHA"):
``q_i.k_j + q_i.Eq[hop_ij] + k_j.Ek[hop_ij] + q_i.Eq'[edge_ij] + k_j.Ek'[edge_ij]``.
The hop and edge embeddings are one table of ``R = (max_hop + 1) + num_edge_types`` rows.

For speed (this bias is most of a CPU step at J = 100), the hop and edge embeddings are summed
into all ``P = (max_hop + 1) * num_edge_types`` (hop, edge) pairs, every query and key is dotted
with the P pair embeddings in one matmul, and the ``(J, J)`` bias is a gather from those per-joint
tables by a flat lookup built once per rig (:func:`relation_lookup`); this is faster than a
one-hot product both eager and under ``torch.compile``.

*Local* layers mask every key that is not the query joint or one of its ancestors (the chain to
the root); *global* layers see every real joint. Models alternate them by layer parity.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["relation_index", "relation_lookup", "additive_mask", "attend", "GraphAttention", "FeedForward", "GraphBlock"]


def relation_index(hop: torch.Tensor, edge: torch.Tensor, max_hop: int, num_edge_types: int) -> torch.Tensor:
    """``(B, J, J)`` int64 pair index ``clip(hop) * num_edge_types + edge``."""
    return hop.clamp(0, max_hop) * num_edge_types + edge


def relation_lookup(hop: torch.Tensor, edge: torch.Tensor, max_hop: int, num_edge_types: int) -> torch.Tensor:
    """``(2, B, 1, 1, J * J)`` int64 flat indices into the per-joint pair tables ``(J * P)``.

    Row 0 reads query ``i``'s score for the pair of ``(i, j)``: ``i * P + pair_ij``; row 1 reads
    key ``j``'s: ``j * P + pair_ij`` (``P = (max_hop + 1) * num_edge_types``; :func:`relation_index`).
    """
    pair = relation_index(hop, edge, max_hop, num_edge_types)  # (B, J, J)
    B, J, _ = pair.shape
    offset = torch.arange(J, device=pair.device) * ((max_hop + 1) * num_edge_types)
    lookup = torch.stack([pair + offset[:, None], pair + offset[None, :]])  # (2, B, J, J)
    return lookup.reshape(2, B, 1, 1, J * J)


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

    def forward(self, x: torch.Tensor, lookup: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Attend across joints, independently for every frame.

        Args:
            x: ``(B, T, J, C)`` joint tokens.
            lookup: ``(2, B, 1, 1, J * J)`` int64 (:func:`relation_lookup`, built once per rig).
            mask: ``(B, J, J)`` float additive mask: 0 where query joint i may attend to key joint
                j, ``-inf`` elsewhere (:func:`additive_mask`, built once per rig).

        Returns:
            ``(B, T, J, C)``.
        """
        B, T, J, C = x.shape
        H = self.heads
        D = C // H
        q, k, v = self.qkv(x).reshape(B * T, J, 3, H, D).permute(2, 0, 3, 1, 4)  # each (B * T, H, J, D)
        pair_q, pair_k = self._pair_embeddings(D)  # (H, D, P) each
        # Every joint's query (key) score against every pair, flattened per head to J * P entries,
        # then the (J, J) bias is one gather each: [i, j] = q_i . E[pair_ij] + k_j . E[pair_ij].
        scores_q = (q @ pair_q).view(B, T, H, -1)
        scores_k = (k @ pair_k).view(B, T, H, -1)
        index = lookup.expand(2, B, T, H, J * J)
        bias = scores_q.gather(-1, index[0]) + scores_k.gather(-1, index[1])
        bias = bias.view(B, T, H, J, J) + mask[:, None, None]
        q, k, v = (t.reshape(B * T * H, J, D) for t in (q, k, v))
        scores = torch.baddbmm(bias.view(B * T * H, J, J), q, k.transpose(1, 2), alpha=D**-0.5)
        y = torch.softmax(scores, dim=-1) @ v  # (B * T * H, J, D)
        return self.out(y.view(B, T, H, J, D).transpose(2, 3).reshape(B, T, J, C))

    def _pair_embeddings(self, D: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Query and key embeddings of every (hop, edge) pair, ``(H, D, P)`` each, pre-scaled by
        ``1/sqrt(D)`` (the reference scales the biases with the logits)."""
        tables = torch.stack([self.rel_q, self.rel_k]) * D**-0.5  # (2, R, C)
        pairs = tables[:, : self.num_hops, None] + tables[:, None, self.num_hops :]  # (2, hops, edges, C)
        pairs = pairs.reshape(2, -1, self.heads, D).permute(0, 2, 3, 1)  # (2, H, D, P)
        return pairs[0], pairs[1]


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

    def forward(self, x: torch.Tensor, lookup: torch.Tensor, mask_local: torch.Tensor, mask_global: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, J, C)`` -> ``(B, T, J, C)``; ``lookup`` from :func:`relation_lookup`."""
        mask = mask_local if self.local else mask_global
        x = x + self.attn(self.norm(x), lookup, mask)
        return x + self.ffn(x)
