"""Training > Step Through in a real window on the circle lesson, through the real engine:
N trains one batch at a time; the counter, the ringed batch, the loss, the picked
weight's numbers (w after = w before - lr * g, to the precision shown) and the bars follow;
the engine not ready and a failed step are said in words; Esc ends it and fresh weights
are fresh again. For a CNN on images the action is off, with a tooltip that says why. The
window's process imports no Keras for any of it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui_app.core.spec import ObjectSpec
from gui_app.core.step_through import MAX_WEIGHTS
from gui_app.core.templates import template
from gui_app.resources import examples_dir
from gui_app.ui import colors
from gui_app.ui import messages as say

from .files_support import close_quietly, make_window, refuse_downloads

pytest.importorskip("pyqtgraph")
if importlib.util.find_spec("keras") is None:  # the engine needs it; this process must not
    pytest.skip("Keras is not installed", allow_module_level=True)

TIMEOUT = 120_000  # ms: the first step may wait for the engine to start and build the model
RATE = 0.1
HEAVY = ("keras", "tensorflow", "jax", "torch")


def heavy() -> set[str]:
    return {m for m in sys.modules if m.split(".")[0] in HEAVY}


def _wait_data(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.controller.data_loading, timeout=TIMEOUT)
    assert win.controller.dataset is not None, win.controller.data_error


def _number(text: str) -> float:
    return float(text.strip())


def test_step_through_the_circle_lesson_with_plain_sgd(qtbot, monkeypatch) -> None:
    refuse_downloads(monkeypatch)
    before_modules = heavy()
    win = make_window(qtbot)
    panel = win.training_panel
    try:
        assert win.files.open_example(examples_dir() / "02a_circle.layerlab.json",
                                      confirm=False)
        _wait_data(qtbot, win)
        project = win.controller.project
        win.controller.set_compile(replace(project.compile, optimizer=ObjectSpec(
            "SGD", {"learning_rate": RATE})), "Plain SGD")
        win.training.link.start()
        qtbot.waitUntil(lambda: win.training.link.is_ready, timeout=TIMEOUT)

        action = win.step_through.action
        actions = win.training_menu.actions()
        finder = actions.index(win.lr_finder.action)  # next to Find Learning Rate...
        assert finder < actions.index(action) <= finder + 2
        assert action.isEnabled(), action.toolTip()
        assert action.toolTip() == say.STEP_ACTION_TIP
        session = panel.ensure_session()
        grid = np.array([[0.1, 0.2], [-0.5, 0.3], [0.9, -0.7]], np.float32)
        fresh = session.predict(grid)
        action.trigger()
        dialog = win.step_through.dialog
        assert dialog is not None and dialog.isVisible()
        # the window waits while stepping (a Train meanwhile would start from stepped weights)
        from PySide6.QtWidgets import QApplication

        assert QApplication.activeModalWidget() is dialog
        for widget in (dialog.next_button, dialog.restart_button, dialog.close_button,
                       dialog.variable, dialog.index, dialog.scope, dialog.before_box,
                       dialog.boundary, dialog.grad_plot, dialog.update_plot, dialog.counter,
                       dialog.loss_label, dialog.rule, dialog.status):
            assert widget.toolTip(), widget.objectName()
        assert dialog.message == say.STEP_READY

        dialog.activateWindow()
        qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
        for _ in range(3):  # presses while a step runs are remembered, not lost
            qtbot.keyClick(dialog, Qt.Key.Key_N)
        qtbot.waitUntil(lambda: dialog.step is not None and dialog.step.step == 3
                        and not dialog.busy, timeout=TIMEOUT)
        step = dialog.step
        ds = win.controller.dataset
        size = project.fit.batch_size
        batches = -(-len(ds.x_train) // size)
        assert dialog.counter.text() == f"Pass 1, batch 3 of {batches} (step 3)"
        assert dialog.steps_shown == 3 and step.batch == 2
        assert dialog.highlighted == size == len(step.indices)
        np.testing.assert_allclose(np.column_stack(dialog.highlight.getData()),
                                   ds.x_train[step.indices], atol=1e-6)
        loss = re.search(r"Loss on this batch of 32: ([0-9.]+)", dialog.loss_label.text())
        assert loss and float(loss.group(1)) == pytest.approx(step.loss, abs=1e-6)
        assert 0.0 < step.loss < 5.0
        assert "w <- w - lr * g" in dialog.rule.text() and "SGD" in dialog.rule.text()
        assert dialog.boundary.grid is step.boundary

        # a weight picked by layer, kernel or bias, and index: its numbers as shown
        dialog.variable.setCurrentIndex(step.names.index("dense_1/kernel"))
        dialog.index.setValue(13)
        assert dialog.weight_name.text().startswith("<b>dense_1/kernel[1, 5]</b>")
        labels = dialog.value_labels
        before = _number(labels["before"].text())
        grad = _number(labels["gradient"].text())
        after = _number(labels["after"].text())
        rate, times = labels["rate"].text().split(" = ")[0].split(" * ")
        lr_g = _number(labels["rate"].text().split(" = ")[1])
        assert float(rate) == pytest.approx(RATE) and _number(times) == grad
        assert lr_g == pytest.approx(RATE * grad, rel=1e-3, abs=1e-9)
        # w after = w before - lr * g, to the precision shown (6 decimals, or 5 digits)
        assert after == pytest.approx(before - lr_g, abs=2e-6)
        assert dialog.check.text().endswith("\u2713")
        want = np.ravel(step.before[step.names.index("dense_1/kernel")])[13]
        assert before == pytest.approx(float(want), abs=1e-6)

        # the bars: gradient and update per weight, of this kernel, then of all weights
        heights = dialog.grad_bars.opts["height"]
        assert len(heights) == 64 == len(dialog.update_bars.opts["height"])
        np.testing.assert_allclose(heights, np.ravel(step.gradients[2]), rtol=1e-6)
        dialog.scope.setCurrentIndex(dialog.scope.findData("all"))
        assert len(dialog.grad_bars.opts["height"]) == step.weights == 105 <= MAX_WEIGHTS
        np.testing.assert_allclose(dialog.update_bars.opts["height"],
                                   np.concatenate([u.ravel() for u in step.updates]),
                                   atol=1e-9)
        assert dialog.marks[0].value() == 16 + 8 + 13  # dense/kernel and dense/bias first
        brushes = dialog.grad_bars.opts["brushes"]
        dark = [i for i, b in enumerate(brushes) if b.color().name() == colors.INK.lower()]
        assert dark == [16 + 8 + 13]  # the picked weight's bar
        assert len(dialog.separators) == 2 * 5  # between the six kernels and biases
        dialog.pick_bar(3)  # a click on a bar picks its weight
        assert dialog.picked() == (0, 3)

        # the boundary before the step, on request
        dialog.before_box.setChecked(True)
        assert dialog.boundary.grid is step.boundary_before
        assert "before" in dialog.boundary.header.text()

        # the engine not ready, and a step that fails: words, no traceback
        with monkeypatch.context() as patched:
            patched.setattr(type(win.training.link), "is_ready", property(lambda s: False))
            assert not dialog.next_batch()
            assert dialog.message == say.STEP_ENGINE_LOADING
        dialog._pending = 0  # noqa: SLF001 - the press above waits for a ready engine

        def refuse(**_kwargs):
            raise RuntimeError("the batch was refused")

        panel.session.step_batch = refuse
        try:
            assert dialog.next_batch()
            qtbot.waitUntil(lambda: not dialog.busy, timeout=TIMEOUT)
        finally:
            del panel.session.step_batch
        assert dialog.message == say.step_failed("the batch was refused")
        assert "Traceback" not in dialog.message and dialog.step.step == 3

        # Esc ends it; the weights, fresh before the first step, are fresh again
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        assert not dialog.isVisible() and dialog.step is None
        qtbot.waitUntil(lambda: np.allclose(session.predict(grid), fresh, atol=1e-6),
                        timeout=TIMEOUT)
        assert heavy() <= before_modules, sorted(heavy() - before_modules)
    finally:
        panel.shutdown()
        close_quietly(win)


def test_step_through_is_off_for_a_cnn_with_a_tooltip_that_says_why(qtbot, monkeypatch
                                                                       ) -> None:
    refuse_downloads(monkeypatch)
    win = make_window(qtbot, project=template("cnn").project())
    try:
        _wait_data(qtbot, win)
        action = win.step_through.action
        assert not action.isEnabled()
        assert action.toolTip().startswith("Step Through is not available")
        assert "two features" in action.toolTip()
        assert action.statusTip() == action.toolTip()
    finally:
        win.training_panel.shutdown()
        close_quietly(win)
