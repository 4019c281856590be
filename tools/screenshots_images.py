"""Screenshots of a folder of images in the window, on the shapes lesson (8b, a small CNN).

    QT_QPA_PLATFORM=offscreen TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python \\
        tools/screenshots_images.py [out_dir]

Opens the lesson as File > Open Example does (its pictures are written on first use), and
writes, at 1280x800:

- images_data_gallery.png: the Data tab: the folder, its classes with their counts and a
  few pictures of each, what the scan found, and the image settings;
- images_training.png: the Training tab after a run (EPOCHS epochs), the Predict tab
  showing one test image as the model sees it with its class probabilities;
- images_misclassified.png: the Evaluate dialog: the confusion matrix and the gallery of
  misclassified test images, the most confident mistakes first.

Real training, so this takes a minute or two on a small machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402

#: Fewer than the lesson's 30: the picture needs a trained model, not the best one.
EPOCHS = 12


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from gui_app.ui.app import readable_font
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    readable_font(app)

    def save(widget, name: str) -> None:  # noqa: ANN001 - a QWidget
        wait_for(app, lambda: False, 0.4)
        widget.grab().save(str(out / name))
        print(f"wrote {out / name}", flush=True)

    window = MainWindow(load_keras=False)
    window.confirm_discard = lambda: True  # type: ignore[method-assign]
    window.resize(1280, 800)
    window.show()
    lesson = ROOT / "resources" / "examples" / "08b_shapes_cnn.layerlab.json"
    if not window.files.open_example(lesson, confirm=False):
        print("the lesson did not open", file=sys.stderr)
        return 1
    controller = window.controller
    controller.wait_for_data()
    if not wait_for(app, lambda: controller.dataset is not None, 60):
        print(f"no data: {controller.data_error}", file=sys.stderr)
        return 1
    window.setup_tabs.setCurrentWidget(window.data_panel)
    window.resizeDocks([window.inspector_dock, window.setup_dock], [120, 640],
                       Qt.Orientation.Vertical)
    window.device_picker.start_listing()  # the status bar's devices, as once Keras loaded
    window.device_picker.wait()
    view = window.data_panel.folder_view
    wait_for(app, lambda: not view.loader.busy, 20)
    save(window, "images_data_gallery.png")

    controller.set_fit({"epochs": EPOCHS}, "Fewer epochs for the screenshot")
    panel = window.training_panel
    panel.ensure_views()
    window._make_room_for_training()  # noqa: SLF001 - as the first Train does
    ended: list = []
    panel.runEnded.connect(ended.append)
    if not panel.train():
        print(f"no run: {panel.message_text}", file=sys.stderr)
        return 1
    start = time.perf_counter()
    wait_for(app, lambda: bool(ended), 600)
    print(f"trained {EPOCHS} epochs in {time.perf_counter() - start:.0f} s", flush=True)
    ds = controller.dataset
    panel.side_tabs.setCurrentWidget(panel.predict_holder)
    predict = panel.predict_panel
    predict.part.setCurrentIndex(predict.part.findData("test"))
    predict.index.setValue(4)
    predict.use_sample()
    predict.predict()
    wait_for(app, lambda: predict.image_view.bars is not None, 60)
    # the Training dock as a person watching the run drags it: the curves and the
    # Predict tab whole
    window.resizeDocks([window.training_dock], [500], Qt.Orientation.Vertical)
    save(window, "images_training.png")

    panel.evaluate()
    dialog = panel.evaluate_dialog
    wait_for(app, lambda: dialog.answers is not None, 120)
    wait_for(app, lambda: not dialog.gallery.loader.busy, 20)
    print(f"{len(dialog.answers.wrong())} of {len(ds.x_test)} test images wrong", flush=True)
    save(dialog, "images_misclassified.png")
    dialog.close()
    controller.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
