"""The code pane's text is real Keras code: it runs and trains what the project means."""

from __future__ import annotations

import numpy as np
import pytest

from gui_app.core.codegen import model_code
from gui_app.core.data import load_dataset
from gui_app.core.project import load_project
from gui_app.core.spec import default_project
from gui_app.resources import examples_dir

keras = pytest.importorskip("keras")


def _run(project, epochs=None):
    fit = dict(project.fit)
    if epochs is not None:
        fit["epochs"] = epochs
    project = project.replace(fit=fit)
    data = load_dataset(project.data, examples_dir())
    namespace = {"keras": keras, "layers": keras.layers, "np": np,
                 "x_train": data.x_train, "y_train": data.y_train,
                 "x_val": data.x_val, "y_val": data.y_val, "class_weight": None}
    exec(compile(model_code(project), "<code pane>", "exec"), namespace)  # noqa: S102
    return namespace


def test_default_project_code_runs_and_counts_match():
    ns = _run(default_project(), epochs=2)
    assert ns["model"].count_params() == 105
    assert len(ns["history"].history["val_loss"]) == 2


def test_virtual_epochs_code_keeps_every_epoch_full():
    project = load_project(examples_dir() / "07_virtual_epochs.layerlab.json")
    virtual = {"stop_point": 2, "checkpoints": 4}
    project = project.replace(fit={**project.fit, "virtual_epochs": virtual})
    ns = _run(project)
    history = ns["history"]
    # 2 x 400 training samples / (32 x 4) = 6 steps per epoch, 4 epochs, none cut short.
    assert ns["steps_per_epoch"] == 6
    assert len(history.history["loss"]) == 4
    assert ns["model"].optimizer.iterations.numpy() == 24
