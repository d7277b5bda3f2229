"""The 3D viewport: the target rig live (bones, joints, skinned mesh), a ground grid and an orbit camera.

pygfx objects are built once per rig; each new pose writes into the existing buffer arrays, marks
them changed and requests a draw (STYLE rule 13). The mesh is skinned on the CPU (linear blend
skinning), which is cheap for the few thousand vertices of a preview mesh; its morph targets that
match the face's blendshapes by name (:mod:`engine.face_hands.morph_targets`) are added to the
bind pose first.
"""

from __future__ import annotations

import logging

import numpy as np
import pygfx as gfx
from PyQt6 import QtWidgets
from rendercanvas.qt import QRenderWidget

from engine import rotations as rot
from engine.face_hands.morph_targets import drives_morph_targets, morph_target_weights
from engine.kinematics import forward_kinematics
from engine.rig import Rig

logger = logging.getLogger(__name__)

__all__ = ["RigViewport", "skin_vertices"]

BONE_COLOR = "#ffb000"
JOINT_COLOR = "#ffffff"
MESH_COLOR = "#6f8fbf"


def skin_vertices(
    bind_positions: np.ndarray,
    joints: np.ndarray,
    weights: np.ndarray,
    bind_world: np.ndarray,
    world_rotations: np.ndarray,
    world_positions: np.ndarray,
) -> np.ndarray:
    """Linear blend skinning.

    Args:
        bind_positions: ``(V, 3)`` vertex positions in the bind pose, world space.
        joints, weights: ``(V, 4)`` skin influences.
        bind_world: ``(J, 4, 4)`` joint world matrices in the bind pose.
        world_rotations, world_positions: ``(J, 3, 3)`` and ``(J, 3)`` the current joint world transforms.

    Returns:
        ``(V, 3)`` float32 skinned positions.
    """
    current = np.zeros_like(bind_world)
    current[:, :3, :3] = world_rotations
    current[:, :3, 3] = world_positions
    current[:, 3, 3] = 1.0
    skin = current @ np.linalg.inv(bind_world)  # (J, 4, 4)
    v_h = np.concatenate([bind_positions, np.ones((len(bind_positions), 1))], axis=1)  # (V, 4)
    blended = np.einsum("vk,vkab->vab", weights, skin[joints])  # (V, 4, 4)
    return np.einsum("vab,vb->va", blended, v_h)[:, :3].astype(np.float32)


def _bone_pairs(parents: np.ndarray) -> np.ndarray:
    """``(B, 2)`` (parent, child) joint index pairs, one per bone."""
    return np.array([(p, j) for j, p in enumerate(parents) if p >= 0], dtype=np.int64).reshape(-1, 2)


class RigViewport(QtWidgets.QWidget):
    """A pygfx view of one rig; call :meth:`set_rig` once per rig and :meth:`set_pose` per frame."""

    def __init__(self, parent: QtWidgets.QWidget | None = None, *, software_rendering: bool | None = None) -> None:
        super().__init__(parent)
        self._canvas = QRenderWidget(self, update_mode="ondemand", max_fps=60)
        fast = software_rendering if software_rendering is not None else _adapter_is_cpu()
        # DESIGN §6: the default settings run at ~4 fps on a CPU adapter.
        self._renderer = gfx.WgpuRenderer(self._canvas, pixel_scale=1, ppaa="none") if fast else gfx.WgpuRenderer(self._canvas)
        self._scene = gfx.Scene()
        self._scene.add(gfx.Background.from_color("#1d1f24", "#3a3f4b"))
        self._scene.add(gfx.AmbientLight(intensity=0.6))
        self._light = gfx.DirectionalLight(intensity=2.0)
        self._light.local.position = (2, 5, 3)
        self._scene.add(self._light)
        # The shader grid is infinite but fills half the screen with fragments; on a CPU adapter a
        # finite grid of line segments draws the same floor for a fraction of the cost.
        self._grid = _line_grid() if fast else gfx.Grid(
            None,
            gfx.GridMaterial(major_step=1.0, minor_step=0.1, major_thickness=1.5, minor_thickness=0.5, major_color="#555", minor_color="#333", infinite=True),
            orientation="xz",
        )
        self._scene.add(self._grid)
        self._camera = gfx.PerspectiveCamera(45, 4 / 3)
        self._camera.local.position = (0, 1.5, 4)
        self._controller = gfx.OrbitController(self._camera, register_events=self._renderer)
        self._rig_group = gfx.Group()
        self._scene.add(self._rig_group)
        self._rig: Rig | None = None
        self._bone_pairs = np.zeros((0, 2), dtype=np.int64)
        self._bone_buffer: np.ndarray | None = None
        self._joint_buffer: np.ndarray | None = None
        self._mesh_buffer: np.ndarray | None = None
        self._bones_geometry: gfx.Geometry | None = None
        self._joints_geometry: gfx.Geometry | None = None
        self._mesh_geometry: gfx.Geometry | None = None
        self._bind_world: np.ndarray | None = None
        self._morph_matched = False  # the rig's mesh has morph targets the face drives
        self.show_mesh = True
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._canvas)
        self._canvas.request_draw(self._draw)

    # ------------------------------------------------------------------ rig and pose
    def set_rig(self, rig: Rig) -> None:
        """Build the pygfx objects for ``rig`` (replacing the previous rig) in its rest pose."""
        self._rig_group.clear()
        self._rig = rig
        skel = rig.skeleton
        self._bone_pairs = _bone_pairs(skel.parents)
        rest_r, rest_p = skel.rest_world()
        self._mesh_geometry = None
        self._morph_matched = rig.mesh is not None and drives_morph_targets(rig.mesh.morph_names, rig.mesh.expressions)
        if rig.mesh is not None and len(rig.mesh.indices):
            mesh = rig.mesh
            self._mesh_buffer = np.asarray(mesh.positions, dtype=np.float32).copy()
            self._mesh_geometry = gfx.Geometry(positions=self._mesh_buffer, indices=np.asarray(mesh.indices, dtype=np.uint32))
            # Flat shading derives each face's normal in the fragment shader (pygfx mesh.wgsl), so
            # the normals buffer is only a required attribute: set once, never updated per frame.
            self._mesh_geometry.normals = gfx.Buffer(_vertex_normals(self._mesh_buffer, np.asarray(mesh.indices)))
            material = gfx.MeshPhongMaterial(color=MESH_COLOR, flat_shading=True)
            mesh_obj = gfx.Mesh(self._mesh_geometry, material)
            mesh_obj.visible = self.show_mesh
            self._rig_group.add(mesh_obj)
            bind = np.zeros((skel.num_joints, 4, 4))
            bind[:, :3, :3] = rest_r
            bind[:, :3, 3] = rest_p
            bind[:, 3, 3] = 1.0
            self._bind_world = bind
        # Bones and joints after the mesh: drawn without depth test, they stay visible through it.
        self._bone_buffer = np.zeros((max(len(self._bone_pairs), 1) * 2, 3), dtype=np.float32)
        self._bones_geometry = gfx.Geometry(positions=self._bone_buffer)
        self._rig_group.add(gfx.Line(self._bones_geometry, gfx.LineSegmentMaterial(thickness=3.0, color=BONE_COLOR, depth_test=False)))
        self._joint_buffer = np.zeros((skel.num_joints, 3), dtype=np.float32)
        self._joints_geometry = gfx.Geometry(positions=self._joint_buffer)
        self._rig_group.add(gfx.Points(self._joints_geometry, gfx.PointsMaterial(size=6.0, color=JOINT_COLOR, depth_test=False)))
        self._write_pose(rest_r, rest_p)
        self.frame_rig()

    def set_pose(self, local_rotations: np.ndarray, root_translation: np.ndarray | None = None,
                 blendshapes: np.ndarray | None = None) -> None:
        """Show a pose: ``(J, 4)`` x y z w local rotations, the root's translation ``(3,)`` metres and
        the face's ``(52,)`` blendshapes (driving the mesh's morph targets that match by name)."""
        if self._rig is None:
            return
        skel = self._rig.skeleton
        trans = np.array(skel.rest_translations)
        if root_translation is not None:
            trans[0] = root_translation
        world_r, world_p = forward_kinematics(skel.parents, rot.quat_to_matrix(local_rotations), trans)
        self._write_pose(world_r, world_p, blendshapes)

    def _bind_positions(self, blendshapes: np.ndarray | None) -> np.ndarray:
        """The mesh's bind-pose positions with its matched morph targets applied (:mod:`engine.face_hands.morph_targets`)."""
        mesh = self._rig.mesh
        if blendshapes is None or not self._morph_matched or mesh.morph_deltas is None:
            return mesh.positions
        weights = morph_target_weights(np.asarray(blendshapes, dtype=np.float64)[None], mesh.morph_names, mesh.expressions)[0]
        live = np.flatnonzero(weights > 1e-4)
        if not len(live):
            return mesh.positions
        return mesh.positions + np.tensordot(weights[live], mesh.morph_deltas[live], axes=1).astype(np.float32)

    def _write_pose(self, world_r: np.ndarray, world_p: np.ndarray, blendshapes: np.ndarray | None = None) -> None:
        assert self._bone_buffer is not None and self._joint_buffer is not None
        if len(self._bone_pairs):
            self._bone_buffer[:] = world_p[self._bone_pairs.reshape(-1)]
            self._bones_geometry.positions.update_full()
        self._joint_buffer[:] = world_p
        self._joints_geometry.positions.update_full()
        if self._mesh_geometry is not None and self._rig is not None and self._rig.mesh is not None:
            mesh = self._rig.mesh
            self._mesh_buffer[:] = skin_vertices(self._bind_positions(blendshapes), mesh.joints, mesh.weights, self._bind_world, world_r, world_p)
            self._mesh_geometry.positions.update_full()
        self._canvas.request_draw()

    # ------------------------------------------------------------------ view
    def frame_rig(self) -> None:
        """Point the camera at the whole rig."""
        if self._joint_buffer is not None and len(self._joint_buffer):
            self._camera.show_object(self._rig_group, view_dir=(-0.4, -0.35, -1.0), up=(0, 1, 0), scale=1.3)
        self._canvas.request_draw()

    def frame_joints(self, joints: list[int], *, radius: float, view_dir: tuple[float, float, float] = (-0.4, -0.35, -1.0)) -> None:
        """Point the camera at a sphere of ``radius`` metres around the given joints (a close-up)."""
        if self._joint_buffer is not None and len(joints):
            x, y, z = np.asarray(self._joint_buffer)[list(joints)].mean(axis=0)
            self._camera.show_object((float(x), float(y), float(z), float(radius)), view_dir=view_dir, up=(0, 1, 0))
        self._canvas.request_draw()

    def set_mesh_visible(self, visible: bool) -> None:
        self.show_mesh = visible
        for obj in self._rig_group.children:
            if isinstance(obj, gfx.Mesh):
                obj.visible = visible
        self._canvas.request_draw()

    def snapshot(self) -> np.ndarray:
        """Render now and return the image ``(H, W, 4)`` uint8 (for tests and screenshots)."""
        self._draw()
        return np.asarray(self._renderer.snapshot())

    def _draw(self) -> None:
        w, h = self._canvas.get_logical_size()
        if h > 0:
            self._camera.aspect = w / h
        self._renderer.render(self._scene, self._camera)

    def close_viewport(self) -> None:
        """Release the canvas (idempotent)."""
        try:
            self._canvas.close()
        except Exception:  # noqa: BLE001 - closing twice or during teardown must not raise
            logger.debug("viewport canvas already closed", exc_info=True)


def _vertex_normals(positions: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Area-weighted vertex normals ``(V, 3)`` float32."""
    tri = positions[indices]  # (F, 3, 3)
    face_n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    normals = np.zeros_like(positions)
    for k in range(3):
        np.add.at(normals, indices[:, k], face_n)
    n = np.linalg.norm(normals, axis=1, keepdims=True)
    return (normals / np.maximum(n, 1e-12)).astype(np.float32)


def _line_grid(half_extent: float = 6.0, step: float = 0.5) -> gfx.Line:
    """A floor grid on y = 0 of line segments, ``2 * half_extent`` metres wide, one line every ``step`` metres."""
    ticks = np.arange(-half_extent, half_extent + step / 2, step)
    segments = []
    for t in ticks:
        segments += [(t, 0.0, -half_extent), (t, 0.0, half_extent), (-half_extent, 0.0, t), (half_extent, 0.0, t)]
    positions = np.asarray(segments, dtype=np.float32)  # (4 * len(ticks), 3), pairs of segment ends
    return gfx.Line(gfx.Geometry(positions=positions), gfx.LineSegmentMaterial(thickness=1.0, color="#4a4f5a", aa=False))


def _adapter_is_cpu() -> bool:
    """True when wgpu's adapter is a software one (llvmpipe, lavapipe, WARP)."""
    try:
        import wgpu

        info = wgpu.gpu.request_adapter_sync().info
        return info.get("adapter_type", "").lower() == "cpu" or "llvmpipe" in info.get("device", "").lower()
    except Exception:  # noqa: BLE001 - any failure to query means we cannot assume a fast GPU
        return True
