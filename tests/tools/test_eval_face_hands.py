"""Smoke runs of ``eval-face-hands``: a few frames of a real clip, the rendered hands, the budget table."""

from __future__ import annotations

from pathlib import Path

from tools.eval_face_hands import _head_comparison, budget_table, evaluate_rendered_hands, evaluate_video


def test_a_few_video_frames(shared_video: Path, shared_models: Path) -> None:
    report = evaluate_video(shared_video / "human_aerobics_romp.mp4", shared_models, max_frames=6)
    assert report["frames"] == 6 and report["frames_with_person"] == 6
    assert report["face"]["found"] >= 4 and report["jaw_open"] and report["jaw_open_filtered"]
    head = report["head_face_vs_fit"]  # the face landmarker's head against the body path's face fit
    assert head["frames"] >= 4 and 0.0 <= head["angle_median_deg"] <= 180.0
    assert report["cost_ms"]["face_cpu_ms"] > 0 and report["cost_ms"]["hand_cpu_ms"] > 0
    for side in ("left", "right"):  # the palm check counts every hand reading
        palm = report["palm"][side]
        assert palm["readings"] == report["hands"][side]["found"] and 0 <= palm["clearly_side"] <= palm["readings"]


def test_rendered_hands_are_detected_and_measured(shared_models: Path, tmp_path: Path) -> None:
    report = evaluate_rendered_hands(shared_models, curls_deg=(0, 15), picture=tmp_path / "hands.png")
    assert (tmp_path / "hands.png").is_file()
    assert report["detected"].endswith("/2") and len(report["rows"]) == 2
    for row in report["rows"]:
        if row["found"]:
            assert row["abs_error_deg"] < 30


def test_budget_table_adds_the_schedule_costs() -> None:
    rows = {r["schedule"]: r for r in budget_table(20.0, 8.0, 16.0, other_ms=5.0)}
    assert rows["body only"]["cpu_ms_per_frame"] == 25.0
    assert rows["face + both hands every frame"]["cpu_ms_per_frame"] == 65.0
    assert rows["face every frame, one hand every 2nd (default)"]["cpu_ms_per_frame"] == 41.0
    assert not rows["face + both hands every frame"]["fits_33ms"]


def test_head_comparison_reads_the_same_turn_as_agreement() -> None:
    import numpy as np

    from engine import rotations as rot

    yaws = np.radians(np.linspace(-40, 40, 9))
    turns = [rot.axis_angle_to_matrix(np.array([0.0, y, 0.0])) for y in yaws]
    same = _head_comparison([rot.matrix_to_quat(t) for t in turns], turns)
    assert same["angle_median_deg"] < 1e-6 and same["yaw_correlation"] == 1.0 and same["yaw_slope_face_on_fit"] == 1.0
    half = _head_comparison([rot.matrix_to_quat(rot.axis_angle_to_matrix(np.array([0.0, y / 2, 0.0]))) for y in yaws], turns)
    assert half["yaw_slope_face_on_fit"] == 0.5 and half["pitch_mean_difference_deg"] == 0.0
