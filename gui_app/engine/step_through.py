"""The engine's side of Step Through: one training step on one batch, with its numbers.

`SessionStepper.step()` runs on the session's worker thread (the one thread that owns the
Keras model), between runs only. It takes the next batch of the pass (`core.step_through.
batch_order`: a permutation seeded by the fit seed and the pass), computes the loss on the
batch and its gradient with respect to every trainable weight at the current weights,
and applies the update with the model's own optimizer: what one `train_on_batch` does,
so that N steps here leave the weights where `fit` leaves them after the same N batches.

The gradient is taken the backend's way, with plain Keras around it: `tf.GradientTape`
on TensorFlow, `jax.value_and_grad` of `model.compute_loss_and_updates` (the stateless
call `fit` differentiates) and `optimizer.stateless_apply` on JAX. The boundary picture
before and after the step is made as the session makes its snapshots (its probe and its
quick forward pass).

Runs in the engine process only; Keras is imported when the first step is taken.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..core.step_through import BatchStep, batch_order, step_through_problem
from ..core.training import SessionError


class SessionStepper:
    """Steps one session's model a batch at a time; its place in the pass is kept here
    (made on the worker thread only, so unlocked).

    Args:
        session: the `TrainingSession`.
        keras: the `keras` module (imported here when None).
    """

    def __init__(self, session: Any, keras: Any = None) -> None:
        self.session = session
        self._keras = keras
        self._model: Any = None  # the model the place below belongs to
        self._epoch = 0
        self._batch = 0
        self._order: np.ndarray | None = None
        self._steps = 0
        self._rng: np.random.Generator | None = None  # passes without a seed
        self._trained_epochs = 0  # the session's epoch count at the last step

    def step(self, restart: bool = False, timeout: float | None = 60) -> BatchStep:
        """Trains the session's model on its next batch and says what happened.

        Args:
            restart: begin a new pass from its first batch (at the session's epoch) rather
                than go on where the last step left off.
            timeout: seconds to wait for the worker thread.

        Raises:
            SessionError: while a run is going, or for a model or data that cannot be
                stepped through (the message says why and what to do).
        """
        session = self.session
        if session.running:
            raise SessionError("a run is going; stop it, or wait for it to finish, before "
                               "stepping through batches")
        # Queued as a run is (the heavy queue), never between two batches of one.
        return session._call(lambda: self._step(bool(restart)), timeout, light=False)

    # -- on the worker thread -----------------------------------------------------------------
    def _step(self, restart: bool) -> BatchStep:
        session = self.session
        if session._active is not None:
            raise SessionError("a run is going; stop it before stepping through batches")
        if self._keras is None:
            import keras

            self._keras = keras
        keras = self._keras
        project, ds = session.project, session.dataset
        problem = step_through_problem(project, ds, device=getattr(session, "_device_choice",
                                                                   ""))
        if problem:
            raise SessionError(problem)
        model = session._ensure_model()
        if model.optimizer is None:
            raise SessionError("the model has no optimizer; choose one in the Compile tab")
        fit = project.fit
        x = np.asarray(ds.x_train, np.float32)
        y = np.asarray(ds.y_train)
        n, size = len(x), max(1, int(fit.batch_size))
        batches = -(-n // size)
        # a new model (Reset, another project), or a run since the last step: a new pass
        restarted = (restart or model is not self._model or self._order is None
                     or session.epoch != self._trained_epochs)
        if restarted:
            self._model = model
            self._epoch, self._batch, self._steps = int(session.epoch), 0, 0
            self._rng = None if fit.seed is not None else np.random.default_rng()
            self._order = None
        elif self._batch >= batches:  # the pass is over: the next one, in a new order
            self._epoch += 1
            self._batch = 0
            self._order = None
        if self._order is None:
            self._order = batch_order(n, fit.seed, self._epoch, bool(fit.shuffle), self._rng)
        rows = self._order[self._batch * size:(self._batch + 1) * size]
        xb, yb = x[rows], y[rows]
        weights = _sample_weights(project, ds, yb)

        variables = list(model.trainable_variables)
        layer_of = {id(v): layer.name for layer in model.layers
                    for v in layer.trainable_variables}
        to_numpy = keras.ops.convert_to_numpy
        optimizer = model.optimizer
        rate = _learning_rate(optimizer, to_numpy)
        probe = session._probe if session._probe is not None else session._make_probe(model)
        predict = session._quick_predictor(model)
        grid_before = probe.snapshot(predict) if probe is not None else None
        before = [np.array(to_numpy(v.value), np.float32) for v in variables]

        backend = keras.backend.backend()
        if backend == "tensorflow":
            loss, grads = _tensorflow_step(model, variables, xb, yb, weights)
        elif backend == "jax":
            loss, grads = _jax_step(model, variables, xb, yb, weights)
        else:
            raise SessionError(f"Step Through works on the tensorflow and jax backends; "
                               f"this engine runs Keras on {backend}")

        after = [np.array(to_numpy(v.value), np.float32) for v in variables]
        grid_after = probe.snapshot(predict) if probe is not None else None
        self._batch += 1
        self._steps += 1
        self._trained_epochs = session.epoch
        notes = _optimizer_notes(optimizer)
        name = type(optimizer).__name__
        return BatchStep(
            step=self._steps, epoch=self._epoch, batch=self._batch - 1, batches=batches,
            indices=np.asarray(rows, np.int64), loss=float(loss), learning_rate=rate,
            optimizer=name, plain_sgd=name == "SGD" and not notes,
            optimizer_notes=notes,
            layers=tuple(layer_of.get(id(v), v.path.rsplit("/", 1)[0]) for v in variables),
            kinds=tuple(str(v.name) for v in variables),
            before=tuple(before), gradients=tuple(np.asarray(g, np.float32) for g in grads),
            after=tuple(after), boundary_before=grid_before, boundary=grid_after,
            restarted=restarted)


def _tensorflow_step(model: Any, variables: list[Any], x: np.ndarray, y: np.ndarray,
                     weights: np.ndarray | None) -> tuple[float, list[np.ndarray]]:
    """The loss and its gradients under a `tf.GradientTape`, then the optimizer's update:
    Keras's own `train_step` for TensorFlow, eagerly."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        y_pred = model(x, training=True)
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=weights,
                                  training=True)
    grads = tape.gradient(loss, variables)
    grads = [tf.zeros_like(v.value) if g is None else g for g, v in zip(grads, variables)]
    model.optimizer.apply_gradients(zip(grads, variables, strict=True))
    return float(np.asarray(loss)), [np.asarray(g) for g in grads]


def _jax_step(model: Any, variables: list[Any], x: np.ndarray, y: np.ndarray,
              weights: np.ndarray | None) -> tuple[float, list[np.ndarray]]:
    """The loss and its gradients by `jax.value_and_grad` of the model's stateless loss,
    then `optimizer.stateless_apply`: Keras's own `train_step` for JAX, eagerly."""
    import jax

    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(variables)
    trainable = [v.value for v in variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    metrics = [v.value for v in model.metrics_variables]
    opt_values = [v.value for v in optimizer.variables]
    grad_fn = jax.value_and_grad(model.compute_loss_and_updates, has_aux=True)
    (_scaled, aux), grads = grad_fn(trainable, non_trainable, metrics, x, y, weights,
                                    training=True, optimizer_variables=opt_values)
    unscaled, _y_pred, new_non_trainable, _metrics = aux
    new_trainable, new_opt = optimizer.stateless_apply(opt_values, grads, trainable)
    for variable, value in zip(variables, new_trainable, strict=True):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, new_non_trainable, strict=True):
        variable.assign(value)
    for variable, value in zip(optimizer.variables, new_opt, strict=True):
        variable.assign(value)
    return float(np.asarray(unscaled)), [np.asarray(g) for g in grads]


def _learning_rate(optimizer: Any, to_numpy: Any) -> float | None:
    """The rate this step uses (a schedule's value at the optimizer's step count)."""
    try:
        return float(np.asarray(to_numpy(optimizer.learning_rate)))
    except Exception:  # noqa: BLE001 - an optimizer without one
        return None


def _optimizer_notes(optimizer: Any) -> tuple[str, ...]:
    """What makes an update other than `w - lr * g`: SGD's momentum and Nesterov, and any
    optimizer's weight decay, clipping, moving average or gradient accumulation."""
    notes = []
    momentum = float(getattr(optimizer, "momentum", 0.0) or 0.0)
    if type(optimizer).__name__ == "SGD" and momentum:
        notes.append(f"momentum {momentum:g}")
    if getattr(optimizer, "nesterov", False) and momentum:
        notes.append("Nesterov momentum")
    for attr, words in (("weight_decay", "weight decay"), ("clipnorm", "clipnorm"),
                        ("clipvalue", "clipvalue"), ("global_clipnorm", "global_clipnorm")):
        value = getattr(optimizer, attr, None)
        if value:
            notes.append(f"{words} {float(value):g}")
    if getattr(optimizer, "use_ema", False):
        notes.append("a moving average of the weights (use_ema)")
    accumulate = getattr(optimizer, "gradient_accumulation_steps", None)
    if accumulate and int(accumulate) > 1:
        notes.append(f"gradients accumulated over {int(accumulate)} steps")
    return tuple(notes)


def _sample_weights(project: Any, ds: Any, y: np.ndarray) -> np.ndarray | None:
    """The batch's class weights as sample weights, as `fit` turns `class_weight` into
    them (None without class weights)."""
    setting = project.fit.class_weight
    if setting is None or ds.num_classes is None:
        return None
    if setting == "balanced":
        from ..core.data import compute_class_weight

        table = compute_class_weight(ds.y_train, ds.num_classes)
    else:
        table = {int(k): float(v) for k, v in dict(setting).items()}
    labels = np.asarray(y)
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = np.argmax(labels, axis=1)
    else:
        labels = np.round(labels.reshape(len(labels))).astype(np.int64)
    return np.array([table.get(int(c), 1.0) for c in labels], np.float32)
