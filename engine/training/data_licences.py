"""Which shared data files may be used for what: licences from ``manifest.csv`` and the held-out split.

The shared data folder (``../shared/data``, see its README) mixes freely licensed material with
files that are for internal R&D only. Its ``manifest.csv`` has one row per data file with the
columns ``file`` (path relative to the folder), ``skeleton`` (a skeleton id shared by every file of
one rig) and ``license`` (a licence key). Weights that ship may be trained only on the keys in
:data:`FREE_LICENCES` (DESIGN §5).

The held-out split file (``resources/eval_split.json``) names whole skeletons kept out of training
for evaluation::

    {"skeletons": ["Q_Fox", ...],       # manifest skeleton ids
     "files": ["some/dir/rig.glb"],     # and/or file paths relative to the data folder
     "notes": "..."}
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FREE_LICENCES",
    "ManifestEntry",
    "HeldOutSplit",
    "DEFAULT_SPLIT_PATH",
    "read_manifest",
    "is_free",
    "training_files",
    "load_split",
]

# Licence keys of ``manifest.csv`` that allow shipping derived weights (CC0, MIT, CC-BY with
# attribution, CMU free use). TB, MIXAMO, XIA, MANN, LAFAN1 and ICLONE are internal use only.
FREE_LICENCES = frozenset(
    {"Q_CC0", "Q_CC0_INF", "Q_CC0_FARM", "Q_CC0_DINO", "AD_MIT", "KHR_BRAINSTEM", "ROBOT", "CMU", "UNKNOWN_CMU"}
)

DEFAULT_SPLIT_PATH = Path(__file__).resolve().parents[2] / "resources" / "eval_split.json"

_LICENCE_FILTERS = ("free", "all")


@dataclass(frozen=True)
class ManifestEntry:
    """One row of ``manifest.csv``.

    Attributes:
        file: path relative to the data folder, forward slashes.
        skeleton: skeleton id (equal for files that share one rig).
        licence: licence key (see the data README).
        category: ``"human"`` or ``"nonhuman"``.
        format: ``"bvh"`` or ``"glb"``.
    """

    file: str
    skeleton: str
    licence: str
    category: str
    format: str

    @property
    def free(self) -> bool:
        return is_free(self.licence)


@dataclass(frozen=True)
class HeldOutSplit:
    """Skeletons held out of training: by manifest skeleton id or by relative file path."""

    skeletons: frozenset[str] = frozenset()
    files: frozenset[str] = frozenset()

    def holds_out(self, file: str, skeleton: str | None = None) -> bool:
        """True when ``file`` (relative path) or its ``skeleton`` id is held out."""
        return file.replace("\\", "/") in self.files or (skeleton is not None and skeleton in self.skeletons)


def is_free(licence: str) -> bool:
    """True when the licence key allows training weights that ship."""
    return licence in FREE_LICENCES


def read_manifest(data_dir: str | Path) -> dict[str, ManifestEntry]:
    """Rows of ``data_dir/manifest.csv`` keyed by relative file path; empty when there is none."""
    path = Path(data_dir) / "manifest.csv"
    if not path.is_file():
        return {}
    entries: dict[str, ManifestEntry] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            e = ManifestEntry(
                file=row["file"].replace("\\", "/"),
                skeleton=row.get("skeleton", ""),
                licence=row.get("license", ""),
                category=row.get("category", ""),
                format=row.get("format", ""),
            )
            entries[e.file] = e
    return entries


def load_split(path: str | Path | None = None) -> HeldOutSplit:
    """Read a held-out split file (default: ``resources/eval_split.json``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the JSON lacks both ``skeletons`` and ``files`` lists.
    """
    path = Path(path) if path is not None else DEFAULT_SPLIT_PATH
    data = json.loads(path.read_text(encoding="utf-8"))
    skeletons = data.get("skeletons", [])
    files = data.get("files", [])
    if not isinstance(skeletons, list) or not isinstance(files, list) or not (skeletons or files):
        raise ValueError(f"{path}: a split needs a non-empty 'skeletons' or 'files' list")
    return HeldOutSplit(frozenset(str(s) for s in skeletons), frozenset(str(f).replace("\\", "/") for f in files))


def training_files(
    data_dir: str | Path, licence_filter: str = "free", split: HeldOutSplit | None = None
) -> list[ManifestEntry]:
    """Manifest rows usable for training, sorted by path.

    Args:
        data_dir: the shared data folder (with ``manifest.csv``).
        licence_filter: ``"free"`` keeps only :data:`FREE_LICENCES`; ``"all"`` keeps every licence
            (internal experiments only; such weights must not ship).
        split: held-out skeletons to exclude (default: ``resources/eval_split.json`` if present).

    Returns:
        The entries whose file exists, whose licence passes the filter and which are not held out.
    """
    if licence_filter not in _LICENCE_FILTERS:
        raise ValueError(f"licence_filter must be one of {_LICENCE_FILTERS}, got {licence_filter!r}")
    if split is None:
        split = load_split() if DEFAULT_SPLIT_PATH.is_file() else HeldOutSplit()
    data_dir = Path(data_dir)
    out = []
    for e in sorted(read_manifest(data_dir).values(), key=lambda e: e.file):
        if licence_filter == "free" and not e.free:
            continue
        if split.holds_out(e.file, e.skeleton) or not (data_dir / e.file).is_file():
            continue
        out.append(e)
    return out
