"""Helpers for the file-side UI tests: a window that really prompts, dialogs, a subprocess app.

`run_driver` starts the real application (`gui_app.ui.app.run_app`, offscreen, without
Keras) in a child process and drives it from a QTimer inside that process, so that the
tests can kill it with SIGKILL and start it again, as a crash would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QMessageBox

ROOT = Path(__file__).resolve().parents[2]


def make_window(qtbot: Any, **kwargs: Any) -> Any:
    """A real main window (the unsaved-changes prompt is left in), shown offscreen."""
    from gui_app.ui.main_window import MainWindow

    win = MainWindow(load_keras=False, **kwargs)
    # pytest-qt closes its widgets before fixtures end: make that close never prompt.
    qtbot.addWidget(win, before_close_func=lambda w: w.controller.undo_stack.setClean())
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def close_quietly(win: Any) -> None:
    """Closes a window whatever it holds (the test already checked what it needed)."""
    win.controller.undo_stack.setClean()
    win.close()
    win.controller.wait_for_data()


def refuse_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keras datasets that are not cached fail at once instead of trying the network."""
    def refuse(fname: str, origin: str, *_args: Any, **_kwargs: Any) -> Path:
        raise OSError(f"no network in tests ({origin})")

    monkeypatch.setattr("gui_app.core.data._download", refuse)


def window_for_test(qtbot: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Body of each test module's `win` fixture: a real window that asks before losing
    work (answer with `answer_prompts`), with Keras downloads refused."""
    refuse_downloads(monkeypatch)
    win = make_window(qtbot)
    yield win
    close_quietly(win)


class Answers:
    """Stands in for QMessageBox.question: records each question, gives a set answer."""

    def __init__(self, answer: QMessageBox.StandardButton) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, _parent: Any, _title: str, text: str, *_args: Any) -> Any:
        self.asked.append(text)
        return self.answer


def answer_prompts(monkeypatch: pytest.MonkeyPatch, answer: str) -> Answers:
    """Makes the unsaved-changes prompt answer Save, Discard or Cancel."""
    answers = Answers(getattr(QMessageBox.StandardButton, answer))
    monkeypatch.setattr(QMessageBox, "question", answers)
    return answers


def choose_file(monkeypatch: pytest.MonkeyPatch, path: Path | str | None,
                kind: str = "getOpenFileName") -> list[tuple[Any, ...]]:
    """Makes the next QFileDialog.<kind> return `path` (None: the person cancelled)."""
    from PySide6.QtWidgets import QFileDialog

    calls: list[tuple[Any, ...]] = []

    def fake(*args: Any, **_kwargs: Any) -> tuple[str, str]:
        calls.append(args)
        return (str(path) if path is not None else "", "")

    monkeypatch.setattr(QFileDialog, kind, staticmethod(fake))
    return calls


def dialog_text(box: QMessageBox | None) -> str:
    assert box is not None, "no dialog was shown"
    return "\n".join(t for t in (box.text(), box.informativeText()) if t)


def run_app_in_process(qtbot: Any, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Any:
    """`gui_app.ui.app.run_app(args)` up to its event loop (which returns at once here);
    returns the window it made, registered with qtbot so it is closed after the test."""
    from PySide6.QtWidgets import QApplication

    from gui_app.ui.app import run_app
    from gui_app.ui.main_window import MainWindow

    made: list[Any] = []
    original_init = MainWindow.__init__

    def remember(self: Any, *a: Any, **k: Any) -> None:
        original_init(self, *a, **k)
        made.append(self)

    monkeypatch.setattr(MainWindow, "__init__", remember)
    monkeypatch.setattr(QApplication, "exec", lambda _self: 0)
    monkeypatch.setenv("LAYERLAB_NO_KERAS", "1")
    assert run_app(args) == 0
    [win] = made
    qtbot.addWidget(win, before_close_func=lambda w: w.controller.undo_stack.setClean())
    return win


# -- the application in a child process ------------------------------------------------------

DRIVER = r'''
import json, os, sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from gui_app.ui.app import run_app

app = QApplication(sys.argv[:1])
mode = os.environ["DRIVER_MODE"]


def window():
    for w in QApplication.topLevelWidgets():
        if w.objectName() == "mainWindow" and w.isVisible():
            return w
    return None


def state(w):
    c = w.controller
    box = w.files.recovery_dialog
    return {
        "title": w.windowTitle(), "name": c.project.name, "clean": c.is_clean,
        "path": str(c.path) if c.path else None,
        "layers": [layer.type for layer in c.project.model.layers],
        "recovery": box.text() if box is not None and box.isVisible() else None,
        "error": w.last_dialog.text() if w.last_dialog is not None else None,
        "lesson": w.files.lesson_panel.isVisible(),
        "pending_weights": str(w.files.pending_weights) if w.files.pending_weights else None,
    }


def emit(tag, payload):
    print(tag + " " + json.dumps(payload), flush=True)


def tick():
    w = window()
    if w is None or not w._shown_once:
        QTimer.singleShot(50, tick)
        return
    if mode == "report":
        def report():
            emit("STATE", state(w))
            w.controller.undo_stack.setClean()  # Qt 6's quit() closes windows: no prompt
            app.quit()
        QTimer.singleShot(300, report)
    elif mode == "edit":
        w.controller.add_layer("Dropout")
        emit("EDITED", state(w))
    elif mode in ("restore", "discard"):
        def answer():
            box = w.files.recovery_dialog
            if box is None:
                emit("STATE", state(w))
                app.quit()
                return
            emit("OFFER", {"text": box.text(), "info": box.informativeText()})
            name = "restoreButton" if mode == "restore" else "discardButton"
            next(b for b in box.buttons() if b.objectName() == name).click()
            emit("STATE", state(w))
            target = os.environ.get("DRIVER_SAVE_TO")
            if target:
                w.save_to(Path(target))
                emit("SAVED", state(w))
            app.quit()
        QTimer.singleShot(300, answer)


QTimer.singleShot(0, tick)
sys.exit(run_app(sys.argv[1:]))
'''


def driver_env(settings: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", LAYERLAB_NO_KERAS="1",
               LAYERLAB_SETTINGS_DIR=str(settings), PYTHONPATH=str(ROOT))
    env.pop("LAYERLAB_EXIT_AFTER_SHOWN", None)
    env.update(extra)
    return env


def start_driver(mode: str, settings: Path, args: list[str] | None = None,
                 **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", DRIVER, *(args or [])], cwd=ROOT,
                            env=driver_env(settings, DRIVER_MODE=mode, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def run_driver(mode: str, settings: Path, args: list[str] | None = None,
               timeout: float = 60, **extra: str) -> dict[str, Any]:
    """Runs the app to completion in `mode`; returns its tagged JSON lines by tag."""
    proc = start_driver(mode, settings, args, **extra)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return parse_lines(out)


def parse_lines(out: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in out.splitlines():
        tag, _, payload = line.partition(" ")
        if tag.isupper() and payload.startswith("{"):
            found[tag] = json.loads(payload)
    return found


def wait_for(predicate: Callable[[], bool], timeout: float = 20, step: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()
