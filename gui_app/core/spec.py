"""Plain, JSON-able descriptions of a model, its compile settings and the data it sees.

Everything the editor changes is one of these frozen objects; the summary, the checks, the
builder and the training session all read them. Nothing here imports Keras or Qt.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

Shape = tuple[int | None, ...]


def _freeze(value: Any) -> Any:
    """Deep-copies JSON-ish values so a spec never shares a mutable dict with its caller."""
    return copy.deepcopy(value)


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its Keras class name and the keyword arguments that differ from Keras's defaults."""

    type: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", _freeze(dict(self.args)))

    @property
    def name(self) -> str | None:
        """The user's name for the layer, or None when Keras should name it."""
        return self.args.get("name")

    def with_args(self, **changes: Any) -> LayerSpec:
        """A copy with some arguments changed; a value of None that is marked `...` removes it."""
        args = dict(self.args)
        for key, value in changes.items():
            if value is ...:
                args.pop(key, None)
            else:
                args[key] = value
        return LayerSpec(self.type, args)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        for key, value in self.args.items():
            out[key] = value.to_json() if isinstance(value, LayerSpec) else _freeze(value)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LayerSpec:
        args = {k: v for k, v in data.items() if k != "type"}
        if isinstance(args.get("layer"), Mapping):  # Bidirectional wraps a layer
            args["layer"] = cls.from_json(args["layer"]).to_json()
        return cls(str(data["type"]), args)


@dataclass(frozen=True)
class ObjectSpec:
    """An optimizer, loss or metric: a Keras name ("adam") or a class name with arguments."""

    type: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", _freeze(dict(self.args)))

    def to_json(self) -> str | dict[str, Any]:
        if not self.args:
            return self.type
        return {"type": self.type, **_freeze(dict(self.args))}

    @classmethod
    def from_json(cls, data: str | Mapping[str, Any]) -> ObjectSpec:
        if isinstance(data, str):
            return cls(data)
        return cls(str(data["type"]), {k: v for k, v in data.items() if k != "type"})

    def with_args(self, **changes: Any) -> ObjectSpec:
        args = dict(self.args)
        for key, value in changes.items():
            if value is ...:
                args.pop(key, None)
            else:
                args[key] = value
        return ObjectSpec(self.type, args)


@dataclass(frozen=True)
class ModelSpec:
    """A Sequential model: the input shape (without the batch axis) and the ordered layers."""

    input_shape: Shape
    layers: tuple[LayerSpec, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "input_shape", tuple(self.input_shape))
        object.__setattr__(self, "layers", tuple(self.layers))

    def to_json(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "layers": [layer.to_json() for layer in self.layers],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ModelSpec:
        return cls(
            tuple(data["input_shape"]),
            tuple(LayerSpec.from_json(item) for item in data.get("layers", [])),
        )

    # Editing helpers: each returns a new spec, so undo is just keeping the old one.
    def insert(self, index: int, layer: LayerSpec) -> ModelSpec:
        layers = list(self.layers)
        layers.insert(index, layer)
        return replace(self, layers=tuple(layers))

    def remove(self, index: int) -> ModelSpec:
        layers = list(self.layers)
        del layers[index]
        return replace(self, layers=tuple(layers))

    def move(self, source: int, dest: int) -> ModelSpec:
        layers = list(self.layers)
        layers.insert(dest, layers.pop(source))
        return replace(self, layers=tuple(layers))

    def set_layer(self, index: int, layer: LayerSpec) -> ModelSpec:
        layers = list(self.layers)
        layers[index] = layer
        return replace(self, layers=tuple(layers))


@dataclass(frozen=True)
class CompileSpec:
    """What `model.compile` gets: an optimizer, a loss and a list of metrics."""

    optimizer: ObjectSpec = ObjectSpec("Adam")
    loss: ObjectSpec = ObjectSpec("binary_crossentropy")
    metrics: tuple[ObjectSpec, ...] = (ObjectSpec("accuracy"),)

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))

    def to_json(self) -> dict[str, Any]:
        return {
            "optimizer": self.optimizer.to_json(),
            "loss": self.loss.to_json(),
            "metrics": [m.to_json() for m in self.metrics],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> CompileSpec:
        return cls(
            ObjectSpec.from_json(data.get("optimizer", "Adam")),
            ObjectSpec.from_json(data.get("loss", "binary_crossentropy")),
            tuple(ObjectSpec.from_json(m) for m in data.get("metrics", [])),
        )


@dataclass(frozen=True)
class DataInfo:
    """What the checks need to know about the data, without holding the arrays.

    Attributes:
        input_shape: one sample's shape, without the batch axis.
        label_shape: one label's shape, without the batch axis (`()` for plain integers).
        label_kind: "integer" (class indices), "one_hot", "binary" (0/1 floats) or "float".
        num_classes: number of distinct classes, or None for regression.
        task: "binary", "multiclass" or "regression".
        class_counts: samples per class in the training part, when known.
    """

    input_shape: Shape
    label_shape: Shape = ()
    label_kind: str = "integer"
    num_classes: int | None = None
    task: str = "binary"
    class_counts: tuple[int, ...] = ()


@dataclass(frozen=True)
class Project:
    """A whole LayerLab project: what the project file stores."""

    name: str = "Untitled"
    model: ModelSpec = ModelSpec((2,))
    compile: CompileSpec = CompileSpec()
    data: Mapping[str, Any] = field(default_factory=dict)
    fit: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""  # a lesson's few sentences of explanation, shown in the window
    #: Paths outside the project's folder that its owner confirmed it may write (core.paths).
    allow_outside: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", _freeze(dict(self.data)))
        object.__setattr__(self, "fit", _freeze(dict(self.fit)))
        object.__setattr__(self, "allow_outside", tuple(self.allow_outside))

    def replace(self, **changes: Any) -> Project:
        return replace(self, **changes)


def snake_name(class_name: str) -> str:
    """Keras's default layer name for a class: `MaxPooling2D` -> `max_pooling2d`.

    The same rule as `keras.src.utils.naming.to_snake_case`, so the names LayerLab shows
    are the names Keras gives.
    """
    name = re.sub(r"\W+", "", class_name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub("([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def layer_names(layers: tuple[LayerSpec, ...] | list[LayerSpec]) -> list[str]:
    """Names as Keras would give them in a fresh session: dense, dense_1, ... unless set.

    A Bidirectional layer's wrapped layer takes a name first, as it does in Keras.
    """
    taken = {layer.name for layer in layers if layer.name}
    counts: dict[str, int] = {}

    def next_name(class_name: str) -> str:
        base = snake_name(class_name)
        while True:
            n = counts.get(base, 0)
            counts[base] = n + 1
            candidate = base if n == 0 else f"{base}_{n}"
            if candidate not in taken:
                return candidate

    names = []
    for layer in layers:
        inner = layer.args.get("layer")
        if isinstance(inner, Mapping) and "type" in inner and not inner.get("name"):
            next_name(str(inner["type"]))
        if layer.name:
            names.append(str(layer.name))
            continue
        candidate = next_name(layer.type)
        taken.add(candidate)
        names.append(candidate)
    return names


def default_project() -> Project:
    """The project the app opens on: circle data, 2-8-8-1 ReLU network, Adam, BCE, accuracy."""
    return Project(
        name="Circle",
        model=ModelSpec(
            (2,),
            (
                LayerSpec("Dense", {"units": 8, "activation": "relu"}),
                LayerSpec("Dense", {"units": 8, "activation": "relu"}),
                LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}),
            ),
        ),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"), (ObjectSpec("accuracy"),)),
        data={"source": "circle", "samples": 500, "noise": 0.1, "seed": 0, "validation_split": 0.2},
        fit={"epochs": 50, "batch_size": 32},
    )
