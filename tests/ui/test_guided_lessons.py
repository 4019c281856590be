"""Guided lessons in the window: every bundled lesson's steps done and ticked, the locks.

One window opens each lesson in turn and does what each step asks, through the project
controller, the panels and the training panel's Train, as a student would; after each
step the tick must be in the lesson panel. Runs keep their full length where a step
checks an accuracy (the lesson's claim is what is ticked), and are cut to a few epochs
where it does not (lessons 2c, 3 and 4). Its 22 runs take about a minute on 2 cores.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtCore import Qt

from gui_app.core.lessons import list_examples
from gui_app.resources import examples_dir
from gui_app.ui.lesson_steps_view import DONE

from .files_support import choose_file, close_quietly, make_window, refuse_downloads

RUN_TIMEOUT = 120_000
XOR = examples_dir() / "02b_xor.layerlab.json"
CIRCLE = examples_dir() / "02a_circle.layerlab.json"

Action = Callable[[Any], None]


class Student:
    """Does what a step asks, in one window."""

    def __init__(self, qtbot: Any, win: Any) -> None:
        self.qtbot, self.win = qtbot, win
        self.panel = win.training_panel
        self.box = win.files.lesson_panel.steps

    def train(self) -> None:
        with self.qtbot.waitSignal(self.panel.runEnded, timeout=RUN_TIMEOUT) as blocker:
            assert self.panel.train(), self.panel.message_text
        event = blocker.args[0]
        assert getattr(event, "reason", None) in ("completed", "early_stopped"), \
            self.panel.message_text

    def epochs(self, n: int) -> None:
        """Shorter runs, where the step's check does not depend on accuracy."""
        self.win.controller.set_fit({"epochs": n}, "Fewer epochs for the test")

    def layer(self, index: int, **args: Any) -> None:
        for name, value in args.items():
            self.win.controller.set_layer_arg(index, name, value)
            self.win.controller.end_merge()

    def next(self) -> None:
        self.box.next_button.click()


def train(s: Student) -> None:
    s.train()


def press_next(s: Student) -> None:
    s.next()


def delete_hidden(s: Student) -> None:
    s.win.table.select_layers([0, 1])
    s.win.delete_selected()  # what Delete on the table does


def linear_hidden(s: Student) -> None:
    s.win.act_undo.trigger()  # the hidden layers come back
    assert len(s.win.controller.project.model.layers) == 3
    s.layer(0, activation=None)
    s.layer(1, activation=None)


def xor_seeds(s: Student) -> None:
    s.layer(0, units=2)
    for seed in (0, 1, 2):
        s.win.controller.set_fit({"seed": seed}, "Set the seed")
        s.train()


def relu_hidden(s: Student) -> None:
    for i in range(3):
        s.layer(i, activation="relu")


def balanced(s: Student) -> None:
    combo = s.win.fit_panel.class_weight  # through the Fit panel, as the step says
    combo.setCurrentIndex(combo.findData("balanced"))
    assert s.win.controller.project.fit["class_weight"] == "balanced"


#: Per lesson (file name up to the first dot), per step: what the student does.
PLANS: dict[str, list[list[Action]]] = {
    "01_linear_classifier": [[train], []],
    "02a_circle": [[train], [delete_hidden, train], [linear_hidden, train]],
    "02b_xor": [[lambda s: s.layer(0, units=1), train], [lambda s: s.layer(0, units=4), train],
                [xor_seeds]],
    "02c_spiral": [[lambda s: s.epochs(5), train], [relu_hidden, train],
                   [lambda s: s.win.controller.remove_layers([2]), train]],
    "03_mlp_fashion_mnist": [[lambda s: s.epochs(2), press_next], [train]],
    "04_house_prices": [[lambda s: s.epochs(5), train], [press_next]],
    "05_unbalanced_classes": [[train], [balanced, train], [press_next]],
    "06a_overfitting": [[train]],
    "06b_early_stopping": [[train]],
    "07_virtual_epochs": [[train],
                          [lambda s: s.win.controller.set_fit({"batch_size": 128}), train]],
    "08a_shapes_dense": [[train]],
    "08b_shapes_cnn": [[train], [press_next]],
}


def test_every_lesson_step_is_ticked_in_the_window(qtbot, monkeypatch):
    pytest.importorskip("keras")
    refuse_downloads(monkeypatch)  # lesson 3 opens on the bundled digits
    win = make_window(qtbot)
    student = Student(qtbot, win)
    box = student.box
    lessons = list_examples()
    assert {lesson.path.name.split(".")[0] for lesson in lessons} == set(PLANS)
    try:
        for lesson in lessons:
            assert win.files.open_example(lesson.path, confirm=False), lesson.name
            qtbot.waitUntil(lambda: not win.controller.data_loading, timeout=RUN_TIMEOUT)
            plan = PLANS[lesson.path.name.split(".")[0]]
            steps = win.controller.project.lesson.steps
            assert len(plan) == len(steps), lesson.name
            assert box.isVisibleTo(win) and box.done == [False] * len(steps), lesson.name
            for i, actions in enumerate(plan):
                assert box.progress.current == i, (lesson.name, i)
                for action in actions:
                    action(student)
                assert box.done[i], (lesson.name, i, steps[i].text, box.state(),
                                     student.panel.message_text)
                assert box.marks.text().count(DONE) == sum(box.done), box.marks.text()
                if box.progress.current == i:  # still shown (Next ticks a check-less step)
                    assert f"{DONE} Done:" in box.text.text(), (lesson.name, i)
                    if i + 1 < len(plan):
                        student.next()
            assert box.progress.complete, lesson.name
            assert "all done" in win.files.lesson_panel.title.text()
    finally:
        student.panel.shutdown()
        close_quietly(win)


# -- locks -------------------------------------------------------------------------------------

def test_the_locks_refuse_edits_say_why_and_grey_the_window(qtbot, monkeypatch):
    refuse_downloads(monkeypatch)
    win = make_window(qtbot)
    try:
        c = win.controller
        assert win.files.open_example(XOR, confirm=False)
        before = c.project
        # a locked setting: refused by the controller, whichever panel asks
        c.set_fit({"epochs": 5})
        assert c.project == before and not c.undo_stack.canUndo()
        message = win.statusBar().currentMessage()
        assert "This lesson keeps fit.epochs as it is" in message, message
        assert "model.layers[0].units, fit.seed" in message
        win.add_layer("Dropout")  # the palette's double-click
        assert c.project == before
        assert "adding, deleting or moving layers" in win.statusBar().currentMessage()
        # an editable one: an ordinary, undoable edit
        c.set_layer_arg(0, "units", 2)
        assert c.project.model.layers[0].args["units"] == 2 and c.undo_stack.canUndo()
        # the window says so before anyone tries
        assert win.palette_dock.isHidden()  # the lesson hides the palette
        assert not win.fit_panel.form.fields["epochs"].isEnabled()
        assert win.fit_panel.form.fields["seed"].isEnabled()
        assert not win.fit_panel.class_weight.isEnabled()
        assert not win.compile_panel.optimizer.combo.isEnabled()
        assert not win.data_panel.widget().isEnabled()
        assert "fit.seed" in win.fit_panel.form.fields["epochs"].toolTip()
        win.table.select_layers([0])
        form = win.inspector.form()
        assert form.fields["units"].isEnabled() and not form.fields["activation"].isEnabled()
        assert "Locked by this lesson" in win.files.lesson_panel.locks.text()
        # a run leaves the greying in place (the window enables the panels after it)
        win.training.set_state("running")
        win.training.set_state("idle")
        assert not win.fit_panel.form.fields["epochs"].isEnabled()
        assert not win.data_panel.widget().isEnabled()
        # another lesson: everything editable and visible again
        assert win.files.open_example(CIRCLE, confirm=False)
        assert not win.palette_dock.isHidden()
        assert win.fit_panel.form.fields["epochs"].isEnabled()
        assert win.compile_panel.optimizer.combo.isEnabled()
        assert win.data_panel.widget().isEnabled()
        assert win.files.lesson_panel.locks.isHidden()
        c.set_fit({"epochs": 5})
        assert c.project.fit["epochs"] == 5
    finally:
        close_quietly(win)


def test_partial_locks_grey_each_locked_control_and_its_search_button(qtbot, tmp_path,
                                                                      monkeypatch):
    """A lesson that lets only the noise and the epochs change: the Data panel stays live
    for the noise, with its source, file and other settings greyed; a locked field's
    search button is greyed with it (a search would change the setting)."""
    refuse_downloads(monkeypatch)
    lesson = json.loads(XOR.read_text())
    lesson["locks"] = {"editable": ["data.noise", "fit.epochs"]}
    path = tmp_path / "partial.layerlab.json"
    path.write_text(json.dumps(lesson))
    win = make_window(qtbot)
    try:
        assert win.files.open_example(path, confirm=False)
        data = win.data_panel
        assert data.widget().isEnabled()  # something in it may change ...
        assert data.form.fields["noise"].isEnabled()
        for locked in (data.source, data.browse, data.form.fields["samples"],
                       data.form.fields["validation_split"]):  # ... but only that
            assert not locked.isEnabled(), locked.objectName()
            assert "Locked by this lesson" in locked.toolTip()
        fit = win.fit_panel.form
        searches = fit.search_buttons.buttons
        assert fit.fields["epochs"].isEnabled() and searches["epochs"].isEnabled()
        assert not fit.fields["batch_size"].isEnabled()
        assert not searches["batch_size"].isEnabled()
        assert "Locked by this lesson" in searches["batch_size"].toolTip()
        # the panel's own enabling by source leaves a locked field greyed
        data.refresh()
        assert not data.form.fields["samples"].isEnabled()
        # another lesson frees them all
        assert win.files.open_example(CIRCLE, confirm=False)
        assert data.source.isEnabled() and data.form.fields["samples"].isEnabled()
        assert searches["batch_size"].isEnabled()
    finally:
        close_quietly(win)


def test_steps_work_from_the_keyboard_and_show_hints(qtbot, monkeypatch):
    refuse_downloads(monkeypatch)
    win = make_window(qtbot)
    try:
        assert win.files.open_example(CIRCLE, confirm=False)
        box = win.files.lesson_panel.steps
        assert box.position.text() == "Step 1 of 3"
        assert not box.back_button.isEnabled() and box.next_button.isEnabled()
        assert not box.hint.isVisibleTo(win)
        win.activateWindow()
        qtbot.waitUntil(win.isActiveWindow)
        box.hint_button.setFocus()
        qtbot.keyClick(box.hint_button, Qt.Key.Key_Space)  # Tab to Hint, Space shows it
        assert box.hint.isVisibleTo(win) and "Train" in box.hint.text()
        focus = win.table  # wherever the focus is in the window
        focus.setFocus()
        status = win.statusBar()
        status.showMessage("Step 1 of 3 done. Next shows step 2.")  # as a tick says it
        qtbot.keyClick(focus, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)  # Alt+N: Next
        # a button's shortcut animates the click: it lands a moment later
        qtbot.waitUntil(lambda: box.position.text() == "Step 2 of 3")
        assert status.currentMessage() == ""  # the tick's line is old news after Next
        assert not box.hint.isVisibleTo(win)
        status.showMessage("Saved circle.layerlab.json")  # any other line stays
        assert "delete both hidden layers" in box.text.text()
        qtbot.keyClick(focus, Qt.Key.Key_B, Qt.KeyboardModifier.AltModifier)  # Alt+B: Back
        qtbot.waitUntil(lambda: box.position.text() == "Step 1 of 3")
        assert status.currentMessage() == "Saved circle.layerlab.json"
        # nothing is ticked by reading ahead: the first step's check has not passed
        assert box.done == [False, False, False]
        lesson = win.files.lesson_panel
        assert "step" not in lesson.title.text()  # the steps' row says where we are ...
        lesson.toggle.click()
        assert "step 1 of 3, 0 done" in lesson.title.text()  # ... and, folded, the title
        assert box.isVisibleTo(win) and not lesson.text.isVisibleTo(win)
    finally:
        close_quietly(win)


# -- File > Save as Lesson ----------------------------------------------------------------------

def test_save_as_lesson_checks_the_steps_and_writes_them_with_the_locks(qtbot, tmp_path,
                                                                       monkeypatch):
    from gui_app.core.project import load_project
    from gui_app.ui.lesson_dialog import LessonDialog, save_as_lesson

    refuse_downloads(monkeypatch)
    win = make_window(qtbot)
    try:
        titles = [a.text() for a in win.files._file_menu().actions()]  # noqa: SLF001
        assert titles.index("Save as &Lesson...") == titles.index("Save &As...") + 1
        c = win.controller
        dialog = LessonDialog(c.project, win)
        qtbot.addWidget(dialog)
        save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
        dialog.description.setPlainText("Why the circle needs hidden layers.")
        # a bad step: the loader's own message, with its path; Save stays off
        dialog.steps.setPlainText(json.dumps([{"text": "Use SGD.", "check": {
            "setting": "compile.optimiser.type", "equals": "SGD"}}]))
        assert not save.isEnabled()
        assert "steps[0].check.setting: compile.optimiser.type: compile has no " \
               "'optimiser'" in dialog.problems.text()
        assert "did you mean 'optimizer'?" in dialog.problems.text()
        dialog.steps.setPlainText('[{"text": "x",')  # not JSON
        assert "not valid JSON at line 1" in dialog.problems.text() and not save.isEnabled()
        dialog.steps.setPlainText(json.dumps([{"text": "Delete the hidden layers and train.",
                                               "check": {"ran": {"model_has": {
                                                   "hidden_layers": 0}}}}]))
        dialog.add_step.click()  # a template step to edit
        dialog.editable.setPlainText("model.layers[*].unit")
        assert "locks.editable" in dialog.problems.text() and not save.isEnabled()
        dialog.lock_all.setChecked(True)
        assert "locks.editable[0]: model.layers[*].unit" in dialog.problems.text()
        assert "did you mean 'units'?" in dialog.problems.text()
        dialog.editable.setPlainText("model.layers[*].units\nfit.epochs")
        dialog.hidden["code"].setChecked(True)
        assert save.isEnabled() and dialog.problems.isHidden(), dialog.problems.text()
        target = tmp_path / "my_lesson.layerlab.json"
        assert save_as_lesson(win, target, dialog)
        saved = load_project(target)
        assert saved.description == "Why the circle needs hidden layers."
        assert [s.text for s in saved.lesson.steps] == [
            "Delete the hidden layers and train.", "Train the model."]
        assert saved.lesson.locks.editable == ("model.layers[*].units", "fit.epochs")
        assert saved.lesson.locks.hidden == ("code",)
        assert json.loads(target.read_text())["version"] == 2
        # the window has the lesson now: its steps, its locks, its hidden panel
        assert c.project == saved and c.path == target and c.is_clean
        assert win.files.lesson_panel.steps.isVisibleTo(win)
        assert win.code_dock.isHidden()
        c.set_data({"noise": 0.3})
        assert c.project == saved and "data.noise" in win.statusBar().currentMessage()
        c.set_fit({"epochs": 7})
        assert c.project.fit["epochs"] == 7
        c.undo_stack.undo()
        c.undo_stack.undo()  # Edit > Undo lifts the lesson
        assert c.project.lesson is None and not win.code_dock.isHidden()
        # reopened, the file is the same lesson
        assert win.open_path(target)
        assert c.project == saved and win.files.lesson_panel.steps.progress is not None
    finally:
        close_quietly(win)


def test_save_as_lesson_from_the_menu(qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from gui_app.core.project import load_project
    from gui_app.ui.lesson_dialog import LessonDialog

    refuse_downloads(monkeypatch)
    win = make_window(qtbot)
    try:
        def answer(dialog: LessonDialog) -> int:
            dialog.steps.setPlainText(json.dumps([{"text": "Train once.",
                                                   "check": {"runs_finished": 1}}]))
            return QDialog.DialogCode.Accepted

        monkeypatch.setattr(LessonDialog, "exec", answer)
        target = tmp_path / "menu"
        choose_file(monkeypatch, target, "getSaveFileName")
        win.files.act_save_lesson.trigger()
        written = tmp_path / "menu.layerlab.json"
        assert load_project(written).lesson.steps[0].text == "Train once."
        assert "Saved the lesson" in win.statusBar().currentMessage()
        choose_file(monkeypatch, None, "getSaveFileName")  # cancelled: nothing written
        win.files.act_save_lesson.trigger()
        assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == [written.name]
    finally:
        close_quietly(win)
