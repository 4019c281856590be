"""Training events: what a session tells its listeners, as plain data.

Kept apart from the session so that views, the engine protocol and the command line can
read events (and turn them into JSON) without the machinery that makes them. Plain data
only: ints, floats, str, dicts of floats, NumPy arrays.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

import numpy as np

from ..boundary import BoundaryGrid
from ..diagnostics.events import FindingEvent
from ..diagnostics.layers import LayerStatsEvent
from ..lr_find import LRFindEvent
from ..search_events import SearchDone, TrialEvent


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
        fast_path: True when the run trains with the compiled loop (several steps, epoch
            ends and validation per TensorFlow call, with `fit`'s numbers), False when it
            runs `model.fit`. Pause, stop and commands then wait for the call in flight
            (at most about 0.05 s) rather than for a batch, and progress comes per call.
    """

    run: int
    epochs: int
    initial_epoch: int
    steps_per_epoch: int
    samples: int
    batch_size: int
    device: str
    core: int | None = None
    fast_path: bool = False


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
        warmup: seconds of `elapsed` spent on one-time work so far (tracing and compiling
            the training and validation functions, mostly in the first epoch); the pace
            of the rest is the steady one, which `history_views.time_left` goes by.
    """

    run: int
    epoch: int
    step: int
    steps: int
    logs: dict[str, float]
    samples_per_sec: float
    elapsed: float
    warmup: float = 0.0


@dataclass(frozen=True)
class EpochEnd:
    """An epoch finished; `logs` includes the "val_*" keys when there is validation data.

    Every epoch is validated, on both training paths, so the "val_*" values are always
    this epoch's. `elapsed` and `warmup` are as in `BatchProgress`.
    """

    run: int
    epoch: int
    logs: dict[str, float]
    elapsed: float
    warmup: float = 0.0


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


# A finding of the live diagnostics (`core.diagnostics.events`) and their per-layer
# statistics for the Layers view (`core.diagnostics.layers`) travel with these.
# A learning-rate sweep's curve (`core.lr_find`) too, while `TrainingSession.lr_find` runs,
# and a hyperparameter search's trials and its end (`core.search_events`).
Event = (Started | BatchProgress | EpochEnd | BoundarySnapshot | Finished | Failed | FindingEvent
         | LayerStatsEvent | LRFindEvent | TrialEvent | SearchDone)
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
    if isinstance(event, (FindingEvent, LayerStatsEvent, LRFindEvent, TrialEvent, SearchDone)):
        # their documented shapes: {"type": "finding", ...}, {"type": "trial", ...}
        return {"event": type(event).__name__, **event.to_dict()}
    return {"event": type(event).__name__, **_plain(event, arrays == "list")}
