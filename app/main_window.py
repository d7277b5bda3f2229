"""The main window: assembles the viewport, camera view, plots and control panels around a live session.

Layout::

    +-------------------------------------------------------------------------------+
    | toolbar: Tracking (Ctrl+T)  Calibrate (Ctrl+K)  Clear calibration  Record (Ctrl+R)  Frame rig (F)
    +------------------+-----------------------------------+------------------------+
    | tabs: Source,    |  viewport (pygfx: rig, mesh,      |  camera view with      |
    | Rig, Retarget,   |  grid, orbit camera)              |  landmarks + performer |
    | Output, Filter,  |                                   +------------------------+
    | Takes            |                                   |  plots: fps, latency,  |
    |                  |                                   |  joint rotation        |
    +------------------+-----------------------------------+------------------------+
    | status bar: source and camera state | model backend, device | fps | latency      |
    +-------------------------------------------------------------------------------+

The state lives in :class:`~app.live_session.LiveSession` (no Qt); panels are thin views of it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from app.camera_view import CameraView
from app.filter_panel import FilterPanel
from app.live_actions import LiveActions
from app.live_session import LiveSession
from app.live_updater import LiveUpdater
from app.output_banner import OutputBanner
from app.output_panel import OutputPanel
from app.plots_panel import PlotsPanel
from app.retarget_panel import RetargetPanel
from app.rig_panel import RigPanel
from app.settings_store import SettingsStore
from app.source_panel import SourcePanel
from app.status_bar import StatusBar
from app.takes_panel import TakesPanel
from app.viewport import RigViewport

__all__ = ["MainWindow", "run_app", "default_takes_dir", "settings_from_args"]

logger = logging.getLogger(__name__)

HELP_TEXT = """<b>Getting started</b><ol>
<li>Source tab: pick a camera (or a video file, an image folder, the synthetic performer).</li>
<li>Rig tab: pick a bundled rig or open your own GLB / VRM / BVH.</li>
<li>Stand back so the camera sees you whole, then <b>Calibrate</b> (Ctrl+K): a 3 s countdown,
then hold still for 1 s in a relaxed pose, arms down.</li>
<li>Output tab: send to your VMC / OSC receiver. Takes tab: record (Ctrl+R), double-click a take to
play it back, scrub, loop, or re-send it over the output.</li></ol>
<b>Shortcuts</b>: Ctrl+T tracking, Ctrl+K calibrate, Ctrl+Shift+K clear calibration, Ctrl+R record,
F frame the rig, Ctrl+M mirror, Ctrl+U upper body (seated), Ctrl+Q quit.<br>
The camera view shows the tracking state: <i>person</i>, <i>lost</i> (the last pose is held for a
second) or <i>no person</i> (the rig eases back to rest). See README.md for the command line."""

ABOUT_TEXT = """<b>AnyRig</b><br>Live motion capture onto any skeleton: a webcam drives humanoids,
quadrupeds, dragons, birds, snakes, spiders or your own rig, streamed over VMC / OSC or recorded as
takes.<br><br>Code: MIT. Pose landmarks: Google MediaPipe (Apache 2.0)."""


def default_takes_dir() -> Path:
    """``<Documents>/AnyRig/takes`` (the user's documents folder as Qt knows it)."""
    docs = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs or Path.home()) / "AnyRig" / "takes"


class MainWindow(QtWidgets.QMainWindow):
    """The desktop app's window for one :class:`LiveSession` (already opened).

    Args:
        session: the live session the panels view and edit.
        store: where the settings and the window geometry are saved on close.
        probe_cameras: look for cameras 0-3 at start (tests turn it off).
    """

    def __init__(self, session: LiveSession, store: SettingsStore, *, probe_cameras: bool = True) -> None:
        super().__init__()
        self.session, self.store = session, store
        self.setWindowTitle("AnyRig — live motion capture onto any skeleton")
        self.resize(1400, 860)
        self.viewport = RigViewport()
        self.camera_view = CameraView()
        self.plots = PlotsPanel()
        self.source_panel = SourcePanel(session, probe=probe_cameras)
        self.rig_panel = RigPanel(session)
        self.retarget_panel = RetargetPanel(session)
        self.output_panel = OutputPanel(session)
        self.filter_panel = FilterPanel(session)
        self.takes_panel = TakesPanel(session)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.output_banner = OutputBanner(session)
        self._source_busy = False
        self._assemble()
        self._build_actions()
        self._build_menus()
        for panel in (self.source_panel, self.rig_panel, self.retarget_panel, self.output_panel, self.filter_panel, self.takes_panel):
            panel.error.connect(self.status.show_error)
            if hasattr(panel, "message"):
                panel.message.connect(self.status.show_info)
        self.rig_panel.frame_requested.connect(self.viewport.frame_rig)
        self.rig_panel.busy.connect(self.status.show_busy)
        self.rig_panel.mesh_toggled.connect(self.viewport.set_mesh_visible)
        self.updater = LiveUpdater(
            session, self.viewport, self.camera_view, self.plots, self.status,
            extra_status=(self.output_panel.refresh_counters, self.source_panel.refresh_state, self._refresh_busy), parent=self,
        )
        geometry, state = store.load_geometry()
        if geometry is not None:
            self.restoreGeometry(geometry)
        if state is not None:
            self.restoreState(state)
        self._closed = False
        self.updater.start()

    # -- assembly ----------------------------------------------------------------------------------
    def _assemble(self) -> None:
        tabs = QtWidgets.QTabWidget()
        for title, panel in (("Source", self.source_panel), ("Rig", self.rig_panel), ("Retarget", self.retarget_panel),
                             ("Output", self.output_panel), ("Filter", self.filter_panel), ("Takes", self.takes_panel)):
            scroll = QtWidgets.QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(panel)
            tabs.addTab(scroll, title)
        tabs.setMinimumWidth(300)
        self.tabs = tabs
        right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        right.addWidget(self.camera_view)
        right.addWidget(self.plots)
        right.setSizes([300, 500])
        right.setMinimumWidth(260)
        self.viewport.setMinimumWidth(320)  # the rig view never collapses, however small the window
        splitter = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        splitter.addWidget(tabs)
        splitter.addWidget(self.viewport)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(1, False)
        splitter.setSizes([400, 660, 340])
        central = QtWidgets.QWidget()
        column = QtWidgets.QVBoxLayout(central)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.output_banner)
        column.addWidget(splitter, 1)
        self.setCentralWidget(central)

    def _build_actions(self) -> None:
        self.live_actions = LiveActions(self.session, self, record=self.takes_panel.toggle_recording, frame=self.viewport.frame_rig)
        self.live_actions.error.connect(self.status.show_error)
        self.live_actions.message.connect(self.status.show_info)
        toolbar = self.addToolBar("Live")
        toolbar.setObjectName("live-toolbar")
        for action in self.live_actions.all:
            toolbar.addAction(action)
        self.live_actions.calibration_prompt.connect(self._on_calibration_prompt)

    def _build_menus(self) -> None:
        """File (Quit), Live (the toolbar's actions), Help (Help, About)."""
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QtGui.QKeySequence(QtGui.QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        live_menu = bar.addMenu("&Live")
        for action in self.live_actions.all:
            live_menu.addAction(action)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction("&Help", self.show_help)
        help_menu.addAction("&About AnyRig", self.show_about)

    def show_help(self) -> None:
        QtWidgets.QMessageBox.information(self, "AnyRig help", HELP_TEXT)

    def show_about(self) -> None:
        QtWidgets.QMessageBox.about(self, "About AnyRig", ABOUT_TEXT)

    def _on_calibration_prompt(self, text: str) -> None:
        self.camera_view.overlay = text

    def _refresh_busy(self) -> None:
        """A busy indicator in the status bar while a source opens (a camera or video can take seconds)."""
        pipeline = self.session.pipeline
        requested = self.source_panel.requested or (pipeline.source.source_id if self.live_actions.starting and pipeline else None)
        if requested or self._source_busy:  # leaves other busy messages (a rig loading) alone
            self.status.show_busy(f"Opening {requested}…" if requested else "")
        self._source_busy = bool(requested)

    # -- screenshots and closing ---------------------------------------------------------------------
    def screenshot(self) -> QtGui.QImage:
        """The whole window as an image, with the viewport's rendering composited in.

        ``QWidget.grab()`` sees the Qt widgets but not what wgpu draws into the viewport's canvas
        (a native surface), so the renderer's own snapshot is painted over the viewport's place.
        """
        image = self.grab().toImage().convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
        rgba = np.ascontiguousarray(self.viewport.snapshot()[..., :4])
        h, w = rgba.shape[:2]
        render = QtGui.QImage(rgba.data, w, h, rgba.strides[0], QtGui.QImage.Format.Format_RGBA8888).copy()
        target = QtCore.QRect(self.viewport.mapTo(self, QtCore.QPoint(0, 0)), self.viewport.size())
        painter = QtGui.QPainter(image)
        painter.drawImage(target, render)
        painter.end()
        return image

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Save the settings, finish any take, stop the pipeline and release the viewport (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.updater.stop()
        self.source_panel.wait_for_probe(2.0)
        self.store.save_geometry(self.saveGeometry(), self.saveState())
        self.session.close()
        self.store.save(self.session.settings)
        self.viewport.close_viewport()


def settings_from_args(store: SettingsStore, args: argparse.Namespace):
    """The saved settings, with every choice given on the command line on top (typed values always win,
    also when they equal a default: the parser's defaults are ``None`` for exactly this)."""
    from streaming.settings import parse_host_port

    settings = store.load()
    for attr in ("source", "rig", "mirror", "upper_body"):
        value = getattr(args, attr, None)
        if value is not None:
            setattr(settings, attr, value)
    for kind, attr in (("vmc", "vmc"), ("vmc-generic", "vmc_generic"), ("osc", "osc")):
        address = getattr(args, attr, None)
        if address:
            host, port = parse_host_port(address)
            settings.output.kind, settings.output.host, settings.output.port = kind, host, port
    if getattr(args, "vmc_raw", False):
        settings.output.vmc_raw = True
    if getattr(args, "humanoid_map", None):
        settings.output.humanoid_map = args.humanoid_map
    return settings


class StartSplash(QtWidgets.QSplashScreen):
    """What the app is doing while it starts (loading the rig, the models, compiling, opening the source)."""

    def __init__(self) -> None:
        pixmap = QtGui.QPixmap(520, 160)
        pixmap.fill(QtGui.QColor("#1d2330"))
        painter = QtGui.QPainter(pixmap)
        font = painter.font()
        font.setPixelSize(34)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QtGui.QColor("#ffffff"))
        painter.drawText(QtCore.QRect(24, 20, 480, 50), 0, "AnyRig")
        font.setPixelSize(14)
        font.setBold(False)
        painter.setFont(font)
        painter.setPen(QtGui.QColor("#a0b0c8"))
        painter.drawText(QtCore.QRect(24, 66, 480, 24), 0, "live motion capture onto any skeleton")
        painter.end()
        super().__init__(pixmap)
        self.messages: list[str] = []

    def say(self, text: str) -> None:
        """Show ``text`` at the bottom of the splash, now (the event loop is not running yet)."""
        self.messages.append(text)
        logger.info("%s", text)
        self.showMessage(text, QtCore.Qt.AlignmentFlag.AlignBottom | QtCore.Qt.AlignmentFlag.AlignLeft, QtGui.QColor("#ffd040"))
        QtWidgets.QApplication.processEvents()


def run_app(args: argparse.Namespace, *, store: SettingsStore | None = None) -> int:
    """Open the window and run the Qt event loop; returns the exit code.

    ``args.seconds`` (``python main.py gui --seconds 5``) closes the window after that long, which
    is how a script or a test runs the app unattended.
    """
    from app.qt_platform import drop_opencv_qt_plugin_path
    from streaming.headless import face_hands_config
    from tools.gpu_setup import configure_wgpu

    drop_opencv_qt_plugin_path()
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    app.setApplicationName("AnyRig")
    logger.info("Qt platform: %s", app.platformName())
    configure_wgpu()
    store = store or SettingsStore()
    try:
        settings = settings_from_args(store, args)
    except ValueError as exc:
        logger.error("%s", exc)
        return 2
    session = LiveSession(
        settings, takes_dir=default_takes_dir(), device=getattr(args, "device", "auto"), backend=getattr(args, "backend", "auto"),
        solver=getattr(args, "solver", "analytic_ik"), face_hands=face_hands_config(args),
    )
    splash = StartSplash()
    splash.show()
    problems = session.open(progress=splash.say)
    splash.say("Opening the window…")
    window = MainWindow(session, store)
    for problem in problems:
        window.status.show_error(problem)
    previous_hook = sys.excepthook

    def report(kind, value, tb) -> None:  # a bug in a slot: logged and shown, the app goes on
        logger.error("unexpected error", exc_info=(kind, value, tb))
        window.status.show_error(f"Unexpected error: {value!r} (details in the log)")

    sys.excepthook = report
    window.show()
    splash.finish(window)
    if getattr(args, "seconds", None):
        screenshot = getattr(args, "screenshot", None)

        def finish() -> None:
            if screenshot:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                if not window.screenshot().save(str(screenshot)):
                    logger.error("the screenshot could not be written to %s", screenshot)
            window.close()

        QtCore.QTimer.singleShot(int(args.seconds * 1000), finish)
    try:
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook
        window.shutdown()
