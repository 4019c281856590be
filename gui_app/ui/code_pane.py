"""The live code pane: the Keras code the project means, highlighted, with the lines that
the last edit changed marked, so a student sees what each click does to the code.

The text is `codegen.model_code(project)`, the same as `layerlab export` writes.
"""

from __future__ import annotations

import difflib
import re

from PySide6.QtCore import QEvent, Qt, Slot
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QKeySequence,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ..core.codegen import UnsafeCodeError, comment_text, model_code
from ..core.search_text import annotate_code
from ..core.spec import Project
from .controller import ProjectController

KEYWORDS = ("False", "None", "True", "and", "as", "def", "else", "for", "from", "if", "import",
            "in", "is", "lambda", "not", "or", "return", "with")
CHANGED_LINE = QColor("#fff3b0")
SEARCHED_LINE = QColor("#e3f2fd")  # a setting that a search sets (Training > Search...)


def _format(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    fmt.setFontItalic(italic)
    return fmt


class PythonHighlighter(QSyntaxHighlighter):
    """Enough Python colouring for generated Keras code: keywords, names, strings, numbers."""

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.rules: list[tuple[re.Pattern[str], QTextCharFormat]] = [
            (re.compile(r"\b(" + "|".join(KEYWORDS) + r")\b"), _format("#7b1fa2", bold=True)),
            (re.compile(r"\b(keras|layers|model|history)\b"), _format("#00695c")),
            (re.compile(r"\b[A-Z][A-Za-z0-9_]*(?=\()"), _format("#1565c0", bold=True)),
            (re.compile(r"\b[a-z_][a-z0-9_]*(?=\()"), _format("#1565c0")),
            (re.compile(r"\b[a-z_][a-z0-9_]*(?==)"), _format("#6d4c41")),
            (re.compile(r"\b\d+(\.\d*)?([eE][-+]?\d+)?\b"), _format("#c62828")),
            (re.compile(r"\"[^\"\n]*\"|'[^'\n]*'"), _format("#2e7d32")),
            (re.compile(r"#[^\n]*"), _format("#757575", italic=True)),
        ]

    def highlightBlock(self, text: str) -> None:  # noqa: N802
        for pattern, fmt in self.rules:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


def changed_lines(old: str, new: str) -> list[int]:
    """Line numbers (0-based) of `new` that are new or different compared with `old`."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    lines: list[int] = []
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            lines.extend(range(j1, j2))
    return lines


class CodePane(QWidget):
    """Read-only, highlighted Keras code for the current project, with a Copy button."""

    def __init__(self, controller: ProjectController) -> None:
        super().__init__()
        self.setObjectName("codePane")
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.setSpacing(4)
        top = QHBoxLayout()
        self.caption = QLabel("Keras code for this project; changed lines are marked.")
        self.caption.setToolTip("The model, compile and fit part of the script that "
                                "`layerlab export` writes.")
        self.caption.setStyleSheet("color: palette(dark);")
        self.caption.setWordWrap(True)
        self.caption.setMinimumWidth(60)
        self.copy_button = QPushButton("Copy")
        self.copy_button.setObjectName("copyCode")
        self.copy_button.setShortcut(QKeySequence("Ctrl+Shift+C"))
        self.copy_button.setToolTip("Copy the code to the clipboard (Ctrl+Shift+C).")
        top.addWidget(self.caption, 1)
        top.addWidget(self.copy_button)
        layout.addLayout(top)
        self.editor = QPlainTextEdit()
        self.editor.setObjectName("codeEditor")
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self._fit_code_font()
        self.editor.setToolTip("Read-only: edit the model in the window and this code follows.")
        self.highlighter = PythonHighlighter(self.editor.document())
        layout.addWidget(self.editor)
        self.text = ""
        self.copy_button.clicked.connect(self.copy)
        controller.projectChanged.connect(self._on_project_changed)
        self.update_code(mark=False)

    def _fit_code_font(self) -> None:
        """The fixed-width font at least as large as the text around it, also after the
        text was scaled (View > Larger Text): a set font no longer follows the app's."""
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(font.pointSizeF(), QGuiApplication.font().pointSizeF()))
        self.editor.setFont(font)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "editor"):
            self._fit_code_font()

    @Slot(object, object)
    def _on_project_changed(self, _old: Project, _new: Project) -> None:
        self.update_code()

    def update_code(self, mark: bool = True) -> None:
        """Shows the current code, keeping the scroll position and marking changed lines."""
        searched: list[int] = []
        try:
            text, searched = annotate_code(model_code(self.controller.project),
                                           self.controller.project.search)
        except UnsafeCodeError as exc:  # loading checks names against the catalog first
            text = f"# This project cannot be shown as code: {comment_text(str(exc))}\n"
        if text == self.text:
            return
        old, self.text = self.text, text
        bar = self.editor.verticalScrollBar()
        position = bar.value()
        self.editor.setPlainText(text)
        bar.setValue(position)
        selections = []
        lines = changed_lines(old, text) if mark and old else []
        for number in searched:
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(SEARCHED_LINE)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(self.editor.document().findBlockByNumber(number))
            selections.append(selection)
        for number in lines:
            block = self.editor.document().findBlockByNumber(number)
            selection = QTextEdit.ExtraSelection()
            selection.format.setBackground(CHANGED_LINE)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            cursor = QTextCursor(block)
            selection.cursor = cursor
            selections.append(selection)
        self.editor.setExtraSelections(selections)
        if lines:  # bring the first changed line into view
            cursor = QTextCursor(self.editor.document().findBlockByNumber(lines[0]))
            self.editor.setTextCursor(cursor)
            self.editor.ensureCursorVisible()

    @Slot()
    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text)
