"""Screenshots of the window when its engine process dies mid-run.

    QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \\
        tools/screenshots_engine.py [out_dir]

Writes (into resources/screenshots by default):

- engine_died_window.png: the window after the engine was killed with SIGKILL at epoch
  five or so: the curves so far, the message under the controls, the status bar;
- engine_died_dialog.png: the dialog that says what happened.

A real engine and a real kill, so this takes about half a minute.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare  # noqa: E402


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtWidgets import QApplication

    from gui_app.core.spec import default_project
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])

    def wait(predicate, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while not predicate() and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        return bool(predicate())

    project = default_project().replace(fit={"epochs": 60, "batch_size": 8})
    window = MainWindow(project, load_keras=True)
    window.confirm_discard = lambda: True
    window.resize(1280, 800)
    window.show()
    if not wait(lambda: window.keras_ready, 180):
        print("the engine never said hello", file=sys.stderr)
        return 1
    panel = window.training_panel
    ended: list = []
    panel.runEnded.connect(ended.append)
    panel.train()
    wait(lambda: panel.session is not None and panel.session.epoch >= 5, 120)
    os.kill(window.engine_link.pid, signal.SIGKILL)
    wait(lambda: bool(ended), 30)
    wait(lambda: False, 1.0)  # let the status bar and the plots settle
    window.grab().save(str(out / "engine_died_window.png"))
    box = panel.last_message
    if box is not None:
        box.grab().save(str(out / "engine_died_dialog.png"))
    print(ended[0].message if ended else "no end event")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
