"""The two steps every README picture command shares: an image array into Qt, and the PNG out."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6 import QtGui

__all__ = ["rgb_image", "save_png"]


def rgb_image(pixels: np.ndarray) -> QtGui.QImage:
    """A ``QImage`` (its own copy) of ``(H, W, 3+)`` uint8 RGB pixels (a 4th channel is dropped)."""
    rgb = np.ascontiguousarray(pixels[..., :3])
    h, w = rgb.shape[:2]
    return QtGui.QImage(rgb.data, w, h, 3 * w, QtGui.QImage.Format.Format_RGB888).copy()


def save_png(canvas: QtGui.QImage, out: Path) -> Path:
    """Write ``canvas`` to ``out`` as PNG (folders made); raises ``OSError`` when Qt cannot."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if not canvas.save(str(out), "PNG"):
        raise OSError(f"{out}: the picture could not be written")
    return out
