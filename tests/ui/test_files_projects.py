"""Projects in the window: New, Open, Save, Save As, recent files, the "*" mark, the prompt
before losing work, every kind of bad file, the command line, and dropping a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from gui_app.core.project import dumps, load_project
from gui_app.resources import examples_dir

from .files_support import (
    answer_prompts,
    choose_file,
    dialog_text,
    run_app_in_process,
    window_for_test,
)


@pytest.fixture
def win(qtbot, monkeypatch):
    """A real window that asks before losing work."""
    yield from window_for_test(qtbot, monkeypatch)

EXAMPLES = sorted(examples_dir().glob("*.layerlab.json"))


def _snapshot(win) -> tuple:
    c = win.controller
    return c.project, c.path, c.is_clean, c.undo_stack.count(), win.windowTitle()


# -- round trips ------------------------------------------------------------------------------


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name.split(".")[0] for p in EXAMPLES])
def test_every_example_file_survives_open_then_save_byte_for_byte(win, tmp_path,
                                                                   example):
    """Open, save, open, save: the saved file equals itself byte for byte, and means
    exactly what the hand-written example meant (which may spell a metric differently)."""
    copy = tmp_path / example.name
    copy.write_bytes(example.read_bytes())
    assert win.open_path(copy)
    out = tmp_path / "again.layerlab.json"
    assert win.save_to(out)
    first = out.read_bytes()
    assert load_project(out) == load_project(copy)
    assert json.loads(first)["description"] == json.loads(copy.read_text())["description"]
    assert win.open_path(out)
    assert win.save_to(out)
    assert out.read_bytes() == first == dumps(load_project(copy)).encode()


def test_save_as_through_the_menu_adds_the_suffix_and_marks_saved(
        win, tmp_path, monkeypatch):
    win.controller.add_layer("Dropout")
    assert win.windowTitle().startswith("Circle*")
    choose_file(monkeypatch, tmp_path / "mine", "getSaveFileName")
    win.act_save_as.trigger()
    saved = tmp_path / "mine.layerlab.json"
    assert saved.exists() and win.controller.path == saved
    assert win.windowTitle() == "Circle (mine.layerlab.json) - LayerLab"
    win.controller.add_layer("Dense")
    assert "Circle*" in win.windowTitle()
    calls = choose_file(monkeypatch, None, "getSaveFileName")
    win.act_save.trigger()  # Save writes to the known path without asking
    assert calls == [] and win.controller.is_clean
    assert [layer.type for layer in load_project(saved).model.layers][-2:] == ["Dropout", "Dense"]


def test_cancelled_save_as_keeps_the_project_unsaved(win, monkeypatch):
    win.controller.add_layer("Dropout")
    choose_file(monkeypatch, None, "getSaveFileName")
    assert not win.save_as()
    assert not win.controller.is_clean and win.controller.path is None


def test_recent_files_list_newest_first_and_open(win, tmp_path, monkeypatch):
    first, second = tmp_path / "a.layerlab.json", tmp_path / "b.layerlab.json"
    assert win.save_to(first) and win.save_to(second)
    win._fill_recent()
    actions = win.recent_menu.actions()
    assert [a.data() for a in actions] == [str(second), str(first)]
    win.controller.add_layer("Dropout")
    answer_prompts(monkeypatch, "Discard")
    actions[1].trigger()
    assert win.controller.path == first and win.controller.is_clean


# -- the prompt before losing work ------------------------------------------------------------


@pytest.mark.parametrize("answer", ["Save", "Discard", "Cancel"])
def test_open_over_unsaved_work_asks_first(win, tmp_path, monkeypatch, answer):
    mine = tmp_path / "mine.layerlab.json"
    assert win.save_to(mine)
    win.controller.add_layer("Dropout")
    other = tmp_path / "other.layerlab.json"
    other.write_bytes(EXAMPLES[0].read_bytes())
    answers = answer_prompts(monkeypatch, answer)
    choose_file(monkeypatch, other)
    win.act_open.trigger()
    assert answers.asked == ["Circle has unsaved changes. Save them first?"]
    saved_layers = [layer.type for layer in load_project(mine).model.layers]
    if answer == "Cancel":
        assert win.controller.path == mine and not win.controller.is_clean
        assert "Dropout" not in saved_layers
    else:
        assert win.controller.path == other and win.controller.is_clean
        assert ("Dropout" in saved_layers) == (answer == "Save")


def test_new_asks_and_an_unchanged_project_never_asks(win, monkeypatch):
    answers = answer_prompts(monkeypatch, "Cancel")
    win.act_new.trigger()
    assert answers.asked == [] and win.controller.project.name == "Untitled"
    win.controller.add_layer("Dropout")
    win.act_new.trigger()
    assert len(answers.asked) == 1 and "Dropout" in [
        layer.type for layer in win.controller.project.model.layers]


# -- bad files --------------------------------------------------------------------------------

GOOD = json.loads(EXAMPLES[1].read_text())


def _doc(**changes) -> str:
    doc = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        doc[key] = value
    return json.dumps(doc)


BAD_FILES = {
    "not_json": ("this is not JSON at all", "not valid JSON at line 1"),
    "truncated": (json.dumps(GOOD, indent=2)[:300], "was it truncated?"),
    "empty": ("", "not valid JSON"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not text (UTF-8)"),
    "top_level_list": ("[1, 2, 3]", "expected a JSON object at the top, got a list"),
    "not_a_project": ('{"name": "x"}', 'format: expected "layerlab-project"'),
    "wrong_types": (_doc(name=7, model={"input_shape": "two", "layers": {}}),
                    "name: expected text, got a number"),
    "wrong_layer_arg": (_doc(model={"input_shape": [2],
                                    "layers": [{"type": "Dense", "units": "eight"}]}),
                        "model.layers[0].units"),
    "newer_version": (_doc(version=99), "written by a newer LayerLab (format version 99)"),
    "unknown_layer": (_doc(model={"input_shape": [2],
                                  "layers": [{"type": "Lambda", "function": "os.system"}]}),
                      "LayerLab has no layer called 'Lambda'"),
    "unknown_key": (_doc(plugins=["evil.py"]), "plugins: unknown key"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_file_is_explained_in_a_dialog_and_nothing_changes(
        win, tmp_path, monkeypatch, case):
    mine = tmp_path / "mine.layerlab.json"
    assert win.save_to(mine)
    win.controller.add_layer("Dropout")  # unsaved work that must survive
    before = _snapshot(win)
    content, expected = BAD_FILES[case]
    bad = tmp_path / f"{case}.layerlab.json"
    bad.write_bytes(content if isinstance(content, bytes) else content.encode())
    raw = bad.read_bytes()
    answer_prompts(monkeypatch, "Discard")  # even after "discard", a bad file discards nothing
    choose_file(monkeypatch, bad)
    win.act_open.trigger()
    box = win.last_dialog
    assert box is not None and box.isVisible() and box.objectName() == "errorDialog"
    assert box.windowTitle() == "Cannot open project"
    text = dialog_text(box)
    assert text.startswith(f"{bad} is not a usable LayerLab project:")
    assert expected in text
    assert _snapshot(win) == before
    assert bad.read_bytes() == raw  # the user's file is never rewritten
    assert "Dropout" not in [layer.type for layer in load_project(mine).model.layers]
    box.close()


def test_missing_file_and_folder_are_explained(win, tmp_path):
    before = _snapshot(win)
    assert not win.open_path(tmp_path / "gone.layerlab.json")
    assert "no such file" in dialog_text(win.last_dialog)
    assert not win.open_path(tmp_path)
    assert "is a folder" in dialog_text(win.last_dialog)
    assert _snapshot(win) == before


# -- dropping a file on the window ------------------------------------------------------------


def _drop(win, paths: list[Path], on=None) -> tuple[bool, bool]:
    """Sends a drag-enter and a drop with file URLs to `on` (a widget inside the window;
    Qt passes what it ignores up to the window); returns (entered, dropped)."""
    target = on if on is not None else win
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = QPointF(win.width() / 2, win.height() / 2)
    enter = QDragEnterEvent(centre.toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, enter)
    drop = QDropEvent(centre, Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(target, drop)
    return enter.isAccepted(), drop.isAccepted()


def test_dropping_a_project_opens_it(qtbot, win, tmp_path, monkeypatch):
    target = tmp_path / "dropped.layerlab.json"
    target.write_bytes(EXAMPLES[2].read_bytes())
    win.controller.add_layer("Dropout")
    answers = answer_prompts(monkeypatch, "Discard")
    assert _drop(win, [target], on=win.table.viewport()) == (True, True)  # onto the layers
    qtbot.waitUntil(lambda: win.controller.path == target, timeout=3000)
    assert answers.asked  # unsaved work was asked about first
    assert win.controller.project == load_project(target)
    assert target.name in win.windowTitle()


def test_dropping_a_bad_project_shows_the_dialog(qtbot, win, tmp_path):
    bad = tmp_path / "bad.layerlab.json"
    bad.write_text("{")
    before = _snapshot(win)
    _drop(win, [bad])
    qtbot.waitUntil(lambda: win.last_dialog is not None, timeout=3000)
    assert "not valid JSON" in dialog_text(win.last_dialog)
    assert _snapshot(win) == before


def test_other_drops_are_refused(qtbot, win, tmp_path):
    text_file = tmp_path / "notes.txt"
    text_file.write_text("hello")
    two = [tmp_path / "a.layerlab.json", tmp_path / "b.layerlab.json"]
    before = _snapshot(win)
    assert _drop(win, [text_file]) == (False, False)
    assert _drop(win, two) == (False, False)
    qtbot.wait(20)
    assert _snapshot(win) == before and win.last_dialog is None


# -- the command line -------------------------------------------------------------------------


def test_layerlab_project_opens_it_from_the_command_line(qtbot, monkeypatch, tmp_path):
    """`layerlab PROJECT` (run_app's argument; the SIGKILL tests also start the real app
    with a project argument in a child process)."""
    project = tmp_path / "lesson.layerlab.json"
    project.write_bytes(EXAMPLES[1].read_bytes())
    win = run_app_in_process(qtbot, monkeypatch, [str(project)])
    c = win.controller
    assert c.path == project and c.is_clean and c.project == load_project(project)
    assert win.windowTitle() == f"{c.project.name} ({project.name}) - LayerLab"
    assert win.files.lesson_panel.isVisible() and win.last_dialog is None


def test_layerlab_bad_project_shows_the_dialog_over_the_default(qtbot, monkeypatch, tmp_path):
    bad = tmp_path / "bad.layerlab.json"
    bad.write_text('{"format": "layerlab-project", "version": 3}')
    win = run_app_in_process(qtbot, monkeypatch, [str(bad)])
    assert win.controller.path is None and win.controller.project.name == "Circle"
    assert "newer LayerLab" in dialog_text(win.last_dialog)
