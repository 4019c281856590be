"""The engine process's side: training sessions driven by commands from the window.

The reader (the main thread) takes each command as it comes. Controls that only set a flag
(start, stop, pause, resume, opening a session) run at once, so Stop reaches a run within
a batch. Commands that wait for the training thread (predict, evaluate, saving, a new
project) run on a small pool, and their replies come back when they are done. Training
events are sent from the session's worker thread as they happen, and a heartbeat goes out
once a second so that the window can tell a hung engine from a busy one.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from . import protocol

log = logging.getLogger(__name__)

HEARTBEAT_S = 1.0
#: Commands that return at once on the reader thread (they only set flags or queue work).
IMMEDIATE = frozenset({"open_session", "start", "step_epoch", "stop", "pause", "resume",
                       "configure", "set_probe", "watch_units", "ping", "state"})


def project_from_message(doc: dict[str, Any], allow_outside: list[str]) -> Any:
    """The window's project: validated again here, with the paths the person confirmed.

    The window has already asked about outside paths; its answer travels with the project
    (`allow_outside`), since the stamp in a saved file is for files, not for this channel.
    """
    from ..core.project import OutsidePathsError, project_from_json

    try:
        project = project_from_json(doc)
    except OutsidePathsError as exc:
        project = exc.project
    return project.replace(allow_outside=tuple(allow_outside))


def import_keras() -> Any:
    """Imports Keras without scikit-learn, which Keras imports only for its own
    scikit-learn wrappers (`keras.wrappers`, unused here): 0.6-0.9 s of every engine
    start, and so of the wait after a crash. Keras falls back to stand-ins when
    scikit-learn is missing; scikit-learn is imported normally later, when a built-in
    data set needs it (`core.data`). Nothing of either library is changed."""
    import sys

    hide = "sklearn" not in sys.modules
    if hide:
        sys.modules["sklearn"] = None  # type: ignore[assignment] # "not installed"
    try:
        import keras
    finally:
        if hide and sys.modules.get("sklearn", 0) is None:
            del sys.modules["sklearn"]
    return keras


class Server:
    """Serves one window over one connection until it closes or says bye."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._send_lock = threading.Lock()
        self._sessions: dict[int, Any] = {}
        self._planes: dict[int, Any] = {}
        self._units: dict[int, Any] = {}
        self._xrays: dict[int, Any] = {}
        self._steppers: dict[int, Any] = {}  # Step Through (engine.step_through)
        self._searches: dict[int, Any] = {}  # hyperparameter searches (engine.tuning)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="layerlab-engine")
        self._closing = threading.Event()

    # -- sending ------------------------------------------------------------------------
    def send(self, message: dict[str, Any]) -> None:
        frame = protocol.encode(message)
        with self._send_lock:
            try:
                self.connection.send_bytes(frame)
            except (OSError, EOFError, ValueError):
                self._closing.set()  # the window is gone

    def _beat(self) -> None:
        while not self._closing.wait(HEARTBEAT_S):
            self.send({"kind": "beat", "t": time.time()})

    # -- the loop -------------------------------------------------------------------------
    def serve(self) -> int:
        """Loads Keras, says hello, then answers commands; returns the exit code."""
        started = time.perf_counter()
        keras = import_keras()

        from ..core.catalog import apply_keras_facts, read_keras_facts

        facts = read_keras_facts()
        apply_keras_facts(facts)
        self.send(protocol.hello(os.getpid(), str(keras.__version__), keras.backend.backend(),
                                 facts, time.perf_counter() - started))
        threading.Thread(target=self._beat, name="layerlab-heartbeat", daemon=True).start()
        while not self._closing.is_set():
            try:
                frame = self.connection.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                message = protocol.decode(frame)
            except protocol.ProtocolError as exc:
                log.error("engine: %s", exc)
                continue
            if message["kind"] == "bye":
                break
            if message["kind"] == "call":
                self._dispatch(message)
        self._shutdown()
        return 0

    def _dispatch(self, message: dict[str, Any]) -> None:
        method = str(message.get("method"))
        if method in IMMEDIATE:
            self._answer(message)
        else:
            self._pool.submit(self._answer, message)

    def _answer(self, message: dict[str, Any]) -> None:
        call_id = message.get("id")
        handler: Callable[..., Any] | None = getattr(self, f"do_{message.get('method')}", None)
        try:
            if handler is None:
                raise ValueError(f"the engine has no command {message.get('method')!r}")
            value = handler(**(message.get("args") or {}))
            reply = {"kind": "reply", "id": call_id, "ok": True, "value": value}
        except Exception as exc:  # noqa: BLE001 - every failure goes back as a message
            reply = {"kind": "reply", "id": call_id, "ok": False,
                     "error": {"type": type(exc).__name__, "message": str(exc),
                               "detail": traceback.format_exc()}}
        if call_id is not None:
            self.send(reply)

    def _shutdown(self) -> None:
        self._closing.set()
        for search in list(self._searches.values()):
            search.stop()
        for session in list(self._sessions.values()):
            try:
                session.close(timeout=1.5)
            except Exception:  # noqa: BLE001 - closing anyway
                pass
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- sessions -------------------------------------------------------------------------
    def _session(self, session: int) -> Any:
        try:
            return self._sessions[int(session)]
        except KeyError:
            raise ValueError(f"no training session {session}; open one first") from None

    def _state(self, sid: int) -> dict[str, Any]:
        s = self._sessions[sid]
        return {"running": s.running, "paused": s.paused, "epoch": s.epoch,
                "history": s.history}

    def do_ping(self) -> str:
        return "pong"

    def do_open_session(self, session: int, project: dict, allow_outside: list[str],
                        base_dir: str | None, device: str = "auto",
                        boundary_resolution: int = 100, progress_interval: float = 0.1,
                        pin_core: bool = False, plane_budget: float = 0.04) -> int:
        """Opens a session numbered by the window (so it can send commands right away)."""
        from ..core.boundary.plane_snapshots import PlaneSnapshots
        from ..core.training import Failed, Finished, TrainingSession
        from .units import SessionUnits
        from .xray import SessionXRay

        sid = int(session)
        made = TrainingSession(project_from_message(project, allow_outside),
                               base_dir=Path(base_dir) if base_dir else None, device=device,
                               boundary_resolution=boundary_resolution,
                               progress_interval=progress_interval)
        made.pin_core = bool(pin_core)

        def forward(event: Any) -> None:
            if isinstance(event, (Finished, Failed)) and sid in self._sessions:
                state = self._state(sid)
                state["running"] = False
                self.send({"kind": "state", "session": sid, **state})
            self.send({"kind": "event", "session": sid, "event": event})

        # Pictures on a plane through wide inputs are made here too, between two batches on
        # the training thread, and travel ready to draw (see core/boundary/plane_snapshots).
        planes = PlaneSnapshots(made.predict, forward, progress_interval, budget=plane_budget)
        # The hidden units' pictures, while a view watches them; subscribed first, so that
        # a run's last ones go out before the Finished that `planes` forwards.
        units = SessionUnits(made, lambda: planes.probe, forward)
        made.subscribe(units.listener)
        made.subscribe(planes)
        self._sessions[sid] = made
        self._planes[sid] = planes
        self._units[sid] = units
        self._xrays[sid] = SessionXRay(made)
        return sid

    def do_set_probe(self, session: int, probe: dict[str, Any] | None) -> None:
        """The plane the window shows for wide inputs (None: the session draws its own
        boundary, or there is none)."""
        from ..core.boundary import BoundaryProbe

        self._session(session)
        planes = self._planes[int(session)]
        planes.probe = None if probe is None else BoundaryProbe(
            probe["xs"], probe["ys"], probe["points"], probe["kind"],
            bool(probe["from_logits"]))
        planes.failed = False

    def do_unit_pictures(self, session: int, extent: Any = None, resolution: int | None = None,
                         timeout: float = 30) -> Any:
        """Every hidden Dense unit's output over the plane (`core.boundary.units`), for a
        model of two inputs: a `UnitPictures`, with a `note` instead when there are none.

        `extent` ((x0, x1), (y0, y1)) is the rectangle to draw; by default the boundary
        picture's (the probe the window set, else the data's range)."""
        self._session(session)
        return self._units[int(session)].pictures(extent, resolution, timeout)

    def do_layer_outputs(self, session: int, x: Any, timeout: float = 30) -> Any:
        """The forward pass, layer by layer: every layer's output for the one input `x`
        (standardised, as `predict` takes it), as a `core.xray.LayerOutputs`, made on the
        session's worker thread (between two batches during a run)."""
        self._session(session)
        return self._xrays[int(session)].outputs(x, timeout)

    def do_step_batch(self, session: int, restart: bool = False, timeout: float = 60
                      ) -> dict[str, Any]:
        """Step Through: one training step on the next batch (`engine.step_through`), on
        the session's worker between runs; its numbers as `BatchStep.to_message()`."""
        from .step_through import SessionStepper

        s = self._session(session)
        stepper = self._steppers.get(int(session))
        if stepper is None or stepper.session is not s:
            stepper = self._steppers[int(session)] = SessionStepper(s)
        return stepper.step(bool(restart), timeout).to_message()

    def do_augment_samples(self, model: dict, x: Any, seed: int | None = None) -> Any:
        """A few samples through the model's leading image layers, without and with
        training (`engine.augment`): the Data tab's augmentation preview. Needs no session:
        the layers have no weights and are built afresh, so a run is never disturbed."""
        from .augment import augment_samples

        return augment_samples(model, x, seed)

    def do_watch_units(self, session: int, on: bool = True, interval: float | None = None
                       ) -> None:
        """Sends `UnitSnapshot` events during runs (a view shows the unit pictures) or
        stops; off by default, so a window without the pictures pays nothing."""
        self._session(session)
        self._units[int(session)].watch(on, interval)

    def do_configure(self, session: int, **attributes: Any) -> None:
        s = self._session(session)
        for name, value in attributes.items():
            if name == "plane_interval":
                self._planes[int(session)].interval = float(value)
            elif name in ("pin_core", "progress_interval"):
                setattr(s, name, value)
            else:
                raise ValueError(f"cannot set {name!r} on a session")

    def do_state(self, session: int) -> dict[str, Any]:
        self._session(session)  # a closed or unknown session is a ValueError, in words
        return self._state(int(session))

    def do_device(self, session: int) -> str:
        return str(self._session(session).device)

    def do_start(self, session: int, epochs: int | None = None) -> None:
        self._session(session).start(epochs)

    def do_step_epoch(self, session: int) -> None:
        self._session(session).step_epoch()

    def do_lr_find(self, session: int, trained: bool = False, steps: int | None = None,
                   timeout: float = 600) -> Any:
        """The learning-rate sweep (`TrainingSession.lr_find`): answers with its last
        `LRFindEvent` when it ends; its curve streams meanwhile as events. It waits on a
        pool thread, so `stop` (on the reader thread) reaches it within a batch."""
        return self._session(session).lr_find(bool(trained), steps, timeout)

    def do_stop(self, session: int) -> None:
        self._session(session).stop()

    def do_pause(self, session: int) -> None:
        self._session(session).pause()

    def do_resume(self, session: int) -> None:
        self._session(session).resume()

    def do_reset_weights(self, session: int) -> dict[str, Any]:
        self._session(session).reset_weights()
        return self._state(int(session))

    def do_set_compile(self, session: int, compile: dict) -> dict[str, Any]:
        from ..core.spec import CompileSpec

        self._session(session).set_compile(CompileSpec.from_json(compile))
        return self._state(int(session))

    def do_set_project(self, session: int, project: dict, allow_outside: list[str]
                       ) -> dict[str, Any]:
        self._session(session).set_project(project_from_message(project, allow_outside))
        return self._state(int(session))

    def do_predict(self, session: int, x: Any, timeout: float = 30) -> Any:
        return self._session(session).predict(x, timeout=timeout)

    def do_evaluate(self, session: int, split: str = "test", timeout: float = 60) -> Any:
        return self._session(session).evaluate(split, timeout=timeout)

    def do_predict_split(self, session: int, split: str = "test", timeout: float = 120
                         ) -> Any:
        return self._session(session).predict_split(split, timeout=timeout)

    def do_read_images(self, session: int, paths: list[str], timeout: float = 60) -> Any:
        return self._session(session).read_images(list(paths), timeout=timeout)

    def do_predict_files(self, session: int, paths: list[str], timeout: float = 60) -> Any:
        return self._session(session).predict_files(list(paths), timeout=timeout)

    def do_save_model(self, session: int, path: str) -> str:
        return str(self._session(session).save_model(path))

    def do_save_weights(self, session: int, path: str) -> str:
        return str(self._session(session).save_weights(path))

    def do_load_weights(self, session: int, path: str) -> dict[str, Any]:
        self._session(session).load_weights(path)
        return self._state(int(session))

    def do_devices(self) -> Any:
        """The devices Keras's backend sees (`core.devices.list_devices`)."""
        from ..core.devices import list_devices

        return list_devices()

    def do_import_model(self, path: str, weights: str) -> dict[str, Any]:
        """Opens a model file through the safe importer and writes its trained weights.

        Returns the checked spec as plain data; the weights go to `weights` atomically (a
        temporary file beside it, then a rename), so a failure leaves no half file.
        """
        from ..core.modelfile import load_model_file

        imported, model = load_model_file(path)
        target = Path(weights)
        tmp = target.with_name(f".{target.stem}.{os.getpid()}.tmp.weights.h5")
        try:
            model.save_weights(str(tmp))
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        return {"name": imported.name, "model": imported.spec.to_json(),
                "compile": imported.compile.to_json() if imported.compile else None,
                "notes": list(imported.notes)}

    def do_save_model_from_weights(self, project: dict, allow_outside: list[str],
                                   weights: str, path: str) -> str:
        """A `.keras` file from a project and its saved weights (File > Save Trained Model
        when the weights are on disk and no session holds them)."""
        from ..core.training import TrainingSession

        session = TrainingSession(project_from_message(project, allow_outside), device="cpu")
        try:
            session.load_weights(weights)
            return str(session.save_model(path))
        finally:
            session.close()

    def do_close_session(self, session: int) -> None:
        s = self._sessions.pop(int(session), None)
        self._planes.pop(int(session), None)
        self._units.pop(int(session), None)
        self._xrays.pop(int(session), None)
        self._steppers.pop(int(session), None)
        if s is not None:
            s.close()

    def do_search_start(self, search: int, project: dict, allow_outside: list[str],
                        base_dir: str | None, project_path: str | None,
                        trials: int | None = None) -> None:
        """Starts the project's hyperparameter search (`engine.tuning`) on its own thread;
        its events go out numbered `search`, as a session's do. The trials are kept in
        the `<name>.search` folder beside `project_path` (a temporary one for a project
        not saved yet), so a search started again continues."""
        from .tuning import start_search

        sid = int(search)
        running = self._searches.get(sid)
        if running is not None and not running.wait(0):
            raise ValueError(f"search {sid} is already running; stop it first")

        def forward(event: Any) -> None:
            self.send({"kind": "event", "session": sid, "event": event})

        self._searches[sid] = start_search(
            project_from_message(project, allow_outside), project_path,
            Path(base_dir) if base_dir else None, trials, forward)

    def do_search_stop(self, search: int) -> None:
        """Stops a search after the current batch (its trials are kept)."""
        running = self._searches.get(int(search))
        if running is not None:
            running.stop()


def run_engine() -> int:
    """The engine process's entry: connect back to the window and serve it.

    The window passes the address of its listener and a one-time key in the environment
    (LAYERLAB_ENGINE_ADDRESS, LAYERLAB_ENGINE_KEY); a process that does not know the key
    cannot connect, and the engine talks to no one else.
    """
    from multiprocessing.connection import Client

    address = os.environ.get("LAYERLAB_ENGINE_ADDRESS", "")
    key = os.environ.get("LAYERLAB_ENGINE_KEY", "")
    if not address or not key:
        print("layerlab --engine: started without a window to serve (no address)", flush=True)
        return 2
    host, _, port = address.rpartition(":")
    try:
        connection = Client((host, int(port)), authkey=bytes.fromhex(key))
    except (OSError, ValueError) as exc:
        print(f"layerlab --engine: cannot reach the window at {address}: {exc}", flush=True)
        return 2
    protocol.no_delay(connection)
    try:
        return Server(connection).serve()
    finally:
        connection.close()
