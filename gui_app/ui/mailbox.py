"""Work handed to the GUI thread from other threads, without calling Qt from them.

The window's Python threads (the engine link's reader and session threads, the pool that
loads data and waits on the engine) must not call into Qt: a signal emitted from such a
thread holds the GIL while Qt takes its own locks, and the GUI thread may hold one of those
locks while it waits for the GIL (PySide 6.8 and later showed such hangs and crashes under
load). So the only thing another thread does here is plain Python: it appends a call to a
queue and writes one byte to a socket pair. The GUI thread's `QSocketNotifier` wakes on
that byte and runs the queued calls, in order.

- `post(receiver, fn, *args)`: from any thread. `fn(*args)` runs on the GUI thread soon,
  unless `receiver` (a QObject) has been deleted by then.
- `Workers(n)`: a few daemon threads that run blocking calls and post the results (the
  window's replacement for QThreadPool, whose threads run Python inside Qt).

`install()` makes the mailbox on the GUI thread; the window does it at start, and the
first `post` from the GUI thread does it too. It also moves Python's cyclic garbage
collection to the GUI thread (`GuiThreadCollector`): a collection runs in whichever thread
happens to allocate, and one that ran on the data-loading thread destroyed a closed
window's QObjects there, taking a Qt lock the GUI thread needed while it waited for the GIL
the GUI thread held (a hang found in CI).
"""

from __future__ import annotations

import collections
import gc
import itertools
import queue
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier, QThread, QTimer, Slot

#: Milliseconds between the GUI thread's checks for garbage to collect.
COLLECT_EVERY_MS = 250
#: How long a thread that wants the GIL waits before the one holding it is made to let
#: go (Python's default is 5 ms). The window's helper threads run long stretches of
#: Python (pyqtgraph's import creates every Qt class it mirrors, 0.2 s), and a paint
#: calls back into Python many times: at 5 ms a wait, the GUI thread stalled for up to
#: 150 ms behind an import. A shorter turn keeps the GUI thread's waits short.
SWITCH_INTERVAL_S = 0.0005
#: Seconds an idle worker thread waits for work before it ends (as QThreadPool's did).
IDLE_EXPIRY_S = 30.0

_lock = threading.Lock()
_box: _Mailbox | None = None


class _Mailbox(QObject):
    def __init__(self, app: QObject) -> None:
        # a child of the application: Qt deletes it with the application, before Python's
        # last garbage collection (a socket notifier outliving the application crashed)
        super().__init__(app)
        self._calls: collections.deque[tuple[QObject | None, Callable[..., Any], tuple]] = \
            collections.deque()
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        self._woken = False  # a byte is on its way (guarded by _lock)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._run)
        self.collector = GuiThreadCollector(self)

    def post(self, receiver: QObject | None, fn: Callable[..., Any], args: tuple) -> None:
        with _lock:
            self._calls.append((receiver, fn, args))
            wake, self._woken = not self._woken, True
        if wake:
            try:
                self._write.send(b"\0")
            except (BlockingIOError, OSError):  # full: a byte is waiting already
                pass

    @Slot()
    def _run(self) -> None:
        try:
            while self._read.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass
        with _lock:
            self._woken = False
            calls, self._calls = self._calls, collections.deque()
        for receiver, fn, args in calls:
            if receiver is not None and not shiboken6.isValid(receiver):
                continue  # its window has gone
            try:
                fn(*args)
            except Exception:  # noqa: BLE001 - one broken call must not stop the others
                import traceback

                traceback.print_exc()


class GuiThreadCollector(QObject):
    """Python's automatic garbage collection off; the GUI thread collects instead, a
    generation at a time when its count passes the threshold it had (as the automatic
    collector would, but never on another thread: Qt objects must die on the GUI thread)."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(COLLECT_EVERY_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    @Slot()
    def check(self) -> None:
        counts = gc.get_count()
        for generation in (2, 1, 0):  # the oldest generation due, with the younger ones
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                return


def freeze_heap() -> None:
    """Moves every object alive now out of the collector's sight (`gc.freeze`): the
    modules, classes and widgets of a started window live as long as the process, and
    each full collection walked them all on the GUI thread (30-45 ms once pyqtgraph is
    imported: a visible freeze). Frozen, a full collection takes microseconds; objects
    made later are collected as usual. Called at each step of the start (the window
    built, pyqtgraph imported, the views made); the later calls add what came since."""
    gc.freeze()


def install() -> None:
    """Makes the mailbox; call it on the GUI thread (the window does at start)."""
    global _box
    with _lock:
        if _box is not None and shiboken6.isValid(_box):
            return
    app = QCoreApplication.instance()
    if app is None or QThread.currentThread() is not app.thread():
        raise RuntimeError("the mailbox is made on the GUI thread, after the QApplication")
    box = _Mailbox(app)
    with _lock:
        if _box is None or not shiboken6.isValid(_box):
            _box = box
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def post(receiver: QObject | None, fn: Callable[..., Any], *args: Any) -> None:
    """Runs `fn(*args)` on the GUI thread soon (from any thread); dropped when `receiver`
    has been deleted by then."""
    box = _box
    if box is None:
        install()  # raises when not on the GUI thread: the window installs it first
        box = _box
    assert box is not None
    box.post(receiver, fn, args)


class Workers:
    """Up to `threads` daemon threads that run blocking calls off the GUI thread, made as
    work comes and ended after `IDLE_EXPIRY_S` without any.

    `submit(receiver, fn, on_done, on_error)`: `fn()` runs on a worker thread; then
    `on_done(result)` or `on_error(exception)` runs on the GUI thread (dropped when
    `receiver` has been deleted). No worker thread ever calls Qt.
    """

    def __init__(self, threads: int, name: str) -> None:
        self._size, self._name = threads, name
        self._queue: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._cv = threading.Condition()

    def submit(self, receiver: QObject | None, fn: Callable[[], Any],
               on_done: Callable[[Any], None],
               on_error: Callable[[BaseException], None] | None = None) -> None:
        install()  # on the GUI thread, before any worker posts

        # The job's references (the receiver, and callables that may hold widgets) are let
        # go on the GUI thread: a QObject whose last reference died on a worker would be
        # destroyed there.
        held: list[Any] = [receiver, fn, on_done, on_error]

        def job() -> None:
            try:
                result = held[1]()
            except BaseException as exc:  # noqa: BLE001 - delivered to the GUI thread
                if held[3] is not None:
                    post(held[0], held[3], exc)
                del exc
            else:
                post(held[0], held[2], result)
                del result
            post(None, held.clear)

        with self._cv:  # queued under the lock: an idle thread ending sees it
            self._busy += 1
            if len(self._threads) < min(self._size, self._busy):
                thread = threading.Thread(target=self._main, daemon=True,
                                          name=f"{self._name}-{len(self._threads) + 1}")
                self._threads.append(thread)
                thread.start()
            self._queue.put(job)

    def _main(self) -> None:
        while True:
            try:
                job = self._queue.get(timeout=IDLE_EXPIRY_S)
            except queue.Empty:
                with self._cv:  # idle: end, unless a job came in meanwhile
                    if self._queue.empty():
                        self._threads.remove(threading.current_thread())
                        return
                continue
            try:
                job()
            finally:
                del job
                with self._cv:
                    self._busy -= 1
                    self._cv.notify_all()

    @property
    def busy(self) -> bool:
        return self._busy > 0

    def wait(self, msecs: int = 5000) -> bool:
        """Waits until no call is running or queued; False after `msecs`."""
        with self._cv:
            return self._cv.wait_for(lambda: self._busy == 0, timeout=msecs / 1000)


class Background(QObject):
    """Runs blocking calls (session.predict, session.evaluate) off the GUI thread.

    `call(fn, on_done, on_error)`: `fn` runs on a worker thread (`threads` at most);
    `on_done(result)` or `on_error(exception)` runs on the GUI thread afterwards, unless
    this object has been deleted by then. The worker threads never call Qt (`mailbox`).
    """

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        self.workers = Workers(threads, "layerlab-background")
        self._count = itertools.count(1)
        self._jobs: set[int] = set()

    def call(self, fn: Callable[[], Any], on_done: Callable[[Any], None],
             on_error: Callable[[BaseException], None] | None = None) -> int:
        number = next(self._count)
        self._jobs.add(number)

        def done(result: Any) -> None:
            assert QThread.currentThread() is self.thread(), "results are handled on the GUI thread"
            self._jobs.discard(number)
            on_done(result)

        def failed(exc: BaseException) -> None:
            assert QThread.currentThread() is self.thread(), "results are handled on the GUI thread"
            self._jobs.discard(number)
            if on_error is not None:
                on_error(exc)

        self.workers.submit(self, fn, done, failed)
        return number

    @property
    def busy(self) -> bool:
        return bool(self._jobs)

    def wait(self, msecs: int = 5000) -> bool:
        return self.workers.wait(msecs)
