"""Live diagnostics: the detector on made-up streams, the fixes as project edits, and the
callback and detector on real (small) Keras training."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pytest

from gui_app.core.checks import ERROR, Fix, run_checks
from gui_app.core.diagnostics import fixes as fx
from gui_app.core.diagnostics.detect import (
    CODES,
    RunContext,
    replay,
    trivial_baseline,
)
from gui_app.core.diagnostics.events import ACTIVE, RESOLVED, FindingEvent
from gui_app.core.diagnostics.stats import EpochLogs, LayerStats, Sample
from gui_app.core.project import project_from_json, project_to_json
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

LN2 = math.log(2.0)


# -- made-up streams -------------------------------------------------------------------

def layer(index: int, grad: float = 0.05, *, act: str | None = "relu", dead: float | None = 0.0,
          saturated: float | None = None, update: float | None = 1e-3, units: int = 8,
          weight: float = 1.0) -> LayerStats:
    if act in ("sigmoid", "tanh"):
        dead, saturated = None, 0.0 if saturated is None else saturated
    return LayerStats(index, f"dense_{index}" if index else "dense", "Dense", act, grad, weight,
                      update, dead, saturated, units)


def healthy_layers(**changes) -> tuple[LayerStats, ...]:
    """Two hidden ReLU layers and a sigmoid output, with ordinary numbers."""
    hidden = [replace(layer(0), **changes), replace(layer(1), **changes)]
    return (*hidden, layer(2, 0.05, act="sigmoid", dead=None, saturated=None, units=1))


def stream(losses: list[float], val: list[float] | None = None,
           layers=None, probe: list[float] | None = None) -> list:
    """A run's stream: a sample at the start, then per epoch a sample and the logs.

    `layers` is a tuple of LayerStats for every sample, or a function of the epoch.
    """
    def at(epoch: int):
        return layers(epoch) if callable(layers) else (layers or healthy_layers())

    first = probe[0] if probe else losses[0]
    items: list = [Sample(0, 0, 0, None, first, at(0))]
    for epoch, loss in enumerate(losses):
        p = probe[epoch] if probe else loss
        items.append(Sample(epoch, 10, 10 * (epoch + 1), loss, p, at(epoch), True))
        logs = {"loss": loss}
        if val is not None:
            logs["val_loss"] = val[epoch]
        items.append(EpochLogs(epoch, logs))
    return items


def context(epochs: int, **changes) -> RunContext:
    return RunContext(epochs, LN2, "always predicting the share of class 1 (0.50)",
                      "BinaryCrossentropy", **changes)


def codes_of(losses, val=None, layers=None, probe=None, **ctx) -> list[str]:
    _, changes = replay(context(len(losses), **ctx), stream(losses, val, layers, probe))
    return list(dict.fromkeys(c.code for c in changes))


def falling(n: int, start: float = 0.69, end: float = 0.05) -> list[float]:
    return list(np.geomspace(start, end, n))


def test_a_healthy_stream_raises_nothing():
    losses = falling(30)
    assert codes_of(losses, [v * 1.1 for v in losses]) == []


def test_nan_loss():
    losses = falling(10)
    losses[4] = float("nan")
    assert codes_of(losses) == ["nan_loss"]  # it explains away everything after it


def test_exploding_gradients_from_a_blown_up_loss():
    losses = [0.7, 3.5, 1.2, 1.1, 1.0, 1.0]
    found = codes_of(losses)
    assert found[0] == "exploding_gradients"


def test_exploding_gradients_from_growing_gradients():
    def layers(epoch):
        return healthy_layers(grad_norm=0.05 * (1000 if epoch >= 3 else 1))
    assert "exploding_gradients" in codes_of(falling(8), layers=layers)


def test_vanishing_gradients():
    deep = tuple(layer(i, grad, act="sigmoid") for i, grad in
                 enumerate([1e-8, 1e-6, 1e-3, 0.2]))
    found = codes_of(falling(10), layers=deep)
    assert found == ["vanishing_gradients"]


def test_dying_relu_names_the_layer():
    dead = (layer(0), layer(1, dead=0.875), layer(2, act="sigmoid", dead=None, units=1))
    diagnoser, changes = replay(context(10), stream(falling(10), layers=dead))
    assert [c.code for c in changes] == ["dying_relu"]
    finding = changes[0]
    assert finding.layer == 1 and "7 of 8 units" in finding.message and "dense_1" in finding.message


def test_saturation():
    squashed = (layer(0, act="tanh", saturated=0.95), layer(1, act="sigmoid", units=1))
    assert codes_of(falling(10), layers=squashed) == ["saturation"]


def test_oscillating_loss():
    losses = [0.69, 0.5] + [0.2, 0.8] * 6
    assert "oscillating_loss" in codes_of(losses)


def test_slow_convergence():
    losses = list(np.linspace(0.70, 0.699, 12))
    crawling = healthy_layers(update_ratio=2e-6)
    found = codes_of(losses, layers=crawling)
    assert found[0] == "slow_convergence"


def test_plateau_needs_gradients_gone():
    flat = [0.7] + [LN2] * 11
    stuck = tuple(replace(x, grad_norm=0.0) for x in healthy_layers())
    assert codes_of(flat, layers=stuck)[0] == "plateau"


def test_overfitting_and_not_with_early_stopping():
    train = falling(30, 0.6, 0.01)
    val = [0.5] * 5 + list(np.linspace(0.5, 1.5, 25))
    assert codes_of(train, val) == ["overfitting"]
    assert codes_of(train, val, early_stopping=True) == []


def test_a_project_may_mark_a_problem_intended():
    from gui_app.core.diagnostics.detect import context_for
    from gui_app.core.spec import Intended

    lesson = replace(vanishing_project(), intended=(Intended("overfitting", "a lesson on it."),))
    ctx = context_for(lesson, np.array([0, 1] * 20), "binary", 30)
    assert ctx.intended == {"overfitting": "a lesson on it."}
    train = falling(30, 0.6, 0.01)
    val = [0.5] * 5 + list(np.linspace(0.5, 1.5, 25))
    _, changes = replay(ctx, stream(train, val))
    assert [(c.code, c.severity) for c in changes] == [("overfitting", "info")]
    assert changes[0].message.startswith("Intended in this project: a lesson on it.")


def test_underfitting():
    losses = [0.70] + [0.68] * 19
    assert codes_of(losses, [0.685] * 20) == ["underfitting"]


def test_a_spike_is_not_underfitting():
    losses = falling(20, 0.69, 0.1)
    losses[-1] = 0.69
    assert "underfitting" not in codes_of(losses)


def test_every_code_is_exercised_above():
    tested = {"nan_loss", "exploding_gradients", "vanishing_gradients", "dying_relu",
              "saturation", "oscillating_loss", "slow_convergence", "plateau", "overfitting",
              "underfitting"}
    assert tested == set(CODES)


def test_a_finding_that_stops_holding_is_resolved_not_deleted():
    def layers(epoch):
        return healthy_layers(dead=0.9 if epoch < 4 else 0.0)
    diagnoser, changes = replay(context(12), stream(falling(12), layers=layers))
    states = [(c.code, c.state) for c in changes]
    assert states == [("dying_relu", ACTIVE), ("dying_relu", RESOLVED)]
    final = diagnoser.findings()
    assert [(f.code, f.state) for f in final] == [("dying_relu", RESOLVED)]
    assert final[0].since == 0 and final[0].epoch > 4
    assert final[0].message.startswith("Resolved in epoch")


def test_a_resolved_finding_can_come_back():
    def layers(epoch):
        return healthy_layers(dead=0.9 if epoch < 3 or epoch >= 8 else 0.0)
    _, changes = replay(context(12), stream(falling(12), layers=layers))
    assert [c.state for c in changes] == [ACTIVE, RESOLVED, ACTIVE]
    assert changes[-1].since == 0


def test_finding_event_shape_is_plain_json():
    p = vanishing_project()
    deep = tuple(layer(i, grad, act="sigmoid") for i, grad in enumerate([1e-8, 1e-6, 1e-3, 0.2]))
    _, changes = replay(context(10, project=p), stream(falling(10), layers=deep))
    event = changes[0].to_event(run=3)
    assert isinstance(event, FindingEvent)
    doc = json.loads(json.dumps(event.to_dict(), allow_nan=False))
    assert {"type", "code", "epoch", "layer", "message", "fixes", "state"} <= set(doc)
    assert doc["type"] == "finding" and doc["code"] == "vanishing_gradients"
    assert doc["state"] == "active" and doc["layer"] == 0 and doc["run"] == 3
    assert doc["fixes"][0]["id"] == "relu_he"
    assert FindingEvent.from_dict(doc) == event
    assert all(isinstance(f, Fix) for f in changes[0].fix_objects())


def test_trivial_baselines():
    assert trivial_baseline("binary_crossentropy", np.array([0, 1, 0, 1]), "binary")[0] \
        == pytest.approx(LN2)
    three = trivial_baseline("sparse_categorical_crossentropy", np.array([0, 1, 2] * 5),
                             "multiclass")[0]
    assert three == pytest.approx(math.log(3))
    assert trivial_baseline("mse", np.array([1.0, 3.0]), "regression")[0] == pytest.approx(1.0)
    assert trivial_baseline("hinge", np.array([0, 1]), "binary")[0] is None


def test_the_detector_imports_no_keras():
    import subprocess
    import sys

    code = ("import sys, gui_app.core.diagnostics.detect, gui_app.core.diagnostics.fixes, "
            "gui_app.core.diagnostics.stats, gui_app.core.diagnostics.run\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('keras', 'tensorflow', "
            "'PySide6')]\nassert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# -- fixes ------------------------------------------------------------------------------

def vanishing_project(depth: int = 10) -> Project:
    return Project(
        name="Deep sigmoid",
        model=ModelSpec((2,), tuple(LayerSpec("Dense", {"units": 16, "activation": "sigmoid"})
                                    for _ in range(depth))
                        + (LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}),)),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}),
                            ObjectSpec("binary_crossentropy"), (ObjectSpec("accuracy"),)),
        data={"source": "circle", "samples": 500, "noise": 0.1, "seed": 0,
              "validation_split": 0.2},
        fit={"epochs": 30, "batch_size": 32, "seed": 0},
    )


def mixed_project() -> Project:
    """A project every fix changes something in: ReLU and tanh layers, zero initialisers,
    SGD, no callbacks."""
    return Project(
        name="Mixed",
        model=ModelSpec((2,), (
            LayerSpec("Dense", {"units": 8, "activation": "relu", "kernel_initializer": "zeros"}),
            LayerSpec("Dense", {"units": 8, "activation": "tanh"}),
            LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}),
        )),
        compile=CompileSpec(ObjectSpec("SGD", {"learning_rate": 0.1}),
                            ObjectSpec("binary_crossentropy"), (ObjectSpec("accuracy"),)),
        data={"source": "housing", "samples": 200, "seed": 0, "validation_split": 0.2},
        fit={"epochs": 10, "batch_size": 32, "seed": 0},
    )


def _round_trip(project: Project) -> Project:
    return project_from_json(json.loads(json.dumps(project_to_json(project))))


def _errors(project: Project) -> set[str]:
    return {f.code for f in run_checks(project) if f.severity == ERROR}


@pytest.mark.parametrize("code", CODES)
def test_every_suggested_fix_gives_a_valid_project(code):
    original = mixed_project()
    refs = fx.suggest(code, original, [0, 1])
    assert refs, f"{code} offers no fix"
    for ref in refs:
        fixed = fx.apply_fix(original, ref)
        assert fixed != original, ref.id
        assert _round_trip(fixed) == fixed, ref.id
        assert _errors(fixed) <= _errors(original), ref.id
        again = fx.apply_fix(original, json.loads(json.dumps(ref.to_json())))
        assert again == fixed  # the event's plain form applies the same edit
        assert ref.label


def test_the_fixes_do_what_they_say():
    p = mixed_project()
    relu = fx.relu_he(p, [1])
    assert relu.model.layers[1].args == {"units": 8, "activation": "relu",
                                         "kernel_initializer": "he_normal"}
    assert relu.model.layers[2] == p.model.layers[2]  # the output is left alone
    assert fx.scale_lr(p, 0.1).compile.optimizer.args["learning_rate"] == pytest.approx(0.01)
    assert fx.scale_lr(vanishing_project(), 10).compile.optimizer.args["learning_rate"] == 0.1
    assert fx.clipnorm(p).compile.optimizer.args["clipnorm"] == 1.0
    assert fx.adam(fx.clipnorm(p)).compile.optimizer == ObjectSpec("Adam", {"clipnorm": 1.0})
    assert [layer.type for layer in fx.batchnorm(p, [0, 1]).model.layers] == [
        "Dense", "BatchNormalization", "Dense", "BatchNormalization", "Dense"]
    stopping = fx.early_stopping(p).fit.callbacks
    assert stopping == [{"type": "EarlyStopping", "monitor": "val_loss", "patience": 10,
                         "restore_best_weights": True}]
    assert "kernel_initializer" not in fx.default_init(p, [0]).model.layers[0].args
    linear = replace(p, model=ModelSpec((2,), (LayerSpec("Dense", {"units": 1}),)))
    assert [layer.args.get("units") for layer in fx.more_units(linear, []).model.layers] == [32, 1]
    assert fx.standardize(p).data.standardize is True
    assert p == mixed_project()  # every fix returned a new project


def test_fixes_fit_the_checks_fix_type():
    ref = fx.make_ref("lower_lr", mixed_project())
    fix = fx.fix_for(ref)
    assert isinstance(fix, Fix) and fix.label == "Lower the learning rate to 0.01"
    assert fix.apply(mixed_project()).compile.optimizer.args["learning_rate"] == \
        pytest.approx(0.01)


# -- real Keras ---------------------------------------------------------------------------

def tiny_project() -> Project:
    return Project(
        name="Tiny",
        model=ModelSpec((2,), (
            LayerSpec("Dense", {"units": 6, "activation": "relu"}),
            LayerSpec("Dense", {"units": 4, "activation": "tanh"}),
            LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}),
        )),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}),
                            ObjectSpec("binary_crossentropy"), (ObjectSpec("accuracy"),)),
        data={"source": "circle", "samples": 200, "noise": 0.1, "seed": 0,
              "validation_split": 0.2},
        fit={"epochs": 3, "batch_size": 32, "seed": 0},
    )


def test_the_callback_collects_per_layer_stats():
    from gui_app.core.diagnostics.run import diagnose

    run = diagnose(tiny_project(), every=2)
    # one at the start, one every 2 batches inside each 5-batch epoch, one at each end
    assert len(run.samples) == 1 + 3 * 3
    assert [e.epoch for e in run.epochs] == [0, 1, 2]
    assert {"loss", "val_loss", "accuracy", "val_accuracy"} <= set(run.epochs[-1].logs)
    last = run.samples[-1]
    assert last.epoch_end and last.epoch == 2 and last.seen == 15
    assert [s.name for s in last.layers] == ["dense", "dense_1", "dense_2"]
    relu, tanh, out = last.layers
    assert relu.dead is not None and relu.saturated is None and relu.units == 6
    assert tanh.saturated is not None and tanh.dead is None
    assert out.dead is None and out.saturated is None  # the output's activation is its own
    for stats in last.layers:
        assert stats.grad_norm > 0 and stats.weight_norm > 0 and 0 < stats.update_ratio < 1
    assert run.samples[0].layers[0].update_ratio is None  # nothing to compare with yet
    middle = [s for s in run.samples if not s.epoch_end and s.seen]
    assert middle and all(s.loss is not None and math.isfinite(s.loss) for s in middle)
    assert last.learning_rate == pytest.approx(0.01)
    assert all(isinstance(s.probe_loss, float) for s in run.samples)


def test_short_epochs_get_a_callback_without_batch_hooks():
    """The engine's compiled loop refuses callbacks with per-batch hooks; an epoch no longer
    than `every` batches only samples at its end, so the callback has none."""
    import keras

    from gui_app.core.diagnostics.stats import StatsCollector, diagnostics_callback

    collector = StatsCollector(np.zeros((4, 2)), np.zeros(4))
    base = keras.callbacks.Callback
    hooks = ("on_batch_begin", "on_batch_end", "on_train_batch_begin", "on_train_batch_end",
             "on_test_begin", "on_test_end", "on_test_batch_begin", "on_test_batch_end")
    short = diagnostics_callback(collector, every=50, steps_per_epoch=13)
    assert all(getattr(type(short), h) is getattr(base, h) for h in hooks)
    long = diagnostics_callback(collector, every=50, steps_per_epoch=1700)
    assert type(long).on_train_batch_begin is not base.on_train_batch_begin
    assert type(long).on_train_batch_end is base.on_train_batch_end  # no per-batch sync


@pytest.mark.slow
def test_the_circle_lesson_raises_nothing():
    from gui_app.core.diagnostics.run import diagnose
    from gui_app.core.lessons import list_examples, load_example

    path = next(lesson.path for lesson in list_examples() if lesson.path.name.startswith("02a"))
    project, _ = load_example(path)
    run = diagnose(project)
    assert run.raised() == []
    assert len(run.epochs) == project.fit.epochs


@pytest.mark.slow
def test_the_deep_sigmoid_stack_vanishes_and_the_relu_fix_cures_it():
    from gui_app.core.diagnostics.run import diagnose

    broken = vanishing_project()
    run = diagnose(broken, epochs=6)
    finding = run.findings["vanishing_gradients"]
    assert finding.state == ACTIVE and finding.since == 0 and finding.layer == 0
    assert "dense" in finding.message
    relu = next(ref for ref in finding.fixes if ref.id == "relu_he")
    assert relu.params["layers"] == list(range(10))
    fixed = fx.apply_fix(broken, relu)
    assert _errors(fixed) == set() and _round_trip(fixed) == fixed
    again = diagnose(fixed, epochs=6)
    assert "vanishing_gradients" not in again.raised()
