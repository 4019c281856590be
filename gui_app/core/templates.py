"""Starting points for File > New: an empty stack, a 2-D classifier, a regression, a small CNN.

Each is an ordinary project on data that needs no file and no download, ready to train,
so that a teacher can start a demonstration from nothing in a few clicks. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .project import project_from_json
from .spec import Project


@dataclass(frozen=True)
class Template:
    """One File > New choice: its key, menu title, one-line description and project."""

    key: str
    title: str
    description: str
    document: dict[str, Any]

    def project(self) -> Project:
        return project_from_json(self.document)


def _doc(name: str, description: str, input_shape: list[int], layers: list[dict[str, Any]],
         compile_: dict[str, Any], data: dict[str, Any], fit: dict[str, Any]) -> dict[str, Any]:
    return {"format": "layerlab-project", "version": 1, "name": name,
            "description": description,
            "model": {"input_shape": input_shape, "layers": layers},
            "compile": compile_, "data": data, "fit": fit}


def _dense(units: int, activation: str) -> dict[str, Any]:
    return {"type": "Dense", "units": units, "activation": activation}


TEMPLATES: tuple[Template, ...] = (
    Template("empty", "Empty model",
             "No layers yet, on the circle data: add layers from the palette.",
             _doc("Untitled", "", [2], [],
                  {"optimizer": {"type": "Adam"}, "loss": "binary_crossentropy",
                   "metrics": ["accuracy"]},
                  {"source": "circle", "samples": 500, "noise": 0.1, "seed": 0,
                   "validation_split": 0.2},
                  {"epochs": 50, "batch_size": 32})),
    Template("classifier", "2-D classifier",
             "Two inputs, two hidden layers, one sigmoid output, on the circle data.",
             _doc("2-D classifier", "A small network that separates two classes in the plane.",
                  [2], [_dense(8, "tanh"), _dense(8, "tanh"), _dense(1, "sigmoid")],
                  {"optimizer": {"type": "Adam", "learning_rate": 0.03},
                   "loss": "binary_crossentropy", "metrics": ["accuracy"]},
                  {"source": "circle", "samples": 500, "noise": 0.1, "seed": 0,
                   "validation_split": 0.2},
                  {"epochs": 50, "batch_size": 32, "seed": 0})),
    Template("regression", "Regression",
             "One input, one number out: a network learns a noisy sine curve.",
             _doc("Regression", "Fit a curve: mean squared error, no activation on the output.",
                  [1], [_dense(32, "tanh"), _dense(32, "tanh"), _dense(1, "linear")],
                  {"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "mse",
                   "metrics": ["mae"]},
                  {"source": "sine", "seed": 0, "validation_split": 0.2},
                  {"epochs": 100, "batch_size": 32, "seed": 0})),
    Template("cnn", "Small CNN",
             "8x8 handwritten digits through a convolution, pooling and a softmax.",
             _doc("Small CNN", "The bundled 8x8 digits (no download), seen as images.",
                  [64], [{"type": "Reshape", "target_shape": [8, 8, 1]},
                         {"type": "Conv2D", "filters": 8, "kernel_size": 3,
                          "activation": "relu", "padding": "same"},
                         {"type": "MaxPooling2D", "pool_size": 2},
                         {"type": "Flatten"},
                         _dense(10, "softmax")],
                  {"optimizer": {"type": "Adam"}, "loss": "sparse_categorical_crossentropy",
                   "metrics": ["accuracy"]},
                  {"source": "digits", "standardize": True, "seed": 0,
                   "validation_split": 0.2, "test_split": 0.2},
                  {"epochs": 20, "batch_size": 32, "seed": 0})),
)


def template(key: str) -> Template:
    for item in TEMPLATES:
        if item.key == key:
            return item
    raise KeyError(f"expected one of {[t.key for t in TEMPLATES]}, got {key!r}")
