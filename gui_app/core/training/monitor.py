"""The engine's Keras callback: progress, pictures, pause and stop between batches.

Keras calls it on every batch, so it is kept apart from the session and reaches the
session only through `MonitorHost`, a handful of flags and calls; the speed notes in the
package's docstring are mostly about this module.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from ..boundary import BoundaryProbe
from .events import BatchProgress, BoundarySnapshot, EpochEnd, Event
from .plan import _FitPlan

log = logging.getLogger(__name__)


class MonitorHost(Protocol):
    """What a `_Monitor` may use of the session that runs it, and nothing else.

    The worker hands each run's monitor one of these (`worker._MonitorLink`); the monitor
    never touches the session's private state. All of it is used on the worker thread.

    Read before or after every batch, so each is a plain read (no lock, no call into Keras):

    - `progress_interval`: seconds between progress reports and boundary snapshots; a view
      may change it during a run.
    - `attention`: True when something waits for the worker between batches (a command, a
      pause or a stop); the monitor then calls `serve_commands` and reads the flags below.
    - `stopping`: True once a stop was requested (ends the run with the current batch).

    Read or called between batches, when `attention` was set:

    - `stop_requested`, `pause_requested`: whether a stop or a pause was asked for.
    - `serve_commands()`: clears `attention` and runs the queued light commands (predict,
      evaluate, save...), so they run between two batches.
    - `wait_while_paused()`: blocks until resumed or stopped, serving commands meanwhile.

    Reporting:

    - `emit(event)`: hands an event to the session's listeners.
    - `record_epoch(epoch, logs)`: adds an epoch's logs to the session's history.
    - `quick_predictor(model)`: the forward pass for a boundary snapshot.
    """

    @property
    def progress_interval(self) -> float: ...

    @property
    def attention(self) -> bool: ...

    @property
    def stopping(self) -> bool: ...

    @property
    def stop_requested(self) -> bool: ...

    @property
    def pause_requested(self) -> bool: ...

    def serve_commands(self) -> None: ...

    def wait_while_paused(self) -> None: ...

    def emit(self, event: Event) -> None: ...

    def record_epoch(self, epoch: int, logs: dict[str, float]) -> None: ...

    def quick_predictor(self, model: Any) -> Callable[[Any], Any]: ...


class _Monitor:
    """The engine's Keras callback (mixed into `keras.callbacks.Callback` lazily).

    Per batch it runs `on_train_batch_begin` (synchronously, where pause and commands are
    served and progress is sampled) and a one-flag `on_train_batch_end` for stopping.
    The compiled loop (fast.py) drives the same object with a compiled call where `fit`
    has a batch: `between_chunks` before it, `on_train_batch_end` after it, and the epoch
    hooks for every epoch that ended inside it.
    """

    def __init__(self, host: MonitorHost, run: int, plan: _FitPlan,
                 probe: BoundaryProbe | None) -> None:
        super().__init__()  # keras.callbacks.Callback
        self.host = host
        self.run = run
        self.plan = plan
        self.probe = probe
        self.last_epoch = plan.initial_epoch + plan.epochs_in_run - 1
        self.epoch = plan.initial_epoch
        self.batch = 0
        self.epochs_done = 0
        self.stopped_by_user = False
        self.stopped_by_callback = False
        self.nan: tuple[int, int, float] | None = None
        self.t0 = time.perf_counter()
        self.paused_for = 0.0
        self.next_tick = self.t0 + self.interval
        self.last_snap = self.t0
        #: When commands were last served between batches (-inf: never this run).
        self.served_at = -math.inf
        self.tick_time = self.t0
        self.tick_done = 0
        #: Seconds of `elapsed` spent on one-time work (tracing and compiling the training
        #: and validation functions), which the time-left estimate leaves out.
        self.warmup = 0.0
        self._warming = True  # until the first batch of the run has ended (fit only)
        self._val_began = 0.0
        self._val_seconds: list[float] = []  # the run's first two validation passes
        #: False for an epoch that ended inside a compiled call with more after it: the
        #: weights are already those of a later epoch (set by the compiled loop).
        self.snapshot_at_epoch_end = True

    @property
    def interval(self) -> float:
        """The session's progress interval, read at each report: a view may change it
        during a run (to match the pictures it can draw to its redraw rate)."""
        return self.host.progress_interval

    #: Keras may call `on_train_batch_end` from a thread pool (on JAX), which is fine for
    #: the one flag it sets; declaring it keeps Keras's asynchronous log handling on.
    async_safe = True

    # -- the per-batch path: keep it to a few attribute reads ---------------------------
    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self.batch = batch
        if self._warming and batch:
            self._warmed()
        if self.host.attention:
            self._attend(batch)
        if batch and time.perf_counter() >= self.next_tick:
            self._tick(batch)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        # Keras checks `stop_training` right after this hook, so a stop requested during a
        # batch ends the run with that batch.
        if self.host.stopping:
            self.stopped_by_user = True
            self.raw_model.stop_training = True

    # -- everything else ----------------------------------------------------------------
    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self.raw_model = model  # no JAX state sync on access, unlike `self.model`

    def elapsed(self, now: float | None = None) -> float:
        return (time.perf_counter() if now is None else now) - self.t0 - self.paused_for

    def on_train_begin(self, logs: Any = None) -> None:
        self.t0 = self.tick_time = time.perf_counter()
        self.next_tick = self.t0 + self.interval
        if self.probe is not None:
            self._snapshot(self.plan.initial_epoch, 0)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = epoch
        self.batch = 0

    def _tick(self, batch: int, logs: dict[str, float] | None = None,
              epoch: int | None = None) -> None:
        """A progress report after `batch` batches of `epoch` (the current one): the
        running logs read from the model, or `logs` when the caller has them already."""
        now = time.perf_counter()
        # A steady cadence (a tick waits for a batch to end, so `now + interval` would
        # drift to fewer reports than asked for), without a burst after a slow batch.
        self.next_tick = max(self.next_tick + self.interval, now + 0.5 * self.interval)
        if epoch is None:
            epoch = self.epoch
        if logs is None:
            try:
                model = self.model  # syncs JAX state
                logs = _floats(model.get_metrics_result())
            except Exception:  # a progress report must never end training
                log.exception("reading the running logs failed")
                return
        done = (epoch - self.plan.initial_epoch) * self.plan.steps_per_epoch + batch
        dt = now - self.tick_time
        rate = (done - self.tick_done) * self.plan.batch_size / dt if dt > 0 else 0.0
        self.tick_time, self.tick_done = now, done
        self.host.emit(BatchProgress(self.run, epoch, batch, self.plan.steps_per_epoch,
                                     logs, float(rate), self.elapsed(now), self.warmup))
        if self.host.stopping:  # a listener asked: this batch is the last (on every backend)
            self.stopped_by_user = True
            self.raw_model.stop_training = True
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss) and self.nan is None:
            self.nan = (epoch, batch, loss)
            self.raw_model.stop_training = True
            return
        if self.probe is not None:
            self._snapshot(epoch, batch)

    # -- warm-up: what the time-left estimate leaves out ---------------------------------
    def _warmed(self) -> None:
        """The run's first batch has ended: under `fit` it includes tracing the training
        function, seconds that later batches do not take."""
        self._warming = False
        self.warmup += max(0.0, time.perf_counter() - self.t0)

    def on_test_begin(self, logs: Any = None) -> None:
        if len(self._val_seconds) < 2:
            self._val_began = time.perf_counter()

    def on_test_end(self, logs: Any = None) -> None:
        """Validation under `fit`: the first pass includes tracing the test function,
        counted as warm-up beyond what the second pass takes."""
        if len(self._val_seconds) >= 2 or not self._val_began:
            return
        seconds = time.perf_counter() - self._val_began
        self._val_seconds.append(seconds)
        if len(self._val_seconds) == 1:
            self.warmup += seconds
        else:
            self.warmup -= min(seconds, self._val_seconds[0])

    # -- the compiled loop's calls (fast.py): a compiled call where fit has a batch ------
    def add_warmup(self, seconds: float) -> None:
        """The compiled loop's first call, which includes TensorFlow's one-time work."""
        self._warming = False
        self.warmup += max(0.0, seconds)

    def between_chunks(self, done: int) -> None:
        """Before a compiled call, `done` batches into the epoch: queued commands, pause,
        stop and a due progress report, as before a batch under `fit`."""
        if self.host.attention:
            self._attend(done)
        if done and time.perf_counter() >= self.next_tick:
            self._tick(done)

    def report_if_due(self, epoch: int, step: int, logs: dict[str, float]) -> None:
        """A progress report for an epoch that ended inside a compiled call (its logs
        after `step` batches, from the call), when one is due: the batch curves then go on
        at the progress rate however many epochs a call holds."""
        if time.perf_counter() >= self.next_tick:
            self._tick(step, logs, epoch)

    def _snapshot(self, epoch: int, step: int) -> None:
        self.last_snap = time.perf_counter()
        probe = self.probe
        if probe is None:
            return
        try:
            grid = probe.snapshot(self.host.quick_predictor(self.model))
        except Exception:
            log.exception("the decision-boundary snapshot failed; no more snapshots this run")
            self.probe = None
            return
        self.host.emit(BoundarySnapshot(self.run, epoch, step, grid))

    def _attend(self, batch: int) -> None:
        host = self.host
        host.serve_commands()
        self.served_at = time.perf_counter()
        if host.stop_requested:
            self.stopped_by_user = True
            self.raw_model.stop_training = True
            return
        if host.pause_requested:
            if batch:
                self._tick(batch)  # fresh numbers for the paused view
            started = time.perf_counter()
            host.wait_while_paused()
            pause = time.perf_counter() - started
            self.paused_for += pause
            self.tick_time += pause
            self.next_tick = time.perf_counter() + self.interval
            if host.stop_requested:
                self.stopped_by_user = True
                self.raw_model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        values = _floats(logs or {})
        self.epochs_done += 1
        steps = self.batch + 1
        if self._warming:  # a one-batch epoch: the batch and the first validation
            self._warming = False
            began = self._val_began or time.perf_counter()
            self.warmup += max(0.0, began - self.t0)
        self.host.record_epoch(epoch, values)
        loss = values.get("loss")
        if loss is not None and not math.isfinite(loss) and self.nan is None:
            self.nan = (epoch, steps, loss)
            self.raw_model.stop_training = True
        elif self.raw_model.stop_training and not self.stopped_by_user and self.nan is None:
            self.stopped_by_callback = True
        self.host.emit(EpochEnd(self.run, epoch, values, self.elapsed(), self.warmup))
        if self.probe is not None and self.snapshot_at_epoch_end and (
            epoch >= self.last_epoch
            or self.raw_model.stop_training
            or time.perf_counter() - self.last_snap >= self.interval
        ):
            self._snapshot(epoch, steps)


def _floats(logs: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in logs.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue  # a non-numeric log entry has nothing to plot
    return out


_CALLBACK_TYPE: type | None = None


def _callback_type() -> type:
    """`_Monitor` mixed into `keras.callbacks.Callback` (Keras is imported only here)."""
    global _CALLBACK_TYPE
    if _CALLBACK_TYPE is None:
        import keras

        _CALLBACK_TYPE = type("LayerLabMonitor", (_Monitor, keras.callbacks.Callback), {})
    return _CALLBACK_TYPE
