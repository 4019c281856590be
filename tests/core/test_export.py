"""Tests for gui_app.core.export: exported scripts rebuild the same data and train the same.

The data part of every script is run in-process and compared array for array with
`load_dataset`; whole scripts for four projects run in one subprocess (one Keras start-up)
and must reach LayerLab's own parameter count and first-epoch loss.
"""

from __future__ import annotations

import ast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gui_app.core.codegen import model_code
from gui_app.core.data import load_dataset
from gui_app.core.export import export_script
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
from gui_app.core.training import Finished, TrainingSession

MARK = "# --- Model, compile and fit ---"
SPLITS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def dense_project(data: dict, inputs: int, units: int, activation: str, loss: str,
                  metrics: tuple[str, ...] = ("accuracy",), **fit: Any) -> Project:
    return Project(
        name="Export test",
        model=ModelSpec((inputs,), (
            LayerSpec("Dense", {"units": 8, "activation": "relu"}),
            LayerSpec("Dense", {"units": units, "activation": activation}),
        )),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec(loss),
                            tuple(ObjectSpec(m) for m in metrics)),
        data=data,
        fit={"epochs": 2, "batch_size": 32, "seed": 3, **fit},
    )


def run_data_part(script: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Executes the script up to the model and returns its arrays."""
    monkeypatch.chdir(cwd)  # the script may chdir; monkeypatch puts the folder back
    namespace: dict[str, Any] = {"__name__": "exported", "__file__": str(cwd / "script.py")}
    exec(compile(script.split(MARK)[0], "exported", "exec"), namespace)  # noqa: S102
    return namespace


def assert_same_arrays(namespace: dict[str, Any], data: dict, base: Path) -> None:
    ds = load_dataset(data, base)
    for name in SPLITS:
        ours, theirs = getattr(ds, name), namespace[name]
        if ours is None:
            assert theirs is None, name
            continue
        assert theirs.dtype == ours.dtype, name
        assert np.array_equal(theirs, ours), name


def write_csv(folder: Path) -> None:
    rng = np.random.default_rng(5)
    rows = ["width;height;kind"]
    for _ in range(60):
        w, h = rng.normal(size=2)
        rows.append(f"{w:.4f};{h:.4f};{'big' if w + h > 0 else 'small'}")
    (folder / "shapes.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    values = ["a,b,price"] + [f"{i},{i % 7},{i * 1.5 + 0.25:.2f}" for i in range(40)]
    (folder / "prices.csv").write_text("\n".join(values) + "\n", encoding="utf-8")
    labels = ["x,label"] + [f"{i / 10},{(i * 3) % 4 * 10}" for i in range(40)]
    (folder / "numbered.csv").write_text("\n".join(labels) + "\n", encoding="utf-8")


def write_npz(folder: Path) -> None:
    rng = np.random.default_rng(6)
    np.savez(folder / "plain.npz", x=rng.normal(size=(50, 3)), y=rng.integers(3, 6, 50))
    eye = np.eye(3)
    np.savez(folder / "split.npz", x_train=rng.normal(size=(40, 2)),
             y_train=eye[rng.integers(0, 3, 40)], x_test=rng.normal(size=(10, 2)),
             y_test=eye[rng.integers(0, 3, 10)])
    np.savez(folder / "reg.npz", x=rng.normal(size=30), y=rng.normal(size=30))


DATA_CASES = [
    {"source": "circle", "samples": 120, "noise": 0.2, "seed": 4},
    {"source": "xor", "samples": 100, "noise": 0.0, "seed": 1},
    {"source": "gaussian", "samples": 90, "classes": 3, "seed": 2},
    {"source": "spiral", "samples": 100, "classes": 4, "noise": 0.05},
    {"source": "moons", "samples": 80, "test_split": 0.2},
    {"source": "blobs", "samples": 150, "classes": 5, "standardize": True, "labels": "one_hot"},
    {"source": "sine", "samples": 70, "noise": 0.3, "validation_split": 0.0},
    {"source": "housing", "samples": 90, "standardize": True, "test_split": 0.1},
    {"source": "iris", "labels": "one_hot", "test_split": 0.2},
    {"source": "wine", "standardize": True},
    {"source": "breast_cancer", "validation_split": 0.1},
    {"source": "digits", "test_split": 0.1},
    {"source": "csv", "path": "shapes.csv", "standardize": True},
    {"source": "csv", "path": "prices.csv", "target": "price", "features": ["b"]},
    {"source": "csv", "path": "numbered.csv", "labels": "one_hot"},
    {"source": "npz", "path": "plain.npz", "test_split": 0.2},
    {"source": "npz", "path": "split.npz"},
    {"source": "npz", "path": "reg.npz", "standardize": True},
]


@pytest.mark.parametrize("data", DATA_CASES, ids=lambda d: f"{d['source']}-{d.get('path', '')}")
def test_exported_data_equals_load_dataset(data: dict, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    write_csv(project_dir)
    write_npz(project_dir)
    script = export_script(dense_project(data, 2, 1, "sigmoid", "binary_crossentropy"),
                           project_dir, script_path=tmp_path / "elsewhere" / "script.py")
    (tmp_path / "elsewhere").mkdir()
    namespace = run_data_part(script, tmp_path / "elsewhere", monkeypatch)
    assert_same_arrays(namespace, data, project_dir)


def test_keras_dataset_scripts_use_keras_datasets() -> None:
    for source, name in (("keras:mnist", "mnist"), ("keras:fashion_mnist", "fashion_mnist"),
                         ("keras:cifar10", "cifar10")):
        proj = dense_project({"source": source}, 784, 10, "softmax",
                             "sparse_categorical_crossentropy")
        script = export_script(proj)
        ast.parse(script)
        assert f"keras.datasets.{name}.load_data()" in script


def test_script_is_plain_readable_python(tmp_path: Path) -> None:
    proj = dense_project({"source": "iris"}, 4, 3, "softmax", "sparse_categorical_crossentropy",
                         callbacks=[{"type": "EarlyStopping", "patience": 2}])
    script = export_script(proj, tmp_path)
    tree = ast.parse(script)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"os", "keras", "numpy", "sklearn", "pathlib"}
    assert "gui_app" not in script
    assert model_code(proj, fit_call=False).split("model.compile")[0] in script  # codegen's
    assert "keras.utils.set_random_seed(SEED)" in script and "SEED = 3" in script
    assert "keras.callbacks.EarlyStopping(patience=2)" in script
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    path = tmp_path / "script.py"
    path.write_text(script)
    result = subprocess.run([ruff, "check", "--isolated", "--select", "E9,F", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_no_project_folder_means_no_chdir() -> None:
    script = export_script(dense_project({"source": "circle"}, 2, 1, "sigmoid",
                                         "binary_crossentropy"))
    assert "os.chdir" not in script and "import os" not in script
    ast.parse(script)


# ----------------------------------------------------------- whole scripts vs the session

RUNNER = """
import json, os, runpy, sys
results = {}
start = os.getcwd()
for path in sys.argv[1:]:
    os.chdir(start)
    g = runpy.run_path(path, run_name="__main__")
    results[path] = {"params": g["model"].count_params(), "loss": g["history"].history["loss"]}
print("RESULTS " + json.dumps(results))
"""


def end_to_end_projects(folder: Path) -> dict[str, Project]:
    write_csv(folder)
    circle = dense_project({"source": "circle", "samples": 200, "seed": 2}, 2, 1, "sigmoid",
                           "binary_crossentropy",
                           callbacks=[{"type": "CSVLogger", "filename": "logs/circle.csv"}])
    blobs = dense_project(
        {"source": "blobs", "samples": 240, "classes": 3, "standardize": True,
         "labels": "one_hot", "test_split": 0.1},
        2, 3, "softmax", "categorical_crossentropy", class_weight="balanced",
        virtual_epochs={"stop_point": 2.5, "checkpoints": 2})
    sine = dense_project({"source": "sine", "samples": 150, "noise": 0.1}, 1, 1, "linear",
                         "mse", metrics=("mae",), shuffle=False, batch_size=16)
    table = dense_project({"source": "csv", "path": "shapes.csv", "standardize": True}, 2, 1,
                          "sigmoid", "binary_crossentropy", class_weight={"1": 2.0})
    return {"circle": circle, "blobs": blobs, "sine": sine, "csv": table}


def test_exported_scripts_train_like_the_session(tmp_path: Path) -> None:
    project_dir = tmp_path / "project"
    project_dir.mkdir()
    projects = end_to_end_projects(project_dir)
    scripts = []
    for name, proj in projects.items():
        path = tmp_path / "scripts" / f"{name}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(export_script(proj, project_dir, script_path=path))
        scripts.append(str(path))
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "CUDA_VISIBLE_DEVICES": "",
           "TF_CPP_MIN_LOG_LEVEL": "3"}
    child = subprocess.Popen([sys.executable, "-c", RUNNER, *scripts], cwd=tmp_path, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    # Meanwhile, the same projects in LayerLab's own session.
    ours = {}
    for name, proj in projects.items():
        events: list[Any] = []
        if name == "circle":  # only the script may write the CSV log checked below
            proj = proj.replace(fit={**proj.fit, "callbacks": []})
        with TrainingSession(proj, base_dir=project_dir, device="cpu") as session:
            session.subscribe(events.append)
            session.start()
            assert session.wait(120)
            params = session._call(lambda s=session: s._model.count_params(), 30)
        assert isinstance(events[-1], Finished), getattr(events[-1], "detail", events[-1])
        ours[name] = {"params": params, "loss": events[-1].history["loss"]}

    out, err = child.communicate(timeout=300)
    assert child.returncode == 0, err[-3000:]
    line = next(x for x in out.splitlines() if x.startswith("RESULTS "))
    theirs = json.loads(line[len("RESULTS "):])
    for name, path in zip(projects, scripts, strict=True):
        assert theirs[path]["params"] == ours[name]["params"], name
        assert len(theirs[path]["loss"]) == len(ours[name]["loss"]), name
        assert theirs[path]["loss"][0] == pytest.approx(ours[name]["loss"][0], rel=1e-4), name
    # The script's relative callback path lands in the project folder, as the session's does.
    assert (project_dir / "logs" / "circle.csv").is_file()
    assert not (tmp_path / "logs").exists()
