"""Screenshots of the file side: an opened lesson and the dialogs people meet with bad files.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_files.py [out_dir] [--no-keras]

Writes
  lesson_2a_circle.png    File > Open Example > 2a, with the lesson banner over the model
  lesson_3_digits.png     lesson 3 where Fashion-MNIST is not cached: the note says so
  bad_file_dialog.png     the dialog for a project file with several mistakes
  model_refused_dialog.png  the dialog for a .keras file with a Lambda layer (needs Keras)
  recovery_dialog.png     the restore offer after a crash
Settings and the recovery folder go to a temporary folder, and Keras's cache to an empty
one, so the user's files never leak into the pictures.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _settle(app: object, rounds: int = 8) -> None:
    for _ in range(rounds):
        app.processEvents()  # type: ignore[attr-defined]


def main(argv: list[str]) -> int:
    folders = [a for a in argv if not a.startswith("--")]
    out = Path(folders[0]) if folders else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="layerlab-shots-keras-")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication, QMessageBox

    from gui_app.resources import examples_dir
    from gui_app.ui.app import readable_font
    from gui_app.ui.autosave import recovery_dir, write_recovery
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    readable_font(app)

    def fresh_window() -> MainWindow:
        os.environ["LAYERLAB_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="layerlab-shots-")
        window = MainWindow(load_keras=False)
        window.resize(1440, 900)
        window.show()
        _settle(app)
        return window

    def done(window: MainWindow) -> None:
        window.controller.undo_stack.setClean()
        window.close()

    def grab_dialog(box: QMessageBox, name: str) -> None:
        box.adjustSize()
        _settle(app)
        box.grab().save(str(out / name))
        print(f"wrote {out / name}")
        box.close()

    for name, lesson in (("lesson_2a_circle.png", "02a_circle"),
                         ("lesson_3_digits.png", "03_mlp_fashion_mnist")):
        window = fresh_window()
        window.files.open_example(examples_dir() / f"{lesson}.layerlab.json", confirm=False)
        window.data_panel.ensure_preview()
        _settle(app)
        window.grab().save(str(out / name))
        print(f"wrote {out / name}")
        done(window)

    window = fresh_window()
    bad = Path(tempfile.mkdtemp()) / "homework.layerlab.json"
    bad.write_text(json.dumps({
        "format": "layerlab-project", "version": 1, "name": "Homework",
        "model": {"input_shape": [2], "layers": [
            {"type": "Dense", "units": -5}, {"type": "Lambada"},
            {"type": "Dense", "units": 1, "activation": "sigmod"}]},
        "compile": {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": []},
        "fit": {"epochs": "ten"}}))
    window.open_path(bad)
    grab_dialog(window.last_dialog, "bad_file_dialog.png")
    done(window)

    if "--no-keras" not in argv:
        import keras

        window = fresh_window()
        folder = Path(tempfile.mkdtemp())
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                                  keras.layers.Lambda(lambda x: x * 2)])
        model.save(folder / "downloaded.keras")
        window.files.import_model(folder / "downloaded.keras", confirm=False)
        grab_dialog(window.last_dialog, "model_refused_dialog.png")
        done(window)

    os.environ["LAYERLAB_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="layerlab-shots-")
    from gui_app.core.spec import default_project

    crashed = recovery_dir() / "session-1-1.recovery.json"
    write_recovery(crashed, default_project().replace(name="Spiral experiment"),
                   Path.home() / "projects" / "spiral.layerlab.json")
    window = MainWindow(load_keras=False)
    window.resize(1440, 900)
    window.show()
    _settle(app, 20)
    box = window.files.recovery_dialog
    if box is not None:
        grab_dialog(box, "recovery_dialog.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
