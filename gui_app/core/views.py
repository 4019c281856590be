"""What the training views draw, computed without Qt: curves, snapshots, planes, scores.

The window's training panel receives plain events from `training.TrainingSession` and
turns them into pictures. Everything here is the part of that work that is arithmetic, so
it is tested headless and reused by benchmarks:

- `Series` / `RunRecord`: the History of one run as growing NumPy arrays (doubling
  buffers), per-epoch values and per-batch values recovered from Keras's running means,
  with an exponential smoothing, ready for `setData` without copying.
- `SnapshotStore`: the decision-boundary grids of the current run, per position in the
  run, under a memory cap (thinned evenly when over it) so a slider can scrub back.
- `Plane` / `make_plane` / `plane_probe`: a plane through inputs wider than two features
  (two chosen features with the others at their mean, or the first two principal
  components), and a `boundary.BoundaryProbe` on it, because the engine only draws a
  boundary for 2-D and 1-D inputs.
- `region_rgb`: class probabilities as a coloured image (confident = saturated, unsure =
  pale), the same for 2 and for 10 classes.
- `confusion_matrix` / `class_scores` / `describe_prediction`: what Evaluate and Predict
  show.

Only NumPy is imported.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from .boundary import BoundaryGrid, BoundaryProbe, grid_points

__all__ = [
    "MEAN_LIKE",
    "PeakDecimator",
    "Plane",
    "RunRecord",
    "Series",
    "SnapshotStore",
    "class_scores",
    "confusion_matrix",
    "contour_segments",
    "describe_prediction",
    "format_duration",
    "is_mean_metric",
    "make_plane",
    "plane_probe",
    "plane_resolution",
    "region_index",
    "region_lut",
    "region_rgb",
    "split_key",
    "time_left",
]


# --------------------------------------------------------------------------------------
# Growing arrays


class Series:
    """x/y values in preallocated float64 buffers that double when full.

    `x` and `y` are views of the filled part, so a plot can take them every frame
    without copying; appending is amortised O(1) even at a million points.
    """

    def __init__(self, capacity: int = 256) -> None:
        self._x = np.empty(max(4, capacity), dtype=np.float64)
        self._y = np.empty(max(4, capacity), dtype=np.float64)
        self.n = 0
        # Running bounds of the finite y values (and of the positive ones, for a log
        # axis), so a view can fit its range without scanning a million points a frame.
        self.lo = math.inf
        self.hi = -math.inf
        self.pos_lo = math.inf
        self.nonfinite = 0  # NaN or infinite values appended (a run that diverged)

    def _bound(self, ys: np.ndarray) -> None:
        finite = ys[np.isfinite(ys)]
        self.nonfinite += len(ys) - finite.size
        if finite.size:
            self.lo = min(self.lo, float(finite.min()))
            self.hi = max(self.hi, float(finite.max()))
            positive = finite[finite > 0]
            if positive.size:
                self.pos_lo = min(self.pos_lo, float(positive.min()))

    def __len__(self) -> int:
        return self.n

    def _grow(self, needed: int) -> None:
        size = len(self._x)
        if needed <= size:
            return
        while size < needed:
            size *= 2
        for name in ("_x", "_y"):
            old = getattr(self, name)
            new = np.empty(size, dtype=np.float64)
            new[: self.n] = old[: self.n]
            setattr(self, name, new)

    def append(self, x: float, y: float) -> None:
        self._grow(self.n + 1)
        self._x[self.n] = x
        self._y[self.n] = y
        self.n += 1
        if math.isfinite(y):
            self.lo = min(self.lo, y)
            self.hi = max(self.hi, y)
            if y > 0:
                self.pos_lo = min(self.pos_lo, y)
        else:
            self.nonfinite += 1

    def extend(self, xs: np.ndarray, ys: np.ndarray) -> None:
        xs, ys = np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)
        self._grow(self.n + len(xs))
        self._x[self.n: self.n + len(xs)] = xs
        self._y[self.n: self.n + len(ys)] = ys
        self.n += len(xs)
        self._bound(ys)

    @property
    def x(self) -> np.ndarray:
        return self._x[: self.n]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.n]

    @property
    def capacity(self) -> int:
        return len(self._x)

    def last(self) -> tuple[float, float] | None:
        return (float(self._x[self.n - 1]), float(self._y[self.n - 1])) if self.n else None


class PeakDecimator:
    """A drawable version of a growing Series with at most about 2 x `target` points.

    Once the series holds more than `target` buckets' worth, each bucket of `bucket`
    consecutive points is drawn as its minimum and maximum (pyqtgraph's "peak" method,
    so spikes stay visible); finished buckets are decimated once and kept, only new
    points are processed per call, and the bucket doubles as the series grows. A plot then
    hands pyqtgraph tens of thousands of points per frame, not a million: pyqtgraph scans
    every point it is given on each `setData` (bounds, finiteness), even with
    clip-to-view and its own downsampling on.
    """

    def __init__(self, series: Series, target: int = 8192) -> None:
        self.series = series
        self.target = int(target)
        self.bucket = 1
        self._x = Series(2 * self.target + 16)
        self._y_done = 0  # raw points already decimated

    def view(self) -> tuple[np.ndarray, np.ndarray]:
        s = self.series
        n = len(s)
        if self.bucket == 1 and n <= self.target:
            return s.x, s.y
        rebuilt = False
        while n / self.bucket > self.target:
            self.bucket *= 2
            rebuilt = True
        if rebuilt:
            self._x = Series(2 * self.target + 16)
            self._y_done = 0
        full = (n - self._y_done) // self.bucket
        if full:
            end = self._y_done + full * self.bucket
            ys = s.y[self._y_done:end].reshape(full, self.bucket)
            xs = s.x[self._y_done:end].reshape(full, self.bucket)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # an all-NaN bucket: NaN
                low, high = np.nanmin(ys, axis=1), np.nanmax(ys, axis=1)
            mid = xs[:, self.bucket // 2]
            self._x.extend(np.repeat(mid, 2), np.column_stack([low, high]).reshape(-1))
            self._y_done = end
        tail_x, tail_y = s.x[self._y_done:n], s.y[self._y_done:n]
        if not len(tail_x):
            return self._x.x, self._x.y
        return np.concatenate([self._x.x, tail_x]), np.concatenate([self._x.y, tail_y])


#: Log names whose running value is a plain mean over the epoch's batches, so the mean of
#: the batches since the previous report can be recovered from two running means. AUC,
#: precision, recall, RMSE and R2 are not means of per-batch values and are drawn as
#: Keras reports them.
MEAN_LIKE: tuple[str, ...] = (
    "loss", "accuracy", "mae", "mse", "mape", "msle", "mean_absolute_error",
    "mean_squared_error", "mean_absolute_percentage_error", "mean_squared_logarithmic_error",
    "crossentropy", "hinge", "poisson", "kl_divergence", "logcosh", "top_k_categorical_accuracy",
)


def is_mean_metric(name: str) -> bool:
    """True when Keras reports `name` as a running mean over the epoch's batches."""
    base = split_key(name)[1]
    if "root" in base or base == "rmse":
        return False  # the square root of a mean is not a mean
    return any(base.endswith(m) for m in MEAN_LIKE)


def split_key(key: str) -> tuple[str, str]:
    """("val", "loss") for "val_loss", ("train", "accuracy") for "accuracy"."""
    if key.startswith("val_"):
        return "val", key[4:]
    return "train", key


@dataclass
class _LastProgress:
    epoch: int
    step: int
    logs: dict[str, float]


@dataclass
class RunRecord:
    """Everything drawn for one run: from fresh weights until the next reset.

    A run in this sense spans continued runs of the session ("Continue", "Step one
    epoch"): their History continues, and so do the curves. Epoch values sit at x =
    epochs completed (1, 2, ...); batch values at x = epoch + step / steps.

    Attributes:
        number: 1, 2, ... in the order the runs started since the project was opened.
        label: what distinguishes the run, e.g. "Adam lr 0.001, batch 32".
        epochs: per log key ("loss", "val_accuracy"...): one point per finished epoch.
        batches: per train key: the mean over the batches since the previous report.
        smooth: per train key: an exponential moving average of `batches`.
        markers: (epoch, text) where a setting changed without resetting the weights.
        smoothing: the moving average's weight of the past (0 = none).
    """

    number: int
    label: str
    epochs: dict[str, Series] = field(default_factory=dict)
    batches: dict[str, Series] = field(default_factory=dict)
    smooth: dict[str, Series] = field(default_factory=dict)
    markers: list[tuple[float, str]] = field(default_factory=list)
    smoothing: float = 0.6
    epoch_logs: list[dict[str, float]] = field(default_factory=list)
    _last: _LastProgress | None = None

    @property
    def epochs_done(self) -> int:
        return len(self.epoch_logs)

    def quantities(self) -> list[str]:
        """Base names of everything logged ("loss" first), one plot each."""
        names: list[str] = []
        for key in self.epochs:
            base = split_key(key)[1]
            if base not in names:
                names.append(base)
        for key in self.batches:
            if key not in names:
                names.append(key)
        return sorted(names, key=lambda n: n != "loss")  # stable: loss first

    def add_progress(self, epoch: int, step: int, steps: int, logs: Mapping[str, float]) -> None:
        """Adds one BatchProgress: its running means become the recent batches' values."""
        if step <= 0 or steps <= 0:
            return
        last = self._last
        same_epoch = last is not None and last.epoch == epoch and 0 < last.step < step
        x = epoch + step / steps
        for key, value in logs.items():
            if key.startswith("val_"):
                continue
            value = float(value)
            if same_epoch and is_mean_metric(key) and key in last.logs:
                # running mean m_b over b batches and m_a over a: the mean of a+1..b
                recent = (step * value - last.step * last.logs[key]) / (step - last.step)
            else:
                recent = value
            self._append_batch(key, x, recent)
        self._last = _LastProgress(epoch, step, dict(logs))

    def _append_batch(self, key: str, x: float, value: float) -> None:
        raw = self.batches.setdefault(key, Series())
        smooth = self.smooth.setdefault(key, Series())
        raw.append(x, value)
        previous = smooth.last()
        if previous is None or not math.isfinite(previous[1]):
            smooth.append(x, value)
        else:
            a = self.smoothing
            smooth.append(x, a * previous[1] + (1 - a) * value)

    def add_epoch(self, epoch: int, logs: Mapping[str, float]) -> None:
        """Adds one EpochEnd (epoch counted from 0)."""
        x = epoch + 1
        for key, value in logs.items():
            self.epochs.setdefault(key, Series(64)).append(x, float(value))
        self.epoch_logs.append(dict(logs))
        self._last = None  # the next epoch's running means start afresh

    def logs_at(self, position: float) -> tuple[int, dict[str, float]] | None:
        """The last finished epoch at or before `position` (in epochs) and its logs."""
        done = min(int(math.floor(position + 1e-9)), len(self.epoch_logs))
        if done <= 0:
            return None
        return done, self.epoch_logs[done - 1]


# --------------------------------------------------------------------------------------
# Snapshots for scrubbing


class SnapshotStore:
    """Boundary grids of one run keyed by their position in epochs, under a memory cap.

    When the grids outgrow `max_bytes`, every other stored snapshot is dropped (the
    newest is always kept), so a long run keeps evenly spread pictures of its whole
    history instead of only its last minutes.
    """

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = int(max_bytes)
        self._positions: list[float] = []
        self._grids: dict[float, BoundaryGrid] = {}
        self.nbytes = 0
        self.min_gap = 0.0  # grows with each thinning: later snapshots are kept as sparsely

    def __len__(self) -> int:
        return len(self._positions)

    @property
    def positions(self) -> list[float]:
        return list(self._positions)

    def clear(self) -> None:
        self._positions.clear()
        self._grids.clear()
        self.nbytes = 0
        self.min_gap = 0.0

    def add(self, position: float, grid: BoundaryGrid) -> None:
        position = round(float(position), 6)
        if position in self._grids:
            self.nbytes -= self._grids[position].values.nbytes
        else:
            if self._positions and position < self._positions[-1]:
                return  # from an earlier run that arrived late
            if (len(self._positions) >= 2 and self.min_gap > 0
                    and position - self._positions[-2] < self.min_gap):
                # keep the spacing the thinning left: replace the newest instead
                old = self._positions.pop()
                self.nbytes -= self._grids.pop(old).values.nbytes
            self._positions.append(position)
        self._grids[position] = grid
        self.nbytes += grid.values.nbytes
        while self.nbytes > self.max_bytes and len(self._positions) > 2:
            self._thin()

    def _thin(self) -> None:
        keep = self._positions[::2]
        if keep[-1] != self._positions[-1]:
            keep.append(self._positions[-1])
        for position in self._positions:
            if position not in keep:
                self.nbytes -= self._grids.pop(position).values.nbytes
        self._positions = keep
        if len(keep) >= 2:
            self.min_gap = (keep[-1] - keep[0]) / (len(keep) - 1)

    def get(self, index: int) -> tuple[float, BoundaryGrid]:
        position = self._positions[index]
        return position, self._grids[position]

    def latest(self) -> tuple[float, BoundaryGrid] | None:
        return self.get(len(self._positions) - 1) if self._positions else None


# --------------------------------------------------------------------------------------
# Planes through wide inputs


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


def plane_resolution(params: int, low: int = 12, high: int = 80,
                     budget: float = 1.3e8) -> int:
    """Grid points per axis for a plane: fewer for big models, so one picture stays cheap.

    A forward pass costs about 2 x params multiply-adds per point; `budget` bounds that,
    so that ten pictures a second cost training about 2-3 % on a 2-core CPU (the
    784-300-100-10 MLP gets 15 x 15, drawn smoothed; a small MLP 80 x 80).
    """
    if params <= 0:
        return high
    return int(min(high, max(low, math.sqrt(budget / (2.0 * params)))))


def plane_probe(plane: Plane, x_train: np.ndarray, output_units: int | None, task: str,
                resolution: int = 60, from_logits: bool = False) -> BoundaryProbe | None:
    """A boundary probe on `plane`: its grid covers the projected training data."""
    if output_units is None:
        return None
    coords = plane.project(x_train)
    xs, ys, grid = grid_points(coords, resolution)
    if task == "regression":
        kind = "regression"
    else:
        kind = "binary" if output_units == 1 else "multiclass"
    return BoundaryProbe(xs, ys, plane.points(grid), kind, from_logits and kind != "regression")


# --------------------------------------------------------------------------------------
# Colours


def region_rgb(values: np.ndarray, kind: str, colors: np.ndarray) -> np.ndarray:
    """Class regions as an RGB image: each pixel the probability-weighted class colour,
    faded to white where the model is unsure (near the boundary).

    Args:
        values: (rows, cols, k): P(class 1) for "binary" (k = 1), probabilities otherwise.
        kind: "binary" or "multiclass".
        colors: (classes, 3) RGB in 0..255 (at least 2 rows; repeated when too few).

    Returns:
        uint8 array (rows, cols, 3).
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.5, posinf=1.0, neginf=0.0)
    if kind == "binary":
        p = np.clip(v[..., 0], 0.0, 1.0)
        probs = np.stack([1.0 - p, p], axis=-1)
    else:
        probs = np.clip(v, 0.0, 1.0)
        total = probs.sum(axis=-1, keepdims=True)
        probs = np.where(total > 0, probs / np.maximum(total, 1e-12), 1.0 / probs.shape[-1])
    k = probs.shape[-1]
    table = np.asarray(colors, dtype=np.float32)
    table = table[np.arange(k) % len(table)]
    mix = probs @ table
    top = probs.max(axis=-1, keepdims=True)
    confidence = (top - 1.0 / k) / (1.0 - 1.0 / k) if k > 1 else np.ones_like(top)
    alpha = 0.12 + 0.63 * np.clip(confidence, 0.0, 1.0)
    rgb = 255.0 * (1.0 - alpha) + mix * alpha
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def contour_segments(values: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                     level: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The line where a grid crosses `level`, as line segments (marching squares).

    Only the cells the line passes through are worked on (a few hundred of 10,000), so a
    100 x 100 grid takes a fraction of a millisecond; pyqtgraph's IsocurveItem traces it
    in Python in about ten, and this runs for every snapshot while training.

    Args:
        values: (rows, cols) with `values[iy, ix]` at `(xs[ix], ys[iy])`.
        xs, ys: the grid's coordinates.
        level: the value the line marks (0.5: the decision boundary).

    Returns:
        (x, y): segment end points, pairs in order (draw with connect="pairs").
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=level)
    if v.ndim != 2 or min(v.shape) < 2:
        return np.empty(0), np.empty(0)
    above = v > level
    corner = above[:-1, :-1]
    crossed = (corner != above[:-1, 1:]) | (corner != above[1:, 1:]) | (corner != above[1:, :-1])
    rows, cols = np.nonzero(crossed)
    if rows.size == 0:
        return np.empty(0), np.empty(0)
    xs = np.asarray(xs, np.float64)
    ys = np.asarray(ys, np.float64)
    # corners of each crossed cell: a (x0, y0), b (x1, y0), c (x1, y1), d (x0, y1)
    a = v[rows, cols] - level
    b = v[rows, cols + 1] - level
    c = v[rows + 1, cols + 1] - level
    d = v[rows + 1, cols] - level
    x0, x1, y0, y1 = xs[cols], xs[cols + 1], ys[rows], ys[rows + 1]

    def cross(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hit = (p > 0) != (q > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(hit, p / (p - q), 0.0)
        return hit, np.clip(t, 0.0, 1.0)

    h0, t0 = cross(a, b)  # bottom edge
    h1, t1 = cross(b, c)  # right edge
    h2, t2 = cross(d, c)  # top edge
    h3, t3 = cross(a, d)  # left edge
    hits = np.stack([h0, h1, h2, h3])
    ex = np.stack([x0 + t0 * (x1 - x0), x1, x0 + t2 * (x1 - x0), x0])
    ey = np.stack([y0, y0 + t1 * (y1 - y0), y1, y0 + t3 * (y1 - y0)])
    count = hits.sum(axis=0)
    cells = np.arange(rows.size)
    out_x, out_y = [], []
    two = count == 2
    if two.any():
        order = np.argsort(~hits[:, two], axis=0, kind="stable")[:2]  # the crossed edges
        idx = cells[two]
        out_x.append(np.stack([ex[order[0], idx], ex[order[1], idx]], axis=1).reshape(-1))
        out_y.append(np.stack([ey[order[0], idx], ey[order[1], idx]], axis=1).reshape(-1))
    four = count == 4
    if four.any():  # a saddle: join bottom-left and top-right (either pairing is a line)
        idx = cells[four]
        for first, second in ((0, 3), (1, 2)):
            out_x.append(np.stack([ex[first, idx], ex[second, idx]], axis=1).reshape(-1))
            out_y.append(np.stack([ey[first, idx], ey[second, idx]], axis=1).reshape(-1))
    if not out_x:
        return np.empty(0), np.empty(0)
    return np.concatenate(out_x), np.concatenate(out_y)


def region_lut(kind: str, colors: np.ndarray, steps: int = 32) -> np.ndarray:
    """A colour table for `region_index`: the same colours as `region_rgb`, looked up.

    An indexed image costs the GUI thread a fraction of what mixing RGB per pixel does
    (the view redraws it ten times a second while training). For "binary" the table has
    256 entries along P(class 1); for "multiclass" `steps` per class, from unsure (pale)
    to sure.
    """
    table = np.asarray(colors, dtype=np.float32)
    if kind == "binary":
        p = np.linspace(0.0, 1.0, 256, dtype=np.float32).reshape(1, -1, 1)
        return region_rgb(p, "binary", table)[0]
    k = len(table)
    rows = []
    for c in range(k):
        for q in np.linspace(0.0, 1.0, steps, dtype=np.float32):
            top = 1.0 / k + q * (1.0 - 1.0 / k)  # the winning class's probability
            probs = np.full(k, (1.0 - top) / max(1, k - 1), np.float32)
            probs[c] = top
            rows.append(probs)
    probs = np.array(rows, np.float32).reshape(1, -1, k)
    return region_rgb(probs, "multiclass", table)[0]


def region_index(values: np.ndarray, kind: str, steps: int = 32) -> np.ndarray:
    """Indices into `region_lut` for a grid of predictions (uint16, shape (rows, cols))."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.5, posinf=1.0, neginf=0.0)
    if kind == "binary":
        return np.clip(np.rint(v[..., 0] * 255.0), 0, 255).astype(np.uint16)
    k = v.shape[-1]
    best = v.argmax(axis=-1)
    top = np.take_along_axis(v, best[..., None], axis=-1)[..., 0]
    total = v.sum(axis=-1)
    top = np.where(total > 0, top / np.maximum(total, 1e-12), 1.0 / k)
    q = np.clip((top - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    return (best * steps + np.rint(q * (steps - 1))).astype(np.uint16)


# --------------------------------------------------------------------------------------
# Evaluate and predict


def labels_of(y: np.ndarray) -> np.ndarray:
    """Class indices from integer labels, 0/1 floats or one-hot rows."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        return y.argmax(axis=1).astype(np.int64)
    return np.rint(y.reshape(-1)).astype(np.int64)


def predicted_classes(outputs: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """Class indices from model outputs: threshold a single output, argmax several."""
    out = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if out.shape[1] == 1:
        threshold = 0.0 if from_logits else 0.5
        return (out[:, 0] > threshold).astype(np.int64)
    return out.argmax(axis=1).astype(np.int64)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int) -> np.ndarray:
    """counts[i, j] = samples of true class i predicted as class j."""
    t = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(y_pred, dtype=np.int64).reshape(-1)
    ok = (t >= 0) & (t < k) & (p >= 0) & (p < k)
    return np.bincount(t[ok] * k + p[ok], minlength=k * k).reshape(k, k)


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall and F1 of one class (NaN where undefined: nothing predicted)."""

    precision: float
    recall: float
    f1: float
    support: int


def class_scores(cm: np.ndarray) -> list[ClassScore]:
    """Per-class precision (of the predictions of the class, how many were right) and
    recall (of the samples of the class, how many were found)."""
    cm = np.asarray(cm, dtype=np.float64)
    out = []
    for i in range(len(cm)):
        tp = cm[i, i]
        predicted, actual = cm[:, i].sum(), cm[i, :].sum()
        precision = tp / predicted if predicted else float("nan")
        recall = tp / actual if actual else float("nan")
        if precision + recall > 0 and not (math.isnan(precision) or math.isnan(recall)):
            f1 = 2 * precision * recall / (precision + recall)
        else:
            f1 = float("nan")
        out.append(ClassScore(float(precision), float(recall), float(f1), int(actual)))
    return out


def describe_prediction(output: np.ndarray, task: str, class_names: Sequence[str] | None,
                        from_logits: bool = False) -> tuple[str, list[tuple[str, float]]]:
    """One model output in words: ("class 'inner' (P = 0.93)", [(name, probability)...]).

    For regression the list is empty and the sentence gives the value(s).
    """
    out = np.asarray(output, dtype=np.float64).reshape(-1)
    if task == "regression":
        values = ", ".join(f"{v:.4g}" for v in out)
        return f"predicted value: {values}", []
    if out.size == 1:
        p = float(out[0])
        if from_logits:
            p = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, p))))
        probs = np.array([1.0 - p, p])
    else:
        probs = out
        if from_logits or not (np.all(probs >= -1e-6) and abs(probs.sum() - 1.0) < 1e-3):
            shifted = np.exp(probs - probs.max())
            probs = shifted / shifted.sum()
    names = [str(n) for n in (class_names or [])]
    names += [f"class {i}" for i in range(len(names), len(probs))]
    best = int(np.argmax(probs))
    ranked = sorted(((names[i], float(probs[i])) for i in range(len(probs))),
                    key=lambda item: -item[1])
    return f"class {names[best]!r} (P = {probs[best]:.3f})", ranked


# --------------------------------------------------------------------------------------
# Time


def time_left(elapsed: float, fraction: float) -> float | None:
    """Seconds left at a constant rate, or None before there is anything to go by."""
    if fraction <= 0.0 or elapsed <= 0.0:
        return None
    return max(0.0, elapsed * (1.0 - min(fraction, 1.0)) / fraction)


def format_duration(seconds: float | None) -> str:
    """"0:42", "12:05", "1:02:03"; "-" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
