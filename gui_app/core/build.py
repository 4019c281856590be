"""Turns specs into Keras objects: the only place (besides training) that touches Keras.

Keras keeps its settings per thread, so call these on the thread that will train.
"""

from __future__ import annotations

from typing import Any

from .catalog import LAYERS, loss_def, metric_def, optimizer_def
from .spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, layer_names


class BuildError(ValueError):
    """The spec names something Keras cannot make; the message says what and how to fix it."""


def _tupled(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tupled(v) for v in value)
    return value


def layer_kwargs(layer: LayerSpec) -> dict[str, Any]:
    """The keyword arguments as Keras wants them (tuples where the JSON has lists)."""
    return {k: (v if k == "layer" else _tupled(v)) for k, v in layer.args.items()}


def build_layer(layer: LayerSpec, name: str | None = None) -> Any:
    import keras

    if layer.type not in LAYERS:
        raise BuildError(f"LayerLab has no layer called '{layer.type}'.")
    kwargs = layer_kwargs(layer)
    if layer.type == "Bidirectional":
        kwargs["layer"] = build_layer(LayerSpec.from_json(layer.args["layer"]))
    if name and "name" not in kwargs:
        kwargs["name"] = name
    return getattr(keras.layers, layer.type)(**kwargs)


def build_model(model: ModelSpec, name: str = "sequential") -> Any:
    """A `keras.Sequential` for the spec, with layer names as the summary shows them.

    Raises:
        BuildError: for a model beyond `limits.model_problem` (too many layers or
            parameters for this computer), before Keras allocates anything: `units: 10**9`
            once used 8.4 GB before failing.
    """
    from .limits import model_problem
    from .summary import summarize

    problem = model_problem(summarize(model).total_params, len(model.layers))
    if problem:
        raise BuildError(f"The model is too big: {problem}.")
    import keras

    names = layer_names(model.layers)
    layers = [build_layer(layer, names[i]) for i, layer in enumerate(model.layers)]
    return keras.Sequential([keras.Input(shape=tuple(model.input_shape)), *layers], name=name)


def _object(spec: ObjectSpec, namespace: Any, definition: Any, what: str) -> Any:
    if definition is None:
        raise BuildError(f"Keras has no {what} called '{spec.type}'.")
    if not spec.args:
        return definition.alias if what != "optimizer" else getattr(namespace, definition.type)()
    return getattr(namespace, definition.type)(**{k: _tupled(v) for k, v in spec.args.items()})


def build_optimizer(spec: ObjectSpec) -> Any:
    import keras

    return _object(spec, keras.optimizers, optimizer_def(spec.type), "optimizer")


def build_loss(spec: ObjectSpec) -> Any:
    import keras

    return _object(spec, keras.losses, loss_def(spec.type), "loss")


def build_metric(spec: ObjectSpec) -> Any:
    import keras

    return _object(spec, keras.metrics, metric_def(spec.type), "metric")


def compile_model(model: Any, spec: CompileSpec) -> Any:
    model.compile(
        optimizer=build_optimizer(spec.optimizer),
        loss=build_loss(spec.loss),
        metrics=[build_metric(m) for m in spec.metrics],
    )
    return model
