"""The rigs that ship with AnyRig, authored here with :mod:`engine.rigs.builder` (CC0).

Six rigs, one function each (humanoid, quadruped, dragon, bird, snake, spider; authored in
:mod:`engine.rigs._designs` and re-exported here). Each returns an
:class:`~engine.rigs.builder.AuthoredRig`: its skeleton (with the local-axis convention listed in
:data:`CONVENTIONS`), a simple skinned mesh, a ``reference`` pose and demo clips at 30 fps
(``idle`` for every rig; ``walk`` and ``wave`` for the humanoid).

Files (regenerate with ``python -m engine.rigs.bundled resources/rigs``):
- ``<name>.glb``: skeleton, mesh and every clip, ``reference`` first;
- ``<name>/<clip>.bvh``: one BVH per clip (BVH holds one motion; the reader names the clip after
  the file stem, so ``<name>/reference.bvh`` carries the reference pose).

Frames: metres, Y up, every creature faces +Z with its left side at +X (glTF's frame).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from engine.rigs._designs import CONVENTIONS, FPS, bird, dragon, humanoid, quadruped, snake, spider
from engine.rig import Rig
from engine.rigs.builder import AuthoredRig

__all__ = [
    "CONVENTIONS",
    "FPS",
    "RIGS_DIR",
    "bird",
    "build_all",
    "build_rig",
    "bundled_bvh_paths",
    "bundled_rig_names",
    "bundled_rig_path",
    "dragon",
    "humanoid",
    "load_bundled_rig",
    "main",
    "quadruped",
    "snake",
    "spider",
]

logger = logging.getLogger(__name__)

RIGS_DIR = Path(__file__).resolve().parents[2] / "resources" / "rigs"


_BUILDERS: dict[str, Callable[[], AuthoredRig]] = {
    "humanoid": humanoid,
    "quadruped": quadruped,
    "dragon": dragon,
    "bird": bird,
    "snake": snake,
    "spider": spider,
}


def bundled_rig_names() -> list[str]:
    """Names of the shipped rigs, in a fixed order."""
    return list(_BUILDERS)


def build_rig(name: str) -> AuthoredRig:
    """Author the bundled rig ``name`` in memory (no files read)."""
    if name not in _BUILDERS:
        raise KeyError(f"no bundled rig {name!r}; bundled rigs: {bundled_rig_names()}")
    return _BUILDERS[name]()


def bundled_rig_path(name: str, root: str | Path | None = None) -> Path:
    """Path of the bundled GLB, e.g. ``"dragon"`` -> ``resources/rigs/dragon.glb``.

    Raises:
        KeyError: ``name`` is not a bundled rig (the message lists them).
    """
    if name not in _BUILDERS:
        raise KeyError(f"no bundled rig {name!r}; bundled rigs: {bundled_rig_names()}")
    return Path(root or RIGS_DIR) / f"{name}.glb"


def bundled_bvh_paths(name: str, root: str | Path | None = None) -> dict[str, Path]:
    """Clip name -> path of its BVH file (``resources/rigs/<name>/<clip>.bvh``), ``reference`` first."""
    bundled_rig_path(name)  # validates the name
    folder = Path(root or RIGS_DIR) / name
    return {c.name: folder / f"{c.name}.bvh" for c in build_rig(name).file_clips()}


def load_bundled_rig(name: str) -> Rig:
    """The bundled rig ``name`` read from its GLB with :func:`engine.formats.rigio.load_rig`."""
    from engine.formats.rigio import load_rig

    return load_rig(bundled_rig_path(name))


def build_all(out_dir: str | Path) -> list[Path]:
    """Write every bundled rig to ``out_dir``: ``<name>.glb`` and ``<name>/<clip>.bvh``.

    Returns:
        The paths written, in order.
    """
    from engine.formats.rigio import save_rig

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in bundled_rig_names():
        authored = build_rig(name)
        rig = authored.rig
        full = Rig(rig.name, rig.skeleton, authored.file_clips(), rig.mesh, dict(rig.humanoid), rig.reference_pose, rig.source)
        glb = bundled_rig_path(name, out_dir)
        save_rig(full, glb)
        written.append(glb)
        for clip_name, path in bundled_bvh_paths(name, out_dir).items():
            path.parent.mkdir(exist_ok=True)
            save_rig(full, path, clip=clip_name)
            written.append(path)
        logger.info("wrote %s (%d joints, clips %s)", name, rig.skeleton.num_joints, [c.name for c in full.clips])
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m engine.rigs.bundled OUT_DIR``: regenerate the bundled rig files."""
    parser = argparse.ArgumentParser(prog="python -m engine.rigs.bundled", description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=str(RIGS_DIR), help="output folder (default: resources/rigs)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    paths = build_all(args.out_dir)
    logger.info("%d files, %.1f kB in all", len(paths), sum(p.stat().st_size for p in paths) / 1024)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
