"""Live plots: frame rate, per-stage and end-to-end latency, and a selected joint's rotation curves."""

from __future__ import annotations

from collections import deque

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from engine import rotations as rot

__all__ = ["PlotsPanel"]

HISTORY = 300  # samples kept per curve (10 s at 30 fps)
STAGE_COLORS = ("#ff6060", "#60ff60", "#6090ff", "#ffd040", "#d070ff", "#40e0e0", "#ffffff", "#ff9040")


class PlotsPanel(QtWidgets.QWidget):
    """Three stacked plots fed by :meth:`add_sample`; the rotation plot follows ``selected_joint``."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.fps_plot = pg.PlotWidget(title="frames per second")
        self.latency_plot = pg.PlotWidget(title="latency (ms)")
        # 8 series: 3 columns fit the plot's usual width (4 clipped the last column).
        self.latency_plot.addLegend(offset=(5, 2), colCount=3, labelTextSize="7pt", brush=(0, 0, 0, 140))
        joint_row = QtWidgets.QHBoxLayout()
        joint_row.addWidget(QtWidgets.QLabel("joint:"))
        self.joint_combo = QtWidgets.QComboBox()
        joint_row.addWidget(self.joint_combo, 1)
        self.rotation_plot = pg.PlotWidget(title="local rotation (Euler XYZ, degrees)")
        self.rotation_plot.addLegend(offset=(5, 2), colCount=3, labelTextSize="7pt", brush=(0, 0, 0, 140))
        for w in (self.fps_plot, self.latency_plot, self.rotation_plot):
            w.setMinimumHeight(90)
            w.showGrid(x=False, y=True, alpha=0.3)
            # Fixed axes: pyqtgraph re-lays its axes whenever a range changes, which costs more than
            # the curves; x is the last HISTORY samples, y moves only through _fit_y's hysteresis.
            w.setXRange(0, HISTORY, padding=0)
            w.disableAutoRange()
            w.setMouseEnabled(x=False, y=False)
            w.hideButtons()
        layout.addWidget(self.fps_plot)
        layout.addWidget(self.latency_plot)
        layout.addLayout(joint_row)
        layout.addWidget(self.rotation_plot)
        self._fps = deque(maxlen=HISTORY)
        self._fps_curve = self.fps_plot.plot(pen=pg.mkPen("#ffffff", width=2))
        self._latency: dict[str, deque] = {}
        self._latency_curves: dict[str, pg.PlotDataItem] = {}
        self._rotation = deque(maxlen=HISTORY)
        self._rotation_curves = [
            self.rotation_plot.plot(pen=pg.mkPen(c, width=2), name=n) for c, n in zip(("#ff5050", "#50ff50", "#5080ff"), "XYZ")
        ]
        self.joint_combo.currentIndexChanged.connect(self._on_joint_changed)

    @property
    def selected_joint(self) -> int:
        return max(self.joint_combo.currentIndex(), 0)

    def set_joint_names(self, names: tuple[str, ...] | list[str]) -> None:
        """Offer the rig's joints for the rotation plot (resets its history)."""
        self.joint_combo.blockSignals(True)
        self.joint_combo.clear()
        self.joint_combo.addItems(list(names))
        self.joint_combo.setCurrentIndex(_default_joint(list(names)))
        self.joint_combo.blockSignals(False)
        self._rotation.clear()

    def add_sample(self, fps: float, latencies_ms: dict[str, float], local_rotations: np.ndarray | None) -> None:
        """Append one sample: fps, named latencies (e.g. ``{"perception": 12.0, "end_to_end": 30.0}``) and ``(J, 4)`` rotations."""
        self._fps.append(fps)
        for name, value in latencies_ms.items():
            if name not in self._latency:
                self._latency[name] = deque(maxlen=HISTORY)
                color = STAGE_COLORS[len(self._latency_curves) % len(STAGE_COLORS)]
                self._latency_curves[name] = self.latency_plot.plot(pen=pg.mkPen(color, width=2), name=name)
            self._latency[name].append(value)
        if local_rotations is not None and len(local_rotations) > self.selected_joint:
            self._rotation.append(rot.quat_to_euler(local_rotations[self.selected_joint], "XYZ", degrees=True))

    def refresh(self) -> None:
        """Redraw the curves (call at a modest rate, e.g. 10 Hz, from a Qt timer)."""
        fps = np.asarray(self._fps, dtype=float)
        self._fps_curve.setData(fps)
        _fit_y(self.fps_plot, fps, floor=0.0)
        latest = []
        for name, values in self._latency.items():
            data = np.asarray(values, dtype=float)
            self._latency_curves[name].setData(data)
            latest.append(data)
        if latest:
            _fit_y(self.latency_plot, np.concatenate(latest), floor=0.0)
        if self._rotation:
            # Unwrapped over the history: an angle passing +-180 deg continues instead of jumping by 360.
            data = np.degrees(np.unwrap(np.radians(np.asarray(self._rotation)), axis=0))
            for k, curve in enumerate(self._rotation_curves):
                curve.setData(data[:, k])
            _fit_y(self.rotation_plot, data.reshape(-1))

    def _on_joint_changed(self, _index: int) -> None:
        self._rotation.clear()


def _default_joint(names: list[str]) -> int:
    """A joint that moves a lot when the performer does: a right upper arm (or wing), else the second joint."""
    keys = [n.lower().replace("_", "") for n in names]
    for want in (("right", "upperarm"), ("upperarm",), ("right", "arm")):
        for i, k in enumerate(keys):
            if all(w in k for w in want):
                return i
    return min(1, len(names) - 1)


def _fit_y(plot: pg.PlotWidget, values: np.ndarray, floor: float | None = None) -> None:
    """Keep ``values`` in view, changing the y range only when it is clearly too small or too large.

    The range grows at once to 25 % above the data span and shrinks only when the data use less
    than 40 % of it, so a steady signal leaves the axis (and its cached drawing) alone.
    """
    values = values[np.isfinite(values)]
    if not len(values):
        return
    lo, hi = float(values.min()), float(values.max())
    if floor is not None:
        lo = floor
    span = max(hi - lo, 1e-3)
    (cur_lo, cur_hi) = plot.getViewBox().viewRange()[1]
    fits = cur_lo <= lo and hi <= cur_hi
    if fits and span >= 0.4 * (cur_hi - cur_lo):
        return
    pad = 0.25 * span
    plot.setYRange(lo if floor is not None else lo - pad, hi + pad, padding=0)
