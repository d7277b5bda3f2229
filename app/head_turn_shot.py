"""``python -m app.head_turn_shot OUT.png``: the README picture of the dragon turning its head with the performer.

The ``head_yaw`` probe (:mod:`tools.live_probes`): the bundled humanoid, rendered offscreen, turns
its head by -60, 0 and +60 degrees; the whole live path (MediaPipe pose, face and hand
landmarkers, the processor the app builds) drives the bundled dragon; the top row shows the
rendered frames, the bottom row the dragon's pose for the same frames, drawn by the app's own
viewport (:class:`app.viewport.RigViewport`) from above, head toward the bottom of the picture.
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

__all__ = ["save_head_turn_picture"]

PANEL = 320  # pixels per panel


def save_head_turn_picture(out: str | Path, *, frames: int = 120, cache: Path | None = None) -> Path:
    """Render the ``head_yaw`` probe, drive the dragon with it and write the six-panel picture to ``out``."""
    from app.viewport import RigViewport
    from engine.evaluation.probe_motions import author_probe
    from engine.rigs.bundled import build_rig, load_bundled_rig
    from tools.eval_live import render_clip
    from tools.gpu_setup import configure_wgpu
    from tools.live_probes import drive_probe, live_processor, probe_landmarks

    run = probe_landmarks("head_yaw", frames, cache)
    angle = np.asarray(run.motion.angle_deg)
    picks = [int(np.argmin(angle)), int(np.argmin(np.abs(angle))), int(np.argmax(angle))]  # -60, 0, +60 degrees
    authored = build_rig("humanoid")
    skeleton, bones = authored.rig.skeleton, dict(authored.rig.humanoid)
    rendered = render_clip("probe:head_yaw", skeleton, bones, author_probe(skeleton, bones, "head_yaw", frames).clip, max(picks) + 1)
    dragon = load_bundled_rig("dragon")
    processor = live_processor(dragon)
    try:
        rots, valid, _ = drive_probe(processor, run.landmarks, run.image_shape, run.motion.clip.fps, run.face_hands)
    finally:
        processor.close()
    if not valid[picks].all():
        raise RuntimeError("the live path gave no pose for a frame of the picture")
    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    configure_wgpu()
    viewport = RigViewport()
    viewport.resize(PANEL, PANEL)
    viewport.show()
    viewport.set_rig(dragon)
    head = dragon.skeleton.index("Head")
    views: list[QtGui.QImage] = []
    for t in picks:
        viewport.set_pose(rots[t])
        viewport.frame_joints([head, dragon.skeleton.index("Chest")], radius=1.6, view_dir=(0.0, -1.0, -0.05))
        for _ in range(5):
            app.processEvents()
        views.append(rgb_image(viewport.snapshot()))
    viewport.close_viewport()
    viewport.close()
    labels = [f"head yaw {angle[t]:+.0f} deg (frame {t})" for t in picks]
    return _compose(Path(out), [rgb_image(rendered.images[t][..., ::-1]) for t in picks], views, labels)


def _compose(out: Path, top: list[QtGui.QImage], bottom: list[QtGui.QImage], labels: list[str]) -> Path:
    canvas = QtGui.QImage(3 * PANEL, 2 * PANEL, QtGui.QImage.Format.Format_RGB888)
    canvas.fill(QtGui.QColor(245, 245, 245))
    painter = QtGui.QPainter(canvas)
    font = painter.font()
    font.setPointSize(10)
    painter.setFont(font)
    for k, (frame, view, label) in enumerate(zip(top, bottom, labels)):
        side = min(frame.width(), frame.height())  # the rendered frame's middle square: the performer
        square = frame.copy(QtCore.QRect((frame.width() - side) // 2, (frame.height() - side) // 2, side, side))
        painter.drawImage(QtCore.QRect(k * PANEL, 0, PANEL, PANEL), square)
        painter.drawImage(QtCore.QRect(k * PANEL, PANEL, PANEL, PANEL), view)
        painter.fillRect(k * PANEL, 0, PANEL, 22, QtGui.QColor(255, 255, 255, 200))
        painter.drawText(k * PANEL + 6, 16, label)
    painter.fillRect(0, PANEL, 3 * PANEL, 22, QtGui.QColor(255, 255, 255, 200))
    painter.drawText(6, PANEL + 16, "the bundled dragon through the live path, seen from above (head toward the bottom)")
    painter.end()
    return save_png(canvas, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.head_turn_shot", description=__doc__.splitlines()[0])
    parser.add_argument("out", help="PNG to write")
    parser.add_argument("--landmark-cache", type=Path, default=None, help="reuse the probes' cached landmarks (as eval-live --probes)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    print(save_head_turn_picture(args.out, cache=args.landmark_cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
