"""Step Through: the training loop, one batch at a time (Training > Step Through).

What both processes share, Qt-free and Keras-free (only NumPy is imported):

- `step_through_problem(project, dataset)`: why a project cannot be stepped through, in
  words ("" when it can): the data must have two features (the boundary picture), the
  model must be a stack of Dense layers with at most `MAX_WEIGHTS` weights (every weight
  is drawn as a bar and its numbers can be read);
- `batch_order(n, seed, epoch, shuffle)`: the order the training rows are read in during
  one pass: a permutation seeded by (the fit seed, the pass), so that the same seed gives
  the same batches in the engine and in a test that replays them with `fit`;
- `BatchStep`: one step's numbers as the engine made them (the batch's rows, the loss on
  the batch, each weight's value before, its gradient and its value after, the learning
  rate, the optimizer, the boundary before and after), and their plain-data form for the
  protocol (`to_message` / `from_message`);
- `flat_weights` and `weight_label`: the weights of one variable, or of all, as one row of
  numbers each, for the bars and the picker.

The engine's side (the gradient and the update, on the session's worker thread) is
`engine.step_through`; the window's is `ui.step_through`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

__all__ = ["MAX_WEIGHTS", "STEP_LAYERS", "BatchStep", "batch_order", "flat_weights",
           "step_through_problem", "weight_label"]

#: The most weights (trainable parameters) a model may have to be stepped through: every
#: weight gets a bar, and a chart of more than a few thousand bars is no longer readable.
MAX_WEIGHTS = 2000
#: The layer types a stepped model may have.
STEP_LAYERS = frozenset({"Dense"})


def step_through_problem(project: Any, dataset: Any, total_params: int | None = None,
                         device: str = "") -> str:
    """Why `project` cannot be stepped through, in words with what to do; "" when it can.

    Args:
        project: the `Project` (its model's layers are read).
        dataset: the loaded `Dataset`, or None when there is none yet.
        total_params: the model's weights, when known (`core.summary`); counted here from
            the Dense layers otherwise.
        device: the session's device choice ("all" is refused: several GPUs split a batch).
    """
    if device == "all":
        return ("Step Through runs on one device; choose the CPU or one GPU (Training > "
                "Device) to use it.")
    if dataset is None:
        return "Step Through needs the data: wait for it to load, or choose data first."
    if getattr(dataset, "streamed", False):
        return ("Step Through draws the boundary of data with two features; this project's "
                "data is a folder of images.")
    x = np.asarray(dataset.x_train) if dataset.x_train is not None else None
    if x is None or x.ndim != 2 or x.shape[1] != 2:
        shape = "x".join(str(d) for d in x.shape[1:]) if x is not None else "none"
        return (f"Step Through draws the boundary of data with exactly two features; this "
                f"data has inputs of shape {shape}. Try it on a 2-D lesson (the circle, XOR, "
                "the spiral).")
    if not len(x):
        return "Step Through needs training rows; this data has none."
    layers = list(project.model.layers)
    if not layers:
        return "Step Through needs a model: add a Dense layer."
    other = sorted({layer.type for layer in layers if layer.type not in STEP_LAYERS})
    if other:
        return (f"Step Through shows every weight of a stack of Dense layers; this model also "
                f"has {', '.join(other)}.")
    if total_params is None:
        total_params = _dense_params(int(x.shape[1]), layers)
    if total_params > MAX_WEIGHTS:
        return (f"Step Through shows every weight as a bar, for models of up to "
                f"{MAX_WEIGHTS:,} weights; this one has {total_params:,}. Use fewer units.")
    return ""


def _dense_params(inputs: int, layers: list[Any]) -> int:
    """The weights of a stack of Dense layers on `inputs` features (kernel and bias)."""
    total, width = 0, inputs
    for layer in layers:
        units = int(layer.args.get("units", 1))
        bias = bool(layer.args.get("use_bias", True))
        total += width * units + (units if bias else 0)
        width = units
    return total


def batch_order(n: int, seed: int | None, epoch: int, shuffle: bool = True,
                rng: np.random.Generator | None = None) -> np.ndarray:
    """The order of the `n` training rows in pass `epoch` (int64).

    Shuffled: a permutation drawn from `default_rng([seed, epoch])`, the same for the same
    seed and pass; without a seed, from `rng` (a fresh one when None). Not shuffled: the
    rows in their order.
    """
    if not shuffle:
        return np.arange(n, dtype=np.int64)
    if seed is not None:
        rng = np.random.default_rng([int(seed), int(epoch)])
    elif rng is None:
        rng = np.random.default_rng()
    return rng.permutation(n).astype(np.int64)


@dataclass(frozen=True, eq=False)
class BatchStep:
    """One training step on one batch, with every number a person may want to check.

    `eq=False` because arrays have no single truth value. The variables are the model's
    trainable ones, in the model's order.

    Attributes:
        step: steps taken since Step Through started on this model (1 for the first).
        epoch: the pass over the training data (0-based; it starts at the session's epoch).
        batch: the batch within the pass (0-based).
        batches: batches in one pass.
        indices: the batch's rows of the training data (int64), in the pass's order.
        loss: the loss on the batch at the weights before the step (as `fit` logs it for
            that batch: the loss function's mean plus any regularisation).
        learning_rate: the optimizer's learning rate for this step (None when it has none).
        optimizer: the optimizer's class name ("SGD", "Adam").
        plain_sgd: the update is exactly `w - learning_rate * gradient` (SGD without
            momentum, weight decay or clipping).
        optimizer_notes: what makes the update other than `w - lr * g` ("momentum 0.9");
            empty for plain SGD.
        layers: each variable's layer name ("dense").
        kinds: each variable's name in its layer ("kernel", "bias").
        before: each variable's value before the step (float32).
        gradients: the gradient of the batch loss with respect to each variable.
        after: each variable's value after the step.
        boundary_before: the decision boundary before the step (a `BoundaryGrid`), or None.
        boundary: the decision boundary after the step, or None.
        restarted: this step began a new pass from its first batch (a new model, or asked).
    """

    step: int
    epoch: int
    batch: int
    batches: int
    indices: np.ndarray
    loss: float
    learning_rate: float | None
    optimizer: str
    plain_sgd: bool
    optimizer_notes: tuple[str, ...]
    layers: tuple[str, ...]
    kinds: tuple[str, ...]
    before: tuple[np.ndarray, ...]
    gradients: tuple[np.ndarray, ...]
    after: tuple[np.ndarray, ...]
    boundary_before: Any = None
    boundary: Any = None
    restarted: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        """Each variable as "layer/kind" ("dense/kernel")."""
        return tuple(f"{a}/{b}" for a, b in zip(self.layers, self.kinds, strict=True))

    @property
    def shapes(self) -> tuple[tuple[int, ...], ...]:
        return tuple(tuple(int(d) for d in np.shape(v)) for v in self.before)

    @property
    def updates(self) -> tuple[np.ndarray, ...]:
        """Each variable's real update, after - before."""
        return tuple(np.asarray(a, np.float64) - np.asarray(b, np.float64)
                     for a, b in zip(self.after, self.before, strict=True))

    @property
    def weights(self) -> int:
        return int(sum(np.size(v) for v in self.before))

    def to_message(self) -> dict[str, Any]:
        """Plain data for the protocol: arrays, tuples, numbers, and the boundary grids
        (a dataclass the protocol names)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_message(cls, value: dict[str, Any]) -> BatchStep:
        """A step from `to_message`'s dict, as it came through the protocol."""
        names = {f.name for f in fields(cls)}
        args = {k: v for k, v in value.items() if k in names}
        for key in ("optimizer_notes", "layers", "kinds"):
            args[key] = tuple(str(v) for v in args.get(key, ()))
        for key in ("before", "gradients", "after"):
            args[key] = tuple(np.asarray(v, np.float32) for v in args.get(key, ()))
        args["indices"] = np.asarray(args.get("indices", ()), np.int64)
        rate = args.get("learning_rate")
        args["learning_rate"] = None if rate is None else float(rate)
        args["loss"] = float(args["loss"])
        return cls(**args)


def flat_weights(step: BatchStep, variable: int | None) -> tuple[np.ndarray, np.ndarray,
                                                                 np.ndarray, list[str]]:
    """(before, gradient, after) of one variable (`variable`, an index into the step's
    variables) or of all (None), each flattened into one row, and a label per weight."""
    chosen = range(len(step.before)) if variable is None else [int(variable)]
    before, grads, after, labels = [], [], [], []
    for i in chosen:
        before.append(np.ravel(step.before[i]))
        grads.append(np.ravel(step.gradients[i]))
        after.append(np.ravel(step.after[i]))
        shape = np.shape(step.before[i])
        labels += [weight_label(step, i, k, shape) for k in range(int(np.prod(shape)))]
    if not before:
        empty = np.empty(0, np.float32)
        return empty, empty, empty, []
    return np.concatenate(before), np.concatenate(grads), np.concatenate(after), labels


def weight_label(step: BatchStep, variable: int, flat: int,
                 shape: tuple[int, ...] | None = None) -> str:
    """One weight's name: "dense/kernel[1, 3]" (input 1 to unit 3), "dense/bias[3]"."""
    shape = tuple(np.shape(step.before[variable])) if shape is None else tuple(shape)
    index = np.unravel_index(int(flat), shape) if shape else ()
    return f"{step.names[variable]}[{', '.join(str(int(i)) for i in index)}]"
