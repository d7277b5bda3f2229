"""The BVH writer behind :func:`engine.formats.bvh.write_bvh` (re-exported there): any rig, re-based to
identity rest rotations so that BVH forward kinematics reproduces every joint's world position."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.formats.clip_resample import resample_clip
from engine.rig import Clip, Rig

__all__ = ["write_bvh", "bvh_file_units"]


def bvh_file_units(height_m: float) -> float:
    """File units per metre for every BVH the project writes (takes, ``convert``): the one rule.

    Centimetres (100) for skeletons over 0.5 m tall, metres (1) below: both read back at the same
    size by :func:`engine.formats.bvh.read_bvh`'s unit guess (over 50 file units: cm; up to 10: m),
    whatever the height (a 23.5 m T-rex is 2,350 cm; a 0.3 m critter 0.3 m, not 30 cm, which would
    read as CMU units).
    """
    return 100.0 if height_m > 0.5 else 1.0


def _bvh_names(names: tuple[str, ...]) -> list[str]:
    """Names safe for BVH readers: whitespace and braces become ``_``, clashes get a suffix."""
    out: list[str] = []
    seen: set[str] = set()
    for n in names:
        s = re.sub(r"[\s{}]+", "_", n) or "joint"
        base, k = s, 1
        while s in seen:
            s, k = f"{base}_{k}", k + 1
        seen.add(s)
        out.append(s)
    return out


def _decimals(size: float) -> int:
    """Fixed decimals that resolve ``1e-7 * size`` (at least 6)."""
    return max(6, int(math.ceil(-math.log10(max(size, 1e-300) * 1e-7))))


def write_bvh(
    rig: Rig,
    path: str | Path,
    *,
    clip: Clip | str | None = None,
    scale: float | None = None,
    euler_order: str = "ZXY",
    fps: float | None = None,
) -> None:
    """Write a rig and one of its clips as BVH, keeping every joint's world position at every frame.

    BVH needs identity rest rotations, so any rig (e.g. glTF, rest rotations not identity) is
    re-based. The written rest pose is the rig's rest pose with every rotation zeroed: ``OFFSET[j] =
    p_rest[j] - p_rest[parent]`` in world axes (root: ``p_rest[root]``). Per frame, with ``W`` the
    clip's world rotations and ``W0`` the rest world rotations, ``W' = W @ W0^T`` and the written local
    rotation is ``W'[parent]^T @ W'[j]`` (root: ``W'[root]``), as Euler angles in ``euler_order``.
    Roots always get 6 channels; other joints get 6 when their local translation moves away from
    rest by more than ``1e-6`` of the skeleton height. End sites become ``End Site`` blocks.
    Joint names have whitespace and braces replaced by ``_``.

    Args:
        rig: the rig.
        path: destination file.
        clip: a clip or clip name; ``None`` takes the rig's first clip, or one rest-pose frame.
        scale: file units per metre (100 writes centimetres); ``None``: :func:`bvh_file_units`.
        euler_order: rotation channel order, one of :data:`engine.rotations.EULER_ORDERS`.
        fps: resample the clip to this rate first (``None`` keeps the clip's rate).

    Raises:
        KeyError: ``clip`` names no clip of the rig.
        ValueError: bad ``scale``, ``euler_order`` or ``fps``.
        OSError: the file cannot be written.
    """
    order = euler_order.upper()
    if order not in rot.EULER_ORDERS:
        raise ValueError(f"euler_order must be one of {rot.EULER_ORDERS}, got {euler_order!r}")
    if scale is None:
        scale = bvh_file_units(rig.skeleton.height)
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be positive, got {scale!r}")
    sk = rig.skeleton
    if isinstance(clip, str):
        clip = rig.clip(clip)
    elif clip is None:
        clip = rig.clips[0] if rig.clips else Clip.rest(sk, 1, fps or 30.0)
    if fps is not None and fps != clip.fps:
        clip = resample_clip(clip, fps)
    parents = sk.parents
    W0, P0 = sk.rest_world()  # (J, 3, 3), (J, 3)
    W, P = clip.world(sk)  # (T, J, 3, 3), (T, J, 3)
    Wp = W @ np.swapaxes(W0, -1, -2)  # (T, J, 3, 3) re-based world rotations
    local = Wp.copy()
    has_parent = parents >= 0
    local[:, has_parent] = np.swapaxes(Wp[:, parents[has_parent]], -1, -2) @ Wp[:, has_parent]
    angles = rot.matrix_to_euler(local, order, degrees=True)  # (T, J, 3)
    offsets = np.where(has_parent[:, None], P0 - P0[np.maximum(parents, 0)], P0)  # (J, 3) world axes
    # Animated translation in the re-based parent frame: W0[p] @ t (root: its world position).
    pos = np.where(has_parent[None, :, None], np.einsum("jab,tjb->tja", W0[np.maximum(parents, 0)], clip.translations), P)
    moving = np.abs(clip.translations - sk.rest_translations).max(axis=0).max(axis=-1) > 1e-6 * sk.height
    six = ~has_parent | moving  # (J,)
    end_offsets = np.einsum("eab,eb->ea", W0[sk.end_site_joints], sk.end_site_offsets)  # world axes

    names = _bvh_names(sk.names)
    ends: dict[int, list[np.ndarray]] = {}
    for j, off in zip(sk.end_site_joints, end_offsets):
        ends.setdefault(int(j), []).append(off)
    children: list[list[int]] = [[] for _ in names]
    for j, p in enumerate(parents):
        if p >= 0:
            children[p].append(j)
    dec = _decimals(sk.height * scale)
    rot_ch = " ".join(f"{a}rotation" for a in order)
    out = ["HIERARCHY"]
    columns: list[np.ndarray] = []  # (T, c) per joint in file order
    stack: list[tuple[int, int] | tuple[str, int]] = [(r, 0) for r in reversed(sk.roots)]
    while stack:  # iterative DFS; ("close", depth) entries emit closing braces
        item, depth = stack.pop()
        ind = "\t" * depth
        if item == "close":
            out.append(f"{ind}}}")
            continue
        j = int(item)
        out.append(f"{ind}{'ROOT' if parents[j] < 0 else 'JOINT'} {names[j]}")
        out.append(f"{ind}{{")
        out.append(f"{ind}\tOFFSET " + " ".join(f"{v * scale:.{dec}f}" for v in offsets[j]))
        if six[j]:
            out.append(f"{ind}\tCHANNELS 6 Xposition Yposition Zposition {rot_ch}")
            columns.append(pos[:, j] * scale)
        else:
            out.append(f"{ind}\tCHANNELS 3 {rot_ch}")
        columns.append(angles[:, j])
        for off in ends.get(j, []):
            out += [f"{ind}\tEnd Site", f"{ind}\t{{", f"{ind}\t\tOFFSET " + " ".join(f"{v * scale:.{dec}f}" for v in off), f"{ind}\t}}"]
        stack.append(("close", depth))
        stack.extend((c, depth + 1) for c in reversed(children[j]))
    # The frame time to full double precision (0.03333333333333333): importers that take the rate as
    # 1 / Frame Time (Blender) get exactly the clip's, not 30.0000003 from "0.03333333".
    out += ["MOTION", f"Frames: {clip.num_frames}", f"Frame Time: {1.0 / clip.fps!r}"]
    motion = np.concatenate(columns, axis=1) if columns else np.zeros((clip.num_frames, 0))
    motion = np.where(np.abs(motion) < 0.5 * 10.0**-dec, 0.0, motion)  # no "-0.000000"
    fmt = f"%.{dec}f"
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")
        for row in motion:
            f.write(" ".join(fmt % v for v in row) + "\n")
