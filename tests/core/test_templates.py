"""File > New's templates: each loads, has no errors in its checks, and trains (CLI path)."""

from __future__ import annotations

import pytest

from gui_app.core.checks import ERROR, run_checks
from gui_app.core.data import load_dataset
from gui_app.core.summary import summarize
from gui_app.core.templates import TEMPLATES, template


@pytest.mark.parametrize("item", TEMPLATES, ids=lambda t: t.key)
def test_each_template_is_a_valid_project_ready_to_train(item):
    project = item.project()
    summary = summarize(project.model)
    dataset = load_dataset(project.data)
    findings = run_checks(project, dataset.info(), summary)
    errors = [f.message for f in findings if f.severity == ERROR]
    if item.key == "empty":
        assert not project.model.layers
    else:
        assert summary.ok and summary.total_params > 0, summary
        assert errors == [], errors
        assert tuple(summary.input_shape) == tuple(dataset.x_train.shape[1:])


def test_unknown_template_says_which_exist():
    with pytest.raises(KeyError, match="expected one of"):
        template("gan")
