"""SessionSettings <-> QSettings JSON, in a temporary INI file (never the user's settings)."""

from __future__ import annotations

from pathlib import Path

from app.settings_store import SESSION_KEY, SettingsStore
from streaming.settings import FilterSettings, OutputSettings, SessionSettings


def test_round_trip(tmp_path: Path) -> None:
    store = SettingsStore.at(tmp_path / "s.ini")
    settings = SessionSettings(
        source="webcam:1", rig="/rigs/fox.glb", output=OutputSettings(kind="osc", host="10.0.0.2", port=9000, bundle=False, osc_prefix="/fox"),
        filter=FilterSettings(enabled=False, min_cutoff=0.5, beta=1.5, d_cutoff=2.0), takes_dir="/takes", take_format="bvh", tracking=False,
    )
    store.save(settings)
    assert SettingsStore.at(tmp_path / "s.ini").load() == settings
    assert (tmp_path / "s.ini").is_file()


def test_nothing_saved_gives_the_defaults(tmp_path: Path) -> None:
    assert SettingsStore.at(tmp_path / "none.ini").load() == SessionSettings()


def test_corrupt_or_mistyped_values_fall_back_field_by_field(tmp_path: Path) -> None:
    store = SettingsStore.at(tmp_path / "s.ini")
    store.qsettings.setValue(SESSION_KEY, "{not json")
    assert store.load() == SessionSettings()
    store.qsettings.setValue(SESSION_KEY, "[1, 2]")
    assert store.load() == SessionSettings()
    store.qsettings.setValue(SESSION_KEY, '{"rig": "snake", "output": "vmc", "tracking": "yes", "filter": {"beta": 2, "enabled": 1, "junk": 3}}')
    loaded = store.load()
    assert loaded.rig == "snake"
    assert loaded.output == OutputSettings()  # a string where an object belongs is ignored
    assert loaded.tracking is True  # a string where a bool belongs is ignored
    assert loaded.filter.beta == 2 and loaded.filter.enabled is True  # an int is a float; an int is not a bool


def test_window_geometry_round_trip(qapp, tmp_path: Path) -> None:
    from PyQt6 import QtCore

    store = SettingsStore.at(tmp_path / "s.ini")
    assert store.load_geometry() == (None, None)
    store.save_geometry(QtCore.QByteArray(b"geo"), QtCore.QByteArray(b"state"))
    geometry, state = SettingsStore.at(tmp_path / "s.ini").load_geometry()
    assert bytes(geometry) == b"geo" and bytes(state) == b"state"
