"""Imports that must not hold up the window, run on a worker thread after it is shown.

Keras itself loads in the engine process, never here (`engine_link.py`); this worker
imports pyqtgraph (about 0.4 s) and then runs the `importer` it is given: a stand-in for
the engine's Keras import in tests, or nothing. Results arrive by `mailbox`, and the catalog
takes Keras's defaults on the GUI thread, in the callback, because that rewrites catalog lists
the GUI thread reads all the time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from PySide6.QtCore import QObject

from . import mailbox

#: The window's modules that draw with pyqtgraph, imported with it off the GUI thread:
#: made on the GUI thread at the engine's hello, their imports (each one read again by
#: PySide's import hook, which looks for `from __feature__` in the module's source) held
#: it for 80 ms.
PLOTTING_MODULES = ("plots", "boundary_view", "predict_panel", "neuron_strip",
                    "diagnostics_view", "xray_view", "layers_view")


_importing = threading.Event()  # set while a worker imports the plotting modules


def plotting_importing() -> bool:
    """True while a worker thread imports pyqtgraph and the views' modules: a view made
    on the GUI thread meanwhile would wait for that import, holding the window."""
    return _importing.is_set()


def import_quietly(names: tuple[str, ...]) -> None:
    """Imports the window's modules `names` (of this package) ahead of their use; one that
    fails is imported again, and explained, where it is used."""
    import importlib

    for name in names:
        try:
            importlib.import_module(f"{__package__}.{name}")
        except Exception:  # noqa: BLE001 - see above
            pass


def import_plotting() -> None:
    """pyqtgraph: about 0.4 s of pure-Python import that defines classes and creates no
    widgets, so it is safe off the GUI thread; the plots themselves are made on it."""
    _importing.set()
    try:
        import pyqtgraph

        import_quietly(PLOTTING_MODULES)
        # The boundary's colour map is read from pyqtgraph's files once and cached there:
        # read here, not on the GUI thread when the boundary view is made.
        from .colors import VALUE_COLORMAP

        pyqtgraph.colormap.get(VALUE_COLORMAP)
    finally:
        _importing.clear()


class KerasLoader:
    """Runs the imports on a thread of its own and posts the results to the GUI thread
    (`mailbox`: the thread never calls Qt).

    Args:
        receiver: the QObject whose callbacks these are (nothing is called once it is gone).
        importer: returns Keras's version (or raises).
        plotting: imports pyqtgraph.
        plots_ready(): pyqtgraph is imported (done first: the data preview wants it soon).
        loaded(version, seconds): Keras is imported.
        failed(message): Keras could not be imported.
    """

    def __init__(self, receiver: QObject, importer: Callable[[], str],
                 plotting: Callable[[], None], plots_ready: Callable[[], None],
                 loaded: Callable[[str, float], None] | None,
                 failed: Callable[[str], None] | None) -> None:
        mailbox.install()
        self.receiver, self.importer, self.plotting = receiver, importer, plotting
        self.plots_ready, self.loaded, self.failed = plots_ready, loaded, failed
        self.thread = threading.Thread(target=self.run, name="layerlab-imports", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def wait(self, msecs: int | None = None) -> bool:
        """Waits for the imports to end; False after `msecs`."""
        self.thread.join(None if msecs is None else msecs / 1000)
        return not self.thread.is_alive()

    def run(self) -> None:
        try:
            self.plotting()
        except Exception:  # noqa: BLE001 - the window imports it itself when needed
            pass
        else:
            mailbox.post(self.receiver, self.plots_ready)
        start = time.perf_counter()
        try:
            version = self.importer()
        except Exception as exc:  # noqa: BLE001 - reported in the window, never a crash
            if self.failed is not None:
                mailbox.post(self.receiver, self.failed, f"{type(exc).__name__}: {exc}")
        else:
            if self.loaded is not None:
                mailbox.post(self.receiver, self.loaded, version, time.perf_counter() - start)
