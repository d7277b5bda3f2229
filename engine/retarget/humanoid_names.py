"""Automatic humanoid bone mapping by joint names and topology.

Finds the Unity ``HumanBodyBones`` roles (``Hips``, ``Spine``, ``LeftUpperArm`` ...; the names VMC
sends, VMC.md §1) in a skeleton whose joint names follow any of the common conventions:

- Mixamo (``mixamorig:LeftArm``), Rokoko (Mixamo preset), Xia / LAFAN1 (``LeftUpLeg``),
- CMU ASF/BVH (``LHipJoint``, ``LeftHip``, ``LeftCollar``, ``LeftShoulder``, ``LeftElbow``, ``LeftWrist``),
- Daz-friendly CMU (``hip, abdomen, chest, lCollar, lShldr, lForeArm, lHand, lThigh, lShin, lFoot``),
- VRM 0/1 (``leftUpperArm``) and Unity humanoid (``LeftUpperArm``), VRoid (``J_Bip_L_UpperArm``),
- Reallusion Character Creator (``CC_Base_L_Upperarm``, ``CC_Base_L_Calf``),
- UE mannequin (``pelvis, spine_01, clavicle_l, upperarm_l, lowerarm_l, hand_l, thigh_l, calf_l, foot_l, ball_l``),
- Blender rigify-ish (``DEF-upper_arm.L``, ``DEF-thigh.L.001``).

Method: each joint name is reduced to a side (left/right/none) and a core word, the core word is
looked up in a table of aliases, then topology settles what names cannot: ambiguous words
(``shoulder`` is a clavicle in Mixamo but an upper arm under a CMU ``Collar``; ``hip`` is the pelvis
unsided but a thigh when sided), the spine bones (the joints between the hips and the neck, split
into Spine / Chest / UpperChest), and missing bones between two found ones. Finally
:func:`check_topology` verifies the hierarchy (hand below lower arm below upper arm ...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from engine.skeleton import Skeleton

__all__ = [
    "HUMAN_BONES",
    "REQUIRED_BONES",
    "MAIN_BONES",
    "HumanoidMatch",
    "split_side",
    "find_humanoid_bones",
    "check_topology",
]

# Unity HumanBodyBones names used here, parents before children.
HUMAN_BONES: tuple[str, ...] = (
    "Hips", "Spine", "Chest", "UpperChest", "Neck", "Head", "LeftEye", "RightEye", "Jaw",
    "LeftShoulder", "LeftUpperArm", "LeftLowerArm", "LeftHand",
    "RightShoulder", "RightUpperArm", "RightLowerArm", "RightHand",
    "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "LeftToes",
    "RightUpperLeg", "RightLowerLeg", "RightFoot", "RightToes",
    *(f"{side}{finger}{seg}" for side in ("Left", "Right") for finger in ("Thumb", "Index", "Middle", "Ring", "Little")
      for seg in ("Proximal", "Intermediate", "Distal")),
)
# Required by VRM 1.0 (VMC.md §4): without these a skeleton is not treated as a humanoid.
REQUIRED_BONES: tuple[str, ...] = (
    "Hips", "Spine", "Head",
    "LeftUpperArm", "LeftLowerArm", "LeftHand", "RightUpperArm", "RightLowerArm", "RightHand",
    "LeftUpperLeg", "LeftLowerLeg", "LeftFoot", "RightUpperLeg", "RightLowerLeg", "RightFoot",
)
MAIN_BONES: tuple[str, ...] = REQUIRED_BONES + ("Neck",)

_PREFIXES = ("cc_base_", "def-", "org-", "mch-", "bip001", "bip01", "j_bip_", "b_", "bone_")
_HELPER_WORDS = ("twist", "roll", "share", "sha", "helper", "ik", "pole", "nub", "end", "dummy", "adj", "corrective")

# core word -> part. "shoulder" and "hip" are settled by side and topology afterwards.
_ALIASES: dict[str, str] = {}
for _part, _words in {
    "hips": ("hips", "pelvis", "root_hips"),
    "hip": ("hip",),
    "neck": ("neck", "neck0", "neck01", "neck1", "necktwist01"),
    "head": ("head",),
    "eye": ("eye",),
    "jaw": ("jaw", "jawroot"),
    "clavicle": ("clavicle", "collar", "collarbone", "clav"),
    "shoulder": ("shoulder",),
    "upper_arm": ("arm", "upperarm", "uparm", "shldr", "humerus"),
    "lower_arm": ("forearm", "lowerarm", "elbow", "lowarm", "forarm"),
    "hand": ("hand", "wrist", "palm"),
    "upper_leg": ("upleg", "upperleg", "thigh", "femur", "upperthigh"),
    "lower_leg": ("leg", "lowerleg", "calf", "shin", "knee", "lowleg"),
    "foot": ("foot", "ankle"),
    "toes": ("toe", "toes", "toebase", "ball", "toe0"),
}.items():
    for _w in _words:
        _ALIASES[_w] = _part

_SIDED_ROLES = {
    "clavicle": "Shoulder", "upper_arm": "UpperArm", "lower_arm": "LowerArm", "hand": "Hand",
    "upper_leg": "UpperLeg", "lower_leg": "LowerLeg", "foot": "Foot", "toes": "Toes", "eye": "Eye",
}


@dataclass
class HumanoidMatch:
    """The result of :func:`find_humanoid_bones`.

    Attributes:
        bones: Unity ``HumanBodyBones`` name -> joint name, for every role found.
        missing: required roles that were not found.
        issues: topology problems found by :func:`check_topology` (empty when consistent).
        notes: what the match tolerated: a foot that is an IK control beside the leg (Quaternius,
            RobotExpressive), hands missing with the fingers on the lower arm. Such a rig is a
            humanoid for VMC (the bones are sent, composed to their Unity parents) but its limbs
            are not plain chains (the retarget map treats it by its chains).
    """

    bones: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def is_humanoid(self) -> bool:
        """True when every required bone was found and the topology is consistent."""
        return not self.missing and not self.issues

    @property
    def coverage(self) -> float:
        """Fraction of :data:`MAIN_BONES` found, in ``[0, 1]``."""
        return sum(b in self.bones for b in MAIN_BONES) / len(MAIN_BONES)


def split_side(name: str) -> tuple[str | None, str]:
    """Reduce a joint name to ``(side, core)``: side ``"Left"``, ``"Right"`` or ``None``; core lowercase alphanumerics.

    Example: ``"mixamorig:LeftForeArm" -> ("Left", "forearm")``, ``"upperarm_r" -> ("Right", "upperarm")``,
    ``"lShldr" -> ("Left", "shldr")``, ``"DEF-thigh.L.001" -> ("Left", "thigh")``.
    """
    s = name.rsplit(":", 1)[-1].strip()
    s = re.sub(r"([._ ]\d{3})+$", "", s)  # rigify / Blender duplicates: ".001"
    low = s.lower()
    for prefix in _PREFIXES:
        if low.startswith(prefix) and len(s) > len(prefix):
            s = s[len(prefix):].lstrip("_ .-")
            low = s.lower()
            break
    side, core = None, s
    patterns = (
        (r"^(left|right)[_.\- ]?(.+)$", 1, 2, re.I),
        (r"^(.+?)[_.\- ]?(left|right)$", 2, 1, re.I),
        (r"^([lr])[_.\- ](.+)$", 1, 2, re.I),
        (r"^(.+)[_.\- ]([lr])$", 2, 1, re.I),
        (r"^([lr])([A-Z].*)$", 1, 2, 0),  # Daz: lThigh, rShin
        (r"^([LR])([A-Z][a-z].*)$", 1, 2, 0),  # CMU: LHipJoint, RThumb
        (r"^(.*[a-z0-9])([LR])$", 2, 1, 0),  # three.js RobotExpressive: UpperArmL, FootR
    )
    for pattern, side_group, core_group, flags in patterns:
        m = re.match(pattern, s, flags)
        if m:
            side = "Left" if m.group(side_group)[0].lower() == "l" else "Right"
            core = m.group(core_group)
            break
    core = re.sub(r"[^0-9a-z]", "", core.lower())
    return side, core


def _part_of(core: str) -> str | None:
    if core in _ALIASES:
        return _ALIASES[core]
    stripped = core.rstrip("0123456789")
    if stripped in _ALIASES and _ALIASES[stripped] not in ("upper_arm", "lower_leg"):
        # "Neck1", "Head1", "Hand1" count; "Arm1"/"Leg1" (segments) do not override the first.
        return _ALIASES[stripped]
    return None


def _is_helper(core: str) -> bool:
    return any(w in core for w in _HELPER_WORDS) and core not in ("necktwist01",)


def _path(skeleton: Skeleton, ancestor: int, joint: int) -> list[int] | None:
    """Joints from ``ancestor`` down to ``joint`` inclusive, or None when not an ancestor."""
    chain = skeleton.chain_to_root(joint)
    if ancestor not in chain:
        return None
    return chain[: chain.index(ancestor) + 1][::-1]


def find_humanoid_bones(skeleton: Skeleton) -> HumanoidMatch:
    """Map Unity ``HumanBodyBones`` roles onto ``skeleton``'s joints by name, then topology.

    Only names and the hierarchy are used, never the rest pose (BVH offsets of some rigs lie
    along +X; node rest poses need not be upright), so the result does not depend on the pose.

    Returns:
        A :class:`HumanoidMatch`; ``match.is_humanoid`` says whether every required bone was found
        with a consistent hierarchy.
    """
    depth = skeleton.depths()
    candidates: dict[str, list[int]] = {}
    for j, name in enumerate(skeleton.names):
        side, core = split_side(name)
        if _is_helper(core):
            continue
        part = _part_of(core)
        if part is None:
            continue
        if part == "hip":
            part = "upper_leg" if side else "hips"
        if part == "shoulder":
            part = "clavicle"  # settled below when a collar sits above it
        key = f"{side or ''}:{part}"
        candidates.setdefault(key, []).append(j)

    # A sided "shoulder" below a sided clavicle/collar is the upper arm (CMU: LeftCollar -> LeftShoulder).
    for side in ("Left", "Right"):
        clav = sorted(candidates.get(f"{side}:clavicle", []), key=lambda j: depth[j])
        if len(clav) >= 2 and _path(skeleton, clav[0], clav[1]) is not None:
            candidates.setdefault(f"{side}:upper_arm", []).insert(0, clav[1])
            candidates[f"{side}:clavicle"] = [clav[0]]

    def best(key: str) -> int | None:
        js = candidates.get(key, [])
        return min(js, key=lambda j: (depth[j], j)) if js else None

    bones: dict[str, int] = {}
    for side in ("Left", "Right"):
        for part, role in _SIDED_ROLES.items():
            j = best(f"{side}:{part}")
            if j is not None:
                bones[side + role] = j
    for part, role in (("hips", "Hips"), ("neck", "Neck"), ("head", "Head"), ("jaw", "Jaw")):
        j = best(f":{part}")
        if j is not None:
            bones[role] = j
    _fill_by_topology(skeleton, bones)
    notes = _tolerate_rig_controls(skeleton, bones)
    _find_fingers(skeleton, bones)
    names = {role: skeleton.names[j] for role, j in bones.items()}
    ordered = {role: names[role] for role in HUMAN_BONES if role in names}
    optional = {f"{s}Hand" for s in ("Left", "Right") if any(f"{s}Hand" in n for n in notes)}
    match = HumanoidMatch(bones=ordered, missing=[r for r in REQUIRED_BONES if r not in ordered and r not in optional], notes=notes)
    match.issues = check_topology(skeleton, ordered, tolerated=notes)
    return match


_FINGER_RE = re.compile(r"^(?:hand|f)?(thumb|index|middle|mid|ring|pinky|little)(?:finger)?(metacarpal|proximal|intermediate|distal|\d*)$")
_FINGER_ROLE = {"thumb": "Thumb", "index": "Index", "middle": "Middle", "mid": "Middle", "ring": "Ring", "pinky": "Little", "little": "Little"}


def _find_fingers(skeleton: Skeleton, bones: dict[str, int]) -> None:
    """Add the three segments of every named finger below each hand (in place).

    Names of every family (Mixamo ``LeftHandIndex1``, CC ``CC_Base_L_Mid1``, UE ``index_01_l``,
    rigify ``f_index.01.L``, VRM ``leftIndexProximal``, Quaternius ``Index1.L``) reduce to a finger
    word and a segment; the segments are taken by depth below the lower arm (fingers may hang
    off palm joints beside the hand, or off the lower arm when there is no hand), skipping metacarpals of the four fingers (Unity has none; VRM 1's
    ``thumbMetacarpal`` is Unity's ``ThumbProximal``), and at most three that form one chain.
    """
    depth = skeleton.depths()
    for side in ("Left", "Right"):
        base = bones.get(f"{side}LowerArm", bones.get(f"{side}Hand"))  # palms beside the hand (RobotExpressive)
        if base is None:
            continue
        found: dict[str, list[int]] = {}
        for j, name in enumerate(skeleton.names):
            s, core = split_side(name)
            m = _FINGER_RE.match(core) if s == side and not _is_helper(core) else None
            if m is None or _path(skeleton, base, j) is None:
                continue
            finger, seg = _FINGER_ROLE[m.group(1)], m.group(2)
            if finger != "Thumb" and seg in ("metacarpal", "0", "00"):
                continue
            found.setdefault(finger, []).append(j)
        for finger, joints in found.items():
            chain: list[int] = []
            for j in sorted(joints, key=lambda k: (depth[k], k)):
                if len(chain) < 3 and (not chain or _path(skeleton, chain[-1], j) is not None):
                    chain.append(j)
            for j, seg in zip(chain, ("Proximal", "Intermediate", "Distal")):
                bones[f"{side}{finger}{seg}"] = j


def _tolerate_rig_controls(skeleton: Skeleton, bones: dict[str, int]) -> list[str]:
    """Notes on the game-rig patterns a humanoid may have, for :attr:`HumanoidMatch.notes`.

    - a foot that hangs off the root beside the leg (an IK control: Quaternius bipeds,
      RobotExpressive) is kept as the foot;
    - no hand joint, with the fingers on the lower arm (Quaternius bipeds): the hand is optional.
    """
    notes: list[str] = []
    roots = set(skeleton.roots)
    for side in ("Left", "Right"):
        foot, lower = bones.get(f"{side}Foot"), bones.get(f"{side}LowerLeg")
        if foot is not None and lower is not None and _path(skeleton, lower, foot) is None and int(skeleton.parents[foot]) in roots:
            notes.append(f"{side}Foot ({skeleton.names[foot]}) is an IK control beside the leg, not below {side}LowerLeg")
        arm = bones.get(f"{side}LowerArm")
        if f"{side}Hand" not in bones and arm is not None:
            kids = [k for k in skeleton.children(arm) if _FINGER_RE.match(split_side(skeleton.names[k])[1])]
            if len(kids) >= 2:
                notes.append(f"{side}Hand is missing: the fingers hang off {side}LowerArm ({skeleton.names[arm]})")
    return notes


def _fill_by_topology(skeleton: Skeleton, bones: dict[str, int]) -> None:
    """Fill Hips, the spine bones, Neck and missing limb bones from the hierarchy (in place)."""
    legs = [bones.get(f"{s}UpperLeg") for s in ("Left", "Right")]
    if None not in legs:
        # Hips must be an ancestor of both legs: otherwise (no name, or a "Hips" beside the legs
        # as in RobotExpressive) take the legs' lowest common ancestor.
        right_chain = set(skeleton.chain_to_root(legs[1]))
        common = [j for j in skeleton.chain_to_root(legs[0])[1:] if j in right_chain]
        hips = bones.get("Hips")
        if common and (hips is None or _path(skeleton, hips, legs[0]) is None or _path(skeleton, hips, legs[1]) is None):
            bones["Hips"] = common[0]
    hips = bones.get("Hips")
    top = bones.get("Neck") or bones.get("Head")
    arms = [bones.get(f"{s}Shoulder", bones.get(f"{s}UpperArm")) for s in ("Left", "Right")]
    if hips is not None and top is None and None not in arms:
        common = [j for j in skeleton.chain_to_root(arms[0]) if j in skeleton.chain_to_root(arms[1])]
        top = common[0] if common else None
    if hips is not None and top is not None:
        path = _path(skeleton, hips, top)
        if path is not None:
            between = path[1:-1] if top in (bones.get("Neck"), bones.get("Head")) else path[1:]
            branch = _arm_branch(skeleton, bones)
            if branch in between and "Neck" in bones:
                # Unity parents the shoulders to the top spine bone: the spine ends where the arms
                # branch off; joints above it (CMU ``lowerneck``) fold into the neck.
                between = between[: between.index(branch) + 1]
            if "Neck" not in bones and top == bones.get("Head") and len(between) >= 2:
                bones["Neck"] = between.pop()
            if between:
                bones["Spine"] = between[0]
            if len(between) >= 2:
                bones["Chest"] = between[len(between) // 2] if len(between) >= 3 else between[1]
            if len(between) >= 3:
                bones["UpperChest"] = between[-1]
    for side in ("Left", "Right"):
        for upper, mid, lower in (("UpperArm", "LowerArm", "Hand"), ("UpperLeg", "LowerLeg", "Foot")):
            a, c = bones.get(side + upper), bones.get(side + lower)
            if side + mid not in bones and a is not None and c is not None:
                path = _path(skeleton, a, c)
                if path is not None and len(path) >= 3:
                    bones[side + mid] = path[len(path) // 2]
        foot = bones.get(side + "Foot")
        if foot is not None and side + "Toes" not in bones:
            kids = [k for k in skeleton.children(foot) if not _is_helper(split_side(skeleton.names[k])[1])]
            if len(kids) == 1:
                bones[side + "Toes"] = kids[0]


def _arm_branch(skeleton: Skeleton, bones: dict[str, int]) -> int | None:
    """The joint both arms hang from (their lowest common ancestor), or ``None``."""
    arms = [bones.get(f"{s}Shoulder", bones.get(f"{s}UpperArm")) for s in ("Left", "Right")]
    if None in arms:
        return None
    right = set(skeleton.chain_to_root(arms[1]))
    return next((j for j in skeleton.chain_to_root(arms[0])[1:] if j in right), None)


def check_topology(skeleton: Skeleton, bones: dict[str, str], *, tolerated: list[str] | None = None) -> list[str]:
    """Hierarchy problems of a humanoid bone map (an empty list when consistent); pose-independent.

    Checks: each limb bone descends from the one above it (UpperArm -> LowerArm -> Hand,
    UpperLeg -> LowerLeg -> Foot, Hips -> Spine -> Head), left and right limbs are distinct, the
    head is not inside a leg and the feet are not inside the spine or an arm. ``tolerated``: notes
    of :func:`find_humanoid_bones` (an IK foot beside its leg is not reported).
    """
    idx = {role: skeleton.index(name) for role, name in bones.items()}
    issues: list[str] = []
    ik_feet = {n.split(" ", 1)[0] for n in tolerated or () if "IK control" in n}
    pairs = [("Hips", "Spine"), ("Spine", "Head"), ("Hips", "Head")]
    for side in ("Left", "Right"):
        pairs += [(side + "UpperArm", side + "LowerArm"), (side + "LowerArm", side + "Hand"),
                  (side + "UpperLeg", side + "LowerLeg"), ("Hips", side + "UpperLeg"), (side + "Shoulder", side + "UpperArm")]
        if side + "Foot" not in ik_feet:
            pairs.append((side + "LowerLeg", side + "Foot"))
    for above, below in pairs:
        if above in idx and below in idx and _path(skeleton, idx[above], idx[below]) is None:
            issues.append(f"{below} ({bones[below]}) is not below {above} ({bones[above]})")
    for a, b in (("LeftUpperArm", "RightUpperArm"), ("LeftUpperLeg", "RightUpperLeg"), ("LeftHand", "RightHand")):
        if a in idx and b in idx and idx[a] == idx[b]:
            issues.append(f"{a} and {b} are the same joint {bones[a]}")
    for limb, part in (("LeftUpperLeg", "Head"), ("RightUpperLeg", "Head"), ("Spine", "LeftFoot"), ("Spine", "RightFoot"),
                       ("LeftUpperArm", "LeftFoot"), ("RightUpperArm", "RightFoot")):
        if limb in idx and part in idx and _path(skeleton, idx[limb], idx[part]) is not None:
            issues.append(f"{part} ({bones[part]}) is inside {limb} ({bones[limb]})")
    return issues
