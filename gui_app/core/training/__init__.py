"""The training session: `model.fit` on a worker thread that streams plain-data events.

One long-lived worker thread per session owns the Keras model and serves a command queue
(build, fit, predict, evaluate, save...). Keras keeps its settings per thread, so the
model is built, compiled, trained and queried on that thread only; callers get results
through futures and listeners get events, never Keras objects or tensors.

Speed is the point of most of the design choices here, measured by
`benchmarks/training_overhead.py` and `benchmarks/demo_speed.py` against plain
`model.fit(verbose=0)`:

- Where it gives `fit`'s numbers (TensorFlow, in-memory data of Playground size, no
  per-batch callbacks...), a run trains with the compiled loop (`fast`): many steps, epoch
  ends and validation in one TensorFlow call of about 0.05 s, the same train and test
  steps on the same batches in the same order, so History and weights are `fit`'s. On two
  cores the circle lesson trains at well over a hundred epochs a second against `fit`'s
  five to twelve; `Started.fast_path` says which path a run takes. What follows is about
  the `fit` path, which every other run takes.
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

The package, by concern:

- `events`: the event dataclasses and `event_to_dict`;
- `plan`: virtual epochs and the fit plan;
- `messages`: `SessionError` and the sentences for errors and stops;
- `monitor`: the Keras callback and `MonitorHost`, all it may use of the session;
- `fast`: the compiled loop, when it applies, and what drives it like `fit` does;
- `session` / `worker`: `TrainingSession`, its public half and its worker thread's half;
- `hygiene`: BLAS threads, core pinning and TensorFlow's gradient registry;
- `lr_range`: the learning-rate range test on the worker thread (`TrainingSession.lr_find`;
  its arithmetic is `gui_app.core.lr_find`);
- the device choice lives in `gui_app.core.devices`.

Everything other modules import is re-exported here. To monkeypatch a module attribute,
patch the module that uses it (say `training.worker.VIRTUAL_MATERIALISE_LIMIT`).
"""

from ..devices import DEVICES_HELP as DEVICES_HELP
from ..devices import _check_device as _check_device
from ..devices import resolve_device
from .events import (
    FINISH_REASONS as FINISH_REASONS,
)
from .events import (
    BatchProgress,
    BoundarySnapshot,
    EpochEnd,
    Event,
    Failed,
    Finished,
    Started,
    event_to_dict,
)
from .hygiene import PIN_MAX_PARAMS as PIN_MAX_PARAMS
from .hygiene import allow_cores as allow_cores
from .hygiene import current_core as current_core
from .hygiene import hold_on_core as hold_on_core
from .hygiene import keep_off_core as keep_off_core
from .hygiene import quiet_blas as quiet_blas
from .messages import SessionError, explain_error, nan_message
from .monitor import MonitorHost as MonitorHost
from .monitor import _callback_type as _callback_type
from .monitor import _Monitor as _Monitor
from .plan import VirtualPlan, virtual_epoch_plan, virtual_order
from .session import TrainingSession

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
