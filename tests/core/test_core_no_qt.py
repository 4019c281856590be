"""The core must stay importable and usable without Qt (DESIGN.md: napari's rule)."""

import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "gui_app" / "core"


def test_core_modules_import_no_qt_and_no_keras():
    modules = sorted(p.stem for p in CORE.glob("*.py") if p.stem != "__init__")
    assert {"spec", "catalog", "summary", "checks", "project", "data"} <= set(modules)
    code = (
        "import sys, importlib\n"
        f"for m in {modules!r}: importlib.import_module('gui_app.core.' + m)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'pyqtgraph', 'superqt', 'qtpy', 'PyQt5', 'PyQt6')]\n"
        "assert not bad, bad\n"
        "heavy = [m for m in ('keras', 'tensorflow') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
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
