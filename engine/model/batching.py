"""Training batches: padded rig tensors, model-space inputs and targets, input noise.

Every sample of a batch may have a different joint count; everything is padded to the largest J
(:func:`engine.model.rig_tensors.collate_rigs`) and ``joint_mask`` says what is real. Positions
are normalised like the runtime does (root-relative, / rig height, world frame).

Noise augmentation (P2R receives V2P output at run time, not clean positions): a sample stays
clean with probability ``clean_fraction``; otherwise a noise level ``s ~ U(0, max_noise)``
(fraction of the rig height) draws i.i.d. per-frame jitter of std ``s`` plus a per-joint constant
offset of std ``s / 2`` (a biased bone length, as a V2P error). Clean samples keep the model
exact where its input is exact (the analytic prior is then right up to twist).

Orientation hints (for a P2R with ``orientation_cue``; :func:`orientation_hints`): a sample gets
hints with probability ``hint_fraction``, on a random share of its joints, each the joint's true
world rotation turned by an error that grows as the hint's weight falls, some arriving only part
way through the window, as the live path's segment orientations do (DESIGN §4).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.model.rig_tensors import RigTensors, build_rig_tensors, collate_rigs, normalize_positions

__all__ = ["Batch", "make_batch", "landmark_tokens", "orientation_hints"]

HINT_BIAS_DEG = (4.0, 20.0)  # a hint's constant error: std at weight 1, and at weight 0
HINT_JITTER_DEG = 2.0  # a hint's per-frame error, std per axis


@dataclass(frozen=True)
class Batch:
    """A padded training batch.

    Attributes:
        rig: the rigs, padded to J.
        positions: ``(B, T, J, 3)`` model-space input positions (noise added when asked).
        clean_positions: ``(B, T, J, 3)`` model-space positions without noise (V2P target).
        rot6d: ``(B, T, J, 6)`` target local rotations, 6D (padding: identity).
        names: where each sample came from.
        hints: ``(B, T, J, 7)`` orientation hints (world 6D, weight; weight 0: none), or None.
    """

    rig: RigTensors
    positions: torch.Tensor
    clean_positions: torch.Tensor
    rot6d: torch.Tensor
    names: tuple[str, ...]
    hints: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Batch:
        hints = None if self.hints is None else self.hints.to(device)
        return Batch(self.rig.to(device), self.positions.to(device), self.clean_positions.to(device), self.rot6d.to(device), self.names, hints)


def orientation_hints(parents: np.ndarray, rotations: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``(T, J, 7)`` noisy orientation hints of one sample's true local rotations ``(T, J, 4)``.

    A random share (15-60 %) of the joints is hinted, each with a weight in [0.3, 1] and its world
    rotation turned by a constant error (std :data:`HINT_BIAS_DEG`, larger at lower weight) and a
    per-frame one; a quarter of the hinted joints start part way through the window.
    """
    T, J = rotations.shape[:2]
    world, _ = forward_kinematics(parents, rot.quat_to_matrix(rotations), np.zeros((J, 3)))  # (T, J, 3, 3)
    out = np.zeros((T, J, 7), np.float32)
    out[..., :6] = np.array([1, 0, 0, 0, 1, 0], np.float32)
    hinted = np.flatnonzero(rng.random(J) < rng.uniform(0.15, 0.6))
    if hinted.size == 0:
        return out
    weight = rng.uniform(0.3, 1.0, hinted.size)
    bias_deg = HINT_BIAS_DEG[0] + (HINT_BIAS_DEG[1] - HINT_BIAS_DEG[0]) * (1.0 - weight)
    axis = rng.normal(size=(hinted.size, 3))
    axis /= np.linalg.norm(axis, axis=-1, keepdims=True)
    bias = rot.axis_angle_to_matrix(axis * np.deg2rad(rng.normal(0.0, bias_deg))[:, None])  # (H, 3, 3)
    jitter = rot.axis_angle_to_matrix(np.deg2rad(rng.normal(0.0, HINT_JITTER_DEG, (T, hinted.size, 3))))
    out[:, hinted, :6] = rot.matrix_to_sixd(jitter @ bias @ world[:, hinted])
    start = np.where(rng.random(hinted.size) < 0.25, rng.integers(0, T, hinted.size), 0)
    out[:, hinted, 6] = np.where(np.arange(T)[:, None] >= start, weight, 0.0)
    return out


def make_batch(samples: list, rng: np.random.Generator | list[np.random.Generator], max_noise: float = 0.0, clean_fraction: float = 0.0,
               hint_fraction: float | None = None) -> Batch:
    """Collate :class:`engine.synthetic.dataset.MotionSample` objects into a :class:`Batch` (noise: module docstring).

    ``hint_fraction``: None makes no hints; else each sample gets hints with this probability
    (:func:`orientation_hints`), the others a tensor that hints nothing.

    ``rng`` is one generator for the whole batch, or one per sample (then each sample's noise
    depends only on its own generator: a batch split over processes draws the same noise).
    """
    rngs = rng if isinstance(rng, list) else [rng] * len(samples)
    rigs = [build_rig_tensors(s.skeleton, s.ref_positions, s.ref_rotations) for s in samples]
    rig = collate_rigs(rigs)
    B, J = rig.batch_size, rig.num_joints
    T = samples[0].positions.shape[0]
    clean = np.zeros((B, T, J, 3), np.float32)
    noisy = np.zeros((B, T, J, 3), np.float32)
    rot6d = np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), (B, T, J, 1))
    hints = None
    if hint_fraction is not None:
        hints = np.zeros((B, T, J, 7), np.float32)
        hints[..., :6] = rot6d[..., :6]
    for b, (s, rng_b) in enumerate(zip(samples, rngs, strict=True)):
        n = s.skeleton.num_joints
        pos = normalize_positions(s.positions, s.skeleton.height)  # (T, n, 3)
        clean[b, :, :n] = pos
        clean_sample = max_noise <= 0 or rng_b.random() < clean_fraction
        level = 0.0 if clean_sample else rng_b.uniform(0.0, max_noise)
        jitter = rng_b.normal(0.0, level, pos.shape) + rng_b.normal(0.0, level / 2, (1, n, 3))
        jitter[:, 0] = 0.0  # the root stays at the origin, as after normalisation
        noisy[b, :, :n] = pos + jitter
        rot6d[b, :, :n] = rot.quat_to_sixd(s.rotations)
        if hints is not None and rng_b.random() < hint_fraction:
            hints[b, :, :n] = orientation_hints(s.skeleton.parents, s.rotations, rng_b)
    names = tuple(s.name for s in samples)
    return Batch(rig, torch.from_numpy(noisy), torch.from_numpy(clean), torch.from_numpy(rot6d), names,
                 None if hints is None else torch.from_numpy(hints))


def landmark_tokens(positions: torch.Tensor, joint_mask: torch.Tensor, num_tokens: int, rng: np.random.Generator, noise: float = 0.02) -> tuple[torch.Tensor, torch.Tensor]:
    """Stand-in perception tokens for V2P training on any rig: noisy joints as landmarks.

    Token ``i`` is joint ``i`` (the first ``num_tokens`` joints) with Gaussian noise of std
    ``noise`` and a random visibility in [0.5, 1]; about 10% of tokens are dropped (masked). This
    trains the lifting/denoising machinery on procedural data; the live performer model is trained
    on simulated MediaPipe landmarks instead.

    Args:
        positions: ``(B, T, J, 3)`` model-space positions.
        joint_mask: ``(B, J)`` bool.
        num_tokens: N.
        rng: randomness.
        noise: position noise std, fraction of rig height.

    Returns:
        ``tokens (B, T, N, 4)`` and ``token_mask (B, T, N)`` bool.
    """
    B, T, J, _ = positions.shape
    n = min(num_tokens, J)
    tokens = torch.zeros(B, T, num_tokens, 4)
    mask = torch.zeros(B, T, num_tokens, dtype=torch.bool)
    gen = torch.Generator().manual_seed(int(rng.integers(2**31)))
    tokens[:, :, :n, :3] = positions[:, :, :n] + noise * torch.randn(B, T, n, 3, generator=gen)
    tokens[:, :, :n, 3] = 0.5 + 0.5 * torch.rand(B, T, n, generator=gen)
    mask[:, :, :n] = joint_mask[:, None, :n] & (torch.rand(B, T, n, generator=gen) > 0.1)
    return tokens, mask
