"""Project files: round trips, every problem reported with its path, atomic saves."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui_app.core import project as project_module
from gui_app.core.project import (
    ProjectError,
    dumps,
    load_project,
    loads,
    project_from_json,
    project_to_json,
    save_project,
)
from gui_app.core.spec import Intended, Project, default_project


def doc(**changes):
    base = project_to_json(default_project())
    base.update(changes)
    return base


def problems_of(document) -> list[str]:
    with pytest.raises(ProjectError) as info:
        project_from_json(document)
    return info.value.problems


def test_round_trip_is_identity(tmp_path):
    original = default_project()
    path = save_project(original, tmp_path / "p.layerlab.json")
    assert load_project(path) == original
    assert dumps(load_project(path)) == dumps(original)


def test_lesson_description_round_trips():
    lesson = default_project().replace(description="Why hidden layers matter.")
    assert loads(dumps(lesson)).description == "Why hidden layers matter."
    assert "description" not in project_to_json(default_project())
    assert "description: expected text" in problems_of(doc(description=3))[0]


def test_compile_forms_both_accepted():
    d = doc(compile={"optimizer": {"type": "Adam", "learning_rate": 0.01}, "loss": "mse",
                     "metrics": ["mae", {"type": "R2Score"}]})
    p = project_from_json(d)
    assert p.compile.optimizer.args == {"learning_rate": 0.01}
    # An object with only a type is stored in its short form.
    assert project_to_json(p)["compile"] == {**d["compile"], "metrics": ["mae", "R2Score"]}


def test_every_problem_reported_with_its_path():
    d = doc()
    d["model"]["layers"][0]["units"] = -5
    d["model"]["layers"][1]["activation"] = "relux"
    d["model"]["layers"].append({"type": "Conv3D"})
    d["compile"]["loss"] = "crossentropy"
    d["fit"] = {"epochs": 0, "batch_size": "32", "bogus": 1}
    d["extra"] = True
    problems = problems_of(d)
    joined = "\n".join(problems)
    assert "model.layers[0].units: expected an integer >= 1, got -5" in problems
    assert "model.layers[1].activation: expected one of" in joined
    assert "model.layers[3].type: LayerLab has no layer called 'Conv3D'" in joined
    assert "compile.loss: Keras has no loss called 'crossentropy'" in problems
    assert "fit.epochs: expected an integer >= 1 and <= 100000, got 0" in problems
    assert "fit.batch_size:" in joined and "fit.bogus: unknown key" in joined
    assert "extra: unknown key" in joined
    assert len(problems) >= 8


def test_newer_version_is_refused_clearly():
    problems = problems_of(doc(version=7))
    assert "newer LayerLab" in problems[0] and "version 7" in problems[0]


@pytest.mark.parametrize("bad, expected", [
    ("[1, 2]", "expected a JSON object"),
    ('{"format": "something-else"}', "not a LayerLab project"),
    ('{"format": "layerlab-project", "version": 1}', "model: missing"),
    ('{"format": "layerlab-project", "version": "1", "model": {"input_shape": [2], "layers": []}}',
     "version: expected an integer"),
    ('{"format": "layerlab-project", "version": 1, "model": {"input_shape": "2", "layers": []}}',
     "model.input_shape"),
    ('{"format": "layerlab-project", "version": 1, "model": {"input_shape": [2], "layers": [5]}}',
     "model.layers[0]: expected a layer object"),
])
def test_wrong_types(bad, expected):
    with pytest.raises(ProjectError) as info:
        loads(bad)
    assert expected in "\n".join(info.value.problems)


def test_not_json_and_truncated(tmp_path):
    text = dumps(default_project())
    with pytest.raises(ProjectError) as info:
        loads(text[: len(text) // 2])
    assert "truncated" in info.value.problems[0]
    with pytest.raises(ProjectError) as info:
        loads("hello")
    assert "not valid JSON at line 1" in info.value.problems[0]
    binary = tmp_path / "x.layerlab.json"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(ProjectError) as info:
        load_project(binary)
    assert "not text" in info.value.problems[0]


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "nope.layerlab.json")
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)


def test_bidirectional_inner_layer_validated():
    d = doc()
    d["model"] = {"input_shape": [5, 2], "layers": [
        {"type": "Bidirectional", "layer": {"type": "LSTM", "units": 0}},
        {"type": "Bidirectional", "layer": {"type": "Dense", "units": 3}},
    ]}
    joined = "\n".join(problems_of(d))
    assert "model.layers[0].layer.units: expected an integer >= 1, got 0" in joined
    assert "model.layers[1].layer.type: Bidirectional wraps LSTM, GRU or SimpleRNN" in joined


def test_fit_section_values():
    ok = doc(fit={"epochs": 3, "class_weight": {"0": 1.0, "1": 3}, "callbacks": [
        {"type": "EarlyStopping", "patience": 2, "restore_best_weights": True}, "TerminateOnNaN"],
        "virtual_epochs": {"stop_point": 14.3, "checkpoints": 15}})
    assert project_from_json(ok).fit["virtual_epochs"]["checkpoints"] == 15
    joined = "\n".join(problems_of(doc(fit={"class_weight": "heavy", "virtual_epochs": {"stop_point": 0},
                                            "callbacks": [{"type": "EarlyStopping", "patience": -1}]})))
    assert "fit.class_weight" in joined and "fit.virtual_epochs" in joined
    assert "fit.callbacks[0].patience: expected an integer >= 0, got -1" in joined


def test_data_section_is_validated():
    joined = "\n".join(problems_of(doc(data={"source": "circle", "samples": -3, "colour": 1})))
    assert "data.samples" in joined and "data.colour" in joined


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "p.layerlab.json"
    save_project(default_project(), path)
    before = path.read_bytes()

    def crash(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(project_module.os, "replace", crash)
    changed = default_project().replace(name="Changed")
    with pytest.raises(OSError):
        save_project(changed, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["p.layerlab.json"]  # no temp file left


def test_save_keeps_permissions(tmp_path):
    path = tmp_path / "p.layerlab.json"
    save_project(default_project(), path)
    assert path.stat().st_mode & 0o777 == 0o666 & ~_umask()
    path.chmod(0o640)
    save_project(default_project().replace(name="Again"), path)
    assert path.stat().st_mode & 0o777 == 0o640


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_project_file_contains_no_code(tmp_path):
    path = save_project(default_project(), tmp_path / "p.layerlab.json")
    parsed = json.loads(path.read_text())
    assert parsed["format"] == "layerlab-project" and parsed["version"] == 1
    assert os.path.getsize(path) < 4096


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 400) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["type", "units", "activation", "rate", "kernel_size",
                                        "target_shape", "layer", "padding", "pool_size", "x"]),
                       json_values, max_size=5),
       st.sampled_from(["Dense", "Conv2D", "Reshape", "Bidirectional", "Dropout", "MaxPooling2D",
                        "ZeroPadding2D", "Nope"]))
def test_loader_only_ever_raises_project_error(args, layer_type):
    d = doc()
    d["model"]["layers"].insert(1, {"type": layer_type, **{k: v for k, v in args.items() if k != "type"}})
    try:
        project = project_from_json(json.loads(json.dumps(d)))
    except ProjectError as exc:
        assert exc.problems and all(isinstance(p, str) for p in exc.problems)
        return
    # Whatever the loader accepted, the summary and the checks handle without raising.
    from gui_app.core.checks import run_checks
    from gui_app.core.summary import summarize

    summarize(project.model)
    run_checks(project)


# -- "intended": findings a project makes on purpose ----------------------------------------

MARK = {"code": "regression-loss-on-classes", "why": "this lesson fits a line with MSE."}


@pytest.mark.parametrize(("intended", "expected"), [
    ("yes", "intended: expected a list like"),
    ([3], "intended[0]: expected an object like"),
    ([{"code": "regression-loss-on-classes"}], "intended[0].why: expected a sentence"),
    ([{**MARK, "why": "  "}], "intended[0].why: expected a sentence"),
    ([{**MARK, "why": "x" * (project_module.MAX_WHY_CHARS + 1)}],
     f"intended[0].why: expected at most {project_module.MAX_WHY_CHARS} characters"),
    ([{"why": "because"}], "intended[0].code: expected a check's code as text"),
    ([{**MARK, "code": "regresion-loss-on-classes"}],
     "intended[0].code: LayerLab has no check called 'regresion-loss-on-classes'; did you "
     "mean 'regression-loss-on-classes'?"),
    ([{**MARK, "code": "writes-outside"}],
     "intended[0].code: 'writes-outside' is an error that LayerLab does not train past"),
    ([MARK, {**MARK, "why": "again"}],
     "intended[1].code: 'regression-loss-on-classes' is already marked at intended[0]"),
    ([{**MARK, "severity": "info"}], "intended[0].severity: unknown key (expected code and why)"),
    ([MARK] * 40, "intended: expected at most"),
])
def test_intended_problems_name_their_json_path(intended, expected):
    found = problems_of(doc(intended=intended))
    assert any(p.startswith(expected) for p in found), found


def test_intended_problems_are_all_reported_at_once():
    found = problems_of(doc(intended=[{"code": 7}, {**MARK, "why": None}]))
    assert [p.split(":")[0] for p in found] == ["intended[0].code", "intended[0].why",
                                               "intended[1].why"]


def test_intended_round_trips(tmp_path):
    marks = (Intended("unbalanced-classes", "this project is about the imbalance itself."),
             Intended(**MARK))
    original = default_project().replace(intended=marks)
    again = load_project(save_project(original, tmp_path / "p.layerlab.json"))
    assert again == original and again.intended == marks
    assert project_to_json(again)["intended"] == [m.to_json() for m in marks]
    assert loads(dumps(again)) == again


def test_a_file_without_intended_loads_and_saves_as_before():
    """Version-1 files written before the key existed: no marks, and no key added on save."""
    plain = doc()
    assert "intended" not in plain
    project = project_from_json(plain)
    assert project.intended == ()
    assert project_to_json(project) == plain
    assert project_from_json(doc(intended=[])).intended == ()
    assert project_from_json(doc(intended=None)).intended == ()


def test_intended_given_as_plain_mappings_becomes_intended():
    made = Project(intended=[{"code": "output-units", "why": "x"}])
    assert made.intended == (Intended("output-units", "x"),)
