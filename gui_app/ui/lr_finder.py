"""Training > Find Learning Rate: the learning-rate range test in a dialog.

The sweep runs in the engine (`TrainingSession.lr_find` through the panel's session), on a
copy of the model: the session's weights, the run's curves and the project stay as they
are. Its curve comes back as `core.lr_find.LRFindEvent`s through a `SessionBridge` of the
dialog's own and is drawn live, loss against rate on a log axis; the suggested rate is
marked with a vertical line and the rule that gave it is said in words. "Use this rate"
sets the optimizer's learning rate through the project controller, one undoable edit.

While the sweep runs the training controller's state is "finding", one of its running
states: editing is locked as during a run, Train and the device picker wait, and every way
the sweep can end (its answer, an error, the engine dying, the project being replaced)
puts the state back to "idle". pyqtgraph is imported when the dialog is first made, not
when the window starts.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QThread, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import optimizer_def
from ..core.lr_find import END_LR, START_LR, LRFindEvent, rule_words, skipped
from . import colors
from . import messages as say
from .compile_panel import set_object_arg
from .launcher import DialogLauncher
from .session_bridge import SessionBridge

if TYPE_CHECKING:
    from .training_panel import TrainingPanel

#: The dialog's redraws per second at most while the curve grows.
DRAW_RATE = 10.0
ERROR_STYLE = "color: #b00020;"


def current_rate(project: Any) -> Any:
    """The optimizer's learning rate as the project sets it, or Keras's default."""
    spec = project.compile.optimizer
    if "learning_rate" in spec.args:
        return spec.args["learning_rate"]
    definition = optimizer_def(spec.type)
    param = definition.param("learning_rate") if definition is not None else None
    return param.default if param is not None else "Keras's default"


def _decade(k: int) -> str:
    """A tick label for the rate 10**k: "1e-5", "0.001", "1", "10"."""
    return f"1e{k}" if k <= -4 else f"{10.0 ** k:g}"


def loss_range(losses: Any, skip: int = 0) -> tuple[float, float]:
    """The y range that shows where the curve starts, its fall and the first of its rise.

    The sweep ends at up to 4 times the lowest loss, so a plot of the whole curve squeezes
    a fall of a few percent (the spiral lesson's: 0.698 to 0.676) into a flat line; this
    range goes from the lowest loss to half the fall above the starting level (the first
    `skip` points left out, as the rules do), and the blow-up leaves through the top.
    """
    values = [float(v) for v in losses[skip:] if math.isfinite(float(v))] or \
        [float(v) for v in losses if math.isfinite(float(v))]
    if not values:
        return 0.0, 1.0
    start, low = values[0], min(values)
    fall = start - low
    high = start + max(0.5 * fall, 0.02 * abs(start), 1e-6)
    return low - max(0.05 * (high - low), 1e-6), high


class LRFinderDialog(QDialog):
    """The finder: choose the starting weights, Start / Stop, the live curve, the suggestion
    and "Use this rate".

    It knows the training panel only by its public face (`ensure_session`, `has_weights`,
    `blocked_reason`, `background`, `controller`, `training`), never the window.

    Attributes:
        result: the last sweep's last event (None before one ended).
        message: the text of the line under the plot (for tests and screenshots).
        live_draws: how many times the growing curve was drawn during sweeps.
    """

    def __init__(self, panel: TrainingPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self.setObjectName("lrFinderDialog")
        self.setWindowTitle("Find a learning rate")
        self.panel = panel
        self.controller = panel.controller
        self.training = panel.training
        self.result: LRFindEvent | None = None
        self.message = ""
        self.live_draws = 0
        self._session: Any = None  # the session a sweep runs in
        self._running = False
        self._stop_wanted = False  # Stop (or Close) before the engine began the sweep
        self.bridge = SessionBridge(DRAW_RATE, self)
        self.bridge.delivered.connect(self._on_events)

        layout = QVBoxLayout(self)
        intro = QLabel(say.FIND_LR_INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        row = QHBoxLayout()
        self.fresh = QRadioButton("From fresh weights")
        self.fresh.setObjectName("lrFromFresh")
        self.fresh.setToolTip("The weights Train starts from (the same seed).")
        self.trained = QRadioButton("From the trained weights")
        self.trained.setObjectName("lrFromTrained")
        self.fresh.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.fresh)
        group.addButton(self.trained)
        row.addWidget(self.fresh)
        row.addWidget(self.trained)
        row.addStretch(1)
        layout.addLayout(row)

        self.plot_widget = pg.PlotWidget(background="w", enableMenu=False)
        self.plot_widget.setObjectName("lrFinderPlot")
        self.plot_widget.setMinimumSize(420, 240)
        plot = self.plot_widget.getPlotItem()
        plot.setLogMode(x=True, y=False)
        plot.showGrid(x=True, y=True, alpha=0.15)
        plot.setLabel("bottom", "learning rate")
        plot.setLabel("left", "loss (smoothed)")
        plot.getAxis("left").enableAutoSIPrefix(False)  # 0.69, not "690 (x0.001)"
        plot.setMenuEnabled(False)
        plot.hideButtons()
        # the whole sweep's rates from the start, so the curve grows into a fixed axis
        plot.setXRange(math.log10(START_LR), math.log10(END_LR), padding=0.03)
        decades = range(round(math.log10(START_LR)), round(math.log10(END_LR)) + 1)
        plot.getAxis("bottom").setTicks([[(k, _decade(k)) for k in decades]])
        plot.getViewBox().disableAutoRange()
        self.curve = plot.plot(pen=pg.mkPen(colors.BLUE, width=2))
        self.marker = pg.InfiniteLine(angle=90, movable=False,
                                      pen=pg.mkPen(colors.VERMILLION, width=2,
                                                   style=Qt.PenStyle.DashLine),
                                      label="", labelOpts={"position": 0.92,
                                                           "color": colors.VERMILLION,
                                                           "fill": (255, 255, 255, 220)})
        self.marker.setVisible(False)
        plot.addItem(self.marker, ignoreBounds=True)
        self.point = plot.plot(pen=None, symbol="o", symbolSize=9,
                               symbolBrush=colors.VERMILLION, symbolPen="w")
        layout.addWidget(self.plot_widget, 1)

        self.status = QLabel()
        self.status.setObjectName("lrFinderStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.status)
        self.rate_label = QLabel()
        self.rate_label.setObjectName("lrFinderRate")
        self.rate_label.setWordWrap(True)
        layout.addWidget(self.rate_label)

        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("lrFinderStart")
        self.start_button.setDefault(True)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("lrFinderStop")
        self.use_button = QPushButton("Use this rate")
        self.use_button.setObjectName("lrFinderUse")
        self.use_button.setToolTip("Set the optimizer's learning rate to the suggestion "
                                   "(Edit > Undo puts the old one back).")
        close = QPushButton("Close")
        close.setObjectName("lrFinderClose")
        for button in (self.start_button, self.stop_button, self.use_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.stop)
        self.use_button.clicked.connect(self.use_rate)
        close.clicked.connect(self.close)

        self.controller.projectChanged.connect(self._on_project_changed)
        self.controller.replaced.connect(self._on_replaced)
        self.controller.derivedChanged.connect(self._update)
        self.training.stateChanged.connect(self._update)
        self.resize(640, 520)
        self._say(say.FIND_LR_READY)
        self._update()

    # -- state ------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        """True while a sweep is going (from Start until its answer)."""
        return self._running

    def _say(self, text: str, error: bool = False) -> None:
        self.message = text
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")

    @Slot()
    def _update(self, *_args: Any) -> None:
        """Enables what can be done now, and says why Start cannot be pressed."""
        weights = self.panel.has_weights()
        self.trained.setEnabled(weights and not self._running)
        self.trained.setToolTip("The weights the last run ended with." if weights
                                else say.FIND_LR_NO_WEIGHTS)
        if not weights and self.trained.isChecked():
            self.fresh.setChecked(True)
        self.fresh.setEnabled(not self._running)
        blocked = self._blocked()
        self.start_button.setEnabled(not blocked and not self._running)
        self.start_button.setToolTip(blocked or "Sweep the learning rate from 1e-7 to 10.")
        self.start_button.setText("Start again" if self.result is not None else "Start")
        self.stop_button.setEnabled(self._running)
        self.use_button.setEnabled(not self._running and self._suggestion() is not None
                                   and not self.training.running)
        self.rate_label.setText(say.rate_now(current_rate(self.controller.project)))

    def _blocked(self) -> str:
        if self._running:
            return ""
        if self.training.running:
            return say.FIND_LR_RUN_GOING
        return self.panel.blocked_reason()

    def _suggestion(self) -> float | None:
        return self.result.suggested_lr if self.result is not None else None

    # -- the sweep ----------------------------------------------------------------------------
    @Slot()
    def start(self) -> bool:
        """Starts a sweep (on a pool thread: the call waits for the engine's answer)."""
        if self._running:
            return False
        blocked = self._blocked()
        if blocked:
            self._say(blocked, error=True)
            return False
        trained = self.trained.isChecked() and self.panel.has_weights()
        try:
            session = self.panel.ensure_session()
        except Exception as exc:  # noqa: BLE001 - a session that cannot open, in words
            self._say(say.finder_failed(exc), error=True)
            return False
        project = self.controller.project
        self._clear()
        self._running = True
        self._stop_wanted = False
        self._session = session
        session.subscribe(self._listen)
        self.training.set_state("finding")
        self._say(say.FIND_LR_STARTING)
        self._update()

        def work() -> LRFindEvent | None:
            if session.project != project:  # a changed compile section, say
                session.set_project(project)
            if self._stop_wanted:  # stopped while the session was being readied
                return None
            return session.lr_find(trained=trained)

        self.panel.background.call(work, lambda result: self._on_done(session, result),
                                   lambda exc: self._on_failed(session, exc))
        return True

    @Slot()
    def stop(self) -> None:
        """Ends the sweep after the current batch; its curve so far is kept."""
        if self._running and self._session is not None:
            self._stop_wanted = True
            self._session.stop()
            self._say(say.FIND_LR_STOPPING)

    def _listen(self, event: Any) -> None:
        """The session's listener (its worker or dispatch thread): the sweep's curve only."""
        if isinstance(event, LRFindEvent):
            self.bridge.listener(event)

    @Slot(list)
    def _on_events(self, events: list[Any]) -> None:
        assert QThread.currentThread() is self.thread(), "drawn on the GUI thread"
        curves = [e for e in events if isinstance(e, LRFindEvent) and not e.done]
        if not curves or not self._running:
            return
        latest = curves[-1]
        self._draw(latest)
        self.live_draws += 1
        if len(latest.lrs):
            self._say(say.finding(len(latest.lrs), latest.steps, float(latest.lrs[-1])))

    def _finish(self, session: Any) -> bool:
        """The sweep in `session` ended: unlock, and say whether it is still the one shown."""
        session.unsubscribe(self._listen)
        if session is not self._session:
            return False
        self._running = False
        self._session = None
        if self.training.state == "finding":
            self.training.set_state("idle")
        return True

    def _on_done(self, session: Any, result: LRFindEvent | None) -> None:
        if not self._finish(session):
            return
        if result is None:
            self._say(say.FIND_LR_STOPPED_EARLY)
            self._update()
            return
        self.result = result
        self._draw(result)
        if result.suggested_lr is not None:
            self._mark(result)
            self._say(say.finder_suggests(result.suggested_lr, rule_words(result.rule)))
        else:
            self._say(result.message, error=result.reason != "stopped")
        self._update()

    def _on_failed(self, session: Any, exc: BaseException) -> None:
        if not self._finish(session):
            return
        self._say(say.finder_failed(exc), error=True)
        self._update()

    # -- drawing ------------------------------------------------------------------------------
    def _clear(self) -> None:
        self.result = None
        self.curve.setData([], [])
        self.point.setData([], [])
        self.marker.setVisible(False)

    def _draw(self, event: LRFindEvent) -> None:
        if len(event.lrs):
            self.curve.setData(event.lrs, event.losses)
            low, high = loss_range(event.losses, skipped(len(event.losses), event.steps))
            self.plot_widget.getPlotItem().setYRange(low, high, padding=0.05)

    def _mark(self, result: LRFindEvent) -> None:
        """The suggested rate as a vertical line, and the point of the curve the rule
        picked (for "minimum/10", the minimum: the line stands a decade before it)."""
        rate = float(result.suggested_lr or 0.0)
        self.marker.setPos(math.log10(rate))  # the view's x is log10(rate)
        self.marker.setVisible(True)  # first: a hidden line's label is not updated
        self.marker.label.setFormat(f"{rate:g}")
        i = result.suggested_index
        if 0 <= i < len(result.lrs):
            self.point.setData([result.lrs[i]], [result.losses[i]])

    # -- using the rate -------------------------------------------------------------------------
    @Slot()
    def use_rate(self) -> bool:
        """Sets the optimizer's learning rate to the suggestion: one undoable edit."""
        rate = self._suggestion()
        if rate is None or self._running:
            return False
        project = self.controller.project
        spec = project.compile.optimizer
        definition = optimizer_def(spec.type)
        if definition is None or definition.param("learning_rate") is None:
            self._say(say.rate_not_used(f"the optimizer {spec.type} takes no learning rate"),
                      error=True)
            return False
        before = current_rate(project)
        compile_spec = replace(project.compile,
                               optimizer=set_object_arg(spec, definition, "learning_rate", rate))
        if compile_spec == project.compile:
            self._say(say.rate_used(rate, before))
            return True
        self.controller.set_compile(compile_spec, f"Use learning rate {rate:g} (finder)")
        if self.controller.project.compile != compile_spec:
            self._say(say.rate_not_used("editing is locked while training runs"), error=True)
            return False
        self.controller.end_merge()
        self._say(say.rate_used(rate, before))
        self._update()
        return True

    # -- the project and the window -------------------------------------------------------------
    @Slot(object, object)
    def _on_project_changed(self, _old: Any, _new: Any) -> None:
        self._update()

    @Slot()
    def _on_replaced(self) -> None:
        """Another project: its sweep, if any, stops, and the old curve goes."""
        self.stop()
        self._clear()
        self._say(say.FIND_LR_READY)
        self._update()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self.stop()  # a sweep nobody watches would only hold the lock
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self.stop()
        super().reject()


class LRFinderLauncher(DialogLauncher):
    """The Training menu's "Find Learning Rate..." and the one dialog it opens.

    Args:
        panel: the training panel (its session, background and controllers).
        menu: where the action goes.
        parent: the window (the dialog's parent).
    """

    def __init__(self, panel: TrainingPanel, menu: QMenu, parent: QWidget) -> None:
        super().__init__(parent, menu, "Find &Learning Rate...", "actFindLearningRate",
                         say.FIND_LR_ACTION_TIP, lambda: LRFinderDialog(panel, parent))
        self.panel = panel
        panel.training.stateChanged.connect(self._on_state)
        self._on_state(panel.training.state)

    @Slot(str)
    def _on_state(self, state: str) -> None:
        # open while its own sweep runs (the dialog is there), not during a run
        self.action.setEnabled(state in ("idle", "finding"))

