"""The window's live actions and their shortcuts: tracking, calibration, record, frame the rig.

===================  ==============  =====================================================
action               shortcut        does
===================  ==============  =====================================================
Tracking (toggle)    Ctrl+T          start / stop capture and inference (stop frees the camera)
Calibrate            Ctrl+K          a 3 s countdown, then 1 s standing still becomes the neutral pose
Clear calibration    Ctrl+Shift+K    back to the canonical reference poses
Record (toggle)      Ctrl+R          start / finish a take (through the takes panel)
Frame rig            F               point the viewport's camera at the whole rig
Mirror (toggle)      Ctrl+M          mirror the motion and the camera view (on by default)
Upper body (toggle)  Ctrl+U          seated mode: legs held at rest, the root stays in place
===================  ==============  =====================================================

Starting tracking opens the source first, on the session's opening thread (a camera can take
seconds), and starts the pipeline when it is open; the action stays checked meanwhile.

Calibrating is guided (:class:`app.calibration.CalibrationCapture`): the prompt and the countdown
go out through ``calibration_prompt`` (the camera view shows them), a timer feeds the newest
performer pose in, and the averaged pose is saved for the rig, or the refusal is reported.
"""

from __future__ import annotations

import time
from concurrent.futures import Future

from PyQt6 import QtCore, QtGui, QtWidgets

from app.calibration import CalibrationCapture, CalibrationConfig, CalibrationPhase
from app.live_session import LiveSession
from engine.errors import AnyRigError
from streaming.pipeline import State

__all__ = ["LiveActions"]


class LiveActions(QtCore.QObject):
    """Builds the actions on ``window`` (shortcuts work anywhere in it) and runs them.

    Args:
        session: the live session.
        window: owner of the actions.
        record: what Record does (the takes panel's toggle).
        frame: what Frame rig does (the viewport's ``frame_rig``).

    Signals:
        error(str), message(str): for the status bar.
        calibration_prompt(str): what the performer should do now ("" when calibration is over).

    Attributes:
        calibration_config: countdown, still window and thresholds of the next calibration.
        calibration: the calibration in progress (or the last one).
    """

    CALIBRATION_TICK_MS = 33  # the guided calibration samples the performer at about the camera's rate

    error = QtCore.pyqtSignal(str)
    message = QtCore.pyqtSignal(str)
    calibration_prompt = QtCore.pyqtSignal(str)
    _source_ready = QtCore.pyqtSignal(object, object)  # (source, Future) from the opening thread

    def __init__(self, session: LiveSession, window: QtWidgets.QWidget, *, record, frame) -> None:
        super().__init__(window)
        self.session = session
        self.starting = False  # the source is being opened for tracking
        self.tracking = self._action(window, "Tracking", "Ctrl+T", "Capture and track the performer (Ctrl+T)", checkable=True)
        self.tracking.setChecked(session.settings.tracking)
        self.tracking.toggled.connect(self._on_tracking_changed)
        self.calibrate = self._action(window, "Calibrate", "Ctrl+K", "Stand in your neutral pose: it will show the rig at rest (Ctrl+K)")
        self.calibrate.triggered.connect(self._on_calibrate)
        self.uncalibrate = self._action(window, "Clear calibration", "Ctrl+Shift+K", "Back to the T-pose / arms-down reference (Ctrl+Shift+K)")
        self.uncalibrate.triggered.connect(self._on_clear_calibration)
        self.record = self._action(window, "Record", "Ctrl+R", "Start or finish a take (Ctrl+R)")
        self.record.triggered.connect(record)
        self.frame = self._action(window, "Frame rig", "F", "Show the whole rig (F)")
        self.frame.triggered.connect(frame)
        self.mirror = self._action(window, "Mirror", "Ctrl+M", "Mirror the motion and the camera view, like a mirror (Ctrl+M)", checkable=True)
        self.mirror.setChecked(session.settings.mirror)
        self.mirror.toggled.connect(lambda on: self.session.set_modes(mirror=on))
        self.upper_body = self._action(window, "Upper body", "Ctrl+U", "Seated / upper-body mode: legs held at rest (Ctrl+U)", checkable=True)
        self.upper_body.setChecked(session.settings.upper_body)
        self.upper_body.toggled.connect(lambda on: self.session.set_modes(upper_body=on))
        self._source_ready.connect(self._on_source_ready)
        session.listeners.append(self._on_session_changed)
        self.calibration_config = CalibrationConfig()
        self.calibration: CalibrationCapture | None = None
        self._calibration_timer = QtCore.QTimer(self)
        self._calibration_timer.setInterval(self.CALIBRATION_TICK_MS)
        self._calibration_timer.timeout.connect(self._on_calibration_tick)

    @property
    def all(self) -> tuple[QtGui.QAction, ...]:
        return (self.tracking, self.calibrate, self.uncalibrate, self.record, self.frame, self.mirror, self.upper_body)

    @staticmethod
    def _action(window: QtWidgets.QWidget, text: str, keys: str, tip: str, *, checkable: bool = False) -> QtGui.QAction:
        action = QtGui.QAction(text, window, checkable=checkable, shortcut=QtGui.QKeySequence(keys))
        action.setToolTip(tip)
        action.setShortcutContext(QtCore.Qt.ShortcutContext.WindowShortcut)
        window.addAction(action)
        return action

    # -- session -> actions ---------------------------------------------------------------------------
    def _on_session_changed(self, field: str) -> None:
        if field == "tracking":
            with QtCore.QSignalBlocker(self.tracking):
                self.tracking.setChecked(self.session.settings.tracking)
        elif field == "modes":
            for action, on in ((self.mirror, self.session.settings.mirror), (self.upper_body, self.session.settings.upper_body)):
                with QtCore.QSignalBlocker(action):
                    action.setChecked(on)
        elif field == "calibration":
            if self.session.neutral is not None:
                self.message.emit("Calibrated: standing like this now shows the rig at rest")
            else:
                self.message.emit("Calibration cleared")

    # -- actions -> session ---------------------------------------------------------------------------
    def _on_tracking_changed(self, on: bool) -> None:
        if not on:
            self.session.set_tracking(False)
            return
        if self.starting:
            return
        source = self.session.pipeline.source
        self.starting = True
        self.message.emit(f"Opening {source.source_id}…")
        future = self.session.open_in_background(source)
        future.add_done_callback(lambda f: self._deliver(source, f))

    def _deliver(self, source, future: Future) -> None:
        try:
            self._source_ready.emit(source, future)
        except RuntimeError:  # the window is gone; LiveSession.close() closes the source
            pass

    def _on_source_ready(self, source, future: Future) -> None:
        self.starting = False
        pipeline = self.session.pipeline
        stale = pipeline is None or source is not pipeline.source or not self.tracking.isChecked()
        exc = future.exception()
        if stale:  # the user turned tracking off or switched source meanwhile: free the camera
            in_use = pipeline is not None and source is pipeline.source and pipeline.state is State.RUNNING
            if exc is None and not in_use:
                source.close()
            return
        try:
            if exc is not None:
                raise exc
            self.session.set_tracking(True)
        except Exception as error:  # noqa: BLE001 - the opening thread's result: any fault is reported
            self.error.emit(f"Tracking could not start: {error}")
            with QtCore.QSignalBlocker(self.tracking):
                self.tracking.setChecked(False)

    def _on_calibrate(self) -> None:
        """Start the guided calibration (again from the top when one is running)."""
        if self.session.tracking_state is None:
            self.error.emit("Calibration needs tracking: turn Tracking on (Ctrl+T) and stand in view")
            return
        self.calibration = CalibrationCapture(self.calibration_config, t0=time.monotonic(), upper_body=self.session.settings.upper_body)
        self.calibration_prompt.emit(self.calibration.prompt)
        self._calibration_timer.start()

    def _on_calibration_tick(self) -> None:
        capture = self.calibration
        if capture is None:
            self._calibration_timer.stop()
            return
        tap = self.session.tap
        phase = capture.update(time.monotonic(), tap.latest_performer, tap.latest_landmarks)
        self.calibration_prompt.emit(capture.prompt)
        if not capture.finished:
            return
        self._calibration_timer.stop()
        if phase is CalibrationPhase.REFUSED:
            self.error.emit(f"Calibration refused: {capture.refusal}")
            return
        try:
            self.session.calibrate(capture.result)
        except (AnyRigError, OSError, ValueError) as exc:
            self.error.emit(f"Calibration failed: {exc}")

    def _on_clear_calibration(self) -> None:
        self.session.clear_calibration()
