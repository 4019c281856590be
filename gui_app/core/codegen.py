"""The Keras code a project means: the text of the live code pane and of exported scripts.

`model_code()` is the single source for the model, compile and fit part; the window's code
pane shows it and `layerlab export` embeds it, so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .catalog import CALLBACKS, LAYERS, loss_def, metric_def, optimizer_def
from .data import DATA_DEFAULTS
from .spec import LayerSpec, ObjectSpec, Project

INDENT = "    "


def py(value: Any) -> str:
    """A Python literal for a JSON value: tuples for lists (Keras's style), None/True/False."""
    if isinstance(value, list):
        inner = ", ".join(py(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{py(k)}: {py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, float):
        return repr(value)
    return repr(value)


def layer_code(layer: LayerSpec) -> str:
    """`layers.Dense(8, activation="relu")`: the first required argument positionally."""
    parts = []
    definition = LAYERS.get(layer.type)
    first = definition.params[0].name if definition and definition.params else None
    for key, value in layer.args.items():
        if key == "layer" and isinstance(value, Mapping):
            parts.append(layer_code(LayerSpec.from_json(value)))
        elif key == first and definition and definition.params[0].required:
            parts.insert(0, py(value))
        else:
            parts.append(f"{key}={_kw(value)}")
    return f"layers.{layer.type}({', '.join(parts)})"


def _kw(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return py(value)


def object_code(spec: ObjectSpec, namespace: str, lookup) -> str:
    """`"adam"` when there are no arguments, else `keras.optimizers.Adam(learning_rate=0.01)`."""
    definition = lookup(spec.type)
    if not spec.args:
        if namespace == "optimizers" and definition is not None:
            return f'"{definition.alias}"'
        return f'"{definition.alias if definition else spec.type}"'
    type_name = definition.type if definition else spec.type
    args = ", ".join(f"{k}={_kw(v)}" for k, v in spec.args.items())
    return f"keras.{namespace}.{type_name}({args})"


def callback_code(spec: Mapping[str, Any] | str) -> str:
    obj = ObjectSpec.from_json(spec)
    args = ", ".join(f"{k}={_kw(v)}" for k, v in obj.args.items())
    return f"keras.callbacks.{obj.type}({args})"


def model_code(project: Project, fit_call: bool = True) -> str:
    """The Sequential model, compile and (optionally) fit, as a student would write them."""
    model = project.model
    lines = ["model = keras.Sequential(["]
    lines.append(f"{INDENT}keras.Input(shape={py(list(model.input_shape))}),")
    for layer in model.layers:
        lines.append(f"{INDENT}{layer_code(layer)},")
    name = project.name.replace('"', "'")
    lines.append(f'], name="{_ident(name)}")')
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


def fit_code(project: Project) -> list[str]:
    fit = project.fit
    args = ["x_train", "y_train"]
    args.append(f"epochs={fit.get('epochs', 10)}")
    args.append(f"batch_size={fit.get('batch_size', 32)}")
    virtual = fit.get("virtual_epochs")
    if virtual:
        args.append("steps_per_epoch=steps_per_epoch")
    elif fit.get("steps_per_epoch"):
        args.append(f"steps_per_epoch={fit['steps_per_epoch']}")
    if fit.get("shuffle", True) is False or virtual:
        args.append("shuffle=False")
    validation = {**DATA_DEFAULTS, **project.data}["validation_split"]
    if validation:
        args.append("validation_data=(x_val, y_val)")
    if fit.get("class_weight"):
        args.append("class_weight=class_weight")
    callbacks = [c for c in fit.get("callbacks", []) if ObjectSpec.from_json(c).type in CALLBACKS]
    lines = []
    if virtual:
        # Plain arrays run out after one pass, so the passes are laid end to end (each
        # freshly shuffled when shuffling is on) and fit walks through them in order.
        batch, checkpoints = fit.get("batch_size", 32), virtual["checkpoints"]
        lines += [
            f"# Virtual epochs: show {virtual['stop_point']} x the training data in "
            f"{checkpoints} checkpoints,",
            "# so changing the batch size or adding data keeps the examples seen constant.",
            f"total_examples = int({virtual['stop_point']} * len(x_train))",
            f"steps_per_epoch = max(1, total_examples // ({batch} * {checkpoints}))",
            f"count = steps_per_epoch * {batch} * {checkpoints}",
            "passes = -(-count // len(x_train))",
        ]
        if fit.get("shuffle", True) is False:
            lines.append("order = np.tile(np.arange(len(x_train)), passes)[:count]")
        else:
            lines += [
                f"order_rng = np.random.default_rng({fit.get('seed', 0)})",
                "order = np.concatenate([order_rng.permutation(len(x_train)) "
                "for _ in range(passes)])[:count]",
            ]
        lines.append("x_train, y_train = x_train[order], y_train[order]")
        args[2] = f"epochs={checkpoints}"
    if callbacks:
        lines.append("callbacks = [")
        lines.extend(f"{INDENT}{callback_code(c)}," for c in callbacks)
        lines.append("]")
        args.append("callbacks=callbacks")
    lines.append("history = model.fit(")
    lines.extend(f"{INDENT}{a}," for a in args)
    lines.append(")")
    return lines


def _ident(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name.strip().lower())
    return cleaned.strip("_") or "model"
