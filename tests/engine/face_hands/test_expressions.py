"""Blendshapes -> VRM 0 expressions, ARKit names, jaw and gaze angles."""

from __future__ import annotations

import numpy as np
import pytest

from engine.face_hands.expressions import (
    ARKIT_NAMES, JAW_OPEN_MAX_RAD, VRM0_NAMES, arkit_blendshapes, gaze_angles, jaw_open_angle, named_blendshapes, vrm0_expressions,
)
from engine.perception.face_landmarker import BLENDSHAPE_NAMES


def shapes(**values: float) -> np.ndarray:
    b = np.zeros(len(BLENDSHAPE_NAMES))
    for name, v in values.items():
        b[BLENDSHAPE_NAMES.index(name)] = v
    return b


def test_vrm0_names_are_the_eleven_presets_and_neutral_face_is_all_zero() -> None:
    assert VRM0_NAMES == ("A", "I", "U", "E", "O", "Blink_L", "Blink_R", "Joy", "Angry", "Sorrow", "Fun")
    assert set(vrm0_expressions(shapes()).values()) == {0.0}


def test_vrm0_follows_the_mouth_and_eyes() -> None:
    out = vrm0_expressions(shapes(jawOpen=0.5, eyeBlinkLeft=1.0, mouthSmileLeft=0.8, mouthSmileRight=0.8))
    assert out["A"] == pytest.approx(0.6)
    assert out["Blink_L"] == 1.0 and out["Blink_R"] == 0.0
    assert out["Joy"] == pytest.approx(0.8) and out["Angry"] == 0.0
    assert vrm0_expressions(shapes(jawOpen=1.0))["A"] == 1.0  # clipped


def test_arkit_sends_the_52_perfect_sync_names() -> None:
    out = arkit_blendshapes(shapes(jawOpen=0.3, eyeBlinkRight=0.7))
    assert len(out) == 52 and list(out) == list(ARKIT_NAMES) and "_neutral" not in out
    assert out["jawOpen"] == pytest.approx(0.3) and out["eyeBlinkRight"] == pytest.approx(0.7) and out["tongueOut"] == 0.0
    assert named_blendshapes(shapes(), "arkit") == arkit_blendshapes(shapes())
    with pytest.raises(ValueError, match="vrm0"):
        named_blendshapes(shapes(), "vrm1")


def test_jaw_and_gaze_angles() -> None:
    assert jaw_open_angle(shapes(jawOpen=0.5)) == pytest.approx(0.5 * JAW_OPEN_MAX_RAD)
    gaze = gaze_angles(shapes(eyeLookOutLeft=1.0, eyeLookInRight=1.0, eyeLookUpLeft=0.5, eyeLookUpRight=0.5))
    assert gaze["left"][0] > 0 and gaze["right"][0] > 0  # both eyes look to the performer's left
    assert gaze["left"][1] > 0 and gaze["left"][1] == pytest.approx(gaze["right"][1])
    with pytest.raises(ValueError, match="52"):
        jaw_open_angle(np.zeros(3))
