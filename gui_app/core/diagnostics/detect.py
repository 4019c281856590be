"""Training problems, read from the statistics samples and the epoch logs.

`Diagnoser` takes the stream (`Sample`s from `stats`, `EpochLogs` at each epoch's end) and
answers with the findings that appeared, changed or stopped holding. Each finding has a
fixed code (`CODES`), a message in plain words with its evidence (a number, a layer, an
epoch) and the fixes that apply (`fixes.suggest`). A finding whose condition no longer
holds for `RESOLVE_AFTER` epochs in a row is marked resolved, not deleted: a person who
applied a fix, or whose run got past a rough start, sees that it went away.

Every threshold is in `Thresholds`, with where it comes from: the AutoTrainer heuristics
(Zhang et al., "AutoTrainer: An Automatic DNN Training Problem Detection and Repair
System", ICSE 2021, whose defaults are quoted by name: beta_1, beta_3, gamma, zeta, eta), a
textbook rule of thumb, or LayerLab's own measurement on its ten lessons and the broken
projects of `benchmarks/diagnostics.py` (the healthy lessons' extreme value is given, so
the margin is visible).

Pure Python and NumPy: no Keras, no Qt. The detector never sees the model, only numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..catalog import loss_def
from ..checks import Fix
from ..spec import Project
from .events import ACTIVE, RESOLVED, FindingEvent
from .fixes import FixRef, fix_for, suggest
from .stats import EpochLogs, LayerStats, Sample

#: Every code the detector gives, in the order the window lists them (worst first).
CODES: tuple[str, ...] = (
    "nan_loss", "exploding_gradients", "vanishing_gradients", "dying_relu", "saturation",
    "oscillating_loss", "slow_convergence", "plateau", "overfitting", "underfitting",
)
#: "error": the run cannot recover by itself; "warning": it trains, badly.
SEVERITY: dict[str, str] = {code: "warning" for code in CODES} | {"nan_loss": "error"}
#: Codes read from the statistics samples (also between epoch ends); the others are read
#: from the epoch logs.
SAMPLE_CODES = frozenset({"nan_loss", "exploding_gradients", "vanishing_gradients",
                          "dying_relu", "saturation"})


@dataclass(frozen=True)
class Thresholds:
    """The numbers the detectors compare against, each with its source.

    "Lessons" means the ten bundled lessons trained as shipped, "broken" the broken
    projects of `benchmarks/diagnostics.py`; both measured with that script.
    """

    #: vanishing: the first weighted layer's gradient norm below this share of the last
    #: one's. AutoTrainer beta_1 = 1e-3. Lessons: the smallest share is 0.21 (spiral);
    #: the 10-layer sigmoid stack: 4e-8 to 1e-7.
    vanishing_ratio: float = 1e-3
    #: ... and below this in absolute terms (AutoTrainer beta_2 = 1e-4), so a network
    #: whose last layer has a large gradient is not flagged for a modest first layer.
    vanishing_first: float = 1e-4
    #: exploding: the largest layer gradient this many times its value at the start, in
    #: two samples in a row. Lessons: at most 42 times (lesson 6a, 128-unit layers fitting
    #: 40 points) and 30 (spiral, whose first layer's gradient grows as it finds the arms).
    #: (AutoTrainer's own rule, the first layer's gradient above beta_3 = 70 times the
    #: last one's, is left out: it measures the inputs' scale as much as the training,
    #: and flagged a sigmoid network on unscaled house data at 79 that trains well.)
    exploding_growth: float = 100.0
    #: exploding: the training loss above this many times max(start, trivial baseline).
    #: Lessons: never above 0.99 times. SGD at 10: 2.5 times; Adam at 1.0: 34 times.
    blowup: float = 2.0
    #: dying ReLU: share of a layer's ReLU units silent on every probe sample
    #: (AutoTrainer gamma = 0.7, there as the share of zero gradients). Lessons: at most
    #: 0.5 (4 of 8 units of the circle's second layer, which still reaches 98 %).
    dead_share: float = 0.7
    #: saturation: share of a sigmoid/tanh layer's units on a flat end (slope under 5 %
    #: of its peak for 90 % of the probe samples). Lessons: at most 0.22 (spiral, late).
    saturated_share: float = 0.8
    #: oscillation: a swing is a turn of the training loss (down then up, or up then down)
    #: whose two legs both exceed this share of the loss scale (the trivial baseline).
    #: AutoTrainer zeta = 0.03 on accuracy (a 0-1 scale); here on the loss's own scale.
    swing: float = 0.05
    #: oscillation: swings needed in the last `swing_window` epoch-to-epoch changes ...
    #: AutoTrainer eta = 0.2 (a fifth of the epochs); the spiral lesson has loss spikes
    #: that make up to 3 swings in 8 epochs, so a spike alone must not be enough:
    swings: int = 3
    swing_window: int = 8
    #: ... and the loss travelled at least this many scales up and down in that window
    #: (sum of |changes|). Lessons: at most 0.67 where they have 3 swings (spiral); SGD
    #: at 2.0 with momentum 0.9: 1.2 to 2.2.
    travel: float = 1.0
    #: slow convergence: median update-to-weight ratio per batch below this. Healthy
    #: training updates weights by about 1e-3 of their size per step (Karpathy, CS231n
    #: "Neural Networks Part 3"); lessons: at least 1.3e-4 while their loss is above 1.5
    #: times its final value. Adam at 1e-6: 1.7e-6.
    slow_update: float = 1e-5
    #: slow convergence: ... while the loss has dropped less than this share since the
    #: start (a converged run also takes tiny steps: lesson 1 ends at 3e-8).
    slow_progress: float = 0.1
    #: plateau: the training loss moved less than this share of its scale over the last
    #: `flat_epochs` epochs ...
    flat: float = 0.01
    flat_epochs: int = 3
    #: ... while every kernel's gradient is below this share of the largest at the start
    #: (or 1e-7 when it started at 0): the optimiser has nothing to follow. Lessons: at
    #: least 0.5 % of their start (lesson 4, converged, whose loss is then far below
    #: `plateau_high` anyway); the all-zeros start: exactly 0.
    dead_gradient: float = 1e-3
    #: plateau and underfitting: "high" is at least this share of the trivial baseline.
    plateau_high: float = 0.5
    underfit_high: float = 0.85
    #: underfitting: training and validation loss closer than this share of the baseline
    #: (both bad alike, unlike overfitting), the loss no longer improving by more than
    #: `flat` of it per window, judged after `judge_share` of the run's epochs (at least
    #: `judge_min`). AutoTrainer judges after 30 % of the epochs (judgment_point = 0.3);
    #: 15 % reports within the first 30 % and passes the spiral lesson, whose loss sits at
    #: the baseline for its first 20 of 200 epochs before it takes off.
    underfit_gap: float = 0.1
    judge_share: float = 0.15
    judge_min: int = 3
    #: overfitting: validation loss above training loss by this share of the baseline,
    #: and risen this much above its best, both as medians of the last `smooth` epochs
    #: (the spiral lesson has single-epoch spikes of its validation loss to 4 times).
    #: AutoTrainer counts train-val accuracy gaps of 0.1 ("test_not_well"). Lessons (gaps as medians of 3 epochs): the circle's reaches
    #: 0.15 of the baseline, the spiral's 0.47 (epoch 101 of 200: the thinnest margin of
    #: all the thresholds); 2,000 units on 30 samples: 3.5.
    overfit_gap: float = 0.5
    overfit_rise: float = 0.1
    smooth: int = 3
    #: consecutive samples a gradient or unit condition must hold for (one bad probe
    #: batch is not a finding).
    persist: int = 2


THRESHOLDS = Thresholds()
#: Epoch ends without the evidence before a finding is marked resolved.
RESOLVE_AFTER = 2


@dataclass(frozen=True)
class Finding:
    """One training problem, as the window shows it.

    Attributes:
        code: one of CODES.
        epoch: the epoch (from 0) in which it reached its current state.
        message: plain words with the evidence.
        layer: the project's layer index the evidence points at, or None.
        layer_name: that layer's Keras name, or None.
        fixes: the fixes that apply (plain references; `fix_objects` makes them callable).
        state: "active" or "resolved".
        severity: "error" or "warning" (SEVERITY); "info" when the project marks the
            code intended.
        since: the epoch in which it was first reported.
        evidence: the numbers behind the message, by name.
    """

    code: str
    epoch: int
    message: str
    layer: int | None = None
    layer_name: str | None = None
    fixes: tuple[FixRef, ...] = ()
    state: str = ACTIVE
    severity: str = "warning"
    since: int = 0
    evidence: Mapping[str, float] = field(default_factory=dict)

    def to_event(self, run: int = 0) -> FindingEvent:
        """The plain-data event the session sends for this finding."""
        return FindingEvent(self.code, self.epoch, self.layer, self.message,
                            tuple(f.to_json() for f in self.fixes), self.state,
                            self.severity, self.since, run)

    def to_json(self) -> dict[str, Any]:
        """The event's JSON shape ({"type": "finding", ...})."""
        return self.to_event().to_dict()

    def fix_objects(self) -> tuple[Fix, ...]:
        """The fixes as `checks.Fix`, whose `apply` returns the edited project."""
        return tuple(fix_for(ref) for ref in self.fixes)


@dataclass(frozen=True)
class RunContext:
    """What the detector knows about the run besides the stream.

    Attributes:
        epochs: the epoch at which the run ends (as `fit(epochs=...)` counts).
        baseline: the loss of the best constant prediction (`trivial_baseline`), or None.
        baseline_what: that prediction in words ("always predicting the class shares").
        loss: the loss's Keras class name ("BinaryCrossentropy").
        project: the project that trains, for the fixes (None: findings without fixes).
        early_stopping: True when the project stops early on the validation loss and
            restores the best weights: overfitting is then already handled.
        initial_epoch: the first epoch of this run (continued runs start later).
        intended: codes the project shows on purpose, with its reason (lesson 6a
            overfits to show what overfitting looks like): their findings become notes
            that give the reason, as `checks` does with the pre-flight findings.
    """

    epochs: int
    baseline: float | None = None
    baseline_what: str = ""
    loss: str = ""
    project: Project | None = None
    early_stopping: bool = False
    initial_epoch: int = 0
    intended: Mapping[str, str] = field(default_factory=dict)


def trivial_baseline(loss: str, y: np.ndarray, task: str) -> tuple[float | None, str]:
    """The loss of the best prediction that ignores the inputs, and what it is.

    Underfitting is judged against it: a model whose loss stays near it has learned
    nothing an average would not know. Crossentropies: always predicting the class shares
    (the entropy of the labels); squared error: always the mean (the variance); absolute
    error: always the median. Other losses: None (no underfitting finding).
    """
    definition = loss_def(loss)
    name = definition.type if definition else loss
    y = np.asarray(y)
    if y.size == 0:
        return None, ""
    if name in ("BinaryCrossentropy", "BinaryFocalCrossentropy"):
        p = float(np.clip(np.mean(y.astype(np.float64)), 1e-7, 1 - 1e-7))
        return -(p * math.log(p) + (1 - p) * math.log(1 - p)), \
            f"always predicting the share of class 1 ({p:.2f})"
    if name in ("SparseCategoricalCrossentropy", "CategoricalCrossentropy"):
        if y.ndim == 2 and y.shape[1] > 1:
            shares = y.astype(np.float64).mean(axis=0)
        else:
            counts = np.bincount(y.reshape(-1).astype(np.int64))
            shares = counts / counts.sum()
        shares = shares[shares > 0]
        return float(-(shares * np.log(shares)).sum()), "always predicting the class shares"
    values = y.astype(np.float64).reshape(len(y), -1)
    if name == "MeanSquaredError":
        return float(values.var(axis=0).mean()), "always predicting the mean"
    if name == "MeanAbsoluteError":
        return float(np.abs(values - np.median(values, axis=0)).mean()), \
            "always predicting the median"
    return None, ""


def context_for(project: Project, y_train: np.ndarray, task: str, epochs: int,
                initial_epoch: int = 0) -> RunContext:
    """The RunContext for training `project` on labels `y_train` for `epochs` epochs."""
    loss = project.compile.loss.type
    definition = loss_def(loss)
    baseline, what = trivial_baseline(loss, y_train, task)
    stops = False
    for item in project.fit.callbacks or []:
        if isinstance(item, Mapping) and item.get("type") == "EarlyStopping" \
                and item.get("restore_best_weights") \
                and item.get("monitor", "val_loss") == "val_loss":
            stops = True
    intended = {mark.code: " ".join(mark.why.split()) for mark in project.intended
                if mark.code in CODES}
    return RunContext(int(epochs), baseline, what, definition.type if definition else loss,
                      project, stops, int(initial_epoch), intended)


@dataclass(frozen=True)
class _Hit:
    """A detector's evidence that its problem holds now."""

    message: str
    layer: int | None = None
    layer_name: str | None = None
    layers: tuple[int, ...] = ()
    evidence: Mapping[str, float] = field(default_factory=dict)


def _g(x: float) -> str:
    """A number as people read it: 3 significant digits."""
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.2g}"
    return f"{x:.3g}"


def _pct(x: float) -> str:
    return f"{100 * x:.0f} %"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _kernels(sample: Sample) -> list[LayerStats]:
    return [s for s in sample.layers if s.grad_norm is not None]


class Diagnoser:
    """Watches one run's stream and keeps its findings.

    Feed it with `add` in the order the callback produces (samples and epoch logs
    interleaved); each call returns the findings that appeared, changed state or were
    resolved by that item, ready to send as events. `findings` gives all of them.

    Args:
        context: what is known about the run (epochs, the trivial baseline, the project).
        thresholds: the detection thresholds (THRESHOLDS by default).
    """

    def __init__(self, context: RunContext, thresholds: Thresholds = THRESHOLDS) -> None:
        self.context = context
        self.t = thresholds
        self.samples: list[Sample] = []
        self.epochs: list[EpochLogs] = []
        self._findings: dict[str, Finding] = {}
        self._misses: dict[str, int] = {}
        self._nan_at: int | None = None
        self._blowup: tuple[int, float, float] | None = None  # (epoch, loss, reference)
        #: the newest training loss: an epoch's, or the mean of the batches since the
        #: previous sample inside a long epoch (epoch, value)
        self._last_loss: tuple[int, float] | None = None

    # -- the stream -------------------------------------------------------------------
    def add(self, item: Sample | EpochLogs) -> list[Finding]:
        """Takes one sample or epoch's logs; returns the findings it changed."""
        if isinstance(item, Sample):
            self.samples.append(item)
            if item.loss is not None and not item.epoch_end:
                self._last_loss = (item.epoch, item.loss)
            return self._update(item.epoch, SAMPLE_CODES, epoch_end=False)
        self.epochs.append(item)
        if "loss" in item.logs:
            self._last_loss = (item.epoch, item.logs["loss"])
        return self._update(item.epoch, frozenset(CODES), epoch_end=True)

    def findings(self, state: str | None = None) -> list[Finding]:
        """Every finding so far (in CODES order), or only those in `state`."""
        found = [self._findings[c] for c in CODES if c in self._findings]
        return [f for f in found if state is None or f.state == state]

    def by_code(self) -> dict[str, Finding]:
        return {f.code: f for f in self.findings()}

    def active(self) -> list[str]:
        """The codes that hold now."""
        return [f.code for f in self.findings(ACTIVE)]

    # -- bookkeeping ------------------------------------------------------------------
    def _update(self, epoch: int, codes: frozenset[str], epoch_end: bool) -> list[Finding]:
        hits = {code: self._detect(code) for code in CODES if code in codes}
        hits = self._explain_away(hits)
        changed = []
        for code, hit in hits.items():
            old = self._findings.get(code)
            if hit is not None:
                self._misses[code] = 0
                if old is None or old.state == RESOLVED:
                    since = old.since if old is not None else epoch
                    new = self._finding(code, hit, epoch, since)
                    self._findings[code] = new
                    changed.append(new)
                elif hit.layer == old.layer:  # still holding: the newest evidence, no event
                    fresh = self._finding(code, hit, old.epoch, old.since)
                    self._findings[code] = replace(fresh, fixes=old.fixes)
                # (a finding keeps the layer its event named, so the window can match the
                # resolved event to the card it showed)
            elif old is not None and old.state == ACTIVE and epoch_end:
                self._misses[code] = self._misses.get(code, 0) + 1
                if self._misses[code] >= RESOLVE_AFTER:
                    resolved = replace(old, state=RESOLVED, epoch=epoch,
                                       message=f"Resolved in epoch {epoch + 1}: "
                                               f"{_lowered(old.message)}")
                    self._findings[code] = resolved
                    changed.append(resolved)
        return changed

    def _finding(self, code: str, hit: _Hit, epoch: int, since: int) -> Finding:
        layers = list(hit.layers) or ([hit.layer] if hit.layer is not None else [])
        message, severity = hit.message, SEVERITY[code]
        why = self.context.intended.get(code)
        if why:
            message, severity = (f"Intended in this project: {why} (The diagnostics say: "
                                 f"{hit.message})"), "info"
        return Finding(code, epoch, message, hit.layer, hit.layer_name,
                       suggest(code, self.context.project, layers or None), ACTIVE,
                       severity, since, dict(hit.evidence))

    def _explain_away(self, hits: dict[str, _Hit | None]) -> dict[str, _Hit | None]:
        """Keeps the most specific cause when one problem explains another's evidence:
        all ReLUs dead also means tiny gradients and a flat loss; a NaN ends the rest."""
        if hits.get("nan_loss") is not None:
            return {code: (hit if code == "nan_loss" else None) for code, hit in hits.items()}
        specific = any(hits.get(c) is not None for c in (
            "dying_relu", "vanishing_gradients", "exploding_gradients", "saturation"))
        if specific and "plateau" in hits:
            hits["plateau"] = None
        if hits.get("dying_relu") is not None and "vanishing_gradients" in hits:
            hits["vanishing_gradients"] = None
        if hits.get("slow_convergence") is not None and "plateau" in hits:
            hits["plateau"] = None
        if hits.get("dying_relu") is not None and "slow_convergence" in hits:
            hits["slow_convergence"] = None  # the dead units, not the learning rate
        return hits

    def _detect(self, code: str) -> _Hit | None:
        return getattr(self, f"_{code}")()

    # -- helpers ----------------------------------------------------------------------
    def _recent(self, k: int) -> list[Sample]:
        return self.samples[-k:] if len(self.samples) >= k else []

    def _losses(self, key: str = "loss") -> list[tuple[int, float]]:
        return [(e.epoch, e.logs[key]) for e in self.epochs if key in e.logs]

    def _scale(self) -> float:
        """The loss's natural size: the trivial baseline, else the starting loss."""
        if self.context.baseline:
            return self.context.baseline
        start = self._start_loss()
        return start if start and math.isfinite(start) else 1.0

    def _start_loss(self) -> float | None:
        for sample in self.samples:
            if _finite(sample.probe_loss):
                return sample.probe_loss
        losses = self._losses()
        return losses[0][1] if losses else None

    def _no_gradient(self) -> float:
        """A kernel gradient at or below this is "none": a thousandth of the largest at the
        start (Thresholds.dead_gradient), or 1e-7 when the start had none either."""
        start = max((k.grad_norm for k in _kernels(self.samples[0]) if _finite(k.grad_norm)),
                    default=0.0) if self.samples else 0.0
        return max(self.t.dead_gradient * start, 1e-7)

    def _epochs_done(self) -> int:
        return len(self.epochs)

    def _judge_after(self) -> int:
        planned = max(1, self.context.epochs - self.context.initial_epoch)
        return max(self.t.judge_min, math.ceil(self.t.judge_share * planned))

    # -- the detectors: each returns evidence, or None ------------------------------------
    def _nan_loss(self) -> _Hit | None:
        if self._nan_at is None:
            for e in self.epochs[-1:]:
                for key in ("loss", "val_loss"):
                    if key in e.logs and not math.isfinite(e.logs[key]):
                        self._nan_at = e.epoch
            for s in self.samples[-1:]:
                values = [s.loss, s.probe_loss, *(x.weight_norm for x in s.layers)]
                if any(v is not None and not math.isfinite(v) for v in values):
                    self._nan_at = s.epoch
        if self._nan_at is None:
            return None
        rate = self.samples[-1].learning_rate if self.samples else None
        note = f" at learning rate {_g(rate)}" if rate else ""
        return _Hit(f"The loss became NaN (not a number) in epoch {self._nan_at + 1}{note}: "
                    "the weights overflowed, and this run cannot recover. Lower the learning "
                    "rate or clip the gradients, then train again.",
                    evidence={"epoch": float(self._nan_at)})

    def _exploding_gradients(self) -> _Hit | None:
        t = self.t
        start = self._start_loss()
        reference = max(x for x in (start, self.context.baseline, 0.0) if x is not None)
        latest = [self._last_loss] if self._last_loss is not None else []
        if self._blowup is None and reference > 0:
            for epoch, loss in latest:
                if _finite(loss) and loss >= t.blowup * reference:
                    self._blowup = (epoch, loss, reference)
        if self._blowup is not None:
            epoch, loss, ref = self._blowup
            now = latest[-1][1] if latest else loss
            if _finite(now) and now > ref:
                return _Hit(f"The training loss blew up in epoch {epoch + 1}: {_g(loss)}, "
                            f"{loss / ref:.1f} times its starting value {_g(ref)}, and it has "
                            f"not come back (now {_g(now)}). The steps are too large: the "
                            "gradients grew until each update threw the weights far off.",
                            evidence={"loss": loss, "reference": ref, "now": now})
        recent = self._recent(t.persist)
        first = self.samples[0] if self.samples else None
        if not recent or first is None:
            return None
        start_grad = max((k.grad_norm for k in _kernels(first) if _finite(k.grad_norm)),
                         default=0.0)
        growth = []
        for s in recent:
            ks = [k for k in _kernels(s) if _finite(k.grad_norm)]
            if not ks or not start_grad:
                return None
            top = max(ks, key=lambda k: k.grad_norm or 0.0)
            growth.append((top, (top.grad_norm or 0.0) / start_grad))
        if all(g >= t.exploding_growth for _, g in growth):
            top, g = growth[-1]
            return _Hit(f"The gradients are exploding: in epoch {recent[-1].epoch + 1} layer "
                        f"'{top.name}' has a gradient of {_g(top.grad_norm or 0.0)}, {g:.0f} "
                        "times its size at the start. Each update throws its weights further.",
                        top.index, top.name, evidence={"growth": g})
        return None

    def _vanishing_gradients(self) -> _Hit | None:
        t = self.t
        recent = self._recent(t.persist)
        if not recent:
            return None
        for s in recent:
            ks = [k for k in _kernels(s) if _finite(k.grad_norm)]
            if len(ks) < 3:
                return None  # a gradient cannot fade over one hidden layer
            first, last = ks[0].grad_norm or 0.0, ks[-1].grad_norm or 0.0
            if last <= 0 or first / last >= t.vanishing_ratio or first >= t.vanishing_first:
                return None
        ks = _kernels(recent[-1])
        first, last = ks[0], ks[-1]
        share = (first.grad_norm or 0.0) / (last.grad_norm or 1.0)
        squash = sorted({k.activation for k in ks[:-1] if k.activation in
                         ("sigmoid", "tanh", "hard_sigmoid", "softsign")})
        why = (f" Each {' and '.join(squash)} layer multiplies the gradient by its slope "
               "(at most 0.25 for sigmoid), so it shrinks layer after layer."
               if squash else "")
        return _Hit(f"The gradients vanish before they reach the first layers: in epoch "
                    f"{recent[-1].epoch + 1} the first layer '{first.name}' gets a gradient of "
                    f"{_g(first.grad_norm or 0.0)}, {_g(share)} times the last layer's "
                    f"{_g(last.grad_norm or 0.0)} (below {_g(t.vanishing_ratio)} means the "
                    f"first layers barely learn).{why}",
                    first.index, first.name, evidence={"ratio": share,
                                                       "first": first.grad_norm or 0.0})

    def _layers_over(self, attr: str, limit: float) -> list[LayerStats]:
        """Layers whose `attr` share is at least `limit` in each of the recent samples."""
        recent = self._recent(self.t.persist)
        if not recent:
            return []
        over: set[int] | None = None
        for s in recent:
            now = {x.index for x in s.layers if getattr(x, attr) is not None
                   and (getattr(x, attr) or 0.0) >= limit and x.units >= 2}
            over = now if over is None else over & now
        return [x for x in recent[-1].layers if x.index in (over or set())]

    def _dying_relu(self) -> _Hit | None:
        layers = self._layers_over("dead", self.t.dead_share)
        if not layers:
            return None
        worst = max(layers, key=lambda x: (x.dead or 0.0, -x.index))
        dead = round((worst.dead or 0.0) * worst.units)
        others = [x.name for x in layers if x is not worst]
        also = f" (also {', '.join(repr(n) for n in others)})" if others else ""
        epoch = self.samples[-1].epoch
        return _Hit(f"Dying ReLU: {dead} of {worst.units} units ({_pct(worst.dead or 0.0)}) of "
                    f"layer '{worst.name}'{also} output 0 for every probe sample in epoch "
                    f"{epoch + 1}. A unit stuck below 0 gets no gradient and never learns "
                    "again; large steps or a negative start push units there.",
                    worst.index, worst.name, tuple(x.index for x in layers),
                    {"dead": worst.dead or 0.0})

    def _saturation(self) -> _Hit | None:
        layers = self._layers_over("saturated", self.t.saturated_share)
        if not layers:
            return None
        worst = max(layers, key=lambda x: (x.saturated or 0.0, -x.index))
        epoch = self.samples[-1].epoch
        return _Hit(f"Saturated units: {_pct(worst.saturated or 0.0)} of the {worst.activation} "
                    f"units of layer '{worst.name}' sit on a flat end of their curve for "
                    f"nearly every probe sample in epoch {epoch + 1}, where the slope (and so "
                    "the gradient) is almost 0. Inputs of large size, or large weights, push "
                    "them there.", worst.index, worst.name, tuple(x.index for x in layers),
                    {"saturated": worst.saturated or 0.0})

    def _oscillating_loss(self) -> _Hit | None:
        t = self.t
        losses = [v for _, v in self._losses()]
        if len(losses) < t.swing_window + 1 or not all(math.isfinite(v) for v in losses):
            return None
        window = losses[-(t.swing_window + 1):]
        steps = np.diff(window)
        leg = t.swing * self._scale()
        swings = sum(1 for a, b in zip(steps[:-1], steps[1:])
                     if a * b < 0 and min(abs(a), abs(b)) >= leg)
        travel = float(np.abs(steps).sum()) / self._scale()
        if swings < t.swings or travel < t.travel:
            return None
        epoch = self.epochs[-1].epoch
        return _Hit(f"The training loss goes up and down: {swings} swings of more than "
                    f"{_g(leg)} in the last {t.swing_window} epochs (to epoch {epoch + 1}; "
                    f"between {_g(min(window))} and {_g(max(window))}). The steps are so large "
                    "that each one overshoots the valley.",
                    evidence={"swings": float(swings), "travel": travel})

    def _slow_convergence(self) -> _Hit | None:
        t = self.t
        if self._epochs_done() < 2:
            return None
        ratios = [k.update_ratio for s in self._recent(3) for k in s.layers
                  if k.update_ratio is not None and math.isfinite(k.update_ratio)]
        start, now = self._start_loss(), self.samples[-1].probe_loss if self.samples else None
        if not ratios or not _finite(start) or not _finite(now) or not start:
            return None
        grads = [k.grad_norm for k in _kernels(self.samples[-1]) if _finite(k.grad_norm)]
        if grads and max(grads) <= self._no_gradient():
            return None  # nothing to follow: not the learning rate's fault (plateau)
        median = float(np.median(ratios))
        progress = (start - now) / abs(start)
        if median >= t.slow_update or progress >= t.slow_progress:
            return None
        epoch = self.epochs[-1].epoch
        return _Hit(f"Training crawls: each batch changes the weights by {_g(median)} of their "
                    f"size (healthy training: about 0.001), and after {epoch + 1} epoch(s) the "
                    f"loss has dropped {_pct(max(progress, 0.0))} (from {_g(start)} to "
                    f"{_g(now)}). The learning rate is too small for this model.",
                    evidence={"update_ratio": median, "progress": progress})

    def _plateau(self) -> _Hit | None:
        t = self.t
        losses = [v for _, v in self._losses()]
        if len(losses) < t.flat_epochs or not self.samples:
            return None
        window = losses[-t.flat_epochs:]
        scale = self._scale()
        if not all(math.isfinite(v) for v in window) or max(window) - min(window) >= t.flat * scale:
            return None
        if window[-1] < t.plateau_high * scale:
            return None
        limit = self._no_gradient()
        recent = self._recent(t.persist)
        if not recent:
            return None
        for s in recent:
            grads = [k.grad_norm for k in _kernels(s) if _finite(k.grad_norm)]
            if not grads or max(grads) > limit:
                return None
        epoch = self.epochs[-1].epoch
        return _Hit(f"The loss is stuck at {_g(window[-1])} (it moved less than "
                    f"{_g(t.flat * scale)} over the last {t.flat_epochs} epochs, to epoch "
                    f"{epoch + 1}) and every layer's gradient is almost 0 (at most "
                    f"{_g(max(g for s in recent for g in [k.grad_norm or 0.0 for k in _kernels(s)]))}"
                    "): the optimiser sits on a flat stretch of the loss with nothing to "
                    "follow. Weights that all start alike (zeros) do this.",
                    evidence={"loss": window[-1]})

    def _overfitting(self) -> _Hit | None:
        t = self.t
        if self.context.early_stopping:
            return None
        train, val = self._losses(), self._losses("val_loss")
        if len(val) < t.smooth or len(train) < t.smooth:
            return None
        recent_train = [v for _, v in train[-t.smooth:]]
        recent_val = [v for _, v in val[-t.smooth:]]
        best_epoch, best = min(val, key=lambda item: item[1])
        if not all(map(math.isfinite, (*recent_train, *recent_val, best))):
            return None
        now_train, now_val = float(np.median(recent_train)), float(np.median(recent_val))
        gaps = [v - x for v, x in zip(recent_val, recent_train)]
        if float(np.median(gaps)) < t.overfit_gap * self._scale() \
                or now_val < (1 + t.overfit_rise) * best:
            return None
        epoch = self.epochs[-1].epoch
        return _Hit(f"Overfitting: in epoch {epoch + 1} the validation loss is {_g(now_val)} "
                    f"against {_g(now_train)} on the training data, and it has risen since its "
                    f"best ({_g(best)}, epoch {best_epoch + 1}) while the training loss kept "
                    "falling. The model memorises the training samples instead of learning "
                    "what generalises.",
                    evidence={"val_loss": now_val, "loss": now_train, "best": best})

    def _underfitting(self) -> _Hit | None:
        t = self.t
        base = self.context.baseline
        train, val = self._losses(), self._losses("val_loss")
        if not base or len(train) < self._judge_after():
            return None
        now = train[-1][1]
        window = max(t.judge_min, math.ceil(0.1 * max(1, self.context.epochs)))
        earlier = [v for _, v in train[-(window + 1):]]
        if not all(map(math.isfinite, earlier)) or min(earlier) < t.underfit_high * base:
            return None  # it has been lower: a spike, not a model that cannot learn
        if max(earlier) - now >= t.flat * base:
            return None  # still improving: too early to say
        now_val = val[-1][1] if val else None
        if now_val is not None and (not math.isfinite(now_val) or now_val < t.underfit_high * base
                                    or abs(now_val - now) > t.underfit_gap * base):
            return None
        epoch = self.epochs[-1].epoch
        both = f" and {_g(now_val)} on validation" if now_val is not None else ""
        return _Hit(f"Underfitting: after {epoch + 1} epochs the loss is {_g(now)} on training"
                    f"{both}, close to the {_g(base)} of {self.context.baseline_what}, and it "
                    "has stopped improving. The model learns almost nothing from the inputs: "
                    "it is too small or too simple for this data.",
                    evidence={"loss": now, "baseline": base})


def _lowered(message: str) -> str:
    return message[:1].lower() + message[1:] if message else message


def replay(context: RunContext, stream: Sequence[Sample | EpochLogs],
           thresholds: Thresholds = THRESHOLDS) -> tuple[Diagnoser, list[Finding]]:
    """Runs a recorded stream through a fresh Diagnoser: the findings it ends with and
    every change on the way (the benchmark and the tests use it to tune thresholds
    without training again)."""
    diagnoser = Diagnoser(context, thresholds)
    changes: list[Finding] = []
    for item in stream:
        changes.extend(diagnoser.add(item))
    return diagnoser, changes
