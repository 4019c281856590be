"""The augmentation preview's plain half: when it applies, which samples it shows."""

from __future__ import annotations

import numpy as np

from gui_app.core.augment import leading_layers, pick_samples, preview_problem, sample_labels
from gui_app.core.spec import LayerSpec, ModelSpec

RESHAPE = LayerSpec("Reshape", {"target_shape": [8, 8, 1]})
ROTATE = LayerSpec("RandomRotation", {"factor": 0.1})
TAIL = (LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10}))


def test_the_leading_run_stops_at_the_first_other_layer():
    model = ModelSpec((64,), (RESHAPE, LayerSpec("Rescaling", {"scale": 0.1}), ROTATE,
                              LayerSpec("Conv2D", {"filters": 2, "kernel_size": 3}),
                              LayerSpec("RandomFlip"), *TAIL))
    assert leading_layers(model) == 3
    assert preview_problem(model, (64,)) is None


def test_it_applies_only_to_augmentation_at_the_front_giving_images():
    assert "starts with no augmentation layer" in preview_problem(
        ModelSpec((8, 8, 1), (LayerSpec("Resizing", {"height": 4, "width": 4}), *TAIL)))
    late = ModelSpec((8, 8, 1), (LayerSpec("Conv2D", {"filters": 2, "kernel_size": 3}), ROTATE,
                                 *TAIL))
    assert "comes after a layer with weights" in preview_problem(late)
    flat = ModelSpec((64,), (ROTATE, *TAIL))
    assert "cannot run: RandomRotation needs inputs shaped (height, width, channels)" \
        in preview_problem(flat)
    assert preview_problem(ModelSpec((8, 8, 1), (ROTATE, *TAIL))) is None


def test_the_data_must_fit_the_input_shape():
    model = ModelSpec((64,), (RESHAPE, ROTATE, *TAIL))
    assert preview_problem(model, (64,)) is None
    message = preview_problem(model, (8, 8))
    assert "expects inputs shaped (64,), but each sample of the data is (8, 8)" in message
    assert preview_problem(ModelSpec((None, None, 3), (ROTATE, *TAIL)), (32, 32, 3)) is None


def test_samples_are_one_of_each_class_in_turn():
    y = np.array([2, 2, 0, 1, 0, 2, 1, 1])
    picked = pick_samples(y, len(y), 5)
    assert list(y[picked]) == [0, 1, 2, 0, 1]
    assert list(picked) == [2, 3, 0, 4, 6]
    one_hot = np.eye(3)[y]
    assert list(pick_samples(one_hot, len(y), 5)) == list(picked)
    assert list(pick_samples(None, 9, 3)) == [0, 4, 8]
    assert list(pick_samples(np.linspace(0, 1, 9), 9, 3)) == [0, 4, 8]  # regression
    assert len(pick_samples(y, len(y), 50)) == len(y)


def test_captions_name_the_class():
    y = np.array([0, 1, 1])
    assert sample_labels(y, [1, 0], ("cat", "dog")) == ["dog", "cat"]
    assert sample_labels(np.eye(2)[y], [2], ("cat", "dog")) == ["dog"]
    assert sample_labels(np.array([0.25, 1.5]), [1], None) == ["1.5"]
    assert sample_labels(None, [0, 1], None) == ["", ""]
