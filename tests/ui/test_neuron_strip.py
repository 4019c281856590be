"""The neuron strip: one small picture per hidden unit, grouped by layer."""

from __future__ import annotations

import numpy as np

from gui_app.core.boundary.units import UnitPictures
from gui_app.ui import colors
from gui_app.ui.neuron_strip import NeuronStrip, unit_rgb


def _pictures(*units: int, r: int = 8) -> UnitPictures:
    xs = np.linspace(-1, 1, r, dtype=np.float32)
    gx, gy = np.meshgrid(xs, xs)
    values = []
    for layer, n in enumerate(units):
        values.append(np.stack([(gx * (u + 1) - gy * layer) for u in range(n)]).astype(
            np.float32))
    names = tuple(f"dense_{i} (relu)" for i in range(len(units)))
    return UnitPictures(xs, xs.copy(), tuple(range(len(units))), names, tuple(values))


def test_the_strip_draws_a_picture_per_unit_grouped_by_layer(qtbot) -> None:
    strip = NeuronStrip(tile=30, columns=4)
    qtbot.addWidget(strip)
    strip.resize(400, 300)
    strip.show()
    strip.set_pictures(_pictures(6, 3))
    assert strip.count == 9 and len(strip.tiles) == 9
    assert [label.text() for label in strip.layer_labels] == ["dense_0 (relu)",
                                                              "dense_1 (relu)"]
    assert all(not tile.pixmap().isNull() for tile in strip.tiles)
    assert strip.tiles[0].pixmap().width() == 30
    assert "Layer dense_0 (relu), unit 1" in strip.tiles[0].toolTip()
    assert "Layer dense_1 (relu), unit 3" in strip.tiles[8].toolTip()
    assert "from -" in strip.tiles[0].toolTip()
    # six units, four to a row at most: two even rows; the next layer starts a new row
    grid = strip.grid
    rows = [grid.getItemPosition(grid.indexOf(tile))[0] for tile in strip.tiles]
    assert rows == [1, 1, 1, 2, 2, 2, 4, 4, 4]
    # a new picture of the same layers reuses the tiles (as during a run)
    first = strip.tiles[0]
    strip.set_pictures(_pictures(6, 3))
    assert strip.tiles[0] is first
    strip.set_pictures(_pictures(2))
    assert strip.count == 2


def test_clearing_and_models_without_pictures_say_why(qtbot) -> None:
    strip = NeuronStrip()
    qtbot.addWidget(strip)
    strip.set_pictures(_pictures(4))
    strip.clear("Stopped")
    assert strip.count == 0 and strip.header.text() == "Stopped"
    empty = UnitPictures(np.empty(0, np.float32), np.empty(0, np.float32),
                         note="Neuron pictures are drawn for models of exactly two inputs.")
    strip.set_pictures(empty)
    assert strip.count == 0 and "exactly two inputs" in strip.header.text()


def test_a_units_picture_is_upright_and_zero_is_white() -> None:
    lut = colors.diverging_lut()
    values = np.array([[-2.0, 0.0], [0.0, 1.0]], np.float32)  # row 0 is the lowest y
    rgb, low, high = unit_rgb(values, lut)
    assert (low, high) == (-2.0, 1.0)
    assert tuple(rgb[1, 0]) == tuple(lut[0])  # the lowest y is the bottom row
    assert tuple(rgb[0, 1]) == tuple(lut[191])  # 1.0 of 2.0: half way to the full blue
    assert np.all(rgb[0, 0] >= 250) and np.all(rgb[1, 1] >= 250)  # zero is white
    flat, _, _ = unit_rgb(np.zeros((3, 3), np.float32), lut)
    assert np.all(flat >= 250)
    nan, _, _ = unit_rgb(np.full((2, 2), np.nan, np.float32), lut)
    assert nan.shape == (2, 2, 3)


def test_a_dead_unit_says_so(qtbot) -> None:
    strip = NeuronStrip()
    qtbot.addWidget(strip)
    pictures = _pictures(2)
    dead = UnitPictures(pictures.xs, pictures.ys, (0,), ("dense (relu)",),
                        (np.stack([pictures.values[0][0], np.zeros((8, 8), np.float32)]),))
    strip.set_pictures(dead)
    assert "dead" in strip.tiles[1].toolTip() and "dead" not in strip.tiles[0].toolTip()


def test_a_narrow_strip_wraps_instead_of_scrolling_sideways(qtbot) -> None:
    strip = NeuronStrip(tile=40)
    qtbot.addWidget(strip)
    strip.resize(900, 300)
    strip.show()
    strip.set_pictures(_pictures(9))

    def rows() -> list[int]:
        return [strip.grid.getItemPosition(strip.grid.indexOf(t))[0] for t in strip.tiles]

    assert set(rows()) == {1}  # nine tiles in one row
    strip.resize(200, 300)  # room for four: three rows of three
    qtbot.waitUntil(lambda: len(set(rows())) == 3, timeout=2000)
    assert rows() == [1, 1, 1, 2, 2, 2, 3, 3, 3]
    assert not strip.scroll.horizontalScrollBar().isVisible()


def test_larger_text_grows_the_tiles(qtbot) -> None:
    strip = NeuronStrip(tile=30)
    qtbot.addWidget(strip)
    strip.set_pictures(_pictures(3))
    strip.set_scale(1.5)
    assert strip.count == 3 and strip.tiles[0].pixmap().width() == 45
    assert "unit 1" in strip.tiles[0].toolTip()


def test_old_tiles_go_at_once(qtbot) -> None:
    strip = NeuronStrip(tile=20)
    qtbot.addWidget(strip)
    strip.show()
    strip.set_pictures(_pictures(4))
    old = list(strip.tiles)
    strip.set_pictures(_pictures(2, 2))  # another model: new tiles
    assert not any(tile.isVisible() for tile in old)
    qtbot.waitUntil(lambda: all(tile.isVisible() for tile in strip.tiles), timeout=2000)
