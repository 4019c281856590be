"""The augmentation preview made by the engine: the leading image layers run on a few
samples as predict and as training run them, checked against Keras directly; a seed
gives the same draw, a fresh one a re-roll; mistakes are answered in words; the command
through one engine process; and models with these layers train in a session.

No Qt here.
"""

from __future__ import annotations

import numpy as np
import pytest

from gui_app.core.augment import AugmentedSamples, pick_samples
from gui_app.core.data import load_dataset
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
from gui_app.core.training import Failed, Finished, TrainingSession
from gui_app.engine import protocol
from gui_app.engine.augment import augment_samples
from gui_app.engine.client import Engine

keras = pytest.importorskip("keras")

RESHAPE = LayerSpec("Reshape", {"target_shape": [8, 8, 1]})
TAIL = (LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
        LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10, "activation": "softmax"}))


@pytest.fixture(scope="module")
def digits():
    data = load_dataset({"source": "digits", "seed": 0})
    return data.x_train[pick_samples(data.y_train, len(data.y_train))]


def model(*front: LayerSpec) -> ModelSpec:
    return ModelSpec((64,), (RESHAPE, *front, *TAIL))


def test_rotation_and_zoom_change_the_training_view_only(digits):
    spec = model(LayerSpec("RandomRotation", {"factor": 0.1}),
                 LayerSpec("RandomZoom", {"height_factor": 0.2}))
    result = augment_samples(spec.to_json(), digits, seed=7)
    assert isinstance(result, AugmentedSamples)
    assert result.layers == ("reshape", "random_rotation", "random_zoom")
    assert result.original.shape == result.augmented.shape == (8, 8, 8, 1)
    assert result.original.dtype == np.float32 and result.seed == 7
    # Predict sees the images unchanged (only reshaped); training sees them turned.
    np.testing.assert_array_equal(result.original, digits.reshape(-1, 8, 8, 1))
    assert not np.allclose(result.augmented, result.original)
    # The same seed draws the same images; a fresh seed (a re-roll) others.
    again = augment_samples(spec, digits, seed=7)
    np.testing.assert_array_equal(again.augmented, result.augmented)
    reroll = augment_samples(spec, digits)
    assert reroll.seed != 7 and not np.allclose(reroll.augmented, result.augmented)


def test_the_draw_is_what_keras_layers_with_those_seeds_give(digits):
    spec = model(LayerSpec("RandomRotation", {"factor": 0.2, "fill_mode": "constant"}))
    result = augment_samples(spec, digits, seed=11)
    layer = keras.layers.RandomRotation(0.2, fill_mode="constant", seed=11 + 1)
    expected = layer(digits.reshape(-1, 8, 8, 1), training=True)
    np.testing.assert_allclose(result.augmented, keras.ops.convert_to_numpy(expected),
                               atol=1e-6)


def test_a_flip_mirrors_each_image_or_leaves_it(digits):
    result = augment_samples(model(LayerSpec("RandomFlip", {"mode": "horizontal"})), digits,
                             seed=3)
    images = digits.reshape(-1, 8, 8, 1)
    mirrored = 0
    for got, image in zip(result.augmented, images):
        if np.array_equal(got, image[:, ::-1]) and not np.array_equal(image, image[:, ::-1]):
            mirrored += 1
        else:
            np.testing.assert_array_equal(got, image)
    assert 0 < mirrored < len(images)  # a fair coin per image, for this seed


def test_resizing_and_cropping_apply_to_both_views(digits):
    spec = model(LayerSpec("Rescaling", {"scale": 1 / 16}),
                 LayerSpec("Resizing", {"height": 16, "width": 16}),
                 LayerSpec("RandomContrast", {"factor": 0.5, "value_range": [0, 1]}),
                 LayerSpec("CenterCrop", {"height": 12, "width": 10}))
    result = augment_samples(spec, digits[:3], seed=1)
    assert result.original.shape == result.augmented.shape == (3, 12, 10, 1)
    assert result.original.max() <= 1.0  # rescaled to 0..1 from the digits' 0..16
    assert not np.allclose(result.augmented, result.original)  # contrast, in training only


@pytest.mark.parametrize(("front", "samples", "words"), [
    ((), None, "starts with no augmentation layer"),
    ((LayerSpec("RandomRotation", {"factor": 2.0}),), None, "factor: expected a number"),
    ((LayerSpec("RandomFlip"),), np.zeros((2, 8, 8), np.float32),
     "expects inputs shaped (64,), but each sample of the data is (8, 8)"),
    ((LayerSpec("RandomFlip"),), np.zeros((65, 64), np.float32), "x: expected 1 to 64 samples"),
    ((LayerSpec("RandomFlip"),), np.full((1, 64), np.nan, np.float32), "NaN"),
])
def test_mistakes_are_answered_in_words(digits, front, samples, words):
    with pytest.raises(ValueError) as caught:
        augment_samples(model(*front), digits if samples is None else samples, seed=0)
    assert words in str(caught.value)


def test_a_bad_seed_is_refused(digits):
    with pytest.raises(ValueError, match="seed: expected an integer"):
        augment_samples(model(LayerSpec("RandomFlip")), digits, seed=-1)


def test_augmented_samples_travel_as_raw_buffers():
    sent = AugmentedSamples(np.zeros((2, 4, 4, 3), np.float32), np.ones((2, 4, 4, 3), np.float32),
                            5, ("random_flip",))
    back = protocol.decode(protocol.encode({"kind": "reply", "id": 1, "ok": True,
                                            "value": sent}))["value"]
    assert isinstance(back, AugmentedSamples) and back.seed == 5
    assert back.layers == ("random_flip",)
    np.testing.assert_array_equal(back.augmented, sent.augmented)


def test_the_engine_answers_augment_samples(digits):
    engine = Engine().start()
    try:
        assert engine.wait_ready(120), engine.death
        spec = model(LayerSpec("RandomZoom", {"height_factor": 0.3}))
        first = engine.augment_samples(spec, digits, seed=2)
        assert isinstance(first, AugmentedSamples) and first.augmented.shape == (8, 8, 8, 1)
        np.testing.assert_array_equal(first.augmented,
                                      augment_samples(spec, digits, seed=2).augmented)
        other = engine.augment_samples(spec, digits)  # no seed: a re-roll
        assert not np.allclose(other.augmented, first.augmented)
        with pytest.raises(Exception, match="starts with no augmentation layer"):
            engine.augment_samples(model(), digits)
    finally:
        engine.close()


def test_a_model_with_image_layers_trains_in_a_session():
    project = Project(
        "Augmented digits",
        model(LayerSpec("RandomRotation", {"factor": 0.05}),
              LayerSpec("RandomZoom", {"height_factor": 0.1}),
              LayerSpec("RandomTranslation", {"height_factor": 0.1, "width_factor": 0.1}),
              LayerSpec("Resizing", {"height": 10, "width": 10})),
        CompileSpec(ObjectSpec("adam"), ObjectSpec("sparse_categorical_crossentropy"),
                    (ObjectSpec("accuracy"),)),
        data={"source": "digits", "seed": 0, "validation_split": 0.2},
        fit={"epochs": 2, "batch_size": 64, "seed": 0})
    events: list = []
    session = TrainingSession(project, device="cpu")
    try:
        session.subscribe(events.append)
        session.start()
        assert session.wait(120)
        assert not [e for e in events if isinstance(e, Failed)]
        assert isinstance(events[-1], Finished)
        history = session.history
        assert len(history["loss"]) == 2 and np.all(np.isfinite(history["loss"]))
        assert history["loss"][1] < history["loss"][0]
        out = session.predict(session.dataset.x_val[:4])
        assert out.shape == (4, 10)
    finally:
        session.close()
