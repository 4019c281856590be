"""Training > Compare With: two models side by side, through the real window and engine.

The circle lesson (two inputs) is A; Compare With > Duplicate This One makes B, changed in
the compare window; Train runs both in the engine on the same data split and seed. Both
boundary views get pictures, both runs' curves sit on the shared plots labelled A and B,
Export PNG writes the whole comparison, and the window never imports Keras. A bad second
project file is refused in words, as File > Open refuses it, and the window stays as it was.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage

from gui_app.core.data import load_dataset
from gui_app.core.project import save_project
from gui_app.core.spec import LayerSpec, ModelSpec, default_project
from gui_app.core.training import SessionError
from gui_app.resources import examples_dir
from gui_app.ui import messages as say
from gui_app.ui.compare import DEFAULT_SIZE
from gui_app.ui.compare_plots import shared_quantities
from gui_app.ui.compare_projects import (
    b_for_comparison,
    hidden_units,
    parse_rate,
    parse_units,
    shared_data,
    verdict,
    with_hidden,
    with_learning_rate,
)

from .files_support import choose_file, close_quietly, dialog_text, make_window, refuse_downloads

pytest.importorskip("pyqtgraph")

RUN_TIMEOUT = 120_000  # ms: the engine may still be loading Keras on a slow machine
HEAVY = ("keras", "tensorflow", "jax", "torch")
CIRCLE = examples_dir() / "02a_circle.layerlab.json"


def heavy_modules() -> set[str]:
    return {m for m in HEAVY if m in sys.modules}


def open_compare(qtbot, win):
    action = win.compare.action
    assert action in win.training_menu.actions() and action.isEnabled()
    action.trigger()
    dialog = win.compare.dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    return dialog


def region_colors(image: QImage, widget, sheet) -> int:
    """How many different colours the exported picture has where `widget` is."""
    corner = widget.mapTo(sheet, QPoint(0, 0))
    ratio = image.width() / sheet.width()
    x0, y0 = int(corner.x() * ratio), int(corner.y() * ratio)
    w, h = int(widget.width() * ratio), int(widget.height() * ratio)
    seen = set()
    for y in range(y0, y0 + h, max(1, h // 40)):
        for x in range(x0, x0 + w, max(1, w // 40)):
            seen.add(image.pixel(x, y))
    return len(seen)


def test_compare_a_duplicate_trains_both_on_the_same_data(qtbot, tmp_path, monkeypatch):
    refuse_downloads(monkeypatch)
    heavy_before = heavy_modules()
    win = make_window(qtbot)
    dialog = None
    try:
        assert win.files.open_example(CIRCLE, confirm=False)
        qtbot.waitUntil(lambda: win.controller.dataset is not None, timeout=RUN_TIMEOUT)
        win.controller.set_fit({"epochs": 4}, "Fewer epochs for the test")  # A: 4 epochs
        a_before = win.controller.project
        dialog = open_compare(qtbot, win)
        # its default size fits a 1280 x 720 screen with the frame, and any smaller screen
        assert DEFAULT_SIZE[0] <= 1260 and DEFAULT_SIZE[1] <= 680
        room = dialog.screen().availableGeometry()
        assert dialog.width() <= min(room.width(), 1280), dialog.size()
        assert dialog.height() <= min(room.height(), 720), dialog.size()
        assert not dialog.train_button.isEnabled()  # no B yet
        assert dialog.message == say.COMPARE_CHOOSE_B

        qtbot.mouseClick(dialog.duplicate_button, Qt.MouseButton.LeftButton)
        assert dialog.b_source is not None
        assert dialog.units_edit.text() == "8, 8"  # the lesson's two hidden layers
        assert dialog.activation_combo.currentData() == "relu"
        assert dialog.rate_edit.text() == "0.03" and dialog.epochs_spin.value() == 4
        # a field that is not valid says so, and Train waits
        dialog.units_edit.setText("8, x")
        assert not dialog.train_button.isEnabled()
        assert "Hidden units" in dialog.message and "'x'" in dialog.message
        dialog.units_edit.setText("16, 8, 8")  # B: a third hidden layer, the first wider
        dialog.rate_edit.setText("0.01")
        dialog.epochs_spin.setValue(3)
        qtbot.waitUntil(dialog.train_button.isEnabled, timeout=RUN_TIMEOUT)  # engine ready
        assert "A: 2-8-8-1 relu" in dialog.sides["A"].title.text()
        assert "B: 2-16-8-8-1 relu, Adam 0.01" in dialog.sides["B"].title.text()

        qtbot.mouseClick(dialog.train_button, Qt.MouseButton.LeftButton)
        assert dialog.running and dialog.stop_button.isEnabled()
        assert not dialog.duplicate_button.isEnabled()  # B holds still while it trains
        qtbot.waitUntil(lambda: not dialog.running, timeout=RUN_TIMEOUT)
        a, b = dialog.sides["A"], dialog.sides["B"]
        assert a.state == "done" and b.state == "done", (a.result.text(), b.result.text())
        assert a.result.text().startswith("A done: 4 epochs")
        assert b.result.text().startswith("B done: 3 epochs")
        assert "B" in dialog.verdict.text() and "validation accuracy" in dialog.verdict.text()

        # both boundary views got pictures of their own model
        for side in (a, b):
            assert side.stack.currentWidget() is side.view
            assert side.view.grid is not None and side.view.images_shown > 0, side.name
        assert not np.array_equal(a.view.grid.values, b.view.grid.values)

        # both runs' curves on the shared plots, labelled A and B, one point per epoch
        curves = dialog.curves
        assert list(curves.plots) == ["loss", "accuracy"]
        for name in ("loss", "accuracy"):
            assert curves.points(name, "A", "train") == 4 and curves.points(name, "A", "val") == 4
            assert curves.points(name, "B", "train") == 3 and curves.points(name, "B", "val") == 3
        assert curves.curves[("loss", "A", "train")].name() == "A training"
        assert curves.curves[("loss", "B", "val")].name() == "B validation"
        legend = curves.legend.text()
        assert "A: 2-8-8-1 relu, Adam 0.03" in legend and "B: 2-16-8-8-1 relu, Adam 0.01" in legend
        assert np.allclose(curves.curves[("loss", "B", "train")].yData, b.history["loss"])

        # the same data split and seed: B took A's data section and fit seed
        assert a.project.data == b.project.data
        assert a.project.fit["seed"] == b.project.fit["seed"] == 0
        assert a.started.samples == b.started.samples == 400  # the engine's training parts
        mine = load_dataset(b.project.data, dialog.b_base)  # B's data, loaded afresh
        theirs = win.controller.dataset
        assert len(mine.x_val) == len(theirs.x_val) == 100
        np.testing.assert_array_equal(mine.x_val[:5], theirs.x_val[:5])
        np.testing.assert_array_equal(mine.y_train[:20], theirs.y_train[:20])
        # B's changes stayed in the compare window: A is the project it was
        assert [layer.args["units"] for layer in b.project.model.layers] == [16, 8, 8, 1]
        assert win.controller.project == a_before and a.project == a_before

        # Export PNG: one readable picture of the whole comparison, with both halves
        target = tmp_path / "circle-compare.png"
        choose_file(monkeypatch, target, "getSaveFileName")
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
        assert dialog.exported == target and target.is_file(), dialog.message
        image = QImage(str(target))
        assert not image.isNull()
        ratio = image.width() / dialog.sheet.width()
        assert ratio >= 1 and abs(image.height() - dialog.sheet.height() * ratio) <= 1
        assert image.width() >= a.view.width() + b.view.width() + dialog.curves.width()
        for widget in (a.view, b.view, dialog.curves):
            assert region_colors(image, widget, dialog.sheet) > 20, widget.objectName()
        assert not list(tmp_path.glob(".circle-compare*"))  # no temporary file left

        # the window never imported Keras: the engine did the training
        assert heavy_modules() == heavy_before
    finally:
        if dialog is not None:
            dialog.shutdown()
        win.training_panel.shutdown()
        close_quietly(win)


def test_a_bad_second_project_file_is_refused_in_words(qtbot, tmp_path, monkeypatch):
    refuse_downloads(monkeypatch)
    win = make_window(qtbot)
    dialog = None
    try:
        project_before = win.controller.project
        dialog = open_compare(qtbot, win)
        bad = tmp_path / "bad.layerlab.json"
        bad.write_text(json.dumps({
            "format": "layerlab-project", "version": 1,
            "model": {"input_shape": [2], "layers": [{"type": "Dense", "units": -5}]}}))
        choose_file(monkeypatch, bad)
        qtbot.mouseClick(dialog.open_button, Qt.MouseButton.LeftButton)
        box = dialog.last_dialog
        text = dialog_text(box)
        assert box.windowTitle() == say.COMPARE_CANNOT_OPEN
        assert "units" in text and "Traceback" not in text, text
        assert dialog.b_source is None and "bad.layerlab.json" in dialog.message
        assert not dialog.train_button.isEnabled()
        box.close()

        (tmp_path / "half.layerlab.json").write_text('{"format": "layerlab-project", "ver')
        assert not dialog.open_file(tmp_path / "half.layerlab.json")
        assert "not valid JSON" in dialog_text(dialog.last_dialog)
        dialog.last_dialog.close()
        assert not dialog.open_file(tmp_path / "missing.layerlab.json")
        assert dialog.b_source is None
        dialog.last_dialog.close()

        # the window is intact: a good file opens as B, and A is still the main project
        deeper = default_project().replace(name="Deeper")
        deeper = deeper.replace(model=with_hidden(deeper.model, [16, 16, 16], "tanh"))
        good = save_project(deeper, tmp_path / "deeper.layerlab.json")
        assert dialog.open_file(good)
        assert dialog.b_source.name == "Deeper" and dialog.b_base == tmp_path.resolve()
        assert "deeper.layerlab.json" in dialog.b_about.text()
        assert dialog.units_edit.text() == "16, 16, 16"
        assert dialog.activation_combo.currentData() == "tanh"
        assert dialog.isVisible() and win.isVisible()
        assert win.controller.project == project_before
    finally:
        if dialog is not None:
            dialog.shutdown()
        close_quietly(win)


def test_a_copy_trains_as_a_and_failures_are_said_in_words(qtbot, monkeypatch):
    refuse_downloads(monkeypatch)
    project = default_project()
    project = project.replace(data={**project.data, "samples": 120},
                              fit={"epochs": 2, "batch_size": 16, "seed": 0})
    win = make_window(qtbot, project=project)
    dialog = None
    try:
        dialog = open_compare(qtbot, win)
        dialog.duplicate()
        link = type(dialog.training.link)
        with monkeypatch.context() as patch:
            patch.setattr(link, "is_ready", property(lambda self: False))
            dialog._update()  # noqa: SLF001 - as the engine's news would
            assert not dialog.train_button.isEnabled()
            assert not dialog.train()
            assert dialog.message == say.COMPARE_ENGINE_NOT_READY
        qtbot.waitUntil(dialog.train_button.isEnabled, timeout=RUN_TIMEOUT)

        # an unchanged copy trains exactly as A does: the same data, order and weights
        assert dialog.train()
        qtbot.waitUntil(lambda: not dialog.running, timeout=RUN_TIMEOUT)
        a, b = dialog.sides["A"], dialog.sides["B"]
        assert a.state == b.state == "done", (a.result.text(), b.result.text())
        assert len(a.history["loss"]) == 2 and a.history == b.history
        assert "(the same)" in dialog.verdict.text()

        real = dialog.training.new_session
        calls = []

        def second_fails(*args, **kwargs):
            calls.append(args)
            if len(calls) == 2:
                raise SessionError("the training process ended unexpectedly (killed by "
                                   "signal 9 (SIGKILL)); a fresh training process is starting")
            return real(*args, **kwargs)

        monkeypatch.setattr(dialog.training, "new_session", second_fails)
        assert dialog.train()
        assert b.state == "failed" and b.result.text().startswith("B could not start: the")
        qtbot.waitUntil(lambda: not dialog.running, timeout=RUN_TIMEOUT)
        assert a.state == "done" and dialog.curves.points("loss", "A") == 2  # A went on
        assert dialog.curves.points("loss", "B") == 0
        assert "B did not finish" in dialog.message and "Traceback" not in dialog.message
        assert dialog.train_button.isEnabled()  # usable: train again
    finally:
        if dialog is not None:
            dialog.shutdown()
        win.training_panel.shutdown()
        close_quietly(win)


# -- the projects, without widgets ---------------------------------------------------------------

def test_b_takes_a_data_and_seed_with_paths_made_absolute(tmp_path):
    a = default_project().replace(data={"source": "csv", "path": "data/points.csv",
                                        "validation_split": 0.25, "seed": 3},
                                  fit={"epochs": 5, "seed": 7})
    b = default_project().replace(data={"source": "circle", "seed": 1},
                                  fit={"epochs": 9, "seed": 1, "batch_size": 8})
    made = b_for_comparison(a, tmp_path, b)
    assert made.data["path"] == str((tmp_path / "data/points.csv").resolve())
    assert made.data["validation_split"] == 0.25 and made.data["seed"] == 3
    assert made.fit["seed"] == 7 and made.fit["epochs"] == 9 and made.fit["batch_size"] == 8
    assert made.model == b.model
    assert shared_data(default_project(), tmp_path) == default_project().data  # no path


def test_hidden_layers_rate_and_verdict():
    model = default_project().model
    assert hidden_units(model) == ([8, 8], "relu")
    deeper = with_hidden(model, [16, 8, 4], "tanh")
    assert [layer.args["units"] for layer in deeper.layers] == [16, 8, 4, 1]
    assert [layer.args.get("activation") for layer in deeper.layers] == ["tanh"] * 3 + ["sigmoid"]
    flat = with_hidden(model, [], None)
    assert [layer.args["units"] for layer in flat.layers] == [1]
    assert hidden_units(flat) == ([], "relu")
    conv = ModelSpec((8, 8, 1), (LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3}),
                                 LayerSpec("Flatten"), LayerSpec("Dense", {"units": 32}),
                                 LayerSpec("Dense", {"units": 10})))
    assert hidden_units(conv) == ([32], None)  # the Dense head after the convolutions
    assert with_hidden(conv, [64, 32], "relu").layers[:2] == conv.layers[:2]
    dropout = conv.insert(3, LayerSpec("Dropout", {"rate": 0.5}))
    assert hidden_units(dropout) is None  # a Dropout among the Dense head: not editable here
    assert parse_units(" 16, 8 ") == [16, 8] and parse_units("") == []
    for bad in ("0", "8, -1", "1.5", "x"):
        with pytest.raises(ValueError, match="Hidden units"):
            parse_units(bad)
    assert parse_rate("1e-3") == 0.001
    for bad in ("0", "-1", "nan", "11", "fast"):
        with pytest.raises(ValueError, match="Learning rate"):
            parse_rate(bad)
    project = default_project()
    assert with_learning_rate(project, 0.001).compile.optimizer.args == {}  # Adam's default
    assert with_learning_rate(project, 0.1).compile.optimizer.args == {"learning_rate": 0.1}
    line = verdict({"val_accuracy": [0.5, 0.52], "val_loss": [0.7, 0.69]},
                   {"val_accuracy": [0.6, 0.97], "val_loss": [0.5, 0.08]})
    assert line == ("At the last epoch: validation accuracy A 0.520, B 0.970 (B better); "
                    "validation loss A 0.690, B 0.080 (B better).")
    assert shared_quantities({"A": {"loss": [1], "accuracy": [1], "auc": [1]},
                              "B": {"loss": [1], "accuracy": [1]}}) == ["loss", "accuracy"]
