"""Training overhead: LayerLab's TrainingSession against plain `model.fit(verbose=0)`.

Trains the same model on the same data with the same seed both ways in one process,
interleaved and repeated, and prints the median wall times and their ratio. The session
side has a listener that consumes every event (turns it into a JSON-ready dict, boundary
grids included), as the window does. Both sides include building and compiling the model
(and the first-call tracing that comes with `fit`), because a person pressing "Train"
waits for all of it.

The listener keeps arrays as arrays (`event_to_dict(event, arrays="keep")`), as a view
that draws them does; turning each 100 x 100 grid into 10,000 Python floats is the
listener's own cost (it is what `layerlab train --events` pays), not the engine's.

Columns: the medians of each side's wall time and their ratio (the figure the goal is
about); the ratio of the fastest repeats and of CPU time, which a shared, noisy machine
disturbs less; and the events the session sent per run. `--thread-control` also times
plain fit on a fresh thread, to separate the cost of training off the main thread.

Run (from the repository root):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/training_overhead.py
    KERAS_BACKEND=jax python benchmarks/training_overhead.py      # JAX, e.g. on a GPU

Goal: ratio <= 1.05 for both models.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from gui_app.core.data import Dataset, load_dataset  # noqa: E402
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project  # noqa: E402
from gui_app.core.training import TrainingSession, event_to_dict  # noqa: E402


def mlp_case(samples: int, epochs: int) -> tuple[Project, Dataset]:
    """The 784-300-100-10 MLP on random-but-fixed MNIST-shaped data."""
    rng = np.random.default_rng(0)
    x = rng.random((samples, 784), dtype=np.float32)
    y = rng.integers(0, 10, samples).astype(np.int64)
    dataset = Dataset(x, y, None, None, None, None, "multiclass", 10, (),
                      tuple(str(i) for i in range(10)), None, None, "random 784-feature data")
    project = Project(
        name="MLP",
        model=ModelSpec((784,), (
            LayerSpec("Dense", {"units": 300, "activation": "relu"}),
            LayerSpec("Dense", {"units": 100, "activation": "relu"}),
            LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
        )),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data={"source": "circle"},  # unused: the dataset is passed in
        fit={"epochs": epochs, "batch_size": 32, "seed": 0},
    )
    return project, dataset


def circle_case(epochs: int) -> tuple[Project, Dataset]:
    """The 2-8-8-1 network on the circle data (400 train / 100 validation samples)."""
    data = {"source": "circle", "samples": 500, "noise": 0.1, "seed": 0,
            "validation_split": 0.2}
    project = Project(
        name="Circle",
        model=ModelSpec((2,), (
            LayerSpec("Dense", {"units": 8, "activation": "relu"}),
            LayerSpec("Dense", {"units": 8, "activation": "relu"}),
            LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}),
        )),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data=data,
        fit={"epochs": epochs, "batch_size": 32, "seed": 0},
    )
    return project, load_dataset(data)


def plain_fit(project: Project, dataset: Dataset) -> tuple[float, float, float]:
    """Wall and CPU seconds for seed + build + compile + fit(verbose=0); the last loss."""
    import keras

    from gui_app.core.build import build_model, compile_model

    keras.backend.clear_session()
    start, cpu = time.perf_counter(), time.process_time()
    keras.utils.set_random_seed(project.fit["seed"])
    model = build_model(project.model)
    compile_model(model, project.compile)
    kwargs = {}
    if dataset.x_val is not None:
        kwargs["validation_data"] = (dataset.x_val, dataset.y_val)
    history = model.fit(dataset.x_train, dataset.y_train, epochs=project.fit["epochs"],
                        batch_size=project.fit["batch_size"], verbose=0, **kwargs)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, cpu, float(history.history["loss"][-1])


def session_fit(project: Project, dataset: Dataset, counts: dict[str, int]
                ) -> tuple[float, float, float]:
    """Wall and CPU seconds from start() to the end of the run, every event consumed; the
    last loss."""
    import keras

    keras.backend.clear_session()
    session = TrainingSession(project, dataset=dataset)
    _ = session.device  # wait for the worker to be up: thread start-up is not training
    sink: list[str] = []
    finished: list = []

    def listener(event) -> None:
        doc = event_to_dict(event, arrays="keep")
        counts[doc["event"]] = counts.get(doc["event"], 0) + 1
        sink.append(doc["event"])
        if doc["event"] in ("Finished", "Failed"):
            finished.append(event)

    session.subscribe(listener)
    try:
        start, cpu = time.perf_counter(), time.process_time()
        session.start()
        session.wait()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    finally:
        session.close()
    event = finished[-1]
    if type(event).__name__ == "Failed":
        raise RuntimeError(event.message + "\n" + event.detail)
    return seconds, cpu, float(event.history["loss"][-1])


def plain_fit_in_thread(project: Project, dataset: Dataset) -> tuple[float, float, float]:
    """`plain_fit` on a fresh thread, as the session trains: separates thread effects."""
    result: list[tuple[float, float, float]] = []
    worker = threading.Thread(target=lambda: result.append(plain_fit(project, dataset)))
    worker.start()
    worker.join()
    return result[0]


def measure(name: str, project: Project, dataset: Dataset, repeats: int,
            thread_control: bool) -> dict:
    counts: dict[str, int] = {}
    sides = {
        "plain": lambda: plain_fit(project, dataset),
        "session": lambda: session_fit(project, dataset, counts),
    }
    if thread_control:
        sides["plain_thread"] = lambda: plain_fit_in_thread(project, dataset)
    times: dict[str, list[float]] = {k: [] for k in sides}
    cpu: dict[str, list[float]] = {k: [] for k in sides}
    losses: dict[str, list[float]] = {k: [] for k in sides}
    plain_fit(project, dataset)  # warm-up: imports, kernels, allocator
    names = list(sides)
    for i in range(repeats):
        # Rotate the order so drift in a shared machine's speed hits every side alike.
        for key in names[i % len(names):] + names[: i % len(names)]:
            seconds, used, loss = sides[key]()
            times[key].append(seconds)
            cpu[key].append(used)
            losses[key].append(loss)
        shown = ", ".join(f"{k} {times[k][-1]:.2f} s" for k in names)
        print(f"  {name} repeat {i + 1}: {shown}, ratio "
              f"{times['session'][-1] / times['plain'][-1]:.3f}", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    per_run = {k: round(v / repeats, 1) for k, v in sorted(counts.items())}
    same = all(abs(a - b) <= 1e-4 * max(1.0, abs(a))
               for a, b in zip(losses["plain"], losses["session"], strict=True))
    result = {
        "case": name,
        "plain_s": med["plain"],
        "session_s": med["session"],
        "ratio_of_medians": med["session"] / med["plain"],
        # Noise on a shared machine only ever adds time, so the fastest of the repeats is
        # the steadiest estimate of each side's cost; CPU time ignores other tenants.
        "ratio_of_minimums": min(times["session"]) / min(times["plain"]),
        "cpu_ratio": med_cpu["session"] / med_cpu["plain"],
        "times": times,
        "cpu_times": cpu,
        "events_per_run": per_run,
        "same_loss": same,
    }
    if thread_control:
        result["plain_thread_s"] = med["plain_thread"]
        result["ratio_vs_thread"] = med["session"] / med["plain_thread"]
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mlp-epochs", type=int, default=3)
    parser.add_argument("--mlp-samples", type=int, default=20_000)
    parser.add_argument("--circle-epochs", type=int, default=300)
    parser.add_argument("--only", choices=("mlp", "circle"))
    parser.add_argument("--thread-control", action="store_true",
                        help="also time plain fit on a fresh thread, as the session trains")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    import keras

    session = TrainingSession(circle_case(1)[0])
    device = session.device
    session.close()
    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}, device {device}, "
          f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, "
          f"{threading.active_count()} threads", flush=True)
    results = []
    if args.only in (None, "mlp"):
        project, dataset = mlp_case(args.mlp_samples, args.mlp_epochs)
        results.append(measure(f"MLP 784-300-100-10, {args.mlp_samples} samples, "
                               f"{args.mlp_epochs} epochs", project, dataset, args.repeats,
                               args.thread_control))
    if args.only in (None, "circle"):
        project, dataset = circle_case(args.circle_epochs)
        results.append(measure(f"Circle 2-8-8-1, 400 samples, {args.circle_epochs} epochs, "
                               "boundary 100x100", project, dataset, args.repeats,
                               args.thread_control))
    print()
    print(f"Keras {keras.__version__}, {keras.backend.backend()} backend, {device}; times are "
          f"medians of {args.repeats} interleaved repeats")
    print()
    print("| model | plain fit (s) | session (s) | ratio (medians) | ratio (fastest) | "
          "CPU-time ratio | events per run |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        events = ", ".join(f"{k} {v:g}" for k, v in r["events_per_run"].items())
        print(f"| {r['case']} | {r['plain_s']:.2f} | {r['session_s']:.2f} | "
              f"{r['ratio_of_medians']:.3f} | {r['ratio_of_minimums']:.3f} | "
              f"{r['cpu_ratio']:.3f} | {events} |")
    for r in results:
        if "plain_thread_s" in r:
            print(f"control: {r['case']}: plain fit on a fresh thread {r['plain_thread_s']:.2f} s;"
                  f" session / that = {r['ratio_vs_thread']:.3f}")
    for r in results:
        if not r["same_loss"]:
            print(f"note: {r['case']}: the two sides ended with different losses")
    if args.json:
        args.json.write_text(json.dumps({"device": device, "backend": keras.backend.backend(),
                                         "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
