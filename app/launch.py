"""Start the desktop app, or fall back to the headless pipeline where no window can open.

See :mod:`app.qt_platform` for the two things that stop PyQt6's window on a fresh Linux desktop
(missing xcb libraries: the one ``apt-get`` line is printed and the headless run goes on instead;
OpenCV's Qt plugin path).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys

from app.qt_platform import drop_opencv_qt_plugin_path, install_hint, missing_xcb_libraries

logger = logging.getLogger(__name__)

HEADLESS_FALLBACK_SECONDS = 10.0  # how long the no-display fallback runs the pipeline


def has_display() -> bool:
    """True when Qt can open a window: a display server is reachable or a platform is forced."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def uses_xcb() -> bool:
    """Qt will pick the xcb (X11) platform: Linux, an X display, no other platform asked for."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if not sys.platform.startswith("linux") or platform not in ("", "xcb"):
        return False
    if not platform and os.environ.get("WAYLAND_DISPLAY"):
        return False  # Qt 6 prefers Wayland there
    return bool(os.environ.get("DISPLAY"))


def _run_headless(args: argparse.Namespace, why: str) -> int:
    if args.seconds is None:
        args.seconds = HEADLESS_FALLBACK_SECONDS
    logger.warning(
        "%s: running the headless pipeline for %.0f s instead. Use `python main.py run --help` for the headless options, "
        "or set QT_QPA_PLATFORM=offscreen to force the window without a screen.", why, args.seconds,
    )
    from streaming.headless import cmd_run

    return cmd_run(args)


def cmd_gui(args: argparse.Namespace) -> int:
    """``python main.py [gui]``: open the main window; without a usable display run headless briefly."""
    drop_opencv_qt_plugin_path()
    if not has_display():
        return _run_headless(args, "No display found (DISPLAY/WAYLAND_DISPLAY unset)")
    if uses_xcb():
        missing = missing_xcb_libraries()
        if missing:
            sys.stderr.write(install_hint(missing))
            return _run_headless(args, "The window cannot open until those libraries are installed")
    from app.main_window import run_app

    return run_app(args)
