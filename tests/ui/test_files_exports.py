"""Exports from the File menu: each file is written, non-empty and valid for its kind; with
nothing to export, a dialog says what to do and no file appears."""

from __future__ import annotations

import ast
import csv
import json
import math
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest

from gui_app.core.diagnostics.events import FindingEvent
from gui_app.core.summary import format_table
from gui_app.ui.exports import (
    ExportError,
    findings_path,
    history_columns,
    history_csv,
    history_json,
    plot_png,
    plot_svg,
    write_plot,
)

from .files_support import choose_file, dialog_text, window_for_test

pg = pytest.importorskip("pyqtgraph")

HISTORY = {"loss": [0.69, 0.41, 0.30], "accuracy": [0.5, 0.8, 0.9],
           "val_loss": [0.7, 0.45, float("nan")], "val_accuracy": [0.48, 0.79, 0.88]}
PNG_HEADER = b"\x89PNG\r\n\x1a\n"


class FakeSession:
    """What the training view links in: a session with a History (and a model it is for)."""

    def __init__(self, history: dict[str, list[float]], project=None) -> None:
        self.history = history
        self.project = project
        self.epoch = len(next(iter(history.values()), []))


@pytest.fixture
def win(qtbot, monkeypatch):
    """A real window that asks before losing work."""
    yield from window_for_test(qtbot, monkeypatch)


@pytest.fixture
def plots(qtbot):
    """A loss plot and a boundary-like image plot, as the training view will draw them."""
    loss = pg.PlotWidget(title="Loss")
    loss.addLegend()
    loss.plot([1, 2, 3], HISTORY["loss"], name="loss", pen="y")
    loss.plot([1, 2, 3], HISTORY["val_loss"][:2] + [0.33], name="val_loss", pen="c")
    loss.setLabel("bottom", "epoch")
    boundary = pg.PlotWidget(title="Decision boundary")
    image = pg.ImageItem(np.linspace(0, 1, 400).reshape(20, 20))
    boundary.addItem(image)
    boundary.plot([2, 5, 12], [3, 15, 8], pen=None, symbol="o")
    for widget in (loss, boundary):
        qtbot.addWidget(widget)
        widget.resize(420, 300)
        widget.show()
        qtbot.waitExposed(widget)
    yield {"Loss": loss.getPlotItem(), "Decision boundary": boundary}
    del loss  # kept alive until here: the PlotItem dies with its widget


# -- the pieces ------------------------------------------------------------------------------


def test_history_columns_put_each_metric_beside_its_validation_twin():
    assert history_columns({"val_loss": [1], "loss": [1], "accuracy": [1], "val_accuracy": [1],
                            "learning_rate": [1]}) == [
        "loss", "val_loss", "accuracy", "val_accuracy", "learning_rate"]


def test_history_csv_and_json_hold_every_epoch():
    rows = list(csv.DictReader(history_csv(HISTORY).splitlines()))
    assert list(rows[0]) == ["epoch", "loss", "val_loss", "accuracy", "val_accuracy"]
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert float(rows[1]["accuracy"]) == 0.8 and rows[2]["val_loss"] == "nan"
    doc = json.loads(history_json(HISTORY, "Circle"))
    assert doc["format"] == "layerlab-history" and doc["project"] == "Circle"
    assert doc["epochs"] == 3 and doc["history"]["loss"] == HISTORY["loss"]
    assert doc["history"]["val_loss"][2] is None  # NaN is not JSON: a diverged epoch is null
    for empty in ({}, {"loss": []}):
        with pytest.raises(ExportError, match="train the model first"):
            history_csv(empty)


def test_plots_as_png_and_svg(plots):
    for target in plots.values():
        png = plot_png(target)
        assert png.startswith(PNG_HEADER) and len(png) > 2000
        svg = plot_svg(target, "Loss")
        root = ET.fromstring(svg)
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert len(list(root.iter())) > 20  # axes, ticks, curves: not an empty picture
        # Written at the screen's 96 dpi: axes and text at the curves' scale (at Qt's
        # default of 72 dpi the axes came out at 3/4 of the plot's size).
        view_width = float(root.get("viewBox").split()[2])
        assert float(root.get("width").removesuffix("mm")) == pytest.approx(
            view_width * 25.4 / 96, rel=1e-3)
    with pytest.raises(ExportError, match="Expected a plot"):
        plot_png("not a plot")


def test_png_export_is_twice_the_size_on_screen(plots):
    from PySide6.QtGui import QImage

    image = QImage.fromData(plot_png(plots["Loss"]))
    rect = plots["Loss"].sceneBoundingRect()
    assert (image.width(), image.height()) == (round(rect.width() * 2), round(rect.height() * 2))
    # The curve is drawn: some pixels are the yellow pen, not only background and axes.
    colours = {image.pixelColor(x, y).name() for x in range(0, image.width(), 3)
               for y in range(0, image.height(), 3)}
    assert "#ffff00" in colours


def test_write_plot_refuses_an_unknown_extension(plots, tmp_path):
    with pytest.raises(ExportError, match=r"\.png or \.svg"):
        write_plot(plots["Loss"], tmp_path / "loss.gif")
    assert not (tmp_path / "loss.gif").exists()


# -- from the window --------------------------------------------------------------------------


def test_every_export_from_the_window(qtbot, win, plots, tmp_path, monkeypatch):
    files = win.files
    files.connect_training(session=lambda: FakeSession(HISTORY, win.controller.project),
                           plots=lambda: plots)
    assert win.save_to(tmp_path / "circle.layerlab.json")

    script = tmp_path / "circle.py"
    assert files.export_script(script)
    text = script.read_text()
    ast.parse(text)  # a valid Python program
    assert "keras.Sequential" in text and "model.fit(" in text

    loop = tmp_path / "circle-loop.py"  # File > Export > Python Script with the Training Loop
    assert files.act_export_loop in files.export_menu.actions()
    assert files.export_loop_script(loop)
    text = loop.read_text()
    ast.parse(text)
    assert "tf.GradientTape()" in text and "apply_gradients" in text
    assert "model.fit(" not in text

    summary = tmp_path / "summary.txt"
    assert files.export_summary(summary)
    assert summary.read_text() == format_table(win.controller.summary, "Circle") + "\n"
    assert "Total params: 105" in summary.read_text()

    assert files.export_history_csv(tmp_path / "history.csv")
    rows = list(csv.DictReader((tmp_path / "history.csv").read_text().splitlines()))
    assert len(rows) == 3 and set(rows[0]) == {"epoch", *HISTORY}
    assert files.export_history_json(tmp_path / "history.json")
    doc = json.loads((tmp_path / "history.json").read_text())
    assert set(doc) == {"format", "version", "project", "epochs", "history", "findings"}
    assert doc["history"]["accuracy"] == HISTORY["accuracy"]
    assert doc["findings"] == []  # a run without problems
    assert not (tmp_path / "history-findings.csv").exists()

    files.fill_plots_menu()
    names = [a.text() for a in files.plots_menu.actions()]
    assert names == ["Loss as PNG...", "Loss as SVG...", "Decision boundary as PNG...",
                     "Decision boundary as SVG..."]
    for name in plots:
        for ext in ("png", "svg"):
            out = tmp_path / f"{name}.{ext}"
            assert files.export_plot(name, ext, out)
            data = out.read_bytes()
            if ext == "png":
                assert data.startswith(PNG_HEADER)
            else:
                assert ET.fromstring(data).tag.endswith("svg")

    # Through the menu and the save dialog: the extension is added when left out.
    calls = choose_file(monkeypatch, tmp_path / "chosen", "getSaveFileName")
    files.act_export_csv.trigger()
    assert (tmp_path / "chosen.csv").is_file()
    assert calls[0][2].endswith("circle-history.csv")  # proposed beside the project
    next(a for a in files.plots_menu.actions() if a.text() == "Loss as SVG...").trigger()
    assert ET.fromstring((tmp_path / "chosen.svg").read_bytes()).tag.endswith("svg")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_nothing_to_export_says_what_to_do_and_writes_nothing(qtbot, win, tmp_path):
    files = win.files
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    assert not files.export_history_csv(tmp_path / "h.csv")
    assert "train the model first" in dialog_text(win.last_dialog)
    files.connect_training(session=lambda: FakeSession({}))
    assert not files.export_history_json(tmp_path / "h.json")
    assert not files.export_plot("Loss", "png", tmp_path / "loss.png")
    assert "Expected a plot called 'Loss'" in dialog_text(win.last_dialog)
    files.fill_plots_menu()
    [empty] = files.plots_menu.actions()
    assert not empty.isEnabled() and "train the model first" in empty.text()
    assert list(tmp_path.iterdir()) == []


def test_a_failed_export_keeps_the_previous_file(qtbot, win, tmp_path):
    target = tmp_path / "history.csv"
    target.write_text("epoch,loss\n1,0.5\n")
    assert not win.files.export_history_csv(target)  # no History now
    assert target.read_text() == "epoch,loss\n1,0.5\n"


def test_script_export_with_unloadable_data_explains(qtbot, win, tmp_path):
    win.controller.set_data({"source": "csv", "path": "missing.csv"})
    assert not win.files.export_script(tmp_path / "x.py")
    text = dialog_text(win.last_dialog)
    assert "cannot be loaded" in text and "missing.csv" in text
    assert not (tmp_path / "x.py").exists()
    assert not win.files.export_loop_script(tmp_path / "y.py")  # the loop script too
    assert "cannot be loaded" in dialog_text(win.last_dialog)
    assert not (tmp_path / "y.py").exists()


def test_history_numbers_survive_exactly():
    history = {"loss": [1 / 3, math.pi]}
    rows = list(csv.DictReader(history_csv(history).splitlines()))
    assert [float(r["loss"]) for r in rows] == history["loss"]


FINDINGS = (
    FindingEvent("vanishing_gradients", 4, 0, "The first layers barely learn: dense's gradient "
                 "is 1e-05 of dense_10's.", ({"id": "relu_he", "label": "Use ReLU, He init",
                                              "params": {"layers": [0, 1]}},),
                 "active", "warning", 0, 1),
    FindingEvent("overfitting", 9, None, "Validation loss rose, from 0.4 to 0.6.", (),
                 "resolved", "warning", 5, 1),
)


def test_history_exports_carry_the_findings(qtbot, win, tmp_path):
    files = win.files
    files.connect_training(session=lambda: FakeSession(HISTORY, win.controller.project),
                           findings=lambda: list(FINDINGS))
    assert files.export_history_json(tmp_path / "history.json")
    doc = json.loads((tmp_path / "history.json").read_text())
    vanishing, overfitting = doc["findings"]
    assert vanishing == {"code": "vanishing_gradients", "epoch": 5, "first_epoch": 1,
                         "layer_index": 0, "message": FINDINGS[0].message,
                         "fixes": [dict(FINDINGS[0].fixes[0])], "resolved": False,
                         "state": "active", "severity": "warning", "run": 1}
    assert overfitting["resolved"] and overfitting["layer_index"] is None
    assert (overfitting["first_epoch"], overfitting["epoch"]) == (6, 10)

    assert files.export_history_csv(tmp_path / "history.csv")
    assert "findings" in win.statusBar().currentMessage()
    rows = list(csv.DictReader((tmp_path / "history.csv").read_text().splitlines()))
    assert len(rows) == 3 and set(rows[0]) == {"epoch", *HISTORY}  # the History stays one table
    found = list(csv.DictReader((tmp_path / "history-findings.csv").read_text().splitlines()))
    assert [(r["code"], r["resolved"], r["first_epoch"], r["epoch"], r["layer_index"])
            for r in found] == [("vanishing_gradients", "false", "1", "5", "0"),
                                ("overfitting", "true", "6", "10", "")]
    assert found[0]["fixes"] == "Use ReLU, He init" and found[0]["message"] == FINDINGS[0].message
    assert findings_path(tmp_path / "h.csv") == tmp_path / "h-findings.csv"


def test_the_window_exports_the_findings_it_shows(qtbot, win, tmp_path):
    """The findings come from the Diagnostics tab, as it shows them (the latest state)."""
    panel = win.training_panel
    panel.ensure_views()
    win.files.connect_training(session=lambda: FakeSession(HISTORY, win.controller.project))
    for event in (replace(FINDINGS[1], state="active"), *FINDINGS):
        panel.diagnostics.add(event)
    assert win.files.export_history_json(tmp_path / "h.json")
    doc = json.loads((tmp_path / "h.json").read_text())
    assert [(f["code"], f["resolved"]) for f in doc["findings"]] == [
        ("overfitting", True), ("vanishing_gradients", False)]
    panel.diagnostics.clear()  # a new run: its History export starts without them
    assert win.files.export_history_json(tmp_path / "h.json")
    assert json.loads((tmp_path / "h.json").read_text())["findings"] == []
