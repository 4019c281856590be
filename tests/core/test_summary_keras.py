"""The summary must equal Keras's own numbers, and never raise for a bad stack."""

from __future__ import annotations

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
