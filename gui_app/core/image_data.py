"""The "images" data source: a folder of images, one subfolder per class, as a Dataset.

`{"source": "images", "path": DIR, "image_size": [h, w], "color_mode": "grayscale" | "rgb",
"validation_split", "test_split", "seed", "labels"}` follows the rules of Keras's
`image_dataset_from_directory`: the classes are DIR's subfolders, sorted by name; their PNG,
JPEG, BMP and GIF files (in sub-folders too) are the samples; each image is resized to
`image_size` (bilinear) and read with 1 or 3 channels, as floats from 0 to 255.

No pixel is read here. `load_image_dataset` scans the folder (`images.scan_folder`: the
files, their classes, their sizes from their headers, and every problem), splits the files
by the seed, and returns an `ImageDataset`: a `Dataset` whose inputs are `ImageFiles`, lists
of paths that know the shape their images will have, and whose labels are ordinary arrays.
So the window shows the classes, the counts, the input shape and the findings without
TensorFlow, and the engine streams the files through `tf.data`
(`core/training/image_pipeline.py`), a folder larger than memory included.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from .data import DataError, Dataset
from .images import ERROR, NOTE, FolderScan, scan_folder, shown_path
from .limits import IMAGE_CACHE_MAX_BYTES, MAX_IMAGE_SIDE, format_bytes, memory_budget
from .safeio import FileReadError, check_path_text
from .spec import DataInfo

__all__ = ["COLOR_MODES", "IMAGE_SOURCE", "ImageDataset", "ImageFiles", "image_input_shape",
           "image_settings_problems", "load_image_dataset", "split_indices"]

IMAGE_SOURCE = "images"
#: Channels per color mode (Keras's `color_mode`; "rgba" is not offered).
COLOR_MODES: dict[str, int] = {"grayscale": 1, "rgb": 3}


def image_settings_problems(cfg: Mapping[str, Any]) -> list[str]:
    """What is wrong with the image settings of resolved data settings (`data.resolve_data`
    calls this for the "images" source; `image_size` is made a list of ints in `cfg`)."""
    problems = []
    size = cfg.get("image_size")
    ok = (isinstance(size, (list, tuple)) and len(size) == 2
          and all(isinstance(s, int) and not isinstance(s, bool) for s in size))
    if not ok or not all(1 <= s <= MAX_IMAGE_SIDE for s in size):
        problems.append(
            f"data.image_size: expected [height, width], two whole numbers from 1 to "
            f"{MAX_IMAGE_SIDE}, got {size!r}. Every image is resized to this size; [28, 28] "
            "or [64, 64] suit small networks.")
    mode = cfg.get("color_mode")
    if mode not in COLOR_MODES:
        problems.append(f"data.color_mode: expected 'grayscale' or 'rgb', got {mode!r}.")
    if cfg.get("standardize") is True:
        problems.append(
            "data.standardize: expected false for a folder of images, got true: the images "
            "are read from disk as they are needed, and their mean is not computed first. "
            "Set standardize to false, and put a Rescaling layer (scale 1/255) first in the "
            "model instead.")
    return problems


def image_input_shape(data: Mapping[str, Any] | None) -> tuple[int, int, int] | None:
    """The model input shape (height, width, channels) that image data settings give,
    without looking at the folder; None for other sources or settings that are not valid."""
    if not data or data.get("source") != IMAGE_SOURCE:
        return None
    size = data.get("image_size", [64, 64])
    mode = data.get("color_mode", "rgb")
    try:
        h, w = (int(s) for s in size)
    except (TypeError, ValueError):
        return None
    if mode not in COLOR_MODES or not (1 <= h <= MAX_IMAGE_SIDE and 1 <= w <= MAX_IMAGE_SIDE):
        return None
    return h, w, COLOR_MODES[mode]


def split_indices(n: int, seed: int, test_split: float, validation_split: float
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The train, validation and test parts of n files, as sorted indices.

    The same split as every other source (`data._assemble`): the files are shuffled with
    a generator seeded by [seed, 0x5EED]; the first round(n * test_split) are the test
    part, the next round(n * validation_split) the validation part (at least one each
    when the fraction is above 0), the rest trains.
    """
    n_test, n_val = [max(1, round(n * f)) if f > 0 else 0
                     for f in (test_split, validation_split)]
    order = np.random.default_rng([seed, 0x5EED]).permutation(n)
    test = np.sort(order[:n_test])
    val = np.sort(order[n_test:n_test + n_val])
    train = np.sort(order[n_test + n_val:])
    return train, val, test


class ImageFiles(Sequence[str]):
    """One part of a folder of images where other sources have an array of inputs.

    It has what code that sizes data reads from an array (`len`, `shape`, `ndim`, `dtype`)
    and gives absolute file paths when indexed, but no pixels: converting it to an array
    raises a TypeError that says so, rather than decoding a folder larger than memory
    behind the caller's back. The engine reads the pixels through `tf.data`.
    """

    def __init__(self, root: Path, files: Sequence[str], sample_shape: tuple[int, int, int]
                 ) -> None:
        self.root = Path(root)
        self.files = tuple(files)
        self.sample_shape = tuple(sample_shape)

    @property
    def paths(self) -> list[str]:
        """Every file's absolute path."""
        base = os.fspath(self.root)
        return [os.path.join(base, *f.split("/")) for f in self.files]

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self.files), *self.sample_shape)

    @property
    def ndim(self) -> int:
        return 1 + len(self.sample_shape)

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(np.float32)

    @property
    def nbytes(self) -> int:
        """The bytes these images take once decoded and resized (float32)."""
        return int(np.prod(self.shape, dtype=np.int64)) * 4

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return ImageFiles(self.root, self.files[index], self.sample_shape)
        return os.path.join(os.fspath(self.root), *self.files[index].split("/"))

    def __iter__(self) -> Iterator[str]:
        return iter(self.paths)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TypeError(
            f"these {len(self.files):,} images are files read from disk as training needs "
            "them (data source 'images'), not an array in memory; this view works on "
            "arrays of numbers")

    def __repr__(self) -> str:
        return f"ImageFiles({len(self.files)} files in {self.root}, shape {self.shape})"


@dataclass(frozen=True, eq=False)
class ImageDataset(Dataset):
    """A folder of images, split and labelled, whose inputs stay on disk.

    `x_train`, `x_val` and `x_test` are `ImageFiles`; the labels are arrays as for every
    source. Besides the `Dataset` attributes:

    Attributes:
        root: the folder.
        image_size: (height, width) every image is resized to.
        color_mode: "grayscale" or "rgb".
        scan: what the scan found: classes, files, sizes and problems (`images.FolderScan`).
        cache: whether the engine keeps the decoded images in memory after the first
            epoch (they fit in `limits.IMAGE_CACHE_MAX_BYTES` and a quarter of the memory
            budget); else they are read from disk every epoch.
    """

    root: Path
    image_size: tuple[int, int]
    color_mode: str
    scan: FolderScan
    cache: bool

    #: The inputs are files streamed from disk: code that needs the pixels in memory
    #: (the fast compiled loop, the decision boundary, NumPy probes) looks here first.
    streamed: ClassVar[bool] = True

    @property
    def channels(self) -> int:
        return COLOR_MODES[self.color_mode]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (*self.image_size, self.channels)

    @property
    def class_counts(self) -> tuple[int, ...]:
        """Usable images per class in the whole folder."""
        return self.scan.counts

    def part(self, split: str) -> tuple[ImageFiles, np.ndarray] | None:
        """The files and labels of "train", "val" or "test"; None for an empty part."""
        x, y = {"train": (self.x_train, self.y_train), "val": (self.x_val, self.y_val),
                "test": (self.x_test, self.y_test)}[split]
        return None if x is None else (x, y)

    def samples(self, class_index: int, count: int = 8) -> list[Path]:
        """Up to `count` images of a class, spread over it, for a gallery."""
        return self.scan.samples(class_index, count)

    def info(self) -> DataInfo:
        info = super().info()
        notes = tuple((p.severity, p.message) for p in self.scan.problems
                      if p.severity != ERROR)
        return DataInfo(info.input_shape, info.label_shape, info.label_kind,
                        info.num_classes, info.task, info.class_counts, images=True,
                        notes=notes)


def resolve_folder(cfg: Mapping[str, Any], base_dir: Path | None) -> Path:
    """The folder `data.path` names, a relative path read from `base_dir` (the project's
    folder), as `data._resolve_path` does for files."""
    text = cfg["path"]
    try:
        raw = check_path_text(text)
    except FileReadError as err:
        raise DataError(f"data.path: {str(err).rstrip('.')}. Choose the folder of images "
                        "again, or correct data.path in the project file.") from None
    path = raw if raw.is_absolute() or base_dir is None else Path(base_dir) / raw
    try:
        exists = path.exists()
        folder = exists and path.is_dir()
    except OSError as err:
        raise DataError(
            f"data.path: expected a folder of images, got {shown_path(str(text))}, which "
            f"cannot be looked up ({err.strerror or type(err).__name__}). Check the name, or "
            "choose the folder again.") from None
    if not exists:
        where = (f" (relative paths are read from the project's folder {base_dir})"
                 if base_dir is not None and not raw.is_absolute() else "")
        from .lessons import GENERATED_FOLDERS

        made = (" LayerLab writes this lesson's pictures when the lesson is opened from "
                "File > Open Example; `python -m gui_app.core.shapes DIR` writes them too."
                if text in GENERATED_FOLDERS else "")
        raise DataError(
            f"data.path: expected an existing folder of images (one subfolder per class), "
            f"got {shown_path(str(text))}, which does not exist at {path}{where}. Check the "
            f"name, or choose the folder again.{made}")
    if not folder:
        raise DataError(
            f"data.path: expected a folder of images (one subfolder per class), got the file "
            f"{path}. Choose the folder that holds the class subfolders.")
    return path


def _cache_fits(n: int, shape: tuple[int, int, int]) -> bool:
    need = n * int(np.prod(shape)) * 4
    return need <= min(IMAGE_CACHE_MAX_BYTES, memory_budget() // 4)


def load_image_dataset(cfg: Mapping[str, Any], base_dir: Path | None) -> ImageDataset:
    """Scans and splits a folder of images (settings already checked by `resolve_data`).

    Raises:
        DataError: for a folder that cannot be trained on, with every error of the scan and
            the warnings that explain them (files left out).
    """
    root = resolve_folder(cfg, base_dir)
    h, w = (int(s) for s in cfg["image_size"])
    mode = cfg["color_mode"]
    scan = scan_folder(root, (h, w), mode)
    if scan.errors:
        raise DataError([("data.path: " if p.severity == ERROR else "") + p.message
                         for p in scan.problems if p.severity != NOTE])
    n, k = len(scan.files), len(scan.classes)
    train, val, test = split_indices(n, cfg["seed"], cfg["test_split"], cfg["validation_split"])
    if len(train) < 1:
        raise DataError(
            f"data.validation_split: expected some of the {n} images left for training, got "
            f"{len(test)} test and {len(val)} validation images, leaving none. Lower the "
            "splits or add images.")
    shape = (h, w, COLOR_MODES[mode])
    labels = scan.labels
    if cfg["labels"] == "one_hot":
        encoded = np.eye(k, dtype=np.float32)[labels]
    else:
        encoded = labels.astype(np.int64)

    def part(rows: np.ndarray) -> tuple[ImageFiles | None, np.ndarray | None]:
        if not len(rows):
            return None, None
        return (ImageFiles(root, [scan.files[i] for i in rows], shape),
                np.ascontiguousarray(encoded[rows]))

    x_train, y_train = part(train)
    x_val, y_val = part(val)
    x_test, y_test = part(test)
    counts = ", ".join(f"{name} {count:,}" for name, count in
                       list(zip(scan.classes, scan.counts))[:6])
    more = f" and {k - 6} more" if k > 6 else ""
    parts = [f"{len(train):,} train"] + ([f"{len(val):,} validation"] if len(val) else []) \
        + ([f"{len(test):,} test"] if len(test) else [])
    cache = _cache_fits(n, shape)
    description = (f"{root.name}: {' / '.join(parts)} images, {h}x{w}x{shape[2]} ({mode}), "
                   f"{k} classes ({counts}{more}); "
                   + ("kept in memory after the first epoch"
                      if cache else f"read from disk every epoch (over "
                      f"{format_bytes(min(IMAGE_CACHE_MAX_BYTES, memory_budget() // 4))} "
                      "decoded)"))
    assert x_train is not None and y_train is not None
    return ImageDataset(
        x_train=x_train, y_train=y_train, x_val=x_val, y_val=y_val, x_test=x_test,
        y_test=y_test, task="binary" if k == 2 else "multiclass", num_classes=k,
        feature_names=(), class_names=scan.classes, mean=None, std=None,
        description=description, root=root, image_size=(h, w), color_mode=mode, scan=scan,
        cache=cache)
