"""A lesson's steps, checks and locks (`core.lesson_steps`, `lesson_checks`, `lesson_locks`,
`lesson_paths`).

Every check kind is evaluated both ways (a project or run that passes, one that does not),
every kind of bad step is refused with its JSON path, and the locks are tested where they
are enforced: `refusal`, which the project controller asks before every edit.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gui_app.core.lesson_checks import (
    MAX_NODES,
    FinishedRun,
    check_passes,
    check_problems,
    hidden_layer_count,
)
from gui_app.core.lesson_locks import Locks, locks_from_json, refusal
from gui_app.core.lesson_paths import (
    PathError,
    changed_paths,
    covers,
    effective_tree,
    parse_path,
)
from gui_app.core.lesson_steps import (
    MAX_STEPS,
    LessonProgress,
    LessonSpec,
    Step,
    evaluate,
    steps_from_json,
)
from gui_app.core.project import ProjectError, dumps, loads, project_to_json
from gui_app.core.spec import CompileSpec, LayerSpec, ObjectSpec, default_project


@pytest.fixture
def circle():
    """The circle project: Dense 8 relu, Dense 8 relu, Dense 1 sigmoid, Adam."""
    return default_project()


def without_hidden(project):
    return project.replace(model=replace(project.model, layers=project.model.layers[-1:]))


def run_of(project, *val_accuracy: float, **more: list[float]) -> FinishedRun:
    logs = [{"loss": 0.5, "val_accuracy": v, **{k: vs[i] for k, vs in more.items()}}
            for i, v in enumerate(val_accuracy)]
    return FinishedRun(project, tuple(logs))


# -- each check kind ---------------------------------------------------------------------------

def test_model_has_counts_hidden_layers_layers_parameters_and_types(circle):
    assert hidden_layer_count(circle) == 2
    assert check_passes({"model_has": {"hidden_layers": 2}}, circle)
    assert not check_passes({"model_has": {"hidden_layers": 0}}, circle)
    assert check_passes({"model_has": {"hidden_layers": 0}}, without_hidden(circle))
    assert check_passes({"model_has": {"layers": {"at_least": 3, "at_most": 3}}}, circle)
    assert not check_passes({"model_has": {"layers": {"at_most": 2}}}, circle)
    # 2*8+8 + 8*8+8 + 8+1 = 105
    assert check_passes({"model_has": {"parameters": 105}}, circle)
    assert check_passes({"model_has": {"layers_of_type": {"Dense": 3, "Dropout": 0}}}, circle)
    with_dropout = circle.replace(model=circle.model.insert(1, LayerSpec("Dropout",
                                                                         {"rate": 0.2})))
    assert check_passes({"model_has": {"layers_of_type": {"Dropout": {"at_least": 1}}}},
                        with_dropout)
    # Dropout and Flatten are no hidden layers; a Conv2D is
    assert hidden_layer_count(with_dropout) == 2
    # every key must hold
    assert not check_passes({"model_has": {"hidden_layers": 2, "layers": 1}}, circle)


def test_setting_reads_effective_values_with_defaults(circle):
    assert check_passes({"setting": "compile.optimizer.type", "equals": "Adam"}, circle)
    assert check_passes({"setting": "compile.optimizer.type", "equals": "adam"}, circle)
    sgd = circle.replace(compile=CompileSpec(ObjectSpec("sgd"), circle.compile.loss,
                                             circle.compile.metrics))
    assert check_passes({"setting": "compile.optimizer.type", "equals": "SGD"}, sgd)
    assert not check_passes({"setting": "compile.optimizer.type", "equals": "SGD"}, circle)
    # learning_rate is not in the spec: Adam's default (0.001) is read
    assert check_passes({"setting": "compile.optimizer.learning_rate", "equals": 0.001}, circle)
    assert check_passes({"setting": "compile.optimizer.learning_rate", "at_most": 0.01},
                        circle)
    assert not check_passes({"setting": "compile.optimizer.learning_rate",
                             "at_least": 0.01}, circle)
    assert check_passes({"setting": "model.layers[0].units", "one_of": [4, 8]}, circle)
    assert check_passes({"setting": "fit.epochs", "equals": 50}, circle)
    assert check_passes({"setting": "fit.shuffle", "equals": True}, circle)  # a default
    assert check_passes({"setting": "data.source", "equals": "circle"}, circle)
    assert check_passes({"setting": "model.input_shape[0]", "equals": 2}, circle)
    # a layer without an activation has none (null), whatever the file leaves out
    linear = circle.replace(model=circle.model.set_layer(0, LayerSpec("Dense", {"units": 8})))
    assert check_passes({"setting": "model.layers[0].activation", "one_of": [None, "linear"]},
                        linear)
    # a deleted layer has no setting: the check does not pass (and does not raise)
    assert not check_passes({"setting": "model.layers[5].units", "equals": 8}, circle)
    # true is not 1
    assert not check_passes({"setting": "fit.shuffle", "equals": 1}, circle)
    # a text is not in a numeric range
    assert not check_passes({"setting": "data.source", "at_least": 0}, circle)


def test_metric_reads_the_last_finished_run(circle):
    runs = [run_of(circle, 0.5, 0.97, 0.93)]
    assert not check_passes({"metric": "val_accuracy", "at_least": 0.95}, circle, runs)
    assert check_passes({"metric": "val_accuracy", "at_least": 0.95, "epoch": "any"},
                        circle, runs)
    assert check_passes({"metric": "val_accuracy", "at_least": 0.9, "at_most": 0.95},
                        circle, runs)
    assert check_passes({"metric": "loss", "at_most": 0.5}, circle, runs)
    # the last run is the one read
    runs.append(run_of(circle, 0.99))
    assert check_passes({"metric": "val_accuracy", "at_least": 0.95}, circle, runs)
    # no run, or a key the run did not log, or a NaN: not passed
    assert not check_passes({"metric": "val_accuracy", "at_least": 0.0}, circle, [])
    assert not check_passes({"metric": "val_recall", "at_least": 0.0}, circle, runs)
    nan = [run_of(circle, float("nan"))]
    assert not check_passes({"metric": "val_accuracy", "at_most": 1.0}, circle, nan)


def test_run_epochs_counts_the_last_runs_epochs(circle):
    runs = [run_of(circle, 0.5, 0.6, 0.7)]
    assert check_passes({"run_epochs": 3}, circle, runs)
    assert check_passes({"run_epochs": {"at_most": 100}}, circle, runs)
    assert not check_passes({"run_epochs": {"at_least": 4}}, circle, runs)
    assert not check_passes({"run_epochs": {"at_least": 0}}, circle, [])  # no run


def test_runs_finished_counts_the_runs_given(circle):
    runs = [run_of(circle, 0.5), run_of(circle, 0.6)]
    assert check_passes({"runs_finished": 2}, circle, runs)
    assert not check_passes({"runs_finished": 3}, circle, runs)
    assert not check_passes({"runs_finished": 1}, circle, [])


def test_ran_reads_each_run_with_the_project_it_trained(circle):
    flat = without_hidden(circle)
    runs = [run_of(circle, 0.97), run_of(flat, 0.48)]
    check = {"ran": {"model_has": {"hidden_layers": 0}}}
    # the project now has hidden layers again, but a run without them finished
    assert check_passes(check, circle, runs)
    assert not check_passes(check, circle, runs[:1])
    # inside ran, metric reads that run's History
    assert check_passes({"ran": {"all": [{"model_has": {"hidden_layers": 0}},
                                         {"metric": "val_accuracy", "at_most": 0.6}]}},
                        circle, runs)
    assert not check_passes({"ran": {"all": [{"model_has": {"hidden_layers": 0}},
                                             {"metric": "val_accuracy", "at_least": 0.9}]}},
                            circle, runs)


def test_all_any_and_not_combine(circle):
    yes, no = {"model_has": {"layers": 3}}, {"model_has": {"layers": 1}}
    assert check_passes({"all": [yes, yes]}, circle)
    assert not check_passes({"all": [yes, no]}, circle)
    assert check_passes({"any": [no, yes]}, circle)
    assert not check_passes({"any": [no, no]}, circle)
    assert check_passes({"not": no}, circle)
    assert not check_passes({"not": yes}, circle)


def test_evaluate_says_which_steps_pass(circle):
    steps = steps_from_json([
        {"text": "Train once.", "check": {"runs_finished": 1}},
        {"text": "Read this."},
        {"text": "Reach 95 %.", "check": {"metric": "val_accuracy", "at_least": 0.95}},
    ], [])
    assert evaluate(steps, circle, []) == (False, False, False)
    runs = [run_of(circle, 0.97)]
    assert evaluate(steps, circle, runs) == (True, False, True)
    # the runs before since[i] do not count for step i
    assert evaluate(steps, circle, runs, since=[0, 0, 1]) == (True, False, False)


# -- progress: in order, and "again" means again -------------------------------------------------

def test_progress_ticks_in_order_and_counts_only_later_runs(circle):
    flat = without_hidden(circle)
    steps = steps_from_json([
        {"text": "Train it as it is.", "check": {"runs_finished": 1}},
        {"text": "Delete the hidden layers and train again.",
         "check": {"ran": {"model_has": {"hidden_layers": 0}}}},
        {"text": "Read the boundary."},
        {"text": "Put them back and train again.",
         "check": {"ran": {"model_has": {"hidden_layers": 2}}}},
    ], [])
    progress = LessonProgress(steps)
    runs: list[FinishedRun] = []
    assert progress.update(circle, runs) == []
    runs.append(run_of(circle, 0.97))
    assert progress.update(circle, runs) == [0]
    # an edit first: the run before it does not count for step 2 (nor for step 4)
    assert progress.update(flat, runs) == []
    runs.append(run_of(flat, 0.48))
    assert progress.update(flat, runs) == [1]
    assert progress.done == [True, True, False, False]
    # step 4 counts runs from the one that ticked step 2 on: that run had no hidden layer
    assert progress.since[3] == 1
    assert progress.update(circle, runs) == []
    runs.append(run_of(circle, 0.96))
    assert progress.update(circle, runs) == [3]
    # step 3 has no check: it held nothing back, and Next on it ticks it
    assert not progress.complete
    progress.current = 2
    assert progress.next() == [2] and progress.current == 3
    assert progress.complete and progress.next() == [] and progress.current == 3
    progress.back()
    assert progress.current == 2


def test_one_run_ticks_train_it_and_the_step_about_its_result(circle):
    steps = steps_from_json([
        {"text": "Train.", "check": {"runs_finished": 1}},
        {"text": "Reach 95 %.", "check": {"metric": "val_accuracy", "at_least": 0.95}},
        {"text": "Train again.", "check": {"runs_finished": 1}},
    ], [])
    progress = LessonProgress(steps)
    progress.update(circle, [])
    runs = [run_of(circle, 0.97)]
    # the run ticks 1 and 2; step 3 counts from that run on too ("again" wants a step
    # between that needs a new run; a lesson says so with ran)
    assert progress.update(circle, runs) == [0, 1, 2]
    low = LessonProgress(steps)
    low.update(circle, [])
    assert low.update(circle, [run_of(circle, 0.5)]) == [0]
    # an edit: nothing new ticks; a later, better run ticks step 2 (the metric reads the
    # last run of the step's runs, which start with the run that ticked step 1)
    assert low.update(circle, [run_of(circle, 0.5)]) == []
    assert low.update(circle, [run_of(circle, 0.5), run_of(circle, 0.99)]) == [1, 2]


def test_a_ticked_step_stays_ticked(circle):
    steps = steps_from_json([{"text": "Set SGD.", "check": {
        "setting": "compile.optimizer.type", "equals": "SGD"}}], [])
    progress = LessonProgress(steps)
    sgd = circle.replace(compile=CompileSpec(ObjectSpec("SGD"), circle.compile.loss,
                                             circle.compile.metrics))
    assert progress.update(sgd, []) == [0]
    assert progress.update(circle, []) == [] and progress.done == [True]


# -- bad steps: every problem with its JSON path ---------------------------------------------------

BAD = [
    ("not a list", "steps", "expected a list of steps"),
    ([{"text": ""}], "steps[0].text", "expected a sentence"),
    ([{"text": "x" * 801}], "steps[0].text", "at most 800 characters"),
    ([{"text": "ok", "hint": 5}], "steps[0].hint", "expected text"),
    ([{"text": "ok", "why": "?"}], "steps[0].why", "unknown key"),
    ([{"text": "ok", "check": "runs_finished"}], "steps[0].check", "expected a check object"),
    ([{"text": "ok", "check": {"modelhas": {}}}], "steps[0].check",
     "did you mean 'model_has'"),
    ([{"text": "ok", "check": {"runs_finished": 1, "metric": "loss"}}], "steps[0].check",
     "exactly one of"),
    ([{"text": "ok", "check": {"runs_finished": 0}}], "steps[0].check.runs_finished",
     "from 1 to"),
    ([{"text": "ok", "check": {"runs_finished": True}}], "steps[0].check.runs_finished",
     "got true"),
    ([{"text": "ok", "check": {"model_has": {"hidden": 0}}}],
     "steps[0].check.model_has.hidden", "unknown key"),
    ([{"text": "ok", "check": {"model_has": {"layers": -1}}}],
     "steps[0].check.model_has.layers", "whole number >= 0"),
    ([{"text": "ok", "check": {"model_has": {"layers": {"at_least": 3, "at_most": 1}}}}],
     "steps[0].check.model_has.layers", "swap them"),
    ([{"text": "ok", "check": {"model_has": {"layers_of_type": {"Dens": 1}}}}],
     "steps[0].check.model_has.layers_of_type.Dens", "did you mean 'Dense'"),
    ([{"text": "ok", "check": {"setting": "compile.optimiser.type", "equals": "SGD"}}],
     "steps[0].check.setting", "did you mean 'optimizer'"),
    ([{"text": "ok", "check": {"setting": "model.layers[0].unit", "equals": 1}}],
     "steps[0].check.setting", "did you mean 'units'"),
    ([{"text": "ok", "check": {"setting": "model.layers[*].units", "equals": 1}}],
     "steps[0].check.setting", "give the position"),
    ([{"text": "ok", "check": {"setting": "weights", "equals": 1}}],
     "steps[0].check.setting", "a path starts with one of model"),
    ([{"text": "ok", "check": {"setting": "fit.epochs"}}], "steps[0].check.setting",
     "expected equals, one_of, at_least or at_most"),
    ([{"text": "ok", "check": {"setting": "fit.epochs", "equals": 1, "at_least": 1}}],
     "steps[0].check", "not equals and at_least"),
    ([{"text": "ok", "check": {"setting": "fit.epochs", "one_of": []}}],
     "steps[0].check.one_of", "a list of 1 to"),
    ([{"text": "ok", "check": {"setting": "fit.epochs", "equals": {"a": 1}}}],
     "steps[0].check.equals", "short JSON value"),
    ([{"text": "ok", "check": {"metric": "Val Accuracy", "at_least": 0.9}}],
     "steps[0].check.metric", "History key"),
    ([{"text": "ok", "check": {"metric": "val_accuracy"}}], "steps[0].check.metric",
     "expected at_least or at_most"),
    ([{"text": "ok", "check": {"metric": "val_accuracy", "at_least": "high"}}],
     "steps[0].check.at_least", "expected a number"),
    ([{"text": "ok", "check": {"metric": "val_accuracy", "at_least": 0.9, "epoch": "best"}}],
     "steps[0].check.epoch", "\"any\""),
    ([{"text": "ok", "check": {"run_epochs": {"at_most": -1}}}], "steps[0].check.run_epochs",
     "whole number >= 0"),
    ([{"text": "ok", "check": {"ran": {"ran": {"runs_finished": 1}}}}],
     "steps[0].check.ran.ran", "inside another ran"),
    ([{"text": "ok", "check": {"ran": {"runs_finished": 1}}}],
     "steps[0].check.ran.runs_finished", "move runs_finished out"),
    ([{"text": "ok", "check": {"all": []}}], "steps[0].check.all", "a list of 1 to"),
    ([{"text": "ok", "check": {"not": {"all": [{"not": {"any": [{"nope": 1}]}}]}}}],
     "steps[0].check.not.all[0].not.any[0]", "exactly one of"),
]


@pytest.mark.parametrize(("steps", "where", "words"), BAD,
                         ids=[f"{i}-{w}" for i, (_s, w, _x) in enumerate(BAD)])
def test_a_bad_step_is_reported_with_its_path(circle, steps, where, words):
    doc = json.loads(dumps(circle))
    doc["steps"] = steps
    with pytest.raises(ProjectError) as caught:
        loads(json.dumps(doc))
    problems = caught.value.problems
    assert any(p.startswith(where + ":") and words in p for p in problems), problems


def test_sizes_are_bounded():
    problems: list[str] = []
    steps_from_json([{"text": "x"}] * (MAX_STEPS + 1), problems)
    assert problems and "at most 40 steps" in problems[0]
    deep: dict = {"runs_finished": 1}
    for _ in range(10):
        deep = {"not": deep}
    assert any("nest at most" in p for p in check_problems(deep))
    wide = {"all": [{"runs_finished": 1}] * 20}
    many = {"any": [wide, wide, wide]}
    assert any(f"at most {MAX_NODES} checks" in p for p in check_problems(many))
    # a malformed check never raises when evaluated (the loader refuses it before)
    assert check_passes({"setting": 5}, default_project()) is False
    assert check_passes({"all": "x"}, default_project()) is False


def test_a_good_check_has_no_problem():
    assert check_problems({"all": [
        {"ran": {"all": [{"model_has": {"hidden_layers": 0}},
                         {"metric": "val_accuracy", "at_most": 0.6, "epoch": "any"}]}},
        {"setting": "compile.optimizer.learning_rate", "at_least": 1e-4, "at_most": 0.1},
        {"not": {"setting": "fit.class_weight", "equals": None}},
        {"runs_finished": 2}]}) == []


# -- the project file ----------------------------------------------------------------------------------

def test_steps_and_locks_survive_a_save_and_load(circle):
    lesson = LessonSpec(
        (Step("Train it.", {"runs_finished": 1}, "Press Train."), Step("Look.")),
        Locks(("compile.optimizer.learning_rate", "model.layers[*].units"), ("code",)))
    project = circle.replace(description="A lesson.", lesson=lesson)
    doc = project_to_json(project)
    assert doc["version"] == 2  # an older LayerLab says "update" instead of "unknown key"
    assert doc["steps"][1] == {"text": "Look."}
    assert doc["locks"] == {"editable": ["compile.optimizer.learning_rate",
                                         "model.layers[*].units"], "hidden": ["code"]}
    again = loads(dumps(project))
    assert again == project and again.lesson == lesson
    # a project without a lesson is written as before, without the keys
    plain = project_to_json(circle)
    assert "steps" not in plain and "locks" not in plain and plain["version"] == 1


def test_empty_steps_and_locks_are_no_lesson():
    doc = json.loads(dumps(default_project()))
    doc.update(steps=[], locks={})
    project = loads(json.dumps(doc))
    assert project.lesson is None and loads(dumps(project)) == project


def test_a_version_1_file_with_steps_is_read():
    doc = json.loads(dumps(default_project()))
    assert doc["version"] == 1
    doc["steps"] = [{"text": "Train.", "check": {"runs_finished": 1}}]
    assert loads(json.dumps(doc)).lesson.steps[0].text == "Train."


def test_bad_locks_are_reported_with_their_paths():
    problems: list[str] = []
    locks_from_json({"editable": ["model.layers[*].unit", "fit"], "hidden": ["codes"],
                     "read_only": []}, problems)
    assert any(p.startswith("locks.editable[0]:") and "did you mean 'units'" in p
               for p in problems), problems
    assert any(p.startswith("locks.hidden[0]:") and "'codes'" in p for p in problems)
    assert any(p.startswith("locks.read_only:") for p in problems)
    problems = []
    locks_from_json({"hidden": [["code"]]}, problems)  # not a name: said, never raised
    assert problems == ["locks.hidden[0]: expected one of palette, inspector, code, compile, "
                        "data, fit, got [\"code\"]"]
    problems = []
    locks_from_json({"editable": "fit"}, problems)
    assert problems == ["locks.editable: expected a list of settings' JSON paths, such as "
                        "[\"model.layers[*].units\"], got text"]
    problems = []
    locks_from_json({"editable": ["fit.epochs" for _ in range(40)]}, problems)
    assert "at most 32 paths" in problems[0]


# -- locks: what the controller asks before every edit ---------------------------------------------

def locked(project, *editable: str):
    return project.replace(lesson=LessonSpec((), Locks(editable)))


def test_paths_parse_and_cover():
    assert parse_path("model.layers[0].units") == ("model", "layers", 0, "units")
    assert parse_path("model.layers[*].units", wildcards=True) == ("model", "layers", "*",
                                                                    "units")
    with pytest.raises(PathError):
        parse_path("model.layers[0]..units")
    with pytest.raises(PathError):
        parse_path("x" * 300)
    assert covers(("model", "layers", "*", "units"), ("model", "layers", 2, "units"))
    assert covers(("compile", "optimizer"), ("compile", "optimizer", "learning_rate"))
    assert not covers(("model", "layers", "*", "units"), ("model", "layers"))
    assert not covers(("model", "layers", 0, "units"), ("model", "layers", 1, "units"))


def test_only_the_editable_settings_change(circle):
    lesson = locked(circle, "compile.optimizer.learning_rate", "model.layers[*].units")
    lr = lesson.replace(compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.1}),
                                            circle.compile.loss, circle.compile.metrics))
    assert refusal(lesson, lr) is None
    units = lesson.replace(model=lesson.model.set_layer(0, LayerSpec(
        "Dense", {"units": 2, "activation": "relu"})))
    assert refusal(lesson, units) is None
    activation = lesson.replace(model=lesson.model.set_layer(0, LayerSpec(
        "Dense", {"units": 8, "activation": "tanh"})))
    message = refusal(lesson, activation)
    assert message and "model.layers[0].activation" in message
    assert "compile.optimizer.learning_rate" in message  # what may change
    deleted = lesson.replace(model=lesson.model.remove(0))
    assert "adding, deleting or moving layers" in refusal(lesson, deleted)
    sgd = lesson.replace(compile=CompileSpec(ObjectSpec("SGD"), circle.compile.loss,
                                             circle.compile.metrics))
    assert "compile.optimizer.type" in refusal(lesson, sgd)
    epochs = lesson.replace(fit={**circle.fit, "epochs": 3})
    assert "fit.epochs" in refusal(lesson, epochs)
    # the lesson's own text, name and locks are no settings
    assert refusal(lesson, lesson.replace(name="Mine", description="New text",
                                          lesson=None)) is None
    # no locks, or locks without an editable list: every edit passes
    assert refusal(circle, epochs) is None
    open_lesson = circle.replace(lesson=LessonSpec((), Locks(None, ("code",))))
    assert refusal(open_lesson, open_lesson.replace(fit={"epochs": 3})) is None


def test_a_value_set_to_its_default_is_not_a_change(circle):
    lesson = locked(circle, "fit.epochs")
    explicit = lesson.replace(fit={**circle.fit, "shuffle": True, "epochs": 5})
    assert refusal(lesson, explicit) is None
    assert changed_paths(effective_tree(lesson)["fit"], effective_tree(explicit)["fit"],
                         ("fit",)) == [("fit", "epochs")]


def test_sections_and_layers_unlock_everything_under_them(circle):
    lesson = locked(circle, "model.layers", "fit")
    assert refusal(lesson, lesson.replace(model=lesson.model.remove(0))) is None
    assert refusal(lesson, lesson.replace(fit={"epochs": 1, "batch_size": 8})) is None
    assert refusal(lesson, lesson.replace(data={**circle.data, "noise": 0.3})) is not None
    assert refusal(lesson, lesson.replace(
        model=replace(lesson.model, input_shape=(3,)))) is not None
    assert Locks(("model.layers[*].units",)).allows_any("model")
    assert not Locks(("model.layers[*].units",)).allows_any("data")
    assert Locks(("fit",)).allows("fit.epochs")
    assert not Locks(()).allows("fit.epochs")
