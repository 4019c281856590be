"""Every Qt class made on the GUI thread, before any other thread imports a module.

PySide makes each Qt class, with all its enums, the first time Python asks for it (lazy
loading: `from PySide6.QtWidgets import QStyle` runs Python's enum machinery for a few
milliseconds). That is not safe on two threads at once: a worker importing pyqtgraph
(which asks for every class of QtCore, QtGui and QtWidgets to mirror them) while the GUI
thread painted crashed the window with a segmentation fault in a test run. So the window
asks for every class itself, on the GUI thread, a few milliseconds per turn of the event
loop after its first paint (`Warmer`), and only then lets workers import (`warmed`).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator

from PySide6.QtCore import QObject

from .frames import next_turn

#: The Qt modules whose classes the window's modules and pyqtgraph ask for.
MODULES = ("QtCore", "QtGui", "QtWidgets", "QtSvg")
#: Milliseconds of class-making per turn of the event loop.
SLICE_MS = 6.0

_done = False


def warmed() -> bool:
    """True once every class of MODULES exists (made on the GUI thread)."""
    return _done


def _names() -> Iterator[tuple[object, str]]:
    for name in MODULES:
        try:
            module = importlib.import_module(f"PySide6.{name}")
        except ImportError:
            continue
        for attribute in dir(module):
            if not attribute.startswith("_"):
                yield module, attribute


def _make(module: object, attribute: str) -> None:
    try:
        getattr(module, attribute)
    except Exception:  # noqa: BLE001 - a class this platform lacks: nothing to make
        pass


def warm_now() -> None:
    """Makes every class at once (call it on the GUI thread; 0.2 s the first time)."""
    global _done
    if not _done:
        for module, attribute in _names():
            _make(module, attribute)
        _done = True


class Warmer(QObject):
    """Makes every class on the GUI thread, SLICE_MS at a time, one slice per turn of the
    event loop; then calls `then()`."""

    def __init__(self, parent: QObject, then: Callable[[], None]) -> None:
        super().__init__(parent)
        self._then = then
        self._left = _names()

    def start(self) -> None:
        next_turn(self, self._slice)

    def _slice(self) -> None:
        global _done
        if not _done:
            end = time.perf_counter() + SLICE_MS / 1000
            for module, attribute in self._left:
                _make(module, attribute)
                if time.perf_counter() >= end:
                    next_turn(self, self._slice)
                    return
            _done = True
        self._then()
