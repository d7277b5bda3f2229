"""Find the cameras that answer, quickly and without hanging when there are none (no Qt here).

``cv2.VideoCapture(i)`` for a missing device usually returns at once with ``isOpened() == False``
(DESIGN §8), but some drivers block for seconds. Each index is therefore probed on its own thread
and the whole probe gives up after ``timeout_s``: an index still opening then counts as absent.
"""

from __future__ import annotations

import logging
import os
import threading
import time

__all__ = ["probe_cameras", "PROBE_INDICES"]

logger = logging.getLogger(__name__)

PROBE_INDICES = (0, 1, 2, 3)


def _probe_one(index: int, found: dict[int, bool]) -> None:
    import cv2

    try:
        cap = cv2.VideoCapture(index)
        try:
            ok = cap.isOpened() and cap.read()[0]
        finally:
            cap.release()
    except Exception:  # noqa: BLE001 - a probe that fails is a camera that is absent
        logger.debug("probing camera %d failed", index, exc_info=True)
        ok = False
    found[index] = bool(ok)


def probe_cameras(indices: tuple[int, ...] = PROBE_INDICES, timeout_s: float = 2.0) -> list[int]:
    """The camera indices among ``indices`` that open and give a frame, in order.

    Args:
        indices: OpenCV camera indices to try.
        timeout_s: total time allowed; indices still opening after it are reported absent.
    """
    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")  # a missing /dev/videoN logs a warning per index
    found: dict[int, bool] = {}
    threads = []
    for index in indices:
        # Daemon threads on purpose: OpenCV cannot interrupt a driver that blocks in open(), and a
        # hung probe must not keep the app from exiting. They hold no resource of ours.
        thread = threading.Thread(target=_probe_one, args=(index, found), name=f"anyrig-probe-{index}", daemon=True)
        thread.start()
        threads.append(thread)
    deadline = time.monotonic() + timeout_s
    for thread in threads:
        thread.join(timeout=max(deadline - time.monotonic(), 0.0))
    return [i for i in indices if found.get(i)]
