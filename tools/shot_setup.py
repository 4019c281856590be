"""What every screenshot script does first: offscreen Qt, quiet TensorFlow, settings in a
temporary folder, the checkout on sys.path, and the output folder made."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepare(argv: list[str]) -> Path:
    """The output folder (argv[0], or resources/screenshots), ready to write into."""
    out = Path(argv[0]) if argv else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ["LAYERLAB_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="layerlab-shots-")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return out


def wait_for(app, predicate, seconds: float) -> bool:  # noqa: ANN001 - a QApplication
    """Runs the event loop until `predicate()` holds or `seconds` pass; True if it held."""
    import time

    deadline = time.monotonic() + seconds
    while not predicate() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)
    return bool(predicate())
