"""Project files from strangers: safe reading, limits at load, and where a project may write.

Each test here fails when its mechanism is removed: the safe reader (FIFOs, devices, size),
the JSON limits (depth, digits, repeated keys, NaN), validation that matches Keras, the
write-path rule with its unforgeable approval, and the model-size limit.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from gui_app.core import limits
from gui_app.core.build import BuildError, build_model
from gui_app.core.checks import ERROR, run_checks
from gui_app.core.paths import PathError, leaves_folder, resolve_write, write_paths
from gui_app.core.project import (
    OutsidePathsError,
    ProjectError,
    dumps,
    load_project,
    loads,
    project_to_json,
    save_project,
    write_atomic,
)
from gui_app.core.safeio import FileReadError, json_depth, parse_json, read_regular
from gui_app.core.spec import LayerSpec, ModelSpec, default_project
from gui_app.core.training import virtual_epoch_plan


@pytest.fixture(autouse=True)
def _own_config(tmp_path, monkeypatch):
    """Approval keys go to a temporary folder, never the real home."""
    monkeypatch.setenv("LAYERLAB_CONFIG_DIR", str(tmp_path / "config"))


def _doc(**changes) -> dict:
    doc = json.loads(dumps(default_project()))
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            doc[section][name] = value
        else:
            doc[section] = value
    return doc


def _refused(doc_or_text, fragment: str) -> ProjectError:
    text = doc_or_text if isinstance(doc_or_text, str) else json.dumps(doc_or_text)
    with pytest.raises(ProjectError) as info:
        loads(text)
    assert fragment in str(info.value), str(info.value)
    return info.value


def _promptly(fn, seconds: float = 5.0):
    """Runs fn on a thread; fails (instead of hanging the suite) if it blocks."""
    result: dict = {}

    def run():
        try:
            result["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the call blocked"
    return result


# -- reading ---------------------------------------------------------------------------------

def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "lesson.layerlab.json"
    os.mkfifo(fifo)
    result = _promptly(lambda: load_project(fifo))
    assert isinstance(result.get("error"), ProjectError)
    assert "named pipe" in str(result["error"])


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_links_to_devices_are_refused(tmp_path, device):
    link = tmp_path / "x.layerlab.json"
    link.symlink_to(device)
    result = _promptly(lambda: load_project(link))
    assert isinstance(result.get("error"), ProjectError)
    assert "device" in str(result["error"])


def test_size_cap_is_checked_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.layerlab.json"
    big.write_bytes(b" " * 2048)
    monkeypatch.setattr("gui_app.core.project.MAX_PROJECT_BYTES", 1024)
    with pytest.raises(ProjectError, match="at most 1.0 KB"):
        load_project(big)
    with pytest.raises(FileReadError, match="at most"):
        read_regular(big, 1024)


def test_folders_and_missing_files(tmp_path):
    with pytest.raises(ProjectError, match="is a folder"):
        load_project(tmp_path)
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "nope.json")
    with pytest.raises(ProjectError, match="no user called"):
        load_project("~no_such_user_here_xyz/p.layerlab.json")
    with pytest.raises(ProjectError, match="at most 1024 characters"):
        load_project("a" * 5000)


# -- JSON limits -----------------------------------------------------------------------------

@pytest.mark.parametrize("depth", [limits.MAX_JSON_DEPTH + 1, 1000, 100_000])
def test_deep_nesting_is_refused_without_recursion(depth):
    text = '{"format": "layerlab-project", "x": ' + "[" * depth + "]" * depth + "}"
    _refused(text, f"at most {limits.MAX_JSON_DEPTH} levels")


def test_depth_ignores_brackets_inside_strings():
    assert json_depth('{"a": "[[[[[[[[[[{{{{{{", "b": [1, [2]]}') == 3
    assert json_depth('{"a": "quote \\" [[[["}') == 1


def test_long_integers_are_refused():
    _refused('{"format": "layerlab-project", "version": ' + "9" * 5000 + "}", "5,000 digits")
    # 10**400 in a layer: refused while parsing, before any overflow.
    doc = _doc()
    text = json.dumps(doc).replace('"units": 8', '"units": 1' + "0" * 400, 1)
    _refused(text, "401 digits")


def test_huge_floats_nan_and_repeated_keys_are_refused():
    text = json.dumps(_doc()).replace('"units": 8', '"units": 1e400', 1)
    _refused(text, "too large")
    _refused(json.dumps(_doc()).replace('"epochs": 50', '"epochs": NaN'), "not standard JSON")
    text = '{"format": "layerlab-project", "version": 1, "name": "a", "name": "b"}'
    _refused(text, "appears twice")
    with pytest.raises(limits.LimitError):
        parse_json('{"a": {"b": 1, "b": 2}}')


def test_lone_surrogates_and_huge_text_are_refused():
    text = json.dumps(_doc()).replace('"Circle"', '"bad \\ud800 name"')
    _refused(text, "name: expected valid Unicode")
    _refused(_doc(description="x" * (limits.MAX_TEXT_CHARS + 1)), "description: expected text")


# -- validation that matches Keras -----------------------------------------------------------

def _layer_doc(**args) -> dict:
    doc = _doc()
    doc["model"]["layers"][0].update(args)
    return doc


def test_integers_must_be_integers_within_int32():
    _refused(_layer_doc(units=8.0), "without a decimal point")
    _refused(_layer_doc(units=2**31), "at most 2,147,483,647")
    loads(json.dumps(_layer_doc(units=2**31 - 1)))  # loads; the size check is separate
    shape = _doc()
    shape["model"]["input_shape"] = [2**40]
    _refused(shape, "model.input_shape")


def test_fit_values_keras_would_refuse_later():
    _refused(_doc(fit__seed=2**32), "fit.seed")
    loads(json.dumps(_doc(fit__seed=2**32 - 1)))
    for weights in ({"0": 1e300}, {"a": 1.0}, {"0": -1}, {"1": 2, "x1": 3}, {"٣": 1.0}):
        _refused(_doc(fit__class_weight=weights), "fit.class_weight")
    loads(json.dumps(_doc(fit__class_weight={"0": 1.0, "1": 4.0})))
    for virtual in ({"stop_point": 1e300, "checkpoints": 5},
                    {"stop_point": 2, "checkpoints": 10**9},
                    {"stop_point": 2, "checkpoints": 5.0}):
        _refused(_doc(fit__virtual_epochs=virtual), "fit.virtual_epochs")
    _refused(json.dumps(_doc()).replace('"epochs": 50', '"epochs": Infinity'), "not standard")


def test_too_many_layers_are_refused_quickly():
    doc = _doc()
    layer = json.dumps({"type": "Dense", "units": 1})
    text = json.dumps(doc).replace(json.dumps(doc["model"]["layers"]),
                                   "[" + ",".join([layer] * 700_000) + "]")
    start = time.perf_counter()
    _refused(text, f"at most {limits.MAX_LAYERS} layers")
    assert time.perf_counter() - start < 20  # loose: the old path took 48 s to summarise


def test_virtual_epochs_cannot_plan_billions_of_samples():
    with pytest.raises(ValueError, match="at most 50,000,000 examples"):
        virtual_epoch_plan(10_000, 100, 60_000, 32)
    assert virtual_epoch_plan(2.0, 5, 400, 32).epochs == 5


def test_giant_models_are_refused_before_keras_builds_them():
    model = ModelSpec((784,), (LayerSpec("Dense", {"units": 10**9}),))
    with pytest.raises(BuildError, match="too big"):
        build_model(model)
    project = default_project().replace(model=model)
    codes = {f.code for f in run_checks(project) if f.severity == ERROR}
    assert "too-big" in codes
    assert "too-big" not in {f.code for f in run_checks(default_project())}


def test_memory_estimate_uses_the_memory_available(monkeypatch):
    monkeypatch.setattr(limits, "available_memory", lambda: 100 * 1024**2)
    problem = limits.model_problem(10_000_000)
    assert problem and "to spare" in problem
    assert limits.model_problem(1000) is None


# -- where a project may write ---------------------------------------------------------------

@pytest.mark.parametrize("value, outside", [
    ("logs/run.csv", False), ("run.csv", False), ("a/../b.csv", False), ("./x/./y", False),
    ("/home/sam/notes.txt", True), ("~/important_model.keras", True), ("../x.csv", True),
    ("a/../../x.csv", True), ("C:\\Users\\x.csv", True), ("\\\\server\\share\\x", True),
    ("logs\\..\\..\\x", True),
])
def test_leaves_folder(value, outside):
    assert (leaves_folder(value) is not None) is outside


def _outside_doc(target: str) -> dict:
    return _doc(fit__callbacks=[{"type": "CSVLogger", "filename": target},
                                {"type": "EarlyStopping", "patience": 3}])


def test_outside_paths_are_refused_at_load_with_the_project(tmp_path):
    target = str(tmp_path / "elsewhere" / "notes.txt")
    with pytest.raises(OutsidePathsError) as info:
        loads(json.dumps(_outside_doc(target)))
    exc = info.value
    assert [w.where for w in exc.paths] == ["fit.callbacks[0].filename"]
    assert "outside the project's folder" in exc.problems[0]
    assert exc.project.name == "Circle" and exc.project.allow_outside == ()
    assert exc.approved().allow_outside == (target,)
    codes = {f.code for f in run_checks(exc.project)}
    assert "writes-outside" in codes
    finding = next(f for f in run_checks(exc.project) if f.code == "writes-outside")
    assert "writes-outside" not in {f.code for f in run_checks(finding.fixes[0].apply(exc.project))}


def test_an_approval_is_kept_on_this_computer_only(tmp_path, monkeypatch):
    target = str(tmp_path / "notes.txt")
    approved = loads_or_approve(_outside_doc(target))
    path = save_project(approved, tmp_path / "p.layerlab.json")
    assert load_project(path).allow_outside == (target,)  # the stamp verifies here
    # Another computer (another key), or an edited list: asked again.
    monkeypatch.setenv("LAYERLAB_CONFIG_DIR", str(tmp_path / "other-computer"))
    with pytest.raises(OutsidePathsError):
        load_project(path)
    monkeypatch.setenv("LAYERLAB_CONFIG_DIR", str(tmp_path / "config"))
    doc = json.loads(path.read_text())
    doc["allow_outside"]["paths"].append("/etc/cron.d/x")
    doc["fit"]["callbacks"].append({"type": "CSVLogger", "filename": "/etc/cron.d/x"})
    with pytest.raises(OutsidePathsError) as info:
        loads(json.dumps(doc))
    assert {w.value for w in info.value.paths} == {target, "/etc/cron.d/x"}
    # A forged stamp is ignored the same way.
    doc = project_to_json(approved)
    doc["allow_outside"]["approval"] = "0" * 64
    with pytest.raises(OutsidePathsError):
        loads(json.dumps(doc))


def loads_or_approve(doc: dict):
    try:
        return loads(json.dumps(doc))
    except OutsidePathsError as exc:
        return exc.approved()


def test_resolve_write_keeps_writes_in_the_folder(tmp_path):
    base = tmp_path / "project"
    base.mkdir()
    assert resolve_write("logs/run.csv", base, ()) == base / "logs/run.csv"
    with pytest.raises(PathError, match="outside"):
        resolve_write("../run.csv", base, ())
    with pytest.raises(PathError, match="outside"):
        resolve_write(str(tmp_path / "x.csv"), base, ())
    (base / "escape").symlink_to(tmp_path)
    with pytest.raises(PathError, match="through a link"):
        resolve_write("escape/x.csv", base, ())
    allowed = str(tmp_path / "x.csv")
    assert resolve_write(allowed, base, (allowed,)) == Path(allowed)


def test_write_paths_lists_every_writing_callback():
    fit = {"callbacks": [{"type": "ModelCheckpoint", "filepath": "m.keras"},
                         {"type": "TensorBoard", "log_dir": "/tmp/tb"},
                         {"type": "CSVLogger", "filename": "~/x.csv"},
                         {"type": "EarlyStopping"}]}
    found = write_paths(fit)
    assert [w.where for w in found] == ["fit.callbacks[0].filepath", "fit.callbacks[1].log_dir",
                                        "fit.callbacks[2].filename"]
    assert [w.outside is not None for w in found] == [False, True, True]


# -- saving ----------------------------------------------------------------------------------

def test_saving_through_a_symlink_writes_its_target(tmp_path):
    real = tmp_path / "real" / "p.layerlab.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "p.layerlab.json"
    link.symlink_to(real)
    save_project(default_project(), link)
    assert link.is_symlink()
    assert load_project(real).name == "Circle"
    write_atomic(link, b"{}")
    assert link.is_symlink() and real.read_bytes() == b"{}"
