"""Imports point one way (app -> tools -> streaming -> engine): engine and streaming never load Qt or pygfx,
tools never loads Qt, and no module imports itself back."""

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


def test_tools_import_neither_app_nor_qt() -> None:
    for path in (REPO_ROOT / "tools").rglob("*.py"):
        text = path.read_text()
        assert "from app" not in text and "import app" not in text, path
        assert "PyQt6" not in text and "pyqtgraph" not in text, path


def test_engine_and_streaming_do_not_import_tools() -> None:
    for package in ("engine", "streaming"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            text = path.read_text()
            assert "from tools" not in text and "import tools" not in text, path


def test_no_import_cycles() -> None:
    """No module of the project imports itself back through others (imports inside functions count)."""
    import ast

    packages = ("engine", "streaming", "tools", "app")
    modules: dict[str, object] = {}
    for package in packages:
        for path in (REPO_ROOT / package).rglob("*.py"):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    edges: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges[name].update(t for t in targets if t in modules and t != name)
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(nxt):] + [node, nxt]))
            if nxt not in state:
                visit(nxt, path + [node])
        state[node] = 2

    for module in sorted(modules):
        if module not in state:
            visit(module, [])
