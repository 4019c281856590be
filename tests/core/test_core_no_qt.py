"""The core must stay importable and usable without Qt (DESIGN.md: napari's rule)."""

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "gui_app" / "core"


def _modules(root: Path) -> list[str]:
    """Every module under `root`, sub-packages included, as dotted names."""
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
            names.append(".".join(parts))
    return names


def test_core_modules_import_no_qt_and_no_keras():
    modules = _modules(CORE)
    assert {"spec", "catalog", "summary", "checks", "project", "data", "training.session",
            "boundary.grids"} <= set(modules)
    _assert_imports_nothing_heavy(
        f"for m in {modules!r}: importlib.import_module('gui_app.core.' + m)\n",
        ("PySide6", "pyqtgraph", "superqt", "qtpy", "PyQt5", "PyQt6", "keras", "tensorflow"))


def _assert_imports_nothing_heavy(imports: str, forbidden: tuple[str, ...]) -> None:
    """Runs `imports` in a fresh interpreter and fails if it loaded any `forbidden` package."""
    code = ("import sys, importlib\n" + imports
            + f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {forbidden!r})\n"
            "assert not bad, bad\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_no_qt_import_statements_in_core():
    offenders = []
    for path in CORE.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            if stripped.startswith(("import ", "from ")) and any(
                name in stripped.split()[1] for name in ("PySide6", "pyqtgraph", "superqt", "qtpy")
            ):
                offenders.append(f"{path.name}:{number}: {stripped}")
    assert offenders == []


def test_engine_client_imports_no_qt_and_no_keras():
    """The window's side of the engine (protocol, client) is loaded in the window's
    process: it may not bring Keras (or Qt) with it."""
    _assert_imports_nothing_heavy(
        "import gui_app.engine.protocol, gui_app.engine.client\n"
        "gui_app.engine.protocol.dataclass_table()\n", ("keras", "tensorflow", "PySide6"))
