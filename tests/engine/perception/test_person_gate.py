"""The person gate: a standing person passes at once; low confidence, a body held horizontal, impossible or
lopsided proportions and jumping bone lengths do not; one odd frame changes nothing."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.perception.landmark_simulator import landmarks_from_performer
from engine.perception.landmarks import NUM_LANDMARKS, Landmark, LandmarkFrame, internal_to_world
from engine.perception.person_gate import GateConfig, PersonGate, frame_plausibility, torso_tilt_deg
from engine.performer import performer_arms_down_positions


def person(t_ms: int, *, visibility: float = 0.95, turn: np.ndarray | None = None, scale: float = 1.0,
           stretch_left: float = 1.0) -> LandmarkFrame:
    """A person standing with the arms down (MediaPipe world frame), optionally turned, scaled or lopsided."""
    pts = landmarks_from_performer(performer_arms_down_positions())
    hips = 0.5 * (pts[Landmark.LEFT_HIP] + pts[Landmark.RIGHT_HIP])
    pts = (pts - hips) * scale
    if stretch_left != 1.0:  # the left arm and leg this many times as long as the right ones
        L = Landmark
        for root, limb in ((L.LEFT_SHOULDER, (L.LEFT_ELBOW, L.LEFT_WRIST, L.LEFT_PINKY, L.LEFT_INDEX, L.LEFT_THUMB)),
                           (L.LEFT_HIP, (L.LEFT_KNEE, L.LEFT_ANKLE, L.LEFT_HEEL, L.LEFT_FOOT_INDEX))):
            for j in limb:
                pts[j] = pts[root] + stretch_left * (pts[j] - pts[root])
    if turn is not None:
        pts = pts @ rot.quat_to_matrix(turn).T
    image = np.clip(0.5 + 0.3 * pts * [1.0, -1.0, 1.0], 0.0, 1.0)
    vis = np.full(NUM_LANDMARKS, visibility)
    return LandmarkFrame(internal_to_world(pts), image, vis, np.ones(NUM_LANDMARKS), True, t_ms)


def run(frames: list[LandmarkFrame], gate: PersonGate | None = None) -> list[bool]:
    gate = gate or PersonGate()
    return [gate.update(f).accepted for f in frames]


def test_a_standing_person_is_accepted_from_the_first_frame() -> None:
    p, reasons = frame_plausibility(person(0))
    assert p == pytest.approx(1.0) and reasons == {}
    assert all(run([person(33 * i) for i in range(30)]))


def test_low_confidence_is_rejected() -> None:
    assert not any(run([person(33 * i, visibility=0.6) for i in range(30)]))


def test_a_body_held_horizontal_is_rejected_but_a_cartwheel_passes() -> None:
    lying = rot.axis_angle_to_quat(np.array([np.pi / 2, 0.0, 0.0]))  # torso along the camera axis: an animal's body
    assert torso_tilt_deg(person(0, turn=lying)) == pytest.approx(90.0, abs=1.0)
    long = run([person(33 * i) for i in range(10)] + [person(330 + 33 * i, turn=lying) for i in range(90)])
    assert all(long[:10]) and not any(long[-45:])  # 0.5 s to count as held, then the average falls within ~0.6 s
    brief = run([person(33 * i) for i in range(10)] + [person(330 + 33 * i, turn=lying) for i in range(9)]
                + [person(630 + 33 * i) for i in range(20)])  # 0.3 s over: passes through
    assert all(brief)
    upside_down = rot.axis_angle_to_quat(np.array([np.pi, 0.0, 0.0]))
    assert all(run([person(33 * i, turn=upside_down) for i in range(30)]))


def test_impossible_or_lopsided_bodies_are_rejected() -> None:
    assert not any(run([person(33 * i, scale=3.0) for i in range(10)]))  # a 1.5 m torso
    assert frame_plausibility(person(0, scale=3.0))[1] == {"impossible_torso": float("inf")}
    assert not any(run([person(33 * i, stretch_left=2.0) for i in range(30)]))
    assert "asymmetry" in frame_plausibility(person(0, stretch_left=2.0))[1]


def test_bone_lengths_jumping_between_frames_are_rejected() -> None:
    frames = [person(33 * i, scale=(0.8 if i % 2 else 1.15)) for i in range(40)]
    assert all(run(frames)[:5]) and not any(run(frames)[30:])  # an accepted person falls within ~1 s


def test_one_odd_frame_changes_nothing_and_nobody_is_never_accepted() -> None:
    frames = [person(33 * i) for i in range(20)]
    frames[10] = person(330, visibility=0.3)
    assert all(run(frames))
    gate = PersonGate()
    assert not gate.update(LandmarkFrame.empty(0)).accepted
    assert gate.verdict.plausibility == 0.0
    gate.update(person(33))
    assert gate.verdict.accepted
    gate.reset()
    assert not gate.verdict.accepted


def test_a_still_picture_is_rejected_when_asked() -> None:
    frames = [person(33 * i) for i in range(150)]  # 5 s without a pixel of motion
    assert all(run(frames))  # off by default: a person may stand still
    assert not any(run(frames, PersonGate(GateConfig(still_seconds=2.0)))[-60:])
