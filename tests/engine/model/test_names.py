from __future__ import annotations

import numpy as np
import pytest

from engine.model.names import NAME_FEATURES, encode_names, name_features, name_tokens


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("mixamorig:LeftUpLeg", ["left", "up", "leg"]),
        ("DEF-upper_arm.L", ["upper", "arm", "l"]),
        ("Bip01 R Finger12", ["r", "finger", "12"]),
        ("CC_Base_L_Thigh", ["l", "thigh"]),
        ("lefthand", ["left", "hand"]),
        ("ORG_tail_03", ["tail", "03"]),
        ("LeftForeArm", ["left", "fore", "arm"]),
    ],
)
def test_tokens(name: str, tokens: list[str]) -> None:
    assert name_tokens(name) == tokens


def test_side_flags_and_synonyms_agree_across_conventions() -> None:
    a = name_features("mixamorig:LeftHand")
    for other in ("hand.L", "L_Hand", "DEF-hand_l", "Hand_L", "left_palm"):
        np.testing.assert_array_equal(name_features(other), a, err_msg=other)
    assert not np.array_equal(name_features("RightHand"), a)
    assert not np.array_equal(name_features("LeftFoot"), a)


def test_numbers_order_chains() -> None:
    f1, f2 = name_features("Spine1"), name_features("Spine2")
    assert f1.shape == (NAME_FEATURES,) and f1.dtype == np.float32
    assert not np.array_equal(f1, f2)
    assert np.count_nonzero(f1 != f2) == 1  # only the scaled number differs


def test_unknown_words_hash_stably_and_empty_names_work() -> None:
    a, b = name_features("Frobnicator"), name_features("Frobnicator")
    np.testing.assert_array_equal(a, b)
    assert a.sum() == 2.0  # one hashed bucket + the "no side" flag
    assert name_features("").sum() == 1.0
    assert encode_names(["Hips", "Spine"]).shape == (2, NAME_FEATURES)
    assert encode_names([]).shape == (0, NAME_FEATURES)
