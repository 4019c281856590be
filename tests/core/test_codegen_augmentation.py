"""The code pane and `layerlab export` write the image layers, and the code builds and
trains the model the summary describes."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from gui_app.core.codegen import layer_code, model_code
from gui_app.core.data import load_dataset
from gui_app.core.export import export_script
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
from gui_app.core.summary import summarize

keras = pytest.importorskip("keras")

LAYERS = (
    LayerSpec("Reshape", {"target_shape": [8, 8, 1]}),
    LayerSpec("Rescaling", {"scale": 1 / 16}),
    LayerSpec("RandomFlip", {"mode": "horizontal", "seed": 1}),
    LayerSpec("RandomRotation", {"factor": 0.1, "fill_mode": "constant"}),
    LayerSpec("RandomZoom", {"height_factor": [-0.2, 0.1]}),
    LayerSpec("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.1}),
    LayerSpec("RandomContrast", {"factor": 0.2, "value_range": [0, 1]}),
    LayerSpec("RandomBrightness", {"factor": 0.1, "value_range": [0, 1]}),
    LayerSpec("Resizing", {"height": 12, "width": 12, "interpolation": "nearest"}),
    LayerSpec("CenterCrop", {"height": 10, "width": 10}),
    LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
    LayerSpec("Flatten"),
    LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
)


def digits_project() -> Project:
    return Project(
        "Augmented digits", ModelSpec((64,), LAYERS),
        CompileSpec(ObjectSpec("adam"), ObjectSpec("sparse_categorical_crossentropy"),
                    (ObjectSpec("accuracy"),)),
        data={"source": "digits", "seed": 0, "validation_split": 0.2},
        fit={"epochs": 1, "batch_size": 64, "seed": 0})


def test_each_layer_is_written_as_a_person_would():
    assert layer_code(LAYERS[3]) == 'layers.RandomRotation(0.1, fill_mode="constant")'
    assert layer_code(LAYERS[4]) == "layers.RandomZoom((-0.2, 0.1))"
    assert layer_code(LAYERS[6]) == "layers.RandomContrast(0.2, value_range=(0, 1))"
    assert layer_code(LAYERS[8]) == 'layers.Resizing(12, width=12, interpolation="nearest")'
    assert layer_code(LAYERS[2]) == 'layers.RandomFlip(mode="horizontal", seed=1)'


def test_code_pane_builds_the_summarised_model_and_trains():
    project = digits_project()
    data = load_dataset(project.data)
    namespace = {"keras": keras, "layers": keras.layers, "np": np,
                 "x_train": data.x_train, "y_train": data.y_train,
                 "x_val": data.x_val, "y_val": data.y_val, "class_weight": None}
    exec(compile(model_code(project), "<code pane>", "exec"), namespace)  # noqa: S102
    model = namespace["model"]
    summary = summarize(project.model)
    assert [type(layer).__name__ for layer in model.layers] == [row.type for row in summary.rows]
    assert [tuple(layer.output.shape) for layer in model.layers] == [
        row.output_shape for row in summary.rows]
    assert model.count_params() == summary.total_params
    assert np.isfinite(namespace["history"].history["loss"][0])


def test_exported_script_holds_the_layers_and_is_valid_python():
    script = export_script(digits_project())
    ast.parse(script)
    for line in ("layers.RandomRotation(0.1, fill_mode=\"constant\"),",
                 "layers.RandomZoom((-0.2, 0.1)),",
                 "layers.RandomTranslation(0.1, width_factor=0.1),",
                 "layers.RandomBrightness(0.1, value_range=(0, 1)),",
                 "layers.CenterCrop(10, width=10),"):
        assert line in script, line
