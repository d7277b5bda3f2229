"""Rig loader: the bundled rigs, or a GLB / glTF / VRM / BVH file; the rig's facts; view toggles."""

from __future__ import annotations

from pathlib import Path

from PyQt6 import QtCore, QtWidgets

from app.live_session import LiveSession
from engine.rigs.bundled import bundled_rig_names
from engine.errors import AnyRigError

__all__ = ["RigPanel", "RIG_FILTER"]

RIG_FILTER = "Rigs (*.glb *.gltf *.vrm *.bvh);;All files (*)"


class RigPanel(QtWidgets.QWidget):
    """Chooses the target rig; writes through :meth:`LiveSession.set_rig`.

    Signals:
        error(str): a rig could not be loaded (the previous rig stays).
        frame_requested(): the user asked to frame the rig in the viewport.
        mesh_toggled(bool): show or hide the skinned mesh.
    """

    error = QtCore.pyqtSignal(str)
    busy = QtCore.pyqtSignal(str)  # what is being loaded ("" when done), for the status bar
    frame_requested = QtCore.pyqtSignal()
    mesh_toggled = QtCore.pyqtSignal(bool)

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        layout = QtWidgets.QFormLayout(self)
        self.combo = QtWidgets.QComboBox()
        layout.addRow("Rig", self.combo)
        self.open_button = QtWidgets.QPushButton("Open rig file…")
        self.open_button.setToolTip("GLB, glTF, VRM or BVH")
        layout.addRow(self.open_button)
        self.info_label = QtWidgets.QLabel()
        self.info_label.setWordWrap(True)
        layout.addRow("Joints", self.info_label)
        row = QtWidgets.QHBoxLayout()
        self.frame_button = QtWidgets.QPushButton("Frame rig")
        self.mesh_check = QtWidgets.QCheckBox("Mesh")
        self.mesh_check.setChecked(True)
        row.addWidget(self.frame_button)
        row.addWidget(self.mesh_check)
        layout.addRow(row)
        self._refresh()
        self.combo.currentIndexChanged.connect(self._on_rig_changed)
        self.open_button.clicked.connect(self._on_open_file)
        self.frame_button.clicked.connect(self.frame_requested)
        self.mesh_check.toggled.connect(self.mesh_toggled)
        session.listeners.append(self._on_session_changed)

    def _refresh(self) -> None:
        current = self.session.settings.rig
        specs = list(bundled_rig_names())
        if current not in specs:
            specs.append(current)
        with QtCore.QSignalBlocker(self.combo):
            self.combo.clear()
            for spec in specs:
                self.combo.addItem(Path(spec).name, spec)
            self.combo.setCurrentIndex(specs.index(current))
        rig = self.session.rig
        if rig is not None:
            mesh = "with mesh" if rig.mesh is not None else "no mesh"
            self.info_label.setText(f"{rig.skeleton.num_joints} ({mesh})")

    def _on_session_changed(self, field: str) -> None:
        if field == "rig":
            self._refresh()

    def load_rig(self, spec: str) -> bool:
        """Drive the rig ``spec`` (a bundled name or a file); on failure report it and keep the old rig.

        Loading runs on the Qt thread (the models are rebuilt for the rig's joints; compiled models
        compile again), so the window says so and shows a busy cursor first.
        """
        compiling = self.session.backend in ("compile", "tensorrt")
        self.busy.emit(f"Loading rig {spec}" + (" and compiling the models (up to a minute)…" if compiling else "…"))
        QtWidgets.QApplication.setOverrideCursor(QtCore.Qt.CursorShape.WaitCursor)
        QtWidgets.QApplication.processEvents()  # paint the message before the work blocks the thread
        try:
            self.session.set_rig(spec)
        except (AnyRigError, OSError, ValueError) as exc:
            self.error.emit(f"Cannot load rig {spec}: {exc}")
            self._refresh()
            return False
        finally:
            QtWidgets.QApplication.restoreOverrideCursor()
            self.busy.emit("")
        return True

    def _on_rig_changed(self, index: int) -> None:
        spec = self.combo.itemData(index)
        if spec and spec != self.session.settings.rig:
            self.load_rig(spec)

    def _on_open_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a rig", str(Path.home()), RIG_FILTER)
        if path:
            self.load_rig(path)
