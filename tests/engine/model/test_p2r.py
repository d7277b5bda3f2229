from __future__ import annotations

import numpy as np
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


def test_rig_alone_equals_rig_in_a_padded_batch(skeletons) -> None:
    model = randomize(P2RModel(TINY_P2R))
    rigs = [build_rig_tensors(s) for s in skeletons]
    batch = collate_rigs(rigs, pad_to=15)
    pos = torch.randn(3, 8, 15, 3)
    with torch.no_grad():
        together = model(pos, model.prepare(batch))
        for b, rig in enumerate(rigs):
            n = rig.num_joints
            alone = model(pos[b : b + 1, :, :n], model.prepare(rig))
            torch.testing.assert_close(together[b : b + 1, :, :n], alone, atol=1e-5, rtol=1e-5)


def test_step_equals_full_causal_forward_beyond_the_window(skeletons) -> None:
    """Mandatory exactness: 3W+ frames, a padded batch, max abs difference <= 1e-4 (float32)."""
    model = randomize(P2RModel(TINY_P2R))
    batch = collate_rigs([build_rig_tensors(s) for s in skeletons])
    T = 3 * TINY_P2R.window + 3
    pos = torch.randn(3, T, batch.num_joints, 3) * 0.3
    with torch.no_grad():
        state = model.prepare(batch)
        full = model(pos, state)
        caches = model.empty_cache(state)
        stepped = torch.cat([model.step(pos[:, t : t + 1], None, state, caches, torch.tensor(t)) for t in range(T)], dim=1)
    mask = batch.joint_mask[:, None, :, None].expand_as(full)
    assert (stepped - full)[mask].abs().max() <= 1e-4
