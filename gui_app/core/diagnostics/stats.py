"""Cheap training statistics, sampled every few batches on a small fixed probe batch.

Why a probe batch: the numbers the detectors compare over time (gradient norms, dead
units, the loss) must come from the same samples each time, or the batch-to-batch noise of
the training data would look like a trend. 64 training samples are enough to tell a layer
whose ReLU units are all silent from a healthy one, and cost one small forward and backward
pass, a fraction of one training batch of the 784-300-100-10 MLP.

Why every N batches, not every batch: one sample costs a fraction of a training batch
(a forward and backward pass on 64 samples and a copy of the kernels). At the default
(`DEFAULT_EVERY`, and once at each epoch's end) the callback stays under the 3 % that
`benchmarks/diagnostics.py` measures against plain `fit`; a time budget
(`DEFAULT_BUDGET`) skips samples where an epoch is so short that one sample per epoch
would cost more (the compiled loop of the circle lesson trains an epoch in milliseconds).

Everything a sample holds is plain data (floats, tuples, str): `Sample` and `LayerStats`
travel to the detectors, the event stream and the engine's JSON unchanged. Keras is
imported only when the callback is made, so the rest of the package (and this module's
dataclasses) load without it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .layers import HIST_VALUES, sample_stride
from .numpy_probe import ProbeFunction

if TYPE_CHECKING:
    from .layers import LayerFeed

log = logging.getLogger(__name__)

#: Probe samples: enough that a unit silent on all of them is silent on the data (a unit
#: active on 5 % of the inputs is missed by 64 samples with probability 0.95**64 = 4 %).
PROBE_SIZE = 64
#: Batches between two samples inside an epoch; an epoch's end always samples too (when
#: the budget allows). Measured (`benchmarks/diagnostics.py --only overhead`): on the
#: 784-300-100-10 MLP a sample costs about a third of a training batch (2.6 ms against
#: 8.6 ms on two shared cores), so 1 in 50 batches is under 1 %; the circle lesson's
#: epochs (13 batches) only sample at their end.
DEFAULT_EVERY = 50
#: Most of the training's wall time the samples may take; a due sample is skipped when
#: the samples so far took more than this share of the time since training began.
DEFAULT_BUDGET = 0.02
#: Activations whose units can die: their output is exactly 0 on a whole half-line, so a
#: unit pushed there gets no gradient and never comes back.
DYING = frozenset({"relu", "relu6"})
#: Activations with flat ends, and the output values beyond which the slope is under 5 %
#: of its peak: sigmoid'(z) = s(1 - s) < 0.0125 outside [0.0127, 0.9873] (|z| > 4.35);
#: tanh'(z) = 1 - t^2 < 0.05 where |t| > 0.975 (|z| > 2.19). A unit counts as saturated
#: when at least `SATURATED_SHARE` of the probe samples land there.
FLAT_ENDS: dict[str, tuple[float, float]] = {
    "sigmoid": (0.0127, 0.9873),
    "tanh": (-0.975, 0.975),
    "hard_sigmoid": (0.0, 1.0),
}
SATURATED_SHARE = 0.9


@dataclass(frozen=True)
class LayerStats:
    """One layer's numbers in one sample.

    Attributes:
        index: the layer's position in the model (the project's `model.layers` index).
        name: the layer's Keras name ("dense_2").
        kind: its Keras class ("Dense").
        activation: its activation's name ("relu"), or None for a layer without one.
        grad_norm: L2 norm of the loss gradient of its kernel on the probe batch, or None
            (no kernel, or a backend without the gradient path).
        weight_norm: L2 norm of its kernel, or None without one.
        update_ratio: ||kernel change|| / ||kernel|| since the previous sample, divided by
            the batches in between: the mean step size relative to the weights. Around
            1e-3 is the usual healthy value (Karpathy, CS231n notes); None on the first
            sample, and while the kernel was all zeros (no size to compare with).
        dead: share of its units whose output is 0 for every probe sample (ReLU-like
            activations of hidden layers), else None.
        saturated: share of its units that sit on a flat end of their sigmoid or tanh for
            at least 90 % of the probe samples (hidden layers), else None.
        units: the units (last axis) of its output.
    """

    index: int
    name: str
    kind: str
    activation: str | None = None
    grad_norm: float | None = None
    weight_norm: float | None = None
    update_ratio: float | None = None
    dead: float | None = None
    saturated: float | None = None
    units: int = 0


@dataclass(frozen=True)
class Sample:
    """The statistics of one moment of training.

    Attributes:
        epoch: the epoch, counting from 0 across continued runs.
        step: batches finished in that epoch when the sample was taken.
        seen: batches finished since the run began.
        loss: the mean training loss over the batches since the previous sample in this
            epoch (from Keras's running means; no per-batch sync), or None.
        probe_loss: the loss on the probe batch, in inference mode.
        layers: one entry per layer of the model.
        epoch_end: True when taken at the end of `epoch` (after its validation).
        learning_rate: the optimizer's learning rate at the time, when it is a number.
    """

    epoch: int
    step: int
    seen: int
    loss: float | None
    probe_loss: float | None
    layers: tuple[LayerStats, ...] = ()
    epoch_end: bool = False
    learning_rate: float | None = None

    def layer(self, index: int) -> LayerStats | None:
        """The stats of the layer at `index`, or None."""
        for stats in self.layers:
            if stats.index == index:
                return stats
        return None


@dataclass(frozen=True)
class EpochLogs:
    """An epoch's logs as Keras gives them at its end (train and `val_*` keys)."""

    epoch: int
    logs: dict[str, float] = field(default_factory=dict)


def pick_probe(x: np.ndarray, y: np.ndarray, size: int = PROBE_SIZE, seed: int = 0
               ) -> tuple[np.ndarray, np.ndarray]:
    """A fixed probe batch: `size` training samples drawn without replacement, in order.

    Drawn at random rather than the first rows: a data file sorted by class would give a
    probe of one class, on which a healthy unit for the other class looks dead.
    """
    n = len(x)
    if n <= size:
        return np.asarray(x), np.asarray(y)
    rows = np.sort(np.random.default_rng(seed).choice(n, size, replace=False))
    return np.asarray(x)[rows], np.asarray(y)[rows]


def read_variable(variable: Any) -> np.ndarray:
    """A Keras variable's value as a NumPy array, read directly from the backend's value
    (`keras.ops.convert_to_numpy` goes through `np.array(variable)`, slower, and warns
    under NumPy 2 about the `copy` keyword on every call)."""
    value = getattr(variable, "value", variable)
    to_numpy = getattr(value, "numpy", None)
    return np.asarray(to_numpy() if callable(to_numpy) else value)


def _activation_name(layer: Any) -> str | None:
    """The layer's activation by name ("relu"), "relu" for a ReLU layer, or None."""
    kind = type(layer).__name__
    if kind == "ReLU":
        return "relu"
    fn = getattr(layer, "activation", None)
    name = getattr(fn, "__name__", None)
    return str(name) if name else None


def _float(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out


def _learning_rate(model: Any) -> float | None:
    optimizer = getattr(model, "optimizer", None)
    rate = getattr(optimizer, "learning_rate", None)
    if rate is None:
        return None
    try:
        import keras

        return _float(read_variable(rate) if hasattr(rate, "value")
                      else keras.ops.convert_to_numpy(rate))
    except Exception:  # a schedule object: no single number
        return None


class _Plan:
    """What the probe function computes, layer by layer: decided once per model."""

    def __init__(self, model: Any) -> None:
        self.layers = list(model.layers)
        last = len(self.layers) - 1
        #: (layer index, kernel variable) for each layer with a kernel.
        self.kernels: list[tuple[int, Any]] = []
        #: (layer index, "dead" | "saturated", activation name) for hidden activations.
        self.activations: list[tuple[int, str, str]] = []
        #: each layer's units (the last axis of its output), its name and class
        self.units = [_units(getattr(layer, "output", None)) for layer in self.layers]
        self.names = [(str(layer.name), type(layer).__name__, _activation_name(layer))
                      for layer in self.layers]
        for i, layer in enumerate(self.layers):
            kernel = getattr(layer, "kernel", None)
            if kernel is not None and getattr(kernel, "trainable", True):
                self.kernels.append((i, kernel))
            if i == last:
                continue  # the output's own activation is meant to be confident
            name = _activation_name(layer)
            if name in DYING:
                self.activations.append((i, "dead", name))
            elif name in FLAT_ENDS:
                self.activations.append((i, "saturated", name))


def _loss_function(model: Any) -> Callable[[Any, Any], Any]:
    """The compiled loss as one function of (y_true, y_pred) that gives a mean.

    Built from `model.loss` rather than `model.compute_loss`, which on some Keras versions
    also updates the loss trackers that `fit` reports.
    """
    import keras

    loss = keras.losses.get(model.loss)
    if isinstance(loss, keras.losses.Loss):
        return loss
    from keras.src.losses.losses import LossFunctionWrapper

    return LossFunctionWrapper(loss)


def _unit_stats(keras: Any, out: Any, kind: str, activation: str) -> Any:
    """Share of dead or saturated units of one layer's output, as a scalar tensor."""
    ops = keras.ops
    axes = tuple(range(len(out.shape) - 1))  # every axis but the units
    if kind == "dead":
        silent = ops.max(out, axis=axes) <= 0
        return ops.mean(ops.cast(silent, "float32"))
    low, high = FLAT_ENDS[activation]
    flat = ops.logical_or(out <= low, out >= high)
    share = ops.mean(ops.cast(flat, "float32"), axis=axes)
    return ops.mean(ops.cast(share >= SATURATED_SHARE, "float32"))


def _forward(keras: Any, plan: _Plan, loss_fn: Any, x: Any, y: Any
             ) -> tuple[Any, list[Any], list[Any]]:
    """The probe's loss, the unit shares and the weighted layers' outputs (thinned for
    their histograms, `_thinned`), in inference mode, layer by layer."""
    outputs = []
    h = x
    for layer in plan.layers:
        h = layer(h, training=False)
        outputs.append(h)
    loss = keras.ops.mean(loss_fn(y, h))
    shares = [_unit_stats(keras, outputs[i], kind, act) for i, kind, act in plan.activations]
    return loss, shares, [_thinned(keras, outputs[i]) for i, _ in plan.kernels]


def _thinned(keras: Any, out: Any) -> Any:
    """A layer's output as a flat tensor of at most `HIST_VALUES` values, evenly spread
    over its units (`layers.sample_stride`): what its histogram in the Layers view is made
    of, small enough to copy out of the compiled call at every sample."""
    flat = keras.ops.reshape(out, (-1,))
    shape = tuple(out.shape)
    if not shape or not all(isinstance(d, int) for d in shape):
        return flat[:HIST_VALUES]  # a size known only when it runs: its first values
    return flat[::sample_stride(math.prod(shape), shape[-1])]


def _tensorflow_probe(plan: _Plan, loss_fn: Any) -> ProbeFunction:
    """One compiled call: [loss, kernel gradient norms..., unit shares...]."""
    import keras
    import tensorflow as tf

    kernels = [k for _, k in plan.kernels]

    @tf.function(reduce_retracing=True, autograph=False)  # the loops are over layers
    def probe(x: Any, y: Any) -> Any:
        with tf.GradientTape() as tape:
            loss, shares, outputs = _forward(keras, plan, loss_fn, x, y)
        grads = tape.gradient(loss, kernels)
        norms = [tf.norm(g) if g is not None else tf.constant(float("nan")) for g in grads]
        return tf.stack([tf.cast(v, tf.float32) for v in [loss, *norms, *shares]]), outputs

    def run(x: Any, y: Any) -> tuple[np.ndarray, dict, dict[int, np.ndarray]]:
        values, outputs = probe(x, y)
        return values.numpy(), {}, {i: out.numpy()
                                    for (i, _), out in zip(plan.kernels, outputs, strict=True)}

    return run


def _jax_probe(plan: _Plan, loss_fn: Any, model: Any) -> ProbeFunction:
    """The JAX version: `jax.value_and_grad` over the kernels, through a StatelessScope."""
    import jax
    import jax.numpy as jnp
    import keras

    kernel_ids = {id(k) for _, k in plan.kernels}
    variables = list(model.variables)

    def objective(kernel_values: list[Any], other_values: list[Any], x: Any, y: Any
                  ) -> tuple[Any, list[Any]]:
        kv, ov = iter(kernel_values), iter(other_values)
        mapping = [(v, next(kv) if id(v) in kernel_ids else next(ov)) for v in variables]
        with keras.StatelessScope(state_mapping=mapping):
            loss, shares, outputs = _forward(keras, plan, loss_fn, x, y)
        return loss, (shares, outputs)

    grad_fn = jax.jit(jax.value_and_grad(objective, has_aux=True))

    def probe(x: Any, y: Any) -> tuple[np.ndarray, dict, dict[int, np.ndarray]]:
        kernel_values = [v.value for v in variables if id(v) in kernel_ids]
        other_values = [v.value for v in variables if id(v) not in kernel_ids]
        (loss, (shares, outputs)), grads = grad_fn(kernel_values, other_values, x, y)
        norms = [jnp.linalg.norm(g) for g in grads]
        picked = {i: np.asarray(out) for (i, _), out in zip(plan.kernels, outputs, strict=True)}
        return np.asarray([float(loss), *map(float, norms), *map(float, shares)]), {}, picked

    return probe


def _forward_probe(plan: _Plan, loss_fn: Any) -> ProbeFunction:
    """Other backends: the loss and unit shares only; gradient norms are NaN (unknown)."""
    import keras

    def probe(x: Any, y: Any) -> tuple[np.ndarray, dict, dict[int, np.ndarray]]:
        loss, shares, outputs = _forward(keras, plan, loss_fn, x, y)
        values = [loss, *[float("nan")] * len(plan.kernels), *shares]
        picked = {i: np.asarray(keras.ops.convert_to_numpy(out))
                  for (i, _), out in zip(plan.kernels, outputs, strict=True)}
        return np.asarray([float(keras.ops.convert_to_numpy(v)) for v in values]), {}, picked

    return probe


def make_probe_function(model: Any, compiled: bool = False
                        ) -> tuple[_Plan, ProbeFunction]:
    """The model's plan and its probe function.

    A small Dense network gets the NumPy pass (`numpy_probe`: no tracing, a fraction of
    a millisecond); any other model the compiled one for the current Keras backend.
    `compiled=True` skips the NumPy pass (the tests compare the two).
    """
    import keras

    from .numpy_probe import numpy_probe  # noqa: I001

    plan = _Plan(model)
    if not compiled:
        fast = numpy_probe(model, [i for i, _ in plan.kernels], plan.activations, FLAT_ENDS,
                           SATURATED_SHARE, read_variable)
        if fast is not None:
            return plan, fast
    loss_fn = _loss_function(model)
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return plan, _tensorflow_probe(plan, loss_fn)
    if backend == "jax":
        return plan, _jax_probe(plan, loss_fn, model)
    return plan, _forward_probe(plan, loss_fn)


class StatsCollector:
    """Takes samples of a model on a probe batch; the part of the callback that is not Keras's.

    Kept apart from the callback so a training loop that is not `fit` (the engine's
    compiled loop) can call `sample` between its calls, and so tests can drive it.

    Args:
        x_probe: the probe inputs (see `pick_probe`).
        y_probe: their labels or targets.
        sink: called with every `Sample` and `EpochLogs` (on the training thread; keep it
            quick: the detectors are).
        feed: given every sample with the weighted layers' kernels and probe outputs
            (`layers.LayerFeed`, the Layers view's events), and flushed at each run's end;
            its time counts against the budget like the sample's.
    """

    def __init__(self, x_probe: np.ndarray, y_probe: np.ndarray,
                 sink: Callable[[Sample | EpochLogs], None] | None = None,
                 feed: LayerFeed | None = None) -> None:
        self.x_probe = np.asarray(x_probe)
        self.y_probe = np.asarray(y_probe)
        self.sink = sink
        self.feed = feed
        self.samples: list[Sample] = []
        self.epochs: list[EpochLogs] = []
        self.cost = 0.0  # seconds spent sampling, the first (tracing) sample left out
        #: seconds the first sample of a model took: with the compiled probe it includes
        #: tracing, once per model, which the budget must not hold against later samples.
        self.warmup = 0.0
        self._model: Any = None
        self._plan: _Plan | None = None
        self._fn: ProbeFunction | None = None
        self._previous: dict[int, np.ndarray] = {}
        self._previous_seen = 0
        self._failed = False

    def attach(self, model: Any) -> None:
        """Uses `model` from now on (the probe function is made at the first sample)."""
        if model is not self._model:
            self._model = model
            self._plan = None
            self._fn = None
            self._previous = {}

    def begin_run(self) -> None:
        """A new run of `fit` begins: its batch count starts again from 0."""
        self._previous = {}
        self._previous_seen = 0

    def sample(self, epoch: int, step: int, seen: int, loss: float | None,
               epoch_end: bool = False, detect: bool = True) -> Sample | None:
        """Takes one sample now and hands it to the sink and the feed; None if sampling
        failed. With `detect=False` it goes to the feed only (not kept, not to the sink).

        A failure (an unusual layer the probe cannot run) is logged once and switches the
        collector off for the run: diagnostics must never end a training run.
        """
        if self._failed or self._model is None:
            return None
        started = time.perf_counter()
        first = self._fn is None
        try:
            result, weights, outputs = self._take(epoch, step, seen, loss, epoch_end)
        except Exception:  # noqa: BLE001 - diagnostics never stop training
            log.exception("diagnostics sampling failed; no more samples this run")
            self._failed = True
            return None
        finally:
            spent = time.perf_counter() - started
            if first:
                self.warmup += spent
            else:
                self.cost += spent
        if detect:
            self.samples.append(result)
            if self.sink is not None:
                self.sink(result)
        if self.feed is not None:
            started = time.perf_counter()
            try:
                self.feed.offer(result, weights, outputs)
            except Exception:  # noqa: BLE001 - the Layers view never stops training
                log.exception("the Layers view's statistics failed; no more this run")
                self.feed = None
            self.cost += time.perf_counter() - started
        return result

    def end_run(self) -> None:
        """The run ended: the feed sends the sample it kept back, if any."""
        if self.feed is None:
            return
        try:
            self.feed.flush()
        except Exception:  # noqa: BLE001 - the Layers view never stops training
            log.exception("the Layers view's last statistics failed")

    def record_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        """Keeps an epoch's logs and hands them to the sink."""
        item = EpochLogs(int(epoch), {str(k): float(v) for k, v in logs.items()
                                      if _float(v) is not None})
        self.epochs.append(item)
        if self.sink is not None:
            self.sink(item)

    def _take(self, epoch: int, step: int, seen: int, loss: float | None, epoch_end: bool
              ) -> tuple[Sample, dict[int, np.ndarray], dict[int, np.ndarray]]:
        """The sample, the weighted layers' kernels and their outputs on the probe batch
        (both by layer index, for the feed)."""
        model = self._model
        if self._fn is None or self._plan is None:
            self._plan, self._fn = make_probe_function(model)
        plan = self._plan
        values, kernels, outputs = self._fn(self.x_probe, self.y_probe)
        weights: dict[int, np.ndarray] = {}
        n_kernels = len(plan.kernels)
        grads = {i: float(values[1 + j]) for j, (i, _) in enumerate(plan.kernels)}
        shares = {i: (kind, float(values[1 + n_kernels + j]))
                  for j, (i, kind, _) in enumerate(plan.activations)}
        batches = seen - self._previous_seen
        rows = []
        for i, layer in enumerate(plan.layers):
            weight_norm = update = grad = None
            if i in grads:
                now = kernels.get(i)
                if now is None:
                    now = read_variable(layer.kernel)
                now = np.asarray(now, dtype=np.float32)
                weights[i] = now
                weight_norm = float(np.linalg.norm(now))
                before = self._previous.get(i)
                if before is not None and before.shape == now.shape and batches > 0:
                    base = float(np.linalg.norm(before))
                    change = float(np.linalg.norm(now - before))
                    update = change / base / batches if base > 0 else None
                self._previous[i] = now
                grad = grads[i] if not math.isnan(grads[i]) or self._gradients else None
            kind, share = shares.get(i, (None, None))
            name, layer_type, activation = plan.names[i]
            rows.append(LayerStats(
                index=i, name=name, kind=layer_type, activation=activation, grad_norm=grad,
                weight_norm=weight_norm, update_ratio=update,
                dead=share if kind == "dead" else None,
                saturated=share if kind == "saturated" else None, units=plan.units[i]))
        if batches > 0:
            self._previous_seen = seen
        sample = Sample(int(epoch), int(step), int(seen), loss, float(values[0]), tuple(rows),
                        bool(epoch_end), _learning_rate(model))
        return sample, weights, outputs

    @property
    def _gradients(self) -> bool:
        """Whether the backend computes gradient norms (a NaN from it is a real NaN)."""
        import keras

        return keras.backend.backend() in ("tensorflow", "jax")


def _units(output: Any) -> int:
    try:
        last = output.shape[-1]
    except Exception:  # noqa: BLE001 - a layer not called symbolically
        return 0
    return int(last) if isinstance(last, int) else 0


class _DiagnosticsHooks:
    """The Keras callback's hooks (mixed into `keras.callbacks.Callback` lazily).

    The per-batch hook (`_BatchHooks`) is `on_train_batch_begin`, which gets no logs: a
    callback on `on_train_batch_end` would make Keras turn every batch's logs into Python
    floats (a device sync per batch). The running loss is read from the model only when a
    sample is due, and the window's mean is worked out from two running means.

    Args:
        collector: the StatsCollector that takes and keeps the samples.
        every: batches between two samples inside an epoch.
        budget: most share of wall time the samples may take (None: no limit, for runs
            that must sample at the same batches every time, such as the benchmark).
    """

    def __init__(self, collector: StatsCollector, every: int = DEFAULT_EVERY,
                 budget: float | None = DEFAULT_BUDGET) -> None:
        super().__init__()  # keras.callbacks.Callback
        self.collector = collector
        self.every = max(1, int(every))
        self.budget = budget
        self.epoch = 0
        self.batch = 0  # batches finished in the current epoch (per-batch hooks only)
        self.seen = 0  # batches finished since the run began, at the last epoch's end
        self.last_steps = 0  # batches in the last epoch that ended
        self.last_sample_seen = 0
        self.window_start = (0, 0.0)  # (batches into the epoch, running mean loss there)
        self.t0 = time.perf_counter()
        self.raw_model: Any = None
        #: False while an epoch ends whose weights are already a later epoch's (the
        #: engine's compiled loop runs several epochs per call and sets this as it sets
        #: its monitor's `snapshot_at_epoch_end`): the logs are kept, no sample is taken.
        self.weights_current = True

    def set_model(self, model: Any) -> None:
        super().set_model(model)
        self.raw_model = model  # no JAX state sync on access, unlike `self.model`

    def _affordable(self) -> bool:
        if self.budget is None:
            return True
        return self.collector.cost <= self.budget * (time.perf_counter() - self.t0)

    def _sample(self, step: int, loss: float | None, epoch_end: bool = False) -> None:
        self.collector.attach(self.model)  # JAX: the model with its state synced
        self.collector.sample(self.epoch, step, self.seen + step, loss, epoch_end)
        self.last_sample_seen = self.seen + step

    def _window(self, step: int, running: float | None) -> float | None:
        """Mean loss of the batches since the window began, from the running means at its
        two ends (Keras's loss is a mean over the epoch so far)."""
        first, first_mean = self.window_start
        if running is None or not math.isfinite(running) or step <= first or first == 0:
            return running
        return (running * step - first_mean * first) / (step - first)

    def on_train_begin(self, logs: Any = None) -> None:
        self.t0 = time.perf_counter()
        self.collector.begin_run()
        self._sample(0, None)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.epoch = int(epoch)
        self.batch = 0
        self.window_start = (0, 0.0)

    def _steps(self) -> int:
        """Batches in the epoch that just ended."""
        steps = self.params.get("steps") if isinstance(self.params, dict) else None
        return int(steps) if steps else self.batch

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        values = {str(k): float(v) for k, v in (logs or {}).items() if _float(v) is not None}
        self.epoch = int(epoch)
        step = self._steps()
        loss = values.get("loss")
        due = self._affordable() or (loss is not None and not math.isfinite(loss))
        if due and self.weights_current:
            self._sample(step, self._window(step, loss), epoch_end=True)
        self.seen += step
        self.last_steps = step
        self.collector.record_epoch(self.epoch, values)

    def on_train_end(self, logs: Any = None) -> None:
        # The Layers view ends on the weights the run ended with: a last epoch end that
        # the budget skipped is sampled for the feed alone (the detectors keep their
        # schedule, so a seeded run reports the same findings with or without the view).
        if self.collector.feed is not None and self.last_sample_seen != self.seen:
            self.collector.attach(self.model)
            self.collector.sample(self.epoch, self.last_steps, self.seen, None,
                                  epoch_end=True, detect=False)
            self.last_sample_seen = self.seen
        self.collector.end_run()


class _BatchHooks(_DiagnosticsHooks):
    """Adds samples inside long epochs (more than `every` batches)."""

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        self.batch = batch
        if batch and self.seen + batch - self.last_sample_seen >= self.every \
                and self._affordable():
            running = self._running_loss()
            self._sample(batch, self._window(batch, running))
            if running is not None:
                self.window_start = (batch, running)

    def _running_loss(self) -> float | None:
        try:
            logs = self.raw_model.get_metrics_result()
        except Exception:  # noqa: BLE001 - no metrics yet
            return None
        return _float(logs.get("loss")) if isinstance(logs, dict) else None

    def _steps(self) -> int:
        steps = super()._steps()
        return max(steps, self.batch + 1)


_TYPES: dict[bool, type] = {}


def diagnostics_callback(collector: StatsCollector, every: int = DEFAULT_EVERY,
                         budget: float | None = DEFAULT_BUDGET,
                         steps_per_epoch: int | None = None) -> Any:
    """A Keras callback that feeds `collector`.

    Args:
        collector: where the samples go.
        every: batches between two samples inside an epoch.
        budget: most share of wall time for sampling; None for none.
        steps_per_epoch: batches per epoch when known. At or under `every` the callback
            has no per-batch hook at all (it samples at epoch ends only), so the engine's
            compiled loop, which refuses callbacks with per-batch hooks, can still run.
    """
    per_batch = steps_per_epoch is None or steps_per_epoch > every
    cls = _TYPES.get(per_batch)
    if cls is None:
        import keras

        base = _BatchHooks if per_batch else _DiagnosticsHooks
        name = "LayerLabDiagnostics" + ("" if per_batch else "PerEpoch")
        cls = _TYPES[per_batch] = type(name, (base, keras.callbacks.Callback), {})
    return cls(collector, every, budget)


def finite(values: Sequence[float | None]) -> list[float]:
    """The values that are numbers (not None, NaN or infinite)."""
    return [float(v) for v in values if v is not None and math.isfinite(v)]
