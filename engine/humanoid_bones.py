"""Unity ``HumanBodyBones`` names and the VRM 0.x / VRM 1.0 humanoid bone-name tables.

The engine's humanoid map (:attr:`engine.rig.Rig.humanoid`) is keyed by Unity ``HumanBodyBones``
names, which VMC also uses (``/VMC/Ext/Bone/Pos``, see shared/VMC.md). VRM 0.x names are the
Unity names in lowerCamelCase. VRM 1.0 renamed the thumb (VRMC_vrm-1.0 humanoid.md): its
``thumbMetacarpal / thumbProximal / thumbDistal`` are Unity's ``ThumbProximal /
ThumbIntermediate / ThumbDistal``.
"""

from __future__ import annotations

__all__ = [
    "HUMAN_BODY_BONES",
    "UNITY_FROM_VRM0",
    "UNITY_FROM_VRM1",
    "VRM0_FROM_UNITY",
    "VRM1_FROM_UNITY",
]

_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")
_SEGMENTS = ("Proximal", "Intermediate", "Distal")

# Unity's HumanBodyBones enum in enum order (Hips = 0 ... UpperChest = 54; LastBone omitted).
HUMAN_BODY_BONES: tuple[str, ...] = (
    "Hips",
    "LeftUpperLeg", "RightUpperLeg", "LeftLowerLeg", "RightLowerLeg", "LeftFoot", "RightFoot",
    "Spine", "Chest", "Neck", "Head",
    "LeftShoulder", "RightShoulder", "LeftUpperArm", "RightUpperArm",
    "LeftLowerArm", "RightLowerArm", "LeftHand", "RightHand",
    "LeftToes", "RightToes", "LeftEye", "RightEye", "Jaw",
    *(f"{side}{finger}{seg}" for side in ("Left", "Right") for finger in _FINGERS for seg in _SEGMENTS),
    "UpperChest",
)  # fmt: skip


def _camel(name: str) -> str:
    return name[0].lower() + name[1:]


def _vrm1_name(unity: str) -> str:
    # VRM 1.0 thumb segments shift by one: Proximal -> Metacarpal, Intermediate -> Proximal.
    for side in ("Left", "Right"):
        if unity == f"{side}ThumbProximal":
            return _camel(f"{side}ThumbMetacarpal")
        if unity == f"{side}ThumbIntermediate":
            return _camel(f"{side}ThumbProximal")
    return _camel(unity)


VRM0_FROM_UNITY: dict[str, str] = {u: _camel(u) for u in HUMAN_BODY_BONES}
VRM1_FROM_UNITY: dict[str, str] = {u: _vrm1_name(u) for u in HUMAN_BODY_BONES}
UNITY_FROM_VRM0: dict[str, str] = {v: u for u, v in VRM0_FROM_UNITY.items()}
UNITY_FROM_VRM1: dict[str, str] = {v: u for u, v in VRM1_FROM_UNITY.items()}
