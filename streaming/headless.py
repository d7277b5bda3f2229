"""``python main.py run``: the live pipeline without a window.

::

    python main.py run --source {webcam[:N]|FILE|DIR|synthetic} --rig RIG
        [--vmc HOST:PORT | --vmc-generic HOST:PORT | --osc HOST:PORT] [--record PATH]
        [--seconds N] [--stats stats.json] [--device auto|cpu|cuda] [--backend auto|eager|compile|tensorrt]
        [--no-face] [--no-hands] [--face-every N] [--hands-every N] [--alternate-hands on|off]
        [--blendshapes vrm0|arkit|off]

``RIG`` is a rig file (BVH, GLB, glTF, VRM) or a bundled rig name. The run stops after
``--seconds``, at the end of a file or folder source, or on Ctrl-C (SIGINT) or SIGTERM, always
through the pipeline's orderly ``close()``. It prints a one-line summary; ``--stats`` writes the
full statistics (frames, fps, per-stage and end-to-end latency percentiles, model backend and
device, sender counters) as JSON.

The helpers here (:func:`load_rig_spec`, :func:`make_sender_output`) are also what the desktop app
uses to build the same pipeline from its settings.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import AnyRigError
from engine.rig import Rig
from streaming.face_hands_stage import FaceHandsConfig
from streaming.frames import PoseResult
from streaming.pipeline import Output, Pipeline, State
from streaming.processor import build_processor
from streaming.run_stats import RunStats
from streaming.settings import SessionSettings, parse_host_port
from streaming.source_registry import create_source
from streaming.tracking import ProcessingModes
from streaming.sources import SourceUnavailable

__all__ = ["RecorderOutput", "SenderOutput", "VmcOptions", "cmd_run", "face_hands_config", "load_rig_spec", "make_sender_output",
           "rig_humanoid_bones", "run_summary", "source_options"]

logger = logging.getLogger(__name__)

WEBCAM_SIZE = (640, 480)  # pixels requested from a webcam
WEBCAM_FPS = 30.0


# %% rigs and outputs ------------------------------------------------------------------------------
def load_rig_spec(spec: str) -> Rig:
    """A rig from a file path or a bundled rig name (``"dragon"``).

    Raises:
        RigFormatError: the file cannot be read.
        FileNotFoundError: ``spec`` is neither an existing file nor a bundled rig name.
    """
    from engine.rigs.bundled import build_rig, bundled_rig_names, bundled_rig_path
    from engine.formats.rigio import load_rig

    path = Path(spec).expanduser()
    if path.is_file():
        return load_rig(path)
    if spec in bundled_rig_names():
        if bundled_rig_path(spec).is_file():
            return load_rig(bundled_rig_path(spec))
        logger.info("bundled rig file %s is missing; authoring %r in memory", bundled_rig_path(spec), spec)
        return build_rig(spec).rig
    raise FileNotFoundError(f"{spec}: no such rig file, and not a bundled rig ({', '.join(bundled_rig_names())})")


class SenderOutput:
    """A VMC or OSC sender as a pipeline :class:`~streaming.pipeline.Output` (own thread, drops).

    ``info`` describes what is sent (mode, convention, bones, prefix) and carries ``warning``, a
    sentence the run statistics, the CLI summary and the app show when the stream is probably not
    what the user wants (a humanoid-looking rig sent under its own joint names).
    """

    inline = False

    def __init__(self, name: str, sender: Any, info: dict[str, Any] | None = None) -> None:
        self.name = name
        self.sender = sender
        self.info: dict[str, Any] = dict(info or {})

    def send(self, result: PoseResult, rig: Rig) -> bool:
        return bool(self.sender.send(result, rig.skeleton))

    def close(self) -> None:
        self.sender.close()


@dataclass(frozen=True)
class VmcOptions:
    """How ``vmc`` / ``vmc-generic`` streams are built (CLI ``--vmc-raw``, ``--vmc-prefix``, ``--humanoid-map``).

    Attributes:
        raw: humanoid bones carry the rig's own rotations instead of the normalised (T-pose
            relative) ones VRM receivers expect.
        prefix: generic mode: put before every joint name; ``None``: ``anyrig:`` only when a name
            collides with a Unity humanoid bone name.
        humanoid_map: a JSON file (Unity bone -> joint name) fixing or completing the found map.
        blendshapes: names of the face's ``/VMC/Ext/Blend/Val`` messages (CLI ``--blendshapes``):
            ``vrm0`` (default), ``arkit`` or ``off``.
    """

    raw: bool = False
    prefix: str | None = None
    humanoid_map: str = ""
    blendshapes: str = "vrm0"


# The live default schedule (README, "Face and hands"): the face on every frame, the hands on every
# 2nd frame with one hand per run, so each hand is seen every 4th frame and the pose filter bridges.
DEFAULT_FACE_EVERY = 1
DEFAULT_HANDS_EVERY = 2
DEFAULT_ALTERNATE_HANDS = True


def face_hands_config(args: argparse.Namespace) -> FaceHandsConfig:
    """The face and hands schedule from the ``run`` / ``gui`` options (defaults where not given)."""
    face_every = getattr(args, "face_every", None)
    hands_every = getattr(args, "hands_every", None)
    alternate = getattr(args, "alternate_hands", None)
    return FaceHandsConfig(
        face=not getattr(args, "no_face", False),
        hands=not getattr(args, "no_hands", False),
        face_every=DEFAULT_FACE_EVERY if face_every is None else int(face_every),
        hands_every=DEFAULT_HANDS_EVERY if hands_every is None else int(hands_every),
        alternate_hands=DEFAULT_ALTERNATE_HANDS if alternate is None else alternate == "on",
        background=getattr(args, "face_hands_thread", "on") != "off",
    )


def rig_humanoid_bones(rig: Rig, humanoid_map: str = "") -> tuple[dict[str, str], Any]:
    """The rig's humanoid map (Unity bone -> joint name) and the name-and-hierarchy match behind it.

    The rig's own map (VRM, a GLB written by AnyRig) when it has one, else the bones found by
    :func:`engine.retarget.humanoid_names.find_humanoid_bones`; ``humanoid_map`` (a file path)
    fixes or completes it. The match is ``None`` when the rig had its own map.

    Raises:
        HumanoidMapError: the file cannot be used.
    """
    from engine.retarget.humanoid_map_file import merge_humanoid_map, read_humanoid_map
    from engine.retarget.humanoid_names import find_humanoid_bones

    match = None
    bones = dict(rig.humanoid)
    if not bones:
        match = find_humanoid_bones(rig.skeleton)
        bones = dict(match.bones)
    if humanoid_map:
        entries, replace = read_humanoid_map(humanoid_map, rig.skeleton)
        bones = merge_humanoid_map(bones, entries, replace)
    return bones, match


def make_sender_output(kind: str, address: str, rig: Rig, options: VmcOptions | None = None) -> SenderOutput:
    """A sender for ``kind`` (``vmc``, ``vmc-generic``, ``osc``) to ``address`` (``HOST:PORT``).

    ``vmc`` sends Unity humanoid bone names (see :func:`rig_humanoid_bones`), normalised unless
    ``options.raw``; a rig that is not a humanoid (a dragon, a snake) is sent under its own joint
    names instead, as ``vmc-generic`` would, and when the rig looks humanoid (most main bones found)
    ``info["warning"]`` says so, naming what is missing.

    Raises:
        ValueError: a malformed address or an unknown kind.
        SenderAddressError: the host cannot be resolved.
        HumanoidMapError: the humanoid map file cannot be used.
    """
    from engine import rotations as rot
    from engine.retarget.humanoid_names import REQUIRED_BONES
    from streaming.senders import OscSender, VmcSender

    options = options or VmcOptions()
    host, port = parse_host_port(address)
    if kind == "osc":
        return SenderOutput("osc", OscSender(host, port), {"mode": "osc"})
    if kind not in ("vmc", "vmc-generic"):
        raise ValueError(f"output kind must be vmc, vmc-generic or osc, got {kind!r}")
    bones, match = rig_humanoid_bones(rig, options.humanoid_map) if kind == "vmc" else ({}, None)
    missing = [b for b in REQUIRED_BONES if b not in bones]
    issues = match.issues if match is not None and not options.humanoid_map else []
    if kind == "vmc-generic" or missing or issues:
        sender = VmcSender(host, port, mode="generic", prefix=options.prefix, blendshapes=options.blendshapes)
        layout = sender.layout_for(rig.skeleton)
        info: dict[str, Any] = {"mode": "generic", "convention": "generic", "bones": len(layout.names),
                                "prefix": layout.prefix}
        if kind == "vmc":
            looks_humanoid = len(bones) >= len(REQUIRED_BONES) // 2
            reason = f"missing {', '.join(missing[:4])}" if missing else "; ".join(issues[:2])
            text = (f"rig {rig.name} looks humanoid but is sent as a GENERIC VMC stream ({reason}): humanoid receivers "
                    "will not move it; complete its map with --humanoid-map FILE" if looks_humanoid
                    else f"rig {rig.name} is not a humanoid ({reason}); VMC sends its own joint names, as --vmc-generic")
            info["warning" if looks_humanoid else "note"] = text
            logger.warning("%s", text)
        return SenderOutput("vmc", sender, info)
    turn = rot.axis_angle_to_quat(np.array([0.0, np.radians(rig.source.turned_y_deg), 0.0]))
    joint_to_unity = {joint: unity for unity, joint in bones.items()}
    sender = VmcSender(host, port, mode="humanoid", humanoid=joint_to_unity, normalized=not options.raw, facing_turn=turn,
                       blendshapes=options.blendshapes)
    info = {"mode": "humanoid", "convention": "raw" if options.raw else "normalized", "bones": len(bones)}
    if match is not None and match.notes:
        info["note"] = "; ".join(match.notes)
    return SenderOutput("vmc", sender, info)


class RecorderOutput:
    """A :class:`~streaming.takes.TakeRecorder` as an inline output: every result, never blocking.

    The recorder buffers in its own bounded queue (a full queue drops and counts); ``close()``
    finishes the take (journal -> file).
    """

    inline = True
    name = "record"

    def __init__(self, path: str | Path, rig: Rig) -> None:
        from streaming.takes import TakeRecorder, set_aside_journal

        done = set_aside_journal(path)
        if done:
            logger.warning("%s", done)
        self.recorder = TakeRecorder(path, rig.skeleton, rig_path=rig.source.path or None, rig_name=rig.name)
        self.recorder.start()

    def send(self, result: PoseResult, rig: Rig) -> bool:
        return self.recorder.write(result)

    def close(self) -> None:
        from streaming.takes import TakeError

        try:
            path = self.recorder.finish()
        except TakeError as error:  # no frame recorded, say: said once, without a traceback
            logger.warning("%s", error)
            return
        logger.info("take written to %s", path)


def source_options(spec: str) -> dict[str, Any]:
    """Constructor options for a source spec: a webcam is asked for 640x480 at 30 fps.

    MediaPipe works on a 256-pixel crop, so a larger capture only costs decoding time, and 30 fps
    is the rate the live budget is set for (DESIGN §6). Other sources take their defaults.
    """
    if spec.partition(":")[0] == "webcam" and not Path(spec).exists():
        return {"width": WEBCAM_SIZE[0], "height": WEBCAM_SIZE[1], "fps": WEBCAM_FPS}
    return {}


# %% the command -----------------------------------------------------------------------------------
def run_summary(report: dict[str, Any]) -> str:
    """The one-line summary of a run report (:meth:`RunStats.to_dict` plus headless facts)."""
    f = report["frames"]
    line = (
        f"ran {report['duration_s']:.1f} s on {report.get('source', '?')} -> {report.get('rig', '?')}: "
        f"{f['captured']} frames captured, {f['processed']} processed, {f['dropped']} dropped, "
        f"{report['fps']['processed']:.1f} fps"
    )
    e2e = report.get("end_to_end_ms")
    if e2e and e2e.get("count"):
        line += f"; {report['end_to_end_series']} latency p50 {e2e['p50_ms']:.1f} ms, p95 {e2e['p95_ms']:.1f} ms, p99 {e2e['p99_ms']:.1f} ms"
    cut = (report.get("source_status") or {}).get("last_error")
    if cut:
        line += f"; WARNING {cut}"
    model = report.get("model", {})
    if model:
        line += f"; solver {model.get('solver')} ({model.get('backend')}, {model.get('device')})"
    for sender in report.get("senders", {}).values():
        if sender.get("warning"):
            line += f"\nWARNING: {sender['warning']}"
    return line


def cmd_run(args: argparse.Namespace) -> int:
    """Run the headless pipeline; returns 0, 1 (a worker faulted) or 2 (bad input)."""
    defaults = SessionSettings()
    rig_spec, source_spec = args.rig or defaults.rig, args.source or defaults.source
    try:
        rig = load_rig_spec(rig_spec)
        source = create_source(source_spec, **source_options(source_spec))
        vmc_options = VmcOptions(raw=bool(getattr(args, "vmc_raw", False)), prefix=getattr(args, "vmc_prefix", None),
                                 humanoid_map=getattr(args, "humanoid_map", None) or "", blendshapes=getattr(args, "blendshapes", "vrm0"))
        outputs: list[Output] = []
        for kind, address in (("vmc", args.vmc), ("vmc-generic", args.vmc_generic), ("osc", args.osc)):
            if address:
                outputs.append(make_sender_output(kind, address, rig, vmc_options))
        if args.record:
            outputs.append(RecorderOutput(args.record, rig))
        face_hands = face_hands_config(args)
    except (AnyRigError, FileNotFoundError, ValueError, OSError) as exc:
        logger.error("%s", exc)
        return 2
    modes = ProcessingModes(mirror=bool(getattr(args, "mirror", None)), upper_body=bool(getattr(args, "upper_body", None)))
    processor = build_processor(rig, device=args.device, backend=args.backend, solver=getattr(args, "solver", "analytic_ik"),
                                modes=modes, face_hands=face_hands)
    stats = RunStats()
    pipeline = Pipeline(source, processor, outputs=outputs, stats=stats)
    stop_requested = threading.Event()
    previous = _install_sigterm(stop_requested)
    cpu_start = time.process_time()
    try:
        pipeline.start()
        logger.info("running: %s -> %s (%d joints)%s; Ctrl-C stops", source.source_id, rig.name, rig.skeleton.num_joints,
                    f" for {args.seconds:g} s" if args.seconds is not None else "")
        _wait(pipeline, args.seconds, stop_requested)
    except SourceUnavailable as exc:
        logger.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        logger.info("interrupted: stopping")
    finally:
        pipeline.close()
        _restore_sigterm(previous)
    report = _report(pipeline, stats, args, rig, outputs)
    # CPU time of the whole process (every thread): what the run costs without contention.
    cpu_s = time.process_time() - cpu_start
    report["cpu"] = {"process_s": round(cpu_s, 3), "per_processed_frame_ms": 1000 * cpu_s / max(report["frames"]["processed"], 1),
                     "cores_used": cpu_s / max(report["duration_s"], 1e-9)}
    if args.stats:
        Path(args.stats).write_text(_json(report))
    print(run_summary(report))
    if pipeline.state is State.FAULTED:
        logger.error("the pipeline faulted: %r", pipeline.error)
        return 1
    return 0


def _wait(pipeline: Pipeline, seconds: float | None, stop_requested: threading.Event) -> None:
    deadline = None if seconds is None else time.monotonic() + seconds
    while not stop_requested.is_set():
        remaining = 0.2 if deadline is None else min(0.2, deadline - time.monotonic())
        if remaining <= 0 or pipeline.wait(remaining):
            return


def _install_sigterm(stop_requested: threading.Event) -> Any:
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, lambda *_: stop_requested.set())


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _report(pipeline: Pipeline, stats: RunStats, args: argparse.Namespace, rig: Rig, outputs: list[Output]) -> dict[str, Any]:
    senders = {o.name: {**o.sender.stats.to_dict(), **o.info} for o in outputs if isinstance(o, SenderOutput)}
    first = next((o.name for o in outputs if not getattr(o, "inline", False)), None)
    series = f"capture_to_{first}" if first else "capture_to_result"
    return stats.to_dict(
        source=pipeline.source.source_id,
        source_status={"state": pipeline.source.status.state.value, "reconnects": pipeline.source.status.reconnects,
                       "last_error": pipeline.source.status.last_error},
        rig=rig.name,
        joints=rig.skeleton.num_joints,
        model=pipeline.processor.info.to_dict() if hasattr(pipeline.processor, "info") else {},
        dropped_nonfinite=dict(getattr(pipeline.processor, "dropped_nonfinite", {})),  # frames dropped for NaN / inf, per stage
        person=pipeline.processor.person_report() if hasattr(pipeline.processor, "person_report") else {},
        senders=senders,
        end_to_end_series=series,
        end_to_end_ms=stats.latency(series),
        face_hands=_face_hands_report(pipeline.processor),
        state=pipeline.state.value,
        error=repr(pipeline.error) if pipeline.error else None,
    )


def _face_hands_report(processor: Any) -> dict[str, Any]:
    """The face and hands schedule, run / found counts and why a part was turned off (per-stage
    timing is in ``latency_ms["stage.face"]`` / ``["stage.hands"]``)."""
    stage = getattr(processor, "face_hands", None)
    if stage is None:
        return {"enabled": False}
    return {"enabled": True, **stage.config.to_dict(), "face_active": stage.face_active, "hands_active": stage.hands_active,
            **stage.counts, "messages": list(stage.messages)}


def _json(report: dict[str, Any]) -> str:
    import json

    return json.dumps(report, indent=2) + "\n"
