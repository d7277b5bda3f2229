"""Face blendshapes -> a rig's own morph targets (glTF blendshapes), matched by name.

A rig made for face tracking names its morph targets after ARKit's 52 shapes (Perfect Sync
avatars: ``jawOpen``, ``eyeBlinkLeft`` ...), after the VRM 0 presets (``A``, ``Blink_L``, ``Joy``
...) or, exported from VRoid, ``Fcl_MTH_A``, ``Fcl_EYE_Close_L``, ``Fcl_ALL_Joy`` .... A target
takes the matching weight: names compare without case or separators, after any exporter prefix
(``blendShape1.jawOpen``, ``Face|jawOpen``); ARKit names get the face landmarker's score, VRM and
VRoid names the VRM 0 expression (:func:`engine.face_hands.expressions.vrm0_expressions`).
Unmatched targets stay at 0. A VRM file's own expressions (:func:`engine.formats.vrm.expressions`:
each preset binds one or more targets with weights) drive the targets they bind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import numpy as np

from engine.face_hands.expressions import VRM0_NAMES, vrm0_expressions
from engine.perception.face_landmarker import BLENDSHAPE_NAMES

__all__ = ["drives_morph_targets", "match_morph_targets", "morph_target_weights"]

# VRoid Studio's target names for the VRM 0 presets.
_VROID = {"fclmtha": "A", "fclmthi": "I", "fclmthu": "U", "fclmthe": "E", "fclmtho": "O", "fcleyeclosel": "Blink_L",
          "fcleyecloser": "Blink_R", "fclalljoy": "Joy", "fclallangry": "Angry", "fclallsorrow": "Sorrow", "fclallfun": "Fun"}


def _key(name: str) -> str:
    """Lower-case letters and digits of the name after its last ``.``, ``:`` or ``|``."""
    return re.sub(r"[^a-z0-9]", "", re.split(r"[.:|]", name)[-1].lower())


_ARKIT = {_key(n): i for i, n in enumerate(BLENDSHAPE_NAMES) if n != "_neutral"}
_VRM0 = {_key(n): n for n in VRM0_NAMES} | _VROID


def match_morph_targets(names: Sequence[str]) -> list[tuple[str, int | str] | None]:
    """Per target: ``("arkit", blendshape index)``, ``("vrm0", preset name)`` or ``None`` (no match)."""
    out: list[tuple[str, int | str] | None] = []
    for name in names:
        k = _key(name)
        out.append(("arkit", _ARKIT[k]) if k in _ARKIT else ("vrm0", _VRM0[k]) if k in _VRM0 else None)
    return out


def drives_morph_targets(names: Sequence[str], expressions: Mapping[str, Sequence[tuple[str, float]]] | None = None) -> bool:
    """Whether the face moves any of these targets (by name, or through a VRM expression)."""
    bound = {t for binds in (expressions or {}).values() for t, _ in binds}
    return any(match_morph_targets(names)) or bool(bound & set(names))


def morph_target_weights(blendshapes: np.ndarray, names: Sequence[str],
                         expressions: Mapping[str, Sequence[tuple[str, float]]] | None = None) -> np.ndarray:
    """``(F, M)`` weights in ``[0, 1]`` of targets ``names`` from ``(F, 52)`` blendshape scores.

    ``expressions`` (a VRM file's, :attr:`engine.rig.Mesh.expressions`): each VRM 0 preset's weight
    times the bind's weight is added to the targets it binds (``Blink``: the lesser of the two
    blinks); a target bound there is not also matched to a VRM preset by its name.
    """
    b = np.asarray(blendshapes, dtype=np.float64)
    if b.ndim != 2 or b.shape[1] != len(BLENDSHAPE_NAMES):
        raise ValueError(f"blendshapes must be (F, {len(BLENDSHAPE_NAMES)}), got {b.shape}")
    expressions = expressions or {}
    index = {n: k for k, n in enumerate(names)}
    bound = {t for binds in expressions.values() for t, _ in binds}
    matches = [None if (m is not None and m[0] == "vrm0" and n in bound) else m for n, m in zip(names, match_morph_targets(names))]
    out = np.zeros((len(b), len(names)))
    vrm = [vrm0_expressions(row) for row in b] if expressions or any(m and m[0] == "vrm0" for m in matches) else []
    for v in vrm:
        v["Blink"] = min(v["Blink_L"], v["Blink_R"])
    for k, m in enumerate(matches):
        if m is None:
            continue
        kind, source = m
        out[:, k] = b[:, source] if kind == "arkit" else [v[source] for v in vrm]
    for preset, binds in expressions.items():
        if preset not in (vrm[0] if vrm else {}):
            continue
        value = np.array([v[preset] for v in vrm])
        for target, weight in binds:
            if target in index:
                out[:, index[target]] += value * float(weight)
    return np.clip(out, 0.0, 1.0)
