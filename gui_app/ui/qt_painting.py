"""Every patch of pyqtgraph and PySide internals the live view uses, behind its switches.

While training ran on a thread of the window's process, every call from Qt into Python
took the GIL from the training thread, so the live view avoided them: pyqtgraph widgets
were given Qt's own paint and bounds (`paint_in_qt`, `bounds_in_qt`), curves, the grid,
the boundary picture and its points were plain Qt items (`LineCurve`, `TickGrid`,
`RgbImage`, `PointsLayer`, `IsoLine`) and axes were cached as pixmaps. Training now runs
in the engine process, but on a small machine the window still takes its CPU time from
TensorFlow's threads: measured against stock pyqtgraph (benchmarks/gui_training_overhead.py
--arms qt,stock,nopaint,nopin), the stock painting kept the GUI thread busy 12-14 % of a
core against 4-5 %, with GUI gaps of 40-48 ms while training against under 25 ms, and
training through the window took about 2-18 % longer; without pinning about 3-8 % longer.
Both are kept, behind these switches; pyproject.toml bounds pyqtgraph below its next
minor version, since these patches reach into its internals.

Switches, read once at import (the benchmark flips the module attributes between arms):

- `QT_PAINTING` (LAYERLAB_QT_PAINTING, default on): the Qt-only items above; off, the
  plots and the boundary are stock pyqtgraph items (`PlotDataItem`, `ImageItem`,
  `ScatterPlotItem`) updated with `setData` / `setImage`.
- `PIN_CORES` (LAYERLAB_PIN_CORES, default on): the engine's training thread is held on
  a core (small models) and the GUI thread keeps off it during a run.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QPixmap, QTransform
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QGraphicsView,
    QGraphicsWidget,
)


def _on(name: str) -> bool:
    return os.environ.get(name, "1") != "0"


QT_PAINTING = _on("LAYERLAB_QT_PAINTING")
PIN_CORES = _on("LAYERLAB_PIN_CORES")

#: The diameter of the points on a LineCurve, in pixels.
SYMBOL_PIXELS = 5.0
#: Each point is a stroke this long (relative to its x) with round caps.
DOT_LENGTH = 1e-6


def cache(item: QGraphicsItem) -> None:
    """Keeps `item` as a pixmap, drawn again only when it changes (QT_PAINTING only)."""
    if QT_PAINTING:
        item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)


def paint_in_qt(view: pg.GraphicsView) -> None:
    """Lets Qt paint `view` without calling into Python for the view itself: the scene
    gets ready (view boxes update their transforms) whenever it changes, not in
    pyqtgraph's Python `paintEvent`."""
    scene = view.scene()
    scene.changed.connect(scene.prepareForPaint)


def bounds_in_qt(*items: QGraphicsWidget) -> None:
    """Gives pyqtgraph widgets (plot items, view boxes, axes, titles) Qt's own bounds,
    which are their rectangles (pyqtgraph answers the same in Python, on every paint).
    An axis keeps pyqtgraph's reach past its rectangle as window-frame margins."""
    for item in items:
        if isinstance(item, pg.AxisItem):
            wide, rect = pg.AxisItem.boundingRect(item), item.rect()
            item.setWindowFrameMargins(rect.left() - wide.left(), rect.top() - wide.top(),
                                       wide.right() - rect.right(),
                                       wide.bottom() - rect.bottom())
        item.boundingRect = QGraphicsWidget.boundingRect.__get__(item)
        item.shape = QGraphicsWidget.shape.__get__(item)
        if isinstance(item, pg.ViewBox):
            item.paint = QGraphicsWidget.paint.__get__(item)


def plot_bounds_in_qt(plot: pg.PlotItem) -> None:
    """`bounds_in_qt` for a plot item, its view box, its axes and its title."""
    bounds_in_qt(plot, plot.getViewBox(), plot.titleLabel,
                 *(plot.getAxis(side) for side in ("left", "bottom", "right", "top")))



def finite_points(coords: np.ndarray, colors: list[QColor]) -> tuple[np.ndarray, list[QColor]]:
    """The (x, y) points with finite coordinates, and their colours (both point layers)."""
    coords = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    finite = np.isfinite(coords).all(axis=1)
    return coords[finite], [c for c, keep in zip(colors, finite) if keep]

class QtPaintedLayout(pg.GraphicsLayoutWidget):
    """A GraphicsLayoutWidget that Qt paints without Python (see `paint_in_qt`)."""

    paintEvent = QGraphicsView.paintEvent

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        paint_in_qt(self)
        bounds_in_qt(self.ci)


class QtPaintedPlot(pg.PlotWidget):
    """A PlotWidget that Qt paints without Python (see `paint_in_qt`, `bounds_in_qt`)."""

    paintEvent = QGraphicsView.paintEvent

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        paint_in_qt(self)
        plot_bounds_in_qt(self.getPlotItem())


def layout_widget() -> pg.GraphicsLayoutWidget:
    return QtPaintedLayout() if QT_PAINTING else pg.GraphicsLayoutWidget()


def plot_widget() -> pg.PlotWidget:
    # No right-click menus (every plot turns them off): a ViewBox's menu is a form of
    # widgets, 3 ms of each plot's 12 ms to make.
    return QtPaintedPlot(enableMenu=False) if QT_PAINTING else pg.PlotWidget(enableMenu=False)


def plot_item() -> pg.PlotItem:
    item = pg.PlotItem(enableMenu=False)
    if QT_PAINTING:
        plot_bounds_in_qt(item)
    return item


class LineCurve:
    """A curve drawn by Qt alone (a QGraphicsPathItem), with optional points on it.

    Batch series arrive already decimated (views.PeakDecimator); for a log axis the
    values are turned into log10 here, as pyqtgraph does for its own items.
    """

    decimated = True  # batch series are handed over decimated

    def __init__(self, plot: pg.PlotItem, pen: QPen, z: float,
                 symbol_color: str | None = None) -> None:
        self.item = QGraphicsPathItem()
        self.item.setPen(pen)
        self.item.setZValue(z)
        plot.addItem(self.item, ignoreBounds=True)
        self.count = 0
        self.points: QGraphicsPathItem | None = None
        if symbol_color is not None:
            self.points = QGraphicsPathItem()
            dot = QPen(QColor(symbol_color))
            dot.setWidthF(SYMBOL_PIXELS)
            dot.setCosmetic(True)
            dot.setCapStyle(Qt.PenCapStyle.RoundCap)
            self.points.setPen(dot)
            self.points.setZValue(z + 0.5)
            plot.addItem(self.points, ignoreBounds=True)

    def set_data(self, x: np.ndarray, y: np.ndarray, log: bool = False,
                 symbols: bool = False) -> None:
        self.count = len(x)
        if not len(x):
            self.item.setPath(QPainterPath())
            self._set_points(None)
            return
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
        finite = np.isfinite(y)
        connect = "all" if finite.all() else "finite"
        self.item.setPath(pg.arrayToQPath(x, y, connect=connect))
        self._set_points((x[finite], y[finite]) if symbols else None)

    def _set_points(self, xy: tuple[np.ndarray, np.ndarray] | None) -> None:
        if self.points is None:
            return
        if xy is None or not len(xy[0]):
            self.points.setPath(QPainterPath())
            return
        # Qt draws no cap on a stroke of length zero: each dot is a stroke a hair long
        x = np.repeat(xy[0], 2)
        x[1::2] += DOT_LENGTH * np.maximum(1.0, np.abs(x[1::2]))
        self.points.setPath(pg.arrayToQPath(x, np.repeat(xy[1], 2), connect="pairs"))


class TickGrid:
    """Faint lines across the view at the axes' major ticks: one Qt path item, cached as
    a pixmap, made again only when the view moves or is resized."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.plot = plot
        self.item = QGraphicsPathItem()
        color = QColor("#000000")
        color.setAlpha(30)
        pen = pg.mkPen(color, width=1.0)
        pen.setCosmetic(True)
        self.item.setPen(pen)
        self.item.setZValue(-20)
        self.item.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        vb = plot.getViewBox()
        vb.addItem(self.item, ignoreBounds=True)
        vb.sigRangeChanged.connect(self.update)
        vb.sigResized.connect(self.update)

    def update(self, *_args: object) -> None:
        vb = self.plot.getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        path = QPainterPath()
        for side, low, high, pixels in (("bottom", x0, x1, vb.width()),
                                        ("left", y0, y1, vb.height())):
            if pixels <= 0 or not high > low:
                continue
            levels = self.plot.getAxis(side).tickValues(low, high, pixels)
            for value in (levels[0][1] if levels else ()):
                if side == "bottom":
                    path.moveTo(value, y0)
                    path.lineTo(value, y1)
                else:
                    path.moveTo(x0, value)
                    path.lineTo(x1, value)
        self.item.setPath(path)


class RgbImage(QGraphicsPixmapItem):
    """An RGB picture on a rectangle of the plot, drawn by Qt with no Python in its paint.
    `image` is the array shown (rows along y, from the bottom), None when empty."""

    def __init__(self) -> None:
        super().__init__()
        self.image: np.ndarray | None = None
        self.setShapeMode(QGraphicsPixmapItem.ShapeMode.BoundingRectShape)

    def set_image(self, rgb: np.ndarray) -> None:
        """Shows `rgb` (height x width x 3, uint8)."""
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        h, w = rgb.shape[:2]
        self.image = rgb
        self.setPixmap(QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w,
                                                QImage.Format.Format_RGB888)))

    def set_rect(self, rect: QRectF) -> None:
        """Stretches the picture over `rect` (plot coordinates)."""
        if self.image is None:
            return
        h, w = self.image.shape[:2]
        self.setTransform(QTransform(rect.width() / w, 0, 0, rect.height() / h,
                                     rect.x(), rect.y()))

    def set_smooth(self, on: bool) -> None:
        mode = Qt.TransformationMode.SmoothTransformation if on else \
            Qt.TransformationMode.FastTransformation
        if self.transformationMode() != mode:
            self.setTransformationMode(mode)

    def clear(self) -> None:
        self.image = None
        self.setPixmap(QPixmap())


class PointsLayer:
    """Data points drawn into a pixmap the size of the view, which Qt shows as it is; the
    points are drawn again (in Python) only when the view moves or is resized. An
    invisible rectangle over the points' extent gives the view its auto-range."""

    FILLED = 6.0  # disc diameter, pixels
    HOLLOW = 7.0  # ring diameter, pixels

    def __init__(self, plot: pg.PlotItem, z: float) -> None:
        self.vb = plot.getViewBox()
        self.item = QGraphicsPixmapItem()
        self.item.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.item.setZValue(z)
        plot.addItem(self.item, ignoreBounds=True)
        self.extent = QGraphicsRectItem()  # what auto-range fits (draws nothing)
        self.extent.setPen(QPen(Qt.PenStyle.NoPen))
        self.extent.setVisible(False)
        plot.addItem(self.extent)
        self.sets: list[tuple[np.ndarray, list[QColor], bool]] = []
        self.vb.sigTransformChanged.connect(self.redraw)

    def clear(self) -> None:
        self.sets = []
        self.extent.setVisible(False)
        self.item.setPixmap(QPixmap())

    def set_points(self, coords: np.ndarray, colors: list[QColor], hollow: bool,
                   draw: bool = True) -> None:
        """Adds a set of points; with `draw` False the caller redraws once for all of its
        sets (each redraw paints every point into a fresh pixmap)."""
        coords, colors = finite_points(coords, colors)
        if not len(coords):
            return
        self.sets.append((coords, colors, hollow))
        every = np.concatenate([c for c, _, _ in self.sets])
        low, high = every.min(axis=0), every.max(axis=0)
        self.extent.setRect(QRectF(float(low[0]), float(low[1]),
                                   float(high[0] - low[0]), float(high[1] - low[1])))
        self.extent.setVisible(True)
        if draw:
            self.redraw()

    @property
    def count(self) -> int:
        return sum(len(c) for c, _, _ in self.sets)

    def redraw(self, *_args: object) -> None:
        rect = self.vb.rect()
        if not self.sets or rect.width() < 1 or rect.height() < 1:
            self.item.setPixmap(QPixmap())
            return
        views = self.vb.scene().views() if self.vb.scene() is not None else []
        ratio = views[0].devicePixelRatioF() if views else 1.0
        pixmap = QPixmap(int(math.ceil(rect.width() * ratio)),
                         int(math.ceil(rect.height() * ratio)))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        t = self.vb.childTransform()  # data -> view-box pixels
        painter = QPainter(pixmap)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            for coords, colors, hollow in self.sets:
                px = coords[:, 0] * t.m11() + t.dx()
                py = coords[:, 1] * t.m22() + t.dy()
                groups: dict[int, list[int]] = {}
                for i, color in enumerate(colors):
                    groups.setdefault(color.rgba(), []).append(i)
                for rgba, rows in groups.items():
                    points = [QPointF(px[i], py[i]) for i in rows]
                    color = QColor.fromRgba(rgba)
                    if hollow:  # a dark ring under the coloured one: it stays visible on a
                        # region of its own colour (an orange ring on the orange class)
                        painter.setBrush(Qt.BrushStyle.NoBrush)
                        r = self.HOLLOW / 2
                        for width, ink in ((2.6, QColor(34, 34, 34, 110)), (1.6, color)):
                            painter.setPen(QPen(ink, width))
                            for p in points:
                                painter.drawEllipse(p, r, r)
                    else:  # a white disc under a smaller coloured one: a thin white edge
                        for width, ink in ((self.FILLED + 1.6, QColor(255, 255, 255, 230)),
                                           (self.FILLED, color)):
                            pen = QPen(ink, width)
                            pen.setCapStyle(Qt.PenCapStyle.RoundCap)
                            painter.setPen(pen)
                            painter.drawPoints(points)
        finally:
            painter.end()
        self.item.setPixmap(pixmap)
        self.item.setPos(self.vb.mapToView(rect.topLeft()))


class IsoLine:
    """The P = 0.5 line as segments (pairs of points), drawn by Qt alone."""

    def __init__(self, plot: pg.PlotItem, pen: QPen, z: float) -> None:
        self.item = QGraphicsPathItem()
        self.item.setPen(pen)
        self.item.setZValue(z)
        plot.addItem(self.item, ignoreBounds=True)

    def set_segments(self, x: np.ndarray, y: np.ndarray) -> None:
        if not len(x):
            self.item.setPath(QPainterPath())
            return
        self.item.setPath(pg.arrayToQPath(np.asarray(x, dtype=np.float64),
                                          np.asarray(y, dtype=np.float64), connect="pairs"))
