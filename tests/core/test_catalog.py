"""The catalog describes what Keras really accepts, and cannot drift from it."""

from __future__ import annotations

import pytest

from gui_app.core import catalog
from gui_app.core.build import build_layer, build_loss, build_metric, build_optimizer
from gui_app.core.catalog import LAYERS, Param, check_args, non_default_args
from gui_app.core.spec import LayerSpec, ObjectSpec

keras = pytest.importorskip("keras")

REQUIRED_LAYERS = (
    "Dense Activation Dropout Flatten Reshape BatchNormalization LayerNormalization GaussianNoise "
    "Conv1D Conv2D MaxPooling1D MaxPooling2D AveragePooling1D AveragePooling2D "
    "GlobalAveragePooling1D GlobalAveragePooling2D GlobalMaxPooling1D GlobalMaxPooling2D Embedding "
    "SimpleRNN LSTM GRU Bidirectional Rescaling UpSampling2D ZeroPadding2D SpatialDropout1D "
    "SpatialDropout2D"
).split()


def test_snapshot_equals_installed_keras():
    assert catalog.sync_with_keras() == []


def test_sync_detects_and_repairs_drift():
    param = LAYERS["Dense"].param("use_bias")
    param.default = False
    try:
        drift = catalog.sync_with_keras()
        assert any("Dense.use_bias" in d for d in drift)
        assert param.default is True  # Keras's value wins
    finally:
        param.default = True


def test_required_coverage():
    assert set(REQUIRED_LAYERS) <= set(LAYERS)
    assert set("SGD RMSprop Adam AdamW Adagrad Adadelta Adamax Nadam Ftrl Lion".split()) <= set(
        catalog.OPTIMIZERS)
    assert {"momentum", "nesterov"} <= {p.name for p in catalog.OPTIMIZERS["SGD"].params}
    assert all(o.param("learning_rate") for o in catalog.OPTIMIZERS.values())
    for name in ("accuracy", "AUC", "Precision", "Recall", "TopKCategoricalAccuracy", "mae", "mse",
                 "RootMeanSquaredError", "R2Score", "binary_accuracy"):
        assert catalog.metric_def(name) is not None, name
    for name in ("binary_crossentropy", "categorical_crossentropy", "sparse_categorical_crossentropy",
                 "mse", "mae", "huber", "hinge", "kl_divergence", "poisson", "log_cosh"):
        assert catalog.loss_def(name) is not None, name


def test_every_param_has_help_and_every_layer_builds_with_suggested_args():
    for definition in LAYERS.values():
        assert definition.help and definition.group in catalog.GROUPS
        for p in definition.params:
            assert p.help, f"{definition.type}.{p.name} has no explanation"
            if not p.required:
                assert p.check(p.default) is None, f"{definition.type}.{p.name} default refused"
        args = dict(definition.suggested)
        assert check_args(definition, args) == []
        build_layer(LayerSpec(definition.type, args))


def test_every_choice_is_accepted_by_keras():
    for act in catalog.ACTIVATIONS:
        keras.activations.get(act)
    for init in catalog.INITIALIZERS:
        keras.initializers.get(init)
    for reg in catalog.REGULARIZERS:
        keras.regularizers.get(reg)


@pytest.mark.parametrize("kind", ["optimizer", "loss", "metric"])
def test_objects_build_with_and_without_args(kind):
    table = {"optimizer": (catalog.OPTIMIZERS, build_optimizer),
             "loss": (catalog.LOSSES, build_loss), "metric": (catalog.METRICS, build_metric)}
    defs, build = table[kind]
    for definition in defs.values():
        build(ObjectSpec(definition.alias))
        # Every parameter set to its default explicitly must also be accepted.
        args = {p.name: p.default for p in definition.params if not p.required}
        built = build(ObjectSpec(definition.type, args))
        assert built is not None


def test_param_check_messages():
    units = LAYERS["Dense"].param("units")
    assert units.check(8) is None
    assert units.check(0) == "expected an integer >= 1, got 0"
    assert units.check(2.5) == "expected an integer >= 1, got 2.5"
    # Keras refuses 8.0 units when it builds the layer: refused here, at load.
    assert units.check(8.0) == "expected an integer >= 1, got 8.0; write it without a decimal point"
    assert "at most 2,147,483,647" in units.check(2**31)
    assert "about 401 digits" in units.check(10**400)
    assert units.check(True) is not None
    rate = LAYERS["Dropout"].param("rate")
    assert rate.check(0.5) is None and rate.check(1.0) == "expected a number >= 0 and < 1, got 1.0"
    kernel = LAYERS["Conv2D"].param("kernel_size")
    assert kernel.check(3) is None and kernel.check([3, 2]) is None
    assert kernel.check([3, 2, 1]) is not None and kernel.check(0) is not None
    act = LAYERS["Dense"].param("activation")
    assert act.check("relu") is None and act.check(None) is None
    assert "one of" in act.check("relux")
    shape = Param("target_shape", "shape")
    assert shape.check([-1, 4]) is None and shape.check([-1, -1]) is not None


def test_check_args_reports_everything_at_once():
    problems = check_args(LAYERS["Dense"], {"units": 0, "activaton": "relu"})
    names = sorted(p[0] for p in problems)
    assert names == ["activaton", "units"]
    assert "has no argument 'activaton'" in dict(problems)["activaton"]
    assert check_args(LAYERS["Conv2D"], {"filters": 4})[0][0] == "kernel_size"


def test_non_default_args_drops_defaults_including_equivalent_sizes():
    conv = LAYERS["Conv2D"]
    kept = non_default_args(conv, {"filters": 8, "kernel_size": 3, "strides": 1, "padding": "valid",
                                   "use_bias": True, "activation": "relu"})
    assert kept == {"filters": 8, "kernel_size": 3, "activation": "relu"}


def test_palette_groups_cover_all_layers():
    groups = catalog.layers_by_group()
    assert sum(len(v) for v in groups.values()) == len(LAYERS)
    assert [d.type for d in groups["recurrent"]][:3] == ["SimpleRNN", "LSTM", "GRU"]


def test_preprocessing_and_augmentation_layers_and_their_groups():
    groups = catalog.layers_by_group()
    assert [d.type for d in groups["preprocessing"]] == ["Rescaling", "Resizing", "CenterCrop"]
    assert [d.type for d in groups["augmentation"]] == [
        "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation", "RandomContrast",
        "RandomBrightness"]
    assert catalog.AUGMENTATION_LAYERS == tuple(d.type for d in groups["augmentation"])
    for definition in groups["augmentation"]:  # the palette's tooltip and the inspector say so
        assert "Active only while training (fit)" in definition.help
        assert definition.param("seed") is not None
