"""Perception: BlazePose landmarks, the MediaPipe PoseLandmarker adapter, model files, the landmark simulator.

The adapter (``engine.perception.pose_landmarker``) imports ``mediapipe`` only when it is created.
"""

from engine.perception.hold import HeldFrame, LandmarkHold
from engine.perception.landmarks import LANDMARK_NAMES, NUM_LANDMARKS, Landmark, LandmarkFrame, internal_to_world, world_to_internal

__all__ = [
    "HeldFrame", "LandmarkHold", "LANDMARK_NAMES", "NUM_LANDMARKS", "Landmark", "LandmarkFrame",
    "internal_to_world", "world_to_internal",
]
