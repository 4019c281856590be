"""One guard for every way a file enters the window: a dialog, never a traceback.

A project file is something people share, and a stranger's file may be crafted. Every
entry point (the command line, File > Open, recent files, a drop, a lesson, a model
import, recovered work) loads through this module:

    with guarded(window, path) as guard:
        project = load_consented(window, lambda: load_project(path))
        if project is None:          # the person cancelled the outside-paths question
            return False
        ...replace the open project...
        return True
    return False                     # reached only when the guard caught a failure

`guarded` turns a `ProjectError` into the usual "Cannot open project" dialog with its
report, and any other exception into an error dialog that names the file and the error,
with the traceback under "Show Details", plus one log line. Loading happens before the
open project is touched, so a failure leaves the project, its path and its undo history
as they were; should replacing the project itself fail, the guard puts the old project
and path back (the undo history cannot be rebuilt then, and the dialog says nothing else
changed only when that is true).

A project whose callbacks write outside its folder (`OutsidePathsError`) is not refused:
the person is asked (`window.ask_outside(exc)`, which tests replace) and answers Allow,
"Open, but don't allow" (the checks then show the paths, and training refuses until they
are allowed) or Cancel (the open project stays).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ..core.project import OutsidePathsError, ProjectError
from ..core.spec import Project

log = logging.getLogger("layerlab")

#: The answers to the outside-paths question.
ALLOW = "allow"
OPEN_AS_IS = "open"
CANCEL = "cancel"

OUTSIDE_TITLE = "This project writes outside its folder"
_MAX_SHOWN_PATHS = 12
_MAX_SHOWN_CHARS = 160


def shown(text: str, limit: int = _MAX_SHOWN_CHARS) -> str:
    """Text from a file, safe to put in a dialog: control and direction-changing characters
    written as escapes, long text shortened (the dialogs are plain text, never HTML)."""
    text = str(text)
    if not text.isprintable():
        text = ascii(text)[1:-1]
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def first_line(exc: BaseException) -> str:
    """`Type: first line of the message` (the type alone for an empty message)."""
    lines = str(exc).strip().splitlines()
    message = shown(lines[0], 300) if lines else ""
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _plain(box: QMessageBox) -> QMessageBox:
    """Plain text: a file name or a key such as `<img src=...>` is shown, never rendered."""
    box.setTextFormat(Qt.TextFormat.PlainText)
    return box


# -- the dialogs ------------------------------------------------------------------------------


def show_project_error(window: Any, exc: ProjectError,
                       title: str = "Cannot open project") -> QMessageBox:
    """The usual dialog for a file that is not a usable project (`exc.report()`)."""
    return _plain(window.show_error(title, exc.report()))


def show_unexpected(window: Any, what: str | Path, exc: BaseException,
                    title: str = "Cannot open project", unchanged: bool = True) -> QMessageBox:
    """An error nobody foresaw: what failed in one sentence, the traceback in the details."""
    details = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    log.error("LayerLab could not open %s: %s", shown(str(what), 300), first_line(exc))
    log.debug("%s", details)
    tail = "Your open project is unchanged." if unchanged else \
        "The project that was open is back, but its undo history was lost."
    box = QMessageBox(QMessageBox.Icon.Critical, title,
                      f"LayerLab could not open {shown(str(what), 300)}: {first_line(exc)}. "
                      f"{tail}", QMessageBox.StandardButton.Ok, window)
    box.setObjectName("unexpectedErrorDialog")
    _plain(box)
    box.setInformativeText("LayerLab did not expect this error: please report it with the "
                           "details below.")
    box.setDetailedText(details)
    box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 560px; }")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()
    window.last_dialog = box
    return box


def report_failure(window: Any, what: str | Path, exc: BaseException,
                   title: str = "Cannot open project", unchanged: bool = True) -> QMessageBox:
    """The right dialog for `exc`: the project report, or the unexpected-error dialog."""
    if isinstance(exc, ProjectError) and unchanged:
        return show_project_error(window, exc, title)
    return show_unexpected(window, what, exc, title, unchanged)


# -- outside the project's folder ---------------------------------------------------------------


def outside_text(exc: OutsidePathsError) -> str:
    """The question's text: each path, where in the project it is, and why it leaves."""
    lines = [f"{exc.project.name and shown(exc.project.name, 80) or 'This project'} will write "
             "to these places outside its folder when it trains:", ""]
    for item in exc.paths[:_MAX_SHOWN_PATHS]:
        lines.append(f"\u2022 {shown(item.value)}")
        lines.append(f"    {shown(item.where, 80)}: {shown(item.outside or '', 200)}")
    if len(exc.paths) > _MAX_SHOWN_PATHS:
        lines.append(f"\u2022 and {len(exc.paths) - _MAX_SHOWN_PATHS} more")
    return "\n".join(lines)


def outside_question(parent: QWidget | None, exc: OutsidePathsError) -> QMessageBox:
    """The question, not yet shown; its buttons are named `allowButton`, `openButton` and
    `cancelButton` (the default is "Open, but don't allow")."""
    box = QMessageBox(QMessageBox.Icon.Warning, OUTSIDE_TITLE, outside_text(exc),
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("outsidePathsDialog")
    _plain(box)
    box.setInformativeText(
        "A project from someone else could overwrite your files this way. Allow only if "
        "you trust it and meant these places.\n\n"
        "Allow: training may write there (remembered for this project on this computer "
        "once you save it).\n"
        "Open, but don't allow: the project opens; the checks list these paths and "
        "training waits until you allow them or change them.\n"
        "Cancel: keep the project that is open now.")
    box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 560px; }")
    allow = box.addButton("Allow", QMessageBox.ButtonRole.AcceptRole)
    as_is = box.addButton("Open, but don't allow", QMessageBox.ButtonRole.ActionRole)
    cancel = box.addButton(QMessageBox.StandardButton.Cancel)
    allow.setObjectName("allowButton")
    as_is.setObjectName("openButton")
    cancel.setObjectName("cancelButton")
    box.setDefaultButton(as_is)
    box.setEscapeButton(cancel)
    return box


def ask_outside(parent: QWidget | None, exc: OutsidePathsError) -> str:
    """Asks (modal) whether the project may write outside its folder: ALLOW, OPEN_AS_IS or
    CANCEL (also for a closed dialog)."""
    box = outside_question(parent, exc)
    box.exec()
    clicked = box.clickedButton()
    name = clicked.objectName() if clicked is not None else ""
    box.deleteLater()
    return {"allowButton": ALLOW, "openButton": OPEN_AS_IS}.get(name, CANCEL)


def consent(window: Any, exc: OutsidePathsError) -> Project | None:
    """The project to open after asking `window.ask_outside(exc)`; None for Cancel."""
    answer = window.ask_outside(exc)
    if answer == ALLOW:
        return exc.approved()
    if answer == OPEN_AS_IS:
        return exc.project
    return None


def load_consented(window: Any, load: Callable[[], Project]) -> Project | None:
    """`load()`, asking about outside paths; None when the person cancelled. Other
    failures propagate (to `guarded`)."""
    try:
        project = load()
    except OutsidePathsError as exc:
        project = consent(window, exc)
    if project is not None:
        preflight(project)
    return project


def preflight(project: Project) -> None:
    """What the window derives from a project when it opens it, computed before the open
    project is replaced: a file that makes it fail fails here, with nothing changed."""
    from ..core.checks import run_checks
    from ..core.summary import summarize

    run_checks(project, None, summarize(project.model))


# -- the guard ----------------------------------------------------------------------------------


class guarded:  # noqa: N801 - used like a function: `with guarded(window, path):`
    """Catches every Exception of its block and shows the dialog for it (see the module).

    `failed` tells afterwards whether it caught one. KeyboardInterrupt and SystemExit pass.
    """

    def __init__(self, window: Any, what: str | Path | Callable[[], str | Path],
                 title: str = "Cannot open project") -> None:
        self.window = window
        self._what = what
        self.title = title
        self.failed = False
        self.exception: Exception | None = None
        self._before: tuple[Any, Any, bool] | None = None

    @property
    def what(self) -> str:
        what = self._what() if callable(self._what) else self._what
        return str(what)

    def __enter__(self) -> guarded:
        controller = getattr(self.window, "controller", None)
        if controller is not None:
            self._before = (controller.project, controller.path, controller.is_clean)
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if exc is None or not isinstance(exc, Exception):
            return False
        self.failed, self.exception = True, exc
        try:
            unchanged = self._restore()
            report_failure(self.window, self.what, exc, self.title, unchanged)
        except Exception:  # noqa: BLE001 - the last line: a failing dialog must not escape
            log.exception("LayerLab could not report a failure to open %s", self.what)
        return True

    def _restore(self) -> bool:
        """Puts the old project and path back if the failure came after replacing them;
        True when nothing had changed."""
        controller = getattr(self.window, "controller", None)
        if controller is None or self._before is None:
            return True
        project, path, clean = self._before
        if controller.project is project and controller.path == path:
            return True
        controller.reset(project, path)
        if not clean:
            controller.mark_unsaved()
        return False


__all__ = [
    "ALLOW", "CANCEL", "OPEN_AS_IS", "OUTSIDE_TITLE", "ask_outside", "consent", "first_line",
    "guarded", "load_consented", "outside_question", "outside_text", "preflight",
    "report_failure", "show_project_error", "show_unexpected", "shown",
]
