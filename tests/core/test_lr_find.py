"""The learning-rate range test's arithmetic (`core.lr_find`): schedule, smoothing, when to
stop, the suggestion rules and the event's JSON. No Keras: the sweep itself is tested in
test_lr_find_training.py."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from gui_app.core import lr_find as lf
from gui_app.core.lr_find import (
    LossSmoother,
    LRFindEvent,
    RangeTest,
    choose_steps,
    final_event,
    loss_fell,
    minimum_tenth,
    rate_schedule,
    round_rate,
    steepest,
    suggest,
    valley,
)

# -- the sweep's length and rates ------------------------------------------------------------


@pytest.mark.parametrize(("samples", "batch", "steps"), [
    (64, 32, 100),         # 2 batches an epoch: 40 in 20 passes, raised to 100
    (160, 32, 100),        # 5 an epoch: exactly 100
    (400, 32, 260),        # the circle lesson's 400 training samples: 13 an epoch
    (480, 32, 300),        # the spiral's: 15 an epoch, 20 passes
    (54_000, 32, 300),     # Fashion-MNIST: capped
    (1, 1, 100),
])
def test_steps_come_from_the_data_size(samples, batch, steps):
    assert choose_steps(samples, batch) == steps


@pytest.mark.parametrize(("samples", "batch"), [(0, 32), (10, 0)])
def test_steps_need_data_and_a_batch(samples, batch):
    with pytest.raises(ValueError, match="expected at least one sample"):
        choose_steps(samples, batch)


def test_rates_grow_exponentially_from_first_to_last():
    rates = rate_schedule(100)
    assert len(rates) == 100
    assert rates[0] == pytest.approx(1e-7) and rates[-1] == pytest.approx(10.0)
    ratios = rates[1:] / rates[:-1]
    assert np.allclose(ratios, ratios[0]) and ratios[0] > 1
    assert ratios[0] ** 99 == pytest.approx(1e8)


@pytest.mark.parametrize(("steps", "start", "end", "message"), [
    (1, 1e-7, 10, "steps: expected at least 2"),
    (10, 0, 10, "expected 0 < start < end"),
    (10, 1, 0.1, "expected 0 < start < end"),
])
def test_bad_schedules_are_refused_in_words(steps, start, end, message):
    with pytest.raises(ValueError, match=message):
        rate_schedule(steps, start, end)


# -- smoothing ---------------------------------------------------------------------------------


def test_smoothing_is_bias_corrected():
    """The first smoothed value is the first loss, a constant loss stays constant, and
    every value is the weighted mean the formula says."""
    smoother = LossSmoother(0.98)
    assert smoother.add(2.0) == pytest.approx(2.0)  # not 2.0 * 0.02
    assert all(smoother.add(2.0) == pytest.approx(2.0) for _ in range(50))

    losses = [3.0, 1.0, 4.0, 1.0, 5.0]
    smoother = LossSmoother(0.9)
    got = [smoother.add(x) for x in losses]
    for n in range(1, len(losses) + 1):
        weights = [0.9 ** (n - 1 - i) for i in range(n)]
        want = sum(w * x for w, x in zip(weights, losses[:n], strict=True)) / sum(weights)
        assert got[n - 1] == pytest.approx(want)


def test_a_bad_beta_is_refused():
    with pytest.raises(ValueError, match="beta"):
        LossSmoother(1.0)


# -- when to stop ------------------------------------------------------------------------------


def test_the_sweep_stops_past_four_times_the_minimum():
    test = RangeTest(100, beta=0.0)  # no smoothing: each point is its batch's loss
    for loss in (1.0, 0.5, 0.4, 1.0, 1.6):
        assert not test.record(loss)
    assert test.best == pytest.approx(0.4)
    assert test.record(1.61)  # over 4 x 0.4
    assert test.reason == "diverged"
    assert len(test.losses) == len(test.lrs) == 6  # the diverging point is drawn
    assert test.record(0.1) and len(test.losses) == 6  # nothing after the stop


@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_a_loss_that_is_not_a_number_stops_without_a_point(bad):
    test = RangeTest(100)
    test.record(1.0)
    assert test.record(bad) and test.reason == "nan"
    assert len(test.losses) == 1 and np.isfinite(test.losses).all()


def test_the_sweep_ends_at_its_last_rate():
    test = RangeTest(10)
    assert [test.record(1.0) for _ in range(10)] == [False] * 9 + [True]
    assert test.reason == "end"
    assert test.lrs[-1] == pytest.approx(10.0)
    assert test.rate(50) == pytest.approx(10.0)  # past the end: the last rate


def test_a_loss_below_zero_ends_only_at_the_last_rate():
    """A minimum at or below 0 has no "4 times" above it."""
    test = RangeTest(5, beta=0.0)
    assert [test.record(x) for x in (-1.0, -2.0, 5.0, 50.0, 500.0)] == [False] * 4 + [True]
    assert test.reason == "end"


# -- the rules ------------------------------------------------------------------------------


def u_curve(n: int = 100, low: float = 1e-3) -> tuple[np.ndarray, np.ndarray]:
    """A loss that falls from 1 towards a minimum at `low`, then blows up."""
    lrs = rate_schedule(n)
    x = np.log10(lrs / low)
    return lrs, 0.3 + 0.7 / (1 + np.exp(2 * x + 4)) + np.where(x > 0, x ** 2, 0.0)


def reference_valley(losses: list[float]) -> tuple[int, int]:
    """The valley rule written the plain way, for comparison (fastai's loops, with the
    valley's start at `end - length + 1`): (the index it picks, the valley's length)."""
    n = len(losses)
    longest = [1] * n
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and longest[i] < longest[j] + 1:
                longest[i] = longest[j] + 1
    end = max(range(n), key=lambda i: (longest[i], -i))
    start = max(0, end - longest[end] + 1)
    sections = (end - start) / 3
    return start + int(sections) + int(sections / 2), longest[end]


def test_valley_lies_halfway_down_the_fall():
    lrs, losses = u_curve()
    found = valley(lrs, losses)
    assert found is not None and found.rule == "valley"
    bottom = int(np.argmin(losses))
    assert 0 < found.index < bottom
    assert found.lr == round_rate(lrs[found.index])
    assert found.loss == pytest.approx(losses[found.index])
    # well below the rate at the minimum, well above the flat start
    assert lrs[bottom] / 1000 < found.lr < lrs[bottom]


@pytest.mark.parametrize("seed", range(6))
def test_valley_matches_the_plain_loops(seed):
    rng = np.random.default_rng(seed)
    losses = np.cumsum(rng.normal(0, 1, 80))
    lrs = rate_schedule(80)
    found = valley(lrs, losses)
    index, length = reference_valley(losses.tolist())
    if length < lf.MIN_POINTS:
        assert found is None
    else:
        assert found is not None and found.index == index


def test_valley_is_none_for_a_short_fall():
    lrs = rate_schedule(20)
    losses = np.array([1.0] * 10 + [0.5] + [0.6 + 0.1 * i for i in range(9)])
    assert valley(lrs, losses) is None


def test_steepest_finds_the_fastest_fall_before_the_minimum():
    lrs = rate_schedule(20)
    losses = np.array([1.0] * 10 + [0.5] + [0.6 + 0.1 * i for i in range(9)])
    found = steepest(lrs, losses)
    assert found is not None and found.index == 9 and found.rule == "steepest"
    assert steepest(lrs, np.linspace(1, 2, 20)) is None  # it never falls


def test_steepest_refuses_a_dip_after_the_minimum():
    lrs = rate_schedule(8)
    losses = np.array([1.0, 0.9, 0.5, 1.0, 3.0, 0.8, 2.0, 4.0])  # the biggest fall: 3 -> 0.8
    assert steepest(lrs, losses) is None
    found = minimum_tenth(lrs, losses)
    assert found is not None and found.index == 2
    assert found.lr == round_rate(lrs[2] / 10)


def test_suggest_takes_the_first_rule_that_applies():
    lrs, losses = u_curve()
    assert suggest(lrs, losses).rule == "valley"

    lrs = rate_schedule(40)
    short = np.array([1.0] * 20 + [0.5] + [0.6 + 0.1 * i for i in range(19)])
    found = suggest(lrs, short)
    assert found.rule == "steepest" and found.index == 19

    dip = np.array([1.0] * 10 + [1.0, 0.9, 0.5, 1.0, 3.0, 0.8, 2.0, 4.0] + [5.0] * 22)
    found = suggest(lrs, dip)
    assert found.rule == "minimum/10" and found.index == 12
    assert found.lr == round_rate(lrs[12] / 10)


def test_suggest_leaves_out_the_first_tenth():
    """A dip in the first tenth of the sweep (the smoothing settling) is not a valley."""
    lrs = rate_schedule(100)
    losses = np.concatenate([np.linspace(5, 1, 10), np.full(90, 1.0) + np.linspace(0, 1, 90)])
    assert suggest(lrs, losses) is None
    assert lf.skipped(100) == 10 and lf.skipped(20) == 2 and lf.skipped(3) == 0
    assert lf.skipped(6, steps=100) == 1  # at least MIN_POINTS are left to judge
    assert lf.skipped(50, steps=300) == 30  # a sweep stopped early skips its plan's tenth


def test_no_suggestion_when_the_loss_never_fell():
    lrs = rate_schedule(100)
    assert suggest(lrs, np.full(100, 0.69)) is None
    assert suggest(lrs, np.linspace(0.69, 5, 100)) is None
    assert suggest(lrs[:3], np.array([1.0, 0.5, 0.2])) is None  # too few points


def test_suggest_needs_one_loss_per_rate():
    with pytest.raises(ValueError, match="one loss per rate"):
        suggest(rate_schedule(10), np.ones(9))


def smoothed(raw: np.ndarray, beta: float = lf.BETA) -> np.ndarray:
    smoother = LossSmoother(beta)
    return np.array([smoother.add(x) for x in raw])


@pytest.mark.parametrize("seed", range(20))
def test_noise_alone_is_not_a_fall(seed):
    """A model that cannot learn still has batches of different losses (another mix of
    classes in each); its wandering curve must not pass for a fall."""
    rng = np.random.default_rng(seed)
    raw = 0.693 + rng.normal(0, 0.05, 300)
    curve = smoothed(raw)
    skip = lf.skipped(300)
    assert not loss_fell(curve, skip, raw)
    assert suggest(rate_schedule(300), curve, 300, raw) is None


@pytest.mark.parametrize("seed", range(5))
def test_a_real_fall_stands_out_from_the_same_noise(seed):
    rng = np.random.default_rng(seed)
    raw = np.linspace(0.693, 0.60, 300) + rng.normal(0, 0.05, 300)
    curve = smoothed(raw)
    assert loss_fell(curve, lf.skipped(300), raw)


def test_noise_is_measured_robustly():
    rng = np.random.default_rng(0)
    raw = rng.normal(0, 0.1, 2000)
    assert lf.batch_noise(raw) == pytest.approx(0.1, rel=0.1)
    blown = np.concatenate([raw, [1e3, 1e6, 1e9]])  # a curve that blows up at its end
    assert lf.batch_noise(blown) == pytest.approx(0.1, rel=0.1)
    assert lf.smoothed_sd(1.0, 1) == pytest.approx(1.0)  # one batch: its own noise
    assert lf.smoothed_sd(1.0, 10 ** 6, 0.98) == pytest.approx(math.sqrt(0.02 / 1.98))


@pytest.mark.parametrize(("rate", "rounded"), [(0.0031622, 0.0032), (0.01, 0.01), (2.449, 2.4)])
def test_rates_are_rounded_to_two_digits(rate, rounded):
    assert round_rate(rate) == rounded


def test_a_rate_must_be_positive():
    with pytest.raises(ValueError, match="positive rate"):
        round_rate(0.0)


# -- the event -------------------------------------------------------------------------------


def sweep(losses: list[float], steps: int | None = None) -> RangeTest:
    test = RangeTest(steps or len(losses), beta=0.0)
    for loss in losses:
        if test.record(loss):
            break
    return test


def test_the_last_event_says_which_rule_gave_the_rate():
    _, curve = u_curve(100)
    test = sweep(curve.tolist())
    event = final_event(test, 3, "fresh", test.reason)
    assert event.done and event.find == 3 and event.rule == "valley"
    assert event.suggested_lr == suggest(test.lrs, test.losses, 100, test.raw_losses).lr
    assert event.suggested_index >= 0
    assert f"Suggested learning rate {event.suggested_lr:g}, by the valley rule: the " \
        "middle of the longest stretch" in event.message
    assert "stopped when the smoothed loss passed 4 times its minimum" in event.message


def test_a_flat_curve_gets_a_reason_and_what_to_try():
    test = sweep([0.69] * 100)
    event = final_event(test, 1, "fresh", test.reason)
    assert event.suggested_lr is None and event.rule == "" and event.suggested_index == -1
    assert event.message.startswith("The loss never fell (it stayed at 0.69)")
    assert "no gradient reaches the weights" in event.message
    for hint in ("check the data", "standardize the inputs", "smaller model"):
        assert hint in event.message


def test_from_trained_weights_a_flat_curve_suggests_fresh_ones():
    test = sweep([0.05 + 0.001 * i for i in range(100)])
    event = final_event(test, 1, "trained", test.reason)
    assert event.suggested_lr is None
    assert "From the trained weights the loss never fell" in event.message
    assert "from fresh weights" in event.message


def test_a_sweep_stopped_at_once_says_it_was_too_short():
    test = sweep([1.0, 0.9], steps=100)
    event = final_event(test, 1, "fresh", "stopped")
    assert event.reason == "stopped" and event.suggested_lr is None
    assert "Too few batches" in event.message and "stopped by request" in event.message


def test_the_event_is_json_without_nan():
    event = LRFindEvent(1, 100, np.array([1e-7, 1e-6]), np.array([0.7, math.nan]))
    doc = event.to_dict()
    assert doc["type"] == "lr_find" and doc["losses"] == [0.7, None]
    assert not doc["done"] and doc["suggested_lr"] is None
    json.dumps(doc, allow_nan=False)


def test_the_event_joins_the_training_events():
    from gui_app.core.training import event_to_dict

    event = LRFindEvent(2, 100, np.array([1e-7]), np.array([0.7]), True, 0.01, "valley", 0)
    doc = event_to_dict(event)
    assert doc["event"] == "LRFindEvent" and doc["type"] == "lr_find"
    assert doc["suggested_lr"] == 0.01 and doc["rule"] == "valley"
    json.dumps(doc, allow_nan=False)


def test_the_event_travels_between_the_processes():
    from gui_app.engine import protocol

    event = LRFindEvent(2, 100, np.array([1e-7, 1e-6]), np.array([0.7, 0.6]), True, 0.01,
                        "valley", 1, "diverged", "Suggested ...", "trained",
                        np.array([0.7, 0.5]))
    back = protocol.decode(protocol.encode({"kind": "event", "session": 1, "event": event}))
    got = back["event"]
    assert isinstance(got, LRFindEvent)
    assert np.array_equal(got.lrs, event.lrs) and np.array_equal(got.losses, event.losses)
    assert (got.suggested_lr, got.rule, got.reason, got.start, got.done) == \
        (0.01, "valley", "diverged", "trained", True)
