"""The window's responsiveness from launch through its first run, now that Keras lives in the
engine process: launch to visible, and the longest gap in the GUI thread's event loop.

    .venv/bin/python benchmarks/launch_gaps.py [--runs 3] [--xvfb]

Each run starts a fresh window process (settings in a temporary folder) on the default
circle project with 20 epochs. A 5 ms QTimer in the window's process records the gaps
between its ticks: a gap of 30 ms means the GUI thread could not redraw or take a click for
30 ms. The figures, per run and as medians:

- shown: process start (from /proc) to the window's first paint finished (`firstShown`);
- gap to ready: the longest gap from the window shown until the engine said hello
  (Keras loads in the engine meanwhile; pyqtgraph imports on a thread here);
- gap to train: the same until Train is pressed, half a second after the hello (the
  views made at the hello included);
- gap in run: the longest gap from pressing Train until the run's end;
- engine ready: process start to the engine's hello.

Two arms, alternating: the engine started before Qt is imported, as `layerlab` does
(`engine.client.prestart`), and started after the window's first paint. Both reuse one
settings folder, so after the warm-up run the window is a returning person's: the Training
tab in front, as the run before left it. A third arm, "a new person", starts each run with
empty settings: the Code tab in front, so Train raises the Training tab and shows its
views for the first time (`--new-person-runs`, 0 to leave it out).

Goals (issue 12): shown <= 0.6 s on a real X server, both gaps < 30 ms. With --xvfb the
window runs on a real X server (Xvfb, which must be installed: apt-get install xvfb and the
xcb libraries the app's platform check names); otherwise offscreen.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent('''
    import json, os, sys, time
    def _since_start():  # the process's age, from /proc: "shown" counts Python's start too
        with open("/proc/self/stat", encoding="ascii") as handle:
            ticks = int(handle.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as handle:
            return float(handle.read().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
    t0 = time.perf_counter() - _since_start()
    if os.environ.get("BENCH_PRESTART") == "1":  # as `layerlab` does, before Qt loads
        from gui_app.engine.client import prestart
        prestart()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    from gui_app.core.spec import default_project
    from gui_app.ui.main_window import MainWindow

    app = QApplication([])
    win = MainWindow(default_project().replace(fit={"epochs": 20, "batch_size": 32}),
                     load_keras=True)
    win.confirm_discard = lambda: True
    marks = {}
    gaps = []
    last = [None]

    def tick():
        now = time.perf_counter()
        if last[0] is not None:
            gaps.append((now, now - last[0]))
        last[0] = now

    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(tick)

    def shown():
        marks["shown"] = time.perf_counter()
        timer.start()

    win.firstShown.connect(shown)
    # The training panel is made after the first paint (main_window.LATER_MODULES): not
    # asked for early here, which would make it at once, before the window shows.
    win.partMade.connect(lambda name: name == "training_panel"
                         and win.training_panel.runEnded.connect(ended))
    win.kerasReady.connect(lambda: marks.setdefault("ready", time.perf_counter()))

    def ended(_event):
        marks["ended"] = time.perf_counter()
        QTimer.singleShot(200, app.quit)

    def maybe_train():
        if "ready" in marks and "train" not in marks:
            QTimer.singleShot(500, lambda: (marks.setdefault("train", time.perf_counter()),
                                            win.training_panel.train()))
        elif "train" not in marks:
            QTimer.singleShot(50, maybe_train)

    QTimer.singleShot(0, maybe_train)
    QTimer.singleShot(240_000, app.quit)  # a hang guard
    win.show()
    app.exec()
    win.close()

    def longest(a, b):
        inside = [g for t, g in gaps if a <= t <= b]
        return max(inside) if inside else None

    print("RESULT " + json.dumps({
        "shown": marks.get("shown", 0) - t0,
        "engine_ready": marks.get("ready", 0) - t0,
        "gap_to_ready": longest(marks.get("shown", 0), marks.get("ready", 0)),
        "gap_to_train": longest(marks.get("shown", 0), marks.get("train", 0)),
        "gap_in_run": longest(marks.get("train", 0), marks.get("ended", 0)),
        "ended": "ended" in marks,
        "worst_in_run": sorted(((round(g * 1000), round(t - marks.get("train", 0), 2))
                                for t, g in gaps
                                if marks.get("train", 0) <= t <= marks.get("ended", 0)),
                               reverse=True)[:4],
    }))
''')


def one_run(env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"no result (exit {done.returncode}):\n{done.stdout}\n{done.stderr[-2000:]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--xvfb", action="store_true", help="run on Xvfb (a real X server)")
    parser.add_argument("--new-person-runs", type=int, default=None,
                        help="runs with empty settings each time (default: --runs)")
    args = parser.parse_args(argv)
    settings = tempfile.mkdtemp(prefix="layerlab-gaps-")
    env = dict(os.environ, LAYERLAB_SETTINGS_DIR=settings, TF_CPP_MIN_LOG_LEVEL="3",
               PYTHONPATH=str(ROOT))
    # Python writes and reuses its bytecode (.pyc), as on a person's machine after the
    # first start and in the installers: with PYTHONDONTWRITEBYTECODE set (this machine's
    # shell sets it), every start compiled the app's 90 modules again, 0.27 s of it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    xvfb = None
    if args.xvfb:
        if shutil.which("Xvfb") is None:
            print("Xvfb is not installed: apt-get install xvfb", file=sys.stderr)
            return 2
        xvfb = subprocess.Popen(["Xvfb", ":97", "-screen", "0", "1440x900x24", "-nolisten",
                                 "tcp"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)
        env.update(DISPLAY=":97", QT_QPA_PLATFORM="xcb")
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    arms = {"engine started before the window (as layerlab does)": "1",
            "engine started after the first paint": "0"}
    new_person = "a new person (empty settings each run; engine started as layerlab does)"
    new_runs = args.runs if args.new_person_runs is None else args.new_person_runs
    results: dict[str, list[dict]] = {arm: [] for arm in arms}
    if new_runs > 0:
        results[new_person] = []
    try:
        one_run(dict(env, BENCH_PRESTART="1"))  # warm the file cache
        for i in range(max(args.runs, new_runs)):  # the arms side by side, alternating
            for arm, flag in arms.items():
                if i < args.runs:
                    results[arm].append(one_run(dict(env, BENCH_PRESTART=flag)))
            if i < new_runs:
                empty = tempfile.mkdtemp(prefix="layerlab-gaps-new-")
                try:
                    results[new_person].append(one_run(dict(
                        env, BENCH_PRESTART="1", LAYERLAB_SETTINGS_DIR=empty)))
                finally:
                    shutil.rmtree(empty, ignore_errors=True)
    finally:
        if xvfb is not None:
            xvfb.terminate()
        shutil.rmtree(settings, ignore_errors=True)
    print(f"platform: {'Xvfb (xcb)' if args.xvfb else 'offscreen'}, {os.cpu_count()} cores, "
          f"{args.runs} runs of each arm ({new_runs} of the new person's) after a warm-up")
    for arm, runs in results.items():
        print(f"\n{arm}:")
        print("| figure | runs | median | goal |")
        print("| --- | --- | --- | --- |")
        for key, unit, goal in (("shown", "s", "<= 0.6 s"), ("gap_to_ready", "ms", "< 30 ms"),
                                ("gap_to_train", "ms", "< 30 ms"),
                                ("gap_in_run", "ms", "< 30 ms"), ("engine_ready", "s", "-")):
            values = [r[key] for r in runs if r.get(key) is not None]
            scale = 1000 if unit == "ms" else 1
            shown = ", ".join(f"{v * scale:.0f}" if unit == "ms" else f"{v:.2f}"
                              for v in values)
            median = statistics.median(values) * scale if values else float("nan")
            text = f"{median:.0f} ms" if unit == "ms" else f"{median:.2f} s"
            print(f"| {key.replace('_', ' ')} | {shown} | {text} | {goal} |")
        for i, r in enumerate(runs):
            print(f"run {i + 1}: longest gaps in the run (ms, seconds after Train): "
                  f"{r.get('worst_in_run')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
