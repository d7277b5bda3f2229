"""``main.py run`` end to end: synthetic source -> rig -> VMC/OSC to a real python-osc receiver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from main import main
from tests.conftest import REPO_ROOT


class Receiver:
    """A python-osc UDP server on 127.0.0.1 (ephemeral port) that counts addresses and bone names."""

    def __init__(self) -> None:
        self.addresses: Counter[str] = Counter()
        self.names: set[str] = set()
        self.frame_indices: list[int] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(self._on_message)
        self.server = ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-osc-receiver")

    def _on_message(self, address: str, *args: object) -> None:
        self.addresses[address] += 1
        if address in ("/VMC/Ext/Bone/Pos", "/anyrig/joint"):
            self.names.add(str(args[0]))
        if address == "/anyrig/frame":
            self.frame_indices.append(int(args[0]))

    def wait_for(self, address: str, count: int, timeout: float = 3.0) -> None:
        """Wait until ``count`` messages to ``address`` arrived (the last datagrams may still be queued)."""
        deadline = time.monotonic() + timeout
        while self.addresses[address] < count and time.monotonic() < deadline:
            time.sleep(0.01)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=2)


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _anyrig_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("anyrig-")]


def test_run_sends_every_frame_over_osc_and_writes_stats(tmp_path: Path, capsys) -> None:
    stats_path = tmp_path / "s.json"
    fds_before = _fds()
    with Receiver() as rx:
        code = main(["run", "--source", "synthetic", "--rig", "snake", "--osc", f"127.0.0.1:{rx.port}",
                     "--seconds", "2", "--backend", "eager", "--stats", str(stats_path)])
        assert code == 0
        report = json.loads(stats_path.read_text())
        rx.wait_for("/anyrig/frame", report["senders"]["osc"]["frames_sent"])
    frames = report["frames"]
    assert frames["processed"] >= 30  # 2 s of a 30 fps source, even on a busy 2-core machine
    assert frames["captured"] >= frames["processed"]
    assert set(frames) >= {"captured", "processed", "dropped"}
    assert report["fps"]["capture"] > 20
    for series in ("stage.perception", "stage.retarget", "stage.p2r", "stage.filter", "capture_to_result", "capture_to_osc"):
        assert set(report["latency_ms"][series]) >= {"p50_ms", "p95_ms", "p99_ms"}, series
    assert report["end_to_end_series"] == "capture_to_osc" and report["end_to_end_ms"]["p50_ms"] > 0
    assert report["cpu"]["process_s"] > 0 and report["cpu"]["per_processed_frame_ms"] > 0
    assert report["model"]["solver"] in ("analytic_ik", "p2r") and "backend" in report["model"] and "device" in report["model"]
    # The receiver got every frame that was sent, in order, with the rig's joint names; a result
    # is only ever skipped when a newer one replaced it in the sender's one-slot mailbox.
    sent = report["senders"]["osc"]["frames_sent"]
    assert sent == frames["sent.osc"] == len(rx.frame_indices) > 0
    assert sent + frames.get("dropped.osc", 0) == frames["processed"]
    assert rx.frame_indices == sorted(rx.frame_indices)
    assert "Head" in rx.names or len(rx.names) == report["joints"]
    out = capsys.readouterr().out
    assert "ran 2." in out and "capture_to_osc latency p50" in out
    # Nothing left behind: threads and sockets are gone once the run returns.
    assert _anyrig_threads() == []
    assert _fds() <= fds_before  # the receiver's socket is closed too by now


def test_vmc_on_a_rig_without_humanoid_bones_sends_its_own_names(tmp_path: Path) -> None:
    with Receiver() as rx:
        code = main(["run", "--source", "synthetic", "--rig", "dragon", "--vmc", f"127.0.0.1:{rx.port}",
                     "--seconds", "1.5", "--backend", "eager", "--record", str(tmp_path / "take.npz"), "--stats", str(tmp_path / "s.json")])
        assert code == 0
        report = json.loads((tmp_path / "s.json").read_text())
        rx.wait_for("/VMC/Ext/T", report["senders"]["vmc"]["frames_sent"])
    frames = report["frames"]
    assert rx.addresses["/VMC/Ext/T"] == report["senders"]["vmc"]["frames_sent"] == frames["sent.vmc"] > 10
    assert frames["sent.vmc"] + frames.get("dropped.vmc", 0) == frames["processed"]
    assert rx.addresses["/VMC/Ext/Bone/Pos"] == rx.addresses["/VMC/Ext/T"] * report["joints"]
    assert len(rx.names) == report["joints"]
    take = np.load(tmp_path / "take.npz")
    assert report["frames"]["sent.record"] == report["frames"]["processed"]
    assert any(v.ndim >= 2 and v.shape[0] == report["frames"]["processed"] for v in take.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "no_such_video.mp4"], "no such file"),
        (["--rig", "no_such_rig"], "not a bundled rig"),
        (["--source", "webcam:/dev/video_anyrig_missing"], "camera /dev/video_anyrig_missing"),
        (["--osc", "127.0.0.1:99999"], "outside 1..65535"),
    ],
)
def test_bad_input_is_reported_with_exit_code_2(args: list[str], message: str, caplog) -> None:
    assert main(["run", "--seconds", "1", *args]) == 2
    assert message in caplog.text
    assert _anyrig_threads() == []


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    stdout = (tmp_path / "out.txt").open("w")
    proc = subprocess.Popen(
        [sys.executable, "main.py", "run", "--source", "synthetic", "--rig", "snake", "--backend", "eager",
         "--stats", str(tmp_path / "s.json")],
        cwd=REPO_ROOT, stdout=stdout, stderr=subprocess.PIPE, text=True,
    )
    started = threading.Event()
    lines: list[str] = []

    def read_stderr() -> None:
        for line in proc.stderr:
            lines.append(line)
            if "running:" in line:
                started.set()

    reader = threading.Thread(target=read_stderr, name="test-stderr")
    reader.start()
    try:
        assert started.wait(30), "".join(lines)
        threading.Event().wait(1.0)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
        reader.join(timeout=5)
        stdout.close()
    out, err = (tmp_path / "out.txt").read_text(), "".join(lines)
    assert proc.returncode == 0, err
    assert "interrupted" in err and "frames captured" in out
    assert json.loads((tmp_path / "s.json").read_text())["frames"]["processed"] > 0


def test_a_video_file_source_ends_the_run(tmp_path: Path, shared_models) -> None:
    import cv2

    video = tmp_path / "empty_room.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (160, 120))
    for _ in range(15):
        writer.write(np.full((120, 160, 3), 90, np.uint8))
    writer.release()
    code = main(["run", "--source", str(video), "--rig", "bird", "--backend", "eager", "--stats", str(tmp_path / "s.json")])
    assert code == 0
    report = json.loads((tmp_path / "s.json").read_text())
    assert report["frames"]["captured"] == 15 and report["source_status"]["state"] == "closed"
    # Nobody in the picture: MediaPipe finds no person, so nothing is sent and nothing fails.
    assert report["frames"]["processed"] == 0
    assert report["frames"]["frames_without_pose"] + report["frames"]["dropped"] == 15
    assert report["model"]["perception"] == "mediapipe"
    assert _anyrig_threads() == []
