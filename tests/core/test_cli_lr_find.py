"""`layerlab lr-find`: one line or JSON with the suggestion, exit 1 with a reason and what to
try when the loss never fell, and exit 2 for unusable input. The sweeps are real (the
circle lesson's model, 2 to 3 seconds each)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from gui_app.__main__ import main
from gui_app.core.lr_find import RULES
from gui_app.core.project import load_project, project_to_json
from gui_app.resources import examples_dir

pytest.importorskip("keras")


@pytest.fixture
def circle(tmp_path: Path) -> Path:
    target = tmp_path / "circle.layerlab.json"
    shutil.copy(examples_dir() / "02a_circle.layerlab.json", target)
    return target


@pytest.fixture
def same_inputs(tmp_path: Path) -> Path:
    """The circle's network on data whose two feature columns never change (standardised
    to all zeros), with labels 0 and 1 in turn: the network's output is 0.5 for every
    sample from the first batch on, already the lowest loss it can reach, so no rate makes
    the loss fall. A real mistake: feature columns that hold one value."""
    rows = ["x1,x2,label"] + [f"1.5,-2.0,{i % 2}" for i in range(400)]
    (tmp_path / "same.csv").write_text("\n".join(rows) + "\n")
    doc = project_to_json(load_project(examples_dir() / "02a_circle.layerlab.json"))
    doc["name"] = "same inputs"
    doc["data"] = {"source": "csv", "path": "same.csv", "target": "label",
                   "validation_split": 0.2, "standardize": True, "seed": 0}
    target = tmp_path / "same.layerlab.json"
    target.write_text(json.dumps(doc))
    return target


def test_one_line_with_the_suggestion(circle, capsys):
    assert main(["lr-find", str(circle)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1, out
    line = out[0]
    assert line.startswith("suggested learning rate: ") and "(rule: valley; 260 batches" in line
    rate = float(line.split(": ")[1].split(" ")[0])
    assert 1e-3 <= rate <= 0.3


def test_json_has_the_rate_the_rule_and_the_curve(circle, capsys):
    assert main(["lr-find", str(circle), "--json", "--steps", "120"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc["suggested_lr"], float) and doc["rule"] in RULES
    assert len(doc["lrs"]) == len(doc["losses"]) > 5
    assert doc["lrs"][0] == pytest.approx(1e-7)
    assert all(b > a for a, b in zip(doc["lrs"], doc["lrs"][1:], strict=False))
    assert doc["steps"] == 120 and doc["start"] == "fresh"
    assert doc["message"].startswith(f"Suggested learning rate {doc['suggested_lr']:g}")


def test_exit_1_says_why_and_what_to_try_when_the_loss_never_fell(same_inputs, capsys):
    assert main(["lr-find", str(same_inputs)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = captured.err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith("layerlab: no learning rate to suggest: The loss never fell")
    for hint in ("check the data", "every training input is the same"):
        assert hint in err

    assert main(["lr-find", str(same_inputs), "--json", "--steps", "100"]) == 1
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["suggested_lr"] is None and doc["rule"] == ""
    assert len(doc["lrs"]) == len(doc["losses"]) == 100  # the whole sweep: nothing blew up
    assert "never fell" in captured.err


def test_trained_weights_beside_the_project(circle, capsys):
    from gui_app.core.training import TrainingSession

    project = load_project(circle)
    session = TrainingSession(project.replace(fit={**project.fit, "epochs": 20}),
                              base_dir=circle.parent, device="cpu", boundary_resolution=4)
    try:
        session.start()
        assert session.wait(60)
        session.save_weights(circle.with_name("circle.weights.h5"))
    finally:
        session.close()
    code = main(["lr-find", str(circle), "--trained", "--json", "--steps", "100"])
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["start"] == "trained"
    # trained to about 0.1 by then; fresh weights start near 0.69
    assert doc["losses"][0] < 0.4
    assert code == (0 if doc["suggested_lr"] is not None else 1), captured.err


def test_missing_or_foreign_weights_exit_2_in_one_line(circle, tmp_path, capsys):
    assert main(["lr-find", str(circle), "--trained"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("layerlab: --trained: expected a .weights.h5 file (the project's "
                          "own, beside it)") and len(err.splitlines()) == 1

    from gui_app.core.lessons import load_example
    from gui_app.core.training import TrainingSession

    spiral, _ = load_example(examples_dir() / "02c_spiral.layerlab.json")
    other = tmp_path / "spiral.weights.h5"
    session = TrainingSession(spiral, device="cpu", boundary_resolution=4)
    try:
        session.save_weights(other)
    finally:
        session.close()
    assert main(["lr-find", str(circle), "--trained", str(other)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"layerlab: --trained: {other} does not fit this project's model")
    assert len(err.splitlines()) == 1


def test_a_check_error_exits_1_before_any_rate_is_tried(circle, capsys):
    doc = json.loads(circle.read_text())
    doc["model"]["layers"][-1]["activation"] = "softmax"
    circle.write_text(json.dumps(doc))
    assert main(["lr-find", str(circle)]) == 1
    err = capsys.readouterr().err
    assert "the pre-flight checks found 1 error(s); no rate was tried" in err
    assert "Softmax on a single output" in err


def test_a_bad_step_count_is_a_usage_error(circle, capsys):
    assert main(["lr-find", str(circle), "--steps", "1"]) == 2
    assert "expected a number >= 2" in capsys.readouterr().err
