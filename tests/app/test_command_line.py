"""What the user types on the command line wins over the saved settings, also when it equals a default."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.main_window import settings_from_args
from app.settings_store import SettingsStore
from main import build_parser
from streaming.settings import SessionSettings


@pytest.fixture()
def store(tmp_path: Path) -> SettingsStore:
    saved = SessionSettings(source="webcam:1", rig="snake", mirror=False, upper_body=True)
    s = SettingsStore.at(tmp_path / "s.ini")
    s.save(saved)
    return s


def _args(*argv: str):
    return build_parser(["gui", *argv]).parse_args(["gui", *argv])


@pytest.mark.parametrize(
    ("argv", "rig", "source"),
    [
        ((), "snake", "webcam:1"),  # nothing typed: the saved choices
        (("--rig", "dragon"), "dragon", "webcam:1"),  # the default's value, typed: it wins
        (("--source", "synthetic"), "snake", "synthetic"),
        (("--rig", "bird", "--source", "synthetic"), "bird", "synthetic"),
    ],
)
def test_typed_rig_and_source_win(store: SettingsStore, argv, rig: str, source: str) -> None:
    settings = settings_from_args(store, _args(*argv))
    assert (settings.rig, settings.source) == (rig, source)


def test_typed_modes_and_outputs_win(store: SettingsStore) -> None:
    kept = settings_from_args(store, _args())
    assert kept.mirror is False and kept.upper_body is True
    typed = settings_from_args(store, _args("--mirror", "--no-upper-body", "--osc", "127.0.0.1:9001"))
    assert typed.mirror is True and typed.upper_body is False
    assert (typed.output.kind, typed.output.host, typed.output.port) == ("osc", "127.0.0.1", 9001)
    vmc = settings_from_args(store, _args("--vmc", "127.0.0.1:39540", "--vmc-raw", "--humanoid-map", "map.json"))
    assert (vmc.output.kind, vmc.output.port, vmc.output.vmc_raw, vmc.output.humanoid_map) == ("vmc", 39540, True, "map.json")


def test_run_without_rig_or_source_uses_the_defaults() -> None:
    args = build_parser(["run"]).parse_args(["run"])
    assert args.rig is None and args.source is None and args.mirror is None  # `run` fills in dragon / synthetic / off
    assert SessionSettings().rig == "dragon" and SessionSettings().source == "synthetic" and SessionSettings().mirror is True
