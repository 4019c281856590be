"""`layerlab export`: a standalone Python script that trains the project without LayerLab.

The script uses only Keras and NumPy (plus scikit-learn for its bundled datasets, the
standard csv module for CSV files, and TensorFlow's tf.data for a folder of images, which
it reads with the engine's own pipeline: `image_pipeline`'s functions are copied in). It rebuilds the data exactly as `data.load_dataset`
does (the generators of the built-in sets are copied from `data.py` itself, so they
cannot drift), sets the seed, and then runs the model, compile and fit code of
`codegen.model_code()`, the same text the window's code pane shows. Run with the same
Keras backend on the CPU, it trains to the same numbers as LayerLab's own session. With
`loop=True` (`layerlab export --loop`) the same data, seed, class weights and model
(`codegen.sequential_code`) are followed by `codegen_loop.training_loop_lines()`: the
training written out as a tf.GradientTape loop instead of the compile and fit calls.

The project (and so every path, column and name in it) may come from a stranger, while
the script runs with the rights of whoever exports it. So, as in codegen, every project
value enters the script through `codegen.literal()` and every piece of project text shown
to a reader (the docstring, the data comment) through `codegen.comment_text()`; no f-string
here puts project text between quotes or into a comment by itself.
"""

from __future__ import annotations

import inspect
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from . import data as data_mod
from .codegen import (
    UnsafeCodeError,
    comment_text,
    identifier,
    literal,
    model_code,
    sequential_code,
)
from .codegen_loop import training_loop_lines
from .data import (
    CLASS_SOURCES,
    GENERATED_SOURCES,
    KERAS_SOURCES,
    SKLEARN_SOURCES,
    Dataset,
    load_dataset,
    resolve_data,
)
from .project import ProjectError, checked_fit
from .spec import FitSpec, ObjectSpec, Project
from .training import image_pipeline, virtual_epoch_plan

__all__ = ["export_script"]

DESCRIPTION_LIMIT = 200  # characters of the data's description in its comment line

_KERAS_LOADERS = {
    "keras:mnist": "mnist",
    "keras:fashion_mnist": "fashion_mnist",
    "keras:cifar10": "cifar10",
}


def _path(value: Any) -> str:
    """`codegen.literal` in `repr`'s spelling ('shapes.csv', ['a', 'b']), as scripts have
    always written paths and column names; safe the same way, item by item for a list."""
    if isinstance(value, list):
        return "[" + ", ".join(_path(item) for item in value) + "]"
    return literal(value, quote="'")


def _known(source: Any, sources: Any) -> str:
    """`source`, which is about to be written into code, checked to be one of `sources`.

    `resolve_data` has checked it already; this keeps the code below safe on its own.

    Raises:
        UnsafeCodeError: for any other value.
    """
    if not isinstance(source, str) or source not in sources:
        raise UnsafeCodeError(f"data.source: {ascii(source)[:60]} is not a source this script "
                              "can load")
    return source


def _source_of(function: Any) -> str:
    """A function's source from data.py, renamed for a script (no leading underscores)."""
    text = inspect.getsource(function)
    text = text.replace("Sequence[int]", "list[int]")
    text = re.sub(r"\b_gen_(\w+)", r"make_\1", text)
    text = re.sub(r"\b_per_class\b", "per_class", text)
    return re.sub(r"\b_labels\b", "labels_for", text)


def _generated_code(cfg: Mapping[str, Any]) -> list[str]:
    source = _known(cfg["source"], GENERATED_SOURCES)
    k = cfg["classes"] if source in CLASS_SOURCES else 2
    samples, seed = literal(cfg["samples"]), literal(cfg["seed"])
    lines = [_source_of(data_mod._per_class), "", _source_of(data_mod._labels), ""]
    if source == "blobs":
        lines.append(f"BLOB_MEANS = {data_mod.BLOB_MEANS!r}")
        lines.append(f"BLOB_COVS = {data_mod.BLOB_COVS!r}")
        lines.append("")
        lines.append("")
    lines += [_source_of(data_mod._GENERATORS[source]), ""]
    lines += [
        "def load_raw():",
        f'    """{comment_text(samples)} samples of the {source!r} set, noise {cfg["noise"]:g}, '
        f'seed {comment_text(seed)}."""',
        f"    rng = np.random.default_rng({seed})",
        f"    x, y = make_{source}(rng, {samples}, {literal(k)})",
    ]
    if cfg["noise"] > 0:
        lines.append(f"    x = x + rng.normal(0.0, {literal(cfg['noise'])}, x.shape)")
    lines.append("    return np.asarray(x, dtype=np.float32), np.asarray(y, dtype=np.int64), "
                 "None, None")
    return lines


def _regression_code(cfg: Mapping[str, Any]) -> list[str]:
    n, noise, seed = literal(cfg["samples"]), cfg["noise"], literal(cfg["seed"])
    if cfg["source"] == "sine":
        body = [
            f'    """y = sin(x) + noise for x in [-3, 3]: {comment_text(n)} samples, '
            f'noise {noise:g}."""',
            f"    rng = np.random.default_rng({seed})",
            f"    x = rng.uniform(-3.0, 3.0, ({n}, 1))",
            f"    y = np.sin(x[:, 0]) + rng.normal(0.0, {literal(noise)}, {n})",
        ]
    else:
        body = [
            '    """House prices (in 100,000s) from floor area (m^2) and number of rooms."""',
            f"    rng = np.random.default_rng({seed})",
            f"    area = rng.uniform(30.0, 200.0, {n})",
            f"    rooms = np.clip(np.round(area / 28.0 + rng.normal(0.0, 0.7, {n})), 1, 8)",
            "    price = 0.4 + 0.025 * area + 0.15 * rooms + 0.00004 * area**2",
            f"    y = price + rng.normal(0.0, {literal(noise)}, {n}) * 1.5",
            "    x = np.stack([area, rooms], axis=1)",
        ]
    return ["def load_raw():", *body,
            "    return x.astype(np.float32), y.astype(np.float32), None, None"]


def _sklearn_code(cfg: Mapping[str, Any]) -> list[str]:
    source = identifier(_known(cfg["source"], SKLEARN_SOURCES), what="data source")
    return [
        "def load_raw():",
        f'    """scikit-learn\'s bundled {source} dataset."""',
        f"    bunch = datasets.load_{source}()",
        "    x = np.ascontiguousarray(bunch.data, dtype=np.float32)",
        "    return x, np.asarray(bunch.target, dtype=np.int64), None, None",
    ]


def _keras_code(cfg: Mapping[str, Any]) -> list[str]:
    name = _KERAS_LOADERS[cfg["source"]]
    return [
        "def load_raw():",
        f'    """keras.datasets.{name}, pixels scaled to [0, 1]; it has its own test set."""',
        f"    (x, y), (x_test, y_test) = keras.datasets.{name}.load_data()",
        "    x = np.asarray(x, dtype=np.float32) / np.float32(255.0)",
        "    x_test = np.asarray(x_test, dtype=np.float32) / np.float32(255.0)",
        "    y = np.asarray(y, dtype=np.int64).reshape(-1)",
        "    return x, y, x_test, np.asarray(y_test, dtype=np.int64).reshape(-1)",
    ]


def _csv_code(cfg: Mapping[str, Any], task: str) -> list[str]:
    lines = [
        "def load_raw():",
        '    """The CSV file: numeric feature columns and one target column."""',
        '    with open(DATA_PATH, newline="", encoding="utf-8-sig") as handle:',
        "        text = handle.read()",
        "    try:",
        '        delimiter = csv.Sniffer().sniff(text[:8192], delimiters=",;\\t|").delimiter',
        "    except csv.Error:",
        '        delimiter = ","',
        "    rows = list(csv.reader(io.StringIO(text, newline=\"\"), delimiter=delimiter))",
        "    header = [cell.strip() for cell in rows[0]]",
        "    rows = [row for row in rows[1:] if any(cell.strip() for cell in row)]",
        f"    target = {_path(cfg['target'])}" if cfg["target"] else
        "    target = header[-1]  # the last column",
        f"    features = {_path(list(cfg['features']))}" if cfg["features"] else
        "    features = [c for c in header if c != target]  # all the others",
        "    columns = {name: header.index(name) for name in header}",
        "    x = np.array([[float(row[columns[f]]) for f in features] for row in rows],",
        "                 dtype=np.float32)",
        "    cells = [row[columns[target]].strip() for row in rows]",
    ]
    if task == "regression":
        lines.append("    y = np.array([float(c) for c in cells], dtype=np.float32)")
    else:
        lines += [
            "    try:  # numeric labels sort as numbers, text labels as text",
            "        values = np.array([float(c) for c in cells])",
            "    except ValueError:",
            "        values = np.array(cells)",
            "    classes, y = np.unique(values, return_inverse=True)",
            "    y = y.astype(np.int64).reshape(-1)",
        ]
    lines.append("    return x, y, None, None")
    return lines


def _npz_code(cfg: Mapping[str, Any], task: str) -> list[str]:
    lines = [
        "def load_raw():",
        '    """The .npz file: arrays x and y, or x_train, y_train (and x_test, y_test)."""',
        "    with np.load(DATA_PATH, allow_pickle=False) as npz:",
        "        arrays = {name: npz[name] for name in npz.files}",
        '    if "x_train" in arrays:',
        '        x, y = arrays["x_train"], arrays["y_train"]',
        '        x_test, y_test = arrays.get("x_test"), arrays.get("y_test")',
        "    else:",
        '        x, y, x_test, y_test = arrays["x"], arrays["y"], None, None',
        "    x = x.reshape(-1, 1) if x.ndim == 1 else x",
        "    if x_test is not None and x_test.ndim == 1:",
        "        x_test = x_test.reshape(-1, 1)",
        "    labels = [a for a in (y, y_test) if a is not None]",
        "    if y.ndim == 2 and y.shape[1] == 1:",
        "        labels = [a.reshape(-1) for a in labels]",
    ]
    if task == "regression":
        lines += [
            "    y = labels[0].astype(np.float32)",
            "    y_test = labels[1].astype(np.float32) if len(labels) == 2 else None",
        ]
    else:
        lines += [
            "    elif y.ndim == 2:  # one-hot rows",
            "        labels = [a.argmax(axis=1) for a in labels]",
            "    classes, mapped = np.unique(np.concatenate(labels), return_inverse=True)",
            "    mapped = mapped.astype(np.int64).reshape(-1)",
            "    y = mapped[: len(labels[0])]",
            "    y_test = mapped[len(labels[0]):] if len(labels) == 2 else None",
        ]
    lines += [
        "    x_test = None if x_test is None else x_test.astype(np.float32)",
        "    return x.astype(np.float32), y, x_test, y_test",
    ]
    return lines


def _images_code(cfg: Mapping[str, Any], dataset: Any, fit: FitSpec) -> list[str]:
    """A folder of images: listed as LayerLab lists it (the same classes and files, in the
    same order; the files LayerLab left out named in SKIPPED), split by the same seed, and
    read through the same tf.data pipeline (`load_image` and `image_batches` are copied
    from core/training/image_pipeline.py, `split_indices` from core/image_data.py)."""
    from . import image_data
    from .images import IMAGE_EXTENSIONS, SYSTEM_FOLDERS
    from .limits import MAX_IMAGE_FOLDER_DEPTH

    h, w = (int(v) for v in cfg["image_size"])
    k = int(dataset.num_classes)
    skipped = sorted(dataset.scan.skipped)
    repeat = bool(fit.virtual_epochs or fit.steps_per_epoch)
    lines = [
        f"IMAGE_SIZE = {literal((h, w))}",
        f"CHANNELS = {literal(image_data.COLOR_MODES[cfg['color_mode']])}  "
        f"# {comment_text(cfg['color_mode'])}",
        f"BATCH_SIZE = {literal(fit.batch_size)}",
        "# Decoded images stay in memory after the first epoch when they fit (as in LayerLab).",
        f"CACHE = {literal(bool(dataset.cache))}",
        "# Files named as images that LayerLab left out (not images, damaged, links out of the",
        "# folder, ...): `layerlab check` says why for each.",
        ("SKIPPED = {" + ", ".join(_path(f) for f in skipped) + "}") if skipped
        else "SKIPPED = set()",
        "",
        "",
        "def list_images(root, skipped):",
        '    """The class folders (sorted by name) and their image files, in sub-folders too."""',
        f"    extensions = {literal(IMAGE_EXTENSIONS)}",
        "",
        "    def usable(name):  # not hidden, not a zip tool's folder, valid UTF-8",
        "        try:",
        '            name.encode("utf-8")',
        "        except UnicodeEncodeError:",
        "            return False",
        f'        return not name.startswith(".") and name not in {literal(sorted(SYSTEM_FOLDERS))}',
        "",
        "    classes = sorted(entry.name for entry in os.scandir(root)",
        "                     if entry.is_dir(follow_symlinks=False) and usable(entry.name))",
        "    files, labels = [], []",
        "    for label, name in enumerate(classes):",
        "        found = []",
        "        top = os.path.join(root, name)",
        "        for folder, subfolders, names in os.walk(top):",
        "            depth = 0 if folder == top else len(os.path.relpath(folder, top).split(os.sep))",
        f"            subfolders[:] = [d for d in subfolders if usable(d) and depth < "
        f"{literal(MAX_IMAGE_FOLDER_DEPTH)}]",
        "            for file in names:",
        "                if usable(file) and file.lower().endswith(extensions):",
        '                    rel = os.path.relpath(os.path.join(folder, file), root).replace(os.sep, "/")',
        "                    if rel not in skipped:",
        "                        found.append(rel)",
        "        files += sorted(found)",
        "        labels += [label] * len(found)",
        "    return classes, files, np.array(labels, dtype=np.int64)",
        "",
        "",
        inspect.getsource(image_data.split_indices).rstrip(),
        "",
        "",
        inspect.getsource(image_pipeline.load_image).rstrip(),
        "",
        "",
        inspect.getsource(image_pipeline.image_batches).rstrip(),
        "",
        "",
        "classes, files, labels = list_images(DATA_PATH, SKIPPED)",
        "paths = [os.path.join(DATA_PATH, *f.split(\"/\")) for f in files]",
        f"train, val, test = split_indices(len(files), {literal(cfg['seed'])}, "
        f"{literal(cfg['test_split'])}, {literal(cfg['validation_split'])})",
    ]
    if cfg["labels"] == "one_hot":
        lines.append(f"labels = np.eye({literal(k)}, dtype=np.float32)[labels]  # one-hot labels")
    lines += [
        "train_files = [paths[i] for i in train]",
        "y_train = labels[train]",
        "",
        "",
        "def batches(rows, shuffle=False, repeat=False):",
        "    if not len(rows):",
        "        return None",
        "    return image_batches([paths[i] for i in rows], labels[rows], IMAGE_SIZE, CHANNELS,",
        "                         BATCH_SIZE, shuffle=shuffle, seed=SEED, cache=CACHE, repeat=repeat)",
        "",
        "",
        f"train_ds = batches(train, shuffle={literal(bool(fit.shuffle))}, "
        f"repeat={literal(repeat)})",
        "val_ds = batches(val)",
        "test_ds = batches(test)",
    ]
    return lines


def _split_code(cfg: Mapping[str, Any], num_classes: int | None) -> list[str]:
    test = literal(cfg["test_split"])
    if cfg["source"] in KERAS_SOURCES or cfg["source"] == "npz":
        test = f"0.0 if own_test else {test}"  # a source's own test set wins
    lines = [
        "def split(x, y, x_test, y_test):",
        '    """Test, validation and training parts, shuffled with the data seed."""',
        "    n = len(x)",
        "    own_test = x_test is not None",
        f"    fractions = ({test}, {literal(cfg['validation_split'])})",
        "    n_test, n_val = [max(1, round(n * f)) if f > 0 else 0 for f in fractions]",
        f"    order = np.random.default_rng([{literal(cfg['seed'])}, 0x5EED]).permutation(n)",
        "    x, y = x[order], y[order]",
        "    if not own_test:",
        "        x_test, y_test = x[:n_test], y[:n_test]",
        "    x_val, y_val = x[n_test:n_test + n_val], y[n_test:n_test + n_val]",
        "    x_train, y_train = x[n_test + n_val:], y[n_test + n_val:]",
    ]
    if cfg["standardize"]:
        lines += [
            "    # Standardise with the training part's mean and spread only.",
            "    mean = x_train.mean(axis=0, dtype=np.float64)",
            "    std = x_train.std(axis=0, dtype=np.float64)",
            "    std[std == 0] = 1.0",
            "    mean, std = mean.astype(np.float32), std.astype(np.float32)",
            "    x_train = ((x_train - mean) / std).astype(np.float32)",
            "    x_val = ((x_val - mean) / std).astype(np.float32)",
            "    if x_test is not None:",
            "        x_test = ((x_test - mean) / std).astype(np.float32)",
        ]
    if cfg["labels"] == "one_hot" and num_classes is not None:
        lines += [
            f"    eye = np.eye({literal(num_classes)}, dtype=np.float32)  # one-hot labels",
            "    y_train, y_val = eye[y_train], eye[y_val]",
            "    if y_test is not None:",
            "        y_test = eye[y_test]",
        ]
    lines += [
        "    if x_test is not None and len(x_test) == 0:",
        "        x_test = y_test = None",
        "    if len(x_val) == 0:",
        "        x_val = y_val = None",
        "    return x_train, y_train, x_val, y_val, x_test, y_test",
    ]
    return lines


def _project_dir_line(base_dir: Path | None, script_path: Path | None) -> list[str]:
    if base_dir is None:
        return []
    base = Path(base_dir).resolve()
    if script_path is not None:
        here = Path(script_path).resolve().parent
        try:
            rel = os.path.relpath(base, here)
        except ValueError:  # another drive on Windows
            rel = None
        if rel is not None:
            target = "HERE" if rel == "." else f"HERE / {_path(rel)}"
            return [
                "# Relative paths (data, logs, checkpoints) are read from the project's folder,",
                "# as in LayerLab.",
                "HERE = Path(__file__).resolve().parent",
                f"os.chdir({target})",
            ]
    return [
        "# Relative paths (data, logs, checkpoints) are read from the project's folder,",
        "# as in LayerLab.",
        f"os.chdir({_path(str(base))})",
    ]


def export_script(
    project: Project,
    base_dir: Path | None = None,
    script_path: Path | None = None,
    dataset: Dataset | None = None,
    loop: bool = False,
) -> str:
    """The project as a runnable, readable Python script.

    Args:
        project: the project.
        base_dir: the project file's folder; relative data and callback paths are read
            from it (the script changes into it).
        script_path: where the script will be saved, so that the project folder can be
            written relative to it; the absolute folder is written when None.
        dataset: the loaded data, when the caller has it. The data is loaded here when the
            script needs facts only the data knows (a CSV or NPZ target's kind, the
            training-set size for virtual epochs).
        loop: train with an explicit `tf.GradientTape` loop (`codegen_loop`) instead of
            `model.fit`; the data, the model, the seed and the class weights are the same
            lines either way.

    Raises:
        DataError: when the data has to be loaded and cannot be.
        ProjectError: for an invalid fit section.
        LoopExportError: with `loop`, for an optimizer, loss or metric LayerLab does not
            know.
    """
    cfg = resolve_data(project.data or None)
    fit = checked_fit(project.fit)
    source = cfg["source"]
    needs_data = source in ("csv", "npz", "images") or bool(fit.virtual_epochs)
    if dataset is None and needs_data:
        dataset = load_dataset(project.data or None, base_dir)
    task = dataset.task if dataset is not None else None
    num_classes = dataset.num_classes if dataset is not None else _classes_of(cfg)

    if loop:
        about = [
            "Rebuilds the data, the model and the compile settings of the project, with the",
            "same seeds, and trains it with a loop written out (tf.GradientTape) instead of",
            "model.fit: the steps fit takes, one by one. Needs keras, numpy and tensorflow"
            + (" (and scikit-learn)." if source in SKLEARN_SOURCES else "."),
        ]
    else:
        about = [
            "Rebuilds the data, the model, its compile settings and the fit call of the "
            "project,",
            "with the same seeds, and trains it. Needs only keras and numpy"
            + (" (and scikit-learn)." if source in SKLEARN_SOURCES else
               " (and tensorflow, for tf.data)." if source == "images" else "."),
        ]
    header = [
        f'"""{comment_text(project.name)}: a Keras model exported from LayerLab.',
        "",
        *about,
        "",
        "    python this_script.py",
        '"""',
        "",
    ]
    imports = []
    if source == "csv":
        imports += ["import csv", "import io"]
    chdir = _project_dir_line(base_dir, script_path)
    folders = _callback_folders(fit)
    if chdir or folders or source == "images" or loop:
        imports.append("import os")
    if any("HERE" in line for line in chdir):
        imports.append("from pathlib import Path")
    if loop:
        imports += ["", "# The loop uses TensorFlow's GradientTape, so Keras runs on TensorFlow.",
                    'os.environ["KERAS_BACKEND"] = "tensorflow"']
    imports += ["", "import keras", "import numpy as np"]
    if loop:
        imports.append("import tensorflow as tf")
    if source in SKLEARN_SOURCES:
        imports.append("from sklearn import datasets")
    imports += ["from keras import layers", ""]
    lines = header + imports + chdir + ([""] if chdir else [])
    if folders:
        lines.append("# Keras does not create the folders its callbacks write into.")
        lines += [f"os.makedirs({_path(folder)}, exist_ok=True)" for folder in folders]
        lines.append("")
    if source in ("csv", "npz", "images"):
        lines.append(f"DATA_PATH = {_path(str(cfg['path']))}")
    seed = fit.seed
    lines += [f"SEED = {literal(seed)}", "", ""]
    about = dataset.description if dataset is not None else source
    lines.append(f"# --- Data: {comment_text(about, DESCRIPTION_LIMIT)} ---")
    lines.append("")
    if source in GENERATED_SOURCES:
        body = _generated_code(cfg)
    elif source in ("sine", "housing"):
        body = _regression_code(cfg)
    elif source in SKLEARN_SOURCES:
        body = _sklearn_code(cfg)
    elif source in KERAS_SOURCES:
        body = _keras_code(cfg)
    elif source == "csv":
        body = _csv_code(cfg, task or "binary")
    elif source == "npz":
        body = _npz_code(cfg, task or "binary")
    if source == "images":
        lines += _images_code(cfg, dataset, fit) + [""]
    else:
        lines += body + ["", ""] + _split_code(cfg, num_classes) + ["", ""]
        lines.append("x_train, y_train, x_val, y_val, x_test, y_test = split(*load_raw())")
        lines.append("")

    lines += ["", "# --- Model, the compile pieces and the training loop ---" if loop
              else "# --- Model, compile and fit ---", ""]
    if seed is not None:
        lines.append("# One seed for the weights, the shuffling and dropout: runs repeat on a CPU.")
        lines.append("keras.utils.set_random_seed(SEED)")
        lines.append("")
    weights = fit.class_weight
    if weights == "balanced":
        lines += [
            "# Balanced class weights: n_samples / (n_classes * samples of the class).",
            "labels = y_train.argmax(axis=1) if y_train.ndim == 2 else y_train",
            f"counts = np.bincount(labels.astype(np.int64), minlength={literal(num_classes)})",
            f"class_weight = {{i: float(len(labels) / ({literal(num_classes)} * c)) if c else 1.0",
            "                for i, c in enumerate(counts)}",
        ]
    elif weights:
        table = {int(k): float(v) for k, v in weights.items()}
        if num_classes:
            table = {i: table.get(i, 1.0) for i in range(num_classes)}
        lines.append(f"class_weight = {literal(table)}")
    if weights:
        lines.append("")
    code_fit = fit
    virtual = fit.virtual_epochs
    if virtual and source != "images":  # a folder's pipeline repeats (codegen writes it)
        assert dataset is not None
        try:
            plan = virtual_epoch_plan(float(virtual["stop_point"]), int(virtual["checkpoints"]),
                                      len(dataset.x_train), int(fit.batch_size))
        except ValueError as exc:  # within each limit, but too many examples together
            raise ProjectError([f"fit.{exc}"]) from None
        count = plan.steps_per_epoch * int(fit.batch_size) * plan.epochs
        rng = "np.random.default_rng([SEED, 0])" if seed is not None else \
            "np.random.default_rng()"
        lines += [
            f"# Virtual epochs: show {comment_text(literal(virtual['stop_point']))} x the "
            f"training data ({plan.total_examples} examples) in",
            f"# {plan.epochs} checkpoints of {plan.steps_per_epoch} batches. The passes are "
            "laid end to end, each",
            f"# freshly shuffled, so {'the loop' if loop else 'fit'} runs over them in order.",
            f"passes = -(-{literal(count)} // len(x_train))",
        ]
        if fit.shuffle:
            lines += [
                f"order_rng = {rng}",
                "order = np.concatenate([order_rng.permutation(len(x_train)) "
                f"for _ in range(passes)])[:{literal(count)}]",
            ]
        else:
            lines.append(f"order = np.tile(np.arange(len(x_train)), passes)[:{literal(count)}]")
        lines += ["x_train, y_train = x_train[order], y_train[order]", ""]
        code_fit = fit.replace(virtual_epochs=None, epochs=plan.epochs,
                               steps_per_epoch=plan.steps_per_epoch, shuffle=False)
    code_project = project.replace(data=cfg, fit=code_fit)
    if loop:
        lines += sequential_code(code_project) + [""] + training_loop_lines(code_project)
    else:
        lines.append(model_code(code_project).rstrip("\n"))
    logged = "history.items()" if loop else "history.history.items()"
    lines += [
        "",
        "model.summary()",
        f'print("final:", {{key: values[-1] for key, values in {logged}}})',
    ]
    if loop:  # the loop's own evaluation: model.evaluate needs a compiled model
        test = "evaluate(test_ds)" if source == "images" else "evaluate(x_test, y_test)"
    elif source == "images":
        test = "model.evaluate(test_ds, verbose=0, return_dict=True)"
    else:
        test = "model.evaluate(x_test, y_test, verbose=0, return_dict=True)"
    lines += [f"if {'test_ds' if source == 'images' else 'x_test'} is not None:",
              f'    print("test:", {test})']
    return "\n".join(lines) + "\n"


def _callback_folders(fit: FitSpec) -> list[str]:
    """Folders that CSVLogger and ModelCheckpoint files go into (the session makes them too)."""
    folders: list[str] = []
    for item in fit.callbacks or []:
        spec = ObjectSpec.from_json(item)
        key = {"CSVLogger": "filename", "ModelCheckpoint": "filepath"}.get(spec.type)
        value = spec.args.get(key) if key else None
        if isinstance(value, str):
            try:
                value = os.path.expanduser(value)
            except ValueError:  # "~user" with a name no user can have (a NUL, a surrogate)
                pass
            parent = os.path.dirname(value)
            if parent and parent not in folders:
                folders.append(parent)
    return folders


def _classes_of(cfg: Mapping[str, Any]) -> int | None:
    """Classes known from the settings alone (None for regression and loaded files)."""
    source = cfg["source"]
    if source in GENERATED_SOURCES:
        return cfg["classes"] if source in CLASS_SOURCES else 2
    if source in KERAS_SOURCES:
        return 10
    if source in SKLEARN_SOURCES:
        return {"digits": 10, "iris": 3, "wine": 3, "breast_cancer": 2}[source]
    return None
