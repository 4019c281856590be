"""Screenshots of the main window for the README and for looking at the layout.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots.py [out_dir]

Writes main_window.png (the window's default size, 1440 x 900), main_window_1280x720.png,
and main_window_data.png (the Data tab with the spiral set's preview).
Settings go to a temporary folder, so the user's saved layout does not leak into them.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZES = {"main_window.png": (1440, 900), "main_window_1280x720.png": (1280, 720),
         "main_window_data.png": (1440, 900)}


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "resources" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.insert(0, str(ROOT))
    from PySide6.QtWidgets import QApplication

    from gui_app.ui.app import readable_font
    from gui_app.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    readable_font(app)
    for name, (width, height) in SIZES.items():
        # fresh settings each time: every shot shows the first-run layout
        os.environ["LAYERLAB_SETTINGS_DIR"] = tempfile.mkdtemp(prefix="layerlab-shots-")
        window = MainWindow(load_keras=False)
        window.resize(width, height)
        window.show()
        window.data_panel.ensure_preview()
        if name == "main_window_data.png":  # the Data tab, with the preview of a 2-D set
            window.controller.set_data({"source": "spiral", "classes": 3, "noise": 0.05})
            window.show_setup_tab(1)
        for _ in range(5):
            app.processEvents()
        window.grab().save(str(out / name))
        print(f"wrote {out / name} ({width} x {height})")
        window.controller.undo_stack.setClean()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
