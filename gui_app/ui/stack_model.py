"""The layer stack as a Qt table: a thin adapter over the controller's frozen ModelSpec.

Row 0 is the model's input (its shape is editable in place); row i + 1 is layer i. Each row
shows the layer, its main settings, the output shape and the parameter count from the
core's summary, so the stack and the live summary are one table and cannot disagree.

The model keeps its own copy of the layer tuple and turns each project change into the
smallest Qt notification it can find (insert, remove, move or change of rows, see
`diff_layers`), so the selection and the scroll position survive edits and undo.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QEvent,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
    Slot,
)
from PySide6.QtGui import QBrush, QColor, QDropEvent, QFont, QIcon
from PySide6.QtWidgets import QAbstractItemView, QApplication, QHeaderView, QStyle, QTableView

from ..core.catalog import LAYERS
from ..core.checks import ERROR, INFO, WARNING, Finding
from ..core.search_text import describe_dim, layer_dims, short_dim
from ..core.spec import LayerSpec, Project
from ..core.summary import LayerRow, check_input_shape, format_shape
from .controller import ProjectController

MIME_LAYER_ROWS = "application/x-layerlab-layer-rows"
MIME_LAYER_TYPE = "application/x-layerlab-layer-type"
COL_LAYER, COL_SETTINGS, COL_SHAPE, COL_PARAMS = range(4)
HEADERS = ("Layer", "Settings", "Output shape", "Params")
#: Rows the layer table always has room for: during a run the training view takes most of
#: the window's height, and the model being trained must stay readable beside it.
MIN_VISIBLE_ROWS = 5
ERROR_COLOR = QColor("#c62828")
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class RowOp:
    """One row notification: ("insert"|"remove"|"change", first, count) or ("move", src, dst)."""

    kind: str
    first: int
    count: int = 1
    dest: int = 0


def diff_layers(old: Sequence[LayerSpec], new: Sequence[LayerSpec]) -> list[RowOp]:
    """The notifications that turn `old` into `new` (layer indices, not table rows).

    Recognises the edits the editor makes: one run of inserted or removed layers, a single
    layer (or a block, seen as the one layer it jumps over) moved, changed layers in place.
    Anything else becomes a removal and an insertion of the middle part, which is still
    correct, just less gentle to the selection.
    """
    n_old, n_new = len(old), len(new)
    prefix = 0
    while prefix < min(n_old, n_new) and old[prefix] == new[prefix]:
        prefix += 1
    suffix = 0
    while suffix < min(n_old, n_new) - prefix and old[n_old - 1 - suffix] == new[n_new - 1 - suffix]:
        suffix += 1
    mid_old = list(old[prefix:n_old - suffix])
    mid_new = list(new[prefix:n_new - suffix])
    if not mid_old and not mid_new:
        return []
    if not mid_old:
        return [RowOp("insert", prefix, len(mid_new))]
    if not mid_new:
        return [RowOp("remove", prefix, len(mid_old))]
    if len(mid_old) == len(mid_new):
        size = len(mid_old)
        if size > 1 and mid_old[1:] + mid_old[:1] == mid_new:  # first one moved to the end
            return [RowOp("move", prefix, 1, prefix + size)]
        if size > 1 and mid_old[-1:] + mid_old[:-1] == mid_new:  # last one moved to the front
            return [RowOp("move", prefix + size - 1, 1, prefix)]
        return [RowOp("change", prefix, size)]
    return [RowOp("remove", prefix, len(mid_old)), RowOp("insert", prefix, len(mid_new))]


def layer_settings_text(layer: LayerSpec) -> str:
    """A short line of a layer's settings for the table: `8, relu` or `16, 3, strides=2, relu`."""
    definition = LAYERS.get(layer.type)
    if definition is None:
        return ""
    parts: list[str] = []
    for param in definition.params:
        if param.name == "name":
            continue
        if param.name == "activation":  # always shown: it is half of what a layer does
            value = layer.args.get("activation", None if param.required else param.default)
            parts.append("linear" if value is None else str(value))
        elif param.name in layer.args:
            value = layer.args[param.name]
            if param.name == "layer" and isinstance(value, dict):
                parts.append(f"{value.get('type', '?')}({value.get('units', '?')})")
            elif param.required:
                parts.append(_short(value))
            else:
                parts.append(f"{param.name}={_short(value)}")
    return ", ".join(parts)


def _short(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(_short(v) for v in value) + ")"
    return str(value)


def parse_shape(text: str) -> tuple[tuple[int | None, ...] | None, str | None]:
    """Reads an input shape as typed ("2", "28, 28, 1", "None, 8"); returns (shape, problem)."""
    cleaned = text.strip().strip("()[]").replace("x", ",").replace("×", ",")
    items = [item.strip() for item in cleaned.replace(" ", ",").split(",") if item.strip()]
    if not items:
        return None, ("Expected the size of one sample, such as 2 or 28, 28, 1, got nothing. "
                      "Type the sizes separated by commas.")
    shape: list[int | None] = []
    for item in items:
        if item.lower() in ("none", "null", "?"):
            shape.append(None)
            continue
        try:
            shape.append(int(item))
        except ValueError:
            return None, (f"Expected whole numbers (or None for any length), got {item!r}. "
                          "Type sizes like 28, 28, 1.")
    problem = check_input_shape(shape)
    if problem:
        return None, problem
    return tuple(shape), None


def format_input_text(shape: Sequence[int | None]) -> str:
    return ", ".join("None" if d is None else str(d) for d in shape)


def severity_icon(severity: str) -> QIcon:
    style = QApplication.style()
    pixmap = {
        ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
        WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
        INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    }[severity]
    return style.standardIcon(pixmap)


class LayerStackModel(QAbstractTableModel):
    """Rows: the input, then the layers; columns: layer, settings, output shape, params."""

    def __init__(self, controller: ProjectController) -> None:
        super().__init__(controller)
        self.controller = controller
        self._layers: tuple[LayerSpec, ...] = controller.project.model.layers
        # The summary rows shown, aligned with _layers. While a change is being announced
        # row by row, the rows not yet announced keep showing their old summary, as Qt's
        # model contract requires (names like dense_1 renumber only in the final refresh).
        self._summary_rows: list[LayerRow | None] = list(controller.summary.rows)
        self._row_findings: dict[int, list[Finding]] = {}
        self._input_findings: list[Finding] = []
        self._icons: dict[str, QIcon] = {}
        self.last_problem: str | None = None  # why the last typed input shape was refused
        self.dropped: list[int] = []  # layer indices of the last drop, for the view to select
        self._bold = QFont()
        self._bold.setBold(True)
        self._collect_findings()
        controller.projectChanged.connect(self._on_project_changed)
        controller.derivedChanged.connect(self._on_derived_changed)

    # -- Qt model interface ------------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(self._layers) + 1

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008,N802
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return HEADERS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return ("The layer's name and Keras class", "Its main settings",
                        "The shape of its output; None is the batch size",
                        "Number of weights it learns")[section]
        elif role == Qt.ItemDataRole.DisplayRole:
            return str(section) if section else "in"
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if index.row() == 0:
            if index.column() == COL_SHAPE:
                base |= Qt.ItemFlag.ItemIsEditable
            return base
        return base | Qt.ItemFlag.ItemIsDragEnabled

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if row == 0:
            return self._input_data(col, role)
        i = row - 1
        if i >= len(self._layers):
            return None
        layer = self._layers[i]
        summary_row = self._summary_rows[i] if i < len(self._summary_rows) else None
        findings = self._row_findings.get(i, [])
        if role == Qt.ItemDataRole.DisplayRole:
            if col == COL_LAYER:
                name = summary_row.name if summary_row else layer.type.lower()
                return f"{name} ({layer.type})"
            if col == COL_SETTINGS:
                searched = layer_dims(self.controller.project.search, i)
                return layer_settings_text(layer) + (
                    "  [search: " + ", ".join(short_dim(d) for d in searched) + "]"
                    if searched else "")
            if col == COL_SHAPE:
                if summary_row is None or summary_row.output_shape is None:
                    return "error" if summary_row is not None and summary_row.error else "?"
                return format_shape(summary_row.output_shape)
            if col == COL_PARAMS:
                if summary_row is None or summary_row.params is None:
                    return "?"
                return f"{summary_row.params:,}"
        elif role == Qt.ItemDataRole.DecorationRole and col == COL_LAYER and findings:
            return self._icon(findings[0].severity)
        elif role == Qt.ItemDataRole.ToolTipRole:
            lines = []
            definition = LAYERS.get(layer.type)
            if summary_row is not None and summary_row.error:
                lines.append(summary_row.error)
            lines += [f"{f.severity.capitalize()}: {f.message}" for f in findings
                      if not (summary_row is not None and f.message == summary_row.error)]
            if col == COL_PARAMS and summary_row is not None and summary_row.explanation:
                lines.append(summary_row.explanation)
            if not lines and definition is not None:
                lines.append(definition.help)
            lines += [f"Searched (Training > Search...): {describe_dim(d)}"
                      for d in layer_dims(self.controller.project.search, i)]
            return "\n".join(lines)
        elif role == Qt.ItemDataRole.ForegroundRole:
            if summary_row is not None and summary_row.error or any(
                    f.severity == ERROR for f in findings):
                return QBrush(ERROR_COLOR)
        elif role == Qt.ItemDataRole.TextAlignmentRole and col == COL_PARAMS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _input_data(self, col: int, role: int) -> Any:
        shape = self.controller.project.model.input_shape
        if role == Qt.ItemDataRole.DisplayRole:
            return {COL_LAYER: "Input", COL_SETTINGS: "one sample's shape",
                    COL_SHAPE: format_shape((None, *shape)), COL_PARAMS: "0"}[col]
        if role == Qt.ItemDataRole.EditRole and col == COL_SHAPE:
            return format_input_text(shape)
        if role == Qt.ItemDataRole.DecorationRole and col == COL_LAYER and self._input_findings:
            return self._icon(self._input_findings[0].severity)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f.message for f in self._input_findings]
            lines.append("The shape of one sample, without the batch axis. Double-click the "
                         "output shape (or use the inspector) to change it.")
            return "\n".join(lines)
        if role == Qt.ItemDataRole.FontRole and col == COL_LAYER:
            return self._bold
        if role == Qt.ItemDataRole.ForegroundRole and self._input_findings and \
                self._input_findings[0].severity == ERROR:
            return QBrush(ERROR_COLOR)
        if role == Qt.ItemDataRole.TextAlignmentRole and col == COL_PARAMS:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or index.row() != 0 or index.column() != COL_SHAPE \
                or role != Qt.ItemDataRole.EditRole:
            return False
        shape, problem = parse_shape(str(value))
        if shape is None:
            self.last_problem = problem
            return False
        self.last_problem = None
        self.controller.set_input_shape(shape)
        self.controller.end_merge()
        return True

    # -- drag and drop -----------------------------------------------------------------------

    def supportedDropActions(self) -> Qt.DropAction:  # noqa: N802
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_LAYER_ROWS, MIME_LAYER_TYPE]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:  # noqa: N802
        rows = sorted({ix.row() - 1 for ix in indexes if ix.isValid() and ix.row() > 0})
        mime = QMimeData()
        mime.setData(MIME_LAYER_ROWS, QByteArray(json.dumps(rows).encode()))
        return mime

    def canDropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
                        column: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        return data.hasFormat(MIME_LAYER_ROWS) or data.hasFormat(MIME_LAYER_TYPE)

    def dropMimeData(self, data: QMimeData, action: Qt.DropAction, row: int,  # noqa: N802
                     column: int, parent: QModelIndex | QPersistentModelIndex) -> bool:
        """Adds a palette layer or moves rows; `row` is the table row to drop before."""
        if action == Qt.DropAction.IgnoreAction:
            return True
        if row < 0:
            row = parent.row() if parent.isValid() else self.rowCount()
        dest = max(0, row - 1)  # nothing goes above the input row
        self.dropped = []
        if data.hasFormat(MIME_LAYER_TYPE):
            type_name = bytes(data.data(MIME_LAYER_TYPE).data()).decode()
            if type_name not in LAYERS:
                return False
            self.dropped = [self.controller.add_layer(type_name, dest)]
            return True
        if data.hasFormat(MIME_LAYER_ROWS):
            try:
                rows = [int(r) for r in json.loads(bytes(data.data(MIME_LAYER_ROWS).data()))]
            except (ValueError, TypeError):
                return False
            rows = [r for r in rows if 0 <= r < len(self._layers)]
            if not rows:
                return False
            self.dropped = self.controller.move_layers(rows, dest)
            return True
        return False

    # -- following the controller -------------------------------------------------------------

    def _icon(self, severity: str) -> QIcon:
        if severity not in self._icons:
            self._icons[severity] = severity_icon(severity)
        return self._icons[severity]

    def _collect_findings(self) -> None:
        rows: dict[int, list[Finding]] = {}
        for finding in self.controller.findings:
            if finding.layer_index is not None:
                rows.setdefault(finding.layer_index, []).append(finding)
        for items in rows.values():
            items.sort(key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
        self._row_findings = rows
        self._input_findings = [f for f in self.controller.findings if f.where == "model.input_shape"]

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        target = new.model.layers
        new_rows: list[LayerRow | None] = list(self.controller.summary.rows)
        new_rows += [None] * (len(target) - len(new_rows))
        if target is self._layers or target == self._layers:
            self._layers, self._summary_rows = target, new_rows
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(self.rowCount() - 1, len(HEADERS) - 1))
            return
        for op in diff_layers(self._layers, target):
            layers, rows = list(self._layers), list(self._summary_rows)
            span = slice(op.first, op.first + op.count)
            if op.kind == "insert":
                self.beginInsertRows(QModelIndex(), op.first + 1, op.first + op.count)
                layers[op.first:op.first] = target[span]
                rows[op.first:op.first] = new_rows[span]
                self._layers, self._summary_rows = tuple(layers), rows
                self.endInsertRows()
            elif op.kind == "remove":
                self.beginRemoveRows(QModelIndex(), op.first + 1, op.first + op.count)
                del layers[span], rows[span]
                self._layers, self._summary_rows = tuple(layers), rows
                self.endRemoveRows()
            elif op.kind == "move":
                self.beginMoveRows(QModelIndex(), op.first + 1, op.first + 1, QModelIndex(),
                                   op.dest + 1)
                at = op.dest - 1 if op.dest > op.first else op.dest
                layers.insert(at, layers.pop(op.first))
                rows.insert(at, rows.pop(op.first))
                self._layers, self._summary_rows = tuple(layers), rows
                self.endMoveRows()
            else:
                layers[span], rows[span] = target[span], new_rows[span]
                self._layers, self._summary_rows = tuple(layers), rows
        self._layers, self._summary_rows = target, new_rows  # identity for the fast path
        # names (dense_1), shapes and counts below an edit change too: refresh every row's text
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(HEADERS) - 1))

    @Slot()
    def _on_derived_changed(self) -> None:
        rows: list[LayerRow | None] = list(self.controller.summary.rows)
        self._summary_rows = rows + [None] * (len(self._layers) - len(rows))
        self._collect_findings()
        self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(HEADERS) - 1))


class LayerTable(QTableView):
    """The layer stack view: rows drag to reorder, palette items drop in, input row editable."""

    def __init__(self, model: LayerStackModel) -> None:
        super().__init__()
        self.setObjectName("layerTable")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropOverwriteMode(False)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                             | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.horizontalHeader()
        header.setSectionResizeMode(COL_LAYER, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_SETTINGS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(COL_SHAPE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(COL_PARAMS, QHeaderView.ResizeMode.ResizeToContents)
        header.setHighlightSections(False)
        # The Layer column starts wide enough for "dense_1 (Dense)"; it shrinks with the
        # window instead of holding it wide (Stretch on Settings takes what is left).
        header.setMinimumSectionSize(40)
        self.setColumnWidth(COL_LAYER, self.fontMetrics().averageCharWidth() * 30)
        self._fit_rows()
        self.setToolTip("The model, top to bottom. Drag rows to reorder (or Alt+Up/Down), "
                        "drop layers from the palette, Delete removes, Ctrl+D duplicates.")

    def _fit_rows(self) -> None:
        """Rows one line of text tall plus a little air, following the text size: the
        style's fixed 30 px rows waste a sixth of the table at normal size."""
        metrics = self.fontMetrics()
        self.verticalHeader().setDefaultSectionSize(max(22, metrics.lineSpacing() + 9))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_rows()
            self.updateGeometry()
            # The header takes the new font after the table: ask the layout again then.
            # (with the table as the context: a table deleted meanwhile gets no call)
            QTimer.singleShot(0, self, self.updateGeometry)

    def rows_height(self, rows: int) -> int:
        """The height the table needs to show `rows` whole rows under its header."""
        header = self.horizontalHeader().sizeHint().height()
        frame = 2 * self.frameWidth()
        return header + rows * self.verticalHeader().defaultSectionSize() + frame

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Never fewer than MIN_VISIBLE_ROWS rows (the layout shrinks other things first),
        nor narrower than about 30 characters (a layer name and its settings)."""
        hint = super().minimumSizeHint()
        width = max(hint.width(), self.fontMetrics().averageCharWidth() * 30)
        return QSize(width, max(hint.height(), self.rows_height(MIN_VISIBLE_ROWS)))

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        model = self.layer_model()
        model.dropped = []
        super().dropEvent(event)
        if model.dropped:  # select what was dropped, where it landed
            self.select_layers(model.dropped)
            model.dropped = []

    def layer_model(self) -> LayerStackModel:
        model = self.model()
        assert isinstance(model, LayerStackModel)
        return model

    def selected_layers(self) -> list[int]:
        """Indices of the selected layers (the input row is not a layer)."""
        rows = {ix.row() for ix in self.selectionModel().selectedRows()}
        return sorted(r - 1 for r in rows if r > 0)

    def select_layers(self, indices: Sequence[int]) -> None:
        self.select_rows([i + 1 for i in indices])

    def select_rows(self, rows: Sequence[int]) -> None:
        selection = self.selectionModel()
        model = self.model()
        selection.clearSelection()
        valid = [r for r in rows if 0 <= r < model.rowCount()]
        if not valid:
            return
        flags = (selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        for r in valid:
            selection.select(model.index(r, 0), flags)
        selection.setCurrentIndex(model.index(valid[-1], 0), selection.SelectionFlag.NoUpdate)
        self.scrollTo(model.index(valid[-1], 0))
