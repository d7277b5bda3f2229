"""The causal landmark V2P: a window of MediaPipe landmarks -> the canonical performer's joints.

Front end 1 of DESIGN §1: the V2P network (:class:`engine.model.v2p.V2PModel`) bound to the
performer skeleton (:func:`engine.performer.performer_skeleton`, rest T-pose as the reference
pose) reads one frame of 33 landmark tokens per step and, attending to its last W frames (KV
cache), returns the performer's root-relative joint positions with MediaPipe's depth noise, jitter,
hip-width bias and short occlusions corrected. It replaces
:class:`streaming.processor.GeometricPerformer` when its weights exist.

Tokens (``token_dim`` = 4 per landmark, the default :class:`engine.model.config.V2PConfig`):
``x, y, z`` = MediaPipe world landmarks in the internal frame (X image right, Y up, Z toward the
camera; hip-centred, metres) divided by :data:`PERFORMER_SCALE`, and the landmark's visibility.
A frame without a person masks all 33 tokens (the model then leans on its history).

Outputs: model space = root-relative (pelvis) positions divided by :data:`PERFORMER_SCALE`, in the
same camera-aligned internal frame as the input; :class:`V2PPerformer` returns metres. The network
is trained as a **residual on the geometric mapping**: performer = geometric(landmarks) +
(V2P output - reference pose). The head starts at zero (:class:`V2PModel`), so an untrained model
*is* the geometric mapping, and a short CPU training only has to learn the corrections. Lost
frames reach it held (:class:`engine.perception.hold.LandmarkHold`), as in the live processor.
No root motion: MediaPipe world landmarks are hip-centred, so the root stays at the origin, as with
the geometric mapping.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch

from engine.model.rig_tensors import RigTensors, build_rig_tensors
from engine.model.session import V2PSession
from engine.model.v2p import V2PModel
from engine.model.weights import DEFAULT_WEIGHTS_DIR, load_weights
from engine.perception.landmarks import NUM_LANDMARKS, LandmarkFrame, world_to_internal
from engine.performer import NUM_PERFORMER_JOINTS, performer_positions_from_landmarks, performer_skeleton

__all__ = [
    "DEFAULT_V2P_LANDMARK_WEIGHTS",
    "PERFORMER_SCALE",
    "TOKEN_DIM",
    "V2PPerformer",
    "landmark_tokens_from_arrays",
    "landmark_tokens_from_frame",
    "performer_rig_tensors",
]

logger = logging.getLogger(__name__)

DEFAULT_V2P_LANDMARK_WEIGHTS = DEFAULT_WEIGHTS_DIR / "v2p_landmarks"
TOKEN_DIM = 4  # x, y, z (internal frame / scale), visibility
PERFORMER_SCALE = float(performer_skeleton().height)  # 1.62 m: the rest T-pose extent (arm span)


def performer_rig_tensors() -> RigTensors:
    """Rig tensors of the performer skeleton (batch of one; reference pose = the rest T-pose)."""
    return build_rig_tensors(performer_skeleton())


def landmark_tokens_from_arrays(world_internal: np.ndarray, visibility: np.ndarray, found: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """V2P tokens of landmark frames.

    Args:
        world_internal: ``(..., 33, 3)`` world landmarks in the internal frame, metres.
        visibility: ``(..., 33)`` in ``[0, 1]``.
        found: ``(...)`` bool, False where no person was detected.

    Returns:
        ``tokens (..., 33, 4)`` float32 and ``mask (..., 33)`` bool (False on frames without a person;
        the tokens are zeros there).
    """
    world = np.asarray(world_internal, dtype=np.float64)
    found = np.asarray(found, dtype=bool)
    tokens = np.zeros(world.shape[:-1] + (TOKEN_DIM,), np.float32)
    tokens[..., :3] = world / PERFORMER_SCALE
    tokens[..., 3] = np.asarray(visibility, dtype=np.float64)
    tokens *= found[..., None, None]
    mask = np.broadcast_to(found[..., None], world.shape[:-1]).copy()
    return tokens, mask


def landmark_tokens_from_frame(frame: LandmarkFrame) -> tuple[np.ndarray, np.ndarray]:
    """``tokens (33, 4)`` and ``mask (33,)`` of one :class:`LandmarkFrame`."""
    return landmark_tokens_from_arrays(world_to_internal(frame.world), frame.visibility, np.array(frame.person_found))


class V2PPerformer:
    """Causal V2P as a performer estimator (the ``PerformerEstimator`` protocol of ``streaming.processor``).

    Args:
        model: a :class:`V2PModel` with ``token_dim`` 4 and 33 token ids, trained for the performer.
        device: ``"cpu"``, ``"cuda"``, ``"auto"``.
        backend: session backend (:data:`engine.model.session.BACKENDS`); eager by default because
            a compile on first use stalls the first frame.
    """

    name = "v2p"

    def __init__(self, model: V2PModel, *, device: str | torch.device = "cpu", backend: str = "eager") -> None:
        if model.cfg.token_dim != TOKEN_DIM or model.cfg.num_token_ids < NUM_LANDMARKS:
            raise ValueError(f"landmark V2P needs token_dim={TOKEN_DIM} and >= {NUM_LANDMARKS} token ids, got {model.cfg}")
        self.session = V2PSession(model, performer_rig_tensors(), device=device, backend=backend)

    @classmethod
    def from_weights(cls, path: str | Path | None = None, *, device: str | torch.device = "cpu", backend: str = "eager") -> V2PPerformer:
        """Load weights (default :data:`DEFAULT_V2P_LANDMARK_WEIGHTS`); raises ``WeightsError`` when missing."""
        model = load_weights(path or DEFAULT_V2P_LANDMARK_WEIGHTS)
        if not isinstance(model, V2PModel):
            raise ValueError(f"{path}: not V2P weights")
        return cls(model, device=device, backend=backend)

    @property
    def backend(self) -> str:
        """The backend running now (a ``"background"`` session turns ``"compile"`` once compiled)."""
        return self.session.backend

    active_backend = backend

    def reset(self) -> None:
        """Forget the history (new performer or a cut)."""
        self.session.reset()

    def step(self, landmarks: LandmarkFrame) -> np.ndarray:
        """``(28, 3)`` float64 performer positions, metres, internal camera-aligned frame, pelvis at the origin."""
        tokens, mask = landmark_tokens_from_frame(landmarks)
        out = self.session.step(tokens, mask)  # (28, 3) model space
        correction = (out - self.session.state.ref_pos[0]).detach().cpu().numpy().astype(np.float64) * PERFORMER_SCALE
        base = performer_positions_from_landmarks(landmarks)  # zeros when nobody is found
        return (base + correction).reshape(NUM_PERFORMER_JOINTS, 3)
