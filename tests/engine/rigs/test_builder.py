"""Tests for engine.rigs.builder: conventions keep world positions, frames follow their rules, skins."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import rotations as rot
from engine.rigs.builder import (
    BLENDER,
    IDENTITY,
    MAYA,
    UNREAL,
    Z_FORWARD,
    AxisConvention,
    PoseBuilder,
    RigBuilder,
    RigDesign,
    assemble,
    skin_mesh,
)

CONVENTIONS = [BLENDER, MAYA, UNREAL, Z_FORWARD, IDENTITY, AxisConvention("jittered", roll_jitter=0.5, seed=3)]
_MIRROR = np.diag([-1.0, 1.0, 1.0])


def _stick() -> RigDesign:
    """A small biped: vertical spine, horizontal arms, downward legs (the degenerate directions)."""
    b = RigBuilder("stick")
    b.joint("Hips", None, (0, 1.0, 0), radius=0.1)
    b.chain(["Spine", "Chest", "Head"], "Hips", direction=(0, 1, 0), lengths=[0.2, 0.2, 0.25], radius=0.08, tip=0.2)
    b.chain(["LeftArm", "LeftForearm"], "Chest", direction=(1, 0, 0), lengths=[0.2, 0.3], tip=0.1, bend=(0, 0, 0.2))
    b.chain(["LeftLeg", "LeftShin", "LeftFoot"], "Hips", offsets=[(0.1, -0.05, 0), (0, -0.45, 0), (0, -0.45, 0)], tip=(0, -0.05, 0.15))
    b.mirror()
    return b.design()


def _pose(design: RigDesign, frames: int = 4, *, twist: bool = True) -> PoseBuilder:
    pose = PoseBuilder(design, frames)
    ramp = np.linspace(0.0, 1.0, frames)
    pose.rotate_sym("LeftArm", (0, 0, 1), -ramp)
    pose.rotate_sym("LeftForearm", (0, 1, 0), 0.7 * ramp)
    pose.rotate_sym("LeftLeg", (1, 0, 0), -0.5 * ramp)
    if twist:  # the one asymmetric rotation
        pose.rotate("Spine", (0, 1, 0), 0.4 * ramp)
    pose.root_offsets[:, 2] = ramp
    return pose


@pytest.mark.parametrize("conv", CONVENTIONS, ids=lambda c: c.name)
def test_every_convention_keeps_the_designed_rest_pose(conv):
    design = _stick()
    sk = design.skeleton(conv)
    np.testing.assert_allclose(sk.rest_positions(), design.rest_positions(), atol=1e-12)
    mats, pos = sk.rest_world()
    tips = np.array([design.joints[j].tip for j in sk.end_site_joints])
    np.testing.assert_allclose(sk.end_site_positions(mats, pos), design.rest_positions()[sk.end_site_joints] + tips, atol=1e-12)
    assert np.isfinite(sk.rest_rotations).all() and (sk.bone_lengths()[sk.parents >= 0] > 0).all()
    frames = design.rest_frames(conv)
    np.testing.assert_allclose(frames @ np.swapaxes(frames, 1, 2), np.broadcast_to(np.eye(3), frames.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(frames), 1.0, atol=1e-12)


@pytest.mark.parametrize("conv", CONVENTIONS, ids=lambda c: c.name)
def test_poses_give_the_same_world_positions_in_every_convention(conv):
    design = _stick()
    pose = _pose(design)
    expected = design.clip(pose, IDENTITY, "x").positions(design.skeleton(IDENTITY))
    clip = design.clip(pose, conv, "x")
    np.testing.assert_allclose(clip.positions(design.skeleton(conv)), expected, atol=1e-12)
    # An empty pose is the rest pose: local rotations equal the rest rotations.
    empty = design.local_rotations(PoseBuilder(design).deltas, conv)[0]
    assert rot.quat_geodesic_angle(empty, design.skeleton(conv).rest_rotations).max() < 1e-9


def test_conventions_differ_in_local_rotations_but_not_positions():
    design = _stick()
    pose = _pose(design)
    a = design.clip(pose, BLENDER, "x").rotations
    b = design.clip(pose, MAYA, "x").rotations
    assert rot.quat_geodesic_angle(a, b).max() > 0.5


@pytest.mark.parametrize(
    "conv, axis", [(BLENDER, 1), (MAYA, 0), (Z_FORWARD, 2)], ids=["blender+Y", "maya+X", "z-forward+Z"]
)
def test_primary_axis_points_along_the_bone(conv, axis):
    design = _stick()
    frames = design.rest_frames(conv)
    np.testing.assert_allclose(frames[:, :, axis], design.bone_directions(), atol=1e-12)


def test_blender_bone_pointing_down_gets_a_half_turn_about_z():
    b = RigBuilder("down")
    b.joint("Root", None, (0, 1, 0), tip=(0, -0.5, 0))
    frame = b.design().rest_frames(BLENDER)[0]
    np.testing.assert_allclose(frame, np.diag([-1.0, -1.0, 1.0]), atol=1e-12)


def test_maya_secondary_axis_leans_to_world_up_with_a_fallback():
    design = _stick()
    frames = design.rest_frames(MAYA)
    arm = design.index("LeftArm")  # horizontal bone: local +Y has a positive world-up component
    assert frames[arm, 1, 1] > 0.9
    leg = design.index("LeftShin")  # vertical bone: falls back to +Z forward
    np.testing.assert_allclose(frames[leg, :, 1], [0, 0, 1], atol=1e-12)


def test_unreal_right_side_frames_mirror_the_left():
    design = _stick()
    frames = design.rest_frames(UNREAL)
    for left, right in design.mirror.items():
        if left.startswith("Left"):
            np.testing.assert_allclose(frames[design.index(right)], _MIRROR @ frames[design.index(left)] @ _MIRROR, atol=1e-12)
    # On the right, local +X points from child to parent.
    forearm = design.index("RightForearm")
    np.testing.assert_allclose(frames[forearm, :, 0], -design.bone_directions()[forearm], atol=1e-12)


def test_identity_convention_has_identity_rest_rotations():
    sk = _stick().skeleton(IDENTITY)
    np.testing.assert_allclose(sk.rest_rotations, rot.quat_identity((sk.num_joints,)), atol=0)


def test_roll_jitter_is_seeded_and_twists_about_the_bone():
    design = _stick()
    a = design.rest_frames(AxisConvention("j", roll_jitter=0.5, seed=3))
    b = design.rest_frames(AxisConvention("j", roll_jitter=0.5, seed=3))
    c = design.rest_frames(AxisConvention("j", roll_jitter=0.5, seed=4))
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-3
    np.testing.assert_allclose(a[:, :, 1], design.bone_directions(), atol=1e-12)  # roll keeps the bone axis


def test_symmetric_pose_gives_mirror_image_positions():
    design = _stick()
    pos = design.clip(_pose(design, twist=False), BLENDER, "x").positions(design.skeleton(BLENDER))
    for left, right in design.mirror.items():
        np.testing.assert_allclose(pos[:, design.index(right)], pos[:, design.index(left)] @ _MIRROR, atol=1e-12)


def test_builder_orders_parents_first_and_mirrors_names():
    design = _stick()
    parents = design.parents
    assert all(p < j for j, p in enumerate(parents))
    assert len(set(design.names)) == len(design.names)
    assert design.mirror["LeftForearm"] == "RightForearm" and design.mirror["RightForearm"] == "LeftForearm"
    np.testing.assert_allclose(
        design.rest_positions()[design.index("RightFoot")], design.rest_positions()[design.index("LeftFoot")] @ _MIRROR
    )
    assert design.joints[design.index("RightFoot")].side == "R"


def test_builder_rejects_bad_input():
    b = RigBuilder("bad")
    b.joint("Root", None, (0, 0, 0))
    with pytest.raises(ValueError, match="declared twice"):
        b.joint("Root", None, (0, 0, 0))
    with pytest.raises(ValueError, match="not declared"):
        b.joint("Child", "Nope", (0, 1, 0))
    with pytest.raises(ValueError, match="needs offsets"):
        b.chain(["A", "B"], "Root", direction=(0, 1, 0), lengths=[1.0])
    with pytest.raises(ValueError, match="unknown joint"):
        b.aim("Root", "Nope")
    with pytest.raises(ValueError, match="no joint starts"):
        b.mirror()
    with pytest.raises(ValueError, match="must differ"):
        AxisConvention("x", primary="+X", secondary="-X")
    with pytest.raises(ValueError, match="unknown method"):
        AxisConvention("x", method="twist")
    with pytest.raises(KeyError, match="Nope"):
        b.design().index("Nope")


def test_aim_overrides_the_first_child():
    b = RigBuilder("hand")
    b.joint("Hand", None, (0, 1, 0))
    b.joint("Thumb", "Hand", (0.05, 0, 0.05))
    b.joint("Middle", "Hand", (0.1, 0, 0))
    assert np.allclose(b.design().bone_directions()[0], np.array([1, 0, 1]) / np.sqrt(2))
    b.aim("Hand", "Middle")
    np.testing.assert_allclose(b.design().bone_directions()[0], [1, 0, 0])


def test_skin_mesh_is_valid_and_hugs_the_bones():
    design = _stick()
    mesh = skin_mesh(design)
    J = len(design.joints)
    V = len(mesh.positions)
    assert mesh.positions.shape == (V, 3) and mesh.normals.shape == (V, 3) and mesh.joints.shape == (V, 4)
    np.testing.assert_allclose(mesh.weights.sum(axis=1), 1.0, atol=1e-6)
    assert (mesh.weights >= 0).all() and mesh.joints.max() < J
    assert mesh.indices.min() >= 0 and mesh.indices.max() < V
    np.testing.assert_allclose(np.linalg.norm(mesh.normals, axis=1), 1.0, atol=1e-5)
    # Every vertex lies within the thickest radius of a bone (parent -> child or joint -> end site).
    pos = design.rest_positions()
    starts = [pos[p] for p in design.parents if p >= 0] + [pos[j] for j, s in enumerate(design.joints) if s.tip]
    ends = [pos[j] for j, p in enumerate(design.parents) if p >= 0]
    ends += [pos[j] + s.tip for j, s in enumerate(design.joints) if s.tip]
    a, b = np.array(starts), np.array(ends)  # (S, 3) segments
    v = mesh.positions.astype(np.float64)[:, None, :]  # (V, 1, 3)
    t = np.clip(np.einsum("vsk,sk->vs", v - a, b - a) / np.einsum("sk,sk->s", b - a, b - a), 0, 1)
    dist = np.linalg.norm(v - (a + t[..., None] * (b - a)), axis=-1).min(axis=1)  # (V,)
    assert dist.max() <= max(s.radius for s in design.joints) + 1e-6
    # Triangles are not degenerate and face outwards on average (closed tubes, positive volume).
    tri = mesh.positions[mesh.indices].astype(np.float64)
    cross = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    assert (np.linalg.norm(cross, axis=1) > 0).all()
    volume = np.einsum("ij,ij->i", tri[:, 0], cross).sum() / 6.0
    assert volume > 0


def test_assemble_builds_a_rig_with_reference_and_clips():
    design = _stick()
    ref = PoseBuilder(design)
    ref.rotate_sym("LeftArm", (0, 0, 1), -0.7)
    authored = assemble(design, MAYA, ref, {"idle": _pose(design, 5)}, fps=24.0)
    rig = authored.rig
    assert [c.name for c in authored.file_clips()] == ["reference", "idle"]
    assert rig.clip("idle").fps == 24.0 and rig.clip("idle").num_frames == 5
    assert rot.quat_geodesic_angle(rig.reference_pose, rig.skeleton.rest_rotations).max() > 0.6
    np.testing.assert_allclose(authored.reference_clip().rotations[0], rig.reference_pose)
    with pytest.raises(ValueError, match="one frame"):
        assemble(design, MAYA, _pose(design, 2), {})


@given(
    lengths=st.lists(st.floats(0.05, 1.0), min_size=2, max_size=6),
    bend=st.tuples(st.floats(-0.8, 0.8), st.floats(-0.8, 0.8), st.floats(-0.8, 0.8)),
    direction=st.tuples(st.floats(-1, 1), st.floats(-1, 1), st.floats(-1, 1)).filter(lambda v: np.linalg.norm(v) > 0.1),
    angles=st.lists(st.floats(-3, 3), min_size=6, max_size=6),
    conv=st.sampled_from(CONVENTIONS),
)
def test_random_chains_keep_positions_under_any_convention(lengths, bend, direction, angles, conv):
    b = RigBuilder("chain")
    b.joint("Root", None, (0.1, 0.2, 0.3))
    names = [f"J{i}" for i in range(len(lengths))]
    b.chain(names, "Root", direction=direction, lengths=lengths, bend=bend, tip=0.1)
    design = b.design()
    sk = design.skeleton(conv)
    np.testing.assert_allclose(sk.rest_positions(), design.rest_positions(), atol=1e-9)
    pose = PoseBuilder(design)
    for name, a in zip(["Root", *names], angles):
        pose.rotate(name, (a, 1.0, -a), a)
    expected = design.clip(pose, IDENTITY, "x").positions(design.skeleton(IDENTITY))
    np.testing.assert_allclose(design.clip(pose, conv, "x").positions(sk), expected, atol=1e-9)


def test_sheets_are_double_sided_mirrored_and_rigidly_skinned():
    b = RigBuilder("wing")
    b.joint("Body", None, (0, 1, 0))
    b.chain(["LeftArm", "LeftHand"], "Body", direction=(1, 0, 0), lengths=[0.1, 0.4], tip=0.3)
    b.sheet([["LeftArm", "LeftHand", "LeftHand.tip"], [("LeftArm", (0, 0, -0.2)), ("LeftHand", (0, 0, -0.3)), ("Body", (0.8, 0, -0.2))]])
    b.mirror()
    design = b.design()
    assert len(design.sheets) == 2
    right = design.sheets[1]
    assert right[0][2] == ("RightHand", (-0.3, 0.0, 0.0)) and right[1][2] == ("Body", (-0.8, 0.0, -0.2))
    tubes = skin_mesh(RigDesign(design.name, design.joints, design.mirror))
    mesh = skin_mesh(design)
    extra = len(mesh.indices) - len(tubes.indices)
    assert extra == 2 * 2 * 4  # two sheets, 2 quads of 2 triangles each, both sides
    sheet_v = mesh.positions[len(tubes.positions):]
    sheet_j = mesh.joints[len(tubes.positions):, 0]
    np.testing.assert_allclose(mesh.weights[len(tubes.positions):, 0], 1.0)
    hand = design.index("LeftHand")
    tip = design.rest_positions()[hand] + np.array([0.3, 0, 0])
    assert np.any(np.all(np.isclose(sheet_v, tip, atol=1e-6), axis=1) & (sheet_j == hand))
    with pytest.raises(ValueError, match="equal length"):
        b.sheet([["Body", "LeftArm"], ["Body"]])
    with pytest.raises(ValueError, match="unknown joint"):
        b.sheet([["Body", "Nope"], ["Body", "LeftArm"]])
    with pytest.raises(ValueError, match="no end site"):
        b.sheet([["Body", "LeftArm.tip"], ["Body", "LeftArm"]])
