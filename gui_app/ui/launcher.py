"""A menu action and the one window it opens, made on first use (the Training menu's Find
Learning Rate, Step Through and Compare With: each window imports pyqtgraph and builds
plots, so none is made before it is asked for)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget


class DialogLauncher(QObject):
    """`action` in `menu`; triggering it shows the window `make()` returns (made once).

    Args:
        parent: the main window (the action's and the launcher's parent).
        menu: where the action goes.
        text, name, tip: the action's text, object name and tooltip (also its status tip).
        make: makes the window.
    """

    def __init__(self, parent: QWidget, menu: QMenu, text: str, name: str, tip: str,
                 make: Callable[[], Any]) -> None:
        super().__init__(parent)
        self.dialog: Any = None
        self._make = make
        self.action = QAction(text, parent)
        self.action.setObjectName(name)
        self.action.setToolTip(tip)
        self.action.setStatusTip(tip)
        self.action.triggered.connect(self.open)
        menu.addAction(self.action)

    @Slot()
    def open(self) -> Any:
        """Shows the window (made on first use), raised and active."""
        if self.dialog is None:
            self.dialog = self._make()
        self.dialog.show()
        self.dialog.raise_()
        self.dialog.activateWindow()
        return self.dialog
