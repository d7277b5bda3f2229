"""Automatic retarget maps for the bundled rigs, JSON round trip and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.retarget.mapping import (
    SCHEMA_VERSION,
    RetargetMap,
    RetargetMapError,
    load_map,
    map_path_for,
    save_map,
    suggest_map,
)


def _map(name: str):
    from engine.rigs.bundled import load_bundled_rig

    sk = load_bundled_rig(name).skeleton
    return sk, suggest_map(sk, name)


def _by_tip(m: RetargetMap) -> dict[str, object]:
    return {c.target[-1]: c for c in m.chains}


def test_dragon_wings_from_arms_legs_from_legs_forelegs_trot() -> None:
    sk, m = _map("dragon")
    tips = _by_tip(m)
    assert tips["LeftWingHand"].source == "left_arm" and tips["RightWingHand"].source == "right_arm"
    assert tips["LeftWingHand"].source_pose == "arms_down"  # relaxed arms = the wings' rest pose
    assert tips["LeftHindToes"].source == "left_leg" and tips["RightHindToes"].source == "right_leg"
    # Forelegs: the diagonal (contralateral) hind leg, mirrored: a trot.
    assert tips["LeftFrontToes"].source == "right_leg" and tips["LeftFrontToes"].mirror
    assert tips["Head"].source == "neck" and tips["Jaw"].source == "head"
    assert tips["Chest"].source == "spine"
    assert tips["Tail9"].rule == "follow"


def test_quadruped_forelegs_from_arms_hanging_down() -> None:
    sk, m = _map("quadruped")
    tips = _by_tip(m)
    assert tips["LeftFrontPaw"].source == "left_arm" and tips["LeftFrontPaw"].source_pose == "arms_down"
    assert tips["LeftHindPaw"].source == "left_leg"
    assert tips["Tail5"].rule == "follow"


def test_bird_and_humanoid() -> None:
    sk, m = _map("bird")
    tips = _by_tip(m)
    assert tips["LeftWingTip"].source == "left_arm" and tips["LeftFoot"].source == "left_leg"
    sk, m = _map("humanoid")
    tips = _by_tip(m)
    assert tips["LeftHand"].source == "left_arm" and tips["RightToes"].source == "right_leg"
    assert tips["UpperChest"].source == "spine" and tips["Head"].source == "neck"


def test_spider_drives_all_eight_legs() -> None:
    sk, m = _map("spider")
    legs = [c for c in m.chains if "Leg" in c.target[-1] and c.rule == "direct"]
    assert len(legs) == 8
    assert {c.source for c in legs} == {"left_arm", "right_arm", "left_leg", "right_leg"}
    tips = _by_tip(m)
    assert tips["LeftLeg1Tarsus"].source == "left_arm" and tips["LeftLeg2Tarsus"].source == "left_leg"
    assert tips["LeftLeg3Tarsus"].source == "right_arm" and tips["LeftLeg3Tarsus"].mirror


def test_snake_body_follows_through() -> None:
    sk, m = _map("snake")
    tips = _by_tip(m)
    assert tips["Spine24"].rule == "follow" and tips["Head"].source == "neck"


def test_json_round_trip_beside_the_rig(tmp_path: Path) -> None:
    sk, m = _map("dragon")
    m.chains[0].delay_frames = 3  # an edit
    path = map_path_for(tmp_path / "dragon.glb")
    assert path.name == "dragon.glb.retarget.json"
    save_map(m, path)
    back = load_map(path, sk)
    assert back.to_dict() == m.to_dict()
    assert json.loads(path.read_text())["version"] == SCHEMA_VERSION


@pytest.mark.parametrize(
    ("mutate", "fault"),
    [
        (lambda d: d.update(version=99), "unsupported schema version 99"),
        (lambda d: d["chains"][0].update(source="tentacle"), "chains[0].source 'tentacle'"),
        (lambda d: d["chains"][1].update(rule="wiggle"), "chains[1].rule 'wiggle'"),
        (lambda d: d["chains"][0].update(target=["Pelvis", "NoSuchJoint"]), "does not have"),
        (lambda d: d["chains"][0].update(target=["Pelvis", "Chest"]), "not a child of 'Pelvis'"),
        (lambda d: d["chains"][0].update(delay_frames=-1), "delay_frames"),
        (lambda d: d["chains"][0].update(colour="red"), "unknown keys ['colour']"),
        (lambda d: d.update(forward=[0, 1]), "'forward'"),
        (lambda d: d["face_hands"].update(jaw="NoSuchJaw"), "face_hands.jaw names joint 'NoSuchJaw'"),
        (lambda d: d["face_hands"].update(left_eye=3), "face_hands.left_eye must be a joint name"),
        (lambda d: d["face_hands"]["grips"][0].update(side="middle"), "face_hands.grips[0].side"),
        (lambda d: d["face_hands"]["grips"][0].update(angle_deg=float("nan")), "face_hands.grips[0].angle_deg"),
        (lambda d: d["face_hands"]["grips"][0].update(joint=""), "face_hands.grips[0].joint must name a joint"),
        (lambda d: d["face_hands"].update(mouth="Jaw"), "face_hands has unknown keys ['mouth']"),
        (lambda d: d.update(version=2), "'face_hands' needs schema version 3"),
    ],
)
def test_malformed_maps_name_the_fault(tmp_path: Path, mutate, fault: str) -> None:
    sk, m = _map("dragon")
    data = m.to_dict()
    mutate(data)
    path = tmp_path / "bad.retarget.json"
    path.write_text(json.dumps(data))
    with pytest.raises(RetargetMapError, match=fault.replace("[", r"\[").replace("]", r"\]")) as info:
        load_map(path, sk)
    assert info.value.path == str(path)


def test_invalid_json_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.retarget.json"
    path.write_text('{"version": 1, "chains": [\n  {"target": ["a", "b"],}\n]}')
    with pytest.raises(RetargetMapError, match="invalid JSON at line 2"):
        load_map(path)
    with pytest.raises(RetargetMapError, match="cannot read"):
        load_map(tmp_path / "absent.json")


def test_humanoid_files_map_bone_for_bone(shared_data: Path) -> None:
    """CMU's LHipJoint and CC's Pelvis sit between the hips and the thighs: legs start at the thigh."""
    from engine.formats.rigio import load_rig

    cases = {
        "animated_drawings/cmu1/jumping_jacks.bvh": ("LeftHip", "LeftToe", "LeftCollar", "LeftWrist"),
        "iclone_cmu/002_01.bvh": ("CC_Base_L_Thigh", "CC_Base_L_ToeBase", "CC_Base_L_Clavicle", "CC_Base_L_Hand"),
    }
    for rel, (thigh, toe, clavicle, hand) in cases.items():
        if not (shared_data / rel).is_file():
            continue
        m = suggest_map(load_rig(shared_data / rel).skeleton)
        by_source = {c.source: c for c in m.chains if c.rule == "direct"}
        assert by_source["left_leg"].target[0] == thigh and by_source["left_leg"].target[-1] == toe
        assert by_source["left_arm"].target[0] == clavicle and by_source["left_arm"].target[-1] == hand
        assert not [c for c in m.chains if c.rule == "follow" and thigh in c.target], rel


def test_quadruped_with_humanoid_names_faces_its_head(shared_data: Path) -> None:
    from engine.formats.rigio import load_rig

    path = shared_data / "mann_dog/D1_001_KAN01_001.bvh"
    if not path.is_file():
        pytest.skip("dog clip absent")
    sk = load_rig(path).skeleton
    m = suggest_map(sk)
    rest = sk.rest_positions()
    ahead = rest[sk.index("Head")] - rest[sk.index("Hips")]
    assert float(ahead @ m.forward) > 0.9 * float(np.linalg.norm(ahead * [1, 0, 1]))
    by_tip = _by_tip(m)
    assert by_tip["LeftHand"].source_pose == "arms_down" and by_tip["Tail1"].rule == "follow"


def test_wing_fingers_are_suggested_as_grips_and_older_maps_get_them_on_load(tmp_path: Path) -> None:
    """The dragon's wing fingers (below the arm-driven chain, driven by none) close with the hand
    of their side; a humanoid's hand joints are fingers (the finger curls), so no grips; a version
    2 file (no ``face_hands``) loads with the suggested grips and the automatic jaw and eyes."""
    sk, m = _map("dragon")
    grips = {(g.joint, g.side) for g in m.face_hands.grips}
    assert len(grips) == 16 and ("LeftWingFinger4_2", "left") in grips and ("RightWingFinger1_1", "right") in grips
    assert m.face_hands.jaw is None and m.face_hands.left_eye is None
    assert _map("humanoid")[1].face_hands.grips == []
    data = m.to_dict()
    data["version"] = 2
    del data["face_hands"]
    path = tmp_path / "v2.retarget.json"
    path.write_text(json.dumps(data))
    assert load_map(path, sk).face_hands == m.face_hands
