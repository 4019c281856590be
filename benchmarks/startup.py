"""Launch-to-visible-window time of the LayerLab window.

    .venv/bin/python benchmarks/startup.py [--runs 5]

Each run spawns `python -m gui_app` (offscreen Qt, settings in a temporary folder) with
LAYERLAB_EXIT_AFTER_SHOWN=1: the app prints the wall-clock time at which its window was
first shown and painted, and exits. The figure is that time minus the moment just before
the spawn, so it includes starting Python and every import. The goal is under 1 s on a
2-core machine; Keras must not be imported by then (it loads in the background after).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 1.0


def one_run(settings_dir: str) -> tuple[float, float, bool]:
    """Returns (spawn to shown, process start to shown as the app measured it, keras loaded)."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERLAB_EXIT_AFTER_SHOWN="1",
               LAYERLAB_SETTINGS_DIR=settings_dir, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode reused, as on a person's machine
    start = time.time()
    done = subprocess.run([sys.executable, "-m", "gui_app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    for line in done.stdout.splitlines():
        if line.startswith("LAYERLAB_SHOWN"):
            fields = dict(item.split("=", 1) for item in line.split()[1:])
            return (float(fields["wall"]) - start, float(fields["since_start"]),
                    fields.get("keras_loaded") == "1")
    raise RuntimeError(f"the app did not report its window (exit {done.returncode}):\n"
                       f"{done.stdout}\n{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="layerlab-startup-") as settings_dir:
        one_run(settings_dir)  # warm the file cache: the figure is a warm start
        runs = [one_run(settings_dir) for _ in range(args.runs)]
    spawn = [r[0] for r in runs]
    inside = [r[1] for r in runs]
    median = statistics.median(spawn)
    print(f"launch to visible window, {args.runs} runs on {os.cpu_count()} cores:")
    print("  spawn -> shown:   " + "  ".join(f"{t:.3f}" for t in spawn) + " s")
    print("  process -> shown: " + "  ".join(f"{t:.2f}" for t in inside) + " s (/proc, 10 ms ticks)")
    print(f"  median {median:.3f} s (goal < {GOAL_S:.1f} s): {'OK' if median < GOAL_S else 'TOO SLOW'}")
    print(f"  Keras imported before the window showed: {'yes' if any(r[2] for r in runs) else 'no'}")
    return 0 if median < GOAL_S and not any(r[2] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
