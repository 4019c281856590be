"""Start-up: the window shows without importing Keras (the benchmark measures the time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_window_reports_shown_without_keras(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERLAB_EXIT_AFTER_SHOWN="1",
               LAYERLAB_SETTINGS_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "gui_app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("LAYERLAB_SHOWN"))
    fields = dict(item.split("=", 1) for item in line.split()[1:])
    assert fields["keras_loaded"] == "0"
    assert float(fields["since_start"]) > 0


def test_bad_project_argument_opens_the_default_with_a_message(tmp_path):
    bad = tmp_path / "bad.layerlab.json"
    bad.write_text("{}")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERLAB_EXIT_AFTER_SHOWN="1",
               LAYERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    done = subprocess.run([sys.executable, "-m", "gui_app", str(bad)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "LAYERLAB_SHOWN" in done.stdout
