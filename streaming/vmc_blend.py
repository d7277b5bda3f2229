"""VMC blendshape messages: ``/VMC/Ext/Blend/Val`` per shape, then ``/VMC/Ext/Blend/Apply``.

VMC.md §1 (protocol.vmc.info, Performer -> Marionette): ``/VMC/Ext/Blend/Val s name f value``
accumulates, ``/VMC/Ext/Blend/Apply`` (no arguments) applies them all; names are case-sensitive,
and senders default to VRM 0 names (A, I, U, E, O, Blink_L, Blink_R, Joy, Angry, Sorrow, Fun).
``naming="arkit"`` sends the 52 ARKit names instead, as Perfect Sync receivers expect.

Pure functions; the senders (:mod:`streaming.senders`) append these to each frame.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from engine.face_hands.expressions import named_blendshapes
from streaming.osc_encoding import encode_message, encode_named_float_messages

__all__ = ["BLEND_NAMINGS", "encode_blend_val", "encode_blend_apply", "blend_messages", "frame_blend_messages"]

BLEND_NAMINGS = ("vrm0", "arkit")


def encode_blend_val(name: str, value: float) -> bytes:
    """``/VMC/Ext/Blend/Val s name f value``."""
    return encode_message("/VMC/Ext/Blend/Val", str(name), float(value))


def encode_blend_apply() -> bytes:
    """``/VMC/Ext/Blend/Apply`` (no arguments): apply the accumulated values."""
    return encode_message("/VMC/Ext/Blend/Apply")


def blend_messages(values: Mapping[str, float]) -> list[bytes]:
    """One ``Blend/Val`` per ``name -> value`` (in the mapping's order), then ``Blend/Apply``."""
    names = list(values)
    vals = np.array([[float(values[n])] for n in names], dtype=np.float64).reshape(len(names), 1)
    # Same bytes as encode_blend_val per name (tests/streaming/test_vmc_blend.py checks it), packed at once.
    return [*encode_named_float_messages("/VMC/Ext/Blend/Val", names, vals), encode_blend_apply()]


def frame_blend_messages(blendshapes: np.ndarray | None, naming: str) -> list[bytes]:
    """The blend messages of a pose's ``(52,)`` blendshapes under ``naming`` (``[]`` without a face)."""
    if blendshapes is None:
        return []
    return blend_messages(named_blendshapes(blendshapes, naming))
