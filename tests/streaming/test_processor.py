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
from streaming.frames import Frame
from streaming.one_euro import PoseFilterConfig
from streaming.processor import AutoPerception, LiveProcessor, SimulatedPerception, build_processor
from streaming.synthetic_source import SyntheticSource

STAGES = ["queue", "perception", "v2p", "retarget", "p2r", "filter"]


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


def test_lost_person_holds_then_gives_nothing(synthetic_frames, dragon) -> None:
    proc = build_processor(dragon, use_models=False)
    first = synthetic_frames[0]
    assert proc.process(first) is not None

    def empty(frame, dt_ms: int) -> Frame:
        t = first.t_capture_ns + dt_ms * 1_000_000
        return dataclasses.replace(frame, t_capture_ns=t, landmarks=LandmarkFrame.empty(t // 1_000_000))

    held = proc.process(empty(synthetic_frames[1], 100))
    assert held is not None  # the last pose is held for a while
    assert proc.process(empty(synthetic_frames[2], 5000)) is None
    assert proc.frames_without_person == 1


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
        assert proc.info.to_dict() == {"perception": "auto", "performer": "geometric", "solver": "p2r", "backend": "eager", "device": "cpu"}
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


def test_head_turn_reaches_the_rig_head_through_the_orientation_links() -> None:
    """Landmarks of a performer at rest with the head turned 40 deg: the humanoid's Head turns 40 deg about
    the vertical with the links, and stays put on positions alone (orientation=None)."""
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
    for mode in ("auto", None):
        proc = LiveProcessor(rig, perception=SimulatedPerception(), performer=GeometricPerformer(),
                             retarget=Retargeter(sk, suggest_map(sk, rig.name)), solver=AnalyticIKSolver(),
                             filter_config=PoseFilterConfig(enabled=False), orientation=mode)
        landmarks = LandmarkFrame(internal_to_world(points), np.zeros((33, 3)), ones, ones, True, 0)
        r = proc.process(SyntheticFrame(np.zeros((4, 4, 3), np.uint8), 0, 0, "test", landmarks=landmarks))
        W, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(r.rotations), sk.rest_translations)
        W0, _ = forward_kinematics(sk.parents, rot.quat_to_matrix(sk.rest_rotations), sk.rest_translations)
        _, twist = rot.swing_twist(rot.matrix_to_quat(W[j] @ W0[j].T), np.array([0.0, 1.0, 0.0]))
        yaws[mode] = np.degrees(2 * np.arctan2(twist[1], twist[3]))
    assert yaws["auto"] == pytest.approx(40.0, abs=1.0)
    assert abs(yaws[None] - 40.0) > 20.0  # positions alone: the Head keeps the reference pose's turn
