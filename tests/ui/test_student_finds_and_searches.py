"""Issue 14's student case, through the window: on the spiral lesson, Training > Find
Learning Rate, use its suggestion, turn the first layer's units and the learning rate into
a search of 8 trials, apply the best trial, and train."""

from __future__ import annotations

import importlib.util

import pytest
from PySide6.QtCore import Qt

from gui_app.core.lessons import list_examples

from .files_support import close_quietly, make_window
from .test_search_view import search_units_and_rate

if importlib.util.find_spec("keras_tuner") is None:
    pytest.skip("keras-tuner is not installed", allow_module_level=True)

#: Epochs per trial: the lesson's 200 under `model.fit` take about 30 s a trial here; the
#: search is the point, not how far each trial gets.
TRIAL_EPOCHS = 15


@pytest.mark.slow
def test_spiral_find_a_rate_search_apply_the_best_and_train(qtbot):
    win = make_window(qtbot)
    try:
        spiral = next(x.path for x in list_examples() if x.path.name.startswith("02c"))
        assert win.files.open_example(spiral, confirm=False)
        win.controller.wait_for_data()
        lesson_epochs = win.controller.project.fit.epochs

        # 1. the learning-rate finder, and its suggestion used (one undoable edit)
        win.lr_finder.action.trigger()
        finder = win.lr_finder.dialog
        qtbot.waitUntil(finder.start_button.isEnabled, timeout=120_000)
        qtbot.mouseClick(finder.start_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: finder.result is not None, timeout=180_000)
        suggested = finder.result.suggested_lr
        assert suggested is not None, finder.message
        qtbot.mouseClick(finder.use_button, Qt.MouseButton.LeftButton)
        assert win.controller.project.compile.optimizer.args["learning_rate"] == suggested
        finder.close()

        # 2. units and learning rate become a search of 8 trials, each a short fit
        search_units_and_rate(qtbot, win)
        win.controller.set_fit({"epochs": TRIAL_EPOCHS}, "Shorter trials")
        view = win.search.open()
        view.max_trials.setValue(8)
        view.start_button.click()
        qtbot.waitUntil(lambda: win.search.runner.result is not None, timeout=600_000)
        done = win.search.runner.result
        assert done.status == "completed", done.message
        assert view.table.rowCount() == 8
        best = win.search.runner.best()

        # 3. the best trial applied, then a real run at the lesson's length
        view.apply_button.click()
        project = win.controller.project
        assert project.model.layers[0].args["units"] == best.values["model.layers[0].units"]
        assert project.compile.optimizer.args["learning_rate"] == pytest.approx(
            best.values["compile.optimizer.learning_rate"])
        view.close()
        win.controller.set_fit({"epochs": lesson_epochs}, "The lesson's epochs")
        panel = win.training_panel
        with qtbot.waitSignal(panel.runEnded, timeout=300_000) as ended:
            assert panel.train(), panel.message_text
        event = ended.args[0]
        assert type(event).__name__ == "Finished", getattr(event, "message", event)
        assert event.epochs_done == lesson_epochs
        assert len(panel.record.epoch_logs) == lesson_epochs
    finally:
        win.search.runner.stop()
        close_quietly(win)
