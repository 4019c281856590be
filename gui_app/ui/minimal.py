"""A first window: the project's live summary as a table (the full editor replaces it)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.spec import Project
from ..core.summary import format_bytes, format_shape, summarize


class SummaryWindow(QMainWindow):
    def __init__(self, project: Project):
        super().__init__()
        self.setWindowTitle(f"LayerLab - {project.name}")
        summary = summarize(project.model)
        table = QTableWidget(len(summary.rows), 3)
        table.setHorizontalHeaderLabels(["Layer (type)", "Output shape", "Params"])
        for r, row in enumerate(summary.rows):
            cells = [f"{row.name} ({row.type})", format_shape(row.output_shape),
                     "?" if row.params is None else f"{row.params:,}"]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if row.error:
                    item.setToolTip(row.error)
                elif row.explanation:
                    item.setToolTip(row.explanation)
                table.setItem(r, c, item)
        table.resizeColumnsToContents()
        totals = QLabel(
            f"Total params: {summary.total_params:,} ({format_bytes(summary.weight_bytes)})   "
            f"Trainable: {summary.trainable_params:,}   Non-trainable: {summary.non_trainable_params:,}"
        )
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(QLabel(f"Input shape: {format_shape((None, *project.model.input_shape))}"))
        layout.addWidget(table)
        layout.addWidget(totals)
        self.setCentralWidget(body)
        self.table, self.totals = table, totals
        self.resize(640, 360)

    def show_problem(self, text: str) -> None:
        QMessageBox.warning(self, "LayerLab", text)
