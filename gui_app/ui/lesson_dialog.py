"""File > Save as Lesson: a teacher turns the open project into a guided lesson.

The dialog edits what makes a project a lesson: its text (`description`), its steps (as
the JSON the lesson file holds, with an "Add a step" button that appends a template) and
its locks (one editable setting's path per line, and the panels to hide). Every change is
checked at once with the project loader's own functions (`core.lesson_steps`), so the
problems read exactly as a bad lesson file's would ("steps[1].check.setting: ...");
Save stays off until there are none. The lesson is written with the project, and the
window takes it too (one undoable edit: Edit > Undo lifts its locks again).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.lesson_locks import PANELS, Locks, locks_from_json
from ..core.lesson_steps import CHECK_KINDS, LessonSpec, steps_from_json
from ..core.project import SUFFIX
from ..core.spec import Project
from .fields import ERROR_STYLE

#: The steps' JSON is a few kilobytes; a paste of megabytes is refused before parsing.
MAX_STEPS_CHARS = 200_000
TEMPLATE_STEP = {"text": "Train the model.", "check": {"runs_finished": 1},
                 "hint": "Press Train in the Training tab (Ctrl+Return)."}
CHECKS_HELP = (
    "Checks: " + ", ".join(CHECK_KINDS) + ". For example {\"ran\": {\"model_has\": "
    "{\"hidden_layers\": 0}}}, {\"metric\": \"val_accuracy\", \"at_least\": 0.95}, "
    "{\"setting\": \"compile.optimizer.type\", \"equals\": \"SGD\"}. The README lists "
    "them all.")


class LessonDialog(QDialog):
    """Edits a project's lesson text, steps and locks; `result` gives them once valid."""

    def __init__(self, project: Project, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonDialog")
        self.setWindowTitle("Save as Lesson")
        lesson = project.lesson
        locks = lesson.locks if lesson is not None else None

        self.description = QPlainTextEdit(project.description)
        self.description.setObjectName("lessonDescription")
        self.description.setPlaceholderText("What the lesson is about, in a few sentences.")
        self.description.setTabChangesFocus(True)
        self.steps = QPlainTextEdit()
        self.steps.setObjectName("lessonStepsJson")
        self.steps.setTabChangesFocus(True)
        steps = [s.to_json() for s in lesson.steps] if lesson is not None else []
        self.steps.setPlainText(json.dumps(steps, indent=2))
        self.steps.setToolTip(CHECKS_HELP)
        self.add_step = QPushButton("&Add a step")
        self.add_step.setObjectName("lessonAddStep")
        self.add_step.setToolTip("Appends a step to the list, to edit")
        self.add_step.clicked.connect(self._add_step)
        checks = QLabel(CHECKS_HELP)
        checks.setWordWrap(True)
        checks.setStyleSheet("color: palette(mid);")

        self.editable = QPlainTextEdit("\n".join(locks.editable or ()) if locks else "")
        self.editable.setObjectName("lessonEditable")
        self.editable.setTabChangesFocus(True)
        self.editable.setPlaceholderText("Empty: every setting can be changed. Otherwise one "
                                         "path per line, e.g. model.layers[*].units")
        self.editable.setMaximumHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        self.lock_all = QCheckBox("Lock every setting not listed")
        self.lock_all.setObjectName("lessonLockAll")
        self.lock_all.setChecked(bool(locks and locks.restricts))
        self.lock_all.setToolTip("On: only the settings listed above can be changed (none, "
                                 "if the list is empty). Off: every setting can be changed.")
        self.hidden: dict[str, QCheckBox] = {}
        hide_row = QHBoxLayout()
        for name, what in PANELS.items():
            box = QCheckBox(name)
            box.setObjectName(f"lessonHide_{name}")
            box.setToolTip(f"Hide {what} while the lesson is open")
            box.setChecked(bool(locks and name in locks.hidden))
            box.toggled.connect(self._validate)
            self.hidden[name] = box
            hide_row.addWidget(box)
        hide_row.addStretch(1)

        self.problems = QLabel()
        self.problems.setObjectName("lessonProblems")
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet(ERROR_STYLE)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Lesson text", self.description)
        steps_box = QVBoxLayout()
        steps_box.addWidget(self.steps, 1)
        steps_row = QHBoxLayout()
        steps_row.addWidget(self.add_step)
        steps_row.addWidget(checks, 1)
        steps_box.addLayout(steps_row)
        form.addRow("Steps (JSON)", steps_box)
        locks_box = QVBoxLayout()
        locks_box.addWidget(self.editable)
        locks_box.addWidget(self.lock_all)
        form.addRow("Editable settings", locks_box)
        form.addRow("Hide panels", hide_row)
        layout = QVBoxLayout(self)
        layout.addLayout(form, 1)
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)
        for edit in (self.description, self.steps, self.editable):
            edit.textChanged.connect(self._validate)
        self.lock_all.toggled.connect(self._validate)
        self.resize(720, 620)
        self._validate()

    # -- reading it ------------------------------------------------------------------------

    def _parsed(self) -> tuple[str, LessonSpec | None, list[str]]:
        """The text, the lesson and every problem, each with its JSON path."""
        problems: list[str] = []
        text = self.steps.toPlainText()
        steps_value: Any = []
        if len(text) > MAX_STEPS_CHARS:
            problems.append(f"steps: expected at most {MAX_STEPS_CHARS:,} characters of JSON, "
                            f"got {len(text):,}; shorten the steps")
        elif text.strip():
            try:
                steps_value = json.loads(text)
            except (ValueError, RecursionError) as exc:
                where = f" at line {exc.lineno}, column {exc.colno}" \
                    if isinstance(exc, json.JSONDecodeError) else ""
                problems.append(f"steps: expected a JSON list of steps, got text that is not "
                                f"valid JSON{where}; check the quotes and commas there")
                steps_value = []
        steps = steps_from_json(steps_value, problems)
        paths = [line.strip() for line in self.editable.toPlainText().splitlines()
                 if line.strip()]
        if paths and not self.lock_all.isChecked():
            problems.append("locks.editable: settings are listed but every setting can be "
                            "changed; tick \"Lock every setting not listed\" or clear the list")
        locks_doc: dict[str, Any] = {}
        if self.lock_all.isChecked():
            locks_doc["editable"] = paths
        hidden = [name for name, box in self.hidden.items() if box.isChecked()]
        if hidden:
            locks_doc["hidden"] = hidden
        locks: Locks | None = locks_from_json(locks_doc, problems) if locks_doc else None
        lesson: LessonSpec | None = LessonSpec(steps, locks)
        if lesson is not None and lesson.empty:
            lesson = None
        return self.description.toPlainText().strip(), lesson, problems

    @Slot()
    def _validate(self) -> None:
        _text, _lesson, problems = self._parsed()
        shown = problems[:6] + ([f"... and {len(problems) - 6} more"] if len(problems) > 6
                                else [])
        self.problems.setText("\n".join(shown))
        self.problems.setVisible(bool(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(not problems)

    def problem_lines(self) -> list[str]:
        return self._parsed()[2]

    def result(self) -> tuple[str, LessonSpec | None]:
        """The lesson text and the lesson (None when it has no steps and no locks)."""
        text, lesson, problems = self._parsed()
        if problems:
            raise ValueError("; ".join(problems))
        return text, lesson

    @Slot()
    def _add_step(self) -> None:
        try:
            steps = json.loads(self.steps.toPlainText() or "[]")
        except ValueError:
            return  # the problem line says where the JSON is broken
        if isinstance(steps, list):
            steps.append(dict(TEMPLATE_STEP))
            self.steps.setPlainText(json.dumps(steps, indent=2))


def save_as_lesson(window: Any, path: str | os.PathLike | None = None,
                   dialog: LessonDialog | None = None) -> bool:
    """Asks for the lesson's text, steps and locks, then where to write it; saves.

    Args:
        window: the main window (its controller and `save_to`).
        path: where to write (asked when None).
        dialog: a dialog already filled in and accepted (tests); shown when None.
    """
    controller = window.controller
    if dialog is None:
        dialog = LessonDialog(controller.project, window)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
    description, lesson = dialog.result()
    if path is None:
        start = str(controller.path or Path.cwd() / f"{controller.project.name}{SUFFIX}")
        chosen, _ = QFileDialog.getSaveFileName(
            window, "Save as lesson", start,
            f"LayerLab projects (*{SUFFIX});;JSON files (*.json);;All files (*)")
        if not chosen:
            return False
        path = chosen if chosen.endswith(".json") else chosen + SUFFIX
    new = controller.project.replace(description=description, lesson=lesson)
    controller.edit(new, "Save as lesson")  # the text, steps and locks: one undo step
    if not window.save_to(Path(path)):
        return False
    locked = lesson is not None and lesson.locks is not None and lesson.locks.restricts
    window.statusBar().showMessage(
        f"Saved the lesson to {path}." + (" Its locks apply here too; Edit > Undo lifts "
                                          "them." if locked else ""), 8000)
    return True


def install(window: Any) -> QAction:
    """File > Save as Lesson..., just after Save As."""
    action = QAction("Save as &Lesson...", window)
    action.setObjectName("actSaveLesson")
    tip = ("Write this project as a guided lesson: its text, steps that LayerLab checks, "
           "and which settings its audience may change")
    action.setToolTip(tip)
    action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: save_as_lesson(window))
    for bar_action in window.menuBar().actions():
        menu = bar_action.menu()
        if menu is not None and window.act_save_as in menu.actions():
            actions = menu.actions()
            after = actions.index(window.act_save_as) + 1
            if after < len(actions):
                menu.insertAction(actions[after], action)
            else:
                menu.addAction(action)
            break
    return action
