"""Each pre-flight check fires on its mistake, stays quiet otherwise, and its fix works."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from gui_app.core import checks as checks_module
from gui_app.core.checks import (
    CODES,
    ERROR,
    INFO,
    INTENDABLE,
    WARNING,
    has_errors,
    run_checks,
)
from gui_app.core.spec import (
    CompileSpec,
    DataInfo,
    Intended,
    LayerSpec,
    ModelSpec,
    ObjectSpec,
    Project,
    default_project,
)

BINARY = DataInfo((2,), (), "binary", 2, "binary", (200, 200))
THREE_INT = DataInfo((2,), (), "integer", 3, "multiclass", (100, 100, 100))
THREE_HOT = DataInfo((2,), (3,), "one_hot", 3, "multiclass", (100, 100, 100))
REGRESSION = DataInfo((1,), (), "float", None, "regression")


def project(layers, loss="binary_crossentropy", metrics=("accuracy",), shape=(2,), **loss_args):
    return Project(
        "t", ModelSpec(shape, tuple(LayerSpec(t, a) for t, a in layers)),
        CompileSpec(ObjectSpec("adam"), ObjectSpec(loss, loss_args) if loss_args else ObjectSpec(loss),
                    tuple(ObjectSpec(m) for m in metrics)),
    )


def codes(p, data=None):
    return [f.code for f in run_checks(p, data)]


def fix(p, code, label_part, data=None):
    finding = next(f for f in run_checks(p, data) if f.code == code)
    chosen = next(x for x in finding.fixes if label_part in x.label)
    return chosen.apply(p)


HIDDEN = ("Dense", {"units": 8, "activation": "relu"})


def test_default_project_is_clean():
    assert run_checks(default_project(), BINARY) == []


def test_categorical_with_integer_labels_offers_both_fixes():
    p = project([HIDDEN, ("Dense", {"units": 3, "activation": "softmax"})],
                loss="categorical_crossentropy")
    findings = [f for f in run_checks(p, THREE_INT) if f.code == "categorical-with-integer-labels"]
    assert findings and findings[0].severity == ERROR
    assert "sparse_categorical_crossentropy" in findings[0].message
    labels = [x.label for x in findings[0].fixes]
    assert labels == ["Use sparse_categorical_crossentropy", "Use one-hot labels"]
    fixed = fix(p, "categorical-with-integer-labels", "sparse", THREE_INT)
    assert fixed.compile.loss.type == "sparse_categorical_crossentropy"
    assert codes(fixed, THREE_INT) == []
    one_hot = fix(p, "categorical-with-integer-labels", "one-hot", THREE_INT)
    assert one_hot.data["labels"] == "one_hot"
    assert codes(one_hot, THREE_HOT) == []


def test_categorical_keeps_from_logits_when_switching():
    p = project([HIDDEN, ("Dense", {"units": 3})], loss="CategoricalCrossentropy", from_logits=True)
    fixed = fix(p, "categorical-with-integer-labels", "sparse", THREE_INT)
    assert fixed.compile.loss == ObjectSpec("SparseCategoricalCrossentropy", {"from_logits": True})


def test_sparse_with_one_hot_labels():
    p = project([HIDDEN, ("Dense", {"units": 3, "activation": "softmax"})],
                loss="sparse_categorical_crossentropy")
    assert "sparse-with-one-hot-labels" in codes(p, THREE_HOT)
    assert codes(fix(p, "sparse-with-one-hot-labels", "categorical", THREE_HOT), THREE_HOT) == []


def test_softmax_on_one_unit():
    p = project([HIDDEN, ("Dense", {"units": 1, "activation": "softmax"})])
    assert "softmax-one-unit" in codes(p)
    fixed = fix(p, "softmax-one-unit", "sigmoid")
    assert fixed.model.layers[-1].args["activation"] == "sigmoid"
    assert codes(fixed, BINARY) == []


def test_softmax_in_separate_activation_layer():
    p = project([HIDDEN, ("Dense", {"units": 1}), ("Activation", {"activation": "softmax"}),
                 ("Dropout", {"rate": 0.1})])
    finding = next(f for f in run_checks(p) if f.code == "softmax-one-unit")
    assert finding.layer_index == 2


def test_sigmoid_binary_loss_with_many_classes():
    p = project([HIDDEN, ("Dense", {"units": 1, "activation": "sigmoid"})])
    assert "binary-with-many-classes" in codes(p, THREE_INT)
    fixed = fix(p, "binary-with-many-classes", "softmax", THREE_INT)
    last = fixed.model.layers[-1].args
    assert last["units"] == 3 and last["activation"] == "softmax"
    assert fixed.compile.loss.type == "sparse_categorical_crossentropy"
    assert codes(fixed, THREE_INT) == []


def test_output_units_differ_from_classes():
    p = project([HIDDEN, ("Dense", {"units": 4, "activation": "softmax"})],
                loss="sparse_categorical_crossentropy")
    finding = next(f for f in run_checks(p, THREE_INT) if f.code == "output-units")
    assert "needs 3" in finding.message and finding.layer_index == 1
    assert codes(fix(p, "output-units", "units to 3", THREE_INT), THREE_INT) == []
    binary = project([HIDDEN, ("Dense", {"units": 2, "activation": "sigmoid"})])
    assert "output-units" in codes(binary, BINARY)


def test_crossentropy_on_linear_output_without_from_logits():
    p = project([HIDDEN, ("Dense", {"units": 1})])
    assert "logits-without-from-logits" in codes(p)
    assert "logits-without-from-logits" not in codes(fix(p, "logits-without-from-logits", "from_logits"))
    with_sigmoid = fix(p, "logits-without-from-logits", "sigmoid")
    assert with_sigmoid.model.layers[-1].args["activation"] == "sigmoid"
    ok = project([HIDDEN, ("Dense", {"units": 1})], loss="BinaryCrossentropy", from_logits=True)
    assert "logits-without-from-logits" not in codes(ok)


def test_accuracy_on_regression():
    p = project([HIDDEN, ("Dense", {"units": 1})], loss="mse", shape=(1,))
    assert "accuracy-on-regression" in codes(p, REGRESSION)
    fixed = fix(p, "accuracy-on-regression", "mae", REGRESSION)
    assert fixed.compile.metrics == (ObjectSpec("mae"),)
    assert codes(fixed, REGRESSION) == []


def test_mse_on_binary_labels_is_only_a_note():
    p = project([("Dense", {"units": 1})], loss="mse", metrics=("binary_accuracy",))
    findings = run_checks(p, BINARY)
    assert [(f.code, f.severity) for f in findings] == [("regression-loss-on-classes", "info")]
    assert "accuracy-on-regression" in codes(p)  # without data it looks like regression


def test_classification_loss_on_regression_data():
    p = project([HIDDEN, ("Dense", {"units": 1, "activation": "sigmoid"})], shape=(1,))
    assert "classification-loss-on-regression" in codes(p, REGRESSION)


def test_dense_on_rank3_without_flatten():
    p = project([("Dense", {"units": 4, "activation": "relu"}), ("Dense", {"units": 1, "activation": "sigmoid"})],
                shape=(5, 3))
    finding = next(f for f in run_checks(p) if f.code == "dense-on-sequence")
    assert finding.severity == "warning" and finding.layer_index == 0
    fixed = finding.fixes[0].apply(p)
    assert fixed.model.layers[0].type == "Flatten"
    assert "dense-on-sequence" not in codes(fixed)


def test_input_shape_differs_from_data():
    p = project([HIDDEN, ("Dense", {"units": 1, "activation": "sigmoid"})], shape=(3,))
    assert "input-shape-mismatch" in codes(p, BINARY)
    fixed = fix(p, "input-shape-mismatch", "input shape", BINARY)
    assert fixed.model.input_shape == (2,)


def test_invalid_parameters_are_errors_with_location():
    p = project([("Dense", {"units": 0}), ("Dropout", {"rate": 1.5})])
    findings = run_checks(p)
    assert has_errors(findings)
    first = next(f for f in findings if f.code == "layer")
    assert first.where == "model.layers[0]" and "units" in first.message
    conv = project([("Reshape", {"target_shape": [2, 1, 1]}),
                    ("Conv2D", {"filters": 2, "kernel_size": 5})])
    assert any("larger than its input" in f.message for f in run_checks(conv))


def test_bad_compile_arguments():
    p = replace(default_project(), compile=CompileSpec(
        ObjectSpec("Adam", {"learning_rate": -1}), ObjectSpec("nope"), (ObjectSpec("accurasy"),)))
    found = {f.where: f.code for f in run_checks(p)}
    assert found["compile.optimizer.learning_rate"] == "invalid-argument"
    assert found["compile.loss"] == "unknown-loss"
    assert found["compile.metrics[0]"] == "unknown-metric"


def test_unbalanced_classes_suggest_balanced():
    data = DataInfo((2,), (), "binary", 2, "binary", (950, 50))
    p = default_project()
    finding = next(f for f in run_checks(p, data) if f.code == "unbalanced-classes")
    assert finding.severity == "info"
    fixed = finding.fixes[0].apply(p)
    assert fixed.fit["class_weight"] == "balanced"
    assert "unbalanced-classes" not in codes(fixed, data)


def test_empty_model():
    assert "empty-model" in codes(project([]))


def test_errors_sorted_first():
    p = project([("Dense", {"units": 4, "activation": "relu"}), ("Dense", {"units": 0})], shape=(5, 3))
    severities = [f.severity for f in run_checks(p)]
    assert severities == sorted(severities, key=["error", "warning", "info"].index)


# -- findings a project makes on purpose (Project.intended) ----------------------------------

SOFTMAX_ONE = [("Dense", {"units": 4, "activation": "relu"}),
               ("Dense", {"units": 1, "activation": "softmax"})]


def test_an_intended_finding_becomes_a_note_with_the_reason():
    mse = project([("Dense", {"units": 1})], loss="mean_squared_error", metrics=("accuracy",))
    usual = {f.code: f for f in run_checks(mse)}
    assert usual["accuracy-on-regression"].severity == WARNING
    why = "the labels are 0 and 1, so\n  the accuracy is meaningful."
    marked = replace(mse, intended=(Intended("accuracy-on-regression", why),))
    finding = next(f for f in run_checks(marked) if f.code == "accuracy-on-regression")
    assert finding.severity == INFO
    assert finding.intended == "the labels are 0 and 1, so the accuracy is meaningful."
    assert finding.message == ("Intended in this project: the labels are 0 and 1, so the "
                               "accuracy is meaningful. (Otherwise the check would say: "
                               f"{usual['accuracy-on-regression'].message})")
    assert [x.label for x in finding.fixes] == [x.label for x in usual["accuracy-on-regression"].fixes]
    assert finding.to_json()["intended"] == finding.intended
    assert "intended" not in usual["accuracy-on-regression"].to_json()


def test_an_intended_error_no_longer_blocks_training():
    p = project(SOFTMAX_ONE)
    assert has_errors(run_checks(p, BINARY))
    shown = replace(p, intended=(Intended("softmax-one-unit", "to show that it learns nothing"),))
    findings = run_checks(shown, BINARY)
    assert not has_errors(findings)
    assert [f.severity for f in findings if f.code == "softmax-one-unit"] == [INFO]


def test_guards_stay_errors_whatever_a_project_says():
    """A code outside INTENDABLE is never downgraded, even in a Project made in code (a file
    naming one is refused when read, see test_project)."""
    empty = replace(project([]), intended=(Intended("empty-model", "no layers on purpose"),))
    assert [f.severity for f in run_checks(empty) if f.code == "empty-model"] == [ERROR]
    assert not INTENDABLE & {"writes-outside", "too-big", "input-shape-mismatch", "layer"}


def test_every_code_the_checks_give_is_listed():
    """CODES is what a file's `intended` may name, so it must hold every code checks.py
    gives, with the severity it gives it (and the modules beside it, `*_checks.py`, that
    it takes findings from)."""
    here = Path(checks_module.__file__).parent
    source = "".join(path.read_text(encoding="utf-8")
                     for path in sorted(here.glob("*checks.py")))
    pairs = re.findall(r'Finding\(\s*(ERROR|WARNING|INFO[^,]*),\s*"([a-z-]+)"', source)
    given = {code: ERROR if severity == "ERROR" else WARNING if severity.startswith(
        ("WARNING", "INFO if")) else INFO for severity, code in pairs}
    given |= {f"unknown-{what}": ERROR for what in ("optimizer", "loss", "metric")}
    assert given == CODES
    assert INTENDABLE == {c for c, s in CODES.items() if s != ERROR} | {"softmax-one-unit"}
