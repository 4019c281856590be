"""The forward pass, layer by layer: every layer's output for one input (an "X-ray").

A person who clicks a point of the boundary picture, or fills in the predict form, sees
the final answer; the X-ray shows how the network got there: which units of each Dense
layer fire, which are silent (dead for this input), what each convolution filter picks
out of an image. `XRayProbe` builds one Keras sub-model with an output per layer and runs
the single input through it, so every layer's output costs one forward pass.

Qt-free and Keras-free at import, as `core.boundary.units`: the engine passes the `keras`
module in, on the worker thread that owns the model. Only NumPy is imported here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["MAX_LAYER_VALUES", "MAX_TOTAL_VALUES", "LayerOutputs", "XRayProbe", "as_row"]

#: A layer output over this many numbers is left out (with a note): a view cannot show
#: more, and the frame to the window stays under a megabyte per layer.
MAX_LAYER_VALUES = 100_000
#: All layers together at most: beyond this the later layers are left out, with a note.
MAX_TOTAL_VALUES = 1_000_000


@dataclass(frozen=True, eq=False)
class LayerOutputs:
    """Every layer's output for one input, in the model's layer order.

    `eq=False` because arrays have no single truth value. A frame carries this as raw
    float32 buffers (see `engine.protocol`).

    Attributes:
        names: each layer's name ("dense_1").
        types: each layer's Keras class name ("Dense", "Conv2D").
        activations: each layer's activation ("relu"; "" for none or linear), so that a
            view can say whether the last layer's outputs are probabilities.
        shapes: each layer's output shape without the batch axis, also for the ones left
            out, so the view can say how large they were.
        outputs: each layer's output for the input, float32 of that shape (the batch axis
            dropped); an empty array (shape (0,)) for a layer left out.
        notes: for each layer, why it was left out ("" when it was not).
        note: why there are no layers at all, when `names` is empty (in words).
    """

    names: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    activations: tuple[str, ...] = ()
    shapes: tuple[tuple[int, ...], ...] = ()
    outputs: tuple[np.ndarray, ...] = ()
    notes: tuple[str, ...] = ()
    note: str = ""

    def __len__(self) -> int:
        return len(self.names)


def as_row(x: Any, input_shape: tuple[int | None, ...]) -> np.ndarray:
    """One input as a batch of one, float32, checked against the model's input shape.

    The window sends what `predict` takes, a batch of one row ((1, features)), or the row
    itself; both are accepted.

    Raises:
        ValueError: for anything else (several rows, a wrong number of features), in words.
    """
    row = np.asarray(x, dtype=np.float32)
    want = tuple(input_shape[1:])
    if row.ndim == len(want):  # the row itself, without the batch axis
        row = row[None, ...]
    fits = row.ndim == len(want) + 1 and row.shape[0] == 1 and all(
        d is None or d == s for d, s in zip(want, row.shape[1:]))
    if not fits:
        raise ValueError(f"x: expected one input of shape {want}, got an array of shape "
                         f"{np.asarray(x).shape}")
    if not np.all(np.isfinite(row)):
        raise ValueError("x: the input has values that are not finite numbers")
    return row


def _activation(layer: Any) -> str:
    name = getattr(getattr(layer, "activation", None), "__name__", "")
    if not name and type(layer).__name__ in ("ReLU", "Softmax", "ELU", "LeakyReLU"):
        return type(layer).__name__.lower()
    return "" if name in ("", "linear") else name


class XRayProbe:
    """One Keras sub-model with an output per layer of `model` (built once per model).

    The sub-model shares the model's layers, so each `run` shows the weights of that
    moment, during a run as after it. It is called directly (`training=False`), not through
    `predict`, since one row needs no batching and a direct call behaves the same on every
    backend and under a distribution strategy.

    Args:
        model: the built Keras model (a Sequential or functional model of one input).
        keras: the `keras` module (the core does not import it).

    Raises:
        ValueError: when the model has no layers whose outputs can be taken (in words).
    """

    def __init__(self, model: Any, keras: Any) -> None:
        self.model = model
        self.keras = keras
        try:
            inputs = model.inputs
            layers = list(model.layers)
        except Exception as exc:  # noqa: BLE001 - an unbuilt model: said in words
            raise ValueError(f"The model is not built yet ({exc}).") from None
        if isinstance(inputs, (list, tuple)):
            if len(inputs) != 1:
                raise ValueError("The X-ray shows models of one input only.")
            inputs = inputs[0]
        self.layers: list[Any] = []
        tensors = []
        for layer in layers:
            if type(layer).__name__ == "InputLayer":
                continue
            try:
                out = layer.output  # a layer used twice has no single output: skipped
            except Exception:  # noqa: BLE001 - such a layer is left out, not an error
                continue
            if isinstance(out, (list, tuple)):
                continue
            self.layers.append(layer)
            tensors.append(out)
        if not tensors:
            raise ValueError("The model has no layers to show.")
        self.input_shape = tuple(inputs.shape)
        self.submodel = keras.Model(inputs, tensors, name="layerlab_xray")

    def run(self, x: Any, max_layer: int = MAX_LAYER_VALUES,
            max_total: int = MAX_TOTAL_VALUES) -> LayerOutputs:
        """Every layer's output for the one input `x` (see `as_row`), sizes capped."""
        row = as_row(x, self.input_shape)
        outs = self.submodel(row, training=False)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        arrays, shapes, notes = [], [], []
        total = 0
        for out in outs:
            a = np.asarray(self.keras.ops.convert_to_numpy(out), dtype=np.float32)[0]
            shapes.append(tuple(int(s) for s in a.shape))
            if a.size > max_layer:
                arrays.append(np.empty(0, np.float32))
                notes.append(f"{a.size:,} numbers: too many to show (at most "
                             f"{max_layer:,} per layer).")
            elif total + a.size > max_total:
                arrays.append(np.empty(0, np.float32))
                notes.append(f"left out: the layers before it already hold {total:,} "
                             f"numbers (at most {max_total:,} in all).")
            else:
                total += int(a.size)
                arrays.append(np.ascontiguousarray(a))
                notes.append("")
        return LayerOutputs(tuple(layer.name for layer in self.layers),
                            tuple(type(layer).__name__ for layer in self.layers),
                            tuple(_activation(layer) for layer in self.layers),
                            tuple(shapes), tuple(arrays), tuple(notes))
