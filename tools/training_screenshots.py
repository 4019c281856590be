"""Screenshots of the window training: during and after runs on the circle, spiral and
digits data, plus the Evaluate dialog and the Predict form on digits.

    QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \\
        tools/training_screenshots.py [out_dir]

Writes (into resources/screenshots by default):

- training_circle_during.png: the circle lesson mid-run (curves falling, boundary forming);
- training_circle_after.png: after a second run with Adam, the first run (SGD) as overlay;
- training_spiral_after.png: the spiral lesson trained, class regions and the 0.5 line;
- training_digits_after.png: an MLP on the 8x8 digits (64 features): the boundary on the
  plane of the first two principal components;
- training_digits_evaluate.png: the Evaluate dialog (confusion matrix, per-class scores);
- training_digits_predict.png: the Predict tab with a test sample's prediction.

Real training runs, so this takes a minute or two on a small machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare  # noqa: E402


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    from gui_app.core.project import load_project
    from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
    from gui_app.ui.app import readable_font
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    readable_font(app)

    def pump(seconds: float = 0.0) -> None:
        end = time.perf_counter() + seconds
        while True:
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
            if time.perf_counter() >= end:
                return

    def save(window: MainWindow, name: str) -> None:
        pump(0.2)
        window.grab().save(str(out / name))
        print(f"wrote {out / name}", flush=True)

    def run(window: MainWindow, start, during: str | None = None, at_epoch: int = 0) -> None:
        panel = window.training_panel
        ended: list = []
        panel.runEnded.connect(ended.append)
        assert start(), panel.message_text
        shot = during is None
        while not ended:
            pump(0.05)
            if not shot and panel.record is not None and panel.record.epochs_done >= at_epoch:
                save(window, during)
                shot = True
        pump(0.3)
        panel.runEnded.disconnect(ended.append)

    def window_for(project: Project) -> MainWindow:
        window = MainWindow(project, load_keras=False)
        window.resize(1440, 900)
        window.show()
        pump(0.3)
        window.training_panel.ensure_views()
        window._make_room_for_training()  # noqa: SLF001
        # the status bar's device list, as the window shows it once Keras has loaded
        window.device_picker.start_listing()
        window.device_picker.wait()
        pump(0.3)
        return window

    def close(window: MainWindow) -> None:
        window.controller.undo_stack.setClean()
        window.close()
        pump(0.2)

    examples = ROOT / "resources" / "examples"
    # Circle: SGD first, then Adam on the same axes (the lesson's comparison).
    circle = load_project(examples / "02a_circle.layerlab.json")
    sgd = circle.replace(compile=CompileSpec(
        ObjectSpec("SGD", {"learning_rate": 0.1}), circle.compile.loss, circle.compile.metrics))
    window = window_for(sgd)
    panel = window.training_panel
    run(window, panel.train)
    window.controller.set_compile(circle.compile, "Adam")
    run(window, panel.train, "training_circle_during.png", at_epoch=22)
    save(window, "training_circle_after.png")
    close(window)

    spiral = load_project(examples / "02c_spiral.layerlab.json")
    # Standardised inputs: as shipped (raw coordinates, tanh) the lesson's loss stays flat
    # for 150 epochs, in plain model.fit as well.
    spiral = spiral.replace(fit={**spiral.fit, "epochs": 120},
                            data={**spiral.data, "standardize": True})
    window = window_for(spiral)
    run(window, window.training_panel.train)
    window.training_panel.boundary.click_at(0.5, -0.4)
    pump(1.0)
    save(window, "training_spiral_after.png")
    close(window)

    digits = Project(
        name="Digits MLP",
        model=ModelSpec((64,), (LayerSpec("Dense", {"units": 64, "activation": "relu"}),
                                LayerSpec("Dense", {"units": 10, "activation": "softmax"}))),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.003}),
                            ObjectSpec("sparse_categorical_crossentropy"),
                            (ObjectSpec("accuracy"),)),
        data={"source": "digits", "seed": 0, "validation_split": 0.15, "test_split": 0.15,
              "standardize": True},
        fit={"epochs": 25, "batch_size": 32, "seed": 0},
    )
    window = window_for(digits)
    panel = window.training_panel
    deadline = time.perf_counter() + 30
    while window.controller.dataset is None and time.perf_counter() < deadline:
        pump(0.1)  # scikit-learn's digits load on a worker thread
    pump(1.0)
    run(window, panel.train)
    save(window, "training_digits_after.png")
    panel.evaluate()
    deadline = time.perf_counter() + 30
    while panel.evaluate_dialog.matrix is None and time.perf_counter() < deadline:
        pump(0.1)
    pump(0.3)
    panel.evaluate_dialog.grab().save(str(out / "training_digits_evaluate.png"))
    print(f"wrote {out / 'training_digits_evaluate.png'}", flush=True)
    panel.evaluate_dialog.close()
    panel.side_tabs.setCurrentIndex(1)
    panel.predict_panel.index.setValue(3)
    panel.predict_panel.use_sample()
    panel.predict_panel.predict()
    pump(1.0)
    save(window, "training_digits_predict.png")
    close(window)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
