"""Synthetic training data: procedural skeletons and motions, real motions on randomised rigs.

Public names: :class:`MotionDataset` and :class:`MotionSample` (the dataset API used by training
and tests), :func:`random_rig` / :class:`SyntheticRig` (procedural skeletons),
:func:`random_motion_params` / :func:`evaluate_motion` (procedural motions) and
:func:`transfer_window` / :class:`RealMotionLibrary` (real motions on random rigs).
"""

from engine.synthetic.dataset import FPS, MotionDataset, MotionSample
from engine.synthetic.motions import MotionParams, evaluate_motion, random_motion_params
from engine.synthetic.skeletons import BODY_PLANS, CONVENTIONS, SyntheticRig, random_rig
from engine.synthetic.transfer import RealMotionLibrary, TransferredWindow, transfer_window

__all__ = [
    "BODY_PLANS",
    "CONVENTIONS",
    "FPS",
    "MotionDataset",
    "MotionParams",
    "MotionSample",
    "RealMotionLibrary",
    "SyntheticRig",
    "TransferredWindow",
    "evaluate_motion",
    "random_motion_params",
    "random_rig",
    "transfer_window",
]
