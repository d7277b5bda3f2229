"""Probe readings on rigs: the authored motion, read back on the humanoid, scores gain 1 with no leakage; the scores can fail."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.evaluation.probe_measures import count_jumps, probe_joints, probe_scores, relative_rotation, rest_scores, rotation_jitter_deg_s2
from engine.evaluation.probe_motions import PROBES, author_probe, probe_spec
from engine.retarget.mapping import suggest_map
from engine.rigs.bundled import build_rig, load_bundled_rig


@pytest.fixture(scope="module")
def humanoid():
    rig = build_rig("humanoid").rig
    return rig, dict(rig.humanoid), suggest_map(rig.skeleton, rig.name)


@pytest.mark.parametrize("spec", [p for p in PROBES if p.part != "none"], ids=lambda p: p.name)
def test_authored_probe_reads_back_with_gain_one_and_no_leakage(humanoid, spec) -> None:
    rig, bones, rmap = humanoid
    motion = author_probe(rig.skeleton, bones, spec, 40)
    assert motion.clip.rotations.shape == (40, rig.skeleton.num_joints, 4)
    assert np.abs(motion.angle_deg).max() == pytest.approx(spec.amplitude_deg, rel=0.02)
    where = probe_joints(rig.skeleton, rmap, rig.reference_rotations(), spec)
    delta = relative_rotation(rig.skeleton, motion.clip.rotations, rig.reference_rotations(), where.joint, where.base)
    s = probe_scores(motion.angle_deg, delta, where.axes, where.axis_names, np.ones(40, bool), where.bone)
    assert s["gain"] == pytest.approx(1.0, abs=1e-6)
    assert s["leakage_max"] < 1e-6, s["leakage"]
    assert s["monotone_fraction"] == 1.0
    assert count_jumps(motion.clip.rotations)["frames"] == 0


def test_scores_see_a_rig_that_turns_half_as_far_about_the_wrong_axis(humanoid) -> None:
    """Half the yaw, plus a roll as large as the yaw: gain 0.5, roll leakage 1.0 (the metric can fail)."""
    rig, bones, rmap = humanoid
    spec = probe_spec("head_yaw")
    motion = author_probe(rig.skeleton, bones, spec, 60)
    where = probe_joints(rig.skeleton, rmap, rig.reference_rotations(), spec)
    a = np.radians(motion.angle_deg)[:, None]
    delta = rot.quat_multiply(rot.axis_angle_to_quat(0.5 * a * [0.0, 1.0, 0.0]), rot.axis_angle_to_quat(a * [0.0, 0.0, 1.0]))
    s = probe_scores(motion.angle_deg, delta, where.axes, where.axis_names, np.ones(60, bool))
    assert s["gain"] == pytest.approx(0.5, abs=0.05)
    assert s["leakage"]["roll"] == pytest.approx(1.0, abs=0.1)
    assert s["leakage"]["pitch"] < 0.15


@pytest.mark.parametrize("rig_name,head,base", [("dragon", "Head", "Chest"), ("quadruped", "Head", "Chest"), ("snake", "Head", "Spine01")])
def test_probe_joints_come_from_the_retarget_map(rig_name, head, base) -> None:
    rig = load_bundled_rig(rig_name)
    rmap = suggest_map(rig.skeleton, rig.name)
    where = probe_joints(rig.skeleton, rmap, rig.reference_rotations(), probe_spec("head_yaw"))
    assert (rig.skeleton.names[where.joint], rig.skeleton.names[where.base]) == (head, base)
    np.testing.assert_allclose(where.axes @ where.axes.T, np.eye(3), atol=1e-9)
    arm = probe_joints(rig.skeleton, rmap, rig.reference_rotations(), probe_spec("arm_side_raise"))
    assert (arm is None) == (rig_name == "snake")  # the snake has no arm-driven chain


def test_jumps_and_jitter_count_what_they_say() -> None:
    T, J = 10, 3
    q = np.tile(rot.quat_identity(), (T, J, 1))
    q[5:, 1] = rot.axis_angle_to_quat(np.array([0.0, np.radians(120), 0.0]))  # one 120-degree flip at frame 5
    jumps = count_jumps(q)
    assert jumps["frames"] == 1 and jumps["joints"] == {1: 1} and jumps["max_deg"] == pytest.approx(120.0)
    valid = np.ones(T, bool)
    valid[5] = False  # the flip falls between a frame without a result and the next: not counted
    assert count_jumps(q, valid)["frames"] == 0
    still = np.tile(rot.quat_identity(), (T, J, 1))
    assert rotation_jitter_deg_s2(still, np.ones(T, bool), 30.0) == 0.0
    assert rotation_jitter_deg_s2(q, np.ones(T, bool), 30.0) > 0.0


def test_rest_scores_see_wings_through_the_floor() -> None:
    rig = load_bundled_rig("dragon")
    rmap = suggest_map(rig.skeleton, rig.name)
    ref = rig.reference_rotations()
    ok = rest_scores(rig.skeleton, rmap, ref[None], ref, np.ones(1, bool))
    assert ok["rest_deviation_deg"] == pytest.approx(0.0, abs=1e-6) and ok["arm_lowest_below_feet_m"] < 0.0
    from engine.kinematics import forward_kinematics

    down = ref.copy()
    for side in ("Left", "Right"):  # each wing turned (in the world) to hang straight down from its shoulder
        j, c = rig.skeleton.index(f"{side}WingShoulder"), rig.skeleton.index(f"{side}WingUpperArm")
        world_m, pos = forward_kinematics(rig.skeleton.parents, rot.quat_to_matrix(down), rig.skeleton.rest_translations)
        world = rot.matrix_to_quat(world_m)
        turn = rot.quat_between(pos[c] - pos[j], np.array([0.0, -1.0, 0.0]))
        down[j] = rot.quat_multiply(rot.quat_conjugate(world[rig.skeleton.parents[j]]), rot.quat_multiply(turn, world[j]))
    bad = rest_scores(rig.skeleton, rmap, down[None], ref, np.ones(1, bool))
    assert bad["arm_chain_deviation_deg"] > 5.0
    assert bad["arm_lowest_below_feet_m"] > 0.2 and bad["arm_below_feet_fraction"] == 1.0, bad


def test_a_raise_with_a_twist_keeps_its_gain_and_shows_the_twist(humanoid) -> None:
    rig, bones, rmap = humanoid
    spec = probe_spec("arm_front_raise")
    motion = author_probe(rig.skeleton, bones, spec, 60)
    where = probe_joints(rig.skeleton, rmap, rig.reference_rotations(), spec)
    a = np.radians(motion.angle_deg)[:, None]
    delta = rot.quat_multiply(rot.axis_angle_to_quat(a * where.axes[0]), rot.axis_angle_to_quat(0.5 * a * where.bone))
    s = probe_scores(motion.angle_deg, delta, where.axes, where.axis_names, np.ones(60, bool), where.bone)
    assert s["gain"] == pytest.approx(1.0, abs=1e-6)
    assert s["leakage"]["twist"] == pytest.approx(0.5, abs=0.02)
    assert s["leakage"]["out_of_plane"] < 1e-6


def test_a_wing_driven_from_the_relaxed_arm_reads_a_front_raise_as_a_forward_sweep() -> None:
    """The retargeter aims the dragon's wing (sideways at rest) at ``A d`` for the arm's direction
    ``d`` (arms down -> wing out): a front raise turns the wing about the vertical, a side raise
    about the forward axis; the humanoid's arm keeps the performer's axes."""
    dragon = load_bundled_rig("dragon")
    rmap = suggest_map(dragon.skeleton, dragon.name)
    front = probe_joints(dragon.skeleton, rmap, dragon.reference_rotations(), probe_spec("arm_front_raise"))
    side = probe_joints(dragon.skeleton, rmap, dragon.reference_rotations(), probe_spec("arm_side_raise"))
    forward = np.asarray(rmap.forward, float) * [1.0, 0.0, 1.0]
    forward /= np.linalg.norm(forward)
    assert abs(front.axes[0] @ [0.0, 1.0, 0.0]) > 0.9  # front raise: about the vertical (the wing rests a little raised and swept)
    assert abs(side.axes[0] @ forward) > 0.9  # side raise: about the rig's forward axis
    # A wing swept 40 degrees forward about that axis reads as a 40 degree raise, no leakage.
    angle = np.linspace(0.0, 40.0, 20)
    delta = rot.axis_angle_to_quat(np.radians(angle)[:, None] * front.axes[0])
    s = probe_scores(angle, delta, front.axes, front.axis_names, np.ones(20, bool), front.bone)
    assert s["gain"] == pytest.approx(1.0, abs=1e-6) and s["leakage_max"] < 1e-6
    rig = build_rig("humanoid").rig
    hmap = suggest_map(rig.skeleton, rig.name)
    arm = probe_joints(rig.skeleton, hmap, rig.reference_rotations(), probe_spec("arm_front_raise"))
    assert abs(arm.axes[0] @ [1.0, 0.0, 0.0]) > 0.99  # the humanoid's front raise: about the lateral axis
