"""The window's training state, apart from any widget: the engine, the device, the run.

`TrainingController` is a QObject the main window owns. It holds

* the engine process (`link`, an `EngineLink`): sessions and commands go through it;
* the device the next session trains on (the device picker sets it);
* the run state ("idle", "starting", "running", "paused", "stopping", or "finding" while
  the learning-rate finder sweeps) and whether editing is locked, which follows from it.

Widgets react to its signals instead of reaching into each other or into the window: the
editor's widgets disable themselves on `lockedChanged`, the device picker on
`stateChanged`, and the training panel drops its session on `deviceChanged`. This keeps
the training panel and the device picker free of any reference to the main window.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from ..core.devices import engine_device
from ..engine.client import Engine
from .engine_link import EngineLink

#: The run states in which the project must not change under the engine ("finding": a
#: learning-rate sweep, lr_finder.py).
RUNNING_STATES = frozenset({"starting", "running", "paused", "stopping", "finding",
                            "searching"})
STATES = RUNNING_STATES | {"idle"}


class TrainingController(QObject):
    """Owns the engine connection, the device choice, the run state and the editing lock.

    Signals:
        stateChanged(str): the run state changed (see `STATES`).
        lockedChanged(bool): editing was locked (a run started) or unlocked (it ended).
        deviceChanged(str, str): the person picked another device: its key ("cpu",
            "gpu:N", "all") and its label. Sessions made from now on train there.
        engineRestarting(): a restart of the engine was asked for; the session goes with it.
        message(str, int): a line for the status bar, and for how many milliseconds.
    """

    stateChanged = Signal(str)
    lockedChanged = Signal(bool)
    deviceChanged = Signal(str, str)
    engineRestarting = Signal()
    message = Signal(str, int)

    def __init__(self, project: Any = None, parent: QObject | None = None,
                 factory: Callable[[], Engine] | None = None) -> None:
        """`project` is the window's ProjectController: its `locked` follows the run."""
        super().__init__(parent)
        self.project = project
        self.link = EngineLink(self, factory)
        self.link.watch_runs(lambda: self.running)
        self.state = "idle"
        self.locked = False
        self.device_choice = ""  # "" lets the engine pick (the first GPU, else the CPU)

    # -- the run ----------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    def set_state(self, state: str) -> None:
        """Moves the run to `state`; editing is locked for as long as a run is going."""
        if state not in STATES:
            raise ValueError(f"expected one of {sorted(STATES)}, got {state!r}")
        if state == self.state:
            return
        self.state = state
        locked = self.running
        if locked != self.locked:
            self.locked = locked
            if self.project is not None:
                self.project.locked = locked
            self.lockedChanged.emit(locked)
        self.stateChanged.emit(state)

    def say(self, text: str, msecs: int = 5000) -> None:
        self.message.emit(text, msecs)

    # -- the device -------------------------------------------------------------------------
    def set_device(self, choice: str, label: str = "") -> None:
        """The device the next session trains on ("" for the engine's default)."""
        if choice == self.device_choice:
            return
        self.device_choice = choice
        self.deviceChanged.emit(choice, label or choice)

    @property
    def engine_device(self) -> str:
        """The device argument a new session gets ("auto" when none was picked)."""
        return engine_device(self.device_choice) if self.device_choice else "auto"

    # -- the engine -------------------------------------------------------------------------
    def new_session(self, project: Any, base_dir: Path | None = None, dataset: Any = None,
                    progress_interval: float = 0.1) -> Any:
        """A training session in the engine, on the chosen device."""
        return self.link.session(project, base_dir=base_dir, dataset=dataset,
                                 device=self.engine_device, progress_interval=progress_interval)

    def call(self, method: str, args: dict[str, Any] | None = None,
             timeout: float | None = 120) -> Any:
        """A command that waits for the engine's answer (call it off the GUI thread)."""
        return self.link.call(method, args, timeout)

    def send(self, method: str, args: dict[str, Any] | None = None) -> Future:
        return self.link.send(method, args)

    def start_engine(self) -> None:
        self.link.start()

    def restart_engine(self) -> None:
        """Ends the engine (hung, or on request) and starts a fresh one; the run ends."""
        self.engineRestarting.emit()
        self.set_state("idle")
        self.link.restart()

    def close(self) -> None:
        """Ends the engine within 2 seconds (the window is closing)."""
        self.link.close()
