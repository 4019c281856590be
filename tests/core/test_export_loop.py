"""`layerlab export --loop`: the training written out as a tf.GradientTape loop.

Fast checks: every bundled lesson's loop script compiles, it shares its data, seed, model
and callbacks with the fit export, the refusals say what, why and what to do, and the
compile pieces it writes out are the ones `model.compile` resolves (checked in-process by
evaluating one set of weights both ways). `test_export_loop_training.py` runs both scripts.
"""

from __future__ import annotations

import ast
import re
import runpy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gui_app.cli import run_cli
from gui_app.core.codegen import callbacks_code, sequential_code
from gui_app.core.codegen_loop import LoopExportError, training_loop_code
from gui_app.core.export import export_script
from gui_app.core.lessons import list_examples
from gui_app.core.project import load_project, save_project
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

FIT_MARK = "# --- Model, compile and fit ---"
LOOP_MARK = "# --- Model, the compile pieces and the training loop ---"
LESSONS = sorted(x.path for x in list_examples())

# The loop's heart, as the issue spells it; each must be in every loop script.
STEP_LINES = (
    "    with tf.GradientTape() as tape:",
    "        pred = model(xb, training=True)  # training=True: dropout and the like are on",
    "    grads = tape.gradient(loss, model.trainable_variables)",
    "    optimizer.apply_gradients(zip(grads, model.trainable_variables))",
)


def project(data: dict, inputs: int, units: int, activation: str, loss: Any,
            metrics: tuple[Any, ...] = (ObjectSpec("accuracy"),), **fit: Any) -> Project:
    return Project(
        name="Loop test",
        model=ModelSpec((inputs,), (
            LayerSpec("Dense", {"units": 8, "activation": "relu",
                                "kernel_regularizer": "l2"}),
            LayerSpec("Dense", {"units": units, "activation": activation}),
        )),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}),
                            loss if isinstance(loss, ObjectSpec) else ObjectSpec(loss), metrics),
        data=data,
        fit={"epochs": 1, "batch_size": 16, "seed": 3, **fit},
    )


CIRCLE = {"source": "circle", "samples": 120, "seed": 1}


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda p: p.name.split(".")[0])
def test_every_bundled_lesson_exports_a_loop_that_compiles(lesson: Path, capsys) -> None:
    assert run_cli(["export", str(lesson), "-o", "-", "--loop"]) == 0
    script = capsys.readouterr().out
    compile(script, f"{lesson.stem}_loop.py", "exec")
    assert all(line in script.splitlines() for line in STEP_LINES)
    assert "model.fit(" not in script and "model.compile(" not in script
    assert "import tensorflow as tf" in script
    # The lesson's seed, epochs and batch size reach the loop.
    fit = load_project(lesson).fit
    epochs = fit.virtual_epochs["checkpoints"] if fit.virtual_epochs else fit.epochs
    assert f"\nEPOCHS = {epochs}\n" in script and f"\nBATCH_SIZE = {fit.batch_size}\n" in script
    assert f"\nSEED = {fit.seed}\n" in script and "keras.utils.set_random_seed(SEED)" in script
    assert "print(\"final:\", {key: values[-1] for key, values in history.items()})" in script


def test_the_loop_shares_data_seed_model_and_callbacks_with_the_fit_export() -> None:
    callbacks = [{"type": "EarlyStopping", "monitor": "val_loss", "patience": 3},
                 {"type": "CSVLogger", "filename": "logs/run.csv"}]
    proj = project(CIRCLE, 2, 1, "sigmoid", "binary_crossentropy", epochs=7, batch_size=24,
                   class_weight={"0": 1.0, "1": 2.5}, callbacks=callbacks)
    fit_script = export_script(proj)
    loop_script = export_script(proj, loop=True)
    # The data, the seed and the class weights: the same lines, from the same code.
    fit_before, fit_after = fit_script.split(FIT_MARK)
    loop_before, loop_after = loop_script.split(LOOP_MARK)
    assert fit_before[fit_before.index("SEED = 3"):] == loop_before[loop_before.index("SEED = 3"):]
    shared = fit_after.split("model = keras.Sequential")[0]
    assert "keras.utils.set_random_seed(SEED)" in shared and "class_weight = {0: 1.0" in shared
    assert loop_after.startswith(shared)
    # The model and the callbacks: codegen's own lines, in both scripts.
    for lines in (sequential_code(proj), callbacks_code(callbacks)):
        block = "\n".join(lines)
        assert block in fit_script and block in loop_script
    # The epochs, batch size and class weights reach the loop.
    assert "EPOCHS = 7\nBATCH_SIZE = 24\n" in loop_script
    assert "        train_step(xb, yb, example_weights(yb))" in loop_script
    assert "        loss = loss_fn(yb, pred, sample_weight=wb) + sum(model.losses)" in loop_script
    assert "keras.callbacks.CallbackList(callbacks, model=model)" in loop_script
    assert "    callbacks.on_epoch_end(epoch, logs)" in loop_script
    ast.parse(loop_script)


def test_the_loop_follows_steps_per_epoch_and_shuffle_off() -> None:
    proj = project(CIRCLE, 2, 1, "sigmoid", "binary_crossentropy", steps_per_epoch=4,
                   shuffle=False)
    script = training_loop_code(proj)
    assert "STEPS_PER_EPOCH = 4" in script and "for step in range(STEPS_PER_EPOCH):" in script
    assert "order = np.arange(len(x_train))" in script and "shuffle_rng" not in script
    ast.parse(script)


@pytest.mark.parametrize("options, chosen", [
    (["--strategy", "multi-worker"], "--strategy multi-worker"),
    (["--strategy", "all-gpus"], "--strategy all-gpus"),
    (["--device", "all"], "--device all"),
])
def test_the_command_refuses_loop_with_several_devices(tmp_path: Path, capsys, options,
                                                       chosen) -> None:
    path = save_project(project(CIRCLE, 2, 1, "sigmoid", "binary_crossentropy"),
                        tmp_path / "p.layerlab.json")
    target = tmp_path / "train.py"
    assert run_cli(["export", str(path), "-o", str(target), "--loop", *options]) == 2
    err = capsys.readouterr().err
    assert f"--loop cannot be combined with {chosen}" in err  # what
    assert "trains on one device" in err  # why
    assert "export without --loop" in err and f"drop {chosen}" in err  # the fix
    assert "Traceback" not in err and not target.exists()
    # the same options without --loop, and --loop on one device, still export
    assert run_cli(["export", str(path), "-o", "-", *options]) == 0
    assert run_cli(["export", str(path), "-o", "-", "--loop", "--device", "cpu"]) == 0


def test_a_loss_or_metric_the_loop_cannot_call_is_refused(tmp_path: Path, capsys) -> None:
    """The loop makes its loss and metrics itself, so they must be catalog classes; an
    unknown name is refused (the command's project check refuses it first)."""
    for bad in (project(CIRCLE, 2, 1, "sigmoid", "crossentropy"),
                project(CIRCLE, 2, 1, "sigmoid", "binary_crossentropy",
                        metrics=(ObjectSpec("nope"),))):
        with pytest.raises(LoopExportError) as caught:
            export_script(bad, loop=True)
        message = str(caught.value)
        assert "LayerLab has no" in message and "export without --loop" in message
    path = save_project(project(CIRCLE, 2, 1, "sigmoid", "crossentropy"),
                        tmp_path / "p.layerlab.json")
    assert run_cli(["export", str(path), "-o", "-", "--loop"]) == 2
    err = capsys.readouterr().err
    assert "no loss called 'crossentropy'" in err and "Traceback" not in err


def test_the_help_describes_loop(capsys) -> None:
    code = 0
    try:
        code = run_cli(["export", "--help"])
    except SystemExit as exc:  # argparse's own exit, where the guard lets it through
        code = exc.code
    assert code == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--loop" in out and "tf.GradientTape loop instead of model.fit" in out
    assert "not with --device all or --strategy all-gpus/multi-worker" in out


# ------------------------------------------ the compile pieces are what compile resolves

PIECES = {
    # binary: "accuracy" is BinaryAccuracy, named "accuracy"
    "binary": project(CIRCLE, 2, 1, "sigmoid", "binary_crossentropy"),
    # one-hot labels: categorical accuracy; "acc" and a metric given with arguments
    "one-hot": project({"source": "blobs", "samples": 90, "classes": 3, "labels": "one_hot"},
                       2, 3, "softmax", "categorical_crossentropy",
                       metrics=(ObjectSpec("acc"), ObjectSpec("AUC", {"num_thresholds": 50}))),
    # class numbers: sparse categorical accuracy, and a loss given with arguments
    "sparse": project({"source": "iris", "standardize": True}, 4, 3, "softmax",
                      ObjectSpec("SparseCategoricalCrossentropy", {"from_logits": False}),
                      metrics=(ObjectSpec("accuracy"), ObjectSpec("SparseTopKCategoricalAccuracy",
                                                                  {"k": 2}))),
    # regression: "mae" keeps its short name; Recall and Precision by name
    "regression": project({"source": "sine", "samples": 80}, 1, 1, "linear", "mse",
                          metrics=(ObjectSpec("mae"), ObjectSpec("RootMeanSquaredError"))),
    "recall": project(CIRCLE, 2, 1, "sigmoid", "binary_crossentropy",
                      metrics=(ObjectSpec("Recall"), ObjectSpec("precision"))),
}


@pytest.mark.parametrize("name", list(PIECES))
def test_the_loop_measures_what_compile_and_evaluate_measure(name: str, tmp_path: Path,
                                                             capsys) -> None:
    """One epoch of the loop script, then its own evaluation against `model.evaluate`
    after compiling the same model the way the fit export does: the same weights and data
    must give the same loss (regularizer included) and the same metrics, by name."""
    keras = pytest.importorskip("keras")
    proj = PIECES[name]
    path = tmp_path / "loop.py"
    path.write_text(export_script(proj, loop=True), encoding="utf-8")
    ns = runpy.run_path(str(path), run_name="__main__")
    capsys.readouterr()
    ours = ns["evaluate"](ns["x_val"], ns["y_val"])
    fit_script = export_script(proj)
    compile_call = fit_script[fit_script.index("model.compile("):fit_script.index("history =")]
    exec(compile(compile_call, "compile", "exec"), {"model": ns["model"], "keras": keras})  # noqa: S102
    theirs = ns["model"].evaluate(ns["x_val"], ns["y_val"], batch_size=16, verbose=0,
                                  return_dict=True)
    # In one process Keras numbers a second metric of a kind ("auc_1"); fit's own process
    # has only one, so its names are the plain ones the loop gives.
    theirs = {re.sub(r"_1$", "", key): value for key, value in theirs.items()}
    assert set(ours) == set(theirs)
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key
    assert set(ns["history"]) == {*theirs, *(f"val_{k}" for k in theirs)}


@pytest.mark.parametrize("labels", [
    np.array([0, 1, 1, 0, 2]),
    np.array([[0.0], [1.0], [1.0]]),
    np.eye(3, dtype=np.float32)[[2, 0, 1, 1]],
    np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32),
])
def test_example_weights_are_what_fit_makes_of_class_weight(labels: np.ndarray) -> None:
    from keras.src.trainers.data_adapters.data_adapter_utils import (
        class_weight_to_sample_weights,
    )

    table = {0: 1.0, 1: 4.0, 2: 0.5}
    script = training_loop_code(project(CIRCLE, 2, 1, "sigmoid", "binary_crossentropy",
                                        class_weight={"0": 1.0, "1": 4.0, "2": 0.5}))
    tree = ast.parse(script)
    function = next(node for node in tree.body
                    if isinstance(node, ast.FunctionDef) and node.name == "example_weights")
    ns: dict[str, Any] = {"np": np, "class_weight": table}
    exec(compile(ast.Module([function], []), "loop", "exec"), ns)  # noqa: S102
    ours = ns["example_weights"](labels)
    assert ours.dtype == np.float32
    np.testing.assert_array_equal(ours, class_weight_to_sample_weights(labels, table))
