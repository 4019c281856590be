"""Boundary pictures on a plane through inputs wider than two features, made by the engine.

The training session draws the boundary itself for one- and two-feature inputs. For wider
inputs the picture is of a plane through the data (`planes.Plane`), chosen in the window;
`PlaneSnapshots` sits in the session's event stream, in the engine process, and inserts a
`BoundarySnapshot` of that plane a few times a second. So every picture, whatever the input
width, comes from the engine ready to draw, and the window makes none. Qt-free; NumPy only.

The window may also hand it a probe for two-feature inputs: the session's own grid covers
the data's range only, and a view zoomed out past the data asks for a grid over what it
shows (`grids.cover_extent`). While it holds a probe, its pictures replace the session's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ..training.events import (
    BatchProgress,
    BoundarySnapshot,
    EpochEnd,
    Event,
    Failed,
    Finished,
    Started,
)
from .grids import BoundaryProbe


class RunClock:
    """Where a run is, read from its events: (epoch, step) for a picture taken now, and
    whether one is due at once (the run's start and end). Shared by the pictures made
    alongside a run (planes, each unit's picture)."""

    def __init__(self) -> None:
        self.steps = 1
        self.epoch = 0

    def read(self, event: Event) -> tuple[tuple[int, int] | None, bool]:
        if isinstance(event, Started):
            self.steps = max(1, event.steps_per_epoch)
            self.epoch = event.initial_epoch
            return (event.initial_epoch, 0), True
        if isinstance(event, BatchProgress):
            return (event.epoch, event.step), False
        if isinstance(event, EpochEnd):
            self.epoch = event.epoch
            return (event.epoch, self.steps), False
        if isinstance(event, Finished):
            return (self.epoch, self.steps), True
        return None, False

class PlaneSnapshots:
    """A session listener that adds boundary snapshots on a plane through wide inputs.

    It forwards every event to `forward` (the bridge), and after a Started, BatchProgress,
    EpochEnd or Finished event that is due it runs one forward pass on the probe's grid on
    the worker thread (between two batches, as the engine does for 2-D inputs) and
    forwards a BoundarySnapshot too, so snapshots arrive in order with the rest. While it
    holds a probe, the session's own snapshots are not forwarded: a view that sets a probe
    for two-feature inputs (a grid over a zoomed-out view) wants that grid, not two
    pictures of different extents alternating.

    Args:
        predict: the session's `predict` (inline when called on its worker thread).
        forward: the next listener.
        interval: seconds between snapshots at least.
        budget: the share of the time the snapshots may take: after a snapshot that took
            t seconds, the next waits at least t / budget.
    """

    def __init__(self, predict: Callable[[Any], Any], forward: Callable[[Event], None],
                 interval: float = 0.1, budget: float = 0.03) -> None:
        self.predict = predict
        self.forward = forward
        self.interval = interval
        self.budget = budget
        self.probe: BoundaryProbe | None = None  # set from the GUI thread; read atomically
        self.failed = False
        self.last_cost = 0.0
        self.total_cost = 0.0  # seconds spent on snapshots (benchmarks)
        self.count = 0
        self._next = 0.0
        self._typical = 0.0  # the cost of the last periodic picture
        self._clock = RunClock()

    def __call__(self, event: Event) -> None:
        if isinstance(event, BoundarySnapshot) and self.probe is not None and not self.failed:
            return  # the session's own picture: this probe's pictures replace it
        if not isinstance(event, Finished):
            self.forward(event)  # a run's last picture goes before its Finished, not after
        try:
            self._maybe_snapshot(event)
        finally:
            if isinstance(event, Finished):
                self.forward(event)

    def _maybe_snapshot(self, event: Event) -> None:
        probe = self.probe
        if probe is None or self.failed or isinstance(event, (BoundarySnapshot, Failed)):
            return
        position, force = self._clock.read(event)
        if position is None:
            return
        now = time.perf_counter()
        # a fifth of an interval early is close enough: progress reports come at that
        # interval, and waiting for the next one would halve the pictures
        if not force and now < self._next - 0.2 * self.interval:
            return
        try:
            grid = probe.snapshot(self.predict)
        except Exception:  # noqa: BLE001 - a picture must never end training
            self.failed = True
            return
        done = time.perf_counter()
        self.last_cost = done - now
        self.total_cost += self.last_cost
        self.count += 1
        # The first picture of a new model includes Keras tracing its predict function
        # (a second or so, once): it must not hold back the pictures after it.
        cost = self.last_cost if not force else min(self.last_cost, self._typical)
        if not force:
            self._typical = self.last_cost
        self._next = done + max(self.interval, cost / self.budget)
        self.forward(BoundarySnapshot(event.run, position[0], position[1], grid))
