"""The live view: the plots draw the run's curves and the boundary draws its pictures.

Both paintings are checked (gui_app/ui/qt_painting.py): the stock pyqtgraph items, and
the Qt-only items that paint without calling Python (with QT_PAINTING on, the default),
which must draw what pyqtgraph's draw.
"""

from __future__ import annotations

import sys

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsWidget

from gui_app.core.boundary import BoundaryGrid
from gui_app.core.data import load_dataset
from gui_app.core.history_views import RunRecord, Series
from gui_app.ui.boundary_view import RANGE_EVERY, BoundaryView, Image, Points
from gui_app.ui.plots import TRAIN_COLOR, VAL_COLOR, Curve, MetricPlots, _pen
from gui_app.ui.qt_painting import (
    LineCurve,
    PointsLayer,
    QtPaintedPlot,
    RgbImage,
    plot_bounds_in_qt,
)


def python_entries(action) -> list[str]:  # noqa: ANN001
    """The Python functions Qt calls (from C++) while `action` runs."""
    entries: list[str] = []
    depth = [0]

    def profile(frame, event, _arg):  # noqa: ANN001, ANN202
        if event == "call":
            if depth[0] == 0:
                entries.append(frame.f_code.co_name)
            depth[0] += 1
        elif event == "return":
            depth[0] -= 1

    def run() -> None:
        sys.setprofile(profile)
        try:
            action()
        finally:
            sys.setprofile(None)

    run()
    return entries


@pytest.fixture
def qt_on(monkeypatch) -> None:  # noqa: ANN001
    """The Qt-only painting, whatever LAYERLAB_QT_PAINTING says."""
    monkeypatch.setattr("gui_app.ui.qt_painting.QT_PAINTING", True)


def settle(qtbot) -> None:  # noqa: ANN001
    qtbot.wait(30)


def color_at(widget, x: float, y: float) -> QColor:  # noqa: ANN001
    """The colour of the widget's pixel at (x, y), as fractions of its width and height."""
    image = widget.grab().toImage()
    return image.pixelColor(int(x * (image.width() - 1)), int(y * (image.height() - 1)))


def differing(a, b) -> float:  # noqa: ANN001
    """The share of pixels that differ between two images of one size."""
    x = np.frombuffer(a.constBits(), np.uint8, a.sizeInBytes())
    y = np.frombuffer(b.constBits(), np.uint8, b.sizeInBytes())
    return float(np.mean((x != y).reshape(-1, 4).any(axis=1)))


def close(a: QColor, b: QColor, tolerance: int = 40) -> bool:
    return all(abs(p - q) <= tolerance for p, q in zip(a.getRgb()[:3], b.getRgb()[:3]))


def has_color(widget, color: QColor, tolerance: int = 40) -> bool:  # noqa: ANN001
    """Whether any pixel of the widget is close to `color`."""
    image = widget.grab().toImage()
    image = image.convertToFormat(image.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes()).reshape(-1, 4)
    target = np.array([color.blue(), color.green(), color.red()])
    return bool((np.abs(pixels[:, :3].astype(int) - target) <= tolerance).all(axis=1).any())


def record_with_epochs(epochs: int) -> RunRecord:
    record = RunRecord(1, "test")
    for e in range(epochs):
        for step in (4, 8, 12):
            record.add_progress(e, step, 13, {"loss": 0.7 / (1 + e + step / 13),
                                               "accuracy": 1 - 0.5 / (1 + e)})
        record.add_epoch(e, {"loss": 0.7 / (1 + e), "accuracy": 1 - 0.5 / (1 + e),
                             "val_loss": 0.75 / (1 + e), "val_accuracy": 1 - 0.55 / (1 + e)})
    return record


def test_a_qt_painted_plot_looks_like_pyqtgraphs_after_range_changes(qtbot) -> None:
    """The view box gets ready to paint when the scene changes: a new range shows at once."""
    images = []
    for cls in (pg.PlotWidget, QtPaintedPlot):
        view = cls()
        qtbot.addWidget(view)
        view.resize(300, 200)
        view.show()
        qtbot.waitExposed(view)
        view.plot(np.arange(10.0), np.arange(10.0) ** 2)
        settle(qtbot)
        view.setXRange(2, 5, padding=0)
        settle(qtbot)
        shown = [view.grab().toImage()]
        view.getViewBox().enableAutoRange()
        view.plot(np.arange(20.0), -np.arange(20.0))
        settle(qtbot)
        shown.append(view.grab().toImage())
        images.append(shown)
    # the same picture, but for the last column (pyqtgraph's view box reaches half a
    # pixel further than Qt's rectangle)
    assert differing(images[0][0], images[1][0]) < 0.005
    assert differing(images[0][1], images[1][1]) < 0.005
    assert differing(images[0][0], images[0][1]) > 0.02


def test_repainting_the_live_plots_calls_no_python(qt_on, qtbot) -> None:  # noqa: ANN001
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.resize(460, 330)
    plots.show()
    qtbot.waitExposed(plots)
    plots.set_run_end(60)
    earlier = record_with_epochs(30)
    plots.set_record(earlier)
    record = record_with_epochs(20)
    plots.set_record(record)  # the earlier run becomes an overlay
    assert plots.plots["loss"].overlays
    plots.refresh()
    settle(qtbot)
    record.add_progress(20, 4, 13, {"loss": 0.03, "accuracy": 0.97})  # inside the view
    plots.refresh()
    viewport = plots.view.viewport()
    entries = python_entries(viewport.repaint)
    assert plots.redraws >= 2
    assert not [e for e in entries if e in ("boundingRect", "shape", "paint", "paintEvent")], \
        entries


def test_the_axes_keep_pyqtgraphs_reach_so_end_labels_show(qtbot) -> None:
    item = pg.PlotItem()
    view = pg.GraphicsView()
    qtbot.addWidget(view)
    view.setCentralItem(item)
    view.resize(300, 200)
    view.show()
    plot_bounds_in_qt(item)
    settle(qtbot)
    for side in ("left", "bottom"):
        axis = item.getAxis(side)
        assert axis.boundingRect() == pg.AxisItem.boundingRect(axis), side
        assert axis.boundingRect() != axis.rect(), side  # it does reach past its rectangle
    assert item.getViewBox().boundingRect() == QGraphicsWidget.boundingRect(item.getViewBox())


def test_the_grid_lies_on_the_axis_ticks_and_follows_the_view(qt_on, qtbot) -> None:  # noqa: ANN001
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.resize(460, 330)
    plots.show()
    plots.set_run_end(40)
    plots.set_record(record_with_epochs(5))
    plots.refresh()
    settle(qtbot)
    plot = plots.plots["loss"]

    def vertical_lines() -> list[float]:
        path = plot.grid.item.path()
        points = [path.elementAt(i) for i in range(path.elementCount())]
        return sorted(round(a.x, 6) for a, b in zip(points[::2], points[1::2]) if a.x == b.x)

    (x0, x1), _ = plot.vb.viewRange()
    ticks = plot.plot.getAxis("bottom").tickValues(x0, x1, plot.vb.width())[0][1]
    assert vertical_lines() == sorted(round(t, 6) for t in ticks) and len(ticks) >= 3
    plot.vb.setXRange(0, 400, padding=0)
    settle(qtbot)
    assert max(vertical_lines()) > 100


def test_the_live_plots_draw_the_runs_curves(qtbot) -> None:
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.resize(460, 330)
    plots.show()
    qtbot.waitExposed(plots)
    plots.set_run_end(60)
    plots.set_record(record_with_epochs(30))
    record = record_with_epochs(20)
    plots.set_record(record)  # the earlier run becomes an overlay
    assert plots.plots["loss"].overlays
    plots.refresh()
    settle(qtbot)
    assert plots.curve_lengths("loss") == {"batches": 60, "smooth": 60, "train": 20,
                                           "val": 20}
    assert has_color(plots.view, QColor(TRAIN_COLOR)) and has_color(plots.view, QColor(VAL_COLOR))
    record.add_progress(20, 4, 13, {"loss": 0.03, "accuracy": 0.97})
    plots.refresh()
    assert plots.curve_lengths("loss")["batches"] == 61 and plots.redraws >= 2


@pytest.mark.parametrize("qt", [True, False], ids=["qt", "stock"])
def test_a_million_batch_points_redraw_downsampled(qtbot, monkeypatch, qt) -> None:  # noqa: ANN001
    monkeypatch.setattr("gui_app.ui.qt_painting.QT_PAINTING", qt)
    plots = MetricPlots()
    qtbot.addWidget(plots)
    plots.resize(600, 400)
    plots.show()
    record = RunRecord(1, "synthetic")
    n = 1_000_000
    x = np.arange(n) / 1000.0
    y = 1.0 / (1.0 + x)
    record.batches["loss"], record.smooth["loss"] = Series(), Series()
    record.batches["loss"].extend(x, y)
    record.smooth["loss"].extend(x, y)
    plots.set_run_end(1001)
    plots.set_record(record)
    settle(qtbot)
    record.batches["loss"].append(1000.5, 0.1)
    plots.refresh()
    plots.view.viewport().repaint()
    curve = plots.plots["loss"].batch_raw
    assert curve.count == n + 1 if not qt else 0 < curve.count < 2_000  # qt: decimated
    # what is drawn: a few points per pixel column, not a million
    shown = curve.item.path().elementCount() if qt else len(curve.item.curve.getData()[0])
    assert 0 < shown < 20_000


@pytest.mark.parametrize("painting", ["stock", "qt"])
def test_epoch_points_are_dots_on_the_line(qtbot, painting) -> None:
    view = pg.PlotWidget() if painting == "stock" else QtPaintedPlot()
    qtbot.addWidget(view)
    view.setBackground("w")
    view.resize(300, 200)
    view.show()
    kind = Curve if painting == "stock" else LineCurve
    curve = kind(view.getPlotItem(), _pen("#1f77b4", 1.0), 1, symbol_color="#ff0000")
    curve.set_data(np.array([0.0, 5.0, 10.0]), np.array([1.0, 1.0, 1.0]), symbols=True)
    view.setXRange(0, 10, padding=0)
    view.setYRange(0, 2, padding=0)
    settle(qtbot)
    vb = view.getViewBox()
    middle = view.mapFromScene(vb.mapViewToScene(QPointF(5.0, 1.0)))
    image = view.grab().toImage()
    assert close(image.pixelColor(middle.x(), middle.y() - 2), QColor("#ff0000"))
    curve.set_data(np.array([0.0, 5.0, 10.0]), np.array([1.0, 1.0, 1.0]), symbols=False)
    settle(qtbot)
    image = view.grab().toImage()
    assert not close(image.pixelColor(middle.x(), middle.y() - 2), QColor("#ff0000"))


@pytest.mark.parametrize("painting", ["stock", "qt"])
def test_the_picture_is_drawn_the_right_way_up(qtbot, painting) -> None:
    """Row 0 of a picture is the lowest y, column 0 the lowest x (as pyqtgraph's
    row-major ImageItem drew it), with either painting."""
    view = pg.PlotWidget() if painting == "stock" else QtPaintedPlot()
    qtbot.addWidget(view)
    view.resize(300, 300)
    view.show()
    image = Image() if painting == "stock" else RgbImage()
    view.addItem(image)
    rgb = np.array([[[255, 0, 0], [0, 255, 0]],
                    [[0, 0, 255], [255, 255, 255]]], dtype=np.uint8)
    image.set_image(rgb)
    image.set_rect(QRectF(0, 0, 2, 2))
    view.setRange(xRange=(0, 2), yRange=(0, 2), padding=0)
    view.hideAxis("left")
    view.hideAxis("bottom")
    settle(qtbot)
    assert close(color_at(view, 0.25, 0.75), QColor(255, 0, 0))  # bottom left
    assert close(color_at(view, 0.75, 0.75), QColor(0, 255, 0))  # bottom right
    assert close(color_at(view, 0.25, 0.25), QColor(0, 0, 255))  # top left
    if painting == "qt":
        entries = python_entries(view.viewport().repaint)
        assert "paint" not in entries and "boundingRect" not in entries
    image.clear()
    assert image.image is None
    if painting == "qt":
        assert image.pixmap().isNull()


@pytest.mark.parametrize("painting", ["stock", "qt"])
def test_points_are_drawn_where_their_data_is_and_follow_the_view(qtbot, painting) -> None:
    """Both point layers: stock pyqtgraph scatter items, and Qt's pixmap of points."""
    view = pg.PlotWidget() if painting == "stock" else QtPaintedPlot()
    qtbot.addWidget(view)
    view.setBackground("w")
    view.resize(300, 300)
    view.show()
    view.hideAxis("left")
    view.hideAxis("bottom")
    layer = (Points if painting == "stock" else PointsLayer)(view.getPlotItem(), z=0)
    layer.set_points(np.array([[1.0, 1.0]]), [QColor(255, 0, 0)], hollow=False)
    layer.set_points(np.array([[3.0, 3.0]]), [QColor(0, 0, 255)], hollow=True)
    view.setRange(xRange=(0, 4), yRange=(0, 4), padding=0)
    settle(qtbot)
    assert layer.count == 2
    assert close(color_at(view, 0.25, 0.75), QColor(255, 0, 0))
    assert close(color_at(view, 0.25, 0.25), QColor(255, 255, 255))  # no point there
    view.setRange(xRange=(0, 2), yRange=(0, 2), padding=0)
    settle(qtbot)
    assert close(color_at(view, 0.5, 0.5), QColor(255, 0, 0))  # (1, 1) is now the centre
    # the points give the view its auto-range: both in view
    view.getViewBox().autoRange(padding=0.1)
    (x0, x1), (y0, y1) = view.getViewBox().viewRange()
    assert x0 < 1 and x1 > 3 and y0 < 1 and y1 > 3
    if painting == "qt":
        entries = python_entries(view.viewport().repaint)
        assert "paint" not in entries and "boundingRect" not in entries
    layer.clear()
    assert layer.count == 0
    assert not layer.items if painting == "stock" else layer.item.pixmap().isNull()


@pytest.fixture
def boundary(qtbot) -> BoundaryView:  # noqa: ANN001
    view = BoundaryView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    ds = load_dataset({"source": "circle", "samples": 200, "noise": 0.1, "seed": 0,
                       "validation_split": 0.2})
    view.set_dataset(ds)
    return view


def test_a_new_picture_changes_the_boundary(qtbot, boundary) -> None:
    xs = ys = np.linspace(-1.5, 1.5, 30)
    values = np.zeros((30, 30, 1), dtype=np.float32)
    values[:, 15:] = 1.0  # class 1 on the right
    boundary.show_grid(BoundaryGrid(xs, ys, values, "binary", (0, 1)))
    settle(qtbot)
    before = boundary.plot.grab().toImage()
    boundary.show_grid(BoundaryGrid(xs, ys, values[:, ::-1].copy(), "binary", (0, 1)))
    settle(qtbot)
    after = boundary.plot.grab().toImage()
    assert boundary.points.count > 100 and boundary.images_shown == 2
    assert boundary.image.image is not None
    a = np.frombuffer(before.constBits(), np.uint8, before.sizeInBytes())
    b = np.frombuffer(after.constBits(), np.uint8, after.sizeInBytes())
    assert np.mean((a != b).reshape(-1, 4).any(axis=1)) > 0.2  # the sides swapped


def test_a_boundary_repaint_with_a_new_picture_calls_no_python(qt_on, qtbot,  # noqa: ANN001
                                                                 boundary) -> None:
    xs = ys = np.linspace(-1.5, 1.5, 30)
    values = np.random.default_rng(0).random((30, 30, 1)).astype(np.float32)
    boundary.show_grid(BoundaryGrid(xs, ys, values, "binary", (0, 1)))
    settle(qtbot)
    boundary.show_grid(BoundaryGrid(xs, ys, values[::-1].copy(), "binary", (0, 1)))
    entries = python_entries(boundary.plot.viewport().repaint)
    assert boundary.points.count > 100
    assert not [e for e in entries if e in ("boundingRect", "shape", "paint")], entries


def test_the_live_slider_range_lags_at_most_a_second(qtbot, boundary, monkeypatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr("gui_app.ui.boundary_view.time.monotonic", lambda: clock[0])
    boundary.set_snapshot_count(5)
    assert boundary.slider.maximum() == 4
    boundary.set_snapshot_count(6)  # live, within RANGE_EVERY: the handle looks the same
    assert boundary.slider.maximum() == 4
    clock[0] += RANGE_EVERY
    boundary.set_snapshot_count(7)
    assert boundary.slider.maximum() == 6 and boundary.slider.value() == 6
    boundary.set_snapshot_count(8)
    boundary.slider.sliderPressed.emit()  # a press catches up at once
    assert boundary.slider.maximum() == 7
    boundary.set_snapshot_count(9, force=True)
    assert boundary.slider.maximum() == 8
