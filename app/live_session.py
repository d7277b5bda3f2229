"""The live session behind the window: settings -> rig, source, pipeline, outputs, takes (no Qt here).

The window's panels call these methods on the Qt thread and subscribe to :attr:`LiveSession.listeners`
(``callback(field)`` with ``field`` one of :data:`FIELDS`). Work that must not block the Qt thread
runs on the pipeline's threads; the GUI reads results with :meth:`LiveSession.take_result` from a
timer (STYLE rule 13). A method that fails raises the project's typed error and changes nothing:
a malformed rig file leaves the previous rig running, a camera that cannot open leaves the previous
source running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

import numpy as np

from app.calibration import CalibrationFiles
from app.neutral_pose import CalibratedRetarget, NeutralPose, reference_positions
from app.output_slots import RecorderSlot, SenderSlot
from app.session_status import SessionStatus
from app.source_opener import SourceOpener, create_looping_source
from app.take_manager import TAKE_FORMATS, TakeManager
from app.view_tap import CameraSample, ViewTap
from engine.retarget.mapping import RetargetMap, load_map, map_path_for, save_map, suggest_map
from engine.performer.pose_modes import legs_at_rest, mirror_performer
from engine.rig import Rig
from streaming.frames import PoseResult
from streaming.headless import VmcOptions, load_rig_spec, make_sender_output
from streaming.one_euro import PoseFilter
from streaming.pipeline import Pipeline, State
from streaming.face_hands_stage import FaceHandsConfig
from streaming.processor import build_processor
from streaming.run_stats import RunStats
from streaming.settings import FilterSettings, OutputSettings, SessionSettings
from streaming.take_playback import TakePlayer, load_take_rig
from streaming.takes import recover_takes
from streaming.tracking import TrackingState
from streaming.user_config import rig_key, user_config_dir

__all__ = ["FIELDS", "LiveSession", "SessionStatus", "TAKE_FORMATS"]

logger = logging.getLogger(__name__)

FIELDS = ("rig", "source", "output", "filter", "tracking", "recording", "takes", "retarget", "calibration", "modes", "playback")
Listener = Callable[[str], None]


class LiveSession:
    """Owns one pipeline built from :class:`SessionSettings`; every method runs on the Qt thread.

    Args:
        settings: initial settings (copied; read the current ones from :attr:`settings`).
        takes_dir: folder for takes when ``settings.takes_dir`` is empty.
        device, backend, solver: for the model stages (see :func:`streaming.processor.build_processor`).
        config_dir: the user's config folder (calibrations, retarget maps of bundled rigs); default
            :func:`streaming.user_config.user_config_dir`.
        face_hands: the face and hands schedule (None: body only).
    """

    def __init__(
        self, settings: SessionSettings, *, takes_dir: str | Path, device: str = "auto", backend: str = "auto", solver: str = "analytic_ik",
        config_dir: str | Path | None = None,
        face_hands: FaceHandsConfig | None = None,
    ) -> None:
        self.settings = SessionSettings.from_dict(settings.to_dict())
        self.config_dir = Path(config_dir) if config_dir is not None else user_config_dir()
        self.calibrations = CalibrationFiles(self.config_dir / "calibration")
        self.device, self.backend, self.solver = device, backend, solver
        self.face_hands = face_hands
        self.listeners: list[Listener] = []
        self.tap = ViewTap()
        self.stats = RunStats()
        self._sender = SenderSlot()
        self._recorder = RecorderSlot()
        self.take_manager = TakeManager(self.settings, self._recorder, default_folder=takes_dir)
        self._opener = SourceOpener()  # opens sources off the Qt thread
        self.rig: Rig | None = None
        self.pipeline: Pipeline | None = None
        self.calibrated_at: float | None = None  # time.time() of the last calibration
        self.neutral: np.ndarray | None = None  # (28, 3) the performer's neutral pose, metres
        self._fps_mark: tuple[float, int] = (time.monotonic(), 0)
        self._fps = 0.0
        self._last_result: PoseResult | None = None
        self.playback: TakePlayer | None = None  # a take being played back, if any
        self.playback_path: Path | None = None
        self._replay_output = None  # a sender output re-sending the played take

    # %% lifecycle ---------------------------------------------------------------------------------
    def open(self, progress: Callable[[str], None] | None = None) -> list[str]:
        """Load the rig, open the source and start tracking (when on).

        A saved rig or source that no longer works falls back to the defaults (a bundled rig, the
        synthetic source) rather than failing: the returned list says what was replaced and why.

        Args:
            progress: called with what is being done before each slow step (the splash screen).
        """
        say = progress or (lambda _text: None)
        problems: list[str] = []
        say(f"Loading the rig {self.settings.rig}…")
        try:
            rig = load_rig_spec(self.settings.rig)
        except Exception as exc:  # noqa: BLE001 - any bad saved rig falls back
            problems.append(f"rig {self.settings.rig!r} could not be loaded ({exc}); using the dragon")
            self.settings.rig = "dragon"
            rig = load_rig_spec("dragon")
        say(f"Preparing the source {self.settings.source}…")
        try:
            source = create_looping_source(self.settings.source)
        except Exception as exc:  # noqa: BLE001 - any bad saved source falls back
            problems.append(f"source {self.settings.source!r} is unavailable ({exc}); using the synthetic performer")
            self.settings.source = "synthetic"
            source = create_looping_source("synthetic")
        self.rig = rig
        self._load_calibration()
        compiling = self.backend in ("compile", "tensorrt")
        say("Compiling the models (backend %s: up to a minute on a CPU the first time)…" % self.backend if compiling
            else "Loading the models…")
        processor = self._processor_for(rig)
        self.pipeline = Pipeline(source, processor, outputs=[self._recorder, self._sender], stats=self.stats)
        try:
            self._apply_output(self.settings.output)
        except Exception as exc:  # noqa: BLE001 - a bad saved address must not stop the app
            out = self.settings.output
            problems.append(f"output {out.kind} to {out.host}:{out.port} is off ({exc})")
            self.settings.output = replace(self.settings.output, kind="off")
        try:
            recovered = recover_takes(self.takes_dir) if self.takes_dir.is_dir() else []
        except Exception as exc:  # noqa: BLE001 - recovering old takes is best effort
            recovered = []
            problems.append(f"recovering unfinished takes in {self.takes_dir} failed ({exc})")
        if recovered:
            problems.append("recovered unfinished takes: " + ", ".join(p.name for p in recovered))
        if self.settings.tracking:
            say(f"Opening {self.settings.source}…")
            try:
                self.pipeline.start()
            except Exception as exc:  # noqa: BLE001 - a camera that cannot open: report, stay open
                problems.append(f"tracking could not start ({exc})")
                self.settings.tracking = False
        return problems

    def close(self) -> None:
        """Finish any take, stop every thread, close the source, senders and models (idempotent)."""
        self.close_take()
        if self._recorder.recording:
            try:
                self.stop_recording()
            except Exception:  # noqa: BLE001 - closing must go on; the journal stays for recovery
                logger.exception("finishing the take on close failed")
        self._opener.close(in_use=self.pipeline.source if self.pipeline is not None else None)
        if self.pipeline is not None:
            self.pipeline.close()
            self.pipeline = None
        self.take_manager.close()

    # %% events ------------------------------------------------------------------------------------
    def _emit(self, field: str) -> None:
        for callback in list(self.listeners):
            callback(field)

    # %% rig -------------------------------------------------------------------------------------------
    def set_rig(self, spec: str) -> Rig:
        """Drive another rig (a file path or a bundled rig name); a take in progress is finished first.

        Raises:
            RigFormatError: a malformed rig file (the current rig stays).
            FileNotFoundError: neither a file nor a bundled rig name.
        """
        rig = load_rig_spec(spec)
        previous = (self.rig, self.settings.rig, self.neutral, self.calibrated_at)
        self.rig, self.settings.rig = rig, spec
        self._load_calibration()
        try:
            processor = self._processor_for(rig)  # may raise (e.g. a broken saved retarget map): nothing changed yet
        except Exception:
            self.rig, self.settings.rig, self.neutral, self.calibrated_at = previous
            raise
        if self._recorder.recording:
            self.stop_recording()
        assert self.pipeline is not None
        self.pipeline.set_processor(processor)
        if self.settings.output.kind != "off":
            self._apply_output(self.settings.output)  # humanoid bone maps depend on the rig
        self._emit("rig")
        return rig

    def _processor_for(self, rig: Rig):
        filter_config = self.settings.filter.pose_filter_config()
        modes = self.settings.modes()
        processor = build_processor(
            rig, device=self.device, backend=self.backend, filter_config=filter_config, solver=self.solver, modes=modes,
            face_hands=self.face_hands,
        )
        saved_map = self._user_map_path()
        if saved_map is not None and saved_map.is_file():  # a bundled rig's map edited by the user
            from engine.retarget.retargeter import Retargeter

            processor.use_retarget(Retargeter(rig.skeleton, load_map(saved_map, rig.skeleton)))
        if self.neutral is not None:
            # The neutral pose goes through the same modes as the live performer before it reaches the retargeter.
            neutral = legs_at_rest(self.neutral) if modes.upper_body else self.neutral
            neutral = mirror_performer(neutral) if modes.mirror else neutral
            reference = reference_positions(getattr(processor.retarget, "map", None))
            processor.use_retarget(CalibratedRetarget(processor.retarget, NeutralPose(neutral, reference)))
        return self.tap.attach(processor)

    def _load_calibration(self) -> None:
        """The neutral pose saved for the current rig, if any."""
        self.neutral = self.calibrations.load(self.settings.rig)
        path = self.calibrations.path_for(self.settings.rig)
        self.calibrated_at = path.stat().st_mtime if self.neutral is not None else None

    # %% source ----------------------------------------------------------------------------------------
    def set_source(self, spec: str) -> None:
        """Read frames from ``spec`` (``webcam:N``, a video file, an image folder, ``synthetic``).

        Files and folders play in a loop, as a live source would never end.

        Raises:
            SourceUnavailable: it cannot be opened (the current source stays).
        """
        source = create_looping_source(spec)
        assert self.pipeline is not None
        self.pipeline.set_source(source)
        self.settings.source = spec
        self._emit("source")

    def open_source_in_background(self, spec: str) -> Future:
        """Create and open ``spec`` on the opening thread; give the result to :meth:`use_source`.

        Returns:
            A future of the opened source (its exception: :class:`SourceUnavailable`...). A source
            never used is closed by :meth:`close`.
        """
        return self._opener.open_spec(spec)

    def open_in_background(self, source) -> Future:
        """Open ``source`` (e.g. the pipeline's, before tracking starts) on the opening thread;
        ``set_tracking(True)`` then starts without waiting."""
        return self._opener.open_source(source)

    def use_source(self, spec: str, source) -> None:
        """Read frames from ``source``, opened by :meth:`open_source_in_background` for ``spec``."""
        assert self.pipeline is not None
        if self.pipeline.state is not State.RUNNING:
            source.close()  # tracking is off: do not hold the camera; start() opens it again
        self.pipeline.set_source(source)
        self.settings.source = spec
        self._emit("source")

    # %% outputs ---------------------------------------------------------------------------------------
    def set_output(self, output: OutputSettings) -> None:
        """Send to ``output`` from now on (``kind="off"`` stops sending).

        Raises:
            ValueError: an unknown kind or a bad port.
            SenderAddressError: the host cannot be resolved.
        """
        self._apply_output(output)
        self.settings.output = replace(output)
        self._emit("output")

    def _apply_output(self, output: OutputSettings) -> None:
        new = None
        if output.kind != "off":
            assert self.rig is not None
            new = _sender_output(output, self.rig)
        previous = self._sender.swap(new)
        if previous is not None:
            previous.close()

    @property
    def sender(self):
        """The network sender in use (with its ``stats``), or ``None`` when the output is off."""
        output = self._sender.output
        return None if output is None else output.sender

    @property
    def sender_info(self) -> dict:
        """What the sender in use sends (mode, convention, bones; ``warning`` / ``note``), empty when off."""
        output = self._sender.output
        return {} if output is None else dict(output.info)

    # %% take playback (see streaming.take_playback) -------------------------------------------------
    def open_take(self, path: str | Path) -> TakePlayer:
        """Load the take at ``path`` for playback (the live pipeline keeps running underneath).

        Raises:
            TakeError, RigFormatError: the file cannot be played (nothing changes).
        """
        player = TakePlayer(load_take_rig(path))
        self.close_take()
        self.playback = player
        self.playback_path = Path(path)
        self._emit("playback")
        return player

    def close_take(self) -> None:
        """Back to the live view (and live sending)."""
        if self.playback is None:
            return
        self.set_take_resend(False)
        self.playback = None
        self.playback_path = None
        self._emit("playback")

    @property
    def resending_take(self) -> bool:
        return self._replay_output is not None

    def set_take_resend(self, on: bool) -> None:
        """Send the played take over the network output (Output tab) instead of the live poses.

        Live sending pauses meanwhile, so a receiver gets one stream; turning it off resumes it.

        Raises:
            ValueError: no take is open, or the output is off.
        """
        if on and self._replay_output is None:
            if self.playback is None:
                raise ValueError("open a take to re-send first")
            if self.settings.output.kind == "off":
                raise ValueError("the network output is off: choose VMC or OSC in the Output tab first")
            self._replay_output = _sender_output(self.settings.output, self.playback.rig)
            self._sender.live = False
        elif not on and self._replay_output is not None:
            replay, self._replay_output = self._replay_output, None
            replay.close()
            self._sender.live = True
        self._emit("playback")

    def playback_step(self, dt_s: float) -> PoseResult | None:
        """Advance the open take by ``dt_s`` (when playing) and return its pose, re-sent when asked; ``None`` without a take."""
        player = self.playback
        if player is None:
            return None
        player.advance(dt_s)
        result = player.pose()
        if self._replay_output is not None:
            self._replay_output.send(result, player.rig)
        return result

    # %% filter and tracking -------------------------------------------------------------------------
    def set_filter(self, settings: FilterSettings) -> None:
        """Filter with ``settings`` from the next frame (the filter's history starts over).

        Raises:
            ValueError: a cutoff <= 0 or a negative beta.
        """
        new_filter = PoseFilter(settings.pose_filter_config())
        assert self.pipeline is not None
        # One attribute store: the inference thread picks the new filter up at its next frame.
        self.pipeline.processor.filter = new_filter
        self.settings.filter = replace(settings)
        self._emit("filter")

    def set_modes(self, *, mirror: bool | None = None, upper_body: bool | None = None) -> None:
        """Mirror the motion and / or hold the legs at rest (seated), from the next frame."""
        if mirror is not None:
            self.settings.mirror = bool(mirror)
        if upper_body is not None:
            self.settings.upper_body = bool(upper_body)
        assert self.pipeline is not None and self.rig is not None
        if self.neutral is not None:  # the calibration is seen through the modes: rebuild
            self.pipeline.set_processor(self._processor_for(self.rig))
        else:
            self.pipeline.processor.modes = self.settings.modes()  # one attribute store, read once per frame
        self._emit("modes")

    @property
    def tracking_state(self) -> TrackingState | None:
        """``person`` / ``lost`` / ``no_person`` while tracking, ``None`` when tracking is off."""
        pipeline = self.pipeline
        if pipeline is None or pipeline.state is not State.RUNNING:
            return None
        return getattr(pipeline.processor, "tracking_state", None)

    def set_tracking(self, on: bool) -> None:
        """Start or stop capture and inference (stopping releases the camera).

        Raises:
            SourceUnavailable: the source cannot be opened (tracking stays off).
        """
        assert self.pipeline is not None
        if on:
            self.pipeline.start()
        else:
            if self._recorder.recording:
                self.stop_recording()
            self.pipeline.stop()
        self.settings.tracking = bool(on)
        self._emit("tracking")

    def calibrate(self, neutral: np.ndarray | None = None) -> Path:
        """Take ``neutral`` (default: the performer's current pose) as their neutral pose and save it for this rig.

        From the next frame, standing like this shows the rig in its rest pose (see
        :mod:`app.neutral_pose`); a fresh processor also restarts every history (filter, retarget
        delays, the solver's window). The guided way is :class:`app.calibration.CalibrationCapture`,
        which averages a still window and passes its result here.

        Returns:
            The file the calibration was saved to (loaded again with this rig next time).

        Raises:
            ValueError: no performer has been seen yet (tracking off, or nobody in view), or a
                malformed ``neutral``.
        """
        assert self.rig is not None and self.pipeline is not None
        if neutral is None:
            neutral = self.tap.latest_performer
        if neutral is None:
            raise ValueError("no performer seen yet: start tracking and stand in view, then calibrate")
        neutral = np.array(neutral, dtype=np.float64)
        NeutralPose(neutral, reference_positions(None))  # checks the shape and values before anything changes
        self.neutral = neutral
        self.pipeline.set_processor(self._processor_for(self.rig))
        self.calibrated_at = time.time()
        try:
            path = self.calibrations.save(self.settings.rig, neutral)
        finally:
            self._emit("calibration")
        return path

    def clear_calibration(self) -> None:
        """Go back to the canonical reference poses (T-pose, arms down) for the performer; forget the saved one."""
        assert self.rig is not None and self.pipeline is not None
        self.neutral = None
        self.calibrated_at = None
        self.calibrations.delete(self.settings.rig)
        self.pipeline.set_processor(self._processor_for(self.rig))
        self._emit("calibration")

    # %% retarget map ----------------------------------------------------------------------------------
    def retarget_map_path(self) -> Path | None:
        """Where the map of the current rig is saved: beside the user's rig file, or in the user's config
        folder for a bundled rig (never into the checkout); ``None`` for a rig with neither."""
        if self.rig is None:
            return None
        user_map = self._user_map_path()
        if user_map is not None:
            return user_map
        return map_path_for(self.rig.source.path) if self.rig.source.path else None

    def _user_map_path(self) -> Path | None:
        """``<config>/retarget/<rig>.retarget.json`` for a bundled rig (or one with no file), else ``None``."""
        from engine.rigs.bundled import bundled_rig_names

        spec = self.settings.rig
        if self.rig is None or (spec not in bundled_rig_names() and self.rig.source.path):
            return None
        return self.config_dir / "retarget" / f"{rig_key(spec)}.retarget.json"

    def suggested_map(self) -> RetargetMap:
        assert self.rig is not None
        return suggest_map(self.rig.skeleton, self.rig.name)

    def retarget_map(self) -> RetargetMap:
        """The map in use: the one saved beside the rig, else the automatic suggestion."""
        assert self.rig is not None
        path = self.retarget_map_path()
        if path is not None and path.is_file():
            return load_map(path, self.rig.skeleton)
        return self.suggested_map()

    def save_retarget_map(self, retarget_map: RetargetMap) -> Path:
        """Check ``retarget_map``, save it beside the rig and drive the rig with it from the next frame.

        Raises:
            RetargetMapError: the map names joints the rig does not have, or is otherwise invalid.
            OSError: the rig has no file or its folder is not writable.
        """
        assert self.rig is not None and self.pipeline is not None
        RetargetMap.from_dict(retarget_map.to_dict(), path="<edited map>", skeleton=self.rig.skeleton)
        path = self.retarget_map_path()
        if path is None:
            raise OSError(f"rig {self.rig.name!r} has no file to save a retarget map beside")
        path.parent.mkdir(parents=True, exist_ok=True)
        save_map(retarget_map, path)
        self.pipeline.set_processor(self._processor_for(self.rig))
        self._emit("retarget")
        return path

    # %% takes (see app.take_manager) -------------------------------------------------------------------
    @property
    def takes_dir(self) -> Path:
        return self.take_manager.folder

    @property
    def recording(self) -> bool:
        return self.take_manager.recording

    def set_take_options(self, *, take_format: str | None = None, takes_dir: str | None = None) -> None:
        """Format (``glb``, ``bvh``, ``npz``) and folder of the next takes (``ValueError``: unknown format)."""
        self.take_manager.set_options(take_format=take_format, takes_dir=takes_dir)
        self._emit("takes")

    def start_recording(self, name: str) -> Path:
        """Record every result of the current rig into a new take called ``name`` (see :meth:`TakeManager.start`)."""
        assert self.rig is not None
        path = self.take_manager.start(name, self.rig)
        self._emit("recording")
        return path

    def stop_recording(self) -> Path | None:
        """Finish the take on this thread; ``None`` when not recording (``TakeError`` keeps the journal)."""
        try:
            return self.take_manager.stop()
        finally:
            self._emit("recording")
            self._emit("takes")

    def finish_recording_in_background(self) -> Future | None:
        """Stop recording now and write the take file on a worker thread (see :meth:`TakeManager.finish_in_background`)."""
        future = self.take_manager.finish_in_background()
        if future is not None:
            self._emit("recording")
        return future

    def takes(self) -> list[Path]:
        """Take files in the takes folder, newest first."""
        return self.take_manager.files()

    def check_pipeline(self) -> str | None:
        """Notice a pipeline that stopped by itself; returns what happened, once, or ``None``.

        A worker that raised (the pipeline is FAULTED) or a source that ended leaves the threads
        done but the session still "tracking": stop it properly (threads joined, source closed,
        a take in progress written), turn tracking off and say why. Call it from a timer.
        """
        pipeline = self.pipeline
        if pipeline is None or not self.settings.tracking or pipeline.state not in (State.RUNNING, State.FAULTED):
            return None
        if not pipeline.wait(0):
            return None
        faulted = pipeline.state is State.FAULTED
        reason = f"the pipeline stopped: {type(pipeline.error).__name__}: {pipeline.error}" if faulted else f"source {pipeline.source.source_id} ended"
        if not faulted and pipeline.source.status.last_error:
            reason += f": {pipeline.source.status.last_error}"  # a video cut short, say
        if self.recording:
            try:
                self.stop_recording()
            except Exception:  # noqa: BLE001 - the journal stays for recover_takes(); the fault is what we report
                logger.exception("finishing the take after the pipeline stopped failed")
        pipeline.stop()
        self.settings.tracking = False
        self._emit("tracking")
        return reason

    # %% polling (GUI timers) ---------------------------------------------------------------------------
    def take_result(self) -> PoseResult | None:
        """The newest pose since the last call, or ``None``."""
        if self.pipeline is None:
            return None
        result = self.pipeline.latest.take(0)
        if result is not None:
            self._last_result = result
        return result

    def take_camera(self) -> CameraSample | None:
        return self.tap.camera.take(0)

    def measure_fps(self) -> float:
        """Update the results-per-second estimate (over >= 0.5 s; call it at a steady rate) and return it."""
        now, processed = time.monotonic(), self.stats.counter("frames_processed")
        t0, n0 = self._fps_mark
        if now - t0 >= 0.5:
            self._fps = max(processed - n0, 0) / (now - t0)
            self._fps_mark = (now, processed)
        return self._fps

    def status(self) -> SessionStatus:
        """Facts for the status bar (the fps is the last :meth:`measure_fps`)."""
        pipeline = self.pipeline
        if pipeline is None:
            return SessionStatus("", "stopped", "closed", "", "", "", 0.0, 0.0)
        info = pipeline.processor.info
        running = pipeline.state is State.RUNNING
        return SessionStatus(
            source=pipeline.source.source_id,
            camera=pipeline.source.status.state.value if running else "stopped",
            pipeline=pipeline.state.value,
            backend=info.backend,
            device=info.device,
            solver=info.solver,
            fps=self._fps if running else 0.0,
            latency_ms=self.end_to_end_ms(),
            error=repr(pipeline.error) if pipeline.error else "",
            tracking=state.value if (state := self.tracking_state) is not None else "",
        )

    @property
    def status_fps(self) -> float:
        """Results per second as last measured by :meth:`measure_fps`."""
        return self._fps

    def end_to_end_ms(self) -> float:
        """Newest capture -> send latency when sending, else capture -> result (0 before any result)."""
        sent = self._sender.last_latency_ms
        if self._sender.output is not None and sent is not None:
            return float(sent)
        result = self._last_result
        return float(result.latencies_ms()["total"]) if result is not None else 0.0



def _sender_output(output: OutputSettings, rig: Rig):
    """A sender output for ``output`` (kind vmc / vmc-generic / osc) driving ``rig``'s bones."""
    if output.kind == "osc":
        from streaming.headless import SenderOutput
        from streaming.senders import OscSender

        return SenderOutput("osc", OscSender(output.host, int(output.port), output.osc_prefix, bundle=output.bundle))
    options = VmcOptions(raw=output.vmc_raw, humanoid_map=output.humanoid_map)
    new = make_sender_output(output.kind, f"{output.host}:{int(output.port)}", rig, options)
    new.sender.bundle = bool(output.bundle)
    return new
