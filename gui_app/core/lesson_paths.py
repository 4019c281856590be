"""Settings named by their JSON path, as a lesson's checks and locks name them.

A lesson says "the learning rate" as `compile.optimizer.learning_rate` and "the units of
every layer" as `model.layers[*].units`: the path the project file itself writes. Two
things read such paths, and both need the *effective* value of a setting, not the text
of the file:

* a check (`{"setting": "compile.optimizer.type", "equals": "SGD"}`) asks what the
  setting is now, and a setting left out of the file is at its default (a Dense layer
  without `activation` has none, an optimizer without `learning_rate` has its own);
* a lock asks which settings an edit changed, and setting a value to its default (which
  the editor writes by leaving the key out) is the same value, not a change.

`effective_tree` gives a project as one JSON tree with every default filled in from the
catalog and the compile objects under their class names ("adam" -> "Adam"), so both
questions have one answer. No Qt here.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .catalog import (
    CALLBACKS,
    LAYERS,
    LOSSES,
    METRICS,
    OPTIMIZERS,
    loss_def,
    metric_def,
    optimizer_def,
)
from .spec import DataSpec, FitSpec, Project

#: The project's sections a path may start with (what an edit in the window changes).
SECTIONS = ("model", "compile", "data", "fit")
#: The longest path accepted: the deepest real one is about 60 characters.
MAX_PATH_CHARS = 200
_NAME = r"[A-Za-z_][A-Za-z0-9_]{0,63}"
_TOKEN = re.compile(rf"\.({_NAME})|\[(\d{{1,4}}|\*)\]")
_HEAD = re.compile(rf"({_NAME})")

#: A path's parts: names (str) and list positions (int), with "*" for any position.
Token = str | int


class PathError(ValueError):
    """A path that does not name a setting; the message says why and how to fix it."""


def _param_names(defs: Any) -> set[str]:
    return {p.name for d in defs for p in d.params}


_LAYER_ARGS = {"type"} | _param_names(LAYERS.values())
_OBJECT_ARGS = {
    "optimizer": {"type"} | _param_names(OPTIMIZERS.values()),
    "loss": {"type"} | _param_names(LOSSES.values()),
    "metrics": {"type"} | _param_names(METRICS.values()),
}
_CALLBACK_ARGS = {"type"} | _param_names(CALLBACKS.values())
_DATA_KEYS = tuple(DataSpec.defaults())
_FIT_KEYS = tuple(FitSpec.defaults())


def parse_path(text: Any, wildcards: bool = False) -> tuple[Token, ...]:
    """The parts of a setting's path ("model.layers[0].units" -> model, layers, 0, units).

    Raises PathError, with the fix, when the text is not a path to a known setting: an
    unknown section, a misspelt argument ("units" for any layer, "learning_rate" for any
    optimizer), or `[*]` where one value is needed (`wildcards` allows it, for locks).
    """
    if not isinstance(text, str) or not text:
        raise PathError(f"expected a setting's JSON path as text, such as "
                        f"\"compile.optimizer.learning_rate\", got {_show(text)}")
    if len(text) > MAX_PATH_CHARS:
        raise PathError(f"expected a path of at most {MAX_PATH_CHARS} characters, got "
                        f"{len(text):,}")
    head = _HEAD.match(text)
    tokens: list[Token] = []
    at = 0
    if head is not None:
        tokens.append(head.group(1))
        at = head.end()
    while head is not None and at < len(text):
        match = _TOKEN.match(text, at)
        if match is None:
            break
        name, index = match.groups()
        tokens.append(name if name is not None else ("*" if index == "*" else int(index)))
        at = match.end()
    if head is None or at != len(text):
        raise PathError(f"expected a path such as \"model.layers[0].units\" (names joined "
                        f"by dots, list positions in brackets), got {_show(text)}")
    if "*" in tokens and not wildcards:
        raise PathError(f"{text}: [*] names every layer, but a check reads one value; "
                        "give the position, e.g. model.layers[0].units")
    _check_names(tokens, text)
    return tuple(tokens)


def _near(word: str, names: Any) -> str:
    close = difflib.get_close_matches(word, sorted(names), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _expect_name(tokens: list[Token], at: int, names: Any, text: str, what: str) -> None:
    """Raises unless tokens[at], when present, is one of `names`."""
    if at >= len(tokens):
        return
    token = tokens[at]
    if not isinstance(token, str) or token not in names:
        shown = f"[{token}]" if not isinstance(token, str) else repr(token)
        listed = ", ".join(sorted(names)) if len(names) <= 8 else \
            f"{len(names)} names such as " + ", ".join(sorted(names)[:5])
        hint = _near(token, names) if isinstance(token, str) else ""
        raise PathError(f"{text}: {what} has no {shown} (expected one of {listed}){hint}")


def _expect_index(tokens: list[Token], at: int, text: str, what: str) -> None:
    if at < len(tokens) and isinstance(tokens[at], str) and tokens[at] != "*":
        raise PathError(f"{text}: {what} is a list; give a position in brackets, e.g. "
                        f"{'.'.join(str(t) for t in tokens[:at])}[0]")


def _check_names(tokens: list[Token], text: str) -> None:
    section = tokens[0]
    if section not in SECTIONS:
        raise PathError(f"{text}: a path starts with one of {', '.join(SECTIONS)}, got "
                        f"{section!r}{_near(str(section), SECTIONS)}")
    if section == "model":
        _expect_name(tokens, 1, ("input_shape", "layers"), text, "model")
        if len(tokens) > 2 and tokens[1] == "layers":
            _expect_index(tokens, 2, text, "model.layers")
            _expect_name(tokens, 3, _LAYER_ARGS, text, "a layer")
        elif len(tokens) > 2:
            _expect_index(tokens, 2, text, "model.input_shape")
            if len(tokens) > 3:
                raise PathError(f"{text}: an input size is one number; end the path at "
                                f"{'.'.join(map(str, tokens[:2]))}[{tokens[2]}]")
    elif section == "compile":
        _expect_name(tokens, 1, tuple(_OBJECT_ARGS), text, "compile")
        if len(tokens) > 2 and tokens[1] == "metrics":
            _expect_index(tokens, 2, text, "compile.metrics")
            _expect_name(tokens, 3, _OBJECT_ARGS["metrics"], text, "a metric")
        elif len(tokens) > 2:
            _expect_name(tokens, 2, _OBJECT_ARGS[str(tokens[1])], text, f"the {tokens[1]}")
    elif section == "data":
        _expect_name(tokens, 1, _DATA_KEYS, text, "data")
    else:
        _expect_name(tokens, 1, _FIT_KEYS, text, "fit")
        if len(tokens) > 2 and tokens[1] == "virtual_epochs":
            _expect_name(tokens, 2, ("stop_point", "checkpoints"), text, "fit.virtual_epochs")
        elif len(tokens) > 2 and tokens[1] == "callbacks":
            _expect_index(tokens, 2, text, "fit.callbacks")
            _expect_name(tokens, 3, _CALLBACK_ARGS, text, "a callback")


def format_path(tokens: tuple[Token, ...] | list[Token]) -> str:
    """The path's text: model.layers[0].units."""
    out = ""
    for token in tokens:
        if isinstance(token, int) or (token == "*" and out):
            out += f"[{token}]"
        else:
            out += f".{token}" if out else str(token)
    return out


# -- the effective values ---------------------------------------------------------------------

def _canonical(kind: str, name: Any) -> Any:
    """A compile object's class name ("adam" -> "Adam"); unknown names stay as they are."""
    if not isinstance(name, str):
        return name
    lookup = {"optimizer": optimizer_def, "loss": loss_def, "metrics": metric_def}[kind]
    definition = lookup(name)
    return definition.type if definition is not None else name


def _object_tree(kind: str, spec: Any) -> dict[str, Any]:
    lookup = {"optimizer": optimizer_def, "loss": loss_def, "metrics": metric_def}[kind]
    definition = lookup(spec.type)
    out: dict[str, Any] = {"type": _canonical(kind, spec.type)}
    if definition is not None:
        out.update({p.name: (None if p.required else p.default) for p in definition.params})
    out.update(json.loads(json.dumps(dict(spec.args), default=str)))
    return out


def _layer_tree(layer: Any) -> dict[str, Any]:
    definition = LAYERS.get(layer.type)
    args = json.loads(json.dumps(layer.to_json(), default=str))
    args.pop("type", None)
    resolved = definition.resolved(args) if definition is not None else args
    return {"type": layer.type, **resolved}


def effective_tree(project: Project) -> dict[str, Any]:
    """The project's settings as one JSON tree, every default filled in.

    Sections: model (input_shape, layers with each layer's every argument), compile
    (optimizer, loss and metrics as objects with their class name as `type`), data and fit
    (every setting). Two projects that train the same have the same tree.
    """
    compile_spec = project.compile
    return {
        "model": {
            "input_shape": list(project.model.input_shape),
            "layers": [_layer_tree(layer) for layer in project.model.layers],
        },
        "compile": {
            "optimizer": _object_tree("optimizer", compile_spec.optimizer),
            "loss": _object_tree("loss", compile_spec.loss),
            "metrics": [_object_tree("metrics", m) for m in compile_spec.metrics],
        },
        "data": json.loads(json.dumps(project.data.resolved(), default=str)),
        "fit": json.loads(json.dumps(project.fit.resolved(), default=str)),
    }


_MISSING = object()


def value_at(tree: Any, tokens: tuple[Token, ...]) -> Any:
    """The value at a parsed path, or `MISSING` when the project has nothing there (a
    layer that was deleted, a callback the project does not have)."""
    node = tree
    for token in tokens:
        if isinstance(token, int):
            if not isinstance(node, list) or token >= len(node):
                return _MISSING
            node = node[token]
        elif isinstance(node, Mapping) and token in node:
            node = node[token]
        else:
            return _MISSING
    return node


MISSING = _MISSING


def canonical_value(tokens: tuple[Token, ...], value: Any) -> Any:
    """A value as `effective_tree` holds it at this path: a compile object's class name
    for `compile.optimizer.type` and the like ("sgd" -> "SGD")."""
    if len(tokens) >= 3 and tokens[0] == "compile" and tokens[-1] == "type":
        return _canonical(str(tokens[1]), value)
    return value


def same_value(a: Any, b: Any) -> bool:
    """JSON equality, with numbers equal when they are within a relative 1e-9 (0.1 typed
    in a field and 0.1 in a file) and true never equal to 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return set(a) == set(b) and all(same_value(a[k], b[k]) for k in a)
    return a == b


def changed_paths(old: Any, new: Any, prefix: tuple[Token, ...] = (),
                  limit: int = 200) -> list[tuple[Token, ...]]:
    """Where two effective trees differ, as paths: a value that changed, a key added or
    removed, or a list whose length changed (the list's own path: layers added, deleted).
    Stops after `limit` paths (one locked path is enough to refuse an edit)."""
    found: list[tuple[Token, ...]] = []

    def walk(a: Any, b: Any, at: tuple[Token, ...]) -> None:
        if len(found) >= limit:
            return
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            for key in list(a) + [k for k in b if k not in a]:
                if key not in a or key not in b:
                    found.append((*at, key))
                else:
                    walk(a[key], b[key], (*at, key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, (*at, i))
        elif not same_value(a, b):
            found.append(at)

    walk(old, new, prefix)
    return found


def covers(pattern: tuple[Token, ...], path: tuple[Token, ...]) -> bool:
    """True when a lock's pattern names `path` or a setting that holds it:
    `model.layers[*].units` covers model.layers[2].units, `compile.optimizer` covers
    compile.optimizer.learning_rate, and `model.layers` covers adding a layer."""
    if len(pattern) > len(path):
        return False
    return all(p == q or (p == "*" and isinstance(q, int)) for p, q in zip(pattern, path))


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) < 60 else text[:57] + "..."


__all__ = [
    "MISSING", "PathError", "SECTIONS", "canonical_value", "changed_paths", "covers",
    "effective_tree", "format_path", "parse_path", "same_value", "value_at",
]
