"""Memory: does building, training and discarding many models leak?

Runs N build-train-discard cycles and reports the growth of the process's resident memory
(RSS). Two ways to discard, chosen with --mode:

- sessions: a new TrainingSession per cycle (its own worker thread), closed afterwards;
  this is what opening project after project in the window does.
- rebuild: one session; each cycle changes the model with set_project(), so the session
  drops the old model and clears Keras's session before building the next.

The first cycles fill one-off caches (imports, kernels, tracing machinery), so the figure
that matters is the growth after the warm-up; both are printed.

Run (from the repository root):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/memory_leak.py
    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/memory_leak.py --mode rebuild

Goal: less than 100 MB growth over 100 cycles.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gui_app.core.data import load_dataset  # noqa: E402
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project  # noqa: E402
from gui_app.core.training import Failed, TrainingSession  # noqa: E402

DATA = {"source": "circle", "samples": 200, "seed": 0, "validation_split": 0.2}


def rss_mb() -> float:
    """Current resident memory in MB (Linux /proc; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def project(width: int) -> Project:
    return Project(
        name="Leak check",
        model=ModelSpec((2,), (LayerSpec("Dense", {"units": width, "activation": "relu"}),
                               LayerSpec("Dense", {"units": 8, "activation": "relu"}),
                               LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}))),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data=DATA,
        fit={"epochs": 2, "batch_size": 32, "seed": 0},
    )


def check(events: list) -> None:
    if events and isinstance(events[-1], Failed):
        raise RuntimeError(events[-1].message + "\n" + events[-1].detail)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--mode", choices=("sessions", "rebuild"), default="sessions")
    args = parser.parse_args()

    import keras

    dataset = load_dataset(DATA)
    start = rss_mb()
    after_warmup = None
    t0 = time.perf_counter()
    reused = None
    if args.mode == "rebuild":
        reused = TrainingSession(project(8), dataset=dataset)
    events: list = []
    for cycle in range(1, args.cycles + 1):
        # A slightly different model each time, so nothing can be reused by accident.
        proj = project(8 + cycle % 7)
        if reused is None:
            session = TrainingSession(proj, dataset=dataset)
            session.subscribe(events.append)
            session.start()
            session.wait()
            session.close()
        else:
            if cycle == 1:
                reused.subscribe(events.append)
            reused.set_project(proj)
            reused.start()
            reused.wait()
        check(events)
        events.clear()
        if cycle == args.warmup:
            gc.collect()
            after_warmup = rss_mb()
        if cycle % 10 == 0:
            gc.collect()
            print(f"  cycle {cycle:4d}: RSS {rss_mb():8.1f} MB", flush=True)
    if reused is not None:
        reused.close()
    gc.collect()
    end = rss_mb()
    seconds = time.perf_counter() - t0
    print()
    print(f"| mode | cycles | RSS at start (MB) | after {args.warmup} (MB) | at end (MB) | "
          f"growth after warm-up (MB) | seconds |  (Keras {keras.__version__}, "
          f"{keras.backend.backend()})")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(f"| {args.mode} | {args.cycles} | {start:.0f} | {after_warmup or start:.0f} | "
          f"{end:.0f} | {end - (after_warmup or start):.1f} | {seconds:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
