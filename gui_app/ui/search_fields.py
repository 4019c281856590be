"""Turning a setting into a search: a small "Search..." button beside each searchable field
of a form (the inspector's, the compile and fit panels'), and the compact editor it opens.

The editor offers what the setting can hold (`core.search.resolve_target`): an integer
range with a step (units, filters), a number range with linear or log sampling (learning
rate, dropout rate), or a choice (activation, optimizer, batch size). Every change is one
undoable edit of the project's `search` section through the project controller; a searched
field's button stays pressed and its label says what is searched.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.search import (
    Target,
    check_search,
    current_value,
    fmt_value,
    resolve_target,
    with_dim,
)
from ..core.search_text import describe_dim, suggest_dim
from ..core.spec import Project, SearchDim
from .controller import ProjectController
from .fields import ERROR_STYLE

#: The mark a searched field's label gets (plain text: every font has it).
MARK = " ~"
SEARCH_TIP = ("Search this setting: try a range of values with Keras Tuner "
              "(Training > Search...).")


def searchable(path: str | None, project: Project) -> Target | None:
    """The target a path names, when a search can set it (a range or a choice)."""
    if path is None:
        return None
    found = resolve_target(path, project)
    if isinstance(found, str):
        return None
    kinds = ("int", "size", "float", "factor", "choice", "bool")
    return found if found.section == "optimizer_type" or found.param.kind in kinds else None


class SearchButtons(QObject):
    """A "Search..." tool button beside each searchable field of a `ParamForm`.

    Args:
        controller: the project controller (edits go through it, undoable).
        form: the form (its `labels` and their grid rows are used, nothing private).
        path_of: the JSON path of a field's setting ("model.layers[2].units"), or None
            when the form shows nothing searchable now.
    """

    def __init__(self, controller: ProjectController, form: QWidget,
                 path_of: Callable[[str], str | None]) -> None:
        super().__init__(form)
        self.controller = controller
        self.form = form
        self.path_of = path_of
        self.buttons: dict[str, QToolButton] = {}
        self._names: dict[str, str] = {}
        labels: dict[str, QLabel] = getattr(form, "labels", {})
        for name, label in labels.items():
            grid = label.parentWidget().layout() if label.parentWidget() else None
            if not isinstance(grid, QGridLayout):
                continue
            row, _col, _rs, _cs = grid.getItemPosition(grid.indexOf(label))
            button = QToolButton()
            button.setObjectName(f"search_{name}")
            button.setText("Search...")
            button.setAutoRaise(True)
            button.setCheckable(True)
            button.setToolTip(SEARCH_TIP)
            button.clicked.connect(lambda _checked=False, n=name: self.edit(n))
            grid.addWidget(button, row, 3)
            self.buttons[name] = button
            self._names[name] = label.text()
        controller.projectChanged.connect(self._on_project_changed)
        self.refresh()

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Shows the buttons of the searchable fields, pressed (and the label marked) for
        the searched ones."""
        project = self.controller.project
        labels: dict[str, QLabel] = getattr(self.form, "labels", {})
        for name, button in self.buttons.items():
            path = self.path_of(name)
            target = searchable(path, project)
            button.setVisible(target is not None)
            dim = project.search.dim(path) if project.search and path else None
            button.setChecked(dim is not None)
            label = labels.get(name)
            if label is not None:
                label.setText(self._names[name] + (MARK if dim else ""))
            button.setToolTip(f"Searched: {describe_dim(dim)}. Click to change it."
                              if dim else SEARCH_TIP)

    def edit(self, name: str) -> None:
        """Opens the editor for a field's search; an accepted change is one undoable edit."""
        path = self.path_of(name)
        project = self.controller.project
        if path is None or searchable(path, project) is None:
            return
        dialog = SearchDimDialog(project, path, self.form.window())
        if dialog.exec() == QDialog.DialogCode.Accepted:
            new = with_dim(self.controller.project, dialog.result_dim, path)
            verb = "Search" if dialog.result_dim is not None else "Stop searching"
            self.controller.edit(new, f"{verb} {path}")
        self.refresh()


def attach_search(controller: ProjectController, form: QWidget,
                  path_of: Callable[[str], str | None]) -> SearchButtons:
    """The form's search buttons, made once (later calls return the same ones)."""
    existing = getattr(form, "search_buttons", None)
    if isinstance(existing, SearchButtons):
        return existing
    buttons = SearchButtons(controller, form, path_of)
    form.search_buttons = buttons  # type: ignore[attr-defined]
    return buttons


class SearchDimDialog(QDialog):
    """The compact editor of one setting's search: a range (int or float) or a choice.

    `result_dim` is the accepted search, or None for "Don't search" (accepted too).
    """

    def __init__(self, project: Project, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("searchDimDialog")
        self.setWindowTitle(f"Search {path}")
        self.project = project
        self.path = path
        target = searchable(path, project)
        assert target is not None
        self.target = target
        existing = project.search.dim(path) if project.search else None
        start = existing or suggest_dim(path, project)
        self.result_dim: SearchDim | None = None
        layout = QVBoxLayout(self)
        now = fmt_value(current_value(target, project))
        intro = QLabel(f"<b>{target.label}</b> is {now} now. Each trial of the search sets it "
                       "to one of the values below; the rest of the project stays as it is.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("searchKind")
        kinds = self._kinds()
        for kind, text in kinds:
            self.kind.addItem(text, kind)
        form.addRow("Try", self.kind)
        self.low, self.high = QLineEdit(), QLineEdit()
        self.low.setObjectName("searchMin")
        self.high.setObjectName("searchMax")
        self.step = QLineEdit()
        self.step.setObjectName("searchStep")
        self.step.setPlaceholderText("1" if start.kind == "int" else "none: any value")
        self.sampling = QComboBox()
        self.sampling.setObjectName("searchSampling")
        self.sampling.addItem("linear: evenly spread", "linear")
        self.sampling.addItem("log: as many per decade (rates)", "log")
        self.values = QListWidget()
        self.values.setObjectName("searchValues")
        self.values_text = QLineEdit()
        self.values_text.setObjectName("searchValuesText")
        self.values_text.setPlaceholderText("e.g. 16, 32, 64")
        form.addRow("From", self.low)
        form.addRow("To", self.high)
        form.addRow("Step", self.step)
        form.addRow("Sampling", self.sampling)
        form.addRow("Values", self.values)
        form.addRow("Values", self.values_text)
        self.form = form
        layout.addLayout(form)
        self.problem = QLabel()
        self.problem.setObjectName("searchProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        layout.addWidget(self.problem)
        buttons = QDialogButtonBox()
        self.ok = buttons.addButton("Search", QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok.setObjectName("searchAccept")
        self.remove: QPushButton | None = None
        if existing is not None:
            self.remove = buttons.addButton("Don't Search",
                                            QDialogButtonBox.ButtonRole.DestructiveRole)
            self.remove.setObjectName("searchRemove")
            self.remove.clicked.connect(self._on_remove)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._fill(start)
        self.kind.currentIndexChanged.connect(self._on_kind)
        for edit in (self.low, self.high, self.step, self.values_text):
            edit.textChanged.connect(self._validate)
        self.sampling.currentIndexChanged.connect(self._validate)
        self.values.itemChanged.connect(self._validate)
        self._on_kind()

    # -- building ---------------------------------------------------------------------------
    def _kinds(self) -> list[tuple[str, str]]:
        kind = self.target.param.kind
        if self.target.section == "optimizer_type" or kind in ("choice", "bool"):
            return [("choice", "a choice of values")]
        if kind in ("int", "size"):
            return [("int", "whole numbers in a range"), ("choice", "a list of values")]
        return [("float", "numbers in a range"), ("choice", "a list of values")]

    def _options(self) -> list[Any]:
        """The values a choice offers as check boxes (names, true/false), or [] to type."""
        if self.target.section == "optimizer_type":
            return list(self.target.param.choices)
        if self.target.param.kind == "bool":
            return [True, False]
        if self.target.param.kind == "choice":
            return [c for c in self.target.param.choices if c is not None]
        return []

    def _fill(self, dim: SearchDim) -> None:
        index = self.kind.findData(dim.kind)
        self.kind.setCurrentIndex(max(index, 0))
        if dim.kind in ("int", "float"):
            self.low.setText(fmt_value(dim.min))
            self.high.setText(fmt_value(dim.max))
            self.step.setText("" if dim.step is None else fmt_value(dim.step))
            self.sampling.setCurrentIndex(1 if dim.sampling == "log" else 0)
        chosen = list(dim.values)
        options = self._options()
        for option in options + [v for v in chosen if v not in options]:
            item = QListWidgetItem(fmt_value(option))
            item.setData(Qt.ItemDataRole.UserRole, json.dumps(option))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if option in chosen
                               else Qt.CheckState.Unchecked)
            self.values.addItem(item)
        if not options:
            self.values_text.setText(", ".join(fmt_value(v) for v in chosen))

    @Slot()
    def _on_kind(self) -> None:
        kind = self.kind.currentData()
        ranged = kind in ("int", "float")
        for widget in (self.low, self.high, self.step):
            self._show_row(widget, ranged)
        self._show_row(self.sampling, ranged)
        typed = not self._options()
        self._show_row(self.values, kind == "choice" and not typed)
        self._show_row(self.values_text, kind == "choice" and typed)
        self._validate()

    def _show_row(self, field: QWidget, visible: bool) -> None:
        self.form.setRowVisible(field, visible)

    # -- reading and checking ----------------------------------------------------------------
    def dim(self) -> SearchDim | str:
        """The search the fields describe, or why they describe none."""
        kind = self.kind.currentData()
        if kind == "choice":
            if self._options():
                values = [json.loads(self.values.item(i).data(Qt.ItemDataRole.UserRole))
                          for i in range(self.values.count())
                          if self.values.item(i).checkState() == Qt.CheckState.Checked]
            else:
                try:
                    values = [_number(text) for text in self.values_text.text().split(",")
                              if text.strip()]
                except ValueError as exc:
                    return str(exc)
            return SearchDim(self.path, "choice", values=tuple(values))
        try:
            low, high = _number(self.low.text()), _number(self.high.text())
            step = _number(self.step.text()) if self.step.text().strip() else None
        except ValueError as exc:
            return str(exc)
        if kind == "float":
            low, high = float(low), float(high)
        sampling = self.sampling.currentData()
        return SearchDim(self.path, kind, low, high,
                         step if step is not None or kind == "float" else 1, sampling)

    @Slot()
    def _validate(self) -> None:
        dim = self.dim()
        if isinstance(dim, str):
            problems = [dim]
        else:
            searched = with_dim(self.project, dim, self.path)
            assert searched.search is not None
            at = f"search.space[{searched.search.paths().index(self.path)}]"
            problems = [p[len(at):].lstrip(".").split(": ", 1)[-1]
                        for p in check_search(searched) if p.startswith(at)]
        self.problem.setText("\n".join(problems))
        self.problem.setVisible(bool(problems))
        self.ok.setEnabled(not problems)

    @Slot()
    def _on_accept(self) -> None:
        dim = self.dim()
        if isinstance(dim, str) or not self.ok.isEnabled():
            return
        self.result_dim = dim
        self.accept()

    @Slot()
    def _on_remove(self) -> None:
        self.result_dim = None
        self.accept()


def _number(text: str) -> int | float:
    """'32' -> 32, '1e-3' -> 0.001; ValueError in words otherwise."""
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"expected a number, got {text!r}") from None


class SearchButton(QToolButton):
    """One "Search..." button for a setting that is not a form field (the optimizer itself:
    `compile.optimizer`, a choice of optimizers); pressed while the setting is searched."""

    def __init__(self, controller: ProjectController, path: str, text: str) -> None:
        super().__init__()
        self.controller = controller
        self.path = path
        self.setObjectName(f"search_{path.replace('.', '_')}")
        self.setText(text)
        self.setAutoRaise(True)
        self.setCheckable(True)
        self.clicked.connect(self.edit)
        controller.projectChanged.connect(self.refresh)
        self.refresh()

    @Slot()
    def refresh(self, *_args: Any) -> None:
        search = self.controller.project.search
        dim = search.dim(self.path) if search is not None else None
        self.setChecked(dim is not None)
        self.setToolTip(f"Searched: {describe_dim(dim)}. Click to change it." if dim
                        else SEARCH_TIP)

    @Slot()
    def edit(self) -> None:
        dialog = SearchDimDialog(self.controller.project, self.path, self.window())
        if dialog.exec() == QDialog.DialogCode.Accepted:
            verb = "Search" if dialog.result_dim is not None else "Stop searching"
            self.controller.edit(with_dim(self.controller.project, dialog.result_dim,
                                          self.path), f"{verb} {self.path}")
        self.refresh()
