"""The Layers tab: a row per weighted layer (gradient norm over the run, activation and
weight histograms) drawn from the engine's LayerStatsEvents, redrawn a few times a second
with the same plot items, emptied for a new project or a new run."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gui_app.core.diagnostics.layers import LayerSnapshot, LayerStatsEvent

pg = pytest.importorskip("pyqtgraph")

from gui_app.ui.layers_view import EMPTY, LayersView, LogAxis, row_title, short_number  # noqa: E402


def _layer(index: int, name: str, grad: float | None, act: tuple[int, ...] = (4, 2, 1),
           dead: float | None = None, grads: tuple[float, ...] = ()) -> LayerSnapshot:
    edges = tuple(float(v) for v in np.linspace(0.0, 1.5, len(act) + 1))
    return LayerSnapshot(index, name, "Dense", "relu", 8, grad, 1.0, None, dead, None,
                         act, edges, (1, 3, 1), (-1.0, -0.2, 0.2, 1.0), grads)


def _event(at: float, grads: tuple[float | None, ...] = (0.5, 0.01), run: int = 1,
           grad_at: tuple[float, ...] = ()) -> LayerStatsEvent:
    layers = tuple(_layer(i, f"dense_{i}" if i else "dense", g) for i, g in enumerate(grads))
    return LayerStatsEvent(run, int(at), 0, 0, at, layers, True, grad_at)


@pytest.fixture
def view(qtbot):
    made = LayersView(max_rate=1000.0)
    qtbot.addWidget(made)
    made.resize(460, 520)
    made.show()
    qtbot.waitExposed(made)
    return made


def test_a_row_per_layer_updated_with_the_same_items(qtbot, view):
    assert view.rows == [] and view.header.text() == EMPTY and not view.scroll.isVisible()
    view.add(_event(0.0))
    qtbot.waitUntil(lambda: view.draws == 1)
    assert view.layer_names == ["dense", "dense_1"] and view.scroll.isVisible()
    first, second = view.rows
    items = [list(row.act.items) for row in view.rows]
    x, y = first.act_bars.getData()
    assert list(x) == list(np.linspace(0.0, 1.5, 4)) and list(y) == [4, 2, 1]
    assert list(first.weight_bars.getData()[1]) == [1, 3, 1]
    view.add(_event(1.0, (0.25, 0.02)))
    view.add(_event(2.0, (0.125, float("nan"))))
    qtbot.waitUntil(lambda: view.draws == 2)
    assert view.rows == [first, second]  # the same rows, plots and items, new data
    assert [list(row.act.items) for row in view.rows] == items
    x, y = first.grad_curve.getOriginalDataset()
    assert list(x) == [0.0, 1.0, 2.0] and list(y) == [0.5, 0.25, 0.125]
    x, y = second.grad_curve.getOriginalDataset()
    assert list(x) == [0.0, 1.0]  # NaN is not drawn on a log axis
    assert "Epoch 2" in view.header.text() and "2 layers" in view.header.text()


def test_grad_norms_between_events_join_the_curve(qtbot, view):
    layers = (_layer(0, "dense", 0.4, grads=(0.1, 0.2, 0.4)),)
    view.add(LayerStatsEvent(1, 3, 5, 15, 3.0, layers, True, (1.0, 2.0, 3.0)))
    qtbot.waitUntil(lambda: view.draws == 1)
    x, y = view.rows[0].grad_curve.getOriginalDataset()
    assert list(x) == [1.0, 2.0, 3.0] and list(y) == [0.1, 0.2, 0.4]


def test_redraws_are_a_few_a_second(qtbot):
    slow = LayersView(max_rate=4.0)
    qtbot.addWidget(slow)
    slow.show()
    qtbot.waitExposed(slow)
    for k in range(20):
        slow.add(_event(float(k)))
    assert slow.draws == 0  # nothing drawn yet: the next redraw is due in 250 ms
    qtbot.waitUntil(lambda: slow.draws == 1, timeout=2000)
    qtbot.wait(400)
    assert slow.draws == 1  # twenty events, one redraw, of the newest
    assert len(slow.rows[0].grad_curve.getOriginalDataset()[0]) == 20
    assert "Epoch 19" in slow.header.text()


def test_a_hidden_view_draws_when_shown(qtbot):
    hidden = LayersView(max_rate=1000.0)
    qtbot.addWidget(hidden)
    hidden.add(_event(1.0))
    qtbot.wait(20)
    assert hidden.draws == 0
    hidden.show()
    qtbot.waitExposed(hidden)
    assert hidden.draws == 1 and hidden.layer_names == ["dense", "dense_1"]


def test_clear_another_model_and_no_weights(qtbot, view):
    view.add(_event(1.0))
    qtbot.waitUntil(lambda: view.draws == 1)
    view.clear()
    assert view.rows == [] and view.latest is None and view.header.text() == EMPTY
    view.add(_event(0.0, (0.3,)))  # another model: one layer, a fresh curve
    qtbot.waitUntil(lambda: view.draws == 2)
    assert view.layer_names == ["dense"]
    assert list(view.rows[0].grad_curve.getOriginalDataset()[0]) == [0.0]
    view.add(LayerStatsEvent(1, 0, 0, 0, 0.0, ()))
    qtbot.waitUntil(lambda: view.draws == 3)
    assert view.rows == [] and "no layers with weights" in view.header.text()


def test_empty_histograms_are_hidden(qtbot, view):
    layer = LayerSnapshot(0, "dense", "Dense", "sigmoid", 4, None, None, None, None, 0.9)
    view.add(LayerStatsEvent(1, 0, 0, 0, 0.0, (layer,)))
    qtbot.waitUntil(lambda: view.draws == 1)
    row = view.rows[0]
    assert not row.act_bars.isVisible() and not row.weight_bars.isVisible()
    assert "90 % saturated" in row.title.text


def test_titles_say_the_share_of_dead_units_and_warn_past_the_threshold():
    assert "12 % dead" in row_title(_layer(0, "dense", 0.1, dead=0.125))
    assert "#555555" in row_title(_layer(0, "dense", 0.1, dead=0.125))
    assert "#D55E00" in row_title(_layer(0, "dense", 0.1, dead=0.9))  # vermillion
    conv = LayerSnapshot(0, "conv2d", "Conv2D", "relu", 8)
    assert "8 filters" in row_title(conv)


def test_the_log_axis_keeps_to_a_few_labels():
    axis = LogAxis("left")
    [(_, many)] = axis.logTickValues(-7.5, 0.2, 90, [])  # nearly eight decades
    assert len(many) <= 3 and all(float(v).is_integer() for v in many)
    [(_, narrow)] = axis.logTickValues(math.log10(0.05), math.log10(0.3), 90, [])
    assert len(narrow) == 2
    labels = axis.logTickStrings(narrow, 1.0, 1.0)
    assert all(len(text) <= 5 for text in labels)
    assert [short_number(v) for v in (0.065, 1.0, 1e-5, 250.0)] == ["0.065", "1", "1e-5",
                                                                     "2.5e2"]


def test_larger_text_rebuilds_the_rows(qtbot, view):
    view.add(_event(1.0))
    qtbot.waitUntil(lambda: view.draws == 1)
    old = view.rows[0]
    view.set_scale(1.5)
    assert view.rows[0] is not old and view.layer_names == ["dense", "dense_1"]
    assert view.rows[0].grad.maximumHeight() > old.grad.maximumHeight()


# -- in the window, with a real run ----------------------------------------------------------


def test_the_layers_tab_follows_the_runs_and_empties_for_another_project(qtbot, monkeypatch):
    pytest.importorskip("keras")
    from gui_app.core.spec import default_project

    from .files_support import close_quietly, make_window, refuse_downloads
    from .test_files_training import run_to_end, tiny_project

    refuse_downloads(monkeypatch)
    win = make_window(qtbot, project=tiny_project())
    panel = win.training_panel
    try:
        panel.ensure_views()
        tabs = [panel.side_tabs.tabText(i) for i in range(panel.side_tabs.count())]
        assert tabs[-1] == "Layers" and "X-ray" in tabs
        panel.side_tabs.setCurrentWidget(panel.layers)
        layers = panel.layers
        assert run_to_end(qtbot, panel, panel.train).epochs_done == 2
        qtbot.waitUntil(lambda: layers.latest is not None and layers.draws > 0)
        layers.refresh()
        dense = win.controller.project.model.layers  # all Dense: each has a row
        assert len(layers.rows) == len(dense) and layers.layer_names[0] == "dense"
        last = layers.latest
        assert last.run == 1 and last.at == 2.0  # the run's end, kept after it
        for row in last.layers:
            assert math.isfinite(row.grad_norm) and row.grad_norm > 0
            assert sum(row.act_hist) == last.probe_size * row.units
            assert sum(row.weight_hist) > 0
        x, y = layers.rows[0].grad_curve.getOriginalDataset()
        assert x[0] == 0.0 and x[-1] == 2.0 and np.all(y > 0)

        assert panel.train()  # a new run starts from new weights: the view starts empty
        assert layers.rows == [] and layers.latest is None
        qtbot.waitUntil(lambda: not panel.running and layers.latest is not None
                        and layers.latest.at == 2.0, timeout=60_000)
        assert layers.latest.run == 2 and layers._at[0] == 0.0
        assert layers._at == sorted(layers._at)  # the first run's points are gone

        win.controller.reset(default_project())  # another project: a clean slate
        assert layers.rows == [] and layers.latest is None and layers.header.text() == EMPTY
    finally:
        panel.shutdown()
        close_quietly(win)
