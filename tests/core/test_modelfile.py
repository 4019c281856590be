"""Opening trained `.keras` / `.h5` models: round trips, and every file that must be refused.

Every malicious file here is made at test time. The code-running ones would write a marker
file if anything stored in them ran; the tests assert the marker never appears, and one
control test shows that Keras itself, with safe mode off, does run it, so the fixture is
really dangerous and the assertion could fail.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui_app.cli import run_cli
from gui_app.core import modelfile
from gui_app.core.build import build_layer, build_model
from gui_app.core.catalog import LAYERS, non_default_args
from gui_app.core.modelfile import (
    ModelFileError,
    import_model_file,
    import_to_project,
    inspect_model_file,
    load_model_file,
    looks_like_path,
    weights_path_for,
)
from gui_app.core.project import load_project, project_to_json
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, layer_names
from gui_app.core.summary import summarize

from .stackgen import random_stack

keras = pytest.importorskip("keras")

# Some layers are named by hand, so the spec must keep those names; the others must come
# back without a name (test_layer_names_match_the_file covers names Keras chose).
IMAGE_SPEC = ModelSpec((8, 8, 3), (
    LayerSpec("ZeroPadding2D", {"padding": 2, "name": "pad"}),
    LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same",
                         "activation": "relu", "kernel_initializer": "he_normal",
                         "kernel_regularizer": "l2", "name": "features"}),
    LayerSpec("BatchNormalization", {"momentum": 0.9, "epsilon": 0.01}),
    LayerSpec("MaxPooling2D", {"pool_size": 3, "name": "pool"}),
    LayerSpec("Reshape", {"target_shape": [-1, 4]}),
    LayerSpec("Bidirectional", {"layer": {"type": "GRU", "units": 3, "return_sequences": True,
                                          "reset_after": False},
                                "merge_mode": "sum"}),
    LayerSpec("LSTM", {"units": 5, "recurrent_dropout": 0.1, "unit_forget_bias": False}),
    LayerSpec("Dropout", {"rate": 0.25, "seed": 7}),
    LayerSpec("Dense", {"units": 3, "activation": "softmax", "use_bias": False,
                        "name": "probabilities"}),
))
SEQUENCE_SPEC = ModelSpec((12,), (
    LayerSpec("Embedding", {"input_dim": 20, "output_dim": 4}),
    LayerSpec("SpatialDropout1D", {"rate": 0.1, "name": "drop_channels"}),
    LayerSpec("Conv1D", {"filters": 3, "kernel_size": 2, "padding": "causal",
                         "dilation_rate": 2, "name": "causal"}),
    LayerSpec("LayerNormalization", {"epsilon": 0.0001}),
    LayerSpec("SimpleRNN", {"units": 4, "activation": "relu", "return_sequences": True}),
    LayerSpec("GlobalAveragePooling1D", {"name": "mean"}),
    LayerSpec("GaussianNoise", {"stddev": 0.2}),
    LayerSpec("Dense", {"units": 2, "bias_initializer": "ones"}),
    LayerSpec("Activation", {"activation": "sigmoid"}),
))
COMPILE = CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.005}),
                      ObjectSpec("sparse_categorical_crossentropy"),
                      (ObjectSpec("accuracy"),))


def _randomise(model: Any, seed: int) -> None:
    """Distinct trained-looking values everywhere, so a weight left at its start shows."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        values = rng.normal(size=tuple(weight.shape))
        if "variance" in weight.path:
            values = np.abs(values) + 0.5
        weight.assign(values.astype("float32"))


def _compiled(spec: ModelSpec, seed: int = 0) -> Any:
    model = build_model(spec)
    _randomise(model, seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.005),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _inputs(spec: ModelSpec) -> np.ndarray:
    rng = np.random.default_rng(1)
    if spec is SEQUENCE_SPEC:
        return rng.integers(0, 20, size=(4, 12)).astype("float32")
    return rng.normal(size=(4, *spec.input_shape)).astype("float32")


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Real files written by Keras: the two specs in both formats, plus small helpers."""
    folder = tmp_path_factory.mktemp("saved")
    out: dict[str, Any] = {"folder": folder}
    for key, spec in (("image", IMAGE_SPEC), ("sequence", SEQUENCE_SPEC)):
        model = _compiled(spec, seed=len(key))
        out[key] = model
        for ext in ("keras", "h5"):
            path = folder / f"{key}.{ext}"
            model.save(path)
            out[f"{key}.{ext}"] = path
    small = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="hidden"),
                              keras.layers.Dense(1, name="out")])
    small.save(folder / "small.keras")
    small.save(folder / "small.h5")
    out["small.keras"] = folder / "small.keras"
    out["small.h5"] = folder / "small.h5"
    return out


# -- helpers that forge files --------------------------------------------------------------


def _read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _write_zip(path: Path, members: dict[str, bytes] | list[tuple[str, bytes]],
               compression: int = zipfile.ZIP_STORED) -> Path:
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in items:
            archive.writestr(name, data)
    return path


def _forge(source: Path, target: Path, edit) -> Path:
    """Copies a real .keras archive, letting `edit` change its parsed config.json."""
    members = _read_zip(source)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    return _write_zip(target, members)


def _forge_h5(source: Path, target: Path, edit) -> Path:
    shutil.copy(source, target)
    with h5py.File(target, "r+") as handle:
        config = json.loads(handle.attrs["model_config"])
        edit(config)
        handle.attrs["model_config"] = json.dumps(config)
    return target


def _refusal(path: Path) -> str:
    with pytest.raises(ModelFileError) as info:
        inspect_model_file(path)
    message = str(info.value)
    assert "\n" not in message and "Traceback" not in message
    return message


def _dense_entry(config_doc: dict[str, Any]) -> dict[str, Any]:
    return config_doc["config"]["layers"][1]


# -- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["keras", "h5"])
@pytest.mark.parametrize("key", ["image", "sequence"])
def test_round_trip_spec_weights_and_predictions(saved, key, fmt):
    spec = IMAGE_SPEC if key == "image" else SEQUENCE_SPEC
    original = saved[key]
    imported, model = load_model_file(saved[f"{key}.{fmt}"])
    assert imported.spec == spec
    assert imported.format == fmt
    assert imported.keras_version == keras.__version__
    assert imported.compile == COMPILE
    assert [layer.name for layer in model.layers] == [layer.name for layer in original.layers]
    assert len(model.weights) == len(original.weights) > 0
    for mine, theirs in zip(model.weights, original.weights, strict=True):
        assert mine.shape == theirs.shape
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    x = _inputs(spec)
    np.testing.assert_allclose(model.predict(x, verbose=0), original.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


def test_layer_names_match_the_file(saved):
    """Rebuilt layers carry the file's names; fresh-session default names are not stored."""
    imported, model = load_model_file(saved["small.keras"])
    assert [layer.name for layer in model.layers] == ["hidden", "out"]
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.Dense(1)])
    folder = saved["folder"]
    plain.save(folder / "plain.keras")
    spec = inspect_model_file(folder / "plain.keras").spec
    names = [layer.name for layer in plain.layers]
    if names == ["dense", "dense_1"]:  # a fresh Keras session in this process
        assert all("name" not in layer.args for layer in spec.layers)
    assert layer_names(spec.layers) == names
    # Whatever Keras named the layers (conv2d_3, flatten_1, ...), the rebuilt model agrees.
    image = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(1, 2),
                              keras.layers.Flatten(), keras.layers.Dense(1)])
    image.save(folder / "image_names.keras")
    _, rebuilt = load_model_file(folder / "image_names.keras")
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in image.layers]


def test_inspection_reports_notes_and_optimizer_state(saved):
    imported = inspect_model_file(saved["image.keras"])
    assert imported.name == "sequential"
    assert imported.has_optimizer_state is True  # compiled: Keras saves the optimizer too
    assert any("optimizer's state" in note for note in imported.notes)
    assert inspect_model_file(saved["small.keras"]).has_optimizer_state is False
    assert sorted(imported.weight_shapes) == sorted(
        tuple(w.shape) for w in saved["image"].weights)


def test_import_to_project_writes_plain_json_and_weights(saved, tmp_path):
    out = tmp_path / "imported.layerlab.json"
    project = import_to_project(saved["image.keras"], out)
    weights = tmp_path / "imported.weights.h5"
    assert weights_path_for(out) == weights and weights.is_file()
    assert project.name == "image"  # Keras's automatic "sequential" gives way to the file name
    assert project.model == IMAGE_SPEC and project.compile == COMPILE
    assert load_project(out) == project
    text = out.read_text()
    doc = json.loads(text)
    assert doc == project_to_json(project)
    for banned in ("lambda", "__", "module", "class_name", "registered_name", "pickle",
                   "base64", "function"):
        assert banned not in text.lower()
    # The weights beside the project fill LayerLab's own build of the project.
    model = build_model(project.model)
    model.load_weights(weights)
    for mine, theirs in zip(model.weights, saved["image"].weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())
    assert not list(tmp_path.glob(".*tmp*")) and not list(tmp_path.glob(".*.weights.h5"))


def test_keras2_style_h5_with_batch_input_shape(saved, tmp_path):
    """tf.keras 2 wrote no InputLayer, batch_input_shape on the first layer, no modules."""

    def to_keras2(config: dict[str, Any]) -> None:
        layers = config["config"]["layers"]
        first = layers.pop(0)
        assert first["class_name"] == "InputLayer"
        layers[0]["config"]["batch_input_shape"] = first["config"]["batch_shape"]
        for entry in layers:
            entry.pop("module", None)
            entry.pop("registered_name", None)
            entry.pop("build_config", None)
            entry["config"]["dtype"] = "float32"
            for value in entry["config"].values():
                if isinstance(value, dict) and "config" in value:
                    value.pop("module", None)
                    value["config"].pop("input_axes", None)
                    value["config"].pop("output_axes", None)
        config["config"].pop("build_input_shape", None)
        config["config"]["dtype"] = "float32"

    path = _forge_h5(saved["image.h5"], tmp_path / "keras2.h5", to_keras2)
    imported, model = load_model_file(path)
    assert imported.spec == IMAGE_SPEC
    for mine, theirs in zip(model.weights, saved["image"].weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def test_fixed_batch_size_and_initializer_seed_become_notes(tmp_path):
    model = keras.Sequential([
        keras.Input(batch_shape=(16, 3)),
        keras.layers.Dense(2, kernel_initializer=keras.initializers.GlorotUniform(seed=3)),
    ])
    model.save(tmp_path / "seeded.keras")
    imported = inspect_model_file(tmp_path / "seeded.keras")
    assert imported.spec.input_shape == (3,)
    (layer,) = imported.spec.layers
    assert layer.type == "Dense" and layer.args.get("units") == 2
    assert set(layer.args) <= {"units", "name"}  # the initializer is LayerLab's default again
    text = " ".join(imported.notes)
    assert "batch size at 16" in text and "seed 3" in text


def test_unknown_compile_settings_fall_back_to_defaults_with_a_note(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(use_ema=True), loss="mse")
    model.save(tmp_path / "ema.keras")
    imported = inspect_model_file(tmp_path / "ema.keras")
    assert imported.compile is None
    assert any("use_ema" in note and "default compile settings" in note
               for note in imported.notes)
    project = import_to_project(tmp_path / "ema.keras", tmp_path / "ema.layerlab.json")
    assert project.compile == CompileSpec()


def test_compile_settings_are_mapped_to_the_catalog(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9,
                                                 nesterov=True),
                  loss=keras.losses.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                  metrics=[keras.metrics.AUC(curve="PR"), "accuracy"])
    expected = CompileSpec(
        ObjectSpec("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
        ObjectSpec("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}),
        (ObjectSpec("AUC", {"curve": "PR"}), ObjectSpec("accuracy")))
    for ext in ("keras", "h5"):
        model.save(tmp_path / f"c.{ext}")
        assert inspect_model_file(tmp_path / f"c.{ext}").compile == expected
    # Keras's own functions are saved by name and looked up in the catalog by that name.
    model.compile(optimizer="rmsprop", loss=keras.losses.binary_crossentropy,
                  metrics=[keras.metrics.binary_accuracy])
    model.save(tmp_path / "f.keras")
    assert inspect_model_file(tmp_path / "f.keras").compile == CompileSpec(
        ObjectSpec("RMSprop"), ObjectSpec("binary_crossentropy"),
        (ObjectSpec("binary_accuracy"),))
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=schedule), loss="mse")
    model.save(tmp_path / "s.keras")
    imported = inspect_model_file(tmp_path / "s.keras")
    assert imported.compile is None
    assert any("learning_rate is given as an object (\"ExponentialDecay\")" in note
               for note in imported.notes)


@pytest.mark.parametrize("layer_type", sorted(LAYERS))
def test_every_catalog_layer_round_trips(layer_type, tmp_path):
    definition = LAYERS[layer_type]
    shape = {2: (6,), 3: (6, 4), 4: (6, 6, 3)}[definition.min_rank or 3]
    spec = ModelSpec(shape, (LayerSpec(layer_type, {**definition.suggested, "name": "x"}),))
    model = build_model(spec)
    _randomise(model, 3)
    model.save(tmp_path / "one.keras")
    imported, loaded = load_model_file(tmp_path / "one.keras")
    assert imported.spec == spec
    for mine, theirs in zip(loaded.weights, model.weights, strict=True):
        np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


def _built_config(layer: LayerSpec) -> dict[str, Any]:
    config = build_layer(layer).get_config()
    config.pop("name")
    for key in ("layer", "backward_layer"):
        if key in config:
            config[key]["config"].pop("name")
    return config


def test_random_valid_stacks_rebuild_the_same_layers(tmp_path):
    """Stacks from the summary tests' generator: the imported spec builds identical layers.

    The generator writes some defaults explicitly, which the import leaves out, so the
    specs are compared by what Keras makes of them, layer by layer.
    """
    checked = 0
    for seed in range(40):
        spec = random_stack(seed)
        if not summarize(spec).ok:
            continue
        model = build_model(spec)
        model.save(tmp_path / f"s{seed}.keras")
        imported = inspect_model_file(tmp_path / f"s{seed}.keras")
        assert imported.spec.input_shape == spec.input_shape
        assert [_built_config(layer) for layer in imported.spec.layers] == \
            [_built_config(layer) for layer in spec.layers], seed
        assert all(non_default_args(LAYERS[layer.type], layer.args) == dict(layer.args)
                   for layer in imported.spec.layers)
        checked += 1
    assert checked >= 20


# -- code that must never run ------------------------------------------------------------


def _lambda_model(marker: Path) -> Any:
    """A model whose Lambda writes `marker` whenever its code runs (Keras calls it on load)."""
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                             keras.layers.Lambda(touch)])


@pytest.fixture
def lambda_file(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "marker"
    model = _lambda_model(marker)
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink(missing_ok=True)  # building the model above ran the lambda once
    assert not marker.exists()
    return path, marker


def test_the_lambda_fixture_really_runs_code_when_keras_deserialises_it(lambda_file):
    """Control: with safe mode off, Keras's loader runs the stored lambda: the marker appears."""
    path, marker = lambda_file
    keras.saving.load_model(path, safe_mode=False)
    assert marker.exists()


def test_lambda_layer_is_refused_and_never_runs(lambda_file, tmp_path, capsys):
    path, marker = lambda_file
    message = _refusal(path)
    assert message.startswith("this file contains a Lambda layer, which would run code stored "
                              "in the file; LayerLab does not open such files")
    assert re.search(r"\(layer 'lambda(_\d+)?' at position 2\)$", message)
    for attempt in (lambda: load_model_file(path),
                    lambda: import_to_project(path, tmp_path / "x.layerlab.json")):
        with pytest.raises(ModelFileError):
            attempt()
    assert not (tmp_path / "x.layerlab.json").exists()
    assert not (tmp_path / "x.weights.h5").exists()
    assert not marker.exists()


def test_lambda_spliced_into_a_benign_archive_is_refused(lambda_file, saved, tmp_path):
    """A hand-edited config.json: a real Lambda entry (with its bytecode) among Dense layers."""
    path, marker = lambda_file
    lambda_entry = json.loads(_read_zip(path)["config.json"])["config"]["layers"][2]
    assert lambda_entry["class_name"] == "Lambda"

    def splice(config: dict[str, Any]) -> None:
        config["config"]["layers"].insert(2, lambda_entry)

    forged = _forge(saved["small.keras"], tmp_path / "spliced.keras", splice)
    assert "Lambda layer" in _refusal(forged)
    with pytest.raises(ModelFileError, match="Lambda layer"):
        load_model_file(forged)
    assert not marker.exists()

    def disguise(config: dict[str, Any]) -> None:  # the bytecode under a Dense's activation
        _dense_entry(config)["config"]["activation"] = lambda_entry["config"]["function"]

    forged = _forge(saved["small.keras"], tmp_path / "disguised.keras", disguise)
    assert "activation as an object" in _refusal(forged)
    with pytest.raises(ModelFileError):
        load_model_file(forged)
    assert not marker.exists()


def test_lambda_in_a_legacy_h5_is_refused(lambda_file, tmp_path):
    _, marker = lambda_file
    source = _lambda_model(marker)
    source.save(tmp_path / "lambda.h5")
    marker.unlink(missing_ok=True)
    assert "Lambda layer" in _refusal(tmp_path / "lambda.h5")
    with pytest.raises(ModelFileError):
        load_model_file(tmp_path / "lambda.h5")
    assert not marker.exists()


@pytest.mark.parametrize("edit, expected", [
    (lambda e: e.update(module="my_package", class_name="MyLayer",
                        registered_name="my_package>MyLayer"),
     "custom object 'my_package>MyLayer'"),
    (lambda e: e.update(registered_name="evil>Dense"), "custom object 'evil>Dense'"),
    (lambda e: e.update(module="evil.layers"), "from the module 'evil.layers'"),
    (lambda e: e.update(module="keras.src.layers.core.dense"), "from the module"),
    (lambda e: e.pop("module"), "names no module"),
    (lambda e: e.update(class_name="TFSMLayer",
                        config={"name": "sm", "filepath": "/tmp/saved_model",
                                "call_endpoint": "serve"}),
     "TFSMLayer, which loads a TensorFlow SavedModel"),
    (lambda e: e.update(class_name="TorchModuleWrapper", config={"name": "t", "module": "x"}),
     "TorchModuleWrapper layer, which unpickles"),
    (lambda e: e["config"].update(foo=1), "a setting 'foo' that Keras"),
    (lambda e: e["config"].update(vocabulary="/tmp/vocab.txt"),
     "refers to another file or location ('/tmp/vocab.txt'"),
    (lambda e: e["config"].update(name="vocab.txt"), "refers to another file"),
    (lambda e: e["config"]["kernel_initializer"].update(
        module="keras.src.ops", class_name="numpy.load"),
     "from the module 'keras.src.ops'"),
    (lambda e: e["config"]["kernel_initializer"].update(registered_name="pkg>Init"),
     "custom object 'pkg>Init'"),
    (lambda e: e["config"]["kernel_initializer"]["config"].update(seed="file:///etc/passwd"),
     "refers to another file"),
    (lambda e: e["config"].update(kernel_regularizer={
        "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.001},
        "registered_name": None}),
     "'l1' and 'l2' with Keras's default factor 0.01"),
    (lambda e: e["config"].update(kernel_constraint={
        "module": "keras.constraints", "class_name": "NonNeg", "config": {},
        "registered_name": None}),
     "kernel_constraint is"),
    (lambda e: e["config"].update(trainable=False), "trainable is false in the file"),
    (lambda e: e["config"].update(activation="not_an_activation"),
     "not one of Keras's built-in activations"),
    (lambda e: e["config"]["dtype"]["config"].update(name="mixed_float16"),
     "float32 models only"),
    (lambda e: e["config"].update(units=0), "units: expected an integer >= 1"),
    (lambda e: e["config"].update(lora_rank=4), "lora_rank is 4 in the file"),
])
def test_forged_layer_entries_are_refused_with_reasons(saved, tmp_path, edit, expected):
    def change(config: dict[str, Any]) -> None:
        edit(_dense_entry(config))

    message = _refusal(_forge(saved["small.keras"], tmp_path / "forged.keras", change))
    assert expected in message


def test_nested_sequential_is_refused(tmp_path):
    inner = keras.Sequential([keras.layers.Dense(2)])
    outer = keras.Sequential([keras.Input((3,)), inner, keras.layers.Dense(1)])
    outer.save(tmp_path / "nested.keras")
    message = _refusal(tmp_path / "nested.keras")
    assert "model inside a model (a Sequential" in message


def test_functional_model_is_refused(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    model.save(tmp_path / "functional.keras")
    assert _refusal(tmp_path / "functional.keras").startswith(
        "LayerLab opens Sequential models only; this file holds a Functional model")


def test_custom_model_class_at_the_top_is_refused(saved, tmp_path):
    def custom(config: dict[str, Any]) -> None:
        config.update(module="my_models", class_name="MyModel", registered_name="pkg>MyModel")

    assert "custom object 'pkg>MyModel'" in _refusal(
        _forge(saved["small.keras"], tmp_path / "custom.keras", custom))


def test_activation_given_as_a_function_is_refused(tmp_path):
    def swish_ish(x):
        return x * 2

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation=swish_ish)])
    model.save(tmp_path / "fn.keras")
    message = _refusal(tmp_path / "fn.keras")
    assert "gives its activation as an object" in message and "swish_ish" in message


def test_unsupported_layer_type_is_named(tmp_path):
    model = keras.Sequential([keras.Input((4, 4, 4, 1)), keras.layers.Conv3D(2, 3)])
    model.save(tmp_path / "conv3d.keras")
    message = _refusal(tmp_path / "conv3d.keras")
    assert message.startswith("LayerLab does not support the layer type Conv3D "
                              "(layer 'conv3d' at position 1)")


def test_frozen_layer_is_refused_naming_the_key(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.layers[0].trainable = False
    model.save(tmp_path / "frozen.keras")
    assert "trainable is false" in _refusal(tmp_path / "frozen.keras")


# -- archives and HDF5 files that are not what they claim ---------------------------------------


def test_not_a_zip(tmp_path):
    path = tmp_path / "fake.keras"
    path.write_bytes(b"#!/bin/sh\necho hi\n" * 10)
    assert "not a zip archive" in _refusal(path)


def test_truncated_zip(saved, tmp_path):
    data = saved["small.keras"].read_bytes()
    path = tmp_path / "cut.keras"
    path.write_bytes(data[: len(data) // 2])
    assert "damaged or incomplete" in _refusal(path)


def test_oversized_config(saved, tmp_path):
    members = _read_zip(saved["small.keras"])
    config = json.loads(members["config.json"])
    config["config"]["layers"][1]["config"]["name"] = "x"
    members["config.json"] = json.dumps(config).encode() + b" " * (5 * 1024 * 1024)
    message = _refusal(_write_zip(tmp_path / "big.keras", members))
    assert "config.json is 5," in message and "accepts up to 4,194,304" in message


def test_unexpected_member(saved, tmp_path):
    members = _read_zip(saved["small.keras"])
    members["assets/vocab.txt"] = b"a\nb\n"
    assert "unexpected members ('assets/vocab.txt')" in _refusal(
        _write_zip(tmp_path / "extra.keras", members))


def test_duplicate_member(saved, tmp_path):
    members = list(_read_zip(saved["small.keras"]).items())
    members.append(("config.json", b"{}"))
    with pytest.warns(UserWarning):  # zipfile itself warns about the duplicate name
        path = _write_zip(tmp_path / "twice.keras", members)
    assert "two members named 'config.json'" in _refusal(path)


def test_zip_bomb_weights(saved, tmp_path):
    members = _read_zip(saved["small.keras"])
    members["model.weights.h5"] = bytes(64 * 1024 * 1024)
    path = _write_zip(tmp_path / "bomb.keras", members, compression=zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 1024 * 1024
    assert "zip bomb" in _refusal(path)


def test_missing_weights_member(saved, tmp_path):
    members = _read_zip(saved["small.keras"])
    del members["model.weights.h5"]
    assert "has no model.weights.h5" in _refusal(_write_zip(tmp_path / "now.keras", members))


def test_invalid_json_and_duplicate_keys(saved, tmp_path):
    members = _read_zip(saved["small.keras"])
    members["config.json"] = b'{"class_name": "Sequential", "class_name": "Functional"}'
    assert "appears twice" in _refusal(_write_zip(tmp_path / "dup.keras", members))
    members["config.json"] = b'{"class_name": '
    assert "not valid JSON" in _refusal(_write_zip(tmp_path / "cut.keras", members))


def test_weights_that_do_not_fit_are_refused(saved, tmp_path):
    path = tmp_path / "wrong.h5"
    shutil.copy(saved["small.h5"], path)
    with h5py.File(path, "r+") as handle:
        group = handle["model_weights/hidden/sequential/hidden"]
        del group["kernel"]
        group["kernel"] = np.zeros((3, 5), "float32")
    message = _refusal(path)
    assert "weights hold" in message and "need" in message


def test_nan_weights_are_refused(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    kernel = model.layers[0].kernel
    kernel.assign(np.full(kernel.shape, np.nan, "float32"))
    model.save(tmp_path / "diverged.keras")
    inspect_model_file(tmp_path / "diverged.keras")  # the description itself is fine
    with pytest.raises(ModelFileError, match="NaN or infinite"):
        load_model_file(tmp_path / "diverged.keras")


def test_odd_layer_names_are_not_carried_into_the_project(saved, tmp_path):
    def rename(config: dict[str, Any]) -> None:
        _dense_entry(config)["config"]["name"] = "__import__('os').system('echo')"

    forged = _forge(saved["small.keras"], tmp_path / "odd.keras", rename)
    imported, model = load_model_file(forged)
    assert [layer.args.get("name") for layer in imported.spec.layers] == [None, "out"]
    assert any("was renamed" in note for note in imported.notes)
    assert [layer.name for layer in model.layers] == ["dense", "out"]


def test_weights_with_the_right_count_but_wrong_shapes_are_refused(saved, tmp_path):
    path = tmp_path / "transposed.h5"
    shutil.copy(saved["small.h5"], path)
    with h5py.File(path, "r+") as handle:
        group = handle["model_weights/hidden/sequential/hidden"]
        del group["kernel"]
        group["kernel"] = np.ones((2, 3), "float32")  # 6 numbers, as (3, 2) has
    inspect_model_file(path)  # the count alone cannot tell
    with pytest.raises(ModelFileError, match=r"have the shapes .*the weights do not belong"):
        load_model_file(path)


def test_hdf5_links_to_other_files_are_refused(saved, tmp_path):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(np.arange(6, dtype="float32").tobytes())
    linked = tmp_path / "linked.h5"
    shutil.copy(saved["small.h5"], linked)
    with h5py.File(linked, "r+") as handle:
        handle["model_weights/hidden/extra"] = h5py.ExternalLink(str(secret), "/")
    assert "link to another file" in _refusal(linked)
    external = tmp_path / "external.h5"
    shutil.copy(saved["small.h5"], external)
    with h5py.File(external, "r+") as handle:
        group = handle["model_weights/hidden/sequential/hidden"]
        del group["kernel"]
        group.create_dataset("kernel", shape=(3, 2), dtype="float32",
                             external=[(str(secret), 0, 24)])
    assert "takes its data from another file" in _refusal(external)


def test_weights_only_and_other_wrong_files(saved, tmp_path):
    weights = tmp_path / "model.weights.h5"
    saved["image"].save_weights(weights)
    assert "weights-only file" in _refusal(weights)
    plain_h5 = tmp_path / "plain.h5"
    with h5py.File(plain_h5, "w") as handle:
        handle["x"] = np.zeros(3)
    assert "no model description" in _refusal(plain_h5)
    not_h5 = tmp_path / "text.h5"
    not_h5.write_text("hello")
    assert "not an HDF5 file" in _refusal(not_h5)
    assert "is a folder" in _refusal(tmp_path)
    assert "no such file" in _refusal(tmp_path / "missing.keras")
    assert "expected a .keras file" in _refusal(Path(__file__))


def test_old_keras_is_refused_before_reading(saved, monkeypatch):
    monkeypatch.setattr(modelfile, "_installed_keras_version", lambda: "3.13.2")
    message = _refusal(saved["small.keras"])
    assert "Keras 3.15.1 or newer" in message and "3.13.2" in message
    with pytest.raises(ModelFileError, match="3.15.1 or newer"):
        load_model_file(saved["small.keras"])
    monkeypatch.setattr(modelfile, "_installed_keras_version", lambda: "3.15.1")
    assert inspect_model_file(saved["small.keras"]).spec.input_shape == (3,)


@pytest.mark.parametrize("text, path_like", [
    ("relu", False), ("same", False), ("float32", False), ("dense_1", False),
    ("batch_normalization", False), ("/etc/passwd", True), ("..\\x", True),
    ("vocab.txt", True), ("C:", True), ("https://example.com/m", True), ("~/.ssh", True),
    ("model.PKL", True),
])
def test_looks_like_path(text, path_like):
    assert looks_like_path(text) is path_like


# -- robustness: any edit of a valid config is accepted or refused, never a crash ----------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _paths(item, (*prefix, i))
    return out


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_configs_are_accepted_or_refused_never_crash(saved, tmp_path, data):
    members = _read_zip(saved["small.keras"])
    config = json.loads(members["config.json"])
    paths = [p for p in _paths(config) if p]
    target = data.draw(st.sampled_from(paths))
    value = data.draw(_JSON)
    node = config
    for key in target[:-1]:
        node = node[key]
    node[target[-1]] = value
    members["config.json"] = json.dumps(config).encode()
    path = _write_zip(tmp_path / "mutated.keras", members)
    try:
        imported = inspect_model_file(path)
    except ModelFileError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert imported.spec.layers and all(isinstance(v, (int, type(None)))
                                        for v in imported.spec.input_shape)
    assert math.prod(d or 1 for d in imported.spec.input_shape) >= 1


# -- the command line ------------------------------------------------------------------------


@pytest.fixture
def run():
    """`layerlab ...` through the command line's guard, `run_cli`."""
    return run_cli


def test_cli_import_writes_project_and_weights(run, saved, tmp_path, capsys):
    out = tmp_path / "seq.layerlab.json"
    assert run(["import", str(saved["sequence.keras"]), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert f"Wrote {out} (project 'sequence': 9 layers, input (12), from a Keras " in printed.out
    assert f"Wrote {tmp_path / 'seq.weights.h5'} (trained weights:" in printed.out
    assert printed.err == ""
    assert load_project(out).model == SEQUENCE_SPEC
    # A second run refuses to overwrite, unless told to.
    assert run(["import", str(saved["sequence.keras"]), "-o", str(out)]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert run(["import", str(saved["sequence.keras"]), "-o", str(out), "--force"]) == 0


def test_cli_import_prints_notes(run, tmp_path, capsys):
    model = keras.Sequential([keras.Input(batch_shape=(8, 3)), keras.layers.Dense(1)])
    model.save(tmp_path / "batch.keras")
    assert run(["import", str(tmp_path / "batch.keras"), "-o",
                str(tmp_path / "b.layerlab.json")]) == 0
    out = capsys.readouterr().out
    assert "note: the file fixes the batch size at 8" in out
    assert "note: the file has no compile settings" in out


def test_cli_import_refusals_exit_2_with_one_line(run, lambda_file, tmp_path, capsys):
    path, marker = lambda_file
    out = tmp_path / "l.layerlab.json"
    assert run(["import", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"layerlab: {path}: this file contains a Lambda layer, which would run "
                          "code stored in the file; LayerLab does not open such files")
    assert not out.exists() and not marker.exists()
    fake = tmp_path / "fake.keras"
    fake.write_bytes(b"not a zip")
    assert run(["import", str(fake), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a zip archive" in err
    assert run(["import", str(tmp_path / "missing.keras"), "-o", str(out)]) == 2
    assert "no such file" in capsys.readouterr().err
    assert run(["import", str(fake), "-o", str(tmp_path / "project.json")]) == 2
    assert "ending in .layerlab.json" in capsys.readouterr().err


def test_import_model_file_result(saved, tmp_path):
    result = import_model_file(saved["small.h5"], tmp_path / "small.layerlab.json")
    assert result.project_path.is_file() and result.weights_path.is_file()
    assert result.imported.format == "h5"
    assert [layer.args.get("name") for layer in result.project.model.layers] == ["hidden", "out"]
    assert os.path.getsize(result.weights_path) > 0
