"""The layer palette: every supported layer, grouped, searchable, added by double-click or drag.

It is built from the catalog's snapshot, so it is complete before Keras has loaded.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QMimeData, QSize, Qt, Signal, Slot
from PySide6.QtGui import QDrag, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import layers_by_group
from .stack_model import MIME_LAYER_TYPE

GROUP_TITLES = {
    "core": "Core", "convolution": "Convolution", "pooling": "Pooling",
    "recurrent": "Recurrent", "normalisation": "Normalisation",
    "regularisation": "Regularisation", "reshaping": "Reshaping",
    "preprocessing": "Preprocessing", "augmentation": "Augmentation",
}
TYPE_ROLE = Qt.ItemDataRole.UserRole


class PaletteTree(QTreeWidget):
    """The grouped layer list; a drag carries the layer type, never the item itself."""

    enterPressed = Signal(QTreeWidgetItem, int)

    def __init__(self) -> None:
        super().__init__()
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setRootIsDecorated(True)
        self.setUniformRowHeights(True)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        # Enter adds the layer; itemActivated is not used because some desktops activate
        # on a single click, which would add a layer whenever one is merely looked at.
        item = self.currentItem()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and item is not None:
            self.enterPressed.emit(item, 0)
            return
        super().keyPressEvent(event)

    def startDrag(self, supported: Qt.DropAction) -> None:  # noqa: N802
        item = self.currentItem()
        type_name = item.data(0, TYPE_ROLE) if item is not None else None
        if not type_name:
            return
        mime = QMimeData()
        mime.setData(MIME_LAYER_TYPE, QByteArray(str(type_name).encode()))
        mime.setText(str(type_name))
        drag = QDrag(self)
        drag.setMimeData(mime)
        drag.exec(Qt.DropAction.CopyAction)  # a copy: the palette keeps its item


class Palette(QWidget):
    """Search box, grouped tree and a line of help for the highlighted layer."""

    addRequested = Signal(str)  # layer type

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("palette")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        self.search = QLineEdit()
        self.search.setObjectName("paletteSearch")
        self.search.setPlaceholderText("Search layers (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("Type part of a name or of what a layer does, e.g. 'conv' or "
                               "'drop'. Enter adds the first match.")
        self.tree = PaletteTree()
        self.tree.setObjectName("paletteTree")
        self.items: dict[str, QTreeWidgetItem] = {}
        self.groups: dict[str, QTreeWidgetItem] = {}
        for group, defs in layers_by_group().items():
            if not defs:
                continue
            parent = QTreeWidgetItem([GROUP_TITLES.get(group, group.capitalize())])
            parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = parent.font(0)
            font.setBold(True)
            parent.setFont(0, font)
            self.tree.addTopLevelItem(parent)
            self.groups[group] = parent
            for definition in defs:
                item = QTreeWidgetItem([definition.type])
                item.setData(0, TYPE_ROLE, definition.type)
                item.setToolTip(0, f"{definition.help}\nDouble-click or drag into the model "
                                   "to add it.")
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                parent.addChild(item)
                self.items[definition.type] = item
        self.tree.expandAll()
        self.help = QLabel("Double-click a layer to add it after the selected one, or drag it "
                           "to any place in the model.")
        self.help.setObjectName("paletteHelp")
        self.help.setWordWrap(True)
        self.help.setStyleSheet("color: palette(dark);")
        self.help.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.help)
        self._fit_width()
        self.search.textChanged.connect(self.filter)
        self.search.returnPressed.connect(self._add_first_match)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.currentItemChanged.connect(self._on_current)
        self.tree.enterPressed.connect(self._on_double_click)

    def preferred_width(self) -> int:
        """Wide enough for the longest name (GlobalAveragePooling2D) and a scroll bar: the
        width the window gives the palette when it has room."""
        longest = max(self.tree.fontMetrics().horizontalAdvance(t) for t in self.items)
        scrollbar = self.tree.verticalScrollBar().sizeHint().width()
        return longest + 2 * self.tree.indentation() + scrollbar + 24

    def _fit_width(self) -> None:
        # The minimum is about 12 characters, not the longest name: on a 1024-pixel screen
        # the palette must give way to the model and the training view. Longer names are
        # elided ("GlobalAveragePo..."), and their tooltips and the help line name them.
        scrollbar = self.tree.verticalScrollBar().sizeHint().width()
        least = self.fontMetrics().averageCharWidth() * 12 + self.tree.indentation() + scrollbar
        self.setMinimumWidth(min(least, self.preferred_width()))
        self.help.setMinimumHeight(self.help.fontMetrics().lineSpacing() * 4)
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().sizeHint()
        return QSize(self.preferred_width(), hint.height())

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "help"):
            self._fit_width()  # the text was scaled (View > Larger Text)

    def shortcut(self) -> QKeySequence:
        return QKeySequence.StandardKey.Find

    @Slot(str)
    def filter(self, text: str) -> None:
        """Shows the layers whose name or description contains every typed word."""
        words = text.lower().split()
        for group, parent in self.groups.items():
            shown = 0
            for i in range(parent.childCount()):
                item = parent.child(i)
                haystack = f"{item.text(0)} {item.toolTip(0)} {group}".lower()
                visible = all(w in haystack for w in words)
                item.setHidden(not visible)
                shown += visible
            parent.setHidden(shown == 0)
        self.tree.expandAll()

    def visible_types(self) -> list[str]:
        return [t for t, item in self.items.items() if not item.isHidden()
                and not item.parent().isHidden()]

    @Slot()
    def _add_first_match(self) -> None:
        visible = self.visible_types()
        if visible:
            self.addRequested.emit(visible[0])

    @Slot(QTreeWidgetItem, int)
    def _on_double_click(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.addRequested.emit(str(type_name))

    @Slot(QTreeWidgetItem, QTreeWidgetItem)
    def _on_current(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        if item is not None and item.data(0, TYPE_ROLE):
            self.help.setText(f"<b>{item.text(0)}</b>: {item.toolTip(0).splitlines()[0]}")
