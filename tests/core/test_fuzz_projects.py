"""Fuzzing project files from strangers: load -> summary -> checks -> code -> export.

A `*.layerlab.json` file is mailed and downloaded, so opening one must be safe. The property
checked here, for ANY text or file:

* loading raises nothing but `ProjectError` (or its subclass `OutsidePathsError`, after which
  the person may say yes and the rest goes on with the approved project);
* on a project that loaded, `summarize`/`format_table`, `run_checks` and `model_code` raise
  nothing at all, and `export_script` raises at most `DataError` (it loads csv/npz data);
* nothing works beyond `gui_app.core.limits`: every example finishes within a Hypothesis
  deadline, and the big crafted cases (deep nesting, huge integers, 700,000 layers, 30 MB,
  FIFOs, /dev/zero) are refused with `ProjectError` rather than timed tightly.

Strategies: (a) mutations of valid documents (replace a leaf or subtree with a nasty value,
add unknown keys, delete keys, repeat list items), (b) random JSON documents wrapped with
the right "format" and "version", (c) raw text (random, truncated and corrupted projects).
Texts are fed to `loads`, and some are written to files (in several encodings) and fed to
`load_project`.

The default run is deterministic (`derandomize=True`) and fast; `-m slow` runs the same
properties with 2,000 examples each. This file must not import Keras (see the last test).
"""

from __future__ import annotations

import ast
import copy
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st

from gui_app.core import limits
from gui_app.core.catalog import ACTIVATIONS, CALLBACKS, LAYERS, LOSSES, METRICS, OPTIMIZERS
from gui_app.core.checks import ERROR, run_checks
from gui_app.core.codegen import model_code
from gui_app.core.data import DATA_DEFAULTS, DATA_SOURCES, DataError, load_dataset
from gui_app.core.export import export_script
from gui_app.core.project import (
    FIT_PARAMS,
    FORMAT,
    TOP_KEYS,
    VERSION,
    OutsidePathsError,
    ProjectError,
    dumps,
    load_project,
    loads,
    project_to_json,
)
from gui_app.core.spec import default_project
from gui_app.core.summary import format_table, summarize

# -- seed documents: valid projects the mutations start from -----------------------------------

DEFAULT_DOC = project_to_json(default_project())

CONV_DOC = {
    "format": FORMAT,
    "version": VERSION,
    "name": "Digits CNN",
    "description": "A small convolutional network for 28x28 grey images.",
    "model": {
        "input_shape": [28, 28, 1],
        "layers": [
            {"type": "Rescaling", "scale": 1 / 255},
            {"type": "Conv2D", "filters": 8, "kernel_size": 3, "activation": "relu",
             "padding": "same"},
            {"type": "MaxPooling2D", "pool_size": [2, 2]},
            {"type": "Conv2D", "filters": 16, "kernel_size": [3, 3], "strides": [1, 1],
             "dilation_rate": 1, "activation": "relu", "kernel_regularizer": "l2"},
            {"type": "ZeroPadding2D", "padding": [[1, 1], [0, 0]]},
            {"type": "UpSampling2D", "size": [2, 2], "interpolation": "bilinear"},
            {"type": "AveragePooling2D", "pool_size": 2, "strides": None},
            {"type": "SpatialDropout2D", "rate": 0.1},
            {"type": "GlobalAveragePooling2D"},
            {"type": "Dropout", "rate": 0.25, "seed": 1},
            {"type": "Dense", "units": 10, "activation": "softmax", "name": "out"},
        ],
    },
    "compile": {
        "optimizer": {"type": "Adam", "learning_rate": 0.001, "clipnorm": 1.0},
        "loss": "sparse_categorical_crossentropy",
        "metrics": ["accuracy", {"type": "SparseTopKCategoricalAccuracy", "k": 3}],
    },
    "data": {"source": "digits", "validation_split": 0.1, "test_split": 0.1,
             "standardize": True},
    "fit": {
        "epochs": 3,
        "batch_size": 64,
        "seed": 42,
        "callbacks": [
            {"type": "EarlyStopping", "patience": 2, "restore_best_weights": True},
            {"type": "CSVLogger", "filename": "logs/run.csv"},
        ],
    },
}

LSTM_DOC = {
    "format": FORMAT,
    "version": VERSION,
    "name": "Sequences",
    "model": {
        "input_shape": [50],
        "layers": [
            {"type": "Embedding", "input_dim": 1000, "output_dim": 16, "mask_zero": True},
            {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 32,
                                                "return_sequences": True},
             "merge_mode": "concat"},
            {"type": "SpatialDropout1D", "rate": 0.1},
            {"type": "Conv1D", "filters": 8, "kernel_size": 3, "padding": "causal"},
            {"type": "MaxPooling1D", "pool_size": 2},
            {"type": "Bidirectional", "layer": {"type": "GRU", "units": 8, "dropout": 0.1}},
            {"type": "BatchNormalization", "momentum": 0.9},
            {"type": "Dense", "units": 1, "activation": "sigmoid"},
        ],
    },
    "compile": {"optimizer": "rmsprop", "loss": "binary_crossentropy",
                "metrics": ["accuracy", "auc"]},
    "data": {"source": "npz", "path": "sequences.npz"},
    "fit": {"epochs": 5, "class_weight": "balanced", "shuffle": False,
            "virtual_epochs": {"stop_point": 1.5, "checkpoints": 3}},
}

# Reads data.csv from the export folder (written by the `workdir` fixture), so export loads
# real data, lays out virtual epochs and writes class weights.
CSV_DOC = {
    "format": FORMAT,
    "version": VERSION,
    "name": "Table",
    "model": {
        "input_shape": [2],
        "layers": [
            {"type": "Dense", "units": 4, "activation": "tanh", "use_bias": False},
            {"type": "LayerNormalization"},
            {"type": "GaussianNoise", "stddev": 0.1},
            {"type": "Reshape", "target_shape": [-1, 2]},
            {"type": "Flatten"},
            {"type": "Activation", "activation": "relu"},
            {"type": "Dense", "units": 2, "activation": "softmax"},
        ],
    },
    "compile": {"optimizer": {"type": "SGD", "momentum": 0.9}, "loss": "categorical_crossentropy",
                "metrics": ["categorical_accuracy"]},
    "data": {"source": "csv", "path": "data.csv", "target": "label", "labels": "one_hot",
             "validation_split": 0.2},
    "fit": {
        "epochs": 2,
        "batch_size": 8,
        "seed": 7,
        "class_weight": {"0": 1.0, "1": 2.5},
        "virtual_epochs": {"stop_point": 2.5, "checkpoints": 5},
        "callbacks": [
            {"type": "ModelCheckpoint", "filepath": "ckpt/best.keras", "save_best_only": True},
            {"type": "TensorBoard", "log_dir": "tb"},
            {"type": "ReduceLROnPlateau", "factor": 0.5},
            {"type": "TerminateOnNaN"},
        ],
    },
}

SEED_DOCS = [DEFAULT_DOC, CONV_DOC, LSTM_DOC, CSV_DOC]
SEED_TEXTS = [json.dumps(d, indent=2) for d in SEED_DOCS] + [dumps(default_project())]

CSV_TEXT = "x1,x2,label\n" + "".join(
    f"{(i * 7) % 11 / 10},{(i * 3) % 5 / 4},{'yes' if i % 3 else 'no'}\n" for i in range(60))


# -- the property -------------------------------------------------------------------------------

class Hang(Exception):
    """Raised by the alarm: a step ran far past any reasonable time (it would hang the app)."""


@contextmanager
def time_limit(seconds: float, what: str):
    """Interrupts a step that runs longer than `seconds` (main thread, POSIX only), so a
    regression that loops or blocks fails with a traceback instead of hanging the suite."""
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_alarm(signum, frame):
        raise Hang(f"{what} took more than {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


STEP_LIMIT_S = 20.0  # only a hang guard; the Hypothesis deadline is the real bound


def open_project(load):
    """Runs `load()`; returns the project, the approved one after OutsidePathsError, or None
    when it was refused with ProjectError. Anything else propagates (a bug)."""
    try:
        with time_limit(STEP_LIMIT_S, "load"):
            project = load()
    except OutsidePathsError as exc:
        assert exc.problems and exc.paths
        _event("outside paths, approved")
        return exc.approved()
    except ProjectError as exc:
        assert exc.problems, "a ProjectError must say what is wrong"
        assert all(isinstance(p, str) and p for p in exc.problems)
        exc.report()
        _event("refused")
        return None
    _event("loaded")
    return project


def _event(name: str) -> None:
    try:
        event(name)  # shown by --hypothesis-show-statistics
    except Exception:  # outside a Hypothesis test
        pass


def use_project(project, base_dir: Path) -> None:
    """Everything the app and CLI do with an opened project, short of Keras."""
    with time_limit(STEP_LIMIT_S, "summary"):
        summary = summarize(project.model)
        format_table(summary)
        format_table(summary, title=project.name)
        json.dumps(summary.to_json())
    with time_limit(STEP_LIMIT_S, "checks"):
        findings = run_checks(project)
        run_checks(project, summary=summary)
        for finding in findings:
            json.dumps(finding.to_json())
    with time_limit(STEP_LIMIT_S, "model_code"):
        model_code(project)
        model_code(project, fit_call=False)
    if export_downloads(project):
        _event("export skipped: a Keras dataset with virtual epochs")
        return
    with time_limit(STEP_LIMIT_S, "export"):
        try:
            export_script(project, base_dir=base_dir)
        except (DataError, ProjectError) as exc:  # export's documented refusals
            assert str(exc)


def export_downloads(project) -> bool:
    """A Keras dataset with virtual epochs: export needs the training-set size, so it loads
    Keras's dataset, which imports Keras and downloads it when it is not cached (by design,
    and not something to do in a fuzz loop)."""
    return str(project.data.get("source", "")).startswith("keras:") \
        and bool(project.fit.get("virtual_epochs"))


def check_text(text: str, base_dir: Path) -> None:
    project = open_project(lambda: loads(text))
    if project is not None:
        use_project(project, base_dir)


def check_file(path: Path, base_dir: Path) -> None:
    project = open_project(lambda: load_project(path))
    if project is not None:
        use_project(project, base_dir)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """The project's folder for export: holds data.csv (and the files the tests write)."""
    folder = tmp_path_factory.mktemp("fuzz-projects")
    (folder / "data.csv").write_text(CSV_TEXT, encoding="utf-8")
    # A first pass imports what the loaders import lazily (scikit-learn for `digits`), so
    # that no example pays for it against the deadline.
    for text in SEED_TEXTS:
        check_text(text, folder)
    load_dataset({"source": "iris"})
    return folder


def test_seed_documents_load_and_pass(workdir):
    for text in SEED_TEXTS:
        project = loads(text)
        use_project(project, workdir)
        assert not [f for f in run_checks(project) if f.severity == ERROR], project.name


# -- strategies ---------------------------------------------------------------------------------

CATALOG_NAMES = sorted({*LAYERS, *ACTIVATIONS[:8], *OPTIMIZERS, *LOSSES, *METRICS, *CALLBACKS,
                        *DATA_SOURCES, *DATA_DEFAULTS, *TOP_KEYS, "adam", "mse", "accuracy",
                        "balanced", "one_hot", "integer", "same", "valid", "causal", FORMAT})

NASTY_INTS = [0, 1, -1, -5, 2, 3, 7, 100, 255, 10**6, 2**31 - 1, 2**31, -(2**31), 2**32 - 1,
              2**32, 2**53 + 1, 2**63, 10**9, 10**18, 10**24, 10**24 + 7, 10**30, -(10**30)]
NASTY_FLOATS = [8.0, 0.5, 0.0, -0.0, 1.0, 0.999999, 1e-7, 1e-320, 5e-324, 1e300, 1e308,
                -1e308, 1.7976931348623157e308, math.nan, math.inf, -math.inf]
NASTY_STRINGS = [
    "", " ", "x", '"', "'", '"""', "'''", "\\", "\\n", "\n", "\r\n", "\t", "\x00", "a\x00b",
    "\ud800", "x\udfffy", "\u202e", "\ufeff", "é", "\U0001d4b3", "x" * 20_000, "y" * 10_000,
    "/etc/passwd", "~/x", "~nobody_here_xyz/x", "../../x", "..", ".", "/dev/zero",
    "/dev/urandom", "C:\\Windows\\x", "\\\\server\\share\\x", "logs/{epoch}.keras",
    "data.csv", "sequences.npz", "missing.csv", "run.csv",
    '"); import os; os.system("echo pwned")  #', "\"\"\"\nimport os\n\"\"\"",
    "{}", "[]", "null", "NaN", "1e400", "0x10", "-1",
]
JSON_SCALARS = (st.none() | st.booleans() | st.integers(-(2**40), 2**40)
                | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20))
json_values = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=5)
    | st.dictionaries(st.text(max_size=12) | st.sampled_from(CATALOG_NAMES), inner, max_size=5),
    max_leaves=25,
)
nasty_values = st.one_of(
    st.sampled_from(NASTY_INTS),
    st.sampled_from(NASTY_FLOATS),
    st.sampled_from(NASTY_STRINGS),
    st.sampled_from(CATALOG_NAMES),
    st.sampled_from([None, True, False, [], {}, [None], [1], [-1, 2], [3, 3], [[1, 1], [2, 2]],
                     [2**31 - 1] * 8, [1] * 9, [0] * 10_000, [[[[[[[[[[]]]]]]]]]],
                     {"type": "LSTM", "units": 4}, {"type": "Dense", "units": 2},
                     {"type": "Bidirectional", "layer": {"type": "GRU", "units": 2}},
                     {"type": "Adam", "learning_rate": 1e308}, {"type": None},
                     {"stop_point": 10_000, "checkpoints": 100_000},
                     {"stop_point": 0.001, "checkpoints": 1},
                     {"0": 1e6, "1": 5e-324}, {"paths": ["/tmp/x"], "approval": "0" * 64}]),
    st.integers(),
    st.integers(min_value=-3, max_value=40),
    st.lists(st.integers(min_value=-1, max_value=70), max_size=9),
)
keys = st.sampled_from(CATALOG_NAMES) | st.sampled_from(["", "__proto__", "\ud800", "x" * 300,
                                                        "type", "units", "name", "layer"])


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*prefix, i))


def _get(doc, path):
    for part in path:
        doc = doc[part]
    return doc


@st.composite
def mutated_documents(draw):
    """A seed document with 1 to 4 edits: a leaf or subtree replaced, a key added or
    deleted, a list item repeated."""
    return mutate(draw, copy.deepcopy(draw(st.sampled_from(SEED_DOCS))), draw(st.integers(1, 4)))


def mutate(draw, doc, edits: int):
    for _ in range(edits):
        path = draw(st.sampled_from(list(_paths(doc))))
        target = _get(doc, path)
        op = draw(st.sampled_from(["nasty", "nasty", "nasty", "json", "delete", "add", "repeat"]))
        if op in ("nasty", "json"):
            # a copy: sampled_from hands out shared objects, which later edits would change
            value = copy.deepcopy(draw(nasty_values if op == "nasty" else json_values))
            if path:
                _get(doc, path[:-1])[path[-1]] = value
            else:
                doc = value
        elif op == "delete" and path:
            del _get(doc, path[:-1])[path[-1]]
        elif op == "add" and isinstance(target, dict):
            target[draw(keys)] = copy.deepcopy(draw(nasty_values))
        elif op == "repeat" and isinstance(target, list) and target:
            i = draw(st.integers(0, len(target) - 1))
            target[i:i] = [copy.deepcopy(target[i])] * draw(st.integers(1, 3))
    return doc


def _layer_strategy():
    def layer_of(kind):
        names = [p.name for p in LAYERS[kind].params] + ["bogus"]
        return st.fixed_dictionaries(
            {"type": st.just(kind)},
            optional={n: nasty_values | json_values for n in names})
    return st.sampled_from(sorted(LAYERS)).flatmap(layer_of)


def param_values(p):
    """Mostly values a parameter accepts, at the edges of its range, now and then a nasty one."""
    if p.kind == "int":
        lo = int(p.min) if p.min is not None else -(2**31 - 1)
        hi = int(p.max) if p.max is not None else limits.MAX_INT_ARG
        good = st.integers(lo, hi) | st.sampled_from(
            [v for v in (lo, hi, 1, 2, 3, 64, 2**31 - 1) if lo <= v <= hi])
    elif p.kind == "float":
        lo = p.min if p.min is not None else -1e308
        hi = p.max if p.max is not None else 1e308
        good = st.floats(lo, hi, exclude_min=p.min_exclusive, exclude_max=p.max_exclusive,
                         allow_nan=False, allow_infinity=False)
    elif p.kind == "bool":
        good = st.booleans()
    elif p.kind == "choice":
        good = st.sampled_from(list(p.choices))
    elif p.kind == "size":
        one = st.integers(1, 6) | st.sampled_from([2**31 - 1, 1000])
        good = one | st.lists(one, min_size=p.rank, max_size=p.rank)
    elif p.kind == "shape":
        good = st.lists(st.integers(1, 8) | st.just(-1), min_size=1, max_size=4)
    elif p.kind == "padding2d":
        n = st.integers(0, 3) | st.just(2**31 - 1)
        good = n | st.lists(n, min_size=2, max_size=2) | st.lists(
            st.lists(n, min_size=2, max_size=2), min_size=2, max_size=2)
    elif p.kind == "layer":
        good = st.sampled_from(["LSTM", "GRU", "SimpleRNN", "Dense"]).flatmap(layers_of)
    else:
        good = st.text(min_size=1, max_size=30) | st.sampled_from(NASTY_STRINGS)
    return good | st.none() if p.nullable else good


def layers_of(kind):
    """One layer of `kind` with its required arguments and some optional ones."""
    params = LAYERS[kind].params
    return st.fixed_dictionaries(
        {"type": st.just(kind), **{p.name: param_values(p) for p in params if p.required}},
        optional={p.name: param_values(p) for p in params if not p.required})


def objects_of(definitions, names):
    def one(definition):
        return st.just(definition.alias) | st.fixed_dictionaries(
            {"type": st.just(definition.type),
             **{p.name: param_values(p) for p in definition.params if p.required}},
            optional={p.name: param_values(p) for p in definition.params if not p.required})
    return st.sampled_from([definitions[n] for n in sorted(names)]).flatmap(one)


def _dense_recurrent_or_any():
    return st.sampled_from(sorted(LAYERS)).flatmap(layers_of)


dims = st.integers(1, 64) | st.none() | st.sampled_from([2**31 - 1, 1000, 1])
fit_values = st.fixed_dictionaries({}, optional={
    **{p.name: param_values(p) for p in FIT_PARAMS},
    "class_weight": st.none() | st.just("balanced") | st.dictionaries(
        st.integers(0, 20).map(str), st.floats(1e-9, 1e6), min_size=1, max_size=5),
    "virtual_epochs": st.none() | st.fixed_dictionaries({
        "stop_point": st.floats(1e-6, 10_000, exclude_min=True) | st.sampled_from([1, 10_000]),
        "checkpoints": st.integers(1, 100_000)}),
    "callbacks": st.lists(st.sampled_from(sorted(CALLBACKS)).flatmap(
        lambda name: st.fixed_dictionaries(
            {"type": st.just(name),
             **{p.name: param_values(p) for p in CALLBACKS[name].params if p.required}},
            optional={p.name: param_values(p) for p in CALLBACKS[name].params
                      if not p.required})), max_size=3),
})
data_values = st.fixed_dictionaries({"source": st.sampled_from(
    [s for s in DATA_SOURCES if not s.startswith("keras:")] + ["keras:mnist"])}, optional={
    "path": st.sampled_from(["data.csv", "missing.npz", "/etc/passwd", "/dev/zero", "../x.csv",
                             "", "~/x.csv", "workdir"]),
    "samples": st.integers(10, 3000) | st.sampled_from([1_000_000, 9, 10]),
    "noise": st.floats(0, 5), "classes": st.integers(2, 5), "seed": st.integers(0, 2**40),
    "validation_split": st.floats(0, 0.9), "test_split": st.floats(0, 0.09),
    "standardize": st.booleans(), "labels": st.sampled_from(["integer", "one_hot"]),
    "target": st.sampled_from(["label", "x1", "nope"]), "features": st.just(["x1", "x2"]),
})


@st.composite
def plausible_documents(draw):
    """Projects built from the catalog: real layers, optimizers, losses, metrics and
    callbacks with values at the edges of their ranges, so most load and the summary,
    checks, code and export see extreme but valid settings."""
    layers = draw(st.lists(_dense_recurrent_or_any(), max_size=8))
    doc = {
        "format": FORMAT, "version": VERSION,
        "name": draw(st.text(max_size=20) | st.sampled_from(NASTY_STRINGS)),
        "model": {"input_shape": draw(st.lists(dims, min_size=1, max_size=4)), "layers": layers},
        "compile": {
            "optimizer": draw(objects_of(OPTIMIZERS, OPTIMIZERS)),
            "loss": draw(objects_of(LOSSES, LOSSES)),
            "metrics": draw(st.lists(objects_of(METRICS, METRICS), max_size=3)),
        },
        "data": draw(data_values),
        "fit": draw(fit_values),
    }
    # a copy: st.just and sampled_from hand out shared objects that the edits would change
    return mutate(draw, copy.deepcopy(doc), draw(st.sampled_from([0, 0, 0, 1, 2])))


@st.composite
def random_documents(draw):
    """Random JSON wearing the right format and version, with a roughly project-like
    model (real layer types with random arguments), or anything at all."""
    model = draw(st.one_of(
        json_values,
        st.fixed_dictionaries({
            "input_shape": st.lists(st.none() | st.integers(-2, 2**31), min_size=0, max_size=9)
            | json_values,
            "layers": st.lists(_layer_strategy(), max_size=6),
        }),
    ))
    doc = draw(st.fixed_dictionaries(
        {"format": st.just(FORMAT), "version": st.just(VERSION) | st.sampled_from([0, 2, 1.0])},
        optional={k: json_values for k in TOP_KEYS if k not in ("format", "version", "model")}
        | {"extra": json_values},
    ))
    if draw(st.integers(0, 9)):  # sometimes no model at all
        doc["model"] = model
    return doc


@st.composite
def serialized(draw, documents):
    """A document as JSON text: with or without NaN/Infinity tokens, ASCII escapes (so a
    lone surrogate is written as \\ud800) or raw characters, indented or not."""
    doc = draw(documents)
    allow_nan = draw(st.booleans())
    ensure_ascii = draw(st.booleans())
    indent = draw(st.sampled_from([None, 2]))
    try:
        return json.dumps(doc, allow_nan=allow_nan, ensure_ascii=ensure_ascii, indent=indent)
    except ValueError:  # NaN or Infinity without allow_nan
        return json.dumps(doc, allow_nan=True, ensure_ascii=ensure_ascii, indent=indent)


@st.composite
def truncated_texts(draw):
    text = draw(st.sampled_from(SEED_TEXTS))
    return text[: draw(st.integers(0, len(text)))]


@st.composite
def corrupted_texts(draw):
    text = draw(st.sampled_from(SEED_TEXTS))
    chars = list(text)
    for _ in range(draw(st.integers(1, 5))):
        i = draw(st.integers(0, len(chars) - 1))
        chars[i] = draw(st.sampled_from(list('{}[]",:\\0123456789eE.-+ ntfu\x00\ud800')))
    return "".join(chars)


raw_texts = st.one_of(
    st.text(max_size=300),
    st.text(alphabet='{}[]",:\\0123456789eE.-+ ntrufalsNIy\n', max_size=300),
    truncated_texts(),
    corrupted_texts(),
    st.sampled_from(["", " ", "\ufeff", "null", "[]", "{}", "0", '"x"', "NaN", "-Infinity",
                     '{"format": "layerlab-project"}',
                     '{"format": "layerlab-project", "version": 1}',
                     '{"format": "layerlab-project", "version": 99999999999999999999}']),
)


@st.composite
def project_inputs(draw, texts):
    """Text for `loads`, or a file (UTF-8, UTF-8 with BOM, UTF-16, lone surrogates as
    bytes) for `load_project`."""
    text = draw(texts)
    how = draw(st.sampled_from(["text", "text", "utf-8", "utf-8-sig", "utf-16", "surrogates"]))
    return how, text


def check_input(case, base_dir: Path) -> None:
    how, text = case
    if how == "text":
        check_text(text, base_dir)
        return
    errors = "surrogatepass" if how == "surrogates" else "strict"
    encoding = "utf-8" if how == "surrogates" else how
    try:
        payload = text.encode(encoding, errors)
    except UnicodeEncodeError:
        payload = text.encode("utf-8", "surrogatepass")
    path = base_dir / "fuzz.layerlab.json"
    path.write_bytes(payload)
    check_file(path, base_dir)


HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
          HealthCheck.large_base_example, HealthCheck.function_scoped_fixture]
DEADLINE_MS = 2000


def fast(n: int):
    """Deterministic, and without the shrink phase: a failure is reported at once with the
    example that found it (shrinking one can take minutes); the slow variants shrink."""
    return settings(max_examples=n, deadline=DEADLINE_MS, derandomize=True, database=None,
                    suppress_health_check=HEALTH,
                    phases=[Phase.explicit, Phase.reuse, Phase.generate])


SLOW = settings(max_examples=2000, deadline=DEADLINE_MS, suppress_health_check=HEALTH)


@pytest.fixture
def slow_run(request):
    """The 2,000-example variants run only when asked for: `-m slow` (or LAYERLAB_FUZZ_SLOW=1).
    This project's plain `pytest` selects every marker, and the default must stay fast."""
    expr = request.config.getoption("markexpr", "") or ""
    if os.environ.get("LAYERLAB_FUZZ_SLOW") != "1" and ("slow" not in expr or "not slow" in expr):
        pytest.skip("a long fuzz run: select it with -m slow")

mutated_inputs = project_inputs(serialized(mutated_documents()))
random_inputs = project_inputs(serialized(random_documents() | plausible_documents()))
text_inputs = project_inputs(raw_texts)


@fast(250)
@given(case=mutated_inputs)
def test_mutated_projects(workdir, case):
    check_input(case, workdir)


@fast(120)
@given(case=random_inputs)
def test_random_documents(workdir, case):
    check_input(case, workdir)


@fast(150)
@given(case=text_inputs)
def test_raw_text(workdir, case):
    check_input(case, workdir)


@pytest.mark.slow
@SLOW
@given(case=mutated_inputs)
def test_mutated_projects_many(slow_run, workdir, case):
    check_input(case, workdir)


@pytest.mark.slow
@SLOW
@given(case=random_inputs)
def test_random_documents_many(slow_run, workdir, case):
    check_input(case, workdir)


@pytest.mark.slow
@SLOW
@given(case=text_inputs)
def test_raw_text_many(slow_run, workdir, case):
    check_input(case, workdir)


# -- crafted cases ------------------------------------------------------------------------------

def _doc_text(**changes) -> str:
    doc = copy.deepcopy(DEFAULT_DOC)
    doc.update(changes)
    return json.dumps(doc)


def _with_fit(fit_json: str) -> str:
    """The default project with `"fit": <fit_json>` spliced in as raw text."""
    doc = copy.deepcopy(DEFAULT_DOC)
    doc["fit"] = "@@FIT@@"
    return json.dumps(doc).replace('"@@FIT@@"', fit_json)


def _with_layers(layers_json: str, input_shape: str = "[2]") -> str:
    doc = copy.deepcopy(DEFAULT_DOC)
    doc["model"] = "@@MODEL@@"
    return json.dumps(doc).replace(
        '"@@MODEL@@"', f'{{"input_shape": {input_shape}, "layers": {layers_json}}}')


def refused(text: str, seconds: float = 10.0) -> ProjectError:
    """`loads(text)` raises ProjectError (not OutsidePathsError) within `seconds`."""
    start = time.perf_counter()
    with time_limit(seconds * 2 + 1, "loads"), pytest.raises(ProjectError) as info:
        loads(text)
    elapsed = time.perf_counter() - start
    assert not isinstance(info.value, OutsidePathsError)
    assert elapsed < seconds, f"refusing took {elapsed:.1f} s"
    assert info.value.problems
    return info.value


DENSE = '{"type": "Dense", "units": 1}'

CRAFTED_REFUSED = {
    "nested-1000": "[" * 1000 + "]" * 1000,
    "nested-100000": "[" * 100_000 + "]" * 100_000,
    "nested-objects-100000": '{"a":' * 100_000 + "1" + "}" * 100_000,
    "nested-1000-in-project": _doc_text(description="@").replace(
        '"@"', "[" * 1000 + "]" * 1000),
    "nested-100000-unclosed": "[" * 100_000,
    "int-5000-digits": "1" * 5000,
    "int-5000-digits-seed": _with_fit('{"seed": ' + "9" * 5000 + "}"),
    "int-50000-digits-units": _with_layers('[{"type": "Dense", "units": ' + "7" * 50_000 + "}]"),
    "units-10**400": _with_layers('[{"type": "Dense", "units": ' + str(10**400) + "}]"),
    "units-1e400": _with_layers('[{"type": "Dense", "units": 1e400}]'),
    "units-25-digits": _with_layers('[{"type": "Dense", "units": ' + "1" * 25 + "}]"),
    "input-shape-1e400": _with_layers(f"[{DENSE}]", input_shape="[1e400]"),
    "input-shape-nan": _with_layers(f"[{DENSE}]", input_shape="[NaN]"),
    "input-shape-2**31": _with_layers(f"[{DENSE}]", input_shape=f"[{2**31}]"),
    "input-shape-8.0": _with_layers(f"[{DENSE}]", input_shape="[8.0]"),
    "input-shape-9-dims": _with_layers(f"[{DENSE}]", input_shape="[1,1,1,1,1,1,1,1,1]"),
    "name-lone-surrogate": _doc_text(name="@").replace('"@"', '"\\ud800"'),
    "layer-name-lone-surrogate": _with_layers('[{"type": "Dense", "units": 1, "name": "a\\udfff"}]'),
    "key-lone-surrogate": _with_layers('[{"type": "Dense", "units": 1, "\\ud800": 1}]'),
    "name-20000-chars": _doc_text(name="n" * 20_000),
    "duplicate-top-keys": '{"format": "layerlab-project", "format": "layerlab-project", '
                          '"version": 1, "model": {"input_shape": [2], "layers": []}}',
    "duplicate-layer-keys": _with_layers('[{"type": "Dense", "units": 1, "units": 100000}]'),
    "duplicate-model-keys": _doc_text(model="@").replace(
        '"@"', '{"input_shape": [2], "layers": [], "layers": []}'),
    "501-layers": _with_layers("[" + ",".join([DENSE] * 501) + "]"),
    "stop-point-1e300": _with_fit('{"virtual_epochs": {"stop_point": 1e300, "checkpoints": 10}}'),
    "stop-point-10001": _with_fit('{"virtual_epochs": {"stop_point": 10001, "checkpoints": 1}}'),
    "checkpoints-1e9": _with_fit('{"virtual_epochs": {"stop_point": 1, "checkpoints": 1e9}}'),
    "checkpoints-10**9": _with_fit('{"virtual_epochs": {"stop_point": 1, '
                                   '"checkpoints": 1000000000}}'),
    "seed-2**32": _with_fit('{"seed": 4294967296}'),
    "seed-negative": _with_fit('{"seed": -1}'),
    "epochs-10**9": _with_fit('{"epochs": 1000000000}'),
    "batch-size-0": _with_fit('{"batch_size": 0}'),
    "class-weight-1e400": _with_fit('{"class_weight": {"0": 1e400}}'),
    "class-weight-key-a": _with_fit('{"class_weight": {"a": 1}}'),
    "class-weight-infinity": _with_fit('{"class_weight": {"0": Infinity}}'),
    "class-weight-nan": _with_fit('{"class_weight": {"0": NaN}}'),
    "class-weight-1e7": _with_fit('{"class_weight": {"0": 1e7}}'),
    "class-weight-zero": _with_fit('{"class_weight": {"0": 0}}'),
    "class-weight-negative-key": _with_fit('{"class_weight": {"-1": 1}}'),
    "class-weight-unicode-digit-key": _with_fit('{"class_weight": {"\\u0663": 1}}'),
    "samples-10**9": _doc_text(data={"source": "circle", "samples": 10**9}),
    "learning-rate-infinity": _doc_text(compile="@").replace(
        '"@"', '{"optimizer": {"type": "Adam", "learning_rate": Infinity}}'),
    "bidirectional-of-dense": _with_layers(
        '[{"type": "Bidirectional", "layer": {"type": "Dense", "units": 2}}]', "[5, 3]"),
    "bidirectional-of-bidirectional": _with_layers(
        '[{"type": "Bidirectional", "layer": {"type": "Bidirectional", '
        '"layer": {"type": "LSTM", "units": 2}}}]', "[5, 3]"),
    "version-newer": _doc_text(version=VERSION + 1),
    "version-huge": _doc_text(version="@").replace('"@"', "1" * 30),
    "not-an-object": "[1, 2, 3]",
    "wrong-format": _doc_text(format="keras"),
    "bom-then-garbage": "\ufeff\x00{",
}


@pytest.mark.parametrize("text", CRAFTED_REFUSED.values(), ids=CRAFTED_REFUSED.keys())
def test_crafted_text_is_refused(text):
    refused(text)


def _700000_layers() -> str:
    """700,000 layers in 18.9 MB: under MAX_PROJECT_BYTES, so only the layer count stops it."""
    text = _with_layers("[" + ",".join(['{"type":"Dense","units":1}'] * 700_000) + "]")
    assert len(text.encode()) < limits.MAX_PROJECT_BYTES
    return text


def test_700000_layers_are_refused_for_their_count():
    error = refused(_700000_layers(), seconds=10.0)
    assert any("layers" in p and str(limits.MAX_LAYERS) in p for p in error.problems), \
        error.problems


def test_700000_layers_file_is_refused_for_its_count(tmp_path):
    path = tmp_path / "layers.layerlab.json"
    path.write_text(_700000_layers(), encoding="utf-8")
    error = assert_refused_file(path, seconds=10.0)
    assert any("layers" in p and str(limits.MAX_LAYERS) in p for p in error.problems), \
        error.problems


def test_deep_nesting_message_names_the_limit():
    error = refused("[" * 100_000 + "]" * 100_000)
    assert str(limits.MAX_JSON_DEPTH) in str(error)


def test_long_integer_message_names_the_limit():
    error = refused(_with_fit('{"seed": ' + "9" * 5000 + "}"))
    assert str(limits.MAX_INT_DIGITS) in str(error)


ESCAPED_QUOTES = {
    # An unterminated string of escaped quotes: every quote starts a string that never
    # ends, which a backtracking scan for strings walks to the end from each quote
    # (quadratic). 40 KB; a truncated project file looks just like this.
    "raw-40kb": '"' + '\\"' * 20_000,
    "truncated-name-40kb": '{"format": "layerlab-project", "version": 1, "name": "'
                           + '\\"' * 20_000,
    "in-list-40kb": '[1, "' + '\\"' * 20_000 + "]",
}


@pytest.mark.parametrize("text", ESCAPED_QUOTES.values(), ids=ESCAPED_QUOTES.keys())
def test_unterminated_escaped_quotes_are_refused_quickly(text):
    refused(text, seconds=2.0)


def _bloated(kind: str) -> str:
    doc = copy.deepcopy(DEFAULT_DOC)
    long_key = "k" * 1_000_000
    if kind == "long-top-key":
        doc[long_key] = 1
    elif kind == "long-data-key":
        doc["data"][long_key] = 1
    elif kind == "long-layer-key":
        doc["model"]["layers"][0][long_key] = 1
    elif kind == "long-fit-key":
        doc["fit"][long_key] = 1
    elif kind == "100000-unknown-keys":
        doc.update({f"k{i}": 0 for i in range(100_000)})
    elif kind == "500-layers-1000-bad-args":
        doc["model"]["layers"] = [{"type": "Dense", "units": -1, **{f"a{j}": 0 for j in range(1000)}}
                                  for _ in range(limits.MAX_LAYERS)]
    return json.dumps(doc)


@pytest.mark.parametrize("kind", ["long-top-key", "long-data-key", "long-layer-key",
                                  "long-fit-key", "100000-unknown-keys",
                                  "500-layers-1000-bad-args"])
def test_refusal_message_stays_readable(kind):
    """The message goes into a dialog and a terminal: a file cannot make it megabytes long
    (values are already cut to 60 characters; keys and the number of problems must be too)."""
    error = refused(_bloated(kind))
    assert len(error.report()) < 100_000, f"{len(error.report()):,} characters"


def test_units_10_to_the_9_loads_but_checks_report_an_error(workdir):
    """3 billion parameters: the file is valid JSON with a valid int32, so it loads, but
    the checks must stop it before anyone builds it (MAX_PARAMS, memory)."""
    project = loads(_with_layers('[{"type": "Dense", "units": 1000000000}]'))
    use_project(project, workdir)
    summary = summarize(project.model)
    assert summary.total_params > limits.MAX_PARAMS
    errors = [f for f in run_checks(project) if f.severity == ERROR]
    assert any("param" in f.message.lower() or "memory" in f.message.lower() for f in errors), \
        [f.message for f in errors]


def test_largest_allowed_model_is_summarised_quickly(workdir):
    """500 layers (the limit) on the largest input: big numbers, no big work."""
    layers = ",".join(['{"type": "Dense", "units": 2147483647}'] * limits.MAX_LAYERS)
    text = _with_layers(f"[{layers}]", input_shape=json.dumps([2**31 - 1] * 8))
    start = time.perf_counter()
    project = open_project(lambda: loads(text))
    if project is not None:
        use_project(project, workdir)
        assert any(f.severity == ERROR for f in run_checks(project))
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("samples, fit", [
    (1_000_000, {"virtual_epochs": {"stop_point": 10_000, "checkpoints": 1}}),
    (1_000_000, {"virtual_epochs": {"stop_point": 10_000, "checkpoints": 100_000},
                 "batch_size": 1_000_000}),
    (1_000_000, {"virtual_epochs": {"stop_point": 0.0001, "checkpoints": 100_000},
                 "batch_size": 1}),
    (500, {"virtual_epochs": {"stop_point": 1, "checkpoints": 51}, "batch_size": 1_000_000}),
], ids=["stop-point-10000", "most-checkpoints-biggest-batch", "tiny-stop-point",
        "default-data-big-batch"])
def test_virtual_epoch_extremes_export_or_raise_data_error(workdir, samples, fit):
    """Settings that are each within their limits, together: export lays the passes out,
    so it must refuse (ProjectError) rather than raise anything else or do the work."""
    text = _doc_text(data={"source": "circle", "samples": samples}, fit=fit)
    start = time.perf_counter()
    check_text(text, workdir)
    assert time.perf_counter() - start < 10


@pytest.mark.parametrize("name", [
    '"); import os  #', '"""', "'''", "a\\b", "a\nb", "x" * 10_000, "\u202e", "é\t",
])
def test_texts_in_names_reach_code_intact(workdir, name):
    """Quotes, backslashes and line breaks in project, layer and callback texts."""
    doc = copy.deepcopy(CSV_DOC)
    doc["name"] = name
    doc["description"] = name
    doc["model"]["layers"][0]["name"] = name
    doc["fit"]["callbacks"][0]["filepath"] = name
    doc["compile"]["metrics"] = [{"type": "AUC", "curve": "PR"}]
    project = open_project(lambda: loads(json.dumps(doc)))
    if project is not None:
        use_project(project, workdir)
        assert_plain_code(model_code(project))
        assert_plain_code(export_script(project, base_dir=workdir))


# -- crafted files --------------------------------------------------------------------------------

def load_in_thread(path, timeout: float = 10.0):
    """`load_project(path)` in a thread; returns ('ok', project) / ('error', exception),
    or fails if it does not return within `timeout` (a FIFO that blocks)."""
    result: list = []

    def run():
        try:
            result.append(("ok", load_project(path)))
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            result.append(("error", exc))

    thread = threading.Thread(target=run, daemon=True)
    start = time.perf_counter()
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        # Unblock a reader stuck on a FIFO so the thread can end, then fail.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass
        pytest.fail(f"load_project({path}) did not return within {timeout} s")
    assert result
    return result[0], time.perf_counter() - start


def assert_refused_file(path, seconds: float = 10.0) -> ProjectError:
    (kind, value), elapsed = load_in_thread(path, timeout=max(seconds, 10.0))
    assert kind == "error" and isinstance(value, ProjectError) \
        and not isinstance(value, OutsidePathsError), (kind, value)
    assert elapsed < seconds
    assert value.problems
    return value


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_is_refused_promptly(tmp_path):
    fifo = tmp_path / "pipe.layerlab.json"
    os.mkfifo(fifo)
    assert_refused_file(fifo, seconds=5.0)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_symlink_to_device_is_refused_promptly(tmp_path, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    link = tmp_path / "dev.layerlab.json"
    link.symlink_to(device)
    assert_refused_file(link, seconds=5.0)


def test_30_mb_file_is_refused_by_size(tmp_path):
    path = tmp_path / "big.layerlab.json"
    with open(path, "wb") as handle:  # a valid project, then NULs up to 30 MB
        handle.write(dumps(default_project()).encode())
        handle.truncate(30 * 1024 * 1024)
    error = assert_refused_file(path, seconds=5.0)
    assert "MB" in str(error)


def test_30_mb_of_whitespace_json_is_refused(tmp_path):
    path = tmp_path / "spaces.layerlab.json"
    text = dumps(default_project())
    path.write_bytes(text[:-2].encode() + b" " * (30 * 1024 * 1024) + b"}\n")
    assert_refused_file(path, seconds=5.0)


@pytest.mark.parametrize("payload", [
    b"", b"\xff\xfe{\x00}\x00", b'{"name": "\xc3\x28"}', b"\x80" * 100, b"\xed\xa0\x80",
    "\ufeff".encode() * 2 + b"{}", b"\x00" * 1000,
], ids=["empty", "utf16-bom", "bad-continuation", "bare-continuations", "encoded-surrogate",
        "two-boms", "nuls"])
def test_unreadable_bytes_are_refused(tmp_path, payload):
    path = tmp_path / "bytes.layerlab.json"
    path.write_bytes(payload)
    assert_refused_file(path)


def test_folder_is_refused(tmp_path):
    folder = tmp_path / "folder.layerlab.json"
    folder.mkdir()
    assert_refused_file(folder)


@pytest.mark.parametrize("name", ["missing.layerlab.json", "x" * 5000, "a\x00b", "\ud800",
                                  "~no_such_user_xyz/p.layerlab.json"])
def test_odd_paths_are_refused(tmp_path, name):
    path = name if name.startswith("~") else str(tmp_path / name)
    assert_refused_file(path)


def test_unreadable_file_is_refused(tmp_path):
    path = tmp_path / "secret.layerlab.json"
    path.write_text(dumps(default_project()))
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: permissions are not enforced")
        assert_refused_file(path)
    finally:
        path.chmod(0o600)


def test_valid_file_through_a_symlink_loads(tmp_path, workdir):
    real = tmp_path / "real.layerlab.json"
    real.write_text(dumps(default_project()))
    link = tmp_path / "link.layerlab.json"
    link.symlink_to(real)
    check_file(link, workdir)
    assert load_project(link) == default_project()


# -- data files a project points at (export loads csv and npz data) ----------------------------

def _npy(array) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=True)
    return buf.getvalue()


def _npz_claiming(path: Path, shape) -> None:
    """An .npz whose x.npy header claims `shape` of float64 but holds no data."""
    import io
    import zipfile

    from numpy.lib import format as npy_format

    header = io.BytesIO()
    npy_format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": tuple(shape)})
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header.getvalue())
        archive.writestr("y.npy", _npy([0, 1] * 5))


def _make_data_file(folder: Path, kind: str) -> tuple[str, str]:
    """Writes one odd data file into `folder`; returns (source, path as the project says)."""
    csv_cases = {
        "csv-empty": b"",
        "csv-header-only": b"x1,x2,label\n",
        "csv-1e400": b"x1,x2,label\n" + b"1e400,1,0\n" * 20 + b"1,1,1\n" * 20,
        "csv-nan-inf": b"x1,x2,label\n" + b"nan,inf,0\n-inf,1,1\n" * 20,
        "csv-ragged": b"x1,x2,label\n1,2\n1,2,3,4\n" * 20,
        "csv-invalid-utf8": b"x1,x2,label\n" + b"\xff\xfe,1,0\n" * 20,
        "csv-nul": b"x1,x2,label\n" + b"1,\x00,0\n" * 20,
        "csv-quotes": b'x1,x2,label\n"1,2,"3\n' * 20,
        "csv-one-class": b"x1,x2,label\n" + b"1,2,a\n" * 30,
        "csv-huge-ints": b"x1,x2,label\n" + b"9" * 5000 + b",1,0\n" + b"1,1,1\n" * 20,
        "csv-long-line": b"x1,x2,label\n" + b"1," * 200_000 + b"0\n",
        "csv-labels-500": b"x1,label\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(500)),
    }
    if kind in csv_cases:
        (folder / "odd.csv").write_bytes(csv_cases[kind])
        return "csv", "odd.csv"
    if kind == "npz-bomb":
        _npz_claiming(folder / "odd.npz", (10**6, 10**6))
        return "npz", "odd.npz"
    if kind == "npz-negative-shape":
        _npz_claiming(folder / "odd.npz", (-1, 2))
        return "npz", "odd.npz"
    if kind == "npz-pickle":
        import zipfile

        with zipfile.ZipFile(folder / "odd.npz", "w") as archive:
            archive.writestr("x.npy", _npy(__import__("numpy").array([{}, []], dtype=object)))
            archive.writestr("y.npy", _npy([0, 1]))
        return "npz", "odd.npz"
    if kind == "npz-not-zip":
        (folder / "odd.npz").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
        return "npz", "odd.npz"
    if kind in ("fifo-csv", "fifo-npz"):
        source = kind.split("-")[1]
        os.mkfifo(folder / f"odd.{source}")
        return source, f"odd.{source}"
    if kind.startswith("dev-"):
        device, source = kind.split("-")[1:]
        (folder / f"odd.{source}").symlink_to(f"/dev/{device}")
        return source, f"odd.{source}"
    if kind in ("folder-csv", "absolute-etc-passwd"):
        if kind == "folder-csv":
            (folder / "odd.csv").mkdir()
            return "csv", "odd.csv"
        return "csv", "/etc/passwd"
    raise AssertionError(kind)


DATA_FILE_CASES = [
    "csv-empty", "csv-header-only", "csv-1e400", "csv-nan-inf", "csv-ragged", "csv-invalid-utf8",
    "csv-nul", "csv-quotes", "csv-one-class", "csv-huge-ints", "csv-long-line", "csv-labels-500",
    "npz-bomb", "npz-negative-shape", "npz-pickle", "npz-not-zip", "fifo-csv", "fifo-npz",
    "dev-zero-csv", "dev-urandom-csv", "dev-zero-npz", "dev-urandom-npz", "folder-csv",
    "absolute-etc-passwd",
]


@pytest.mark.parametrize("kind", DATA_FILE_CASES)
def test_export_with_odd_data_files_raises_only_data_error(tmp_path, kind):
    """Export loads csv/npz data: a hostile data file ends in DataError, promptly."""
    if kind.startswith("fifo") and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs here")
    if kind.startswith("dev-") and not os.path.exists("/dev/" + kind.split("-")[1]):
        pytest.skip("no such device")
    source, path = _make_data_file(tmp_path, kind)
    doc = copy.deepcopy(CSV_DOC)
    doc["data"] = {"source": source, "path": path, "labels": "integer"}
    project = loads(json.dumps(doc))
    start = time.perf_counter()
    use_project(project, tmp_path)
    assert time.perf_counter() - start < 10


# -- generated code stays code ---------------------------------------------------------------------

@fast(100)
@given(case=project_inputs(serialized(mutated_documents())))
def test_generated_code_is_valid_python(workdir, case):
    """Whatever text a loaded project holds, the code pane and the exported script parse
    as Python (a quote in a name must not end a string literal early)."""
    how, text = case
    project = open_project(lambda: loads(text))
    if project is None:
        return
    assert_plain_code(model_code(project))
    if export_downloads(project):
        return
    try:
        assert_plain_code(export_script(project, base_dir=workdir))
    except DataError:
        pass


def assert_plain_code(code: str) -> None:
    """Parses as Python, and no project text turned into a call nobody wrote (the nasty
    strings include `"); import os; os.system("echo pwned")  #`)."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            assert node.attr not in ("system", "popen", "rmtree"), ast.unparse(node)
        if isinstance(node, ast.Name):
            assert node.id not in ("eval", "exec", "__import__"), ast.unparse(node)


def test_pipeline_does_not_import_keras():
    """Summary, checks, code and export work without Keras (it takes seconds to import)."""
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "import tests.core.test_fuzz_projects as t\n"
        "import tempfile\n"
        "d = Path(tempfile.mkdtemp())\n"
        "(d / 'data.csv').write_text(t.CSV_TEXT)\n"
        "for text in t.SEED_TEXTS:\n"
        "    t.check_text(text, d)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('keras', 'tensorflow', 'torch', 'jax', 'PySide6'))))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []

