"""Take files: the journal format (torn and corrupt records), resampling to a clip, .npz errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine import rotations as rot
from streaming.take_files import Take, TakeError, journal_header, journal_record, load_journal, load_take_npz, save_take
from streaming.takes import TakeRecorder, recover_takes
from tests.streaming.test_takes import pose, skeleton


def test_journal_round_trip_is_exact(tmp_path: Path) -> None:
    sk = skeleton()
    results = [pose(sk, k, 7 + k) for k in range(4)]
    path = tmp_path / "j.npz.partial"
    path.write_bytes(journal_header("npz", sk.names, sk, "r.glb", "r", 24.0) + b"".join(journal_record(r) for r in results))
    take = load_journal(path)
    assert take.num_frames == 4 and take.fps == 24.0 and take.rig_path == "r.glb"
    np.testing.assert_array_equal(take.rotations, np.stack([r.rotations for r in results]))
    np.testing.assert_array_equal(take.t_capture_ns, [7, 8, 9, 10])
    assert len(journal_record(results[0])) == 16 + 8 * (7 * sk.num_joints + 3 + 52) + 4  # 52 blendshapes (NaN: no face)
    np.testing.assert_array_equal(take.skeleton.rest_translations, sk.rest_translations)


def test_torn_and_corrupt_records_end_the_take(tmp_path: Path) -> None:
    sk = skeleton()
    rec = TakeRecorder(tmp_path / "c.npz", sk).start()
    for k in range(5):
        rec.write(pose(sk, k, k))
    rec._stop_writer()
    journal = rec.journal_path
    data = journal.read_bytes()
    journal.write_bytes(data[:-10])  # torn last record
    assert load_journal(journal).num_frames == 4
    size = (len(data) - len(data[: data.index(b"}") + 1])) // 5
    broken = bytearray(data)
    broken[-2 * size + 20] ^= 0xFF  # flip a byte inside record 3
    journal.write_bytes(bytes(broken))
    assert load_journal(journal).num_frames == 3
    journal.write_bytes(b"not a journal")
    assert recover_takes(tmp_path) == [] and journal.exists()  # unreadable: left in place


def test_to_clip_resamples_by_capture_time() -> None:
    sk = skeleton()
    J = sk.num_joints
    q0 = rot.quat_identity((J,))
    q1 = rot.axis_angle_to_quat(np.tile([0.0, 1.0, 0.0], (J, 1)))  # 1 rad about Y
    take = Take(
        names=sk.names,
        index=np.array([0, 1]),
        t_capture_ns=np.array([0, 100_000_000]),  # 0.1 s apart
        rotations=np.stack([q0, q1]),
        root_translations=np.array([[0.0, 1.0, 0.0], [0.3, 1.0, 0.0]]),
        positions=np.zeros((2, J, 3)),
        skeleton=sk,
        fps=30.0,
    )
    clip = take.to_clip()
    assert clip.num_frames == 4 and clip.fps == 30.0  # 0, 1/30, 2/30, 3/30 s
    angles = rot.quat_to_axis_angle(clip.rotations[:, 0])[:, 1]
    np.testing.assert_allclose(angles, [0.0, 1 / 3, 2 / 3, 1.0], atol=1e-9)
    np.testing.assert_allclose(clip.translations[:, 0, 0], [0.0, 0.1, 0.2, 0.3], atol=1e-12)
    np.testing.assert_array_equal(clip.translations[:, 1], np.broadcast_to(sk.rest_translations[1], (4, 3)))
    with pytest.raises(TakeError, match="no skeleton"):
        Take(sk.names, take.index, take.t_capture_ns, take.rotations, take.root_translations, take.positions).to_clip()


def test_bad_files_are_named(tmp_path: Path) -> None:
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(TakeError, match="other.npz: not a take file: missing names, index, t_capture_ns"):
        load_take_npz(tmp_path / "other.npz")
    bad = tmp_path / "bad.partial"
    bad.write_bytes(b"ARTAKE01" + (5).to_bytes(4, "little") + b"{oops")
    with pytest.raises(TakeError, match="unreadable journal header"):
        load_journal(bad)
    sk = skeleton()
    take = load_journal(_journal(tmp_path, sk))
    with pytest.raises(TakeError, match="unknown take format '.fbx'"):
        save_take(take, tmp_path / "t.fbx")


def _journal(tmp_path: Path, sk) -> Path:
    path = tmp_path / "one.npz.partial"
    path.write_bytes(journal_header("npz", sk.names, sk, None, "one", 30.0) + journal_record(pose(sk, 0, 0)))
    return path
