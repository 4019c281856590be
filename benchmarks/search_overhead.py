"""Search overhead: LayerLab's search (engine.tuning.SearchRun) against the same search
written by hand with Keras Tuner.

Both sides search the same space (the first layer's units, 4 to 64 in steps of 4, and
Adam's learning rate, 1e-3 to 0.1 on a log scale) of the same model (2-units-8-1, ReLU,
sigmoid) on the same data (the circle, 500 samples, 20 % held out), with RandomSearch,
the same seed, the same number of trials and epochs, in one process, interleaved and
repeated. The hand-written side is what the Keras Tuner guide writes: a `build(hp)` that
makes a `keras.Sequential`, then `tuner.search(x, y, epochs=..., validation_data=...)`.
LayerLab's side includes everything a person waits for: reading the space from the
project, building each trial's model from the spec, its events (each turned into a
JSON-ready dict, as the window's protocol does) and its records beside Keras Tuner's.

One difference both sides share: Keras Tuner 1.4 imports TensorBoard for every trial on
TensorFlow; TensorBoard is not installed with LayerLab, so the hand-written tuner skips
that import as LayerLab's does (`_configure_tensorboard_dir`).

Run (from the repository root):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/search_overhead.py [--repeats 3]

Goal: ratio <= 1.05.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gui_app.core.data import load_dataset  # noqa: E402
from gui_app.core.project import loads  # noqa: E402

SEED = 0


def project_text(trials: int, epochs: int) -> str:
    import json

    return json.dumps({
        "format": "layerlab-project", "version": 2, "name": "bench",
        "model": {"input_shape": [2], "layers": [
            {"type": "Dense", "units": 16, "activation": "relu"},
            {"type": "Dense", "units": 8, "activation": "relu"},
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01},
                    "loss": "binary_crossentropy", "metrics": ["accuracy"]},
        "data": {"source": "circle", "samples": 500, "seed": 0, "validation_split": 0.2},
        "fit": {"epochs": epochs, "batch_size": 32, "seed": SEED},
        "search": {"tuner": "random", "objective": "val_loss", "max_trials": trials,
                   "executions_per_trial": 1,
                   "space": [{"path": "model.layers[0].units", "kind": "int", "min": 4,
                              "max": 64, "step": 4},
                             {"path": "compile.optimizer.learning_rate", "kind": "float",
                              "min": 0.001, "max": 0.1, "sampling": "log"}]}})


def layerlab_search(project, dataset, folder: Path) -> tuple[float, float, list]:
    from gui_app.core.search_folder import prepare_folder
    from gui_app.core.training import event_to_dict
    from gui_app.engine.tuning import SearchRun

    target = prepare_folder(folder / "bench.search", folder)
    events: list = []
    start, cpu = time.perf_counter(), time.process_time()
    run = SearchRun(project, target, folder, dataset)
    run.subscribe(lambda e: events.append(event_to_dict(e)))
    run.start()
    run.wait()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    assert run.done is not None and run.done.status == "completed", run.done
    return wall, used, [t["score"] for t in run.done.trials]


def hand_written_search(dataset, folder: Path, trials: int, epochs: int
                        ) -> tuple[float, float, list]:
    import keras
    import keras_tuner as kt

    def build(hp):
        keras.utils.set_random_seed(SEED)
        model = keras.Sequential([
            keras.Input(shape=(2,)),
            keras.layers.Dense(hp.Int("model.layers[0].units", 4, 64, step=4),
                               activation="relu"),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        rate = hp.Float("compile.optimizer.learning_rate", 0.001, 0.1, sampling="log")
        model.compile(optimizer=keras.optimizers.Adam(learning_rate=rate),
                      loss="binary_crossentropy", metrics=["accuracy"])
        return model

    class Tuner(kt.RandomSearch):
        def _configure_tensorboard_dir(self, callbacks, trial, execution=0):
            pass  # TensorBoard is not installed (see the module docstring)

    start, cpu = time.perf_counter(), time.process_time()
    # the oracle's seed as LayerLab gives it (the project's + 1): the same trials both sides
    tuner = Tuner(build, objective=kt.Objective("val_loss", "min"), max_trials=trials,
                  seed=SEED + 1, directory=str(folder), project_name="hand")
    tuner.search(dataset.x_train, dataset.y_train, epochs=epochs, batch_size=32,
                 validation_data=(dataset.x_val, dataset.y_val), verbose=0)
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    scores = [t.score for _, t in sorted(tuner.oracle.trials.items())]
    return wall, used, scores


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--trials", type=int, default=6)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    import keras
    import keras_tuner

    project = loads(project_text(args.trials, args.epochs))
    dataset = load_dataset(project.data)
    # warm-up: TensorFlow's one-time start-up is paid by neither side's figures
    warm = Path(tempfile.mkdtemp(prefix="search-bench-"))
    hand_written_search(dataset, warm / "w", 1, 1)
    shutil.rmtree(warm, ignore_errors=True)
    rows = {"layerlab": [], "hand": []}
    cpus = {"layerlab": [], "hand": []}
    seen: dict[str, list] = {}
    for repeat in range(args.repeats):
        order = ("layerlab", "hand") if repeat % 2 == 0 else ("hand", "layerlab")
        for side in order:
            folder = Path(tempfile.mkdtemp(prefix="search-bench-"))
            try:
                if side == "layerlab":
                    wall, used, scores = layerlab_search(project, dataset, folder)
                else:
                    wall, used, scores = hand_written_search(dataset, folder, args.trials,
                                                             args.epochs)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            rows[side].append(wall)
            cpus[side].append(used)
            seen.setdefault(side, scores)
            print(f"repeat {repeat + 1} {side:>8}: {wall:6.2f} s wall, {used:6.2f} s CPU, "
                  f"{len(scores)} trials", flush=True)
    med = {k: statistics.median(v) for k, v in rows.items()}
    best = {k: min(v) for k, v in rows.items()}
    cpu = {k: statistics.median(v) for k, v in cpus.items()}
    print()
    print(f"Keras {keras.__version__}, Keras Tuner {keras_tuner.__version__}, "
          f"{keras.backend.backend()}, {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} cores; {args.trials} trials x {args.epochs} epochs, "
          f"{args.repeats} repeats")
    print(f"{'':12}{'median s':>10}{'fastest s':>11}{'CPU s':>9}")
    for side, label in (("hand", "hand-written"), ("layerlab", "LayerLab")):
        print(f"{label:12}{med[side]:10.2f}{best[side]:11.2f}{cpu[side]:9.2f}")
    same = all(abs(a - b) < 1e-6 for a, b in zip(seen["layerlab"], seen["hand"]))
    print(f"the same trials and scores on both sides: {'yes' if same else 'no'}")
    print(f"ratio (LayerLab / hand-written): median {med['layerlab'] / med['hand']:.3f}, "
          f"fastest {best['layerlab'] / best['hand']:.3f}, CPU {cpu['layerlab'] / cpu['hand']:.3f}"
          "   (goal <= 1.05)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
