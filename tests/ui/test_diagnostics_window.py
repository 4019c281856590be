"""Issue 13's student: the circle with ten sigmoid layers. During the run the Diagnostics
tab says the first layers barely learn, with a button that switches them to ReLU; after
pressing it and training again, the finding is gone and the boundary closes."""

from __future__ import annotations

import pytest

from ..core.keras_helpers import sigmoid_stack
from .files_support import close_quietly, make_window, refuse_downloads

pytest.importorskip("keras")
pytest.importorskip("pyqtgraph")

RUN_TIMEOUT = 240_000


def _train(qtbot, panel):
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT) as blocker:
        assert panel.train(), panel.message_text
    return blocker.args[0]


def test_vanishing_gradients_found_fixed_and_gone(qtbot, monkeypatch):
    refuse_downloads(monkeypatch)
    win = make_window(qtbot, project=sigmoid_stack())
    panel = win.training_panel
    try:
        panel.ensure_views()
        seen_during_run = []
        panel.diagnostics.countChanged.connect(
            lambda n: seen_during_run.append((n, panel.running)))
        _train(qtbot, panel)
        card = panel.diagnostics.cards.get(("vanishing_gradients", 0)) or next(
            c for (code, _l), c in panel.diagnostics.cards.items()
            if code == "vanishing_gradients")
        assert any(n and running for n, running in seen_during_run), "not seen during the run"
        assert "barely learn" in card.heading.text()
        relu = next(b for b in card.fix_buttons if "ReLU" in b.text())
        card.show_me.click()
        assert win.table.selected_layers() == [card.finding.layer]
        relu.click()
        hidden = win.controller.project.model.layers[:-1]
        assert all(layer.args.get("activation") == "relu" for layer in hidden)
        assert "Ctrl+Z" in panel.message_text
        event = _train(qtbot, panel)
        assert event.reason == "completed"
        assert not [c for (code, _l), c in panel.diagnostics.cards.items()
                    if code == "vanishing_gradients"]
        assert panel.record.epoch_logs[-1]["val_accuracy"] >= 0.9  # the boundary closed
        win.controller.undo_stack.undo()  # the fix is an ordinary edit
        assert win.controller.project.model.layers[0].args["activation"] == "sigmoid"
    finally:
        panel.shutdown()
        close_quietly(win)
