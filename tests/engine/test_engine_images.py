"""A folder of images trained in the engine process, driven as the window drives it: the
window's side lists the folder without TensorFlow, the engine reads the pixels, and
Evaluate, the test part's predictions and Predict on image files come back."""

from __future__ import annotations

import numpy as np
import pytest

from gui_app.core.data import load_dataset
from gui_app.core.shapes import write_folder
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
from gui_app.core.training import EpochEnd, Finished, Started


def test_a_folder_of_images_trains_in_the_engine(engine, tmp_path):
    write_folder(tmp_path / "shapes", per_class=8, size=16)
    project = Project(
        name="Shapes", model=ModelSpec((16, 16, 1), (
            LayerSpec("Rescaling", {"scale": 1 / 255}),
            LayerSpec("Conv2D", {"filters": 4, "kernel_size": 3, "activation": "relu"}),
            LayerSpec("GlobalAveragePooling2D"),
            LayerSpec("Dense", {"units": 3, "activation": "softmax"}))),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data={"source": "images", "path": "shapes", "image_size": [16, 16],
              "color_mode": "grayscale", "validation_split": 0.25, "test_split": 0.25},
        fit={"epochs": 2, "batch_size": 4})
    local = load_dataset(project.data, tmp_path)  # the window's side: file lists only
    session = engine.session(project, base_dir=tmp_path, dataset=local)
    events: list = []
    session.subscribe(events.append)
    session.start()
    assert session.wait(120)
    kinds = [type(e) for e in events]
    assert kinds[0] is Started and kinds[-1] is Finished, events[-1]
    assert kinds.count(EpochEnd) == 2 and not events[0].fast_path
    assert set(session.evaluate("test")) == {"loss", "accuracy"}
    outputs = session.predict_split("test")
    assert outputs.shape == (len(local.x_test), 3) == (6, 3)
    images = session.read_images(local.x_test.paths[:2])
    assert images.shape == (2, 16, 16, 1) and images.dtype == np.float32
    seen, predicted = session.predict_files(local.x_test.paths[:2])
    assert np.array_equal(seen, images) and np.allclose(predicted, outputs[:2], atol=1e-5)
    with pytest.raises(ValueError, match="decode"):
        (tmp_path / "not.png").write_text("not an image")
        session.read_images([str(tmp_path / "not.png")])
    session.close()
