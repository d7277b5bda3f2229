"""Find and classify the chains of any skeleton (spine, neck, head, arms, wings, legs, tails, digits).

A *chain* is a maximal unbranched run of joints. Its first joint is its *attachment*: the root, or
the branching joint it hangs from (shared with the parent chain), so a chain with ``n + 1`` joints
has ``n`` bones. Kinds come from words in the joint names first (``wing``, ``tail``, ``neck``,
``arm``, ``leg`` with ``front``/``hind`` ...), then from the rest pose for unnamed chains (below the
root: leg; sideways: arm; behind: tail; in front: neck).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from engine.retarget.humanoid_names import split_side
from engine.skeleton import Skeleton

__all__ = ["Chain", "ChainKind", "find_chains", "rig_forward", "joint_part"]


class ChainKind:
    """Chain kinds (plain strings so that they read well in the JSON map)."""

    SPINE = "spine"
    NECK = "neck"
    HEAD = "head"
    ARM = "arm"
    WING = "wing"
    LEG = "leg"
    FORELEG = "foreleg"
    HINDLEG = "hindleg"
    TAIL = "tail"
    DIGIT = "digit"
    OTHER = "other"


# Keyword -> kind, most specific first; matched as substrings of the lowercase name.
_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("wing", ChainKind.WING), ("tail", ChainKind.TAIL), ("palp", ChainKind.OTHER), ("chelicer", ChainKind.HEAD),
    ("fang", ChainKind.HEAD), ("mandible", ChainKind.HEAD), ("antenna", ChainKind.OTHER), ("finger", ChainKind.DIGIT), ("thumb", ChainKind.DIGIT),
    ("index", ChainKind.DIGIT), ("middle", ChainKind.DIGIT), ("ring", ChainKind.DIGIT), ("little", ChainKind.DIGIT),
    ("pinky", ChainKind.DIGIT), ("toe", ChainKind.DIGIT), ("claw", ChainKind.DIGIT), ("neck", ChainKind.NECK),
    ("head", ChainKind.HEAD), ("jaw", ChainKind.HEAD), ("beak", ChainKind.HEAD), ("skull", ChainKind.HEAD),
    ("spine", ChainKind.SPINE), ("chest", ChainKind.SPINE), ("abdomen", ChainKind.SPINE), ("pelvis", ChainKind.SPINE),
    ("hip", ChainKind.SPINE), ("torso", ChainKind.SPINE), ("thorax", ChainKind.SPINE), ("waist", ChainKind.SPINE),
    ("thigh", ChainKind.LEG), ("leg", ChainKind.LEG), ("shin", ChainKind.LEG), ("calf", ChainKind.LEG),
    ("foot", ChainKind.LEG), ("paw", ChainKind.LEG), ("hoof", ChainKind.LEG), ("knee", ChainKind.LEG),
    ("femur", ChainKind.LEG), ("tibia", ChainKind.LEG), ("tarsus", ChainKind.LEG), ("coxa", ChainKind.LEG),
    ("arm", ChainKind.ARM), ("shoulder", ChainKind.ARM), ("clavicle", ChainKind.ARM), ("scapula", ChainKind.ARM),
    ("hand", ChainKind.ARM), ("elbow", ChainKind.ARM), ("wrist", ChainKind.ARM), ("collar", ChainKind.ARM),
)
# Limb part words -> the performer joint part they correspond to (anchors for resampling).
_PARTS: tuple[tuple[str, str], ...] = (
    ("forearm", "lower_arm"), ("lowerarm", "lower_arm"), ("elbow", "lower_arm"), ("upperarm", "upper_arm"),
    ("humerus", "upper_arm"), ("shldr", "upper_arm"), ("hand", "hand"), ("wrist", "hand"), ("clavicle", "collar"),
    ("collar", "collar"), ("scapula", "collar"), ("shoulder", "collar"), ("upperleg", "upper_leg"), ("upleg", "upper_leg"),
    ("thigh", "upper_leg"), ("lowerleg", "lower_leg"), ("shin", "lower_leg"), ("calf", "lower_leg"), ("knee", "lower_leg"),
    ("foot", "foot"), ("ankle", "foot"), ("paw", "foot"), ("toe", "toe"),
)


@dataclass(frozen=True)
class Chain:
    """One chain of a skeleton.

    Attributes:
        joints: joint indices from the attachment to the tip.
        kind: a :class:`ChainKind` value.
        side: ``"left"``, ``"right"`` or ``None`` (centre).
    """

    joints: tuple[int, ...]
    kind: str
    side: str | None

    @property
    def tip(self) -> int:
        return self.joints[-1]


def joint_part(name: str) -> str | None:
    """The limb part a joint name denotes (``"upper_arm"``, ``"foot"`` ...), or None."""
    low = re.sub(r"[^a-z]", "", name.lower())
    for word, part in _PARTS:
        if word in low:
            return part
    return None


def rig_forward(skeleton: Skeleton) -> np.ndarray:
    """The rig's facing at rest, a horizontal unit vector (+Z when nothing says otherwise).

    Taken from the root toward the joint named ``head`` (or the tip of the deepest ``neck`` joint).
    """
    rest = skeleton.rest_positions()
    heads = [j for j, n in enumerate(skeleton.names) if "head" in n.lower() and "end" not in n.lower()]
    if heads:
        d = rest[min(heads, key=lambda j: skeleton.depths()[j])] - rest[0]
        d[1] = 0.0
        if np.linalg.norm(d) > 0.25 * skeleton.height:
            return d / np.linalg.norm(d)
    return np.array([0.0, 0.0, 1.0])


def _raw_chains(skeleton: Skeleton) -> list[list[int]]:
    chains: list[list[int]] = []
    for root in skeleton.roots:
        stack = [[root]]
        while stack:
            chain = stack.pop()
            while True:
                kids = skeleton.children(chain[-1])
                if len(kids) == 1:
                    chain.append(kids[0])
                    continue
                chains.append(chain)
                for k in reversed(kids):
                    stack.append([chain[-1], k])
                break
    return chains


def _side(skeleton: Skeleton, chain: list[int], rest: np.ndarray, forward: np.ndarray) -> str | None:
    votes = [split_side(skeleton.names[j])[0] for j in chain[1:]]
    left, right = votes.count("Left"), votes.count("Right")
    if left != right:
        return "left" if left > right else "right"
    lateral = np.cross([0.0, 1.0, 0.0], forward)  # the rig's left
    x = float(np.dot(rest[chain[-1]] - rest[chain[0]], lateral))
    if abs(x) < 0.05 * skeleton.height:
        return None
    return "left" if x > 0 else "right"


def _kind(skeleton: Skeleton, chain: list[int], rest: np.ndarray, forward: np.ndarray, side: str | None) -> str:
    votes: dict[str, int] = {}
    for j in chain[1:] or chain:
        low = skeleton.names[j].lower()
        for word, kind in _KEYWORDS:
            if word in low:
                votes[kind] = votes.get(kind, 0) + 1
                break
    if votes:
        kind = max(votes, key=lambda k: (votes[k], -[kk for _, kk in _KEYWORDS].index(k)))
    else:
        d = rest[chain[-1]] - rest[chain[0]]
        h = skeleton.height
        if d[1] < -0.5 * np.linalg.norm(d):
            kind = ChainKind.LEG
        elif side is not None:
            kind = ChainKind.ARM
        elif np.dot(d, forward) < -0.2 * h:
            kind = ChainKind.TAIL
        elif np.dot(d, forward) > 0.2 * h or d[1] > 0:
            kind = ChainKind.NECK
        else:
            kind = ChainKind.OTHER
    if kind in (ChainKind.LEG, ChainKind.ARM):
        names = " ".join(skeleton.names[j].lower() for j in chain[1:])
        if re.search(r"front|fore(?!arm)", names):
            kind = ChainKind.FORELEG
        elif kind == ChainKind.LEG and re.search(r"hind|back|rear", names):
            kind = ChainKind.HINDLEG
    return kind


def find_chains(skeleton: Skeleton) -> list[Chain]:
    """Every chain of ``skeleton`` with its kind and side (attachment first, depth-first order)."""
    rest = skeleton.rest_positions()
    forward = rig_forward(skeleton)
    out = []
    for chain in _raw_chains(skeleton):
        if len(chain) < 2:
            continue
        side = _side(skeleton, chain, rest, forward)
        out.append(Chain(tuple(chain), _kind(skeleton, chain, rest, forward, side), side))
    return out
