"""Labels that tell runs apart: "Run 3: 2-16-16-1 tanh, SGD 0.1".

A run's label names its model's shape and hidden activation and its optimizer and learning
rate, and adds the batch size and the data only when those differ between the runs shown
together: a label says what changed, not everything there is. No Qt and no Keras here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from . import catalog
from .spec import Project
from .summary import summarize

#: Facts always shown, then those shown only when they differ between runs.
ALWAYS = ("model", "optimizer")
WHEN_DIFFERENT = ("batch", "data")


@dataclass(frozen=True)
class RunFacts:
    """What a run's label may mention, each as the words it would show."""

    model: str
    optimizer: str
    batch: str
    data: str

    def get(self, key: str) -> str:
        return str(getattr(self, key))


def _shape(project: Project) -> str:
    """"2-16-16-1": the input width and each weighted layer's output width."""
    summary = summarize(project.model)
    widths: list[str] = []
    if summary.input_shape:
        widths.append(str(summary.input_shape[-1]))
    for row in summary.rows:
        if row.params and row.output_shape:
            widths.append(str(row.output_shape[-1]))
    return "-".join(widths) if widths else "empty"


def _activation(project: Project) -> str:
    """The hidden layers' activation ("tanh"), or each in order when they differ."""
    layers = [layer for layer in project.model.layers if "activation" in layer.args
              or layer.type == "Dense"]
    names = [str(layer.args.get("activation", "linear")) for layer in layers[:-1]]
    unique = list(dict.fromkeys(names))
    return "/".join(unique)


def _optimizer(project: Project) -> str:
    opt = project.compile.optimizer
    definition = catalog.optimizer_def(opt.type)
    name = definition.type if definition is not None else opt.type
    lr = opt.args.get("learning_rate")
    if lr is None and definition is not None:
        param = definition.param("learning_rate")
        lr = None if param is None or param.required else param.default
    return f"{name} {lr:g}" if isinstance(lr, (int, float)) else name


def _data(project: Project) -> str:
    data = project.data
    source = str(data.get("source", "")) if hasattr(data, "get") else ""
    path = data.get("path") if hasattr(data, "get") else None
    if path:
        return str(path).replace("\\", "/").rsplit("/", 1)[-1]
    return source.removeprefix("keras:") or "data"


def run_facts(project: Project) -> RunFacts:
    shape = _shape(project)
    activation = _activation(project)
    model = f"{shape} {activation}" if activation else shape
    return RunFacts(model=model, optimizer=_optimizer(project),
                    batch=f"batch {project.fit.batch_size}", data=_data(project))


def run_labels(facts: Sequence[RunFacts]) -> list[str]:
    """One label per run: the model and optimizer, plus what else differs between them."""
    shown = list(ALWAYS) + [key for key in WHEN_DIFFERENT
                            if len({f.get(key) for f in facts}) > 1]
    return [", ".join(f.get(key) for key in shown) for f in facts]
