"""The Layers view's event (`core.diagnostics.layers`): histograms made in the engine from
the arrays a diagnostics sample already has, a few events a second, in the training's
event stream, as JSON and through the engine protocol."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gui_app.core.diagnostics.layers import (
    HIST_BINS,
    HIST_VALUES,
    MIN_BINS,
    LayerFeed,
    LayerSnapshot,
    LayerStatsEvent,
    bins_for,
    histogram,
    layer_event,
    sample_stride,
    thin,
)
from gui_app.core.diagnostics.stats import LayerStats, Sample
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project


def tiny_project(epochs: int = 3) -> Project:
    return Project(
        name="Tiny",
        model=ModelSpec((2,), (
            LayerSpec("Dense", {"units": 6, "activation": "relu"}),
            LayerSpec("Dropout", {"rate": 0.1}),
            LayerSpec("Dense", {"units": 4, "activation": "tanh"}),
            LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}),
        )),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}),
                            ObjectSpec("binary_crossentropy"), (ObjectSpec("accuracy"),)),
        data={"source": "circle", "samples": 200, "noise": 0.1, "seed": 0,
              "validation_split": 0.2},
        fit={"epochs": epochs, "batch_size": 32, "seed": 0},
    )


# -- the pieces ------------------------------------------------------------------------------


def test_histogram_counts_every_finite_value_between_its_extremes():
    values = np.array([0.0, 0.0, 0.0, 1.0, 2.0, np.nan, np.inf], np.float32)
    counts, edges = histogram(values, bins=4)
    assert sum(counts) == 5 and len(edges) == 5
    assert edges[0] == 0.0 and edges[-1] == 2.0 and counts[0] == 3
    assert histogram(np.full(10, 3.0), bins=4)[1] == (2.5, 2.75, 3.0, 3.25, 3.5)
    assert histogram(np.array([np.nan, np.inf])) == ((), ())
    # the square-root rule: a comb of single counts helps nobody
    assert [bins_for(n) for n in (3, 16, 256, 10_000)] == [MIN_BINS, MIN_BINS, 16, HIST_BINS]
    assert len(histogram(np.arange(256.0))[0]) == 16


def test_thinning_keeps_every_channel_and_the_limit():
    # 64 samples of 26 x 26 x 32 channels: a plain stride of 338 would see half the channels
    out = np.arange(64 * 26 * 26 * 32, dtype=np.float32).reshape(64, 26, 26, 32)
    stride = sample_stride(out.size, 32)
    assert math.gcd(stride, 32) == 1 and out.size / stride <= HIST_VALUES
    kept = thin(out, 32)
    assert len(kept) <= HIST_VALUES
    assert set((kept % 32).astype(int)) == set(range(32))
    small = np.ones((64, 6))
    assert len(thin(small, 6)) == small.size  # small arrays are kept whole


def _sample(epoch: int, step: int, seen: int, epoch_end: bool = False) -> Sample:
    layers = (LayerStats(0, "dense", "Dense", "relu", 0.5, 2.0, 1e-3, 0.25, None, 4),
              LayerStats(1, "dropout", "Dropout", None, None, None, None, None, None, 4),
              LayerStats(2, "dense_1", "Dense", "sigmoid", float("nan"), 1.0, None, None,
                         None, 1))
    return Sample(epoch, step, seen, 0.7, 0.69, layers, epoch_end)


def test_an_event_has_a_row_per_weighted_layer():
    rng = np.random.default_rng(0)
    weights = {0: rng.normal(size=(2, 4)).astype(np.float32),
               2: rng.normal(size=(4, 1)).astype(np.float32)}
    outputs = {0: np.maximum(rng.normal(size=(64, 4)), 0), 2: rng.random((64, 1))}
    event = layer_event(_sample(4, 5, 15, True), weights, outputs, run=2, steps=5,
                        initial_epoch=2)
    assert [row.name for row in event.layers] == ["dense", "dense_1"]
    relu, out = event.layers
    assert relu.dead == 0.25 and relu.grad_norm == 0.5 and relu.units == 4
    assert sum(relu.act_hist) == 64 * 4 and len(relu.act_edges) == bins_for(64 * 4) + 1
    assert sum(relu.weight_hist) == 8 and relu.weight_edges[0] == weights[0].min()
    assert event.at == 5.0 and event.run == 2 and event.epoch_end
    # the sample taken before the first batch of a continued run says epoch 0
    first = layer_event(_sample(0, 0, 0), weights, outputs, steps=5, initial_epoch=2)
    assert first.at == 2.0 and first.epoch == 2
    assert layer_event(_sample(3, 2, 12), weights, outputs, steps=5).at == pytest.approx(3.4)
    # JSON: the documented shape, NaN as null, and back
    doc = json.loads(json.dumps(event.to_dict(), allow_nan=False))
    assert doc["type"] == "layer_stats" and doc["layers"][1]["grad_norm"] is None
    assert {"name", "grad_norm", "act_hist", "act_edges", "weight_hist", "weight_edges",
            "dead", "saturated"} <= set(doc["layers"][0])
    again = LayerStatsEvent.from_dict(doc)
    assert again.layers[0] == relu and again.at == event.at
    assert again.layers[1].grad_norm is None


def test_the_feed_sends_a_few_a_second_and_the_last_one_at_the_end():
    sent: list[LayerStatsEvent] = []
    now = [0.0]
    feed = LayerFeed(sent.append, run=1, steps=5, interval=0.25, clock=lambda: now[0])
    weights = {0: np.ones((2, 4), np.float32), 2: np.ones((4, 1), np.float32)}
    for k in range(20):  # 20 samples in 0.2 s: one event now, the last one kept
        now[0] = k * 0.01
        feed.offer(_sample(k, 5, 5 * (k + 1), True), weights, {})
    assert [e.epoch for e in sent] == [0]
    now[0] = 0.3
    feed.offer(_sample(20, 5, 105, True), weights, {})
    assert [e.epoch for e in sent] == [0, 20]
    # the samples passed over give the next event their gradient norms, in order
    assert sent[1].grad_at == tuple(float(k + 1) for k in range(1, 21))
    assert sent[1].layers[0].grad_norms == (0.5,) * 20
    assert all(math.isnan(v) for v in sent[1].layers[1].grad_norms)
    feed.offer(_sample(21, 5, 110, True), weights, {})
    feed.flush()
    feed.flush()  # nothing kept: nothing more
    assert [e.epoch for e in sent] == [0, 20, 21] and feed.sent == 3
    assert sent[0].layers[0].act_hist == ()  # no outputs: no activation histogram


def test_the_protocol_carries_the_event():
    from gui_app.engine.protocol import decode, encode

    event = LayerStatsEvent(1, 0, 3, 3, 0.6, (LayerSnapshot(
        0, "dense", "Dense", "relu", 4, float("nan"), 1.0, None, 0.5, None, (1, 2),
        (0.0, 0.5, 1.0), (3,), (-1.0, 1.0)),), False)
    back = decode(encode({"kind": "event", "session": 1, "event": event}))["event"]
    assert isinstance(back, LayerStatsEvent) and back.layers[0].act_hist == (1, 2)
    assert math.isnan(back.layers[0].grad_norm) and back.at == 0.6


# -- with Keras ------------------------------------------------------------------------------


def test_a_training_run_sends_layer_stats(make_session):
    pytest.importorskip("keras")
    from gui_app.core.training import Finished, event_to_dict

    session, rec = make_session(tiny_project(epochs=3))
    session.layer_stats_interval = 0.0  # every sample, so the count is known
    session.start()
    assert session.wait(120), "the run did not end in time"
    assert rec.of(Finished)[-1].reason == "completed"
    events = rec.of(LayerStatsEvent)
    # one before the first batch, then at epoch ends (the compiled loop may run several
    # epochs in one call, and samples only the last one's end), the run's end always
    at = [e.at for e in events]
    assert at[0] == 0.0 and at[-1] == 3.0 and at == sorted(set(at))
    assert all(e.run == 1 for e in events)
    assert rec.events.index(events[-1]) < rec.events.index(rec.of(Finished)[-1])
    last = events[-1]
    assert [row.name for row in last.layers] == ["dense", "dense_1", "dense_2"]
    assert [row.index for row in last.layers] == [0, 2, 3]  # Dropout has no weights
    assert [row.units for row in last.layers] == [6, 4, 1]
    relu, tanh, out = last.layers
    assert relu.dead is not None and tanh.saturated is not None
    assert last.probe_size == 64
    for row, (fan_in, units) in zip(last.layers, [(2, 6), (6, 4), (4, 1)], strict=True):
        assert math.isfinite(row.grad_norm) and row.grad_norm > 0
        assert sum(row.act_hist) == 64 * units  # the whole probe batch
        assert sum(row.weight_hist) == fan_in * units
        assert len(row.act_edges) == bins_for(64 * units) + 1
        assert len(row.weight_edges) == bins_for(fan_in * units) + 1
        assert all(math.isfinite(e) for e in (*row.act_edges, *row.weight_edges))
    # every sample's gradient norm reaches the window, though the events are fewer
    moments = [t for e in events for t in e.grad_at]
    assert moments == sorted(moments) and moments[-1] == 3.0
    assert all(len(row.grad_norms) == len(e.grad_at) for e in events for row in e.layers)
    assert tanh.act_edges[0] >= -1 and tanh.act_edges[-1] <= 1
    assert relu.act_edges[0] >= 0  # ReLU outputs are never negative
    assert 0 <= out.act_edges[0] and out.act_edges[-1] <= 1
    # the weights moved between the first event and the last
    assert events[0].layers[0].weight_edges != relu.weight_edges
    json.dumps(event_to_dict(last), allow_nan=False)
    assert event_to_dict(last)["type"] == "layer_stats"


def test_a_session_sends_none_when_asked_not_to(make_session):
    pytest.importorskip("keras")
    session, rec = make_session(tiny_project(epochs=1))
    session.layer_stats_interval = None
    session.start()
    assert session.wait(120)
    assert rec.of(LayerStatsEvent) == []


def test_the_compiled_probe_gives_thinned_outputs_of_every_channel():
    keras = pytest.importorskip("keras")
    from gui_app.core.diagnostics.stats import make_probe_function

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((30, 30, 1)),
                              keras.layers.Conv2D(32, 3, activation="relu"),
                              keras.layers.Flatten(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.random((64, 30, 30, 1)).astype(np.float32)
    y = rng.integers(0, 3, 64)
    _, probe = make_probe_function(model)
    values, _, outputs = probe(x, y)
    assert sorted(outputs) == [0, 2] and np.all(np.isfinite(values))
    conv = model.layers[0](x)
    full = np.asarray(conv.numpy()).reshape(-1)
    stride = sample_stride(full.size, 32)
    np.testing.assert_allclose(outputs[0], full[::stride], rtol=1e-5, atol=1e-6)
    assert outputs[0].size <= HIST_VALUES and outputs[2].shape == (64 * 3,)


def test_the_numpy_probe_gives_the_compiled_ones_outputs():
    keras = pytest.importorskip("keras")
    from gui_app.core.build import build_model, compile_model
    from gui_app.core.diagnostics.stats import make_probe_function

    keras.utils.set_random_seed(0)
    model = build_model(tiny_project().model)
    compile_model(model, tiny_project().compile)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 2)).astype(np.float32)
    y = (rng.random(64) > 0.5).astype(np.float32)
    _, fast = make_probe_function(model)
    _, compiled = make_probe_function(model, compiled=True)
    assert fast.__module__.endswith("numpy_probe")
    # the statistics (gradient norms, ...) and the layers' outputs alike
    np.testing.assert_allclose(fast(x, y)[0], compiled(x, y)[0], rtol=2e-4, atol=1e-6)
    quick, slow = fast(x, y)[2], compiled(x, y)[2]
    assert sorted(quick) == sorted(slow) == [0, 2, 3]
    for i in quick:
        np.testing.assert_allclose(np.ravel(quick[i]), slow[i], rtol=2e-4, atol=1e-6)
