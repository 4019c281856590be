"""`layerlab train --diagnose`: each finding as one line that starts with its code, and the
findings in the --events file in their documented shape."""

from __future__ import annotations

import json

import pytest

from gui_app.cli import run_cli
from gui_app.core.project import save_project

from .keras_helpers import sigmoid_stack

pytest.importorskip("keras")


def test_diagnose_prints_findings_and_the_events_carry_them(tmp_path, capsys):
    project = sigmoid_stack().replace(fit={"epochs": 12, "batch_size": 32, "seed": 0})
    path = tmp_path / "s.layerlab.json"
    save_project(project, path)
    events = tmp_path / "events.jsonl"
    code = run_cli(["train", str(path), "--diagnose", "--events", str(events),
                    "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith("vanishing_gradients")]
    assert lines and "epoch " in lines[0] and "Try:" in lines[0], out
    found = [json.loads(line) for line in events.read_text().splitlines()
             if '"finding"' in line]
    assert any(f["type"] == "finding" and f["code"] == "vanishing_gradients"
               and f["fixes"] and "message" in f for f in found)
    # the Layers view's statistics: one row per Dense layer, the last at the run's end
    stats = [json.loads(line) for line in events.read_text().splitlines()
             if '"layer_stats"' in line]
    assert stats and stats[-1]["at"] == 12.0
    rows = stats[-1]["layers"]
    assert [row["index"] for row in rows] == list(range(11))
    assert all(sum(row["act_hist"]) == 64 * row["units"] and row["weight_hist"]
               and row["grad_norm"] > 0 for row in rows)
