"""Describing rigs (``main.py info``) and converting them between formats (``main.py convert``)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import AnyRigError
from engine.rig import Rig

__all__ = ["describe", "tree_text", "format_description", "cmd_info", "cmd_convert"]

logger = logging.getLogger(__name__)


def tree_text(rig: Rig, max_lines: int = 400) -> str:
    """The joint hierarchy as indented text, one joint per line (``*`` marks an end site)."""
    sk = rig.skeleton
    children: list[list[int]] = [[] for _ in sk.names]
    for j, p in enumerate(sk.parents):
        if p >= 0:
            children[p].append(j)
    has_end = set(int(j) for j in sk.end_site_joints)
    lines: list[str] = []
    stack = [(r, 0) for r in reversed(sk.roots)]
    while stack:  # iterative: hierarchies can be thousands of joints deep
        j, depth = stack.pop()
        if len(lines) == max_lines:
            lines.append(f"... ({sk.num_joints - max_lines} more joints)")
            break
        lines.append("  " * min(depth, 40) + sk.names[j] + (" *" if j in has_end else ""))
        stack.extend((c, depth + 1) for c in reversed(children[j]))
    return "\n".join(lines)


def describe(rig: Rig) -> dict[str, Any]:
    """Plain-data facts about a rig (JSON-serialisable).

    Returns:
        A dict with ``name``, ``format``, ``joints`` (count), ``names``, ``hierarchy`` (roots, max
        depth, leaves, end sites, branching joints with their child counts, tree text), ``clips``
        (name, frames, fps, duration in seconds), ``units``, ``unit_scale`` (metres per file unit),
        ``up_axis``, ``height_m`` (rest size), ``humanoid`` (Unity bone -> joint), ``humanoid_found``
        (what names and hierarchy give when the file has no map: ``bones``, ``is_humanoid``,
        ``missing``, ``issues``, ``notes``; ``None`` when it has one), ``mesh`` and ``notes``.
    """
    from engine.retarget.humanoid_names import find_humanoid_bones

    sk = rig.skeleton
    counts = np.bincount(sk.parents[sk.parents >= 0], minlength=sk.num_joints)  # (J,) children per joint
    mesh = None
    if rig.mesh is not None:
        mesh = {"vertices": int(len(rig.mesh.positions)), "triangles": int(len(rig.mesh.indices)),
                "morph_targets": list(rig.mesh.morph_names)}
    return {
        "name": rig.name,
        "path": rig.source.path,
        "format": rig.source.format,
        "joints": sk.num_joints,
        "names": list(sk.names),
        "hierarchy": {
            "roots": [sk.names[r] for r in sk.roots],
            "max_depth": int(sk.depths().max()),
            "leaves": int((counts == 0).sum()),
            "end_sites": int(len(sk.end_site_joints)),
            "branching": {sk.names[j]: int(counts[j]) for j in np.flatnonzero(counts > 1)},
            "tree": tree_text(rig),
        },
        "clips": [
            {"name": c.name, "frames": c.num_frames, "fps": round(float(c.fps), 6), "duration_s": round(c.duration, 6)}
            for c in rig.clips
        ],
        "units": rig.source.units,
        "unit_scale": rig.source.unit_scale,
        "up_axis": rig.source.up_axis,
        "height_m": round(sk.height, 6),  # the name is historic: the largest extent, as size_m
        "size_m": round(sk.height, 6),
        "extent_m": dict(zip("xyz", (round(float(v), 6) for v in _extent(sk)))),
        "humanoid": dict(rig.humanoid),
        "humanoid_found": None if rig.humanoid else _found(find_humanoid_bones(sk)),
        "reference_pose": rig.reference_pose is not None,
        "mesh": mesh,
        "notes": list(rig.source.notes),
    }


def _found(match: Any) -> dict[str, Any]:
    return {"bones": dict(match.bones), "is_humanoid": match.is_humanoid, "missing": list(match.missing),
            "issues": list(match.issues), "notes": list(match.notes)}


def format_description(d: dict[str, Any]) -> str:
    """Human-readable text of a :func:`describe` result."""
    h, e = d["hierarchy"], d["extent_m"]
    out = [
        f"{d['path'] or d['name']}  ({d['format'] or 'unknown format'})",
        f"joints: {d['joints']}  roots: {', '.join(h['roots'])}  max depth: {h['max_depth']}  "
        f"leaves: {h['leaves']}  end sites: {h['end_sites']}",
        f"size: {d['size_m']:.3f} m (largest extent; X {e['x']:.3f} x Y (up) {e['y']:.3f} x Z {e['z']:.3f} m)  "
        f"units: {d['units']} ({d['unit_scale']:g} m per unit)  up axis: {d['up_axis']}",
    ]
    if h["branching"]:
        out.append("branching: " + ", ".join(f"{n} ({k})" for n, k in h["branching"].items()))
    out.append(f"clips: {len(d['clips'])}")
    out += [f"  {c['name']}: {c['frames']} frames at {c['fps']:g} fps, {c['duration_s']:.3f} s" for c in d["clips"]]
    found = d.get("humanoid_found")
    if d["humanoid"]:
        out.append(f"humanoid map: {len(d['humanoid'])} bones")
    elif found and found["is_humanoid"]:
        out.append(f"humanoid map: none in the file; found by names and hierarchy: {len(found['bones'])} bones (a humanoid)")
    else:
        why = ", ".join(found["missing"][:4]) if found and found["missing"] else "; ".join((found or {}).get("issues", [])[:2])
        out.append(f"humanoid map: none (not a humanoid: {why or 'no human bone names'})")
    out.append(f"mesh: {d['mesh']['vertices']} vertices, {d['mesh']['triangles']} triangles" if d["mesh"] else "mesh: none")
    if d["mesh"] and d["mesh"].get("morph_targets"):
        names = d["mesh"]["morph_targets"]
        out.append(f"morph targets: {len(names)} ({', '.join(names[:8])}{', ...' if len(names) > 8 else ''})")
    out += [f"note: {n}" for n in d["notes"]]
    out += ["hierarchy:", h["tree"]]
    return "\n".join(out)


def _fail(path: str, reason: str) -> int:
    print(f"error: {path}: {reason}", file=sys.stderr)
    return 2


def _extent(sk) -> np.ndarray:
    """``(3,)`` metres, the rest pose's extent along X, Y (up) and Z, joints and end sites."""
    mats, pos = sk.rest_world()
    pts = np.concatenate([pos, sk.end_site_positions(mats, pos)], axis=0)
    return pts.max(axis=0) - pts.min(axis=0)


def _load_or_fail(path: str) -> Rig | int:
    """The rig in ``path`` (or the bundled rig of that name), or the exit code 2 after a one-line error."""
    from engine.formats.rigio import load_rig
    from engine.rigs.bundled import build_rig, bundled_rig_names, bundled_rig_path

    try:
        if not Path(path).exists() and path in bundled_rig_names():  # `info humanoid`, as `--rig humanoid`
            bundled = bundled_rig_path(path)
            return load_rig(bundled) if bundled.is_file() else build_rig(path).rig
        return load_rig(path)
    except AnyRigError as e:
        return _fail(path, getattr(e, "reason", str(e)) + (f" (line {e.line})" if getattr(e, "line", None) else ""))
    except ImportError as e:
        return _fail(path, f"reader not available: {e}")


def cmd_info(args: argparse.Namespace) -> int:
    """``main.py info PATH [--json]``: print a rig's description; exit 2 on a bad file."""
    rig = _load_or_fail(args.path)
    if isinstance(rig, int):
        return rig
    d = describe(rig)
    print(json.dumps(d, indent=2) if args.json else format_description(d))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    """``main.py convert INPUT OUTPUT [--clip NAME] [--fps F]``: BVH <-> GLB; exit 2 on bad input."""
    from engine.formats.rigio import save_rig

    ext = Path(args.output).suffix.lower()
    if ext not in (".bvh", ".glb"):
        return _fail(args.output, f"unsupported output extension {ext or '(none)'!r}; use .bvh or .glb")
    if args.fps is not None and not args.fps > 0:
        return _fail(args.output, f"--fps must be positive, got {args.fps}")
    rig = _load_or_fail(args.input)
    if isinstance(rig, int):
        return rig
    if args.clip is not None and args.clip not in [c.name for c in rig.clips]:
        return _fail(args.input, f"no clip named {args.clip!r}; clips: {[c.name for c in rig.clips]}")
    try:
        save_rig(rig, args.output, clip=args.clip, fps=args.fps)
    except ImportError as e:
        return _fail(args.output, f"writer not available: {e}")
    except (OSError, ValueError) as e:
        return _fail(args.output, str(e))
    logger.info("wrote %s (%d joints)", args.output, rig.skeleton.num_joints)
    return 0
