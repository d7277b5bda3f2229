"""A synthetic performer: the bundled humanoid playing a clip, drawn with OpenCV, with ground truth.

For tests, demos and benchmarks without a camera. Each frame carries:

- an image of a simple shaded figure (capsules per bone, seen by a pinhole camera 3 m in front
  of the performer). It is for the camera view, not for detection: MediaPipe is not expected to
  find a person in it;
- ``landmarks``: the 33 BlazePose landmarks the simulator
  (:mod:`engine.perception.landmark_simulator`) makes from the performer's joints, with noise, as a
  perfect-ish perception would give them;
- ``truth_positions``: ``(J, 3)`` metres, the humanoid's world joint positions (internal frame).

The performer faces the camera (+Z), its left side on +X, which the camera shows on the right of
the image, like a real camera facing a person.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from engine import rotations as rot
from engine.kinematics import forward_kinematics
from engine.perception.landmark_simulator import Camera, CameraConfig, NoiseConfig, simulate_landmarks
from engine.perception.landmarks import LandmarkFrame
from engine.rig import Clip, Rig
from streaming.frames import Frame
from streaming.sources import Pacer, Source

__all__ = ["SyntheticFrame", "SyntheticSource", "project", "render_figure"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SyntheticFrame(Frame):
    """A :class:`Frame` with the ground truth of the synthetic performer.

    Attributes:
        landmarks: simulated BlazePose landmarks (with noise), ``t_ms`` = capture time in ms.
        truth_positions: ``(J, 3)`` float64 metres, the humanoid's world joints, internal frame.
        truth_performer: ``(28, 3)`` float64 metres, the clean canonical performer as perception
            would see it without noise (hip-centred, camera-aligned internal frame; see
            :class:`engine.perception.landmark_simulator.SimulatedClip`).
        clip_frame: the clip frame shown.
    """

    landmarks: LandmarkFrame | None = None
    truth_positions: np.ndarray | None = None
    truth_performer: np.ndarray | None = None
    clip_frame: int = 0


def project(camera: Camera, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(N, 2)`` and depths ``(N,)`` metres of world points ``(N, 3)``."""
    cam = (np.asarray(points, dtype=np.float64) - camera.position) @ camera.rotation  # (N, 3) right, down, view
    depth = np.maximum(cam[:, 2], 1e-3)
    uv = np.stack([camera.width / 2 + camera.focal * cam[:, 0] / depth, camera.height / 2 + camera.focal * cam[:, 1] / depth], axis=1)
    return uv, depth


def _bone_radius(name: str) -> float:
    """Capsule radius in metres for a humanoid bone ending at joint ``name`` (0: not drawn)."""
    n = name.lower()
    for key, r in (("thumb", 0.0), ("index", 0.0), ("middle", 0.0), ("ring", 0.0), ("little", 0.0),
                   ("toes", 0.03), ("foot", 0.045), ("lowerleg", 0.06), ("upperleg", 0.075), ("hand", 0.03),
                   ("lowerarm", 0.04), ("upperarm", 0.05), ("shoulder", 0.05), ("neck", 0.05), ("head", 0.06)):
        if key in n:
            return r
    return 0.11  # spine, chest: the torso


def _background(camera: Camera) -> np.ndarray:
    """A grey studio: a vertical gradient wall and a darker floor, ``(H, W, 3)`` uint8 BGR."""
    h, w = camera.height, camera.width
    img = np.empty((h, w, 3), dtype=np.uint8)
    view = camera.rotation[:, 2] * np.array([1.0, 0.0, 1.0])
    view /= max(np.linalg.norm(view), 1e-9)
    far = camera.position * np.array([1.0, 0.0, 1.0]) + 6.0 * view  # the floor 6 m ahead: where the wall starts
    horizon = int(np.clip(project(camera, far[None])[0][0, 1], 0, h))
    ramp = np.linspace(200, 160, h)[:, None]
    img[:] = np.repeat(ramp, w, axis=1)[..., None].astype(np.uint8)
    img[horizon:] = (110, 115, 120)
    return img


def render_figure(
    image: np.ndarray,
    camera: Camera,
    positions: np.ndarray,
    parents: np.ndarray,
    radii: np.ndarray,
    head: tuple[int, float] | None = None,
) -> np.ndarray:
    """Draw a skeleton as shaded capsules, far bones first, into ``image`` (in place).

    Args:
        image: ``(H, W, 3)`` uint8 BGR, written in place.
        camera: the camera.
        positions: ``(J, 3)`` metres, world joint positions.
        parents: ``(J,)`` parent indices.
        radii: ``(J,)`` metres, radius of the bone that ends at each joint (0: skip the bone).
        head: ``(joint, radius m)``: draw a ball of that radius just beyond that joint.

    Returns:
        ``image``.
    """
    uv, depth = project(camera, positions)
    bones = [j for j in range(len(parents)) if parents[j] >= 0 and radii[j] > 0]
    order = sorted(bones, key=lambda j: -(depth[j] + depth[parents[j]]))
    f = camera.focal
    for j in order:
        p = parents[j]
        a = tuple(int(v) for v in uv[p])
        b = tuple(int(v) for v in uv[j])
        d = 0.5 * (depth[j] + depth[p])
        r = max(int(radii[j] * f / d), 1)
        shade = float(np.clip(1.3 - 0.25 * d, 0.55, 1.0))  # nearer is brighter
        base = np.array([90, 120, 200]) if positions[j, 0] > 0.02 else np.array([200, 130, 90]) if positions[j, 0] < -0.02 else np.array([120, 170, 120])
        cv2.line(image, a, b, tuple(int(c) for c in base * shade * 0.6), 2 * r + 2, cv2.LINE_AA)
        cv2.line(image, a, b, tuple(int(c) for c in base * shade), 2 * r, cv2.LINE_AA)
        if r > 3:  # a highlight toward the light (upper left)
            off = (-max(r // 3, 1), -max(r // 3, 1))
            hl = tuple(int(min(c * shade * 1.3, 255)) for c in base)
            cv2.line(image, (a[0] + off[0], a[1] + off[1]), (b[0] + off[0], b[1] + off[1]), hl, max(r // 2, 1), cv2.LINE_AA)
    if head is not None:
        j, radius = head
        up = positions[j] - positions[parents[j]]
        centre = positions[j] + up / max(np.linalg.norm(up), 1e-9) * radius * 0.8
        (c_uv,), (c_d,) = project(camera, centre[None])
        r = max(int(radius * f / c_d), 2)
        c = (int(c_uv[0]), int(c_uv[1]))
        cv2.circle(image, c, r + 1, (70, 100, 130), -1, cv2.LINE_AA)
        cv2.circle(image, c, r, (120, 170, 215), -1, cv2.LINE_AA)
        cv2.circle(image, (c[0] - r // 3, c[1] - r // 3), max(r // 3, 1), (160, 200, 235), -1, cv2.LINE_AA)
    return image


class SyntheticSource(Source):
    """The bundled humanoid playing a clip in a loop, rendered and paced like a camera.

    The clip's frames are shown one per source frame (at ``fps`` the clip plays at its own 30 fps
    speed). The landmark simulator sees the performer through a fixed camera 3 m in front of it,
    which also draws the image, so image landmarks line up with the drawing.

    Args:
        clip: the humanoid clip to play (``"wave"``, ``"idle"`` or ``"walk"``, whose forward travel
            is removed so the performer stays in view).
        fps: frame rate, frames per second.
        realtime: pace frames at ``fps``; ``False`` gives them as fast as possible.
        width, height: image size in pixels.
        noise_m: standard deviation of the world-landmark jitter, metres.
        seed: random seed of the landmark noise.
        limit: stop after this many frames (``None``: loop forever).
    """

    kind = "synthetic"

    NOISE_LOOP_FRAMES = 300  # landmarks are simulated for this many frames, so the noise varies between loops

    def __init__(
        self,
        clip: str = "wave",
        *,
        fps: float = 30.0,
        realtime: bool = True,
        width: int = 640,
        height: int = 480,
        noise_m: float = 0.005,
        seed: int = 0,
        limit: int | None = None,
    ) -> None:
        super().__init__("synthetic", fps)
        self.clip_name = clip
        self.realtime, self.limit = realtime, limit
        self.noise_m, self.seed = noise_m, seed
        self.width, self.height = width, height
        self.rig: Rig | None = None
        self.camera: Camera | None = None
        self._pacer = Pacer(fps)
        self._positions: np.ndarray | None = None  # (T, J, 3) world joints of the clip
        self._landmarks: list[LandmarkFrame] = []  # (K,) simulated, K a multiple of T
        self._truth_performer: np.ndarray | None = None  # (K, 28, 3) clean performer targets
        self._background: np.ndarray | None = None
        self._radii: np.ndarray | None = None
        self._head: tuple[int, float] | None = None

    def _open(self) -> None:
        if self.rig is None:
            self._prepare()

    def _prepare(self) -> None:
        from engine.rigs.bundled import build_rig
        from engine.performer.from_mocap import performer_positions_from_mocap

        rig = build_rig("humanoid").rig
        clip = rig.clip(self.clip_name)
        translations = clip.translations.copy()
        translations[:, 0, [0, 2]] = translations[:1, 0, [0, 2]]  # stay in place (walk travels 2.6 m)
        clip = Clip(clip.name, clip.fps, clip.rotations, translations)
        _, self._positions = forward_kinematics(rig.skeleton.parents, rot.quat_to_matrix(clip.rotations), translations)
        performer = performer_positions_from_mocap(rig.skeleton, clip, dict(rig.humanoid) or None)  # (T, 28, 3)
        loops = max(1, -(-self.NOISE_LOOP_FRAMES // len(performer)))
        cam = CameraConfig(yaw_deg=(0.0, 0.0), pitch_deg=(5.0, 5.0), distance_m=(3.0, 3.0), fov_deg=(60.0, 60.0),
                           width=self.width, height=self.height)
        sim = simulate_landmarks(np.tile(performer, (loops, 1, 1)), fps=float(self.fps), seed=self.seed,
                                 noise=NoiseConfig(jitter_m=self.noise_m), camera=cam)
        self._landmarks, self._truth_performer, self.camera = sim.frames, sim.targets, sim.camera
        self._radii = np.array([_bone_radius(n) for n in rig.skeleton.names])
        self._head = (rig.skeleton.index("Head"), 0.11)
        self._background = _background(sim.camera)
        self.rig = rig

    def _read(self) -> Frame | None:
        assert self._positions is not None and self._background is not None and self.rig is not None
        if self.limit is not None and self._next_index >= self.limit:
            self._finish()
            return None
        if self.realtime:
            self._pacer.wait(self._interrupted)
        k = self._next_index % len(self._landmarks)
        positions = self._positions[k % len(self._positions)]
        image = render_figure(self._background.copy(), self.camera, positions, self.rig.skeleton.parents, self._radii, self._head)
        t = time.monotonic_ns()
        landmarks = dataclasses.replace(self._landmarks[k], t_ms=t // 1_000_000)
        return self._stamp(image, t, landmarks=landmarks, truth_positions=positions,
                           truth_performer=self._truth_performer[k], clip_frame=k % len(self._positions))

    def _make_frame(self, image: np.ndarray, t_capture_ns: int, index: int, **extra: Any) -> Frame:
        return SyntheticFrame(image, t_capture_ns, index, self.source_id, **extra)

    def _close(self) -> None:
        self._pacer.reset()
