"""Joint naming styles: examples of each family, unique names per rig."""

from __future__ import annotations

import numpy as np
import pytest

from engine.synthetic.naming import NAMING_STYLES, JointLabel, name_joints


@pytest.mark.parametrize(
    "style, label, expected",
    [
        ("unity", JointLabel("arm", "L", 1, 4), "LeftUpperArm"),
        ("mixamo", JointLabel("arm", "L", 1, 4), "mixamorig:LeftArm"),
        ("rigify", JointLabel("arm", "L", 1, 4), "DEF-upper_arm.L"),
        ("underscore", JointLabel("wing", "L", 0, 3), "L_wing_01"),
        ("underscore", JointLabel("tail", "", 2, 5), "tail_03"),
        ("unity", JointLabel("leg", "R", 0, 4), "RightUpperLeg"),
    ],
)
def test_naming_styles(style, label, expected):
    assert NAMING_STYLES[style](label) == expected


def test_generic_names_and_uniqueness():
    rng = np.random.default_rng(0)
    labels = [JointLabel("bone")] * 13
    names, style = name_joints(labels, rng, "generic")
    assert style == "generic" and len(set(names)) == 13
    names, _ = name_joints([JointLabel("tail")] * 3, rng, "unity")  # same label thrice
    assert len(set(names)) == 3
