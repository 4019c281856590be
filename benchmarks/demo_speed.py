"""Demo speed: epochs a second of LayerLab's training session against plain `model.fit`.

For each Playground-sized lesson (a few thousand points at most, a small Dense stack) it
trains the lesson's model on the lesson's data both ways, with validation every epoch,
and reports epochs per second as the difference between a long and a short run,
`(epochs_long - epochs_short) / (seconds_long - seconds_short)`, so that what every run
pays once (building the model, tracing, the first call) cancels. The two sides are
measured side by side in one process, alternating, and each figure is the median over
the repeats.

- "LayerLab": `TrainingSession.start()` to the end of the run, as the window and
  `layerlab train` run it (the compiled loop where it applies, `fit` otherwise: the
  "path" column), with a listener that turns every event into a dict as a view does.
- "fit": `model.fit(x, y, batch_size, epochs, validation_data=..., verbose=0)` on a model
  built and compiled the same way with the same seed (the call only).

`--arms` adds the variants measured while choosing the design: the session on `fit`
(`fast_path = False`), `fit` with `steps_per_execution` = one epoch, and `fit` without
validation.

A lesson whose EarlyStopping would end the run early (6b) is measured with the callback
kept but its patience made endless, so that both sides train the epochs asked for (the
loop then runs one epoch per call, as it does with any epoch callback).

Run (from the repository root):

    .venv/bin/python benchmarks/demo_speed.py            # about 5 minutes on two cores
    .venv/bin/python benchmarks/demo_speed.py --quick    # about 2 minutes
    .venv/bin/python benchmarks/demo_speed.py --lessons 02a --arms

Goal: LayerLab at least 3 times as many epochs a second as `fit`; 30 or more for the
circle lesson (02a) on two cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

EXAMPLES = ROOT / "resources" / "examples"
LESSONS = ("01", "02a", "02b", "02c", "05", "06a", "06b")
#: Above these a lesson is not Playground-sized and is skipped.
MAX_SAMPLES = 10_000
MAX_PARAMS = 200_000
#: The most epochs a long run trains beyond the short one (a bound, should a pilot's
#: timing be thrown off by a busy machine).
MAX_EXTRA_EPOCHS = 20_000


@dataclass
class Case:
    """One lesson, ready to train: the project (with endless patience) and its data."""

    name: str
    project: Any
    dataset: Any
    base_dir: Path
    params: int
    note: str = ""


@dataclass
class Arm:
    """One way of training and what it measured: (epochs, seconds) per run."""

    name: str
    train: Callable[[Case, int], tuple[float, dict[str, Any]]]
    runs: list[tuple[int, int, float, float]] = field(default_factory=list)
    info: dict[str, Any] = field(default_factory=dict)

    def rates(self) -> list[float]:
        return [(long - short) / (t_long - t_short)
                for short, long, t_short, t_long in self.runs if t_long > t_short]

    def rate(self) -> float:
        rates = self.rates()
        return statistics.median(rates) if rates else float("nan")


def find_lesson(prefix: str) -> Path:
    matches = sorted(EXAMPLES.glob(f"{prefix}_*.layerlab.json"))
    if not matches:
        raise SystemExit(f"no lesson {prefix!r} in {EXAMPLES}")
    return matches[0]


def load_case(prefix: str) -> Case | str:
    """The lesson as a Case, or the reason it is skipped."""
    from gui_app.core.data import load_dataset
    from gui_app.core.lessons import load_example
    from gui_app.core.summary import summarize

    path = find_lesson(prefix)
    project, _ = load_example(path)
    fit = dict(project.fit)  # the keys the lesson sets
    if fit.get("virtual_epochs") or fit.get("steps_per_epoch"):
        return "virtual epochs / steps_per_epoch: epochs are not passes over the data"
    dataset = load_dataset(project.data or None, path.parent)
    params = summarize(project.model).total_params
    if len(dataset.x_train) > MAX_SAMPLES or params > MAX_PARAMS:
        return f"not Playground-sized ({len(dataset.x_train)} samples, {params} weights)"
    note = ""
    callbacks = []
    for item in fit.get("callbacks") or []:
        item = dict(item) if isinstance(item, dict) else {"type": item}
        if item.get("type") == "EarlyStopping":
            item["patience"] = 10**9
            note = "EarlyStopping patience made endless"
        callbacks.append(item)
    fit["callbacks"] = callbacks
    return Case(path.name.split(".")[0], project.replace(fit=fit), dataset, path.parent,
                params, note)


# -- the arms ----------------------------------------------------------------------------

def session_arm(fast_path: bool) -> Callable[[Case, int], tuple[float, dict[str, Any]]]:
    def train(case: Case, epochs: int) -> tuple[float, dict[str, Any]]:
        from gui_app.core.training import Failed, Started, TrainingSession, event_to_dict

        session = TrainingSession(case.project, base_dir=case.base_dir, dataset=case.dataset)
        session.fast_path = fast_path
        _ = session.device  # the worker is up: thread start-up is not training
        seen: dict[str, Any] = {}

        def listener(event: Any) -> None:
            event_to_dict(event, arrays="keep")  # what a view pays to read an event
            if isinstance(event, Started):
                seen["path"] = "compiled loop" if event.fast_path else "fit"
            elif isinstance(event, Failed):
                seen["failed"] = event.message

        session.subscribe(listener)
        try:
            start = time.perf_counter()
            session.start(epochs)
            session.wait()
            seconds = time.perf_counter() - start
        finally:
            session.close()
        if "failed" in seen:
            raise RuntimeError(f"{case.name}: {seen['failed']}")
        return seconds, seen

    return train


def fit_arm(epoch_per_call: bool = False, validation: bool = True
            ) -> Callable[[Case, int], tuple[float, dict[str, Any]]]:
    """Plain `fit`; `epoch_per_call` sets `steps_per_execution` to an epoch's batches."""

    def train(case: Case, epochs: int) -> tuple[float, dict[str, Any]]:
        import keras

        from gui_app.core.build import build_model, compile_model
        from gui_app.core.project import checked_fit
        from gui_app.core.spec import ObjectSpec

        ds = case.dataset
        fit = checked_fit(case.project.fit)
        keras.backend.clear_session()
        if fit.seed is not None:
            keras.utils.set_random_seed(int(fit.seed))
        model = build_model(case.project.model)
        compile_model(model, case.project.compile)
        batch = int(fit.batch_size)
        if epoch_per_call:
            model.steps_per_execution = -(-len(ds.x_train) // batch)
        callbacks = []
        for item in fit.callbacks or []:
            spec = ObjectSpec.from_json(item)
            callbacks.append(getattr(keras.callbacks, spec.type)(**dict(spec.args)))
        kwargs: dict[str, Any] = {}
        if fit.class_weight == "balanced":
            from gui_app.core.data import compute_class_weight

            kwargs["class_weight"] = compute_class_weight(ds.y_train, ds.num_classes)
        elif fit.class_weight:
            kwargs["class_weight"] = {int(k): float(v) for k, v in fit.class_weight.items()}
        if validation and ds.x_val is not None:
            kwargs["validation_data"] = (ds.x_val, ds.y_val)
        start = time.perf_counter()
        model.fit(ds.x_train, ds.y_train, batch_size=batch, epochs=epochs,
                  shuffle=bool(fit.shuffle), callbacks=callbacks, verbose=0, **kwargs)
        return time.perf_counter() - start, {"path": "fit"}

    return train


# -- measuring ---------------------------------------------------------------------------

def measure(case: Case, arms: list[Arm], short: int, target: float, repeats: int) -> None:
    """Short and long runs of every arm, alternating arms within each repeat."""
    longs: dict[str, int] = {}
    for arm in arms:  # pilot runs size each arm's long run to about `target` seconds
        t_short, arm.info = arm.train(case, short)
        extra = 20
        while True:
            t_pilot, _ = arm.train(case, short + extra)
            # start-up varies by a few tenths of a second: the pace needs a longer pilot
            # than that, and a fast arm's first pilot is over too soon to tell
            if t_pilot - t_short >= 0.5 or extra >= MAX_EXTRA_EPOCHS:
                break
            extra *= 10
        pace = max(target / MAX_EXTRA_EPOCHS, (t_pilot - t_short) / extra)
        longs[arm.name] = short + min(MAX_EXTRA_EPOCHS, max(20, int(target / pace)))
    for _ in range(repeats):
        for arm in arms:
            long = longs[arm.name]
            t_short, _ = arm.train(case, short)
            t_long, _ = arm.train(case, long)
            arm.runs.append((short, long, t_short, t_long))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one repeat of about one second a side (a smoke run)")
    parser.add_argument("--lessons", nargs="+", default=list(LESSONS),
                        help="lesson numbers, e.g. 02a 06b (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=None, help="long/short pairs per arm")
    parser.add_argument("--seconds", type=float, default=None,
                        help="about how long each long run trains beyond the short one")
    parser.add_argument("--arms", action="store_true",
                        help="also time the design variants (see the module docstring)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (1 if args.quick else 3)
    target = args.seconds or (1.0 if args.quick else 3.0)
    short = 3

    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # fit's arms retrace each new model, by design here
    print(f"demo speed: {platform.node()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, TensorFlow {tf.__version__}, Keras "
          f"{keras.__version__} ({keras.backend.backend()})")
    print(f"epochs/s = (long - short) / (t_long - t_short), short = {short} epochs, long "
          f"run about {target:g} s more, median of {repeats} repeat(s)\n")
    header = (f"{'lesson':<24}{'train':>6}{'weights':>8}{'fit ep/s':>10}"
              f"{'LayerLab ep/s':>15}{'ratio':>8}  path")
    rows: list[str] = []
    extra: list[str] = []
    ratios: list[float] = []
    for prefix in args.lessons:
        case = load_case(prefix)
        if isinstance(case, str):
            rows.append(f"{find_lesson(prefix).name.split('.')[0]:<24}skipped: {case}")
            continue
        arms = [Arm("fit", fit_arm()), Arm("LayerLab", session_arm(True))]
        if args.arms:
            arms += [Arm("LayerLab on fit", session_arm(False)),
                     Arm("fit, steps_per_execution = epoch", fit_arm(epoch_per_call=True)),
                     Arm("fit, no validation", fit_arm(validation=False))]
        measure(case, arms, short, target, repeats)
        plain, ours = arms[0].rate(), arms[1].rate()
        ratio = ours / plain if plain > 0 else float("nan")
        ratios.append(ratio)
        note = f" ({case.note})" if case.note else ""
        rows.append(f"{case.name:<24}{len(case.dataset.x_train):>6}{case.params:>8}"
                    f"{plain:>10.1f}{ours:>15.1f}{ratio:>7.1f}x  "
                    f"{arms[1].info.get('path', '?')}{note}")
        for arm in arms[2:]:
            extra.append(f"{case.name:<24}{arm.name:<36}{arm.rate():>8.1f} ep/s "
                         f"({arm.rate() / plain:.2f}x fit)")
        print(rows[-1], flush=True)
    print("\n" + header)
    for row in rows:
        print(row)
    if extra:
        print("\nvariants (epochs/s, against fit with validation every epoch):")
        for row in extra:
            print(row)
    if ratios:
        print(f"\nLayerLab / fit: min {min(ratios):.1f}x, median "
              f"{statistics.median(ratios):.1f}x over {len(ratios)} lesson(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
