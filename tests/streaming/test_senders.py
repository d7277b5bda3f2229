"""Senders against a real python-osc server on 127.0.0.1, and against failures that must not raise."""

from __future__ import annotations

import errno
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from pythonosc.osc_bundle import OscBundle

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from streaming.frames import PoseResult
from streaming.senders import OscSender, SenderAddressError, VmcSender, osc_frame_messages
from tests.osc_receiver import OscReceiver as Receiver
from tests.streaming.test_vmc import humanoid_skeleton, random_result

FRAMES = 6
F32 = dict(rtol=1e-6, atol=1e-6)  # float32 on the wire


def _open_fds() -> int | None:
    return len(os.listdir("/proc/self/fd")) if sys.platform.startswith("linux") else None


@pytest.fixture
def no_leaks() -> Iterator[None]:
    threads, fds = set(threading.enumerate()), _open_fds()
    yield
    deadline = time.monotonic() + 2.0
    while set(threading.enumerate()) != threads and time.monotonic() < deadline:
        time.sleep(0.01)
    assert set(threading.enumerate()) == threads
    assert _open_fds() == fds


@pytest.fixture
def receiver(no_leaks: None) -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _split_frames(messages: list[tuple[str, tuple]], first: str) -> list[list[tuple[str, tuple]]]:
    frames: list[list[tuple[str, tuple]]] = []
    for address, args in messages:
        if address == first:
            frames.append([])
        frames[-1].append((address, args))
    return frames


def _expected_humanoid(sk, r: PoseResult) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Unity-frame local position and rotation of each sent bone, from forward kinematics and the
    documented mirror (pos (-x, y, z), quat (x, -y, -z, w)), independently of streaming.vmc."""
    trans = np.array(sk.rest_translations)
    trans[0] = r.root_translation
    W, P = forward_kinematics(sk.parents, rot.quat_to_matrix(r.rotations), trans)
    anchors = {"Hips": None, "Spine": 0, "Chest": 2, "Neck": 3, "Head": 4, "LeftUpperArm": 3, "LeftLowerArm": 6}
    out = {}
    for name, a in anchors.items():
        j = sk.index(name)
        if a is None:
            m, p = W[j], sk.rest_translations[0]
        else:
            m, p = W[a].T @ W[j], W[a].T @ (P[j] - P[a])
        q = rot.matrix_to_quat(m)
        out[name] = (p * [-1, 1, 1], q * [1, -1, -1, 1])
    return out


def _same_rotation(got, want) -> None:
    got = np.asarray(got)
    assert abs(abs(float(np.dot(got, want))) - 1.0) < 1e-5, (got, want)


@pytest.mark.parametrize("bundle", [True, False])
def test_vmc_humanoid_frames_arrive_with_names_types_and_converted_values(receiver: Receiver, bundle: bool) -> None:
    sk = humanoid_skeleton()
    rng = np.random.default_rng(10)
    results = [random_result(sk, rng, k) for k in range(FRAMES)]
    with VmcSender("127.0.0.1", receiver.port, mode="humanoid", bundle=bundle, normalized=False) as sender:
        for r in results:
            assert sender.send(r, sk) is True
            time.sleep(0.002)
        stats = sender.stats
    per_frame = 3 + 7
    frames = _split_frames(receiver.wait_for(FRAMES * per_frame), "/VMC/Ext/OK")
    assert len(frames) == FRAMES
    assert stats.frames == stats.frames_sent == FRAMES and stats.failures == 0
    assert stats.datagrams == (FRAMES if bundle else FRAMES * per_frame)
    times = []
    for r, frame in zip(results, frames):
        assert [a for a, _ in frame[:3]] == ["/VMC/Ext/OK", "/VMC/Ext/T", "/VMC/Ext/Root/Pos"]
        ok, t, root = (args for _, args in frame[:3])
        assert ok == (1,) and type(ok[0]) is int
        assert len(t) == 1 and type(t[0]) is float
        times.append(t[0])
        assert root[0] == "root" and all(type(v) is float for v in root[1:]) and len(root) == 8
        np.testing.assert_allclose(root[1:4], (r.root_translation - sk.rest_translations[0]) * [-1, 1, 1], **F32)
        np.testing.assert_allclose(root[4:], [0, 0, 0, 1], **F32)
        expected = _expected_humanoid(sk, r)
        bones = frame[3:]
        assert [args[0] for _, args in bones] == list(expected)
        for address, args in bones:
            assert address == "/VMC/Ext/Bone/Pos" and len(args) == 8
            assert type(args[0]) is str and all(type(v) is float for v in args[1:])
            p, q = expected[args[0]]
            np.testing.assert_allclose(args[1:4], p, **F32)
            _same_rotation(args[4:], q)
    assert times[0] == 0.0 and np.allclose(np.diff(times), 1 / 30, atol=1e-5)  # /VMC/Ext/T follows the capture stamps


def test_vmc_generic_mode_uses_the_rigs_names(receiver: Receiver) -> None:
    sk = humanoid_skeleton()
    rng = np.random.default_rng(11)
    results = [random_result(sk, rng, k) for k in range(3)]
    with VmcSender("127.0.0.1", receiver.port, mode="generic") as sender:
        for r in results:
            assert sender.send(r, sk)
    frames = _split_frames(receiver.wait_for(3 * (3 + sk.num_joints)), "/VMC/Ext/OK")
    assert len(frames) == 3
    for r, frame in zip(results, frames):
        bones = frame[3:]
        assert [args[0] for _, args in bones] == ["anyrig:" + n for n in sk.names]  # "Hips", "Chest"... are Unity names
        assert len(frame[2][1]) == 14 and frame[2][1][8:] == (1.0, 1.0, 1.0, 0.0, 0.0, 0.0)  # v2.1 scale, offset
        for j, (_, args) in enumerate(bones):
            np.testing.assert_allclose(args[1:4], sk.rest_translations[j] * [-1, 1, 1], **F32)
            np.testing.assert_allclose(args[4:], r.rotations[j] * [1, -1, -1, 1], **F32)


def test_osc_sender_schema(receiver: Receiver) -> None:
    sk = humanoid_skeleton()
    rng = np.random.default_rng(12)
    results = [random_result(sk, rng, k) for k in range(4)]
    with OscSender("127.0.0.1", receiver.port, prefix="/anyrig") as sender:
        for r in results:
            assert sender.send(r, sk)
    frames = _split_frames(receiver.wait_for(4 * (2 + sk.num_joints)), "/anyrig/frame")
    assert len(frames) == 4
    for r, frame in zip(results, frames):
        (a0, head), (a1, root), *joints = frame
        assert a1 == "/anyrig/root"
        assert head[0] == r.index and type(head[0]) is int and type(head[1]) is float and head[2] == sk.num_joints
        np.testing.assert_allclose(root, r.root_translation, **F32)  # our own frame, no mirror
        assert [args[0] for _, args in joints] == list(sk.names)
        for j, (address, args) in enumerate(joints):
            assert address == "/anyrig/joint" and len(args) == 8
            np.testing.assert_allclose(args[1:5], r.rotations[j], **F32)
            np.testing.assert_allclose(args[5:8], r.positions[j], **F32)


def test_bundle_time_tag_is_the_capture_wall_time(no_leaks: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", 0))
        raw.settimeout(2.0)
        sk = humanoid_skeleton()
        r = random_result(sk, np.random.default_rng(13))
        r = PoseResult(r.rotations, r.root_translation, r.positions, time.monotonic_ns() - 50_000_000, 0)  # 50 ms ago
        with VmcSender("127.0.0.1", raw.getsockname()[1]) as sender:
            sender.send(r, sk)
        data = raw.recv(65536)
    assert data.startswith(b"#bundle\x00")
    assert OscBundle(data).timestamp == pytest.approx(time.time() - 0.05, abs=0.04)


SENDERS = {
    "vmc-bundled": lambda host, port: VmcSender(host, port, bundle=True),
    "vmc-unbundled": lambda host, port: VmcSender(host, port, bundle=False),
    "vmc-generic": lambda host, port: VmcSender(host, port, mode="generic"),
    "osc": lambda host, port: OscSender(host, port),
}


@pytest.mark.parametrize("make", SENDERS.values(), ids=list(SENDERS))
def test_contract_closed_port_counts_refusals_and_never_raises(make, no_leaks: None) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again when the block ends
    sk = humanoid_skeleton()
    r = random_result(sk, np.random.default_rng(14))
    with make("127.0.0.1", port) as sender:
        for _ in range(5):
            sender.send(r, sk)
            time.sleep(0.01)  # let the ICMP "port unreachable" come back
        stats = sender.stats
    assert stats.frames == 5 and stats.refused >= 1 and stats.failures >= 1
    assert "refused" in stats.last_error.lower()
    assert stats.to_dict()["failures"] == stats.failures


@pytest.mark.parametrize("make", SENDERS.values(), ids=list(SENDERS))
def test_contract_close_is_idempotent_and_sending_after_close_is_counted(make, no_leaks: None) -> None:
    sk = humanoid_skeleton()
    sender = make("127.0.0.1", 9)
    sender.close()
    sender.close()
    assert sender.send(random_result(sk, np.random.default_rng(19)), sk) is False
    assert sender.stats.frames == 1 and sender.stats.datagrams == 0


def test_unsendable_destinations_are_counted(no_leaks: None) -> None:
    sk = humanoid_skeleton()
    r = random_result(sk, np.random.default_rng(15))
    # Broadcast without SO_BROADCAST: connect() fails with EACCES; retried at most once a second.
    with VmcSender("255.255.255.255", 39539) as sender:
        assert sender.send(r, sk) is False and sender.send(r, sk) is False
        assert sender.stats.other_errors == 1 and sender.stats.frames == 2 and sender.stats.datagrams == 0
    # A datagram over the UDP limit: EMSGSIZE, counted, the next frame still goes out.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
        raw.bind(("127.0.0.1", 0))
        big = PoseResult(np.tile([0, 0, 0, 1.0], (2000, 1)), np.zeros(3), np.zeros((2000, 3)), 0, 0)
        names = [f"joint_with_a_long_name_{j:05d}" for j in range(2000)]
        with OscSender("127.0.0.1", raw.getsockname()[1], max_datagram=10**6) as sender:
            assert sender.send(big, names) is False
            assert sender.stats.other_errors == 1
            assert sender.send(r, sk) is True
        with OscSender("127.0.0.1", raw.getsockname()[1]) as sender:  # default: split under 8 kB
            assert sender.send(big, names) is True and sender.stats.datagrams > 10


class _FakeSocket:
    """Stands in for a socket whose send fails with one errno."""

    def __init__(self, err: int) -> None:
        self.err = err
        self.closed = False

    def connect(self, address: object) -> None:
        pass

    def send(self, data: bytes) -> int:
        raise OSError(self.err, os.strerror(self.err)) if self.err != errno.EAGAIN else BlockingIOError(self.err, "full")

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("err, field", [(errno.EAGAIN, "would_block"), (errno.ENETUNREACH, "unreachable"), (errno.EHOSTUNREACH, "unreachable")])
def test_full_buffers_and_unreachable_networks_are_counted(err: int, field: str) -> None:
    sk = humanoid_skeleton()
    r = random_result(sk, np.random.default_rng(16))
    sender = VmcSender("127.0.0.1", 9, bundle=False)
    real = sender._sock
    real.close()
    sender._sock = _FakeSocket(err)  # type: ignore[assignment]
    for _ in range(3):
        assert sender.send(r, sk) is False
    stats = sender.stats
    # EAGAIN drops the rest of the frame at once; other errors are counted per datagram.
    assert getattr(stats, field) == (3 if field == "would_block" else 3 * 10)
    assert stats.frames == 3 and stats.frames_sent == 0
    sender.close()
    sender.close()  # idempotent
    assert sender.send(r, sk) is False  # closed: counted as a frame, nothing raised


def test_bad_rig_or_address() -> None:
    sk = humanoid_skeleton()
    r = random_result(sk, np.random.default_rng(17))
    with VmcSender("127.0.0.1", 9, mode="humanoid") as sender:
        assert sender.send(r, ["a", "b"]) is False  # no humanoid bone: counted, not raised
        assert sender.stats.other_errors == 1 and "humanoid" in sender.stats.last_error
    with pytest.raises(SenderAddressError, match="no-such-host.invalid"):
        VmcSender("no-such-host.invalid", 39539)
    with pytest.raises(SenderAddressError, match="1..65535"):
        OscSender("127.0.0.1", 0)
    with pytest.raises(ValueError, match="mode"):
        VmcSender("127.0.0.1", 39539, mode="other")
    with pytest.raises(ValueError, match="pose of 9 joints"):
        osc_frame_messages("/x", ["a"], r, 0.0)


def test_ipv6_destination(no_leaks: None) -> None:
    try:
        raw = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        raw.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")
    with raw:
        raw.settimeout(2.0)
        sk = humanoid_skeleton()
        with OscSender("::1", raw.getsockname()[1], bundle=False) as sender:
            assert sender.send(random_result(sk, np.random.default_rng(18)), sk)
        assert raw.recv(65536).startswith(b"/anyrig/frame\x00\x00\x00,ifi")
