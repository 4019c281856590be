"""The engine's side of "what this neuron sees": unit pictures of one training session.

`SessionUnits` makes the hidden units' pictures (`core.boundary.units`) on the session's
worker thread, the one thread that owns the Keras model: on request (the `unit_pictures`
command) and, while a view watches them, at a low rate during a run (`UnitSnapshots` in
the session's event stream). The grid follows the boundary picture's: the rectangle of
the probe the window set (a zoomed-out view) or the data's range.

Runs in the engine process only; Keras is imported when the first picture is made.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from ..core.boundary.grids import Extent, data_extent
from ..core.boundary.units import UNIT_RESOLUTION, UnitPictures, UnitProbe, UnitSnapshots

T = TypeVar("T")


def on_worker(session: Any, fn: Callable[[Any], T], timeout: float | None = 30) -> T:
    """`fn(model)` on the session's worker thread, between two batches during a run
    (inline when called from that thread, as a listener is).

    `TrainingSession` has no public way to run code with its model yet; a `with_model(fn,
    timeout)` method there is the hook asked for (see the report of this change). Until
    it exists this uses the two private members that `TrainingSession.predict` uses.
    """
    hook = getattr(session, "with_model", None)
    if hook is not None:
        return hook(fn, timeout)
    return session._call(lambda: fn(session._live_model()), timeout)


def as_extent(value: Any) -> Extent | None:
    """An extent from a message ((x0, x1), (y0, y1)) as floats; None stays None.

    Raises:
        ValueError: for anything that is not two increasing, finite pairs.
    """
    if value is None:
        return None
    try:
        (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in value)
    except (TypeError, ValueError):
        raise ValueError(f"extent: expected ((x_low, x_high), (y_low, y_high)), got "
                         f"{value!r}") from None
    if not all(np.isfinite([x0, x1, y0, y1])) or x1 <= x0 or y1 <= y0:
        raise ValueError(f"extent: expected finite, increasing ranges, got {value!r}")
    return (x0, x1), (y0, y1)


class SessionUnits:
    """The unit pictures of one session (made on its worker thread only, so unlocked).

    Args:
        session: the `TrainingSession`.
        probe_of: the boundary probe the window set for this session, or None (its grid's
            rectangle is the pictures' rectangle, so both pictures show the same plane).
        forward: where `UnitSnapshot` events go during a run.
        keras: the `keras` module (imported here when None).
    """

    def __init__(self, session: Any, probe_of: Callable[[], Any],
                 forward: Callable[[Any], None], keras: Any = None) -> None:
        self.session = session
        self.probe_of = probe_of
        self.resolution = UNIT_RESOLUTION
        self._keras = keras
        self._probe: UnitProbe | None = None
        self.listener = UnitSnapshots(self._live, forward)

    # -- what the window asks for ----------------------------------------------------------
    def pictures(self, extent: Sequence | None = None, resolution: int | None = None,
                 timeout: float | None = 30) -> UnitPictures:
        """The pictures of the current weights (of a new model's first weights when none
        was trained yet); pictures with no layers and a `note` when the model has none."""
        rect = as_extent(extent)
        size = int(resolution or self.resolution)
        return on_worker(self.session, lambda model: self._make(model, rect, size), timeout)

    def watch(self, on: bool, interval: float | None = None) -> None:
        """Sends pictures during runs (on) or stops (off); `interval`: seconds between."""
        if interval is not None:
            if not interval > 0:
                raise ValueError(f"interval: expected seconds > 0, got {interval!r}")
            self.listener.interval = float(interval)
        self.listener.failed = False
        self.listener.on = bool(on)

    # -- on the worker thread ----------------------------------------------------------------
    def _live(self) -> UnitPictures | None:
        pictures = on_worker(self.session, lambda model: self._make(model, None,
                                                                    self.resolution))
        return pictures if pictures.layers else None

    def _extent(self) -> Extent | None:
        """The boundary picture's rectangle: the window's probe's, else the data's range."""
        probe = self.probe_of()
        if probe is not None and len(probe.ys) and probe.points.ndim == 2 \
                and probe.points.shape[1] == 2:
            return ((float(probe.xs[0]), float(probe.xs[-1])),
                    (float(probe.ys[0]), float(probe.ys[-1])))
        if getattr(self.session.dataset, "streamed", False):
            return None  # image files: no two features to draw over
        x = np.asarray(self.session.dataset.x_train)
        if x.ndim != 2 or x.shape[1] != 2 or not len(x):
            return None
        return data_extent(x)

    def _make(self, model: Any, extent: Extent | None, resolution: int) -> UnitPictures:
        empty = np.empty(0, np.float32)
        rect = extent if extent is not None else self._extent()
        if rect is None:
            return UnitPictures(empty, empty, note="Neuron pictures are drawn for data of "
                                                   "exactly two features.")
        probe = self._probe
        if probe is None or not probe.matches(model, rect, resolution):
            if self._keras is None:
                import keras

                self._keras = keras
            try:
                probe = UnitProbe(model, self._keras, rect, resolution)
            except ValueError as exc:
                self._probe = None
                return UnitPictures(empty, empty, note=str(exc))
            self._probe = probe
        return probe.snapshot()
