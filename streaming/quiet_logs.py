"""Quiet the native libraries' start-up chatter: OpenCV's camera-probe warnings, MediaPipe's glog / TFLite lines.

Every start printed about 40 lines of it (``[ WARN:0@0.1] global cap_v4l.cpp ... can't open camera by
index``, ``INFO: Created TensorFlow Lite XNNPACK delegate``, ``W0000 ... inference_feedback_manager``).
They say nothing a user can act on; AnyRig reports what matters (no camera found, the model in use)
through ``logging``. With ``-v`` (debug) the libraries are left as they are.

MediaPipe's LiteRT runtime logs through its own logger, which no environment variable or exported
function turns down, so :func:`filtered_native_stderr` catches file descriptor 2 while a
landmarker is made or closed and passes on every line except its ``INFO:`` / ``WARNING:`` ones.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["filtered_native_stderr", "quiet_native_logs"]

# LiteRT ("INFO: [environment.cc:36] ...") and glog ("I0000 00:00:...", "W0000 ...") info and warning lines.
_NATIVE_NOISE = re.compile(r"^(?:INFO: |WARNING: |[IW]\d{4} )")
_STDERR_LOCK = threading.Lock()


def quiet_native_logs() -> None:
    """Silence OpenCV (its failures also come back as return values) and MediaPipe below errors.

    MediaPipe reads ``GLOG_minloglevel`` / ``TF_CPP_MIN_LOG_LEVEL`` when its native library loads,
    so call this early (both are imported lazily, on first use).
    """
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        return
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")  # read when cv2 loads
    os.environ.setdefault("GLOG_minloglevel", "2")  # glog: 0 INFO, 1 WARNING, 2 ERROR
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    cv2 = sys.modules.get("cv2")
    if cv2 is not None:  # already loaded: the environment variable comes too late
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


@contextmanager
def filtered_native_stderr() -> Iterator[None]:
    """Hold back native info / warning lines written to stderr (fd 2) inside the block.

    Everything else written meanwhile (native errors, Python's own log lines from any thread) is
    written to stderr when the block ends, in order. With debug logging on, nothing is filtered.
    """
    if logging.getLogger().isEnabledFor(logging.DEBUG):
        yield
        return
    with _STDERR_LOCK, tempfile.TemporaryFile() as caught:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(caught.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            caught.seek(0)
            kept = [line for line in caught.read().decode(errors="replace").splitlines(True) if not _NATIVE_NOISE.match(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()
