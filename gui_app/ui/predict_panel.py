"""Predict: type an input (one field per feature, in the data's own units) and see what the
trained model says; or take a sample from the data and compare with its true label.

The model was trained on standardised inputs when the data settings say so; the fields
hold raw values, as a person reads them in the data file, and go through
`Dataset.transform` before the model sees them.

For a folder of images there are no fields: the panel takes an image file (a file dialog,
a drop on the panel, or a sample of the data) and asks for it with `imageRequested(path)`;
the engine reads it as the model does, and the panel draws that picture and the class
probabilities (`image_predict.py`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QDoubleValidator, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.data import Dataset
from ..core.history_views import labels_of
from .image_predict import ImagePredictView, choose_image_file, dropped_image

#: Columns of label + field pairs (digits has 64 features: 32 rows, scrolled).
FIELD_COLUMNS = 2


def _number(value: float) -> str:
    """A value for a field: 6 significant digits, float noise (5.7e-10 for 0) removed."""
    value = round(float(value), 6)
    return f"{value:.6g}" if value != 0 else "0"


def raw_values(dataset: Dataset, x: np.ndarray) -> np.ndarray:
    """Model inputs back in the data's units (undoes the standardisation)."""
    x = np.asarray(x, dtype=np.float32)
    if dataset.mean is None or dataset.std is None:
        return x
    return x * dataset.std + dataset.mean


class PredictPanel(QWidget):
    """The form. Signals: requested(input) with the model input, shape (1, *shape);
    imageRequested(path) with an image file, when the data is a folder of images."""

    requested = Signal(object)
    imageRequested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("predictPanel")
        self.dataset: Dataset | None = None
        self.fields: list[QLineEdit] = []
        self.sample_input: np.ndarray | None = None
        self.truth: str = ""
        self.image_path: str | None = None
        self.setAcceptDrops(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.intro.setStyleSheet("color: palette(dark);")
        layout.addWidget(self.intro)

        sample_row = QHBoxLayout()
        self.part = QComboBox()
        self.part.setObjectName("predictPart")
        self.part.setToolTip("Which part of the data to take a sample from.")
        self.part.setMinimumContentsLength(8)
        self.part.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.index = QSpinBox()
        self.index.setObjectName("predictIndex")
        self.index.setToolTip("The sample's number in that part.")
        self.fill = QPushButton("Use it")
        self.fill.setObjectName("predictFill")
        self.fill.setToolTip("Put the sample's values in the fields and remember its true label.")
        sample_row.addWidget(QLabel("Sample"))
        sample_row.addWidget(self.index)
        sample_row.addWidget(QLabel("of"))
        sample_row.addWidget(self.part)
        sample_row.addWidget(self.fill)
        sample_row.addStretch(1)
        layout.addLayout(sample_row)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.form = QWidget()
        self.grid = QGridLayout(self.form)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.scroll.setWidget(self.form)
        layout.addWidget(self.scroll, 1)
        self.image_view = ImagePredictView()
        self.image_view.setVisible(False)
        layout.addWidget(self.image_view, 1)

        button_row = QHBoxLayout()
        self.predict_button = QPushButton("Predict")
        self.predict_button.setObjectName("predictButton")
        self.predict_button.setToolTip("Run the trained model on these values.")
        button_row.addWidget(self.predict_button)
        self.choose_button = QPushButton("Choose image...")
        self.choose_button.setObjectName("predictChooseImage")
        self.choose_button.setToolTip("Choose an image file and predict its class (or drop "
                                      "one on this panel).")
        self.choose_button.setVisible(False)
        button_row.addWidget(self.choose_button)
        button_row.addStretch(1)
        layout.addLayout(button_row)
        self.result = QLabel("")
        self.result.setObjectName("predictResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.result)

        self.fill.clicked.connect(self.use_sample)
        self.predict_button.clicked.connect(self.predict)
        self.choose_button.clicked.connect(self.choose_image)
        self.part.currentIndexChanged.connect(self._on_part)
        self.set_dataset(None)

    def set_dataset(self, dataset: Dataset | None) -> None:
        self.dataset = dataset
        self.sample_input, self.truth = None, ""
        self.image_path = None
        self.result.setText("")
        images = self.images
        self.scroll.setVisible(not images)
        self.image_view.setVisible(images)
        self.choose_button.setVisible(images)
        self.image_view.clear()
        for field in self.fields:
            field.deleteLater()
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.fields = []
        self.part.blockSignals(True)
        self.part.clear()
        if dataset is not None:
            for name, x in (("test", dataset.x_test), ("validation", dataset.x_val),
                            ("training", dataset.x_train)):
                if x is not None and len(x):
                    self.part.addItem(f"{name} ({len(x)})", name)
        self.part.blockSignals(False)
        self._on_part()
        if dataset is None:
            self.intro.setText("Load data to predict.")
            return
        if images:
            h, w = getattr(dataset, "image_size", ("?", "?"))
            mode = getattr(dataset, "color_mode", "")
            self.intro.setText(f"Choose an image file, drop one here, or use a sample: the "
                               f"model sees it resized to {h}x{w}, {mode}.")
            return
        x = dataset.x_train
        if x.ndim == 2:
            names = list(dataset.feature_names)
            names += [f"feature {i + 1}" for i in range(len(names), x.shape[1])]
            start = raw_values(dataset, x.mean(axis=0, dtype=np.float64).astype(np.float32))
            for i, name in enumerate(names):
                field = QLineEdit(_number(start[i]))
                field.setObjectName(f"predictField{i}")
                field.setValidator(QDoubleValidator())
                field.setToolTip(f"{name}, in the data's units")
                field.textEdited.connect(self._forget_sample)
                label = QLabel(name)
                label.setToolTip(name)
                row, col = divmod(i, FIELD_COLUMNS)
                self.grid.addWidget(label, row, 2 * col)
                self.grid.addWidget(field, row, 2 * col + 1)
                self.fields.append(field)
            scaled = " The model sees them standardised." if dataset.mean is not None else ""
            self.intro.setText(f"Type a value per feature, in the data's units (they start at "
                               f"the training mean), or use a sample.{scaled}")
        else:
            shape = "x".join(str(d) for d in x.shape[1:])
            self.intro.setText(f"Each sample is {shape} values: pick a sample to predict.")

    def _parts(self) -> dict[str, tuple[np.ndarray | None, np.ndarray | None]]:
        ds = self.dataset
        if ds is None:
            return {}
        return {"test": (ds.x_test, ds.y_test), "validation": (ds.x_val, ds.y_val),
                "training": (ds.x_train, ds.y_train)}

    @Slot()
    def _on_part(self) -> None:
        x, _ = self._parts().get(self.part.currentData(), (None, None))
        self.index.setRange(0, max(0, (len(x) if x is not None else 1) - 1))
        self.fill.setEnabled(x is not None)

    @Slot()
    def _forget_sample(self) -> None:
        self.sample_input, self.truth = None, ""

    @Slot()
    def use_sample(self) -> None:
        """Fills the fields from the chosen sample and remembers its true label."""
        ds = self.dataset
        x, y = self._parts().get(self.part.currentData(), (None, None))
        if ds is None or x is None or y is None:
            return
        i = self.index.value()
        if self.images:  # a file: the engine reads it when Predict is pressed
            c = int(labels_of(y[i: i + 1])[0])
            names = ds.class_names or ()
            self.truth = f"true class: {names[c] if c < len(names) else c!r}"
            self.image_path = str(x[i])
            self.image_view.show_file(self.image_path)
            self.image_view.picture.setText("Press Predict")
            self.result.setText(f"Sample {i} of the {self.part.currentData()} part "
                                f"({self.truth}).")
            return
        self.sample_input = x[i: i + 1].astype(np.float32)
        if ds.task == "regression":
            self.truth = "true value: " + ", ".join(
                f"{v:.4g}" for v in np.asarray(y[i], dtype=np.float64).reshape(-1))
        else:
            c = int(labels_of(y[i: i + 1])[0])
            names = ds.class_names or ()
            self.truth = f"true class: {names[c] if c < len(names) else c!r}"
        if self.fields:
            raw = raw_values(ds, self.sample_input[0])
            for field, value in zip(self.fields, raw):
                field.setText(_number(value))
        self.result.setText(f"Sample {i} of the {self.part.currentData()} part ({self.truth}).")

    def current_input(self) -> np.ndarray | None:
        """The model input for the form, shape (1, *shape); None when a field is not a number."""
        ds = self.dataset
        if ds is None:
            return None
        if not self.fields:
            return self.sample_input
        if self.sample_input is not None:
            return self.sample_input
        values = []
        for field in self.fields:
            try:
                values.append(float(field.text().replace(",", ".")))
            except ValueError:
                field.setFocus()
                self.result.setText(f"Expected a number in every field, got "
                                    f"{field.text()!r} for {field.toolTip().split(',')[0]}; "
                                    "type a number.")
                return None
        return ds.transform(np.array([values], dtype=np.float32))

    @property
    def images(self) -> bool:
        """The data is a folder of images: the panel takes image files, not numbers."""
        return bool(getattr(self.dataset, "streamed", False))

    @Slot()
    def choose_image(self) -> None:
        start = str(Path(self.image_path).parent) if self.image_path else ""
        path = choose_image_file(self, start)
        if path:
            self.predict_file(path)

    def predict_file(self, path: str) -> None:
        """Asks for the prediction of one image file (a file of the data or any other)."""
        if not self.images:
            self.result.setText("Image files are predicted when the data is a folder of "
                                "images (Data tab); this data takes numbers.")
            return
        self.image_path, self.truth = path, ""
        self.image_view.show_file(path)
        self.result.setText("Predicting...")
        self.imageRequested.emit(path)

    def show_image(self, image: np.ndarray, path: str) -> None:
        """Draws the picture the model got for `path` (the engine's decoding)."""
        if path == self.image_path:
            self.image_view.show_image(image, path)

    def show_image_error(self, text: str) -> None:
        self.image_view.clear("No picture")
        self.result.setText(text)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if self.images and dropped_image(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        path = dropped_image(event.mimeData()) if self.images else None
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.predict_file(path)

    @Slot()
    def predict(self) -> None:
        if self.images:
            if self.image_path is None:
                self.result.setText("Choose an image file first (Choose image..., a drop on "
                                    "this panel, or Use it on a sample).")
                return
            truth = self.truth
            self.predict_file(self.image_path)
            self.truth = truth  # a sample of the data keeps its true class
            return
        row = self.current_input()
        if row is None:
            if not self.fields and self.dataset is not None:
                self.result.setText("Pick a sample first (Use this sample).")
            return
        self.result.setText("Predicting...")
        self.requested.emit(row)

    def show_result(self, text: str, ranked: list[tuple[str, float]]) -> None:
        lines = [f"<b>Prediction:</b> {text}"]
        if len(ranked) > 1 and not self.images:  # images: the bars below say it
            lines.append("Most likely: " + ", ".join(f"{name}: {p:.3f}" for name, p in ranked[:5]))
        if self.truth:
            lines.append(self.truth)
        self.result.setText("<br>".join(lines))
        if self.images:
            self.image_view.show_probabilities(ranked)
