"""The learning-rate range test on a session's worker thread: Keras's half of `core.lr_find`.

`TrainingSession.lr_find` queues `run_lr_find` on the worker thread, like a run (Keras
keeps its settings per thread, and the worker owns every model of the session). The sweep
trains a copy of the model, built from the project as Train builds it (seeded, so with the
weights Train starts from) or holding the session's trained weights, with a fresh
optimizer: the one a run gets after "Use this rate" (a changed compile section starts the
optimizer afresh, see `TrainingSession.set_compile`). The session's own model, its
optimizer, its compiled loop and its history are never touched, so nothing needs to be put
back afterwards and nothing can be left half-restored by an error.

The rate is set before every batch by `LRRangeTest`, a plain Keras callback, through the
optimizer's `learning_rate` variable (`assign`): the same on every backend. On JAX,
reading `self.model` from a callback syncs the jitted state into the variables, and the
next step reads them back, so the rate set there is the one the step uses (Keras's own
`LearningRateScheduler` relies on this). The loss of each batch alone comes from resetting
the model's metrics before it: Keras's logs hold the epoch's running mean.
"""

from __future__ import annotations

import logging
import math
import random
import time
import traceback
from dataclasses import replace
from typing import Any

import numpy as np

from ..lr_find import LRFindEvent, RangeTest, choose_steps, final_event, progress_event
from .hygiene import _forget_custom_gradients, _gradient_keys
from .messages import SessionError, _first_line, explain_error
from .plan import virtual_order

log = logging.getLogger(__name__)

_CALLBACK_TYPE: type | None = None


def callback_type() -> type:
    """`LRRangeTest`, a `keras.callbacks.Callback` (Keras is imported only here)."""
    global _CALLBACK_TYPE
    if _CALLBACK_TYPE is None:
        import keras

        class LRRangeTest(keras.callbacks.Callback):
            """Sets each batch's rate from a `RangeTest` and records its loss.

            Args:
                test: the sweep (rates, smoothing, when to stop).
                should_stop: polled after each batch (the person pressed Stop).
                after_batch: called after each recorded batch (progress events, commands).
            """

            def __init__(self, test: RangeTest, should_stop: Any, after_batch: Any) -> None:
                super().__init__()
                self.test = test
                self.should_stop = should_stop
                self.after_batch = after_batch
                self.batches = 0

            def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
                model = self.model  # on JAX: syncs the state, so the step reads the rate
                model.optimizer.learning_rate.assign(self.test.rate(self.batches))
                model.reset_metrics()  # the logs then hold this batch's loss alone

            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                self.batches += 1
                loss = (logs or {}).get("loss", math.nan)
                done = self.test.record(float(loss))
                self.after_batch()
                if done or self.should_stop():
                    self.model.stop_training = True

        _CALLBACK_TYPE = LRRangeTest
    return _CALLBACK_TYPE


def run_lr_find(session: Any, find: int, trained: bool, steps: int | None) -> LRFindEvent:
    """Runs one sweep on the worker thread and returns its last event (also emitted).

    The session's busy state (set by `TrainingSession.lr_find`) is cleared at the end,
    whatever happens.

    Raises:
        SessionError: in words, when the sweep could not run (no trained weights to start
            from, data that cannot be loaded, a model Keras refuses to train).
    """
    start = "trained" if trained else "fresh"
    test: RangeTest | None = None
    try:
        if session._stop.is_set():
            raise SessionError("stopped before the learning-rate sweep began")
        test, event = _sweep(session, find, trained, steps, start)
        return event
    except Exception as exc:
        message = explain_error(exc, session._context())
        log.debug("the learning-rate sweep failed:\n%s", traceback.format_exc())
        session._emit(LRFindEvent(find, test.steps if test else 0,
                                  test.lrs if test else np.zeros(0),
                                  test.losses if test else np.zeros(0), True,
                                  reason="failed", message=message, start=start))
        if isinstance(exc, SessionError):
            raise
        raise SessionError(message) from None
    finally:
        with session._cv:
            session._busy = False
            session._stopping = False
            session._pending_runs -= 1
            session._cv.notify_all()


def _sweep(session: Any, find: int, trained: bool, steps: int | None, start: str
           ) -> tuple[RangeTest, LRFindEvent]:
    from ..project import checked_fit

    if session._startup_error is not None:
        raise SessionError(f"Keras could not start: {_first_line(session._startup_error)}")
    if trained and session._model is None:
        raise SessionError("there are no trained weights to start the sweep from: train "
                           "the model first, or start from fresh weights")
    keras = session._keras
    project = session._project
    fit = checked_fit(project.fit)
    ds = session.dataset
    batch = int(fit.batch_size)
    count = len(ds.x_train)
    test = RangeTest(int(steps) if steps else choose_steps(count, batch))
    model, before = _copy_model(session, keras, project, fit, trained)
    try:
        rate = model.optimizer.learning_rate
        if not hasattr(rate, "assign"):
            raise SessionError("compile.optimizer.learning_rate: expected a number, got a "
                               "schedule; the sweep sets the rate itself, so give the "
                               "optimizer a plain learning rate")
        last = [time.perf_counter()]

        def after_batch() -> None:
            if session._attention:  # a prediction asked for meanwhile (the window's views)
                session._attention = False
                session._run_light()
            now = time.perf_counter()
            if now - last[0] >= session.progress_interval:
                last[0] = now
                session._emit(progress_event(test, find, start))

        callback = callback_type()(test, session._stop.is_set, after_batch)
        kwargs: dict[str, Any] = {"epochs": 1, "shuffle": False, "verbose": 0,
                                  "callbacks": [callback]}
        if getattr(ds, "streamed", False):  # image files: a pipeline that repeats
            stream = session._image_stream("train", batch, True, fit.seed, True)
            model.fit(stream, steps_per_epoch=test.steps, **kwargs)
        else:
            rng = np.random.default_rng(fit.seed)
            order = virtual_order(count, test.steps * batch, rng, True)
            model.fit(ds.x_train[order], ds.y_train[order], batch_size=batch, **kwargs)
    finally:
        del model
        _forget_custom_gradients(before)  # the copy's training graph goes with it
    reason = test.reason or ("stopped" if session._stop.is_set() else "end")
    event = final_event(test, find, start, reason)
    if event.suggested_lr is None and len(test.losses) > 1 and _inputs_all_alike(ds):
        event = replace(event, message=f"{event.message} Here every training input is the "
                        "same, so the model has nothing to learn from: check the data's "
                        "feature columns.")
    session._emit(event)
    return test, event


def _inputs_all_alike(ds: Any) -> bool:
    """True when every training sample's inputs are equal (a constant feature column, or
    columns standardised to all zeros): the one data mistake no learning rate can undo."""
    x = ds.x_train
    if getattr(ds, "streamed", False) or len(x) < 2:
        return False
    rows = np.asarray(x).reshape(len(x), -1)
    return bool(np.all(rows.max(axis=0) == rows.min(axis=0)))


def _copy_model(session: Any, keras: Any, project: Any, fit: Any, trained: bool
                ) -> tuple[Any, set[str] | None]:
    """The model the sweep trains, and TensorFlow's gradient registry before it was made.

    Built as `_ensure_model` builds the session's (seeded, in the device strategy's
    scope), with the project's loss and optimizer and no metrics (the sweep reads only
    the loss); given the session's weights when `trained`.
    """
    from ..build import build_model, compile_model

    before = _gradient_keys(keras)
    # Python's and NumPy's global generators as they were: the seed is set for the copy's
    # weights only, not for what the session does next
    states = random.getstate(), np.random.get_state()
    try:
        with session._strategy_scope():
            if fit.seed is not None and not trained:
                keras.utils.set_random_seed(int(fit.seed))
            model = build_model(project.model, name="lr_find")
            compile_model(model, replace(project.compile, metrics=()))
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
    if trained:
        model.set_weights(session._model.get_weights())
    return model, before


__all__ = ["callback_type", "run_lr_find"]
