"""Blendshapes onto a rig's own morph targets by name; morph targets stay within the read limits."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engine.face_hands.expressions import vrm0_expressions
from engine.face_hands.morph_targets import match_morph_targets, morph_target_weights
from engine.perception.face_landmarker import BLENDSHAPE_NAMES


def test_names_match_arkit_vrm_and_vroid_whatever_the_case_separators_or_prefix() -> None:
    names = ["jawOpen", "blendShape1.EyeBlink_Left", "Face|mouthSmileRight", "a", "Blink_R", "Fcl_ALL_Joy", "Fcl_MTH_O", "Tail", "_neutral"]
    kinds = match_morph_targets(names)
    assert kinds[:3] == [("arkit", BLENDSHAPE_NAMES.index("jawOpen")), ("arkit", BLENDSHAPE_NAMES.index("eyeBlinkLeft")),
                         ("arkit", BLENDSHAPE_NAMES.index("mouthSmileRight"))]
    assert kinds[3:7] == [("vrm0", "A"), ("vrm0", "Blink_R"), ("vrm0", "Joy"), ("vrm0", "O")]
    assert kinds[7:] == [None, None]  # no such shape; MediaPipe's _neutral is not a shape to drive
    rng = np.random.default_rng(0)
    blend = rng.uniform(size=(5, len(BLENDSHAPE_NAMES)))
    w = morph_target_weights(blend, names)
    assert w.shape == (5, len(names))
    np.testing.assert_allclose(w[:, 0], blend[:, BLENDSHAPE_NAMES.index("jawOpen")])
    np.testing.assert_allclose(w[:, 5], [vrm0_expressions(b)["Joy"] for b in blend])
    assert np.all(w[:, 7:] == 0.0)
    with pytest.raises(ValueError, match="blendshapes must be"):
        morph_target_weights(blend[:, :10], names)


def test_morph_targets_over_the_read_limit_are_refused(tmp_path: Path) -> None:
    from engine.errors import RigLimitError
    from engine.formats.gltf import read_gltf
    from engine.formats.gltf_write import write_glb
    from engine.formats.read_limits import ReadLimits
    from engine.formats.rigio import load_rig
    from tests.conftest import REPO_ROOT

    rig = load_rig(REPO_ROOT / "resources" / "rigs" / "humanoid.glb")
    V = len(rig.mesh.positions)
    mesh = dataclasses.replace(rig.mesh, morph_names=("jawOpen", "A"), morph_deltas=np.zeros((2, V, 3), np.float32))
    path = tmp_path / "morphs.glb"
    write_glb(dataclasses.replace(rig, mesh=mesh), path)
    assert read_gltf(path).mesh.morph_names == ("jawOpen", "A")
    with pytest.raises(RigLimitError, match="morph target"):
        read_gltf(path, limits=ReadLimits(morph_values=V))


def test_a_real_files_morph_targets_are_read_and_matched(shared_data: Path) -> None:
    """Three.js's RobotExpressive carries three face targets; its ``Angry`` is the VRM preset."""
    from engine.formats.rigio import load_rig

    path = shared_data / "misc_gltf" / "RobotExpressive.glb"
    if not path.is_file():
        pytest.skip("RobotExpressive.glb is not in ../shared/data")
    mesh = load_rig(path).mesh
    assert mesh.morph_names == ("Angry", "Surprised", "Sad")
    assert mesh.morph_deltas.shape == (3, len(mesh.positions), 3) and np.abs(mesh.morph_deltas).max() > 0
    assert match_morph_targets(mesh.morph_names) == [("vrm0", "Angry"), None, None]
