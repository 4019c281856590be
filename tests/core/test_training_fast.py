"""Tests for the compiled training loop (gui_app/core/training/fast.py).

The loop must give `model.fit`'s numbers, to the last bit where the arithmetic is the
same: the same History, the same weights, the same data order. These tests compare it with
`fit` called directly (no session) and with the session's own `fit` path, and check that
stop, pause, commands and the events' contract work on it, and that runs it cannot serve
use `fit`. Every problem is tiny; nothing here measures wall-clock speed.
"""

from __future__ import annotations

import csv
import math
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gui_app.core.history_views import time_left
from gui_app.core.spec import LayerSpec, ObjectSpec, Project
from gui_app.core.training import (
    BatchProgress,
    BoundarySnapshot,
    EpochEnd,
    Finished,
    Started,
    TrainingSession,
    fast,
)
from gui_app.core.training.plan import _FitPlan

from .test_training import iterations, project, run

SMALL = {"source": "circle", "samples": 100, "noise": 0.1, "seed": 0, "validation_split": 0.2}




def small(**fit: Any) -> Project:
    """80 training samples, batch 16 (5 steps an epoch), 20 for validation."""
    fit.setdefault("batch_size", 16)
    return project(SMALL, **fit)


def direct_fit(proj: Project, ds: Any, epochs: int, callbacks: list | None = None,
               class_weight: dict | None = None) -> tuple[dict[str, list[float]], list]:
    """`model.fit` as a script would call it (`layerlab export` writes this), no session."""
    import keras

    from gui_app.core.build import build_model, compile_model

    keras.backend.clear_session()
    keras.utils.set_random_seed(int(proj.fit["seed"]))
    model = build_model(proj.model)
    compile_model(model, proj.compile)
    history = model.fit(ds.x_train, ds.y_train, batch_size=int(proj.fit["batch_size"]),
                        epochs=epochs, shuffle=bool(proj.fit.get("shuffle", True)),
                        validation_data=(ds.x_val, ds.y_val), verbose=0,
                        class_weight=class_weight, callbacks=callbacks or [])
    return history.history, model.get_weights()


def weights(session: TrainingSession) -> list[np.ndarray]:
    return session._call(lambda: session._model.get_weights(), 10)


def started(rec: Any) -> Started:
    return rec.of(Started)[-1]


def assert_same_history(ours: dict[str, list[float]], theirs: dict[str, list[float]],
                        rtol: float = 1e-6) -> None:
    assert set(ours) == set(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=rtol, atol=1e-7, err_msg=key)


def assert_same_weights(ours: list[np.ndarray], theirs: list[np.ndarray]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ------------------------------------------------------------------ the same numbers as fit


@pytest.mark.parametrize("shuffle", [True, False])
def test_history_and_weights_match_plain_fit(make_session, shuffle: bool) -> None:
    proj = small(epochs=6, shuffle=shuffle)
    session, rec = make_session(proj)
    run(session)
    assert started(rec).fast_path
    theirs, their_weights = direct_fit(proj, session.dataset, 6)
    assert_same_history(session.history, theirs)
    assert_same_weights(weights(session), their_weights)
    # The epoch events carry the same logs, val_* keys included, one per epoch in order.
    ends = rec.of(EpochEnd)
    assert [e.epoch for e in ends] == list(range(6))
    assert all(set(e.logs) == {"loss", "accuracy", "val_loss", "val_accuracy"} for e in ends)
    assert [e.logs["val_loss"] for e in ends] == theirs["val_loss"]


def test_dropout_class_weights_and_several_metrics_match_plain_fit(make_session) -> None:
    """The seed generators (dropout), Keras's class-weight conversion and metrics that are
    not means (precision, recall, AUC) come out as under `fit`."""
    base = small(epochs=4, class_weight={"0": 1.0, "1": 3.0})
    layers = (LayerSpec("Dense", {"units": 16, "activation": "relu"}),
              LayerSpec("Dropout", {"rate": 0.3}),
              LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}))
    metrics = (ObjectSpec("accuracy"), ObjectSpec("Precision"), ObjectSpec("Recall"),
               ObjectSpec("AUC"))
    proj = base.replace(model=base.model.__class__((2,), layers),
                        compile=base.compile.__class__(base.compile.optimizer,
                                                       base.compile.loss, metrics))
    session, rec = make_session(proj)
    run(session)
    assert started(rec).fast_path
    theirs, their_weights = direct_fit(proj, session.dataset, 4, class_weight={0: 1.0, 1: 3.0})
    assert_same_history(session.history, theirs)
    assert_same_weights(weights(session), their_weights)


def test_continued_runs_match_the_fit_path(make_session) -> None:
    """Train, Continue and Step on the loop give what they give under `fit` (kept across
    runs, the loop is traced once)."""
    fast_session, fast_rec = make_session(small(epochs=3))
    plain, plain_rec = make_session(small(epochs=3))
    plain.fast_path = False
    for session in (fast_session, plain):
        run(session)
        run(session, epochs=2)
        session.step_epoch()
        assert session.wait(60)
    assert [s.fast_path for s in fast_rec.of(Started)] == [True, True, True]
    assert [s.fast_path for s in plain_rec.of(Started)] == [False, False, False]
    assert [s.initial_epoch for s in fast_rec.of(Started)] == [0, 3, 5]
    assert fast_session.epoch == plain.epoch == 6
    assert_same_history(fast_session.history, plain.history)
    assert_same_weights(weights(fast_session), weights(plain))
    assert iterations(fast_session) == iterations(plain) == 6 * 5


@pytest.mark.parametrize("target", [1e-9, 1e9], ids=["one-step-calls", "long-calls"])
def test_how_steps_are_split_into_calls_does_not_change_the_numbers(
        make_session, monkeypatch, target: float) -> None:
    """One step per call (every call ends inside an epoch) or as many as allowed (calls
    across epoch ends): the same numbers as `fit`."""
    monkeypatch.setattr(fast, "chunk_target", lambda interval, *_: target)
    proj = small(epochs=5)
    session, rec = make_session(proj)
    run(session)
    assert started(rec).fast_path
    theirs, their_weights = direct_fit(proj, session.dataset, 5)
    assert_same_history(session.history, theirs)
    assert_same_weights(weights(session), their_weights)


def test_virtual_epochs_on_the_loop_match_the_fit_path(make_session) -> None:
    proj = small(epochs=99, virtual_epochs={"stop_point": 2.5, "checkpoints": 4})
    fast_session, fast_rec = make_session(proj)
    plain, _ = make_session(proj)
    plain.fast_path = False
    run(fast_session)
    run(plain)
    assert started(fast_rec).fast_path
    assert (started(fast_rec).epochs, started(fast_rec).steps_per_epoch) == (4, 3)
    assert iterations(fast_session) == 12
    assert_same_history(fast_session.history, plain.history)
    assert_same_weights(weights(fast_session), weights(plain))


def test_epoch_callbacks_run_on_the_loop_with_each_epochs_weights(make_session,
                                                                  tmp_path: Path) -> None:
    """EarlyStopping (restoring the best weights), CSVLogger and ModelCheckpoint see every
    epoch as under `fit`: the loop then never runs past an epoch's end in one call."""
    callbacks = [{"type": "EarlyStopping", "monitor": "val_loss", "patience": 2,
                  "restore_best_weights": True, "min_delta": 0.02},
                 {"type": "CSVLogger", "filename": "logs/run.csv"},
                 {"type": "ModelCheckpoint", "filepath": "ckpt/e{epoch}.keras"}]
    proj = small(epochs=40, callbacks=callbacks,
                 optimizer=ObjectSpec("Adam", {"learning_rate": 0.05}))
    session, rec = make_session(proj)
    run(session)
    plain, plain_rec = make_session(proj, base_dir=tmp_path / "plain")
    plain.fast_path = False
    run(plain)
    assert started(rec).fast_path and not started(plain_rec).fast_path
    assert rec.last.reason == plain_rec.last.reason == "early_stopped"
    assert rec.last.epochs_done == plain_rec.last.epochs_done < 40
    assert_same_history(session.history, plain.history)
    assert_same_weights(weights(session), weights(plain))  # the restored best ones
    with open(tmp_path / "logs" / "run.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == rec.last.epochs_done
    assert [float(r["val_loss"]) for r in rows] == pytest.approx(session.history["val_loss"])
    saved = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert len(saved) == rec.last.epochs_done


# ------------------------------------------------------------------ events, stop, pause


def test_event_stream_on_the_loop(make_session) -> None:
    session, rec = make_session(small(epochs=8), progress_interval=0.001,
                                boundary_resolution=10)
    run(session)
    events = rec.events
    assert isinstance(events[0], Started) and events[0].fast_path
    assert (events[0].steps_per_epoch, events[0].samples) == (5, 80)
    assert isinstance(events[-1], Finished) and events[-1].reason == "completed"
    ends = rec.of(EpochEnd)
    assert [e.epoch for e in ends] == list(range(8))
    assert [e.elapsed for e in ends] == sorted(e.elapsed for e in ends)
    assert events[-1].history["loss"] == [e.logs["loss"] for e in ends]
    progress = rec.of(BatchProgress)
    assert progress, "no progress events with a 1 ms interval"
    for p in progress:
        assert 1 <= p.step <= p.steps == 5
        assert "loss" in p.logs and "val_loss" not in p.logs
    # A progress report at an epoch's last step has that epoch's training logs.
    by_epoch = {e.epoch: e.logs for e in ends}
    for p in progress:
        if p.step == p.steps:
            assert p.logs == {k: v for k, v in by_epoch[p.epoch].items()
                              if not k.startswith("val_")}
    snaps = rec.of(BoundarySnapshot)
    assert (snaps[0].epoch, snaps[0].step) == (0, 0)
    assert snaps[-1].epoch == 7
    grid = snaps[-1].grid
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    direct = session.predict(np.stack([gx.ravel(), gy.ravel()], axis=1))
    assert np.allclose(direct.reshape(10, 10, 1), grid.values, atol=1e-6)


def test_stop_ends_the_run_within_one_call_and_finishes_the_epoch(make_session,
                                                                  monkeypatch) -> None:
    """With one step per call the loop stops as `fit` does, ending that epoch with
    validation; a stop asked from a progress report (made between two calls) is seen
    before the next call, so no step runs after it."""
    monkeypatch.setattr(fast, "chunk_target", lambda interval, *_: 1e-9)
    session, rec = make_session(small(epochs=500), progress_interval=0.001)
    asked: list[tuple[int, int, int]] = []

    def stop_inside_an_epoch(event: Any) -> None:
        if isinstance(event, BatchProgress) and event.epoch >= 1 and event.step < event.steps \
                and not asked:
            asked.append((event.epoch, event.step, event.steps))
            session.stop()

    session.subscribe(stop_inside_an_epoch)
    run(session)
    finished = rec.last
    assert started(rec).fast_path
    assert finished.reason == "stopped" and "weights are kept" in finished.message
    epoch, step, steps = asked[0]
    assert iterations(session) == epoch * steps + step
    assert finished.epochs_done == epoch + 1 == session.epoch
    last = rec.of(EpochEnd)[-1]
    assert last.epoch == epoch and "val_loss" in last.logs
    assert f"in epoch {epoch + 1} after {step} batch(es)" in finished.message
    x = session.dataset.x_val
    assert np.array_equal(session.predict(x), session.predict(x))


def test_stop_from_another_thread_on_long_calls(make_session) -> None:
    session, rec = make_session(small(epochs=100_000))
    session.start()
    deadline = time.monotonic() + 60
    while len(rec.of(EpochEnd)) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    session.stop()
    assert session.wait(30)
    finished = rec.last
    assert started(rec).fast_path
    assert finished.reason == "stopped" and 3 <= finished.epochs_done < 100_000
    assert len(finished.history["loss"]) == finished.epochs_done == session.epoch
    # Every epoch trained was ended and reported; the last may be a stopped one.
    assert 5 * (finished.epochs_done - 1) < iterations(session) <= 5 * finished.epochs_done


def test_stop_before_the_first_call_trains_nothing(make_session) -> None:
    session, rec = make_session(small(epochs=50))

    def stop_at_start(event: Any) -> None:
        if isinstance(event, Started):
            session.stop()

    session.subscribe(stop_at_start)
    run(session)
    assert started(rec).fast_path
    assert rec.last.reason == "stopped" and rec.last.epochs_done == 0
    assert rec.last.message == "stopped before training began"
    assert iterations(session) == 0 and session.epoch == 0


def test_calls_get_short_once_a_command_was_served(make_session, monkeypatch) -> None:
    """A predict waits for the compiled call in flight: after one is served, calls aim
    for QUICK_CHUNK_SECONDS (the next click's answer waits less), and not before."""
    asked: list[tuple[float, float]] = []  # (seconds since a command, target)
    real = fast.chunk_target

    def recording(interval: float, since: float = math.inf) -> float:
        target = real(interval, since)
        asked.append((since, target))
        return target

    monkeypatch.setattr(fast, "chunk_target", recording)
    session, rec = make_session(small(epochs=400))
    session.start()
    deadline = time.monotonic() + 60
    while len(asked) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    before = len(asked)
    assert before >= 5 and all(t != fast.QUICK_CHUNK_SECONDS for _, t in asked[:before])
    session.predict(session.dataset.x_val[:1])
    while len(asked) < before + 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    session.stop()
    assert session.wait(60)
    after = asked[before:]
    assert any(since < fast.INTERACTIVE_SECONDS and target == fast.QUICK_CHUNK_SECONDS
               for since, target in after)
    assert real(0.1, since_command=0.5) == fast.QUICK_CHUNK_SECONDS
    assert real(0.1, since_command=fast.INTERACTIVE_SECONDS) == fast.CHUNK_SECONDS


def test_pause_holds_the_loop_and_serves_commands(make_session, monkeypatch) -> None:
    monkeypatch.setattr(fast, "chunk_target", lambda interval, *_: 1e-9)
    session, rec = make_session(small(epochs=6), progress_interval=0.001)
    paused_once: list[bool] = []

    def pause_early(event: Any) -> None:
        if isinstance(event, BatchProgress) and not paused_once:
            paused_once.append(True)
            session.pause()

    session.subscribe(pause_early)
    session.start()
    deadline = time.monotonic() + 60
    while not session._paused and time.monotonic() < deadline:
        time.sleep(0.01)
    assert session.paused and session.running
    count = len(rec.events)
    steps = iterations(session)  # served while paused
    before = session.predict(session.dataset.x_val[:5])
    scores = session.evaluate("val")
    time.sleep(0.3)
    assert len(rec.events) == count, "training went on while paused"
    assert iterations(session) == steps
    assert np.array_equal(before, session.predict(session.dataset.x_val[:5]))
    session.resume()
    assert session.wait(60)
    assert rec.last.reason == "completed" and rec.last.epochs_done == 6
    assert set(scores) >= {"loss", "accuracy"}
    theirs, _ = direct_fit(session.project, session.dataset, 6)
    assert_same_history(session.history, theirs)  # the evaluate left the epoch's metrics


def test_nan_loss_ends_the_loop_with_reason(make_session) -> None:
    data = {"source": "sine", "samples": 200, "seed": 0}
    proj = project(data, output="linear", loss="mse", input_shape=(1,), epochs=50,
                   optimizer=ObjectSpec("SGD", {"learning_rate": 1e4}))
    session, rec = make_session(proj, progress_interval=1000)
    run(session)
    assert started(rec).fast_path
    finished = rec.last
    assert finished.reason == "nan" and finished.epochs_done < 50
    assert not math.isfinite(finished.history["loss"][-1])
    assert all(math.isfinite(v) for v in finished.history["loss"][:-1])


# ------------------------------------------------------------------ fit where the loop can't


@pytest.mark.parametrize("fit_settings", [
    {"callbacks": ["TerminateOnNaN"]},  # works per batch
    {"steps_per_epoch": 5},  # reads batches across epoch ends
], ids=["per-batch-callback", "steps_per_epoch"])
def test_runs_the_loop_cannot_serve_use_fit(make_session, fit_settings: dict) -> None:
    session, rec = make_session(small(epochs=2, **fit_settings))
    run(session)
    assert rec.last.reason == "completed"
    assert not started(rec).fast_path
    assert len(session.history["loss"]) == 2


def test_streamed_virtual_epochs_and_the_switch_use_fit(make_session, monkeypatch) -> None:
    from gui_app.core.training import worker

    off, off_rec = make_session(small(epochs=1))
    off.fast_path = False
    run(off)
    assert not started(off_rec).fast_path
    monkeypatch.setattr(worker, "VIRTUAL_MATERIALISE_LIMIT", 0)
    streamed, rec = make_session(small(epochs=9, virtual_epochs={"stop_point": 1,
                                                                "checkpoints": 2}))
    run(streamed)
    assert rec.last.reason == "completed" and not started(rec).fast_path


def test_a_trace_that_fails_leaves_the_run_to_fit(make_session, monkeypatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("no loop today")

    monkeypatch.setattr(fast.CompiledLoop, "_trace", broken)
    session, rec = make_session(small(epochs=2))
    run(session)
    assert rec.last.reason == "completed" and not started(rec).fast_path


def test_fast_problem_names_what_needs_fit() -> None:
    import keras

    x = np.zeros((10, 2), np.float32)
    y = np.zeros(10, np.int64)
    plan = _FitPlan(x, y, 5, 2, None, 3, 0, True, None, None, 10)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    assert fast.fast_problem(model, plan, [], "auto", False) is None
    batchy = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: None)
    assert "per batch" in fast.fast_problem(model, plan, [batchy], "auto", False)
    epochly = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    assert fast.fast_problem(model, plan, [epochly], "auto", False) is None
    assert "several GPUs" in fast.fast_problem(model, plan, [], "all", False)
    every_batch = keras.callbacks.ModelCheckpoint("m.keras", save_freq=2)
    assert "per batch" in fast.fast_problem(model, plan, [every_batch], "auto", False)
    assert fast.fast_problem(model, plan, [keras.callbacks.ModelCheckpoint("m.keras")],
                             "auto", False) is None
    big = _FitPlan(np.zeros((fast.FAST_MAX_BYTES // 8 + 1, 2), np.float32), y, 5, 2, None, 3,
                   0, True, None, None, 10)
    assert "MiB" in fast.fast_problem(model, big, [], "auto", False)
    eager = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    eager.compile("adam", "mse", run_eagerly=True)
    assert "eagerly" in fast.fast_problem(eager, plan, [], "auto", False)


def test_epoch_orders_follow_fit() -> None:
    import keras

    keras.utils.set_random_seed(3)
    seeded = fast.EpochOrders(50, 8, 7, shuffle=True, seeded=True)
    assert seeded.rows(0, 3).shape == (1, 50)  # one permutation for every epoch
    assert sorted(seeded.rows(0, 1)[0]) == list(range(50))
    assert not np.array_equal(seeded.rows(0, 1)[0], np.arange(50))
    fresh = fast.EpochOrders(50, 8, 7, shuffle=True, seeded=False)
    rows = fresh.rows(2, 2)
    assert rows.shape == (2, 50) and not np.array_equal(rows[0], rows[1])
    assert np.array_equal(fresh.rows(3, 1)[0], rows[1])  # an epoch keeps its order
    assert np.array_equal(fast.EpochOrders(5, 2, 3, False, True).rows(0, 4), [np.arange(5)])
    virtual = fast.EpochOrders(24, 4, 3, False, True, virtual=True)
    assert np.array_equal(virtual.rows(1, 2), np.arange(12, 36).reshape(2, 12))


def test_chunk_sizer_starts_small_then_follows_the_pace() -> None:
    sizer = fast.ChunkSizer(0.05)
    assert sizer.next(1000) == 1
    sizer.took(0.5, 1)  # the first call: one-time work, not the pace
    assert sizer.per_step is None and sizer.next(1000) == 4
    sizer.took(0.004, 4)
    assert sizer.next(1000) == 16  # 50 wanted, at most four times the last
    sizer.took(0.016, 16)
    assert sizer.next(1000) == 50
    assert sizer.next(7) == 7  # never past the limit
    assert fast.chunk_target(0.1) == fast.CHUNK_SECONDS
    assert fast.chunk_target(0.001) == fast.MIN_CHUNK_SECONDS


# ------------------------------------------------------------------ time left


@pytest.mark.parametrize("fast_path", [True, False], ids=["loop", "fit"])
def test_warmup_is_reported_so_time_left_goes_by_the_steady_pace(make_session,
                                                                 fast_path: bool) -> None:
    session, rec = make_session(small(epochs=6), progress_interval=0.001)
    session.fast_path = fast_path
    run(session)
    assert started(rec).fast_path is fast_path
    ends = rec.of(EpochEnd)
    reports = [e for e in rec.events if isinstance(e, (EpochEnd, BatchProgress))]
    # Warm-up (tracing, the first call) is part of the elapsed time and never shrinks much.
    assert all(0 <= e.warmup <= e.elapsed for e in reports)
    assert ends[0].warmup > 0
    if fast_path:
        assert len({e.warmup for e in ends}) == 1  # all of it in the first call
    # From the first epoch on, the estimate discounts it: never above the naive one, and
    # there is a steady pace to go by (the first epoch took several calls).
    for i, end in enumerate(ends):
        fraction = (i + 1) / len(ends)
        steady = time_left(end.elapsed, fraction, end.warmup)
        naive = time_left(end.elapsed, fraction)
        if fast_path or i:
            assert steady is not None
        if steady is not None:
            assert steady <= naive
    assert time_left(ends[-1].elapsed, 1.0, ends[-1].warmup) == 0.0


def test_the_traced_loop_is_kept_across_runs_until_the_compile_changes(make_session) -> None:
    """Continue and Step reuse the traced loop (as Keras keeps `train_function`), so their
    warm-up is one call, not a trace; a new optimizer needs a new loop."""
    session, rec = make_session(small(epochs=2))
    run(session)
    loop = session._fast_loop
    assert loop is not None
    run(session, epochs=1)
    assert session._fast_loop is loop
    session.set_compile(session.project.compile.__class__(
        ObjectSpec("SGD", {"learning_rate": 0.1}), session.project.compile.loss,
        session.project.compile.metrics))
    assert session._fast_loop is None
    run(session, epochs=1)
    assert session._fast_loop is not None and session._fast_loop is not loop
    assert [s.fast_path for s in rec.of(Started)] == [True, True, True]
    session.reset_weights()
    assert session._fast_loop is None


def test_events_from_the_loop_travel_to_a_listener_in_order_from_threads(
        make_session) -> None:
    """Listeners on another thread see every epoch once, in order, however many a call
    holds (the engine forwards them to the window this way)."""
    session, rec = make_session(small(epochs=60))
    seen: list[int] = []
    lock = threading.Lock()

    def listener(event: Any) -> None:
        if isinstance(event, EpochEnd):
            with lock:
                seen.append(event.epoch)

    session.subscribe(listener)
    run(session)
    assert seen == list(range(60))
