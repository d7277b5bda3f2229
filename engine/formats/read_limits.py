"""Resource limits every rig reader enforces, whatever the entry point (``load_rig``, ``read_gltf``, ``read_bvh``).

A hostile or corrupt file must fail fast with a :class:`~engine.errors.RigLimitError` naming the
limit, never hang or exhaust memory. The limits are one frozen dataclass (:data:`DEFAULT_LIMITS`);
each is far above what a real rig needs and low enough that a file near the limits still loads
in seconds and a bounded amount of memory (tests/engine/formats/test_hostile_files.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import RigLimitError

__all__ = ["DEFAULT_LIMITS", "ReadLimits", "check_limit", "json_depth"]


@dataclass(frozen=True)
class ReadLimits:
    """Upper bounds on what one rig file may make a reader read, decode and allocate.

    Attributes:
        file_bytes: size of the rig file or of one external buffer it names.
        joints: skeleton joints (BVH joints, glTF skeleton nodes).
        nodes: glTF nodes.
        frames: frames of one clip (2 hours at 30 fps).
        clip_values: frames x joints of one clip (56 bytes each as rotations + translations).
        nonuniform_clip_values: frames x joints of a clip with non-uniform scale, whose every
            joint-frame needs a polar decomposition (an SVD, about 2 us each).
        keys: keyframes of one glTF animation sampler.
        vertices: mesh vertices, all primitives together.
        morph_values: morph target vertex offsets, all targets of all primitives together.
        decoded_bytes: float64 bytes decoded from glTF accessors, all together.
        json_depth: nesting depth of the glTF JSON (arrays and objects).
    """

    file_bytes: int = 512 << 20
    joints: int = 10_000
    nodes: int = 100_000
    frames: int = 216_000
    clip_values: int = 2_000_000  # 112 MB of output; e.g. 100 joints x 11 minutes at 30 fps
    nonuniform_clip_values: int = 500_000  # about 1 s of SVDs; e.g. 50 joints x 5.5 minutes at 30 fps
    keys: int = 4_000_000
    vertices: int = 2_000_000
    morph_values: int = 50_000_000  # e.g. 100 targets on a 500k-vertex avatar; 600 MB as float32 offsets
    decoded_bytes: int = 768 << 20
    json_depth: int = 64  # glTF itself nests about 6 deep; extras rarely more than a few levels


DEFAULT_LIMITS = ReadLimits()


def check_limit(path: str | Path, what: str, value: int, limit_name: str, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    """Raise :class:`RigLimitError` when ``value`` exceeds the limit ``limit_name`` of ``limits``.

    Args:
        path: the file, for the message.
        what: what was counted, e.g. ``"joints"`` or ``"animation 'walk' frames"``.
        value: the count.
        limit_name: a field of :class:`ReadLimits`.
        limits: the limits in force.
    """
    limit = getattr(limits, limit_name)
    if value > limit:
        raise RigLimitError(path, f"{what}: {value:,} is over the {limit_name} limit of {limit:,}", limit=limit_name)


def json_depth(value: Any) -> int:
    """Nesting depth of a parsed JSON value (a scalar is 0), level by level, without recursion."""
    depth = 0
    level = [value] if isinstance(value, (dict, list)) else []
    while level:
        depth += 1
        level = [c for item in level for c in (item.values() if isinstance(item, dict) else item) if isinstance(c, (dict, list))]
    return depth
