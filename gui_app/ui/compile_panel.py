"""The compile panel: optimizer with its hyperparameters, loss with when to use it, metrics.

Everything offered is what the core's catalog lists, so the panel can never produce a name
Keras does not know. Findings about the loss and the metrics appear right under their
pickers, with the buttons that fix them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import (
    LOSSES,
    METRICS,
    OPTIMIZERS,
    ObjectDef,
    loss_def,
    metric_def,
    optimizer_def,
)
from ..core.spec import ObjectSpec, Project
from .controller import ProjectController
from .fields import FittedStack, PanelScroll, ParamForm, guard_wheel
from .findings_view import FindingsView
from .lesson_locks import attach_locks
from .search_fields import SearchButton, attach_search


def section_label(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    label.setObjectName("sectionLabel")
    return label


def kept_args(spec: ObjectSpec, new_def: ObjectDef) -> dict[str, Any]:
    """Arguments worth keeping when switching to another optimizer or loss.

    A learning rate (or from_logits) chosen for Adam still makes sense for Nadam; arguments
    the new class does not take, or values it would refuse, are dropped.
    """
    kept = {}
    for key, value in spec.args.items():
        param = new_def.param(key)
        if param is not None and param.check(value) is None and not param.same_as_default(value):
            kept[key] = value
    return kept


def set_object_arg(spec: ObjectSpec, definition: ObjectDef, name: str, value: Any) -> ObjectSpec:
    param = definition.param(name)
    drop = param is not None and not param.required and param.same_as_default(value)
    return spec.with_args(**{name: ... if drop else value})


class ObjectPicker(QWidget):
    """A combo box over catalog entries, the chosen one's help line, and its parameter form."""

    def __init__(self, defs: dict[str, ObjectDef], object_name: str, on_edited: Any,
                 on_finished: Any, help_prefix: str = "") -> None:
        super().__init__()
        self.defs = defs
        self._on_edited, self._on_finished = on_edited, on_finished
        self.help_prefix = help_prefix
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.combo = QComboBox()
        self.combo.setObjectName(object_name)
        self.combo.setMaxVisibleItems(20)
        guard_wheel(self.combo)
        for definition in defs.values():
            self.combo.addItem(definition.alias if object_name != "optimizerCombo"
                               else definition.type, definition.type)
            self.combo.setItemData(self.combo.count() - 1, definition.help,
                                   Qt.ItemDataRole.ToolTipRole)
        self.help = QLabel()
        self.help.setWordWrap(True)
        self.help.setObjectName(object_name.replace("Combo", "Help"))
        self.forms = FittedStack()
        self._forms: dict[str, ParamForm] = {}
        layout.addWidget(self.combo)
        layout.addWidget(self.help)
        self.extra_at = layout.count()
        layout.addWidget(self.forms)

    def form_for(self, type_name: str) -> ParamForm:
        form = self._forms.get(type_name)
        if form is None:
            form = ParamForm(self.defs[type_name].params)
            form.setObjectName(f"form_{type_name}")
            form.edited.connect(self._on_edited)
            form.finished.connect(self._on_finished)
            self._forms[type_name] = form
            self.forms.addWidget(form)
        return form

    def show_spec(self, definition: ObjectDef, spec: ObjectSpec) -> ParamForm:
        index = self.combo.findData(definition.type)
        if index != self.combo.currentIndex():
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(index)
            self.combo.blockSignals(False)
        self.combo.setToolTip(definition.help)
        self.help.setText(self.help_prefix + definition.help)
        form = self.form_for(definition.type)
        form.set_values(spec.args)
        self.forms.setCurrentWidget(form)
        self.forms.setVisible(bool(definition.params))
        return form

    def current_def(self) -> ObjectDef:
        return self.defs[self.combo.currentData()]


class CompilePanel(PanelScroll):
    """Optimizer, loss and metrics of `model.compile`, editing the project's CompileSpec."""

    def __init__(self, controller: ProjectController) -> None:
        super().__init__()
        self.setObjectName("compilePanel")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)

        layout.addWidget(section_label("Optimizer"))
        self.optimizer = ObjectPicker(OPTIMIZERS, "optimizerCombo", self._on_optimizer_arg,
                                      self._on_finished)
        self.optimizer.combo.setToolTip("How the weights are updated from the gradients.")
        layout.addWidget(self.optimizer)
        layout.addWidget(SearchButton(controller, "compile.optimizer", "Search optimizers..."))

        layout.addWidget(section_label("Loss"))
        self.loss = ObjectPicker(LOSSES, "lossCombo", self._on_loss_arg, self._on_finished,
                                 "Use when: ")
        self.loss_findings = FindingsView(controller, lambda f: f.where.startswith("compile.loss"))
        self.loss_findings.setObjectName("lossFindings")
        self.loss.layout().insertWidget(self.loss.extra_at, self.loss_findings)
        layout.addWidget(self.loss)

        layout.addWidget(section_label("Metrics"))
        self.metrics = QListWidget()
        self.metrics.setObjectName("metricsList")
        self.metrics.setToolTip("Numbers reported during training besides the loss; "
                                "check the ones you want.")
        for definition in METRICS.values():
            item = QListWidgetItem(definition.alias)
            item.setData(Qt.ItemDataRole.UserRole, definition.type)
            item.setToolTip(definition.help)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.metrics.addItem(item)
        row_height = self.metrics.sizeHintForRow(0)
        self.metrics.setMinimumHeight(row_height * 5 + 6)
        self.metrics.setMaximumHeight(row_height * 8 + 6)
        layout.addWidget(self.metrics)
        self.metric_findings = FindingsView(
            controller, lambda f: f.where.startswith("compile.metrics")
            or f.where.startswith("compile.optimizer"))
        layout.addWidget(self.metric_findings)
        layout.addStretch(1)
        self.setWidget(body)

        self._updating = False
        self.optimizer.combo.currentIndexChanged.connect(self._on_optimizer)
        self.loss.combo.currentIndexChanged.connect(self._on_loss)
        self.metrics.itemChanged.connect(self._on_metric)
        controller.projectChanged.connect(self._on_project_changed)
        self.refresh()

    # -- following the project -----------------------------------------------------------------

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if old.compile != new.compile:
            self.refresh()

    def refresh(self) -> None:
        spec = self.controller.project.compile
        self._updating = True
        try:
            opt = optimizer_def(spec.optimizer.type)
            if opt is not None:
                attach_search(self.controller, self.optimizer.show_spec(opt, spec.optimizer),
                              lambda name: f"compile.optimizer.{name}").refresh()
                attach_locks(self.controller, self.optimizer.form_for(opt.type),
                             lambda name: f"compile.optimizer.{name}").refresh()
            loss = loss_def(spec.loss.type)
            if loss is not None:
                attach_search(self.controller, self.loss.show_spec(loss, spec.loss),
                              lambda name: f"compile.loss.{name}").refresh()
                attach_locks(self.controller, self.loss.form_for(loss.type),
                             lambda name: f"compile.loss.{name}").refresh()
            chosen = {d.type for d in (metric_def(m.type) for m in spec.metrics) if d}
            for row in range(self.metrics.count()):
                item = self.metrics.item(row)
                state = Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in chosen \
                    else Qt.CheckState.Unchecked
                if item.checkState() != state:
                    item.setCheckState(state)
        finally:
            self._updating = False

    # -- edits ---------------------------------------------------------------------------------

    def _compile(self):
        return self.controller.project.compile

    @Slot(int)
    def _on_optimizer(self, _index: int) -> None:
        if self._updating:
            return
        new_def = self.optimizer.current_def()
        old = self._compile().optimizer
        spec = ObjectSpec(new_def.type, kept_args(old, new_def))
        self.controller.set_compile(replace(self._compile(), optimizer=spec),
                                    f"Use optimizer {new_def.type}")

    @Slot(int)
    def _on_loss(self, _index: int) -> None:
        if self._updating:
            return
        new_def = self.loss.current_def()
        old = self._compile().loss
        spec = ObjectSpec(new_def.alias, kept_args(old, new_def))
        self.controller.set_compile(replace(self._compile(), loss=spec), f"Use loss {new_def.alias}")

    @Slot(str, object)
    def _on_optimizer_arg(self, name: str, value: Any) -> None:
        spec = self._compile().optimizer
        definition = optimizer_def(spec.type)
        if definition is None:
            return
        self.controller.set_compile(
            replace(self._compile(), optimizer=set_object_arg(spec, definition, name, value)),
            f"Set {name}", merge_key=f"compile.optimizer.{name}")

    @Slot(str, object)
    def _on_loss_arg(self, name: str, value: Any) -> None:
        spec = self._compile().loss
        definition = loss_def(spec.type)
        if definition is None:
            return
        self.controller.set_compile(
            replace(self._compile(), loss=set_object_arg(spec, definition, name, value)),
            f"Set {name}", merge_key=f"compile.loss.{name}")

    @Slot(str)
    def _on_finished(self, _name: str) -> None:
        self.controller.end_merge()

    @Slot(QListWidgetItem)
    def _on_metric(self, item: QListWidgetItem) -> None:
        if self._updating:
            return
        type_name = item.data(Qt.ItemDataRole.UserRole)
        definition = METRICS[type_name]
        metrics = list(self._compile().metrics)
        if item.checkState() == Qt.CheckState.Checked:
            if not any((d := metric_def(m.type)) and d.type == type_name for m in metrics):
                metrics.append(ObjectSpec(definition.alias))
            text = f"Add metric {definition.alias}"
        else:
            metrics = [m for m in metrics if not ((d := metric_def(m.type)) and d.type == type_name)]
            text = f"Remove metric {definition.alias}"
        self.controller.set_compile(replace(self._compile(), metrics=tuple(metrics)), text)
