"""Present mode: the training view alone, full screen, the model as one line, every lesson
control on the keyboard, and the editing layout exactly as it was afterwards."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from gui_app.core.spec import LayerSpec, default_project
from gui_app.core.summary import summarize
from gui_app.ui.presenter import SETTLE_MS, model_line, shape_text


def layout_of(window) -> dict:
    """What must come back: each dock's visibility, floating, area and size (a tab behind
    another has no size worth comparing), the centre."""
    docks = {d.objectName(): (d.isVisible(), d.isFloating(), window.dockWidgetArea(d),
                              None if d.visibleRegion().isEmpty() else d.size().toTuple())
             for d in window.docks}
    return {"docks": docks, "size": window.size().toTuple(),
            "splitter": window.center_splitter.sizes(),
            "central": window.centralWidget() is window.center_splitter,
            "menu": window.menuBar().isVisible(), "status": window.statusBar().isVisible()}


def test_model_line_is_the_model_on_one_line():
    project = default_project()
    assert model_line(project, summarize(project.model)) == \
        "2 \u2192 Dense 8 relu \u2192 Dense 8 relu \u2192 Dense 1 sigmoid \u00b7 105 parameters"
    layers = tuple(replace(layer, args={**layer.args, "activation": "tanh"})
                   if i < 2 else layer for i, layer in enumerate(project.model.layers))
    tanh = replace(project, model=replace(project.model, layers=layers))
    assert model_line(tanh, summarize(tanh.model)).startswith("2 \u2192 Dense 8 tanh \u2192")
    assert shape_text((28, 28, 1)) == "28\u00d728\u00d71" and shape_text((None, 8)) == "?\u00d78"
    broken = replace(project, model=replace(project.model, layers=(
        *project.model.layers, LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3}))))
    assert "not counted" in model_line(broken, summarize(broken.model))


def test_present_shows_the_training_view_alone_and_restores_the_layout(qtbot, window):
    window.resize(1280, 720)
    window.controller.wait_for_data()
    qtbot.wait(50)
    window.inspector_dock.hide()  # a layout of the person's own, to come back exactly
    window.center_splitter.setSizes([300, 150])
    qtbot.wait(50)
    before = layout_of(window)
    presenter = window.presenter

    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert presenter.active and presenter.act_present.isChecked()
    assert window.isFullScreen()
    assert window.centralWidget() is presenter.strip
    assert "2 \u2192 Dense 8 relu" in presenter.strip.text
    qtbot.wait(50)
    assert [d for d in window.docks if d.isVisible()] == [window.training_dock]
    assert window.menuBar().isHidden() and window.statusBar().isHidden()
    # the views are made on showing, one per turn of the event loop
    qtbot.waitUntil(lambda: window.training_panel.plots is not None, timeout=5000)
    # once the layout has settled (the strip's wrapped label is measured in a later pass)
    qtbot.waitUntil(lambda: presenter.strip.height() < 0.1 * window.height(), timeout=3000)
    assert window.training_dock.height() > 0.8 * window.height()

    qtbot.keyClick(window, Qt.Key.Key_F5)
    assert not presenter.active and not window.isFullScreen()
    qtbot.wait(SETTLE_MS + 100)
    assert layout_of(window) == before


def test_esc_stops_a_run_first_and_leaves_only_when_none_is_going(qtbot, window):
    panel = window.training_panel
    window.resize(1280, 720)
    qtbot.wait(20)
    window.presenter.enter(full_screen=False)
    assert window.presenter.act_leave.isEnabled()
    panel._set_state("running")  # a run as the panel sees it (no engine needed)
    try:
        assert not window.presenter.act_leave.isEnabled() and panel.act_stop.isEnabled()
        with qtbot.waitSignal(panel.act_pause.triggered, timeout=1000):
            qtbot.keyClick(window, Qt.Key.Key_Space)
        with qtbot.waitSignal(panel.act_stop.triggered, timeout=1000):
            qtbot.keyClick(window, Qt.Key.Key_Escape)
        assert window.presenter.active  # Esc stopped the run, the class still watches
    finally:
        panel._set_state("idle")
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.presenter.active
    assert window.centralWidget() is window.center_splitter


def test_lesson_keys_are_window_shortcuts_that_work_while_presenting(qtbot, window):
    from gui_app.ui.text_scale import text_scale

    panel = window.training_panel
    wanted = {panel.act_train: "Ctrl+Return", panel.act_pause: "Space", panel.act_stop: "Esc",
              panel.act_step: "F10", panel.act_continue: "Ctrl+Shift+Return"}
    for action, key in wanted.items():
        assert action.shortcut() == QKeySequence(key)
        assert action in window.actions()  # not only in the (hidden) menu bar
    window.presenter.enter(full_screen=False)
    try:
        qtbot.keyClick(window, Qt.Key.Key_Plus, Qt.KeyboardModifier.ControlModifier)
        assert text_scale().factor == pytest.approx(1.15)
        qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
        assert text_scale().factor == 1.0
    finally:
        text_scale().reset()
        window.presenter.leave()


def test_closing_while_presenting_remembers_the_editing_layout(qtbot, window,
                                                               isolated_settings):
    from gui_app.ui.main_window import MainWindow

    window.resize(window.width(), 613)  # the offscreen screen is small: change the height
    qtbot.wait(20)
    window.presenter.enter()
    window.close()
    again = MainWindow(load_keras=False)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert not again.presenter.active and not again.isFullScreen()
    assert again.height() == 613  # not the full screen (the screen is 600 high)
    assert all(d.isVisible() for d in (again.palette_dock, again.inspector_dock,
                                       again.setup_dock))
    assert again.centralWidget() is again.center_splitter
