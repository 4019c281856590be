"""The `--loop` export is data-safe too: project text never becomes code in it.

The same nasty text as `test_codegen_safety.py` (quotes, triple quotes, backslashes, line
breaks, NULs, lone surrogates, ...) goes into every string a project holds; the loop
script must have the syntax tree and comment lines of a clean project's, keep each text as
exactly one string constant, and, run against do-nothing stand-ins for Keras and
TensorFlow, never run the text. The loop writes the loss and the metrics as classes, so
names LayerLab does not know are refused rather than written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gui_app.core.catalog import loss_def, metric_def, optimizer_def
from gui_app.core.codegen_loop import LoopExportError, training_loop_code
from gui_app.core.export import export_script
from gui_app.core.spec import CompileSpec, ObjectSpec, Project

from .test_codegen_safety import (
    FIELDS,
    LITERAL_FIELDS,
    STUB_KERAS,
    assert_inert,
    clean_twin,
    make_project,
    nasty,
    payloads,
    runnable_path,
    tiny_dataset,
)

# Known loss and metrics (the loop refuses others, tested below); the rest is
# test_codegen_safety's project, with every nasty text in it.
LOOP_COMPILE = CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}),
                           ObjectSpec("binary_crossentropy"),
                           (ObjectSpec("accuracy"), ObjectSpec("mae"),
                            ObjectSpec("Recall", {"thresholds": 0.5})))


def loop_project(s: dict[str, Any], source: str = "circle", validated: bool = True) -> Project:
    """test_codegen_safety's project with class weights and a known loss and metrics; an
    unvalidated one also holds text in its virtual epochs (besides its epochs, batch size,
    seed and steps per epoch)."""
    proj = make_project(s, source, validated)
    fit = {**proj.fit, "class_weight": {"0": 1.0, "1": 2.0}}
    if not validated:
        fit["virtual_epochs"] = {"stop_point": s["epochs"], "checkpoints": s["epochs"]}
    return proj.replace(compile=LOOP_COMPILE, fit=fit)


def loop_script(s: dict[str, Any], source: str, base: Path | None = None,
                script_path: Path | None = None) -> str:
    dataset = None if source == "circle" else tiny_dataset(f"{s['path']}: 16 train samples")
    return export_script(loop_project(s, source), base, script_path=script_path,
                         dataset=dataset, loop=True)


def check_loop_texts(s: dict[str, Any], source: str) -> None:
    assume(s["path"].strip())
    assume(len({s["feature_a"], s["feature_b"]}) == 2)
    clean = {key: clean_twin(value) for key, value in s.items()}

    for validated in (True, False):
        nasty_code = training_loop_code(loop_project(s, source, validated))
        strings = assert_inert(nasty_code, training_loop_code(loop_project(clean, source,
                                                                           validated)))
        assert {s[key] for key in LITERAL_FIELDS} <= strings

    strings = assert_inert(loop_script(s, source), loop_script(clean, source))
    expected = {s[key] for key in LITERAL_FIELDS}
    if source != "circle":
        expected.add(s["path"])
    if source == "csv":
        expected |= {s["target"], s["feature_a"], s["feature_b"]}
    assert expected <= strings


texts = st.fixed_dictionaries({key: nasty for key in FIELDS})
sources = st.sampled_from(["circle", "csv", "npz"])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, sources)
def test_nasty_text_stays_in_string_constants_of_the_loop(s: dict[str, Any],
                                                          source: str) -> None:
    check_loop_texts(s, source)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, sources)
def test_nasty_text_stays_in_string_constants_of_the_loop_many(s: dict[str, Any],
                                                               source: str) -> None:
    check_loop_texts(s, source)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(["loss", "metric", "optimizer"]), nasty)
def test_unknown_compile_names_are_refused_never_written(where: str, name: str) -> None:
    """The loop writes `keras.losses.<Class>()`: a name that is not a catalog class is
    refused, with its text shown escaped on one line, and never becomes a class name."""
    lookup = {"loss": loss_def, "metric": metric_def, "optimizer": optimizer_def}[where]
    assume(lookup(name) is None)
    base = loop_project({key: "text" for key in FIELDS})
    c = base.compile
    bad = {"loss": CompileSpec(c.optimizer, ObjectSpec(name), c.metrics),
           "metric": CompileSpec(c.optimizer, c.loss, (ObjectSpec(name),)),
           "optimizer": CompileSpec(ObjectSpec(name, {"learning_rate": 0.1}), c.loss,
                                    c.metrics)}[where]
    with pytest.raises(LoopExportError) as caught:
        training_loop_code(base.replace(compile=bad))
    message = str(caught.value)
    assert message.isprintable() and f"no {where} called" in message


# -- running loop scripts against stand-ins for Keras and TensorFlow -----------------------


@pytest.fixture(scope="module")
def stubs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stubs")
    for package in ("keras", "tensorflow"):
        (folder / package).mkdir()
        (folder / package / "__init__.py").write_text(STUB_KERAS, encoding="utf-8")  # shared stand-in
    return folder


def run_loop_export(proj: Project, root: Path, stubs: Path) -> subprocess.CompletedProcess:
    (root / "project").mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(root))
        script = export_script(proj, root / "project", script_path=root / "train.py",
                               loop=True)
    path = root / "train.py"
    path.write_text(script, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root),
           "PYTHONPATH": str(stubs), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, str(path)], cwd=root, env=env, capture_output=True,
                          text=True, timeout=60)


def check_loop_run(s: dict[str, Any], root: Path, stubs: Path, marker_dir: Path,
                   picks: tuple[int, ...], paths: tuple[str, str]) -> None:
    marker_dir.mkdir()
    marks = payloads(marker_dir / "MARKER")
    s = dict(s)
    for key, index in zip(("name", "layer_name", "separator", "monitor", "log_dir"), picks,
                          strict=True):
        s[key] = s[key][:200] + marks[index % len(marks)]
    s["filename"] = paths[0] + marks[picks[0] % 3]
    s["filepath"] = paths[1] + marks[picks[1] % 3]
    done = run_loop_export(loop_project(s), root, stubs)
    assert not any(marker_dir.iterdir()), "a project text ran as code"
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Epoch 1/1 - " in done.stdout and "final:" in done.stdout


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(s=st.fixed_dictionaries({key: nasty for key in FIELDS}),
       picks=st.tuples(*[st.integers(0, 6)] * 5),
       paths=st.tuples(runnable_path, runnable_path))
def test_running_loop_scripts_with_nasty_text_runs_none_of_it(
        s, picks, paths, tmp_path_factory, stubs) -> None:
    root = tmp_path_factory.mktemp("run")
    check_loop_run(s, root / "box", stubs, root / "markers", picks, paths)


def test_exploit_layer_name_leaving_its_quotes_in_the_loop(tmp_path, stubs) -> None:
    marker = tmp_path / "markers" / "MARKER"
    marker.parent.mkdir()
    s = {key: "text" for key in FIELDS}
    s["layer_name"] = f'" + str(__import__("os").system("touch {marker}")) + "'
    s["name"] = f'x"""\n__import__("os").system("touch {marker}")\n"""'
    s["monitor2"] = f"val_loss')\n__import__('os').system('touch {marker}')\n#"
    done = run_loop_export(loop_project(s), tmp_path / "box", stubs)
    assert not marker.exists(), "a project text ran as code"
    assert done.returncode == 0, done.stderr[-3000:]
    assert "final:" in done.stdout
