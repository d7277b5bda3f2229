"""MediaPipe FaceLandmarker adapter (Tasks API, VIDEO mode) on a head crop: blendshapes and head rotation.

One adapter per run, closed once (DESIGN §9, as :mod:`engine.perception.pose_landmarker`). The
image given to :meth:`FaceLandmarkerAdapter.detect` is a crop around the head
(:func:`engine.perception.crops.head_box`); on a whole-body frame the face is not found.

Outputs per frame (:class:`FaceObservation`):

- ``blendshapes``: ``(52,)`` scores in ``[0, 1]`` in the order of :data:`BLENDSHAPE_NAMES`
  (MediaPipe's order: ``_neutral`` then 51 ARKit names; ARKit's ``tongueOut`` is not tracked);
- ``head_rotation``: ``(4,)`` x y z w, the rotation of the facial transformation matrix (canonical
  face model -> the detected face, camera space). MediaPipe's face space is x right, y up, z toward
  the viewer, which is the project's internal frame for a performer facing the camera (DESIGN §3):
  identity = looking straight into the crop's centre. It is the head's orientation **relative to
  a camera looking straight at the crop**: the live stage turns it into the real camera's axes
  with :func:`engine.perception.crops.view_rotation` (a head near the top of the frame is ~14
  degrees off the optical axis), and it then drives the head (:mod:`engine.performer.face_head`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.perception.model_files import FACE_LANDMARKER, resolve_pose_model
from engine.perception.video_landmarker import VideoLandmarker

__all__ = ["BLENDSHAPE_NAMES", "FaceObservation", "FaceLandmarkerAdapter"]

BLENDSHAPE_NAMES: tuple[str, ...] = (
    "_neutral", "browDownLeft", "browDownRight", "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "cheekPuff",
    "cheekSquintLeft", "cheekSquintRight", "eyeBlinkLeft", "eyeBlinkRight", "eyeLookDownLeft", "eyeLookDownRight",
    "eyeLookInLeft", "eyeLookInRight", "eyeLookOutLeft", "eyeLookOutRight", "eyeLookUpLeft", "eyeLookUpRight",
    "eyeSquintLeft", "eyeSquintRight", "eyeWideLeft", "eyeWideRight", "jawForward", "jawLeft", "jawOpen", "jawRight",
    "mouthClose", "mouthDimpleLeft", "mouthDimpleRight", "mouthFrownLeft", "mouthFrownRight", "mouthFunnel", "mouthLeft",
    "mouthLowerDownLeft", "mouthLowerDownRight", "mouthPressLeft", "mouthPressRight", "mouthPucker", "mouthRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper", "mouthSmileLeft", "mouthSmileRight",
    "mouthStretchLeft", "mouthStretchRight", "mouthUpperUpLeft", "mouthUpperUpRight", "noseSneerLeft", "noseSneerRight",
)


@dataclass(frozen=True, eq=False)
class FaceObservation:
    """The face in one frame.

    Attributes:
        found: False when no face was found in the crop (the arrays then hold neutral values).
        blendshapes: ``(52,)`` float64 in ``[0, 1]``, order :data:`BLENDSHAPE_NAMES`.
        head_rotation: ``(4,)`` float64 x y z w, head relative to the camera, internal frame.
        landmarks: ``(478, 3)`` crop-normalised x, y in ``[0, 1]`` and relative z (empty when lost).
    """

    found: bool
    blendshapes: np.ndarray
    head_rotation: np.ndarray
    landmarks: np.ndarray

    @staticmethod
    def lost() -> FaceObservation:
        return FaceObservation(False, np.zeros(len(BLENDSHAPE_NAMES)), np.array([0.0, 0.0, 0.0, 1.0]), np.zeros((0, 3)))


class FaceLandmarkerAdapter(VideoLandmarker):
    """Blendshapes and head rotation of one face per crop (VIDEO mode: tracking between calls).

    Args:
        model_path: ``face_landmarker.task``; None resolves it like the pose model (cache,
            ``../shared/models``, first-use download with the pinned sha256).
        rgb: True when crops are RGB; False (default) for OpenCV's BGR.
        allow_download: False to fail instead of downloading a missing model.

    Raises:
        ModelFileError: the model file cannot be found (or downloaded).
    """

    def __init__(self, model_path: str | Path | None = None, *, rgb: bool = False, allow_download: bool = True) -> None:
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core.base_options import BaseOptions

        model = resolve_pose_model(model_path, model=FACE_LANDMARKER, allow_download=allow_download)
        options = vision.FaceLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(model)),
            running_mode=vision.RunningMode.VIDEO,
            num_faces=1,
            output_face_blendshapes=True,
            output_facial_transformation_matrixes=True,
        )
        self._open(vision.FaceLandmarker, options, model, rgb)

    def detect(self, crop: np.ndarray, t_ms: int) -> FaceObservation:
        """The face in ``crop`` (``(S, S, 3)`` uint8) at capture time ``t_ms``.

        Raises:
            PerceptionError: the adapter is closed or the crop is not ``(H, W, 3)`` uint8.
        """
        result = self._run(crop, t_ms)
        if not result.face_landmarks or not result.face_blendshapes:
            return FaceObservation.lost()
        scores = {c.category_name: float(c.score) for c in result.face_blendshapes[0]}
        blend = np.clip(np.array([scores.get(n, 0.0) for n in BLENDSHAPE_NAMES]), 0.0, 1.0)
        head = np.array([0.0, 0.0, 0.0, 1.0])
        if result.facial_transformation_matrixes:
            m = np.asarray(result.facial_transformation_matrixes[0], dtype=np.float64)[:3, :3]
            u, _, vt = np.linalg.svd(m)  # strip scale: the nearest rotation
            head = rot.quat_normalize(rot.matrix_to_quat(u @ vt))
        points = np.array([[p.x, p.y, p.z] for p in result.face_landmarks[0]], dtype=np.float64)
        return FaceObservation(True, blend, head, points)
