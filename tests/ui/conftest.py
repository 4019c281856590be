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


class _SharedEngine:
    """One engine process for the whole UI test session: each window's link uses it, and
    closing a window leaves it running (an engine takes about 5 s to start). Tests that kill
    an engine make their own (`EngineLink(factory=...)` or `ENGINE_FACTORY` patched)."""

    engine = None

    @classmethod
    def get(cls):
        from gui_app.engine.client import Engine

        if cls.engine is None or cls.engine.death is not None:
            made = Engine().start()
            real_close = made.close
            made.close = lambda timeout=2.0: None  # shared: a window's close leaves it
            made.really_close = real_close
            cls.engine = made
        return cls.engine


@pytest.fixture(autouse=True, scope="session")
def shared_engine() -> Iterator[None]:
    from gui_app.ui import engine_link

    engine_link.ENGINE_FACTORY = _SharedEngine.get
    yield
    if _SharedEngine.engine is not None:
        _SharedEngine.engine.really_close()
