"""The window's side of the engine: start the process, talk to it, notice when it dies.

`Engine` owns one engine process and the connection to it. `RemoteSession` has the
interface of `core.training.TrainingSession` (start, stop, pause, predict, evaluate, ...)
so the window's training code does not care which one it drives; its listeners are called
on the engine's reader thread, as a `TrainingSession`'s are called on its worker thread.

When the process ends without being asked to (SIGKILL, a segfault in a native library, the
kernel's OOM killer), every session that was running gets a `Failed` event that says so in
words, calls waiting for an answer raise `EngineDied`, and `on_death` callbacks run (the
window starts a fresh engine there). Nothing here imports Keras or Qt.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from multiprocessing.connection import Listener
from pathlib import Path
from typing import Any

from . import protocol

log = logging.getLogger(__name__)

#: Seconds the window waits for a started engine to connect and say hello (Keras imports
#: in about 3 s on a small machine; a cold disk can take much longer).
STARTUP_TIMEOUT_S = 120.0
#: Seconds a closing engine gets to end by itself before it is terminated, then killed.
CLOSE_GRACE_S = 1.5


#: The `detail` of the Failed event a run gets when the engine process died under it.
ENGINE_DIED = "the engine process ended"


class EngineDied(RuntimeError):
    """The engine process ended while a command waited for it; the message says how."""


class EngineError(RuntimeError):
    """A command the engine refused or failed; `kind` is the engine-side exception's name."""

    def __init__(self, kind: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.detail = detail


def engine_command() -> list[str]:
    """How to start the engine: this Python with `-m gui_app --engine`, or the bundle's own
    executable with `--engine` when LayerLab runs from the PyInstaller bundle."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--engine"]
    return [sys.executable, "-m", "gui_app", "--engine"]


def describe_exit(code: int | None) -> str:
    """'killed by signal 9 (SIGKILL)' or 'exited with code 1', for messages."""
    if code is None:
        return "stopped answering"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "an unknown signal"
        return f"killed by signal {-code} ({name})"
    return f"exited with code {code}"


def _error(reply: dict[str, Any]) -> Exception:
    error = reply.get("error") or {}
    kind, message = str(error.get("type", "Error")), str(error.get("message", ""))
    # The window's code catches these by type, as it did when training ran in-process.
    if kind in ("ValueError", "TimeoutError", "FileNotFoundError"):
        return {"ValueError": ValueError, "TimeoutError": TimeoutError,
                "FileNotFoundError": FileNotFoundError}[kind](message)
    if kind == "SessionError":
        from ..core.training import SessionError

        return SessionError(message)
    if kind == "ModelFileError":
        from ..core.modelfile import ModelFileError

        return ModelFileError(message)
    return EngineError(kind, message, str(error.get("detail", "")))


class Engine:
    """One engine process and its connection.

    Args:
        command: how to start it (`engine_command()` by default).
        env: extra environment variables for it.
    """

    def __init__(self, command: list[str] | None = None, env: dict[str, str] | None = None
                 ) -> None:
        self.command = command or engine_command()
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen | None = None
        self.hello: dict[str, Any] | None = None
        self.started_at = 0.0
        self.ready_at: float | None = None
        self.last_beat = 0.0
        self.death: str | None = None  # why it ended, once it has
        self.on_death: list[Callable[[str], None]] = []
        self.on_ready: list[Callable[[dict[str, Any]], None]] = []
        self._ids = itertools.count(1)
        self._session_ids = itertools.count(1)
        self._pending: dict[int, Future] = {}
        self._sessions: dict[int, RemoteSession] = {}
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._ready = threading.Event()
        self._ended = threading.Event()
        self._closing = False
        self._connection: Any = None
        self._listener: Listener | None = None
        self._outbox: list[bytes] = []  # frames sent before the engine connected
        self._news_lock = threading.Lock()  # hello and death vs. callbacks added late
        self._hello_told = False
        self._death_told = False

    # -- life ---------------------------------------------------------------------------
    def start(self) -> Engine:
        """Starts the process in the background; returns at once."""
        key = secrets.token_bytes(32)
        self._listener = Listener(("127.0.0.1", 0), authkey=key)
        host, port = self._listener.address
        env = {"TF_CPP_MIN_LOG_LEVEL": "2", **os.environ, **self.extra_env,
               "LAYERLAB_ENGINE_ADDRESS": f"{host}:{port}", "LAYERLAB_ENGINE_KEY": key.hex()}
        self.started_at = time.monotonic()
        try:
            self.process = subprocess.Popen(self.command, env=env, stdin=subprocess.DEVNULL,
                                            start_new_session=False)
        except OSError as exc:  # a broken install: no interpreter, no permission
            self.death = f"the training process could not start ({exc.strerror or exc})"
            self._ended.set()
            self._listener.close()
            return self
        threading.Thread(target=self._accept, name="layerlab-engine-reader",
                         daemon=True).start()
        threading.Thread(target=self._watch, name="layerlab-engine-watch", daemon=True).start()
        return self

    def watch(self, on_ready: Callable[[dict[str, Any]], None],
              on_death: Callable[[str], None]) -> tuple[dict[str, Any] | None, str | None]:
        """Adds the two callbacks; returns (hello, death) for what happened before, which
        the caller passes on itself. Each piece of news reaches the caller exactly once,
        whether it came before or after this call (an engine started before the window)."""
        with self._news_lock:
            self.on_ready.append(on_ready)
            self.on_death.append(on_death)
            return (self.hello if self._hello_told else None,
                    self.death if self._death_told else None)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None and self.death is None

    def wait_ready(self, timeout: float = STARTUP_TIMEOUT_S) -> bool:
        """True once the engine said hello; False when it died or `timeout` passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready.wait(0.05):
                return True
            if self._ended.is_set():
                return False
        return False

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self.death is None

    def silent_for(self) -> float:
        """Seconds since the last heartbeat (0 before the engine is ready)."""
        return time.monotonic() - self.last_beat if self._ready.is_set() else 0.0

    def close(self, timeout: float = 2.0) -> None:
        """Asks the engine to end, and makes sure it does within `timeout` seconds."""
        self._closing = True
        if self._connection is not None:
            try:
                self._send_frame(protocol.encode({"kind": "bye"}))
            except Exception:  # noqa: BLE001 - it may be gone already
                pass
        process = self.process
        if process is not None:
            try:
                process.wait(min(CLOSE_GRACE_S, timeout))
            except subprocess.TimeoutExpired:
                process.terminate()
                try:
                    process.wait(max(0.1, timeout - CLOSE_GRACE_S))
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        if self._listener is not None:
            try:
                self._listener.close()
            except OSError:
                pass
        for session in list(self._sessions.values()):
            session._engine_closed()  # its dispatch thread ends; later calls say why
        self._ended.set()

    def kill(self) -> None:
        """Ends the process at once (a hung engine); the usual death handling follows."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()

    # -- the connection -------------------------------------------------------------------
    def _accept(self) -> None:
        try:
            connection = self._listener.accept()  # type: ignore[union-attr]
        except (OSError, EOFError, Exception):  # noqa: BLE001 - closed before it connected
            return
        protocol.no_delay(connection)
        with self._send_lock:
            self._connection = connection
            for frame in self._outbox:
                try:
                    connection.send_bytes(frame)
                except (OSError, EOFError):
                    break
            self._outbox.clear()
        self._read(connection)

    def _read(self, connection: Any) -> None:
        while True:
            try:
                frame = connection.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                message = protocol.decode(frame)
            except protocol.ProtocolError:
                continue
            kind = message["kind"]
            if kind == "beat":
                self.last_beat = time.monotonic()
            elif kind == "hello":
                try:
                    self.hello = protocol.check_hello(message)
                except protocol.VersionError as exc:
                    self.death = str(exc)
                    self.kill()
                    break
                self.ready_at = time.monotonic()
                self.last_beat = self.ready_at
                self._ready.set()
                with self._news_lock:
                    self._hello_told = True
                    callbacks = list(self.on_ready)
                for callback in callbacks:
                    callback(self.hello)
            elif kind == "reply":
                future = self._pending.pop(int(message.get("id", -1)), None)
                if future is not None and not future.done():
                    if message.get("ok"):
                        future.set_result(message.get("value"))
                    else:
                        future.set_exception(_error(message))
            elif kind in ("event", "state"):
                session = self._sessions.get(int(message.get("session", -1)))
                if session is not None:
                    session._receive(message)

    def _watch(self) -> None:
        process = self.process
        assert process is not None
        code = process.wait()
        self._ended.set()
        if self._listener is not None:
            try:
                self._listener.close()  # unblocks an accept that never came
            except OSError:
                pass
        if self._closing:
            return
        reason = self.death or f"the training process ended unexpectedly ({describe_exit(code)})"
        self.death = reason
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:
            if not future.done():
                future.set_exception(EngineDied(reason))
        for session in list(self._sessions.values()):
            session._engine_died(reason)
        with self._news_lock:
            self._death_told = True
            callbacks = list(self.on_death)
        for callback in callbacks:
            callback(reason)

    def _send_frame(self, frame: bytes) -> None:
        with self._send_lock:
            if self._connection is None:
                self._outbox.append(frame)
                return
            self._connection.send_bytes(frame)

    def send(self, method: str, args: dict[str, Any] | None = None, reply: bool = True
             ) -> Future | None:
        """Sends a command; returns a Future for its answer (None when `reply` is False)."""
        if self.death is not None:
            raise EngineDied(self.death)
        call_id = next(self._ids) if reply else None
        future: Future | None = None
        if reply:
            future = Future()
            with self._lock:
                self._pending[call_id] = future  # type: ignore[index]
        try:
            self._send_frame(protocol.encode({"kind": "call", "id": call_id, "method": method,
                                              "args": args or {}}))
        except (OSError, EOFError) as exc:
            if future is not None:
                self._pending.pop(call_id, None)  # type: ignore[arg-type]
            raise EngineDied(f"the training process cannot be reached ({exc})") from None
        return future

    def call(self, method: str, args: dict[str, Any] | None = None,
             timeout: float | None = 60) -> Any:
        """Sends a command and waits for its answer."""
        future = self.send(method, args)
        assert future is not None
        try:
            return future.result(timeout)
        except FutureTimeout:
            raise TimeoutError(f"the training process did not answer {method!r} within "
                               f"{timeout} s; try again, or restart it from the Training "
                               "menu") from None

    def augment_samples(self, model: Any, x: Any, seed: int | None = None,
                        timeout: float | None = 120) -> Any:
        """The samples `x` through `model`'s leading image layers, as predict and as
        training see them: a `core.augment.AugmentedSamples` (see `engine.augment`).

        Args:
            model: a `ModelSpec` or its JSON form.
            x: 1 to 64 samples as the model gets them.
            seed: None for a fresh draw (a re-roll); the same seed, the same draw.
        """
        import numpy as np

        doc = model.to_json() if hasattr(model, "to_json") else model
        return self.call("augment_samples", {"model": doc, "x": np.asarray(x, dtype=np.float32),
                                             "seed": seed}, timeout)

    def session(self, project: Any, base_dir: Path | None = None, dataset: Any = None,
                device: str = "auto", boundary_resolution: int = 100,
                progress_interval: float = 0.1) -> RemoteSession:
        """A new training session in the engine (it opens there when the engine is ready)."""
        return RemoteSession(self, project, base_dir, dataset, device, boundary_resolution,
                             progress_interval)


_prestarted: Engine | None = None


def prestart() -> None:
    """Starts the window's engine at once, before Qt is even imported: Keras loads there
    while the window is built, and the fork happens while this process is small. The
    window's engine link takes it (`take_prestarted`)."""
    global _prestarted
    if _prestarted is None:
        _prestarted = Engine().start()


def take_prestarted() -> Engine | None:
    """The engine `prestart` started, once (None when there is none)."""
    global _prestarted
    engine, _prestarted = _prestarted, None
    return engine


class RemoteSession:
    """A `TrainingSession` that lives in the engine process, with the same interface.

    State that the window reads often (`running`, `paused`, `epoch`, `history`) is kept
    here, from the events and the engine's state messages, so reading it never waits.
    """

    def __init__(self, engine: Engine, project: Any, base_dir: Path | None, dataset: Any,
                 device: str, boundary_resolution: int, progress_interval: float) -> None:
        self.engine = engine
        self.id = next(engine._session_ids)
        self._project = project
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._dataset = dataset
        self._device_choice = device
        self.boundary_resolution = int(boundary_resolution)
        self._progress_interval = float(progress_interval)
        self._pin_core = False
        self._listeners: list[Callable[[Any], None]] = []
        self._cv = threading.Condition()
        self._running = False
        self._finding = False  # a learning-rate sweep is going (`lr_find`)
        self._paused = False
        self._pending_runs = 0
        self._run = 0
        self._run_end = 0  # the epoch count at which the current run ends
        self._epoch = 0
        self._history: dict[str, list[float]] = {}
        self._closed = False
        self._died: str | None = None
        self._inbox: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._dispatch, name=f"layerlab-session-{self.id}",
                         daemon=True).start()
        engine._sessions[self.id] = self
        if engine.death is not None:  # every later call says why, as a SessionError
            self._died = engine.death
            return
        engine.send("open_session", {
            "session": self.id, "project": _project_json(project),
            "allow_outside": list(getattr(project, "allow_outside", ())),
            "base_dir": str(self._base_dir) if self._base_dir else None, "device": device,
            "boundary_resolution": self.boundary_resolution,
            "progress_interval": self._progress_interval}, reply=False)

    # -- what the window reads ------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    @property
    def paused(self) -> bool:
        return self._running and self._paused

    @property
    def history(self) -> dict[str, list[float]]:
        with self._cv:
            return {k: list(v) for k, v in self._history.items()}

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def project(self) -> Any:
        return self._project

    @property
    def dataset(self) -> Any:
        """The data, loaded in this process too (the window draws it); NumPy only."""
        if self._dataset is None:
            from ..core.data import load_dataset

            self._dataset = load_dataset(self._project.data or None, self._base_dir)
        return self._dataset

    @property
    def device(self) -> str:
        return str(self._ask("device", STARTUP_TIMEOUT_S))

    @property
    def pin_core(self) -> bool:
        return self._pin_core

    @pin_core.setter
    def pin_core(self, value: bool) -> None:
        self._pin_core = bool(value)
        self._tell("configure", pin_core=self._pin_core)

    @property
    def progress_interval(self) -> float:
        return self._progress_interval

    @progress_interval.setter
    def progress_interval(self, value: float) -> None:
        self._progress_interval = float(value)
        self._tell("configure", progress_interval=self._progress_interval)

    # -- listeners --------------------------------------------------------------------------
    def subscribe(self, listener: Callable[[Any], None]) -> None:
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Any], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _emit(self, event: Any) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a broken view must not stop the stream
                pass

    def _receive(self, message: dict[str, Any]) -> None:
        """From the reader thread: queued for this session's dispatch thread, so that a
        listener may call `predict` (whose answer the reader thread must be free to read)."""
        self._inbox.put(message)

    def _dispatch(self) -> None:
        while True:
            message = self._inbox.get()
            if message is None:
                return
            try:
                self._handle(message)
            except Exception:  # noqa: BLE001 - a bad message must not end the stream
                pass

    def _handle(self, message: dict[str, Any]) -> None:
        if message["kind"] == "died":
            self._handle_death(message["reason"])
            return
        if message["kind"] == "state":
            self._apply_state(message)
            return
        event = message["event"]
        from ..core.training import EpochEnd, Failed, Finished, Started

        with self._cv:
            if isinstance(event, Started):
                self._run, self._run_end = event.run, event.epochs
            elif isinstance(event, EpochEnd):
                for key, value in event.logs.items():
                    self._history.setdefault(key, []).append(value)
                self._epoch = event.epoch + 1
            elif isinstance(event, Finished):
                self._history = {k: list(v) for k, v in event.history.items()}
        self._emit(event)
        if isinstance(event, (Finished, Failed)):
            with self._cv:
                self._running = False
                self._paused = False
                self._pending_runs = max(0, self._pending_runs - 1)
                self._cv.notify_all()

    def _apply_state(self, state: dict[str, Any]) -> None:
        with self._cv:
            self._epoch = int(state.get("epoch", self._epoch))
            if "history" in state:
                self._history = {k: list(v) for k, v in state["history"].items()}

    def _engine_died(self, reason: str) -> None:
        self._died = reason
        self._inbox.put({"kind": "died", "reason": reason})

    def _engine_closed(self) -> None:
        """The engine was ended on purpose (the window is closing, or a restart): no run
        goes on, and the dispatch thread ends after what is queued."""
        if self._died is None:
            self._died = "the training engine was closed"
        with self._cv:
            self._running = False
            self._paused = False
            self._pending_runs = 0
            self._cv.notify_all()
        self._inbox.put(None)

    def _handle_death(self, reason: str) -> None:
        from ..core.training import Failed

        self._died = reason
        if self._running:
            of = f" of {self._run_end}" if self._run_end else ""
            message = (f"{reason} at epoch {self._epoch + 1}{of}; the curves so far and your "
                       "project are kept. A fresh training process is starting: press Train "
                       "to go on")
            self._emit(Failed(self._run, message, ENGINE_DIED))
        with self._cv:
            self._running = False
            self._paused = False
            self._pending_runs = 0
            self._cv.notify_all()

    # -- sending ----------------------------------------------------------------------------
    def _check_open(self) -> None:
        from ..core.training import SessionError

        if self._closed:
            raise SessionError("the training session is closed; create a new one")
        if self._died is not None:
            raise SessionError(f"{self._died}; a fresh training process is starting")

    def _tell(self, method: str, **args: Any) -> None:
        """A message that wants no answer (a new probe, a rate). To an engine that has died
        it goes nowhere, quietly: the death itself reaches the window as the run's Failed
        event, and a view adjusting itself a moment later must not fail on it."""
        try:
            self.engine.send(method, {"session": self.id, **args}, reply=False)
        except EngineDied:
            log.info("%s not sent: the engine has ended", method)

    def _ask(self, method: str, wait_s: float | None = 60, **args: Any) -> Any:
        self._check_open()
        return self.engine.call(method, {"session": self.id, **args}, wait_s)

    def _between_runs(self, what: str) -> None:
        from ..core.training import SessionError

        self._check_open()
        if self._running:
            raise SessionError(f"cannot {what} while training; stop the run first")

    # -- controls ---------------------------------------------------------------------------
    def start(self, epochs: int | None = None) -> None:
        from ..core.training import SessionError

        if epochs is not None and (int(epochs) != epochs or epochs < 1):
            raise ValueError(f"epochs: expected an integer >= 1, got {epochs!r}.")
        with self._cv:
            self._check_open()
            if self._running or self._finding:  # a learning-rate sweep counts as a run
                raise SessionError("a run is already going; stop it, or wait for it to "
                                   "finish, before starting another")
            self._running = True
            self._paused = False
            self._pending_runs += 1
        self._tell("start", epochs=epochs)

    def step_epoch(self) -> None:
        self.start(epochs=1)

    def stop(self) -> None:
        if self._running or self._finding:
            self._paused = False
            self._tell("stop")

    def lr_find(self, trained: bool = False, steps: int | None = None,
                timeout: float = 600) -> Any:
        """The learning-rate sweep in the engine (`TrainingSession.lr_find`); waits for it
        (call it off the GUI thread) and returns its last `core.lr_find.LRFindEvent`. The
        listeners get its curve meanwhile; `stop()` ends it after the current batch."""
        from ..core.training import SessionError

        with self._cv:
            self._check_open()
            if self._running or self._finding:
                raise SessionError("a run is already going; stop it, or wait for it to "
                                   "finish, before finding a learning rate")
            self._finding = True
        try:
            return self._ask("lr_find", timeout + 5, trained=bool(trained), steps=steps,
                             timeout=timeout)
        finally:
            self._finding = False

    def pause(self) -> None:
        if self._running:
            self._paused = True
            self._tell("pause")

    def resume(self) -> None:
        self._paused = False
        self._tell("resume")

    def wait(self, timeout: float | None = None) -> bool:
        with self._cv:
            return self._cv.wait_for(lambda: self._pending_runs == 0, timeout)

    def close(self, timeout: float = 5) -> None:
        if self._closed:
            return
        self._closed = True
        self._inbox.put(None)
        self.engine._sessions.pop(self.id, None)
        if self.engine.death is None:
            try:
                self.engine.send("close_session", {"session": self.id}, reply=False)
            except EngineDied:
                pass

    def __enter__(self) -> RemoteSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def set_probe(self, probe: Any) -> None:
        """The plane to draw for wide inputs; the engine makes its pictures (None: none)."""
        doc = None if probe is None else {
            "xs": probe.xs, "ys": probe.ys, "points": probe.points, "kind": probe.kind,
            "from_logits": bool(probe.from_logits)}
        self._tell("set_probe", probe=doc)

    def unit_pictures(self, extent: Any = None, resolution: int | None = None,
                      timeout: float = 30) -> Any:
        """What each hidden neuron sees: a `core.boundary.units.UnitPictures` of the current
        weights (between batches during a run). Its `note` says why when there are none
        (inputs other than two features, layers other than Dense, over 64 units).

        Args:
            extent: ((x0, x1), (y0, y1)) to draw; None: the boundary picture's rectangle.
            resolution: grid points per axis (32 by default).
        """
        rect = None if extent is None else [[float(a), float(b)] for a, b in extent]
        return self._ask("unit_pictures", timeout + 5, extent=rect, resolution=resolution,
                         timeout=timeout)

    def layer_outputs(self, x: Any, timeout: float = 30) -> Any:
        """The forward pass, layer by layer (the X-ray): a `core.xray.LayerOutputs` with
        every layer's output for the one input `x` (a row as `predict` takes it, already
        standardised), with the current weights (between batches during a run).

        Raises:
            ValueError: (from the engine) when `x` is not one input of the model's shape.
        """
        import numpy as np

        return self._ask("layer_outputs", timeout + 5, x=np.asarray(x, dtype=np.float32),
                         timeout=timeout)

    def step_batch(self, restart: bool = False, timeout: float = 60) -> Any:
        """Step Through: trains on the next batch of the pass (between runs) and returns a
        `core.step_through.BatchStep` with its rows, loss, every weight before, its
        gradient and after, and the boundary before and after (call it off the GUI
        thread). `restart` begins a new pass from its first batch.

        Raises:
            SessionError: (from the engine) during a run, or for a model or data that
                cannot be stepped through, in words.
        """
        from ..core.step_through import BatchStep

        return BatchStep.from_message(self._ask("step_batch", timeout + 5,
                                                restart=bool(restart), timeout=timeout))

    def watch_units(self, on: bool = True, interval: float | None = None) -> None:
        """While on, runs send `UnitSnapshot` events to the listeners at most every
        `interval` seconds (0.5 by default): the neuron strip follows training live."""
        self._tell("watch_units", on=bool(on), interval=interval)

    def plane_source(self) -> RemotePlaneSource:
        """What the window's panel holds instead of a local `PlaneSnapshots`."""
        return RemotePlaneSource(self)

    def reset_weights(self, timeout: float = 60) -> None:
        self._between_runs("reset the weights")
        self._apply_state(self._ask("reset_weights", timeout))

    def set_compile(self, compile_spec: Any, timeout: float = 60) -> None:
        self._between_runs("change the optimizer or loss")
        self._apply_state(self._ask("set_compile", timeout, compile=compile_spec.to_json()))
        self._project = self._project.replace(compile=compile_spec)

    def set_project(self, project: Any, timeout: float = 60) -> None:
        self._between_runs("change the project")
        state = self._ask("set_project", timeout, project=_project_json(project),
                          allow_outside=list(getattr(project, "allow_outside", ())))
        if project.data != self._project.data:
            self._dataset = None
        self._project = project
        self._apply_state(state)

    def predict(self, x: Any, timeout: float = 30) -> Any:
        import numpy as np

        return self._ask("predict", timeout + 5, x=np.asarray(x, dtype=np.float32),
                         timeout=timeout)

    def evaluate(self, split: str = "test", timeout: float = 60) -> dict[str, float]:
        return self._ask("evaluate", timeout + 5, split=split, timeout=timeout)

    def predict_split(self, split: str = "test", timeout: float = 120) -> Any:
        """The model's outputs for one part of the data, in its order (see
        `TrainingSession.predict_split`)."""
        return self._ask("predict_split", timeout + 5, split=split, timeout=timeout)

    def read_images(self, paths: list[str], timeout: float = 60) -> Any:
        """Image files as the model gets them, decoded in the engine (the window has no
        TensorFlow): float32 (n, height, width, channels)."""
        return self._ask("read_images", timeout + 5, paths=[str(p) for p in paths],
                         timeout=timeout)

    def predict_files(self, paths: list[str], timeout: float = 60) -> Any:
        """(the images as the model sees them, its outputs) for image files."""
        images, outputs = self._ask("predict_files", timeout + 5,
                                    paths=[str(p) for p in paths], timeout=timeout)
        return images, outputs

    def save_model(self, path: str | Path, timeout: float = 60) -> Path:
        return Path(self._ask("save_model", timeout, path=str(path)))

    def save_weights(self, path: str | Path, timeout: float = 60) -> Path:
        return Path(self._ask("save_weights", timeout, path=str(path)))

    def load_weights(self, path: str | Path, timeout: float = 60) -> None:
        self._between_runs("load weights")
        self._apply_state(self._ask("load_weights", timeout, path=str(path)))


class RemotePlaneSource:
    """Stands where the window kept its `PlaneSnapshots`: setting `probe` or `interval`
    sends it to the engine, which makes the plane's pictures during the run."""

    def __init__(self, session: RemoteSession) -> None:
        self._session = session
        self._probe: Any = None
        self._interval = session.progress_interval
        self.failed = False

    @property
    def probe(self) -> Any:
        return self._probe

    @probe.setter
    def probe(self, probe: Any) -> None:
        if probe is self._probe:
            return
        self._probe = probe
        self._session.set_probe(probe)

    @property
    def interval(self) -> float:
        return self._interval

    @interval.setter
    def interval(self, value: float) -> None:
        if value != self._interval:
            self._interval = float(value)
            self._session._tell("configure", plane_interval=self._interval)


def _project_json(project: Any) -> dict[str, Any]:
    from ..core.project import project_to_json

    doc = project_to_json(project)
    doc.pop("allow_outside", None)  # travels on its own (see server.project_from_message)
    return doc
