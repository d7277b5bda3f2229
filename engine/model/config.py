"""Frozen configurations of the learned networks, with a JSON round trip.

The JSON written by :func:`config_to_json` is stored beside each ``.safetensors`` weights file
(DESIGN §4), so a weights file always comes with the exact sizes that built it.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

from engine.model.names import NAME_FEATURES
from engine.skeleton import MAX_HOP, EdgeType

__all__ = ["P2RConfig", "V2PConfig", "config_to_json", "config_from_json"]

NUM_EDGE_TYPES = len(EdgeType)  # self / parent / child / sibling / other


@dataclass(frozen=True)
class P2RConfig:
    """Sizes of the Pose-to-Rotation network (see :mod:`engine.model.p2r`).

    Defaults are sized for the CPU budget of DESIGN §6 (V2P + P2R step <= 5 ms at J <= 100 on
    two cores): two frame blocks (one local, one global GL-GMHA), as the shipped weights; four
    did not fit at J = 100, and the two-block model validated better after the same CPU training.
    The reference model is 4x wider and has 12 frame layers (REFERENCE.md §4).
    """

    width: int = 64  # channels C per joint token
    heads: int = 4  # attention heads; head dim D = width / heads
    rig_layers: int = 2  # graph blocks of the per-rig encoder (run once per rig)
    layers: int = 2  # frame blocks: temporal attention + GL-GMHA + FFN each
    window: int = 32  # W: each frame attends to itself and the W-1 frames before it
    ffn_mult: int = 2  # FFN hidden size = ffn_mult * width
    name_features: int = NAME_FEATURES  # length of the joint-name feature vector
    max_hop: int = MAX_HOP  # hop distances are clipped here; the bias table has max_hop + 1 rows
    num_edge_types: int = NUM_EDGE_TYPES
    # True: the head predicts a *world-frame* rotation Delta_j relative to the joint's reference
    # world rotation, W_j = Delta_j @ W_ref_j, and local rotations follow analytically,
    # R_j = W_parent^T @ W_j (see p2r.py). False: the head predicts the local 6D directly.
    predict_world_delta: bool = True
    # True: the world delta is a learned correction composed with the analytic child-fit rotation
    # (engine.model.fit_rotation), so the untrained network is swing-only IK.
    use_fit_prior: bool = True
    # True: each joint also sees its grandchild bone (child -> grandchild) turned back by the
    # analytic fit, beside the same bone in the reference: the cue for twist along a chain whose
    # middle joint bends like a hinge (an elbow shows the upper arm's twist).
    grandchild_cue: bool = False
    # True: each joint also takes an orientation hint, a world rotation with a weight (p2r.py's
    # hint_features): the performer's segment orientations of the live path (head facing,
    # limb twists) for the joints the rig's orientation links drive.
    orientation_cue: bool = False

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")


@dataclass(frozen=True)
class V2PConfig:
    """Sizes of the Video-to-Pose network (see :mod:`engine.model.v2p`).

    Perception enters through a generic token interface: per frame ``N`` tokens of ``token_dim``
    features plus a token mask. Landmarks: N = 33 tokens of (x, y, z, visibility), each with a
    learned id embedding (``num_token_ids`` = 33). DINOv2 patches would be token_dim = 1024.

    Two frame blocks (one local, one global GL-GMHA), as the shipped landmark V2P: with P2R this
    fits the CPU step budget of DESIGN §6 at J = 100 (compiled); four blocks do not.
    """

    width: int = 64
    heads: int = 4
    rig_layers: int = 2  # graph blocks of the per-rig query encoder (run once per rig)
    layers: int = 2  # frame blocks: cross-attention to tokens + temporal + GL-GMHA + FFN
    window: int = 32
    ffn_mult: int = 2
    token_dim: int = 4  # features per perception token (landmarks: x, y, z, visibility)
    num_token_ids: int = 33  # learned id embeddings; 0 disables them (tokens carry their own position)
    name_features: int = NAME_FEATURES
    max_hop: int = MAX_HOP
    num_edge_types: int = NUM_EDGE_TYPES

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.window < 1:
            raise ValueError(f"window must be >= 1, got {self.window}")


_KINDS = {"p2r": P2RConfig, "v2p": V2PConfig}


def config_to_json(config: P2RConfig | V2PConfig) -> str:
    """JSON text ``{"kind": "p2r"|"v2p", "config": {...}}``."""
    kind = "p2r" if isinstance(config, P2RConfig) else "v2p"
    return json.dumps({"kind": kind, "config": asdict(config)}, indent=2, sort_keys=True)


def config_from_json(text: str | dict[str, Any]) -> P2RConfig | V2PConfig:
    """Inverse of :func:`config_to_json`; unknown keys raise ``ValueError`` (no silent drops)."""
    data = json.loads(text) if isinstance(text, str) else dict(text)
    kind = data.get("kind")
    if kind not in _KINDS:
        raise ValueError(f"config kind must be one of {sorted(_KINDS)}, got {kind!r}")
    cls = _KINDS[kind]
    values = data.get("config", {})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ValueError(f"unknown {kind} config keys: {unknown}")
    return cls(**values)
