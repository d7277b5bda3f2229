"""Head and hand crops placed by the pose landmarks."""

from __future__ import annotations

import numpy as np
import pytest

from engine.perception.crops import CropBox, cut, hand_box, head_box
from engine.perception.landmarks import NUM_LANDMARKS, Landmark, LandmarkFrame


def frame_with(points: dict[int, tuple[float, float]], visibility: float = 1.0) -> LandmarkFrame:
    image = np.zeros((NUM_LANDMARKS, 3))
    for i, (x, y) in points.items():
        image[i, :2] = (x, y)
    vis = np.full(NUM_LANDMARKS, visibility)
    return LandmarkFrame(np.zeros((NUM_LANDMARKS, 3)), image, vis, vis, True, 0)


def test_head_box_covers_the_face() -> None:
    face = {i: (0.5 + 0.01 * ((i % 3) - 1), 0.2 + 0.005 * (i % 4)) for i in range(11)}
    face[Landmark.LEFT_EAR] = (0.52, 0.2)
    face[Landmark.RIGHT_EAR] = (0.48, 0.2)
    box = head_box(frame_with(face), 1000, 1000)
    assert box is not None and box.size == round(2.2 * 40)
    assert box.x0 < 480 and box.x0 + box.size > 520
    assert head_box(frame_with(face, visibility=0.0), 1000, 1000) is None  # face not visible
    assert head_box(LandmarkFrame.empty(0), 1000, 1000) is None


def test_hand_box_follows_the_wrist_and_forearm() -> None:
    points = {Landmark.LEFT_ELBOW: (0.5, 0.5), Landmark.LEFT_WRIST: (0.7, 0.5), Landmark.LEFT_INDEX: (0.75, 0.49),
              Landmark.LEFT_PINKY: (0.75, 0.51), Landmark.LEFT_THUMB: (0.74, 0.48)}
    box = hand_box(frame_with(points), "left", 1000, 1000)
    assert box is not None and box.size == round(1.6 * 200)
    assert box.x0 < 700 < box.x0 + box.size  # the wrist is inside
    outside = {Landmark.LEFT_ELBOW: (1.3, 0.5), Landmark.LEFT_WRIST: (1.5, 0.5), Landmark.LEFT_INDEX: (1.55, 0.5),
               Landmark.LEFT_PINKY: (1.55, 0.5), Landmark.LEFT_THUMB: (1.55, 0.5)}
    assert hand_box(frame_with(outside), "left", 1000, 1000) is None  # the hand is out of the frame


def test_cut_pads_outside_the_image_and_shrinks() -> None:
    image = np.full((10, 10, 3), 200, dtype=np.uint8)
    out = cut(image, CropBox(-5, -5, 10), None)
    assert out.shape == (10, 10, 3) and out[0, 0, 0] == 0 and out[9, 9, 0] == 200
    assert cut(image, CropBox(0, 0, 10), max_side=4).shape == (4, 4, 3)


def test_view_rotation_turns_the_optical_axis_onto_the_ray_through_the_box() -> None:
    from engine import rotations as rot
    from engine.perception.crops import CAMERA_HFOV_DEG, CropBox, view_rotation

    centred = CropBox(320 - 50, 240 - 50, 100)
    assert np.allclose(view_rotation(centred, 640, 480), np.eye(3), atol=1e-12)
    # A head 150 px above the centre of a 640x480 frame: the ray is pitched up by atan(150 / f).
    f = 320.0 / np.tan(np.radians(CAMERA_HFOV_DEG / 2))
    up = view_rotation(CropBox(320 - 50, 90 - 50, 100), 640, 480)
    axis_angle = rot.matrix_to_axis_angle(up)
    assert np.degrees(axis_angle[0]) == pytest.approx(np.degrees(np.arctan(150 / f)), abs=1e-6)  # about +x: up
    assert np.allclose(axis_angle[1:], 0.0, atol=1e-12)
    ray = up @ np.array([0.0, 0.0, -1.0])
    assert ray[1] > 0 and ray[2] < 0
