"""Live diagnostics: does each broken project raise its problem, early, and nothing else?

Trains, in this process with real Keras `fit` and the diagnostics callback
(`gui_app.core.diagnostics.run.diagnose`, fixed seeds, a fixed sampling schedule):

- broken projects, each made to fail in one known way, with the code it must raise;
- the ten bundled lessons, which must raise nothing (lesson 6a shows overfitting on
  purpose: it is listed, and counted apart);
- held-back broken projects, written after the thresholds were fixed and never used to
  tune them, reported separately: the honest estimate of how the detector generalises.

For each it prints the codes raised, the epoch at which the expected one was first
reported and that epoch as a share of the run (goal: every problem found with its code,
none on the lessons, each within the first 30 % of its epochs).

The overhead arm trains the circle lesson and the 784-300-100-10 MLP with and without the
callback, interleaved and repeated, and prints the median wall and CPU times and their
ratio (goal: at most 1.03), with the callback as the live view would run it (a sample every
`DEFAULT_EVERY` batches and at epoch ends, within `DEFAULT_BUDGET` of the time).

`--fixes` also applies each broken project's fixes, one at a time in the order offered,
and trains again: it reports the first that makes the code go away.

Run (from the repository root):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/diagnostics.py            # all
    .venv/bin/python benchmarks/diagnostics.py --quick       # shorter lessons, 1 repeat
    .venv/bin/python benchmarks/diagnostics.py --only broken held-back --fixes
    .venv/bin/python benchmarks/diagnostics.py --only overhead --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402

from gui_app.core.data import Dataset, load_dataset  # noqa: E402
from gui_app.core.diagnostics.fixes import apply_fix  # noqa: E402
from gui_app.core.diagnostics.run import DiagnosedRun, diagnose  # noqa: E402
from gui_app.core.diagnostics.stats import (  # noqa: E402
    DEFAULT_BUDGET,
    DEFAULT_EVERY,
    StatsCollector,
    diagnostics_callback,
    pick_probe,
)
from gui_app.core.lessons import list_examples, load_example  # noqa: E402
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project  # noqa: E402

GOAL_SHARE = 0.3  # report within the first 30 % of the epochs


# -- building broken projects ---------------------------------------------------------------

def dense(units: int, activation: str | None = None, **args: Any) -> LayerSpec:
    """A Dense layer spec."""
    if activation:
        args["activation"] = activation
    return LayerSpec("Dense", {"units": units, **args})


def project(name: str, layers: list[LayerSpec], data: dict[str, Any], *, optimizer: str = "Adam",
            lr: float | None = None, loss: str = "binary_crossentropy", epochs: int = 30,
            batch: int = 32, inputs: tuple[int, ...] = (2,), metrics: tuple[str, ...] = ("accuracy",),
            **optimizer_args: Any) -> Project:
    """A project on `data` (a data section: seed 0 and a 20 % validation part by default)."""
    args = dict(optimizer_args)
    if lr is not None:
        args["learning_rate"] = lr
    return Project(
        name=name,
        model=ModelSpec(inputs, tuple(layers)),
        compile=CompileSpec(ObjectSpec(optimizer, args), ObjectSpec(loss),
                            tuple(ObjectSpec(m) for m in metrics)),
        data={"seed": 0, "validation_split": 0.2, **data},
        fit={"epochs": epochs, "batch_size": batch, "seed": 0},
    )


CIRCLE = {"source": "circle", "samples": 500, "noise": 0.1}
MOONS = {"source": "moons", "samples": 500, "noise": 0.2}
XOR = {"source": "xor", "samples": 500, "noise": 0.05}
SPIRAL = {"source": "spiral", "samples": 600, "noise": 0.05, "standardize": True}
HOUSING_RAW = {"source": "housing", "samples": 500, "noise": 0.1}  # inputs 30-200, not scaled
DIGITS = {"source": "digits", "standardize": True}


@dataclass(frozen=True)
class Case:
    """A project that breaks training in one known way, and the code(s) it must raise."""

    name: str
    why: str
    expect: tuple[str, ...]
    project: Project


def _relu_circle(**kw: Any) -> list[LayerSpec]:
    return [dense(8, "relu", **kw), dense(8, "relu", **kw), dense(1, "sigmoid")]


def broken_cases() -> list[Case]:
    """The projects the thresholds were tuned on (see the report for each one's numbers)."""
    return [
        Case("sigmoid-10-circle", "10 sigmoid layers of 16 on the circle",
             ("vanishing_gradients",),
             project("sigmoid10", [dense(16, "sigmoid") for _ in range(10)] + [dense(1, "sigmoid")],
                     CIRCLE, lr=0.01)),
        Case("sigmoid-8-moons-sgd", "8 sigmoid layers, SGD at 0.1, on the moons",
             ("vanishing_gradients",),
             project("sigmoid8", [dense(16, "sigmoid") for _ in range(8)] + [dense(1, "sigmoid")],
                     MOONS, optimizer="SGD", lr=0.1)),
        Case("sgd-lr10", "SGD at learning rate 10 on the circle",
             ("exploding_gradients", "nan_loss"),
             project("sgd-lr10", _relu_circle(), CIRCLE, optimizer="SGD", lr=10.0, epochs=20)),
        Case("adam-lr1", "Adam at learning rate 1.0, three ReLU layers of 16",
             ("exploding_gradients", "nan_loss"),
             project("adam-lr1", [dense(16, "relu") for _ in range(3)] + [dense(1, "sigmoid")],
                     CIRCLE, lr=1.0, epochs=20)),
        Case("sgd-housing-raw-nan", "SGD at 0.01, squared error, linear layers, unscaled inputs",
             ("nan_loss",),
             project("nan", [dense(16), dense(1)], HOUSING_RAW, optimizer="SGD", lr=0.01,
                     loss="mean_squared_error", metrics=("mae",), epochs=20)),
        Case("relu-zeros", "ReLU layers whose weights start at 0: silent from the start",
             ("dying_relu",),
             project("relu-zeros", [dense(16, "relu", kernel_initializer="zeros"),
                                    dense(16, "relu", kernel_initializer="zeros"),
                                    dense(1, "sigmoid")], CIRCLE, lr=0.01, epochs=20)),
        Case("adam-lr0.3-relu", "Adam at 0.3 kills most ReLU units of the second layer",
             ("dying_relu",),
             project("adam-lr0.3", _relu_circle(), CIRCLE, lr=0.3)),
        Case("tanh-housing-raw", "tanh layers on unscaled inputs (areas of 30-200)",
             ("saturation",),
             project("tanh-raw", [dense(16, "tanh"), dense(16, "tanh"), dense(1)], HOUSING_RAW,
                     lr=0.01, loss="mean_squared_error", metrics=("mae",))),
        Case("tanh-ones-housing-raw", "tanh units whose weights start at 1, on unscaled inputs",
             ("saturation",),
             project("tanh-ones", [dense(16, "tanh", kernel_initializer="ones"), dense(1)],
                     HOUSING_RAW, lr=0.01, loss="mean_squared_error", metrics=("mae",))),
        Case("sgd-momentum-lr2", "SGD at 2.0 with momentum 0.9, tanh layer of 16",
             ("oscillating_loss",),
             project("sgd-osc", [dense(16, "tanh"), dense(1, "sigmoid")], CIRCLE, optimizer="SGD",
                     lr=2.0, momentum=0.9)),
        Case("rmsprop-lr0.5-xor", "RMSprop at 0.5 on the XOR data",
             ("oscillating_loss",),
             project("rmsprop-osc", [dense(16, "tanh"), dense(1, "sigmoid")], XOR,
                     optimizer="RMSprop", lr=0.5)),
        Case("adam-lr1e-6", "Adam at learning rate 1e-6 on the circle",
             ("slow_convergence",),
             project("lr1e-6", _relu_circle(), CIRCLE, lr=1e-6)),
        Case("sgd-lr1e-5-digits", "SGD at 1e-5 on the digits",
             ("slow_convergence",),
             project("sgd-slow", [dense(32, "relu"), dense(10, "softmax")], DIGITS, optimizer="SGD",
                     lr=1e-5, loss="sparse_categorical_crossentropy", inputs=(64,), epochs=20)),
        Case("tanh-zeros", "every weight starts at 0: no gradient reaches any kernel",
             ("plateau",),
             project("zeros", [dense(16, "tanh", kernel_initializer="zeros"),
                               dense(16, "tanh", kernel_initializer="zeros"),
                               dense(1, "sigmoid", kernel_initializer="zeros")], CIRCLE, lr=0.01)),
        Case("linear-zeros-moons", "linear layers whose weights all start at 0",
             ("plateau",),
             project("zeros-linear", [dense(16, kernel_initializer="zeros"),
                                      dense(16, kernel_initializer="zeros"),
                                      dense(1, "sigmoid", kernel_initializer="zeros")], MOONS,
                     lr=0.01)),
        Case("2000-units-60-samples", "2,000 ReLU units on 30 training samples of the moons",
             ("overfitting",),
             project("overfit", [dense(2000, "relu"), dense(1, "sigmoid")],
                     {"source": "moons", "samples": 60, "noise": 0.35, "validation_split": 0.5},
                     lr=0.01, epochs=100, batch=16)),
        Case("3x256-xor-40", "three ReLU layers of 256 on 40 noisy XOR samples",
             ("overfitting",),
             project("overfit-xor", [dense(256, "relu") for _ in range(3)] + [dense(1, "sigmoid")],
                     {"source": "xor", "samples": 80, "noise": 0.3, "validation_split": 0.5},
                     lr=0.01, epochs=100, batch=16)),
        Case("linear-spiral", "a single sigmoid unit (a straight line) on the spiral",
             ("underfitting",),
             project("linear-spiral", [dense(1, "sigmoid")], SPIRAL, lr=0.01, epochs=60)),
        Case("linear-circle", "a single sigmoid unit (a straight line) on the circle",
             ("underfitting",),
             project("linear-circle", [dense(1, "sigmoid")], CIRCLE, lr=0.01, epochs=40)),
    ]


def held_back_cases() -> list[Case]:
    """Written after the thresholds were fixed; never used to tune them."""
    gaussian = {"source": "gaussian", "samples": 80, "noise": 0.3, "validation_split": 0.5}
    return [
        Case("tanh-12-xor-sgd", "12 tanh layers of 16, SGD at 0.05, on the XOR data",
             ("vanishing_gradients",),
             project("tanh12", [dense(16, "tanh") for _ in range(12)] + [dense(1, "sigmoid")],
                     XOR, optimizer="SGD", lr=0.05)),
        Case("sigmoid-6-digits-sgd", "6 sigmoid layers of 64, SGD at 0.1, on the digits",
             ("vanishing_gradients",),
             project("sigmoid6", [dense(64, "sigmoid") for _ in range(6)] + [dense(10, "softmax")],
                     DIGITS, optimizer="SGD", lr=0.1, loss="sparse_categorical_crossentropy",
                     inputs=(64,), epochs=20)),
        Case("rmsprop-lr10-circle", "RMSprop at learning rate 10 on the circle",
             ("exploding_gradients", "nan_loss"),
             project("rmsprop10", _relu_circle(), CIRCLE, optimizer="RMSprop", lr=10.0,
                     epochs=20)),
        Case("sgd-lr2-relu-moons", "SGD at 2.0 on three ReLU layers of 32, the moons",
             ("dying_relu", "exploding_gradients"),
             project("sgd2", [dense(32, "relu") for _ in range(3)] + [dense(1, "sigmoid")],
                     MOONS, optimizer="SGD", lr=2.0, epochs=20)),
        Case("sigmoid-ones-digits-raw", "sigmoid units whose weights start at 1, raw digits",
             ("saturation",),
             project("sigmoid-ones", [dense(32, "sigmoid", kernel_initializer="ones"),
                                      dense(10, "softmax")], {"source": "digits"}, lr=0.01,
                     loss="sparse_categorical_crossentropy", inputs=(64,), epochs=20)),
        Case("sgd-momentum-0.99-moons", "SGD at 1.0 with momentum 0.99 on the moons",
             ("oscillating_loss",),
             project("sgd-osc2", [dense(16, "relu"), dense(1, "sigmoid")], MOONS,
                     optimizer="SGD", lr=1.0, momentum=0.99)),
        Case("adam-lr3e-7-moons", "Adam at 3e-7 on the moons", ("slow_convergence",),
             project("lr3e-7", [dense(16, "relu"), dense(16, "relu"), dense(1, "sigmoid")],
                     MOONS, lr=3e-7)),
        Case("sgd-lr1e-6-sine", "SGD at 1e-6 on the sine regression", ("slow_convergence",),
             project("sine-slow", [dense(32, "tanh"), dense(1)],
                     {"source": "sine", "samples": 500, "noise": 0.1}, optimizer="SGD",
                     lr=1e-6, loss="mean_squared_error", metrics=("mae",), inputs=(1,))),
        Case("tanh-zeros-xor-sgd", "tanh layers starting at 0, SGD, on the XOR data",
             ("plateau",),
             project("zeros-xor", [dense(8, "tanh", kernel_initializer="zeros"),
                                   dense(1, "sigmoid", kernel_initializer="zeros")], XOR,
                     optimizer="SGD", lr=0.1)),
        Case("2x1500-gaussian-40", "two ReLU layers of 1,500 on 40 noisy gaussian samples",
             ("overfitting",),
             project("overfit-gauss", [dense(1500, "relu"), dense(1500, "relu"),
                                       dense(1, "sigmoid")], gaussian, lr=0.003, epochs=80,
                     batch=16)),
        Case("linear-xor", "a single sigmoid unit (a straight line) on the XOR data",
             ("underfitting",),
             project("linear-xor", [dense(1, "sigmoid")], XOR, lr=0.01, epochs=40)),
    ]


# -- running ----------------------------------------------------------------------------

@dataclass
class Row:
    """One project's result."""

    group: str
    name: str
    expect: tuple[str, ...]
    raised: list[str]
    first: int | None  # epoch (from 0) the expected code was first reported
    epochs: int
    seconds: float
    fixed: str = ""  # "gone", "still", "" (not tried)

    @property
    def hit(self) -> bool:
        return any(code in self.raised for code in self.expect)

    @property
    def share(self) -> float | None:
        return None if self.first is None else (self.first + 1) / self.epochs


def _epochs_of(p: Project, cap: int | None) -> int:
    virtual = p.fit.virtual_epochs
    epochs = int(virtual["stop_point"]) if virtual else int(p.fit.epochs)
    return min(epochs, cap) if cap else epochs


def run_case(group: str, name: str, expect: tuple[str, ...], p: Project, epochs: int,
             base_dir: Path | None = None, try_fix: bool = False) -> Row:
    """Trains one project with diagnostics and summarises what it raised."""
    run = diagnose(p, epochs=epochs, base_dir=base_dir)
    firsts = [e for e in (run.first_epoch(code) for code in expect) if e is not None]
    row = Row(group, name, expect, run.raised(), min(firsts) if firsts else None, epochs,
              run.seconds)
    if try_fix and row.hit:
        row.fixed = _retrain_fixed(run, expect, epochs, base_dir)
    return row


def _retrain_fixed(run: DiagnosedRun, expect: tuple[str, ...], epochs: int,
                   base_dir: Path | None) -> str:
    """Applies the expected finding's fixes in the order offered, training again after
    each, until one makes the code go away; says which (1 = the first offered)."""
    finding = next((run.findings[c] for c in expect if c in run.findings), None)
    if finding is None or not finding.fixes:
        return "no fix"
    for number, ref in enumerate(finding.fixes, 1):
        again = diagnose(apply_fix(run.project, ref), epochs=epochs, base_dir=base_dir)
        if finding.code not in again.raised():
            return f"gone with fix {number} of {len(finding.fixes)} ({ref.id})"
    return f"still, after each of {len(finding.fixes)} fixes"


def session_case(group: str, name: str, expect: tuple[str, ...], p: Project,
                 base_dir: Path | None) -> Row:
    """A project `diagnose` cannot train (a folder of images streams through tf.data):
    trained as the window trains it, a `TrainingSession` with its live diagnostics."""
    import threading

    from gui_app.core.diagnostics.events import RESOLVED, FindingEvent
    from gui_app.core.training import Failed, Finished, TrainingSession

    session = TrainingSession(p, base_dir=base_dir, progress_interval=0.05)
    seen: dict[str, tuple[str, int]] = {}  # code: (state, first epoch)
    done = threading.Event()

    def listen(event: object) -> None:
        if isinstance(event, FindingEvent):
            seen[event.code] = (event.state, seen.get(event.code, ("", event.since))[1])
        elif isinstance(event, (Finished, Failed)):
            done.set()

    session.subscribe(listen)
    start = time.perf_counter()
    try:
        session.start()
        done.wait(1800)
    finally:
        session.close()
    raised = [code for code, (state, _) in seen.items() if state != RESOLVED]
    firsts = [seen[c][1] for c in expect if c in seen]
    return Row(group, name, expect, raised, min(firsts) if firsts else None,
               int(p.fit.epochs), time.perf_counter() - start)


def lesson_rows(cap: int | None) -> list[Row]:
    rows = []
    for lesson in list_examples():
        p, _ = load_example(lesson.path)
        intended = tuple(item.code for item in p.intended)
        name = lesson.path.name.split(".")[0]
        if p.data.get("source") == "images":
            rows.append(session_case("lesson", name, intended, p, lesson.path.parent))
        else:
            rows.append(run_case("lesson", name, intended, p, _epochs_of(p, cap),
                                 lesson.path.parent))
        print(_line(rows[-1]), flush=True)
    return rows


def case_rows(group: str, cases: list[Case], try_fix: bool) -> list[Row]:
    rows = []
    for case in cases:
        rows.append(run_case(group, case.name, case.expect, case.project,
                             _epochs_of(case.project, None), try_fix=try_fix))
        print(_line(rows[-1]), flush=True)
    return rows


def _line(row: Row) -> str:
    raised = ", ".join(row.raised) or "-"
    if row.group == "lesson":
        verdict = ("intended" if row.expect and row.raised == list(row.expect)
                   else "ok" if not row.raised else "FALSE POSITIVE")
        return f"  {row.group:9s} {row.name:28s} {verdict:14s} raised: {raised}  ({row.seconds:.0f} s)"
    first = "-" if row.first is None else f"epoch {row.first + 1}/{row.epochs}"
    share = "" if row.share is None else f" ({100 * row.share:.0f} %)"
    verdict = "found" if row.hit else "MISSED"
    fixed = f"  fix: {row.fixed}" if row.fixed else ""
    return (f"  {row.group:9s} {row.name:28s} {verdict:6s} {'/'.join(row.expect):36s} "
            f"first {first}{share}  raised: {raised}{fixed}  ({row.seconds:.0f} s)")


def summary(rows: list[Row]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for group in ("broken", "held-back"):
        mine = [r for r in rows if r.group == group]
        if not mine:
            continue
        found = [r for r in mine if r.hit]
        early = [r for r in found if r.share is not None and r.share <= GOAL_SHARE]
        out[group] = {"cases": len(mine), "detected": len(found),
                      "within_30pct": len(early),
                      "first_epochs": {r.name: r.first for r in mine}}
        print(f"{group}: detected {len(found)}/{len(mine)} with the right code, "
              f"{len(early)}/{len(mine)} within the first {GOAL_SHARE:.0%} of the epochs")
    lessons = [r for r in rows if r.group == "lesson"]
    if lessons:
        false = [r for r in lessons if set(r.raised) - set(r.expect)]
        out["lessons"] = {"lessons": len(lessons), "false_positives": len(false),
                          "which": {r.name: r.raised for r in false}}
        print(f"lessons: {len(false)} of {len(lessons)} raised something they should not"
              + (f": {', '.join(r.name for r in false)}" if false else ""))
    return out


# -- the overhead arm ---------------------------------------------------------------------

def mlp_data(samples: int) -> tuple[Project, Dataset]:
    """The 784-300-100-10 MLP on random-but-fixed MNIST-shaped data (as
    training_overhead.py uses), with a 10 % validation part."""
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, samples).astype(np.int64)
    n_val = samples // 10
    dataset = Dataset(x[n_val:], y[n_val:], x[:n_val], y[:n_val], None, None, "multiclass", 10,
                      (), tuple(str(i) for i in range(10)), None, None, "random 784-feature data")
    p = project("MLP", [dense(300, "relu"), dense(100, "relu"), dense(10, "softmax")], {},
                loss="sparse_categorical_crossentropy", inputs=(784,), epochs=2)
    return p, dataset


def circle_lesson() -> tuple[Project, Dataset]:
    path = next(lesson.path for lesson in list_examples() if lesson.path.name.startswith("02a"))
    p, _ = load_example(path)
    return p, load_dataset(p.data)


def timed_fit(p: Project, ds: Dataset, with_callback: bool, budget: float | None
              ) -> tuple[float, float, int, float]:
    """Wall and CPU seconds of build + compile + fit, the samples taken and the seconds
    the sampling itself took (timed inside the callback, first sample included)."""
    import keras

    from gui_app.core.build import build_model, compile_model

    keras.backend.clear_session()
    start, cpu = time.perf_counter(), time.process_time()
    keras.utils.set_random_seed(0)
    model = build_model(p.model)
    compile_model(model, p.compile)
    callbacks, collector = [], None
    steps = -(-len(ds.x_train) // int(p.fit.batch_size))
    if with_callback:
        collector = StatsCollector(*pick_probe(ds.x_train, ds.y_train))
        callbacks.append(diagnostics_callback(collector, DEFAULT_EVERY, budget, steps))
    model.fit(ds.x_train, ds.y_train, validation_data=(ds.x_val, ds.y_val),
              epochs=int(p.fit.epochs), batch_size=int(p.fit.batch_size), verbose=0,
              callbacks=callbacks)
    return (time.perf_counter() - start, time.process_time() - cpu,
            len(collector.samples) if collector else 0,
            collector.cost + collector.warmup if collector else 0.0)


def overhead(repeats: int) -> list[dict[str, Any]]:
    from gui_app.core.training.hygiene import quiet_blas

    quiet_blas()  # as the session's worker does
    results = []
    arms: list[tuple[str, Callable[[], tuple[Project, Dataset]]]] = [
        ("circle lesson (60 epochs)", circle_lesson),
        ("784-300-100-10 MLP (2 epochs of 9,000)", lambda: mlp_data(10_000)),
    ]
    for name, make in arms:
        p, ds = make()
        sides = {"plain": lambda p=p, ds=ds: timed_fit(p, ds, False, None),
                 "budget": lambda p=p, ds=ds: timed_fit(p, ds, True, DEFAULT_BUDGET),
                 "fixed": lambda p=p, ds=ds: timed_fit(p, ds, True, None)}
        timed_fit(p, ds, True, None)  # warm-up: imports, kernels, the probe's first trace
        wall: dict[str, list[float]] = {k: [] for k in sides}
        cpu: dict[str, list[float]] = {k: [] for k in sides}
        samples: dict[str, int] = {}
        spent: dict[str, list[float]] = {k: [] for k in sides}
        keys = list(sides)
        for i in range(repeats):
            for key in keys[i % 3:] + keys[:i % 3]:  # rotate: drift hits every side alike
                seconds, used, n, own = sides[key]()
                wall[key].append(seconds)
                cpu[key].append(used)
                samples[key] = n
                spent[key].append(own)
        med = {k: statistics.median(v) for k, v in wall.items()}
        med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
        row = {"case": name, "plain_s": med["plain"], "samples": samples,
               "wall_ratio_budget": med["budget"] / med["plain"],
               "wall_ratio_fixed": med["fixed"] / med["plain"],
               "min_ratio_budget": min(wall["budget"]) / min(wall["plain"]),
               "min_ratio_fixed": min(wall["fixed"]) / min(wall["plain"]),
               "cpu_ratio_budget": med_cpu["budget"] / med_cpu["plain"],
               "cpu_ratio_fixed": med_cpu["fixed"] / med_cpu["plain"],
               # The callback's own time over the plain run's: what the ratio would be on
               # an idle machine, without the noise of other tenants.
               "own_share_budget": statistics.median(spent["budget"]) / med["plain"],
               "own_share_fixed": statistics.median(spent["fixed"]) / med["plain"]}
        results.append(row)
        print(f"  {name}: plain {med['plain']:.2f} s; with diagnostics, as the live view runs "
              f"it (budget {DEFAULT_BUDGET:.0%}): x{row['wall_ratio_budget']:.3f} wall, "
              f"x{row['min_ratio_budget']:.3f} fastest, x{row['cpu_ratio_budget']:.3f} CPU, "
              f"{samples['budget']} samples; every {DEFAULT_EVERY} batches and every epoch "
              f"end, no budget: x{row['wall_ratio_fixed']:.3f} wall, "
              f"x{row['min_ratio_fixed']:.3f} fastest, x{row['cpu_ratio_fixed']:.3f} CPU, "
              f"{samples['fixed']} samples; the sampling's own time: "
              f"{row['own_share_budget']:.1%} and {row['own_share_fixed']:.1%} of the plain run",
              flush=True)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="lessons capped at 60 epochs, one overhead repeat")
    parser.add_argument("--only", nargs="+",
                        choices=["broken", "lessons", "held-back", "overhead"],
                        help="run only these parts")
    parser.add_argument("--fixes", action="store_true",
                        help="apply each broken project's fixes in turn and train again")
    parser.add_argument("--repeats", type=int, default=None, help="overhead repeats")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    parts = set(args.only or ["broken", "lessons", "held-back", "overhead"])
    from gui_app.core.training.hygiene import quiet_blas

    quiet_blas()
    rows: list[Row] = []
    result: dict[str, Any] = {}
    started = time.perf_counter()
    if "broken" in parts:
        print("Broken projects (thresholds tuned on these):", flush=True)
        rows += case_rows("broken", broken_cases(), args.fixes)
    if "lessons" in parts:
        print("Lessons (healthy):", flush=True)
        rows += lesson_rows(60 if args.quick else None)
    if "held-back" in parts and held_back_cases():
        print("Held-back broken projects (written after the thresholds were fixed):",
              flush=True)
        rows += case_rows("held-back", held_back_cases(), args.fixes)
    if rows:
        result["summary"] = summary(rows)
        result["rows"] = [r.__dict__ for r in rows]
    if "overhead" in parts:
        print("Overhead of the diagnostics callback against plain fit:", flush=True)
        result["overhead"] = overhead(args.repeats or (1 if args.quick else 3))
    print(f"({time.perf_counter() - started:.0f} s in all)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
