"""The per-frame work: synthetic landmarks or MediaPipe -> performer -> retarget -> solver -> filter."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest

from engine import rotations as rot
from engine.rigs.bundled import build_rig
from engine.kinematics import forward_kinematics
from engine.perception.landmarks import LandmarkFrame
from engine.perception.person_gate import PersonVerdict
from streaming.frames import Frame
from streaming.one_euro import PoseFilterConfig
from streaming.processor import AutoPerception, LiveProcessor, SimulatedPerception, build_processor
from streaming.tracking import ProcessingModes, TrackingState
from streaming.synthetic_source import SyntheticSource

STAGES = ["queue", "perception", "handoff", "v2p", "retarget", "p2r", "filter"]


@pytest.fixture(scope="module")
def synthetic_frames() -> list:
    src = SyntheticSource(realtime=False, limit=12)
    with src:
        return [src.read() for _ in range(12)]


@pytest.fixture(scope="module")
def dragon():
    return build_rig("dragon").rig


def test_synthetic_frames_give_a_pose_of_the_rig(synthetic_frames, dragon) -> None:
    proc = build_processor(dragon, use_models=False, filter_config=PoseFilterConfig(enabled=False))
    assert isinstance(proc, LiveProcessor)
    info = proc.info.to_dict()
    assert info["solver"] == "analytic_ik" and info["performer"] == "geometric" and info["backend"] == "none"
    results = [proc.process(f) for f in synthetic_frames]
    assert all(r is not None for r in results)
    r = results[-1]
    J = dragon.skeleton.num_joints
    assert r.rotations.shape == (J, 4) and r.positions.shape == (J, 3)
    assert r.index == synthetic_frames[-1].index and r.t_capture_ns == synthetic_frames[-1].t_capture_ns
    assert [s for s, _ in r.stage_ns] == STAGES
    times = [t for _, t in r.stage_ns]
    assert times == sorted(times) and times[0] >= r.t_capture_ns
    assert proc.info.perception == "simulated"
    # Positions are the forward kinematics of the rotations with the root moved (filter off).
    trans = np.array(dragon.skeleton.rest_translations)
    trans[0] = r.root_translation
    _, fk = forward_kinematics(dragon.skeleton.parents, rot.quat_to_matrix(r.rotations), trans)
    np.testing.assert_allclose(r.positions, fk, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(r.rotations, axis=1), 1.0, atol=1e-9)
    # The performer waves: the rig moves between frames.
    assert rot.quat_geodesic_angle(results[0].rotations, results[8].rotations).max() > np.radians(5)
    proc.close()
    proc.close()


def test_filtered_positions_are_the_kinematics_of_the_filtered_rotations(synthetic_frames, dragon) -> None:
    """Issue 15, item 8: OSC and .npz positions agree with the rotations sent beside them (filter on)."""
    proc = build_processor(dragon, use_models=False)
    assert proc.filter.config.enabled
    for frame in synthetic_frames:
        r = proc.process(frame)
        trans = np.array(dragon.skeleton.rest_translations)
        trans[0] = r.root_translation
        _, fk = forward_kinematics(dragon.skeleton.parents, rot.quat_to_matrix(r.rotations), trans)
        np.testing.assert_allclose(r.positions, fk, atol=1e-9)
    proc.close()


def test_humanoid_follows_the_performer(synthetic_frames) -> None:
    """Humanoid performer -> humanoid rig: the solved hands track the performer's hands."""
    rig = build_rig("humanoid").rig
    proc = build_processor(rig, use_models=False, filter_config=PoseFilterConfig(enabled=False))
    sk = rig.skeleton
    for f in synthetic_frames:
        r = proc.process(f)
    for hand in ("LeftHand", "RightHand"):
        j = sk.index(hand)
        # The performer is seen from the camera, so compare hand heights above the hips.
        got = r.positions[j, 1] - r.positions[0, 1]
        want = f.truth_positions[j, 1] - f.truth_positions[0, 1]
        assert abs(got - want) < 0.15, hand


def _empty(frame, first, dt_ms: int) -> Frame:
    """``frame`` with nobody in it, ``dt_ms`` after ``first``."""
    t = first.t_capture_ns + dt_ms * 1_000_000
    return dataclasses.replace(frame, t_capture_ns=t, landmarks=LandmarkFrame.empty(t // 1_000_000))


def test_lost_person_holds_then_eases_to_rest_then_gives_nothing(synthetic_frames, dragon) -> None:
    proc = build_processor(dragon, use_models=False)
    assert proc.tracking_state is TrackingState.NO_PERSON  # nothing seen yet
    first = synthetic_frames[0]
    live = proc.process(first)
    assert live is not None and proc.tracking_state is TrackingState.PERSON
    held = proc.process(_empty(synthetic_frames[1], first, 100))
    assert held is not None and proc.tracking_state is TrackingState.LOST  # the last pose is held for a while
    rest = rot.quat_normalize(dragon.skeleton.rest_rotations)
    start = proc.process(_empty(synthetic_frames[2], first, 5000))  # past the hold: easing starts from the last pose
    assert proc.tracking_state is TrackingState.NO_PERSON and start is not None
    middle = proc.process(_empty(synthetic_frames[3], first, 5500))
    end = proc.process(_empty(synthetic_frames[4], first, 6100))
    d_start, d_middle, d_end = (rot.quat_geodesic_angle(r.rotations, rest).max() for r in (start, middle, end))
    assert d_start > np.radians(5) and d_end < 1e-6 and d_end < d_middle < d_start
    np.testing.assert_allclose(end.root_translation, dragon.skeleton.rest_translations[0], atol=1e-9)
    assert proc.process(_empty(synthetic_frames[5], first, 6200)) is None  # at rest: nothing more to send
    assert proc.frames_without_person == 4
    assert proc.process(synthetic_frames[6]) is not None and proc.tracking_state is TrackingState.PERSON


def test_mirror_mode_swaps_the_rigs_sides(synthetic_frames) -> None:
    """The humanoid's left hand follows the performer's right hand when mirrored."""
    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    plain = build_processor(rig, use_models=False, filter_config=PoseFilterConfig(enabled=False))
    mirrored = build_processor(rig, use_models=False, filter_config=PoseFilterConfig(enabled=False), modes=ProcessingModes(mirror=True))
    for f in synthetic_frames:
        a, b = plain.process(f), mirrored.process(f)
    left, right = sk.index("LeftHand"), sk.index("RightHand")
    height = lambda r, j: r.positions[j, 1] - r.positions[0, 1]  # noqa: E731
    assert abs(height(b, left) - height(a, right)) < 0.02 and abs(height(b, right) - height(a, left)) < 0.02
    assert abs(height(a, left) - height(a, right)) > 0.05  # the clip is not symmetric, so the test can fail


def test_upper_body_mode_holds_the_legs_at_rest(synthetic_frames) -> None:
    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    proc = build_processor(rig, use_models=False, filter_config=PoseFilterConfig(enabled=False), modes=ProcessingModes(upper_body=True))
    results = [proc.process(f) for f in synthetic_frames]
    legs = [sk.index(n) for n in ("LeftUpperLeg", "LeftLowerLeg", "RightUpperLeg", "RightLowerLeg")]
    rest = rot.quat_normalize(sk.rest_rotations)
    for r in results:  # thighs and shins keep their rest rotations relative to the pelvis
        assert rot.quat_geodesic_angle(r.rotations[legs], rest[legs]).max() < np.radians(3)
    roots = np.array([r.root_translation for r in results])
    assert np.ptp(roots, axis=0).max() < 0.03  # seated: no travel through the camera's space (only landmark noise)
    proc.modes = ProcessingModes()  # modes switch while running, from the next frame
    assert proc.process(synthetic_frames[-1]) is not None


def test_simulated_perception_needs_simulated_frames() -> None:
    with pytest.raises(ValueError, match="no simulated landmarks"):
        SimulatedPerception().detect(Frame(np.zeros((4, 4, 3), np.uint8), 0, 3, "cam"))
    with pytest.raises(ValueError, match="perception must be"):
        build_processor(build_rig("snake").rig, perception="telepathy", use_models=False)


def test_mediapipe_on_a_real_video_frame(shared_video, shared_models, dragon) -> None:
    import cv2

    cap = cv2.VideoCapture(str(shared_video / "human_aerobics_romp.mp4"))
    ok, image = cap.read()
    cap.release()
    assert ok
    image = cv2.resize(image, (640, 360))
    proc = build_processor(dragon, perception="auto", use_models=False)
    perception = proc.perception
    assert isinstance(perception, AutoPerception)
    try:
        result = None
        for i in range(3):
            result = proc.process(Frame.stamp(image, i, "video"))
        assert perception.name == "mediapipe"
        assert result is not None and np.isfinite(result.rotations).all()
    finally:
        proc.close()


def test_learned_p2r_is_used_when_its_weights_exist(tmp_path, synthetic_frames, caplog) -> None:
    import torch

    from engine.model.config import P2RConfig
    from engine.model.p2r import P2RModel
    from engine.model.weights import save_weights

    torch.manual_seed(0)
    weights = save_weights(P2RModel(P2RConfig(layers=1, window=4)), tmp_path / "p2r")
    rig = build_rig("snake").rig
    threads = torch.get_num_threads()
    try:
        # No landmark V2P here (the shipped one would be picked up otherwise): this test is about P2R.
        proc = build_processor(
            rig, solver="p2r", p2r_weights=str(weights), v2p_weights=str(tmp_path / "no_v2p"), device="cpu", backend="eager"
        )
        assert proc.info.to_dict() == {"perception": "auto", "performer": "geometric", "solver": "p2r", "backend": "eager", "device": "cpu", "face_hands": "off"}
        assert torch.get_num_threads() == 1  # one intra-op thread for the live path on the CPU
        results = [proc.process(f) for f in synthetic_frames[:5]]
        assert all(r is not None and r.num_joints == rig.skeleton.num_joints for r in results)
        assert np.isfinite(results[-1].rotations).all()
    finally:
        torch.set_num_threads(threads)
    assert build_processor(rig, solver="p2r", p2r_weights=str(tmp_path / "missing")).info.solver == "analytic_ik"
    # Weights from another model version (a tensor shape differs from the config): a clear log
    # line naming the file, and the live path keeps running on the IK.
    stale = tmp_path / "stale"
    save_weights(P2RModel(P2RConfig(layers=1, window=4, width=32)), stale)
    (tmp_path / "stale.json").write_text((tmp_path / "p2r.json").read_text())
    with caplog.at_level(logging.ERROR, logger="streaming.processor"):
        assert build_processor(rig, solver="p2r", p2r_weights=str(stale), device="cpu").info.solver == "analytic_ik"
    assert "stale.safetensors" in caplog.text and "shapes differ" in caplog.text
    # The IK is the default solver even where P2R weights exist (it is ahead of the shipped P2R on clean and live input).
    assert build_processor(rig, p2r_weights=str(weights)).info.solver == "analytic_ik"
    with pytest.raises(ValueError, match="solver must be one of"):
        build_processor(rig, solver="magic")


def test_v2p_performer_is_used_when_its_weights_exist(tmp_path, synthetic_frames) -> None:
    import torch

    from engine.model.config import V2PConfig
    from engine.model.v2p import V2PModel
    from engine.model.weights import save_weights

    torch.manual_seed(0)
    weights = save_weights(V2PModel(V2PConfig(layers=1, window=4)), tmp_path / "v2p_landmarks")
    threads = torch.get_num_threads()
    try:
        proc = build_processor(build_rig("snake").rig, v2p_weights=str(weights), device="cpu", backend="eager",
                               p2r_weights=str(tmp_path / "none"))
        assert proc.info.performer == "v2p" and proc.info.solver == "analytic_ik" and proc.info.backend == "eager"
        performer = proc.performer.step(synthetic_frames[0].landmarks)
        assert performer.shape == (28, 3) and np.isfinite(performer).all()
        assert all(proc.process(f) is not None for f in synthetic_frames[:4])
    finally:
        torch.set_num_threads(threads)


def test_root_motion_follows_the_performer_through_the_camera_space() -> None:
    """A performer stepping sideways in front of the camera moves the rig's root (off: it stays put)."""
    import dataclasses

    from engine.perception.landmarks import LandmarkFrame
    from engine.perception.root_motion import DEFAULT_FOV_DEG
    from streaming.synthetic_source import SyntheticSource

    source = SyntheticSource("idle", realtime=False)
    source.open()
    first = source.read()
    source.close()
    world = first.landmarks.world  # (33, 3) hip-centred metres, x right, y down, z away
    h, w = first.image.shape[:2]
    focal = 0.5 * w / np.tan(0.5 * np.radians(DEFAULT_FOV_DEG))
    frames = []
    for k in range(20):
        cam = world + np.array([0.05 * k, 0.0, 3.0])  # 5 cm a frame to the camera's right
        image = np.stack([0.5 + focal * cam[:, 0] / cam[:, 2] / w, 0.5 + focal * cam[:, 1] / cam[:, 2] / h, np.zeros(33)], axis=1)
        lm = LandmarkFrame(world, image, first.landmarks.visibility, first.landmarks.presence, True, 33 * k)
        frames.append(dataclasses.replace(first, landmarks=lm, index=k, t_capture_ns=first.t_capture_ns + k * 33_000_000))
    rig = build_rig("quadruped").rig
    roots = {}
    for root_motion in (True, False):
        proc = build_processor(rig, use_models=False, filter_config=PoseFilterConfig(enabled=False))
        proc.root_motion = root_motion
        try:
            roots[root_motion] = np.array([proc.process(f).root_translation for f in frames])
        finally:
            proc.close()
    moved = roots[True][-1] - roots[True][0]
    assert np.isfinite(roots[True]).all()
    assert moved[0] > 0.3, moved  # 0.95 m to the side, scaled by the rig's leg length
    np.testing.assert_allclose(roots[False], np.broadcast_to(roots[False][0], roots[False].shape), atol=1e-6)


# %% non-finite input (issue 14, item 8) ---------------------------------------------------------------
class _GlitchingPerception:
    """Perception whose landmark arrays are the synthetic ones, but with NaN (or huge values) on chosen frames.

    Builds a real :class:`LandmarkFrame` from the raw arrays, as the MediaPipe adapter does, so
    NaN is caught where it would be in a live run.
    """

    name = "glitching"

    def __init__(self, nan_frames: set[int], huge_frames: set[int] = frozenset()) -> None:
        self.nan_frames, self.huge_frames = nan_frames, huge_frames

    def detect(self, frame) -> LandmarkFrame:
        lm = frame.landmarks
        world = np.array(lm.world)
        if frame.index in self.nan_frames:
            world[11, 0] = np.nan  # one landmark, one coordinate
        if frame.index in self.huge_frames:
            world[11] = 1e308  # finite, but every stage after it overflows
        return LandmarkFrame(world, np.array(lm.image), np.array(lm.visibility), np.array(lm.presence), True, lm.t_ms)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def many_synthetic_frames() -> list:
    src = SyntheticSource(realtime=False, limit=90)
    with src:
        return [src.read() for _ in range(90)]


@pytest.mark.parametrize("use_models", [False, True])
def test_one_nan_landmark_drops_one_frame_and_the_session_goes_on(many_synthetic_frames, dragon, use_models) -> None:
    clean = build_processor(dragon, use_models=use_models, filter_config=PoseFilterConfig(enabled=False))
    glitch = build_processor(dragon, use_models=use_models, filter_config=PoseFilterConfig(enabled=False))
    nan_at = many_synthetic_frames[5].index
    glitch.perception = _GlitchingPerception({nan_at})
    glitch.reset()
    clean.reset()
    results = [glitch.process(f) for f in many_synthetic_frames]
    assert results[5] is None and all(r is not None for i, r in enumerate(results) if i != 5)
    assert glitch.dropped_nonfinite == {"perception": 1}
    assert all(np.isfinite(r.rotations).all() for r in results if r is not None)
    # The dropped frame never entered the causal window: the poses match a run without it.
    expected = [clean.process(f) for i, f in enumerate(many_synthetic_frames) if i != 5]
    got = [r for r in results if r is not None]
    np.testing.assert_allclose(got[-1].rotations, expected[-1].rotations, atol=1e-6)


class _AcceptEveryone:
    """A person gate that accepts every detection, so a test reaches the stages behind the gate."""

    verdict = PersonVerdict(True, 1.0, 1.0)

    def update(self, landmarks: LandmarkFrame) -> PersonVerdict:
        return self.verdict

    def reset(self) -> None:
        pass


def test_overflowing_landmarks_drop_one_frame_at_the_v2p_stage_without_poisoning_its_window(many_synthetic_frames, dragon) -> None:
    proc = build_processor(dragon, use_models=True, filter_config=PoseFilterConfig(enabled=True))
    if proc.info.performer != "v2p":
        pytest.skip("the landmark V2P weights are not available")
    proc.perception = _GlitchingPerception(set(), huge_frames={many_synthetic_frames[10].index})
    proc.person_gate = _AcceptEveryone()  # the default gate rejects such a body first (next test)
    proc.reset()
    with np.errstate(all="ignore"):
        results = [proc.process(f) for f in many_synthetic_frames]
    dropped = [i for i, r in enumerate(results) if r is None]
    assert dropped == [10], dropped  # one frame, not the causal window's worth that follows
    assert proc.dropped_nonfinite == {"v2p": 1}
    assert all(np.isfinite(r.rotations).all() and np.isfinite(r.positions).all() for r in results if r is not None)


def test_the_person_gate_rejects_an_overflowing_body_and_the_last_pose_is_held(many_synthetic_frames, dragon) -> None:
    proc = build_processor(dragon, use_models=True, filter_config=PoseFilterConfig(enabled=True))
    proc.perception = _GlitchingPerception(set(), huge_frames={many_synthetic_frames[10].index})
    proc.reset()
    with np.errstate(all="ignore"):
        results = [proc.process(f) for f in many_synthetic_frames[:20]]
    assert all(r is not None for r in results)  # frame 10 holds frame 9's landmarks
    assert proc.person_report()["rejected"] == 1 and proc.dropped_nonfinite == {}
    assert all(np.isfinite(r.rotations).all() and np.isfinite(r.positions).all() for r in results)


def test_geometric_performer_keeps_huge_landmarks_finite(many_synthetic_frames, dragon) -> None:
    proc = build_processor(dragon, use_models=False)
    proc.perception = _GlitchingPerception(set(), huge_frames={many_synthetic_frames[10].index})
    proc.reset()
    with np.errstate(all="ignore"):
        results = [proc.process(f) for f in many_synthetic_frames[:20]]
    assert all(r is not None and np.isfinite(r.rotations).all() for r in results) and proc.dropped_nonfinite == {}


def test_the_person_gate_turns_an_implausible_body_into_nobody(synthetic_frames, dragon) -> None:
    """Landmarks the gate rejects (here: a body three times human size) are treated as nobody seen,
    and the processor says so in ``person_verdict`` and ``person_report``."""
    proc = build_processor(dragon, use_models=False)
    first = synthetic_frames[0]
    assert proc.process(first) is not None and proc.person_verdict.accepted

    def giant(frame, dt_ms: int) -> Frame:
        t = first.t_capture_ns + dt_ms * 1_000_000
        lm = frame.landmarks
        return dataclasses.replace(frame, t_capture_ns=t, landmarks=dataclasses.replace(lm, world=3.0 * lm.world, t_ms=t // 1_000_000))

    assert proc.process(giant(synthetic_frames[1], 100)) is not None  # held: the last person's pose
    assert not proc.person_verdict.accepted and "impossible_torso" in proc.person_verdict.reasons
    assert proc.tracking_state is TrackingState.LOST
    # Past the hold: nobody, as if no one were in view -- the rig eases to rest, then nothing is sent.
    easing = proc.process(giant(synthetic_frames[2], 5000))
    assert easing is not None and easing.stage_ns == () and proc.tracking_state is TrackingState.NO_PERSON
    assert proc.process(giant(synthetic_frames[3], 7000)) is not None  # the rest pose (1 s of easing later)
    assert proc.process(giant(synthetic_frames[4], 7100)) is None
    report = proc.person_report()
    assert report["frames"] == 5 and report["detected"] == 5 and report["accepted"] == 1 and report["rejected"] == 4
    assert report["accept_rate"] == pytest.approx(1 / 5) and report["accepted_now"] is False
    proc.reset()
    assert not proc.person_verdict.accepted


def test_head_turn_reaches_the_rig_head_through_the_orientation_links() -> None:
    """Landmarks of a performer at rest with the head turned 40 deg: the humanoid's Head turns 40 deg about
    the vertical with the links (-40 deg in mirror mode), and stays put on positions alone (orientation=None)."""
    from engine.perception.landmark_simulator import landmarks_from_performer
    from engine.perception.landmarks import NUM_LANDMARKS, internal_to_world
    from engine.performer import performer_rest_positions
    from engine.retarget.mapping import suggest_map
    from engine.retarget.retargeter import Retargeter
    from engine.solvers.analytic_ik import AnalyticIKSolver
    from streaming.processor import GeometricPerformer
    from streaming.synthetic_source import SyntheticFrame

    points = landmarks_from_performer(performer_rest_positions())
    head = 0.5 * (points[7] + points[8])
    turn = rot.axis_angle_to_matrix(np.array([0.0, np.radians(40.0), 0.0]))
    points[:11] = head + (points[:11] - head) @ turn.T
    points -= 0.5 * (points[23] + points[24])
    ones = np.ones(NUM_LANDMARKS)
    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    j = sk.index("Head")
    yaws = {}
    for mode in ("auto", None, "mirror"):
        proc = LiveProcessor(rig, perception=SimulatedPerception(), performer=GeometricPerformer(),
                             retarget=Retargeter(sk, suggest_map(sk, rig.name)), solver=AnalyticIKSolver(),
                             filter_config=PoseFilterConfig(enabled=False), orientation=None if mode is None else "auto",
                             modes=ProcessingModes(mirror=mode == "mirror"))
        landmarks = LandmarkFrame(internal_to_world(points), np.zeros((33, 3)), ones, ones, True, 0)
        r = proc.process(SyntheticFrame(np.zeros((4, 4, 3), np.uint8), 0, 0, "test", landmarks=landmarks))
        W, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(r.rotations), sk.rest_translations)
        W0, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)
        _, twist = rot.swing_twist(rot.matrix_to_quat(W[j] @ W0[j].T), np.array([0.0, 1.0, 0.0]))
        yaws[mode] = np.degrees(2 * np.arctan2(twist[1], twist[3]))
    assert yaws["auto"] == pytest.approx(40.0, abs=1.0)
    assert abs(yaws[None] - 40.0) > 20.0  # positions alone: the Head keeps the reference pose's turn
    assert yaws["mirror"] == pytest.approx(-40.0, abs=1.0)  # the mirror turns the head the other way


def test_a_solver_that_takes_hints_gets_the_head_turn_before_it_solves() -> None:
    """The processor hands a hint-taking solver (the hinted P2R) each linked joint's target: the Head's is the 40 deg turn."""
    from engine.perception.landmark_simulator import landmarks_from_performer
    from engine.perception.landmarks import NUM_LANDMARKS, internal_to_world
    from engine.performer import performer_rest_positions
    from engine.retarget.mapping import suggest_map
    from engine.retarget.retargeter import Retargeter
    from engine.solvers.analytic_ik import AnalyticIKSolver
    from streaming.processor import GeometricPerformer
    from streaming.synthetic_source import SyntheticFrame

    class Recording(AnalyticIKSolver):
        takes_hints = True

        def __init__(self) -> None:
            super().__init__()
            self.seen: list = []

        def step(self, positions, hints=None):
            self.seen.append(hints)
            return super().step(positions, hints)

    points = landmarks_from_performer(performer_rest_positions())
    head = 0.5 * (points[7] + points[8])
    points[:11] = head + (points[:11] - head) @ rot.axis_angle_to_matrix(np.array([0.0, np.radians(40.0), 0.0])).T
    points -= 0.5 * (points[23] + points[24])
    ones = np.ones(NUM_LANDMARKS)
    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    solver = Recording()
    proc = LiveProcessor(rig, perception=SimulatedPerception(), performer=GeometricPerformer(), retarget=Retargeter(sk, suggest_map(sk, rig.name)),
                         solver=solver, filter_config=PoseFilterConfig(enabled=False), warmup_steps=0)
    landmarks = LandmarkFrame(internal_to_world(points), np.zeros((33, 3)), ones, ones, True, 0)
    proc.process(SyntheticFrame(np.zeros((4, 4, 3), np.uint8), 0, 0, "test", landmarks=landmarks))
    hints = solver.seen[-1]
    j = sk.index("Head")
    assert hints.shape == (sk.num_joints, 7) and hints[j, 6] == pytest.approx(1.0)
    W0, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)
    _, twist = rot.swing_twist(rot.matrix_to_quat(rot.sixd_to_matrix(hints[j, :6]) @ W0[j].T), np.array([0.0, 1.0, 0.0]))
    assert np.degrees(2 * np.arctan2(twist[1], twist[3])) == pytest.approx(40.0, abs=1.0)
    assert hints[sk.index("Hips"), 6] == 0.0  # not linked: no hint


class _FixedLandmarks:
    """Perception that sees the same landmarks in every camera frame."""

    name = "mediapipe"

    def __init__(self, landmarks: LandmarkFrame) -> None:
        self.landmarks = landmarks

    def detect(self, frame) -> LandmarkFrame:
        return dataclasses.replace(self.landmarks, t_ms=frame.t_capture_ns // 1_000_000)

    def close(self) -> None:
        pass


class _TurnedFace:
    """A stand-in face landmarker: a neutral face turned ``yaw`` degrees, found on the first ``found`` calls."""

    def __init__(self, yaw: float, found: int = 10**9) -> None:
        self.head = rot.matrix_to_quat(rot.axis_angle_to_matrix(np.array([0.0, np.radians(yaw), 0.0])))
        self.found, self.calls = found, 0

    def detect(self, crop, t_ms):
        from engine.perception.face_landmarker import BLENDSHAPE_NAMES, FaceObservation

        self.calls += 1
        if self.calls > self.found:
            return FaceObservation.lost()
        return FaceObservation(True, np.zeros(len(BLENDSHAPE_NAMES)), self.head, np.zeros((0, 3)))

    def close(self) -> None:
        pass


def test_the_face_landmarkers_head_turn_drives_the_rig_head() -> None:
    """The body's landmarks at rest, the face landmarker reading a 30 deg turn: the humanoid's Head
    turns 30 deg (-30 in mirror mode); when the face is lost the turn stays, fading over seconds."""
    from engine.perception.landmark_simulator import landmarks_from_performer
    from engine.perception.landmarks import NUM_LANDMARKS, internal_to_world
    from engine.performer import performer_rest_positions
    from engine.retarget.mapping import suggest_map
    from engine.retarget.retargeter import Retargeter
    from engine.solvers.analytic_ik import AnalyticIKSolver
    from streaming.face_hands_stage import FaceHandsConfig, FaceHandsStage
    from streaming.processor import GeometricPerformer

    points = landmarks_from_performer(performer_rest_positions())
    points -= 0.5 * (points[23] + points[24])
    image = np.stack([0.5 + 0.4 * points[:, 0], 0.5 - 0.4 * points[:, 1], np.zeros(NUM_LANDMARKS)], axis=1)
    ones = np.ones(NUM_LANDMARKS)
    landmarks = LandmarkFrame(internal_to_world(points), image, ones, ones, True, 0)
    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    j = sk.index("Head")
    W0, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)

    def head_yaws(mirror: bool, face: _TurnedFace, frames: int, step_ms: int = 33) -> list[float]:
        stage = FaceHandsStage(FaceHandsConfig(hands=False, background=False), face_adapter=face)
        proc = LiveProcessor(rig, perception=_FixedLandmarks(landmarks), performer=GeometricPerformer(),
                             retarget=Retargeter(sk, suggest_map(sk, rig.name)), solver=AnalyticIKSolver(),
                             filter_config=PoseFilterConfig(enabled=False), modes=ProcessingModes(mirror=mirror), face_hands=stage)
        out = []
        for i in range(frames):
            r = proc.process(Frame(np.zeros((480, 640, 3), np.uint8), i * step_ms * 1_000_000, i, "test"))
            W, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(r.rotations), sk.rest_translations)
            _, twist = rot.swing_twist(rot.matrix_to_quat(W[j] @ W0[j].T), np.array([0.0, 1.0, 0.0]))
            out.append(float(np.degrees(2 * np.arctan2(twist[1], twist[3]))))
        proc.close()
        return out

    assert head_yaws(False, _TurnedFace(30.0), 3)[-1] == pytest.approx(30.0, abs=1.5)
    assert head_yaws(True, _TurnedFace(30.0), 3)[-1] == pytest.approx(-30.0, abs=1.5)
    lost = head_yaws(False, _TurnedFace(30.0, found=2), 5, step_ms=250)  # lost after 2 frames, 250 ms apart
    assert lost[1] == pytest.approx(30.0, abs=1.5)
    assert 30.0 * np.exp(-0.8) < lost[3] < lost[2] < 30.0  # fading with a 1 s time constant, not dropped


def test_a_new_retarget_map_brings_its_orientation_links_and_face_hand_joints(dragon) -> None:
    """``use_retarget`` (the app's edited map, a calibration wrapper): the links and the grips,
    jaw and eyes of the new map drive the rig from the next frame."""
    from engine.retarget.face_hand_joints import FaceHandJoints, GripLink
    from engine.retarget.mapping import suggest_map
    from engine.retarget.retargeter import Retargeter
    from engine.solvers.analytic_ik import AnalyticIKSolver
    from streaming.face_hands_stage import FaceHandsConfig, FaceHandsStage
    from streaming.processor import GeometricPerformer

    sk = dragon.skeleton
    stage = FaceHandsStage(FaceHandsConfig(hands=False, background=False), face_adapter=_TurnedFace(0.0))
    proc = LiveProcessor(dragon, perception=SimulatedPerception(), performer=GeometricPerformer(),
                         retarget=Retargeter(sk, suggest_map(sk, dragon.name)), solver=AnalyticIKSolver(), face_hands=stage)
    assert proc.face_hand_targets.jaw is not None and sum(map(len, proc.face_hand_targets.grips.values())) == 16
    edited = suggest_map(sk, dragon.name)
    edited.orientations = [link for link in edited.orientations if link.joint != "Head"]
    edited.face_hands = FaceHandJoints(jaw="", grips=[GripLink("LeftWingFinger1_1", "left", 30.0)])
    proc.use_retarget(Retargeter(sk, edited))
    assert proc.face_hand_targets.jaw is None and [len(v) for v in proc.face_hand_targets.grips.values()] == [1]
    assert all(link.joint != "Head" for link in proc.orientation.links)
    proc.close()


def test_the_rigs_hips_follow_the_decoupled_pelvis_not_the_hips_mediapipe_turned_with_the_chest() -> None:
    """A 30 deg chest twist whose hips MediaPipe turned 12 deg along (0.4 of the twist, what the
    trunk decoupling assumes): the humanoid's Hips stay facing forward and its UpperChest turns 30 deg."""
    from engine.perception.landmark_simulator import landmarks_from_performer
    from engine.perception.landmarks import NUM_LANDMARKS, internal_to_world
    from engine.performer import performer_rest_positions
    from engine.retarget.mapping import suggest_map
    from engine.retarget.retargeter import Retargeter
    from engine.solvers.analytic_ik import AnalyticIKSolver
    from streaming.processor import GeometricPerformer
    from streaming.synthetic_source import SyntheticFrame

    def yaw(deg: float) -> np.ndarray:
        return rot.axis_angle_to_matrix(np.array([0.0, np.radians(deg), 0.0]))

    points = landmarks_from_performer(performer_rest_positions())
    neck = 0.5 * (points[11] + points[12])
    points[:23] = neck + (points[:23] - neck) @ yaw(30.0).T  # face, shoulders, arms
    hips = 0.5 * (points[23] + points[24])
    points[23:25] = hips + (points[23:25] - hips) @ yaw(0.4 * 30.0).T
    points -= 0.5 * (points[23] + points[24])
    ones = np.ones(NUM_LANDMARKS)
    rig = build_rig("humanoid").rig
    sk = rig.skeleton
    proc = LiveProcessor(rig, perception=SimulatedPerception(), performer=GeometricPerformer(),
                         retarget=Retargeter(sk, suggest_map(sk, rig.name)), solver=AnalyticIKSolver(),
                         filter_config=PoseFilterConfig(enabled=False))
    landmarks = LandmarkFrame(internal_to_world(points), np.zeros((33, 3)), ones, ones, True, 0)
    r = proc.process(SyntheticFrame(np.zeros((4, 4, 3), np.uint8), 0, 0, "test", landmarks=landmarks))
    proc.close()
    W, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(r.rotations), sk.rest_translations)
    W0, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)

    def world_yaw(name: str) -> float:
        j = sk.index(name)
        _, twist = rot.swing_twist(rot.matrix_to_quat(W[j] @ W0[j].T), np.array([0.0, 1.0, 0.0]))
        return float(np.degrees(2 * np.arctan2(twist[1], twist[3])))

    assert abs(world_yaw("Hips")) < 2.0  # MediaPipe's hips said 12
    assert world_yaw("UpperChest") == pytest.approx(30.0, abs=2.0)
