"""Source picker: the synthetic performer, the cameras that answer, or a video file / image folder."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from PyQt6 import QtCore, QtWidgets

from app.camera_probe import probe_cameras
from app.live_session import LiveSession

__all__ = ["SourcePanel"]

logger = logging.getLogger(__name__)

VIDEO_FILTER = "Videos (*.mp4 *.avi *.mov *.mkv *.webm *.m4v);;All files (*)"


class SourcePanel(QtWidgets.QWidget):
    """Chooses where frames come from; writes through :meth:`LiveSession.set_source`.

    Signals:
        error(str): a source could not be opened (the previous one keeps running).
        cameras_found(list): emitted from the probe thread; delivered on the Qt thread.
    """

    error = QtCore.pyqtSignal(str)
    cameras_found = QtCore.pyqtSignal(list)
    source_opened = QtCore.pyqtSignal(str, object)  # (spec, Future), emitted from the opening thread

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None, *, probe: bool = True) -> None:
        super().__init__(parent)
        self.session = session
        layout = QtWidgets.QFormLayout(self)
        self.combo = QtWidgets.QComboBox()
        self.combo.setToolTip("Where frames come from")
        layout.addRow("Source", self.combo)
        row = QtWidgets.QHBoxLayout()
        self.open_button = QtWidgets.QPushButton("Video file…")
        self.folder_button = QtWidgets.QPushButton("Image folder…")
        self.refresh_button = QtWidgets.QPushButton("Find cameras")
        for b in (self.open_button, self.folder_button, self.refresh_button):
            row.addWidget(b)
        layout.addRow(row)
        self.state_label = QtWidgets.QLabel()
        layout.addRow("State", self.state_label)
        self._cameras: list[int] = []
        self.requested: str | None = None  # the source being opened, if any
        self._probe_thread: threading.Thread | None = None
        self._refill()
        self.combo.currentIndexChanged.connect(self._on_source_changed)
        self.open_button.clicked.connect(self._on_open_file)
        self.folder_button.clicked.connect(self._on_open_folder)
        self.refresh_button.clicked.connect(self.find_cameras)
        self.cameras_found.connect(self._on_cameras_found)
        self.source_opened.connect(self._on_source_opened)
        session.listeners.append(self._on_session_changed)
        if probe:
            self.find_cameras()

    # -- model -> view ---------------------------------------------------------------------------
    def _refill(self) -> None:
        """Rebuild the list: synthetic, the found cameras, and the current source if it is a file."""
        current = self.session.settings.source
        specs = ["synthetic"] + [f"webcam:{i}" for i in self._cameras]
        if current not in specs:
            specs.append(current)
        with QtCore.QSignalBlocker(self.combo):
            self.combo.clear()
            for spec in specs:
                self.combo.addItem(_label(spec), spec)
            self.combo.setCurrentIndex(specs.index(current))

    def _on_session_changed(self, field: str) -> None:
        if field == "source":
            self._refill()

    def refresh_state(self) -> None:
        """Show the source's state (called by the window's status timer)."""
        state = self.session.status().camera
        self.state_label.setText(f"opening {_label(self.requested)}…" if self.requested else state)

    # -- view -> model ---------------------------------------------------------------------------
    def choose_source(self, spec: str) -> None:
        """Switch to ``spec``: it is opened on a worker thread and used once open (the UI never waits
        for a camera); a failure is reported and the old source keeps running."""
        self.requested = spec
        self.state_label.setText(f"opening {_label(spec)}…")
        future = self.session.open_source_in_background(spec)
        future.add_done_callback(lambda f: self._deliver(spec, f))

    def _deliver(self, spec: str, future: object) -> None:
        try:
            self.source_opened.emit(spec, future)
        except RuntimeError:  # the panel is gone; LiveSession.close() closes the unused source
            pass

    def _on_source_opened(self, spec: str, future) -> None:
        if spec != self.requested:  # the user chose another source meanwhile
            if future.exception() is None:
                future.result().close()
            return
        self.requested = None
        try:
            source = future.result()
            if self.session.pipeline is None:  # closed meanwhile
                source.close()
                return
            self.session.use_source(spec, source)
        except Exception as exc:  # noqa: BLE001 - the result of the opening thread: any fault is reported
            self.error.emit(f"Cannot open source {spec}: {exc}")
            self._refill()

    def _on_source_changed(self, index: int) -> None:
        spec = self.combo.itemData(index)
        if spec and spec != self.session.settings.source:
            self.choose_source(spec)

    def _on_open_file(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Open a video", str(Path.home()), VIDEO_FILTER)
        if path:
            self.choose_source(path)

    def _on_open_folder(self) -> None:
        path = QtWidgets.QFileDialog.getExistingDirectory(self, "Open a folder of images", str(Path.home()))
        if path:
            self.choose_source(path)

    # -- camera probe ----------------------------------------------------------------------------
    def find_cameras(self) -> None:
        """Probe camera indices 0-3 on a background thread (the list updates when it is done)."""
        if self._probe_thread is not None and self._probe_thread.is_alive():
            return
        self.refresh_button.setEnabled(False)
        self.refresh_button.setText("Searching…")
        # Skip the device the running source holds open: it answers through the session already.
        self._probe_thread = threading.Thread(target=self._probe, name="anyrig-camera-probe", daemon=True)
        self._probe_thread.start()

    def _probe(self) -> None:
        busy = self.session.settings.source
        indices = tuple(i for i in range(4) if busy != f"webcam:{i}")
        found = probe_cameras(indices)
        if busy.startswith("webcam:") and busy[7:].isdigit():
            found = sorted(set(found) | {int(busy[7:])})
        try:
            self.cameras_found.emit(found)
        except RuntimeError:  # the panel was deleted while probing
            pass

    def _on_cameras_found(self, found: list) -> None:
        self._cameras = list(found)
        self.refresh_button.setEnabled(True)
        self.refresh_button.setText("Find cameras")
        self._refill()
        logger.info("cameras found: %s", found or "none")

    def wait_for_probe(self, timeout_s: float = 5.0) -> None:
        """Block until a running camera probe ends (tests, shutdown)."""
        if self._probe_thread is not None:
            self._probe_thread.join(timeout_s)


def _label(spec: str) -> str:
    if spec == "synthetic":
        return "Synthetic performer"
    if spec.startswith("webcam:"):
        return f"Camera {spec[7:]}"
    return Path(spec).name or spec
