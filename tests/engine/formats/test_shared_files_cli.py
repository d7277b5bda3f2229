"""`info` and `convert` work on every file of the shared data (issue: foundations, "done when")."""

from __future__ import annotations

import json

import numpy as np
import pytest

import main
from engine.formats.rigio import iter_rig_files, load_rig


def test_info_and_convert_on_every_shared_file(shared_data, tmp_path, capsys) -> None:
    files = list(iter_rig_files(shared_data))
    assert len(files) >= 80, f"expected the whole shared data set, found {len(files)} files"
    failures = []
    for path in files:
        capsys.readouterr()
        if main.main(["info", str(path), "--json"]) != 0:
            failures.append(f"info {path.name}")
            continue
        described = json.loads(capsys.readouterr().out)
        out = tmp_path / (path.stem + (".glb" if path.suffix == ".bvh" else ".bvh"))
        # GLB -> BVH writes one clip (the first, or --clip); BVH -> GLB the file's clip.
        if main.main(["convert", str(path), str(out)]) != 0:
            failures.append(f"convert {path.name}")
            continue
        source, converted = load_rig(path), load_rig(out)
        assert converted.skeleton.num_joints == described["joints"], path.name
        if source.clips:
            clip = source.clips[0] if path.suffix == ".bvh" else next(c for c in source.clips)
            target = converted.clips[0]
            n = min(clip.num_frames, target.num_frames, 5)
            a = clip.positions(source.skeleton)[:n]
            b = target.positions(converted.skeleton)[:n]
            err = np.abs(a - b).max() / source.skeleton.height
            assert err < 1e-4, f"{path.name}: converted positions differ by {err:.2e} of height"
        out.unlink()
    assert not failures, failures
