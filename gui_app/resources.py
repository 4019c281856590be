"""Where LayerLab's bundled files are: the source checkout, an installed copy, or a bundle."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    """The `resources/` folder, wherever LayerLab runs from.

    A PyInstaller bundle unpacks data next to the executable (`sys._MEIPASS`); a source
    checkout or editable install has it beside the `gui_app` package.
    """
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "resources")
    here = Path(__file__).resolve().parent
    candidates += [here.parent / "resources", here / "resources"]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return candidates[-1]


def examples_dir() -> Path:
    return resources_dir() / "examples"
