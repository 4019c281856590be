"""Hyperparameter search in the window: Search... beside a field, the markers in the model
table and the code, Training > Search... running Keras Tuner in the engine with a live
trials table, Apply Best (undoable), and no Keras in the window's process."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui_app.core.project import loads, save_project
from gui_app.core.spec import SearchDim

from ..search_support import tiny_project_json
from .files_support import close_quietly, make_window

# Keras Tuner runs in the engine process: looked for, never imported, in the window's
if importlib.util.find_spec("keras_tuner") is None:
    pytest.skip("keras-tuner is not installed", allow_module_level=True)

TINY = tiny_project_json()
HEAVY = ("keras", "tensorflow", "keras_tuner", "jax", "torch")


def heavy_modules() -> set[str]:
    return {m for m in HEAVY if m in sys.modules}


@pytest.fixture
def win(qtbot, tmp_path):
    window = make_window(qtbot)
    path = save_project(loads(json.dumps(TINY)), tmp_path / "tiny.layerlab.json")
    window.controller.reset(loads(json.dumps(TINY)), path)
    window.controller.wait_for_data()
    yield window
    window.search.runner.stop()
    close_quietly(window)


def answer_dialog(qtbot, fill) -> None:
    """Fills the search editor that a click opens (modal), then presses its button."""
    def act() -> None:
        dialog = QApplication.activeModalWidget()
        assert dialog is not None and dialog.objectName() == "searchDimDialog"
        fill(dialog)
    QTimer.singleShot(0, act)


def search_units_and_rate(qtbot, win) -> None:
    """Turns layer 0's units and the optimizer's learning rate into searches, through the
    buttons beside the fields."""
    win.table.select_layers([0])
    qtbot.waitUntil(lambda: win.inspector.layer_index == 0)
    form = win.inspector.form()
    button = form.search_buttons.buttons["units"]
    assert button.isVisible() and not button.isChecked()

    def units(dialog) -> None:
        dialog.low.setText("2")
        dialog.high.setText("32")
        dialog.step.setText("2")
        assert dialog.ok.isEnabled(), dialog.problem.text()
        dialog.ok.click()

    answer_dialog(qtbot, units)
    button.click()
    assert win.controller.project.search.space == (
        SearchDim("model.layers[0].units", "int", 2, 32, 2),)
    assert button.isChecked() and form.labels["units"].text().endswith("~")

    rate_form = win.compile_panel.optimizer.form_for("Adam")
    rate_button = rate_form.search_buttons.buttons["learning_rate"]

    def rate(dialog) -> None:
        assert dialog.sampling.currentData() == "log"  # a rate is searched on a log scale
        dialog.low.setText("0")  # refused: log sampling needs a positive start
        assert not dialog.ok.isEnabled() and "above 0" in dialog.problem.text()
        dialog.low.setText("0.001")
        dialog.high.setText("0.1")
        assert dialog.ok.isEnabled(), dialog.problem.text()
        dialog.ok.click()

    answer_dialog(qtbot, rate)
    rate_button.click()
    assert win.controller.project.search.paths() == (
        "model.layers[0].units", "compile.optimizer.learning_rate")


def test_searched_settings_are_marked_in_the_table_and_the_code(qtbot, win):
    search_units_and_rate(qtbot, win)
    model = win.table.model()
    cell = model.index(1, 1).data()
    assert "[search: units 2–32]" in cell
    assert "model.layers[0].units: 2 to 32 in steps of 2" in model.index(1, 0).data(3)
    code = win.code_pane.text
    assert "layers.Dense(8, activation=\"relu\"),  # searched: units 2–32" in code
    assert "# searched: learning_rate 0.001–0.1" in code
    # a layer inserted above takes the search along; undo puts it back
    win.controller.add_layer("Dense", 0)
    assert win.controller.project.search.paths()[0] == "model.layers[1].units"
    win.controller.undo_stack.undo()
    assert win.controller.project.search.paths()[0] == "model.layers[0].units"


def test_search_in_the_window_applies_the_best_and_undo_restores(qtbot, win):
    before_heavy = heavy_modules()
    search_units_and_rate(qtbot, win)
    window = win.search.open()
    assert window.isVisible() and window.start_button.text() == "Start"
    window.max_trials.setValue(3)
    assert win.controller.project.search.max_trials == 3
    searched = win.controller.project
    window.start_button.click()
    assert win.search.runner.running
    # the trials share the engine: Train and editing wait for the search
    assert win.training.state == "searching" and win.controller.locked
    assert not win.training_panel.act_train.isEnabled()
    assert "Searching hyperparameters" in win.training_panel.banner.text()
    qtbot.waitUntil(lambda: win.search.runner.result is not None, timeout=180_000)
    done = win.search.runner.result
    assert done.status == "completed", done.message
    assert win.training.state == "idle" and not win.controller.locked
    assert win.training_panel.act_train.isEnabled()
    table = window.table
    assert table.rowCount() == 3
    heads = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert heads == ["#", "units", "learning_rate", "val_accuracy", "status", "time"]
    assert [table.item(r, 4).text() for r in range(3)] == ["completed"] * 3
    assert all(table.item(r, 5).text().endswith(" s") for r in range(3))
    xs, _ys = window.scores.getData()
    assert sorted(xs) == [1, 2, 3]  # each trial's score
    xs, ys = window.best_line.getData()
    assert xs[0] == 1 and xs[-1] == 3 and list(ys) == sorted(ys)  # best so far (highest)
    assert window.start_button.text() == "Continue" and window.apply_button.isEnabled()
    best = win.search.runner.best()
    assert best.values == done.best
    # each finished trial's curves go to the Training plots, as earlier runs
    assert window.curves_button.isEnabled()
    window.curves_button.click()
    plots = win.training_panel.plots
    assert [r.label.split(":")[0] for r in plots.earlier] == ["Trial 1", "Trial 2", "Trial 3"]
    assert all(r.epochs_done == 1 for r in plots.earlier)
    assert set(plots.plots) >= {"loss", "accuracy"}
    assert all(len(p.overlays) == 3 for p in plots.plots.values())
    menu = [a.text() for a in win.training_panel.runs_menu.actions()]
    assert any(t.startswith("Run 1: Trial 1: units") for t in menu), menu
    window.curves_button.click()  # nothing new to draw
    assert len(plots.earlier) == 3 and "already" in window.status.text()
    window.apply_button.click()
    applied = win.controller.project
    assert applied != searched
    assert applied.model.layers[0].args["units"] == best.values["model.layers[0].units"]
    assert applied.compile.optimizer.args["learning_rate"] == pytest.approx(
        best.values["compile.optimizer.learning_rate"])
    assert "Applied trial" in window.status.text()
    win.controller.undo_stack.undo()
    assert win.controller.project == searched
    assert (Path(win.controller.path).parent / "tiny.search").is_dir()
    # the window's process never loaded Keras, TensorFlow or Keras Tuner for this
    assert heavy_modules() == before_heavy


def test_the_editor_offers_a_choice_for_names(qtbot, win):
    from gui_app.ui.search_fields import SearchDimDialog

    dialog = SearchDimDialog(win.controller.project, "model.layers[0].activation", win)
    qtbot.addWidget(dialog)
    assert dialog.kind.currentData() == "choice"
    checked = [dialog.values.item(i).text() for i in range(dialog.values.count())
               if dialog.values.item(i).checkState().value == 2]
    assert checked[0] == "relu" and len(checked) >= 2
    assert dialog.ok.isEnabled()
    dialog._on_accept()
    assert dialog.result_dim.kind == "choice" and "relu" in dialog.result_dim.values


def test_the_optimizer_itself_can_be_searched(qtbot, win):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QToolButton

    button = win.compile_panel.findChild(QToolButton, "search_compile_optimizer")
    assert button is not None and not button.isChecked()

    def choose(dialog) -> None:
        for i in range(dialog.values.count()):
            item = dialog.values.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in ("Adam", "SGD")
                               else Qt.CheckState.Unchecked)
        assert dialog.ok.isEnabled(), dialog.problem.text()
        dialog.ok.click()

    answer_dialog(qtbot, choose)
    button.click()
    dim = win.controller.project.search.dim("compile.optimizer")
    assert dim.kind == "choice" and set(dim.values) == {"Adam", "SGD"}
    assert button.isChecked()
    win.controller.undo_stack.undo()
    assert win.controller.project.search is None and not button.isChecked()
