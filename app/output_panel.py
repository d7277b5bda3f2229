"""Network output: VMC (humanoid bones or the rig's own), plain OSC, or off; host, port, bundling,
humanoid map file and raw/normalised rotations, and a warning when the stream is not what it seems."""

from __future__ import annotations

from dataclasses import replace

from PyQt6 import QtCore, QtWidgets

from app.live_session import LiveSession
from engine.errors import AnyRigError
from streaming.settings import OutputSettings

__all__ = ["OutputPanel", "KIND_LABELS"]

KIND_LABELS = {
    "off": "Off",
    "vmc": "VMC humanoid (Unity bone names)",
    "vmc-generic": "VMC generic (the rig's joint names)",
    "osc": "OSC (one message per joint)",
}


class OutputPanel(QtWidgets.QWidget):
    """Edits :class:`OutputSettings`; every change goes through :meth:`LiveSession.set_output`.

    Signals:
        error(str): the output could not be set (bad host, port); the previous output stays.
    """

    error = QtCore.pyqtSignal(str)

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        layout = QtWidgets.QFormLayout(self)
        self.kind_combo = QtWidgets.QComboBox()
        for kind, label in KIND_LABELS.items():
            self.kind_combo.addItem(label, kind)
        self.host_edit = QtWidgets.QLineEdit()
        self.port_spin = QtWidgets.QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.bundle_check = QtWidgets.QCheckBox("One OSC bundle per frame")
        self.prefix_edit = QtWidgets.QLineEdit()
        self.raw_check = QtWidgets.QCheckBox("Raw rotations (the rig's own; off: normalised for VRM receivers)")
        self.map_edit = QtWidgets.QLineEdit()
        self.map_edit.setPlaceholderText("found by names (a JSON file fixes or completes it)")
        self.map_browse = QtWidgets.QPushButton("Load…")
        self.map_save = QtWidgets.QPushButton("Save found map…")
        map_row = QtWidgets.QHBoxLayout()
        for w in (self.map_edit, self.map_browse, self.map_save):
            map_row.addWidget(w)
        self.counters_label = QtWidgets.QLabel()
        self.warning_label = QtWidgets.QLabel()
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet("color: #c62828; font-weight: bold")
        layout.addRow("Send", self.kind_combo)
        layout.addRow("Host", self.host_edit)
        layout.addRow("Port", self.port_spin)
        layout.addRow(self.bundle_check)
        layout.addRow("OSC prefix", self.prefix_edit)
        layout.addRow(self.raw_check)
        layout.addRow("Humanoid map", map_row)
        layout.addRow("Sent", self.counters_label)
        layout.addRow(self.warning_label)
        self._refresh()
        self.kind_combo.currentIndexChanged.connect(self._on_kind_changed)
        self.host_edit.editingFinished.connect(self._on_host_changed)
        self.port_spin.editingFinished.connect(self._on_port_changed)
        self.bundle_check.toggled.connect(self._on_bundle_changed)
        self.prefix_edit.editingFinished.connect(self._on_osc_prefix_changed)
        self.raw_check.toggled.connect(lambda checked: self._change(vmc_raw=bool(checked)))
        self.map_edit.editingFinished.connect(lambda: self._change(humanoid_map=self.map_edit.text().strip()))
        self.map_browse.clicked.connect(self._on_browse_map)
        self.map_save.clicked.connect(self._on_save_map)
        session.listeners.append(self._on_session_changed)

    def _refresh(self) -> None:
        out = self.session.settings.output
        widgets = (self.kind_combo, self.host_edit, self.port_spin, self.bundle_check, self.prefix_edit, self.raw_check, self.map_edit)
        blockers = [QtCore.QSignalBlocker(w) for w in widgets]
        self.kind_combo.setCurrentIndex(max(self.kind_combo.findData(out.kind), 0))
        self.host_edit.setText(out.host)
        self.port_spin.setValue(int(out.port))
        self.bundle_check.setChecked(bool(out.bundle))
        self.prefix_edit.setText(out.osc_prefix)
        self.prefix_edit.setEnabled(out.kind == "osc")
        self.raw_check.setChecked(bool(out.vmc_raw))
        self.map_edit.setText(out.humanoid_map)
        for w in (self.raw_check, self.map_edit, self.map_browse):
            w.setEnabled(out.kind == "vmc")
        info = self.session.sender_info
        self.warning_label.setText(info.get("warning", ""))
        self.warning_label.setVisible(bool(info.get("warning")))
        del blockers

    def _on_session_changed(self, field: str) -> None:
        if field in ("output", "rig"):
            self._refresh()

    def _on_browse_map(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Humanoid map", "", "Humanoid map (*.json)")
        if path:
            self._change(humanoid_map=path)

    def _on_save_map(self) -> None:
        """Write the map in use (found by names, plus the file's fixes) for the user to edit and load."""
        from engine.retarget.humanoid_map_file import write_humanoid_map
        from streaming.headless import rig_humanoid_bones

        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save humanoid map", "humanoid_map.json", "Humanoid map (*.json)")
        if not path or self.session.rig is None:
            return
        try:
            write_humanoid_map(path, rig_humanoid_bones(self.session.rig, self.session.settings.output.humanoid_map)[0])
        except (AnyRigError, OSError) as exc:
            self.error.emit(f"Cannot save the humanoid map: {exc}")

    def refresh_counters(self) -> None:
        """Show the sender's counters (called by the window's status timer)."""
        sender = self.session.sender
        if sender is None:
            self.counters_label.setText("—")
            return
        s = sender.stats
        self.counters_label.setText(f"{s.frames_sent} frames, {s.failures} failed")

    def apply(self, output: OutputSettings) -> bool:
        """Use ``output``; on failure report it and show the settings still in use."""
        try:
            self.session.set_output(output)
        except (AnyRigError, OSError, ValueError) as exc:
            self.error.emit(f"Cannot send to {output.host}:{output.port}: {exc}")
            self._refresh()
            return False
        return True

    def _change(self, **changes: object) -> None:
        current = self.session.settings.output
        new = replace(current, **changes)
        if new != current:
            self.apply(new)

    def _on_kind_changed(self, index: int) -> None:
        self._change(kind=self.kind_combo.itemData(index))

    def _on_host_changed(self) -> None:
        self._change(host=self.host_edit.text().strip() or "127.0.0.1")

    def _on_port_changed(self) -> None:
        self._change(port=int(self.port_spin.value()))

    def _on_bundle_changed(self, checked: bool) -> None:
        self._change(bundle=bool(checked))

    def _on_osc_prefix_changed(self) -> None:
        prefix = self.prefix_edit.text().strip() or "/anyrig"
        self._change(osc_prefix=prefix if prefix.startswith("/") else "/" + prefix)
