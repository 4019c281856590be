"""`layerlab tune`: one line per trial, `--json`, bad search sections, and `--workers 2`
(Keras Tuner's distributed mode: a chief here, two worker processes on 127.0.0.1)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from gui_app.__main__ import main

from ..search_support import tiny_project_json

if importlib.util.find_spec("keras_tuner") is None:  # looked for, not imported yet
    pytest.skip("keras-tuner is not installed", allow_module_level=True)

TINY = tiny_project_json(max_trials=2)


def write(tmp_path: Path, doc: dict | None = None, name: str = "tiny") -> str:
    path = tmp_path / f"{name}.layerlab.json"
    path.write_text(json.dumps(doc or TINY))
    return str(path)


def test_tune_prints_a_line_per_trial_and_continues(tmp_path, capsys):
    path = write(tmp_path)
    assert main(["tune", path]) == 0
    out = capsys.readouterr().out.splitlines()
    trials = [line for line in out if line.startswith("trial ")]
    assert [line.split()[1] for line in trials] == ["1/2", "2/2"]
    assert all("layers[0].units=" in line and "optimizer.learning_rate=" in line
               and "val_loss " in line and "completed" in line for line in trials)
    assert out[-2].startswith("best: val_loss ") and out[-1].startswith("completed: 2 trial(s)")
    assert str(tmp_path / "tiny.search") in out[-1]
    # run again with one more: the two earlier trials are listed, one more runs
    assert main(["tune", path, "--trials", "3"]) == 0
    out = capsys.readouterr().out.splitlines()
    trials = [line for line in out if line.startswith("trial ")]
    assert [line.endswith("(earlier)") for line in trials] == [True, True, False]
    assert trials[2].split()[1] == "3/3"


def test_tune_json(tmp_path, capsys):
    path = write(tmp_path)
    assert main(["tune", path, "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    *trials, result = lines
    assert [t["type"] for t in trials] == ["trial", "trial"]
    assert set(result) == {"best", "best_score", "objective", "trials"}
    assert result["objective"] == "val_loss" and len(result["trials"]) == 2
    assert all(set(t) == {"values", "score", "status"} for t in result["trials"])
    best = min(result["trials"], key=lambda t: t["score"])
    assert result["best"] == best["values"] and result["best_score"] == best["score"]
    assert set(result["best"]) == {"model.layers[0].units", "compile.optimizer.learning_rate"}


@pytest.mark.parametrize("change,message", [
    ({"search": {**TINY["search"], "max_trials": 0}},
     "search.max_trials: expected an integer from 1 to 500, got 0"),
    ({"search": {**TINY["search"], "space": [{"path": "model.layers[5].units", "kind": "int",
                                              "min": 1, "max": 4}]}},
     "search.space[0].path: expected a layer index from 0 to 1"),
    ({"search": None}, "search: expected a search section"),
])
def test_tune_refuses_a_bad_search_in_one_line(tmp_path, capsys, change, message):
    doc = {**TINY, **change}
    if doc["search"] is None:
        del doc["search"]
    path = write(tmp_path, doc)
    assert main(["tune", path]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "tiny.search").exists()


def test_tune_refuses_a_search_folder_it_did_not_make(tmp_path, capsys):
    path = write(tmp_path)
    (tmp_path / "tiny.search").mkdir()
    assert main(["tune", path]) == 2
    assert "not made by LayerLab on this computer" in capsys.readouterr().err


def test_tune_refuses_workers_beyond_the_limit(tmp_path, capsys):
    assert main(["tune", write(tmp_path), "--workers", "1000"]) == 2
    assert "--workers: expected a number of workers from 1 to 16" in capsys.readouterr().err


def test_tune_with_two_local_workers_runs_each_trial_once(tmp_path, capsys):
    doc = json.loads(json.dumps(TINY))
    doc["search"]["max_trials"] = 4
    path = write(tmp_path, doc)
    assert main(["tune", path, "--workers", "2", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    *trials, result = lines
    assert sorted(t["number"] for t in trials) == [1, 2, 3, 4]
    assert {t["worker"] for t in trials} <= {"tuner1", "tuner2"}
    assert [t["status"] for t in result["trials"]] == ["completed"] * 4
    best = min(result["trials"], key=lambda t: t["score"])
    assert result["best"] == best["values"] and result["best_score"] == best["score"]
    # each worker's own log lists the trials it ran: together, each trial exactly once
    ran = []
    for log in sorted((tmp_path / "tiny.search").glob("worker-*.log")):
        for line in log.read_text().splitlines():
            if line.startswith("{") and json.loads(line).get("type") == "trial":
                ran.append(json.loads(line)["number"])
    assert sorted(ran) == [1, 2, 3, 4]
