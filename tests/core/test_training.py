"""Tests for gui_app.core.training: the session's controls, its event stream and fit options.

Every training here is tiny (160 training samples, a few epochs) so the whole file runs in
well under a minute on two cores; what is checked is behaviour (which events, which
numbers, which weights), never wall-clock speed.
"""

from __future__ import annotations

import csv
import json
import math
import os
import threading
import time
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui_app.core.boundary import BoundaryGrid
from gui_app.core.data import compute_class_weight, load_dataset
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
from gui_app.core.training import (
    BatchProgress,
    BoundarySnapshot,
    EpochEnd,
    Failed,
    Finished,
    SessionError,
    Started,
    TrainingSession,
    event_to_dict,
    explain_error,
    nan_message,
    virtual_epoch_plan,
    virtual_order,
)

CIRCLE = {"source": "circle", "samples": 200, "noise": 0.1, "seed": 0, "validation_split": 0.2}
BLOBS = {"source": "blobs", "samples": 200, "seed": 1, "validation_split": 0.2}


def project(data: dict | None = None, layers: tuple = (8, 8), output: str = "sigmoid",
            loss: str = "binary_crossentropy", optimizer: Any = "Adam", units: int = 1,
            input_shape: tuple = (2,), **fit: Any) -> Project:
    hidden = tuple(LayerSpec("Dense", {"units": u, "activation": "relu"}) for u in layers)
    opt = optimizer if isinstance(optimizer, ObjectSpec) else ObjectSpec(optimizer)
    metrics = (ObjectSpec("accuracy"),) if loss != "mse" else ()
    return Project(
        name="Test",
        model=ModelSpec(input_shape, (*hidden, LayerSpec("Dense", {"units": units,
                                                                     "activation": output}))),
        compile=CompileSpec(opt, ObjectSpec(loss), metrics),
        data=dict(CIRCLE if data is None else data),
        fit={"epochs": 3, "batch_size": 32, "seed": 0, **fit},
    )


class Recorder:
    """A listener that keeps every event (and can act on them, on the worker thread)."""

    def __init__(self) -> None:
        self.events: list[Any] = []
        self.lock = threading.Lock()

    def __call__(self, event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type) -> list[Any]:
        with self.lock:
            return [e for e in self.events if isinstance(e, kind)]

    @property
    def last(self) -> Any:
        return self.events[-1]




def run(session: TrainingSession, epochs: int | None = None, timeout: float = 60) -> None:
    session.start(epochs)
    assert session.wait(timeout), "the run did not end in time"


def iterations(session: TrainingSession) -> int:
    """Optimizer steps taken so far (read on the worker thread)."""
    return session._call(lambda: int(np.asarray(session._model.optimizer.iterations.value)), 10)


# ------------------------------------------------------------------ virtual epochs


def test_virtual_epoch_plan_worked_example() -> None:
    plan = virtual_epoch_plan(14.3, 15, 400, 32)
    assert plan.total_examples == 5720
    assert plan.steps_per_epoch == 5720 // (32 * 15) == 11
    assert plan.epochs == 15
    assert plan.examples_per_epoch == 11 * 32


def test_virtual_epoch_plan_keeps_examples_when_batch_size_changes() -> None:
    small = virtual_epoch_plan(10, 5, 1000, 10)
    large = virtual_epoch_plan(10, 5, 1000, 100)
    assert small.steps_per_epoch * 10 * 5 == large.steps_per_epoch * 100 * 5 == 10_000


def test_virtual_epoch_plan_takes_at_least_one_step() -> None:
    assert virtual_epoch_plan(0.01, 10, 100, 32).steps_per_epoch == 1


@pytest.mark.parametrize("args", [(0, 5, 100, 32), (-1, 5, 100, 32), (1, 0, 100, 32),
                                  (1, 5, 100, 0), (float("nan"), 5, 100, 32)])
def test_virtual_epoch_plan_rejects_nonsense(args: tuple) -> None:
    with pytest.raises(ValueError, match="expected"):
        virtual_epoch_plan(*args)


@settings(max_examples=200, deadline=None)
@given(stop=st.floats(0.05, 200), checkpoints=st.integers(1, 50),
       samples=st.integers(1, 100_000), batch=st.integers(1, 1024))
def test_virtual_epoch_plan_shows_the_examples_asked_for(stop: float, checkpoints: int,
                                                        samples: int, batch: int) -> None:
    plan = virtual_epoch_plan(stop, checkpoints, samples, batch)
    shown = plan.steps_per_epoch * batch * checkpoints
    assert plan.total_examples == int(stop * samples)
    if plan.total_examples >= batch * checkpoints:
        # Never more than asked, and short by less than one batch per checkpoint.
        assert plan.total_examples - batch * checkpoints < shown <= plan.total_examples
    else:
        assert plan.steps_per_epoch == 1


def test_virtual_order_is_whole_shuffled_passes() -> None:
    order = virtual_order(10, 25, np.random.default_rng(0))
    assert len(order) == 25
    for start in (0, 10):
        assert sorted(order[start:start + 10]) == list(range(10))
    assert list(order[:10]) != list(range(10))
    again = virtual_order(10, 25, np.random.default_rng(0))
    assert np.array_equal(order, again)
    assert list(virtual_order(4, 6, None, shuffle=False)) == [0, 1, 2, 3, 0, 1]


# ------------------------------------------------------------------ the event stream


def _plain_types(value: Any, path: str = "event") -> None:
    """Fails on anything but plain Python data and numeric NumPy arrays."""
    if value is None or isinstance(value, (bool, int, float, str)):
        assert type(value) in (bool, int, float, str, type(None)), f"{path}: {type(value)}"
        return
    if isinstance(value, np.ndarray):
        assert value.dtype.kind in "fiub", f"{path}: array of {value.dtype}"
        return
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, str), f"{path}: key {k!r}"
            _plain_types(v, f"{path}[{k!r}]")
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _plain_types(v, f"{path}[{i}]")
        return
    assert is_dataclass(value), f"{path}: {type(value).__module__}.{type(value).__name__}"
    for f in fields(value):
        _plain_types(getattr(value, f.name), f"{path}.{f.name}")


def test_event_stream_order_contents_and_types(make_session) -> None:
    session, rec = make_session(project(epochs=3), progress_interval=0.001,
                                boundary_resolution=20)
    run(session)
    events = rec.events
    assert isinstance(events[0], Started)
    assert isinstance(events[-1], Finished)
    started = events[0]
    assert (started.run, started.epochs, started.initial_epoch) == (1, 3, 0)
    assert (started.samples, started.batch_size, started.steps_per_epoch) == (160, 32, 5)
    assert started.device == "CPU"

    ends = rec.of(EpochEnd)
    assert [e.epoch for e in ends] == [0, 1, 2]
    assert set(ends[0].logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(e.elapsed >= 0 for e in ends)
    assert [e.elapsed for e in ends] == sorted(e.elapsed for e in ends)

    progress = rec.of(BatchProgress)
    assert progress, "no progress events with a 1 ms interval"
    for p in progress:
        assert 1 <= p.step <= p.steps == 5
        assert "loss" in p.logs and "val_loss" not in p.logs
        assert p.samples_per_sec >= 0

    snaps = rec.of(BoundarySnapshot)
    assert snaps[0].epoch == 0 and snaps[0].step == 0  # the untrained model first
    assert snaps[-1].epoch == 2  # and the final state
    grid = snaps[-1].grid
    assert isinstance(grid, BoundaryGrid) and grid.kind == "binary"
    assert grid.values.shape == (20, 20, 1)
    assert np.all((grid.values >= 0) & (grid.values <= 1))

    finished = events[-1]
    assert finished.reason == "completed" and finished.epochs_done == 3
    assert finished.history["loss"] == [e.logs["loss"] for e in ends]
    assert finished.history == session.history
    assert session.epoch == 3 and not session.running

    for event in events:
        _plain_types(event)
        json.dumps(event_to_dict(event), allow_nan=False)
    kept = event_to_dict(snaps[-1], arrays="keep")
    assert kept["grid"]["values"] is grid.values


def test_boundary_matches_predict(make_session) -> None:
    session, rec = make_session(project(epochs=1), boundary_resolution=12)
    run(session)
    grid = rec.of(BoundarySnapshot)[-1].grid
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    direct = session.predict(np.stack([gx.ravel(), gy.ravel()], axis=1))
    assert np.allclose(direct.reshape(12, 12, 1), grid.values, atol=1e-6)


def test_no_boundary_for_inputs_without_a_picture(make_session) -> None:
    data = {"source": "iris", "validation_split": 0.2}
    proj = project(data, units=3, output="softmax", loss="sparse_categorical_crossentropy",
                   input_shape=(4,), epochs=1)
    session, rec = make_session(proj)
    run(session)
    assert rec.last.reason == "completed"
    assert rec.of(BoundarySnapshot) == []


def test_curve_for_one_dimensional_regression(make_session) -> None:
    data = {"source": "sine", "samples": 100, "seed": 0}
    proj = project(data, output="linear", loss="mse", input_shape=(1,), epochs=1)
    session, rec = make_session(proj)
    run(session)
    grid = rec.of(BoundarySnapshot)[-1].grid
    assert grid.kind == "curve" and grid.values.shape == (200, 1) and grid.ys.size == 0
    assert np.allclose(session.predict(grid.xs.reshape(-1, 1)), grid.values, atol=1e-6)


# ------------------------------------------------------------------ controls


def test_stop_ends_the_run_within_one_batch_and_keeps_the_weights(make_session) -> None:
    """Under `model.fit`; the compiled loop stops within one call (test_training_fast)."""
    session, rec = make_session(project(epochs=500), progress_interval=0.001)
    session.fast_path = False
    asked: list[tuple[int, int, int]] = []

    def stop_on_progress(event: Any) -> None:
        if isinstance(event, BatchProgress) and event.epoch >= 1 and not asked:
            asked.append((event.epoch, event.step, event.steps))
            session.stop()  # from the worker thread, in the middle of an epoch

    session.subscribe(stop_on_progress)
    run(session)
    finished = rec.last
    assert finished.reason == "stopped" and "weights are kept" in finished.message
    epoch, step, steps = asked[0]
    # Asked after `step` batches of `epoch`; the batch in flight is the last one.
    assert iterations(session) == epoch * steps + step + 1
    assert finished.epochs_done == epoch + 1 == session.epoch
    assert len(finished.history["loss"]) == epoch + 1

    x = session.dataset.x_val
    trained = session.predict(x)
    assert np.array_equal(trained, session.predict(x))  # the weights stay put
    session.reset_weights()
    assert not np.allclose(trained, session.predict(x))  # and they were trained ones


def test_stop_from_another_thread(make_session) -> None:
    session, rec = make_session(project(epochs=500))
    session.start()
    deadline = time.monotonic() + 30
    while not rec.of(EpochEnd) and time.monotonic() < deadline:
        time.sleep(0.01)
    session.stop()
    assert session.wait(30)
    assert rec.last.reason == "stopped"
    assert rec.last.epochs_done < 500


def test_pause_holds_training_and_resume_finishes_it(make_session) -> None:
    session, rec = make_session(project(epochs=4), progress_interval=0.001)
    paused_once: list[bool] = []

    def pause_early(event: Any) -> None:
        if isinstance(event, BatchProgress) and not paused_once:
            paused_once.append(True)
            session.pause()

    session.subscribe(pause_early)
    session.start()
    deadline = time.monotonic() + 30
    while not session._paused and time.monotonic() < deadline:
        time.sleep(0.01)
    assert session.paused and session.running
    count = len(rec.events)
    before = session.predict(session.dataset.x_val[:5])  # served while paused
    time.sleep(0.3)
    assert len(rec.events) == count, "training went on while paused"
    assert np.array_equal(before, session.predict(session.dataset.x_val[:5]))
    session.resume()
    assert session.wait(60)
    assert not session.paused
    assert rec.last.reason == "completed" and rec.last.epochs_done == 4


def test_continue_carries_on_epochs_history_and_weights(make_session) -> None:
    proj = project(BLOBS, optimizer=ObjectSpec("Adam", {"learning_rate": 0.05}), epochs=2)
    session, rec = make_session(proj)
    run(session)
    first = session.history
    run(session, epochs=3)
    starts = rec.of(Started)
    assert [(s.run, s.initial_epoch, s.epochs) for s in starts] == [(1, 0, 2), (2, 2, 5)]
    assert [e.epoch for e in rec.of(EpochEnd)] == [0, 1, 2, 3, 4]
    history = rec.last.history
    assert len(history["loss"]) == 5 and session.epoch == 5
    assert history["loss"][:2] == first["loss"]  # History continues, it does not restart
    # Continued from trained weights: far below where a fresh model starts.
    assert history["loss"][2] < 0.5 * history["loss"][0]
    assert rec.last.epochs_done == 3


def test_step_epoch_trains_exactly_one_more(make_session) -> None:
    session, rec = make_session(project(epochs=10))
    session.step_epoch()
    assert session.wait(60)
    session.step_epoch()
    assert session.wait(60)
    assert [(s.initial_epoch, s.epochs) for s in rec.of(Started)] == [(0, 1), (1, 2)]
    assert session.epoch == 2 and len(session.history["loss"]) == 2
    assert iterations(session) == 2 * 5


def test_reset_weights_reproduces_the_first_run(make_session) -> None:
    session, rec = make_session(project(epochs=2))
    initial = session.predict(session.dataset.x_val)
    run(session)
    first = session.history
    session.reset_weights()
    assert session.history == {} and session.epoch == 0
    assert np.allclose(session.predict(session.dataset.x_val), initial, rtol=0, atol=1e-7)
    run(session)
    assert rec.of(Started)[-1].initial_epoch == 0
    assert np.allclose(session.history["loss"], first["loss"], rtol=1e-6)


def test_same_seed_same_numbers_across_sessions(make_session) -> None:
    one, _ = make_session(project(epochs=2))
    two, _ = make_session(project(epochs=2))
    run(one)
    run(two)
    assert np.allclose(one.history["loss"], two.history["loss"], rtol=1e-6)


def test_set_compile_keeps_the_weights_and_uses_the_new_optimizer(make_session) -> None:
    session, rec = make_session(project(epochs=2))
    run(session)
    x = session.dataset.x_val
    trained = session.predict(x)
    frozen = CompileSpec(ObjectSpec("SGD", {"learning_rate": 0.0}),
                         ObjectSpec("binary_crossentropy"), (ObjectSpec("accuracy"),))
    session.set_compile(frozen)
    assert np.array_equal(session.predict(x), trained)
    run(session, epochs=1)
    assert rec.last.reason == "completed"
    # A learning rate of 0 moves nothing: the new optimizer is in use, on the old weights.
    assert np.array_equal(session.predict(x), trained)
    assert session.project.compile == frozen
    assert session.epoch == 3


def test_set_project_rebuilds_only_when_the_model_changes(make_session) -> None:
    proj = project(epochs=2)
    session, _ = make_session(proj)
    run(session)
    x = session.dataset.x_val
    trained = session.predict(x)
    session.set_project(proj.replace(fit={**proj.fit, "epochs": 5}))
    assert session.epoch == 2 and np.array_equal(session.predict(x), trained)
    wider = project(layers=(16,), epochs=2)
    session.set_project(wider)
    assert session.epoch == 0 and session.history == {}
    assert session.predict(x).shape == (len(x), 1)
    count = session._call(lambda: session._model.count_params(), 10)
    assert count == 2 * 16 + 16 + 16 + 1


def test_nan_loss_finishes_with_reason_and_words(make_session) -> None:
    data = {"source": "sine", "samples": 200, "seed": 0}
    proj = project(data, output="linear", loss="mse", input_shape=(1,), epochs=50,
                   optimizer=ObjectSpec("SGD", {"learning_rate": 1e4}))
    session, rec = make_session(proj, progress_interval=0.001)
    run(session)
    finished = rec.last
    assert finished.reason == "nan"
    assert finished.epochs_done < 50
    assert finished.message.startswith("the loss became ")
    assert "lower the learning rate (it is 10000.0)" in finished.message
    import re

    assert re.search(r"(NaN|infinite) at epoch \d+ batch \d+;", finished.message)


def test_terminate_on_nan_callback_gives_reason_nan(make_session) -> None:
    data = {"source": "sine", "samples": 200, "seed": 0}
    proj = project(data, output="linear", loss="mse", input_shape=(1,), epochs=50,
                   optimizer=ObjectSpec("SGD", {"learning_rate": 1e4}),
                   callbacks=["TerminateOnNaN"])
    session, rec = make_session(proj, progress_interval=1000)
    run(session)
    assert rec.last.reason == "nan" and rec.last.epochs_done < 50


def test_nan_message_words() -> None:
    assert nan_message(3, 41, float("nan")) == (
        "the loss became NaN at epoch 3 batch 41; lower the learning rate, or standardise the "
        "inputs, then reset the weights and train again")
    assert "infinite" in nan_message(1, 1, float("inf"), 0.5)
    assert "(it is 0.5)" in nan_message(1, 1, float("inf"), 0.5)


def test_predict_and_evaluate(make_session) -> None:
    data = {**CIRCLE, "test_split": 0.1}
    session, _ = make_session(project(data, epochs=1))
    run(session)
    ds = session.dataset
    out = session.predict(ds.x_val)
    assert out.shape == (len(ds.x_val), 1) and out.dtype == np.float32
    big = session.predict(np.zeros((9000, 2), np.float32))  # in parts
    assert big.shape == (9000, 1) and np.allclose(big, big[0])
    # a boundary grid over the visible plane: in equal parts, the last padded; every row's
    # answer is its own (the padding's never shows), as one call for few rows gives it
    grid = np.random.default_rng(1).normal(size=(10_001, 2)).astype(np.float32)
    parts = session.predict(grid)
    assert parts.shape == (10_001, 1)
    assert np.allclose(parts[[0, 5_000, 5_001, 10_000]], session.predict(grid[[0, 5_000, 5_001, 10_000]]),
                       atol=1e-6)
    huge = session.predict(np.zeros((40_000, 2), np.float32))  # model.predict's batches
    assert huge.shape == (40_000, 1) and np.allclose(huge, big[0])
    for split in ("test", "val", "train"):
        result = session.evaluate(split)
        assert set(result) == {"loss", "accuracy"}
        assert all(isinstance(v, float) for v in result.values())
    assert math.isclose(session.evaluate("val")["loss"], session.history["val_loss"][-1],
                        rel_tol=1e-5)
    with pytest.raises(ValueError, match="'test', 'val' or 'train'"):
        session.evaluate("holdout")


def test_evaluate_without_a_test_part_says_how_to_get_one(make_session) -> None:
    session, _ = make_session(project())
    with pytest.raises(ValueError, match="data.test_split"):
        session.evaluate("test")


def test_queries_during_a_run_do_not_disturb_it(make_session) -> None:
    """predict and evaluate between batches leave the run's numbers exactly as without."""
    quiet, _ = make_session(project(epochs=3))
    run(quiet)
    busy, rec = make_session(project(epochs=3), progress_interval=0.001)
    results: list[Any] = []
    ready = threading.Event()
    busy.subscribe(lambda e: ready.set() if isinstance(e, BatchProgress) else None)
    busy.start()
    assert ready.wait(30)
    results.append(busy.predict(busy.dataset.x_val[:4]))
    results.append(busy.evaluate("val"))
    assert busy.wait(60)
    assert results[0].shape == (4, 1) and "loss" in results[1]
    assert rec.last.reason == "completed"
    assert np.allclose(busy.history["loss"], quiet.history["loss"], rtol=1e-6)
    assert np.allclose(busy.history["accuracy"], quiet.history["accuracy"], rtol=1e-6)


def test_only_one_run_at_a_time_and_no_changes_mid_run(make_session) -> None:
    session, _ = make_session(project(epochs=500))
    session.start()
    try:
        with pytest.raises(SessionError, match="already going"):
            session.start()
        with pytest.raises(SessionError, match="stop the run first"):
            session.set_compile(CompileSpec())
        with pytest.raises(SessionError, match="stop the run first"):
            session.reset_weights()
    finally:
        session.stop()
        assert session.wait(30)


def test_close_is_idempotent_and_final(make_session) -> None:
    session, _ = make_session(project(epochs=500))
    session.start()
    session.close()
    session.close()
    assert not session._thread.is_alive()
    assert session.wait(1)
    with pytest.raises(SessionError, match="closed"):
        session.start()
    with pytest.raises(SessionError, match="closed"):
        session.predict(np.zeros((1, 2)))


def test_a_broken_listener_does_not_end_training(make_session, caplog) -> None:
    session, rec = make_session(project(epochs=2))

    def broken(event: Any) -> None:
        raise RuntimeError("view bug")

    session.subscribe(broken)
    run(session)
    assert rec.last.reason == "completed"
    assert "view bug" in caplog.text


def test_listener_may_start_the_next_run(make_session) -> None:
    session, rec = make_session(project(epochs=1))
    chained: list[bool] = []

    def again(event: Any) -> None:
        if isinstance(event, Finished) and not chained:
            chained.append(True)
            session.start(1)

    session.subscribe(again)
    run(session)
    assert session.wait(30)
    # (the per-layer statistics of the Layers view come between them, and are not the point)
    assert [type(e).__name__ for e in rec.events if not isinstance(
        e, (BatchProgress, BoundarySnapshot)) and type(e).__name__ != "LayerStatsEvent"] == [
        "Started", "EpochEnd", "Finished", "Started", "EpochEnd", "Finished"]


# ------------------------------------------------------------------ fit options


def test_virtual_epochs_drive_steps_and_epochs(make_session) -> None:
    proj = project(epochs=99, virtual_epochs={"stop_point": 2.5, "checkpoints": 4})
    session, rec = make_session(proj)
    run(session)
    started = rec.of(Started)[0]
    # 2.5 x 160 = 400 examples; 400 // (32 x 4) = 3 batches per checkpoint.
    assert (started.epochs, started.steps_per_epoch) == (4, 3)
    assert len(rec.of(EpochEnd)) == 4
    assert iterations(session) == 12
    assert rec.last.reason == "completed"


def test_virtual_epochs_stream_large_data_the_same_way(make_session, monkeypatch) -> None:
    proj = project(epochs=99, virtual_epochs={"stop_point": 2.5, "checkpoints": 4})
    arrays, _ = make_session(proj)
    run(arrays)
    from gui_app.core.training import worker

    monkeypatch.setattr(worker, "VIRTUAL_MATERIALISE_LIMIT", 0)
    streamed, rec = make_session(proj)
    run(streamed)
    assert rec.last.reason == "completed"
    assert iterations(streamed) == 12
    assert np.allclose(streamed.history["loss"], arrays.history["loss"], rtol=1e-5)


def _imbalanced(tmp_path: Path) -> dict:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2)).astype(np.float32)
    y = (rng.random(200) < 0.15).astype(np.int64)
    np.savez(tmp_path / "skewed.npz", x=x, y=y)
    return {"source": "npz", "path": "skewed.npz", "validation_split": 0.2, "seed": 0}


def _manual_first_loss(proj: Project, ds: Any, class_weight: dict | None) -> float:
    import keras

    from gui_app.core.build import build_model, compile_model

    keras.utils.set_random_seed(0)
    model = build_model(proj.model)
    compile_model(model, proj.compile)
    history = model.fit(ds.x_train, ds.y_train, batch_size=32, epochs=1, verbose=0,
                        validation_data=(ds.x_val, ds.y_val), class_weight=class_weight)
    return history.history["loss"][0]


def test_class_weight_balanced_and_dict(make_session, tmp_path: Path) -> None:
    data = _imbalanced(tmp_path)
    balanced, _ = make_session(project(data, epochs=1, class_weight="balanced"))
    run(balanced)
    ds = balanced.dataset
    weights = compute_class_weight(ds.y_train, 2)
    assert weights[1] > 2 * weights[0]
    proj = balanced.project
    expected = _manual_first_loss(proj, ds, weights)
    assert math.isclose(balanced.history["loss"][0], expected, rel_tol=1e-5)
    assert not math.isclose(_manual_first_loss(proj, ds, None), expected, rel_tol=1e-3)

    by_hand, _ = make_session(project(data, epochs=1, class_weight={"0": 1.0, "1": 5.0}))
    run(by_hand)
    assert math.isclose(by_hand.history["loss"][0],
                        _manual_first_loss(proj, ds, {0: 1.0, 1: 5.0}), rel_tol=1e-5)


def test_class_weight_on_regression_fails_with_advice(make_session) -> None:
    data = {"source": "sine", "samples": 100, "seed": 0}
    proj = project(data, output="linear", loss="mse", input_shape=(1,), class_weight="balanced")
    session, rec = make_session(proj)
    run(session)
    assert isinstance(rec.last, Failed)
    assert "class_weight" in rec.last.message and "regression" in rec.last.message
    assert rec.of(Started) == []


def test_early_stopping_reason(make_session) -> None:
    proj = project(epochs=20, callbacks=[{"type": "EarlyStopping", "monitor": "loss",
                                          "patience": 0, "min_delta": 10.0}])
    session, rec = make_session(proj)
    run(session)
    finished = rec.last
    assert finished.reason == "early_stopped"
    assert finished.epochs_done == 2
    assert "EarlyStopping" in finished.message and "loss did not improve" in finished.message


def test_file_callbacks_write_beside_the_project(make_session, tmp_path: Path) -> None:
    proj = project(epochs=2, callbacks=[
        {"type": "CSVLogger", "filename": "logs/train.csv"},
        {"type": "ModelCheckpoint", "filepath": "ckpt/best.keras"},
        {"type": "ReduceLROnPlateau", "monitor": "loss", "patience": 1},
    ])
    session, rec = make_session(proj)
    run(session)
    run(session, epochs=1)  # a continued run appends to the same CSV
    assert rec.last.reason == "completed"
    with open(tmp_path / "logs" / "train.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert math.isclose(float(rows[2]["loss"]), session.history["loss"][2], rel_tol=1e-5)
    assert (tmp_path / "ckpt" / "best.keras").is_file()


def test_save_and_load_weights_round_trip(make_session, tmp_path: Path) -> None:
    session, _ = make_session(project(epochs=1))
    run(session)
    x = session.dataset.x_val
    saved = session.predict(x)
    session.save_weights(tmp_path / "w" / "model.weights.h5")
    run(session, epochs=2)
    assert not np.allclose(session.predict(x), saved)
    session.load_weights(tmp_path / "w" / "model.weights.h5")
    assert np.allclose(session.predict(x), saved)
    path = session.save_model(tmp_path / "m" / "model.keras")
    assert path.is_file()
    with pytest.raises(ValueError, match=r"\.keras"):
        session.save_model(tmp_path / "model.h5")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        session.load_weights(tmp_path / "nothing.weights.h5")


# ------------------------------------------------------------------ failures


def test_shape_mismatch_fails_in_words(make_session) -> None:
    session, rec = make_session(project(input_shape=(3,), epochs=1))
    run(session)
    failed = rec.last
    assert isinstance(failed, Failed)
    assert failed.message.startswith("the model does not fit the data")
    assert "shape (2,)" in failed.message
    assert "Traceback" in failed.detail
    assert not session.running


def test_missing_data_file_fails_before_starting(make_session) -> None:
    session, rec = make_session(project({"source": "csv", "path": "missing.csv"}))
    run(session)
    assert [type(e) for e in rec.events] == [Failed]
    assert "data.path" in rec.last.message and "missing.csv" in rec.last.message


def test_device_choices(make_session) -> None:
    with pytest.raises(ValueError, match="'auto'"):
        TrainingSession(project(), device="tpu")
    session, rec = make_session(project(epochs=1), device="cpu")
    assert session.device == "CPU"
    no_gpu, rec = make_session(project(epochs=1), device="gpu")
    run(no_gpu)
    assert isinstance(rec.last, Failed)
    assert "expected GPU 0, found no GPU" in rec.last.message


def test_explain_error_words() -> None:
    oom = explain_error(MemoryError(), {"batch_size": 512, "device": "GPU 0: X"})
    assert oom.startswith("out of memory on GPU 0: X: lower the batch size (512)")
    assert "train on the CPU" in oom
    assert "train on the CPU" not in explain_error(MemoryError(), {"device": "CPU"})
    shape = explain_error(ValueError("Incompatible shapes: [32,1] vs. [32,3]\nmore"),
                          {"input_shape": (2,), "label_shape": ()})
    assert shape.startswith("the model does not fit the data: Incompatible shapes")
    assert "more" not in shape
    assert explain_error(KeyError("x")).startswith("training failed: KeyError")
    tf_style = RuntimeError(
        "Graph execution error:\n\nDetected at node x defined at (most recent call last):\n"
        '  File "trainer.py", line 1, in fit\n\n'
        "Received a label value of 4 which is outside the valid range of [0, 3).  Label "
        "values: 1 4 0\n\t [[{{node loss}}]] [Op:__inference_step]")
    labels = explain_error(tf_style, {"num_classes": 5})
    assert labels == (
        "the labels do not fit the output layer: Received a label value of 4 which is "
        "outside the valid range of [0, 3). The last layer needs one unit per class (the "
        "data has 5 classes); set its units to the number of classes")


def test_circle_trains_to_a_useful_boundary(make_session) -> None:
    """End to end: the default-style project learns the circle (not just runs)."""
    data = {"source": "circle", "samples": 400, "noise": 0.05, "seed": 0,
            "validation_split": 0.2}
    proj = project(data, layers=(16, 16), optimizer=ObjectSpec("Adam", {"learning_rate": 0.05}),
                   epochs=12, batch_size=16)
    session, rec = make_session(proj, boundary_resolution=30)
    run(session)
    assert rec.last.history["val_accuracy"][-1] >= 0.9
    grid = rec.of(BoundarySnapshot)[-1].grid
    centre = grid.values[15, 15, 0]
    corner = grid.values[0, 0, 0]
    assert centre > 0.5 > corner  # inner disk is class 1, the corners are outside
    assert load_dataset(data).x_train.shape == (320, 2)


MIRRORED = """
import json, sys
from gui_app.core.devices import split_cpu
split_cpu(2)  # two logical CPUs stand in for two GPUs
from gui_app.core.spec import *
from gui_app.core.training import TrainingSession
proj = Project(name="m", model=ModelSpec((2,), (LayerSpec("Dense", {"units": 4}),
               LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}))),
               compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"), ()),
               data={"source": "circle", "samples": 200}, fit={"epochs": 2, "seed": 0})
events = []
with TrainingSession(proj, device="all", boundary_resolution=10) as session:
    session.subscribe(events.append)
    session.start()
    session.wait(120)
    replicas = session._call(lambda: session._model.distribute_strategy.num_replicas_in_sync,
                             30)
    session.set_compile(CompileSpec(ObjectSpec("SGD"), ObjectSpec("binary_crossentropy"), ()))
    session.start(1)
    session.wait(120)
print("RESULT " + json.dumps({"replicas": replicas, "last": type(events[-1]).__name__,
      "reason": getattr(events[-1], "reason", getattr(events[-1], "message", "")),
      "epochs": len(events[-1].history.get("loss", [])) if hasattr(events[-1], "history")
      else 0, "snapshots": sum(type(e).__name__ == "BoundarySnapshot" for e in events)}))
"""


def test_device_all_mirrors_the_model_across_replicas() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", MIRRORED], capture_output=True, text=True,
                          env=env, timeout=300, cwd=Path(__file__).resolve().parents[2])
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line is not None, done.stderr[-3000:]
    result = json.loads(line[len("RESULT "):])
    assert result == {"replicas": 2, "last": "Finished", "reason": "completed", "epochs": 3,
                      "snapshots": result["snapshots"]}
    assert result["snapshots"] >= 2


def test_a_session_keeps_numpy_to_one_blas_thread() -> None:
    """A spinning second OpenBLAS thread slows training; the engine turns it off."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from gui_app.core.training import quiet_blas

    assert quiet_blas()
    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert blas, "numpy's BLAS was not found"
    assert all(p["num_threads"] == 1 for p in blas), blas


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="holding threads on cores needs Linux and two cores")
def test_hold_on_core_keeps_a_thread_on_one_core_until_allowed_again() -> None:
    from gui_app.core.training import allow_cores, hold_on_core, keep_off_core

    everywhere = os.sched_getaffinity(0)
    seen: dict[str, object] = {}

    def worker() -> None:
        held = hold_on_core()
        seen["held"] = held
        seen["during"] = os.sched_getaffinity(0)
        allow_cores(held[1])
        seen["after"] = os.sched_getaffinity(0)
        previous = keep_off_core(held[0])
        seen["off"] = os.sched_getaffinity(0)
        allow_cores(previous)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    core, before = seen["held"]
    assert before == everywhere and seen["during"] == {core}
    assert seen["after"] == everywhere
    assert seen["off"] == everywhere - {core}
    assert os.sched_getaffinity(0) == everywhere  # another thread's setting, not ours


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="holding threads on cores needs Linux and two cores")
def test_pin_core_holds_small_models_runs_on_one_core_only(make_session) -> None:
    from gui_app.core.training import PIN_MAX_PARAMS

    everywhere = os.sched_getaffinity(0)
    small, rec = make_session(project(epochs=1))
    small.pin_core = True
    run(small)
    assert rec.of(Started)[0].core in everywhere
    worker = next(t for t in threading.enumerate() if t.name == "layerlab-training")
    assert os.sched_getaffinity(worker.native_id) == everywhere  # let go after the run
    big, rec = make_session(project(epochs=1, layers=(PIN_MAX_PARAMS // 2 + 8, 2)))
    big.pin_core = True  # a bigger model waits on TensorFlow's threads: not held
    run(big)
    assert rec.of(Started)[0].core is None
    unasked, rec = make_session(project(epochs=1))
    run(unasked)
    assert rec.of(Started)[0].core is None
