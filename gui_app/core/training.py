"""The training session: `model.fit` on a worker thread that streams plain-data events.

One long-lived worker thread per session owns the Keras model and serves a command queue
(build, fit, predict, evaluate, save...). Keras keeps its settings per thread, so the
model is built, compiled, trained and queried on that thread only; callers get results
through futures and listeners get events, never Keras objects or tensors.

Speed is the point of most of the design choices here, measured by
`benchmarks/training_overhead.py` against plain `model.fit(verbose=0)`:

- The engine does its per-batch work in `on_train_batch_begin`, which gets no logs, so
  the per-batch cost is a couple of attribute reads. Its `on_train_batch_end` only reads
  the stop flag and is declared `async_safe`: a plain callback there would make Keras
  convert every batch's logs to Python floats on the training thread (on JAX it otherwise
  does that asynchronously), forcing a device sync per batch.
- Logs are read from the model (`get_metrics_result`) only every `progress_interval`
  seconds, and the decision-boundary forward pass (one compiled call on a fixed grid) runs
  on the same clock, so the sync cost is paid a few times a second, not per batch.
- Epoch-end logs are already Python floats (Keras converts them for its own callbacks),
  so every epoch is reported for free.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import math
import os
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .boundary import BoundaryGrid, BoundaryProbe, make_probe
from .limits import MAX_VIRTUAL_SAMPLES
from .paths import WRITE_ARGS, PathError, resolve_write
from .spec import CompileSpec, ObjectSpec, Project

__all__ = [
    "BatchProgress",
    "BoundarySnapshot",
    "EpochEnd",
    "Event",
    "Failed",
    "Finished",
    "SessionError",
    "Started",
    "TrainingSession",
    "VirtualPlan",
    "event_to_dict",
    "explain_error",
    "nan_message",
    "resolve_device",
    "virtual_epoch_plan",
    "virtual_order",
]

log = logging.getLogger(__name__)

#: Above this many bytes of repeated training data, virtual epochs stream batches from a
#: `keras.utils.PyDataset` instead of materialising the repeated arrays.
VIRTUAL_MATERIALISE_LIMIT = 256 * 1024 * 1024
#: Inputs up to this many rows are predicted with one compiled call (`predict_on_batch`).
PREDICT_ON_BATCH_ROWS = 8192
DEVICES_HELP = ("'auto' (the GPU when there is one), 'cpu', 'gpu', 'gpu:N' or 'all' (every "
                "GPU, mirrored; TensorFlow only)")


# --------------------------------------------------------------------------------------
# Events: plain data only (ints, floats, str, dicts of floats, NumPy arrays).


@dataclass(frozen=True)
class Started:
    """A run began.

    Attributes:
        run: the run number in this session, from 1.
        epochs: the epoch count at which this run ends, as `model.fit(epochs=...)` means
            it: the run trains epochs `initial_epoch` .. `epochs - 1`.
        initial_epoch: epochs trained before this run (0 for the first run).
        steps_per_epoch: batches per epoch.
        samples: training samples in the dataset.
        batch_size: samples per batch.
        device: where it trains, e.g. "CPU" or "GPU 0: NVIDIA H100".
        core: the CPU core the training thread is held on for this run (`pin_core`), or
            None when it may move.
    """

    run: int
    epochs: int
    initial_epoch: int
    steps_per_epoch: int
    samples: int
    batch_size: int
    device: str
    core: int | None = None


@dataclass(frozen=True)
class BatchProgress:
    """Running logs within an epoch, sent at most every `progress_interval` seconds.

    Attributes:
        run: the run number.
        epoch: the epoch, counting from 0 across continued runs.
        step: batches finished in this epoch (1 .. steps).
        steps: batches per epoch.
        logs: the epoch's running means so far ("loss", metrics); no "val_*" keys.
        samples_per_sec: training speed since the previous progress event.
        elapsed: seconds since the run started, pauses excluded.
    """

    run: int
    epoch: int
    step: int
    steps: int
    logs: dict[str, float]
    samples_per_sec: float
    elapsed: float


@dataclass(frozen=True)
class EpochEnd:
    """An epoch finished; `logs` includes the "val_*" keys when there is validation data."""

    run: int
    epoch: int
    logs: dict[str, float]
    elapsed: float


@dataclass(frozen=True)
class BoundarySnapshot:
    """The model's predictions on the decision-boundary grid after `step` batches of `epoch`."""

    run: int
    epoch: int
    step: int
    grid: BoundaryGrid


@dataclass(frozen=True)
class Finished:
    """A run ended without an error.

    Attributes:
        run: the run number.
        history: every epoch's logs across all runs since the last reset, as
            `History.history` would hold them had it been one long `fit`.
        reason: "completed", "stopped" (the user), "early_stopped" (EarlyStopping) or
            "nan" (the loss stopped being a number).
        message: one sentence for the status bar.
        epochs_done: epochs trained in this run (a stopped epoch counts: Keras ends it
            with validation and its epoch-end logs).
    """

    run: int
    history: dict[str, list[float]]
    reason: str
    message: str
    epochs_done: int


@dataclass(frozen=True)
class Failed:
    """A run could not start or broke off; `message` is for people, `detail` a traceback."""

    run: int
    message: str
    detail: str


Event = Started | BatchProgress | EpochEnd | BoundarySnapshot | Finished | Failed
FINISH_REASONS: tuple[str, ...] = ("completed", "stopped", "early_stopped", "nan")


def _plain(value: Any, lists: bool) -> Any:
    if isinstance(value, np.ndarray):
        if not lists:
            return value
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return np.where(np.isfinite(value), value.astype(object), None).tolist()
        return value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name), lists) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v, lists) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, lists) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def event_to_dict(event: Event, arrays: str = "list") -> dict[str, Any]:
    """An event as a dict: {"event": "EpochEnd", "run": 1, ...}.

    Args:
        event: the event.
        arrays: "list" turns NumPy arrays into nested lists, for JSON; "keep" leaves them
            as arrays, for a view that draws them (turning a 100x100 grid into 10,000
            Python floats ten times a second costs more than computing it).

    NaN and infinities become None in logs and histories (JSON has no such numbers), so
    `json.dumps(event_to_dict(e), allow_nan=False)` accepts every event.
    """
    if arrays not in ("list", "keep"):
        raise ValueError(f"arrays: expected 'list' or 'keep', got {arrays!r}.")
    return {"event": type(event).__name__, **_plain(event, arrays == "list")}


# --------------------------------------------------------------------------------------
# Virtual epochs: pure arithmetic, kept apart so it can be tested and shown in the UI.


@dataclass(frozen=True)
class VirtualPlan:
    """How many examples a virtual-epoch run shows and how it splits them.

    Attributes:
        total_examples: stop point x dataset size (rounded down).
        epochs: checkpoints: the epochs Keras runs.
        steps_per_epoch: batches per checkpoint.
        examples_per_epoch: steps_per_epoch x batch_size.
    """

    total_examples: int
    epochs: int
    steps_per_epoch: int
    examples_per_epoch: int


def virtual_epoch_plan(
    stop_point: float, checkpoints: int, samples: int, batch_size: int
) -> VirtualPlan:
    """Splits `stop_point` passes over `samples` examples into `checkpoints` epochs.

    Changing the batch size or the amount of data then keeps the number of examples the
    model sees constant, which is what makes runs comparable in a lesson. The formula is
    the one the exported code writes: `total = int(stop_point * samples)`,
    `steps_per_epoch = max(1, total // (batch_size * checkpoints))`.

    Raises:
        ValueError: for a stop point <= 0 or counts below 1.
    """
    if not stop_point > 0 or not math.isfinite(stop_point):
        raise ValueError(
            f"virtual_epochs.stop_point: expected a number > 0 (passes over the data), "
            f"got {stop_point!r}."
        )
    for name, value in (("checkpoints", checkpoints), ("samples", samples),
                        ("batch_size", batch_size)):
        if int(value) != value or value < 1:
            raise ValueError(f"{name}: expected an integer >= 1, got {value!r}.")
    total = int(stop_point * samples)
    steps = max(1, total // (batch_size * checkpoints))
    shown = steps * batch_size * int(checkpoints)
    if shown > MAX_VIRTUAL_SAMPLES:
        raise ValueError(
            f"virtual_epochs: expected at most {MAX_VIRTUAL_SAMPLES:,} examples in all, got "
            f"{shown:,} ({stop_point:g} passes over {samples:,} samples in {checkpoints:,} "
            "checkpoints); lower stop_point or checkpoints."
        )
    return VirtualPlan(total, int(checkpoints), steps, steps * batch_size)


def virtual_order(n: int, count: int, rng: np.random.Generator | None, shuffle: bool = True
                  ) -> np.ndarray:
    """`count` sample indices made of whole passes over 0..n-1, each pass freshly shuffled.

    Every sample is shown once per pass, like an ordinary epoch, however the passes fall
    across the virtual epochs. Without shuffling the passes are in order.
    """
    passes = -(-count // n)
    if not shuffle or rng is None:
        return np.tile(np.arange(n), passes)[:count]
    return np.concatenate([rng.permutation(n) for _ in range(passes)])[:count]


# --------------------------------------------------------------------------------------
# Messages


class SessionError(RuntimeError):
    """A session command that cannot run now; the message says why and what to do."""


def nan_message(epoch: int, batch: int, loss: float, learning_rate: Any = None) -> str:
    """The sentence for a loss that is no longer a number (epoch and batch count from 1)."""
    what = "NaN" if math.isnan(loss) else "infinite"
    rate = f" (it is {learning_rate})" if learning_rate is not None else ""
    return (
        f"the loss became {what} at epoch {epoch} batch {batch}; lower the learning rate"
        f"{rate}, or standardise the inputs, then reset the weights and train again"
    )


_BOILERPLATE = ("graph execution error", "detected at node", "file ", "traceback",
                "stack trace", "[[", "{{", "node:", "arguments received")


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """The line of an error message that says what went wrong.

    TensorFlow wraps the real reason in "Graph execution error:" and a stack of the traced
    code, so boilerplate and code lines are skipped and a line that states a fact
    ("Received...", "Incompatible...", "expected...") is preferred.
    """
    lines = []
    for raw in str(exc).splitlines():
        line = raw.strip()
        if not line or line.lower().startswith(_BOILERPLATE) or raw.startswith("    "):
            continue
        lines.append(line.split("  Label values:")[0].strip())
    telling = [line for line in lines if any(
        word in line.lower() for word in ("received", "incompatible", "expected", "must",
                                          "invalid", "cannot", "out of"))]
    line = (telling or lines or [type(exc).__name__])[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def explain_error(exc: BaseException, context: Mapping[str, Any] | None = None) -> str:
    """A message a person can act on for an exception raised while building or training.

    Args:
        exc: the exception.
        context: what is known about the run: "batch_size", "device", "input_shape",
            "label_shape".
    """
    from .data import DataError
    from .project import ProjectError

    ctx = dict(context or {})
    if isinstance(exc, ProjectError):
        return "; ".join(exc.problems)
    if isinstance(exc, (DataError, SessionError)):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    device = ctx.get("device", "this device")
    if (
        isinstance(exc, MemoryError)
        or "resource_exhausted" in low
        or "resourceexhausted" in low
        or "out of memory" in low
        or " oom " in f" {low} "
    ):
        batch = ctx.get("batch_size")
        shown = f" ({batch})" if batch else ""
        cpu = "" if str(device).startswith("CPU") else ", or train on the CPU"
        return (
            f"out of memory on {device}: lower the batch size{shown}, make the layers "
            f"smaller{cpu}"
        )
    if "valid range" in low or "label value" in low:
        classes = ctx.get("num_classes")
        have = f" (the data has {classes} classes)" if classes else ""
        return (
            f"the labels do not fit the output layer: {_first_line(exc)} The last layer needs "
            f"one unit per class{have}; set its units to the number of classes"
        )
    if "shape" in low or "incompatible" in low or "rank" in low:
        given = ""
        if ctx.get("input_shape") is not None:
            given = (
                f" The data gives inputs of shape {tuple(ctx['input_shape'])} and labels of "
                f"shape {tuple(ctx.get('label_shape') or ())} per sample;"
            )
        return (
            f"the model does not fit the data: {_first_line(exc)}.{given} check the model's "
            "input shape, its last layer's units and the loss against the data (the "
            "pre-flight checks point at the usual mistakes)"
        )
    return f"training failed: {type(exc).__name__}: {_first_line(exc)}"


# --------------------------------------------------------------------------------------
# Devices


def _gpu_names(backend: str) -> list[str]:
    """Names of the GPUs the backend can use; empty when there are none or it cannot tell."""
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            names = []
            for gpu in tf.config.list_physical_devices("GPU"):
                details = tf.config.experimental.get_device_details(gpu)
                names.append(str(details.get("device_name", gpu.name)))
            return names
        if backend == "jax":
            import jax

            try:
                return [str(d.device_kind) for d in jax.devices("gpu")]
            except RuntimeError:  # no GPU backend
                return []
        if backend == "torch":
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # a broken driver must not stop training on the CPU
        log.debug("could not list GPUs", exc_info=True)
    return []


def _check_device(choice: str) -> str:
    low = str(choice).strip().lower()
    if low in ("auto", "cpu", "gpu", "all"):
        return low
    if low.startswith("gpu:") and low[4:].isdigit():
        return low
    raise ValueError(f"device: expected {DEVICES_HELP}, got {choice!r}.")


def quiet_blas() -> bool:
    """Keeps NumPy's BLAS to one thread in this process (True when it could).

    OpenBLAS hands a matrix product above about 65,000 multiply-adds to a second thread,
    which then spins for a while waiting for more work. The boundary pictures' forward
    pass (10,000 x 2 by 2 x 8, twelve times a second) kept that thread spinning on the
    second core, 3.5 % of it, against 0.8 % for the same work on one thread, and those
    cycles are taken from TensorFlow's own threads: training ran about 3 % slower for it.
    Nothing NumPy does here is big enough to gain from a second thread. TensorFlow's
    threads are its own and are not limited. Called as each session starts: a BLAS
    loaded since (SciPy's, say) is limited too.
    """
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - a speed setting; training works without it
        log.debug("could not limit BLAS threads", exc_info=True)
        return False
    return True


def current_core() -> int | None:
    """The CPU core the calling thread runs on now (Linux), else None."""
    try:
        import ctypes

        core = int(ctypes.CDLL(None).sched_getcpu())
    except (OSError, AttributeError, TypeError):
        return None
    return core if core >= 0 else None


def hold_on_core() -> tuple[int, set[int]] | None:
    """Keeps the calling thread on the CPU core it is on.

    Returns (the core, the cores it was allowed before), for `allow_cores`, or None where
    the system cannot (not Linux) or there is a single core. Threads the caller starts
    afterwards inherit the one core: call it after those that should not.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return None
        core = current_core()
        if core not in allowed:
            core = min(allowed)
        os.sched_setaffinity(0, {core})
    except OSError:
        return None
    return core, allowed


def allow_cores(cores: set[int]) -> None:
    """Lets the calling thread run on `cores` again (after `hold_on_core`)."""
    try:
        os.sched_setaffinity(0, cores)
    except (OSError, AttributeError):
        log.debug("could not set the thread's cores", exc_info=True)


#: Models up to this many parameters train paced by the Python thread (see `pin_core`).
PIN_MAX_PARAMS = 20_000


def _count_params(model: Any) -> int:
    try:
        return int(model.count_params())
    except Exception:  # noqa: BLE001 - not built: treated as big
        return PIN_MAX_PARAMS + 1


def keep_off_core(core: int) -> set[int] | None:
    """Keeps the calling thread off one CPU core (the training thread's, see `pin_core`).

    Returns the cores it was allowed before, for `allow_cores`; None where the system
    cannot or no other core is left.
    """
    if not hasattr(os, "sched_getaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        others = allowed - {core}
        if not others:
            return None
        os.sched_setaffinity(0, others)
    except OSError:
        return None
    return allowed


def resolve_device(choice: str, backend: str) -> tuple[str | None, str]:
    """(name for `keras.device`, or None for the backend's default; label for people)."""
    choice = _check_device(choice)
    if choice == "cpu":
        return "cpu:0", "CPU"
    gpus = _gpu_names(backend)
    if choice == "all":
        if backend != "tensorflow":
            raise SessionError(
                f"device: 'all' (every GPU, mirrored) expected the TensorFlow backend, got "
                f"{backend!r}; choose one GPU, or set KERAS_BACKEND=tensorflow"
            )
        if not gpus:
            return None, "CPU"
        return None, f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} (mirrored): " + ", ".join(
            dict.fromkeys(gpus))
    if choice == "auto":
        return (None, f"GPU 0: {gpus[0]}") if gpus else (None, "CPU")
    index = int(choice[4:]) if ":" in choice else 0
    if index >= len(gpus):
        found = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
        raise SessionError(
            f"device: expected GPU {index}, found {found} for the {backend} backend; "
            "choose 'auto' or 'cpu', or check the GPU driver"
        )
    return f"gpu:{index}", f"GPU {index}: {gpus[index]}"


# --------------------------------------------------------------------------------------
# The worker's commands


class _Command:
    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[], Any], future: Future | None = None) -> None:
        self.fn = fn
        self.future = future

    def run(self) -> None:
        if self.future is None:
            self.fn()
            return
        if not self.future.set_running_or_notify_cancel():
            return  # the caller timed out and cancelled it
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


_CLOSE = _Command(lambda: None)


@dataclass
class _FitPlan:
    x: Any
    y: Any
    batch_size: int
    steps_per_epoch: int
    keras_steps: int | None
    epochs_in_run: int
    initial_epoch: int
    shuffle: bool
    class_weight: dict[int, float] | None
    validation: tuple[np.ndarray, np.ndarray] | None
    samples: int


class _Monitor:
    """The engine's Keras callback (mixed into `keras.callbacks.Callback` lazily).

    Per batch it runs `on_train_batch_begin` (synchronously, where pause and commands are
    served and progress is sampled) and a one-flag `on_train_batch_end` for stopping.
    """

    def __init__(self, session: TrainingSession, run: int, plan: _FitPlan,
                 probe: BoundaryProbe | None) -> None:
        super().__init__()  # keras.callbacks.Callback
        self.s = session
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
        self.tick_time = self.t0
        self.tick_done = 0

    @property
    def interval(self) -> float:
        """The session's progress interval, read at each report: a view may change it
        during a run (to match the pictures it can draw to its redraw rate)."""
        return self.s.progress_interval

    #: Keras may call `on_train_batch_end` from a thread pool (on JAX), which is fine for
    #: the one flag it sets; declaring it keeps Keras's asynchronous log handling on.
    async_safe = True

    # -- the per-batch path: keep it to a few attribute reads ---------------------------
    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self.batch = batch
        if self.s._attention:
            self._attend(batch)
        if batch and time.perf_counter() >= self.next_tick:
            self._tick(batch)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        # Keras checks `stop_training` right after this hook, so a stop requested during a
        # batch ends the run with that batch.
        if self.s._stopping:
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

    def _done(self, batch: int) -> int:
        return (self.epoch - self.plan.initial_epoch) * self.plan.steps_per_epoch + batch

    def _tick(self, batch: int) -> None:
        now = time.perf_counter()
        # A steady cadence (a tick waits for a batch to end, so `now + interval` would
        # drift to fewer reports than asked for), without a burst after a slow batch.
        self.next_tick = max(self.next_tick + self.interval, now + 0.5 * self.interval)
        try:
            model = self.model  # syncs JAX state
            logs = _floats(model.get_metrics_result())
        except Exception:  # a progress report must never end training
            log.exception("reading the running logs failed")
            return
        done = self._done(batch)
        dt = now - self.tick_time
        rate = (done - self.tick_done) * self.plan.batch_size / dt if dt > 0 else 0.0
        self.tick_time, self.tick_done = now, done
        self.s._emit(BatchProgress(self.run, self.epoch, batch, self.plan.steps_per_epoch,
                                   logs, float(rate), self.elapsed(now)))
        if self.s._stopping:  # a listener asked: this batch is the last (on every backend)
            self.stopped_by_user = True
            self.raw_model.stop_training = True
        loss = logs.get("loss")
        if loss is not None and not math.isfinite(loss) and self.nan is None:
            self.nan = (self.epoch, batch, loss)
            self.raw_model.stop_training = True
            return
        if self.probe is not None:
            self._snapshot(self.epoch, batch)

    def _snapshot(self, epoch: int, step: int) -> None:
        self.last_snap = time.perf_counter()
        probe = self.probe
        if probe is None:
            return
        try:
            grid = probe.snapshot(self.s._quick_predictor(self.model))
        except Exception:
            log.exception("the decision-boundary snapshot failed; no more snapshots this run")
            self.probe = None
            return
        self.s._emit(BoundarySnapshot(self.run, epoch, step, grid))

    def _attend(self, batch: int) -> None:
        s = self.s
        s._attention = False
        s._run_light()
        if s._stop.is_set():
            self.stopped_by_user = True
            self.raw_model.stop_training = True
            return
        if s._pause_requested:
            if batch:
                self._tick(batch)  # fresh numbers for the paused view
            started = time.perf_counter()
            s._wait_while_paused()
            pause = time.perf_counter() - started
            self.paused_for += pause
            self.tick_time += pause
            self.next_tick = time.perf_counter() + self.interval
            if s._stop.is_set():
                self.stopped_by_user = True
                self.raw_model.stop_training = True

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        values = _floats(logs or {})
        self.epochs_done += 1
        steps = self.batch + 1
        self.s._record_epoch(epoch, values)
        loss = values.get("loss")
        if loss is not None and not math.isfinite(loss) and self.nan is None:
            self.nan = (epoch, steps, loss)
            self.raw_model.stop_training = True
        elif self.raw_model.stop_training and not self.stopped_by_user and self.nan is None:
            self.stopped_by_callback = True
        self.s._emit(EpochEnd(self.run, epoch, values, self.elapsed()))
        if self.probe is not None and (
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


# --------------------------------------------------------------------------------------
# The session


class TrainingSession:
    """Trains one project's model on a worker thread and streams events to listeners.

    Args:
        project: what to build and train.
        base_dir: the project file's folder: relative data and callback paths are read and
            written there (the current folder when None).
        dataset: the data, when the caller has loaded it already; else it is loaded from
            `project.data` on first use.
        device: "auto" (the GPU when there is one), "cpu", "gpu", "gpu:N", or "all": every
            GPU through `tf.distribute.MirroredStrategy` (TensorFlow backend only; the batch
            size stays the global one).
        boundary_resolution: points per axis of the decision-boundary grid.
        progress_interval: seconds between progress events (and boundary snapshots);
            it may be changed during a run (the `progress_interval` attribute).

    Raises:
        ValueError: for an unknown device or a non-positive interval or resolution.
    """

    def __init__(
        self,
        project: Project,
        base_dir: Path | None = None,
        dataset: Any | None = None,
        device: str = "auto",
        boundary_resolution: int = 100,
        progress_interval: float = 0.1,
    ) -> None:
        self._device_choice = _check_device(device)
        if boundary_resolution < 2:
            raise ValueError(
                f"boundary_resolution: expected at least 2, got {boundary_resolution}."
            )
        if not progress_interval > 0:
            raise ValueError(f"progress_interval: expected seconds > 0, got {progress_interval}.")
        self._project = project
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._dataset = dataset
        self.boundary_resolution = int(boundary_resolution)
        self.progress_interval = float(progress_interval)
        #: Hold the training thread on one CPU core during a run of a small model (at most
        #: PIN_MAX_PARAMS parameters; Started.core says which core): a window that keeps its
        #: own thread off that core then no longer displaces it. On two cores, the window's
        #: drawing made the circle network's run 17 % slower than plain `fit` with the
        #: threads moving freely and 6 % with them held apart. A bigger model's run waits
        #: on TensorFlow's threads, which use every core, and a window held to the other
        #: core then drew 6 to 9 times a second instead of 10 to 11.
        self.pin_core = False
        self._listeners: list[Callable[[Event], None]] = []
        self._data_lock = threading.Lock()
        # Worker state (touched on the worker thread only, except where noted).
        self._keras: Any = None
        self._fast_predict: tuple[Any, Any] | None = None  # (model, NumPy forward or None)
        self._model: Any = None
        self._probe: BoundaryProbe | None = None
        self._had_model = False
        self._gradient_keys: set[str] | None = None
        self._active: _Monitor | None = None
        self._history: dict[str, list[float]] = {}
        self._epoch = 0
        self._device_label = "not started"
        self._startup_error: BaseException | None = None
        # Shared state.
        self._cv = threading.Condition()
        self._light: deque[_Command] = deque()
        self._heavy: deque[_Command] = deque()
        self._attention = False  # set after any flag below changes; read per batch
        self._stop = threading.Event()
        self._stopping = False  # mirrors _stop for the per-batch check
        self._pause_requested = False
        self._paused = False
        self._busy = False
        self._pending_runs = 0
        self._run = 0
        self._closed = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="layerlab-training", daemon=True)
        self._thread.start()

    # -- properties -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from `start()` until just before the run's Finished or Failed event."""
        return self._busy

    @property
    def paused(self) -> bool:
        """True while a pause is requested for a run in progress."""
        return self._busy and self._pause_requested

    @property
    def history(self) -> dict[str, list[float]]:
        """Every epoch's logs since the last reset (a copy)."""
        return {k: list(v) for k, v in self._history.items()}

    @property
    def epoch(self) -> int:
        """Epochs trained since the last reset: the next run's `initial_epoch`."""
        return self._epoch

    @property
    def project(self) -> Project:
        return self._project

    @property
    def dataset(self) -> Any:
        """The data (loaded on first use; raises `DataError` when it cannot be loaded)."""
        with self._data_lock:
            if self._dataset is None:
                from .data import load_dataset

                self._dataset = load_dataset(self._project.data or None, self._base_dir)
            return self._dataset

    @property
    def device(self) -> str:
        """Where the model lives: "CPU" or "GPU 0: <name>" (waits for the worker to start)."""
        self._ready.wait(120)
        return self._device_label

    # -- listeners and events -------------------------------------------------------------
    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Adds a listener; it is called on the worker thread and must return quickly."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Event], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not end training
                log.exception("a training listener failed on %s", type(event).__name__)

    # -- controls -------------------------------------------------------------------------
    def start(self, epochs: int | None = None) -> None:
        """Starts a run: the first, or one that continues from the current weights.

        A continued run starts at `initial_epoch = self.epoch`, so History, epoch numbers
        and callbacks carry on as if `fit` had been called again on the same model.

        Args:
            epochs: epochs to train in this run; None means the project's `fit.epochs`
                (or the virtual-epoch checkpoints).

        Raises:
            SessionError: when a run is already going or the session is closed.
        """
        if epochs is not None and (int(epochs) != epochs or epochs < 1):
            raise ValueError(f"epochs: expected an integer >= 1, got {epochs!r}.")
        with self._cv:
            self._check_open()
            if self._busy:
                raise SessionError(
                    "a run is already going; stop it, or wait for it to finish, before "
                    "starting another"
                )
            self._busy = True
            self._pending_runs += 1
            self._stop.clear()
            self._stopping = False
            self._pause_requested = False
            self._run += 1
            run = self._run
            self._heavy.append(_Command(lambda: self._fit(run, epochs)))
            self._cv.notify_all()

    def step_epoch(self) -> None:
        """Trains exactly one more epoch (one checkpoint with virtual epochs)."""
        self.start(epochs=1)

    def stop(self) -> None:
        """Ends the run after the current batch; the weights are kept.

        Keras then finishes the epoch's bookkeeping (validation, epoch-end logs), as it
        does for any callback that stops training.
        """
        with self._cv:
            if not self._busy:
                return
            self._stop.set()
            self._stopping = True
            self._pause_requested = False
            self._attention = True
            self._cv.notify_all()

    def pause(self) -> None:
        """Holds the run before its next batch until `resume()` or `stop()`."""
        with self._cv:
            if not self._busy:
                return
            self._pause_requested = True
            self._attention = True
            self._cv.notify_all()

    def resume(self) -> None:
        """Lets a paused run go on."""
        with self._cv:
            self._pause_requested = False
            self._cv.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until no run is pending; False when `timeout` seconds passed first."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending_runs == 0, timeout)

    def close(self, timeout: float = 5) -> None:
        """Stops any run, ends the worker thread and frees the model; idempotent."""
        with self._cv:
            if not self._closed:
                self._closed = True
                self._stop.set()
                self._stopping = True
                self._pause_requested = False
                self._attention = True
                self._heavy.append(_CLOSE)
                self._cv.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> TrainingSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- between-run changes --------------------------------------------------------------
    def reset_weights(self, timeout: float = 60) -> None:
        """Re-initialises the weights (the seed gives the first run's weights again) and
        clears the history and the epoch count."""
        self._between_runs("reset the weights")

        def reset() -> None:
            self._drop_model()
            self._history = {}
            self._epoch = 0

        self._call(reset, timeout, light=False)

    def set_compile(self, compile_spec: CompileSpec, timeout: float = 60) -> None:
        """New optimizer, learning rate, loss or metrics for the next run; weights are kept.

        The optimizer starts afresh (its moment estimates are per optimizer).
        """
        self._between_runs("change the optimizer or loss")

        def recompile() -> None:
            self._project = self._project.replace(compile=compile_spec)
            if self._model is not None:
                self._recompile(compile_spec)

        self._call(recompile, timeout, light=False)

    def set_project(self, project: Project, timeout: float = 60) -> None:
        """Takes a changed project for the next run.

        A changed model or data section means a new model: it is rebuilt from scratch on
        the next start and the history is cleared. A changed compile section keeps the
        weights (as `set_compile`); a changed fit section only affects later runs.
        """
        self._between_runs("change the project")

        def apply() -> None:
            old = self._project
            self._project = project
            if old.data != project.data:
                with self._data_lock:
                    self._dataset = None
            if old.model != project.model or old.data != project.data:
                self._drop_model()
                self._history = {}
                self._epoch = 0
            elif old.compile != project.compile and self._model is not None:
                self._recompile(project.compile)

        self._call(apply, timeout, light=False)

    # -- queries (run on the worker, also while training) ---------------------------------
    def predict(self, x: np.ndarray, timeout: float = 30) -> np.ndarray:
        """The model's outputs for inputs `x` (already standardised, as the model sees them).

        While a run is going this runs between two batches.
        """
        x = np.asarray(x, dtype=np.float32)

        def predict() -> np.ndarray:
            model = self._live_model()
            if len(x) <= PREDICT_ON_BATCH_ROWS:
                out = self._quick_predictor(model)(x)
            else:
                out = model.predict(x, batch_size=1024, verbose=0)
            return np.asarray(out)

        return self._call(predict, timeout)

    def evaluate(self, split: str = "test", timeout: float = 60) -> dict[str, float]:
        """Loss and metrics on one part of the data: "test", "val" or "train".

        Raises:
            ValueError: for an unknown split or one the data does not have.
        """
        splits = {"test": ("x_test", "y_test"), "val": ("x_val", "y_val"),
                  "train": ("x_train", "y_train")}
        if split not in splits:
            raise ValueError(f"split: expected 'test', 'val' or 'train', got {split!r}.")
        ds = self.dataset
        x, y = (getattr(ds, name) for name in splits[split])
        if x is None:
            setting = "data.test_split" if split == "test" else "data.validation_split"
            raise ValueError(
                f"split: expected data with a {split} part, got none; set {setting} above 0 "
                "to hold some samples out"
            )
        batch = int(self._project.fit.get("batch_size") or 32)

        def evaluate() -> dict[str, float]:
            model = self._live_model()
            saved = None
            if self._active is not None:
                # The running epoch's metrics live in the same variables; keep them.
                saved = [np.array(self._keras.ops.convert_to_numpy(v.value))
                         for v in model.metrics_variables]
            try:
                result = model.evaluate(x, y, batch_size=batch, verbose=0, return_dict=True)
            finally:
                if saved is not None:
                    for variable, value in zip(model.metrics_variables, saved, strict=True):
                        variable.assign(value)
            return _floats(result)

        return self._call(evaluate, timeout)

    def save_model(self, path: str | Path, timeout: float = 60) -> Path:
        """Saves the whole model (architecture, weights, optimizer) as a `.keras` file."""
        target = Path(path)
        if target.suffix != ".keras":
            raise ValueError(
                f"path: expected a file name ending in .keras, got {str(path)!r}; "
                "add the .keras extension"
            )

        def save() -> Path:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._live_model().save(str(target))
            return target

        return self._call(save, timeout)

    def save_weights(self, path: str | Path, timeout: float = 60) -> Path:
        """Saves only the weights, as a `.weights.h5` file."""
        target = Path(path)
        if not target.name.endswith(".weights.h5"):
            raise ValueError(
                f"path: expected a file name ending in .weights.h5, got {str(path)!r}"
            )

        def save() -> Path:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._live_model().save_weights(str(target))
            return target

        return self._call(save, timeout)

    def load_weights(self, path: str | Path, timeout: float = 60) -> None:
        """Loads weights saved by `save_weights` into the current model (between runs)."""
        self._between_runs("load weights")
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"path: expected a .weights.h5 file, got {source}, "
                                    "which does not exist")

        def load() -> None:
            self._ensure_model().load_weights(str(source))

        self._call(load, timeout, light=False)

    # -- plumbing -------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise SessionError("the training session is closed; create a new one")

    def _between_runs(self, what: str) -> None:
        self._check_open()
        if self._busy:
            raise SessionError(f"cannot {what} while training; stop the run first")

    def _call(self, fn: Callable[[], Any], timeout: float | None, light: bool = True) -> Any:
        if threading.current_thread() is self._thread:
            return fn()  # a listener asking from the worker itself
        future: Future = Future()
        with self._cv:
            self._check_open()
            (self._light if light else self._heavy).append(_Command(fn, future))
            if light:
                self._attention = True
            self._cv.notify_all()
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(
                f"the training thread did not answer within {timeout} s (it may be in a long "
                "validation pass or building a large model); try again"
            ) from None

    def _run_light(self) -> None:
        while True:
            with self._cv:
                if not self._light:
                    return
                command = self._light.popleft()
            command.run()

    def _wait_while_paused(self) -> None:
        with self._cv:
            self._paused = True
        try:
            while True:
                self._run_light()
                with self._cv:
                    if not self._pause_requested or self._stop.is_set():
                        return
                    if not self._light:
                        self._cv.wait(0.5)
        finally:
            with self._cv:
                self._paused = False

    def _main(self) -> None:
        quiet_blas()
        try:
            import keras

            self._keras = keras
            device, self._device_label = resolve_device(
                self._device_choice, keras.backend.backend()
            )
            scope = keras.device(device) if device else contextlib.nullcontext()
        except BaseException as exc:  # noqa: BLE001 - reported on every command
            self._startup_error = exc
            self._device_label = "unavailable"
            scope = contextlib.nullcontext()
        self._ready.set()
        try:
            with scope:
                self._serve()
        finally:
            self._drop_model(final=True)

    def _serve(self) -> None:
        while True:
            with self._cv:
                while not self._light and not self._heavy:
                    self._cv.wait()
                command = self._light.popleft() if self._light else self._heavy.popleft()
            if command is _CLOSE:
                break
            if self._startup_error is not None and command.future is not None:
                if command.future.set_running_or_notify_cancel():
                    command.future.set_exception(SessionError(
                        f"Keras could not start: {_first_line(self._startup_error)}"))
                continue
            command.run()
        # Anything queued behind the close is answered rather than left hanging.
        with self._cv:
            leftovers = list(self._light) + list(self._heavy)
            self._light.clear()
            self._heavy.clear()
        for command in leftovers:
            if command.future is not None and command.future.set_running_or_notify_cancel():
                command.future.set_exception(SessionError("the training session was closed"))

    def _drop_model(self, final: bool = False) -> None:
        """Forgets the model; Keras's global state is cleared when the next one is built,
        or here when the session ends, never between runs of one model."""
        self._model = None
        self._probe = None
        self._fast_predict = None
        _forget_custom_gradients(self._gradient_keys)
        self._gradient_keys = None
        if final and self._keras is not None and self._had_model:
            try:
                self._keras.backend.clear_session()
            except Exception:
                log.debug("clear_session failed", exc_info=True)

    def _ensure_model(self) -> Any:
        if self._model is not None:
            return self._model
        from .build import build_model, compile_model
        from .project import resolve_fit

        if self._startup_error is not None:
            raise SessionError(f"Keras could not start: {_first_line(self._startup_error)}")
        fit = resolve_fit(self._project.fit)
        if self._had_model:
            self._keras.backend.clear_session()
        self._gradient_keys = _gradient_keys(self._keras)
        if fit["seed"] is not None:
            self._keras.utils.set_random_seed(int(fit["seed"]))
        with self._strategy_scope():
            model = build_model(self._project.model)
            compile_model(model, self._project.compile)
        self._model = model
        self._had_model = True
        self._probe = self._make_probe(model)
        return model

    def _strategy_scope(self) -> Any:
        """MirroredStrategy's scope for device "all" (Keras must build and compile the
        model inside it); nothing for one device, which `keras.device` places."""
        if self._device_choice != "all":
            return contextlib.nullcontext()
        from .devices import strategy_scope

        return strategy_scope("all")

    def _recompile(self, spec: CompileSpec) -> None:
        from .build import compile_model

        strategy = getattr(self._model, "distribute_strategy", None)
        scope = strategy.scope() if self._device_choice == "all" and strategy is not None \
            else contextlib.nullcontext()
        with scope:
            compile_model(self._model, spec)
        # compile() drops the traced functions; let TensorFlow free their graphs.
        _forget_custom_gradients(self._gradient_keys)
        self._probe = self._make_probe(self._model)

    def _make_probe(self, model: Any) -> BoundaryProbe | None:
        try:
            ds = self.dataset
            shape = tuple(model.output_shape)
        except Exception:
            return None
        units = int(shape[1]) if len(shape) == 2 and shape[1] is not None else None
        from_logits = bool(self._project.compile.loss.args.get("from_logits", False))
        return make_probe(ds.x_train, units, ds.task, self.boundary_resolution, from_logits)

    def _quick_predictor(self, model: Any) -> Callable[[Any], Any]:
        """The forward pass for a small batch on the worker (boundary pictures, a typed-in
        prediction): NumPy for a small Dense stack (boundary.dense_predictor, a tenth of
        the cost of a compiled call), else `predict_on_batch` (right under
        MirroredStrategy too)."""
        cached = self._fast_predict
        if cached is None or cached[0] is not model:
            fast = None
            if self._device_choice != "all":
                from .boundary import dense_predictor

                fast = dense_predictor(model, self._keras.ops.convert_to_numpy)
            cached = self._fast_predict = (model, fast)
        if cached[1] is not None:
            return cached[1]
        from .devices import batch_predictor

        return batch_predictor(model)

    def _live_model(self) -> Any:
        """The model, with its JAX state synced when asked in the middle of a run."""
        if self._active is not None:
            return self._active.model
        return self._ensure_model()

    def _record_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self._history.setdefault(key, []).append(value)
        self._epoch = epoch + 1

    def _context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {"device": self._device_label,
                               "batch_size": self._project.fit.get("batch_size", 32)}
        ds = self._dataset
        if ds is not None:
            ctx["input_shape"] = ds.x_train.shape[1:]
            ctx["label_shape"] = ds.y_train.shape[1:]
            ctx["num_classes"] = ds.num_classes
        return ctx

    def _plan(self, fit: Mapping[str, Any], epochs: int | None) -> _FitPlan:
        from .data import compute_class_weight

        ds = self.dataset
        n = len(ds.x_train)
        batch = int(fit["batch_size"])
        shuffle = bool(fit["shuffle"])
        class_weight = fit["class_weight"]
        weights: dict[int, float] | None = None
        if class_weight is not None:
            if ds.num_classes is None:
                raise SessionError(
                    f"fit.class_weight: expected null for this regression data (class weights "
                    f"need classes), got {class_weight!r}; remove it"
                )
            if class_weight == "balanced":
                weights = compute_class_weight(ds.y_train, ds.num_classes)
            else:
                weights = {int(k): float(v) for k, v in class_weight.items()}
                unknown = sorted(k for k in weights if not 0 <= k < ds.num_classes)
                if unknown:
                    raise SessionError(
                        f"fit.class_weight: expected classes 0 to {ds.num_classes - 1}, got "
                        f"{', '.join(map(str, unknown))}; remove those keys"
                    )
                weights = {k: weights.get(k, 1.0) for k in range(ds.num_classes)}
        validation = (ds.x_val, ds.y_val) if ds.x_val is not None else None
        virtual = fit.get("virtual_epochs")
        if virtual:
            vp = virtual_epoch_plan(float(virtual["stop_point"]), int(virtual["checkpoints"]),
                                    n, batch)
            run_epochs = int(epochs) if epochs is not None else vp.epochs
            count = vp.steps_per_epoch * batch * run_epochs
            seed = fit["seed"]
            rng = np.random.default_rng([int(seed), self._epoch]) if seed is not None \
                else np.random.default_rng()
            order = virtual_order(n, count, rng, shuffle)
            row_bytes = ds.x_train[:1].nbytes + ds.y_train[:1].nbytes
            if count * row_bytes <= VIRTUAL_MATERIALISE_LIMIT:
                x, y = ds.x_train[order], ds.y_train[order]
            else:
                x, y = _repeated_batches(ds.x_train, ds.y_train, order, batch, weights), None
                weights = None  # carried as sample weights inside the batches
            return _FitPlan(x, y, batch, vp.steps_per_epoch, vp.steps_per_epoch, run_epochs,
                            self._epoch, False, weights, validation, n)
        run_epochs = int(epochs) if epochs is not None else int(fit["epochs"])
        steps = fit["steps_per_epoch"]
        per_epoch = int(steps) if steps else -(-n // batch)
        return _FitPlan(ds.x_train, ds.y_train, batch, per_epoch, int(steps) if steps else None,
                        run_epochs, self._epoch, shuffle, weights, validation, n)

    def _user_callbacks(self, fit: Mapping[str, Any], continuing: bool) -> list[Any]:
        keras = self._keras
        made = []
        for item in fit.get("callbacks") or []:
            spec = ObjectSpec.from_json(item)
            args = dict(spec.args)
            key = WRITE_ARGS.get(spec.type)
            if key and isinstance(args.get(key), str):
                try:
                    path = resolve_write(args[key], self._base_dir,
                                         self._project.allow_outside)
                except PathError as exc:
                    raise SessionError(str(exc)) from None
                folder = path if spec.type == "TensorBoard" else path.parent
                folder.mkdir(parents=True, exist_ok=True)
                args[key] = str(path)
            if spec.type == "CSVLogger" and continuing:
                args["append"] = True  # the CSV continues as the History does
            cls = getattr(keras.callbacks, spec.type, None)
            if cls is None:
                raise SessionError(f"fit.callbacks: Keras has no callback called {spec.type!r}")
            try:
                made.append(cls(**{k: _tupled(v) for k, v in args.items()}))
            except ImportError as exc:
                raise SessionError(
                    f"fit.callbacks: {spec.type} needs a package that is not installed "
                    f"({_first_line(exc)}); remove the callback or install it"
                ) from exc
        return made

    def _finish(self, event: Finished | Failed) -> None:
        with self._cv:
            self._busy = False
            self._pause_requested = False
        try:
            self._emit(event)
        finally:
            with self._cv:
                self._pending_runs -= 1
                self._cv.notify_all()

    def _fit(self, run: int, epochs: int | None) -> None:
        from .project import resolve_fit

        if self._stop.is_set():
            self._finish(Finished(run, self.history, "stopped",
                                  "stopped before training began", 0))
            return
        try:
            fit = resolve_fit(self._project.fit)
            model = self._ensure_model()
            plan = self._plan(fit, epochs)
            callbacks = self._user_callbacks(fit, continuing=self._epoch > 0)
        except Exception as exc:
            self._finish(Failed(run, explain_error(exc, self._context()),
                                traceback.format_exc()))
            return
        monitor = _callback_type()(self, run, plan, self._probe)
        # after the model is built: TensorFlow's own thread pools exist by now and keep
        # every core (tf.data's, made by fit, share this one)
        held = None
        if self.pin_core and _count_params(model) <= PIN_MAX_PARAMS:
            held = hold_on_core()
        self._emit(Started(run, plan.initial_epoch + plan.epochs_in_run, plan.initial_epoch,
                           plan.steps_per_epoch, plan.samples, plan.batch_size,
                           self._device_label, held[0] if held else None))
        kwargs: dict[str, Any] = {
            "epochs": plan.initial_epoch + plan.epochs_in_run,
            "initial_epoch": plan.initial_epoch,
            "shuffle": plan.shuffle,
            "verbose": 0,
            "callbacks": [*callbacks, monitor],
        }
        if plan.y is not None:
            kwargs["batch_size"] = plan.batch_size
        if plan.keras_steps is not None:
            kwargs["steps_per_epoch"] = plan.keras_steps
        if plan.class_weight is not None:
            kwargs["class_weight"] = plan.class_weight
        if plan.validation is not None:
            kwargs["validation_data"] = plan.validation
        self._active = monitor
        try:
            model.fit(plan.x, plan.y, **kwargs)
        except Exception as exc:
            self._active = None
            self._finish(Failed(run, explain_error(exc, self._context()),
                                traceback.format_exc()))
            return
        finally:
            self._active = None
            if held is not None:
                allow_cores(held[1])
        self._finish(self._finished(run, monitor, fit, plan))

    def _finished(self, run: int, monitor: _Monitor, fit: Mapping[str, Any],
                  plan: _FitPlan) -> Finished:
        done = monitor.epochs_done
        history = self.history
        if monitor.nan is not None:
            epoch, batch, loss = monitor.nan
            rate = self._project.compile.optimizer.args.get("learning_rate")
            return Finished(run, history, "nan", nan_message(epoch + 1, max(batch, 1), loss, rate),
                            done)
        if monitor.stopped_by_user:
            return Finished(run, history, "stopped",
                            f"stopped by request in epoch {monitor.epoch + 1} after "
                            f"{monitor.batch + 1} batch(es); the weights are kept", done)
        if monitor.stopped_by_callback:
            return Finished(run, history, "early_stopped",
                            f"EarlyStopping ended training after epoch {monitor.epoch + 1}: "
                            f"{_early_stop_detail(fit)}", done)
        loss = history.get("loss", [float("nan")])[-1] if history.get("loss") else float("nan")
        return Finished(run, history, "completed",
                        f"trained {done} epoch(s), {self._epoch} in all; loss {loss:.4g}", done)


def _early_stop_detail(fit: Mapping[str, Any]) -> str:
    for item in fit.get("callbacks") or []:
        spec = ObjectSpec.from_json(item)
        if spec.type == "EarlyStopping":
            monitor = spec.args.get("monitor", "val_loss")
            patience = spec.args.get("patience", 0)
            restored = "; the best weights were restored" if spec.args.get(
                "restore_best_weights") else ""
            return f"{monitor} did not improve for {patience} epoch(s){restored}"
    return "a callback stopped it"


def _gradient_keys(keras: Any) -> set[str] | None:
    """TensorFlow only: the names in its gradient registry now (None on other backends)."""
    if keras is None or keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.framework import ops

        return set(ops._gradient_registry._registry)
    except Exception:  # a TensorFlow without this internal: nothing to tidy
        return None


def _forget_custom_gradients(before: set[str] | None) -> None:
    """Drops the gradient functions TensorFlow registered while a discarded model was traced.

    Keras's TensorFlow optimizer sums gradients through `tf.distribute`, which wraps the sum
    in `tf.custom_gradient`; in a traced train step that registers a "CustomGradient-N"
    function in TensorFlow's global gradient registry, whose closure holds the step's whole
    graph. Nothing ever removes it, so every model built in one process leaks its training
    graphs (about 6 MB for a small network: 100 models leaked 570 MB). Those functions
    are only used while that graph is being traced, so once the model is gone they can go.
    """
    if before is None:
        return
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
        for key in [k for k in registry if k.startswith("CustomGradient-") and k not in before]:
            registry.pop(key, None)
    except Exception:
        log.debug("could not tidy TensorFlow's gradient registry", exc_info=True)


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def _repeated_batches(x: np.ndarray, y: np.ndarray, order: np.ndarray, batch: int,
                      class_weight: dict[int, float] | None) -> Any:
    """Virtual-epoch batches streamed from `order`, for data too large to repeat in memory."""
    import keras

    weights = None
    if class_weight is not None:
        labels = y.argmax(axis=1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
        table = np.array([class_weight[i] for i in range(len(class_weight))], dtype=np.float32)
        weights = table[labels.astype(np.int64)]

    class RepeatedBatches(keras.utils.PyDataset):
        def __len__(self) -> int:
            return -(-len(order) // batch)

        def __getitem__(self, index: int) -> tuple[np.ndarray, ...]:
            rows = order[index * batch:(index + 1) * batch]
            if weights is None:
                return x[rows], y[rows]
            return x[rows], y[rows], weights[rows]

    return RepeatedBatches()
