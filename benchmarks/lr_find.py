"""Learning-rate finder quality: does the suggested rate train the lesson, and 100 times it not?

For each lesson (the spiral, 2c, and the digits MLP, 3 on the bundled digits when
Fashion-MNIST is not cached) and each fit seed, through LayerLab's own training session
(`TrainingSession`, as the window and the command line use it):

1. the finder's sweep from fresh weights (`TrainingSession.lr_find`): the suggested rate,
   the rule that gave it, the batches and the seconds it took;
2. the lesson trained for its own epochs at the lesson's own rate ("usual"), at the
   suggestion, and at 100 times the suggestion; the last epoch's validation accuracy of
   each (a run whose loss became NaN counts as its last accuracy, about chance).

A lesson passes when the suggestion reaches the usual accuracy (at least the usual one
minus 0.03) and 100 times it stays well below (under the usual one minus 0.15).

Run (from the repository root):

    .venv/bin/python benchmarks/lr_find.py                 # 2 lessons x 3 seeds: ~3 min
    .venv/bin/python benchmarks/lr_find.py --seeds 0       # one seed each: ~1 min
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

LESSONS = {"spiral": "02c_spiral.layerlab.json", "digits": "03_mlp_fashion_mnist.layerlab.json"}
#: the suggestion may fall this far short of the usual accuracy ...
SLACK = 0.03
#: ... and 100 times it must stay this far below it
GAP = 0.15


def with_rate(project: Any, rate: float) -> Any:
    optimizer = project.compile.optimizer.with_args(learning_rate=rate)
    return project.replace(compile=replace(project.compile, optimizer=optimizer))


def session_for(project: Any, base: Path) -> Any:
    from gui_app.core.training import TrainingSession

    session = TrainingSession(project, base_dir=base, device="cpu", boundary_resolution=4,
                              progress_interval=3600)
    session.diagnostics = False
    return session


def train(project: Any, base: Path) -> tuple[float, str]:
    """The last validation accuracy of a run of the lesson's epochs, and how it ended."""
    from gui_app.core.training import Failed, Finished

    ended: list[Any] = []
    done = threading.Event()
    session = session_for(project, base)

    def listen(event: Any) -> None:
        if isinstance(event, (Finished, Failed)):
            ended.append(event)
            done.set()

    session.subscribe(listen)
    try:
        session.start()
        if not done.wait(1800):
            raise RuntimeError("the run did not end")
        session.wait(60)
        end = ended[0]
        if isinstance(end, Failed):
            return float("nan"), "failed"
        accuracy = end.history.get("val_accuracy") or [float("nan")]
        return float(accuracy[-1]), end.reason
    finally:
        session.close()


def measure(name: str, seed: int) -> dict[str, Any]:
    from gui_app.core.lessons import load_example
    from gui_app.resources import examples_dir

    base = examples_dir()
    lesson, _ = load_example(base / LESSONS[name])
    lesson = lesson.replace(fit={**lesson.fit, "seed": seed})
    session = session_for(lesson, base)
    try:
        started = time.perf_counter()
        found = session.lr_find()
        seconds = time.perf_counter() - started
    finally:
        session.close()
    usual_rate = lesson.compile.optimizer.args.get("learning_rate")
    row: dict[str, Any] = {"lesson": name, "seed": seed, "optimizer": lesson.compile.optimizer.type,
                           "epochs": lesson.fit.epochs, "usual_rate": usual_rate,
                           "suggested": found.suggested_lr, "rule": found.rule,
                           "batches": len(found.lrs), "sweep_s": seconds}
    row["usual"], _ = train(lesson, base)
    if found.suggested_lr is None:
        row.update(at_suggestion=float("nan"), at_100x=float("nan"), end_100x="no suggestion",
                   ok=False)
        return row
    row["at_suggestion"], _ = train(with_rate(lesson, found.suggested_lr), base)
    row["at_100x"], row["end_100x"] = train(with_rate(lesson, 100 * found.suggested_lr), base)
    row["ok"] = (row["at_suggestion"] >= row["usual"] - SLACK
                 and not row["at_100x"] >= row["usual"] - GAP)
    return row


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="+", choices=sorted(LESSONS),
                        default=["spiral", "digits"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    args = parser.parse_args(argv)

    import keras

    print(f"Keras {keras.__version__} ({keras.backend.backend()}), Python "
          f"{platform.python_version()}, {os.cpu_count()} CPU(s), CPU only")
    header = (f"{'lesson':7} {'seed':>4} {'opt':5} {'ep':>4} {'usual lr':>8} {'suggested':>9} "
              f"{'rule':10} {'batches':>7} {'sweep s':>7} | {'usual':>5} {'sugg.':>5} "
              f"{'100x':>5} {'100x run':12} ok")
    print(header)
    print("-" * len(header))
    rows = []
    for name in args.lessons:
        for seed in args.seeds:
            r = measure(name, seed)
            rows.append(r)
            suggested = f"{r['suggested']:g}" if r["suggested"] is not None else "-"
            print(f"{r['lesson']:7} {r['seed']:>4} {r['optimizer']:5} {r['epochs']:>4} "
                  f"{r['usual_rate']:>8g} {suggested:>9} {r['rule'] or '-':10} "
                  f"{r['batches']:>7} {r['sweep_s']:>7.1f} | {r['usual']:>5.3f} "
                  f"{r['at_suggestion']:>5.3f} {r['at_100x']:>5.3f} {r['end_100x']:12} "
                  f"{'yes' if r['ok'] else 'NO'}", flush=True)
    passed = sum(r["ok"] for r in rows)
    print(f"\n{passed} of {len(rows)} pass: the suggestion within {SLACK} of the usual "
          f"validation accuracy, 100 times it at least {GAP} below")
    return 0 if passed == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
