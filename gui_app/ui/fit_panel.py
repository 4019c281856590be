"""The fit panel: epochs, batch size, virtual epochs, class weights and callbacks."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import CALLBACKS, Param
from ..core.project import FIT_DEFAULTS, FIT_PARAMS
from ..core.spec import ObjectSpec, Project
from .compile_panel import section_label, set_object_arg
from .controller import ProjectController
from .fields import FittedStack, PanelScroll, ParamForm, guard_wheel
from .findings_view import FindingsView
from .lesson_locks import attach_locks
from .search_fields import attach_search

VIRTUAL_PARAMS = [
    Param("stop_point", "float", 1.0,
          "How many times the model sees the whole training data in total.",
          min=0.0, min_exclusive=True),
    Param("checkpoints", "int", 10,
          "How many short epochs those passes are cut into: one plot point, one callback "
          "check and one boundary snapshot each.", min=1, max=100_000),
]

#: Arguments a freshly added callback gets, so that it is valid at once.
CALLBACK_SUGGESTED: dict[str, dict[str, Any]] = {
    "EarlyStopping": {"patience": 5, "restore_best_weights": True},
    "ModelCheckpoint": {"filepath": "checkpoints/best.keras", "save_best_only": True},
    "ReduceLROnPlateau": {"patience": 5},
    "CSVLogger": {"filename": "training_log.csv"},
}


def make_forms() -> dict[str, ParamForm]:
    """The panel's two forms (9 ms of its 13): the window's start makes them on a turn of
    their own and hands them to `FitPanel`."""
    return {"form": ParamForm(FIT_PARAMS), "virtual_form": ParamForm(VIRTUAL_PARAMS)}


class FitPanel(PanelScroll):
    """Edits the project's `fit` settings."""

    def __init__(self, controller: ProjectController,
                 forms: dict[str, ParamForm] | None = None) -> None:
        super().__init__()
        forms = forms or make_forms()
        self.setObjectName("fitPanel")
        self.controller = controller
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)

        layout.addWidget(section_label("Training loop"))
        self.form = forms["form"]
        self.form.setObjectName("fitForm")
        attach_search(controller, self.form, lambda name: f"fit.{name}")
        attach_locks(controller, self.form, lambda name: f"fit.{name}")  # a lesson's locks
        layout.addWidget(self.form)

        self.virtual = QGroupBox("Virtual epochs")
        self.virtual.setObjectName("virtualEpochs")
        self.virtual.setCheckable(True)
        self.virtual.setToolTip("Cut training into short 'epochs' of a fixed number of steps, "
                                "so a big dataset still gives frequent plot points.")
        virtual_layout = QVBoxLayout(self.virtual)
        self.virtual_form = forms["virtual_form"]
        attach_locks(controller, self.virtual_form, lambda name: f"fit.virtual_epochs.{name}")
        virtual_layout.addWidget(self.virtual_form)
        layout.addWidget(self.virtual)

        weights_row = QHBoxLayout()
        weights_row.addWidget(QLabel("class_weight"))
        self.class_weight = QComboBox()
        self.class_weight.setObjectName("classWeightCombo")
        self.class_weight.addItem("none  (default)", None)
        self.class_weight.addItem("balanced", "balanced")
        self.class_weight.setToolTip("balanced: each class counts as much as the others, "
                                     "however few samples it has.")
        guard_wheel(self.class_weight)
        weights_row.addWidget(self.class_weight, 1)
        layout.addLayout(weights_row)

        layout.addWidget(section_label("Callbacks"))
        self.callbacks = QListWidget()
        self.callbacks.setObjectName("callbackList")
        self.callbacks.setToolTip("Run during training: stop early, save the best model, "
                                  "lower the learning rate, ...")
        self.callbacks.setMaximumHeight(90)
        layout.addWidget(self.callbacks)
        buttons = QHBoxLayout()
        self.add_button = QToolButton()
        self.add_button.setText("Add callback")
        self.add_button.setObjectName("addCallback")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.add_button)
        menu.setToolTipsVisible(True)
        for definition in CALLBACKS.values():
            action = QAction(definition.type, menu)
            action.setToolTip(definition.help)
            action.setData(definition.type)
            action.triggered.connect(self._on_add_action)
            menu.addAction(action)
        self.add_button.setMenu(menu)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected callback.")
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.callback_help = QLabel()
        self.callback_help.setWordWrap(True)
        layout.addWidget(self.callback_help)
        self.callback_forms = FittedStack()
        self._forms: dict[str, ParamForm] = {}
        self.callback_forms.addWidget(QWidget())
        layout.addWidget(self.callback_forms)
        self.findings = FindingsView(controller, lambda f: f.where.startswith("fit."))
        layout.addWidget(self.findings)
        layout.addStretch(1)
        self.setWidget(body)

        self._updating = False
        self.form.edited.connect(self._on_edited)
        self.form.finished.connect(self._on_finished)
        self.virtual.toggled.connect(self._on_virtual_toggled)
        self.virtual_form.edited.connect(self._on_virtual_edited)
        self.virtual_form.finished.connect(self._on_finished)
        self.class_weight.currentIndexChanged.connect(self._on_class_weight)
        self.callbacks.currentRowChanged.connect(self._show_callback)
        self.remove_button.clicked.connect(self._on_remove)
        controller.projectChanged.connect(self._on_project_changed)
        self.refresh()

    # -- following the project -----------------------------------------------------------------

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if old.fit != new.fit:
            self.refresh()

    def refresh(self) -> None:
        fit = {**FIT_DEFAULTS, **self.controller.project.fit}
        self._updating = True
        try:
            self.form.set_values(fit)
            virtual = fit.get("virtual_epochs")
            self.virtual.setChecked(bool(virtual))
            self.virtual_form.set_values(virtual or {})
            weight = fit.get("class_weight")
            index = self.class_weight.findData(weight) if not isinstance(weight, dict) else -1
            if isinstance(weight, dict):
                if self.class_weight.count() < 3:
                    self.class_weight.addItem("custom (from the project file)", "custom")
                index = 2
            self.class_weight.setCurrentIndex(max(index, 0))
            specs = self._callback_specs()
            row = self.callbacks.currentRow()
            self.callbacks.clear()
            for spec in specs:
                item = QListWidgetItem(spec.type)
                definition = CALLBACKS.get(spec.type)
                item.setToolTip(definition.help if definition else "")
                self.callbacks.addItem(item)
            if specs:
                self.callbacks.setCurrentRow(min(max(row, 0), len(specs) - 1))
            self._show_callback(self.callbacks.currentRow())
        finally:
            self._updating = False

    def _callback_specs(self) -> list[ObjectSpec]:
        return [ObjectSpec.from_json(c) for c in self.controller.project.fit.callbacks]

    def _form_for(self, type_name: str) -> ParamForm:
        form = self._forms.get(type_name)
        if form is None:
            form = ParamForm(CALLBACKS[type_name].params)
            form.edited.connect(self._on_callback_edited)
            form.finished.connect(self._on_finished)
            self._forms[type_name] = form
            self.callback_forms.addWidget(form)
        return form

    @Slot(int)
    def _show_callback(self, row: int) -> None:
        specs = self._callback_specs()
        self.remove_button.setEnabled(0 <= row < len(specs))
        if not 0 <= row < len(specs) or specs[row].type not in CALLBACKS:
            self.callback_forms.setCurrentIndex(0)
            self.callback_help.setText("" if specs else "No callbacks: training runs every epoch.")
            return
        definition = CALLBACKS[specs[row].type]
        self.callback_help.setText(definition.help)
        form = self._form_for(definition.type)
        form.set_values(specs[row].args)
        self.callback_forms.setCurrentWidget(form)

    # -- edits ---------------------------------------------------------------------------------

    @Slot(str, object)
    def _on_edited(self, name: str, value: Any) -> None:
        self.controller.set_fit({name: value}, f"Set {name}", merge_key=f"fit.{name}")

    @Slot(str)
    def _on_finished(self, _name: str) -> None:
        self.controller.end_merge()

    @Slot(bool)
    def _on_virtual_toggled(self, on: bool) -> None:
        if self._updating:
            return
        value = {"stop_point": 1.0, "checkpoints": 10} if on else None
        self.controller.set_fit({"virtual_epochs": value},
                                "Use virtual epochs" if on else "Stop using virtual epochs")

    @Slot(str, object)
    def _on_virtual_edited(self, name: str, value: Any) -> None:
        current = dict(self.controller.project.fit.virtual_epochs or
                       {"stop_point": 1.0, "checkpoints": 10})
        current[name] = value
        self.controller.set_fit({"virtual_epochs": current}, f"Set virtual epochs {name}",
                                merge_key=f"fit.virtual_epochs.{name}")

    @Slot(int)
    def _on_class_weight(self, _index: int) -> None:
        if self._updating:
            return
        value = self.class_weight.currentData()
        if value == "custom":
            return
        self.controller.set_fit({"class_weight": value}, "Set class_weight")

    @Slot()
    def _on_add_action(self) -> None:
        action = self.sender()
        if not isinstance(action, QAction):
            return
        self.add_callback(str(action.data()))

    def add_callback(self, type_name: str) -> None:
        spec = ObjectSpec(type_name, CALLBACK_SUGGESTED.get(type_name, {}))
        callbacks = list(self.controller.project.fit.callbacks) + [spec.to_json()]
        self.controller.set_fit({"callbacks": callbacks}, f"Add callback {type_name}")
        self.callbacks.setCurrentRow(len(callbacks) - 1)

    @Slot()
    def _on_remove(self) -> None:
        row = self.callbacks.currentRow()
        callbacks = list(self.controller.project.fit.callbacks)
        if 0 <= row < len(callbacks):
            removed = ObjectSpec.from_json(callbacks.pop(row)).type
            self.controller.set_fit({"callbacks": callbacks}, f"Remove callback {removed}")

    @Slot(str, object)
    def _on_callback_edited(self, name: str, value: Any) -> None:
        row = self.callbacks.currentRow()
        callbacks = list(self.controller.project.fit.callbacks)
        if not 0 <= row < len(callbacks):
            return
        spec = ObjectSpec.from_json(callbacks[row])
        callbacks[row] = set_object_arg(spec, CALLBACKS[spec.type], name, value).to_json()
        self.controller.set_fit({"callbacks": callbacks}, f"Set {spec.type} {name}",
                                merge_key=f"fit.callbacks[{row}].{name}")
