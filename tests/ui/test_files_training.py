"""The file side with the real Training tab: train, save the project with its weights, export
the History and plots the panel drew, save the trained model, reopen and continue."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from gui_app.core.spec import default_project

from .files_support import close_quietly, dialog_text, make_window, refuse_downloads

pytest.importorskip("keras")
pytest.importorskip("pyqtgraph")

RUN_TIMEOUT = 60_000
X = np.random.default_rng(5).normal(size=(12, 2)).astype("float32")


def tiny_project():
    project = default_project()
    return project.replace(data={**project.data, "samples": 80, "validation_split": 0.2},
                           fit={"epochs": 2, "batch_size": 16, "seed": 0})


def run_to_end(qtbot, panel, start):
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT) as blocker:
        assert start(), panel.message_text
    return blocker.args[0]


def test_train_save_export_reopen_and_continue(qtbot, tmp_path, monkeypatch):
    refuse_downloads(monkeypatch)
    win = make_window(qtbot, project=tiny_project())
    panel = win.training_panel
    try:
        assert run_to_end(qtbot, panel, panel.train).epochs_done == 2
        trained = panel.session.predict(X)
        project_file = tmp_path / "tiny.layerlab.json"
        assert win.save_to(project_file)
        assert (tmp_path / "tiny.weights.h5").is_file(), dialog_text(win.last_dialog)

        # Exports of what the panel holds: its History and the plots it drew.
        assert win.files.export_history_csv(tmp_path / "h.csv")
        rows = list(csv.DictReader((tmp_path / "h.csv").read_text().splitlines()))
        assert [r["epoch"] for r in rows] == ["1", "2"] and "val_loss" in rows[0]
        assert win.files.export_history_json(tmp_path / "h.json")
        assert json.loads((tmp_path / "h.json").read_text())["epochs"] == 2
        plots = panel.plot_items()
        assert "Loss" in plots and "Decision boundary" in plots
        for name in plots:
            assert win.files.export_plot(name, "png", tmp_path / f"{name}.png"), \
                dialog_text(win.last_dialog)
            assert (tmp_path / f"{name}.png").read_bytes().startswith(b"\x89PNG")
            assert win.files.export_plot(name, "svg", tmp_path / f"{name}.svg"), \
                dialog_text(win.last_dialog)
            assert ET.parse(tmp_path / f"{name}.svg").getroot().tag.endswith("svg")
        assert win.files.save_trained_model(tmp_path / "tiny.keras")
        assert (tmp_path / "tiny.keras").stat().st_size > 1000
    finally:
        panel.shutdown()
        close_quietly(win)

    again = make_window(qtbot)
    panel = again.training_panel
    try:
        assert again.open_path(project_file)
        assert again.files.pending_weights == tmp_path / "tiny.weights.h5"
        # What the panel does when it makes a session (at Keras start-up, or when told by
        # files.pendingWeightsChanged): the saved weights are loaded into it.
        panel.ensure_views()
        session = panel.ensure_session()
        qtbot.waitUntil(lambda: panel.act_continue.isEnabled(), timeout=RUN_TIMEOUT)
        np.testing.assert_allclose(session.predict(X), trained, rtol=1e-5,
                                   err_msg=panel.message_text)
        before = session.history
        event = run_to_end(qtbot, panel, panel.continue_training)
        assert event.reason == "completed" and not before, panel.message_text
        assert not np.allclose(panel.session.predict(X), trained)  # it trained on from there
    finally:
        panel.shutdown()
        close_quietly(again)
