"""The running window as a first-time user meets it: tracking state, guided calibration, mirror,
take playback and re-sending, the output banner, menus (pytest-qt, offscreen)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PyQt6 import QtCore

from app.calibration import CalibrationConfig
from engine import rotations as rot
from streaming.settings import OutputSettings
from tests.osc_receiver import OscReceiver
from tests.polling import wait_in_qt

pytest.importorskip("pygfx")


def test_tracking_state_is_shown_in_the_camera_view_and_status_bar(window, qapp) -> None:
    assert wait_in_qt(qapp, lambda: window.session.tracking_state is not None and window.session.tracking_state.value == "person", timeout=15.0)
    window.updater.update_status()
    assert wait_in_qt(qapp, lambda: window.camera_view.tracking == "person", timeout=15.0)
    assert window.status.tracking_label.text() == "person"
    assert "a a" not in window.status.currentMessage() and window.status.camera_label.text().startswith("synthetic")


def test_nobody_in_view_says_no_person_and_the_rig_eases_to_rest(window, qapp, tmp_path: Path, shared_models) -> None:
    import cv2

    folder = tmp_path / "empty_room"
    folder.mkdir()
    for i in range(8):  # an empty grey room: MediaPipe finds nobody
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((240, 320, 3), 90 + i, np.uint8))
    window.source_panel.choose_source(str(folder))
    try:
        assert wait_in_qt(qapp, lambda: window.session.status().source == folder.name, timeout=20)
        assert wait_in_qt(qapp, lambda: window.session.tracking_state is not None and window.session.tracking_state.value == "no_person", 30)
        window.updater.update_status()
        assert window.status.tracking_label.text() == "no person in view"
        assert wait_in_qt(qapp, lambda: window.camera_view.tracking == "no_person", timeout=15.0)
        rest = rot.quat_normalize(window.session.rig.skeleton.rest_rotations)
        # Hold (1 s) + easing (1 s): the last pose shown is the rig's rest pose, not a frozen live pose.
        assert wait_in_qt(qapp, lambda: (r := window.session._last_result) is not None
                     and rot.quat_geodesic_angle(r.rotations, rest).max() < 1e-3, timeout=20)
    finally:
        window.source_panel.choose_source("synthetic")
        assert wait_in_qt(qapp, lambda: window.session.status().source == "synthetic", timeout=15.0)


def test_calibration_counts_down_then_refuses_a_moving_performer(window, qapp) -> None:
    actions = window.live_actions
    actions.calibration_config = CalibrationConfig(countdown_s=0.6, still_s=0.8)  # the default motion limit
    window.session.clear_calibration()
    actions.calibrate.trigger()
    assert window.camera_view.overlay.endswith("1")  # "Stand relaxed...\n1" (0.6 s rounds up to 1)
    assert wait_in_qt(qapp, lambda: actions.calibration.finished, timeout=15.0)
    assert actions.calibration.refusal and window.session.neutral is None  # the synthetic performer waves
    assert "Calibration refused" in window.status.last_error and "moved" in window.status.last_error
    assert window.camera_view.overlay == ""


def test_mirror_and_upper_body_toggles_reach_the_processor(window, qapp, qtbot) -> None:
    session = window.session
    assert session.settings.mirror and window.live_actions.mirror.isChecked()  # on by default
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_M, QtCore.Qt.KeyboardModifier.ControlModifier)
    try:
        assert not session.settings.mirror and not session.pipeline.processor.modes.mirror
        assert wait_in_qt(qapp, lambda: window.camera_view.mirror is False, timeout=15.0)
        window.live_actions.upper_body.trigger()
        assert session.settings.upper_body and session.pipeline.processor.modes.upper_body
    finally:
        window.live_actions.upper_body.setChecked(False)
        window.live_actions.mirror.setChecked(True)
    assert session.settings.mirror and not session.pipeline.processor.modes.upper_body


def test_a_take_plays_back_scrubs_loops_and_is_re_sent(window, qapp) -> None:
    session, panel = window.session, window.takes_panel
    name = panel.name_edit.text()
    assert name.startswith("take_")
    panel.record_button.setChecked(True)
    time.sleep(0.8)
    qapp.processEvents()
    panel.record_button.setChecked(False)
    assert wait_in_qt(qapp, lambda: panel.last_take is not None and panel.last_take.stem == name and panel.last_take.is_file(), timeout=15.0)
    assert panel.name_edit.text() != name  # the next take gets a new, unused name
    item = panel.list.findItems(panel.last_take.name, QtCore.Qt.MatchFlag.MatchExactly)[0]
    panel.list.itemDoubleClicked.emit(item)
    player = session.playback
    receiver = OscReceiver()
    try:
        assert player is not None and player.playing and window.updater._shown_rig is player.rig
        shown = window.updater.poses_shown
        assert wait_in_qt(qapp, lambda: window.updater.poses_shown > shown + 5, timeout=15.0)
        controls = panel.playback
        controls.slider.setValue(500)  # scrub to the middle
        assert abs(player.position_s - player.duration_s / 2) < 0.05
        controls.play_button.setChecked(False)
        frame = player.frame
        wait_in_qt(qapp, lambda: False, timeout=0.3)
        assert player.frame == frame  # paused
        controls.loop_box.setChecked(False)
        assert player.loop is False
        # Re-send over the output: live sending pauses, the take's poses reach the receiver.
        session.set_output(OutputSettings(kind="osc", host="127.0.0.1", port=receiver.port))
        controls.resend_box.setChecked(True)
        assert session.resending_take and not session._sender.live
        controls.play_button.setChecked(True)
        assert wait_in_qt(qapp, lambda: receiver.addresses["/anyrig/frame"] >= 5, timeout=15.0)
        frames = {args[0] for a, args in receiver.snapshot() if a == "/anyrig/frame"}
        assert frames <= set(range(player.clip.num_frames))  # take frame numbers, not live frame indices
        controls.live_button.click()
        assert session.playback is None and session._sender.live and not session.resending_take
        assert window.updater._shown_rig is session.rig
    finally:
        session.close_take()
        session.set_output(OutputSettings())
        receiver.close()


def test_an_active_output_is_announced_at_start(window, qapp) -> None:
    from app.output_banner import OutputBanner

    session = window.session
    assert not window.output_banner.isVisible()  # nothing is sent: no banner
    session.set_output(OutputSettings(kind="vmc-generic", host="127.0.0.1", port=39540))
    try:
        banner = OutputBanner(session)  # as at the next start
        assert not banner.isHidden() and "127.0.0.1:39540" in banner.label.text() and "VMC" in banner.label.text()
        banner.stop_button.click()
        assert session.settings.output.kind == "off" and banner.isHidden()
    finally:
        session.set_output(replace(session.settings.output, kind="off"))


def test_menus_offer_help_about_and_quit(window) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&Live", "&Help"]
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    assert [a.text() for a in menus["&File"].actions()] == ["&Quit"]
    assert [a.text() for a in menus["&Help"].actions()] == ["&Help", "&About AnyRig"]
    assert "Calibrate" in [a.text() for a in menus["&Live"].actions()]


def test_opening_a_source_shows_a_busy_indicator(window, qapp, tmp_path: Path) -> None:
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(4):
        cv2.imwrite(str(folder / f"{i:03d}.png"), np.full((120, 160, 3), 60 * i, np.uint8))
    window.source_panel.choose_source(str(folder))
    window.updater.update_status()
    try:
        assert window.status.busy_label.text() == f"Opening {folder}…" and not window.status.busy_bar.isHidden()
        assert wait_in_qt(qapp, lambda: window.session.status().source == folder.name, timeout=15.0)
        window.updater.update_status()
        assert window.status.busy_label.text() == "" and window.status.busy_bar.isHidden()
    finally:
        window.source_panel.choose_source("synthetic")
        assert wait_in_qt(qapp, lambda: window.session.status().source == "synthetic", timeout=15.0)
