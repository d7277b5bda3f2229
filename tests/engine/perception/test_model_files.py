"""Model file resolution and the verified download, against a local HTTP server (no network)."""

from __future__ import annotations

import hashlib
import http.server
import threading
from pathlib import Path

import pytest

from engine.perception.model_files import (
    POSE_LANDMARKER_FULL,
    ModelFileError,
    cache_dir,
    download_file,
    resolve_pose_model,
    sha256_of,
)

PAYLOAD = b"not really a model " * 1000


@pytest.fixture()
def server(tmp_path: Path):
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "model.task").write_bytes(PAYLOAD)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path / "www"), **kw)

        def log_message(self, *args) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02})
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


def test_pinned_official_url_and_checksum() -> None:
    assert "/float16/1/" in POSE_LANDMARKER_FULL.url and POSE_LANDMARKER_FULL.url.startswith("https://storage.googleapis.com/")
    assert POSE_LANDMARKER_FULL.sha256 == "5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1"


def test_download_with_matching_checksum(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "model.task"
    out = download_file(f"{server}/model.task", dest, hashlib.sha256(PAYLOAD).hexdigest(), progress=False)
    assert out == dest and dest.read_bytes() == PAYLOAD
    assert not dest.with_name("model.task.part").exists()


def test_download_with_wrong_checksum_keeps_nothing(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "cache" / "model.task"
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        download_file(f"{server}/model.task", dest, "0" * 64, progress=False)
    assert not dest.exists() and not dest.with_name("model.task.part").exists()


def test_download_of_missing_url_is_a_clear_error(server: str, tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="download failed"):
        download_file(f"{server}/absent.task", tmp_path / "x.task", "0" * 64, progress=False)


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANYRIG_CACHE", str(tmp_path / "cache"))
    assert cache_dir() == tmp_path / "cache" / "models"
    with pytest.raises(ModelFileError, match="not found"):
        resolve_pose_model(tmp_path / "missing.task")
    shared = tmp_path / "shared"
    shared.mkdir()
    with pytest.raises(ModelFileError, match="downloading is disabled"):
        resolve_pose_model(allow_download=False, shared_dir=shared)
    (shared / POSE_LANDMARKER_FULL.filename).write_bytes(b"shared")
    assert resolve_pose_model(allow_download=False, shared_dir=shared) == shared / POSE_LANDMARKER_FULL.filename
    cache_dir().mkdir(parents=True)
    (cache_dir() / POSE_LANDMARKER_FULL.filename).write_bytes(b"cached")
    assert resolve_pose_model(allow_download=False, shared_dir=shared) == cache_dir() / POSE_LANDMARKER_FULL.filename
    explicit = tmp_path / "mine.task"
    explicit.write_bytes(b"x")
    assert resolve_pose_model(explicit) == explicit


def test_shared_model_matches_the_pin(shared_models: Path) -> None:
    path = shared_models / POSE_LANDMARKER_FULL.filename
    if not path.is_file():
        pytest.skip("shared pose model absent")
    assert sha256_of(path) == POSE_LANDMARKER_FULL.sha256
