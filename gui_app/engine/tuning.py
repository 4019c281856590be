"""The hyperparameter search: Keras Tuner over LayerLab's spec, on a thread of its own.

`SearchRun` runs one project's search (`core.search`) and streams plain-data events
(`core.search_events.TrialEvent` per trial, then `SearchDone`) to its listeners; the engine
process serves it to the window (`engine.server`, commands `search_start`/`search_stop`),
and `layerlab tune` runs it in its own process.

- The model of each trial is built by the same code as a training run (`core.build`), from
  the project with the trial's values applied (`core.search.apply_values`), so the best
  trial, applied to the project and trained, is the model that was scored. The weights
  start from the project's `fit.seed` in every trial: trials differ only in what is searched.
- Keras keeps its settings per thread, so the tuner, its models and their training all live
  on the search's thread, as a session's live on its worker thread.
- A trial trains with plain `model.fit` on the project's data, as a search written by hand
  does: `benchmarks/search_overhead.py` measures the two side by side.
- Stop abandons the trial in progress without recording it (a Keras Tuner `FatalError`
  raised between two batches). The trials already ended are kept in the search's folder,
  and a search started again on the same project and space continues there: Keras Tuner
  reloads its state (`overwrite=False`) and runs the abandoned trial first.
- The folder is `<project>.search/<tuner>-<hash>/` beside the project
  (`core.search_folder`): a changed model, data or space starts a
  search of its own instead of mixing scores.

Distributed searches (a chief and workers, Keras Tuner's own mode) are in `tuning_cluster`.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import math
import os
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.search import SearchError, apply_values, objective_direction
from ..core.search_events import SearchDone, TrialEvent, best_trial
from ..core.search_folder import search_key
from ..core.spec import Project, SearchDim, SearchSpec

log = logging.getLogger(__name__)

#: Each trial's own record beside Keras Tuner's (how long it took, its curves, why it
#: failed): a continued search, and a chief serving workers, read it back.
TRIAL_FILE = "layerlab_trial.json"
#: Failed trials in a row before a search gives up (Keras Tuner's default).
MAX_FAILED_IN_A_ROW = 3
#: The environment variables of Keras Tuner's distributed mode.
CLUSTER_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")

Listener = Callable[[Any], None]


# -- building and training one trial ---------------------------------------------------------

def declare(hp: Any, dim: SearchDim) -> Any:
    """Keras Tuner's hyperparameter for one searched setting, named by its JSON path."""
    if dim.kind == "choice":
        return hp.Choice(dim.path, list(dim.values))
    if dim.kind == "int":
        return hp.Int(dim.path, int(dim.min), int(dim.max), step=int(dim.step or 1),
                      sampling=dim.sampling)
    return hp.Float(dim.path, float(dim.min), float(dim.max), step=dim.step,
                    sampling=dim.sampling)


def trial_values(search: SearchSpec, values: dict[str, Any]) -> dict[str, Any]:
    """A trial's values for the searched settings only (Hyperband adds "tuner/..." ones),
    as plain Python numbers."""
    out = {}
    for dim in search.space:
        if dim.path in values:
            value = values[dim.path]
            out[dim.path] = value.item() if hasattr(value, "item") else value
    return out


def make_hypermodel(project: Project, dataset: Any, stop: threading.Event,
                    base_dir: Path | None = None) -> Any:
    """A `keras_tuner.HyperModel` that builds and trains the project with a trial's values.

    Its `records` holds, for the trial in progress, the last training's history and the
    message of an error; the tuner takes them when the trial ends.
    """
    import keras
    import keras_tuner as kt

    from ..core.build import build_model, compile_model

    search = project.search
    assert search is not None

    class _Stopped(kt.errors.FatalError):
        """The person stopped the search: the trial is abandoned, not recorded."""

    class _Watch(keras.callbacks.Callback):
        """Records the epochs' logs, and ends the trial between two batches on Stop."""

        def __init__(self, record: dict[str, Any]) -> None:
            super().__init__()
            self.record = record
            self.record["history"] = {}

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if stop.is_set():
                raise _Stopped("the search was stopped")

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            for key, value in (logs or {}).items():
                self.record["history"].setdefault(key, []).append(float(value))
            if stop.is_set():
                raise _Stopped("the search was stopped")

    class LayerLabHyperModel(kt.HyperModel):
        stopped = _Stopped

        def __init__(self) -> None:
            super().__init__(name="layerlab")
            self.record: dict[str, Any] = {}
            #: True while Keras Tuner builds models only to learn the space (as the tuner
            #: is made): every hyperparameter is declared up front, so no real model is
            #: needed then, and the first values may be ones that fail
            self.declaring = False

        def declare_hyperparameters(self, hp: Any) -> None:
            for dim in search.space:
                declare(hp, dim)

        def applied(self, hp: Any) -> Project:
            return apply_values(project, {dim.path: declare(hp, dim) for dim in search.space})

        def build(self, hp: Any) -> Any:
            if self.declaring:
                self.declare_hyperparameters(hp)
                return keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
            try:
                trial = self.applied(hp)
                if trial.fit.seed is not None:
                    keras.utils.set_random_seed(int(trial.fit.seed))
                model = build_model(trial.model)
                compile_model(model, trial.compile)
                return model
            except Exception as exc:  # noqa: BLE001 - a failed trial, in words
                self.record["message"] = _explain(exc)
                raise kt.errors.FailedTrialError(self.record["message"]) from exc

        def fit(self, hp: Any, model: Any, *args: Any, **kwargs: Any) -> Any:
            trial = self.applied(hp)
            callbacks = [*kwargs.pop("callbacks", []), _Watch(self.record),
                         keras.callbacks.TerminateOnNaN(), *_user_callbacks(trial)]
            try:
                return model.fit(**_fit_arguments(trial, dataset, hp.values, kwargs),
                                 callbacks=callbacks)
            except _Stopped:
                raise
            except kt.errors.FatalError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed trial, in words
                self.record["message"] = _explain(exc)
                raise kt.errors.FailedTrialError(self.record["message"]) from exc

    return LayerLabHyperModel()


def _fit_arguments(trial: Project, dataset: Any, hp_values: dict[str, Any],
                   given: dict[str, Any]) -> dict[str, Any]:
    """`model.fit`'s arguments for a trial: the trial's fit settings on the project's data,
    with Keras Tuner's own epochs where it sets them (Hyperband)."""
    fit = trial.fit
    batch = int(fit.batch_size)
    kwargs: dict[str, Any] = {"epochs": int(fit.epochs), "verbose": 0}
    if "tuner/epochs" in hp_values:
        kwargs["epochs"] = int(given.get("epochs", hp_values["tuner/epochs"]))
        kwargs["initial_epoch"] = int(given.get("initial_epoch", 0))
    if getattr(dataset, "streamed", False):  # a folder of images, read as training reads it
        from ..core.training.image_pipeline import part_batches

        repeat = bool(fit.steps_per_epoch)
        kwargs["x"] = part_batches(dataset, "train", batch, bool(fit.shuffle), fit.seed, repeat)
        validation = part_batches(dataset, "val", batch)
    else:
        kwargs.update(x=dataset.x_train, y=dataset.y_train, batch_size=batch,
                      shuffle=bool(fit.shuffle))
        validation = (dataset.x_val, dataset.y_val) if dataset.x_val is not None else None
    if validation is not None:
        kwargs["validation_data"] = validation
    if fit.steps_per_epoch:
        kwargs["steps_per_epoch"] = int(fit.steps_per_epoch)
    weights = _class_weight(fit.class_weight, dataset)
    if weights is not None:
        kwargs["class_weight"] = weights
    return kwargs


def _class_weight(setting: Any, dataset: Any) -> dict[int, float] | None:
    if setting is None or dataset.num_classes is None:
        return None
    if setting == "balanced":
        from ..core.data import compute_class_weight

        return compute_class_weight(dataset.y_train, dataset.num_classes)
    given = {int(k): float(v) for k, v in setting.items()}
    return {k: given.get(k, 1.0) for k in range(dataset.num_classes)}


def _user_callbacks(trial: Project) -> list[Any]:
    """The project's callbacks that watch a run (EarlyStopping, ReduceLROnPlateau...); the
    ones that write files are left out, as every trial would write over the last."""
    import keras

    from ..core.paths import WRITE_ARGS
    from ..core.spec import ObjectSpec

    made = []
    for item in trial.fit.callbacks or []:
        spec = ObjectSpec.from_json(item)
        cls = getattr(keras.callbacks, spec.type, None)
        if spec.type in WRITE_ARGS or cls is None:
            continue
        made.append(cls(**{k: tuple(v) if isinstance(v, list) else v
                           for k, v in spec.args.items()}))
    return made


def _explain(exc: BaseException) -> str:
    from ..core.build import BuildError
    from ..core.search import SearchError
    from ..core.training import explain_error

    if isinstance(exc, (BuildError, SearchError)):
        return str(exc)

    try:
        return explain_error(exc)
    except Exception:  # noqa: BLE001 - the plain message then
        return f"{type(exc).__name__}: {exc}"


# -- the tuner --------------------------------------------------------------------------------

def make_tuner(project: Project, hypermodel: Any, directory: Path, emit: Listener,
               stop: threading.Event, max_trials: int | None = None) -> Any:
    """The Keras Tuner tuner the search names, reporting each trial to `emit`.

    Keras Tuner reloads the folder's state when there is some (`overwrite=False`): a search
    started again continues. Its "Reloading Tuner" line on standard output is kept off
    `layerlab tune --json`'s output.
    """
    import keras_tuner as kt

    search = project.search
    assert search is not None
    bases = {"random": kt.RandomSearch, "hyperband": kt.Hyperband,
             "bayesian": kt.BayesianOptimization}
    base = bases[search.tuner]
    objective = kt.Objective(search.objective, objective_direction(search.objective))
    trials = int(max_trials or search.max_trials)
    options: dict[str, Any] = {
        # Keras Tuner takes seed 0 for "none" (`seed or random...`): the project's seed + 1
        # makes seed 0 draw the same trials every time too
        "objective": objective,
        "seed": None if project.fit.seed is None else int(project.fit.seed) + 1,
        "max_consecutive_failed_trials": MAX_FAILED_IN_A_ROW,
        "directory": str(directory), "project_name": search_key(project),
        "overwrite": False,
    }
    if search.tuner == "hyperband":
        options["max_epochs"] = int(project.fit.epochs)
    else:
        options["max_trials"] = trials
    options["executions_per_trial"] = search.executions_per_trial

    class Tuner(_Reporting, base):  # type: ignore[misc, valid-type]
        pass

    from keras_tuner.src import config as kt_config

    kt_config.DEBUG = False  # on by default: each failed trial's traceback on stderr; the
    # failure reaches the person as the trial's message instead
    hypermodel.declaring = True
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            tuner = Tuner(hypermodel, **options)
    finally:
        hypermodel.declaring = False
    tuner.layerlab_setup(search, emit, stop)
    if search.tuner == "hyperband":
        tuner.oracle.max_trials = trials  # Hyperband counts its own; this caps it
    return tuner


class _Reporting:
    """Mixed into a Keras Tuner tuner: a TrialEvent as each trial begins and ends, a stop
    between trials, and each trial's record written beside Keras Tuner's."""

    def layerlab_setup(self, search: SearchSpec, emit: Listener, stop: threading.Event) -> None:
        self._ll_search = search
        self._ll_emit = emit
        self._ll_stop = stop
        self._ll_started: dict[str, float] = {}
        self.current: Any = None

    def _configure_tensorboard_dir(self, callbacks: Any, trial: Any, execution: int = 0) -> None:
        """Nothing: Keras Tuner 1.4 imports TensorBoard here for every trial on TensorFlow,
        to patch TensorBoard callbacks; a search passes it none (a project's TensorBoard
        callback is left out: every trial would write over the last), and TensorBoard is
        not installed with LayerLab."""

    def pre_create_trial(self) -> None:
        if self._ll_stop.is_set():
            raise self.hypermodel.stopped("the search was stopped")
        super().pre_create_trial()  # type: ignore[misc]

    def on_trial_begin(self, trial: Any) -> None:
        self._ll_started[trial.trial_id] = time.perf_counter()
        self.current = trial
        self.hypermodel.record = {}
        self._ll_emit(TrialEvent(number_of(trial), trial_values(self._ll_search,
                                                                 trial.hyperparameters.values),
                                 None, "running", 0.0, worker=str(self.tuner_id)))
        super().on_trial_begin(trial)  # type: ignore[misc]

    def on_trial_end(self, trial: Any) -> None:
        seconds = time.perf_counter() - self._ll_started.pop(trial.trial_id, time.perf_counter())
        record = dict(self.hypermodel.record)
        write_record(Path(self.get_trial_dir(trial.trial_id)), seconds, record,  # type: ignore[attr-defined]
                     str(self.tuner_id))
        self.current = None
        super().on_trial_end(trial)  # type: ignore[misc]
        ended = self.oracle.get_trial(trial.trial_id)  # type: ignore[attr-defined]
        self._ll_emit(trial_event(self._ll_search, ended, seconds, record, str(self.tuner_id)))


def number_of(trial: Any) -> int:
    """A trial's number, from 1: Keras Tuner's ids count the trials from "0"."""
    try:
        return int(str(trial.trial_id)) + 1
    except ValueError:
        return 0


def write_record(trial_dir: Path, seconds: float, record: dict[str, Any], worker: str) -> None:
    doc = {"seconds": seconds, "history": record.get("history", {}),
           "message": record.get("message", ""), "worker": worker}
    try:
        (trial_dir / TRIAL_FILE).write_text(json.dumps(_finite(doc)), encoding="utf-8")
    except OSError:
        log.warning("could not write the record of a trial in %s", trial_dir, exc_info=True)


def read_record(trial_dir: Path) -> dict[str, Any]:
    """A trial's record (`write_record`), or {} when there is none or it is not ours."""
    path = trial_dir / TRIAL_FILE
    try:
        if path.is_symlink() or path.stat().st_size > 8 * 1024 * 1024:
            return {}
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(doc, dict):
        return {}
    history = doc.get("history")
    if not isinstance(history, dict) or not all(
            isinstance(k, str) and isinstance(v, list) for k, v in history.items()):
        history = {}
    return {"seconds": doc.get("seconds") if isinstance(doc.get("seconds"), (int, float))
            else 0.0,
            "history": {k: [float(x) if isinstance(x, (int, float)) else math.nan for x in v]
                        for k, v in history.items()},
            "message": str(doc.get("message") or "")[:2000],
            "worker": str(doc.get("worker") or "")[:64]}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def trial_event(search: SearchSpec, trial: Any, seconds: float, record: dict[str, Any],
                worker: str, earlier: bool = False) -> TrialEvent:
    """A TrialEvent for a Keras Tuner trial that has ended (or was abandoned)."""
    status = str(getattr(trial.status, "value", trial.status)).upper()
    mapped = {"COMPLETED": "completed", "RUNNING": "stopped", "IDLE": "stopped",
              "STOPPED": "stopped"}.get(status, "failed")
    score = trial.score if mapped == "completed" else None
    message = record.get("message", "")
    history = record.get("history", {})
    if mapped == "failed" and not message:
        losses = history.get("loss", [])
        if losses and not all(math.isfinite(v) for v in losses):
            message = "the loss stopped being a number (NaN): a smaller learning rate helps"
        else:
            message = _last_line(getattr(trial, "message", "") or "") or "the trial failed"
    return TrialEvent(number_of(trial), trial_values(search, trial.hyperparameters.values),
                      None if score is None else float(score), mapped, float(seconds),
                      history, message, worker, earlier)


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


def ended_trials(oracle: Any, search: SearchSpec, directory: Path, earlier: bool
                 ) -> list[TrialEvent]:
    """Every trial the oracle holds, in order, as TrialEvents (their records read back)."""
    events = []
    for trial_id in sorted(oracle.trials, key=lambda t: int(t) if str(t).isdigit() else 0):
        trial = oracle.trials[trial_id]
        record = read_record(directory / f"trial_{trial_id}")
        events.append(trial_event(search, trial, float(record.get("seconds") or 0.0), record,
                                  str(record.get("worker", "")), earlier))
    return events


def done_event(search: SearchSpec, trials: list[TrialEvent], status: str, message: str,
               directory: Path, seconds: float) -> SearchDone:
    direction = objective_direction(search.objective)
    best = best_trial(trials, direction)
    return SearchDone(status, message, search.objective, direction,
                      dict(best.values) if best else None, best.score if best else None,
                      tuple(t.summary() for t in sorted(trials, key=lambda t: t.number)),
                      str(directory), seconds)


# -- one search on its own thread ------------------------------------------------------------

class SearchRun:
    """Runs a project's search on a thread of its own and streams its events.

    Args:
        project: the project, with a `search` section.
        directory: the search's folder (`core.search_folder.search_folder`, prepared by the
            caller with `prepare_folder`).
        base_dir: the project file's folder (relative data paths are read there).
        dataset: the data, when the caller has it loaded.
        max_trials: trials in all (None: the project's `search.max_trials`).
    """

    def __init__(self, project: Project, directory: Path, base_dir: Path | None = None,
                 dataset: Any = None, max_trials: int | None = None) -> None:
        if project.search is None:
            raise SearchError("search: expected a search section saying what to search; "
                              "turn a setting into a search first")
        self.project = project
        self.directory = Path(directory)
        self.base_dir = base_dir
        self.dataset = dataset
        self.max_trials = max_trials
        self.stop_flag = threading.Event()
        self.done: SearchDone | None = None
        self._listeners: list[Listener] = []
        self._trials: dict[int, TrialEvent] = {}
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: Any) -> None:
        if isinstance(event, TrialEvent):
            self._trials[event.number] = event
        for listener in tuple(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - a broken view must not end the search
                log.exception("a search listener failed on %s", type(event).__name__)

    def start(self) -> SearchRun:
        self._thread = threading.Thread(target=self._main, name="layerlab-search", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Ends the search after the current batch; the trial in progress is abandoned."""
        self.stop_flag.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def run(self) -> SearchDone:
        """Runs the search on the calling thread (a `layerlab tune` worker)."""
        self._main()
        assert self.done is not None
        return self.done

    def _main(self) -> None:
        started = time.perf_counter()
        search = self.project.search
        assert search is not None
        status, message = "completed", ""
        tuner = None
        try:
            from ..core.training import quiet_blas

            quiet_blas()
            # TensorFlow warns of retracing when a search builds one model after another,
            # which is what it is for: say nothing
            logging.getLogger("tensorflow").setLevel(logging.ERROR)
            dataset = self._data()
            hypermodel = make_hypermodel(self.project, dataset, self.stop_flag, self.base_dir)
            tuner = make_tuner(self.project, hypermodel, self.directory, self._emit,
                               self.stop_flag, self.max_trials)
            if not _is_worker():
                for event in ended_trials(tuner.oracle, search, Path(tuner.project_dir), True):
                    self._emit(event)
            tuner.search(verbose=0)
        except Exception as exc:  # noqa: BLE001 - every end is an event, in words
            status, message = self._ending(exc, tuner)
        if not message:
            message = self._summary(status)
        trials = list(self._trials.values())
        if tuner is not None and not _is_worker():
            trials = self._all_trials(tuner, search)
        self.done = done_event(search, trials, status, message, self.directory,
                               time.perf_counter() - started)
        self._emit(self.done)
        self._finished.set()

    def _data(self) -> Any:
        if self.dataset is not None:
            return self.dataset
        from ..core.data import load_dataset

        self.dataset = load_dataset(self.project.data or None, self.base_dir)
        search = self.project.search
        assert search is not None
        if search.objective.startswith("val_") and getattr(self.dataset, "x_val", None) is None:
            raise SearchError(f"search.objective: expected a quantity without 'val_' for data "
                              f"without a validation part, got {search.objective!r}; set "
                              "data.validation_split above 0, or search by 'loss'")
        return self.dataset

    def _ending(self, exc: BaseException, tuner: Any) -> tuple[str, str]:
        """How the search ended, for an exception out of `search` (Stop is one)."""
        import keras_tuner as kt

        current = getattr(tuner, "current", None) if tuner is not None else None
        if self.stop_flag.is_set() and isinstance(exc, kt.errors.FatalError):
            if current is not None:
                search = self.project.search
                assert search is not None
                began = tuner._ll_started.get(current.trial_id)
                seconds = time.perf_counter() - began if began is not None else 0.0
                self._emit(trial_event(search, current, seconds, dict(tuner.hypermodel.record),
                                       str(tuner.tuner_id)))
            done = sum(t.status != "stopped" for t in self._trials.values())
            return "stopped", (f"stopped after {done} trial(s); the trials are kept: Continue "
                               "goes on from here")
        if isinstance(exc, (SearchError,)) or type(exc).__name__ == "DataError":
            problems = getattr(exc, "problems", None)
            return "failed", str(problems[0] if problems else exc)
        if isinstance(exc, RuntimeError) and "consecutive" in str(exc).lower():
            last = [t for t in self._trials.values() if t.status == "failed"]
            why = f": {last[-1].message}" if last and last[-1].message else ""
            return "failed", f"{MAX_FAILED_IN_A_ROW} trials in a row failed{why}"
        log.debug("the search failed", exc_info=True)
        text = _explain(exc) if not isinstance(exc, kt.errors.FatalError) else str(exc)
        return "failed", f"the search could not go on: {text or traceback.format_exc(limit=1)}"

    def _summary(self, status: str) -> str:
        done = [t for t in self._trials.values() if not t.earlier]
        failed = sum(t.status == "failed" for t in done)
        text = f"{len(done)} trial(s) ran"
        return text + (f", {failed} failed" if failed else "") + \
            ("" if status == "completed" else f" ({status})")

    def _all_trials(self, tuner: Any, search: SearchSpec) -> list[TrialEvent]:
        """The oracle's trials (earlier sessions included), with this session's events
        standing for the trials they describe (an abandoned one stays "stopped")."""
        merged = {t.number: t for t in ended_trials(tuner.oracle, search,
                                                    Path(tuner.project_dir), True)}
        merged.update({n: t for n, t in self._trials.items() if not t.earlier
                       and t.status != "running"})
        return list(merged.values())


def _is_worker() -> bool:
    """True in a process that Keras Tuner's environment makes a worker of a chief."""
    return bool(os.environ.get("KERASTUNER_ORACLE_IP")) and \
        "chief" not in os.environ.get("KERASTUNER_TUNER_ID", "chief")


def start_search(project: Project, project_path: str | None, base_dir: Path | None,
                 max_trials: int | None, listener: Listener) -> SearchRun:
    """The engine's search for the window: its folder beside the project (a temporary one
    for a project not saved yet), its events to `listener`, started.

    The window's engine is never a chief's worker, whatever its environment says.
    """
    import tempfile

    from ..core.search_folder import prepare_folder, search_folder

    for name in CLUSTER_ENV:
        os.environ.pop(name, None)
    if project_path:
        folder = prepare_folder(search_folder(project_path), Path(project_path).resolve().parent)
    else:
        parent = Path(tempfile.mkdtemp(prefix="layerlab-search-"))
        folder = prepare_folder(parent / "untitled.search", parent)
    run = SearchRun(project, folder, base_dir, max_trials=max_trials)
    run.subscribe(listener)
    return run.start()
