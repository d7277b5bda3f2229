"""Rig and motion containers shared by every file reader and writer.

A :class:`Rig` is a skeleton plus its named clips, an optional skinned mesh, an optional humanoid
bone map and facts about the source file. A :class:`Clip` stores full local transforms per frame
(rest included, as in glTF): ``rotations (T, J, 4)`` x y z w and ``translations (T, J, 3)`` metres,
both parent space, so joints with animated translation (BVH 6-channel joints, glTF translation
channels) are represented without special cases.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.skeleton import Skeleton

__all__ = ["Clip", "Mesh", "Rig", "SourceInfo"]


@dataclass(eq=False)
class Clip:
    """One animation on a skeleton.

    Attributes:
        name: clip name (BVH: the file stem).
        fps: sampling rate of the frames, frames per second.
        rotations: ``(T, J, 4)`` float64 x y z w local rotations, parent space, rest included.
        translations: ``(T, J, 3)`` float64 local translations, metres, parent space.
    """

    name: str
    fps: float
    rotations: np.ndarray
    translations: np.ndarray

    def __post_init__(self) -> None:
        self.rotations = np.asarray(self.rotations, dtype=np.float64)
        self.translations = np.asarray(self.translations, dtype=np.float64)
        if self.rotations.ndim != 3 or self.rotations.shape[-1] != 4:
            raise ValueError(f"clip {self.name!r}: rotations must be (T, J, 4), got {self.rotations.shape}")
        if self.translations.shape != self.rotations.shape[:2] + (3,):
            raise ValueError(f"clip {self.name!r}: translations {self.translations.shape} do not match rotations {self.rotations.shape}")
        if not self.fps > 0:
            raise ValueError(f"clip {self.name!r}: fps must be positive, got {self.fps}")

    @property
    def num_frames(self) -> int:
        return int(self.rotations.shape[0])

    @property
    def duration(self) -> float:
        """Seconds from the first to the last frame."""
        return max(self.num_frames - 1, 0) / self.fps

    def world(self, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
        """World rotations ``(T, J, 3, 3)`` and positions ``(T, J, 3)`` of every frame."""
        return forward_kinematics(skeleton.parents, rot.quat_to_matrix(self.rotations), self.translations)

    def positions(self, skeleton: Skeleton) -> np.ndarray:
        """``(T, J, 3)`` world joint positions, metres."""
        return self.world(skeleton)[1]

    def slice(self, start: int, stop: int | None = None) -> Clip:
        """Frames ``start:stop`` as a new clip."""
        return Clip(self.name, self.fps, self.rotations[start:stop].copy(), self.translations[start:stop].copy())

    @staticmethod
    def rest(skeleton: Skeleton, frames: int = 1, fps: float = 30.0, name: str = "rest") -> Clip:
        """A clip that holds the rest pose for ``frames`` frames."""
        rots = np.broadcast_to(skeleton.rest_rotations, (frames,) + skeleton.rest_rotations.shape).copy()
        trans = np.broadcast_to(skeleton.rest_translations, (frames,) + skeleton.rest_translations.shape).copy()
        return Clip(name, fps, rots, trans)


@dataclass(eq=False)
class Mesh:
    """A skinned triangle mesh bound to the skeleton's joints.

    Attributes:
        positions: ``(V, 3)`` float32 bind-pose vertex positions, world space, metres.
        normals: ``(V, 3)`` float32 or ``None``.
        indices: ``(F, 3)`` uint32 triangle vertex indices.
        joints: ``(V, 4)`` int, skeleton joint indices of the skin influences.
        weights: ``(V, 4)`` float32 skin weights (rows sum to 1).
        morph_names: names of the morph targets (blendshapes), glTF ``extras.targetNames``.
        morph_deltas: ``(M, V, 3)`` float32 bind-pose position offsets of each target, world space
            (zeros for vertices of a primitive that lacks it), or ``None`` without targets.
        expressions: a VRM file's expressions: VRM 0 preset name (``A``, ``Blink_L``, ``Joy`` ...)
            -> ``((morph target name, weight in [0, 1]), ...)`` it sets.
    """

    positions: np.ndarray
    indices: np.ndarray
    joints: np.ndarray
    weights: np.ndarray
    normals: np.ndarray | None = None
    morph_names: tuple[str, ...] = ()
    morph_deltas: np.ndarray | None = None
    expressions: dict[str, tuple[tuple[str, float], ...]] = field(default_factory=dict)


@dataclass
class SourceInfo:
    """Facts about the file a rig came from, for ``main.py info``."""

    path: str = ""
    format: str = ""  # "bvh", "gltf", "glb", "vrm"
    units: str = "m"  # units of the file before conversion to metres
    unit_scale: float = 1.0  # metres per file unit that was applied
    up_axis: str = "Y"  # up axis of the file before conversion to Y-up
    notes: list[str] = field(default_factory=list)  # e.g. "mesh skipped: Draco compression"
    turned_y_deg: float = 0.0  # turn about +Y the loader applied to face +Z (VRM 0.x: 180)


@dataclass(eq=False)
class Rig:
    """A skeleton with its clips, optional mesh and optional humanoid bone map.

    Attributes:
        name: display name (file stem by default).
        skeleton: the joint hierarchy and rest pose.
        clips: named animations on that skeleton.
        mesh: skinned mesh for the viewport, if the file has one.
        humanoid: map from Unity ``HumanBodyBones`` names (e.g. ``"LeftUpperArm"``) to joint names.
        reference_pose: a named pose of the rig (local rotations ``(J, 4)``) used as the model's
            reference pose-rotation pair; defaults to the rest pose.
        source: facts about the file it was read from.
    """

    name: str
    skeleton: Skeleton
    clips: list[Clip] = field(default_factory=list)
    mesh: Mesh | None = None
    humanoid: dict[str, str] = field(default_factory=dict)
    reference_pose: np.ndarray | None = None
    source: SourceInfo = field(default_factory=SourceInfo)

    def clip(self, name: str) -> Clip:
        """The clip called ``name`` (``KeyError`` lists the available names)."""
        for c in self.clips:
            if c.name == name:
                return c
        raise KeyError(f"rig {self.name!r} has no clip {name!r}; clips: {[c.name for c in self.clips]}")

    def reference_rotations(self) -> np.ndarray:
        """``(J, 4)`` local rotations of the reference pose (the rest pose if none is set)."""
        if self.reference_pose is not None:
            return np.asarray(self.reference_pose, dtype=np.float64)
        return np.array(self.skeleton.rest_rotations)
