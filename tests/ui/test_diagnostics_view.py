"""The Diagnostics tab on its own: cards appear, update, resolve, and ask for fixes."""

from __future__ import annotations

from gui_app.core.diagnostics.events import RESOLVED, FindingEvent
from gui_app.ui.diagnostics_view import DiagnosticsView

FIX = {"id": "relu_he", "label": "Use ReLU in the hidden layers", "params": {"layers": [0, 1]}}


def _event(state="active", epoch=2):
    return FindingEvent("vanishing_gradients", epoch, 0,
                        "The first layer's gradients are 1e-6 of the last layer's.",
                        (FIX,), state=state, since=2)


def test_a_finding_shows_with_its_fix_and_evidence(qtbot):
    view = DiagnosticsView()
    qtbot.addWidget(view)
    counts, fixes, shows = [], [], []
    view.countChanged.connect(counts.append)
    view.fixRequested.connect(fixes.append)
    view.showRequested.connect(lambda layer, epoch: shows.append((layer, epoch)))
    view.add(_event())
    card = view.cards[("vanishing_gradients", 0)]
    assert "first layers barely learn" in card.heading.text()
    assert "epoch 3" in card.heading.text() and "layer 1" in card.heading.text()
    assert [b.text() for b in card.fix_buttons] == ["Use ReLU in the hidden layers"]
    card.fix_buttons[0].click()
    card.show_me.click()
    assert fixes == [FIX] and shows == [(0, 2)] and counts == [1]
    assert not view.empty.isVisibleTo(view)


def test_a_resolved_finding_stays_marked_and_loses_its_fixes(qtbot):
    view = DiagnosticsView()
    qtbot.addWidget(view)
    view.add(_event())
    view.add(_event(state=RESOLVED, epoch=9))
    card = view.cards[("vanishing_gradients", 0)]
    assert len(view.cards) == 1 and view.active == []
    assert "resolved at epoch 10" in card.heading.text() and card.fix_buttons == []
    view.clear()
    assert view.cards == {} and view.empty.isVisibleTo(view)
