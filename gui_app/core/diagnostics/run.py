"""Training a project in this thread with diagnostics on: for the benchmark, tests and CLI.

The window trains through `TrainingSession`, on its worker thread, and wires the callback
and the detector there (see the package docstring). This module does the same with a
plain `model.fit` in the calling thread, so the benchmark and the tests can train a
project, watch the findings appear and check them, without a session. Keras is imported
inside the functions only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..spec import ObjectSpec, Project
from .detect import Diagnoser, Finding, RunContext, context_for
from .stats import (
    DEFAULT_EVERY,
    EpochLogs,
    Sample,
    StatsCollector,
    diagnostics_callback,
    pick_probe,
)


@dataclass
class DiagnosedRun:
    """What one diagnosed run produced.

    Attributes:
        project: the project trained.
        context: what the detector knew about the run.
        stream: every sample and epoch's logs, in the order the detector got them.
        samples: every statistics sample, in order.
        epochs: every epoch's logs, in order.
        changes: every finding as it appeared, changed or was resolved, in order.
        findings: the findings at the end (active and resolved), by code.
        seconds: wall time of `fit`.
        sampling_seconds: of which the samples took this much.
    """

    project: Project
    context: RunContext | None = None
    stream: list[Sample | EpochLogs] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    epochs: list[EpochLogs] = field(default_factory=list)
    changes: list[Finding] = field(default_factory=list)
    findings: dict[str, Finding] = field(default_factory=dict)
    seconds: float = 0.0
    sampling_seconds: float = 0.0

    def first_epoch(self, code: str) -> int | None:
        """The epoch (from 0) in which `code` was first reported, or None."""
        for finding in self.changes:
            if finding.code == code:
                return finding.epoch
        return None

    def raised(self) -> list[str]:
        """Every code reported at some point in the run, in order of first report."""
        return list(dict.fromkeys(f.code for f in self.changes))


def diagnose(project: Project, epochs: int | None = None, every: int = DEFAULT_EVERY,
             budget: float | None = None, base_dir: Path | None = None,
             dataset: Any = None, on_change: Callable[[Finding], None] | None = None,
             ) -> DiagnosedRun:
    """Builds, compiles and trains `project` with `model.fit` and diagnostics on.

    Args:
        project: the project (its data, model, compile and fit sections).
        epochs: epochs to train, or the project's `fit.epochs` (for virtual epochs, their
            stop point: as many passes over the data, in ordinary epochs).
        every: batches between two samples inside an epoch.
        budget: share of wall time the samples may take; None (the default here) samples
            on a fixed schedule, so a seeded run reports the same findings every time.
        base_dir: the project's folder, for a relative data path.
        dataset: an already loaded `data.Dataset` (the benchmark reuses one).
        on_change: called with each finding as it appears, changes or is resolved.
    """
    import keras

    from ..build import build_model, compile_model
    from ..data import compute_class_weight, load_dataset

    ds = dataset if dataset is not None else load_dataset(project.data, base_dir)
    keras.backend.clear_session()
    seed = project.fit.seed
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    model = build_model(project.model)
    compile_model(model, project.compile)
    virtual = project.fit.virtual_epochs
    default = int(virtual["stop_point"]) if virtual else int(project.fit.epochs)
    run_epochs = int(epochs if epochs is not None else default)
    batch = int(project.fit.batch_size)
    steps = -(-len(ds.x_train) // batch)
    context = context_for(project, ds.y_train, ds.task, run_epochs)
    out = DiagnosedRun(project, context)
    diagnoser = Diagnoser(context)

    def sink(item: Sample | EpochLogs) -> None:
        out.stream.append(item)
        changed = diagnoser.add(item)
        out.changes.extend(changed)
        if on_change is not None:
            for finding in changed:
                on_change(finding)

    x_probe, y_probe = pick_probe(ds.x_train, ds.y_train, seed=int(seed or 0))
    collector = StatsCollector(x_probe, y_probe, sink)
    callback = diagnostics_callback(collector, every, budget, steps)
    kwargs: dict[str, Any] = {"epochs": run_epochs, "batch_size": batch, "verbose": 0,
                              "shuffle": bool(project.fit.shuffle),
                              "callbacks": [*_training_callbacks(project), callback]}
    if ds.x_val is not None:
        kwargs["validation_data"] = (ds.x_val, ds.y_val)
    weights = project.fit.class_weight
    if weights == "balanced" and ds.num_classes:
        kwargs["class_weight"] = compute_class_weight(ds.y_train, ds.num_classes)
    elif isinstance(weights, dict):
        kwargs["class_weight"] = {int(k): float(v) for k, v in weights.items()}
    started = time.perf_counter()
    model.fit(ds.x_train, ds.y_train, **kwargs)
    out.seconds = time.perf_counter() - started
    out.sampling_seconds = collector.cost + collector.warmup
    out.samples = collector.samples
    out.epochs = collector.epochs
    out.findings = diagnoser.by_code()
    return out


#: The project's callbacks that change how training goes; the ones that only write files
#: (ModelCheckpoint, CSVLogger, TensorBoard) are left out of a diagnosed run.
STEERING = ("EarlyStopping", "ReduceLROnPlateau", "TerminateOnNaN")


def _training_callbacks(project: Project) -> list[Any]:
    import keras

    made = []
    for item in project.fit.callbacks or []:
        spec = ObjectSpec.from_json(item)
        if spec.type in STEERING:
            made.append(getattr(keras.callbacks, spec.type)(**dict(spec.args)))
    return made
