"""Crafted project and data files, as an attacker would write them, through the command line.

Each case is a project (and maybe a data file) made in a sandbox folder, run through one or
more `layerlab` commands in a child process with HOME pointing into the sandbox. A case
passes when, for every command:

- no traceback is printed and the exit code is 0, 1 or 2 (or 130/143 for a stopped run);
- it ends within its time limit (no hang) and its peak memory stays under the cap;
- nothing is written outside the sandbox's project folder except where the person said so
  (`--out`, `-o`), and no marker file that injected code would create exists;
- an exported script, run with a stub `keras` that does nothing, creates no marker.

The cases are grouped by the classes of issue 18: code injection, writes outside the folder,
memory and hangs, tracebacks, non-atomic outputs, and values accepted at load but refused
later. Run from the repository root (about 3 minutes on 2 cores):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/crafted_inputs.py [--only CLASS]

It prints one line per case and a table of counts by class; the exit code is 1 if any
case failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MEMORY_CAP = 3 * 1024**3  # peak RSS of one command (TensorFlow alone is about 600 MB)
MARKER = "PWNED"
PAYLOADS = [
    '" + str(__import__("os").system("touch {m}")) + "',
    "' + str(__import__('os').system('touch {m}')) + '",
    'x"""\nimport os; os.system("touch {m}")\n"""',
    "x\nimport os; os.system('touch {m}')\n#",
    "x\rimport os; os.system('touch {m}')",
    "{{__import__('os').system('touch {m}')}}",
    "x\\\nimport os; os.system('touch {m}')",
    "x\x00y\u2028import os; os.system('touch {m}')",
]


@dataclass
class Case:
    klass: str
    name: str
    make: Callable[[Path], list[list[str]]]  # returns the commands to run, in the project dir
    timeout: float = 120.0
    export_runs: bool = False  # also run the exported script with a stub keras
    allow_codes: tuple[int, ...] = (0, 1, 2)
    notes: list[str] = field(default_factory=list)


def base_project(**changes) -> dict:
    doc = {
        "format": "layerlab-project", "version": 1, "name": "Crafted",
        "model": {"input_shape": [2], "layers": [
            {"type": "Dense", "units": 4, "activation": "relu"},
            {"type": "Dense", "units": 1, "activation": "sigmoid"}]},
        "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]},
        "data": {"source": "circle", "samples": 100, "seed": 0, "validation_split": 0.2},
        "fit": {"epochs": 2, "batch_size": 32},
    }
    for key, value in changes.items():
        section, _, sub = key.partition("__")
        if sub:
            doc[section][sub] = value
        else:
            doc[section] = value
    return doc


def write(folder: Path, doc: dict | str, name: str = "p.layerlab.json") -> Path:
    path = folder / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8",
                    errors="surrogatepass")
    return path


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "gui_app", *args]


# -- the cases -----------------------------------------------------------------------------

def injection_cases() -> list[Case]:
    cases = []
    for i, payload in enumerate(PAYLOADS):
        def name_field(folder, p=payload):
            m = str(folder.parents[2] / MARKER)  # the sandbox
            write(folder, base_project(name=p.format(m=m)))
            return [cli("export", "p.layerlab.json", "-o", "out.py"),
                    cli("summary", "p.layerlab.json"), cli("check", "p.layerlab.json")]

        def layer_name(folder, p=payload):
            m = str(folder.parents[2] / MARKER)  # the sandbox
            doc = base_project()
            doc["model"]["layers"][0]["name"] = p.format(m=m)
            write(folder, doc)
            return [cli("export", "p.layerlab.json", "-o", "out.py")]

        def callbacks(folder, p=payload):
            m = str(folder.parents[2] / MARKER)  # the sandbox
            text = p.format(m=m)
            doc = base_project(fit__callbacks=[
                {"type": "CSVLogger", "filename": "logs/" + text, "separator": text},
                {"type": "ModelCheckpoint", "filepath": "ck/" + text + ".keras"},
                {"type": "TensorBoard", "log_dir": "tb/" + text},
                {"type": "EarlyStopping", "monitor": text}])
            write(folder, doc)
            return [cli("export", "p.layerlab.json", "-o", "out.py")]

        def csv_name(folder, p=payload):
            # A file name cannot hold "/": the marker is made in the script's folder.
            fname = p.format(m=MARKER).replace("/", "_").replace("\x00", "") + ".csv"
            try:
                (folder / fname).write_text("a,b,y\n" + "\n".join(
                    f"{i % 7},{i % 5},{i % 2}" for i in range(40)))
            except (OSError, UnicodeEncodeError):
                fname = "plain.csv"
                (folder / fname).write_text("a,b,y\n0,1,0\n1,0,1\n" * 10)
            write(folder, base_project(data={"source": "csv", "path": fname}))
            return [cli("export", "p.layerlab.json", "-o", "out.py")]

        for label, make in (("name", name_field), ("layer name", layer_name),
                            ("callback strings", callbacks), ("CSV file name", csv_name)):
            cases.append(Case("code injection", f"{label} #{i}", make, export_runs=True))
    return cases


def outside_cases() -> list[Case]:
    cases = []
    targets = ["{home}/notes.txt", "~/notes.txt", "../notes.txt", "../../notes.txt",
               "logs/../../notes.txt", "{home}/important_model.keras"]
    for target in targets:
        for cb, key in (("CSVLogger", "filename"), ("ModelCheckpoint", "filepath"),
                        ("TensorBoard", "log_dir")):
            def make(folder, t=target, cb=cb, key=key):
                value = t.format(home=folder.parents[1])  # the sandbox's HOME
                if cb == "ModelCheckpoint" and not value.endswith(".keras"):
                    value += ".keras"
                write(folder, base_project(fit__callbacks=[{"type": cb, key: value}]))
                return [cli("check", "p.layerlab.json"),
                        cli("train", "p.layerlab.json", "--quiet"),
                        cli("export", "p.layerlab.json", "-o", "out.py")]
            cases.append(Case("writes outside", f"{cb} {target}", make))

    def link_escape(folder):
        (folder / "logs").symlink_to(folder.parents[1])
        write(folder, base_project(fit__callbacks=[
            {"type": "CSVLogger", "filename": "logs/notes.txt"}]))
        return [cli("train", "p.layerlab.json", "--quiet")]

    cases.append(Case("writes outside", "link inside the folder pointing out", link_escape))
    return cases


def memory_cases() -> list[Case]:
    cases = []

    def special(kind):
        def make(folder):
            p = folder / "p.layerlab.json"
            if kind == "fifo":
                os.mkfifo(p)
            else:
                p.symlink_to(kind)
            return [cli("summary", "p.layerlab.json"), cli("check", "p.layerlab.json"),
                    cli("train", "p.layerlab.json")]
        return make

    for kind in ("fifo", "/dev/zero", "/dev/urandom"):
        cases.append(Case("memory and hangs", f"project is {kind}", special(kind), timeout=60))

    def data_special(kind):
        def make(folder):
            d = folder / "d.csv"
            if kind == "fifo":
                os.mkfifo(d)
            else:
                d.symlink_to(kind)
            write(folder, base_project(data={"source": "csv", "path": "d.csv"}))
            return [cli("check", "p.layerlab.json"), cli("train", "p.layerlab.json")]
        return make

    for kind in ("fifo", "/dev/zero", "/dev/urandom"):
        cases.append(Case("memory and hangs", f"CSV data is {kind}", data_special(kind),
                          timeout=60))

    def npz_header(folder):
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
        header = header.ljust(118) + "\n"
        blob = b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 64
        with zipfile.ZipFile(folder / "d.npz", "w") as z:
            z.writestr("x.npy", blob)
            z.writestr("y.npy", blob)
        write(folder, base_project(data={"source": "npz", "path": "d.npz"}))
        return [cli("check", "p.layerlab.json"), cli("train", "p.layerlab.json")]

    def npz_bomb(folder):
        header = "{'descr': '<f8', 'fortran_order': False, 'shape': (400000000,), }".ljust(118)
        with zipfile.ZipFile(folder / "d.npz", "w", zipfile.ZIP_DEFLATED) as z:
            with z.open("x.npy", "w", force_zip64=True) as member:
                member.write(b"\x93NUMPY\x01\x00" + (len(header) + 1).to_bytes(2, "little")
                             + header.encode() + b"\n")
                chunk = b"\0" * (64 * 1024 * 1024)
                for _ in range(50):  # 3.2 GB of zeros, about 3 MB compressed
                    member.write(chunk)
            z.writestr("y.npy", b"\x93NUMPY\x01\x00" + (len(header) + 1).to_bytes(2, "little")
                       + header.encode() + b"\n")
        write(folder, base_project(data={"source": "npz", "path": "d.npz"}))
        return [cli("check", "p.layerlab.json")]

    cases.append(Case("memory and hangs", "NPZ header claims 10^6 x 10^6", npz_header))
    cases.append(Case("memory and hangs", "NPZ that inflates to 3.2 GB", npz_bomb, timeout=300))

    def units(folder):
        write(folder, base_project(model={"input_shape": [2], "layers": [
            {"type": "Dense", "units": 10**9}, {"type": "Dense", "units": 1}]}))
        return [cli("summary", "p.layerlab.json"), cli("check", "p.layerlab.json"),
                cli("train", "p.layerlab.json")]

    def virtual(sp, cp):
        def make(folder):
            write(folder, base_project(fit__virtual_epochs={"stop_point": sp, "checkpoints": cp}))
            return [cli("check", "p.layerlab.json"), cli("train", "p.layerlab.json"),
                    cli("export", "p.layerlab.json", "-o", "out.py")]
        return make

    def many_layers(n):
        def make(folder):
            layer = json.dumps({"type": "Dense", "units": 2})
            text = json.dumps(base_project()).replace(
                json.dumps(base_project()["model"]["layers"]), "[" + ",".join([layer] * n) + "]")
            write(folder, text)
            return [cli("summary", "p.layerlab.json"), cli("train", "p.layerlab.json")]
        return make

    cases += [
        Case("memory and hangs", "units 10**9", units),
        Case("memory and hangs", "virtual stop_point 1e300", virtual(1e300, 5)),
        Case("memory and hangs", "virtual checkpoints 1e9", virtual(2, 10**9)),
        Case("memory and hangs", "virtual 10,000 passes x 100", virtual(10_000, 100)),
        Case("memory and hangs", "700,000 layers", many_layers(700_000)),
        Case("memory and hangs", "10,001 layers", many_layers(10_001)),
        Case("memory and hangs", "501 layers", many_layers(501)),
    ]
    return cases


def traceback_cases() -> list[Case]:
    cases = []

    def text_case(text):
        def make(folder):
            write(folder, text)
            return [cli("summary", "p.layerlab.json"), cli("check", "p.layerlab.json"),
                    cli("train", "p.layerlab.json"), cli("export", "p.layerlab.json", "-o", "o.py")]
        return make

    good = json.dumps(base_project())
    texts = {
        "nested 1,000 levels": '{"format": "layerlab-project", "x": ' + "[" * 1000 + "]" * 1000 + "}",
        "nested 100,000 levels": '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}",
        "5,000-digit integer": good.replace('"epochs": 2', '"epochs": ' + "9" * 5000),
        "units 10**400": good.replace('"units": 4', '"units": 1' + "0" * 400),
        "input_shape [10**400]": good.replace('"input_shape": [2]', '"input_shape": [1' + "0" * 400 + "]"),
        "input_shape [1e400]": good.replace('"input_shape": [2]', '"input_shape": [1e400]'),
        "lone surrogate in the name": good.replace('"Crafted"', '"bad \\ud800"'),
        "lone surrogate in a layer name": good.replace('"units": 4', '"units": 4, "name": "\\udfff"'),
        "NaN epochs": good.replace('"epochs": 2', '"epochs": NaN'),
        "repeated keys": good.replace('"epochs": 2', '"epochs": 2, "epochs": 3'),
        "truncated": good[: len(good) // 2],
        "empty": "",
        "not UTF-8": "\xff\xfe{}",
        "a list at the top": "[1, 2, 3]",
        "wrong types everywhere": json.dumps({"format": "layerlab-project", "version": "1",
                                              "model": [], "compile": 3, "data": "x", "fit": []}),
    }
    for label, text in texts.items():
        cases.append(Case("tracebacks", label, text_case(text)))

    def data_path(path):
        def make(folder):
            write(folder, base_project(data={"source": "csv", "path": path}))
            return [cli("check", "p.layerlab.json"), cli("train", "p.layerlab.json")]
        return make

    cases += [
        Case("tracebacks", "5,000-character data path", data_path("a" * 5000)),
        Case("tracebacks", "~nouser data path", data_path("~nouser_xyz/x.csv")),
        Case("tracebacks", "/etc/passwd as CSV", data_path("/etc/passwd")),
    ]

    def raw_pickle(folder):
        import pickle

        with zipfile.ZipFile(folder / "d.npz", "w") as z:
            z.writestr("x.npy", pickle.dumps({"a": 1}))
            z.writestr("y.npy", pickle.dumps([1, 2]))
        write(folder, base_project(data={"source": "npz", "path": "d.npz"}))
        return [cli("check", "p.layerlab.json")]

    def full_stdout(folder):
        write(folder, base_project())
        return [cli("summary", "p.layerlab.json") + [">/dev/full"],
                cli("export", "p.layerlab.json", "-o", "-") + [">/dev/full"]]

    def events_full(folder):
        write(folder, base_project())
        return [cli("train", "p.layerlab.json", "--quiet", "--events", "/dev/full")]

    def out_unwritable(folder):
        write(folder, base_project())
        (folder / "afile").write_text("x")
        return [cli("train", "p.layerlab.json", "--quiet", "--out", "afile/run"),
                cli("export", "p.layerlab.json", "-o", "afile/x.py")]

    cases += [
        Case("tracebacks", "NPZ member that is a raw pickle", raw_pickle),
        Case("tracebacks", "stdout on a full device", full_stdout),
        Case("tracebacks", "--events /dev/full", events_full),
        Case("tracebacks", "--out under a file", out_unwritable),
    ]
    return cases


def atomic_cases() -> list[Case]:
    def sigterm(folder):
        write(folder, base_project(fit__epochs=400, data__samples=2000))
        return [["SIGTERM-AFTER-EPOCH", *cli("train", "p.layerlab.json", "--out", "run")]]

    return [Case("non-atomic outputs", "SIGTERM during train", sigterm,
                 allow_codes=(0, 1, 2, 130, 143))]


def refused_later_cases() -> list[Case]:
    cases = []
    layer = base_project()

    def doc_case(doc):
        def make(folder):
            write(folder, doc)
            return [cli("check", "p.layerlab.json"), cli("train", "p.layerlab.json", "--quiet")]
        return make

    l8 = json.loads(json.dumps(layer))
    l8["model"]["layers"][0]["units"] = 8.0
    variants = {
        "units 8.0": l8,
        "seed 2**32": base_project(fit__seed=2**32),
        "class weight 1e300": base_project(fit__class_weight={"0": 1e300}),
        "class weight key 'a'": base_project(fit__class_weight={"a": 1}),
        "class weight for class 7": base_project(fit__class_weight={"7": 2.0}),
    }
    for label, doc in variants.items():
        cases.append(Case("accepted, then refused", label, doc_case(doc)))

    def float32_range(folder):
        rows = "\n".join(f"{i % 3},{1e39 if i == 5 else i},{i % 2}" for i in range(40))
        (folder / "d.csv").write_text("a,b,y\n" + rows)
        write(folder, base_project(data={"source": "csv", "path": "d.csv"}))
        return [cli("check", "p.layerlab.json"), cli("train", "p.layerlab.json", "--quiet")]

    cases.append(Case("accepted, then refused", "CSV value above float32", float32_range))
    return cases


# -- running -------------------------------------------------------------------------------

STUB_KERAS = '''
class _Any:
    def __init__(self, *a, **k): pass
    def __call__(self, *a, **k): return _Any()
    def __getattr__(self, name): return _Any()
    def __iter__(self): return iter(())
    def __getitem__(self, k): return _Any()
import sys
sys.modules[__name__].__getattr__ = lambda name: _Any()
'''


def run_command(command: list[str], folder: Path, env: dict, timeout: float
                ) -> tuple[int | None, str, int, float]:
    """Exit code (None on a time-out), stderr, peak RSS in bytes, seconds."""
    stdout_target = subprocess.DEVNULL
    if command and command[-1].startswith(">"):
        stdout_target = open(command[-1][1:], "wb")  # noqa: SIM115
        command = command[:-1]
    sigterm = command and command[0] == "SIGTERM-AFTER-EPOCH"
    if sigterm:
        command = command[1:]
        stdout_target = subprocess.PIPE
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=folder, env=env, stdin=subprocess.DEVNULL,
                            stdout=stdout_target, stderr=subprocess.PIPE, text=True)
    if sigterm:
        for line in proc.stdout:  # type: ignore[union-attr]
            if line.startswith("epoch"):
                proc.send_signal(signal.SIGTERM)
                break
    deadline = start + timeout
    code = None
    rss = 0
    while time.perf_counter() < deadline:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            code = os.waitstatus_to_exitcode(status)
            rss = usage.ru_maxrss * 1024
            proc.returncode = code
            break
        time.sleep(0.05)
    if code is None:
        proc.kill()
        proc.wait()
    err = proc.stderr.read() if proc.stderr else ""  # type: ignore[union-attr]
    if stdout_target not in (subprocess.DEVNULL, subprocess.PIPE):
        stdout_target.close()  # type: ignore[union-attr]
    return code, err, rss, time.perf_counter() - start


def snapshot(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")} if folder.exists() else set()


def marker_found(sandbox: Path) -> bool:
    return any(p.name == MARKER for p in sandbox.rglob("*"))


def run_case(case: Case, root: Path) -> tuple[bool, str]:
    sandbox = Path(tempfile.mkdtemp(prefix="case-", dir=root))
    home = sandbox / "home"
    project = sandbox / "home" / "work" / "project"
    project.mkdir(parents=True)
    env = {**os.environ, "HOME": str(home), "LAYERLAB_CONFIG_DIR": str(sandbox / "config"),
           "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": str(ROOT)}
    commands = case.make(project)
    before = snapshot(home) - {str(p.relative_to(home)) for p in project.rglob("*")}
    problems = []
    for command in commands:
        code, err, rss, seconds = run_command(command, project, env, case.timeout)
        label = " ".join(c for c in command if "python" not in c and c != "-m")[:60]
        if code is None:
            problems.append(f"{label}: hung (> {case.timeout:.0f} s)")
        elif code not in case.allow_codes:
            problems.append(f"{label}: exit {code}")
        if "Traceback" in err:
            problems.append(f"{label}: traceback: {err.strip().splitlines()[-1][:120]}")
        if rss > MEMORY_CAP:
            problems.append(f"{label}: peak memory {rss / 1024**3:.1f} GB")
    after = snapshot(home)
    # Keras writes its own settings file into ~/.keras on first import: not the project's doing.
    inside = {p for p in after if p.startswith(("work/project", ".keras"))}
    outside_new = (after - inside) - before
    if outside_new:
        problems.append(f"wrote outside the project: {sorted(outside_new)[:3]}")
    if marker_found(sandbox):
        problems.append("injected code ran (marker found)")
    if case.export_runs and (project / "out.py").exists():
        stub = sandbox / "stub"
        (stub / "keras").mkdir(parents=True)
        (stub / "keras" / "__init__.py").write_text(STUB_KERAS)
        (stub / "keras" / "layers.py").write_text(STUB_KERAS)
        run_env = {**env, "PYTHONPATH": str(stub)}
        try:
            subprocess.run([sys.executable, str(project / "out.py")], cwd=project, env=run_env,
                           timeout=60, capture_output=True)
        except subprocess.TimeoutExpired:
            pass
        if marker_found(sandbox):
            problems.append("the exported script ran injected code (marker found)")
    if case.klass == "non-atomic outputs":
        model = project / "run" / "model.keras"
        if not (project / "run" / "history.json").exists():
            problems.append("no history.json after SIGTERM")
        if not (model.exists() and zipfile.is_zipfile(model)):
            problems.append("no valid model.keras after SIGTERM")
    shutil.rmtree(sandbox, ignore_errors=True)
    return not problems, "; ".join(problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run only the cases of one class (a word of its name)")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="layerlab-crafted-"))
    cases = (injection_cases() + outside_cases() + memory_cases() + traceback_cases()
             + atomic_cases() + refused_later_cases())
    if args.only:
        cases = [c for c in cases if args.only in c.klass]
    counts: dict[str, list[int]] = {}
    failed = 0
    for case in cases:
        ok, why = run_case(case, root)
        tally = counts.setdefault(case.klass, [0, 0])
        tally[0 if ok else 1] += 1
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {case.klass}: {case.name!r}" + ("" if ok else f": {why}"),
              flush=True)
    print()
    print("| class | cases | passed | failed |")
    print("| --- | --- | --- | --- |")
    for klass, (ok, bad) in counts.items():
        print(f"| {klass} | {ok + bad} | {ok} | {bad} |")
    shutil.rmtree(root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
