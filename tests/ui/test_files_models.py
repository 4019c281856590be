"""Trained models in the window: import .keras/.h5 safely, keep the trained weights with the
project so Continue goes on from them, and save the trained model as .keras.

The training view is another module; these tests stand in for it with a real
`TrainingSession` linked through `FileActions.connect_training`, as that view will.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gui_app.core.project import load_project

from .files_support import (
    close_quietly,
    dialog_text,
    make_window,
    run_app_in_process,
    window_for_test,
)

keras = pytest.importorskip("keras")

X = np.random.default_rng(3).normal(size=(16, 2)).astype("float32")


@pytest.fixture
def win(qtbot, monkeypatch):
    """A real window that asks before losing work."""
    yield from window_for_test(qtbot, monkeypatch)


def _model() -> Any:
    model = keras.Sequential([keras.Input((2,)),
                              keras.layers.Dense(4, activation="relu", name="hidden"),
                              keras.layers.Dense(1, activation="sigmoid")])
    rng = np.random.default_rng(7)
    for weight in model.weights:  # distinct values: a weight left at its start would show
        weight.assign(rng.normal(size=tuple(weight.shape)).astype("float32"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def _session(project: Any, base_dir: Path | None = None) -> Any:
    from gui_app.core.training import TrainingSession

    return TrainingSession(project, base_dir=base_dir, device="cpu")


def _train_one_epoch(session: Any) -> None:
    from gui_app.core.training import Failed, Finished

    done = threading.Event()
    events: list[Any] = []

    def listen(event: Any) -> None:
        if isinstance(event, (Finished, Failed)):
            events.append(event)
            done.set()

    session.subscribe(listen)
    session.start(epochs=1)
    assert done.wait(60) and session.wait(30)
    session.unsubscribe(listen)
    assert isinstance(events[0], Finished), getattr(events[0], "message", "")


@pytest.mark.parametrize("fmt", ["keras", "h5"])
def test_a_model_file_opens_as_an_editable_unsaved_stack_with_its_weights(
        qtbot, win, tmp_path, fmt):
    model = _model()
    source = tmp_path / f"trained.{fmt}"
    model.save(source)
    raw = source.read_bytes()
    with qtbot.waitSignal(win.files.pendingWeightsChanged, timeout=30_000):
        assert win.files.import_model(source, confirm=False)
    c = win.controller
    layers = c.project.model.layers
    assert c.project.model.input_shape == (2,)
    assert [(layer.type, layer.args.get("units"), layer.args.get("activation"))
            for layer in layers] == [("Dense", 4, "relu"), ("Dense", 1, "sigmoid")]
    assert layers[0].args.get("name") == "hidden"
    assert c.project.compile.optimizer.type == "Adam"
    assert c.path is None and not c.is_clean and c.project.name == "trained"
    assert win.windowTitle().startswith("trained*")
    info = win.files.last_info
    assert info is not None and "editable stack of 2 layers" in info.text()
    assert source.read_bytes() == raw  # the model file is only read
    pending = win.files.pending_weights
    assert pending is not None and pending.is_file() and win.files.weights_are_current()

    session = _session(c.project)
    try:
        assert "Loaded the trained weights" in win.files.apply_pending_weights(session)
        np.testing.assert_allclose(session.predict(X), model.predict(X, verbose=0), rtol=1e-5)
        assert win.files.apply_pending_weights(session) is None  # once per session
    finally:
        session.close()

    project_file = tmp_path / "imported.layerlab.json"
    assert win.save_to(project_file)
    beside = tmp_path / "imported.weights.h5"
    assert beside.is_file() and win.files.pending_weights == beside
    assert load_project(project_file) == c.project


def test_trained_weights_are_saved_with_the_project_and_continue_from_there(
        qtbot, win, tmp_path):
    c = win.controller
    session = _session(c.project)
    project_file = tmp_path / "circle.layerlab.json"
    try:
        win.files.connect_training(session=lambda: session)
        assert not win.files.save_trained_model(tmp_path / "untrained.keras")
        assert "Expected a trained model" in dialog_text(win.last_dialog)
        assert not (tmp_path / "untrained.keras").exists()
        _train_one_epoch(session)
        trained = session.predict(X)
        assert win.save_to(project_file)
        assert (tmp_path / "circle.weights.h5").is_file()
        assert win.files.save_trained_model(tmp_path / "circle.keras")
    finally:
        session.close()
    win.files.connect_training(session=lambda: None)

    from gui_app.core.modelfile import load_model_file

    _, reloaded = load_model_file(tmp_path / "circle.keras")  # through the safe importer
    np.testing.assert_allclose(reloaded.predict(X, verbose=0), trained, rtol=1e-5)

    # A new window (a new day): the weights beside the project are picked up...
    other = make_window(qtbot)
    try:
        with qtbot.waitSignal(other.files.pendingWeightsChanged, timeout=1000):
            assert other.open_path(project_file)  # the training view is told
        assert other.files.pending_weights == tmp_path / "circle.weights.h5"
        fresh = _session(other.controller.project, tmp_path)
        try:
            other.files.connect_training(session=lambda: fresh)
            assert "Continue goes on" in other.files.apply_pending_weights(fresh)
            np.testing.assert_allclose(fresh.predict(X), trained, rtol=1e-5)
            _train_one_epoch(fresh)  # ... and Continue trains on from them
            assert len(fresh.history["loss"]) == 1
        finally:
            fresh.close()
        # No live session: Save Trained Model builds one from the saved weights.
        other.files.connect_training(session=lambda: None)
        assert other.files.save_trained_model(tmp_path / "again")
        _, again = load_model_file(tmp_path / "again.keras")
        np.testing.assert_allclose(again.predict(X, verbose=0), trained, rtol=1e-5)
        # Editing the stack makes the saved weights stale: they are not applied or saved.
        other.controller.add_layer("Dense")
        stale = _session(other.controller.project, tmp_path)
        try:
            assert "layers have changed" in other.files.apply_pending_weights(stale)
        finally:
            stale.close()
        assert not other.files.save_trained_model(tmp_path / "stale.keras")
        assert not (tmp_path / "stale.keras").exists()
    finally:
        close_quietly(other)


def test_weights_that_cannot_be_written_are_reported_and_the_project_still_saved(
        qtbot, win, tmp_path):
    source = tmp_path / "trained.keras"
    _model().save(source)
    assert win.files.import_model(source, confirm=False)
    project_file = tmp_path / "blocked.layerlab.json"
    (tmp_path / "blocked.weights.h5").mkdir()  # a folder where the weights file should go
    assert win.save_to(project_file)
    assert load_project(project_file) == win.controller.project
    box = win.last_dialog
    assert box.windowTitle() == "Trained weights not saved"
    assert "still in memory" in box.text() and "blocked.weights.h5" in box.text()
    assert win.files.pending_weights.is_file()  # the imported weights are not lost


def _lambda_file(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "marker"
    touch = eval(f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]")
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.Lambda(touch)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    marker.unlink(missing_ok=True)  # building the model ran the lambda once
    return path, marker


def test_a_lambda_model_is_refused_in_a_dialog_and_never_runs(qtbot, win, tmp_path,
                                                              monkeypatch):
    path, marker = _lambda_file(tmp_path)
    win.controller.add_layer("Dropout")  # unsaved work that must survive the refusal
    before = (win.controller.project, win.controller.path, win.controller.is_clean)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    from .files_support import answer_prompts, choose_file

    answer_prompts(monkeypatch, "Discard")
    choose_file(monkeypatch, path)
    win.files.act_import.trigger()  # File > Import Keras Model...
    box = win.last_dialog
    assert box is not None and box.isVisible() and box.windowTitle() == "Model not opened"
    text = dialog_text(box)
    assert "This file contains a Lambda layer, which would run code stored in the file; " \
           "LayerLab does not open such files" in text
    assert str(path) in text and "The open project is unchanged." in text
    assert not marker.exists()
    assert (win.controller.project, win.controller.path, win.controller.is_clean) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before
    assert win.files.pending_weights is None


def test_a_functional_model_is_refused_naming_why(qtbot, win, tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    path = tmp_path / "functional.h5"
    model.save(path)
    assert not win.files.import_model(path, confirm=False)
    assert "Sequential" in dialog_text(win.last_dialog)


def test_a_dropped_model_file_is_imported(qtbot, win, tmp_path):
    from .test_files_projects import _drop

    source = tmp_path / "dropped.keras"
    _model().save(source)
    assert _drop(win, [source]) == (True, True)
    qtbot.waitUntil(lambda: win.files.pending_weights is not None, timeout=30_000)
    assert win.controller.project.name == "dropped"


def test_layerlab_model_file_imports_it_from_the_command_line(qtbot, monkeypatch, tmp_path):
    source = tmp_path / "cli.keras"
    _model().save(source)
    win = run_app_in_process(qtbot, monkeypatch, [str(source)])
    c = win.controller
    assert c.project.name == "cli" and not c.is_clean and c.path is None
    assert [layer.type for layer in c.project.model.layers] == ["Dense", "Dense"]
    # run_app has shut the window down after its (here instant) event loop, which removes
    # the private copy of the imported weights: only that they were there is left to see.
    assert win.files.pending_weights is not None
    assert win.files.pending_weights.name.endswith(".weights.h5")
