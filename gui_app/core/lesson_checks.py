"""A lesson step's check: the declarative test that a step was done, read and evaluated.

Checks are data, never code: a small set of kinds, each an object with one of these keys
(the README lists them with examples):

* `model_has`: counts in the model as it is now: `hidden_layers` (layers with weights of
  their own, Dense, convolution or recurrent, before the output layer), `layers`,
  `parameters`, `layers_of_type` ({"Dropout": 1}); each an integer, or
  {"at_least": n, "at_most": m}.
* `setting`: a setting's JSON path with `equals`, `one_of`, `at_least` and/or `at_most`;
  a setting left out of the file is at its default (`lesson_paths.effective_tree`).
* `metric`: a History key ("val_accuracy") with `at_least` and/or `at_most`, read from
  the last finished run (`"epoch": "last"`, the default) or from any of its epochs
  (`"epoch": "any"`).
* `run_epochs`: the number of epochs in the last finished run's History, as a count
  ({"at_most": 100}: "the run stopped early").
* `runs_finished`: at least this many runs finished.
* `ran`: some finished run passes the check given, with the project as it was trained and
  that run's History: {"ran": {"model_has": {"hidden_layers": 0}}} is "you trained a
  model without hidden layers".
* `all`, `any` (lists of checks) and `not` (one check).

`check_problems` reports everything wrong with a check, each with its JSON path, as the
project loader does; `check_passes` evaluates a valid one and never raises. A lesson file
is written by a stranger: nesting, sizes and values are bounded. No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .lesson_paths import (
    MISSING,
    PathError,
    canonical_value,
    effective_tree,
    parse_path,
    same_value,
    value_at,
)
from .spec import Project

#: How deep checks may nest (all inside not inside ran ...) and how many one step holds.
MAX_DEPTH = 6
MAX_NODES = 40
#: Entries of an all/any list and values of a one_of list.
MAX_ITEMS = 20
#: The layer types that count as hidden layers when they come before the output layer:
#: those that transform the features with weights of their own.
WEIGHTED_TYPES = frozenset({"Dense", "Conv1D", "Conv2D", "SimpleRNN", "LSTM", "GRU",
                            "Bidirectional"})
CHECK_KINDS = ("model_has", "setting", "metric", "run_epochs", "runs_finished", "ran", "all",
               "any", "not")
_MODEL_COUNTS = ("hidden_layers", "layers", "parameters", "layers_of_type")
_MAX_COUNT = 1_000_000_000_000
_MAX_RUNS = 1000


@dataclass(frozen=True)
class FinishedRun:
    """One run that ended (done, stopped or stopped early), as the checks see it.

    Attributes:
        project: the project as it was trained.
        epoch_logs: the run's History, one {key: value} per finished epoch (a continued
            run's History goes on from the run it continued, as in the window's plots).
    """

    project: Project
    epoch_logs: tuple[Mapping[str, float], ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        object.__setattr__(self, "epoch_logs", tuple(dict(e) for e in self.epoch_logs))


def check_problems(check: Any, where: str = "check") -> list[str]:
    """Every problem with a check, each with its JSON path and the fix ([] when fine)."""
    problems: list[str] = []
    nodes = [0]
    _check(check, where, problems, 0, False, nodes)
    if nodes[0] > MAX_NODES:
        problems.append(f"{where}: expected at most {MAX_NODES} checks in one step, got "
                        f"{nodes[0]}; split the step in two")
    return problems


def _check(check: Any, where: str, problems: list[str], depth: int, in_run: bool,
           nodes: list[int]) -> None:
    nodes[0] += 1
    if nodes[0] > MAX_NODES:
        return
    if depth > MAX_DEPTH:
        problems.append(f"{where}: checks nest at most {MAX_DEPTH} deep; flatten the "
                        "all/any/not/ran nesting")
        return
    if not isinstance(check, Mapping):
        problems.append(f'{where}: expected a check object such as {{"runs_finished": 1}}, '
                        f"got {_type_name(check)}")
        return
    kinds = [k for k in check if k in CHECK_KINDS]
    if len(kinds) != 1:
        got = (f"the keys {', '.join(map(repr, list(check)[:6]))}" if check else "{}")
        import difflib

        close = [m for k in list(check)[:6] if k not in CHECK_KINDS
                 for m in difflib.get_close_matches(str(k), CHECK_KINDS, n=1)]
        hint = f"; did you mean {close[0]!r}?" if len(kinds) == 0 and close else ""
        problems.append(f"{where}: expected exactly one of {', '.join(CHECK_KINDS)}, got "
                        f"{got}{hint}")
        return
    kind = kinds[0]
    value = check[kind]
    allowed = {"model_has": (), "setting": ("equals", "one_of", "at_least", "at_most"),
               "metric": ("at_least", "at_most", "epoch"), "run_epochs": (),
               "runs_finished": (), "ran": (),
               "all": (), "any": (), "not": ()}[kind]
    for key in check:
        if key != kind and key not in allowed:
            expected = f"with {kind}: {', '.join(allowed)}" if allowed else \
                f"{kind} takes no other key"
            problems.append(f"{where}.{key}: unknown key ({expected})")
    here = f"{where}.{kind}"
    if kind in ("all", "any"):
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_ITEMS:
            problems.append(f"{here}: expected a list of 1 to {MAX_ITEMS} checks, got "
                            f"{_type_name(value)}")
            return
        for i, item in enumerate(value):
            _check(item, f"{here}[{i}]", problems, depth + 1, in_run, nodes)
    elif kind == "not":
        _check(value, here, problems, depth + 1, in_run, nodes)
    elif kind == "ran":
        if in_run:
            problems.append(f"{here}: a ran check inside another ran check reads the same "
                            "runs; remove the inner one")
            return
        _check(value, here, problems, depth + 1, True, nodes)
    elif kind == "runs_finished":
        if in_run:
            problems.append(f"{here}: inside ran, one run is read; move runs_finished out "
                            "of the ran check")
        elif not _is_int(value) or not 1 <= value <= _MAX_RUNS:
            problems.append(f"{here}: expected a number of runs from 1 to {_MAX_RUNS}, got "
                            f"{_show(value)}")
    elif kind == "run_epochs":
        message = _count_problem(value, here)
        if message:
            problems.append(message)
    elif kind == "model_has":
        _model_has_problems(value, here, problems)
    elif kind == "setting":
        _setting_problems(check, here, problems)
    else:
        _metric_problems(check, here, problems)


def _count_problem(value: Any, where: str) -> str | None:
    """None when `value` is a count: n, or {"at_least": n, "at_most": m}."""
    if _is_int(value) and 0 <= value <= _MAX_COUNT:
        return None
    if isinstance(value, Mapping) and value and set(value) <= {"at_least", "at_most"} \
            and all(_is_int(v) and 0 <= v <= _MAX_COUNT for v in value.values()):
        if value.get("at_least", 0) <= value.get("at_most", _MAX_COUNT):
            return None
        return f"{where}: at_least is above at_most, so nothing passes; swap them"
    return (f'{where}: expected a whole number >= 0, or {{"at_least": n, "at_most": m}}, '
            f"got {_show(value)}")


def _model_has_problems(value: Any, where: str, problems: list[str]) -> None:
    if not isinstance(value, Mapping) or not value:
        problems.append(f'{where}: expected an object such as {{"hidden_layers": 0}} '
                        f"(keys: {', '.join(_MODEL_COUNTS)}), got {_show(value)}")
        return
    from .catalog import LAYERS

    for key, count in value.items():
        if key not in _MODEL_COUNTS:
            problems.append(f"{where}.{key}: unknown key (expected {', '.join(_MODEL_COUNTS)})")
        elif key == "layers_of_type":
            if not isinstance(count, Mapping) or not 1 <= len(count) <= MAX_ITEMS:
                problems.append(f'{where}.layers_of_type: expected an object such as '
                                f'{{"Dropout": 1}}, got {_show(count)}')
                continue
            for kind, n in count.items():
                if kind not in LAYERS:
                    import difflib

                    close = difflib.get_close_matches(str(kind), list(LAYERS), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else ""
                    problems.append(f"{where}.layers_of_type.{kind}: LayerLab has no layer "
                                    f"called {kind!r}{hint}")
                else:
                    message = _count_problem(n, f"{where}.layers_of_type.{kind}")
                    if message:
                        problems.append(message)
        else:
            message = _count_problem(count, f"{where}.{key}")
            if message:
                problems.append(message)


def _bound_problems(check: Mapping[str, Any], where: str, problems: list[str]) -> None:
    for key in ("at_least", "at_most"):
        if key in check and not (_is_number(check[key]) and math.isfinite(check[key])):
            problems.append(f"{where.rsplit('.', 1)[0]}.{key}: expected a number, got "
                            f"{_show(check[key])}")
    low, high = check.get("at_least"), check.get("at_most")
    if _is_number(low) and _is_number(high) and low > high:
        problems.append(f"{where}: at_least {low} is above at_most {high}, so nothing "
                        "passes; swap them")


def _setting_problems(check: Mapping[str, Any], where: str, problems: list[str]) -> None:
    try:
        parse_path(check["setting"])
    except PathError as exc:
        problems.append(f"{where}: {exc}")
    given = [k for k in ("equals", "one_of", "at_least", "at_most") if k in check]
    parent = where.rsplit(".", 1)[0]
    if not given:
        problems.append(f"{where}: expected equals, one_of, at_least or at_most beside it, "
                        'e.g. {"setting": "compile.optimizer.type", "equals": "SGD"}')
    elif ("equals" in given or "one_of" in given) and len(given) > 1:
        problems.append(f"{parent}: give equals, one_of, or a range (at_least/at_most), "
                        f"not {' and '.join(given)}")
    if "equals" in check and not _is_json_value(check["equals"]):
        problems.append(f"{parent}.equals: expected a short JSON value, got "
                        f"{_show(check['equals'])}")
    if "one_of" in check:
        values = check["one_of"]
        if not isinstance(values, list) or not 1 <= len(values) <= MAX_ITEMS \
                or not all(_is_json_value(v) for v in values):
            problems.append(f"{parent}.one_of: expected a list of 1 to {MAX_ITEMS} values, "
                            f"got {_show(values)}")
    _bound_problems(check, where, problems)


def _metric_problems(check: Mapping[str, Any], where: str, problems: list[str]) -> None:
    import re

    name = check["metric"]
    if not isinstance(name, str) or not re.fullmatch(r"(val_)?[a-z][a-z0-9_]{0,63}", name):
        problems.append(f"{where}: expected a History key such as \"val_accuracy\" or "
                        f"\"loss\", got {_show(name)}")
    parent = where.rsplit(".", 1)[0]
    if "at_least" not in check and "at_most" not in check:
        problems.append(f"{where}: expected at_least or at_most beside it, e.g. "
                        '{"metric": "val_accuracy", "at_least": 0.95}')
    _bound_problems(check, where, problems)
    if check.get("epoch", "last") not in ("last", "any"):
        problems.append(f"{parent}.epoch: expected \"last\" (the run's last epoch) or "
                        f"\"any\" (any of its epochs), got {_show(check.get('epoch'))}")


# -- evaluating -----------------------------------------------------------------------------------

class _Context:
    """What a check reads: a project (its effective tree made once), the runs it may
    count, and the run whose History `metric` reads (None: no run finished yet)."""

    def __init__(self, project: Project, runs: Sequence[FinishedRun]) -> None:
        self.project = project
        self.runs = runs
        self.run = runs[-1] if runs else None
        self._tree: dict[str, Any] | None = None

    @property
    def tree(self) -> dict[str, Any]:
        if self._tree is None:
            self._tree = effective_tree(self.project)
        return self._tree


def check_passes(check: Mapping[str, Any], project: Project,
                 runs: Sequence[FinishedRun] = ()) -> bool:
    """Whether a (valid) check passes for the project as it is and the runs given, the
    last of which is the one `metric` reads. A check that `check_problems` would refuse
    never passes (and never raises)."""
    try:
        return _passes(check, _Context(project, runs))
    except (KeyError, TypeError, ValueError, PathError, RecursionError):
        return False


def _passes(check: Mapping[str, Any], ctx: _Context) -> bool:
    if "all" in check:
        return all(_passes(c, ctx) for c in check["all"])
    if "any" in check:
        return any(_passes(c, ctx) for c in check["any"])
    if "not" in check:
        return not _passes(check["not"], ctx)
    if "ran" in check:
        return any(_passes(check["ran"], _Context(run.project, (run,))) for run in ctx.runs)
    if "runs_finished" in check:
        return len(ctx.runs) >= int(check["runs_finished"])
    if "model_has" in check:
        return _model_has(check["model_has"], ctx.project)
    if "setting" in check:
        return _setting(check, ctx.tree)
    if "metric" in check:
        return _metric(check, ctx.run)
    if "run_epochs" in check:
        return ctx.run is not None and _count_ok(len(ctx.run.epoch_logs), check["run_epochs"])
    return False


def _count_ok(count: int | None, wanted: Any) -> bool:
    if count is None:
        return False
    if _is_int(wanted):
        return count == wanted
    return wanted.get("at_least", 0) <= count <= wanted.get("at_most", _MAX_COUNT)


def hidden_layer_count(project: Project) -> int:
    """Layers with weights of their own before the output layer (`WEIGHTED_TYPES`)."""
    weighted = sum(1 for layer in project.model.layers if layer.type in WEIGHTED_TYPES)
    return max(0, weighted - 1)


def _model_has(wanted: Mapping[str, Any], project: Project) -> bool:
    layers = project.model.layers
    for key, count in wanted.items():
        if key == "hidden_layers":
            ok = _count_ok(hidden_layer_count(project), count)
        elif key == "layers":
            ok = _count_ok(len(layers), count)
        elif key == "parameters":
            from .summary import summarize

            summary = summarize(project.model)
            ok = _count_ok(summary.total_params if summary.ok else None, count)
        else:
            ok = all(_count_ok(sum(1 for layer in layers if layer.type == kind), n)
                     for kind, n in count.items())
        if not ok:
            return False
    return True


def _in_range(value: Any, check: Mapping[str, Any]) -> bool:
    if not _is_number(value) or not math.isfinite(value):
        return False
    if "at_least" in check and value < check["at_least"]:
        return False
    return not ("at_most" in check and value > check["at_most"])


def _setting(check: Mapping[str, Any], tree: Mapping[str, Any]) -> bool:
    tokens = parse_path(check["setting"])
    value = value_at(tree, tokens)
    if value is MISSING:
        return False
    if "equals" in check:
        return same_value(value, canonical_value(tokens, check["equals"]))
    if "one_of" in check:
        return any(same_value(value, canonical_value(tokens, v)) for v in check["one_of"])
    return _in_range(value, check)


def _metric(check: Mapping[str, Any], run: FinishedRun | None) -> bool:
    if run is None:
        return False
    name = check["metric"]
    values = [float(logs[name]) for logs in run.epoch_logs
              if name in logs and _is_number(logs[name]) and math.isfinite(logs[name])]
    if not values:
        return False
    if check.get("epoch", "last") == "last":
        return _in_range(values[-1], check)
    return any(_in_range(v, check) for v in values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_json_value(value: Any, depth: int = 0) -> bool:
    """A small JSON value: a number, text, true/false, null, or a short list of them."""
    if value is None or isinstance(value, (bool, str)):
        return not isinstance(value, str) or len(value) <= 200
    if _is_number(value):
        return math.isfinite(value)
    if isinstance(value, list) and depth == 0:
        return len(value) <= MAX_ITEMS and all(_is_json_value(v, 1) for v in value)
    return False


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "text", int: "a number",
            float: "a number", bool: "true or false"}.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    import json

    try:
        text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    except (TypeError, ValueError, RecursionError):
        text = type(value).__name__
    return text if len(text) < 60 else text[:57] + "..."


__all__ = [
    "CHECK_KINDS", "FinishedRun", "MAX_DEPTH", "MAX_ITEMS", "MAX_NODES", "WEIGHTED_TYPES",
    "check_passes", "check_problems", "hidden_layer_count",
]
