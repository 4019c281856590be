"""The boundary view on a projector: points that can be smaller or hidden, a picture that
fills a zoomed-out view, a colour scale for regression, colour-blind-safe class colours.

Both paintings are checked where they differ (gui_app/ui/qt_painting.py): stock pyqtgraph
items and the Qt-only ones (QT_PAINTING on, the default).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QColor

from gui_app.core.boundary import BoundaryGrid, make_probe
from gui_app.core.data import load_dataset
from gui_app.ui import colors
from gui_app.ui.boundary_view import POINT_STYLES, BoundaryView, Points

CIRCLE = {"source": "circle", "samples": 200, "noise": 0.1, "seed": 0, "validation_split": 0.2}


def settle(qtbot) -> None:  # noqa: ANN001
    qtbot.wait(30)


@pytest.fixture(params=["stock", "qt"])
def view(request, qtbot, monkeypatch) -> BoundaryView:  # noqa: ANN001
    monkeypatch.setattr("gui_app.ui.qt_painting.QT_PAINTING", request.param == "qt")
    made = BoundaryView()
    qtbot.addWidget(made)
    made.resize(600, 400)
    made.show()
    qtbot.waitExposed(made)
    made.set_dataset(load_dataset(CIRCLE))
    return made


def _first_picture(view: BoundaryView, extent=None) -> BoundaryGrid:  # noqa: ANN001
    probe = make_probe(view.dataset.x_train, 1, "binary", resolution=40, extent=extent)
    grid = probe.snapshot(lambda p: 1.0 / (1.0 + np.exp(-(p[:, :1] ** 2 + p[:, 1:] ** 2 - 1))))
    view.show_grid(grid)
    return grid


def _shown(view: BoundaryView) -> bool:
    points = view.points
    if isinstance(points, Points):
        return bool(points.items) and all(item.isVisible() for item in points.items)
    return points.item.isVisible() and not points.item.pixmap().isNull()


def test_points_can_be_hidden_smaller_or_larger_and_the_choice_stays(qtbot, view) -> None:
    _first_picture(view)
    settle(qtbot)
    assert view.point_style == "normal" and _shown(view)
    normal = view.plot.grab().toImage()
    view.set_point_style("small")
    settle(qtbot)
    assert (view.points.FILLED, view.points.HOLLOW) == POINT_STYLES["small"]
    assert view.points.FILLED < 6.0 and _shown(view)
    if isinstance(view.points, Points):
        assert view.points.items[0].opts["size"] < 6.0
    assert view.plot.grab().toImage() != normal
    view.point_actions["hidden"].trigger()  # the Points menu
    settle(qtbot)
    assert view.point_style == "hidden" and not _shown(view) and not view.points_visible
    assert view.points_button.text() == "Points: Hidden"
    assert view.point_actions["hidden"].isChecked()
    assert not view.point_actions["normal"].isChecked()
    # remembered for the life of the view: new data is drawn hidden too
    view.set_dataset(load_dataset({**CIRCLE, "seed": 1}))
    assert view.point_style == "hidden" and not _shown(view)
    assert view.points.count > 100  # still there (they give the view its range)
    view.set_point_style("large")
    settle(qtbot)
    assert _shown(view) and view.points.FILLED > 6.0
    with pytest.raises(ValueError, match="hidden"):
        view.set_point_style("huge")


def test_the_picture_follows_a_zoomed_out_view(qtbot, view) -> None:
    requests: list = []
    view.rangeRequested.connect(requests.append)
    first = _first_picture(view)
    vb = view.plot.getPlotItem().getViewBox()
    view.request_range()  # the fitted view: the aspect lock may show a little more
    requests.clear()
    with qtbot.waitSignal(view.rangeRequested, timeout=5000) as asked:
        vb.scaleBy((4, 4))  # zoom out: most of the view has no picture
    # debounced: one request once the view stops moving
    extent = asked.args[0]
    (vx0, vx1), (vy0, vy1) = view.visible_extent()
    assert vx0 < first.xs[0] and vy1 > first.ys[-1]
    assert requests == [extent] and view.requested_extent == extent
    (x0, x1), (y0, y1) = extent
    assert x0 < vx0 and x1 > vx1 and y0 < vy0 and y1 > vy1  # with a margin
    # the panel makes its probe over the extent; the picture then fills the view
    grid = _first_picture(view, extent)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert rect.left() <= vx0 and rect.right() >= vx1
    assert rect.top() <= vy0 and rect.bottom() >= vy1
    assert grid.xs[0] == pytest.approx(x0) and vb.viewRange()[0][0] == pytest.approx(vx0)
    # the view does not move to the bigger picture, and asks nothing more for it
    view.request_range()
    assert len(requests) == 1
    # zoomed back in: a grid four times too big is coarse over the data; a smaller one
    vb.scaleBy((0.25, 0.25))
    view.request_range()
    assert len(requests) == 2
    (x0, x1), _ = requests[-1]
    assert x1 - x0 < (extent[0][1] - extent[0][0]) / 2


def test_a_new_data_set_forgets_the_asked_range(qtbot, view) -> None:
    _first_picture(view)
    view.plot.getPlotItem().getViewBox().scaleBy((3, 3))
    view.request_range()
    assert view.requested_extent is not None
    view.set_dataset(load_dataset({**CIRCLE, "seed": 2}))
    assert view.requested_extent is None
    view.request_range()  # before its first picture the view fits the data: no request
    assert view.requested_extent is None


def _regression(ds):  # noqa: ANN001, ANN202
    def target(x):  # noqa: ANN001, ANN202
        return (3.0 * x[:, 0] + x[:, 1] + 10.0).astype(np.float32)

    return dataclasses.replace(ds, y_train=target(ds.x_train), y_val=target(ds.x_val),
                               task="regression", num_classes=None, class_names=None)


def test_regression_shows_a_colour_scale_with_its_values(qtbot, view) -> None:
    assert not view.color_bar.isVisible()  # classes need none
    ds = _regression(view.dataset)
    view.set_dataset(ds)
    probe = make_probe(ds.x_train, 1, "regression", resolution=30)
    view.show_grid(probe.snapshot(lambda p: 3.0 * p[:, :1] + p[:, 1:] + 10.0))
    settle(qtbot)
    bar = view.color_bar
    assert bar.isVisible() and bar.scene() is view.plot.scene()
    values = np.concatenate([ds.y_train, ds.y_val])
    assert bar.levels() == pytest.approx((values.min(), values.max()))
    assert bar.mapRectToScene(bar.boundingRect()).left() > \
        view.plot.getPlotItem().getViewBox().sceneBoundingRect().right()  # beside it
    assert "scale at the right" in view.header.text()
    view.set_dataset(load_dataset(CIRCLE))
    assert not bar.isVisible()


def test_classes_use_the_okabe_ito_colours(qtbot, view) -> None:
    okabe = {c.upper() for c in colors.OKABE_ITO}
    assert set(colors.CLASS_COLORS) == okabe and len(okabe) == 8
    assert colors.class_color(0) == colors.ORANGE and colors.class_color(9) == colors.SKY_BLUE
    table = colors.class_rgb(2)
    assert table.tolist() == [[230, 159, 0], [86, 180, 233]]
    lut = view.pictures.table(BoundaryGrid(np.zeros(2), np.zeros(2), np.zeros((2, 2, 1)),
                                           "binary", (0, 1)))
    # a sure class 1 region is a tint of sky blue, a sure class 0 one of orange
    assert np.argmax(lut[-1]) == 2 and np.argmax(lut[0]) == 0
    points = view.points
    sets = points.sets if not isinstance(points, Points) else None
    if sets is not None:
        shown = {c.name().upper() for _, cs, _ in sets for c in cs}
        assert shown <= okabe and QColor(colors.SKY_BLUE).name().upper() in shown


def test_the_diverging_colours_run_through_white() -> None:
    lut = colors.diverging_lut(257)
    assert tuple(lut[0]) == colors.hex_rgb(colors.NEGATIVE)
    assert tuple(lut[128]) == (255, 255, 255)
    assert tuple(lut[-1]) == colors.hex_rgb(colors.POSITIVE)


def test_larger_text_grows_the_points_line_and_ticks(qtbot, view) -> None:
    _first_picture(view)
    view.set_point_style("small")
    view.set_scale(2.0)
    small = POINT_STYLES["small"]
    assert (view.points.FILLED, view.points.HOLLOW) == (2 * small[0], 2 * small[1])
    item = view.iso.item
    pen = item.opts["pen"] if hasattr(item, "opts") else item.pen()  # stock or Qt line
    assert pg.mkPen(pen).widthF() == pytest.approx(3.0)
    axis = view.plot.getPlotItem().getAxis("bottom")
    assert axis.style["tickFont"].pointSizeF() == pytest.approx(16.0)
    view.set_point_style("normal")  # a later choice keeps the scale
    assert view.points.FILLED == pytest.approx(2 * POINT_STYLES["normal"][0])


def test_no_request_without_a_picture_and_one_check_when_it_comes(qtbot, view) -> None:
    requests: list = []
    view.rangeRequested.connect(requests.append)
    _first_picture(view)
    view.request_range()
    requests.clear()
    view.show_grid(None)  # the panel cleared the picture (another project, a reset)
    vb = view.plot.getPlotItem().getViewBox()
    vb.scaleBy((3, 3))
    view.request_range()
    assert requests == []
    with qtbot.waitSignal(view.rangeRequested, timeout=5000):
        _first_picture(view)  # the next picture: the zoomed-out view asks for more
    assert len(requests) == 1


def test_two_features_are_offered_only_for_inputs_of_a_few_thousand_values(qtbot, view) -> None:
    from gui_app.core.boundary import make_plane
    from gui_app.core.image_sample import pixel_names

    rng = np.random.default_rng(0)
    base = load_dataset(CIRCLE)

    def images(shape: tuple[int, int, int]) -> object:
        x = rng.uniform(0, 255, (30, *shape)).astype(np.float32)
        ds = dataclasses.replace(base, x_train=x, y_train=base.y_train[:30], x_val=None,
                                 y_val=None, feature_names=pixel_names(shape))
        return ds, make_plane(x)

    view.set_dataset(*images((16, 16, 1)))
    mode = view.plane_mode.model().item(1)
    assert view.mode == "wide" and mode.isEnabled() and not view.feature_x.isHidden()
    assert view.feature_x.count() == 256
    assert view.feature_y.itemText(17) == "pixel (row 2, column 2)"
    view.set_dataset(*images((64, 64, 3)))  # 12,288 values: principal components only
    assert view.mode == "wide" and not mode.isEnabled() and "12,288" in mode.toolTip()
    assert view.feature_x.isHidden() and view.feature_x.count() == 0
    view.set_dataset(*images((8, 8, 1)))
    assert mode.isEnabled() and view.feature_x.count() == 64


def test_a_data_set_is_drawn_with_one_redraw_of_its_points(qtbot, monkeypatch) -> None:
    """The training and the validation points go into one pixmap, painted once (each set
    used to repaint every point: three redraws)."""
    from gui_app.ui import qt_painting

    monkeypatch.setattr(qt_painting, "QT_PAINTING", True)
    made = BoundaryView()
    qtbot.addWidget(made)
    made.resize(600, 400)
    made.show()
    qtbot.waitExposed(made)
    assert isinstance(made.points, qt_painting.PointsLayer)
    redraws: list[int] = []
    real = made.points.redraw
    monkeypatch.setattr(made.points, "redraw", lambda *a: (redraws.append(1), real(*a)))
    made.set_dataset(load_dataset(CIRCLE))
    assert len(made.points.sets) == 2 and len(redraws) == 1
