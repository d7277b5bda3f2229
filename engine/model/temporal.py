"""Causal per-joint temporal attention with a learned relative-position bias and a KV cache.

Each joint attends over its own history: frame ``t`` sees frames ``t-W+1 .. t`` (W = window).
Position enters only through a learned bias per head indexed by the age ``dt = t - t'`` in
``[0, W)`` (the reference uses RoPE plus such a table over ``|dt| <= 2``, REFERENCE.md §1), so a
sliding window needs no absolute frame index.

Streaming: :meth:`TemporalAttention.step` writes the new frame's key/value into a ring buffer of
W slots (slot ``t mod W``) and attends to the valid slots with the bias of each slot's age. The
order of keys differs from the full forward, which changes nothing but float rounding; the tests
assert ``step`` equals :meth:`TemporalAttention.forward` on sequences longer than W.
"""

from __future__ import annotations

import torch
from torch import nn

from engine.model.graph_attention import attend

__all__ = ["TemporalAttention", "causal_window_bias"]


def causal_window_bias(table: torch.Tensor, T: int, window: int) -> torch.Tensor:
    """``(H, T, T)`` additive bias: ``table[h, t - t']`` inside the causal window, ``-inf`` outside."""
    idx = torch.arange(T, device=table.device)
    age = idx[:, None] - idx[None, :]  # (T, T), query minus key
    inside = (age >= 0) & (age < window)
    bias = table[:, age.clamp(0, window - 1)]  # (H, T, T)
    return bias.masked_fill(~inside, float("-inf"))


class TemporalAttention(nn.Module):
    """Multi-head attention of every joint over its last ``window`` frames.

    Args:
        width: channels C.
        heads: H.
        window: W, the largest attended age plus one; sets the bias table size.
    """

    def __init__(self, width: int, heads: int, window: int) -> None:
        super().__init__()
        self.heads = heads
        self.window = window
        self.qkv = nn.Linear(width, 3 * width)
        self.out = nn.Linear(width, width)
        self.rel_bias = nn.Parameter(torch.zeros(heads, window))  # (H, W), indexed by age

    def forward(self, x: torch.Tensor, window: int | None = None) -> torch.Tensor:
        """Full causal forward over a clip.

        Args:
            x: ``(B, T, J, C)``.
            window: attend to at most this many frames (<= the configured W); default W.

        Returns:
            ``(B, T, J, C)``.
        """
        W = self.window if window is None else window
        B, T, J, C = x.shape
        H = self.heads
        q, k, v = self.qkv(x).view(B, T, J, 3, H, C // H).permute(3, 0, 2, 4, 1, 5)  # each (B, J, H, T, D)
        bias = causal_window_bias(self.rel_bias[:, :W], T, W)  # (H, T, T)
        y = attend(q, k, v, bias)  # (B, J, H, T, D)
        return self.out(y.permute(0, 3, 1, 2, 4).reshape(B, T, J, C))

    def empty_cache(self, B: int, J: int, window: int, device: torch.device | str, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
        """Zeroed key ``(B, J, H, D, W)`` and value ``(B, J, H, W, D)`` ring buffers.

        Keys are stored transposed so both products of a step are plain batched ``(1, D) @ (D, W)``
        and ``(1, W) @ (W, D)`` matmuls (about 3x faster on the CPU than ``(W, D) @ (D, 1)``).
        """
        H = self.heads
        D = self.qkv.in_features // H
        keys = torch.zeros((B, J, H, D, window), device=device, dtype=dtype)
        return keys, torch.zeros((B, J, H, window, D), device=device, dtype=dtype)

    def step(self, x: torch.Tensor, cache_k: torch.Tensor, cache_v: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """One frame, causal, using and updating the ring buffers in place.

        Args:
            x: ``(B, 1, J, C)`` the new frame.
            cache_k, cache_v: ``(B, J, H, D, W)`` / ``(B, J, H, W, D)`` ring buffers (:meth:`empty_cache`).
            t: 0-d int64 tensor, frames seen before this one (0 on the first step). A tensor,
                not an int, so a compiled step does not specialise on it.

        Returns:
            ``(B, 1, J, C)``.
        """
        B, _, J, C = x.shape
        H = self.heads
        W = cache_v.shape[3]
        q, k, v = self.qkv(x).view(B, 1, J, 3, H, C // H).permute(3, 0, 2, 4, 1, 5)  # each (B, J, H, 1, D)
        slot = torch.remainder(t, W).reshape(1)
        cache_k.index_copy_(4, slot, k.transpose(-1, -2))
        cache_v.index_copy_(3, slot, v)
        age = torch.remainder(slot - torch.arange(W, device=x.device), W)  # (W,) age of each slot
        bias = self.rel_bias[:, age.clamp(max=self.window - 1)]  # (H, W)
        bias = bias.masked_fill(age > t, float("-inf"))  # slots not written yet
        scores = (q @ cache_k)[..., 0, :] * (C // H) ** -0.5 + bias  # (B, J, H, W)
        y = torch.softmax(scores, dim=-1)[..., None, :] @ cache_v  # (B, J, H, 1, D)
        return self.out(y.reshape(B, 1, J, C))
