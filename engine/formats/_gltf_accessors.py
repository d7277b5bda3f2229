"""glTF 2.0 containers and accessors: GLB chunks, JSON, buffers, typed accessor reads.

Private helper of :mod:`engine.formats.gltf`. Every fault in the input becomes a
:class:`~engine.errors.RigFormatError`; sizes are checked against the bytes actually present before
anything is allocated, so a malformed file can neither crash the reader nor make it allocate
unbounded memory. References: glTF 2.0 specification §3.6 (accessors, sparse accessors),
§3.11 (accessor data types and normalised integers), §4.4 (GLB container).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import struct
from pathlib import Path
from typing import Any

import numpy as np

from engine.errors import RigFormatError, RigLimitError
from engine.formats.read_limits import DEFAULT_LIMITS, ReadLimits, check_limit, json_depth

__all__ = ["GltfDocument", "parse_document"]

GLB_MAGIC = b"glTF"
CHUNK_JSON = 0x4E4F534A
CHUNK_BIN = 0x004E4942

# glTF §3.6.2.2: componentType -> numpy dtype (little endian).
COMPONENT_DTYPES = {
    5120: np.dtype("<i1"),
    5121: np.dtype("<u1"),
    5122: np.dtype("<i2"),
    5123: np.dtype("<u2"),
    5125: np.dtype("<u4"),
    5126: np.dtype("<f4"),
}
TYPE_SIZES = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


class GltfDocument:
    """A parsed glTF JSON document plus lazy access to its buffers and accessors.

    Attributes:
        path: the file, for error messages.
        json: the top-level JSON object (a ``dict``).
        is_glb: ``True`` for the binary container.
    """

    def __init__(
        self, path: str, doc: dict[str, Any], bin_chunk: bytes | None, base_dir: Path | None, is_glb: bool, limits: ReadLimits = DEFAULT_LIMITS
    ) -> None:
        self.path = path
        self.limits = limits
        self.decoded_bytes = 0  # float64 bytes of every accessor decoded so far (limits.decoded_bytes)
        self.vertices = 0  # mesh vertices decoded so far (limits.vertices)
        self.morph_values = 0  # morph target offsets decoded so far (limits.morph_values)
        self.json = doc
        self.is_glb = is_glb
        self._bin = bin_chunk
        self._base_dir = base_dir
        self._buffers: dict[int, bytes] = {}
        self._accessors: dict[int, np.ndarray] = {}

    # ------------------------------------------------------------------ helpers
    def fail(self, reason: str) -> RigFormatError:
        """A :class:`RigFormatError` for this file (to be raised by the caller)."""
        return RigFormatError(self.path, reason)

    def check_limit(self, what: str, value: int, limit_name: str) -> None:
        """Raise :class:`RigLimitError` when ``value`` is over ``self.limits.<limit_name>``."""
        check_limit(self.path, what, value, limit_name, self.limits)

    def array(self, key: str) -> list[Any]:
        """Top-level array ``key`` (``[]`` when absent); fails if it is not a list."""
        value = self.json.get(key, [])
        if not isinstance(value, list):
            raise self.fail(f"'{key}' must be an array")
        return value

    def item(self, key: str, index: Any) -> dict[str, Any]:
        """Element ``index`` of top-level array ``key``, checked to be an in-range object."""
        items = self.array(key)
        if not _is_int(index) or not 0 <= index < len(items):
            raise self.fail(f"{key} index {index!r} out of range (0..{len(items) - 1})")
        value = items[index]
        if not isinstance(value, dict):
            raise self.fail(f"{key}[{index}] must be an object")
        return value

    # ------------------------------------------------------------------ buffers
    def buffer(self, index: int) -> bytes:
        """The bytes of buffer ``index`` (GLB BIN chunk, data: URI or a file beside the document)."""
        if index in self._buffers:
            return self._buffers[index]
        buf = self.item("buffers", index)
        length = buf.get("byteLength")
        if not _is_int(length) or length < 0:
            raise self.fail(f"buffers[{index}].byteLength must be a non-negative integer")
        uri = buf.get("uri")
        if uri is None:
            if not self.is_glb or index != 0 or self._bin is None:
                raise self.fail(f"buffers[{index}] has no uri and there is no GLB BIN chunk")
            data = self._bin
        elif not isinstance(uri, str):
            raise self.fail(f"buffers[{index}].uri must be a string")
        elif uri.startswith("data:"):
            data = self._decode_data_uri(uri, index)
        else:
            data = self._read_external(uri, index, length)
        if len(data) < length:
            raise self.fail(f"buffers[{index}] declares {length} bytes but only {len(data)} are present")
        self._buffers[index] = data[:length]
        return self._buffers[index]

    def _decode_data_uri(self, uri: str, index: int) -> bytes:
        head, _, payload = uri.partition(",")
        if not head.endswith(";base64"):
            raise self.fail(f"buffers[{index}]: only base64 data URIs are supported")
        try:
            return base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise self.fail(f"buffers[{index}]: invalid base64 data URI ({exc})") from None

    def _read_external(self, uri: str, index: int, length: int) -> bytes:
        """An external buffer: a relative path inside the rig's folder, a regular file, read up to ``length`` bytes.

        Absolute paths, other URI schemes, ``..`` escapes and symlinks leading out of the folder
        are refused (a rig must not make the app read ``/etc/passwd`` as keyframes), and so are
        devices and FIFOs (``/dev/zero`` never ends, a FIFO blocks).
        """
        where = f"buffers[{index}]"
        if self._base_dir is None:
            raise self.fail(f"{where} refers to external file {uri!r} but the document was given as bytes without a path")
        from urllib.parse import unquote, urlsplit

        relative = unquote(uri)
        if urlsplit(uri).scheme or relative.startswith(("/", "\\")) or Path(relative).is_absolute() or ":" in relative.split("/")[0]:
            raise self.fail(f"{where}: uri {uri[:80]!r} is not a relative path inside the rig's folder")
        folder = self._base_dir.resolve()
        target = (folder / relative).resolve()
        if not target.is_relative_to(folder):
            raise self.fail(f"{where}: uri {uri[:80]!r} leads outside the rig's folder {str(folder)!r}")
        try:
            info = os.stat(target)
            if not stat.S_ISREG(info.st_mode):
                raise self.fail(f"{where}: {str(target)!r} is not a regular file (device, FIFO or folder)")
            self.check_limit(f"{where} external file size in bytes", info.st_size, "file_bytes")
            with open(target, "rb") as f:
                return f.read(length)
        except OSError as exc:
            raise self.fail(f"{where}: cannot read external buffer {str(target)!r} ({exc.strerror or exc})") from None

    def buffer_view(self, index: Any) -> tuple[bytes, int, int, int | None]:
        """``(buffer bytes, byteOffset, byteLength, byteStride)`` of a checked bufferView."""
        view = self.item("bufferViews", index)
        offset = view.get("byteOffset", 0)
        length = view.get("byteLength")
        stride = view.get("byteStride")
        if not _is_int(offset) or offset < 0 or not _is_int(length) or length < 0:
            raise self.fail(f"bufferViews[{index}] has an invalid byteOffset/byteLength")
        if stride is not None and (not _is_int(stride) or not 4 <= stride <= 252):
            raise self.fail(f"bufferViews[{index}].byteStride {stride!r} is not in 4..252")
        data = self.buffer(view.get("buffer"))
        if offset + length > len(data):
            raise self.fail(f"bufferViews[{index}] (offset {offset}, length {length}) exceeds its buffer of {len(data)} bytes")
        return data, offset, length, stride

    # ------------------------------------------------------------------ accessors
    def accessor(self, index: Any, *, normalize_ints: bool = True) -> np.ndarray:
        """Accessor ``index`` as a ``(count, components)`` float64 array (sparse applied).

        Normalised integer accessors are mapped to [-1, 1] / [0, 1] (glTF §3.11); other integer
        accessors keep their integer values (as float64, exact up to 2**53).
        """
        key = int(index) if _is_int(index) else -1
        if key in self._accessors and normalize_ints:
            return self._accessors[key]
        acc = self.item("accessors", index)
        ctype = acc.get("componentType")
        atype = acc.get("type")
        count = acc.get("count")
        if ctype not in COMPONENT_DTYPES:
            raise self.fail(f"accessors[{index}].componentType {ctype!r} is not a glTF component type")
        if atype not in TYPE_SIZES:
            raise self.fail(f"accessors[{index}].type {atype!r} is not a glTF accessor type")
        if not _is_int(count) or count < 1:
            raise self.fail(f"accessors[{index}].count must be a positive integer")
        dtype = COMPONENT_DTYPES[ctype]
        ncomp = TYPE_SIZES[atype]
        if atype in ("MAT2", "MAT3") and dtype.itemsize < 4:
            raise self.fail(f"accessors[{index}]: padded {atype} matrices of 8/16-bit components are not supported")
        if "bufferView" in acc:
            raw = self._read_strided(acc, index, dtype, ncomp, count)  # checks the bytes are present first
            self._count_decoded(index, count, atype, ncomp)
        else:
            # Zero-filled: costs no file bytes, so the decoded-bytes budget is checked before allocating.
            self._count_decoded(index, count, atype, ncomp)
            raw = np.zeros((count, ncomp), dtype=dtype)
        if "sparse" in acc:
            raw = self._apply_sparse(acc["sparse"], index, raw, dtype, ncomp, count)
        out = raw.astype(np.float64)
        if acc.get("normalized") and normalize_ints and dtype.kind in "iu":
            info = np.iinfo(dtype)
            out = np.maximum(out / info.max, -1.0)
        if normalize_ints:
            self._accessors[key] = out
        return out

    def _count_decoded(self, index: Any, count: int, atype: str, ncomp: int) -> None:
        self.decoded_bytes += count * ncomp * 8  # decoded as float64
        self.check_limit(f"accessors[{index}] ({count} x {atype}) brings the decoded bytes", self.decoded_bytes, "decoded_bytes")

    def _read_strided(self, acc: dict[str, Any], index: Any, dtype: np.dtype, ncomp: int, count: int) -> np.ndarray:
        data, view_offset, view_length, stride = self.buffer_view(acc["bufferView"])
        offset = acc.get("byteOffset", 0)
        if not _is_int(offset) or offset < 0:
            raise self.fail(f"accessors[{index}].byteOffset must be a non-negative integer")
        elem = dtype.itemsize * ncomp
        stride = stride or elem
        if stride < elem:
            raise self.fail(f"accessors[{index}]: byteStride {stride} is smaller than the element size {elem}")
        needed = offset + stride * (count - 1) + elem
        if needed > view_length:
            raise self.fail(f"accessors[{index}] needs {needed} bytes but its bufferView has {view_length}")
        start = view_offset + offset
        if stride == elem:
            return np.frombuffer(data, dtype=dtype, count=count * ncomp, offset=start).reshape(count, ncomp)
        rows = np.frombuffer(data, dtype=np.uint8, count=needed - offset, offset=start)
        rows = np.lib.stride_tricks.as_strided(rows, shape=(count, elem), strides=(stride, 1))
        return np.ascontiguousarray(rows).view(dtype).reshape(count, ncomp)

    def _apply_sparse(self, sparse: Any, index: Any, raw: np.ndarray, dtype: np.dtype, ncomp: int, count: int) -> np.ndarray:
        # glTF §3.6.2.3: sparse values replace the elements at the listed indices.
        if not isinstance(sparse, dict) or not isinstance(sparse.get("indices"), dict) or not isinstance(sparse.get("values"), dict):
            raise self.fail(f"accessors[{index}].sparse must have 'indices' and 'values' objects")
        n = sparse.get("count")
        if not _is_int(n) or not 1 <= n <= count:
            raise self.fail(f"accessors[{index}].sparse.count {n!r} is not in 1..{count}")
        ind, val = sparse["indices"], sparse["values"]
        itype = COMPONENT_DTYPES.get(ind.get("componentType"))
        if itype is None or itype.kind != "u":
            raise self.fail(f"accessors[{index}].sparse.indices.componentType must be an unsigned integer type")
        idx = self._read_strided({"bufferView": ind.get("bufferView"), "byteOffset": ind.get("byteOffset", 0)}, index, itype, 1, n)[:, 0]
        values = self._read_strided({"bufferView": val.get("bufferView"), "byteOffset": val.get("byteOffset", 0)}, index, dtype, ncomp, n)
        if idx.size and int(idx.max()) >= count:
            raise self.fail(f"accessors[{index}].sparse index {int(idx.max())} is out of range (count {count})")
        out = np.array(raw, copy=True)
        out[idx.astype(np.int64)] = values
        return out


def parse_document(path: str, data: bytes, base_dir: Path | None, limits: ReadLimits = DEFAULT_LIMITS) -> GltfDocument:
    """Parse GLB or JSON glTF bytes into a :class:`GltfDocument` (buffers stay lazy).

    Args:
        path: the file name, for error messages.
        data: the whole file.
        base_dir: folder for external buffer URIs (``None``: external URIs are an error).
        limits: the resource limits in force.

    Raises:
        RigFormatError: bad GLB header or chunk lengths, invalid JSON, unsupported version;
            :class:`RigLimitError` for a file over ``limits.file_bytes`` or JSON nested deeper
            than ``limits.json_depth``.
    """
    check_limit(path, "file size in bytes", len(data), "file_bytes", limits)
    if data[:4] == GLB_MAGIC:
        doc, bin_chunk = _parse_glb(path, data)
        is_glb = True
    else:
        doc, bin_chunk, is_glb = _parse_json(path, data), None, False
    check_limit(path, "JSON nesting depth", json_depth(doc), "json_depth", limits)
    asset = doc.get("asset")
    version = asset.get("version") if isinstance(asset, dict) else None
    if isinstance(version, str) and not version.startswith("2."):
        raise RigFormatError(path, f"glTF version {version!r} is not supported (only 2.x)")
    return GltfDocument(path, doc, bin_chunk, base_dir, is_glb, limits)


def _parse_glb(path: str, data: bytes) -> tuple[dict[str, Any], bytes | None]:
    # glTF §4.4: 12-byte header (magic, version, length), then chunks (length, type, data).
    if len(data) < 20:
        raise RigFormatError(path, f"GLB file is {len(data)} bytes, shorter than a header and one chunk header")
    _, version, total = struct.unpack_from("<4sII", data, 0)
    if version != 2:
        raise RigFormatError(path, f"GLB container version {version} is not supported (only 2)")
    if total > len(data) or total < 20:
        raise RigFormatError(path, f"GLB header declares {total} bytes but the file has {len(data)}")
    pos = 12
    json_bytes: bytes | None = None
    bin_chunk: bytes | None = None
    while pos + 8 <= total:
        length, ctype = struct.unpack_from("<II", data, pos)
        pos += 8
        if pos + length > total:
            raise RigFormatError(path, f"GLB chunk at byte {pos - 8} declares {length} bytes but only {total - pos} remain")
        chunk = data[pos : pos + length]
        pos += length
        if json_bytes is None:
            if ctype != CHUNK_JSON:
                raise RigFormatError(path, "the first GLB chunk is not JSON")
            json_bytes = chunk
        elif ctype == CHUNK_BIN and bin_chunk is None:
            bin_chunk = chunk
    if json_bytes is None:
        raise RigFormatError(path, "GLB file has no JSON chunk")
    return _parse_json(path, json_bytes), bin_chunk


def _parse_json(path: str, data: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(bytes(data).decode("utf-8-sig").rstrip(" \x00"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise RigFormatError(path, f"invalid glTF JSON ({type(exc).__name__}: {str(exc)[:120]})") from None
    except RecursionError:
        raise RigLimitError(path, "JSON nested too deeply to parse (over the json_depth limit)", limit="json_depth") from None
    if not isinstance(doc, dict):
        raise RigFormatError(path, "glTF JSON must be an object")
    return doc


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
