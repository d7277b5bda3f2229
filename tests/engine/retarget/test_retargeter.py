"""Retargeting performer positions onto the bundled rigs: exact bone lengths, following the performer."""

from __future__ import annotations

import numpy as np
import pytest

from engine.performer import performer_arms_down_positions, performer_index, performer_rest_positions
from engine.performer.from_mocap import performer_positions_from_mocap
from engine.retarget.mapping import suggest_map
from engine.retarget.retargeter import Retargeter

RIGS = ("humanoid", "quadruped", "dragon", "bird", "snake", "spider")


def _rig(name: str):
    from engine.rigs.bundled import load_bundled_rig

    return load_bundled_rig(name)


@pytest.fixture(scope="module")
def performer_clip() -> np.ndarray:
    rig = _rig("humanoid")
    clips = {c.name: c for c in rig.clips}
    clip = clips.get("wave") or max(rig.clips, key=lambda c: c.num_frames)
    pos = performer_positions_from_mocap(rig.skeleton, clip)
    # Add a body sway (yaw +-30 degrees about the pelvis) so that every rig, the snake included, moves.
    out = np.empty_like(pos)
    for t, frame in enumerate(pos):
        a = np.radians(30) * np.sin(2 * np.pi * t / len(pos))
        R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        pelvis = frame[performer_index("pelvis")]
        out[t] = pelvis + (frame - pelvis) @ R.T
    return out


def _rotate_arm(pos: np.ndarray, side: str, degrees: float, axis: int = 2) -> np.ndarray:
    """Turn one arm about the shoulder (about Z: raise/lower sideways; about X: swing forward/back)."""
    out = pos.copy()
    sh = out[performer_index(f"{side}_upper_arm")].copy()
    a = np.radians(degrees) * (1 if side == "left" else -1)
    c, s = np.cos(a), np.sin(a)
    R = {2: np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]]), 0: np.array([[1, 0, 0], [0, c, -s], [0, s, c]])}[axis]
    for part in ("lower_arm", "hand", "hand_end", "thumb"):
        j = performer_index(f"{side}_{part}")
        out[j] = sh + R @ (out[j] - sh)
    return out


def _bone_error(sk, q: np.ndarray) -> float:
    p = sk.parents
    return float(np.abs(np.linalg.norm(q[1:] - q[p[1:]], axis=-1) - sk.bone_lengths()[1:]).max())


@pytest.mark.parametrize("name", RIGS)
def test_bone_lengths_are_exact_over_a_clip(name: str, performer_clip: np.ndarray) -> None:
    rig = _rig(name)
    rt = Retargeter(rig.skeleton, suggest_map(rig.skeleton, name))
    moved = 0.0
    first = None
    for frame in performer_clip[::3]:
        q = rt(frame)
        assert q.shape == (rig.skeleton.num_joints, 3) and np.isfinite(q).all()
        assert _bone_error(rig.skeleton, q) < 1e-6
        first = q if first is None else first
        moved = max(moved, float(np.abs(q - first).max()))
    assert moved > 0.01 * rig.skeleton.height  # the rig really moves with the performer


def test_t_pose_gives_the_humanoid_rest_pose() -> None:
    rig = _rig("humanoid")
    q = Retargeter(rig.skeleton, suggest_map(rig.skeleton, "humanoid"))(performer_rest_positions())
    np.testing.assert_allclose(q, rig.skeleton.rest_positions(), atol=1e-9)


@pytest.mark.parametrize("name", ["dragon", "bird"])
def test_relaxed_arms_give_the_winged_rigs_their_rest_pose(name: str) -> None:
    """Neutral without calibration: standing with arms relaxed, the wings take their rest pose."""
    rig = _rig(name)
    q = Retargeter(rig.skeleton, suggest_map(rig.skeleton, name))(performer_arms_down_positions())
    np.testing.assert_allclose(q, rig.skeleton.rest_positions(), atol=1e-9)


@pytest.mark.parametrize("name", ["dragon", "bird"])
def test_no_arm_pose_takes_a_wing_below_the_feet(name: str) -> None:
    rig = _rig(name)
    sk = rig.skeleton
    rt = Retargeter(sk, suggest_map(sk, name))
    floor = float(sk.rest_positions()[:, 1].min())
    wing = [j for j, n in enumerate(sk.names) if "wing" in n.lower()]
    base = performer_arms_down_positions()
    for degrees, axis in ((-60, 2), (-90, 0), (90, 0), (40, 2)):  # arms pressed in, forward, back, out
        q = rt(_rotate_arm(_rotate_arm(base, "left", degrees, axis), "right", degrees, axis))
        assert q[wing, 1].min() >= floor - 1e-9


def test_arms_down_gives_the_quadruped_rest_pose() -> None:
    rig = _rig("quadruped")
    q = Retargeter(rig.skeleton, suggest_map(rig.skeleton, "quadruped"))(performer_arms_down_positions())
    np.testing.assert_allclose(q, rig.skeleton.rest_positions(), atol=1e-9)


@pytest.mark.parametrize(
    ("name", "tip", "start"),
    [("humanoid", "LeftHand", "t_pose"), ("dragon", "LeftWingHand", "wings"), ("bird", "LeftWingTip", "wings"),
     ("quadruped", "LeftFrontPaw", "arms_down"), ("spider", "LeftLeg1Tarsus", "arms_down")],
)
def test_raising_the_arm_raises_the_mapped_tip(name: str, tip: str, start: str) -> None:
    rig = _rig(name)
    sk = rig.skeleton
    base = performer_rest_positions() if start == "t_pose" else performer_arms_down_positions()
    rt = Retargeter(sk, suggest_map(sk, name))
    q0 = rt(base)
    # Raise the left arm: sideways-up from a T-pose or (wings) from arms down, forward-up from arms down.
    raised = _rotate_arm(base, "left", 50) if start in ("t_pose", "wings") else _rotate_arm(base, "left", -70, axis=0)
    q1 = rt(raised)
    j = sk.index(tip)
    assert q1[j, 1] - q0[j, 1] > 0.1 * np.linalg.norm(q0[j] - q0[sk.parents[j]]) * 3
    right = tip.replace("Left", "Right")
    np.testing.assert_allclose(q1[sk.index(right)], q0[sk.index(right)], atol=1e-9)  # the other side stays


def test_humanoid_copies_directions() -> None:
    rig = _rig("humanoid")
    sk = rig.skeleton
    pose = _rotate_arm(performer_rest_positions(), "right", 70, axis=0)
    q = Retargeter(sk, suggest_map(sk, "humanoid"))(pose)
    fore_p = pose[performer_index("right_hand")] - pose[performer_index("right_lower_arm")]
    fore_r = q[sk.index("RightHand")] - q[sk.index("RightLowerArm")]
    cos = fore_p @ fore_r / np.linalg.norm(fore_p) / np.linalg.norm(fore_r)
    assert cos > 0.999


def test_spider_contralateral_copy_and_dragon_trot() -> None:
    rig = _rig("spider")
    sk = rig.skeleton
    rt = Retargeter(sk, suggest_map(sk, "spider"))
    base = performer_arms_down_positions()
    q0 = rt(base)
    q1 = rt(_rotate_arm(base, "right", -60, axis=0))
    moved = {n for n in sk.names if n.endswith("Tarsus") and np.linalg.norm(q1[sk.index(n)] - q0[sk.index(n)]) > 1e-3}
    assert moved == {"RightLeg1Tarsus", "LeftLeg3Tarsus"}  # the right arm drives leg 1 right and leg 3 left
    dragon = _rig("dragon").skeleton
    rt = Retargeter(dragon, suggest_map(dragon, "dragon"))
    rest = performer_rest_positions()
    q0 = rt(rest)
    step = rest.copy()  # swing the right leg forward about the hip
    hip = step[performer_index("right_upper_leg")].copy()
    a = np.radians(-40)
    R = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    for part in ("lower_leg", "foot", "toe", "heel"):
        j = performer_index(f"right_{part}")
        step[j] = hip + R @ (step[j] - hip)
    q1 = rt(step)
    for tip in ("RightHindToes", "LeftFrontToes"):  # diagonal pair moves together, forward
        assert q1[dragon.index(tip), 2] - q0[dragon.index(tip), 2] > 0.1
    assert np.allclose(q1[dragon.index("LeftHindToes")], q0[dragon.index("LeftHindToes")])


def test_tail_follows_through_with_a_lag() -> None:
    rig = _rig("dragon")
    sk = rig.skeleton
    rt = Retargeter(sk, suggest_map(sk, "dragon"))
    rest = performer_rest_positions()
    for _ in range(30):
        q0 = rt(rest)
    yaw = np.radians(60)
    R = np.array([[np.cos(yaw), 0, np.sin(yaw)], [0, 1, 0], [-np.sin(yaw), 0, np.cos(yaw)]])
    turned = rest @ R.T
    q1 = rt(turned)
    tail = [sk.index(f"Tail{i}") for i in range(1, 10)]
    # Right after the turn the tail still points where the body pointed: its tip lags behind.
    body_dir = q1[sk.index("Chest")] - q1[0]
    tail_dir = q1[tail[-1]] - q1[tail[0]]
    assert body_dir @ tail_dir / np.linalg.norm(body_dir) / np.linalg.norm(tail_dir) > -0.9
    for _ in range(40):
        q2 = rt(turned)
    np.testing.assert_allclose(q2 - q2[0], (q0 - q0[0]) @ R.T, atol=1e-6)  # settles: the whole rig turned


def test_root_motion_is_scaled_by_leg_length() -> None:
    rig = _rig("dragon")
    sk = rig.skeleton
    rt = Retargeter(sk, suggest_map(sk, "dragon"))
    rest = performer_rest_positions()
    q0 = rt(rest)
    q1 = rt(rest + np.array([0.0, 0.0, 0.5]))
    ratio = sk.height / 1.75
    step = q1[0, 2] - q0[0, 2]
    assert step > 0.5 * 0.3 * ratio and step < 0.5 * 3 * ratio
    np.testing.assert_allclose(q1 - q1[0], q0 - q0[0], atol=1e-9)


def test_wrong_shape_is_rejected() -> None:
    rig = _rig("bird")
    rt = Retargeter(rig.skeleton, suggest_map(rig.skeleton, "bird"))
    with pytest.raises(ValueError, match=r"\(28, 3\)"):
        rt(np.zeros((33, 3)))


def test_root_motion_is_relative_to_the_first_frame() -> None:
    """Hip-centred performers (from landmarks) keep the rig on its feet; reset restarts the reference."""
    rig = _rig("humanoid")
    sk = rig.skeleton
    rt = Retargeter(sk, suggest_map(sk, "humanoid"))
    rest = performer_rest_positions()
    centred = rest - rest[performer_index("pelvis")]
    np.testing.assert_allclose(rt(centred), sk.rest_positions(), atol=1e-9)
    q = rt(centred + [0.0, 0.2, 0.0])
    assert q[0, 1] - sk.rest_positions()[0, 1] > 0.1  # a jump lifts the root
    rt.reset()
    np.testing.assert_allclose(rt(centred + [0.0, 0.2, 0.0]), sk.rest_positions(), atol=1e-9)
    fixed = Retargeter(sk, suggest_map(sk, "humanoid"), root_motion=False)
    fixed(centred)
    np.testing.assert_allclose(fixed(centred + [1.0, 0.0, 0.0])[0], sk.rest_positions()[0])


@pytest.mark.parametrize(
    "rel",
    ["animated_drawings/cmu1/jumping_jacks.bvh", "iclone_cmu/002_01.bvh", "mann_dog/D1_001_KAN01_001.bvh",
     "ganimator/truebones_crab/Crab-dance-long.bvh", "quaternius_animals/Fox.glb", "misc_gltf/BrainStem.glb"],
)
def test_shared_rigs_keep_bone_lengths(shared_data, rel: str, performer_clip: np.ndarray) -> None:
    from engine.formats.rigio import load_rig

    path = shared_data / rel
    if not path.is_file():
        pytest.skip(f"{rel} absent")
    sk = load_rig(path).skeleton
    rt = Retargeter(sk, suggest_map(sk, path.stem))
    for frame in performer_clip[::6]:
        q = rt(frame)
        assert np.isfinite(q).all() and _bone_error(sk, q) < 1e-6


def test_reference_pose_replaces_the_rest_pose() -> None:
    """A rig whose neutral pose differs from its rest pose: the performer's T-pose lands on the reference."""
    from engine import rotations as rotm
    from engine.kinematics import forward_kinematics

    sk = _rig("humanoid").skeleton
    local = rotm.quat_to_matrix(np.array(sk.rest_rotations))
    bend = rotm.axis_angle_to_matrix(np.array([0.0, 0.0, -0.6]))
    local[sk.index("LeftUpperArm")] = local[sk.index("LeftUpperArm")] @ bend  # an A-pose-ish left arm
    ref = forward_kinematics(sk.parents, local, sk.rest_translations)[1]
    m = suggest_map(sk, "humanoid", reference_positions=ref)
    rt = Retargeter(sk, m, reference_positions=ref)
    np.testing.assert_allclose(rt(performer_rest_positions()), ref, atol=1e-9)
    assert _bone_error(sk, rt(_rotate_arm(performer_rest_positions(), "left", 40))) < 1e-6
    with pytest.raises(ValueError, match="reference_positions"):
        Retargeter(sk, m, reference_positions=ref[:-1])
