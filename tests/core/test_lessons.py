"""The example lessons: every one loads, passes the pre-flight checks with its data, and trains.

Lesson 3 (Fashion-MNIST) is opened on the bundled digits set when Keras's cache lacks
Fashion-MNIST; both branches are covered here on any machine by pointing KERAS_HOME at a
temporary folder, with and without (empty stand-in) dataset files.
"""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path

import pytest

from gui_app.core import lessons
from gui_app.core.checks import run_checks
from gui_app.core.data import load_dataset
from gui_app.core.lessons import (
    keras_dataset_cached,
    list_examples,
    load_example,
    prepare_lesson,
)
from gui_app.core.project import load_project, project_to_json
from gui_app.core.summary import summarize
from gui_app.resources import examples_dir

EXAMPLES = sorted(examples_dir().glob("*.layerlab.json"))
FASHION = examples_dir() / "03_mlp_fashion_mnist.layerlab.json"


@pytest.fixture
def empty_keras_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keras's cache redirected to an empty folder (and the /tmp fallback hidden)."""
    home = tmp_path / "keras_home"
    (home / "datasets").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    monkeypatch.setattr("gui_app.core.data._dataset_dirs", lambda: [home / "datasets"])
    return home / "datasets"


def test_the_twelve_lessons_are_listed_by_file_name_with_descriptions():
    found = list_examples()
    assert [lesson.path for lesson in found] == EXAMPLES
    assert len(found) == 12
    assert found[0].name.startswith("1. ") and found[-1].name.startswith("8b. ")
    for lesson in found:
        assert lesson.description, f"{lesson.path.name} has no description"
        assert lesson.summary and lesson.summary in " ".join(lesson.description.split())


def test_a_damaged_example_is_left_out_not_fatal(tmp_path: Path):
    good = tmp_path / "01_good.layerlab.json"
    good.write_bytes(EXAMPLES[0].read_bytes())
    (tmp_path / "02_bad.layerlab.json").write_text('{"format": "layerlab-project", ')
    assert [lesson.path for lesson in list_examples(tmp_path)] == [good]
    assert list_examples(tmp_path / "missing") == []


def test_fashion_mnist_lesson_falls_back_to_digits_when_not_cached(empty_keras_cache: Path):
    assert not keras_dataset_cached("keras:fashion_mnist")
    project, note = load_example(FASHION)
    assert project.data["source"] == "digits"
    assert project.data["seed"] == 0 and project.data["validation_split"] == 0.1
    assert project.model.input_shape == (64,)
    assert "not in Keras's cache" in note and "digits" in note and "(64,)" in note
    assert str(empty_keras_cache / "fashion-mnist") in note
    # The fallback is a valid project: it survives a save/load round trip unchanged.
    info = load_dataset(project.data).info()
    assert info.input_shape == (64,) and info.num_classes == 10
    assert summarize(project.model).total_params == 64 * 300 + 300 + 30_100 + 1_010
    assert not [f for f in run_checks(project, info) if f.severity == "error"]


def test_fashion_mnist_lesson_is_kept_when_cached(empty_keras_cache: Path):
    folder = empty_keras_cache / "fashion-mnist"
    folder.mkdir()
    from gui_app.core.data import _FASHION_FILES

    for name in _FASHION_FILES[:-1]:
        (folder / name).write_bytes(b"")
    assert not keras_dataset_cached("keras:fashion_mnist")  # one file still missing
    (folder / _FASHION_FILES[-1]).write_bytes(b"")
    assert keras_dataset_cached("keras:fashion_mnist")
    project, note = load_example(FASHION)
    assert project == load_project(FASHION)
    assert project.model.input_shape == (28, 28)
    assert note == "Training on Fashion-MNIST from Keras's cache."


def test_prepare_lesson_leaves_other_lessons_alone_but_makes_data_paths_absolute():
    for path in EXAMPLES:
        original = load_project(path)
        prepared, note = prepare_lesson(original, path.parent, cached=True)
        if original.data.get("source") == "csv":
            assert Path(prepared.data["path"]).is_absolute()
            assert Path(prepared.data["path"]) == (path.parent / original.data["path"]).resolve()
            assert prepared.replace(data=original.data) == original
        elif original.data.get("source") == "images":  # drawn on first use (shapes.py)
            from gui_app.core.paths import data_dir

            assert note == ""
            assert Path(prepared.data["path"]).parent == data_dir() / "lessons"
            assert Path(prepared.data["path"]).is_dir()
            assert prepared.replace(data=original.data) == original
        elif original.data.get("source") not in lessons.FALLBACK_SOURCES:
            assert (prepared, note) == (original, "")


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name.split(".")[0] for p in EXAMPLES])
def test_every_example_passes_its_checks(path: Path, empty_keras_cache: Path):
    project, _ = load_example(path)
    dataset = load_dataset(project.data, path.parent)
    errors = [f for f in run_checks(project, dataset.info()) if f.severity == "error"]
    assert not errors, [f.message for f in errors]
    # A lesson is plain JSON with nothing LayerLab does not know (no code, no pickles).
    json.dumps(project_to_json(project))


def test_every_example_trains_one_epoch(empty_keras_cache: Path):
    """Each lesson, as opened, trains for one epoch (one checkpoint for virtual epochs)."""
    pytest.importorskip("keras")
    from gui_app.core.training import Failed, Finished, TrainingSession

    for path in EXAMPLES:
        project, _ = load_example(path)
        project = project.replace(fit={**project.fit, "epochs": 1})
        finished: list[object] = []
        done = threading.Event()

        def listen(event: object, finished: list[object] = finished,
                   done: threading.Event = done) -> None:
            if isinstance(event, (Finished, Failed)):
                finished.append(event)
                done.set()

        # Few boundary points and no progress events: the test is about the lesson training,
        # not about the live views (tests/core/test_training.py covers those).
        session = TrainingSession(project, base_dir=path.parent, device="cpu",
                                  boundary_resolution=4, progress_interval=3600)
        try:
            session.subscribe(listen)
            session.start(epochs=1)
            assert done.wait(120), f"{path.name}: no Finished event"
            assert session.wait(30)
            event = finished[0]
            assert isinstance(event, Finished), f"{path.name}: {getattr(event, 'message', '')}"
            assert event.epochs_done == 1
            losses = session.history["loss"]
            assert len(losses) == 1 and math.isfinite(losses[0]), path.name
        finally:
            session.close()
