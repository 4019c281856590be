"""Plain, JSON-able descriptions of a model, its compile settings and the data it sees.

Everything the editor changes is one of these frozen objects; the summary, the checks, the
builder and the training session all read them. Nothing here imports Keras or Qt.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .lesson_steps import LessonSpec

Shape = tuple[int | None, ...]
_S = TypeVar("_S", bound="_Settings")


def _freeze(value: Any) -> Any:
    """Deep-copies JSON-ish values so a spec never shares a mutable dict with its caller."""
    return copy.deepcopy(value)


def _hashable(value: Any) -> Any:
    """A hashable stand-in for a JSON-ish value: equal values give equal stand-ins."""
    if isinstance(value, Mapping):
        return frozenset((k, _hashable(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(v) for v in value)
    return value


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


class _Settings(Mapping[str, Any]):
    """A settings section (`data`, `fit`): typed attributes over the keys a person set.

    Subclasses are frozen dataclasses whose fields, with their defaults, are the known
    settings: the defaults live there and nowhere else. An instance keeps the mapping it was
    made from, and is a read-only Mapping over exactly those keys, so `to_json` writes back
    what the file held (saving never adds defaults to it) and code that reads the section
    as a dict keeps working. An attribute gives the value set, or the default.

    Nothing is checked here (`project.fit_problems` and `data.resolve_data` check), and a key
    that is no field (a typo in a file nobody validated) is kept, so the checks still see
    it. Equality is the dict's: `FitSpec({})` differs from `FitSpec(epochs=10)`, as the
    files they save differ; a spec also equals a plain mapping with the same items.
    """

    _given: dict[str, Any]

    def __init__(self, settings: Mapping[str, Any] | None = None, /, **values: Any) -> None:
        names = {f.name for f in fields(self)}  # type: ignore[arg-type]
        unknown = sorted(set(values) - names)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        given = _freeze({**(settings or {}), **values})
        object.__setattr__(self, "_given", given)
        for f in fields(self):  # type: ignore[arg-type]
            if f.name in given:
                value = given[f.name]
            else:
                value = f.default_factory() if f.default_factory is not MISSING else f.default
            object.__setattr__(self, f.name, value)

    @classmethod
    def from_json(cls: type[_S], data: Mapping[str, Any] | None) -> _S:
        """The section as a project file holds it (validated by the caller)."""
        return cls(data)

    def to_json(self) -> dict[str, Any]:
        """Only the keys that were set, as they were set (a deep copy)."""
        return _freeze(self._given)

    def resolved(self) -> dict[str, Any]:
        """Every setting, the defaults filled in (a deep copy); keys that are no field are left out."""
        return {f.name: _freeze(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Every setting's default, in field order."""
        return cls().resolved()

    def replace(self: _S, **changes: Any) -> _S:
        """A copy with some settings set; a value of `...` removes the key (back to the default)."""
        given = dict(self._given)
        for key, value in changes.items():
            if value is ...:
                given.pop(key, None)
            else:
                given[key] = value
        unknown = sorted(set(changes) - {f.name for f in fields(self)})  # type: ignore[arg-type]
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(unknown)}")
        return type(self)(given)

    # The read-only Mapping protocol, over the keys that were set.
    def __getitem__(self, key: str) -> Any:
        return self._given[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._given)

    def __len__(self) -> int:
        return len(self._given)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, _Settings):
            return type(other) is type(self) and self._given == other._given
        if isinstance(other, Mapping):
            return self._given == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((type(self).__name__, _hashable(self._given)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._given!r})"


@dataclass(frozen=True, init=False, eq=False, repr=False)
class FitSpec(_Settings):
    """The `fit` section: how `model.fit` runs, besides the data it gets."""

    epochs: int = 10
    batch_size: int = 32
    steps_per_epoch: int | None = None  # None: the whole training data each epoch
    shuffle: bool = True
    seed: int | None = 0  # for weights, shuffling and dropout; None for random
    #: None, "balanced", or class numbers (as text) to weights: {"0": 1.0, "1": 4.0}.
    class_weight: str | Mapping[str, float] | None = None
    #: None, or {"stop_point": passes over the data, "checkpoints": how many epochs}.
    virtual_epochs: Mapping[str, Any] | None = None
    #: Keras callbacks, each as `ObjectSpec.to_json` writes it.
    callbacks: list[Any] = field(default_factory=list)


@dataclass(frozen=True, init=False, eq=False, repr=False)
class DataSpec(_Settings):
    """The `data` section: where the samples come from and how they are split."""

    source: str = "circle"
    path: str | None = None  # the CSV or NPZ file, for those sources
    features: list[str] | None = None  # CSV columns; None for all but the target
    target: str | None = None  # CSV column; None for the last
    samples: int = 500
    noise: float = 0.1
    classes: int = 2
    seed: int = 0
    validation_split: float = 0.2
    test_split: float = 0.0
    standardize: bool = False
    labels: str = "integer"  # or "one_hot"
    #: For the "images" source: every image is resized to [height, width] ...
    image_size: list[int] = field(default_factory=lambda: [64, 64])
    #: ... and read as "grayscale" (1 channel) or "rgb" (3 channels).
    color_mode: str = "rgb"


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
        images: whether the samples are image files streamed from disk.
        notes: the loader's remarks about the data that do not stop training.
    """

    input_shape: Shape
    label_shape: Shape = ()
    label_kind: str = "integer"
    num_classes: int | None = None
    task: str = "binary"
    class_counts: tuple[int, ...] = ()
    #: True for a folder of images read from disk (data source "images").
    images: bool = False
    #: What the data's loader noticed that does not stop training, as (severity, sentence):
    #: ("warning", files left out) or ("note", images resized); the checks show them.
    notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Intended:
    """A check's finding that the project makes on purpose, with the reason.

    A lesson that demonstrates a mistake (lesson 1 fits a line with mean squared error,
    as the course does) would otherwise be told off by its own checks. Marked here, the
    finding is shown as a note that gives `why` instead of as a warning (`checks.run_checks`),
    so the person reads the lesson's reason rather than a contradiction.

    Attributes:
        code: the finding's code, as `checks.CODES` lists them ("regression-loss-on-classes").
        why: one or two sentences for the person: why the project does this on purpose.
    """

    code: str
    why: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "why": self.why}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Intended:
        return cls(str(data["code"]), str(data["why"]))


@dataclass(frozen=True)
class SearchDim:
    """One searched setting of a hyperparameter search (`core.search` checks and applies it).

    Attributes:
        path: the setting's JSON path in the project file ("model.layers[0].units").
        kind: "int" (a range with a step), "float" (a range, linear or log) or "choice".
        min, max: the range's ends, both included ("int" and "float").
        step: the distance between two integers tried ("int"; 1 by default), or None.
        sampling: "linear" or "log" (log tries as many values per decade).
        values: the values tried ("choice"), in order.
    """

    path: str
    kind: str
    min: float | None = None
    max: float | None = None
    step: float | None = None
    sampling: str = "linear"
    values: tuple[Any, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(self.values))

    def to_json(self) -> dict[str, Any]:
        """As the project file holds it: only the keys this kind uses."""
        out: dict[str, Any] = {"path": self.path, "kind": self.kind}
        if self.kind == "choice":
            out["values"] = list(self.values)
            return out
        out["min"], out["max"] = self.min, self.max
        if self.step is not None:
            out["step"] = self.step
        if self.sampling != "linear":
            out["sampling"] = self.sampling
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchDim:
        """The entry as `core.search.search_from_json` checked it."""
        return cls(str(data["path"]), str(data["kind"]), data.get("min"), data.get("max"),
                   data.get("step"), str(data.get("sampling", "linear")),
                   tuple(data.get("values", ())))


@dataclass(frozen=True)
class SearchSpec:
    """The `search` section: which settings Keras Tuner searches, and how.

    Attributes:
        tuner: "random", "hyperband" or "bayesian".
        objective: the logged quantity that picks the best trial ("val_loss",
            "val_accuracy", ...); losses and errors are minimised, the rest maximised.
        max_trials: trials in all (a continued search stops there too).
        executions_per_trial: trainings per trial, from fresh weights; the score is their mean.
        space: the searched settings.
    """

    tuner: str = "random"
    objective: str = "val_loss"
    max_trials: int = 10
    executions_per_trial: int = 1
    space: tuple[SearchDim, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "space", tuple(
            d if isinstance(d, SearchDim) else SearchDim.from_json(d) for d in self.space))

    def to_json(self) -> dict[str, Any]:
        return {"tuner": self.tuner, "objective": self.objective,
                "max_trials": self.max_trials,
                "executions_per_trial": self.executions_per_trial,
                "space": [d.to_json() for d in self.space]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SearchSpec:
        return cls(str(data.get("tuner", "random")), str(data.get("objective", "val_loss")),
                   int(data.get("max_trials", 10)), int(data.get("executions_per_trial", 1)),
                   tuple(SearchDim.from_json(d) for d in data.get("space", ())))

    def dim(self, path: str) -> SearchDim | None:
        """The entry that searches `path`, if any."""
        return next((d for d in self.space if d.path == path), None)

    def paths(self) -> tuple[str, ...]:
        return tuple(d.path for d in self.space)


@dataclass(frozen=True)
class Project:
    """A whole LayerLab project: what the project file stores."""

    name: str = "Untitled"
    model: ModelSpec = ModelSpec((2,))
    compile: CompileSpec = CompileSpec()
    #: A plain mapping given here (the window passes dicts) becomes a DataSpec / FitSpec.
    data: DataSpec = field(default_factory=DataSpec)
    fit: FitSpec = field(default_factory=FitSpec)
    description: str = ""  # a lesson's few sentences of explanation, shown in the window
    #: Paths outside the project's folder that its owner confirmed it may write (core.paths).
    allow_outside: tuple[str, ...] = ()
    #: Findings the project makes on purpose (a lesson's deliberate mistake), with reasons;
    #: plain {"code", "why"} mappings given here become Intended.
    intended: tuple[Intended, ...] = ()
    #: The hyperparameter search (`core.search`), or None: a project file of format
    #: version 2 may hold one; without it the file is written as version 1.
    search: SearchSpec | None = None
    #: A lesson's steps and locks (`core.lesson_steps.LessonSpec`), or None: the project
    #: file's optional `steps` and `locks` sections.
    lesson: LessonSpec | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.data, DataSpec):
            object.__setattr__(self, "data", DataSpec(self.data))
        if not isinstance(self.fit, FitSpec):
            object.__setattr__(self, "fit", FitSpec(self.fit))
        object.__setattr__(self, "allow_outside", tuple(self.allow_outside))
        object.__setattr__(self, "intended", tuple(
            item if isinstance(item, Intended) else Intended.from_json(item)
            for item in self.intended))
        if self.search is not None and not isinstance(self.search, SearchSpec):
            object.__setattr__(self, "search", SearchSpec.from_json(self.search))

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
