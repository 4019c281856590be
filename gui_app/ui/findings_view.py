"""Pre-flight findings shown where they belong, each with buttons that apply its fixes.

Several of these sit in the window, each with a filter: the inspector shows the selected
layer's findings, the compile panel those about the loss and metrics, the data and fit
panels theirs, and the model view lists everything. Cards are only rebuilt when the set of
findings really changes, so typing in a spin box does not make the panel flicker.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..core.checks import ERROR, INFO, WARNING, Finding
from .controller import ProjectController
from .stack_model import severity_icon

TINTS = {ERROR: ("#fdecea", "#e57373"), WARNING: ("#fff8e1", "#ffb300"), INFO: ("#e8f1fb", "#64b5f6")}


def _key(findings: list[Finding]) -> tuple:
    return tuple((f.severity, f.code, f.message, f.where, tuple(x.label for x in f.fixes))
                 for f in findings)


#: Characters a fix button shows; a longer label (one with a path) is cut, whole in its tooltip.
FIX_LABEL_CHARS = 48
_ZWSP = "\u200b"


def breakable(text: str) -> str:
    """`text` with invisible break points after "/", "\\" and "_": a long path or name in a
    finding then wraps inside a narrow panel instead of widening it or being cut."""
    for mark in ("/", "\\", "_"):
        text = text.replace(mark, mark + _ZWSP)
    return text


def _short(label: str) -> str:
    """`label` cut to FIX_LABEL_CHARS, with an ellipsis."""
    if len(label) <= FIX_LABEL_CHARS:
        return label
    return label[: FIX_LABEL_CHARS - 1].rstrip() + "\u2026"


class FindingCard(QFrame):
    """One finding: severity icon, the message in words, and a button per fix."""

    def __init__(self, view: FindingsView, index: int, finding: Finding) -> None:
        super().__init__()
        self.setObjectName("findingCard")
        background, border = TINTS.get(finding.severity, TINTS[INFO])
        self.setStyleSheet(f"#findingCard {{ background: {background}; border: 1px solid {border};"
                           " border-radius: 4px; }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(3)
        top = QHBoxLayout()
        top.setSpacing(6)
        icon = QLabel()
        icon.setPixmap(severity_icon(finding.severity).pixmap(16, 16))
        icon.setAlignment(Qt.AlignmentFlag.AlignTop)
        icon.setToolTip(finding.severity.capitalize())
        message = QLabel(breakable(finding.message))
        message.setWordWrap(True)
        message.setObjectName("findingMessage")
        message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        message.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        message.setToolTip(f"{finding.severity}: {finding.code} ({finding.where})")
        top.addWidget(icon)
        top.addWidget(message, 1)
        layout.addLayout(top)
        self.buttons: list[QPushButton] = []
        if finding.fixes:
            row = QHBoxLayout()
            row.setSpacing(4)
            row.addStretch(1)
            for fix_index, fix in enumerate(finding.fixes):
                button = QPushButton(_short(fix.label))
                button.setObjectName("fixButton")
                button.setToolTip(f"{fix.label}. Undo with Ctrl+Z.")
                button.setProperty("finding", index)
                button.setProperty("fix", fix_index)
                button.clicked.connect(view._on_fix_clicked)
                row.addWidget(button)
                self.buttons.append(button)
            layout.addLayout(row)


class FindingsView(QWidget):
    """The findings that match `accept`, as cards; hidden when there are none."""

    def __init__(self, controller: ProjectController, accept: Callable[[Finding], bool],
                 empty_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.accept = accept
        self.empty_text = empty_text
        self.findings: list[Finding] = []
        self.cards: list[FindingCard] = []
        self._key: tuple | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(4)
        self.empty_label = QLabel(empty_text)
        self.empty_label.setObjectName("noFindings")
        self.empty_label.setStyleSheet("color: #2e7d32;")
        self.empty_label.setWordWrap(True)
        self._layout.addWidget(self.empty_label)
        controller.derivedChanged.connect(self.refresh)
        self.refresh()

    def set_filter(self, accept: Callable[[Finding], bool]) -> None:
        self.accept = accept
        self._key = None
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        findings = [f for f in self.controller.findings if self.accept(f)]
        self.findings = findings  # always current: fixes are applied from the newest findings
        key = _key(findings)
        if key == self._key:
            return
        self._key = key
        for card in self.cards:
            self._layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        for i, finding in enumerate(findings):
            card = FindingCard(self, i, finding)
            self._layout.addWidget(card)
            self.cards.append(card)
        self.empty_label.setVisible(not findings and bool(self.empty_text))
        self.setVisible(bool(findings) or bool(self.empty_text))

    def fix_buttons(self) -> list[QPushButton]:
        return [b for card in self.cards for b in card.buttons]

    @Slot()
    def _on_fix_clicked(self) -> None:
        button = self.sender()
        if button is None:
            return
        finding_index, fix_index = button.property("finding"), button.property("fix")
        if finding_index is None or finding_index >= len(self.findings):
            return
        fixes = self.findings[finding_index].fixes
        if fix_index is not None and fix_index < len(fixes):
            self.controller.apply_fix(fixes[fix_index])
