"""MediaPipe HandLandmarker adapter (Tasks API, VIDEO mode) on a crop around one wrist.

One adapter per hand side, so each keeps its own VIDEO-mode tracking (a tracked hand skips the palm
detector on the next call, which is most of the cost). The side comes from the pose wrist the crop
was placed on (:func:`engine.perception.crops.hand_box`), never from the model's handedness, which
is unreliable on crops (both hands came out "Right" on a test frame, shared/models/README.md).

Outputs (:class:`HandObservation`): 21 landmarks in MediaPipe's hand order (0 wrist; thumb 1-4 =
CMC, MCP, IP, tip; index 5-8, middle 9-12, ring 13-16, pinky 17-20 = MCP, PIP, DIP, tip), as metric
"world" points (metres, origin near the hand's centre, MediaPipe camera axes: x right, y down, z
away) and crop-normalised image points.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.perception.model_files import HAND_LANDMARKER, resolve_pose_model
from engine.perception.video_landmarker import VideoLandmarker

__all__ = ["NUM_HAND_LANDMARKS", "HandObservation", "HandLandmarkerAdapter"]

NUM_HAND_LANDMARKS = 21


@dataclass(frozen=True, eq=False)
class HandObservation:
    """One hand in one frame.

    Attributes:
        found: False when no hand was found in the crop (arrays are zeros).
        world: ``(21, 3)`` float64 metres, MediaPipe camera axes (x right, y down, z away).
        image: ``(21, 3)`` float64 crop-normalised x, y in ``[0, 1]``, relative z.
        score: the model's hand presence score (0 when lost).
    """

    found: bool
    world: np.ndarray
    image: np.ndarray
    score: float = 0.0

    @staticmethod
    def lost() -> HandObservation:
        z = np.zeros((NUM_HAND_LANDMARKS, 3))
        return HandObservation(False, z, z, 0.0)


class HandLandmarkerAdapter(VideoLandmarker):
    """The 21 landmarks of the one hand in a wrist crop.

    Args:
        model_path: ``hand_landmarker.task``; None resolves it like the pose model.
        rgb: True when crops are RGB; False (default) for BGR.
        min_confidence: detection, presence and tracking threshold.
        allow_download: False to fail instead of downloading a missing model.

    Raises:
        ModelFileError: the model file cannot be found (or downloaded).
    """

    def __init__(self, model_path: str | Path | None = None, *, rgb: bool = False, min_confidence: float = 0.5,
                 allow_download: bool = True) -> None:
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        model = resolve_pose_model(model_path, model=HAND_LANDMARKER, allow_download=allow_download)
        options = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_hands=1,
            min_hand_detection_confidence=min_confidence,
            min_hand_presence_confidence=min_confidence,
            min_tracking_confidence=min_confidence,
        )
        self._open(vision.HandLandmarker, options, model, rgb)

    def detect(self, crop: np.ndarray, t_ms: int) -> HandObservation:
        """The hand in ``crop`` at capture time ``t_ms``.

        Raises:
            PerceptionError: the adapter is closed or the crop is not ``(H, W, 3)`` uint8.
        """
        result = self._run(crop, t_ms)
        if not result.hand_landmarks or not result.hand_world_landmarks:
            return HandObservation.lost()
        image = np.array([[p.x, p.y, p.z] for p in result.hand_landmarks[0]], dtype=np.float64)
        world = np.array([[p.x, p.y, p.z] for p in result.hand_world_landmarks[0]], dtype=np.float64)
        score = float(result.handedness[0][0].score) if result.handedness and result.handedness[0] else 1.0
        return HandObservation(True, world, image, score)
