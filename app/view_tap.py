"""What the camera view shows, taken from the inference thread without slowing it (no Qt here).

:class:`ViewTap` wraps a :class:`~streaming.processor.LiveProcessor`'s perception and performer
stages: each call goes straight through to the wrapped stage and also drops its output into a
one-slot :class:`~streaming.mailbox.Mailbox`, which the GUI empties at its own pace (a slow GUI
only overwrites the slot). Nothing is copied: frames and landmark arrays are already read-only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.perception.landmarks import LandmarkFrame
from streaming.frames import Frame
from streaming.mailbox import Mailbox

__all__ = ["CameraSample", "ViewTap"]


@dataclass(frozen=True, slots=True)
class CameraSample:
    """One frame as perception saw it.

    Attributes:
        image: ``(H, W, 3)`` uint8 BGR, read-only.
        landmarks: the 33 BlazePose landmarks of that frame (``person_found`` may be ``False``).
        index: the frame's index in its source.
    """

    image: np.ndarray
    landmarks: LandmarkFrame
    index: int


class _TappedPerception:
    def __init__(self, inner: object, box: Mailbox[CameraSample]) -> None:
        self._inner, self._box = inner, box
        self.latest: LandmarkFrame | None = None

    @property
    def name(self) -> str:
        return self._inner.name

    def detect(self, frame: Frame) -> LandmarkFrame:
        landmarks = self._inner.detect(frame)
        self._box.put(CameraSample(frame.image, landmarks, frame.index))
        self.latest = landmarks  # one reference store, as for the performer
        return landmarks

    def close(self) -> None:
        self._inner.close()


class _TappedPerformer:
    def __init__(self, inner: object, box: Mailbox[np.ndarray]) -> None:
        self._inner, self._box = inner, box
        self.latest: np.ndarray | None = None

    @property
    def name(self) -> str:
        return self._inner.name

    def reset(self) -> None:
        self._inner.reset()

    def step(self, landmarks: LandmarkFrame) -> np.ndarray:
        positions = np.asarray(self._inner.step(landmarks))
        self._box.put(positions)
        self.latest = positions  # one reference store: readers see the old or the new array, whole
        return positions


class ViewTap:
    """Mailboxes of the newest camera sample and performer pose.

    Attributes:
        camera: newest :class:`CameraSample`.
        performer: newest ``(28, 3)`` canonical performer positions, metres, internal frame.
    """

    def __init__(self) -> None:
        self.camera: Mailbox[CameraSample] = Mailbox()
        self.performer: Mailbox[np.ndarray] = Mailbox()
        self._performer_stage: _TappedPerformer | None = None
        self._perception_stage: _TappedPerception | None = None

    def attach(self, processor: object) -> object:
        """Wrap ``processor.perception`` and ``processor.performer`` (before the pipeline uses it)."""
        processor.perception = self._perception_stage = _TappedPerception(processor.perception, self.camera)
        previous = self._performer_stage
        processor.performer = self._performer_stage = _TappedPerformer(processor.performer, self.performer)
        if previous is not None:
            self._performer_stage.latest = previous.latest
        return processor

    @property
    def latest_performer(self) -> np.ndarray | None:
        """The newest ``(28, 3)`` performer positions seen (not emptied by reading), or ``None``."""
        stage = self._performer_stage
        return None if stage is None else stage.latest

    @property
    def latest_landmarks(self) -> LandmarkFrame | None:
        """The newest landmarks perception gave (not emptied by reading), or ``None``."""
        stage = self._perception_stage
        return None if stage is None else stage.latest
