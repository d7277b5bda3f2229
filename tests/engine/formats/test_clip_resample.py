"""Tests of engine/formats/clip_resample.py: duration kept, slerp/lerp between frames, identity at the same rate."""

from __future__ import annotations

import numpy as np
import pytest

from engine import rotations as rot
from engine.formats.clip_resample import resample_clip
from engine.rig import Clip


def ramp_clip(T: int = 11, fps: float = 10.0) -> Clip:
    angles = np.zeros((T, 2, 3))
    angles[:, 0, 2] = np.linspace(0, 100, T)  # 10 degrees per frame about Z
    q = rot.euler_to_quat(angles, "XYZ", degrees=True)
    t = np.zeros((T, 2, 3))
    t[:, 0, 0] = np.arange(T)  # 1 unit per frame along X
    return Clip("ramp", fps, q, t)


def test_upsampling_interpolates_between_frames():
    out = resample_clip(ramp_clip(), 20.0)
    assert out.num_frames == 21 and out.fps == 20.0 and out.duration == pytest.approx(1.0)
    np.testing.assert_allclose(out.translations[:, 0, 0], np.arange(21) / 2)
    angle = np.degrees(rot.quat_to_euler(out.rotations[:, 0], "XYZ")[:, 2])
    np.testing.assert_allclose(angle, np.arange(21) * 5.0, atol=1e-9)


def test_same_rate_is_identity_and_downsampling_keeps_duration():
    clip = ramp_clip()
    same = resample_clip(clip, 10.0)
    np.testing.assert_allclose(same.translations, clip.translations)
    np.testing.assert_allclose(np.abs(np.sum(same.rotations * clip.rotations, axis=-1)), 1.0)
    down = resample_clip(clip, 4.0)
    assert down.num_frames == 5 and down.duration == pytest.approx(1.0)
    np.testing.assert_allclose(down.translations[:, 0, 0], [0, 2.5, 5, 7.5, 10])


def test_short_clips_and_bad_rates():
    one = ramp_clip(T=1)
    assert resample_clip(one, 60.0).num_frames == 1
    with pytest.raises(ValueError):
        resample_clip(ramp_clip(), 0.0)
    with pytest.raises(ValueError):
        resample_clip(ramp_clip(), float("nan"))
