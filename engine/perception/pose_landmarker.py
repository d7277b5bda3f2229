"""MediaPipe PoseLandmarker adapter (official ``mediapipe`` package, Tasks API, VIDEO mode).

One adapter = one landmarker for a whole run: create it once, call :meth:`PoseLandmarkerAdapter.detect`
per frame with strictly increasing timestamps, close it once. Privacy note (DESIGN §9): MediaPipe's
native library looks up a Google logging host when a landmarker is *closed* (usage telemetry, no
documented opt-out); creating one landmarker per run and closing it once keeps that to one lookup.

When nobody is in the frame, :meth:`detect` returns ``person_found=False`` with zeros; holding the
last pose is the caller's job (:class:`engine.perception.hold.LandmarkHold`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.perception.landmarks import NUM_LANDMARKS, LandmarkFrame
from engine.perception.model_files import resolve_pose_model
from engine.perception.video_landmarker import PerceptionError, VideoLandmarker

__all__ = ["PoseLandmarkerAdapter", "PerceptionError"]

class PoseLandmarkerAdapter(VideoLandmarker):
    """Landmarks of one person per video frame.

    Args:
        model_path: ``.task`` file; resolved by :func:`engine.perception.model_files.resolve_pose_model`
            when None (cache, shared folder, first-use download).
        num_poses: the most people to detect (the first is reported).
        min_detection_confidence: person detector threshold.
        min_presence_confidence: landmark presence threshold.
        min_tracking_confidence: tracking threshold (below it the detector runs again).
        rgb: True when images are RGB; False (default) for OpenCV's BGR.
    """

    def __init__(self, model_path: str | Path | None = None, *, num_poses: int = 1,
                 min_detection_confidence: float = 0.5, min_presence_confidence: float = 0.5,
                 min_tracking_confidence: float = 0.5, rgb: bool = False) -> None:
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        model = resolve_pose_model(model_path)
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_poses=num_poses,
            min_pose_detection_confidence=min_detection_confidence,
            min_pose_presence_confidence=min_presence_confidence,
            min_tracking_confidence=min_tracking_confidence,
        )
        self._open(vision.PoseLandmarker, options, model, rgb)

    def detect(self, image: np.ndarray, t_ms: int) -> LandmarkFrame:
        """Landmarks of the first person in ``image``.

        Args:
            image: ``(H, W, 3)`` uint8, BGR (or RGB when ``rgb=True``).
            t_ms: capture time in milliseconds. MediaPipe requires strictly increasing timestamps:
                an equal or earlier one is moved to 1 ms after the previous (and logged), so a
                jittery clock never stops the pipeline. The returned frame carries the given ``t_ms``.

        Raises:
            PerceptionError: the adapter is closed or the image is not ``(H, W, 3)`` uint8.
        """
        result = self._run(image, t_ms)
        if not result.pose_landmarks:
            return LandmarkFrame.empty(int(t_ms))
        img = result.pose_landmarks[0]
        world = result.pose_world_landmarks[0]
        n = min(len(img), NUM_LANDMARKS)
        image_arr = np.array([[p.x, p.y, p.z] for p in img[:n]], dtype=np.float64)
        world_arr = np.array([[p.x, p.y, p.z] for p in world[:n]], dtype=np.float64)
        vis = np.array([p.visibility if p.visibility is not None else 0.0 for p in img[:n]], dtype=np.float64)
        pres = np.array([p.presence if p.presence is not None else 0.0 for p in img[:n]], dtype=np.float64)
        return LandmarkFrame(world_arr, image_arr, vis, pres, True, int(t_ms))
