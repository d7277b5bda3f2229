from __future__ import annotations

import torch

from engine.model.graph_attention import GraphAttention, GraphBlock, additive_mask, relation_lookup
from engine.model.rig_tensors import build_rig_tensors
from engine.skeleton import MAX_HOP, EdgeType

from .conftest import randomize


def _explicit(attn: GraphAttention, x: torch.Tensor, hop: torch.Tensor, edge: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Reference formula with per-pair loops: q.k + q.Eq[hop] + k.Ek[hop] + q.Eq[edge] + k.Ek[edge]."""
    B, T, J, C = x.shape
    H, D = attn.heads, C // attn.heads
    q, k, v = attn.qkv(x).view(B, T, J, 3, H, D).unbind(3)  # (B, T, J, H, D)
    eq = attn.rel_q.view(-1, H, D)
    ek = attn.rel_k.view(-1, H, D)
    nh = MAX_HOP + 1
    logits = torch.zeros(B, T, H, J, J)
    for i in range(J):
        for j in range(J):
            h, e = hop[0, i, j], edge[0, i, j]
            rel = eq[h] + eq[nh + e]
            relk = ek[h] + ek[nh + e]
            logits[:, :, :, i, j] = (q[:, :, i] * (k[:, :, j] + rel)).sum(-1) + (k[:, :, j] * relk).sum(-1)
    logits = logits / D**0.5 + mask[:, None, None]
    y = torch.softmax(logits, -1) @ v.transpose(2, 3)  # (B, T, H, J, D)
    return attn.out(y.transpose(2, 3).reshape(B, T, J, C))


def test_gathered_bias_equals_explicit_formula(skeletons) -> None:
    rig = build_rig_tensors(skeletons[0])
    attn = randomize(GraphAttention(8, 2, MAX_HOP, len(EdgeType)))
    x = torch.randn(1, 2, rig.num_joints, 8)
    rel = relation_lookup(rig.hop, rig.edge, MAX_HOP, len(EdgeType))
    mask = additive_mask(rig.mask_local)
    torch.testing.assert_close(attn(x, rel, mask), _explicit(attn, x, rig.hop, rig.edge, mask), atol=1e-5, rtol=1e-5)


def test_local_block_sees_only_the_chain_to_the_root(skeletons) -> None:
    sk = skeletons[1]
    rig = build_rig_tensors(sk)
    rel = relation_lookup(rig.hop, rig.edge, MAX_HOP, len(EdgeType))
    local = randomize(GraphBlock(8, 2, MAX_HOP, len(EdgeType), 2, local=True))
    glob = randomize(GraphBlock(8, 2, MAX_HOP, len(EdgeType), 2, local=False))
    x = torch.randn(1, 1, sk.num_joints, 8)
    anc = torch.as_tensor(sk.ancestor_mask())
    j = int(torch.argmax(anc.sum(0) * (torch.arange(sk.num_joints) > 0)))  # a non-root joint with descendants
    assert anc[:, j].sum() > 1
    y = x.clone()
    y[0, 0, j] += torch.randn(8)  # perturb one joint: only it and its descendants may change in a local layer
    args = (rel, additive_mask(rig.mask_local), additive_mask(rig.mask_global))
    changed = (local(x, *args) - local(y, *args)).abs().amax(-1)[0, 0] > 1e-6
    assert torch.equal(changed, anc[:, j])  # exactly the joints that have `j` on their chain
    assert (glob(x, *args) - glob(y, *args)).abs().amax(-1)[0, 0].gt(1e-6).all()  # global: everyone
