"""Imports point one way (app -> streaming -> engine): engine and streaming never load Qt or pygfx."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

from tests.conftest import REPO_ROOT

FORBIDDEN = ("PyQt6", "pyqtgraph", "pygfx", "rendercanvas")


def _modules(package: str) -> list[str]:
    path = REPO_ROOT / package
    return [m.name for m in pkgutil.walk_packages([str(path)], prefix=f"{package}.") if "__" not in m.name]


def test_engine_and_streaming_do_not_import_gui_libraries() -> None:
    mods = _modules("engine") + _modules("streaming")
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        f"bad = [n for n in {FORBIDDEN!r} if n in sys.modules]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"GUI libraries imported by engine/streaming: {out.stdout.strip()}"


def test_engine_does_not_import_streaming_or_app() -> None:
    for path in (REPO_ROOT / "engine").rglob("*.py"):
        text = path.read_text()
        assert "from streaming" not in text and "import streaming" not in text, path
        assert "from app" not in text and "import app" not in text, path


def test_streaming_does_not_import_app() -> None:
    for path in (REPO_ROOT / "streaming").rglob("*.py"):
        text = path.read_text()
        assert "from app" not in text and "import app" not in text, path
