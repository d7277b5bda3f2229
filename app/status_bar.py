"""The status bar: camera state, model backend and device, fps, latency, and the last message."""

from __future__ import annotations

import logging

from PyQt6 import QtCore, QtWidgets

from app.camera_view import TRACKING_BADGES
from app.session_status import SessionStatus

__all__ = ["StatusBar"]

logger = logging.getLogger(__name__)

ERROR_MS = 15000  # how long an error stays in the message area


class StatusBar(QtWidgets.QStatusBar):
    """Permanent facts on the right, messages and errors on the left.

    Attributes:
        last_error: text of the most recent error shown (tests read it).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.camera_label = QtWidgets.QLabel("starting…")
        self.tracking_label = QtWidgets.QLabel()
        self.model_label = QtWidgets.QLabel()
        self.fps_label = QtWidgets.QLabel()
        self.latency_label = QtWidgets.QLabel()
        for label in (self.camera_label, self.tracking_label, self.model_label, self.fps_label, self.latency_label):
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
        self.busy_bar = QtWidgets.QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate: "working"
        self.busy_bar.setMaximumWidth(90)
        self.busy_bar.setMaximumHeight(14)
        self.busy_label = QtWidgets.QLabel()
        self.insertPermanentWidget(0, self.busy_label)
        self.insertPermanentWidget(1, self.busy_bar)
        self.show_busy("")
        self.last_error = ""
        self.details_box: QtWidgets.QMessageBox | None = None

    def show_busy(self, text: str) -> None:
        """Show ``text`` with a busy indicator (``""`` hides both)."""
        self.busy_label.setText(text)
        self.busy_label.setVisible(bool(text))
        self.busy_bar.setVisible(bool(text))

    def show_status(self, status: SessionStatus, *, recording: bool = False) -> None:
        camera = f"{status.source}: {status.camera}"
        if status.pipeline not in ("running", "stopped"):
            camera += f" ({status.pipeline})"
        self.camera_label.setText(("● REC  " if recording else "") + camera)
        text, color = TRACKING_BADGES.get(status.tracking, ("tracking off", "#aaaaaa"))
        self.tracking_label.setText(text)
        self.tracking_label.setStyleSheet(f"color: {color}; font-weight: bold;")
        model = [part for part in (status.solver, status.backend, status.device) if part]
        self.model_label.setText(" · ".join(model) if len(model) == 3 else "")  # no bare separators before a model runs
        self.fps_label.setText(f"{status.fps:5.1f} fps")
        self.latency_label.setText(f"{status.latency_ms:5.1f} ms")

    def show_error(self, text: str, *, details: bool = False) -> None:
        """Show ``text`` in red in the message area (and log it); the app goes on.

        Args:
            details: also open a (non-blocking) message box with the whole text, for faults whose
                message is too long for the bar (e.g. where to put a missing model file).
        """
        logger.warning("%s", text)
        self.last_error = text
        self.setStyleSheet("QStatusBar { color: #ff7070; }")
        self.setToolTip(text)  # the bar cuts long messages; hovering shows all of it
        self.showMessage(text, ERROR_MS)
        if details:
            box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "AnyRig", text, parent=self.window())
            box.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setModal(False)
            box.show()
            self.details_box = box

    def show_info(self, text: str) -> None:
        logger.info("%s", text)
        self.setStyleSheet("")
        self.showMessage(text, 8000)
