"""Playing a recorded take back: the take's rig and clip, a play head with scrub and loop (no Qt here).

A previs user reviews takes and replays them into Unity / Unreal / a VTuber app, so a take is
played in the viewport and can be re-sent over the network output. :func:`load_take_rig` reads a
take of any format AnyRig writes (``.glb``, ``.bvh``: the rig plus one animation; ``.npz``: the raw
samples with the skeleton, resampled by capture time). :class:`TakePlayer` turns the play head
into :class:`~streaming.frames.PoseResult` values, the same type the live pipeline produces, so
the viewport and every sender take them unchanged. The caller's clock drives it (:meth:`TakePlayer.advance`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.rig import Clip, Rig
from streaming.frames import PoseResult
from streaming.take_files import TakeError, load_take_npz

__all__ = ["TakePlayer", "load_take_rig"]


def load_take_rig(path: str | Path) -> Rig:
    """The rig of a take file with the take as its first clip.

    Raises:
        TakeError: an ``.npz`` take without a skeleton, or a file with no animation.
        RigFormatError: a malformed ``.glb`` / ``.bvh``.
    """
    path = Path(path)
    if path.suffix.lower() == ".npz":
        return load_take_npz(path).to_rig()
    from engine.formats.rigio import load_rig

    rig = load_rig(path)
    if not rig.clips or rig.clips[0].num_frames == 0:
        raise TakeError(str(path), "the file holds no animation to play")
    return rig


class TakePlayer:
    """A play head over one clip of a rig.

    Args:
        rig: the take's rig (its skeleton gives the positions).
        clip: the animation (default: the rig's first clip).

    Attributes:
        position_s: the play head, seconds from the start, ``0 .. duration_s``.
        playing: :meth:`advance` moves the play head.
        loop: at the end, start over (else stop there).
    """

    def __init__(self, rig: Rig, clip: Clip | None = None) -> None:
        self.rig = rig
        self.clip = clip if clip is not None else rig.clips[0]
        if self.clip.num_frames == 0:
            raise ValueError(f"take {self.clip.name!r} has no frame")
        self.position_s = 0.0
        self.playing = False
        self.loop = True

    @property
    def duration_s(self) -> float:
        """Time of the last frame, seconds."""
        return (self.clip.num_frames - 1) / self.clip.fps

    @property
    def frame(self) -> int:
        """The frame under the play head."""
        return int(min(round(self.position_s * self.clip.fps), self.clip.num_frames - 1))

    def seek(self, position_s: float) -> None:
        """Move the play head to ``position_s`` (clamped to the take)."""
        self.position_s = float(min(max(position_s, 0.0), self.duration_s))

    def advance(self, dt_s: float) -> None:
        """Move the play head ``dt_s`` on while playing; loop or stop at the end."""
        if not self.playing:
            return
        end = self.duration_s
        t = self.position_s + dt_s
        if t > end:
            if self.loop and end > 0:
                t %= end
            else:
                t, self.playing = end, False
        self.position_s = t

    def pose(self) -> PoseResult:
        """The pose under the play head, stamped now (so a sender's latency reads ~0)."""
        k = self.frame
        rotations = rot.quat_normalize(self.clip.rotations[k])  # (J, 4)
        translations = self.clip.translations[k]  # (J, 3)
        _, positions = forward_kinematics(self.rig.skeleton.parents, rot.quat_to_matrix(rotations), translations)
        return PoseResult(rotations, np.array(translations[0]), positions, time.monotonic_ns(), k, source_id=f"take:{self.clip.name}")
