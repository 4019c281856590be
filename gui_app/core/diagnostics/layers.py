"""Each weighted layer as the Layers view draws it: its gradient norm, and histograms of
its activations on the probe batch and of its weights, in one plain-data event.

Why the histograms are made in the engine: the window never holds a model, and the arrays
they come from (a layer's outputs on the probe batch, its kernel) are already in the
engine's hands each time the live diagnostics take a sample (`stats.StatsCollector`). A
histogram is `HIST_BINS` counts, a few hundred bytes; the arrays are up to megabytes.

Why at most a few events a second (`LAYER_INTERVAL`): the compiled loop finishes an epoch of
the circle lesson in milliseconds and the diagnostics sample at each epoch's end, far more
often than a person can read a histogram. `LayerFeed` sends one event per interval; of the
samples in between only the gradient norms travel (in the next event's `grad_norms`, so the
curve over the run has every sample), and the run's last sample is always sent
(`LayerFeed.flush`), so the view ends on the weights the run ended with. The histograms
are made only for a sample that is sent: measured on two shared cores, an event
of the 784-300-100-10 MLP (three kernels, the largest 235,200 weights, thinned to
`HIST_VALUES`; its outputs on 64 samples) takes 1.1 ms, so four a second take about 0.5 %
of the training thread's time, and count against the diagnostics' 2 % budget.

NumPy only; the event is plain data (ints, floats, str, tuples), like `FindingEvent`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from .stats import Sample

#: Bars per histogram at most: enough to show a spike at 0 (dead ReLUs) or two humps at
#: the flat ends of a sigmoid, few enough to read in a plot 140 pixels wide. Fewer values
#: get fewer bars (the square-root rule, `bins_for`): the 16 weights of a Playground layer
#: in 30 bars are a comb of single counts, in 5 a shape.
HIST_BINS = 30
MIN_BINS = 5
#: Values a histogram is made from at most; more are thinned evenly (`thin`). 20,000
#: values put each of 30 bars within about 1 % of the whole array's count.
HIST_VALUES = 20_000
#: Seconds between two LayerStatsEvents of a run at least: four a second looks live.
LAYER_INTERVAL = 0.25


def sample_stride(size: int, units: int, limit: int = HIST_VALUES) -> int:
    """A stride that keeps at most `limit` of `size` values and reaches every unit.

    The values are a flattened array whose last axis has `units` entries (a convolution's
    channels); a stride sharing a factor with `units` would visit only some channels, so it
    is raised to the next one coprime with `units`.
    """
    stride = max(1, -(-int(size) // max(1, int(limit))))
    while units > 1 and math.gcd(stride, int(units)) != 1:
        stride += 1
    return stride


def thin(values: Any, units: int = 1, limit: int = HIST_VALUES) -> np.ndarray:
    """The values as one flat array of at most `limit` of them, evenly spread."""
    flat = np.asarray(values).reshape(-1)
    return flat[::sample_stride(flat.size, units, limit)]


def bins_for(count: int) -> int:
    """Bars for a histogram of `count` values: the square root, from `MIN_BINS` to
    `HIST_BINS`."""
    return int(min(HIST_BINS, max(MIN_BINS, round(math.sqrt(max(0, count))))))


def histogram(values: Any, bins: int | None = None
              ) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """(counts, edges) of the finite values, `bins` bars (`bins_for` their count when
    None) from their smallest to their largest; a constant array gets one unit of width
    around its value; no finite values give ((), ())."""
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    v = v[np.isfinite(v)]
    if not v.size:
        return (), ()
    if bins is None:
        bins = bins_for(v.size)
    low, high = float(v.min()), float(v.max())
    if not high > low:
        low, high = low - 0.5, high + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(low, high))
    return tuple(int(c) for c in counts), tuple(float(e) for e in edges)


def _number(value: float | None) -> float | None:
    """A JSON number: NaN and infinities become None."""
    return float(value) if value is not None and math.isfinite(value) else None


@dataclass(frozen=True)
class LayerSnapshot:
    """One weighted layer in one `LayerStatsEvent`.

    Attributes:
        index: the layer's position in the model (the project's `model.layers` index).
        name: its Keras name ("dense_1").
        kind: its Keras class ("Dense").
        activation: its activation's name, or None.
        units: the last axis of its output.
        grad_norm: L2 norm of the loss gradient of its kernel on the probe batch, or None.
        weight_norm: L2 norm of its kernel.
        update_ratio: the mean step size relative to the weights since the last sample,
            or None (see `stats.LayerStats`).
        dead: share of its units that output 0 for every probe sample (ReLU-like hidden
            layers), else None.
        saturated: share of its units on a flat end of sigmoid or tanh, else None.
        act_hist, act_edges: histogram of its outputs on the probe batch: up to
            `HIST_BINS` counts and one more edge; empty when the outputs are unknown or
            not finite.
        weight_hist, weight_edges: the same for its kernel's values.
        grad_norms: its gradient norm at each of the event's `grad_at` (every sample
            since the previous event: the events are a few a second, the samples may be
            many more); NaN where unknown.
    """

    index: int
    name: str
    kind: str
    activation: str | None = None
    units: int = 0
    grad_norm: float | None = None
    weight_norm: float | None = None
    update_ratio: float | None = None
    dead: float | None = None
    saturated: float | None = None
    act_hist: tuple[int, ...] = ()
    act_edges: tuple[float, ...] = ()
    weight_hist: tuple[int, ...] = ()
    weight_edges: tuple[float, ...] = ()
    grad_norms: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Every field, with lists for the histograms and None for a number that is not
        finite (JSON has no NaN)."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [_number(v) if isinstance(v, float) else v for v in value]
            elif isinstance(value, float):
                value = _number(value)
            out[f.name] = value
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerSnapshot:
        def number(key: str) -> float | None:
            value = data.get(key)
            return None if value is None else float(value)

        def values(key: str, kind: type) -> tuple:
            return tuple(kind(v) if v is not None else float("nan")
                         for v in data.get(key) or ())

        activation = data.get("activation")
        return cls(int(data["index"]), str(data["name"]), str(data.get("kind", "")),
                   None if activation is None else str(activation), int(data.get("units", 0)),
                   number("grad_norm"), number("weight_norm"), number("update_ratio"),
                   number("dead"), number("saturated"), values("act_hist", int),
                   values("act_edges", float), values("weight_hist", int),
                   values("weight_edges", float), values("grad_norms", float))


@dataclass(frozen=True)
class LayerStatsEvent:
    """The weighted layers at one moment of a run, for the Layers view.

    Attributes:
        run: the session's run number (0 outside a session).
        epoch: the epoch (from 0, across continued runs) the sample was taken in.
        step: batches finished in that epoch.
        seen: batches finished since this run began.
        at: the moment in epochs (`epoch + step / steps per epoch`): the x of the
            gradient-norm plot, which goes on across Continue.
        layers: one `LayerSnapshot` per layer with a kernel, in model order.
        epoch_end: True when taken at the end of `epoch`.
        grad_at: the moments (in epochs, like `at`) of every sample since the previous
            event, this one's last: the x of each row's `grad_norms`.
        probe_size: the samples in the probe batch the activations come from (0: unknown).
    """

    run: int
    epoch: int
    step: int
    seen: int
    at: float
    layers: tuple[LayerSnapshot, ...] = ()
    epoch_end: bool = False
    grad_at: tuple[float, ...] = ()
    probe_size: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: {"type": "layer_stats", "run", "epoch", "step", "seen", "at",
        "epoch_end", "grad_at", "probe_size", "layers": [{"name", "grad_norm",
        "grad_norms", "act_hist", "act_edges", "weight_hist", "weight_edges", "dead",
        "saturated", ...}]}."""
        return {"type": "layer_stats", "run": self.run, "epoch": self.epoch,
                "step": self.step, "seen": self.seen, "at": _number(self.at),
                "epoch_end": self.epoch_end, "grad_at": [_number(v) for v in self.grad_at],
                "probe_size": self.probe_size,
                "layers": [row.to_dict() for row in self.layers]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LayerStatsEvent:
        """Reads `to_dict`'s shape back (a line of `layerlab train --events`)."""
        at = data.get("at")
        return cls(int(data.get("run", 0)), int(data["epoch"]), int(data.get("step", 0)),
                   int(data.get("seen", 0)),
                   float(at) if at is not None else float(data["epoch"]),
                   tuple(LayerSnapshot.from_dict(row) for row in data.get("layers") or ()),
                   bool(data.get("epoch_end", False)),
                   tuple(float(v) for v in data.get("grad_at") or () if v is not None),
                   int(data.get("probe_size", 0)))


def position(sample: Sample, steps: int | None = None, initial_epoch: int = 0) -> float:
    """When a sample was taken, in epochs: `epoch + step / steps` (whole epochs when
    `steps` is None). The sample taken before a run's first batch says epoch 0 (Keras has
    not begun an epoch yet) and is placed at `initial_epoch`, where the run began."""
    if sample.seen == 0:
        return float(initial_epoch)
    epoch = max(int(sample.epoch), int(initial_epoch))
    if steps:
        return epoch + min(int(sample.step), int(steps)) / int(steps)
    return float(epoch + (1 if sample.epoch_end else 0))


def layer_event(sample: Sample, weights: Mapping[int, np.ndarray],
                outputs: Mapping[int, np.ndarray], run: int = 0,
                steps: int | None = None, initial_epoch: int = 0,
                trail: Sequence[tuple[float, Mapping[int, float | None]]] = (),
                probe_size: int = 0) -> LayerStatsEvent:
    """The event for one diagnostics sample.

    Args:
        sample: the sample (its per-layer numbers).
        weights: each weighted layer's kernel, by layer index; a layer not here has no row.
        outputs: each weighted layer's outputs on the probe batch (maybe thinned already).
        run: the run number.
        steps: batches per epoch, for `at` (`position`).
        initial_epoch: the epoch the run began at.
        trail: (moment, gradient norms by layer index) of the samples since the previous
            event, before this one; this one's are added.
        probe_size: the samples in the probe batch.
    """
    at = position(sample, steps, initial_epoch)
    moments = [*trail, (at, {s.index: s.grad_norm for s in sample.layers})]
    rows = []
    for stats in sample.layers:
        kernel = weights.get(stats.index)
        if kernel is None:
            continue
        kernel = np.asarray(kernel)
        out = outputs.get(stats.index)
        act_hist, act_edges = histogram(thin(out, stats.units)) if out is not None \
            else ((), ())
        weight_hist, weight_edges = histogram(
            thin(kernel, kernel.shape[-1] if kernel.ndim else 1))
        norms = tuple(_nan(norms.get(stats.index)) for _, norms in moments)
        rows.append(LayerSnapshot(
            stats.index, stats.name, stats.kind, stats.activation, stats.units,
            stats.grad_norm, stats.weight_norm, stats.update_ratio, stats.dead,
            stats.saturated, act_hist, act_edges, weight_hist, weight_edges, norms))
    return LayerStatsEvent(int(run), max(int(sample.epoch), int(initial_epoch)),
                           int(sample.step), int(sample.seen), at, tuple(rows),
                           bool(sample.epoch_end), tuple(float(t) for t, _ in moments),
                           int(probe_size))


def _nan(value: float | None) -> float:
    return float("nan") if value is None else float(value)


class LayerFeed:
    """Turns diagnostics samples into LayerStatsEvents, at most one per `interval` seconds.

    `offer` is called with every sample and its arrays (on the training thread); a sample
    that comes sooner than `interval` after the last event is kept, replacing the one kept
    before (its gradient norms join the next event's `grad_norms`), and `flush` (at the
    run's end) sends it. Only sent samples get histograms.

    Args:
        emit: where the events go (the session's event stream).
        run: the run number the events carry.
        steps: batches per epoch (for `LayerStatsEvent.at`).
        initial_epoch: the epoch the run began at.
        interval: seconds between two events at least.
        probe_size: the samples in the probe batch (the events say it).
        clock: the time in seconds (tests pass their own).
    """

    def __init__(self, emit: Callable[[LayerStatsEvent], None], run: int = 0,
                 steps: int | None = None, initial_epoch: int = 0,
                 interval: float = LAYER_INTERVAL, probe_size: int = 0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.emit = emit
        self.probe_size = int(probe_size)
        self.run = int(run)
        self.steps = steps
        self.initial_epoch = int(initial_epoch)
        self.interval = float(interval)
        self.clock = clock
        self.sent = 0
        self._last = -math.inf
        self._kept: tuple[Sample, Mapping[int, np.ndarray], Mapping[int, np.ndarray]] | None = None
        #: (moment, gradient norms by layer) of the samples passed over since the last event
        self._trail: list[tuple[float, dict[int, float | None]]] = []

    def offer(self, sample: Sample, weights: Mapping[int, np.ndarray],
              outputs: Mapping[int, np.ndarray]) -> None:
        """A new sample: sent now if the last event is `interval` old, else kept."""
        kept, self._kept = self._kept, None
        if kept is not None:  # passed over: only its gradient norms are sent
            self._trail.append((position(kept[0], self.steps, self.initial_epoch),
                                {s.index: s.grad_norm for s in kept[0].layers}))
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self._send(sample, weights, outputs)
        else:
            self._kept = (sample, weights, outputs)

    def flush(self) -> None:
        """Sends the sample kept back, if any (the run ended)."""
        kept, self._kept = self._kept, None
        if kept is not None:
            self._last = self.clock()
            self._send(*kept)

    def _send(self, sample: Sample, weights: Mapping[int, np.ndarray],
              outputs: Mapping[int, np.ndarray]) -> None:
        trail, self._trail = self._trail, []
        self.sent += 1
        self.emit(layer_event(sample, weights, outputs, self.run, self.steps,
                              self.initial_epoch, trail, self.probe_size))
