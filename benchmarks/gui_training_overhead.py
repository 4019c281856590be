"""Training through the window: its cost against plain `model.fit`, GUI stalls, refresh rate,
with and without the live view's workarounds (arms), side by side.

The window trains in its engine process (`window.engine_link`, started by the window), so
the GIL is not shared with training any more. The live view's old workarounds for the
shared GIL sit behind the switches of `gui_app/ui/qt_painting.py`; each arm of this
benchmark is one setting of them, with a window of its own (and so an engine of its own):

- qt: both on (Qt-only painting, core pinning), what the window does by default;
- stock: both off (stock pyqtgraph items updated with setData / setImage, no pinning);
- nopaint, nopin: one of the two off.

Measured on the 2-core development machine (shared, noisy; December 2026, circle, 3-5
interleaved repeats per run): the window's time over the qt arm's, per repeat, was for
stock 1.10-1.20 (median 1.18), for nopaint 0.91-1.06 (1.02) with the GUI thread busy
12-14 % of a core against 4-5 % and GUI gaps of 40-48 ms while training against 17-25 ms
(p99 30 ms against 14 ms), and for nopin 0.99-1.14 (1.08; 1.03 in an earlier run). The
GIL is not shared any more, but the two cores are: the window's CPU time is taken from
TensorFlow's threads. Both are kept. The rate feedback loop that used to retune the
redraw rate to keep the GUI thread under 5 % of a core never acted (the Qt painting stays
under it) and was removed: without it, 0.90-1.12 (median 0.96).

Figures, in one run with the real main windows open (Qt offscreen), the live plots and the
decision-boundary view on:

1. Overhead. The circle network (2-8-8-1, 400 samples, validation every epoch, boundary
   100 x 100) and the 784-300-100-10 MLP (batch 32, random fixed data, boundary on the
   plane of the first two principal components) are trained on the same data with the
   same seed, interleaved (the order rotates each repeat, reversed every other) and
   repeated: plain `model.fit(verbose=0)` in a child process of its own (clear_session,
   build, compile, fit), the engine alone (a session of the first arm's engine whose events nobody draws)
   and each arm's window (its Train button's path: engine session, bridge, plots,
   boundary, progress). Reported per arm: the median and range of the per-repeat ratios
   window / plain (goal <= 1.05) and window / engine.
2. GUI stall: the longest gap between ticks of a 10 ms QTimer on the GUI thread, during
   extra window runs of their own per arm (goal < 30 ms). Optionally (not --no-cold) cold
   too: while the window's engine imports Keras and trains for the first time.
3. Refresh rate: plot redraws and boundary pictures per second during the window's runs
   (goal >= 15 redraws/s): over the whole run from the press of Train, and while training,
   from the second picture to the last. The steady rates come from the stall runs, which
   train the circle for --rate-epochs (1,500) epochs: the compiled loop trains 100 epochs
   of it in well under a second, too short for a rate. And the cost of one
   redraw with a million batch points, per painting (Qt-only and stock).

Run (from the repository root):

    QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \\
        benchmarks/gui_training_overhead.py [--repeats 3] [--arms qt,stock] [--only circle]
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

#: Seconds after the press of Train from which "while running" gaps are counted.
START_S = 0.5


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


ARMS = {
    # name: (QT_PAINTING, PIN_CORES)
    "qt": (True, True),
    "stock": (False, False),
    "nopaint": (False, True),
    "nopin": (True, False),
}


def set_arm(arm: str) -> None:
    """Sets the switches of `gui_app.ui.qt_painting` for `arm` (painting is read when the
    views are built, pinning at each run)."""
    from gui_app.ui import qt_painting

    qt_painting.QT_PAINTING, qt_painting.PIN_CORES = ARMS[arm]


def pump(app: QApplication, seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)


def open_window(app: QApplication, project: Project, load_keras: bool,
                meter: GapMeter | None = None):
    """A shown window with its training views made. With `meter`, the meter starts at the
    window's first paint (its construction is the launch benchmark's), and the views come
    as the window makes them after its first paint, not all at once here."""
    from gui_app.ui.main_window import MainWindow

    window = MainWindow(project, load_keras=load_keras)
    window.resize(1440, 900)
    if meter is not None:
        window.firstShown.connect(meter.start)
    window.show()
    pump(app, 0.3)
    while meter is not None and window.part_if_made("training_panel") is None:
        pump(app, 0.05)
    deadline = time.perf_counter() + 120
    while window.controller.dataset is None and time.perf_counter() < deadline:
        pump(app, 0.05)
    if window.controller.dataset is None:
        raise RuntimeError(f"the data did not load: {window.controller.data_error}")
    if meter is None:  # (measured, the views come as the window makes them: Train's turn)
        window.training_panel.ensure_views()
        window._make_room_for_training()  # noqa: SLF001
    pump(app, 0.3)
    return window


def _rate_between(times: list[float], start: float | None) -> float:
    """Events per second in `times` from `start` to the last one (NaN when too few)."""
    if start is None:
        return float("nan")
    inside = [t for t in times if t >= start]
    if len(inside) < 4:
        return float("nan")
    return (len(inside) - 1) / (inside[-1] - inside[0])


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
    drawn: list[float] = []  # when each plot redraw happened
    original_refresh = panel.plots.refresh

    def refresh():  # noqa: ANN202
        drawn.append(time.perf_counter())
        return original_refresh()

    panel.plots.refresh = refresh
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
    del panel.plots.refresh
    gaps = meter.stop() if meter is not None else []
    worst_at = meter.longest()[1] if meter is not None else float("nan")
    # the press of Train itself (the editor locks, the views clear) is one long event
    running = [g for g, t in zip(gaps, meter.ends) if t > START_S] if meter is not None else []
    panel.runEnded.disconnect(ended.append)
    panel.runEnded.disconnect(loop.quit)
    event = ended[-1]
    if type(event).__name__ == "Failed":
        raise RuntimeError(event.message + "\n" + event.detail)
    return {"seconds": seconds, "loss": float(event.history["loss"][-1]),
            "gui_cpu": gui_cpu / seconds,
            "redraws": panel.plots.redraws - redraws0,
            "images": panel.boundary.images_shown - images0,
            # pictures per second while training: from the second picture to the last. The
            # first shows the fresh model before its first batch, and Keras tracing that
            # batch (about 1 s for the MLP) is not training.
            "images_training": (len(shown) - 2) / (shown[-1] - shown[1])
            if len(shown) > 3 else float("nan"),
            # redraws per second while training, the same way (from the picture that
            # follows the first batch to the last redraw)
            "redraws_training": _rate_between(drawn, shown[1] if len(shown) > 3 else None),
            "max_gap_ms": max(gaps) if gaps else float("nan"), "max_gap_at": worst_at,
            "max_gap_running_ms": max(running) if running else float("nan"),
            "p99_gap_ms": float(np.percentile(gaps, 99)) if gaps else float("nan")}


PLAIN_SCRIPT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import keras
from gui_app.core.build import build_model, compile_model
from gui_app.core.data import load_dataset
from gui_app.core.project import project_from_json
from gui_app.core.devices import resolve_device
resolve_device("auto", keras.backend.backend())  # as an engine session has done
data = {}
for line in sys.stdin:
    project = project_from_json(json.loads(line))
    key = json.dumps(project.data.to_json(), sort_keys=True)
    if key not in data:
        data[key] = load_dataset(project.data)
    ds = data[key]
    start = time.perf_counter()
    keras.backend.clear_session()  # as the window's Train from fresh weights does
    keras.utils.set_random_seed(int(project.fit["seed"]))
    model = build_model(project.model)
    compile_model(model, project.compile)
    kwargs = {}
    if ds.x_val is not None:
        kwargs["validation_data"] = (ds.x_val, ds.y_val)
    history = model.fit(ds.x_train, ds.y_train, epochs=int(project.fit["epochs"]),
                        batch_size=int(project.fit["batch_size"]), verbose=0, **kwargs)
    print("PLAIN " + json.dumps({"seconds": time.perf_counter() - start,
                                 "loss": float(history.history["loss"][-1])}), flush=True)
"""


class PlainFitter:
    """Plain Keras in a child process of its own (the window's process never imports
    Keras); one `model.fit` per call, timed there."""

    def __init__(self) -> None:
        import subprocess

        self.child = subprocess.Popen([sys.executable, "-c", PLAIN_SCRIPT, str(ROOT)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      text=True, bufsize=1)

    def fit(self, project: Project) -> dict:
        from gui_app.core.project import project_to_json

        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write(json.dumps(project_to_json(project)) + "\n")
        self.child.stdin.flush()
        for line in self.child.stdout:
            if line.startswith("PLAIN "):
                return json.loads(line[6:])
        raise RuntimeError("the plain-fit process ended")

    def close(self) -> None:
        if self.child.stdin is not None:
            self.child.stdin.close()
        self.child.wait(30)


def engine_fit(window, project: Project, dataset) -> dict:
    """The same project trained by a session of `window`'s engine whose events are
    dropped: from `start()` until Finished arrives."""
    from gui_app.ui.training_panel import PROGRESS_INTERVAL

    session = window.engine_link.session(project, dataset=dataset,
                                         progress_interval=PROGRESS_INTERVAL)
    _ = session.device  # the session is open in the engine
    ended: list = []
    session.subscribe(lambda e: ended.append(e) if type(e).__name__ in ("Finished", "Failed")
                      else None)
    try:
        start = time.perf_counter()
        session.start()
        session.wait()
        seconds = time.perf_counter() - start
    finally:
        session.close()
    if not ended or type(ended[-1]).__name__ == "Failed":
        raise RuntimeError(f"the engine-alone run failed: {ended[-1:]}")
    return {"seconds": seconds, "loss": float(ended[-1].history["loss"][-1])}


def measure(app: QApplication, name: str, project: Project, repeats: int, meter: GapMeter,
            arms: list[str], plain: PlainFitter, stall_runs: int = 2,
            rate_epochs: int | None = None) -> dict:
    windows = {}
    for arm in arms:
        set_arm(arm)
        windows[arm] = open_window(app, project, load_keras=False)
        window_fit(app, windows[arm])  # warm-up: the engine starts, Keras traces
    first = windows[arms[0]]
    dataset = first.controller.dataset
    plain.fit(project)  # warm-up
    engine_fit(first, project, dataset)

    def run_arm(arm: str, stall: GapMeter | None = None) -> dict:
        set_arm(arm)
        return window_fit(app, windows[arm], stall)

    sides = {"plain": lambda: plain.fit(project),
             "engine": lambda: engine_fit(first, project, dataset)}
    # no 10 ms timer in the timed runs: its wake-ups would cost the GUI thread too
    sides.update({arm: (lambda a=arm: run_arm(a)) for arm in arms})
    results: dict[str, list[dict]] = {k: [] for k in sides}
    names = list(sides)
    for i in range(repeats):
        k = i % len(names)
        order = names[k:] + names[:k]  # rotate, and reverse every other repeat: machine
        for key in (order if i % 2 == 0 else order[::-1]):  # drift hits all sides alike
            results[key].append(sides[key]())
        p, e = results["plain"][-1]["seconds"], results["engine"][-1]["seconds"]
        line = [f"  {name} repeat {i + 1}: plain {p:.2f} s, engine {e:.2f} s"]
        for arm in arms:
            r = results[arm][-1]
            w = r["seconds"]
            line.append(f"    {arm}: window {w:.2f} s, window/plain {w / p:.3f}, "
                        f"window/engine {w / e:.3f}, {r['redraws'] / w:.1f} redraws/s, "
                        f"{r['images'] / w:.1f} pictures/s ({r['images_training']:.1f} while "
                        f"training), GUI thread busy {100 * r['gui_cpu']:.1f} %")
        print("\n".join(line), flush=True)
    stalls: dict[str, list[dict]] = {arm: [] for arm in arms}
    if rate_epochs:  # long enough for a steady rate: the compiled loop ends 100 epochs fast
        for window in windows.values():
            window.controller.set_fit({"epochs": rate_epochs}, "benchmark: a longer run")
    for i in range(stall_runs):  # the GUI stall, in runs of their own with the 10 ms timer
        for arm in (arms if i % 2 == 0 else arms[::-1]):
            stalls[arm].append(run_arm(arm, meter))
            r = stalls[arm][-1]
            print(f"  {name} stall run {i + 1}, {arm}: longest GUI gap {r['max_gap_ms']:.1f} ms "
                  f"(ending {r['max_gap_at']:.2f} s into the run of {r['seconds']:.1f} s), "
                  f"{r['max_gap_running_ms']:.1f} ms after the first {START_S:g} s, "
                  f"99th percentile {r['p99_gap_ms']:.1f} ms; while training "
                  f"{r['redraws_training']:.1f} redraws/s, {r['images_training']:.1f} "
                  "pictures/s", flush=True)
    for window in windows.values():
        window.controller.undo_stack.setClean()
        window.close()
    pump(app, 0.5)
    plain_runs, engine_runs = results["plain"], results["engine"]
    out = {"case": name, "plain_s": statistics.median(r["seconds"] for r in plain_runs),
           "engine_s": statistics.median(r["seconds"] for r in engine_runs), "arms": {}}
    for arm in arms:
        runs = results[arm]
        ratios = [w["seconds"] / p["seconds"] for w, p in zip(runs, plain_runs)]
        ratios_engine = [w["seconds"] / e["seconds"] for w, e in zip(runs, engine_runs)]
        out["arms"][arm] = {
            "window_s": statistics.median(r["seconds"] for r in runs),
            "ratio": statistics.median(ratios), "ratio_range": (min(ratios), max(ratios)),
            "ratios": ratios,
            "ratio_engine": statistics.median(ratios_engine),
            "ratio_engine_range": (min(ratios_engine), max(ratios_engine)),
            "max_gap_ms": max(r["max_gap_ms"] for r in stalls[arm]) if stalls[arm]
            else float("nan"),
            "max_gap_running_ms": max(r["max_gap_running_ms"] for r in stalls[arm])
            if stalls[arm] else float("nan"),
            "p99_gap_ms": statistics.median(r["p99_gap_ms"] for r in stalls[arm])
            if stalls[arm] else float("nan"),
            "redraws_per_s": statistics.median(r["redraws"] / r["seconds"] for r in runs),
            "images_per_s": statistics.median(r["images"] / r["seconds"] for r in runs),
            "images_training": statistics.median(r["images_training"] for r in runs),
            # the steady rates, from the long stall runs
            "redraws_steady": statistics.median(r["redraws_training"] for r in stalls[arm])
            if stalls[arm] else float("nan"),
            "images_steady": statistics.median(r["images_training"] for r in stalls[arm])
            if stalls[arm] else float("nan"),
            "gui_cpu": statistics.median(r["gui_cpu"] for r in runs),
            "same_loss": all(abs(a["loss"] - b["loss"]) <= 1e-4 * max(1.0, abs(a["loss"]))
                             for a, b in zip(plain_runs, runs)),
        }
    return out


def cold_start(app: QApplication, epochs: int) -> dict:
    """Stalls while the window's engine imports Keras and then trains for the first time
    (Keras tracing its functions), with the switches as the environment sets them."""
    meter = GapMeter()
    window = open_window(app, circle_project(epochs), load_keras=True, meter=meter)
    loop = QEventLoop()
    window.kerasReady.connect(loop.quit)
    if not window.keras_ready:
        loop.exec()
    import_gaps = meter.stop()
    pump(app, 0.5)  # the session opens in the engine (warm_up)
    run = window_fit(app, window, meter)
    window.controller.undo_stack.setClean()
    window.close()
    pump(app, 0.2)
    return {"import_max_gap_ms": max(import_gaps), "first_run_max_gap_ms": run["max_gap_ms"],
            "first_run_s": run["seconds"]}


def million_points(app: QApplication, arm: str) -> dict:
    """Milliseconds for one redraw of the loss plot holding a million batch points."""
    from gui_app.core.history_views import RunRecord, Series
    from gui_app.ui.plots import MetricPlots

    set_arm(arm)
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
    parser.add_argument("--arms", default="qt,stock",
                        help=f"comma-separated, of {', '.join(ARMS)} (default qt,stock)")
    parser.add_argument("--circle-epochs", type=int, default=100)
    parser.add_argument("--mlp-samples", type=int, default=20_000)
    parser.add_argument("--mlp-epochs", type=int, default=3)
    parser.add_argument("--stall-runs", type=int, default=2,
                        help="window runs with the 10 ms timer, per model and arm")
    parser.add_argument("--rate-epochs", type=int, default=1500,
                        help="the circle's epochs in the stall runs, which also give the "
                             "steady redraw and picture rates (0: as in the timed runs)")
    parser.add_argument("--only", choices=("mlp", "circle"))
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start stall")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        parser.error(f"unknown arms {unknown}; choose from {', '.join(ARMS)}")

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui_app.ui.app import readable_font

    readable_font(app)
    cold = None if args.no_cold else cold_start(app, 20)
    if cold:
        print(f"cold: max GUI gap {cold['import_max_gap_ms']:.0f} ms while Keras loads, "
              f"{cold['first_run_max_gap_ms']:.0f} ms during the first run "
              f"({cold['first_run_s']:.1f} s)", flush=True)
    meter = GapMeter()
    folder = Path(tempfile.mkdtemp(prefix="layerlab-bench-data-"))
    plain = PlainFitter()
    results = []
    try:
        if args.only in (None, "circle"):
            results.append(measure(app, f"Circle 2-8-8-1, 400 samples, {args.circle_epochs} "
                                        "epochs, boundary 100x100",
                                   circle_project(args.circle_epochs), args.repeats, meter,
                                   arms, plain, args.stall_runs, args.rate_epochs or None))
        if args.only in (None, "mlp"):
            results.append(measure(app, f"MLP 784-300-100-10, {args.mlp_samples} samples, "
                                        f"{args.mlp_epochs} epochs, PCA-plane boundary",
                                   mlp_project(args.mlp_samples, args.mlp_epochs, folder),
                                   args.repeats, meter, arms, plain, args.stall_runs))
    finally:
        plain.close()
    painted = {"qt": million_points(app, "qt"), "stock": million_points(app, "stock")}
    print()
    print(f"{os.cpu_count()} CPU cores, Python {platform.python_version()}, Qt offscreen; "
          f"median (min-max) of {args.repeats} interleaved repeats; arms: "
          + "; ".join(f"{a} = painting {'Qt' if ARMS[a][0] else 'stock'}, pinning "
                      f"{'on' if ARMS[a][1] else 'off'}" for a in arms))
    print()
    print("| model | arm | plain fit (s) | engine alone (s) | window (s) | window / plain | "
          f"window / engine | GUI thread busy | max GUI gap (ms; after {START_S:g} s; p99) | "
          "redraws/s (steady, in the long runs) | "
          "boundary pictures/s (while training; steady) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in results:
        for arm, a in r["arms"].items():
            print(f"| {r['case']} | {arm} | {r['plain_s']:.2f} | {r['engine_s']:.2f} | "
                  f"{a['window_s']:.2f} | {a['ratio']:.3f} ({a['ratio_range'][0]:.3f}-"
                  f"{a['ratio_range'][1]:.3f}) | {a['ratio_engine']:.3f} "
                  f"({a['ratio_engine_range'][0]:.3f}-{a['ratio_engine_range'][1]:.3f}) | "
                  f"{100 * a['gui_cpu']:.1f} % | {a['max_gap_ms']:.0f}; "
                  f"{a['max_gap_running_ms']:.0f}; {a['p99_gap_ms']:.0f} | "
                  f"{a['redraws_per_s']:.1f} ({a['redraws_steady']:.1f}) | "
                  f"{a['images_per_s']:.1f} ({a['images_training']:.1f}; "
                  f"{a['images_steady']:.1f}) |")
    print()
    base = arms[0]
    for r in results:
        for arm in arms[1:]:
            a, b = r["arms"][arm], r["arms"][base]
            paired = [x / y for x, y in zip(a["ratios"], b["ratios"])]
            print(f"{r['case']}: {arm} / {base} window time, per repeat: "
                  + ", ".join(f"{v:.3f}" for v in paired)
                  + f" (median {statistics.median(paired):.3f})")
    if cold:
        print(f"Cold start: longest GUI gap {cold['import_max_gap_ms']:.0f} ms while the "
              f"engine loads Keras, {cold['first_run_max_gap_ms']:.0f} ms during the first "
              "run (Keras tracing).")
    for arm, big in painted.items():
        print(f"A redraw of the loss and accuracy plots holding {big['points']:,} batch points "
              f"each, {arm} painting: {big['redraw_ms']:.1f} ms (median of 30).")
    for r in results:
        for arm, a in r["arms"].items():
            if not a["same_loss"]:
                print(f"note: {r['case']}, {arm}: plain fit and the window ended with "
                      "different losses")
    if args.json:
        args.json.write_text(json.dumps({"cold": cold, "results": results,
                                         "million": painted}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
