"""The sample of a folder of images that the boundary plane is laid through
(`core.image_sample`), and the size of the plane's grid for convolutions and images."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from gui_app.core.boundary import forward_cost, make_plane, plane_probe, plane_resolution
from gui_app.core.image_data import load_image_dataset
from gui_app.core.image_sample import (
    SAMPLE_TRAIN,
    ImageSample,
    pixel_names,
    read_image_sample,
    sample_sizes,
    spread_rows,
)
from gui_app.core.shapes import write_folder


def test_spread_rows_takes_every_class_in_turn_and_the_same_rows_each_time():
    labels = np.array([0] * 90 + [1] * 8 + [2] * 30)
    rows = spread_rows(labels, 30)
    assert len(rows) == 30 and np.all(np.diff(rows) > 0)
    assert np.bincount(labels[rows]).tolist() == [11, 8, 11]  # the rare class whole
    assert spread_rows(labels, 30).tolist() == rows.tolist()
    assert spread_rows(labels, 30, seed=1).tolist() != rows.tolist()
    one_hot = np.eye(3, dtype=np.float32)[labels]
    assert spread_rows(one_hot, 30).tolist() == rows.tolist()
    assert spread_rows(labels, 500).tolist() == list(range(len(labels)))


def test_sample_sizes_shrink_for_big_images():
    assert sample_sizes((28, 28, 1)) == (500, 150)
    train, val = sample_sizes((224, 224, 3))
    assert 20 <= train < SAMPLE_TRAIN and val >= 0
    assert (train + val) * 224 * 224 * 3 * 4 <= 48 * 2**20 + 224 * 224 * 3 * 4


def test_pixel_names_follow_numpys_order():
    names = pixel_names((2, 3, 1))
    assert names[4] == "pixel (row 2, column 2)" and len(names) == 6
    rgb = pixel_names((2, 2, 3))
    assert rgb[4] == "pixel (row 1, column 2) green"
    assert pixel_names((224, 224, 3)) == ()  # too many to choose from: none made


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("sample") / "shapes"
    write_folder(root, per_class=40, size=8, seed=2)
    return root


def test_read_image_sample_asks_once_and_keeps_the_folder_order(folder, monkeypatch):
    cfg = {"path": str(folder), "image_size": [8, 8], "color_mode": "grayscale",
           "validation_split": 0.2, "test_split": 0.1, "seed": 0, "labels": "integer"}
    ds = load_image_dataset(cfg, None)
    monkeypatch.setattr("gui_app.core.image_sample.SAMPLE_TRAIN", 30)
    monkeypatch.setattr("gui_app.core.image_sample.SAMPLE_VAL", 6)
    asked: list[list[str]] = []

    def read(paths: list[str]) -> np.ndarray:  # the engine's decoding, stood in for
        asked.append(paths)
        return np.stack([np.full((8, 8, 1), float(len(p)), np.float32) for p in paths])

    sample = read_image_sample(ds, read)
    assert len(asked) == 1 and isinstance(sample, ImageSample) and not sample.streamed
    assert sample.x_train.shape == (30, 8, 8, 1) and sample.x_val.shape == (6, 8, 8, 1)
    assert np.bincount(sample.y_train).tolist() == [10, 10, 10]
    paths = ds.x_train.paths
    rows = [paths.index(p) for p in sample.paths_train]
    assert rows == sorted(rows)  # the folder's order: the labels stay with their images
    np.testing.assert_array_equal(sample.y_train, ds.y_train[rows])
    assert sample.path_of("validation", 2) == sample.paths_val[2]
    assert "30 of the 84 training images and 6 of the 24 validation" in sample.note
    assert sample.feature_names[9] == "pixel (row 2, column 2)"
    # the plane and its probe work on the sample as on any wide array data
    real = np.random.default_rng(0).uniform(0, 255, sample.x_train.shape).astype(np.float32)
    plane = make_plane(real)
    assert plane.shape == (8, 8, 1)
    probe = plane_probe(plane, real, 3, "multiclass", resolution=10)
    assert probe.points.shape == (100, 8, 8, 1)
    with pytest.raises(ValueError, match="expected 36 images, got 1"):
        read_image_sample(ds, lambda p: np.zeros((1, 8, 8, 1), np.float32))


def test_a_convolution_costs_its_weights_at_every_position():
    rows = [SimpleNamespace(type="Rescaling", output_shape=(None, 28, 28, 1), params=0),
            SimpleNamespace(type="Conv2D", output_shape=(None, 26, 26, 16), params=160),
            SimpleNamespace(type="Flatten", output_shape=(None, 10816), params=0),
            SimpleNamespace(type="Dense", output_shape=(None, 3), params=32451)]
    assert forward_cost(rows) == 160 * 26 * 26 + 32451
    embedding = [SimpleNamespace(type="Embedding", output_shape=(None, 100, 16),
                                 params=160_000)]
    assert forward_cost(embedding) == 0
    # a Dense stack costs its parameters: the grid is as before
    assert plane_resolution(forward_cost([rows[-1]])) == plane_resolution(32451)
    # the grid's inputs stay bounded for big images, whatever the model
    assert plane_resolution(100, values=64 * 64 * 3) == 26
    assert plane_resolution(100, values=784) == 80
    assert plane_resolution(100, values=224 * 224 * 3) == 12
