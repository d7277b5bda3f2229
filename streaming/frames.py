"""Stamped, immutable payloads that travel between the pipeline's threads (STYLE rule 9).

A :class:`Frame` leaves the capture thread; a :class:`PoseResult` leaves the inference thread and
fans out to the viewport, the network senders and the take recorder. Both carry the monotonic
capture time of the camera frame they come from, so every latency is derived from these fields and
nothing else: ``stage_ns`` holds the monotonic time at which each stage finished, and
:meth:`PoseResult.latencies_ms` turns them into per-stage and end-to-end latencies.

Arrays are stored as read-only views (the caller's own array keeps its flags), so a payload shared
between threads cannot be changed under a reader.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["SCHEMA_VERSION", "Frame", "PoseResult", "validate_pose_array"]

SCHEMA_VERSION = 1  # bump when a field of PoseResult changes meaning


def _read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (never a copy; ``a``'s own flags are left alone)."""
    view = a.view()
    view.setflags(write=False)
    return view


def validate_pose_array(name: str, value: object, shape: tuple[int | None, ...]) -> np.ndarray:
    """``value`` as a finite float array of ``shape`` (``None`` = any size), else ``ValueError``.

    Args:
        name: field name used in the error message.
        value: array-like.
        shape: expected shape; ``None`` entries match any length.

    Returns:
        The array as float64 (float32 input is kept as float32).

    Raises:
        ValueError: wrong rank or size, non-float-convertible dtype, or a NaN/inf value; the message
            names the field and the exact fault.
    """
    a = np.asarray(value)
    if a.dtype != np.float32:
        try:
            a = a.astype(np.float64, copy=False)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{name}: dtype {a.dtype} is not numeric") from error
    if a.ndim != len(shape) or any(s is not None and s != n for s, n in zip(shape, a.shape)):
        want = "(" + ", ".join("?" if s is None else str(s) for s in shape) + ")"
        raise ValueError(f"{name}: expected shape {want}, got {a.shape}")
    if not np.isfinite(a).all():
        bad = np.argwhere(~np.isfinite(a))[0]
        raise ValueError(f"{name}: non-finite value at index {tuple(int(i) for i in bad)}")
    return a


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured image.

    Attributes:
        image: ``(H, W, 3)`` uint8 BGR (OpenCV order), read-only view.
        t_capture_ns: ``time.monotonic_ns()`` taken right after the read returned.
        index: frame counter of its source, from 0, increasing.
        source_id: which source produced it (e.g. ``"webcam:0"``, a file name, ``"synthetic"``).
    """

    image: np.ndarray
    t_capture_ns: int
    index: int
    source_id: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "image", _read_only(np.asarray(self.image)))
        object.__setattr__(self, "t_capture_ns", int(self.t_capture_ns))
        object.__setattr__(self, "index", int(self.index))

    @classmethod
    def stamp(cls, image: np.ndarray, index: int, source_id: str) -> Frame:
        """A frame stamped now: call this right after the read returns."""
        return cls(image, time.monotonic_ns(), index, source_id)


@dataclass(frozen=True, slots=True)
class PoseResult:
    """The rig's pose for one frame, with the timing facts of how it was made.

    Attributes:
        rotations: ``(J, 4)`` x y z w local joint rotations, parent space, rest included (as in
            glTF and :class:`engine.rig.Clip`), internal frame (right-handed, Y up, +Z forward).
        root_translation: ``(3,)`` metres, the local (= world) translation of joint 0; it replaces
            ``skeleton.rest_translations[0]`` for this frame.
        positions: ``(J, 3)`` metres, world positions of the joints.
        t_capture_ns: capture time of the source frame, ``time.monotonic_ns()``.
        index: index of the source frame.
        stage_ns: ``((stage, t_ns), ...)`` monotonic time at which each stage finished, in order
            (e.g. ``("perception", t1), ("model", t2), ("filter", t3)``).
        source_id: the source of the frame.
        schema_version: :data:`SCHEMA_VERSION` of the producer.
        blendshapes: ``(52,)`` face blendshape scores in ``[0, 1]`` (MediaPipe order,
            :data:`engine.perception.face_landmarker.BLENDSHAPE_NAMES`), or None when the face is
            not tracked; senders turn them into VRM 0 or ARKit names.
    """

    rotations: np.ndarray
    root_translation: np.ndarray
    positions: np.ndarray
    t_capture_ns: int
    index: int
    stage_ns: tuple[tuple[str, int], ...] = ()
    source_id: str = ""
    schema_version: int = SCHEMA_VERSION
    blendshapes: np.ndarray | None = None

    def __post_init__(self) -> None:
        rotations = validate_pose_array("rotations", self.rotations, (None, 4))
        J = rotations.shape[0]
        root = validate_pose_array("root_translation", self.root_translation, (3,))
        positions = validate_pose_array("positions", self.positions, (J, 3))
        object.__setattr__(self, "rotations", _read_only(rotations))
        object.__setattr__(self, "root_translation", _read_only(root))
        object.__setattr__(self, "positions", _read_only(positions))
        object.__setattr__(self, "t_capture_ns", int(self.t_capture_ns))
        object.__setattr__(self, "index", int(self.index))
        object.__setattr__(self, "stage_ns", tuple((str(s), int(t)) for s, t in self.stage_ns))
        if self.blendshapes is not None:
            blend = validate_pose_array("blendshapes", self.blendshapes, (None,))
            object.__setattr__(self, "blendshapes", _read_only(blend))

    @property
    def num_joints(self) -> int:
        return int(self.rotations.shape[0])

    def with_stage(self, stage: str, t_ns: int | None = None) -> PoseResult:
        """A copy with ``stage`` stamped as finished at ``t_ns`` (default: now)."""
        t = time.monotonic_ns() if t_ns is None else int(t_ns)
        return dataclasses.replace(self, stage_ns=self.stage_ns + ((stage, t),))

    def with_pose(self, rotations: np.ndarray, root_translation: np.ndarray, positions: np.ndarray) -> PoseResult:
        """A copy with a new pose and the same timing facts (e.g. after filtering)."""
        return dataclasses.replace(self, rotations=rotations, root_translation=root_translation, positions=positions)

    def latencies_ms(self, t_out_ns: int | None = None) -> dict[str, float]:
        """Per-stage latency in milliseconds, each stage measured from the previous one.

        Args:
            t_out_ns: when the result reached an output (e.g. right after a network send); adds
                ``"total"`` = capture -> output. Without it, ``"total"`` is capture -> last stage.

        Returns:
            ``{stage: ms, ..., "total": ms}``.
        """
        out: dict[str, float] = {}
        previous = self.t_capture_ns
        for stage, t in self.stage_ns:
            out[stage] = (t - previous) / 1e6
            previous = t
        end = previous if t_out_ns is None else int(t_out_ns)
        out["total"] = (end - self.t_capture_ns) / 1e6
        return out
