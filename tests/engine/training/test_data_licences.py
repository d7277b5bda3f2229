"""Licence filtering of the shared data and the held-out split file."""

from __future__ import annotations

import json

import pytest

from engine.training.data_licences import FREE_LICENCES, DEFAULT_SPLIT_PATH, HeldOutSplit, load_split, read_manifest, training_files


def test_free_licence_keys():
    assert {"Q_CC0", "AD_MIT", "CMU", "KHR_BRAINSTEM", "ROBOT"} <= FREE_LICENCES
    assert not {"TB", "MIXAMO", "XIA", "MANN", "LAFAN1", "ICLONE"} & FREE_LICENCES


def test_shipped_split_holds_out_whole_skeletons_across_categories():
    split = load_split(DEFAULT_SPLIT_PATH)
    assert {"Q_Fox", "Q_Wolf", "Q_dino_quad_Triceratops", "Q_winged43_Demon", "AD_cmu1_31"} <= split.skeletons
    assert split.holds_out("anything.glb", "Q_Fox") and not split.holds_out("x.glb", "Q_Deer")


def test_split_file_errors_and_paths(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"skeletons": []}))
    with pytest.raises(ValueError, match="non-empty"):
        load_split(bad)
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps({"files": ["a\\b.bvh"]}))
    assert load_split(ok).holds_out("a/b.bvh")


def test_training_files_on_the_shared_manifest(shared_data):
    manifest = read_manifest(shared_data)
    assert len(manifest) > 50
    free = training_files(shared_data, "free")
    assert free and all(e.licence in FREE_LICENCES for e in free)
    held = load_split()
    assert not any(held.holds_out(e.file, e.skeleton) for e in free)
    everything = training_files(shared_data, "all", HeldOutSplit())
    assert len(everything) == len([e for e in manifest.values() if (shared_data / e.file).is_file()])
    with pytest.raises(ValueError, match="licence_filter"):
        training_files(shared_data, "some")


def test_missing_manifest_is_empty(tmp_path):
    assert read_manifest(tmp_path) == {} and training_files(tmp_path) == []
