from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from engine.model.p2r import P2RModel
from engine.model.rig_tensors import build_rig_tensors, collate_rigs, normalize_positions

from .conftest import TINY_P2R, randomize


def test_untrained_model_returns_the_reference_rotation_on_the_reference_pose(skeletons) -> None:
    model = P2RModel(TINY_P2R).eval()
    rig = build_rig_tensors(skeletons[0])
    pos = rig.ref_pos[:, None].expand(1, 5, -1, -1)
    with torch.no_grad():
        out = model(pos, model.prepare(rig))
    assert out.shape == (1, 5, rig.num_joints, 6)
    torch.testing.assert_close(out, rig.ref_rot6d[:, None].expand_as(out), atol=1e-5, rtol=0)


def test_untrained_model_is_swing_ik(skeletons) -> None:
    """With zero corrections, every joint's world rotation turns its child bones onto the input."""
    from engine import rotations as rot
    from engine.kinematics import forward_kinematics

    sk = skeletons[1]
    rng = np.random.default_rng(0)
    quats = rot.axis_angle_to_quat(rng.normal(0, 0.4, (sk.num_joints, 3)))
    pos = forward_kinematics(sk.parents, rot.quat_to_matrix(quats), sk.rest_translations)[1]
    rig = build_rig_tensors(sk)
    model = P2RModel(TINY_P2R).eval()
    with torch.no_grad():
        d6 = model(torch.tensor(normalize_positions(pos, sk.height), dtype=torch.float32)[None, None], model.prepare(rig))[0, 0]
    got = forward_kinematics(sk.parents, rot.sixd_to_matrix(d6.double().numpy()), sk.rest_translations)[1]
    for j in range(sk.num_joints):
        if sk.children(j):
            bones = [got[c] - got[j] for c in sk.children(j)]
            want = [pos[c] - pos[j] for c in sk.children(j)]
            # Single children align exactly; several children are a least-squares fit.
            tol = 1e-3 if len(bones) == 1 else 0.5 * max(np.linalg.norm(w) for w in want)
            assert max(np.linalg.norm(b - w) for b, w in zip(bones, want)) < tol


def test_shapes_and_no_nan_on_a_padded_batch(skeletons) -> None:
    model = randomize(P2RModel(TINY_P2R))
    batch = collate_rigs([build_rig_tensors(s) for s in skeletons])
    pos = torch.randn(3, 9, batch.num_joints, 3)
    with torch.no_grad():
        out = model(pos, model.prepare(batch))
    assert out.shape == (3, 9, batch.num_joints, 6) and torch.isfinite(out).all()


@pytest.mark.parametrize("grandchild_cue", [False, True])
def test_rig_alone_equals_rig_in_a_padded_batch(skeletons, grandchild_cue: bool) -> None:
    model = randomize(P2RModel(replace(TINY_P2R, grandchild_cue=grandchild_cue)))
    rigs = [build_rig_tensors(s) for s in skeletons]
    batch = collate_rigs(rigs, pad_to=15)
    pos = torch.randn(3, 8, 15, 3)
    with torch.no_grad():
        together = model(pos, model.prepare(batch))
        for b, rig in enumerate(rigs):
            n = rig.num_joints
            alone = model(pos[b : b + 1, :, :n], model.prepare(rig))
            torch.testing.assert_close(together[b : b + 1, :, :n], alone, atol=1e-5, rtol=1e-5)


def _random_hints(B: int, T: int, J: int) -> torch.Tensor:
    """Random orientation hints: random rotations, about half of them with a weight in (0, 1]."""
    from engine.model.sixd import matrix_to_sixd

    q, _ = torch.linalg.qr(torch.randn(B, T, J, 3, 3))
    q = q * torch.sign(torch.det(q))[..., None, None]  # proper rotations
    weight = torch.rand(B, T, J, 1) * (torch.rand(B, T, J, 1) < 0.5)
    return torch.cat([matrix_to_sixd(q), weight], dim=-1)


@pytest.mark.parametrize("cue", [None, "grandchild_cue", "orientation_cue"])
def test_step_equals_full_causal_forward_beyond_the_window(skeletons, cue: str | None) -> None:
    """Mandatory exactness: 3W+ frames, a padded batch, max abs difference <= 1e-4 (float32)."""
    model = randomize(P2RModel(replace(TINY_P2R, **({cue: True} if cue else {}))))
    batch = collate_rigs([build_rig_tensors(s) for s in skeletons])
    T = 3 * TINY_P2R.window + 3
    pos = torch.randn(3, T, batch.num_joints, 3) * 0.3
    hints = _random_hints(3, T, batch.num_joints) if cue == "orientation_cue" else None
    with torch.no_grad():
        state = model.prepare(batch)
        full = model(pos, state, hints=hints)
        caches = model.empty_cache(state)
        stepped = torch.cat([model.step(pos[:, t : t + 1], None, None if hints is None else hints[:, t : t + 1], state, caches, torch.tensor(t))
                             for t in range(T)], dim=1)
    mask = batch.joint_mask[:, None, :, None].expand_as(full)
    assert (stepped - full)[mask].abs().max() <= 1e-4


def test_grandchild_cue_shows_a_hinge_bend_the_fit_cannot() -> None:
    """Twisting the upper arm of a bent arm turns the forearm out of the prior's frame: the cue moves."""
    from engine import rotations as rot
    from engine.kinematics import forward_kinematics
    from engine.model.p2r import grandchild_features
    from engine.skeleton import Skeleton

    parents = np.array([-1, 0, 1, 2])  # shoulder root -> upper arm -> forearm -> hand
    offsets = np.array([[0, 0, 0], [0.3, 0, 0], [0.3, 0, 0], [0.2, 0, 0.0]])
    sk = Skeleton(("root", "upper", "fore", "hand"), parents, offsets, rot.quat_identity((4,)))
    bent = rot.quat_identity((4,))
    bent[2] = rot.axis_angle_to_quat(np.array([0.0, 0.0, 1.2]))  # the elbow bends about z
    twisted = bent.copy()
    twisted[1] = rot.axis_angle_to_quat(np.array([0.9, 0.0, 0.0]))  # the upper arm twists about its bone (x)
    ref = forward_kinematics(sk.parents, rot.quat_to_matrix(bent), sk.rest_translations)[1]
    rig = build_rig_tensors(sk, ref, bent)
    model = P2RModel(replace(TINY_P2R, grandchild_cue=True)).eval()
    state = model.prepare(rig)
    cues = []
    for quats in (bent, twisted):
        pos = forward_kinematics(sk.parents, rot.quat_to_matrix(quats), sk.rest_translations)[1]
        x = torch.tensor(normalize_positions(pos, sk.height), dtype=torch.float32)[None, None]
        cues.append(grandchild_features(x, state.fit_plan(x), state)[0, 0].numpy())
    # The upper arm (joint 1) sees its grandchild bone (forearm -> hand): in place for the reference
    # pose, turned by the twist (which the swing-only fit does not undo) once twisted.
    np.testing.assert_allclose(cues[0][1, :3], cues[0][1, 3:], atol=1e-6)
    assert np.linalg.norm(cues[1][1, :3] - cues[1][1, 3:]) > 0.5
    assert np.all(cues[0][3] == 0.0)  # the hand has no grandchild


def test_a_hint_that_agrees_with_the_prior_asks_for_no_correction(skeletons) -> None:
    """hint_correction: the identity where the hint is the prior's own world rotation; no features without a hint."""
    from engine.model.p2r import hint_correction, hint_features
    from engine.model.sixd import matrix_to_sixd, sixd_to_matrix

    rig = build_rig_tensors(skeletons[0])
    J = rig.num_joints
    fit, _ = torch.linalg.qr(torch.randn(1, 2, J, 3, 3))
    fit = fit * torch.sign(torch.det(fit))[..., None, None]
    ref_world = sixd_to_matrix(rig.ref_world6d)
    world = fit @ ref_world[:, None]
    weight = torch.tensor([0.0, 0.7]).repeat(J)[:J].view(1, 1, J, 1).expand(1, 2, J, 1)
    feats = hint_features(*hint_correction(torch.cat([matrix_to_sixd(world), weight], dim=-1), fit, ref_world))
    torch.testing.assert_close(feats[..., :6], torch.zeros_like(feats[..., :6]), atol=1e-5, rtol=0)
    torch.testing.assert_close(feats[..., 6:], weight)
    turned = world @ torch.linalg.matrix_exp(torch.tensor([[0.0, -0.5, 0.0], [0.5, 0.0, 0.0], [0.0, 0.0, 0.0]]))
    moved = hint_features(*hint_correction(torch.cat([matrix_to_sixd(turned), weight], dim=-1), fit, ref_world))
    assert (moved[..., :6].abs().sum(-1) > 0.1).eq(weight[..., 0] > 0).all()


def _world(local6d: torch.Tensor, batch) -> torch.Tensor:
    from engine.kinematics import world_rotations_padded
    from engine.model.sixd import sixd_to_matrix

    return world_rotations_padded(sixd_to_matrix(local6d), batch.parents, batch.depth)


def test_a_warm_started_hinted_model_computes_what_its_source_did(skeletons) -> None:
    """--init: without hints the hinted model computes what its source did; a hint pulls its joint toward it, others stay."""
    from engine.model.sixd import geodesic_angle, sixd_to_matrix
    from engine.training.trainer import warm_start

    torch.manual_seed(0)
    source = randomize(P2RModel(TINY_P2R)).eval()
    hinted = P2RModel(replace(TINY_P2R, orientation_cue=True)).eval()
    warm_start(hinted, source)
    batch = collate_rigs([build_rig_tensors(s) for s in skeletons])
    pos = torch.randn(3, 6, batch.num_joints, 3) * 0.3
    with torch.no_grad():
        want = source(pos, source.prepare(batch))
        state = hinted.prepare(batch)
        torch.testing.assert_close(hinted(pos, state), want)
        hints = _random_hints(3, 6, batch.num_joints)
        pulled = hinted(pos, state, hints=hints)
    target = sixd_to_matrix(hints[..., :6])
    world_want, world_pulled = _world(want, batch), _world(pulled, batch)
    # A blend toward a hint nearly opposite the output (> 140 deg away) has no defined direction.
    on = (hints[..., 6] > 0.5) & batch.joint_mask[:, None] & (geodesic_angle(world_want, target) < 2.45)
    assert on.sum() > 10
    assert (geodesic_angle(world_pulled, target)[on] < geodesic_angle(world_want, target)[on]).all()
    with pytest.raises(ValueError, match="shape"):
        warm_start(P2RModel(replace(TINY_P2R, width=32, heads=4)), source)
