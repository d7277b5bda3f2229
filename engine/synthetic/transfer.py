"""Real motions transferred onto randomised copies of their rigs.

:func:`transfer_window` takes a real clip and makes a new rig of the same topology with random
bone lengths, a random rest pose (the original rest or another frame of the clip), a random
global rest orientation and a random local-axis convention, then recomputes local rotations so
the **world-space motion of every bone direction is preserved** (up to a random yaw of the whole
motion and a global scale):

- original world rotations ``W_j(t)``, and a base pose ``B_j`` (rest or frame ``k``);
- new rest world offset of child ``c`` of joint ``j``: ``o_c = s_c * G @ B_j @ t_c`` (``t_c`` the
  original rest offset, ``s_c`` a random length factor, ``G`` the rest orientation);
- new world rotation ``W'_j(t) = Y @ W_j(t) @ B_j^T @ G^T @ R'_j`` with ``R'_j`` the new rest frame of
  joint ``j`` (its convention) and ``Y`` a random yaw; then ``W'_j(t) t'_c = s_c Y W_j(t) t_c``,
  i.e. every bone keeps its original world direction (rotated by ``Y``).

Animated non-root translations of the source (glTF hips moved under a static root) are kept,
mapped and scaled like the rest offsets.
:class:`RealMotionLibrary` indexes the freely licensed, not held-out shared files and caches
each loaded rig in memory.
"""

from __future__ import annotations

import logging
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine import rotations as rot
from engine.training.data_licences import HeldOutSplit, training_files
from engine.synthetic._fk import depth_levels, fk_levels
from engine.rig import Clip, Rig
from engine.skeleton import Skeleton
from engine.synthetic.naming import JointLabel, name_joints
from engine.synthetic.skeletons import CONVENTIONS, convention_frames

__all__ = ["TransferredWindow", "transfer_window", "RealMotionLibrary"]

logger = logging.getLogger(__name__)

_MIN_FRAMES = 8  # shorter clips (rest poses, 1-frame references) are not motion


@dataclass(frozen=True, eq=False)
class TransferredWindow:
    """A window of a real motion on a randomised rig.

    Attributes:
        skeleton: the new rig (same topology and, usually, names as the source).
        rotations: ``(T, J, 4)`` local rotations, x y z w, rest included.
        positions: ``(T, J, 3)`` world joint positions, metres.
        ref_rotations: ``(J, 4)`` local rotations of the reference frame.
        ref_positions: ``(J, 3)`` its world joint positions, metres.
        translations: ``(T, J, 3)`` local translations, metres: root trajectory, rest offsets, and
            the source's animated offsets where it has them; ``positions`` is their forward
            kinematics with ``rotations``.
    """

    skeleton: Skeleton
    rotations: np.ndarray
    positions: np.ndarray
    ref_rotations: np.ndarray
    ref_positions: np.ndarray
    translations: np.ndarray


def _sample_clip(clip: Clip, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Local rotations ``(T, J, 4)`` (slerp) and translations ``(T, J, 3)`` at fractional frames."""
    n = clip.num_frames
    f = np.clip(frames, 0, n - 1)
    i0 = np.floor(f).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (f - i0)[:, None]
    rots = rot.slerp(clip.rotations[i0], clip.rotations[i1], np.broadcast_to(w, (len(f), clip.rotations.shape[1])))
    trans = clip.translations[i0] * (1 - w[..., None]) + clip.translations[i1] * w[..., None]
    return rots, trans


def _bone_dirs(parents: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``(J, 3)`` unit direction from each joint to its first child with a non-zero offset."""
    J = len(parents)
    dirs = np.tile([0.0, 1.0, 0.0], (J, 1))
    found = np.zeros(J, dtype=bool)
    for c in range(J):
        p = parents[c]
        if p < 0 or found[p]:
            continue
        d = pos[c] - pos[p]
        n = np.linalg.norm(d)
        if n > 1e-9:
            dirs[p] = d / n
            found[p] = True
    for j in range(J):  # leaves point away from their parent
        p = parents[j]
        if not found[j] and p >= 0:
            d = pos[j] - pos[p]
            n = np.linalg.norm(d)
            if n > 1e-9:
                dirs[j] = d / n
    return dirs


def _new_names(names: tuple[str, ...], rng: np.random.Generator) -> tuple[str, ...]:
    """Usually the source names; sometimes generic ``Bone.NNN`` names or an exporter prefix."""
    u = rng.random()
    if u < 0.15:
        return tuple(name_joints([JointLabel("bone")] * len(names), rng, "generic")[0])
    if u < 0.25:
        prefix = str(rng.choice(["Armature_", "rig:", "DEF-", "mixamorig:", "CC_Base_"]))
        return tuple(prefix + n for n in names)
    return names


def transfer_window(
    skeleton: Skeleton, clip: Clip, frames: np.ndarray, ref_frame: float, rng: np.random.Generator, drop_probability: float = 0.0
) -> TransferredWindow:
    """A window of ``clip`` on a randomised copy of ``skeleton``.

    Args:
        skeleton: the source rig.
        clip: a clip on it.
        frames: ``(T,)`` fractional source frame indices of the window.
        ref_frame: fractional source frame of the reference pose.
        rng: random source for the new rig.
        drop_probability: chance of removing 1-3 random subtrees (fingers, tails, IK helper
            bones...) so real rigs also appear with other topologies; at least half the joints stay.

    Returns:
        The window; ``positions`` equal forward kinematics of ``rotations`` and ``translations``
        on the new skeleton.
    """
    parents = skeleton.parents
    J = skeleton.num_joints
    times = np.append(np.asarray(frames, dtype=np.float64), ref_frame)
    if rng.random() < 0.3:  # rest pose of the new rig = another frame of the clip
        times = np.append(times, rng.uniform(0, clip.num_frames - 1))
    local_q, local_t = _sample_clip(clip, times)
    world_r, world_p = fk_levels(parents, rot.quat_to_matrix(local_q), local_t)  # (T', J, 3, 3), (T', J, 3)
    rest_r = rot.quat_to_matrix(rot.quat_normalize(skeleton.rest_rotations))
    for idx in depth_levels(parents)[1:]:
        rest_r[idx] = rest_r[parents[idx]] @ rest_r[idx]
    base = world_r[-1] if len(times) > len(frames) + 1 else rest_r  # (J, 3, 3)
    n_motion = len(frames) + 1
    g = float(np.exp(rng.uniform(np.log(0.5), np.log(2.0))))
    factors = g * rng.uniform(0.75, 1.35, size=J)
    G = rot.axis_angle_to_matrix(rng.normal(0, 1, 3) * rng.uniform(0, np.pi)) if rng.random() < 0.2 else np.eye(3)
    Y = rot.axis_angle_to_matrix(np.array([0.0, rng.uniform(-np.pi, np.pi), 0.0]))
    # New rest world positions: offsets o_c = s_c G B_p t_c accumulated from the roots.
    has_p = parents >= 0
    offsets = g * np.einsum("ab,jb->ja", G, skeleton.rest_translations)  # roots: scaled, rotated rest position
    offsets[has_p] = factors[has_p, None] * np.einsum(
        "ab, jbc, jc->ja", G, base[parents[has_p]], skeleton.rest_translations[has_p]
    )
    new_pos = offsets.copy()
    for idx in depth_levels(parents)[1:]:
        new_pos[idx] += new_pos[parents[idx]]
    convention = str(rng.choice(CONVENTIONS, p=[0.25, 0.25, 0.2, 0.1, 0.1, 0.1]))
    new_frames = convention_frames(convention, _bone_dirs(parents, new_pos), [""] * J, rng)  # (J, 3, 3) R'_j
    new_world = Y @ world_r[:n_motion] @ np.swapaxes(base, -1, -2) @ G.T @ new_frames  # (T+1, J, 3, 3)
    new_local = new_world.copy()
    new_local[:, has_p] = np.swapaxes(new_world[:, parents[has_p]], -1, -2) @ new_world[:, has_p]
    rest_local_r = new_frames.copy()
    rest_local_r[has_p] = np.swapaxes(new_frames[parents[has_p]], -1, -2) @ new_frames[has_p]
    rest_local_t = new_pos.copy()
    rest_local_t[has_p] = np.einsum("jba,jb->ja", new_frames[parents[has_p]], new_pos[has_p] - new_pos[parents[has_p]])
    end_j = skeleton.end_site_joints
    end_off = np.einsum(
        "eba, eb->ea", new_frames[end_j],
        factors[end_j, None] * np.einsum("ab,ebc,ec->ea", G, base[end_j], skeleton.end_site_offsets)
    ) if len(end_j) else np.zeros((0, 3))
    new_skel = Skeleton(_new_names(skeleton.names, rng), parents, rest_local_t, rot.matrix_to_quat(rest_local_r, orthonormal=True), end_j, end_off)
    # Translations: roots follow the source roots, scaled and yawed; other joints keep their
    # source translation (usually the rest offset; animated in some glTF clips), mapped like the
    # rest offsets: t'_c = s_c R'_p^T G B_p t_c.
    trans = np.empty((n_motion, J, 3))
    roots = ~has_p
    trans[:, roots] = g * np.einsum("ab,tjb->tja", Y, world_p[:n_motion, roots])
    to_new = np.swapaxes(new_frames[parents[has_p]], -1, -2) @ G @ base[parents[has_p]]  # (C, 3, 3)
    trans[:, has_p] = factors[has_p, None] * np.einsum("jab,tjb->tja", to_new, local_t[:n_motion, has_p])
    _, positions = fk_levels(parents, new_local, trans)
    quats = rot.matrix_to_quat(new_local, orthonormal=True)
    keep = _drop_subtrees(parents, rng) if rng.random() < drop_probability else None
    if keep is None:
        return TransferredWindow(new_skel, quats[:-1], positions[:-1], quats[-1], positions[-1], trans[:-1])
    # Whole subtrees go, so every kept joint keeps its parent and its local transforms.
    return TransferredWindow(
        new_skel.subset(keep), quats[:-1, keep], positions[:-1, keep], quats[-1, keep], positions[-1, keep], trans[:-1, keep]
    )


def _drop_subtrees(parents: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
    """Sorted joint indices left after removing 1-3 random non-root subtrees (None if too few remain)."""
    J = len(parents)
    removed = np.zeros(J, dtype=bool)
    for _ in range(int(rng.integers(1, 4))):
        j = int(rng.integers(J))
        if parents[j] < 0:
            continue
        removed[j] = True
    for j in range(J):  # parents come first, so one pass propagates removal down
        if parents[j] >= 0 and removed[parents[j]]:
            removed[j] = True
    keep = np.flatnonzero(~removed)
    return keep if len(keep) >= max(3, J // 2) and len(keep) < J else None


class RealMotionLibrary:
    """Freely licensed, not held-out real clips from the shared data folder, loaded lazily.

    Each file's rig is read once (``engine.formats.rigio.load_rig``) and kept in memory. Clips are
    assigned to ``"train"`` or ``"val"`` by a hash of ``(file, clip index)`` (one in seven goes to
    val; files with one clip stay in train), so the val part shares skeletons but not motions.

    Args:
        data_dir: the shared data folder with ``manifest.csv``.
        licence_filter: ``"free"`` or ``"all"`` (see :func:`engine.training.data_licences.training_files`).
        split: held-out skeletons (default: ``resources/eval_split.json``).
        part: ``"train"`` or ``"val"``.
    """

    def __init__(self, data_dir: str | Path, licence_filter: str = "free", split: HeldOutSplit | None = None, part: str = "train") -> None:
        self.data_dir = Path(data_dir)
        self.part = part
        entries = training_files(self.data_dir, licence_filter, split)
        self._skeleton_ids = sorted({e.skeleton for e in entries})
        self._files = {s: [e.file for e in entries if e.skeleton == s] for s in self._skeleton_ids}
        self._cache: dict[str, list[tuple[Skeleton, Clip]]] = {}

    def __len__(self) -> int:
        """Number of skeleton ids available."""
        return len(self._skeleton_ids)

    @property
    def skeleton_ids(self) -> list[str]:
        return list(self._skeleton_ids)

    def _clips(self, file: str) -> list[tuple[Skeleton, Clip]]:
        if file not in self._cache:
            from engine.formats.rigio import load_rig  # the IO layer is only needed when real data is used

            rig: Rig = load_rig(self.data_dir / file)
            usable = [(i, c) for i, c in enumerate(rig.clips) if c.num_frames >= _MIN_FRAMES and c.name.lower() != "reference"]
            keep = []
            for i, c in usable:
                to_val = len(usable) > 1 and zlib.crc32(f"{file}#{i}".encode()) % 7 == 0
                if to_val == (self.part == "val"):
                    keep.append((rig.skeleton, c))
            self._cache[file] = keep
            logger.debug("loaded %s: %d clips for %s", file, len(keep), self.part)
        return self._cache[file]

    def sample(self, rng: np.random.Generator, window: int, fps: float = 30.0) -> tuple[str, TransferredWindow] | None:
        """A random transferred window (skeleton id uniform, then file and clip), or None if empty.

        The window is ``window`` frames at about ``fps`` (times a random speed factor in
        ``[0.8, 1.25]``), slowed down when the clip is too short.
        """
        if not self._skeleton_ids:
            return None
        for _ in range(4):
            sid = self._skeleton_ids[int(rng.integers(len(self._skeleton_ids)))]
            files = self._files[sid]
            file = files[int(rng.integers(len(files)))]
            clips = self._clips(file)
            if clips:
                break
        else:
            return None
        skeleton, clip = clips[int(rng.integers(len(clips)))]
        step = clip.fps / fps * rng.uniform(0.8, 1.25)
        step = min(step, (clip.num_frames - 1) / max(window - 1, 1))
        start = rng.uniform(0, clip.num_frames - 1 - step * (window - 1))
        frames = start + step * np.arange(window)
        ref = frames[0] if rng.random() < 0.3 else rng.uniform(0, clip.num_frames - 1)
        return f"{file}:{clip.name}", transfer_window(skeleton, clip, frames, ref, rng, drop_probability=0.3)
