"""Quiet the native libraries' start-up chatter: OpenCV's camera-probe warnings, MediaPipe's glog / TFLite lines.

Every start printed about 40 lines of it (``[ WARN:0@0.1] global cap_v4l.cpp ... can't open camera by
index``, ``INFO: Created TensorFlow Lite XNNPACK delegate``, ``W0000 ... inference_feedback_manager``).
They say nothing a user can act on; AnyRig reports what matters (no camera found, the model in use)
through ``logging``. With ``-v`` (debug) the libraries are left as they are.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["quiet_native_logs"]


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
