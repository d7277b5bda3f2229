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
        self.latency_plot.addLegend(offset=(5, 5))
        joint_row = QtWidgets.QHBoxLayout()
        joint_row.addWidget(QtWidgets.QLabel("joint:"))
        self.joint_combo = QtWidgets.QComboBox()
        joint_row.addWidget(self.joint_combo, 1)
        self.rotation_plot = pg.PlotWidget(title="local rotation (Euler XYZ, degrees)")
        self.rotation_plot.addLegend(offset=(5, 5))
        for w in (self.fps_plot, self.latency_plot, self.rotation_plot):
            w.setMinimumHeight(90)
            w.showGrid(x=False, y=True, alpha=0.3)
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
        self.joint_combo.setCurrentIndex(min(1, len(names) - 1))
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
        self._fps_curve.setData(np.asarray(self._fps, dtype=float))
        for name, values in self._latency.items():
            self._latency_curves[name].setData(np.asarray(values, dtype=float))
        if self._rotation:
            data = np.asarray(self._rotation)
            for k, curve in enumerate(self._rotation_curves):
                curve.setData(data[:, k])

    def _on_joint_changed(self, _index: int) -> None:
        self._rotation.clear()
