"""The per-frame inference work of the live pipeline (DESIGN §1, front end 1).

``frame -> perception (33 landmarks) -> performer positions (28 joints) -> retarget to the rig
(J joints) -> rotation solver (J local quaternions) -> orientation links -> continuity -> One Euro
filter -> PoseResult``

Beside the positions, the performer's segment orientations (head, chest, hands, feet, limb twists:
:mod:`engine.performer.segments`) come straight from the landmarks and reach the rig through the
map's orientation links (:mod:`engine.retarget.orientation`) after the solver (a solver that
takes hints, the learned P2R, also gets the links' targets before it solves); then
:mod:`streaming.continuity` keeps every joint's rotation continuous at a bounded speed (no flips).

Each stage is a small object behind a protocol so the pipeline, the benchmark and the tests can
swap them: MediaPipe or the synthetic source's simulated landmarks; the causal V2P network or the
geometric mapping; learned P2R or the analytic IK baseline. :func:`build_processor` picks the best
available one for each stage (a learned stage only when its weights exist).

Every stage stamps the result with its finishing time (``stage_ns``): ``queue`` (capture -> the
inference thread took the frame), ``perception``, ``face`` and ``hands`` (only when the face and
hands stage runs, :mod:`streaming.face_hands_stage`), ``v2p``, ``retarget``, ``p2r``, ``filter`` (the names stay the same whichever implementation runs; which one
ran is in :attr:`LiveProcessor.info`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine import rotations as rot
from engine.face_hands.expressions import gaze_angles, jaw_open_angle
from engine.face_hands.rig_targets import face_hand_offsets, find_face_hand_targets, offset_rotations
from engine.kinematics import forward_kinematics
from engine.perception.hold import LandmarkHold
from engine.perception.landmarks import LandmarkFrame, NonFiniteLandmarks
from engine.perception.person_gate import PersonGate, PersonVerdict
from engine.perception.root_motion import estimate_hip_translation, root_offset_internal
from engine.performer import performer_positions_from_landmarks
from engine.performer.pose_modes import leg_segments_at_rest, legs_at_rest, mirror_performer, mirror_segments
from engine.perception.limb_depth import ArmDepth
from engine.performer.segments import SegmentPose, SegmentTracker
from engine.performer.trunk_coupling import turn_hips
from engine.rig import Rig
from engine.solvers.base import RotationSolver
from streaming.face_hands_stage import FaceHandsConfig, FaceHandsStage, FaceHandsState
from streaming.face_hands_worker import FaceHandsWorker
from streaming.continuity import ContinuityConfig, RotationContinuity
from streaming.frames import Frame, PoseResult
from streaming.one_euro import PoseFilter, PoseFilterConfig
from streaming.quiet_logs import filtered_native_stderr
from streaming.tracking import ProcessingModes, RestEasing, TrackingState

__all__ = [
    "LIVE_JOINT_BUDGET",
    "AutoPerception",
    "GeometricPerformer",
    "LiveProcessor",
    "Perceived",
    "MediaPipePerception",
    "Perception",
    "PerformerEstimator",
    "ProcessingModes",
    "ProcessorInfo",
    "Retarget",
    "SimulatedPerception",
    "TrackingState",
    "build_processor",
]

logger = logging.getLogger(__name__)

LIVE_JOINT_BUDGET = 150  # over this the send median crossed 40 ms on the busy 2-core machine (main.py bench joints, README)



# %% stage protocols -------------------------------------------------------------------------------
class Perception(Protocol):
    """Image -> the 33 BlazePose landmarks of one person."""

    name: str

    def detect(self, frame: Frame) -> LandmarkFrame:
        """Landmarks of ``frame`` (``person_found=False`` when nobody is seen); ``t_ms`` = capture ms."""
        ...

    def close(self) -> None: ...


class PerformerEstimator(Protocol):
    """Landmarks -> ``(28, 3)`` canonical performer positions, metres, internal frame (causal)."""

    name: str

    def reset(self) -> None: ...

    def step(self, landmarks: LandmarkFrame) -> np.ndarray: ...


class Retarget(Protocol):
    """Performer positions ``(28, 3)`` -> target rig joint positions ``(J, 3)``, world metres."""

    def __call__(self, performer: np.ndarray) -> np.ndarray: ...


# %% perception ------------------------------------------------------------------------------------
class SimulatedPerception:
    """The landmarks a synthetic frame carries (:class:`streaming.synthetic_source.SyntheticFrame`)."""

    name = "simulated"

    def detect(self, frame: Frame) -> LandmarkFrame:
        landmarks = getattr(frame, "landmarks", None)
        if landmarks is None:
            raise ValueError(f"frame {frame.index} of {frame.source_id!r} carries no simulated landmarks")
        return landmarks

    def close(self) -> None:
        pass


class MediaPipePerception:
    """MediaPipe PoseLandmarker (VIDEO mode) through :mod:`engine.perception.pose_landmarker`.

    The landmarker is created on first use and closed once by :meth:`close` (DESIGN §9: closing it
    contacts a Google logging host, so one landmarker per run). The adapter keeps VIDEO mode's
    timestamps strictly increasing.

    Args:
        model_path: the ``.task`` file (default: resolved by :mod:`engine.perception.model_files`).
    """

    name = "mediapipe"

    def __init__(self, model_path: str | None = None) -> None:
        self.model_path = model_path
        self._adapter: Any = None

    def detect(self, frame: Frame) -> LandmarkFrame:
        if self._adapter is None:
            from engine.perception.pose_landmarker import PoseLandmarkerAdapter

            with filtered_native_stderr():  # MediaPipe's start-up lines (streaming.quiet_logs)
                self._adapter = PoseLandmarkerAdapter(self.model_path)
                first = self._adapter.detect(frame.image, frame.t_capture_ns // 1_000_000)  # loads the model
            return first
        return self._adapter.detect(frame.image, frame.t_capture_ns // 1_000_000)

    def close(self) -> None:
        if self._adapter is not None:
            with filtered_native_stderr():
                self._adapter.close()
            self._adapter = None


class AutoPerception:
    """Simulated landmarks when the frame carries them, else MediaPipe (created on first need)."""

    def __init__(self, model_path: str | None = None) -> None:
        self._simulated = SimulatedPerception()
        self._mediapipe = MediaPipePerception(model_path)
        self.name = "auto"

    def detect(self, frame: Frame) -> LandmarkFrame:
        if getattr(frame, "landmarks", None) is not None:
            self.name = self._simulated.name
            return self._simulated.detect(frame)
        self.name = self._mediapipe.name
        return self._mediapipe.detect(frame)

    def close(self) -> None:
        self._mediapipe.close()


# %% performer -------------------------------------------------------------------------------------
class GeometricPerformer:
    """The geometric mapping :func:`engine.performer.performer_positions_from_landmarks` (no model)."""

    name = "geometric"

    def reset(self) -> None:
        pass

    def step(self, landmarks: LandmarkFrame) -> np.ndarray:
        return performer_positions_from_landmarks(landmarks)


# %% the processor ---------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Perceived:
    """What :meth:`LiveProcessor.perceive` hands to :meth:`LiveProcessor.solve` for one frame.

    Attributes:
        frame: the camera frame.
        landmarks: the (held) landmarks of the person, or ``None``: nobody (or no plausible
            person) in view past the hold.
        holding: the landmarks are the last ones seen, held while the person is lost.
        face_hands: the face and hands state, or ``None`` (off, or not a camera frame).
        stage_ns: the stage stamps so far (``queue``, ``perception``, and ``face``/``hands`` when
            they ran on this thread).
        dropped: the frame was dropped (non-finite landmarks): nothing to solve.
    """

    frame: Frame
    landmarks: LandmarkFrame | None
    holding: bool
    face_hands: FaceHandsState | None
    stage_ns: tuple[tuple[str, int], ...]
    dropped: bool = False


@dataclass(frozen=True)
class ProcessorInfo:
    """Which implementation runs each stage, for the status bar and the run statistics.

    Attributes:
        perception: ``"mediapipe"``, ``"simulated"`` or ``"auto"``.
        performer: ``"v2p"`` or ``"geometric"``.
        solver: ``"p2r"`` or ``"analytic_ik"``.
        backend: model backend in use (``"eager"``, ``"compile"``...; ``"none"`` without a model).
        device: model device (``"cpu"``, ``"cuda:0"``...).
        face_hands: ``"off"`` or which of ``face`` / ``hands`` run (``"face+hands"``...).
    """

    perception: str
    performer: str
    solver: str
    backend: str = "none"
    device: str = "cpu"
    face_hands: str = "off"

    def to_dict(self) -> dict[str, str]:
        return {"perception": self.perception, "performer": self.performer, "solver": self.solver, "backend": self.backend,
                "device": self.device, "face_hands": self.face_hands}


class LiveProcessor:
    """Turns one frame into the rig's pose; one instance per rig (see ``Pipeline.set_processor``).

    Args:
        rig: the target rig.
        perception: image -> landmarks.
        performer: landmarks -> performer positions.
        retarget: performer positions -> rig joint positions.
        solver: rig joint positions -> local rotations; ``reset`` here with the rig's reference pair.
        person_gate: the plausibility gate (:class:`engine.perception.person_gate.PersonGate`;
            default: one with its default thresholds). Landmarks it rejects (an animal fitted as
            a person) count as nobody seen: the last person's pose is held, then the no-person
            path runs. Its newest verdict is :attr:`person_verdict`; counts: :meth:`person_report`.
        filter_config: One Euro settings (``enabled=False`` to pass results through).
        max_hold_ms: hold the last pose this long while the person is lost (state ``lost``); then
            the state is ``no_person`` and the rig eases to rest over ``ease_to_rest_ms``, after
            which nothing is sent until a person is seen again.
        modes: mirror and upper-body mode (:class:`~streaming.tracking.ProcessingModes`); the
            attribute :attr:`modes` may be replaced while running (read once per frame).
        backend, device: facts reported in :attr:`info`.
        warmup_steps: performer and solver steps run on rest poses at construction (then both are
            reset), so a compiled model compiles before the first live frame.
        face_hands: the face and hands stage (None: body only). It runs on real camera frames
            (not on synthetic frames that carry simulated landmarks); its finger, jaw and eye
            angles are turned into the rig's joints found by
            :func:`engine.face_hands.rig_targets.find_face_hand_targets`, and its blendshapes ride
            on the result. The face's head rotation (``head_rotation``) is the head segment's
            frame while the face is seen (:mod:`engine.performer.face_head`).
            :attr:`last_face_hands` keeps the latest state.
        orientation: ``"auto"`` (the orientation links of ``retarget.map`` when the retargeter has
            one), ``None`` (positions only), or a callable ``(local rotations, SegmentPose) -> local rotations``.
        continuity: the speed limit (``None``: no limit, no hemisphere alignment).
        arm_depth: restore the arms' depth from their remembered lengths where MediaPipe flattens
            it (:mod:`engine.perception.limb_depth`), before the performer and the segments.
    """

    def __init__(
        self,
        rig: Rig,
        *,
        perception: Perception,
        performer: PerformerEstimator,
        retarget: Retarget,
        solver: RotationSolver,
        filter_config: PoseFilterConfig = PoseFilterConfig(),
        max_hold_ms: int | None = 1000,
        person_gate: PersonGate | None = None,
        backend: str = "none",
        device: str = "cpu",
        warmup_steps: int = 2,
        root_motion: bool = True,
        modes: ProcessingModes = ProcessingModes(),
        ease_to_rest_ms: int = 1000,
        face_hands: FaceHandsStage | FaceHandsWorker | None = None,
        orientation: Any = "auto",
        continuity: ContinuityConfig | None = ContinuityConfig(),
        arm_depth: bool = True,
    ) -> None:
        self.rig = rig
        self.modes = modes
        self.tracking_state = TrackingState.NO_PERSON  # plain attribute: the GUI and outputs read it
        self._easing = RestEasing(rig.skeleton, ease_to_rest_ms)
        self.face_hands = face_hands
        self.last_face_hands: FaceHandsState | None = None
        self.root_motion = root_motion  # move the performer (and so the rig's root) through the camera's space
        self._last_hips: np.ndarray | None = None
        self.perception, self.performer, self.retarget, self.solver = perception, performer, retarget, solver
        self.face_hand_targets = self._face_hand_targets() if face_hands is not None else None
        self.filter = PoseFilter(filter_config)
        self._hold = LandmarkHold(max_hold_ms)
        self.person_gate = PersonGate() if person_gate is None else person_gate
        self.person_verdict: PersonVerdict = self.person_gate.verdict  # plain attribute: the app and outputs read it
        self._person_counts = {"frames": 0, "detected": 0, "accepted": 0, "rejected": 0}
        self._backend, self._device = backend, device
        self._rest_translations = np.array(rig.skeleton.rest_translations)
        self.frames_without_person = 0
        # Frames dropped because a stage saw or made NaN / inf, per stage (perception, v2p, retarget, p2r, filter).
        self.dropped_nonfinite: dict[str, int] = {}
        self._auto_orientation = orientation == "auto"
        if orientation == "auto":
            orientation = _orientation_for(rig, retarget)
        self.orientation = orientation
        self._segments = SegmentTracker() if orientation is not None else None
        self.last_segments: SegmentPose | None = None  # the last solved frame's segment turns (plain attribute: diagnostics)
        self.continuity = RotationContinuity(continuity) if continuity is not None else None
        self.arm_depth = ArmDepth() if arm_depth else None
        ref_world = self._bind_solver()
        if warmup_steps:
            # A compiled model compiles on its first steps: do it here, not on the live thread.
            rest = _rest_landmarks()
            for _ in range(warmup_steps):
                performer.step(rest)
                solver.step(ref_world)
            performer.reset()
            self._bind_solver()

    def use_retarget(self, retarget: Retarget) -> None:
        """Drive the rig through ``retarget`` from the next frame (e.g. a user's edited map, or one
        wrapped in a calibration): its map's orientation links and face and hand joints too."""
        self.retarget = retarget
        if self._auto_orientation:
            self.orientation = _orientation_for(self.rig, retarget)
            if self.orientation is not None and self._segments is None:
                self._segments = SegmentTracker()
        if self.face_hands is not None:
            self.face_hand_targets = self._face_hand_targets()

    def _face_hand_targets(self):
        """The rig's face and hand joints, as the retarget map names them (jaw, eyes, grips)."""
        return find_face_hand_targets(self.rig, getattr(getattr(self.retarget, "map", None), "face_hands", None))

    def use_face_hands(self, stage: FaceHandsStage | FaceHandsWorker | None) -> None:
        """Run ``stage`` as the face and hands stage from now on (None: body only); closes the old one."""
        if self.face_hands is not None and self.face_hands is not stage:
            self.face_hands.close()
        self.face_hands = stage
        self.face_hand_targets = self._face_hand_targets() if stage is not None else None
        self.last_face_hands = None

    def _bind_solver(self) -> np.ndarray:
        """``solver.reset`` with the rig's reference pose-rotation pair; returns its ``(J, 3)`` positions."""
        skeleton = self.rig.skeleton
        ref_rotations = self.rig.reference_rotations()
        _, ref_world = forward_kinematics(skeleton.parents, rot.quat_to_matrix(ref_rotations), skeleton.rest_translations)
        self.solver.reset(skeleton, ref_world, ref_rotations)
        return ref_world

    def _gate(self, landmarks: LandmarkFrame) -> LandmarkFrame:
        """The person gate's verdict on ``landmarks``; rejected landmarks become an empty frame (nobody seen)."""
        verdict = self.person_gate.update(landmarks)
        self.person_verdict = verdict
        counts = self._person_counts
        counts["frames"] += 1
        counts["detected"] += landmarks.person_found
        counts["accepted"] += verdict.accepted
        if landmarks.person_found and not verdict.accepted:
            counts["rejected"] += 1
            return LandmarkFrame.empty(landmarks.t_ms)
        return landmarks

    def person_report(self) -> dict[str, Any]:
        """The ``person`` section of the run statistics: frames seen, with a detection, accepted and
        rejected by the person gate, the accept rate over detections, and the last verdict."""
        c = dict(self._person_counts)
        v = self.person_verdict
        return c | {"accept_rate": c["accepted"] / c["detected"] if c["detected"] else None,
                    "accepted_now": v.accepted, "score": round(v.score, 3),
                    "reasons": {k: (round(x, 3) if x != float("inf") else "inf") for k, x in v.reasons.items()}}

    @property
    def info(self) -> ProcessorInfo:
        return ProcessorInfo(self.perception.name, self.performer.name, self.solver.name, self._active_backend(), self._device,
                             self._face_hands_label())

    def _face_hands_label(self) -> str:
        stage = self.face_hands
        if stage is None:
            return "off"
        parts = [name for name, on in (("face", stage.face_active), ("hands", stage.hands_active)) if on]
        return "+".join(parts) or "off"

    def _active_backend(self) -> str:
        """The model backend running now: a background compile switches it after start."""
        for stage in (self.solver, self.performer):
            live = getattr(stage, "active_backend", None)
            if isinstance(live, str):
                return live
        return self._backend

    def reset(self) -> None:
        """Forget the history (filters, causal windows, held pose, the person verdict)."""
        self.person_gate.reset()
        self.person_verdict = self.person_gate.verdict
        self._bind_solver()
        self.performer.reset()
        self.filter.reset()
        self._hold.reset()
        self._last_hips = None
        self.tracking_state = TrackingState.NO_PERSON
        self.last_face_hands = None
        if self.face_hands is not None:
            self.face_hands.reset()
        if self.arm_depth is not None:
            self.arm_depth.reset()
        if self.continuity is not None:
            self.continuity.reset()
        if self._segments is not None:
            self._segments.reset()
        if hasattr(self.retarget, "reset"):
            self.retarget.reset()

    def process(self, frame: Frame) -> PoseResult | None:
        """The rig's pose for ``frame``: live, held (person lost) or easing to rest (nobody in view);
        ``None`` once the rig is at rest with nobody in view. :attr:`tracking_state` says which.

        Non-finite values at any stage drop the frame (counted in :attr:`dropped_nonfinite`) and
        reset the stateful stages after it, so one NaN never faults the run or poisons later frames.
        It is :meth:`perceive` then :meth:`solve`, which the pipeline runs on two threads.
        """
        return self.solve(self.perceive(frame))

    def perceive(self, frame: Frame) -> Perceived:
        """The first half of :meth:`process`: landmarks, the person gate, the hold, face and hands.

        It touches only the perception side (MediaPipe, gate, hold, the face and hands stage), so
        it may run on another thread than :meth:`solve` (one thread each).
        """
        t_queue = time.monotonic_ns()  # capture -> here: waiting in the mailbox for this thread
        try:
            landmarks = self._gate(self.perception.detect(frame))
        except NonFiniteLandmarks:
            self._drop_nonfinite("perception", frame)
            return Perceived(frame, None, False, None, (), dropped=True)
        t_perception = time.monotonic_ns()
        held = self._hold.update(landmarks)
        if not held.frame.person_found:
            return Perceived(frame, None, False, None, (("queue", t_queue), ("perception", t_perception)))
        face_stages, face_hands = self._face_hands_step(frame, held.frame)
        return Perceived(frame, held.frame, held.holding, face_hands, (("queue", t_queue), ("perception", t_perception), *face_stages))

    def solve(self, perceived: Perceived) -> PoseResult | None:
        """The second half of :meth:`process`: performer, retarget, solver, orientation, filter.

        Its first stage, ``handoff``, is the wait since :meth:`perceive` finished (about zero when
        both run on one thread).
        """
        t_handoff = time.monotonic_ns()
        frame = perceived.frame
        if perceived.dropped:
            return None
        if perceived.landmarks is None:
            return self._no_person(frame)
        self.tracking_state = TrackingState.LOST if perceived.holding else TrackingState.PERSON
        landmarks, face_hands = perceived.landmarks, perceived.face_hands
        if self.arm_depth is not None:
            landmarks = self.arm_depth(landmarks)
        modes = self.modes  # one read per frame: the GUI may swap it meanwhile
        face_head = None if face_hands is None else face_hands.head_rotation
        palms = None if face_hands is None else face_hands.palms
        segments = self._segments(landmarks, _image_size(frame), face_head, palms) if self._segments is not None else None
        if segments is not None and segments.pelvis_fix is not None:
            landmarks = turn_hips(landmarks, segments.pelvis_fix)  # the root follows the decoupled pelvis
        performer = self.performer.step(landmarks)  # (28, 3) metres, hip-centred
        if self.root_motion and not modes.upper_body:
            performer = performer + self._root_offset(landmarks, frame)
        if not np.isfinite(performer).all():
            self.performer.reset()  # a causal window holding NaN would spoil the next W frames
            self._last_hips = None
            return self._drop_nonfinite("v2p", frame)
        if modes.upper_body:
            performer = legs_at_rest(performer)
        if modes.mirror:
            performer = mirror_performer(performer)
        t_v2p = time.monotonic_ns()
        target = np.asarray(self.retarget(performer), dtype=np.float64)  # (J, 3) metres, world
        if not np.isfinite(target).all():
            if hasattr(self.retarget, "reset"):
                self.retarget.reset()
            return self._drop_nonfinite("retarget", frame)
        if segments is not None and modes.upper_body:
            segments = leg_segments_at_rest(segments)
        if segments is not None and modes.mirror:
            segments = mirror_segments(segments)
        self.last_segments = segments
        t_retarget = time.monotonic_ns()
        hints = self.orientation.hints(target, segments) if self.orientation is not None and self.solver.takes_hints else None
        rotations = rot.quat_normalize(np.asarray(self.solver.step(target, hints), dtype=np.float64))  # (J, 4)
        if self.orientation is not None:
            rotations = self.orientation(rotations, segments)
        if face_hands is not None and self.face_hand_targets is not None:
            offsets = face_hand_offsets(self.face_hand_targets, jaw=jaw_open_angle(face_hands.blendshapes),
                                        gaze=gaze_angles(face_hands.blendshapes), hands=face_hands.hands)
            rotations = offset_rotations(rotations, offsets)
        if self.continuity is not None:
            rotations = self.continuity(rotations, frame.t_capture_ns)
        positions = self._positions_of(rotations, target[0])
        if not (np.isfinite(rotations).all() and np.isfinite(positions).all()):
            self._bind_solver()  # forget the solver's history (P2R's cache)
            return self._drop_nonfinite("p2r", frame)
        t_p2r = time.monotonic_ns()  # the solver stage includes the positions its rotations give
        result = PoseResult(
            rotations, target[0], positions, frame.t_capture_ns, frame.index,
            stage_ns=(*perceived.stage_ns, ("handoff", t_handoff), ("v2p", t_v2p), ("retarget", t_retarget), ("p2r", t_p2r)),
            source_id=frame.source_id,
            blendshapes=None if face_hands is None or not self.face_hands.face_active else face_hands.blendshapes,
        )
        filtered = self.filter(result)
        if filtered.rotations is not result.rotations or filtered.root_translation is not result.root_translation:
            # Every output's positions are the forward kinematics of the rotations sent beside them
            # (OSC, .npz takes, the viewport), not a separately filtered copy.
            filtered = filtered.with_pose(filtered.rotations, filtered.root_translation,
                                          self._positions_of(filtered.rotations, filtered.root_translation))
        if not (np.isfinite(filtered.rotations).all() and np.isfinite(filtered.positions).all()):
            self.filter.reset()
            return self._drop_nonfinite("filter", frame)
        self._easing.remember(filtered.rotations, filtered.root_translation)
        return filtered

    def _positions_of(self, rotations: np.ndarray, root_translation: np.ndarray) -> np.ndarray:
        """``(J, 3)`` world joint positions of local ``rotations`` with the root at ``root_translation``."""
        translations = self._rest_translations.copy()
        translations[0] = root_translation  # the root's local translation is its world position
        return forward_kinematics(self.rig.skeleton.parents, rot.quat_to_matrix(rotations), translations)[1]

    def _drop_nonfinite(self, stage: str, frame: Frame) -> None:
        """Count a frame dropped for NaN / inf at ``stage``; warn on the first and every 100th."""
        n = self.dropped_nonfinite[stage] = self.dropped_nonfinite.get(stage, 0) + 1
        if n == 1 or n % 100 == 0:
            logger.warning("frame %d of %s dropped: non-finite values at the %s stage (%d so far)", frame.index, frame.source_id, stage, n)
        return None

    def _no_person(self, frame: Frame) -> PoseResult | None:
        """Nobody (or no plausible person) in view past the hold: a step of the rig easing to rest,
        or ``None`` once it is there. Any "not a person" verdict (e.g. a plausibility gate) should
        end here, so the state and the rig behave the same whatever said it."""
        self.frames_without_person += 1
        self.tracking_state = TrackingState.NO_PERSON
        eased = self._easing.step(frame.t_capture_ns)
        if eased is None:
            return None
        rotations, root, positions = eased
        return PoseResult(rotations, root, positions, frame.t_capture_ns, frame.index, source_id=frame.source_id)

    def _face_hands_step(self, frame: Frame, landmarks: LandmarkFrame) -> tuple[tuple[tuple[str, int], ...], FaceHandsState | None]:
        """Run the face and hands stage on a real camera frame: ``(stage stamps, state)``; ``((), None)`` when off."""
        image = getattr(frame, "image", None)
        if (self.face_hands is None or getattr(frame, "landmarks", None) is not None or image is None
                or np.ndim(image) != 3 or not landmarks.image.any()):
            return (), None
        state, t_face, t_hands = self.face_hands.step(image, landmarks, frame.t_capture_ns // 1_000_000)
        self.last_face_hands = state
        if not getattr(self.face_hands, "inline", True):  # a worker thread ran them: not this frame's time
            return (), state
        return (("face", t_face), ("hands", t_hands)), state

    def _root_offset(self, landmarks: LandmarkFrame, frame: Frame) -> np.ndarray:
        """``(3,)`` the performer's hip position in camera space, internal frame (held when unknown)."""
        image = getattr(frame, "image", None)
        if image is not None and np.ndim(image) >= 2:
            hips = estimate_hip_translation(landmarks, (int(image.shape[1]), int(image.shape[0])))
            if hips is not None:
                self._last_hips = hips
        return root_offset_internal(self._last_hips) if self._last_hips is not None else np.zeros(3)

    def close(self) -> None:
        """Release the perception models (idempotent)."""
        self.perception.close()
        if self.face_hands is not None:
            self.face_hands.close()


def _image_size(frame: Frame) -> tuple[int, int] | None:
    """``(width, height)`` of the frame's image, or None (no image: simulated landmarks)."""
    image = getattr(frame, "image", None)
    if image is None or np.ndim(image) < 2 or getattr(frame, "landmarks", None) is not None:
        return None
    return int(image.shape[1]), int(image.shape[0])


def _orientation_for(rig: Rig, retarget: Retarget) -> Any:
    """The orientation links of ``retarget``'s map applied to ``rig``, or None (no map, no links)."""
    retarget_map = getattr(retarget, "map", None)
    if retarget_map is None or not getattr(retarget_map, "orientations", None):
        return None
    from engine.retarget.orientation import OrientationRetarget

    return OrientationRetarget(rig.skeleton, retarget_map)


def _rest_landmarks() -> LandmarkFrame:
    """The landmarks of the performer's rest T-pose (hip-centred, MediaPipe world frame), for warm-ups."""
    from engine.perception.landmark_simulator import landmarks_from_performer
    from engine.perception.landmarks import NUM_LANDMARKS, internal_to_world
    from engine.performer import performer_rest_positions

    points = landmarks_from_performer(performer_rest_positions())  # (33, 3) internal frame
    hips = 0.5 * (points[23] + points[24])  # BlazePose LEFT_HIP, RIGHT_HIP
    ones = np.ones(NUM_LANDMARKS)
    return LandmarkFrame(internal_to_world(points - hips), np.zeros((NUM_LANDMARKS, 3)), ones, ones, True, 0)


# %% building one -------------------------------------------------------------------------------------
def build_processor(
    rig: Rig,
    *,
    perception: str = "auto",
    device: str = "auto",
    backend: str = "auto",
    filter_config: PoseFilterConfig = PoseFilterConfig(),
    p2r_weights: str | None = None,
    v2p_weights: str | None = None,
    use_models: bool = True,
    cpu_threads: int | None = 1,
    solver: str = "analytic_ik",
    modes: ProcessingModes = ProcessingModes(),
    face_hands: FaceHandsConfig | None = None,
    arm_depth: bool = True,
) -> LiveProcessor:
    """The best available processor for ``rig`` on this machine.

    Args:
        rig: the target rig.
        perception: ``"auto"`` (simulated landmarks when frames carry them, else MediaPipe),
            ``"mediapipe"`` or ``"simulated"``.
        device, backend: for the learned models (see :mod:`engine.model.session`).
        filter_config: One Euro settings.
        p2r_weights: P2R weights (default: the shipped ``resources/weights/p2r``).
        v2p_weights: the landmark V2P weights (default ``resources/weights/v2p_landmarks``).
        use_models: ``False`` forces the model-free stages (geometric performer, analytic IK).
        solver: ``"analytic_ik"`` (the default) or ``"p2r"`` (the learned P2R when its weights exist,
            else the IK). The IK is the default because it is ahead of the shipped P2R on clean
            held-out positions and on rendered live frames; P2R wins only on noisy positions
            (README, "Results").
        face_hands: the face and hands schedule (:class:`streaming.face_hands_stage.FaceHandsConfig`);
            None or a config with both parts off runs the body only.
        cpu_threads: torch intra-op threads when a model runs on the CPU (process-wide; ``None``
            leaves torch's default). One thread: a P2R step on the dragon (J=62) took 9.7 ms with 1
            thread and 317 ms with 2 on the 2-core machine while the pipeline's other threads and
            processes ran (OpenMP workers spin against them).
        modes: mirror and upper-body mode.
        arm_depth: restore the arms' depth (:mod:`engine.perception.limb_depth`; off only to measure it).
    """
    if rig.skeleton.num_joints > LIVE_JOINT_BUDGET:
        logger.warning(
            "rig %s has %d joints: the live budget (30 fps, capture -> send median 40 ms) held reliably up to about %d "
            "joints on a busy 2-core CPU (README; measure yours with: python main.py bench joints); the frame rate may drop",
            rig.name, rig.skeleton.num_joints, LIVE_JOINT_BUDGET,
        )
    perceptions: dict[str, Callable[[], Perception]] = {
        "auto": AutoPerception, "mediapipe": MediaPipePerception, "simulated": SimulatedPerception,
    }
    if perception not in perceptions:
        raise ValueError(f"perception must be one of {sorted(perceptions)}, got {perception!r}")
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    rotation_solver, used_backend, used_device = _build_solver(p2r_weights, device, backend, use_models and solver == "p2r")
    performer, v2p_backend, v2p_device = _build_performer(v2p_weights, device, backend, use_models)
    models_on_cpu = [d == "cpu" for b, d in ((used_backend, used_device), (v2p_backend, v2p_device)) if b != "none"]
    if used_backend == "none":
        used_backend, used_device = v2p_backend, v2p_device
    if any(models_on_cpu) and cpu_threads is not None:
        import torch

        torch.set_num_threads(cpu_threads)
    return LiveProcessor(
        rig,
        perception=perceptions[perception](),
        performer=performer,
        retarget=_build_retarget(rig),
        solver=rotation_solver,
        filter_config=filter_config,
        backend=used_backend,
        device=used_device,
        modes=modes,
        face_hands=_face_hands_stage(face_hands),
        arm_depth=arm_depth,
    )


def _face_hands_stage(config: FaceHandsConfig | None) -> FaceHandsStage | FaceHandsWorker | None:
    """The face and hands stage ``config`` asks for: none, on the inference thread, or on its own."""
    if config is None or not config.enabled:
        return None
    stage = FaceHandsStage(config)
    return FaceHandsWorker(stage) if config.background else stage


SOLVERS = ("analytic_ik", "p2r")


def _build_solver(weights: str | None, device: str, backend: str, use_models: bool) -> tuple[RotationSolver, str, str]:
    """Learned P2R when its weights exist and load, else the analytic IK baseline."""
    if use_models:
        from engine.solvers.learned_p2r import DEFAULT_P2R_WEIGHTS, P2RSolver

        loaded = _load_learned_stage("P2R", weights or DEFAULT_P2R_WEIGHTS, P2RSolver.from_weights, device, backend, "the analytic IK baseline")
        if loaded is not None:
            return loaded
    from engine.solvers.analytic_ik import AnalyticIKSolver

    return AnalyticIKSolver(), "none", "cpu"


def _build_performer(weights: str | None, device: str, backend: str, use_models: bool) -> tuple[PerformerEstimator, str, str]:
    """The causal landmark V2P (:mod:`engine.model.v2p_landmarks`) when its weights exist and load, else the geometric mapping."""
    if use_models:
        from engine.model.v2p_landmarks import DEFAULT_V2P_LANDMARK_WEIGHTS, V2PPerformer

        loaded = _load_learned_stage(
            "landmark V2P", weights or DEFAULT_V2P_LANDMARK_WEIGHTS, V2PPerformer.from_weights, device, backend, "the geometric mapping"
        )
        if loaded is not None:
            return loaded
    return GeometricPerformer(), "none", "cpu"


def _load_learned_stage(what: str, path: Any, loader: Any, device: str, backend: str, fallback: str) -> tuple[Any, str, str] | None:
    """``(loader(path, device=, backend=), backend, device)``, or None (logged) when the weights are
    missing or unusable (stale version, wrong kind, unreadable), so the caller falls back."""
    from engine.model.session import resolve_backend, resolve_device
    from engine.model.weights import WeightsError, weights_paths

    if not weights_paths(path)[0].is_file():
        logger.info("no %s weights at %s: using %s", what, path, fallback)
        return None
    dev = resolve_device(device)
    chosen = resolve_backend(backend, dev)
    try:
        return loader(path, device=dev, backend=chosen), chosen, str(dev)
    except (WeightsError, TypeError, ValueError, OSError) as e:  # stale or foreign weights: say so, keep running
        logger.error("%s weights unusable (%s): using %s", what, e, fallback)
        return None


def _build_retarget(rig: Rig) -> Retarget:
    """A retargeter with the chain map saved beside the rig file, else the suggested one."""
    from pathlib import Path

    from engine.retarget.mapping import load_map, map_path_for, suggest_map
    from engine.retarget.retargeter import Retargeter

    saved = map_path_for(rig.source.path) if rig.source.path else None
    if saved is not None and Path(saved).is_file():
        retarget_map = load_map(saved, rig.skeleton)
        logger.info("retarget map: %s", saved)
    else:
        retarget_map = suggest_map(rig.skeleton, rig.name)
    return Retargeter(rig.skeleton, retarget_map)
