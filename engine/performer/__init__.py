"""The canonical performer: the fixed humanoid skeleton that live perception produces.

:mod:`.canonical` defines it (joints, chains, positions from landmarks); :mod:`.from_mocap` builds
its positions from humanoid motion capture. The canonical names are re-exported here.
"""

from engine.performer.canonical import (
    NUM_PERFORMER_JOINTS,
    PERFORMER_CHAINS,
    PERFORMER_JOINTS,
    PERFORMER_PARENTS,
    body_frame,
    hand_frames,
    performer_arms_down_positions,
    performer_index,
    performer_positions_from_landmarks,
    performer_positions_from_world_landmarks,
    performer_rest_positions,
    performer_skeleton,
)

__all__ = [
    "PERFORMER_JOINTS",
    "PERFORMER_PARENTS",
    "PERFORMER_CHAINS",
    "NUM_PERFORMER_JOINTS",
    "performer_index",
    "performer_skeleton",
    "performer_rest_positions",
    "performer_arms_down_positions",
    "performer_positions_from_landmarks",
    "performer_positions_from_world_landmarks",
    "body_frame",
    "hand_frames",
]
