"""Chain finding and classification on the bundled rigs and a shared quadruped."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.retarget.chains import ChainKind, find_chains, joint_part, rig_forward


def _chains(rig_name: str):
    from engine.rigs.bundled import load_bundled_rig

    sk = load_bundled_rig(rig_name).skeleton
    return sk, find_chains(sk)


def _kinds(sk, chains) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in chains:
        out[c.kind] = out.get(c.kind, 0) + 1
    return out


def test_chains_cover_every_bone_once() -> None:
    for name in ("humanoid", "quadruped", "dragon", "bird", "snake", "spider"):
        sk, chains = _chains(name)
        bones = [(c.joints[i], c.joints[i + 1]) for c in chains for i in range(len(c.joints) - 1)]
        assert len(bones) == len(set(bones)) == sk.num_joints - len(sk.roots), name
        for a, b in bones:
            assert sk.parents[b] == a


def test_dragon_kinds_and_sides() -> None:
    sk, chains = _chains("dragon")
    body_wings = [c for c in chains if c.kind == ChainKind.WING and "Shoulder" in sk.names[c.joints[1]]]
    assert sorted(c.side for c in body_wings) == ["left", "right"]
    assert sorted(c.side for c in chains if c.kind == ChainKind.FORELEG) == ["left", "right"]
    assert sorted(c.side for c in chains if c.kind == ChainKind.HINDLEG) == ["left", "right"]
    assert [c.side for c in chains if c.kind == ChainKind.TAIL] == [None]
    assert any(c.kind == ChainKind.NECK for c in chains)


def test_spider_has_eight_walking_legs_and_the_quadruped_four() -> None:
    sk, chains = _chains("spider")
    legs = [c for c in chains if c.kind == ChainKind.LEG]
    assert len(legs) == 8 and sum(c.side == "left" for c in legs) == 4
    sk, chains = _chains("quadruped")
    kinds = _kinds(sk, chains)
    assert kinds[ChainKind.FORELEG] == 2 and kinds[ChainKind.HINDLEG] == 2 and kinds[ChainKind.TAIL] == 1


def test_humanoid_and_forward() -> None:
    sk, chains = _chains("humanoid")
    kinds = _kinds(sk, chains)
    assert kinds[ChainKind.ARM] == 2 and kinds[ChainKind.LEG] == 2 and kinds[ChainKind.DIGIT] == 10
    assert rig_forward(sk) @ [0, 0, 1] > 0.99


def test_joint_parts() -> None:
    assert joint_part("LeftWingForearm") == "lower_arm"
    assert joint_part("mixamorig:LeftForeArm") == "lower_arm"
    assert joint_part("LeftHindThigh") == "upper_leg"
    assert joint_part("Tail3") is None


def test_unnamed_chains_are_classified_by_geometry() -> None:
    """Joints called j0..jN: legs hang down, the tail points back, sides come from the rest pose."""
    import numpy as np

    from engine.skeleton import Skeleton

    # root; spine forward to a chest; 2 legs at the hips, 2 at the chest; a tail; a neck.
    offsets = [(0, 1, 0), (0, 0, .5), (.2, 0, 0), (0, -.5, 0), (-.2, 0, 0), (0, -.5, 0), (.2, 0, 0), (0, -.5, 0),
               (-.2, 0, 0), (0, -.5, 0), (0, 0, -.4), (0, 0, -.4), (0, .3, .3), (0, .2, .2)]
    parents = [-1, 0, 0, 2, 0, 4, 1, 6, 1, 8, 0, 10, 1, 12]
    sk = Skeleton(tuple(f"j{i}" for i in range(14)), np.array(parents), np.array(offsets, float), np.tile([0, 0, 0, 1.0], (14, 1)))
    chains = find_chains(sk)
    kinds = sorted((c.kind, c.side or "") for c in chains)
    assert kinds.count((ChainKind.LEG, "left")) == 2 and kinds.count((ChainKind.LEG, "right")) == 2
    assert (ChainKind.TAIL, "") in kinds and (ChainKind.NECK, "") in kinds


def test_dog_bvh_chains(shared_data: Path) -> None:
    """The MANN dog BVH (humanoid-style names on a quadruped): tail and four limbs found."""
    from engine.formats.rigio import load_rig

    path = shared_data / "mann_dog/D1_001_KAN01_001.bvh"
    if not path.is_file():
        pytest.skip("dog clip absent")
    sk = load_rig(path).skeleton
    chains = find_chains(sk)
    assert any(c.kind == ChainKind.TAIL for c in chains)
    assert sum(c.kind in (ChainKind.LEG, ChainKind.ARM) for c in chains) >= 4
