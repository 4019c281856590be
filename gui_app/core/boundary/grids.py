"""Decision-boundary grids: what a model predicts over the plane (or line) its data lives on.

The training session evaluates a model on a fixed set of points many times a second while
it trains, so everything that does not depend on the weights (the grid, its coordinates,
the reshaping) is computed once here and the per-refresh work is one forward pass plus a
reshape. Only NumPy is imported: the model call is passed in as a function.

Conventions: `values[iy, ix, c]` is the prediction at `(xs[ix], ys[iy])` for output `c`,
so the array can be drawn as an image with y as rows. Coordinates are in the space the
model sees (after standardisation, when the data is standardised).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "BoundaryGrid",
    "BoundaryProbe",
    "Extent",
    "KINDS",
    "cover_extent",
    "curve_points",
    "data_extent",
    "dense_predictor",
    "extent_covers",
    "grid_points",
    "make_probe",
]

#: A rectangle of the plane: ((x_low, x_high), (y_low, y_high)).
Extent = tuple[tuple[float, float], tuple[float, float]]

#: The kinds of grid: class probabilities for a binary (sigmoid, k=1: P(class 1)) or a
#: multi-class (k = number of classes) model, a regression surface, or a 1-D curve.
KINDS: tuple[str, ...] = ("binary", "multiclass", "regression", "curve")


@dataclass(frozen=True, eq=False)
class BoundaryGrid:
    """Predictions on a grid over the data, ready to draw.

    `eq=False` because arrays have no single truth value; compare the arrays instead.

    Attributes:
        xs: the grid's x coordinates (first feature), shape (resolution,), increasing.
        ys: the grid's y coordinates (second feature), shape (resolution,); empty for a curve.
        values: shape (resolution, resolution, k) with `values[iy, ix]` at `(xs[ix], ys[iy])`:
            P(class 1) for "binary" (k=1), class probabilities for "multiclass" (k classes),
            the predicted value(s) for "regression"; shape (n, k) for a "curve".
        kind: one of KINDS.
        features: the input columns on the axes: (0, 1) for a plane, (0,) for a curve.
    """

    xs: np.ndarray
    ys: np.ndarray
    values: np.ndarray
    kind: str
    features: tuple[int, ...]


def _span(column: np.ndarray, margin: float) -> tuple[float, float]:
    """The data's range widened by `margin` of its width on each side (never empty)."""
    finite = column[np.isfinite(column)]
    if finite.size == 0:
        return -1.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    width = high - low
    if width <= 0:
        # One distinct value: show a unit-wide window around it instead of nothing.
        return low - 1.0, high + 1.0
    return low - margin * width, high + margin * width


def data_extent(coords: np.ndarray, margin: float = 0.1) -> Extent:
    """The rectangle a grid covers for these plane coordinates (n, 2) when no view asks for
    more: the data's range widened by `margin` of its width, as `grid_points` makes it."""
    c = np.asarray(coords, dtype=np.float64).reshape(len(coords), -1)
    if c.shape[1] < 2:
        raise ValueError(f"coords: expected shape (n, 2), got {c.shape}.")
    return _span(c[:, 0], margin), _span(c[:, 1], margin)


def _union(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return min(a[0], b[0]), max(a[1], b[1])


def extent_covers(outer: Extent, inner: Extent, slack: float = 1e-6) -> bool:
    """Whether `outer` contains `inner` (up to `slack` of outer's size, for rounding)."""
    for (o0, o1), (i0, i1) in zip(outer, inner):
        pad = slack * max(o1 - o0, 1e-12)
        if i0 < o0 - pad or i1 > o1 + pad:
            return False
    return True


def cover_extent(data: Extent, view: Extent, margin: float = 0.05,
                 limit: float = 25.0) -> Extent:
    """What a picture should cover so that it fills the visible part of the plane.

    A view zoomed out past the data, or wider than the data (a wide window with equal
    scales on both axes), showed the picture as a square of colour in white space; the
    model is defined everywhere, so its picture should fill what is visible.

    Args:
        data: the data's own extent (`data_extent`); always covered, so a stale view
            never cuts the data off.
        view: the visible range.
        margin: how far past the visible range, as a share of its width: a small pan
            then needs no new picture.
        limit: at most this many times the data's width and height around its centre
            (a view zoomed out a thousand times would get a grid whose cells are wider
            than the data).

    Returns:
        The union of `data` and the widened `view`, within the limit, as floats.
    """
    out = []
    for (d0, d1), (v0, v1) in zip(data, view):
        if not (np.isfinite(v0) and np.isfinite(v1)) or v1 <= v0:
            out.append((float(d0), float(d1)))
            continue
        pad = margin * (v1 - v0)
        low, high = _union((d0, d1), (v0 - pad, v1 + pad))
        centre, half = 0.5 * (d0 + d1), 0.5 * limit * max(d1 - d0, 1e-12)
        out.append((float(max(low, centre - half)), float(min(high, centre + half))))
    return out[0], out[1]


def grid_points(
    x_train: np.ndarray,
    resolution: int = 100,
    margin: float = 0.1,
    features: tuple[int, int] = (0, 1),
    extent: Extent | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A regular grid covering the data, with a margin, and its points as model input.

    Args:
        x_train: training inputs, shape (n, d) with d >= 2.
        resolution: points per axis (the grid has resolution**2 points).
        margin: how far the grid reaches past the data, as a fraction of the data's width.
        features: the two input columns on the axes.
        extent: a rectangle the grid must cover as well (the visible range of a view zoomed
            out past the data, see `cover_extent`); the grid spans the data and it.

    Returns:
        (xs, ys, points): xs and ys of shape (resolution,), and float32 points of shape
        (resolution**2, 2) in row-major order (y outer, x inner), so that model outputs
        reshape to (resolution, resolution, k) with rows along y.

    Raises:
        ValueError: for a resolution below 2 or inputs that are not 2-D samples.
    """
    if resolution < 2:
        raise ValueError(f"resolution: expected at least 2 points per axis, got {resolution}.")
    x = np.asarray(x_train)
    if x.ndim != 2 or x.shape[1] < 2:
        raise ValueError(
            f"x_train: expected samples with at least 2 features, shape (n, 2), got shape "
            f"{x.shape}. A decision boundary needs a plane; use curve_points for 1 feature."
        )
    fx, fy = features
    span_x, span_y = _span(x[:, fx], margin), _span(x[:, fy], margin)
    if extent is not None:
        span_x, span_y = _union(span_x, extent[0]), _union(span_y, extent[1])
    xs = np.linspace(*span_x, resolution, dtype=np.float32)
    ys = np.linspace(*span_y, resolution, dtype=np.float32)
    gx, gy = np.meshgrid(xs, ys)  # gx[iy, ix] == xs[ix]
    points = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    return xs, ys, points


def curve_points(x: np.ndarray, n: int = 200, margin: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced inputs across a 1-D input's range (with a margin), for drawing a curve.

    Args:
        x: inputs, shape (m,) or (m, 1).
        n: how many points.
        margin: how far past the data, as a fraction of its width.

    Returns:
        (xs, points): xs of shape (n,) and float32 points of shape (n, 1).
    """
    if n < 2:
        raise ValueError(f"n: expected at least 2 points, got {n}.")
    column = np.asarray(x).reshape(len(x), -1)[:, 0]
    xs = np.linspace(*_span(column, margin), n, dtype=np.float32)
    return xs, xs.reshape(-1, 1).copy()


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60.0, 60.0)))


def _softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


class BoundaryProbe:
    """A fixed grid and the recipe to turn one forward pass on it into a BoundaryGrid.

    Built once per model and dataset; `snapshot(predict)` is then one call of `predict` on
    the fixed points (the session passes a compiled forward pass) plus a reshape.

    Args:
        xs: x coordinates, shape (r,).
        ys: y coordinates, shape (r,) (empty for a curve).
        points: the model inputs, (r*r, 2) or (n, 1).
        kind: one of KINDS.
        from_logits: the model outputs logits: apply a sigmoid (one output) or a softmax.
    """

    def __init__(
        self,
        xs: np.ndarray,
        ys: np.ndarray,
        points: np.ndarray,
        kind: str,
        from_logits: bool = False,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}.")
        # Every snapshot shares these arrays, so freeze them against accidental edits.
        for array in (xs, ys, points):
            array.setflags(write=False)
        self.xs, self.ys, self.points = xs, ys, points
        self.kind = kind
        self.from_logits = from_logits
        self.features: tuple[int, ...] = (0,) if kind == "curve" else (0, 1)

    def values(self, outputs: np.ndarray) -> np.ndarray:
        """Model outputs on `points` -> the grid's `values` array (float32)."""
        out = np.asarray(outputs, dtype=np.float32).reshape(len(self.points), -1)
        if self.from_logits and self.kind in ("binary", "multiclass"):
            out = _sigmoid(out) if out.shape[1] == 1 else _softmax(out)
        if self.kind == "curve":
            return out.astype(np.float32, copy=False)
        r = len(self.xs)
        return out.reshape(r, r, out.shape[1]).astype(np.float32, copy=False)

    def snapshot(self, predict: Callable[[np.ndarray], np.ndarray]) -> BoundaryGrid:
        """One forward pass on the grid, as a BoundaryGrid."""
        return BoundaryGrid(self.xs, self.ys, self.values(predict(self.points)), self.kind,
                            self.features)


def make_probe(
    x_train: np.ndarray,
    output_units: int | None,
    task: str,
    resolution: int = 100,
    from_logits: bool = False,
    curve_samples: int = 200,
    extent: Extent | None = None,
) -> BoundaryProbe | None:
    """The probe for a model and its data, or None when there is nothing to draw.

    A plane is drawn for samples of exactly 2 features, a curve for 1 feature; other
    inputs (images, sequences, many columns) have no picture, and neither do models whose
    output is not one vector per sample.

    Args:
        x_train: the training inputs (fixes the grid's extent).
        output_units: the model's output width (k), or None when the output is not (None, k).
        task: the dataset's task: "binary", "multiclass" or "regression".
        resolution: grid points per axis.
        from_logits: the loss takes logits, so outputs need a sigmoid or softmax.
        curve_samples: points on a 1-D curve.
        extent: a rectangle a plane's grid must cover too (a zoomed-out view); the grid
            spans the data and it. Ignored for a curve.
    """
    x = np.asarray(x_train)
    if output_units is None or x.ndim != 2 or len(x) == 0:
        return None
    if x.shape[1] == 1:
        xs, points = curve_points(x, curve_samples)
        return BoundaryProbe(xs, np.empty(0, np.float32), points, "curve",
                             from_logits and task != "regression")
    if x.shape[1] != 2:
        return None
    xs, ys, points = grid_points(x, resolution, extent=extent)
    if task == "regression":
        kind = "regression"
    else:
        kind = "binary" if output_units == 1 else "multiclass"
    return BoundaryProbe(xs, ys, points, kind, from_logits and kind != "regression")


# --------------------------------------------------------------------------------------
# A NumPy forward pass for Dense stacks

def _sigmoid(h: np.ndarray) -> np.ndarray:
    # split by sign so that exp never overflows
    out = np.empty_like(h)
    pos = h >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-h[pos]))
    e = np.exp(h[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def _softmax(h: np.ndarray) -> np.ndarray:
    e = np.exp(h - h.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


#: Activations the NumPy forward pass knows, by the name Keras gives the function.
_ACTIVATIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda h: h,
    "relu": lambda h: np.maximum(h, 0.0),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "softmax": _softmax,
}

#: Layers that do nothing at inference time.
_PASS_THROUGH = ("Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout",
                 "ActivityRegularization", "InputLayer")


#: Above this many parameters the compiled call is as fast (its own cost is then small
#: next to the arithmetic, and NumPy's BLAS threads would compete with TensorFlow's).
DENSE_PREDICTOR_MAX_PARAMS = 20_000


def dense_predictor(model: Any, to_numpy: Callable[[Any], np.ndarray] = np.asarray
                    ) -> Callable[[np.ndarray], np.ndarray] | None:
    """A NumPy forward pass for a model made only of Dense layers with plain activations
    (linear, relu, sigmoid, tanh, softmax) and layers inactive at inference (Dropout, ...),
    with at most DENSE_PREDICTOR_MAX_PARAMS parameters; None for any other model.

    The boundary pictures of small networks (TensorFlow Playground's kind) are taken many
    times a second while they train, and a compiled `predict_on_batch` spends about a
    millisecond on the call itself for a few hundred thousand multiply-adds that NumPy
    does in a tenth of that, on the training thread, between two batches. The weights are
    read at each call, so the picture shows the weights of that moment.

    Args:
        model: a built Keras model.
        to_numpy: turns a Keras variable into an array (keras.ops.convert_to_numpy).
    """
    plan: list[tuple[Any, Any, Callable[[np.ndarray], np.ndarray]]] = []
    try:
        if len(model.input_shape) != 2:
            return None  # Dense on a higher-rank input works on the last axis only
        if model.count_params() > DENSE_PREDICTOR_MAX_PARAMS:
            return None
        for layer in model.layers:
            kind = type(layer).__name__
            if kind in _PASS_THROUGH:
                continue
            if kind == "Activation":
                act = _ACTIVATIONS.get(getattr(layer.activation, "__name__", ""))
                if act is None:
                    return None
                plan.append((None, None, act))
                continue
            if kind != "Dense" or getattr(layer, "lora_enabled", False) \
                    or getattr(layer, "quantization_mode", None):
                return None
            act = _ACTIVATIONS.get(getattr(layer.activation, "__name__", ""))
            if act is None:
                return None
            plan.append((layer.kernel, layer.bias if layer.use_bias else None, act))
    except Exception:  # noqa: BLE001 - an unusual layer: the compiled path draws it
        return None
    if not plan:
        return None

    def predict(x: np.ndarray) -> np.ndarray:
        h = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        # weights that diverged (a NaN loss) give a picture of NaN, quietly, as Keras does
        with np.errstate(all="ignore"):
            for kernel, bias, act in plan:
                if kernel is not None:
                    h = h @ to_numpy(kernel)
                    if bias is not None:
                        h = h + to_numpy(bias)
                h = act(h)
        return h

    return predict
