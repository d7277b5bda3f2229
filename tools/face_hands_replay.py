"""Face and hand landmarker observations recorded once per clip and replayed through the live stage.

The probes (:mod:`tools.live_probes`) replay a clip's pose landmarks through each rig's processor;
this does the same for the face and hands: :func:`record_face_hands` runs the real stage
(:class:`streaming.face_hands_stage.FaceHandsStage`, face and both hands on every frame) over the
rendered frames and keeps every observation the landmarkers returned, keyed by capture time;
:func:`replay_stage` builds a stage whose landmarkers answer from that recording, so each rig's
run sees exactly what MediaPipe saw, without running it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.perception.face_landmarker import BLENDSHAPE_NAMES, FaceObservation
from engine.perception.hand_landmarker import NUM_HAND_LANDMARKS, HandObservation
from engine.perception.landmarks import LandmarkFrame
from streaming.face_hands_stage import SIDES, FaceHandsConfig, FaceHandsStage
from streaming.headless import DEFAULT_ALTERNATE_HANDS, DEFAULT_FACE_EVERY, DEFAULT_HANDS_EVERY

__all__ = ["APP_SCHEDULE", "FaceHandsRecording", "frame_t_ms", "record_face_hands", "replay_stage"]

# The app's default face and hands schedule, on the replaying thread.
APP_SCHEDULE = FaceHandsConfig(face_every=DEFAULT_FACE_EVERY, hands_every=DEFAULT_HANDS_EVERY,
                               alternate_hands=DEFAULT_ALTERNATE_HANDS, background=False)


def frame_t_ms(index: int, fps: float) -> int:
    """The capture time in ms the live path gives frame ``index`` (as ``drive_probe``'s frames carry it)."""
    return int(index * 1e9 / fps) // 1_000_000


@dataclass(frozen=True, eq=False)
class FaceHandsRecording:
    """What the face and hand landmarkers returned, per capture time (ms)."""

    face: dict[int, FaceObservation]
    hands: dict[str, dict[int, HandObservation]]

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        t = sorted(self.face)
        arrays["face_t"] = np.array(t, dtype=np.int64)
        arrays["face_found"] = np.array([self.face[k].found for k in t], dtype=bool)
        arrays["face_blend"] = np.array([self.face[k].blendshapes for k in t]).reshape(len(t), len(BLENDSHAPE_NAMES))
        arrays["face_head"] = np.array([self.face[k].head_rotation for k in t]).reshape(len(t), 4)
        for side, seen in self.hands.items():
            t = sorted(seen)
            arrays[f"{side}_t"] = np.array(t, dtype=np.int64)
            arrays[f"{side}_found"] = np.array([seen[k].found for k in t], dtype=bool)
            arrays[f"{side}_world"] = np.array([seen[k].world for k in t]).reshape(len(t), NUM_HAND_LANDMARKS, 3)
            arrays[f"{side}_image"] = np.array([seen[k].image for k in t]).reshape(len(t), NUM_HAND_LANDMARKS, 3)
            arrays[f"{side}_score"] = np.array([seen[k].score for k in t], dtype=np.float64)
        np.savez(path, **arrays)

    @staticmethod
    def load(path: Path) -> FaceHandsRecording:
        z = np.load(path)
        face = {int(k): FaceObservation(bool(f), b, h, np.zeros((0, 3)))
                for k, f, b, h in zip(z["face_t"], z["face_found"], z["face_blend"], z["face_head"])}
        hands = {side: {int(k): HandObservation(bool(f), w, i, float(s))
                        for k, f, w, i, s in zip(z[f"{side}_t"], z[f"{side}_found"], z[f"{side}_world"], z[f"{side}_image"], z[f"{side}_score"])}
                 for side in SIDES}
        return FaceHandsRecording(face, hands)


class _Recorder:
    """A landmarker adapter that keeps what it returned, by capture time."""

    def __init__(self, adapter, seen: dict) -> None:
        self._adapter, self.seen = adapter, seen

    def detect(self, crop: np.ndarray, t_ms: int):
        observation = self._adapter.detect(crop, t_ms)
        self.seen[int(t_ms)] = observation
        return observation

    def close(self) -> None:
        self._adapter.close()


class _Replay:
    """A landmarker adapter answering from a recording (a time not recorded: nothing found)."""

    def __init__(self, seen: dict, lost) -> None:
        self._seen, self._lost = seen, lost

    def detect(self, crop: np.ndarray, t_ms: int):
        return self._seen.get(int(t_ms)) or self._lost()

    def close(self) -> None:
        pass


def record_face_hands(images: np.ndarray | list, landmarks: list[LandmarkFrame], fps: float) -> FaceHandsRecording:
    """Run the face and both hands on every frame (BGR images, crops placed by ``landmarks``)."""
    from engine.perception.face_landmarker import FaceLandmarkerAdapter
    from engine.perception.hand_landmarker import HandLandmarkerAdapter

    face: dict[int, FaceObservation] = {}
    hands: dict[str, dict[int, HandObservation]] = {side: {} for side in SIDES}
    config = FaceHandsConfig(background=False, blendshape_filter=None, allow_download=False)
    stage = FaceHandsStage(config, face_adapter=_Recorder(FaceLandmarkerAdapter(allow_download=False), face),
                           hand_adapters={side: _Recorder(HandLandmarkerAdapter(allow_download=False), hands[side]) for side in SIDES})
    try:
        for t, (image, frame_landmarks) in enumerate(zip(images, landmarks)):
            if frame_landmarks.person_found:
                stage.step(np.ascontiguousarray(image), frame_landmarks, frame_t_ms(t, fps))
    finally:
        stage.close()
    return FaceHandsRecording(face, hands)


def replay_stage(recording: FaceHandsRecording, config: FaceHandsConfig = FaceHandsConfig(background=False)) -> FaceHandsStage:
    """A live face and hands stage (on the calling thread) whose landmarkers replay ``recording``."""
    if config.background:
        raise ValueError("a replayed stage runs on the calling thread: config.background must be False")
    return FaceHandsStage(config, face_adapter=_Replay(recording.face, FaceObservation.lost),
                          hand_adapters={side: _Replay(recording.hands[side], HandObservation.lost) for side in SIDES})
