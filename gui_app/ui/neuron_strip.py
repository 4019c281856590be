"""What each neuron sees: a strip of small pictures, one per hidden unit, grouped by layer.

Like TensorFlow Playground's neurons: each picture is one hidden Dense unit's output over
the input plane (the same plane as the decision boundary), orange where it is negative,
white at zero and blue where it is positive (`colors.diverging_lut`, colour-blind safe).
Watching them during training shows the first layer cutting the plane with lines and the
later layers combining those cuts into the boundary.

Each picture is scaled to its own largest magnitude, so a unit with small weights still
shows its shape; the tooltip gives the real range, and says when a unit is the same
everywhere (a ReLU unit that never fires is "dead": it has stopped learning).

The pictures come from the engine (`RemoteSession.unit_pictures`, or `UnitSnapshot` events
while it watches the units) as `core.boundary.units.UnitPictures`; this widget only draws
them. Plain QLabel pixmaps: 64 tiles of 32 x 32 cost next to nothing to redraw.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.boundary.units import UnitPictures
from .colors import NEGATIVE, POSITIVE, diverging_lut

#: Tiles per row of a layer at most (a 64-unit layer gets four rows); fewer when the strip
#: is narrower, so that it never scrolls sideways.
COLUMNS = 16
#: A tile's side in pixels: big enough to read a picture's shape on a projector.
TILE = 48
#: Below this largest magnitude a unit counts as constant (its picture is plain white).
FLAT = 1e-6
#: Pixels between two tiles.
GAP = 3


def unit_rgb(values: np.ndarray, lut: np.ndarray) -> tuple[np.ndarray, float, float]:
    """One unit's picture (rows, cols) -> (RGB uint8 with row 0 at the top, low, high).

    Scaled to its own largest magnitude so that zero is always white; y grows upwards in
    the plane, so the rows are flipped for an image whose first row is at the top.
    """
    v = np.asarray(values, dtype=np.float32)
    finite = v[np.isfinite(v)]
    low = float(finite.min()) if finite.size else 0.0
    high = float(finite.max()) if finite.size else 0.0
    scale = max(abs(low), abs(high))
    if scale < FLAT:
        scaled = np.zeros_like(v)
    else:
        scaled = np.nan_to_num(v / scale, nan=0.0, posinf=1.0, neginf=-1.0)
    steps = len(lut) - 1
    index = np.clip(np.rint((scaled + 1.0) * 0.5 * steps), 0, steps).astype(np.intp)
    return np.ascontiguousarray(lut[index][::-1]), low, high


def _pixmap(rgb: np.ndarray, size: int) -> QPixmap:
    h, w = rgb.shape[:2]
    image = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    return QPixmap.fromImage(image).scaled(size, size, Qt.AspectRatioMode.IgnoreAspectRatio,
                                           Qt.TransformationMode.SmoothTransformation)


class NeuronStrip(QWidget):
    """The hidden units' pictures, a row of tiles per layer with the layer's name before it.

    `set_pictures(pictures)` draws a `UnitPictures` (reusing the tiles while the layers stay
    the same, as they do through a run); `clear(message)` empties it and shows why.

    Args:
        tile: a picture's side in pixels.
        columns: tiles per row at most before a layer wraps (fewer when narrower).
    """

    def __init__(self, parent: QWidget | None = None, tile: int = TILE,
                 columns: int = COLUMNS) -> None:
        super().__init__(parent)
        self.setObjectName("neuronStrip")
        self.tile = int(tile)
        self._base_tile = int(tile)  # at View > Larger Text's 1x
        self.columns = max(1, int(columns))
        self._lut = diverging_lut()
        self._shape: tuple[tuple[str, int], ...] = ()
        self._placed = 0  # the tiles per row the grid is laid out with
        self.tiles: list[QLabel] = []  # in order: layer by layer, unit by unit
        self.layer_labels: list[QLabel] = []
        self.pictures: UnitPictures | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.header = QLabel()
        self.header.setObjectName("neuronHeader")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.header)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.body.setObjectName("neuronTiles")
        self.grid = QGridLayout(self.body)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(GAP)
        self.grid.setVerticalSpacing(GAP)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.scroll.setWidget(self.body)
        layout.addWidget(self.scroll, 1)
        self.clear()

    # -- what the panel calls ----------------------------------------------------------------

    def set_pictures(self, pictures: UnitPictures | None) -> None:
        """Draws every unit's picture; pictures without layers show their `note` instead."""
        if pictures is None or not pictures.layers:
            self.clear(pictures.note if pictures is not None else "")
            return
        shape = tuple((name, int(v.shape[0])) for name, v in zip(pictures.names,
                                                                 pictures.values))
        if shape != self._shape:
            self._build(shape)
        self.pictures = pictures
        self.header.setText(self._legend())
        tiles = iter(self.tiles)
        for name, values in zip(pictures.names, pictures.values):
            for unit in range(values.shape[0]):
                rgb, low, high = unit_rgb(values[unit], self._lut)
                label = next(tiles)
                label.setPixmap(_pixmap(rgb, self.tile))
                label.setToolTip(self._tooltip(name, unit, low, high))

    def clear(self, message: str = "") -> None:
        """No pictures: removes the tiles and says why (or what the strip will show)."""
        self._build(())
        self.pictures = None
        self.header.setText(message or "What each neuron sees: the pictures appear for a "
                                       "model of two inputs with hidden Dense layers.")

    def set_scale(self, factor: float) -> None:
        """Tiles `factor` times their normal size (View > Larger Text, `text_scale`), so
        that the pictures grow with the text on a projector."""
        self.tile = max(8, int(round(self._base_tile * float(factor))))
        pictures = self.pictures
        self._build(())
        if pictures is not None:
            self.set_pictures(pictures)

    @property
    def count(self) -> int:
        """The number of unit pictures shown."""
        return len(self.tiles) if self.pictures is not None else 0

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._fit_columns() != self._placed:
            self._place()

    def _fit_columns(self) -> int:
        """Tiles per row: as many as fit the strip's width, at most `columns`."""
        width = self.scroll.viewport().width() if self.isVisible() else self.width()
        return max(1, min(self.columns, (width + GAP) // (self.tile + 2 + GAP)))

    # -- drawing -----------------------------------------------------------------------------

    def _legend(self) -> str:
        return (f"What each neuron sees over the two inputs: "
                f"<span style='color:{NEGATIVE}'>&#9632;</span> below 0, white 0, "
                f"<span style='color:{POSITIVE}'>&#9632;</span> above 0 (each scaled to its "
                "own range; hover for its values).")

    @staticmethod
    def _tooltip(name: str, unit: int, low: float, high: float) -> str:
        where = f"Layer {name}, unit {unit + 1}"
        if max(abs(low), abs(high)) < FLAT:
            return f"{where}: 0 everywhere on this plane (a unit that never fires is dead)"
        if high - low < FLAT * max(1.0, abs(high)):
            return f"{where}: {high:.3g} everywhere on this plane"
        return f"{where}: output from {low:.3g} to {high:.3g}"

    def _build(self, shape: tuple[tuple[str, int], ...]) -> None:
        """Makes the tiles for these layers (name, units), once per model."""
        while self.grid.count():
            item = self.grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()  # at once: deleteLater waits for the event loop
                widget.deleteLater()
        self.tiles, self.layer_labels = [], []
        self._shape = shape
        for name, units in shape:
            title = QLabel(name)
            title.setObjectName("neuronLayer")
            title.setStyleSheet("font-weight: 600;")
            title.setToolTip(f"Layer {name}: {units} unit(s)")
            title.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            title.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
            self.layer_labels.append(title)
            for _ in range(units):
                tile = QLabel()
                tile.setObjectName("neuronTile")
                tile.setFixedSize(self.tile + 2, self.tile + 2)
                tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
                # a thin frame: a unit near zero everywhere is white on white without it
                tile.setStyleSheet("QLabel { border: 1px solid #9a9a9a; }")
                self.tiles.append(tile)
        self._place()

    def _place(self) -> None:
        """Lays the titles and tiles out in rows of as many tiles as fit (evened out)."""
        columns = self._fit_columns()
        for widget in (*self.layer_labels, *self.tiles):
            self.grid.removeWidget(widget)
        row, tiles = 0, iter(self.tiles)
        for title, (_, units) in zip(self.layer_labels, self._shape):
            self.grid.addWidget(title, row, 0, 1, columns)
            row += 1
            # rows of even length: eight units in rows of seven read as 4 + 4, not 7 + 1
            rows = max(1, -(-units // columns))
            per = max(1, -(-units // rows))
            for unit in range(units):
                self.grid.addWidget(next(tiles), row + unit // per, unit % per)
            row += rows
        self._placed = columns
