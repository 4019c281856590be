"""UI test set-up: settings in a temporary folder, a window that never asks to save."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def empty_undo_stacks_at_the_end() -> Iterator[None]:
    """The window empties its undo stacks before it exits (`controller.clear_undo_stacks`):
    so does a test session, before pytest's last garbage collection."""
    yield
    from gui_app.ui.controller import clear_undo_stacks

    clear_undo_stacks()


@pytest.fixture(autouse=True)
def empty_undo_stacks_of_the_test() -> Iterator[None]:
    """... and each test, for the controllers it made: the windows of a long test file come
    and go, and a collection in a later test must find nothing to delete twice."""
    from gui_app.ui import controller

    before = set(map(id, controller._LIVE))  # noqa: SLF001
    yield
    for made in list(controller._LIVE):  # noqa: SLF001
        if id(made) not in before:
            controller.clear_undo_stacks([made])


#: Qt's words when a QObject is used from a thread it does not live in.
_WRONG_THREAD = ("from another thread", "in a different thread", "to objects owned by a different thread",
                 "Cannot create children for a parent")


@pytest.fixture(autouse=True)
def no_qt_calls_from_other_threads(qtlog) -> Iterator[None]:  # noqa: ANN001
    """Only the GUI thread calls Qt (`ui/mailbox.py`): a test fails on Qt's own warning that
    a timer, a notifier or a child was made or started from another thread."""
    yield
    wrong = [r.message for r in qtlog.records if any(w in r.message for w in _WRONG_THREAD)]
    assert not wrong, wrong


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
