"""The Layers tab (each layer's gradient norm over the run, activation and weight
histograms) after training the circle lesson and the small digits CNN, in the real window.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_layers.py [out_dir] [WxH]

Writes layers_circle.png and layers_digits_cnn.png: the whole window (1440 x 900 unless
given, as the other training screenshots; 1280x720 is a classroom projector's size) with
the Layers tab raised after the run.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
from shot_setup import prepare, wait_for  # noqa: E402


def main(argv: list[str]) -> int:
    size = next((a for a in argv if "x" in a and a.replace("x", "").isdigit()), "1440x900")
    out = prepare([a for a in argv if a != size])
    width, height = (int(v) for v in size.split("x"))
    from PySide6.QtWidgets import QApplication

    from gui_app.core.lessons import list_examples, load_example
    from gui_app.core.templates import template
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])

    def wait(predicate, seconds: float) -> bool:
        return wait_for(app, predicate, seconds)

    circle = next(lesson.path for lesson in list_examples() if lesson.path.name.startswith("02a"))
    cases = (("layers_circle", load_example(circle)[0]),
             ("layers_digits_cnn", template("cnn").project().replace(
                 fit={"epochs": 10, "batch_size": 32, "seed": 0})))
    window = MainWindow(cases[0][1], load_keras=True)
    window.confirm_discard = lambda: True
    window.resize(width, height)
    window.show()
    if not wait(lambda: window.keras_ready, 180):
        print("Keras did not load", file=sys.stderr)
        return 1
    panel = window.training_panel
    for n, (name, project) in enumerate(cases):
        if n:
            window.controller.reset(project)
        wait(lambda: not window.controller.data_loading, 120)
        ended: list = []
        panel.runEnded.connect(ended.append)
        if not panel.train():
            print(f"{name}: could not train: {panel.message_text}", file=sys.stderr)
            return 1
        wait(lambda e=ended: bool(e), 300)
        panel.runEnded.disconnect(ended.append)
        panel.side_tabs.setCurrentWidget(panel.layers)
        wait(lambda: False, 1.0)
        window.grab().save(str(out / f"{name}.png"))
        print(f"{name}: {panel.layers.layer_names}, {len(panel.layers._at)} events")
    panel.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
