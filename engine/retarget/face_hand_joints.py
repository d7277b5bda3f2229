"""The face and hand joints of a retarget map: which jaw and eye joints the face drives, and grips.

:mod:`engine.face_hands.rig_targets` finds a rig's jaw and eye joints by name and geometry; the map
can name them instead (``jaw``, ``left_eye``, ``right_eye``: a joint name; ``None`` = found
automatically; ``""`` = none), so a rig whose jaw is called ``Mouth_Lower`` still opens its mouth.

**Grips** are joints of a non-humanoid limb that close with the performer's hand: each
:class:`GripLink` turns its joint by up to ``angle_deg`` as the hand of ``side`` closes (0 = open
flat hand, 1 = fist; :func:`engine.face_hands.fingers.hand_closure`), bending the joint's tip
downward at the rig's reference pose (a claw curling, a wing's fingers folding). The suggestion
(:func:`suggest_grips`): on a rig that is not mapped bone for bone, every joint below the end of an
arm-driven chain that no chain drives (the dragon's wing fingers), from the same side.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from engine.retarget.json_objects import object_with_fields
from engine.skeleton import Skeleton

__all__ = ["GRIP_SIDES", "GripLink", "FaceHandJoints", "suggest_grips", "validate_face_hand_joints"]

GRIP_SIDES = ("left", "right")
DEFAULT_GRIP_DEG = 40.0  # per joint: a two-joint wing finger folds 80 degrees at a fist


@dataclass
class GripLink:
    """One rig joint that closes with the performer's hand.

    Attributes:
        joint: rig joint name.
        side: the performer's hand that closes it (``"left"`` / ``"right"``).
        angle_deg: how far it turns at a closed fist, degrees (may be negative: bends up).
    """

    joint: str
    side: str
    angle_deg: float = DEFAULT_GRIP_DEG


@dataclass
class FaceHandJoints:
    """The map's face and hand joints (see the module docstring)."""

    jaw: str | None = None
    left_eye: str | None = None
    right_eye: str | None = None
    grips: list[GripLink] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _joint_or_auto(value: Any, where: str, skeleton: Skeleton | None) -> str | None:
    if value is None or value == "":
        return value
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a joint name, \"\" (none) or null (automatic), got {value!r}")
    if skeleton is not None and value not in skeleton.names:
        raise ValueError(f"{where} names joint {value!r}, which the rig does not have")
    return value


def validate_face_hand_joints(data: Any, where: str, skeleton: Skeleton | None = None) -> FaceHandJoints:
    """A :class:`FaceHandJoints` from a JSON object; raises ``ValueError`` naming the fault."""
    object_with_fields(data, where, FaceHandJoints)
    out = FaceHandJoints(*(_joint_or_auto(data.get(k), f"{where}.{k}", skeleton) for k in ("jaw", "left_eye", "right_eye")))
    grips = data.get("grips", [])
    if not isinstance(grips, list):
        raise ValueError(f"{where}.grips must be a list")
    for i, g in enumerate(grips):
        at = f"{where}.grips[{i}]"
        object_with_fields(g, at, GripLink)
        joint = _joint_or_auto(g.get("joint"), f"{at}.joint", skeleton)
        if not joint:
            raise ValueError(f"{at}.joint must name a joint")
        if g.get("side") not in GRIP_SIDES:
            raise ValueError(f"{at}.side must be one of {GRIP_SIDES}, got {g.get('side')!r}")
        angle = g.get("angle_deg", DEFAULT_GRIP_DEG)
        if isinstance(angle, bool) or not isinstance(angle, (int, float)) or not np.isfinite(angle) or abs(angle) > 180.0:
            raise ValueError(f"{at}.angle_deg must be a number in [-180, 180], got {angle!r}")
        out.grips.append(GripLink(joint, g["side"], float(angle)))
    return out


def suggest_grips(skeleton: Skeleton, retarget_map: Any) -> list[GripLink]:
    """Grips for a chain map: the undriven joints below each arm-driven chain's end (none on a humanoid,
    whose hand's joints are fingers, driven by the finger curls)."""
    from engine.retarget.orientation import looks_humanoid

    if looks_humanoid(retarget_map):
        return []
    driven = {n for cm in retarget_map.chains for n in cm.target[1:]}
    out: list[GripLink] = []
    for cm in retarget_map.chains:
        if cm.rule != "direct" or cm.mirror or cm.source not in ("left_arm", "right_arm"):
            continue
        side = cm.source.split("_")[0]
        end = skeleton.index(cm.target[-1])
        below = [j for j in range(skeleton.num_joints) if j != end and end in skeleton.chain_to_root(j)]
        out += [GripLink(skeleton.names[j], side) for j in below if skeleton.names[j] not in driven]
    return out
