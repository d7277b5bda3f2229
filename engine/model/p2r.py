"""Pose-to-Rotation (P2R): joint position tracks -> local 6D rotations of any rig (DESIGN §4).

Per frame and joint the input is the model-space position ``p`` (root-relative / height, world
frame), the bone vector from the parent ``p - p[parent]`` and its unit direction, the offset
from the reference pose ``p - p_ref``, the reference bone direction, the relative change of the
bone's length and of the offset to the longest child against the reference (zero on exact input:
the model's cue for how far to trust the geometry), and the 6D of the analytic
child-fit rotation ``F_j`` (:mod:`engine.model.fit_rotation`: the world rotation carrying the
joint's reference child offsets onto the current ones). With ``orientation_cue`` each joint also
takes an orientation hint (:func:`hint_correction`): a world rotation the joint should have (from
the performer's segment orientations, :mod:`engine.retarget.orientation`) with its weight in
[0, 1], 0 where there is none: the correction it asks for enters the joint's features, and the
head also outputs a trust ``g`` (a sigmoid) that blends its own correction toward the hint's by
``g x weight`` (so a joint without a hint is never pulled). A per-rig encoder (rest pose, names, topology, reference
pose-rotation pair; run once per rig) adds a token to every joint and modulates each block (FiLM).

Blocks (``layers`` of them): causal temporal attention -> GL-GMHA (local on even, global on odd
blocks) -> FFN, all pre-norm residual.

Output: with ``predict_world_delta`` (default) the head predicts, per joint, a world-frame rotation
``Delta_j = C_j @ F_j`` (the learned correction ``C_j`` is 6D, initialised to the identity; ``F_j``
is the analytic fit above, or the identity with ``use_fit_prior=False``) that carries the joint's
reference *world* rotation to the current one, ``W_j = Delta_j @ W_ref_j``; local rotations then
follow exactly,
``R_j = W_parent(j)^T @ W_j`` (roots: ``R_j = W_j``), returned as 6D (first two rows). Why: a
world-frame delta is what joint positions show directly (bones turning in the world), whatever
the rig's local-axis convention, while the convention lives entirely in ``W_ref`` (forward
kinematics of the reference rotations). An untrained model is the swing-only analytic IK (or
returns the reference pose without the prior); training learns twist, noise and temporal context.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from engine.model.config import P2RConfig
from engine.model.fit_rotation import FitPlan
from engine.model.graph_attention import FeedForward, GraphAttention
from engine.model.rig_encoder import RigEncoder, RigGraph, rig_graph
from engine.model.rig_tensors import RigTensors
from engine.model.sixd import IDENTITY_6D, matrix_to_sixd, sixd_to_matrix
from engine.model.temporal import TemporalAttention

__all__ = ["HINT_INPUTS", "P2RState", "P2RBlock", "P2RModel", "frame_features", "grandchild_features", "hint_correction", "hint_features", "no_hints"]

FRAME_INPUTS = 23
HINT_INPUTS = 7  # per joint: the hinted world rotation as 6D, then its weight
LENGTH_CUE_GAIN = 10.0  # relative length changes are scaled by this, then clipped to +-3


class P2RState(NamedTuple):
    """Everything per rig that a P2R step needs, computed once by :meth:`P2RModel.prepare`."""

    graph: RigGraph
    rig_token: torch.Tensor  # (B, J, C)
    film: torch.Tensor  # (L, 2, B, J, C) scale and shift of each block
    ref_pos: torch.Tensor  # (B, J, 3)
    ref_world: torch.Tensor  # (B, J, 3, 3) reference world rotations
    is_root: torch.Tensor  # (B, J) bool, roots and padding (their parent frame is the world)
    fit_plan: FitPlan  # the analytic prior F of these rigs (numpy, outside any compiled graph)
    grandchild: torch.Tensor  # (B, J) int64 longest child of the longest child (self chains end there)


def _unit(v: torch.Tensor) -> torch.Tensor:
    return v / v.norm(dim=-1, keepdim=True).clamp_min(1e-6)


def _length_change(now: torch.Tensor, ref: torch.Tensor) -> torch.Tensor:
    """``(..., 1)`` scaled, clipped relative length change of offsets ``now`` vs ``ref`` (0 for zero-length ``ref``)."""
    ref_len = ref.norm(dim=-1, keepdim=True)
    change = (now.norm(dim=-1, keepdim=True) - ref_len) / ref_len.clamp_min(1e-4)
    return torch.where(ref_len > 1e-4, (LENGTH_CUE_GAIN * change).clamp(-3.0, 3.0), torch.zeros_like(change))


def grandchild_features(pos: torch.Tensor, fit: torch.Tensor, state: P2RState) -> torch.Tensor:
    """``(B, T, J, 6)``: the unit grandchild bone now, turned back by ``fit^T``, and in the reference
    (zeros where the joint has no grandchild)."""
    B, T, J, _ = pos.shape
    child, grand = state.graph.child1, state.grandchild
    pick = lambda x, idx: torch.gather(x, 2, idx[:, None, :, None].expand(B, x.shape[1], J, 3))  # noqa: E731
    w = _unit(pick(pos, grand) - pick(pos, child))
    w_ref = _unit(pick(state.ref_pos[:, None], grand) - pick(state.ref_pos[:, None], child)).expand(B, T, J, 3)
    valid = (grand != child)[:, None, :, None]
    turned = (fit.transpose(-1, -2) @ w[..., None])[..., 0]
    return torch.cat([turned, w_ref], dim=-1) * valid


def no_hints(shape: tuple[int, ...], device: torch.device | str = "cpu") -> torch.Tensor:
    """``(*shape, 7)`` hints that hint nothing: identity 6D, weight 0."""
    out = torch.zeros(*shape, HINT_INPUTS, device=device)
    out[..., :6] = torch.tensor(IDENTITY_6D, device=device)
    return out


def hint_correction(hints: torch.Tensor, fit: torch.Tensor, ref_world: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The correction each hint asks of the head, ``C = W_hint W_ref^T F^T`` (so that
    ``C F W_ref = W_hint``), as 6D ``(B, T, J, 6)`` (identity without a hint), and the weight ``(B, T, J, 1)``.

    Args:
        hints: ``(B, T, J, 7)`` hinted world rotation (6D) and weight (0: no hint; its 6D is ignored).
        fit: ``(B, T, J, 3, 3)`` the prior ``F`` the head composes with (identity without the prior).
        ref_world: ``(B, J, 3, 3)`` reference world rotations.
    """
    weight = hints[..., 6:].clamp(0.0, 1.0)
    identity = hints.new_tensor(IDENTITY_6D)
    target = sixd_to_matrix(torch.where(weight > 0, hints[..., :6], identity))
    correction = matrix_to_sixd(target @ ref_world[:, None].transpose(-1, -2) @ fit.transpose(-1, -2))
    return torch.where(weight > 0, correction, identity), weight


def hint_features(correction: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """``(B, T, J, 7)`` frame inputs of :func:`hint_correction`'s output: the correction minus the
    identity, times the weight, then the weight (all zeros without a hint)."""
    return torch.cat([weight * (correction - correction.new_tensor(IDENTITY_6D)), weight], dim=-1)


def frame_features(pos: torch.Tensor, parents: torch.Tensor, ref_pos: torch.Tensor, child1: torch.Tensor) -> torch.Tensor:
    """``(B, T, J, 17)``: position, bone vector, bone direction, offset from the reference, reference
    bone direction, and the length changes of the bone and of the offset to the longest child.

    Args:
        pos: ``(B, T, J, 3)`` model-space positions.
        parents: ``(B, J)`` parent indices (roots point at themselves: zero bone).
        ref_pos: ``(B, J, 3)`` model-space reference positions.
        child1: ``(B, J)`` longest child (the joint itself without one: zero offset).
    """
    B, T, J, _ = pos.shape
    parent_pos = torch.gather(pos, 2, parents[:, None, :, None].expand(B, T, J, 3))  # (B, T, J, 3)
    bone = pos - parent_pos
    ref_bone = ref_pos - torch.gather(ref_pos, 1, parents[:, :, None].expand(B, J, 3))  # (B, J, 3)
    ref_dir = _unit(ref_bone)[:, None].expand(B, T, J, 3)
    child = torch.gather(pos, 2, child1[:, None, :, None].expand(B, T, J, 3)) - pos
    ref_child = torch.gather(ref_pos, 1, child1[:, :, None].expand(B, J, 3)) - ref_pos
    cues = [_length_change(bone, ref_bone[:, None]), _length_change(child, ref_child[:, None])]
    return torch.cat([pos, bone, _unit(bone), pos - ref_pos[:, None], ref_dir, *cues], dim=-1)


class P2RBlock(nn.Module):
    """FiLM-modulated causal temporal attention, then GL-GMHA, then FFN."""

    def __init__(self, cfg: P2RConfig, local: bool) -> None:
        super().__init__()
        self.local = local
        self.norm_t = nn.LayerNorm(cfg.width)
        self.temporal = TemporalAttention(cfg.width, cfg.heads, cfg.window)
        self.norm_g = nn.LayerNorm(cfg.width)
        self.graph = GraphAttention(cfg.width, cfg.heads, cfg.max_hop, cfg.num_edge_types)
        self.ffn = FeedForward(cfg.width, cfg.ffn_mult)

    def _after_temporal(self, x: torch.Tensor, graph: RigGraph) -> torch.Tensor:
        mask = graph.mask_local if self.local else graph.mask_global
        x = x + self.graph(self.norm_g(x), graph.relations, mask)
        return x + self.ffn(x)

    def forward(self, x: torch.Tensor, graph: RigGraph, film: torch.Tensor, window: int | None = None) -> torch.Tensor:
        """``x`` ``(B, T, J, C)``; ``film`` ``(2, B, J, C)``."""
        h = self.norm_t(x) * (1 + film[0, :, None]) + film[1, :, None]
        x = x + self.temporal(h, window)
        return self._after_temporal(x, graph)

    def step(self, x: torch.Tensor, graph: RigGraph, film: torch.Tensor, cache: tuple[torch.Tensor, torch.Tensor], t: torch.Tensor) -> torch.Tensor:
        """One frame ``x`` ``(B, 1, J, C)`` with this block's KV ring buffers."""
        h = self.norm_t(x) * (1 + film[0, :, None]) + film[1, :, None]
        x = x + self.temporal.step(h, cache[0], cache[1], t)
        return self._after_temporal(x, graph)


class P2RModel(nn.Module):
    """The Pose-to-Rotation network; see the module docstring for inputs and outputs."""

    def __init__(self, cfg: P2RConfig) -> None:
        super().__init__()
        self.cfg = cfg
        C = cfg.width
        self.rig_encoder = RigEncoder(C, cfg.heads, cfg.rig_layers, cfg.name_features, cfg.max_hop, cfg.num_edge_types, cfg.ffn_mult)
        self.film = nn.Linear(C, cfg.layers * 2 * C)
        self.frame_in = nn.Linear(FRAME_INPUTS + (6 if cfg.grandchild_cue else 0) + (HINT_INPUTS if cfg.orientation_cue else 0), C)
        self.blocks = nn.ModuleList(P2RBlock(cfg, local=i % 2 == 0) for i in range(cfg.layers))
        # 6D correction, then (with orientation_cue) the logit of the trust in the joint's hint.
        self.head = nn.Sequential(nn.LayerNorm(C), nn.Linear(C, C), nn.GELU(), nn.Linear(C, 7 if cfg.orientation_cue else 6))
        self._init_weights()

    def _init_weights(self) -> None:
        # FiLM starts as the identity and the head's last layer at zero, so the untrained model
        # outputs exactly the reference rotations (Delta = identity) or the identity 6D.
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def prepare(self, rig: RigTensors) -> P2RState:
        """The per-rig state (run once per rig; a session caches it)."""
        graph = rig_graph(rig, self.cfg.max_hop, self.cfg.num_edge_types)
        token = self.rig_encoder(rig, graph)  # (B, J, C)
        B, J, C = token.shape
        film = self.film(token).view(B, J, self.cfg.layers, 2, C).permute(2, 3, 0, 1, 4)  # (L, 2, B, J, C)
        is_root = graph.parents == torch.arange(J, device=token.device)
        plan = FitPlan.build(rig.ref_pos, rig.parents, rig.child1, rig.child2, rig.depth)
        grandchild = torch.gather(rig.child1, 1, rig.child1)
        return P2RState(graph, token, film, rig.ref_pos, sixd_to_matrix(rig.ref_world6d), is_root, plan, grandchild)

    def _embed(self, positions: torch.Tensor, state: P2RState, fit: torch.Tensor | None, hints: torch.Tensor | None,
               ) -> tuple[torch.Tensor, torch.Tensor, tuple[torch.Tensor, torch.Tensor] | None]:
        """Frame tokens ``(B, T, J, C)``, the prior ``F`` ``(B, T, J, 3, 3)`` (the analytic fit,
        computed when not given; the identity without the prior) and the hints' corrections and
        weights (:func:`hint_correction`; None without ``orientation_cue``). ``hints``: ``(B, T, J, 7)``
        or None (no hints)."""
        g = state.graph
        if fit is None:
            fit = state.fit_plan(positions)
        parts = [frame_features(positions, g.parents, state.ref_pos, g.child1), matrix_to_sixd(fit)]
        if self.cfg.grandchild_cue:
            parts.append(grandchild_features(positions, fit, state))
        if not self.cfg.use_fit_prior:
            fit = torch.eye(3, device=fit.device, dtype=fit.dtype).expand_as(fit)
        hinted = None
        if self.cfg.orientation_cue:
            if hints is None:
                hints = no_hints(positions.shape[:3], positions.device)
            hinted = hint_correction(hints, fit, state.ref_world)
            parts.append(hint_features(*hinted))
        feats = torch.cat(parts, dim=-1)
        return self.frame_in(feats) + state.rig_token[:, None], fit, hinted

    def _head(self, x: torch.Tensor, state: P2RState, fit: torch.Tensor, hinted: tuple[torch.Tensor, torch.Tensor] | None) -> torch.Tensor:
        raw = self.head(x)
        out = raw[..., :6] + x.new_tensor(IDENTITY_6D)  # (B, T, J, 6)
        if hinted is not None:  # blend toward the hint's correction by trust x weight (0 without a hint)
            correction, weight = hinted
            out = out + weight * torch.sigmoid(raw[..., 6:]) * (correction - out)
        if not self.cfg.predict_world_delta:
            return out
        B, T, J, _ = out.shape
        world = sixd_to_matrix(out) @ fit @ state.ref_world[:, None]  # (B, T, J, 3, 3) W_j = C_j F_j W_ref_j
        index = state.graph.parents[:, None, :, None, None].expand(B, T, J, 3, 3)
        parent = torch.gather(world, 2, index)  # (B, T, J, 3, 3)
        eye = torch.eye(3, device=x.device, dtype=x.dtype)
        parent = torch.where(state.is_root[:, None, :, None, None], eye, parent)
        return matrix_to_sixd(parent.transpose(-1, -2) @ world)

    def forward(self, positions: torch.Tensor, state: P2RState, window: int | None = None, hints: torch.Tensor | None = None) -> torch.Tensor:
        """Full causal forward: ``(B, T, J, 3)`` model-space positions (and optional ``(B, T, J, 7)``
        orientation hints) -> ``(B, T, J, 6)`` local 6D."""
        x, fit, hinted = self._embed(positions, state, None, hints)
        for block, film in zip(self.blocks, state.film):
            x = block(x, state.graph, film, window)
        return self._head(x, state, fit, hinted)

    def empty_cache(self, state: P2RState, window: int | None = None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Zeroed KV ring buffers of every block for the rigs of ``state``."""
        B, J, _ = state.rig_token.shape
        W = self.cfg.window if window is None else window
        tok = state.rig_token
        return [blk.temporal.empty_cache(B, J, W, tok.device, tok.dtype) for blk in self.blocks]

    def step(
        self, positions: torch.Tensor, fit: torch.Tensor | None, hints: torch.Tensor | None, state: P2RState,
        caches: list[tuple[torch.Tensor, torch.Tensor]], t: torch.Tensor,
    ) -> torch.Tensor:
        """One causal frame: ``(B, 1, J, 3)`` -> ``(B, 1, J, 6)``; updates ``caches`` in place.

        ``fit``: ``state.fit_plan(positions)``, or None to compute it here; a compiled step needs it
        given (the numpy prior is outside the graph). ``hints``: ``(B, 1, J, 7)`` or None.
        """
        x, fit, hinted = self._embed(positions, state, fit, hints)
        for block, film, cache in zip(self.blocks, state.film, caches):
            x = block.step(x, state.graph, film, cache, t)
        return self._head(x, state, fit, hinted)
