"""Read glTF 2.0 (.gltf, .glb) and VRM (.vrm) files into a :class:`~engine.rig.Rig`.

What is read:
- **Skeleton**: the joints of one skin (``skin=None``: the skin with the most joints) plus every
  node between a joint and its nearest joint ancestor (and the common ancestor of several
  top-level joints), ordered parents first. Files without skins use every node.
- **Rest pose**: the node transforms (TRS or matrix). Nodes above the skeleton root (an
  "Armature" node with a rotation and a 0.01 scale, say) are baked into the root. The skeleton
  has no scale, so accumulated scale is baked into the translations: forward kinematics of the rest
  pose and of every clip frame gives exactly the glTF world positions. Rotations are the polar
  (nearest rotation) part of each world matrix, exact for uniform scale and approximate for
  non-uniform scale (noted in ``rig.source.notes``).
- **Inverse bind matrices** are compared with the rest pose; if the file was bound in another pose
  the node rest pose is still used and the disagreement is noted.
- **Animations**: translation / rotation / scale channels on skeleton nodes (others ignored),
  LINEAR / STEP / CUBICSPLINE, sparse and normalised-integer outputs, resampled to ``fps``
  (default: inferred per animation from the key intervals). One :class:`~engine.rig.Clip` each.
- **Mesh**: the skinned primitives whose skin's joints lie in the skeleton, merged and skinned to
  the rest pose; Draco-compressed or undecodable primitives are skipped with a note.
- **VRM**: the humanoid map (Unity bone names) and, for VRM 0.x, a 180-degree turn so the rig
  faces +Z (see :mod:`engine.formats.vrm`).

Every fault in the file raises :class:`~engine.errors.RigFormatError`. Units: metres, Y up, +Z
forward (glTF's own frame), so no conversion is applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine import rotations as rot
from engine.formats import vrm
from engine.formats._gltf_accessors import GltfDocument, _is_int, parse_document
from engine.formats._gltf_animation import infer_fps, sample
from engine.formats._gltf_mesh import build_mesh, inverse_bind_matrices, morph_target_name
from engine.formats._gltf_nodes import NodeGraph, bake_uniform_scale, locals_from_world, skeleton_nodes, trs_matrix
from engine.errors import RigFormatError
from engine.formats.read_limits import DEFAULT_LIMITS, ReadLimits, check_limit
from engine.rig import Clip, Rig, SourceInfo
from engine.skeleton import Skeleton

__all__ = ["read_gltf"]

IBM_TOLERANCE = 1e-3  # fraction of the rig height
PATHS = {"translation": 3, "rotation": 4, "scale": 3}
INTERPOLATIONS = ("LINEAR", "STEP", "CUBICSPLINE")
FRAMES_PER_BLOCK_VALUES = 65_536  # frames x joints per block of the non-uniform-scale path (bounds its temporaries)


def read_gltf(
    path: str | Path, *, data: bytes | None = None, fps: float | None = None, skin: int | None = None, limits: ReadLimits = DEFAULT_LIMITS
) -> Rig:
    """Read a .glb, .gltf or .vrm file.

    Args:
        path: the file; with ``data`` given it only names the file (and locates external buffers).
        data: the file's bytes, if already in memory.
        fps: resample every animation to this rate (default: inferred per animation, else 30).
        skin: index of the skin that defines the skeleton (default: the one with most joints).
        limits: resource limits (:mod:`engine.formats.read_limits`).

    Returns:
        The rig; ``rig.source`` has ``format`` ``"glb"``, ``"gltf"`` or ``"vrm"``, units ``"m"``,
        up axis ``"Y"`` and notes about anything approximated or skipped.

    Raises:
        RigFormatError: the file is missing, truncated or not valid glTF 2.0;
            :class:`~engine.errors.RigLimitError` when it is over one of ``limits``.
        ValueError: ``fps`` is not a positive number.
    """
    path = Path(path)
    if data is None:
        try:
            if not path.is_file():  # a FIFO or device would block or never end
                raise RigFormatError(path, "not a regular file" if path.exists() else "cannot read file (file not found)")
            check_limit(path, "file size in bytes", path.stat().st_size, "file_bytes", limits)
            data = path.read_bytes()
        except OSError as exc:
            raise RigFormatError(path, f"cannot read file ({exc.strerror or exc})") from None
    if fps is not None and not (np.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be positive, got {fps}")
    doc = parse_document(str(path), bytes(data), path.parent, limits)
    try:
        return _Reader(doc, path, fps, skin).read()
    except RigFormatError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OverflowError, ZeroDivisionError, np.linalg.LinAlgError) as exc:
        # Structurally odd JSON that slipped past the explicit checks (a string where a number is
        # expected, say): still a format error of this file, never a crash.
        raise RigFormatError(path, f"malformed glTF ({type(exc).__name__}: {str(exc)[:160]})") from None


class _Reader:
    """One read: holds the document, the chosen skeleton nodes and the notes."""

    def __init__(self, doc: GltfDocument, path: Path, fps: float | None, skin: int | None) -> None:
        self.doc = doc
        self.path = path
        self.fps = fps
        self.skin_index = skin
        self.notes: list[str] = []

    def read(self) -> Rig:
        doc = self.doc
        graph = NodeGraph.from_document(doc)
        if len(graph.parents) == 0:
            raise doc.fail("the file has no nodes")
        skins = doc.array("skins")
        joints = self._skin_joints(skins, len(graph.parents))
        nodes = skeleton_nodes(graph.parents, joints) if joints else self._all_nodes(graph)
        doc.check_limit("skeleton joints", len(nodes), "joints")
        self.nodes = np.array(nodes, dtype=np.int64)
        joint_set = set(joints)
        extra = [graph.names[n] for n in nodes if joints and n not in joint_set]
        if extra:
            self.notes.append(f"{len(extra)} non-joint nodes added to connect the skin's joints (e.g. {extra[:3]})")
        slot = {n: j for j, n in enumerate(nodes)}
        self.parents = np.array([slot.get(int(graph.parents[n]), -1) for n in nodes], dtype=np.int64)
        self.graph = graph
        world = graph.world_matrices()  # (N, 4, 4) rest, scene frame
        bad = np.flatnonzero(~np.isfinite(world).all(axis=(1, 2)))
        if len(bad):  # checked before any SVD: LAPACK may never return on infinities
            raise doc.fail(f"the rest world matrix of node {graph.names[bad[0]]!r} overflows (non-finite); {len(bad)} nodes affected")
        self._check_scale(world[self.nodes])
        rest_r, rest_t = locals_from_world(self.parents, world[self.nodes])
        end_joints, end_offsets = self._end_sites(world, slot)
        skeleton = Skeleton(tuple(graph.names[n] for n in nodes), self.parents, rest_t, rest_r, end_joints, end_offsets)
        # Nodes above each skeleton root: their (static) world matrix, baked into the root.
        self.above = np.array([world[graph.parents[n]] if graph.parents[n] >= 0 else np.eye(4) for n in nodes])
        clips = self._clips(skeleton)
        mesh = self._mesh(world, skins, slot, skeleton) if skins else None
        fmt = "glb" if doc.is_glb else "gltf"
        version = vrm.vrm_version(doc.json)
        if mesh is not None and mesh.morph_names and version is not None:
            meshes = doc.array("meshes")
            found = vrm.expressions(doc.json, lambda m, k: morph_target_name(meshes[m], m, k))
            mesh.expressions = {p: t for p, t in ((p, tuple(x for x in t if x[0] in mesh.morph_names)) for p, t in found.items()) if t}
        if version is not None or self.path.suffix.lower() == ".vrm":
            fmt = "vrm"
        rig = Rig(
            name=self.path.stem,
            skeleton=skeleton,
            clips=clips,
            mesh=mesh,
            humanoid=vrm.humanoid_map(doc.json, {n: graph.names[n] for n in nodes}, self.notes) or self._written_humanoid(skins, skeleton),
            source=SourceInfo(path=str(self.path), format=fmt, units="m", unit_scale=1.0, up_axis="Y", notes=self.notes),
        )
        if version == 0:
            rig = vrm.turn_around_y(rig)
            rig.source.turned_y_deg = 180.0
            self.notes.append("VRM 0.x model faces -Z: rig turned 180 degrees about Y to face +Z")
        return rig

    # ------------------------------------------------------------------ skeleton
    def _skin_joints(self, skins: list[Any], n_nodes: int) -> list[int]:
        if not skins:
            if self.skin_index is not None:
                raise self.doc.fail(f"skin {self.skin_index} requested but the file has no skins")
            self.notes.append("no skins: every node is a joint")
            return []
        for i in range(len(skins)):
            joints = self.doc.item("skins", i).get("joints")
            if not isinstance(joints, list) or not joints:
                raise self.doc.fail(f"skins[{i}].joints must be a non-empty array")
            if not all(_is_int(j) and 0 <= j < n_nodes for j in joints) or len(set(joints)) != len(joints):
                raise self.doc.fail(f"skins[{i}].joints has invalid or repeated node indices")
        if self.skin_index is None:
            self.skin_index = max(range(len(skins)), key=lambda i: (len(skins[i]["joints"]), -i))
        elif not 0 <= self.skin_index < len(skins):
            raise self.doc.fail(f"skin {self.skin_index} requested but the file has {len(skins)} skins")
        if len(skins) > 1:
            self.notes.append(f"{len(skins)} skins: skeleton from skin {self.skin_index}")
        return list(skins[self.skin_index]["joints"])

    def _written_humanoid(self, skins: list[Any], skeleton: Skeleton) -> dict[str, str]:
        """The humanoid map engine.formats.gltf_write stores in ``skins[i].extras.humanoid``, if any."""
        extras = skins[self.skin_index].get("extras") if skins else None
        mapping = extras.get("humanoid") if isinstance(extras, dict) else None
        if not isinstance(mapping, dict):
            return {}
        return {k: v for k, v in mapping.items() if isinstance(k, str) and isinstance(v, str) and v in skeleton.names}

    def _end_sites(self, world: np.ndarray, slot: dict[int, int]) -> tuple[np.ndarray, np.ndarray]:
        """End sites: leaf nodes marked ``extras.end_site`` (engine.formats.gltf_write) under a joint.

        Returns ``(joint indices (E,), offsets (E, 3))``, offsets in the joint's (scale-free) frame.
        """
        joints, offsets = [], []
        for n, node in enumerate(self.doc.array("nodes")):
            extras = node.get("extras") if isinstance(node, dict) else None
            p = int(self.graph.parents[n])
            if isinstance(extras, dict) and extras.get("end_site") is True and n not in slot and p in slot:
                r = rot.orthonormalize(world[p, :3, :3])
                joints.append(slot[p])
                offsets.append(r.T @ (world[n, :3, 3] - world[p, :3, 3]))
        return np.array(joints, dtype=np.int64), np.array(offsets, dtype=np.float64).reshape(-1, 3)

    def _all_nodes(self, graph: NodeGraph) -> list[int]:
        return skeleton_nodes(graph.parents, list(range(len(graph.parents))))

    def _check_scale(self, world: np.ndarray) -> None:
        sv = np.linalg.svd(world[:, :3, :3], compute_uv=False)  # (J, 3)
        ratio = sv.max(axis=1) / np.maximum(sv.min(axis=1), 1e-12)
        bad = np.flatnonzero(ratio > 1.001)
        if len(bad):
            names = [self.graph.names[self.nodes[j]] for j in bad[:5]]
            self.notes.append(f"non-uniform scale on {len(bad)} joints (e.g. {names}): positions exact, rotations approximated")
        if np.any(np.linalg.det(world[:, :3, :3]) < 0):
            self.notes.append("mirroring (negative) scale in the hierarchy: rotations approximated")

    # ------------------------------------------------------------------ animation
    def _clips(self, skeleton: Skeleton) -> list[Clip]:
        clips: list[Clip] = []
        used: set[str] = set()
        for a, anim in enumerate(self.doc.array("animations")):
            if not isinstance(anim, dict):
                raise self.doc.fail(f"animations[{a}] must be an object")
            name = anim.get("name") if isinstance(anim.get("name"), str) and anim.get("name") else f"animation_{a}"
            base, k = name, 1
            while name in used:
                k += 1
                name = f"{base}_{k}"
            clip = self._clip(a, anim, name)
            if clip is not None:
                used.add(name)
                clips.append(clip)
        return clips

    def _clip(self, a: int, anim: dict[str, Any], name: str) -> Clip | None:
        slot = {int(n): j for j, n in enumerate(self.nodes)}
        channels, samplers = anim.get("channels"), anim.get("samplers")
        if not isinstance(channels, list) or not isinstance(samplers, list):
            raise self.doc.fail(f"animations[{a}] needs channels and samplers arrays")
        tracks: list[tuple[int, str, np.ndarray, np.ndarray, str]] = []
        for c, ch in enumerate(channels):
            target = ch.get("target") if isinstance(ch, dict) else None
            if not isinstance(target, dict):
                raise self.doc.fail(f"animations[{a}].channels[{c}] has no target")
            node, tpath = target.get("node"), target.get("path")
            if not _is_int(node) or node not in slot or tpath not in PATHS:
                continue  # weights, pointer targets and non-skeleton nodes are not part of the rig
            s = ch.get("sampler")
            if not _is_int(s) or not 0 <= s < len(samplers) or not isinstance(samplers[s], dict):
                raise self.doc.fail(f"animations[{a}].channels[{c}] has invalid sampler {s!r}")
            times, values, interp = self._sampler(a, samplers[s], PATHS[tpath])
            tracks.append((slot[node], tpath, times, values, interp))
        if not tracks:
            self.notes.append(f"animation {name!r} skipped: no channels on skeleton joints")
            return None
        extras = anim.get("extras")
        written = extras.get("fps") if isinstance(extras, dict) else None  # set by engine.formats.gltf_write
        if isinstance(written, (int, float)) and not isinstance(written, bool) and 0 < written <= 1000:
            fps = self.fps or float(written)
        else:
            fps = self.fps or infer_fps([t[2] for t in tracks])
        start = min(float(t[2][0]) for t in tracks)
        end = max(float(t[2][-1]) for t in tracks)
        T = int(np.floor((end - start) * fps + 1e-3)) + 1  # tolerance: float32 key times
        what = f"animation {name!r} ({end - start:.6g} s at {fps} fps)"
        self.doc.check_limit(f"{what} frames", T, "frames")
        self.doc.check_limit(f"{what} frames x joints", T * len(self.nodes), "clip_values")
        t = start + np.arange(T) / fps
        J = len(self.nodes)
        trans = np.broadcast_to(self.graph.translations[self.nodes], (T, J, 3)).copy()
        rots = np.broadcast_to(self.graph.rotations[self.nodes], (T, J, 4)).copy()
        scales = np.broadcast_to(self.graph.scales[self.nodes], (T, J, 3)).copy()
        target = {"translation": trans, "rotation": rots, "scale": scales}
        for j, tpath, times, values, interp in tracks:
            target[tpath][:, j] = sample(times, values, interp, t, quaternion=tpath == "rotation")
        if not (np.isfinite(trans).all() and np.isfinite(rots).all() and np.isfinite(scales).all()):
            raise self.doc.fail(f"animation {name!r}: interpolated keys overflow (non-finite)")
        fast = bake_uniform_scale(self.parents, self.above, trans, rots, scales)
        if fast is not None:
            r, tr = fast
        else:
            self.doc.check_limit(f"{what} frames x joints with non-uniform scale", T * len(self.nodes), "nonuniform_clip_values")
            self.notes.append(f"animation {name!r}: non-uniform or negative scale, rotations approximated (positions exact)")
            r, tr = self._locals_by_block(name, trans, rots, scales)
        if not (np.isfinite(r).all() and np.isfinite(tr).all()):
            raise self.doc.fail(f"animation {name!r} produces non-finite transforms")
        return Clip(name, float(fps), r, tr)

    def _locals_by_block(self, name: str, trans: np.ndarray, rots: np.ndarray, scales: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Scale-free locals of a non-uniformly scaled clip, a block of frames at a time.

        Blocks keep the (frames, J, 4, 4) temporaries small; each block's world matrices are
        checked finite before the SVD of :func:`locals_from_world`.
        """
        T, J = trans.shape[:2]
        step = max(1, FRAMES_PER_BLOCK_VALUES // J)
        r, tr = np.empty((T, J, 4)), np.empty((T, J, 3))
        for f0 in range(0, T, step):
            f1 = min(T, f0 + step)
            local = trs_matrix(trans[f0:f1], rots[f0:f1], scales[f0:f1])  # (F, J, 4, 4)
            world = np.empty_like(local)
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is checked just below
                for j, p in enumerate(self.parents):
                    world[:, j] = (self.above[j] if p < 0 else world[:, p]) @ local[:, j]
            if not np.isfinite(world).all():
                raise self.doc.fail(f"animation {name!r}: world matrices overflow (non-finite) from frame {f0}")
            r[f0:f1], tr[f0:f1] = locals_from_world(self.parents, world)
        return r, tr

    def _sampler(self, a: int, sampler: dict[str, Any], width: int) -> tuple[np.ndarray, np.ndarray, str]:
        interp = sampler.get("interpolation", "LINEAR")
        if interp not in INTERPOLATIONS:
            raise self.doc.fail(f"animations[{a}]: unknown interpolation {interp!r}")
        times = self.doc.accessor(sampler.get("input"))
        values = self.doc.accessor(sampler.get("output"))
        if times.shape[1] != 1:
            raise self.doc.fail(f"animations[{a}]: sampler input must be SCALAR")
        times = times[:, 0]
        self.doc.check_limit(f"animations[{a}] sampler keys", len(times), "keys")
        if not np.isfinite(times).all() or np.any(np.diff(times) < 0):
            raise self.doc.fail(f"animations[{a}]: key times must be finite and increasing")
        per_key = 3 if interp == "CUBICSPLINE" else 1
        if values.shape != (len(times) * per_key, width):
            raise self.doc.fail(
                f"animations[{a}]: sampler output has {values.shape[0]} x {values.shape[1]} values for {len(times)} {interp} keys of width {width}"
            )
        if not np.isfinite(values).all():
            raise self.doc.fail(f"animations[{a}]: sampler output contains non-finite values")
        return times, values, interp

    # ------------------------------------------------------------------ mesh and bind pose
    def _mesh(self, world: np.ndarray, skins: list[Any], slot: dict[int, int], skeleton: Skeleton):
        height = skeleton.height
        chosen = skins[self.skin_index]["joints"]
        ibm = inverse_bind_matrices(self.doc, skins[self.skin_index], len(chosen))
        self._check_bind(world[chosen], ibm, chosen, height)
        pairs: list[tuple[int, np.ndarray, np.ndarray]] = []
        for n, node in enumerate(self.doc.array("nodes")):
            if not isinstance(node, dict) or not _is_int(node.get("mesh")):
                continue
            s = node.get("skin")
            if _is_int(s) and 0 <= s < len(skins) and all(j in slot for j in skins[s]["joints"]):
                try:
                    mats = world[skins[s]["joints"]] @ inverse_bind_matrices(self.doc, skins[s], len(skins[s]["joints"]))
                except RigFormatError as exc:
                    self.notes.append(f"mesh of node {self.graph.names[n]!r} skipped: {exc.reason}")
                    continue
                pairs.append((node["mesh"], mats, np.array([slot[j] for j in skins[s]["joints"]], dtype=np.int64)))
            elif s is None:
                # A rigid mesh under a joint (RobotExpressive's body parts) moves with that joint.
                anc = n
                while anc >= 0 and anc not in slot:
                    anc = int(self.graph.parents[anc])
                if anc >= 0:
                    pairs.append((node["mesh"], world[n][None], np.array([slot[anc]], dtype=np.int64)))
        return build_mesh(self.doc, pairs, self.notes) if pairs else None

    def _check_bind(self, world: np.ndarray, ibm: np.ndarray, joints: list[int], height: float) -> None:
        """Note when the inverse bind matrices disagree with the node rest pose.

        The bind pose is compared up to one global transform (taken at the top-most joint),
        because exporters often express the bind matrices in the mesh node's or the armature's
        space (a 100x scale, say), which glTF skinning allows.
        """
        try:
            bind = np.linalg.inv(ibm)  # (J, 4, 4) joint matrices at bind time, bind space
        except np.linalg.LinAlgError:
            self.notes.append("inverse bind matrices are singular; node rest pose used")
            return
        depth = _depths(self.graph.parents)
        k = int(np.argmin(depth[joints]))
        to_world = world[k] @ ibm[k]
        pos_err = np.linalg.norm((to_world @ bind)[:, :3, 3] - world[:, :3, 3], axis=1).max() / height
        if pos_err > IBM_TOLERANCE:
            self.notes.append(
                f"inverse bind matrices disagree with the node rest pose (max joint offset {pos_err:.3g} x height); node rest pose used as rest"
            )


def _depths(parents: np.ndarray) -> np.ndarray:
    """``(N,)`` number of ancestors of every node, in time linear in N (parents acyclic)."""
    depth = np.full(len(parents), -1, dtype=np.int64)
    for i in range(len(parents)):
        path, p = [], i
        while p >= 0 and depth[p] < 0:
            path.append(p)
            p = int(parents[p])
        d = -1 if p < 0 else int(depth[p])
        for n in reversed(path):
            d += 1
            depth[n] = d
    return depth
