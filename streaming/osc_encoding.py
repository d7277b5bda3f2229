"""Pure OSC 1.0 encoders: ``encode_*(...) -> bytes``, no state, no sockets (STYLE rule 12).

Spec: "The Open Sound Control 1.0 Specification", opensoundcontrol.org/spec-1_0 (cited as OSC 1.0
below). Only the argument types VMC needs are supported: ``i`` int32, ``f`` float32, ``s`` string.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence

import numpy as np

from engine.errors import AnyRigError

__all__ = [
    "OscEncodeError",
    "IMMEDIATELY",
    "encode_string",
    "encode_int32",
    "encode_float32",
    "encode_type_tags",
    "encode_message",
    "encode_named_float_messages",
    "encode_timetag",
    "encode_bundle",
    "unix_to_ntp",
    "split_into_bundles",
]

# OSC 1.0, "OSC Time Tags": the special value 0x00000000_00000001 means "immediately".
IMMEDIATELY = 1
# OSC time tags are NTP timestamps (RFC 5905): seconds since 1900-01-01; Unix time starts 70 years
# (17 of them leap years) later.
_NTP_UNIX_OFFSET_S = 2_208_988_800
_INT32_MIN, _INT32_MAX = -(2**31), 2**31 - 1


class OscEncodeError(AnyRigError, ValueError):
    """A value that cannot be written as OSC: names the argument and the reason."""


def encode_string(value: str) -> bytes:
    """OSC-string: UTF-8 bytes, then 1 to 4 NUL bytes so the total is a multiple of 4.

    OSC 1.0, "OSC-string": "a sequence of non-null ASCII characters followed by a null, followed by
    0-3 additional null characters to make the total number of bits a multiple of 32". VMC sends
    UTF-8 (VMC.md §1), which keeps ASCII unchanged.

    Raises:
        OscEncodeError: the string contains a NUL character.
    """
    data = value.encode("utf-8")
    if b"\x00" in data:
        raise OscEncodeError(f"OSC string {value!r} contains a NUL character")
    return data + b"\x00" * (4 - len(data) % 4)


def encode_int32(value: int) -> bytes:
    """``int32``: 32-bit big-endian two's complement (OSC 1.0, "Atomic Data Types").

    Raises:
        OscEncodeError: ``value`` does not fit in 32 bits.
    """
    if not _INT32_MIN <= int(value) <= _INT32_MAX:
        raise OscEncodeError(f"OSC int32 out of range: {value}")
    return struct.pack(">i", int(value))


def encode_float32(value: float) -> bytes:
    """``float32``: 32-bit big-endian IEEE 754 (OSC 1.0, "Atomic Data Types")."""
    return struct.pack(">f", float(value))


def _tag(value: object) -> str:
    # bool is an int subclass; OSC 1.0 has T/F for it, which VMC never uses: refuse rather than guess.
    if isinstance(value, (bool, np.bool_)):
        raise OscEncodeError(f"bool argument {value!r}: pass an int (VMC uses int32 flags)")
    if isinstance(value, (int, np.integer)):
        return "i"
    if isinstance(value, (float, np.floating)):
        return "f"
    if isinstance(value, str):
        return "s"
    raise OscEncodeError(f"unsupported OSC argument type {type(value).__name__} ({value!r}); use int, float or str")


def encode_type_tags(tags: str) -> bytes:
    """OSC Type Tag String: ``","`` followed by one character per argument, padded as an OSC-string.

    OSC 1.0, "OSC Type Tag String": "a comma character followed by a sequence of characters
    corresponding exactly to the sequence of OSC Arguments".
    """
    return encode_string("," + tags)


def encode_message(address: str, *args: int | float | str) -> bytes:
    """One OSC message: address pattern, type tag string, then the arguments in order.

    OSC 1.0, "OSC Messages": "An OSC message consists of an OSC Address Pattern followed by an OSC
    Type Tag String followed by zero or more OSC Arguments". Python ``int`` -> ``i`` (int32),
    ``float`` -> ``f`` (float32), ``str`` -> ``s``; numpy scalars follow their kind.

    Raises:
        OscEncodeError: the address does not start with ``/`` (OSC 1.0, "OSC Address Patterns"), or
            an argument has an unsupported type or range.
    """
    if not address.startswith("/"):
        raise OscEncodeError(f"OSC address must start with '/': {address!r}")
    tags = "".join(_tag(a) for a in args)
    parts = [encode_string(address), encode_type_tags(tags)]
    # Runs of floats are packed in one struct call: a 7-float VMC bone is a single pack.
    i = 0
    while i < len(args):
        tag = tags[i]
        if tag == "f":
            j = i
            while j < len(args) and tags[j] == "f":
                j += 1
            parts.append(struct.pack(f">{j - i}f", *(float(a) for a in args[i:j])))
            i = j
            continue
        parts.append(encode_int32(args[i]) if tag == "i" else encode_string(args[i]))  # type: ignore[arg-type]
        i += 1
    return b"".join(parts)


def encode_named_float_messages(address: str, names: Sequence[str], values: np.ndarray) -> list[bytes]:
    """``N`` messages ``address s name f v0 ... f v{K-1}``, one per row: the same bytes as
    ``encode_message(address, name, *row)`` (a test checks it), with the floats packed in one step.

    Args:
        address: OSC address of every message.
        names: ``N`` strings, the first argument of each message.
        values: ``(N, K)`` numbers, written as big-endian float32.
    """
    values = np.asarray(values)
    N, K = values.shape
    if len(names) != N:
        raise OscEncodeError(f"{len(names)} names for {N} rows of values")
    if not address.startswith("/"):
        raise OscEncodeError(f"OSC address must start with '/': {address!r}")
    head = encode_string(address) + encode_type_tags("s" + "f" * K)
    rows = np.ascontiguousarray(values, dtype=">f4").tobytes()  # OSC 1.0: float32 big-endian
    size = 4 * K
    return [head + encode_string(n) + rows[i * size : (i + 1) * size] for i, n in enumerate(names)]


def unix_to_ntp(unix_seconds: float) -> int:
    """The 64-bit NTP timestamp (32.32 fixed point, seconds since 1900) of a Unix time."""
    seconds = int(unix_seconds // 1) + _NTP_UNIX_OFFSET_S
    fraction = int(round((unix_seconds % 1) * 2**32))
    if fraction == 2**32:  # rounding carried into the seconds
        seconds, fraction = seconds + 1, 0
    return ((seconds & 0xFFFFFFFF) << 32) | fraction


def encode_timetag(ntp: int) -> bytes:
    """OSC Time Tag: 64-bit big-endian NTP fixed point, 32 bits of seconds since 1900 then 32 bits
    of fraction (OSC 1.0, "OSC Time Tags"); ``IMMEDIATELY`` (1) means "now"."""
    if not 0 <= ntp < 2**64:
        raise OscEncodeError(f"OSC time tag out of range: {ntp}")
    return struct.pack(">Q", ntp)


def encode_bundle(elements: Iterable[bytes], timetag: int = IMMEDIATELY) -> bytes:
    """OSC bundle of already-encoded messages (or nested bundles).

    OSC 1.0, "OSC Bundles": the OSC-string ``"#bundle"``, an OSC Time Tag, then zero or more
    elements, each an int32 size (a multiple of 4) followed by that many bytes of content.

    Raises:
        OscEncodeError: an element's size is not a multiple of 4.
    """
    parts = [encode_string("#bundle"), encode_timetag(timetag)]
    for element in elements:
        if len(element) % 4:
            raise OscEncodeError(f"OSC bundle element of {len(element)} bytes is not a multiple of 4")
        parts.append(struct.pack(">i", len(element)))
        parts.append(element)
    return b"".join(parts)


def split_into_bundles(elements: Sequence[bytes], timetag: int, max_bytes: int) -> list[bytes]:
    """Bundles of ``elements`` (in order), each at most ``max_bytes`` long where possible.

    A single element larger than the limit gets a bundle of its own. Used to keep datagrams under
    the platform's UDP limit (macOS defaults to 9216 bytes per datagram).
    """
    header = 16  # "#bundle\0" + 8-byte time tag
    bundles: list[bytes] = []
    current: list[bytes] = []
    size = header
    for element in elements:
        if current and size + 4 + len(element) > max_bytes:
            bundles.append(encode_bundle(current, timetag))
            current, size = [], header
        current.append(element)
        size += 4 + len(element)
    if current:
        bundles.append(encode_bundle(current, timetag))
    return bundles
