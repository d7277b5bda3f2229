"""Tests for engine.formats.gltf: the shared GLB files and small hand-built glTF documents."""

from __future__ import annotations

import base64
import csv
import json
import struct
from pathlib import Path

import numpy as np
import pytest

from engine import rotations as rot
from engine.formats._gltf_accessors import parse_document
from engine.formats._gltf_mesh import inverse_bind_matrices
from engine.formats._gltf_nodes import NodeGraph
from engine.errors import RigFormatError
from engine.formats.gltf import read_gltf


# ---------------------------------------------------------------------------- shared files
@pytest.fixture(scope="module")
def shared_rigs(shared_data: Path) -> dict[str, object]:
    """Every shared .glb read once: relative path -> Rig."""
    files = sorted(shared_data.rglob("*.glb"))
    assert files, "no .glb under shared data"
    return {str(f.relative_to(shared_data)): read_gltf(f) for f in files}


@pytest.fixture(scope="module")
def manifest(shared_data: Path) -> dict[str, dict[str, str]]:
    with open(shared_data / "manifest.csv", newline="") as fh:
        return {row["file"]: row for row in csv.DictReader(fh)}


@pytest.mark.slow  # shares the ~8 s module fixture that reads all 33 shared GLBs
def test_every_shared_glb_loads_with_finite_fk(shared_rigs):
    assert len(shared_rigs) == 33
    for rel, rig in shared_rigs.items():
        assert rig.source.format == "glb" and rig.source.units == "m" and rig.source.up_axis == "Y"
        assert rig.clips, rel
        for clip in rig.clips:
            assert clip.num_frames >= 1
            assert np.isfinite(clip.positions(rig.skeleton)).all(), (rel, clip.name)


@pytest.mark.slow  # shares the ~8 s module fixture that reads all 33 shared GLBs
def test_joint_and_clip_counts_match_manifest(shared_rigs, manifest, shared_data):
    for rel, rig in shared_rigs.items():
        row = manifest[rel]
        assert len(rig.clips) == int(row["clips"]), rel
        doc = parse_document(rel, (shared_data / rel).read_bytes(), None)
        names = NodeGraph.from_document(doc).names
        skin_joint_names = {names[j] for j in doc.json["skins"][0]["joints"]}
        if rig.skeleton.names[0] in skin_joint_names:
            assert rig.skeleton.num_joints == int(row["joints"]), rel
        else:
            # The skin has several top-level bones (the body plus IK helper bones) under the
            # armature node: the reader adds that common ancestor as the single root joint.
            assert rig.skeleton.num_joints == int(row["joints"]) + 1, rel
            assert len(rig.skeleton.children(0)) > 1


@pytest.mark.slow  # shares the ~8 s module fixture that reads all 33 shared GLBs
def test_rest_fk_equals_gltf_world_positions(shared_rigs, shared_data):
    # Scale (Armature 0.01/100 pairs, 0.2 and 3x node scales) is baked into translations.
    for rel, rig in shared_rigs.items():
        doc = parse_document(rel, (shared_data / rel).read_bytes(), None)
        graph = NodeGraph.from_document(doc)
        world = graph.world_matrices()
        nodes = [graph.names.index(n) for n in rig.skeleton.names]
        np.testing.assert_allclose(rig.skeleton.rest_positions(), world[nodes, :3, 3], atol=1e-9 * rig.skeleton.height, err_msg=rel)


@pytest.mark.slow  # shares the ~8 s module fixture that reads all 33 shared GLBs
def test_rest_matches_inverse_bind_matrices_when_bound_at_rest(shared_rigs, shared_data):
    exact = 0
    for rel, rig in shared_rigs.items():
        noted = any("inverse bind matrices disagree" in n for n in rig.source.notes)
        doc = parse_document(rel, (shared_data / rel).read_bytes(), None)
        skin = doc.json["skins"][0]
        joints = skin["joints"]
        ibm = inverse_bind_matrices(doc, skin, len(joints))
        graph = NodeGraph.from_document(doc)
        idx = [rig.skeleton.index(graph.names[j]) for j in joints]
        mats, pos = rig.skeleton.rest_world()
        # Bind matrices may live in the armature's or mesh's frame (a 100x scale, say): compare
        # after the one global transform that maps the top joint's bind matrix to its glTF world matrix.
        top = int(np.argmin([rig.skeleton.depths()[i] for i in idx]))
        to_rest = graph.world_matrices()[joints[top]] @ ibm[top]
        bind = to_rest @ np.linalg.inv(ibm)  # (J, 4, 4)
        pos_err = np.abs(bind[:, :3, 3] - pos[idx]).max() / rig.skeleton.height
        rot_err = np.abs(rot.orthonormalize(bind[:, :3, :3]) - mats[idx]).max()
        # The reader notes a disagreement above 1e-3 of the height, and only then.
        assert noted == (np.linalg.norm(bind[:, :3, 3] - pos[idx], axis=1).max() / rig.skeleton.height > 1e-3), rel
        if pos_err < 1e-4:
            assert rot_err < 1e-4, rel
            exact += 1
    assert exact >= 20  # most files are bound in their node rest pose (to float32 precision)


@pytest.mark.slow  # shares the ~8 s module fixture that reads all 33 shared GLBs
def test_draco_brainstem_loads_skeleton_and_animation(shared_rigs):
    rig = shared_rigs["misc_gltf/BrainStem.glb"]
    assert rig.skeleton.num_joints == 18
    assert rig.mesh is None
    assert "mesh 'Figure_2_geometry' skipped: Draco compression is not supported" in rig.source.notes
    (clip,) = rig.clips
    assert clip.num_frames > 1000 and 37 < clip.fps < 38
    assert np.ptp(clip.positions(rig.skeleton), axis=0).max() > 0.1  # it moves


@pytest.mark.slow  # shares the ~8 s module fixture that reads all 33 shared GLBs
def test_robot_expressive_shared_joints_and_merged_mesh(shared_rigs):
    rig = shared_rigs["misc_gltf/RobotExpressive.glb"]
    assert rig.skeleton.num_joints == 43
    assert any("4 skins" in n for n in rig.source.notes)
    assert rig.mesh is not None
    m = rig.mesh
    assert m.joints.max() < 43 and m.indices.max() < len(m.positions)
    np.testing.assert_allclose(m.weights.sum(axis=1), 1.0, atol=1e-5)
    assert {c.name for c in rig.clips} >= {"Dance", "Walking", "Idle"}
    # The mesh surrounds the skeleton: its bounding box contains every rest joint (loosely).
    lo, hi = m.positions.min(axis=0), m.positions.max(axis=0)
    rest = rig.skeleton.rest_positions()
    pad = 0.1 * rig.skeleton.height
    assert np.all(rest >= lo - pad) and np.all(rest <= hi + pad)


# ---------------------------------------------------------------------------- hand-built files
def _gltf(nodes, *, arrays=(), animations=(), skins=None, extra=None) -> dict:
    """A glTF document whose accessors hold ``arrays`` (one data: URI buffer).

    ``arrays`` items: ``(np.ndarray (count, comps), componentType, type, extra accessor fields)``.
    """
    blob, views, accessors = b"", [], []
    for data, ctype, atype, more in arrays:
        raw = np.ascontiguousarray(data).tobytes()
        views.append({"buffer": 0, "byteOffset": len(blob), "byteLength": len(raw)})
        accessors.append({"bufferView": len(views) - 1, "componentType": ctype, "count": len(data), "type": atype, **more})
        blob += raw + b"\0" * (-len(raw) % 4)
    doc = {"asset": {"version": "2.0"}, "nodes": nodes, "scenes": [{"nodes": [0]}]}
    if blob:
        doc["buffers"] = [{"byteLength": len(blob), "uri": "data:application/octet-stream;base64," + base64.b64encode(blob).decode()}]
        doc["bufferViews"] = views
        doc["accessors"] = accessors
    if animations:
        doc["animations"] = list(animations)
    if skins is not None:
        doc["skins"] = skins
    doc.update(extra or {})
    return doc


def _read(doc: dict, **kw):
    return read_gltf("test.gltf", data=json.dumps(doc).encode(), **kw)


def _f32(x) -> np.ndarray:
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1)


CHAIN = [
    {"name": "root", "children": [1], "translation": [0, 1, 0]},
    {"name": "mid", "children": [2], "translation": [0, 1, 0]},
    {"name": "tip", "translation": [0, 1, 0]},
]


def test_linear_step_and_cubic_translation_channels():
    times = _f32([0.0, 1.0])
    arrays = [
        (times, 5126, "SCALAR", {"min": [0.0], "max": [1.0]}),
        (_f32([[0, 0, 0], [2, 0, 0]]), 5126, "VEC3", {}),
        # CUBICSPLINE: (in-tangent, value, out-tangent) per key; zero tangents -> smoothstep.
        (_f32([[0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 4], [0, 0, 0]]), 5126, "VEC3", {}),
    ]
    anims = [
        {"name": "lin", "samplers": [{"input": 0, "output": 1}], "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]},
        {"samplers": [{"input": 0, "output": 1, "interpolation": "STEP"}], "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]},
        {"name": "cubic", "samplers": [{"input": 0, "output": 2, "interpolation": "CUBICSPLINE"}],
         "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]},
    ]  # fmt: skip
    rig = _read(_gltf(CHAIN, arrays=arrays, animations=anims, skins=[{"joints": [0, 1, 2]}]), fps=4)
    lin, step, cubic = rig.clips
    assert step.name == "animation_1" and lin.num_frames == 5 and lin.fps == 4
    np.testing.assert_allclose(lin.translations[:, 0, 0], [0, 0.5, 1, 1.5, 2])
    np.testing.assert_allclose(step.translations[:, 0, 0], [0, 0, 0, 0, 2])
    s = np.arange(5) / 4
    np.testing.assert_allclose(cubic.translations[:, 0, 2], 4 * (3 * s**2 - 2 * s**3), atol=1e-12)
    # Joints without channels hold their rest values.
    np.testing.assert_allclose(lin.translations[:, 1], np.tile([0, 1, 0], (5, 1)))


def test_rotation_slerp_sparse_and_normalized_short_output():
    q90 = rot.axis_angle_to_quat(np.array([0, 0, np.pi / 2]))
    base = np.tile(np.array([0, 0, 0, 32767], dtype=np.int16), (3, 1))  # identity keys, normalised shorts
    sparse_idx = np.array([2], dtype=np.uint16)
    sparse_val = np.round(q90 * 32767).astype(np.int16)[None]
    arrays = [
        (_f32([0.0, 0.5, 1.0]), 5126, "SCALAR", {"min": [0.0], "max": [1.0]}),
        (base, 5122, "VEC4", {"normalized": True}),
        (sparse_idx[:, None], 5123, "SCALAR", {}),
        (sparse_val, 5122, "VEC4", {}),
    ]
    doc = _gltf(CHAIN, arrays=arrays, skins=[{"joints": [0, 1, 2]}])
    doc["accessors"][1]["sparse"] = {"count": 1, "indices": {"bufferView": 2, "componentType": 5123}, "values": {"bufferView": 3}}
    doc["animations"] = [{"samplers": [{"input": 0, "output": 1}], "channels": [{"sampler": 0, "target": {"node": 1, "path": "rotation"}}]}]
    (clip,) = _read(doc, fps=4).clips
    angles = rot.quat_to_axis_angle(clip.rotations[:, 1])[:, 2]
    np.testing.assert_allclose(angles, [0, 0, 0, np.pi / 4, np.pi / 2], atol=1e-4)


def test_inferred_fps_from_key_intervals():
    t = np.arange(25, dtype=np.float64) / 24
    arrays = [(_f32(t), 5126, "SCALAR", {"min": [0.0], "max": [1.0]}), (_f32(np.zeros((25, 3))), 5126, "VEC3", {})]
    anims = [{"samplers": [{"input": 0, "output": 1}], "channels": [{"sampler": 0, "target": {"node": 2, "path": "translation"}}]}]
    (clip,) = _read(_gltf(CHAIN, arrays=arrays, animations=anims, skins=[{"joints": [0, 1, 2]}])).clips
    assert clip.fps == 24 and clip.num_frames == 25


def test_scale_and_armature_are_baked_and_scale_channel_folds_into_children():
    nodes = [
        {"name": "Armature", "children": [1], "rotation": [-0.7071068, 0, 0, 0.7071068], "scale": [0.01, 0.01, 0.01]},
        {"name": "hips", "children": [2], "translation": [0, 0, 100]},
        {"name": "spine", "children": [3], "translation": [0, 50, 0], "scale": [2, 2, 2]},
        {"name": "head", "translation": [0, 10, 0]},
    ]
    arrays = [(_f32([0.0, 1.0]), 5126, "SCALAR", {"min": [0.0], "max": [1.0]}), (_f32([[2, 2, 2], [4, 4, 4]]), 5126, "VEC3", {})]
    anims = [{"samplers": [{"input": 0, "output": 1}], "channels": [{"sampler": 0, "target": {"node": 2, "path": "scale"}}]}]
    rig = _read(_gltf(nodes, arrays=arrays, animations=anims, skins=[{"joints": [1, 2, 3]}]), fps=1)
    sk = rig.skeleton
    assert sk.names == ("hips", "spine", "head")
    # Armature turns Z-up to Y-up and scales cm to m: hips at 1 m height.
    np.testing.assert_allclose(sk.rest_positions(), [[0, 1, 0], [0, 1, -0.5], [0, 1, -0.7]], atol=1e-6)
    pos = rig.clips[0].positions(sk)
    np.testing.assert_allclose(pos[1, 2], [0, 1, -0.9], atol=1e-6)  # spine scale 4: head 0.4 m above
    assert not any("non-uniform" in n for n in rig.source.notes)


def test_non_uniform_scale_is_noted_and_positions_stay_exact():
    nodes = [{"name": "a", "children": [1], "scale": [1, 2, 1]}, {"name": "b", "translation": [0, 1, 0]}]
    rig = _read(_gltf(nodes, skins=[{"joints": [0, 1]}]))
    np.testing.assert_allclose(rig.skeleton.rest_positions()[1], [0, 2, 0])
    assert any("non-uniform scale" in n for n in rig.source.notes)


def test_node_matrix_and_file_without_skins():
    m = np.eye(4)
    m[:3, :3] = rot.quat_to_matrix(rot.axis_angle_to_quat(np.array([0, np.pi / 2, 0])))
    m[:3, 3] = [1, 2, 3]
    nodes = [{"name": "a", "children": [1], "matrix": [float(x) for x in m.T.reshape(-1)]}, {"translation": [0, 0, 1]}]
    rig = _read(_gltf(nodes))
    assert rig.skeleton.names == ("a", "node_1")
    np.testing.assert_allclose(rig.skeleton.rest_positions(), [[1, 2, 3], [2, 2, 3]], atol=1e-12)
    assert any("no skins" in n for n in rig.source.notes)


def test_external_bin_next_to_gltf(tmp_path):
    doc = _gltf(CHAIN, arrays=[(_f32([0.0, 1.0]), 5126, "SCALAR", {"min": [0.0], "max": [1.0]}), (_f32([[0, 0, 0], [1, 0, 0]]), 5126, "VEC3", {})])
    blob = base64.b64decode(doc["buffers"][0]["uri"].split(",")[1])
    (tmp_path / "data file.bin").write_bytes(blob)
    doc["buffers"][0]["uri"] = "data%20file.bin"
    doc["animations"] = [{"samplers": [{"input": 0, "output": 1}], "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]}]
    (tmp_path / "rig.gltf").write_text(json.dumps(doc))
    rig = read_gltf(tmp_path / "rig.gltf")
    assert rig.source.format == "gltf" and rig.clips[0].translations[-1, 0, 0] == pytest.approx(1.0)
    (tmp_path / "data file.bin").unlink()
    with pytest.raises(RigFormatError, match="cannot read external buffer"):
        read_gltf(tmp_path / "rig.gltf")


def test_channels_on_other_nodes_and_weights_are_ignored():
    nodes = CHAIN + [{"name": "prop", "mesh": 0}]
    arrays = [(_f32([0.0, 1.0]), 5126, "SCALAR", {"min": [0.0], "max": [1.0]}), (_f32([[0, 0, 0], [1, 0, 0]]), 5126, "VEC3", {})]
    anims = [{"samplers": [{"input": 0, "output": 1}], "channels": [
        {"sampler": 0, "target": {"node": 3, "path": "translation"}},
        {"sampler": 0, "target": {"node": 0, "path": "weights"}},
        {"sampler": 0, "target": {"path": "pointer"}},
    ]}]  # fmt: skip
    rig = _read(_gltf(nodes, arrays=arrays, animations=anims, skins=[{"joints": [0, 1, 2]}]))
    assert rig.clips == [] and any("no channels on skeleton joints" in n for n in rig.source.notes)


def _glb(doc: dict, binary: bytes = b"") -> bytes:
    js = json.dumps(doc).encode()
    js += b" " * (-len(js) % 4)
    body = struct.pack("<II", len(js), 0x4E4F534A) + js
    if binary:
        body += struct.pack("<II", len(binary), 0x004E4942) + binary
    return struct.pack("<4sII", b"glTF", 2, 12 + len(body)) + body


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"glTF\x01\x00\x00\x00" + b"\0" * 16, "version 1"),
        (b"glTF\x02\x00\x00\x00\xff\xff\x00\x00" + b"\0" * 8, "declares"),
        (_glb({"asset": {"version": "2.0"}})[:-3], "declares"),
        (b"{not json", "invalid glTF JSON"),
        (b"[1, 2]", "must be an object"),
        (json.dumps({"asset": {"version": "1.0"}, "nodes": [{}]}).encode(), "not supported"),
    ],
)
def test_malformed_containers_raise_rig_format_error(data, reason):
    with pytest.raises(RigFormatError, match=reason):
        read_gltf("bad.glb", data=data)


def test_malformed_documents_raise_rig_format_error():
    anim = [{"samplers": [{"input": 0, "output": 1}], "channels": [{"sampler": 0, "target": {"node": 0, "path": "translation"}}]}]
    ok = [(_f32([0.0, 1.0]), 5126, "SCALAR", {}), (_f32([[0, 0, 0], [1, 0, 0]]), 5126, "VEC3", {})]
    cases = {
        "cycle": _gltf([{"children": [1]}, {"children": [0]}]),
        "two parents": _gltf([{"children": [2]}, {"children": [2]}, {}]),
        "invalid or repeated node": _gltf(CHAIN, skins=[{"joints": [0, 7]}]),
        "non-finite numbers": _gltf([{"translation": [float("nan"), 0, 0]}]),
        "no nodes": _gltf([]),
    }
    big = _gltf(CHAIN, arrays=ok, animations=anim, skins=[{"joints": [0, 1, 2]}])
    big["accessors"][1]["count"] = 10**9
    cases["needs"] = big
    missing = _gltf(CHAIN, arrays=ok, animations=anim, skins=[{"joints": [0, 1, 2]}])
    del missing["buffers"][0]["uri"]
    cases["no uri"] = missing
    nan_keys = _gltf(CHAIN, arrays=[ok[0], (_f32([[0, 0, 0], [np.nan, 0, 0]]), 5126, "VEC3", {})], animations=anim, skins=[{"joints": [0, 1, 2]}])
    cases["non-finite"] = nan_keys
    for reason, doc in cases.items():
        with pytest.raises(RigFormatError, match=reason):
            _read(doc)
    with pytest.raises(RigFormatError, match="skin 3 requested"):
        _read(_gltf(CHAIN, skins=[{"joints": [0, 1, 2]}]), skin=3)
    with pytest.raises(RigFormatError, match="cannot read file"):
        read_gltf("/nonexistent/file.glb")


def test_uniform_scale_fast_path_equals_world_matrix_path():
    from engine.formats._gltf_nodes import bake_uniform_scale, locals_from_world, trs_matrix

    rng = np.random.default_rng(0)
    T, J = 6, 5
    parents = np.array([-1, 0, 1, 1, 3])
    above = trs_matrix(np.array([0.5, 0, 1.0]), rot.axis_angle_to_quat(np.array([-np.pi / 2, 0, 0])), np.full(3, 0.01))
    above = np.broadcast_to(above, (J, 4, 4))
    trans = rng.normal(size=(T, J, 3))
    rots = rot.quat_normalize(rng.normal(size=(T, J, 4)))
    scales = np.repeat(rng.uniform(0.5, 3, size=(T, J, 1)), 3, axis=-1)
    local = trs_matrix(trans, rots, scales)
    world = np.empty_like(local)
    for j, p in enumerate(parents):
        world[:, j] = (above[j] if p < 0 else world[:, p]) @ local[:, j]
    r_slow, t_slow = locals_from_world(parents, world)
    r_fast, t_fast = bake_uniform_scale(parents, above, trans, rots, scales)
    np.testing.assert_allclose(t_fast, t_slow, atol=1e-12)
    assert np.all(rot.quat_geodesic_angle(r_fast, r_slow) < 1e-7)
    scales[2, 3, 1] *= 1.5  # non-uniform: no fast path
    assert bake_uniform_scale(parents, above, trans, rots, scales) is None


def test_skinned_mesh_with_byte_joints_and_normalized_weights_is_skinned_to_rest():
    # Bound with identity inverse bind matrices (the bind pose has both joints at the origin),
    # while the node rest pose moves and turns them: the mesh is reported in the rest pose.
    q = rot.axis_angle_to_quat(np.array([0, 0, np.pi / 2]))
    nodes = [
        {"name": "root", "children": [1], "translation": [0, 1, 0], "rotation": q.tolist()},
        {"name": "tip", "translation": [1, 0, 0]},
        {"name": "body", "mesh": 0, "skin": 0, "translation": [5, 5, 5]},  # ignored by skinning
    ]
    verts = _f32([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    arrays = [
        (verts, 5126, "VEC3", {"min": [0, 0, 0], "max": [1, 1, 1]}),
        (np.array([[0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=np.uint8), 5121, "VEC4", {}),
        (np.array([[128, 127, 0, 0], [255, 0, 0, 0], [255, 0, 0, 0]], dtype=np.uint8), 5121, "VEC4", {"normalized": True}),
        (np.array([[0], [1], [2]], dtype=np.uint16), 5123, "SCALAR", {}),
    ]
    doc = _gltf(nodes, arrays=arrays, skins=[{"joints": [0, 1]}])
    doc["meshes"] = [{"name": "box", "primitives": [{"attributes": {"POSITION": 0, "JOINTS_0": 1, "WEIGHTS_0": 2}, "indices": 3}]}]
    doc["scenes"][0]["nodes"] = [0, 2]
    rig = _read(doc)
    m = rig.mesh
    assert m is not None and m.indices.tolist() == [[0, 1, 2]] and m.normals is None
    np.testing.assert_allclose(m.weights.sum(axis=1), 1.0, atol=1e-6)
    r = rot.quat_to_matrix(q)
    root = np.array([0, 1, 0]) + r @ verts[1]  # vertex 1: all weight on the root
    tip = np.array([0, 1, 0]) + r @ (np.array([1, 0, 0]) + verts[2])  # vertex 2: all on the tip
    np.testing.assert_allclose(m.positions[1], root, atol=1e-6)
    np.testing.assert_allclose(m.positions[2], tip, atol=1e-6)
    assert m.joints[2, 0] == rig.skeleton.index("tip")
    assert any("inverse bind matrices disagree" in n for n in rig.source.notes)


def test_second_influence_set_keeps_the_four_strongest():
    nodes = [{"name": "a", "children": [1]}, {"name": "b", "translation": [0, 1, 0]}, {"mesh": 0, "skin": 0}]
    arrays = [
        (_f32([[0, 0, 0], [1, 0, 0], [0, 0, 1]]), 5126, "VEC3", {"min": [0, 0, 0], "max": [1, 0, 1]}),
        (np.array([[0, 0, 0, 0]] * 3, dtype=np.uint16), 5123, "VEC4", {}),
        (_f32([[0.1, 0.1, 0.05, 0.05]] * 3), 5126, "VEC4", {}),
        (np.array([[1, 0, 0, 0]] * 3, dtype=np.uint16), 5123, "VEC4", {}),
        (_f32([[0.7, 0, 0, 0]] * 3), 5126, "VEC4", {}),
    ]
    doc = _gltf(nodes, arrays=arrays, skins=[{"joints": [0, 1]}])
    doc["meshes"] = [{"primitives": [{"attributes": {"POSITION": 0, "JOINTS_0": 1, "WEIGHTS_0": 2, "JOINTS_1": 3, "WEIGHTS_1": 4}}]}]
    m = _read(doc).mesh
    np.testing.assert_allclose(m.weights[0], np.array([0.7, 0.1, 0.1, 0.05]) / 0.95, atol=1e-6)
    assert m.joints[0].tolist() == [1, 0, 0, 0]
