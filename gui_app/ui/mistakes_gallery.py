"""The Evaluate dialog's gallery for a folder of images: the images the model got wrong,
the most confident mistakes first, or the images behind one cell of the confusion matrix.

Each picture says what the model called it, how sure it was, and what it really is. A
confident mistake is the one to look at first: the model learned something wrong there,
or the image sits in the wrong class folder.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.mistakes import Answers
from .image_gallery import ImageGrid, ThumbnailLoader, Tile

__all__ = ["MistakesGallery"]

#: Pictures shown at most; the rest are counted (the least confident ones).
MAX_TILES = 120
THUMBNAIL = 64
TILE_WIDTH = 104
WRONG, RIGHT = "#c62828", "#2e7d32"


class MistakesGallery(QWidget):
    """The pictures of one part's answers: `show_answers` then `show_wrong` or `show_cell`.

    Signals:
        shown(str): what the gallery shows now ("wrong" or "cell i j").
    """

    shown = Signal(str)

    def __init__(self, gray: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mistakesGallery")
        self.answers: Answers | None = None
        self.paths: list[str] = []
        self.names: list[str] = []
        self.part = "test"
        self.rows: list[int] = []  # the samples shown, in the part's numbering
        self.loader = ThumbnailLoader(THUMBNAIL, gray, self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.title = QLabel()
        self.title.setObjectName("mistakesTitle")
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        head.addWidget(self.title, 1)
        self.all_button = QPushButton("Show all mistakes")
        self.all_button.setObjectName("mistakesAll")
        self.all_button.setToolTip("Back to every image the model got wrong.")
        self.all_button.setVisible(False)
        head.addWidget(self.all_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(head)
        self.grid = ImageGrid(self.loader, TILE_WIDTH, caption_lines=2)
        self.grid.setObjectName("mistakesGrid")
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(self.grid)
        holder_layout.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setWidget(holder)
        self.scroll.setMinimumHeight(THUMBNAIL * 2 + 40)
        layout.addWidget(self.scroll, 1)
        self.note = QLabel()
        self.note.setObjectName("mistakesNote")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: palette(dark);")
        layout.addWidget(self.note)
        self.all_button.clicked.connect(self.show_wrong)
        self.title.setText("Evaluating: the pictures the model gets wrong will show here.")

    def show_answers(self, answers: Answers, paths: Sequence[str], names: Sequence[str],
                     part: str = "test") -> None:
        """Takes one part's answers, its files (in the same order) and the class names,
        and shows the mistakes."""
        self.answers, self.paths, self.names, self.part = (answers, list(paths), list(names),
                                                           part)
        self.show_wrong()

    def _name(self, k: int) -> str:
        return self.names[k] if 0 <= k < len(self.names) else f"class {k}"

    @Slot()
    def show_wrong(self) -> None:
        answers = self.answers
        if answers is None:
            return
        rows = [int(r) for r in answers.wrong()]
        n = len(answers)
        if not rows:
            self.title.setText(f"<b>No mistakes</b>: the model got every one of the {n:,} "
                               f"{self.part} images right.")
        else:
            self.title.setText(f"<b>Misclassified {self.part} images</b>: {len(rows):,} of "
                               f"{n:,}, the most confident mistakes first. Click a cell of "
                               "the confusion matrix for the images behind it.")
        self.all_button.setVisible(False)
        self._show(rows)
        self.shown.emit("wrong")

    def show_cell(self, true_class: int, predicted_class: int) -> None:
        """The images of `true_class` that the model called `predicted_class`."""
        answers = self.answers
        if answers is None:
            return
        rows = [int(r) for r in answers.cell(true_class, predicted_class)]
        truth, guess = self._name(true_class), self._name(predicted_class)
        right = true_class == predicted_class
        what = (f"{truth}, predicted right" if right
                else f"{truth}, predicted as {guess}")
        if rows:
            self.title.setText(f"<b>{what.capitalize()}</b>: {len(rows):,} {self.part} "
                               f"images, the most confident first.")
        else:
            self.title.setText(f"<b>{what.capitalize()}</b>: no {self.part} image.")
        self.all_button.setVisible(True)
        self._show(rows)
        self.shown.emit(f"cell {true_class} {predicted_class}")

    def _show(self, rows: list[int]) -> None:
        answers = self.answers
        assert answers is not None
        shown = rows[:MAX_TILES]
        self.rows = shown
        tiles = []
        for r in shown:
            guess, truth = int(answers.guess[r]), int(answers.truth[r])
            sure = f"{100 * float(answers.confidence[r]):.0f} %"
            path = self.paths[r] if r < len(self.paths) else ""
            wrong = guess != truth
            tip = (f"{path}\nTrue class: {self._name(truth)}\nPredicted: {self._name(guess)} "
                   f"({100 * float(answers.confidence[r]):.1f} % sure)")
            tiles.append(Tile(path, (f"{self._name(guess)} {sure}",
                                     f"true: {self._name(truth)}"),
                              tip, WRONG if wrong else RIGHT))
        self.grid.set_tiles(tiles)
        more = len(rows) - len(shown)
        self.note.setText(
            (f"{more:,} more, less confident, are not shown. " if more > 0 else "")
            + "Under each picture: what the model said and how sure it was, then the "
            "true class (its folder).")
        self.note.setVisible(bool(shown))
        self.scroll.verticalScrollBar().setValue(0)

    def captions(self) -> list[tuple[str, ...]]:
        """Each picture's caption lines, in order (tests)."""
        return [t.caption for t in self.grid.tiles]
