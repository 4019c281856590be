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


ENGINE_PROBE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui_app.engine import client
from gui_app.ui import app as launcher

app = QApplication(sys.argv[:1])
started = {}
real_prestart = client.prestart

def prestart():
    real_prestart()
    started["pid"] = client._prestarted.pid

client.prestart = prestart

def poll():
    for window in QApplication.topLevelWidgets():
        if type(window).__name__ == "MainWindow" and window.keras_ready:
            taken = window.training.link.pid
            keras = any(name == "keras" or name.startswith(("keras.", "tensorflow"))
                        for name in sys.modules)
            print(f"ENGINE prestarted={started.get('pid')} taken={taken} keras={int(keras)}",
                  flush=True)
            QApplication.quit()
            return
    QTimer.singleShot(100, poll)

QTimer.singleShot(0, poll)
QTimer.singleShot(120_000, QApplication.quit)
sys.exit(launcher.run_app([]))
"""


def test_the_engine_starts_before_the_window_and_the_window_takes_it(tmp_path):
    """`layerlab` starts the engine before Qt is loaded (Keras loads there while the window
    is built); the window's engine link takes that process instead of starting another."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERLAB_SETTINGS_DIR=str(tmp_path))
    env.pop("LAYERLAB_EXIT_AFTER_SHOWN", None)
    env.pop("LAYERLAB_NO_KERAS", None)
    done = subprocess.run([sys.executable, "-c", ENGINE_PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next((x for x in done.stdout.splitlines() if x.startswith("ENGINE")), None)
    assert line is not None, (done.stdout[-2000:], done.stderr[-3000:])
    fields = dict(item.split("=", 1) for item in line.split()[1:])
    assert fields["prestarted"] != "None" and fields["prestarted"] == fields["taken"]
    assert fields["keras"] == "0"  # the window's own process still never imports it


PARTS_PROBE = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui_app.core.spec import default_project
from gui_app.ui.main_window import MainWindow

app = QApplication(sys.argv[:1])
window = MainWindow(default_project(), load_keras=False)
late = ("gui_app.ui.training_panel", "gui_app.ui.data_panel", "gui_app.ui.fit_panel",
        "gui_app.core.training", "pyqtgraph")
print("BEFORE", [name for name in late if name in sys.modules],
      window.part_if_made("training_panel"), window.part_if_made("data_panel"), flush=True)
events = []
window.firstShown.connect(lambda: events.append("shown"))
window.partMade.connect(events.append)

def poll():
    if window.part_if_made("training_panel") is not None and len(events) >= 4:
        window.setup_tabs.setCurrentWidget(window.data_panel)
        print("EVENTS", events, window.setup_tabs.currentIndex(), flush=True)
        app.quit()
    else:
        QTimer.singleShot(20, poll)

QTimer.singleShot(0, poll)
QTimer.singleShot(30_000, app.quit)
window.show()
app.exec()
window.shutdown()
"""


def test_the_parts_off_screen_are_made_after_the_first_paint(tmp_path):
    """The Data and Fit tabs and the Training tab are not on screen at first: their
    modules (and pyqtgraph, and the core's training package) are not imported before
    the window's first paint, and the parts come after it, one per turn."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERLAB_SETTINGS_DIR=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", PARTS_PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    before = next(x for x in done.stdout.splitlines() if x.startswith("BEFORE"))
    assert before == "BEFORE [] None None", before
    events = next(x for x in done.stdout.splitlines() if x.startswith("EVENTS"))
    assert events == ("EVENTS ['shown', 'data_panel', 'fit_panel', 'training_panel'] 1"), events
