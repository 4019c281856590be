"""Training > Compare With: two models side by side, trained on the same data and seed.

A is the project open in the main window, read as it is when Train is pressed. B is a
copy of it (Duplicate This One) changed here with a small editor (the hidden Dense layers'
units and activation, the learning rate, the epochs), or a second project file opened with
File > Open's safe loading and questions (`guard.load_consented`). B takes A's data
section and fit seed (`compare_projects.b_for_comparison`), so both see the same samples
in the same order; the window says so.

Train runs A and B at once, each in an engine session of its own (`TrainingController.
new_session`, the device the person chose), from fresh weights for each project's own
epochs. Their events come through one `SessionBridge` each, so nothing here is called on
an engine thread; the one blocking call (a prediction when a picture is clicked) runs
through `Background`. The window shows both decision boundaries side by side (for data
of one or two features; for wider data it says why there is none), both runs' curves on
shared axes (`compare_plots`), each side's progress and how it ended, and one line with
the numbers that answer "is B better?". Export PNG writes the whole comparison as one
picture. A run that fails on one side says why in words; the other side goes on.

Nothing here imports Keras; pyqtgraph is imported when the window is first made.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QThread, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ..core.checks import ERROR, run_checks
from ..core.history_views import describe_prediction, expected_quantities
from ..core.project import SUFFIX, load_project, write_atomic
from ..core.run_labels import run_facts, run_labels
from ..core.spec import Project
from ..core.summary import summarize
from ..core.training import (
    BatchProgress,
    BoundarySnapshot,
    EpochEnd,
    Failed,
    Finished,
    SessionError,
    Started,
)
from . import colors
from . import messages as say
from .compare_projects import (
    ACTIVATIONS,
    b_for_comparison,
    data_words,
    describe_end,
    hidden_units,
    learning_rate,
    parse_rate,
    parse_units,
    seed_words,
    verdict,
    with_hidden,
    with_learning_rate,
)
from .guard import ask_outside, guarded, load_consented
from .launcher import DialogLauncher
from .session_bridge import Background, PreparedSnapshot, SessionBridge

if TYPE_CHECKING:
    from .training_panel import TrainingPanel

#: Redraws per second of each side while training.
DRAW_RATE = 10.0
#: Seconds between each session's progress reports and pictures.
PROGRESS_INTERVAL = 0.1
#: The window's size when first shown: fits a 1280 x 720 screen with room for its frame.
DEFAULT_SIZE = (1240, 660)
PROJECT_FILTER = f"LayerLab projects (*{SUFFIX});;JSON files (*.json);;All files (*)"
ERROR_STYLE = "color: #b00020;"
SIDE_COLORS = {"A": colors.BLUE, "B": colors.VERMILLION}


def _drawable(dataset: Any) -> str:
    """"" when the boundary view draws this data; else why not, in words."""
    if dataset is None:
        return "there is no data yet"
    if getattr(dataset, "streamed", False):
        return "the data is a folder of images"
    x = dataset.x_train
    if x is None or len(x) == 0:
        return "the data has no training samples"
    if x.ndim == 2 and x.shape[1] in (1, 2):
        return ""
    width = int(x[0].size) if len(x) else 0
    shape = "x".join(str(d) for d in x.shape[1:])
    return f"the inputs have {width:,} values each (shape {shape})"


class _Side:
    """One side of the comparison: its project, session, bridge, run and widgets."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.color = SIDE_COLORS[name]
        self.project: Project | None = None  # what the shown run trained
        self.label = name  # its label, "A: 2-1 sigmoid, Adam 0.03"
        self.session: Any = None
        self.bridge: SessionBridge | None = None
        self.history: dict[str, list[float]] = {}
        self.started: Started | None = None
        self.progress: BatchProgress | None = None
        self.epochs_done = 0
        self.elapsed = 0.0
        self.state = "idle"  # "starting", "running", "done", "failed"
        self.ended: Finished | Failed | None = None
        # widgets (made by the window)
        self.title: QLabel
        self.progress_bar: QProgressBar
        self.stack: QStackedWidget
        self.view: Any = None  # a BoundaryView
        self.no_picture: QLabel
        self.result: QLabel

    @property
    def running(self) -> bool:
        return self.state in ("starting", "running")

    def reset(self, project: Project) -> None:
        self.project = project
        self.history = {}
        self.started = self.progress = self.ended = None
        self.epochs_done = 0
        self.elapsed = 0.0
        self.state = "starting"

    def close_session(self) -> None:
        session, bridge = self.session, self.bridge
        self.session = self.bridge = None
        if bridge is not None:
            bridge.close()
        if session is not None:
            session.stop()
            session.close()


class CompareWindow(QDialog):
    """A against B: choose B, change it, train both, read the answer, export it.

    It knows the main window only through `main.ask_outside` (the outside-paths question,
    as File > Open asks it) and the training panel by its public face (`controller`,
    `training`, `blocked_reason`).

    Attributes:
        sides: {"A": ..., "B": ...}, each with its project, session, history and widgets.
        message: the text of the status line (tests, screenshots).
        last_dialog: the last message box shown (tests).
        exported: the last PNG written.
    """

    def __init__(self, main: Any, panel: TrainingPanel) -> None:
        super().__init__(main)
        from .boundary_view import BoundaryView  # imports pyqtgraph
        from .compare_plots import CompareCurves

        self.setObjectName("compareWindow")
        self.setWindowTitle("Compare two models")
        self.setModal(False)
        self.setSizeGripEnabled(True)
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.main = main
        self.panel = panel
        self.project_controller = panel.controller
        self.training = panel.training
        self.background = Background(self)
        self.sides = {"A": _Side("A"), "B": _Side("B")}
        self.b_source: Project | None = None  # B as duplicated or opened, before edits
        self.b_base: Path | None = None  # B's folder (its callbacks write there)
        self.b_origin = ""
        self.message = ""
        self._hint = True
        self._queued: _Side | None = None  # B, waiting for A to begin (see `train`)
        self._stop_wanted = False
        self.last_dialog: QMessageBox | None = None
        self.exported: Path | None = None
        self._closed = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(self._build_buttons())

        self.sheet = QWidget()  # what Export PNG writes: everything but the buttons
        self.sheet.setObjectName("compareSheet")
        self.sheet.setAutoFillBackground(True)
        sheet = QVBoxLayout(self.sheet)
        sheet.setContentsMargins(4, 4, 4, 4)
        sheet.setSpacing(4)
        self.note = QLabel()
        self.note.setObjectName("compareNote")
        self.note.setWordWrap(True)
        sheet.addWidget(self.note)
        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(3)
        for column, side in enumerate(self.sides.values()):
            self._build_side(side, grid, column, BoundaryView)
        self.a_about = QLabel()
        self.a_about.setObjectName("compareAboutA")
        self.a_about.setWordWrap(True)
        self.a_about.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.a_about, 1, 0)
        grid.addWidget(self._build_editor(), 1, 1)
        self.curves = CompareCurves()
        grid.addWidget(self.curves, 0, 2, 5, 1)
        grid.setColumnStretch(0, 10)
        grid.setColumnStretch(1, 10)
        grid.setColumnStretch(2, 12)
        grid.setRowStretch(3, 1)
        sheet.addLayout(grid, 1)
        self.verdict = QLabel()
        self.verdict.setObjectName("compareVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setStyleSheet("font-weight: bold;")
        sheet.addWidget(self.verdict)
        layout.addWidget(self.sheet, 1)

        self.status = QLabel()
        self.status.setObjectName("compareStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)

        c = self.project_controller
        c.projectChanged.connect(self._on_project_changed)
        c.replaced.connect(self._update)
        c.derivedChanged.connect(self._update)
        c.datasetChanged.connect(self._on_dataset_changed)
        self.training.stateChanged.connect(self._update)
        self.training.engineRestarting.connect(self._on_engine_restarting)
        self.training.link.ready.connect(self._update)
        self.training.link.restarted.connect(self._update)
        self.training.start_engine()  # idempotent: Train needs it, and it loads Keras
        self.resize(*self._default_size())
        self._show_data()
        self._say(say.COMPARE_CHOOSE_B, hint=True)
        self._update()

    # -- building ----------------------------------------------------------------------------
    def _build_buttons(self) -> QHBoxLayout:
        icon = self.style().standardIcon
        sp = QStyle.StandardPixmap
        row = QHBoxLayout()
        row.setSpacing(6)

        def button(text: str, name: str, tip: str, slot: Any, pixmap: Any = None) -> QPushButton:
            made = QPushButton(text)
            made.setObjectName(name)
            made.setToolTip(tip)
            if pixmap is not None:
                made.setIcon(icon(pixmap))
            made.clicked.connect(lambda _checked=False: slot())
            made.setAutoDefault(False)
            return made

        self.train_button = button("Train A and B", "compareTrain", say.COMPARE_TRAIN_TIP,
                                   self.train, sp.SP_MediaPlay)
        self.stop_button = button("Stop", "compareStop", say.COMPARE_STOP_TIP, self.stop,
                                  sp.SP_MediaStop)
        self.duplicate_button = button("Duplicate This One", "compareDuplicate",
                                       say.COMPARE_DUPLICATE_TIP, self.duplicate)
        self.open_button = button("Open a Project File...", "compareOpenFile",
                                  say.COMPARE_OPEN_TIP, self.open_file)
        self.export_button = button("Export PNG...", "compareExport", say.COMPARE_EXPORT_TIP,
                                    self.export_png, sp.SP_DialogSaveButton)
        close = button("Close", "compareClose", "Close this window; the runs stop.",
                       self.close)
        b_label = QLabel("B:")
        b_label.setStyleSheet(f"color: {SIDE_COLORS['B']}; font-weight: bold;")
        for widget in (self.train_button, self.stop_button):
            row.addWidget(widget)
        row.addSpacing(16)
        row.addWidget(b_label)
        row.addWidget(self.duplicate_button)
        row.addWidget(self.open_button)
        row.addStretch(1)
        row.addWidget(self.export_button)
        row.addWidget(close)
        return row

    def _build_side(self, side: _Side, grid: QGridLayout, column: int, view_class: Any) -> None:
        side.title = QLabel(side.name)
        side.title.setObjectName(f"compareTitle{side.name}")
        side.title.setTextFormat(Qt.TextFormat.RichText)
        side.title.setWordWrap(True)
        grid.addWidget(side.title, 0, column)
        side.progress_bar = QProgressBar()
        side.progress_bar.setObjectName(f"compareProgress{side.name}")
        side.progress_bar.setRange(0, 100)
        side.progress_bar.setValue(0)
        side.progress_bar.setTextVisible(True)
        side.progress_bar.setMaximumHeight(18)
        side.progress_bar.setFormat(f"{side.name}: not trained yet")
        grid.addWidget(side.progress_bar, 2, column)
        side.stack = QStackedWidget()
        side.view = view_class()
        side.view.setObjectName(f"compareBoundary{side.name}")
        side.view.header.setVisible(False)  # one line above both says what they show
        for widget in (side.view.slider, side.view.slider_label, side.view.points_button):
            widget.setVisible(False)
        side.view.plot.setMinimumSize(160, 140)
        side.view.clicked.connect(lambda row, where, s=side: self._on_click(s, row, where))
        side.no_picture = QLabel()
        side.no_picture.setObjectName(f"compareNoPicture{side.name}")
        side.no_picture.setWordWrap(True)
        side.no_picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        side.no_picture.setStyleSheet("color: palette(dark); padding: 12px;")
        side.stack.addWidget(side.view)
        side.stack.addWidget(side.no_picture)
        side.stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        grid.addWidget(side.stack, 3, column)
        side.result = QLabel()
        side.result.setObjectName(f"compareResult{side.name}")
        side.result.setWordWrap(True)
        grid.addWidget(side.result, 4, column)

    def _build_editor(self) -> QWidget:
        """B's origin and the small editor: hidden units, activation, rate, epochs."""
        box = QWidget()
        box.setObjectName("compareEditor")
        outer = QVBoxLayout(box)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(2)
        self.b_about = QLabel()
        self.b_about.setObjectName("compareAboutB")
        self.b_about.setWordWrap(True)
        outer.addWidget(self.b_about)
        form = QGridLayout()
        form.setContentsMargins(0, 0, 0, 0)
        form.setHorizontalSpacing(4)
        form.setVerticalSpacing(2)
        self.units_edit = QLineEdit()
        self.units_edit.setObjectName("compareHiddenUnits")
        self.units_edit.setPlaceholderText("none")
        self.units_edit.setToolTip(say.COMPARE_UNITS_TIP)
        self.activation_combo = QComboBox()
        self.activation_combo.setObjectName("compareActivation")
        self.activation_combo.setToolTip("The hidden layers' activation.")
        for text, value in ACTIVATIONS:
            self.activation_combo.addItem(text, value)
        self.rate_edit = QLineEdit()
        self.rate_edit.setObjectName("compareLearningRate")
        self.rate_edit.setToolTip("The optimizer's learning rate, such as 0.01 or 1e-3.")
        self.epochs_spin = QSpinBox()
        self.epochs_spin.setObjectName("compareEpochs")
        self.epochs_spin.setRange(1, 100_000)
        self.epochs_spin.setToolTip("How many epochs B trains (A trains its own project's).")
        for row, col, text, widget in ((0, 0, "Hidden units", self.units_edit),
                                       (0, 2, "activation", self.activation_combo),
                                       (1, 0, "Learning rate", self.rate_edit),
                                       (1, 2, "epochs", self.epochs_spin)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addWidget(label, row, col)
            form.addWidget(widget, row, col + 1)
        form.setColumnStretch(1, 1)
        outer.addLayout(form)
        outer.addStretch(1)
        self.units_edit.textChanged.connect(self._on_edited)
        self.rate_edit.textChanged.connect(self._on_edited)
        self.activation_combo.currentIndexChanged.connect(self._on_edited)
        self.epochs_spin.valueChanged.connect(self._on_edited)
        self._editing = False
        self._set_editor(None)
        return box

    def _default_size(self) -> tuple[int, int]:
        width, height = DEFAULT_SIZE
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            room = screen.availableGeometry().size()
            width = min(width, int(room.width() * 0.97))
            height = min(height, int(room.height() * 0.92))
        return width, height

    # -- state ---------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True from Train until both runs have ended."""
        return any(side.running for side in self.sides.values())

    def _say(self, text: str, error: bool = False, hint: bool = False) -> None:
        """The status line. A hint (what to do next, or why Train waits) is replaced as
        the projects, the engine and the runs change; other messages stay until the next."""
        self.message = text
        self._hint = hint
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")

    def _a_project(self) -> tuple[Project, Path | None]:
        c = self.project_controller
        return c.project, (c.path.parent if c.path is not None else None)

    def b_project(self) -> Project:
        """B as it trains now: the source with the editor's changes and A's data and seed.

        Raises:
            ValueError: B is not chosen, or a field of the editor is not valid (in words).
        """
        if self.b_source is None:
            raise ValueError(say.COMPARE_CHOOSE_B)
        b = self.b_source
        known = hidden_units(b.model)
        if known is not None:
            units = parse_units(self.units_edit.text())
            activation = self.activation_combo.currentData()
            if (units, activation) != tuple(known):
                b = b.replace(model=with_hidden(b.model, units, activation))
        if learning_rate(b) is not None:
            rate = parse_rate(self.rate_edit.text())
            if rate != learning_rate(b):
                b = with_learning_rate(b, rate)
        if self.epochs_spin.value() != b.fit.get("epochs"):
            b = b.replace(fit=b.fit.replace(epochs=self.epochs_spin.value()))
        a, a_base = self._a_project()
        return b_for_comparison(a, a_base, b)

    def blocked_reason(self) -> str:
        """Why Train cannot start now, in words with what to do; "" when it can."""
        if self.running:
            return ""
        if self._closed:
            return say.CLOSING
        try:
            b = self.b_project()
        except ValueError as exc:
            return str(exc)
        if self.training.running:
            return say.COMPARE_MAIN_RUNNING
        reason = self.panel.blocked_reason()
        if reason:
            return say.compare_a_blocked(reason)
        if not self.training.link.is_ready:
            return say.COMPARE_ENGINE_NOT_READY
        c = self.project_controller
        errors = [f for f in run_checks(b, c.data_info, summarize(b.model))
                  if f.severity == ERROR]
        if errors:
            return say.compare_b_errors(errors[0].message, len(errors))
        return ""

    def _labels(self) -> tuple[str, str]:
        """The two runs' labels: those shown when there are runs, else the next ones."""
        a, b = self.sides["A"].project, self.sides["B"].project
        if a is None or b is None:
            a, a_base = self._a_project()
            try:
                b = self.b_project()
            except ValueError:  # a field being typed: B as it was chosen
                b = None if self.b_source is None else \
                    b_for_comparison(a, a_base, self.b_source)
        if b is None:
            return f"A: {run_labels([run_facts(a)])[0]}", "B: not chosen yet"
        label_a, label_b = run_labels([run_facts(a), run_facts(b)])
        return f"A: {label_a}", f"B: {label_b}"

    @Slot()
    def _update(self, *_args: Any) -> None:
        """Buttons, titles and the note follow the projects, the engine and the runs."""
        if self._closed:
            return
        running = self.running
        blocked = self.blocked_reason()
        self.train_button.setEnabled(not running and not blocked)
        self.train_button.setToolTip(blocked or say.COMPARE_TRAIN_TIP)
        self.stop_button.setEnabled(running)
        for widget in (self.duplicate_button, self.open_button):
            widget.setEnabled(not running)
        self._set_editor_enabled(not running and self.b_source is not None)
        label_a, label_b = self._labels()
        for side, label in ((self.sides["A"], label_a), (self.sides["B"], label_b)):
            side.label = label
            side.title.setText(f"<span style='color:{side.color}; font-size:14pt'>&#9632;</span>"
                               f" <b style='font-size:11pt'>{html.escape(label)}</b>")
        self.curves.set_labels(label_a, label_b)
        a, _base = self._a_project()
        boundary = self.sides["A"].view.header.text() if not _drawable(
            self.project_controller.dataset) else ""
        self.note.setText(say.compare_shared(data_words(a), seed_words(a), boundary))
        self.a_about.setText(say.compare_a_about(a.name))
        if not running and self._hint:
            self._say(blocked or (say.COMPARE_CHANGED if self._changed() else say.COMPARE_READY),
                      error=blocked not in ("", say.COMPARE_CHOOSE_B,
                                            say.COMPARE_ENGINE_NOT_READY), hint=True)

    def _changed(self) -> bool:
        """True when the runs shown are not what Train would run now."""
        a, b = self.sides["A"].project, self.sides["B"].project
        if a is None or b is None:
            return False
        try:
            return a != self._a_project()[0] or b != self.b_project()
        except ValueError:
            return True

    # -- choosing and changing B ---------------------------------------------------------------
    @Slot()
    def duplicate(self) -> bool:
        """B becomes a copy of A (the project in the main window), to change here."""
        if self.running:
            return False
        a, a_base = self._a_project()
        self._set_b(a.replace(name=f"{a.name} (copy)"), a_base, say.COMPARE_B_COPY)
        return True

    @Slot()
    def open_file(self, path: str | Path | None = None) -> bool:
        """B becomes a project file, loaded as File > Open loads one: a bad file is refused
        with its problems listed, outside paths are asked about; B stays as it was then."""
        if self.running:
            return False
        if path is None:
            c = self.project_controller
            start = str(c.path.parent) if c.path is not None else ""
            chosen, _ = QFileDialog.getOpenFileName(self, "Compare with a project", start,
                                                    PROJECT_FILTER)
            if not chosen:
                return False
            path = chosen
        with guarded(self, path, title=say.COMPARE_CANNOT_OPEN):
            project = load_consented(self, lambda: load_project(path))
            if project is None:
                return False
            self._set_b(project, Path(path).resolve().parent,
                        say.compare_b_file(Path(path).name))
            return True
        self._say(say.compare_not_opened(Path(path).name), error=True)
        return False

    def _set_b(self, project: Project, base: Path | None, origin: str) -> None:
        self.b_source, self.b_base, self.b_origin = project, base, origin
        self._clear_runs()  # a new B: the old comparison no longer answers anything
        self._set_editor(project)
        self._say(say.COMPARE_READY, hint=True)
        self._update()

    def _clear_runs(self) -> None:
        self._queued = None
        for side in self.sides.values():
            side.close_session()
            side.project = None
            side.history = {}
            side.started = side.progress = side.ended = None
            side.state = "idle"
            side.result.setText("")
            side.progress_bar.setValue(0)
            side.progress_bar.setFormat(f"{side.name}: not trained yet")
            side.view.show_grid(None)
            side.view.hide_click()
        self.curves.clear()
        self.verdict.setText("")
        self._show_data()

    def _set_editor(self, project: Project | None) -> None:
        self._editing = True
        try:
            self.b_about.setText(self.b_origin if project is not None else say.COMPARE_NO_B)
            known = hidden_units(project.model) if project is not None else None
            if known is not None:
                units, activation = known
                self.units_edit.setText(", ".join(str(u) for u in units))
                index = self.activation_combo.findData(activation)
                if index < 0:
                    self.activation_combo.addItem(str(activation), activation)
                    index = self.activation_combo.count() - 1
                self.activation_combo.setCurrentIndex(index)
            else:
                self.units_edit.setText("")
            rate = learning_rate(project) if project is not None else None
            self.rate_edit.setText(f"{rate:g}" if rate is not None else "")
            epochs = project.fit.get("epochs") if project is not None else 1
            self.epochs_spin.setValue(int(epochs or 1))
            self._hidden_editable = known is not None
            self._rate_editable = rate is not None
            tip = say.COMPARE_UNITS_TIP if known is not None else say.COMPARE_UNITS_NOT_DENSE
            self.units_edit.setToolTip(tip)
            self.rate_edit.setToolTip("The optimizer's learning rate, such as 0.01 or 1e-3."
                                      if rate is not None else say.COMPARE_NO_RATE)
        finally:
            self._editing = False

    def _set_editor_enabled(self, on: bool) -> None:
        self.units_edit.setEnabled(on and getattr(self, "_hidden_editable", False))
        self.activation_combo.setEnabled(on and getattr(self, "_hidden_editable", False))
        self.rate_edit.setEnabled(on and getattr(self, "_rate_editable", False))
        self.epochs_spin.setEnabled(on)

    @Slot()
    def _on_edited(self, *_args: Any) -> None:
        """A field of B's editor changed: the status says what is wrong with it, or that
        the runs shown are not the ones Train runs now (`_update`)."""
        if self._editing or self.b_source is None:
            return
        self._hint = True
        self._update()

    # -- training ------------------------------------------------------------------------------
    @Slot()
    def train(self) -> bool:
        """Trains A and B at once, from fresh weights, each for its own project's epochs."""
        if self.running:
            return False
        reason = self.blocked_reason()
        if reason:
            self._say(reason, error=True, hint=True)
            self._update()
            return False
        a, a_base = self._a_project()
        b = self.b_project()
        dataset = self.project_controller.dataset
        self._show_data()
        both = set(expected_quantities([m.type for m in a.compile.metrics])) & set(
            expected_quantities([m.type for m in b.compile.metrics]))
        self.curves.clear()
        self.curves.prepare([n for n in expected_quantities(
            [m.type for m in a.compile.metrics]) if n in both])
        self.verdict.setText("")
        plan = ((self.sides["A"], a, a_base), (self.sides["B"], b, self.b_base))
        for side, project, _base in plan:
            side.close_session()
            side.reset(project)
            side.result.setText("")
            side.result.setStyleSheet("")
            side.view.show_grid(None)
            side.view.hide_click()
            side.progress_bar.setValue(0)
            side.progress_bar.setFormat(f"{side.name}: starting...")
        self._update()  # titles: the projects now training
        self._stop_wanted = False
        for side, project, base in plan:
            try:
                session = self.training.new_session(project, base_dir=base, dataset=dataset,
                                                    progress_interval=PROGRESS_INTERVAL)
                bridge = SessionBridge(DRAW_RATE, self)
                bridge.prepare = side.view.pictures
                bridge.delivered.connect(
                    lambda events, s=side, b=bridge: self._on_events(s, b, events))
                session.subscribe(bridge.listener)
                side.session, side.bridge = session, bridge
            except (SessionError, TimeoutError, OSError, ValueError, RuntimeError) as exc:
                self._side_failed(side, say.compare_could_not_start(side.name, exc))
        # B starts once A has built its model and drawn its data order: both sessions live
        # in one engine process, whose random state (Keras's global seed) they would
        # otherwise draw from in turns, and a copy of A would not train as A does.
        self._queued = self.sides["B"] if self.sides["B"].running else None
        a_side = self.sides["A"]
        if a_side.running:
            self._start(a_side)
        else:
            self._start_queued()
        if self.running:
            self._say(say.COMPARE_STARTING)
        self._update()
        return self.running

    def _start(self, side: _Side) -> None:
        try:
            side.session.start()
        except (SessionError, TimeoutError, OSError, ValueError, RuntimeError) as exc:
            self._side_failed(side, say.compare_could_not_start(side.name, exc))

    def _start_queued(self) -> None:
        """Starts B (A has begun training, or could not)."""
        side, self._queued = self._queued, None
        if side is None or not side.running or side.session is None:
            return
        if self._stop_wanted:
            self._side_ended(side, Finished(0, {}, "stopped", "stopped before training began",
                                            0))
            return
        self._start(side)

    @Slot()
    def stop(self) -> None:
        """Ends both runs after the current batch; what they drew stays."""
        if not self.running:
            return
        self._stop_wanted = True
        for side in self.sides.values():
            if side.running and side.session is not None and side is not self._queued:
                side.session.stop()
        self._say(say.COMPARE_STOPPING)
        if self._queued is not None and not self.sides["A"].running:
            self._start_queued()

    def _on_events(self, side: _Side, bridge: SessionBridge, events: list[Any]) -> None:
        assert QThread.currentThread() is self.thread(), "events are handled on the GUI thread"
        if self._closed or bridge is not side.bridge:
            return  # a session that was replaced
        latest: tuple[Any, Any] | None = None
        grew = False
        ended: Finished | Failed | None = None
        for event in events:
            if isinstance(event, Started):
                side.started = event
                side.state = "running"
                if self._queued is not None and self._queued is not side:
                    self._start_queued()  # A's model and data order are drawn
            elif isinstance(event, BatchProgress):
                side.progress = event
                side.elapsed = event.elapsed
            elif isinstance(event, EpochEnd):
                for key, value in event.logs.items():
                    side.history.setdefault(key, []).append(value)
                side.epochs_done += 1
                side.progress = None
                side.elapsed = event.elapsed
                grew = True
            elif isinstance(event, PreparedSnapshot):
                latest = (event.snapshot.grid, event.picture)
            elif isinstance(event, BoundarySnapshot):
                latest = (event.grid, None)
            elif isinstance(event, (Finished, Failed)):
                ended = event
        if latest is not None and side.stack.currentWidget() is side.view:
            side.view.show_grid(*latest)
        if grew:
            self._draw_curves()
        self._show_progress(side)
        if ended is not None:
            self._side_ended(side, ended)

    def _draw_curves(self) -> None:
        self.curves.draw({name: side.history for name, side in self.sides.items()})

    def _show_progress(self, side: _Side) -> None:
        started = side.started
        if started is None:
            return
        total = max(1, started.epochs - started.initial_epoch)
        within = side.progress.step / max(1, side.progress.steps) if side.progress else 0.0
        done = min(total, side.epochs_done + within)
        side.progress_bar.setValue(int(100 * done / total))
        if side.running:
            current = min(side.epochs_done + 1, total)
            side.progress_bar.setFormat(f"{side.name}: epoch {current} of {total}")

    def _side_ended(self, side: _Side, event: Finished | Failed) -> None:
        side.ended = event
        if self._queued is not None and self._queued is not side:
            self._start_queued()  # A ended before it began (a failure): B goes on
        text, error = describe_end(side.name, event, side.history)
        side.state = "failed" if error else "done"
        side.result.setText(text)
        side.result.setStyleSheet(ERROR_STYLE if error else "")
        if side.started is not None:
            side.progress_bar.setFormat(f"{side.name}: {side.epochs_done} epochs in "
                                        f"{side.elapsed:.1f} s")
        elif isinstance(event, Failed):
            side.progress_bar.setFormat(f"{side.name}: did not train")
        self._draw_curves()
        if not self.running:
            self._all_ended()
        self._update()

    def _side_failed(self, side: _Side, text: str) -> None:
        if self._queued is side:
            self._queued = None
        side.state = "failed"
        side.close_session()
        side.result.setText(text)
        side.result.setStyleSheet(ERROR_STYLE)
        side.progress_bar.setFormat(f"{side.name}: did not train")
        if not self.running:
            self._all_ended()

    def _all_ended(self) -> None:
        a, b = self.sides["A"], self.sides["B"]
        line = verdict(a.history, b.history)
        self.verdict.setText(line)
        failed = [s.name for s in (a, b) if s.state == "failed"]
        if failed:
            self._say(say.compare_failed(failed), error=True)
        else:
            self._say(say.COMPARE_DONE)

    @Slot()
    def _on_engine_restarting(self) -> None:
        """The engine is being restarted on request: both sessions go with it."""
        was = self.running
        self._queued = None
        for side in self.sides.values():
            side.close_session()
            if side.running:
                side.state = "failed"
                side.progress_bar.setFormat(f"{side.name}: stopped")
        if was:
            self._say(say.COMPARE_ENGINE_RESTARTED, error=True)
        self._update()

    # -- data and pictures ---------------------------------------------------------------------
    def _show_data(self) -> None:
        """Both views draw A's data (the data both train on), or say why they cannot."""
        dataset = self.project_controller.dataset
        why = _drawable(dataset)
        for side in self.sides.values():
            if why:
                side.no_picture.setText(say.compare_no_picture(why))
                side.stack.setCurrentWidget(side.no_picture)
            else:
                side.view.set_dataset(dataset)
                side.stack.setCurrentWidget(side.view)

    @Slot()
    def _on_dataset_changed(self) -> None:
        if not self.running and all(s.project is None for s in self.sides.values()):
            self._show_data()
        self._update()

    @Slot(object, object)
    def _on_project_changed(self, _old: Any, _new: Any) -> None:
        if not self.running:
            self._hint = True  # "A changed since these runs", or why Train waits
        self._update()

    def _on_click(self, side: _Side, row: Any, _where: Any) -> None:
        """A click on a picture: that side's model predicts the point (off the GUI thread)."""
        session, view = side.session, side.view
        if session is None or side.running or not side.history:
            view.show_click_result(say.COMPARE_PREDICT_FIRST)
            return
        dataset = self.project_controller.dataset
        project = side.project
        from_logits = bool(project.compile.loss.args.get("from_logits", False)) \
            if project is not None else False

        def done(outputs: Any) -> None:
            text, _ranked = describe_prediction(
                outputs[0], dataset.task if dataset is not None else "binary",
                dataset.class_names if dataset is not None else None, from_logits)
            view.show_click_result(f"{side.name}: {text}")

        self.background.call(lambda: session.predict(row), done,
                             lambda exc: view.show_click_result(f"could not predict: {exc}"))

    # -- exporting -----------------------------------------------------------------------------
    def png_bytes(self) -> bytes:
        """The whole comparison (titles, both pictures, the curves, the answer) as PNG."""
        image = self.sheet.grab().toImage()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        ok = image.save(buffer, "PNG")
        buffer.close()
        if not ok:
            raise OSError("Qt could not encode the picture as PNG")
        return bytes(data.data())

    @Slot()
    def export_png(self, path: str | Path | None = None) -> bool:
        """Writes the comparison as one PNG (atomically: a failure leaves any old file)."""
        if path is None:
            target = self.main.files.ask_export_path("Export the comparison as PNG", ".png",
                                                     "PNG images (*.png)", "-compare", self)
            if target is None:
                return False
        else:
            target = Path(path)
            if target.suffix.lower() != ".png":
                target = target.with_name(target.name + ".png")
        try:
            write_atomic(target, self.png_bytes())
        except OSError as exc:
            self.show_error(say.COMPARE_EXPORT_FAILED,
                            say.compare_export_failed(target, exc.strerror or exc))
            return False
        self.exported = target
        self._say(say.compare_exported(target))
        return True

    # -- what guard.py asks of a window --------------------------------------------------------
    def show_error(self, title: str, text: str) -> QMessageBox:
        """A non-blocking warning over this window; kept in `last_dialog` for tests."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
        box.setObjectName("compareErrorDialog")
        box.setStyleSheet("QLabel#qt_msgbox_label { min-width: 520px; }")
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()
        self.last_dialog = box
        return box

    def ask_outside(self, exc: Any) -> str:
        """The outside-paths question, as File > Open asks it (the main window's)."""
        asker = getattr(self.main, "ask_outside", None)
        return asker(exc) if asker is not None else ask_outside(self, exc)

    # -- closing -------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.stop()  # nobody watches them; the pictures and curves stay
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self.stop()
        super().reject()

    def shutdown(self) -> None:
        """Ends both sessions (the main window is closing); idempotent."""
        if self._closed:
            return
        self._closed = True
        for side in self.sides.values():
            side.close_session()
        self.background.wait(2000)


class CompareLauncher(DialogLauncher):
    """The Training menu's "Compare With..." and the one window it opens.

    Args:
        window: the main window (the compare window's parent; its `ask_outside`).
        panel: the training panel (controllers, `blocked_reason`).
        menu: where the action goes.
    """

    def __init__(self, window: Any, panel: TrainingPanel, menu: QMenu) -> None:
        super().__init__(window, menu, "Compare &With...", "actCompareWith",
                         say.COMPARE_ACTION_TIP, lambda: CompareWindow(window, panel))
        self.window_ = window
        self.panel = panel
