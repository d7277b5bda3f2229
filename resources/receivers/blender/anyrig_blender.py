"""AnyRig for Blender: apply a live VMC stream to an imported rig, and import takes at their own frame rate.

Install: Edit > Preferences > Add-ons > Install... and pick this file (or run it from the Text
editor). Tested with Blender 3.4 (``blender -b``, tests/resources/test_receivers.py).

Live stream (AnyRig: ``python main.py run --rig dragon --vmc-generic 127.0.0.1:39540``)::

    import anyrig_blender
    link = anyrig_blender.VmcLink(bpy.data.objects["Armature"], "/path/to/dragon.glb", port=39540)
    link.start()   # applies the newest frame ~60 times a second until link.stop()

The armature must come from importing the same GLB (File > Import > glTF 2.0): the stream carries
each joint's local transform in glTF terms (converted to Unity's frame on the wire), and the rig's
rest pose in the file tells how each Blender bone (whose axes the importer chooses) sits on its
glTF joint. Names are matched after any ``prefix:`` (``anyrig:Chest`` -> ``Chest``). The socket is
bound to 127.0.0.1 only and never blocks Blender.

Coordinates: VMC is Unity's frame (left-handed, Y up): position ``(x, y, z)`` is glTF ``(-x, y, z)``,
quaternion ``(x, y, z, w)`` is glTF ``(x, -y, -z, w)``; glTF ``(x, y, z)`` is Blender ``(x, -z, y)``
(Z up), as Blender's glTF importer does.

Takes: :func:`import_take` imports an AnyRig ``.glb`` or ``.bvh`` take after setting the scene's
frame rate to the take's (``extras.fps`` of the GLB animation, or the BVH ``Frame Time``), so the
keys land on the take's frames rather than Blender's default 24 fps grid.
"""

from __future__ import annotations

import json
import socket
import struct
from pathlib import Path

import numpy as np

bl_info = {
    "name": "AnyRig VMC link and take import",
    "author": "AnyRig",
    "version": (1, 0, 0),
    "blender": (3, 4, 0),
    "category": "Animation",
    "description": "Apply an AnyRig VMC stream to an imported rig; import takes at their frame rate",
}

# glTF (Y up) -> Blender (Z up), as the glTF importer converts.
GLTF_TO_BLENDER = np.array([[1.0, 0, 0, 0], [0, 0, -1.0, 0], [0, 1.0, 0, 0], [0, 0, 0, 1.0]])


# --------------------------------------------------------------------------- stream decoding (no bpy)
def _osc_string(data: bytes, p: int) -> tuple[str, int]:
    end = data.index(b"\0", p)
    return data[p:end].decode("utf-8"), p + ((end - p) // 4 + 1) * 4


def decode_packet(data: bytes, frame: dict | None = None) -> dict:
    """Decode one OSC datagram (message or bundle) into ``frame``: ``{"bones": {name: (pos, quat)},
    "root": (x, y, z) or None, "scale": (x, y, z) or None}``, values as sent (Unity's frame)."""
    frame = frame if frame is not None else {"bones": {}, "root": None, "scale": None}
    if data.startswith(b"#bundle\0"):
        p = 16
        while p + 4 <= len(data):
            (size,) = struct.unpack_from(">i", data, p)
            decode_packet(data[p + 4 : p + 4 + size], frame)
            p += 4 + size
        return frame
    try:
        address, p = _osc_string(data, 0)
        tags, p = _osc_string(data, p)
        args: list = []
        for tag in tags[1:]:
            if tag == "f":
                args.append(struct.unpack_from(">f", data, p)[0])
                p += 4
            elif tag == "i":
                args.append(struct.unpack_from(">i", data, p)[0])
                p += 4
            elif tag == "s":
                text, p = _osc_string(data, p)
                args.append(text)
            else:
                return frame
    except (ValueError, struct.error):
        return frame  # VMC: drop what cannot be parsed
    if address == "/VMC/Ext/Bone/Pos" and len(args) >= 8 and isinstance(args[0], str):
        frame["bones"][args[0]] = (tuple(args[1:4]), tuple(args[4:8]))
    elif address == "/VMC/Ext/Root/Pos" and len(args) >= 8:
        frame["root"] = tuple(args[1:4])
        if len(args) >= 14:
            frame["scale"] = tuple(args[8:11])
    return frame


def joint_name(wire: str) -> str:
    """The rig joint a bone message is for: the text after the last ``:``."""
    return wire.rsplit(":", 1)[-1]


def unity_to_gltf(position, quaternion) -> np.ndarray:
    """A ``(4, 4)`` glTF-frame transform from a Unity-frame position and x y z w quaternion."""
    return transform((-position[0], position[1], position[2]), (quaternion[0], -quaternion[1], -quaternion[2], quaternion[3]))


def transform(position, quaternion) -> np.ndarray:
    """A ``(4, 4)`` transform from a translation and an x y z w unit quaternion (same frame)."""
    x, y, z, w = quaternion
    m = np.eye(4)
    m[:3, :3] = [
        [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
        [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
        [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
    ]
    m[:3, 3] = position
    return m


# --------------------------------------------------------------------------- the rig's rest (no bpy)
def read_glb_joints(path: str | Path) -> tuple[list[str], list[int], list[np.ndarray]]:
    """Joint names, parents (index in the list, -1 for none) and rest local transforms ``(4, 4)``
    of the first skin of a ``.glb`` (or every node when it has no skin)."""
    data = Path(path).read_bytes()
    (length,) = struct.unpack_from("<I", data, 12)
    doc = json.loads(data[20 : 20 + length])
    nodes = doc.get("nodes", [])
    joints = doc["skins"][0]["joints"] if doc.get("skins") else list(range(len(nodes)))
    parent_node = {c: n for n, node in enumerate(nodes) for c in node.get("children", [])}
    index = {n: k for k, n in enumerate(joints)}
    names, parents, rests = [], [], []
    for n in joints:
        node = nodes[n]
        p = parent_node.get(n)
        while p is not None and p not in index:
            p = parent_node.get(p)
        names.append(node.get("name", f"node{n}"))
        parents.append(index[p] if p is not None else -1)
        rests.append(transform(node.get("translation", [0.0, 0.0, 0.0]), node.get("rotation", [0.0, 0.0, 0.0, 1.0])))
    return names, parents, rests


def world_transforms(parents: list[int], locals_: list[np.ndarray]) -> list[np.ndarray]:
    """Forward kinematics of ``(4, 4)`` local transforms (parents listed before children)."""
    out: list[np.ndarray] = []
    for j, p in enumerate(parents):
        out.append(locals_[j] if p < 0 else out[p] @ locals_[j])
    return out


def stream_world(names: list[str], parents: list[int], rests: list[np.ndarray], frame: dict) -> list[np.ndarray]:
    """glTF-frame world transforms of the joints after applying one decoded frame.

    A joint the frame does not mention keeps its rest; the root joint moves by ``Root/Pos``.
    """
    sent = {joint_name(k): v for k, v in frame["bones"].items()}
    locals_ = []
    for j, name in enumerate(names):
        m = unity_to_gltf(*sent[name]) if name in sent else rests[j].copy()
        if parents[j] < 0 and frame.get("root") is not None:
            r = frame["root"]
            m[:3, 3] += (-r[0], r[1], r[2])
        locals_.append(m)
    return world_transforms(parents, locals_)


def pose_bases(rest_arm: dict[str, np.ndarray], bone_parent: dict[str, str | None], pose_arm: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each pose bone's ``matrix_basis`` giving armature-space pose matrices ``pose_arm``.

    Blender: ``pose = pose[parent] @ rest[parent]^-1 @ rest @ basis`` (``pose = rest @ basis`` at a root).
    """
    out = {}
    for name, pose in pose_arm.items():
        parent = bone_parent.get(name)
        if parent is None or parent not in pose_arm:
            out[name] = np.linalg.inv(rest_arm[name]) @ pose
        else:
            rel_rest = np.linalg.inv(rest_arm[parent]) @ rest_arm[name]
            out[name] = np.linalg.inv(rel_rest) @ np.linalg.inv(pose_arm[parent]) @ pose
    return out


# --------------------------------------------------------------------------- Blender
class VmcLink:
    """Receives AnyRig's VMC stream on 127.0.0.1 and poses ``armature`` (imported from ``rig_glb``)."""

    def __init__(self, armature, rig_glb: str | Path, port: int = 39540, host: str = "127.0.0.1") -> None:
        self.armature = armature
        self.names, self.parents, self.rests = read_glb_joints(rig_glb)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]
        self.frames = 0
        bones = armature.data.bones
        A = np.array(armature.matrix_world)
        rest_world = world_transforms(self.parents, self.rests)
        # Bone rest in armature space = A^-1 C W_rest K  =>  pose = A^-1 C W_now W_rest^-1 C^-1 A rest.
        self._to_pose: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for j, name in enumerate(self.names):
            if name in bones:
                rest = np.array(bones[name].matrix_local)
                left = np.linalg.inv(A) @ GLTF_TO_BLENDER
                right = np.linalg.inv(rest_world[j]) @ np.linalg.inv(GLTF_TO_BLENDER) @ A @ rest
                self._to_pose[name] = (left, right)
        self._rest_arm = {b.name: np.array(b.matrix_local) for b in bones}
        self._bone_parent = {b.name: (b.parent.name if b.parent else None) for b in bones}
        self._timer = None

    def apply_frame(self, frame: dict) -> None:
        """Pose the armature from one decoded frame (:func:`decode_packet`)."""
        import mathutils

        world = stream_world(self.names, self.parents, self.rests, frame)
        pose = {name: left @ world[self.names.index(name)] @ right for name, (left, right) in self._to_pose.items()}
        for name, basis in pose_bases(self._rest_arm, self._bone_parent, pose).items():
            self.armature.pose.bones[name].matrix_basis = mathutils.Matrix(basis.tolist())
        self.frames += 1

    def poll(self) -> bool:
        """Read every waiting datagram and apply the newest complete frame; ``True`` if one was applied."""
        frame = None
        while True:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                break
            if frame is None or data.find(b"/VMC/Ext/OK") >= 0:
                frame = {"bones": {}, "root": None, "scale": None}  # a new frame starts at /VMC/Ext/OK
            decode_packet(data, frame)
        if frame and frame["bones"]:
            self.apply_frame(frame)
            return True
        return False

    def start(self, interval_s: float = 1 / 60) -> None:
        """Poll from a Blender timer until :meth:`stop`."""
        import bpy

        def tick() -> float | None:
            if self._timer is None:
                return None
            self.poll()
            return interval_s

        self._timer = tick
        bpy.app.timers.register(tick)

    def stop(self) -> None:
        self._timer = None
        self.sock.close()


def take_fps(path: str | Path) -> float | None:
    """The frame rate of an AnyRig take: GLB ``animations[0].extras.fps`` or BVH ``1 / Frame Time``."""
    path = Path(path)
    if path.suffix.lower() == ".bvh":
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.strip().lower().startswith("frame time:"):
                return 1.0 / float(line.split(":", 1)[1])
        return None
    data = path.read_bytes()
    (length,) = struct.unpack_from("<I", data, 12)
    anims = json.loads(data[20 : 20 + length]).get("animations", [])
    fps = anims[0].get("extras", {}).get("fps") if anims else None
    return float(fps) if fps else None


def numpy_compat() -> None:
    """Let Blender 3.4's glTF importer run on numpy >= 1.24 (Debian's build): it uses ``np.bool``."""
    if "bool" not in np.__dict__:
        np.bool = bool  # type: ignore[attr-defined]


def bvh_compat() -> None:
    """Let Blender 3.4's BVH importer run on Python 3.11 (Debian's build): it opens files with mode ``'rU'``."""
    import builtins

    from io_anim_bvh import import_bvh

    def open_without_u(file, mode="r", *args, **kwargs):
        return builtins.open(file, mode.replace("U", ""), *args, **kwargs)

    import_bvh.open = open_without_u


def import_take(path: str | Path) -> float | None:
    """Import an AnyRig ``.glb`` / ``.bvh`` take at its own frame rate; returns that rate."""
    import bpy

    numpy_compat()
    fps = take_fps(path)
    scene = bpy.context.scene
    if fps:
        scene.render.fps = int(round(fps))
        scene.render.fps_base = scene.render.fps / fps
    if str(path).lower().endswith(".bvh"):
        bvh_compat()
        bpy.ops.import_anim.bvh(filepath=str(path), update_scene_fps=False, update_scene_duration=True)
    else:
        bpy.ops.import_scene.gltf(filepath=str(path))
    return fps


def register() -> None:  # an add-on with no UI: its functions are used from scripts and the console
    pass


def unregister() -> None:
    pass
