"""The Diagnostics tab on issue 13's student case: ten sigmoid layers on the circle.

    QT_QPA_PLATFORM=offscreen .venv/bin/python tools/screenshots_diagnostics.py [out_dir]

Writes diagnostics_vanishing.png: the window after the run, the Diagnostics tab raised,
with the finding that the first layers barely learn and its fixes.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
from shot_setup import prepare, wait_for  # noqa: E402


def main(argv: list[str]) -> int:
    out = prepare(argv)
    from PySide6.QtWidgets import QApplication

    from gui_app.ui.main_window import MainWindow
    from tests.core.keras_helpers import sigmoid_stack

    app = QApplication.instance() or QApplication([])

    def wait(predicate, seconds: float) -> bool:
        return wait_for(app, predicate, seconds)

    window = MainWindow(sigmoid_stack(), load_keras=True)
    window.confirm_discard = lambda: True
    window.resize(1440, 900)
    window.show()
    if not wait(lambda: window.keras_ready, 180):
        return 1
    panel = window.training_panel
    ended: list = []
    panel.runEnded.connect(ended.append)
    panel.train()
    wait(lambda: bool(ended), 300)
    panel.side_tabs.setCurrentWidget(panel.diagnostics)
    wait(lambda: False, 1.0)
    window.grab().save(str(out / "diagnostics_vanishing.png"))
    panel.shutdown()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
