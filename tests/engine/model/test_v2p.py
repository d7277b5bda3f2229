from __future__ import annotations

import torch

from engine.model.rig_tensors import build_rig_tensors, collate_rigs
from engine.model.v2p import V2PModel

from .conftest import TINY_V2P, randomize


def _tokens(B: int, T: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    tokens = torch.randn(B, T, TINY_V2P.num_token_ids, TINY_V2P.token_dim, generator=gen)
    mask = torch.rand(B, T, TINY_V2P.num_token_ids, generator=gen) > 0.3
    mask[0, 1] = False  # a frame with nobody detected
    return tokens, mask


def test_untrained_model_returns_the_reference_pose(skeletons) -> None:
    model = V2PModel(TINY_V2P).eval()
    rig = build_rig_tensors(skeletons[1])
    tokens, mask = _tokens(1, 4)
    with torch.no_grad():
        out = model(tokens, mask, model.prepare(rig))
    torch.testing.assert_close(out, rig.ref_pos[:, None].expand_as(out))


def test_shapes_no_nan_and_padding_invariance(skeletons) -> None:
    model = randomize(V2PModel(TINY_V2P))
    rigs = [build_rig_tensors(s) for s in skeletons]
    batch = collate_rigs(rigs)
    tokens, mask = _tokens(3, 7)
    with torch.no_grad():
        out = model(tokens, mask, model.prepare(batch))
        assert out.shape == (3, 7, batch.num_joints, 3) and torch.isfinite(out).all()
        for b, rig in enumerate(rigs):
            alone = model(tokens[b : b + 1], mask[b : b + 1], model.prepare(rig))
            torch.testing.assert_close(out[b : b + 1, :, : rig.num_joints], alone, atol=1e-5, rtol=1e-5)


def test_step_equals_full_causal_forward_beyond_the_window(skeletons) -> None:
    """Mandatory exactness: 3W+ frames, a padded batch, max abs difference <= 1e-4 (float32)."""
    model = randomize(V2PModel(TINY_V2P))
    batch = collate_rigs([build_rig_tensors(s) for s in skeletons])
    T = 3 * TINY_V2P.window + 3
    tokens, mask = _tokens(3, T, seed=1)
    with torch.no_grad():
        state = model.prepare(batch)
        full = model(tokens, mask, state)
        caches = model.empty_cache(state)
        stepped = torch.cat([model.step(tokens[:, t : t + 1], mask[:, t : t + 1], state, caches, torch.tensor(t)) for t in range(T)], dim=1)
    valid = batch.joint_mask[:, None, :, None].expand_as(full)
    assert (stepped - full)[valid].abs().max() <= 1e-4
