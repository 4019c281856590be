"""A guided lesson mid-way, at 1280x720: lesson 2b (XOR) with two of its three steps done.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_lesson.py [out_dir]
        [--size 1280x720]

Opens the XOR lesson in a 1280x720 window, does its first two steps as a student would
(1 hidden unit and train; 4 units and train), moves on to the third step with its hint
shown and the lesson text unfolded, and writes guided_lesson.png. The lesson's locks
show too: only the hidden units and the fit seed can change, and the palette is hidden.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402


def main(argv: list[str]) -> int:
    size = "1280x720"
    if "--size" in argv:
        at = argv.index("--size")
        size = argv[at + 1]
        argv = argv[:at] + argv[at + 2:]
    width, height = (int(n) for n in size.split("x"))
    out = prepare(argv)
    from PySide6.QtWidgets import QApplication

    from gui_app.resources import examples_dir
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])

    def wait(predicate, seconds: float) -> bool:
        return wait_for(app, predicate, seconds)

    window = MainWindow(load_keras=True)
    window.confirm_discard = lambda: True
    window.resize(width, height)
    window.show()
    if not wait(lambda: window.keras_ready, 180):
        print("the engine never said hello", file=sys.stderr)
        return 1
    window.files.open_example(examples_dir() / "02b_xor.layerlab.json", confirm=False)
    wait(lambda: not window.controller.data_loading, 60)
    panel = window.training_panel
    lesson = window.files.lesson_panel
    ended: list = []
    panel.runEnded.connect(ended.append)
    for step, units in enumerate((1, 4)):
        window.table.select_layers([0])
        window.controller.set_layer_arg(0, "units", units)
        window.controller.end_merge()
        panel.train()
        if not wait(lambda n=step + 1: len(ended) >= n, 300):
            print(f"run {step + 1} did not end: {panel.message_text}", file=sys.stderr)
            return 1
        wait(lambda: False, 0.5)
        lesson.steps.next()
    if lesson.steps.done[:2] != [True, True]:
        print(f"the first two steps were not ticked: {lesson.steps.state()}", file=sys.stderr)
        return 1
    lesson.toggle.click()  # unfold the text the run folded
    lesson.steps.hint_button.setChecked(True)
    window.table.select_layers([0])
    wait(lambda: False, 1.5)
    target = out / "guided_lesson.png"
    window.grab().save(str(target))
    print(f"wrote {target} ({window.width()}x{window.height()})")
    panel.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
