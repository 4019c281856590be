"""A screenshot of the Boundary tab on a folder of images: the shapes lesson (8b, a small CNN).

    xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb TF_CPP_MIN_LOG_LEVEL=3 \\
        .venv/bin/python tools/screenshots_images_boundary.py [out_dir]

Opens the lesson as File > Open Example does (its pictures are written on first use),
trains EPOCHS epochs, and writes, in present mode (F5) on a 1280x800 screen (full screen
needs an X server with a size: Xvfb):

- images_boundary_plane.png: the Boundary tab: the plane of the first two principal
  components through a sample of the training images (decoded by the engine), the model's
  class regions on it, the sampled images as points, and one clicked point's prediction.

Real training, so this takes a minute on a small machine.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402

#: Fewer than the lesson's 30: the regions need a model that has learnt something.
EPOCHS = 10


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtWidgets import QApplication

    from gui_app.ui.app import readable_font
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    readable_font(app)
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
    view = panel.boundary
    if not wait_for(app, lambda: view.mode == "wide" and view.grid is not None, 120):
        print(f"no plane: {view.header.text()}", file=sys.stderr)
        return 1
    print(f"{len(panel.store)} pictures; {view.header.text()}", flush=True)
    panel.side_tabs.setCurrentIndex(0)
    # Present mode (F5), as a class sees it: the window's normal layout at 1280x800 leaves
    # the Training dock under the lesson and the model about 350 pixels tall
    window.presenter.enter()
    wait_for(app, lambda: False, 1.5)
    coords, _rows = view._shown_points["training"]  # noqa: SLF001 - a point to click
    x, y = (float(v) for v in coords[len(coords) // 3])
    view.click_at(x, y)
    wait_for(app, lambda: "predicting" not in view.click_text.textItem.toPlainText(), 30)
    wait_for(app, lambda: False, 0.5)
    window.grab().save(str(out / "images_boundary_plane.png"))
    print(f"wrote {out / 'images_boundary_plane.png'} ({window.width()}x{window.height()}): "
          f"{panel.readout.text()}", flush=True)
    window.presenter.leave()
    controller.undo_stack.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
