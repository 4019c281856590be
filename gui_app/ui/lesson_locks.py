"""The open lesson's locks, shown: locked settings greyed, hidden panels hidden.

The locks are enforced by the project controller (`core.lesson_locks.refusal`, asked
before every edit, with the reason in the status bar); this module only makes the window
say the same thing before anyone tries:

* `attach_locks(controller, form, path_of)` greys each field of a `ParamForm` whose
  setting the lesson keeps, and its search button (the inspector's, the Compile panel's,
  the Data panel's and the Fit panel's forms call it, with the same JSON path for each
  field as `attach_search`);
* `LockView` greys what has no form (the palette's layers, the input shape, the
  optimizer and loss choices, the metrics, the Data panel or its source, file, target
  and feature controls, the Fit panel's other controls) and hides the panels the lesson hides, putting them back when another
  project opens.

A widget is greyed with `setEnabled(False)` on itself, so the window enabling its parent
again after a run (`MainWindow._on_training_locked`) leaves it greyed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QWidget

from ..core.lesson_locks import Locks
from ..core.lesson_paths import PathError
from ..core.spec import Project

LOCKED_TIP = "Locked by this lesson: it lets you change only {what}."


def locks_of(project: Project) -> Locks | None:
    """The project's lesson locks, or None."""
    return project.lesson.locks if project.lesson is not None else None


def _allows(locks: Locks | None, path: str | None) -> bool:
    if locks is None or path is None:
        return True
    try:
        return locks.allows(path)
    except PathError:  # a field whose path is no setting the locks know: leave it be
        return True


def _attr(owner: Any, dotted: str) -> Any:
    """owner.a.b, or None when a panel has no such control (it changed shape)."""
    for name in dotted.split("."):
        owner = getattr(owner, name, None)
    return owner if isinstance(owner, QWidget) else None


def _allows_any(locks: Locks | None, prefix: str) -> bool:
    return locks is None or locks.allows_any(prefix)


def _grey(widget: QWidget, free: bool, tip: str) -> None:
    """Greys a control the lesson locks (its tooltip says why), or frees one it greyed.

    Only what was greyed here is freed again: a control greyed for its own reasons
    (Remove with no callback selected) is left as it is.
    """
    locked = bool(widget.property("lessonLocked"))
    if free != locked:
        return
    if not free:
        widget.setProperty("lessonTip", widget.toolTip())
        widget.setToolTip(tip)
    else:
        widget.setToolTip(str(widget.property("lessonTip") or ""))
    widget.setEnabled(free)
    widget.setProperty("lessonLocked", not free)


class LockedFields(QObject):
    """Greys the fields of one form whose settings the open lesson keeps."""

    def __init__(self, controller: Any, form: QWidget,
                 path_of: Callable[[str], str | None]) -> None:
        super().__init__(form)
        self.controller = controller
        self.form = form
        self.path_of = path_of
        controller.projectChanged.connect(self._on_project_changed)
        self.refresh()

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if old.lesson != new.lesson:
            self.refresh()

    def refresh(self) -> None:
        """Greys (or frees) each field for the setting it shows now."""
        locks = locks_of(self.controller.project)
        fields: dict[str, QWidget] = getattr(self.form, "fields", {})
        resets: dict[str, QWidget] = getattr(self.form, "resets", {})
        search = getattr(self.form, "search_buttons", None)
        searches: dict[str, QWidget] = getattr(search, "buttons", {})
        tip = LOCKED_TIP.format(what=locks.describe()) if locks else ""
        for name, field in fields.items():
            free = _allows(locks, self.path_of(name))
            _grey(field, free, tip)
            if name in searches:  # searching a setting the lesson keeps would change it
                _grey(searches[name], free, tip)
            if not free and name in resets:
                resets[name].setEnabled(False)


def attach_locks(controller: Any, form: QWidget,
                 path_of: Callable[[str], str | None]) -> LockedFields:
    """The form's lock greying, made once (later calls return the same one)."""
    existing = getattr(form, "lesson_locks", None)
    if isinstance(existing, LockedFields):
        return existing
    locked = LockedFields(controller, form, path_of)
    form.lesson_locks = locked  # type: ignore[attr-defined]
    return locked


class LockView(QObject):
    """Greys the window's formless controls and hides the panels the lesson hides."""

    def __init__(self, window: Any, controller: Any) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self._hidden_docks: list[QWidget] = []
        self._hidden_tabs: list[int] = []
        controller.projectChanged.connect(self._on_project_changed)
        replaced = getattr(controller, "replaced", None)
        if replaced is not None:
            replaced.connect(self.apply)
        parts = getattr(window, "partMade", None)
        if parts is not None:
            parts.connect(self.apply)
        self.apply()

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if old.lesson != new.lesson:
            self.apply()

    def _greyed(self) -> list[tuple[QWidget | None, bool]]:
        """Each formless control with whether the lesson lets it change anything."""
        locks = locks_of(self.controller.project)
        w = self.window
        palette = getattr(w, "palette", None)
        inspector = getattr(w, "inspector", None)
        compile_panel = getattr(w, "compile_panel", None)
        # Parts made after the window's first paint are greyed when they come (`apply`
        # again at `partMade`); asking for them here would make them at once.
        made = getattr(w, "part_if_made", None)
        data_panel = made("data_panel") if made else getattr(w, "data_panel", None)
        fit_panel = made("fit_panel") if made else getattr(w, "fit_panel", None)
        layers = _allows(locks, "model.layers")
        out: list[tuple[QWidget | None, bool]] = [
            (getattr(palette, "tree", None), layers),
            (getattr(palette, "search", None), layers),
            (getattr(inspector, "input_editor", None), _allows(locks, "model.input_shape")),
            (data_panel.widget() if hasattr(data_panel, "widget") else None,
             _allows_any(locks, "data")),
        ]
        if data_panel is not None:  # some data settings free: the others' controls greyed
            path = _allows(locks, "data.path")
            out += [(getattr(data_panel, "source", None), _allows(locks, "data.source")),
                    (getattr(data_panel, "path_edit", None), path),
                    (getattr(data_panel, "browse", None), path),
                    (getattr(data_panel, "target", None), _allows(locks, "data.target")),
                    (getattr(data_panel, "features", None), _allows(locks, "data.features"))]
        if compile_panel is not None:
            out += [(_attr(compile_panel, "optimizer.combo"),
                     _allows(locks, "compile.optimizer.type")),
                    (_attr(compile_panel, "loss.combo"), _allows(locks, "compile.loss.type")),
                    (_attr(compile_panel, "metrics"), _allows(locks, "compile.metrics"))]
        if fit_panel is not None:
            out += [(getattr(fit_panel, "virtual", None), _allows(locks, "fit.virtual_epochs")),
                    (getattr(fit_panel, "class_weight", None),
                     _allows(locks, "fit.class_weight")),
                    (getattr(fit_panel, "callbacks", None), _allows(locks, "fit.callbacks")),
                    (getattr(fit_panel, "add_button", None), _allows(locks, "fit.callbacks")),
                    (getattr(fit_panel, "remove_button", None),
                     _allows(locks, "fit.callbacks"))]
        return out

    @Slot()
    def apply(self) -> None:
        locks = locks_of(self.controller.project)
        tip = LOCKED_TIP.format(what=locks.describe()) if locks is not None else ""
        for widget, free in self._greyed():
            if widget is not None:
                _grey(widget, free, tip)
        self._hide_panels(locks.hidden if locks is not None else ())

    def _hide_panels(self, hidden: tuple[str, ...]) -> None:
        """Hides the lesson's hidden panels; shows again those hidden for the lesson before."""
        w = self.window
        for dock in self._hidden_docks:
            dock.show()
        self._hidden_docks = []
        tabs = getattr(w, "setup_tabs", None)
        for index in self._hidden_tabs:
            tabs.setTabVisible(index, True)
        self._hidden_tabs = []
        docks = {"palette": "palette_dock", "inspector": "inspector_dock", "code": "code_dock"}
        for name, attribute in docks.items():
            dock = getattr(w, attribute, None)
            if name in hidden and dock is not None and not dock.isHidden():
                dock.hide()
                self._hidden_docks.append(dock)
        if tabs is None:
            return
        tab_names = ("compile", "data", "fit")
        if all(name in hidden for name in tab_names):
            dock = getattr(w, "setup_dock", None)
            if dock is not None and not dock.isHidden():
                dock.hide()
                self._hidden_docks.append(dock)
            return
        for index, name in enumerate(tab_names):
            if name in hidden and index < tabs.count():
                tabs.setTabVisible(index, False)
                self._hidden_tabs.append(index)
        if tabs.currentIndex() in self._hidden_tabs:
            free = [i for i in range(tabs.count()) if i not in self._hidden_tabs]
            if free:
                tabs.setCurrentIndex(free[0])
