"""Loading and saving rigs in any supported format: BVH, glTF / GLB, VRM.

:func:`load_rig` picks the reader from the file's content (``HIERARCHY`` text -> BVH, ``glTF``
binary magic or a JSON object with ``"asset"`` -> glTF), falling back to the extension only to
word the error. :func:`save_rig` picks the writer from the destination's extension.

Reference pose convention: a clip named ``reference`` (any case) holds the rig's named reference
pose (DESIGN §1, the model's reference pose-rotation pair). After loading, its first frame's local
rotations become ``rig.reference_pose``; the clip itself stays in ``rig.clips``.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from engine.errors import RigFormatError, RigLimitError
from engine.formats.read_limits import DEFAULT_LIMITS, check_limit
from engine.rig import Clip, Rig

__all__ = ["RIG_SUFFIXES", "load_rig", "save_rig", "iter_rig_files", "sniff_format"]

logger = logging.getLogger(__name__)

RIG_SUFFIXES = (".bvh", ".glb", ".gltf", ".vrm")
REFERENCE_CLIP = "reference"
_SNIFF_BYTES = 4096


def sniff_format(path: str | Path, head: bytes) -> str:
    """``"bvh"`` or ``"gltf"`` from the first bytes of a file.

    Raises:
        RigFormatError: the content is neither BVH text nor glTF (binary or JSON).
    """
    if head[:4] == b"glTF":
        return "gltf"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text[:9].upper() == b"HIERARCHY":
        return "bvh"
    if text[:1] == b"{":
        return "gltf"  # confirmed by _check_json_gltf once the whole file is read
    ext = Path(path).suffix.lower() or "no extension"
    raise RigFormatError(path, f"unrecognised content for {ext}: not BVH text (HIERARCHY) nor glTF (binary or JSON)")


def _check_json_gltf(path: str | Path, data: bytes) -> None:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RigFormatError(path, f"starts like JSON but is not valid JSON: {e}") from None
    except RecursionError:
        raise RigLimitError(path, "JSON nested too deeply to parse", limit="json_depth") from None
    if not isinstance(doc, dict) or "asset" not in doc:
        raise RigFormatError(path, "JSON file without a glTF 'asset' object")


def _call_with_supported(reader: Callable[..., Rig], path: Path, options: dict, **fixed) -> Rig:
    """Call ``reader`` with the options its signature accepts; the others are logged and dropped."""
    params = inspect.signature(reader).parameters
    used = {k: v for k, v in options.items() if k in params}
    dropped = sorted(set(options) - set(used))
    if dropped:
        logger.warning("%s: options %s do not apply to this format and were ignored", path, dropped)
    return reader(path, **fixed, **used)


def load_rig(path: str | Path, **options) -> Rig:
    """Read a rig file of any supported format.

    Args:
        path: a ``.bvh``, ``.glb``, ``.gltf`` or ``.vrm`` file (the content decides the reader).
        **options: reader options, e.g. ``scale``/``up_axis`` (BVH) or ``fps``/``skin`` (glTF);
            options the chosen reader does not take are ignored with a warning; ``limits``
            (a :class:`~engine.formats.read_limits.ReadLimits`) replaces the default limits.

    Returns:
        The rig; ``reference_pose`` is set from a clip named ``reference`` if there is one.

    Raises:
        RigFormatError: missing or unreadable file, unknown content, or a malformed file;
            :class:`~engine.errors.RigLimitError` (a subclass) when the file is over a limit of
            :mod:`engine.formats.read_limits`.
    """
    path = Path(path)
    if not path.is_file():  # a FIFO or device would block or never end
        raise RigFormatError(path, "file not found" if not path.exists() else "not a regular file")
    try:
        check_limit(path, "file size in bytes", path.stat().st_size, "file_bytes", options.get("limits", DEFAULT_LIMITS))
        data = path.read_bytes()
    except OSError as e:
        raise RigFormatError(path, f"cannot read file: {e.strerror or e}") from None
    fmt = sniff_format(path, data[:_SNIFF_BYTES])
    if fmt == "bvh":
        from engine.formats.bvh import read_bvh

        rig = _call_with_supported(read_bvh, path, options, data=data)
    else:
        if data[:4] != b"glTF":
            _check_json_gltf(path, data)
        from engine.formats.gltf import read_gltf  # written separately; imported only when needed

        rig = _call_with_supported(read_gltf, path, options, data=data)
    _apply_reference_clip(rig)
    return rig


def _apply_reference_clip(rig: Rig) -> None:
    for clip in rig.clips:
        if clip.name.lower() == REFERENCE_CLIP and clip.num_frames > 0:
            rig.reference_pose = np.array(clip.rotations[0])
            logger.debug("%s: reference pose taken from clip %r", rig.name, clip.name)
            return


def save_rig(rig: Rig, path: str | Path, *, clip: Clip | str | None = None, fps: float | None = None) -> None:
    """Write ``rig`` to ``path``, the format chosen by its extension.

    ``.bvh`` writes one clip (``clip``, else the first) with :func:`engine.formats.bvh.write_bvh`, in
    centimetres when the rig is taller than 0.5 m and in metres otherwise, so that the BVH reader's
    unit guess (:func:`engine.formats.bvh.guess_unit_scale`) reads it back at the right size. ``.glb``
    writes every clip (or only ``clip``) with ``engine.formats.gltf_write.write_glb``.

    Args:
        rig: the rig to write.
        path: destination, ``.bvh`` or ``.glb``.
        clip: a clip or clip name to write alone; ``None`` writes all (BVH: the first).
        fps: resample the written clips to this rate.

    Raises:
        ValueError: unsupported extension or bad ``fps``.
        KeyError: ``clip`` names no clip of the rig.
        OSError: the file cannot be written.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext == ".bvh":
        from engine.formats.bvh import write_bvh

        write_bvh(rig, path, clip=clip, fps=fps)  # units: the one rule of bvh_file_units
    elif ext == ".glb":
        from engine.formats.clip_resample import resample_clip
        from engine.formats.gltf_write import write_glb  # written separately; imported only when needed

        clips = [rig.clip(clip) if isinstance(clip, str) else clip] if clip is not None else list(rig.clips)
        if fps is not None:
            clips = [resample_clip(c, fps) for c in clips]
        out = Rig(rig.name, rig.skeleton, clips, rig.mesh, dict(rig.humanoid), rig.reference_pose, rig.source)
        write_glb(out, path, clips=None)
    else:
        raise ValueError(f"cannot write {path}: unsupported extension {ext or '(none)'!r}; use .bvh or .glb")


def iter_rig_files(folder: str | Path) -> Iterator[Path]:
    """Every ``.bvh``, ``.glb``, ``.gltf`` and ``.vrm`` file under ``folder``, recursively, sorted."""
    found = [p for p in Path(folder).rglob("*") if p.suffix.lower() in RIG_SUFFIXES and p.is_file()]
    yield from sorted(found)
