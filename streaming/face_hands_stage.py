"""The live face and hands stage: landmarkers on pose-placed crops, on a schedule, with hold-and-ease.

Runs after the body landmarks (it needs them to place the crops) on the inference thread:

``frame + 33 pose landmarks -> head crop -> FaceLandmarker -> 52 blendshapes, head rotation``
``                         -> wrist crops -> HandLandmarker (one per side) -> finger angles``

**Schedule** (:class:`FaceHandsConfig`): the face runs every ``face_every``-th frame, the hands
every ``hands_every``-th; with ``alternate_hands`` only one hand runs on a hands frame, left and
right in turn. A hand whose wrist is not visible (or whose crop would be tiny) is not run at all,
which costs nothing. Between runs the last values are held (:class:`engine.face_hands.ease.EaseToRest`);
a face or hand that was looked for and not found eases to neutral / rest.

**Degrading**: a missing model file, or a ``mediapipe`` that cannot build the landmarker, turns
that part off with one clear warning and the body keeps running (body-only).

**Outputs** (:class:`FaceHandsState`): the blendshapes, whether the face / each hand was found,
the finger angles per side, and ``head_rotation``: the head's rotation relative to the camera
from the facial transformation matrix, turned from the crop's view into the camera's axes
(:func:`engine.perception.crops.view_rotation`; x y z w, internal frame, identity = facing the
camera), ``None`` while no face is found. The body path takes it as the head's orientation
(:mod:`engine.performer.face_head`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine import rotations as rot

from engine.errors import AnyRigError
from engine.face_hands.ease import EaseToRest
from engine.face_hands.fingers import REST_FINGER_POSE, FingerPose, finger_pose
from engine.face_hands.hand_orientation import clearly_side, continues_forearm, forearm_direction, palm_axes
from engine.perception.crops import cut, hand_box, head_box, view_rotation
from engine.perception.face_landmarker import BLENDSHAPE_NAMES
from engine.perception.landmarks import LandmarkFrame
from streaming.one_euro import OneEuroConfig, VectorOneEuro

__all__ = ["FaceHandsConfig", "FaceHandsState", "FaceHandsStage", "SIDES"]

logger = logging.getLogger(__name__)

SIDES = ("left", "right")
FACE_CROP_MAX = 256  # crop pixels handed to the face landmarker (it works at 192)
HAND_CROP_MAX = 256  # and to the hand landmarker (palm detector 192, landmarks 224)
# Fingers follow the hand landmarker's readings with this time constant instead of jumping to each:
# on the default schedule a hand is seen every 4th frame, and the steps between its readings were
# most of the humanoid's rotation jitter on real video (README, "Face and hands").
FINGER_FOLLOW_MS = 60.0


@dataclass(frozen=True)
class FaceHandsConfig:
    """What the stage runs and how often.

    Attributes:
        face: run the face landmarker at all.
        hands: run the hand landmarker at all.
        face_every: run the face every N-th frame (1 = every frame).
        hands_every: run the hands every N-th frame.
        alternate_hands: on a hands frame run only one hand, left and right in turn.
        face_model: ``face_landmarker.task`` path (None: resolved like the pose model).
        hand_model: ``hand_landmarker.task`` path (None: resolved like the pose model).
        allow_download: let a missing model be downloaded on first use.
        blendshape_filter: One Euro settings for the 52 blendshapes (speed = the norm over all of
            them), or None for the raw values. The default (1 Hz, beta 5) cut the median
            frame-to-frame change on the juggling clip from 0.021 to 0.014 and kept its peaks
            (jawOpen p95 0.309 -> 0.302, a blink's 0.93 -> 0.92).
        background: run the stage on a thread of its own
            (:class:`streaming.face_hands_worker.FaceHandsWorker`): the body does not wait for the
            face and hands, which then arrive a frame or two later. False: on the inference
            thread, in the frame's own stage timings.
    """

    face: bool = True
    hands: bool = True
    face_every: int = 1
    hands_every: int = 1
    alternate_hands: bool = False
    face_model: str | None = None
    hand_model: str | None = None
    allow_download: bool = True
    blendshape_filter: OneEuroConfig | None = OneEuroConfig(min_cutoff=1.0, beta=5.0)
    background: bool = True

    def __post_init__(self) -> None:
        if self.face_every < 1 or self.hands_every < 1:
            raise ValueError(f"face_every and hands_every must be >= 1, got {self.face_every}, {self.hands_every}")

    @property
    def enabled(self) -> bool:
        return self.face or self.hands

    def to_dict(self) -> dict[str, Any]:
        return {"face": self.face, "hands": self.hands, "face_every": self.face_every, "hands_every": self.hands_every,
                "alternate_hands": self.alternate_hands, "background": self.background}


@dataclass(frozen=True, eq=False)
class FaceHandsState:
    """Face and hands for one frame (after hold-and-ease).

    Attributes:
        blendshapes: ``(52,)`` float64 in ``[0, 1]``, order ``BLENDSHAPE_NAMES``.
        face_found: the face was seen on its last run.
        head_rotation: ``(4,)`` x y z w head relative to the camera, or None (no face).
        hands: ``side -> FingerPose`` (eased to rest while lost).
        hands_found: ``side -> bool``.
        palms: ``side -> (2, 3)`` the hand's wrist -> knuckles and pinky -> index knuckle directions
            (internal camera axes) from its last reading, when that reading was clearly the side's
            own hand and continued the forearm (:mod:`engine.face_hands.hand_orientation`);
            absent otherwise. The body path turns the hand and the forearm's twist by them.
        face_ran, hands_ran: which landmarkers ran on this frame.
    """

    blendshapes: np.ndarray
    face_found: bool
    head_rotation: np.ndarray | None
    hands: dict[str, FingerPose]
    hands_found: dict[str, bool]
    palms: dict[str, np.ndarray] = field(default_factory=dict)
    face_ran: bool = False
    hands_ran: tuple[str, ...] = field(default_factory=tuple)


def _pack(pose: FingerPose) -> np.ndarray:
    return np.concatenate([pose.curl.ravel(), pose.spread, [pose.thumb_opposition]])  # (21,)


def _unpack(v: np.ndarray) -> FingerPose:
    return FingerPose(v[:15].reshape(5, 3).copy(), v[15:20].copy(), float(v[20]))


class FaceHandsStage:
    """Runs the face and hand landmarkers for the live processor (see the module docstring).

    Args:
        config: what runs and how often.
        face_adapter, hand_adapters: landmarkers already open (``detect(crop, t_ms)``, ``close()``;
            e.g. replays of recorded observations in the evaluation); None opens MediaPipe's on
            first use. The stage closes them.
    """

    def __init__(self, config: FaceHandsConfig = FaceHandsConfig(), *, face_adapter: Any = None,
                 hand_adapters: dict[str, Any] | None = None) -> None:
        self.config = config
        self._face: Any = face_adapter
        self._hands: dict[str, Any] = dict(hand_adapters or {})
        self._face_off = not config.face
        self._hands_off = not config.hands
        self.messages: list[str] = []  # why a part was turned off (for the run report)
        self._blend = EaseToRest(np.zeros(len(BLENDSHAPE_NAMES)))
        self._blend_filter = VectorOneEuro(config.blendshape_filter) if config.blendshape_filter is not None else None
        self._blendshapes = self._blend.value.copy()  # held / eased, then filtered
        self._fingers = {side: EaseToRest(_pack(REST_FINGER_POSE), follow_ms=FINGER_FOLLOW_MS) for side in SIDES}
        self._head: np.ndarray | None = None
        self._palms: dict[str, np.ndarray] = {}
        self._frame = 0
        self._turn = 0  # which hand runs next when alternating
        self.counts = {"face_runs": 0, "face_found": 0, "hand_runs": 0, "hand_found": 0}

    # -- lifecycle ------------------------------------------------------------------------------
    def _disable(self, part: str, error: BaseException) -> None:
        message = f"{part} tracking off ({error}); running without it (body-only for that part)"
        logger.warning("%s", message)
        self.messages.append(message)

    def _face_adapter(self) -> Any:
        if self._face is None and not self._face_off:
            try:
                from engine.perception.face_landmarker import FaceLandmarkerAdapter

                self._face = FaceLandmarkerAdapter(self.config.face_model, allow_download=self.config.allow_download)
            except (AnyRigError, ImportError, OSError, RuntimeError, ValueError) as error:
                self._face_off = True
                self._disable("face", error)
        return self._face

    def _hand_adapter(self, side: str) -> Any:
        if side not in self._hands and not self._hands_off:
            try:
                from engine.perception.hand_landmarker import HandLandmarkerAdapter

                self._hands[side] = HandLandmarkerAdapter(self.config.hand_model, allow_download=self.config.allow_download)
            except (AnyRigError, ImportError, OSError, RuntimeError, ValueError) as error:
                self._hands_off = True
                self._disable("hand", error)
        return self._hands.get(side)

    @property
    def face_active(self) -> bool:
        return not self._face_off

    @property
    def hands_active(self) -> bool:
        return not self._hands_off

    def reset(self) -> None:
        """Forget held values (the landmarkers keep running)."""
        self._blend.reset()
        if self._blend_filter is not None:
            self._blend_filter.reset()
        self._blendshapes = self._blend.value.copy()
        for ease in self._fingers.values():
            ease.reset()
        self._head = None
        self._palms.clear()
        self._frame = 0

    def close(self) -> None:
        """Close the landmarkers (idempotent)."""
        if self._face is not None:
            self._face.close()
            self._face = None
        for adapter in self._hands.values():
            adapter.close()
        self._hands.clear()

    # -- per frame ------------------------------------------------------------------------------
    def face_step(self, image: np.ndarray, landmarks: LandmarkFrame, t_ms: int) -> bool:
        """Run the face on this frame if scheduled; returns whether it ran."""
        ran = False
        observation = None
        if not self._face_off and self._frame % self.config.face_every == 0:
            H, W = image.shape[:2]
            box = head_box(landmarks, W, H)
            adapter = self._face_adapter()
            if adapter is not None:
                ran = True
                self.counts["face_runs"] += 1
                face = adapter.detect(cut(image, box, FACE_CROP_MAX), t_ms) if box is not None else None
                if face is not None and face.found:
                    self.counts["face_found"] += 1
                    observation = face.blendshapes
                    # The landmarker saw the crop as if the camera looked straight at it: back to the camera's axes.
                    view = view_rotation(box, W, H)
                    self._head = rot.matrix_to_quat(view @ rot.quat_to_matrix(face.head_rotation))
                else:
                    self._head = None
        self._blend.update(t_ms, observation, ran)
        value = self._blend.value
        self._blendshapes = self._blend_filter(value, t_ms / 1000.0) if self._blend_filter is not None else value.copy()
        return ran

    def hands_step(self, image: np.ndarray, landmarks: LandmarkFrame, t_ms: int) -> tuple[str, ...]:
        """Run the hands scheduled for this frame; returns the sides that ran."""
        ran: list[str] = []
        sides: tuple[str, ...] = ()
        if not self._hands_off and self._frame % self.config.hands_every == 0:
            H, W = image.shape[:2]
            boxes = {side: hand_box(landmarks, side, W, H) for side in SIDES}
            candidates = [s for s in SIDES if boxes[s] is not None]
            if self.config.alternate_hands and len(candidates) == 2:
                candidates = [SIDES[self._turn % 2]]
                self._turn += 1
            sides = tuple(candidates)
            lost_sides = [s for s in SIDES if boxes[s] is None]
            for side in SIDES:
                observation = None
                looked = side in sides or side in lost_sides  # an invisible wrist counts as a loss
                if side in sides and self._hand_adapter(side) is not None:
                    hand = self._hands[side].detect(cut(image, boxes[side], HAND_CROP_MAX), t_ms)
                    self.counts["hand_runs"] += 1
                    ran.append(side)
                    if hand.found:
                        self.counts["hand_found"] += 1
                        observation = _pack(finger_pose(hand.world))
                    view = view_rotation(boxes[side], W, H)
                    if hand.found and clearly_side(hand.world, side) and continues_forearm(hand.world, view, forearm_direction(landmarks, side)):
                        self._palms[side] = palm_axes(hand.world, view)
                    else:
                        self._palms.pop(side, None)
                elif looked:
                    self._palms.pop(side, None)
                self._fingers[side].update(t_ms, observation, looked)
        else:
            for side in SIDES:
                self._fingers[side].update(t_ms, None, False)
        return tuple(ran)

    def step(self, image: np.ndarray, landmarks: LandmarkFrame, t_ms: int) -> tuple[FaceHandsState, int, int]:
        """Face then hands on one frame.

        Args:
            image: ``(H, W, 3)`` uint8 BGR frame.
            landmarks: its pose landmarks (they place the crops).
            t_ms: capture time, milliseconds.

        Returns:
            ``(state, t_face_ns, t_hands_ns)``: the state and the monotonic times the face and the
            hands parts finished (for the processor's per-stage timing).
        """
        face_ran = self.face_step(image, landmarks, t_ms)
        t_face = time.monotonic_ns()
        hands_ran = self.hands_step(image, landmarks, t_ms)
        t_hands = time.monotonic_ns()
        self._frame += 1
        return self.state(face_ran, hands_ran), t_face, t_hands

    def state(self, face_ran: bool = False, hands_ran: tuple[str, ...] = ()) -> FaceHandsState:
        """The current (held / eased) values."""
        return FaceHandsState(
            blendshapes=np.clip(self._blendshapes, 0.0, 1.0),
            face_found=self._blend.found,
            head_rotation=None if self._head is None else self._head.copy(),
            hands={side: _unpack(ease.value) for side, ease in self._fingers.items()},
            hands_found={side: ease.found for side, ease in self._fingers.items()},
            palms={side: axes.copy() for side, axes in self._palms.items()},
            face_ran=face_ran,
            hands_ran=hands_ran,
        )
