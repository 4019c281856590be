"""The lesson banner on its own: the note never covers the lesson text, at any size.

A teacher saw lesson 3's fallback note ("Fashion-MNIST is not in Keras's cache...") drawn
over the lesson text: in a short window the banner got less height than its wrapped
lines need, and Qt's layout then placed the note on top of the text. These tests squeeze
the banner in a window of its own, as the model area does, and look at where the parts
land; one screenshot per size goes to pytest's tmp_path for a person to look at.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTableWidget, QVBoxLayout, QWidget

from gui_app.core.lessons import prepare_lesson
from gui_app.core.project import load_project
from gui_app.core.spec import Project, default_project
from gui_app.core.summary import summarize
from gui_app.resources import examples_dir
from gui_app.ui.lesson_panel import LessonPanel

FASHION = examples_dir() / "03_mlp_fashion_mnist.layerlab.json"


class FakeController(QObject):
    """What the banner uses of the window's controller: the project and its change signal."""

    projectChanged = Signal(object, object)  # noqa: N815 - the controller's name

    def __init__(self, project: Project) -> None:
        super().__init__()
        self.project = project

    def open(self, project: Project) -> None:
        old, self.project = self.project, project
        self.projectChanged.emit(old, project)


@pytest.fixture
def fallback_lesson() -> tuple[Project, str]:
    """Lesson 3 as it opens without Fashion-MNIST in the cache (on the 8x8 digits)."""
    return prepare_lesson(load_project(FASHION), FASHION.parent, cached=False)


def _host(qtbot, panel: LessonPanel) -> QWidget:
    """The banner above a table, in a window, as in the model area."""
    host = QWidget()
    layout = QVBoxLayout(host)
    layout.addWidget(panel)
    table = QTableWidget(8, 3)
    table.setMinimumHeight(60)
    layout.addWidget(table, 1)
    qtbot.addWidget(host)
    host.show()
    qtbot.waitExposed(host)
    return host


def _settle(qtbot, host: QWidget, width: int, height: int) -> None:
    host.resize(width, height)
    # The text sets its height after a resize and the banner its minimum after that:
    # let both layout passes run.
    for _ in range(3):
        qtbot.wait(10)


@pytest.mark.parametrize(("width", "height"), [(1000, 700), (520, 700), (520, 120), (340, 90)])
def test_the_note_sits_below_the_text_and_is_never_cut(qtbot, fallback_lesson, tmp_path: Path,
                                                       width: int, height: int):
    project, note = fallback_lesson
    controller = FakeController(project)
    panel = LessonPanel(controller)
    panel.set_note(note)
    host = _host(qtbot, panel)
    _settle(qtbot, host, width, height)
    host.grab().save(str(tmp_path / f"lesson_panel_{width}x{height}.png"))

    title, text, shown_note = panel.title.geometry(), panel.text.geometry(), panel.note.geometry()
    assert panel.text.isVisible() and panel.note.isVisible()
    assert title.bottom() < text.top(), (title, text)
    assert text.bottom() < shown_note.top(), (text, shown_note)  # no overlap
    assert shown_note.height() >= panel.note.heightForWidth(shown_note.width())  # no line cut
    assert shown_note.bottom() <= panel.contentsRect().bottom()
    assert panel.height() >= panel.needed_height()
    # A window asked to be shorter than that keeps the room the banner needs.
    assert host.height() >= panel.needed_height()


def test_the_room_kept_follows_the_note_and_the_width(qtbot, fallback_lesson):
    project, note = fallback_lesson
    controller = FakeController(project)
    panel = LessonPanel(controller)
    host = _host(qtbot, panel)
    _settle(qtbot, host, 600, 500)
    without_note = panel.minimumHeight()
    panel.set_note(note)
    _settle(qtbot, host, 600, 500)
    with_note = panel.minimumHeight()
    assert with_note > without_note and with_note == panel.needed_height()
    _settle(qtbot, host, 400, 500)
    assert panel.minimumHeight() > with_note  # narrower: more lines
    panel.toggle.click()  # hidden text and note: the banner needs only its title
    _settle(qtbot, host, 400, 500)
    assert panel.minimumHeight() < without_note
    controller.open(default_project())  # not a lesson: the banner goes away
    panel.set_note("")
    assert not panel.isVisible()


def test_fallback_lesson_text_and_note_give_both_parameter_counts(qtbot, fallback_lesson):
    """The text counts the Fashion-MNIST model; the note, shown with it, counts the digits
    model that the summary shows."""
    project, note = fallback_lesson
    panel = LessonPanel(FakeController(project))
    panel.set_note(note)
    host = _host(qtbot, panel)
    assert host.isVisible()
    shown = panel.shown_text
    digits = summarize(project.model).total_params
    fashion = summarize(load_project(FASHION).model).total_params
    assert f"{fashion:,} parameters" in shown.splitlines()[0]
    assert f"the model {digits:,} (not {fashion:,})" in panel.note.text()
    assert shown.index(f"{fashion:,}") < shown.index(f"{digits:,}")


def test_the_lesson_folds_to_its_title_when_a_run_starts(window):
    from gui_app.core.lessons import list_examples

    lesson = next(x for x in list_examples() if x.path.name.startswith("02a"))
    window.files.open_example(lesson.path, confirm=False)
    panel = window.files.lesson_panel
    assert panel.text.isVisibleTo(window)
    window.training.set_state("running")
    assert not panel.text.isVisibleTo(window) and panel.title.isVisibleTo(window)
    window.training.set_state("idle")  # the class looks at the result: it stays folded
    assert not panel.text.isVisibleTo(window)
    panel.toggle.click()  # Show
    assert panel.text.isVisibleTo(window)
