"""The window and its engine process: Keras never loads in the window's process, and a
dead engine leaves the window working with its curves, a message and a fresh engine.

These tests start engines of their own (not the session's shared one), since they kill
them; each start costs about 5 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from gui_app.core.spec import default_project
from gui_app.ui.engine_link import start_engine

ROOT = Path(__file__).resolve().parents[2]


def long_project(epochs: int = 40_000):
    return default_project().replace(
        data={"source": "circle", "samples": 400, "noise": 0.1, "seed": 0,
              "validation_split": 0.2},
        fit={"epochs": epochs, "batch_size": 8})


@pytest.fixture
def win(qtbot, monkeypatch):
    from gui_app.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    monkeypatch.setattr(QMessageBox, "open", lambda self: None)  # no modal boxes here
    window = MainWindow(long_project(), load_keras=False)
    window.engine_link._factory = start_engine  # its own engine: these tests kill it
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.shutdown()


def _ready(qtbot, window, timeout=120_000):
    window.engine_link.start()
    qtbot.waitUntil(lambda: window.engine_link.is_ready, timeout=timeout)


def _epochs(window) -> int:
    return len(window.training_panel.session.history.get("loss", [])) \
        if window.training_panel.session else 0


def test_killing_the_engine_mid_run_keeps_the_window_and_its_curves(qtbot, win):
    _ready(qtbot, win)
    panel = win.training_panel
    first_pid = win.engine_link.pid
    assert panel.train()
    qtbot.waitUntil(lambda: panel.record is not None and panel.running
                    and _epochs(win) >= 2, timeout=60_000)
    record = panel.record
    with qtbot.waitSignal(panel.runEnded, timeout=20_000) as ended:
        os.kill(first_pid, signal.SIGKILL)
    failed = ended.args[0]
    assert "ended unexpectedly (killed by signal 9 (SIGKILL)) at epoch" in failed.message
    assert "of 40000" in failed.message
    assert not panel.running and "killed by signal 9" in panel.message_text
    assert win.isVisible() and win.controller.project.fit["epochs"] == 40_000
    # The curves received so far are kept: the run's record still has its epochs.
    assert panel.record is record and len(record.epoch_logs) >= 2
    # A fresh engine starts by itself, and training works again.
    qtbot.waitUntil(lambda: win.engine_link.is_ready and win.engine_link.pid != first_pid,
                    timeout=120_000)
    assert panel.step_epoch()
    with qtbot.waitSignal(panel.runEnded, timeout=120_000) as ended:
        pass
    assert type(ended.args[0]).__name__ == "Finished", getattr(ended.args[0], "message", "")


def test_killing_an_idle_engine_starts_a_fresh_one(qtbot, win):
    _ready(qtbot, win)
    first = win.engine_link.pid
    with qtbot.waitSignal(win.engine_link.died, timeout=20_000) as died:
        os.kill(first, signal.SIGKILL)
    assert "killed by signal 9" in died.args[0]
    assert "Restarting the training engine" in win.keras_label.text()
    qtbot.waitUntil(lambda: win.engine_link.is_ready and win.engine_link.pid != first,
                    timeout=120_000)
    qtbot.waitUntil(lambda: win.keras_ready, timeout=10_000)


def test_killing_the_engine_during_evaluate_reports_it(qtbot, win):
    _ready(qtbot, win)
    panel = win.training_panel
    win.controller.reset(long_project(epochs=1).replace(
        data={"source": "circle", "samples": 100_000, "seed": 0, "validation_split": 0.5}),
        None)
    assert panel.train()
    with qtbot.waitSignal(panel.runEnded, timeout=180_000):
        pass
    session = panel.session
    results = {}
    panel.background.call(lambda: session.evaluate("val", timeout=120),
                          lambda r: results.setdefault("ok", r),
                          lambda e: results.setdefault("error", e))
    qtbot.wait(1500)
    os.kill(win.engine_link.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: bool(results), timeout=30_000)
    assert "error" in results, results
    assert "ended unexpectedly" in str(results["error"]) or "fresh" in str(results["error"])
    assert win.isVisible()


def test_restart_from_the_training_menu(qtbot, win):
    _ready(qtbot, win)
    first = win.engine_link.pid
    win.restart_engine()
    qtbot.waitUntil(lambda: win.engine_link.is_ready and win.engine_link.pid != first,
                    timeout=120_000)
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)


def test_closing_the_window_ends_the_engine_within_two_seconds(qtbot, win):
    _ready(qtbot, win)
    pid = win.engine_link.pid
    import time

    start = time.monotonic()
    win.close()
    assert time.monotonic() - start < 4.0  # the window's own shutdown included
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


SCRIPT = textwrap.dedent('''
    import json, sys, time
    from pathlib import Path
    from PySide6.QtWidgets import QApplication, QMessageBox
    from gui_app.core.spec import default_project
    from gui_app.ui.main_window import MainWindow

    QMessageBox.open = lambda self: None
    QMessageBox.exec = lambda self: 0
    out = Path(sys.argv[1])
    app = QApplication([])
    project = default_project().replace(fit={"epochs": 2, "batch_size": 32})
    win = MainWindow(project, load_keras=True)
    win.confirm_discard = lambda: True
    win.show()
    seen = {}

    def wait(predicate, seconds):
        deadline = time.monotonic() + seconds
        while not predicate() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        return predicate()

    def heavy():
        return sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)

    assert wait(lambda: win.keras_ready, 180), "the engine never said hello"
    seen["after launch"] = heavy()
    panel = win.training_panel
    ended = []
    panel.runEnded.connect(ended.append)
    assert panel.train()
    assert wait(lambda: ended, 180), "the run never ended"
    seen["after training"] = heavy()
    seen["run"] = type(ended[0]).__name__
    panel.evaluate()
    dialog = panel.evaluate_dialog
    wait(lambda: False, 3)
    seen["after evaluate"] = heavy()
    got = []
    panel._predict(__import__("numpy").zeros(2, dtype="float32"), got.append, got.append)
    assert wait(lambda: got, 30)
    seen["after predict"] = heavy()
    seen["prediction"] = str(type(got[0]).__name__)
    panel._on_boundary_click(__import__("numpy").zeros(2, dtype="float32"), (0.0, 0.0))
    wait(lambda: False, 2)
    seen["after click-to-predict"] = heavy()
    win.files.export_script(str(out.parent / "exported.py"))
    seen["after export"] = heavy()
    seen["exported"] = (out.parent / "exported.py").is_file()
    model = Path(sys.argv[2])
    win.files.import_model(model, confirm=False)
    seen["after import"] = heavy()
    seen["imported layers"] = len(win.controller.project.model.layers)
    win.close()
    out.write_text(json.dumps(seen))
''')


@pytest.mark.slow
def test_the_window_process_never_imports_keras(tmp_path):
    """Launch, train, evaluate, predict, click to predict, export and open a .keras file:
    none of it brings Keras or TensorFlow into the window's process."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model_path = tmp_path / "small.keras"
    model.save(model_path)
    script = tmp_path / "window_run.py"
    script.write_text(SCRIPT)
    out = tmp_path / "seen.json"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
           "LAYERLAB_SETTINGS_DIR": str(tmp_path / "settings"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run([sys.executable, str(script), str(out), str(model_path)],
                            env=env, capture_output=True, text=True, timeout=500)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(out.read_text())
    assert seen["run"] == "Finished"
    assert seen["exported"] and seen["imported layers"] == 2
    for step, modules in seen.items():
        if step.startswith("after"):
            assert modules == [], f"{step}: {modules}"


SILENT_ENGINE = textwrap.dedent('''
    import os, time
    from multiprocessing.connection import Client
    from gui_app.engine import protocol
    host, _, port = os.environ["LAYERLAB_ENGINE_ADDRESS"].rpartition(":")
    c = Client((host, int(port)), authkey=bytes.fromhex(os.environ["LAYERLAB_ENGINE_KEY"]))
    c.send_bytes(protocol.encode(protocol.hello(os.getpid(), "0", "none")))
    time.sleep(120)  # then silence: no heartbeat, no answers
''')


def test_a_silent_engine_is_reported_as_hung(qtbot, monkeypatch):
    from gui_app.engine.client import Engine
    from gui_app.ui import engine_link
    from gui_app.ui.engine_link import EngineLink

    monkeypatch.setattr(engine_link, "HUNG_AFTER_S", 0.5)
    link = EngineLink(factory=lambda: Engine(command=[sys.executable, "-c",
                                                      SILENT_ENGINE]).start())
    link._watch.setInterval(200)
    link.watch_runs(lambda: True)  # as if a run were going
    try:
        with qtbot.waitSignal(link.ready, timeout=30_000):
            link.start()
        with qtbot.waitSignal(link.hung, timeout=10_000) as hung:
            pass
        assert hung.args[0] > 0.5
        first = link.pid
        with qtbot.waitSignal(link.restarted, timeout=10_000):
            link.restart()
        assert link.pid != first
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)
    finally:
        link.close()


def test_an_engine_that_cannot_start_is_not_restarted_forever(qtbot):
    """A broken install: the engine ends before saying hello. Two tries, then the window
    says training cannot start, instead of restarting in a loop."""
    from gui_app.engine.client import Engine
    from gui_app.ui.engine_link import MAX_EARLY_DEATHS, EngineLink

    starts = []

    def broken() -> Engine:
        starts.append(1)
        return Engine(command=[sys.executable, "-c", "raise SystemExit(3)"]).start()

    link = EngineLink(factory=broken)
    try:
        with qtbot.waitSignal(link.cannotStart, timeout=30_000) as failed:
            link.start()
        assert "exited with code 3" in failed.args[0]
        assert len(starts) == MAX_EARLY_DEATHS
        qtbot.wait(500)
        assert len(starts) == MAX_EARLY_DEATHS  # no further restarts
    finally:
        link.close()


def test_an_engine_that_cannot_even_be_spawned_says_why(qtbot):
    from gui_app.engine.client import Engine
    from gui_app.ui.engine_link import EngineLink

    link = EngineLink(factory=lambda: Engine(command=["/nonexistent/python"]).start())
    try:
        with qtbot.waitSignal(link.cannotStart, timeout=5_000) as failed:
            link.start()
        assert "could not start" in failed.args[0]
        session = link.session(long_project())
        from gui_app.core.training import SessionError

        with pytest.raises(SessionError, match="could not start"):
            session.start()
    finally:
        link.close()
