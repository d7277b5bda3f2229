"""``python main.py [gui]``: the window opens and closes on its own; without a display, the headless run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from main import build_parser
from tests.app.conftest import pipeline_threads


def test_without_a_display_the_gui_command_runs_headless(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from app.launch import cmd_gui, has_display

    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert not has_display()
    args = build_parser().parse_args(["gui", "--seconds", "1", "--rig", "snake"])
    assert cmd_gui(args) == 0
    assert "ran " in capsys.readouterr().out and "snake" in args.rig


@pytest.mark.slow
def test_gui_command_opens_the_window_and_closes_itself(qapp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import main_window
    from app.settings_store import SettingsStore

    monkeypatch.setattr(main_window, "default_takes_dir", lambda: tmp_path / "takes")
    store = SettingsStore.at(tmp_path / "s.ini")
    args = build_parser().parse_args(["gui", "--seconds", "2", "--rig", "bird"])
    start = time.monotonic()
    assert main_window.run_app(args, store=store) == 0
    assert time.monotonic() - start < 30
    assert store.load().rig == "bird"
    deadline = time.monotonic() + 5
    while pipeline_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pipeline_threads() == [], threading.enumerate()
