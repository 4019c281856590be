"""The lesson banner above the model: a lesson's title, explanation and steps, hidden for
projects.

Example lessons carry a few sentences (`Project.description`) that say what to try and
what to look for; the banner keeps them in view while the person edits and trains. A
guided lesson also has steps (`core.lesson_steps`): the banner shows the step to do and
ticks it when its check passes, after each edit and each finished run
(`lesson_steps_view.StepsBox`), and says which settings the lesson's locks leave
editable. A note (e.g. "Fashion-MNIST is not cached, so this opens on the digits set")
can be added by whoever opened the lesson; it is cleared as soon as another project is
opened.

The title, the text and the note sit one under the other, each wrapping its words. The
banner keeps its minimum height at what the three need at its current width: a wrapped
label's height depends on its width, which Qt's minimum sizes leave out, so a short
window once squeezed the banner until the note was drawn over the lesson text.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, Qt, Signal, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.lessons import description_of
from ..core.spec import Project
from .lesson_locks import LockView
from .lesson_steps_view import StepsBox

#: A pale blue that reads as "information" in light and dark themes alike (text stays the
#: palette's own, so it keeps its contrast).
_FRAME_STYLE = (
    "QFrame#lessonPanel { background: rgba(64, 128, 220, 28); "
    "border: 1px solid rgba(64, 128, 220, 110); border-radius: 4px; }"
)
_NOTE_COLOR = "#8a5a00"
#: The lesson text never takes more than this many lines: the model table below must stay
#: usable on a 720-pixel-high screen; longer lessons scroll (the note is always shown).
MAX_LINES = 4
#: ... and three when the lesson has steps, which take two lines of their own below it.
MAX_LINES_WITH_STEPS = 3
#: How the status bar's "a step was ticked" lines begin (cleared by Next and Back).
STEP_LINE_START = "Step "


class _LessonText(QTextBrowser):
    """Read-only, frameless text that is exactly as tall as its content, up to MAX_LINES."""

    def __init__(self) -> None:
        super().__init__()
        self.max_lines = MAX_LINES
        self.setObjectName("lessonText")
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setOpenLinks(False)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().setDocumentMargin(0)

    def fit_height(self) -> None:
        document = self.document()
        document.setTextWidth(self.viewport().width())
        wanted = int(document.size().height() + 0.999)
        layout = document.firstBlock().layout()
        line = layout.lineAt(0).height() if layout is not None and layout.lineCount() else 0
        # The document's own line height (fontMetrics adds leading it does not use), so the
        # cap falls between two lines and no line shows cut in half.
        cap = int((line or self.fontMetrics().lineSpacing()) * self.max_lines + 0.999)
        self.setFixedHeight(max(self.fontMetrics().lineSpacing(), min(wanted, cap)))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.fit_height()


class LessonPanel(QFrame):
    """Shows the open project's lesson text and steps; invisible when it has neither.

    Signals:
        stepDone(int, str): a step was ticked; the text says so, for the status bar.
    """

    stepDone = Signal(int, str)

    def __init__(self, controller: object, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lessonPanel")
        self.setStyleSheet(_FRAME_STYLE)
        self.controller = controller
        self._note = ""
        self._collapsed = False
        self._shown_html = ""

        self.title = QLabel()
        self.title.setObjectName("lessonTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.title.setWordWrap(True)
        self.toggle = QToolButton()
        self.toggle.setObjectName("lessonToggle")
        self.toggle.setAutoRaise(True)
        self.toggle.setToolTip("Show or hide the lesson text")
        self.toggle.clicked.connect(self._toggle)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.title, 1)
        head.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignTop)

        self.text = _LessonText()
        self.note = QLabel()
        self.note.setObjectName("lessonNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(f"color: {_NOTE_COLOR};")
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.steps = StepsBox()
        self.locks = QLabel()
        self.locks.setObjectName("lessonLocks")
        self.locks.setWordWrap(True)
        self.locks.setTextFormat(Qt.TextFormat.RichText)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(3)
        layout.addLayout(head)
        layout.addWidget(self.text)
        layout.addWidget(self.note)
        layout.addWidget(self.steps)
        layout.addWidget(self.locks)
        layout.addStretch(1)  # extra height goes below the note, never between the parts

        controller.projectChanged.connect(self._on_project_changed)  # type: ignore[attr-defined]
        replaced = getattr(controller, "replaced", None)
        if replaced is not None:  # another project, even the same lesson again: start over
            replaced.connect(self._on_replaced)
        self.steps.stepDone.connect(self._on_step_done)
        self.steps.changed.connect(self._show_title)
        self.steps.set_lesson(self._steps_of(controller.project),  # type: ignore[attr-defined]
                              controller.project)  # type: ignore[attr-defined]
        self.show_project(controller.project)  # type: ignore[attr-defined]

    # -- public ------------------------------------------------------------------------------

    def show_project(self, project: Project) -> None:
        """Fills the banner from a project; hides it when the project has no lesson text."""
        description = description_of(project)
        guided = self.steps.progress is not None
        self._show_title()
        self.text.max_lines = MAX_LINES_WITH_STEPS if guided else MAX_LINES
        shown = f"<p style='margin:0'>{html.escape(description)}</p>"
        if shown != self._shown_html:  # a guided lesson comes here after every edit
            self._shown_html = shown
            self.text.setHtml(shown)
        self.text.setVisible(bool(description) and not self._collapsed)
        self.note.setText(self._note)
        self.note.setVisible(bool(self._note) and not self._collapsed)
        # the steps stay when the text folds (a run started): their ticks are the news
        self.steps.setVisible(guided)
        locks = project.lesson.locks if project.lesson is not None else None
        self.locks.setText("<b>Locked by this lesson:</b> you can change only "
                           f"{html.escape(locks.describe())}."
                           if locks is not None and locks.restricts else "")
        self.locks.setVisible(bool(self.locks.text()) and not self._collapsed)
        self.text.fit_height()
        self.toggle.setText("Show" if self._collapsed else "Hide")
        self.setVisible(bool(description or self._note or guided))
        self._keep_room()

    def set_note(self, note: str) -> None:
        """A remark on how the lesson was opened (shown under the text until the next open)."""
        self._note = note
        self.show_project(self.controller.project)  # type: ignore[attr-defined]

    @property
    def note_text(self) -> str:
        return self._note

    @property
    def shown_text(self) -> str:
        """The lesson text and note as the person reads them (plain text)."""
        return "\n".join(t for t in (self.text.toPlainText(), self._note) if t)

    # -- internals ---------------------------------------------------------------------------

    def needed_height(self, width: int | None = None) -> int:
        """The height at which nothing in the banner overlaps: title, text and note at
        `width` (the banner's own when None), each wrapped, plus margins and spacing."""
        frame = self.contentsMargins()  # the frame's border, outside the layout's margins
        inner = (self.width() if width is None else width) - frame.left() - frame.right()
        return self.layout().heightForWidth(inner) + frame.top() + frame.bottom()

    def _keep_room(self) -> None:
        """Makes the banner's minimum height what its wrapped parts need at this width, so
        the layout above it gives it that much (or scrolls) rather than squeezing it."""
        needed = self.needed_height()
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self._keep_room()

    def event(self, event: QEvent) -> bool:
        handled = super().event(event)
        if event.type() == QEvent.Type.LayoutRequest:
            # The lesson text sets its own height after a resize (fit_height), which asks
            # for a new layout: the room needed may have changed with it.
            self._keep_room()
        return handled

    @staticmethod
    def _steps_of(project: Project) -> tuple:
        return project.lesson.steps if project.lesson is not None else ()

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if self._steps_of(old) != self._steps_of(new):  # Save as Lesson gave new steps
            self.steps.set_lesson(self._steps_of(new), new)
        else:
            self.steps.project_changed(new)  # a step about the model may pass now
        if old.description != new.description or old.name != new.name \
                or old.lesson != new.lesson or self.steps.progress is not None:
            self.show_project(new)

    @Slot()
    def _show_title(self) -> None:
        """The lesson's name, and where the person is in its steps while the text is folded
        (unfolded, the steps' own row says it)."""
        project = self.controller.project  # type: ignore[attr-defined]
        where = self.steps.summary() if self._collapsed else ""
        self.title.setText(f"Lesson: {project.name}" + (f"  \u00b7  {where}" if where else ""))

    @Slot()
    def _on_replaced(self) -> None:
        """Another project: its text unfolds (it was folded for the last one's run)."""
        project = self.controller.project  # type: ignore[attr-defined]
        self._collapsed = False
        self.steps.set_lesson(self._steps_of(project), project)
        self.show_project(project)

    def connect_training(self, panel: QWidget) -> None:
        """Counts the training panel's finished runs for the steps (`runEnded`)."""
        panel.runEnded.connect(self._on_run_ended)  # type: ignore[attr-defined]

    @Slot(object)
    def _on_run_ended(self, event: object) -> None:
        """A run that ended without error counts (done, stopped, stopped early); one whose
        loss became NaN or that failed does not."""
        from ..core.training.events import Finished  # loaded by then (the window's start)

        if isinstance(event, Finished) and event.reason != "nan":
            project = self.controller.project  # type: ignore[attr-defined]
            self.steps.run_finished(project, event.history)
            self.show_project(project)

    @Slot(int, str)
    def _on_step_done(self, index: int, _text: str) -> None:
        progress = self.steps.progress
        total = len(progress.steps) if progress is not None else 0
        if progress is not None and progress.complete:
            line = f"{STEP_LINE_START}{index + 1} done: every step of this lesson is done."
        elif index + 1 < total:
            line = f"{STEP_LINE_START}{index + 1} of {total} done. Next shows step {index + 2}."
        else:
            line = f"{STEP_LINE_START}{index + 1} of {total} done."
        self.stepDone.emit(index, line)

    @Slot()
    def _toggle(self) -> None:
        self._collapsed = not self._collapsed
        self.show_project(self.controller.project)  # type: ignore[attr-defined]

    @Slot(bool)
    def set_running(self, running: bool) -> None:
        """Folds the banner to its title line when a run starts, giving the model table and
        the Training view the room (about 80 px at 720 high). It stays folded after the run,
        while the class looks at the result (unfolding it there squeezed the Training view
        on a 1024x768 or 1280x720 screen): Show unfolds it."""
        if not running or self._collapsed:
            return
        self._collapsed = True
        self.show_project(self.controller.project)  # type: ignore[attr-defined]


def install(window: QWidget, controller: object) -> LessonPanel:
    """Puts a LessonPanel at the top of the model area (above the "Model" title), shows
    the lesson's locks in the window (`lesson_locks.LockView`), and says in the status
    bar when a step is done or an edit is refused by the locks."""
    panel = LessonPanel(controller)
    window.center_splitter.widget(0).layout().insertWidget(0, panel)  # type: ignore[attr-defined]
    status = window.statusBar()  # type: ignore[attr-defined]
    controller.editRefused.connect(  # type: ignore[attr-defined]
        lambda text: status.showMessage(text, 8000))
    panel.stepDone.connect(lambda _index, text: status.showMessage(text, 6000))

    def step_line_is_old() -> None:  # Next or Back: "Step 2 of 4 done" no longer applies
        if status.currentMessage().startswith(STEP_LINE_START):
            status.clearMessage()

    panel.steps.moved.connect(step_line_is_old)
    panel.lock_view = LockView(window, controller)
    return panel
