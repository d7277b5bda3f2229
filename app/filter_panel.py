"""One Euro filter settings (Casiez et al. 2012): jitter at rest against lag in fast moves."""

from __future__ import annotations

from dataclasses import replace

from PyQt6 import QtCore, QtWidgets

from app.live_session import LiveSession

__all__ = ["FilterPanel"]


def _spin(low: float, high: float, step: float, tip: str) -> QtWidgets.QDoubleSpinBox:
    spin = QtWidgets.QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(2)
    spin.setToolTip(tip)
    return spin


class FilterPanel(QtWidgets.QWidget):
    """Edits :class:`FilterSettings`; each change goes through :meth:`LiveSession.set_filter`.

    Signals:
        error(str): the values were refused (the previous filter stays).
    """

    error = QtCore.pyqtSignal(str)

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        layout = QtWidgets.QFormLayout(self)
        self.enabled_check = QtWidgets.QCheckBox("Smooth rotations (One Euro)")
        # Ranges: cutoffs must stay > 0 (OneEuroConfig refuses 0); beyond ~30 Hz a 30 fps stream is unfiltered anyway.
        self.min_cutoff_spin = _spin(0.01, 30.0, 0.1, "Hz. Lower: steadier still poses, more lag when slow")
        self.beta_spin = _spin(0.0, 50.0, 0.1, "Speed coefficient. Higher: less lag in fast moves, more jitter")
        self.d_cutoff_spin = _spin(0.01, 30.0, 0.1, "Hz, cutoff of the speed estimate (the paper uses 1 Hz)")
        layout.addRow(self.enabled_check)
        layout.addRow("Min cutoff (Hz)", self.min_cutoff_spin)
        layout.addRow("Beta", self.beta_spin)
        layout.addRow("Speed cutoff (Hz)", self.d_cutoff_spin)
        self._refresh()
        self.enabled_check.toggled.connect(self._on_enabled_changed)
        self.min_cutoff_spin.valueChanged.connect(self._on_min_cutoff_changed)
        self.beta_spin.valueChanged.connect(self._on_beta_changed)
        self.d_cutoff_spin.valueChanged.connect(self._on_d_cutoff_changed)
        session.listeners.append(self._on_session_changed)

    def _refresh(self) -> None:
        f = self.session.settings.filter
        widgets = (self.enabled_check, self.min_cutoff_spin, self.beta_spin, self.d_cutoff_spin)
        blockers = [QtCore.QSignalBlocker(w) for w in widgets]
        self.enabled_check.setChecked(bool(f.enabled))
        self.min_cutoff_spin.setValue(float(f.min_cutoff))
        self.beta_spin.setValue(float(f.beta))
        self.d_cutoff_spin.setValue(float(f.d_cutoff))
        for w in widgets[1:]:
            w.setEnabled(bool(f.enabled))
        del blockers

    def _on_session_changed(self, field: str) -> None:
        if field == "filter":
            self._refresh()

    def _change(self, **changes: object) -> None:
        try:
            self.session.set_filter(replace(self.session.settings.filter, **changes))
        except ValueError as exc:
            self.error.emit(f"Filter settings refused: {exc}")
            self._refresh()

    def _on_enabled_changed(self, checked: bool) -> None:
        self._change(enabled=bool(checked))

    def _on_min_cutoff_changed(self, value: float) -> None:
        self._change(min_cutoff=float(value))

    def _on_beta_changed(self, value: float) -> None:
        self._change(beta=float(value))

    def _on_d_cutoff_changed(self, value: float) -> None:
        self._change(d_cutoff=float(value))
