"""Whether PyQt6's window can open on this Linux machine, and what to install when it cannot.

Two things stop PyQt6's window on a fresh Linux desktop before any AnyRig code runs, and both
end in Qt's abort ("Could not load the Qt platform plugin xcb", exit code 134):

- **missing system libraries**: the ``xcb`` platform plugin links against ``libxcb-cursor0``,
  ``libxcb-icccm4``, ``libxcb-keysyms1`` and more, which minimal installs lack. PyQt6's wheel
  ships Qt, not these. :func:`missing_xcb_libraries` asks the dynamic linker (``ldd`` on the
  plugin) which are absent; :func:`app.launch.cmd_gui` then prints the one ``apt-get`` line that installs
  them and runs the headless pipeline instead of aborting;
- **OpenCV's plugin path**: importing ``cv2`` (opencv-python, not -headless) sets
  ``QT_QPA_PLATFORM_PLUGIN_PATH`` to its own ``cv2/qt/plugins`` (Qt 5 plugins) for its
  ``imshow`` windows; PyQt6 then finds no usable plugin. :func:`drop_opencv_qt_plugin_path`
  removes that variable when it points into ``cv2`` before the ``QApplication`` exists.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
from pathlib import Path

__all__ = ["APT_LINE", "XCB_APT_PACKAGES", "apt_package_for", "drop_opencv_qt_plugin_path", "install_hint",
           "missing_xcb_libraries", "xcb_plugin_path"]

logger = logging.getLogger(__name__)

# Debian / Ubuntu packages the xcb plugin of PyQt6 (Qt 6.5+) needs beyond a minimal install.
XCB_APT_PACKAGES = (
    "libxcb-cursor0", "libxcb-icccm4", "libxcb-keysyms1", "libxcb-image0", "libxcb-randr0", "libxcb-render-util0",
    "libxcb-shape0", "libxcb-xfixes0", "libxcb-xkb1", "libxkbcommon-x11-0", "libegl1", "libgl1", "libfontconfig1", "libdbus-1-3",
)
APT_LINE = "sudo apt-get install -y " + " ".join(XCB_APT_PACKAGES)


def drop_opencv_qt_plugin_path() -> bool:
    """Unset ``QT_QPA_PLATFORM_PLUGIN_PATH`` (and OpenCV's font dir) when ``cv2`` pointed it at its own
    Qt 5 plugins; returns whether it did. Call before the ``QApplication`` is made."""
    path = os.environ.get("QT_QPA_PLATFORM_PLUGIN_PATH", "")
    if not re.search(r"[/\\]cv2[/\\]", path):
        return False
    logger.debug("ignoring QT_QPA_PLATFORM_PLUGIN_PATH=%s (OpenCV's Qt 5 plugins would shadow PyQt6's)", path)
    os.environ.pop("QT_QPA_PLATFORM_PLUGIN_PATH")
    if "cv2" in os.environ.get("QT_QPA_FONTDIR", ""):
        os.environ.pop("QT_QPA_FONTDIR")
    return True


def xcb_plugin_path() -> Path | None:
    """PyQt6's ``libqxcb.so``, or ``None`` when PyQt6 or the plugin is not there."""
    try:
        from PyQt6 import QtCore
    except ImportError:
        return None
    plugins = Path(QtCore.QLibraryInfo.path(QtCore.QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    return plugin if plugin.is_file() else None


def missing_xcb_libraries(plugin: Path | None = None) -> list[str]:
    """Shared libraries the xcb platform plugin needs and the system lacks (``ldd``'s "not found").

    Empty when nothing is missing, or when it cannot be told (no ``ldd``, no plugin): Qt then
    reports for itself.
    """
    plugin = plugin or xcb_plugin_path()
    ldd = shutil.which("ldd")
    if plugin is None or ldd is None:
        return []
    try:
        out = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=10, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({line.split("=>")[0].strip() for line in out.splitlines() if "not found" in line})


def apt_package_for(soname: str) -> str:
    """Debian's package name for a library soname: ``libxcb-cursor.so.0`` -> ``libxcb-cursor0``,
    ``libxkbcommon-x11.so.0`` -> ``libxkbcommon-x11-0`` (a hyphen when the name ends in a digit)."""
    name, _, version = soname.partition(".so")
    version = version.lstrip(".").split(".")[0]
    name = name.lower()
    return f"{name}-{version}" if name[-1:].isdigit() else f"{name}{version}"


def install_hint(missing: list[str]) -> str:
    """What to tell the user about ``missing`` libraries: the one apt line (all the plugin's usual
    libraries, so a second missing one does not need a second round), plus the exact names."""
    extra = sorted({apt_package_for(m) for m in missing} - set(XCB_APT_PACKAGES))
    line = APT_LINE + ("" if not extra else " " + " ".join(extra))
    return (f"The Qt window cannot open: the system lacks {', '.join(missing)} (needed by PyQt6's xcb platform plugin). "
            f"On Debian / Ubuntu install them with:\n    {line}\n")
