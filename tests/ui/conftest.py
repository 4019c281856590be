"""UI test set-up: settings in a temporary folder, a window that never asks to save."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every UI test writes its QSettings under tmp_path, never to $HOME."""
    folder = tmp_path / "settings"
    monkeypatch.setenv("LAYERLAB_SETTINGS_DIR", str(folder))
    return folder


@pytest.fixture
def window(qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """The real main window on the default project, shown offscreen, without Keras."""
    from gui_app.ui.main_window import MainWindow

    monkeypatch.setattr(MainWindow, "confirm_discard", lambda self: True)
    win = MainWindow(load_keras=False)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.controller.wait_for_data()
