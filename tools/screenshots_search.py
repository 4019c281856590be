"""The hyperparameter search's window after a search on the spiral lesson (2c): units of
the first hidden layer and the learning rate, 8 trials, run by Keras Tuner in the engine.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_search.py [out_dir]

Writes search_trials.png (the Search window, 900 x 640). It takes a few minutes: each
trial trains the lesson's 200 epochs with `model.fit`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402

SEARCH = {"tuner": "random", "objective": "val_accuracy", "max_trials": 8,
          "executions_per_trial": 1,
          "space": [{"path": "model.layers[0].units", "kind": "int", "min": 8, "max": 64,
                     "step": 8},
                    {"path": "compile.optimizer.learning_rate", "kind": "float", "min": 0.001,
                     "max": 0.1, "sampling": "log"}]}


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtWidgets import QApplication

    from gui_app.core.project import load_project, loads
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    doc = json.loads((ROOT / "resources" / "examples" / "02c_spiral.layerlab.json").read_text())
    doc.update(version=2, search=SEARCH)
    folder = Path(tempfile.mkdtemp(prefix="layerlab-search-shot-"))
    path = folder / "spiral.layerlab.json"
    path.write_text(json.dumps(doc, indent=2))
    win = MainWindow(load_keras=False)
    win.resize(1280, 800)
    win.show()
    win.controller.reset(load_project(path), path)
    assert loads(path.read_text()).search is not None
    window = win.search.open()
    window.resize(900, 640)
    window.start_button.click()
    if not wait_for(app, lambda: win.search.runner.result is not None, 1200):
        print("the search did not end in 20 minutes", file=sys.stderr)
        return 1
    print(win.search.runner.result.message)
    app.processEvents()
    window.grab().save(str(out / "search_trials.png"))
    win.controller.undo_stack.setClean()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
