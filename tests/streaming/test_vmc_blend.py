"""VMC blendshape messages: byte literals, and a real receiver getting them from VmcSender."""

from __future__ import annotations

import numpy as np

from engine.perception.face_landmarker import BLENDSHAPE_NAMES
from streaming.frames import PoseResult
from streaming.senders import OscSender, VmcSender
from streaming.vmc_blend import blend_messages, encode_blend_apply, encode_blend_val
from tests.osc_receiver import OscReceiver


def test_blend_val_and_apply_bytes() -> None:
    # OSC 1.0: address and type tags null-terminated and padded to 4 bytes; float32 big-endian.
    assert encode_blend_val("A", 0.5) == b"/VMC/Ext/Blend/Val\x00\x00,sf\x00A\x00\x00\x00\x3f\x00\x00\x00"
    assert encode_blend_apply() == b"/VMC/Ext/Blend/Apply\x00\x00\x00\x00,\x00\x00\x00"


def test_blend_messages_pack_the_same_bytes_and_end_with_apply() -> None:
    values = {"Blink_L": 0.25, "Joy": 1.0, "jawOpen": 0.125}
    assert blend_messages(values) == [encode_blend_val(n, v) for n, v in values.items()] + [encode_blend_apply()]


def _pose(blendshapes: np.ndarray | None) -> PoseResult:
    q = np.tile([0.0, 0.0, 0.0, 1.0], (2, 1))
    return PoseResult(q, np.zeros(3), np.zeros((2, 3)), 1_000_000, 0, blendshapes=blendshapes)


def test_vmc_sender_sends_vrm0_or_arkit_names_to_a_real_receiver() -> None:
    shapes = np.zeros(len(BLENDSHAPE_NAMES))
    shapes[BLENDSHAPE_NAMES.index("jawOpen")] = 0.5
    shapes[BLENDSHAPE_NAMES.index("eyeBlinkLeft")] = 1.0
    with OscReceiver() as receiver:
        with VmcSender("127.0.0.1", receiver.port, mode="generic") as sender:
            assert sender.send(_pose(shapes), ["a", "b"])
        receiver.wait_for(1, "/VMC/Ext/Blend/Apply")
        got = receiver.wait_for(11, "/VMC/Ext/Blend/Val")
        vals = {args[0]: args[1] for address, args in got if address == "/VMC/Ext/Blend/Val"}
        assert set(vals) == {"A", "I", "U", "E", "O", "Blink_L", "Blink_R", "Joy", "Angry", "Sorrow", "Fun"}
        assert abs(vals["A"] - 0.6) < 1e-6 and vals["Blink_L"] == 1.0 and vals["Blink_R"] == 0.0
        # Apply comes after every Val of the frame
        addresses = [a for a, _ in got]
        assert addresses.index("/VMC/Ext/Blend/Apply") > max(i for i, a in enumerate(addresses) if a == "/VMC/Ext/Blend/Val")
    with OscReceiver() as receiver:
        with VmcSender("127.0.0.1", receiver.port, mode="generic", blendshapes="arkit") as sender:
            sender.send(_pose(shapes), ["a", "b"])
            sender.send(_pose(None), ["a", "b"])  # no face: no blend messages
        # The receiver handles each datagram on a thread of its own, so arrival order is not send
        # order: wait for everything asserted below, not only for the last message sent.
        receiver.wait_for(2, "/VMC/Ext/Bone/Pos")
        receiver.wait_for(1, "/VMC/Ext/Blend/Apply")
        got = receiver.wait_for(52, "/VMC/Ext/Blend/Val")
        vals = {args[0]: args[1] for address, args in got if address == "/VMC/Ext/Blend/Val"}
        assert len(vals) == 52 and vals["jawOpen"] == 0.5 and vals["tongueOut"] == 0.0
        assert receiver.addresses["/VMC/Ext/Blend/Apply"] == 1


def test_plain_osc_carries_the_arkit_blendshapes() -> None:
    shapes = np.zeros(len(BLENDSHAPE_NAMES))
    shapes[BLENDSHAPE_NAMES.index("mouthSmileRight")] = 0.75
    with OscReceiver() as receiver:
        with OscSender("127.0.0.1", receiver.port) as sender:
            sender.send(_pose(shapes), ["a", "b"])
        got = receiver.wait_for(52, "/anyrig/blend")
        vals = {args[0]: args[1] for address, args in got if address == "/anyrig/blend"}
        assert len(vals) == 52 and vals["mouthSmileRight"] == 0.75
