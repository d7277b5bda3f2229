"""Who holds the pose when the person is lost: :class:`LandmarkHold`.

The perception adapter reports what it sees (``person_found=False`` with zeros when nobody is in
the frame); the caller (the inference loop) keeps a :class:`LandmarkHold` and passes every frame
through it, so downstream stages always get a usable pose plus a flag that says it is being held.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.perception.landmarks import LandmarkFrame

__all__ = ["HeldFrame", "LandmarkHold"]


@dataclass(frozen=True, eq=False)
class HeldFrame:
    """A frame after holding.

    Attributes:
        frame: the live frame, or the last frame with a person (re-stamped with the current time).
        holding: True while the last pose is being held because no person is found.
        held_ms: how long the pose has been held, milliseconds (0 when live).
    """

    frame: LandmarkFrame
    holding: bool
    held_ms: int


class LandmarkHold:
    """Holds the last pose with a person while the person is lost, and recovers when they return.

    Args:
        max_hold_ms: stop holding after this long and pass the empty frame on (``None`` = hold forever).
    """

    def __init__(self, max_hold_ms: int | None = 2000) -> None:
        self.max_hold_ms = max_hold_ms
        self._last: LandmarkFrame | None = None

    @property
    def has_pose(self) -> bool:
        """True once a frame with a person has been seen (and not reset)."""
        return self._last is not None

    def update(self, frame: LandmarkFrame) -> HeldFrame:
        """Pass a new frame; returns it live, or the held pose when nobody is found."""
        if frame.person_found:
            self._last = frame
            return HeldFrame(frame, holding=False, held_ms=0)
        if self._last is None:
            return HeldFrame(frame, holding=False, held_ms=0)
        held_ms = frame.t_ms - self._last.t_ms
        if self.max_hold_ms is not None and held_ms > self.max_hold_ms:
            return HeldFrame(frame, holding=False, held_ms=0)
        return HeldFrame(dataclasses.replace(self._last, t_ms=frame.t_ms), holding=True, held_ms=held_ms)

    def reset(self) -> None:
        """Forget the held pose."""
        self._last = None
