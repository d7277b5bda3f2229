"""The user's configuration folder: calibrations and retarget maps of rigs that ship with AnyRig.

Nothing is written into the checkout (``resources/`` may be read-only, and a ``git pull`` must not
meet the user's edits there). The folder is ``$ANYRIG_CONFIG`` when set, else
``$XDG_CONFIG_HOME/anyrig`` or ``~/.config/anyrig`` (on Windows ``%APPDATA%\\AnyRig``, on macOS
``~/Library/Application Support/AnyRig``). Folders are created by whoever writes into them.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
from pathlib import Path

__all__ = ["rig_key", "user_config_dir"]


def user_config_dir() -> Path:
    """The folder for the user's AnyRig settings files (not created here)."""
    env = os.environ.get("ANYRIG_CONFIG")
    if env:
        return Path(env).expanduser()
    if sys.platform == "win32" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "AnyRig"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "AnyRig"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "anyrig"


def rig_key(spec: str) -> str:
    """A file-name-safe key for a rig spec: a bundled name as is, a file as ``<stem>-<hash of its path>``."""
    if re.fullmatch(r"[A-Za-z0-9_-]+", spec) and not Path(spec).is_file():
        return spec
    path = Path(spec).expanduser().resolve()
    stem = re.sub(r"[^\w-]+", "_", path.stem) or "rig"
    return f"{stem}-{hashlib.sha1(str(path).encode()).hexdigest()[:10]}"
