"""The learned P2R behind the :class:`engine.solvers.base.RotationSolver` interface.

World metres in, local quaternions out: positions are made root-relative (joint 0) and divided by
the rig's rest height before they reach the network, and its 6D output (first two rows of each
local rotation matrix) is turned into unit quaternions x y z w.
"""

from __future__ import annotations

import logging
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from engine import rotations as rot
from engine.model.p2r import P2RModel
from engine.model.rig_tensors import RigTensors, build_rig_tensors, normalize_positions
from engine.model.session import P2RSession, resolve_device
from engine.model.weights import DEFAULT_WEIGHTS_DIR, load_weights
from engine.skeleton import Skeleton

__all__ = ["P2RSolver", "DEFAULT_P2R_WEIGHTS"]

logger = logging.getLogger(__name__)

DEFAULT_P2R_WEIGHTS = DEFAULT_WEIGHTS_DIR / "p2r"


class P2RSolver:
    """Causal learned Pose-to-Rotation solver for any rig.

    Args:
        model: a trained :class:`P2RModel`.
        device: ``"auto"``, ``"cpu"``, ``"cuda"``.
        backend: streaming backend of :meth:`step` (see :mod:`engine.model.session`).
        window: attended frames W (default the model's).
    """

    name = "p2r"

    def __init__(self, model: P2RModel, *, device: str | torch.device = "cpu", backend: str = "eager", window: int | None = None) -> None:
        self.model = model.eval()
        self.device = resolve_device(device)
        self.backend = backend
        self.window = window
        self._skeleton: Skeleton | None = None
        self._rig: RigTensors | None = None
        self._session: P2RSession | None = None
        self._height = 1.0

    @classmethod
    def from_weights(cls, path: str | Path | None = None, **kwargs: object) -> P2RSolver:
        """Load weights (default: the shipped ``resources/weights/p2r``); kwargs go to ``__init__``."""
        model = load_weights(DEFAULT_P2R_WEIGHTS if path is None else path)
        if not isinstance(model, P2RModel):
            raise TypeError(f"{path} holds V2P weights, not P2R")
        return cls(model, **kwargs)  # type: ignore[arg-type]

    def reset(self, skeleton: Skeleton, ref_positions: np.ndarray, ref_rotations: np.ndarray) -> None:
        """Bind to ``skeleton`` with its reference pose-rotation pair (world metres, local x y z w)."""
        rig = build_rig_tensors(skeleton, ref_positions, ref_rotations)
        if self._session is not None and skeleton is self._skeleton and _same_rig(rig, self._rig):
            self._session.reset()  # same rig and reference: keep the per-rig state and any compiled step
            return
        self._skeleton, self._rig = skeleton, rig
        self._height = skeleton.height  # a forward-kinematics pass: once per rig, not per frame
        self._session = P2RSession(self.model, rig, window=self.window, device=self.device, backend=self.backend)

    @property
    def takes_hints(self) -> bool:
        """Whether the model reads orientation hints (trained with ``orientation_cue``)."""
        return bool(self.model.cfg.orientation_cue)

    @property
    def active_backend(self) -> str:
        """The backend running now (a ``"background"`` session turns ``"compile"`` once compiled)."""
        return self._session.backend if self._session is not None else self.backend

    def _require(self) -> tuple[Skeleton, P2RSession]:
        if self._skeleton is None or self._session is None:
            raise RuntimeError("P2RSolver.reset(skeleton, ref_positions, ref_rotations) must be called first")
        return self._skeleton, self._session

    def step(self, positions: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        """One frame ``(J, 3)`` world metres (and optional ``(J, 7)`` orientation hints, world frame:
        model space only moves and scales, so they pass unchanged) -> ``(J, 4)`` local x y z w."""
        skeleton, session = self._require()
        pos = normalize_positions(_check(positions, skeleton, 2), self._height)
        if hints is not None:
            hints = _check_hints(hints, skeleton)
        d6 = session.step(pos.astype(np.float32), hints).cpu().numpy()
        return rot.sixd_to_quat(d6.astype(np.float64))

    def solve(self, positions: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        """A clip ``(T, J, 3)`` world metres (and optional ``(T, J, 7)`` hints) -> ``(T, J, 4)``, by one full causal forward.

        Equal (to float rounding) to calling :meth:`step` on every frame after a fresh reset; it
        does not touch the streaming state.
        """
        skeleton, session = self._require()
        assert self._rig is not None
        pos = normalize_positions(_check(positions, skeleton, 3), skeleton.height)
        with torch.no_grad():
            x = torch.as_tensor(pos, dtype=torch.float32, device=self.device)[None]  # (1, T, J, 3)
            cue = None if hints is None else torch.as_tensor(_check_hints(hints, skeleton), dtype=torch.float32, device=self.device)[None]
            d6 = self.model(x, session.state, session.window, cue)[0].cpu().numpy()  # (T, J, 6)
        return rot.sixd_to_quat(d6.astype(np.float64))


def _same_rig(a: RigTensors, b: RigTensors | None) -> bool:
    """Whether two rig tensor sets are equal field by field."""
    return b is not None and all(torch.equal(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))


def _check_hints(hints: np.ndarray, skeleton: Skeleton) -> np.ndarray:
    hints = np.asarray(hints, dtype=np.float32)
    if hints.shape[-2:] != (skeleton.num_joints, 7):
        raise ValueError(f"hints must be (..., {skeleton.num_joints}, 7), got {hints.shape}")
    if not np.isfinite(hints).all():
        raise ValueError("hints contain non-finite values")
    return hints


def _check(positions: np.ndarray, skeleton: Skeleton, ndim: int) -> np.ndarray:
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != ndim or positions.shape[-2:] != (skeleton.num_joints, 3):
        want = "(J, 3)" if ndim == 2 else "(T, J, 3)"
        raise ValueError(f"positions must be {want} with J={skeleton.num_joints}, got {positions.shape}")
    if not np.isfinite(positions).all():
        raise ValueError("positions contain non-finite values")
    return positions
