"""Moves the pipeline's newest results into the views, on the Qt thread, at a fixed pace.

Two timers (STYLE rule 13: the views pull; nothing runs on the inference thread):

- ``POSE_HZ`` (~30 Hz): the newest pose -> viewport buffers (then ``request_draw``), the newest
  camera frame with its landmarks -> camera view, one plot sample per new pose; while a take is
  played back, the take's pose at the play head replaces the live pose in the viewport;
- ``STATUS_HZ`` (~10 Hz): redraw the plot curves, the status bar and the panels' counters.

A result that arrives between two ticks replaces the previous one in the pipeline's one-slot
mailbox, so the GUI can never fall behind, only skip.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PyQt6 import QtCore

from app.camera_view import CameraView
from app.live_session import LiveSession
from app.plots_panel import PlotsPanel
from app.status_bar import StatusBar
from app.viewport import RigViewport

__all__ = ["LiveUpdater", "POSE_HZ", "STATUS_HZ"]

POSE_HZ = 30
STATUS_HZ = 10


class LiveUpdater(QtCore.QObject):
    """Feeds ``viewport``, ``camera_view``, ``plots`` and ``status_bar`` from ``session``.

    Args:
        extra_status: callables run at ``STATUS_HZ`` (panels' counters).
    """

    def __init__(
        self,
        session: LiveSession,
        viewport: RigViewport,
        camera_view: CameraView,
        plots: PlotsPanel,
        status_bar: StatusBar,
        *,
        extra_status: tuple[Callable[[], None], ...] = (),
        parent: QtCore.QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.session, self.viewport, self.camera_view, self.plots, self.status_bar = session, viewport, camera_view, plots, status_bar
        self._extra_status = extra_status
        self.poses_shown = 0
        self._shown_rig = None
        self._last_tick = time.monotonic()
        self._pose_timer = QtCore.QTimer(self)
        self._pose_timer.setInterval(1000 // POSE_HZ)
        self._pose_timer.timeout.connect(self.update_pose)
        self._status_timer = QtCore.QTimer(self)
        self._status_timer.setInterval(1000 // STATUS_HZ)
        self._status_timer.timeout.connect(self.update_status)
        session.listeners.append(self._on_session_changed)
        self._on_rig_changed()

    def start(self) -> None:
        self._pose_timer.start()
        self._status_timer.start()

    def stop(self) -> None:
        self._pose_timer.stop()
        self._status_timer.stop()

    def _on_session_changed(self, field: str) -> None:
        if field == "rig" or (field == "playback" and self._shown_rig is not self._rig_to_show()):
            self._on_rig_changed()

    def _rig_to_show(self):
        player = self.session.playback
        return player.rig if player is not None else self.session.rig

    def _on_rig_changed(self) -> None:
        rig = self._rig_to_show()
        self._shown_rig = rig
        if rig is not None:
            self.viewport.set_rig(rig)
            self.plots.set_joint_names(rig.skeleton.names)

    def update_pose(self) -> None:
        """Show the newest pose and camera frame, if any arrived since the last tick."""
        now = time.monotonic()
        dt, self._last_tick = now - self._last_tick, now
        result = self.session.take_result()
        rig = self.session.rig
        played = self.session.playback_step(dt)
        if played is not None:  # a take is played back: it owns the viewport
            result, rig = played, self.session.playback.rig
        if result is not None and rig is not None and result.num_joints == rig.skeleton.num_joints:
            self.viewport.set_pose(result.rotations, result.root_translation, getattr(result, "blendshapes", None))
            latencies = {k: v for k, v in result.latencies_ms().items() if k != "total"}
            latencies["end_to_end"] = self.session.end_to_end_ms()
            self.plots.add_sample(self.session.status_fps, latencies, result.rotations)
            self.poses_shown += 1
        sample = self.session.take_camera()
        if sample is not None:
            state = self.session.tracking_state
            self.camera_view.tracking = state.value if state is not None else ""
            self.camera_view.mirror = self.session.settings.mirror
            lm = sample.landmarks
            performer = self.session.tap.performer.take(0)
            self.camera_view.show_frame(
                sample.image,
                lm.image if lm.person_found else None,
                lm.visibility if lm.person_found else None,
                performer,
            )

    def update_status(self) -> None:
        """Redraw the plots and refresh the status bar; report a pipeline that stopped by itself."""
        stopped = self.session.check_pipeline()
        if stopped is not None:
            self.status_bar.show_error(f"Tracking is off: {stopped}", details=True)
        self.session.measure_fps()
        status = self.session.status()
        self.plots.refresh()
        self.status_bar.show_status(status, recording=self.session.recording)
        for callback in self._extra_status:
            callback()
