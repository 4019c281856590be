"""`FitSpec` and `DataSpec`: the typed, frozen `fit` and `data` sections of a project.

Their defaults are defined once (the dataclass fields); they write back exactly the keys a
person set, so saving never changes a file; they read as Mappings for code not migrated;
and they compare like the dicts they replace, which the window's undo and dirty flag use.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui_app.core.data import DATA_DEFAULTS, resolve_data
from gui_app.core.lessons import list_examples
from gui_app.core.limits import MAX_CHECKPOINTS, MAX_CLASS_WEIGHT, MAX_SEED, MAX_STOP_POINT
from gui_app.core.project import (
    FIT_DEFAULTS,
    FIT_PARAMS,
    checked_fit,
    dumps,
    fit_problems,
    load_project,
    loads,
    project_from_json,
    project_to_json,
    resolve_fit,
)
from gui_app.core.spec import DataSpec, FitSpec, Project, default_project

LESSONS = [lesson.path for lesson in list_examples()]


# -- defaults, in one place ------------------------------------------------------------------

def test_fit_defaults_are_the_dataclass_defaults() -> None:
    fit = FitSpec()
    assert (fit.epochs, fit.batch_size, fit.steps_per_epoch, fit.shuffle, fit.seed) == \
        (10, 32, None, True, 0)
    assert (fit.class_weight, fit.virtual_epochs, fit.callbacks) == (None, None, [])
    assert FIT_DEFAULTS == FitSpec.defaults() == fit.resolved()
    assert list(FIT_DEFAULTS) == [f.name for f in dataclasses.fields(FitSpec)]
    assert {p.name: p.default for p in FIT_PARAMS} == \
        {p.name: FIT_DEFAULTS[p.name] for p in FIT_PARAMS}


def test_data_defaults_are_the_dataclass_defaults() -> None:
    data = DataSpec()
    assert (data.source, data.samples, data.noise, data.classes, data.seed) == \
        ("circle", 500, 0.1, 2, 0)
    assert (data.path, data.features, data.target) == (None, None, None)
    assert (data.validation_split, data.test_split, data.standardize, data.labels) == \
        (0.2, 0.0, False, "integer")
    assert DATA_DEFAULTS == DataSpec.defaults() == data.resolved() == resolve_data(None)
    assert list(DATA_DEFAULTS) == [f.name for f in dataclasses.fields(DataSpec)]


def test_an_attribute_gives_the_value_set_or_the_default() -> None:
    fit = FitSpec({"epochs": 50, "seed": None})
    assert (fit.epochs, fit.seed, fit.batch_size) == (50, None, 32)
    data = DataSpec(source="spiral", classes=3)
    assert (data.source, data.classes, data.samples) == ("spiral", 3, 500)


def test_the_default_list_is_not_shared() -> None:
    FitSpec().callbacks.append("EarlyStopping")
    assert FitSpec().callbacks == []
    assert FIT_DEFAULTS["callbacks"] == []


# -- only the keys set are written back ------------------------------------------------------

def test_to_json_writes_only_the_keys_set_in_their_order() -> None:
    given = {"batch_size": 8, "epochs": 10, "callbacks": [{"type": "EarlyStopping", "patience": 3}]}
    fit = FitSpec.from_json(given)
    assert fit.to_json() == given
    assert list(fit.to_json()) == list(given)
    assert FitSpec().to_json() == {} and DataSpec().to_json() == {}


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_every_lesson_round_trips_byte_for_byte(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))
    for section, spec_type in (("fit", FitSpec), ("data", DataSpec)):
        value = raw.get(section) or {}
        spec = spec_type.from_json(value)
        assert spec.to_json() == value
        assert json.dumps(spec.to_json()) == json.dumps(value)
    project = load_project(path)
    assert isinstance(project.fit, FitSpec) and isinstance(project.data, DataSpec)
    doc = project_to_json(project)
    assert json.dumps(doc["fit"]) == json.dumps(raw.get("fit") or {})
    assert json.dumps(doc["data"]) == json.dumps(raw.get("data") or {})
    assert dumps(loads(dumps(project))) == dumps(project)


def test_lessons_are_listed() -> None:
    assert len(LESSONS) >= 5


def _weights() -> st.SearchStrategy:
    classes = st.integers(0, 99).map(str)
    weight = st.floats(0.001, MAX_CLASS_WEIGHT, allow_nan=False)
    return st.none() | st.just("balanced") | st.dictionaries(classes, weight, min_size=1, max_size=4)


_CALLBACK = st.sampled_from([
    "EarlyStopping",
    "TerminateOnNaN",
    {"type": "EarlyStopping", "patience": 3, "restore_best_weights": True},
    {"type": "ReduceLROnPlateau", "factor": 0.5},
    {"type": "CSVLogger", "filename": "logs/run.csv"},
])

VALID_FIT = st.fixed_dictionaries({}, optional={
    "epochs": st.integers(1, 100_000),
    "batch_size": st.integers(1, 1_000_000),
    "steps_per_epoch": st.none() | st.integers(1, 10_000),
    "shuffle": st.booleans(),
    "seed": st.none() | st.integers(0, MAX_SEED),
    "class_weight": _weights(),
    "virtual_epochs": st.none() | st.fixed_dictionaries({
        "stop_point": st.floats(0.01, MAX_STOP_POINT, allow_nan=False),
        "checkpoints": st.integers(1, MAX_CHECKPOINTS),
    }),
    "callbacks": st.lists(_CALLBACK, max_size=3),
})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data(), VALID_FIT)
def test_valid_fit_sections_round_trip(draw: st.DataObject, fit: dict) -> None:
    # the keys in a random order, as a hand-written file may have them
    order = draw.draw(st.permutations(list(fit)))
    fit = {key: fit[key] for key in order}
    assert fit_problems(fit) == []
    spec = FitSpec.from_json(fit)
    assert spec.to_json() == fit
    assert json.dumps(spec.to_json()) == json.dumps(fit)
    assert spec.resolved() == {**FIT_DEFAULTS, **fit} == resolve_fit(fit)
    for name, value in spec.resolved().items():
        assert getattr(spec, name) == value
    assert dict(spec) == fit and len(spec) == len(fit)
    assert spec == FitSpec.from_json(copy.deepcopy(fit))
    assert hash(spec) == hash(FitSpec.from_json(copy.deepcopy(fit)))
    assert checked_fit(fit) == spec


def test_a_project_file_saves_unchanged() -> None:
    doc = project_to_json(default_project())
    doc["fit"] = {"shuffle": False, "epochs": 10, "virtual_epochs": None}
    doc["data"] = {"validation_split": 0.2, "source": "moons"}
    text = json.dumps(doc, indent=2) + "\n"
    assert dumps(loads(text)) == text


# -- frozen ------------------------------------------------------------------------------------

def test_specs_are_frozen() -> None:
    fit, data = FitSpec(epochs=5), DataSpec(source="xor")
    with pytest.raises(dataclasses.FrozenInstanceError):
        fit.epochs = 6  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.source = "circle"  # type: ignore[misc]
    with pytest.raises(TypeError):
        fit["epochs"] = 6  # type: ignore[index]
    with pytest.raises(TypeError):
        del data["source"]  # type: ignore[attr-defined]
    assert fit.epochs == 5 and data.source == "xor"


def test_specs_copy_what_they_are_given_and_what_they_give() -> None:
    given = {"class_weight": {"0": 1.0}, "callbacks": [{"type": "EarlyStopping"}],
             "virtual_epochs": {"stop_point": 2.0, "checkpoints": 4}}
    fit = FitSpec.from_json(given)
    given["class_weight"]["1"] = 9.0
    given["callbacks"][0]["patience"] = 3
    given["virtual_epochs"]["checkpoints"] = 7
    assert fit.class_weight == {"0": 1.0}
    assert fit.callbacks == [{"type": "EarlyStopping"}]
    assert fit.virtual_epochs == {"stop_point": 2.0, "checkpoints": 4}
    out = fit.to_json()
    out["callbacks"].append("TerminateOnNaN")
    assert fit.callbacks == [{"type": "EarlyStopping"}]
    full = fit.resolved()
    full["class_weight"]["2"] = 1.0
    assert fit.class_weight == {"0": 1.0}


def test_replace_sets_and_removes_settings() -> None:
    fit = FitSpec(epochs=5, batch_size=16)
    changed = fit.replace(epochs=7, shuffle=False)
    assert changed.to_json() == {"epochs": 7, "batch_size": 16, "shuffle": False}
    assert fit.to_json() == {"epochs": 5, "batch_size": 16}
    assert fit.replace(batch_size=...).to_json() == {"epochs": 5}
    assert DataSpec(source="moons").replace(noise=0.3) == {"source": "moons", "noise": 0.3}
    with pytest.raises(TypeError):
        fit.replace(epoch=3)
    with pytest.raises(TypeError):
        FitSpec(epoch=3)


# -- the Mapping view, for code not migrated ---------------------------------------------------

def test_a_spec_reads_as_a_mapping_of_the_keys_set() -> None:
    fit = FitSpec({"epochs": 50, "batch_size": 16})
    assert fit["epochs"] == 50 and fit.get("epochs") == 50
    assert fit.get("seed") is None and fit.get("seed", 3) == 3  # not set: the caller's default
    assert "seed" not in fit and "epochs" in fit
    with pytest.raises(KeyError):
        fit["seed"]
    assert {**fit, "shuffle": False} == {"epochs": 50, "batch_size": 16, "shuffle": False}
    assert dict(fit) == {"epochs": 50, "batch_size": 16} and list(fit) == ["epochs", "batch_size"]
    assert not FitSpec() and not DataSpec() and fit


def test_a_key_that_is_no_setting_is_kept_for_the_checks() -> None:
    fit = FitSpec.from_json({"epoch": 5})
    assert fit.to_json() == {"epoch": 5} and fit.epochs == 10
    assert any("fit.epoch: unknown key" in p for p in fit_problems(fit))
    data = DataSpec.from_json({"sourc": "xor"})
    with pytest.raises(Exception, match="data.sourc: unknown setting"):
        resolve_data(data)


# -- projects ------------------------------------------------------------------------------------

def test_a_project_turns_dicts_into_specs() -> None:
    project = Project(data={"source": "xor"}, fit={"epochs": 3})
    assert isinstance(project.data, DataSpec) and isinstance(project.fit, FitSpec)
    assert project.fit.epochs == 3 and project.fit.batch_size == 32
    assert project.data.source == "xor" and project.data.samples == 500
    changed = project.replace(fit={**project.fit, "batch_size": 8})
    assert isinstance(changed.fit, FitSpec) and changed.fit.to_json() == {"epochs": 3, "batch_size": 8}
    assert dataclasses.replace(project, data={"source": "moons"}).data.source == "moons"
    assert isinstance(Project().fit, FitSpec) and Project().fit == {}
    spec = FitSpec(epochs=4)
    assert Project(fit=spec).fit is spec  # already frozen: kept, not copied
    assert project.replace(name="x").fit is project.fit


def test_project_from_json_builds_specs() -> None:
    doc = project_to_json(default_project())
    project = project_from_json(doc)
    assert isinstance(project.fit, FitSpec) and isinstance(project.data, DataSpec)
    assert project.fit.to_json() == doc["fit"] and project.data.to_json() == doc["data"]


def test_equality_is_the_dicts_equality() -> None:
    """The undo stack and the dirty flag compare projects: the same settings are equal, and a
    default written out is a change (the saved file differs)."""
    a = Project(fit={"epochs": 5}, data={"source": "xor"})
    b = Project(fit={"epochs": 5}, data={"source": "xor"})
    assert a == b and a.fit == b.fit and a.data == b.data
    assert a != Project(fit={"epochs": 6}, data={"source": "xor"})
    assert a != Project(fit={"epochs": 5, "batch_size": 32}, data={"source": "xor"})
    assert FitSpec() != FitSpec(batch_size=32)
    assert FitSpec(epochs=5) == {"epochs": 5} and {"epochs": 5} == FitSpec(epochs=5)
    assert FitSpec(epochs=5) != {"epochs": 6}
    assert FitSpec() != DataSpec()
    assert FitSpec(epochs=5) != 5


def test_equal_specs_hash_alike() -> None:
    a = FitSpec({"epochs": 5, "class_weight": {"0": 1.0, "1": 2.0},
                 "callbacks": [{"type": "EarlyStopping", "patience": 2}]})
    b = FitSpec({"callbacks": [{"type": "EarlyStopping", "patience": 2}],
                 "class_weight": {"1": 2.0, "0": 1.0}, "epochs": 5})
    assert a == b and hash(a) == hash(b)
    assert len({a, b, FitSpec(epochs=5)}) == 2
    assert hash(DataSpec(source="xor")) == hash(DataSpec({"source": "xor"}))
    # (A Project itself does not hash: its LayerSpec / ObjectSpec arguments are dicts. The
    # undo stack compares projects with == and `is`, which the test above covers.)


def test_specs_pickle_and_copy() -> None:
    project = default_project().replace(fit={"epochs": 5, "callbacks": ["EarlyStopping"]})
    for clone in (pickle.loads(pickle.dumps(project)), copy.deepcopy(project), copy.copy(project)):
        assert clone == project
        assert isinstance(clone.fit, FitSpec) and clone.fit.epochs == 5
        assert clone.fit.batch_size == 32 and clone.fit.to_json() == project.fit.to_json()
