"""Start the desktop app, or fall back to the headless pipeline where there is no display."""

from __future__ import annotations

import argparse
import logging
import os
import sys

logger = logging.getLogger(__name__)

HEADLESS_FALLBACK_SECONDS = 10.0  # how long the no-display fallback runs the pipeline


def has_display() -> bool:
    """True when Qt can open a window: a display server is reachable or a platform is forced."""
    if os.environ.get("QT_QPA_PLATFORM"):
        return True
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def cmd_gui(args: argparse.Namespace) -> int:
    """``python main.py [gui]``: open the main window; without a display run headless briefly."""
    if not has_display():
        if args.seconds is None:
            args.seconds = HEADLESS_FALLBACK_SECONDS
        logger.warning(
            "No display found (DISPLAY/WAYLAND_DISPLAY unset): running the headless pipeline for %.0f s instead. "
            "Use `python main.py run --help` for the headless options, or set QT_QPA_PLATFORM=offscreen to force "
            "the window without a screen.",
            args.seconds,
        )
        from streaming.headless import cmd_run

        return cmd_run(args)
    from app.main_window import run_app

    return run_app(args)
