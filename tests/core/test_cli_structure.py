"""The command line package has no import cycles: every module in `gui_app/cli/` imports
on its own, and no module but the package's `__init__` imports the package itself or a
sibling command module; `common` is the only thing they share."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import gui_app.cli

PACKAGE = "gui_app.cli"
PACKAGE_DIR = Path(gui_app.cli.__file__).resolve().parent
SHARED = "common"
MODULES = sorted(p.stem for p in PACKAGE_DIR.glob("*.py") if p.stem != "__init__")
HEAVY = ("tensorflow", "keras", "PySide6")


def imported_names(source: str, module: str) -> list[str]:
    """The absolute names a module `gui_app.cli.<module>` imports, anywhere in its source
    (inside functions too); `from X import a` gives X and X.a, as `a` may be a module."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = f"{PACKAGE}.{module}".split(".")[: -node.level]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if node.module:  # `from . import x` imports x, not the package's own names
                names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and getattr(node.func, "attr", getattr(node.func, "id", None))
              in ("import_module", "__import__")):
            names.append(node.args[0].value)
    return names


def forbidden_imports(source: str, module: str) -> list[str]:
    """What a module of the package imports from the package other than `common`."""
    bad = []
    for name in imported_names(source, module):
        if name == PACKAGE:
            bad.append(name)
        elif name.startswith(PACKAGE + "."):
            if name.split(".")[2] != SHARED:
                bad.append(name)
    return bad


def test_the_package_has_its_modules():
    assert {SHARED, "inspect_cmds", "train_cmd", "export_cmd", "import_cmd"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_only_common_from_the_package(module):
    source = (PACKAGE_DIR / f"{module}.py").read_text(encoding="utf-8")
    assert forbidden_imports(source, module) == [], \
        f"gui_app/cli/{module}.py may import only gui_app.cli.{SHARED} from its package"


@pytest.mark.parametrize("module", ["__init__", *MODULES])
def test_module_imports_alone_in_a_fresh_interpreter(module):
    name = PACKAGE if module == "__init__" else f"{PACKAGE}.{module}"
    code = (f"import sys, importlib; importlib.import_module({name!r}); "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", f"importing {name} loads {done.stdout.strip()}"


@pytest.mark.parametrize("source", [
    "from gui_app.cli import run_cli",
    "from gui_app import cli",
    "import gui_app.cli",
    "from .. import cli",
    "from . import train_cmd",
    "from .train_cmd import cmd_train",
    "from .import_cmd import add_commands",
    "import gui_app.cli.export_cmd",
    "from gui_app.cli.inspect_cmds import cmd_check",
    "from . import run_cli",
    "def f():\n    from . import build_parser",
    "import importlib\nimportlib.import_module('gui_app.cli.train_cmd')",
])
def test_the_check_finds_a_forbidden_import(source):
    assert forbidden_imports(source, "export_cmd")


@pytest.mark.parametrize("source", [
    "from .common import UsageError",
    "from . import common",
    "from gui_app.cli.common import EXIT_OK",
    "import gui_app.cli.common",
    "from ..core.project import load_project",
    "from gui_app.core import devices",
])
def test_the_check_allows_common_and_the_core(source):
    assert forbidden_imports(source, "train_cmd") == []
