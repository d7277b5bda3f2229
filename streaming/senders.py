"""Non-blocking UDP senders for VMC and plain OSC (DESIGN §7: never block or crash the pipeline).

A sender only sends: it binds nothing itself (the OS picks an ephemeral source port on the first
send, as for any UDP client) and it never reads. Every failure while sending is counted in
:class:`SenderStats` and logged once, never raised:

- ``ECONNREFUSED``: an earlier datagram hit a closed port and the ICMP "port unreachable" is
  reported on a later send (the socket is ``connect``-ed so the OS reports it at all);
- ``EAGAIN``/``EWOULDBLOCK``: the socket buffer is full; the rest of the frame is dropped;
- ``ENETUNREACH``, ``EHOSTUNREACH``, ``EMSGSIZE`` and other ``OSError``: counted as unreachable or
  other; a failed ``connect`` is retried at most every ``RECONNECT_INTERVAL_S``.

Only a host name that cannot be resolved raises, at construction (:class:`SenderAddressError`).
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np

from engine.errors import AnyRigError
from engine.face_hands.expressions import arkit_blendshapes
from engine.skeleton import Skeleton
from streaming.frames import PoseResult
from streaming.osc_encoding import IMMEDIATELY, encode_message, encode_named_float_messages, split_into_bundles, unix_to_ntp
from streaming.vmc import VMC_PORT, BoneLayout, frame_messages
from streaming.vmc_blend import BLEND_NAMINGS, frame_blend_messages

__all__ = ["SenderAddressError", "SenderState", "SenderStats", "VmcSender", "OscSender", "osc_frame_messages"]

logger = logging.getLogger(__name__)

RECONNECT_INTERVAL_S = 1.0
# macOS caps UDP datagrams at 9216 bytes by default (net.inet.udp.maxdgram); bundles are split to stay
# under it. A 55-bone humanoid frame is about 4.5 kB, so it still goes out as one bundle.
MAX_DATAGRAM_BYTES = 8192
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.ENETDOWN, errno.EADDRNOTAVAIL}


class SenderAddressError(AnyRigError):
    """The destination of a sender cannot be resolved: names the host, port and reason."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        self.host, self.port, self.reason = host, port, reason
        super().__init__(f"cannot send to {host}:{port}: {reason}")


class SenderState(Enum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass
class SenderStats:
    """What a sender did; :attr:`UdpSender.stats` hands out copies.

    Attributes:
        frames: frames offered to ``send``.
        frames_sent: frames whose every datagram left the socket.
        datagrams: datagrams sent.
        bytes: bytes sent.
        refused: sends that reported ``ECONNREFUSED`` (nobody listens at the destination port).
        would_block: frames cut short because the socket buffer was full (``EAGAIN``).
        unreachable: sends or connects that failed with no route to the host or network.
        other_errors: any other send failure (e.g. ``EMSGSIZE``), or a frame that could not be encoded.
        last_error: text of the most recent failure.
    """

    frames: int = 0
    frames_sent: int = 0
    datagrams: int = 0
    bytes: int = 0
    refused: int = 0
    would_block: int = 0
    unreachable: int = 0
    other_errors: int = 0
    last_error: str = ""

    @property
    def failures(self) -> int:
        return self.refused + self.would_block + self.unreachable + self.other_errors

    def to_dict(self) -> dict[str, int | str]:
        return {**dataclasses.asdict(self), "failures": self.failures}


class UdpSender:
    """A non-blocking, connected UDP socket that counts its failures instead of raising them.

    Args:
        host: destination host name or address (resolved once, here).
        port: destination port.
        max_datagram: split bundles so datagrams stay under this many bytes.

    Raises:
        SenderAddressError: the host cannot be resolved or the port is out of range.
    """

    def __init__(self, host: str, port: int, *, max_datagram: int = MAX_DATAGRAM_BYTES) -> None:
        if not 0 < int(port) < 65536:
            raise SenderAddressError(host, port, "port must be in 1..65535")
        try:
            family, _, _, _, address = socket.getaddrinfo(host, int(port), type=socket.SOCK_DGRAM)[0]
        except (socket.gaierror, UnicodeError) as error:
            raise SenderAddressError(host, port, str(error)) from error
        self.host, self.port = host, int(port)
        self.max_datagram = int(max_datagram)
        self._address = address
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        self._connected = False
        self._next_connect = 0.0
        self._stats = SenderStats()
        self._lock = threading.Lock()
        self._logged: set[str] = set()
        self._t0_ns: int | None = None  # capture time of the first frame sent
        self.state = SenderState.OPEN

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        """Close the socket (idempotent)."""
        with self._lock:
            if self.state is SenderState.CLOSED:
                return
            self.state = SenderState.CLOSED
            self._sock.close()

    def __enter__(self) -> UdpSender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def stats(self) -> SenderStats:
        """A copy of the counters."""
        with self._lock:
            return dataclasses.replace(self._stats)

    # ------------------------------------------------------------------ sending
    def _failure(self, kind: str, error: BaseException | str) -> None:
        """Count one failure of ``kind`` (a :class:`SenderStats` field) and log its first occurrence."""
        setattr(self._stats, kind, getattr(self._stats, kind) + 1)
        text = str(error)
        self._stats.last_error = text
        if kind not in self._logged:
            self._logged.add(kind)
            logger.warning("%s to %s:%d: %s (counted; further ones are not logged)", kind, self.host, self.port, text)

    def _ensure_connected(self) -> bool:
        if self._connected:
            return True
        now = time.monotonic()
        if now < self._next_connect:
            return False
        try:
            # connect() on UDP sends nothing; it fixes the peer so ICMP errors are reported to us.
            self._sock.connect(self._address)
        except OSError as error:
            self._next_connect = now + RECONNECT_INTERVAL_S
            self._failure("unreachable" if error.errno in _UNREACHABLE else "other_errors", error)
            return False
        self._connected = True
        return True

    def _send_datagrams(self, datagrams: Sequence[bytes]) -> bool:
        """Send one frame's datagrams; ``True`` when all of them left the socket."""
        with self._lock:
            self._stats.frames += 1
            if self.state is SenderState.CLOSED or not self._ensure_connected():
                return False
            ok = True
            for data in datagrams:
                try:
                    sent = self._sock.send(data)
                except BlockingIOError as error:  # EAGAIN: the buffer is full, drop the rest
                    self._failure("would_block", error)
                    return False
                except ConnectionRefusedError as error:  # ICMP port unreachable from an earlier send
                    self._failure("refused", error)
                    ok = False
                    continue
                except OSError as error:
                    self._failure("unreachable" if error.errno in _UNREACHABLE else "other_errors", error)
                    ok = False
                    continue
                self._stats.datagrams += 1
                self._stats.bytes += sent
            self._stats.frames_sent += int(ok)
            return ok

    def _packets(self, messages: list[bytes], bundle: bool, t_capture_ns: int) -> list[bytes]:
        """One frame's datagrams: bundles stamped with the capture time, or one per message."""
        if not bundle:
            return messages
        # OSC bundles carry an NTP time tag (VMC.md §4 "Timestamps"): the wall-clock time of capture.
        wall = time.time() - (time.monotonic_ns() - t_capture_ns) * 1e-9
        timetag = unix_to_ntp(wall) if wall > 0 else IMMEDIATELY
        return split_into_bundles(messages, timetag, self.max_datagram)

    def _relative_seconds(self, t_ns: int) -> float:
        """Seconds from the capture of the first frame this sender sent to ``t_ns`` (monotonic)."""
        if self._t0_ns is None:
            self._t0_ns = t_ns
        return (t_ns - self._t0_ns) * 1e-9

    def _encode_failed(self, error: Exception) -> bool:
        with self._lock:
            self._stats.frames += 1
            self._failure("other_errors", error)
        return False


class VmcSender(UdpSender):
    """Sends each pose as one VMC frame (``/VMC/Ext/OK``, ``T``, ``Root/Pos``, ``Bone/Pos`` per bone).

    ``/VMC/Ext/T`` is the capture time in seconds since the first frame this sender sent; bundles
    carry the capture's wall-clock time as their NTP time tag.

    Args:
        host: receiver (Marionette) host.
        port: receiver port, :data:`streaming.vmc.VMC_PORT` (39539) by default.
        mode: ``"humanoid"`` sends Unity ``HumanBodyBones`` names (VSeeFace, Warudo, EVMC4U...);
            ``"generic"`` sends every joint under the rig's own name (non-humanoid receivers).
        bundle: one OSC bundle per frame (the reference sender's way) or one datagram per message
            (for receivers that cannot parse bundles, e.g. VNyan's "Don't bundle packets").
        humanoid: joint name -> Unity bone name; ``None`` matches joints named like Unity bones.
        normalized: humanoid mode: rotations relative to the rig's T-pose (VRM normalised bones,
            the default) or the rig's own (``False``); see :meth:`BoneLayout.humanoid`.
        facing_turn: humanoid mode: ``(4,)`` the turn the loader applied to the rig (VRM 0.x).
        prefix: generic mode: put before every joint name (``None``: only when names collide with
            Unity's humanoid names; see :meth:`BoneLayout.generic`).
        max_datagram: bundles are split to stay under this many bytes.
        blendshapes: names of the face's ``/VMC/Ext/Blend/Val`` messages, sent after the bones
            with a ``/VMC/Ext/Blend/Apply`` when a pose carries blendshapes: ``"vrm0"`` (default,
            A I U E O Blink_L Blink_R Joy Angry Sorrow Fun), ``"arkit"`` (the 52 Perfect Sync
            names) or ``"off"`` (:mod:`streaming.vmc_blend`).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = VMC_PORT,
        *,
        mode: str = "humanoid",
        bundle: bool = True,
        humanoid: Mapping[str, str] | None = None,
        normalized: bool = True,
        facing_turn: np.ndarray | None = None,
        prefix: str | None = None,
        max_datagram: int = MAX_DATAGRAM_BYTES,
        blendshapes: str = "vrm0",
    ) -> None:
        if mode not in ("humanoid", "generic"):
            raise ValueError(f"VMC mode must be 'humanoid' or 'generic', got {mode!r}")
        if blendshapes not in (*BLEND_NAMINGS, "off"):
            raise ValueError(f"VMC blendshapes must be one of {(*BLEND_NAMINGS, 'off')}, got {blendshapes!r}")
        self.blendshapes = blendshapes
        super().__init__(host, port, max_datagram=max_datagram)
        self.mode, self.bundle = mode, bool(bundle)
        self._humanoid = None if humanoid is None else dict(humanoid)
        self._normalized, self._facing_turn, self._prefix = bool(normalized), facing_turn, prefix
        self._layout_key: object = None
        self._layout: BoneLayout | None = None

    def layout_for(self, rig: Skeleton | Sequence[str]) -> BoneLayout:
        """The bone layout this sender uses for ``rig`` (built once per rig).

        Raises:
            ValueError: the humanoid map does not fit the rig (see :meth:`BoneLayout.humanoid`).
        """
        key = rig if isinstance(rig, Skeleton) else tuple(rig)
        if self._layout is None or self._layout_key is not key and self._layout_key != key:
            if self.mode == "humanoid":
                self._layout = BoneLayout.humanoid(rig, self._humanoid, normalized=self._normalized, facing_turn=self._facing_turn)
            else:
                self._layout = BoneLayout.generic(rig, prefix=self._prefix)
            self._layout_key = key
        return self._layout

    def send(self, result: PoseResult, rig: Skeleton | Sequence[str]) -> bool:
        """Send one pose; never raises.

        Args:
            result: the pose (our frame; converted to Unity's here).
            rig: the rig's skeleton (bone offsets and composition of unmapped joints) or, failing
                that, its joint names (bone positions are then zero).

        Returns:
            ``True`` when every datagram of the frame left the socket.
        """
        try:
            messages = frame_messages(self.layout_for(rig), result, self._relative_seconds(result.t_capture_ns))
            if self.blendshapes != "off":
                messages += frame_blend_messages(result.blendshapes, self.blendshapes)
        except (ValueError, TypeError) as error:  # a rig/pose mismatch must not stop the pipeline
            return self._encode_failed(error)
        return self._send_datagrams(self._packets(messages, self.bundle, result.t_capture_ns))


def osc_frame_messages(prefix: str, names: Sequence[str], result: PoseResult, time_s: float) -> list[bytes]:
    """AnyRig's plain OSC schema for one pose, in **our** frame (right-handed, Y up, +Z forward, m).

    - ``{prefix}/frame i index f time_s i joint_count`` (time: capture seconds since the sender's first frame);
    - ``{prefix}/root fff`` root translation, metres;
    - ``{prefix}/joint s name ffff rotation fff position`` per joint: local rotation x y z w (parent
      space, rest included) and world position in metres. Names travel as arguments, so any joint
      name (spaces, ``:``, ``/``) is safe;
    - ``{prefix}/blend s name f value`` per face blendshape (the 52 ARKit names, values in
      ``[0, 1]``), only when the pose carries blendshapes.
    """
    if len(names) != result.num_joints:
        raise ValueError(f"{len(names)} joint names for a pose of {result.num_joints} joints")
    messages = [
        encode_message(f"{prefix}/frame", result.index, float(time_s), result.num_joints),
        encode_message(f"{prefix}/root", *result.root_translation.tolist()),
    ]
    messages += encode_named_float_messages(f"{prefix}/joint", names, np.concatenate([result.rotations, result.positions], axis=1))
    if result.blendshapes is not None:
        shapes = arkit_blendshapes(result.blendshapes)
        messages += encode_named_float_messages(f"{prefix}/blend", list(shapes), np.array([[v] for v in shapes.values()]))
    return messages


class OscSender(UdpSender):
    """Sends each pose as plain OSC messages, one per joint (:func:`osc_frame_messages`).

    Args:
        host: receiver host.
        port: receiver port.
        prefix: address prefix, starting with ``/``.
        bundle: one bundle per frame (split under ``max_datagram``), or one datagram per message.
    """

    def __init__(self, host: str, port: int, prefix: str = "/anyrig", *, bundle: bool = True, max_datagram: int = MAX_DATAGRAM_BYTES) -> None:
        if not prefix.startswith("/") or prefix.endswith("/"):
            raise ValueError(f"OSC prefix must start with '/' and not end with it, got {prefix!r}")
        super().__init__(host, port, max_datagram=max_datagram)
        self.prefix, self.bundle = prefix, bool(bundle)

    def send(self, result: PoseResult, rig: Skeleton | Sequence[str]) -> bool:
        """Send one pose; never raises. ``rig`` gives the joint names (a skeleton or the names)."""
        names = rig.names if isinstance(rig, Skeleton) else rig
        try:
            messages = osc_frame_messages(self.prefix, names, result, self._relative_seconds(result.t_capture_ns))
        except (ValueError, TypeError) as error:
            return self._encode_failed(error)
        return self._send_datagrams(self._packets(messages, self.bundle, result.t_capture_ns))
