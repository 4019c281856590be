"""A clean slate per lesson: nothing of one lesson's runs stays when the next one opens.

One window opens every bundled lesson in turn and trains one epoch of each (Step), with a
second run on the first lesson so that there is an earlier run to leave behind. After
each opening, no plot, run, label, prediction, time or picture of the lesson before may
remain; after each run, the plots show only this lesson's quantities, with axes fitted to
this lesson's values.
"""

from __future__ import annotations

import math

import pytest

from gui_app.core.lessons import list_examples
from gui_app.core.run_labels import run_facts

from .files_support import close_quietly, make_window, refuse_downloads

pytest.importorskip("keras")
pytest.importorskip("pyqtgraph")

RUN_TIMEOUT = 120_000


def _step(qtbot, panel, start):
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT) as blocker:
        assert start(), panel.message_text
    return blocker.args[0]


def _assert_empty(panel, lesson):
    plots = panel.plots
    assert panel.records == [] and panel.record is None, lesson
    assert plots.earlier == [] and plots.record is None, lesson
    # only this lesson's plots, made ahead of its first run: empty, with nothing earlier
    for name, plot in plots.plots.items():
        assert plot.ahead and not plot.overlays, (lesson, name)
        assert not plot._lengths, (lesson, name)  # noqa: SLF001 - no curve has data
    assert panel.runs_menu.actions() == [], lesson
    assert panel.speed_label.text() == "" and panel.run_bar.format() == "Run: not started"
    assert panel.readout.text() == ""
    assert len(panel.store) == 0 and panel.boundary.grid is None, lesson
    assert panel.boundary.slider_label.text() == "", lesson


def _wait_data(qtbot, win):
    qtbot.waitUntil(lambda: not win.controller.data_loading, timeout=RUN_TIMEOUT)
    assert win.controller.dataset is not None, win.controller.data_error


def test_every_lesson_starts_on_a_clean_slate(qtbot, monkeypatch):
    refuse_downloads(monkeypatch)  # lesson 3 opens on the bundled digits
    win = make_window(qtbot)
    panel = win.training_panel
    panel.ensure_views()
    lessons = list_examples()
    assert len(lessons) >= 10
    try:
        for n, lesson in enumerate(lessons):
            assert win.files.open_example(lesson.path, confirm=False), lesson.name
            _wait_data(qtbot, win)
            _assert_empty(panel, lesson.name)
            if n == 0:  # two runs: the first becomes an earlier run
                _step(qtbot, panel, panel.step_epoch)
                panel.reset_weights()
                qtbot.waitUntil(lambda: not panel._reset_pending, timeout=RUN_TIMEOUT)
                assert panel.speed_label.text() == ""  # no "left" after Reset
            event = _step(qtbot, panel, panel.step_epoch)
            assert event.epochs_done == 1, (lesson.name, panel.message_text)
            assert "left" not in panel.speed_label.text(), panel.speed_label.text()
            project = win.controller.project
            wanted = {"loss"} | {name for name in panel.record.quantities()}
            assert set(panel.plots.plots) <= wanted, (lesson.name, set(panel.plots.plots))
            facts = run_facts(project)
            assert panel.record.label.startswith(facts.model), (lesson.name, panel.record.label)
            # the loss axis is fitted to this lesson's values only
            logs = panel.record.epoch_logs[-1]
            low, high = panel.plots.plots["loss"].vb.viewRange()[1]
            values = [v for k, v in logs.items() if k.endswith("loss") and math.isfinite(v)]
            assert low <= min(values) and max(values) <= high, (lesson.name, logs)
            assert high - low < 10 * max(abs(v) for v in values) + 1.0, (lesson.name, low, high)
            if n == 0:
                assert [r.number for r in panel.plots.earlier] == [1]
    finally:
        panel.shutdown()
        close_quietly(win)


def test_earlier_runs_menu_hides_shows_and_clears(qtbot, monkeypatch):
    refuse_downloads(monkeypatch)
    from .test_files_training import tiny_project

    win = make_window(qtbot, project=tiny_project())
    panel = win.training_panel
    try:
        _step(qtbot, panel, panel.step_epoch)
        panel.reset_weights()
        qtbot.waitUntil(lambda: not panel._reset_pending, timeout=RUN_TIMEOUT)
        _step(qtbot, panel, panel.step_epoch)
        assert [r.number for r in panel.plots.earlier] == [1]
        names = {a.objectName(): a for a in panel.runs_menu.actions()}
        names["hideAllRuns"].trigger()
        assert panel.plots.hidden_runs == {1}
        assert not any(i.isVisible() for i in panel.plots.plots["loss"].overlays[1])
        names = {a.objectName(): a for a in panel.runs_menu.actions()}
        names["showAllRuns"].trigger()
        assert panel.plots.hidden_runs == set()
        names = {a.objectName(): a for a in panel.runs_menu.actions()}
        names["clearRuns"].trigger()
        assert panel.plots.earlier == [] and panel.plots.plots["loss"].overlays == {}
        assert [r.number for r in panel.records] == [2]
        assert not panel.runs_button.isEnabled()
    finally:
        panel.shutdown()
        close_quietly(win)


def test_a_reopened_project_shows_its_trained_boundary_at_once(qtbot, tmp_path, monkeypatch):
    refuse_downloads(monkeypatch)
    from .test_files_training import tiny_project

    win = make_window(qtbot, project=tiny_project())
    panel = win.training_panel
    try:
        _step(qtbot, panel, panel.train)
        project_file = tmp_path / "tiny.layerlab.json"
        assert win.save_to(project_file)
    finally:
        panel.shutdown()
        close_quietly(win)

    again = make_window(qtbot)
    panel = again.training_panel
    try:
        panel.ensure_views()
        again.training.start_engine()  # what launch does: the engine says hello
        assert again.open_path(project_file)
        qtbot.waitUntil(lambda: panel.boundary.grid is not None, timeout=RUN_TIMEOUT)
        assert len(panel.store) == 1 and panel.records == []  # a picture, and no run
        assert panel.act_continue.isEnabled() and "Loaded" in panel.message_text
    finally:
        panel.shutdown()
        close_quietly(again)
