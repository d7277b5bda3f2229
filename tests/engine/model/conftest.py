"""Small random rigs and tiny model configs shared by the model tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine import rotations as rot
from engine.model.config import P2RConfig, V2PConfig
from engine.skeleton import Skeleton

TINY_P2R = P2RConfig(width=16, heads=2, rig_layers=1, layers=3, window=6, ffn_mult=2)
TINY_V2P = V2PConfig(width=16, heads=2, rig_layers=1, layers=3, window=6, ffn_mult=2, token_dim=4, num_token_ids=5)


def random_skeleton(J: int, seed: int) -> Skeleton:
    """A random tree of ``J`` joints with random rest offsets and rest rotations."""
    rng = np.random.default_rng(seed)
    parents = [-1] + [int(rng.integers(0, j)) for j in range(1, J)]
    names = tuple(f"{rng.choice(['Left', 'Right', ''])}{rng.choice(['Arm', 'Leg', 'Tail', 'Spine', 'Wing'])}{j}" for j in range(J))
    rests = rot.axis_angle_to_quat(rng.normal(0, 0.5, (J, 3)))
    return Skeleton(names, np.array(parents), rng.normal(0, 0.2, (J, 3)), rests)


def randomize(model: torch.nn.Module, seed: int = 0, std: float = 0.2) -> torch.nn.Module:
    """Give every parameter random values (the zero-initialised heads would hide bugs)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * std)
    return model.eval()


@pytest.fixture()
def skeletons() -> list[Skeleton]:
    return [random_skeleton(7, 1), random_skeleton(12, 2), random_skeleton(4, 3)]
