"""The worker thread's half of `TrainingSession`: its command queue, its model, its runs.

`TrainingSession` (session.py) is what callers use; everything here runs on, or hands work
to, the one thread that owns the Keras model. It is a mixin only to keep the two halves of
one class in files of a readable size: the state is set up by `TrainingSession.__init__`,
and `dataset`, `history` and `_emit` come from there.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np

from ..boundary import BoundaryProbe, make_probe
from ..devices import resolve_device
from ..paths import WRITE_ARGS, PathError, resolve_write
from ..spec import CompileSpec, FitSpec, ObjectSpec
from .events import Event, Failed, Finished, Started
from .fast import CompiledLoop, EpochOrders, as_tensors, fast_problem, fit_compiled, sample_weights
from .hygiene import (
    PIN_MAX_PARAMS,
    _count_params,
    _forget_custom_gradients,
    _gradient_keys,
    allow_cores,
    hold_on_core,
    quiet_blas,
)
from .messages import SessionError, _early_stop_detail, _first_line, explain_error, nan_message
from .monitor import _callback_type, _Monitor
from .plan import _FitPlan, _repeated_batches, virtual_epoch_plan, virtual_order

log = logging.getLogger(__name__)

#: Above this many bytes of repeated training data, virtual epochs stream batches from a
#: `keras.utils.PyDataset` instead of materialising the repeated arrays.
VIRTUAL_MATERIALISE_LIMIT = 256 * 1024 * 1024


class _Command:
    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[], Any], future: Future | None = None) -> None:
        self.fn = fn
        self.future = future

    def run(self) -> None:
        if self.future is None:
            self.fn()
            return
        if not self.future.set_running_or_notify_cancel():
            return  # the caller timed out and cancelled it
        try:
            result = self.fn()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


_CLOSE = _Command(lambda: None)


class _MonitorLink:
    """A session as its monitor sees it: `monitor.MonitorHost`, and nothing more."""

    __slots__ = ("_s",)

    def __init__(self, session: _Worker) -> None:
        self._s: Any = session

    @property
    def progress_interval(self) -> float:
        return self._s.progress_interval

    @property
    def attention(self) -> bool:
        return self._s._attention

    @property
    def stopping(self) -> bool:
        return self._s._stopping

    @property
    def stop_requested(self) -> bool:
        return self._s._stop.is_set()

    @property
    def pause_requested(self) -> bool:
        return self._s._pause_requested

    def serve_commands(self) -> None:
        self._s._attention = False
        self._s._run_light()

    def wait_while_paused(self) -> None:
        self._s._wait_while_paused()

    def emit(self, event: Event) -> None:
        self._s._emit(event)

    def record_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        self._s._record_epoch(epoch, logs)

    def quick_predictor(self, model: Any) -> Callable[[Any], Any]:
        return self._s._quick_predictor(model)


class _Worker:
    """The worker side of `TrainingSession` (mixed into it; see the module docstring)."""

    # -- plumbing -------------------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise SessionError("the training session is closed; create a new one")

    def _between_runs(self, what: str) -> None:
        self._check_open()
        if self._busy:
            raise SessionError(f"cannot {what} while training; stop the run first")

    def _call(self, fn: Callable[[], Any], timeout: float | None, light: bool = True) -> Any:
        if threading.current_thread() is self._thread:
            return fn()  # a listener asking from the worker itself
        future: Future = Future()
        with self._cv:
            self._check_open()
            (self._light if light else self._heavy).append(_Command(fn, future))
            if light:
                self._attention = True
            self._cv.notify_all()
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(
                f"the training thread did not answer within {timeout} s (it may be in a long "
                "validation pass or building a large model); try again"
            ) from None

    def _run_light(self) -> None:
        while True:
            with self._cv:
                if not self._light:
                    return
                command = self._light.popleft()
            command.run()

    def _wait_while_paused(self) -> None:
        with self._cv:
            self._paused = True
        try:
            while True:
                self._run_light()
                with self._cv:
                    if not self._pause_requested or self._stop.is_set():
                        return
                    if not self._light:
                        self._cv.wait(0.5)
        finally:
            with self._cv:
                self._paused = False

    def _main(self) -> None:
        quiet_blas()
        try:
            import keras

            self._keras = keras
            device, self._device_label = resolve_device(
                self._device_choice, keras.backend.backend()
            )
            scope = keras.device(device) if device else contextlib.nullcontext()
        except BaseException as exc:  # noqa: BLE001 - reported on every command
            self._startup_error = exc
            self._device_label = "unavailable"
            scope = contextlib.nullcontext()
        self._ready.set()
        try:
            with scope:
                self._serve()
        finally:
            self._drop_model(final=True)

    def _serve(self) -> None:
        while True:
            with self._cv:
                while not self._light and not self._heavy:
                    self._cv.wait()
                command = self._light.popleft() if self._light else self._heavy.popleft()
            if command is _CLOSE:
                break
            if self._startup_error is not None and command.future is not None:
                if command.future.set_running_or_notify_cancel():
                    command.future.set_exception(SessionError(
                        f"Keras could not start: {_first_line(self._startup_error)}"))
                continue
            command.run()
        # Anything queued behind the close is answered rather than left hanging.
        with self._cv:
            leftovers = list(self._light) + list(self._heavy)
            self._light.clear()
            self._heavy.clear()
        for command in leftovers:
            if command.future is not None and command.future.set_running_or_notify_cancel():
                command.future.set_exception(SessionError("the training session was closed"))

    def _drop_model(self, final: bool = False) -> None:
        """Forgets the model; Keras's global state is cleared when the next one is built,
        or here when the session ends, never between runs of one model."""
        self._model = None
        self._probe = None
        self._fast_predict = None
        self._fast_loop = None
        _forget_custom_gradients(self._gradient_keys)
        self._gradient_keys = None
        if final and self._keras is not None and self._had_model:
            try:
                self._keras.backend.clear_session()
            except Exception:
                log.debug("clear_session failed", exc_info=True)

    def _ensure_model(self) -> Any:
        if self._model is not None:
            return self._model
        from ..build import build_model, compile_model
        from ..project import checked_fit

        if self._startup_error is not None:
            raise SessionError(f"Keras could not start: {_first_line(self._startup_error)}")
        fit = checked_fit(self._project.fit)
        if self._had_model:
            self._keras.backend.clear_session()
        self._gradient_keys = _gradient_keys(self._keras)
        if fit.seed is not None:
            self._keras.utils.set_random_seed(int(fit.seed))
        with self._strategy_scope():
            model = build_model(self._project.model)
            compile_model(model, self._project.compile)
        self._model = model
        self._had_model = True
        self._probe = self._make_probe(model)
        return model

    def _strategy_scope(self) -> Any:
        """MirroredStrategy's scope for device "all" (Keras must build and compile the
        model inside it); nothing for one device, which `keras.device` places."""
        if self._device_choice != "all":
            return contextlib.nullcontext()
        from ..devices import strategy_scope

        return strategy_scope("all")

    def _recompile(self, spec: CompileSpec) -> None:
        from ..build import compile_model

        strategy = getattr(self._model, "distribute_strategy", None)
        scope = strategy.scope() if self._device_choice == "all" and strategy is not None \
            else contextlib.nullcontext()
        with scope:
            compile_model(self._model, spec)
        # compile() drops the traced functions; let TensorFlow free their graphs.
        self._fast_loop = None
        _forget_custom_gradients(self._gradient_keys)
        self._probe = self._make_probe(self._model)

    def _make_probe(self, model: Any) -> BoundaryProbe | None:
        try:
            ds = self.dataset
            shape = tuple(model.output_shape)
        except Exception:
            return None
        if getattr(ds, "streamed", False):
            return None  # image files: no decision-boundary grid over their pixels
        units = int(shape[1]) if len(shape) == 2 and shape[1] is not None else None
        from_logits = bool(self._project.compile.loss.args.get("from_logits", False))
        return make_probe(ds.x_train, units, ds.task, self.boundary_resolution, from_logits)

    def _quick_predictor(self, model: Any) -> Callable[[Any], Any]:
        """The forward pass for a small batch on the worker (boundary pictures, a typed-in
        prediction): NumPy for a small Dense stack (boundary.dense_predictor, a tenth of
        the cost of a compiled call), else `predict_on_batch` (right under
        MirroredStrategy too)."""
        cached = self._fast_predict
        if cached is None or cached[0] is not model:
            fast = None
            if self._device_choice != "all":
                from ..boundary import dense_predictor

                fast = dense_predictor(model, self._keras.ops.convert_to_numpy)
            cached = self._fast_predict = (model, fast)
        if cached[1] is not None:
            return cached[1]
        from ..devices import batch_predictor

        return batch_predictor(model)

    def _live_model(self) -> Any:
        """The model, with its JAX state synced when asked in the middle of a run."""
        if self._active is not None:
            return self._active.model
        return self._ensure_model()

    def _record_epoch(self, epoch: int, logs: dict[str, float]) -> None:
        for key, value in logs.items():
            self._history.setdefault(key, []).append(value)
        self._epoch = epoch + 1

    def _context(self) -> dict[str, Any]:
        ctx: dict[str, Any] = {"device": self._device_label,
                               "batch_size": self._project.fit.batch_size}
        ds = self._dataset
        if ds is not None:
            ctx["input_shape"] = ds.x_train.shape[1:]
            ctx["label_shape"] = ds.y_train.shape[1:]
            ctx["num_classes"] = ds.num_classes
        return ctx

    def _plan(self, fit: FitSpec, epochs: int | None) -> _FitPlan:
        from ..data import compute_class_weight

        ds = self.dataset
        n = len(ds.x_train)
        batch = int(fit.batch_size)
        shuffle = bool(fit.shuffle)
        class_weight = fit.class_weight
        weights: dict[int, float] | None = None
        if class_weight is not None:
            if ds.num_classes is None:
                raise SessionError(
                    f"fit.class_weight: expected null for this regression data (class weights "
                    f"need classes), got {class_weight!r}; remove it"
                )
            if class_weight == "balanced":
                weights = compute_class_weight(ds.y_train, ds.num_classes)
            else:
                weights = {int(k): float(v) for k, v in class_weight.items()}
                unknown = sorted(k for k in weights if not 0 <= k < ds.num_classes)
                if unknown:
                    raise SessionError(
                        f"fit.class_weight: expected classes 0 to {ds.num_classes - 1}, got "
                        f"{', '.join(map(str, unknown))}; remove those keys"
                    )
                weights = {k: weights.get(k, 1.0) for k in range(ds.num_classes)}
        if getattr(ds, "streamed", False):
            return self._streamed_plan(ds, fit, epochs, weights)
        validation = (ds.x_val, ds.y_val) if ds.x_val is not None else None
        virtual = fit.virtual_epochs
        if virtual:
            vp = virtual_epoch_plan(float(virtual["stop_point"]), int(virtual["checkpoints"]),
                                    n, batch)
            run_epochs = int(epochs) if epochs is not None else vp.epochs
            count = vp.steps_per_epoch * batch * run_epochs
            seed = fit.seed
            rng = np.random.default_rng([int(seed), self._epoch]) if seed is not None \
                else np.random.default_rng()
            order = virtual_order(n, count, rng, shuffle)
            row_bytes = ds.x_train[:1].nbytes + ds.y_train[:1].nbytes
            if count * row_bytes <= VIRTUAL_MATERIALISE_LIMIT:
                x, y = ds.x_train[order], ds.y_train[order]
            else:
                x, y = _repeated_batches(ds.x_train, ds.y_train, order, batch, weights), None
                weights = None  # carried as sample weights inside the batches
            return _FitPlan(x, y, batch, vp.steps_per_epoch, vp.steps_per_epoch, run_epochs,
                            self._epoch, False, weights, validation, n)
        run_epochs = int(epochs) if epochs is not None else int(fit.epochs)
        steps = fit.steps_per_epoch
        per_epoch = int(steps) if steps else -(-n // batch)
        return _FitPlan(ds.x_train, ds.y_train, batch, per_epoch, int(steps) if steps else None,
                        run_epochs, self._epoch, shuffle, weights, validation, n)

    def _streamed_plan(self, ds: Any, fit: FitSpec, epochs: int | None,
                       weights: dict[int, float] | None) -> _FitPlan:
        """The plan for a folder of images: `fit` gets tf.data pipelines that read the files
        (image_pipeline), never arrays, so the compiled loop (arrays in memory) stays out
        and a folder larger than memory trains. Virtual epochs and steps_per_epoch read a
        pipeline that repeats, each pass in a new order, as the arrays' passes are laid
        end to end."""
        n, batch = len(ds.x_train), int(fit.batch_size)
        virtual = fit.virtual_epochs
        if virtual:
            vp = virtual_epoch_plan(float(virtual["stop_point"]), int(virtual["checkpoints"]),
                                    n, batch)
            run_epochs = int(epochs) if epochs is not None else vp.epochs
            keras_steps: int | None = vp.steps_per_epoch
        else:
            run_epochs = int(epochs) if epochs is not None else int(fit.epochs)
            keras_steps = int(fit.steps_per_epoch) if fit.steps_per_epoch else None
        train = self._image_stream("train", batch, bool(fit.shuffle), fit.seed,
                                   keras_steps is not None)
        validation = self._image_stream("val", batch)
        return _FitPlan(train, None, batch, keras_steps or -(-n // batch), keras_steps,
                        run_epochs, self._epoch, False, weights, validation, n)

    def _image_stream(self, split: str, batch: int, shuffle: bool = False,
                      seed: int | None = None, repeat: bool = False) -> Any:
        """One part of the image folder as batches (None when it is empty). The pipelines
        are kept for the session's dataset, so Continue goes on with the next shuffle and
        reads a cached folder from memory."""
        from .image_pipeline import part_batches

        ds = self.dataset
        streams = self._streams
        if streams.get("for") is not ds:
            streams = self._streams = {"for": ds}
        key = (split, batch, shuffle, seed, repeat)
        if key not in streams:
            for old in [k for k in streams if k != "for" and k[0] == split]:
                del streams[old]  # one pipeline (and cache) per part: the latest settings
            streams[key] = part_batches(ds, split, batch, shuffle, seed, repeat)
        return streams[key]

    def _probe_arrays(self, ds: Any, seed: int) -> tuple[np.ndarray, np.ndarray]:
        """The diagnostics' fixed probe batch: for image files, the same rows decoded."""
        from ..diagnostics import pick_probe

        if not getattr(ds, "streamed", False):
            return pick_probe(ds.x_train, ds.y_train, seed=seed)
        from ..diagnostics.stats import PROBE_SIZE
        from .image_pipeline import decode_files

        n = len(ds.x_train)
        rows = np.arange(n) if n <= PROBE_SIZE else \
            np.sort(np.random.default_rng(seed).choice(n, PROBE_SIZE, replace=False))
        images = decode_files([ds.x_train[int(i)] for i in rows], ds.image_size, ds.channels)
        return images, ds.y_train[rows]

    def _user_callbacks(self, fit: FitSpec, continuing: bool) -> list[Any]:
        keras = self._keras
        made = []
        for item in fit.callbacks or []:
            spec = ObjectSpec.from_json(item)
            args = dict(spec.args)
            key = WRITE_ARGS.get(spec.type)
            if key and isinstance(args.get(key), str):
                try:
                    path = resolve_write(args[key], self._base_dir,
                                         self._project.allow_outside)
                except PathError as exc:
                    raise SessionError(str(exc)) from None
                folder = path if spec.type == "TensorBoard" else path.parent
                folder.mkdir(parents=True, exist_ok=True)
                args[key] = str(path)
            if spec.type == "CSVLogger" and continuing:
                args["append"] = True  # the CSV continues as the History does
            cls = getattr(keras.callbacks, spec.type, None)
            if cls is None:
                raise SessionError(f"fit.callbacks: Keras has no callback called {spec.type!r}")
            try:
                made.append(cls(**{k: _tupled(v) for k, v in args.items()}))
            except ImportError as exc:
                raise SessionError(
                    f"fit.callbacks: {spec.type} needs a package that is not installed "
                    f"({_first_line(exc)}); remove the callback or install it"
                ) from exc
        return made

    def _finish(self, event: Finished | Failed) -> None:
        with self._cv:
            self._busy = False
            self._pause_requested = False
        try:
            self._emit(event)
        finally:
            with self._cv:
                self._pending_runs -= 1
                self._cv.notify_all()

    def _fit(self, run: int, epochs: int | None) -> None:
        from ..project import checked_fit

        if self._stop.is_set():
            self._finish(Finished(run, self.history, "stopped",
                                  "stopped before training began", 0))
            return
        try:
            fit = checked_fit(self._project.fit)
            model = self._ensure_model()
            plan = self._plan(fit, epochs)
            callbacks = self._user_callbacks(fit, continuing=self._epoch > 0)
        except Exception as exc:
            self._finish(Failed(run, explain_error(exc, self._context()),
                                traceback.format_exc()))
            return
        fast = self._fast_setup(model, plan, fit, callbacks)
        monitor = _callback_type()(_MonitorLink(self), run, plan, self._probe)
        watchers = self._diagnostics(run, plan, fit)
        # after the model is built: TensorFlow's own thread pools exist by now and keep
        # every core (tf.data's, made by fit, share this one)
        held = None
        if self.pin_core and _count_params(model) <= PIN_MAX_PARAMS:
            held = hold_on_core()
        self._emit(Started(run, plan.initial_epoch + plan.epochs_in_run, plan.initial_epoch,
                           plan.steps_per_epoch, plan.samples, plan.batch_size,
                           self._device_label, held[0] if held else None, fast is not None))
        kwargs: dict[str, Any] = {
            "epochs": plan.initial_epoch + plan.epochs_in_run,
            "initial_epoch": plan.initial_epoch,
            "shuffle": plan.shuffle,
            "verbose": 0,
            "callbacks": [*callbacks, *watchers, monitor],
        }
        if plan.y is not None:
            kwargs["batch_size"] = plan.batch_size
        if plan.keras_steps is not None:
            kwargs["steps_per_epoch"] = plan.keras_steps
        if plan.class_weight is not None:
            kwargs["class_weight"] = plan.class_weight
        if plan.validation is not None:
            kwargs["validation_data"] = plan.validation
        self._active = monitor
        try:
            if fast is not None:
                fit_compiled(*fast, plan, monitor, callbacks, watchers)
            else:
                model.fit(plan.x, plan.y, **kwargs)
        except Exception as exc:
            self._active = None
            self._finish(Failed(run, self._explain(exc), traceback.format_exc()))
            return
        finally:
            self._active = None
            if held is not None:
                allow_cores(held[1])
        self._finish(self._finished(run, monitor, fit, plan))

    def _explain(self, exc: BaseException) -> str:
        """A failed run's message; for image files TensorFlow could not decode, their names
        (the error itself names none)."""
        ds = self._dataset
        if getattr(ds, "streamed", False):
            from .image_pipeline import decode_problem

            try:
                message = decode_problem(ds, exc)
            except Exception:  # noqa: BLE001 - fall back to the general explanation
                log.debug("could not look for undecodable images", exc_info=True)
                message = None
            if message:
                return message
        return explain_error(exc, self._context())

    def _diagnostics(self, run: int, plan: _FitPlan, fit: FitSpec) -> list[Any]:
        """The live diagnostics' callback (`core.diagnostics`), or none when they are off
        or cannot watch this run: its findings join the run's events as FindingEvents, and
        the weighted layers' statistics as LayerStatsEvents (the Layers view), at most one
        every `layer_stats_interval` seconds."""
        if not self.diagnostics:
            return []
        try:
            from ..diagnostics import (
                Diagnoser,
                StatsCollector,
                context_for,
                diagnostics_callback,
            )
            from ..diagnostics.stats import DEFAULT_BUDGET, DEFAULT_EVERY

            ds = self.dataset
            diagnoser = Diagnoser(context_for(self._project, ds.y_train, ds.task,
                                              plan.initial_epoch + plan.epochs_in_run,
                                              plan.initial_epoch))

            def sink(item: Any) -> None:
                for finding in diagnoser.add(item):
                    self._emit(finding.to_event(run))

            probe = self._probe_arrays(ds, int(fit.seed or 0))
            feed = None
            if self.layer_stats_interval is not None:
                from ..diagnostics.layers import LayerFeed

                feed = LayerFeed(self._emit, run, plan.steps_per_epoch, plan.initial_epoch,
                                 self.layer_stats_interval, len(probe[0]))
            collector = StatsCollector(*probe, sink, feed=feed)
            return [diagnostics_callback(collector, DEFAULT_EVERY, DEFAULT_BUDGET,
                                         plan.steps_per_epoch)]
        except Exception:  # noqa: BLE001 - a run trains without diagnostics rather than not
            log.exception("live diagnostics are off for this run")
            return []

    def _fast_setup(self, model: Any, plan: _FitPlan, fit: FitSpec, callbacks: list[Any]
                    ) -> tuple[CompiledLoop, tuple[Any, ...], EpochOrders] | None:
        """The compiled loop, the run's data as tensors and its epoch orders, or None to
        train with `model.fit` (`fast_path` off, or `fast.fast_problem` says why).

        The loop is kept across runs of one model and compile, as Keras keeps its
        `train_function`, so Continue and Step do not trace again. Anything that goes wrong
        here happens before a weight changes, and the run then uses `fit`, which gives the
        error, if any, in Keras's own words.
        """
        if not self.fast_path:
            return None
        virtual = bool(fit.virtual_epochs)
        try:
            problem = fast_problem(model, plan, callbacks, self._device_choice, virtual)
            if problem is not None:
                log.debug("training with fit: %s", problem)
                return None
            data = as_tensors(plan.x, plan.y, sample_weights(plan))
            if plan.validation is not None:
                data += as_tensors(*plan.validation)
            loop = self._fast_loop
            if loop is None or not loop.matches(model, plan.batch_size, data):
                self._fast_loop = None
                loop = CompiledLoop(model, plan.batch_size, data,
                                    validated=plan.validation is not None)
                self._fast_loop = loop
            orders = EpochOrders(len(plan.x), plan.batch_size, plan.steps_per_epoch,
                                 plan.shuffle, fit.seed is not None, virtual)
        except Exception as exc:  # noqa: BLE001 - fit runs instead, and explains
            log.debug("training with fit: the compiled loop failed to build (%s)", exc,
                      exc_info=True)
            return None
        return loop, data, orders

    def _finished(self, run: int, monitor: _Monitor, fit: FitSpec,
                  plan: _FitPlan) -> Finished:
        done = monitor.epochs_done
        history = self.history
        if monitor.nan is not None:
            epoch, batch, loss = monitor.nan
            rate = self._project.compile.optimizer.args.get("learning_rate")
            return Finished(run, history, "nan", nan_message(epoch + 1, max(batch, 1), loss, rate),
                            done)
        if monitor.stopped_by_user and done == 0:
            return Finished(run, history, "stopped", "stopped before training began", 0)
        if monitor.stopped_by_user:
            return Finished(run, history, "stopped",
                            f"stopped by request in epoch {monitor.epoch + 1} after "
                            f"{monitor.batch + 1} batch(es); the weights are kept", done)
        if monitor.stopped_by_callback:
            return Finished(run, history, "early_stopped",
                            f"EarlyStopping ended training after epoch {monitor.epoch + 1}: "
                            f"{_early_stop_detail(fit)}", done)
        loss = history.get("loss", [float("nan")])[-1] if history.get("loss") else float("nan")
        return Finished(run, history, "completed",
                        f"trained {done} epoch(s), {self._epoch} in all; loss {loss:.4g}", done)


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value
