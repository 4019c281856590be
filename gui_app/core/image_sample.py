"""A bounded sample of a folder of images, as arrays: what the boundary view's plane is laid
through when the inputs stay on disk.

The plane through wide inputs (`boundary.planes.make_plane`) needs pixels: the principal
components of the training inputs, and the points drawn on it. An `image_data.ImageDataset`
has only paths, and the window never decodes an image with TensorFlow nor reads a whole
folder. So the window asks the engine (`session.read_images`) for a few hundred training
images spread over the classes, and a few validation images, decoded as the model sees them,
and lays the plane through those. `ImageSample` is a `Dataset` of those arrays: the boundary
view, its click picking and the X-ray take it as they take the digits' arrays, while the
rest of the window keeps the `ImageDataset`.

Qt-free; NumPy only (the decoding is the engine's, passed in as a function).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .boundary.planes import Plane
from .data import Dataset
from .history_views import labels_of

#: Training images in the sample at most: enough for two principal components of a few
#: thousand pixels and a readable scatter; decoded in about a second by the engine.
SAMPLE_TRAIN = 500
#: Validation images at most (drawn hollow).
SAMPLE_VAL = 150
#: Decoded bytes (float32) the sample may take, both parts together: 500 images of 64x64 RGB
#: are 24 MiB; bigger images give a smaller sample rather than a bigger message.
SAMPLE_BYTES = 48 * 2**20
#: Values per image (pixels times channels) up to which each gets a name ("pixel (row 3,
#: column 5)") for the "two features" plane: 64x64 grey. Beyond, the view offers no such
#: plane (two lists of tens of thousands of pixels say little), and names are not made.
PIXEL_NAMES_MAX = 4096
#: The fewest images a sample has, whatever their size (a plane needs a few points).
SAMPLE_MIN = 20


def spread_rows(labels: np.ndarray, limit: int, seed: int = 0) -> np.ndarray:
    """Up to `limit` rows, taken in turn from each class (a rare class is not left out),
    each class's rows in a fixed shuffled order: the same rows every time. Sorted."""
    y = labels_of(labels) if len(labels) else np.zeros(0, np.int64)
    n = len(y)
    if n <= limit:
        return np.arange(n)
    rank = np.empty(n, np.int64)
    for c in np.unique(y):
        rows = np.flatnonzero(y == c)
        rank[rows[np.random.default_rng([seed, int(c)]).permutation(len(rows))]] = \
            np.arange(len(rows))
    order = np.lexsort((y, rank))  # every class's first, then every class's second, ...
    return np.sort(order[:limit])


def sample_sizes(sample_shape: Sequence[int], budget: int = SAMPLE_BYTES) -> tuple[int, int]:
    """(training, validation) images at most for images of `sample_shape` (h, w, c)."""
    per = 4 * int(np.prod(sample_shape))
    total = max(SAMPLE_MIN, budget // max(1, per))
    if total >= SAMPLE_TRAIN + SAMPLE_VAL:
        return SAMPLE_TRAIN, SAMPLE_VAL
    train = max(SAMPLE_MIN, total * SAMPLE_TRAIN // (SAMPLE_TRAIN + SAMPLE_VAL))
    return train, max(0, total - train)


def pixel_names(sample_shape: Sequence[int]) -> tuple[str, ...]:
    """One name per value of a flattened image, in NumPy's order: "pixel (row 3, column 5)",
    with the channel for colour images ("... red"); none past `PIXEL_NAMES_MAX` values."""
    h, w, c = (int(s) for s in sample_shape)
    if h * w * c > PIXEL_NAMES_MAX:
        return ()
    channels = ("red", "green", "blue") if c == 3 else tuple(f"channel {k + 1}" for k in range(c))
    names = []
    for r in range(h):
        for col in range(w):
            where = f"pixel (row {r + 1}, column {col + 1})"
            names.extend([where] if c == 1 else [f"{where} {ch}" for ch in channels])
    return tuple(names)


@dataclass(frozen=True, eq=False)
class ImageSample(Dataset):
    """Decoded images of a folder's training and validation parts, as a `Dataset` of arrays
    (float32 (n, h, w, c), 0 to 255, as the model gets them) with their labels.

    Attributes:
        paths_train: the file of each row of `x_train`.
        paths_val: the file of each row of `x_val`.
        total_train: training images in the whole folder.
        total_val: validation images in the whole folder.
    """

    paths_train: tuple[str, ...]
    paths_val: tuple[str, ...]
    total_train: int
    total_val: int

    @property
    def note(self) -> str:
        """What the points drawn are, for the view's header."""
        shown = f"{len(self.x_train):,} of the {self.total_train:,} training images"
        if self.x_val is not None and len(self.x_val):
            shown += f" and {len(self.x_val):,} of the {self.total_val:,} validation images"
        return f"The points are {shown}."

    def describe(self, plane: Plane) -> str:
        """The view's header for a plane through this sample: what the plane is and which
        images the points are, in two sentences (the view adds how to read the points)."""
        if plane.mode != "pca":
            others = int(np.prod(plane.shape)) - 2
            return (f"{plane.labels[0]} against {plane.labels[1]}; the other {others:,} "
                    f"values are held at their training mean (over the sample). {self.note}")
        share = sum(plane.explained) * 100
        return (f"Principal components 1 and 2 of the images ({share:.0f} % of the "
                f"variance), through the mean image. {self.note}")

    def path_of(self, split: str, row: int) -> str:
        """The file behind row `row` of "training" or "validation"."""
        return (self.paths_train if split == "training" else self.paths_val)[row]


def read_image_sample(ds: Dataset, read: Callable[[list[str]], np.ndarray],
                      seed: int = 0) -> ImageSample:
    """Decodes a bounded, deterministic sample of a folder of images through `read` (the
    engine's `session.read_images`: paths -> float32 (n, h, w, c)), in one call.

    Args:
        ds: an `image_data.ImageDataset` (its `x_train` and `x_val` are `ImageFiles`).
        read: decodes image files as the model sees them.
        seed: which rows; the same seed gives the same sample.

    Raises:
        ValueError: when `read` gives back another number of images than it was asked for.
    """
    n_train, n_val = sample_sizes(ds.x_train.sample_shape)
    train_rows = spread_rows(np.asarray(ds.y_train), n_train, seed)
    paths_train = [ds.x_train[int(i)] for i in train_rows]
    paths_val: list[str] = []
    val_rows = np.zeros(0, np.int64)
    if ds.x_val is not None and ds.y_val is not None and n_val:
        val_rows = spread_rows(np.asarray(ds.y_val), n_val, seed)
        paths_val = [ds.x_val[int(i)] for i in val_rows]
    images = np.asarray(read(paths_train + paths_val), dtype=np.float32)
    if len(images) != len(paths_train) + len(paths_val):
        raise ValueError(f"read: expected {len(paths_train) + len(paths_val)} images, got "
                         f"{len(images)}")
    x_train, x_val = images[:len(paths_train)], images[len(paths_train):]
    has_val = bool(paths_val)
    return ImageSample(
        x_train=x_train, y_train=np.asarray(ds.y_train)[train_rows],
        x_val=x_val if has_val else None,
        y_val=np.asarray(ds.y_val)[val_rows] if has_val else None,
        x_test=None, y_test=None, task=ds.task, num_classes=ds.num_classes,
        feature_names=pixel_names(x_train.shape[1:]), class_names=ds.class_names,
        mean=None, std=None, description=f"a sample of {ds.description}",
        paths_train=tuple(paths_train), paths_val=tuple(paths_val),
        total_train=len(ds.x_train), total_val=len(ds.x_val) if ds.x_val is not None else 0)
