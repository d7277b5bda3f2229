"""Procedural skeletons: valid, varied, deterministic; conventions and names as documented."""

from __future__ import annotations

import numpy as np
import pytest

from engine.synthetic.skeletons import BODY_PLANS, CONVENTIONS, random_rig


@pytest.mark.parametrize("plan", BODY_PLANS)
def test_every_plan_gives_a_valid_rig(plan):
    for seed in range(5):
        rig = random_rig(np.random.default_rng(seed), plan=plan)
        sk = rig.skeleton
        J = sk.num_joints
        assert J >= 2 and len(set(sk.names)) == J
        assert all(p < j for j, p in enumerate(sk.parents))
        assert 0.02 < sk.height < 20.0
        assert rig.twist_axes.shape == (J, 3) and rig.swing_axes.shape == (J, 2, 3) and rig.limits.shape == (J, 3)
        np.testing.assert_allclose(np.linalg.norm(rig.twist_axes, axis=-1), 1.0, atol=1e-9)
        np.testing.assert_allclose(np.einsum("ja,jka->jk", rig.twist_axes, rig.swing_axes), 0.0, atol=1e-9)
        assert (rig.limits >= 0).all() and (rig.limits[sk.parents < 0] == 0).all()


def test_plans_cover_limbs_wings_tails_and_many_legs():
    rng = np.random.default_rng(7)
    counts = {plan: [random_rig(rng, plan=plan).skeleton.num_joints for _ in range(10)] for plan in ("multileg", "winged", "snake")}
    assert max(counts["multileg"]) >= 25  # 6-12 legs of 3-5 bones
    assert max(counts["winged"]) >= 30
    names = " ".join(" ".join(random_rig(rng, plan="winged", naming="underscore").skeleton.names) for _ in range(5))
    assert "wing" in names


@pytest.mark.parametrize("axis, convention", [(0, "bone_x"), (1, "bone_y"), (2, "bone_z")])
def test_bone_axis_conventions_put_that_local_axis_along_the_bone(axis, convention):
    rig = random_rig(np.random.default_rng(3), plan="quadruped", convention=convention)
    # The twist axis is the bone direction in the joint's own frame: +-e_axis for every joint.
    np.testing.assert_allclose(np.abs(rig.twist_axes[:, axis]), 1.0, atol=1e-9)


def test_identity_convention_has_identity_rest_rotations():
    rig = random_rig(np.random.default_rng(4), plan="biped", convention="identity")
    np.testing.assert_allclose(rig.skeleton.rest_rotations, np.tile([0, 0, 0, 1.0], (rig.skeleton.num_joints, 1)), atol=1e-12)


def test_conventions_change_local_rotations_not_rest_positions():
    a = random_rig(np.random.default_rng(5), plan="biped", convention="identity", naming="unity")
    b = random_rig(np.random.default_rng(5), plan="biped", convention="bone_y", naming="unity")
    np.testing.assert_allclose(a.skeleton.rest_positions(), b.skeleton.rest_positions(), atol=1e-9)
    assert not np.allclose(a.skeleton.rest_rotations, b.skeleton.rest_rotations)


def test_random_rig_is_deterministic_per_seed():
    a = random_rig(np.random.default_rng(11))
    b = random_rig(np.random.default_rng(11))
    assert a.skeleton.names == b.skeleton.names and a.plan == b.plan
    np.testing.assert_array_equal(a.skeleton.rest_translations, b.skeleton.rest_translations)
    assert random_rig(np.random.default_rng(12)).skeleton.names != a.skeleton.names or random_rig(np.random.default_rng(12)).plan != a.plan


def test_all_conventions_and_plans_are_drawn():
    rng = np.random.default_rng(0)
    rigs = [random_rig(rng) for _ in range(150)]
    assert {r.plan for r in rigs} == set(BODY_PLANS)
    assert {r.convention for r in rigs} == set(CONVENTIONS)
