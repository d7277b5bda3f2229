"""The README picture of the dragon turning its head: a real run of the command on a short probe."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pygfx")
pytest.importorskip("pytestqt")


@pytest.mark.slow
def test_the_head_turn_picture_shows_the_dragon_turning_both_ways(qapp, shared_models: Path, tmp_path: Path) -> None:
    import cv2

    from app.head_turn_shot import PANEL, save_head_turn_picture

    if not (shared_models / "pose_landmarker_full.task").is_file():
        pytest.skip("pose model absent")
    out = save_head_turn_picture(tmp_path / "turn.png", frames=16, cache=tmp_path / "cache")
    pixels = cv2.imread(str(out))
    assert pixels.shape == (2 * PANEL, 3 * PANEL, 3)
    views = [pixels[PANEL + 30:, k * PANEL:(k + 1) * PANEL].astype(int) for k in range(3)]  # the dragon, below the caption
    assert all(v.std() > 10 for v in views)  # drawn, not blank
    assert np.abs(views[0] - views[1]).mean() > 2 and np.abs(views[2] - views[1]).mean() > 2  # the pose differs from neutral
