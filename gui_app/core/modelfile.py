"""Opening trained Keras models (`.keras`, legacy `.h5`) without running anything stored in them.

A model file is a description (JSON) plus arrays of numbers (HDF5). Keras turns the
description back into objects with its deserialiser, and that deserialiser is where every
published attack lives: `keras.saving.load_model(..., safe_mode=True)` has been bypassed
again and again (CVE-2025-1550, CVE-2025-8747, CVE-2025-9905, CVE-2025-49655,
CVE-2026-1462, CVE-2026-12481, ...) through Lambda layers, `module`/`registered_name`
lookups that import arbitrary code, TFSMLayer and TorchModuleWrapper (which load programs
or pickles), file paths in configs (StringLookup vocabularies read any local file), and
configs that call functions while they are being rebuilt. A deny-list inside the
deserialiser has to be right about every class it can reach; one miss is code execution.

So LayerLab never hands the file's description to Keras at all:

1. The file is read with `zipfile`/`h5py` and `json` only, with limits on every size
   (members, config, arrays, nesting), refusing archives with unexpected members,
   HDF5 links or external storage that reach outside the file, and anything that is
   not plain data.
2. The description is checked against an allow-list: a top-level Sequential whose layers
   are all in LayerLab's catalog, every nested object (dtype policy, initializer,
   regularizer, constraint) from a known Keras module and class with plain-number
   settings, every key one that Keras itself writes for that class, no string that looks
   like a path. What passes becomes a LayerLab `ModelSpec`: a few names and numbers.
3. The Keras model is then built by LayerLab's own builder from that spec (the same code
   that builds a hand-made project), so no class name, module or config from the file is
   ever looked up or deserialised. We check the spec reproduces the file's config key by
   key; what LayerLab cannot represent is refused with a message, never dropped silently.
4. Only the arrays are taken from the file, with `model.load_weights`, which assigns
   numbers to variables that already exist; every variable is checked to have been
   filled, with the shapes the file declares.

What remains is the HDF5 C library parsing the weights, which every Keras user runs too
(keep h5py up to date). Keras itself must be 3.15.1 or newer, the first release with the
fixes for the bypasses above, because LayerLab's builder and `load_weights` still run
inside it.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import stat
import tempfile
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from .catalog import (
    INITIALIZERS,
    LAYERS,
    RECURRENT_FOR_BIDIRECTIONAL,
    REGULARIZERS,
    LayerDef,
    ObjectDef,
    Param,
    check_args,
    loss_def,
    metric_def,
    non_default_args,
    optimizer_def,
)
from .spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project, layer_names

MIN_KERAS = (3, 15, 1)
"""Oldest Keras LayerLab opens model files with: the release with the safe-mode fixes."""

# The limits live with all the others, each with its reason, in core/limits.py.
from .limits import MODEL_MAX_ARRAYS as MAX_ARRAYS  # noqa: E402
from .limits import MODEL_MAX_COMPRESSION_RATIO as MAX_COMPRESSION_RATIO  # noqa: E402
from .limits import MODEL_MAX_CONFIG_BYTES as MAX_CONFIG_BYTES  # noqa: E402
from .limits import MODEL_MAX_DEPTH as MAX_DEPTH  # noqa: E402
from .limits import MODEL_MAX_FILE_BYTES as MAX_FILE_BYTES  # noqa: E402
from .limits import MODEL_MAX_LAYERS as MAX_LAYERS  # noqa: E402
from .limits import MODEL_MAX_METADATA_BYTES as MAX_METADATA_BYTES  # noqa: E402
from .limits import MODEL_MAX_STRING as MAX_STRING  # noqa: E402

KERAS_MEMBERS = {
    "config.json": MAX_CONFIG_BYTES,
    "metadata.json": MAX_METADATA_BYTES,
    "model.weights.h5": MAX_FILE_BYTES,
}
"""The only members a `.keras` archive may hold, with the largest size accepted for each."""

Format = Literal["keras", "h5"]


class ModelFileError(Exception):
    """A model file LayerLab will not open; `str()` is one line a person can act on.

    Attributes:
        message: what is wrong, why LayerLab refuses, and how to fix it where one can.
        path: the file, when known; the CLI and dialogs put it in front of the message.
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None) -> None:
        self.message = " ".join(message.split())
        self.path = str(path) if path is not None else None
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class ImportedModel:
    """What a model file holds, as LayerLab sees it after the checks passed.

    Attributes:
        spec: the editable stack: input shape and layers with their non-default arguments.
        name: the model's name as stored in the file.
        keras_version: the Keras version that wrote the file, when it says.
        format: "keras" for a `.keras` archive, "h5" for a legacy HDF5 file.
        notes: things a person should know that did not stop the import.
        compile: the file's optimizer, loss and metrics when LayerLab knows all of them,
            else None (the notes say why).
        weight_shapes: the shape of every trained array the file stores for the layers.
        has_optimizer_state: the file also stores the optimizer's state (not loaded).
    """

    spec: ModelSpec
    name: str
    keras_version: str | None
    format: Format
    notes: list[str] = field(default_factory=list)
    compile: CompileSpec | None = None
    weight_shapes: tuple[tuple[int, ...], ...] = ()
    has_optimizer_state: bool = False


@dataclass(frozen=True)
class ImportResult:
    """What `import_model_file` wrote."""

    project: Project
    imported: ImportedModel
    project_path: Path
    weights_path: Path


# -- Keras version ----------------------------------------------------------------------------


def _installed_keras_version() -> str:
    import keras

    return str(keras.__version__)


def _version_tuple(text: str) -> tuple[int, int, int] | None:
    match = re.match(r"^(\d+)\.(\d+)(?:\.(\d+))?", text.strip())
    if not match:
        return None
    return int(match[1]), int(match[2]), int(match[3] or 0)


def require_safe_keras() -> str:
    """Returns the installed Keras version, or refuses when it lacks the safe-mode fixes.

    LayerLab does not deserialise configs, but its builder and `load_weights` still run
    inside Keras, so an old Keras with known holes is not trusted with a stranger's file.
    """
    version = _installed_keras_version()
    parsed = _version_tuple(version)
    if parsed is None or parsed < MIN_KERAS:
        wanted = ".".join(map(str, MIN_KERAS))
        raise ModelFileError(
            f"LayerLab opens model files only with Keras {wanted} or newer, the first release "
            f"with the fixes for the known safe-mode bypasses; this installation has Keras "
            f"{version}. Update it: pip install --upgrade 'keras>={wanted}'"
        )
    return version


# -- small helpers ----------------------------------------------------------------------------


def _show(value: Any) -> str:
    """A value as a person reads it in a message: JSON, shortened."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


_PATH_EXTENSIONS = (
    "txt", "json", "csv", "tsv", "vocab", "pb", "pbtxt", "h5", "hdf5", "keras", "pkl",
    "pickle", "npy", "npz", "py", "pyc", "so", "dll", "dylib", "zip", "tar", "gz", "bin",
    "pt", "pth", "onnx", "tflite", "model", "spm", "yaml", "yml",
)
_PATH_LIKE = re.compile(
    r"[/\\]|^~|^\.\.?$|^[A-Za-z]:|://|^file:|\.(" + "|".join(_PATH_EXTENSIONS) + r")$",
    re.IGNORECASE,
)


def looks_like_path(text: str) -> bool:
    """True for strings that name a file or location (`vocab.txt`, `/tmp/x`, `C:`, URLs).

    Keras's own configs for LayerLab's layers hold only short identifiers ("relu",
    "same", "float32", layer names), so anything path-shaped means the model would read
    something outside the file: a vocabulary, a SavedModel, a pickle.
    """
    return bool(_PATH_LIKE.search(text))


def _float_close(a: float, b: float) -> bool:
    """Equal up to float32 rounding, which Keras applies to some settings when saving."""
    return a == b or math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-12)


# -- reading the bytes ----------------------------------------------------------------------


def _regular_file(path: str | os.PathLike) -> Path:
    p = Path(path)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise ModelFileError(f"no such file: {p}", p) from None
    except OSError as exc:
        raise ModelFileError(f"cannot read the file: {exc.strerror or exc}", p) from None
    if stat.S_ISDIR(info.st_mode):
        raise ModelFileError(
            f"{p} is a folder; expected a .keras file (a zip archive written by "
            "model.save('name.keras')) or a legacy .h5 file", p)
    if not stat.S_ISREG(info.st_mode):
        raise ModelFileError(f"{p} is not a regular file; expected a .keras or .h5 file", p)
    if info.st_size > MAX_FILE_BYTES:
        raise ModelFileError(
            f"the file is {info.st_size:,} bytes; LayerLab opens model files up to "
            f"{MAX_FILE_BYTES:,} bytes", p)
    return p


def _format_of(path: Path) -> Format:
    name = path.name.lower()
    if name.endswith(".keras"):
        return "keras"
    if name.endswith(".weights.h5"):
        raise ModelFileError(
            "this is a weights-only file (.weights.h5): it holds numbers but no description "
            "of the layers. Open the .keras file saved with model.save('name.keras'), or "
            "open the LayerLab project the weights belong to", path)
    if name.endswith((".h5", ".hdf5")):
        return "h5"
    raise ModelFileError(
        f"expected a .keras file (or a legacy .h5 file), got '{path.suffix or path.name}'; "
        "save the model with model.save('name.keras')", path)


def _parse_json(raw: bytes, what: str, path: Path) -> Any:
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity, bounded nesting."""

    def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise ValueError(f"the key '{key}' appears twice in one object")
            out[key] = value
        return out

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number JSON allows")

    try:
        text = raw.decode("utf-8")
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants)
    except UnicodeDecodeError:
        raise ModelFileError(f"{what} is not UTF-8 text; the file is damaged or not a "
                             "Keras model", path) from None
    except RecursionError:
        raise ModelFileError(f"{what} is nested too deeply to be a Keras model", path) from None
    except ValueError as exc:
        raise ModelFileError(f"{what} is not valid JSON ({exc}); the file is damaged or "
                             "was edited by hand", path) from None


@dataclass
class _Weights:
    """The arrays a weights file declares, found without reading their values."""

    layer_shapes: list[tuple[int, ...]] = field(default_factory=list)
    optimizer_state: bool = False
    count: int = 0


def _scan_h5(handle: Any, fmt: Format, path: Path) -> _Weights:
    """Walks an open h5py.File: every link, every array, refusing what reaches outside.

    HDF5 can point at other files (external links, external raw storage, virtual
    datasets); loading those would copy another file's bytes into the model. Keras writes
    none of them, so any is refused.
    """
    import h5py

    found = _Weights()
    layer_roots = ("layers", "vars") if fmt == "keras" else ("model_weights",)
    optimizer_roots = ("optimizer",) if fmt == "keras" else ("optimizer_weights",)

    def walk(group: Any, prefix: str, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise ModelFileError("the weights are nested too deeply to be Keras weights", path)
        for key in group.keys():
            where = f"{prefix}/{key}" if prefix else key
            link = group.get(key, getlink=True)
            if isinstance(link, h5py.ExternalLink):
                raise ModelFileError(
                    f"the weights link to another file ({link.filename!r}, at {where}); "
                    "LayerLab does not open models that read files outside themselves", path)
            if isinstance(link, h5py.SoftLink):
                raise ModelFileError(f"the weights contain a link ({where} -> {link.path}), "
                                     "which Keras never writes; the file was edited", path)
            item = group[key]
            if isinstance(item, h5py.Group):
                walk(item, where, depth + 1)
                continue
            if not isinstance(item, h5py.Dataset):
                raise ModelFileError(f"the weights contain a {type(item).__name__} at {where}, "
                                     "which Keras never writes; the file was edited", path)
            if item.is_virtual or item.external:
                raise ModelFileError(
                    f"the array {where} takes its data from another file; LayerLab does not "
                    "open models that read files outside themselves", path)
            if item.dtype.kind not in "fiub":
                raise ModelFileError(f"the array {where} holds {item.dtype} values, not numbers; "
                                     "Keras weights are plain numbers", path)
            if item.nbytes and item.id.get_storage_size() < item.nbytes:
                raise ModelFileError(
                    f"the array {where} declares {item.nbytes:,} bytes but stores "
                    f"{item.id.get_storage_size():,}; Keras writes weights uncompressed, so the "
                    "file is damaged or crafted", path)
            found.count += 1
            if found.count > MAX_ARRAYS:
                raise ModelFileError(f"the weights hold more than {MAX_ARRAYS:,} arrays", path)
            top = where.split("/", 1)[0]
            if top in layer_roots:
                if item.dtype.kind == "f":
                    found.layer_shapes.append(tuple(int(d) for d in item.shape))
            elif top in optimizer_roots:
                found.optimizer_state = True
            else:
                raise ModelFileError(f"the weights hold an array at {where}, outside the "
                                     "places Keras writes; the file was edited", path)

    walk(handle, "", 0)
    return found


def _read_h5_attr(handle: Any, name: str, path: Path) -> str | None:
    if name not in handle.attrs:
        return None
    size = handle.attrs.get_id(name).get_storage_size()
    if size > MAX_CONFIG_BYTES:
        raise ModelFileError(f"the file's {name} is {size:,} bytes; a Keras model's "
                             f"description is far below {MAX_CONFIG_BYTES:,}", path)
    value = handle.attrs[name]
    if hasattr(value, "tobytes") and getattr(value, "shape", None) == ():
        value = value.item()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ModelFileError(f"the file's {name} is not UTF-8 text", path) from None
    if isinstance(value, str):
        return value
    raise ModelFileError(f"the file's {name} is not text (got {type(value).__name__}); "
                         "the file is damaged or not a Keras model", path)


def _read_h5(path: Path) -> tuple[Any, str | None, _Weights, Any]:
    """(model config, keras version, arrays, training config) of a legacy HDF5 model."""
    import h5py

    try:
        if not h5py.is_hdf5(str(path)):
            raise ModelFileError(
                "the file is not an HDF5 file; a legacy .h5 model is written by "
                "model.save('name.h5'). It may be damaged, or not a Keras model", path)
        with h5py.File(path, "r") as handle:
            config_text = _read_h5_attr(handle, "model_config", path)
            if config_text is None:
                raise ModelFileError(
                    "this HDF5 file holds no model description (no 'model_config'); it is "
                    "a weights-only file. Open the .keras or .h5 file written by model.save()",
                    path)
            version = _read_h5_attr(handle, "keras_version", path)
            training = _read_h5_attr(handle, "training_config", path)
            weights = _scan_h5(handle, "h5", path)
    except ModelFileError:
        raise
    except Exception as exc:  # h5py on a crafted file: any failure means "unreadable"
        raise ModelFileError(f"the HDF5 file cannot be read ({exc}); it is damaged or "
                             "incomplete", path) from None
    config = _parse_json(config_text.encode("utf-8"), "the model description", path)
    training_doc = None
    if training is not None:
        try:
            training_doc = _parse_json(training.encode("utf-8"), "the training config", path)
        except ModelFileError:
            training_doc = None
    return config, version, weights, training_doc


def _read_keras(path: Path) -> tuple[Any, str | None, _Weights]:
    """(config, keras version, arrays) of a `.keras` zip archive, read with limits."""
    import h5py

    with path.open("rb") as handle:
        magic = handle.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise ModelFileError(
            "the file is not a zip archive; a .keras file is the zip archive written by "
            "model.save('name.keras'). It may be damaged, or not a Keras model", path)
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            names = [info.filename for info in infos]
            if len(set(names)) != len(names):
                twice = sorted({n for n in names if names.count(n) > 1})
                raise ModelFileError(
                    f"the archive holds two members named {twice[0]!r}; Keras never writes "
                    "that, and two readers could see different contents", path)
            unexpected = [n for n in names if n not in KERAS_MEMBERS]
            if unexpected:
                shown = ", ".join(repr(n) for n in unexpected[:3])
                more = f" and {len(unexpected) - 3} more" if len(unexpected) > 3 else ""
                raise ModelFileError(
                    f"the archive holds unexpected members ({shown}{more}); a .keras file of "
                    f"a model LayerLab can open holds only {', '.join(KERAS_MEMBERS)}", path)
            for required in ("config.json", "model.weights.h5"):
                if required not in names:
                    raise ModelFileError(f"the archive has no {required}; it is not a complete "
                                         "Keras model (save it with model.save('name.keras'))",
                                         path)
            for info in infos:
                limit = KERAS_MEMBERS[info.filename]
                if info.flag_bits & 0x1:
                    raise ModelFileError(f"{info.filename} is encrypted; Keras never writes "
                                         "encrypted archives", path)
                if info.file_size > limit:
                    raise ModelFileError(
                        f"{info.filename} is {info.file_size:,} bytes; LayerLab accepts up to "
                        f"{limit:,} bytes for it (a Keras model's {info.filename} is far "
                        "smaller), so the file is damaged or crafted", path)
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > 1024**2 and ratio > MAX_COMPRESSION_RATIO:
                    raise ModelFileError(
                        f"{info.filename} expands {ratio:,.0f} times when unpacked; Keras "
                        "stores members uncompressed, so this looks like a zip bomb", path)
            config_raw = archive.read("config.json")
            metadata_raw = archive.read("metadata.json") if "metadata.json" in names else None
            # HDF5 seeks back and forth; on a zip member every backward seek re-reads from
            # the start, so the member is unpacked (size already checked) into a private
            # folder that is removed at once.
            with tempfile.TemporaryDirectory(prefix="layerlab-weights-") as folder:
                unpacked = Path(folder) / "model.weights.h5"
                with archive.open("model.weights.h5") as member, unpacked.open("wb") as out:
                    shutil.copyfileobj(member, out, 1024 * 1024)
                try:
                    with h5py.File(unpacked, "r") as weights_file:
                        weights = _scan_h5(weights_file, "keras", path)
                except ModelFileError:
                    raise
                except Exception as exc:  # h5py on a crafted file: any failure is "damaged"
                    raise ModelFileError(f"the archive's model.weights.h5 cannot be read "
                                         f"({exc}); the file is damaged", path) from None
    except ModelFileError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError,
            NotImplementedError, ValueError) as exc:
        raise ModelFileError(
            f"the archive is damaged or incomplete ({exc}); was the copy or download cut "
            "short? Save the model again with model.save('name.keras')", path) from None
    config = _parse_json(config_raw, "config.json", path)
    version = None
    if metadata_raw is not None:
        metadata = _parse_json(metadata_raw, "metadata.json", path)
        raw_version = metadata.get("keras_version") if isinstance(metadata, dict) else None
        if isinstance(raw_version, str) and re.fullmatch(r"[0-9A-Za-z.+\-]{1,32}", raw_version):
            version = raw_version
    return config, version, weights


# -- what Keras itself writes ------------------------------------------------------------------


@cache
def _keys_keras_writes(layer_type: str) -> frozenset[str]:
    """The config keys Keras writes for a layer class, asked of Keras itself.

    A layer made with the catalog's suggested arguments names every key its
    `get_config()` has; optional ones (activity_regularizer, LoRA) are added by hand.
    """
    from .build import build_layer

    definition = LAYERS[layer_type]
    config = build_layer(LayerSpec(layer_type, definition.suggested)).get_config()
    return frozenset(config) | {p.name for p in definition.params} | set(_OPTIONAL_KEYS)


@cache
def _input_layer_keys() -> frozenset[str]:
    import keras

    return frozenset(keras.layers.InputLayer(shape=(1,)).get_config())


@cache
def _initializer_aliases() -> tuple[tuple[str, str, tuple[tuple[str, Any], ...]], ...]:
    """(alias, class name, settings without seed) for each catalog initializer, from Keras."""
    import keras

    table = []
    for alias in INITIALIZERS:
        data = keras.initializers.serialize(keras.initializers.get(alias))
        settings = tuple(sorted((k, v) for k, v in data["config"].items() if k != "seed"))
        table.append((alias, data["class_name"], settings))
    return tuple(table)


# Keys Keras writes only in some cases, with the only value LayerLab can represent.
_OPTIONAL_KEYS: dict[str, Any] = {
    "activity_regularizer": None,
    "lora_rank": None,
    "lora_alpha": None,
}
# Keys older Keras (2.x, tf.keras) wrote that Keras 3 dropped; harmless at these values.
_LEGACY_KEYS: dict[str, Callable[[Any], bool]] = {
    "time_major": lambda v: v is False,
    "implementation": lambda v: v in (0, 1, 2),
}

_CODE_LAYERS = {
    "Lambda": "which would run code stored in the file",
    "TFSMLayer": "which loads a TensorFlow SavedModel (a program) from a path outside the file",
    "TorchModuleWrapper": "which unpickles a PyTorch module, and unpickling runs code",
    "JaxLayer": "which wraps JAX functions, that is code",
    "FlaxLayer": "which wraps a Flax module, that is code",
}
_MODEL_CLASSES = {"Sequential", "Functional", "Model"}

_INITIALIZER_CLASSES = {
    "Constant", "GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "Identity",
    "IdentityInitializer", "LecunNormal", "LecunUniform", "Ones", "Orthogonal",
    "OrthogonalInitializer", "RandomNormal", "RandomUniform", "TruncatedNormal",
    "VarianceScaling", "Zeros",
}
_NESTED_CLASSES: dict[str, set[str]] = {
    "keras": {"DTypePolicy", "FloatDTypePolicy"},
    "keras.dtype_policies": {"DTypePolicy", "FloatDTypePolicy"},
    "keras.initializers": _INITIALIZER_CLASSES,
    "keras.regularizers": {"L1", "L2", "L1L2", "OrthogonalRegularizer"},
    "keras.constraints": {"MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm"},
}
_ALL_NESTED = set().union(*_NESTED_CLASSES.values())
_NESTED_STRINGS: dict[str, re.Pattern[str]] = {
    "name": re.compile(r"^[a-z0-9_]{1,32}$"),  # a dtype policy's name: float32, mixed_float16
    "mode": re.compile(r"^(fan_in|fan_out|fan_avg)$"),
    "distribution": re.compile(r"^(truncated_normal|untruncated_normal|uniform|normal)$"),
}
_OBJECT_KEYS = {"module", "class_name", "config", "registered_name", "shared_object_id"}
_LAYER_ENTRY_KEYS = _OBJECT_KEYS | {"build_config"}
_TOP_KEYS = _LAYER_ENTRY_KEYS | {"compile_config"}
_SEQUENTIAL_KEYS = {"name", "trainable", "dtype", "layers", "build_input_shape"}
_DEFAULT_MODEL_NAME = re.compile(r"^sequential(_\d+)?$")
SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_. \-]{0,127}$")
"""Names carried from a file into a project: what Keras generates, and ordinary choices."""
# Not compared with LayerLab's build: the name is kept separately, the dtype is checked to
# be float32 on its own, and a legacy batch shape becomes the model's input shape.
_NOT_COMPARED = {"name", "dtype", "batch_input_shape", "batch_shape"}


# -- the checker ------------------------------------------------------------------------------


class _Checker:
    """Turns a parsed config into a ModelSpec, refusing whatever is not plain and known."""

    def __init__(self, path: Path, fmt: Format, keras_version: str) -> None:
        self.path = path
        self.fmt = fmt
        self.keras_version = keras_version
        self.notes: list[str] = []

    def refuse(self, message: str) -> ModelFileError:
        return ModelFileError(message, self.path)

    # -- structure -----------------------------------------------------------------------

    def walk(self, value: Any, where: str, depth: int = 0) -> None:
        """Every value inside a layer's settings must be plain data or a known object."""
        if depth > MAX_DEPTH:
            raise self.refuse(f"{where} is nested too deeply to be a Keras setting")
        if isinstance(value, dict):
            if "class_name" in value:
                self.check_object(value, where, depth)
                return
            raise self.refuse(f"{where} holds an object LayerLab does not know "
                              f"({_show(value)}); Keras writes plain values there")
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.walk(item, f"{where}[{i}]", depth + 1)
        elif isinstance(value, str):
            self.check_string(value, where)
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise self.refuse(f"{where} is {value}, not a finite number")
        elif value is not None and not isinstance(value, (bool, int)):
            raise self.refuse(f"{where} holds {type(value).__name__}, not plain data")

    def check_string(self, value: str, where: str) -> None:
        if looks_like_path(value):
            raise self.refuse(
                f"this file refers to another file or location ({value!r} in {where}); "
                "LayerLab does not open models that read files outside themselves")
        if len(value) > MAX_STRING or not value.isprintable():
            raise self.refuse(f"{where} holds the text {_show(value)}, which is not a "
                              "Keras setting (too long or not printable)")

    def check_object(self, obj: dict[str, Any], where: str, depth: int = 0) -> None:
        """A nested object (dtype policy, initializer, regularizer, constraint)."""
        class_name = obj.get("class_name")
        module = obj.get("module")
        registered = obj.get("registered_name")
        if not isinstance(class_name, str):
            raise self.refuse(f"{where} names no class; the file is damaged or edited")
        if not isinstance(module, (str, type(None))) or not isinstance(registered,
                                                                       (str, type(None))):
            raise self.refuse(f"{where} has a module or registered_name that is not text; "
                              "the file is damaged or edited")
        if class_name in ("function", "__lambda__") or module == "builtins":
            raise self.refuse(
                f"{where} stores a Python function ({class_name} {_show(obj.get('config'))}); "
                "a function stored in a file is code, and LayerLab does not open such files")
        if registered is not None:
            raise self.refuse(
                f"this file contains a custom object {registered!r} (in {where}); custom "
                "objects are code that lives outside the file, and LayerLab does not open "
                "such files")
        if class_name in _MODEL_CLASSES:
            raise self.refuse(f"this file contains a model inside a model ({class_name} in "
                              f"{where}); LayerLab opens flat Sequential models only")
        if module is None and self.fmt == "h5" and class_name in _ALL_NESTED:
            pass  # older Keras wrote no module; the class alone is on the allow-list
        elif module not in _NESTED_CLASSES:
            raise self.refuse(
                f"{where} is a {class_name} from the module {module!r}; LayerLab accepts only "
                "Keras's own initializers, regularizers, constraints and dtype policies")
        elif class_name not in _NESTED_CLASSES[module]:
            raise self.refuse(f"{where} is {module}.{class_name}, which is not on LayerLab's "
                              f"list of known Keras objects for {module}")
        for key in obj:
            if key not in _OBJECT_KEYS:
                raise self.refuse(f"{where} has an unknown key {key!r}; Keras writes only "
                                  f"{', '.join(sorted(_OBJECT_KEYS))}")
        if "shared_object_id" in obj and not _is_int(obj["shared_object_id"]):
            raise self.refuse(f"{where}.shared_object_id is not a number")
        config = obj.get("config", {})
        if not isinstance(config, dict):
            raise self.refuse(f"{where}.config is {_show(config)}; expected an object of "
                              "plain numbers")
        for key, value in config.items():
            inner = f"{where}, {key}"
            if isinstance(value, str):
                self.check_string(value, inner)
                pattern = _NESTED_STRINGS.get(key)
                if pattern is None or not pattern.match(value):
                    raise self.refuse(f"{inner} is the text {_show(value)}; expected a plain "
                                      "number or null")
            elif isinstance(value, list):
                if len(value) > 8 or not all(_is_int(v) for v in value):
                    raise self.refuse(f"{inner} is {_show(value)}; expected a plain number, "
                                      "null, or a short list of integers")
            elif isinstance(value, float):
                if not math.isfinite(value):
                    raise self.refuse(f"{inner} is {value}, not a finite number")
            elif value is not None and not isinstance(value, (bool, int)):
                raise self.refuse(f"{inner} is {_show(value)}; expected a plain number or null")

    def check_entry(self, entry: Any, where: str) -> tuple[str, dict[str, Any], str]:
        """Class-level checks on one layer entry; returns (class name, config, label)."""
        if not isinstance(entry, dict):
            raise self.refuse(f"{where} is {_show(entry)}; expected a layer object")
        config = entry.get("config")
        raw_name = config.get("name") if isinstance(config, dict) else None
        if isinstance(raw_name, str) and raw_name.isprintable() and len(raw_name) <= 64:
            label = f"layer '{raw_name}' at {where}"
        else:
            label = f"the layer at {where}"
        class_name = entry.get("class_name")
        module = entry.get("module")
        registered = entry.get("registered_name")
        if not isinstance(class_name, str):
            raise self.refuse(f"{where} names no layer class; the file is damaged or edited")
        if not isinstance(module, (str, type(None))) or not isinstance(registered,
                                                                       (str, type(None))):
            raise self.refuse(f"{label} has a module or registered_name that is not text; "
                              "the file is damaged or edited")
        if class_name in _CODE_LAYERS:
            kind = class_name if class_name.endswith("Layer") else f"{class_name} layer"
            raise self.refuse(
                f"this file contains a {kind}, {_CODE_LAYERS[class_name]}; LayerLab does not "
                f"open such files ({label})")
        if class_name in _MODEL_CLASSES:
            raise self.refuse(
                f"this file contains a model inside a model (a {class_name} as {label}); "
                "LayerLab opens flat Sequential models only. Put the inner model's layers "
                "directly into the outer Sequential and save again")
        if registered is not None and registered != class_name:
            raise self.refuse(
                f"this file contains a custom object {registered!r} ({label}); custom objects "
                "are code that lives outside the file, and LayerLab does not open such files")
        if module is not None and module != "keras.layers":
            raise self.refuse(
                f"this file contains a layer {class_name!r} from the module {module!r} "
                f"({label}); LayerLab opens only Keras's built-in layers (module "
                "'keras.layers')")
        if module is None and self.fmt == "keras":
            raise self.refuse(f"{label} names no module; Keras 3 always writes "
                              "'keras.layers' for its layers, so the file was edited")
        if class_name != "InputLayer" and class_name not in LAYERS:
            raise self.refuse(
                f"LayerLab does not support the layer type {class_name} ({label}); it supports "
                f"{', '.join(LAYERS)}")
        for key in entry:
            if key not in _LAYER_ENTRY_KEYS:
                raise self.refuse(f"{label} has an unknown key {key!r}; Keras writes only "
                                  f"{', '.join(sorted(_LAYER_ENTRY_KEYS))}")
        if not isinstance(config, dict):
            raise self.refuse(f"{label} has no settings object; the file is damaged or edited")
        if "build_config" in entry:
            self.check_build_config(entry["build_config"], f"{label}, build_config")
        return class_name, config, label

    def check_build_config(self, value: Any, where: str) -> None:
        if not isinstance(value, dict) or set(value) - {"input_shape"}:
            raise self.refuse(f"{where} is {_show(value)}; expected {{\"input_shape\": [...]}}")
        self.walk(value.get("input_shape"), where)

    # -- layers --------------------------------------------------------------------------

    def layer(self, entry: Any, where: str, first: bool = False,
              role: str | None = None) -> tuple[LayerSpec, str | None, list[int | None] | None]:
        """One layer entry -> (spec without name, the file's name, a legacy batch shape).

        `role` is "forward" or "backward" for the layers inside a Bidirectional, which
        Keras adjusts (names, go_backwards, zero_output_for_mask), so they are compared
        with what LayerLab's Bidirectional makes of them rather than with a bare layer.
        """
        class_name, config, label = self.check_entry(entry, where)
        if class_name == "InputLayer":
            raise self.refuse(f"{label} is an InputLayer after other layers; a Sequential "
                              "model has at most one, first")
        definition = LAYERS[class_name]
        for key in ("activation", "recurrent_activation"):
            value = config.get(key)
            if value is not None and not isinstance(value, str):
                desc = value.get("config") if isinstance(value, dict) else value
                raise self.refuse(
                    f"{label} ({class_name}) gives its {key} as an object ({_show(desc)}), not "
                    "as one of Keras's built-in activation names; a function stored in a file "
                    "is code, and LayerLab does not open such files. Use a built-in activation "
                    "such as 'relu' and save again")
        wrapped = ("layer", "backward_layer") if class_name == "Bidirectional" else ()
        for key, value in config.items():
            if key not in wrapped:
                self.walk(value, f"{label}, setting '{key}'")
        allowed = _keys_keras_writes(class_name)
        legacy_shape = None
        for key in config:
            if key in allowed or (self.fmt == "h5" and key in _LEGACY_KEYS):
                continue
            if first and role is None and key in ("batch_input_shape", "batch_shape"):
                legacy_shape = config[key]
                continue
            raise self.refuse(
                f"{label} ({class_name}) has a setting {key!r} that Keras "
                f"{self.keras_version} does not write for {class_name}; LayerLab refuses "
                "settings it does not know, as it cannot tell what they would do. Save the "
                "model again with a current Keras, or remove the setting")
        for key, check in _LEGACY_KEYS.items():
            if key in config and not check(config[key]):
                raise self.refuse(f"{label} ({class_name}): {key} is {_show(config[key])}; "
                                  "LayerLab can only open it at Keras's default")
        name = config.get("name")
        if name is not None and (not isinstance(name, str) or not name):
            raise self.refuse(f"{label}: the name {_show(name)} is not text")
        if name is not None and role is None and not SAFE_NAME.match(name):
            self.notes.append(f"{label} was renamed: LayerLab keeps names made of letters, "
                              "digits, spaces, '_', '.' and '-' only")
            name = None
        self.check_dtype(config.get("dtype"), label, class_name)
        args = self.catalog_args(definition, config, label)
        if class_name == "Bidirectional":
            args["layer"] = self.wrapped_layer(config, label, where)
        problems = check_args(definition, args)
        if problems:
            key, message = problems[0]
            raise self.refuse(f"{label} ({class_name}): {key}: {message}")
        args = non_default_args(definition, args)
        args = self.minimal_args(definition, args, config, label, role)
        return LayerSpec(class_name, args), name, legacy_shape

    def wrapped_layer(self, config: dict[str, Any], label: str, where: str) -> dict[str, Any]:
        inner, _, _ = self.layer(config.get("layer"), f"{where}, inside Bidirectional",
                                 role="forward")
        if inner.type not in RECURRENT_FOR_BIDIRECTIONAL:
            wraps = ", ".join(RECURRENT_FOR_BIDIRECTIONAL)
            raise self.refuse(f"{label}: LayerLab's Bidirectional wraps {wraps}, got "
                              f"{inner.type}")
        if "backward_layer" in config:
            # Checked like any layer, so a custom or code-running object there is refused by
            # name; that it mirrors the forward layer is checked with the rest of the config.
            self.layer(config["backward_layer"], f"{where}, inside Bidirectional (backward)",
                       role="backward")
        return inner.to_json()

    def check_dtype(self, value: Any, label: str, class_name: str) -> None:
        name = _policy_name(value)
        if value is not None and name != "float32":
            raise self.refuse(
                f"{label} ({class_name}) uses the dtype {_show(name)}; LayerLab builds and "
                "trains float32 models only. Save the model with the default float32 policy")

    def catalog_args(self, definition: LayerDef, config: dict[str, Any],
                     label: str) -> dict[str, Any]:
        """The catalog's parameters, read from the config and turned into LayerLab's forms.

        Every one the config has is returned, defaults included: the caller validates them
        with the catalog before dropping defaults, as comparing needs valid values.
        """
        args: dict[str, Any] = {}
        for p in definition.params:
            if p.name in ("name", "layer") or p.name not in config:
                continue
            value = config[p.name]
            where = f"{label} ({definition.type}): {p.name}"
            if p.name.endswith("_initializer"):
                value = self.initializer_alias(value, p, where)
            elif p.name.endswith("_regularizer"):
                value = self.regularizer_alias(value, where)
            elif p.name == "activation" or p.name.endswith("_activation"):
                if value is not None and value not in p.choices:
                    raise self.refuse(
                        f"{where} is {_show(value)}, which is not one of Keras's built-in "
                        f"activations LayerLab knows ({', '.join(c for c in p.choices if c)})")
            elif p.kind == "size" and isinstance(value, list):
                value = value[0] if value and all(v == value[0] for v in value) else list(value)
            elif p.kind == "int" and isinstance(value, list) and len(value) == 1:
                value = value[0]  # LayerNormalization (and Keras 2's BatchNormalization): [axis]
            elif p.kind == "padding2d":
                value = _compact_padding(value)
            elif p.kind == "factor" and isinstance(value, list):
                value = _compact_factor(value, p)
            elif isinstance(value, list):
                value = list(value)
            args[p.name] = value
        return args

    def initializer_alias(self, value: Any, param: Param, where: str) -> str:
        if isinstance(value, str) and value in INITIALIZERS:
            return value
        if not isinstance(value, dict):
            raise self.refuse(f"{where} is {_show(value)}; expected a Keras initializer")
        class_name = value.get("class_name")
        config = value.get("config") or {}
        matches = []
        for alias, cls, settings in _initializer_aliases():
            if cls != class_name:
                continue
            reference = dict(settings)
            same = all(k == "seed" or (k in reference and _same(v, reference[k]))
                       for k, v in config.items())
            if same:
                matches.append(alias)
        if not matches:
            settings = ", ".join(f"{k}={v}" for k, v in config.items() if k != "seed")
            raise self.refuse(
                f"{where} is {class_name}({settings}); LayerLab's initializers are Keras's named "
                f"ones with their default settings ({', '.join(INITIALIZERS)}). Save the model "
                "with one of those names")
        if config.get("seed") is not None:
            self.notes.append(
                f"{where.replace(': ', ' ')} had seed {config['seed']}; LayerLab's initializers "
                "take no seed, so it was dropped. The trained weights are loaded as they are; "
                "the seed only mattered for the first initialisation")
        return param.default if param.default in matches else matches[0]

    def regularizer_alias(self, value: Any, where: str) -> str | None:
        if value is None or value in REGULARIZERS:
            return value
        if not isinstance(value, dict):
            raise self.refuse(f"{where} is {_show(value)}; expected a Keras regularizer")
        class_name = value.get("class_name")
        config = value.get("config") or {}
        l1, l2 = config.get("l1", 0.0), config.get("l2", 0.0)
        if class_name in ("L1", "L2", "L1L2") and _is_number(l1) and _is_number(l2):
            if class_name != "L2" and _float_close(l1, 0.01) and l2 == 0:
                return "l1"
            if class_name != "L1" and _float_close(l2, 0.01) and l1 == 0:
                return "l2"
        settings = ", ".join(f"{k}={v}" for k, v in config.items())
        raise self.refuse(
            f"{where} is {class_name}({settings}); LayerLab's regularizers are 'l1' and 'l2' "
            "with Keras's default factor 0.01, so it cannot keep this one. Save the model with "
            "kernel_regularizer='l2' (or 'l1'), or without a regularizer")

    def minimal_args(self, definition: LayerDef, args: dict[str, Any], config: dict[str, Any],
                     label: str, role: str | None = None) -> dict[str, Any]:
        """Checks the args rebuild the file's config exactly, then drops redundant ones.

        Keras writes some settings in a resolved form (pooling strides equal to the pool
        size, "linear" for no activation); an argument whose removal rebuilds the same
        config says nothing the default does not, so the spec leaves it out.
        """
        mismatch = self.compare(definition.type, args, config, role)
        if mismatch is not None:
            key, ours = mismatch
            raise self.refuse(
                f"{label} ({definition.type}): {key} is {_show(config.get(key))} in the file, "
                f"but LayerLab can only build it as {_show(ours)} (Keras's default; LayerLab "
                "has no setting for it). Set it back to the default in Keras and save again")
        for key in list(args):
            p = definition.param(key)
            if p is None or p.required or key == "layer":
                continue
            trial = {k: v for k, v in args.items() if k != key}
            try:
                if self.compare(definition.type, trial, config, role) is None:
                    args = trial
            except ModelFileError:  # Keras rejects the trial: the argument is needed
                continue
        return args

    def compare(self, layer_type: str, args: dict[str, Any], config: dict[str, Any],
                role: str | None = None) -> tuple[str, Any] | None:
        """The first key whose value in the file differs from the spec's build, if any."""
        reference = self.reference_config(layer_type, args, role)
        for key, value in config.items():
            if key in _NOT_COMPARED or key in _LEGACY_KEYS:
                continue
            ours = reference.get(key, _OPTIONAL_KEYS.get(key))
            if not _same(value, ours):
                return key, ours
        return None

    def reference_config(self, layer_type: str, args: dict[str, Any],
                         role: str | None = None) -> dict[str, Any]:
        from .build import build_layer

        try:
            if role is None:
                return build_layer(LayerSpec(layer_type, args)).get_config()
            if role == "backward":  # Keras makes the backward layer by flipping go_backwards
                args = {**args, "go_backwards": not args.get("go_backwards", False)}
            wrapper = build_layer(LayerSpec("Bidirectional", {"layer": {"type": layer_type,
                                                                        **args}}))
            key = "layer" if role == "forward" else "backward_layer"
            return wrapper.get_config()[key]["config"]
        except Exception as exc:  # Keras's own argument checks, e.g. groups vs filters
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise self.refuse(f"Keras cannot make a {layer_type} with the settings in the file "
                              f"({message})") from None

    # -- the model -----------------------------------------------------------------------

    def model(self, doc: Any) -> tuple[ModelSpec, str, Any]:
        """The whole config -> (spec, model name, compile config or None)."""
        if not isinstance(doc, dict):
            raise self.refuse(f"the model description is {_show(doc)}; expected an object")
        class_name = doc.get("class_name")
        module = doc.get("module")
        registered = doc.get("registered_name")
        if not all(isinstance(v, (str, type(None))) for v in (class_name, module, registered)):
            raise self.refuse("the model's class_name, module or registered_name is not text; "
                              "the file is damaged or edited")
        if class_name in ("Functional", "Model"):
            raise self.refuse(f"LayerLab opens Sequential models only; this file holds a "
                              f"{class_name} model. Rebuild it as a keras.Sequential stack")
        if registered is not None and registered != class_name:
            raise self.refuse(
                f"this file contains a custom object {registered!r} (the model itself); custom "
                "objects are code that lives outside the file, and LayerLab does not open "
                "such files")
        if module not in (None, "keras"):
            raise self.refuse(f"the model is a {class_name!r} from the module {module!r}; "
                              "LayerLab opens only keras.Sequential models")
        if class_name != "Sequential":
            raise self.refuse(f"LayerLab opens Sequential models only; this file holds "
                              f"{_show(class_name)}")
        for key in doc:
            if key not in _TOP_KEYS:
                raise self.refuse(f"the model has an unknown key {key!r}; Keras writes only "
                                  f"{', '.join(sorted(_TOP_KEYS))}")
        config = doc.get("config")
        if not isinstance(config, dict):
            raise self.refuse("the model has no settings object; the file is damaged")
        for key in config:
            if key not in _SEQUENTIAL_KEYS:
                raise self.refuse(f"the Sequential model has an unknown setting {key!r}; Keras "
                                  f"writes only {', '.join(sorted(_SEQUENTIAL_KEYS))}")
        name = config.get("name", "sequential")
        if not isinstance(name, str) or not name:
            raise self.refuse(f"the model's name {_show(name)} is not text")
        self.check_string(name, "the model's name")
        if config.get("trainable", True) is not True:
            raise self.refuse("the model is frozen (trainable: false); LayerLab trains every "
                              "layer. Set model.trainable = True and save again")
        if "dtype" in config:
            self.walk(config["dtype"], "the model's dtype")
        self.check_dtype(config.get("dtype"), "the model", "Sequential")
        if "build_config" in doc:
            self.check_build_config(doc["build_config"], "the model's build_config")
        if "build_input_shape" in config:
            self.walk(config["build_input_shape"], "the model's build_input_shape")
        entries = config.get("layers")
        if not isinstance(entries, list) or not entries:
            raise self.refuse("the model has no layers; there is nothing to open")
        if len(entries) > MAX_LAYERS:
            raise self.refuse(f"the model has {len(entries):,} layers; LayerLab opens up to "
                              f"{MAX_LAYERS:,}")
        shape_source: Any = None
        first = 0
        head = entries[0]
        if isinstance(head, dict) and head.get("class_name") == "InputLayer":
            shape_source = self.input_layer(head)
            first = 1
        layers: list[LayerSpec] = []
        names: list[str | None] = []
        for index in range(first, len(entries)):
            where = f"position {index - first + 1}"
            spec, layer_name, legacy = self.layer(entries[index], where, first=index == first)
            if legacy is not None and shape_source is None:
                shape_source = legacy
            layers.append(spec)
            names.append(layer_name)
        if not layers:
            raise self.refuse("the model has only an input and no layers; there is nothing "
                              "to open")
        if shape_source is None:
            shape_source = config.get("build_input_shape")
            build_config = doc.get("build_config")
            if shape_source is None and isinstance(build_config, dict):
                shape_source = build_config.get("input_shape")
        input_shape = self.input_shape(shape_source)
        seen: set[str] = set()
        for layer_name in names:
            if layer_name is not None and layer_name in seen:
                raise self.refuse(f"two layers are both named {layer_name!r}; Keras needs "
                                  "unique names, so the file was edited")
            if layer_name is not None:
                seen.add(layer_name)
        spec = ModelSpec(input_shape, tuple(_with_names(layers, names)))
        return spec, name, doc.get("compile_config")

    def input_layer(self, entry: dict[str, Any]) -> Any:
        _, config, label = self.check_entry(entry, "the input")
        allowed = _input_layer_keys() | {"batch_input_shape"}
        for key, value in config.items():
            self.walk(value, f"{label}, setting '{key}'")
            if key not in allowed:
                raise self.refuse(f"{label} (InputLayer) has a setting {key!r} that Keras "
                                  f"{self.keras_version} does not write; LayerLab refuses "
                                  "settings it does not know")
        for key in ("sparse", "ragged", "optional"):
            if config.get(key, False) is not False:
                raise self.refuse(f"{label} (InputLayer): {key} is {_show(config[key])}; "
                                  "LayerLab's models take plain dense inputs only")
        dtype = config.get("dtype", "float32")
        if isinstance(dtype, dict):
            dtype = _policy_name(dtype)
        if dtype in ("int32", "int64", "uint8", "float16", "float64", "bfloat16"):
            self.notes.append(f"the model's input had the dtype {dtype}; LayerLab feeds it "
                              "float32 values (layers such as Embedding convert them back)")
        elif dtype != "float32":
            raise self.refuse(f"{label} (InputLayer) has the dtype {_show(dtype)}; expected "
                              "float32")
        return config.get("batch_shape", config.get("batch_input_shape"))

    def input_shape(self, value: Any) -> tuple[int | None, ...]:
        if value is None:
            raise self.refuse("the file does not say the model's input shape (no InputLayer, "
                              "no batch_input_shape, no build shape); LayerLab needs it. Save "
                              "the model with keras.Input(shape=...) as its first layer")
        ok = isinstance(value, list) and 2 <= len(value) <= 9 and all(
            v is None or (_is_int(v) and 1 <= v <= 2**31) for v in value)
        if not ok:
            raise self.refuse(f"the model's input shape is {_show(value)}; expected a list such "
                              "as [null, 28, 28, 1] (the batch size first)")
        if value[0] is not None:
            self.notes.append(f"the file fixes the batch size at {value[0]}; LayerLab's models "
                              "take any batch size, so it was dropped")
        return tuple(value[1:])


def _policy_name(value: Any) -> Any:
    """The policy name (e.g. float32) of a dtype given as text or as a DTypePolicy object."""
    if isinstance(value, dict):
        config = value.get("config")
        return config.get("name") if isinstance(config, dict) else None
    return value


def _compact_factor(value: list[Any], param: Param) -> Any:
    """An augmentation factor as it was written: Keras saves RandomRotation(0.1) as
    [-0.1, 0.1] and RandomContrast(0.2) as [0, 0.2] (the single number's range, cut at
    the lowest bound); both mean the single number again."""
    if len(value) == 2 and all(_is_number(v) for v in value):
        low, high = value
        lowest = param.min if param.min is not None else -high
        if high >= 0 and low == max(-high, lowest):
            return high
    return list(value)


def _compact_padding(value: Any) -> Any:
    """ZeroPadding2D's ((t, b), (l, r)) in the shortest form that means the same."""
    if (isinstance(value, list) and len(value) == 2
            and all(isinstance(v, list) and len(v) == 2 for v in value)):
        (top, bottom), (left, right) = value
        if top == bottom and left == right:
            return top if top == left else [top, left]
        return [list(value[0]), list(value[1])]
    return value


def _same(file_value: Any, ours: Any) -> bool:
    """Whether a value in the file means what LayerLab's build writes.

    Numbers compare up to float32 rounding; tuples are lists; nested objects compare by
    class and settings (module and sharing ids are checked elsewhere), and a setting the
    file leaves out (older Keras) counts as the default; layer names inside wrappers are
    Keras's bookkeeping and are ignored. Initializer seeds are ignored: they only decide
    the first random draw, and the trained weights replace it.
    """
    if isinstance(ours, tuple):
        ours = list(ours)
    # Keras turns an axis into a list when the layer is built: [-1] in the file, -1 unbuilt.
    if isinstance(file_value, list) and len(file_value) == 1 and _is_number(ours):
        file_value = file_value[0]
    if isinstance(file_value, bool) or isinstance(ours, bool) or file_value is None \
            or ours is None:
        return file_value is ours or file_value == ours and type(file_value) is type(ours)
    if _is_number(file_value) and _is_number(ours):
        return _float_close(float(file_value), float(ours))
    if isinstance(file_value, list) and isinstance(ours, list):
        return len(file_value) == len(ours) and all(
            _same(a, b) for a, b in zip(file_value, ours, strict=True))
    if isinstance(file_value, dict) and isinstance(ours, dict):
        if "class_name" in file_value or "class_name" in ours:
            if file_value.get("class_name") != ours.get("class_name"):
                return False
            mine, theirs = file_value.get("config") or {}, ours.get("config") or {}
            if not isinstance(mine, dict) or not isinstance(theirs, dict):
                return _same(mine, theirs)
            is_layer = "trainable" in theirs
            for key, value in mine.items():
                if key == "seed" and not is_layer:
                    continue
                if key in ("name", "dtype") and is_layer:
                    continue
                if key in _LEGACY_KEYS:
                    continue
                if key not in theirs or not _same(value, theirs[key]):
                    return False
            return True
        return set(file_value) == set(ours) and all(_same(v, ours[k])
                                                    for k, v in file_value.items())
    return file_value == ours


def _with_names(layers: list[LayerSpec], names: list[str | None]) -> list[LayerSpec]:
    """Keeps a layer's name only where LayerLab's default naming would not give it.

    A model saved in a fresh session has the names LayerLab would give anyway (dense,
    dense_1, ...), and keeping those would clutter the spec; names from a busy notebook
    (dense_17) or chosen by hand are kept, so the imported stack reads like the original.
    Naming one layer can shift the defaults of the others, so repeat until it settles.
    """
    named: set[int] = set()
    while True:
        current = [layer.with_args(name=names[i]) if i in named else layer
                   for i, layer in enumerate(layers)]
        defaults = layer_names(current)
        wrong = {i for i, default in enumerate(defaults)
                 if names[i] is not None and default != names[i]} - named
        if not wrong:
            return current
        named |= wrong


# -- compile settings ------------------------------------------------------------------------


class _NoCompile(Exception):
    """The file's compile settings name something LayerLab does not know; says what."""


@cache
def _fresh_config(namespace: str, class_name: str) -> dict[str, Any]:
    import keras

    return dict(getattr(getattr(keras, namespace), class_name)().get_config())


def _compile_object(raw: Any, what: str, lookup: Callable[[str], ObjectDef | None],
                    namespace: str) -> ObjectSpec:
    if isinstance(raw, str):
        definition = lookup(raw)
        if definition is None:
            raise _NoCompile(f"the {what} {raw!r} is not one LayerLab knows")
        return ObjectSpec(definition.type if what == "optimizer" else raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("class_name"), str):
        raise _NoCompile(f"the {what} is {_show(raw)}, not a name LayerLab knows")
    class_name = raw["class_name"]
    if class_name == "function" and raw.get("module") in ("builtins", f"keras.{namespace}") \
            and raw.get("registered_name") in (None, "function") \
            and isinstance(raw.get("config"), str):
        # Keras's own functions (keras.losses.mse) are saved by name; the name is looked up
        # in LayerLab's catalog like any string, nothing is imported.
        return _compile_object(raw["config"], what, lookup, namespace)
    if raw.get("registered_name") is not None or raw.get("module") not in (
            None, f"keras.{namespace}"):
        raise _NoCompile(f"the {what} is a custom object "
                         f"{raw.get('registered_name') or raw.get('module')!r}")
    definition = lookup(class_name)
    if definition is None or definition.type != class_name:
        raise _NoCompile(f"the {what} {class_name!r} is not one LayerLab knows")
    config = raw.get("config") or {}
    if not isinstance(config, dict):
        raise _NoCompile(f"the {what}'s settings are {_show(config)}")
    fresh = _fresh_config(namespace, class_name)
    args: dict[str, Any] = {}
    for key, value in config.items():
        if key == "name":
            continue
        param = definition.param(key)
        if isinstance(value, (dict, list)) and not (param is not None and param.kind in (
                "size", "shape")):
            kind = value.get("class_name") if isinstance(value, dict) else "list"
            raise _NoCompile(f"the {what} {class_name}'s {key} is given as an object "
                             f"({_show(kind)}), which LayerLab cannot represent")
        if param is not None:
            if _is_number(value) and _is_number(param.default) and _float_close(value,
                                                                                 param.default):
                continue
            if isinstance(value, float):
                value = float(f"{value:.7g}")  # undo float32 rounding: 0.0005000000237 -> 0.0005
            if not (value == param.default and type(value) is type(param.default)):
                args[key] = value
        elif key not in fresh:
            raise _NoCompile(f"the {what} {class_name} has a setting {key!r} LayerLab "
                             "does not know")
        elif not _same(value, fresh[key]):
            raise _NoCompile(f"the {what} {class_name} sets {key} = {_show(value)}, which "
                             "LayerLab cannot represent")
    problems = check_args(definition, args)
    if problems:
        key, message = problems[0]
        raise _NoCompile(f"the {what} {class_name}'s {key}: {message}")
    return ObjectSpec(class_name, args)


def _compile_spec(raw: Any, legacy: bool) -> CompileSpec:
    """The file's compile settings as a CompileSpec, or _NoCompile saying why not."""
    if not raw:
        raise _NoCompile("the file has no compile settings (the model was saved uncompiled)")
    if not isinstance(raw, dict):
        raise _NoCompile(f"the compile settings are {_show(raw)}, not an object")
    optimizer = raw.get("optimizer_config") if legacy else raw.get("optimizer")
    if optimizer is None:
        raise _NoCompile("the file names no optimizer")
    for key in ("loss_weights", "weighted_metrics"):
        if raw.get(key) is not None:
            raise _NoCompile(f"the file sets {key}, which LayerLab does not have")
    loss = raw.get("loss")
    if loss is None:
        raise _NoCompile("the file names no loss")
    metrics = raw.get("metrics") or []
    if not isinstance(metrics, list):
        raise _NoCompile(f"the metrics are {_show(metrics)}, not a list")
    return CompileSpec(
        _compile_object(optimizer, "optimizer", optimizer_def, "optimizers"),
        _compile_object(loss, "loss", loss_def, "losses"),
        tuple(_compile_object(m, "metric", metric_def, "metrics") for m in metrics),
    )


# -- public API -------------------------------------------------------------------------------


def _inspect(local: Path, fmt: Format, shown: Path) -> ImportedModel:
    """Reads and checks the file at `local`; messages name `shown` (the user's path)."""
    keras_version = require_safe_keras()
    training = None
    try:
        if fmt == "keras":
            doc, file_version, weights = _read_keras(local)
        else:
            doc, file_version, weights, training = _read_h5(local)
    except ModelFileError as exc:
        raise ModelFileError(exc.message, shown) from None
    checker = _Checker(shown, fmt, keras_version)
    spec, name, compile_config = checker.model(doc)
    notes = checker.notes
    compile_spec = None
    try:
        compile_spec = _compile_spec(training if fmt == "h5" else compile_config,
                                     legacy=fmt == "h5")
    except _NoCompile as why:
        notes.append(f"{why}; LayerLab's default compile settings (Adam, binary cross-entropy, "
                     "accuracy) are used instead. Check the loss and metrics before training")
    _check_weight_count(spec, weights, shown)
    if weights.optimizer_state:
        notes.append("the file also holds the optimizer's state; LayerLab loads the trained "
                     "weights only, so training continues with a fresh optimizer")
    file_parsed = _version_tuple(file_version or "")
    installed = _version_tuple(keras_version)
    if file_parsed and installed and file_parsed > installed:
        notes.append(f"the file was written by Keras {file_version}, newer than the installed "
                     f"{keras_version}")
    return ImportedModel(spec, name, file_version, fmt, notes, compile_spec,
                         tuple(weights.layer_shapes), weights.optimizer_state)


def _check_weight_count(spec: ModelSpec, weights: _Weights, path: Path) -> None:
    """The arrays in the file must hold exactly the values the layers need.

    Checked before anything is built, so a config that claims a huge layer cannot make
    LayerLab allocate memory the file does not back with data.
    """
    from .summary import summarize

    summary = summarize(spec)
    if not summary.ok:
        bad = next((row.error for row in summary.rows if row.error), summary.input_error)
        raise ModelFileError(f"the layers in the file do not fit together: {bad}", path)
    stored = sum(math.prod(shape) for shape in weights.layer_shapes)
    if stored != summary.total_params:
        raise ModelFileError(
            f"the file's weights hold {stored:,} numbers, but the layers it describes need "
            f"{summary.total_params:,}; the weights do not belong to this model (the file is "
            "damaged or was edited)", path)


def inspect_model_file(path: str | os.PathLike) -> ImportedModel:
    """Reads a `.keras` or legacy `.h5` model file and checks it, without Keras deserialising.

    Nothing in the file is imported, called or unpickled: the archive and JSON are read
    with the standard library and h5py, and only a top-level Sequential made of LayerLab's
    catalog layers with settings Keras itself writes is accepted (see the module docstring).

    Args:
        path: the model file.

    Returns:
        The editable spec, the model's name, the Keras version that wrote it, its format,
        the compile settings when LayerLab knows them, and notes for the person.

    Raises:
        ModelFileError: the file is unreadable, or holds something LayerLab refuses; the
            message says what, why, and how to fix it.
    """
    source = _regular_file(path)
    return _inspect(source, _format_of(source), source)


def load_model_file(path: str | os.PathLike) -> tuple[ImportedModel, Any]:
    """Inspects a model file, then builds it from the spec and loads its trained weights.

    The file is first copied to a private folder, and both the checks and the loading read
    that copy, so the file cannot be swapped between the two. The Keras model is built by
    LayerLab's `build_model` from the checked spec (nothing from the file is deserialised);
    `load_weights` then only assigns arrays, and every weight is checked to have been filled.

    Args:
        path: a `.keras` or legacy `.h5` file.

    Returns:
        (what the file holds, an uncompiled `keras.Sequential` with the trained weights).

    Raises:
        ModelFileError: refused, unreadable, or the weights do not fit the model.
    """
    source = _regular_file(path)
    fmt = _format_of(source)
    require_safe_keras()
    with tempfile.TemporaryDirectory(prefix="layerlab-import-") as folder:
        local = Path(folder) / ("model.keras" if fmt == "keras" else "model.h5")
        try:
            with source.open("rb") as src, local.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        except OSError as exc:
            raise ModelFileError(f"cannot read the file: {exc.strerror or exc}", source) from None
        imported = _inspect(local, fmt, source)
        model = _build(imported, source)
        _load_weights(model, local, imported, source)
    return imported, model


def _build(imported: ImportedModel, path: Path) -> Any:
    from .build import BuildError, build_model

    name = imported.name if SAFE_NAME.match(imported.name) else "sequential"
    try:
        return build_model(imported.spec, name=name)
    except Exception as exc:  # the boundary: whatever Keras says becomes one refusal line
        if isinstance(exc, BuildError):
            message = str(exc)
        else:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelFileError(f"the model in the file cannot be rebuilt: {message}", path) from None


def _load_weights(model: Any, local: Path, imported: ImportedModel, path: Path) -> None:
    """Loads the arrays into the built model and proves every weight was filled."""
    import numpy as np

    ours = sorted(tuple(int(d) for d in w.shape) for w in model.weights)
    theirs = sorted(imported.weight_shapes)
    if ours != theirs:
        missing = [s for s in ours if s not in theirs] or ours
        raise ModelFileError(
            f"the file's weights have the shapes {_show([list(s) for s in theirs][:6])}, but "
            f"the model needs {_show([list(s) for s in ours][:6])} (e.g. {list(missing[0])}); "
            "the weights do not belong to this model", path)
    # Every weight starts as NaN, so one that load_weights skipped cannot pass for loaded.
    for weight in model.weights:
        weight.assign(np.full(tuple(weight.shape), np.nan, dtype=weight.dtype))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "skipping the optimizer's variables"
            model.load_weights(str(local))
    except Exception as exc:  # the boundary: a crafted file may upset Keras in any way
        message = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ModelFileError(
            f"the trained weights in the file do not fit the model its config describes "
            f"({message}); the file is damaged or was edited", path) from None
    bad = [w.path for w in model.weights if not np.isfinite(np.asarray(w.numpy())).all()]
    if bad:
        more = f" and {len(bad) - 1} more weight(s)" if len(bad) > 1 else ""
        raise ModelFileError(
            f"the file has no usable trained values for {bad[0]}{more}: they are missing, or "
            "NaN or infinite (a training run that diverged). LayerLab opens only complete "
            "models with finite weights", path)


def weights_path_for(project_path: str | os.PathLike) -> Path:
    """Where a project's trained weights live: `<stem>.weights.h5` beside `<stem>.layerlab.json`."""
    from .project import SUFFIX

    p = Path(project_path)
    stem = p.name[: -len(SUFFIX)] if p.name.endswith(SUFFIX) else p.stem
    return p.with_name(f"{stem}.weights.h5")


def _project_name(imported: ImportedModel, path: Path) -> str:
    """The model's own name; Keras's automatic "sequential_3" gives way to the file's name."""
    if SAFE_NAME.match(imported.name) and not _DEFAULT_MODEL_NAME.match(imported.name):
        return imported.name
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    return stem if stem and stem.isprintable() and len(stem) <= 100 else "Imported model"


def import_model_file(path: str | os.PathLike,
                      out_project_path: str | os.PathLike) -> ImportResult:
    """Turns a trained Sequential model file into a LayerLab project and its weights file.

    Writes `<stem>.weights.h5` (Keras's `save_weights`) first and the project JSON second,
    both atomically, so a project on disk always has its weights beside it.

    Args:
        path: a `.keras` or legacy `.h5` model file.
        out_project_path: the `.layerlab.json` file to write.

    Returns:
        The project, what the file held (with notes), and the two paths written.

    Raises:
        ModelFileError: the model file is refused or unreadable.
        OSError: the project or weights could not be written.
    """
    from .project import ProjectError, project_from_json, project_to_json, save_project

    imported, model = load_model_file(path)
    out = Path(out_project_path)
    project = Project(
        name=_project_name(imported, Path(path)),
        model=imported.spec,
        compile=imported.compile or CompileSpec(),
    )
    try:  # what we write must be a project LayerLab itself accepts: plain, known names only
        project = project_from_json(project_to_json(project))
    except ProjectError as exc:
        raise ModelFileError(f"the imported model is not a valid LayerLab project: "
                             f"{exc.problems[0]}", path) from None
    weights = weights_path_for(out)
    _save_weights_atomic(model, weights)
    save_project(project, out)
    return ImportResult(project, imported, out, weights)


def import_to_project(path: str | os.PathLike, out_project_path: str | os.PathLike) -> Project:
    """Like `import_model_file`, returning only the project (see there)."""
    return import_model_file(path, out_project_path).project


def _save_weights_atomic(model: Any, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".weights.h5",
                               dir=target.parent)
    os.close(fd)
    try:
        os.unlink(tmp)  # Keras writes the file itself; it only needs the name
        model.save_weights(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


__all__ = [
    "ImportResult", "ImportedModel", "ModelFileError", "MIN_KERAS", "import_model_file",
    "import_to_project", "inspect_model_file", "load_model_file", "looks_like_path",
    "require_safe_keras", "weights_path_for",
]
