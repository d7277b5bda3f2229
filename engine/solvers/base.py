"""The interface every positions -> local rotations solver implements (learned P2R, analytic IK).

Streaming, evaluation and the app only talk to this protocol, so the learned model
(:class:`engine.solvers.learned_p2r.P2RSolver`) and the analytic baseline
(:class:`engine.solvers.analytic_ik.AnalyticIKSolver`) are interchangeable.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from engine.skeleton import Skeleton

__all__ = ["RotationSolver"]


@runtime_checkable
class RotationSolver(Protocol):
    """Turns world joint positions of a rig into its local joint rotations, causally.

    Attributes:
        name: short identifier used in reports (``"p2r"``, ``"analytic_ik"``).
        takes_hints: whether :meth:`step` uses orientation hints (else callers need not make them).
    """

    name: str
    takes_hints: bool

    def reset(self, skeleton: Skeleton, ref_positions: np.ndarray, ref_rotations: np.ndarray) -> None:
        """Bind to a rig and forget any history.

        Args:
            skeleton: the target rig.
            ref_positions: ``(J, 3)`` world metres, the reference pose's joint positions.
            ref_rotations: ``(J, 4)`` x y z w local rotations of the same reference pose.
        """
        ...

    def step(self, positions: np.ndarray, hints: np.ndarray | None = None) -> np.ndarray:
        """One frame: ``(J, 3)`` world metres -> ``(J, 4)`` x y z w local rotations (rest included).

        ``hints``: ``(J, 7)`` world-frame orientation hints
        (:meth:`engine.retarget.orientation.OrientationRetarget.hints`), used when ``takes_hints``.
        """
        ...

    def solve(self, positions: np.ndarray) -> np.ndarray:
        """A whole clip, causally: ``(T, J, 3)`` world metres -> ``(T, J, 4)`` local rotations."""
        ...
