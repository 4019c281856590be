"""The bridge between the training thread and the window: when deliveries happen, what
they carry, and the labels that must not lay out the window again while training.

The tests that depend on when events come run the bridge on a hand-moved clock (`clock`)
and check which path delivered what (a wake-up of the GUI thread, or the heartbeat), never
how long it took: the machine is shared. benchmarks/bridge_latency.py measures the times.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHBoxLayout, QWidget

from gui_app.core.boundary import BoundaryGrid
from gui_app.core.training import BatchProgress, BoundarySnapshot, EpochEnd, Finished


def _progress(step: int) -> BatchProgress:
    return BatchProgress(1, 0, step, 10, {"loss": 1.0 / step}, 100.0, 0.1 * step)


def _snapshot(step: int) -> BoundarySnapshot:
    xs = np.linspace(-1, 1, 4)
    values = np.full((4, 4, 1), 0.25 * (step % 4), np.float32)
    return BoundarySnapshot(1, 0, step, BoundaryGrid(xs, xs, values, "binary", (0, 1)))


def _finished() -> Finished:
    return Finished(1, {"loss": [0.5]}, "completed", "done", 1)


def _from_worker(fn) -> None:  # noqa: ANN001
    """Runs `fn` on a plain thread, as the training session calls its listeners."""
    thread = threading.Thread(target=fn)
    thread.start()
    thread.join()


class Clock:
    """Stands in for the bridge's `time` module: `perf_counter` is `now`, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The bridge decides on this clock: a busy machine cannot change what it does."""
    from gui_app.ui import session_bridge

    fake = Clock()
    monkeypatch.setattr(session_bridge, "time", fake)
    return fake


def _count_wake_ups(bridge) -> list:  # noqa: ANN001
    """One entry per call the worker posts to wake the GUI thread (counted from now)."""
    bridge.posts.clear()
    return bridge.posts


@pytest.fixture
def bridge(qtbot, monkeypatch):
    from gui_app.ui import mailbox
    from gui_app.ui.session_bridge import SessionBridge

    bridge = SessionBridge(10.0)  # a delivery every 100 ms at most
    bridge.posts = []
    real_post = mailbox.post

    def counting_post(receiver, fn, *args):  # noqa: ANN001, ANN202
        if receiver is bridge:
            bridge.posts.append(1)
        real_post(receiver, fn, *args)

    monkeypatch.setattr(mailbox, "post", counting_post)
    got: list[list] = []
    bridge.delivered.connect(got.append)
    bridge.got = got
    yield bridge
    bridge.close()


def test_a_picture_is_delivered_at_once_with_the_events_before_it(qtbot, bridge) -> None:
    _from_worker(lambda: [bridge.listener(e) for e in (_progress(1), _snapshot(1))])
    qtbot.waitUntil(lambda: len(bridge.got) == 1, timeout=1000)
    kinds = [type(e).__name__ for e in bridge.got[0]]
    assert kinds == ["BatchProgress", "BoundarySnapshot"]  # in order, in one delivery


def test_events_between_pictures_wait_for_the_next_one(qtbot, bridge, clock) -> None:
    posts = _count_wake_ups(bridge)
    _from_worker(lambda: bridge.listener(_snapshot(1)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1 and len(posts) == 1, timeout=5000)
    held: list[bool] = []

    def progress_then_picture() -> None:
        # pictures are coming: progress soon after a delivery rides with the next picture
        clock.now += 0.01
        bridge.listener(_progress(2))
        held.append(not bridge._posted)  # no wake-up for it
        clock.now += 0.05  # past half the interval: the next picture goes at once
        bridge.listener(_snapshot(3))

    _from_worker(progress_then_picture)
    qtbot.waitUntil(lambda: len(bridge.got) == 2 and len(posts) == 2, timeout=5000)
    assert held == [True]
    assert [type(e).__name__ for e in bridge.got[1]] == ["BatchProgress", "BoundarySnapshot"]
    assert len(posts) == 2  # one wake-up per picture, none for the progress


def test_the_heartbeat_delivers_what_no_picture_follows(qtbot, bridge, clock) -> None:
    from gui_app.ui.session_bridge import HEARTBEAT_MS

    posts = _count_wake_ups(bridge)
    _from_worker(lambda: bridge.listener(_snapshot(1)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1 and len(posts) == 1, timeout=5000)
    # the delivery armed the heartbeat
    assert bridge._heartbeat.isActive() and bridge._heartbeat.interval() == HEARTBEAT_MS
    clock.now += 0.01  # soon after the delivery: the progress alone is not due
    _from_worker(lambda: bridge.listener(_progress(2)))  # then a pause: nothing more comes
    assert not bridge._posted
    qtbot.waitUntil(lambda: len(bridge.got) == 2, timeout=20 * HEARTBEAT_MS)  # hang guard
    assert [type(e).__name__ for e in bridge.got[1]] == ["BatchProgress"]
    assert len(posts) == 1, "the progress woke the GUI thread: the heartbeat was not needed"
    assert bridge._heartbeat.isActive()  # armed again for what comes next


def test_the_end_of_a_run_is_not_held_back(qtbot, bridge, clock) -> None:
    posts = _count_wake_ups(bridge)
    _from_worker(lambda: bridge.listener(_snapshot(1)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1 and len(posts) == 1, timeout=5000)
    clock.now += 0.01  # soon after the delivery: a progress alone would wait
    _from_worker(lambda: [bridge.listener(e) for e in (_progress(2), _finished())])
    # the Finished wakes the GUI thread itself rather than waiting for the heartbeat
    qtbot.waitUntil(lambda: len(bridge.got) == 2 and len(posts) == 2, timeout=5000)
    assert [type(e).__name__ for e in bridge.got[1]] == ["BatchProgress", "Finished"]


def test_one_wake_up_of_the_gui_thread_per_delivery(qtbot, bridge) -> None:
    """Each wake-up takes the GIL from the training thread: a burst of events between two
    deliveries must not post one signal each."""
    posts = _count_wake_ups(bridge)

    def burst() -> None:
        bridge.listener(_snapshot(1))
        for step in range(2, 200):
            bridge.listener(_progress(step))
        bridge.listener(EpochEnd(1, 0, {"loss": 0.5}, 1.0))

    _from_worker(burst)
    qtbot.waitUntil(lambda: sum(len(d) for d in bridge.got) == 200, timeout=2000)
    assert len(posts) == 1
    # one delivery, or two when the GUI drained in the middle of the burst (the rest then
    # goes with the heartbeat, without a signal of its own)
    assert len(bridge.got) in (1, 2)


def test_pictures_are_made_on_the_worker_thread(qtbot, bridge) -> None:
    from gui_app.ui.boundary_view import Pictures
    from gui_app.ui.session_bridge import PreparedSnapshot

    pictures = Pictures()
    pictures.prepare(2)
    threads = []

    def prepare(grid):  # noqa: ANN001, ANN202
        threads.append(threading.current_thread())
        return pictures(grid)

    bridge.prepare = prepare
    _from_worker(lambda: bridge.listener(_snapshot(2)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1, timeout=1000)
    event = bridge.got[0][0]
    assert isinstance(event, PreparedSnapshot)
    assert threads and threads[0] is not threading.main_thread()
    assert event.picture.rgb.shape == (4, 4, 3) and event.picture.rgb.dtype == np.uint8
    assert event.picture.grid is event.snapshot.grid


def test_a_failing_prepare_still_delivers_the_snapshot(qtbot, bridge) -> None:
    def broken(grid):  # noqa: ANN001, ANN202
        raise ValueError("no")

    bridge.prepare = broken
    _from_worker(lambda: bridge.listener(_snapshot(1)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1, timeout=1000)
    assert isinstance(bridge.got[0][0], BoundarySnapshot)


class _LayoutRequests(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched, event) -> bool:  # noqa: ANN001, N802
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def test_a_steady_label_does_not_lay_out_its_parent_again(qtbot) -> None:
    from PySide6.QtWidgets import QLabel

    from gui_app.ui.fields import SteadyLabel

    for cls, relayouts in ((QLabel, True), (SteadyLabel, False)):
        parent = QWidget()
        qtbot.addWidget(parent)
        row = QHBoxLayout(parent)
        label = cls("live: epoch 9999.9") if cls is SteadyLabel else cls("x")
        row.addWidget(label)
        parent.show()
        qtbot.waitExposed(parent)
        qtbot.wait(20)
        size = label.size()
        watcher = _LayoutRequests()
        parent.installEventFilter(watcher)
        for i in range(5):
            text = f"live: epoch {i * 111.1:.1f}"
            label.setText(text)
            qtbot.wait(5)
        assert label.text() == "live: epoch 444.4"
        assert (watcher.count > 0) is relayouts, cls.__name__
        if cls is SteadyLabel:
            assert label.size() == size


def test_garbage_is_collected_on_the_gui_thread_only(qtbot) -> None:
    """Python collects cycles in whichever thread allocates; a collection on a worker once
    destroyed a closed window's QObjects there and deadlocked with the GUI thread. With the
    mailbox installed the automatic collector is off and the GUI thread collects."""
    import gc
    import threading
    import weakref

    from gui_app.ui import mailbox

    mailbox.install()
    assert not gc.isenabled()

    class Node:
        pass

    seen: list[str] = []
    made: list[weakref.ref] = []

    def make_cycles() -> None:  # on a worker: garbage in cycles, plenty of it
        for _ in range(5000):
            a, b = Node(), Node()
            a.other, b.other = b, a
            made.append(weakref.ref(a, lambda _r: seen.append(threading.current_thread().name)))

    worker = threading.Thread(target=make_cycles, name="a-worker")
    worker.start()
    worker.join()
    assert all(r() is not None for r in made)  # nothing collected on the worker
    qtbot.waitUntil(lambda: all(r() is None for r in made), timeout=5000)
    assert set(seen) == {threading.main_thread().name}


def test_idle_worker_threads_end_and_new_work_starts_one_again(qtbot, monkeypatch) -> None:
    from gui_app.ui import mailbox

    monkeypatch.setattr(mailbox, "IDLE_EXPIRY_S", 0.2)
    workers = mailbox.Workers(2, "expiry-test")
    got: list[int] = []
    workers.submit(None, lambda: 1, got.append)
    qtbot.waitUntil(lambda: got == [1], timeout=5000)
    assert [t.name for t in workers._threads] == ["expiry-test-1"]  # noqa: SLF001
    qtbot.waitUntil(lambda: not workers._threads, timeout=5000)  # noqa: SLF001 - ended
    workers.submit(None, lambda: 2, got.append)  # work again: a thread again
    qtbot.waitUntil(lambda: got == [1, 2], timeout=5000)
