"""BVH (Biovision Hierarchy) motion files: a strict, iterative reader and a writer for any rig.

Reading (:func:`read_bvh`):
- every joint honours its own ``CHANNELS`` line: any order of ``X/Y/Zrotation`` (intrinsic Euler
  angles in degrees, applied in the listed order, ``R = R_c0 @ R_c1 @ R_c2``), with or without
  ``X/Y/Zposition`` channels, on roots and non-roots alike, position-only joints, ``CHANNELS 0``;
- position channels replace the matching ``OFFSET`` component (BVH root positions are absolute);
- ``End Site`` blocks become :attr:`Skeleton.end_site_offsets`; several ``ROOT`` blocks are allowed;
- CRLF, tabs, blank lines and trailing whitespace are accepted.
The rig has identity rest rotations and ``rest_translations = OFFSET`` (scaled to metres).

Every fault raises :class:`RigFormatError` with the 1-based line; nothing else escapes. The hierarchy
is parsed with an explicit stack (no recursion, so 5,000 nested joints are fine) and motion rows are
read as they come: a ``Frames:`` count is never used to allocate memory.

Writing (:func:`write_bvh`, implemented in ``engine/formats/_bvh_write.py``) re-bases any rig to identity
rest rotations; see its docstring.

Units: ``scale`` is metres per file unit. When it is ``None`` it is guessed from the rest height
``h`` (largest extent of the rest pose, in file units), see :func:`guess_unit_scale`.
"""

from __future__ import annotations

import logging
import math
import re
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.formats._bvh_write import bvh_file_units, write_bvh  # re-exported: reader and writer share one public module
from engine.errors import RigFormatError
from engine.formats.read_limits import DEFAULT_LIMITS, ReadLimits, check_limit
from engine.rig import Clip, Rig, SourceInfo
from engine.skeleton import Skeleton

__all__ = ["read_bvh", "write_bvh", "bvh_file_units", "guess_unit_scale", "CMU_UNIT_M"]

logger = logging.getLogger(__name__)

CMU_UNIT_M = 0.0254 / 0.45  # CMU ASF length unit: 1/0.45 inch (ASF ":units length 0.45"), in metres
_MAX_ABS = 1e9  # larger OFFSET / channel values are treated as corrupt (1e9 cm = 10,000 km)
_ROWS_PER_BLOCK = 4096
_TOKEN = re.compile(r"[{}]|[^\s{}]+")
_FRAMES = re.compile(r"^\s*frames\s*:\s*(\S+)\s*$", re.IGNORECASE)
_FRAME_TIME = re.compile(r"^\s*frame\s+time\s*:\s*(\S+)\s*$", re.IGNORECASE)
_CHANNELS = {f"{a}{k}": (k, "XYZ".index(a)) for a in "XYZ" for k in ("rotation", "position")}
_Z_UP_TO_Y_UP = rot.euler_to_matrix(np.array([-90.0, 0.0, 0.0]), "XYZ", degrees=True)  # maps +Z to +Y


def guess_unit_scale(height: float) -> tuple[float, str]:
    """Metres per file unit guessed from a rest height in file units.

    Rule (documented heuristic, checked on the shared data): ``h > 50`` -> centimetres (0.01;
    Mixamo, LAFAN1, MANN dog, Rokoko, iClone, CMU Daz-friendly); ``10 < h <= 50`` -> CMU ASF units
    (``0.0254 / 0.45`` m, Xia and AnimatedDrawings cmu1 figures are ~25 units tall, ~1.5 m);
    ``h <= 10`` -> metres. A 60-80 unit human in inches reads as ~0.7 m; pass ``scale`` then.

    Returns:
        ``(metres per unit, unit name)`` with the name one of ``"cm"``, ``"cmu"``, ``"m"``.
    """
    if height > 50.0:
        return 0.01, "cm"
    if height > 10.0:
        return CMU_UNIT_M, "cmu"
    return 1.0, "m"


# ---------------------------------------------------------------------------------------- reading
class _Joint:
    __slots__ = ("name", "parent", "line", "offset", "channels")

    def __init__(self, name: str, parent: int, line: int) -> None:
        self.name, self.parent, self.line = name, parent, line
        self.offset: np.ndarray | None = None
        self.channels: list[tuple[str, int]] | None = None  # (kind, axis) per channel


def _decode(path: str | Path, data: str | bytes | None, limits: ReadLimits) -> str:
    """The file's text (UTF-8, else Latin-1), without a byte-order mark."""
    if data is None:
        try:
            if not Path(path).is_file():  # a FIFO or device would block or never end
                raise RigFormatError(path, "not a regular file")
            check_limit(path, "file size in bytes", Path(path).stat().st_size, "file_bytes", limits)
            data = Path(path).read_bytes()
        except OSError as e:
            raise RigFormatError(path, f"cannot read file: {e.strerror or e}") from None
    check_limit(path, "file size in bytes", len(data), "file_bytes", limits)
    if isinstance(data, str):
        return data.lstrip("\ufeff")
    try:
        return bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        return bytes(data).decode("latin-1")  # old exporters write Latin-1 joint names


def _number(path: str | Path, tok: str, what: str, line: int) -> float:
    try:
        v = float(tok)
    except ValueError:
        raise RigFormatError(path, f"{what}: {tok!r} is not a number", line) from None
    if not math.isfinite(v) or abs(v) > _MAX_ABS:
        raise RigFormatError(path, f"{what}: value {tok!r} is not finite or out of range", line)
    return v


def _parse_hierarchy(path: str | Path, lines: list[str], limits: ReadLimits) -> tuple[list[_Joint], list[tuple[int, np.ndarray]], int]:
    """Joints, end sites ``(joint, offset)`` and the index of the ``MOTION`` line."""
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        raise RigFormatError(path, "file is empty", 1)
    if [t.upper() for t in _TOKEN.findall(lines[i])] != ["HIERARCHY"]:
        raise RigFormatError(path, f"expected 'HIERARCHY', found {lines[i].strip()[:40]!r}", i + 1)
    joints: list[_Joint] = []
    ends: list[tuple[int, np.ndarray]] = []
    names: set[str] = set()
    stack: list[tuple[int, bool]] = []  # (joint index, is End Site block) per open brace
    pending: tuple[int, bool] | None = None  # header seen, "{" expected
    end_offset: np.ndarray | None = None
    for i in range(i + 1, len(lines)):
        ln = i + 1
        toks = _TOKEN.findall(lines[i])
        k = 0
        while k < len(toks):
            t = toks[k]
            u = t.upper()
            if pending is not None and t != "{":
                raise RigFormatError(path, f"expected '{{' after the joint header, found {t!r}", ln)
            if t == "{":
                if pending is None:
                    raise RigFormatError(path, "unexpected '{'", ln)
                stack.append(pending)
                pending, end_offset = None, None
                k += 1
            elif t == "}":
                if not stack:
                    raise RigFormatError(path, "unbalanced '}'", ln)
                j, is_end = stack.pop()
                if is_end:
                    if end_offset is None:
                        raise RigFormatError(path, f"End Site of joint {joints[j].name!r} has no OFFSET", ln)
                    ends.append((j, end_offset))
                    end_offset = None
                elif joints[j].offset is None or joints[j].channels is None:
                    missing = "OFFSET" if joints[j].offset is None else "CHANNELS"
                    raise RigFormatError(path, f"joint {joints[j].name!r} has no {missing} line", ln)
                k += 1
            elif u in ("ROOT", "JOINT"):
                if u == "ROOT" and stack:
                    raise RigFormatError(path, "ROOT inside another joint", ln)
                if u == "JOINT" and (not stack or stack[-1][1]):
                    raise RigFormatError(path, "JOINT outside a ROOT or inside an End Site", ln)
                stop = toks.index("{", k + 1) if "{" in toks[k + 1 :] else len(toks)
                name = " ".join(toks[k + 1 : stop])
                if not name:
                    raise RigFormatError(path, f"{t} without a joint name", ln)
                if name in names:
                    raise RigFormatError(path, f"duplicate joint name {name!r}", ln)
                names.add(name)
                check_limit(path, f"joints (line {ln})", len(joints) + 1, "joints", limits)
                joints.append(_Joint(name, stack[-1][0] if stack else -1, ln))
                pending = (len(joints) - 1, False)
                k = stop
            elif u == "END":
                if k + 1 >= len(toks) or toks[k + 1].upper() != "SITE":
                    raise RigFormatError(path, "expected 'End Site'", ln)
                if not stack or stack[-1][1]:
                    raise RigFormatError(path, "End Site outside a joint", ln)
                pending = (stack[-1][0], True)
                k += 2
            elif u == "OFFSET":
                if not stack:
                    raise RigFormatError(path, "OFFSET outside a joint", ln)
                if len(toks) < k + 4:
                    raise RigFormatError(path, "OFFSET needs 3 numbers", ln)
                off = np.array([_number(path, x, "OFFSET", ln) for x in toks[k + 1 : k + 4]])
                j, is_end = stack[-1]
                if (end_offset if is_end else joints[j].offset) is not None:
                    raise RigFormatError(path, "second OFFSET in one block", ln)
                if is_end:
                    end_offset = off
                else:
                    joints[j].offset = off
                k += 4
            elif u == "CHANNELS":
                if not stack or stack[-1][1]:
                    raise RigFormatError(path, "CHANNELS outside a joint", ln)
                j = stack[-1][0]
                if joints[j].channels is not None:
                    raise RigFormatError(path, f"second CHANNELS line for joint {joints[j].name!r}", ln)
                count_tok = toks[k + 1] if k + 1 < len(toks) else ""
                if count_tok not in ("0", "1", "2", "3", "4", "5", "6"):
                    raise RigFormatError(path, f"CHANNELS count must be 0..6, found {count_tok!r}", ln)
                count = int(count_tok)
                listed = toks[k + 2 : k + 2 + count]
                if len(listed) < count:
                    raise RigFormatError(path, f"CHANNELS declares {count} channels but lists {len(listed)}", ln)
                chans = []
                for c in listed:
                    key = c[0].upper() + c[1:].lower() if c else c
                    if key not in _CHANNELS:
                        raise RigFormatError(path, f"unknown channel {c!r}", ln)
                    chans.append(_CHANNELS[key])
                if len(set(chans)) != len(chans):
                    raise RigFormatError(path, f"repeated channel in {' '.join(listed)!r}", ln)
                joints[j].channels = chans
                k += 2 + count
            elif u == "MOTION":
                if k != 0 or len(toks) != 1:
                    raise RigFormatError(path, "MOTION must stand alone on its line", ln)
                if stack or pending is not None:
                    raise RigFormatError(path, "MOTION before every '{' of the hierarchy is closed", ln)
                if not joints:
                    raise RigFormatError(path, "the hierarchy has no joints", ln)
                return joints, ends, i
            else:
                raise RigFormatError(path, f"unknown keyword {t[:40]!r}", ln)
    if not joints:
        raise RigFormatError(path, "the hierarchy has no joints", len(lines))
    raise RigFormatError(path, "no MOTION section (unclosed braces or truncated file)", len(lines))


def _header_value(path: str | Path, lines: list[str], i: int, pattern: re.Pattern, what: str) -> tuple[str, int]:
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        raise RigFormatError(path, f"missing '{what}' line", len(lines))
    m = pattern.match(lines[i])
    if m is None:
        raise RigFormatError(path, f"expected '{what} <value>', found {lines[i].strip()[:40]!r}", i + 1)
    return m.group(1), i


def _parse_motion(path: str | Path, lines: list[str], i: int, width: int, n_joints: int, limits: ReadLimits) -> tuple[np.ndarray, float]:
    """Rows ``(T, width)`` float64 in file units / degrees, and the frame time in seconds."""
    tok, i = _header_value(path, lines, i + 1, _FRAMES, "Frames:")
    if not (tok.isascii() and tok.isdigit()):
        raise RigFormatError(path, f"Frames: must be a non-negative integer, found {tok[:40]!r}", i + 1)
    declared = int(tok) if len(tok) < 19 else 10**19
    tok, i = _header_value(path, lines, i + 1, _FRAME_TIME, "Frame Time:")
    frame_time = _number(path, tok, "Frame Time", i + 1)
    if not 1e-6 <= frame_time:
        raise RigFormatError(path, f"Frame Time must be at least 1e-6 s (positive), found {tok}", i + 1)
    rows: list[int] = []
    tokens: list[str] = []
    blocks: list[np.ndarray] = []  # rows converted 4,096 at a time: no list of every token of the file
    for r in range(i + 1, len(lines)):
        parts = lines[r].split()
        if not parts:
            continue
        if len(rows) == declared:
            raise RigFormatError(path, f"more motion rows than the {declared} declared by Frames:", r + 1)
        if len(parts) != width:
            raise RigFormatError(path, f"motion row has {len(parts)} values, expected {width} (sum of CHANNELS)", r + 1)
        rows.append(r)
        tokens.extend(parts)
        if len(rows) % _ROWS_PER_BLOCK == 0:
            check_limit(path, "motion frames", len(rows), "frames", limits)
            check_limit(path, "motion frames x joints", len(rows) * n_joints, "clip_values", limits)
            blocks.append(_motion_block(path, lines, rows[-_ROWS_PER_BLOCK:], tokens, width))
            tokens = []
    check_limit(path, "motion frames", len(rows), "frames", limits)
    check_limit(path, "motion frames x joints", len(rows) * n_joints, "clip_values", limits)
    if len(rows) < declared:
        if width == 0:
            raise RigFormatError(path, f"Frames: declares {declared} frames but no joint has channels", i + 1)
        raise RigFormatError(path, f"Frames: declares {declared} frames but the file has only {len(rows)} rows (truncated?)", len(lines))
    blocks.append(_motion_block(path, lines, rows[len(rows) - len(rows) % _ROWS_PER_BLOCK :], tokens, width))
    values = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
    return values, frame_time


def _motion_block(path: str | Path, lines: list[str], rows: list[int], tokens: list[str], width: int) -> np.ndarray:
    """``(len(rows), width)`` float64 values of some motion rows; names the first bad value's line."""
    try:
        values = np.array(tokens, dtype=np.float64).reshape(len(rows), width)
        bad = ~(np.isfinite(values) & (np.abs(values) <= _MAX_ABS))
    except ValueError:
        values, bad = None, None
    if bad is None or bad.any():
        for r in rows:  # slow path: name the first offending row
            for x in lines[r].split():
                _number(path, x, "motion value", r + 1)
    return values


def read_bvh(
    path: str | Path,
    *,
    data: str | bytes | None = None,
    scale: float | None = None,
    up_axis: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Rig:
    """Read a BVH file into a :class:`Rig` (metres, Y up) with one clip named after the file stem.

    Args:
        path: the file; with ``data`` only used for messages and the clip name.
        data: the file's content, if already in memory.
        scale: metres per file unit; ``None`` guesses it (:func:`guess_unit_scale`).
        up_axis: ``"Y"`` (default) or ``"Z"``. Z-up files are turned Y-up by a -90 degree rotation
            ``C`` about X applied as a change of frame: offsets become ``C @ offset`` and local
            rotations ``C @ R @ C^T``, so world positions rotate by ``C`` and rest rotations stay
            identity (the BVH convention).
        limits: resource limits (:mod:`engine.formats.read_limits`): file size, joints, frames.

    Returns:
        The rig. Its clip has ``T`` = ``Frames:`` frames at ``fps = 1 / Frame Time``; a file with
        ``Frames: 0`` gives a rig with no clip. ``rig.source`` records units and scale.

    Raises:
        RigFormatError: for any malformed content, with the 1-based line number.
        ValueError: for a bad ``scale`` or ``up_axis`` argument.
    """
    up = (up_axis or "Y").upper()
    if up not in ("Y", "Z"):
        raise ValueError(f"up_axis must be 'Y' or 'Z', got {up_axis!r}")
    if scale is not None and not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number of metres per unit, got {scale!r}")
    lines = _decode(path, data, limits).splitlines()
    joints, ends, motion_line = _parse_hierarchy(path, lines, limits)
    width = sum(len(jt.channels) for jt in joints)
    values, frame_time = _parse_motion(path, lines, motion_line, width, len(joints), limits)
    try:
        return _build_rig(path, joints, ends, values, frame_time, scale, up)
    except (ValueError, FloatingPointError) as e:  # containers reject what slipped through
        raise RigFormatError(path, f"inconsistent content: {e}") from None


def _euler_quats(angles: np.ndarray, order: str) -> np.ndarray:
    """Quaternions ``(..., 4)`` of intrinsic Euler angles ``(..., 3)`` in radians.

    Same rotation as :func:`engine.rotations.euler_to_quat` (``q = q_a0 q_a1 q_a2``) but built from
    axis quaternions directly, which is exact and skips the matrix orthonormalisation (10x faster).
    """
    q = None
    for k, axis in enumerate(order):
        half = 0.5 * angles[..., k]
        qk = np.zeros(angles.shape[:-1] + (4,))
        qk[..., "XYZ".index(axis)] = np.sin(half)
        qk[..., 3] = np.cos(half)
        q = qk if q is None else rot.quat_multiply(q, qk)
    return q


def _build_rig(path, joints, ends, values, frame_time, scale, up) -> Rig:
    J, T = len(joints), values.shape[0]
    offsets = np.stack([jt.offset for jt in joints])  # (J, 3) file units
    end_j = np.array([e[0] for e in ends], dtype=np.int64)
    end_off = np.array([e[1] for e in ends]).reshape(-1, 3)
    rest = Skeleton(tuple(jt.name for jt in joints), np.array([jt.parent for jt in joints]), offsets, np.tile([0.0, 0, 0, 1], (J, 1)), end_j, end_off)
    height_units = rest.height
    notes = []
    if scale is None:
        scale, units = guess_unit_scale(height_units)
        notes.append(f"units guessed from the rest height ({height_units:.4g} file units): {units}")
    else:
        units = "cm" if scale == 0.01 else "m" if scale == 1.0 else f"{scale:g} m"
    # Local transforms per frame: rotation (T, J, 4) x y z w, translation (T, J, 3) file units.
    quats = np.broadcast_to(np.array([0.0, 0.0, 0.0, 1.0]), (T, J, 4)).copy()
    trans = np.broadcast_to(offsets, (T, J, 3)).copy()
    by_order: dict[str, tuple[list[int], list[list[int]]]] = {}
    col = 0
    for j, jt in enumerate(joints):
        axes = [a for kind, a in jt.channels if kind == "rotation"]
        cols = [col + c for c, (kind, _) in enumerate(jt.channels) if kind == "rotation"]
        for c, (kind, a) in enumerate(jt.channels):
            if kind == "position":
                trans[:, j, a] = values[:, col + c]
        col += len(jt.channels)
        if axes:
            # Missing rotation axes are appended with a zero angle (identity), so 1 or 2 channels work.
            order = "".join("XYZ"[a] for a in axes + [a for a in range(3) if a not in axes])
            js, cl = by_order.setdefault(order, ([], []))
            js.append(j)
            cl.append(cols + [-1] * (3 - len(cols)))
    offsets, end_off = offsets * scale, end_off * scale
    trans *= scale
    C = _Z_UP_TO_Y_UP
    qc = rot.matrix_to_quat(C)
    # A block of frames at a time: the Euler temporaries stay small whatever the clip length.
    step = max(1, _ROWS_PER_BLOCK * 64 // max(J, 1))
    for f0 in range(0, T, step):
        f1 = min(T, f0 + step)
        padded = np.concatenate([values[f0:f1], np.zeros((f1 - f0, 1))], axis=1)  # column -1 is the zero angle
        for order, (js, cl) in by_order.items():
            quats[f0:f1, js] = _euler_quats(np.deg2rad(padded[:, np.array(cl)]), order)  # (F, Jg, 4)
        if up == "Z":
            trans[f0:f1] = trans[f0:f1] @ C.T
            quats[f0:f1] = rot.quat_multiply(rot.quat_multiply(qc, quats[f0:f1]), rot.quat_conjugate(qc))
    if up == "Z":
        offsets, end_off = offsets @ C.T, end_off @ C.T
    skeleton = Skeleton(rest.names, rest.parents, offsets, rest.rest_rotations, end_j, end_off)
    clips = [Clip(Path(str(path)).stem, 1.0 / frame_time, quats, trans)] if T else []
    source = SourceInfo(path=str(path), format="bvh", units=units, unit_scale=float(scale), up_axis=up, notes=notes)
    logger.debug("read %s: %d joints, %d frames, height %.3f m", path, J, T, skeleton.height)
    return Rig(name=Path(str(path)).stem, skeleton=skeleton, clips=clips, source=source)
