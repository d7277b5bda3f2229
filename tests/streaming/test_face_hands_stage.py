"""The face and hands stage on real video frames, its degrade path, and the whole live path to a real receiver."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.perception.face_landmarker import BLENDSHAPE_NAMES
from main import main
from streaming.face_hands_stage import FaceHandsConfig, FaceHandsStage
from tests.osc_receiver import OscReceiver

VIDEO = "human_aerobics_romp.mp4"


@pytest.fixture(scope="module")
def frames_with_landmarks(shared_video: Path, shared_models: Path) -> list[tuple[np.ndarray, object]]:
    """The first 8 frames of the aerobics clip with their pose landmarks."""
    import cv2

    from engine.perception.pose_landmarker import PoseLandmarkerAdapter

    capture = cv2.VideoCapture(str(shared_video / VIDEO))
    out = []
    with PoseLandmarkerAdapter(shared_models / "pose_landmarker_full.task") as pose:
        for i in range(8):
            ok, image = capture.read()
            assert ok
            out.append((image, pose.detect(image, i * 33)))
    capture.release()
    return out


def test_face_and_hands_are_found_on_a_real_video(frames_with_landmarks, shared_models: Path) -> None:
    stage = FaceHandsStage(FaceHandsConfig(face_model=str(shared_models / "face_landmarker.task"),
                                           hand_model=str(shared_models / "hand_landmarker.task"), allow_download=False))
    try:
        for i, (image, landmarks) in enumerate(frames_with_landmarks):
            state, t_face, t_hands = stage.step(image, landmarks, i * 33)
            assert t_hands >= t_face
        assert stage.counts["face_found"] >= 6 and stage.counts["hand_found"] >= 4
        assert state.face_found and state.head_rotation is not None
        assert abs(np.linalg.norm(state.head_rotation) - 1.0) < 1e-9
        # she faces the camera: the head is turned less than 45 degrees from it
        assert 2 * np.degrees(np.arccos(min(abs(state.head_rotation[3]), 1.0))) < 45
        assert state.blendshapes.shape == (len(BLENDSHAPE_NAMES),) and 0 <= state.blendshapes.min() <= state.blendshapes.max() <= 1
    finally:
        stage.close()


def test_schedule_runs_the_face_every_nth_frame_and_alternates_hands(frames_with_landmarks) -> None:
    stage = FaceHandsStage(FaceHandsConfig(face_every=2, hands_every=2, alternate_hands=True, allow_download=False))
    try:
        ran = [stage.step(image, lm, i * 33)[0] for i, (image, lm) in enumerate(frames_with_landmarks)]
    finally:
        stage.close()
    assert [s.face_ran for s in ran] == [True, False] * 4
    assert [s.hands_ran for s in ran][::2] == [("left",), ("right",), ("left",), ("right",)]
    assert all(s.hands_ran == () for s in ran[1::2])


def test_missing_models_degrade_to_body_only(frames_with_landmarks, tmp_path: Path) -> None:
    stage = FaceHandsStage(FaceHandsConfig(face_model=str(tmp_path / "nope_face.task"), hand_model=str(tmp_path / "nope_hand.task")))
    image, landmarks = frames_with_landmarks[0]
    state, _, _ = stage.step(image, landmarks, 0)
    assert not stage.face_active and not stage.hands_active
    assert not state.face_found and not any(state.hands_found.values())
    assert any("face tracking off" in m and "nope_face.task" in m for m in stage.messages)
    assert any("hand tracking off" in m for m in stage.messages)
    stage.close()


def test_whole_path_on_a_real_video_reaches_a_real_vmc_receiver(shared_video: Path, shared_models: Path, tmp_path: Path) -> None:
    """Video -> pose -> face + hands -> humanoid -> VMC: bones with fingers and VRM 0 blendshapes arrive."""
    stats = tmp_path / "s.json"
    with OscReceiver() as receiver:
        code = main(["run", "--source", str(shared_video / VIDEO), "--rig", "humanoid", "--vmc", f"127.0.0.1:{receiver.port}",
                     "--seconds", "8", "--backend", "eager", "--hands-every", "1", "--alternate-hands", "off",
                     "--record", str(tmp_path / "take.npz"), "--stats", str(stats)])
        got = receiver.wait_for(1, "/VMC/Ext/Blend/Apply")
    assert code == 0
    report = json.loads(stats.read_text())
    assert report["face_hands"]["enabled"] and report["face_hands"]["face_found"] >= 1, report["face_hands"]
    # By default they run on their own thread: counted there, not in the frame's stage timings.
    assert report["face_hands"]["background"] and report["face_hands"]["worker_runs"] >= 1
    assert "stage.face" not in report["latency_ms"]
    vals = [args for address, args in got if address == "/VMC/Ext/Blend/Val"]
    assert {a[0] for a in vals} >= {"A", "Blink_L", "Blink_R", "Joy"}
    assert all(0.0 <= a[1] <= 1.0 for a in vals)
    bones = {args[0] for address, args in got if address == "/VMC/Ext/Bone/Pos"}
    assert {"LeftIndexProximal", "RightThumbDistal", "Head"} <= bones
    take = np.load(tmp_path / "take.npz")
    assert take["blendshapes"].shape[1] == len(BLENDSHAPE_NAMES) and np.isfinite(take["blendshapes"]).any()


def test_run_options_build_the_schedule() -> None:
    from main import build_parser
    from streaming.headless import face_hands_config

    args = build_parser().parse_args(["run", "--no-face", "--hands-every", "3", "--alternate-hands", "off", "--blendshapes", "arkit"])
    config = face_hands_config(args)
    assert (config.face, config.hands, config.hands_every, config.alternate_hands) == (False, True, 3, False)
    assert args.blendshapes == "arkit"
    default = face_hands_config(build_parser().parse_args(["run"]))
    assert (default.face, default.hands, default.face_every, default.hands_every, default.alternate_hands) == (True, True, 1, 2, True)
    assert default.background
    with pytest.raises(ValueError, match="face_every"):
        face_hands_config(build_parser().parse_args(["run", "--face-every", "0"]))


class _NoisyFace:
    """A stand-in face landmarker: a steady face with noisy blendshapes, and one blink at frame 30."""

    def __init__(self, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.calls = 0

    def detect(self, image, t_ms):
        from engine.perception.face_landmarker import FaceObservation

        values = np.clip(0.3 + self.rng.normal(0.0, 0.02, len(BLENDSHAPE_NAMES)), 0.0, 1.0)
        if 30 <= self.calls < 34:  # a blink: about 130 ms with both eyes shut
            for name in ("eyeBlinkLeft", "eyeBlinkRight"):
                values[BLENDSHAPE_NAMES.index(name)] = 1.0
        self.calls += 1
        return FaceObservation(True, values, np.array([0.0, 0.0, 0.0, 1.0]), np.zeros((0, 3)))

    def close(self) -> None:
        pass


def _blendshape_run(filter_on: bool, frames_with_landmarks) -> np.ndarray:
    config = FaceHandsConfig(hands=False) if filter_on else FaceHandsConfig(hands=False, blendshape_filter=None)
    stage = FaceHandsStage(config, face_adapter=_NoisyFace())  # the landmarker's stand-in: the filter is what is tested
    image, landmarks = frames_with_landmarks[0]
    out = np.array([stage.step(image, landmarks, i * 33)[0].blendshapes for i in range(60)])
    stage.close()
    return out


def test_blendshapes_are_smoothed_and_a_blink_still_closes_the_eyes(frames_with_landmarks) -> None:
    raw, smooth = _blendshape_run(False, frames_with_landmarks), _blendshape_run(True, frames_with_landmarks)
    jitter = lambda x: float(np.median(np.abs(np.diff(x[5:29], axis=0))))  # noqa: E731 - the steady frames before the blink
    assert jitter(smooth) < 0.75 * jitter(raw)
    blink = BLENDSHAPE_NAMES.index("eyeBlinkLeft")
    assert raw[30:34, blink].max() == 1.0 and smooth[30:34, blink].max() > 0.8  # the blink gets through


class _FixedHand:
    """A stand-in hand landmarker that reads the same hand every time."""

    def __init__(self, world: np.ndarray) -> None:
        self.world = world

    def detect(self, crop, t_ms):
        from engine.perception.hand_landmarker import HandObservation

        return HandObservation(True, self.world, np.zeros((21, 3)), 0.9)

    def close(self) -> None:
        pass


def test_a_palm_is_passed_on_only_when_the_reading_is_clearly_that_sides_hand(frames_with_landmarks) -> None:
    """Both crops read as a left hand: the left side gets palm axes, the right side none (a mirrored
    or other-side reading would turn the forearm the wrong way)."""
    from tests.engine.face_hands.test_hand_orientation import _left_hand

    stage = FaceHandsStage(FaceHandsConfig(face=False, hands_every=1, alternate_hands=False, background=False),
                           hand_adapters={side: _FixedHand(_left_hand()) for side in ("left", "right")})
    image, landmarks = frames_with_landmarks[0]
    state = stage.step(image, landmarks, 0)[0]
    stage.close()
    assert state.hands_found == {"left": True, "right": True}  # the fingers are used either way
    assert set(state.palms) == {"left"}
    along, across = state.palms["left"]
    assert np.linalg.norm(along) == pytest.approx(1.0) and abs(along @ across) < 0.3
