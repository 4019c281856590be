"""`layerlab summary` and `layerlab check`: output, JSON shape and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gui_app.__main__ import main
from gui_app.core.project import project_to_json, save_project
from gui_app.core.spec import LayerSpec, ModelSpec, default_project


@pytest.fixture
def default_file(tmp_path):
    return str(save_project(default_project(), tmp_path / "circle.layerlab.json"))


def test_summary_table(default_file, capsys):
    assert main(["summary", default_file]) == 0
    out = capsys.readouterr().out
    assert "dense_2 (Dense)" in out and "(None, 1)" in out
    assert "Total params: 105 (420 B)" in out


def test_summary_json(default_file, capsys):
    assert main(["summary", default_file, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["layers"][0] == {"name": "dense", "type": "Dense", "output_shape": [None, 8], "params": 24}
    assert (doc["total_params"], doc["trainable_params"], doc["non_trainable_params"]) == (105, 105, 0)


def test_summary_of_unbuildable_stack_exits_1(tmp_path, capsys):
    p = default_project().replace(model=ModelSpec((4,), (LayerSpec("Conv1D", {"filters": 2, "kernel_size": 3}),)))
    path = save_project(p, tmp_path / "bad.layerlab.json")
    assert main(["summary", str(path)]) == 1
    assert "Conv1D needs inputs shaped (steps, channels)" in capsys.readouterr().out


def test_check_clean_and_with_error(default_file, tmp_path, capsys):
    assert main(["check", default_file]) == 0
    assert "No problems found." in capsys.readouterr().out
    doc = project_to_json(default_project())
    doc["model"]["layers"][-1]["activation"] = "softmax"
    bad = tmp_path / "softmax.layerlab.json"
    bad.write_text(json.dumps(doc))
    assert main(["check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "ERROR" in out and "Softmax on a single output" in out and "fix: Use sigmoid" in out
    assert main(["check", str(bad), "--json"]) == 1
    findings = json.loads(capsys.readouterr().out)
    assert findings[0]["code"] == "softmax-one-unit" and findings[0]["where"] == "model.layers[2]"


def test_check_uses_the_data(tmp_path, capsys):
    doc = project_to_json(default_project())
    doc["data"] = {"source": "iris"}
    path = tmp_path / "iris.layerlab.json"
    path.write_text(json.dumps(doc))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "The model expects inputs shaped (2,)" in out and "3 classes" in out


@pytest.mark.parametrize("content, message", [
    (None, "no such file"),
    ("{", "not valid JSON"),
    ('{"format": "layerlab-project", "version": 9, "model": {}}', "newer LayerLab"),
])
def test_unusable_input_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "p.layerlab.json"
    if content is not None:
        path.write_text(content)
    assert main(["summary", str(path)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_version_and_help_in_a_real_process():
    result = subprocess.run([sys.executable, "-m", "gui_app", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("LayerLab ")
    result = subprocess.run([sys.executable, "-m", "gui_app", "--help"], capture_output=True, text=True)
    assert result.returncode == 0 and "summary" in result.stdout and "check" in result.stdout
    result = subprocess.run([sys.executable, "-m", "gui_app", "summary"], capture_output=True, text=True)
    assert result.returncode == 2 and "required: project" in result.stderr
