"""The first README command on a real X server (Xvfb): the window opens through Qt's xcb plugin,
runs, saves a screenshot and closes by itself."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytest.importorskip("pygfx")


def _xvfb() -> str | None:
    """Xvfb's path; installs it with apt-get when missing and allowed (root, apt present), else None."""
    if shutil.which("Xvfb"):
        return shutil.which("Xvfb")
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", "xvfb"], capture_output=True, timeout=600, check=False)
    return shutil.which("Xvfb")


def _window_libraries() -> list[str]:
    """The xcb plugin's missing libraries after installing the README's apt line when missing and allowed."""
    from app.qt_platform import XCB_APT_PACKAGES, missing_xcb_libraries

    missing = missing_xcb_libraries()
    if missing and shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-q", *XCB_APT_PACKAGES], capture_output=True, timeout=600, check=False)
        missing = missing_xcb_libraries()
    return missing


@pytest.fixture()
def x_display(tmp_path: Path):
    xvfb = _xvfb()
    if xvfb is None:
        pytest.skip("Xvfb is not installed and could not be installed (apt-get install -y xvfb needs root)")
    missing = _window_libraries()
    if missing:
        pytest.skip(f"the Qt window's libraries are missing and could not be installed: {', '.join(missing)} (README, Set up)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen([xvfb, "-displayfd", str(write_fd), "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
                              pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as reader:
        number = reader.readline().strip()  # Xvfb writes its display number once it accepts clients
    try:
        if not number:
            pytest.skip("Xvfb did not start")
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.mark.slow
def test_main_py_opens_the_window_under_a_real_x_server(x_display: str, tmp_path: Path) -> None:
    shot = tmp_path / "xvfb_window.png"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env.update(DISPLAY=x_display, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               ANYRIG_CONFIG=str(tmp_path / "anyrig"), XDG_DOCUMENTS_DIR=str(tmp_path / "docs"))
    start = time.monotonic()
    for attempt in range(2):
        done = subprocess.run([sys.executable, "main.py", "--seconds", "8", "--screenshot", str(shot), "--source", "synthetic"],
                              cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180)
        if done.returncode != -signal.SIGSEGV:
            break
        # Seen once in many runs: llvmpipe (software Vulkan/GL) crashing under Xvfb right after the
        # window's first draw. One more try; a second crash fails the test.
        warnings.warn(f"main.py crashed with SIGSEGV under Xvfb (attempt {attempt + 1}); retrying once")
        start = time.monotonic()
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "Qt platform: xcb" in log and "headless" not in log
    assert "Could not load the Qt platform plugin" not in log
    assert time.monotonic() - start < 120
    import cv2

    pixels = cv2.imread(str(shot))  # (H, W, 3) BGR
    assert pixels is not None and pixels.shape[1] >= 800 and pixels.shape[0] >= 500
    assert pixels.std() > 20  # a drawn window (panels, viewport, camera view), not a blank surface
