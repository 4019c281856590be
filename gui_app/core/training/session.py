"""`TrainingSession`: what callers use to train one project's model and hear about it.

The public half of the session: its settings, properties, listeners, controls, between-run
changes and queries. Each of those hands work to the worker thread (worker.py), which owns
the Keras model; callers get results through futures and listeners get events, never
Keras objects or tensors.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import numpy as np

from ..boundary import BoundaryProbe
from ..devices import _check_device
from ..lr_find import LRFindEvent
from ..spec import CompileSpec, FitSpec, Project
from .events import Event
from .messages import SessionError
from .monitor import _floats, _Monitor
from .worker import _CLOSE, _Command, _Worker

log = logging.getLogger(__name__)

#: Inputs up to this many rows are predicted with one compiled call (`predict_on_batch`).
PREDICT_ON_BATCH_ROWS = 8192
#: Up to this many rows, in equal parts of at most PREDICT_ON_BATCH_ROWS (see `predict`).
PREDICT_IN_PARTS_ROWS = 4 * PREDICT_ON_BATCH_ROWS


class TrainingSession(_Worker):
    """Trains one project's model on a worker thread and streams events to listeners.

    Args:
        project: what to build and train.
        base_dir: the project file's folder: relative data and callback paths are read and
            written there (the current folder when None).
        dataset: the data, when the caller has loaded it already; else it is loaded from
            `project.data` on first use.
        device: "auto" (the GPU when there is one), "cpu", "gpu", "gpu:N", or "all": every
            GPU through `tf.distribute.MirroredStrategy` (TensorFlow backend only; the batch
            size stays the global one).
        boundary_resolution: points per axis of the decision-boundary grid.
        progress_interval: seconds between progress events (and boundary snapshots);
            it may be changed during a run (the `progress_interval` attribute).

    Raises:
        ValueError: for an unknown device or a non-positive interval or resolution.
    """

    def __init__(
        self,
        project: Project,
        base_dir: Path | None = None,
        dataset: Any | None = None,
        device: str = "auto",
        boundary_resolution: int = 100,
        progress_interval: float = 0.1,
    ) -> None:
        self._device_choice = _check_device(device)
        if boundary_resolution < 2:
            raise ValueError(
                f"boundary_resolution: expected at least 2, got {boundary_resolution}."
            )
        if not progress_interval > 0:
            raise ValueError(f"progress_interval: expected seconds > 0, got {progress_interval}.")
        self._project = project
        self._base_dir = Path(base_dir) if base_dir is not None else None
        self._dataset = dataset
        self.boundary_resolution = int(boundary_resolution)
        self.progress_interval = float(progress_interval)
        #: Hold the training thread on one CPU core during a run of a small model (at most
        #: PIN_MAX_PARAMS parameters; Started.core says which core): a window that keeps its
        #: own thread off that core then no longer displaces it. On two cores, the window's
        #: drawing made the circle network's run 17 % slower than plain `fit` with the
        #: threads moving freely and 6 % with them held apart. A bigger model's run waits
        #: on TensorFlow's threads, which use every core, and a window held to the other
        #: core then drew 6 to 9 times a second instead of 10 to 11.
        self.pin_core = False
        #: Train with the compiled loop (fast.py: many steps, epoch ends and validation
        #: per TensorFlow call, with `fit`'s numbers) wherever it applies; `model.fit`
        #: otherwise, and always when False (benchmarks compare the two). On two busy
        #: cores the Playground lessons train 17 to 37 times as many epochs a second as
        #: with `fit` (the circle: 130 against 6; benchmarks/demo_speed.py).
        self.fast_path = True
        #: live diagnostics (core.diagnostics): FindingEvents while training
        self.diagnostics = True
        #: with the diagnostics on, seconds between two LayerStatsEvents (the Layers
        #: view; `core.diagnostics.layers.LAYER_INTERVAL`); None sends none
        self.layer_stats_interval: float | None = 0.25
        self._listeners: list[Callable[[Event], None]] = []
        self._data_lock = threading.Lock()
        # Worker state (touched on the worker thread only, except where noted).
        self._keras: Any = None
        self._fast_predict: tuple[Any, Any] | None = None  # (model, NumPy forward or None)
        self._fast_loop: Any = None  # fast.CompiledLoop for this model and compile
        #: an image folder's tf.data pipelines, with the dataset they read ("for"), kept
        #: across runs (worker._image_stream)
        self._streams: dict[Any, Any] = {}
        self._model: Any = None
        self._probe: BoundaryProbe | None = None
        self._had_model = False
        self._gradient_keys: set[str] | None = None
        self._active: _Monitor | None = None
        self._history: dict[str, list[float]] = {}
        self._epoch = 0
        self._device_label = "not started"
        self._startup_error: BaseException | None = None
        # Shared state.
        self._cv = threading.Condition()
        self._light: deque[_Command] = deque()
        self._heavy: deque[_Command] = deque()
        self._attention = False  # set after any flag below changes; read per batch
        self._stop = threading.Event()
        self._stopping = False  # mirrors _stop for the per-batch check
        self._pause_requested = False
        self._paused = False
        self._busy = False
        self._pending_runs = 0
        self._run = 0
        self._finds = 0  # learning-rate sweeps so far (`lr_find`)
        self._closed = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._main, name="layerlab-training", daemon=True)
        self._thread.start()

    # -- properties -----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from `start()` until just before the run's Finished or Failed event."""
        return self._busy

    @property
    def paused(self) -> bool:
        """True while a pause is requested for a run in progress."""
        return self._busy and self._pause_requested

    @property
    def history(self) -> dict[str, list[float]]:
        """Every epoch's logs since the last reset (a copy)."""
        return {k: list(v) for k, v in self._history.items()}

    @property
    def epoch(self) -> int:
        """Epochs trained since the last reset: the next run's `initial_epoch`."""
        return self._epoch

    @property
    def project(self) -> Project:
        return self._project

    @property
    def dataset(self) -> Any:
        """The data (loaded on first use; raises `DataError` when it cannot be loaded)."""
        with self._data_lock:
            if self._dataset is None:
                from ..data import load_dataset

                self._dataset = load_dataset(self._project.data or None, self._base_dir)
            return self._dataset

    @property
    def device(self) -> str:
        """Where the model lives: "CPU" or "GPU 0: <name>" (waits for the worker to start)."""
        self._ready.wait(120)
        return self._device_label

    # -- listeners and events -------------------------------------------------------------
    def subscribe(self, listener: Callable[[Event], None]) -> None:
        """Adds a listener; it is called on the worker thread and must return quickly."""
        self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Event], None]) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _emit(self, event: Event) -> None:
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # a broken view must not end training
                log.exception("a training listener failed on %s", type(event).__name__)

    # -- controls -------------------------------------------------------------------------
    def start(self, epochs: int | None = None) -> None:
        """Starts a run: the first, or one that continues from the current weights.

        A continued run starts at `initial_epoch = self.epoch`, so History, epoch numbers
        and callbacks carry on as if `fit` had been called again on the same model.

        Args:
            epochs: epochs to train in this run; None means the project's `fit.epochs`
                (or the virtual-epoch checkpoints).

        Raises:
            SessionError: when a run is already going or the session is closed.
        """
        if epochs is not None and (int(epochs) != epochs or epochs < 1):
            raise ValueError(f"epochs: expected an integer >= 1, got {epochs!r}.")
        with self._cv:
            self._check_open()
            if self._busy:
                raise SessionError(
                    "a run is already going; stop it, or wait for it to finish, before "
                    "starting another"
                )
            self._busy = True
            self._pending_runs += 1
            self._stop.clear()
            self._stopping = False
            self._pause_requested = False
            self._run += 1
            run = self._run
            self._heavy.append(_Command(lambda: self._fit(run, epochs)))
            self._cv.notify_all()

    def step_epoch(self) -> None:
        """Trains exactly one more epoch (one checkpoint with virtual epochs)."""
        self.start(epochs=1)

    def lr_find(self, trained: bool = False, steps: int | None = None,
                timeout: float | None = 600) -> LRFindEvent:
        """The learning-rate range test (`core.lr_find`): trains a copy of the model with
        the rate growing from 1e-7 to 10 and suggests a rate from its loss curve.

        It runs on the worker thread like a run: `running` is True meanwhile, `stop()`
        ends it after the current batch, and listeners get `LRFindEvent`s (the curve so far,
        every `progress_interval` seconds, then the last one with the suggestion). The
        session's own model, optimizer and history stay as they were (`lr_range`).

        Args:
            trained: start from the session's weights (trained, or loaded) instead of the
                fresh ones Train starts from.
            steps: batches in the sweep; by default one epoch's, within 100 to 300.
            timeout: seconds to wait for the sweep; on a timeout it is stopped.

        Returns:
            The sweep's last event: `suggested_lr` and `rule`, or None and "" with the
            reason in `message` when the loss never fell.

        Raises:
            SessionError: when a run is going, the session is closed, or the sweep could
                not run (the message says why).
        """
        if steps is not None and (int(steps) != steps or steps < 2):
            raise ValueError(f"steps: expected an integer >= 2, got {steps!r}.")
        from .lr_range import run_lr_find

        self._ready.wait(120)
        if self._startup_error is not None:  # the worker answers no sweep then
            raise SessionError(f"Keras could not start: {_error_line(self._startup_error)}")
        future: Future = Future()
        with self._cv:
            self._check_open()
            if self._busy:
                raise SessionError("a run is already going; stop it, or wait for it to "
                                   "finish, before finding a learning rate")
            self._busy = True
            self._pending_runs += 1
            self._stop.clear()
            self._stopping = False
            self._pause_requested = False
            self._finds += 1
            find = self._finds
            self._heavy.append(_Command(lambda: run_lr_find(self, find, trained, steps),
                                        future))
            self._cv.notify_all()
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            self.stop()  # never cancelled: the sweep itself clears the busy state
            raise TimeoutError(f"the learning-rate sweep took over {timeout} s and was "
                               "stopped; try fewer steps") from None

    def stop(self) -> None:
        """Ends the run after the current batch; the weights are kept.

        Keras then finishes the epoch's bookkeeping (validation, epoch-end logs), as it
        does for any callback that stops training.
        """
        with self._cv:
            if not self._busy:
                return
            self._stop.set()
            self._stopping = True
            self._pause_requested = False
            self._attention = True
            self._cv.notify_all()

    def pause(self) -> None:
        """Holds the run before its next batch until `resume()` or `stop()`."""
        with self._cv:
            if not self._busy:
                return
            self._pause_requested = True
            self._attention = True
            self._cv.notify_all()

    def resume(self) -> None:
        """Lets a paused run go on."""
        with self._cv:
            self._pause_requested = False
            self._cv.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until no run is pending; False when `timeout` seconds passed first."""
        with self._cv:
            return self._cv.wait_for(lambda: self._pending_runs == 0, timeout)

    def close(self, timeout: float = 5) -> None:
        """Stops any run, ends the worker thread and frees the model; idempotent."""
        with self._cv:
            if not self._closed:
                self._closed = True
                self._stop.set()
                self._stopping = True
                self._pause_requested = False
                self._attention = True
                self._heavy.append(_CLOSE)
                self._cv.notify_all()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def __enter__(self) -> TrainingSession:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- between-run changes --------------------------------------------------------------
    def reset_weights(self, timeout: float = 60) -> None:
        """Re-initialises the weights (the seed gives the first run's weights again) and
        clears the history and the epoch count."""
        self._between_runs("reset the weights")

        def reset() -> None:
            self._drop_model()
            self._history = {}
            self._epoch = 0

        self._call(reset, timeout, light=False)

    def set_compile(self, compile_spec: CompileSpec, timeout: float = 60) -> None:
        """New optimizer, learning rate, loss or metrics for the next run; weights are kept.

        The optimizer starts afresh (its moment estimates are per optimizer).
        """
        self._between_runs("change the optimizer or loss")

        def recompile() -> None:
            self._project = self._project.replace(compile=compile_spec)
            if self._model is not None:
                self._recompile(compile_spec)

        self._call(recompile, timeout, light=False)

    def set_project(self, project: Project, timeout: float = 60) -> None:
        """Takes a changed project for the next run.

        A changed model or data section means a new model: it is rebuilt from scratch on
        the next start and the history is cleared. A changed compile section keeps the
        weights (as `set_compile`); a changed fit section only affects later runs.
        """
        self._between_runs("change the project")

        def apply() -> None:
            old = self._project
            self._project = project
            if old.data != project.data:
                with self._data_lock:
                    self._dataset = None
            if old.model != project.model or old.data != project.data:
                self._drop_model()
                self._history = {}
                self._epoch = 0
            elif old.compile != project.compile and self._model is not None:
                self._recompile(project.compile)

        self._call(apply, timeout, light=False)

    # -- queries (run on the worker, also while training) ---------------------------------
    def predict(self, x: np.ndarray, timeout: float = 30) -> np.ndarray:
        """The model's outputs for inputs `x` (already standardised, as the model sees them).

        While a run is going this runs between two batches.
        """
        x = np.asarray(x, dtype=np.float32)

        def predict() -> np.ndarray:
            model = self._live_model()
            n = len(x)
            if n <= PREDICT_ON_BATCH_ROWS:
                return np.asarray(self._quick_predictor(model)(x))
            if n <= PREDICT_IN_PARTS_ROWS:
                # A boundary grid over the visible plane (100 x 100 = 10,000 points): in
                # equal parts of one shape (the last padded), one compiled call each. Under
                # `model.predict` the picture took 20-50 ms, and the pictures' time budget
                # let through two a second where the session's own grid made twenty.
                quick = self._quick_predictor(model)
                parts = -(-n // PREDICT_ON_BATCH_ROWS)
                size = -(-n // parts)
                outs = []
                for start in range(0, n, size):
                    chunk = x[start:start + size]
                    short = size - len(chunk)
                    if short:
                        chunk = np.concatenate([chunk, np.zeros((short, *x.shape[1:]),
                                                                dtype=x.dtype)])
                    out = np.asarray(quick(chunk))
                    outs.append(out[:len(out) - short] if short else out)
                return np.concatenate(outs)
            return np.asarray(model.predict(x, batch_size=1024, verbose=0))

        return self._call(predict, timeout)

    def evaluate(self, split: str = "test", timeout: float = 60) -> dict[str, float]:
        """Loss and metrics on one part of the data: "test", "val" or "train".

        Raises:
            ValueError: for an unknown split or one the data does not have.
        """
        splits = {"test": ("x_test", "y_test"), "val": ("x_val", "y_val"),
                  "train": ("x_train", "y_train")}
        if split not in splits:
            raise ValueError(f"split: expected 'test', 'val' or 'train', got {split!r}.")
        ds = self.dataset
        x, y = (getattr(ds, name) for name in splits[split])
        if x is None:
            setting = "data.test_split" if split == "test" else "data.validation_split"
            raise ValueError(
                f"split: expected data with a {split} part, got none; set {setting} above 0 "
                "to hold some samples out"
            )
        batch = int(self._project.fit.batch_size or FitSpec.batch_size)

        def evaluate() -> dict[str, float]:
            model = self._live_model()
            saved = None
            if self._active is not None:
                # The running epoch's metrics live in the same variables; keep them.
                saved = [np.array(self._keras.ops.convert_to_numpy(v.value))
                         for v in model.metrics_variables]
            try:
                if getattr(ds, "streamed", False):  # image files, read as for training
                    result = model.evaluate(self._image_stream(split, batch), verbose=0,
                                            return_dict=True)
                else:
                    result = model.evaluate(x, y, batch_size=batch, verbose=0,
                                            return_dict=True)
            finally:
                if saved is not None:
                    for variable, value in zip(model.metrics_variables, saved, strict=True):
                        variable.assign(value)
            return _floats(result)

        return self._call(evaluate, timeout)

    def predict_split(self, split: str = "test", timeout: float = 120) -> np.ndarray:
        """The model's outputs for every sample of one part of the data ("test", "val" or
        "train"), in the part's order: with the part's labels (and, for a folder of
        images, its files: `dataset.x_test.paths`) they give the right and wrong answers.

        Raises:
            ValueError: for an unknown split or one the data does not have.
        """
        names = {"test": "x_test", "val": "x_val", "train": "x_train"}
        if split not in names:
            raise ValueError(f"split: expected 'test', 'val' or 'train', got {split!r}.")
        ds = self.dataset
        x = getattr(ds, names[split])
        if x is None:
            raise ValueError(f"split: expected data with a {split} part, got none")
        batch = int(self._project.fit.batch_size or FitSpec.batch_size)

        def predict() -> np.ndarray:
            model = self._live_model()
            if getattr(ds, "streamed", False):
                return np.asarray(model.predict(self._image_stream(split, batch), verbose=0))
            return np.asarray(model.predict(np.asarray(x, np.float32), batch_size=1024,
                                            verbose=0))

        return self._call(predict, timeout)

    def read_images(self, paths: list[str], timeout: float = 60) -> np.ndarray:
        """Image files as the model gets them (resized, grey or colour, float32 0 to 255),
        shape (n, height, width, channels), for a folder-of-images project.

        Raises:
            ValueError: when the data is not a folder of images, or a file cannot be decoded.
        """
        ds = self.dataset
        if not getattr(ds, "streamed", False):
            raise ValueError("paths: expected a project whose data is a folder of images "
                             "(data.source 'images')")

        def read() -> np.ndarray:
            from .image_pipeline import decode_files

            try:
                return decode_files(list(paths), ds.image_size, ds.channels)
            except Exception as exc:  # noqa: BLE001 - TensorFlow's errors, in words
                raise ValueError(f"paths: expected image files TensorFlow can decode, got "
                                 f"one it cannot ({_error_line(exc)})") from None

        return self._call(read, timeout)

    def predict_files(self, paths: list[str], timeout: float = 60
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Image files through the model: (the images as it sees them, its outputs)."""
        images = self.read_images(paths, timeout)
        return images, self.predict(images, timeout)

    def save_model(self, path: str | Path, timeout: float = 60) -> Path:
        """Saves the whole model (architecture, weights, optimizer) as a `.keras` file."""
        target = Path(path)
        if target.suffix != ".keras":
            raise ValueError(
                f"path: expected a file name ending in .keras, got {str(path)!r}; "
                "add the .keras extension"
            )

        def save() -> Path:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._live_model().save(str(target))
            return target

        return self._call(save, timeout)

    def save_weights(self, path: str | Path, timeout: float = 60) -> Path:
        """Saves only the weights, as a `.weights.h5` file."""
        target = Path(path)
        if not target.name.endswith(".weights.h5"):
            raise ValueError(
                f"path: expected a file name ending in .weights.h5, got {str(path)!r}"
            )

        def save() -> Path:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._live_model().save_weights(str(target))
            return target

        return self._call(save, timeout)

    def load_weights(self, path: str | Path, timeout: float = 60) -> None:
        """Loads weights saved by `save_weights` into the current model (between runs)."""
        self._between_runs("load weights")
        source = Path(path)
        if not source.is_file():
            raise FileNotFoundError(f"path: expected a .weights.h5 file, got {source}, "
                                    "which does not exist")

        def load() -> None:
            self._ensure_model().load_weights(str(source))

        self._call(load, timeout, light=False)


def _error_line(exc: BaseException) -> str:
    """The first line of an error, for a message."""
    text = (getattr(exc, "message", None) or str(exc)).strip()
    return text.splitlines()[0][:160] if text else type(exc).__name__
