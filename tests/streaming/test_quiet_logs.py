"""Native start-up chatter is held back; real errors and our own log lines still get through."""

from __future__ import annotations

import logging
import os
import subprocess
import sys

from streaming.quiet_logs import filtered_native_stderr
from tests.conftest import REPO_ROOT


def test_native_info_and_warning_lines_are_dropped_errors_kept(capfd) -> None:
    logging.getLogger().setLevel(logging.INFO)
    with filtered_native_stderr():
        os.write(2, b"INFO: [environment.cc:36] Creating LiteRT environment with options\n")
        os.write(2, b"WARNING: [model_load.cc:402] Sparsity tensors may not yet be fully supported.\n")
        os.write(2, b"W0000 00:00:1700000000.000000 1 inference_feedback_manager.cc:114] Feedback manager requires...\n")
        os.write(2, b"E0000 00:00:1700000000.000000 1 pose.cc:1] a real error\n")
        print("our own line", file=sys.stderr)
    err = capfd.readouterr().err
    assert "LiteRT" not in err and "Sparsity" not in err and "Feedback" not in err
    assert "a real error" in err and "our own line" in err


def test_a_start_probes_cameras_without_opencv_warnings() -> None:
    """The camera probe of every start printed a warning per missing /dev/videoN."""
    code = ("import logging; logging.basicConfig(level=logging.INFO)\n"
            "from streaming.quiet_logs import quiet_native_logs; quiet_native_logs()\n"
            "from app.camera_probe import probe_cameras; print(probe_cameras())")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
                          env={k: v for k, v in os.environ.items() if k != "OPENCV_LOG_LEVEL"})
    assert done.returncode == 0, done.stderr
    assert "WARN" not in done.stderr and "ERROR" not in done.stderr, done.stderr
