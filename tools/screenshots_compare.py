"""Training > Compare With on the circle lesson: "is the deeper net better?"

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_compare.py [out_dir]

Opens the real window on lesson 2a, makes A a network with no hidden layer (a straight
boundary), opens the compare window, duplicates A as B and gives B one hidden layer of 8
ReLU units, trains both through the engine for the lesson's 60 epochs, and writes
compare.png: the compare window at 1280 x 720.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from dataclasses import replace

    from PySide6.QtWidgets import QApplication

    from gui_app.core.lessons import load_example
    from gui_app.resources import examples_dir
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    lesson, _ = load_example(examples_dir() / "02a_circle.layerlab.json")
    model = lesson.model
    a = lesson.replace(model=replace(model, layers=model.layers[-1:]))  # 2-1: no hidden layer
    win = MainWindow(a, load_keras=False)
    win.resize(1280, 800)
    win.show()
    dialog = win.compare.open()
    dialog.duplicate()
    dialog.units_edit.setText("8")
    dialog.activation_combo.setCurrentIndex(dialog.activation_combo.findData("relu"))
    dialog.resize(1280, 720)
    if not wait_for(app, dialog.train_button.isEnabled, 180):
        print(f"cannot train: {dialog.message}", file=sys.stderr)
        return 1
    if not dialog.train():
        print(f"did not start: {dialog.message}", file=sys.stderr)
        return 1
    if not wait_for(app, lambda: not dialog.running, 300):
        print("the runs did not end", file=sys.stderr)
        return 1
    wait_for(app, lambda: False, 0.5)  # the last pictures and repaint
    print(dialog.message)
    print(dialog.verdict.text())
    dialog.grab().save(str(out / "compare.png"))
    dialog.shutdown()
    win.training_panel.shutdown()
    win.controller.undo_stack.setClean()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
