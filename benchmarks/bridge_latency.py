"""How long the training bridge and the window take to react: the wall-clock figures that
tests/ui/test_session_bridge.py and tests/ui/test_training_panel.py used to assert.

The tests now check behaviour (which path delivers what, that a stop ends the run as
"stopped", that closing the window ends the worker); the times, which depend on how busy
the machine is, are measured here and printed as medians.

1. The bridge (`SessionBridge`, no Keras): from the worker thread's listener call to the
   GUI thread's delivery, the median of --repeats of each:
   - a boundary picture that is due (the worker wakes the GUI thread at once);
   - the end of a run (`Finished`), right after a delivery: never held back
     (goal < 100 ms, well before the heartbeat);
   - a lone progress report right after a delivery, with nothing after it: the heartbeat
     delivers it (about HEARTBEAT_MS; goal < 2 x HEARTBEAT_MS).
2. The window (a tiny circle run, 80 points, --window-runs times; `--no-window` skips it):
   - Stop (what Esc does) to the panel's runEnded (goal < 5 s);
   - `window.close()` while training, until it returns (goal < 3 s).

Run (from the repository root):

    QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \\
        benchmarks/bridge_latency.py [--repeats 30] [--window-runs 3] [--no-window]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("LAYERLAB_SETTINGS_DIR", tempfile.mkdtemp(prefix="layerlab-bench-"))

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gui_app.core.boundary import BoundaryGrid  # noqa: E402
from gui_app.core.training import BatchProgress, BoundarySnapshot, Finished  # noqa: E402

HEARTBEAT_GOAL = 2.0  # x HEARTBEAT_MS
FINISHED_GOAL_MS = 100.0
STOP_GOAL_S = 5.0
CLOSE_GOAL_S = 3.0


def wait_until(app: QApplication, done: Callable[[], bool], timeout: float = 30.0) -> None:
    end = time.perf_counter() + timeout
    while not done():
        if time.perf_counter() > end:
            raise TimeoutError("waited too long")
        app.processEvents()
        time.sleep(0.0005)


def _snapshot(step: int) -> BoundarySnapshot:
    xs = np.linspace(-1, 1, 4)
    values = np.full((4, 4, 1), 0.25 * (step % 4), np.float32)
    return BoundarySnapshot(1, 0, step, BoundaryGrid(xs, xs, values, "binary", (0, 1)))


def _progress(step: int) -> BatchProgress:
    return BatchProgress(1, 0, step, 10, {"loss": 1.0 / step}, 100.0, 0.1 * step)


def bridge_figures(app: QApplication, repeats: int) -> dict[str, list[float]]:
    """Milliseconds from the listener call on a worker thread to the delivery."""
    from gui_app.ui.session_bridge import SessionBridge

    bridge = SessionBridge(10.0)  # a delivery every 100 ms at most, as in the tests
    arrived: list[float] = []
    bridge.delivered.connect(lambda events: arrived.append(time.perf_counter()))
    out: dict[str, list[float]] = {"picture": [], "finished": [], "heartbeat": []}

    def send(event) -> float:  # noqa: ANN001
        """Calls the listener on a worker thread; waits for the delivery; returns ms."""
        before, sent = len(arrived), []

        def worker() -> None:
            sent.append(time.perf_counter())
            bridge.listener(event)

        thread = threading.Thread(target=worker)
        thread.start()
        wait_until(app, lambda: len(arrived) > before)
        thread.join()
        return (arrived[-1] - sent[0]) * 1000

    step = 1
    for _ in range(repeats):
        time.sleep(0.12)  # past the interval: the picture is due
        app.processEvents()
        out["picture"].append(send(_snapshot(step)))  # ... and the next one just after it
        out["heartbeat"].append(send(_progress(step + 1)))
        time.sleep(0.12)
        app.processEvents()
        send(_snapshot(step + 2))  # a delivery, then the end of the run just after it
        out["finished"].append(send(Finished(1, {"loss": [0.5]}, "completed", "done", 1)))
        step += 3
    bridge.close()
    return out


def tiny_project(epochs: int):  # noqa: ANN201
    """The tests' run: 80 circle points, 4 batches an epoch."""
    from gui_app.core.spec import default_project

    project = default_project()
    return project.replace(data={**project.data, "samples": 80, "validation_split": 0.2},
                           fit={"epochs": epochs, "batch_size": 16, "seed": 0})


def window_figures(app: QApplication, runs: int) -> dict[str, list[float]]:
    """Seconds from Stop to runEnded, and for close() while training."""
    from gui_app.ui.main_window import MainWindow

    MainWindow.confirm_discard = lambda self: True  # never ask to save
    out: dict[str, list[float]] = {"stop": [], "close": []}

    def training_window():  # noqa: ANN202
        window = MainWindow(tiny_project(1000), load_keras=False)
        window.resize(1280, 800)
        window.show()
        panel = window.training_panel
        if not panel.train():
            raise RuntimeError(f"Train refused: {panel.message.text()}")
        wait_until(app, lambda: panel.record is not None and panel.record.epochs_done >= 2,
                   timeout=180.0)
        return window, panel

    for _ in range(runs):
        window, panel = training_window()
        ended: list[float] = []
        panel.runEnded.connect(lambda _event, e=ended: e.append(time.perf_counter()))
        started = time.perf_counter()
        panel.stop()
        wait_until(app, lambda e=ended: bool(e), timeout=60.0)
        out["stop"].append(ended[0] - started)
        window.close()
        app.processEvents()

        window, panel = training_window()
        started = time.perf_counter()
        window.close()
        out["close"].append(time.perf_counter() - started)
        app.processEvents()
    return out


def median_line(name: str, values: list[float], unit: str, goal: str) -> str:
    spread = f"{min(values):.1f}-{max(values):.1f}" if unit == "ms" else \
        f"{min(values):.2f}-{max(values):.2f}"
    fmt = ".1f" if unit == "ms" else ".2f"
    return (f"  {name:<36} median {statistics.median(values):{fmt}} {unit} "
            f"(range {spread}, n={len(values)}); {goal}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="bridge measurements of each")
    parser.add_argument("--window-runs", type=int, default=3,
                        help="window runs for Stop and for close (Keras; a few s each)")
    parser.add_argument("--no-window", action="store_true", help="the bridge figures only")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from gui_app.ui.session_bridge import HEARTBEAT_MS

    bridge = bridge_figures(app, args.repeats)
    print(f"Bridge (SessionBridge at 10 deliveries a second, HEARTBEAT_MS = {HEARTBEAT_MS}):")
    print(median_line("picture due -> delivered", bridge["picture"], "ms", "at once"))
    print(median_line("Finished -> delivered", bridge["finished"], "ms",
                      f"goal < {FINISHED_GOAL_MS:.0f} ms"))
    print(median_line("lone progress -> heartbeat delivery", bridge["heartbeat"], "ms",
                      f"goal < {HEARTBEAT_GOAL * HEARTBEAT_MS:.0f} ms"))
    if not args.no_window and args.window_runs > 0:
        window = window_figures(app, args.window_runs)
        print("Window (tiny circle run, 80 points):")
        print(median_line("Stop -> runEnded", window["stop"], "s", f"goal < {STOP_GOAL_S:.0f} s"))
        print(median_line("close() while training", window["close"], "s",
                          f"goal < {CLOSE_GOAL_S:.0f} s"))
    print(f"({os.cpu_count()} cores; medians: the machine may be shared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
