"""Imports that must not hold up the window, run on a worker thread after it is shown.

Keras itself loads in the engine process, never here (`engine_link.py`); this worker
imports pyqtgraph (about 0.4 s) and then runs the `importer` it is given: a stand-in for
the engine's Keras import in tests, or nothing. Results arrive by signal, and the catalog
takes Keras's defaults on the GUI thread, in the slot, because that rewrites catalog lists
the GUI thread reads all the time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal, Slot

#: The window's modules that draw with pyqtgraph, imported with it off the GUI thread:
#: made on the GUI thread at the engine's hello, their imports (each one read again by
#: PySide's import hook, which looks for `from __feature__` in the module's source) held
#: it for 80 ms.
PLOTTING_MODULES = ("plots", "boundary_view", "predict_panel", "neuron_strip",
                    "diagnostics_view", "xray_view", "layers_view")


def import_plotting() -> None:
    """pyqtgraph: about 0.4 s of pure-Python import that defines classes and creates no
    widgets, so it is safe off the GUI thread; the plots themselves are made on it."""
    import importlib

    import pyqtgraph  # noqa: F401

    for name in PLOTTING_MODULES:
        try:
            importlib.import_module(f"{__package__}.{name}")
        except ImportError:
            pass  # imported (and explained) where it is used


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

    def __init__(self, importer: Callable[[], str],
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
