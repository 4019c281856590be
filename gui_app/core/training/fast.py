"""The compiled loop: many training steps, epoch ends and validation in one TensorFlow call.

Why it exists: on a Playground-sized problem (a few hundred points, a small Dense stack)
plain `model.fit` spends nearly all of an epoch outside the maths. Each epoch it makes a
fresh `tf.data` iterator (about 20 ms on two cores), calls the compiled step from Python
once per batch, and runs a whole `evaluate` (another iterator, a callback list) for the
validation data: the circle lesson trained at 6 to 12 epochs a second although its maths
takes about 3 ms an epoch (`benchmarks/demo_speed.py`).

The compiled loop runs the same `model.train_step` and `model.test_step` that `fit` runs,
on the same batches in the same order, inside one `tf.while_loop`: the data are tensors
held for the run, each batch is a `tf.gather` of the epoch's order, the metrics are reset
and read where `fit` resets and reads them, and every epoch is validated. One call (a
"chunk") runs as many steps as fit in about `CHUNK_SECONDS`: whole epochs when they are
short (it then ends at an epoch's end), part of one when they are long, and returns each
finished epoch's logs; Python then sends the same events and calls the same callbacks
`fit` would. History values and weights are `fit`'s to the last bit in the tests
(tests/core/test_training_fast.py), so `layerlab export`'s plain `fit` script still
reproduces a run.

The data order is `fit`'s as well. Keras shuffles array data with `tf.random.shuffle`
inside its `tf.data` pipeline; with a global seed (`fit.seed`, which LayerLab sets) that
op draws the same permutation for every iterator, so every epoch of a seeded `fit` sees
the same order. `EpochOrders` reads that permutation from a Keras data adapter made the
way `fit` makes one, for two epochs, and uses it for every epoch (should the two differ
in some later Keras, the run uses `fit`). Without a seed each epoch gets a fresh NumPy
permutation, as each of `fit`'s epochs gets a fresh one.

The loop is used only where it gives `fit`'s numbers; `fast_problem` says why not
otherwise and the run uses `fit`: another backend than TensorFlow, several GPUs,
streamed or very large data, `fit.steps_per_epoch`, callbacks with per-batch or
validation hooks, metrics that are not single numbers, a model with its own `train_step`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from .plan import _FitPlan

#: Training and validation data above this many bytes train with plain `fit`: the loop
#: holds them as tensors for the run, and above Playground sizes `fit`'s own overhead is
#: small next to the maths anyway.
FAST_MAX_BYTES = 64 * 1024 * 1024

#: Longest and shortest time one compiled call aims to take. Pause, stop, commands
#: (predict, evaluate...) and progress reports wait for the call in flight, so it is kept
#: well under a tenth of a second; it is half the progress interval when that is shorter,
#: down to the minimum, below which the Python work per call (about 1 ms) starts to count.
CHUNK_SECONDS = 0.05
MIN_CHUNK_SECONDS = 0.02
#: While someone is asking the worker for things (a click on the plane predicts, the
#: window's pictures of the visible plane), calls aim for this instead, for
#: INTERACTIVE_SECONDS after the last command served: a command waits for the call in
#: flight, and at 50 ms a call a click's answer came in 47 ms median (p95 60-84 ms).
QUICK_CHUNK_SECONDS = 0.012
INTERACTIVE_SECONDS = 2.0

#: Callback hooks the loop never calls: a callback that overrides any of them needs `fit`.
_BATCH_HOOKS = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
                "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end")


class _Unsupported(Exception):
    """The loop cannot give `fit`'s numbers for this model; the run uses `fit`."""


def _overrides(callback: Any, hook: str, base: type) -> bool:
    own = getattr(type(callback), hook, None)
    if own is not getattr(base, hook, None):
        return True
    return hook in vars(callback)  # LambdaCallback sets its hooks on the instance


def fast_problem(model: Any, plan: _FitPlan, callbacks: list[Any], device_choice: str,
                 virtual: bool) -> str | None:
    """Why the compiled loop would not give this run `fit`'s numbers, or None when it would.

    Args:
        model: the compiled Keras model.
        plan: the run's fit plan.
        callbacks: the user's callbacks (the engine's monitor calls no per-batch work the
            loop lacks).
        device_choice: the session's device ("all" means MirroredStrategy).
        virtual: whether the plan is a virtual-epoch one (its repeated data are laid out
            epoch after epoch and read in order, which the loop does too).
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return f"the compiled loop is written for TensorFlow, not {keras.backend.backend()}"
    if device_choice == "all":
        return "several GPUs train through MirroredStrategy, which fit drives"
    if plan.y is None or not isinstance(plan.x, np.ndarray) or not isinstance(plan.y, np.ndarray):
        return "the batches are streamed"
    if plan.x.dtype == object or plan.y.dtype == object:
        return "the data are not numbers"
    size = plan.x.nbytes + plan.y.nbytes
    if plan.validation is not None:
        size += plan.validation[0].nbytes + plan.validation[1].nbytes
    if size > FAST_MAX_BYTES:
        return f"the data are larger than {FAST_MAX_BYTES // 2**20} MiB"
    if plan.keras_steps is not None:
        whole = plan.keras_steps * plan.batch_size * plan.epochs_in_run
        if not virtual or plan.shuffle or len(plan.x) != whole:
            return "fit.steps_per_epoch reads batches across epoch ends"
    if keras.config.max_epochs() or keras.config.max_steps_per_epoch():
        return "Keras caps epochs or steps for debugging"
    if getattr(model, "run_eagerly", False) or int(getattr(model, "steps_per_execution", 1)) != 1:
        return "the model is compiled to run eagerly or several steps per call"
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    for method in ("train_step", "test_step"):
        if getattr(type(model), method, None) is not getattr(TensorFlowTrainer, method):
            return f"the model has its own {method}"
    base = keras.callbacks.Callback
    for callback in callbacks:
        if isinstance(callback, keras.callbacks.ModelCheckpoint) \
                and getattr(callback, "save_freq", None) == "epoch":
            continue  # its batch hook does nothing when it saves once an epoch
        hooks = [h for h in _BATCH_HOOKS if _overrides(callback, h, base)]
        if hooks:
            return f"the callback {type(callback).__name__} works per batch ({hooks[0]})"
    return None


class EpochOrders:
    """The sample order of each epoch of a run, as `fit` would read the data.

    Args:
        n: rows in the training arrays.
        batch_size: samples per batch.
        steps: batches per epoch.
        shuffle: `fit`'s shuffle argument.
        seeded: whether the run has a seed (`fit.seed`): then the order must be `fit`'s,
            read from Keras; without one each epoch gets a fresh permutation, as under
            `fit`, from NumPy.
        virtual: rows laid out epoch after epoch (virtual epochs), read in order.

    Raises:
        _Unsupported: for a seeded run whose Keras order changes from epoch to epoch
            (not the case up to Keras 3.15): the loop could not follow it, `fit` trains.
    """

    def __init__(self, n: int, batch_size: int, steps: int, shuffle: bool, seeded: bool,
                 virtual: bool = False) -> None:
        self.n = n
        self.length = steps * batch_size if virtual else n
        self.virtual = virtual
        self.fixed: np.ndarray | None = None
        self._rng: np.random.Generator | None = None
        self._drawn: dict[int, np.ndarray] = {}
        if virtual:
            return
        if not shuffle:
            self.fixed = np.arange(n, dtype=np.int64)
        elif seeded:
            first, second = _keras_permutations(n)
            if not np.array_equal(first, second):
                raise _Unsupported("Keras shuffles each epoch differently")
            self.fixed = first  # a seeded fit: the same permutation every epoch
        else:
            self._rng = np.random.default_rng()

    def rows(self, first: int, count: int) -> np.ndarray:
        """The orders of epochs `first` .. `first + count - 1` of the run, one per row
        (a single row when every epoch has the same order)."""
        if self.fixed is not None:
            return self.fixed[None, :]
        if self.virtual:
            start = first * self.length
            return np.arange(start, start + count * self.length, dtype=np.int64).reshape(
                count, self.length)
        for old in [k for k in self._drawn if k < first]:
            del self._drawn[old]  # an epoch split across calls keeps its order; older go
        assert self._rng is not None
        for epoch in range(first, first + count):
            if epoch not in self._drawn:
                self._drawn[epoch] = self._rng.permutation(self.n).astype(np.int64)
        return np.stack([self._drawn[e] for e in range(first, first + count)])


def _keras_permutations(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The orders of two epochs from a Keras array adapter, made as `fit` makes its own
    and read as `fit` reads epochs, one iterator each (about 40 ms in all)."""
    from keras.src.trainers.data_adapters import get_data_adapter

    # One batch of all rows: the permutation is drawn before batching, so the batch size
    # does not change it, and one batch is the cheapest to read.
    dataset = get_data_adapter(x=np.arange(n, dtype=np.int64), batch_size=n,
                               shuffle=True).get_tf_dataset()

    def epoch() -> np.ndarray:
        parts = [np.asarray(b[0] if isinstance(b, tuple) else b) for b in dataset]
        return np.concatenate(parts).astype(np.int64).reshape(-1)

    return epoch(), epoch()


def as_tensors(*arrays: np.ndarray | None) -> tuple[Any, ...]:
    """The arrays (None skipped) as the tensors `fit` feeds: Keras's own conversion, which
    casts floats to Keras's float type."""
    import tensorflow as tf
    from keras.src.trainers.data_adapters import array_slicing

    present = tuple(a for a in arrays if a is not None)
    converted = array_slicing.convert_to_sliceable(present, target_backend="tensorflow")
    return tuple(tf.convert_to_tensor(t) for t in converted)


@dataclass
class ChunkResult:
    """What one compiled call did.

    Attributes:
        steps: training steps it ran.
        train: the finished epochs' training logs, one row each, in `keys` order.
        val: their validation logs (rows of NaN without validation data).
    """

    steps: int
    train: np.ndarray
    val: np.ndarray


class CompiledLoop:
    """`model.train_step` / `model.test_step` over in-memory tensors, several steps a call.

    Made once per model and compile (the worker keeps it across runs, as Keras keeps
    `model.train_function`), it is traced when made: a model `fit` would reject fails
    here, before any weight changes, and the run then uses `fit` and reports `fit`'s error.

    Args:
        model: the compiled Keras model.
        batch_size: samples per batch (training and validation, as `fit` uses it).
        data: a run's tensors (`as_tensors`): x, y and the sample weights if any, then the
            validation x and y if any; only their types and shapes are kept, `run` takes
            each run's own.
        validated: whether the last two tensors are validation data.
    """

    def __init__(self, model: Any, batch_size: int, data: tuple[Any, ...], validated: bool
                 ) -> None:
        import tensorflow as tf

        self.tf = tf
        self.model = model
        self.optimizer = model.optimizer
        self.batch_size = int(batch_size)
        self.validated = bool(validated)
        self.signature = tuple(tf.TensorSpec([None, *t.shape[1:]], t.dtype) for t in data)
        self.keys: list[str] = []
        self.loss_index = -1
        self._function = self._trace(len(data) - 2 if validated else len(data))

    def matches(self, model: Any, batch_size: int, data: tuple[Any, ...]) -> bool:
        """Whether this loop can run `data` for `model` as compiled now."""
        if model is not self.model or model.optimizer is not self.optimizer:
            return False
        if batch_size != self.batch_size or len(data) != len(self.signature):
            return False
        return all(spec.is_compatible_with(t) for spec, t in zip(self.signature, data,
                                                                   strict=True))

    def _trace(self, train_count: int) -> Any:
        import keras

        tf = self.tf
        model = self.model
        jit = bool(model.jit_compile)
        # The steps as `fit` compiles them: their own tf.function, XLA when Keras uses it.
        train_step = tf.function(model.train_step, jit_compile=jit, autograph=False,
                                 reduce_retracing=True)
        test_step = tf.function(model.test_step, jit_compile=jit, autograph=False,
                                reduce_retracing=True)
        # The metrics, the loss and the optimizer are built before the loop is traced (as
        # `fit` builds them on the other backends), so that the loop's metric resets reach
        # every metric variable: Keras would otherwise make some while tracing the step.
        model._symbolic_build(data_batch=tuple(
            keras.KerasTensor([1, *spec.shape[1:]], spec.dtype.name)
            for spec in self.signature[:train_count]))
        results = model.get_metrics_result()
        for key, value in results.items():
            if np.ndim(value) != 0:
                raise _Unsupported(f"the metric {key!r} is not a single number")
        self.keys = [str(k) for k in results]
        self.loss_index = self.keys.index("loss") if "loss" in self.keys else -1
        keys, batch, loss_index = list(results), self.batch_size, self.loss_index
        width = len(keys)

        def read() -> Any:
            values = model.get_metrics_result()
            return tf.stack([tf.cast(tf.reshape(values[k], []), tf.float64) for k in keys])

        def reset() -> Any:
            model.reset_metrics()
            return tf.constant(0)

        def validate(xv: Any, yv: Any) -> Any:
            model.reset_metrics()
            count = tf.shape(xv)[0]
            steps = (count + batch - 1) // batch

            def body(s: Any) -> Any:
                lo = s * batch
                hi = tf.minimum(lo + batch, count)
                test_step((xv[lo:hi], yv[lo:hi]))
                return (s + 1,)

            tf.while_loop(lambda s: s < steps, body, (tf.constant(0),))
            return read()

        def loop(orders: Any, start: Any, count: Any, finish: Any, *data: Any) -> Any:
            train, val = data[:train_count], data[train_count:]
            nan_row = tf.fill([width], tf.constant(float("nan"), tf.float64))
            rows = tf.shape(orders)[0]
            length = tf.shape(orders)[1]
            steps = (length + batch - 1) // batch

            def end_epoch(done: Any, trained: Any, validated: Any) -> Any:
                logs = read()
                trained = trained.write(done, logs)
                validated = validated.write(done, validate(*val) if val else nan_row)
                ok = tf.math.is_finite(logs[loss_index]) if loss_index >= 0 \
                    else tf.constant(True)
                return done + 1, ok, trained, validated

            def body(i: Any, done: Any, ok: Any, trained: Any, validated: Any) -> Any:
                position = start + i
                epoch = position // steps
                local = position - epoch * steps
                tf.cond(tf.equal(local, 0), reset, lambda: tf.constant(0))
                lo = local * batch
                picked = orders[tf.minimum(epoch, rows - 1), lo:tf.minimum(lo + batch, length)]
                train_step(tuple(tf.gather(t, picked) for t in train))
                return (i + 1, *tf.cond(
                    tf.equal(local, steps - 1),
                    lambda: end_epoch(done, trained, validated),
                    lambda: (done, ok, trained, validated)))

            def more(i: Any, done: Any, ok: Any, *_: Any) -> Any:
                return tf.logical_and(i < count, ok)

            trained = tf.TensorArray(tf.float64, size=0, dynamic_size=True,
                                     element_shape=[width])
            validated = tf.TensorArray(tf.float64, size=0, dynamic_size=True,
                                       element_shape=[width])
            i, done, ok, trained, validated = tf.while_loop(
                more, body, (tf.constant(0), tf.constant(0), tf.constant(True), trained,
                             validated))
            # A stop inside an epoch ends that epoch here, with validation, as Keras does.
            inside = tf.not_equal((start + i) % steps, 0)
            done, ok, trained, validated = tf.cond(
                tf.logical_and(finish, tf.logical_and(inside, ok)),
                lambda: end_epoch(done, trained, validated),
                lambda: (done, ok, trained, validated))
            return i, trained.stack(), validated.stack()

        signature = (tf.TensorSpec([None, None], tf.int64), tf.TensorSpec([], tf.int32),
                     tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.bool), *self.signature)
        function = tf.function(loop, input_signature=signature, autograph=False)
        function.get_concrete_function()
        return function

    def run(self, orders: np.ndarray, start: int, count: int, finish: bool,
            data: tuple[Any, ...]) -> ChunkResult:
        """Trains `count` steps from step `start` of the first epoch in `orders`.

        Each epoch that ends inside the call is validated and its logs returned; with
        `finish`, an epoch left unfinished at the end is ended there too (a stop). The loop
        ends early after an epoch whose loss is not a number.
        """
        tf = self.tf
        steps, train, val = self._function(
            tf.constant(orders, tf.int64), tf.constant(start, tf.int32),
            tf.constant(count, tf.int32), tf.constant(bool(finish)), *data)
        return ChunkResult(int(steps), np.asarray(train).reshape(-1, len(self.keys)),
                           np.asarray(val).reshape(-1, len(self.keys)))


class ChunkSizer:
    """How many steps the next compiled call runs, to take about `target` seconds.

    The first call includes one-time work (TensorFlow instantiates and optimises the
    function when it first runs), so it runs one step, and the next four, before the
    pace is known; after that the count follows the measured seconds per step, growing at
    most fourfold a call so that a slow machine never gets a long call by surprise.
    """

    def __init__(self, target: float) -> None:
        self.target = target
        self.per_step: float | None = None
        self.calls = 0
        self.last = 1

    def next(self, limit: int) -> int:
        if self.per_step is None:
            wanted = 1 if self.calls == 0 else 4
        else:
            wanted = int(self.target / max(self.per_step, 1e-7))
        count = max(1, min(wanted, 4 * self.last, limit))
        self.last = count
        return count

    def took(self, seconds: float, steps: int) -> None:
        self.calls += 1
        if self.calls == 1 or steps <= 0:
            return
        pace = seconds / steps
        self.per_step = pace if self.per_step is None else 0.5 * self.per_step + 0.5 * pace


def chunk_target(progress_interval: float, since_command: float = math.inf) -> float:
    """Seconds one compiled call aims for (see CHUNK_SECONDS), `since_command` seconds
    after the worker last served a command (QUICK_CHUNK_SECONDS within
    INTERACTIVE_SECONDS of one)."""
    if since_command < INTERACTIVE_SECONDS:
        return QUICK_CHUNK_SECONDS
    return min(CHUNK_SECONDS, max(MIN_CHUNK_SECONDS, 0.5 * progress_interval))


def sample_weights(plan: _FitPlan) -> np.ndarray | None:
    """The per-sample weights `fit` makes from `class_weight` (Keras's own conversion)."""
    if plan.class_weight is None:
        return None
    from keras.src.trainers.data_adapters import data_adapter_utils

    return data_adapter_utils.class_weight_to_sample_weights(plan.y, plan.class_weight)


def fit_compiled(loop: CompiledLoop, data: tuple[Any, ...], orders: EpochOrders,
                 plan: _FitPlan, monitor: Any, callbacks: list[Any],
                 watchers: list[Any] | None = None) -> None:
    """What `model.fit` does with its callbacks, on the compiled loop.

    The engine's monitor hears the same hooks as under `fit`, with a compiled call where
    `fit` has a batch (as Keras does with `steps_per_execution`): commands, pause and stop
    are served between calls. User callbacks get every epoch's begin and end with the
    weights of that epoch, because with them a call never runs past an epoch's end.
    `watchers` (the live diagnostics) hear the same hooks but do not hold calls to one
    epoch: their `weights_current` says whether an epoch's end has that epoch's weights
    (only the last epoch a call finished has).
    """
    import keras

    model = loop.model
    steps = plan.steps_per_epoch
    first_epoch = plan.initial_epoch
    end = first_epoch + plan.epochs_in_run
    keys = loop.keys
    watchers = list(watchers or [])
    hooks = keras.callbacks.CallbackList([*callbacks, *watchers, monitor], add_history=True,
                                         add_progbar=False, verbose=0, epochs=end,
                                         steps=steps, model=model)
    per_epoch = bool(callbacks)
    sizer = ChunkSizer(chunk_target(monitor.interval))
    model.stop_training = False
    hooks.on_train_begin()
    epoch, local = first_epoch, 0
    last_logs: dict[str, float] | None = None
    while epoch < end:
        if local == 0:
            monitor.between_chunks(0)
            if model.stop_training:
                break  # asked between two epochs: none is begun
            hooks.on_epoch_begin(epoch)
        else:
            monitor.between_chunks(local)
        sizer.target = chunk_target(monitor.interval,
                                    time.perf_counter() - monitor.served_at)
        finish = bool(model.stop_training)
        left = (end - epoch) * steps - local
        count = 0 if finish else sizer.next(steps - local if per_epoch else left)
        if local + count >= steps:
            # A call that reaches an epoch's end stops at one: a stop or a pause then
            # comes between two epochs rather than splitting one.
            count = (local + count) // steps * steps - local
        rows = max(1, -(-(local + count) // steps))
        started = time.perf_counter()
        result = loop.run(orders.rows(epoch - first_epoch, rows), local, count, finish, data)
        seconds = time.perf_counter() - started
        if sizer.calls == 0:
            monitor.add_warmup(seconds)
        sizer.took(seconds, result.steps)
        position = local + result.steps
        ended = len(result.train)
        for j in range(ended):
            if j:
                hooks.on_epoch_begin(epoch + j)
            natural = (j + 1) * steps <= position
            last_step = steps if natural else position - j * steps
            monitor.batch = last_step - 1
            train = dict(zip(keys, map(float, result.train[j]), strict=True))
            logs = dict(train)
            if loop.validated:
                logs.update({f"val_{k}": float(v)
                             for k, v in zip(keys, result.val[j], strict=True)})
            final = j == ended - 1
            if final:
                monitor.report_if_due(epoch + j, last_step, train)
            monitor.snapshot_at_epoch_end = final
            for watcher in watchers:
                watcher.weights_current = final
            hooks.on_epoch_end(epoch + j, logs)
            last_logs = logs
        monitor.snapshot_at_epoch_end = True
        for watcher in watchers:
            watcher.weights_current = True
        if finish or (ended and not math.isfinite(
                float(result.train[-1][loop.loss_index]) if loop.loss_index >= 0 else 0.0)):
            break
        epoch += ended
        local = position - ended * steps
        if local:
            if ended:
                hooks.on_epoch_begin(epoch)  # it began inside the call
            monitor.batch = local - 1
        monitor.on_train_batch_end(max(local - 1, 0))
        if model.stop_training and local == 0:
            break
    if plan.epochs_in_run > 0 and hasattr(model.optimizer, "finalize_variable_values"):
        model.optimizer.finalize_variable_values(model.trainable_weights)
    hooks.on_train_end(logs=last_logs)
