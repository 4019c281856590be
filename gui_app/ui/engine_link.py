"""The window's link to its engine process (`engine.client.Engine`), as Qt signals.

The window starts one engine at launch; Keras loads there while the person edits, and the
window's own process never imports it. When the engine dies, `died` says why and a fresh
one starts at once; when it stops sending heartbeats while a run should be going, `hung`
says so and the Training menu offers a restart.

Callbacks from the engine's threads only emit signals: Qt queues them to this object's
slots on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from ..engine.client import Engine, EngineDied, take_prestarted
from . import mailbox

#: Seconds without a heartbeat, while a run is going, before the engine counts as hung.
HUNG_AFTER_S = 10.0
#: Engines in a row that may end before saying hello before the link stops restarting.
MAX_EARLY_DEATHS = 2
#: Seconds a worker thread waits for the GUI thread to start an engine for its command.
START_WAIT_S = 10.0


def start_engine() -> Engine:
    """The engine started before the window (`client.prestart`), else a new engine process
    (tests replace this to share one engine between windows)."""
    return take_prestarted() or Engine().start()


#: How EngineLink makes an engine; a module attribute so tests can share one.
ENGINE_FACTORY: Callable[[], Engine] = start_engine


class EngineLink(QObject):
    """Owns the engine process of one window and restarts it when it dies.

    Signals:
        ready(dict): the engine said hello (its Keras version, the catalog facts).
        died(str): the engine ended unexpectedly; the text says how.
        hung(float): no heartbeat for that many seconds while a run is going.
        restarted(): a fresh engine was started after a death or a restart.
        cannotStart(str): the engine ended before saying hello, twice in a row; no more
            restarts are tried (a broken install would otherwise restart forever).
    """

    ready = Signal(dict)
    died = Signal(str)
    cannotStart = Signal(str)
    hung = Signal(float)
    restarted = Signal()

    def __init__(self, parent: QObject | None = None,
                 factory: Callable[[], Engine] | None = None) -> None:
        super().__init__(parent)
        self._factory = factory
        self.engine: Engine | None = None
        self.hello: dict[str, Any] | None = None
        self._closed = False
        self._hung_reported = False
        self._early_deaths = 0  # engines in a row that ended before saying hello
        self._busy: Callable[[], bool] = lambda: False
        mailbox.install()
        self._watch = QTimer(self)
        self._watch.setInterval(2000)
        self._watch.timeout.connect(self._check_heartbeat)

    # -- life ---------------------------------------------------------------------------------
    def start(self) -> Engine:
        """The running engine, started now when there is none."""
        if self.engine is not None and self.engine.death is None:
            return self.engine
        factory = self._factory or ENGINE_FACTORY
        engine = factory()
        if engine.death is not None and engine.process is None:  # it could not even start
            self.engine = engine
            self.cannotStart.emit(engine.death)
            return engine
        hello, death = engine.watch(
            lambda hello: mailbox.post(self, self._on_ready, hello),
            lambda reason: mailbox.post(self, self._on_died, reason))
        self.engine = engine
        self.hello = None
        if hello is not None:  # up already (shared by tests, or started before the window)
            mailbox.post(self, self._on_ready, hello)
        if death is not None:  # ended before the window took it
            mailbox.post(self, self._on_died, death)
        self._watch.start()
        return engine

    def _engine(self) -> Engine:
        """The running engine, from any thread. Only the GUI thread starts one (a start
        makes timers and emits signals): a worker asks it to, and waits a moment."""
        engine = self.engine
        if engine is not None and engine.death is None:
            return engine
        if threading.current_thread() is threading.main_thread():
            return self.start()
        started: list[Engine] = []
        done = threading.Event()

        def start() -> None:
            try:
                started.append(self.start())
            finally:
                done.set()

        mailbox.post(self, start)
        if not done.wait(START_WAIT_S) or not started:
            raise EngineDied("the training engine is starting; try again in a moment")
        return started[0]

    @property
    def is_ready(self) -> bool:
        return self.engine is not None and self.engine.ready

    @property
    def pid(self) -> int | None:
        return self.engine.pid if self.engine is not None else None

    def watch_runs(self, busy: Callable[[], bool]) -> None:
        """Tells the link how to know whether a run is going (for the heartbeat check)."""
        self._busy = busy

    def restart(self) -> None:
        """Ends the engine (hung, or on request) and starts a fresh one."""
        old = self.engine
        self.engine = None
        if old is not None:
            old.on_death.clear()  # this end is asked for: no "died" message
            old.on_ready.clear()
            old.kill()
            old.close(timeout=2.0)
        if not self._closed:
            self.start()
            self.restarted.emit()

    def close(self) -> None:
        """Ends the engine within 2 seconds (the window is closing)."""
        self._closed = True
        self._watch.stop()
        engine, self.engine = self.engine, None
        if engine is not None:
            engine.on_death.clear()
            engine.on_ready.clear()
            engine.close(timeout=2.0)

    # -- work -------------------------------------------------------------------------------
    def session(self, project: Any, base_dir: Path | None = None, dataset: Any = None,
                device: str = "auto", progress_interval: float = 0.1) -> Any:
        """A training session in the engine (a `RemoteSession`)."""
        return self._engine().session(project, base_dir=base_dir, dataset=dataset,
                                      device=device, progress_interval=progress_interval)

    def call(self, method: str, args: dict[str, Any] | None = None,
             timeout: float | None = 120) -> Any:
        """A command to the engine that waits for the answer (call it off the GUI thread)."""
        return self._engine().call(method, args, timeout)

    def send(self, method: str, args: dict[str, Any] | None = None) -> Future:
        future = self._engine().send(method, args)
        assert future is not None
        return future

    # -- slots ------------------------------------------------------------------------------
    @Slot(dict)
    def _on_ready(self, hello: dict[str, Any]) -> None:
        assert QThread.currentThread() is self.thread(), "engine news is handled on the GUI thread"
        self.hello = hello
        self._early_deaths = 0
        self._hung_reported = False
        self.ready.emit(hello)

    @Slot(str)
    def _on_died(self, reason: str) -> None:
        assert QThread.currentThread() is self.thread(), "engine news is handled on the GUI thread"
        if self._closed:
            return
        dead, self.engine = self.engine, None
        self._early_deaths = self._early_deaths + 1 if dead is not None and dead.hello is None \
            else 0
        self.died.emit(reason)
        if self._early_deaths >= MAX_EARLY_DEATHS:
            self.cannotStart.emit(f"{reason} before Keras had loaded, {self._early_deaths} "
                                  "times in a row")
            return
        self.start()
        self.restarted.emit()

    @Slot()
    def _check_heartbeat(self) -> None:
        engine = self.engine
        if engine is None or not engine.ready or not self._busy():
            self._hung_reported = False
            return
        silent = engine.silent_for()
        if silent > HUNG_AFTER_S and not self._hung_reported:
            self._hung_reported = True
            self.hung.emit(silent)

