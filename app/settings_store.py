"""Session settings kept between runs: :class:`SessionSettings` as JSON inside ``QSettings``.

One JSON value (key ``session/json``) rather than one QSettings key per field: the dataclasses
stay the single description of the settings, old files with missing or unknown fields still load
(:meth:`SessionSettings.from_dict`), and a corrupt value falls back to the defaults with a warning.
Tests pass their own ``QSettings`` (an INI file in a temporary folder) so they never touch the
user's.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PyQt6 import QtCore

from streaming.settings import SessionSettings

__all__ = ["SettingsStore", "SESSION_KEY", "GEOMETRY_KEY"]

logger = logging.getLogger(__name__)

SESSION_KEY = "session/json"
GEOMETRY_KEY = "window/geometry"
STATE_KEY = "window/state"


class SettingsStore:
    """Reads and writes the app's settings.

    Args:
        qsettings: where to keep them; default: the user's ``AnyRig/AnyRig`` settings.
    """

    def __init__(self, qsettings: QtCore.QSettings | None = None) -> None:
        self.qsettings = qsettings if qsettings is not None else QtCore.QSettings("AnyRig", "AnyRig")

    @classmethod
    def at(cls, path: str | Path) -> SettingsStore:
        """A store in the INI file ``path`` (tests, portable installs)."""
        return cls(QtCore.QSettings(str(path), QtCore.QSettings.Format.IniFormat))

    def load(self) -> SessionSettings:
        """The saved settings, or the defaults when there are none or they cannot be read."""
        text = self.qsettings.value(SESSION_KEY, "", type=str)
        if not text:
            return SessionSettings()
        try:
            data = json.loads(text)
            if not isinstance(data, dict):
                raise ValueError(f"expected a JSON object, got {type(data).__name__}")
            return SessionSettings.from_dict(data)
        except (ValueError, TypeError) as exc:
            logger.warning("saved settings in %s are unreadable (%s); using the defaults", self.qsettings.fileName(), exc)
            return SessionSettings()

    def save(self, settings: SessionSettings) -> None:
        self.qsettings.setValue(SESSION_KEY, json.dumps(settings.to_dict(), sort_keys=True))
        self.qsettings.sync()

    def load_geometry(self) -> tuple[QtCore.QByteArray | None, QtCore.QByteArray | None]:
        """The main window's saved geometry and state (``None`` when never saved)."""
        geometry = self.qsettings.value(GEOMETRY_KEY)
        state = self.qsettings.value(STATE_KEY)
        return (geometry if isinstance(geometry, QtCore.QByteArray) else None, state if isinstance(state, QtCore.QByteArray) else None)

    def save_geometry(self, geometry: QtCore.QByteArray, state: QtCore.QByteArray) -> None:
        self.qsettings.setValue(GEOMETRY_KEY, geometry)
        self.qsettings.setValue(STATE_KEY, state)
        self.qsettings.sync()
