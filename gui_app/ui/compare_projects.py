"""What Training > Compare With does to the two projects, apart from any widget.

A comparison is fair only when both models see the same samples in the same order from
the same starting randomness: B takes A's `data` section (its source, split and data seed,
with a relative file path made absolute against A's folder, so B's own folder does not
change which file is read) and A's fit seed. B keeps its own model, compile settings,
epochs, batch size and callbacks (which write under B's own folder, as when B trains on
its own).

The small B editor (hidden Dense units, their activation, the learning rate) works on
`ModelSpec` and `Project` values here: plain data in, plain data out, no Qt and no Keras.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core import catalog
from ..core.spec import DataSpec, LayerSpec, ModelSpec, Project

#: The most hidden layers and units the editor takes (a classroom comparison, not a search).
MAX_HIDDEN_LAYERS = 12
MAX_UNITS = 10_000
#: The learning rates the editor takes: above 0, at most this.
MAX_RATE = 10.0
#: Activations offered for B's hidden layers (label, value; None: Keras's linear default).
ACTIVATIONS: tuple[tuple[str, str | None], ...] = (
    ("relu", "relu"), ("tanh", "tanh"), ("sigmoid", "sigmoid"), ("gelu", "gelu"),
    ("elu", "elu"), ("swish", "swish"), ("none (linear)", None))


# -- the shared data ---------------------------------------------------------------------------

def shared_data(a: Project, a_base: Path | None) -> DataSpec:
    """A's data section as B gets it: a relative file path made absolute against A's
    folder (or the current folder for an unsaved A), everything else as it is."""
    data = a.data
    path = data.get("path")
    if not isinstance(path, str) or not path or Path(path).is_absolute():
        return data
    base = Path(a_base) if a_base is not None else Path.cwd()
    return data.replace(path=str((base / path).resolve()))


def b_for_comparison(a: Project, a_base: Path | None, b: Project) -> Project:
    """B as it trains beside A: A's data section and fit seed, B's everything else (a
    lesson's steps stay with the lesson)."""
    fit = b.fit.replace(seed=a.fit.get("seed"))
    return b.replace(data=shared_data(a, a_base), fit=fit, lesson=None)


def data_words(a: Project) -> str:
    """ "circle, 500 samples, 20 % for validation, data seed 0" for the note on sharing."""
    data = a.data
    source = str(data.get("source", "data")).removeprefix("keras:")
    path = data.get("path")
    parts = [Path(str(path)).name if path else source]
    if not path and source in ("circle", "xor", "spiral", "moons", "blobs", "gaussian"):
        parts.append(f"{data.get('samples')} samples")
    val = float(data.get("validation_split") or 0.0)
    test = float(data.get("test_split") or 0.0)
    if val:
        parts.append(f"{val:.0%} for validation".replace("%", " %"))
    if test:
        parts.append(f"{test:.0%} for testing".replace("%", " %"))
    parts.append(f"data seed {data.get('seed')}")
    return ", ".join(parts)


def seed_words(a: Project) -> str:
    seed = a.fit.get("seed")
    return "random weights (no seed)" if seed is None else f"weight seed {seed}"


# -- hidden layers -------------------------------------------------------------------------------

def hidden_stack(model: ModelSpec) -> tuple[int, list[LayerSpec]] | None:
    """(where the hidden Dense layers begin, those layers) for a model that ends in Dense
    layers only (after any other layers, such as a Flatten or convolutions); None when
    the editor cannot say what its hidden layers are."""
    layers = list(model.layers)
    if not layers or layers[-1].type != "Dense":
        return None
    first = next(i for i, layer in enumerate(layers) if layer.type == "Dense")
    body = layers[first:-1]
    if any(layer.type != "Dense" for layer in body):
        return None
    return first, body


def hidden_units(model: ModelSpec) -> tuple[list[int], str | None] | None:
    """The hidden Dense layers' units and their (first) activation; None as above."""
    stack = hidden_stack(model)
    if stack is None:
        return None
    _first, body = stack
    units = []
    for layer in body:
        value = layer.args.get("units")
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        units.append(value)
    activation = body[0].args.get("activation") if body else "relu"
    return units, (str(activation) if activation is not None else None)


def parse_units(text: str) -> list[int]:
    """ "16, 8" -> [16, 8]; "" -> [] (no hidden layer). Raises ValueError in words."""
    words = [w for w in re.split(r"[\s,;]+", text.strip()) if w]
    if len(words) > MAX_HIDDEN_LAYERS:
        raise ValueError(f"Hidden units: expected at most {MAX_HIDDEN_LAYERS} layers, got "
                         f"{len(words)}.")
    units = []
    for word in words:
        if not word.isdigit() or not 1 <= int(word) <= MAX_UNITS:
            raise ValueError(f"Hidden units: expected whole numbers from 1 to {MAX_UNITS:,} "
                             f"separated by commas, such as 16, 8, got {word!r}.")
        units.append(int(word))
    return units


def with_hidden(model: ModelSpec, units: Sequence[int], activation: str | None) -> ModelSpec:
    """The model with these hidden Dense layers before its output layer, each with
    `activation` (None: Keras's default, linear). Layers kept from the model keep their
    other settings; added ones copy the last hidden layer's (without its name)."""
    stack = hidden_stack(model)
    if stack is None:
        raise ValueError("the model does not end in Dense layers")
    first, body = stack
    layers = list(model.layers)
    hidden = []
    for i, count in enumerate(units):
        if i < len(body):
            base = body[i]
        elif body:
            base = body[-1].with_args(name=...)
        else:
            base = LayerSpec("Dense", {})
        hidden.append(base.with_args(units=int(count),
                                     activation=activation if activation else ...))
    return replace(model, layers=tuple([*layers[:first], *hidden, layers[-1]]))


# -- the learning rate -------------------------------------------------------------------------

def learning_rate(project: Project) -> float | None:
    """The optimizer's learning rate (its Keras default when unset); None when the
    optimizer takes none, or it is not a plain number (a schedule)."""
    spec = project.compile.optimizer
    definition = catalog.optimizer_def(spec.type)
    param = definition.param("learning_rate") if definition is not None else None
    if param is None:
        return None
    value = spec.args.get("learning_rate", param.default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def parse_rate(text: str) -> float:
    """ "0.01" or "1e-3" -> the rate. Raises ValueError in words."""
    try:
        rate = float(text.strip())
    except ValueError:
        raise ValueError(f"Learning rate: expected a number such as 0.01 or 1e-3, got "
                         f"{text.strip()!r}.") from None
    if not (math.isfinite(rate) and 0 < rate <= MAX_RATE):
        raise ValueError(f"Learning rate: expected a number above 0 and at most {MAX_RATE:g}, "
                         f"got {text.strip()}.")
    return rate


def with_learning_rate(project: Project, rate: float) -> Project:
    """The project with the optimizer's learning rate set (left out when it is Keras's
    default, as the Compile tab writes it)."""
    spec = project.compile.optimizer
    definition = catalog.optimizer_def(spec.type)
    param = definition.param("learning_rate") if definition is not None else None
    if param is None:
        raise ValueError(f"the optimizer {spec.type} takes no learning rate")
    drop = not param.required and param.same_as_default(rate)
    optimizer = spec.with_args(learning_rate=... if drop else rate)
    return project.replace(compile=replace(project.compile, optimizer=optimizer))


# -- the answer ----------------------------------------------------------------------------------

def _last(history: Mapping[str, Sequence[float]], key: str) -> float | None:
    values = history.get(key) or []
    if not values:
        return None
    value = values[-1]
    return float(value) if value is not None and math.isfinite(float(value)) else None


def verdict(a: Mapping[str, Sequence[float]], b: Mapping[str, Sequence[float]]) -> str:
    """One line with the numbers that answer "which is better": the last epoch's
    accuracy and loss, on the validation part when both runs have one."""
    parts = []
    for name, higher_better in (("accuracy", True), ("loss", False)):
        for key, words in ((f"val_{name}", f"validation {name}"), (name, f"training {name}")):
            va, vb = _last(a, key), _last(b, key)
            if va is None or vb is None:
                continue
            if abs(va - vb) < 5e-4:
                which = "the same"
            else:
                b_wins = (vb > va) == higher_better
                which = f"{'B' if b_wins else 'A'} better"
            parts.append(f"{words} A {va:.3f}, B {vb:.3f} ({which})")
            break
    return f"At the last epoch: {'; '.join(parts)}." if parts else ""


def describe_end(name: str, event: Any, history: Mapping[str, Sequence[float]]) -> tuple[str, bool]:
    """(a line for one side's end, whether it is an error), from its Finished or Failed
    event. Never a traceback: the events carry words."""
    from ..core.training import Failed

    if isinstance(event, Failed):
        return f"{name} failed: {event.message.rstrip('.')}.", True
    epochs = max((len(v) for v in history.values()), default=0)
    shown = [(k, _last(history, k)) for k in ("val_accuracy", "val_loss", "accuracy", "loss")]
    values = ", ".join(f"{k} {v:.3f}" for k, v in shown if v is not None)
    if event.reason == "nan":
        return f"{name} stopped: {event.message.rstrip('.')}.", True
    how = {"stopped": "stopped after", "early_stopped": "stopped early after"}.get(
        event.reason, "done:")
    tail = f" ({values})" if values else ""
    return f"{name} {how} {epochs} epoch{'s' if epochs != 1 else ''}{tail}.", False
