"""The app's state and plumbing modules import no GUI library (napari style: plain model, thin Qt view)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO_ROOT

QT_FREE = (
    "app.live_session", "app.take_manager", "app.output_slots", "app.view_tap", "app.neutral_pose",
    "app.source_opener", "app.session_status", "app.camera_probe",
)
FORBIDDEN = ("PyQt6", "pyqtgraph", "pygfx", "rendercanvas")


def test_session_modules_do_not_import_gui_libraries() -> None:
    code = (
        "import importlib, sys\n"
        f"for m in {QT_FREE!r}: importlib.import_module(m)\n"
        f"print(','.join(n for n in {FORBIDDEN!r} if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"GUI libraries imported: {out.stdout.strip()}"
