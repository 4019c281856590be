"""The window's side of a hyperparameter search in the engine process (`engine.tuning`).

`RemoteSearch` starts one search in the engine and hands its events (`TrialEvent`s, then
one `SearchDone`) to its listeners, on the engine's reader thread, as a `RemoteSession`
does. Its number comes from the engine's session numbers and its events are routed the
same way, so the engine's reader needs nothing new. When the engine dies, or refuses the
search, the listeners get a `SearchDone` that says so in words. Nothing here imports
Keras or Qt.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ..core.search_events import SearchDone
from .client import Engine, EngineDied, _project_json

log = logging.getLogger(__name__)


class RemoteSearch:
    """One search in the engine.

    Args:
        engine: the engine process.
        project: the project, with its `search` section.
        project_path: the saved project file (its `<name>.search` folder keeps the trials
            and lets a later search continue), or None for a temporary folder.
        base_dir: where the project's relative data paths are read.
        trials: trials in all (None: the project's `search.max_trials`).
    """

    def __init__(self, engine: Engine, project: Any, project_path: Path | None = None,
                 base_dir: Path | None = None, trials: int | None = None) -> None:
        self.engine = engine
        self.project = project
        self.id = next(engine._session_ids)  # noqa: SLF001 - one numbering for sessions and searches
        self._listeners: list[Callable[[Any], None]] = []
        self._done = threading.Event()
        self.result: SearchDone | None = None
        self._args = {
            "search": self.id, "project": _project_json(project),
            "allow_outside": list(getattr(project, "allow_outside", ())),
            "base_dir": str(base_dir) if base_dir else None,
            "project_path": str(project_path) if project_path else None, "trials": trials}

    def subscribe(self, listener: Callable[[Any], None]) -> None:
        self._listeners.append(listener)

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def start(self) -> RemoteSearch:
        """Sends the search to the engine; returns at once (events follow)."""
        self.engine._sessions[self.id] = self  # type: ignore[assignment]  # noqa: SLF001
        try:
            future = self.engine.send("search_start", self._args)
        except EngineDied as exc:
            self._end(f"the training process is not running ({exc})")
            return self
        assert future is not None
        future.add_done_callback(self._started)
        return self

    def stop(self) -> None:
        """Ends the search after the current batch; its trials are kept."""
        if self._done.is_set():
            return
        try:
            self.engine.send("search_stop", {"search": self.id}, reply=False)
        except EngineDied:
            pass

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def close(self) -> None:
        """Stops listening (and stops the search if it still runs)."""
        self.stop()
        self.engine._sessions.pop(self.id, None)  # noqa: SLF001
        self._listeners.clear()

    # -- from the engine's reader thread --------------------------------------------------
    def _started(self, future: Future) -> None:
        exc = future.exception()
        if exc is not None:
            self._end(str(exc))

    def _receive(self, message: dict[str, Any]) -> None:
        if message.get("kind") != "event":
            return
        event = message.get("event")
        if isinstance(event, SearchDone):
            self.result = event
            self._done.set()
        self._emit(event)

    def _engine_died(self, reason: str) -> None:
        self._end(f"{reason}; the trials that ended are kept: Continue goes on from there")

    def _engine_closed(self) -> None:
        """The engine was ended on purpose (a restart, the window closing)."""
        self._end("the training engine was closed; the trials that ended are kept: "
                  "Continue goes on from there")

    def _end(self, message: str) -> None:
        if self._done.is_set():
            return
        search = self.project.search
        objective = search.objective if search is not None else "val_loss"
        from ..core.search import objective_direction

        self.result = SearchDone("failed", message, objective, objective_direction(objective),
                                 None, None)
        self._done.set()
        self._emit(self.result)

    def _emit(self, event: Any) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a broken view must not stop the stream
                log.exception("a search listener failed")
