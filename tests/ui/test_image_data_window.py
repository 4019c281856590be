"""A folder of images in the window: chosen in the Data tab (classes, counts, pictures and
problems), trained, evaluated (the gallery of mistakes and the confusion matrix's cells)
and predicted one file at a time (a file dialog, a drop, a sample).

The folder is 3 classes x 12 generated shapes of 16x16 pixels plus one damaged file, and
the model a tiny CNN, so training takes a second or two after the engine is up.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from gui_app.core.history_views import confusion_matrix
from gui_app.core.image_sample import ImageSample
from gui_app.core.mistakes import Answers, class_probabilities
from gui_app.core.shapes import write_folder
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RUN_TIMEOUT = 120_000  # ms: the first run of the session starts the engine and Keras


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("images") / "shapes"
    write_folder(root, per_class=12, size=16, seed=3)
    (root / "square" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    return root


def image_project(folder: Path, epochs: int = 2) -> Project:
    return Project(
        "Tiny shapes",
        ModelSpec((16, 16, 1), (
            LayerSpec("Rescaling", {"scale": 1 / 255}),
            LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
            LayerSpec("MaxPooling2D"),
            LayerSpec("Flatten"),
            LayerSpec("Dense", {"units": 3, "activation": "softmax"}),
        )),
        CompileSpec(ObjectSpec("adam"), ObjectSpec("sparse_categorical_crossentropy"),
                    (ObjectSpec("accuracy"),)),
        data={"source": "images", "path": str(folder), "image_size": [16, 16],
              "color_mode": "grayscale", "validation_split": 0.2, "test_split": 0.25,
              "seed": 0},
        fit={"epochs": epochs, "batch_size": 8, "seed": 0})


def choose_images(qtbot, window, monkeypatch, folder: Path | None) -> None:
    panel = window.data_panel
    window.setup_tabs.setCurrentWidget(panel)
    monkeypatch.setattr(panel, "choose_folder", lambda: str(folder) if folder else "")
    panel.source.setCurrentIndex(panel.source.findData("images"))
    assert window.controller.wait_for_data()
    qtbot.waitUntil(lambda: not window.controller.data_loading, timeout=10_000)


# -- pure: the answers behind the gallery ------------------------------------------------------

def test_answers_put_the_most_confident_mistakes_first():
    outputs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8],
                        [0.6, 0.3, 0.1], [0.05, 0.05, 0.9]], np.float32)
    answers = Answers.from_outputs(outputs, np.array([1, 1, 0, 2, 2]))
    assert answers.guess.tolist() == [0, 1, 2, 0, 2]
    assert answers.wrong().tolist() == [0, 2, 3]  # 0.9, 0.8, 0.6 sure
    assert answers.cell(1, 0).tolist() == [0] and answers.cell(2, 2).tolist() == [4]
    assert answers.cell(0, 1).tolist() == []
    # one sigmoid output: [1 - p, p]; logits go through the sigmoid first
    np.testing.assert_allclose(class_probabilities(np.array([[0.8]])), [[0.2, 0.8]])
    np.testing.assert_allclose(class_probabilities(np.array([[0.0]]), from_logits=True),
                               [[0.5, 0.5]])
    with pytest.raises(ValueError, match="one per label"):
        Answers.from_outputs(outputs[:2], np.array([0, 1, 2]))


# -- the Data tab ------------------------------------------------------------------------------

def test_choosing_a_folder_shows_classes_counts_pictures_and_problems(qtbot, window, folder,
                                                                      monkeypatch):
    choose_images(qtbot, window, monkeypatch, folder)
    c, panel = window.controller, window.data_panel
    assert c.project.data["source"] == "images" and c.project.data["path"] == str(folder)
    assert c.dataset is not None and c.dataset.streamed, c.data_error
    # the model's input follows the images (the default 64x64 rgb), in the same undo step
    assert tuple(c.project.model.input_shape) == (64, 64, 3)
    view = panel.folder_view
    assert view.isVisible() and not panel.preview_note.text()
    assert [label.text() for label in view.class_labels][0].startswith("<b>circle</b>: 12 ")
    assert "<b>square</b>: 12 images" in view.class_labels[1].text()
    assert [len(grid.tiles) for grid in view.grids] == [8, 8, 8]
    qtbot.waitUntil(lambda: all(view.loader.image(t.path) is not None
                                for grid in view.grids for t in grid.tiles), timeout=10_000)
    first = view.loader.image(view.grids[0].tiles[0].path)
    assert not first.isNull() and max(first.width(), first.height()) == 48
    assert view.grids[0].height() >= 48
    # the damaged file is named, with the whole list of files in the tooltip
    problems = " ".join(view.problem_texts())
    assert "broken.png" in problems
    assert any("broken.png" in label.toolTip() for label in view.problem_labels)
    # the image settings: "16" means 16 x 16; grayscale gives one channel
    assert not panel.form.fields["image_size"].isHidden()
    assert panel.form.fields["noise"].isHidden()
    size = panel.form.fields["image_size"]
    size.edit.setText("16")
    size.edit.editingFinished.emit()
    assert c.project.data["image_size"] == [16, 16]
    assert tuple(c.project.model.input_shape) == (16, 16, 3)
    mode = panel.form.fields["color_mode"]
    mode.combo.setCurrentIndex(mode.choices.index("grayscale"))
    assert c.project.data["color_mode"] == "grayscale"
    assert tuple(c.project.model.input_shape) == (16, 16, 1)
    c.wait_for_data()
    qtbot.waitUntil(lambda: c.dataset is not None and c.dataset.color_mode == "grayscale",
                    timeout=10_000)
    assert view.loader.gray
    # a size beyond the limit is refused where it is typed
    size.edit.setText("5000, 16")
    size.edit.editingFinished.emit()
    assert c.project.data["image_size"] == [16, 16]
    assert "from 1 to" in panel.form.problems["image_size"].text()
    # one undo takes back the colour mode and the input shape together
    c.undo_stack.undo()
    assert c.project.data.get("color_mode", "rgb") == "rgb"
    assert tuple(c.project.model.input_shape) == (16, 16, 3)


def test_cancelling_the_folder_dialog_keeps_the_data(qtbot, window, monkeypatch):
    before = window.controller.project.data
    choose_images(qtbot, window, monkeypatch, None)
    assert window.controller.project.data == before
    assert window.data_panel.source.currentData() == before["source"]
    form = window.data_panel.form  # the image settings show for a folder of images only
    assert form.fields["image_size"].isHidden() and form.fields["color_mode"].isHidden()
    assert not form.fields["noise"].isHidden()


def test_a_folder_with_one_class_says_why_and_loses_nothing(qtbot, window, tmp_path,
                                                            monkeypatch):
    lonely = tmp_path / "lonely"
    write_folder(lonely, per_class=3, size=8, names=("only", "x", "y"))
    for extra in ("x", "y"):
        for f in (lonely / extra).iterdir():
            f.unlink()
        (lonely / extra).rmdir()
    before = window.controller.project
    choose_images(qtbot, window, monkeypatch, lonely)
    c, panel = window.controller, window.data_panel
    assert c.dataset is None and c.data_error
    assert "class" in panel.status.text() and "c62828" in panel.status.styleSheet()
    assert not panel.folder_view.isVisible()
    c.undo_stack.undo()
    assert c.project == before


def test_a_folder_inside_the_project_folder_is_stored_relative(window, tmp_path):
    panel = window.data_panel
    window.controller.path = tmp_path / "project.layerlab.json"
    inside = tmp_path / "pictures" / "shapes"
    inside.mkdir(parents=True)
    assert panel.stored_path(str(inside)) == "pictures/shapes"
    outside = tmp_path.parent / "elsewhere"
    assert panel.stored_path(str(outside)) == str(outside)
    window.controller.path = None
    assert panel.stored_path(str(inside)) == str(inside)


# -- training, Evaluate and Predict ------------------------------------------------------------

@pytest.fixture
def trained(qtbot, folder, monkeypatch):
    from gui_app.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    win = MainWindow(image_project(folder), load_keras=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    assert win.controller.wait_for_data()
    qtbot.waitUntil(lambda: win.controller.dataset is not None, timeout=10_000)
    panel = win.training_panel
    panel.ensure_views()
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT) as blocker:
        assert panel.train(), panel.message_text
    assert blocker.args[0].reason == "completed", panel.message_text
    yield win
    win.training_panel.shutdown()
    win.controller.wait_for_data()


def check_boundary_plane(qtbot, panel, ds) -> None:
    """The Boundary tab lays its plane through a sample of the images the engine decoded:
    the points are drawn, the model's pictures on it come, and a click on a point X-rays
    that image; the rest of the window keeps the folder."""
    view = panel.boundary
    qtbot.waitUntil(lambda: view.mode == "wide" and len(panel.store) > 0
                    and view.grid is not None, timeout=60_000)
    sample = panel.plane_data
    assert isinstance(sample, ImageSample) and view.dataset is sample
    assert panel.controller.dataset is ds and ds.streamed  # Data, Evaluate, Predict: the folder
    # fewer than 500 training images: all of them, as the model sees them (0 to 255)
    assert sample.x_train.shape == (len(ds.x_train), 16, 16, 1)
    assert sorted(sample.paths_train) == sorted(ds.x_train.paths)
    assert 0 <= sample.x_train.min() and sample.x_train.max() <= 255
    assert sample.x_train.max() > 1 and sample.x_val is not None
    assert view.plane.shape == (16, 16, 1) and view.plane.mode == "pca"
    header = view.header.text()
    assert "Principal components 1 and 2 of the images" in header and "Reading" not in header
    assert f"{len(ds.x_train)} of the {len(ds.x_train)} training images" in header
    coords, rows = view._shown_points["training"]
    assert len(coords) == len(ds.x_train) and len(view._shown_points["validation"][0])
    grid = panel.store.latest()[1]
    assert grid.values.shape[-1] == 3 and np.isfinite(grid.values).all()
    # the engine's probe: the grid's points mapped back to images of the model's shape
    assert panel.plane_source.probe.points.shape[1:] == (16, 16, 1)
    # a click on a drawn point asks about that image itself, and X-rays it
    view.click_at(float(coords[3, 0]), float(coords[3, 1]))
    assert view.clicked_sample is not None and view.clicked_sample[0] == "training"
    name = Path(sample.paths_train[view.clicked_sample[1]]).name
    qtbot.waitUntil(lambda: panel.xray.title.text().startswith(f"Training image {name}"),
                    timeout=30_000)
    assert "true class" in panel.xray.title.text()
    qtbot.waitUntil(lambda: f"training image {name}" in panel.readout.text(), timeout=30_000)
    # two pixels instead of the principal components: named by row and column
    assert view.feature_x.itemText(17) == "pixel (row 2, column 2)"
    view.plane_mode.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.plane.mode == "features" and len(panel.store) == 1,
                    timeout=30_000)
    assert "held at their training mean" in view.header.text()


def test_training_evaluate_gallery_cells_and_predict(qtbot, trained):
    win = trained
    panel, ds = win.training_panel, win.controller.dataset
    assert panel.record is not None and panel.record.epochs_done == 2
    assert "predict an image in the Predict tab" in panel.message_text
    check_boundary_plane(qtbot, panel, ds)
    panel.evaluate()
    dialog = panel.evaluate_dialog
    qtbot.waitUntil(lambda: dialog.matrix is not None and dialog.answers is not None,
                    timeout=60_000)
    gallery = dialog.gallery
    assert dialog.matrix.sum() == len(ds.x_test) == len(dialog.answers)
    wrong = dialog.answers.wrong()
    if len(wrong):
        assert "Misclassified test images" in gallery.title.text()
        assert len(gallery.grid.tiles) == len(wrong)
        sure = dialog.answers.confidence[wrong]
        assert np.all(np.diff(sure) <= 0)  # the most confident mistakes first
        names = ds.class_names
        r = int(wrong[0])
        assert gallery.captions()[0][0].startswith(names[dialog.answers.guess[r]])
        assert gallery.captions()[0][1] == f"true: {names[dialog.answers.truth[r]]}"
        assert gallery.grid.tiles[0].path == ds.x_test.paths[r]
    else:
        assert "No mistakes" in gallery.title.text()
    # the same matrix as the gallery's answers
    np.testing.assert_array_equal(
        dialog.matrix, confusion_matrix(dialog.answers.truth, dialog.answers.guess, 3))
    # a click on the fullest cell shows the images behind it
    i, j = np.unravel_index(int(np.argmax(dialog.matrix)), dialog.matrix.shape)
    rect = dialog.matrix_table.visualItemRect(dialog.matrix_table.item(int(i), int(j)))
    qtbot.mouseClick(dialog.matrix_table.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.center())
    assert len(gallery.grid.tiles) == int(dialog.matrix[i, j]) > 0
    assert all(int(dialog.answers.truth[r]) == i and int(dialog.answers.guess[r]) == j
               for r in gallery.rows)
    assert gallery.all_button.isVisible()
    qtbot.waitUntil(lambda: all(gallery.loader.image(t.path) is not None
                                for t in gallery.grid.tiles), timeout=10_000)
    qtbot.mouseClick(gallery.all_button, Qt.MouseButton.LeftButton)
    assert len(gallery.grid.tiles) == len(wrong) and not gallery.all_button.isVisible()
    dialog.close()

    # Predict: a file from the dialog, as the model sees it, and the class probabilities
    predict = panel.predict_panel
    panel.side_tabs.setCurrentWidget(panel.predict_holder)
    assert predict.images and predict.choose_button.isVisible()
    assert not predict.scroll.isVisible()
    path = ds.x_test.paths[0]
    from PySide6.QtWidgets import QFileDialog

    original = QFileDialog.getOpenFileName
    QFileDialog.getOpenFileName = staticmethod(lambda *a, **k: (path, ""))
    try:
        qtbot.mouseClick(predict.choose_button, Qt.MouseButton.LeftButton)
    finally:
        QFileDialog.getOpenFileName = original
    qtbot.waitUntil(lambda: predict.image_view.bars is not None, timeout=30_000)
    assert predict.image_view.image.shape == (16, 16, 1)
    assert "as the model sees it, 16x16 grayscale" in predict.image_view.caption.text()
    assert not predict.image_view.picture.pixmap().isNull()
    assert "Prediction" in predict.result.text()
    bars = predict.image_view.bars
    assert sorted(bars.labels) == sorted(ds.class_names)
    assert abs(float(bars.values.sum()) - 1.0) < 1e-3
    qtbot.waitUntil(lambda: panel.xray.title.text().startswith("The image "), timeout=30_000)

    # a drop of another file predicts it; a drop of a text file is refused
    other = ds.x_test.paths[1]
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(other)])
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    predict.dropEvent(drop)
    assert predict.image_path == other
    qtbot.waitUntil(lambda: predict.image_view.bars is not None
                    and Path(other).name in predict.image_view.caption.text(), timeout=30_000)
    text = QMimeData()
    text.setUrls([QUrl.fromLocalFile(str(Path(other).with_suffix(".txt")))])
    refused = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, text,
                         Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    predict.dropEvent(refused)
    assert predict.image_path == other

    # a sample of the data: its true class is said with the prediction
    predict.part.setCurrentIndex(predict.part.findData("test"))
    predict.index.setValue(2)
    predict.use_sample()
    assert predict.image_path == ds.x_test.paths[2] and "true class" in predict.truth
    predict.predict()
    qtbot.waitUntil(lambda: "true class" in predict.result.text()
                    and "Prediction" in predict.result.text(), timeout=30_000)


def test_predict_without_a_trained_model_says_so(qtbot, folder, monkeypatch):
    from gui_app.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    win = MainWindow(image_project(folder), load_keras=False)
    qtbot.addWidget(win)
    win.show()
    assert win.controller.wait_for_data()
    qtbot.waitUntil(lambda: win.controller.dataset is not None, timeout=10_000)
    panel = win.training_panel
    panel.ensure_views()
    # no engine session yet: the Boundary tab says where its plane will come from
    assert "sample of them" in panel.boundary.header.text()
    assert panel.boundary.mode == "none" and panel.plane_data is None
    predict = panel.predict_panel
    qtbot.waitUntil(lambda: predict.images, timeout=10_000)
    predict.predict()
    assert "Choose an image file first" in predict.result.text()
    predict.predict_file(str(folder / "circle" / "circle_0000.png"))
    assert "train it first" in predict.result.text()
    win.training_panel.shutdown()
