"""What the training views draw, apart from the boundary: curves, scores, time left.

The window's training panel receives plain events from `training.TrainingSession` and
turns them into pictures. Everything here is the part of that work that is arithmetic, so
it is tested headless and reused by benchmarks:

- `Series` / `RunRecord`: the History of one run as growing NumPy arrays (doubling
  buffers), per-epoch values and per-batch values recovered from Keras's running means,
  with an exponential smoothing, ready for `setData` without copying.
- `confusion_matrix` / `class_scores` / `describe_prediction`: what Evaluate and Predict
  show.
- `time_left` / `format_duration`: the estimate under the progress bar.

The decision-boundary side (snapshots, planes through wide inputs, region colours) is in
the `boundary` package. Only NumPy is imported.
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "MEAN_LIKE",
    "PeakDecimator",
    "RunRecord",
    "Series",
    "class_scores",
    "confusion_matrix",
    "describe_prediction",
    "format_duration",
    "is_mean_metric",
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


def expected_quantities(metrics: Sequence[str]) -> list[str]:
    """The History's base names a run with these compile metrics will most likely log:
    "loss", then each metric as Keras names it ("AUC" -> "auc", "TopKCategoricalAccuracy"
    -> "top_k_categorical_accuracy"; a string such as "mae" keeps its name). A guess, for
    making plots ahead of a run: the run's own keys decide."""
    names = ["loss"]
    for metric in metrics:
        name = metric
        if any(c.isupper() for c in metric):
            name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", metric)
            name = name.lower().replace("top_kc", "top_k_c")
        if name not in names:
            names.append(name)
    return names


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


def time_left(elapsed: float, fraction: float, warmup: float = 0.0) -> float | None:
    """Seconds left at the run's steady pace, or None before there is anything to go by.

    Args:
        elapsed: seconds since the run started (the events' `elapsed`).
        fraction: the part of the run done, 0 to 1.
        warmup: seconds of `elapsed` spent on one-time work (the events' `warmup`: tracing
            and compiling, nearly all of it in the first epoch). It is left out of the
            pace: on the circle lesson (60 epochs) the first epoch ends 0.3 s into the
            run, 0.28 s of it warm-up, and an estimate that counted them would say 18 s
            for the 59 epochs left, which take about half a second.

    With warm-up, the pace is that of the time since, so an estimate made when nothing
    but warm-up has passed (a one-batch first epoch, say) is None rather than a guess.
    """
    if fraction <= 0.0 or elapsed <= 0.0:
        return None
    steady = elapsed - max(0.0, warmup)
    if steady <= 0.0:
        return None
    return max(0.0, steady * (1.0 - min(fraction, 1.0)) / fraction)


def format_duration(seconds: float | None) -> str:
    """"0:42", "12:05", "1:02:03"; "-" when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "-"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
