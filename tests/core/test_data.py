"""Tests for gui_app.core.data: every source, the splits, the encodings and the error reports."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import pickle
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from gui_app.core import data as data_mod
from gui_app.core.data import (
    DATA_DEFAULTS,
    DATA_SOURCES,
    DataError,
    Dataset,
    class_counts,
    compute_class_weight,
    load_dataset,
    resolve_data,
)
from gui_app.core.spec import DataInfo

TOY = ("circle", "xor", "gaussian", "spiral", "moons", "blobs")


def all_x(ds: Dataset) -> np.ndarray:
    parts = [a for a in (ds.x_train, ds.x_val, ds.x_test) if a is not None]
    return np.concatenate(parts)


def all_y(ds: Dataset) -> np.ndarray:
    parts = [a for a in (ds.y_train, ds.y_val, ds.y_test) if a is not None]
    return np.concatenate(parts)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------- settings


def test_sources_and_defaults_are_the_published_contract() -> None:
    assert DATA_SOURCES == (
        "circle", "xor", "gaussian", "spiral", "moons", "blobs", "sine", "housing", "digits",
        "iris", "wine", "breast_cancer", "keras:mnist", "keras:fashion_mnist", "keras:cifar10",
        "csv", "npz", "images",
    )  # fmt: skip
    assert DATA_DEFAULTS == {
        "source": "circle", "path": None, "features": None, "target": None, "samples": 500,
        "noise": 0.1, "classes": 2, "seed": 0, "validation_split": 0.2, "test_split": 0.0,
        "standardize": False, "labels": "integer", "image_size": [64, 64], "color_mode": "rgb",
    }  # fmt: skip


def test_resolve_data_overlays_defaults_without_touching_the_input() -> None:
    user = {"source": "moons", "samples": 200}
    resolved = resolve_data(user)
    assert resolved == {**DATA_DEFAULTS, "source": "moons", "samples": 200}
    assert user == {"source": "moons", "samples": 200}
    assert resolve_data(None) == DATA_DEFAULTS
    assert resolve_data(None) is not DATA_DEFAULTS


def test_resolve_data_lists_every_problem_with_its_key_path() -> None:
    with pytest.raises(DataError) as info:
        resolve_data(
            {
                "source": "circl",
                "samples": -3,
                "noise": "lots",
                "seed": 1.5,
                "validation_split": 1.0,
                "standardize": "yes",
                "labels": "onehot",
                "colour": "red",
            }
        )
    err = info.value
    keys = [p.split(":")[0] for p in err.problems]
    assert sorted(keys) == sorted(
        [
            "data.colour",
            "data.source",
            "data.samples",
            "data.noise",
            "data.seed",
            "data.validation_split",
            "data.standardize",
            "data.labels",
        ]
    )
    assert "data.samples: expected an integer >= 10, got -3." in err.problems
    assert "Did you mean 'circle'?" in str(err)
    assert str(err) == "\n".join(err.problems)


@pytest.mark.parametrize(
    ("settings", "needle"),
    [
        ({"validation_split": 0.5, "test_split": 0.5}, "data.validation_split + data.test_split"),
        ({"classes": 6}, "data.classes: expected an integer from 2 to 5, got 6"),
        ({"samples": True}, "data.samples"),
        ({"source": "csv"}, "data.path: expected the path of a .csv file"),
        ({"source": "sine", "labels": "one_hot"}, "data.labels: expected 'integer' for 'sine'"),
        ({"features": "a,b"}, "data.features: expected a non-empty list"),
        ({"features": ["a", "a"]}, "data.features: expected each column once"),
        ({"target": 3}, "data.target: expected a column name"),
    ],
)
def test_resolve_data_rejects_bad_values(settings: dict, needle: str) -> None:
    with pytest.raises(DataError, match="expected") as info:
        resolve_data(settings)
    assert needle in str(info.value)


def test_resolve_data_rejects_a_non_mapping() -> None:
    with pytest.raises(DataError, match="data: expected a mapping"):
        resolve_data(["circle"])  # type: ignore[arg-type]


@pytest.mark.parametrize("source", ["circle", "xor", "moons"])
def test_two_class_sources_refuse_more_classes_and_name_those_that_allow_them(source: str) -> None:
    with pytest.raises(DataError) as info:
        load_dataset({"source": source, "classes": 3})
    message = str(info.value)
    assert message.startswith("data.classes:")
    assert "got 3" in message
    for name in ("gaussian", "blobs", "spiral"):
        assert name in message


# ------------------------------------------------------------------------- generated sets


@pytest.mark.parametrize("source", TOY)
def test_generated_sets_have_the_promised_shapes_and_types(source: str) -> None:
    ds = load_dataset({"source": source, "samples": 300, "validation_split": 0.0})
    assert ds.x_train.shape == (300, 2)
    assert ds.x_train.dtype == np.float32
    assert ds.y_train.dtype in (np.int64, np.int32)
    assert set(np.unique(ds.y_train)) == {0, 1}
    assert ds.x_val is None and ds.y_val is None and ds.x_test is None and ds.y_test is None
    assert ds.task == "binary" and ds.num_classes == 2
    assert ds.feature_names == ("x1", "x2")
    assert ds.class_names is not None and len(ds.class_names) == 2
    assert np.isfinite(ds.x_train).all()
    assert ds.mean is None and ds.std is None
    assert ds.info() == DataInfo((2,), (), "binary", 2, "binary", class_counts(ds.y_train, 2))
    assert ds.description == f"{source}: 300 train samples, 2 features, 2 classes"


@pytest.mark.parametrize(("source", "classes"), [("gaussian", 4), ("blobs", 5), ("spiral", 3)])
def test_multi_class_variants(source: str, classes: int) -> None:
    ds = load_dataset({"source": source, "classes": classes, "samples": 301})
    counts = np.bincount(all_y(ds), minlength=classes)
    assert len(counts) == classes
    assert counts.max() - counts.min() <= 1  # classes are balanced
    assert ds.task == "multiclass" and ds.num_classes == classes
    assert ds.info().label_kind == "integer"


def test_circle_is_an_inner_disk_inside_an_outer_ring() -> None:
    ds = load_dataset({"source": "circle", "noise": 0.0, "validation_split": 0.0})
    radius = np.hypot(ds.x_train[:, 0], ds.x_train[:, 1])
    assert radius[ds.y_train == 1].max() <= 0.5 + 1e-6
    assert radius[ds.y_train == 0].min() >= 0.7 - 1e-6
    assert ds.class_names == ("outer ring", "inner disk")


def test_xor_labels_follow_the_quadrants() -> None:
    ds = load_dataset({"source": "xor", "noise": 0.0, "validation_split": 0.0})
    x, y = ds.x_train, ds.y_train
    assert np.array_equal(y, ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(y.dtype))


def test_moons_lie_on_two_half_circles() -> None:
    ds = load_dataset({"source": "moons", "noise": 0.0, "validation_split": 0.0})
    upper, lower = ds.x_train[ds.y_train == 0], ds.x_train[ds.y_train == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1, lower[:, 1] - 0.5), 1.0, atol=1e-5)
    assert (upper[:, 1] >= -1e-6).all() and (lower[:, 1] <= 0.5 + 1e-6).all()


def test_noise_blurs_the_clean_shape() -> None:
    clean = load_dataset({"source": "circle", "noise": 0.0, "validation_split": 0.0})
    noisy = load_dataset({"source": "circle", "noise": 0.3, "validation_split": 0.0})
    r_clean = np.hypot(*clean.x_train[clean.y_train == 1].T)
    r_noisy = np.hypot(*noisy.x_train[noisy.y_train == 1].T)
    assert r_noisy.max() > r_clean.max() + 0.2


def test_blobs_have_the_course_means_and_covariances() -> None:
    ds = load_dataset(
        {"source": "blobs", "samples": 10000, "noise": 0.0, "validation_split": 0.0, "seed": 3}
    )
    expected = [
        ([0.0, -1.0], [[1.0, 0.5], [0.5, 1.0]]),
        ([5.0, 6.0], [[2.0, 0.25], [0.25, 2.0]]),
    ]
    for label, (mean, cov) in enumerate(expected):
        points = ds.x_train[ds.y_train == label].astype(np.float64)
        assert len(points) == 5000
        np.testing.assert_allclose(points.mean(axis=0), mean, atol=0.08)
        np.testing.assert_allclose(np.cov(points, rowvar=False), cov, atol=0.12)


def test_spiral_arms_wind_around_the_centre() -> None:
    ds = load_dataset({"source": "spiral", "noise": 0.0, "validation_split": 0.0, "classes": 2})
    for label in (0, 1):
        arm = ds.x_train[ds.y_train == label]
        radius = np.hypot(arm[:, 0], arm[:, 1])
        assert radius.min() < 0.05 and radius.max() > 0.95
    # the two arms are point-reflections of each other (t shifted by pi)
    arm0 = ds.x_train[ds.y_train == 0]
    arm1 = ds.x_train[ds.y_train == 1]
    order0, order1 = np.argsort(np.hypot(*arm0.T)), np.argsort(np.hypot(*arm1.T))
    np.testing.assert_allclose(arm0[order0], -arm1[order1], atol=1e-5)


# ------------------------------------------------------------------------- regression


def test_sine_is_sin_of_x_plus_noise() -> None:
    ds = load_dataset({"source": "sine", "noise": 0.0, "samples": 200, "validation_split": 0})
    assert ds.task == "regression" and ds.num_classes is None and ds.class_names is None
    assert ds.x_train.shape == (200, 1) and ds.y_train.shape == (200,)
    assert ds.y_train.dtype == np.float32
    assert ds.x_train.min() >= -3 and ds.x_train.max() <= 3
    np.testing.assert_allclose(ds.y_train, np.sin(ds.x_train[:, 0]), atol=1e-6)
    noisy = load_dataset({"source": "sine", "noise": 0.2, "samples": 2000, "validation_split": 0})
    residual = noisy.y_train - np.sin(noisy.x_train[:, 0])
    assert 0.17 < residual.std() < 0.23
    info = ds.info()
    assert (info.label_kind, info.task, info.label_shape, info.class_counts) == (
        "float",
        "regression",
        (),
        (),
    )


def test_housing_prices_grow_with_area_and_the_scales_differ() -> None:
    ds = load_dataset({"source": "housing", "samples": 1000, "validation_split": 0})
    assert ds.feature_names == ("area_m2", "rooms")
    area, rooms = ds.x_train[:, 0], ds.x_train[:, 1]
    assert area.min() >= 30 and area.max() <= 200
    assert set(np.unique(rooms)) <= set(range(1, 9))
    assert np.corrcoef(area, ds.y_train)[0, 1] > 0.9
    assert area.std() > 10 * rooms.std()  # why standardize matters here
    scaled = load_dataset(
        {"source": "housing", "samples": 1000, "validation_split": 0, "standardize": True}
    )
    np.testing.assert_allclose(scaled.x_train.std(axis=0), [1.0, 1.0], atol=1e-4)


# ------------------------------------------------------------------------- scikit-learn sets


@pytest.mark.parametrize(
    ("source", "n", "features", "classes", "first_class", "first_feature"),
    [
        ("iris", 150, 4, 3, "setosa", "sepal length (cm)"),
        ("wine", 178, 13, 3, "class_0", "alcohol"),
        ("breast_cancer", 569, 30, 2, "malignant", "mean radius"),
        ("digits", 1797, 64, 10, "0", "pixel_0_0"),
    ],
)
def test_bundled_sets(
    source: str, n: int, features: int, classes: int, first_class: str, first_feature: str
) -> None:
    ds = load_dataset({"source": source, "validation_split": 0.2, "samples": 10})
    assert len(all_x(ds)) == n  # `samples` does not cut real sets
    assert ds.x_train.shape[1:] == (features,) and ds.x_train.dtype == np.float32
    assert ds.num_classes == classes and ds.class_names is not None
    assert ds.class_names[0] == first_class and len(ds.class_names) == classes
    assert ds.feature_names[0] == first_feature and len(ds.feature_names) == features
    assert ds.task == ("binary" if classes == 2 else "multiclass")
    assert len(ds.x_val) == round(n * 0.2)


# ------------------------------------------------------------------------- splits


def test_same_settings_give_identical_arrays_and_another_seed_does_not() -> None:
    settings = {"source": "spiral", "classes": 3, "test_split": 0.1, "standardize": True}
    a, b = load_dataset(settings), load_dataset(dict(settings))
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test", "mean", "std"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name
    c = load_dataset({**settings, "seed": 1})
    assert not np.array_equal(a.x_train, c.x_train)


def test_split_sizes_and_no_sample_is_lost_or_repeated() -> None:
    base = {"source": "gaussian", "samples": 200, "noise": 0.3}
    whole = load_dataset({**base, "validation_split": 0.0})
    ds = load_dataset({**base, "validation_split": 0.25, "test_split": 0.1})
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (130, 50, 20)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (130, 50, 20)
    assert (
        ds.description
        == "gaussian: 130 train / 50 validation / 20 test samples, 2 features, 2 classes"
    )

    def rows(x: np.ndarray, y: np.ndarray) -> list[tuple]:
        return sorted(map(tuple, np.column_stack([x, y]).tolist()))

    assert rows(all_x(ds), all_y(ds)) == rows(whole.x_train, whole.y_train)


def test_split_shuffles_so_both_classes_reach_validation() -> None:
    ds = load_dataset({"source": "circle", "samples": 100})
    assert set(np.unique(ds.y_val)) == {0, 1}


def test_no_validation_and_no_test() -> None:
    ds = load_dataset({"source": "moons", "samples": 50, "validation_split": 0})
    assert len(ds.x_train) == 50 and ds.x_val is None and ds.y_val is None and ds.x_test is None


def test_standardisation_is_fitted_on_the_training_part_only() -> None:
    base = {"source": "blobs", "samples": 400, "test_split": 0.2}
    raw = load_dataset(base)
    ds = load_dataset({**base, "standardize": True})
    np.testing.assert_allclose(ds.mean, raw.x_train.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(ds.std, raw.x_train.std(axis=0), rtol=1e-5)
    # train-only statistics differ from whole-data ones, so this is a real distinction
    assert not np.allclose(ds.mean, all_x(raw).mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_train.std(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(ds.x_val, (raw.x_val - ds.mean) / ds.std, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ds.x_test, (raw.x_test - ds.mean) / ds.std, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ds.transform(raw.x_val[:3]), ds.x_val[:3], atol=1e-6)
    assert ds.transform([[0.0, -1.0]]).dtype == np.float32
    assert np.array_equal(raw.transform([[1.5, 2.5]]), np.array([[1.5, 2.5]], np.float32))
    assert ds.description.endswith(", standardised")


def test_constant_feature_gets_std_one(tmp_path: Path) -> None:
    lines = ["a,const,label"] + [f"{i},7,{i % 2}" for i in range(20)]
    path = write_csv(tmp_path / "c.csv", "\n".join(lines) + "\n")
    ds = load_dataset({"source": "csv", "path": str(path), "standardize": True})
    assert ds.std[1] == 1.0 and ds.mean[1] == 7.0
    assert np.all(ds.x_train[:, 1] == 0.0)


def test_one_hot_labels() -> None:
    ints = load_dataset({"source": "gaussian", "classes": 3, "test_split": 0.1})
    hot = load_dataset({"source": "gaussian", "classes": 3, "test_split": 0.1, "labels": "one_hot"})
    for part in ("y_train", "y_val", "y_test"):
        y = getattr(hot, part)
        assert y.dtype == np.float32 and y.shape == (len(getattr(ints, part)), 3)
        assert np.array_equal(y.argmax(axis=1), getattr(ints, part))
        assert np.all(y.sum(axis=1) == 1)
    info = hot.info()
    assert (info.label_kind, info.label_shape, info.num_classes) == ("one_hot", (3,), 3)
    assert info.class_counts == class_counts(ints.y_train, 3)
    binary = load_dataset({"source": "circle", "labels": "one_hot"})
    assert binary.y_train.shape[1:] == (2,) and binary.info().label_kind == "one_hot"


# ------------------------------------------------------------------------- class weights


def test_class_weight_equals_scikit_learns() -> None:
    from sklearn.utils.class_weight import compute_class_weight as sk_weights

    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    expected = sk_weights("balanced", classes=np.arange(3), y=y)
    weights = compute_class_weight(y, 3)
    assert list(weights) == [0, 1, 2]
    np.testing.assert_allclose([weights[i] for i in range(3)], expected, rtol=1e-12)
    assert all(type(w) is float for w in weights.values())
    one_hot = np.eye(3, dtype=np.float32)[y]
    assert compute_class_weight(one_hot, 3) == weights
    assert class_counts(y, 3) == (70, 20, 10) == class_counts(one_hot, 3)


def test_class_weight_on_a_real_dataset_and_an_absent_class() -> None:
    from sklearn.utils.class_weight import compute_class_weight as sk_weights

    ds = load_dataset({"source": "breast_cancer"})
    expected = sk_weights("balanced", classes=np.arange(2), y=ds.y_train)
    np.testing.assert_allclose(list(compute_class_weight(ds.y_train, 2).values()), expected)
    assert class_counts(np.array([0, 0, 2]), 4) == (2, 0, 1, 0)
    weights = compute_class_weight(np.array([0, 0, 2]), 4)
    assert weights[1] == 1.0 and weights[0] == pytest.approx(3 / 8)
    with pytest.raises(DataError, match="expected class indices from 0 to 1"):
        class_counts(np.array([0, 5]), 2)


# ------------------------------------------------------------------------- CSV


def test_csv_numeric_target_with_few_values_is_classification(tmp_path: Path) -> None:
    lines = ["height,weight,label"] + [f"{i},{i * 2.5},{i % 3}" for i in range(30)]
    write_csv(tmp_path / "people.csv", "\n".join(lines))
    ds = load_dataset(
        {"source": "csv", "path": "people.csv", "validation_split": 0}, base_dir=tmp_path
    )
    assert ds.feature_names == ("height", "weight")
    assert ds.task == "multiclass" and ds.num_classes == 3 and ds.class_names == ("0", "1", "2")
    order = np.argsort(ds.x_train[:, 0])
    np.testing.assert_array_equal(ds.x_train[order, 0], np.arange(30))
    np.testing.assert_array_equal(ds.x_train[order, 1], np.arange(30) * 2.5)
    np.testing.assert_array_equal(ds.y_train[order], np.arange(30) % 3)
    assert ds.description == "people.csv: 30 train samples, 2 features, 3 classes"


def test_csv_string_labels_map_to_sorted_integers(tmp_path: Path) -> None:
    species = ["virginica", "setosa", "versicolor"]
    lines = ["sepal,petal,species"] + [f"{i},{i + 1},{species[i % 3]}" for i in range(12)]
    path = write_csv(tmp_path / "flowers.csv", "\n".join(lines))
    ds = load_dataset({"source": "csv", "path": str(path), "validation_split": 0})
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    for x, y in zip(ds.x_train, ds.y_train, strict=True):
        assert ds.class_names[y] == species[int(x[0]) % 3]


def test_csv_labels_like_minus_one_and_one_are_mapped(tmp_path: Path) -> None:
    lines = ["a,b,y"] + [f"{i},{-i},{1 if i % 2 else -1}" for i in range(10)]
    path = write_csv(tmp_path / "pm.csv", "\n".join(lines))
    ds = load_dataset({"source": "csv", "path": str(path), "validation_split": 0})
    assert ds.task == "binary" and ds.class_names == ("-1", "1")
    odd = ds.x_train[:, 0] % 2 == 1
    assert np.all(ds.y_train[odd] == 1) and np.all(ds.y_train[~odd] == 0)


def test_csv_float_target_is_regression_and_refuses_one_hot(tmp_path: Path) -> None:
    lines = ["x,y"] + [f"{i},{i * 0.37:.3f}" for i in range(15)]
    path = write_csv(tmp_path / "r.csv", "\n".join(lines))
    ds = load_dataset({"source": "csv", "path": str(path)})
    assert ds.task == "regression" and ds.y_train.dtype == np.float32 and ds.y_train.ndim == 1
    with pytest.raises(DataError, match="data.labels: expected 'integer' for this csv data"):
        load_dataset({"source": "csv", "path": str(path), "labels": "one_hot"})


def test_csv_choose_features_and_target_and_semicolons(tmp_path: Path) -> None:
    lines = ["id;kind;a;b"] + [f"{i};{'ab'[i % 2]};{i / 2};{i * 3}" for i in range(10)]
    path = write_csv(tmp_path / "semi.csv", "\n".join(lines))
    ds = load_dataset(
        {
            "source": "csv",
            "path": str(path),
            "features": ["b", "a"],
            "target": "kind",
            "validation_split": 0,
        }
    )
    assert ds.feature_names == ("b", "a") and ds.class_names == ("a", "b")
    np.testing.assert_allclose(ds.x_train[:, 0], ds.x_train[:, 1] * 6)


def test_csv_reports_every_missing_and_text_cell_with_row_and_column(tmp_path: Path) -> None:
    text = (
        "age,income,label\n"  # row 1
        "30,1000,yes\n"  # row 2
        ",2000,no\n"  # row 3: empty age
        "41,n/a,yes\n"  # row 4: missing marker
        "52,lots,no\n"  # row 5: text
        "60,3000,\n"  # row 6: empty target
        "18,1500,no\n"  # row 7
    )
    path = write_csv(tmp_path / "people.csv", text)
    with pytest.raises(DataError) as info:
        load_dataset({"source": "csv", "path": str(path)})
    problems = info.value.problems
    assert problems[:4] == [
        "people.csv row 3, column 'age': expected a number, got an empty cell.",
        "people.csv row 4, column 'income': expected a number, got the missing-value marker 'n/a'.",
        "people.csv row 5, column 'income': expected a number, got the text 'lots'.",
        "people.csv row 6, column 'label' (the target): "
        "expected a label or value, got an empty cell.",
    ]
    assert len(problems) == 5 and "does not drop rows silently" in problems[4]


def test_csv_lists_twenty_problems_then_counts_the_rest(tmp_path: Path) -> None:
    lines = ["a,b,y"] + [f"{i},{'' if i % 2 else i},{i % 2}" for i in range(60)]
    path = write_csv(tmp_path / "holes.csv", "\n".join(lines))
    with pytest.raises(DataError) as info:
        load_dataset({"source": "csv", "path": str(path)})
    problems = info.value.problems
    assert len(problems) == 22
    assert problems[0] == "holes.csv row 3, column 'b': expected a number, got an empty cell."
    assert problems[20] == "... and 10 more problem cells."


def test_csv_text_column_is_reported_once(tmp_path: Path) -> None:
    lines = ["city,area,y"] + [f"{c},{i},{i % 2}" for i, c in enumerate(["Oslo", "Rome"] * 5)]
    path = write_csv(tmp_path / "cities.csv", "\n".join(lines))
    with pytest.raises(DataError) as info:
        load_dataset({"source": "csv", "path": str(path)})
    assert info.value.problems[0].startswith(
        "cities.csv column 'city': expected numbers, got text in every row (row 2: 'Oslo')."
    )
    ds = load_dataset({"source": "csv", "path": str(path), "features": ["area"]})
    assert ds.feature_names == ("area",)


def test_csv_header_and_column_mistakes(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", "a,b,y\n1,2,0\n3,4\n5,6,1\n")
    with pytest.raises(DataError, match=r"d.csv row 3: expected 3 cells like the header, got 2"):
        load_dataset({"source": "csv", "path": str(path)})
    good = write_csv(
        tmp_path / "g.csv", "a,b,y\n" + "".join(f"{i},{i},{i % 2}\n" for i in range(9))
    )
    with pytest.raises(DataError) as info:
        load_dataset({"source": "csv", "path": str(good), "target": "z", "features": ["a", "bb"]})
    message = str(info.value)
    assert "data.target: expected a column of g.csv, got 'z'" in message
    assert "data.features: expected a column of g.csv, got 'bb'" in message
    assert "Did you mean 'b'?" in message
    empty = write_csv(tmp_path / "e.csv", "")
    with pytest.raises(DataError, match="expected a header row"):
        load_dataset({"source": "csv", "path": str(empty)})


def test_missing_and_unreadable_files_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        load_dataset({"source": "csv", "path": "nope.csv"}, base_dir=tmp_path)
    assert str(tmp_path / "nope.csv") in str(info.value)
    assert str(info.value).startswith("data.path: expected an existing CSV file")
    with pytest.raises(DataError, match="got the folder"):
        load_dataset({"source": "npz", "path": str(tmp_path)})
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,y\ncaf\xe9,1\n".encode("latin-1"))
    with pytest.raises(DataError, match="expected a UTF-8 text CSV file"):
        load_dataset({"source": "csv", "path": str(latin)})


# ------------------------------------------------------------------------- NPZ


def test_npz_with_x_and_y(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = (x[:, 0] > 0).astype(np.int32)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    ds = load_dataset({"source": "npz", "path": "d.npz", "test_split": 0.2}, base_dir=tmp_path)
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (30, 10, 10)
    assert ds.x_train.dtype == np.float32 and ds.task == "binary"
    assert ds.feature_names == ("x0", "x1", "x2")
    np.testing.assert_array_equal(ds.y_train, ds.x_train[:, 0] > 0)


def test_npz_with_its_own_test_set_keeps_it(tmp_path: Path) -> None:
    x_train = np.arange(40 * 4, dtype=np.uint8).reshape(40, 2, 2)
    y_train = np.arange(40) % 4
    x_test = np.full((7, 2, 2), 9, dtype=np.uint8)
    y_test = np.array([0, 1, 2, 3, 0, 1, 2])
    path = tmp_path / "own.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    ds = load_dataset({"source": "npz", "path": str(path), "test_split": 0.5})
    np.testing.assert_array_equal(ds.x_test, x_test.astype(np.float32))
    np.testing.assert_array_equal(ds.y_test, y_test)
    assert (len(ds.x_train), len(ds.x_val)) == (32, 8)
    assert ds.num_classes == 4 and ds.task == "multiclass" and ds.feature_names == ()
    assert ds.info().input_shape == (2, 2)
    assert (
        ds.description == "own.npz: 32 train / 8 validation / 7 test samples, 2x2 inputs, 4 classes"
    )


def test_npz_one_hot_labels_and_float_targets(tmp_path: Path) -> None:
    y = np.arange(30) % 3
    np.savez(tmp_path / "oh.npz", x=np.arange(30.0), y=np.eye(3)[y])
    ds = load_dataset({"source": "npz", "path": str(tmp_path / "oh.npz"), "validation_split": 0})
    assert ds.num_classes == 3 and ds.x_train.shape == (30, 1)
    np.testing.assert_array_equal(ds.y_train, ds.x_train[:, 0].astype(int) % 3)
    np.savez(tmp_path / "reg.npz", x=np.arange(30.0), y=np.linspace(0, 1, 30))
    reg = load_dataset({"source": "npz", "path": str(tmp_path / "reg.npz")})
    assert reg.task == "regression" and reg.y_train.dtype == np.float32


def test_npz_missing_arrays_are_named(tmp_path: Path) -> None:
    path = tmp_path / "wrong.npz"
    np.savez(path, features=np.zeros((5, 2)), labels=np.zeros(5))
    with pytest.raises(DataError) as info:
        load_dataset({"source": "npz", "path": str(path)})
    message = str(info.value)
    assert "expected arrays named x and y, or x_train and y_train" in message
    assert "got features, labels" in message


def test_npz_object_array_is_refused_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [1, 2], [3]
    np.savez(path, x=ragged, y=np.array([0, 1]))
    with pytest.raises(DataError) as info:
        load_dataset({"source": "npz", "path": str(path)})
    assert "object array 'x'" in str(info.value) and "unpickling" in str(info.value)


def test_npz_not_an_archive_and_bad_values(tmp_path: Path) -> None:
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"this is not a zip file")
    with pytest.raises(DataError, match="expected an .npz archive written by np.savez"):
        load_dataset({"source": "npz", "path": str(junk)})
    single = tmp_path / "single.npz"
    with open(single, "wb") as f:
        np.save(f, np.zeros(3))
    with pytest.raises(DataError, match="got a single .npy array"):
        load_dataset({"source": "npz", "path": str(single)})
    x = np.ones((10, 2))
    x[3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.arange(10) % 2)
    with pytest.raises(DataError, match=r"NaN or infinity in 1 rows \(first: 3\)"):
        load_dataset({"source": "npz", "path": str(tmp_path / "nan.npz")})
    np.savez(tmp_path / "len.npz", x=np.ones((10, 2)), y=np.arange(9) % 2)
    with pytest.raises(DataError, match="got 10 samples and 9 labels"):
        load_dataset({"source": "npz", "path": str(tmp_path / "len.npz")})


# ------------------------------------------------------------------------- Keras's sets


class KerasHome(type(Path())):  # type: ignore[misc]
    """A Keras home folder that also records which URLs the loader tried to download."""

    calls: list[str]


@pytest.fixture
def keras_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KerasHome:
    """An empty Keras cache, and a downloader that fails as it does with no network."""
    home = KerasHome(tmp_path / "keras_home")
    monkeypatch.setenv("KERAS_HOME", str(home))
    calls: list[str] = []

    def offline(fname: str, origin: str, *args: object, **kwargs: object) -> Path:
        calls.append(origin)
        raise OSError(f"URL fetch failure on {origin}: no network")

    monkeypatch.setattr(data_mod, "_download", offline)
    monkeypatch.setattr(data_mod, "_dataset_dirs", lambda: [data_mod.keras_datasets_dir()])
    home.calls = calls
    return home


def test_keras_mnist_without_cache_names_the_file_and_url(keras_home: KerasHome) -> None:
    with pytest.raises(DataError) as info:
        load_dataset({"source": "keras:mnist"})
    message = str(info.value)
    assert str(keras_home / "datasets" / "mnist.npz") in message
    assert "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in message
    assert "no network" in message
    assert keras_home.calls == [
        "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
    ]


def test_keras_mnist_from_the_cache(keras_home: KerasHome) -> None:
    folder = keras_home / "datasets"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, (50, 28, 28), dtype=np.uint8)
    y_train = (np.arange(50) % 10).astype(np.uint8)
    x_test = np.full((10, 28, 28), 255, dtype=np.uint8)
    y_test = np.arange(10, dtype=np.uint8)
    np.savez(folder / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    ds = load_dataset({"source": "keras:mnist", "validation_split": 0.2, "test_split": 0.3})
    assert keras_home.calls == []
    assert ds.x_train.shape == (40, 28, 28) and ds.x_val.shape == (10, 28, 28)
    assert ds.x_train.dtype == np.float32 and 0 <= ds.x_train.min() and ds.x_train.max() <= 1
    np.testing.assert_array_equal(ds.x_test, np.ones((10, 28, 28), np.float32))
    assert ds.y_test.dtype == np.int64 and ds.y_test.shape == (10,)
    assert ds.num_classes == 10 and ds.class_names == tuple("0123456789")
    pixels = np.concatenate([ds.x_train, ds.x_val]) * 255
    assert sorted(map(bytes, pixels.round().astype(np.uint8))) == sorted(map(bytes, x_train))
    assert ds.info() == DataInfo(
        (28, 28), (), "integer", 10, "multiclass", class_counts(ds.y_train, 10)
    )


def test_keras_damaged_cache_file_is_a_data_error(keras_home: KerasHome) -> None:
    (keras_home / "datasets").mkdir(parents=True)
    (keras_home / "datasets" / "mnist.npz").write_bytes(b"half a download")
    with pytest.raises(DataError, match="expected an .npz archive"):
        load_dataset({"source": "keras:mnist"})
    np.savez(keras_home / "datasets" / "mnist.npz", x=np.zeros(3))
    with pytest.raises(DataError, match="expected arrays x_train, y_train, x_test, y_test"):
        load_dataset({"source": "keras:mnist"})


def test_keras_fashion_mnist_from_the_cache(keras_home: KerasHome) -> None:
    folder = keras_home / "datasets" / "fashion-mnist"
    folder.mkdir(parents=True)
    with pytest.raises(DataError) as info:
        load_dataset({"source": "keras:fashion_mnist"})
    assert str(folder / "train-labels-idx1-ubyte.gz") in str(info.value)

    def idx(name: str, header: int, payload: np.ndarray) -> None:
        with gzip.open(folder / name, "wb") as f:
            f.write(bytes(header) + payload.astype(np.uint8).tobytes())

    idx("train-labels-idx1-ubyte.gz", 8, np.arange(20) % 10)
    idx("train-images-idx3-ubyte.gz", 16, np.full((20, 28, 28), 51))
    idx("t10k-labels-idx1-ubyte.gz", 8, np.arange(5))
    idx("t10k-images-idx3-ubyte.gz", 16, np.zeros((5, 28, 28)))
    ds = load_dataset({"source": "keras:fashion_mnist", "validation_split": 0})
    assert ds.x_train.shape == (20, 28, 28) and np.allclose(ds.x_train, 0.2)
    assert ds.y_test.tolist() == [0, 1, 2, 3, 4]
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


def test_keras_cifar10_from_the_downloaded_archive(keras_home: KerasHome) -> None:
    folder = keras_home / "datasets"
    with pytest.raises(DataError) as info:
        load_dataset({"source": "keras:cifar10"})
    assert str(folder / "cifar-10-python.tar.gz") in str(info.value)
    assert "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz" in str(info.value)

    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / "cifar-10-python.tar.gz", "w:gz") as tar:
        for i, name in enumerate([f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]):
            pixels = np.zeros((2, 3, 32, 32), np.uint8)
            pixels[:, 0] = 255  # red channel first, as CIFAR stores it
            batch = {b"data": pixels.reshape(2, 3072), b"labels": [i, 9 - i]}
            blob = pickle.dumps(batch, protocol=2)
            member = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            member.size = len(blob)
            tar.addfile(member, io.BytesIO(blob))
    ds = load_dataset({"source": "keras:cifar10", "validation_split": 0})
    assert ds.x_train.shape == (10, 32, 32, 3) and ds.x_test.shape == (2, 32, 32, 3)
    assert np.all(ds.x_train[..., 0] == 1.0) and np.all(ds.x_train[..., 1:] == 0.0)
    assert sorted(ds.y_train.tolist()) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
    assert ds.y_test.tolist() == [5, 4] and ds.class_names[0] == "airplane"


def test_cifar_batches_cannot_run_code(keras_home: KerasHome) -> None:
    folder = keras_home / "datasets" / "cifar-10-batches-py"
    folder.mkdir(parents=True)

    class Boom:
        def __reduce__(self) -> tuple:
            return (print, ("pwned",))

    for name in [f"data_batch_{j}" for j in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps({b"data": Boom(), b"labels": [0]}))
    with pytest.raises(DataError, match="damaged or incomplete.*refusing to load builtins.print"):
        load_dataset({"source": "keras:cifar10"})


# ------------------------------------------------------------------------- start-up cost


def test_importing_the_module_does_not_import_keras_or_sklearn() -> None:
    code = (
        "import gui_app.core.data, sys; "
        "assert 'keras' not in sys.modules, 'keras imported'; "
        "assert 'sklearn' not in sys.modules, 'sklearn imported'; "
        "assert 'tensorflow' not in sys.modules, 'tensorflow imported'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


# ------------------------------------------------------------------ the dataset downloader


def _served(tmp_path: Path, payload: bytes) -> str:
    """A `file://` URL: urllib serves it as it would an HTTP download, with no network."""
    source = tmp_path / "served.bin"
    source.write_bytes(payload)
    return source.as_uri()


def test_download_lands_in_the_keras_cache_when_the_hash_matches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    payload = b"pretend dataset" * 1000
    url = _served(tmp_path, payload)
    got = data_mod._download("mnist.npz", url, "", hashlib.sha256(payload).hexdigest())
    assert got == tmp_path / "home" / "datasets" / "mnist.npz"
    assert got.read_bytes() == payload
    assert [p.name for p in got.parent.iterdir()] == ["mnist.npz"]  # no partial file left


def test_download_with_the_wrong_hash_or_too_big_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "home"))
    url = _served(tmp_path, b"x" * 5000)
    with pytest.raises(OSError, match="SHA-256 is .*expected 00"):
        data_mod._download("mnist.npz", url, "", "00" * 32)
    monkeypatch.setattr(data_mod, "DOWNLOAD_MAX_BYTES", 1000)
    with pytest.raises(OSError, match="larger than"):
        data_mod._download("fashion.gz", url, "fashion-mnist")
    leftovers = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert leftovers == []


def test_loading_an_uncached_keras_dataset_never_imports_keras(tmp_path: Path) -> None:
    """The window loads data in its own process: a download there must not import Keras."""
    code = (
        "import sys, gui_app.core.data as d\n"
        "try:\n"
        "    d.load_dataset({'source': 'keras:mnist'})\n"
        "except d.DataError as e:\n"
        "    print('refused:', str(e)[:60])\n"
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules\n"
    )
    env = dict(os.environ, KERAS_HOME=str(tmp_path / "home"), HOME=str(tmp_path),
               no_proxy="", NO_PROXY="", http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout


def test_switching_source_drops_the_old_sources_settings() -> None:
    from gui_app.core.data import switch_source

    csv_data = {"source": "csv", "path": "a.csv", "features": ["x"], "target": "y",
                "seed": 3, "validation_split": 0.3, "standardize": True}
    out = switch_source(csv_data, {"source": "circle"})
    assert out == {"source": "circle", "seed": 3, "validation_split": 0.3,
                   "standardize": True}
    same = switch_source({"source": "circle", "noise": 0.3}, {"samples": 100})
    assert same == {"source": "circle", "noise": 0.3, "samples": 100}
    load_dataset(out)  # valid as it stands
