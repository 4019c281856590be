"""The tiny project the search tests share (core, engine and window): two Dense layers on
120 circle points, one epoch a trial; with a search of the first layer's units and the
learning rate when `max_trials` is given."""

from __future__ import annotations

from typing import Any


def tiny_project_json(max_trials: int | None = None) -> dict[str, Any]:
    project: dict[str, Any] = {
        "format": "layerlab-project", "version": 1, "name": "tiny",
        "model": {"input_shape": [2], "layers": [
            {"type": "Dense", "units": 8, "activation": "relu"},
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
        "compile": {"optimizer": {"type": "Adam", "learning_rate": 0.01},
                    "loss": "binary_crossentropy", "metrics": ["accuracy"]},
        "data": {"source": "circle", "samples": 120, "seed": 0, "validation_split": 0.25},
        "fit": {"epochs": 1, "batch_size": 32, "seed": 0},
    }
    if max_trials is not None:
        project["version"] = 2
        project["search"] = {
            "tuner": "random", "objective": "val_loss", "max_trials": max_trials,
            "executions_per_trial": 1,
            "space": [{"path": "model.layers[0].units", "kind": "int", "min": 2, "max": 32,
                       "step": 2},
                      {"path": "compile.optimizer.learning_rate", "kind": "float",
                       "min": 1e-3, "max": 0.1, "sampling": "log"}]}
    return project
