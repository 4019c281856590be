"""Planes through inputs wider than two features, and boundary probes on them.

The engine only draws a boundary for 2-D and 1-D inputs; for wider ones a view picks a
plane (two chosen features with the others at their mean, or the first two principal
components) and probes the model on it. Only NumPy is imported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .grids import BoundaryProbe, Extent, grid_points


@dataclass(frozen=True, eq=False)
class Plane:
    """A plane in input space: point(a, b) = origin + a * axes[0] + b * axes[1].

    Attributes:
        mode: "features" (two input columns, the others at their training mean) or "pca"
            (the first two principal components through the mean).
        shape: one sample's input shape (the plane lives in the flattened space).
        origin: flattened, float32; for "features" the two chosen columns are 0, so
            the plane coordinates of a sample are exactly its two feature values.
        axes: shape (2, D), unit vectors.
        labels: the two axis titles.
        description: one sentence for the view, saying what the picture shows.
        features: the two columns for "features", else ().
        explained: the variance share of each component for "pca", else ().
    """

    mode: str
    shape: tuple[int, ...]
    origin: np.ndarray
    axes: np.ndarray
    labels: tuple[str, str]
    description: str
    features: tuple[int, ...] = ()
    explained: tuple[float, ...] = ()

    @property
    def key(self) -> tuple:
        return (self.mode, self.features)

    def project(self, x: np.ndarray) -> np.ndarray:
        """Plane coordinates (n, 2) of samples (n, *shape) (their orthogonal projection)."""
        flat = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        return (flat - self.origin) @ self.axes.T

    def points(self, coords: np.ndarray) -> np.ndarray:
        """Model inputs (n, *shape) for plane coordinates (n, 2)."""
        coords = np.asarray(coords, dtype=np.float32).reshape(-1, 2)
        flat = self.origin + coords @ self.axes
        return flat.astype(np.float32).reshape((len(coords), *self.shape))


def _feature_name(names: Sequence[str], i: int) -> str:
    return str(names[i]) if i < len(names) else f"feature {i + 1}"


def make_plane(x_train: np.ndarray, mode: str = "pca", features: tuple[int, int] = (0, 1),
               feature_names: Sequence[str] = (), max_rows: int = 2000, seed: int = 0) -> Plane:
    """The plane to draw a wide input's boundary on.

    Args:
        x_train: training inputs, shape (n, *shape) with at least 3 values per sample.
        mode: "pca" or "features".
        features: the two columns for "features" (flattened indices).
        feature_names: names for the axis titles.
        max_rows: principal components are computed from at most this many rows
            (a fixed random subset): enough for two directions, and quick at 3,072 values.
        seed: the subset's seed, so the plane does not change between calls.

    Raises:
        ValueError: for an unknown mode, too few values per sample or a bad feature.
    """
    x = np.asarray(x_train)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x_train: expected samples of shape (n, ...), got shape {x.shape}.")
    flat = x.reshape(len(x), -1).astype(np.float32, copy=False)
    d = flat.shape[1]
    shape = tuple(int(s) for s in x.shape[1:])
    mean = flat.mean(axis=0, dtype=np.float64).astype(np.float32)
    if mode == "features":
        i, j = (int(f) for f in features)
        if not (0 <= i < d and 0 <= j < d) or i == j:
            raise ValueError(
                f"features: expected two different columns from 0 to {d - 1}, got {features}.")
        origin = mean.copy()
        origin[[i, j]] = 0.0
        axes = np.zeros((2, d), dtype=np.float32)
        axes[0, i] = axes[1, j] = 1.0
        names = (_feature_name(feature_names, i), _feature_name(feature_names, j))
        others = d - 2
        rest = f"; the other {others} features are held at their training mean" if others else ""
        return Plane("features", shape, origin, axes, names,
                     f"{names[0]} against {names[1]}{rest}.", (i, j))
    if mode != "pca":
        raise ValueError(f"mode: expected 'pca' or 'features', got {mode!r}.")
    if d < 2:
        raise ValueError(f"x_train: expected at least 2 values per sample for a plane, got {d}.")
    rows = flat
    limit = max_rows if d <= 1000 else max(200, max_rows // 4)
    if len(flat) > limit:
        rows = flat[np.random.default_rng(seed).choice(len(flat), limit, replace=False)]
    centred = (rows - mean).astype(np.float64)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:2].astype(np.float32)
    if len(axes) < 2:
        axes = np.vstack([axes, np.zeros((2 - len(axes), d), np.float32)])
    for k in range(2):  # a deterministic sign: the largest weight positive
        if axes[k].size and axes[k][np.argmax(np.abs(axes[k]))] < 0:
            axes[k] = -axes[k]
    total = float((s ** 2).sum())
    explained = tuple(float(v) / total if total > 0 else 0.0 for v in (s[:2] ** 2))
    explained = explained + (0.0,) * (2 - len(explained))
    share = sum(explained) * 100
    return Plane("pca", shape, mean, axes, ("PC 1", "PC 2"),
                 f"The plane of the first two principal components (PC 1, PC 2) through "
                 f"the mean sample ({share:.0f} % of the variance); the points are projected "
                 "onto it.",
                 (), explained)


#: Bytes the grid's model inputs may take (resolution^2 points, each as wide as one input):
#: 80 x 80 points of 784 values are 20 MB, of 64x64 RGB images they would be 315 MB.
PROBE_MAX_BYTES = 32 * 2**20


def plane_resolution(params: int, low: int = 12, high: int = 80,
                     budget: float = 1.3e8, values: int = 0) -> int:
    """Grid points per axis for a plane: fewer for big models, so one picture stays cheap.

    A forward pass costs about 2 x params multiply-adds per point (`forward_cost` for
    layers that use their weights more than once per sample, as a convolution does);
    `budget` bounds that, so that ten pictures a second cost training about 2-3 % on a
    2-core CPU (the 784-300-100-10 MLP gets 15 x 15, drawn smoothed; a small MLP 80 x 80).
    `values` (one input's width) keeps the grid's inputs under `PROBE_MAX_BYTES`: 64x64 RGB
    images get at most 26 x 26, however small the model.
    """
    side = high if params <= 0 else \
        int(min(high, max(low, math.sqrt(budget / (2.0 * params)))))
    if values > 0:
        side = min(side, max(low, int(math.sqrt(PROBE_MAX_BYTES / (4.0 * values)))))
    return side


def forward_cost(rows: Iterable[Any]) -> int:
    """Multiply-adds of one sample's forward pass, estimated from a model summary's rows
    (`summary.LayerRow`: `output_shape` with the batch first, `params`): each layer's
    weights once per output position, so a Dense layer counts its parameters and a Conv2D
    its parameters times the output's height and width. For `plane_resolution`: the shapes
    CNN (7,203 parameters) costs about 670,000, not 7,203, per point."""
    total = 0
    for row in rows:
        shape, params = getattr(row, "output_shape", None), getattr(row, "params", None)
        if not params or getattr(row, "type", "") == "Embedding":  # a lookup, no product
            continue
        positions = 1
        if shape is not None and len(shape) > 2:
            for d in shape[1:-1]:
                positions *= int(d) if d else 1
        total += int(params) * positions
    return total


def plane_probe(plane: Plane, x_train: np.ndarray, output_units: int | None, task: str,
                resolution: int = 60, from_logits: bool = False,
                extent: Extent | None = None) -> BoundaryProbe | None:
    """A boundary probe on `plane`: its grid covers the projected training data, and
    `extent` (plane coordinates: the visible range of a zoomed-out view) when given."""
    if output_units is None:
        return None
    coords = plane.project(x_train)
    xs, ys, grid = grid_points(coords, resolution, extent=extent)
    if task == "regression":
        kind = "regression"
    else:
        kind = "binary" if output_units == 1 else "multiclass"
    return BoundaryProbe(xs, ys, plane.points(grid), kind, from_logits and kind != "regression")
