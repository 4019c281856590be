"""Step Through (Training > Step Through) mid-way through a pass on the circle lesson.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_step_through.py [out_dir]

Opens the real window at 1280 x 720 on lesson 2a with plain SGD (learning rate 0.1), trains
it for a few epochs through the engine, opens Step Through and presses N six times, picks
a weight of the second layer, and writes step_through.png: the window with the dialog
over it, as a person sees them (offscreen, the dialog is a window of its own, so the two
pictures are laid one over the other here).
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402

EPOCHS = 25
STEPS = 6


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QColor, QPainter, QPen
    from PySide6.QtWidgets import QApplication

    from gui_app.core.lessons import load_example
    from gui_app.core.spec import ObjectSpec
    from gui_app.resources import examples_dir
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    lesson, _ = load_example(examples_dir() / "02a_circle.layerlab.json")
    lesson = lesson.replace(compile=replace(lesson.compile, optimizer=ObjectSpec(
        "SGD", {"learning_rate": 0.1})), fit={**lesson.fit.to_json(), "epochs": EPOCHS})
    win = MainWindow(lesson, load_keras=True)
    win.resize(1280, 720)
    win.show()
    panel = win.training_panel
    if not wait_for(app, lambda: win.training.link.is_ready and not win.controller.data_loading,
                    180):
        print("the engine or the data never became ready", file=sys.stderr)
        return 1
    ended: list = []
    panel.runEnded.connect(ended.append)
    if not panel.train() or not wait_for(app, lambda: ended, 300):
        print(f"training did not run: {panel.message_text}", file=sys.stderr)
        return 1
    wait_for(app, lambda: False, 0.5)
    dialog = win.step_through.open()
    for _ in range(STEPS):
        dialog.next_batch()
        shown = dialog.steps_shown
        if not wait_for(app, lambda s=shown: dialog.steps_shown > s or not dialog.busy, 120):
            print(f"the step did not end: {dialog.message}", file=sys.stderr)
            return 1
        wait_for(app, lambda: not dialog.busy, 60)
    if dialog.step is None:
        print(f"no step: {dialog.message}", file=sys.stderr)
        return 1
    dialog.variable.setCurrentIndex(dialog.step.names.index("dense_1/kernel"))
    dialog.index.setValue(13)
    print(dialog.counter.text(), "|", dialog.loss_label.text())
    wait_for(app, lambda: False, 0.5)  # the last repaint

    shot = win.grab()
    picture = dialog.grab()
    painter = QPainter(shot)
    at = QPoint((shot.width() - picture.width()) // 2, (shot.height() - picture.height()) // 2)
    painter.fillRect(at.x() + 6, at.y() + 6, picture.width(), picture.height(),
                     QColor(0, 0, 0, 60))  # a shadow: the dialog stands over the window
    painter.drawPixmap(at, picture)
    painter.setPen(QPen(QColor("#707070"), 1))
    painter.drawRect(at.x(), at.y(), picture.width() - 1, picture.height() - 1)
    painter.end()
    shot.save(str(out / "step_through.png"))
    dialog.close()
    panel.shutdown()
    win.controller.undo_stack.setClean()
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
