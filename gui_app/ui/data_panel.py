"""The data panel: which data, how much, how it is split, and a preview of 2-D sets.

Settings go through the same checked fields as layer parameters (a noise of 9 is refused
with the reason, not passed on to the loader). pyqtgraph costs about half a second to
import, so the preview plot is created only after the window is on screen.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
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
    IMAGE_SOURCES,
    KERAS_SOURCES,
    MAX_CLASSES,
    MAX_NOISE,
    MAX_SAMPLES,
    MIN_SAMPLES,
    REGRESSION_SOURCES,
    SKLEARN_SOURCES,
    switch_source,
)
from ..core.image_data import COLOR_MODES, ImageDataset, image_input_shape
from ..core.limits import MAX_IMAGE_SIDE
from ..core.spec import Project
from .augment_preview import AugmentPreview
from .compile_panel import section_label
from .controller import ProjectController
from .fields import ERROR_STYLE, PanelScroll, ParamForm, guard_wheel
from .lesson_locks import attach_locks

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
    "images": "images: a folder of class folders...",
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

#: The settings of a folder of images (`core/image_data.py`): the first rows of the form,
#: shown only for that source.
IMAGE_PARAMS = [
    Param("image_size", "size", DATA_DEFAULTS["image_size"],
          f"Every image is resized to height, width (from 1 to {MAX_IMAGE_SIDE}) before the "
          "model sees it; \"28\" means 28, 28.", min=1, rank=2),
    Param("color_mode", "choice", DATA_DEFAULTS["color_mode"],
          "grayscale: one channel; rgb: three (red, green, blue).",
          choices=list(COLOR_MODES)),
]
#: Rows of the general form that mean nothing for a folder of images (hidden for it).
NOT_FOR_IMAGES = ("samples", "noise", "classes", "standardize")
#: Findings the folder view lists in full itself (with every file), not repeated below it.
FOLDER_FINDINGS = frozenset({"image-files-left-out", "image-folder-note"})

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


def make_preview_plot() -> Any:
    """The data preview's plot widget (imports pyqtgraph): 12 ms, which the window's start
    spends on a turn of its own before `DataPanel.ensure_preview`."""
    import pyqtgraph as pg

    return pg.PlotWidget(enableMenu=False)


def make_forms() -> dict[str, ParamForm]:
    """The panel's settings form (7 ms of its 12): the window's start makes it on a turn
    of its own and hands it to `DataPanel`."""
    return {"form": ParamForm(IMAGE_PARAMS + DATA_PARAMS)}


class DataPanel(PanelScroll):
    """Edits the project's `data` settings and previews the loaded set."""

    def __init__(self, controller: ProjectController,
                 forms: dict[str, ParamForm] | None = None) -> None:
        super().__init__()
        forms = forms or make_forms()
        self.setObjectName("dataPanel")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)

        layout.addWidget(section_label("Source"))
        self.source = QComboBox()
        self.source.setObjectName("sourceCombo")
        self.source.setToolTip("The data to train on: generated 2-D sets, real sets, a file, "
                               "or a folder of images with one subfolder per class.")
        self.source.setMaxVisibleItems(24)
        guard_wheel(self.source)
        groups = (GENERATED_SOURCES, REGRESSION_SOURCES, SKLEARN_SOURCES, KERAS_SOURCES,
                  FILE_SOURCES, IMAGE_SOURCES)
        for n, group in enumerate(groups):
            if n:
                self.source.insertSeparator(self.source.count())
            for name in group:
                self.source.addItem(SOURCE_LABELS.get(name, name), name)
                if name in IMAGE_SOURCES:
                    self.source.setItemData(
                        self.source.count() - 1, "A folder of images, one subfolder per "
                        "class (PNG, JPEG, BMP or GIF), read from disk as training needs them.",
                        Qt.ItemDataRole.ToolTipRole)
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
        # a folder of images: its classes, a few pictures of each, and its problems
        from .image_folder_view import ImageFolderView

        self.folder_view = ImageFolderView()
        layout.addWidget(self.folder_view)
        self.preview_box = QVBoxLayout()
        layout.addLayout(self.preview_box)
        self.preview_note = QLabel()
        self.preview_note.setStyleSheet("color: palette(dark);")
        self.preview_note.setWordWrap(True)
        self.preview_box.addWidget(self.preview_note)
        # Shows itself when the model starts with augmentation layers and the data are
        # images; the window gives it the engine (`augment_preview.set_engine`).
        self.augment_preview = AugmentPreview(controller)
        self.augment_preview.applies.connect(self.preview_note.setHidden)
        self.preview_note.setHidden(not self.augment_preview.isHidden())
        layout.addWidget(self.augment_preview)

        layout.addWidget(section_label("Settings"))
        self.form = forms["form"]
        self.form.setObjectName("dataForm")
        layout.addWidget(self.form)
        self.plot: Any = None
        self.scatter: Any = None
        from .findings_view import FindingsView

        self.findings = FindingsView(controller, lambda f: f.where.startswith("data.")
                                     and f.code not in FOLDER_FINDINGS)
        layout.addWidget(self.findings)
        layout.addStretch(1)
        self.setWidget(body)

        self._updating = False
        self._header_path: str | None = None
        self.source.currentIndexChanged.connect(self._on_source)
        self.browse.clicked.connect(self._on_browse)
        self.target.currentIndexChanged.connect(self._on_target)
        self.features.itemChanged.connect(self._on_feature)
        attach_locks(controller, self.form, lambda name: f"data.{name}")  # a lesson's locks
        self.form.edited.connect(self._on_edited)
        self.form.finished.connect(self._on_finished)
        controller.projectChanged.connect(self._on_project_changed)
        controller.datasetChanged.connect(self._on_dataset)
        self.refresh()
        self._on_dataset()

    # -- preview -------------------------------------------------------------------------------

    @Slot()
    def ensure_preview(self, plot: Any = None) -> None:
        """Creates the pyqtgraph scatter (deferred until the window is shown); `plot`: its
        plot widget made ahead (`make_preview_plot`, on a turn of its own)."""
        if self.plot is not None:
            return
        import pyqtgraph as pg

        plot = plot if plot is not None else make_preview_plot()
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
        if dataset.streamed:  # a folder of images: the folder view shows its pictures
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
            # one brush object per class, shared by its points: a colour name per point
            # made pyqtgraph build a brush for each (44 ms for 400 points, on the GUI thread)
            import pyqtgraph as pg

            palette = [pg.mkBrush(c) for c in CLASS_COLORS]
            brushes = [palette[int(c) % len(palette)] for c in labels]
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
        dataset = c.dataset
        self.folder_view.set_dataset(dataset if isinstance(dataset, ImageDataset) else None)
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
            images = source in IMAGE_SOURCES
            shown = {p.name: images for p in IMAGE_PARAMS} \
                | dict.fromkeys(NOT_FOR_IMAGES, not images)
            for name, on in shown.items():
                for widget in (self.form.labels[name], self.form.fields[name],
                               self.form.resets[name]):
                    widget.setVisible(on)
                if not on:
                    self.form.problems[name].setVisible(False)
            is_file = source in FILE_SOURCES or images
            self.file_row.setVisible(is_file)
            self.path_edit.setPlaceholderText("no folder chosen" if images else "no file chosen")
            self.browse.setToolTip("Choose the folder of images (one subfolder per class)."
                                   if images else "Choose the data file.")
            self.path_edit.setText(str(data.get("path") or ""))
            self.columns.setVisible(source == "csv" and bool(data.get("path")))
            if source == "csv" and data.get("path"):
                self._fill_columns(data)
            generated = source in GENERATED_SOURCES
            for name, on in (("samples", generated or source in ("sine",)),
                             ("noise", generated or source == "sine"),
                             ("classes", source in CLASS_SOURCES)):
                field = self.form.fields[name]
                field.setEnabled(on and not field.property("lessonLocked"))  # a lesson's lock
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
        if source in IMAGE_SOURCES:
            folder = self.choose_folder()
            if not folder:
                self.refresh()
                return
            changes.update(path=self.stored_path(folder), standardize=False)
        if source not in CLASS_SOURCES and source in GENERATED_SOURCES:
            changes["classes"] = 2
        if source in REGRESSION_SOURCES:
            changes["labels"] = "integer"
        self.set_data(changes, f"Use data {source}")

    def set_data(self, changes: dict[str, Any], text: str, merge_key: str | None = None
                 ) -> None:
        """Changes the data settings; for a folder of images the model's input shape
        follows the image size and colour mode in the same undo step, when it matched the
        images before (or the source was another one, whose shape cannot fit images)."""
        project = self.controller.project
        data = switch_source(project.data, changes)
        new_shape = image_input_shape(data)
        old_shape = image_input_shape(project.data)
        model_shape = tuple(project.model.input_shape)
        if new_shape is None or model_shape == new_shape or \
                (old_shape is not None and model_shape != old_shape):
            self.controller.set_data(changes, text, merge_key)
            return
        self.controller.edit(replace(project, data=data, model=replace(
            project.model, input_shape=new_shape)), text, merge_key)

    def choose_file(self, kind: str) -> str:
        """Asks for a data file; returns "" when cancelled. Tests replace this."""
        pattern = "CSV files (*.csv *.txt)" if kind == "csv" else "NumPy archives (*.npz)"
        path, _ = QFileDialog.getOpenFileName(self, f"Choose a {kind.upper()} file", "",
                                              f"{pattern};;All files (*)")
        return path

    def choose_folder(self) -> str:
        """Asks for a folder of images; returns "" when cancelled. Tests replace this."""
        current = self.controller.project.data.get("path") \
            if self.controller.project.data.get("source") in IMAGE_SOURCES else None
        start = str(self._absolute(str(current))) if current else ""
        return QFileDialog.getExistingDirectory(
            self, "Choose a folder of images (one subfolder per class)", start)

    def stored_path(self, folder: str) -> str:
        """The folder as the project keeps it: relative to the project file when it lies
        inside the project's folder (the two then move together), else absolute."""
        if self.controller.path is None:
            return folder
        base = self.controller.path.parent
        try:
            inside = Path(folder).resolve().relative_to(base.resolve())
        except (ValueError, OSError):
            return folder
        return inside.as_posix() if inside.parts else "."

    @Slot()
    def _on_browse(self) -> None:
        source = self.controller.project.data.get("source")
        if source in IMAGE_SOURCES:
            folder = self.choose_folder()
            if folder:
                self.set_data({"path": self.stored_path(folder)}, "Choose folder of images")
            return
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
        if name == "image_size":
            size = [value, value] if isinstance(value, int) else list(value)
            if not all(1 <= int(s) <= MAX_IMAGE_SIDE for s in size):
                self.form.show_problem(
                    name, f"Expected a height and width from 1 to {MAX_IMAGE_SIDE}, got "
                    f"{', '.join(str(s) for s in size)}; small networks use 28, 28 or 64, 64.")
                return
            value = [int(s) for s in size]
        self.set_data({name: value}, f"Set data {name}", merge_key=f"data.{name}")

    @Slot(str)
    def _on_finished(self, _name: str) -> None:
        self.controller.end_merge()
