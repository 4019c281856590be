"""Tests for `layerlab train` and `export` (gui_app.cli.train_cmd, export_cmd), in-process."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from gui_app.cli import run_cli
from gui_app.core.project import save_project
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

CIRCLE = {"source": "circle", "samples": 200, "seed": 0, "validation_split": 0.2}


def write_project(folder: Path, name: str = "demo", **changes) -> Path:
    proj = Project(
        name="Demo",
        model=ModelSpec((2,), (LayerSpec("Dense", {"units": 8, "activation": "relu"}),
                               LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}))),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data=CIRCLE,
        fit={"epochs": 2, "batch_size": 32},
    ).replace(**changes)
    return save_project(proj, folder / f"{name}.layerlab.json")


def test_train_writes_history_model_and_events(tmp_path: Path, capsys) -> None:
    path = write_project(tmp_path)
    out = tmp_path / "out"
    code = run_cli(["train", str(path), "--epochs", "3", "--out", str(out),
                    "--events", str(tmp_path / "events.jsonl")])
    stdout = capsys.readouterr().out
    assert code == 0, stdout
    epoch_lines = [line for line in stdout.splitlines() if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["1/3", "2/3", "3/3"]
    assert "val_loss" in epoch_lines[0]

    history = json.loads((out / "history.json").read_text())
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.values())

    import keras

    model = keras.saving.load_model(out / "model.keras")
    assert model.count_params() == 2 * 8 + 8 + 8 + 1

    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    assert events[0]["event"] == "Started" and events[0]["epochs"] == 3
    assert events[-1]["event"] == "Finished" and events[-1]["reason"] == "completed"
    assert events[-1]["history"] == history
    assert sum(e["event"] == "EpochEnd" for e in events) == 3
    grids = [e["grid"] for e in events if e["event"] == "BoundarySnapshot"]
    assert grids and len(grids[-1]["values"]) == 100 and len(grids[-1]["values"][0]) == 100


def test_train_default_output_folder_is_beside_the_project(tmp_path: Path, capsys) -> None:
    path = write_project(tmp_path, "circle")
    assert run_cli(["train", str(path), "--quiet"]) == 0
    assert (tmp_path / "circle_run" / "history.json").is_file()
    assert (tmp_path / "circle_run" / "model.keras").is_file()
    assert "epoch 1/" not in capsys.readouterr().out


@pytest.mark.parametrize("problem", ["missing", "not json", "bad data file", "no data"])
def test_unusable_input_exits_2_with_one_line(tmp_path: Path, capsys, problem: str) -> None:
    if problem == "missing":
        path = tmp_path / "nothing.layerlab.json"
    elif problem == "not json":
        path = tmp_path / "broken.layerlab.json"
        path.write_text("{ not json")
    elif problem == "bad data file":
        path = write_project(tmp_path, data={"source": "csv", "path": "absent.csv"})
    else:
        path = write_project(tmp_path, data={})
    out = tmp_path / "out"
    code = run_cli(["train", str(path), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("layerlab: ")
    assert not out.exists(), "nothing may be written for unusable input"


def test_failed_check_exits_1_before_training(tmp_path: Path, capsys) -> None:
    blobs = {"source": "blobs", "classes": 3, "samples": 90}
    path = write_project(
        tmp_path, data=blobs,
        model=ModelSpec((2,), (LayerSpec("Dense", {"units": 3, "activation": "softmax"}),)),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("categorical_crossentropy"), ()))
    out = tmp_path / "out"
    code = run_cli(["train", str(path), "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1
    assert "nothing was trained" in captured.err
    assert "one-hot" in captured.err
    assert "fix: Use sparse_categorical_crossentropy" in captured.err
    assert not out.exists()


def test_nan_training_exits_1_and_keeps_the_history(tmp_path: Path, capsys) -> None:
    path = write_project(
        tmp_path, data={"source": "sine", "samples": 200},
        model=ModelSpec((1,), (LayerSpec("Dense", {"units": 8, "activation": "relu"}),
                               LayerSpec("Dense", {"units": 1}))),
        compile=CompileSpec(ObjectSpec("SGD", {"learning_rate": 10000.0}), ObjectSpec("mse"), ()),
        fit={"epochs": 30})
    out = tmp_path / "out"
    code = run_cli(["train", str(path), "--out", str(out), "--quiet"])
    stdout = capsys.readouterr().out
    assert code == 1
    assert "nan: the loss became" in stdout
    assert (out / "history.json").is_file() and not (out / "model.keras").exists()
    json.loads((out / "history.json").read_text())  # NaN written as null: still JSON


def test_training_failure_exits_1_with_the_message(tmp_path: Path, capsys) -> None:
    path = write_project(tmp_path, fit={"epochs": 2, "class_weight": {"7": 2.0}})
    code = run_cli(["train", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "training failed: fit.class_weight: expected classes 0 to 1, got 7" in err
    assert "Traceback" not in err


def test_export_writes_a_script(tmp_path: Path, capsys) -> None:
    path = write_project(tmp_path)
    target = tmp_path / "scripts" / "train_demo.py"
    assert run_cli(["export", str(path), "-o", str(target)]) == 0
    script = target.read_text()
    ast.parse(script)
    assert "model.fit(" in script and "make_circle" in script
    assert "os.chdir(HERE / '..')" in script  # the project folder, relative to the script
    assert capsys.readouterr().out == f"wrote {target}\n"
    assert run_cli(["export", str(path), "-o", "-"]) == 0
    printed = capsys.readouterr().out
    ast.parse(printed)
    assert f"os.chdir({str(tmp_path.resolve())!r})" in printed  # no script path: absolute


def test_export_refuses_unusable_input(tmp_path: Path, capsys) -> None:
    path = write_project(tmp_path)
    assert run_cli(["export", str(path), "-o", str(tmp_path / "script.txt")]) == 2
    assert "expected a .py file" in capsys.readouterr().err
    missing = write_project(tmp_path, "csv", data={"source": "csv", "path": "gone.csv"})
    assert run_cli(["export", str(missing), "-o", str(tmp_path / "s.py")]) == 2
    assert "gone.csv" in capsys.readouterr().err
    assert not (tmp_path / "s.py").exists()


def test_export_for_all_gpus_carries_the_mirrored_strategy(tmp_path, capsys):
    from gui_app.__main__ import main as layerlab_main
    from gui_app.core.project import save_project
    from gui_app.core.spec import default_project

    project = save_project(default_project(), tmp_path / "p.layerlab.json")
    assert layerlab_main(["export", str(project), "-o", "-", "--device", "all"]) == 0
    script = capsys.readouterr().out
    assert "MirroredStrategy" in script and "with strategy.scope():" in script
    compile(script, "exported.py", "exec")
    assert layerlab_main(["export", str(project), "-o", "-"]) == 0
    assert "MirroredStrategy" not in capsys.readouterr().out
