from __future__ import annotations

import torch

from engine.model.temporal import TemporalAttention, causal_window_bias

from .conftest import randomize


def test_window_bias_is_causal_and_limited() -> None:
    table = torch.arange(8.0).view(2, 4)
    bias = causal_window_bias(table, T=6, window=3)
    assert bias.shape == (2, 6, 6)
    assert torch.isinf(bias[0, 2, 3])  # future
    assert torch.isinf(bias[0, 5, 2])  # age 3 = outside the window
    assert bias[1, 5, 3] == table[1, 2] and bias[0, 4, 4] == table[0, 0]


def test_step_equals_full_forward_over_three_windows() -> None:
    W = 5
    attn = randomize(TemporalAttention(8, 2, W))
    x = torch.randn(2, 3 * W + 2, 4, 8)
    with torch.no_grad():
        full = attn(x)
        k, v = attn.empty_cache(2, 4, W, "cpu", torch.float32)
        stepped = torch.cat([attn.step(x[:, t : t + 1], k, v, torch.tensor(t)) for t in range(x.shape[1])], dim=1)
    torch.testing.assert_close(stepped, full, atol=1e-5, rtol=1e-5)


def test_frames_outside_the_window_have_no_effect() -> None:
    W = 4
    attn = randomize(TemporalAttention(8, 2, W))
    x = torch.randn(1, 10, 3, 8)
    y = x.clone()
    y[:, 2] += 5.0
    with torch.no_grad():
        a, b = attn(x), attn(y)
    assert torch.equal(a[:, :2], b[:, :2])  # causal: the past ignores frame 2
    assert not torch.allclose(a[:, 2 : 2 + W], b[:, 2 : 2 + W])  # frames 2..5 see it
    assert torch.equal(a[:, 2 + W :], b[:, 2 + W :])  # and from frame 6 on it has left the window
