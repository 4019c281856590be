"""Every `layerlab` command ends in an exit code and one line, never a traceback; what it
writes is all or nothing (a full stdout, a full or read-only disk, SIGTERM, an unexpected
exception, a project that writes outside its folder, `import --force` onto a folder)."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gui_app import cli
from gui_app.__main__ import main
from gui_app.cli import inspect_cmds, run_cli
from gui_app.core.project import project_to_json, save_project
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

HAS_DEV_FULL = os.path.exists("/dev/full")
needs_dev_full = pytest.mark.skipif(not HAS_DEV_FULL, reason="no /dev/full here")
ENV = dict(os.environ, CUDA_VISIBLE_DEVICES="", TF_CPP_MIN_LOG_LEVEL="3")


def tiny_project(folder: Path, name: str = "tiny", **fit) -> Path:
    """A 2-4-1 network on 64 circle samples, 2 epochs: a second or two to train."""
    project = Project(
        name="Tiny",
        model=ModelSpec((2,), (LayerSpec("Dense", {"units": 4, "activation": "relu"}),
                               LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}))),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"), ()),
        data={"source": "circle", "samples": 64, "seed": 0, "validation_split": 0.25},
        fit={"epochs": 2, "batch_size": 32, **fit},
    )
    return save_project(project, folder / f"{name}.layerlab.json")


def one_line(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("layerlab: ")]
    assert len(lines) == 1, err
    return lines[0]


def layerlab(*args: str, stdout=subprocess.PIPE, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gui_app", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, env=ENV, timeout=timeout)


# -- standard output that cannot be written ---------------------------------------------------

@needs_dev_full
@pytest.mark.parametrize("command", [["summary"], ["export", "-o", "-"], ["summary", "--json"]])
def test_full_stdout_is_one_line_and_exit_2(tmp_path, command):
    path = tiny_project(tmp_path)
    with open("/dev/full", "w") as full:
        result = layerlab(command[0], str(path), *command[1:], stdout=full)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == "layerlab: cannot write the output: No space left on device"


def test_a_closed_pipe_ends_quietly(tmp_path):
    path = tiny_project(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "gui_app", "export", str(path), "-o", "-"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
    proc.stdout.close()  # the reader went away before the first byte
    err = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and err == ""


class _FailingStdout:
    def __init__(self, code: int) -> None:
        self.code = code

    def write(self, text: str) -> int:
        raise OSError(self.code, os.strerror(self.code))

    def flush(self) -> None:
        raise OSError(self.code, os.strerror(self.code))


@pytest.mark.parametrize("code, exit_code", [(errno.ENOSPC, 2), (errno.EPIPE, 0), (errno.EIO, 2)])
def test_stdout_errors_in_process(tmp_path, monkeypatch, capsys, code, exit_code):
    path = tiny_project(tmp_path)
    monkeypatch.setattr(sys, "stdout", _FailingStdout(code))
    assert run_cli(["summary", str(path)]) == exit_code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if exit_code:
        assert err == f"layerlab: cannot write the output: {os.strerror(code)}\n"


# -- unexpected exceptions --------------------------------------------------------------------

def test_unexpected_exception_is_one_line_exit_2(tmp_path, monkeypatch, capsys):
    path = tiny_project(tmp_path)

    def broken(args):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(inspect_cmds, "cmd_summary", broken)
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    assert run_cli(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == "layerlab: unexpected error: RuntimeError: boom; please report it\n"
    assert run_cli(["summary", str(path), "--debug"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("layerlab: unexpected error: RuntimeError: boom;")
    assert "Traceback" in err and "broken" in err
    monkeypatch.setenv(cli.DEBUG_ENV, "1")
    assert run_cli(["summary", str(path)]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_set_up_before_the_command_cannot_raise(tmp_path, monkeypatch, capsys):
    from gui_app.core import devices

    def broken() -> None:
        raise OSError("environment is read-only")

    monkeypatch.setattr(devices, "request_memory_growth", broken)
    assert main(["summary", str(tiny_project(tmp_path))]) == 0
    assert "Total params" in capsys.readouterr().out


# -- train: outputs that cannot be written ----------------------------------------------------

def test_train_out_that_cannot_be_written_exits_2_before_training(tmp_path, capsys):
    path = tiny_project(tmp_path)
    (tmp_path / "afile").write_text("a file, not a folder")
    assert run_cli(["train", str(path), "--out", str(tmp_path / "afile" / "sub")]) == 2
    captured = capsys.readouterr()
    line = one_line(captured.err)
    assert line.startswith(f"layerlab: cannot write to {tmp_path / 'afile' / 'sub'}: ")
    assert "choose another --out folder" in line
    assert "epoch" not in captured.out and "training on" not in captured.out


@needs_dev_full
def test_events_to_a_full_device_still_writes_the_results(tmp_path, capsys):
    path = tiny_project(tmp_path)
    out = tmp_path / "out"
    assert run_cli(["train", str(path), "--out", str(out), "--events", "/dev/full"]) == 1
    captured = capsys.readouterr()
    assert one_line(captured.err) == \
        "layerlab: could not write the events to /dev/full: No space left on device"
    assert "epoch 2/2" in captured.out
    assert len(json.loads((out / "history.json").read_text())["loss"]) == 2
    assert zipfile.is_zipfile(out / "model.keras")


def test_history_that_cannot_be_written_still_saves_the_model(tmp_path, capsys):
    path = tiny_project(tmp_path)
    out = tmp_path / "out"
    (out / "history.json").mkdir(parents=True)  # in the way: the rename over it fails
    assert run_cli(["train", str(path), "--out", str(out), "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "the history could not be written" in one_line(captured.err)
    assert zipfile.is_zipfile(out / "model.keras")
    assert f"wrote {out / 'model.keras'}" in captured.out


def test_model_save_is_atomic(tmp_path, monkeypatch, capsys):
    from gui_app.core.training import TrainingSession

    path = tiny_project(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    good = b"PK\x03\x04 the previous, good model"
    (out / "model.keras").write_bytes(good)

    def save_half(self, target, timeout=60):
        Path(target).write_bytes(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(TrainingSession, "save_model", save_half)
    assert run_cli(["train", str(path), "--out", str(out), "--quiet"]) == 1
    line = one_line(capsys.readouterr().err)
    assert "the model could not be saved" in line and "No space left on device" in line
    assert (out / "model.keras").read_bytes() == good
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "model.keras"]


def test_sigterm_stops_after_the_batch_and_writes_what_was_trained(tmp_path):
    path = tiny_project(tmp_path)
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gui_app", "train", str(path), "--epochs", "1000",
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    try:
        for line in proc.stdout:
            if line.startswith("epoch "):
                proc.send_signal(signal.SIGTERM)
                break
        rest, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err and "stopping after this batch" in err
    assert "stopped" in rest
    history = json.loads((out / "history.json").read_text())
    assert 1 <= len(history["loss"]) < 1000
    assert zipfile.is_zipfile(out / "model.keras")
    assert sorted(p.name for p in out.iterdir()) == ["history.json", "model.keras"]


# -- import: all or nothing -------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_file(tmp_path_factory) -> Path:
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    path = tmp_path_factory.mktemp("model") / "small.keras"
    model.save(path)
    return path


def test_import_force_onto_a_folder_writes_nothing(tmp_path, model_file, capsys):
    folder = tmp_path / "m.layerlab.json"
    folder.mkdir()
    assert run_cli(["import", str(model_file), "-o", str(folder), "--force"]) == 2
    assert "is a folder" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.layerlab.json"]
    (tmp_path / "n.weights.h5").mkdir()
    assert run_cli(["import", str(model_file), "-o", str(tmp_path / "n.layerlab.json"),
                    "--force"]) == 2
    assert "n.weights.h5 is a folder" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.layerlab.json", "n.weights.h5"]


def test_import_project_write_failure_leaves_no_orphan(tmp_path, model_file, monkeypatch, capsys):
    from gui_app.core import project as project_module

    def full_disk(project, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    out = tmp_path / "p.layerlab.json"
    monkeypatch.setattr(project_module, "save_project", full_disk)
    assert run_cli(["import", str(model_file), "-o", str(out)]) == 2
    assert one_line(capsys.readouterr().err) == \
        f"layerlab: cannot write {out}: No space left on device"
    assert list(tmp_path.iterdir()) == []
    # With --force over files that exist, both stay as they were.
    out.write_text("old project")
    (tmp_path / "p.weights.h5").write_text("old weights")
    assert run_cli(["import", str(model_file), "-o", str(out), "--force"]) == 2
    assert out.read_text() == "old project"
    assert (tmp_path / "p.weights.h5").read_text() == "old weights"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.layerlab.json", "p.weights.h5"]
    monkeypatch.undo()
    assert run_cli(["import", str(model_file), "-o", str(out), "--force"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.layerlab.json", "p.weights.h5"]
    assert f"Wrote {out} (project" in capsys.readouterr().out


# -- a project that writes outside its folder -------------------------------------------------

@pytest.fixture
def outside_project(tmp_path, monkeypatch) -> tuple[Path, Path]:
    monkeypatch.setenv("LAYERLAB_CONFIG_DIR", str(tmp_path / "config"))
    log = tmp_path / "elsewhere" / "log.csv"
    folder = tmp_path / "project"
    folder.mkdir()
    doc = project_to_json(_plain_project())
    doc["fit"]["callbacks"] = [{"type": "CSVLogger", "filename": str(log)}]
    path = folder / "out.layerlab.json"
    path.write_text(json.dumps(doc))
    return path, log


def _plain_project() -> Project:
    return Project(
        name="Outside",
        model=ModelSpec((2,), (LayerSpec("Dense", {"units": 4, "activation": "relu"}),
                               LayerSpec("Dense", {"units": 1, "activation": "sigmoid"}))),
        compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec("binary_crossentropy"), ()),
        data={"source": "circle", "samples": 64, "seed": 0},
        fit={"epochs": 2, "batch_size": 32},
    )


def test_outside_paths_are_refused_without_allow_outside(outside_project, tmp_path, capsys):
    path, log = outside_project
    out = tmp_path / "run"
    assert run_cli(["train", str(path), "--out", str(out)]) == 2
    line = one_line(capsys.readouterr().err)
    assert "would write outside the project's folder" in line and "--allow-outside" in line
    script = tmp_path / "script.py"
    assert run_cli(["export", str(path), "-o", str(script)]) == 2
    assert "would write outside the project's folder" in one_line(capsys.readouterr().err)
    assert not log.parent.exists() and not out.exists() and not script.exists()
    # summary and check still look at it (check reports the paths).
    assert run_cli(["summary", str(path)]) == 0
    assert run_cli(["check", str(path), "--no-data"]) == 1
    captured = capsys.readouterr()
    assert "would write outside the project's folder" in captured.out
    assert "Traceback" not in captured.err


def test_allow_outside_trains_and_writes_there(outside_project, tmp_path, capsys):
    path, log = outside_project
    out = tmp_path / "run"
    assert run_cli(["train", str(path), "--out", str(out), "--quiet", "--allow-outside"]) == 0
    assert log.is_file() and "epoch" in log.read_text()
    assert (out / "model.keras").is_file()
    script = tmp_path / "script.py"
    assert run_cli(["export", str(path), "-o", str(script), "--allow-outside"]) == 0
    assert str(log) in script.read_text()
