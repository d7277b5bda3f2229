"""No flips: keeps each joint's rotation continuous on the quaternion manifold, at a bounded speed.

Between two frames a driven joint may turn by at most ``max_speed_deg_s`` times the time between
them (1500 deg/s: 50 deg per frame at 30 fps, above what a person's head or wrist does, far below
the 90-180 deg flips a degenerate direction or a swapped landmark gives); a larger step is cut to
that bound along the shortest arc (slerp), so a flip becomes a fast but continuous turn that the
next frames complete or undo. Each output quaternion takes the sign nearest the previous one, so
filters that average quaternions (One Euro) never see a sign jump.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import rotations as rot

__all__ = ["ContinuityConfig", "RotationContinuity"]


@dataclass(frozen=True)
class ContinuityConfig:
    """Attributes:
    max_speed_deg_s: the fastest a joint's local rotation may turn, degrees per second.
    max_gap_s: a gap longer than this (performer lost) starts afresh instead of limiting.
    """

    max_speed_deg_s: float = 1500.0
    max_gap_s: float = 0.5


class RotationContinuity:
    """Per-joint hemisphere alignment and angular speed limit, frame by frame (causal)."""

    def __init__(self, config: ContinuityConfig = ContinuityConfig()) -> None:
        if config.max_speed_deg_s <= 0:
            raise ValueError(f"max_speed_deg_s must be > 0, got {config.max_speed_deg_s}")
        self.config = config
        self._last: np.ndarray | None = None
        self._last_ns = 0
        self.limited = 0  # joint-frames cut to the speed limit, for the run statistics

    def reset(self) -> None:
        """Forget the previous frame."""
        self._last = None

    def __call__(self, rotations: np.ndarray, t_ns: int) -> np.ndarray:
        """``(J, 4)`` rotations made continuous with the previous call's (``t_ns``: capture time)."""
        q = rot.quat_normalize(np.asarray(rotations, dtype=np.float64))
        last = self._last
        dt = (t_ns - self._last_ns) * 1e-9
        if last is None or last.shape != q.shape or not 0.0 < dt <= self.config.max_gap_s:
            out = q
        else:
            dot = np.sum(q * last, axis=-1)
            q = np.where(dot[:, None] < 0.0, -q, q)
            angle = 2.0 * np.arccos(np.clip(np.abs(dot), 0.0, 1.0))
            limit = np.radians(self.config.max_speed_deg_s) * dt
            over = angle > limit
            out = q
            if np.any(over):
                self.limited += int(over.sum())
                out = q.copy()
                out[over] = rot.slerp(last[over], q[over], limit / angle[over])
        self._last, self._last_ns = out, t_ns
        return out
