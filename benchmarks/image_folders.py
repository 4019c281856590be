"""Folders of images: peak memory at 2,000 and 20,000 images, and throughput against plain
Keras with the same tf.data pipeline.

For each folder size the benchmark writes a folder of generated 28 x 28 grey pictures
(`core.shapes`: circles, squares and triangles, one subfolder per class), then trains the
shapes lesson's small CNN on it in fresh processes, interleaved, `--repeats` times each:

* `layerlab`: a `TrainingSession` as the window runs it (live diagnostics on, progress
  events every 0.1 s, a listener that turns every event into a dict as the engine's
  protocol does), on `load_dataset`'s ImageDataset;
* `plain`: a plain Keras script: `keras.Sequential` of the same layers, `model.fit` on
  the same split read by the same pipeline (`image_pipeline.image_batches`, the code
  `layerlab export` copies into its scripts), and nothing else.

Each child reports its peak resident memory (`ru_maxrss`: the whole process, TensorFlow
included) and its throughput: training images per second of wall time over the epochs
after the first (the first traces the model and, for a cached folder, decodes every
file), and the process's CPU time per image over the same epochs, which a shared, busy
machine disturbs less. The ratio layerlab / plain is of the medians. `--no-cache` reads every image from
disk every epoch (the path a folder larger than memory takes); by default a folder whose
decoded images fit in `limits.IMAGE_CACHE_MAX_BYTES` is kept in memory after the first
epoch, which both sides do alike.

Run (from the repository root):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/image_folders.py
    .venv/bin/python benchmarks/image_folders.py --sizes 2000 20000 --epochs 4 --no-cache

Goal: throughput ratio >= 0.95; peak memory that does not grow with the number of
images when they are read from disk (`--no-cache`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CNN = [
    {"type": "Rescaling", "scale": 1 / 255},
    {"type": "Conv2D", "filters": 16, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D"},
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "activation": "relu"},
    {"type": "MaxPooling2D"},
    {"type": "Flatten"},
    {"type": "Dense", "units": 3, "activation": "softmax"},
]


def make_project(folder: Path, epochs: int):
    from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

    layers = tuple(LayerSpec(d["type"], {k: v for k, v in d.items() if k != "type"})
                   for d in CNN)
    return Project(
        name="Shapes", model=ModelSpec((28, 28, 1), layers),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data={"source": "images", "path": str(folder), "image_size": [28, 28],
              "color_mode": "grayscale", "validation_split": 0.1, "seed": 0},
        fit={"epochs": epochs, "batch_size": 32, "seed": 0})


def peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20  # KB on Linux


def throughput(ends: list[tuple[float, float]], n_train: int) -> dict:
    """Training images a second of wall time over the epochs after the first, and the
    process's CPU time (all threads) per image over the same epochs."""
    if len(ends) < 2:
        return {"images_per_s": float("nan"), "cpu_ms_per_image": float("nan")}
    images = n_train * (len(ends) - 1)
    return {"images_per_s": images / (ends[-1][0] - ends[0][0]),
            "cpu_ms_per_image": 1000 * (ends[-1][1] - ends[0][1]) / images}


def clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def child_layerlab(folder: Path, epochs: int) -> dict:
    import threading

    from gui_app.core.data import load_dataset
    from gui_app.core.training import EpochEnd, Failed, Finished, TrainingSession, event_to_dict

    project = make_project(folder, epochs)
    dataset = load_dataset(project.data)
    ends: list[tuple[float, float]] = []
    done = threading.Event()
    ended: list = []

    def listen(event) -> None:
        event_to_dict(event, arrays="keep")  # what the engine does to send it
        if isinstance(event, EpochEnd):
            ends.append(clock())
        if isinstance(event, (Finished, Failed)):
            ended.append(event)
            done.set()

    session = TrainingSession(project, dataset=dataset, device="cpu")
    session.subscribe(listen)
    session.start()
    done.wait()
    session.close()
    if not isinstance(ended[0], Finished):
        raise SystemExit(f"layerlab run failed: {ended[0].message}")
    return {**throughput(ends, len(dataset.x_train)), "n_train": len(dataset.x_train),
            "cache": dataset.cache}


def child_plain(folder: Path, epochs: int) -> dict:
    import keras

    from gui_app.core.data import load_dataset
    from gui_app.core.training.image_pipeline import image_batches

    project = make_project(folder, epochs)
    ds = load_dataset(project.data)  # the same split, file list and cache decision
    keras.utils.set_random_seed(0)
    layers = [getattr(keras.layers, d["type"])(**{k: v for k, v in d.items() if k != "type"})
              for d in CNN]
    model = keras.Sequential([keras.Input((28, 28, 1)), *layers])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    train = image_batches(ds.x_train.paths, ds.y_train, (28, 28), 1, 32, shuffle=True,
                          seed=0, cache=ds.cache)
    val = image_batches(ds.x_val.paths, ds.y_val, (28, 28), 1, 32, cache=ds.cache)
    ends: list[tuple[float, float]] = []

    class Clock(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            ends.append(clock())

    model.fit(train, validation_data=val, epochs=epochs, verbose=0, callbacks=[Clock()])
    return {**throughput(ends, len(ds.x_train)), "n_train": len(ds.x_train),
            "cache": ds.cache}


def run_child(side: str, folder: Path, epochs: int, no_cache: bool) -> dict:
    command = [sys.executable, __file__, "--child", side, "--folder", str(folder),
               "--epochs", str(epochs)] + (["--no-cache"] if no_cache else [])
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES", "")}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise SystemExit(f"{side} child failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def folder_of(work: Path, size: int) -> Path:
    from gui_app.core.shapes import write_folder

    per_class = size // 3
    folder = work / f"shapes-{per_class * 3}"
    if not (folder / "triangle" / f"triangle_{per_class - 1:04d}.png").exists():
        started = time.perf_counter()
        write_folder(folder, per_class=per_class, size=28, seed=1)
        print(f"  wrote {per_class * 3:,} pictures to {folder} in "
              f"{time.perf_counter() - started:.1f} s", flush=True)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-cache", action="store_true",
                        help="read every image from disk every epoch")
    parser.add_argument("--work", type=Path,
                        default=Path(tempfile.gettempdir()) / "layerlab-image-bench")
    parser.add_argument("--child", choices=["layerlab", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.no_cache:
        from gui_app.core import image_data

        image_data.IMAGE_CACHE_MAX_BYTES = 0
    if args.child:
        run = child_layerlab if args.child == "layerlab" else child_plain
        report = run(args.folder, args.epochs)
        report["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(report))
        return 0

    print(f"image folders: {platform.machine()}, {os.cpu_count()} cores, epochs "
          f"{args.epochs}, repeats {args.repeats}, "
          + ("read from disk every epoch" if args.no_cache else "cache when it fits"),
          flush=True)
    args.work.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in args.sizes:
        folder = folder_of(args.work, size)
        results: dict[str, list[dict]] = {"plain": [], "layerlab": []}
        for _ in range(args.repeats):
            for side in ("plain", "layerlab"):
                report = run_child(side, folder, args.epochs, args.no_cache)
                results[side].append(report)
                print(f"  {size:>6,} images {side:9} {report['images_per_s']:8.0f} images/s  "
                      f"{report['cpu_ms_per_image']:6.3f} CPU ms/image  peak RSS "
                      f"{report['peak_rss_mb']:7.1f} MB  cache {report['cache']}", flush=True)
        speed = {side: statistics.median(r["images_per_s"] for r in runs)
                 for side, runs in results.items()}
        cpu = {side: statistics.median(r["cpu_ms_per_image"] for r in runs)
               for side, runs in results.items()}
        memory = {side: max(r["peak_rss_mb"] for r in runs) for side, runs in results.items()}
        rows.append((size, speed, cpu, memory))
    print()
    print("ratio: layerlab / plain images a second (medians); CPU ratio: plain / layerlab CPU "
          "time per image (higher is better for layerlab, as the ratio)")
    print(f"{'images':>8} {'plain img/s':>12} {'layerlab img/s':>15} {'ratio':>6} "
          f"{'CPU ratio':>10} {'plain peak MB':>14} {'layerlab peak MB':>17}")
    for size, speed, cpu, memory in rows:
        print(f"{size:>8,} {speed['plain']:>12.0f} {speed['layerlab']:>15.0f} "
              f"{speed['layerlab'] / speed['plain']:>6.3f} "
              f"{cpu['plain'] / cpu['layerlab']:>10.3f} {memory['plain']:>14.0f} "
              f"{memory['layerlab']:>17.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
