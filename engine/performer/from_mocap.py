"""Canonical performer positions from humanoid motion capture (training targets, simulator input).

A humanoid clip (any naming convention :mod:`engine.retarget.humanoid_names` recognises) gives
the performer's limb joints directly; the points a mocap skeleton lacks are synthesised from
its joints' world rotations:

- ``head`` (middle of the ears) and ``head_end`` (nose): fixed offsets in the head joint's frame,
  calibrated on the first frame, where the head is assumed to look straight ahead of the torso;
- ``hand_end``: 8.5 cm (scaled) from the wrist toward the hand's descendants (or along the forearm);
- ``thumb``: the hand descendant named ``thumb`` nearest 3 cm from the wrist, else an offset
  calibrated on the first frame (thumb forward of the hand, palms down or in);
- ``toe``: the end of the toe chain (tip of the foot); ``heel``: an offset in the foot's frame.

Sizes scale with the performer's torso: ``s = |neck - pelvis| / 0.5 m``. The offsets were set to
match what MediaPipe full reports on the shared videos (median ear-centre -> nose 13 cm, wrist ->
thumb point 2 cm, ankle -> heel 5 cm).
"""

from __future__ import annotations

import numpy as np

from engine.performer import NUM_PERFORMER_JOINTS, performer_index
from engine.retarget.humanoid_names import find_humanoid_bones
from engine.rig import Clip
from engine.skeleton import Skeleton

__all__ = ["performer_positions_from_mocap", "MocapError"]


class MocapError(ValueError):
    """A skeleton that cannot drive the performer (names the missing humanoid bones)."""


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _descendants(skeleton: Skeleton, j: int) -> list[int]:
    anc = skeleton.ancestor_mask()
    return [int(k) for k in np.flatnonzero(anc[:, j]) if k != j]


def _attach(world_r: np.ndarray, world_p: np.ndarray, j: int, point0: np.ndarray) -> np.ndarray:
    """Track a point rigidly attached to joint ``j``, given its position at frame 0: ``(T, 3)``."""
    local = world_r[0, j].T @ (point0 - world_p[0, j])
    return world_p[:, j] + np.einsum("tab,b->ta", world_r[:, j], local)


def performer_positions_from_mocap(skeleton: Skeleton, clip: Clip, bones: dict[str, str] | None = None) -> np.ndarray:
    """``(T, 28, 3)`` performer positions of every frame of a humanoid clip, metres, the clip's world frame.

    Args:
        skeleton: the clip's skeleton.
        clip: the motion.
        bones: Unity ``HumanBodyBones`` -> joint name; found by name when omitted.

    Raises:
        MocapError: the skeleton lacks a bone the performer needs (named in the message).
    """
    if bones is None:
        bones = find_humanoid_bones(skeleton).bones
    need = ["Head", *(f"{s}{b}" for s in ("Left", "Right") for b in ("UpperArm", "LowerArm", "Hand", "UpperLeg", "LowerLeg", "Foot"))]
    missing = [b for b in need if b not in bones]
    if missing:
        raise MocapError(f"skeleton with root {skeleton.names[0]!r} lacks humanoid bones {missing}")
    idx = {role: skeleton.index(name) for role, name in bones.items()}
    world_r, world_p = clip.world(skeleton)  # (T, J, 3, 3), (T, J, 3)
    T = world_p.shape[0]
    out = np.zeros((T, NUM_PERFORMER_JOINTS, 3))

    def put(name: str, value: np.ndarray) -> None:
        out[:, performer_index(name)] = value

    P = lambda role: world_p[:, idx[role]]  # noqa: E731  (T, 3)
    pelvis = 0.5 * (P("LeftUpperLeg") + P("RightUpperLeg"))
    neck = 0.5 * (P("LeftUpperArm") + P("RightUpperArm"))
    s = float(np.median(np.linalg.norm(neck - pelvis, axis=-1))) / 0.5
    put("pelvis", pelvis)
    put("spine", pelvis + (neck - pelvis) / 3.0)
    put("chest", pelvis + (neck - pelvis) * 2.0 / 3.0)
    put("neck", neck)
    # Body frame at frame 0: x = left, y = up, z = forward.
    left0 = _normalize(P("LeftUpperLeg")[0] - P("RightUpperLeg")[0])
    up0 = _normalize(neck[0] - pelvis[0])
    left0 = _normalize(left0 - np.dot(left0, up0) * up0)
    fwd0 = np.cross(left0, up0)
    head = idx["Head"]
    neck_joint = idx.get("Neck", skeleton.parents[head])
    head_up0 = _normalize(world_p[0, head] - (world_p[0, neck_joint] if neck_joint >= 0 else neck[0]))
    head_fwd0 = _normalize(fwd0 - np.dot(fwd0, head_up0) * head_up0)
    put("head", _attach(world_r, world_p, head, world_p[0, head] + s * 0.05 * head_up0))
    put("head_end", _attach(world_r, world_p, head, world_p[0, head] + s * (0.03 * head_up0 + 0.125 * head_fwd0)))
    for side in ("Left", "Right"):
        low = side.lower()
        shoulder = P(f"{side}UpperArm")
        put(f"{low}_collar", neck + 0.25 * (shoulder - neck))
        put(f"{low}_upper_arm", shoulder)
        put(f"{low}_lower_arm", P(f"{side}LowerArm"))
        hand = idx[f"{side}Hand"]
        wrist = world_p[:, hand]
        put(f"{low}_hand", wrist)
        kids = _descendants(skeleton, hand)
        if kids:
            along = _normalize(world_p[:, kids].mean(axis=1) - wrist)
        else:
            along = _normalize(wrist - P(f"{side}LowerArm"))
        put(f"{low}_hand_end", wrist + s * 0.085 * along)
        thumbs = [k for k in kids if "thumb" in skeleton.names[k].lower()]
        if thumbs:
            # Candidates: thumb joints and their end sites; BlazePose's thumb point is about 3 cm from the wrist.
            tracks = [world_p[:, k] for k in thumbs]
            for e, j in enumerate(skeleton.end_site_joints):
                if int(j) in thumbs:
                    tracks.append(world_p[:, j] + np.einsum("tab,b->ta", world_r[:, j], skeleton.end_site_offsets[e]))
            # A thumb joint sitting on the wrist (CMU's LThumb) is no use: rank those last.
            dist = [abs(np.linalg.norm(tr[0] - wrist[0]) - 0.03 * s) + (np.linalg.norm(tr[0] - wrist[0]) < 0.01 * s)
                    for tr in tracks]
            put(f"{low}_thumb", tracks[int(np.argmin(dist))])
        else:
            thumb0 = wrist[0] + s * (0.02 * along[0] + 0.02 * fwd0 - 0.01 * up0)
            put(f"{low}_thumb", _attach(world_r, world_p, hand, thumb0))
        put(f"{low}_upper_leg", P(f"{side}UpperLeg"))
        put(f"{low}_lower_leg", P(f"{side}LowerLeg"))
        foot = idx[f"{side}Foot"]
        put(f"{low}_foot", world_p[:, foot])
        toe_role = f"{side}Toes"
        if toe_role in idx:
            tip_joint = idx[toe_role]
            chain = [tip_joint]
            while len(skeleton.children(chain[-1])) == 1:
                chain.append(skeleton.children(chain[-1])[0])
            ends = np.flatnonzero(skeleton.end_site_joints == chain[-1])
            if len(ends):
                mats = world_r[:, chain[-1]]
                tip = world_p[:, chain[-1]] + np.einsum("tab,b->ta", mats, skeleton.end_site_offsets[ends[0]])
            else:
                tip = world_p[:, chain[-1]]
            if np.linalg.norm(tip[0] - world_p[0, foot]) < 0.03 * s:  # degenerate: extend along the foot
                tip = _attach(world_r, world_p, foot, world_p[0, foot] + s * 0.16 * fwd0 - s * 0.08 * up0)
        else:
            tip = _attach(world_r, world_p, foot, world_p[0, foot] + s * (0.16 * fwd0 - 0.08 * up0))
        put(f"{low}_toe", tip)
        put(f"{low}_heel", _attach(world_r, world_p, foot, world_p[0, foot] + s * (-0.035 * fwd0 - 0.035 * up0)))
    return out
