"""The inspector: a form for the selected row of the stack, generated from the catalog.

One form per layer type is built on first use and kept (a QStackedWidget page), so clicking
between layers only refills values. The input row gets a shape editor instead. The
selected layer's findings sit at the top of the form with their fix buttons.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import LAYERS
from ..core.spec import layer_names
from ..core.summary import format_shape
from .controller import ProjectController
from .fields import ERROR_STYLE, FittedStack, PanelScroll, ParamForm, TextField
from .findings_view import FindingsView
from .lesson_locks import attach_locks
from .search_fields import attach_search
from .stack_model import format_input_text, parse_shape
from .text_scale import relative_font

INPUT_HELP = ("The shape of one sample, without the batch axis: 2 for points in a plane, "
              "28, 28, 1 for a small grey image, None, 8 for sequences of any length with 8 "
              "features. Press Enter to apply.")


EMPTY_TEXT = ("Select a layer in the model to edit it, or double-click a layer in the palette "
              "to add one.")


class InputShapeEditor(QWidget):
    """The input row's editor: a line edit that refuses shapes Keras cannot take."""

    def __init__(self, controller: ProjectController) -> None:
        super().__init__()
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setObjectName("inputShapeEdit")
        self.edit.setToolTip(INPUT_HELP)
        self.edit.setPlaceholderText("e.g. 2 or 28, 28, 1")
        self.problem = QLabel()
        self.problem.setObjectName("inputShapeProblem")
        self.problem.setStyleSheet(ERROR_STYLE)
        self.problem.setWordWrap(True)
        self.problem.setVisible(False)
        layout.addWidget(self.edit)
        layout.addWidget(self.problem)
        self.edit.textEdited.connect(self._on_edited)
        self.edit.editingFinished.connect(self._on_finished)

    def refresh(self) -> None:
        text = format_input_text(self.controller.project.model.input_shape)
        shape, _ = parse_shape(self.edit.text())
        if shape != self.controller.project.model.input_shape:
            self.edit.setText(text)
            self.problem.setVisible(False)

    @Slot(str)
    def _on_edited(self, text: str) -> None:
        _, problem = parse_shape(text)
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))

    @Slot()
    def _on_finished(self) -> None:
        shape, problem = parse_shape(self.edit.text())
        if shape is None:
            self.problem.setText(problem or "")
            self.problem.setVisible(True)
            self.edit.setText(format_input_text(self.controller.project.model.input_shape))
            return
        self.problem.setVisible(False)
        self.controller.set_input_shape(shape)
        self.controller.end_merge()


class Inspector(PanelScroll):
    """Edits the layer (or the input) chosen in the stack."""

    def __init__(self, controller: ProjectController) -> None:
        super().__init__()
        self.setObjectName("inspector")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        self.title = QLabel()
        self.title.setObjectName("inspectorTitle")
        relative_font(self.title, 1.15)  # follows View > Larger Text
        # "global_average_pooling2d (GlobalAveragePooling2D)" is 400 px on one line: wrap
        # it rather than hold the dock (and the window) that wide.
        self.title.setWordWrap(True)
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.help.setObjectName("inspectorHelp")
        self.help.setStyleSheet("color: palette(dark);")
        self.explain = QLabel()
        self.explain.setWordWrap(True)
        self.explain.setObjectName("inspectorExplain")
        self.findings = FindingsView(controller, lambda f: False)
        self.stack = FittedStack()
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.input_editor = InputShapeEditor(controller)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.input_editor)
        for widget in (self.title, self.help, self.explain, self.findings, self.stack):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.setWidget(body)
        self.forms: dict[str, ParamForm] = {}
        self.row: int | None = None  # table row: 0 input, i + 1 layer i
        self.multi = 0
        # The window calls show_row() after each change, once the table has moved its
        # selection; listening to projectChanged here would act on the old row.
        controller.derivedChanged.connect(self._refresh_explain)
        self.show_row(None)

    # -- public ------------------------------------------------------------------------------

    def show_row(self, row: int | None, selected_count: int = 1) -> None:
        """Shows the editor for a table row (None: nothing selected)."""
        self.row, self.multi = row, selected_count
        self._refresh()

    def form(self) -> ParamForm | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, ParamForm) else None

    def forget_forms(self) -> None:
        """Drops the cached forms (the catalog's choices changed when Keras loaded)."""
        for form in self.forms.values():
            self.stack.removeWidget(form)
            form.deleteLater()
        self.forms.clear()
        self._refresh()

    @property
    def layer_index(self) -> int | None:
        return None if self.row is None or self.row == 0 else self.row - 1

    # -- internals ---------------------------------------------------------------------------

    def _form_for(self, type_name: str) -> ParamForm:
        form = self.forms.get(type_name)
        if form is None:
            form = ParamForm(LAYERS[type_name].params)
            form.setObjectName(f"form_{type_name}")
            form.edited.connect(self._on_edited)
            form.finished.connect(self._on_finished)
            self.forms[type_name] = form
            self.stack.addWidget(form)
            attach_search(self.controller, form, self._search_path)
        return form

    def _search_path(self, name: str) -> str | None:
        """The JSON path of the shown layer's argument, for its Search... button."""
        index = self.layer_index
        return None if index is None or self.multi > 1 else f"model.layers[{index}].{name}"

    def _refresh(self) -> None:
        project = self.controller.project
        layers = project.model.layers
        if self.multi > 1:
            self.title.setText(f"{self.multi} rows selected")
            self.help.setText("Delete (Del), duplicate (Ctrl+D) or move (Alt+Up / Alt+Down) "
                              "them together, or drag them to a new place.")
            self.findings.set_filter(lambda f: False)
            self.empty.setText("")
            self.stack.setCurrentWidget(self.empty)
            self.explain.setText("")
            return
        self.empty.setText(EMPTY_TEXT)
        if self.row is None or self.row > len(layers):
            self.title.setText("Inspector")
            self.help.setText("")
            self.findings.set_filter(lambda f: False)
            self.stack.setCurrentWidget(self.empty)
            self.explain.setText("")
            return
        if self.row == 0:
            self.title.setText("Input")
            self.help.setText(INPUT_HELP)
            self.findings.set_filter(lambda f: f.where == "model.input_shape")
            self.input_editor.refresh()
            self.stack.setCurrentWidget(self.input_editor)
            self._refresh_explain()
            return
        index = self.row - 1
        layer = layers[index]
        definition = LAYERS[layer.type]
        name = layer_names(layers)[index]
        self.title.setText(f"{name} ({layer.type})")
        self.help.setText(definition.help)
        self.findings.set_filter(lambda f, i=index: f.layer_index == i)
        form = self._form_for(layer.type)
        form.set_values(layer.args)
        form.search_buttons.refresh()
        attach_locks(self.controller, form, self._search_path).refresh()  # a lesson's locks
        placeholder = form.fields.get("name")
        if isinstance(placeholder, TextField):
            placeholder.set_placeholder(f"automatic: {name}")
        self.stack.setCurrentWidget(form)
        self._refresh_explain()

    @Slot()
    def _refresh_explain(self) -> None:
        summary = self.controller.summary
        if self.row is None or self.multi > 1:
            return
        if self.row == 0:
            shape = self.controller.project.model.input_shape
            self.explain.setText(f"Each sample is {format_shape(tuple(shape))}; the model sees "
                                 f"batches shaped {format_shape((None, *shape))}.")
            self.explain.setStyleSheet("")
            return
        index = self.row - 1
        if index >= len(summary.rows):
            return
        row = summary.rows[index]
        if row.error:  # the finding card above says what is wrong and how to fix it
            self.explain.setText("Output shape and parameters: not computed.")
            self.explain.setStyleSheet(ERROR_STYLE)
        else:
            shape = format_shape(row.output_shape)
            count = "?" if row.params is None else f"{row.params:,}"
            text = f"Output {shape}, {count} parameters"
            if row.explanation:
                text += f": {row.explanation}"
            self.explain.setText(text)
            self.explain.setStyleSheet("")

    @Slot(str, object)
    def _on_edited(self, name: str, value: Any) -> None:
        index = self.layer_index
        if index is None:
            return
        self.controller.set_layer_arg(index, name, value)

    @Slot(str)
    def _on_finished(self, _name: str) -> None:
        self.controller.end_merge()
