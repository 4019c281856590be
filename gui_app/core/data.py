"""Datasets: 2-D toy sets, regression sets, bundled real sets, CSV, NPZ and Keras's sets.

Everything the rest of LayerLab trains on comes out of `load_dataset` as one frozen
`Dataset`, already split, optionally standardised and with labels in the form asked for.
Every mistake a person can make in the data settings or in a data file ends as a
`DataError` whose lines say what was expected, what was found and how to fix it, so the
window and the command line can show it instead of a traceback.

Only NumPy is imported at module level: the window imports this module while starting, and
scikit-learn (about 1 s) and Keras (about 3 s) are imported inside the loaders that need
them.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import gzip
import io
import math
import os
import pickle
import struct
import tarfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np

from .limits import (
    MAX_ARRAY_BYTES,
    MAX_CSV_BYTES,
    MAX_CSV_ROWS,
    MAX_NPZ_BYTES,
    MAX_NPZ_MEMBERS,
    format_bytes,
    memory_budget,
)
from .safeio import FileReadError, check_path_text, open_regular, read_regular
from .spec import DataInfo, DataSpec

try:
    from lzma import LZMAError
except ImportError:  # pragma: no cover - Python built without lzma; zipfile then has no LZMA
    LZMAError = OSError  # type: ignore[misc, assignment]

__all__ = [
    "CLASS_SOURCES",
    "DATA_DEFAULTS",
    "DATA_SOURCES",
    "DataError",
    "Dataset",
    "IMAGE_SOURCES",
    "class_counts",
    "compute_class_weight",
    "keras_datasets_dir",
    "load_dataset",
    "resolve_data",
]

GENERATED_SOURCES: tuple[str, ...] = ("circle", "xor", "gaussian", "spiral", "moons", "blobs")
REGRESSION_SOURCES: tuple[str, ...] = ("sine", "housing")
SKLEARN_SOURCES: tuple[str, ...] = ("digits", "iris", "wine", "breast_cancer")
KERAS_SOURCES: tuple[str, ...] = ("keras:mnist", "keras:fashion_mnist", "keras:cifar10")
FILE_SOURCES: tuple[str, ...] = ("csv", "npz")
#: A folder of images, one subfolder per class, streamed from disk (core/image_data.py).
IMAGE_SOURCES: tuple[str, ...] = ("images",)

DATA_SOURCES: tuple[str, ...] = (
    GENERATED_SOURCES + REGRESSION_SOURCES + SKLEARN_SOURCES + KERAS_SOURCES + FILE_SOURCES
    + IMAGE_SOURCES
)

#: Generated sources whose number of classes can be chosen with `classes` (2..5).
CLASS_SOURCES: tuple[str, ...] = ("gaussian", "blobs", "spiral")

#: Every data setting's default; they are defined once, as `DataSpec`'s field defaults.
DATA_DEFAULTS: dict[str, Any] = DataSpec.defaults()

LABEL_MODES: tuple[str, ...] = ("integer", "one_hot")
MIN_SAMPLES = 10
MAX_SAMPLES = 1_000_000
MAX_NOISE = 5.0
MAX_CLASSES = 5
#: An integer-valued target with at most this many distinct values is read as class labels.
MAX_CLASSES_FROM_FILE = 20
#: How many bad cells a CSV report lists before summarising the rest.
MAX_LISTED_PROBLEMS = 20


class DataError(Exception):
    """The data settings or a data file cannot be used; `problems` holds one line per problem.

    The lines are meant for people: each says what was expected, what was got and what to
    do, so the UI shows `str(err)` as it is.
    """

    def __init__(self, problems: str | Iterable[str]) -> None:
        lines = [problems] if isinstance(problems, str) else [str(p) for p in problems]
        super().__init__(lines)
        self.problems: list[str] = lines

    def __str__(self) -> str:
        return "\n".join(self.problems)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A loaded, split dataset, ready for `model.fit`.

    Features are float32. Class labels are int64 class indices of shape `(n,)`, or float32
    one-hot rows of shape `(n, num_classes)` when `labels` is "one_hot". Regression targets
    are float32 of shape `(n,)` (one target per sample; an NPZ file with several targets
    per sample keeps its `(n, k)` shape).

    `eq=False` because arrays have no single truth value; compare the arrays instead.

    Attributes:
        x_train: training inputs.
        y_train: training labels or targets.
        x_val: validation inputs, or None when `validation_split` is 0.
        y_val: validation labels, or None when `validation_split` is 0.
        x_test: test inputs, or None when there is no test part.
        y_test: test labels, or None when there is no test part.
        task: "binary", "multiclass" or "regression".
        num_classes: number of classes, or None for regression.
        feature_names: one name per input column for tabular data; empty for images.
        class_names: one name per class, or None for regression.
        mean: per-feature mean of the raw training inputs when standardised, else None.
        std: per-feature standard deviation (0 replaced by 1) when standardised, else None.
        description: one line for the UI.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray | None
    y_test: np.ndarray | None
    task: str
    num_classes: int | None
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None
    mean: np.ndarray | None
    std: np.ndarray | None
    description: str

    #: False: the inputs are arrays in memory. An image folder's dataset
    #: (`image_data.ImageDataset`) has file lists instead and says True.
    streamed: ClassVar[bool] = False

    def transform(self, x: Any) -> np.ndarray:
        """Applies the training standardisation to raw inputs, such as values a user types in.

        The model was trained on standardised inputs, so raw inputs (a point clicked on the
        decision-boundary plot, a row typed into the prediction box) must go through the
        same shift and scale. Without standardisation this only converts to float32.
        """
        x = np.asarray(x, dtype=np.float32)
        if self.mean is None or self.std is None:
            return x
        return ((x - self.mean) / self.std).astype(np.float32)

    @property
    def label_kind(self) -> str:
        """How the labels are encoded: "integer", "one_hot", "binary" or "float"."""
        if self.task == "regression":
            return "float"
        if self.y_train.ndim == 2:
            return "one_hot"
        return "binary" if self.task == "binary" else "integer"

    def info(self) -> DataInfo:
        """What the pre-flight checks need to know, without the arrays."""
        counts: tuple[int, ...] = ()
        if self.num_classes is not None:
            counts = class_counts(self.y_train, self.num_classes)
        return DataInfo(
            input_shape=tuple(int(d) for d in self.x_train.shape[1:]),
            label_shape=tuple(int(d) for d in self.y_train.shape[1:]),
            label_kind=self.label_kind,
            num_classes=self.num_classes,
            task=self.task,
            class_counts=counts,
        )


# --------------------------------------------------------------------------------------
# Settings


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, (float, np.floating))) and math.isfinite(
        float(value)
    )


def _got(value: Any) -> str:
    """Shows a value as the user wrote it, with its JSON type when that is the mistake."""
    kind = {bool: "boolean", str: "text", list: "list", dict: "object", type(None): "null"}
    name = kind.get(type(value), type(value).__name__)
    return f"{value!r} ({name})"


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" Did you mean {close[0]!r}?" if close else ""


#: Data settings that mean the same for every source; the others (file, columns, samples,
#: noise, classes) belong to the source they were set for.
SHARED_DATA_KEYS: tuple[str, ...] = ("seed", "validation_split", "test_split", "standardize",
                                     "labels")


def switch_source(data: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """The data settings after `changes`; when they name another source, the settings
    that belonged to the old source go, so that an old CSV's columns or the circle's noise
    do not ride along into a source they mean nothing for (or something else for)."""
    new_source = changes.get("source", data.get("source"))
    if new_source == data.get("source"):
        return {**data, **changes}
    kept = {key: data[key] for key in SHARED_DATA_KEYS if key in data}
    return {**kept, **changes}


def resolve_data(data: Mapping[str, Any] | None) -> dict[str, Any]:
    """Overlays the user's data settings on `DATA_DEFAULTS` and checks every one of them.

    All problems are collected before raising, so a person fixing a hand-edited project file
    sees every mistake at once instead of one per attempt.

    Args:
        data: the project's "data" mapping, or None for the defaults.

    Returns:
        A new dict with every key of `DATA_DEFAULTS`; `path` is a str or None and
        `features` a list of str or None.

    Raises:
        DataError: listing each problem with its key path, e.g.
            "data.samples: expected an integer >= 10, got -3".
    """
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise DataError(
            f"data: expected a mapping of settings such as {{'source': 'circle'}}, "
            f"got {_got(data)}. Write the data settings as a JSON object."
        )
    problems: list[str] = []
    for key in data:
        if key not in DATA_DEFAULTS:
            problems.append(
                f"data.{key}: unknown setting; expected one of {', '.join(DATA_DEFAULTS)}."
                f"{_suggest(str(key), list(DATA_DEFAULTS))} Remove or rename it."
            )
    out = DataSpec.from_json({k: v for k, v in data.items() if k in DATA_DEFAULTS}).resolved()

    source = out["source"]
    if not isinstance(source, str) or source not in DATA_SOURCES:
        hint = _suggest(source, DATA_SOURCES) if isinstance(source, str) else ""
        problems.append(
            f"data.source: expected one of {', '.join(DATA_SOURCES)}, got {_got(source)}.{hint}"
        )
        source = None

    path = out["path"]
    if isinstance(path, os.PathLike):
        path = out["path"] = os.fspath(path)
    if path is not None and (not isinstance(path, str) or not path.strip()):
        problems.append(f"data.path: expected a file path as text, got {_got(path)}.")
    elif path is None and source in FILE_SOURCES:
        problems.append(
            f"data.path: expected the path of a .{source} file when data.source is "
            f"{source!r}, got none. Choose a file, or pick another source."
        )
    elif path is None and source in IMAGE_SOURCES:
        problems.append(
            "data.path: expected the folder of images (one subfolder per class) when "
            "data.source is 'images', got none. Choose a folder, or pick another source."
        )

    features = out["features"]
    if features is not None:
        if (
            not isinstance(features, (list, tuple))
            or not features
            or not all(isinstance(f, str) for f in features)
        ):
            problems.append(
                "data.features: expected a non-empty list of column names (text) or null for "
                f"all columns but the target, got {_got(features)}."
            )
        else:
            dupes = sorted({f for f in features if list(features).count(f) > 1})
            if dupes:
                problems.append(
                    f"data.features: expected each column once, got {', '.join(dupes)} "
                    "more than once. Remove the repeats."
                )
            out["features"] = list(features)

    target = out["target"]
    if target is not None and (not isinstance(target, str) or not target):
        problems.append(
            "data.target: expected a column name (text) or null for the last column, "
            f"got {_got(target)}."
        )

    samples = out["samples"]
    if not _is_int(samples) or samples < MIN_SAMPLES:
        problems.append(f"data.samples: expected an integer >= {MIN_SAMPLES}, got {samples!r}.")
    elif samples > MAX_SAMPLES:
        problems.append(
            f"data.samples: expected at most {MAX_SAMPLES:,} generated samples, got {samples:,}. "
            "Use fewer; for more data, load a file."
        )
    else:
        out["samples"] = int(samples)

    noise = out["noise"]
    if not _is_number(noise) or not 0 <= noise <= MAX_NOISE:
        problems.append(
            f"data.noise: expected a number between 0 and {MAX_NOISE:g}, got {noise!r}."
        )
    else:
        out["noise"] = float(noise)

    classes = out["classes"]
    if not _is_int(classes) or not 2 <= classes <= MAX_CLASSES:
        problems.append(
            f"data.classes: expected an integer from 2 to {MAX_CLASSES}, got {classes!r}."
        )
    else:
        out["classes"] = int(classes)
        if classes != 2 and source in GENERATED_SOURCES and source not in CLASS_SOURCES:
            problems.append(
                f"data.classes: the {source!r} data always has 2 classes, got {classes}. "
                f"Set classes to 2, or choose {', '.join(CLASS_SOURCES)}, which support "
                f"2 to {MAX_CLASSES} classes."
            )

    seed = out["seed"]
    if not _is_int(seed) or seed < 0:
        problems.append(f"data.seed: expected an integer >= 0, got {seed!r}.")
    else:
        out["seed"] = int(seed)

    splits_ok = True
    for key in ("validation_split", "test_split"):
        value = out[key]
        if not _is_number(value) or not 0 <= value < 1:
            problems.append(
                f"data.{key}: expected a fraction from 0 up to (not including) 1, such as 0.2, "
                f"got {value!r}."
            )
            splits_ok = False
        else:
            out[key] = float(value)
    if splits_ok and out["validation_split"] + out["test_split"] >= 1:
        problems.append(
            "data.validation_split + data.test_split: expected a sum below 1 so that some "
            f"samples are left to train on, got {out['validation_split']:g} + "
            f"{out['test_split']:g}. Make one of them smaller."
        )

    if source in IMAGE_SOURCES:
        from .image_data import image_settings_problems

        problems += image_settings_problems(out)
        if not problems:
            out["image_size"] = [int(v) for v in out["image_size"]]

    if not isinstance(out["standardize"], (bool, np.bool_)):
        problems.append(
            f"data.standardize: expected true or false, got {_got(out['standardize'])}."
        )
    else:
        out["standardize"] = bool(out["standardize"])

    labels = out["labels"]
    if labels not in LABEL_MODES:
        problems.append(
            f"data.labels: expected one of {', '.join(LABEL_MODES)}, got {_got(labels)}."
        )
    elif labels == "one_hot" and source in REGRESSION_SOURCES:
        problems.append(
            f"data.labels: expected 'integer' for {source!r}, a regression set whose targets are "
            "measured values rather than classes, got 'one_hot'. Set labels to 'integer'."
        )

    if problems:
        raise DataError(problems)
    return out


# --------------------------------------------------------------------------------------
# Generated 2-D sets. Each draws a clean shape, then adds N(0, noise^2) to every
# coordinate, so `noise` means the same thing everywhere (the shapes are about 1 wide,
# except blobs, whose means and covariances are the classic course example).


def _per_class(n: int, k: int) -> list[int]:
    return [n // k + (1 if i < n % k else 0) for i in range(k)]


def _labels(counts: Sequence[int]) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def _gen_circle(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Inner disk (class 1) inside an outer ring (class 0), as in TensorFlow Playground."""
    n_out, n_in = _per_class(n, 2)
    radius = np.concatenate([rng.uniform(0.7, 1.0, n_out), rng.uniform(0.0, 0.5, n_in)])
    angle = rng.uniform(0.0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    return x, _labels([n_out, n_in])


def _gen_xor(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 where x1 and x2 have different signs; a small gap keeps the axes clear."""
    x = rng.uniform(-1.0, 1.0, (n, 2))
    x += np.where(x >= 0, 0.05, -0.05)
    y = ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(np.int64)
    return x, y


def _gen_gaussian(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Round clusters on a circle; for 2 classes they sit at (2, 2) and (-2, -2)."""
    counts = _per_class(n, k)
    angles = np.pi / 4 + 2 * np.pi * np.arange(k) / k
    centres = 2 * np.sqrt(2) * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    x = np.concatenate([rng.normal(centres[i], 0.5, (c, 2)) for i, c in enumerate(counts)])
    return x, _labels(counts)


def _gen_spiral(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`k` interleaved spiral arms, 1.75 turns each, radius growing from 0 to 1."""
    counts = _per_class(n, k)
    parts = []
    for i, c in enumerate(counts):
        r = np.linspace(0.0, 1.0, c, endpoint=False) + 0.5 / max(c, 1)
        t = 1.75 * 2 * np.pi * r + 2 * np.pi * i / k
        parts.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
    return np.concatenate(parts), _labels(counts)


def _gen_moons(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles, drawn as scikit-learn's make_moons draws them."""
    n_upper, n_lower = _per_class(n, 2)
    t_up = rng.uniform(0.0, np.pi, n_upper)
    t_low = rng.uniform(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_up), np.sin(t_up)], axis=1)
    lower = np.stack([1 - np.cos(t_low), 0.5 - np.sin(t_low)], axis=1)
    return np.concatenate([upper, lower]), _labels([n_upper, n_lower])


#: Means and covariances of the blobs: the first two are the linear-classifier example of
#: Keras courses; the others are placed well apart from them for 3 to 5 classes.
BLOB_MEANS: tuple[tuple[float, float], ...] = (
    (0.0, -1.0),
    (5.0, 6.0),
    (7.0, -3.0),
    (-4.0, 5.0),
    (1.5, 10.0),
)
BLOB_COVS: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = (
    ((1.0, 0.5), (0.5, 1.0)),
    ((2.0, 0.25), (0.25, 2.0)),
    ((1.5, -0.3), (-0.3, 1.0)),
    ((1.0, 0.3), (0.3, 1.5)),
    ((1.2, 0.0), (0.0, 1.2)),
)


def _gen_blobs(rng: np.random.Generator, n: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian classes with the means and covariances in BLOB_MEANS / BLOB_COVS."""
    counts = _per_class(n, k)
    x = np.concatenate(
        [rng.multivariate_normal(BLOB_MEANS[i], BLOB_COVS[i], c) for i, c in enumerate(counts)]
    )
    return x, _labels(counts)


_GENERATORS: dict[str, Callable[[np.random.Generator, int, int], tuple[np.ndarray, np.ndarray]]]
_GENERATORS = {
    "circle": _gen_circle,
    "xor": _gen_xor,
    "gaussian": _gen_gaussian,
    "spiral": _gen_spiral,
    "moons": _gen_moons,
    "blobs": _gen_blobs,
}

_GENERATED_CLASS_NAMES: dict[str, tuple[str, ...]] = {
    "circle": ("outer ring", "inner disk"),
    "xor": ("same sign", "different signs"),
    "moons": ("upper moon", "lower moon"),
}


@dataclass
class _Raw:
    """What a loader returns before splitting: arrays plus what they mean."""

    x: np.ndarray
    y: np.ndarray
    task: str
    num_classes: int | None
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...] | None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


def _classification(
    x: np.ndarray, y: np.ndarray, k: int, names: tuple[str, ...] | None, features: tuple[str, ...]
) -> _Raw:
    return _Raw(
        x=np.ascontiguousarray(x, dtype=np.float32),
        y=np.asarray(y, dtype=np.int64),
        task="binary" if k == 2 else "multiclass",
        num_classes=k,
        feature_names=features,
        class_names=names if names is not None else tuple(str(i) for i in range(k)),
    )


def _load_generated(cfg: Mapping[str, Any]) -> _Raw:
    source, n = cfg["source"], cfg["samples"]
    k = cfg["classes"] if source in CLASS_SOURCES else 2
    rng = np.random.default_rng(cfg["seed"])
    x, y = _GENERATORS[source](rng, n, k)
    if cfg["noise"] > 0:
        x = x + rng.normal(0.0, cfg["noise"], x.shape)
    return _classification(x, y, k, _GENERATED_CLASS_NAMES.get(source), ("x1", "x2"))


def _load_regression(cfg: Mapping[str, Any]) -> _Raw:
    """Sine: y = sin(x) + noise for x in [-3, 3]. Housing: price from area and rooms.

    Housing prices are in units of 100,000 so that an untuned network can fit them, while
    the raw inputs (30-200 m^2 against 1-8 rooms) differ enough in scale to show why
    `standardize` matters.
    """
    rng = np.random.default_rng(cfg["seed"])
    n, noise = cfg["samples"], cfg["noise"]
    if cfg["source"] == "sine":
        x = rng.uniform(-3.0, 3.0, (n, 1))
        y = np.sin(x[:, 0]) + rng.normal(0.0, noise, n)
        names: tuple[str, ...] = ("x",)
    else:
        area = rng.uniform(30.0, 200.0, n)
        rooms = np.clip(np.round(area / 28.0 + rng.normal(0.0, 0.7, n)), 1, 8)
        price = 0.4 + 0.025 * area + 0.15 * rooms + 0.00004 * area**2
        y = price + rng.normal(0.0, noise, n) * 1.5
        x = np.stack([area, rooms], axis=1)
        names = ("area_m2", "rooms")
    return _Raw(
        x=x.astype(np.float32),
        y=y.astype(np.float32),
        task="regression",
        num_classes=None,
        feature_names=names,
        class_names=None,
    )


def _load_sklearn(cfg: Mapping[str, Any]) -> _Raw:
    from sklearn import datasets as sk_datasets  # lazy: about 1 s to import

    loader = getattr(sk_datasets, f"load_{cfg['source']}")
    bunch = loader()
    names = tuple(str(n) for n in bunch.target_names)
    return _classification(
        bunch.data, bunch.target, len(names), names, tuple(str(f) for f in bunch.feature_names)
    )


# --------------------------------------------------------------------------------------
# Keras's datasets. The files are read here from Keras's cache folder, so that a file a
# person copied there by hand (there is no network on many classroom machines) is used
# without Keras trying to download it again; Keras is imported only to download.

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_MNIST_HASH = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
_CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_CIFAR10_HASH = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"
_FASHION_FILES = (
    "train-labels-idx1-ubyte.gz",
    "train-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
)
_FASHION_NAMES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
_CIFAR10_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


def keras_datasets_dir() -> Path:
    """The folder Keras downloads datasets into: `$KERAS_HOME/datasets` or `~/.keras/datasets`.

    Read from the environment on every call (Keras reads it once, at import), so a changed
    KERAS_HOME is honoured.
    """
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    return Path(os.path.expanduser(home)) / "datasets"


def _dataset_dirs() -> list[Path]:
    """Where to look: Keras falls back to /tmp/.keras when its home is not writable."""
    dirs = [keras_datasets_dir()]
    fallback = Path("/tmp/.keras/datasets")
    if fallback not in dirs:
        dirs.append(fallback)
    return dirs


def _find(relative: str) -> Path | None:
    for folder in _dataset_dirs():
        candidate = folder / relative
        if candidate.exists():
            return candidate
    return None


#: The largest dataset file a download may write (CIFAR-10's archive is 163 MiB).
DOWNLOAD_MAX_BYTES = 512 << 20
#: Seconds a download may wait for the server before it counts as failed.
DOWNLOAD_TIMEOUT_S = 30.0


def _download(fname: str, origin: str, subdir: str, file_hash: str | None = None) -> Path:
    """Downloads one file into Keras's cache folder, where Keras itself would put it.

    Done here with the standard library rather than `keras.utils.get_file`: the window
    loads data in its own process, which never imports Keras. The file is written beside
    its final name and renamed into place only when it is complete and, with `file_hash`
    (SHA-256), matches: an interrupted or tampered download leaves nothing behind. A file
    larger than `DOWNLOAD_MAX_BYTES` is refused.
    """
    import hashlib
    import tempfile
    import urllib.request

    target_dir = keras_datasets_dir() / subdir
    target_dir.mkdir(parents=True, exist_ok=True)
    target = target_dir / fname
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{fname}.", suffix=".part", dir=target_dir)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(  # noqa: S310 - fixed origins
            origin, timeout=DOWNLOAD_TIMEOUT_S
        ) as response:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                if size > DOWNLOAD_MAX_BYTES:
                    raise OSError(
                        f"the file is larger than {DOWNLOAD_MAX_BYTES >> 20} MiB, more than "
                        "any dataset LayerLab downloads"
                    )
                digest.update(chunk)
                out.write(chunk)
        if file_hash is not None and digest.hexdigest() != file_hash:
            raise OSError(
                f"the downloaded file's SHA-256 is {digest.hexdigest()}, expected {file_hash} "
                "(a damaged download or a different file)"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _missing_keras_file(source: str, where: Path, url: str, error: BaseException) -> DataError:
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return DataError(
        [
            f"data.source: {source!r} expected its data in Keras's cache at {where}, but it is "
            f"not there, and downloading it from {url} failed ({reason}).",
            f"To fix: download {url} on a computer with internet access and copy it to "
            f"{where}, then load again; or choose another data source.",
        ]
    )


def _load_mnist_npz(path: Path, source: str) -> tuple[tuple[np.ndarray, ...], ...]:
    arrays = _read_npz(path, "data.source")
    missing = [k for k in ("x_train", "y_train", "x_test", "y_test") if k not in arrays]
    if missing:
        raise DataError(
            f"data.source: {source!r} expected arrays x_train, y_train, x_test, y_test in "
            f"{path}, got {', '.join(sorted(arrays)) or 'no arrays'}. Replace the file with "
            f"the original from {_KERAS_ORIGIN}mnist.npz."
        )
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_idx(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only plain containers and NumPy arrays: CIFAR's batches are pickles."""

    _ALLOWED = frozenset(
        {
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            # Python 3 writes bytes into protocol-2 pickles as _codecs.encode(text, "latin1"):
            # it only turns text into bytes.
            ("_codecs", "encode"),
        }
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a dataset file")


def _cifar_batch(stream: io.BufferedIOBase | Any) -> tuple[np.ndarray, np.ndarray]:
    batch = _ArrayUnpickler(stream, encoding="bytes").load()
    batch = {k.decode() if isinstance(k, bytes) else k: v for k, v in batch.items()}
    data = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
    return data.transpose(0, 2, 3, 1), np.asarray(batch["labels"], dtype=np.int64)


_CIFAR_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)


def _read_cifar(location: Path) -> tuple[tuple[np.ndarray, ...], ...]:
    """Reads CIFAR-10 from an extracted folder or straight out of the .tar.gz (no extraction)."""
    parts = []
    if location.is_dir():
        for name in _CIFAR_BATCHES:
            with open(location / name, "rb") as f:
                parts.append(_cifar_batch(f))
    else:
        with tarfile.open(location, "r:gz") as tar:
            for name in _CIFAR_BATCHES:
                member = tar.extractfile(f"cifar-10-batches-py/{name}")
                if member is None:
                    raise FileNotFoundError(f"cifar-10-batches-py/{name} in {location}")
                parts.append(_cifar_batch(member))
    x_train = np.concatenate([p[0] for p in parts[:5]])
    y_train = np.concatenate([p[1] for p in parts[:5]])
    return (x_train, y_train), parts[5]


def _cifar_location() -> Path | None:
    for relative in (
        "cifar-10-batches-py-target/cifar-10-batches-py",  # Keras 3 extracts here
        "cifar-10-batches-py",  # tf.keras 2 extracted here
    ):
        found = _find(relative)
        if found is not None and (found / "test_batch").exists():
            return found
    for relative in (
        "cifar-10-python.tar.gz",  # the file as downloaded by a person
        "cifar-10-batches-py-target_archive",  # Keras 3's name for the archive
        "cifar-10-batches-py.tar.gz",  # tf.keras 2's name for the archive
    ):
        found = _find(relative)
        if found is not None and found.is_file():
            return found
    return None


def _load_keras(cfg: Mapping[str, Any]) -> _Raw:
    source = cfg["source"]
    folder = keras_datasets_dir()
    try:
        if source == "keras:mnist":
            path = _find("mnist.npz")
            if path is None:
                url = f"{_KERAS_ORIGIN}mnist.npz"
                try:
                    path = _download("mnist.npz", url, "", _MNIST_HASH)
                except Exception as err:  # no network, proxy, disk full: all end the same
                    raise _missing_keras_file(source, folder / "mnist.npz", url, err) from err
            (x, y), (xt, yt) = _load_mnist_npz(path, source)
            names = tuple(str(i) for i in range(10))
        elif source == "keras:fashion_mnist":
            paths = []
            for fname in _FASHION_FILES:
                path = _find(f"fashion-mnist/{fname}")
                if path is None:
                    url = _KERAS_ORIGIN + fname
                    try:
                        path = _download(fname, url, "fashion-mnist")
                    except Exception as err:
                        where = folder / "fashion-mnist" / fname
                        raise _missing_keras_file(source, where, url, err) from err
                paths.append(path)
            y = _read_idx(paths[0], 8)
            x = _read_idx(paths[1], 16).reshape(len(y), 28, 28)
            yt = _read_idx(paths[2], 8)
            xt = _read_idx(paths[3], 16).reshape(len(yt), 28, 28)
            names = _FASHION_NAMES
        else:
            location = _cifar_location()
            if location is None:
                try:
                    # read straight from the archive, as a copied-in archive is
                    location = _download(
                        "cifar-10-python.tar.gz", _CIFAR10_URL, "", _CIFAR10_HASH
                    )
                except Exception as err:
                    where = folder / "cifar-10-python.tar.gz"
                    raise _missing_keras_file(source, where, _CIFAR10_URL, err) from err
            (x, y), (xt, yt) = _read_cifar(location)
            names = _CIFAR10_NAMES
    except DataError:
        raise
    except (
        OSError,
        ValueError,
        EOFError,
        KeyError,
        pickle.UnpicklingError,
        tarfile.TarError,
    ) as err:
        raise DataError(
            f"data.source: {source!r} expected readable dataset files in {folder}, but one is "
            f"damaged or incomplete ({type(err).__name__}: {err}). Delete the dataset's files "
            "there and load again to download them afresh, or copy the original files there."
        ) from err
    raw = _classification(_to_unit(x), np.asarray(y).reshape(-1), len(names), names, ())
    raw.x_test = _to_unit(xt)
    raw.y_test = np.asarray(yt, dtype=np.int64).reshape(-1)
    if len(raw.x) != len(raw.y) or len(raw.x_test) != len(raw.y_test):
        raise DataError(
            f"data.source: {source!r} expected as many labels as images, got "
            f"{len(raw.x)} images / {len(raw.y)} labels (train) and {len(raw.x_test)} / "
            f"{len(raw.y_test)} (test). Replace the files in {folder} with the originals."
        )
    labels = np.concatenate([raw.y, raw.y_test])
    if labels.size and (labels.min() < 0 or labels.max() >= len(names)):
        raise DataError(
            f"data.source: {source!r} expected labels from 0 to {len(names) - 1}, got values "
            f"from {labels.min()} to {labels.max()}. Replace the files in {folder} with the "
            "originals."
        )
    return raw


def _to_unit(images: np.ndarray) -> np.ndarray:
    """8-bit pixels to float32 in [0, 1], the scale networks train well on."""
    return np.asarray(images, dtype=np.float32) / np.float32(255.0)


# --------------------------------------------------------------------------------------
# Files
#
# A data path comes from a project file, and a project file may come from a stranger. So
# every data file is opened through `safeio.open_regular` (regular files only, a FIFO never
# blocks, a size cap), every array's size is known before it is allocated, and messages
# quote as little of a file's text as they can: pointing data.path at /etc/passwd must
# not print its first line.

#: The largest finite float32. LayerLab trains in float32, where a larger value becomes
#: infinity and fails much later with a message about the model instead of the data.
_FLOAT32_MAX = float(np.finfo(np.float32).max)
#: Characters of a file's text one message may quote: enough for a column name or a cell,
#: too few to show a line of a file that is not a data table.
_MAX_QUOTED_CHARS = 40
#: Column names a message lists before counting the rest.
_MAX_LISTED_NAMES = 10
#: Cells in one CSV row: no table is this wide.
MAX_CSV_COLUMNS = 100_000
#: Rough bytes of Python objects per parsed CSV cell (a pointer in its row, one in a column
#: list, the float) and per row (the row list and its (number, row) pair), to refuse a file
#: whose parse would not fit before parsing it all.
_CSV_BYTES_PER_CELL = 16
_CSV_BYTES_PER_ROW = 120
#: The longest line of a CSV file: 100,000 columns of up to 80 characters.
_MAX_CSV_LINE_BYTES = 8 * 1024 * 1024
#: Bytes of an .npz's central directory per member allowed (a member's entry is about 100
#: bytes; its name could be 64 KB): zipfile turns every entry into a Python object before
#: anything can count them, and a 4 GB file of empty entries would be tens of GB of those.
_NPZ_DIRECTORY_BYTES_PER_MEMBER = 4096
#: The .npy signature every member of an np.savez archive starts with.
_NPY_MAGIC = b"\x93NUMPY"
#: The errors a damaged or crafted archive can raise while being read.
_ZIP_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    ValueError,
    EOFError,
    KeyError,
    zipfile.BadZipFile,
    zlib.error,
    LZMAError,
    struct.error,
    NotImplementedError,  # a compression method zipfile does not know
    RuntimeError,  # an encrypted member
    OverflowError,
)


def _shown(text: str, limit: int = _MAX_QUOTED_CHARS) -> str:
    """Text from a file for a message: its repr, cut to `limit` characters."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def _names(names: Sequence[str], quote: bool = True) -> str:
    """Names from a file for a message: a few, each cut short, then a count of the rest."""
    cut = [
        _shown(n)
        if quote
        else (n if len(n) <= _MAX_QUOTED_CHARS else n[:_MAX_QUOTED_CHARS] + "...")
        for n in names[:_MAX_LISTED_NAMES]
    ]
    more = len(names) - _MAX_LISTED_NAMES
    return ", ".join(cut) + (f" and {more:,} more" if more > 0 else "")


def _suggest_column(name: str, header: Sequence[str]) -> str:
    """`_suggest` for a column of a file, quoting the guess cut short (and not searching a
    header so wide that difflib would take long)."""
    if len(header) > 1000:
        return ""
    close = difflib.get_close_matches(name, [h for h in header if len(h) <= 200], n=1)
    return f" Did you mean {_shown(close[0])}?" if close else ""


def _rows_text(rows: Sequence[int]) -> str:
    """'2, 5, 9' or '2, 5, 9, 12, 15 (40 rows in all)' for a message."""
    text = ", ".join(map(str, rows[:5]))
    return text + (f" ({len(rows):,} rows in all)" if len(rows) > 5 else "")


def _file_error(err: FileReadError, kind: str) -> DataError:
    """A `safeio` refusal (FIFO, device, too large, unreadable) as a data.path problem."""
    text = str(err).rstrip(".")
    if "of at most" in text:
        other = ", or save the data with np.savez as an .npz file" if kind == "CSV" else ""
        fix = f" Use a smaller file{other}."
    elif "choose" in text or "check" in text:
        fix = ""
    else:
        fix = " Check the file, or choose another."
    return DataError(f"data.path: {text}.{fix}")


def _resolve_path(cfg: Mapping[str, Any], base_dir: Path | None) -> Path:
    """The data file's path, relative paths read from `base_dir`.

    The text is checked first (`check_path_text`): a 5,000-character path or `~nouser/x`
    used to end in an OSError or RuntimeError traceback. A path that is neither missing nor
    a folder is returned as it is; `open_regular` then refuses FIFOs and devices with a
    message naming what they are (a link to /dev/zero is not "a folder").
    """
    kind = cfg["source"].upper()
    try:
        raw = check_path_text(cfg["path"])
    except FileReadError as err:
        raise DataError(
            f"data.path: {str(err).rstrip('.')}. Choose the {kind} file again, or correct "
            "data.path in the project file."
        ) from None
    path = raw if raw.is_absolute() or base_dir is None else Path(base_dir) / raw
    try:
        exists = path.exists()
        folder = exists and path.is_dir()
    except OSError as err:  # a name too long for the file system, a folder we may not enter
        raise DataError(
            f"data.path: expected a {kind} file, got {_shown(str(cfg['path']), 80)}, which "
            f"cannot be looked up ({err.strerror or type(err).__name__}). Check the name, or "
            "choose the file again."
        ) from None
    if not exists:
        where = (
            f" (relative paths are read from the project's folder {base_dir})"
            if (base_dir is not None and not raw.is_absolute())
            else ""
        )
        raise DataError(
            f"data.path: expected an existing {kind} file, got "
            f"{str(cfg['path'])!r}, which does not exist at {path}{where}. Check the name, "
            "or choose the file again."
        )
    if folder:
        raise DataError(
            f"data.path: expected a {kind} file, got the folder {path}. Choose a file inside it."
        )
    return path


def _npz_limit() -> tuple[int, str]:
    """The bytes all arrays of one .npz may take, and why that many."""
    budget = memory_budget()
    if MAX_ARRAY_BYTES <= budget:
        return MAX_ARRAY_BYTES, "the most LayerLab loads from one data file"
    return budget, "what the memory available now allows"


def _size_text(n: int) -> str:
    """`format_bytes` for any claimed size, even one no float can hold."""
    return format_bytes(n) if n < 10**18 else "more than a million TB"


def _shape_text(shape: Sequence[int]) -> str:
    text = "(" + ", ".join(f"{d:,}" if abs(d) < 10**30 else "a huge number" for d in shape)
    text += ",)" if len(shape) == 1 else ")"
    return text if len(text) <= 100 else text[:100] + "...)"


def _npy_header(member: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
    """The shape, dtype and header length of one .npy member, reading only its header.

    Raises ValueError("magic") when the member is not a .npy at all (a pickle, say), and
    ValueError for a header numpy cannot parse. Nothing here allocates the array.
    """
    try:
        version = np.lib.format.read_magic(member)
    except ValueError:
        raise ValueError("magic") from None
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:  # 3.0 only exists for structured dtypes with non-Latin-1 names: never numbers
        raise ValueError(f"npy format version {version}")
    return tuple(int(d) for d in shape), dtype, member.tell()


def _zip_directory_check(handle: IO[bytes], path: Path, key: str) -> None:
    """Refuses an archive whose directory lists too many members, before zipfile reads it.

    zipfile makes a Python object of every directory entry as it opens the archive, so the
    count must be checked first; this reads the end record zipfile itself reads. Without
    it (zipfile's private helper missing) the count is still checked after opening.
    """
    end_record = getattr(zipfile, "_EndRecData", None)
    if end_record is None:  # pragma: no cover - a future Python
        return
    end = end_record(handle)
    handle.seek(0)
    if end is None:
        raise zipfile.BadZipFile("File is not a zip file")
    entries, size = int(end[zipfile._ECD_ENTRIES_TOTAL]), int(end[zipfile._ECD_SIZE])
    if entries > MAX_NPZ_MEMBERS or size > MAX_NPZ_MEMBERS * _NPZ_DIRECTORY_BYTES_PER_MEMBER:
        raise DataError(_too_many_members(path, key, entries))


def _too_many_members(path: Path, key: str, count: int) -> str:
    got = f"{count:,} members" if count > MAX_NPZ_MEMBERS else "a directory too large for that"
    return (
        f"{key}: expected an .npz archive of at most {MAX_NPZ_MEMBERS} arrays in {path}, got "
        f"one listing {got}. Save only the arrays LayerLab reads: x and y, or x_train, "
        "y_train, x_test and y_test."
    )


def _read_npz(path: Path, key: str) -> dict[str, np.ndarray]:
    """Reads every array of an .npz with pickling off: a data file must not run code.

    Before any array is allocated, every member's .npy header is read on its own: its
    shape times its item size must fit the limit (one array and all together), it must not
    hold Python objects (those are pickles), and the archive's own record of the member's
    size must agree with it. A 630-byte file once claimed a (10^6, 10^6) array and a
    2.9 MB one inflated to 5.9 GB; np.load would allocate first and fail (or not) after.
    A member that is not a .npy at all (raw pickle bytes) is refused by its signature.
    """

    def damaged(err: BaseException | str) -> DataError:
        # The type and a short reason only: numpy's messages quote the header bytes.
        reason = err if isinstance(err, str) else type(err).__name__
        if isinstance(err, (zipfile.BadZipFile, zlib.error, RuntimeError, NotImplementedError)):
            reason += f": {str(err)[:80]}"
        return DataError(
            f"{key}: expected an .npz archive written by np.savez, but {path} could not be "
            f"read ({reason}). Check that it is the right file and not damaged."
        )

    limit, why = _npz_limit()
    arrays: dict[str, np.ndarray] = {}
    try:
        with open_regular(path, MAX_NPZ_BYTES, "NPZ file") as handle:
            if handle.read(len(_NPY_MAGIC)) == _NPY_MAGIC:
                raise DataError(
                    f"{key}: expected an .npz archive (np.savez), got a single .npy array in "
                    f"{path}. Save it with np.savez(path, x=x, y=y)."
                )
            handle.seek(0)
            _zip_directory_check(handle, path, key)
            with zipfile.ZipFile(handle) as archive:
                members = archive.infolist()
                if len(members) > MAX_NPZ_MEMBERS:
                    raise DataError(_too_many_members(path, key, len(members)))
                headers = []
                total = 0
                for info in members:
                    if not info.filename.endswith(".npy"):
                        raise DataError(
                            f"{key}: expected only arrays saved by np.savez (members ending in "
                            f".npy) in {path}, got the member {_shown(info.filename)}. Save "
                            "the data with np.savez(path, x=x, y=y)."
                        )
                    name = info.filename[: -len(".npy")]
                    with archive.open(info) as member:
                        try:
                            shape, dtype, header_bytes = _npy_header(member)
                        except ValueError as err:
                            if str(err) == "magic":
                                raise DataError(
                                    f"{key}: expected NumPy arrays in {path}, but the member "
                                    f"{_shown(info.filename)} is not one (it lacks the .npy "
                                    "signature; it may be a pickle, which LayerLab never "
                                    "loads because unpickling can run code hidden in the "
                                    "file). Save arrays with np.savez(path, x=x, y=y)."
                                ) from None
                            raise damaged(
                                f"the header of the member {_shown(info.filename)} is damaged"
                            ) from None
                    if dtype.hasobject:
                        raise DataError(
                            f"{key}: expected plain numeric arrays in {path}, got the object "
                            f"array {_shown(name)}, which can only be read by unpickling; "
                            "unpickling can run code hidden in the file, so LayerLab refuses "
                            "it. Save numbers instead, e.g. "
                            f"np.savez(path, x=np.asarray(x, dtype='float32'))."
                        )
                    if any(d < 0 for d in shape):
                        raise damaged(f"the array {_shown(name)} claims a negative size")
                    nbytes = math.prod(shape) * dtype.itemsize  # Python ints: no overflow
                    total += nbytes
                    if nbytes > limit or total > limit:
                        claim = (
                            f"the array {_shown(name)} claims shape {_shape_text(shape)} of "
                            f"{dtype.name}, which is {_size_text(nbytes)}"
                        )
                        if nbytes <= limit:
                            claim += f", and all arrays so far {_size_text(total)}"
                        raise DataError(
                            f"{key}: expected arrays of at most {format_bytes(limit)} in all "
                            f"({why}) in {path}, but {claim}. Use a smaller data set, or "
                            "fewer or smaller samples."
                        )
                    if info.file_size != header_bytes + nbytes:
                        raise damaged(
                            f"the member {_shown(info.filename)} holds "
                            f"{format_bytes(info.file_size)} but its header claims "
                            f"{_size_text(header_bytes + nbytes)}; the file is damaged or "
                            "was made to mislead"
                        )
                    headers.append((info, name))
                for info, name in headers:
                    with archive.open(info) as member:
                        arrays[name] = np.lib.format.read_array(member, allow_pickle=False)
    except FileReadError as err:
        raise _file_error(err, "NPZ") from None
    except DataError:
        raise
    except _ZIP_ERRORS as err:
        raise damaged(err) from err
    return arrays


def _too_large(arr: np.ndarray) -> np.ndarray:
    """Row indices holding a finite value too large for float32 (float64 and wider only)."""
    if arr.dtype.kind != "f" or arr.dtype.itemsize <= 4 or arr.ndim == 0:
        return np.empty(0, dtype=np.int64)
    big = np.abs(arr.reshape(len(arr), -1)) > _FLOAT32_MAX
    return np.flatnonzero(big.any(axis=1))


def _load_npz(cfg: Mapping[str, Any], base_dir: Path | None) -> _Raw:
    path = _resolve_path(cfg, base_dir)
    arrays = _read_npz(path, "data.path")
    found = _names(sorted(arrays), quote=False) if arrays else "no arrays"
    if "x_train" in arrays and "y_train" in arrays:
        x, y = arrays["x_train"], arrays["y_train"]
        xt, yt = arrays.get("x_test"), arrays.get("y_test")
        if (xt is None) != (yt is None):
            raise DataError(
                f"data.path: expected x_test and y_test together in {path}, got {found}. "
                "Save both test arrays, or neither."
            )
    elif "x" in arrays and "y" in arrays:
        x, y, xt, yt = arrays["x"], arrays["y"], None, None
    else:
        raise DataError(
            f"data.path: expected arrays named x and y, or x_train and y_train (with optional "
            f"x_test and y_test), in {path}, got {found}. Save them with "
            "np.savez(path, x=features, y=labels)."
        )
    problems = []
    parts = [("x_train" if xt is not None else "x", x), ("y_train" if xt is not None else "y", y)]
    if xt is not None:
        parts += [("x_test", xt), ("y_test", yt)]
    for name, arr in parts:
        if arr.dtype.kind not in "biuf":
            problems.append(
                f"data.path: array {name!r} in {path}: expected numbers, got dtype "
                f"{str(arr.dtype)[:60]}. Convert it with .astype('float32') before saving."
            )
        elif arr.ndim == 0 or len(arr) == 0:
            problems.append(
                f"data.path: array {name!r} in {path}: expected one row per sample, got shape "
                f"{arr.shape}."
            )
        elif arr.dtype.kind == "f" and not np.isfinite(arr).all():
            bad = np.flatnonzero(~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1))
            problems.append(
                f"data.path: array {name!r} in {path}: expected finite numbers, got NaN or "
                f"infinity in {len(bad)} rows (first: {', '.join(map(str, bad[:5]))}). "
                "Fill in or remove those samples."
            )
        elif len(big := _too_large(arr)):
            problems.append(
                f"data.path: array {name!r} in {path}: expected numbers no larger than "
                f"{_FLOAT32_MAX:.3g} in size, the most float32 holds (LayerLab trains in "
                f"float32), got larger ones in {len(big)} rows (first: "
                f"{', '.join(map(str, big[:5]))}). Rescale the array before saving, e.g. "
                "divide it by a power of ten."
            )
    if not problems:
        for xs, ys, names in ((x, y, "x/y"), (xt, yt, "x_test/y_test")):
            if xs is not None and len(xs) != len(ys):
                problems.append(
                    f"data.path: arrays {names} in {path}: expected one label per sample, got "
                    f"{len(xs)} samples and {len(ys)} labels."
                )
        if xt is not None and x.shape[1:] != xt.shape[1:]:
            problems.append(
                f"data.path: expected x_test samples shaped like x_train's {x.shape[1:]}, got "
                f"{xt.shape[1:]} in {path}."
            )
    if problems:
        raise DataError(problems)
    x = x.reshape(-1, 1) if x.ndim == 1 else x
    xt = xt.reshape(-1, 1) if xt is not None and xt.ndim == 1 else xt
    features = tuple(f"x{i}" for i in range(x.shape[1])) if x.ndim == 2 else ()
    raw = _targets(y, yt, path)
    raw.x = x.astype(np.float32)
    raw.x_test = None if xt is None else xt.astype(np.float32)
    raw.feature_names = features
    return raw


def _targets(y: np.ndarray, yt: np.ndarray | None, path: Path) -> _Raw:
    """Decides from an NPZ's labels whether the task is classification or regression.

    Integer or boolean labels are classes; one-hot rows are classes; float labels are
    classes only when every value is a whole number from 0 to 19 (labels saved as floats),
    otherwise regression targets.
    """
    both = [a for a in (y, yt) if a is not None]
    if y.ndim == 2 and y.shape[1] == 1:
        both = [a.reshape(-1) for a in both]
    elif y.ndim == 2 and all(_is_one_hot(a) for a in both):
        both = [a.argmax(axis=1) for a in both]
    if both[0].ndim == 1:
        joined = np.concatenate(both)
        kind = joined.dtype.kind
        whole = kind in "biu" or (
            np.all(joined == np.round(joined)) and joined.min() >= 0 and joined.max() < 20
        )
        if whole:
            values, mapped = _map_labels(joined)
            if len(values) < 2:
                raise DataError(
                    f"data.path: expected at least 2 different labels in {path}, got only "
                    f"{values[0]!r}. A classifier needs examples of each class."
                )
            n = len(both[0])
            names = tuple(_label_name(v) for v in values)
            raw = _classification(np.empty((0,)), mapped[:n], len(values), names, ())
            raw.y_test = mapped[n:] if len(both) == 2 else None
            return raw
    return _Raw(
        x=np.empty((0,)),
        y=both[0].astype(np.float32),
        task="regression",
        num_classes=None,
        feature_names=(),
        class_names=None,
        y_test=None if len(both) == 1 else both[1].astype(np.float32),
    )


def _is_one_hot(a: np.ndarray) -> bool:
    return (
        a.ndim == 2
        and a.shape[1] > 1
        and bool(np.isin(a, (0, 1)).all())
        and bool((a.sum(axis=1) == 1).all())
    )


def _label_name(value: Any) -> str:
    value = value.item() if isinstance(value, np.generic) else value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _map_labels(values: np.ndarray) -> tuple[list[Any], np.ndarray]:
    """Class labels to 0..k-1 in sorted order; labels already 0..k-1 keep their numbers."""
    unique, inverse = np.unique(values, return_inverse=True)
    return list(unique), inverse.astype(np.int64).reshape(-1)


_MISSING_MARKERS = frozenset({"nan", "na", "n/a", "null", "none", "?", "-", "missing"})


def _check_utf8(data: bytes, path: Path) -> None:
    """Refuses bytes that are not UTF-8, naming the first bad byte, without making one str
    of the whole file (the rows are decoded as they are parsed)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    step = 1 << 20
    for start in range(0, len(data), step):
        pending = len(decoder.getstate()[0])
        try:
            decoder.decode(view[start : start + step], final=start + step >= len(data))
        except UnicodeDecodeError as err:
            raise DataError(
                f"data.path: expected a UTF-8 text CSV file, got bytes that are not UTF-8 text "
                f"in {path} (at byte {start - pending + err.start}). Save it as 'CSV UTF-8' "
                "from your spreadsheet."
            ) from None


def _check_line_lengths(data: bytes, path: Path) -> None:
    """Refuses a line longer than _MAX_CSV_LINE_BYTES before `csv.reader` sees it.

    `csv.reader` builds a whole row as one list before returning it, so one line of 200
    million commas would be a list of 200 million strings. The scan looks for a window of
    that many bytes holding no line break, jumping from the last break in each window to
    the next, so it runs at the speed of `bytes.rfind`.
    """
    width = _MAX_CSV_LINE_BYTES
    pos = 0
    while len(data) - pos > width:
        end = pos + width + 1
        last = max(data.rfind(b"\n", pos, end), data.rfind(b"\r", pos, end))
        if last < 0:
            line = (data.count(b"\n", 0, pos) or data.count(b"\r", 0, pos)) + 1
            raise DataError(
                f"data.path: expected lines of at most {format_bytes(width)} in {path.name} "
                f"(room for {MAX_CSV_COLUMNS:,} columns), got a longer one at line {line:,}. "
                "Check that data.path names the right file; a data table is never this wide."
            )
        pos = last + 1


def _read_csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header row and the non-blank rows with their numbers (the header is row 1).

    Reading is bounded: the file through `read_regular` (MAX_CSV_BYTES), each row's width
    by `_check_line_lengths` and MAX_CSV_COLUMNS, and the rows kept by an estimate of their
    memory against min(MAX_ARRAY_BYTES, memory_budget()). Blank lines are dropped by
    `filter` as they are parsed: a file of 200 million line breaks is never a list.
    """
    try:
        data = read_regular(path, MAX_CSV_BYTES, "CSV file")
    except FileReadError as err:
        raise _file_error(err, "CSV") from None
    _check_utf8(data, path)
    _check_line_lengths(data, path)
    delimiter = ","
    sample = data[: 4 * 8192].decode("utf-8-sig", "ignore")[:8192]
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except csv.Error:
        pass  # one column, or too irregular to guess: commas it is
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")
    reader = csv.reader(lines, delimiter=delimiter)
    limit = min(MAX_ARRAY_BYTES, memory_budget())
    records: list[tuple[int, list[str]]] = []
    cells = 0
    try:
        header = next(reader, [])
        for row in filter(None, reader):  # [] is a blank line
            if len(row) > MAX_CSV_COLUMNS:
                raise DataError(
                    f"data.path: expected at most {MAX_CSV_COLUMNS:,} columns in {path.name}, "
                    f"got a row (line {reader.line_num:,}) of {len(row):,} cells. Check that "
                    "data.path names the right file; a data table is never this wide."
                )
            if not any(map(str.strip, row)):
                continue
            if len(records) >= MAX_CSV_ROWS:
                raise DataError(
                    f"data.path: expected at most {MAX_CSV_ROWS:,} rows in {path.name}, got "
                    "more. Use a sample of the rows, or save the data with np.savez as an "
                    ".npz file (it loads without parsing text)."
                )
            # Row numbers as a spreadsheet shows them: the header is row 1.
            records.append((reader.line_num, row))
            cells += len(row)
            need = cells * _CSV_BYTES_PER_CELL + len(records) * _CSV_BYTES_PER_ROW
            if need > limit:
                raise DataError(
                    f"data.path: expected a CSV file that fits in {format_bytes(limit)} once "
                    f"parsed, got {path.name}, whose first {len(records):,} rows already need "
                    f"about {format_bytes(need)}. Use fewer rows, or save the data with "
                    "np.savez as an .npz file (it loads without parsing text)."
                )
    except csv.Error as err:
        raise DataError(
            f"data.path: expected well-formed CSV in {path}, got a syntax error near line "
            f"{reader.line_num:,} ({str(err)[:80]}). Check for an unclosed quote."
        ) from None
    if len(header) > MAX_CSV_COLUMNS:
        raise DataError(
            f"data.path: expected at most {MAX_CSV_COLUMNS:,} columns in {path.name}, got a "
            f"header of {len(header):,}. Check that data.path names the right file."
        )
    return header, records


def _cell_problem(cell: str) -> str | None:
    """Why a cell is not a usable number, or None when it is one."""
    text = cell.strip()
    if not text:
        return "an empty cell"
    if text.lower() in _MISSING_MARKERS:
        return f"the missing-value marker {text!r}"
    try:
        value = float(text)
    except ValueError:
        return f"the text {_shown(text)}"
    if not math.isfinite(value):
        return f"{_shown(text)}, which is not finite"
    return None


def _has_a_number(records: Iterable[tuple[int, list[str]]]) -> bool:
    """Whether any cell is a number (a real table's first row usually answers)."""
    return any(_cell_problem(c) is None for _, row in records for c in row)


def _load_csv(cfg: Mapping[str, Any], base_dir: Path | None) -> _Raw:
    """A CSV file: a header of column names, then one sample per row.

    What a message may quote of the file is kept short (`_shown`): a file with one column,
    no data rows or not a single number is not a data table, and is refused before any of
    its text is quoted, so pointing data.path at a file such as /etc/passwd shows none of
    it. Column names and cells are quoted only from files that look like tables.
    """
    path = _resolve_path(cfg, base_dir)
    header, records = _read_csv_rows(path)
    if not any(c.strip() for c in header):
        raise DataError(
            f"data.path: expected a header row of column names in {path}, got an empty file. "
            "Put the column names on the first line."
        )
    if len(header) == 1:
        raise DataError(
            f"data.path: expected a CSV file with at least two columns (inputs and a target) "
            f"in {path.name}, got one column: its first line has no comma, semicolon, tab or "
            "| between names. Check that data.path names the right file, and separate the "
            "columns with commas."
        )
    if not records:
        raise DataError(
            f"data.path: expected data rows under the header of {path.name}, got none. "
            "Add samples, one per row."
        )
    if not _has_a_number(records):
        raise DataError(
            f"data.path: expected a CSV file of numbers in {path.name}, got {len(records):,} "
            "rows in which no cell is a number, so it does not look like a data table. Check "
            "that data.path names the right file."
        )
    header = [c.strip() for c in header]
    problems = []
    dupes = sorted(c for c, n in Counter(header).items() if n > 1)
    if dupes:
        problems.append(
            f"data.path: expected unique column names in {path}, got "
            f"{_names(dupes)} more than once. Rename the repeated columns."
        )
    target = cfg["target"] if cfg["target"] is not None else header[-1]
    features = (
        cfg["features"] if cfg["features"] is not None else [c for c in header if c != target]
    )
    columns = set(header)
    for key, names in (("data.target", [target]), ("data.features", features)):
        for name in names:
            if name not in columns:
                problems.append(
                    f"{key}: expected a column of {path.name}, got {_shown(name)}; the columns "
                    f"are {_names(header)}.{_suggest_column(name, header)}"
                )
    if target in features:
        problems.append(
            f"data.features: expected input columns other than the target {_shown(target)}, "
            "got the target among them. Remove it from data.features."
        )
    if not features:
        problems.append(
            f"data.features: expected at least one input column besides the target "
            f"{_shown(target)} in {path.name}, got none. Add a feature column to the file."
        )
    if problems:
        raise DataError(problems)

    col = {name: j for j, name in reversed(list(enumerate(header)))}
    bad: list[str] = []
    short_rows = [
        f"{path.name} row {number}: expected {len(header)} cells like the header, got {len(r)}."
        for number, r in records
        if len(r) != len(header)
    ]
    if short_rows:
        raise DataError(_capped(short_rows, "rows", "Give every row one cell per column."))

    numbers = [number for number, _ in records]
    x = np.empty((len(records), len(features)), dtype=np.float64)
    for j, name in enumerate(features):
        cells = [r[col[name]] for _, r in records]
        issues = [_cell_problem(c) for c in cells]
        if all(issue is not None and issue.startswith("the text") for issue in issues):
            bad.append(
                f"{path.name} column {_shown(name)}: expected numbers, got text in every row "
                f"(row {records[0][0]}: {_shown(cells[0].strip())}). Leave it out with "
                "data.features, or turn it into numbers in the file."
            )
            continue
        for number, issue in zip(numbers, issues, strict=True):
            if issue is not None:
                bad.append(
                    f"{path.name} row {number}, column {_shown(name)}: expected a number, got "
                    f"{issue}."
                )
        if not any(issues):
            x[:, j] = [float(c) for c in cells]
            big = np.flatnonzero(np.abs(x[:, j]) > _FLOAT32_MAX)
            if len(big):
                bad.append(_too_large_cells(path, name, [numbers[i] for i in big]))

    targets = [r[col[target]].strip() for _, r in records]
    for number, cell in zip(numbers, targets, strict=True):
        if not cell or cell.lower() in _MISSING_MARKERS:
            shown = "an empty cell" if not cell else f"the missing-value marker {cell!r}"
            bad.append(
                f"{path.name} row {number}, column {_shown(target)} (the target): expected a "
                f"label or value, got {shown}."
            )
    if bad:
        raise DataError(
            _capped(
                bad,
                "problem cells",
                "LayerLab does not drop rows silently: fill in or delete these cells or rows in "
                "the file, or leave the columns out with data.features.",
            )
        )
    raw = _csv_target(targets, path, target, numbers)
    raw.x = x.astype(np.float32)
    raw.feature_names = tuple(features)
    return raw


def _too_large_cells(path: Path, name: str, rows: Sequence[int]) -> str:
    return (
        f"{path.name} column {_shown(name)}: expected numbers no larger than "
        f"{_FLOAT32_MAX:.3g} in size, the most float32 holds (LayerLab trains in float32), "
        f"got larger ones in rows {_rows_text(rows)}. Rescale the column, e.g. divide it by "
        "a power of ten."
    )


def _capped(lines: list[str], what: str, fix: str) -> list[str]:
    shown = lines[:MAX_LISTED_PROBLEMS]
    if len(lines) > MAX_LISTED_PROBLEMS:
        shown.append(f"... and {len(lines) - MAX_LISTED_PROBLEMS} more {what}.")
    shown.append(f"To fix: {fix}")
    return shown


def _csv_target(cells: list[str], path: Path, name: str, rows: Sequence[int]) -> _Raw:
    """Text labels are classes; whole numbers with few values are classes; others regression.

    `rows` are the cells' row numbers, for a message about values too large for float32.
    """
    numbers: list[float] | None = []
    for cell in cells:
        try:
            value = float(cell)
        except ValueError:
            numbers = None
            break
        if not math.isfinite(value):
            numbers = None
            break
        numbers.append(value)
    if numbers is not None:
        values = np.asarray(numbers)
        whole = bool(np.all(values == np.round(values)))
        if not whole or len(np.unique(values)) > MAX_CLASSES_FROM_FILE:
            big = np.flatnonzero(np.abs(values) > _FLOAT32_MAX)
            if len(big):
                raise DataError(
                    _capped(
                        [_too_large_cells(path, name, [rows[i] for i in big])],
                        "problem cells",
                        "rescale the target column in the file.",
                    )
                )
            return _Raw(np.empty((0,)), values.astype(np.float32), "regression", None, (), None)
        labels, mapped = _map_labels(values)
    else:
        labels, mapped = _map_labels(np.asarray(cells))
    if len(labels) < 2:
        raise DataError(
            f"data.target: expected at least 2 different values in column {_shown(name)} of "
            f"{path.name}, got only {_shown(_label_name(labels[0]))}. A classifier needs "
            "examples of each class; check that this is the right target column."
        )
    names = tuple(_label_name(v) for v in labels)
    return _classification(np.empty((0,)), mapped, len(labels), names, ())


# --------------------------------------------------------------------------------------
# Splitting and the public entry points


def _split_sizes(n: int, fractions: Sequence[float]) -> list[int]:
    """Rounds each fraction of n, giving at least one sample to any fraction above 0."""
    return [max(1, round(n * f)) if f > 0 else 0 for f in fractions]


def load_dataset(data: Mapping[str, Any] | None, base_dir: Path | None = None) -> Dataset:
    """Loads, splits, standardises and encodes the data a project describes.

    The same settings always give identical arrays: generated sets use `seed`, and the
    split shuffles with a generator derived from `seed`.

    Splits: `test_split` and `validation_split` are fractions of all samples (after the
    test part, the validation part, the rest trains). A source with its own test set
    (Keras's sets, an NPZ with x_test) keeps it as the test part and ignores `test_split`;
    `validation_split` is then a fraction of its training set. `samples` only sizes the
    generated and regression sets; real sets are used whole. A folder of images ("images")
    is split the same way but not read: its Dataset holds file lists (`image_data`).

    Args:
        data: the project's "data" settings; missing keys take `DATA_DEFAULTS`.
        base_dir: the project file's folder; a relative `path` is read from it (from the
            current folder when None).

    Returns:
        The Dataset.

    Raises:
        DataError: for bad settings or an unusable file, with every problem found.
    """
    cfg = resolve_data(data)
    source = cfg["source"]
    if source in IMAGE_SOURCES:
        from .image_data import load_image_dataset

        return load_image_dataset(cfg, base_dir)
    if source in GENERATED_SOURCES:
        raw = _load_generated(cfg)
    elif source in REGRESSION_SOURCES:
        raw = _load_regression(cfg)
    elif source in SKLEARN_SOURCES:
        raw = _load_sklearn(cfg)
    elif source in KERAS_SOURCES:
        raw = _load_keras(cfg)
    elif source == "csv":
        raw = _load_csv(cfg, base_dir)
    else:
        raw = _load_npz(cfg, base_dir)
    if raw.task == "regression" and cfg["labels"] == "one_hot":
        raise DataError(
            f"data.labels: expected 'integer' for this {source} data, whose target holds "
            "measured values (regression) rather than classes, got 'one_hot'. Set labels to "
            "'integer', or use a target of class names."
        )
    return _assemble(raw, cfg)


def _assemble(raw: _Raw, cfg: Mapping[str, Any]) -> Dataset:
    n = len(raw.x)
    own_test = raw.x_test is not None
    n_test, n_val = _split_sizes(
        n, (0.0 if own_test else cfg["test_split"], cfg["validation_split"])
    )
    if n - n_test - n_val < 1:
        raise DataError(
            f"data.validation_split: expected some of the {n} samples left for training, got "
            f"{n_test} test and {n_val} validation samples, leaving none. Lower the splits or "
            "add samples."
        )
    order = np.random.default_rng([cfg["seed"], 0x5EED]).permutation(n)
    x, y = raw.x[order], raw.y[order]
    x_test, y_test = (raw.x_test, raw.y_test) if own_test else (x[:n_test], y[:n_test])
    x_val, y_val = x[n_test : n_test + n_val], y[n_test : n_test + n_val]
    x_train, y_train = x[n_test + n_val :], y[n_test + n_val :]

    mean = std = None
    if cfg["standardize"]:
        mean = x_train.mean(axis=0, dtype=np.float64)
        std = x_train.std(axis=0, dtype=np.float64)
        std[std == 0] = 1.0
        mean, std = mean.astype(np.float32), std.astype(np.float32)

        def scale(a: np.ndarray) -> np.ndarray:
            return ((a - mean) / std).astype(np.float32)

        x_train, x_val = scale(x_train), scale(x_val)
        x_test = None if x_test is None else scale(x_test)

    if cfg["labels"] == "one_hot" and raw.num_classes is not None:
        eye = np.eye(raw.num_classes, dtype=np.float32)
        y_train, y_val = eye[y_train], eye[y_val]
        y_test = None if y_test is None else eye[y_test]

    x_test = x_test if x_test is not None and len(x_test) else None
    y_test = y_test if x_test is not None else None
    has_val = n_val > 0
    description = _describe(cfg, raw, len(x_train), n_val, 0 if x_test is None else len(x_test))
    return Dataset(
        x_train=np.ascontiguousarray(x_train),
        y_train=np.ascontiguousarray(y_train),
        x_val=np.ascontiguousarray(x_val) if has_val else None,
        y_val=np.ascontiguousarray(y_val) if has_val else None,
        x_test=None if x_test is None else np.ascontiguousarray(x_test),
        y_test=None if y_test is None else np.ascontiguousarray(y_test),
        task=raw.task,
        num_classes=raw.num_classes,
        feature_names=raw.feature_names,
        class_names=raw.class_names,
        mean=mean,
        std=std,
        description=description,
    )


def _describe(cfg: Mapping[str, Any], raw: _Raw, n_train: int, n_val: int, n_test: int) -> str:
    name = Path(cfg["path"]).name if cfg["source"] in FILE_SOURCES else cfg["source"]
    parts = [f"{n_train} train"]
    if n_val:
        parts.append(f"{n_val} validation")
    if n_test:
        parts.append(f"{n_test} test")
    shape = raw.x.shape[1:]
    if len(shape) == 1:
        inputs = f"{shape[0]} feature{'s' if shape[0] != 1 else ''}"
    else:
        inputs = f"{'x'.join(map(str, shape))} inputs"
    kind = "regression" if raw.num_classes is None else f"{raw.num_classes} classes"
    scaled = ", standardised" if cfg["standardize"] else ""
    return f"{name}: {' / '.join(parts)} samples, {inputs}, {kind}{scaled}"


def _as_indices(y: Any, num_classes: int) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == num_classes and num_classes > 1:
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    if y.size and (y.min() < 0 or y.max() >= num_classes):
        raise DataError(
            f"labels: expected class indices from 0 to {num_classes - 1}, got values from "
            f"{y.min()} to {y.max()}. Check num_classes against the labels."
        )
    return y.astype(np.int64)


def class_counts(y: Any, num_classes: int) -> tuple[int, ...]:
    """Samples per class, for integer labels or one-hot rows (absent classes count 0)."""
    return tuple(int(c) for c in np.bincount(_as_indices(y, num_classes), minlength=num_classes))


def compute_class_weight(y: Any, num_classes: int) -> dict[int, float]:
    """Class weights that make every class count as much in the loss as the others.

    The same numbers as scikit-learn's `compute_class_weight("balanced", ...)`:
    n_samples / (n_classes * count_of_class). scikit-learn refuses a class with no samples;
    here it gets weight 1.0, which changes nothing because no sample carries it.

    Args:
        y: integer class labels, shape (n,), or one-hot rows, shape (n, num_classes).
        num_classes: the number of classes.

    Returns:
        {class index: weight} for every class, as `model.fit(class_weight=...)` takes it.
    """
    counts = np.asarray(class_counts(y, num_classes), dtype=np.float64)
    total = counts.sum()
    return {i: float(total / (num_classes * c)) if c > 0 else 1.0 for i, c in enumerate(counts)}
