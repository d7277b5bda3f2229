"""Plausible joint names for procedural skeletons, in several naming styles.

A procedural joint carries a :class:`JointLabel` (body part, side, index in its chain); a naming
style turns labels into names such as ``"LeftUpperArm"``, ``"mixamorig:LeftArm"``,
``"DEF-upper_arm.L"``, ``"L_wing_01"``, ``"tail_03"`` or ``"Bone.012"``, so the model's name encoder
sees the variety of real rigs. :func:`name_joints` makes the names of one rig unique.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["JointLabel", "NAMING_STYLES", "name_joints"]


@dataclass(frozen=True)
class JointLabel:
    """What a procedural joint is.

    Attributes:
        part: body part word: ``hips, spine, chest, neck, head, jaw, ear, eye, arm, leg, wing,
            tail, finger, toe, fin, antenna, tentacle, body, claw, root, bone``.
        side: ``"L"``, ``"R"`` or ``""``.
        index: 0-based position of the joint in its chain.
        count: number of joints in that chain.
        group: which chain of the same part and side (legs 1..4 of a spider, finger 1..5), 0-based.
    """

    part: str
    side: str = ""
    index: int = 0
    count: int = 1
    group: int = 0


# Segment words of the common limbs, one list per style family (index = position in the chain).
_ARM_CAMEL = ["Shoulder", "UpperArm", "LowerArm", "Hand", "Palm"]
_ARM_MIXAMO = ["Shoulder", "Arm", "ForeArm", "Hand", "HandEnd"]
_ARM_SNAKE = ["shoulder", "upper_arm", "forearm", "hand", "palm"]
_LEG_CAMEL = ["UpperLeg", "LowerLeg", "Foot", "Toes", "ToesEnd"]
_LEG_MIXAMO = ["UpLeg", "Leg", "Foot", "ToeBase", "Toe_End"]
_LEG_SNAKE = ["thigh", "shin", "foot", "toe", "toe_end"]
_FINGERS = ["Thumb", "Index", "Middle", "Ring", "Pinky"]
_SPINE_CAMEL = ["Spine", "Chest", "UpperChest"]


def _word(table: list[str], label: JointLabel, fallback: str) -> str:
    if label.count <= len(table):
        return table[label.index]
    return f"{fallback}{label.index + 1}"


def _camel_part(label: JointLabel) -> str:
    if label.part == "finger":
        return f"{_FINGERS[label.group % 5]}{'Proximal Intermediate Distal Tip'.split()[min(label.index, 3)]}"
    return label.part.capitalize()


def _unity(label: JointLabel) -> str:
    side = {"L": "Left", "R": "Right", "": ""}[label.side]
    grp = str(label.group + 1) if label.group and label.part not in ("finger",) else ""
    if label.part == "arm":
        return side + _word(_ARM_CAMEL, label, "Arm") + grp
    if label.part == "leg":
        return side + _word(_LEG_CAMEL, label, "Leg") + grp
    if label.part == "spine":
        return _word(_SPINE_CAMEL, label, "Spine")
    if label.part in ("hips", "head", "jaw", "root", "body"):
        return side + label.part.capitalize()
    if label.part == "finger":
        return side + _camel_part(label)
    return f"{side}{label.part.capitalize()}{grp}{label.index + 1 if label.count > 1 else ''}"


def _mixamo(label: JointLabel) -> str:
    side = {"L": "Left", "R": "Right", "": ""}[label.side]
    grp = str(label.group + 1) if label.group else ""
    if label.part == "arm":
        core = side + _word(_ARM_MIXAMO, label, "Arm") + grp
    elif label.part == "leg":
        core = side + _word(_LEG_MIXAMO, label, "Leg") + grp
    elif label.part == "finger":
        core = f"{side}Hand{_FINGERS[label.group % 5]}{label.index + 1}"
    elif label.part in ("spine", "neck", "tail"):
        core = label.part.capitalize() + (str(label.index) if label.index else "")
    else:
        core = f"{side}{label.part.capitalize()}{grp}{label.index + 1 if label.count > 1 else ''}"
    return "mixamorig:" + core


def _rigify(label: JointLabel, prefix: str = "DEF-") -> str:
    suffix = {"L": ".L", "R": ".R", "": ""}[label.side]
    if label.part == "arm":
        core = _word(_ARM_SNAKE, label, "arm.")
    elif label.part == "leg":
        core = _word(_LEG_SNAKE, label, "leg.")
    elif label.part == "finger":
        core = f"f_{_FINGERS[label.group % 5].lower()}.{label.index + 1:02d}"
    else:
        core = label.part
    if label.group and label.part != "finger":
        core += f"_{label.group + 1}"
    if label.count > 1 and label.part not in ("arm", "leg", "finger"):
        core += f".{label.index:03d}"
    return prefix + core + suffix


def _underscore(label: JointLabel, upper: bool = False) -> str:
    parts = []
    if label.side:
        parts.append(label.side)
    part = label.part
    if label.part == "finger":
        part = _FINGERS[label.group % 5].lower()
    elif label.group:
        part = f"{part}{label.group + 1}"
    parts.append(part.capitalize() if upper else part)
    parts.append(f"{label.index + 1:02d}")
    return "_".join(parts)


def _bip(label: JointLabel) -> str:
    side = {"L": " L", "R": " R", "": ""}[label.side]
    grp = str(label.group + 1) if label.group else ""
    if label.part == "arm":
        word = ["Clavicle", "UpperArm", "Forearm", "Hand", "Palm"][min(label.index, 4)]
    elif label.part == "leg":
        word = ["Thigh", "Calf", "Foot", "Toe0", "Toe0Nub"][min(label.index, 4)]
    elif label.part == "finger":
        word = f"Finger{label.group % 5}{label.index if label.index else ''}"
    else:
        word = label.part.capitalize() + (str(label.index) if label.index else "")
    return f"Bip01{side} {word}{grp}"


def _quaternius(label: JointLabel) -> str:
    suffix = {"L": ".L", "R": ".R", "": ""}[label.side]
    grp = str(label.group + 1) if label.group else ""
    if label.part == "arm":
        word = ["Shoulder", "UpperArm", "LowerArm", "Wrist", "Palm"][min(label.index, 4)]
    elif label.part == "leg":
        word = ["UpperLeg", "LowerLeg", "Foot", "Toe", "ToeEnd"][min(label.index, 4)]
    elif label.part == "finger":
        word = f"{_FINGERS[label.group % 5]}{label.index + 1}"
    else:
        word = label.part.capitalize() + (str(label.index + 1) if label.count > 1 else "")
    return f"{word}{grp}{suffix}"


def _truebones(label: JointLabel) -> str:
    side = {"L": "L_", "R": "R_", "": ""}[label.side]
    grp = f"{label.group + 1}" if label.group else ""
    return f"BN_{side}{label.part.capitalize()}{grp}_{label.index + 1:02d}"


def _generic_bone(labels: Sequence[JointLabel], rng: np.random.Generator) -> list[str]:
    style = int(rng.integers(4))
    names = []
    for j in range(len(labels)):
        if style == 0:
            names.append("Bone" if j == 0 else f"Bone.{j:03d}")
        elif style == 1:
            names.append(f"joint{j + 1}")
        elif style == 2:
            names.append(f"Bone_{j:02d}")
        else:
            names.append(f"b{j}")
    return names


# Each style maps a label to a name; "generic" ignores the labels (rigs named Bone.001 ... exist).
NAMING_STYLES: dict[str, Callable[[JointLabel], str]] = {
    "unity": _unity,
    "mixamo": _mixamo,
    "rigify": _rigify,
    "rigify_org": lambda label: _rigify(label, "ORG-"),
    "plain": lambda label: _rigify(label, ""),
    "underscore": _underscore,
    "underscore_upper": lambda label: _underscore(label, upper=True),
    "bip": _bip,
    "quaternius": _quaternius,
    "truebones": _truebones,
}


def name_joints(labels: Sequence[JointLabel], rng: np.random.Generator, style: str | None = None) -> tuple[list[str], str]:
    """Unique names for the labelled joints of one rig.

    Args:
        labels: one label per joint.
        rng: random source (chooses the style when ``style`` is None).
        style: a key of :data:`NAMING_STYLES`, ``"generic"``, or None for a random one
            (generic with probability 0.1).

    Returns:
        ``(names, style)``; repeated names get a numeric suffix so all are unique.
    """
    if style is None:
        keys = list(NAMING_STYLES)
        style = "generic" if rng.random() < 0.1 else keys[int(rng.integers(len(keys)))]
    if style == "generic":
        names = _generic_bone(labels, rng)
    else:
        fmt = NAMING_STYLES[style]
        names = [fmt(label) for label in labels]
    seen: dict[str, int] = {}
    unique = []
    for n in names:
        if n in seen:
            seen[n] += 1
            n = f"{n}_{seen[n]}"
            while n in seen:
                n += "x"
        seen.setdefault(n, 0)
        unique.append(n)
    return unique, style
