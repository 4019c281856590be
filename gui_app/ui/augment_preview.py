"""The Data tab's augmentation preview: a few training samples, each as predict sees it and
as one training step sees it after the model's leading Random* layers, with a Re-roll.

It shows only when the model starts with augmentation layers and the data are images that
fit them (`core.augment.preview_problem`); otherwise it hides. The window never runs the
layers itself: it sends the samples and the model spec to the engine's `augment_samples`
command and draws the arrays that come back, as QImages. A draw is asked for when the
model's front or the data change (once the widget is on screen) and on Re-roll.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QPainter
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ..core.augment import (
    PREVIEW_SAMPLES,
    AugmentedSamples,
    leading_layers,
    pick_samples,
    preview_problem,
    sample_labels,
)
from ..core.catalog import AUGMENTATION_LAYERS
from ..core.spec import Project
from .compile_panel import section_label
from .controller import ProjectController
from .fields import ERROR_STYLE
from .session_bridge import Background


class EngineAccess(Protocol):
    """What the preview needs of `TrainingController`."""

    def start_engine(self) -> None: ...

    def call(self, method: str, args: dict[str, Any] | None = None,
             timeout: float | None = 120) -> Any: ...


#: Wait after an edit before asking for a draw, so typing a factor asks once.
DEBOUNCE_MS = 250


def to_qimage(image: np.ndarray, low: float, high: float) -> QImage:
    """An (h, w, channels) array as a picture: RGB for 3 channels, else the first channel
    in gray; `low` is black and `high` white (values beyond are clipped)."""
    span = (high - low) or 1.0
    a = np.clip((np.asarray(image, np.float32) - low) / span * 255.0, 0, 255).astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 3:
        a = np.ascontiguousarray(a)
        h, w = a.shape[:2]
        return QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    gray = np.ascontiguousarray(a[..., 0] if a.ndim == 3 else a)
    h, w = gray.shape
    return QImage(gray.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class SampleGrid(QWidget):
    """Pairs of pictures in columns: the original above, the augmented one below, and the
    sample's class under both. Small images are enlarged without smoothing (an 8x8 digit
    stays crisp). Its height follows its width (`COLUMNS` pairs a row)."""

    COLUMNS = 4
    GAP = 8
    MIN_CELL, MAX_CELL = 36, 96

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("augmentGrid")
        self.pairs: list[tuple[QImage, QImage, str]] = []

    def set_samples(self, original: np.ndarray, augmented: np.ndarray,
                    captions: Sequence[str]) -> None:
        """Shows the pairs; each pair is drawn with its original's range (black to white),
        so a change of brightness or contrast shows as one."""
        pairs = []
        for before, after, caption in zip(original, augmented, captions):
            low, high = float(np.min(before)), float(np.max(before))
            pairs.append((to_qimage(before, low, high), to_qimage(after, low, high), caption))
        self.pairs = pairs
        self._fit_height(self.width())
        self.update()

    def cell(self, width: int) -> int:
        fit = (width - (self.COLUMNS - 1) * self.GAP) // self.COLUMNS
        return max(self.MIN_CELL, min(self.MAX_CELL, fit))

    def _caption_height(self) -> int:
        return self.fontMetrics().height() + 2

    def height_for(self, width: int) -> int:
        rows = -(-len(self.pairs) // self.COLUMNS)
        block = 2 * self.cell(width) + 2 + self._caption_height()
        return rows * block + max(rows - 1, 0) * self.GAP

    def _fit_height(self, width: int) -> None:
        self.setFixedHeight(max(self.height_for(width), 1))

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = self.COLUMNS * self.MAX_CELL // 2 + (self.COLUMNS - 1) * self.GAP
        return QSize(width, self.height_for(width))

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_height(event.size().width())

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        size = self.cell(self.width())
        caption_h = self._caption_height()
        block = 2 * size + 2 + caption_h
        font = QFont(self.font())
        p.setFont(font)
        for i, (before, after, caption) in enumerate(self.pairs):
            row, col = divmod(i, self.COLUMNS)
            x = col * (size + self.GAP)
            y = row * (block + self.GAP)
            for k, image in enumerate((before, after)):
                target = QRectF(x, y + k * (size + 2), size, size)
                p.drawImage(target, image)
                p.setPen(QColor("#b0b0b0"))
                p.drawRect(target.adjusted(0, 0, -1, -1))
            p.setPen(self.palette().color(self.foregroundRole()))
            p.drawText(QRectF(x - self.GAP / 2, y + 2 * size + 2, size + self.GAP, caption_h),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignVCenter,
                       caption)
        p.end()


class AugmentPreview(QWidget):
    """The preview with its Re-roll button; hidden while it does not apply.

    Args:
        controller: the window's project controller (the model and the loaded data).

    Call `set_engine(training)` (the window's `TrainingController`) to let it ask the
    engine; without one it says that the preview needs the engine.

    Signals:
        applies(bool): the preview was shown (True) or hidden (False).
    """

    applies = Signal(bool)

    def __init__(self, controller: ProjectController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("augmentPreview")
        self.controller = controller
        self._engine: EngineAccess | None = None
        self._background = Background(self)
        self._generation = 0
        self._drawn_for: Any = None  # the key of the draw shown or asked for
        self._stale = False  # a draw is due once the widget is on screen
        #: The last draw shown (None before the first); tests and screenshots read it.
        self.result: AugmentedSamples | None = None
        self._on = False  # whether the preview applies and shows
        self.setHidden(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        header = QHBoxLayout()
        header.addWidget(section_label("Augmentation preview"))
        header.addStretch(1)
        self.reroll = QPushButton("Re-roll")
        self.reroll.setObjectName("augmentReroll")
        self.reroll.setToolTip("Draw the random augmentations again, on the same samples.")
        header.addWidget(self.reroll)
        layout.addLayout(header)
        self.note = QLabel()
        self.note.setObjectName("augmentNote")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        self.grid = SampleGrid()
        layout.addWidget(self.grid)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self._ask_if_changed)
        self.reroll.clicked.connect(self.reroll_now)
        controller.projectChanged.connect(self._on_project_changed)
        controller.datasetChanged.connect(self.refresh)
        # The first look once the widget has its place: shown now, a widget without a
        # parent would open a window of its own.
        QTimer.singleShot(0, self, self.refresh)

    # -- what it shows ------------------------------------------------------------------------

    def problem(self) -> str | None:
        """Why the preview does not apply now, or None when it does."""
        dataset = self.controller.dataset
        if dataset is None:
            return "There is no data loaded."
        if not isinstance(getattr(dataset, "x_train", None), np.ndarray):
            return "The preview takes data held as arrays; these are read as they train."
        return preview_problem(self.controller.project.model, dataset.x_train.shape[1:])

    def set_engine(self, engine: EngineAccess) -> None:
        """How to ask the engine: the window's `TrainingController`."""
        self._engine = engine
        self._drawn_for = None
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """Shows or hides the preview, and asks for a draw when what it shows changed."""
        on = self.problem() is None
        if on != self._on:
            self._on = on
            self.setHidden(not on)
            self.applies.emit(on)
        if on and self._key() != self._drawn_for:
            self._timer.start()

    def _key(self) -> Any:
        model = self.controller.project.model
        return (model.input_shape, model.layers[:leading_layers(model)],
                id(self.controller.dataset))

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if old.model != new.model:
            self.refresh()

    # -- asking the engine ----------------------------------------------------------------------

    @Slot()
    def reroll_now(self) -> None:
        """A fresh draw of the same samples."""
        self._ask()

    @Slot()
    def _ask_if_changed(self) -> None:
        if self._key() != self._drawn_for:
            self._ask()

    def _ask(self) -> None:
        if self.problem() is not None:
            return
        if not self.isVisible():  # another tab is showing: draw when this one is
            self._stale = True
            return
        self._stale = False
        if self._engine is None:
            self._say("The preview needs the training engine, which this window has not "
                      "started.", error=True)
            return
        dataset = self.controller.dataset
        assert dataset is not None  # problem() said so
        picked = pick_samples(dataset.y_train, len(dataset.x_train), PREVIEW_SAMPLES)
        x = np.asarray(dataset.x_train[picked], dtype=np.float32)
        captions = sample_labels(dataset.y_train, picked, dataset.class_names)
        model = self.controller.project.model
        self._drawn_for = self._key()
        self._generation += 1
        generation = self._generation
        engine = self._engine
        engine.start_engine()  # here, on the GUI thread: starting it makes Qt timers
        args = {"model": model.to_json(), "x": x, "seed": None}
        self.reroll.setEnabled(False)
        if self.result is None:
            self._say("Drawing the samples... (the first draw waits for Keras to load)")
        self._background.call(lambda: engine.call("augment_samples", args, 120),
                              lambda result: self._show(generation, result, captions, model),
                              lambda exc: self._failed(generation, exc))

    def _show(self, generation: int, result: AugmentedSamples, captions: Sequence[str],
              model: Any) -> None:
        if generation != self._generation:
            return  # the model or the data changed while this draw was made
        self.reroll.setEnabled(True)
        self.result = result
        self.grid.set_samples(result.original, result.augmented, captions)
        names = [layer.type for layer in model.layers[:leading_layers(model)]
                 if layer.type in AUGMENTATION_LAYERS]
        self._say(f"Top: each sample as predict sees it. Below: as one training step sees "
                  f"it, through {' and '.join(names)} (training only).")

    def _failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.reroll.setEnabled(True)
        self._drawn_for = None  # try again on the next change
        self._say(f"Could not draw the samples: {exc}", error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.note.setText(text)
        self.note.setStyleSheet(ERROR_STYLE if error else "color: palette(dark);")

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self._stale:
            self._timer.start()

    def wait(self, msecs: int = 5000) -> bool:
        """Waits for a draw in flight (closing, tests)."""
        return self._background.wait(msecs)
