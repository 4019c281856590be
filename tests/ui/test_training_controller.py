"""The run's owner apart from any widget: state, lock, device, and who reacts to them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gui_app.ui.training_controller import TrainingController

UI = Path(__file__).resolve().parents[2] / "gui_app" / "ui"


class FakeProject:
    locked = False


def test_state_locks_the_project_and_says_so_once(qtbot):
    project = FakeProject()
    training = TrainingController(project)
    locks, states = [], []
    training.lockedChanged.connect(locks.append)
    training.stateChanged.connect(states.append)
    training.set_state("starting")
    training.set_state("running")
    training.set_state("paused")
    assert project.locked and training.locked and training.running
    training.set_state("idle")
    assert not project.locked and not training.running
    assert locks == [True, False]
    assert states == ["starting", "running", "paused", "idle"]
    with pytest.raises(ValueError, match="expected one of"):
        training.set_state("flying")


def test_device_choice_reaches_sessions(qtbot, monkeypatch):
    training = TrainingController()
    made = []
    monkeypatch.setattr(training.link, "session", lambda project, **kw: made.append(kw))
    training.new_session(object())
    assert made[-1]["device"] == "auto"
    seen = []
    training.deviceChanged.connect(lambda key, label: seen.append((key, label)))
    training.set_device("gpu:1", "GPU 1")
    training.set_device("gpu:1", "GPU 1")  # no change, no signal
    training.new_session(object())
    assert made[-1]["device"] == "gpu:1" and seen == [("gpu:1", "GPU 1")]


def test_locking_disables_the_editor_in_the_window(window):
    window.training.set_state("running")
    assert window.training_panel.locked
    assert not window.table.isEnabled() and not window.inspector.isEnabled()
    assert not window.act_undo.isEnabled()
    assert window.training_panel.banner.isVisibleTo(window)
    assert "editing locked" in window.training_dock.windowTitle()
    window.training.set_state("idle")
    assert window.table.isEnabled() and window.inspector.isEnabled()
    assert not window.training_panel.banner.isVisibleTo(window)
    assert window.training_dock.windowTitle() == "Training"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("module", ["training_panel.py", "device_picker.py",
                                    "training_controller.py", "lr_finder.py"])
def test_training_widgets_do_not_know_the_window(module):
    """No import of the main window (not even for types) and no `self.window.` attribute
    reach: the import cycle main_window <-> training_panel <-> device_picker is gone."""
    path = UI / module
    assert "main_window" not in _imports(path)
    text = path.read_text()
    assert "self.window." not in text and "getattr(window" not in text


def test_every_training_control_stays_in_sight_when_narrow(window, qtbot):
    """No control goes into the tool bar's overflow menu: words give way to icons."""
    panel = window.training_panel
    window.training_dock.setFloating(True)
    for width, words in ((1200, True), (560, False)):
        window.training_dock.resize(width, 500)
        qtbot.waitUntil(lambda w=width: abs(panel.width() - w) < 40, timeout=5000)
        buttons = [panel.toolbar.widgetForAction(act)
                   for act in (panel.act_train, panel.act_step, panel.act_pause,
                               panel.act_stop, panel.act_reset, panel.act_evaluate)]

        def in_sight(buttons=buttons) -> bool:
            return all(b.isVisible() and b.geometry().right() <= panel.toolbar.width()
                       for b in buttons)

        qtbot.waitUntil(in_sight, timeout=5000)
        beside = panel.toolbar.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        assert beside == words, width



def test_plots_thicken_with_the_text_scale(window):
    from gui_app.core.history_views import RunRecord
    from gui_app.ui.text_scale import text_scale

    panel = window.training_panel
    panel.ensure_views()
    record = RunRecord(1, "run")
    record.add_epoch(0, {"loss": 0.5, "val_loss": 0.6})
    panel.plots.set_record(record)
    loss = panel.plots.plots["loss"]
    before = loss.train.item.opts["pen"].widthF() if hasattr(loss.train.item, "opts") \
        else loss.train.item.pen().widthF()
    scale = text_scale()
    try:
        scale.set_factor(2.0)
        pen = loss.train.item.opts["pen"] if hasattr(loss.train.item, "opts") \
            else loss.train.item.pen()
        assert pen.widthF() == 2 * before
        assert loss.plot.getAxis("left").style["tickFont"].pointSizeF() == 16.0
    finally:
        scale.set_factor(1.0)
    pen = loss.train.item.opts["pen"] if hasattr(loss.train.item, "opts") \
        else loss.train.item.pen()
    assert pen.widthF() == before


def test_a_long_path_in_a_finding_wraps_and_its_fix_is_cut_with_the_whole_tip(window):
    from gui_app.ui.findings_view import FIX_LABEL_CHARS, breakable

    assert breakable("a/b_c") == "a/\u200bb_\u200bc"
    long_dir = "/".join(["a_very_long_folder_name"] * 8)
    window.controller.set_fit({"callbacks": [{"type": "CSVLogger",
                                              "filename": f"/{long_dir}/log.csv"}]})
    cards = window.all_findings.findChildren(type(window.all_findings.fix_buttons()[0]))
    buttons = [b for b in cards if b.objectName() == "fixButton"]
    assert buttons
    assert all(len(b.text()) <= FIX_LABEL_CHARS for b in buttons)
    labels = [fix.label for f in window.controller.findings for fix in f.fixes]
    assert any(len(label) > FIX_LABEL_CHARS for label in labels)
    assert all(any(label in b.toolTip() for b in buttons) for label in labels)
    assert window.width() <= 1280
