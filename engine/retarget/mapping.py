"""The retarget map: which performer chain drives which rig chain, by what rule; saved beside the rig.

Rules (each :class:`ChainMap` has one):

- ``direct``: the rig chain copies the bone directions of a performer chain (see
  :mod:`engine.retarget.retargeter`), optionally ``delay_frames`` late and ``mirror``-ed left/right.
  Extra limbs are *phase-shifted copies*: the dragon's forelegs copy the contralateral performer leg
  (a trot moves diagonal legs together, half a stride out of phase with the same-side leg), the
  spider's legs 3 and 4 copy the contralateral arm and leg (an alternating tetrapod gait).
- ``follow``: follow-through of the body: bone ``k`` of the chain turns with the performer's pelvis
  as it was ``k * delay_frames`` frames ago, so tails (and a snake's body) trail and sway.
- joints in no chain map follow their parent rigidly (fingers, toes, jaws, wing fingers).

Orientation links (``orientations``, :mod:`engine.retarget.orientation`) then give chosen joints
the performer's segment orientations: the head, chest twist along the spine and neck, limb twists,
hands and feet. Schema version 2 added them; a version 1 file still loads and gets the suggested
links (when the skeleton is given). The face and hand joints (``face_hands``,
:mod:`engine.retarget.face_hand_joints`: jaw, eyes, and grips that close with the hand) came with
version 3; older files get the suggested grips and find the jaw and eyes automatically.

Automatic suggestions (:func:`suggest_map`): a skeleton whose humanoid bones are all found by name
(:mod:`engine.retarget.humanoid_names`) is mapped bone for bone; any other: spine -> spine (root to
the neck), neck -> neck, head -> head, arms -> arms (T-pose reference), wings (arms-down
reference: relaxed arms give the wings' rest, raised arms lift them) or forelegs (arms-down reference), legs -> legs / hind legs, tails -> follow. The map is plain data: edit it, then :func:`save_map` writes
``<rig file>.retarget.json`` (schema version :data:`SCHEMA_VERSION`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from engine.errors import AnyRigError
from engine.performer import PERFORMER_CHAINS
from engine.retarget.chains import Chain, ChainKind, find_chains, rig_forward
from engine.retarget.face_hand_joints import FaceHandJoints, suggest_grips, validate_face_hand_joints
from engine.retarget.humanoid_names import find_humanoid_bones
from engine.retarget.orientation import OrientationLink, suggest_orientation_links, validate_link
from engine.skeleton import Skeleton

__all__ = [
    "SCHEMA_VERSION",
    "RULES",
    "SOURCE_POSES",
    "ChainMap",
    "RetargetMap",
    "RetargetMapError",
    "suggest_map",
    "map_path_for",
    "save_map",
    "load_map",
]

SCHEMA_VERSION = 3
_READABLE_VERSIONS = (1, 2, 3)  # 1: chains only (orientation links are suggested on load); 2: no face_hands
RULES = ("direct", "follow")
SOURCE_POSES = ("t_pose", "arms_down")


class RetargetMapError(AnyRigError):
    """A retarget map file (or dict) that cannot be used: names the file and the fault."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass
class ChainMap:
    """One rig chain and what drives it.

    Attributes:
        target: rig joint names from the attachment (not moved by this entry) to the tip.
        rule: ``"direct"`` or ``"follow"``.
        source: performer chain name (:data:`engine.performer.PERFORMER_CHAINS`) for ``direct``.
        source_pose: the performer pose that corresponds to the rig's rest pose for this chain:
            ``"t_pose"`` or ``"arms_down"`` (forelegs).
        delay_frames: ``direct``: copy the source this many frames late; ``follow``: lag per bone.
        mirror: ``direct``: swap the performer's left and right (for contralateral copies).
    """

    target: list[str]
    rule: str = "direct"
    source: str | None = None
    source_pose: str = "t_pose"
    delay_frames: int = 0
    mirror: bool = False


@dataclass
class RetargetMap:
    """The whole map for one rig.

    Attributes:
        rig: the rig's name (informative).
        forward: the rig's facing at rest, a unit vector (the performer faces +Z).
        chains: the chain maps; later entries win when two name the same joint.
        orientations: orientation links (rig joint <- performer segment orientation).
        face_hands: the jaw and eye joints and the grips (:mod:`engine.retarget.face_hand_joints`).
        version: schema version.
    """

    rig: str
    forward: list[float] = field(default_factory=lambda: [0.0, 0.0, 1.0])
    chains: list[ChainMap] = field(default_factory=list)
    orientations: list[OrientationLink] = field(default_factory=list)
    face_hands: FaceHandJoints = field(default_factory=FaceHandJoints)
    version: int = SCHEMA_VERSION

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict, *, path: str | Path = "<dict>", skeleton: Skeleton | None = None) -> RetargetMap:
        """Validate and build a map; ``skeleton`` (optional) checks that every joint name exists.

        Raises:
            RetargetMapError: naming the first fault found.
        """
        if not isinstance(data, dict):
            raise RetargetMapError(path, f"top level must be an object, got {type(data).__name__}")
        version = data.get("version")
        if version not in _READABLE_VERSIONS:
            raise RetargetMapError(path, f"unsupported schema version {version!r} (expected one of {_READABLE_VERSIONS})")
        fwd = data.get("forward", [0.0, 0.0, 1.0])
        if not (isinstance(fwd, list) and len(fwd) == 3 and all(isinstance(v, (int, float)) for v in fwd)):
            raise RetargetMapError(path, f"'forward' must be a list of 3 numbers, got {fwd!r}")
        if not isinstance(data.get("chains"), list):
            raise RetargetMapError(path, "'chains' must be a list")
        chains = []
        known = set(ChainMap.__dataclass_fields__)
        for i, c in enumerate(data["chains"]):
            where = f"chains[{i}]"
            if not isinstance(c, dict):
                raise RetargetMapError(path, f"{where} must be an object")
            extra = set(c) - known
            if extra:
                raise RetargetMapError(path, f"{where} has unknown keys {sorted(extra)}")
            target = c.get("target")
            if not (isinstance(target, list) and len(target) >= 2 and all(isinstance(t, str) for t in target)):
                raise RetargetMapError(path, f"{where}.target must list at least 2 joint names")
            cm = ChainMap(**c)
            if cm.rule not in RULES:
                raise RetargetMapError(path, f"{where}.rule {cm.rule!r} is not one of {RULES}")
            if cm.rule == "direct" and cm.source not in PERFORMER_CHAINS:
                raise RetargetMapError(path, f"{where}.source {cm.source!r} is not a performer chain {sorted(PERFORMER_CHAINS)}")
            if cm.source_pose not in SOURCE_POSES:
                raise RetargetMapError(path, f"{where}.source_pose {cm.source_pose!r} is not one of {SOURCE_POSES}")
            if not isinstance(cm.delay_frames, int) or cm.delay_frames < 0:
                raise RetargetMapError(path, f"{where}.delay_frames must be a non-negative integer")
            if skeleton is not None:
                for name in target:
                    if name not in skeleton.names:
                        raise RetargetMapError(path, f"{where}.target names joint {name!r}, which the rig does not have")
                for a, b in zip(target, target[1:]):
                    if skeleton.parents[skeleton.index(b)] != skeleton.index(a):
                        raise RetargetMapError(path, f"{where}.target: {b!r} is not a child of {a!r}")
            chains.append(cm)
        out = RetargetMap(rig=str(data.get("rig", "")), forward=[float(v) for v in fwd], chains=chains)
        links = data.get("orientations", [])
        if version < 3:
            if "face_hands" in data:
                raise RetargetMapError(path, "'face_hands' needs schema version 3")
            out.face_hands = FaceHandJoints(grips=suggest_grips(skeleton, out) if skeleton is not None else [])
        else:
            try:
                out.face_hands = validate_face_hand_joints(data.get("face_hands", {}), "face_hands", skeleton)
            except (ValueError, TypeError) as e:
                raise RetargetMapError(path, str(e)) from None
        if version == 1:
            if "orientations" in data:
                raise RetargetMapError(path, "'orientations' needs schema version 2")
            out.orientations = suggest_orientation_links(skeleton, out) if skeleton is not None else []
            return out
        if not isinstance(links, list):
            raise RetargetMapError(path, "'orientations' must be a list")
        for i, link in enumerate(links):
            try:
                out.orientations.append(validate_link(link, f"orientations[{i}]", skeleton))
            except (ValueError, TypeError) as e:
                raise RetargetMapError(path, str(e)) from None
        return out


def map_path_for(rig_path: str | Path) -> Path:
    """``<rig file>.retarget.json`` beside the rig."""
    rig_path = Path(rig_path)
    return rig_path.with_name(rig_path.name + ".retarget.json")


def save_map(retarget_map: RetargetMap, path: str | Path) -> None:
    """Write the map as indented JSON to ``path``."""
    Path(path).write_text(json.dumps(retarget_map.to_dict(), indent=2) + "\n", encoding="utf-8")


def load_map(path: str | Path, skeleton: Skeleton | None = None) -> RetargetMap:
    """Read a map written by :func:`save_map`.

    Raises:
        RetargetMapError: missing file, invalid JSON (with line and column), or a schema fault.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RetargetMapError(path, f"cannot read: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise RetargetMapError(path, f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}") from None
    return RetargetMap.from_dict(data, path=path, skeleton=skeleton)


# ---------------------------------------------------------------------------------------- suggestion
def _names(skeleton: Skeleton, joints) -> list[str]:
    return [skeleton.names[j] for j in joints]


def _split_head(skeleton: Skeleton, chain: Chain) -> tuple[list[int], list[int]]:
    """Split a neck chain at the joint named head: (neck part ending at the head, head part from it)."""
    js = list(chain.joints)
    for i, j in enumerate(js[1:], start=1):
        if "head" in skeleton.names[j].lower():
            return js[: i + 1], js[i:]
    return js, []


def _body_limbs(chains: list[Chain], body: set[int]) -> list[Chain]:
    """Limb chains attached to the body (not to another limb, e.g. wing fingers)."""
    return [c for c in chains if c.joints[0] in body]


def suggest_map(skeleton: Skeleton, name: str = "", *, reference_positions: np.ndarray | None = None) -> RetargetMap:
    """An automatic retarget map for any skeleton (see the module docstring for the rules).

    Args:
        skeleton: the rig's skeleton.
        name: the rig's name, stored in the map.
        reference_positions: ``(J, 3)`` the rig pose that corresponds to the performer's T-pose
            (default: the rest pose); pass a rig's reference pose when its rest pose is not neutral.
    """
    chains = find_chains(skeleton)
    rest = skeleton.rest_positions() if reference_positions is None else np.asarray(reference_positions, dtype=np.float64)
    match = find_humanoid_bones(skeleton)
    if not match.missing and not match.notes and not any("not below" in i or "same joint" in i for i in match.issues):
        return _suggest_humanoid(skeleton, match.bones, chains, rest, name)
    fwd = rig_forward(skeleton)
    out = RetargetMap(rig=name, forward=[float(v) for v in fwd])
    add = lambda joints, **kw: out.chains.append(ChainMap(target=_names(skeleton, joints), **kw))  # noqa: E731
    root = skeleton.roots[0]
    # Head and neck: the shallowest joint named head.
    heads = [j for j, n in enumerate(skeleton.names) if "head" in n.lower() and "end" not in n.lower()]
    head = min(heads, key=lambda j: skeleton.depths()[j]) if heads else None
    body: set[int] = {root}
    if head is not None:
        path = skeleton.chain_to_root(head)[::-1]  # root ... head
        neck_words = [i for i, j in enumerate(path) if "neck" in skeleton.names[j].lower()]
        split = neck_words[0] - 1 if neck_words else max(len(path) - 2, 0)
        spine_part, neck_part = path[: split + 1], path[split:]
        if len(spine_part) >= 2:
            add(spine_part, source="spine")
        if len(neck_part) >= 2:
            add(neck_part, source="neck")
        body.update(spine_part)
        kids = skeleton.children(head)
        if kids:
            tip = max(kids, key=lambda k: np.linalg.norm(rest[k] - rest[head]))
            add([head, tip], source="head")
    else:
        spines = [c for c in chains if c.kind == ChainKind.SPINE and c.joints[0] == root]
        if spines:
            add(spines[0].joints, source="spine")
            body.update(spines[0].joints)
    limbs = _body_limbs(chains, body)
    by_kind = lambda *kinds: [c for c in limbs if c.kind in kinds and c.side]  # noqa: E731
    wings, arms = by_kind(ChainKind.WING), by_kind(ChainKind.ARM)
    fore, hind, legs = by_kind(ChainKind.FORELEG), by_kind(ChainKind.HINDLEG), by_kind(ChainKind.LEG)
    for c in wings:  # neutral: relaxed arms give the wings' rest pose (spread or folded), no calibration
        add(c.joints, source=f"{c.side}_arm", source_pose="arms_down")
    for c in arms:
        add(c.joints, source=f"{c.side}_arm", source_pose=_arm_pose(c, rest, fwd))
    for c in hind:
        add(c.joints, source=f"{c.side}_leg")
    for c in fore:
        if wings or arms:  # the arms are taken: trot, copying the diagonal (contralateral) leg
            other = "right" if c.side == "left" else "left"
            add(c.joints, source=f"{other}_leg", mirror=True)
        else:
            add(c.joints, source=f"{c.side}_arm", source_pose=_arm_pose(c, rest, fwd))
    _suggest_legs(skeleton, out, legs, rest, fwd, arms_taken=bool(wings or arms or fore))
    _suggest_tails(skeleton, out, chains, body)
    out.orientations = suggest_orientation_links(skeleton, out)
    out.face_hands = FaceHandJoints(grips=suggest_grips(skeleton, out))
    return out


def _suggest_tails(skeleton: Skeleton, out: RetargetMap, chains: list[Chain], body: set[int], *, trunks: bool = True) -> None:
    """Tails (and, with ``trunks``, spine-like chains off the body, e.g. a snake's trunk) follow through."""
    taken = {skeleton.index(n) for c in out.chains for n in c.target}
    for c in chains:
        if c.joints[0] not in body or any(j in taken for j in c.joints[1:]):
            continue
        if c.kind == ChainKind.TAIL or (trunks and c.kind == ChainKind.SPINE and c.joints[1] not in body):
            out.chains.append(ChainMap(target=_names(skeleton, c.joints), rule="follow", delay_frames=2))


def _suggest_humanoid(skeleton: Skeleton, bones: dict[str, str], chains: list[Chain], rest: np.ndarray,
                      name: str) -> RetargetMap:
    """Chains from the humanoid bone map: exact limb correspondence whatever the helper joints.

    Spine: hips -> the joint the arms branch from; neck: that joint -> head; head: head -> its
    farthest child; arms: shoulder (or upper arm) -> hand; legs: upper leg -> toes (or foot).
    Joints between the hips and the upper legs (CMU ``LHipJoint``, CC ``Pelvis``) follow rigidly.
    """
    idx = {role: skeleton.index(n) for role, n in bones.items()}
    # Facing: toward a head held well forward of the hips (quadrupeds), else the rig's left x up.
    ahead = (rest[idx["Head"]] - rest[idx["Hips"]]) * [1.0, 0.0, 1.0]
    if np.linalg.norm(ahead) > 0.25 * skeleton.height:
        fwd = ahead / np.linalg.norm(ahead)
    else:
        fwd = np.cross(rest[idx["LeftUpperLeg"]] - rest[idx["RightUpperLeg"]], [0.0, 1.0, 0.0])
        fwd = fwd / np.linalg.norm(fwd) if np.linalg.norm(fwd) > 1e-9 else np.array([0.0, 0.0, 1.0])
    out = RetargetMap(rig=name, forward=[float(v) for v in fwd])
    add = lambda joints, **kw: out.chains.append(ChainMap(target=_names(skeleton, joints), **kw))  # noqa: E731

    def path(a: int, b: int) -> list[int]:
        chain = skeleton.chain_to_root(b)
        return chain[: chain.index(a) + 1][::-1] if a in chain else []

    arm_start = {s: idx.get(f"{s}Shoulder", idx[f"{s}UpperArm"]) for s in ("Left", "Right")}
    l_chain, r_chain = skeleton.chain_to_root(arm_start["Left"]), set(skeleton.chain_to_root(arm_start["Right"]))
    branch = next((j for j in l_chain[1:] if j in r_chain), idx["Hips"])
    head = idx["Head"]
    spine = path(idx["Hips"], branch)
    if len(spine) >= 2:
        add(spine, source="spine")
    neck = path(branch, head)
    if len(neck) >= 2:
        add(neck, source="neck")
    kids = skeleton.children(head)
    if kids:
        add([head, max(kids, key=lambda k: np.linalg.norm(rest[k] - rest[head]))], source="head")
    for side in ("Left", "Right"):
        arm = path(arm_start[side], idx[f"{side}Hand"])
        add(arm, source=f"{side.lower()}_arm", source_pose=_arm_pose(arm, rest, fwd))
        leg = path(idx[f"{side}UpperLeg"], idx.get(f"{side}Toes", idx[f"{side}Foot"]))
        if len(leg) < 3:  # toes not below the foot
            leg = path(idx[f"{side}UpperLeg"], idx[f"{side}Foot"])
        add(leg, source=f"{side.lower()}_leg")
    _suggest_tails(skeleton, out, chains, set(spine) | {idx["Hips"]}, trunks=False)
    out.orientations = suggest_orientation_links(skeleton, out)
    out.face_hands = FaceHandJoints(grips=suggest_grips(skeleton, out))
    return out


def _arm_pose(joints, rest: np.ndarray, fwd: np.ndarray) -> str:
    """``t_pose`` when the chain points sideways at rest, ``arms_down`` when it points down or forward."""
    joints = list(joints.joints) if isinstance(joints, Chain) else list(joints)
    d = rest[joints[-1]] - rest[joints[0]]
    d = d / max(np.linalg.norm(d), 1e-9)
    lateral = abs(float(np.dot(d, np.cross([0.0, 1.0, 0.0], fwd))))
    return "t_pose" if lateral >= 0.6 else "arms_down"


def _suggest_legs(skeleton: Skeleton, out: RetargetMap, legs: list[Chain], rest: np.ndarray, fwd: np.ndarray,
                  *, arms_taken: bool) -> None:
    """Unlabelled legs: front to back per side; pairs take arm, leg, then contralateral copies."""
    per_side = {s: sorted([c for c in legs if c.side == s], key=lambda c: -float(np.dot(rest[c.joints[1]], fwd)))
                for s in ("left", "right")}
    n = max(len(v) for v in per_side.values()) if legs else 0
    if n == 0:
        return
    if n == 1 or arms_taken:
        sources = ["leg"] * n
    elif n == 2:
        sources = ["arm", "leg"]
    else:
        sources = ["arm", "leg"] + ["arm_x", "leg_x"] * n
    for side, cs in per_side.items():
        other = "right" if side == "left" else "left"
        for c, src in zip(cs, sources):
            if src.endswith("_x"):
                out.chains.append(ChainMap(target=_names(skeleton, c.joints), source=f"{other}_{src[:-2]}", mirror=True,
                                           source_pose=_arm_pose(c, rest, fwd) if src.startswith("arm") else "t_pose"))
            else:
                out.chains.append(ChainMap(target=_names(skeleton, c.joints), source=f"{side}_{src}",
                                           source_pose=_arm_pose(c, rest, fwd) if src == "arm" else "t_pose"))
