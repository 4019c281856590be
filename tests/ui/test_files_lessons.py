"""File > Open Example and the lesson banner above the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from gui_app.core.lessons import list_examples, load_example
from gui_app.resources import examples_dir

from .files_support import answer_prompts, window_for_test

CIRCLE = examples_dir() / "02a_circle.layerlab.json"
FASHION = examples_dir() / "03_mlp_fashion_mnist.layerlab.json"
UNBALANCED = examples_dir() / "05_unbalanced_classes.layerlab.json"


@pytest.fixture
def win(qtbot, monkeypatch):
    """A real window that asks before losing work."""
    yield from window_for_test(qtbot, monkeypatch)


@pytest.fixture
def empty_keras_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "keras" / "datasets"
    folder.mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(folder.parent))
    monkeypatch.setattr("gui_app.core.data._dataset_dirs", lambda: [folder])
    return folder


def test_the_menu_lists_every_lesson_by_name(win):
    menu = win.files.examples_menu
    win.files.fill_examples_menu()
    lessons = list_examples()
    assert [a.text() for a in menu.actions()] == [lesson.name for lesson in lessons]
    assert len(lessons) == 12
    assert all(a.toolTip() for a in menu.actions())
    file_menu = win.files._file_menu()
    titles = [a.text() for a in file_menu.actions()]
    assert titles.index("Open &Example") == titles.index("Open &Recent") + 1
    assert titles.index("&Import Keras Model...") < titles.index("E&xport") \
        < titles.index("&Quit")


def test_opening_a_lesson_shows_its_text_and_a_plain_project_hides_it(qtbot, win):
    panel = win.files.lesson_panel
    assert not panel.isVisible()  # the default project is not a lesson
    win.files.examples_menu.aboutToShow.emit()  # it lists the lessons as it opens
    action = next(a for a in win.files.examples_menu.actions() if a.text().startswith("2a."))
    action.trigger()
    project, note = load_example(CIRCLE)
    assert win.controller.project == project and note == ""
    assert win.controller.path is None and win.controller.is_clean
    assert panel.isVisible()
    assert panel.title.text() == f"Lesson: {project.name}"
    assert panel.shown_text == " ".join(project.description.split())
    assert not panel.note.isVisible()
    assert panel.text.height() >= panel.text.fontMetrics().lineSpacing() * 2  # not squashed
    panel.toggle.click()
    assert not panel.text.isVisible() and panel.toggle.text() == "Show"
    panel.toggle.click()
    assert panel.text.isVisible()
    win.new_project()
    assert not panel.isVisible()


def test_open_example_over_unsaved_work_asks(win, monkeypatch):
    win.controller.add_layer("Dropout")
    answers = answer_prompts(monkeypatch, "Cancel")
    assert not win.files.open_example(CIRCLE)
    assert answers.asked and "Dropout" in [x.type for x in win.controller.project.model.layers]


def test_fashion_lesson_opens_on_digits_and_says_so(qtbot, win, empty_keras_cache):
    assert win.files.open_example(FASHION)
    c = win.controller
    assert c.project.data["source"] == "digits"
    assert c.project.model.input_shape == (64,)
    panel = win.files.lesson_panel
    assert panel.note.isVisible() and "digits" in panel.note.text()
    assert "(64,)" in panel.note.text()
    c.wait_for_data()
    qtbot.waitUntil(lambda: c.dataset is not None, timeout=10_000)
    assert not [f for f in c.findings if f.severity == "error"]
    assert c.summary.total_params == 50_610
    win.open_path(CIRCLE)  # another project: the note goes with the lesson it was about
    assert panel.note_text == "" and not panel.note.isVisible()


def test_a_lesson_with_a_csv_file_loads_its_data_without_a_project_folder(qtbot, win):
    assert win.files.open_example(UNBALANCED)
    c = win.controller
    assert Path(c.project.data["path"]).is_absolute()
    c.wait_for_data()
    qtbot.waitUntil(lambda: c.dataset is not None or c.data_error is not None, timeout=10_000)
    assert c.data_error is None and c.dataset is not None
