"""Frames and pose results: stamped, immutable, validated; latencies from the stamps only."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pytest

from streaming.frames import Frame, PoseResult, validate_pose_array


def _result(J: int = 3, **kw) -> PoseResult:
    rots = np.tile([0.0, 0.0, 0.0, 1.0], (J, 1))
    return PoseResult(rots, np.zeros(3), np.zeros((J, 3)), t_capture_ns=kw.pop("t", 1_000_000), index=kw.pop("index", 7), **kw)


def test_frame_is_frozen_and_read_only_without_touching_the_callers_array() -> None:
    image = np.zeros((4, 5, 3), dtype=np.uint8)
    frame = Frame.stamp(image, 3, "synthetic")
    assert abs(frame.t_capture_ns - time.monotonic_ns()) < 1e9
    with pytest.raises(dataclasses.FrozenInstanceError):
        frame.index = 4  # type: ignore[misc]
    with pytest.raises(ValueError):
        frame.image[0, 0, 0] = 1
    image[0, 0, 0] = 9  # the caller's array stays writable, and the frame is a view of it
    assert frame.image[0, 0, 0] == 9
    assert not hasattr(frame, "__dict__")  # slots


def test_pose_result_validates_and_names_the_fault() -> None:
    with pytest.raises(ValueError, match=r"rotations: expected shape \(\?, 4\)"):
        PoseResult(np.zeros((3, 3)), np.zeros(3), np.zeros((3, 3)), 0, 0)
    with pytest.raises(ValueError, match=r"positions: expected shape \(3, 3\), got \(2, 3\)"):
        PoseResult(np.zeros((3, 4)), np.zeros(3), np.zeros((2, 3)), 0, 0)
    bad = np.zeros(3)
    bad[1] = np.nan
    with pytest.raises(ValueError, match=r"root_translation: non-finite value at index \(1,\)"):
        PoseResult(np.zeros((3, 4)), bad, np.zeros((3, 3)), 0, 0)
    with pytest.raises(ValueError, match="not numeric"):
        validate_pose_array("x", np.array(["a"]), (1,))


def test_pose_result_is_immutable() -> None:
    r = _result()
    with pytest.raises(ValueError):
        r.rotations[0, 0] = 1.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.index = 1  # type: ignore[misc]


def test_latencies_are_derived_from_the_stamps() -> None:
    r = _result(t=1_000_000).with_stage("perception", 4_000_000).with_stage("model", 5_500_000)
    assert r.stage_ns == (("perception", 4_000_000), ("model", 5_500_000))
    assert r.latencies_ms() == {"perception": 3.0, "model": 1.5, "total": 4.5}
    assert r.latencies_ms(t_out_ns=11_000_000)["total"] == 10.0
    moved = r.with_pose(np.tile([0.0, 0.0, 1.0, 0.0], (3, 1)), np.ones(3), np.ones((3, 3)))
    assert moved.stage_ns == r.stage_ns and moved.index == r.index and moved.t_capture_ns == r.t_capture_ns
    assert moved.rotations[0, 2] == 1.0
