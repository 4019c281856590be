"""Training > Find Learning Rate, driven through the real window and the real engine: the
curve is drawn live, the suggestion is marked with its rule, editing is locked meanwhile,
"Use this rate" changes the project's learning rate as one undoable edit, and a sweep that
fails leaves the window unlocked with the reason shown."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui_app.core.lr_find import RULES, LRFindEvent
from gui_app.core.spec import default_project
from gui_app.core.training import SessionError

pytest.importorskip("pyqtgraph")

SWEEP_TIMEOUT = 90_000  # ms: the first sweep of the module may wait for the engine to start


def small_project():
    """The default network on 200 circle points (160 to train: 5 batches an epoch, so the
    sweep is its floor of 100 batches)."""
    project = default_project()
    return project.replace(data={**project.data, "samples": 200, "validation_split": 0.2},
                           fit={"epochs": 5, "batch_size": 32, "seed": 0})


@pytest.fixture
def win(qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from gui_app.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    window = MainWindow(small_project(), load_keras=False)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    yield window
    window.training_panel.shutdown()
    window.controller.wait_for_data()


def learning_rate(window) -> Any:
    return window.controller.project.compile.optimizer.args.get("learning_rate")


def open_finder(qtbot, window):
    action = window.lr_finder.action
    assert action in window.training_menu.actions() and action.isEnabled()
    action.trigger()
    dialog = window.lr_finder.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(dialog.start_button.isEnabled, timeout=30_000)  # the data has loaded
    return dialog


def test_find_use_the_rate_and_undo(qtbot, win):
    dialog = open_finder(qtbot, win)
    assert not dialog.trained.isEnabled()  # nothing trained yet
    assert not dialog.use_button.isEnabled()
    before = learning_rate(win)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    assert dialog.running and win.training.state == "finding"
    assert win.controller.locked and not win.table.isEnabled()  # editing is locked
    assert win.training_panel.banner.isVisible()
    assert "Finding a learning rate" in win.training_panel.banner.text()
    assert not win.training_panel.act_train.isEnabled()
    assert not win.training_panel.act_stop.isEnabled()  # the finder's Stop ends it
    assert dialog.stop_button.isEnabled() and not dialog.start_button.isEnabled()

    qtbot.waitUntil(lambda: dialog.result is not None, timeout=SWEEP_TIMEOUT)
    result = dialog.result
    assert isinstance(result, LRFindEvent) and result.suggested_lr is not None, dialog.message
    # the curve was drawn while the sweep ran: its first batch comes after the copy is
    # built and traced, over a progress interval (0.07 s) after the start
    assert dialog.live_draws >= 1
    xs, ys = dialog.curve.getData()
    assert len(xs) == len(result.lrs) == 100
    assert dialog.marker.isVisible()
    assert dialog.marker.value() == pytest.approx(math.log10(result.suggested_lr))
    assert dialog.marker.label.format == f"{result.suggested_lr:g}"
    assert f"Suggested learning rate: {result.suggested_lr:g}" in dialog.message
    assert RULES[result.rule] in dialog.message
    # the sweep is over: the window is unlocked, Train is back
    assert win.training.state == "idle" and not win.controller.locked
    assert win.table.isEnabled() and win.training_panel.act_train.isEnabled()
    assert not win.training_panel.banner.isVisible()

    assert dialog.use_button.isEnabled()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert learning_rate(win) == result.suggested_lr != before
    assert f"is now {result.suggested_lr:g}" in dialog.message
    assert win.controller.undo_stack.undoText().startswith("Use learning rate")
    win.act_undo.trigger()
    assert learning_rate(win) == before
    win.act_redo.trigger()
    assert learning_rate(win) == result.suggested_lr


def test_from_the_trained_weights_after_a_run(qtbot, win):
    panel = win.training_panel
    with qtbot.waitSignal(panel.runEnded, timeout=SWEEP_TIMEOUT):
        assert panel.train(), panel.message_text
    weights = panel.session.predict([[0.1, 0.2], [0.5, -0.3]])
    dialog = open_finder(qtbot, win)
    assert dialog.trained.isEnabled()
    dialog.trained.setChecked(True)
    assert dialog.start()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=SWEEP_TIMEOUT)
    assert dialog.result.start == "trained"
    # the run's weights are as they were, and Continue is still offered
    assert (panel.session.predict([[0.1, 0.2], [0.5, -0.3]]) == weights).all()
    assert panel.act_continue.isEnabled() and win.training.state == "idle"


class FailingSession:
    """Stands in for the panel's session: its sweep fails as the engine would say."""

    def __init__(self, project: Any) -> None:
        self.project = project
        self.listeners: list[Any] = []

    def subscribe(self, listener: Any) -> None:
        self.listeners.append(listener)

    def unsubscribe(self, listener: Any) -> None:
        self.listeners.remove(listener)

    def set_project(self, project: Any) -> None:
        self.project = project

    def stop(self) -> None:
        pass

    def lr_find(self, trained: bool = False) -> Any:
        raise SessionError("out of memory on CPU: lower the batch size (32)")


def test_a_failed_sweep_unlocks_the_window_and_says_why(qtbot, win, monkeypatch):
    dialog = open_finder(qtbot, win)
    fake = FailingSession(win.controller.project)
    monkeypatch.setattr(win.training_panel, "ensure_session", lambda: fake)
    assert dialog.start()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    assert win.training.state == "idle" and not win.controller.locked
    assert win.table.isEnabled()
    assert dialog.message.startswith("Could not sweep the learning rate: out of memory")
    assert "Your project is unchanged" in dialog.message
    assert dialog.status.styleSheet()  # shown as an error
    assert dialog.start_button.isEnabled() and not dialog.use_button.isEnabled()
    assert fake.listeners == []  # the dialog no longer listens to it


def test_the_finder_waits_for_a_run(qtbot, win):
    dialog = open_finder(qtbot, win)
    win.training.set_state("running")  # as a Train does
    assert not dialog.start_button.isEnabled()
    assert dialog.start_button.toolTip() == "A training run is going: stop it before " \
        "finding a learning rate."
    assert not dialog.start()
    assert not win.lr_finder.action.isEnabled()
    win.training.set_state("idle")
    assert dialog.start_button.isEnabled() and win.lr_finder.action.isEnabled()


class WaitingSession(FailingSession):
    """A sweep that runs until it is stopped, then ends as the engine's would."""

    def __init__(self, project: Any) -> None:
        super().__init__(project)
        self.stopped = threading.Event()
        self.sweeping = threading.Event()

    def stop(self) -> None:
        self.stopped.set()

    def lr_find(self, trained: bool = False) -> Any:
        self.sweeping.set()
        assert self.stopped.wait(30)
        lrs = np.geomspace(1e-7, 1e-5, 20)
        return LRFindEvent(1, 100, lrs, np.full(20, 0.7), True, reason="stopped",
                           message="Too few batches to suggest a rate: swept ...")


def test_closing_the_finder_stops_its_sweep(qtbot, win, monkeypatch):
    dialog = open_finder(qtbot, win)
    fake = WaitingSession(win.controller.project)
    monkeypatch.setattr(win.training_panel, "ensure_session", lambda: fake)
    assert dialog.start()
    assert fake.sweeping.wait(10) and win.controller.locked
    dialog.close()  # nobody watches it: the sweep stops, and the window unlocks
    assert fake.stopped.is_set()
    qtbot.waitUntil(lambda: not dialog.running, timeout=10_000)
    assert win.training.state == "idle" and not win.controller.locked
    assert dialog.result.reason == "stopped" and dialog.message.startswith("Too few batches")
    assert not dialog.status.styleSheet()  # a stop is no error
