"""Guided calibration: a countdown with a pose prompt, then a short still window averaged (no Qt here).

Taking the single frame at the click records whatever the performer was doing while reaching for
the mouse (a first try recorded an arms-up pose as "rest"). :class:`CalibrationCapture` instead
counts down (``countdown_s``) while the prompt asks for the neutral pose, then collects the
performer over ``still_s`` and averages it. It refuses, with a message that says why, when the
performer moved more than ``max_motion_m`` in that window, when too few frames came, or when the
body was only partly in view (the landmarks the pose needs were not visible).

A GUI timer calls :meth:`CalibrationCapture.update` with the newest performer pose and landmarks;
:class:`CalibrationFiles` keeps the result per rig between sessions (JSON in the user's config folder).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from engine.perception.landmarks import LandmarkFrame
from engine.performer import NUM_PERFORMER_JOINTS, PERFORMER_JOINTS
from streaming.user_config import rig_key

__all__ = ["CalibrationCapture", "CalibrationConfig", "CalibrationFiles", "CalibrationPhase", "POSE_PROMPT"]

logger = logging.getLogger(__name__)

POSE_PROMPT = "Stand relaxed, arms down, facing the camera"
# BlazePose landmarks a neutral pose needs in view: shoulders, elbows, wrists, hips (+ knees, ankles).
UPPER_LANDMARKS = {11: "left shoulder", 12: "right shoulder", 13: "left elbow", 14: "right elbow",
                   15: "left wrist", 16: "right wrist", 23: "left hip", 24: "right hip"}
LOWER_LANDMARKS = {25: "left knee", 26: "right knee", 27: "left ankle", 28: "right ankle"}


@dataclass(frozen=True)
class CalibrationConfig:
    """Timing and thresholds of a guided calibration.

    Attributes:
        countdown_s: time to get into the pose after the click.
        still_s: the window that is averaged.
        max_motion_m: largest distance a joint may stray from its mean over the window (4 cm:
            MediaPipe's frame-to-frame noise on a still person is 1-2 cm).
        min_visibility: a needed landmark under this visibility counts as out of view.
        max_partial_fraction: share of the window's frames allowed to miss needed landmarks.
        min_samples: fewest distinct performer frames the window must hold.
    """

    countdown_s: float = 3.0
    still_s: float = 1.0
    max_motion_m: float = 0.04
    min_visibility: float = 0.5
    max_partial_fraction: float = 0.2
    min_samples: int = 5


class CalibrationPhase(str, Enum):
    COUNTDOWN = "countdown"
    HOLD_STILL = "hold_still"
    DONE = "done"
    REFUSED = "refused"


class CalibrationCapture:
    """One guided calibration from ``t0`` (seconds, any monotonic clock).

    Args:
        config: timing and thresholds.
        t0: when the user asked for it.
        upper_body: seated mode: the legs need not be in view.

    Attributes:
        phase: where it is.
        result: ``(28, 3)`` the averaged neutral pose once :attr:`phase` is ``DONE``.
        refusal: why it was refused (``REFUSED``), in words for the user.
    """

    def __init__(self, config: CalibrationConfig = CalibrationConfig(), *, t0: float, upper_body: bool = False) -> None:
        self.config, self.t0 = config, float(t0)
        self.needed = dict(UPPER_LANDMARKS) if upper_body else {**UPPER_LANDMARKS, **LOWER_LANDMARKS}
        self.phase = CalibrationPhase.COUNTDOWN
        self.result: np.ndarray | None = None
        self.refusal = ""
        self._samples: list[np.ndarray] = []
        self._last: np.ndarray | None = None
        self._ticks = 0
        self._missing: dict[str, int] = {}
        self._partial_ticks = 0
        self._now = self.t0

    @property
    def finished(self) -> bool:
        return self.phase in (CalibrationPhase.DONE, CalibrationPhase.REFUSED)

    @property
    def prompt(self) -> str:
        """What to show the performer now (empty once finished)."""
        if self.phase is CalibrationPhase.COUNTDOWN:
            left = max(self.config.countdown_s - (self._now - self.t0), 0.0)
            return f"{POSE_PROMPT}\n{int(np.ceil(left)) or 1}"
        if self.phase is CalibrationPhase.HOLD_STILL:
            return "Hold still…"
        return ""

    def update(self, now: float, performer: np.ndarray | None, landmarks: LandmarkFrame | None) -> CalibrationPhase:
        """Advance to ``now`` with the newest ``(28, 3)`` performer pose and its landmarks (either may be ``None``)."""
        if self.finished:
            return self.phase
        self._now = float(now)
        cfg = self.config
        if self.phase is CalibrationPhase.COUNTDOWN:
            if now - self.t0 < cfg.countdown_s:
                return self.phase
            self.phase = CalibrationPhase.HOLD_STILL
        self._ticks += 1
        missing = self._missing_landmarks(landmarks)
        if missing:
            self._partial_ticks += 1
            for name in missing:
                self._missing[name] = self._missing.get(name, 0) + 1
        elif performer is not None and performer is not self._last:  # a new frame (the tap hands out new arrays)
            self._last = performer
            self._samples.append(np.asarray(performer, dtype=np.float64))
        if now - self.t0 >= cfg.countdown_s + cfg.still_s:
            self._finish()
        return self.phase

    def _missing_landmarks(self, landmarks: LandmarkFrame | None) -> list[str]:
        if landmarks is None or not landmarks.person_found:
            return ["the whole body"]
        visibility = np.asarray(landmarks.visibility)
        return [name for i, name in self.needed.items() if visibility[i] < self.config.min_visibility]

    def _finish(self) -> None:
        cfg = self.config
        if self._ticks and self._partial_ticks / self._ticks > cfg.max_partial_fraction:
            worst = sorted(self._missing, key=self._missing.get, reverse=True)[:3]
            return self._refuse(f"only part of you was in view ({', '.join(worst)} not visible): step back so the camera sees you whole")
        if len(self._samples) < cfg.min_samples:
            return self._refuse(f"only {len(self._samples)} frames of you came in {cfg.still_s:g} s (need {cfg.min_samples}): is tracking on?")
        poses = np.stack(self._samples)  # (N, 28, 3)
        mean = poses.mean(axis=0)
        stray = np.linalg.norm(poses - mean, axis=-1).max(axis=0)  # (28,) metres
        j = int(stray.argmax())
        if stray[j] > cfg.max_motion_m:
            name = PERFORMER_JOINTS[j].replace("_", " ")
            return self._refuse(f"you moved while it measured (your {name} by {100 * stray[j]:.0f} cm): stand still and try again")
        self.result = mean
        self.phase = CalibrationPhase.DONE

    def _refuse(self, why: str) -> None:
        self.refusal = why
        self.phase = CalibrationPhase.REFUSED


class CalibrationFiles:
    """Neutral poses saved per rig: ``<folder>/<rig key>.json``.

    Args:
        folder: where they live (the user's config folder's ``calibration/``).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def path_for(self, rig_spec: str) -> Path:
        return self.folder / f"{rig_key(rig_spec)}.json"

    def save(self, rig_spec: str, neutral: np.ndarray) -> Path:
        """Write the ``(28, 3)`` neutral pose of ``rig_spec``; returns the file."""
        neutral = np.asarray(neutral, dtype=np.float64)
        if neutral.shape != (NUM_PERFORMER_JOINTS, 3) or not np.isfinite(neutral).all():
            raise ValueError(f"a neutral pose must be a finite ({NUM_PERFORMER_JOINTS}, 3) array, got shape {neutral.shape}")
        path = self.path_for(rig_spec)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"rig": rig_spec, "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"), "neutral": neutral.round(6).tolist()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data))
        tmp.replace(path)
        return path

    def load(self, rig_spec: str) -> np.ndarray | None:
        """The saved neutral pose of ``rig_spec``, or ``None`` (an unreadable file is logged and ignored)."""
        path = self.path_for(rig_spec)
        if not path.is_file():
            return None
        try:
            neutral = np.asarray(json.loads(path.read_text())["neutral"], dtype=np.float64)
            if neutral.shape != (NUM_PERFORMER_JOINTS, 3) or not np.isfinite(neutral).all():
                raise ValueError(f"shape {neutral.shape}")
        except (ValueError, KeyError, TypeError, OSError) as exc:
            logger.warning("calibration file %s is unreadable (%s); ignoring it", path, exc)
            return None
        return neutral

    def delete(self, rig_spec: str) -> None:
        self.path_for(rig_spec).unlink(missing_ok=True)
