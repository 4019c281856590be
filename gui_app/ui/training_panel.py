"""The Training tab: controls, progress, live plots, the decision boundary, evaluate, predict.

The panel owns one `TrainingSession` at a time (the engine, `core/training.py`) and reads
it only through events, delivered in GUI-thread batches by a `SessionBridge`. The editor
is locked from Train until the run's Finished or Failed event, so the model cannot change
under a running fit.

What a person does:

- Train (Ctrl+Return): fresh weights, the project's epochs; the run before stays on the
  plots as a faint overlay.
- Continue (Ctrl+Shift+Return): more epochs on the same weights; History and curves go on.
  A changed optimizer, learning rate, loss or metric is applied with the weights kept
  (`session.set_compile` via `set_project`), and the plots mark the epoch it changed at.
- Step one epoch (F10), Pause / Resume (Space), Stop (Esc), Reset weights (Ctrl+Shift+R),
  Evaluate (Ctrl+E).
- A changed model or data means new weights: the panel says so, Continue is off, and the
  next Train builds the new model.

Closing the window stops a run and ends the worker within about a second (`shutdown`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QSize, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QColor, QIcon, QKeySequence, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.boundary import (
    Plane,
    SnapshotStore,
    forward_cost,
    make_plane,
    make_probe,
    plane_probe,
    plane_resolution,
)
from ..core.boundary.plane_snapshots import PlaneSnapshots
from ..core.boundary.units import UnitSnapshot
from ..core.checks import ERROR
from ..core.data import Dataset
from ..core.diagnostics.events import FindingEvent
from ..core.diagnostics.layers import LayerStatsEvent
from ..core.history_views import (
    RunRecord,
    describe_prediction,
    expected_quantities,
    format_duration,
    time_left,
)
from ..core.image_sample import ImageSample, read_image_sample
from ..core.run_labels import RunFacts, run_facts, run_labels
from ..core.spec import Project
from ..core.training import (
    BatchProgress,
    BoundarySnapshot,
    EpochEnd,
    Event,
    Failed,
    Finished,
    SessionError,
    Started,
    allow_cores,
    keep_off_core,
)
from ..engine.client import ENGINE_DIED
from . import mailbox
from . import messages as say
from .fields import SteadyLabel
from .frames import after_paint, after_paints, next_turn
from .keras_loader import plotting_importing
from .session_bridge import Background, PreparedSnapshot, SessionBridge
from .text_scale import text_scale
from .training_controller import TrainingController

if TYPE_CHECKING:
    from ..core.training import TrainingSession
    from .boundary_view import BoundaryView
    from .controller import ProjectController
    from .neuron_strip import NeuronStrip
    from .plots import MetricPlots
    from .predict_panel import PredictPanel

#: Redraws per second while training, at most (the bridge's rate). Asked for 20: the
#: pictures wait for batch boundaries (or a compiled chunk's end) and come a little slower
#: than asked, and 15 a second is what looks smooth on a projector (issue 12's goal).
#: The window paints in its own process, so the rate costs the engine only the pictures.
MAX_RATE = 20.0
#: Seconds between progress events and boundary pictures while training: one picture per
#: redraw (the bridge delivers each picture as it comes, with the curves of that moment).
PROGRESS_INTERVAL = 1.0 / MAX_RATE
#: Progress bar and speed updates per second at most.
PROGRESS_RATE = 4.0
#: The share of training time the pictures over a plane may take (the visible plane of two
#: inputs, or one through wide inputs). 8 %: at 4 % the circle's pictures (a 100 x 100
#: grid, about 4 ms each) came 9 a second, under the 15 redraws a second that look smooth;
#: the compiled loop trains 20 times faster than `fit`, so the share is cheap.
PLANE_BUDGET = 0.08
#: Milliseconds after Pause before the paused weights' picture is asked for: the worker
#: finishes the batch (or compiled chunk) in flight first.
PAUSE_PICTURE_MS = 150
#: Seconds the Training tab, shown at start, waits for pyqtgraph to be imported off the
#: GUI thread before its views import it themselves.
VIEWS_WAIT_S = 1.5
#: How long closing the window waits for the worker to end.
CLOSE_TIMEOUT = 2.0
#: The Boundary tab's words for a folder of images while the engine decodes the sample of
#: it that the plane is laid through (`core.image_sample`), and if that fails.
IMAGES_SAMPLING = "Reading a sample of the images for the plane..."
IMAGES_WAITING = ("The plane through the images is laid through a sample of them, which the "
                  "training engine reads: it comes once the engine is ready, or at Train.")
IMAGES_SAMPLE_FAILED = ("No plane through the images: the training engine could not read a "
                        "sample of them ({reason}). Evaluate and the Predict tab still work.")
BANNER_STYLE = ("background: #fff3cd; color: #664d03; border: 1px solid #e0c36b; "
                "border-radius: 3px; padding: 4px 8px; font-weight: bold;")
ERROR_STYLE = "color: #b00020;"




def _set_bar(bar: QProgressBar, value: int) -> None:
    """`bar.setValue(value)` repainted with the rest of the window, not on the spot.

    QProgressBar repaints itself synchronously on every visible change, which flushes the
    window's backing store on its own (about 0.7 ms here, several times a second during
    training); with updates off for the change, the repaint joins the next regular one.
    """
    if bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    bar.setValue(value)
    bar.setUpdatesEnabled(True)  # schedules an ordinary update()


def run_label(project: Project) -> str:
    """A run's label on its own: model shape and activation, optimizer and rate."""
    return run_labels([run_facts(project)])[0]


def _session_key(project: Project, dataset: Dataset | None) -> tuple:
    """What a session's weights depend on: a change means a new model.

    Not the project's folder: saving the project somewhere new keeps the trained weights
    (data read from a relative path is reloaded then, and that changes the dataset).
    """
    return (project.model, dict(project.data), id(dataset))


@dataclass
class _RunState:
    """What the progress widgets show for the run in progress."""

    started: Started
    epochs_done: int = 0
    progress: BatchProgress | None = None
    elapsed: float = 0.0
    warmup: float = 0.0  # of `elapsed`, the seconds spent tracing and compiling
    ended: bool = False  # the run is over: what it took is shown, not a time left


class TrainingPanel(QWidget):
    """The Training tab. It knows the project (`controller`) and the run's owner
    (`training`), never the window: the window places it, and listens to its signals.

    Signals:
        runEnded(object): the Finished or Failed event of a run, after the panel handled it.
        stateChanged(str): "idle", "starting", "running", "paused", "stopping".
        wantsRoom(): a run is starting; the window shows the Training tab, large enough.
        showLayer(int): a diagnostic points at this layer (its index in the model).
    """

    runEnded = Signal(object)
    stateChanged = Signal(str)
    wantsRoom = Signal()
    showLayer = Signal(int)

    def __init__(self, controller: ProjectController, training: TrainingController | None = None,
                 session_factory: Callable[..., Any] | None = None,
                 bridge_rate: float = MAX_RATE) -> None:
        super().__init__()
        self.setObjectName("trainingPanel")
        self.controller = controller
        self.training = training if training is not None else TrainingController(controller, self)
        #: Loads the weights saved beside the opened project into a session, or None when
        #: none wait (set by the window's file actions); returns what to tell the person.
        self.saved_weights: Callable[[], Callable[[Any], str | None] | None] = lambda: None
        self._session_factory = session_factory
        self.bridge_rate = bridge_rate
        self.session: TrainingSession | None = None
        self.bridge: SessionBridge | None = None
        self.plane_source: PlaneSnapshots | None = None
        self._session_key: tuple | None = None
        self.background = Background(self)
        self.records: list[RunRecord] = []
        self.record: RunRecord | None = None
        #: per run number: what its label may mention, and what Continue added to it
        self._facts: dict[int, RunFacts] = {}
        self._label_tail: dict[int, str] = {}
        self._grid_probe: tuple[tuple, Any] | None = None  # between runs, for 2-D data
        self._weights_wanted = False  # weights saved with the project wait to be shown
        self.store = SnapshotStore()
        self.run_state: _RunState | None = None
        self.closed = False
        self.plane: Plane | None = None
        self._plane_choice: tuple[str, tuple[int, int]] = ("pca", (0, 1))
        self._plane_for: Dataset | None = None
        #: What the plane is laid through and the view draws: the dataset itself, or for a
        #: folder of images the sample of it the engine decoded (None until it has).
        self.plane_data: Dataset | None = None
        self._sampling: Dataset | None = None  # the folder whose sample is being read
        self._scrub_index = -1
        self._dirty = False
        self._pending_marker: str | None = None
        self.last_message: QMessageBox | None = None
        self.message_text = ""
        self.plots: MetricPlots | None = None
        self.boundary: BoundaryView | None = None
        self._boundary_plot: Any = None  # its plot, made a turn ahead (_view_stages)
        self.predict_panel: PredictPanel | None = None
        self.diagnostics: Any = None  # the Diagnostics tab (diagnostics_view.py)
        self.xray: Any = None  # the X-ray tab (xray_view.py)
        self.layers: Any = None  # the Layers tab (layers_view.py)
        self._pending_fix: dict | None = None  # asked for during a run: applied at its end
        self.evaluate_dialog: QWidget | None = None
        self.device = ""
        self._toolbar_sizes: tuple[str, int] | None = None
        self._loaded_weights = False  # the session holds weights loaded from a file
        self._loading_weights = False
        self._reset_pending = False  # Reset was pressed; the worker has not done it yet
        self._cancel_start = False
        self._progress_shown = 0.0
        self._probe_key: tuple | None = None
        self.neurons: NeuronStrip | None = None
        self._units: Any = None  # the newest UnitPictures of the run, not drawn yet
        self._slate = 0  # counts projects opened: late answers for an earlier one are dropped
        self._views_pending: tuple[RunRecord, int] | None = None  # see _new_record
        self._views_coming = False  # the views are being made, one per turn (_next_view)
        self._views_wait_until = 0.0
        self._views_need_data = False  # the plots are made, the data not drawn in yet
        self._picture: Any = None  # the newest snapshot, made ready to draw (or None)
        #: the cores the GUI thread had before it kept off the training core (a run)
        self._gui_cores: set[int] | None = None
        self._build_actions()
        self._build()
        self.controller.projectChanged.connect(self._on_project_changed)
        self.controller.datasetChanged.connect(self._on_dataset_changed)
        self.controller.derivedChanged.connect(self._update_actions)
        self.controller.replaced.connect(self._on_project_replaced)
        self.training.lockedChanged.connect(self.banner.setVisible)
        self.banner.setVisible(self.training.locked)  # the panel may come after a lock
        self._on_training_state(self.training.state)
        self.training.stateChanged.connect(self._on_training_state)
        self.training.deviceChanged.connect(self._on_device_chosen)
        self.training.engineRestarting.connect(self.engine_restarting)
        self._update_actions()

    # -- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 2)
        layout.setSpacing(3)

        # A tool bar rather than a row of buttons: on a narrow window the buttons that do
        # not fit move into its overflow menu instead of widening the window.
        self.toolbar = QToolBar()
        self.toolbar.setObjectName("trainingToolBar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(QSize(16, 16))
        self.more_epochs = QSpinBox()
        self.more_epochs.setObjectName("moreEpochs")
        self.more_epochs.setRange(1, 100_000)
        self.more_epochs.setValue(10)
        self.more_epochs.setSuffix(" epochs")
        self.more_epochs.setToolTip("How many more epochs Continue trains.")
        for act in (self.act_train, self.act_pause, self.act_stop):
            self.toolbar.addAction(act)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.act_continue)
        self.toolbar.addWidget(self.more_epochs)
        self.toolbar.addAction(self.act_step)
        self.toolbar.addSeparator()
        self.toolbar.addAction(self.act_reset)
        self.toolbar.addAction(self.act_evaluate)
        self.train_button = self.toolbar.widgetForAction(self.act_train)
        self.pause_button = self.toolbar.widgetForAction(self.act_pause)
        self.stop_button = self.toolbar.widgetForAction(self.act_stop)
        self.continue_button = self.toolbar.widgetForAction(self.act_continue)
        self.step_button = self.toolbar.widgetForAction(self.act_step)
        self.reset_button = self.toolbar.widgetForAction(self.act_reset)
        self.evaluate_button = self.toolbar.widgetForAction(self.act_evaluate)
        self.runs_button = QToolButton()
        self.runs_button.setObjectName("runsButton")
        self.runs_button.setText("Earlier runs")
        self.runs_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.runs_menu = QMenu(self.runs_button)
        self.runs_menu.setObjectName("runsMenu")
        self.runs_menu.setToolTipsVisible(True)
        self.runs_button.setMenu(self.runs_menu)
        self.runs_button.setToolTip("Show or hide the curves of earlier runs on the plots.")
        self.log_loss = QCheckBox("log loss")
        self.log_loss.setObjectName("logLoss")
        self.log_loss.setToolTip("Draw the loss on a logarithmic scale.")
        self.device_label = QLabel("Device: -")
        self.device_label.setObjectName("deviceLabel")
        self.device_label.setToolTip("Where the model trains: the GPU's name, or CPU.")
        controls = QHBoxLayout()
        controls.setSpacing(4)
        controls.addWidget(self.toolbar, 1)
        controls.addWidget(self.device_label)
        layout.addLayout(controls)

        progress = QHBoxLayout()
        progress.setSpacing(6)
        self.run_bar = QProgressBar()
        self.run_bar.setAutoFillBackground(True)  # see SteadyLabel: no repaint from below
        self.run_bar.setObjectName("runProgress")
        # 0..100: QProgressBar repaints at once (not later) on every value change, so
        # percent steps keep that to a hundred repaints a run
        self.run_bar.setRange(0, 100)
        self.run_bar.setFormat("Run: not started")
        self.run_bar.setToolTip("Epochs done in this run.")
        self.epoch_bar = QProgressBar()
        self.epoch_bar.setAutoFillBackground(True)
        self.epoch_bar.setObjectName("epochProgress")
        self.epoch_bar.setRange(0, 100)
        self.epoch_bar.setFormat("Epoch")
        self.epoch_bar.setToolTip("Batches done in this epoch.")
        for bar in (self.run_bar, self.epoch_bar):
            bar.setTextVisible(True)
            bar.setMaximumHeight(18)
            bar.setValue(0)
        # fixed size: its text changes a few times a second (see SteadyLabel)
        self.speed_label = SteadyLabel("9,999,999 samples/s, 99 h 59 min left")
        self.speed_label.setObjectName("speedLabel")
        self.speed_label.setToolTip("Training speed and the time this run still needs.")
        progress.addWidget(self.run_bar, 3)
        progress.addWidget(self.epoch_bar, 2)
        progress.addWidget(self.speed_label, 2)
        layout.addLayout(progress)

        self.message = QLabel("Press Train (Ctrl+Return) to train the model on the data.")
        self.message.setObjectName("trainingMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("trainingSplitter")
        self.splitter.setChildrenCollapsible(False)
        self.plots_holder = QWidget()
        QVBoxLayout(self.plots_holder).setContentsMargins(0, 0, 0, 0)
        self.side_tabs = QTabWidget()
        self.side_tabs.setObjectName("trainingSideTabs")
        self.side_tabs.setDocumentMode(True)
        self.boundary_holder = QWidget()
        QVBoxLayout(self.boundary_holder).setContentsMargins(0, 0, 0, 0)
        self.predict_holder = QWidget()
        QVBoxLayout(self.predict_holder).setContentsMargins(0, 0, 0, 0)
        self.side_tabs.addTab(self.boundary_holder, "Boundary")
        self.side_tabs.addTab(self.predict_holder, "Predict")
        self.side_tabs.setTabToolTip(0, "What the model predicts over the input plane.")
        self.side_tabs.setTabToolTip(1, "Type an input and see the prediction.")
        self.splitter.addWidget(self.plots_holder)
        self.splitter.addWidget(self.side_tabs)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        layout.addWidget(self.splitter, 1)

        bottom = QHBoxLayout()
        self.readout = QLabel("")
        self.readout.setObjectName("trainingReadout")
        self.readout.setStyleSheet("color: palette(dark);")
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout.setToolTip("The values under the mouse, or at the epoch the slider shows.")
        bottom.addWidget(self.readout, 1)
        bottom.addWidget(self.runs_button)
        bottom.addWidget(self.log_loss)
        layout.addLayout(bottom)

        self.banner = QLabel(say.RUN_BANNER)
        self.banner.setObjectName("trainingBanner")
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.setWordWrap(True)
        self.banner.setVisible(False)

        self.log_loss.toggled.connect(self._on_log_loss)

    def _build_actions(self) -> None:
        style = self.style()
        icon = style.standardIcon
        sp = QStyle.StandardPixmap

        def action(text: str, slot: Callable[[], None], shortcut: str | None, tip: str,
                   name: str, pixmap: QStyle.StandardPixmap | None = None) -> QAction:
            act = QAction(text, self)
            act.setObjectName(name)
            if pixmap is not None:
                act.setIcon(icon(pixmap))
            if shortcut:
                act.setShortcut(QKeySequence(shortcut))
                act.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
                shown = act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                act.setToolTip(f"{tip} ({shown})")
            else:
                act.setToolTip(tip)
            act.setStatusTip(tip)
            act.triggered.connect(slot)
            return act

        self.act_train = action("Train", self.train, "Ctrl+Return",
                                "Train from fresh weights for the project's epochs; the "
                                "previous run stays on the plots", "actTrain", sp.SP_MediaPlay)
        self.act_pause = action("Pause", self.toggle_pause, "Space",
                                "Pause the run before its next batch, or resume it",
                                "actPause", sp.SP_MediaPause)
        self.act_stop = action("Stop", self.stop, "Esc",
                               "Stop after the current batch; the weights are kept",
                               "actStop", sp.SP_MediaStop)
        self.act_continue = action("Continue", self.continue_training, "Ctrl+Shift+Return",
                                   "Train more epochs on the same weights; the curves go on",
                                   "actContinue", sp.SP_MediaSeekForward)
        self.act_step = action("Step", self.step_epoch, "F10",
                               "Train exactly one more epoch", "actStep",
                               sp.SP_MediaSkipForward)
        self.act_reset = action("Reset", self.reset_weights, "Ctrl+Shift+R",
                                "Forget the trained weights and start again from new ones",
                                "actResetWeights", sp.SP_BrowserReload)
        self.act_evaluate = action("Evaluate...", self.evaluate, "Ctrl+E",
                                   "Loss, metrics and confusion matrix on held-out data",
                                   "actEvaluate", sp.SP_FileDialogDetailedView)
        self.actions_list = [self.act_train, self.act_pause, self.act_stop, self.act_continue,
                             self.act_step, self.act_reset, self.act_evaluate]

    # -- lazily made views (pyqtgraph is imported after the window is up) -------------------

    def ensure_views(self) -> None:
        """Creates the plots, the boundary view and the predict form (imports pyqtgraph)."""
        for stage in self._view_stages():
            stage()

    def _view_stages(self) -> list[Callable[[], None]]:
        """What is left to make of the views, in order: each a step of its own, so that
        `warm_up` can make them one per turn of the event loop (all at once they held the
        GUI thread for 75 ms). `self.plots` is made last: it says the views are all there."""
        if self.plots is not None:
            return [self._draw_data] if self._views_need_data else []
        stages = []
        if self.boundary is None:
            if self._boundary_plot is None:
                stages.append(self._make_boundary_plot)
            stages.append(self._make_boundary)
        if self.neurons is None:
            stages.append(self._make_neurons)
        if self.diagnostics is None:
            stages.append(self._make_diagnostics)
        if self.xray is None:
            stages.append(self._make_xray)
        if self.layers is None:
            stages.append(self._make_layers)
        if self.predict_panel is None:
            stages.append(self._make_predict)
        return [*stages, self._make_plots]

    def _view_stage(self, stage: Callable[[], None]) -> None:
        """One step of `_view_stages`, made on its own turn of the event loop."""
        if stage == self._make_plots:
            self._make_plots(data_later=True)
        else:
            stage()

    def _draw_data(self) -> None:
        self._views_need_data = False
        self._on_dataset_changed()

    def views_pending(self) -> bool:
        """True while some view is still to be made (or its data drawn)."""
        return bool(self._view_stages())

    def make_next_view(self) -> None:
        """Makes the next view (`_view_stages`): the window's start makes them one per
        turn of its event loop."""
        stages = self._view_stages()
        if stages and not self.closed:
            self._view_stage(stages[0])

    def _make_boundary_plot(self) -> None:
        from . import qt_painting

        self._boundary_plot = qt_painting.plot_widget()
        self._boundary_plot.setParent(self)  # (not shown until the view takes it)

    def _make_boundary(self) -> None:
        from .boundary_view import BoundaryView

        plot, self._boundary_plot = self._boundary_plot, None
        self.boundary = BoundaryView(plot=plot)
        self.boundary_holder.layout().addWidget(self.boundary)
        self.boundary.scrubbed.connect(self._on_scrub)
        self.boundary.clicked.connect(self._on_boundary_click)
        self.boundary.planeRequested.connect(self._on_plane_requested)
        self.boundary.rangeRequested.connect(self._on_view_range)
        scale = text_scale()  # View > Larger Text: thicker lines, bigger points and ticks
        if scale.factor != 1.0:
            self.boundary.set_scale(scale.factor)
        scale.scaleChanged.connect(self.boundary.set_scale)
        if self.bridge is not None:
            self.bridge.prepare = self.boundary.pictures

    def _make_neurons(self) -> None:
        from .neuron_strip import NeuronStrip

        self.neurons = NeuronStrip()
        self.side_tabs.addTab(self.neurons, "Neurons")
        self.side_tabs.setTabToolTip(self.side_tabs.count() - 1,
                                     "What each hidden neuron sees over the input plane.")
        self._follow_text_scale(self.neurons)

    def _make_diagnostics(self) -> None:
        from .diagnostics_view import DiagnosticsView

        self.diagnostics = DiagnosticsView()
        self.side_tabs.addTab(self.diagnostics, "Diagnostics")
        self._diagnostics_tab = self.side_tabs.count() - 1
        self.side_tabs.setTabToolTip(self._diagnostics_tab,
                                     "What goes wrong in the training, why, and what to try.")
        self.diagnostics.fixRequested.connect(self._on_diagnostic_fix)
        self.diagnostics.showRequested.connect(self._on_show_evidence)
        self.diagnostics.countChanged.connect(self._on_diagnostics_count)

    def _make_xray(self) -> None:
        from .xray_view import XRayView

        self.xray = XRayView()
        self.side_tabs.addTab(self.xray, "X-ray")
        self.side_tabs.setTabToolTip(self.side_tabs.count() - 1,
                                     "The forward pass of the clicked or predicted input, "
                                     "layer by layer.")

    def _make_layers(self) -> None:
        from .layers_view import LayersView

        self.layers = LayersView()
        self.side_tabs.addTab(self.layers, "Layers")
        self.side_tabs.setTabToolTip(self.side_tabs.count() - 1,
                                     "Each layer's gradient norm over the run, and how its "
                                     "outputs and weights are spread.")
        self._follow_text_scale(self.layers)

    @staticmethod
    def _follow_text_scale(view: QWidget) -> None:
        scale = text_scale()
        if scale.factor != 1.0:
            view.set_scale(scale.factor)
        scale.scaleChanged.connect(view.set_scale)

    def _make_predict(self) -> None:
        from .predict_panel import PredictPanel

        self.predict_panel = PredictPanel()
        self.predict_holder.layout().addWidget(self.predict_panel)
        self.predict_panel.requested.connect(self._on_predict_requested)
        self.predict_panel.imageRequested.connect(self._on_predict_image)

    def _make_plots(self, data_later: bool = False) -> None:
        """The loss and metric plots; with `data_later` the data are drawn into the views
        on the next turn of the event loop (the views made one per turn)."""
        from .plots import MetricPlots

        plots = MetricPlots()
        self.plots_holder.layout().addWidget(plots)
        plots.hovered.connect(self._on_hover)
        plots.set_log_loss(self.log_loss.isChecked())
        scale = text_scale()
        if scale.factor != 1.0:
            plots.set_scale(scale.factor)
        scale.scaleChanged.connect(plots.set_scale)
        self.plots = plots
        self.splitter.setSizes([560, 440])  # proportions: the plots a little wider
        if self.record is not None:
            self.plots.set_record(self.record)
        if data_later:
            self._views_need_data = True  # the next stage (`_view_stages`)
        else:
            self._on_dataset_changed()

    # -- fitting the controls ----------------------------------------------------------------

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_toolbar()

    def _toolbar_text_width(self) -> int:
        """The tool bar's width with words beside the icons (measured once per font)."""
        key = self.font().key()
        if self._toolbar_sizes is None or self._toolbar_sizes[0] != key:
            style = self.toolbar.toolButtonStyle()
            self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            width = self.toolbar.sizeHint().width()
            self.toolbar.setToolButtonStyle(style)
            self._toolbar_sizes = (key, width)
        return self._toolbar_sizes[1]

    def _fit_toolbar(self) -> None:
        """Keeps every training control in sight: words beside the icons when they fit,
        icons alone (each with its tooltip) when not, so that nothing goes into the tool
        bar's overflow menu, where a class would not find it. Icons alone fit in about
        330 px. The device label, also in the status bar, goes first."""
        with_text = self._toolbar_text_width()
        room = self.width() - 16
        device = self.device_label.sizeHint().width() + 8
        self.device_label.setVisible(with_text + device <= room)
        style = (Qt.ToolButtonStyle.ToolButtonTextBesideIcon if with_text <= room
                 else Qt.ToolButtonStyle.ToolButtonIconOnly)
        if self.toolbar.toolButtonStyle() != style:
            self.toolbar.setToolButtonStyle(style)

    # -- state ------------------------------------------------------------------------------

    @property
    def state(self) -> str:
        return self.training.state

    @property
    def locked(self) -> bool:
        return self.training.locked

    @property
    def running(self) -> bool:
        return self.training.running

    def _set_state(self, state: str) -> None:
        if state == self.state:
            return
        self.training.set_state(state)
        self._update_actions()
        self.stateChanged.emit(state)

    def has_weights(self) -> bool:
        """True when the session holds trained weights that fit the current project."""
        s = self.session
        return (s is not None and (s.epoch > 0 or self._loaded_weights)
                and not self._reset_pending and self._session_key == self._key_now())

    def _key_now(self) -> tuple:
        c = self.controller
        return _session_key(c.project, c.dataset)

    def blocked_reason(self) -> str:
        """Why training cannot start now, in words with what to do; "" when it can."""
        c = self.controller
        if self.closed:
            return say.CLOSING
        if c.data_loading:
            return say.DATA_LOADING
        if self._loading_weights:
            return say.WEIGHTS_LOADING
        if c.data_error:
            return say.data_unusable(c.data_error[0])
        if c.dataset is None:
            return say.NO_DATA
        if not c.project.model.layers:
            return say.NO_LAYERS
        errors = [f for f in c.findings if f.severity == ERROR]
        if errors:
            return say.fix_errors_first(errors[0].message, len(errors))
        return ""

    @Slot()
    def _update_actions(self) -> None:
        running = self.running
        blocked = self.blocked_reason() if not running else ""
        weights = self.has_weights()
        self.act_train.setEnabled(not running and not blocked)
        self.act_train.setStatusTip(blocked or "Train from fresh weights")
        self.train_button.setToolTip(blocked or self.act_train.toolTip())
        self.act_continue.setEnabled(not running and not blocked and weights)
        self.act_step.setEnabled(not running and not blocked)
        self.act_pause.setEnabled(self.state in ("running", "paused"))
        # a learning-rate sweep and a search are stopped in their own windows
        self.act_stop.setEnabled(running and self.state not in ("stopping", "finding",
                                                                "searching"))
        self.act_reset.setEnabled(not running and self.has_weights())
        self.act_evaluate.setEnabled(not running and weights)
        paused = self.state == "paused"
        self.act_pause.setText("Resume" if paused else "Pause")
        self.act_pause.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPlay if paused else QStyle.StandardPixmap.SP_MediaPause))
        self.runs_button.setEnabled(bool(self.plots is not None and self.plots.earlier))

    @Slot(str)
    def _on_training_state(self, state: str) -> None:
        """A state set outside the panel too (the learning-rate finder's "finding"): the
        actions and the banner follow it."""
        self.banner.setText(say.FINDING_BANNER if state == "finding"
                            else say.SEARCHING_BANNER if state == "searching"
                            else say.RUN_BANNER)
        self._update_actions()

    def _expected_quantities(self) -> list[str]:
        return expected_quantities([m.type for m in self.controller.project.compile.metrics])

    def _say(self, text: str, error: bool = False) -> None:
        self.message_text = text
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else "")

    # -- the session ------------------------------------------------------------------------

    def _new_session(self) -> TrainingSession:
        c = self.controller
        base_dir = c.path.parent if c.path is not None else None
        if self._session_factory is not None:
            session = self._session_factory(c.project, base_dir=base_dir, dataset=c.dataset)
        else:  # in the engine process, on the chosen device: this one never imports Keras
            session = self.training.new_session(c.project, base_dir=base_dir, dataset=c.dataset,
                                                progress_interval=PROGRESS_INTERVAL)
        from . import qt_painting  # imports pyqtgraph: not before the window is up

        session.pin_core = qt_painting.PIN_CORES  # the GUI thread keeps off its core
        return session

    def ensure_session(self) -> TrainingSession:
        """The session for the current model and data; a new one when they changed."""
        key = self._key_now()
        alive = self.session is not None and getattr(self.session, "_died", None) is None
        if alive and key == self._session_key:
            return self.session
        self._close_session()
        session = self._new_session()
        bridge = SessionBridge(self.bridge_rate)
        bridge.prepare = self.boundary.pictures if self.boundary is not None else None
        bridge.delivered.connect(lambda events, b=bridge: self._on_events(b, events))
        # pictures on a plane take up to 3 % of the training time (about ten a second for
        # the 784-300-100-10 MLP at views.plane_resolution's grid)
        # 4 % of training time: a picture on a plane through wide inputs costs about 2.5 ms,
        # so the pictures can keep up with the progress reports (at 3 % they waited 87 ms
        # for reports 83 ms apart and skipped some: 8 to 9 pictures a second)
        if hasattr(session, "plane_source"):  # the engine makes the plane's pictures
            source = session.plane_source()
            session.subscribe(bridge.listener)
        else:  # a session in this process (a test's stand-in)
            source = PlaneSnapshots(session.predict, bridge.listener, PROGRESS_INTERVAL,
                                    budget=PLANE_BUDGET)
            session.subscribe(source)
        self.session, self.bridge, self.plane_source = session, bridge, source
        self._session_key = key
        self._loaded_weights = False
        self._reset_pending = False
        self._apply_probe()
        self.background.call(lambda: session.device, self._on_device, lambda _e: None)
        self._load_saved_weights(session)
        self._want_image_sample()  # a folder of images: its sample needs this session
        if self.neurons is not None and hasattr(session, "watch_units"):
            session.watch_units(True)  # UnitSnapshot events during runs, twice a second
            self._refresh_neurons()
        return session

    def _load_saved_weights(self, session: TrainingSession) -> None:
        """Loads the weights saved beside the project (File side), off the GUI thread."""
        apply = self.saved_weights()
        if apply is None:
            return
        self._loading_weights = True
        self._update_actions()

        def done(note: str | None) -> None:
            self._loading_weights = False
            if session is self.session and note:
                self._loaded_weights = note.startswith("Loaded")
                self._say(note)
                if self._loaded_weights:
                    self._snapshot_now()  # the saved model's boundary, before any run
            self._update_actions()

        def failed(exc: BaseException) -> None:
            self._loading_weights = False
            self._say(say.saved_weights_failed(exc), error=True)
            self._update_actions()

        self.background.call(lambda: apply(session), done, failed)

    def plot_items(self) -> dict[str, Any]:
        """The plots by name, for File > Export (PNG / SVG)."""
        out: dict[str, Any] = {}
        if self.plots is not None:
            for name, plot in self.plots.plots.items():
                out[name.replace("_", " ").capitalize()] = plot.plot
        if self.boundary is not None and self.boundary.mode != "none":
            out["Decision boundary"] = self.boundary.plot.getPlotItem()
        return out

    def _on_device(self, device: str) -> None:
        if device and device not in ("not started", "unavailable"):
            self.device = device
            self.device_label.setText(f"Device: {device}")

    def _close_session(self, timeout: float = CLOSE_TIMEOUT) -> None:
        session, bridge = self.session, self.bridge
        self.session = self.bridge = self.plane_source = None
        self._session_key = None
        if bridge is not None:
            bridge.close()
        if session is not None:
            session.stop()
            session.close(timeout)

    @Slot()
    def engine_restarting(self) -> None:
        """The engine is being restarted on request: the session goes with it."""
        self._cancel_start = True
        was_running = self.running
        self._close_session(timeout=0.1)
        if was_running:
            self._free_cores()
            self._set_state("idle")
            self._say(say.ENGINE_RESTARTED_BY_REQUEST, error=True)
        self._update_actions()

    @Slot(str, str)
    def _on_device_chosen(self, _choice: str, label: str) -> None:
        """Another device: the next Train builds the model there (not during a run: the
        picker is off then)."""
        if self.running or self.session is None:
            return
        trained = self.has_weights()
        self._close_session()
        self._update_actions()
        if trained:
            self._say(say.device_next_train(label))

    @Slot()
    def warm_up(self) -> None:
        """Starts the session's worker and makes the views early (when Keras has loaded,
        pyqtgraph has too), so the first Train does not wait for them."""
        if self.closed:
            return
        stages = self._view_stages()
        if stages:  # one view per turn of the event loop, then the rest of the warm-up
            self._view_stage(stages[0])
            next_turn(self, self.warm_up)
            return
        mailbox.freeze_heap()  # the views are made: they live as long as the window
        next_turn(self, self._prepare_plots)  # not on the engine's hello's turn

    def _prepare_plots(self) -> None:
        if self.plots is not None and not self.closed:  # loss and each metric: made now,
            self.plots.prepare(self._expected_quantities())  # not at the first picture
        next_turn(self, self._warm_session)  # not on the turn that made a plot

    def _warm_session(self) -> None:
        if self.session is None and not self.blocked_reason() and not self.closed:
            self.ensure_session()
            self._update_actions()

    @Slot(bool)
    def _on_dock_visible(self, visible: bool) -> None:
        if visible and not self.closed and self.views_pending() and not self._views_coming:
            # One view per turn of the event loop, not all at once inside the window's
            # show(): a window restored with its Training tab in front imported pyqtgraph
            # and made every view before its first paint (0.35 s later on screen).
            self._views_coming = True
            self._views_wait_until = time.monotonic() + VIEWS_WAIT_S
            next_turn(self, self._next_view)

    def _next_view(self) -> None:
        if self.closed or not self.views_pending():
            self._views_coming = False
            return
        # pyqtgraph is imported by a worker after the window's first paint (or by the data
        # preview, when there is no worker): wait for it rather than import it here, on
        # the GUI thread, for 0.2 s; after VIEWS_WAIT_S the views import it themselves.
        if plotting_importing() or ("pyqtgraph" not in sys.modules
                                    and time.monotonic() < self._views_wait_until):
            QTimer.singleShot(40, self, self._next_view)
            return
        stages = self._view_stages()
        self._view_stage(stages[0])
        if len(stages) > 1:
            next_turn(self, self._next_view)
        else:
            self._views_coming = False

    # -- controls ---------------------------------------------------------------------------

    @Slot()
    def train(self) -> bool:
        """Trains from fresh weights for the project's epochs."""
        return self._start(fresh=True, epochs=None)

    @Slot()
    def continue_training(self) -> bool:
        """Trains `more_epochs` more epochs on the current weights."""
        return self._start(fresh=False, epochs=self.more_epochs.value())

    @Slot()
    def step_epoch(self) -> bool:
        """Trains one more epoch (the first one, when there are no weights yet)."""
        return self._start(fresh=not self.has_weights(), epochs=1)

    def _start(self, fresh: bool, epochs: int | None) -> bool:
        """Starts a run. The session calls (reset, new settings, start) run on a pool
        thread: each waits for the worker, which may still be finishing something (the
        last picture of a run, a prediction), and the window must not wait with it."""
        if self.running:
            return False
        reason = self.blocked_reason()
        if reason:
            self._say(reason, error=True)
            return False
        self.ensure_views()
        # Behind another tab, the window shows the views on a frame of their own (the
        # window's `_make_room_for_training`): one frame more before they are emptied.
        frames = 3 if self.visibleRegion().isEmpty() else 2
        self.wantsRoom.emit()
        project = self.controller.project
        changed_model = self.session is not None and self._session_key != self._key_now() \
            and self.session.epoch > 0
        try:
            session = self.ensure_session()
        except (SessionError, TimeoutError) as exc:
            self._say(say.could_not_start(exc), error=True)
            return False
        trained = (session.epoch > 0 or self._loaded_weights) and not self._reset_pending
        reset = fresh and (trained or self._reset_pending)
        if fresh or not trained or self.record is None:
            self._new_record(project)
            note = " The model or data changed, so it starts from new weights." \
                if changed_model else ""
            self._say(f"Run {self.record.number}: {self.record.label}.{note}")
        elif session.project.compile != project.compile:
            label = run_facts(project).optimizer
            self.record.markers.append((float(session.epoch), label))
            number = self.record.number
            self._label_tail[number] = (self._label_tail.get(number, "")
                                        + f" -> {label} from epoch {session.epoch}")
            self._relabel()
            self._say(f"Continuing run {self.record.number} with {label}; the weights are "
                      "kept (the optimizer starts afresh).")
        else:
            self._say(f"Continuing run {self.record.number} from epoch {session.epoch}.")
        if reset:
            self._loaded_weights = False
        self._apply_probe()  # the output width or from_logits may have changed since
        self.boundary.go_live()
        self._scrub_index = -1
        self.plots.set_cursor(None)
        self.run_state = None
        self.run_bar.setFormat("Starting...")
        self._cancel_start = False
        self._set_state("starting")
        self.training.say(self.message_text, 4000)

        def work() -> bool:
            if reset:
                session.reset_weights()
            if session.project != project:
                session.set_project(project)
            if self._cancel_start:
                return False
            session.start(epochs)
            return True

        def begin() -> None:
            if self.closed:
                return
            self.background.call(work, lambda began: self._on_start_done(session, began),
                                 lambda exc: self._on_start_failed(session, exc))

        # The worker starts once the window has painted the locked editor: sending the
        # project holds the GIL in bursts, and a repaint of the whole window competing
        # with it froze the window for 40-60 ms at every Train (a fixed 15 ms delay often
        # fired before the paint).
        def views_then_begin() -> None:
            self._show_new_record()
            after_paint(self, begin, timeout_ms=40)

        # Three frames: the locked editor, then the settings tabs greyed (the window's
        # `_lock_settings`; 40 ms at most when nothing is repainted), then the emptied views.
        after_paints(self, frames, views_then_begin, later_timeout_ms=40)
        return True

    def _on_start_done(self, session: TrainingSession, began: bool) -> None:
        if session is self.session and not began and self.state in ("starting", "stopping"):
            self._set_state("idle")
            self._say("Stopped before training began; the weights are as they were.")

    def _on_start_failed(self, session: TrainingSession, exc: BaseException) -> None:
        if session is not self.session:
            return
        self._set_state("idle")
        self._say(f"Could not start training: {exc}. Check the settings and train again.",
                  error=True)

    def _new_record(self, project: Project) -> None:
        number = len(self.records) + 1
        record = RunRecord(number, run_label(project))
        self._facts[number] = run_facts(project)
        self.records.append(record)
        self.record = record
        self._relabel()
        self.store.clear()
        if self.diagnostics is not None:
            self.diagnostics.clear()  # a fresh run is judged afresh
        if self.layers is not None:
            self.layers.clear()
        # The plots and the boundary empty once the window has painted the locked editor
        # (`_start`): two short frames instead of one long one (render() also sets the
        # record, should a batch of events come first).
        self._views_pending = (record, self._slate)

    def _show_new_record(self) -> None:
        pending, self._views_pending = self._views_pending, None
        if pending is None or self.closed:
            return
        record, slate = pending
        if slate != self._slate or record is not self.record:
            return
        if self.plots is not None and self.plots.record is not record:
            self.plots.set_record(record)
            self._fill_runs_menu()  # the run before is an earlier run now
        if self.boundary is not None and not len(self.store):
            self.boundary.show_grid(None)
            self.boundary.set_snapshot_count(0, force=True)
            self.boundary.hide_click()

    def add_overlay_run(self, label: str, history: Mapping[str, Sequence[float]]) -> None:
        """A finished History (a search trial's) drawn with the earlier runs, faintly, and
        listed in Earlier runs under `label`."""
        self.ensure_views()
        record = RunRecord(len(self.records) + 1 if not self.records
                           else max(r.number for r in self.records) + 1, label)
        epochs = max((len(v) for v in history.values()), default=0)
        for epoch in range(epochs):
            record.add_epoch(epoch, {k: float(v[epoch]) for k, v in history.items()
                                     if epoch < len(v) and v[epoch] is not None})
        if not record.epochs_done:
            return
        self.records.append(record)
        if self.plots is not None:
            self.plots.add_earlier(record)
            self._fill_runs_menu()

    def _relabel(self) -> None:
        """Every run's label says what differs between the runs of this project."""
        numbers = [r.number for r in self.records if r.number in self._facts]
        labels = run_labels([self._facts[n] for n in numbers])
        by_number = dict(zip(numbers, labels, strict=True))
        for record in self.records:
            if record.number in by_number:
                record.label = by_number[record.number] + self._label_tail.get(record.number, "")
        self._fill_runs_menu()

    @Slot()
    def _on_project_replaced(self) -> None:
        """Another project (New, Open, a lesson): its runs start on empty plots, and no
        text about the old one's runs stays (prediction, time left, slider, axes)."""
        self._slate += 1
        self.records.clear()
        self.record = None
        self.run_state = None
        self._facts.clear()
        self._label_tail.clear()
        self._grid_probe = None
        self._probe_key = None
        self.store.clear()
        self._picture = None
        self._scrub_index = -1
        if self.plots is not None:
            self.plots.clear_all()
            self.plots.prepare(self._expected_quantities())
        if self.boundary is not None:
            self.boundary.show_grid(None)
            self.boundary.set_snapshot_count(0, force=True)
            self.boundary.set_slider_text("")
            self.boundary.hide_click()
        if self.predict_panel is not None:
            self.predict_panel.show_result("", [])
        self._units = None
        if self.neurons is not None:
            self.neurons.clear()  # the next session's pictures come when it opens
        if self.diagnostics is not None:
            self.diagnostics.clear()
        if self.layers is not None:
            self.layers.clear()
        self._pending_fix = None
        self._clear_progress()
        self.readout.setText("")
        self._say("Press Train (Ctrl+Return) to train the model on the data.")
        self._fill_runs_menu()
        self._update_actions()

    def _clear_progress(self) -> None:
        self.run_bar.setValue(0)
        self.run_bar.setFormat("Run: not started")
        self.epoch_bar.setValue(0)
        self.epoch_bar.setFormat("Epoch")
        self.speed_label.setText("")

    @Slot()
    def weights_available(self) -> None:
        """Trained weights came with the opened project: they are loaded into a session as
        soon as the engine and the data are ready, and their boundary is drawn at once."""
        self._weights_wanted = True
        self._show_saved_weights()

    def _show_saved_weights(self) -> None:
        if not self._weights_wanted or self.running or self.closed:
            return
        if not self.training.link.is_ready or self.blocked_reason() or self.boundary is None:
            return  # tried again when the engine says hello, or the data has loaded
        self._weights_wanted = False
        self.ensure_session()

    @Slot()
    def toggle_pause(self) -> None:
        s = self.session
        if s is None or not self.running or self.state == "stopping":
            return
        if self.state == "paused":
            s.resume()
            self._set_state("running")
            self._say("Resumed.")
        else:
            s.pause()
            self._set_state("paused")
            # the pictures follow training at a budget and may be some epochs behind: the
            # paused boundary shows the weights it paused at, once the worker has stopped
            QTimer.singleShot(PAUSE_PICTURE_MS, self._snapshot_now)
            self._say("Paused before the next batch: Resume (Space) goes on, Stop (Esc) ends "
                      "the run with the weights kept. Editing stays locked while paused.")

    @Slot()
    def stop(self) -> None:
        s = self.session
        if s is None or not self.running:
            return
        self._cancel_start = True  # a run whose start is still queued does not begin
        s.stop()
        self._set_state("stopping")
        self._say("Stopping after the current batch (Keras still ends the epoch with its "
                  "validation)...")

    @Slot()
    def reset_weights(self) -> None:
        """Forgets the trained weights (on a pool thread: the worker may be busy)."""
        s = self.session
        if s is None or self.running:
            return
        self._reset_pending = True

        def done(_result: object) -> None:
            if s is self.session:
                self._reset_pending = False
                self._refresh_neurons()
                self._update_actions()

        def failed(exc: BaseException) -> None:
            if s is self.session:
                self._say(f"Could not reset the weights: {exc}. The next Train starts from "
                          "new weights anyway.", error=True)

        self.background.call(s.reset_weights, done, failed)
        self._loaded_weights = False
        self.record = None
        self.store.clear()
        if self.boundary is not None:
            self.boundary.show_grid(None)
            self.boundary.set_snapshot_count(0, force=True)
            self.boundary.set_slider_text("")
            self.boundary.hide_click()
        self.run_state = None
        self._clear_progress()
        self._say("The weights were reset: the next Train or Step starts from new weights. "
                  "The curves so far stay as an overlay.")
        self._update_actions()

    # -- events -----------------------------------------------------------------------------

    def _on_events(self, bridge: SessionBridge, events: list[Event]) -> None:
        assert QThread.currentThread() is self.thread(), "events are handled on the GUI thread"
        if self.closed or bridge is not self.bridge:
            return  # from a session that was replaced
        ended: Finished | Failed | None = None
        for event in events:
            if isinstance(event, Started):
                self.run_state = _RunState(event)
                if self.plots is not None:
                    self.plots.set_run_end(event.epochs)
                if self.state == "stopping" and self.session is not None:
                    self.session.stop()  # Stop was pressed while the start was queued
                self.device = event.device
                self.device_label.setText(f"Device: {event.device}")
                from . import qt_painting

                if (qt_painting.PIN_CORES and event.core is not None
                        and self._gui_cores is None):
                    # off the training thread's core: drawing no longer displaces it
                    self._gui_cores = keep_off_core(event.core)
                if self.state == "starting":
                    self._set_state("running")
            elif isinstance(event, BatchProgress):
                if self.record is not None and self.run_state is not None:
                    self.record.add_progress(event.epoch, event.step, event.steps, event.logs)
                    self.run_state.progress = event
                    self.run_state.elapsed = event.elapsed
                    self.run_state.warmup = getattr(event, "warmup", 0.0)
            elif isinstance(event, EpochEnd):
                if self.record is not None:
                    self.record.add_epoch(event.epoch, event.logs)
                if self.run_state is not None:
                    self.run_state.epochs_done += 1
                    self.run_state.elapsed = event.elapsed
                    self.run_state.warmup = getattr(event, "warmup", 0.0)
                    self.run_state.progress = None
            elif isinstance(event, (BoundarySnapshot, PreparedSnapshot)):
                picture = None
                if isinstance(event, PreparedSnapshot):
                    event, picture = event.snapshot, event.picture
                rs = self.run_state
                if rs is None or event.run != rs.started.run:
                    continue  # a late picture of a run before this one
                steps = max(1, rs.started.steps_per_epoch)
                self.store.add(event.epoch + min(event.step, steps) / steps, event.grid)
                self._picture = picture
            elif isinstance(event, UnitSnapshot):
                rs = self.run_state
                if rs is not None and event.run == rs.started.run:
                    self._units = event.pictures
            elif isinstance(event, FindingEvent):
                rs = self.run_state
                if self.diagnostics is not None and rs is not None \
                        and event.run in (0, rs.started.run):
                    self.diagnostics.add(event)
            elif isinstance(event, LayerStatsEvent):
                rs = self.run_state
                if self.layers is not None and rs is not None \
                        and event.run in (0, rs.started.run):
                    self.layers.add(event)
            elif isinstance(event, (Finished, Failed)):
                ended = event
        self._dirty = True
        self.render()
        if ended is not None:
            if self.boundary is not None:
                self.boundary.set_snapshot_count(len(self.store), force=True)
            # The editor unlocks (a repaint of most of the window) once the run's last
            # numbers are on screen: two short frames, not one long one.
            after_paint(self, lambda: self._on_run_ended(ended), timeout_ms=60)

    def render(self) -> None:
        """Redraws plots, boundary and progress from the arrays (once per event batch)."""
        if not self._dirty:
            return
        self._dirty = False
        if self.plots is not None and self.record is not None:
            if self.plots.record is not self.record:
                self.plots.set_record(self.record)
                self._fill_runs_menu()
            self.plots.refresh()
        if self.boundary is not None:
            self.boundary.set_snapshot_count(len(self.store))
            if self.boundary.live:
                latest = self.store.latest()
                if latest is not None and latest[1] is not self.boundary.grid:
                    self.boundary.show_grid(latest[1], self._picture)
                if latest is not None:
                    self.boundary.set_slider_text(f"live: epoch {latest[0]:.1f}")
        if self.neurons is not None and self._units is not None:
            self.neurons.set_pictures(self._units)
            self._units = None
        # paused, the last numbers in flight are the ones that stay: show them, unthrottled
        self._render_progress(force=self.state == "paused")

    def _render_progress(self, force: bool = False) -> None:
        """The progress bars and speed, at most PROGRESS_RATE times a second: a bar
        repaints synchronously on every change, and numbers that change faster than
        that cannot be read anyway."""
        rs = self.run_state
        if rs is None:
            return
        now = time.perf_counter()
        if not force and now - self._progress_shown < 1.0 / PROGRESS_RATE:
            return
        self._progress_shown = now
        st = rs.started
        total = max(1, st.epochs - st.initial_epoch)
        p = rs.progress
        fraction_epoch = (p.step / max(1, p.steps)) if p is not None else (
            1.0 if rs.epochs_done else 0.0)
        in_epoch = fraction_epoch if p is not None else 0.0
        done = min(total, rs.epochs_done + in_epoch)
        _set_bar(self.run_bar, int(100 * done / total))
        current = min(st.initial_epoch + rs.epochs_done + (1 if p is not None else 0), st.epochs)
        self.run_bar.setFormat(f"Epoch {max(current, st.initial_epoch + 1)} of {st.epochs}"
                               f"  ({rs.epochs_done}/{total} this run)")
        _set_bar(self.epoch_bar, int(100 * fraction_epoch))
        if p is not None:
            self.epoch_bar.setFormat(f"batch {p.step} of {p.steps}")
        else:
            self.epoch_bar.setFormat(f"{st.steps_per_epoch} batches per epoch")
        rate = p.samples_per_sec if p is not None and p.samples_per_sec > 0 else (
            st.samples * rs.epochs_done / rs.elapsed if rs.elapsed > 0 else 0.0)
        if rs.ended:  # a picture after the run's end redraws: it keeps "took"
            return
        left = time_left(rs.elapsed, done / total, rs.warmup)  # the steady pace, not tracing
        self.speed_label.setText(f"{rate:,.0f} samples/s, {format_duration(left)} left"
                                 if left is not None else f"{rate:,.0f} samples/s")

    def _free_cores(self) -> None:
        """The GUI thread may run on every core again (a run ended)."""
        if self._gui_cores is not None:
            allow_cores(self._gui_cores)
            self._gui_cores = None

    def _on_run_ended(self, event: Finished | Failed) -> None:
        self._free_cores()
        self._render_progress(force=True)
        self.run_state_done()
        rs = self.run_state
        if rs is not None:  # the run is over: no time left to show, only what it took
            rs.ended = True
            self.speed_label.setText(f"took {format_duration(rs.elapsed)}")
        self._set_state("idle")
        if isinstance(event, Failed) and event.detail == ENGINE_DIED:
            # Not the model's fault: the process under it ended. Nothing to fix, only to
            # train again once the fresh engine is up.
            line, title, text = say.engine_ended_run(event.message)
            self._say(line, error=True)
            self._show_message(title, text)
        elif isinstance(event, Failed):
            line, title, text = say.run_failed(event.message)
            self._say(line, error=True)
            self._show_message(title, text, event.detail)
        elif event.reason == "nan":
            line, title, text = say.loss_not_a_number(event.message)
            self._say(line, error=True)
            self._show_message(title, text)
        elif event.reason == "stopped":
            self._say(say.run_stopped(event.message))
        elif event.reason == "early_stopped":
            self._say(f"{event.message}.")
        else:
            ds = self.controller.dataset
            self._say(say.run_done(event.message, ds is not None and ds.streamed))
        # the status bar gets the headline only: the panel above shows the whole message,
        # and a long line ran past the status bar's end at 1024 px
        self.training.say(say.headline(self.message_text), 8000)
        self._update_actions()
        if self._pending_fix is not None:
            fix, self._pending_fix = self._pending_fix, None
            self._on_diagnostic_fix(fix)
        latest = self.store.latest()
        if self.session is not None and (latest is None or latest[0] < self.session.epoch):
            self._snapshot_now()  # the pictures fell behind: one of the final weights
        self.runEnded.emit(event)

    def run_state_done(self) -> None:
        rs = self.run_state
        if rs is not None and rs.progress is None:
            self.epoch_bar.setValue(100 if rs.epochs_done else 0)

    def _show_message(self, title: str, text: str, detail: str = "") -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self.window())
        box.setObjectName("trainingErrorDialog")
        if detail:
            box.setDetailedText(detail)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.open()
        self.last_message = box

    # -- following the project --------------------------------------------------------------

    @Slot(object, object)
    def _on_project_changed(self, old: Project, new: Project) -> None:
        if self.running and (old.model != new.model or old.data != new.data):
            # Only a File > New / Open can do this (editing is locked): stop cleanly.
            self.stop()
            self._say("The project was replaced while training: the run was stopped.",
                      error=True)
        elif not self.running and self.session is not None and self.session.epoch > 0 \
                and (old.model != new.model or old.data != new.data):
            self._say("The model or data changed: the trained weights no longer fit it, so "
                      "the next Train starts from new weights (Continue is off).")
        self._update_actions()

    @Slot()
    def _on_dataset_changed(self) -> None:
        if self.boundary is None or self.predict_panel is None:
            self._update_actions()
            return
        ds = self.controller.dataset
        if ds is not self._plane_for:
            self._plane_for = ds
            self.plane = None
            images = ds is not None and ds.streamed
            self.plane_data = None if images else ds
            self.boundary.set_dataset(self.plane_data,
                                      message=IMAGES_WAITING if images else "")
            self.predict_panel.set_dataset(ds)
            self.store.clear()
            if images:
                self._want_image_sample()
            elif ds is not None and self._is_wide(ds):
                self._make_plane(ds)
        self._update_actions()
        self._show_saved_weights()

    @staticmethod
    def _is_wide(ds: Dataset) -> bool:
        if ds.streamed:  # a folder of images: the plane goes through a sample of it
            return False
        x = ds.x_train
        return not (x.ndim == 2 and x.shape[1] <= 2)

    def _want_image_sample(self) -> None:
        """For a folder of images, asks the engine for the sample the plane is laid through
        (`core.image_sample`): a few hundred images spread over the classes, decoded as the
        model sees them, once per folder. The engine decodes them, so it waits for a
        session on the current data; one made for earlier data is replaced (not during a
        run), as the next Train would."""
        ds = self.controller.dataset
        if ds is None or not ds.streamed or self.boundary is None or self.closed \
                or self.plane_data is not None or self._sampling is ds:
            return
        if self._session_key != self._key_now():
            if self.session is None or self.running or self.controller.data_loading:
                return  # the warm-up's or the next Train's session will ask
            try:
                self.ensure_session()  # calls this again with the session
            except (SessionError, TimeoutError):
                pass
            return
        session = self.session
        self._sampling = ds
        self.boundary.set_dataset(None, message=IMAGES_SAMPLING)

        def done(sample: ImageSample) -> None:
            if self._sampling is ds:
                self._sampling = None
            if ds is not self.controller.dataset or self.boundary is None:
                return
            self.plane_data = sample
            self._make_plane(sample)

        def failed(exc: BaseException) -> None:
            if self._sampling is ds:
                self._sampling = None
            if ds is self.controller.dataset and self.boundary is not None \
                    and self.plane_data is None:
                self.boundary.set_dataset(None, message=IMAGES_SAMPLE_FAILED.format(
                    reason=str(exc).rstrip(".")))

        self.background.call(lambda: read_image_sample(ds, session.read_images),
                             done, failed)

    def _make_plane(self, ds: Dataset) -> None:
        mode, features = self._plane_choice
        flat = int(np.prod(ds.x_train.shape[1:]))
        if mode == "features" and max(features) >= flat:
            features = (0, 1)
        names = list(ds.feature_names)

        def work() -> Plane:
            plane = make_plane(ds.x_train, mode, features, names)
            if isinstance(ds, ImageSample):  # the header says which images the points are
                plane = replace(plane, description=ds.describe(plane))
            return plane

        self.background.call(work, lambda plane: self._on_plane(ds, plane),
                             lambda exc: self._say(f"No plane to draw on: {exc}", error=True))

    def _on_plane(self, ds: Dataset, plane: Plane) -> None:
        if ds is not self.plane_data or self.boundary is None:
            return
        self.plane = plane
        self.store.clear()
        self.boundary.set_dataset(ds, plane)
        self.boundary.set_snapshot_count(0, force=True)
        self._apply_probe()
        self._snapshot_now()

    @Slot(str, int, int)
    def _on_plane_requested(self, mode: str, i: int, j: int) -> None:
        self._plane_choice = (mode, (i, j))
        ds = self.plane_data
        if ds is not None and self._is_wide(ds):
            self._make_plane(ds)

    def _output_units(self) -> int | None:
        shape = self.controller.summary.output_shape
        if shape is None or len(shape) != 2 or shape[1] is None:
            return None
        return int(shape[1])

    def _apply_probe(self) -> None:
        """Gives the worker-side plane source the probe for the current plane (or none)."""
        source, ds, plane = self.plane_source, self.plane_data, self.plane
        if source is None:
            return
        extent = self.boundary.requested_extent if self.boundary is not None else None
        flat = ds is not None and ds.x_train.ndim == 2 and ds.x_train.shape[1] == 2
        if ds is None or (flat and extent is None) or \
                (not flat and (plane is None or not self._is_wide(ds))):
            source.probe = None  # two features: the engine's own grid over the data
            return
        project = self.controller.project
        # a convolution's weights are used at every position: its cost, not its parameter
        # count, sizes the grid; and the grid's inputs (as wide as an image) stay bounded
        resolution = 100 if flat else plane_resolution(
            forward_cost(self.controller.summary.rows), values=int(np.prod(plane.shape)))
        from_logits = bool(project.compile.loss.args.get("from_logits", False))
        units = self._output_units()
        # the grid's model inputs (10,000 rows as wide as the data) are made once per
        # plane and range, not at every Train
        key = (plane, id(ds.x_train), units, ds.task, resolution, from_logits, extent)
        if self._probe_key is None or self._probe_key[0] is not plane \
                or self._probe_key[1:] != key[1:] or source.probe is None:
            source.probe = make_probe(ds.x_train, units, ds.task, resolution, from_logits,
                                      extent=extent) if flat else \
                plane_probe(plane, ds.x_train, units, ds.task, resolution, from_logits,
                            extent=extent)
            self._probe_key = key
        source.failed = False

    @Slot(object)
    def _on_view_range(self, _extent: object) -> None:
        """The view was zoomed out past the picture: a grid over what it shows, for the
        run's next pictures and, between runs, at once."""
        self._apply_probe()
        self._snapshot_now()

    def _refresh_neurons(self) -> None:
        """The units' pictures of the current weights (between runs), off the GUI thread."""
        session, strip = self.session, self.neurons
        if strip is None or session is None or self.running \
                or not hasattr(session, "unit_pictures"):
            return

        slate = self._slate

        def done(pictures: Any) -> None:
            if self.session is session and self.neurons is not None and self._slate == slate:
                self.neurons.set_pictures(pictures)

        self.background.call(session.unit_pictures, done,
                             lambda exc: strip.clear(f"No neuron pictures: {exc}"))

    def _between_runs_probe(self) -> Any:
        """The probe for a picture between runs: the plane's, or for inputs of one or two
        features a grid over the data (the engine's own probe serves only its runs)."""
        source, ds = self.plane_source, self.controller.dataset
        if source is not None and source.probe is not None:
            return source.probe
        if ds is None or ds.streamed or self._is_wide(ds):
            return None
        project = self.controller.project
        from_logits = bool(project.compile.loss.args.get("from_logits", False))
        key = (id(ds.x_train), self._output_units(), ds.task, from_logits)
        if self._grid_probe is None or self._grid_probe[0] != key:
            self._grid_probe = (key, make_probe(ds.x_train, key[1], ds.task,
                                                from_logits=from_logits))
        return self._grid_probe[1]

    def _snapshot_now(self) -> None:
        """A picture of the current weights between runs or while paused: on a newly chosen
        plane, of weights loaded with the project, of a run's end or a pause when the
        pictures (made at a budget) fell behind."""
        self._refresh_neurons()
        session = self.session
        if session is None or (self.running and self.state != "paused") \
                or (session.epoch == 0 and not self._loaded_weights):
            return
        probe, epoch = self._between_runs_probe(), session.epoch
        if probe is None:
            return
        source, slate = self.plane_source, self._slate

        def done(grid: Any) -> None:
            if self.boundary is not None and self.plane_source is source \
                    and self._slate == slate:
                self.store.add(float(epoch), grid)
                self._picture = None  # drawn from this grid, not an earlier event's picture
                self._dirty = True
                self.render()

        self.background.call(lambda: probe.snapshot(session.predict), done,
                             lambda exc: None)

    # -- diagnostics ------------------------------------------------------------------------

    @Slot(dict)
    def _on_diagnostic_fix(self, fix: dict) -> None:
        """A diagnostic's fix: an ordinary, undoable edit of the project for the next run
        (asked for during a run, it is made when the run ends: the editor is locked)."""
        from ..core.diagnostics import FixRef, apply_fix

        label = str(fix.get("label", "the fix"))
        if self.running:
            self._pending_fix = dict(fix)
            self._say(f"'{label}' will be applied when this run ends; then train again.")
            return
        try:
            new = apply_fix(self.controller.project, FixRef.from_json(fix))
        except Exception as exc:  # noqa: BLE001 - a fix that no longer fits the project
            self._say(f"Could not apply '{label}': {exc}. The project is unchanged.",
                      error=True)
            return
        if self.controller.edit(new, f"Fix: {label}"):
            self._say(f"Applied '{label}' for the next run (Ctrl+Z undoes it). Press Train to "
                      "see whether it helps.")
        else:
            self._say(f"'{label}' changes nothing in the project as it is now.")

    @Slot(object, int)
    def _on_show_evidence(self, layer: object, epoch: int) -> None:
        """Points at a diagnostic's evidence: its layer in the model, its epoch on the plots."""
        if isinstance(layer, int):
            self.showLayer.emit(layer)
        if self.plots is not None:
            self.plots.set_cursor(float(epoch + 1))
            self._say(f"The line on the plots marks epoch {epoch + 1}, where it was first "
                      "seen" + (f"; layer {layer + 1} is selected in the model."
                                if isinstance(layer, int) else "."))

    @Slot(int)
    def _on_diagnostics_count(self, count: int) -> None:
        self.side_tabs.setTabText(self._diagnostics_tab,
                                  f"Diagnostics ({count})" if count else "Diagnostics")

    # -- scrubbing, hovering ----------------------------------------------------------------

    @Slot(int)
    def _on_scrub(self, index: int) -> None:
        self._scrub_index = index
        if self.boundary is None or self.plots is None:
            return
        if index < 0 or index >= len(self.store):
            latest = self.store.latest()
            if latest is not None:
                self.boundary.show_grid(latest[1])
            self.plots.set_cursor(None)
            self.readout.setText("")
            return
        position, grid = self.store.get(index)
        self.boundary.show_grid(grid)
        self.plots.set_cursor(position)
        self.boundary.set_slider_text(f"epoch {position:.1f}")
        text = f"As at epoch {position:.1f}"
        if self.record is not None:
            at = self.record.logs_at(position)
            if at is not None:
                epoch, logs = at
                values = ", ".join(f"{k} {v:.4g}" for k, v in logs.items())
                text += f" (end of epoch {epoch}: {values})"
        self.readout.setText(text)

    @Slot(str)
    def _on_hover(self, text: str) -> None:
        self.readout.setText(text)

    @Slot(bool)
    def _on_log_loss(self, on: bool) -> None:
        if self.plots is not None:
            self.plots.set_log_loss(on)

    def _fill_runs_menu(self) -> None:
        from .plots import run_color

        self.runs_menu.clear()
        plots = self.plots
        if plots is None:
            return
        if plots.earlier:
            for text, name, slot, tip in (
                    ("Show all", "showAllRuns", lambda: self._set_all_runs(True),
                     "Show the curves of every earlier run."),
                    ("Hide all", "hideAllRuns", lambda: self._set_all_runs(False),
                     "Hide the curves of every earlier run (they stay in this menu)."),
                    ("Clear", "clearRuns", self._clear_earlier_runs,
                     "Forget the earlier runs: only the live run stays on the plots.")):
                act = self.runs_menu.addAction(text)
                act.setObjectName(name)
                act.setToolTip(tip)
                act.triggered.connect(slot)
            self.runs_menu.addSeparator()
        for record in plots.earlier:
            act = self.runs_menu.addAction(f"Run {record.number}: {record.label} "
                                           f"({record.epochs_done} epochs)")
            act.setCheckable(True)
            act.setChecked(record.number not in plots.hidden_runs)
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(run_color(record.number)))
            act.setIcon(QIcon(swatch))
            act.setToolTip(f"Colour {run_color(record.number)}: training solid, validation "
                           "dashed")
            act.setData(record.number)
            act.toggled.connect(self._on_run_toggled)
        self._update_actions()

    def _set_all_runs(self, visible: bool) -> None:
        if self.plots is not None:
            self.plots.set_all_runs_visible(visible)
            self._fill_runs_menu()

    def _clear_earlier_runs(self) -> None:
        if self.plots is None:
            return
        gone = {r.number for r in self.plots.earlier}
        self.plots.forget_earlier()
        self.records = [r for r in self.records if r.number not in gone]
        for number in gone:
            self._facts.pop(number, None)
        self._relabel()

    @Slot(bool)
    def _on_run_toggled(self, on: bool) -> None:
        act = self.sender()
        if isinstance(act, QAction) and self.plots is not None:
            self.plots.set_run_visible(int(act.data()), on)

    # -- predictions ------------------------------------------------------------------------

    def _describe(self, outputs: np.ndarray) -> tuple[str, list[tuple[str, float]]]:
        ds = self.controller.dataset
        project = self.controller.project
        from_logits = bool(project.compile.loss.args.get("from_logits", False))
        return describe_prediction(np.asarray(outputs)[0], ds.task if ds else "binary",
                                   ds.class_names if ds else None, from_logits)

    def _predict(self, row: np.ndarray, on_done: Callable[[np.ndarray], None],
                 on_error: Callable[[BaseException], None]) -> bool:
        session = self.session
        if session is None or not self.has_weights():
            return False
        self.background.call(lambda: session.predict(row), on_done, on_error)
        return True

    @Slot(object, object)
    def _on_boundary_click(self, row: np.ndarray, where: tuple[float, float]) -> None:
        boundary = self.boundary
        sample = self._sample_title(boundary.clicked_sample) if boundary is not None else None

        def done(outputs: np.ndarray) -> None:
            if boundary is not None:
                text, ranked = self._describe(outputs)
                boundary.show_click_result(text)
                where_text = f"({where[0]:.3g}, {where[1]:.3g})" \
                    if boundary.mode != "curve" else f"x = {where[0]:.3g}"
                if sample is not None:
                    where_text = sample
                others = "; ".join(f"{n} {p:.3f}" for n, p in ranked[:4])
                self.readout.setText(f"Prediction at {where_text}: {text}"
                                     + (f" ({others})" if len(ranked) > 1 else ""))

        def failed(exc: BaseException) -> None:
            if boundary is not None:
                boundary.show_click_result(f"could not predict: {exc}")

        if not self._predict(row, done, failed) and boundary is not None:
            boundary.show_click_result("Train the model first, then click to predict.")
        curve = boundary is not None and boundary.mode == "curve"
        self._xray(row, sample[0].upper() + sample[1:] if sample is not None
                   else f"At x = {where[0]:.3g}" if curve
                   else f"At ({where[0]:.3g}, {where[1]:.3g})")

    def _sample_title(self, picked: tuple[str, int] | None) -> str | None:
        """ "training sample 12 (true class: inner disk)" for a clicked data point; for a
        folder of images, "training image circle_0003.png (true class: circle)"."""
        ds = self.plane_data
        if picked is None or ds is None:
            return None
        split, index = picked
        ys = ds.y_train if split == "training" else ds.y_val
        title = f"{split} image {Path(ds.path_of(split, index)).name}" \
            if isinstance(ds, ImageSample) else f"{split} sample {index + 1}"
        if ys is None or index >= len(ys):
            return title
        y = np.asarray(ys[index])
        if ds.task == "regression":
            return f"{title} (true value: {float(y.reshape(-1)[0]):.4g})"
        label = int(y.argmax()) if y.ndim and y.size > 1 else int(y.reshape(-1)[0])
        names = list(ds.class_names or [])
        name = names[label] if label < len(names) else str(label)
        return f"{title} (true class: {name})"

    def _xray(self, row: np.ndarray, title: str) -> None:
        """Every layer's output for `row` in the X-ray tab, made by the engine in the
        background (the window never runs the model)."""
        xray, session = self.xray, self.session
        if xray is None:
            return
        if session is None or not hasattr(session, "layer_outputs") or not self.has_weights():
            xray.clear("Train the model first, then click the picture or predict an input.")
            return
        ds = self.controller.dataset
        from_logits = bool(self.controller.project.compile.loss.args.get("from_logits", False))
        xray.set_class_names(ds.class_names if ds else None, from_logits)
        self.background.call(lambda: session.layer_outputs(row),
                             lambda result: xray.show_outputs(result, title),
                             lambda exc: xray.clear(f"Could not run the X-ray: {exc}"))

    @Slot(object)
    def _on_predict_requested(self, row: np.ndarray) -> None:
        panel = self.predict_panel

        def done(outputs: np.ndarray) -> None:
            if panel is not None:
                text, ranked = self._describe(outputs)
                panel.show_result(text, ranked)

        def failed(exc: BaseException) -> None:
            if panel is not None:
                panel.result.setText(f"Could not predict: {exc}.")

        if not self._predict(row, done, failed) and panel is not None:
            panel.result.setText("There is no trained model for this project yet: train it "
                                 "first (Ctrl+Return).")
        self._xray(row, "The input from the predict form")

    @Slot(str)
    def _on_predict_image(self, path: str) -> None:
        """An image file through the model: the engine reads it as training does and sends
        back the picture and the outputs; the X-ray gets the same picture."""
        panel, session = self.predict_panel, self.session
        if panel is None:
            return
        if session is None or not self.has_weights():
            panel.show_image_error("There is no trained model for this project yet: train "
                                   "it first (Ctrl+Return).")
            return

        def done(result: tuple[np.ndarray, np.ndarray]) -> None:
            images, outputs = result
            panel.show_image(images[0], path)
            text, ranked = self._describe(outputs)
            panel.show_result(text, ranked)
            self._xray(np.asarray(images[:1], np.float32), f"The image {Path(path).name}")

        def failed(exc: BaseException) -> None:
            panel.show_image_error(f"Could not predict {Path(path).name}: {exc}.")

        self.background.call(lambda: session.predict_files([path]), done, failed)

    @Slot()
    def evaluate(self) -> None:
        session, ds = self.session, self.controller.dataset
        if session is None or ds is None or not self.has_weights() or self.running:
            self._say("Train the model first: Evaluate needs trained weights.", error=True)
            return
        from .evaluate_dialog import EvaluateDialog

        from_logits = bool(self.controller.project.compile.loss.args.get("from_logits", False))
        dialog = EvaluateDialog(self.window(), ds, session.evaluate, session.predict,
                                self.background.call, from_logits,
                                getattr(session, "predict_split", None))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.evaluate_dialog = dialog

    # -- closing ----------------------------------------------------------------------------

    def shutdown(self, timeout: float = CLOSE_TIMEOUT) -> None:
        """Stops a run and ends the worker (the window is closing); idempotent."""
        if self.closed:
            return
        self.closed = True
        self._close_session(timeout)
        self._free_cores()
        self.background.wait(int(timeout * 1000))
        self.training.set_state("idle")
