"""The X-ray made by the engine: every layer's output for one input, on the session's
worker, checked against Keras run directly on the same model; its frame; the command
through one engine process.

No Qt here.
"""

from __future__ import annotations

import numpy as np
import pytest

from gui_app.core.spec import default_project
from gui_app.core.templates import template
from gui_app.core.training import TrainingSession
from gui_app.core.xray import LayerOutputs, as_row
from gui_app.engine import protocol
from gui_app.engine.client import Engine
from gui_app.engine.units import on_worker
from gui_app.engine.xray import SessionXRay

PROJECT = default_project().replace(
    data={"source": "circle", "samples": 200, "noise": 0.1, "seed": 0, "validation_split": 0.2},
    fit={"epochs": 1, "batch_size": 32, "seed": 1})


def _direct(session: TrainingSession, row: np.ndarray) -> list[np.ndarray]:
    """Each layer's output for `row`, from Keras directly (one sub-model per layer)."""
    import keras

    def run(model):
        return [np.asarray(keras.Model(model.inputs[0], layer.output).predict(
            row, verbose=0))[0] for layer in model.layers]

    return on_worker(session, run)


def test_layer_outputs_travel_as_raw_buffers() -> None:
    outputs = (np.arange(8, dtype=np.float32), np.ones((4, 4, 3), np.float32),
               np.empty(0, np.float32))
    result = LayerOutputs(("dense", "conv", "big"), ("Dense", "Conv2D", "Dense"),
                          ("relu", "relu", ""), ((8,), (4, 4, 3), (200_000,)), outputs,
                          ("", "", "too many"))
    back = protocol.decode(protocol.encode({"kind": "reply", "id": 1, "ok": True,
                                            "value": result}))["value"]
    assert isinstance(back, LayerOutputs) and len(back) == 3
    assert back.shapes == ((8,), (4, 4, 3), (200_000,)) and back.notes[2] == "too many"
    for a, b in zip(back.outputs, outputs):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)
    assert protocol.decode(protocol.encode({"kind": "x", "v": LayerOutputs(note="why")})
                           )["v"].note == "why"


def test_a_row_is_taken_with_or_without_its_batch_axis() -> None:
    assert as_row([0.5, 1.0], (None, 2)).shape == (1, 2)
    assert as_row([[0.5, 1.0]], (None, 2)).shape == (1, 2)
    assert as_row(np.zeros((8, 8, 1)), (None, 8, 8, 1)).shape == (1, 8, 8, 1)
    for bad in ([[1, 2], [3, 4]], [1, 2, 3], [np.nan, 1.0]):
        with pytest.raises(ValueError, match="x:"):
            as_row(bad, (None, 2))


def test_the_dense_models_layer_outputs_match_keras() -> None:
    session = TrainingSession(PROJECT, device="cpu")
    try:
        xray = SessionXRay(session)
        row = np.array([[0.3, -0.7]], np.float32)
        result = xray.outputs(row)
        assert result.types == ("Dense", "Dense", "Dense")
        assert result.activations[0] == "relu" and result.shapes == ((8,), (8,), (1,))
        for got, expected in zip(result.outputs, _direct(session, row)):
            np.testing.assert_allclose(got, expected, atol=1e-5)
        probe = xray._probe
        session.start(1)
        assert session.wait(120)
        after = xray.outputs(row[0])  # the row alone; the weights have changed
        assert xray._probe is probe  # the sub-model is kept for the same model
        for got, expected in zip(after.outputs, _direct(session, row)):
            np.testing.assert_allclose(got, expected, atol=1e-5)
        with pytest.raises(ValueError, match="x:"):
            xray.outputs(np.zeros((1, 3), np.float32))
    finally:
        session.close()


def test_the_cnns_feature_maps_match_keras_and_big_layers_are_left_out() -> None:
    project = template("cnn").project().replace(fit={"epochs": 1, "batch_size": 32, "seed": 0})
    session = TrainingSession(project, device="cpu")
    try:
        xray = SessionXRay(session)
        row = np.asarray(session.dataset.x_train[:1], np.float32)
        result = xray.outputs(row)
        assert result.types == ("Reshape", "Conv2D", "MaxPooling2D", "Flatten", "Dense")
        assert result.shapes[1] == (8, 8, 8) and result.shapes[-1] == (10,)
        for got, expected in zip(result.outputs, _direct(session, row)):
            np.testing.assert_allclose(got, expected, atol=1e-5)
        assert abs(float(result.outputs[-1].sum()) - 1.0) < 1e-4  # softmax
        capped = on_worker(session, lambda _m: xray._probe.run(row, max_layer=100))
        assert capped.outputs[1].shape == (0,) and "512" in capped.notes[1]
        assert capped.notes[0] == "" and capped.outputs[0].shape == (8, 8, 1)
    finally:
        session.close()


# -- through the engine process ------------------------------------------------------------------

def test_the_engine_sends_the_layer_outputs() -> None:
    engine = Engine().start()
    try:
        assert engine.wait_ready(120), engine.death
        session = engine.session(PROJECT)
        result = session.layer_outputs(np.array([[0.1, 0.2]], np.float32))
        assert isinstance(result, LayerOutputs) and result.names[0] == "dense"
        assert [o.shape for o in result.outputs] == [(8,), (8,), (1,)]
        expected = session.predict(np.array([[0.1, 0.2]], np.float32))
        np.testing.assert_allclose(result.outputs[-1], expected[0], atol=1e-5)
        with pytest.raises(Exception, match="x:"):
            session.layer_outputs(np.zeros(5, np.float32))
        session.close()
    finally:
        engine.close()
