"""Takes: a name, a format, record / stop, the takes already in the folder, and playback of one."""

from __future__ import annotations

import re
from concurrent.futures import Future
from pathlib import Path

from PyQt6 import QtCore, QtWidgets

from app.live_session import TAKE_FORMATS, LiveSession
from app.playback_panel import PlaybackPanel
from engine.errors import AnyRigError

__all__ = ["TakesPanel", "next_take_name"]


def next_take_name(name: str) -> str:
    """``take_007`` -> ``take_008``; a name without a trailing number gets ``_2``."""
    match = re.search(r"(\d+)$", name)
    if not match:
        return f"{name}_2"
    digits = match.group(1)
    return name[: match.start()] + str(int(digits) + 1).zfill(len(digits))


class TakesPanel(QtWidgets.QWidget):
    """Records takes through :meth:`LiveSession.start_recording` / ``stop_recording``.

    Signals:
        error(str): a take could not start or be written (the journal is kept for recovery).
        message(str): a take was written (its path).
        take_finished(Future): internal; carries the take-writing result back to the Qt thread.
    """

    error = QtCore.pyqtSignal(str)
    message = QtCore.pyqtSignal(str)
    take_finished = QtCore.pyqtSignal(object)  # a Future, emitted from the take-writing thread

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.last_take: Path | None = None
        layout = QtWidgets.QVBoxLayout(self)
        form = QtWidgets.QFormLayout()
        self.name_edit = QtWidgets.QLineEdit(session.take_manager.next_free_name())
        self.format_combo = QtWidgets.QComboBox()
        self.format_combo.addItems(list(TAKE_FORMATS))
        form.addRow("Take name", self.name_edit)
        form.addRow("Format", self.format_combo)
        folder_row = QtWidgets.QHBoxLayout()
        self.folder_label = QtWidgets.QLabel()
        self.folder_label.setWordWrap(True)
        self.folder_button = QtWidgets.QPushButton("Folder…")
        folder_row.addWidget(self.folder_label, 1)
        folder_row.addWidget(self.folder_button)
        form.addRow("Folder", folder_row)
        layout.addLayout(form)
        self.record_button = QtWidgets.QPushButton("● Record")
        self.record_button.setCheckable(True)
        self.record_button.setToolTip("Record a take (Ctrl+R)")
        layout.addWidget(self.record_button)
        self.list = QtWidgets.QListWidget()
        self.list.setToolTip("Takes in the folder, newest first (double-click to play one)")
        layout.addWidget(self.list, 1)
        self.playback = PlaybackPanel(session)
        self.playback.error.connect(self.error)
        layout.addWidget(self.playback)
        self._refresh()
        self.record_button.toggled.connect(self._on_recording_changed)
        self.format_combo.currentTextChanged.connect(self._on_take_format_changed)
        self.folder_button.clicked.connect(self._on_folder_clicked)
        self.list.itemDoubleClicked.connect(self._on_take_activated)
        self.take_finished.connect(self._on_take_finished)
        session.listeners.append(self._on_session_changed)

    # -- model -> view ---------------------------------------------------------------------------
    def _refresh(self) -> None:
        with QtCore.QSignalBlocker(self.record_button), QtCore.QSignalBlocker(self.format_combo):
            recording = self.session.recording
            self.record_button.setChecked(recording)
            self.record_button.setText("■ Stop" if recording else "● Record")
            self.format_combo.setCurrentText(self.session.settings.take_format)
        self.name_edit.setEnabled(not self.session.recording)
        self.folder_label.setText(str(self.session.takes_dir))
        self._refresh_list()

    def _refresh_list(self) -> None:
        self.list.clear()
        for path in self.session.takes():
            item = QtWidgets.QListWidgetItem(path.name)
            item.setData(QtCore.Qt.ItemDataRole.UserRole, str(path))
            self.list.addItem(item)

    def _on_session_changed(self, field: str) -> None:
        if field in ("recording", "takes", "tracking", "rig"):
            self._refresh()

    # -- view -> model ---------------------------------------------------------------------------
    def toggle_recording(self) -> None:
        """Start a take when idle, finish it when recording (the Ctrl+R action)."""
        self.record_button.toggle()

    def _on_recording_changed(self, checked: bool) -> None:
        if checked:
            try:
                path = self.session.start_recording(self.name_edit.text())
            except (AnyRigError, OSError, ValueError) as exc:
                self.error.emit(f"Cannot start a take: {exc}")
                self._refresh()
                return
            self.message.emit(f"Recording {path.name}")
            return
        future = self.session.finish_recording_in_background()
        if future is not None:
            self.message.emit("Writing the take…")
            future.add_done_callback(self.take_finished.emit)  # runs on the worker: the signal queues it

    def _on_take_finished(self, future: Future) -> None:
        """On the Qt thread once the take file is written (or failed)."""
        try:
            path = future.result()
        except Exception as exc:  # noqa: BLE001 - TakeError or an IO error: shown, the journal is kept
            self.error.emit(f"The take could not be written: {exc}")
        else:
            self.message.emit(f"Take saved: {path}")
            self.last_take = Path(path)
            stem = Path(path).stem
            self.name_edit.setText(self.session.take_manager.next_free_name() if re.fullmatch(r"take_\d+", stem) else next_take_name(stem))
        self._refresh()

    def _on_take_format_changed(self, fmt: str) -> None:
        if fmt in TAKE_FORMATS:
            self.session.set_take_options(take_format=fmt)

    def _on_folder_clicked(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Folder for takes", str(self.session.takes_dir))
        if folder:
            self.session.set_take_options(takes_dir=folder)
            if re.fullmatch(r"take_\d+", self.name_edit.text()):
                self.name_edit.setText(self.session.take_manager.next_free_name())

    def _on_take_activated(self, item: QtWidgets.QListWidgetItem) -> None:
        """Open the take for playback in the viewport and start playing it."""
        self.play_take(Path(item.data(QtCore.Qt.ItemDataRole.UserRole)))

    def play_take(self, path: Path) -> bool:
        """Play ``path`` in the viewport; ``False`` (and an error) when it cannot be read."""
        try:
            player = self.session.open_take(path)
        except (AnyRigError, OSError, ValueError, KeyError) as exc:
            self.error.emit(f"Cannot play {path.name}: {exc}")
            return False
        player.playing = True
        self.playback.refresh()
        self.message.emit(f"Playing {path.name} (Back to live in the Takes tab)")
        return True
