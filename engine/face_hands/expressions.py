"""Face blendshapes -> what receivers and rigs take: VRM 0 expressions, ARKit names, jaw and gaze angles.

MediaPipe's FaceLandmarker scores 52 blendshapes (``_neutral`` + 51 of ARKit's 52; ``tongueOut`` is
not tracked), see :data:`engine.perception.face_landmarker.BLENDSHAPE_NAMES`.

- :func:`vrm0_expressions`: the 11 VRM 0 preset names VMC receivers expect by default (VMC.md §1:
  A, I, U, E, O, Blink_L, Blink_R, Joy, Angry, Sorrow, Fun), each a clipped weighted sum of
  blendshapes (:data:`VRM0_RECIPES`). This is a heuristic in the spirit of what webcam VTuber apps
  do, not a fitted model: the vowels follow the mouth's shape (open, spread, puckered, funnel), the
  emotions the smile, frown, brow and cheek shapes.
- :func:`arkit_blendshapes`: the 52 ARKit names with their scores (``tongueOut`` = 0), as Perfect
  Sync receivers expect.
- :func:`jaw_open_angle`, :func:`gaze_angles`: radians for rig joints.

Sides: MediaPipe names a shape after the performer's side (``eyeBlinkLeft`` = the performer's left
eye) on an unmirrored camera image, as ARKit does; VRM ``Blink_L`` is the avatar's left, so the two
agree when the avatar mirrors the performer's body (which the body path does: left drives left).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine.perception.face_landmarker import BLENDSHAPE_NAMES

__all__ = [
    "VRM0_NAMES", "VRM0_RECIPES", "ARKIT_NAMES", "JAW_OPEN_MAX_RAD", "GAZE_MAX_RAD",
    "vrm0_expressions", "arkit_blendshapes", "named_blendshapes", "jaw_open_angle", "gaze_angles", "NEUTRAL_BLENDSHAPES",
]

_INDEX = {name: i for i, name in enumerate(BLENDSHAPE_NAMES)}

ARKIT_NAMES: tuple[str, ...] = tuple(n for n in BLENDSHAPE_NAMES if n != "_neutral") + ("tongueOut",)

NEUTRAL_BLENDSHAPES = np.zeros(len(BLENDSHAPE_NAMES))  # every shape off (``_neutral`` too: it is not sent)

# VRM 0 preset -> ((blendshape, weight), ...); the sum is clipped to [0, 1].
VRM0_RECIPES: dict[str, tuple[tuple[str, float], ...]] = {
    "A": (("jawOpen", 1.2),),
    "I": (("mouthStretchLeft", 0.6), ("mouthStretchRight", 0.6), ("mouthSmileLeft", 0.2), ("mouthSmileRight", 0.2)),
    "U": (("mouthPucker", 1.0),),
    "E": (("mouthLowerDownLeft", 0.5), ("mouthLowerDownRight", 0.5), ("mouthUpperUpLeft", 0.3), ("mouthUpperUpRight", 0.3)),
    "O": (("mouthFunnel", 1.2),),
    "Blink_L": (("eyeBlinkLeft", 1.0),),
    "Blink_R": (("eyeBlinkRight", 1.0),),
    "Joy": (("mouthSmileLeft", 0.5), ("mouthSmileRight", 0.5), ("cheekSquintLeft", 0.2), ("cheekSquintRight", 0.2)),
    "Angry": (("browDownLeft", 0.5), ("browDownRight", 0.5), ("noseSneerLeft", 0.2), ("noseSneerRight", 0.2)),
    "Sorrow": (("mouthFrownLeft", 0.4), ("mouthFrownRight", 0.4), ("browInnerUp", 0.4)),
    "Fun": (("cheekSquintLeft", 0.4), ("cheekSquintRight", 0.4), ("mouthSmileLeft", 0.2), ("mouthSmileRight", 0.2)),
}
VRM0_NAMES: tuple[str, ...] = tuple(VRM0_RECIPES)

JAW_OPEN_MAX_RAD = float(np.radians(30.0))  # jawOpen = 1 opens a rig's jaw this far
GAZE_MAX_RAD = float(np.radians(25.0))  # a full eyeLook* score turns an eye joint this far


def _scores(blendshapes: np.ndarray) -> np.ndarray:
    b = np.asarray(blendshapes, dtype=np.float64)
    if b.shape != (len(BLENDSHAPE_NAMES),):
        raise ValueError(f"blendshapes must be ({len(BLENDSHAPE_NAMES)},) in BLENDSHAPE_NAMES order, got {b.shape}")
    return b


def vrm0_expressions(blendshapes: np.ndarray) -> dict[str, float]:
    """The 11 VRM 0 expression weights in ``[0, 1]`` from ``(52,)`` blendshape scores."""
    b = _scores(blendshapes)
    return {name: float(np.clip(sum(w * b[_INDEX[s]] for s, w in recipe), 0.0, 1.0)) for name, recipe in VRM0_RECIPES.items()}


def arkit_blendshapes(blendshapes: np.ndarray) -> dict[str, float]:
    """The 52 ARKit names (Perfect Sync) with their scores; ``tongueOut`` is 0 (not tracked)."""
    b = _scores(blendshapes)
    return {name: (float(b[_INDEX[name]]) if name in _INDEX else 0.0) for name in ARKIT_NAMES}


def named_blendshapes(blendshapes: np.ndarray, naming: str) -> dict[str, float]:
    """``vrm0`` or ``arkit`` names with their weights (see the two functions above)."""
    if naming == "vrm0":
        return vrm0_expressions(blendshapes)
    if naming == "arkit":
        return arkit_blendshapes(blendshapes)
    raise ValueError(f"blendshape naming must be 'vrm0' or 'arkit', got {naming!r}")


def jaw_open_angle(blendshapes: np.ndarray) -> float:
    """Radians a rig's jaw opens: ``jawOpen`` times :data:`JAW_OPEN_MAX_RAD`."""
    return float(_scores(blendshapes)[_INDEX["jawOpen"]]) * JAW_OPEN_MAX_RAD


def gaze_angles(blendshapes: np.ndarray) -> Mapping[str, tuple[float, float]]:
    """Per eye (``"left"``, ``"right"``, performer's sides): ``(yaw, pitch)`` radians.

    Yaw > 0 turns the eye toward the performer's left, pitch > 0 up. An eye looks "in" toward the
    nose and "out" away from it: for the left eye out is toward the left.
    """
    b = _scores(blendshapes)
    out: dict[str, tuple[float, float]] = {}
    for side, Side, outward in (("left", "Left", 1.0), ("right", "Right", -1.0)):
        horizontal = b[_INDEX[f"eyeLookOut{Side}"]] - b[_INDEX[f"eyeLookIn{Side}"]]
        vertical = b[_INDEX[f"eyeLookUp{Side}"]] - b[_INDEX[f"eyeLookDown{Side}"]]
        out[side] = (float(outward * horizontal * GAZE_MAX_RAD), float(vertical * GAZE_MAX_RAD))
    return out
