"""The LayerLab main window: palette, layer stack with live summary, inspector, compile,
data and fit panels, live code, and a place for training (filled by the training issue).

Layout (docks can be moved, closed and restored from View; the layout persists):

    +----------+---------------------------+------------------------+
    | Layers   | Model: the stack as a     | Inspector              |
    | (palette)| table with output shapes  +------------------------+
    |          | and params; totals; all   | [Compile | Data | Fit] |
    |          | findings with fixes       |                        |
    +----------+---------------------------+                        |
    | Code | Training (tabs)              |                        |
    +--------------------------------------+------------------------+

The Code / Training tabs run under the palette too: the training tool bar and the plots
need the width more than the palette needs the height (a 1024-pixel screen is the target).

Fitting small screens (1024x768, 1280x720): no widget may hold the window wider or taller
than that. Long names are elided (palette), long text wraps (totals, titles, findings),
panels that cannot shrink scroll instead (the setup panels sideways past about 42
characters, the training view when its dock is smaller than it). The model table always
keeps room for five rows; the checks below it take only the height their findings need.

View > Present (F5) shows the training view alone, full screen (presenter.py); View >
Larger Text / Smaller Text / Normal Size scale all text from 1x to 2x (text_scale.py).

Everything edits through one ProjectController; the window itself only wires actions,
selection and files together.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QEvent, QObject, QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
    QKeyEvent,
    QKeySequence,
    QPaintEvent,
    QResizeEvent,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QScrollArea,
    QSplitter,
    QStatusBar,
    QStyle,
    QStyleOptionDockWidget,
    QStylePainter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core import catalog
from ..core.project import SUFFIX, OutsidePathsError, load_project, save_project
from ..core.spec import Project, default_project
from ..core.summary import format_bytes, format_shape
from ..core.templates import TEMPLATES, template
from . import mailbox, qt_types
from . import messages as say
from .code_pane import CodePane
from .compile_panel import CompilePanel
from .controller import ProjectController
from .device_picker import SETTINGS_KEY as DEVICE_KEY
from .device_picker import DeviceBinding, DevicePicker
from .file_actions import FileActions
from .findings_view import FindingsView
from .frames import after_paint, next_turn
from .guard import ask_outside, guarded, load_consented
from .inspector import Inspector
from .keras_loader import KerasLoader, import_plotting, import_quietly
from .palette import Palette
from .presenter import Presenter
from .settings import (
    add_recent_file,
    app_settings,
    recent_files,
    set_text_scale_setting,
    text_scale_setting,
)
from .stack_model import ERROR_COLOR, LayerStackModel, LayerTable
from .text_scale import MAX_SCALE, MIN_SCALE, TextScale, relative_font, text_scale
from .training_controller import TrainingController

#: The name of a project that was never saved; saving names it after its file.
if TYPE_CHECKING:
    from .data_panel import DataPanel
    from .fit_panel import FitPanel
    from .training_panel import TrainingPanel

UNTITLED = "Untitled"
#: The window's parts that are not on screen when it first shows (the Data and Fit tabs
#: behind Compile, the Training tab behind Code): their modules are imported on a worker
#: thread once the first frame is painted, and each part is made on a turn of the event
#: loop of its own (`_build_later`). The window showed 0.15 s sooner. Asking for one of
#: them before that (`window.training_panel`) makes it at once.
#: Attributes that the parts made after the first paint set, and the part each comes with.
_MADE_WITH = {"lr_finder": "training_panel", "compare": "training_panel",
              "step_through": "training_panel", "search": "training_panel"}
LATER_MODULES = ("data_panel", "fit_panel", "training_panel", "lr_finder", "compare",
                 "step_through", "search_view")
# 2: the bottom docks run under the palette (the corners are part of the saved state), and
# layouts saved by version 1 could hold docks too wide for a small screen: start afresh.
STATE_VERSION = 2
#: The window's first paint normally follows its show() within a few screen refreshes.
FIRST_PAINT_TIMEOUT_MS = 500
DEFAULT_SIZE = QSize(1440, 900)
#: Share of the centre the checks may take before they scroll (the table keeps the rest).
CHECKS_MAX_SHARE = 0.45
PROJECT_FILTER = f"LayerLab projects (*{SUFFIX});;JSON files (*.json);;All files (*)"


class StackTable(LayerTable):
    """The layer table with the editing keys handled even where shortcuts do not reach."""

    keyAction = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, mods = event.key(), event.modifiers()
        alt = mods & Qt.KeyboardModifier.AltModifier
        ctrl = mods & Qt.KeyboardModifier.ControlModifier
        if alt and key == Qt.Key.Key_Up:
            self.keyAction.emit("up")
        elif alt and key == Qt.Key.Key_Down:
            self.keyAction.emit("down")
        elif key == Qt.Key.Key_Delete and not (alt or ctrl):
            self.keyAction.emit("delete")
        elif ctrl and key == Qt.Key.Key_D:
            self.keyAction.emit("duplicate")
        else:
            super().keyPressEvent(event)


class _PageHolder(QWidget):
    """A tab's page until its panel is made (LATER_MODULES), then the panel's frame. It
    asks for the room `least` (the Compile panel's minimum) meanwhile, so the dock keeps
    its size when the panel comes."""

    def __init__(self, least: QSize) -> None:
        super().__init__()
        self.panel: QWidget | None = None
        self._least = least
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)

    def take(self, panel: QWidget) -> None:
        self.panel = panel
        self.layout().addWidget(panel)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        if self.panel is not None:
            return super().minimumSizeHint()
        return self._least


class _SetupTabs(QTabWidget):
    """The Compile, Data and Fit tabs; `setCurrentWidget` also takes a panel inside a
    tab's holder (the Data and Fit panels are made after the first paint)."""

    def setCurrentWidget(self, widget: QWidget) -> None:  # noqa: N802 - Qt's name
        for index in range(self.count()):
            page = self.widget(index)
            if page is widget or (isinstance(page, _PageHolder) and page.panel is widget):
                self.setCurrentIndex(index)
                return
        super().setCurrentWidget(widget)


class _Dock(QDockWidget):
    """A dock whose title follows View > Larger Text.

    QDockWidget paints its title with the font it read when it was made (Qt 6 keeps it
    apart and never updates it), so after Ctrl++ the titles stayed small while their bars
    grew. A docked title is painted here with the dock's current font instead.
    """

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        if self.isFloating() or self.titleBarWidget() is not None:
            super().paintEvent(event)  # a window's frame, or a custom (presenter) title
            return
        painter = QStylePainter(self)
        option = QStyleOptionDockWidget()
        self.initStyleOption(option)
        painter.drawControl(QStyle.ControlElement.CE_DockWidgetTitle, option)


class _NoHeightForWidthLayout(QVBoxLayout):
    """A layout that hides its content's height-for-width from a scroll area above it.

    QScrollArea sizes a widget whose layout has height-for-width to the *preferred* height
    for the width, so the training view (its messages wrap) would scroll whenever its dock
    is shorter than the comfortable size, not only when shorter than its minimum.
    """

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return False


class _ViewScroll(QScrollArea):
    """Scrolls the training view only when its dock is smaller than the view's minimum;
    never smaller itself than a tool bar row and a few lines of plot (40 x 6 characters),
    so the Training dock cannot be squeezed to nothing."""

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        metrics = self.fontMetrics()
        return QSize(metrics.averageCharWidth() * 40, metrics.lineSpacing() * 6)


class _ModelArea(QWidget):
    """The centre's top part: banners, the title, the table, the totals.

    Its minimum counts wrapped lines at the current width: the splitter above asks only
    for a minimum (it knows nothing of height-for-width), and the lock banner wrapped onto
    two lines at large text would otherwise take its second line from the five table rows.
    """

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        hint = super().minimumSizeHint()
        layout = self.layout()
        if layout is None or self.width() <= 0:
            return hint
        margins = layout.contentsMargins()
        inner = self.width() - margins.left() - margins.right()
        height, shown = margins.top() + margins.bottom(), 0
        for i in range(layout.count()):
            widget = layout.itemAt(i).widget()
            if widget is None or widget.isHidden():
                continue
            shown += 1
            if widget.hasHeightForWidth():
                height += max(widget.heightForWidth(inner), widget.minimumSizeHint().height())
            else:
                height += max(widget.minimumSizeHint().height(), widget.minimumHeight())
        height += max(0, shown - 1) * layout.spacing()
        return QSize(hint.width(), max(hint.height(), height))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()  # wrapped lines changed: the minimum did too


class ChecksArea(QScrollArea):
    """"Checks before training": as tall as its findings need, scrolling past a share of
    the centre, so the model table above keeps the rest (five rows at least)."""

    def __init__(self, body: QWidget, title: QLabel) -> None:
        super().__init__()
        self.setObjectName("checksArea")
        self.title = title
        self.setWidgetResizable(True)
        # Sideways only as a last resort: a finding quoting a long path cannot wrap.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setWidget(body)

    def wanted_height(self, width: int | None = None) -> int:
        """The height that shows every finding at `width` (the current width by default)."""
        body = self.widget()
        if width is None or width <= 0:
            width = self.viewport().width() if self.viewport().width() > 0 else body.width()
        layout = body.layout()
        height = layout.heightForWidth(width) if layout.hasHeightForWidth() else -1
        if height < 0:
            height = body.sizeHint().height()
        return height + 2 * self.frameWidth()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(super().sizeHint().width(), self.wanted_height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """All of a short list ("No problems found"), else the title and two lines."""
        layout = self.widget().layout()
        margins = layout.contentsMargins()
        two_lines = (self.title.sizeHint().height() + 2 * self.fontMetrics().lineSpacing()
                     + 2 * layout.spacing() + margins.top() + margins.bottom()
                     + 2 * self.frameWidth())
        return QSize(super().minimumSizeHint().width(), min(self.wanted_height(), two_lines))


class MainWindow(QMainWindow):
    """The editor window. `firstShown` fires once the window is on screen."""

    firstShown = Signal()
    partMade = Signal(str)  # "data_panel", "fit_panel" or "training_panel" was made
    kerasReady = Signal()

    def __init__(self, project: Project | None = None, path: str | os.PathLike | None = None,
                 load_keras: bool = True) -> None:
        super().__init__()
        self.setObjectName("mainWindow")
        self.settings = app_settings()
        self.controller = ProjectController(project or default_project(), self)
        if path is not None:
            self.controller.path = Path(path)
        self.load_keras = load_keras
        self.keras_ready = False
        self.keras_version: str | None = None
        self._shown_once = False
        self._training_sized = False
        self._training_room_asked = 0  # the height _make_room_for_training last asked for
        self._raise_pending = False  # the Training tab comes to the front on the next frame
        self._keras_thread: KerasLoader | None = None
        # Set from the engine's hello (`_on_engine_ready`): this process never reads Keras.
        self._keras_sync: Callable[[], list[str]] = list
        # The run's owner: the engine process (Keras loads and trains there, never in this
        # process), the device, the run state and the editing lock.
        self.training = TrainingController(self.controller, self)
        self.engine_link = self.training.link
        self.engine_link.ready.connect(self._on_engine_ready)
        self.engine_link.died.connect(self._on_engine_died)
        self.engine_link.hung.connect(self._on_engine_hung)
        self.engine_link.cannotStart.connect(self._on_keras_failed)
        self.last_dialog: QMessageBox | None = None
        # Made after the first paint, or when first asked for (see LATER_MODULES).
        self._data_panel: DataPanel | None = None
        self._fit_panel: FitPanel | None = None
        self._training_panel: TrainingPanel | None = None
        self._later_started = False
        self._chain_running = False  # _build_later's steps are under way
        self._preview_asked = False  # the data preview was made, or asked for
        # Made a turn ahead of their part (_later_steps): "data" and "fit", a panel's forms;
        # "preview", the data preview's plot widget.
        self._ahead: dict[str, Any] = {}
        self._shut = False  # shutdown() ran: nothing more is made or started
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)
        # The remembered text size first: the widgets below size themselves from the font.
        self.text_scale: TextScale = text_scale()
        self.text_scale.set_factor(text_scale_setting(self.settings))
        self._checks_manual = False  # the person dragged the model/checks divider
        self._checks_key: tuple = ()

        self._build_center()
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_status()
        self._connect()
        # Lessons, model import/export, trained weights, exports, drops, autosave, recovery.
        self.files = FileActions(self)
        self._restore_settings()
        # Its entries come with the training panel (`_install_training_panel`).
        self.training_menu = self.menuBar().addMenu("&Training")
        self.training_menu.setObjectName("trainingMenu")
        self.training_menu.setToolTipsVisible(True)
        self.training.lockedChanged.connect(self._on_training_locked)
        self.training.lockedChanged.connect(self.files.lesson_panel.set_running)
        self.training.message.connect(self.statusBar().showMessage)
        # CPU / one GPU / all GPUs, in the status bar (its Device submenu comes with the
        # engine's list of devices, after the training entries).
        self._install_device_picker()
        self._update_title()
        self._update_totals()
        # Start with the first layer selected: the inspector then shows a real form, and a
        # double-clicked palette layer lands after it, as a new hidden layer.
        self.table.select_layers([0] if self.controller.project.model.layers else [])
        self._sync_selection()

    # -- building ----------------------------------------------------------------------------

    def _build_center(self) -> None:
        self.stack_model = LayerStackModel(self.controller)
        self.table = StackTable(self.stack_model)
        self.totals = QLabel()
        self.totals.setObjectName("totals")
        font = self.totals.font()
        font.setBold(True)
        self.totals.setFont(font)
        # Wraps on a narrow centre instead of holding the window 450 px wide.
        self.totals.setWordWrap(True)
        self.totals.setToolTip("Weights size at 4 bytes per parameter (float32).")
        self.row_explain = QLabel()
        self.row_explain.setObjectName("rowExplanation")
        self.row_explain.setWordWrap(True)
        self.row_explain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.all_findings = FindingsView(self.controller, lambda f: True,
                                         empty_text="No problems found: the model is ready to "
                                                    "train.")
        self.all_findings.setObjectName("allFindings")

        top = _ModelArea()
        top.setObjectName("modelArea")
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(6, 6, 6, 0)
        top_layout.setSpacing(4)
        title = QLabel("Model")
        title.setObjectName("modelTitle")
        relative_font(title, 1.15)  # stays 15 % larger when the text is scaled
        self.model_title = title
        top_layout.addWidget(title)
        # The table's minimum is five rows (LayerTable.minimumSizeHint): the splitter and
        # the docks around shrink the checks and the training view before the model.
        top_layout.addWidget(self.table, 1)
        top_layout.addWidget(self.totals)
        top_layout.addWidget(self.row_explain)

        holder = QWidget()
        holder.setObjectName("checksHolder")
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(6, 0, 6, 6)
        checks_title = QLabel("Checks before training")
        checks_title.setObjectName("checksTitle")
        relative_font(checks_title, 1.15)
        holder_layout.addWidget(checks_title)
        holder_layout.addWidget(self.all_findings)
        holder_layout.addStretch(1)
        self.checks_area = ChecksArea(holder, checks_title)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("centerSplitter")
        splitter.addWidget(top)
        splitter.addWidget(self.checks_area)
        # Growing or shrinking the window changes the table, not the checks: they are
        # sized to their findings (_fit_checks).
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 0)
        splitter.setChildrenCollapsible(False)
        splitter.splitterMoved.connect(self._on_checks_dragged)
        splitter.installEventFilter(self)
        self.center_splitter = splitter
        self.setCentralWidget(splitter)

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea,
              tip: str) -> QDockWidget:
        dock = _Dock(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setToolTip(tip)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        return dock

    def _set_corners(self) -> None:
        """The palette and the settings run from the top; Code / Training run under the
        palette, so the training tool bar and plots get all but the settings' width."""
        self.setCorner(Qt.Corner.TopLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)

    def _build_docks(self) -> None:
        self._set_corners()
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea

        self.palette = Palette()
        self.palette_dock = self._dock("Layers", "paletteDock", self.palette, left,
                                       "Every layer LayerLab supports, grouped.")
        self.inspector = Inspector(self.controller)
        self.inspector_dock = self._dock("Inspector", "inspectorDock", self.inspector, right,
                                         "The settings of the selected layer.")
        self.compile_panel = CompilePanel(self.controller)
        # The Data and Fit panels come after the first paint (LATER_MODULES), each into
        # its tab's holder; the holders take the room the panels will need.
        least = self.compile_panel.minimumSizeHint()
        self._data_holder, self._fit_holder = _PageHolder(least), _PageHolder(least)
        # One dock with a tab widget rather than three tabified docks: Qt (6.5 to 6.12 at
        # least) leaves a stray, click-eating QTabBar behind when two dock areas both hold
        # tabified docks, and the Code / Training pair below is tabified.
        self.setup_tabs = _SetupTabs()
        self.setup_tabs.setObjectName("setupTabs")
        self.setup_tabs.setDocumentMode(True)
        for panel, title, tip in (
                (self.compile_panel, "Compile", "Optimizer, loss and metrics (Ctrl+1)"),
                (self._data_holder, "Data", "The data the model trains on (Ctrl+2)"),
                (self._fit_holder, "Fit", "Epochs, batch size and callbacks (Ctrl+3)")):
            index = self.setup_tabs.addTab(panel, title)
            self.setup_tabs.setTabToolTip(index, tip)
        # A person who opens the Data or Fit tab before its panel came gets it at once.
        self.setup_tabs.currentChanged.connect(self._on_setup_tab)
        self.setup_dock = self._dock("Compile, Data, Fit", "setupDock", self.setup_tabs, right,
                                     "How the model is compiled, what it trains on, and how.")

        self.code_pane = CodePane(self.controller)
        self.code_dock = self._dock("Code", "codeDock", self.code_pane, bottom,
                                    "The Keras code this project means.")
        self.training_area = QWidget()
        self.training_area.setObjectName("trainingArea")
        training_layout = _NoHeightForWidthLayout(self.training_area)
        training_layout.setContentsMargins(0, 0, 0, 0)  # the panel comes in _install_training
        # The training view scrolls when its dock is smaller than the view's own minimum
        # (a short screen, large text) instead of holding the whole window taller or wider
        # than the screen; at the sizes the layout gives it, it fills the dock.
        self.training_scroll = _ViewScroll()
        self.training_scroll.setObjectName("trainingScroll")
        self.training_scroll.setWidgetResizable(True)
        self.training_scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.training_scroll.setWidget(self.training_area)
        self.training_dock = self._dock("Training", "trainingDock", self.training_scroll, bottom,
                                        "Train the model and watch it learn.")
        self.docks = [self.palette_dock, self.inspector_dock, self.setup_dock, self.code_dock,
                      self.training_dock]
        self._place_docks()
        self.code_pane.setMinimumHeight(120)
        self._sizes_pending = True
        self._center_pending = True

    def _place_docks(self) -> None:
        """Every dock in its first place: palette left, inspector over the settings on the
        right, Code and Training tabbed at the bottom (code in front)."""
        left, right = Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        for dock, area in ((self.palette_dock, left), (self.inspector_dock, right),
                           (self.setup_dock, right), (self.code_dock, bottom),
                           (self.training_dock, bottom)):
            dock.setFloating(False)
            self.addDockWidget(area, dock)
        self.splitDockWidget(self.inspector_dock, self.setup_dock, Qt.Orientation.Vertical)
        # Tabbed with the code: both get the full width; training raises its tab when it
        # starts, and the person can drag it out beside the code on a wide screen.
        self.tabifyDockWidget(self.code_dock, self.training_dock)
        self.code_dock.raise_()

    def _apply_default_sizes(self) -> None:
        """Gives the docks sizes that suit the window's size (Qt only honours this once the
        window is laid out): at 1280 wide the training tool bar shows every button."""
        width, height = self.width(), self.height()
        palette = max(self.palette.minimumWidth(),
                      min(self.palette.preferred_width(), int(width * 0.17)))
        side = max(self.setup_dock.minimumSizeHint().width(), min(380, int(width * 0.27)))
        self.resizeDocks([self.palette_dock, self.inspector_dock], [palette, side],
                         Qt.Orientation.Horizontal)
        self.resizeDocks([self.inspector_dock, self.setup_dock],
                         [int(height * 0.42), int(height * 0.58)], Qt.Orientation.Vertical)
        self.resizeDocks([self.code_dock], [int(height * 0.3)], Qt.Orientation.Vertical)

    @Slot()
    def _size_center(self) -> None:
        """The model/checks divider where the findings need it (the first show, Reset)."""
        self._checks_manual = False
        self._fit_checks()

    @Slot()
    def _fit_checks(self) -> None:
        """Gives the checks the height their findings need, up to CHECKS_MAX_SHARE of the
        centre, and the model table everything else."""
        splitter = self.center_splitter
        total = sum(splitter.sizes())
        area = self.checks_area
        if splitter.count() != 2 or total <= 0 or area.isHidden():
            return
        least = area.minimumSizeHint().height()
        top_least = splitter.widget(0).minimumSizeHint().height()
        wanted = area.wanted_height(area.viewport().width() or splitter.width())
        checks = min(wanted, max(least, int(total * CHECKS_MAX_SHARE)))
        checks = max(least, min(checks, total - top_least))
        if splitter.sizes()[1] != checks:
            splitter.setSizes([total - checks, checks])

    @Slot()
    def _on_findings_changed(self) -> None:
        """New findings: the checks area grows or shrinks to them (again, after a drag)."""
        key = tuple((f.severity, f.message, tuple(x.label for x in f.fixes))
                    for f in self.controller.findings)
        if key != self._checks_key:
            self._checks_key = key
            self._checks_manual = False
            if self.training.locked:
                self._compact_center(True)  # a finding (a data reload) shows during a run
            QTimer.singleShot(0, self._fit_checks)  # once the cards are laid out

    @Slot(bool)
    def _compact_center(self, running: bool) -> None:
        """During a run the lock banner names what is shown and the table cannot be
        clicked, so the title and the row explanation give their lines to the training
        view, and so does "No problems found" (a run only starts without errors; any
        warning stays listed). At 1280x720 the five table rows and the whole training
        view then fit together."""
        self.model_title.setVisible(not running)
        self.row_explain.setVisible(not running)
        self.checks_area.setVisible(not running or bool(self.controller.findings))
        if running:
            QTimer.singleShot(0, self._unscroll_training)  # the lines freed go to the run

    @Slot()
    def _unscroll_training(self) -> None:
        """Grows the Training dock, during a run, to where its view needs no scroll bar,
        when the window has that height (it never shrinks the dock the person sized)."""
        dock = self.training_dock
        if (not self.training.running or dock.isFloating() or dock.visibleRegion().isEmpty()
                or self.presenter.active):
            return
        asked, self._training_room_asked = self._training_room_asked, 0
        short = self.training_area.minimumSizeHint().height() \
            - self.training_scroll.viewport().height()
        if short > 0:
            # Never below what _make_room_for_training just asked: Qt may not have laid
            # that out yet, and the dock would then be measured at its old height.
            target = max(asked, self._training_view_height())
            self.resizeDocks([dock], [target], Qt.Orientation.Vertical)

    @Slot(int, int)
    def _on_checks_dragged(self, _pos: int, _index: int) -> None:
        self._checks_manual = True  # the person's choice holds until the findings change

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        # A narrower centre wraps the findings onto more lines: refit (unless dragged).
        if (obj is self.center_splitter and event.type() == QEvent.Type.Resize
                and not self._checks_manual):
            QTimer.singleShot(0, self._fit_checks)
        return super().eventFilter(obj, event)

    def _action(self, text: str, slot: Callable[[], None], shortcut: QKeySequence | str | None = None,
                tip: str = "", name: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{tip} ({shown})" if tip and shown else tip or text)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        if name:
            action.setObjectName(name)
        return action

    def _build_actions(self) -> None:
        key = QKeySequence.StandardKey
        self.act_new = self._action("&New", self.new_project, key.New,
                                    "Start again from the circle example", "actNew")
        self.act_open = self._action("&Open...", self.open_dialog, key.Open,
                                     "Open a LayerLab project", "actOpen")
        self.act_save = self._action("&Save", self.save, key.Save, "Save the project", "actSave")
        self.act_save_as = self._action("Save &As...", self.save_as, "Ctrl+Shift+S",
                                        "Save the project under a new name", "actSaveAs")
        self.act_quit = self._action("&Quit", self.close, key.Quit, "Close LayerLab", "actQuit")
        stack = self.controller.undo_stack
        self.act_undo = stack.createUndoAction(self, "&Undo")
        self.act_undo.setShortcut(QKeySequence(key.Undo))
        self.act_undo.setObjectName("actUndo")
        self.act_redo = stack.createRedoAction(self, "&Redo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_redo.setObjectName("actRedo")
        self.act_duplicate = self._action("D&uplicate", self.duplicate_selected, "Ctrl+D",
                                          "Duplicate the selected layers", "actDuplicate")
        self.act_delete = self._action("&Delete", self.delete_selected, key.Delete,
                                       "Delete the selected layers", "actDelete")
        self.act_up = self._action("Move &Up", self.move_up, "Alt+Up",
                                   "Move the selected layers up", "actMoveUp")
        self.act_down = self._action("Move Do&wn", self.move_down, "Alt+Down",
                                     "Move the selected layers down", "actMoveDown")
        for action in (self.act_duplicate, self.act_delete, self.act_up, self.act_down):
            # Only while the stack has focus: Delete in a text field deletes text.
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.table.addAction(action)
        self.act_find = self._action("&Find Layer", self.focus_search, key.Find,
                                     "Search the layer palette", "actFind")
        self.act_reset_layout = self._action("&Reset Layout", self.reset_layout, None,
                                             "Put every panel back in its first place, "
                                             "sized for this window", "actResetLayout")
        # View > Present: the training view alone, full screen, for a class (F5).
        self.presenter = Presenter(self)
        self.act_larger_text = self._action("&Larger Text", self.larger_text, key.ZoomIn,
                                            "Make all text larger, up to twice the normal "
                                            "size", "actLargerText")
        # Ctrl+= too: on most keyboards "+" needs Shift, and Ctrl+Shift+= is not Ctrl++.
        self.act_larger_text.setShortcuts([QKeySequence(key.ZoomIn), QKeySequence("Ctrl+=")])
        self.act_smaller_text = self._action("S&maller Text", self.smaller_text, key.ZoomOut,
                                             "Make all text smaller, down to the normal size",
                                             "actSmallerText")
        self.act_normal_text = self._action("&Normal Text Size", self.normal_text, "Ctrl+0",
                                            "Text at its normal size", "actNormalText")
        for action in (self.act_reset_layout, self.act_larger_text, self.act_smaller_text,
                       self.act_normal_text):
            self.addAction(action)  # their keys work with the menu bar hidden (presenting)
        self._sync_text_actions()
        self.act_copy_code = self._action("Copy &Code", self.code_pane.copy, None,
                                          "Copy the Keras code to the clipboard")
        self.panel_actions = []
        for i, name in enumerate(("Compile", "Data", "Fit")):
            action = self._action(f"{name} Settings", self._show_setup_tab, f"Ctrl+{i + 1}",
                                  f"Show the {name.lower()} settings")
            action.setData(i)
            self.panel_actions.append(action)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addAction(self.act_new)
        self.templates_menu = file_menu.addMenu("New from &Template")
        self.templates_menu.setObjectName("templatesMenu")
        self.templates_menu.setToolTipsVisible(True)
        for item in TEMPLATES:
            act = self.templates_menu.addAction(item.title)
            act.setData(item.key)
            act.setToolTip(item.description)
            act.setObjectName(f"template_{item.key}")
            act.triggered.connect(self._new_from_template)
        file_menu.addAction(self.act_open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addSeparator()
        file_menu.addAction(self.act_save)
        file_menu.addAction(self.act_save_as)
        file_menu.addSeparator()
        file_menu.addAction(self.act_quit)
        edit_menu = bar.addMenu("&Edit")
        edit_menu.addAction(self.act_undo)
        edit_menu.addAction(self.act_redo)
        edit_menu.addSeparator()
        for action in (self.act_duplicate, self.act_delete, self.act_up, self.act_down):
            edit_menu.addAction(action)
        edit_menu.addSeparator()
        edit_menu.addAction(self.act_find)
        edit_menu.addAction(self.act_copy_code)
        view_menu = bar.addMenu("&View")
        for dock in self.docks:
            toggle = dock.toggleViewAction()
            toggle.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
            view_menu.addAction(toggle)
        view_menu.addSeparator()
        for action in self.panel_actions:
            view_menu.addAction(action)
        view_menu.addSeparator()
        view_menu.addAction(self.presenter.act_present)
        view_menu.addAction(self.act_larger_text)
        view_menu.addAction(self.act_smaller_text)
        view_menu.addAction(self.act_normal_text)
        view_menu.addSeparator()
        view_menu.addAction(self.act_reset_layout)
        for menu in (file_menu, edit_menu, view_menu):
            menu.setToolTipsVisible(True)

    def _build_status(self) -> None:
        status = QStatusBar()
        self.setStatusBar(status)
        self.keras_label = QLabel()
        self.keras_label.setObjectName("kerasStatus")
        self.keras_busy = QProgressBar()
        self.keras_busy.setRange(0, 0)  # indeterminate: an import reports no progress
        self.keras_busy.setMaximumWidth(90)
        self.keras_busy.setMaximumHeight(14)
        self.keras_busy.setTextVisible(False)
        self.keras_busy.setVisible(False)
        status.addPermanentWidget(self.keras_busy)
        status.addPermanentWidget(self.keras_label)

    def _connect(self) -> None:
        c = self.controller
        c.projectChanged.connect(self._on_project_changed)
        c.derivedChanged.connect(self._update_totals)
        c.derivedChanged.connect(self._on_findings_changed)
        c.fileChanged.connect(self._update_title)
        self.training.lockedChanged.connect(self._compact_center)
        self.palette.addRequested.connect(self.add_layer)
        self.table.keyAction.connect(self._on_table_key)
        selection = self.table.selectionModel()
        selection.selectionChanged.connect(self._sync_selection)
        selection.currentRowChanged.connect(self._sync_selection)

    # -- settings ------------------------------------------------------------------------------

    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(default_size())
        state = self.settings.value("windowState")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self._sizes_pending = not self.restoreState(state, STATE_VERSION)
        splitter = self.settings.value("centerSplitter")
        self._center_pending = not (isinstance(splitter, QByteArray)
                                    and self.center_splitter.restoreState(splitter))

    def save_settings(self) -> None:
        self.presenter.leave()  # remember the editing layout, never the presentation
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("windowState", self.saveState(STATE_VERSION))
        self.settings.setValue("centerSplitter", self.center_splitter.saveState())
        self.settings.sync()

    @Slot()
    def reset_layout(self) -> None:
        """View > Reset Layout: every dock back in place and shown, sized for the window as
        it is now (1024x768 and 1280x720 included), the checks sized to their findings."""
        self.presenter.leave()
        self._set_corners()
        for dock in self.docks:
            dock.show()
        self._place_docks()
        if self.training.running:
            self.training_dock.raise_()  # a run is being watched: keep it in front
        self._apply_default_sizes()
        if self.training.running:
            self.resizeDocks([self.training_dock], [int(self.height() * 0.52)],
                             Qt.Orientation.Vertical)
        self._size_center()
        QTimer.singleShot(0, self._size_center)  # once the docks have their new sizes

    # -- text size -------------------------------------------------------------------------------

    @Slot()
    def larger_text(self) -> None:
        self._text_scaled(self.text_scale.larger())

    @Slot()
    def smaller_text(self) -> None:
        self._text_scaled(self.text_scale.smaller())

    @Slot()
    def normal_text(self) -> None:
        self._text_scaled(self.text_scale.reset())

    def _sync_text_actions(self) -> None:
        factor = self.text_scale.factor
        self.act_larger_text.setEnabled(factor < MAX_SCALE)
        self.act_smaller_text.setEnabled(factor > MIN_SCALE)

    def _text_scaled(self, factor: float) -> None:
        set_text_scale_setting(self.settings, factor)
        self._sync_text_actions()
        self.statusBar().showMessage(f"Text at {factor:.0%} of the normal size "
                                     "(Ctrl+0 for normal).", 3000)
        QTimer.singleShot(0, self._fit_checks)  # the findings wrap differently

    # -- dropped files ---------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802
        if not self.files.accept_drag(event):
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802
        if not self.files.accept_drag(event):
            super().dragMoveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802
        if not self.files.accept_drop(event):
            super().dropEvent(event)

    # -- start-up --------------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if self._sizes_pending:
                self._apply_default_sizes()
            if self._center_pending:
                QTimer.singleShot(0, self._size_center)  # once the docks have their room
            # Once the first frame is on screen: the imports that start then (a worker
            # thread) would otherwise compete with that paint for the GIL.
            after_paint(self, self._after_first_show, timeout_ms=FIRST_PAINT_TIMEOUT_MS)

    @Slot()
    def _after_first_show(self) -> None:
        mailbox.freeze_heap()  # the window is built: it lives as long as the process
        self.firstShown.emit()
        if self._shut or self._later_started:
            return
        self._later_started = True
        if self.load_keras:
            self.training.start_engine()  # (`layerlab` started it before Qt: taken now)
        # Every Qt class made on this thread first, a slice per turn; then the imports on a
        # worker (PySide's class-making is not safe on two threads at once).
        qt_types.Warmer(self, self._import_later).start()

    def _after_parts(self) -> None:
        """The parts are made (LATER_MODULES): pyqtgraph next, on the same worker as the
        engine's news, and then the data preview."""
        if self._shut:
            return
        mailbox.freeze_heap()
        if self.load_keras:
            self.start_keras_loading()  # imports pyqtgraph first, then makes the preview
        else:
            # pyqtgraph takes about 0.4 s to import: only now that the window is up.
            QTimer.singleShot(30, self, self._make_preview)

    def start_keras_loading(self, importer: Callable[[], str] | None = None,
                            sync: Callable[[], list[str]] | None = None,
                            plotting: Callable[[], None] = import_plotting) -> None:
        """Starts the engine process, where Keras loads, and imports pyqtgraph on a worker
        thread; the status bar says so meanwhile.

        Args:
            importer: a stand-in for the engine's Keras import, run on the worker thread
                (tests); None starts the real engine process.
            sync: a stand-in for taking the catalog's defaults from Keras (tests).
            plotting: imports pyqtgraph.
        """
        if self._keras_thread is not None:
            return
        qt_types.warm_now()  # before a worker imports pyqtgraph (qt_types); done by now
        if sync is not None:
            self._keras_sync = sync
        self.keras_label.setText(say.ENGINE_LOADING)
        self.keras_busy.setVisible(True)
        self.keras_label.setToolTip(say.ENGINE_LOADING_TIP)
        if importer is None:
            self.training.start_engine()
        loader = KerasLoader(self, importer or (lambda: ""), plotting,
                             self._on_plotting_imported,
                             self._on_keras_loaded if importer is not None else None,
                             self._on_keras_failed if importer is not None else None)
        self._keras_thread = loader
        loader.start()

    def _on_plotting_imported(self) -> None:
        mailbox.freeze_heap()  # pyqtgraph's modules and classes stay for the process's life
        self._make_preview()

    @Slot(dict)
    def _on_engine_ready(self, hello: dict) -> None:
        """The engine said hello: its Keras is loaded, and the catalog takes its defaults."""
        facts = hello.get("catalog") or {}
        self._keras_sync = lambda: catalog.apply_keras_facts(facts) if facts else []
        self._on_keras_loaded(str(hello.get("keras", "?")), float(hello.get("seconds", 0.0)))

    @Slot(str)
    def _on_engine_died(self, reason: str) -> None:
        """The engine ended by itself; the link starts a fresh one at once."""
        self.keras_ready = False
        self.keras_label.setText(say.ENGINE_RESTARTING)
        self.keras_busy.setVisible(True)
        self.keras_label.setToolTip(say.engine_died_tip(reason))
        self.statusBar().showMessage(say.engine_died_line(reason), 10000)

    @Slot(float)
    def _on_engine_hung(self, seconds: float) -> None:
        self.keras_label.setText(say.ENGINE_NOT_ANSWERING)
        self.keras_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.keras_label.setToolTip(say.engine_silent_tip(seconds))
        self.statusBar().showMessage(say.ENGINE_NOT_ANSWERING_LINE, 15000)

    @Slot()
    def restart_engine(self) -> None:
        """Training > Restart Training Engine: ends the engine and starts a fresh one."""
        self.keras_ready = False
        self.keras_label.setText(say.ENGINE_RESTARTING)
        self.keras_label.setStyleSheet("")
        self.keras_busy.setVisible(True)
        self.training.restart_engine()  # the panel drops its session (engineRestarting)

    @Slot(str, float)
    def _on_keras_loaded(self, version: str, seconds: float) -> None:
        assert QThread.currentThread() is self.thread(), "Keras results are handled on the GUI thread"
        activations = list(catalog.ACTIVATIONS)
        try:
            drift = self._keras_sync()
        except Exception as exc:  # noqa: BLE001 - a sync problem must not block the editor
            drift = [f"could not read Keras's defaults: {exc}"]
        self.keras_ready, self.keras_version = True, version
        self.keras_busy.setVisible(False)
        if drift or activations != catalog.ACTIVATIONS:
            # Rebuild the layer forms from the corrected catalog; usually nothing differs,
            # and then a form being typed into is left alone.
            self.inspector.forget_forms()
            self.controller.refresh()
        self.keras_label.setText(f"Keras {version} ready")
        self.keras_label.setStyleSheet("")
        note = say.keras_loaded(version, seconds, drift)
        self.keras_label.setToolTip(note)
        self.statusBar().showMessage(note, 5000)
        self.kerasReady.emit()

    @Slot(str)
    def _on_keras_failed(self, message: str) -> None:
        assert QThread.currentThread() is self.thread(), "Keras results are handled on the GUI thread"
        self.keras_label.setText(say.ENGINE_CANNOT_LOAD)
        self.keras_busy.setVisible(False)
        self.keras_label.setStyleSheet(f"color: {ERROR_COLOR.name()};")
        self.keras_label.setToolTip(say.engine_cannot_load_tip(message))

    def wait_for_keras(self, msecs: int = 60_000) -> bool:
        if self._keras_thread is None:
            return True
        return self._keras_thread.wait(msecs)

    # -- the parts made after the first paint, and training -----------------------------------

    @property
    def data_panel(self) -> DataPanel:
        return self._made("_data_panel", self._make_data_panel)

    @property
    def fit_panel(self) -> FitPanel:
        return self._made("_fit_panel", self._make_fit_panel)

    @property
    def training_panel(self) -> TrainingPanel:
        return self._made("_training_panel", self._install_training_panel)

    def _made(self, attribute: str, make: Callable[[], None]) -> Any:
        """The part held in `attribute`, made by `make` first when it is not there yet."""
        if getattr(self, attribute) is None:
            make()
        return getattr(self, attribute)

    def __getattr__(self, name: str) -> object:
        # The Training menu's launchers and the device binding come with their parts:
        # asking for one makes its part at once (ordinary attributes never get here).
        maker = _MADE_WITH.get(name)
        if maker is None or name.startswith("_"):
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        getattr(self, maker)  # the part's property makes it when it is not there yet
        return object.__getattribute__(self, name)

    def part_if_made(self, name: str) -> QWidget | None:
        """"data_panel", "fit_panel" or "training_panel" when made, else None (never
        makes it: for what only adjusts a part that exists, such as a lesson's locks)."""
        return getattr(self, f"_{name}", None)

    def _later_steps(self) -> list[Callable[[], object]]:
        steps: list[Callable[[], object]] = []
        # Each panel's forms on a turn of their own first: a whole panel at once held the
        # GUI thread for 12-16 ms, twice that while the engine loaded Keras beside it.
        if self._data_panel is None:
            if "data" not in self._ahead:
                steps.append(self._make_data_forms)
            steps.append(self._make_data_panel)
        if self._fit_panel is None:
            if "fit" not in self._ahead:
                steps.append(self._make_fit_forms)
            steps.append(self._make_fit_panel)
        if self._training_panel is None:
            steps.append(self._install_training_panel)
        if not self._preview_asked:
            if "preview" not in self._ahead:
                steps.append(self._make_preview_plot)  # a turn of its own (12 ms)
            steps.append(self._make_preview)
        panel = self._training_panel
        if panel is not None and self.training_dock.isVisible() and panel.views_pending():
            steps.append(panel.make_next_view)  # the Training tab is in front: its views
        return steps

    def _make_preview_plot(self) -> None:
        from .data_panel import make_preview_plot

        self._ahead["preview"] = self._held(make_preview_plot())

    def _make_preview(self) -> None:
        self._preview_asked = True
        self.data_panel.ensure_preview(self._ahead.pop("preview", None))

    def _import_later(self) -> None:
        """Imports LATER_MODULES on a worker thread (it calls no Qt), then makes the parts
        on the GUI thread, one per turn of the event loop."""
        def work() -> None:
            import_quietly(LATER_MODULES)
            try:  # pyqtgraph came with them: the views' modules and colour map too
                import_plotting()
            except Exception:  # noqa: BLE001 - the views import it themselves then
                pass
            mailbox.post(self, self._build_later)

        threading.Thread(target=work, name="layerlab-later-imports", daemon=True).start()

    def _build_later(self) -> None:
        """One step of the start after the first paint per turn of the event loop, in one
        chain: two chains at once ran back to back, the window frozen meanwhile."""
        if self._shut:
            return
        self._chain_running = True
        steps = self._later_steps()
        if steps:
            steps[0]()
        if self._later_steps():  # (a step may leave more behind: the views, one by one)
            next_turn(self, self._build_later)
        else:
            self._chain_running = False
            next_turn(self, self._after_parts)  # not on the turn of the last step

    @Slot(int)
    def _on_setup_tab(self, index: int) -> None:
        page = self.setup_tabs.widget(index)
        if page is self._data_holder and self._data_panel is None:
            self._make_data_panel()
        elif page is self._fit_holder and self._fit_panel is None:
            self._make_fit_panel()

    def _make_data_forms(self) -> None:
        from .data_panel import make_forms

        self._ahead["data"] = {name: self._held(form) for name, form in make_forms().items()}

    def _make_fit_forms(self) -> None:
        from .fit_panel import make_forms

        self._ahead["fit"] = {name: self._held(form) for name, form in make_forms().items()}

    def _held(self, widget: QWidget) -> QWidget:
        """A widget made ahead belongs to the window until its part takes it (it is not
        shown meanwhile): one without a parent, left over at exit, would be deleted after
        the application."""
        widget.setParent(self)
        return widget

    def _make_data_panel(self) -> None:
        from .data_panel import DataPanel

        panel = DataPanel(self.controller, self._ahead.pop("data", None))
        panel.augment_preview.set_engine(self.training)
        self._data_panel = panel
        self._data_holder.take(panel)
        self.partMade.emit("data_panel")

    def _make_fit_panel(self) -> None:
        from .fit_panel import FitPanel

        self._fit_panel = FitPanel(self.controller, self._ahead.pop("fit", None))
        self._fit_holder.take(self._fit_panel)
        self.partMade.emit("fit_panel")

    def _install_training_panel(self) -> None:
        """The Training tab, the lock banner above the model, and the Training menu's
        entries."""
        from .compare import CompareLauncher
        from .lr_finder import LRFinderLauncher
        from .search_view import SearchLauncher
        from .step_through import StepThroughLauncher
        from .training_panel import TrainingPanel

        panel = TrainingPanel(self.controller, self.training)
        self._training_panel = panel
        self.training_area.layout().addWidget(panel)
        self.center_splitter.widget(0).layout().insertWidget(0, panel.banner)
        panel.banner.setVisible(self.training.locked)  # (a new parent hid it)
        menu = self.training_menu
        for i, act in enumerate(panel.actions_list):
            if i in (3, 5):
                menu.addSeparator()
            menu.addAction(act)
            self.addAction(act)  # its shortcut works wherever the focus is in the window
        menu.addSeparator()
        self.lr_finder = LRFinderLauncher(panel, menu, self)  # Find Learning Rate...
        self.compare = CompareLauncher(self, panel, menu)  # Compare With...
        self.step_through = StepThroughLauncher(panel, menu, self)  # Step Through...
        self.search = SearchLauncher(self.controller, self.training, menu, self)  # Search...
        self.search.overlay = panel.add_overlay_run  # a trial's curves with earlier runs
        menu.addSeparator()
        restart = QAction("Restart Training &Engine", self)
        restart.setObjectName("restartEngine")
        restart.setToolTip(say.RESTART_ACTION_TIP)
        restart.triggered.connect(self.restart_engine)
        menu.addAction(restart)
        panel.wantsRoom.connect(self._make_room_for_training)
        panel.showLayer.connect(lambda index: self.table.select_layers([index]))
        panel.saved_weights = self.files.pending_weights_loader
        self.files.pendingWeightsChanged.connect(panel.weights_available)
        self.kerasReady.connect(panel.warm_up)
        self.training_dock.visibilityChanged.connect(panel._on_dock_visible)  # noqa: SLF001
        self.files.lesson_panel.connect_training(panel)  # a guided lesson counts the runs
        self.files.connect_training(
            session=lambda: panel.session, plots=panel.plot_items,
            findings=lambda: panel.diagnostics.findings if panel.diagnostics is not None
            else [])
        if self.training_dock.isVisible() and not self._chain_running:  # in front already
            panel._on_dock_visible(True)  # noqa: SLF001 - (the start's chain makes them)
        if self.keras_ready:  # the engine said hello before the panel was made
            next_turn(panel, panel.warm_up)
        self.partMade.emit("training_panel")

    def _install_device_picker(self) -> None:
        """CPU / one GPU / all GPUs, in the status bar and the Training menu; devices are
        listed once the engine has loaded Keras."""
        picker = DevicePicker(str(self.settings.value(DEVICE_KEY, "") or ""))
        self.device_picker = picker
        self.statusBar().addPermanentWidget(picker)
        self.device_binding = DeviceBinding(picker, self.training, self.settings,
                                            self.training_menu)
        self.kerasReady.connect(self.device_binding.start_listing)
        if self.keras_ready:
            self.device_binding.start_listing()

    @Slot()
    def _make_room_for_training(self) -> None:
        """Raises the Training tab and gives it about half the window's height, once.

        When the tab is behind another one (a new person's first Train), this is spread
        over three turns: the bottom area grows with the other tab still in front; after
        that frame the training view, still off-screen, is laid out at the area's new size
        (`_lay_out_training`); then its tab comes to the front and it only paints, and the
        settings tabs grey on the frame after that (`_on_training_locked`). In one turn,
        the view was laid out at its old size and again at the new one, and painted, and
        the window froze for 40-80 ms."""
        dock = self.training_dock
        # A tab behind another is "visible", moved off-screen: it has no visible region.
        staged = (self.isVisible() and dock.visibleRegion().isEmpty()
                  and not dock.isFloating() and not self.presenter.active)
        dock.show()
        if not staged:
            dock.raise_()
        self._size_training_room()
        if staged and not self._raise_pending:
            self._raise_pending = True
            after_paint(self, self._lay_out_training)

    @Slot()
    def _lay_out_training(self) -> None:
        """The off-screen Training tab takes the size it will show at; on the next turn
        it comes to the front and only paints. (Painting its plots ahead into a throwaway
        picture, a turn each, made that frame no shorter: measured and left out.)"""
        front = self._front_of(self.training_dock)
        if front is not self.training_dock:
            self.training_dock.resize(front.size())  # off-screen: laid out, not painted
        next_turn(self, self._raise_training)

    @Slot()
    def _raise_training(self) -> None:
        self._raise_pending = False
        self.training_dock.raise_()
        if self.training.locked:
            after_paint(self, self._lock_settings)
            after_paint(self, self._unscroll_training)  # skipped while it was off-screen

    def _front_of(self, dock: QDockWidget) -> QDockWidget:
        """The dock in front of `dock`'s tab group (`dock` itself when it is in front)."""
        return next((other for other in self.tabifiedDockWidgets(dock)
                     if not other.visibleRegion().isEmpty()), dock)

    def _size_training_room(self) -> None:
        """The Training dock's first height of the session: about half the window."""
        if self._training_sized:
            return
        self._training_sized = True
        height = self.height()
        # Layout extension: at least the height the training view needs to show whole
        # (no scroll bar) where the window has it; Qt keeps the centre's minimum (five
        # table rows) whatever is asked, so on a short screen the view scrolls a little.
        wanted = max(int(height * 0.52), self._training_view_height())
        # A tab behind another is sized through the one in front (they share the area).
        front = self._front_of(self.training_dock)
        if front.height() < max(height * 0.45, wanted - self._dock_chrome()):
            self.resizeDocks([front], [wanted], Qt.Orientation.Vertical)
            self._training_room_asked = wanted

    def _dock_chrome(self) -> int:
        """About the height of a tabbed dock's title bar and tab bar together (resizeDocks
        sizes a tabbed dock with its tab bar)."""
        return 2 * (self.training_dock.fontMetrics().height() + 8)

    def _training_view_height(self) -> int:
        """The resizeDocks height that shows the whole training view without scrolling."""
        return self.training_area.minimumSizeHint().height() + self._dock_chrome()

    @Slot(bool)
    def _on_training_locked(self, on: bool) -> None:
        """Locks (or unlocks) every way of editing the project while a run is going.

        The controller refuses every edit from the moment the run starts; the settings
        tabs and the findings list grey on the frame after the rest (`_lock_settings`):
        the whole editor greyed at once was one repaint of 30 ms and more at every Train.
        They come back at once at the run's end."""
        for widget in (self.table, self.palette, self.inspector):
            widget.setEnabled(not on)
        if on:
            if not self._raise_pending:  # else on the frame after the Training tab's
                after_paint(self, self._lock_settings)
        else:
            self._lock_settings()
        for act in (self.act_duplicate, self.act_delete, self.act_up, self.act_down,
                    self.act_undo, self.act_redo):
            act.setEnabled(not on)
        if not on:
            stack = self.controller.undo_stack
            self.act_undo.setEnabled(stack.canUndo())
            self.act_redo.setEnabled(stack.canRedo())
            self._sync_selection()
        self.training_dock.setWindowTitle("Training (running: editing locked)" if on
                                          else "Training")

    @Slot()
    def _lock_settings(self) -> None:
        """The settings tabs and the findings list follow the lock as it is now."""
        for widget in (self.setup_tabs, self.all_findings):
            widget.setEnabled(not self.training.locked)

    # -- edits from the window -----------------------------------------------------------------

    def selected_layers(self) -> list[int]:
        return self.table.selected_layers()

    @Slot(str)
    def add_layer(self, type_name: str) -> None:
        """Adds a palette layer after the selected layer (at the end when none is)."""
        rows = sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})
        if rows == [0]:
            at = 0
        elif rows:
            at = rows[-1]  # row r is layer r - 1: after it is index r
        else:
            at = len(self.controller.project.model.layers)
        before = self.controller.project
        index = self.controller.add_layer(type_name, at)
        self.controller.end_merge()
        if self.controller.project is before:
            return  # refused: a lesson's lock (the status bar says why) or a run
        self.table.select_layers([index])
        self.statusBar().showMessage(f"Added {type_name}. Undo with Ctrl+Z.", 3000)

    @Slot()
    def delete_selected(self) -> None:
        chosen = self.selected_layers()
        if not chosen:
            return
        self.controller.remove_layers(chosen)
        remaining = len(self.controller.project.model.layers)
        self.table.select_layers([min(chosen[0], remaining - 1)] if remaining else [])

    @Slot()
    def duplicate_selected(self) -> None:
        new = self.controller.duplicate_layers(self.selected_layers())
        if new:
            self.table.select_layers(new)

    @Slot()
    def move_up(self) -> None:
        self._shift(-1)

    @Slot()
    def move_down(self) -> None:
        self._shift(1)

    def _shift(self, step: int) -> None:
        chosen = self.selected_layers()
        if chosen:
            self.table.select_layers(self.controller.shift_layers(chosen, step))

    @Slot(str)
    def _on_table_key(self, what: str) -> None:
        {"up": self.move_up, "down": self.move_down, "delete": self.delete_selected,
         "duplicate": self.duplicate_selected}[what]()

    @Slot()
    def _show_setup_tab(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.show_setup_tab(int(action.data()))

    def show_setup_tab(self, index: int) -> None:
        """Brings the Compile (0), Data (1) or Fit (2) settings to the front."""
        self.setup_dock.show()
        self.setup_dock.raise_()
        self.setup_tabs.setCurrentIndex(index)

    @Slot()
    def focus_search(self) -> None:
        self.palette_dock.show()
        self.palette_dock.raise_()
        self.palette.search.setFocus()
        self.palette.search.selectAll()

    # -- following the project -----------------------------------------------------------------

    @Slot(object, object)
    def _on_project_changed(self, _old: Project, _new: Project) -> None:
        self._sync_selection()
        self._update_title()

    @Slot()
    def _sync_selection(self) -> None:
        rows = sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})
        layers = self.selected_layers()
        n = len(self.controller.project.model.layers)
        if len(rows) == 1:
            self.inspector.show_row(rows[0])
        elif rows:
            self.inspector.show_row(self.table.currentIndex().row(), len(rows))
        else:
            self.inspector.show_row(None)
        self.act_delete.setEnabled(bool(layers))
        self.act_duplicate.setEnabled(bool(layers))
        self.act_up.setEnabled(bool(layers) and layers[0] > 0)
        self.act_down.setEnabled(bool(layers) and layers[-1] < n - 1)
        self._update_row_explanation(rows)

    def _update_row_explanation(self, rows: list[int] | None = None) -> None:
        if rows is None:
            rows = sorted({ix.row() for ix in self.table.selectionModel().selectedRows()})
        summary = self.controller.summary
        text, style = "Select a row to see how its parameters are counted.", ""
        if len(rows) == 1 and rows[0] == 0:
            shape = self.controller.project.model.input_shape
            text = f"Input: each sample is {format_shape(tuple(shape))}. Double-click the shape " \
                   "to change it."
        elif len(rows) == 1 and 0 < rows[0] <= len(summary.rows):
            row = summary.rows[rows[0] - 1]
            if row.error:
                text, style = f"{row.name} ({row.type}): {row.error}", f"color: {ERROR_COLOR.name()};"
            else:
                count = "?" if row.params is None else f"{row.params:,}"
                text = f"{row.name} ({row.type}): {count} parameters"
                if row.explanation:
                    text += f" = {row.explanation}"
        elif len(rows) > 1:
            text = f"{len(rows)} rows selected."
        self.row_explain.setText(text)
        self.row_explain.setStyleSheet(style)

    @Slot()
    def _update_totals(self) -> None:
        s = self.controller.summary
        text = (f"Total params: {s.total_params:,} ({format_bytes(s.weight_bytes)})    "
                f"Trainable: {s.trainable_params:,}    Non-trainable: {s.non_trainable_params:,}")
        if not s.ok:
            text += "    (counted up to the first layer with an error)"
        self.totals.setText(text)
        self._update_row_explanation()

    @Slot()
    def _update_title(self) -> None:
        c = self.controller
        star = "" if c.is_clean else "*"
        where = f" ({c.path.name})" if c.path is not None else ""
        self.setWindowTitle(f"{c.project.name}{star}{where} - LayerLab")

    # -- files ---------------------------------------------------------------------------------

    def confirm_discard(self) -> bool:
        """True when the open project may be replaced (saved, discarded, or unchanged)."""
        if self.controller.is_clean:
            return True
        answer = QMessageBox.question(
            self, "Unsaved changes",
            f"{self.controller.project.name} has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return self.save()
        return answer == QMessageBox.StandardButton.Discard

    def show_error(self, title: str, text: str) -> QMessageBox:
        """A non-blocking warning dialog; kept in `last_dialog` so tests can read it."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("errorDialog")
        # Wide enough that a loader's list of problems reads one problem to a line or two.
        box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 560px; }")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()
        self.last_dialog = box
        return box

    @Slot()
    def new_project(self, key: str = "") -> None:
        """File > New: the circle classifier LayerLab opens on, or a template
        (`core.templates`: empty, 2-D classifier, regression, small CNN), untitled."""
        if self.confirm_discard():
            project = template(key).project() if key else default_project()
            self.controller.reset(project.replace(name=UNTITLED))
            self.files.project_opened(None)
            self.table.select_layers([])

    def _new_from_template(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.new_project(str(action.data()))

    @Slot()
    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        start = str(self.controller.path.parent) if self.controller.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open project", start, PROJECT_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike) -> bool:
        """Opens a project file; a bad one is reported and the open project stays.

        Never raises: whatever the file does to the loader ends in a dialog (guard.py),
        and a project that writes outside its folder is opened only as the person says.
        """
        with guarded(self, path):
            project = load_consented(self, lambda: load_project(path))
            if project is None:
                return False
            return self.adopt_project(project, path)
        return False

    def ask_outside(self, exc: OutsidePathsError) -> str:
        """Asks whether the project may write outside its folder: guard.ALLOW, OPEN_AS_IS
        or CANCEL (tests replace this)."""
        return ask_outside(self, exc)

    def adopt_project(self, project: Project, path: str | os.PathLike) -> bool:
        """Makes a loaded project file the open project (Open, recent files, command line)."""
        self.controller.reset(project, Path(path))
        add_recent_file(self.settings, path)
        self.table.select_layers([])
        self.statusBar().showMessage(f"Opened {path}", 4000)
        self.files.project_opened(Path(path))
        return True

    @Slot()
    def save(self) -> bool:
        if self.controller.path is None:
            return self.save_as()
        return self.save_to(self.controller.path)

    @Slot()
    def save_as(self) -> bool:
        start = str(self.controller.path or Path.cwd() / f"{self.controller.project.name}{SUFFIX}")
        path, _ = QFileDialog.getSaveFileName(self, "Save project", start, PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(".json"):
            path += SUFFIX
        return self.save_to(Path(path))

    def save_to(self, path: Path) -> bool:
        project = self.controller.project
        if project.name == UNTITLED and path.name.endswith(SUFFIX):
            # an untitled project is named after the file it is first saved as
            project = project.replace(name=path.name[: -len(SUFFIX)] or UNTITLED)
            self.controller.edit(project, "Name the project after its file")
        try:
            save_project(project, path)
        except OSError as exc:
            self.show_error("Cannot save project",
                            f"Expected to write {path}, got an error: {exc.strerror or exc}. "
                            "Choose another folder with Save As.")
            return False
        self.controller.mark_saved(path)
        self.files.project_saved(Path(path))
        add_recent_file(self.settings, path)
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    @Slot()
    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        files = recent_files(self.settings)
        if not files:
            empty = self.recent_menu.addAction("No recent projects")
            empty.setEnabled(False)
            return
        for i, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{i + 1} {Path(path).name}")
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(self._open_recent)

    @Slot()
    def _open_recent(self) -> None:
        action = self.sender()
        if isinstance(action, QAction) and self.confirm_discard():
            self.open_path(str(action.data()))

    # -- closing -------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        if not self.confirm_discard():
            event.ignore()
            return
        self.files.closing()
        self.save_settings()
        self.hide()  # gone at once, even if a Keras import still has to finish below
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stops the background threads; an import in progress is waited for (it cannot be
        interrupted, and its results must not arrive in a window being torn down)."""
        self._shut = True
        if self._training_panel is not None:  # stops a run: the worker ends within a second
            self._training_panel.shutdown()
        self.training.close()  # the engine process ends within 2 s
        if self._keras_thread is not None:
            self._keras_thread.wait()
        self.files.shutdown()
        self.controller.wait_for_data()


def default_size() -> QSize:
    """1440 x 900, or 92 % of a smaller screen."""
    screen = QGuiApplication.primaryScreen()
    if screen is None:
        return DEFAULT_SIZE
    available = screen.availableGeometry().size()
    return QSize(min(DEFAULT_SIZE.width(), int(available.width() * 0.92)),
                 min(DEFAULT_SIZE.height(), int(available.height() * 0.92)))
