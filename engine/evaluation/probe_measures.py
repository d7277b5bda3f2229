"""What an authored probe motion did to a rig: which joint to read, its angle about each axis, gain, leakage, jumps.

Where a probe is read on a rig (:func:`probe_joints`) comes from the rig's retarget map, so it works
on any topology: the head probes read the head joint (the ``head`` chain's first joint, else the
``neck`` chain's last) relative to where the neck chain attaches; the torso twist reads the top of
the ``spine`` chain relative to its bottom; the arm raises read the ``left_arm`` chain's upper-arm
joint (the one named for it, as the retargeter anchors it, e.g. a dragon's ``WingUpperArm``, a bird's
``WingHumerus``; else the chain's second joint) relative to the body joint it hangs from; the
pronation reads the chain's forearm joint (named ``lower_arm``, else the third) relative to its parent.

The reading (:func:`relative_rotation`) is the joint's rotation relative to its base joint, as a
change from the rig's reference pose, expressed in world axes at the reference pose:
``D = W_b^ref (rel rel_ref^-1) (W_b^ref)^-1`` with ``rel = W_b^-1 W_j``. The probe is scored on the
change from the rig's own neutral (``D D0^-1``, ``D0`` = the mean reading over the frames where the
authored angle is near zero, :func:`neutral_offset`; its angle is reported as
``neutral_offset_deg``: how far the rig's neutral sits from its reference pose). Its rotation vector,
projected on the probe's axis and the two axes orthogonal to it, gives the angle per axis
(:func:`axis_angles_deg`). World axes are turned from the performer's facing (+Z) to the rig's
(the map's ``forward``), so axis conventions of the rig's joints never matter.

The arm raises are read from where the upper-arm bone points instead (:func:`bone_angles_deg`):
the angle it swept about the probe axis, how far it left the plane of the raise (``out_of_plane``)
and its twist about itself (``twist``), so a raise that arrives with the wrong twist still counts as
a raise and the twist shows as leakage. The raise's axis is the performer's (side: +Z, front: -X)
turned by the retargeter's alignment of that bone (:func:`_arm_alignment`): a wing at rest
sideways, driven from the relaxed arm, rises about the forward axis with a side raise and sweeps
forward about the vertical with a front raise. (Read about the performer's own axis, a front raise
on such a wing was undefined: the bone lies along that axis.)

Scores (:func:`probe_scores`), over the frames with a result:

- ``gain``: least-squares slope of the measured angle about the probe axis on the authored angle
  (1 = carried fully, 0 = not at all, negative = the wrong way);
- ``amplitude_ratio``: std of the measured angle / std of the authored one;
- ``leakage``: per other axis, std of the measured angle about it / std of the authored angle;
- ``correlation``: Pearson r of measured and authored angle;
- ``max_step_deg``: largest change of the reading between consecutive frames (geodesic);
- ``monotone_fraction``: of the frame steps where the authored angle changes by more than 0.5
  degrees, the share where the measured angle moves the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine import rotations as rot
from engine.evaluation.probe_motions import WORLD_AXES, ProbeSpec
from engine.kinematics import forward_kinematics
from engine.retarget.chains import joint_part
from engine.retarget.mapping import RetargetMap
from engine.skeleton import Skeleton

__all__ = [
    "ProbeJoints",
    "axis_angles_deg",
    "bone_angles_deg",
    "count_jumps",
    "neutral_offset",
    "probe_joints",
    "probe_scores",
    "relative_rotation",
    "rest_scores",
    "rotation_jitter_deg_s2",
]

_AXIS_NAMES = {"yaw": ("yaw", "pitch", "roll"), "pitch": ("pitch", "yaw", "roll"), "roll": ("roll", "yaw", "pitch"),
               "side": ("side", "front", "twist"), "front": ("front", "side", "twist"), "twist": ("twist", "swing_a", "swing_b")}


@dataclass(frozen=True)
class ProbeJoints:
    """Where a probe is read on one rig.

    Attributes:
        joint: the joint whose rotation is read.
        base: the joint it is read relative to.
        axes: ``(3, 3)`` rows: the probe axis, then two axes orthogonal to it (world, reference pose).
        axis_names: names of the three rows.
        bone: ``(3,)`` for the arm raises: the joint's bone direction at the reference pose (world);
            the raise is then read from where the bone points (see :func:`probe_scores`).
    """

    joint: int
    base: int
    axes: np.ndarray
    axis_names: tuple[str, str, str]
    bone: np.ndarray | None = None


def _chain(retarget_map: RetargetMap, source: str) -> list[str] | None:
    """Target joints of the first non-mirrored ``direct`` chain driven by performer chain ``source``."""
    for c in retarget_map.chains:
        if c.rule == "direct" and c.source == source and not c.mirror:
            return list(c.target)
    return None


def _facing_turn(forward) -> np.ndarray:
    """``(3, 3)`` the yaw taking the performer's facing (+Z) to the rig's ``forward``."""
    f = np.asarray(forward, dtype=np.float64) * [1.0, 0.0, 1.0]
    if np.linalg.norm(f) < 1e-9:
        return np.eye(3)
    f /= np.linalg.norm(f)
    return rot.quat_to_matrix(rot.quat_between(np.array([0.0, 0.0, 1.0]), f))


def _frame_axes(primary: np.ndarray, named: str) -> tuple[np.ndarray, tuple[str, str, str]]:
    """The probe axis and two orthogonal axes (named world axes where they exist)."""
    names = _AXIS_NAMES[named]
    primary = primary / np.linalg.norm(primary)
    if all(n in WORLD_AXES for n in names[1:]):
        others = [WORLD_AXES[n] for n in names[1:]]
    else:  # around a bone axis (or side/front plus the upper arm's twist): any orthonormal pair
        helper = np.array([0.0, 1.0, 0.0]) if abs(primary[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
        a = np.cross(primary, helper)
        a /= np.linalg.norm(a)
        others = [a, np.cross(primary, a)]
    return np.stack([primary, *others]), names


def _arm_part(chain: list[str], part: str) -> int | None:
    """Index in an arm chain of the joint that aims the performer's ``upper_arm`` (or ``forearm``) bone.

    The joint named for that part (:func:`engine.retarget.chains.joint_part`, as the retargeter
    anchors it: a dragon's ``WingUpperArm``, a bird's ``WingHumerus``), else the chain's second
    (third) joint; ``None`` when the chain is too short to have a bone after it.
    """
    want = "upper_arm" if part == "upper_arm" else "lower_arm"
    named = [i for i, n in enumerate(chain[:-1]) if joint_part(n) == want]
    i = named[0] if named else (1 if part == "upper_arm" else 2)
    return i if i + 1 < len(chain) else None


def _arm_alignment(skeleton: Skeleton, retarget_map: RetargetMap, joint: int, child: int, turn: np.ndarray) -> np.ndarray:
    """``(3, 3)`` the retargeter's alignment of the upper-arm bone (performer frame): the shortest
    turn from the performer's upper arm in the chain's source pose onto the rig's rest bone.

    The retargeter gives the rig bone ``A d`` for a performer direction ``d``, so a raise about
    the performer's axis ``a`` arrives as a turn about ``A a``: a dragon's wing (at rest sideways,
    driven from the relaxed arm) sweeps forward about the vertical when the arm rises to the front.
    Identity where the rig's bone rests as the performer's (a humanoid's arm, a foreleg).
    """
    from engine.performer import performer_arms_down_positions, performer_index, performer_rest_positions

    source_pose = next((c.source_pose for c in retarget_map.chains if c.rule == "direct" and c.source == "left_arm" and not c.mirror), "t_pose")
    perf = performer_arms_down_positions() if source_pose == "arms_down" else performer_rest_positions()
    ref_dir = perf[performer_index("left_lower_arm")] - perf[performer_index("left_upper_arm")]
    _, rest_pos = forward_kinematics(skeleton.parents, rot.quat_to_matrix(skeleton.rest_rotations), skeleton.rest_translations)
    rest_dir = turn.T @ (rest_pos[child] - rest_pos[joint])
    if np.linalg.norm(rest_dir) < 1e-9:
        return np.eye(3)
    return rot.quat_to_matrix(rot.quat_between(ref_dir / np.linalg.norm(ref_dir), rest_dir / np.linalg.norm(rest_dir)))


def probe_joints(skeleton: Skeleton, retarget_map: RetargetMap, reference_rotations: np.ndarray, spec: ProbeSpec) -> ProbeJoints | None:
    """Where ``spec`` is read on this rig, or ``None`` when the rig has no corresponding part (e.g. no arm chain)."""
    idx = skeleton.index
    spine, neck, head = _chain(retarget_map, "spine"), _chain(retarget_map, "neck"), _chain(retarget_map, "head")
    arm = _chain(retarget_map, "left_arm")
    turn = _facing_turn(retarget_map.forward)
    _, ref_pos = forward_kinematics(skeleton.parents, rot.quat_to_matrix(reference_rotations), skeleton.rest_translations)
    body = {idx(n) for c in (spine, neck) if c for n in c} | set(skeleton.roots)
    if spec.part == "head":
        joint = idx(head[0]) if head else (idx(neck[-1]) if neck else None)
        if joint is None:
            return None
        base = idx(neck[0]) if neck else skeleton.parents[joint]
        axis = turn @ WORLD_AXES[spec.axis]
    elif spec.part == "torso":
        if not spine:
            return None
        joint, base, axis = idx(spine[-1]), idx(spine[0]), turn @ WORLD_AXES[spec.axis]
    elif spec.part in ("upper_arm", "forearm"):
        part = _arm_part(arm, spec.part) if arm else None
        if part is None:
            return None
        joint, child = idx(arm[part]), idx(arm[part + 1])
        if spec.part == "upper_arm":
            base = next((a for a in skeleton.chain_to_root(joint)[1:] if a in body), skeleton.parents[joint])
            axis = turn @ _arm_alignment(skeleton, retarget_map, joint, child, turn) @ WORLD_AXES[spec.axis]
            bone = ref_pos[child] - ref_pos[joint]
        else:
            base = skeleton.parents[joint]
            axis = ref_pos[child] - ref_pos[joint]
            if np.linalg.norm(axis) < 1e-9:
                return None
    else:
        return None
    if base < 0:
        return None
    axes, names = _frame_axes(np.asarray(axis, dtype=np.float64), spec.axis)
    if spec.part == "upper_arm":
        if np.linalg.norm(bone) < 1e-9:
            return None
        return ProbeJoints(int(joint), int(base), axes, ("raise", "out_of_plane", "twist"), bone / np.linalg.norm(bone))
    return ProbeJoints(int(joint), int(base), axes, names)


def relative_rotation(skeleton: Skeleton, rotations: np.ndarray, reference_rotations: np.ndarray, joint: int, base: int) -> np.ndarray:
    """``(T, 4)`` the change of ``joint``'s rotation relative to ``base`` from the reference pose, in world axes at the reference."""
    parents = skeleton.parents
    world = rot.matrix_to_quat(forward_kinematics(parents, rot.quat_to_matrix(rotations), skeleton.rest_translations)[0])
    ref = rot.matrix_to_quat(forward_kinematics(parents, rot.quat_to_matrix(reference_rotations), skeleton.rest_translations)[0])
    inv = rot.quat_conjugate
    rel = rot.quat_multiply(inv(world[:, base]), world[:, joint])
    rel_ref = rot.quat_multiply(inv(ref[base]), ref[joint])
    local = rot.quat_multiply(rel, inv(rel_ref))
    return rot.quat_normalize(rot.quat_multiply(rot.quat_multiply(ref[base], local), inv(ref[base])))


def axis_angles_deg(delta: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """``(T, 3)`` the rotation vector of ``delta`` ``(T, 4)`` on each row of ``axes``, degrees."""
    return np.degrees(rot.quat_to_axis_angle(delta) @ np.asarray(axes, dtype=np.float64).T)


def _steps_deg(delta: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Geodesic change between consecutive frames that both have a result, degrees."""
    both = valid[1:] & valid[:-1]
    return np.degrees(rot.quat_geodesic_angle(delta[:-1], delta[1:]))[both]


def neutral_offset(delta: np.ndarray, authored_deg: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """``(4,)`` the mean reading over the valid frames where the authored angle is within 10 % of its peak of zero."""
    peak = float(np.abs(authored_deg).max()) if len(authored_deg) else 0.0
    near = np.asarray(valid, dtype=bool) & (np.abs(authored_deg) <= 0.1 * peak)
    if not near.any():
        return rot.quat_identity()
    q = delta[near]
    q = np.where((q @ q[0])[:, None] < 0, -q, q)
    return rot.quat_normalize(q.mean(0))


def bone_angles_deg(delta: np.ndarray, bone: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """``(T, 3)`` where the bone ``bone`` (its neutral direction) points after ``delta`` ``(T, 4)``, degrees.

    Columns: the signed angle it swept about ``axis`` (in the plane normal to it, unwrapped), how far
    it left that plane (elevation change), and its twist about itself beyond what a pure turn about
    ``axis`` gives (swing-twist split of ``delta``).
    """
    axis = axis / np.linalg.norm(axis)
    v = rot.quat_apply(delta, np.broadcast_to(bone, delta.shape[:-1] + (3,)))
    flat = lambda u: u - (u @ axis)[..., None] * axis  # noqa: E731
    v0, vf = flat(bone), flat(v)
    swept = np.unwrap(np.arctan2(np.cross(v0, vf) @ axis, vf @ v0))
    out_of_plane = np.arcsin(np.clip(v @ axis, -1.0, 1.0)) - np.arcsin(np.clip(bone @ axis, -1.0, 1.0))
    # Twist: against a pure turn about the axis by the swept angle (which has a twist of its own
    # when the axis is not normal to the bone), so a raise exactly about the axis reads zero.
    ideal = rot.axis_angle_to_quat(swept[..., None] * axis)
    twist_angle = _twist_angle(delta, bone) - _twist_angle(ideal, bone)
    return np.degrees(np.stack([swept, out_of_plane, np.arctan2(np.sin(twist_angle), np.cos(twist_angle))], axis=-1))


def _twist_angle(q: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Signed angle of the twist part of ``q`` about ``axis`` (swing-twist split), radians."""
    _, twist = rot.swing_twist(q, axis)
    return 2.0 * np.arctan2(twist[..., :3] @ axis, twist[..., 3])


def probe_scores(authored_deg: np.ndarray, delta: np.ndarray, axes: np.ndarray, axis_names: tuple[str, str, str], valid: np.ndarray,
                 bone: np.ndarray | None = None) -> dict:
    """Gain, amplitude ratio, leakage, correlation, largest step and monotonicity (see the module docstring).

    With ``bone`` (arm raises) the reading is where the bone points (:func:`bone_angles_deg`), not the
    rotation vector, so a twist about the arm does not count as a smaller raise (it is its own column).
    """
    valid = np.asarray(valid, dtype=bool)
    authored_deg = np.asarray(authored_deg, dtype=np.float64)
    offset = neutral_offset(delta, authored_deg, valid)
    delta = rot.quat_multiply(delta, rot.quat_conjugate(offset))
    if axis_names[0] == "twist":  # about the bone as it lies in the rig's neutral, not in its reference
        axes = np.asarray(axes, dtype=np.float64) @ rot.quat_to_matrix(offset).T
    if bone is not None:
        measured = bone_angles_deg(delta, rot.quat_apply(offset, bone), axes[0])
    else:
        measured = axis_angles_deg(delta, axes)
    steps = _steps_deg(delta, valid)
    a, m = authored_deg[valid], measured[valid]
    out: dict = {"frames_scored": int(valid.sum()), "max_step_deg": float(steps.max()) if len(steps) else float("nan"),
                 "neutral_offset_deg": float(np.degrees(rot.quat_geodesic_angle(offset, rot.quat_identity())))}
    sa = float(a.std()) if len(a) > 1 else 0.0
    if sa < 1e-9:
        return out | {"gain": None, "amplitude_ratio": None, "leakage": None, "leakage_max": None, "correlation": None, "monotone_fraction": None}
    ac = a - a.mean()
    mc = m - m.mean(0)
    gain = float(ac @ mc[:, 0] / (ac @ ac))
    sm = float(mc[:, 0].std())
    leakage = {axis_names[k]: float(mc[:, k].std() / sa) for k in (1, 2)}
    da = np.diff(np.asarray(authored_deg, dtype=np.float64))
    dm = np.diff(measured[:, 0])
    moving = (np.abs(da) > 0.5) & valid[1:] & valid[:-1]
    mono = float(np.mean(np.sign(dm[moving]) == np.sign(da[moving]))) if moving.any() else None
    return out | {"gain": gain, "amplitude_ratio": sm / sa, "leakage": leakage, "leakage_max": max(leakage.values()),
                  "correlation": float(ac @ mc[:, 0] / max(np.linalg.norm(ac) * np.linalg.norm(mc[:, 0]), 1e-12)),
                  "monotone_fraction": mono}


def count_jumps(rotations: np.ndarray, valid: np.ndarray | None = None, threshold_deg: float = 90.0) -> dict:
    """Frames where some joint's local rotation turns more than ``threshold_deg`` since the previous frame.

    Returns ``{"frames": n, "max_deg": largest step, "joints": {joint index: frames}}`` over
    consecutive frame pairs that both have a result.
    """
    q = np.asarray(rotations, dtype=np.float64)
    valid = np.ones(len(q), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if len(q) < 2:
        return {"frames": 0, "max_deg": 0.0, "joints": {}}
    step = np.degrees(rot.quat_geodesic_angle(q[:-1], q[1:]))  # (T-1, J)
    step[~(valid[1:] & valid[:-1])] = 0.0
    over = step > threshold_deg
    per_joint = over.sum(0)
    return {"frames": int(over.any(1).sum()), "max_deg": float(step.max()) if step.size else 0.0,
            "joints": {int(j): int(n) for j, n in enumerate(per_joint) if n}}


def rotation_jitter_deg_s2(rotations: np.ndarray, valid: np.ndarray, fps: float) -> float:
    """Mean angular acceleration of the local rotations ``(T, J, 4)`` over runs of valid frames, degrees/s^2."""
    q = np.asarray(rotations, dtype=np.float64)
    valid = np.asarray(valid, dtype=bool)
    if len(q) < 3:
        return float("nan")
    omega = rot.quat_to_axis_angle(rot.quat_multiply(q[1:], rot.quat_conjugate(q[:-1]))) * fps  # (T-1, J, 3) rad/s, world-ish
    alpha = np.linalg.norm(omega[1:] - omega[:-1], axis=-1) * fps  # (T-2, J)
    ok = valid[2:] & valid[1:-1] & valid[:-2]
    return float(np.degrees(alpha[ok].mean())) if ok.any() else float("nan")


def rest_scores(skeleton: Skeleton, retarget_map: RetargetMap, rotations: np.ndarray, reference_rotations: np.ndarray,
                valid: np.ndarray) -> dict:
    """For the relaxed-arms probe: how far the arm-driven chains and the whole rig stray from the reference pose.

    Returns ``rest_deviation_deg`` (mean geodesic angle of the local rotations from the reference over all
    joints), ``arm_chain_deviation_deg`` (the same over the joints the arm chains drive) and
    ``arm_lowest_below_feet_m`` (95th percentile over frames of how far the lowest joint of an
    arm-driven limb, wing fingers included, is below the lowest joint of a leg-driven chain, or below
    the rig's lowest reference joint; > 0 = through the floor) and ``arm_below_feet_fraction`` (share
    of frames where it is more than 5 cm below).
    """
    valid = np.asarray(valid, dtype=bool)
    q = np.asarray(rotations, dtype=np.float64)[valid]
    if not len(q):
        return {"rest_deviation_deg": None, "arm_chain_deviation_deg": None, "arm_lowest_below_feet_m": None}
    dev = np.degrees(rot.quat_geodesic_angle(q, np.asarray(reference_rotations, dtype=np.float64)[None]))  # (T, J)
    arm_roots = {skeleton.index(c.target[1]) for c in retarget_map.chains if c.rule == "direct" and c.source and c.source.endswith("_arm")}
    arm = [j for j in range(skeleton.num_joints) if arm_roots & set(skeleton.chain_to_root(j))]  # the limbs and all below (wing fingers)
    legs = sorted({skeleton.index(n) for c in retarget_map.chains if c.rule == "direct" and c.source and c.source.endswith("_leg")
                   for n in c.target[1:]} - set(arm))
    _, pos = forward_kinematics(skeleton.parents, rot.quat_to_matrix(q), skeleton.rest_translations)
    _, ref_pos = forward_kinematics(skeleton.parents, rot.quat_to_matrix(reference_rotations), skeleton.rest_translations)
    floor = pos[:, legs, 1].min(1) if legs else np.full(len(q), ref_pos[:, 1].min())
    below = (floor - pos[:, arm, 1].min(1)) if arm else None
    return {"rest_deviation_deg": float(dev.mean()), "arm_chain_deviation_deg": float(dev[:, arm].mean()) if arm else None,
            "arm_lowest_below_feet_m": float(np.percentile(below, 95)) if below is not None else None,
            "arm_below_feet_fraction": float(np.mean(below > 0.05)) if below is not None else None}
