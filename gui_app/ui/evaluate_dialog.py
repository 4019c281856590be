"""Evaluate: the trained model on data it did not train on.

Shows `model.evaluate` (loss and metrics, Keras's own numbers) and, for classification,
the confusion matrix and per-class precision, recall and F1 computed from
`model.predict` on the same part. Both calls run on the session's worker through a pool
thread, so the window stays responsive while a large test set is evaluated.

The test part is used when the data has one. Without one the dialog says so, shows the
validation part instead and says how to hold out a test part.

For a folder of images the outputs come from `session.predict_split` (the engine reads the
part's files; the window has no pixels), and a gallery shows the images the model got
wrong, the most confident mistakes first; a click on a cell of the confusion matrix shows
the images behind that cell (`mistakes_gallery.py`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.data import Dataset
from ..core.history_views import class_scores, confusion_matrix, labels_of, predicted_classes
from ..core.mistakes import Answers

PARTS = (("test", "x_test", "y_test"), ("val", "x_val", "y_val"), ("train", "x_train", "y_train"))
PART_NAMES = {"test": "test", "val": "validation", "train": "training"}


def _fmt(value: float) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.4g}"


def _table(rows: int, cols: int, name: str) -> QTableWidget:
    table = QTableWidget(rows, cols)
    table.setObjectName(name)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _fit_rows(table: QTableWidget, most: int = 10) -> None:
    """Holds a table at the height of its rows (up to `most`; more scroll), so the
    gallery below gets the room."""
    rows = min(table.rowCount(), most)
    height = table.horizontalHeader().height() + 2 * table.frameWidth() \
        + sum(table.rowHeight(i) for i in range(rows))
    if table.horizontalScrollBar().isVisible():
        height += table.horizontalScrollBar().height()
    table.setFixedHeight(height + 2)


class EvaluateDialog(QDialog):
    """Loss, metrics, confusion matrix and per-class scores on one part of the data.

    Args:
        dataset: the data the session trains on.
        evaluate: `session.evaluate` (split -> {name: value}).
        predict: `session.predict` (inputs -> outputs).
        run_in_background: `Background.call`.
        from_logits: the model outputs logits (a single output is then split at 0).
        predict_split: `session.predict_split` (split -> outputs in the part's order), for
            data whose inputs stay on disk (a folder of images).
    """

    def __init__(self, parent: QWidget | None, dataset: Dataset,
                 evaluate: Callable[[str], dict[str, float]],
                 predict: Callable[[np.ndarray], np.ndarray],
                 run_in_background: Callable[..., Any], from_logits: bool = False,
                 predict_split: Callable[[str], np.ndarray] | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("evaluateDialog")
        self.setWindowTitle("Evaluate the trained model")
        self.dataset = dataset
        self._evaluate, self._predict = evaluate, predict
        self._predict_split = predict_split
        self.streamed = bool(getattr(dataset, "streamed", False))
        self.answers: Answers | None = None
        self.gallery: Any = None
        self._background = run_in_background
        self.from_logits = from_logits
        self.results: dict[str, float] | None = None
        self.matrix: np.ndarray | None = None
        self.error: str | None = None
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        row.addWidget(QLabel("Part of the data:"))
        self.part = QComboBox()
        self.part.setObjectName("evaluatePart")
        for split, x_name, _ in PARTS:
            x = getattr(dataset, x_name)
            if x is not None and len(x):
                self.part.addItem(f"{PART_NAMES[split]} ({len(x)} samples)", split)
        row.addWidget(self.part)
        row.addStretch(1)
        layout.addLayout(row)
        self.note = QLabel()
        self.note.setObjectName("evaluateNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.metrics = _table(0, 2, "evaluateMetrics")
        self.metrics.setHorizontalHeaderLabels(["quantity", "value"])
        self.metrics.verticalHeader().setVisible(False)
        layout.addWidget(self.metrics)
        tables = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        self.matrix_title = QLabel("<b>Confusion matrix</b> (rows: true class, columns: "
                                   "predicted class; the diagonal is right)")
        self.matrix_title.setWordWrap(True)
        left.addWidget(self.matrix_title)
        self.matrix_table = _table(0, 0, "confusionMatrix")
        left.addWidget(self.matrix_table, 1)
        self.scores_title = QLabel("<b>Per class</b>: precision = of the samples predicted as "
                                   "the class, the share that were; recall = of the samples "
                                   "of the class, the share found")
        self.scores_title.setWordWrap(True)
        right.addWidget(self.scores_title)
        self.scores = _table(0, 4, "classScores")
        self.scores.setHorizontalHeaderLabels(["precision", "recall", "F1", "samples"])
        right.addWidget(self.scores, 1)
        tables.addLayout(left, 1)
        tables.addLayout(right, 1)
        layout.addLayout(tables, 1)
        classification = dataset.num_classes is not None
        if self.streamed and classification:
            from .mistakes_gallery import MistakesGallery

            self.gallery = MistakesGallery(getattr(dataset, "color_mode", "") == "grayscale")
            layout.addWidget(self.gallery, 2)
            layout.setStretchFactor(tables, 0)  # the tables as tall as their rows
            self.matrix_table.cellClicked.connect(self._on_cell)
            self.matrix_table.setToolTip("Click a cell to see its images below.")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        for widget in (self.matrix_title, self.matrix_table, self.scores_title, self.scores):
            widget.setVisible(classification)
        k = dataset.num_classes or 0
        self.resize(900 if classification else 420,
                    min(860, 260 + 26 * max(k, 2)) if classification else 320)
        if self.gallery is not None:
            self.resize(960, 720)
        self.part.currentIndexChanged.connect(self.run)
        self.run()

    @property
    def split(self) -> str:
        return str(self.part.currentData() or "test")

    def run(self) -> None:
        """Evaluates the chosen part on a pool thread."""
        split = self.split
        x, y = (getattr(self.dataset, n) for n in next(p[1:] for p in PARTS if p[0] == split))
        if x is None:
            self.note.setText("This data has no part to evaluate on.")
            return
        held_out = "" if split == "test" else (
            " This data has no test part (Data tab: test split 0), so this is the "
            f"{PART_NAMES[split]} part" + (", which the training never saw but which steered "
                                           "your choices. Set a test split above 0 to hold out "
                                           "data for a final check." if split == "val" else
                                           ", which the model trained on: expect it to look "
                                           "better than new data would."))
        self.note.setText(f"Evaluating on {len(x)} {PART_NAMES[split]} samples...{held_out}")
        self._held_out = held_out

        def work() -> tuple[dict[str, float], np.ndarray | None]:
            results = self._evaluate(split)
            if self.dataset.num_classes is None:
                outputs = None
            elif self.streamed:  # files: the engine reads them, in the part's order
                outputs = None if self._predict_split is None else self._predict_split(split)
            else:
                outputs = self._predict(x)
            return results, outputs

        self._background(work, lambda r: self._show(split, x, y, *r), self._failed)

    def _failed(self, exc: BaseException) -> None:
        self.error = str(exc)
        self.note.setText(f"Could not evaluate: {exc}. Train the model first, then try again.")

    def _show(self, split: str, x: np.ndarray, y: np.ndarray, results: dict[str, float],
              outputs: np.ndarray | None) -> None:
        if split != self.split:
            return  # the person chose another part meanwhile
        self.results = results
        self.note.setText(f"{PART_NAMES[split].capitalize()} part: {len(x)} samples."
                          f"{self._held_out}")
        self.metrics.setRowCount(len(results))
        for i, (name, value) in enumerate(results.items()):
            self.metrics.setItem(i, 0, QTableWidgetItem(name))
            self.metrics.setItem(i, 1, QTableWidgetItem(_fmt(value)))
        self.metrics.setFixedHeight(self.metrics.horizontalHeader().height() + 6
                                    + sum(self.metrics.rowHeight(i) for i in range(len(results))))
        if outputs is None or self.dataset.num_classes is None:
            return
        k = int(self.dataset.num_classes)
        truth, guess = labels_of(y), predicted_classes(outputs, self.from_logits)
        cm = confusion_matrix(truth, guess, k)
        self.matrix = cm
        names = list(self.dataset.class_names or [str(i) for i in range(k)])
        self.matrix_table.setRowCount(k)
        self.matrix_table.setColumnCount(k)
        self.matrix_table.setHorizontalHeaderLabels(names)
        self.matrix_table.setVerticalHeaderLabels(names)
        totals = cm.sum(axis=1, keepdims=True).clip(min=1)
        for i in range(k):
            for j in range(k):
                item = QTableWidgetItem(str(int(cm[i, j])))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = cm[i, j] / totals[i, 0]
                base = QColor(44, 160, 44) if i == j else QColor(214, 39, 40)
                color = QColor(base)
                color.setAlpha(int(30 + 180 * share) if cm[i, j] else 0)
                item.setBackground(color)
                item.setToolTip(f"{cm[i, j]} samples of {names[i]} predicted as {names[j]} "
                                f"({share:.0%} of {names[i]})")
                self.matrix_table.setItem(i, j, item)
        scores = class_scores(cm)
        self.scores.setRowCount(k)
        self.scores.setVerticalHeaderLabels(names)
        for i, s in enumerate(scores):
            for j, value in enumerate((s.precision, s.recall, s.f1)):
                self.scores.setItem(i, j, QTableWidgetItem(_fmt(value)))
            self.scores.setItem(i, 3, QTableWidgetItem(str(s.support)))
        accuracy = float(np.trace(cm)) / max(1, int(cm.sum()))
        self.matrix_title.setText(
            f"<b>Confusion matrix</b>: {accuracy:.1%} right (rows: true class, columns: "
            "predicted class; the diagonal is right)"
            + ("; click a cell for its images" if self.gallery is not None else ""))
        if self.gallery is not None:
            for table in (self.matrix_table, self.scores):
                _fit_rows(table)
            self._show_gallery(split, x, y, outputs, names)

    def _show_gallery(self, split: str, x: Any, y: np.ndarray, outputs: np.ndarray,
                      names: list[str]) -> None:
        """The images the model got wrong, from the part's files in their order."""
        try:
            answers = Answers.from_outputs(outputs, y, self.from_logits)
        except ValueError as exc:
            self.gallery.title.setText(f"No gallery: {exc}.")
            return
        self.answers = answers
        paths = list(getattr(x, "paths", []))
        self.gallery.show_answers(answers, paths, names, PART_NAMES[split])

    def _on_cell(self, row: int, column: int) -> None:
        if self.gallery is not None and self.answers is not None:
            self.gallery.show_cell(row, column)
