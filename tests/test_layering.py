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


def _imported_packages(path) -> set[str]:
    """Top-level packages a file imports anywhere (imports inside functions count; relative ones are skipped)."""
    import ast

    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            out.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
    return out


def _offenders(package: str, forbidden: set[str]) -> list[str]:
    return [f"{path.relative_to(REPO_ROOT)} imports {sorted(_imported_packages(path) & forbidden)}"
            for path in sorted((REPO_ROOT / package).rglob("*.py")) if _imported_packages(path) & forbidden]


def test_engine_imports_neither_streaming_nor_tools_nor_app() -> None:
    assert _offenders("engine", {"streaming", "tools", "app"}) == []


def test_streaming_imports_neither_tools_nor_app() -> None:
    assert _offenders("streaming", {"tools", "app"}) == []


def test_tools_import_neither_app_nor_qt() -> None:
    assert _offenders("tools", {"app", "PyQt6", "pyqtgraph"}) == []


def test_the_import_check_reads_imports_not_words(tmp_path) -> None:
    """A name that merely contains "import app" is not an import; an import inside a function is."""
    sample = tmp_path / "sample.py"
    sample.write_text("from engine.x import apply_offsets as import_apply\n\ndef f():\n    import app.main_window\n")
    assert _imported_packages(sample) == {"engine", "app"}


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
