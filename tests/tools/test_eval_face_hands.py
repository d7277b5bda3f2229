"""Smoke runs of ``eval-face-hands``: a few frames of a real clip, the rendered hands, the budget table."""

from __future__ import annotations

from pathlib import Path

from tools.eval_face_hands import budget_table, evaluate_rendered_hands, evaluate_video


def test_a_few_video_frames(shared_video: Path, shared_models: Path) -> None:
    report = evaluate_video(shared_video / "human_aerobics_romp.mp4", shared_models, max_frames=4)
    assert report["frames"] == 4 and report["frames_with_person"] == 4
    assert report["face"]["found"] >= 3 and report["jaw_open"]
    assert report["cost_ms"]["face_cpu_ms"] > 0 and report["cost_ms"]["hand_cpu_ms"] > 0


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
