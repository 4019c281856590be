"""The X-ray (every layer's output for one input) of the circle MLP and the small digits CNN.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_xray.py [out_dir]

Trains each briefly in this process, runs the first training sample forward through the
engine's X-ray, and writes xray_circle_mlp.png and xray_digits_cnn.png (1024 px wide).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from shot_setup import prepare  # noqa: E402


def main(argv: list[str]) -> int:
    out = prepare(argv)
    import numpy as np
    from PySide6.QtWidgets import QApplication

    from gui_app.core.spec import default_project
    from gui_app.core.templates import template
    from gui_app.core.training import TrainingSession
    from gui_app.engine.xray import SessionXRay
    from gui_app.ui.xray_view import XRayView

    app = QApplication.instance() or QApplication([])
    cases = (("xray_circle_mlp", default_project().replace(
                 fit={"epochs": 20, "batch_size": 32, "seed": 0})),
             ("xray_digits_cnn", template("cnn").project().replace(
                 fit={"epochs": 3, "batch_size": 32, "seed": 0})))
    for name, project in cases:
        session = TrainingSession(project, device="cpu")
        session.start()
        session.wait(300)
        row = np.asarray(session.dataset.x_train[:1], np.float32)
        result = SessionXRay(session).outputs(row)
        view = XRayView()
        view.set_class_names(session.dataset.class_names)
        title = (f"At ({row[0][0]:.3g}, {row[0][1]:.3g})" if row.shape[1] == 2
                 else "Digit #0")
        view.show_outputs(result, title)
        view.resize(1024, 760)
        view.show()
        app.processEvents()
        view.grab().save(str(out / f"{name}.png"))
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
