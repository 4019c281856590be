"""The learning-rate range test's arithmetic: which rates to try, the smoothed loss, when to
stop, and which rate to suggest. Pure Python and NumPy (no Keras, no Qt): the engine runs
the test (`core.training.lr_range`), the window and `layerlab lr-find` read its events.

The method is fastai's `lr_find`, itself Leslie Smith's range test, which the course notes
describe as "gradually increase the learning rate ... every iteration (e.g. 10e-5 to 10),
then monitor the loss with respect to the learning rate and find the value right before
the loss starts increasing":

- train from some weights with the rate growing exponentially, batch by batch, from
  `START_LR` (1e-7) to `END_LR` (10) over `choose_steps` batches (100 to 300, from the
  data's size);
- smooth each batch's loss with an exponential moving average (`BETA` 0.98) divided by
  `1 - BETA ** n` (bias correction: without it the first points sit near 0, since the
  average starts at 0);
- stop once the smoothed loss passes `DIVERGENCE` (4) times its lowest value, or stops
  being a number: past there the rates only blow the weights up;
- suggest a rate from the smoothed curve, leaving out its first tenth (as fastai does: the
  average is still settling there), by the first rule that applies (`RULES`):
  "valley" (fastai's default), then "steepest", then "minimum/10".

A curve that never falls below where it began (by `MIN_DROP`, and by more than the batches'
noise: `loss_fell`) gets no suggestion: no rate makes such a model learn, and a number
would only hide that.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: The first and last rate of the sweep (fastai's defaults).
START_LR = 1e-7
END_LR = 10.0
#: The sweep's length in batches: PASSES epochs' batches, within MIN_STEPS and MAX_STEPS
#: (a small dataset is repeated, in a new order each pass). fastai takes 100 batches, but
#: its smoothing remembers about 50 of them, so 100 batches over the 8 decades from 1e-7
#: to 10 smear the curve over 4 decades; 300 smear it over 1.3. On the spiral lesson (15
#: batches an epoch) 100 batches left the loss within its noise (0.697 to 0.688: no
#: suggestion) and 300 let it fall 3 %, enough for a rate (0.0058) that trains it to 0.93
#: validation accuracy. Only datasets of under 5 batches an epoch get fewer than 100.
MIN_STEPS, MAX_STEPS = 100, 300
PASSES = 20
#: The smoothing of the loss (fastai's `Recorder` uses 0.98: about the last 50 batches).
BETA = 0.98
#: Stop when the smoothed loss exceeds this many times its minimum (fastai's 4).
DIVERGENCE = 4.0
#: The share of the first points the rules leave out (fastai: `num_it // 10`).
SKIP_START = 0.1
#: The least fall, as a share of the loss where the curve begins, that counts as falling
#: (`loss_fell`: a fall must also stand out from the batches' noise).
MIN_DROP = 0.01
#: The fewest points a rule needs (a valley shorter than this is noise).
MIN_POINTS = 5

#: Each rule in words, for the window and the command line.
RULES: dict[str, str] = {
    "valley": "the middle of the longest stretch over which the loss keeps falling "
              "(fastai's default rule)",
    "steepest": "where the loss falls fastest as the rate grows (the valley was too short "
                "to trust)",
    "minimum/10": "a tenth of the rate at the lowest loss (no valley, and the steepest fall "
                  "came after the lowest loss)",
}


def rule_words(rule: str) -> str:
    """'the valley rule: the middle of ...': a rule's name and what it does."""
    return f"the {rule} rule: {RULES[rule]}"


#: Why a sweep ended (`LRFindEvent.reason`).
REASONS: dict[str, str] = {
    "diverged": f"stopped when the smoothed loss passed {DIVERGENCE:g} times its minimum",
    "nan": "stopped when the loss stopped being a number",
    "end": "reached the last rate without the loss blowing up",
    "stopped": "stopped by request",
    "failed": "could not train",
}


def choose_steps(samples: int, batch_size: int) -> int:
    """The sweep's length: PASSES epochs' batches, within MIN_STEPS to MAX_STEPS.

    Args:
        samples: training samples.
        batch_size: samples per batch.
    """
    if samples < 1 or batch_size < 1:
        raise ValueError(f"expected at least one sample and a batch size >= 1, got "
                         f"{samples} samples and batch size {batch_size}")
    per_epoch = -(-int(samples) // int(batch_size))
    return int(min(MAX_STEPS, max(MIN_STEPS, PASSES * per_epoch)))


def rate_schedule(steps: int, start: float = START_LR, end: float = END_LR) -> np.ndarray:
    """`steps` rates growing exponentially from `start` to `end`, both included."""
    if steps < 2:
        raise ValueError(f"steps: expected at least 2, got {steps}")
    if not 0 < start < end:
        raise ValueError(f"expected 0 < start < end, got start {start:g} and end {end:g}")
    return start * (end / start) ** (np.arange(steps) / (steps - 1))


class LossSmoother:
    """An exponential moving average with bias correction (fastai's `AvgSmoothLoss`).

    `add(loss)` returns `avg / (1 - beta ** n)` where `avg = beta * avg + (1 - beta) * loss`
    and n counts the losses so far: the first value is the first loss itself, not a fiftieth
    of it.
    """

    def __init__(self, beta: float = BETA) -> None:
        if not 0 <= beta < 1:
            raise ValueError(f"beta: expected 0 <= beta < 1, got {beta}")
        self.beta = beta
        self.count = 0
        self._avg = 0.0

    def add(self, loss: float) -> float:
        self.count += 1
        self._avg = self.beta * self._avg + (1 - self.beta) * float(loss)
        return self._avg / (1 - self.beta ** self.count)


class RangeTest:
    """One sweep's state: the rate for each batch, the smoothed losses so far, and when to
    stop. The engine asks `rate(i)` before batch i and gives `record(loss)` its loss after.

    Args:
        steps: batches in the sweep (`choose_steps`).
        start, end: the first and last rate.
        beta: the smoothing (`LossSmoother`).
        divergence: stop when the smoothed loss exceeds this many times its minimum.
    """

    def __init__(self, steps: int, start: float = START_LR, end: float = END_LR,
                 beta: float = BETA, divergence: float = DIVERGENCE) -> None:
        self.steps = int(steps)
        self.rates = rate_schedule(self.steps, start, end)
        self.divergence = float(divergence)
        self.smoother = LossSmoother(beta)
        self.best = math.inf
        self.reason = ""  # "diverged", "nan" or "end" once the sweep says stop
        self._losses: list[float] = []
        self._raw: list[float] = []

    def rate(self, index: int) -> float:
        """The rate for batch `index` (the last rate past the end)."""
        return float(self.rates[min(int(index), self.steps - 1)])

    def record(self, loss: float) -> bool:
        """Takes the loss of the next batch; True when the sweep should stop here."""
        if self.reason:
            return True
        loss = float(loss)
        smoothed = self.smoother.add(loss) if math.isfinite(loss) else math.nan
        if not math.isfinite(smoothed):
            self.reason = "nan"  # not recorded: a curve has no point there
            return True
        self._raw.append(loss)
        self._losses.append(smoothed)
        self.best = min(self.best, smoothed)
        # A minimum at or below 0 (a loss that can be negative) has no "4 times" above it:
        # only a loss that stops being a number ends such a sweep early.
        if self.best > 0 and smoothed > self.divergence * self.best:
            self.reason = "diverged"
        elif len(self._losses) >= self.steps:
            self.reason = "end"
        return bool(self.reason)

    @property
    def lrs(self) -> np.ndarray:
        """The rates tried so far, one per recorded loss."""
        return self.rates[:len(self._losses)].copy()

    @property
    def losses(self) -> np.ndarray:
        """The smoothed losses so far."""
        return np.asarray(self._losses, dtype=np.float64)

    @property
    def raw_losses(self) -> np.ndarray:
        """Each batch's loss as it came, unsmoothed."""
        return np.asarray(self._raw, dtype=np.float64)


# -- the suggestion rules -------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """A rate picked from the curve.

    Attributes:
        lr: the suggested rate (two significant digits: `round_rate`).
        rule: the rule that gave it, a key of `RULES`.
        index: the point of the curve the rule picked (for "minimum/10", the minimum's:
            the rate suggested is a tenth of that point's).
        loss: the smoothed loss at that point.
    """

    lr: float
    rule: str
    index: int
    loss: float


def round_rate(lr: float) -> float:
    """A rate to two significant digits (0.003162 -> 0.0032): the sweep's points are 12 to
    37 per decade apart, so more digits would claim a precision the curve does not have."""
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"expected a positive rate, got {lr!r}")
    return float(f"{lr:.2g}")


def skipped(points: int, steps: int | None = None) -> int:
    """How many first points the rules leave out: a tenth of the sweep's planned length,
    but never so many that fewer than MIN_POINTS remain."""
    planned = points if steps is None else max(int(steps), points)
    return max(0, min(int(planned * SKIP_START), points - MIN_POINTS))


def batch_noise(raw_losses: Sequence[float] | np.ndarray) -> float:
    """The spread of one batch's loss around the trend: a robust standard deviation of the
    changes from batch to batch, divided by the square root of 2 (each change holds two
    batches' noise). The median, not the mean, so the jumps of a curve that blows up at
    its end do not count as noise."""
    raw = np.asarray(raw_losses, dtype=np.float64)
    raw = raw[np.isfinite(raw)]
    if len(raw) < 3:
        return 0.0
    return float(1.4826 * np.median(np.abs(np.diff(raw))) / math.sqrt(2))


def smoothed_sd(noise: float, count: int, beta: float = BETA) -> float:
    """The standard deviation that batch noise `noise` leaves in the smoothed loss after
    `count` batches (`LossSmoother`'s weights are (1 - beta) beta**k / (1 - beta**count);
    the early points, averaged over fewer batches, are the noisier)."""
    if count < 1:
        return noise
    weights_sq = ((1 - beta) ** 2 / (1 - beta ** count) ** 2
                  * (1 - beta ** (2 * count)) / (1 - beta ** 2))
    return noise * math.sqrt(weights_sq)


def loss_fell(losses: Sequence[float] | np.ndarray, skip: int = 0,
              raw_losses: Sequence[float] | np.ndarray | None = None,
              beta: float = BETA) -> bool:
    """True when the smoothed loss, after the first `skip` points, falls below where it
    began by more than MIN_DROP of that value and (given the raw batch losses) by more
    than three times the noise the batches leave in the smoothed curve, at its start and
    at its lowest point together.

    The noise term is for a model that cannot learn: its batches' losses still differ
    (each batch holds another mix of samples), and the lowest point of a wandering curve
    would otherwise pass for a fall. It is also why the share is as low as 1 %: the spiral
    lesson's first 300 batches only take its loss from 0.698 to 0.676 (3 %), a real fall
    three times its noise margin there (0.007 for 1 %, 0.013 for the noise).
    """
    curve = np.asarray(losses, dtype=np.float64)[skip:]
    if len(curve) < 2 or not np.isfinite(curve).all():
        return False
    first = curve[0]
    margin = MIN_DROP * abs(first)
    if raw_losses is not None:
        noise = batch_noise(raw_losses)
        margin = max(margin, 3 * math.hypot(smoothed_sd(noise, skip + 1, beta),
                                            smoothed_sd(noise, 10 ** 6, beta)))
    return bool(curve.min() < first - margin)


def valley(lrs: np.ndarray, losses: np.ndarray) -> Suggestion | None:
    """fastai's "valley": the longest falling subsequence of the curve marks a valley; the
    suggestion lies about halfway along it (a third plus a sixth of its length).

    fastai takes the valley's start as `end - length`, which is -1 (the last rate!) for a
    curve that falls from its first point; here it is `end - length + 1`, the earliest
    point where a falling sequence of that length can begin. None when the longest falling
    sequence has fewer than MIN_POINTS points.
    """
    n = len(losses)
    if n < MIN_POINTS:
        return None
    longest = np.ones(n, dtype=np.int64)  # the longest falling sequence ending at i
    for i in range(1, n):
        higher = losses[:i] > losses[i]
        if higher.any():
            longest[i] = int(longest[:i][higher].max()) + 1
    end = int(np.argmax(longest))  # the first of the longest
    length = int(longest[end])
    if length < MIN_POINTS:
        return None
    start = max(0, end - length + 1)
    sections = (end - start) / 3
    index = start + int(sections) + int(sections / 2)
    return Suggestion(round_rate(float(lrs[index])), "valley", index, float(losses[index]))


def steepest(lrs: np.ndarray, losses: np.ndarray) -> Suggestion | None:
    """fastai's "steep": the rate where the loss falls fastest against log(rate).

    None when it nowhere falls, or when the steepest fall comes after the lowest loss (a
    dip in a curve that is already blowing up: fastai would suggest that rate; a tenth of
    the rate at the minimum is the safer guess then).
    """
    if len(losses) < 2:
        return None
    slopes = np.diff(losses) / np.diff(np.log(lrs))
    index = int(np.argmin(slopes))
    if not slopes[index] < 0 or index >= int(np.argmin(losses)):
        return None
    return Suggestion(round_rate(float(lrs[index])), "steepest", index, float(losses[index]))


def minimum_tenth(lrs: np.ndarray, losses: np.ndarray) -> Suggestion | None:
    """fastai's "minimum": a tenth of the rate at the lowest loss (the lowest loss is
    already close to where the loss blows up)."""
    if len(losses) == 0:
        return None
    index = int(np.argmin(losses))
    return Suggestion(round_rate(float(lrs[index]) / 10), "minimum/10", index,
                      float(losses[index]))


def suggest(lrs: Sequence[float] | np.ndarray, losses: Sequence[float] | np.ndarray,
            steps: int | None = None,
            raw_losses: Sequence[float] | np.ndarray | None = None) -> Suggestion | None:
    """The suggested rate for a sweep's curve, or None when the loss never fell.

    The first tenth of the planned sweep is left out (`skipped`), then the first rule that
    applies gives the rate: "valley", "steepest", "minimum/10" (see `RULES`).

    Args:
        lrs: the rates tried, increasing.
        losses: the smoothed loss at each.
        steps: the sweep's planned length (a sweep stopped early still skips a tenth of
            it, as fastai does); the points' count when None.
        raw_losses: each batch's loss before smoothing; with them a fall must also stand
            out from the batches' noise (`loss_fell`).
    """
    rates = np.asarray(lrs, dtype=np.float64)
    curve = np.asarray(losses, dtype=np.float64)
    if rates.shape != curve.shape:
        raise ValueError(f"expected one loss per rate, got {len(rates)} rates and "
                         f"{len(curve)} losses")
    if len(curve) < MIN_POINTS:
        return None
    skip = skipped(len(curve), steps)
    if not loss_fell(curve, skip, raw_losses):
        return None
    for rule in (valley, steepest, minimum_tenth):
        found = rule(rates[skip:], curve[skip:])
        if found is not None:
            return Suggestion(found.lr, found.rule, found.index + skip, found.loss)
    return None


# -- the event --------------------------------------------------------------------------------


@dataclass(frozen=True)
class LRFindEvent:
    """A learning-rate sweep's curve so far, sent while it runs and once when it ends.

    Plain data like the training events: it travels between the engine and the window
    (`engine.protocol`) and prints as JSON (`to_dict`).

    Attributes:
        find: the sweep's number in its session, from 1.
        steps: the batches planned.
        lrs: the rates tried so far (float64).
        losses: the smoothed loss at each rate.
        done: False while the sweep runs; True on its last event.
        suggested_lr: the suggested rate (on the last event), or None when there is none.
        rule: the rule that gave it (a key of `RULES`), or "".
        suggested_index: the point the rule picked, or -1.
        reason: why the sweep ended (a key of `REASONS`), "" while it runs.
        message: one or two sentences for people: the suggestion, or why there is none
            and what to try.
        start: "fresh" or "trained": the weights the sweep started from.
    """

    find: int
    steps: int
    lrs: np.ndarray
    losses: np.ndarray
    done: bool = False
    suggested_lr: float | None = None
    rule: str = ""
    suggested_index: int = -1
    reason: str = ""
    message: str = ""
    start: str = "fresh"
    raw_losses: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: {"type": "lr_find", "find", "steps", "lrs", "losses", "done",
        "suggested_lr", "rule", "suggested_index", "reason", "message", "start"}; every
        value is a JSON type (a loss that is not a number is None)."""
        return {"type": "lr_find", "find": self.find, "steps": self.steps,
                "lrs": _floats(self.lrs), "losses": _floats(self.losses), "done": self.done,
                "suggested_lr": self.suggested_lr, "rule": self.rule,
                "suggested_index": self.suggested_index, "reason": self.reason,
                "message": self.message, "start": self.start}


def _floats(values: np.ndarray) -> list[float | None]:
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values).tolist()]


def progress_event(test: RangeTest, find: int, start: str) -> LRFindEvent:
    """The curve so far, while the sweep runs."""
    return LRFindEvent(find, test.steps, test.lrs, test.losses, start=start)


def final_event(test: RangeTest, find: int, start: str, reason: str) -> LRFindEvent:
    """The sweep's last event: its curve, the suggestion and the sentence that explains it.

    Args:
        test: the sweep.
        find: its number in the session.
        start: "fresh" or "trained".
        reason: why it ended: `test.reason`, or "stopped" when the person stopped it.
    """
    lrs, losses = test.lrs, test.losses
    found = suggest(lrs, losses, test.steps, test.raw_losses)
    message = _message(test, found, start, reason)
    return LRFindEvent(find, test.steps, lrs, losses, True,
                       found.lr if found is not None else None,
                       found.rule if found is not None else "",
                       found.index if found is not None else -1, reason, message, start,
                       test.raw_losses)


def _sweep_words(test: RangeTest, reason: str) -> str:
    lrs = test.lrs
    if len(lrs) == 0:
        return f"no batch trained ({REASONS.get(reason, reason)})"
    return (f"{len(lrs)} batch(es) with the rate from {lrs[0]:.2g} to {lrs[-1]:.2g}; "
            f"{REASONS.get(reason, reason)}")


def _message(test: RangeTest, found: Suggestion | None, start: str, reason: str) -> str:
    swept = _sweep_words(test, reason)
    if found is not None:
        return f"Suggested learning rate {found.lr:g}, by {rule_words(found.rule)}. Swept " \
            f"{swept}."
    losses = test.losses
    if len(losses) < MIN_POINTS:
        return (f"Too few batches to suggest a rate: swept {swept}. Let the sweep run "
                f"longer (it needs at least {MIN_POINTS} batches).")
    curve = losses[skipped(len(losses), test.steps):]
    flat = bool(np.ptp(test.raw_losses) == 0) if len(test.raw_losses) else False
    level = f"it stayed at {curve[0]:.4g}" if flat else \
        f"from {curve[0]:.4g} its lowest was {curve.min():.4g}"
    if start == "trained":
        return (f"From the trained weights the loss never fell ({level}) over {swept}: the "
                "weights may already sit at a minimum. Find the rate from fresh weights "
                "instead.")
    why = (" The loss did not change at all from batch to batch, so no gradient reaches the "
           "weights: the output depends on neither the weights nor the inputs." if flat
           else "")
    return (f"The loss never fell ({level}) over {swept}. No learning rate helps this model "
            f"as it is.{why} Try: check the data (do the labels fit the task and the "
            "loss?), standardize the inputs, check the output layer's activation and the "
            "loss, or a smaller model.")


__all__ = [
    "BETA", "DIVERGENCE", "END_LR", "LRFindEvent", "LossSmoother", "MAX_STEPS", "MIN_DROP",
    "MIN_POINTS", "MIN_STEPS", "PASSES", "REASONS", "RULES", "RangeTest", "SKIP_START",
    "START_LR", "Suggestion", "batch_noise", "choose_steps", "final_event", "loss_fell",
    "minimum_tenth", "progress_event", "rate_schedule", "round_rate", "rule_words",
    "skipped", "smoothed_sd", "steepest", "suggest", "valley",
]
