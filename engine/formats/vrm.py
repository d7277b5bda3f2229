"""VRM humanoid bone maps (VRM 0.x and 1.0) and the VRM 0.x facing fix.

VRM is a GLB with a humanoid description in its extensions:
- VRM 0.x: ``extensions.VRM.humanoid.humanBones`` is a list of ``{"bone": name, "node": i}``;
  the model faces -Z (vrm.dev, "VRM 1.0 changes").
- VRM 1.0: ``extensions.VRMC_vrm.humanoid.humanBones`` is an object ``name -> {"node": i}``;
  the model faces +Z, as glTF assets should.

:func:`humanoid_map` turns either into the engine's map (Unity ``HumanBodyBones`` name -> joint
name, see :mod:`engine.humanoid_bones`); :func:`turn_around_y` rotates a VRM 0.x rig by 180
degrees about Y so that every rig faces +Z.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from engine import rotations as rot
from engine.humanoid_bones import UNITY_FROM_VRM0, UNITY_FROM_VRM1
from engine.rig import Clip, Mesh, Rig
from engine.skeleton import Skeleton

__all__ = ["expressions", "humanoid_map", "turn_around_y", "vrm_version"]

# VRM expression presets -> the VRM 0 names the face drives (engine.face_hands.expressions);
# "Blink" (both eyes) is the lesser of the two blinks.
_PRESETS_VRM0 = {"a": "A", "i": "I", "u": "U", "e": "E", "o": "O", "blink_l": "Blink_L", "blink_r": "Blink_R", "blink": "Blink",
                 "joy": "Joy", "angry": "Angry", "sorrow": "Sorrow", "fun": "Fun"}
_PRESETS_VRM1 = {"aa": "A", "ih": "I", "ou": "U", "ee": "E", "oh": "O", "blinkLeft": "Blink_L", "blinkRight": "Blink_R",
                 "blink": "Blink", "happy": "Joy", "angry": "Angry", "sad": "Sorrow", "relaxed": "Fun"}

# 180 degrees about +Y: (x, y, z) -> (-x, y, -z); quaternion x y z w = (0, 1, 0, 0).
_TURN_Q = np.array([0.0, 1.0, 0.0, 0.0])
_TURN_M = np.diag([-1.0, 1.0, -1.0])


def vrm_version(gltf_json: dict[str, Any]) -> int | None:
    """``0`` for VRM 0.x (``VRM`` extension), ``1`` for VRM 1.0 (``VRMC_vrm``), else ``None``."""
    ext = gltf_json.get("extensions")
    if not isinstance(ext, dict):
        return None
    if isinstance(ext.get("VRMC_vrm"), dict):
        return 1
    if isinstance(ext.get("VRM"), dict):
        return 0
    return None


def humanoid_map(gltf_json: dict[str, Any], node_joint_names: dict[int, str], notes: list[str]) -> dict[str, str]:
    """Unity ``HumanBodyBones`` name -> joint name from a VRM document's humanoid bones.

    Bones whose node is not a skeleton joint, and unknown bone names, are skipped with a note;
    a malformed humanoid section gives an empty map and a note (the rig still loads).

    Args:
        gltf_json: the top-level glTF JSON object.
        node_joint_names: node index -> skeleton joint name, for the nodes in the skeleton.
        notes: receives one line per skipped bone.
    """
    version = vrm_version(gltf_json)
    if version is None:
        return {}
    ext = gltf_json["extensions"]["VRMC_vrm" if version == 1 else "VRM"]
    humanoid = ext.get("humanoid")
    bones = humanoid.get("humanBones") if isinstance(humanoid, dict) else None
    pairs: list[tuple[Any, Any]] = []
    if version == 0 and isinstance(bones, list):
        pairs = [(b.get("bone"), b.get("node")) for b in bones if isinstance(b, dict)]
    elif version == 1 and isinstance(bones, dict):
        pairs = [(name, b.get("node") if isinstance(b, dict) else None) for name, b in bones.items()]
    else:
        notes.append(f"VRM {version}: humanoid.humanBones is missing or malformed; no humanoid map")
        return {}
    table = UNITY_FROM_VRM1 if version == 1 else UNITY_FROM_VRM0
    out: dict[str, str] = {}
    for bone, node in pairs:
        unity = table.get(bone) if isinstance(bone, str) else None
        if unity is None:
            notes.append(f"VRM {version}: unknown humanoid bone {bone!r} skipped")
        elif not isinstance(node, int) or isinstance(node, bool) or node not in node_joint_names:
            notes.append(f"VRM {version}: humanoid bone {bone!r} points at node {node!r}, which is not a skeleton joint")
        else:
            out[unity] = node_joint_names[node]
    return out


def expressions(gltf_json: dict[str, Any], target_name: Callable[[int, int], str]) -> dict[str, tuple[tuple[str, float], ...]]:
    """A VRM file's expression presets: VRM 0 name -> ``((morph target name, weight 0..1), ...)``.

    VRM 0.x: ``extensions.VRM.blendShapeMaster.blendShapeGroups`` (``presetName``, ``binds`` of
    ``{mesh, index, weight 0..100}``); VRM 1.0: ``extensions.VRMC_vrm.expressions.preset``
    (``morphTargetBinds`` of ``{node, index, weight 0..1}``, the node's mesh). Presets the face does
    not drive (``neutral``, ``lookUp`` ...) and malformed entries are left out.

    Args:
        gltf_json: the top-level glTF JSON object.
        target_name: ``(mesh index, target index) -> name`` as the loaded mesh names its targets.
    """
    version = vrm_version(gltf_json)
    ext = gltf_json["extensions"]["VRMC_vrm" if version == 1 else "VRM"] if version is not None else {}
    groups: list[tuple[Any, Any, float]] = []  # (preset, binds, weight scale)
    if version == 0:
        master = ext.get("blendShapeMaster")
        for g in (master.get("blendShapeGroups") if isinstance(master, dict) else None) or []:
            if isinstance(g, dict):
                groups.append((_PRESETS_VRM0.get(str(g.get("presetName", "")).lower()), g.get("binds"), 0.01))
    elif version == 1:
        table = ext.get("expressions", {}).get("preset") if isinstance(ext.get("expressions"), dict) else None
        nodes = gltf_json.get("nodes") if isinstance(gltf_json.get("nodes"), list) else []
        for name, e in (table.items() if isinstance(table, dict) else ()):
            if isinstance(e, dict) and isinstance(e.get("morphTargetBinds"), list):
                binds = [{"mesh": nodes[b["node"]].get("mesh") if _index(b.get("node"), len(nodes)) and isinstance(nodes[b["node"]], dict) else None,
                          "index": b.get("index"), "weight": b.get("weight")} for b in e["morphTargetBinds"] if isinstance(b, dict)]
                groups.append((_PRESETS_VRM1.get(name), binds, 1.0))
    meshes = gltf_json.get("meshes") if isinstance(gltf_json.get("meshes"), list) else []
    out: dict[str, tuple[tuple[str, float], ...]] = {}
    for preset, binds, scale in groups:
        if preset is None or not isinstance(binds, list):
            continue
        targets = tuple((target_name(b["mesh"], b["index"]), float(np.clip(b["weight"] * scale, 0.0, 1.0)))
                        for b in binds if isinstance(b, dict) and _index(b.get("mesh"), len(meshes)) and _index(b.get("index"), 10**6)
                        and isinstance(b.get("weight"), (int, float)) and not isinstance(b.get("weight"), bool) and np.isfinite(b["weight"]))
        if targets:
            out[preset] = targets
    return out


def _index(value: Any, n: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n


def turn_around_y(rig: Rig) -> Rig:
    """The same rig rotated 180 degrees about +Y (rest pose, every clip and the mesh).

    Only root joints change: their rotation is pre-multiplied by the turn and their translation
    rotated, so every world position ``p`` becomes ``(-p.x, p.y, -p.z)``.
    """
    sk = rig.skeleton
    roots = sk.parents < 0
    rest_r = np.array(sk.rest_rotations)
    rest_t = np.array(sk.rest_translations)
    rest_r[roots] = rot.quat_multiply(_TURN_Q, rest_r[roots])
    rest_t[roots] = rest_t[roots] @ _TURN_M.T
    skeleton = Skeleton(sk.names, sk.parents, rest_t, rest_r, sk.end_site_joints, sk.end_site_offsets)
    clips = []
    for c in rig.clips:
        r, t = c.rotations.copy(), c.translations.copy()
        r[:, roots] = rot.quat_multiply(_TURN_Q, r[:, roots])
        t[:, roots] = t[:, roots] @ _TURN_M.T
        clips.append(Clip(c.name, c.fps, r, t))
    mesh = rig.mesh
    if mesh is not None:
        mesh = Mesh(
            positions=(mesh.positions @ _TURN_M.T).astype(np.float32),
            indices=mesh.indices,
            joints=mesh.joints,
            weights=mesh.weights,
            normals=None if mesh.normals is None else (mesh.normals @ _TURN_M.T).astype(np.float32),
            morph_names=mesh.morph_names,
            expressions=dict(mesh.expressions),
            morph_deltas=None if mesh.morph_deltas is None else (mesh.morph_deltas @ _TURN_M.T).astype(np.float32),
        )
    reference = rig.reference_pose
    if reference is not None:
        reference = np.array(reference, dtype=np.float64)
        reference[roots] = rot.quat_multiply(_TURN_Q, reference[roots])
    return Rig(rig.name, skeleton, clips, mesh, dict(rig.humanoid), reference, rig.source)
