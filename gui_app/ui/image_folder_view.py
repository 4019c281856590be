"""The Data tab's view of a folder of images: its classes with their counts, a few
pictures of each, and what the scan found wrong with it.

It reads nothing itself but the thumbnails (`image_gallery`, off the GUI thread): the
classes, counts and problems come from the scan the project's data loader already made
(`ImageDataset.scan`), so showing them costs nothing more than the load did.
"""

from __future__ import annotations

import html
import os

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ..core.image_data import ImageDataset
from ..core.images import ERROR, NOTE, WARNING, FolderProblem
from .compile_panel import section_label
from .image_gallery import ImageGrid, ThumbnailLoader, Tile

__all__ = ["ImageFolderView"]

#: Pictures shown per class (spread over the class: first, last and between).
SAMPLES_PER_CLASS = 8
#: Classes that get pictures; more are listed with their counts only, since a wall of
#: hundreds of rows of thumbnails shows nothing a person can take in.
CLASSES_SHOWN = 24
#: Thumbnail side in pixels.
THUMBNAIL = 48
#: Paths a problem's tooltip lists (its message names the first few; the scan keeps all).
TIP_PATHS = 30
SEVERITY_COLORS = {ERROR: "#c62828", WARNING: "#b26a00", NOTE: "palette(dark)"}
SEVERITY_WORDS = {ERROR: "Error", WARNING: "Left out", NOTE: "Note"}


def spread_samples(ds: ImageDataset, class_index: int, count: int) -> list[str]:
    """Up to `count` files of a class (relative to the folder), spread over it as
    `FolderScan.samples` picks them (first, last and evenly between), found with one NumPy
    pass over the labels: `samples` walks every file per class, about a second on the GUI
    thread for 24 classes of a 200,000-image folder."""
    rows = np.flatnonzero(ds.scan.labels == class_index)
    n = len(rows)
    if n > count:
        rows = rows[[round(k * (n - 1) / (count - 1)) if count > 1 else 0
                     for k in range(count)]]
    return [ds.scan.files[int(r)] for r in rows]


def _problem_tip(problem: FolderProblem) -> str:
    paths = list(problem.paths[:TIP_PATHS])
    more = len(problem.paths) - len(paths)
    lines = paths + ([f"... and {more:,} more"] if more > 0 else [])
    return "\n".join(lines)


class ImageFolderView(QWidget):
    """Classes, counts, a gallery per class and the problems of one folder of images."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageFolderView")
        self.dataset: ImageDataset | None = None
        self.loader = ThumbnailLoader(THUMBNAIL, parent=self)
        self.grids: list[ImageGrid] = []
        self.class_labels: list[QLabel] = []
        self.problem_labels: list[QLabel] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addWidget(section_label("Classes"))
        self.summary = QLabel()
        self.summary.setObjectName("imageClassesSummary")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        self.body_layout.setSpacing(3)
        layout.addWidget(self.body)
        self.more = QLabel()
        self.more.setObjectName("imageMoreClasses")
        self.more.setWordWrap(True)
        self.more.setStyleSheet("color: palette(dark);")
        layout.addWidget(self.more)
        self.problems_title = section_label("What the scan found")
        layout.addWidget(self.problems_title)
        self.problems_box = QWidget()
        self.problems_layout = QVBoxLayout(self.problems_box)
        self.problems_layout.setContentsMargins(0, 0, 0, 0)
        self.problems_layout.setSpacing(4)
        layout.addWidget(self.problems_box)
        self.set_dataset(None)

    def set_dataset(self, dataset: ImageDataset | None) -> None:
        """Shows `dataset`'s classes and problems (None: hides itself)."""
        if dataset is self.dataset and dataset is not None:
            return
        self.dataset = dataset
        self._clear()
        self.setVisible(dataset is not None)
        if dataset is None:
            return
        self.loader.configure(THUMBNAIL, dataset.color_mode == "grayscale")
        self._show_classes(dataset)
        self._show_problems(dataset.scan.problems)

    def _clear(self) -> None:
        for widget in (*self.class_labels, *self.grids, *self.problem_labels):
            widget.setParent(None)
            widget.deleteLater()
        self.grids, self.class_labels, self.problem_labels = [], [], []
        # the thumbnails stay: a new image size or split shows the same files again

    def _show_classes(self, ds: ImageDataset) -> None:
        counts, train = ds.class_counts, ds.info().class_counts
        k = len(ds.class_names)
        total = sum(counts)
        gray = " in gray, as the model reads them" if ds.color_mode == "grayscale" else ""
        self.summary.setText(
            f"{k} classes, {total:,} images; a few of each below{gray} (hover for the file, "
            f"each is resized to {ds.image_size[0]}x{ds.image_size[1]} for the model).")
        root = os.fspath(ds.root)
        for i, name in enumerate(ds.class_names[:CLASSES_SHOWN]):
            in_train = f", {train[i]:,} in training" if i < len(train) else ""
            label = QLabel(f"<b>{html.escape(name)}</b>: {counts[i]:,} images{in_train}")
            label.setObjectName(f"imageClass{i}")
            label.setTextFormat(Qt.TextFormat.RichText)
            self.body_layout.addWidget(label)
            grid = ImageGrid(self.loader)
            grid.setObjectName(f"imageSamples{i}")
            grid.set_tiles([Tile(os.path.join(root, *f.split("/")), tip=f)
                            for f in spread_samples(ds, i, SAMPLES_PER_CLASS)])
            self.body_layout.addWidget(grid)
            self.class_labels.append(label)
            self.grids.append(grid)
        rest = list(zip(ds.class_names, counts))[CLASSES_SHOWN:]
        if rest:
            listed = ", ".join(f"{name} {count:,}" for name, count in rest[:40])
            tail = f" and {len(rest) - 40:,} more" if len(rest) > 40 else ""
            self.more.setText(f"{len(rest):,} more classes, without pictures: "
                              f"{listed}{tail}.")
        self.more.setVisible(bool(rest))

    def _show_problems(self, problems: tuple[FolderProblem, ...]) -> None:
        self.problems_title.setVisible(True)
        if not problems:
            label = QLabel("Nothing: every file is an image Keras reads, of the size set.")
            label.setWordWrap(True)
            label.setStyleSheet("color: palette(dark);")
            self.problems_layout.addWidget(label)
            self.problem_labels.append(label)
            return
        for problem in problems:
            color = SEVERITY_COLORS.get(problem.severity, "palette(dark)")
            word = SEVERITY_WORDS.get(problem.severity, problem.severity.capitalize())
            label = QLabel(f"<span style='color:{color}'><b>{word}:</b></span> "
                           f"{html.escape(problem.message)}")
            label.setObjectName(f"imageProblem_{problem.code}")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if problem.paths:
                label.setToolTip(_problem_tip(problem))
            self.problems_layout.addWidget(label)
            self.problem_labels.append(label)

    def problem_texts(self) -> list[str]:
        """The problems as shown, in plain words (tests)."""
        return [label.text() for label in self.problem_labels]
