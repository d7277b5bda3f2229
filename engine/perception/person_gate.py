"""Is it a person? A plausibility gate on the pose landmarks, so an animal (or, optionally, a still picture) does not drive the rig.

MediaPipe's PoseLandmarker fits its 33 landmarks onto whatever looks most like a body: a horse, a
dog, a person on a poster. :class:`PersonGate` scores each frame and keeps a verdict over time:

- **confidence**: the mean visibility of the 13 body landmarks (nose, shoulders, elbows, wrists,
  hips, knees, ankles). On a fitted animal MediaPipe is itself unsure (about 0.78 on the horse
  clip, 0.91-0.97 on people, medians);
- **posture**: a torso held horizontal (more than 55 degrees from vertical, upright or upside
  down) is what a four-legged animal fitted as a person looks like (74-93 degrees on the horse
  clip; people 2-46 degrees upright, 125-165 in a cartwheel). A person bending over or lying down
  for longer than the averaging reads as no person: a known limit;
- **human proportions** of the metric world landmarks: the torso length (mid-shoulders to
  mid-hips, adults 0.40-0.60 m), hip width, shoulder width and thigh length relative to the torso,
  and left/right symmetry of the four long limb bones. Ranges come from adult anthropometry with
  a wide margin, not from the test clips;
- **temporal consistency**: a real body keeps its bone lengths; a fit jumping between parts of an
  animal changes them from frame to frame (mean relative change of 12 bones);
- **still image** (a poster, a photo): a pose that does not move at all for several seconds (image
  landmarks within 0.2 % of the frame) is not a performer. Off by default
  (``GateConfig.still_seconds=None``): a person may stand very still.

Each frame's evidence is a plausibility ``p = exp(-sum of penalties)`` in ``[0, 1]``; the verdict
follows an exponential moving average of ``p`` (time constant ``smoothing_s``) with hysteresis
(accept above ``accept_above``, reject below ``reject_below``), so a single odd frame neither
admits an animal nor drops a person. Frames without a detection count as ``p = 0`` after the
hold, and a frame that is physically impossible (torso under 0.2 m or over 1 m) is rejected at
once. Pure numpy, about 0.1 ms per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.perception.landmarks import Landmark, LandmarkFrame

__all__ = ["GateConfig", "PersonGate", "PersonVerdict", "frame_plausibility", "torso_tilt_deg"]

_CORE = np.array([Landmark.NOSE, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_ELBOW, Landmark.RIGHT_ELBOW,
                  Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST, Landmark.LEFT_HIP, Landmark.RIGHT_HIP, Landmark.LEFT_KNEE,
                  Landmark.RIGHT_KNEE, Landmark.LEFT_ANKLE, Landmark.RIGHT_ANKLE])
_PAIRS = ((Landmark.LEFT_SHOULDER, Landmark.LEFT_ELBOW, Landmark.RIGHT_SHOULDER, Landmark.RIGHT_ELBOW),
          (Landmark.LEFT_ELBOW, Landmark.LEFT_WRIST, Landmark.RIGHT_ELBOW, Landmark.RIGHT_WRIST),
          (Landmark.LEFT_HIP, Landmark.LEFT_KNEE, Landmark.RIGHT_HIP, Landmark.RIGHT_KNEE),
          (Landmark.LEFT_KNEE, Landmark.LEFT_ANKLE, Landmark.RIGHT_KNEE, Landmark.RIGHT_ANKLE))
_BONES = np.array([(a, b) for a, b, _, _ in _PAIRS] + [(c, d) for _, _, c, d in _PAIRS]
                  + [(Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER), (Landmark.LEFT_HIP, Landmark.RIGHT_HIP),
                     (Landmark.LEFT_SHOULDER, Landmark.LEFT_HIP), (Landmark.RIGHT_SHOULDER, Landmark.RIGHT_HIP)])


@dataclass(frozen=True)
class GateConfig:
    """Thresholds of the person gate (see the module docstring).

    Attributes:
        min_visibility: mean core visibility below which confidence is penalised (a penalty of 1
            per ``visibility_scale`` below it).
        torso_m: plausible torso length, metres.
        hip_over_torso, shoulder_over_torso, thigh_over_torso: plausible ratios.
        max_torso_tilt_deg: the torso (hips -> shoulders) may lean this far from vertical, up or
            upside down (a cartwheel), before a penalty applies: an animal's body is horizontal.
        horizontal_seconds: ... once it has been that far over for this long (a cartwheel passes).
        max_asymmetry: left/right relative length difference of the long limb bones (mean) above
            which a penalty applies.
        max_length_change: mean relative bone-length change between consecutive frames above which
            a penalty applies.
        smoothing_s: time constant of the moving average of the plausibility.
        accept_above, reject_below: hysteresis of the verdict on that average.
        still_seconds: reject a pose whose image landmarks have not moved for this long (``None``: off).
    """

    min_visibility: float = 0.85
    visibility_scale: float = 0.05
    torso_m: tuple[float, float] = (0.36, 0.64)
    hip_over_torso: tuple[float, float] = (0.28, 0.65)
    shoulder_over_torso: tuple[float, float] = (0.40, 1.00)
    thigh_over_torso: tuple[float, float] = (0.50, 1.10)
    max_torso_tilt_deg: float = 55.0
    horizontal_seconds: float = 0.5
    max_asymmetry: float = 0.15
    max_length_change: float = 0.15
    smoothing_s: float = 0.5
    accept_above: float = 0.5
    reject_below: float = 0.3
    still_seconds: float | None = None


@dataclass(frozen=True)
class PersonVerdict:
    """The gate's answer for one frame.

    Attributes:
        accepted: the landmarks may drive the rig.
        plausibility: this frame's evidence in ``[0, 1]`` (0 without a detection).
        score: the moving average the verdict follows.
        reasons: the penalties of this frame that were not zero (name -> penalty).
    """

    accepted: bool
    plausibility: float
    score: float
    reasons: dict[str, float] = field(default_factory=dict)


def _range_penalty(value: float, bounds: tuple[float, float]) -> float:
    """0 inside ``bounds``, growing by 1 per 10 % of the range's width outside it."""
    lo, hi = bounds
    width = 0.1 * (hi - lo)
    return max(lo - value, value - hi, 0.0) / width


def _bone_lengths(world: np.ndarray) -> np.ndarray:
    return np.linalg.norm(world[_BONES[:, 0]] - world[_BONES[:, 1]], axis=-1)


def torso_tilt_deg(frame: LandmarkFrame) -> float:
    """The torso's (mid-hips -> mid-shoulders) angle from vertical in the camera's axes, degrees, folded to ``[0, 90]``."""
    w = frame.world
    t = 0.5 * (w[Landmark.LEFT_SHOULDER] + w[Landmark.RIGHT_SHOULDER] - w[Landmark.LEFT_HIP] - w[Landmark.RIGHT_HIP])
    n = float(np.linalg.norm(t))
    return 0.0 if n < 1e-9 else math.degrees(math.asin(min(math.sqrt(max(1.0 - (t[1] / n) ** 2, 0.0)), 1.0)))


def frame_plausibility(frame: LandmarkFrame, previous_lengths: np.ndarray | None = None,
                       config: GateConfig = GateConfig(), horizontal_for_long: bool = True) -> tuple[float, dict[str, float]]:
    """``(p, penalties)``: how much ``frame`` looks like a person on its own (``p = exp(-sum)``).

    ``previous_lengths`` (the bone lengths of the previous frame with a detection) adds the
    temporal term; ``horizontal_for_long`` False waives the posture penalty (the torso has not been
    horizontal for ``GateConfig.horizontal_seconds`` yet). A frame without a person gives ``(0.0, {"no_person": inf})``.
    """
    if not frame.person_found:
        return 0.0, {"no_person": math.inf}
    w = frame.world
    pen: dict[str, float] = {}
    vis = float(np.mean(frame.visibility[_CORE]))
    pen["confidence"] = max(config.min_visibility - vis, 0.0) / config.visibility_scale
    mid_sh = 0.5 * (w[Landmark.LEFT_SHOULDER] + w[Landmark.RIGHT_SHOULDER])
    mid_hip = 0.5 * (w[Landmark.LEFT_HIP] + w[Landmark.RIGHT_HIP])
    torso = float(np.linalg.norm(mid_sh - mid_hip))
    if not 0.2 <= torso <= 1.0:
        return 0.0, {"impossible_torso": math.inf}
    lengths = _bone_lengths(w)  # left limb bones (upper arm, forearm, thigh, shin), right ones, shoulders, hips, sides
    left, right = lengths[:4], lengths[4:8]
    pen["torso"] = _range_penalty(torso, config.torso_m)
    pen["hips"] = _range_penalty(float(lengths[9]) / torso, config.hip_over_torso)
    pen["shoulders"] = _range_penalty(float(lengths[8]) / torso, config.shoulder_over_torso)
    pen["thighs"] = _range_penalty(0.5 * float(left[2] + right[2]) / torso, config.thigh_over_torso)
    if horizontal_for_long:  # a cartwheel or a bow passes through horizontal; an animal stays there
        # MediaPipe's world y points down, camera-aligned: |sin| of the torso's angle from vertical.
        horizontal = math.sqrt(max(1.0 - ((mid_sh - mid_hip)[1] / torso) ** 2, 0.0))
        pen["horizontal_torso"] = max(horizontal - math.sin(math.radians(config.max_torso_tilt_deg)), 0.0) / 0.05
    asym = float(np.mean(np.abs(left - right) / np.maximum(left + right, 1e-9)))
    pen["asymmetry"] = max(asym - config.max_asymmetry, 0.0) / 0.05
    if previous_lengths is not None:
        change = float(np.mean(np.abs(lengths - previous_lengths) / np.maximum(lengths, 1e-6)))
        pen["length_change"] = max(change - config.max_length_change, 0.0) / 0.05
    pen = {k: v for k, v in pen.items() if v > 0.0}
    return float(math.exp(-sum(pen.values()))), pen


class PersonGate:
    """Keeps the person verdict over time (see the module docstring); one per live stream.

    Args:
        config: thresholds.
    """

    def __init__(self, config: GateConfig = GateConfig()) -> None:
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Forget the history: the next frames start from "no person"."""
        self._score = 0.0
        self._fresh = True
        self._accepted = False
        self._t_ms: int | None = None
        self._lengths: np.ndarray | None = None
        self._still_since_ms: int | None = None
        self._horizontal_since_ms: int | None = None
        self._still_image: np.ndarray | None = None
        self.verdict = PersonVerdict(False, 0.0, 0.0, {})

    def update(self, frame: LandmarkFrame) -> PersonVerdict:
        """The verdict after ``frame`` (frames in time order; ``t_ms`` drives the averaging)."""
        cfg = self.config
        horizontal = frame.person_found and torso_tilt_deg(frame) > cfg.max_torso_tilt_deg
        if not horizontal:
            self._horizontal_since_ms = None
        elif self._horizontal_since_ms is None:
            self._horizontal_since_ms = frame.t_ms
        held_ms = 0 if self._horizontal_since_ms is None else frame.t_ms - self._horizontal_since_ms
        p, reasons = frame_plausibility(frame, self._lengths, cfg, held_ms >= 1000.0 * cfg.horizontal_seconds)
        if frame.person_found and "impossible_torso" not in reasons:
            self._lengths = _bone_lengths(frame.world)
        if frame.person_found and cfg.still_seconds is not None and self._is_still(frame):
            p, reasons = 0.0, {**reasons, "still_image": math.inf}
        dt_s = 1.0 / 30.0 if self._t_ms is None else max(frame.t_ms - self._t_ms, 0) / 1000.0
        self._t_ms = frame.t_ms
        alpha = 1.0 - math.exp(-dt_s / max(cfg.smoothing_s, 1e-6))
        if self._fresh and frame.person_found:  # the first detection after nobody: its own evidence, no ramp from zero
            self._score, self._fresh = p, False
        else:
            self._score += alpha * (p - self._score)
        if not frame.person_found and self._score < 0.05:
            self._fresh = True
        if math.isinf(sum(reasons.values())) and "no_person" not in reasons:
            self._accepted = False  # impossible or frozen: at once
        elif self._accepted and self._score < cfg.reject_below:
            self._accepted = False
        elif not self._accepted and self._score > cfg.accept_above:
            self._accepted = True
        self.verdict = PersonVerdict(self._accepted and frame.person_found, p, self._score, reasons)
        return self.verdict

    def _is_still(self, frame: LandmarkFrame) -> bool:
        """True once the image landmarks have stayed within 0.2 % of the frame for ``still_seconds``."""
        pts = frame.image[_CORE, :2]
        if self._still_image is None or float(np.abs(pts - self._still_image).max()) > 0.002:
            self._still_image, self._still_since_ms = pts.copy(), frame.t_ms
            return False
        since = frame.t_ms if self._still_since_ms is None else self._still_since_ms
        return frame.t_ms - since >= 1000.0 * float(self.config.still_seconds or 0.0)
