"""The data panel: which data, how much, how it is split, and a preview of 2-D sets.

Settings go through the same checked fields as layer parameters (a noise of 9 is refused
with the reason, not passed on to the loader). pyqtgraph costs about half a second to
import, so the preview plot is created only after the window is on screen.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import Param
from ..core.data import (
    CLASS_SOURCES,
    DATA_DEFAULTS,
    FILE_SOURCES,
    GENERATED_SOURCES,
    KERAS_SOURCES,
    MAX_CLASSES,
    MAX_NOISE,
    MAX_SAMPLES,
    MIN_SAMPLES,
    REGRESSION_SOURCES,
    SKLEARN_SOURCES,
)
from ..core.spec import Project
from .compile_panel import section_label
from .controller import ProjectController
from .fields import ERROR_STYLE, PanelScroll, ParamForm, guard_wheel

SOURCE_LABELS: dict[str, str] = {
    "circle": "circle: a disk inside a ring",
    "xor": "xor: four quadrants",
    "gaussian": "gaussian: overlapping clouds",
    "spiral": "spiral: interleaved arms",
    "moons": "moons: two half-moons",
    "blobs": "blobs: separate clusters",
    "sine": "sine: 1-D regression",
    "housing": "housing: price regression",
    "digits": "digits: 8x8 handwritten digits",
    "iris": "iris: 3 flower species",
    "wine": "wine: 3 cultivars",
    "breast_cancer": "breast_cancer: 2 classes",
    "keras:mnist": "MNIST: 28x28 digits (Keras)",
    "keras:fashion_mnist": "Fashion-MNIST (Keras)",
    "keras:cifar10": "CIFAR-10: 32x32 colour (Keras)",
    "csv": "CSV file...",
    "npz": "NPZ file...",
}

DATA_PARAMS = [
    Param("samples", "int", DATA_DEFAULTS["samples"], "How many points to generate.",
          min=MIN_SAMPLES, max=MAX_SAMPLES),
    Param("noise", "float", DATA_DEFAULTS["noise"],
          "Standard deviation of the random jitter added to every point.", min=0.0, max=MAX_NOISE),
    Param("classes", "int", DATA_DEFAULTS["classes"],
          "Number of classes (gaussian, blobs and spiral only).", min=2, max=MAX_CLASSES),
    Param("seed", "int", DATA_DEFAULTS["seed"],
          "Random seed: the same seed gives the same points and the same split.", min=0),
    Param("validation_split", "float", DATA_DEFAULTS["validation_split"],
          "Fraction held out to measure the model on data it does not train on.",
          min=0.0, max=1.0, max_exclusive=True),
    Param("test_split", "float", DATA_DEFAULTS["test_split"],
          "Fraction kept aside for the final test, never seen during training.",
          min=0.0, max=1.0, max_exclusive=True),
    Param("standardize", "bool", DATA_DEFAULTS["standardize"],
          "Shift and scale each feature to mean 0, standard deviation 1 (from the training part)."),
    Param("labels", "choice", DATA_DEFAULTS["labels"],
          "integer: class numbers 0..K-1; one_hot: one column per class.",
          choices=["integer", "one_hot"]),
]

CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf"]


def read_csv_header(path: str | Path) -> list[str]:
    """The column names of a CSV file (first line only), or [] when unreadable."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            first = handle.readline()
    except (OSError, UnicodeDecodeError):
        return []
    delimiter = ","
    try:
        delimiter = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
    except csv.Error:
        pass
    rows = list(csv.reader(io.StringIO(first), delimiter=delimiter))
    return [c.strip() for c in rows[0]] if rows else []


class DataPanel(PanelScroll):
    """Edits the project's `data` settings and previews the loaded set."""

    def __init__(self, controller: ProjectController) -> None:
        super().__init__()
        self.setObjectName("dataPanel")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)

        layout.addWidget(section_label("Source"))
        self.source = QComboBox()
        self.source.setObjectName("sourceCombo")
        self.source.setToolTip("The data to train on: generated 2-D sets, real sets, or a file.")
        self.source.setMaxVisibleItems(24)
        guard_wheel(self.source)
        groups = (GENERATED_SOURCES, REGRESSION_SOURCES, SKLEARN_SOURCES, KERAS_SOURCES,
                  FILE_SOURCES)
        for n, group in enumerate(groups):
            if n:
                self.source.insertSeparator(self.source.count())
            for name in group:
                self.source.addItem(SOURCE_LABELS.get(name, name), name)
        layout.addWidget(self.source)

        self.file_row = QWidget()
        file_layout = QHBoxLayout(self.file_row)
        file_layout.setContentsMargins(0, 0, 0, 0)
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("dataPath")
        self.path_edit.setReadOnly(True)
        self.path_edit.setPlaceholderText("no file chosen")
        self.browse = QPushButton("Browse...")
        self.browse.setToolTip("Choose the data file.")
        file_layout.addWidget(self.path_edit, 1)
        file_layout.addWidget(self.browse)
        layout.addWidget(self.file_row)

        self.columns = QWidget()
        columns_layout = QVBoxLayout(self.columns)
        columns_layout.setContentsMargins(0, 0, 0, 0)
        target_row = QHBoxLayout()
        target_row.addWidget(QLabel("Target column"))
        self.target = QComboBox()
        self.target.setObjectName("targetCombo")
        self.target.setToolTip("The column to predict; the last column when not chosen.")
        guard_wheel(self.target)
        target_row.addWidget(self.target, 1)
        columns_layout.addLayout(target_row)
        columns_layout.addWidget(QLabel("Input columns"))
        self.features = QListWidget()
        self.features.setObjectName("featureList")
        self.features.setToolTip("The columns the model reads; uncheck the ones to leave out.")
        self.features.setMaximumHeight(110)
        columns_layout.addWidget(self.features)
        layout.addWidget(self.columns)

        self.status = QLabel()
        self.status.setObjectName("dataStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.preview_box = QVBoxLayout()
        layout.addLayout(self.preview_box)
        self.preview_note = QLabel()
        self.preview_note.setStyleSheet("color: palette(dark);")
        self.preview_note.setWordWrap(True)
        self.preview_box.addWidget(self.preview_note)

        layout.addWidget(section_label("Settings"))
        self.form = ParamForm(DATA_PARAMS)
        self.form.setObjectName("dataForm")
        layout.addWidget(self.form)
        self.plot: Any = None
        self.scatter: Any = None
        from .findings_view import FindingsView

        self.findings = FindingsView(controller, lambda f: f.where.startswith("data."))
        layout.addWidget(self.findings)
        layout.addStretch(1)
        self.setWidget(body)

        self._updating = False
        self._header_path: str | None = None
        self.source.currentIndexChanged.connect(self._on_source)
        self.browse.clicked.connect(self._on_browse)
        self.target.currentIndexChanged.connect(self._on_target)
        self.features.itemChanged.connect(self._on_feature)
        self.form.edited.connect(self._on_edited)
        self.form.finished.connect(self._on_finished)
        controller.projectChanged.connect(self._on_project_changed)
        controller.datasetChanged.connect(self._on_dataset)
        self.refresh()
        self._on_dataset()

    # -- preview -------------------------------------------------------------------------------

    @Slot()
    def ensure_preview(self) -> None:
        """Creates the pyqtgraph scatter (deferred until the window is shown)."""
        if self.plot is not None:
            return
        import pyqtgraph as pg

        plot = pg.PlotWidget()
        plot.setObjectName("dataPreview")
        plot.setBackground("w")
        plot.setMinimumHeight(170)
        plot.setMaximumHeight(230)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        plot.getPlotItem().setMouseEnabled(x=False, y=False)
        plot.getPlotItem().showGrid(x=True, y=True, alpha=0.15)
        plot.setToolTip("The training points (validation and test points are not shown).")
        self.scatter = pg.ScatterPlotItem(size=5, pen=None)
        plot.addItem(self.scatter)
        self.preview_box.addWidget(plot)
        self.plot = plot
        self._on_dataset()

    def _update_preview(self) -> None:
        dataset = self.controller.dataset
        if dataset is None:
            self.preview_note.setText("")
            if self.plot is not None:
                self.plot.setVisible(False)
            return
        x, y = dataset.x_train, dataset.y_train
        two_d = x.ndim == 2 and x.shape[1] == 2
        one_d_regression = x.ndim == 2 and x.shape[1] == 1 and dataset.task == "regression"
        if not (two_d or one_d_regression):
            shape = "x".join(str(d) for d in x.shape[1:])
            self.preview_note.setText(f"No preview: each sample has {shape} values "
                                      "(the preview shows 2-D sets and 1-D regression).")
            if self.plot is not None:
                self.plot.setVisible(False)
            return
        self.preview_note.setText("")
        if self.plot is None or self.scatter is None:
            return
        self.plot.setVisible(True)
        if two_d:
            labels = y.argmax(axis=1) if y.ndim == 2 else y.astype(int)
            brushes = [CLASS_COLORS[int(c) % len(CLASS_COLORS)] for c in labels]
            self.scatter.setData(x=x[:, 0], y=x[:, 1], brush=brushes)
        else:
            self.scatter.setData(x=x[:, 0], y=np.asarray(y).reshape(-1), brush="#1f77b4")
        self.plot.getPlotItem().enableAutoRange()

    # -- following the project -----------------------------------------------------------------

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if old.data != new.data:
            self.refresh()

    @Slot()
    def _on_dataset(self) -> None:
        c = self.controller
        if c.data_loading:
            self.status.setText("Loading the data...")
            self.status.setStyleSheet("")
        elif c.data_error:
            self.status.setText("\n".join(c.data_error))
            self.status.setStyleSheet(ERROR_STYLE)
        elif c.dataset is not None:
            self.status.setText(c.dataset.description)
            self.status.setStyleSheet("")
        else:
            self.status.setText("No data settings: the project trains on nothing yet.")
            self.status.setStyleSheet("")
        self._update_preview()

    def refresh(self) -> None:
        data = {**DATA_DEFAULTS, **self.controller.project.data}
        source = data.get("source")
        self._updating = True
        try:
            index = self.source.findData(source)
            if index >= 0 and index != self.source.currentIndex():
                self.source.setCurrentIndex(index)
            self.form.set_values(data)
            is_file = source in FILE_SOURCES
            self.file_row.setVisible(is_file)
            self.path_edit.setText(str(data.get("path") or ""))
            self.columns.setVisible(source == "csv" and bool(data.get("path")))
            if source == "csv" and data.get("path"):
                self._fill_columns(data)
            generated = source in GENERATED_SOURCES
            for name, on in (("samples", generated or source in ("sine",)),
                             ("noise", generated or source == "sine"),
                             ("classes", source in CLASS_SOURCES)):
                self.form.fields[name].setEnabled(on)
                self.form.labels[name].setEnabled(on)
        finally:
            self._updating = False

    def _fill_columns(self, data: dict[str, Any]) -> None:
        path = self._absolute(str(data["path"]))
        header = read_csv_header(path)
        target = data.get("target") or (header[-1] if header else None)
        self.target.blockSignals(True)
        self.target.clear()
        for name in header:
            self.target.addItem(name)
        if target in header:
            self.target.setCurrentIndex(header.index(target))
        self.target.blockSignals(False)
        features = data.get("features")
        self.features.blockSignals(True)
        self.features.clear()
        for name in header:
            if name == target:
                continue
            item = QListWidgetItem(name)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            on = features is None or name in features
            item.setCheckState(Qt.CheckState.Checked if on else Qt.CheckState.Unchecked)
            self.features.addItem(item)
        self.features.blockSignals(False)

    def _absolute(self, path: str) -> Path:
        p = Path(path)
        if not p.is_absolute() and self.controller.path is not None:
            p = self.controller.path.parent / p
        return p

    # -- edits ---------------------------------------------------------------------------------

    @Slot(int)
    def _on_source(self, _index: int) -> None:
        if self._updating:
            return
        source = self.source.currentData()
        changes: dict[str, Any] = {"source": source}
        if source in FILE_SOURCES:
            path = self.choose_file(source)
            if not path:
                self.refresh()  # cancelled: show the source that is still in use
                return
            changes.update(path=path, features=None, target=None)
        if source not in CLASS_SOURCES and source in GENERATED_SOURCES:
            changes["classes"] = 2
        if source in REGRESSION_SOURCES:
            changes["labels"] = "integer"
        self.controller.set_data(changes, f"Use data {source}")

    def choose_file(self, kind: str) -> str:
        """Asks for a data file; returns "" when cancelled. Tests replace this."""
        pattern = "CSV files (*.csv *.txt)" if kind == "csv" else "NumPy archives (*.npz)"
        path, _ = QFileDialog.getOpenFileName(self, f"Choose a {kind.upper()} file", "",
                                              f"{pattern};;All files (*)")
        return path

    @Slot()
    def _on_browse(self) -> None:
        source = self.controller.project.data.get("source")
        if source not in FILE_SOURCES:
            return
        path = self.choose_file(source)
        if path:
            self.controller.set_data({"path": path, "features": None, "target": None},
                                     "Choose data file")

    @Slot(int)
    def _on_target(self, _index: int) -> None:
        if self._updating or self.target.currentIndex() < 0:
            return
        self.controller.set_data({"target": self.target.currentText(), "features": None},
                                 "Choose target column")

    @Slot(QListWidgetItem)
    def _on_feature(self, _item: QListWidgetItem) -> None:
        if self._updating:
            return
        chosen = [self.features.item(i).text() for i in range(self.features.count())
                  if self.features.item(i).checkState() == Qt.CheckState.Checked]
        every = len(chosen) == self.features.count()
        self.controller.set_data({"features": None if every else chosen}, "Choose input columns")

    @Slot(str, object)
    def _on_edited(self, name: str, value: Any) -> None:
        self.controller.set_data({name: value}, f"Set data {name}", merge_key=f"data.{name}")

    @Slot(str)
    def _on_finished(self, _name: str) -> None:
        self.controller.end_merge()
