"""Work that waits for the window's frame (`frames`), and the start's helpers for the GUI
thread: its turns of the event loop, the GIL, and Qt classes made on it (`qt_types`)."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from gui_app.ui import frames, mailbox, qt_types


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_next_turn_lets_timers_run_between_chained_steps(qtbot) -> None:
    """Chained zero-delay single shots run back to back in one pass (Qt 6 posts them);
    with next_turn a 5 ms timer gets its tick between every two steps."""
    owner = QObject()
    ticks: list[float] = []
    ends: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()

    def step() -> None:
        _busy(0.012)
        ends.append(time.perf_counter())
        if len(ends) < 5:
            frames.next_turn(owner, step)

    frames.next_turn(owner, step)
    qtbot.waitUntil(lambda: len(ends) == 5, timeout=5000)
    timer.stop()
    between = [any(a < t < b for t in ticks) for a, b in zip(ends, ends[1:])]
    assert all(between), between


def test_after_paint_runs_once_the_window_has_painted(qtbot) -> None:
    label = QLabel("before")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    painted: list[float] = []
    ran: list[float] = []

    class Watch(QObject):
        def eventFilter(self, obj, event):  # noqa: N802, ANN001
            if event.type() == event.Type.Paint:
                painted.append(time.perf_counter())
            return False

    watch = Watch()
    label.installEventFilter(watch)
    label.setText("after")  # a change: a paint follows
    frames.after_paint(label, lambda: ran.append(time.perf_counter()), timeout_ms=2000)
    qtbot.waitUntil(lambda: bool(ran), timeout=3000)
    assert painted and painted[0] < ran[0]
    qtbot.wait(50)
    assert len(ran) == 1  # once, even when more paints come


def test_after_paint_runs_after_the_timeout_when_nothing_paints(qtbot) -> None:
    label = QLabel("still")
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    qtbot.wait(50)
    ran: list[float] = []
    start = time.perf_counter()
    frames.after_paint(label, lambda: ran.append(time.perf_counter()), timeout_ms=100)
    qtbot.waitUntil(lambda: bool(ran), timeout=3000)
    assert ran[0] - start >= 0.09


def test_the_gui_thread_waits_little_for_the_gil(qtbot) -> None:
    mailbox.install()
    assert sys.getswitchinterval() == mailbox.SWITCH_INTERVAL_S < 0.005


def test_the_warmer_makes_every_qt_class_on_the_gui_thread_then_goes_on(qtbot,
                                                                         monkeypatch) -> None:
    monkeypatch.setattr(qt_types, "_done", False)
    owner = QObject()
    done: list[bool] = []
    qt_types.Warmer(owner, lambda: done.append(qt_types.warmed())).start()
    qtbot.waitUntil(lambda: bool(done), timeout=20_000)
    assert done == [True]
    from PySide6 import QtCore, QtGui, QtWidgets

    # made already: each in its module's own dictionary, not behind PySide's lazy lookup
    for module in (QtCore, QtGui, QtWidgets):
        missing = [n for n in dir(module) if not n.startswith("_") and n not in vars(module)]
        assert missing == [], (module.__name__, missing[:5])
