"""Run labels say what differs between the runs shown together."""

from __future__ import annotations

from gui_app.core.project import project_from_json
from gui_app.core.run_labels import run_facts, run_labels


def _project(units=(16, 16), activation="tanh", optimizer="SGD", lr=0.1, batch=32,
             source="circle"):
    layers = [{"type": "Dense", "units": u, "activation": activation} for u in units]
    layers.append({"type": "Dense", "units": 1, "activation": "sigmoid"})
    return project_from_json({
        "format": "layerlab-project", "version": 1, "name": "t",
        "model": {"input_shape": [2], "layers": layers},
        "compile": {"optimizer": {"type": optimizer, "learning_rate": lr},
                    "loss": "binary_crossentropy", "metrics": ["accuracy"]},
        "data": {"source": source},
        "fit": {"epochs": 3, "batch_size": batch}})


def test_a_label_names_shape_activation_optimizer_and_rate():
    assert run_labels([run_facts(_project())]) == ["2-16-16-1 tanh, SGD 0.1"]


def test_batch_and_data_appear_only_when_they_differ():
    a = run_facts(_project(batch=32))
    b = run_facts(_project(batch=8))
    assert run_labels([a, b]) == ["2-16-16-1 tanh, SGD 0.1, batch 32",
                                  "2-16-16-1 tanh, SGD 0.1, batch 8"]
    c = run_facts(_project(source="xor"))
    assert run_labels([a, c])[1].endswith(", xor")


def test_runs_with_different_models_get_different_labels():
    labels = run_labels([run_facts(_project()), run_facts(_project(units=(4,), activation="relu"))])
    assert labels == ["2-16-16-1 tanh, SGD 0.1", "2-4-1 relu, SGD 0.1"]


def test_no_hidden_layers_and_a_default_rate():
    facts = run_facts(_project(units=(), optimizer="Adam", lr=0.001))
    assert run_labels([facts]) == ["2-1, Adam 0.001"]
