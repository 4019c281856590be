"""The Diagnostics tab: what is going wrong in the training, in words, with fixes.

The engine watches the run (`core.diagnostics`) and sends a `FindingEvent` when a problem
appears and when it stops holding. This view keeps one card per problem (its code and the
layer it points at): the epoch it was first seen, the message with its evidence, a "Show
me" button that points at the evidence (the layer's row in the model, the epoch on the
plots), and one button per fix. A problem that stops holding is marked resolved, not
removed, so a person sees that the fix worked. Applying a fix is an ordinary, undoable edit
of the project for the next run.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.diagnostics.events import RESOLVED, FindingEvent
from . import colors
from .findings_view import _short

#: The heading of each code, as a person would name the problem.
TITLES: dict[str, str] = {
    "nan_loss": "The loss is not a number",
    "exploding_gradients": "Exploding gradients",
    "vanishing_gradients": "Vanishing gradients: the first layers barely learn",
    "dying_relu": "Dead ReLU units",
    "saturation": "Saturated units",
    "oscillating_loss": "The loss jumps up and down",
    "slow_convergence": "Learning too slowly",
    "plateau": "Stuck on a plateau",
    "overfitting": "Overfitting",
    "underfitting": "Underfitting",
}
_TINTS = {"error": ("#fdecea", colors.VERMILLION), "warning": ("#fff8e1", colors.ORANGE),
          RESOLVED: ("#eef7ee", colors.BLUISH_GREEN)}


def title_of(code: str) -> str:
    return TITLES.get(code, code.replace("_", " ").capitalize())


class FindingCard(QFrame):
    """One problem: heading with the epoch, message, Show me, fix buttons."""

    def __init__(self, view: DiagnosticsView, event: FindingEvent) -> None:
        super().__init__()
        self.setObjectName("diagnosticCard")
        self.view = view
        self.finding = event
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        self.heading = QLabel()
        self.heading.setObjectName("diagnosticHeading")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        self.message = QLabel()
        self.message.setObjectName("diagnosticMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.heading)
        layout.addWidget(self.message)
        row = QHBoxLayout()
        row.setSpacing(4)
        self.show_me = QPushButton("Show me")
        self.show_me.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.show_me.setObjectName("showMe")
        self.show_me.setToolTip("Point at the evidence: the layer's row in the model and the "
                                "epoch on the plots.")
        self.show_me.clicked.connect(lambda: view.showRequested.emit(self.finding.layer,
                                                                     self.finding.since))
        row.addWidget(self.show_me)
        row.addStretch(1)
        layout.addLayout(row)
        # one fix per line, each as wide as the card allows: a row of long labels would make
        # the card wider than a narrow Diagnostics tab
        self._fix_row = QVBoxLayout()
        self._fix_row.setSpacing(3)
        layout.addLayout(self._fix_row)
        self.fix_buttons: list[QPushButton] = []
        self.update_event(event)

    def update_event(self, event: FindingEvent) -> None:
        self.finding = event
        resolved = event.state == RESOLVED
        background, border = _TINTS[RESOLVED if resolved else
                                    ("error" if event.severity == "error" else "warning")]
        self.setStyleSheet(f"#diagnosticCard {{ background: {background}; border: 1px solid "
                           f"{border}; border-radius: 4px; }}")
        where = f", layer {event.layer + 1}" if event.layer is not None else ""
        state = (f" - resolved at epoch {event.epoch + 1}" if resolved else "")
        self.heading.setText(f"{title_of(event.code)} (from epoch {event.since + 1}{where})"
                             f"{state}")
        self.message.setText(event.message)
        self.message.setEnabled(not resolved)
        for button in self.fix_buttons:
            self._fix_row.removeWidget(button)
            button.deleteLater()
        self.fix_buttons = []
        if resolved:
            return
        for fix in event.fixes:
            label = str(fix.get("label", fix.get("id", "Fix")))
            button = QPushButton(_short(label))
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.setObjectName("diagnosticFix")
            button.setToolTip(f"{label}: changes the project for the next run (Ctrl+Z "
                              "undoes it).")
            button.clicked.connect(lambda _c=False, f=dict(fix): self.view.fixRequested.emit(f))
            self._fix_row.addWidget(button)
            self.fix_buttons.append(button)


class DiagnosticsView(QWidget):
    """The findings of the runs of this project, newest problem first.

    Signals:
        fixRequested(dict): a fix's reference ({"id", "label", "params"}) to apply.
        showRequested(object, int): the layer index (or None) and the epoch to point at.
        countChanged(int): how many problems are active now.
    """

    fixRequested = Signal(dict)
    showRequested = Signal(object, int)
    countChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("diagnosticsView")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.empty = QLabel("No problems seen in this run. LayerLab watches the gradients, "
                            "the units and the curves while it trains, and says here what "
                            "goes wrong and what to try.")
        self.empty.setObjectName("noDiagnostics")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet(f"color: {colors.BLUISH_GREEN};")
        outer.addWidget(self.empty)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        holder = QWidget()
        self._list = QVBoxLayout(holder)
        self._list.setContentsMargins(2, 2, 2, 2)
        self._list.setSpacing(6)
        self._list.addStretch(1)
        scroll.setWidget(holder)
        outer.addWidget(scroll, 1)
        self.cards: dict[tuple[str, Any], FindingCard] = {}

    @property
    def active(self) -> list[FindingEvent]:
        return [c.finding for c in self.cards.values() if c.finding.state != RESOLVED]

    @property
    def findings(self) -> list[FindingEvent]:
        """Every finding of the run in its latest state, active and resolved, in the order
        they were first reported (what the History exports carry)."""
        return [c.finding for c in self.cards.values()]

    @Slot(object)
    def add(self, event: FindingEvent) -> None:
        """A finding appeared or changed state: its card is made or updated."""
        key = (event.code, event.layer)
        card = self.cards.get(key)
        if card is None:
            card = FindingCard(self, event)
            self.cards[key] = card
            self._list.insertWidget(0, card)
        else:
            card.update_event(event)
        self.empty.setVisible(False)
        self.countChanged.emit(len(self.active))

    def clear(self) -> None:
        """A new run (or another project): the cards of the one before go."""
        for card in self.cards.values():
            self._list.removeWidget(card)
            card.deleteLater()
        self.cards.clear()
        self.empty.setVisible(True)
        self.countChanged.emit(0)
