"""Predict on one image file: the picture as the model sees it, and its class probabilities.

The Predict tab turns to this when the data is a folder of images. The window cannot
decode an image the way the model reads it (resized with TensorFlow's bilinear filter, in
gray or colour, as floats from 0 to 255), so the engine does (`session.predict_files`) and
sends back both the pixels and the outputs; this widget only draws them. A file comes from
a file dialog, from a drop on the Predict tab, or from a sample of the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PySide6.QtCore import QMimeData, QSize, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from ..core.images import IMAGE_EXTENSIONS
from .augment_preview import to_qimage
from .xray_view import ProbabilityBars

__all__ = ["ImagePredictView", "choose_image_file", "dropped_image"]

#: The side the model's picture is drawn at (a 28x28 image is enlarged, pixels kept sharp);
#: with the bars beside it, it fits the side panel of a 1280x720 projector.
PICTURE = 112
#: Classes drawn as bars, the most likely first.
MAX_BARS = 10


def dropped_image(mime: QMimeData) -> str | None:
    """The image file a drag carries (the first local file with an image extension)."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile():
            path = url.toLocalFile()
            if Path(path).suffix.lower() in IMAGE_EXTENSIONS:
                return path
    return None


def choose_image_file(parent: QWidget | None, start: str = "") -> str:
    """Asks for one image file; "" when cancelled."""
    patterns = " ".join(f"*{ext}" for ext in IMAGE_EXTENSIONS)
    path, _ = QFileDialog.getOpenFileName(parent, "Choose an image to predict", start,
                                          f"Images ({patterns});;All files (*)")
    return path


class ImagePredictView(QWidget):
    """The picture the model got, what file it came from, and the class probabilities."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imagePredictView")
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.picture = QLabel()
        self.picture.setObjectName("predictPicture")
        self.picture.setFixedSize(QSize(PICTURE, PICTURE))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("border: 1px dashed #b0b0b0; color: palette(dark);")
        self.picture.setWordWrap(True)
        outer.addWidget(self.picture, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(layout, 1)
        self.caption = QLabel()
        self.caption.setObjectName("predictPictureCaption")
        self.caption.setWordWrap(True)
        self.caption.setStyleSheet("color: palette(dark);")
        layout.addWidget(self.caption)
        self.bars_box = QVBoxLayout()
        layout.addLayout(self.bars_box)
        layout.addStretch(1)
        self.bars: ProbabilityBars | None = None
        self.image: np.ndarray | None = None
        self.clear()

    def clear(self, text: str = "Drop an image here") -> None:
        self.image = None
        self.picture.clear()
        self.picture.setText(text)
        self.caption.setText("")
        self._set_bars([], [])

    def show_file(self, path: str) -> None:
        """Names the chosen file before its picture arrives."""
        self.picture.clear()
        self.picture.setText("Reading...")
        self.caption.setText(Path(path).name)
        self._set_bars([], [])

    def show_image(self, image: np.ndarray, path: str) -> None:
        """Draws `image` (height, width, channels; 0 to 255) enlarged, as the model has it."""
        self.image = np.asarray(image, np.float32)
        h, w = self.image.shape[:2]
        channels = self.image.shape[2] if self.image.ndim == 3 else 1
        picture = to_qimage(self.image, 0.0, 255.0)
        scale = max(1, min(PICTURE // max(h, 1), PICTURE // max(w, 1)))
        mode = Qt.TransformationMode.FastTransformation  # enlarged: the pixels stay sharp
        if h > PICTURE or w > PICTURE:
            picture = picture.scaled(PICTURE, PICTURE, Qt.AspectRatioMode.KeepAspectRatio,
                                     Qt.TransformationMode.SmoothTransformation)
        elif scale > 1:
            picture = picture.scaled(w * scale, h * scale, Qt.AspectRatioMode.KeepAspectRatio,
                                     mode)
        self.picture.setPixmap(QPixmap.fromImage(picture))
        colour = "grayscale" if channels == 1 else "colour"
        self.caption.setText(f"{Path(path).name}: as the model sees it, {h}x{w} {colour}")
        self.caption.setToolTip(path)

    def show_probabilities(self, ranked: Sequence[tuple[str, float]]) -> None:
        """One bar per class, the most likely first (the first `MAX_BARS`)."""
        shown = list(ranked)[:MAX_BARS]
        self._set_bars([name for name, _ in shown], [p for _, p in shown])

    def _set_bars(self, names: list[str], values: list[float]) -> None:
        if self.bars is not None:
            self.bars.setParent(None)
            self.bars.deleteLater()
            self.bars = None
        if names:
            self.bars = ProbabilityBars(names, np.asarray(values, np.float32), True)
            self.bars.setObjectName("predictBars")
            self.bars_box.addWidget(self.bars)
