"""The 33 BlazePose body landmarks and one frame of them.

Landmark order and names follow MediaPipe's PoseLandmarker (BlazePose GHUM 3D), the same as
``mediapipe.tasks.python.vision.PoseLandmark``. Two coordinate sets come per frame:

- **world**: metres, origin at the midpoint of the hips, MediaPipe's camera-aligned axes: x to the
  image's right, y down, z away from the camera (larger z = farther). This is the raw output; use
  :func:`world_to_internal` for the project's frame.
- **image**: x and y normalised to ``[0, 1]`` by the image width and height (origin top left), z is
  depth relative to the hips in roughly the same scale as x (smaller = closer to the camera).

The project's internal frame (DESIGN §3) is right-handed, Y up, +Z forward. Mapping MediaPipe world
``(x, y, z) -> (x, -y, -z)`` (a 180-degree turn about X, so handedness is kept) gives X to the image's
right, Y up and Z toward the camera: a performer who faces the camera faces +Z, with their left
side on +X, exactly like a glTF asset at rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

__all__ = [
    "NonFiniteLandmarks",
    "NUM_LANDMARKS",
    "LANDMARK_NAMES",
    "Landmark",
    "LandmarkFrame",
    "world_to_internal",
    "internal_to_world",
]

NUM_LANDMARKS = 33


class Landmark(IntEnum):
    """BlazePose landmark indices (MediaPipe's ``PoseLandmark``)."""

    NOSE = 0
    LEFT_EYE_INNER = 1
    LEFT_EYE = 2
    LEFT_EYE_OUTER = 3
    RIGHT_EYE_INNER = 4
    RIGHT_EYE = 5
    RIGHT_EYE_OUTER = 6
    LEFT_EAR = 7
    RIGHT_EAR = 8
    MOUTH_LEFT = 9
    MOUTH_RIGHT = 10
    LEFT_SHOULDER = 11
    RIGHT_SHOULDER = 12
    LEFT_ELBOW = 13
    RIGHT_ELBOW = 14
    LEFT_WRIST = 15
    RIGHT_WRIST = 16
    LEFT_PINKY = 17  # pinky knuckle (MCP)
    RIGHT_PINKY = 18
    LEFT_INDEX = 19  # index knuckle (MCP)
    RIGHT_INDEX = 20
    LEFT_THUMB = 21  # thumb knuckle (IP/MCP region)
    RIGHT_THUMB = 22
    LEFT_HIP = 23
    RIGHT_HIP = 24
    LEFT_KNEE = 25
    RIGHT_KNEE = 26
    LEFT_ANKLE = 27
    RIGHT_ANKLE = 28
    LEFT_HEEL = 29
    RIGHT_HEEL = 30
    LEFT_FOOT_INDEX = 31  # tip of the foot (toes)
    RIGHT_FOOT_INDEX = 32


LANDMARK_NAMES: tuple[str, ...] = tuple(m.name.lower() for m in Landmark)

# Internal = M @ MediaPipe world (a 180-degree turn about X; its own inverse).
_MP_TO_INTERNAL = np.array([1.0, -1.0, -1.0])


def world_to_internal(world: np.ndarray) -> np.ndarray:
    """MediaPipe world landmarks ``(..., 3)`` (x right, y down, z away) -> internal (X right, Y up, Z toward camera)."""
    return np.asarray(world, dtype=np.float64) * _MP_TO_INTERNAL


def internal_to_world(points: np.ndarray) -> np.ndarray:
    """Inverse of :func:`world_to_internal` (the same flip)."""
    return np.asarray(points, dtype=np.float64) * _MP_TO_INTERNAL


class NonFiniteLandmarks(ValueError):
    """Landmarks with NaN or infinite values (a perception glitch): the frame is dropped, the session goes on."""


@dataclass(frozen=True, eq=False)
class LandmarkFrame:
    """The landmarks of one person in one video frame.

    Attributes:
        world: ``(33, 3)`` float64 metres, MediaPipe world frame (hip-centred, x right, y down,
            z away from the camera).
        image: ``(33, 3)`` float64, x and y normalised to ``[0, 1]``, z relative depth.
        visibility: ``(33,)`` float64 in ``[0, 1]``, likelihood the landmark is visible (not occluded).
        presence: ``(33,)`` float64 in ``[0, 1]``, likelihood the landmark is inside the image.
        person_found: False when no person was detected; the arrays then hold zeros (the caller
            decides what to hold, see :class:`engine.perception.hold.LandmarkHold`).
        t_ms: timestamp of the frame in milliseconds (capture time).
    """

    world: np.ndarray
    image: np.ndarray
    visibility: np.ndarray
    presence: np.ndarray
    person_found: bool
    t_ms: int

    def __post_init__(self) -> None:
        for name, shape in (("world", (NUM_LANDMARKS, 3)), ("image", (NUM_LANDMARKS, 3)),
                            ("visibility", (NUM_LANDMARKS,)), ("presence", (NUM_LANDMARKS,))):
            value = np.array(getattr(self, name), dtype=np.float64)
            if value.shape != shape:
                raise ValueError(f"LandmarkFrame.{name} must be {shape}, got {value.shape}")
            if not np.isfinite(value).all():
                raise NonFiniteLandmarks(f"LandmarkFrame.{name} contains non-finite values")
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        object.__setattr__(self, "person_found", bool(self.person_found))
        object.__setattr__(self, "t_ms", int(self.t_ms))

    @staticmethod
    def empty(t_ms: int) -> LandmarkFrame:
        """A frame with no person: zeros everywhere, ``person_found=False``."""
        z3 = np.zeros((NUM_LANDMARKS, 3))
        z1 = np.zeros(NUM_LANDMARKS)
        return LandmarkFrame(z3, z3, z1, z1, False, t_ms)

    def internal_world(self) -> np.ndarray:
        """``(33, 3)`` world landmarks in the internal frame (X right, Y up, Z toward the camera)."""
        return world_to_internal(self.world)
