"""Loading Keras off the GUI thread, so the window is usable while TensorFlow imports.

Importing TensorFlow takes about three seconds on a small machine; the window must be on
screen in under one. The worker only imports (the slow part) and reports by signal. The
catalog is synced with Keras afterwards on the GUI thread, in the slot, because
`sync_with_keras()` rewrites catalog lists that the GUI thread reads all the time; it takes
a few milliseconds once Keras is imported.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot


def import_keras() -> str:
    """Imports Keras (and its backend) and returns its version."""
    import keras

    return str(keras.__version__)


def import_plotting() -> None:
    """pyqtgraph: about 0.4 s of pure-Python import that defines classes and creates no
    widgets, so it is safe off the GUI thread; the plots themselves are made on it."""
    import pyqtgraph  # noqa: F401


class KerasLoader(QObject):
    """Runs the imports on its thread.

    Signals:
        plotsReady(): pyqtgraph is imported (done first: the data preview wants it soon).
        loaded(version, seconds): Keras is imported.
        failed(message): Keras could not be imported.
    """

    plotsReady = Signal()
    loaded = Signal(str, float)
    failed = Signal(str)

    def __init__(self, importer: Callable[[], str] = import_keras,
                 plotting: Callable[[], None] = import_plotting) -> None:
        super().__init__()
        self.importer = importer
        self.plotting = plotting

    @Slot()
    def run(self) -> None:
        try:
            self.plotting()
        except Exception:  # noqa: BLE001 - the window imports it itself when needed
            pass
        else:
            self.plotsReady.emit()
        start = time.perf_counter()
        try:
            version = self.importer()
        except Exception as exc:  # noqa: BLE001 - reported in the window, never a crash
            self.failed.emit(f"{type(exc).__name__}: {exc}")
        else:
            self.loaded.emit(version, time.perf_counter() - start)
