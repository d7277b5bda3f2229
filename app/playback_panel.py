"""Playback of a recorded take: play / pause, loop, scrub, re-send over the output, back to live."""

from __future__ import annotations

from PyQt6 import QtCore, QtWidgets

from app.live_session import LiveSession
from engine.errors import AnyRigError

__all__ = ["PlaybackPanel"]

SLIDER_STEPS = 1000  # scrub resolution over the take's length
REFRESH_MS = 100  # the slider follows the play head at 10 Hz


class PlaybackPanel(QtWidgets.QGroupBox):
    """A thin view of :attr:`LiveSession.playback` (a :class:`~streaming.take_playback.TakePlayer`).

    Signals:
        error(str): re-sending could not start (e.g. the output is off).
    """

    error = QtCore.pyqtSignal(str)

    def __init__(self, session: LiveSession, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__("Playback", parent)
        self.session = session
        layout = QtWidgets.QVBoxLayout(self)
        self.title = QtWidgets.QLabel()
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setToolTip("Scrub through the take")
        layout.addWidget(self.slider)
        row = QtWidgets.QHBoxLayout()
        self.play_button = QtWidgets.QPushButton("▶ Play")
        self.play_button.setCheckable(True)
        self.loop_box = QtWidgets.QCheckBox("Loop")
        self.loop_box.setChecked(True)
        self.time_label = QtWidgets.QLabel()
        row.addWidget(self.play_button)
        row.addWidget(self.loop_box)
        row.addWidget(self.time_label, 1)
        layout.addLayout(row)
        self.resend_box = QtWidgets.QCheckBox("Re-send over the output (live sending pauses)")
        self.resend_box.setToolTip("Send the played take to the VMC / OSC receiver set in the Output tab")
        layout.addWidget(self.resend_box)
        self.live_button = QtWidgets.QPushButton("Back to live")
        layout.addWidget(self.live_button)
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.slider.valueChanged.connect(self._on_slider_changed)
        self.play_button.toggled.connect(self._on_playing_changed)
        self.loop_box.toggled.connect(self._on_loop_changed)
        self.resend_box.toggled.connect(self._on_resend_changed)
        self.live_button.clicked.connect(session.close_take)
        session.listeners.append(self._on_session_changed)
        self.refresh()

    # -- model -> view ---------------------------------------------------------------------------
    def _on_session_changed(self, field: str) -> None:
        if field == "playback":
            self.refresh()

    def refresh(self) -> None:
        """Show the play head, the take and its options (blocked signals: no feedback into the model)."""
        player = self.session.playback
        open_ = player is not None
        for w in (self.slider, self.play_button, self.loop_box, self.resend_box, self.live_button):
            w.setEnabled(open_)
        if not open_:
            self._timer.stop()
            self.title.setText("No take open: double-click a take above to play it")
            self.time_label.setText("")
            with QtCore.QSignalBlocker(self.play_button), QtCore.QSignalBlocker(self.resend_box):
                self.play_button.setChecked(False)
                self.resend_box.setChecked(False)
            self.play_button.setText("▶ Play")
            return
        self._timer.start()
        path = self.session.playback_path
        self.title.setText(f"{path.name if path else player.clip.name}: {player.rig.name}, "
                           f"{player.clip.num_frames} frames at {player.clip.fps:g} fps")
        with QtCore.QSignalBlocker(self.slider), QtCore.QSignalBlocker(self.play_button), \
                QtCore.QSignalBlocker(self.loop_box), QtCore.QSignalBlocker(self.resend_box):
            duration = max(player.duration_s, 1e-9)
            self.slider.setValue(round(SLIDER_STEPS * player.position_s / duration))
            self.play_button.setChecked(player.playing)
            self.loop_box.setChecked(player.loop)
            self.resend_box.setChecked(self.session.resending_take)
        self.play_button.setText("❚❚ Pause" if player.playing else "▶ Play")
        self.time_label.setText(f"{player.position_s:5.2f} / {player.duration_s:.2f} s  (frame {player.frame})")

    # -- view -> model ---------------------------------------------------------------------------
    def _on_slider_changed(self, value: int) -> None:
        player = self.session.playback
        if player is not None:
            player.seek(player.duration_s * value / SLIDER_STEPS)
            self.refresh()

    def _on_playing_changed(self, on: bool) -> None:
        player = self.session.playback
        if player is not None:
            if on and not player.loop and player.position_s >= player.duration_s:
                player.seek(0.0)  # play again from the start
            player.playing = on
            self.refresh()

    def _on_loop_changed(self, on: bool) -> None:
        if self.session.playback is not None:
            self.session.playback.loop = on

    def _on_resend_changed(self, on: bool) -> None:
        try:
            self.session.set_take_resend(on)
        except (AnyRigError, OSError, ValueError) as exc:
            self.error.emit(f"Cannot re-send the take: {exc}")
            self.refresh()
