"""One running main window shared by the window tests of a module (the first wgpu draw costs seconds).

Every test gets the window as it is; tests that change the session (rig, output, tracking) put it
back. Settings live in an INI file in a temporary folder, takes in another, so nothing touches the
user's settings or documents. Teardown closes the window, which stops the pipeline; the fixture
then asserts that no pipeline thread is left behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("pygfx")
pytest.importorskip("pytestqt")


def pipeline_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("anyrig-", "take-writer"))
            and t.name != "anyrig-camera-probe" and not t.name.startswith("anyrig-probe")]


@pytest.fixture(scope="module")
def app_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("anyrig-app")
    return {"settings": root / "settings.ini", "takes": root / "takes", "root": root}


@pytest.fixture(scope="module")
def window(qapp, app_dirs: dict[str, Path]) -> Iterator[object]:
    """The main window on the synthetic source and the bundled dragon, running."""
    from tools.gpu_setup import configure_wgpu
    from app.live_session import LiveSession
    from app.main_window import MainWindow
    from app.settings_store import SettingsStore
    from streaming.settings import SessionSettings

    configure_wgpu()
    store = SettingsStore.at(app_dirs["settings"])
    session = LiveSession(SessionSettings(source="synthetic", rig="dragon"), takes_dir=app_dirs["takes"])
    problems = session.open()
    assert problems == []
    win = MainWindow(session, store, probe_cameras=False)
    win.show()
    # The first frames compile wgpu pipelines (seconds on a CPU adapter): wait for poses to show.
    deadline = time.monotonic() + 30
    while win.updater.poses_shown < 3 and time.monotonic() < deadline:
        qapp.processEvents()
        time.sleep(0.01)
    try:
        yield win
    finally:
        win.close()
        qapp.processEvents()
        deadline = time.monotonic() + 5
        while pipeline_threads() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pipeline_threads() == [], f"threads left running: {pipeline_threads()}"
