"""A guided lesson's steps under its text: the step to do, a tick when it is done, a hint.

The box shows one step at a time, so it stays two lines high at 1280x720 whatever the
lesson's length: a row with "Step 2 of 4", a mark per step (a tick for each done), Hint,
Back and Next, then the step's text (and its hint once asked for). Whether a step is done
is `core.lesson_steps.LessonProgress`'s business; this box feeds it the project after each
edit and the runs as they finish, and shows what it says. Alt+B, Alt+N and Alt+I (or Tab
to the buttons) work it from the keyboard.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from ..core.lesson_checks import FinishedRun
from ..core.lesson_steps import LessonProgress, Step
from ..core.spec import Project

#: Marks for a done step, the step shown, and the others (fonts on Linux, macOS and
#: Windows all have these three).
DONE, HERE, TODO = "\u2713", "\u25cf", "\u25cb"
_DONE_COLOR = "#1b7a3a"
#: More steps than this show as "3 of 25 done" instead of one mark each.
MAX_MARKS = 12


def history_logs(history: Mapping[str, Sequence[float]]) -> tuple[dict[str, float], ...]:
    """`History.history` ({key: [value per epoch]}) as one {key: value} per epoch."""
    epochs = max((len(v) for v in history.values()), default=0)
    return tuple({k: float(v[i]) for k, v in history.items() if i < len(v)}
                 for i in range(epochs))


class StepsBox(QWidget):
    """The steps of the open lesson; hidden when the lesson has none.

    Signals:
        stepDone(int, str): a step was ticked (its index and text), for the status bar.
        changed(): what the box shows changed (a tick, Next, Back): `summary` may differ.
        moved(): Next or Back was pressed (a "step done" line in the status bar is old news).
    """

    stepDone = Signal(int, str)
    changed = Signal()
    moved = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonSteps")
        self.progress: LessonProgress | None = None
        self.runs: list[FinishedRun] = []
        self._project: Project | None = None

        self.position = QLabel()
        self.position.setObjectName("stepPosition")
        font = self.position.font()
        font.setBold(True)
        self.position.setFont(font)
        self.marks = QLabel()
        self.marks.setObjectName("stepMarks")
        self.marks.setTextFormat(Qt.TextFormat.RichText)
        self.hint_button = self._button("H&int", "stepHint", "Show a hint for this step")
        self.hint_button.setCheckable(True)
        self.hint_button.toggled.connect(self._show_hint)
        self.back_button = self._button("< &Back", "stepBack", "The step before")
        self.back_button.clicked.connect(self.back)
        self.next_button = self._button("&Next >", "stepNext",
                                        "The next step (a step without a check is done "
                                        "when you move past it)")
        self.next_button.clicked.connect(self.next)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.position)
        row.addWidget(self.marks)
        row.addStretch(1)
        for button in (self.hint_button, self.back_button, self.next_button):
            row.addWidget(button)

        self.text = QLabel()
        self.text.setObjectName("stepText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hint = QLabel()
        self.hint.setObjectName("stepHintText")
        self.hint.setWordWrap(True)
        self.hint.setTextFormat(Qt.TextFormat.RichText)
        self.hint.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 2, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.text)
        layout.addWidget(self.hint)
        self.setVisible(False)

    def _button(self, text: str, name: str, tip: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        return button

    # -- feeding it -------------------------------------------------------------------------

    def set_lesson(self, steps: Sequence[Step], project: Project) -> None:
        """A lesson was opened (or its steps changed): every step undone, no run counted."""
        self.progress = LessonProgress(steps) if steps else None
        self.runs = []
        self._project = project
        self.hint_button.setChecked(False)
        self.setVisible(self.progress is not None)
        if self.progress is not None:
            self._ticked(self.progress.update(project, self.runs))
        self.refresh()

    def project_changed(self, project: Project) -> None:
        """After each edit: a step about the model or a setting may pass now."""
        self._project = project
        if self.progress is not None:
            self._ticked(self.progress.update(project, self.runs))
            self.refresh()

    def run_finished(self, project: Project, history: Mapping[str, Sequence[float]]) -> None:
        """After each finished run: the project it trained and its History."""
        if self.progress is None:
            return
        self._project = project
        self.runs.append(FinishedRun(project, history_logs(history)))
        self._ticked(self.progress.update(project, self.runs))
        self.refresh()

    # -- moving -------------------------------------------------------------------------------

    @Slot()
    def next(self) -> None:
        if self.progress is None:
            return
        self.moved.emit()
        self._ticked(self.progress.next())
        self.hint_button.setChecked(False)
        self.refresh()

    @Slot()
    def back(self) -> None:
        if self.progress is None:
            return
        self.moved.emit()
        self.progress.back()
        self.hint_button.setChecked(False)
        self.refresh()

    def _ticked(self, indices: list[int]) -> None:
        if self.progress is None:
            return
        for i in indices:
            self.stepDone.emit(i, self.progress.steps[i].text)

    # -- showing --------------------------------------------------------------------------------

    def summary(self) -> str:
        """"step 2 of 4, 1 done" for the lesson's title line ("" without steps)."""
        if self.progress is None:
            return ""
        p = self.progress
        done = "all done" if p.complete else f"{p.ticked} done"
        return f"step {p.current + 1} of {len(p.steps)}, {done}"

    def refresh(self) -> None:
        p = self.progress
        if p is None:
            return
        i = p.current
        step = p.steps[i]
        self.position.setText(f"Step {i + 1} of {len(p.steps)}")
        if len(p.steps) <= MAX_MARKS:
            marks = []
            for n, done in enumerate(p.done):
                mark = DONE if done else (HERE if n == i else TODO)
                color = f" style='color:{_DONE_COLOR}'" if done else ""
                weight = "<b>" if n == i else ""
                marks.append(f"<span{color}>{weight}{mark}{'</b>' if weight else ''}</span>")
            self.marks.setText("&nbsp;".join(marks))
        else:
            self.marks.setText(f"{p.ticked} of {len(p.steps)} done")
        self.marks.setToolTip("\n".join(
            f"{DONE if d else TODO} {n + 1}. {s.text}" for n, (s, d) in
            enumerate(zip(p.steps, p.done, strict=True))))
        self.marks.setAccessibleName(f"{p.ticked} of {len(p.steps)} steps done")
        text = html.escape(step.text)
        if p.done[i]:
            text = (f"<span style='color:{_DONE_COLOR}'><b>{DONE} Done:</b></span> {text}")
        elif step.check is None:
            text += " <i>(Next when you have done it)</i>"
        self.text.setText(text)
        self.text.setAccessibleName(f"Step {i + 1}: {step.text}"
                                    + (" (done)" if p.done[i] else ""))
        self.hint_button.setVisible(bool(step.hint))
        self.hint.setText(f"<b>Hint:</b> <i>{html.escape(step.hint)}</i>" if step.hint else "")
        self.hint.setVisible(self.hint_button.isChecked() and bool(step.hint))
        self.back_button.setEnabled(i > 0)
        self.next_button.setEnabled(i < len(p.steps) - 1 or (step.check is None
                                                             and not p.done[i]))
        font = self.next_button.font()
        font.setBold(p.done[i] and i < len(p.steps) - 1)  # done: Next is what to press
        self.next_button.setFont(font)
        self.changed.emit()

    @Slot(bool)
    def _show_hint(self, on: bool) -> None:
        self.hint.setVisible(on and bool(self.hint.text()))

    # -- for tests and the title ------------------------------------------------------------------

    @property
    def done(self) -> list[bool]:
        return list(self.progress.done) if self.progress is not None else []

    def state(self) -> dict[str, Any]:
        """What the box shows, as data (tests)."""
        return {"current": self.progress.current if self.progress else None,
                "done": self.done, "text": self.text.text()}
