"""Project files (`*.layerlab.json`): load with every problem reported at once, save atomically.

A project file is plain JSON: no code, no pickles. Loading never raises anything but
`ProjectError`, whose `problems` each carry a JSON path, so a person can fix a hand-written
file in one pass: `model.layers[3].units: expected an integer >= 1, got -5`.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .catalog import CALLBACKS, LAYERS, Param, check_args, loss_def, metric_def, optimizer_def
from .lesson_steps import lesson_from_json, lesson_to_json
from .limits import (
    MAX_CHECKPOINTS,
    MAX_CLASS_WEIGHT,
    MAX_INT_ARG,
    MAX_LAYERS,
    MAX_PROJECT_BYTES,
    MAX_SEED,
    MAX_STOP_POINT,
    LimitError,
)
from .paths import WritePath, describe, sign_approval, unapproved, verify_approval
from .safeio import FileReadError, parse_json, read_regular, text_problems
from .spec import (
    CompileSpec,
    DataSpec,
    FitSpec,
    Intended,
    LayerSpec,
    ModelSpec,
    ObjectSpec,
    Project,
)

FORMAT = "layerlab-project"
#: The newest format this LayerLab reads and writes. Version 2 added the `search` section
#: (`core.search`) and a lesson's `steps` and `locks` (`core.lesson_steps`); a project
#: without them is still written as version 1, so an older LayerLab opens it, and version
#: 1 files are read unchanged (steps and locks are read in any version).
VERSION = 2
#: The version a project without the newer sections is written as.
BASE_VERSION = 1
SUFFIX = ".layerlab.json"
TOP_KEYS = ("format", "version", "name", "description", "model", "compile", "data", "fit",
            "allow_outside", "intended", "search", "steps", "locks")
#: The longest reason an `intended` entry may give: a sentence or two, shown in a note.
MAX_WHY_CHARS = 600

#: Every fit setting's default; they are defined once, as `FitSpec`'s field defaults.
FIT_DEFAULTS: dict[str, Any] = FitSpec.defaults()

FIT_PARAMS = [
    Param("epochs", "int", FIT_DEFAULTS["epochs"], "How many passes over the training data.",
          min=1, max=100_000),
    Param("batch_size", "int", FIT_DEFAULTS["batch_size"],
          "Samples per gradient step (Keras's default is 32).", min=1, max=1_000_000),
    Param("steps_per_epoch", "int", FIT_DEFAULTS["steps_per_epoch"],
          "Batches per epoch; empty means the whole data.", min=1, nullable=True),
    Param("shuffle", "bool", FIT_DEFAULTS["shuffle"], "Shuffle the training data before each epoch."),
    Param("seed", "int", FIT_DEFAULTS["seed"],
          "Random seed for weights, shuffling and dropout; empty for random.",
          min=0, max=MAX_SEED, nullable=True),
]


class ProjectError(Exception):
    """A project file that cannot be used; `problems` lists every reason with its JSON path."""

    def __init__(self, problems: list[str], path: str | os.PathLike | None = None):
        self.problems = _readable(problems)
        self.path = str(path) if path is not None else None
        where = f"{self.path}: " if self.path else ""
        super().__init__(where + "; ".join(self.problems))

    def report(self) -> str:
        """Several lines, one per problem, for dialogs and the CLI."""
        head = f"{self.path} is not a usable LayerLab project:" if self.path else \
            "This is not a usable LayerLab project:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


#: A refusal lists this many problems at most, each cut to PROBLEM_CHARS: a crafted file with
#: 500 layers of 1,000 bad arguments once made a 100 MB message.
MAX_PROBLEMS = 50
PROBLEM_CHARS = 400


def _readable(problems: list[str]) -> list[str]:
    shown = [p if len(p) <= PROBLEM_CHARS else p[: PROBLEM_CHARS - 3] + "..."
             for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        shown.append(f"... and {len(problems) - MAX_PROBLEMS:,} more problems")
    return shown


class OutsidePathsError(ProjectError):
    """A valid project that writes outside its folder to paths nobody confirmed here.

    `project` is the project as loaded; a caller that asks the person and gets a yes goes
    on with `project.replace(allow_outside=...)` (the window), or refuses (the CLI, unless
    `--allow-outside` was given).
    """

    def __init__(self, problems: list[str], project: Project, paths: list[WritePath],
                 path: str | os.PathLike | None = None) -> None:
        super().__init__(problems, path)
        self.project = project
        self.paths = paths

    def approved(self) -> Project:
        """The project with its outside paths confirmed (the person said yes)."""
        allowed = tuple(dict.fromkeys([*self.project.allow_outside,
                                       *(w.value for w in self.paths)]))
        return self.project.replace(allow_outside=allowed)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return {dict: "an object", list: "a list", str: "text", int: "a number",
            float: "a number"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) < 60 else text[:57] + "..."


def _object_spec(value: Any, path: str, lookup, what: str, problems: list[str]) -> ObjectSpec | None:
    if isinstance(value, str):
        if lookup(value) is None:
            problems.append(f"{path}: Keras has no {what} called {value!r}")
            return None
        return ObjectSpec(value)
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected a {what} name or an object with a \"type\", "
                        f"got {_type_name(value)}")
        return None
    if not isinstance(value.get("type"), str):
        problems.append(f"{path}.type: expected the {what}'s class name as text, "
                        f"got {_show(value.get('type'))}")
        return None
    definition = lookup(value["type"])
    if definition is None:
        problems.append(f"{path}.type: Keras has no {what} called {value['type']!r}")
        return None
    args = {k: v for k, v in value.items() if k != "type"}
    for arg, message in check_args(definition, args):
        problems.append(f"{path}.{arg}: {message}")
    return ObjectSpec(value["type"], args)


def _layer(value: Any, path: str, problems: list[str], nested: bool = False) -> LayerSpec | None:
    if not isinstance(value, Mapping):
        problems.append(f"{path}: expected a layer object such as {{\"type\": \"Dense\", "
                        f"\"units\": 8}}, got {_type_name(value)}")
        return None
    kind = value.get("type")
    if not isinstance(kind, str):
        problems.append(f"{path}.type: expected a layer class name, got {_show(kind)}")
        return None
    definition = LAYERS.get(kind)
    if definition is None:
        import difflib

        close = difflib.get_close_matches(kind, list(LAYERS), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else \
            f"; the palette lists the {len(LAYERS)} supported layers"
        problems.append(f"{path}.type: LayerLab has no layer called {kind!r}{hint}")
        return None
    args = {k: v for k, v in value.items() if k != "type"}
    before = len(problems)
    for arg, message in check_args(definition, args):
        problems.append(f"{path}.{arg}: {message}")
    if kind == "Bidirectional" and isinstance(args.get("layer"), Mapping) and len(problems) == before:
        inner = _layer(args["layer"], f"{path}.layer", problems, nested=True)
        if inner is not None and inner.type not in ("LSTM", "GRU", "SimpleRNN"):
            problems.append(f"{path}.layer.type: Bidirectional wraps LSTM, GRU or SimpleRNN, "
                            f"got {inner.type!r}")
    return LayerSpec(kind, args)


def _model(value: Any, problems: list[str]) -> ModelSpec | None:
    if not isinstance(value, Mapping):
        problems.append(f"model: expected an object with input_shape and layers, got {_type_name(value)}")
        return None
    for key in value:
        if key not in ("input_shape", "layers"):
            problems.append(f"model.{key}: unknown key (expected input_shape and layers)")
    shape = value.get("input_shape")
    shape_ok = isinstance(shape, list) and 1 <= len(shape) <= 8 and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= MAX_INT_ARG)
        for d in shape)
    if not shape_ok:
        problems.append(f"model.input_shape: expected a list of 1 to 8 sizes from 1 to "
                        f"{MAX_INT_ARG:,} (null for any length), e.g. [2] or [28, 28, 1], "
                        f"got {_show(shape)}")
    layers_value = value.get("layers", [])
    if not isinstance(layers_value, list):
        problems.append(f"model.layers: expected a list of layers, got {_type_name(layers_value)}")
        layers_value = []
    if len(layers_value) > MAX_LAYERS:
        problems.append(f"model.layers: expected at most {MAX_LAYERS} layers, got "
                        f"{len(layers_value):,}; split the model or remove layers")
        return None
    layers = [_layer(item, f"model.layers[{i}]", problems) for i, item in enumerate(layers_value)]
    if not shape_ok or any(layer is None for layer in layers):
        return None
    return ModelSpec(tuple(shape), tuple(layers))  # type: ignore[arg-type]


def _compile(value: Any, problems: list[str]) -> CompileSpec | None:
    if value is None:
        return CompileSpec()
    if not isinstance(value, Mapping):
        problems.append(f"compile: expected an object with optimizer, loss and metrics, got {_type_name(value)}")
        return None
    for key in value:
        if key not in ("optimizer", "loss", "metrics"):
            problems.append(f"compile.{key}: unknown key (expected optimizer, loss, metrics)")
    optimizer = _object_spec(value.get("optimizer", "adam"), "compile.optimizer", optimizer_def,
                             "optimizer", problems)
    loss = _object_spec(value.get("loss", "binary_crossentropy"), "compile.loss", loss_def, "loss",
                        problems)
    metrics_value = value.get("metrics", [])
    if not isinstance(metrics_value, list):
        problems.append(f"compile.metrics: expected a list, got {_type_name(metrics_value)}")
        metrics_value = []
    metrics = [_object_spec(m, f"compile.metrics[{i}]", metric_def, "metric", problems)
               for i, m in enumerate(metrics_value)]
    if optimizer is None or loss is None or any(m is None for m in metrics):
        return None
    return CompileSpec(optimizer, loss, tuple(metrics))  # type: ignore[arg-type]


def checked_fit(value: Any) -> FitSpec:
    """The fit section as a FitSpec, after checking every value; raises ProjectError."""
    problems = fit_problems(value)
    if problems:
        raise ProjectError(problems)
    return value if isinstance(value, FitSpec) else FitSpec.from_json(value)


def resolve_fit(value: Any) -> dict[str, Any]:
    """Every fit setting (FIT_DEFAULTS overlaid with the user's keys), validated; raises
    ProjectError. The dict form of `checked_fit(value).resolved()`."""
    return checked_fit(value).resolved()


def fit_problems(value: Any) -> list[str]:
    """Every problem with a `fit` section, each with its JSON path."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [f"fit: expected an object, got {_type_name(value)}"]
    problems = []
    params = {p.name: p for p in FIT_PARAMS}
    for key, item in value.items():
        if key in params:
            message = params[key].check(item)
            if message:
                problems.append(f"fit.{key}: {message}")
        elif key == "class_weight":
            if item is None or item == "balanced":
                continue
            ok = isinstance(item, Mapping) and 0 < len(item) <= 100_000 and all(
                isinstance(k, str) and k.isascii() and k.isdigit() and len(k) <= 6
                and isinstance(v, (int, float)) and not isinstance(v, bool)
                and math.isfinite(v) and 0 < v <= MAX_CLASS_WEIGHT
                for k, v in item.items())
            if not ok:
                problems.append(f"fit.class_weight: expected null, \"balanced\" or an object like "
                                f"{{\"0\": 1.0, \"1\": 4.0}} (class numbers as keys) with weights "
                                f"above 0 and at most {MAX_CLASS_WEIGHT:g}, got {_show(item)}")
        elif key == "virtual_epochs":
            if item is None:
                continue
            ok = isinstance(item, Mapping) and set(item) <= {"stop_point", "checkpoints"}
            sp, cp = (item.get("stop_point"), item.get("checkpoints")) if ok else (None, None)
            ok = ok and isinstance(sp, (int, float)) and not isinstance(sp, bool) \
                and math.isfinite(sp) and 0 < sp <= MAX_STOP_POINT \
                and isinstance(cp, int) and not isinstance(cp, bool) and 1 <= cp <= MAX_CHECKPOINTS
            if not ok:
                problems.append(f"fit.virtual_epochs: expected null or {{\"stop_point\": a number "
                                f"above 0 and at most {MAX_STOP_POINT:,} (passes over the data), "
                                f"\"checkpoints\": an integer from 1 to {MAX_CHECKPOINTS:,}}}, "
                                f"got {_show(item)}")
        elif key == "callbacks":
            if not isinstance(item, list):
                problems.append(f"fit.callbacks: expected a list, got {_type_name(item)}")
                continue
            for i, cb in enumerate(item):
                _object_spec(cb, f"fit.callbacks[{i}]", CALLBACKS.get, "callback", problems)
        else:
            problems.append(f"fit.{key}: unknown key (known: {', '.join(FIT_DEFAULTS)})")
    return problems


def _data_problems(value: Any) -> list[str]:
    if value is None:
        return []
    from .data import DataError, resolve_data

    try:
        resolve_data(value)
    except DataError as exc:
        return list(exc.problems)
    return []


def project_from_json(doc: Any, path: str | os.PathLike | None = None) -> Project:
    """Validates a parsed project document; raises ProjectError listing every problem."""
    if not isinstance(doc, Mapping):
        raise ProjectError([f"expected a JSON object at the top, got {_type_name(doc)}"], path)
    problems: list[str] = []
    if doc.get("format") != FORMAT:
        problems.append(f"format: expected \"{FORMAT}\", got {_show(doc.get('format'))}; "
                        "this file is not a LayerLab project")
        raise ProjectError(problems, path)
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(f"version: expected an integer >= 1, got {_show(version)}")
    elif version > VERSION:
        raise ProjectError([f"version: this file was written by a newer LayerLab (format version "
                            f"{version}); this LayerLab reads version {VERSION}. Update LayerLab "
                            "to open it."], path)
    for key in doc:
        if key not in TOP_KEYS:
            problems.append(f"{key}: unknown key (expected {', '.join(TOP_KEYS)})")
    name = doc.get("name", "Untitled")
    if not isinstance(name, str):
        problems.append(f"name: expected text, got {_type_name(name)}")
    description = doc.get("description", "")
    if not isinstance(description, str):
        problems.append(f"description: expected text, got {_type_name(description)}")
    if "model" not in doc:
        problems.append("model: missing; a project needs {\"input_shape\": [...], \"layers\": [...]}")
        model = None
    else:
        model = _model(doc["model"], problems)
    compile_spec = _compile(doc.get("compile"), problems)
    data = doc.get("data") or {}
    if not isinstance(data, Mapping):
        problems.append(f"data: expected an object, got {_type_name(data)}")
    else:
        problems += _data_problems(data)
    fit = doc.get("fit") or {}
    problems += fit_problems(fit)
    allowed = _allow_outside(doc.get("allow_outside"), problems)
    intended = _intended(doc.get("intended"), problems)
    search = _search(doc, version, model, compile_spec, data, fit, problems)
    # a lesson's steps and locks (`core.lesson_steps`): read in any version, optional
    lesson = lesson_from_json(doc.get("steps"), doc.get("locks"), problems)
    if problems or model is None or compile_spec is None:
        raise ProjectError(problems or ["the project could not be read"], path)
    project = Project(name, model, compile_spec, DataSpec.from_json(data),
                      FitSpec.from_json(fit), description, allowed, intended, search, lesson)
    outside = unapproved(fit, allowed) if isinstance(fit, Mapping) else []
    if outside:
        raise OutsidePathsError(describe(outside), project, outside, path)
    return project


def _search(doc: Mapping[str, Any], version: Any, model: ModelSpec | None,
            compile_spec: CompileSpec | None, data: Any, fit: Any, problems: list[str]) -> Any:
    """The `search` section (`core.search`), checked against the sections read before it;
    a version 1 file cannot hold one (it came with version 2)."""
    if doc.get("search") is None:
        return None
    if version == 1:
        problems.append("search: a hyperparameter search needs format version 2, got a "
                        "version 1 file; set \"version\": 2 (LayerLab writes it so)")
        return None
    from .search import search_from_json

    project = None
    if model is not None and compile_spec is not None and isinstance(data, Mapping) \
            and isinstance(fit, Mapping):
        project = Project(model=model, compile=compile_spec, data=DataSpec.from_json(data),
                          fit=FitSpec.from_json(fit))
    return search_from_json(doc["search"], project, problems)


def _allow_outside(value: Any, problems: list[str]) -> tuple[str, ...]:
    """The confirmed outside paths, when this computer's key stamped them; else none.

    A list whose stamp does not verify (another computer's, or forged) is dropped quietly:
    the person is asked again, which is the point.
    """
    if value is None:
        return ()
    paths = value.get("paths") if isinstance(value, Mapping) else None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths) \
            or set(value) - {"paths", "approval"}:
        problems.append("allow_outside: expected {\"paths\": [text, ...], \"approval\": text} "
                        f"as LayerLab writes it, got {_show(value)}; remove the key")
        return ()
    return tuple(paths) if verify_approval(paths, value.get("approval")) else ()


def _intended(value: Any, problems: list[str]) -> tuple[Intended, ...]:
    """The findings the project makes on purpose, each checked against the checks' codes.

    An unknown code is a problem, not ignored: a misspelt mark would otherwise leave the
    warning it was meant to explain in place, and nobody would see why. A code that
    `checks.INTENDABLE` leaves out (an error Keras fails on, or a guard of this computer)
    is refused, so a shared file cannot switch a guard off.
    """
    if value is None:
        return ()
    from .checks import CODES as CHECK_CODES
    from .checks import INTENDABLE as CHECKS_INTENDABLE
    from .diagnostics.detect import CODES as RUN_CODES

    # the live diagnostics' codes too (lesson 6a overfits on purpose); a NaN loss is never
    # a lesson's intent
    CODES = {**CHECK_CODES, **{code: "warning" for code in RUN_CODES}}
    INTENDABLE = CHECKS_INTENDABLE | (set(RUN_CODES) - {"nan_loss"})

    example = '[{"code": "regression-loss-on-classes", "why": "..."}]'
    if not isinstance(value, list):
        problems.append(f"intended: expected a list like {example}, got {_type_name(value)}")
        return ()
    if len(value) > len(INTENDABLE):
        problems.append(f"intended: expected at most {len(INTENDABLE)} entries (one per check), "
                        f"got {len(value):,}")
        return ()
    marks: list[Intended] = []
    first: dict[str, int] = {}
    for i, item in enumerate(value):
        where = f"intended[{i}]"
        if not isinstance(item, Mapping):
            problems.append(f"{where}: expected an object like {example[1:-1]}, "
                            f"got {_type_name(item)}")
            continue
        before = len(problems)
        for key in item:
            if key not in ("code", "why"):
                problems.append(f"{where}.{key}: unknown key (expected code and why)")
        code, why = item.get("code"), item.get("why")
        if not isinstance(code, str):
            problems.append(f"{where}.code: expected a check's code as text, such as "
                            f"'regression-loss-on-classes', got {_show(code)}")
        elif code not in CODES:
            import difflib

            close = difflib.get_close_matches(code, list(CODES), n=1, cutoff=0.6)
            hint = (f"; did you mean {close[0]!r}?" if close else
                    "; a finding's tooltip and `layerlab check --json` show its code")
            problems.append(f"{where}.code: LayerLab has no check called {_show(code)}{hint}")
        elif code not in INTENDABLE:
            problems.append(f"{where}.code: {code!r} is an error that LayerLab does not train "
                            "past, so it cannot be marked intended; fix the project instead")
        elif code in first:
            problems.append(f"{where}.code: {code!r} is already marked at "
                            f"intended[{first[code]}]; keep one entry per check")
        else:
            first[code] = i
        if not isinstance(why, str) or not why.strip():
            problems.append(f"{where}.why: expected a sentence saying why the project does "
                            f"this on purpose, got {_show(why)}")
        elif len(why) > MAX_WHY_CHARS:
            problems.append(f"{where}.why: expected at most {MAX_WHY_CHARS} characters, got "
                            f"{len(why):,}; shorten the reason")
        if len(problems) == before:
            marks.append(Intended(code, why))  # type: ignore[arg-type]
    return tuple(marks)


def project_to_json(project: Project) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION if project.search is not None or project.lesson is not None
        else BASE_VERSION,
        "name": project.name,
        **({"description": project.description} if project.description else {}),
        "model": project.model.to_json(),
        "compile": project.compile.to_json(),
    }
    doc["data"] = project.data.to_json()
    doc["fit"] = project.fit.to_json()
    if project.allow_outside:
        paths = sorted(set(project.allow_outside))
        doc["allow_outside"] = {"paths": paths, "approval": sign_approval(paths)}
    if project.intended:  # left out when empty, so older files save as they were
        doc["intended"] = [mark.to_json() for mark in project.intended]
    if project.search is not None:  # left out when none, so the file stays version 1
        doc["search"] = project.search.to_json()
    doc.update(lesson_to_json(project.lesson))  # steps and locks: left out when none
    return doc


def dumps(project: Project) -> str:
    return json.dumps(project_to_json(project), indent=2) + "\n"


def loads(text: str, path: str | os.PathLike | None = None) -> Project:
    """Parses and validates project text; raises ProjectError (never anything else)."""
    try:
        doc = parse_json(text)
    except json.JSONDecodeError as exc:
        stripped = text.strip()
        truncated = stripped.startswith("{") and not stripped.endswith("}")
        hint = " (the file ends early: was it truncated?)" if truncated else ""
        raise ProjectError([f"not valid JSON at line {exc.lineno}, column {exc.colno}: "
                            f"{exc.msg}{hint}"], path) from None
    except (LimitError, RecursionError, ValueError) as exc:
        raise ProjectError([str(exc)], path) from None
    problems = text_problems(doc)
    if problems:
        raise ProjectError(problems, path)
    return project_from_json(doc, path)


def load_project(path: str | os.PathLike) -> Project:
    """Reads and validates a project file; raises ProjectError (never anything else).

    Only a regular file of at most MAX_PROJECT_BYTES is read (a FIFO or /dev/zero is refused
    at once), and the JSON is parsed with `safeio.parse_json`'s limits.
    """
    try:
        raw = read_regular(path, MAX_PROJECT_BYTES, "project file")
    except FileReadError as exc:
        raise ProjectError([str(exc)], path) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ProjectError(["the file is not text (UTF-8); a project is a JSON file"], path) from None
    return loads(text, path)


def save_project(project: Project, path: str | os.PathLike) -> Path:
    """Writes the project atomically: a crash leaves the old file or the new one, never half."""
    target = Path(path)
    write_atomic(target, dumps(project).encode("utf-8"))
    return target


def write_atomic(target: Path, payload: bytes) -> None:
    """Writes beside the target, flushes to disk, then renames over it.

    A symbolic link is followed: the file it points to is replaced and the link stays (a
    rename over the link itself would have turned it into a plain file).
    """
    target = Path(target)
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = target.stat().st_mode & 0o7777  # keep the permissions of the file replaced
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # what open() would have given a new file
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
