"""Take names, folders and formats; finishing a take on the caller's thread or in the background."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.output_slots import RecorderSlot
from app.take_manager import TakeManager, safe_take_stem
from engine.rigs.bundled import load_bundled_rig
from streaming.frames import PoseResult
from streaming.settings import SessionSettings


@pytest.fixture(scope="module")
def rig():
    return load_bundled_rig("snake")


def _result(joints: int, index: int = 0) -> PoseResult:
    q = np.tile([0.0, 0.0, 0.0, 1.0], (joints, 1))
    return PoseResult(q, np.zeros(3), np.zeros((joints, 3)), 1_000_000 * (index + 1), index)


@pytest.mark.parametrize("name, stem", [("take 1", "take_1"), ("../../etc/passwd", "etc_passwd"), (".hidden", "hidden"), ("  a/b\\c  ", "a_b_c")])
def test_safe_take_stem(name: str, stem: str) -> None:
    assert safe_take_stem(name) == stem


@pytest.mark.parametrize("name", ["", "  ", "../..", "///"])
def test_unusable_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="no usable characters"):
        safe_take_stem(name)


def test_takes_get_free_names_in_the_folder_and_load(tmp_path: Path, rig) -> None:
    settings = SessionSettings(take_format="npz")
    manager = TakeManager(settings, RecorderSlot(), default_folder=tmp_path / "default")
    J = rig.skeleton.num_joints
    first = manager.start("../my take", rig)
    assert first == tmp_path / "default" / "my_take.npz" and manager.recording
    assert manager.start("other", rig) == first  # already recording: the running take
    assert manager.slot.send(_result(J), rig) is True
    assert manager.stop() == first and first.is_file() and not manager.recording
    second = manager.start("my take", rig)
    assert second.name == "my_take_2.npz"
    manager.slot.send(_result(J), rig)
    future = manager.finish_in_background()
    assert future.result(timeout=10) == second and second.is_file()
    assert set(manager.files()) == {first, second}
    assert np.load(second)["rotations"].shape == (1, J, 4)
    assert manager.stop() is None and manager.finish_in_background() is None
    manager.close()


def test_options_change_folder_and_format(tmp_path: Path, rig) -> None:
    settings = SessionSettings()
    manager = TakeManager(settings, RecorderSlot(), default_folder=tmp_path / "default")
    manager.set_options(take_format="bvh", takes_dir=tmp_path / "mine")
    assert settings.take_format == "bvh" and manager.folder == tmp_path / "mine"
    with pytest.raises(ValueError, match="take format"):
        manager.set_options(take_format="fbx")
    assert settings.take_format == "bvh"
    path = manager.start("t", rig)
    assert path == tmp_path / "mine" / "t.bvh"
    for i in range(3):
        manager.slot.send(_result(rig.skeleton.num_joints, i), rig)
    assert manager.stop() == path
    from engine.formats.rigio import load_rig

    assert load_rig(path).skeleton.num_joints == rig.skeleton.num_joints


def test_a_new_session_never_reuses_a_take_name(tmp_path: Path, rig) -> None:
    folder = tmp_path / "takes"
    manager = TakeManager(SessionSettings(take_format="npz"), RecorderSlot(), default_folder=folder)
    assert manager.next_free_name() == "take_001"  # no folder yet
    folder.mkdir()
    (folder / "take_007.glb").write_bytes(b"")
    (folder / "take_012.bvh.partial").write_bytes(b"")  # an unfinished take counts too
    (folder / "my_take_099.npz").write_bytes(b"")  # not a default name
    again = TakeManager(SessionSettings(take_format="npz"), RecorderSlot(), default_folder=folder)  # "next session"
    name = again.next_free_name()
    assert name == "take_013"
    path = again.start(name, rig)
    again.slot.send(_result(rig.skeleton.num_joints), rig)
    assert again.stop() == path and path.name == "take_013.npz"
    assert again.next_free_name() == "take_014"
