"""Training on a folder of images: the session (fit on tf.data, never the compiled loop),
Evaluate and Predict on the test part, a damaged image named at decode time,
`layerlab train`, and the exported script run on the same tiny folder."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("keras")

from gui_app.cli import run_cli  # noqa: E402
from gui_app.core import image_data  # noqa: E402
from gui_app.core.export import export_script  # noqa: E402
from gui_app.core.project import save_project  # noqa: E402
from gui_app.core.shapes import write_folder  # noqa: E402
from gui_app.core.spec import (  # noqa: E402
    CompileSpec,
    LayerSpec,
    ModelSpec,
    ObjectSpec,
    Project,
)
from gui_app.core.training import (  # noqa: E402
    EpochEnd,
    Failed,
    Finished,
    Started,
)

from .test_training import run  # noqa: E402

CNN = (LayerSpec("Rescaling", {"scale": 1 / 255}),
       LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
       LayerSpec("MaxPooling2D"), LayerSpec("Flatten"),
       LayerSpec("Dense", {"units": 3, "activation": "softmax"}))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 classes x 10 pictures of 16 x 16 (the lesson's generator, small)."""
    return write_folder(tmp_path_factory.mktemp("images") / "shapes", per_class=10, size=16)


def project(path: Path | str, **fit) -> Project:
    return Project(
        name="Shapes", model=ModelSpec((16, 16, 1), CNN),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data={"source": "images", "path": str(path), "image_size": [16, 16],
              "color_mode": "grayscale", "validation_split": 0.2, "test_split": 0.2,
              "seed": 0},
        fit={"epochs": 2, "batch_size": 8, "seed": 0, **fit})


def test_a_session_trains_on_the_folder_through_fit(make_session, shapes):
    session, recorder = make_session(project(shapes))
    run(session)
    (started,) = recorder.of(Started)
    assert started.fast_path is False  # streamed batches: Keras's fit, not the compiled loop
    assert (started.samples, started.steps_per_epoch) == (18, 3)
    finished = recorder.last
    assert isinstance(finished, Finished) and finished.reason == "completed"
    assert set(session.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(recorder.of(EpochEnd)) == 2
    # Evaluate and Predict on the test part
    scores = session.evaluate("test")
    assert set(scores) == {"loss", "accuracy"} and np.isfinite(scores["loss"])
    outputs = session.predict_split("test")
    ds = session.dataset
    assert outputs.shape == (len(ds.x_test), 3) == (6, 3)
    assert np.allclose(outputs.sum(axis=1), 1, atol=1e-4)
    accuracy = float(np.mean(outputs.argmax(axis=1) == ds.y_test))
    assert accuracy == pytest.approx(scores["accuracy"], abs=1e-6)
    images, predicted = session.predict_files(ds.x_test.paths[:2])
    assert images.shape == (2, 16, 16, 1) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 255
    assert np.allclose(predicted, outputs[:2], atol=1e-5)
    # Continue goes on from the weights and the epoch count
    run(session, 1)
    assert session.epoch == 3 and len(session.history["loss"]) == 3


def test_the_input_shape_follows_the_settings(make_session, shapes):
    colour = project(shapes).replace(model=ModelSpec((20, 12, 3), CNN))
    colour = colour.replace(data={**colour.data, "image_size": [20, 12], "color_mode": "rgb"})
    session, recorder = make_session(colour)
    assert session.dataset.info().input_shape == (20, 12, 3)
    run(session, 1)
    assert isinstance(recorder.last, Finished), getattr(recorder.last, "message", "")
    assert session.read_images([session.dataset.x_train[0]]).shape == (1, 20, 12, 3)


def test_streaming_without_cache_virtual_epochs_and_steps(make_session, shapes, monkeypatch):
    monkeypatch.setattr(image_data, "IMAGE_CACHE_MAX_BYTES", 0)  # read from disk every epoch
    virtual = project(shapes, virtual_epochs={"stop_point": 2, "checkpoints": 3},
                      class_weight="balanced")
    session, recorder = make_session(virtual)
    assert session.dataset.cache is False
    run(session)
    (started,) = recorder.of(Started)
    assert started.epochs == 3 and started.steps_per_epoch == max(1, 36 // 24)
    assert isinstance(recorder.last, Finished) and len(session.history["loss"]) == 3
    steps, recorder2 = make_session(project(shapes, steps_per_epoch=5, epochs=2))
    run(steps)
    assert recorder2.of(Started)[0].steps_per_epoch == 5
    assert isinstance(recorder2.last, Finished), getattr(recorder2.last, "message", "")


def damaged_png(size: int = 16) -> bytes:
    """A PNG whose header, checksums and end are right but whose pixel data is no zlib
    stream: only decoding finds it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data \
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    head = struct.pack(">IIBBBBB", size, size, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", head) + chunk(b"IDAT", b"not zlib" * 8) \
        + chunk(b"IEND", b"")


def test_an_image_damaged_inside_is_named_when_training_stops(make_session, tmp_path):
    folder = write_folder(tmp_path / "shapes", per_class=6, size=16)
    (folder / "square" / "zz_damaged.png").write_bytes(damaged_png())
    session, recorder = make_session(project(folder))
    assert "square/zz_damaged.png" in session.dataset.scan.files  # the header looks whole
    run(session)
    failed = recorder.last
    assert isinstance(failed, Failed)
    assert "could not be decoded by TensorFlow although their headers looked whole" \
        in failed.message
    assert "'square/zz_damaged.png'" in failed.message and "Replace or delete" in failed.message


def test_layerlab_train_on_a_folder(tmp_path, shapes, capsys):
    path = save_project(project(os.path.relpath(shapes, tmp_path)),
                        tmp_path / "shapes.layerlab.json")
    out = tmp_path / "out"
    code = run_cli(["train", str(path), "--out", str(out), "--device", "cpu"])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    assert "18 train / 6 validation / 6 test images, 16x16x1 (grayscale), 3 classes" in stdout
    assert [line.split()[1] for line in stdout.splitlines() if line.startswith("epoch ")] \
        == ["1/2", "2/2"]
    history = json.loads((out / "history.json").read_text())
    assert len(history["val_accuracy"]) == 2
    import keras

    model = keras.saving.load_model(out / "model.keras")
    assert tuple(model.input_shape) == (None, 16, 16, 1)


def test_the_exported_script_trains_on_the_same_folder(tmp_path, shapes):
    (shapes / "circle" / "notes.txt").write_text("not an image")
    try:
        folder = tmp_path / "project"
        folder.mkdir()
        proj = project(shapes, epochs=1)
        script = export_script(proj, folder, folder / "train.py")
        (folder / "train.py").write_text(script)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
        result = subprocess.run([sys.executable, "train.py"], cwd=folder, env=env,
                                capture_output=True, text=True, timeout=300)
    finally:
        (shapes / "circle" / "notes.txt").unlink()
    assert result.returncode == 0, result.stderr[-2000:]
    assert "final: {" in result.stdout and "test: {" in result.stdout


def test_layerlab_train_runs_the_shapes_lesson_as_shipped(tmp_path, capsys):
    """The bundled lesson names its generated folder ("shapes"): `layerlab train` writes it
    on first use, as File > Open Example does (into LAYERLAB_DATA_DIR, a temporary folder
    in the tests), instead of refusing a folder that is not there."""
    from gui_app.core.lessons import list_examples

    lesson = next(x.path for x in list_examples() if x.path.name.startswith("08b"))
    out = tmp_path / "out"
    code = run_cli(["train", str(lesson), "--out", str(out), "--epochs", "1", "--device",
                    "cpu"])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    assert "3 classes" in stdout and "28x28x1" in stdout
    assert len(json.loads((out / "history.json").read_text())["val_accuracy"]) == 1
