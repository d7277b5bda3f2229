"""Take recorder: exact .npz round trip, BVH/GLB output, bounded queue, crash recovery after SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from engine.skeleton import Skeleton
from streaming.frames import PoseResult
from streaming.take_files import load_take_npz
from streaming.takes import JOURNAL_SUFFIX, TakeConfig, TakeError, TakeRecorder, TakeState, recover_takes
from tests.conftest import REPO_ROOT

# The crash test's child process builds the same skeleton and poses from this code.
POSE_CODE = '''
import numpy as np
from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.skeleton import Skeleton
from streaming.frames import PoseResult

def skeleton():
    parents = np.array([-1, 0, 1, 2, 1, 4, 0, 6])
    names = ("hips", "spine", "neck", "head", "wing_l", "wing_tip_l", "tail", "tail_tip")
    rest_t = np.array([[0, 1.0, 0], [0, .2, 0], [0, .3, 0], [0, .1, .05], [.2, .1, 0], [.3, 0, 0], [0, 0, -.2], [0, 0, -.3]])
    rest_r = rot.quat_normalize(np.random.default_rng(0).normal(size=(8, 4)))
    return Skeleton(names, parents, rest_t, rest_r, end_site_joints=np.array([3]), end_site_offsets=np.array([[0, .1, 0]]))

def pose(sk, k, t_ns):
    rng = np.random.default_rng(1000 + k)
    rots = rot.quat_normalize(rng.normal(size=(sk.num_joints, 4)))
    root = np.array([0.01 * k, 1.0, 0.02 * k])
    trans = np.array(sk.rest_translations)
    trans[0] = root
    _, pos = forward_kinematics(sk.parents, rot.quat_to_matrix(rots), trans)
    return PoseResult(rots, root, pos, t_capture_ns=t_ns, index=k, stage_ns=(("model", t_ns + 1000),))
'''
_ns: dict = {}
exec(POSE_CODE, _ns)
skeleton, pose = _ns["skeleton"], _ns["pose"]


@pytest.fixture(autouse=True)
def no_leaked_threads_or_files():
    """Every test ends with the threads and open file descriptors it started with."""
    before = set(threading.enumerate())
    fds = len(os.listdir("/proc/self/fd")) if sys.platform.startswith("linux") else None
    yield
    assert set(threading.enumerate()) == before
    assert (len(os.listdir("/proc/self/fd")) if fds is not None else None) == fds


def _record(path: Path, n: int, sk: Skeleton | None = None, **kw) -> list[PoseResult]:
    sk = sk or skeleton()
    results = [pose(sk, k, 5 * 10**9 + k * 33_333_333) for k in range(n)]
    with TakeRecorder(path, sk, rig_path="rigs/dragon.glb", **kw) as rec:
        for r in results:
            assert rec.write(r)
        assert rec.state is TakeState.RECORDING
    assert rec.state is TakeState.FINISHED
    return results


def test_npz_take_reloads_exactly(tmp_path: Path) -> None:
    results = _record(tmp_path / "take.npz", 50)
    assert not (tmp_path / ("take.npz" + JOURNAL_SUFFIX)).exists()
    take = load_take_npz(tmp_path / "take.npz")
    assert take.num_frames == 50 and take.names == skeleton().names and take.rig_path == "rigs/dragon.glb"
    np.testing.assert_array_equal(take.index, [r.index for r in results])
    np.testing.assert_array_equal(take.t_capture_ns, [r.t_capture_ns for r in results])
    np.testing.assert_array_equal(take.rotations, np.stack([r.rotations for r in results]))
    np.testing.assert_array_equal(take.root_translations, np.stack([r.root_translation for r in results]))
    np.testing.assert_array_equal(take.positions, np.stack([r.positions for r in results]))
    sk = skeleton()
    assert take.skeleton is not None
    np.testing.assert_array_equal(take.skeleton.rest_rotations, sk.rest_rotations)
    np.testing.assert_array_equal(take.skeleton.end_site_offsets, sk.end_site_offsets)


def test_npz_take_without_skeleton(tmp_path: Path) -> None:
    sk = skeleton()
    with TakeRecorder(tmp_path / "names.npz", names=sk.names) as rec:
        rec.write(pose(sk, 0, 0))
    take = load_take_npz(tmp_path / "names.npz")
    assert take.skeleton is None and take.num_frames == 1 and take.names == sk.names


def test_bvh_take_reproduces_joint_positions(tmp_path: Path) -> None:
    from engine.formats.bvh import read_bvh

    results = _record(tmp_path / "take.bvh", 31)  # 1 s at 30 fps, on the output grid
    rig = read_bvh(tmp_path / "take.bvh")
    clip = rig.clips[0]
    assert clip.num_frames == 31 and clip.fps == pytest.approx(30.0, rel=1e-3)
    want = np.stack([r.positions for r in results])  # (T, J, 3)
    np.testing.assert_allclose(clip.positions(rig.skeleton), want, atol=1e-4)


def test_glb_take_reproduces_joint_positions(tmp_path: Path) -> None:
    from engine.formats.gltf import read_gltf

    results = _record(tmp_path / "take.glb", 31)
    rig = read_gltf(tmp_path / "take.glb")
    clip = rig.clips[0]
    want = np.stack([r.positions for r in results])
    names = list(rig.skeleton.names)
    order = [names.index(n) for n in skeleton().names]
    np.testing.assert_allclose(clip.positions(rig.skeleton)[:, order], want, atol=1e-4)


def test_resampling_uses_capture_times(tmp_path: Path) -> None:
    """Frames 1..9 dropped: the clip interpolates over the gap instead of speeding up."""
    sk = skeleton()
    path = tmp_path / "gap.bvh"
    with TakeRecorder(path, sk, config=TakeConfig(fps=30.0)) as rec:
        rec.write(pose(sk, 0, 0))
        rec.write(pose(sk, 10, 10 * 33_333_333))
    from engine.formats.bvh import read_bvh

    clip = read_bvh(path).clips[0]
    assert clip.num_frames == 11  # 0 .. 10 on the 30 fps grid
    root = clip.translations[:, 0]
    np.testing.assert_allclose(root[5], [0.05, 1.0, 0.1], atol=1e-5)  # halfway


def test_full_queue_drops_and_counts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stalled disk: the writer blocks on its first record, the 2-slot queue fills, the rest drop."""
    import streaming.takes as takes

    sk = skeleton()
    rec = TakeRecorder(tmp_path / "q.npz", sk, config=TakeConfig(queue_size=2)).start()
    release, entered = threading.Event(), threading.Event()
    real_write = takes._write_all

    def stalled_write(fd: int, data: bytes) -> None:
        entered.set()
        release.wait(timeout=5.0)
        real_write(fd, data)

    monkeypatch.setattr(takes, "_write_all", stalled_write)
    assert rec.write(pose(sk, 0, 0))
    assert entered.wait(timeout=2.0)  # the writer holds pose 0 and is stuck in the disk write
    accepted = [rec.write(pose(sk, k, k)) for k in range(1, 10)]
    assert accepted == [True, True] + [False] * 7
    assert rec.stats.queued == 3 and rec.stats.dropped == 7
    release.set()
    rec.finish()
    assert load_take_npz(tmp_path / "q.npz").index.tolist() == [0, 1, 2]


def test_writer_failure_is_raised_on_the_next_write(tmp_path: Path) -> None:
    sk = skeleton()
    rec = TakeRecorder(tmp_path / "w.npz", sk).start()
    os.close(rec._fd)  # the disk "goes away" under the writer
    fd = os.open(os.devnull, os.O_RDONLY)  # keep the fd number taken by a read-only file
    try:
        rec.write(pose(sk, 0, 0))
        deadline = time.monotonic() + 2.0
        while rec._error is None and time.monotonic() < deadline:
            time.sleep(0.005)
        with pytest.raises(TakeError, match="take writer failed") as info:
            rec.write(pose(sk, 1, 1))
        assert isinstance(info.value.__cause__, OSError)
        assert rec.state is TakeState.FAULTED
    finally:
        os.close(fd)
        rec._fd = None  # already closed above
        with pytest.raises(TakeError):
            rec.finish()
    assert (tmp_path / "w.npz.partial").exists()  # the journal is kept for recovery


def test_misuse_is_reported(tmp_path: Path) -> None:
    sk = skeleton()
    with pytest.raises(TakeError, match="unknown take format '.fbx'"):
        TakeRecorder(tmp_path / "t.fbx", sk)
    with pytest.raises(TakeError, match="needs the rig's skeleton"):
        TakeRecorder(tmp_path / "t.bvh")
    rec = TakeRecorder(tmp_path / "t.npz", sk)
    with pytest.raises(TakeError, match="recorder is idle"):
        rec.write(pose(sk, 0, 0))
    with rec:
        with pytest.raises(TakeError, match="pose has 3 joints"):
            rec.write(PoseResult(np.tile([0, 0, 0, 1.0], (3, 1)), np.zeros(3), np.zeros((3, 3)), 0, 0))
        with pytest.raises(TakeError, match="already recording"):
            rec.start()
        with pytest.raises(TakeError, match="journal of an unfinished take"):
            TakeRecorder(tmp_path / "t.npz", sk).start()
    assert rec.finish() == tmp_path / "t.npz"  # idempotent


def test_recover_skips_live_journals_and_keeps_existing_files(tmp_path: Path) -> None:
    sk = skeleton()
    live = TakeRecorder(tmp_path / "live.npz", sk).start()
    try:
        live.write(pose(sk, 0, 0))
        assert recover_takes(tmp_path) == []  # locked by a recorder that is still writing
    finally:
        live.finish()
    # A leftover journal whose take name is taken: recovered beside it, nothing overwritten.
    (tmp_path / "x.npz").write_bytes(b"keep me")
    journal = tmp_path / "x.npz.partial"
    rec = TakeRecorder(tmp_path / "x.npz", sk)
    rec.journal_path = journal
    rec.start()
    rec.write(pose(sk, 0, 0))
    rec._stop_writer()  # the journal stays, as after a crash
    written = recover_takes(tmp_path)
    assert written == [tmp_path / "x.recovered1.npz"] and (tmp_path / "x.npz").read_bytes() == b"keep me"
    assert load_take_npz(written[0]).num_frames == 1 and not journal.exists()


CHILD = POSE_CODE + '''
import sys, time
from streaming.takes import TakeConfig, TakeRecorder
sk = skeleton()
rec = TakeRecorder(sys.argv[1], sk, config=TakeConfig(fsync_interval_s=0.05)).start()
k = 0
while True:
    rec.write(pose(sk, k, 10**9 + k * 33_333_333))
    k += 1
    time.sleep(0.002)
    print(rec.stats.flushed, flush=True)
'''


def test_a_killed_recording_is_recovered(tmp_path: Path) -> None:
    """A child process records until SIGKILL; every record it reported as flushed is recovered."""
    take = tmp_path / "crash.npz"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(take)], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT, env=env)
    flushed = 0
    try:
        deadline = time.monotonic() + 20.0
        assert child.stdout is not None
        while flushed < 40 and time.monotonic() < deadline:
            line = child.stdout.readline()
            if not line:
                break
            flushed = int(line)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
        if child.stdout:
            child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert flushed >= 40, "child did not start recording"
    assert not take.exists() and Path(str(take) + JOURNAL_SUFFIX).exists()
    assert recover_takes(tmp_path) == [take]
    got = load_take_npz(take)
    assert got.num_frames >= flushed
    np.testing.assert_array_equal(got.index, np.arange(got.num_frames))
    sk = skeleton()
    for k in (0, got.num_frames - 1):
        want = pose(sk, k, 10**9 + k * 33_333_333)
        np.testing.assert_array_equal(got.rotations[k], want.rotations)
        np.testing.assert_array_equal(got.positions[k], want.positions)
    assert not Path(str(take) + JOURNAL_SUFFIX).exists()


# %% recovering from the command line (issue 14, item 9) -------------------------------------------------
def _crashed_take(path: Path, frames: int = 5) -> Path:
    """A journal left as after a crash: ``frames`` poses written, never finished; returns the journal."""
    sk = skeleton()
    rec = TakeRecorder(path, sk).start()
    for k in range(frames):
        rec.write(pose(sk, k, k * 33_333_333))
    rec._stop_writer()  # the journal stays, as after a crash
    return rec.journal_path


@pytest.mark.parametrize("which", ["folder", "journal", "take"])
def test_takes_recover_command(tmp_path: Path, capsys, which: str) -> None:
    from main import main

    journal = _crashed_take(tmp_path / "t.bvh")
    arg = {"folder": tmp_path, "journal": journal, "take": tmp_path / "t.bvh"}[which]
    assert main(["takes", "recover", str(arg)]) == 0
    assert f"recovered {tmp_path / 't.bvh'}" in capsys.readouterr().out
    assert (tmp_path / "t.bvh").is_file() and not journal.exists()
    assert main(["takes", "recover", str(tmp_path)]) == 0
    assert "no unfinished take" in capsys.readouterr().out


def test_takes_recover_names_a_missing_path(tmp_path: Path, caplog) -> None:
    from main import main

    assert main(["takes", "recover", str(tmp_path / "nothing.glb")]) == 2
    assert "no folder, take journal" in caplog.text


def test_a_take_with_no_frame_leaves_no_journal(tmp_path: Path) -> None:
    rec = TakeRecorder(tmp_path / "empty.glb", skeleton()).start()
    with pytest.raises(TakeError, match="no frame was recorded"):
        rec.finish()
    assert list(tmp_path.iterdir()) == []
    sk = skeleton()
    rec = TakeRecorder(tmp_path / "empty.glb", sk).start()  # the path is free for the next take
    rec.write(pose(sk, 0, 0))
    assert rec.finish().is_file()


def test_journal_in_the_way_names_the_command(tmp_path: Path) -> None:
    _crashed_take(tmp_path / "t.npz")
    with pytest.raises(TakeError, match="main.py takes recover"):
        TakeRecorder(tmp_path / "t.npz", skeleton()).start()
