"""The Data tab's augmentation preview, driven with qtbot: it shows for augmentation at the
front of an image model and hides otherwise, draws what the engine sends, re-rolls on
click and says what went wrong; in the real window, through the real engine, without the
window importing Keras."""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from gui_app.core.augment import AugmentedSamples
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
from gui_app.ui.augment_preview import AugmentPreview, to_qimage
from gui_app.ui.controller import ProjectController
from gui_app.ui.data_panel import DataPanel

FRONT = (LayerSpec("Reshape", {"target_shape": [8, 8, 1]}),
         LayerSpec("RandomRotation", {"factor": 0.15}),
         LayerSpec("RandomZoom", {"height_factor": 0.2}))
TAIL = (LayerSpec("Conv2D", {"filters": 8, "kernel_size": 3, "activation": "relu"}),
        LayerSpec("Flatten"), LayerSpec("Dense", {"units": 10, "activation": "softmax"}))


def digits_project(*front: LayerSpec) -> Project:
    return Project("Augmented digits", ModelSpec((64,), (*(front or FRONT), *TAIL)),
                   CompileSpec(ObjectSpec("adam"), ObjectSpec("sparse_categorical_crossentropy"),
                               (ObjectSpec("accuracy"),)),
                   data={"source": "digits", "seed": 0, "validation_split": 0.2},
                   fit={"epochs": 2, "batch_size": 32, "seed": 0})


class FakeEngine:
    """Answers `augment_samples` without Keras: each draw mirrors the images and adds the
    draw's number, so every re-roll differs."""

    def __init__(self, fail: str = "") -> None:
        self.calls: list[dict] = []
        self.started = 0
        self.fail = fail

    def start_engine(self) -> None:
        self.started += 1

    def call(self, method, args=None, timeout=120):
        assert method == "augment_samples"
        self.calls.append(args)
        if self.fail:
            raise ValueError(self.fail)
        images = np.asarray(args["x"]).reshape(-1, 8, 8, 1)
        draw = len(self.calls)
        return AugmentedSamples(images, images[:, :, ::-1] + draw, 100 + draw, ("reshape",))


@pytest.fixture
def panel(qtbot):
    controller = ProjectController(digits_project())
    assert controller.wait_for_data()
    made = DataPanel(controller)
    qtbot.addWidget(made)
    made.resize(380, 900)
    made.show()
    qtbot.waitExposed(made)
    yield made
    made.augment_preview.wait()


def test_to_qimage_maps_low_to_black_and_high_to_white():
    gray = to_qimage(np.array([[[0.0], [16.0]], [[8.0], [40.0]]]), 0.0, 16.0)
    assert gray.format() == QImage.Format.Format_Grayscale8 and gray.size().width() == 2
    assert [gray.pixelColor(x, y).value() for y in range(2) for x in range(2)] == [0, 255, 127,
                                                                                   255]
    rgb = to_qimage(np.array([[[1.0, 0.0, 0.5]]]), 0.0, 1.0)
    color = rgb.pixelColor(0, 0)
    assert (color.red(), color.green(), color.blue()) == (255, 0, 127)


def test_the_preview_draws_what_the_engine_sends_and_rerolls(qtbot, panel):
    preview: AugmentPreview = panel.augment_preview
    assert preview.isVisible() and preview.problem() is None
    engine = FakeEngine()
    preview.set_engine(engine)
    qtbot.waitUntil(lambda: preview.result is not None, timeout=5000)
    sent = engine.calls[0]
    assert sent["x"].shape == (8, 64) and sent["seed"] is None and engine.started == 1
    assert [layer["type"] for layer in sent["model"]["layers"][:3]] == [
        "Reshape", "RandomRotation", "RandomZoom"]
    dataset = panel.controller.dataset
    np.testing.assert_array_equal(sent["x"][0], dataset.x_train[np.flatnonzero(
        dataset.y_train == 0)[0]])
    grid = preview.grid
    assert [caption for _, _, caption in grid.pairs] == [str(d) for d in range(8)]
    assert "through RandomRotation and RandomZoom (training only)" in preview.note.text()
    assert panel.preview_note.isHidden()  # its "No preview" would only confuse
    assert grid.height() == grid.height_for(grid.width()) > 0
    first = preview.result
    qtbot.mouseClick(preview.reroll, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: preview.result is not first, timeout=5000)
    assert len(engine.calls) == 2 and preview.result.seed == 102
    # The pictures on screen follow the draw: the first pair's middle pixels, above and
    # below, are the original's and the draw's, both in the original's black-to-white range.
    shot = grid.grab().toImage()
    size = grid.cell(grid.width())
    before, after = preview.result.original[0], preview.result.augmented[0]
    low, high = before.min(), before.max()

    def gray(value: float) -> int:
        return int(np.clip((value - low) / (high - low) * 255.0, 0, 255))

    at = size // 2 + size // 16  # inside image pixel (4, 4) of 8
    assert abs(shot.pixelColor(at, at).value() - gray(before[4, 4, 0])) <= 1
    assert abs(shot.pixelColor(at, size + 2 + at).value() - gray(after[4, 4, 0])) <= 1
    assert gray(before[4, 4, 0]) != gray(after[4, 4, 0])


def test_it_hides_without_augmentation_at_the_front_of_an_image_model(qtbot, panel):
    preview = panel.augment_preview
    engine = FakeEngine()
    preview.set_engine(engine)
    qtbot.waitUntil(lambda: preview.result is not None, timeout=5000)
    controller = panel.controller
    plain = digits_project(LayerSpec("Reshape", {"target_shape": [8, 8, 1]}))
    controller.edit(plain, "No augmentation")
    assert not preview.isVisible() and "no augmentation layer" in preview.problem()
    assert not panel.preview_note.isHidden()
    flat = digits_project(LayerSpec("RandomRotation", {"factor": 0.1}))
    controller.edit(flat, "Augmentation on rows")
    assert not preview.isVisible() and "cannot run" in preview.problem()
    controller.edit(digits_project(), "Back")
    assert preview.isVisible()
    controller.edit(replace(digits_project(), data={"source": "circle"}), "2-D data")
    assert controller.wait_for_data()
    qtbot.waitUntil(lambda: not preview.isVisible(), timeout=5000)
    assert "each sample of the data is (2,)" in preview.problem()
    calls = len(engine.calls)
    qtbot.wait(2 * 250)
    assert len(engine.calls) == calls  # nothing is asked while hidden


def test_a_change_of_the_front_layers_asks_again(qtbot, panel):
    preview = panel.augment_preview
    engine = FakeEngine()
    preview.set_engine(engine)
    qtbot.waitUntil(lambda: len(engine.calls) == 1 and preview.result is not None, timeout=5000)
    controller = panel.controller
    controller.set_layer_arg(1, "factor", 0.3)
    qtbot.waitUntil(lambda: len(engine.calls) == 2, timeout=5000)
    assert engine.calls[1]["model"]["layers"][1]["factor"] == 0.3
    controller.set_layer_arg(3, "filters", 4)  # behind the front: no new draw
    qtbot.wait(2 * 250)
    assert len(engine.calls) == 2


def test_an_engine_error_is_said_in_words(qtbot, panel):
    preview = panel.augment_preview
    preview.set_engine(FakeEngine(fail="the model's front cannot run"))
    qtbot.waitUntil(lambda: "Could not draw" in preview.note.text(), timeout=5000)
    assert "the model's front cannot run" in preview.note.text()
    assert preview.reroll.isEnabled()


def test_without_an_engine_it_says_so(qtbot):
    controller = ProjectController(digits_project())
    assert controller.wait_for_data()
    preview = AugmentPreview(controller)
    qtbot.addWidget(preview)
    preview.show()
    qtbot.waitUntil(lambda: "needs the training engine" in preview.note.text(), timeout=5000)


def test_in_the_window_the_engine_draws_the_digits(qtbot, window):
    # Keras is in this process already when the run collected tests that use it; the
    # window's own launch-to-export check runs in a fresh process (test_engine_window.py).
    heavy_before = {"keras", "tensorflow"} & set(sys.modules)
    window.controller.reset(digits_project())
    assert window.controller.wait_for_data()
    window.setup_tabs.setCurrentWidget(window.data_panel)
    preview = window.data_panel.augment_preview
    qtbot.waitUntil(lambda: preview.result is not None, timeout=120_000)
    result = preview.result
    assert result.original.shape == result.augmented.shape == (8, 8, 8, 1)
    assert not np.allclose(result.original, result.augmented)
    qtbot.mouseClick(preview.reroll, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: preview.result is not result, timeout=60_000)
    assert preview.result.seed != result.seed
    np.testing.assert_array_equal(preview.result.original, result.original)
    assert {"keras", "tensorflow"} & set(sys.modules) == heavy_before


def test_factor_and_range_fields_read_what_a_person_types():
    from gui_app.core.catalog import LAYERS
    from gui_app.ui.fields import make_field, parse_text

    factor = LAYERS["RandomRotation"].param("factor")
    assert parse_text(factor, "0.1") == (0.1, None)
    assert parse_text(factor, "-0.1, 0.2") == ([-0.1, 0.2], None)
    value, problem = parse_text(factor, "30")
    assert value is None and "for 30 degrees write 0.0833" in problem
    width = LAYERS["RandomZoom"].param("width_factor")
    assert parse_text(width, "") == (None, None)  # empty: the same as the height's
    value_range = LAYERS["RandomBrightness"].param("value_range")
    assert parse_text(value_range, "0, 1") == ([0, 1], None)
    assert "low first" in parse_text(value_range, "1, 0")[1]
    field = make_field(factor)
    field.set_value([-0.1, 0.2])
    assert field.edit.text() == "-0.1, 0.2"
