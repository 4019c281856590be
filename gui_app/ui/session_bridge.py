"""Adapters between the training engine's worker thread and the GUI thread.

`TrainingSession` calls its listeners on its worker thread, in the middle of `model.fit`.
Nothing there may touch a widget, and nothing there may wait for the GUI: a listener that
blocks slows training down. So:

- `SessionBridge.listener` only appends the event to a list under a lock and, when a
  delivery is due, posts to the GUI thread (`mailbox`, no Qt call from the worker), which takes the whole list, in order, to the
  panel; the panel updates its arrays per event and redraws once per delivery. A burst of
  a thousand tiny epochs costs one redraw, not a thousand. Deliveries follow the
  boundary pictures (each picture is shown, with the curves of the same moment), at most
  `rate` a second; without pictures they come at `rate`. Every wake-up of the GUI thread
  takes the GIL from the training thread, so there is exactly one per delivery.
- Pictures on a plane through inputs wider than two features come from the engine
  process too, ready to draw: `core.boundary.plane_snapshots.PlaneSnapshots` runs there,
  in the session's event stream, a few times a second within a share of the training
  time.
- `Background` runs blocking session calls (predict, evaluate) on a worker thread and
  delivers the result to a GUI-thread callback, so the window never waits on the worker.

Slots assert that they run on the GUI thread; nothing here ever calls `wait()` from a
slot connected to a worker signal.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..core.training import (
    BoundarySnapshot,
    Event,
    Failed,
    Finished,
)
from . import mailbox
from .mailbox import Background  # noqa: F401 - where the window's modules found it

#: Redraws per second at most while training (plots, boundary, progress): above the
#: 10 a second that looks live, and every redraw holds the GIL the training thread needs.
DEFAULT_RATE = 15.0
#: A picture is delivered at once when this share of the delivery interval has passed
#: since the previous delivery (pictures come at about that interval, with jitter) ...
EARLY = 0.5
#: ... and while pictures come, other events wait for the next one, up to this share.
LATE = 1.0
#: Milliseconds after a delivery when whatever came since is delivered anyway (the last
#: numbers before a pause, say).
HEARTBEAT_MS = 250


class PreparedSnapshot:
    """A BoundarySnapshot with what the view draws already made from it (`picture`)."""

    __slots__ = ("snapshot", "picture")

    def __init__(self, snapshot: BoundarySnapshot, picture: Any) -> None:
        self.snapshot = snapshot
        self.picture = picture


class SessionBridge(QObject):
    """Queues session events on the worker thread and delivers them in GUI-thread batches.

    The worker decides when a delivery is due and then posts one signal; the GUI thread
    wakes once per delivery (each wake-up takes the GIL from the training thread, so there
    is no timer ticking on its own while training). A heartbeat timer, restarted with
    every delivery, picks up events that arrive when none is due.

    Signals:
        delivered(list): the events since the previous delivery, in the order they came.
    """

    delivered = Signal(list)

    def __init__(self, rate: float = DEFAULT_RATE, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._posted = False  # a _now is on its way
        self._closed = False
        self._gap = 1.0 / rate
        self._last = 0.0  # perf_counter() of the last delivery
        self._picture_at = -1e9  # ... and of the last picture queued
        #: Called on the worker thread with each snapshot's grid: what the view will draw
        #: (numpy work that, on the GUI thread, would hand the GIL back and forth).
        self.prepare: Callable[[Any], Any] | None = None
        self.deliveries = 0
        self._heartbeat = QTimer(self)
        self._heartbeat.setSingleShot(True)
        self._heartbeat.setInterval(HEARTBEAT_MS)
        self._heartbeat.timeout.connect(self._drain)
        mailbox.install()

    @property
    def rate(self) -> float:
        return 1.0 / self._gap

    def set_rate(self, rate: float) -> None:
        """Deliveries per second at most (the panel lowers it to keep within its budget)."""
        self._gap = 1.0 / rate

    def listener(self, event: Event) -> None:
        """The session listener: runs on the worker thread, returns at once."""
        picture = isinstance(event, BoundarySnapshot)
        if picture and self.prepare is not None:
            try:
                made = self.prepare(event.grid)
            except Exception:  # noqa: BLE001 - the GUI thread makes it when it is shown
                made = None
            if made is not None:
                event = PreparedSnapshot(event, made)  # type: ignore[assignment]
        with self._lock:
            if self._closed:
                return
            self._pending.append(event)
            now = time.perf_counter()
            since = now - self._last
            if picture:
                self._picture_at = now
                due = since >= EARLY * self._gap
            elif isinstance(event, (Finished, Failed)):
                due = True  # the end of a run is shown at once
            else:
                pictures = now - self._picture_at < 2 * self._gap
                due = since >= min((LATE if pictures else EARLY) * self._gap,
                                   HEARTBEAT_MS / 1000)  # the heartbeat may be over
            post = due and not self._posted
            if post:
                self._posted = True
        if post:
            mailbox.post(self, self._drain)

    def close(self) -> None:
        """Drops whatever is queued and ignores later events (the window is closing)."""
        with self._lock:
            self._closed = True
            self._pending.clear()
        self._heartbeat.stop()

    @Slot()
    def _drain(self) -> None:
        assert QThread.currentThread() is self.thread(), "the bridge drains on the GUI thread"
        with self._lock:
            events, self._pending = self._pending, []
            self._posted = False
            self._last = time.perf_counter()
            closed = self._closed
        if not closed:
            self._heartbeat.start()
        if events:
            self.deliveries += 1
            self.delivered.emit(events)

    def flush(self) -> None:
        """Delivers what is queued now (tests, and before a view is rebuilt)."""
        self._drain()
