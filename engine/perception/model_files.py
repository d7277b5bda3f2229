"""Where the MediaPipe pose model file comes from: explicit path, cache, shared folder, or download.

Resolution order of :func:`resolve_pose_model`:

1. an explicit path (must exist);
2. the user cache: ``$ANYRIG_CACHE/models`` or else ``~/.cache/anyrig/models``;
3. ``../shared/models`` beside the repository (development checkouts, tests and CI);
4. first-use download from Google's official URL (pinned ``float16/1`` version, DESIGN §9), with a
   tqdm progress bar, written to a temporary file, checked against the pinned sha256, then moved
   into the cache. Tests never download: they call :func:`download_file` against a local server.

Google publishes no checksum; the pin is the one independent projects use for this URL and the one
of the byte-identical copy in ``shared/models`` (see its README).
"""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from engine.errors import AnyRigError

__all__ = ["ModelFile", "POSE_LANDMARKER_FULL", "FACE_LANDMARKER", "HAND_LANDMARKER", "ModelFileError", "cache_dir", "resolve_pose_model", "download_file", "sha256_of"]

logger = logging.getLogger(__name__)


class ModelFileError(AnyRigError):
    """A model file that cannot be found, downloaded or verified (names the file/URL and the fault)."""

    def __init__(self, where: str | Path, reason: str) -> None:
        self.where = str(where)
        self.reason = reason
        super().__init__(f"{self.where}: {reason}")


@dataclass(frozen=True)
class ModelFile:
    """A downloadable model file with its pinned checksum."""

    filename: str
    url: str
    sha256: str
    size: int


POSE_LANDMARKER_FULL = ModelFile(
    filename="pose_landmarker_full.task",
    url="https://storage.googleapis.com/mediapipe-models/pose_landmarker/pose_landmarker_full/float16/1/pose_landmarker_full.task",
    sha256="5134a3aad27a58b93da0088d431f366da362b44e3ccfbe3462b3827a839011b1",
    size=9_398_198,
)

# The face and hand bundles: Google's ``float16/1`` versions, pinned like the pose model (shared/models/README.md).
FACE_LANDMARKER = ModelFile(
    filename="face_landmarker.task",
    url="https://storage.googleapis.com/mediapipe-models/face_landmarker/face_landmarker/float16/1/face_landmarker.task",
    sha256="64184e229b263107bc2b804c6625db1341ff2bb731874b0bcc2fe6544e0bc9ff",
    size=3_758_596,
)

HAND_LANDMARKER = ModelFile(
    filename="hand_landmarker.task",
    url="https://storage.googleapis.com/mediapipe-models/hand_landmarker/hand_landmarker/float16/1/hand_landmarker.task",
    sha256="fbc2a30080c3c557093b5ddfc334698132eb341044ccee322ccf8bcf3607cde1",
    size=7_819_105,
)

_REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """``$ANYRIG_CACHE/models`` if set, else ``~/.cache/anyrig/models`` (not created here)."""
    env = os.environ.get("ANYRIG_CACHE")
    base = Path(env) if env else Path.home() / ".cache" / "anyrig"
    return base / "models"


def sha256_of(path: str | Path) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download_file(url: str, dest: str | Path, sha256: str, *, timeout_s: float = 30.0, progress: bool = True) -> Path:
    """Download ``url`` to ``dest`` with a progress bar; keep it only if its sha256 matches.

    The data goes to ``dest + ".part"`` first and is renamed on success, so an interrupted or
    corrupt download never leaves a file that looks valid.

    Raises:
        ModelFileError: network failure or checksum mismatch (the partial file is removed).
    """
    from tqdm import tqdm

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    h = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response, open(part, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, disable=not progress) as bar:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    h.update(block)
                    bar.update(len(block))
    except OSError as e:
        part.unlink(missing_ok=True)
        raise ModelFileError(url, f"download failed: {e}") from None
    if h.hexdigest() != sha256:
        part.unlink(missing_ok=True)
        raise ModelFileError(url, f"checksum mismatch: got sha256 {h.hexdigest()}, expected {sha256}")
    os.replace(part, dest)
    logger.info("downloaded %s to %s", url, dest)
    return dest


def resolve_pose_model(path: str | Path | None = None, *, model: ModelFile = POSE_LANDMARKER_FULL,
                       allow_download: bool = True, shared_dir: str | Path | None = None) -> Path:
    """The model file to use (see the module docstring for the order); the face and hand bundles
    resolve the same way with ``model=FACE_LANDMARKER`` / ``HAND_LANDMARKER``.

    Args:
        path: explicit model file; returned as is when it exists.
        model: which model (default: the full PoseLandmarker, ``float16/1``).
        allow_download: False to fail instead of downloading.
        shared_dir: override of ``../shared/models`` beside the repository.

    Raises:
        ModelFileError: the explicit path is missing, or nothing is found and downloading is not
            allowed or fails.
    """
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise ModelFileError(p, "model file not found")
        return p
    cached = cache_dir() / model.filename
    if cached.is_file():
        return cached
    shared = Path(shared_dir) if shared_dir is not None else _REPO_ROOT.parent / "shared" / "models"
    if (shared / model.filename).is_file():
        return shared / model.filename
    where = f"put {model.filename} (from {model.url}) into {cached.parent}"
    if not allow_download:
        raise ModelFileError(cached, f"{model.filename} not found in the cache or {shared}, and downloading is disabled: {where}")
    logger.info("downloading %s (%.1f MB) from %s", model.filename, model.size / 1e6, model.url)
    try:
        return download_file(model.url, cached, model.sha256)
    except ModelFileError as e:  # offline: say where the file goes when fetched on another machine
        raise ModelFileError(model.filename, f"{model.filename} is not on this machine and {e.reason}. To work offline, {where}") from None
