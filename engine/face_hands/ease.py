"""Hold a face or hand signal between observations and ease it to rest when it is lost.

A signal is an array (the 52 blendshapes, a hand's curl and spread). Each frame one of three things
happens:

- **observed**: the value jumps to the new observation (with ``follow_ms``: it follows it, easing
  toward it with that time constant, frame by frame, so observations a few frames apart give a
  smooth curve instead of steps);
- **not looked at** (the landmarker was scheduled off this frame): the last value is held (or goes
  on following the last observation), so a schedule such as "face every 2nd frame" does not
  flicker;
- **lost** (looked at, not found: the face turned away, a hand over it, a hand out of frame): the
  value eases exponentially toward rest with time constant ``tau_ms``, so a lost face does not stay
  frozen mid-blink and lost fingers relax instead of snapping.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["EaseToRest", "EASE_TAU_MS"]

EASE_TAU_MS = 200.0  # 63% of the way to rest after 200 ms, 99% after ~1 s


class EaseToRest:
    """One signal's value with hold-and-ease (see the module docstring).

    Args:
        rest: the value at rest (copied).
        tau_ms: time constant of the ease toward rest after a loss.
        follow_ms: time constant with which the value follows the observations (0: it jumps).
    """

    def __init__(self, rest: np.ndarray, tau_ms: float = EASE_TAU_MS, follow_ms: float = 0.0) -> None:
        if tau_ms <= 0 or follow_ms < 0:
            raise ValueError(f"tau_ms must be > 0 and follow_ms >= 0, got {tau_ms}, {follow_ms}")
        self.rest = np.array(rest, dtype=np.float64)
        self.tau_ms = float(tau_ms)
        self.follow_ms = float(follow_ms)
        self._target = self.rest.copy()  # the last observation
        self.value = self.rest.copy()
        self.found = False  # the last observation found the signal
        self._t_ms: float | None = None

    def reset(self) -> None:
        self.value = self.rest.copy()
        self._target = self.rest.copy()
        self.found = False
        self._t_ms = None

    def update(self, t_ms: float, observation: np.ndarray | None, looked: bool) -> np.ndarray:
        """The value at ``t_ms``.

        Args:
            t_ms: frame time, milliseconds (non-decreasing).
            observation: the new value when found, else None.
            looked: whether the landmarker ran this frame (False = scheduled off: hold).
        """
        dt = 0.0 if self._t_ms is None else max(float(t_ms) - self._t_ms, 0.0)
        self._t_ms = float(t_ms)
        if observation is not None:
            self._target = np.array(observation, dtype=np.float64)
            self.found = True
        elif looked:
            self.found = False
        if self.found:
            keep = math.exp(-dt / self.follow_ms) if self.follow_ms > 0 else 0.0
            self.value = self._target + (self.value - self._target) * keep
        else:
            self.value = self.rest + (self.value - self.rest) * math.exp(-dt / self.tau_ms)
        return self.value
