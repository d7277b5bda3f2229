"""Render an animated human into camera frames without a window (pygfx offscreen), for end-to-end tests.

:func:`build_body` dresses any humanoid skeleton in a simple lit body: capsules along the bones
(shirt on the torso and upper arms, skin on the forearms, hands, neck and head, trousers, shoes;
a palm and 15 finger segments when the skeleton has Unity finger bones, so the hand landmarker
can see fingers),
a head with eyes, nose, mouth and hair, proportions scaled to the skeleton's torso. Each part
is rigidly attached to one joint, so posing is one transform per joint (no skin weights needed).
MediaPipe PoseLandmarker detects a person in these frames (the detection rate is measured by
``main.py eval-live``).

:class:`OffscreenBodyRenderer` draws the body with pygfx onto a plain background through a
pinhole camera (:class:`CameraSpec`) into ``(H, W, 3)`` uint8 BGR frames (OpenCV order, what the
perception adapter takes). Software rendering settings (DESIGN §6, §8):
``WgpuRenderer(canvas, pixel_scale=1, ppaa="none")``, and on OpenGL adapters
``enable_wgpu_features("!float32-filterable")`` before the first renderer
(:func:`tools.gpu_setup.configure_wgpu`).

Frames: world = internal (metres, Y up, +Z forward). The camera's ``rotation`` columns are its
right, down and viewing axes in the world, like :class:`engine.perception.landmark_simulator.Camera`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from engine.skeleton import Skeleton

__all__ = ["Body", "CameraSpec", "OffscreenBodyRenderer", "build_body", "pose_body"]

logger = logging.getLogger(__name__)

SKIN = (0.87, 0.68, 0.55)
SHIRT = (0.20, 0.38, 0.68)
TROUSERS = (0.18, 0.18, 0.24)
SHOES = (0.10, 0.08, 0.07)
HAIR = (0.22, 0.14, 0.08)
DARK = (0.08, 0.05, 0.05)
LIPS = (0.62, 0.30, 0.30)
_FINGERS = ("Thumb", "Index", "Middle", "Ring", "Little")  # Unity HumanBodyBones finger names
_PHALANGES = ("Proximal", "Intermediate", "Distal")
BACKGROUND = "#d8d8d4"


@dataclass(frozen=True)
class CameraSpec:
    """A pinhole camera looking from ``position`` at ``target`` (world metres), world up = +Y.

    Attributes:
        position, target: ``(3,)`` metres.
        fov_deg: vertical field of view, degrees.
        width, height: image size, pixels.
    """

    position: tuple[float, float, float] = (0.0, 1.0, 3.0)
    target: tuple[float, float, float] = (0.0, 0.9, 0.0)
    fov_deg: float = 50.0
    width: int = 640
    height: int = 480

    def rotation(self) -> np.ndarray:
        """``(3, 3)`` columns: camera right, down, viewing direction (world)."""
        view = np.asarray(self.target, float) - np.asarray(self.position, float)
        view /= np.linalg.norm(view)
        right = np.cross(view, [0.0, 1.0, 0.0])
        right /= np.linalg.norm(right)
        return np.stack([right, np.cross(view, right), view], axis=-1)

    def project(self, points: np.ndarray) -> np.ndarray:
        """``(..., 3)`` world points -> ``(..., 2)`` pixel coordinates (x right, y down)."""
        cam = (np.asarray(points, float) - np.asarray(self.position, float)) @ self.rotation()
        f = 0.5 * self.height / np.tan(np.radians(self.fov_deg) / 2)
        z = np.maximum(cam[..., 2], 1e-6)
        return np.stack([0.5 * self.width + f * cam[..., 0] / z, 0.5 * self.height + f * cam[..., 1] / z], axis=-1)


@dataclass(frozen=True, eq=False)
class Body:
    """A body mesh rigidly bound to joints.

    Attributes:
        local_positions: ``(V, 3)`` float64 vertex positions in their joint's rest frame.
        local_normals: ``(V, 3)`` float64 unit normals in the same frames.
        joint: ``(V,)`` int joint each vertex follows.
        colors: ``(V, 4)`` float32 RGBA.
        indices: ``(F, 3)`` uint32 triangles.
    """

    local_positions: np.ndarray
    local_normals: np.ndarray
    joint: np.ndarray
    colors: np.ndarray
    indices: np.ndarray


def _capsule(a: np.ndarray, b: np.ndarray, radii: tuple[float, float], side: np.ndarray, n_lat: int = 6, n_lon: int = 14) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A capsule from ``a`` to ``b`` with an elliptic cross-section (``radii`` along ``side`` and the third axis).

    Returns positions ``(V, 3)``, normals ``(V, 3)`` and triangles ``(F, 3)``, world frame.
    """
    axis = b - a
    length = float(np.linalg.norm(axis))
    y = axis / length if length > 1e-9 else np.array([0.0, 1.0, 0.0])
    x = side - np.dot(side, y) * y
    x = x / np.linalg.norm(x) if np.linalg.norm(x) > 1e-6 else np.cross(y, [0.0, 0.0, 1.0]) / max(np.linalg.norm(np.cross(y, [0.0, 0.0, 1.0])), 1e-9)
    z = np.cross(x, y)
    rx, rz = radii
    ry = 0.5 * (rx + rz)
    theta = np.concatenate([np.linspace(0.0, np.pi / 2, n_lat), np.linspace(np.pi / 2, np.pi, n_lat)])
    offset = np.concatenate([np.full(n_lat, length), np.zeros(n_lat)])
    phi = np.linspace(0.0, 2 * np.pi, n_lon, endpoint=False)
    st, ct = np.sin(theta)[:, None], np.cos(theta)[:, None]
    ux, uy, uz = st * np.cos(phi), np.broadcast_to(ct, (len(theta), n_lon)), st * np.sin(phi)
    pos = a + (rx * ux)[..., None] * x + (ry * uy + offset[:, None])[..., None] * y + (rz * uz)[..., None] * z
    nrm = (ux / rx)[..., None] * x + (uy / ry)[..., None] * y + (uz / rz)[..., None] * z
    nrm /= np.linalg.norm(nrm, axis=-1, keepdims=True)
    rows, cols = len(theta), n_lon
    idx = np.arange(rows * cols).reshape(rows, cols)
    i0, i1 = idx[:-1], idx[1:]
    j0, j1 = i0, np.roll(i0, -1, axis=1)
    k0, k1 = i1, np.roll(i1, -1, axis=1)
    tris = np.concatenate([np.stack([j0, k0, j1], -1).reshape(-1, 3), np.stack([j1, k0, k1], -1).reshape(-1, 3)])
    return pos.reshape(-1, 3), nrm.reshape(-1, 3), tris


def build_body(skeleton: Skeleton, bones: dict[str, str]) -> Body:
    """A clothed body for a humanoid skeleton in its rest pose.

    Args:
        skeleton: the rig, Y up; its facing is taken from the rest pose (left hip -> +left, forward = left x up).
        bones: Unity ``HumanBodyBones`` name -> joint name (``Rig.humanoid`` or
            :func:`engine.retarget.humanoid_names.find_humanoid_bones`); needs Hips, Head, the arms
            and the legs; Spine, Chest, UpperChest, Neck, Shoulder and Toes are used when present.

    Raises:
        KeyError: a required bone is missing from ``bones``.
    """
    rest_r, rest_p = skeleton.rest_world()
    J = lambda role: skeleton.index(bones[role])  # noqa: E731
    P = lambda role: rest_p[J(role)]  # noqa: E731
    has = lambda role: role in bones  # noqa: E731
    P_parent = lambda role: rest_p[skeleton.parents[J(role)]]  # noqa: E731
    pelvis = 0.5 * (P("LeftUpperLeg") + P("RightUpperLeg"))
    neck_pt = 0.5 * (P("LeftUpperArm") + P("RightUpperArm"))
    s = float(np.linalg.norm(neck_pt - pelvis)) / 0.5
    up = np.array([0.0, 1.0, 0.0])
    left = (P("LeftUpperLeg") - P("RightUpperLeg")) * [1.0, 0.0, 1.0]  # facing from the hips (rest pose, Y up)
    left = left / np.linalg.norm(left) if np.linalg.norm(left) > 1e-9 else np.array([1.0, 0.0, 0.0])
    fwd = np.cross(left, up)
    parts: list[tuple[int, np.ndarray, np.ndarray, np.ndarray]] = []  # joint, positions, normals, tris; colours separate
    colors: list[np.ndarray] = []

    def add(role: str, a: np.ndarray, b: np.ndarray, radii: tuple[float, float], color: tuple[float, float, float], side: np.ndarray = left, n_lon: int = 14) -> None:
        pos, nrm, tris = _capsule(a, b, (radii[0] * s, radii[1] * s), side, n_lon=n_lon)
        parts.append((J(role), pos, nrm, tris))
        colors.append(np.tile([*color, 1.0], (len(pos), 1)))

    spine = [r for r in ("Spine", "Chest", "UpperChest") if has(r)]
    top = P("Neck") if has("Neck") else neck_pt + 0.05 * s * up
    add("Hips", pelvis - 0.06 * s * up, pelvis + 0.1 * s * up, (0.15, 0.10), TROUSERS)
    chain = ["Hips", *spine]
    pts = [pelvis + 0.1 * s * up] + [P(r) for r in spine[1:]] + [neck_pt - 0.04 * s * up]
    for k, role in enumerate(chain[1:] if spine else ["Hips"]):
        a, b = pts[k], pts[k + 1] if k + 1 < len(pts) else neck_pt - 0.04 * s * up
        width = 0.14 + 0.03 * (k + 1) / max(len(chain) - 1, 1)
        add(role, a, b, (width, 0.10), SHIRT)
    add("Neck" if has("Neck") else chain[-1], neck_pt - 0.02 * s * up, top + 0.04 * s * up, (0.05, 0.05), SKIN)
    head_c = P("Head") + 0.09 * s * up
    add("Head", head_c - 0.02 * s * up, head_c + 0.02 * s * up, (0.085, 0.10), SKIN, n_lon=20)
    add("Head", head_c + 0.04 * s * up - 0.03 * s * fwd, head_c + 0.045 * s * up - 0.03 * s * fwd, (0.088, 0.09), HAIR, n_lon=20)
    for sign in (1.0, -1.0):
        eye = head_c + s * (0.032 * sign * left + 0.02 * up + 0.088 * fwd)
        add("Head", eye, eye + 1e-3 * up, (0.013, 0.009), DARK, side=left, n_lon=8)
        brow = head_c + s * (0.033 * sign * left + 0.045 * up + 0.09 * fwd)
        add("Head", brow - 0.015 * s * left, brow + 0.015 * s * left, (0.006, 0.006), HAIR, side=up, n_lon=6)
    nose = head_c + s * (-0.01 * up + 0.1 * fwd)
    add("Head", nose, nose + 0.025 * s * up, (0.012, 0.014), (0.80, 0.58, 0.46), n_lon=8)
    mouth = head_c + s * (-0.05 * up + 0.088 * fwd)
    add("Head", mouth - 0.02 * s * left, mouth + 0.02 * s * left, (0.006, 0.006), LIPS, side=up, n_lon=6)
    for side in ("Left", "Right"):
        if has(f"{side}Shoulder"):
            add(f"{side}Shoulder", P(f"{side}Shoulder"), P(f"{side}UpperArm"), (0.06, 0.06), SHIRT)
        add(f"{side}UpperArm", P(f"{side}UpperArm"), P(f"{side}LowerArm"), (0.052, 0.052), SHIRT)
        add(f"{side}LowerArm", P(f"{side}LowerArm"), P(f"{side}Hand"), (0.040, 0.040), SKIN)
        hand = J(f"{side}Hand")
        kids = [k for k in range(skeleton.num_joints) if skeleton.parents[k] == hand]
        along = (rest_p[kids].mean(axis=0) - rest_p[hand]) if kids else (P(f"{side}Hand") - P(f"{side}LowerArm"))
        along = along / max(np.linalg.norm(along), 1e-9)
        fingers = [(f"{side}{finger}{phalanx}", f"{side}{finger}{nxt}") for finger in _FINGERS
                   for phalanx, nxt in zip(_PHALANGES, _PHALANGES[1:] + ("",))]
        if all(has(bone) for bone, _ in fingers):  # a hand with finger bones gets a palm and 15 finger segments
            knuckles = P(f"{side}MiddleProximal")
            palm_len = float(np.linalg.norm(knuckles - P(f"{side}Hand")))
            add(f"{side}Hand", P(f"{side}Hand"), P(f"{side}Hand") + 0.95 * palm_len * along, (0.042, 0.016), SKIN, side=fwd)
            for bone, child in fingers:
                a = P(bone)
                b = P(child) if child.endswith(_PHALANGES) and has(child) else a + 0.8 * (a - P_parent(bone))
                radius = 0.011 if "Thumb" in bone else 0.0095
                add(bone, a, b, (radius, radius), SKIN, side=fwd, n_lon=8)
        else:
            add(f"{side}Hand", P(f"{side}Hand"), P(f"{side}Hand") + 0.13 * s * along, (0.045, 0.022), SKIN, side=fwd)
        add(f"{side}UpperLeg", P(f"{side}UpperLeg"), P(f"{side}LowerLeg"), (0.078, 0.078), TROUSERS)
        add(f"{side}LowerLeg", P(f"{side}LowerLeg"), P(f"{side}Foot"), (0.057, 0.057), TROUSERS)
        foot = P(f"{side}Foot")
        toe = P(f"{side}Toes") + 0.05 * s * fwd if has(f"{side}Toes") else foot + s * (0.17 * fwd - 0.06 * up)
        toe = np.array([toe[0], min(toe[1], foot[1]), toe[2]])
        add(f"{side}Foot", foot - 0.05 * s * fwd - 0.02 * s * up, toe - 0.01 * s * up, (0.045, 0.035), SHOES, side=left)
    local_pos, local_nrm, joint, tris, offset = [], [], [], [], 0
    for j, pos, nrm, t in parts:
        local_pos.append((pos - rest_p[j]) @ rest_r[j])  # R^T (p - o), row-vector form
        local_nrm.append(nrm @ rest_r[j])
        joint.append(np.full(len(pos), j))
        tris.append(t + offset)
        offset += len(pos)
    return Body(np.concatenate(local_pos), np.concatenate(local_nrm), np.concatenate(joint),
                np.concatenate(colors).astype(np.float32), np.concatenate(tris).astype(np.uint32))


def pose_body(body: Body, world_rotations: np.ndarray, world_positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World vertex positions and normals ``(V, 3)`` float32 for joint world transforms ``(J, 3, 3)``, ``(J, 3)``."""
    R = world_rotations[body.joint]  # (V, 3, 3)
    pos = np.einsum("vab,vb->va", R, body.local_positions) + world_positions[body.joint]
    nrm = np.einsum("vab,vb->va", R, body.local_normals)
    return pos.astype(np.float32), nrm.astype(np.float32)


class OffscreenBodyRenderer:
    """Draws a :class:`Body` into BGR frames with pygfx, offscreen (one instance per run; :meth:`close` once).

    Args:
        body: the mesh (its triangles and colours are uploaded once).
        camera: the viewpoint and image size.
    """

    def __init__(self, body: Body, camera: CameraSpec = CameraSpec()) -> None:
        import pygfx as gfx
        from rendercanvas.offscreen import RenderCanvas

        from tools.gpu_setup import configure_wgpu

        configure_wgpu()  # idempotent; must run before the first renderer
        self.camera_spec = camera
        self._canvas = RenderCanvas(size=(camera.width, camera.height), pixel_ratio=1)
        self._renderer = gfx.WgpuRenderer(self._canvas, pixel_scale=1, ppaa="none")
        self._scene = gfx.Scene()
        self._scene.add(gfx.Background.from_color(BACKGROUND))
        self._scene.add(gfx.AmbientLight(intensity=0.9))
        light = gfx.DirectionalLight(intensity=2.2)
        light.local.position = (1.5, 3.0, 4.0)
        self._scene.add(light)
        self._positions = np.zeros((len(body.local_positions), 3), np.float32)
        self._normals = np.zeros_like(self._positions)
        self._geometry = gfx.Geometry(positions=self._positions, normals=self._normals, indices=body.indices, colors=body.colors)
        self._scene.add(gfx.Mesh(self._geometry, gfx.MeshPhongMaterial(color_mode="vertex", shininess=10)))
        # An explicit depth range: the automatic one (from the view size) clips close-ups and narrow fields of view.
        self._camera = gfx.PerspectiveCamera(camera.fov_deg, camera.width / camera.height, depth_range=(0.02, 100.0))
        self._camera.local.position = camera.position
        self._camera.look_at(camera.target)
        self.body = body
        self._canvas.request_draw(lambda: self._renderer.render(self._scene, self._camera))

    def render(self, world_rotations: np.ndarray, world_positions: np.ndarray) -> np.ndarray:
        """The frame ``(H, W, 3)`` uint8 BGR of the body posed by joint world transforms ``(J, 3, 3)``, ``(J, 3)``."""
        pos, nrm = pose_body(self.body, world_rotations, world_positions)
        self._positions[:] = pos
        self._normals[:] = nrm
        self._geometry.positions.update_full()
        self._geometry.normals.update_full()
        rgba = np.asarray(self._canvas.draw())
        return np.ascontiguousarray(rgba[..., 2::-1])

    def close(self) -> None:
        """Release the canvas (idempotent)."""
        try:
            self._canvas.close()
        except Exception:  # noqa: BLE001 - closing twice or at teardown must not raise
            logger.debug("offscreen canvas already closed", exc_info=True)

    def __enter__(self) -> OffscreenBodyRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
