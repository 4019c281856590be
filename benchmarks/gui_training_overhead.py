"""Training through the window: its cost against plain `model.fit`, GUI stalls, refresh rate.

Three figures, measured in one run with the real main window open (Qt offscreen), the
live plots and the decision-boundary view on:

1. Overhead. The circle network (2-8-8-1, 400 samples, validation every epoch, boundary
   100 x 100) and the 784-300-100-10 MLP (batch 32, random fixed data, boundary on the
   plane of the first two principal components) are trained three ways on the same data
   with the same seed, interleaved and repeated: plain `model.fit(verbose=0)`, the engine
   alone (`TrainingSession`, a listener that drops the events) and the window (its Train
   button's path: session, bridge, plots, boundary, progress). Every side includes
   `keras.backend.clear_session()` (the window's Train from fresh weights does it, about
   0.3 s here) and building and compiling the model, as the engine's own benchmark
   includes building. Reported: the
   median of the per-repeat ratios window / plain (goal <= 1.05) and window / engine.
2. GUI stall: the longest gap between ticks of a 10 ms QTimer on the GUI thread, during
   extra window runs of their own (goal < 50 ms); the timer is off during the timed runs
   of figure 1, because its wake-ups cost the training thread GIL time as well. Measured
   cold too: while the window imports Keras in the background and trains for the first
   time (tracing), which holds the GIL in bursts.
3. Refresh rate: plot redraws and boundary pictures per second during the window's runs
   (goal >= 10): over the whole run from the press of Train, and for the pictures also
   while training, from the second picture to the last (the first shows the fresh model
   before Keras builds and traces its first batch, which is not training); and the cost
   of one redraw with a million batch points.

Run (from the repository root):

    QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \\
        benchmarks/gui_training_overhead.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LAYERLAB_SETTINGS_DIR", tempfile.mkdtemp(prefix="layerlab-bench-"))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui_app.core.spec import (  # noqa: E402
    CompileSpec,
    LayerSpec,
    ModelSpec,
    ObjectSpec,
    Project,
)


class GapMeter:
    """A 10 ms QTimer on the GUI thread; records the gaps between its ticks."""

    def __init__(self, interval_ms: int = 10) -> None:
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.clock = QElapsedTimer()
        self.gaps: list[float] = []
        self.ends: list[float] = []
        self._last = 0

    def start(self) -> None:
        self.gaps = []
        self.ends: list[float] = []
        self.clock.start()
        self._last = self.clock.nsecsElapsed()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.gaps

    def _tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.gaps.append((now - self._last) / 1e6)
        self.ends.append(now / 1e9)
        self._last = now

    def longest(self) -> tuple[float, float]:
        """The longest gap (ms) and when it ended (seconds after start)."""
        if not self.gaps:
            return float("nan"), float("nan")
        i = int(np.argmax(self.gaps))
        return self.gaps[i], self.ends[i]


def circle_project(epochs: int) -> Project:
    return Project(
        name="Circle",
        model=ModelSpec((2,), (
            LayerSpec("Dense", {"units": 8, "activation": "relu"}),
            LayerSpec("Dense", {"units": 8, "activation": "relu"}),
            LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}),
        )),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data={"source": "circle", "samples": 500, "noise": 0.1, "seed": 0,
              "validation_split": 0.2},
        fit={"epochs": epochs, "batch_size": 32, "seed": 0},
    )


def mlp_project(samples: int, epochs: int, folder: Path) -> Project:
    """The 784-300-100-10 MLP on random-but-fixed MNIST-shaped data (an NPZ file)."""
    rng = np.random.default_rng(0)
    path = folder / "random_mnist_shaped.npz"
    np.savez(path, x=rng.random((samples, 784), dtype=np.float32),
             y=rng.integers(0, 10, samples).astype(np.int64))
    return Project(
        name="MLP",
        model=ModelSpec((784,), (
            LayerSpec("Dense", {"units": 300, "activation": "relu"}),
            LayerSpec("Dense", {"units": 100, "activation": "relu"}),
            LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
        )),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data={"source": "npz", "path": str(path), "seed": 0, "validation_split": 0.0},
        fit={"epochs": epochs, "batch_size": 32, "seed": 0},
    )


def pump(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def open_window(app: QApplication, project: Project, load_keras: bool):
    from gui_app.ui.main_window import MainWindow

    window = MainWindow(project, load_keras=load_keras)
    window.resize(1440, 900)
    window.show()
    pump(app, 0.3)
    deadline = time.perf_counter() + 120
    while window.controller.dataset is None and time.perf_counter() < deadline:
        pump(app, 0.05)
    if window.controller.dataset is None:
        raise RuntimeError(f"the data did not load: {window.controller.data_error}")
    window.training_panel.ensure_views()
    window.training_panel.size_dock()
    pump(app, 0.3)
    return window


def window_fit(app: QApplication, window, meter: GapMeter | None = None) -> dict:
    """One run through the Train button's path; seconds from the press to the end."""
    panel = window.training_panel
    ended: list = []
    panel.runEnded.connect(ended.append)
    loop = QEventLoop()
    panel.runEnded.connect(loop.quit)
    redraws0, images0 = panel.plots.redraws, panel.boundary.images_shown
    shown: list[float] = []  # when each picture was drawn: the rate while training runs
    original_show = panel.boundary.show_grid

    def show_grid(grid, picture=None):  # noqa: ANN001, ANN202
        if grid is not None:
            shown.append(time.perf_counter())
        return original_show(grid, picture)

    panel.boundary.show_grid = show_grid
    source = panel.plane_source
    plane0 = (source.total_cost, source.count) if source is not None else (0.0, 0)
    if meter is not None:
        meter.start()
    start = time.perf_counter()
    gui_cpu = time.thread_time()  # CPU time of this (the GUI) thread
    if not panel.train():
        raise RuntimeError(panel.message_text)
    if not ended:
        loop.exec()
    seconds = time.perf_counter() - start
    gui_cpu = time.thread_time() - gui_cpu
    del panel.boundary.show_grid  # the method again
    gaps = meter.stop() if meter is not None else []
    worst_at = meter.longest()[1] if meter is not None else float("nan")
    panel.runEnded.disconnect(ended.append)
    panel.runEnded.disconnect(loop.quit)
    event = ended[-1]
    if type(event).__name__ == "Failed":
        raise RuntimeError(event.message + "\n" + event.detail)
    plane_s = source.total_cost - plane0[0] if source is not None else 0.0
    plane_n = source.count - plane0[1] if source is not None else 0
    return {"seconds": seconds, "loss": float(event.history["loss"][-1]),
            "plane_s": plane_s, "plane_n": plane_n, "gui_cpu": gui_cpu / seconds,
            "redraws": panel.plots.redraws - redraws0,
            "images": panel.boundary.images_shown - images0,
            # pictures per second while training: from the second picture to the last. The
            # first shows the fresh model before its first batch, and Keras tracing that
            # batch (about 1 s for the MLP) is not training.
            "images_training": (len(shown) - 2) / (shown[-1] - shown[1])
            if len(shown) > 3 else float("nan"),
            "max_gap_ms": max(gaps) if gaps else float("nan"), "max_gap_at": worst_at,
            "p99_gap_ms": float(np.percentile(gaps, 99)) if gaps else float("nan")}


def plain_fit(project: Project, dataset) -> dict:
    import keras

    from gui_app.core.build import build_model, compile_model

    start = time.perf_counter()
    keras.backend.clear_session()  # as the window's Train does (the engine's reset)
    keras.utils.set_random_seed(project.fit["seed"])
    model = build_model(project.model)
    compile_model(model, project.compile)
    kwargs = {}
    if dataset.x_val is not None:
        kwargs["validation_data"] = (dataset.x_val, dataset.y_val)
    history = model.fit(dataset.x_train, dataset.y_train, epochs=project.fit["epochs"],
                        batch_size=project.fit["batch_size"], verbose=0, **kwargs)
    return {"seconds": time.perf_counter() - start,
            "loss": float(history.history["loss"][-1])}


def engine_fit(project: Project, dataset) -> dict:
    import keras

    from gui_app.core.training import TrainingSession

    session = TrainingSession(project, dataset=dataset)
    _ = session.device
    ended: list = []
    session.subscribe(lambda e: ended.append(e) if type(e).__name__ in ("Finished", "Failed")
                      else None)
    try:
        start = time.perf_counter()
        keras.backend.clear_session()  # as the window's Train does (the engine's reset)
        session.start()
        session.wait()
        seconds = time.perf_counter() - start
    finally:
        session.close()
    return {"seconds": seconds, "loss": float(ended[-1].history["loss"][-1])}


def measure(app: QApplication, name: str, project: Project, repeats: int,
            meter: GapMeter, stall_runs: int = 2, no_views: bool = False) -> dict:
    window = open_window(app, project, load_keras=False)
    dataset = window.controller.dataset
    panel = window.training_panel
    if no_views:  # diagnosis: the whole window path except drawing
        panel.render = lambda: None
    window_fit(app, window)  # warm-up: imports, kernels, the session's worker
    plain_fit(project, dataset)
    sides = {
        "plain": lambda: plain_fit(project, dataset),
        "engine": lambda: engine_fit(project, dataset),
        # no 10 ms timer here: its hundred wake-ups a second take the GIL from the
        # training thread too, and the other two sides cannot run one (they block)
        "window": lambda: window_fit(app, window),
    }
    results: dict[str, list[dict]] = {k: [] for k in sides}
    ratios, ratios_engine = [], []
    names = list(sides)
    for i in range(repeats):
        for key in names[i % 3:] + names[: i % 3]:  # rotate: machine drift hits all alike
            results[key].append(sides[key]())
        w, p, e = (results[k][-1]["seconds"] for k in ("window", "plain", "engine"))
        ratios.append(w / p)
        ratios_engine.append(w / e)
        last = results["window"][-1]
        print(f"  {name} repeat {i + 1}: plain {p:.2f} s, engine {e:.2f} s, window {w:.2f} s, "
              f"window/plain {w / p:.3f}, window/engine {w / e:.3f}; "
              f"{last['redraws'] / w:.1f} redraws/s, "
              f"{last['images'] / w:.1f} boundary pictures/s "
              f"({last['images_training']:.1f} while training); GUI thread busy "
              f"{100 * last['gui_cpu']:.1f} % of the run"
              + (f"; plane snapshots {last['plane_n']} taking {last['plane_s']:.2f} s"
                 if last["plane_n"] else ""), flush=True)
    import gc

    started = time.perf_counter()
    gc.collect()  # what Keras's clear_session() costs at each fresh Train, now
    print(f"  {name}: a full garbage collection takes {1000 * (time.perf_counter() - started):.0f}"
          f" ms ({len(gc.get_objects())} tracked objects, {gc.get_freeze_count()} frozen)",
          flush=True)
    stalls = []
    for i in range(stall_runs):  # the GUI stall, in runs of their own with the 10 ms timer
        stalls.append(window_fit(app, window, meter))
        print(f"  {name} stall run {i + 1}: longest GUI gap {stalls[-1]['max_gap_ms']:.1f} ms "
              f"(ending {stalls[-1]['max_gap_at']:.2f} s into the run of "
              f"{stalls[-1]['seconds']:.1f} s), 99th percentile {stalls[-1]['p99_gap_ms']:.1f} ms",
              flush=True)
    plane = panel.plane_source.last_cost if panel.plane_source is not None else 0.0
    window.controller.undo_stack.setClean()
    window.close()
    pump(app, 0.2)
    runs = results["window"]
    return {
        "case": name,
        "plain_s": statistics.median(r["seconds"] for r in results["plain"]),
        "engine_s": statistics.median(r["seconds"] for r in results["engine"]),
        "window_s": statistics.median(r["seconds"] for r in runs),
        "ratio": statistics.median(ratios),
        "ratio_range": (min(ratios), max(ratios)),
        "ratio_engine": statistics.median(ratios_engine),
        "max_gap_ms": max(r["max_gap_ms"] for r in stalls) if stalls else float("nan"),
        "p99_gap_ms": statistics.median(r["p99_gap_ms"] for r in stalls) if stalls
        else float("nan"),
        "redraws_per_s": statistics.median(r["redraws"] / r["seconds"] for r in runs),
        "images_per_s": statistics.median(r["images"] / r["seconds"] for r in runs),
        "images_training": statistics.median(r["images_training"] for r in runs),
        "gui_cpu": statistics.median(r["gui_cpu"] for r in runs),
        "gui_budget": float(os.environ.get("LAYERLAB_GUI_BUDGET", "0.05")),
        "plane_snapshot_ms": plane * 1000,
        "same_loss": all(abs(a["loss"] - b["loss"]) <= 1e-4 * max(1.0, abs(a["loss"]))
                         for a, b in zip(results["plain"], runs)),
    }


def cold_start(app: QApplication, epochs: int) -> dict:
    """Stalls while the window imports Keras in the background and then trains for the
    first time in this process (Keras tracing its functions)."""
    meter = GapMeter()
    meter.start()
    window = open_window(app, circle_project(epochs), load_keras=True)
    loop = QEventLoop()
    window.kerasReady.connect(loop.quit)
    if not window.keras_ready:
        loop.exec()
    import_gaps = meter.stop()
    pump(app, 0.5)  # the session's worker starts (warm_up)
    run = window_fit(app, window, meter)
    window.controller.undo_stack.setClean()
    window.close()
    pump(app, 0.2)
    return {"import_max_gap_ms": max(import_gaps), "first_run_max_gap_ms": run["max_gap_ms"],
            "first_run_s": run["seconds"]}


def million_points(app: QApplication) -> dict:
    """Milliseconds for one redraw of the loss plot holding a million batch points."""
    from gui_app.core.history_views import RunRecord, Series
    from gui_app.ui.plots import MetricPlots

    plots = MetricPlots()
    plots.resize(700, 400)
    plots.show()
    record = RunRecord(1, "synthetic")
    n = 1_000_000
    x = np.arange(n) / 1000.0
    y = 1.0 / (1.0 + x) + 0.05 * np.random.default_rng(0).random(n)
    for key in ("loss", "accuracy"):
        record.batches[key], record.smooth[key] = Series(), Series()
        record.batches[key].extend(x, y)
        record.smooth[key].extend(x, y)
        record.epochs[key], record.epochs["val_" + key] = Series(), Series()
        record.epochs[key].extend(np.arange(1, 1001), y[::1000])
        record.epochs["val_" + key].extend(np.arange(1, 1001), y[::1000])
    record.epoch_logs = [{"loss": 0.1}] * 1000
    plots.set_run_end(1001)  # as during a run: the epoch axis spans the whole run
    plots.set_record(record)
    pump(app, 0.3)
    times = []
    for i in range(30):
        start = time.perf_counter()
        for key in ("loss", "accuracy"):
            record.batches[key].append(1000 + i / 30, 0.1)
            record.smooth[key].append(1000 + i / 30, 0.1)
        plots.refresh()
        plots.view.viewport().repaint()
        times.append((time.perf_counter() - start) * 1000)
    plots.close()
    return {"points": n, "redraw_ms": statistics.median(times)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--circle-epochs", type=int, default=100)
    parser.add_argument("--mlp-samples", type=int, default=20_000)
    parser.add_argument("--mlp-epochs", type=int, default=3)
    parser.add_argument("--stall-runs", type=int, default=2,
                        help="window runs with the 10 ms timer, per model")
    parser.add_argument("--no-views", action="store_true",
                        help="diagnosis: events handled, nothing drawn")
    parser.add_argument("--only", choices=("mlp", "circle"))
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start stall")
    parser.add_argument("--gui-budget", type=float,
                        help="the window's GUI budget (LAYERLAB_GUI_BUDGET; default 0.05)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if args.gui_budget is not None:
        os.environ["LAYERLAB_GUI_BUDGET"] = str(args.gui_budget)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui_app.ui.app import readable_font

    readable_font(app)
    cold = None if args.no_cold else cold_start(app, 20)
    if cold:
        print(f"cold: max GUI gap {cold['import_max_gap_ms']:.0f} ms while Keras imports, "
              f"{cold['first_run_max_gap_ms']:.0f} ms during the first run "
              f"({cold['first_run_s']:.1f} s)", flush=True)
    import keras

    meter = GapMeter()
    folder = Path(tempfile.mkdtemp(prefix="layerlab-bench-data-"))
    results = []
    if args.only in (None, "circle"):
        results.append(measure(app, f"Circle 2-8-8-1, 400 samples, {args.circle_epochs} "
                                    "epochs, boundary 100x100", circle_project(args.circle_epochs),
                               args.repeats, meter, args.stall_runs, args.no_views))
    if args.only in (None, "mlp"):
        results.append(measure(app, f"MLP 784-300-100-10, {args.mlp_samples} samples, "
                                    f"{args.mlp_epochs} epochs, PCA-plane boundary",
                               mlp_project(args.mlp_samples, args.mlp_epochs, folder),
                               args.repeats, meter, args.stall_runs, args.no_views))
    big = million_points(app)
    print()
    from gui_app.ui.training_panel import GUI_BUDGET

    print(f"Keras {keras.__version__} ({keras.backend.backend()}), {os.cpu_count()} CPU cores, "
          f"Python {platform.python_version()}, Qt offscreen; GUI budget {GUI_BUDGET:g}; "
          f"median of {args.repeats}")
    print()
    print("| model | plain fit (s) | engine alone (s) | window (s) | window / plain | "
          "window / engine | GUI thread busy | max GUI gap (ms) | redraws/s | "
          "boundary pictures/s (while training) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['case']} | {r['plain_s']:.2f} | {r['engine_s']:.2f} | {r['window_s']:.2f} "
              f"| {r['ratio']:.3f} ({r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}) "
              f"| {r['ratio_engine']:.3f} | {100 * r['gui_cpu']:.1f} % | "
              f"{r['max_gap_ms']:.0f} (p99 {r['p99_gap_ms']:.0f}) | {r['redraws_per_s']:.1f} | "
              f"{r['images_per_s']:.1f} ({r['images_training']:.1f}) |")
    print()
    if cold:
        print(f"Cold start: longest GUI gap {cold['import_max_gap_ms']:.0f} ms while the window "
              f"imports Keras in the background, {cold['first_run_max_gap_ms']:.0f} ms during "
              "the first run (Keras tracing).")
    print(f"A redraw of the loss and accuracy plots holding {big['points']:,} batch points "
          f"each: {big['redraw_ms']:.1f} ms (median of 30).")
    for r in results:
        if not r["same_loss"]:
            print(f"note: {r['case']}: plain fit and the window ended with different losses")
    if args.json:
        args.json.write_text(json.dumps({"cold": cold, "results": results, "million": big},
                                        indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
