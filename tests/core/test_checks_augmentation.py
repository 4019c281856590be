"""The checks on image layers: each fires on its mistake, says what to do, and its fix works."""

from __future__ import annotations

from gui_app.core.checks import CODES, ERROR, WARNING, has_errors, run_checks
from gui_app.core.spec import CompileSpec, DataInfo, LayerSpec, ModelSpec, ObjectSpec, Project

DIGITS = DataInfo((64,), (), "integer", 10, "multiclass", (140,) * 10)
TAIL = (("Flatten", {}), ("Dense", {"units": 10, "activation": "softmax"}))


def project(layers, shape=(8, 8, 1)) -> Project:
    return Project("t", ModelSpec(shape, tuple(LayerSpec(t, a) for t, a in layers)),
                   CompileSpec(ObjectSpec("adam"), ObjectSpec("sparse_categorical_crossentropy"),
                               (ObjectSpec("accuracy"),)))


def finding(p, code, data=None):
    return next(f for f in run_checks(p, data) if f.code == code)


def apply(p, found, label_part):
    return next(x for x in found.fixes if label_part in x.label).apply(p)


def test_augmentation_in_front_of_an_image_model_is_clean():
    p = project((("RandomFlip", {"mode": "horizontal"}), ("RandomRotation", {"factor": 0.1}),
                 ("RandomZoom", {"height_factor": 0.2}), ("Resizing", {"height": 16, "width": 16}),
                 ("CenterCrop", {"height": 12, "width": 12}),
                 ("Conv2D", {"filters": 4, "kernel_size": 3}), *TAIL))
    assert run_checks(p) == []


def test_augmentation_on_flat_input_says_why_and_offers_a_reshape():
    p = project((("RandomRotation", {"factor": 0.1}), *TAIL), shape=(64,))
    found = finding(p, "layer", DIGITS)
    assert found.severity == ERROR and found.layer_index == 0
    assert "RandomRotation needs inputs shaped (height, width, channels); it gets (None, 64)" \
        in found.message
    assert "image input shape" in found.message
    assert [f.label for f in found.fixes] == ["Insert Reshape to [8, 8, 1] before it",
                                              "Remove RandomRotation"]
    fixed = apply(p, found, "Reshape")
    assert fixed.model.layers[0] == LayerSpec("Reshape", {"target_shape": [8, 8, 1]})
    assert not has_errors(run_checks(fixed, DIGITS))
    removed = apply(p, found, "Remove")
    assert [layer.type for layer in removed.model.layers] == ["Flatten", "Dense"]


def test_grayscale_images_without_a_channel_axis_get_one():
    p = project((("RandomFlip", {}), *TAIL), shape=(28, 28))
    found = finding(p, "layer")
    assert "it gets (None, 28, 28)" in found.message
    fixed = apply(p, found, "Reshape to [28, 28, 1]")
    assert not has_errors(run_checks(fixed))


def test_colour_rows_read_as_rgb_images():
    p = project((("RandomContrast", {"factor": 0.2}), *TAIL), shape=(3 * 16 * 16,))
    labels = [f.label for f in finding(p, "layer").fixes]
    assert labels[0] == "Insert Reshape to [16, 16, 3] before it"


def test_rotation_in_degrees_is_answered_with_the_fraction():
    p = project((("RandomRotation", {"factor": 30}), ("Conv2D", {"filters": 2, "kernel_size": 3}),
                 *TAIL))
    found = finding(p, "layer")
    assert "factor: expected a number >= -1 and <= 1" in found.message
    assert "got 30; factor is a fraction of a full turn: for 30 degrees write 0.0833" \
        in found.message
    fixed = apply(p, found, "Set factor to 0.0833")
    assert fixed.model.layers[0].args["factor"] == 0.0833
    assert run_checks(fixed) == []


def test_zoom_out_of_range_and_in_percent():
    minus_one = project((("RandomZoom", {"height_factor": -1}), *TAIL))
    found = finding(minus_one, "layer")
    assert "height_factor: expected a number > -1 and <= 1" in found.message
    assert found.fixes == ()  # no value to guess: the message says the range
    percent = project((("RandomZoom", {"height_factor": [-20, 20]}), *TAIL))
    found = finding(percent, "layer")
    assert "for -20% to 20% write [-0.2, 0.2]" in found.message
    assert apply(percent, found, "Set height_factor").model.layers[0].args["height_factor"] \
        == [-0.2, 0.2]


def test_contrast_below_zero_and_bad_value_range():
    p = project((("RandomContrast", {"factor": -0.2}), *TAIL))
    assert "expected a number >= 0 and <= 1" in finding(p, "layer").message
    p = project((("RandomBrightness", {"factor": 0.2, "value_range": [1, 0]}), *TAIL))
    assert "value_range: expected a list of 2 numbers [low, high], low first, got [1, 0]" \
        in finding(p, "layer").message


def test_center_crop_larger_than_the_image_is_an_error_with_fixes():
    p = project((("CenterCrop", {"height": 12, "width": 6}), *TAIL))
    found = finding(p, "crop-larger-than-input")
    assert CODES["crop-larger-than-input"] == ERROR == found.severity
    assert "keeps the middle 12x6 of images that are only 8x8" in found.message
    assert "resizes each image up instead of cropping it" in found.message
    cropped = apply(p, found, "Crop to 8x6")
    assert dict(cropped.model.layers[0].args) == {"height": 8, "width": 6}
    assert run_checks(cropped) == []
    resized = apply(p, found, "Use Resizing")
    assert resized.model.layers[0] == LayerSpec("Resizing", {"height": 12, "width": 6})
    assert run_checks(resized) == []


def test_crop_that_fits_or_unknown_size_is_quiet():
    assert run_checks(project((("CenterCrop", {"height": 8, "width": 8}), *TAIL))) == []
    p = project((("CenterCrop", {"height": 40, "width": 40}), *TAIL), shape=(None, None, 3))
    assert "crop-larger-than-input" not in [f.code for f in run_checks(p)]


def test_augmentation_after_a_convolution_is_a_warning_with_a_move():
    p = project((("Conv2D", {"filters": 2, "kernel_size": 3, "padding": "same"}),
                 ("RandomFlip", {}), *TAIL))
    found = finding(p, "augmentation-late")
    assert found.severity == WARNING and found.layer_index == 1
    assert "RandomFlip random_flip comes after Conv2D conv2d" in found.message
    moved = apply(p, found, "Move it before conv2d")
    assert [layer.type for layer in moved.model.layers][:2] == ["RandomFlip", "Conv2D"]
    assert run_checks(moved) == []
    # Rescaling and a Reshape in front have no weights: augmentation after them is fine.
    fine = project((("Reshape", {"target_shape": [8, 8, 1]}), ("Rescaling", {"scale": 0.1}),
                    ("RandomFlip", {}), *TAIL), shape=(64,))
    assert run_checks(fine, DIGITS) == []


def test_late_augmentation_can_be_intended():
    from gui_app.core.checks import INTENDABLE

    assert "augmentation-late" in INTENDABLE and "crop-larger-than-input" not in INTENDABLE
