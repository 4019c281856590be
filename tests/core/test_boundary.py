"""Tests for gui_app.core.boundary: grid geometry, orientation, output conversion, kinds."""

from __future__ import annotations

import numpy as np
import pytest

from gui_app.core.boundary import (
    BoundaryProbe,
    curve_points,
    grid_points,
    make_plane,
    make_probe,
    plane_probe,
)


def test_grid_covers_the_data_with_a_margin() -> None:
    x = np.array([[0.0, 10.0], [2.0, 30.0], [1.0, 20.0]], dtype=np.float32)
    xs, ys, points = grid_points(x, resolution=5, margin=0.1)
    assert xs.shape == ys.shape == (5,)
    assert xs[0] == pytest.approx(-0.2) and xs[-1] == pytest.approx(2.2)
    assert ys[0] == pytest.approx(8.0) and ys[-1] == pytest.approx(32.0)
    assert points.shape == (25, 2) and points.dtype == np.float32
    # Row-major with y outer: point iy * r + ix sits at (xs[ix], ys[iy]).
    for iy in range(5):
        for ix in range(5):
            assert tuple(points[iy * 5 + ix]) == (xs[ix], ys[iy])


def test_grid_on_a_constant_feature_still_has_extent() -> None:
    x = np.array([[1.0, 3.0], [2.0, 3.0]])
    _, ys, _ = grid_points(x, resolution=3)
    assert ys[0] == pytest.approx(2.0) and ys[-1] == pytest.approx(4.0)


def test_grid_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="at least 2 points"):
        grid_points(np.zeros((3, 2)), resolution=1)
    with pytest.raises(ValueError, match="curve_points"):
        grid_points(np.zeros((3, 1)))


def test_curve_points_span_the_input() -> None:
    xs, points = curve_points(np.array([[-3.0], [3.0], [0.0]]), n=7, margin=0.0)
    assert xs.tolist() == [-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0]
    assert points.shape == (7, 1) and np.array_equal(points[:, 0], xs)
    with pytest.raises(ValueError):
        curve_points(np.zeros(3), n=1)


def test_values_are_oriented_as_an_image() -> None:
    x = np.array([[0.0, 0.0], [1.0, 2.0]])
    probe = make_probe(x, 1, "regression", resolution=4)
    assert probe is not None and probe.kind == "regression"
    grid = probe.snapshot(lambda p: p[:, 0] * 10 + p[:, 1])
    assert grid.values.shape == (4, 4, 1)
    for iy in range(4):
        for ix in range(4):
            expected = grid.xs[ix] * 10 + grid.ys[iy]
            assert grid.values[iy, ix, 0] == pytest.approx(expected)
    assert grid.features == (0, 1)


def test_logits_become_probabilities() -> None:
    x = np.random.default_rng(0).normal(size=(20, 2))
    binary = make_probe(x, 1, "binary", resolution=3, from_logits=True)
    values = binary.values(np.array([-100.0, 0.0, 100.0] * 3))
    assert values.min() >= 0 and values.max() <= 1
    assert values[0, 1, 0] == pytest.approx(0.5)
    multi = make_probe(x, 3, "multiclass", resolution=3, from_logits=True)
    logits = np.random.default_rng(1).normal(size=(9, 3)) * 5
    probs = multi.values(logits)
    assert probs.shape == (3, 3, 3) and probs.dtype == np.float32
    assert np.allclose(probs.sum(axis=-1), 1.0, atol=1e-6)
    assert np.array_equal(probs.argmax(axis=-1).ravel(), logits.argmax(axis=1))
    plain = make_probe(x, 3, "multiclass", resolution=3)
    assert np.allclose(plain.values(logits).reshape(9, 3), logits, atol=1e-6)


@pytest.mark.parametrize(
    ("shape", "units", "task", "kind"),
    [((50, 2), 1, "binary", "binary"),
     ((50, 2), 2, "binary", "multiclass"),
     ((50, 2), 4, "multiclass", "multiclass"),
     ((50, 2), 1, "regression", "regression"),
     ((50, 1), 1, "regression", "curve"),
     ((50, 1), 1, "binary", "curve"),
     ((50, 3), 1, "binary", None),
     ((50, 28, 28), 10, "multiclass", None),
     ((50, 2), None, "binary", None)],
)
def test_probe_kinds(shape: tuple, units: int | None, task: str, kind: str | None) -> None:
    probe = make_probe(np.zeros(shape), units, task, resolution=5)
    assert (probe.kind if probe else None) == kind


def test_shared_grid_arrays_are_read_only() -> None:
    probe = make_probe(np.random.default_rng(0).normal(size=(10, 2)), 1, "binary", resolution=4)
    grid = probe.snapshot(lambda p: np.zeros(len(p)))
    with pytest.raises(ValueError):
        grid.xs[0] = 1.0
    with pytest.raises(ValueError):
        BoundaryProbe(grid.xs, grid.ys, probe.points, "contour")


# -- the NumPy forward pass for Dense stacks -------------------------------------------------


def test_dense_predictor_matches_keras() -> None:
    import keras

    from gui_app.core.boundary import dense_predictor

    keras.utils.set_random_seed(1)
    model = keras.Sequential([
        keras.Input((3,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(8, activation="tanh", use_bias=False),
        keras.layers.Dense(8),
        keras.layers.Activation("sigmoid"),
        keras.layers.Dense(4, activation="softmax"),
    ])
    x = np.random.default_rng(0).normal(size=(500, 3)).astype(np.float32) * 5
    predict = dense_predictor(model, keras.ops.convert_to_numpy)
    assert predict is not None
    np.testing.assert_allclose(predict(x), model.predict_on_batch(x), atol=1e-5)
    # the weights are read at each call: a change shows in the next picture
    first = model.layers[0]
    first.kernel.assign(np.zeros(first.kernel.shape, np.float32))
    np.testing.assert_allclose(predict(x), model.predict_on_batch(x), atol=1e-5)


def test_dense_predictor_sigmoid_is_finite_far_out() -> None:
    import keras

    from gui_app.core.boundary import dense_predictor

    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, activation="sigmoid")])
    model.layers[0].kernel.assign(np.array([[100.0]], np.float32))
    x = np.array([[-50.0], [0.0], [50.0]], np.float32)
    out = dense_predictor(model, keras.ops.convert_to_numpy)(x)
    np.testing.assert_allclose(out[:, 0], [0.0, 0.5, 1.0], atol=1e-6)
    # the sigmoid itself never overflows (the forward pass hides warnings, so look here)
    from gui_app.core.boundary import _sigmoid

    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no inf, no NaN
        np.testing.assert_allclose(_sigmoid(np.array([-5000.0, 0.0, 5000.0], np.float32)),
                                   [0.0, 0.5, 1.0], atol=1e-6)


@pytest.mark.parametrize("layers", [
    "conv", "leaky", "rank3", "big",
])
def test_dense_predictor_declines_other_models(layers: str) -> None:
    import keras

    from gui_app.core.boundary import dense_predictor

    if layers == "conv":
        model = keras.Sequential([keras.Input((8, 1)), keras.layers.Conv1D(2, 3),
                                  keras.layers.Flatten(), keras.layers.Dense(1)])
    elif layers == "leaky":  # an activation the NumPy pass does not know
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="gelu"),
                                  keras.layers.Dense(1)])
    elif layers == "rank3":  # Dense on a sequence works per step, not on the rows
        model = keras.Sequential([keras.Input((4, 2)), keras.layers.Dense(3)])
    else:  # big: the compiled call is as fast, without NumPy's threads competing
        model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(300),
                                  keras.layers.Dense(10, activation="softmax")])
    assert dense_predictor(model, keras.ops.convert_to_numpy) is None


# -- a picture over the visible plane (a view zoomed out past the data) ----------------------


def test_a_grid_spans_the_data_and_the_asked_extent() -> None:
    x = np.array([[0.0, 10.0], [2.0, 30.0]], dtype=np.float32)
    xs, ys, points = grid_points(x, resolution=5, extent=((-10.0, 1.0), (15.0, 100.0)))
    assert xs[0] == pytest.approx(-10.0) and xs[-1] == pytest.approx(2.2)  # data's margin
    assert ys[0] == pytest.approx(8.0) and ys[-1] == pytest.approx(100.0)
    assert points.shape == (25, 2)
    probe = make_probe(x, 1, "binary", resolution=4, extent=((-5.0, 5.0), (0.0, 50.0)))
    assert probe.xs[0] == pytest.approx(-5.0) and probe.ys[-1] == pytest.approx(50.0)
    assert make_probe(x[:, :1], 1, "binary", extent=((-5.0, 5.0), (0.0, 1.0))).kind == "curve"


def test_cover_extent_widens_past_the_view_within_a_limit() -> None:
    from gui_app.core.boundary.grids import cover_extent, data_extent, extent_covers

    data = data_extent(np.array([[0.0, 0.0], [1.0, 2.0]]), margin=0.0)
    assert data == ((0.0, 1.0), (0.0, 2.0))
    wide = cover_extent(data, ((-2.0, 3.0), (0.5, 1.5)), margin=0.1)
    assert wide == (pytest.approx((-2.5, 3.5)), pytest.approx((0.0, 2.0)))  # data kept
    assert extent_covers(wide, ((-2.0, 3.0), (0.5, 1.5)))
    assert not extent_covers(data, ((-2.0, 3.0), (0.5, 1.5)))
    far = cover_extent(data, ((-1e6, 1e6), (-1e6, 1e6)), limit=10.0)
    assert far == (pytest.approx((-4.5, 5.5)), pytest.approx((-9.0, 11.0)))
    assert cover_extent(data, ((1.0, 1.0), (np.nan, 2.0))) == data  # an empty view


def test_a_plane_probe_covers_the_asked_extent() -> None:
    x = np.random.default_rng(2).normal(size=(40, 5)).astype(np.float32)
    plane = make_plane(x, "features", (0, 1))
    probe = plane_probe(plane, x, 1, "binary", resolution=6, extent=((-50.0, 50.0),
                                                                      (-40.0, 40.0)))
    assert (probe.xs[0], probe.xs[-1]) == (-50.0, 50.0)
    assert (probe.ys[0], probe.ys[-1]) == (-40.0, 40.0)
    assert np.allclose(plane.project(probe.points), np.stack(np.meshgrid(probe.xs, probe.ys),
                                                             -1).reshape(-1, 2), atol=1e-4)


def test_a_probe_set_by_the_view_replaces_the_sessions_own_pictures() -> None:
    from gui_app.core.boundary.plane_snapshots import PlaneSnapshots
    from gui_app.core.training import BatchProgress, BoundarySnapshot, Finished, Started

    x = np.random.default_rng(0).normal(size=(30, 2)).astype(np.float32)
    own = make_probe(x, 1, "binary", resolution=4).snapshot(lambda p: np.zeros(len(p)))
    sent: list = []
    planes = PlaneSnapshots(lambda p: np.full((len(p), 1), 0.25, np.float32), sent.append,
                            interval=0.0)
    events = [Started(1, 1, 0, 2, 60, 32, "CPU"), BoundarySnapshot(1, 0, 0, own),
              BatchProgress(1, 0, 1, 2, {"loss": 1.0}, 10.0, 0.1),
              BoundarySnapshot(1, 0, 1, own), Finished(1, {}, "completed", "done", 1)]
    for event in events:  # no probe: the session's own pictures pass through
        planes(event)
    assert [e for e in sent if isinstance(e, BoundarySnapshot)] == [events[1], events[3]]
    sent.clear()
    planes.probe = make_probe(x, 1, "binary", resolution=5, extent=((-9.0, 9.0), (-9.0, 9.0)))
    for event in events:
        planes(event)
    pictures = [e for e in sent if isinstance(e, BoundarySnapshot)]
    assert pictures and all(e.grid.xs[0] == -9.0 and e.grid.values.shape == (5, 5, 1)
                            for e in pictures)
    assert isinstance(sent[-1], Finished)  # the last picture comes before the end


# -- what each neuron sees -------------------------------------------------------------------


def _mlp(*hidden: str):
    import keras

    keras.utils.set_random_seed(3)
    layers = []
    for spec in hidden:
        units, _, activation = spec.partition(":")
        layers.append(keras.layers.Dense(int(units), activation=activation or None))
    return keras.Sequential([keras.Input((2,)), *layers,
                             keras.layers.Dense(1, activation="sigmoid")])


def test_unit_pictures_match_the_hidden_layers_in_keras() -> None:
    import keras

    from gui_app.core.boundary.units import UnitProbe, unit_grid

    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(4, activation="tanh", name="first"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(3, name="second"),
        keras.layers.Activation("relu"),
        keras.layers.Dense(2, activation="softmax"),
    ])
    extent = ((-2.0, 3.0), (-1.0, 1.0))
    probe = UnitProbe(model, keras, extent, resolution=8)
    assert probe.names == ("first (tanh)", "second (relu)") and probe.layers == (0, 2)
    pictures = probe.snapshot()
    assert [v.shape for v in pictures.values] == [(4, 8, 8), (3, 8, 8)]
    assert pictures.units == 7 and pictures.xs[0] == -2.0 and pictures.ys[-1] == 1.0
    _, _, points = unit_grid(extent, 8)
    for index, values in ((0, pictures.values[0]), (3, pictures.values[1])):
        direct = keras.Model(model.inputs[0], model.layers[index].output).predict(
            points, verbose=0)
        # values[u, iy, ix] is unit u at (xs[ix], ys[iy]); points are y outer, x inner
        np.testing.assert_allclose(values.reshape(len(values), -1).T, direct, atol=1e-5)
    assert np.all(pictures.values[1] >= 0)  # after the relu layer
    # the sub-model shares the weights: a change shows in the next pictures
    model.layers[0].kernel.assign(np.zeros((2, 4), np.float32))
    model.layers[0].bias.assign(np.zeros(4, np.float32))
    assert np.all(probe.snapshot().values[0] == 0)


@pytest.mark.parametrize(("kind", "why"), [
    ("three inputs", "exactly two inputs"),
    ("no hidden", "no hidden Dense"),
    ("conv", "has a Reshape layer"),
    ("too many", "at most 64"),
])
def test_models_without_unit_pictures_say_why(kind: str, why: str) -> None:
    import keras

    from gui_app.core.boundary.units import UnitProbe, hidden_layers

    if kind == "three inputs":
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4),
                                  keras.layers.Dense(1)])
    elif kind == "no hidden":
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    elif kind == "conv":
        model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4),
                                  keras.layers.Reshape((4, 1)), keras.layers.Flatten(),
                                  keras.layers.Dense(1)])
    else:
        model = _mlp("40:relu", "30:relu")
    chosen, note = hidden_layers(model)
    assert chosen == [] and why in note
    with pytest.raises(ValueError, match=why):
        UnitProbe(model, keras, ((0.0, 1.0), (0.0, 1.0)))


def test_unit_snapshots_come_only_when_watched_and_at_their_rate(monkeypatch) -> None:
    from gui_app.core.boundary import units
    from gui_app.core.training import BatchProgress, EpochEnd, Finished, Started

    clock = [100.0]
    monkeypatch.setattr(units.time, "perf_counter", lambda: clock[0])
    made = units.UnitPictures(np.zeros(2, np.float32), np.zeros(2, np.float32), (0,),
                              ("dense (relu)",), (np.zeros((3, 2, 2), np.float32),))
    sent: list = []
    watcher = units.UnitSnapshots(lambda: made, sent.append, interval=0.5)
    run = [Started(1, 2, 0, 4, 100, 25, "CPU"),
           BatchProgress(1, 0, 1, 4, {}, 1.0, 0.1), EpochEnd(1, 0, {}, 0.2),
           Finished(1, {}, "completed", "done", 1)]
    for event in run:
        watcher(event)
    assert sent == []  # off until a view watches the units
    watcher.on = True
    watcher(run[0])
    watcher(run[1])  # within the interval: none
    clock[0] += 0.6
    watcher(run[2])
    watcher(run[3])  # the run's last pictures always come
    assert [(s.epoch, s.step) for s in sent] == [(0, 0), (0, 4), (0, 4)]
    assert all(isinstance(s, units.UnitSnapshot) and s.pictures is made for s in sent)
