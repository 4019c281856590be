"""Training in the window, driven through its real controls with real (tiny) Keras runs:
train, pause, resume, stop, continue, step, reset, NaN, close while training, the plots
and the boundary receiving the run, evaluate and predict.

The data is 80 circle points (64 train / 16 validation, 4 batches per epoch), so an epoch
takes a few tens of milliseconds and the module's cost is mostly Keras tracing each new
model once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from gui_app.core.spec import CompileSpec, ObjectSpec, default_project
from gui_app.core.training import Failed

RUN_TIMEOUT = 60_000  # ms: the first run of the module imports Keras


def tiny_project(epochs: int = 3, optimizer: str = "Adam", loss: str | None = None,
                 **optimizer_args):
    project = default_project()
    compile_spec = CompileSpec(ObjectSpec(optimizer, optimizer_args),
                               ObjectSpec(loss) if loss else project.compile.loss,
                               project.compile.metrics)
    return project.replace(
        data={**project.data, "samples": 80, "validation_split": 0.2},
        fit={"epochs": epochs, "batch_size": 16, "seed": 0},
        compile=compile_spec,
    )


@pytest.fixture
def make_window(qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    from gui_app.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    made = []

    def make(project=None):
        win = MainWindow(project or tiny_project(), load_keras=False)
        qtbot.addWidget(win)
        win.resize(1280, 800)
        win.show()
        qtbot.waitExposed(win)
        made.append(win)
        return win

    yield make
    for win in made:
        win.training_panel.shutdown()
        win.controller.wait_for_data()


def run_to_end(qtbot, panel, start) -> object:
    with qtbot.waitSignal(panel.runEnded, timeout=RUN_TIMEOUT) as blocker:
        assert start(), panel.message_text
    return blocker.args[0]


def epochs_seen(panel) -> int:
    return 0 if panel.record is None else panel.record.epochs_done


def record_stops(session, monkeypatch) -> list[int]:
    """Wraps `session.stop`: one entry per stop request (the session's epoch count then).

    The tests check that a stop reaches the session and that the run then ends as
    "stopped", not how many seconds that takes (benchmarks/bridge_latency.py times it):
    in epochs, the margin depends on how busy the machine is."""
    stops: list[int] = []
    stop = session.stop

    def stop_and_record() -> None:
        stop()
        stops.append(session.epoch)

    monkeypatch.setattr(session, "stop", stop_and_record)
    return stops


def test_train_fills_plots_and_boundary_then_unlocks(qtbot, make_window):
    window = make_window()
    panel = window.training_panel
    locked_during: list[bool] = []
    panel.stateChanged.connect(lambda state: locked_during.append(
        state == "running" and not window.table.isEnabled() and panel.banner.isVisible()
        and not window.act_undo.isEnabled() and not window.setup_tabs.isEnabled()))
    event = run_to_end(qtbot, panel, panel.train)
    assert event.reason == "completed" and event.epochs_done == 3
    assert any(locked_during), "the editor was not locked while the run was going"
    lengths = panel.plots.curve_lengths("loss")
    assert lengths["train"] == 3 and lengths["val"] == 3
    assert panel.plots.curve_lengths("accuracy")["val"] == 3
    # the boundary: a picture before training and after, and they differ
    assert len(panel.store) >= 2 and panel.boundary.images_shown >= 1
    first, last = panel.store.get(0)[1], panel.store.latest()[1]
    assert not np.allclose(first.values, last.values)
    assert panel.boundary.image.image is not None
    # unlocked again, and the controls say what is possible now
    assert window.table.isEnabled() and not panel.banner.isVisible()
    assert not window.controller.locked
    assert panel.act_continue.isEnabled() and panel.act_evaluate.isEnabled()
    assert not panel.act_stop.isEnabled()
    assert "Device: CPU" in panel.device_label.text()
    assert "Done" in panel.message.text()
    assert "Epoch 3 of 3" in panel.run_bar.format()


def test_continue_step_change_optimizer_and_reset(qtbot, make_window):
    window = make_window(tiny_project(epochs=2))
    panel = window.training_panel
    run_to_end(qtbot, panel, panel.train)
    first = panel.record
    panel.more_epochs.setValue(2)
    run_to_end(qtbot, panel, panel.continue_training)
    assert panel.record is first  # the same run goes on
    assert panel.session.epoch == 4 and len(panel.session.history["loss"]) == 4
    assert panel.plots.curve_lengths("loss")["train"] == 4
    assert first.epochs["loss"].x.tolist() == [1, 2, 3, 4]
    run_to_end(qtbot, panel, panel.step_epoch)
    assert panel.session.epoch == 5 and first.epochs_done == 5
    # a new learning rate keeps the weights: the run goes on with a marker
    compile_spec = window.controller.project.compile
    window.controller.set_compile(
        CompileSpec(ObjectSpec("SGD", {"learning_rate": 0.05}), compile_spec.loss,
                    compile_spec.metrics), "SGD")
    assert panel.act_continue.isEnabled()
    panel.more_epochs.setValue(1)
    run_to_end(qtbot, panel, panel.continue_training)
    assert panel.record is first and panel.session.epoch == 6
    assert first.markers and "SGD" in first.markers[0][1]
    assert len(panel.plots.plots["loss"].markers) == 1
    # reset: new weights; the next run is a new one and the old one an overlay
    panel.reset_weights()
    assert not panel.act_continue.isEnabled() and not panel.act_evaluate.isEnabled()
    qtbot.waitUntil(lambda: not panel._reset_pending, timeout=10_000)
    assert panel.session.epoch == 0 and panel.session.history == {}
    run_to_end(qtbot, panel, panel.train)
    assert panel.record is not first and panel.record.number == 2
    assert panel.plots.earlier == [first]
    assert len(panel.plots.plots["loss"].overlays[1]) == 2  # training and validation
    assert panel.runs_menu.actions() and panel.runs_button.isEnabled()
    run_one = next(a for a in panel.runs_menu.actions() if a.isCheckable() and a.data() == 1)
    run_one.setChecked(False)
    assert not panel.plots.plots["loss"].overlays[1][0].isVisible()


def test_pause_resume_stop(qtbot, make_window, monkeypatch):
    # far more epochs than a test waits for: the compiled loop trains this project at a few
    # hundred epochs a second, and the run must still be going when Esc is pressed
    window = make_window(tiny_project(epochs=100_000))
    panel = window.training_panel
    assert panel.train()
    qtbot.waitUntil(lambda: epochs_seen(panel) >= 2, timeout=RUN_TIMEOUT)
    qtbot.keyClick(window, Qt.Key.Key_Space)  # the shortcut
    assert panel.state == "paused" and panel.act_pause.text() == "Resume"
    qtbot.wait(400)  # what was in flight arrives
    held = epochs_seen(panel)
    qtbot.wait(700)
    assert epochs_seen(panel) == held, "epochs went on while paused"
    assert not window.table.isEnabled()  # still locked while paused
    panel.toggle_pause()
    assert panel.state == "running"
    qtbot.waitUntil(lambda: epochs_seen(panel) > held, timeout=10_000)
    stops = record_stops(panel.session, monkeypatch)
    with qtbot.waitSignal(panel.runEnded, timeout=30_000) as blocker:  # a hang guard
        qtbot.keyClick(window, Qt.Key.Key_Escape)
    event = blocker.args[0]
    assert len(stops) == 1, "Esc did not reach the session"
    # stopped, not completed: the run ended early, with the epochs trained by then
    assert event.reason == "stopped" and stops[0] <= event.epochs_done < 100_000
    assert "Stopped" in panel.message.text()
    assert window.table.isEnabled() and panel.act_continue.isEnabled()


def test_nan_loss_is_reported_and_the_app_stays_usable(qtbot, make_window):
    project = tiny_project(epochs=5, optimizer="SGD", learning_rate=1e30, loss="mse")
    window = make_window(project)
    panel = window.training_panel
    event = run_to_end(qtbot, panel, panel.train)
    assert event.reason == "nan"
    box = panel.last_message
    assert box is not None and box.isVisible()
    assert "NaN" in box.text() and "lower the learning rate" in box.text()
    assert "NaN" in panel.message.text()
    box.close()
    assert window.table.isEnabled()
    # fix the learning rate and train again: it works
    window.controller.set_compile(
        CompileSpec(ObjectSpec("SGD", {"learning_rate": 0.1}), project.compile.loss,
                    project.compile.metrics), "lr")
    event = run_to_end(qtbot, panel, panel.train)
    assert event.reason == "completed"
    assert np.isfinite(event.history["loss"][-1])


def test_a_failed_run_shows_what_happened(qtbot, make_window):
    window = make_window()
    panel = window.training_panel
    run_to_end(qtbot, panel, panel.step_epoch)
    with qtbot.waitSignal(panel.runEnded, timeout=5000):
        panel._set_state("running")  # a run whose fit raises, as the engine reports it
        panel.bridge.listener(Failed(9, "out of memory on CPU: lower the batch size (16)",
                                     "Traceback ..."))
    assert "out of memory" in panel.last_message.text()
    assert panel.last_message.detailedText() == "Traceback ..."
    assert "still usable" in panel.message.text()
    assert panel.state == "idle" and window.table.isEnabled()


def test_close_while_training_ends_the_worker(qtbot, make_window, monkeypatch):
    window = make_window(tiny_project(epochs=100_000))
    panel = window.training_panel
    assert panel.train()
    qtbot.waitUntil(lambda: epochs_seen(panel) >= 1, timeout=RUN_TIMEOUT)
    session = panel.session
    engine = session.engine  # the run lives in the engine process (the shared one here)
    assert engine.call("state", {"session": session.id}, 30)["running"]
    stops = record_stops(session, monkeypatch)
    window.close()
    assert not window.isVisible()
    assert len(stops) == 1, "closing the window did not stop the run"
    # The engine closed the session: its run is over, not still training unseen.
    with pytest.raises(ValueError, match="no training session"):
        for _ in range(300):  # a hang guard: the close reaches the engine within moments
            engine.call("state", {"session": session.id}, 30)
            time.sleep(0.1)
    assert session.epoch < 100_000  # it ended with the stop, not by finishing the run
    QApplication.processEvents()  # late queued events must not reach a dead panel


def test_editing_is_refused_while_running(qtbot, make_window):
    window = make_window(tiny_project(epochs=100_000))
    panel = window.training_panel
    assert panel.train()
    # an epoch in: the weights are trained, so a changed model must say they no longer fit
    qtbot.waitUntil(lambda: panel.state == "running" and epochs_seen(panel) >= 1,
                    timeout=RUN_TIMEOUT)
    before = window.controller.project
    window.controller.add_layer("Dense", 1)
    assert window.controller.project == before
    assert not window.palette.isEnabled() and not window.inspector.isEnabled()
    assert "locked" in window.training_dock.windowTitle()
    with qtbot.waitSignal(panel.runEnded, timeout=10_000):
        panel.stop()
    window.controller.add_layer("Dense", 1)
    assert window.controller.project != before
    # the model changed: the weights no longer fit, Continue is off until a new Train
    assert not panel.act_continue.isEnabled() and panel.act_train.isEnabled()
    assert "new weights" in panel.message.text()


def test_evaluate_predict_and_click(qtbot, make_window):
    project = tiny_project(epochs=4)
    project = project.replace(data={**project.data, "test_split": 0.25})
    window = make_window(project)
    panel = window.training_panel
    assert not panel.act_evaluate.isEnabled()
    run_to_end(qtbot, panel, panel.train)
    panel.evaluate()
    dialog = panel.evaluate_dialog
    qtbot.waitUntil(lambda: dialog.matrix is not None, timeout=20_000)
    ds = window.controller.dataset
    assert dialog.split == "test"
    assert dialog.matrix.shape == (2, 2) and dialog.matrix.sum() == len(ds.x_test)
    assert set(dialog.results) >= {"loss", "accuracy"}
    assert dialog.matrix_table.rowCount() == 2 and dialog.scores.rowCount() == 2
    assert dialog.scores.item(0, 0).text() not in ("", None)
    dialog.close()
    # the form: one field per feature, raw units
    form = panel.predict_panel
    assert len(form.fields) == 2
    form.fields[0].setText("0")
    form.fields[1].setText("0")
    form.predict()
    qtbot.waitUntil(lambda: "Prediction" in form.result.text(), timeout=10_000)
    assert "P =" in form.result.text()
    form.use_sample()
    assert "true class" in form.truth
    # clicking the boundary predicts at that point (hidden points are never picked)
    boundary = panel.boundary
    boundary.set_point_style("hidden")
    boundary.click_at(0.0, 0.0)
    assert boundary.clicked_sample is None
    qtbot.waitUntil(lambda: "P =" in boundary.click_text.toPlainText(), timeout=10_000)
    # and the X-ray tab shows that input's forward pass, every layer (from the engine)
    # (the predict form's input was shown there first: wait for the click's)
    layers = len(window.controller.project.model.layers)
    qtbot.waitUntil(lambda: panel.xray.title.text().startswith("At (")
                    and len(panel.xray.rows) >= layers, timeout=10_000)
    # a click on a training point asks about that sample itself, with its true class
    boundary.set_point_style("normal")
    coords, rows = boundary._shown_points["training"]  # noqa: SLF001 - what is drawn
    boundary.click_at(float(coords[3, 0]), float(coords[3, 1]))
    assert boundary.clicked_sample is not None and boundary.clicked_sample[0] == "training"
    index = boundary.clicked_sample[1]
    qtbot.waitUntil(lambda: panel.xray.title.text().startswith("Training sample")
                    and len(panel.xray.rows) >= layers, timeout=10_000)
    assert f"sample {index + 1} (true class: " in panel.xray.title.text()
    assert f"sample {index + 1}" in panel.readout.text()
    assert index == int(rows[3])
    assert np.allclose(ds.x_train[index][:2], coords[3])


def test_scrubbing_shows_an_earlier_epoch(qtbot, make_window):
    window = make_window(tiny_project(epochs=6))
    panel = window.training_panel
    run_to_end(qtbot, panel, panel.train)
    count = len(panel.store)
    assert count >= 3 and panel.boundary.slider.isEnabled()
    assert panel.boundary.slider.value() == count - 1  # live
    panel.boundary.slider.setValue(0)
    assert not panel.boundary.live
    assert panel.boundary.grid is panel.store.get(0)[1]
    assert panel.plots.plots["loss"].cursor.isVisible()
    assert "epoch 0.0" in panel.boundary.slider_label.text()
    panel.boundary.slider.setValue(count - 1)
    assert panel.boundary.live and panel.boundary.grid is panel.store.latest()[1]


def test_wide_inputs_get_a_plane(qtbot, make_window):
    project = tiny_project(epochs=3)
    from gui_app.core.spec import LayerSpec, ModelSpec

    project = project.replace(
        data={"source": "iris", "seed": 0, "validation_split": 0.2, "standardize": True},
        model=ModelSpec((4,), (LayerSpec("Dense", {"units": 8, "activation": "relu"}),
                               LayerSpec("Dense", {"units": 3, "activation": "softmax"}))),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.05}),
                            ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)))
    window = make_window(project)
    panel = window.training_panel
    qtbot.waitUntil(lambda: window.controller.dataset is not None, timeout=30_000)
    panel.ensure_views()
    qtbot.waitUntil(lambda: panel.plane is not None, timeout=10_000)
    assert panel.boundary.mode == "wide" and panel.boundary.plane_row.isVisible()
    assert "principal components" in panel.boundary.header.text()
    run_to_end(qtbot, panel, panel.train)
    assert len(panel.store) >= 2
    assert panel.store.latest()[1].values.shape[-1] == 3
    # two features instead: a new plane, and a picture of the trained model on it
    panel.boundary.plane_mode.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.plane is not None and panel.plane.mode == "features",
                    timeout=10_000)
    qtbot.waitUntil(lambda: len(panel.store) == 1, timeout=10_000)
    assert "held at their training mean" in panel.boundary.header.text()
    assert panel.predict_panel.fields and len(panel.predict_panel.fields) == 4


def test_one_dimensional_regression_draws_a_curve(qtbot, make_window):
    from gui_app.core.spec import LayerSpec, ModelSpec

    project = tiny_project(epochs=3).replace(
        data={"source": "sine", "samples": 80, "seed": 0, "validation_split": 0.2},
        model=ModelSpec((1,), (LayerSpec("Dense", {"units": 8, "activation": "tanh"}),
                               LayerSpec("Dense", {"units": 1}))),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}), ObjectSpec("mse"),
                            (ObjectSpec("mae"),)))
    window = make_window(project)
    panel = window.training_panel
    run_to_end(qtbot, panel, panel.train)
    assert panel.boundary.mode == "curve"
    assert panel.store.latest()[1].kind == "curve"
    assert len(panel.boundary._curves) == 1
    assert panel.plots.curve_lengths("mae")["train"] == 3


@pytest.mark.skipif(not hasattr(__import__("os"), "sched_getaffinity")
                    or len(__import__("os").sched_getaffinity(0)) < 2,
                    reason="holding threads on cores needs Linux and two cores")
def test_the_gui_thread_keeps_off_the_training_core_during_a_run(qtbot, make_window,
                                                                  monkeypatch):
    import os

    # kept (benchmarks/gui_training_overhead.py, arm nopin), behind LAYERLAB_PIN_CORES
    monkeypatch.setattr("gui_app.ui.qt_painting.PIN_CORES", True)
    window = make_window(tiny_project(epochs=30))
    panel = window.training_panel
    everywhere = os.sched_getaffinity(0)
    during: list[tuple[int | None, set[int]]] = []

    def on_state(state: str) -> None:
        if state == "running" and panel.run_state is not None:
            during.append((panel.run_state.started.core, os.sched_getaffinity(0)))

    panel.stateChanged.connect(on_state)
    event = run_to_end(qtbot, panel, panel.train)
    assert event.reason == "completed"
    core, gui_cores = during[0]
    assert core in everywhere
    assert core not in gui_cores and gui_cores == everywhere - {core}
    assert os.sched_getaffinity(0) == everywhere  # all cores again after the run
    # (The training thread itself is in the engine process, which frees its own core.)
