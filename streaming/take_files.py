"""Take files: the recorder's journal format, the :class:`Take` container, and .npz/BVH/GLB output.

Journal layout (little-endian; written by :class:`streaming.takes.TakeRecorder`)::

    b"ARTAKE01"  uint32 header_size  header (UTF-8 JSON: format, joint names, skeleton, rig path, fps)
    record * N:  int64 index, int64 t_capture_ns, float64 rotations (J*4) x y z w,
                 float64 root_translation (3), float64 positions (J*3),
                 float64 blendshapes (B; NaN when the pose had none), uint32 crc32(previous bytes)

``B`` is the header's ``"blendshapes"`` count (52, MediaPipe's order; 0 or absent in version-1
journals, which therefore still load). Takes carry the face's blendshapes: ``.npz`` as the arrays
``blendshapes`` ``(T, 52)`` and ``blendshape_names``; ``.glb`` in the animation's
``extras.blendshapes`` (``names``, ``fps``, ``weights`` per clip frame) and, when the rig's mesh has
morph targets named after ARKit's shapes or the VRM 0 presets
(:mod:`engine.face_hands.morph_targets`), as the animation's ``weights`` channel on them too.

Records have a fixed size, so a reader needs only the joint count. A torn last record (short read)
or a corrupt one (CRC mismatch) ends the take: everything before it loads.

The ``.npz`` take stores the raw samples exactly as recorded (float64, capture timestamps), the
joint names, the rig path and, when known, the skeleton. BVH and GLB need one frame rate: the poses
are resampled onto a uniform grid by capture time (:meth:`Take.to_clip`).
"""

from __future__ import annotations

import json
import logging
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.errors import AnyRigError
from engine.perception.face_landmarker import BLENDSHAPE_NAMES
from engine.rig import Clip, Mesh, Rig
from engine.skeleton import Skeleton
from streaming.frames import PoseResult

__all__ = ["FORMATS", "MAGIC", "TakeError", "Take", "journal_header", "journal_record", "load_journal", "save_take", "load_take_npz"]

logger = logging.getLogger(__name__)

MAGIC = b"ARTAKE01"
FORMATS = {".npz": "npz", ".bvh": "bvh", ".glb": "glb"}
_PREFIX = struct.Struct("<qq")  # index, t_capture_ns
_CRC = struct.Struct("<I")
_NPZ_KEYS = ("names", "index", "t_capture_ns", "rotations", "root_translations", "positions", "rig_path", "rig_name", "fps")


class TakeError(AnyRigError):
    """A take that cannot be recorded, read or recovered: names the file and the fault."""

    def __init__(self, path: str | Path, reason: str) -> None:
        self.path, self.reason = str(path), reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(eq=False)
class Take:
    """A recorded take: raw per-pose samples as they came out of the pipeline.

    Attributes:
        names: ``(J,)`` joint names.
        index: ``(T,)`` int64 source frame indices.
        t_capture_ns: ``(T,)`` int64 capture times, ``time.monotonic_ns()`` of the recording process.
        rotations: ``(T, J, 4)`` float64 x y z w local rotations, parent space, rest included.
        root_translations: ``(T, 3)`` float64 metres, joint 0's translation.
        positions: ``(T, J, 3)`` float64 metres, world joint positions.
        skeleton: the rig's skeleton, if it was given to the recorder.
        rig_path: the rig file the take was recorded on ("" if unknown).
        rig_name: name for BVH/GLB output.
        fps: frame rate of BVH/GLB output.
        blendshapes: ``(T, 52)`` float64 face blendshapes (NaN rows: no face on that pose), or
            None when the take has no face data.
    """

    names: tuple[str, ...]
    index: np.ndarray
    t_capture_ns: np.ndarray
    rotations: np.ndarray
    root_translations: np.ndarray
    positions: np.ndarray
    skeleton: Skeleton | None = None
    rig_path: str = ""
    rig_name: str = "take"
    fps: float = 30.0
    blendshapes: np.ndarray | None = None

    def blendshapes_on_grid(self, fps: float | None = None) -> np.ndarray | None:
        """``(F, 52)`` blendshapes on :meth:`to_clip`'s time grid (nearest earlier pose; NaN -> 0), or None."""
        if self.blendshapes is None or not np.isfinite(self.blendshapes).any() or self.num_frames == 0:
            return None
        fps = float(fps or self.fps)
        times = self.times_s()
        grid = np.arange(int(np.floor(times[-1] * fps + 1e-3)) + 1) / fps  # (F,)
        i0 = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, self.num_frames - 1)
        return np.nan_to_num(self.blendshapes[i0], nan=0.0)

    @property
    def num_frames(self) -> int:
        return int(self.index.shape[0])

    def times_s(self) -> np.ndarray:
        """``(T,)`` seconds since the first pose."""
        return (self.t_capture_ns - (self.t_capture_ns[0] if self.num_frames else 0)) * 1e-9

    def to_clip(self, fps: float | None = None, name: str | None = None) -> Clip:
        """The take as a clip sampled every ``1 / fps`` s of capture time.

        Frame ``k`` is at ``k / fps`` s after the first pose, ``k = 0 .. floor(duration * fps)``;
        rotations are slerped (shorter arc) and the root translation is interpolated linearly
        between the two poses around each time, so dropped frames do not speed the motion up.

        Raises:
            TakeError: no skeleton or no frame.
        """
        if self.skeleton is None:
            raise TakeError(self.rig_path or self.rig_name, "the take has no skeleton; only .npz can be written")
        if self.num_frames == 0:
            raise TakeError(self.rig_path or self.rig_name, "the take has no frame")
        fps = float(fps or self.fps)
        times = self.times_s()
        # 1e-3 frame of slack: stamps a few ns short of the grid (33,333,333 ns frames) keep their last frame.
        grid = np.arange(int(np.floor(times[-1] * fps + 1e-3)) + 1) / fps  # (F,)
        i0 = np.clip(np.searchsorted(times, grid, side="right") - 1, 0, self.num_frames - 1)
        i1 = np.minimum(i0 + 1, self.num_frames - 1)
        span = times[i1] - times[i0]
        frac = np.where(span > 0, (grid - times[i0]) / np.where(span > 0, span, 1.0), 0.0).clip(0.0, 1.0)  # (F,)
        rotations = rot.slerp(self.rotations[i0], self.rotations[i1], frac[:, None])  # (F, J, 4)
        root = self.root_translations[i0] + frac[:, None] * (self.root_translations[i1] - self.root_translations[i0])
        translations = np.broadcast_to(self.skeleton.rest_translations, rotations.shape[:2] + (3,)).copy()  # (F, J, 3)
        translations[:, 0] = root
        return Clip(name or self.rig_name, fps, rotations, translations)

    def to_rig(self, fps: float | None = None, *, mesh: Mesh | None = None, humanoid: dict[str, str] | None = None) -> Rig:
        """A rig holding the skeleton and the take as its one clip (with the rig's mesh and humanoid map when given)."""
        clip = self.to_clip(fps)
        return Rig(name=self.rig_name, skeleton=self.skeleton, clips=[clip], mesh=mesh, humanoid=dict(humanoid or {}))  # type: ignore[arg-type]

    def source_rig_parts(self) -> tuple[Mesh | None, dict[str, str]]:
        """The skinned mesh and humanoid map of the rig file the take was recorded on.

        Read from :attr:`rig_path` when that file still exists and holds the same skeleton (names,
        parents, rest pose); otherwise ``(None, {})`` and a log line says why. The humanoid map is
        the file's own (VRM, an AnyRig GLB) or the one found by names and hierarchy.
        """
        if not self.rig_path or self.skeleton is None or not Path(self.rig_path).is_file():
            return None, {}
        from engine.formats.rigio import load_rig
        from engine.retarget.humanoid_names import find_humanoid_bones

        try:
            rig = load_rig(self.rig_path)
        except (AnyRigError, OSError, ValueError) as error:
            logger.warning("take %s: the rig file %s cannot be read (%s); the take is written without its mesh", self.rig_name, self.rig_path, error)
            return None, {}
        sk = rig.skeleton
        if sk.names != self.names or not np.array_equal(sk.parents, self.skeleton.parents) or not np.allclose(
            sk.rest_positions(), self.skeleton.rest_positions(), atol=1e-6 * max(sk.height, 1e-9)
        ):
            logger.warning("take %s: %s no longer holds the recorded skeleton; the take is written without its mesh", self.rig_name, self.rig_path)
            return None, {}
        humanoid = dict(rig.humanoid)
        if not humanoid:
            match = find_humanoid_bones(sk)
            humanoid = dict(match.bones) if match.is_humanoid else {}
        return rig.mesh, humanoid


# --------------------------------------------------------------------------- journal
def journal_header(fmt: str, names: tuple[str, ...], skeleton: Skeleton | None, rig_path: str | None, rig_name: str, fps: float) -> bytes:
    """The journal's magic, header size and JSON header (floats round-trip exactly through JSON)."""
    head: dict[str, object] = {
        "version": 2,
        "format": fmt,
        "names": list(names),
        "rig_path": rig_path or "",
        "rig_name": rig_name,
        "fps": float(fps),
        "created_unix": time.time(),
        "blendshapes": len(BLENDSHAPE_NAMES),
    }
    if skeleton is not None:
        head["skeleton"] = {
            "parents": skeleton.parents.tolist(),
            "rest_translations": skeleton.rest_translations.tolist(),
            "rest_rotations": skeleton.rest_rotations.tolist(),
            "end_site_joints": skeleton.end_site_joints.tolist(),
            "end_site_offsets": skeleton.end_site_offsets.tolist(),
        }
    data = json.dumps(head).encode("utf-8")
    return MAGIC + struct.pack("<I", len(data)) + data


_NO_FACE = np.full(len(BLENDSHAPE_NAMES), np.nan)


def journal_record(result: PoseResult) -> bytes:
    """One fixed-size journal record of ``16 + 8 * (7 J + 3 + 52) + 4`` bytes."""
    blend = _NO_FACE if result.blendshapes is None else result.blendshapes
    body = _PREFIX.pack(result.index, result.t_capture_ns) + np.concatenate(
        [result.rotations.ravel(), result.root_translation, result.positions.ravel(), blend]
    ).astype("<f8").tobytes()
    return body + _CRC.pack(zlib.crc32(body))


def _skeleton_from(names: list[str], data: dict) -> Skeleton:
    return Skeleton(
        names=tuple(names),
        parents=np.array(data["parents"], dtype=np.int64),
        rest_translations=np.array(data["rest_translations"], dtype=np.float64).reshape(-1, 3),
        rest_rotations=np.array(data["rest_rotations"], dtype=np.float64).reshape(-1, 4),
        end_site_joints=np.array(data.get("end_site_joints", []), dtype=np.int64),
        end_site_offsets=np.array(data.get("end_site_offsets", []), dtype=np.float64).reshape(-1, 3),
    )


def load_journal(path: str | Path) -> Take:
    """Read a journal, stopping at the first torn or corrupt record.

    Raises:
        TakeError: not a journal (bad magic) or an unreadable header.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[: len(MAGIC)] != MAGIC or len(data) < len(MAGIC) + 4:
        raise TakeError(path, "not an AnyRig take journal (bad magic)")
    (size,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4 + size
    try:
        head = json.loads(data[len(MAGIC) + 4 : start].decode("utf-8"))
        names = [str(n) for n in head["names"]]
        skeleton = _skeleton_from(names, head["skeleton"]) if "skeleton" in head else None
    except (ValueError, KeyError, TypeError) as error:
        raise TakeError(path, f"unreadable journal header: {error}") from error
    J = len(names)
    B = int(head.get("blendshapes", 0))
    floats = 7 * J + 3 + B
    record = _PREFIX.size + 8 * floats + _CRC.size
    count = max(len(data) - start, 0) // record
    good = 0
    for k in range(count):  # the first bad CRC ends the take (a power loss can leave garbage)
        off = start + k * record
        (crc,) = _CRC.unpack_from(data, off + record - _CRC.size)
        if zlib.crc32(data[off : off + record - _CRC.size]) != crc:
            break
        good += 1
    raw = np.frombuffer(data, dtype=np.uint8, count=good * record, offset=start).reshape(good, record)
    prefix = raw[:, : _PREFIX.size].copy().view("<i8")  # (T, 2)
    values = raw[:, _PREFIX.size : _PREFIX.size + 8 * floats].copy().view("<f8").astype(np.float64)  # (T, 7J+3)
    return Take(
        names=tuple(names),
        index=prefix[:, 0].astype(np.int64),
        t_capture_ns=prefix[:, 1].astype(np.int64),
        rotations=values[:, : 4 * J].reshape(good, J, 4),
        root_translations=values[:, 4 * J : 4 * J + 3].reshape(good, 3),
        positions=values[:, 4 * J + 3 : 7 * J + 3].reshape(good, J, 3),
        skeleton=skeleton,
        rig_path=str(head.get("rig_path", "")),
        rig_name=str(head.get("rig_name", "take")),
        fps=float(head.get("fps", 30.0)),
        blendshapes=values[:, 7 * J + 3 :] if B and np.isfinite(values[:, 7 * J + 3 :]).any() else None,
    )


# --------------------------------------------------------------------------- take files
def save_take(take: Take, path: str | Path) -> None:
    """Write ``take`` as ``.npz`` (raw samples, exact), ``.bvh`` or ``.glb`` (resampled clip).

    A GLB take is the whole character: the skinned mesh and humanoid map of the rig file it was
    recorded on come along (:meth:`Take.source_rig_parts`), so it plays on its own in Blender, a
    glTF viewer or an engine. BVH units follow :func:`engine.formats.bvh.bvh_file_units`.

    BVH uses ``engine.formats.bvh.write_bvh`` and GLB ``engine.formats.gltf_write.write_glb``, imported here so a
    recorder that only writes ``.npz`` never loads them.

    Raises:
        TakeError: unknown suffix, or BVH/GLB without a skeleton or frames.
        ImportError: the BVH/GLB writer is not available.
        OSError: the file cannot be written.
    """
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise TakeError(path, f"unknown take format {path.suffix!r}; use one of {sorted(FORMATS)}")
    if fmt == "npz":
        arrays: dict[str, np.ndarray] = {
            "names": np.array(take.names, dtype=str),
            "index": take.index,
            "t_capture_ns": take.t_capture_ns,
            "rotations": take.rotations,
            "root_translations": take.root_translations,
            "positions": take.positions,
            "rig_path": np.array(take.rig_path),
            "rig_name": np.array(take.rig_name),
            "fps": np.array(take.fps),
        }
        if take.blendshapes is not None:
            arrays |= {"blendshapes": take.blendshapes, "blendshape_names": np.array(BLENDSHAPE_NAMES, dtype=str)}
        if take.skeleton is not None:
            sk = take.skeleton
            arrays |= {
                "parents": sk.parents,
                "rest_translations": sk.rest_translations,
                "rest_rotations": sk.rest_rotations,
                "end_site_joints": sk.end_site_joints,
                "end_site_offsets": sk.end_site_offsets,
            }
        with open(path, "wb") as f:  # a file object: np.savez would append ".npz" to other names
            np.savez(f, **arrays)
        return
    if fmt == "bvh":
        rig = take.to_rig()
        from engine.formats.bvh import write_bvh

        write_bvh(rig, path, clip=rig.clips[0])
    else:
        from engine.formats.gltf_write import write_glb

        mesh, humanoid = take.source_rig_parts()
        rig = take.to_rig(mesh=mesh, humanoid=humanoid)  # the rig holds exactly the take's clip
        weights = take.blendshapes_on_grid()
        morphs = None
        if weights is not None and mesh is not None and mesh.morph_names:
            from engine.face_hands.morph_targets import drives_morph_targets, morph_target_weights

            if drives_morph_targets(mesh.morph_names, mesh.expressions):  # the face drives the rig's own blendshapes
                morphs = {rig.clips[0].name: morph_target_weights(weights, mesh.morph_names, mesh.expressions)}
        write_glb(rig, path, morph_weights=morphs)
        if weights is not None:
            _add_animation_extras(path, {"blendshapes": {"names": list(BLENDSHAPE_NAMES), "fps": float(take.fps),
                                                         "weights": np.round(weights, 4).tolist()}})


def _add_animation_extras(path: Path, extras: dict) -> None:
    """Merge ``extras`` into the first animation's ``extras`` of the .glb at ``path`` (rewritten in place).

    GLB layout (glTF 2.0 §4.4): 12-byte header, a JSON chunk padded with spaces to 4 bytes, then the
    BIN chunk, which is copied unchanged.
    """
    data = path.read_bytes()
    magic, version, _ = struct.unpack_from("<4sII", data, 0)
    json_len, json_type = struct.unpack_from("<I4s", data, 12)
    doc = json.loads(data[20 : 20 + json_len].decode("utf-8"))
    rest = data[20 + json_len :]
    if doc.get("animations"):
        doc["animations"][0].setdefault("extras", {}).update(extras)
    text = json.dumps(doc, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    body = struct.pack("<I4s", len(text), json_type) + text + rest
    path.write_bytes(struct.pack("<4sII", magic, version, 12 + len(body)) + body)


def load_take_npz(path: str | Path) -> Take:
    """Read a ``.npz`` take written by :func:`save_take` (no pickles).

    Raises:
        TakeError: a required array is missing (the message lists them).
    """
    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        missing = [k for k in _NPZ_KEYS if k not in z.files]
        if missing:
            raise TakeError(path, f"not a take file: missing {', '.join(missing)}")
        names = tuple(str(n) for n in z["names"])
        skeleton = None
        if "parents" in z.files:
            keys = ("parents", "rest_translations", "rest_rotations", "end_site_joints", "end_site_offsets")
            skeleton = _skeleton_from(list(names), {k: z[k] for k in keys if k in z.files})
        return Take(
            names=names,
            index=z["index"],
            t_capture_ns=z["t_capture_ns"],
            rotations=z["rotations"],
            root_translations=z["root_translations"],
            positions=z["positions"],
            skeleton=skeleton,
            rig_path=str(z["rig_path"]),
            rig_name=str(z["rig_name"]),
            fps=float(z["fps"]),
            blendshapes=z["blendshapes"] if "blendshapes" in z.files else None,
        )
