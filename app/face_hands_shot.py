"""``python -m app.face_hands_shot OUT.png``: the README picture of face and hands driving two rigs.

Face and hand values are measured on a real clip (``../shared/video``, by default the Apache-2.0
juggling clip): the pose landmarks place the crops, the face and hand landmarkers run on every
frame (:class:`streaming.face_hands_stage.FaceHandsStage`), and the frame with the widest-open
mouth and the frame with the most curled fingers are kept. Only those **values** go into the
picture, never footage (the clips may not be redistributed, shared/video/README.md): the app's
own viewport (:class:`app.viewport.RigViewport`) draws the bundled humanoid at its reference pose
with the measured finger curls, and the dragon with its jaw opened by the measured ``jawOpen``,
each beside the same rig at rest, with the VRM 0 expression weights sent over VMC for that frame.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from app.picture_files import rgb_image, save_png

logger = logging.getLogger(__name__)

__all__ = ["measure_extremes", "save_face_hands_picture"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
PANEL = 420  # pixels per square panel


def measure_extremes(video: Path, models: Path, max_frames: int = 150) -> dict[str, object]:
    """The face-hands states with the most open mouth and the most curled fingers on ``video``."""
    import cv2

    from engine.perception.face_landmarker import BLENDSHAPE_NAMES
    from engine.perception.pose_landmarker import PoseLandmarkerAdapter
    from streaming.face_hands_stage import FaceHandsConfig, FaceHandsStage

    jaw = BLENDSHAPE_NAMES.index("jawOpen")
    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    stage = FaceHandsStage(FaceHandsConfig(face_model=str(models / "face_landmarker.task"),
                                           hand_model=str(models / "hand_landmarker.task"), allow_download=False))
    best_face, best_hands = None, None
    try:
        with PoseLandmarkerAdapter(models / "pose_landmarker_full.task") as pose:
            for i in range(max_frames):
                ok, image = capture.read()
                if not ok:
                    break
                t_ms = int(i * 1000 / fps)
                landmarks = pose.detect(image, t_ms)
                if not landmarks.person_found:
                    continue
                state, _, _ = stage.step(image, landmarks, t_ms)
                if state.face_found and (best_face is None or state.blendshapes[jaw] > best_face.blendshapes[jaw]):
                    best_face = state
                found = [s for s, f in state.hands_found.items() if f]
                if found:
                    curl = max(float(state.hands[s].curl[1:].mean()) for s in found)
                    if best_hands is None or curl > best_hands[0]:
                        best_hands = (curl, state)
    finally:
        capture.release()
        stage.close()
    return {"face": best_face, "hands": None if best_hands is None else best_hands[1], "video": video.name}


def _snapshot(viewport, rig, rotations: np.ndarray, app: QtWidgets.QApplication, close_up: tuple[list[int], float, tuple]) -> QtGui.QImage:
    viewport.set_rig(rig)
    viewport.set_pose(rotations)
    joints, radius, view_dir = close_up
    viewport.frame_joints(joints, radius=radius, view_dir=view_dir)
    for _ in range(5):
        app.processEvents()
    return rgb_image(viewport.snapshot())


def save_face_hands_picture(out: str | Path, *, video: Path | None = None, models: Path | None = None) -> Path:
    """Measure the extremes on ``video`` and write the four-panel picture to ``out``."""
    from app.viewport import RigViewport
    from engine.face_hands.expressions import jaw_open_angle, vrm0_expressions
    from engine.face_hands.rig_targets import face_hand_offsets, find_face_hand_targets, offset_rotations
    from engine.perception.face_landmarker import BLENDSHAPE_NAMES
    from engine.rigs.bundled import build_rig
    from tools.gpu_setup import configure_wgpu

    video = video or SHARED / "video" / "human_juggle_football_sam2.mp4"
    models = models or SHARED / "models"
    signals = measure_extremes(video, models)
    face, hands = signals["face"], signals["hands"]
    if face is None or hands is None:
        raise RuntimeError(f"{video}: no face or no hand was found, nothing to show")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    configure_wgpu()
    viewport = RigViewport()
    viewport.resize(PANEL, PANEL)
    viewport.show()
    panels: list[tuple[QtGui.QImage, str]] = []
    humanoid, dragon = build_rig("humanoid").rig, build_rig("dragon").rig
    hand_side = next(s for s, found in hands.hands_found.items() if found)
    hand_joint = humanoid.skeleton.names.index(f"{hand_side.capitalize()}Hand")
    hand_view = ([hand_joint, humanoid.skeleton.names.index(f"{hand_side.capitalize()}MiddleProximal")], 0.12, (0.0, 0.6, -1.0))
    head_view = ([dragon.skeleton.names.index("Head")], 0.45, (1.0, -0.1, 0.0))
    for rig, offsets_of, label, view in (
        (humanoid, lambda t: face_hand_offsets(t, hands=hands.hands), f"humanoid {hand_side} hand: measured finger curls", hand_view),
        (dragon, lambda t: face_hand_offsets(t, jaw=jaw_open_angle(face.blendshapes)),
         f"dragon: jaw opened by jawOpen = {face.blendshapes[BLENDSHAPE_NAMES.index('jawOpen')]:.2f}", head_view),
    ):
        targets = find_face_hand_targets(rig)
        ref = rig.reference_rotations()
        panels.append((_snapshot(viewport, rig, ref, app, view), f"{rig.name} at rest"))
        panels.append((_snapshot(viewport, rig, offset_rotations(ref, offsets_of(targets)), app, view), label))
    viewport.close_viewport()
    viewport.close()
    expressions = vrm0_expressions(face.blendshapes)
    return _compose(Path(out), panels, expressions, signals["video"])


def _compose(out: Path, panels: list[tuple[QtGui.QImage, str]], expressions: dict[str, float], video: str) -> Path:
    bars_w = 300
    canvas = QtGui.QImage(2 * PANEL + bars_w, 2 * PANEL + 30, QtGui.QImage.Format.Format_RGB888)
    canvas.fill(QtGui.QColor(245, 245, 245))
    painter = QtGui.QPainter(canvas)
    font = painter.font()
    font.setPointSize(10)
    painter.setFont(font)
    for k, (image, label) in enumerate(panels):
        x, y = (k % 2) * PANEL, (k // 2) * PANEL
        painter.drawImage(QtCore.QRect(x, y, PANEL, PANEL), image)
        painter.fillRect(x, y, PANEL, 22, QtGui.QColor(255, 255, 255, 200))
        painter.drawText(x + 6, y + 16, label)
    x0 = 2 * PANEL + 14
    painter.drawText(x0, 24, "VMC /VMC/Ext/Blend/Val (VRM 0)")
    for k, (name, value) in enumerate(expressions.items()):
        y = 44 + 26 * k
        painter.drawText(x0, y + 14, name)
        painter.fillRect(x0 + 70, y + 2, int(150 * value), 14, QtGui.QColor(70, 120, 200))
        painter.drawRect(x0 + 70, y + 2, 150, 14)
        painter.drawText(x0 + 226, y + 14, f"{value:.2f}")
    painter.drawText(8, 2 * PANEL + 20, f"values measured on {video} (face and hands on every frame); no footage is shown")
    painter.end()
    return save_png(canvas, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.face_hands_shot", description=__doc__.splitlines()[0])
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--video", type=Path, default=None, help="clip to measure (default: ../shared/video/human_juggle_football_sam2.mp4)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(save_face_hands_picture(args.out, video=args.video))
    return 0


if __name__ == "__main__":
    sys.exit(main())
