"""What the status bar shows about a live session, as one immutable value (no Qt here)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SessionStatus"]


@dataclass(frozen=True)
class SessionStatus:
    """Facts for the status bar.

    Attributes:
        source: source id (``"webcam:0"``, a file name, ``"synthetic"``).
        camera: the source's state (``"open"``, ``"reconnecting"``...), or ``"stopped"``.
        pipeline: the pipeline's state.
        backend, device, solver: what runs the model stage.
        fps: results per second over the last measurement.
        latency_ms: newest end-to-end latency, ms (capture -> send when an output is on, else
            capture -> result).
        error: the fault that stopped the pipeline, if any.
        tracking: ``person`` / ``lost`` / ``no_person`` (:class:`streaming.tracking.TrackingState`),
            ``""`` when tracking is off.
    """

    source: str
    camera: str
    pipeline: str
    backend: str
    device: str
    solver: str
    fps: float
    latency_ms: float
    error: str = ""
    tracking: str = ""
