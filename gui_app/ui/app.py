"""Starting the window: argument handling, the Qt application, and the start-up clock.

Nothing here (or in what the window imports) may import Keras or TensorFlow before the
window is shown: the window must be up within a second, TensorFlow alone takes three.

Environment variables:
    LAYERLAB_EXIT_AFTER_SHOWN=1: print "LAYERLAB_SHOWN wall=<epoch s> since_start=<s>
        keras_loaded=<0|1>" when the window is first on screen and painted, then exit
        (benchmarks/startup.py reads it).
    LAYERLAB_NO_KERAS=1: do not load Keras in the background (screenshots, demos of the
        editor alone).
    LAYERLAB_SETTINGS_DIR: keep settings in an INI file in this folder (tests).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Slot

EXIT_AFTER_SHOWN_ENV = "LAYERLAB_EXIT_AFTER_SHOWN"
NO_KERAS_ENV = "LAYERLAB_NO_KERAS"
_IMPORTED_AT = time.perf_counter()


def seconds_since_process_start() -> float:
    """Seconds since this process started (from /proc on Linux, else since this import)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])  # field 22 of stat, counted after the ") "
        with open("/proc/uptime", encoding="ascii") as handle:
            uptime = float(handle.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _IMPORTED_AT


def _parse(args: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="layerlab", description="Open the LayerLab window.")
    parser.add_argument("project", nargs="?",
                        help="a .layerlab.json project, or a .keras/.h5 model, to open")
    return parser.parse_args(list(args))


class _ShownReporter(QObject):
    """Prints the start-up time when the window first shows, then quits (benchmarks)."""

    def __init__(self, app: QObject) -> None:
        super().__init__()
        self.app = app

    @Slot()
    def report(self) -> None:
        heavy = int(any(name in sys.modules for name in ("keras", "tensorflow")))
        print(f"LAYERLAB_SHOWN wall={time.time():.6f} since_start={seconds_since_process_start():.4f}"
              f" keras_loaded={heavy}", flush=True)
        self.app.quit()


def readable_font(app: QObject) -> None:
    """At least 10 pt: the window is also read from the back of a classroom."""
    from PySide6.QtWidgets import QApplication

    if isinstance(app, QApplication):
        font = app.font()
        if font.pointSizeF() < 10:
            font.setPointSizeF(10)
            app.setFont(font)


def set_app_icon(app: QObject) -> None:
    """The LayerLab icon on every window, and the desktop entry's name, so that the task
    bar and a Wayland compositor match the window to layerlab.desktop and its icon."""
    from PySide6.QtGui import QGuiApplication, QIcon

    from ..resources import resources_dir

    if isinstance(app, QGuiApplication):
        app.setDesktopFileName("layerlab")
        icon = resources_dir() / "icons" / "layerlab.svg"
        if icon.is_file():
            app.setWindowIcon(QIcon(str(icon)))


MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")


@dataclass
class StartupFile:
    """What `layerlab FILE` opens: a loaded project, a model to import once the window is
    up, or the failure to report over the default project (see `load_startup`)."""

    argument: str | None = None
    project: Any = None  # a Project, loaded and checked
    path: str | None = None
    model_file: str | None = None
    failure: Exception | None = None


def load_startup(argument: str | None) -> StartupFile:
    """Loads the command line's file before the window is made; never raises.

    Whatever the file does to the loader is kept in `failure`, to be reported in a dialog
    once the window is up (`finish_startup`): the window always shows.
    """
    if not argument:
        return StartupFile()
    try:
        if argument.lower().endswith(MODEL_SUFFIXES):
            return StartupFile(argument, model_file=argument)  # imported once the window is up
        from ..core.project import load_project
        from .guard import preflight

        project = load_project(argument)
        preflight(project)
        return StartupFile(argument, project=project, path=argument)
    except Exception as exc:  # noqa: BLE001 - reported by finish_startup, in a dialog
        return StartupFile(argument, failure=exc)


def make_window(start: StartupFile, load_keras: bool) -> Any:
    """The main window with the command line's project; with the default project (and the
    failure kept in `start`) should the window fail to take that project."""
    from .main_window import MainWindow

    if start.project is None:
        return MainWindow(None, load_keras=load_keras)
    try:
        return MainWindow(start.project, path=start.path, load_keras=load_keras)
    except Exception as exc:  # noqa: BLE001 - reported by finish_startup, in a dialog
        start.project, start.path, start.failure = None, None, exc
        return MainWindow(None, load_keras=load_keras)


def finish_startup(window: Any, start: StartupFile) -> None:
    """Once the window shows: reports a failure, asks about a project that writes outside
    its folder (and opens it as the person says), or imports the model. Never raises."""
    from ..core.project import OutsidePathsError
    from .guard import consent, guarded, preflight, report_failure

    if start.model_file:
        window.files.import_model(start.model_file, confirm=False)  # guarded itself
        return
    exc = start.failure
    if exc is None or start.argument is None:
        return
    if isinstance(exc, OutsidePathsError):
        with guarded(window, start.argument):
            project = consent(window, exc)
            if project is not None:
                preflight(project)
                window.adopt_project(project, start.argument)
        return
    with guarded(window, start.argument):  # a failing dialog must not stop the start
        report_failure(window, start.argument, exc)


def run_app(args: Sequence[str]) -> int:
    """Shows the main window and runs the event loop; returns the exit code."""
    options = _parse(args)
    from .platform_check import check_platform

    stop = check_platform()  # before Qt picks its platform plugin, which would abort
    if stop is not None:
        return stop
    exit_after_shown = os.environ.get(EXIT_AFTER_SHOWN_ENV) == "1"
    load_keras = not exit_after_shown and os.environ.get(NO_KERAS_ENV) != "1"
    if load_keras:  # Keras loads in the engine while Qt loads and the window is built
        from ..engine.client import prestart

        prestart()
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LayerLab")
    app.setOrganizationName("LayerLab")
    set_app_icon(app)
    readable_font(app)
    from .text_scale import text_scale

    # The normal (1x) text size is this readable font: the window then applies the
    # remembered View > Larger Text factor on top of it, never on top of a scaled font.
    text_scale()
    start = load_startup(options.project)
    window = make_window(start, load_keras=load_keras)
    reporter = _ShownReporter(app)
    if exit_after_shown:
        window.firstShown.connect(reporter.report)
    window.show()
    finish_startup(window, start)
    code = app.exec()
    window.shutdown()
    from .controller import clear_undo_stacks

    clear_undo_stacks()  # nothing for the garbage collector to delete twice at exit
    return code
