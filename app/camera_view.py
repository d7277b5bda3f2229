"""The camera view: the newest input frame with the detected pose landmarks drawn over it."""

from __future__ import annotations

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from engine.performer import PERFORMER_PARENTS

__all__ = ["CameraView", "POSE_CONNECTIONS"]

# BlazePose's 33-landmark skeleton (pairs of landmark indices), as drawn by MediaPipe's own tools.
POSE_CONNECTIONS = (
    (0, 1), (1, 2), (2, 3), (3, 7), (0, 4), (4, 5), (5, 6), (6, 8), (9, 10),
    (11, 12), (11, 13), (13, 15), (15, 17), (15, 19), (15, 21), (17, 19),
    (12, 14), (14, 16), (16, 18), (16, 20), (16, 22), (18, 20),
    (11, 23), (12, 24), (23, 24), (23, 25), (24, 26), (25, 27), (26, 28),
    (27, 29), (28, 30), (29, 31), (30, 32), (27, 31), (28, 32),
)
LEFT_SIDE = {11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31}
# Tracking state (streaming.tracking.TrackingState values) -> (badge text, colour).
TRACKING_BADGES = {
    "person": ("person", "#40d040"),
    "lost": ("lost: holding the last pose", "#ffb020"),
    "no_person": ("no person in view", "#ff5050"),
}


class CameraView(QtWidgets.QLabel):
    """Shows ``(H, W, 3)`` uint8 BGR frames, scaled to fit, with landmarks overlaid.

    Attributes:
        mirror: show frames mirrored left <-> right (as a mirror, and as the motion when mirrored).
        tracking: the tracking state shown as a badge in the top-left corner (``""``: none).
        overlay: large text drawn over the middle of the frame (the calibration countdown).
    """

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(240, 180)
        self.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.setStyleSheet("background: #111; color: #aaa;")
        self.setText("no camera frame yet")
        self.mirror = True
        self.tracking = ""
        self.overlay = ""

    def show_frame(
        self,
        image_bgr: np.ndarray,
        landmarks: np.ndarray | None = None,
        visibility: np.ndarray | None = None,
        performer: np.ndarray | None = None,
    ) -> None:
        """Display a frame with the landmarks and, in a corner, the performer skeleton.

        Args:
            image_bgr: ``(H, W, 3)`` uint8 BGR (or ``(H, W)`` grey).
            landmarks: ``(33, 2+)`` normalised image coordinates (x right, y down).
            visibility: ``(33,)`` in ``[0, 1]``; landmarks under 0.5 are not drawn.
            performer: ``(28, 3)`` canonical performer positions, metres, internal frame (Y up,
                facing +Z): drawn from the front in an inset.
        """
        image = np.ascontiguousarray(image_bgr[:, ::-1] if self.mirror else image_bgr)
        if self.mirror and landmarks is not None:
            landmarks = np.array(landmarks, dtype=np.float64)
            landmarks[:, 0] = 1.0 - landmarks[:, 0]
        if self.mirror and performer is not None:
            performer = np.array(performer, dtype=np.float64)
            performer[:, 0] *= -1.0
        h, w = image.shape[:2]
        fmt = QtGui.QImage.Format.Format_BGR888 if image.ndim == 3 else QtGui.QImage.Format.Format_Grayscale8
        # Scale first, then draw: the overlay is drawn at display size (cheaper than at camera size,
        # and lines keep their on-screen width). scaled() makes a copy, so `image` is not kept.
        qimage = QtGui.QImage(image.data, w, h, image.strides[0], fmt).scaled(
            self.size(), QtCore.Qt.AspectRatioMode.KeepAspectRatio, QtCore.Qt.TransformationMode.FastTransformation
        ).convertToFormat(QtGui.QImage.Format.Format_RGB32)
        if landmarks is not None and len(landmarks) >= 33:
            self._draw_landmarks(qimage, np.asarray(landmarks, dtype=np.float64), visibility)
        if performer is not None and len(performer) == len(PERFORMER_PARENTS):
            self._draw_performer(qimage, np.asarray(performer, dtype=np.float64))
        if self.tracking in TRACKING_BADGES:
            self._draw_badge(qimage, *TRACKING_BADGES[self.tracking])
        if self.overlay:
            self._draw_overlay(qimage, self.overlay)
        pixmap = QtGui.QPixmap.fromImage(qimage)
        self.setPixmap(pixmap)

    @staticmethod
    def _draw_landmarks(qimage: QtGui.QImage, landmarks: np.ndarray, visibility: np.ndarray | None) -> None:
        w, h = qimage.width(), qimage.height()
        pts = [QtCore.QPointF(float(x) * w, float(y) * h) for x, y in landmarks[:33, :2]]
        visible = np.ones(33, dtype=bool) if visibility is None else np.asarray(visibility)[:33] > 0.5
        painter = QtGui.QPainter(qimage)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        pen_width = max(1.5, w / 320.0)
        for a, b in POSE_CONNECTIONS:
            if visible[a] and visible[b]:
                painter.setPen(QtGui.QPen(QtGui.QColor("#00e0ff"), pen_width))
                painter.drawLine(pts[a], pts[b])
        for i, p in enumerate(pts):
            if visible[i]:
                color = QtGui.QColor("#ff8000") if i in LEFT_SIDE else QtGui.QColor("#40ff40")
                painter.setPen(QtGui.QPen(color, pen_width * 2))
                painter.drawPoint(p)
        painter.end()

    @staticmethod
    def _draw_performer(qimage: QtGui.QImage, positions: np.ndarray) -> None:
        """The performer seen from the front (its +Z), in the lower-right quarter-height inset."""
        w, h = qimage.width(), qimage.height()
        size = h // 3
        x0, y0 = w - size - 8, h - size - 8
        painter = QtGui.QPainter(qimage)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.fillRect(x0, y0, size, size, QtGui.QColor(0, 0, 0, 150))
        xy = positions[:, :2] - positions[:, :2].mean(axis=0)  # front view: +X (performer's left) to the right
        scale = 0.85 * size / max(float(np.ptp(xy, axis=0).max()), 1e-6)
        pts = [QtCore.QPointF(x0 + size / 2 + x * scale, y0 + size / 2 - y * scale) for x, y in xy]
        painter.setPen(QtGui.QPen(QtGui.QColor("#ffd040"), 2.0))
        for j, p in enumerate(PERFORMER_PARENTS):
            if p >= 0:
                painter.drawLine(pts[p], pts[j])
        painter.end()

    @staticmethod
    def _draw_badge(qimage: QtGui.QImage, text: str, color: str) -> None:
        """``text`` on a dark box in the top-left corner, with a dot in ``color``."""
        painter = QtGui.QPainter(qimage)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        font = painter.font()
        font.setPixelSize(max(12, qimage.height() // 18))
        font.setBold(True)
        painter.setFont(font)
        metrics = QtGui.QFontMetrics(font)
        pad, dot = 6, metrics.height() * 0.6
        box = QtCore.QRectF(6, 6, metrics.horizontalAdvance(text) + dot + 3 * pad, metrics.height() + 2 * pad)
        painter.fillRect(box, QtGui.QColor(0, 0, 0, 170))
        painter.setBrush(QtGui.QColor(color))
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        painter.drawEllipse(QtCore.QRectF(box.left() + pad, box.center().y() - dot / 2, dot, dot))
        painter.setPen(QtGui.QColor(color))
        painter.drawText(box.adjusted(dot + 2 * pad, 0, 0, 0), QtCore.Qt.AlignmentFlag.AlignVCenter, text)
        painter.end()

    @staticmethod
    def _draw_overlay(qimage: QtGui.QImage, text: str) -> None:
        """``text`` over the middle of the frame on a dark band: its last line large when it is a
        number (the countdown), the other lines word-wrapped above it."""
        lines = text.split("\n")
        number = lines.pop() if lines[-1].strip().isdigit() else ""
        prompt = "\n".join(lines)
        w, h = qimage.width(), qimage.height()
        flags = QtCore.Qt.AlignmentFlag.AlignHCenter | QtCore.Qt.TextFlag.TextWordWrap
        painter = QtGui.QPainter(qimage)
        small, big = QtGui.QFont(painter.font()), QtGui.QFont(painter.font())
        small.setPixelSize(max(12, h // 16))
        small.setBold(True)
        big.setPixelSize(max(24, h // 4))
        big.setBold(True)
        inner = QtCore.QRect(8, 0, w - 16, h)
        prompt_h = QtGui.QFontMetrics(small).boundingRect(inner, int(flags), prompt).height() if prompt else 0
        number_h = QtGui.QFontMetrics(big).height() if number else 0
        pad = max(6, h // 40)
        band_h = min(prompt_h + number_h + 2 * pad, h)
        top = (h - band_h) // 2
        painter.fillRect(QtCore.QRect(0, top, w, band_h), QtGui.QColor(0, 0, 0, 180))
        painter.setPen(QtGui.QColor("#ffffff"))
        if prompt:
            painter.setFont(small)
            painter.drawText(QtCore.QRect(8, top + pad, w - 16, prompt_h), int(flags), prompt)
        if number:
            painter.setFont(big)
            painter.setPen(QtGui.QColor("#ffd040"))
            painter.drawText(QtCore.QRect(0, top + pad + prompt_h, w, number_h), int(QtCore.Qt.AlignmentFlag.AlignHCenter), number)
        painter.end()
