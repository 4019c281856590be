"""The decision-boundary view: what the model predicts over the plane its data lives on.

- 2 input features: the predicted probability (binary) or class regions (multi-class) as
  a coloured image, P = 0.5 drawn as a line, training points filled and validation points
  hollow on top. Regression on 2 features: the predicted value as a colour map.
- 1 input feature: the data and the predicted curve (regression), or P(class) curves.
- Wider inputs: a plane chosen by the person, either two features with the others held at
  their training mean or the plane of the first two principal components; a line above
  the picture says which (`views.Plane.description`).

A slider scrubs back through the snapshots of the current run (kept by the panel in a
`views.SnapshotStore`); at its right end the view follows training live. Clicking the
picture asks the panel for the model's prediction at that point.

For a classroom projector: classes are drawn in the Okabe-Ito colours (`colors`), the
points can be made smaller, larger or hidden (the Points menu) so the picture under them
shows, a regression surface has a colour scale with its values beside it, and the picture
fills the visible plane: when the view is zoomed out past the data (or is wider than the
data), the view asks for a grid over what it shows (`rangeRequested`).

Coordinates are the ones the model sees (standardised when the data is standardised; the
axis titles say so).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QActionGroup, QColor, QFont, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.boundary import BoundaryGrid, Plane, contour_segments, region_index, region_lut
from ..core.boundary.grids import Extent, cover_extent, data_extent, extent_covers
from ..core.data import Dataset
from ..core.history_views import labels_of
from . import qt_painting
from .colors import INK, SERIES, VALUE_COLORMAP, class_color, class_rgb
from .fields import SteadyLabel

#: Seconds the live slider's range may lag behind the snapshots (see set_snapshot_count).
RANGE_EVERY = 1.0
#: Training points drawn at most (a random, fixed subset beyond this): a scatter of 60,000
#: points costs more to draw than the whole picture is worth.
MAX_POINTS = 1500
#: The Points menu: (disc, ring) diameters in pixels for training (filled) and validation
#: (hollow) points; None hides them. "normal" is what the view drew before there was a
#: choice; "large" reads from the back of a classroom.
#: How near (screen pixels) a click must land on a shown data point to pick that sample.
PICK_PIXELS = 6.0
POINT_STYLES: dict[str, tuple[float, float] | None] = {
    "hidden": None, "small": (3.5, 4.5), "normal": (6.0, 7.0), "large": (10.0, 11.0)}
#: Input values (features, or pixels times channels) up to which a plane of two of them is
#: offered: 64x64 grey images. Past that, two lists of tens of thousands of names say little
#: and take a while to fill; the principal components remain.
MAX_FEATURE_CHOICES = 4096
#: Milliseconds the view waits after the last pan, zoom or resize before it asks for a
#: grid over the new range (one request per gesture, not one per mouse move).
RANGE_DEBOUNCE_MS = 300


def _rgb_table(n: int) -> np.ndarray:
    return class_rgb(n)


def _subset(n: int, limit: int, seed: int = 0) -> np.ndarray:
    if n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


@dataclass(frozen=True, eq=False)
class Picture:
    """A snapshot made ready to draw: its RGB image and its P = 0.5 line (segments)."""

    grid: BoundaryGrid
    rgb: np.ndarray
    iso: tuple[np.ndarray, np.ndarray]


class Image(pg.ImageItem):
    """The picture with QT_PAINTING off (else `qt_painting.RgbImage`): a stock pyqtgraph
    ImageItem (rows along y, from the bottom) stretched over a rectangle of the plot.
    `image` is the array shown, None when empty."""

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")

    def set_image(self, rgb: np.ndarray) -> None:
        """Shows `rgb` (height x width x 3, uint8)."""
        self.setImage(np.ascontiguousarray(rgb, dtype=np.uint8), autoLevels=False)

    def set_rect(self, rect: QRectF) -> None:
        """Stretches the picture over `rect` (plot coordinates)."""
        if self.image is not None:
            self.setRect(rect)

    def set_smooth(self, on: bool) -> None:
        """pyqtgraph draws the pixels as they are (no smoothing)."""


class Points:
    """Data points with QT_PAINTING off (else `qt_painting.PointsLayer`): stock pyqtgraph
    scatters, training filled (a thin white edge), validation hollow. The scatters give
    the view its auto-range."""

    FILLED = 6.0  # disc diameter, pixels
    HOLLOW = 7.0  # ring diameter, pixels

    def __init__(self, plot: pg.PlotItem, z: float) -> None:
        self.plot = plot
        self.z = z
        self.items: list[pg.ScatterPlotItem] = []
        self._hollow: list[bool] = []
        self._count = 0

    def clear(self) -> None:
        for item in self.items:
            self.plot.removeItem(item)
        self.items = []
        self._hollow = []
        self._count = 0

    def restyle(self, visible: bool) -> None:
        """Applies FILLED and HOLLOW (set on this object) to the drawn points, and shows
        or hides them."""
        for item, hollow in zip(self.items, self._hollow):
            item.setSize(self.HOLLOW if hollow else self.FILLED + 1.6)
            item.setVisible(visible)

    def set_points(self, coords: np.ndarray, colors: list[QColor], hollow: bool,
                   draw: bool = True) -> None:  # noqa: ARG002 - as PointsLayer's
        coords, colors = qt_painting.finite_points(coords, colors)
        if not len(coords):
            return
        if hollow:
            item = pg.ScatterPlotItem(coords[:, 0], coords[:, 1], size=self.HOLLOW,
                                      pen=[pg.mkPen(c, width=1.6) for c in colors],
                                      brush=None)
        else:
            item = pg.ScatterPlotItem(coords[:, 0], coords[:, 1], size=self.FILLED + 1.6,
                                      pen=pg.mkPen(255, 255, 255, 230, width=0.8),
                                      brush=[pg.mkBrush(c) for c in colors])
        item.setZValue(self.z)
        self.plot.addItem(item)
        self.items.append(item)
        self._hollow.append(hollow)
        self._count += len(coords)

    @property
    def count(self) -> int:
        return self._count


class IsoLine:
    """The P = 0.5 line as segments (pairs of points), with QT_PAINTING off: a stock
    pyqtgraph curve."""

    def __init__(self, plot: pg.PlotItem, pen: QPen, z: float) -> None:
        self.item = pg.PlotDataItem(pen=pen, connect="pairs")
        self.item.setZValue(z)
        plot.addItem(self.item, ignoreBounds=True)

    def set_segments(self, x: np.ndarray, y: np.ndarray) -> None:
        self.item.setData(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64),
                          connect="pairs")


class Pictures:
    """Turns class snapshots into Pictures; called on the training thread, in the bridge.

    The work is numpy on 10,000-value arrays, and numpy lets go of the GIL for each such
    operation: on the GUI thread every one of them would be a hand-over of the GIL with the
    training thread (a wait of up to 5 ms for the GUI and a forced switch for training).
    On the training thread it is a fraction of a millisecond of plain work. Pure numpy;
    the usual colour tables are made in advance (`prepare`), an odd one when first needed.
    """

    def __init__(self) -> None:
        self._luts: dict[tuple[str, int], np.ndarray] = {}

    def prepare(self, classes: int) -> None:
        """Colour tables for a binary output and for `classes` softmax outputs."""
        k = max(2, classes)
        self._luts = {("binary", 1): region_lut("binary", _rgb_table(2)),
                      ("multiclass", k): region_lut("multiclass", _rgb_table(k))}

    def table(self, grid: BoundaryGrid) -> np.ndarray:
        key = (grid.kind, int(grid.values.shape[-1]))
        lut = self._luts.get(key)
        if lut is None:  # an output width the data did not announce
            lut = region_lut(grid.kind, _rgb_table(max(2, key[1])))
            self._luts = {**self._luts, key: lut}  # replaced whole: safe to read meanwhile
        return lut

    def __call__(self, grid: BoundaryGrid) -> Picture | None:
        if grid.kind not in ("binary", "multiclass"):
            return None
        lut = self.table(grid)
        rgb = lut[region_index(grid.values, grid.kind)]
        if grid.kind == "binary":
            iso = contour_segments(grid.values[..., 0], grid.xs, grid.ys, 0.5)
        else:
            iso = (np.empty(0), np.empty(0))
        return Picture(grid, rgb, iso)


class BoundaryView(QWidget):
    """The picture, the plane chooser (wide inputs) and the scrubbing slider.

    Signals:
        planeRequested(str, int, int): the person chose a plane: ("pca", 0, 0) or
            ("features", i, j).
        scrubbed(int): the slider moved to snapshot index i (-1: follow live).
        clicked(object, object): the model input for a clicked point, shape (1, *shape),
            and the (x, y) view coordinates it was clicked at.
        rangeRequested(object): the rectangle ((x0, x1), (y0, y1)) in view coordinates the
            picture should cover so that it fills the view (the view was zoomed out, panned
            or resized past the grid); also `requested_extent`. The panel makes its probe
            over it (`make_probe(..., extent=)`, `plane_probe(..., extent=)`).
    """

    planeRequested = Signal(str, int, int)
    scrubbed = Signal(int)
    clicked = Signal(object, object)
    rangeRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None, plot: pg.PlotWidget | None = None) -> None:
        """`plot`: a plot widget made ahead (`qt_painting.plot_widget()`), so that the
        window's start can make it on a turn of its own (12 ms of this view's 19)."""
        super().__init__(parent)
        self.setObjectName("boundaryView")
        self.mode = "none"  # "plane2d", "curve", "wide", "none"
        self.dataset: Dataset | None = None
        self.plane: Plane | None = None
        self.class_names: list[str] = []
        self.grid: BoundaryGrid | None = None
        self.images_shown = 0
        self._live = True
        self._colors = _rgb_table(2)
        self.pictures = Pictures()
        self.pictures.prepare(2)
        self._regression_levels: tuple[float, float] = (0.0, 1.0)
        self._cmap = pg.colormap.get(VALUE_COLORMAP)
        self._regression_lut = self._cmap.getLookupTable(nPts=256, alpha=False).astype(np.uint8)
        self._curves: list[pg.PlotDataItem] = []
        #: the Points menu's choice (a key of POINT_STYLES); kept across data sets
        self.point_style = "normal"
        #: The data points drawn, per split: their view coordinates and rows (click picking).
        self._shown_points: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        #: The sample the last click picked: ("training" | "validation", row), or None.
        self.clicked_sample: tuple[str, int] | None = None
        self.scale = 1.0  # View > Larger Text's factor (set_scale)
        self._data_extent: Extent | None = None  # what the grid covers by default
        self._requested: Extent | None = None  # what the view last asked to be covered

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.header = QLabel()
        self.header.setObjectName("boundaryHeader")
        self.header.setWordWrap(True)
        # the text colour, not a dimmed one: grey on white fades away on a projector
        layout.addWidget(self.header)

        plane_row = QHBoxLayout()
        self.plane_mode = QComboBox()
        self.plane_mode.setObjectName("planeMode")
        self.plane_mode.addItem("Principal components 1 and 2", "pca")
        self.plane_mode.addItem("Two features (the rest at their mean)", "features")
        self.plane_mode.setToolTip("Which plane through the inputs to draw the predictions on.")
        self.feature_x = QComboBox()
        self.feature_x.setObjectName("planeFeatureX")
        self.feature_y = QComboBox()
        self.feature_y.setObjectName("planeFeatureY")
        for combo, axis in ((self.feature_x, "horizontal"), (self.feature_y, "vertical")):
            combo.setToolTip(f"The feature on the {axis} axis.")
        for combo, chars in ((self.plane_mode, 12), (self.feature_x, 6), (self.feature_y, 6)):
            combo.setMinimumContentsLength(chars)
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        plane_row.addWidget(self.plane_mode, 2)
        plane_row.addWidget(self.feature_x, 1)
        plane_row.addWidget(self.feature_y, 1)
        self.plane_row = QWidget()
        self.plane_row.setLayout(plane_row)
        plane_row.setContentsMargins(0, 0, 0, 0)
        self.plane_row.setVisible(False)
        layout.addWidget(self.plane_row)

        self.plot = plot if plot is not None else qt_painting.plot_widget()
        self.plot.setObjectName("boundaryPlot")
        self.plot.setBackground("w")
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        # Short enough that the plot, not the slider row below it, gives way when the
        # header wraps to three lines (1024x768): a plot held taller than its room was
        # drawn under the slider row, which hid the x-axis title
        self.plot.setMinimumSize(200, 110)
        item = self.plot.getPlotItem()
        item.getAxis("bottom").setHeight(36)  # tick labels and the axis title, uncut
        # pyqtgraph places the bottom axis title 5 px below its axis's bottom edge: without
        # room under the plot, a short plot (1024x768, 1280x720) cut the title in half
        item.setContentsMargins(0, 0, 0, 8)
        # The axes touch the picture, which changes ten times a second: with Qt painting
        # they are blitted, not drawn again (in Python) each time.
        for side in ("left", "bottom"):
            qt_painting.cache(item.getAxis(side))
        self.image = qt_painting.RgbImage() if qt_painting.QT_PAINTING else Image()
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        # The P = 0.5 line, as segments from views.contour_segments (pyqtgraph's
        # IsocurveItem traces it in Python, ten times slower, ten times a second).
        # With Qt painting, drawn by Qt alone (no Python in its paint): it changes with
        # every picture.
        pen = pg.mkPen(INK, width=1.5)
        pen.setCosmetic(True)
        iso = qt_painting.IsoLine if qt_painting.QT_PAINTING else IsoLine
        self.iso = iso(self.plot.getPlotItem(), pen, -5)
        points = qt_painting.PointsLayer if qt_painting.QT_PAINTING else Points
        self.points = points(self.plot.getPlotItem(), z=0)
        self.click_marker = pg.ScatterPlotItem(size=14, symbol="star",
                                               brush=pg.mkBrush("#ffd700"),
                                               pen=pg.mkPen("#000000", width=1.2))
        self.click_marker.setZValue(30)
        self.click_marker.setVisible(False)
        self.click_text = pg.TextItem(color="#000000", fill=pg.mkBrush(255, 255, 255, 220),
                                      border=pg.mkPen("#888888"), anchor=(0, 1))
        self.click_text.setZValue(31)
        self.plot.addItem(self.click_marker)
        self.plot.addItem(self.click_text)
        self.click_text.setVisible(False)
        # The value scale of a regression surface, at the right of the picture (inside the
        # plot item, so an exported picture has it too); in the layout only while shown,
        # and made when first wanted (14 ms that a classifier never needs).
        self._color_bar: pg.ColorBarItem | None = None
        self._bar_shown = False
        layout.addWidget(self.plot, 1)

        slider_row = QHBoxLayout()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("epochSlider")
        self.slider.setRange(0, 0)
        self.slider.setEnabled(False)
        self.slider.setAutoFillBackground(True)  # see SteadyLabel: no repaint from below
        self.slider.sliderPressed.connect(self._on_slider_pressed)
        self._count = 0
        self._range_set = -1e9
        self.slider.setToolTip("Scrub back through the run: the picture and the values as they "
                               "were. At the right end the view follows training live.")
        # fixed size: its text changes with every live picture (see SteadyLabel)
        self.slider_label = SteadyLabel("live: epoch 9999.9")
        self.slider_label.setObjectName("epochSliderLabel")
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.slider_label)
        self.points_button = self._points_menu()
        slider_row.addWidget(self.points_button)
        layout.addLayout(slider_row)

        self.slider.valueChanged.connect(self._on_slider)
        self.plane_mode.currentIndexChanged.connect(self._on_plane_choice)
        self.feature_x.currentIndexChanged.connect(self._on_plane_choice)
        self.feature_y.currentIndexChanged.connect(self._on_plane_choice)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self._range_timer = QTimer(self)
        self._range_timer.setSingleShot(True)
        self._range_timer.setInterval(RANGE_DEBOUNCE_MS)
        self._range_timer.timeout.connect(self.request_range)
        self.plot.getPlotItem().getViewBox().sigRangeChanged.connect(self._on_range_changed)
        self._updating = False
        self.set_dataset(None)

    def _points_menu(self) -> QToolButton:
        """The Points button: Hidden / Small / Normal / Large, one checked."""
        button = QToolButton()
        button.setObjectName("pointSize")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        button.setToolTip("The size of the data points: smaller or hidden shows the picture "
                          "under them, larger reads from the back of a room.")
        menu = QMenu(button)
        group = QActionGroup(menu)
        group.setExclusive(True)
        self.point_actions: dict[str, Any] = {}
        for name in POINT_STYLES:
            action = menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setChecked(name == self.point_style)
            action.setObjectName(f"points_{name}")
            action.triggered.connect(lambda _checked=False, n=name: self.set_point_style(n))
            group.addAction(action)
            self.point_actions[name] = action
        button.setMenu(menu)
        # as wide as its widest text, so that a choice does not shift the slider beside it
        widest = max(button.fontMetrics().horizontalAdvance(f"Points: {n.capitalize()}")
                     for n in POINT_STYLES)
        button.setMinimumWidth(widest + 28)
        button.setText(f"Points: {self.point_style.capitalize()}")
        return button

    # -- the data ---------------------------------------------------------------------------

    def set_dataset(self, dataset: Dataset | None, plane: Plane | None = None,
                    message: str = "") -> None:
        """Draws the data points and decides what kind of picture the model gets."""
        self.dataset = dataset
        self.plane = plane
        self.grid = None
        self.image.clear()
        self._set_iso(None)
        self._clear_curves()
        self.hide_click()
        x = None if dataset is None else dataset.x_train
        if dataset is None or x is None or len(x) == 0:
            self.mode = "none"
        elif x.ndim == 2 and x.shape[1] == 2:
            self.mode = "plane2d"
        elif x.ndim == 2 and x.shape[1] == 1:
            self.mode = "curve"
        elif plane is not None:
            self.mode = "wide"
        else:
            self.mode = "none"
        self.class_names = list(dataset.class_names or []) if dataset is not None else []
        self._colors = _rgb_table(len(self.class_names))
        self.pictures.prepare(len(self.class_names))
        self._range_timer.stop()
        self._requested = None
        self._sync_plane_controls()
        self._draw_points()
        self._update_color_bar()
        self._set_header(message)

    def _sync_plane_controls(self) -> None:
        ds = self.dataset
        wide = self.mode == "wide" and ds is not None
        self.plane_row.setVisible(wide)
        if not wide:
            return
        self._updating = True
        try:
            flat = int(np.prod(ds.x_train.shape[1:]))
            choices = flat <= MAX_FEATURE_CHOICES
            item = self.plane_mode.model().item(1)
            item.setEnabled(choices)
            item.setToolTip("" if choices else f"Offered for inputs of up to "
                            f"{MAX_FEATURE_CHOICES:,} values; these have {flat:,}.")
            self.feature_x.setVisible(choices)
            self.feature_y.setVisible(choices)
            names = list(ds.feature_names) if len(ds.feature_names) == flat else \
                [f"value {i + 1}" for i in range(flat)] if choices else []
            if choices and (self.feature_x.count() != flat
                            or self.feature_x.itemText(0) != names[0]):
                for combo in (self.feature_x, self.feature_y):
                    combo.clear()
                    combo.addItems(names)
            elif not choices:
                for combo in (self.feature_x, self.feature_y):
                    combo.clear()
            plane = self.plane
            if plane is not None:
                self.plane_mode.setCurrentIndex(0 if plane.mode == "pca" else 1)
                if plane.mode == "features":
                    self.feature_x.setCurrentIndex(plane.features[0])
                    self.feature_y.setCurrentIndex(plane.features[1])
                elif self.feature_y.currentIndex() == self.feature_x.currentIndex():
                    self.feature_y.setCurrentIndex(min(1, flat - 1))
            features = plane is not None and plane.mode == "features"
            self.feature_x.setEnabled(features)
            self.feature_y.setEnabled(features)
        finally:
            self._updating = False

    def _axis_titles(self) -> tuple[str, str]:
        ds = self.dataset
        if ds is None:
            return "", ""
        scaled = " (standardised)" if ds.mean is not None else ""
        names = list(ds.feature_names)
        if self.mode == "plane2d":
            a = names[0] if len(names) > 0 else "x1"
            b = names[1] if len(names) > 1 else "x2"
            return a + scaled, b + scaled
        if self.mode == "curve":
            a = names[0] if names else "x"
            return a + scaled, "target" if ds.task == "regression" else "P(class)"
        if self.mode == "wide" and self.plane is not None:
            return self.plane.labels[0] + scaled, self.plane.labels[1] + scaled
        return "", ""

    def _draw_points(self) -> None:
        ds = self.dataset
        self.points.clear()
        item = self.plot.getPlotItem()
        a, b = self._axis_titles()
        item.setLabel("bottom", a)
        item.setLabel("left", b)
        self._data_extent = None
        self._shown_points = {}
        if ds is None or self.mode == "none":
            return
        if ds.task == "regression":
            self._regression_levels = self._value_range(ds)
        for x, y, hollow in ((ds.x_train, ds.y_train, False), (ds.x_val, ds.y_val, True)):
            if x is None or y is None or not len(x):
                continue
            rows = _subset(len(x), MAX_POINTS if not hollow else MAX_POINTS // 3)
            x, y = x[rows], np.asarray(y)[rows]
            if self.mode == "plane2d":
                coords = x.reshape(len(x), -1)[:, :2]
            elif self.mode == "wide" and self.plane is not None:
                coords = self.plane.project(x)
            else:  # curve: x against the target (regression) or the class as 0 / 1
                target = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
                if ds.task != "regression":
                    target = labels_of(y).reshape(-1, 1).astype(np.float32)
                    if (ds.num_classes or 2) > 2:
                        target = target / max(1, (ds.num_classes or 2) - 1)
                coords = np.column_stack([x.reshape(len(x), -1)[:, 0], target[:, 0]])
            self._shown_points["validation" if hollow else "training"] = (
                np.asarray(coords, dtype=np.float64), rows)
            # drawn once, by _apply_point_style below (the training and validation sets
            # each redrew every point: three redraws where one does)
            self.points.set_points(coords, self._point_colors(y), hollow, draw=False)
            if not hollow and self.mode in ("plane2d", "wide") and len(coords):
                self._data_extent = self._extent_of(ds, coords)
        self._apply_point_style()
        self._lock_aspect()
        item.enableAutoRange()

    def _extent_of(self, ds: Dataset, shown: np.ndarray) -> Extent | None:
        """The rectangle the engine's grid covers by default (the training data's range with
        a margin, as `grid_points` makes it): all rows for two features, the points shown
        for a plane (projecting 60,000 wide rows would cost more than the view is worth)."""
        coords = ds.x_train.reshape(len(ds.x_train), -1)[:, :2] if self.mode == "plane2d" \
            else shown
        try:
            return data_extent(coords)
        except ValueError:
            return None

    @staticmethod
    def _value_range(ds: Dataset) -> tuple[float, float]:
        """The targets' range, training and validation together: the points and the surface
        share one colour scale."""
        parts = [np.asarray(y, dtype=np.float32).reshape(len(y), -1)[:, 0]
                 for y in (ds.y_train, ds.y_val) if y is not None and len(y)]
        values = np.concatenate(parts) if parts else np.zeros(1, np.float32)
        values = values[np.isfinite(values)]
        if not values.size:
            return 0.0, 1.0
        low, high = float(values.min()), float(values.max())
        return low, high if high > low else low + 1.0

    # -- the points' size -------------------------------------------------------------------

    def set_point_style(self, name: str) -> None:
        """Hidden, small, normal or large points (a key of POINT_STYLES); the choice stays
        for the life of the view, whatever data it draws next."""
        if name not in POINT_STYLES:
            raise ValueError(f"name: expected one of {', '.join(POINT_STYLES)}, got {name!r}")
        self.point_style = name
        self.point_actions[name].setChecked(True)
        self.points_button.setText(f"Points: {name.capitalize()}")
        self._apply_point_style()

    @property
    def points_visible(self) -> bool:
        return POINT_STYLES[self.point_style] is not None

    def _apply_point_style(self) -> None:
        sizes = POINT_STYLES[self.point_style]
        visible = sizes is not None
        points = self.points
        if sizes is not None:
            # on this object only: both point layers read their sizes from the instance
            points.FILLED, points.HOLLOW = (size * self.scale for size in sizes)
        if isinstance(points, Points):
            points.restyle(visible)
        else:  # qt_painting.PointsLayer: one pixmap of every point
            points.item.setVisible(visible)
            if visible:
                points.redraw()

    def _lock_aspect(self) -> None:
        """Equal scales on both axes when the two spans are alike (a circle looks round),
        free otherwise (two features in different units)."""
        ds = self.dataset
        vb = self.plot.getPlotItem().getViewBox()
        lock = False
        if ds is not None and self.mode in ("plane2d", "wide"):
            x = ds.x_train[: MAX_POINTS]
            coords = x.reshape(len(x), -1)[:, :2] if self.mode == "plane2d" else \
                self.plane.project(x) if self.plane is not None else None
            if coords is not None and len(coords):
                spans = np.ptp(coords, axis=0)
                lock = bool(spans.min() > 0 and spans.max() / spans.min() < 3.0)
        vb.setAspectLocked(lock, ratio=1.0)

    def _point_colors(self, y: np.ndarray) -> list[QColor]:
        ds = self.dataset
        if ds is not None and ds.task == "regression":
            values = np.asarray(y, dtype=np.float32).reshape(len(y), -1)[:, 0]
            low, high = self._regression_levels
            scaled = (values - low) / max(high - low, 1e-12)
            return list(self._cmap.mapToQColor(np.clip(np.nan_to_num(scaled), 0, 1)))
        table: dict[int, QColor] = {}
        return [table.setdefault(int(c), QColor(class_color(int(c)))) for c in labels_of(y)]

    @property
    def color_bar(self) -> pg.ColorBarItem:
        """The regression surface's value scale (made on first use)."""
        if self._color_bar is None:
            bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=self._cmap, width=14,
                                  label="predicted value", interactive=False, pen=INK,
                                  colorMapMenu=False)
            bar.setObjectName("regressionScale")
            bar.setVisible(False)
            self._color_bar = bar
            if self.scale != 1.0:
                self._scale_axes()
        return self._color_bar

    def _scale_axes(self) -> None:
        """The axes' text at the view's scale (the value scale's too, once made)."""
        font = QFont()
        font.setPointSizeF(8.0 * self.scale)
        item = self.plot.getPlotItem()
        axes = [item.getAxis("left"), item.getAxis("bottom")]
        if self._color_bar is not None:
            axes += [self._color_bar.axis, self._color_bar.getAxis("left")]
        for axis in axes:
            axis.setStyle(tickFont=font)
            axis.label.setFont(font)

    def _update_color_bar(self) -> None:
        """The value scale beside a regression surface (on a plane); none otherwise."""
        ds = self.dataset
        want = ds is not None and ds.task == "regression" and self.mode in ("plane2d", "wide")
        layout = self.plot.getPlotItem().layout
        if want and not self._bar_shown:
            layout.addItem(self.color_bar, 2, 5)
            layout.setColumnFixedWidth(4, 5)
            self.color_bar.setVisible(True)
            self._bar_shown = True
        elif not want and self._bar_shown:
            layout.removeItem(self.color_bar)
            self.color_bar.setVisible(False)
            layout.setColumnFixedWidth(4, 0)
            self._bar_shown = False
        if want:
            self.color_bar.setLevels(self._regression_levels)

    def _set_header(self, message: str = "") -> None:
        ds = self.dataset
        if message:
            text = message
        elif ds is None:
            text = "No data yet."
        elif self.mode == "none":
            shape = "x".join(str(d) for d in ds.x_train.shape[1:])
            text = (f"No picture for inputs of shape {shape} and this model's output: the view "
                    "draws 1-D and 2-D inputs, and planes through wider ones.")
        else:
            legend = "filled: training, hollow: validation. Click to predict a point."
            if self.mode == "wide" and self.plane is not None:
                text = f"{self.plane.description} {legend}"
            elif self.mode == "curve":
                what = "the data and the predicted curve" if ds.task == "regression" else \
                    "P(class) along the input"
                text = f"{what.capitalize()}; {legend}"
            elif ds.task == "regression":
                text = f"The predicted value over the two inputs (scale at the right); {legend}"
            elif (ds.num_classes or 2) > 2:
                text = f"Class regions (pale where the model is unsure); {legend}"
            else:
                name = self.class_names[1] if len(self.class_names) > 1 else "1"
                text = f"P(class {name!r}) over the two inputs, P = 0.5 as a line; {legend}"
        self.header.setText(text)

    # -- the model's picture ----------------------------------------------------------------

    def show_grid(self, grid: BoundaryGrid | None, picture: Picture | None = None) -> None:
        """Draws one snapshot (None: the data alone); `picture`, when given, is the
        snapshot already made ready to draw (on the training thread)."""
        first = self.grid is None
        self.grid = grid
        if grid is None:
            self._range_timer.stop()  # no picture to make again over another range
            self.image.clear()
            self._set_iso(None)
            self._clear_curves()
            return
        if grid.kind == "curve":
            self._show_curve(grid)  # the curve may leave the view: auto-range stays on
        else:
            # a coarse grid (a big model on a plane) is drawn smoothed, not as blocks
            self.image.set_smooth(len(grid.xs) < 50)
            self._show_image(grid, picture)
            # The grid spans the same square for the whole run: fit the view to it once
            # and stop there, or pyqtgraph recomputes every item's bounds on each picture.
            vb = self.plot.getPlotItem().getViewBox()
            if any(vb.state["autoRange"]):
                self._fit_view()
                vb.disableAutoRange()
            elif first:
                self._on_range_changed()  # a view zoomed out before this picture came
        self.images_shown += 1

    def _fit_view(self) -> None:
        """Fits the view to the data's extent, the rectangle a default grid covers (not to
        the picture, which may be larger after a zoomed-out view asked for more: fitting
        to it would grow the view, then the next grid, without end)."""
        vb = self.plot.getPlotItem().getViewBox()
        if self._data_extent is None:
            vb.autoRange()
            return
        (x0, x1), (y0, y1) = self._data_extent
        vb.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

    def set_scale(self, factor: float) -> None:
        """Points, the P = 0.5 line and the axes' text at `factor` times their normal size
        (View > Larger Text, `text_scale`: a classroom reads the view from the back), as
        `plots.MetricPlots.set_scale` does for the curves."""
        self.scale = max(0.5, float(factor))
        pen = pg.mkPen(INK, width=1.5 * self.scale)
        pen.setCosmetic(True)
        self.iso.item.setPen(pen)
        self._scale_axes()
        self.plot.getPlotItem().getAxis("bottom").setHeight(int(36 * self.scale))
        self.click_marker.setSize(14 * self.scale)
        self._apply_point_style()

    # -- the picture's range ----------------------------------------------------------------

    @property
    def requested_extent(self) -> Extent | None:
        """The rectangle the view last asked the picture to cover (None: the data's)."""
        return self._requested

    def visible_extent(self) -> Extent:
        """The range the view shows, ((x0, x1), (y0, y1)) in view coordinates."""
        (x0, x1), (y0, y1) = self.plot.getPlotItem().getViewBox().viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def _on_range_changed(self, *_args: object) -> None:
        if self.mode in ("plane2d", "wide") and self._data_extent is not None:
            self._range_timer.start()  # restarted by each move: one request per gesture

    @Slot()
    def request_range(self) -> None:
        """Asks for a grid over the visible range when the current one leaves part of the
        view empty, or is much larger than the view needs (zoomed back in: a large grid is
        coarse over the data). Called RANGE_DEBOUNCE_MS after the view last moved, or
        after a first picture. Only while a picture is shown: a view whose picture was
        cleared (another project) has nothing to make again, and a request then would
        bring back a picture of the weights it cleared."""
        self._range_timer.stop()
        data = self._data_extent
        vb = self.plot.getPlotItem().getViewBox()
        if self.mode not in ("plane2d", "wide") or data is None or self.grid is None \
                or any(vb.state["autoRange"]):
            return  # no picture yet, or the view still fits itself to the data
        visible = self.visible_extent()
        wanted = cover_extent(data, visible)
        current = self._requested or data
        needed = cover_extent(data, visible, margin=0.0)  # what must be covered, at least

        def area(e: Extent) -> float:
            return (e[0][1] - e[0][0]) * (e[1][1] - e[1][0])

        if extent_covers(current, needed) and area(current) <= 4.0 * area(wanted):
            return
        if self._requested is not None and np.allclose(wanted, self._requested):
            return
        self._requested = wanted
        self.rangeRequested.emit(wanted)

    def _show_image(self, grid: BoundaryGrid, picture: Picture | None = None) -> None:
        xs, ys = grid.xs, grid.ys
        if grid.kind == "regression":
            low, high = self._regression_levels
            values = np.nan_to_num(grid.values[..., 0].astype(np.float32))
            index = np.clip((values - low) * (255.0 / (high - low)), 0, 255).astype(np.uint8)
            self.image.set_image(self._regression_lut[index])
            self._set_iso(None)
        else:
            if picture is None or picture.grid is not grid:
                picture = self.pictures(grid)  # scrubbing, or a picture from elsewhere
            assert picture is not None
            # RGB from a colour table looked up by index (a tenth of the cost of mixing
            # colours; Qt draws RGB about twice as fast as an indexed image)
            self.image.set_image(picture.rgb)
            self._set_iso(picture.iso if grid.kind == "binary" else None)
        dx = (xs[-1] - xs[0]) / max(1, len(xs) - 1)
        dy = (ys[-1] - ys[0]) / max(1, len(ys) - 1)
        self.image.set_rect(QRectF(float(xs[0] - dx / 2), float(ys[0] - dy / 2),
                                   float(xs[-1] - xs[0] + dx), float(ys[-1] - ys[0] + dy)))

    def _set_iso(self, segments: tuple[np.ndarray, np.ndarray] | None) -> None:
        """The P = 0.5 line: pairs of points, each pair one segment (None: no line)."""
        if segments is None or not len(segments[0]):
            self.iso.set_segments(np.empty(0), np.empty(0))
            return
        self.iso.set_segments(*segments)

    def _clear_curves(self) -> None:
        for curve in self._curves:
            self.plot.removeItem(curve)
        self._curves.clear()

    def _show_curve(self, grid: BoundaryGrid) -> None:
        values = np.asarray(grid.values, dtype=np.float32).reshape(len(grid.xs), -1)
        ds = self.dataset
        if ds is not None and ds.task != "regression" and values.shape[1] == 1:
            columns = [(values[:, 0], 1)]  # P(class 1)
        else:
            columns = [(values[:, i], i) for i in range(values.shape[1])]
        while len(self._curves) < len(columns):
            curve = self.plot.plot()
            curve.setZValue(5)
            self._curves.append(curve)
        while len(self._curves) > len(columns):
            self.plot.removeItem(self._curves.pop())
        regression = ds is not None and ds.task == "regression"
        for curve, (column, cls) in zip(self._curves, columns):
            color = SERIES if regression else class_color(cls)
            curve.setPen(pg.mkPen(color, width=2.5))
            curve.setData(grid.xs, np.nan_to_num(column))

    # -- scrubbing --------------------------------------------------------------------------

    def set_snapshot_count(self, count: int, force: bool = False) -> None:
        """Grows the slider with the store; a slider at its right end stays there (live).

        While live, the slider looks the same whatever its range (the handle is at the
        right end), and a new range repaints it and the widgets under it: the range
        follows at most RANGE_EVERY seconds behind, and at once on `force` or a press.
        """
        self._count = count
        now = time.monotonic()
        if (not force and self._live and self.slider.isEnabled()
                and now - self._range_set < RANGE_EVERY):
            return
        self._range_set = now
        self._updating = True
        try:
            live = self._live
            self.slider.setRange(0, max(0, count - 1))
            self.slider.setEnabled(count > 1)
            if live:
                self.slider.setValue(max(0, count - 1))
        finally:
            self._updating = False

    def _on_slider_pressed(self) -> None:
        if self.slider.maximum() != self._count - 1:
            self.set_snapshot_count(self._count, force=True)

    def set_slider_text(self, text: str) -> None:
        self.slider_label.setText(text)

    @property
    def live(self) -> bool:
        return self._live

    def go_live(self) -> None:
        self._live = True
        self.set_snapshot_count(max(self._count, self.slider.maximum() + 1), force=True)

    @Slot(int)
    def _on_slider(self, value: int) -> None:
        if self._updating:
            return
        self._live = value >= self.slider.maximum()
        self.scrubbed.emit(-1 if self._live else value)

    # -- planes -----------------------------------------------------------------------------

    @Slot()
    def _on_plane_choice(self) -> None:
        if self._updating:
            return
        mode = self.plane_mode.currentData()
        features = mode == "features"
        self.feature_x.setEnabled(features)
        self.feature_y.setEnabled(features)
        i, j = self.feature_x.currentIndex(), self.feature_y.currentIndex()
        if features and i == j:
            return  # one feature against itself is a line, not a plane; wait for the other
        self.planeRequested.emit(str(mode), max(0, i), max(0, j))

    # -- clicking ---------------------------------------------------------------------------

    def _on_click(self, event) -> None:  # noqa: ANN001 - pyqtgraph's MouseClickEvent
        if event.button() != Qt.MouseButton.LeftButton or self.mode == "none":
            return
        vb = self.plot.getPlotItem().getViewBox()
        pos = event.scenePos()
        if not vb.sceneBoundingRect().contains(pos):
            return
        point = vb.mapSceneToView(pos)
        self.click_at(point.x(), point.y())

    def sample_at(self, x: float, y: float, pixels: float = PICK_PIXELS) -> tuple[str, int] | None:
        """The shown data point under view coordinates (x, y), within `pixels` on screen:
        ("training" or "validation", its row in that split), or None."""
        if not self.points_visible or not self._shown_points:
            return None
        width, height = self.plot.getPlotItem().getViewBox().viewPixelSize()
        if not (width > 0 and height > 0):
            return None
        best: tuple[float, str, int] | None = None
        for split, (coords, rows) in self._shown_points.items():
            if not len(coords):
                continue
            d = np.hypot((coords[:, 0] - x) / width, (coords[:, 1] - y) / height)
            i = int(np.argmin(d))
            if d[i] <= pixels and (best is None or d[i] < best[0]):
                best = (float(d[i]), split, int(rows[i]))
        return None if best is None else (best[1], best[2])

    def click_at(self, x: float, y: float) -> None:
        """Asks for the prediction at view coordinates (x, y) (also for tests). A click on a
        shown data point asks about that sample itself (its whole input, not the plane's
        point under it): `clicked_sample` says which, for the X-ray's title."""
        self.clicked_sample = self.sample_at(x, y)
        ds = self.dataset
        if self.clicked_sample is not None and ds is not None and self.mode != "curve":
            split, index = self.clicked_sample
            xs = ds.x_train if split == "training" else ds.x_val
            row = np.asarray(xs[index:index + 1], dtype=np.float32)
            self._show_click(x, y)
            self.clicked.emit(row, (x, y))
            return
        self.clicked_sample = None
        if self.mode == "plane2d":
            row = np.array([[x, y]], dtype=np.float32)
        elif self.mode == "curve":
            row = np.array([[x]], dtype=np.float32)
        elif self.mode == "wide" and self.plane is not None:
            row = self.plane.points(np.array([[x, y]], dtype=np.float32))
        else:
            return
        self._show_click(x, y)
        self.clicked.emit(row, (x, y))

    def _show_click(self, x: float, y: float) -> None:
        self.click_marker.setData([x], [y])
        self.click_marker.setVisible(True)
        self.click_text.setText("predicting...")
        self.click_text.setPos(QPointF(x, y))
        self._place_click_text()
        self.click_text.setVisible(True)

    def show_click_result(self, text: str) -> None:
        self.click_text.setText(text)
        self.click_text.setVisible(True)
        self._place_click_text()

    def _place_click_text(self) -> None:
        """Opens the label on the side of the point where it fits inside the view."""
        vb = self.plot.getPlotItem().getViewBox()
        pos = self.click_text.pos()
        at = vb.mapViewToScene(pos)
        area = vb.sceneBoundingRect()
        width = self.click_text.boundingRect().width()
        if at.x() + width <= area.right():
            ax = 0.0
        elif at.x() - width >= area.left():
            ax = 1.0
        else:
            ax = 0.5
        ay = 1.0 if at.y() - 40 >= area.top() else 0.0
        self.click_text.setAnchor((ax, ay))

    def hide_click(self) -> None:
        self.click_marker.setData([], [])
        self.click_marker.setVisible(False)  # an empty item still costs each repaint
        self.click_text.setVisible(False)
