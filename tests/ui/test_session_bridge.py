"""The bridge between the training thread and the window: when deliveries happen, what
they carry, and the labels that must not lay out the window again while training."""

from __future__ import annotations

import threading
import time

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


@pytest.fixture
def bridge(qtbot):
    from gui_app.ui.session_bridge import SessionBridge

    bridge = SessionBridge(10.0)  # a delivery every 100 ms at most
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


def test_events_between_pictures_wait_for_the_next_one(qtbot, bridge) -> None:
    _from_worker(lambda: bridge.listener(_snapshot(1)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1, timeout=1000)
    # pictures are coming: progress soon after a delivery rides with the next picture
    _from_worker(lambda: bridge.listener(_progress(2)))
    qtbot.wait(30)
    assert len(bridge.got) == 1
    time.sleep(0.06)  # past half the interval: the next picture goes at once
    _from_worker(lambda: bridge.listener(_snapshot(3)))
    qtbot.waitUntil(lambda: len(bridge.got) == 2, timeout=1000)
    assert [type(e).__name__ for e in bridge.got[1]] == ["BatchProgress", "BoundarySnapshot"]


def test_the_heartbeat_delivers_what_no_picture_follows(qtbot, bridge) -> None:
    from gui_app.ui.session_bridge import HEARTBEAT_MS

    _from_worker(lambda: bridge.listener(_snapshot(1)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1, timeout=1000)
    started = time.perf_counter()
    _from_worker(lambda: bridge.listener(_progress(2)))  # then a pause: nothing more comes
    qtbot.waitUntil(lambda: len(bridge.got) == 2, timeout=2000)
    assert time.perf_counter() - started < 2 * HEARTBEAT_MS / 1000
    assert isinstance(bridge.got[1][0], BatchProgress)


def test_the_end_of_a_run_is_not_held_back(qtbot, bridge) -> None:
    _from_worker(lambda: bridge.listener(_snapshot(1)))
    qtbot.waitUntil(lambda: len(bridge.got) == 1, timeout=1000)
    _from_worker(lambda: [bridge.listener(e) for e in (_progress(2), _finished())])
    qtbot.waitUntil(lambda: len(bridge.got) == 2, timeout=100)  # well before the heartbeat
    assert isinstance(bridge.got[1][-1], Finished)


def test_one_wake_up_of_the_gui_thread_per_delivery(qtbot, bridge) -> None:
    """Each wake-up takes the GIL from the training thread: a burst of events between two
    deliveries must not post one signal each."""
    posts = []
    bridge._now.connect(lambda: posts.append(1))

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
