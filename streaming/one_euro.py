"""One Euro filter (Casiez, Roussel, Vogel, CHI 2012) for vectors and for rotations.

The filter is an exponential low-pass whose cutoff rises with the signal's speed: quiet when still
(``min_cutoff``), responsive when moving fast (``beta``). Per step, with ``dt`` seconds since the
previous sample (the paper's algorithm)::

    alpha(fc) = 1 / (1 + tau / dt),  tau = 1 / (2 pi fc)
    dx_hat    = lerp(dx_hat_prev, (x - x_prev) / dt, alpha(d_cutoff))   # smoothed velocity
    fc        = min_cutoff + beta * |dx_hat|
    x_hat     = lerp(x_hat_prev, x, alpha(fc))

For a constant velocity ``v`` the steady-state lag is ``tau`` seconds, i.e. ``v / (2 pi fc)`` in
signal units, which tends to ``1 / (2 pi beta)`` for fast motion. The velocity is taken between
consecutive raw samples, as in the authors' reference code, so ``beta`` scales the signal's true
speed (using the previous *estimate* instead would add the lag to the speed and weaken smoothing).

Rotations are filtered on the quaternion manifold, never on Euler angles (VMC.md §4): the
difference to the previous estimate is the log map ``log(q_hat_prev^-1 q)`` (a rotation vector,
radians), the velocity is ``log(q_prev^-1 q) / dt`` (rad/s), and ``lerp`` becomes the geodesic step
``q_hat_prev * exp(alpha * log(q_hat_prev^-1 q))`` (= slerp). ``q`` and ``-q`` are the same
rotation: the input is flipped into the previous estimate's hemisphere first, and the output is a
continuous quaternion path (consecutive outputs have a positive dot product), whatever sign the
input arrives with.

Everything is vectorised over joints: one filter instance handles a whole ``(J, 4)`` pose.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import rotations as rot
from streaming.frames import PoseResult

__all__ = ["OneEuroConfig", "VectorOneEuro", "QuaternionOneEuro", "PoseFilterConfig", "PoseFilter"]


@dataclass(frozen=True)
class OneEuroConfig:
    """Parameters of one One Euro filter.

    Tuning (Casiez et al.): set ``beta = 0``, lower ``min_cutoff`` until a still pose is quiet, then
    raise ``beta`` until fast motion stops lagging.

    Attributes:
        min_cutoff: Hz, cutoff at rest; lower = less jitter, more lag at low speed.
        beta: Hz per (signal unit / s), how fast the cutoff rises with speed. For rotations the
            unit is radians: ``beta = 2`` adds 2 Hz per rad/s (57 deg/s).
        d_cutoff: Hz, cutoff of the speed estimate (the paper uses 1 Hz).
    """

    min_cutoff: float = 1.0  # 1 Hz: at 30 fps a still pose's jitter drops ~2.7x (tests/streaming/test_one_euro.py)
    beta: float = 2.0  # rotations at 3 rad/s: cutoff 7 Hz, lag 23 ms (3.9 deg); never more than 1/(2 pi beta) = 4.6 deg
    d_cutoff: float = 1.0  # paper's value

    def __post_init__(self) -> None:
        if not (self.min_cutoff > 0 and self.d_cutoff > 0 and self.beta >= 0):
            raise ValueError(f"One Euro needs min_cutoff > 0, d_cutoff > 0, beta >= 0; got {self}")


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray:
    """Smoothing factor of an exponential low-pass with ``cutoff`` Hz at step ``dt`` s."""
    tau = 1.0 / (2.0 * np.pi * np.asarray(cutoff, dtype=np.float64))
    return 1.0 / (1.0 + tau / dt)


class VectorOneEuro:
    """One Euro filter on ``(..., D)`` vectors; the speed is the norm over the last axis.

    Call it with each new sample and its timestamp; the first call returns the sample unchanged.
    A sample whose timestamp is not later than the previous one returns the previous estimate.
    """

    def __init__(self, config: OneEuroConfig = OneEuroConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Forget the history; the next sample passes through unchanged."""
        self._x: np.ndarray | None = None  # previous estimate
        self._raw: np.ndarray | None = None  # previous sample
        self._dx: np.ndarray | None = None  # smoothed velocity, units/s
        self._t: float | None = None

    def __call__(self, x: np.ndarray, t: float) -> np.ndarray:
        """Filter one sample.

        Args:
            x: ``(..., D)`` sample; the shape must stay the same between calls.
            t: timestamp in seconds (any origin, increasing).

        Returns:
            ``(..., D)`` float64 filtered sample.
        """
        x = np.asarray(x, dtype=np.float64)
        if self._x is None or self._raw is None or self._t is None:
            self._x, self._raw, self._dx, self._t = x.copy(), x.copy(), np.zeros_like(x), float(t)
            return x.copy()
        if x.shape != self._x.shape:
            raise ValueError(f"sample shape changed from {self._x.shape} to {x.shape}; call reset() first")
        dt = float(t) - self._t
        if dt <= 0:
            return self._x.copy()
        c = self.config
        speed = (x - self._raw) / dt
        self._raw = x.copy()
        self._dx = self._dx + _alpha(c.d_cutoff, dt) * (speed - self._dx)  # (..., D) units/s
        cutoff = c.min_cutoff + c.beta * np.linalg.norm(self._dx, axis=-1, keepdims=True)
        self._x = self._x + _alpha(cutoff, dt) * (x - self._x)
        self._t = float(t)
        return self._x.copy()


def _quat_exp(v: np.ndarray) -> np.ndarray:
    """Unit quaternions ``(..., 4)`` of rotation vectors ``(..., 3)`` (radians), ``w >= 0`` for
    angles up to pi. Same result as :func:`engine.rotations.axis_angle_to_quat`, without its
    re-normalisation (this runs on every joint of every frame)."""
    angle = np.linalg.norm(v, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(half) / angle, with its Taylor expansion near zero.
    k = np.where(angle > 1e-8, np.sin(half) / np.maximum(angle, 1e-8), 0.5 - angle**2 / 48.0)
    return np.concatenate([v * k, np.cos(half)], axis=-1)


def _quat_log(q: np.ndarray) -> np.ndarray:
    """Rotation vectors ``(..., 3)`` of unit quaternions along the shorter arc (angle in
    ``[0, pi]``): ``q`` is flipped to ``w >= 0`` first, so ``q`` and ``-q`` give the same vector."""
    sign = np.where(q[..., 3:4] < 0, -1.0, 1.0)
    xyz, w = q[..., :3] * sign, q[..., 3:4] * sign
    s = np.linalg.norm(xyz, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(s, w)
    k = np.where(s > 1e-8, angle / np.maximum(s, 1e-8), 2.0 + s**2 / 3.0)
    return xyz * k


class QuaternionOneEuro:
    """One Euro filter on ``(J, 4)`` x y z w unit quaternions, per joint, on the rotation manifold.

    The speed of a joint is its angular speed in rad/s. Output quaternions form a continuous path:
    each output is within 90 degrees (in quaternion space) of the previous one, so a sign flip of the
    input (``q`` -> ``-q``) never shows up in the output.
    """

    def __init__(self, config: OneEuroConfig = OneEuroConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Forget the history; the next sample passes through (normalised) unchanged."""
        self._q: np.ndarray | None = None  # previous estimate
        self._raw: np.ndarray | None = None  # previous sample
        self._dx: np.ndarray | None = None  # smoothed angular velocity, rad/s, (..., 3)
        self._t: float | None = None

    def __call__(self, q: np.ndarray, t: float) -> np.ndarray:
        """Filter one pose.

        Args:
            q: ``(..., 4)`` x y z w rotations (normalised here); the shape must stay the same.
            t: timestamp in seconds (any origin, increasing).

        Returns:
            ``(..., 4)`` float64 unit quaternions, sign continuous with the previous output.
        """
        q = np.asarray(q, dtype=np.float64)
        q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-12)
        if self._q is None or self._raw is None or self._t is None:
            self._q, self._raw, self._dx, self._t = q.copy(), q.copy(), np.zeros(q.shape[:-1] + (3,)), float(t)
            return q.copy()
        if q.shape != self._q.shape:
            raise ValueError(f"pose shape changed from {self._q.shape} to {q.shape}; call reset() first")
        dt = float(t) - self._t
        if dt <= 0:
            return self._q.copy()
        c = self.config
        # Logs of relative rotations; quat_to_axis_angle takes the shorter arc, which is what
        # flipping q into the other quaternion's hemisphere means.
        moved = _quat_log(rot.quat_multiply(rot.quat_conjugate(self._raw), q))  # (..., 3) rad since the last sample
        delta = _quat_log(rot.quat_multiply(rot.quat_conjugate(self._q), q))  # (..., 3) rad still to go
        self._raw = q.copy()
        self._dx = self._dx + _alpha(c.d_cutoff, dt) * (moved / dt - self._dx)  # (..., 3) rad/s
        cutoff = c.min_cutoff + c.beta * np.linalg.norm(self._dx, axis=-1, keepdims=True)
        step = _quat_exp(_alpha(cutoff, dt) * delta)  # w >= 0: a step of less than 180 degrees
        new = rot.quat_multiply(self._q, step)
        self._q = new / np.linalg.norm(new, axis=-1, keepdims=True)
        self._t = float(t)
        return self._q.copy()


@dataclass(frozen=True)
class PoseFilterConfig:
    """One Euro settings for a whole pose.

    Attributes:
        rotation: filter on joint rotations (signal unit: radians).
        translation: filter on the root translation and the joint positions (unit: metres).
        enabled: ``False`` passes poses through unchanged (still stamped with the ``"filter"`` stage).
    """

    rotation: OneEuroConfig = field(default_factory=OneEuroConfig)
    translation: OneEuroConfig = field(default_factory=lambda: OneEuroConfig(min_cutoff=1.0, beta=10.0))  # 1 m/s: 11 Hz, 14 mm lag
    enabled: bool = True


class PoseFilter:
    """Filters :class:`PoseResult` streams: rotations on the manifold, translations as vectors.

    Timestamps are the results' capture times, so dropped frames give the right ``dt``. Joint
    positions are filtered as vectors here (the filter knows no skeleton); the live processor
    replaces them with the forward kinematics of the filtered rotations. The filtered result is
    stamped with a ``"filter"`` stage.
    """

    def __init__(self, config: PoseFilterConfig = PoseFilterConfig()) -> None:
        self.config = config
        self._rotations = QuaternionOneEuro(config.rotation)
        self._root = VectorOneEuro(config.translation)
        self._positions = VectorOneEuro(config.translation)
        self._joints: int | None = None

    def reset(self) -> None:
        """Forget the history (e.g. after the rig changed or tracking was lost)."""
        self._rotations.reset()
        self._root.reset()
        self._positions.reset()
        self._joints = None

    def __call__(self, result: PoseResult) -> PoseResult:
        """The filtered result (same index and capture time, plus a ``"filter"`` stage)."""
        if not self.config.enabled:
            return result.with_stage("filter")
        if self._joints is not None and self._joints != result.num_joints:
            self.reset()
        self._joints = result.num_joints
        t = result.t_capture_ns * 1e-9
        filtered = result.with_pose(
            self._rotations(result.rotations, t),
            self._root(result.root_translation, t),
            self._positions(result.positions, t),
        )
        return filtered.with_stage("filter")
