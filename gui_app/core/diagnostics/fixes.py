"""Fixes for training problems, as project edits.

Each fix is a plain reference (`FixRef`: an id, its parameters and a label) that travels
in a finding's event, and a transformation that turns a `Project` into a new one. The
window applies a fix as any other edit (`fix_for(ref).apply(project)` gives the new
project), so undo is the editor's ordinary undo. `checks.Fix` is the type the pre-flight
checks use for the same job, and `fix_for` returns one, so the window shows both kinds of
fixes with the same buttons.

Which fixes apply to which problem is `suggest`'s business: it looks at the project (is
there a sigmoid hidden layer to switch, is the optimizer SGD) so a finding only offers
fixes that change something. No Keras here, only specs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..catalog import optimizer_def
from ..checks import Fix
from ..spec import LayerSpec, ObjectSpec, Project

#: Activations that squash: the ones vanishing gradients and saturation come from.
SQUASHING = frozenset({"sigmoid", "tanh", "hard_sigmoid", "softsign"})
#: Layers a normalisation or dropout layer may follow: the weighted hidden layers.
WEIGHTED = frozenset({"Dense", "Conv1D", "Conv2D"})
#: Initialisers that make every unit of a layer start the same (no unit can differ).
SYMMETRIC = frozenset({"zeros", "ones"})


@dataclass(frozen=True)
class FixRef:
    """A fix as plain data: what an event carries and what `fix_for` turns back into code.

    Attributes:
        id: which transformation ("relu_he", "lower_lr", ... as FIXES lists them).
        label: the button's text, for people.
        params: the transformation's arguments (layer indexes, factors), JSON-able.
    """

    id: str
    label: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "params": dict(self.params)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FixRef:
        return cls(str(data["id"]), str(data.get("label", "")), dict(data.get("params") or {}))


# -- the transformations ----------------------------------------------------------------

def _output_index(project: Project) -> int | None:
    """The last layer with units: the output, which fixes for hidden layers leave alone."""
    for i in range(len(project.model.layers) - 1, -1, -1):
        if "units" in project.model.layers[i].args or project.model.layers[i].type in WEIGHTED:
            return i
    return None


def hidden_indexes(project: Project, activations: frozenset[str] | None = None) -> list[int]:
    """Hidden Dense (or Activation) layers, optionally only those with `activations`."""
    out_index = _output_index(project)
    found = []
    for i, layer in enumerate(project.model.layers):
        if i == out_index or (out_index is not None and i > out_index):
            continue
        if layer.type not in WEIGHTED and layer.type != "Activation":
            continue
        act = layer.args.get("activation")
        if activations is None or act in activations:
            found.append(i)
    return found


def _set_activation(project: Project, layers: list[int], activation: str,
                    initializer: str | None = None) -> Project:
    model = project.model
    for i in layers:
        layer = model.layers[i]
        changes: dict[str, Any] = {"activation": activation}
        if initializer and layer.type in WEIGHTED:
            changes["kernel_initializer"] = initializer
        model = model.set_layer(i, layer.with_args(**changes))
    return replace(project, model=model)


def relu_he(project: Project, layers: list[int]) -> Project:
    """Sigmoid/tanh hidden layers to ReLU with He initialisation (He et al. 2015: the
    initialisation that keeps a ReLU network's signal at the same scale layer after layer)."""
    return _set_activation(project, layers, "relu", "he_normal")


def leaky_relu(project: Project, layers: list[int]) -> Project:
    """ReLU layers to leaky ReLU: a unit pushed below 0 keeps a small slope and can recover."""
    return _set_activation(project, layers, "leaky_relu")


def he_init(project: Project, layers: list[int]) -> Project:
    """He initialisation, for ReLU layers that started with another one."""
    model = project.model
    for i in layers:
        model = model.set_layer(i, model.layers[i].with_args(kernel_initializer="he_normal"))
    return replace(project, model=model)


def default_init(project: Project, layers: list[int]) -> Project:
    """Removes initialisers that start every unit alike (zeros, ones): Keras's defaults
    (Glorot for kernels, zeros for biases) then break the symmetry."""
    model = project.model
    for i in layers:
        layer = model.layers[i]
        drop = {key: ... for key in ("kernel_initializer", "bias_initializer")
                if layer.args.get(key) in SYMMETRIC}
        model = model.set_layer(i, layer.with_args(**drop))
    return replace(project, model=model)


def _default_rate(project: Project) -> float:
    """The optimizer's usual learning rate (Keras's default for it)."""
    definition = optimizer_def(project.compile.optimizer.type)
    param = definition.param("learning_rate") if definition else None
    default = param.default if param is not None else 0.001
    return float(default) if isinstance(default, (int, float)) else 0.001


def _learning_rate(project: Project) -> float:
    rate = project.compile.optimizer.args.get("learning_rate")
    if isinstance(rate, (int, float)) and not isinstance(rate, bool):
        return float(rate)
    return _default_rate(project)


def raise_factor(project: Project) -> float:
    """How much to raise a crawling learning rate: 10 times, or back to the optimizer's
    usual rate when that is further (Adam at 1e-6 needs 1000 times, not 10)."""
    return float(f"{max(10.0, _default_rate(project) / _learning_rate(project)):.6g}")


def scale_lr(project: Project, factor: float) -> Project:
    """The learning rate times `factor` (x0.1 to calm a diverging run, x10 to speed a crawl)."""
    rate = float(f"{_learning_rate(project) * factor:.6g}")
    optimizer = project.compile.optimizer.with_args(learning_rate=rate)
    return replace(project, compile=replace(project.compile, optimizer=optimizer))


def clipnorm(project: Project, value: float = 1.0) -> Project:
    """Gradient clipping: each gradient is scaled down to at most `value` in norm, so one
    bad batch cannot throw the weights far (Pascanu et al. 2013)."""
    optimizer = project.compile.optimizer.with_args(clipnorm=value)
    return replace(project, compile=replace(project.compile, optimizer=optimizer))


def adam(project: Project) -> Project:
    """Adam instead of the current optimizer, at its usual learning rate, keeping clipping."""
    keep = {k: v for k, v in project.compile.optimizer.args.items()
            if k in ("clipnorm", "clipvalue", "global_clipnorm")}
    return replace(project, compile=replace(project.compile,
                                            optimizer=ObjectSpec("Adam", keep)))


def _insert_after(project: Project, layers: list[int], make: Callable[[], LayerSpec]) -> Project:
    model = project.model
    for i in sorted(layers, reverse=True):
        model = model.insert(i + 1, make())
    return replace(project, model=model)


def batchnorm(project: Project, layers: list[int]) -> Project:
    """A BatchNormalization after each of `layers`: the next layer always gets inputs of
    mean 0 and variance 1 (Ioffe and Szegedy 2015)."""
    return _insert_after(project, layers, lambda: LayerSpec("BatchNormalization"))


def dropout(project: Project, layers: list[int], rate: float = 0.3) -> Project:
    """A Dropout after each of `layers`: no unit can be relied on alone, which memorises
    less (Srivastava et al. 2014)."""
    return _insert_after(project, layers, lambda: LayerSpec("Dropout", {"rate": rate}))


def early_stopping(project: Project, patience: int = 10) -> Project:
    """EarlyStopping on the validation loss that goes back to the best epoch's weights."""
    callbacks = [dict(c) if isinstance(c, Mapping) else c for c in project.fit.callbacks or []]
    for item in callbacks:
        if isinstance(item, dict) and item.get("type") == "EarlyStopping":
            item["restore_best_weights"] = True
            item.setdefault("monitor", "val_loss")
            break
    else:
        callbacks.append({"type": "EarlyStopping", "monitor": "val_loss", "patience": patience,
                          "restore_best_weights": True})
    return replace(project, fit=project.fit.replace(callbacks=callbacks))


def more_units(project: Project, layers: list[int], factor: int = 4) -> Project:
    """More capacity: each hidden layer `factor` times wider, or, in a model without one,
    a hidden layer of 32 ReLU units before the output."""
    model = project.model
    if not layers:
        out = _output_index(project)
        at = out if out is not None else len(model.layers)
        hidden = LayerSpec("Dense", {"units": 32, "activation": "relu",
                                     "kernel_initializer": "he_normal"})
        return replace(project, model=model.insert(at, hidden))
    for i in layers:
        layer = model.layers[i]
        units = layer.args.get("units")
        if isinstance(units, int):
            model = model.set_layer(i, layer.with_args(units=min(units * factor, 1024)))
    return replace(project, model=model)


def standardize(project: Project) -> Project:
    """Standardised inputs (mean 0, variance 1 per feature): raw inputs in the hundreds
    push sigmoid and tanh units onto their flat ends."""
    return replace(project, data=project.data.replace(standardize=True))


#: id -> (the transformation, the label); the transformation gets the project and the
#: ref's params as keyword arguments.
FIXES: dict[str, tuple[Callable[..., Project], str]] = {
    "relu_he": (relu_he, "Use ReLU with He initialisation in the hidden layers"),
    "leaky_relu": (leaky_relu, "Use leaky ReLU in the hidden layers"),
    "he_init": (he_init, "Use He initialisation in the ReLU layers"),
    "default_init": (default_init, "Use Keras's default initialisers (not zeros or ones)"),
    "lower_lr": (lambda p, factor=0.1: scale_lr(p, factor), "Lower the learning rate (x0.1)"),
    "raise_lr": (lambda p, factor=10.0: scale_lr(p, factor),
                 "Raise the learning rate (x10, or to the optimizer's usual rate)"),
    "clipnorm": (clipnorm, "Clip gradients (clipnorm=1.0)"),
    "adam": (adam, "Use Adam instead of {optimizer}"),
    "batchnorm": (batchnorm, "Add BatchNormalization after the hidden layers"),
    "dropout": (dropout, "Add Dropout (0.3) after the hidden layers"),
    "early_stopping": (early_stopping, "Add EarlyStopping that restores the best weights"),
    "more_units": (more_units, "Give the model more units"),
    "standardize": (standardize, "Standardise the inputs"),
}


def make_ref(fix_id: str, project: Project | None = None, **params: Any) -> FixRef:
    """A FixRef with its label filled in (some labels name what they change)."""
    label = FIXES[fix_id][1]
    if fix_id == "adam":
        label = label.format(optimizer=project.compile.optimizer.type if project else "it")
    if fix_id == "more_units":
        label = ("Make the hidden layers 4 times wider" if params.get("layers")
                 else "Add a hidden layer of 32 ReLU units")
    if fix_id in ("lower_lr", "raise_lr") and project is not None:
        factor = params.get("factor", 0.1 if fix_id == "lower_lr" else 10.0)
        label = f"{label.split(' (')[0]} to {_learning_rate(project) * factor:.3g}"
    return FixRef(fix_id, label, params)


def apply_fix(project: Project, ref: FixRef | Mapping[str, Any]) -> Project:
    """The project with the fix applied (a new Project; the old one is unchanged)."""
    if not isinstance(ref, FixRef):
        ref = FixRef.from_json(ref)
    transform = FIXES[ref.id][0]
    return transform(project, **dict(ref.params))


def fix_for(ref: FixRef | Mapping[str, Any]) -> Fix:
    """The fix as the pre-flight checks' `Fix` type (a label and an `apply`)."""
    if not isinstance(ref, FixRef):
        ref = FixRef.from_json(ref)
    return Fix(ref.label, lambda project, ref=ref: apply_fix(project, ref))


def _is_sgd(project: Project) -> bool:
    return project.compile.optimizer.type.lower() in ("sgd",)


def _symmetric_layers(project: Project) -> list[int]:
    return [i for i, layer in enumerate(project.model.layers)
            if layer.args.get("kernel_initializer") in SYMMETRIC
            or layer.args.get("bias_initializer") in SYMMETRIC]


def suggest(code: str, project: Project | None, layers: list[int] | None = None
            ) -> tuple[FixRef, ...]:
    """The fixes worth offering for a finding, most likely to help first.

    Args:
        code: the finding's code.
        project: the project that trained (None: no fixes, nothing to edit).
        layers: the layers the evidence points at (dead or saturated ones), when it does.
    """
    if project is None:
        return ()
    refs: list[FixRef] = []
    squashing = hidden_indexes(project, SQUASHING)
    relu = hidden_indexes(project, frozenset({"relu", "relu6"}))
    weighted = [i for i in hidden_indexes(project) if project.model.layers[i].type in WEIGHTED]
    has_bn = any(layer.type == "BatchNormalization" for layer in project.model.layers)
    has_clip = any(k in project.compile.optimizer.args
                   for k in ("clipnorm", "clipvalue", "global_clipnorm"))
    symmetric = _symmetric_layers(project)

    def add(fix_id: str, **params: Any) -> None:
        refs.append(make_ref(fix_id, project, **params))

    if code in ("nan_loss", "exploding_gradients"):
        add("lower_lr")
        if not has_clip:
            add("clipnorm")
        if not project.data.standardize:
            add("standardize")  # inputs in the hundreds make gradients in the hundreds
        if weighted and not has_bn:
            add("batchnorm", layers=weighted)
    elif code == "vanishing_gradients":
        if squashing:
            add("relu_he", layers=squashing)
        if weighted and not has_bn:
            add("batchnorm", layers=weighted)
        if _is_sgd(project):
            add("adam")
    elif code == "dying_relu":
        if symmetric:
            add("default_init", layers=symmetric)
        target = [i for i in (layers or relu) if i in relu] or relu
        if target:
            add("leaky_relu", layers=target)
        add("lower_lr")
        plain = [i for i in target if i not in symmetric and project.model.layers[i].args.get(
            "kernel_initializer", "glorot_uniform") not in ("he_normal", "he_uniform")]
        if plain:
            add("he_init", layers=plain)
    elif code == "saturation":
        target = [i for i in (layers or squashing) if i in squashing] or squashing
        if not project.data.standardize:
            add("standardize")
        if target:
            add("relu_he", layers=target)
        if weighted and not has_bn:
            add("batchnorm", layers=weighted)
    elif code == "oscillating_loss":
        add("lower_lr")
        if not has_clip:
            add("clipnorm")
    elif code == "slow_convergence":
        add("raise_lr", factor=raise_factor(project))
        if _is_sgd(project):
            add("adam")
    elif code == "plateau":
        if symmetric:
            add("default_init", layers=symmetric)
        if _is_sgd(project):
            add("adam")
        add("raise_lr", factor=raise_factor(project))
    elif code == "overfitting":
        add("early_stopping")
        if weighted:
            add("dropout", layers=weighted)
    elif code == "underfitting":
        add("more_units", layers=weighted)
        if squashing:
            add("relu_he", layers=squashing)
    return tuple(refs)
