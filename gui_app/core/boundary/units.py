"""What each hidden neuron sees: every hidden Dense unit's output over the input plane.

TensorFlow Playground draws, beside each neuron, a small picture of that neuron's output
over the two inputs; watching them change while a network trains shows how the first
layer cuts the plane with lines and later layers combine them. `UnitProbe` does the same
for a Keras model of two inputs made of Dense layers: one sub-model returns every hidden
layer's outputs on a small grid (32 x 32 by default), so a picture of every unit costs one
forward pass of about a thousand points. `UnitSnapshots` sits in a session's event stream
(in the engine) and adds a `UnitSnapshot` at a low rate while a run goes, when asked to.

Qt-free and Keras-free at import: the Keras module is passed in by the engine, which owns
the model on its worker thread. Only NumPy is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..training.events import Event
from .grids import _PASS_THROUGH, Extent
from .plane_snapshots import RunClock

__all__ = [
    "MAX_UNITS",
    "UNIT_RESOLUTION",
    "UnitPictures",
    "UnitProbe",
    "UnitSnapshot",
    "UnitSnapshots",
    "hidden_layers",
    "unit_grid",
]

#: Hidden units drawn at most (in all layers): beyond this the pictures are too small to
#: read, and a wide layer's units are better summarised than shown one by one.
MAX_UNITS = 64
#: Grid points per axis of a unit's picture: 32 x 32 is what a 40-pixel tile shows.
UNIT_RESOLUTION = 32
#: Layers that apply an activation to the layer before; a unit's picture is taken after
#: them, as the neuron's output, when they follow a Dense layer directly.
_ACTIVATION_LAYERS = ("Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax")


@dataclass(frozen=True, eq=False)
class UnitPictures:
    """Every hidden unit's output over a grid of the input plane.

    `eq=False` because arrays have no single truth value.

    Attributes:
        xs: the grid's x coordinates (first input), shape (r,), increasing.
        ys: the grid's y coordinates (second input), shape (r,).
        layers: for each hidden layer drawn, its index in `model.layers`.
        names: for each, a title: the layer's name and its activation ("dense (relu)").
        values: for each, float32 of shape (units, r, r) with `values[i][u, iy, ix]` unit
            u's output at `(xs[ix], ys[iy])`, rows along y as in `BoundaryGrid`.
        note: why there are no pictures, when `layers` is empty (in words, for the view).
    """

    xs: np.ndarray
    ys: np.ndarray
    layers: tuple[int, ...] = ()
    names: tuple[str, ...] = ()
    values: tuple[np.ndarray, ...] = ()
    note: str = ""

    @property
    def units(self) -> int:
        """The number of unit pictures, in all layers."""
        return sum(int(v.shape[0]) for v in self.values)


@dataclass(frozen=True, eq=False)
class UnitSnapshot:
    """A training event: the hidden units' pictures at a position in a run (engine only,
    sent while a view watches the units; see `UnitSnapshots`)."""

    run: int
    epoch: int
    step: int
    pictures: UnitPictures


def unit_grid(extent: Extent, resolution: int = UNIT_RESOLUTION
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regular grid over `extent`: (xs, ys, points), points (r*r, 2) float32 in
    row-major order (y outer), as `grids.grid_points` makes them."""
    if resolution < 2:
        raise ValueError(f"resolution: expected at least 2 points per axis, got {resolution}.")
    (x0, x1), (y0, y1) = extent
    xs = np.linspace(float(x0), float(x1), int(resolution), dtype=np.float32)
    ys = np.linspace(float(y0), float(y1), int(resolution), dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)


def _activation_name(layer: Any) -> str:
    name = getattr(getattr(layer, "activation", None), "__name__", "")
    return "" if name in ("", "linear") else name


def hidden_layers(model: Any, max_units: int = MAX_UNITS
                  ) -> tuple[list[tuple[int, str, Any]], str]:
    """The hidden Dense layers of a model whose units get a picture, or why none do.

    The pictures are of the input plane, so the model must take two inputs; and only a
    stack of Dense layers (with activation layers and layers inactive at inference between
    them) has units that each see the whole plane. Every Dense layer but the last is
    hidden; a unit's picture is taken after the activation layers that follow its layer.

    Args:
        model: a built Keras model (only its attributes are read).
        max_units: at most this many hidden units in all.

    Returns:
        ([(index in model.layers, title, the layer whose output is the picture)], "") or
        ([], a sentence saying why there are no pictures).
    """
    try:
        shape = tuple(model.input_shape)
        layers = list(model.layers)
    except Exception:  # noqa: BLE001 - an unbuilt or unusual model: no pictures, in words
        return [], "The model is not built yet."
    if len(shape) != 2 or shape[1] != 2:
        return [], "Neuron pictures are drawn for models of exactly two inputs."
    for layer in layers:
        kind = type(layer).__name__
        if kind not in ("Dense", *_ACTIVATION_LAYERS, *_PASS_THROUGH):
            return [], (f"Neuron pictures are drawn for stacks of Dense layers; this model "
                        f"has a {kind} layer.")
    dense = [i for i, layer in enumerate(layers) if type(layer).__name__ == "Dense"]
    if len(dense) < 2:
        return [], "The model has no hidden Dense layer (only its output layer)."
    out: list[tuple[int, str, Any]] = []
    total = 0
    for i in dense[:-1]:
        layer = layers[i]
        total += int(layer.units)
        source, activation = layer, _activation_name(layer)
        for after in layers[i + 1:]:
            kind = type(after).__name__
            if kind in _ACTIVATION_LAYERS:
                source = after
                activation = _activation_name(after) or kind.lower()
            elif kind not in _PASS_THROUGH:
                break
        title = f"{layer.name} ({activation})" if activation else layer.name
        out.append((i, title, source))
    if total > max_units:
        return [], (f"The hidden layers have {total} units; neuron pictures are drawn for "
                    f"at most {max_units}.")
    return out, ""


class UnitProbe:
    """One Keras sub-model with every hidden layer's output, and the grid to run it on.

    Built once per model, grid and resolution (on the thread that owns the model); the
    sub-model shares the model's layers, so each `snapshot` shows the weights of that
    moment. `predict_on_batch` is compiled once (a few tens of milliseconds) and then
    costs about a millisecond for a 32 x 32 grid on a small network.

    Args:
        model: the built Keras model.
        keras: the `keras` module (the core does not import it).
        extent: the rectangle of the input plane to draw.
        resolution: grid points per axis.
        max_units: see `hidden_layers`.

    Raises:
        ValueError: when the model has no unit pictures (the message says why).
    """

    def __init__(self, model: Any, keras: Any, extent: Extent,
                 resolution: int = UNIT_RESOLUTION, max_units: int = MAX_UNITS) -> None:
        chosen, why = hidden_layers(model, max_units)
        if not chosen:
            raise ValueError(why)
        self.model = model
        self.keras = keras
        self.extent = extent
        self.resolution = int(resolution)
        self.layers = tuple(i for i, _, _ in chosen)
        self.names = tuple(title for _, title, _ in chosen)
        self.xs, self.ys, self.points = unit_grid(extent, self.resolution)
        for array in (self.xs, self.ys, self.points):
            array.setflags(write=False)  # shared by every snapshot
        inputs = model.inputs[0] if isinstance(model.inputs, (list, tuple)) else model.inputs
        self.submodel = keras.Model(inputs, [source.output for _, _, source in chosen],
                                    name="layerlab_units")
        strategy = getattr(model, "distribute_strategy", None)
        # predict_on_batch under MirroredStrategy repeats the batch on every replica (see
        # core.devices.batch_predictor): a plain call there
        self._call_plainly = getattr(strategy, "num_replicas_in_sync", 1) > 1

    def matches(self, model: Any, extent: Extent, resolution: int) -> bool:
        """Whether this probe is for `model` on `extent` at `resolution` (else make one)."""
        return (model is self.model and int(resolution) == self.resolution
                and np.allclose(np.asarray(extent, np.float64),
                                np.asarray(self.extent, np.float64)))

    def snapshot(self) -> UnitPictures:
        """One forward pass of the sub-model on the grid, as pictures."""
        if self._call_plainly:
            outs: Any = [self.keras.ops.convert_to_numpy(o)
                         for o in self.submodel(self.points, training=False)]
        else:
            outs = self.submodel.predict_on_batch(self.points)
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        r = self.resolution
        values = []
        for out in outs:
            a = np.asarray(out, dtype=np.float32).reshape(r, r, -1)
            values.append(np.ascontiguousarray(np.moveaxis(a, -1, 0)))  # (units, r, r)
        return UnitPictures(self.xs, self.ys, self.layers, self.names, tuple(values))


class UnitSnapshots:
    """A session listener that sends the hidden units' pictures at a low rate during a run.

    Off until `on` is set (a view that shows the pictures asks for them), so a session whose
    window shows no neuron strip pays nothing. When on, after a Started or Finished event,
    and after a BatchProgress or EpochEnd event once `interval` has passed, it calls `make`
    on the worker thread (between two batches) and forwards a `UnitSnapshot`.

    Args:
        make: the pictures of the current weights, or None when the model has none.
        forward: where the UnitSnapshot events go (the engine's channel to the window).
        interval: seconds between pictures at least.
        budget: the share of training time the pictures may take: after pictures that took
            t seconds the next wait at least t / budget.
    """

    def __init__(self, make: Callable[[], UnitPictures | None], forward: Callable[[Any], None],
                 interval: float = 0.5, budget: float = 0.02) -> None:
        self.make = make
        self.forward = forward
        self.interval = float(interval)
        self.budget = float(budget)
        self.on = False  # set from another thread; read once per event
        self.failed = False
        self.count = 0
        self._next = 0.0
        self._typical = 0.0  # the cost of the last periodic pictures
        self._clock = RunClock()

    def __call__(self, event: Event) -> None:
        if not self.on or self.failed:
            return
        position, force = self._clock.read(event)
        if position is None:
            return
        now = time.perf_counter()
        if not force and now < self._next:
            return
        try:
            pictures = self.make()
        except Exception:  # noqa: BLE001 - a picture must never end training
            self.failed = True
            return
        done = time.perf_counter()
        # The first pictures of a model include compiling the sub-model (tens of ms, once):
        # that must not hold back the pictures after them.
        cost = done - now if not force else min(done - now, self._typical)
        if not force:
            self._typical = done - now
        self._next = done + max(self.interval, cost / max(self.budget, 1e-6))
        if pictures is None or not pictures.layers:
            return
        self.count += 1
        self.forward(UnitSnapshot(event.run, position[0], position[1], pictures))
