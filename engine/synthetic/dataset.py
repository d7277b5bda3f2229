"""The training and test dataset: procedural rigs and motions plus real motions on random rigs.

``MotionDataset(seed, split, window, real_data_dir, licence_filter, size)[i]`` is a
:class:`MotionSample`: a ``window``-frame motion of one rig (world joint positions and local
rotations) plus one reference pose of that rig. Item ``i`` is a deterministic function of
``(seed, split, i)``, whatever was read before and in whichever worker process.

- Procedural items (all of them without ``real_data_dir``; otherwise ``1 - real_fraction``):
  a rig from a pool of procedural rigs (``pool_size`` per split; rig ``k`` of the pool is drawn
  from the seed sequence ``(seed, split, k)``, so train and val rigs never share a generator
  seed) with a fresh random motion (:mod:`engine.synthetic.motions`). Pool rigs are cached.
- Real items: a window of a shared clip transferred onto a randomised copy of its rig
  (:mod:`engine.synthetic.transfer`). Only files whose licence passes ``licence_filter``
  (``"free"``: CC0, MIT, CC-BY, CMU) and whose skeleton is not held out in
  ``resources/eval_split.json`` are used.

Frames are at 30 fps. ``positions`` are world metres (Y up), the forward kinematics of
``rotations`` with ``translations`` (the rest offsets with the roots' positions; a few real glTF
clips also translate inner joints, e.g. hips under a static root).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.training.data_licences import load_split
from engine.synthetic._fk import fk_levels
from engine.skeleton import Skeleton
from engine.synthetic.motions import evaluate_motion, random_motion_params
from engine.synthetic.skeletons import SyntheticRig, random_rig
from engine.synthetic.transfer import RealMotionLibrary

__all__ = ["FPS", "MotionSample", "MotionDataset"]

FPS = 30.0  # frame rate of every sample
_SPLITS = {"train": 0, "val": 1}


@dataclass(eq=False)
class MotionSample:
    """One training window.

    Attributes:
        name: where it came from (``"proc:<plan>:<rig>"`` or ``"real:<file>:<clip>"``).
        skeleton: the rig.
        positions: ``(T, J, 3)`` float64 world joint positions, metres.
        rotations: ``(T, J, 4)`` float64 local rotations, x y z w, parent space, rest included.
        ref_positions: ``(J, 3)`` world joint positions of the reference pose, metres.
        ref_rotations: ``(J, 4)`` its local rotations.
        fps: frame rate of the window.
        translations: ``(T, J, 3)`` local translations, metres, parent space: the rest offsets,
            with the roots' world positions, and for some real clips animated offsets of inner
            joints (glTF hips translated under a static root). ``positions`` is the forward
            kinematics of ``rotations`` with these. None only for samples built by hand.
    """

    name: str
    skeleton: Skeleton
    positions: np.ndarray
    rotations: np.ndarray
    ref_positions: np.ndarray
    ref_rotations: np.ndarray
    fps: float = FPS
    translations: np.ndarray | None = None


class MotionDataset:
    """Deterministic, indexable stream of :class:`MotionSample` windows.

    Args:
        seed: base seed; different seeds give different rigs and motions.
        split: ``"train"`` or ``"val"`` (disjoint procedural rig seeds; real clips split by hash).
        window: frames per sample.
        real_data_dir: shared data folder to mix in real motions (None: procedural only).
        licence_filter: ``"free"`` (default; what shipped weights may use) or ``"all"``.
        size: ``len(dataset)``; items are generated on demand, so this only bounds the index.
        real_fraction: probability that an item is a real motion when real data is available.
        pool_size: number of procedural rigs per split (val uses a quarter of it).
        split_file: held-out skeletons (default ``resources/eval_split.json``).
    """

    def __init__(
        self,
        seed: int = 0,
        split: str = "train",
        window: int = 32,
        real_data_dir: Path | str | None = None,
        licence_filter: str = "free",
        size: int = 100_000,
        real_fraction: float = 0.35,
        pool_size: int = 4096,
        split_file: Path | str | None = None,
    ) -> None:
        if split not in _SPLITS:
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        if window < 1 or size < 1:
            raise ValueError(f"window and size must be positive, got window={window}, size={size}")
        self.seed = int(seed)
        self.split = split
        self.window = int(window)
        self.size = int(size)
        self.real_fraction = float(real_fraction)
        self.pool_size = max(1, pool_size if split == "train" else pool_size // 4)
        self._rigs: dict[int, SyntheticRig] = {}
        self._real: RealMotionLibrary | None = None
        if real_data_dir is not None:
            held = load_split(split_file) if split_file is not None else None  # None: the default split file
            self._real = RealMotionLibrary(real_data_dir, licence_filter, held, split)
            if len(self._real) == 0:
                self._real = None

    def __len__(self) -> int:
        return self.size

    def rig(self, k: int) -> SyntheticRig:
        """Procedural rig ``k`` of this split's pool (cached)."""
        if k not in self._rigs:
            self._rigs[k] = random_rig(np.random.default_rng([self.seed, _SPLITS[self.split], 1, k]))
        return self._rigs[k]

    def __getitem__(self, i: int) -> MotionSample:
        if not 0 <= i < self.size:
            raise IndexError(f"index {i} out of range for a dataset of size {self.size}")
        rng = np.random.default_rng([self.seed, _SPLITS[self.split], 0, int(i)])
        if self._real is not None and rng.random() < self.real_fraction:
            got = self._real.sample(rng, self.window, FPS)
            if got is not None:
                name, w = got
                return MotionSample(f"real:{name}", w.skeleton, w.positions, w.rotations, w.ref_positions, w.ref_rotations, FPS, w.translations)
        return self._procedural(rng)

    def _procedural(self, rng: np.random.Generator) -> MotionSample:
        k = int(rng.integers(self.pool_size))
        rig = self.rig(k)
        sk = rig.skeleton
        params = random_motion_params(rig, rng)
        t0 = rng.uniform(0.0, 20.0)
        times = t0 + np.arange(self.window) / FPS
        u = rng.random()
        # Reference: another moment of the same motion, the window's first frame, or the rest pose.
        ref_time = t0 if u < 0.3 else rng.uniform(0.0, 25.0)
        quats, root_t = evaluate_motion(rig, params, np.append(times, ref_time))
        if u > 0.85:
            quats[-1] = sk.rest_rotations
            quats[-1, 0] = quats[0, 0]  # keep the root's orientation so the rest pose is not a jump
        trans = np.broadcast_to(sk.rest_translations, quats.shape[:2] + (3,)).copy()
        trans[:, 0] = root_t
        _, positions = fk_levels(sk.parents, rot.quat_to_matrix(quats), trans)
        return MotionSample(f"proc:{rig.plan}:{k}", sk, positions[:-1], quats[:-1], positions[-1], quats[-1], FPS, trans[:-1])
