"""Save a screenshot of the running window (for the README): ``python -m app.screenshot OUT.png [--scene S]``.

Opens the window on the synthetic performer with a fresh, temporary settings file (the user's
settings, calibrations and takes are not touched), lets it run for a few seconds so the plots fill,
then saves :meth:`MainWindow.screenshot` (the viewport's rendering composited in), scaled and
palette-packed to keep the PNG small. Works offscreen: ``QT_QPA_PLATFORM=offscreen python -m app.screenshot``.

Scenes: ``main`` (a person tracked), ``calibration`` (the countdown, 2 s into it), ``playback``
(a 3 s take recorded, then played back in the viewport from the Takes tab).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

from PyQt6 import QtCore, QtGui, QtWidgets

__all__ = ["save_screenshot", "main"]

logger = logging.getLogger(__name__)


SCENES = ("main", "calibration", "playback")


def _pump(app: QtWidgets.QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def save_screenshot(out: str | Path, *, rig: str = "dragon", seconds: float = 14.0, width: int = 1000, scene: str = "main") -> Path:
    """Run the window for ``seconds`` on ``rig``, set up ``scene`` and save its screenshot to ``out``; returns ``out``."""
    if scene not in SCENES:
        raise ValueError(f"scene must be one of {SCENES}, got {scene!r}")
    from tools.gpu_setup import configure_wgpu
    from app.live_session import LiveSession
    from app.main_window import MainWindow
    from app.settings_store import SettingsStore
    from streaming.settings import SessionSettings

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    configure_wgpu()
    with tempfile.TemporaryDirectory(prefix="anyrig-shot-") as tmp:
        store = SettingsStore.at(Path(tmp) / "settings.ini")
        session = LiveSession(SessionSettings(rig=rig), takes_dir=Path(tmp) / "takes", config_dir=Path(tmp) / "config")
        for problem in session.open():
            logger.warning("%s", problem)
        window = MainWindow(session, store, probe_cameras=False)
        window.resize(1400, 860)
        window.show()
        _pump(app, seconds)
        window.viewport.frame_rig()
        if scene == "calibration":
            window.live_actions.calibrate.trigger()
            _pump(app, 1.2)  # "... 2" of the 3 s countdown
        elif scene == "playback":
            window.tabs.setCurrentIndex(5)  # Takes
            window.takes_panel.record_button.setChecked(True)
            _pump(app, 3.0)
            window.takes_panel.record_button.setChecked(False)
            _pump(app, 2.0)
            take = window.takes_panel.last_take
            if take is None or not window.takes_panel.play_take(take):
                raise RuntimeError("the take for the playback screenshot was not written")
            _pump(app, 1.3)
            window.takes_panel.playback.play_button.setChecked(False)  # paused mid-take, slider visible
            _pump(app, 0.3)
        app.processEvents()
        image = window.screenshot()
        window.close()
    small = image.scaledToWidth(width, QtCore.Qt.TransformationMode.SmoothTransformation)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not small.convertToFormat(QtGui.QImage.Format.Format_Indexed8).save(str(out), "PNG", 0):
        raise OSError(f"{out}: the screenshot could not be written")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.screenshot", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="resources/screenshots/main_window.png")
    parser.add_argument("--rig", default="dragon")
    parser.add_argument("--seconds", type=float, default=14.0)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--scene", choices=SCENES, default="main", help="what the window shows (default: main)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    print(save_screenshot(args.out, rig=args.rig, seconds=args.seconds, width=args.width, scene=args.scene))
    return 0


if __name__ == "__main__":
    sys.exit(main())
