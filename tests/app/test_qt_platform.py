"""Will the Qt window open on this Linux box, and what to install when it will not (no window here)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from app import launch
from app.qt_platform import APT_LINE, apt_package_for, drop_opencv_qt_plugin_path, install_hint, missing_xcb_libraries, xcb_plugin_path
from main import build_parser


def test_package_names_follow_debian_rules() -> None:
    assert apt_package_for("libxcb-cursor.so.0") == "libxcb-cursor0"
    assert apt_package_for("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert apt_package_for("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert apt_package_for("libEGL.so.1") == "libegl1"
    assert apt_package_for("libdbus-1.so.3") == "libdbus-1-3"


def test_the_hint_is_one_apt_line_naming_what_is_missing() -> None:
    hint = install_hint(["libxcb-cursor.so.0", "libfoo-bar.so.7"])
    assert "libxcb-cursor.so.0" in hint and hint.count("apt-get install") == 1
    assert APT_LINE in hint and hint.rstrip().endswith("libfoo-bar7")


@pytest.mark.skipif(shutil.which("ldd") is None or xcb_plugin_path() is None, reason="needs ldd and PyQt6's xcb plugin")
def test_ldd_reports_a_library_the_plugin_cannot_find(tmp_path: Path) -> None:
    """A copy of the plugin that asks for a library nobody has: the check names exactly that one."""
    assert all(".so" in m for m in missing_xcb_libraries())  # this machine (empty when complete)
    data = xcb_plugin_path().read_bytes()
    assert b"libxcb-cursor.so.0\x00" in data
    fake = tmp_path / "libqxcb.so"
    fake.write_bytes(data.replace(b"libxcb-cursor.so.0\x00", b"libxcb-cursXr.so.0\x00"))  # same length: a valid ELF
    missing = missing_xcb_libraries(fake)
    assert "libxcb-cursXr.so.0" in missing and "libxcb-cursor.so.0" not in missing


def test_missing_libraries_mean_the_headless_run_and_the_apt_line(monkeypatch, capsys) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr(launch, "missing_xcb_libraries", lambda: ["libxcb-cursor.so.0"])
    args = build_parser(["gui"]).parse_args(["gui", "--seconds", "1", "--rig", "snake"])
    assert launch.cmd_gui(args) == 0  # no abort (rc 134): the pipeline ran headless
    out = capsys.readouterr()
    assert "sudo apt-get install -y libxcb-cursor0" in out.err and "ran " in out.out


def test_opencvs_plugin_path_is_dropped_but_others_are_kept(monkeypatch) -> None:
    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", "/usr/lib/python3/site-packages/cv2/qt/plugins")
    monkeypatch.setenv("QT_QPA_FONTDIR", "/usr/lib/python3/site-packages/cv2/qt/fonts")
    assert drop_opencv_qt_plugin_path()
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in os.environ and "QT_QPA_FONTDIR" not in os.environ
    monkeypatch.setenv("QT_QPA_PLATFORM_PLUGIN_PATH", "/opt/qt6/plugins")
    assert not drop_opencv_qt_plugin_path() and os.environ["QT_QPA_PLATFORM_PLUGIN_PATH"] == "/opt/qt6/plugins"
