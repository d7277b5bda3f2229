"""Simulate MediaPipe pose landmarks from motion capture (training data for the landmark V2P).

Pipeline: performer positions ``(T, 28, 3)`` (from :func:`engine.performer.from_mocap.performer_positions_from_mocap`)
-> the 33 BlazePose points (:func:`landmarks_from_performer`; face points from the head frame, index
and pinky knuckles from the hand frame) -> a random camera looks at the performer -> MediaPipe-like
world landmarks (hip-centred, camera-aligned, metres) and image landmarks (perspective projection,
normalised) -> noise: depth noise (MediaPipe's weakest axis), jitter, occlusion-dependent visibility
and extra error, out-of-frame presence, and dropout bursts where no person is found.

Everything random comes from one ``numpy.random.Generator`` seeded by the caller: the same seed
gives the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.perception.landmarks import NUM_LANDMARKS, Landmark, LandmarkFrame, internal_to_world
from engine.performer import NUM_PERFORMER_JOINTS, body_frame, hand_frames, performer_index

__all__ = ["FACE_POINTS", "CameraConfig", "NoiseConfig", "Camera", "SimulatedClip", "landmarks_from_performer", "sample_camera", "simulate_landmarks"]

# Face points in the head frame (x = performer's left, y = up, z = forward), metres for a 1.75 m adult,
# relative to the middle of the ears. The ears are symmetric, so their middle is the performer's head.
_FACE = {
    Landmark.LEFT_EYE_INNER: (0.015, 0.03, 0.085), Landmark.LEFT_EYE: (0.032, 0.03, 0.08),
    Landmark.LEFT_EYE_OUTER: (0.048, 0.03, 0.07), Landmark.LEFT_EAR: (0.075, 0.0, 0.0),
    Landmark.MOUTH_LEFT: (0.025, -0.045, 0.085),
}
FACE_POINTS = _FACE  # the left-side face model (right side mirrored in x; the nose is the performer's head_end)
_KNUCKLE_HALF_WIDTH = 0.035  # index and pinky knuckles sit this far either side of hand_end, metres


@dataclass(frozen=True)
class CameraConfig:
    """Ranges the random camera is drawn from (uniform)."""

    yaw_deg: tuple[float, float] = (-60.0, 60.0)  # 0 = straight in front of the performer's first-frame facing
    pitch_deg: tuple[float, float] = (-10.0, 25.0)  # positive = camera above, looking down
    distance_m: tuple[float, float] = (2.5, 4.5)
    fov_deg: tuple[float, float] = (50.0, 70.0)  # horizontal field of view
    width: int = 640
    height: int = 480


@dataclass(frozen=True)
class NoiseConfig:
    """Noise added to the ideal landmarks. All zeros gives exact landmarks.

    Attributes:
        depth_noise_m: std of the per-landmark error along the camera axis (world z), metres.
        depth_drift_m: std of a slowly varying per-landmark depth bias (AR(1), ``drift_rho``).
        jitter_m: std of iid noise on every world coordinate, metres.
        image_jitter: std of iid noise on image x/y (normalised units).
        occluded_noise_m: extra std on landmarks hidden behind the body.
        dropout_start: probability per frame that a dropout burst starts (no person found).
        dropout_mean_frames: mean length of a dropout burst, frames.
        visibility_noise: std of noise on the visibility scores.
        hip_width_scale: per-clip factor range for the distance between the hip landmarks
            (MediaPipe reports hips about 1.25 times wider than mocap hip joints on the shared videos).
    """

    depth_noise_m: float = 0.0
    depth_drift_m: float = 0.0
    drift_rho: float = 0.95
    jitter_m: float = 0.0
    image_jitter: float = 0.0
    occluded_noise_m: float = 0.0
    dropout_start: float = 0.0
    dropout_mean_frames: float = 5.0
    visibility_noise: float = 0.0
    hip_width_scale: tuple[float, float] = (1.0, 1.0)

    @staticmethod
    def realistic() -> NoiseConfig:
        """Levels resembling MediaPipe full on a webcam (depth is the worst axis)."""
        return NoiseConfig(depth_noise_m=0.03, depth_drift_m=0.04, jitter_m=0.008, image_jitter=0.002,
                           occluded_noise_m=0.04, dropout_start=0.01, dropout_mean_frames=4.0, visibility_noise=0.05,
                           hip_width_scale=(1.0, 1.45))


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: ``rotation`` columns are its right, down and viewing axes in the world; ``position`` metres."""

    rotation: np.ndarray  # (3, 3)
    position: np.ndarray  # (3,)
    focal: float  # focal length in pixels
    width: int
    height: int


@dataclass(frozen=True, eq=False)
class SimulatedClip:
    """Simulated landmark frames and the clean targets.

    Attributes:
        frames: one :class:`LandmarkFrame` per input frame.
        targets: ``(T, 28, 3)`` clean performer positions in the internal frame seen from the camera
            (hip-centred: what :func:`engine.performer.performer_positions_from_landmarks` gives for
            noise-free landmarks), metres.
        camera: the camera used.
    """

    frames: list[LandmarkFrame]
    targets: np.ndarray
    camera: Camera

    def stacked(self) -> dict[str, np.ndarray]:
        """The frames as arrays for training: ``world``/``image`` ``(T, 33, 3)``, ``visibility``/``presence``
        ``(T, 33)``, ``person_found`` ``(T,)`` bool, ``t_ms`` ``(T,)`` int64, ``targets`` ``(T, 28, 3)``."""
        return {
            "world": np.stack([f.world for f in self.frames]),
            "image": np.stack([f.image for f in self.frames]),
            "visibility": np.stack([f.visibility for f in self.frames]),
            "presence": np.stack([f.presence for f in self.frames]),
            "person_found": np.array([f.person_found for f in self.frames]),
            "t_ms": np.array([f.t_ms for f in self.frames], dtype=np.int64),
            "targets": np.array(self.targets),
        }


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def landmarks_from_performer(positions: np.ndarray) -> np.ndarray:
    """The 33 BlazePose points ``(..., 33, 3)`` of performer positions ``(..., 28, 3)`` (same frame, metres)."""
    p = np.asarray(positions, dtype=np.float64)
    J = lambda name: p[..., performer_index(name), :]  # noqa: E731
    out = np.zeros(p.shape[:-2] + (NUM_LANDMARKS, 3))
    s = np.linalg.norm(J("neck") - J("pelvis"), axis=-1, keepdims=True) / 0.5  # (..., 1) body scale
    head, nose = J("head"), J("head_end")
    up = _normalize(J("head") - J("neck"))
    fwd = _normalize(nose - head)
    fwd = _normalize(fwd - np.sum(fwd * up, axis=-1, keepdims=True) * up)
    left = np.cross(up, fwd)
    out[..., Landmark.NOSE, :] = nose
    for lm, (x, y, z) in _FACE.items():
        for sign, mark in ((1.0, lm), (-1.0, Landmark[lm.name.replace("LEFT", "RIGHT")])):
            out[..., mark, :] = head + s * (sign * x * left + y * up + z * fwd)
    hands = hand_frames(p)  # (..., 2, 3, 3); column 2 points to the thumb's side
    for k, side in enumerate(("LEFT", "RIGHT")):
        low = side.lower()
        out[..., Landmark[f"{side}_SHOULDER"], :] = J(f"{low}_upper_arm")
        out[..., Landmark[f"{side}_ELBOW"], :] = J(f"{low}_lower_arm")
        out[..., Landmark[f"{side}_WRIST"], :] = J(f"{low}_hand")
        thumb_side = hands[..., k, :, 2]
        out[..., Landmark[f"{side}_INDEX"], :] = J(f"{low}_hand_end") + s * _KNUCKLE_HALF_WIDTH * thumb_side
        out[..., Landmark[f"{side}_PINKY"], :] = J(f"{low}_hand_end") - s * _KNUCKLE_HALF_WIDTH * thumb_side
        out[..., Landmark[f"{side}_THUMB"], :] = J(f"{low}_thumb")
        out[..., Landmark[f"{side}_HIP"], :] = J(f"{low}_upper_leg")
        out[..., Landmark[f"{side}_KNEE"], :] = J(f"{low}_lower_leg")
        out[..., Landmark[f"{side}_ANKLE"], :] = J(f"{low}_foot")
        out[..., Landmark[f"{side}_HEEL"], :] = J(f"{low}_heel")
        out[..., Landmark[f"{side}_FOOT_INDEX"], :] = J(f"{low}_toe")
    return out


def sample_camera(positions: np.ndarray, config: CameraConfig, rng: np.random.Generator) -> Camera:
    """A random camera looking at the performer's mean pelvis, placed relative to their first-frame facing."""
    p = np.asarray(positions, dtype=np.float64)
    target = p[:, performer_index("pelvis")].mean(axis=0) + np.array([0.0, 0.15, 0.0])
    facing = body_frame(p[0])[:, 2]
    facing = _normalize(np.array([facing[0], 0.0, facing[2]]) + np.array([0.0, 0.0, 1e-9]))
    yaw, pitch = np.radians(rng.uniform(*config.yaw_deg)), np.radians(rng.uniform(*config.pitch_deg))
    dist, fov = rng.uniform(*config.distance_m), np.radians(rng.uniform(*config.fov_deg))
    c, s_ = np.cos(yaw), np.sin(yaw)
    horiz = np.array([c * facing[0] + s_ * facing[2], 0.0, -s_ * facing[0] + c * facing[2]])  # facing turned by yaw about Y
    position = target + dist * (np.cos(pitch) * horiz + np.sin(pitch) * np.array([0.0, 1.0, 0.0]))
    view = _normalize(target - position)
    right = _normalize(np.cross(view, [0.0, 1.0, 0.0]))
    down = np.cross(view, right)
    focal = 0.5 * config.width / np.tan(0.5 * fov)
    return Camera(np.stack([right, down, view], axis=-1), position, float(focal), config.width, config.height)


def simulate_landmarks(
    positions: np.ndarray,
    *,
    fps: float,
    seed: int,
    noise: NoiseConfig = NoiseConfig(),
    camera: CameraConfig = CameraConfig(),
    t0_ms: int = 0,
) -> SimulatedClip:
    """Simulate what PoseLandmarker would report for a performer filmed by a random camera.

    Args:
        positions: ``(T, 28, 3)`` performer positions, internal world frame (Y up), metres.
        fps: frame rate of ``positions``; timestamps are ``t0_ms + round(1000 * i / fps)``.
        seed: seeds every random choice (camera and noise); equal seeds give equal results.
        noise: noise levels (default: none).
        camera: camera ranges.
        t0_ms: timestamp of the first frame.

    Returns:
        The frames, the clean hip-centred camera-frame targets and the camera.
    """
    p = np.asarray(positions, dtype=np.float64)
    T, J, _ = p.shape
    if J != NUM_PERFORMER_JOINTS:
        raise ValueError(f"positions must be (T, {NUM_PERFORMER_JOINTS}, 3), got {p.shape}")
    rng = np.random.default_rng(seed)
    cam = sample_camera(p, camera, rng)
    lm = landmarks_from_performer(p)  # (T, 33, 3) world
    k = rng.uniform(*noise.hip_width_scale)  # systematic per-clip bias; the targets keep the true hips
    mid = 0.5 * (lm[:, Landmark.LEFT_HIP] + lm[:, Landmark.RIGHT_HIP])
    for hip in (Landmark.LEFT_HIP, Landmark.RIGHT_HIP):
        lm[:, hip] = mid + k * (lm[:, hip] - mid)
    hips = 0.5 * (lm[:, Landmark.LEFT_HIP] + lm[:, Landmark.RIGHT_HIP])  # (T, 3)
    cam_pts = (lm - cam.position) @ cam.rotation  # (T, 33, 3) camera axes: right, down, forward
    hip_cam = (hips - cam.position) @ cam.rotation  # (T, 3)
    world_mp = (lm - hips[:, None]) @ cam.rotation  # MediaPipe world: hip-centred, camera-aligned
    targets = _clean_targets(p, cam)
    visibility = _visibility(p, cam)  # (T, 33)
    occluded = visibility < 0.5
    world_noisy = world_mp.copy()
    if noise.depth_drift_m > 0:
        drift = np.zeros((T, NUM_LANDMARKS))
        kick = np.sqrt(1.0 - noise.drift_rho**2) * noise.depth_drift_m
        drift[0] = rng.normal(0.0, noise.depth_drift_m, NUM_LANDMARKS)
        for t in range(1, T):
            drift[t] = noise.drift_rho * drift[t - 1] + rng.normal(0.0, kick, NUM_LANDMARKS)
        world_noisy[..., 2] += drift
    if noise.depth_noise_m > 0:
        world_noisy[..., 2] += rng.normal(0.0, noise.depth_noise_m, (T, NUM_LANDMARKS))
    if noise.jitter_m > 0:
        world_noisy += rng.normal(0.0, noise.jitter_m, world_noisy.shape)
    if noise.occluded_noise_m > 0:
        world_noisy += occluded[..., None] * rng.normal(0.0, noise.occluded_noise_m, world_noisy.shape)
    # Image landmarks: pinhole projection; z in the scale of x (MediaPipe), relative to the hips.
    depth = np.maximum(cam_pts[..., 2], 1e-3)
    image = np.empty_like(cam_pts)
    image[..., 0] = 0.5 + cam.focal * cam_pts[..., 0] / depth / cam.width
    image[..., 1] = 0.5 + cam.focal * cam_pts[..., 1] / depth / cam.height
    image[..., 2] = (cam_pts[..., 2] - hip_cam[:, None, 2]) * cam.focal / np.maximum(hip_cam[:, None, 2], 1e-3) / cam.width
    if noise.image_jitter > 0:
        image[..., :2] += rng.normal(0.0, noise.image_jitter, image[..., :2].shape)
    inside = np.all((image[..., :2] >= 0.0) & (image[..., :2] <= 1.0), axis=-1)
    presence = np.where(inside, 0.99, 0.05)
    visibility = np.minimum(visibility, presence)
    if noise.visibility_noise > 0:
        visibility = visibility + rng.normal(0.0, noise.visibility_noise, visibility.shape)
    visibility = np.clip(visibility, 0.0, 1.0)
    found = _dropouts(T, noise, rng)
    frames = []
    for t in range(T):
        t_ms = t0_ms + int(round(1000.0 * t / fps))
        if not found[t]:
            frames.append(LandmarkFrame.empty(t_ms))
            continue
        frames.append(LandmarkFrame(world_noisy[t], image[t], visibility[t], presence[t], True, t_ms))
    return SimulatedClip(frames, targets, cam)


def _visibility(p: np.ndarray, cam: Camera) -> np.ndarray:
    """``(T, 33)`` self-occlusion heuristic: a body side turned away from the camera is hidden.

    A sided landmark is hidden when its side axis (the performer's left, or right) points away from
    the camera by more than about 30 degrees past profile; the face is hidden when the performer
    faces away. Smooth (logistic) so that visibility fades rather than switches.
    """
    frames = body_frame(p)  # (T, 3, 3) columns: left, up, forward
    view = cam.rotation[:, 2]
    away_left = frames[..., 0] @ view  # (T,) > 0: the left side points away from the camera
    away_face = frames[..., 2] @ view
    sig = lambda x: 1.0 / (1.0 + np.exp(np.clip(x, -50.0, 50.0)))  # noqa: E731
    vis = np.full((p.shape[0], NUM_LANDMARKS), 0.99)
    for lm in Landmark:
        if lm.name.startswith("LEFT"):
            vis[:, lm] = 0.99 * sig((away_left - 0.5) / 0.1)
        elif lm.name.startswith("RIGHT"):
            vis[:, lm] = 0.99 * sig((-away_left - 0.5) / 0.1)
        if lm <= Landmark.MOUTH_RIGHT:
            vis[:, lm] = np.minimum(vis[:, lm], 0.99 * sig((away_face - 0.3) / 0.1))
    return vis


def _clean_targets(p: np.ndarray, cam: Camera) -> np.ndarray:
    """Performer positions hip-centred in the camera-aligned internal frame (X right, Y up, Z toward the camera)."""
    pelvis = p[:, performer_index("pelvis")][:, None]
    mp = (p - pelvis) @ cam.rotation  # MediaPipe axes
    return internal_to_world(mp)  # the same flip maps MediaPipe -> internal


def _dropouts(T: int, noise: NoiseConfig, rng: np.random.Generator) -> np.ndarray:
    """``(T,)`` bool, False inside dropout bursts (geometric lengths with the configured mean)."""
    found = np.ones(T, dtype=bool)
    if noise.dropout_start <= 0:
        return found
    t = 0
    while t < T:
        if rng.random() < noise.dropout_start:
            length = int(rng.geometric(1.0 / max(noise.dropout_mean_frames, 1.0)))
            found[t : t + length] = False
            t += length
        t += 1
    return found
