"""The summary must equal Keras's own numbers, and never raise for a bad stack."""

from __future__ import annotations

import random

import numpy as np
import pytest

from gui_app.core.build import build_model
from gui_app.core.spec import LayerSpec, ModelSpec
from gui_app.core.summary import format_table, summarize

from .keras_helpers import keras_rows
from .stackgen import random_stack

keras = pytest.importorskip("keras")

N_STACKS = 160


def _compare(spec: ModelSpec) -> tuple[bool, str]:
    """(keras built it, why not); asserts our summary agrees either way."""
    ours = summarize(spec)
    try:
        model = build_model(spec)
    except Exception as exc:  # noqa: BLE001 - any Keras refusal counts
        assert not ours.ok, f"Keras refused ({exc}) but the summary found no error for {spec}"
        assert any(r.error for r in ours.rows) or ours.input_error
        return False, str(exc)
    assert ours.ok, f"Keras built it but the summary says: {[r.error for r in ours.rows]}"
    theirs = keras_rows(model)
    assert len(theirs) == len(ours.rows)
    for row, (shape, params, trainable) in zip(ours.rows, theirs):
        assert row.output_shape == shape, (row.name, row.output_shape, shape)
        assert row.params == params, (row.name, row.params, params)
        assert row.trainable == trainable, (row.name, row.trainable, trainable)
        assert row.non_trainable == params - trainable
    assert ours.total_params == model.count_params()
    return True, ""


def test_generated_stacks_match_keras():
    built = refused = 0
    for seed in range(N_STACKS):
        ok, _ = _compare(random_stack(seed))
        built += ok
        refused += not ok
    # The generator must really exercise both sides.
    assert built >= 80 and refused >= 20, (built, refused)


def test_mlp_784_300_100_10():
    spec = ModelSpec((28, 28), (
        LayerSpec("Flatten"),
        LayerSpec("Dense", {"units": 300, "activation": "relu"}),
        LayerSpec("Dense", {"units": 100, "activation": "relu"}),
        LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
    ))
    summary = summarize(spec)
    assert [r.params for r in summary.rows] == [0, 235_500, 30_100, 1_010]
    assert summary.total_params == 266_610
    assert summary.weight_bytes == 266_610 * 4
    assert summary.rows[1].explanation == "784 inputs x 300 units + 300 biases = 235,500"
    _compare(spec)


def test_counts_read_as_sentences():
    row = summarize(ModelSpec((8,), (LayerSpec("Dense", {"units": 1}),))).rows[0]
    assert row.explanation == "8 inputs x 1 unit + 1 bias = 9"


def test_default_names_are_keras_names():
    spec = ModelSpec((12, 12, 2), (
        LayerSpec("Conv2D", {"filters": 2, "kernel_size": 3}),
        LayerSpec("MaxPooling2D"), LayerSpec("Conv2D", {"filters": 2, "kernel_size": 3}),
        LayerSpec("Reshape", {"target_shape": [-1, 2]}),
        LayerSpec("Bidirectional", {"layer": {"type": "LSTM", "units": 2, "return_sequences": True}}),
        LayerSpec("LSTM", {"units": 2}), LayerSpec("BatchNormalization"),
        LayerSpec("Dense", {"units": 1}),
    ))
    keras.backend.clear_session()
    from gui_app.core.build import build_layer

    model = keras.Sequential([keras.Input(spec.input_shape), *(build_layer(layer) for layer in spec.layers)])
    assert [row.name for row in summarize(spec).rows] == [layer.name for layer in model.layers]


def test_small_cnn_with_batchnorm():
    spec = ModelSpec((28, 28, 1), (
        LayerSpec("Conv2D", {"filters": 16, "kernel_size": 3, "activation": "relu"}),
        LayerSpec("BatchNormalization"),
        LayerSpec("MaxPooling2D"),
        LayerSpec("Conv2D", {"filters": 32, "kernel_size": 3, "padding": "same"}),
        LayerSpec("GlobalAveragePooling2D"),
        LayerSpec("Dropout", {"rate": 0.5}),
        LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
    ))
    summary = summarize(spec)
    assert summary.rows[0].output_shape == (None, 26, 26, 16)
    assert summary.rows[0].params == 3 * 3 * 1 * 16 + 16
    assert (summary.rows[1].trainable, summary.rows[1].non_trainable) == (32, 32)
    assert summary.non_trainable_params == 32
    assert "not trained" in summary.rows[1].explanation
    _compare(spec)


def test_recurrent_counts_in_words():
    spec = ModelSpec((10, 3), (
        LayerSpec("LSTM", {"units": 4, "return_sequences": True}),
        LayerSpec("Bidirectional", {"layer": {"type": "GRU", "units": 5}}),
        LayerSpec("Dense", {"units": 1}),
    ))
    summary = summarize(spec)
    assert summary.rows[0].params == 4 * 4 * (3 + 4 + 1)
    assert summary.rows[1].params == 2 * 3 * 5 * (4 + 5 + 2)
    assert summary.rows[1].output_shape == (None, 10)
    assert summary.rows[1].explanation.startswith("2 directions x (3 gates x 5 units")
    _compare(spec)


def test_conv2d_after_flat_input_says_what_to_do():
    spec = ModelSpec((64,), (
        LayerSpec("Dense", {"units": 64}),
        LayerSpec("Conv2D", {"filters": 8, "kernel_size": 3}),
        LayerSpec("Dense", {"units": 2}),
    ))
    summary = summarize(spec)
    assert not summary.ok and summary.error_index == 1
    assert summary.rows[0].output_shape == (None, 64)
    message = summary.rows[1].error
    assert "Conv2D needs inputs shaped (height, width, channels)" in message
    assert "(None, 64)" in message and "Reshape" in message
    assert summary.rows[2].output_shape is None and summary.rows[2].error is None
    assert summary.total_params == 64 * 64 + 64
    assert "Conv2D needs" in format_table(summary)
    _compare(spec)


def test_kernel_larger_than_input_is_explained():
    spec = ModelSpec((5, 5, 1), (LayerSpec("Conv2D", {"filters": 2, "kernel_size": 7}),))
    row = summarize(spec).rows[0]
    assert row.error and "larger than its input" in row.error and "padding 'same'" in row.error
    _compare(spec)


def test_invalid_argument_is_a_row_error_not_an_exception():
    spec = ModelSpec((4,), (LayerSpec("Dense", {"units": -5}), LayerSpec("Dropout", {"rate": 2})))
    summary = summarize(spec)
    assert summary.rows[0].error == "Dense 'dense': units: expected an integer >= 1, got -5."
    _compare(spec)


def test_unknown_layer_and_bad_input_shape():
    assert "no layer called 'Conv3D'" in summarize(ModelSpec((4,), (LayerSpec("Conv3D"),))).rows[0].error
    bad = summarize(ModelSpec((0, 3), (LayerSpec("Dense", {"units": 1}),)))
    assert bad.input_error and not bad.ok


def test_reshape_mismatch_message():
    spec = ModelSpec((10,), (LayerSpec("Reshape", {"target_shape": [3, 3]}),))
    assert "number of values must stay the same" in summarize(spec).rows[0].error
    _compare(spec)


# -- preprocessing and augmentation layers ----------------------------------------------

def _image_prefix(r: random.Random) -> list[LayerSpec]:
    """Random preprocessing layers, valid and invalid, with values Keras and the catalog
    judge alike (Keras accepts some out-of-range pairs, such as a rotation of [0.5, 2],
    that the catalog refuses; those are left out here)."""
    choices = [
        lambda: LayerSpec("RandomFlip", {"mode": r.choice(["horizontal", "vertical",
                                                           "horizontal_and_vertical"])}),
        lambda: LayerSpec("RandomRotation", {"factor": r.choice([0.1, 0.5, 1.0, -0.2, 1.5,
                                                                 [-0.1, 0.2]])}),
        lambda: LayerSpec("RandomZoom", {"height_factor": r.choice([0.2, -0.5, [-0.3, -0.1],
                                                                    -1.0, 1.2])}
                          | ({"width_factor": 0.1} if r.random() < 0.3 else {})),
        lambda: LayerSpec("RandomTranslation", {"height_factor": r.choice([0.1, 1.0, -1.5]),
                                                "width_factor": r.choice([0.2, [-0.1, 0.1]])}),
        lambda: LayerSpec("RandomContrast", {"factor": r.choice([0.2, 1.0, 1.5, -0.2])}),
        lambda: LayerSpec("RandomBrightness", {"factor": r.choice([0.2, [-0.1, 0.3], 2.0]),
                                               "value_range": r.choice([[0, 1], [0, 255]])}),
        lambda: LayerSpec("Resizing", {"height": r.choice([4, 16, 40]),
                                       "width": r.choice([5, 16])}
                          | ({"crop_to_aspect_ratio": True} if r.random() < 0.3 else {})),
        lambda: LayerSpec("CenterCrop", {"height": r.choice([2, 6, 12, 40]),
                                         "width": r.choice([3, 8, 40])}),
        lambda: LayerSpec("Rescaling", {"scale": 1 / 255}),
    ]
    return [r.choice(choices)() for _ in range(r.randint(1, 4))]


def test_generated_augmentation_stacks_match_keras():
    built = refused = 0
    for seed in range(40):
        r = random.Random(1000 + seed)
        shape = (r.choice([8, 12, 32]), r.choice([8, 10, 32]), r.choice([1, 3]))
        if r.random() < 0.15:
            shape = (None, None, 3)  # images of any size: Resizing or CenterCrop fixes it
        layers = _image_prefix(r)
        layers += [LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "same"}),
                   LayerSpec("GlobalAveragePooling2D"), LayerSpec("Dense", {"units": 3})]
        ok, _ = _compare(ModelSpec(shape, tuple(layers)))
        built += ok
        refused += not ok
    assert built >= 15 and refused >= 5, (built, refused)


def test_augmentation_in_front_of_a_cnn():
    spec = ModelSpec((32, 32, 3), (
        LayerSpec("RandomFlip", {"mode": "horizontal"}),
        LayerSpec("RandomRotation", {"factor": 0.1}),
        LayerSpec("RandomZoom", {"height_factor": 0.2}),
        LayerSpec("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.1}),
        LayerSpec("RandomContrast", {"factor": 0.2}),
        LayerSpec("RandomBrightness", {"factor": 0.2, "value_range": [0, 1]}),
        LayerSpec("Resizing", {"height": 16, "width": 16}),
        LayerSpec("Conv2D", {"filters": 8, "kernel_size": 3, "activation": "relu"}),
        LayerSpec("MaxPooling2D"),
        LayerSpec("Flatten"),
        LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
    ))
    summary = summarize(spec)
    assert [r.output_shape for r in summary.rows[:7]] == [(None, 32, 32, 3)] * 6 + [
        (None, 16, 16, 3)]
    assert all(r.params == 0 for r in summary.rows[:7])
    assert summary.rows[7].output_shape == (None, 14, 14, 8)
    assert summary.rows[1].explanation.startswith("no weights: turned by up to 36 degrees")
    assert "in training only" in summary.rows[1].explanation
    assert summary.rows[6].explanation == "no weights: every image resized to 16x16"
    _compare(spec)


def test_center_crop_on_an_image_input():
    spec = ModelSpec((28, 28, 1), (
        LayerSpec("CenterCrop", {"height": 20, "width": 24}),
        LayerSpec("Conv2D", {"filters": 4, "kernel_size": 5}),
        LayerSpec("Flatten"), LayerSpec("Dense", {"units": 2}),
    ))
    summary = summarize(spec)
    assert summary.rows[0].output_shape == (None, 20, 24, 1)
    assert summary.rows[0].explanation == "no weights: the middle 20x24 of every image"
    _compare(spec)
    # Larger than the image: Keras resizes instead of cropping (same shape); the row says
    # so, and the checks call it an error (tests/core/test_checks_augmentation.py).
    bigger = ModelSpec((8, 8, 1), (LayerSpec("CenterCrop", {"height": 16, "width": 16}),))
    row = summarize(bigger).rows[0]
    assert row.output_shape == (None, 16, 16, 1) and "resizes the image" in row.explanation
    _compare(bigger)


def test_digits_row_reshaped_to_an_image_then_each_preprocessing_layer():
    from gui_app.core.catalog import IMAGE_PREPROCESSING_LAYERS, LAYERS

    for kind in ("Rescaling", *IMAGE_PREPROCESSING_LAYERS):
        spec = ModelSpec((64,), (
            LayerSpec("Reshape", {"target_shape": [8, 8, 1]}),
            LayerSpec(kind, dict(LAYERS[kind].suggested)),
            LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10}),
        ))
        assert _compare(spec)[0], kind


@pytest.mark.parametrize("kind", ["RandomFlip", "RandomRotation", "RandomZoom",
                                  "RandomTranslation", "RandomContrast", "RandomBrightness",
                                  "Resizing", "CenterCrop"])
def test_image_layer_on_flat_input_is_explained(kind):
    """Keras builds most of these on (None, 8) (a summary would show them) and fails only
    when `fit` calls them; the summary refuses them at once, with the fix."""
    from gui_app.core.build import build_layer
    from gui_app.core.catalog import LAYERS

    layer = LayerSpec(kind, dict(LAYERS[kind].suggested))
    spec = ModelSpec((8,), (layer, LayerSpec("Dense", {"units": 1})))
    summary = summarize(spec)
    assert not summary.ok and summary.error_index == 0
    message = summary.rows[0].error
    assert f"{kind} needs inputs shaped (height, width, channels); it gets (None, 8)" in message
    assert "image input shape" in message and "Reshape" in message
    with pytest.raises(Exception):  # noqa: B017 - whatever Keras raises, it does raise
        build_layer(layer)(np.zeros((2, 8), "float32"), training=True)


def test_out_of_range_factors_are_row_errors_keras_refuses_too():
    for layer, words in (
        (LayerSpec("RandomRotation", {"factor": 30}), "for 30 degrees write 0.0833"),
        (LayerSpec("RandomZoom", {"height_factor": -1}), "expected a number > -1"),
        (LayerSpec("RandomContrast", {"factor": 20}), "for 20% write 0.2"),
    ):
        spec = ModelSpec((8, 8, 1), (layer,))
        row = summarize(spec).rows[0]
        assert row.error and words in row.error, row.error
        assert not _compare(spec)[0]


def test_resizing_cannot_crop_and_pad_at_once():
    """Keras builds this model and refuses only when the layer runs."""
    from gui_app.core.build import build_layer

    layer = LayerSpec("Resizing", {"height": 4, "width": 6, "crop_to_aspect_ratio": True,
                                   "pad_to_aspect_ratio": True})
    assert "not both" in summarize(ModelSpec((8, 8, 1), (layer,))).rows[0].error
    with pytest.raises(ValueError, match="Only one of"):
        build_layer(layer)(np.zeros((1, 8, 8, 1), "float32"))


def test_contrast_words_say_what_keras_does():
    """Keras 3 reads RandomContrast(0.2) as contrast times 1 to 1.2, never lower, and a
    pair [0.2, 0.2] as 0.8 to 1.2; the row says so, and Keras is measured here."""
    from gui_app.core.build import build_layer

    x = np.random.default_rng(0).random((300, 4, 4, 1)).astype("float32")
    for factor, (low, high) in ((0.2, (1.0, 1.2)), ([0.2, 0.2], (0.8, 1.2))):
        layer = LayerSpec("RandomContrast", {"factor": factor, "value_range": [-10, 10],
                                             "seed": 1})
        row = summarize(ModelSpec((4, 4, 1), (layer,))).rows[0]
        assert f"contrast times a random {low:g} to {high:g}" in row.explanation
        y = keras.ops.convert_to_numpy(build_layer(layer)(x, training=True))
        ratio = y.std(axis=(1, 2, 3)) / x.std(axis=(1, 2, 3))
        assert low - 1e-3 <= ratio.min() < low + 0.02 and high - 0.02 < ratio.max() <= high + 1e-3
