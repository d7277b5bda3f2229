"""Authored probe motions: the right joint turns by the authored angle, everything else holds the relaxed stance."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.evaluation.probe_motions import PROBES, RELAXED_ARM_DEG, author_probe, probe_spec, relaxed_stance
from engine.kinematics import forward_kinematics
from engine.rigs.bundled import build_rig


@pytest.fixture(scope="module")
def humanoid():
    rig = build_rig("humanoid").rig
    return rig.skeleton, dict(rig.humanoid)


def test_relaxed_stance_hangs_the_arms_at_ten_degrees(humanoid) -> None:
    sk, bones = humanoid
    _, pos = forward_kinematics(sk.parents, rot.quat_to_matrix(relaxed_stance(sk, bones)), sk.rest_translations)
    for side in ("Left", "Right"):
        d = pos[sk.index(bones[f"{side}LowerArm"])] - pos[sk.index(bones[f"{side}UpperArm"])]
        assert np.degrees(np.arccos(-d[1] / np.linalg.norm(d))) == pytest.approx(RELAXED_ARM_DEG, abs=1e-6)


@pytest.mark.parametrize("spec", PROBES, ids=lambda p: p.name)
def test_only_the_probed_part_moves(humanoid, spec) -> None:
    sk, bones = humanoid
    motion = author_probe(sk, bones, spec, 30)
    q = motion.clip.rotations
    moved = np.degrees(rot.quat_geodesic_angle(q[:1], q)).max(0)  # (J,) largest turn of each joint from frame 0
    turned = {sk.names[j] for j in np.flatnonzero(moved > 1e-6)}
    expected = {"head": {"Head"}, "torso": {"Spine", "Chest", "UpperChest"}, "forearm": {"LeftLowerArm"},
                "upper_arm": {"LeftUpperArm"}, "none": set()}[spec.part]
    assert turned == expected
    if spec.shape == "raise":
        assert motion.angle_deg[0] == 0.0 and motion.angle_deg.max() == pytest.approx(spec.amplitude_deg, rel=0.01)


def test_bad_requests_are_named(humanoid) -> None:
    sk, bones = humanoid
    with pytest.raises(KeyError, match="no probe 'nod'"):
        probe_spec("nod")
    with pytest.raises(ValueError, match="at least 2 frames"):
        author_probe(sk, bones, "head_yaw", 1)
    with pytest.raises(ValueError, match="LeftLowerArm"):
        author_probe(sk, {k: v for k, v in bones.items() if k != "LeftLowerArm"}, "head_yaw", 10)
