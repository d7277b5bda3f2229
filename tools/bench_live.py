"""``python main.py bench live`` and ``bench soak``: latency of the live path, and drift over time.

``bench live`` measures two things on this machine (DESIGN §6 budgets: sustained 30 fps, capture ->
send median <= 40 ms, p95 <= 60 ms):

1. **stages**: the per-frame work run back to back on one thread, ``--frames`` frames, each frame
   stamped right before it is processed, so every stage (perception, face, hands, V2P, retarget,
   P2R, filter) is timed alone. Real frames with MediaPipe when a shared video and the pose model
   are present (``../shared/video``), else the synthetic performer with simulated landmarks (then
   the face and hands stages do not run). The face and hands run on the schedule given by the
   ``run`` options (``--no-face``, ``--hands-every``..., default: the live default schedule).
   ``cpu_ms_per_frame`` is the process CPU time per frame (all threads, after the first 10 frames,
   which load the models), which a busy machine inflates far less than the wall-clock stage times;
2. **pipeline**: the threaded pipeline fed by the synthetic source at 30 fps, sending VMC to a UDP
   receiver on 127.0.0.1, for ``--frames`` frames: fps, drops, capture -> send percentiles, and how
   many frames the receiver got.

``bench soak`` runs the threaded pipeline for ``--minutes`` and samples the resident memory (RSS)
and the capture -> send latency every 10 s, reporting the drift between the first and last samples.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from streaming.frames import Frame
from streaming.pipeline import Pipeline
from streaming.processor import build_processor
from streaming.run_stats import RunStats
from streaming.stats import LatencyStats

__all__ = ["UdpCounter", "cmd_bench_live", "cmd_bench_soak", "measure_pipeline", "measure_stages", "rss_mb"]

logger = logging.getLogger(__name__)

SOAK_SAMPLE_S = 10.0
CPU_WARMUP_FRAMES = 10  # frames left out of the CPU time per frame (model loading)
STAGES = ("queue", "perception", "face", "hands", "handoff", "v2p", "retarget", "p2r", "filter", "total")


def rss_mb() -> float:
    """Resident memory of this process, MiB (Linux ``/proc/self/status``; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return 0.0


class UdpCounter:
    """A UDP receiver on 127.0.0.1 (ephemeral port) that counts datagrams on its own thread."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.port = int(self.sock.getsockname()[1])
        self.datagrams = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="anyrig-bench-receiver")

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.recv(65536)
            except TimeoutError:
                continue
            self.datagrams += 1

    def __enter__(self) -> UdpCounter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)
        self.sock.close()


def _video_frames(count: int) -> tuple[list[np.ndarray], str] | None:
    """Up to ``count`` frames of the first human clip in ``../shared/video`` (looped), or ``None``."""
    import cv2

    folder = Path(os.environ.get("ANYRIG_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "video"
    videos = sorted(folder.glob("human_*.mp4"))
    if not videos:
        return None
    cap = cv2.VideoCapture(str(videos[0]))
    images: list[np.ndarray] = []
    while len(images) < min(count, 150):
        ok, image = cap.read()
        if not ok:
            break
        if image.shape[1] > 960:  # webcam-like resolution
            scale = 640 / image.shape[1]
            image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        images.append(image)
    cap.release()
    return (images, videos[0].name) if images else None


def measure_stages(rig_name: str, frames: int, *, use_video: bool = True, device: str = "auto", backend: str = "auto",
                   solver: str = "analytic_ik", face_hands: Any = None) -> dict[str, Any]:
    """Per-stage latency percentiles of the per-frame work, run back to back (no threads).

    ``face_hands`` is a :class:`streaming.face_hands_stage.FaceHandsConfig` (None: body only).
    """
    from streaming.headless import load_rig_spec
    from streaming.synthetic_source import SyntheticSource

    rig = load_rig_spec(rig_name)
    video = _video_frames(frames) if use_video else None
    perception = "simulated"
    if video is not None:
        try:
            from engine.perception.model_files import resolve_pose_model

            resolve_pose_model(allow_download=False)
            perception = "mediapipe"
        except Exception as exc:  # no adapter or no model file: measure the synthetic path instead
            logger.info("MediaPipe unavailable (%s): measuring with the synthetic performer", exc)
            video = None
    processor = build_processor(rig, perception=perception, device=device, backend=backend, solver=solver, face_hands=face_hands)
    series = {s: LatencyStats() for s in STAGES}
    if video is not None:
        images, input_name = video
        next_image = lambda i: (images[i % len(images)], None)  # noqa: E731
    else:
        src = SyntheticSource(realtime=False)
        src.open()
        input_name = "synthetic"

        def next_image(i: int) -> tuple[np.ndarray, Any]:
            f = src.read()
            return f.image, f

    with_person = 0
    cpu_start = time.process_time()  # every thread of the process: MediaPipe computes on its own threads
    try:
        for i in range(frames):
            if i == CPU_WARMUP_FRAMES:  # models load on first use: time the steady state
                cpu_start = time.process_time()
            image, synthetic = next_image(i)
            t = time.monotonic_ns()  # stamped right before processing: perception is timed alone
            frame = Frame(image, t, i, input_name) if synthetic is None else type(synthetic)(
                image, t, i, input_name, landmarks=synthetic.landmarks)
            result = processor.process(frame)
            if result is None:
                continue
            with_person += 1
            for stage, ms in result.latencies_ms().items():
                if stage in series:
                    series[stage].add_ms(ms)
    finally:
        cpu_ms_per_frame = 1000.0 * (time.process_time() - cpu_start) / max(frames - CPU_WARMUP_FRAMES, 1)
        processor.close()
    return {
        "input": input_name,
        "cpu_ms_per_frame": round(cpu_ms_per_frame, 2),
        "frames": frames,
        "frames_with_pose": with_person,
        "rig": rig.name,
        "joints": rig.skeleton.num_joints,
        "model": processor.info.to_dict(),
        "face_hands": _face_hands_counts(processor),
        "latency_ms": {s: series[s].to_dict() for s in STAGES},
    }


def _face_hands_counts(processor: Any) -> dict[str, Any]:
    stage = getattr(processor, "face_hands", None)
    return {"enabled": False} if stage is None else {"enabled": True, **stage.config.to_dict(), **stage.counts}


def measure_pipeline(rig_name: str, seconds: float, *, device: str = "auto", backend: str = "auto", solver: str = "analytic_ik",
                     sample_s: float | None = None, images: list[np.ndarray] | None = None, face_hands: Any = None) -> dict[str, Any]:
    """Run the threaded pipeline at 30 fps -> VMC to a local receiver.

    Args:
        rig_name: rig file or bundled name.
        seconds: how long to run.
        device, backend: model settings.
        sample_s: when set, also sample RSS and the latency of each interval (for the soak).
        images: camera frames to feed (written as JPEG files, read back by the image-folder source
            at 30 fps, looped, through MediaPipe: the camera path); None: the synthetic performer
            with simulated landmarks (no MediaPipe).
        face_hands: the face and hands schedule for the camera path (None: body only).
    """
    from streaming.headless import load_rig_spec

    rig = load_rig_spec(rig_name)
    with tempfile.TemporaryDirectory(prefix="anyrig-bench-") as folder:
        source = _camera_source(images, Path(folder)) if images else None
        if source is None:
            from streaming.synthetic_source import SyntheticSource

            source = SyntheticSource()
            processor = build_processor(rig, device=device, backend=backend, solver=solver)
        else:
            processor = build_processor(rig, perception="mediapipe", device=device, backend=backend, solver=solver, face_hands=face_hands)
        return _run_pipeline(rig, processor, source, seconds, sample_s)


def _camera_source(images: list[np.ndarray], folder: Path) -> Any:
    """An image-folder source over ``images`` written as JPEG (what a webcam's MJPEG gives) at 30 fps, looped."""
    import cv2

    from streaming.sources import ImageFolderSource

    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f"{i:05d}.jpg"), image)
    return ImageFolderSource(folder, fps=30.0, realtime=True, loop=True)


def _run_pipeline(rig: Any, processor: Any, source: Any, seconds: float, sample_s: float | None) -> dict[str, Any]:
    """``processor`` fed by ``source`` for ``seconds``, sending VMC to a local receiver; the run statistics."""
    from streaming.headless import make_sender_output

    stats = RunStats()
    samples: list[dict[str, float]] = []
    with UdpCounter() as receiver:
        output = make_sender_output("vmc-generic", f"127.0.0.1:{receiver.port}", rig)
        pipeline = Pipeline(source, processor, outputs=[output], stats=stats)
        start = time.monotonic()
        with pipeline:
            next_sample = start + (sample_s or seconds)
            while time.monotonic() - start < seconds and not pipeline.wait(0.2):
                if sample_s and time.monotonic() >= next_sample:
                    interval = stats.take_interval("capture_to_vmc")  # this interval's samples only
                    samples.append({"t_s": round(time.monotonic() - start, 1), "rss_mb": round(rss_mb(), 1),
                                    "p50_ms": interval["p50_ms"], "p95_ms": interval["p95_ms"], "sent": interval["count"]})
                    next_sample += sample_s
        time.sleep(0.2)  # let the last datagrams arrive
        sender_stats = output.sender.stats.to_dict()
        received = receiver.datagrams
    report = stats.to_dict(rig=rig.name, joints=rig.skeleton.num_joints, model=processor.info.to_dict(),
                           sender=sender_stats, datagrams_received=received, input=source.source_id)
    if samples:
        report["samples"] = samples
    return report


def _budget(report: dict[str, Any]) -> dict[str, Any]:
    lat = report["latency_ms"].get("capture_to_vmc", {})
    return {
        "fps_ok": report["fps"]["processed"] >= 29.0,
        "median_ok": bool(lat) and lat["p50_ms"] <= 40.0,
        "p95_ok": bool(lat) and lat["p95_ms"] <= 60.0,
    }


def cmd_bench_live(args: argparse.Namespace) -> int:
    """``bench live``: stage latencies, then the threaded pipeline for ``--frames`` frames at 30 fps."""
    device, backend = getattr(args, "device", "auto"), getattr(args, "backend", "auto")
    solver = getattr(args, "solver", "analytic_ik")
    from streaming.headless import face_hands_config

    face_hands = face_hands_config(args)
    stages = measure_stages(args.rig, args.frames, device=device, backend=backend, solver=solver, face_hands=face_hands)
    # The threaded part runs the camera path (video frames through MediaPipe) when the stages did.
    video = _video_frames(args.frames) if stages["input"] != "synthetic" else None
    pipe = measure_pipeline(args.rig, args.frames / 30.0, device=device, backend=backend, solver=solver,
                            images=video[0] if video else None, face_hands=face_hands)
    if video:
        pipe["input"] = f"{video[1]} as JPEG frames at 30 fps"
    report = {"stages": stages, "pipeline": pipe, "budget": _budget(pipe), "cpu_count": os.cpu_count()}
    for stage in STAGES:
        s = stages["latency_ms"][stage]
        if s["count"]:
            logger.info("%-10s p50 %7.2f ms  p95 %7.2f ms  mean %7.2f ms", stage, s["p50_ms"], s["p95_ms"], s["mean_ms"])
    lat = pipe["latency_ms"].get("capture_to_vmc", {"p50_ms": 0, "p95_ms": 0, "p99_ms": 0})
    print(f"live path on {stages['input']} -> {stages['rig']} ({stages['model']['solver']}, face/hands "
          f"{stages['model'].get('face_hands', 'off')}): stage total p50 {stages['latency_ms']['total']['p50_ms']:.1f} ms, "
          f"CPU {stages['cpu_ms_per_frame']:.1f} ms/frame; pipeline on {pipe['input']}: {pipe['fps']['processed']:.1f} fps "
          f"({pipe['fps']['processed_recent']:.1f} recent), "
          f"capture->send p50 {lat['p50_ms']:.1f} / p95 {lat['p95_ms']:.1f} / p99 {lat['p99_ms']:.1f} ms, "
          f"{pipe['frames']['dropped']} dropped")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return 0


def cmd_bench_soak(args: argparse.Namespace) -> int:
    """``bench soak``: run for ``--minutes``; report RSS and latency drift."""
    report = measure_pipeline(args.rig, args.minutes * 60.0, sample_s=min(SOAK_SAMPLE_S, args.minutes * 60.0 / 3))
    samples = report.get("samples", [])
    if len(samples) >= 2:
        first, last = samples[0], samples[-1]
        report["drift"] = {
            "rss_mb": last["rss_mb"] - first["rss_mb"],
            "rss_max_mb": max(s["rss_mb"] for s in samples),
            "p50_ms": last["p50_ms"] - first["p50_ms"],
            "p95_ms": last["p95_ms"] - first["p95_ms"],
        }
    drift = report.get("drift", {})
    print(f"soak {args.minutes:g} min on {report['rig']}: {report['fps']['processed']:.1f} fps, "
          f"{report['frames']['dropped']} dropped, RSS drift {drift.get('rss_mb', 0):+.1f} MiB, "
          f"p50 drift {drift.get('p50_ms', 0):+.2f} ms")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=2) + "\n")
    return 0
