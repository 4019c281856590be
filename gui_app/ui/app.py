"""Starting the window: argument handling and the Qt application."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parse(args: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="layerlab", description="Open the LayerLab window.")
    parser.add_argument("project", nargs="?", help="a .layerlab.json project to open")
    return parser.parse_args(list(args))


def run_app(args: Sequence[str]) -> int:
    """Shows the main window and runs the event loop; returns the exit code."""
    options = _parse(args)
    from PySide6.QtWidgets import QApplication

    from ..core.project import ProjectError, load_project
    from ..core.spec import default_project
    from .minimal import SummaryWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("LayerLab")
    app.setOrganizationName("LayerLab")
    project, problem = default_project(), None
    if options.project:
        try:
            project = load_project(options.project)
        except ProjectError as exc:
            problem = exc.report()
    window = SummaryWindow(project)
    window.show()
    if problem:
        window.show_problem(problem)
    return app.exec()
