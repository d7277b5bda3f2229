"""The viewport shows the face on a rig's own morph targets (a real offscreen pygfx view)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

pytest.importorskip("pygfx")
pytest.importorskip("pytestqt")


def test_the_face_moves_the_mesh_through_its_matching_morph_targets(qapp) -> None:
    from app.viewport import RigViewport
    from engine.perception.face_landmarker import BLENDSHAPE_NAMES
    from engine.rigs.bundled import build_rig
    from tools.gpu_setup import configure_wgpu

    configure_wgpu()
    rig = build_rig("humanoid").rig
    V = len(rig.mesh.positions)
    deltas = np.zeros((2, V, 3), np.float32)
    deltas[0, ::5, 1] = -0.02  # "jawOpen": every 5th vertex 2 cm down
    deltas[1, 1::5, 0] = 0.03  # "NotAFaceShape": never driven
    rig = dataclasses.replace(rig, mesh=dataclasses.replace(rig.mesh, morph_names=("jawOpen", "NotAFaceShape"), morph_deltas=deltas))
    view = RigViewport()
    try:
        view.set_rig(rig)
        rest = rig.skeleton.rest_rotations
        view.set_pose(rest)
        neutral = view._mesh_buffer.copy()
        np.testing.assert_allclose(neutral, rig.mesh.positions, atol=1e-5)  # the rest pose skins to the bind pose
        face = np.zeros(len(BLENDSHAPE_NAMES))
        face[BLENDSHAPE_NAMES.index("jawOpen")] = 0.5
        view.set_pose(rest, None, face)
        np.testing.assert_allclose(view._mesh_buffer - neutral, 0.5 * deltas[0], atol=1e-5)
        view.set_pose(rest, None, np.zeros(len(BLENDSHAPE_NAMES)))
        np.testing.assert_allclose(view._mesh_buffer, neutral, atol=1e-6)
    finally:
        view.close()
