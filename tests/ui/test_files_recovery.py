"""Autosave and crash recovery: the real app is killed with SIGKILL and started again.

In-process tests cover the autosaver's rules (when a copy is written, removed, kept, and
which copies are offered); the subprocess tests cover the whole story a person lives
through: edit, crash, relaunch, Restore (or Discard).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QLockFile

from gui_app.core.project import load_project
from gui_app.core.spec import default_project
from gui_app.ui.autosave import (
    RECOVERY_SUFFIX,
    Autosaver,
    claim_orphans,
    read_recovery,
    recovery_dir,
    write_recovery,
)

from .files_support import (
    answer_prompts,
    close_quietly,
    make_window,
    parse_lines,
    run_driver,
    start_driver,
    wait_for,
    window_for_test,
)


@pytest.fixture
def win(qtbot, monkeypatch):
    """A real window that asks before losing work."""
    yield from window_for_test(qtbot, monkeypatch)


def recovery_files(settings: Path) -> list[Path]:
    return sorted((settings / "recovery").glob(f"*{RECOVERY_SUFFIX}"))


# -- in the test process --------------------------------------------------------------------


def test_recovery_folder_follows_the_redirected_settings(isolated_settings: Path):
    assert recovery_dir() == isolated_settings / "recovery"


def test_an_edit_is_autosaved_and_a_save_removes_the_copy(qtbot, win, tmp_path):
    saver = win.files.autosaver
    assert saver.timer.interval() <= 3000  # "within a few seconds"
    saver.timer.setInterval(50)
    assert not saver.file.exists()
    with qtbot.waitSignal(saver.written, timeout=3000):
        win.controller.add_layer("Dropout")
    entry = read_recovery(saver.file)
    assert entry.project == win.controller.project
    assert entry.project_path is None
    assert [layer.type for layer in entry.project.model.layers][-1] == "Dropout"
    # Atomic writes: no temporary file is left beside the copy.
    assert [p.name for p in saver.folder.iterdir() if p.name.endswith(".tmp")] == []

    assert win.save_to(tmp_path / "saved.layerlab.json")
    assert not saver.file.exists()  # the saved file now holds the work
    win.controller.add_layer("Dense")
    qtbot.waitUntil(saver.file.exists, timeout=3000)
    assert read_recovery(saver.file).project_path == tmp_path / "saved.layerlab.json"
    win.controller.undo_stack.undo()  # back to what is saved: nothing to recover
    assert win.controller.is_clean and not saver.file.exists()


def test_closing_with_discard_removes_the_copy_cancel_keeps_everything(
        qtbot, monkeypatch, isolated_settings):
    win = make_window(qtbot)
    saver = win.files.autosaver
    win.controller.add_layer("Dropout")
    assert saver.write_now() and saver.file.exists()
    answers = answer_prompts(monkeypatch, "Cancel")
    assert not win.close()
    assert win.isVisible() and saver.file.exists() and not win.controller.is_clean
    assert answers.asked and "unsaved changes" in answers.asked[0]
    assert "*" in win.windowTitle()
    answer_prompts(monkeypatch, "Discard")
    assert win.close()
    assert not saver.file.exists()
    assert recovery_files(isolated_settings) == []


def test_quitting_without_the_prompt_keeps_the_copy_for_next_time(qtbot, isolated_settings):
    """A session ending (logout) shuts the app down without the close prompt."""
    win = make_window(qtbot)
    win.controller.add_layer("Dropout")
    win.shutdown()
    [left] = recovery_files(isolated_settings)
    assert read_recovery(left).project.model.layers[-1].type == "Dropout"
    close_quietly(win)


def test_a_live_windows_copy_is_never_offered_to_another_window(qtbot, isolated_settings):
    first = make_window(qtbot)
    first.controller.add_layer("Dropout")
    assert first.files.autosaver.write_now()
    second = make_window(qtbot)
    qtbot.wait(50)
    assert second.files.recovery_dialog is None
    assert claim_orphans(first.files.autosaver.folder) == []
    close_quietly(second)
    close_quietly(first)


def test_an_orphan_is_offered_and_restored_unsaved(qtbot, isolated_settings, tmp_path,
                                                   monkeypatch):
    monkeypatch.setenv("LAYERLAB_AUTOSAVE_MS", "50")
    original = tmp_path / "work.layerlab.json"
    project = default_project().replace(name="Lost work")
    write_recovery(recovery_dir() / f"session-1-2{RECOVERY_SUFFIX}", project, original)
    win = make_window(qtbot)
    qtbot.waitUntil(lambda: win.files.recovery_dialog is not None, timeout=3000)
    box = win.files.recovery_dialog
    assert box.objectName() == "recoveryDialog" and box.isVisible()
    assert "Lost work" in box.text() and str(original) in box.text()
    assert [b.text() for b in box.buttons()] == ["Restore", "Discard"]
    next(b for b in box.buttons() if b.text() == "Restore").click()
    assert win.controller.project == project
    assert win.controller.path == original
    assert not win.controller.is_clean and win.windowTitle().startswith("Lost work*")
    # The orphan is gone; this window's own autosave now protects the restored work.
    qtbot.waitUntil(lambda: recovery_files(isolated_settings) == [win.files.autosaver.file],
                    timeout=5000)
    close_quietly(win)


def test_restored_edits_do_not_pass_off_the_saved_weights_as_theirs(qtbot, isolated_settings,
                                                                    tmp_path, monkeypatch):
    """The weights beside a project belong to the model as saved; recovered work with an
    extra layer must not load them (Continue would fail or, worse, mislead)."""
    monkeypatch.setenv("LAYERLAB_AUTOSAVE_MS", "50")
    saved = default_project().replace(name="Saved")
    project_file = tmp_path / "saved.layerlab.json"
    from gui_app.core.project import save_project

    save_project(saved, project_file)
    (tmp_path / "saved.weights.h5").write_bytes(b"stand-in: never loaded here")
    edited = saved.replace(model=saved.model.insert(0, saved.model.layers[0]))
    write_recovery(recovery_dir() / f"session-1-5{RECOVERY_SUFFIX}", edited, project_file)
    win = make_window(qtbot)
    qtbot.waitUntil(lambda: win.files.recovery_dialog is not None, timeout=3000)
    next(b for b in win.files.recovery_dialog.buttons() if b.text() == "Restore").click()
    assert win.controller.project == edited
    assert win.files.pending_weights == tmp_path / "saved.weights.h5"
    assert win.files.pending_model == saved.model and not win.files.weights_are_current()
    close_quietly(win)


def test_discard_deletes_the_orphan_and_a_damaged_copy_is_left_alone(qtbot, isolated_settings):
    folder = recovery_dir()
    write_recovery(folder / f"session-1-3{RECOVERY_SUFFIX}", default_project(), None)
    damaged = folder / f"session-1-4{RECOVERY_SUFFIX}"
    damaged.write_text('{"format": "layerlab-recovery", "project": ')
    win = make_window(qtbot)
    before = win.controller.project
    qtbot.waitUntil(lambda: win.files.recovery_dialog is not None, timeout=3000)
    box = win.files.recovery_dialog
    next(b for b in box.buttons() if b.text() == "Discard").click()
    assert win.controller.project == before and win.controller.is_clean
    assert recovery_files(isolated_settings) == [damaged]  # never deleted unread
    close_quietly(win)


def test_a_lock_held_by_a_dead_process_is_stale(isolated_settings):
    """The rule recovery relies on: Qt frees the lock of a process that no longer exists."""
    folder = recovery_dir()
    folder.mkdir(parents=True)
    file = folder / f"session-99-1{RECOVERY_SUFFIX}"
    write_recovery(file, default_project(), None)
    lock = file.with_name("session-99-1.lock")
    dead = _dead_pid()
    lock.write_text(f"{dead}\nlayerlab\n{os.uname().nodename}\n")
    [claim] = claim_orphans(folder)
    assert claim.entry.file == file
    held = QLockFile(str(lock))
    held.setStaleLockTime(0)
    assert not held.tryLock(0)  # while we hold the claim, nobody else can take it
    claim.release()


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_autosaver_reports_a_folder_it_cannot_write(qtbot, tmp_path):
    from gui_app.ui.controller import ProjectController

    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the folder should be")
    controller = ProjectController(default_project())
    saver = Autosaver(controller, folder=blocker / "recovery", delay_ms=0)
    messages: list[str] = []
    saver.failed.connect(messages.append)
    controller.add_layer("Dropout")
    assert not saver.write_now()
    assert len(messages) == 1
    assert "Autosave expected to write" in messages[0] and "save the project" in messages[0]
    assert not saver.write_now() and len(messages) == 1  # said once, not on every change
    saver.discard()


# -- the real application, killed and started again -----------------------------------------


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_then_relaunch_offers_and_restores_the_work(tmp_path: Path):
    settings = tmp_path / "settings"
    project_file = tmp_path / "circle.layerlab.json"
    project_file.write_bytes(
        (Path(__file__).parents[2] / "resources/examples/02a_circle.layerlab.json").read_bytes())
    before = project_file.read_bytes()

    proc = start_driver("edit", settings, [str(project_file)], LAYERLAB_AUTOSAVE_MS="200")
    try:
        assert wait_for(lambda: len(recovery_files(settings)) == 1, timeout=30), \
            proc.stderr.read() if proc.poll() is not None else "no recovery file"
        [copy] = recovery_files(settings)
        assert wait_for(lambda: "Dropout" in copy.read_text(), timeout=10)
    finally:
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    edited = parse_lines(out)["EDITED"]
    assert edited["layers"][-1] == "Dropout" and not edited["clean"]
    assert project_file.read_bytes() == before  # autosave never touches the user's file

    restored = run_driver("restore", settings, LAYERLAB_AUTOSAVE_MS="200",
                          DRIVER_SAVE_TO=str(project_file))
    offer = restored["OFFER"]
    assert "2a. Circle" in offer["text"] and str(project_file) in offer["text"]
    state = restored["STATE"]
    assert state["layers"] == edited["layers"]
    assert state["path"] == str(project_file)
    assert not state["clean"] and "*" in state["title"]
    assert state["lesson"]  # the lesson text came back with the project
    assert restored["SAVED"]["clean"]
    assert [layer.type for layer in load_project(project_file).model.layers] == edited["layers"]
    assert recovery_files(settings) == []  # nothing left to offer at the next launch


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
def test_sigkill_then_discard_removes_the_copy(tmp_path: Path):
    settings = tmp_path / "settings"
    proc = start_driver("edit", settings, LAYERLAB_AUTOSAVE_MS="100")
    try:
        assert wait_for(lambda: recovery_files(settings) != [], timeout=30)
        copy = recovery_files(settings)[0]
        assert wait_for(lambda: "Dropout" in copy.read_text(), timeout=10)
    finally:
        proc.kill()
        proc.communicate(timeout=10)
    doc = json.loads(recovery_files(settings)[0].read_text())
    assert doc["format"] == "layerlab-recovery" and doc["project_path"] is None
    found = run_driver("discard", settings)
    assert "Circle" in found["OFFER"]["text"]
    assert "Dropout" not in found["STATE"]["layers"] and found["STATE"]["clean"]
    assert recovery_files(settings) == []
