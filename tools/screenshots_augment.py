"""The Data tab's augmentation preview on the bundled digits, with RandomRotation and
RandomZoom at the front of a small CNN.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_augment.py [out_dir]

Opens the real window (its engine draws the samples), shows the Data tab, waits for the
first draw, and writes augmentation_preview.png: the window at 1280x800, with the
Compile, Data, Fit dock dragged taller than the Inspector above it (as a person looking
at the data would) so the whole preview shows without scrolling.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare, wait_for  # noqa: E402


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    project = Project(
        "Digits with augmentation",
        ModelSpec((64,), (
            LayerSpec("Reshape", {"target_shape": [8, 8, 1]}),
            LayerSpec("RandomRotation", {"factor": 0.08, "fill_mode": "constant"}),
            LayerSpec("RandomZoom", {"height_factor": 0.15, "fill_mode": "constant"}),
            LayerSpec("Conv2D", {"filters": 8, "kernel_size": 3, "activation": "relu",
                                 "padding": "same"}),
            LayerSpec("MaxPooling2D", {"pool_size": 2}),
            LayerSpec("Flatten"),
            LayerSpec("Dense", {"units": 10, "activation": "softmax"}),
        )),
        CompileSpec(ObjectSpec("adam"), ObjectSpec("sparse_categorical_crossentropy"),
                    (ObjectSpec("accuracy"),)),
        data={"source": "digits", "seed": 0, "validation_split": 0.2, "test_split": 0.2},
        fit={"epochs": 20, "batch_size": 32, "seed": 0})
    window = MainWindow()
    window.confirm_discard = lambda: True  # type: ignore[method-assign]
    window.resize(1280, 800)
    window.show()
    window.controller.reset(project)
    window.controller.wait_for_data()
    window.setup_tabs.setCurrentWidget(window.data_panel)
    window.resizeDocks([window.inspector_dock, window.setup_dock], [170, 590],
                       Qt.Orientation.Vertical)
    preview = window.data_panel.augment_preview
    if not wait_for(app, lambda: preview.result is not None, 180):
        print(f"no draw came: {preview.note.text()}", file=sys.stderr)
        return 1
    wait_for(app, lambda: False, 0.5)  # let the docks settle
    window.grab().save(str(out / "augmentation_preview.png"))
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
