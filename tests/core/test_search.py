"""The project file's `search` section (core.search): read, checked with JSON paths, applied,
described; version 1 files read and written unchanged. Pure Python: no Keras here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gui_app.core.project import (
    BASE_VERSION,
    VERSION,
    ProjectError,
    dumps,
    load_project,
    loads,
    project_to_json,
)
from gui_app.core.search import (
    MAX_TRIALS,
    SearchError,
    apply_values,
    check_search,
    objective_direction,
    objective_names,
    with_dim,
)
from gui_app.core.search_events import SearchDone, TrialEvent, best_so_far, best_trial
from gui_app.core.search_folder import prepare_folder, search_folder, search_key
from gui_app.core.search_text import describe_space, suggest_dim
from gui_app.core.spec import SearchDim

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
SPIRAL = EXAMPLES / "02c_spiral.layerlab.json"
SEARCH = {"tuner": "random", "objective": "val_loss", "max_trials": 8, "executions_per_trial": 1,
          "space": [{"path": "model.layers[0].units", "kind": "int", "min": 4, "max": 64,
                     "step": 4},
                    {"path": "compile.optimizer.learning_rate", "kind": "float", "min": 1e-4,
                     "max": 0.1, "sampling": "log"},
                    {"path": "model.layers[1].activation", "kind": "choice",
                     "values": ["relu", "tanh"]}]}


def v1_doc(path: Path) -> dict:
    """An example as a version 1 file: without the sections that came with version 2
    (a lesson's steps and locks, a search)."""
    doc = json.loads(path.read_text())
    for key in ("steps", "locks", "search"):
        doc.pop(key, None)
    doc["version"] = 1
    return doc


def spiral_doc(search=None, version=VERSION) -> dict:
    doc = v1_doc(SPIRAL)
    doc["version"] = version
    if search is not None:
        doc["search"] = search
    return doc


def problems_of(search, doc=None) -> list[str]:
    doc = doc or spiral_doc(search)
    with pytest.raises(ProjectError) as info:
        loads(json.dumps(doc))
    return info.value.problems


def test_the_issue_example_reads_and_writes_back_unchanged():
    project = loads(json.dumps(spiral_doc(SEARCH)))
    assert [d.path for d in project.search.space] == [d["path"] for d in SEARCH["space"]]
    out = project_to_json(project)
    assert out["version"] == 2 == VERSION and out["search"] == SEARCH
    assert loads(dumps(project)) == project


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.layerlab.json")), ids=lambda p: p.stem)
def test_version_1_files_read_and_save_unchanged(path, tmp_path):
    doc = v1_doc(path)
    copy = tmp_path / path.name
    copy.write_text(json.dumps(doc))
    project = load_project(copy)  # the data's files are not read while loading
    assert project.search is None and check_search(project) == []
    out = json.loads(dumps(project))
    assert out["version"] == 1 and set(out) <= set(doc)  # still version 1, nothing added
    assert loads(dumps(project)) == project


def test_a_project_without_a_search_is_written_as_version_1():
    project = loads(json.dumps(spiral_doc(SEARCH))).replace(search=None)
    assert project_to_json(project)["version"] == BASE_VERSION == 1


def test_a_newer_version_is_refused_in_words():
    with pytest.raises(ProjectError, match="newer LayerLab"):
        loads(json.dumps(spiral_doc(version=VERSION + 1)))


def test_a_version_1_file_cannot_hold_a_search():
    assert problems_of(None, spiral_doc(SEARCH, version=1)) == [
        'search: a hyperparameter search needs format version 2, got a version 1 file; '
        'set "version": 2 (LayerLab writes it so)']


BAD = [
    ({"tuner": "grid"}, "search.tuner: expected one of 'random', 'hyperband', 'bayesian', got 'grid'"),
    ({"max_trials": 0}, f"search.max_trials: expected an integer from 1 to {MAX_TRIALS}, got 0"),
    ({"max_trials": 10**9}, "search.max_trials: expected an integer from 1 to 500"),
    ({"executions_per_trial": 11}, "search.executions_per_trial: expected an integer from 1 to 10"),
    ({"objective": "val_auc"}, "search.objective: expected one of 'val_loss', 'val_accuracy', "
                               "'loss', 'accuracy'"),
    ({"objective": "__import__('os')"}, "search.objective: expected a logged quantity"),
    ({"extra": 1}, "search.extra: unknown key"),
    ({"space": []}, "search.space: expected a list of 1 to 32 searched settings"),
    ({"space": [{"path": "model.layers[7].units", "kind": "int", "min": 1, "max": 4}]},
     "search.space[0].path: expected a layer index from 0 to 3 (the model has 4 layers), got 7"),
    ({"space": [{"path": "model.layers[0].unitz", "kind": "int", "min": 1, "max": 4}]},
     "search.space[0].path: Dense has no searchable argument 'unitz'"),
    ({"space": [{"path": "model.layers[0].name", "kind": "choice", "values": ["a", "b"]}]},
     "search.space[0].path: Dense has no searchable argument 'name'"),
    ({"space": [{"path": "model.layers[0].units", "kind": "int", "min": 0, "max": 8}]},
     "search.space[0].min: model.layers[0].units expected an integer >= 1, got 0"),
    ({"space": [{"path": "model.layers[0].units", "kind": "int", "min": 4, "max": 8.0}]},
     "search.space[0].max: expected an integer, got 8.0; write it without a decimal point"),
    ({"space": [{"path": "model.layers[0].units", "kind": "int", "min": 8, "max": 4}]},
     "search.space[0].max: expected a number above min (8), got 4"),
    ({"space": [{"path": "model.layers[0].units", "kind": "int", "min": 4, "max": 8,
                 "step": 0}]}, "search.space[0].step: expected an integer above 0, got 0"),
    ({"space": [{"path": "model.layers[0].units", "kind": "float", "min": 4, "max": 8}]},
     "search.space[0].kind: model.layers[0].units is a whole number; search it with an 'int' range"),
    ({"space": [{"path": "model.layers[1].activation", "kind": "int", "min": 1, "max": 3}]},
     "search.space[0].kind: model.layers[1].activation is one of several names; search it with a choice"),
    ({"space": [{"path": "model.layers[1].activation", "kind": "choice",
                 "values": ["relu", "relux"]}]},
     "search.space[0].values[1]: model.layers[1].activation expected one of"),
    ({"space": [{"path": "model.layers[1].activation", "kind": "choice", "values": ["relu"]}]},
     "search.space[0].values: expected a list of 2 to 64 values"),
    ({"space": [{"path": "model.layers[1].activation", "kind": "choice",
                 "values": ["relu", None]}]},
     "search.space[0].values[1]: expected a number, text, true or false, got null"),
    ({"space": [{"path": "fit.batch_size", "kind": "choice", "values": [16, 32.5]}]},
     "search.space[0].values: expected values of one kind"),
    ({"space": [{"path": "fit.batch_size", "kind": "choice", "values": [16, 16]}]},
     "search.space[0].values: expected each value once"),
    ({"space": [{"path": "compile.optimizer.learning_rate", "kind": "float", "min": 0,
                 "max": 0.1, "sampling": "log"}]},
     "search.space[0].min: expected a number above 0 for log sampling, got 0"),
    ({"space": [{"path": "compile.optimizer.learning_rate", "kind": "float", "min": 0.001,
                 "max": 0.1, "sampling": "cubic"}]},
     "search.space[0].sampling: expected 'linear' or 'log', got 'cubic'"),
    ({"space": [{"path": "compile.optimizer.momentum", "kind": "float", "min": 0, "max": 0.9}]},
     "search.space[0].path: Adam has no argument 'momentum'"),
    ({"space": [{"path": "compile.optimizer", "kind": "choice", "values": ["Adam", "Nope"]}]},
     "search.space[0].values[1]: compile.optimizer expected an optimizer name"),
    ({"space": [{"path": "compile.optimizer", "kind": "choice", "values": ["Adam", "SGD"]},
                {"path": "compile.optimizer.beta_1", "kind": "float", "min": 0.8, "max": 0.99}]},
     "search.space[1].path: SGD has no argument 'beta_1'"),
    ({"space": [{"path": "fit.seed", "kind": "choice", "values": [1, 2]}]},
     "search.space[0].path: expected one of the fit settings epochs, batch_size"),
    ({"space": [{"path": "data.samples", "kind": "int", "min": 100, "max": 200}]},
     "search.space[0].path: expected a path such as 'model.layers[0].units'"),
    ({"space": [{"path": "model.layers[0].units", "kind": "int", "min": 4, "max": 8},
                {"path": "model.layers[0].units", "kind": "int", "min": 4, "max": 16}]},
     "search.space[1].path: 'model.layers[0].units' is already searched at search.space[0]"),
    ({"space": [{"path": "model.layers[0].units", "kind": "int", "min": 4, "max": 8,
                 "values": [1]}]},
     "search.space[0].values: unknown key for a 'int' entry"),
    ({"space": ["units"]}, "search.space[0]: expected an object like"),
    ({"space": [{"path": 3, "kind": "int", "min": 4, "max": 8}]},
     "search.space[0].path: expected a JSON path"),
    ({"tuner": "hyperband", "space": [{"path": "fit.epochs", "kind": "int", "min": 2,
                                       "max": 8}]},
     "search.space[0].path: Hyperband sets each trial's epochs itself"),
]


@pytest.mark.parametrize("change,expected", BAD, ids=[m.split(":")[0] + str(i)
                                                       for i, (_, m) in enumerate(BAD)])
def test_every_bad_entry_is_reported_with_its_json_path(change, expected):
    search = {**SEARCH, **change}
    problems = problems_of(search)
    assert any(p.startswith(expected) for p in problems), problems


def test_every_problem_is_reported_at_once():
    search = {**SEARCH, "tuner": "grid", "max_trials": -1,
              "space": [{"path": "model.layers[9].units", "kind": "int", "min": 4, "max": 8},
                        {"path": "model.layers[1].activation", "kind": "choice",
                         "values": ["relu", "bogus"]}]}
    problems = problems_of(search)
    assert [p.split(":")[0] for p in problems] == [
        "search.tuner", "search.max_trials", "search.space[0].path", "search.space[1].values[1]"]


@pytest.mark.parametrize("value", [None, 3, "x", [], [1, 2], {"space": "all"}])
def test_a_search_of_the_wrong_shape_is_a_problem_not_a_crash(value):
    doc = spiral_doc(value if value is not None else {"space": None})
    with pytest.raises(ProjectError) as info:
        loads(json.dumps(doc))
    assert all(p.startswith("search") for p in info.value.problems)


def test_the_objective_follows_the_compile_metrics_and_the_validation_split():
    project = loads(json.dumps(spiral_doc(SEARCH)))
    assert objective_names(project) == ["val_loss", "val_accuracy", "loss", "accuracy"]
    no_val = project.replace(data=dict(project.data, validation_split=0.0))
    assert objective_names(no_val) == ["loss", "accuracy"]
    assert check_search(no_val) == [
        "search.objective: expected one of 'loss', 'accuracy' (what this project's training "
        "logs), got 'val_loss'"]
    assert objective_direction("val_loss") == "min" and objective_direction("val_accuracy") == "max"
    assert objective_direction("mae") == "min" and objective_direction("val_auc") == "max"


def test_apply_values_returns_a_new_project_with_each_setting_set():
    project = loads(json.dumps(spiral_doc(SEARCH)))
    best = {"model.layers[0].units": 48, "compile.optimizer.learning_rate": 0.003,
            "model.layers[1].activation": "relu"}
    applied = apply_values(project, best)
    assert applied is not project and applied.search == project.search
    assert applied.model.layers[0].args == {"units": 48, "activation": "tanh"}
    assert applied.model.layers[1].args["activation"] == "relu"
    assert applied.compile.optimizer.args == {"learning_rate": 0.003}
    assert project.model.layers[0].args["units"] == 32  # the original is untouched
    again = loads(dumps(applied))
    assert again == applied


def test_apply_values_for_the_optimizer_and_fit():
    project = loads(json.dumps(spiral_doc(SEARCH)))
    applied = apply_values(project, {"compile.optimizer": "SGD", "fit.batch_size": 64,
                                     "compile.optimizer.learning_rate": 0.05})
    assert applied.compile.optimizer.type == "SGD"
    assert applied.compile.optimizer.args == {"learning_rate": 0.05}
    assert applied.fit.batch_size == 64
    plain = project.replace(compile=project.compile.__class__(
        project.compile.optimizer.__class__("adam"), project.compile.loss, project.compile.metrics))
    lr = apply_values(plain, {"compile.optimizer.learning_rate": 0.02})
    assert lr.compile.optimizer.args == {"learning_rate": 0.02}
    loads(dumps(lr))  # still a valid project


@pytest.mark.parametrize("values,message", [
    ({"model.layers[0].units": 0}, "model.layers[0].units: expected an integer >= 1"),
    ({"model.layers[9].units": 4}, "model.layers[9].units: expected a layer index"),
    ({"fit.nope": 1}, "fit.nope: expected one of the fit settings"),
])
def test_apply_values_refuses_what_the_project_cannot_hold(values, message):
    project = loads(json.dumps(spiral_doc(SEARCH)))
    with pytest.raises(SearchError, match=message.replace("[", r"\[").replace("]", r"\]")):
        apply_values(project, values)


def test_numpy_values_from_keras_tuner_are_stored_as_plain_numbers():
    np = pytest.importorskip("numpy")
    project = loads(json.dumps(spiral_doc(SEARCH)))
    applied = apply_values(project, {"model.layers[0].units": np.int64(12),
                                     "compile.optimizer.learning_rate": np.float64(0.01)})
    assert type(applied.model.layers[0].args["units"]) is int
    json.dumps(project_to_json(applied))


def test_describe_space():
    project = loads(json.dumps(spiral_doc(SEARCH)))
    assert describe_space(project.search) == [
        "random search, up to 8 trials, best by val_loss (lowest)",
        "model.layers[0].units: 4 to 64 in steps of 4",
        "compile.optimizer.learning_rate: 0.0001 to 0.1, log scale",
        "model.layers[1].activation: one of relu, tanh",
    ]


def test_suggestions_are_valid_searches_around_the_current_value():
    project = load_project(SPIRAL)
    for path in ("model.layers[0].units", "compile.optimizer.learning_rate",
                 "model.layers[1].activation", "fit.batch_size", "compile.optimizer",
                 "fit.shuffle"):
        dim = suggest_dim(path, project)
        searched = with_dim(project, dim, path)
        assert check_search(searched) == [], (path, dim)
    units = suggest_dim("model.layers[0].units", project)
    assert units.min <= 32 <= units.max and units.kind == "int"
    lr = suggest_dim("compile.optimizer.learning_rate", project)
    assert (lr.min, lr.max, lr.sampling) == (0.001, 0.1, "log")
    with pytest.raises(SearchError):
        suggest_dim("model.layers[0].name", project)


def test_with_dim_adds_replaces_and_removes_the_section():
    project = load_project(SPIRAL)
    dim = SearchDim("model.layers[0].units", "int", 8, 64, 8)
    one = with_dim(project, dim, dim.path)
    assert one.search.space == (dim,) and one.search.objective == "val_accuracy"
    other = SearchDim("model.layers[0].units", "int", 4, 16, 4)
    assert with_dim(one, other, dim.path).search.space == (other,)
    assert with_dim(one, None, dim.path).search is None


def test_the_search_folder_lives_beside_the_project_and_is_stamped(tmp_path):
    project_file = tmp_path / "spiral.layerlab.json"
    folder = search_folder(project_file)
    assert folder == tmp_path / "spiral.search"
    made = prepare_folder(folder, tmp_path)
    assert made.is_dir() and prepare_folder(folder, tmp_path) == made  # a second time: fine
    foreign = tmp_path / "shared.search"
    foreign.mkdir()
    (foreign / "layerlab-search.json").write_text('{"stamp": "forged"}')
    with pytest.raises(SearchError, match="not made by LayerLab on this computer"):
        prepare_folder(foreign, tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    link = tmp_path / "link.search"
    link.symlink_to(outside)
    with pytest.raises(SearchError, match="got a link"):
        prepare_folder(link, tmp_path)
    with pytest.raises(SearchError, match="inside"):
        prepare_folder(outside / "x.search", tmp_path)


def test_the_search_key_changes_with_the_model_but_not_the_trial_count():
    project = loads(json.dumps(spiral_doc(SEARCH)))
    from dataclasses import replace

    more = project.replace(search=replace(project.search, max_trials=20))
    assert search_key(more) == search_key(project)
    assert search_key(project.replace(name="renamed")) == search_key(project)
    changed = apply_values(project, {"model.layers[2].units": 8})
    assert search_key(changed) != search_key(project)


def test_search_events_json_and_best():
    trials = [TrialEvent(1, {"a": 1}, 0.5, "completed", 1.0),
              TrialEvent(2, {"a": 2}, float("nan"), "failed", 1.0, message="NaN"),
              TrialEvent(3, {"a": 3}, 0.2, "completed", 1.0),
              TrialEvent(4, {"a": 4}, 0.3, "completed", 1.0)]
    assert best_trial(trials, "min").number == 3 and best_trial(trials, "max").number == 1
    assert best_so_far(trials, "min") == [(1, 0.5), (3, 0.2), (4, 0.2)]
    doc = trials[1].to_dict()
    assert doc["type"] == "trial" and doc["score"] is None
    json.dumps(doc, allow_nan=False)
    done = SearchDone("completed", "", "val_loss", "min", {"a": 3}, 0.2,
                      tuple(t.summary() for t in trials))
    assert set(done.result()) == {"best", "best_score", "objective", "trials"}
    assert done.result()["trials"][1] == {"values": {"a": 2}, "score": None, "status": "failed"}
    json.dumps(done.to_dict(), allow_nan=False)


def test_the_search_follows_layers_moved_inserted_and_deleted():
    from gui_app.core.search import follow_edit
    from gui_app.core.spec import LayerSpec

    project = loads(json.dumps(spiral_doc(SEARCH)))
    model = project.model
    inserted = follow_edit(project, project.replace(model=model.insert(0, LayerSpec(
        "Dense", {"units": 4}))))
    assert inserted.search.paths()[0] == "model.layers[1].units"
    assert inserted.search.paths()[2] == "model.layers[2].activation"
    moved = follow_edit(project, project.replace(model=model.move(3, 0)))
    assert moved.search.paths()[0] == "model.layers[1].units"
    assert moved.search.paths()[2] == "model.layers[2].activation"
    deleted = follow_edit(project, project.replace(model=model.remove(1)))
    assert deleted.search.paths() == ("model.layers[0].units",
                                      "compile.optimizer.learning_rate")
    edited = follow_edit(project, project.replace(model=model.set_layer(
        0, model.layers[0].with_args(units=16))))
    assert edited.search == project.search  # an edited layer keeps its searches
    # an optimizer that lacks the argument drops it; a metric no longer logged gives way
    sgd = project.replace(compile=project.compile.__class__(
        project.compile.optimizer.__class__("SGD"), project.compile.loss, ()))
    doc = spiral_doc({**SEARCH, "objective": "val_accuracy",
                      "space": SEARCH["space"] + [{"path": "compile.optimizer.beta_1",
                                                   "kind": "float", "min": 0.8, "max": 0.99}]})
    adam = loads(json.dumps(doc))
    followed = follow_edit(adam, adam.replace(compile=sgd.compile))
    assert "compile.optimizer.beta_1" not in followed.search.paths()
    assert followed.search.objective == "val_loss"
    assert check_search(followed) == []
    # the last searched setting gone: no search left, and a file that loads again
    only = loads(json.dumps(spiral_doc({**SEARCH, "space": SEARCH["space"][:1]})))
    assert follow_edit(only, only.replace(model=only.model.remove(0))).search is None
    # an edit of the search itself is left alone
    assert follow_edit(project, project.replace(search=None)).search is None


def test_annotate_code_marks_the_searched_lines():
    from gui_app.core.codegen import model_code
    from gui_app.core.search_text import annotate_code

    project = loads(json.dumps(spiral_doc(SEARCH)))
    text, marked = annotate_code(model_code(project), project.search)
    lines = text.splitlines()
    assert lines[0].startswith("# Searched (Training > Search)")
    assert [lines[i].split("# searched: ")[1] for i in marked] == [
        "units 4–64", "activation relu/tanh", "learning_rate 0.0001–0.1"]
    compile(text, "code", "exec")  # still Python
    plain = model_code(project.replace(search=None))
    assert annotate_code(plain, None) == (plain, [])
