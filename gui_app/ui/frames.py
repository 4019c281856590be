"""Work that waits for the window's next frame.

A click that changes much of the window (Train greys the whole editor) is followed by one
repaint. Work started in the same turn of the event loop, or on a timer that happens to
fire first, runs before that repaint or beside it: a thread holding the GIL then makes
every Python paint hook wait, and the person sees the click answered late. `after_paint`
runs the work once the window has painted instead, or after `timeout_ms` when no paint
comes (a hidden or minimised window).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: A paint normally follows a change within one or two screen refreshes.
PAINT_TIMEOUT_MS = 120


def next_turn(receiver: QObject, work: Callable[[], None]) -> None:
    """Runs `work` on a later turn of the event loop, after the timers and the paint that
    are due. Qt 6 turns a zero-delay single shot into a posted call, and posted calls run
    in one pass, each one posted during the pass included: a chain of them (the views made
    one per step) ran back to back, with no timer or paint in between. A one-millisecond
    timer lets them in."""
    QTimer.singleShot(1, receiver, work)


_PAINTS = (QEvent.Type.UpdateRequest, QEvent.Type.Paint)


class _AfterPaint(QObject):
    """Watches one top-level window for its next paint, then runs the work on a zero
    timer: after the paint has finished."""

    def __init__(self, window: QWidget, work: Callable[[], None], timeout_ms: int) -> None:
        super().__init__(window)
        self._work: Callable[[], None] | None = work
        self._due = False
        window.installEventFilter(self)
        QTimer.singleShot(timeout_ms, self, self._run)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # An UpdateRequest paints what changed; an expose (the first show) paints the
        # window directly, which reaches the window itself as a Paint. The zero timer
        # fires once the whole paint, children included, has finished.
        if event.type() in _PAINTS and self._work is not None and not self._due:
            self._due = True
            next_turn(self, self._run)
        return False

    def _run(self) -> None:
        work, self._work = self._work, None
        if work is None:
            return
        parent = self.parent()
        if isinstance(parent, QWidget):
            parent.removeEventFilter(self)
        self.deleteLater()
        work()


def after_paint(widget: QWidget, work: Callable[[], None],
                timeout_ms: int = PAINT_TIMEOUT_MS) -> None:
    """Runs `work` on the GUI thread once `widget`'s window has painted its next frame,
    or after `timeout_ms`, whichever comes first; once either way. The widget's window
    owns the wait: when it is destroyed first, `work` never runs."""
    window = widget.window()
    if not window.isVisible():
        QTimer.singleShot(0, window, work)
        return
    _AfterPaint(window, work, timeout_ms)


def after_paints(widget: QWidget, frames: int, work: Callable[[], None],
                 later_timeout_ms: int = PAINT_TIMEOUT_MS) -> None:
    """Runs `work` once `widget`'s window has painted `frames` (at least 1) frames, one
    after another: the first wait is `after_paint`'s, each later one gives up after
    `later_timeout_ms` (a window that painted once paints its next change soon)."""
    def wait(left: int, timeout_ms: int) -> None:
        if left <= 1:
            after_paint(widget, work, timeout_ms)
        else:
            after_paint(widget, lambda: wait(left - 1, later_timeout_ms), timeout_ms)

    wait(frames, PAINT_TIMEOUT_MS)
