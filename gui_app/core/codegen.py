"""The Keras code a project means: the text of the live code pane and of exported scripts.

`model_code()` is the single source for the model, compile and fit part; the window's code
pane shows it and `layerlab export` embeds it, so the two cannot disagree.

A project file may come from a stranger, and the code made from it is run by whoever
exports it, so project text never becomes code by itself. Every value from a project
reaches the generated text through `literal()` (a Python literal that evaluates back to
the value), every name that is emitted as code through `identifier()` (checked against
Python's grammar and, for classes, against the catalog), and text meant for a person
(comments, docstrings) through `comment_text()`. Projects are validated when loaded;
these checks hold even for a spec that never was.
"""

from __future__ import annotations

import ast
import keyword
import math
from collections.abc import Mapping
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

from .catalog import CALLBACKS, LAYERS, loss_def, metric_def, optimizer_def
from .spec import LayerSpec, ObjectSpec, Project

INDENT = "    "
COMMENT_LIMIT = 80  # characters of project text kept in a comment or docstring


class UnsafeCodeError(ValueError):
    """A project value that cannot be written as code safely (an unknown class name, an
    argument name that is not a Python identifier, a value that is not JSON data).

    A ValueError, because it is the value that is wrong, not the generator.
    """


def literal(value: Any, quote: str = '"') -> str:
    """A Python literal for a JSON value, the one way project values reach generated code.

    Lists become tuples (Keras's style for shapes and sizes), mappings dicts, None, True,
    False and numbers print as Python does. Text is double-quoted when that can be done
    without escapes (`"relu"`, as a person writes it) and is otherwise Python's own `repr`,
    which escapes quotes, backslashes, line breaks and every unprintable character, so the
    literal is always one line that evaluates back to exactly the text. Non-finite floats
    become `float("inf")`-style calls, since `inf` and `nan` are not Python names.

    Args:
        value: the JSON value.
        quote: `"` for the double-quoted spelling above, `'` for plain `repr` spelling
            (the exported script's paths have always been written that way).

    Raises:
        UnsafeCodeError: for anything that is not JSON-like data (objects, bytes, sets...),
            whose repr could be arbitrary text.
    """
    if value is None or value is True or value is False:
        return repr(value)
    if isinstance(value, str):
        return _str_literal(value, quote)
    if isinstance(value, Integral) and not isinstance(value, bool):
        return int.__repr__(int(value))  # numpy integers too; never a subclass's __repr__
    if isinstance(value, Real) and not isinstance(value, bool):
        number = float(value)
        if math.isnan(number):
            return 'float("nan")'
        if math.isinf(number):
            return 'float("inf")' if number > 0 else '-float("inf")'
        return float.__repr__(number)
    if isinstance(value, (list, tuple)):
        inner = ", ".join(literal(v, quote) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{literal(k, quote)}: {literal(v, quote)}"
                               for k, v in value.items()) + "}"
    raise UnsafeCodeError(f"cannot write a {type(value).__name__} value as code: "
                          "expected text, a number, true/false, null, a list or an object")


def _str_literal(value: str, quote: str) -> str:
    text = str.__str__(value)  # a plain str, whatever a subclass's __repr__ would say
    if quote == '"' and text.isprintable() and '"' not in text and "\\" not in text:
        out = f'"{text}"'
    else:
        out = str.__repr__(text)  # escapes everything unprintable, including line breaks
    # Defence in depth: the literal must be one line that evaluates to the text itself.
    if not out.isprintable() or ast.literal_eval(out) != text:
        raise UnsafeCodeError(f"cannot write the text {ascii(text[:40])} as a literal")
    return out


def identifier(name: Any, known: Any = None, what: str = "name") -> str:
    """`name`, checked to be safe to write as code: a class, attribute or keyword argument.

    Args:
        name: the project's text.
        known: when given, a container the name must be in (a catalog of classes).
        what: what the name is, for the error message.

    Raises:
        UnsafeCodeError: when the name is not an ASCII Python identifier, is a keyword, or
            is not in `known`. ASCII only, because Python folds other identifiers (NFKC),
            so two different names could become one.
    """
    ok = (isinstance(name, str) and name.isascii() and name.isidentifier()
          and not keyword.iskeyword(name))
    if ok and known is not None:
        ok = name in known
    if not ok:
        raise UnsafeCodeError(f"{what} {ascii(name)[:60]} cannot be written as code: "
                              + ("expected a name LayerLab knows" if known is not None
                                 else "expected a Python identifier"))
    return name


def comment_text(text: Any, limit: int = COMMENT_LIMIT) -> str:
    """Project text for a comment or docstring: one line that cannot end either.

    The text is cut to `limit` characters, then written as Python writes it inside a
    string (`repr` without its quotes): line breaks, carriage returns, NULs, lone
    surrogates and other unprintable characters become escapes, and every double quote
    is escaped too, so no `\"\"\"` can close a docstring. Every backslash left is part of
    a complete escape, so a docstring stays free of invalid escapes.
    """
    text = str(text) if not isinstance(text, str) else str.__str__(text)
    cut = text[:limit]
    shown = str.__repr__(cut)[1:-1].replace('"', '\\"')
    return shown + ("..." if len(text) > limit else "")


def layer_code(layer: LayerSpec) -> str:
    """`layers.Dense(8, activation="relu")`: the first required argument positionally.

    Raises:
        UnsafeCodeError: for a layer class the catalog does not list, or an argument name
            that is not an identifier.
    """
    parts = []
    definition = LAYERS.get(identifier(layer.type, LAYERS, "layer type"))
    first = definition.params[0].name if definition and definition.params else None
    for key, value in layer.args.items():
        if key == "layer" and isinstance(value, Mapping):
            parts.append(layer_code(LayerSpec.from_json(value)))
        elif key == first and definition and definition.params[0].required:
            parts.insert(0, literal(value))
        else:
            parts.append(_keyword_arg(key, value))
    return f"layers.{layer.type}({', '.join(parts)})"


def _keyword_arg(key: Any, value: Any) -> str:
    """`key=value`, the key checked as an identifier and the value written by `literal`."""
    return f"{identifier(key, what='argument name')}={literal(value)}"


def object_code(spec: ObjectSpec, namespace: str, lookup, instance: bool = False) -> str:
    """`"adam"` when there are no arguments, else `keras.optimizers.Adam(learning_rate=0.01)`.

    Without arguments the name is a string literal, which Keras resolves itself, so even
    an unknown name is only text. With arguments the class name becomes code, so it has to
    be one the catalog knows.

    Args:
        instance: always the class form (`keras.optimizers.Adam()`), for code that calls
            the object itself instead of handing it to `compile` (the `--loop` export).

    Raises:
        UnsafeCodeError: for arguments on an object the catalog does not know (or any
            unknown object, with `instance`), or an argument name that is not an identifier.
    """
    definition = lookup(spec.type) if isinstance(spec.type, str) else None
    if not spec.args and not instance:
        return literal(definition.alias if definition is not None else spec.type)
    if definition is None:
        raise UnsafeCodeError(f"{namespace}: LayerLab has no class called "
                              f"{ascii(spec.type)[:60]}, so it cannot be written as code")
    type_name = identifier(definition.type, what=f"{namespace} class")
    args = ", ".join(_keyword_arg(k, v) for k, v in spec.args.items())
    return f"keras.{namespace}.{type_name}({args})"


def project_callbacks(project: Project) -> list[Any]:
    """The fit section's callbacks that become code: those the catalog lists (an unknown
    one is left out, so its name never becomes code)."""
    return [c for c in project.fit.callbacks or () if ObjectSpec.from_json(c).type in CALLBACKS]


def callbacks_code(callbacks: list[Any]) -> list[str]:
    """`callbacks = [...]`, one `callback_code` line per callback."""
    return ["callbacks = [", *(f"{INDENT}{callback_code(c)}," for c in callbacks), "]"]


def callback_code(spec: Mapping[str, Any] | str) -> str:
    """`keras.callbacks.CSVLogger(filename="log.csv")`.

    Raises:
        UnsafeCodeError: for a callback the catalog does not list, or a bad argument name.
    """
    obj = ObjectSpec.from_json(spec)
    type_name = identifier(obj.type, CALLBACKS, "callback type")
    args = ", ".join(_keyword_arg(k, v) for k, v in obj.args.items())
    return f"keras.callbacks.{type_name}({args})"


def model_code(project: Project, fit_call: bool = True) -> str:
    """The Sequential model, compile and (optionally) fit, as a student would write them.

    Raises:
        UnsafeCodeError: for a project part that cannot be written as code safely (see
            `literal` and `identifier`); a project that loaded never has one.
    """
    lines = sequential_code(project)
    lines.append("")
    c = project.compile
    metrics = ", ".join(object_code(m, "metrics", metric_def) for m in c.metrics)
    lines.append("model.compile(")
    lines.append(f"{INDENT}optimizer={object_code(c.optimizer, 'optimizers', optimizer_def)},")
    lines.append(f"{INDENT}loss={object_code(c.loss, 'losses', loss_def)},")
    lines.append(f"{INDENT}metrics=[{metrics}],")
    lines.append(")")
    if fit_call:
        lines.append("")
        lines.extend(fit_code(project))
    return "\n".join(lines) + "\n"


def sequential_code(project: Project) -> list[str]:
    """The `model = keras.Sequential([...])` statement's lines (the fit and loop exports'
    shared model)."""
    model = project.model
    lines = ["model = keras.Sequential(["]
    lines.append(f"{INDENT}keras.Input(shape={literal(list(model.input_shape))}),")
    for layer in model.layers:
        lines.append(f"{INDENT}{layer_code(layer)},")
    lines.append(f"], name={literal(_ident(str(project.name)))})")
    return lines


def fit_code(project: Project) -> list[str]:
    """The fit call's lines (and the virtual-epoch and callback lines before it).

    Every fit value goes through `literal`: a validated project holds numbers there, and
    one that was not validated gets, at worst, a wrong-typed literal, never code.
    """
    fit = project.fit
    plan = schedule_code(project)
    images = project.data.source == "images"
    # a folder's pipelines are batched (and shuffled) already, so fit gets no batch size
    args = ["train_ds"] if images else ["x_train", "y_train"]
    args.append(f"epochs={plan.epochs}")
    if not images:
        args.append(f"batch_size={literal(fit.batch_size)}")
    if plan.steps is not None:
        args.append(f"steps_per_epoch={plan.steps}")
    if not images and not plan.shuffle:
        args.append("shuffle=False")
    if project.data.validation_split:
        args.append("validation_data=val_ds" if images else "validation_data=(x_val, y_val)")
    if fit.class_weight:
        args.append("class_weight=class_weight")
    return plan.lines + _fit_call(args, project_callbacks(project))


@dataclass(frozen=True)
class Schedule:
    """How many epochs of how many batches, as code, shared by the fit and loop exports.

    Attributes:
        lines: the lines that come before training (virtual epochs: the steps per epoch
            and, for arrays, the passes over the data laid end to end).
        epochs: the number of epochs, as code.
        steps: the batches per epoch as code, or None for one pass over the data.
        shuffle: whether training reshuffles the arrays each pass (for arrays; a folder's
            pipeline shuffles itself).
    """

    lines: list[str]
    epochs: str
    steps: str | None
    shuffle: bool


def schedule_code(project: Project) -> Schedule:
    """The epochs, steps per epoch and virtual-epoch lines of a project's fit section.

    For arrays, virtual epochs lay the passes end to end (each freshly shuffled when
    shuffling is on), so that training walks through them in order. A folder of images
    (`train_ds` and `val_ds` are tf.data pipelines, batched and shuffled already, as
    `core/training/image_pipeline.py` builds them) repeats instead when there are virtual
    epochs or steps_per_epoch, and the steps per epoch come from the number of training
    files.
    """
    fit = project.fit
    images = project.data.source == "images"
    virtual = fit.virtual_epochs
    if not virtual:
        steps = literal(fit.steps_per_epoch) if fit.steps_per_epoch else None
        return Schedule([], literal(fit.epochs), steps, fit.shuffle is not False)
    batch = literal(fit.batch_size)
    stop_point, checkpoints = literal(virtual["stop_point"]), literal(virtual["checkpoints"])
    what, count_of = ("images", "len(train_files)") if images else ("data", "len(x_train)")
    lines = [
        f"# Virtual epochs: show {comment_text(stop_point)} x the training {what} in "
        f"{comment_text(checkpoints)} checkpoints,",
        f"# so changing the batch size or adding {what} keeps the examples seen constant.",
        f"total_examples = int({stop_point} * {count_of})",
        f"steps_per_epoch = max(1, total_examples // ({batch} * {checkpoints}))",
    ]
    if not images:
        # Plain arrays run out after one pass, so the passes are laid end to end (each
        # freshly shuffled when shuffling is on) and training walks through them in order.
        lines += [
            f"count = steps_per_epoch * {batch} * {checkpoints}",
            "passes = -(-count // len(x_train))",
        ]
        if fit.shuffle is False:
            lines.append("order = np.tile(np.arange(len(x_train)), passes)[:count]")
        else:
            lines += [
                f"order_rng = np.random.default_rng({literal(fit.seed)})",
                "order = np.concatenate([order_rng.permutation(len(x_train)) "
                "for _ in range(passes)])[:count]",
            ]
        lines.append("x_train, y_train = x_train[order], y_train[order]")
    return Schedule(lines, checkpoints, "steps_per_epoch", images and fit.shuffle is not False)


def _fit_call(args: list[str], callbacks: list[Any]) -> list[str]:
    """`history = model.fit(...)` with `args`, after the callbacks' list when there are any."""
    lines = []
    if callbacks:
        lines.extend(callbacks_code(callbacks))
        args = [*args, "callbacks=callbacks"]
    lines.append("history = model.fit(")
    lines.extend(f"{INDENT}{a}," for a in args)
    lines.append(")")
    return lines


def _ident(name: str) -> str:
    """The project name as a Keras model name: letters, digits and underscores."""
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name.strip().lower())
    return cleaned.strip("_") or "model"
