"""How a run is laid out: virtual epochs and the fit plan handed to `model.fit`.

Virtual epochs are pure arithmetic, kept apart so they can be tested and shown in the UI
(and written by the code export); the fit plan is what the worker decided to pass to
`fit` for one run, including the streamed batches for data too large to repeat.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..limits import MAX_VIRTUAL_SAMPLES


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
