"""``main.py run`` end to end: synthetic source -> rig -> VMC/OSC to a real python-osc receiver."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from main import main
from tests.conftest import REPO_ROOT
from tests.osc_receiver import OscReceiver


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _anyrig_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("anyrig-")]


def test_run_sends_every_frame_over_osc_and_writes_stats(tmp_path: Path, capsys) -> None:
    stats_path = tmp_path / "s.json"
    fds_before = _fds()
    with OscReceiver() as rx:
        code = main(["run", "--source", "synthetic", "--rig", "snake", "--osc", f"127.0.0.1:{rx.port}",
                     "--seconds", "2", "--backend", "eager", "--stats", str(stats_path)])
        assert code == 0
        report = json.loads(stats_path.read_text())
        rx.wait_for(report["senders"]["osc"]["frames_sent"], "/anyrig/frame")
    frames = report["frames"]
    frame_indices = [int(args[0]) for address, args in rx.messages if address == "/anyrig/frame"]
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
    assert sent == frames["sent.osc"] == len(frame_indices) > 0
    assert sent + frames.get("dropped.osc", 0) == frames["processed"]
    assert frame_indices == sorted(frame_indices)
    assert "Head" in rx.names("/anyrig/joint") or len(rx.names("/anyrig/joint")) == report["joints"]
    out = capsys.readouterr().out
    assert "ran 2." in out and "capture_to_osc latency p50" in out
    # Nothing left behind: threads and sockets are gone once the run returns.
    assert _anyrig_threads() == []
    assert _fds() <= fds_before  # the receiver's socket is closed too by now


def test_vmc_on_a_rig_without_humanoid_bones_sends_its_own_names(tmp_path: Path) -> None:
    with OscReceiver() as rx:
        code = main(["run", "--source", "synthetic", "--rig", "dragon", "--vmc", f"127.0.0.1:{rx.port}",
                     "--seconds", "1.5", "--backend", "eager", "--record", str(tmp_path / "take.npz"), "--stats", str(tmp_path / "s.json")])
        assert code == 0
        report = json.loads((tmp_path / "s.json").read_text())
        rx.wait_for(report["senders"]["vmc"]["frames_sent"], "/VMC/Ext/T")
    frames = report["frames"]
    addresses = rx.addresses
    assert addresses["/VMC/Ext/T"] == report["senders"]["vmc"]["frames_sent"] == frames["sent.vmc"] > 10
    assert frames["sent.vmc"] + frames.get("dropped.vmc", 0) == frames["processed"]
    assert addresses["/VMC/Ext/Bone/Pos"] == addresses["/VMC/Ext/T"] * report["joints"]
    assert len(rx.names("/VMC/Ext/Bone/Pos")) == report["joints"]
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


def test_a_video_cut_short_is_reported_as_a_warning_in_the_stats(tmp_path: Path, shared_models, capsys) -> None:
    import cv2

    video = tmp_path / "cut.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
    for _ in range(40):
        writer.write(np.full((120, 160, 3), 90, np.uint8))
    writer.release()
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 2])
    code = main(["run", "--source", str(video), "--rig", "bird", "--backend", "eager", "--stats", str(tmp_path / "s.json")])
    assert code == 0  # the run itself went fine; what it read is reported
    report = json.loads((tmp_path / "s.json").read_text())
    assert "cut short" in report["source_status"]["last_error"] and "of the 40 frames" in report["source_status"]["last_error"]
    assert "WARNING video cut short" in capsys.readouterr().out


def test_run_moves_an_old_journal_aside_and_records(tmp_path: Path, caplog) -> None:
    from engine.rigs.bundled import build_rig
    from streaming.frames import PoseResult
    from streaming.takes import TakeRecorder

    take = tmp_path / "take.npz"
    sk = build_rig("snake").rig.skeleton
    old = TakeRecorder(take, sk).start()
    old.write(PoseResult(np.tile([0, 0, 0, 1.0], (sk.num_joints, 1)), np.zeros(3), np.zeros((sk.num_joints, 3)), 0, 0))
    old._stop_writer()  # as after a crash: the journal stays
    assert main(["run", "--source", "synthetic", "--rig", "snake", "--seconds", "1", "--record", str(take)]) == 0
    assert "recovered to" in caplog.text and "take.recovered1.npz" in caplog.text
    assert take.is_file() and (tmp_path / "take.recovered1.npz").is_file()
    assert not list(tmp_path.glob("*.partial"))


def test_missing_camera_with_record_leaves_no_journal(tmp_path: Path, caplog) -> None:
    take = tmp_path / "take.glb"
    assert main(["run", "--source", "webcam:/dev/video_anyrig_missing", "--seconds", "1", "--record", str(take)]) == 2
    assert not list(tmp_path.iterdir())
    assert main(["run", "--source", "webcam:/dev/video_anyrig_missing", "--seconds", "1", "--record", str(take)]) == 2
    assert "in the way" not in caplog.text and "no frame was recorded" in caplog.text
