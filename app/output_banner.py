"""A banner over the window at start when a network output is on: nothing is sent without the user knowing.

A VMC output saved last session starts sending on the next launch; the banner says where to, and
offers to stop it or keep it. It also appears when the command line turned an output on.
"""

from __future__ import annotations

from dataclasses import replace

from PyQt6 import QtCore, QtWidgets

from app.live_session import LiveSession

__all__ = ["OutputBanner", "describe_output"]

OUTPUT_NAMES = {"vmc": "VMC (humanoid bones)", "vmc-generic": "VMC (the rig's own bone names)", "osc": "plain OSC"}


def describe_output(kind: str, host: str, port: int) -> str:
    """``"VMC (humanoid bones) to 127.0.0.1:39539"``; ``""`` when off."""
    return "" if kind == "off" else f"{OUTPUT_NAMES.get(kind, kind)} to {host}:{port}"


class OutputBanner(QtWidgets.QFrame):
    """Says which output is sending, with Stop sending / Keep sending; hides itself once answered."""

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setObjectName("output-banner")
        self.setStyleSheet("#output-banner { background: #5a4a00; border-bottom: 2px solid #ffcc00; } QLabel { color: #fff; font-weight: bold; }")
        layout = QtWidgets.QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QtWidgets.QLabel()
        self.label.setWordWrap(True)
        self.stop_button = QtWidgets.QPushButton("Stop sending")
        self.keep_button = QtWidgets.QPushButton("Keep sending")
        layout.addWidget(self.label, 1)
        layout.addWidget(self.stop_button)
        layout.addWidget(self.keep_button)
        self.stop_button.clicked.connect(self._on_stop)
        self.keep_button.clicked.connect(self.hide)
        out = session.settings.output
        text = describe_output(out.kind, out.host, int(out.port))
        self.label.setText(f"Sending live poses over {text}." if text else "")
        self.setVisible(bool(text))

    def _on_stop(self) -> None:
        self.session.set_output(replace(self.session.settings.output, kind="off"))
        self.hide()
