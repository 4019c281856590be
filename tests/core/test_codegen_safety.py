"""Generated code is data-safe by construction: project text never becomes code.

A project file may come from a stranger, and the code pane's text and `layerlab export`'s
script are run by whoever exports them. These tests put nasty text (quotes, triple quotes,
backslashes, line breaks, NULs, lone surrogates, braces, `#`, thousands of characters)
into every string a project holds, and check that

* the code and the script still parse, with the same syntax tree and the same comment
  lines as for clean text (the text only ever lands inside string constants),
* each value comes back out of the code as exactly the text that went in, and
* running an exported script (against a do-nothing stand-in for Keras, so nothing trains)
  never runs the text: payloads that would create a marker file create nothing.

Projects are built directly from `gui_app.core.spec`, skipping the load-time checks, so
the generators are tested on their own. The four exploits found before the fix have their
own regression tests.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gui_app.core.codegen import UnsafeCodeError, comment_text, literal, model_code
from gui_app.core.data import Dataset
from gui_app.core.devices import with_strategy
from gui_app.core.export import export_script
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

# -- nasty text ----------------------------------------------------------------------------

PIECES = [
    '"', "'", '"""', "'''", "\\", "\\n", "\n", "\r", "\r\n", "\x00", "\t", "\x0c", "\x1b",
    "\ud800", "\udfff", "\udc80", "#", "# ", "{", "}", "{{", "}}", "{x}", "\u2028", "\u2029",
    "\x85", "\ufeff", "\u202e", "é", "😀", " ", ")", "(", "]", ",", "=", ";", ":", "%s",
    '" + str(__import__("os").system("true")) + "', "' + __import__('os').getcwd() + '",
    '"""\nimport os\n"""', "\n#", "\\\n", "f'{1}'", "~", "/", "..",
]

any_char = st.characters(exclude_categories=())  # every code point, surrogates included
piece = st.one_of(st.sampled_from(PIECES), st.text(any_char, max_size=6))
short_nasty = st.lists(piece, min_size=1, max_size=10).map("".join).filter(bool)
long_nasty = st.tuples(st.sampled_from(PIECES), st.integers(300, 1500)).map(
    lambda pair: pair[0] * pair[1])
nasty = st.one_of(short_nasty, short_nasty, short_nasty, long_nasty)

# Paths that a running script turns into folders must be ones the file system takes
# (no NUL, no lone surrogate, short parts, relative), so the stand-in run gets to the end.
safe_path_char = st.characters(exclude_categories=("Cs",), exclude_characters="\x00/~")
runnable_path = st.lists(
    st.one_of(st.sampled_from([p for p in PIECES if p[:1] not in "/~" and "\x00" not in p
                               and not any(0xD800 <= ord(c) <= 0xDFFF for c in p)
                               and len(p.encode("utf-8")) < 40]),
              st.text(safe_path_char, max_size=5)),
    min_size=1, max_size=4).map("".join).filter(lambda s: bool(s) and len(s.encode()) < 120)

FIELDS = ("name", "description", "layer_name", "inner_name", "activation", "loss", "metric",
          "filename", "separator", "filepath", "monitor", "monitor2", "log_dir", "path",
          "target", "feature_a", "feature_b", "epochs")
# Fields whose text must come back as a string constant of the code, exactly.
LITERAL_FIELDS = ("layer_name", "inner_name", "activation", "filename", "separator",
                  "filepath", "monitor", "monitor2", "log_dir")


def clean_twin(text: str) -> str:
    """Harmless text that the generators treat as they treat `text`.

    Each `/`-separated part becomes its hex digits, so a path keeps its folders (the
    script makes folders for callback files) and different texts stay different.
    """
    parts = []
    for part in text.split("/"):
        head = "~" if part.startswith("~") else ""
        rest = part[len(head):]
        parts.append(head + rest.encode("utf-8", "surrogatepass").hex())
    return "/".join(parts)


def make_project(s: dict[str, Any], source: str = "circle", validated: bool = True) -> Project:
    """A project holding the texts of `s` in every string field that can reach code.

    Args:
        s: text for each of FIELDS.
        source: "circle", "csv" or "npz".
        validated: False puts text also where a loaded project has numbers (epochs, the
            batch size, the seed), which only `model_code` takes without checking.
    """
    if source == "circle":
        data: dict[str, Any] = {"source": "circle", "samples": 40, "seed": 1}
    else:
        data = {"source": source, "path": s["path"]}
        if source == "csv":
            data.update(target=s["target"], features=[s["feature_a"], s["feature_b"]])
    layers = (
        LayerSpec("Dense", {"units": 4, "activation": s["activation"], "name": s["layer_name"]}),
        LayerSpec("Bidirectional", {"layer": {"type": "LSTM", "units": 2,
                                              "name": s["inner_name"]}}),
        LayerSpec("Dense", {"units": 1, "name": s["layer_name"] + "2"}),
    )
    callbacks = [
        {"type": "CSVLogger", "filename": s["filename"], "separator": s["separator"]},
        {"type": "ModelCheckpoint", "filepath": s["filepath"], "monitor": s["monitor"]},
        {"type": "TensorBoard", "log_dir": s["log_dir"]},
        {"type": "EarlyStopping", "monitor": s["monitor2"], "patience": 1},
    ]
    fit: dict[str, Any] = {"epochs": 1, "batch_size": 8, "seed": 2, "callbacks": callbacks}
    if not validated:
        fit.update(epochs=s["epochs"], batch_size=s["epochs"], seed=s["epochs"],
                   steps_per_epoch=s["epochs"])
    return Project(
        name=s["name"],
        model=ModelSpec((2,), layers),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}), ObjectSpec(s["loss"]),
                            (ObjectSpec("accuracy"), ObjectSpec(s["metric"]))),
        data=data,
        fit=fit,
        description=s["description"],
    )


def tiny_dataset(description: str) -> Dataset:
    """A loaded-looking dataset for CSV and NPZ scripts, so no file has to be read."""
    x = np.zeros((20, 2), dtype=np.float32)
    y = np.zeros(20, dtype=np.int64)
    return Dataset(x, y, x[:4], y[:4], None, None, "binary", 2, ("a", "b"), ("0", "1"),
                   None, None, description)


def script_for(s: dict[str, Any], source: str, base: Path | None = None,
               script_path: Path | None = None) -> str:
    dataset = None if source == "circle" else tiny_dataset(f"{s['path']}: 16 train samples")
    return export_script(make_project(s, source), base, script_path=script_path,
                         dataset=dataset)


def analyse(code: str) -> tuple[str, set[str]]:
    """The syntax tree with every string constant blanked out (what the code does), and
    the string constants themselves."""
    tree = ast.parse(code)
    strings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.add(node.value)
            node.value = "S"
    return ast.dump(tree), strings


def shape(code: str) -> str:
    return analyse(code)[0]


def layout(code: str) -> list[bool]:
    """Which lines are comments (they vanish from the syntax tree, so count them here)."""
    return [line.lstrip().startswith("#") for line in code.split("\n")]


def strings_in(code: str) -> set[str]:
    return analyse(code)[1]


def assert_inert(nasty_code: str, clean_code: str) -> set[str]:
    """The nasty code is the clean code with other string constants, nothing else.

    Returns:
        The nasty code's string constants.
    """
    nasty_code.encode("utf-8")  # no lone surrogate escaped into the text itself
    assert all(line.isprintable() for line in nasty_code.split("\n")), "a raw control char"
    nasty_shape, strings = analyse(nasty_code)
    assert nasty_shape == shape(clean_code)
    assert layout(nasty_code) == layout(clean_code)
    return strings


def check_project_texts(s: dict[str, Any], source: str) -> None:
    assume(s["path"].strip())
    assume(len({s["feature_a"], s["feature_b"]}) == 2)
    clean = {key: clean_twin(value) for key, value in s.items()}

    for validated in (True, False):
        nasty_code = model_code(make_project(s, source, validated))
        strings = assert_inert(nasty_code, model_code(make_project(clean, source, validated)))
        assert {s[key] for key in LITERAL_FIELDS} <= strings

    nasty_script = script_for(s, source)
    clean_script = script_for(clean, source)
    strings = assert_inert(nasty_script, clean_script)
    expected = {s[key] for key in LITERAL_FIELDS}
    if source != "circle":
        expected.add(s["path"])
    if source == "csv":
        expected |= {s["target"], s["feature_a"], s["feature_b"]}
    assert expected <= strings
    assert_inert(with_strategy(nasty_script, "all"), with_strategy(clean_script, "all"))


texts = st.fixed_dictionaries({key: nasty for key in FIELDS})
sources = st.sampled_from(["circle", "csv", "npz"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, sources)
def test_nasty_text_stays_in_string_constants(s: dict[str, Any], source: str) -> None:
    check_project_texts(s, source)


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, sources)
def test_nasty_text_stays_in_string_constants_many(s: dict[str, Any], source: str) -> None:
    check_project_texts(s, source)


# -- the helpers on their own --------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.one_of(nasty, st.text(any_char)))
def test_literal_is_one_printable_line_equal_to_the_text(text: str) -> None:
    out = literal(text)
    assert out.isprintable()
    assert ast.literal_eval(out) == text


@settings(max_examples=200, deadline=None)
@given(st.one_of(nasty, st.text(any_char)))
def test_comment_text_cannot_end_a_comment_or_docstring(text: str) -> None:
    shown = comment_text(text)
    assert shown.isprintable() and '"""' not in shown.replace('\\"', "")
    assert ast.parse(f"# {shown}\n").body == []
    doc = ast.parse(f'"""{shown}: after"""\n').body
    assert len(doc) == 1 and isinstance(doc[0].value, ast.Constant)
    assert doc[0].value.value.endswith(": after")
    assert ast.parse(f'"""{shown}"""\n').body  # ending with the text is fine too


def test_literal_keeps_the_usual_spelling() -> None:
    assert literal("relu") == '"relu"'
    assert literal([3, 3]) == "(3, 3)" and literal([2]) == "(2,)" and literal([]) == "()"
    assert literal({"a": [1.5, None, True]}) == '{"a": (1.5, None, True)}'
    assert literal(0.00316) == "0.00316" and literal(np.int64(7)) == "7"
    assert literal('say "hi"') == "'say \"hi\"'"
    assert literal("C:\\data") == "'C:\\\\data'"
    assert literal(["a.csv", "it's"], quote="'") == "('a.csv', \"it's\")"  # repr's spelling


def test_literal_writes_non_finite_floats_as_calls() -> None:
    assert eval(literal(math.inf)) == math.inf  # noqa: S307
    assert eval(literal(-math.inf)) == -math.inf  # noqa: S307
    assert math.isnan(eval(literal(math.nan)))  # noqa: S307
    assert "inf" not in literal(1e308) and literal(np.float32(0.5)) == "0.5"


def test_literal_ignores_what_subclasses_say_about_themselves() -> None:
    class Sly(str):
        def __repr__(self) -> str:
            return "__import__('os')"

    class SlyFloat(float):
        def __repr__(self) -> str:
            return "__import__('os')"

    assert literal(Sly("x")) == '"x"'
    assert literal(SlyFloat(2.5)) == "2.5"


def test_literal_refuses_values_that_are_not_json_data() -> None:
    class Payload:
        def __repr__(self) -> str:
            return "__import__('os').system('true')"

    for value in (Payload(), b"bytes", {1, 2}, object()):
        with pytest.raises(UnsafeCodeError):
            literal(value)
    assert issubclass(UnsafeCodeError, ValueError)


@pytest.mark.parametrize("bad", ["Dense(1)); import os; (layers.Dense", "Dense\n", "not a layer",
                                 "", "class", "Dènse"])
def test_unknown_layer_classes_are_refused(bad: str) -> None:
    project = Project(model=ModelSpec((2,), (LayerSpec(bad, {"units": 1}),)))
    with pytest.raises(UnsafeCodeError):
        model_code(project)


@pytest.mark.parametrize("key", ["units=1, x", "a b", "lambda", "1st", "ｕnits", "x)\nimport os#"])
def test_argument_names_must_be_identifiers(key: str) -> None:
    bad_layer = Project(model=ModelSpec((2,), (LayerSpec("Dense", {"units": 1, key: 2}),)))
    bad_optimizer = Project(compile=CompileSpec(ObjectSpec("Adam", {key: 1})))
    bad_callback = Project(fit={"callbacks": [{"type": "EarlyStopping", key: 1}]})
    for project in (bad_layer, bad_optimizer, bad_callback):
        with pytest.raises(UnsafeCodeError):
            model_code(project)


def test_unknown_classes_with_arguments_are_refused_and_names_are_only_text() -> None:
    evil = 'x"); import os; ("'
    with pytest.raises(UnsafeCodeError):
        model_code(Project(compile=CompileSpec(ObjectSpec(evil, {"learning_rate": 0.1}))))
    code = model_code(Project(compile=CompileSpec(ObjectSpec("Adam"), ObjectSpec(evil))))
    assert evil in strings_in(code)
    # An unknown callback is left out (as before); it never becomes a class name.
    code = model_code(Project(fit={"callbacks": [{"type": "os.system", "x": 1}]}))
    assert "os.system" not in code


def test_with_strategy_wraps_the_real_model_not_lookalike_text() -> None:
    decoy = '"""\nmodel = keras.Sequential([\n)\n"""\n'
    script = export_script(make_project({key: "a" for key in FIELDS}))
    wrapped = with_strategy(decoy + script, "all")
    assert wrapped.startswith(decoy)
    lines = wrapped.split("\n")
    assert lines[lines.index("with strategy.scope():") + 1] == "    model = keras.Sequential(["
    ast.parse(wrapped)


def test_with_strategy_refuses_to_indent_a_string_that_spans_lines() -> None:
    script = export_script(make_project({key: "a" for key in FIELDS}))
    broken = script.replace('name="a"', 'name="""a\nb"""', 1)
    with pytest.raises(ValueError, match="expected an exported LayerLab script"):
        with_strategy(broken, "all")


# -- running exported scripts against a stand-in Keras -------------------------------------

STUB_KERAS = '''"""A stand-in (Keras, TensorFlow): every attribute, call and item is the same inert object."""


class _Stub:
    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self

    def __iter__(self):
        return iter(())

    def __len__(self):
        return 0

    def __float__(self):
        return 0.0

    def __format__(self, spec):
        return "stub"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __repr__(self):
        return "<stub>"


_STUB = _Stub()


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return _STUB
'''


@pytest.fixture(scope="module")
def stub_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("stub")
    (folder / "keras").mkdir()
    (folder / "keras" / "__init__.py").write_text(STUB_KERAS, encoding="utf-8")
    return folder


@pytest.fixture
def marker_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty folder of its own, outside the script's folder, for the markers."""
    return tmp_path_factory.mktemp("markers")


def payloads(marker: Path) -> list[str]:
    """Texts that create `marker` if they ever run as code, in each quoting context."""
    command = f"touch {marker}"
    hexed = command.encode().hex()  # no "/" in it, so it fits in a file name
    return [
        f'" + str(__import__("os").system("{command}")) + "',
        f"' + str(__import__('os').system('{command}')) + '",
        f'x"""\n__import__("os").system("{command}")\n"""',
        f"\n__import__('os').system(bytes.fromhex('{hexed}').decode())\n#",
        f'{{__import__("os").system("{command}")}}',
        f'\\" + str(__import__("os").system("{command}")) + \\"',
        f'\r__import__("os").system("{command}")\r',
    ]


def run_script(script: str, root: Path, stub: Path) -> subprocess.CompletedProcess:
    path = root / "train.py"
    path.write_text(script, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(root),
           "PYTHONPATH": str(stub), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, str(path)], cwd=root, env=env, capture_output=True,
                          text=True, timeout=60)


def assert_ran_cleanly(done: subprocess.CompletedProcess, marker_dir: Path) -> None:
    assert not any(marker_dir.iterdir()), "a project text ran as code"
    assert done.returncode == 0, done.stderr[-3000:]
    assert "final:" in done.stdout


def prepare(root: Path) -> Path:
    project_dir = root / "project"
    project_dir.mkdir(parents=True)
    return project_dir


def run_export(project: Project, root: Path, stub: Path,
               dataset: Dataset | None = None) -> subprocess.CompletedProcess:
    """Exports with HOME in `root` (the script's callback folders expand `~` when made)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(root))
        script = export_script(project, root / "project", script_path=root / "train.py",
                               dataset=dataset)
    return run_script(script, root, stub)


runtime_texts = st.fixed_dictionaries({key: nasty for key in FIELDS})


def check_run(s: dict[str, Any], root: Path, stub: Path, marker_dir: Path,
              picks: tuple[int, ...], paths: tuple[str, str]) -> None:
    marker_dir.mkdir()
    marks = payloads(marker_dir / "MARKER")
    s = dict(s)
    for key, index in zip(("name", "layer_name", "separator", "monitor", "log_dir"), picks,
                          strict=True):
        s[key] = s[key][:200] + marks[index % len(marks)]
    s["filename"] = paths[0] + marks[picks[0] % 3]
    s["filepath"] = paths[1] + marks[picks[1] % 3]
    prepare(root)
    assert_ran_cleanly(run_export(make_project(s), root, stub), marker_dir)


@settings(max_examples=4, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(s=runtime_texts, picks=st.tuples(*[st.integers(0, 6)] * 5),
       paths=st.tuples(runnable_path, runnable_path))
def test_running_scripts_with_nasty_text_runs_none_of_it(
        s, picks, paths, tmp_path_factory, stub_path) -> None:
    root = tmp_path_factory.mktemp("run")
    check_run(s, root / "box", stub_path, root / "markers", picks, paths)


@pytest.mark.slow
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(s=runtime_texts, picks=st.tuples(*[st.integers(0, 6)] * 5),
       paths=st.tuples(runnable_path, runnable_path))
def test_running_scripts_with_nasty_text_runs_none_of_it_many(
        s, picks, paths, tmp_path_factory, stub_path) -> None:
    root = tmp_path_factory.mktemp("run")
    check_run(s, root / "box", stub_path, root / "markers", picks, paths)


# -- the four exploits found before the fix ------------------------------------------------

CLEAN = {key: "text" for key in FIELDS}


def test_exploit_project_name_closing_the_docstring(tmp_path, stub_path, marker_dir) -> None:
    name = f'x"""\n__import__("os").system("touch {marker_dir / "MARKER"}")\n"""'
    project = make_project(CLEAN).replace(name=name)
    prepare(tmp_path)
    done = run_export(project, tmp_path, stub_path)
    assert_ran_cleanly(done, marker_dir)


def test_exploit_layer_name_leaving_its_quotes(tmp_path, stub_path, marker_dir) -> None:
    name = f'" + str(__import__("os").system("touch {marker_dir / "MARKER"}")) + "'
    project = make_project({**CLEAN, "layer_name": name})
    prepare(tmp_path)
    done = run_export(project, tmp_path, stub_path)
    assert_ran_cleanly(done, marker_dir)


def test_exploit_csv_logger_filename_leaving_its_quotes(tmp_path, stub_path, marker_dir) -> None:
    filename = f'" + str(__import__("os").system("touch {marker_dir / "MARKER"}")) + "'
    project = make_project({**CLEAN, "filename": filename})
    prepare(tmp_path)
    done = run_export(project, tmp_path, stub_path)
    assert_ran_cleanly(done, marker_dir)


def test_exploit_csv_file_name_with_a_line_break(tmp_path, stub_path, marker_dir) -> None:
    """The data comment showed the file name; a line break in it started a line of code."""
    hexed = f"touch {marker_dir / 'MARKER'}".encode().hex()
    file_name = f"data\n__import__('os').system(bytes.fromhex('{hexed}').decode())\n#.csv"
    project_dir = prepare(tmp_path)
    rows = ["a,b,label"] + [f"{i / 10},{i % 3},{i % 2}" for i in range(30)]
    (project_dir / file_name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    project = dataclasses.replace(
        make_project(CLEAN), data={"source": "csv", "path": file_name})
    done = run_export(project, tmp_path, stub_path)  # loads the real file for its facts
    assert_ran_cleanly(done, marker_dir)
