"""The arithmetic behind the training views: growing arrays, batch values recovered from
running means, snapshot thinning, planes through wide inputs, colours, scores."""

from __future__ import annotations

import numpy as np
import pytest

from gui_app.core.boundary import (
    BoundaryGrid,
    SnapshotStore,
    contour_segments,
    make_plane,
    plane_probe,
    plane_resolution,
    region_rgb,
)
from gui_app.core.history_views import (
    RunRecord,
    Series,
    class_scores,
    confusion_matrix,
    describe_prediction,
    format_duration,
    is_mean_metric,
    predicted_classes,
    time_left,
)


def test_series_grows_by_doubling_and_keeps_values():
    s = Series(4)
    for i in range(1000):
        s.append(i, 2 * i)
    assert len(s) == 1000 and s.capacity == 1024
    assert s.x[-1] == 999 and s.y[10] == 20
    s.extend(np.arange(5), np.arange(5))
    assert len(s) == 1005 and s.last() == (4.0, 4.0)


def test_series_views_do_not_copy():
    s = Series(8)
    s.append(1, 1)
    assert s.x.base is not None  # a view of the buffer: setData gets it without a copy


def test_mean_metrics_are_recognised():
    assert is_mean_metric("loss") and is_mean_metric("val_sparse_categorical_accuracy")
    assert is_mean_metric("mae")
    assert not is_mean_metric("auc") and not is_mean_metric("root_mean_squared_error")
    assert not is_mean_metric("precision")


def test_batch_values_are_recovered_from_running_means():
    record = RunRecord(1, "Adam")
    # batches with losses 4, 2, 2, 0: running means after 1, 3, 4 batches
    record.add_progress(0, 1, 4, {"loss": 4.0, "auc": 0.5})
    record.add_progress(0, 3, 4, {"loss": 8 / 3, "auc": 0.6})
    record.add_progress(0, 4, 4, {"loss": 2.0, "auc": 0.7})
    assert np.allclose(record.batches["loss"].y, [4.0, 2.0, 0.0])
    assert np.allclose(record.batches["loss"].x, [0.25, 0.75, 1.0])
    assert np.allclose(record.batches["auc"].y, [0.5, 0.6, 0.7])  # not a mean: as reported
    smooth = record.smooth["loss"].y
    assert smooth[0] == 4.0 and 0 < smooth[-1] < 4.0  # smoothed, lagging behind


def test_a_new_epoch_restarts_the_running_mean():
    record = RunRecord(1, "Adam")
    record.add_progress(0, 2, 4, {"loss": 1.0})
    record.add_epoch(0, {"loss": 0.9, "val_loss": 1.1})
    record.add_progress(1, 2, 4, {"loss": 0.5})
    assert np.allclose(record.batches["loss"].y, [1.0, 0.5])
    assert record.epochs_done == 1
    assert record.quantities() == ["loss"]
    assert record.logs_at(1.5) == (1, {"loss": 0.9, "val_loss": 1.1})
    assert record.logs_at(0.5) is None


def _grid(value: float, size: int = 10) -> BoundaryGrid:
    xs = np.linspace(0, 1, size, dtype=np.float32)
    return BoundaryGrid(xs, xs, np.full((size, size, 1), value, np.float32), "binary", (0, 1))


def test_snapshot_store_thins_evenly_under_its_cap():
    one = _grid(0.0).values.nbytes
    store = SnapshotStore(max_bytes=10 * one)
    for epoch in range(100):
        store.add(epoch + 1, _grid(epoch / 100))
    assert store.nbytes <= 10 * one
    positions = store.positions
    assert positions[-1] == 100  # the newest is always kept
    assert positions[0] <= 10  # and the early history too, not only the last minutes
    gaps = np.diff(positions)
    assert gaps.max() <= 2.5 * gaps.min()


def test_snapshot_store_replaces_same_position_and_ignores_late_ones():
    store = SnapshotStore()
    store.add(1.0, _grid(0.1))
    store.add(1.0, _grid(0.2))
    store.add(0.5, _grid(0.3))
    assert len(store) == 1 and store.latest()[1].values[0, 0, 0] == pytest.approx(0.2)


def test_pca_plane_through_wide_inputs():
    rng = np.random.default_rng(0)
    # the variance lives in features 3 and 7
    x = rng.normal(0, 0.01, (500, 10)).astype(np.float32)
    x[:, 3] += rng.normal(0, 5, 500)
    x[:, 7] += rng.normal(0, 2, 500)
    plane = make_plane(x, "pca")
    assert plane.mode == "pca" and sum(plane.explained) > 0.99
    assert abs(plane.axes[0, 3]) > 0.99 and abs(plane.axes[1, 7]) > 0.99
    coords = plane.project(x)
    back = plane.points(coords)
    assert np.allclose(back[:, [3, 7]], x[:, [3, 7]], atol=0.05)
    assert "principal components" in plane.description


def test_feature_plane_holds_the_others_at_their_mean():
    x = np.arange(40, dtype=np.float32).reshape(10, 4)
    plane = make_plane(x, "features", (2, 0), ("a", "b", "c", "d"))
    assert plane.labels == ("c", "a")
    assert np.allclose(plane.project(x), x[:, [2, 0]])
    point = plane.points(np.array([[100.0, -1.0]]))[0]
    assert point[2] == 100 and point[0] == -1
    assert point[1] == pytest.approx(x[:, 1].mean()) and point[3] == pytest.approx(x[:, 3].mean())
    assert "held at their training mean" in plane.description
    with pytest.raises(ValueError, match="two different columns"):
        make_plane(x, "features", (1, 1))


def test_plane_probe_on_images_gives_model_shaped_points():
    x = np.random.default_rng(1).random((50, 4, 4, 1), dtype=np.float32)
    plane = make_plane(x, "pca")
    probe = plane_probe(plane, x, 3, "multiclass", resolution=8)
    assert probe.points.shape == (64, 4, 4, 1)
    grid = probe.snapshot(lambda pts: np.full((len(pts), 3), 1 / 3, np.float32))
    assert grid.values.shape == (8, 8, 3) and grid.kind == "multiclass"
    assert plane_probe(plane, x, None, "multiclass") is None


def test_plane_resolution_shrinks_for_big_models():
    assert plane_resolution(100) == 80
    assert 12 <= plane_resolution(266_610) < 24  # the 784-300-100-10 MLP
    assert plane_resolution(10**9) == 12
    # between the limits, one picture costs about the same forward-pass work
    for params in (20_000, 50_000, 100_000):
        n = plane_resolution(params)
        assert 12 < n < 80
        assert 0.7 * 1.3e8 <= n * n * 2 * params <= 1.3e8


def test_region_colours_fade_where_the_model_is_unsure():
    colors = np.array([[255, 0, 0], [0, 0, 255]], np.float32)
    values = np.array([[[0.0], [0.5], [1.0]]], np.float32)
    rgb = region_rgb(values, "binary", colors)
    assert rgb.dtype == np.uint8 and rgb.shape == (1, 3, 3)
    assert rgb[0, 0, 0] > rgb[0, 0, 2]  # sure of class 0: red
    assert rgb[0, 2, 2] > rgb[0, 2, 0]  # sure of class 1: blue
    assert rgb[0, 1].min() > 200  # unsure: nearly white
    nan = region_rgb(np.full((2, 2, 1), np.nan, np.float32), "binary", colors)
    assert nan.min() > 200  # a NaN model draws as "unsure", not garbage
    multi = region_rgb(np.array([[[0.1, 0.8, 0.1]]], np.float32), "multiclass", colors)
    assert multi.shape == (1, 1, 3)


def test_confusion_matrix_and_scores():
    truth = np.array([0, 0, 1, 1, 1, 2])
    guess = np.array([0, 1, 1, 1, 0, 2])
    cm = confusion_matrix(truth, guess, 3)
    assert cm.tolist() == [[1, 1, 0], [1, 2, 0], [0, 0, 1]]
    scores = class_scores(cm)
    assert scores[1].precision == pytest.approx(2 / 3) and scores[1].recall == pytest.approx(2 / 3)
    assert scores[2].f1 == 1.0 and scores[0].support == 2
    assert np.isnan(class_scores(np.array([[0, 0], [1, 0]]))[1].precision)
    assert predicted_classes(np.array([[0.2], [0.7]])).tolist() == [0, 1]
    assert predicted_classes(np.array([[-1.0], [2.0]]), from_logits=True).tolist() == [0, 1]


def test_describe_prediction():
    text, ranked = describe_prediction(np.array([0.9]), "binary", ("outer", "inner"))
    assert text == "class 'inner' (P = 0.900)" and ranked[0] == ("inner", pytest.approx(0.9))
    text, ranked = describe_prediction(np.array([0.1, 0.7, 0.2]), "multiclass", None)
    assert "class 1" in text and len(ranked) == 3
    text, ranked = describe_prediction(np.array([3.25]), "regression", None)
    assert text == "predicted value: 3.25" and ranked == []


def test_time_left_and_durations():
    assert time_left(10.0, 0.25) == pytest.approx(30.0)
    assert time_left(0.0, 0.0) is None
    assert format_duration(42) == "0:42" and format_duration(3723) == "1:02:03"
    assert format_duration(None) == "-"


def test_time_left_goes_by_the_pace_after_warmup():
    # 60 epochs; the first took 0.3 s, 0.29 s of it tracing: 59 more at 0.01 s each.
    assert time_left(0.3, 1 / 60, warmup=0.29) == pytest.approx(0.59)
    assert time_left(0.3, 1 / 60) == pytest.approx(17.7)  # what counting the warm-up says
    # Nothing but warm-up so far: no pace to go by yet.
    assert time_left(0.29, 1 / 60, warmup=0.29) is None
    assert time_left(0.25, 1 / 60, warmup=0.29) is None
    assert time_left(1.0, 1.0, warmup=0.5) == 0.0
    assert time_left(2.0, 0.5, warmup=-1.0) == pytest.approx(2.0)  # a negative warm-up is none


def test_contour_segments_trace_the_level_line():
    xs = np.linspace(-1, 1, 41)
    gx, gy = np.meshgrid(xs, xs)
    values = 1.0 / (1.0 + np.exp(-20 * (0.5 - np.hypot(gx, gy))))  # P > 0.5 inside r = 0.5
    x, y = contour_segments(values, xs, xs)
    assert len(x) > 40 and len(x) % 2 == 0
    assert np.allclose(np.hypot(x, y), 0.5, atol=0.02)  # on the circle
    flat = np.full((5, 5), 0.9)
    assert contour_segments(flat, np.arange(5), np.arange(5))[0].size == 0
    assert contour_segments(np.full((5, 5), np.nan), np.arange(5), np.arange(5))[0].size == 0


def test_peak_decimator_keeps_spikes_and_bounds_the_points():
    from gui_app.core.history_views import PeakDecimator

    s = Series()
    dec = PeakDecimator(s, target=100)
    s.extend(np.arange(50), np.zeros(50))
    x, y = dec.view()
    assert len(x) == 50  # small: drawn as it is
    ys = np.zeros(100_000)
    ys[54_321] = 7.0  # one spike
    s.extend(np.arange(50, 100_050), ys)
    x, y = dec.view()
    assert len(x) <= 2 * 100 + dec.bucket and y.max() == 7.0
    assert np.all(np.diff(x) >= 0)
    s.append(100_050, -3.0)
    x2, y2 = dec.view()
    assert y2.min() == -3.0 and len(x2) >= len(x)


def test_indexed_regions_match_the_mixed_colours():
    from gui_app.core.boundary import region_index, region_lut

    colors = np.array([[31, 119, 180], [255, 127, 14], [44, 160, 44]], np.float32)
    p = np.random.default_rng(0).random((6, 7, 1)).astype(np.float32)
    looked_up = region_lut("binary", colors[:2])[region_index(p, "binary")]
    assert np.abs(looked_up.astype(int) - region_rgb(p, "binary", colors[:2]).astype(int)).max() <= 3
    sure = np.zeros((1, 3, 3), np.float32)
    sure[0, np.arange(3), np.arange(3)] = 1.0
    lut = region_lut("multiclass", colors)
    rgb = lut[region_index(sure, "multiclass")]
    assert np.array_equal(rgb, region_rgb(sure, "multiclass", colors))  # sure: class colours
    unsure = np.full((1, 1, 3), 1 / 3, np.float32)
    assert lut[region_index(unsure, "multiclass")].min() > 200  # unsure: pale
