"""Run inside ``blender -b --python`` by tests/resources/test_receivers.py: argv after ``--``:

    link RIG.glb DATAGRAMS OUT.json   import the rig, send the datagrams over UDP to a VmcLink, pose, dump bone heads
    take TAKE.(glb|bvh) OUT.json      import a take with import_take, dump the scene's frame rate and frame range
"""

import json
import socket
import struct
import sys
from pathlib import Path

import bpy

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "resources" / "receivers" / "blender"))
import anyrig_blender  # noqa: E402

args = sys.argv[sys.argv.index("--") + 1 :]
bpy.ops.wm.read_factory_settings(use_empty=True)
if args[0] == "link":
    rig, datagrams, out = args[1:4]
    anyrig_blender.numpy_compat()
    bpy.ops.import_scene.gltf(filepath=rig)
    arm = next(o for o in bpy.context.scene.objects if o.type == "ARMATURE")
    link = anyrig_blender.VmcLink(arm, rig, port=0)
    data = Path(datagrams).read_bytes()
    client = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    p = 0
    while p < len(data):
        (n,) = struct.unpack_from("<i", data, p)
        client.sendto(data[p + 4 : p + 4 + n], ("127.0.0.1", link.port))
        p += 4 + n
    applied = link.poll()
    bpy.context.view_layer.update()
    heads = {b.name: list(arm.matrix_world @ b.head) for b in arm.pose.bones}
    Path(out).write_text(json.dumps({"applied": applied, "heads": heads}))
    link.stop()
else:
    take, out = args[1:3]
    fps = anyrig_blender.import_take(take)
    scene = bpy.context.scene
    actions = [a for a in bpy.data.actions]
    Path(out).write_text(json.dumps({"fps": fps, "scene_fps": scene.render.fps / scene.render.fps_base,
                                     "frame_range": [list(a.frame_range) for a in actions]}))
