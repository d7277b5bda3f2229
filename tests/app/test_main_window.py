"""The running window: live viewport, controls that switch rig / output / takes, errors, screenshot."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np
import pytest
from PyQt6 import QtCore, QtGui

from app.calibration import POSE_PROMPT, CalibrationConfig
from tests.conftest import REPO_ROOT
from tests.osc_receiver import OscReceiver
from tests.polling import wait_in_qt

pytest.importorskip("pygfx")

SCREENSHOT = REPO_ROOT / "resources" / "screenshots" / "main_window.png"  # made by `python -m app.screenshot`


def _pump(qapp, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        qapp.processEvents()
        time.sleep(0.005)


def test_window_opens_with_synthetic_source_and_bundled_rig(window) -> None:
    status = window.session.status()
    assert status.pipeline == "running" and status.source == "synthetic" and status.camera == "open"
    assert window.session.rig.name == "dragon"
    assert window.updater.poses_shown >= 3
    assert window.camera_view.pixmap() is not None and not window.camera_view.pixmap().isNull()
    assert window.rig_panel.combo.currentData() == "dragon"
    assert window.source_panel.combo.currentData() == "synthetic"


def test_viewport_pixels_change_as_the_rig_moves(window, qapp) -> None:
    first = window.viewport.snapshot().copy()
    shown = window.updater.poses_shown
    assert wait_in_qt(qapp, lambda: window.updater.poses_shown >= shown + 4)
    second = window.viewport.snapshot()
    assert first.shape == second.shape and first.shape[2] == 4
    changed = np.any(first != second, axis=-1).mean()
    assert changed > 0.001, f"only {changed:.5f} of the viewport changed while the rig moved"


def test_status_bar_and_plots_show_live_numbers(window, qapp) -> None:
    assert wait_in_qt(qapp, lambda: window.session.measure_fps() > 1.0)
    window.updater.update_status()
    assert "fps" in window.status.fps_label.text() and "ms" in window.status.latency_label.text()
    assert window.status.model_label.text().count("·") == 2
    assert len(window.plots._fps) > 0 and "perception" in window.plots._latency and "end_to_end" in window.plots._latency


def test_switching_rig_from_the_controls(window, qapp) -> None:
    index = window.rig_panel.combo.findData("snake")
    window.rig_panel.combo.setCurrentIndex(index)
    try:
        assert window.session.rig.name == "snake"
        joints = window.session.rig.skeleton.num_joints
        assert window.plots.joint_combo.count() == joints
        assert wait_in_qt(qapp, lambda: (r := window.session._last_result) is not None and r.num_joints == joints)
        assert window.retarget_panel.table.rowCount() == len(window.session.retarget_map().chains)
    finally:
        window.rig_panel.combo.setCurrentIndex(window.rig_panel.combo.findData("dragon"))
    assert window.session.rig.name == "dragon"


@pytest.mark.parametrize("kind", ["vmc-generic", "vmc"])
def test_vmc_output_reaches_a_real_receiver(window, qapp, kind: str) -> None:
    receiver = OscReceiver()
    panel = window.output_panel
    if kind == "vmc":  # humanoid bone names need a humanoid rig (a dragon is sent under its own names)
        assert window.rig_panel.load_rig("humanoid")
    try:
        panel.host_edit.setText("127.0.0.1")
        panel.host_edit.editingFinished.emit()
        panel.port_spin.setValue(receiver.port)
        panel.port_spin.editingFinished.emit()
        panel.kind_combo.setCurrentIndex(panel.kind_combo.findData(kind))
        assert window.session.settings.output.kind == kind and window.session.settings.output.port == receiver.port
        assert wait_in_qt(qapp, lambda: sum(a == "/VMC/Ext/Root/Pos" for a, _ in receiver.messages) >= 3)
        bones = {args[0] for a, args in receiver.messages if a == "/VMC/Ext/Bone/Pos"}
        assert len(bones) >= 10
        if kind == "vmc-generic":  # the dragon's Chest, Head, Jaw collide with Unity's names: prefixed
            assert {b.removeprefix("anyrig:") for b in bones} <= set(window.session.rig.skeleton.names)
        else:
            assert {"Hips", "Spine", "LeftUpperArm", "RightUpperLeg"} <= bones
        window.updater.update_status()
        assert "frames" in panel.counters_label.text()
        assert panel.warning_label.text() == ""  # a real humanoid, a dragon chosen as generic: nothing to warn about
    finally:
        panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("off"))
        receiver.close()
        window.rig_panel.load_rig("dragon")
    assert window.session.sender is None and window.session.rig.name == "dragon"


def test_humanoid_looking_rig_sent_as_generic_is_shown_and_fixed_by_a_map(window, qapp, tmp_path: Path) -> None:
    """Issue 15, item 3: the output panel says loudly that a humanoid goes out generic; a map file fixes it."""
    import json

    from engine.formats.gltf_write import write_glb
    from tests.streaming.test_vmc_options import _renamed_humanoid

    rig_path = tmp_path / "renamed.glb"
    write_glb(_renamed_humanoid(), rig_path)
    panel = window.output_panel
    assert window.rig_panel.load_rig(str(rig_path))
    try:
        panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("vmc"))
        assert "GENERIC" in panel.warning_label.text() and not panel.warning_label.isHidden()
        map_path = tmp_path / "map.json"
        map_path.write_text(json.dumps({"LeftHand": "paw_a", "RightHand": "paw_b"}))
        panel.map_edit.setText(str(map_path))
        panel.map_edit.editingFinished.emit()
        assert window.session.sender_info["mode"] == "humanoid" and panel.warning_label.text() == ""
    finally:
        panel.kind_combo.setCurrentIndex(panel.kind_combo.findData("off"))
        panel.map_edit.setText("")
        panel.map_edit.editingFinished.emit()
        window.rig_panel.load_rig("dragon")


@pytest.mark.parametrize("fmt", ["glb", "bvh", "npz"])
def test_recording_a_take_from_the_controls(window, qapp, app_dirs, fmt: str) -> None:
    panel = window.takes_panel
    panel.format_combo.setCurrentText(fmt)
    panel.name_edit.setText(f"test take {fmt}")
    panel.record_button.click()
    assert window.session.recording
    start = window.session.stats.counter("frames_processed")
    assert wait_in_qt(qapp, lambda: window.session.stats.counter("frames_processed") >= start + 6)
    panel.record_button.click()
    assert not window.session.recording
    path = app_dirs["takes"] / f"test_take_{fmt}.{fmt}"
    assert wait_in_qt(qapp, lambda: panel.last_take == path), "the take was not written"
    assert path.is_file() and not Path(str(path) + ".partial").exists()
    assert panel.list.findItems(path.name, QtCore.Qt.MatchFlag.MatchExactly)
    assert panel.name_edit.text() == f"test_take_{fmt}_2"
    if fmt == "npz":
        data = np.load(path)
        joints = window.session.rig.skeleton.num_joints
        assert data["rotations"].shape[1:] == (joints, 4) and data["rotations"].shape[0] >= 3
        assert np.isfinite(data["rotations"]).all()
    else:
        from engine.formats.rigio import load_rig

        rig = load_rig(path)
        assert rig.skeleton.num_joints == window.session.rig.skeleton.num_joints
        assert rig.clips and rig.clips[0].num_frames >= 3


def test_malformed_rig_file_shows_an_error_and_the_app_keeps_running(window, qapp, tmp_path: Path) -> None:
    bad = tmp_path / "broken.glb"
    bad.write_bytes(b"glTF\x02\x00\x00\x00garbage that is not a GLB")
    shown = window.updater.poses_shown
    assert window.rig_panel.load_rig(str(bad)) is False
    assert "broken.glb" in window.status.last_error
    assert window.session.rig.name == "dragon" and window.session.settings.rig == "dragon"
    assert window.rig_panel.combo.currentData() == "dragon"
    assert wait_in_qt(qapp, lambda: window.updater.poses_shown >= shown + 3), "the live view stopped after the error"


def test_unknown_source_shows_an_error_and_keeps_the_synthetic_one(window, qapp, tmp_path: Path) -> None:
    window.source_panel.choose_source(str(tmp_path / "missing.mp4"))
    assert wait_in_qt(qapp, lambda: "missing.mp4" in window.status.last_error)
    assert window.source_panel.requested is None and window.source_panel.combo.currentData() == "synthetic"
    assert window.session.status().source == "synthetic" and window.session.status().pipeline == "running"


def test_a_real_video_drives_the_rig_with_detected_landmarks(window, qapp, shared_video: Path) -> None:
    video = shared_video / "human_walk_h36m_mmpose.mp4"
    if not video.is_file():
        pytest.skip(f"{video} not found")
    window.source_panel.choose_source(str(video))
    assert wait_in_qt(qapp, lambda: window.session.settings.source == str(video))
    try:
        assert window.source_panel.combo.currentData() == str(video)
        seen: list[bool] = []
        original = window.camera_view.show_frame

        def spy(image, landmarks=None, visibility=None, performer=None):
            seen.append(landmarks is not None and performer is not None)
            original(image, landmarks, visibility, performer)

        window.camera_view.show_frame = spy
        assert wait_in_qt(qapp, lambda: sum(seen) >= 3, timeout=20), "MediaPipe found nobody in a video of a walking person"
        assert window.session.status().source == video.name
    finally:
        window.camera_view.show_frame = original
        window.source_panel.choose_source("synthetic")
        assert wait_in_qt(qapp, lambda: window.session.status().source == "synthetic")


def test_keyboard_shortcuts_toggle_tracking_record_and_calibrate(window, qapp, qtbot) -> None:
    window.activateWindow()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_T, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.session.status().pipeline == "stopped" and not window.live_actions.tracking.isChecked()
    qtbot.keyClick(window, QtCore.Qt.Key.Key_T, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.live_actions.tracking.isChecked()  # at once; the pipeline starts once the source is open
    assert wait_in_qt(qapp, lambda: window.session.status().pipeline == "running")
    assert wait_in_qt(qapp, lambda: window.session.tap.latest_performer is not None)
    # The synthetic performer waves; this test is about the shortcut, so the motion limit is loose.
    window.live_actions.calibration_config = CalibrationConfig(countdown_s=0.3, still_s=0.5, max_motion_m=10.0, min_samples=2)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_K, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert POSE_PROMPT in window.camera_view.overlay
    assert wait_in_qt(qapp, lambda: window.live_actions.calibration.finished)
    assert window.session.neutral is not None, window.live_actions.calibration.refusal
    assert "Calibrated" in window.status.currentMessage() and window.camera_view.overlay == ""
    shown = window.updater.poses_shown
    assert wait_in_qt(qapp, lambda: window.updater.poses_shown >= shown + 3)
    assert type(window.session.pipeline.processor.retarget).__name__ == "CalibratedRetarget"
    window.live_actions.uncalibrate.trigger()
    assert window.session.neutral is None and "cleared" in window.status.currentMessage()
    before = window.takes_panel.last_take
    qtbot.keyClick(window, QtCore.Qt.Key.Key_R, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert window.session.recording
    _pump(qapp, 0.3)
    qtbot.keyClick(window, QtCore.Qt.Key.Key_R, QtCore.Qt.KeyboardModifier.ControlModifier)
    assert not window.session.recording
    assert wait_in_qt(qapp, lambda: window.takes_panel.last_take not in (None, before) and window.takes_panel.last_take.is_file())


def test_tracking_turned_off_while_the_source_opens_stays_off(window, qapp) -> None:
    tracking = window.live_actions.tracking
    try:
        tracking.setChecked(False)
        tracking.setChecked(True)  # opening starts on the worker thread...
        tracking.setChecked(False)  # ...and the user changes their mind
        assert wait_in_qt(qapp, lambda: not window.live_actions.starting)
        _pump(qapp, 0.2)
        assert window.session.status().pipeline == "stopped" and not tracking.isChecked()
        assert window.session.pipeline.source.state.value == "closed"
    finally:
        tracking.setChecked(True)
        assert wait_in_qt(qapp, lambda: window.session.status().pipeline == "running")


def test_retarget_map_edit_is_saved_beside_the_rig(window, qapp, tmp_path: Path) -> None:
    from engine.rigs.bundled import bundled_rig_path
    from engine.retarget.mapping import load_map, map_path_for

    rig_file = tmp_path / "my_dragon.glb"
    shutil.copy(bundled_rig_path("dragon"), rig_file)
    assert window.rig_panel.load_rig(str(rig_file))
    try:
        panel = window.retarget_panel
        assert "not saved" in panel.path_label.text()
        follow_rows = [r for r in range(panel.table.rowCount()) if panel.table.cellWidget(r, 1).currentText() == "follow"]
        row = follow_rows[0] if follow_rows else 0
        panel.table.cellWidget(row, 4).setValue(7)
        links = panel.links_table.rowCount()
        assert links == len(window.session.suggested_map().orientations) > 0
        head = next(r for r in range(links) if panel.links_table.item(r, 0).text() == "Head")
        panel.links_table.cellWidget(head, 3).setValue(0.5)
        panel.links_table.selectRow(links - 1)
        panel.remove_selected_links()
        assert panel.links_table.rowCount() == links - 1
        # Face and hands: the dragon's wing fingers are suggested as grips; no jaw; a smaller fold.
        grips = panel.grips_table.rowCount()
        assert grips == 16 and panel.face_combos["jaw"].currentText() == "(automatic)"
        panel.face_combos["jaw"].setCurrentText("(none)")
        panel.grips_table.cellWidget(0, 2).setValue(25.0)
        panel.grips_table.selectRow(grips - 1)
        panel.remove_selected_grips()
        assert panel.save()
        saved = load_map(map_path_for(rig_file), window.session.rig.skeleton)
        assert saved.chains[row].delay_frames == 7
        assert len(saved.orientations) == links - 1
        assert next(link for link in saved.orientations if link.joint == "Head").weight == 0.5
        assert saved.face_hands.jaw == "" and len(saved.face_hands.grips) == grips - 1
        assert saved.face_hands.grips[0].angle_deg == 25.0
        # The running processor drives the rig with the saved map, face and hand joints included.
        assert window.session.pipeline.processor.retarget.map.face_hands == saved.face_hands
        assert "Saved map" in panel.path_label.text()
        panel.suggest()
        assert panel.table.cellWidget(row, 4).value() == window.session.suggested_map().chains[row].delay_frames
        assert wait_in_qt(qapp, lambda: window.session.status().pipeline == "running" and window.session._last_result is not None)
    finally:
        window.rig_panel.combo.setCurrentIndex(window.rig_panel.combo.findData("dragon"))


def test_screenshot_of_the_running_window_shows_the_rig(window, qapp, tmp_path: Path) -> None:
    window.viewport.frame_rig()
    _pump(qapp, 0.3)
    image = window.screenshot()
    out = tmp_path / "main_window.png"
    assert image.save(str(out))
    loaded = QtGui.QImage(str(out)).convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    assert loaded.width() == window.width() and loaded.height() == window.height()
    # The viewport's area must hold the rendered rig: the mesh's blue-grey and the background differ.
    top_left = window.viewport.mapTo(window, QtCore.QPoint(0, 0))
    ptr = loaded.constBits()
    ptr.setsize(loaded.sizeInBytes())
    pixels = np.frombuffer(ptr, np.uint8).reshape(loaded.height(), loaded.bytesPerLine() // 4, 4)
    view = pixels[top_left.y(): top_left.y() + window.viewport.height(), top_left.x(): top_left.x() + window.viewport.width(), :3].astype(int)
    mesh_like = (np.abs(view - np.array([0x6F, 0x8F, 0xBF])).sum(-1) < 120) & (view[..., 2] > view[..., 0] + 25)
    assert mesh_like.mean() > 0.005, "the screenshot's viewport area does not show the rig"


def test_the_readme_screenshot_exists_and_is_small() -> None:
    image = QtGui.QImage(str(SCREENSHOT))
    assert not image.isNull() and image.width() == 1000
    assert SCREENSHOT.stat().st_size < 300_000


def test_closing_saves_the_settings(window, app_dirs) -> None:
    from app.settings_store import SettingsStore

    window.filter_panel.beta_spin.setValue(0.7)
    assert window.session.settings.filter.beta == pytest.approx(0.7)
    assert window.session.pipeline.processor.filter.config.rotation.beta == pytest.approx(0.7)
    window.shutdown()
    assert window.session.pipeline is None
    saved = SettingsStore.at(app_dirs["settings"]).load()
    assert saved.rig == "dragon" and saved.source == "synthetic"
    assert saved.filter.beta == pytest.approx(0.7)
