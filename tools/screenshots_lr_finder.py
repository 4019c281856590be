"""The learning-rate finder after a sweep on the spiral lesson (Training > Find Learning Rate).

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_lr_finder.py [out_dir]

Opens the real window on lesson 2c, runs the finder through the engine as a person would
(Start, then the suggestion), and writes lr_finder.png: the dialog at its own size
(640 x 520, which fits over the window on a 1024 x 768 screen).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtWidgets import QApplication

    from gui_app.core.lessons import load_example
    from gui_app.resources import examples_dir
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    lesson, _ = load_example(examples_dir() / "02c_spiral.layerlab.json")
    win = MainWindow(lesson, load_keras=False)
    win.resize(1024, 768)
    win.show()
    dialog = win.lr_finder.open()
    if not wait_for(app, dialog.start_button.isEnabled, 60):
        print(f"the finder cannot start: {dialog.start_button.toolTip()}", file=sys.stderr)
        return 1
    dialog.start()
    if not wait_for(app, lambda: dialog.result is not None or not dialog.running, 300):
        print("the sweep did not end", file=sys.stderr)
        return 1
    print(dialog.message)
    wait_for(app, lambda: False, 0.3)  # the last repaint
    dialog.grab().save(str(out / "lr_finder.png"))
    win.training_panel.shutdown()
    win.controller.undo_stack.setClean()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
