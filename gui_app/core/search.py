"""The hyperparameter search's project section: read, checked and applied, in plain Python
(`search_text` puts it in words and marks it, `search_folder` keeps its trials).

A project file may carry a `"search"` block (format version 2):

    "search": {"tuner": "random", "objective": "val_loss", "max_trials": 8,
               "executions_per_trial": 1,
               "space": [{"path": "model.layers[0].units", "kind": "int",
                          "min": 4, "max": 64, "step": 4},
                         {"path": "compile.optimizer.learning_rate", "kind": "float",
                          "min": 1e-4, "max": 0.1, "sampling": "log"},
                         {"path": "model.layers[1].activation", "kind": "choice",
                          "values": ["relu", "tanh"]}]}

A path names a setting by the project file's own JSON path, so a person reads it as they
read the file. What a path may name:

- `model.layers[i].<argument>`: a layer's argument that the catalog knows (units, filters,
  rate, activation, kernel_size...); not its name;
- `compile.optimizer` (or `compile.optimizer.type`): the optimizer itself, a choice of names;
- `compile.optimizer.<argument>`, `compile.loss.<argument>`: learning_rate, momentum,
  label_smoothing...;
- `fit.<setting>`: batch_size, epochs (not with Hyperband, which sets the epochs itself),
  steps_per_epoch, shuffle.

Every value a search may try is checked here against the same catalog entry the inspector
uses, so a trial never fails on a value the project file could not hold; every problem
names its JSON path (`search.space[0].max: ...`), as every other project error does. The
engine (`gui_app.engine.tuning`) turns a checked `SearchSpec` into Keras Tuner's
hyperparameters; this module imports neither Keras nor Qt.

The limits below keep a shared file from asking for a search that never ends: a trial
trains the whole model, so 500 trials of the largest lesson already take days.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .catalog import LAYERS, Param, loss_def, metric_def, optimizer_def
from .project import _type_name
from .spec import ObjectSpec, Project, SearchDim, SearchSpec, snake_name

TUNERS = ("random", "hyperband", "bayesian")
KINDS = ("int", "float", "choice")
SAMPLINGS = ("linear", "log")
#: Trials of one search (a continued search counts the earlier ones).
MAX_TRIALS = 500
#: Trainings per trial: each starts from fresh weights, and the score is their mean.
MAX_EXECUTIONS = 10
#: Searched settings of one search.
MAX_SPACE = 32
#: Values of one choice.
MAX_CHOICES = 64
#: Local worker processes of `layerlab tune --workers N`: each loads TensorFlow (about
#: 400 MB) and trains a model; more than the cores only take turns.
MAX_WORKERS = 16
#: The keys of the section and of a space entry, by kind.
SEARCH_KEYS = ("tuner", "objective", "max_trials", "executions_per_trial", "space")
DIM_KEYS = {"int": ("path", "kind", "min", "max", "step", "sampling"),
            "float": ("path", "kind", "min", "max", "step", "sampling"),
            "choice": ("path", "kind", "values")}
#: The fit settings a search may set (the seed stays the project's: every trial starts
#: from the same weights, so trials differ only in what is searched).
FIT_SEARCHABLE = ("epochs", "batch_size", "steps_per_epoch", "shuffle")
EXAMPLE = ('{"path": "model.layers[0].units", "kind": "int", "min": 4, "max": 64, '
           '"step": 4}')

_LAYER_PATH = re.compile(r"model\.layers\[(\d{1,4})\]\.([A-Za-z_][A-Za-z0-9_]{0,63})")
_OBJECT_PATH = re.compile(r"compile\.(optimizer|loss)\.([A-Za-z_][A-Za-z0-9_]{0,63})")
_FIT_PATH = re.compile(r"fit\.([A-Za-z_][A-Za-z0-9_]{0,63})")
_OPTIMIZER_PATHS = ("compile.optimizer", "compile.optimizer.type")
_OBJECTIVE = re.compile(r"(val_)?[a-z][a-z0-9_]{0,63}")


class SearchError(ValueError):
    """A search that cannot be run or applied; the message says what and how to fix it."""


@dataclass(frozen=True)
class Target:
    """What a search path names in a project.

    Attributes:
        path: the JSON path, as written.
        section: "layer", "optimizer" (an optimizer argument), "optimizer_type", "loss"
            (a loss argument) or "fit".
        index: the layer's index ("layer" only).
        arg: the argument or setting ("" for "optimizer_type").
        param: the catalog entry that checks a value (a synthetic choice of optimizer names
            for "optimizer_type").
        label: a short name for people: "Dense 1: units", "Adam: learning_rate".
    """

    path: str
    section: str
    index: int | None
    arg: str
    param: Param
    label: str


# -- targets --------------------------------------------------------------------------------

def _optimizer_names() -> list[str]:
    from .catalog import OPTIMIZERS

    return list(OPTIMIZERS)


def resolve_target(path: Any, project: Project, optimizers: Sequence[str] = ()) -> Target | str:
    """The setting `path` names in `project`, or a sentence saying why it names none.

    Args:
        path: the JSON path ("model.layers[0].units").
        project: the project whose model, compile and fit sections the path is read in.
        optimizers: further optimizer names the search may choose (an argument of the
            optimizer must then be one that each of them takes).
    """
    if not isinstance(path, str):
        return f"expected a JSON path such as 'model.layers[0].units' as text, got {_show(path)}"
    match = _LAYER_PATH.fullmatch(path)
    if match:
        index, arg = int(match.group(1)), match.group(2)
        layers = project.model.layers
        if index >= len(layers):
            return (f"expected a layer index from 0 to {len(layers) - 1} (the model has "
                    f"{len(layers)} layers), got {index}")
        layer = layers[index]
        definition = LAYERS.get(layer.type)
        if definition is None:
            return f"LayerLab has no layer called {layer.type!r}"
        param = definition.param(arg)
        if param is None or arg == "name" or param.kind in ("layer", "str"):
            names = sorted(p.name for p in definition.params
                           if p.name != "name" and p.kind not in ("layer", "str"))
            return (f"{layer.type} has no searchable argument {arg!r} (it takes: "
                    f"{', '.join(names) or 'none'})")
        return Target(path, "layer", index, arg, param,
                      f"{layer.type} {index + 1}: {arg}")
    if path in _OPTIMIZER_PATHS:
        names = _optimizer_names()
        param = Param("optimizer", "choice", project.compile.optimizer.type,
                      "The optimizer.", choices=names)
        return Target(path, "optimizer_type", None, "", param, "optimizer")
    match = _OBJECT_PATH.fullmatch(path)
    if match:
        which, arg = match.group(1), match.group(2)
        spec: ObjectSpec = getattr(project.compile, which)
        lookup = optimizer_def if which == "optimizer" else loss_def
        kinds = [spec.type, *[o for o in optimizers if o != spec.type]] \
            if which == "optimizer" else [spec.type]
        param = None
        for name in kinds:
            definition = lookup(name)
            if definition is None:
                return f"Keras has no {which} called {name!r}"
            found = definition.param(arg)
            if found is None:
                takes = ", ".join(p.name for p in definition.params) or "no arguments"
                return f"{definition.type} has no argument {arg!r} (it takes: {takes})"
            param = param or found
        assert param is not None
        return Target(path, which, None, arg, param, f"{spec.type}: {arg}")
    match = _FIT_PATH.fullmatch(path)
    if match:
        from .project import FIT_PARAMS

        arg = match.group(1)
        params = {p.name: p for p in FIT_PARAMS}
        if arg not in FIT_SEARCHABLE or arg not in params:
            return (f"expected one of the fit settings {', '.join(FIT_SEARCHABLE)}, got "
                    f"{arg!r}")
        return Target(path, "fit", None, arg, params[arg], f"fit: {arg}")
    return ("expected a path such as 'model.layers[0].units', 'compile.optimizer."
            f"learning_rate', 'compile.optimizer' or 'fit.batch_size', got {_show(path)}")


def current_value(target: Target, project: Project) -> Any:
    """The value the project holds at the target now (its default when it sets none)."""
    if target.section == "layer":
        layer = project.model.layers[target.index or 0]
        return layer.args.get(target.arg, None if target.param.required else
                              target.param.default)
    if target.section == "optimizer_type":
        return project.compile.optimizer.type
    if target.section in ("optimizer", "loss"):
        spec = getattr(project.compile, target.section)
        return spec.args.get(target.arg, None if target.param.required else
                             target.param.default)
    return getattr(project.fit, target.arg)


# -- reading the section --------------------------------------------------------------------

def search_from_json(value: Any, project: Project | None, problems: list[str]
                     ) -> SearchSpec | None:
    """The `search` section as a SearchSpec, every problem appended with its JSON path.

    Args:
        value: the section as the file holds it (None: no search).
        project: the project it searches (its model, compile, fit and data sections, already
            read); None when they had problems, and then the paths are not resolved.
        problems: where each problem goes.
    """
    if value is None:
        return None
    if not isinstance(value, Mapping):
        problems.append(f"search: expected an object like {{\"tuner\": \"random\", "
                        f"\"objective\": \"val_loss\", \"max_trials\": 10, \"space\": "
                        f"[...]}}, got {_type_name(value)}")
        return None
    before = len(problems)
    for key in value:
        if key not in SEARCH_KEYS:
            problems.append(f"search.{key}: unknown key (expected {', '.join(SEARCH_KEYS)})")
    tuner = value.get("tuner", "random")
    if tuner not in TUNERS:
        problems.append(f"search.tuner: expected one of {', '.join(map(repr, TUNERS))}, "
                        f"got {_show(tuner)}")
    max_trials = value.get("max_trials", 10)
    if not _is_int(max_trials) or not 1 <= max_trials <= MAX_TRIALS:
        problems.append(f"search.max_trials: expected an integer from 1 to {MAX_TRIALS}, got "
                        f"{_show(max_trials)}; a longer search is several searches, each "
                        "continued")
    executions = value.get("executions_per_trial", 1)
    if not _is_int(executions) or not 1 <= executions <= MAX_EXECUTIONS:
        problems.append(f"search.executions_per_trial: expected an integer from 1 to "
                        f"{MAX_EXECUTIONS}, got {_show(executions)}")
    objective = value.get("objective", "val_loss")
    _check_objective(objective, project, problems)
    space_value = value.get("space")
    dims: list[SearchDim] = []
    if not isinstance(space_value, list) or not space_value:
        problems.append(f"search.space: expected a list of 1 to {MAX_SPACE} searched "
                        f"settings such as [{EXAMPLE}], got {_show(space_value)}")
    elif len(space_value) > MAX_SPACE:
        problems.append(f"search.space: expected at most {MAX_SPACE} searched settings, got "
                        f"{len(space_value):,}; search fewer settings at a time")
    else:
        optimizers = _searched_optimizers(space_value)
        seen: dict[str, int] = {}
        for i, item in enumerate(space_value):
            dim = _dim(item, f"search.space[{i}]", project, optimizers, problems)
            if dim is None:
                continue
            key = "compile.optimizer" if dim.path in _OPTIMIZER_PATHS else dim.path
            if key in seen:
                problems.append(f"search.space[{i}].path: {dim.path!r} is already searched "
                                f"at search.space[{seen[key]}]; keep one entry per setting")
                continue
            seen[key] = i
            dims.append(dim)
        if tuner == "hyperband" and "fit.epochs" in seen:
            problems.append(f"search.space[{seen['fit.epochs']}].path: Hyperband sets each "
                            "trial's epochs itself (up to fit.epochs); remove 'fit.epochs' "
                            "from the space or choose the 'random' or 'bayesian' tuner")
    if len(problems) > before:
        return None
    return SearchSpec(tuner, objective, max_trials, executions, tuple(dims))


def _searched_optimizers(space: list[Any]) -> list[str]:
    """The optimizer names a space may choose (its `compile.optimizer` choice's values)."""
    for item in space:
        if isinstance(item, Mapping) and item.get("path") in _OPTIMIZER_PATHS \
                and isinstance(item.get("values"), list):
            return [v for v in item["values"] if isinstance(v, str) and optimizer_def(v)]
    return []


def _dim(item: Any, where: str, project: Project | None, optimizers: list[str],
         problems: list[str]) -> SearchDim | None:
    if not isinstance(item, Mapping):
        problems.append(f"{where}: expected an object like {EXAMPLE}, got {_type_name(item)}")
        return None
    before = len(problems)
    kind = item.get("kind")
    if kind not in KINDS:
        problems.append(f"{where}.kind: expected 'int' (a range with a step), 'float' (a "
                        f"range, linear or log) or 'choice' (a list of values), got "
                        f"{_show(kind)}")
        return None
    for key in item:
        if key not in DIM_KEYS[kind]:
            problems.append(f"{where}.{key}: unknown key for a {kind!r} entry (expected "
                            f"{', '.join(DIM_KEYS[kind])})")
    path = item.get("path")
    target: Target | None = None
    if not isinstance(path, str):
        problems.append(f"{where}.path: expected a JSON path such as 'model.layers[0].units' "
                        f"as text, got {_show(path)}")
    elif project is not None:
        found = resolve_target(path, project, optimizers)
        if isinstance(found, str):
            problems.append(f"{where}.path: {found}")
        else:
            target = found
    if kind == "choice":
        dim = _choice(item, where, target, problems)
    else:
        dim = _range(item, kind, where, target, problems)
    if dim is None or len(problems) > before:
        return None
    return dim


def _choice(item: Mapping[str, Any], where: str, target: Target | None,
            problems: list[str]) -> SearchDim | None:
    values = item.get("values")
    if not isinstance(values, list) or not 2 <= len(values) <= MAX_CHOICES:
        problems.append(f"{where}.values: expected a list of 2 to {MAX_CHOICES} values, such "
                        f"as [\"relu\", \"tanh\"], got {_show(values)}")
        return None
    kinds = set()
    for j, v in enumerate(values):
        if v is None or isinstance(v, (list, dict)):
            problems.append(f"{where}.values[{j}]: expected a number, text, true or false, "
                            f"got {_show(v)}; Keras Tuner chooses among plain values "
                            "(for no activation write 'linear')")
            continue
        if isinstance(v, float) and not math.isfinite(v):
            problems.append(f"{where}.values[{j}]: expected a finite number, got {_show(v)}")
            continue
        kinds.add(bool if isinstance(v, bool) else str if isinstance(v, str) else
                  int if isinstance(v, int) else float)
        if target is not None:
            message = _check_value(target, v)
            if message:
                problems.append(f"{where}.values[{j}]: {target.path} {message}")
    if len(kinds) > 1:
        names = {bool: "true/false", str: "text", int: "whole numbers", float: "numbers"}
        problems.append(f"{where}.values: expected values of one kind, got "
                        f"{' and '.join(sorted(names[k] for k in kinds))}; write them all "
                        "alike (8.0 or 8, not both)")
    if len({json.dumps(v) for v in values}) != len(values):
        problems.append(f"{where}.values: expected each value once, got {_show(values)}; "
                        "remove the repeated ones")
    return SearchDim(str(item.get("path")), "choice", values=tuple(values))


def _range(item: Mapping[str, Any], kind: str, where: str, target: Target | None,
           problems: list[str]) -> SearchDim | None:
    before = len(problems)
    lo, hi = item.get("min"), item.get("max")
    step = item.get("step", 1 if kind == "int" else None)
    sampling = item.get("sampling", "linear")
    number = _is_int if kind == "int" else _is_number
    noun = "an integer" if kind == "int" else "a number"
    for key, v in (("min", lo), ("max", hi)):
        if not number(v):
            hint = "; write it without a decimal point" \
                if kind == "int" and _is_number(v) and float(v).is_integer() else ""
            problems.append(f"{where}.{key}: expected {noun}, got {_show(v)}{hint}")
    if len(problems) > before:
        return None
    if not lo < hi:
        problems.append(f"{where}.max: expected a number above min ({_fmt(lo)}), got "
                        f"{_fmt(hi)}; for one value, set the setting itself instead")
    if step is not None and (not number(step) or not step > 0):
        problems.append(f"{where}.step: expected {noun} above 0" +
                        (" or null" if kind == "float" else "") + f", got {_show(step)}")
    if sampling not in SAMPLINGS:
        problems.append(f"{where}.sampling: expected 'linear' or 'log', got {_show(sampling)}")
    elif sampling == "log" and number(lo) and lo <= 0:
        problems.append(f"{where}.min: expected a number above 0 for log sampling, got "
                        f"{_fmt(lo)}; use linear sampling or a positive min")
    elif sampling == "log" and step is not None and kind == "float":
        problems.append(f"{where}.step: expected null with log sampling (the values are "
                        f"spread evenly per decade), got {_show(step)}")
    if target is not None and len(problems) == before:
        allowed = ("int", "size") if kind == "int" else ("float", "factor")
        if target.param.kind not in allowed:
            wanted = "a choice" if target.param.kind in ("choice", "bool") else \
                "an 'int' range" if target.param.kind == "int" else "a 'float' range"
            problems.append(f"{where}.kind: {target.path} is {_kind_words(target.param)}; "
                            f"search it with {wanted}")
        else:
            for key, v in (("min", lo), ("max", hi)):
                message = _check_value(target, v)
                if message:
                    problems.append(f"{where}.{key}: {target.path} {message}")
    if len(problems) > before:
        return None
    return SearchDim(str(item.get("path")), kind, lo, hi, step, sampling)


def _check_value(target: Target, value: Any) -> str | None:
    """The catalog's words for a value the target cannot hold, else None."""
    if target.section == "optimizer_type":
        return None if isinstance(value, str) and optimizer_def(value) is not None else \
            f"expected an optimizer name such as 'Adam' or 'SGD', got {_show(value)}"
    return target.param.check(value)


def _kind_words(param: Param) -> str:
    return {"int": "a whole number", "size": "a whole number", "float": "a number",
            "factor": "a number", "bool": "true or false",
            "choice": "one of several names"}.get(param.kind, f"a {param.kind} value")


def _check_objective(objective: Any, project: Project | None, problems: list[str]) -> None:
    if not isinstance(objective, str) or not _OBJECTIVE.fullmatch(objective):
        problems.append(f"search.objective: expected a logged quantity such as 'val_loss' or "
                        f"'val_accuracy', got {_show(objective)}")
        return
    if project is None:
        return
    names = objective_names(project)
    if objective not in names:
        problems.append(f"search.objective: expected one of {', '.join(map(repr, names))} "
                        f"(what this project's training logs), got {objective!r}")


def objective_names(project: Project) -> list[str]:
    """The quantities a search of this project may pick its best trial by: the loss and
    each metric, with their validation versions when the data holds some back."""
    base = ["loss"]
    for spec in project.compile.metrics:
        for name in metric_log_names(spec):
            if name not in base:
                base.append(name)
    validated = _validation_split(project) > 0
    return [f"val_{n}" for n in base] * validated + base


def _validation_split(project: Project) -> float:
    try:
        return float(project.data.validation_split or 0)
    except (TypeError, ValueError):
        return 0.0


def metric_log_names(spec: ObjectSpec) -> list[str]:
    """The names Keras logs a metric under (in a fresh session, as each trial is): the
    name as written, its alias, and its class's snake-case name with arguments."""
    definition = metric_def(spec.type)
    names = [spec.type] if not spec.args and spec.type == spec.type.lower() else []
    if definition is not None:
        if spec.args:
            names.append(snake_name(definition.type))
        else:
            names.append(definition.alias)
    return list(dict.fromkeys(n for n in names if _OBJECTIVE.fullmatch(n)))


def objective_direction(objective: str) -> str:
    """"min" for losses and errors, "max" for the rest (accuracy, AUC, R2...)."""
    name = objective[4:] if objective.startswith("val_") else objective
    if name in ("loss", "mae", "mse") or "loss" in name or "error" in name:
        return "min"
    return "max"


# -- applying values ------------------------------------------------------------------------

def apply_values(project: Project, values: Mapping[str, Any]) -> Project:
    """The project with each searched setting set to its value: a new frozen Project.

    Args:
        project: the project (its search section stays, so the search can go on).
        values: JSON path to value, as a trial or `layerlab tune --json` gives them.

    Raises:
        SearchError: for a path that names nothing in this project, or a value the
            setting cannot hold (the message has the path).
    """
    optimizer = values.get("compile.optimizer", values.get("compile.optimizer.type"))
    if optimizer is not None:
        project = _set(project, _target(project, "compile.optimizer", []), optimizer)
    for path, value in values.items():
        if path in _OPTIMIZER_PATHS:
            continue
        project = _set(project, _target(project, path, []), value)
    return project


def _target(project: Project, path: str, optimizers: Sequence[str]) -> Target:
    found = resolve_target(path, project, optimizers)
    if isinstance(found, str):
        raise SearchError(f"{path}: {found}")
    return found


def _set(project: Project, target: Target, value: Any) -> Project:
    message = _check_value(target, _plain(value))
    if message:
        raise SearchError(f"{target.path}: {message}")
    value = _plain(value)
    if target.section == "layer":
        index = target.index or 0
        layer = project.model.layers[index]
        return project.replace(model=project.model.set_layer(index,
                                                             layer.with_args(**{target.arg: value})))
    if target.section == "optimizer_type":
        old = project.compile.optimizer
        definition = optimizer_def(value)
        assert definition is not None
        args = {k: v for k, v in old.args.items() if definition.param(k) is not None}
        return project.replace(compile=_compile(project, "optimizer",
                                                ObjectSpec(definition.type, args)))
    if target.section in ("optimizer", "loss"):
        spec: ObjectSpec = getattr(project.compile, target.section)
        return project.replace(compile=_compile(project, target.section,
                                                spec.with_args(**{target.arg: value})))
    return project.replace(fit=project.fit.replace(**{target.arg: value}))


def _compile(project: Project, which: str, spec: ObjectSpec) -> Any:
    from dataclasses import replace

    return replace(project.compile, **{which: spec})


def _plain(value: Any) -> Any:
    """NumPy scalars (from Keras Tuner) as Python numbers."""
    item = getattr(value, "item", None)
    if callable(item) and not isinstance(value, (str, bytes)):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


# -- describing -----------------------------------------------------------------------------

def fmt_value(value: Any) -> str:
    """A value as a table shows it: 4 significant digits for floats, names as they are."""
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def with_dim(project: Project, dim: SearchDim | None, path: str) -> Project:
    """The project with `path` searched by `dim` (None: no longer searched); a first
    search section is made when there is none, and dropped with its last setting."""
    search = project.search or SearchSpec(objective=_default_objective(project))
    space = [d for d in search.space if d.path != path]
    if dim is not None:
        old = [i for i, d in enumerate(search.space) if d.path == path]
        space.insert(old[0] if old else len(space), dim)
    if not space:
        return project.replace(search=None)
    from dataclasses import replace

    return project.replace(search=replace(search, space=tuple(space)))


def _default_objective(project: Project) -> str:
    names = objective_names(project)
    return next((n for n in names if n.startswith("val_") and "acc" in n),
                "val_loss" if "val_loss" in names else "loss")


def check_search(project: Project) -> list[str]:
    """Every problem of the project's search section (empty when it has none), each with
    its JSON path, as the project loader reports them."""
    if project.search is None:
        return []
    problems: list[str] = []
    search_from_json(project.search.to_json(), project, problems)
    return problems


# -- small helpers ------------------------------------------------------------------------------

def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= 2**31 - 1


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and abs(value) <= 1e12


def _fmt(value: Any) -> str:
    return fmt_value(value) if _is_number(value) else _show(value)


def _show(value: Any) -> str:
    try:
        text = json.dumps(value) if not isinstance(value, str) else repr(value)
    except (TypeError, ValueError):
        text = type(value).__name__
    return text if len(text) < 60 else text[:57] + "..."


# -- keeping the search with the project as it is edited ----------------------------------------

def follow_edit(old: Project, new: Project) -> Project:
    """`new`, with its search kept pointing at the same settings after an edit of the rest.

    A searched layer that moves (a layer inserted above it, a drag) takes its entries
    along; a deleted layer's entries go, as do entries the edit made impossible (an
    optimizer that lacks the searched argument, a metric no longer logged is replaced by
    the loss as the objective). Without this, a saved project could hold a search its own
    loader refuses. An edit of the search itself is left as it is.
    """
    search = new.search
    if search is None or old.search != search:
        return new
    dims = list(search.space)
    if old.model.layers != new.model.layers:
        moved = _layer_moves(old.model.layers, new.model.layers)
        kept = []
        for dim in dims:
            match = _LAYER_PATH.fullmatch(dim.path)
            if match is None:
                kept.append(dim)
            elif int(match.group(1)) in moved:
                path = f"model.layers[{moved[int(match.group(1))]}].{match.group(2)}"
                kept.append(_replace_path(dim, path))
        dims = kept
    probe = new.replace(search=None)
    optimizers = _searched_optimizers([d.to_json() for d in dims])
    valid = [d for d in dims if _dim(d.to_json(), "", probe, optimizers, []) is not None]
    objective = search.objective if search.objective in objective_names(new) \
        else _default_objective(new)
    if not valid:
        return new.replace(search=None)
    from dataclasses import replace

    changed = replace(search, objective=objective, space=tuple(valid))
    return new if changed == search else new.replace(search=changed)


def _replace_path(dim: SearchDim, path: str) -> SearchDim:
    from dataclasses import replace

    return dim if dim.path == path else replace(dim, path=path)


def _layer_moves(old: Sequence[Any], new: Sequence[Any]) -> dict[int, int]:
    """Old layer index -> new index, for the layers still there (the same object; or, when
    the count is unchanged, a layer edited in place: the same type at the same index)."""
    where = {id(layer): j for j, layer in enumerate(new)}
    moves = {}
    for i, layer in enumerate(old):
        if id(layer) in where:
            moves[i] = where[id(layer)]
        elif len(old) == len(new) and new[i].type == layer.type:
            moves[i] = i
    return moves
