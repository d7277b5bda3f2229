"""Joint-name features that need no downloaded model (DESIGN §4, "Joint names").

A name is cleaned (namespace and rig-tool prefixes dropped: ``mixamorig:``, ``DEF-``, ``ORG_``,
``CC_Base_``, ``Bip01``), split into word pieces (separators, CamelCase, letter/digit boundaries,
known words inside compounds such as ``upperarm``), and mapped to a fixed-size vector:

- a multi-hot over canonical body words (synonyms folded: thigh = upleg, clavicle = shoulder...);
- hashed buckets (CRC32, stable across runs) for the words the table does not know;
- side flags: left / right / neither (``Left``, ``L_``, ``.L``, ``_l``, ``Hand.R``, ``r_leg``...);
- the first number in the name (``Spine2`` -> 2), which orders chains (a flag plus ``min(n, 20) / 10``).

The paper path uses T5 embeddings instead (REFERENCE.md §1); this encoder keeps the live path
offline and is cheap enough to run for every rig.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

__all__ = ["NAME_FEATURES", "name_tokens", "name_features", "encode_names"]

# Canonical words, one feature slot each. The synonym table folds common spellings onto them.
_CANONICAL = (
    "root", "hips", "spine", "chest", "neck", "head", "jaw", "eye", "ear", "mouth",
    "tongue", "shoulder", "arm", "forearm", "hand", "finger", "thumb", "index", "middle", "ring",
    "pinky", "leg", "thigh", "knee", "foot", "toe", "tail", "wing", "tip", "upper",
    "lower", "front", "back", "body", "twist", "hair", "horn", "fin", "claw", "tentacle",
    "elbow", "wrist", "ankle", "heel",
)
_SYNONYMS = {
    "pelvis": "hips", "hip": "hips", "cog": "root", "center": "root", "centre": "root", "master": "root",
    "torso": "body", "abdomen": "spine", "belly": "spine", "stomach": "spine", "waist": "spine",
    "ribcage": "chest", "breast": "chest", "thorax": "chest", "clavicle": "shoulder", "collar": "shoulder",
    "scapula": "shoulder", "collarbone": "shoulder", "upperarm": "arm", "humerus": "arm",
    "lowerarm": "forearm", "radius": "forearm", "ulna": "forearm", "palm": "hand", "metacarpal": "hand",
    "carpal": "wrist", "phalanx": "finger", "digit": "finger", "fingers": "finger", "little": "pinky",
    "pinkie": "pinky", "upleg": "thigh", "femur": "thigh", "upperleg": "thigh", "lowerleg": "knee",
    "shin": "knee", "calf": "knee", "tibia": "knee", "crus": "knee", "feet": "foot", "paw": "foot",
    "hoof": "foot", "toes": "toe", "toebase": "toe", "ball": "toe", "end": "tip", "nub": "tip",
    "top": "tip", "fore": "front", "hind": "back", "rear": "back", "skull": "head", "cranium": "head",
    "beak": "mouth", "nose": "mouth", "snout": "mouth", "lip": "mouth", "lips": "mouth", "teeth": "mouth",
    "eyes": "eye", "eyelid": "eye", "brow": "eye", "ears": "ear", "antenna": "horn", "antler": "horn",
    "feather": "wing", "wings": "wing", "flipper": "fin", "talon": "claw", "nail": "claw",
    "tentacles": "tentacle", "roll": "twist", "up": "upper", "low": "lower", "lo": "lower",
    "mandible": "jaw", "chin": "jaw", "tail_": "tail", "cervical": "neck", "lumbar": "spine",
}
_WORDS = dict({w: w for w in _CANONICAL}, **_SYNONYMS)
_SLOT = {w: i for i, w in enumerate(_CANONICAL)}
_HASH_BUCKETS = 12
_SIDE_OFFSET = len(_CANONICAL) + _HASH_BUCKETS  # left, right, neither
_NUMBER_OFFSET = _SIDE_OFFSET + 3  # has-number flag, scaled value
NAME_FEATURES = 64
assert _NUMBER_OFFSET + 2 <= NAME_FEATURES

_PREFIX = re.compile(r"^(?:CC_Base_|DEF[-_.]|ORG[-_.]|MCH[-_.]|Bip0*1[ _]?|Bip0*1$)", re.IGNORECASE)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_LEFT = {"left", "l", "lf", "lft"}
_STOP = {"joint", "jnt", "bone", "bn", "ctrl", "j", "b", "jt"}  # carry no body-part meaning
_RIGHT = {"right", "r", "rt", "rgt"}
# Known words sorted longest first, for splitting lower-case compounds ("lefthand", "upperarm").
_COMPOUND_WORDS = sorted(set(_WORDS) | _LEFT - {"l", "lf"} | _RIGHT - {"r", "rt"}, key=len, reverse=True)


def name_tokens(name: str) -> list[str]:
    """Lower-case word pieces of a joint name, prefixes dropped, compounds split.

    Example: ``"mixamorig:LeftUpLeg"`` -> ``["left", "up", "leg"]``; ``"DEF-upper_arm.L"`` ->
    ``["upper", "arm", "l"]``; ``"Bip01 R Finger12"`` -> ``["r", "finger", "12"]``.
    """
    base = re.split(r"[:|/]", name)[-1]  # namespace ("mixamorig:") and node paths
    base = _PREFIX.sub("", base)
    tokens: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", base):
        for piece in _CAMEL.findall(part):
            tokens.extend(_split_compound(piece.lower()))
    return tokens


def _split_compound(word: str) -> list[str]:
    if word.isdigit() or word in _WORDS or len(word) <= 3:
        return [word]
    out: list[str] = []
    rest = word
    while rest:
        for known in _COMPOUND_WORDS:
            if len(known) >= 3 and rest.startswith(known):
                out.append(known)
                rest = rest[len(known):]
                break
        else:
            # No known word starts here: keep the remainder whole when nothing matched at all.
            out.append(rest)
            break
    return out


def name_features(name: str) -> np.ndarray:
    """``(NAME_FEATURES,)`` float32 feature vector of one joint name (see the module docstring)."""
    feats = np.zeros(NAME_FEATURES, dtype=np.float32)
    side = 2  # neither
    number: int | None = None
    for tok in name_tokens(name):
        if tok in _STOP:
            continue
        if tok.isdigit():
            number = int(tok) if number is None else number
        elif tok in _LEFT:
            side = 0
        elif tok in _RIGHT:
            side = 1
        elif tok in _WORDS:
            feats[_SLOT[_WORDS[tok]]] = 1.0
        else:
            feats[len(_CANONICAL) + zlib.crc32(tok.encode()) % _HASH_BUCKETS] = 1.0
    feats[_SIDE_OFFSET + side] = 1.0
    if number is not None:
        feats[_NUMBER_OFFSET] = 1.0
        feats[_NUMBER_OFFSET + 1] = min(number, 20) / 10.0
    return feats


def encode_names(names: tuple[str, ...] | list[str]) -> np.ndarray:
    """``(J, NAME_FEATURES)`` float32 features of every joint name."""
    return np.stack([name_features(n) for n in names]) if names else np.zeros((0, NAME_FEATURES), np.float32)
