"""Training > Step Through: the training loop, one batch at a time.

Each press of N (or Next batch) asks the engine to train the session's model on the next
batch of the pass (`RemoteSession.step_batch`, see `engine.step_through`) and shows what
that step did, with the engine's own numbers:

- the boundary after the step (or before it, on request), the batch's points ringed;
- the loss on the batch, and where the step is (pass, batch, step);
- the update rule: `w <- w - lr * g` for plain SGD; for any other optimizer the real
  update (after - before), and in words why it is not lr * g;
- the numbers of one weight the person picks (layer, kernel or bias, index): its value
  before, its gradient, lr * g and its value after;
- bars of every gradient and every update, of the picked kernel or bias or of all the
  model's weights (pyqtgraph `BarGraphItem`s); a click on a bar picks its weight.

Close or Esc ends it. The steps train the session's real weights: weights that were fresh
when the first step was taken are made fresh again on closing (Train still starts from
new weights), trained ones keep the steps (Continue goes on from them).

The dialog never runs a model and never touches Keras: the engine sends plain arrays. The
blocking call runs through the panel's `Background`, and only its answer, on the GUI
thread, touches a widget. pyqtgraph is imported when the dialog is first made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt, QThread, Slot
from PySide6.QtGui import QCloseEvent, QFont, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.step_through import BatchStep, flat_weights, step_through_problem, weight_label
from . import colors
from . import messages as say
from .launcher import DialogLauncher

if TYPE_CHECKING:
    from .training_panel import TrainingPanel

ERROR_STYLE = "color: #b00020;"
#: Presses of N remembered while a step is being computed (a held key repeats).
MAX_PENDING = 3
#: The ring around each of the batch's points, in pixels.
RING = 15.0


def number(value: float) -> str:
    """A weight, gradient or update as the dialog shows it: six decimals, or four
    significant digits in e-notation for small values (an update of 1.2345e-04)."""
    v = float(value)
    if v == 0.0:
        return "0"
    if not np.isfinite(v):
        return str(v)
    return f"{v:.6f}" if abs(v) >= 0.01 else f"{v:.4e}"


def weight_words(step: BatchStep, variable: int, flat: int) -> str:
    """What one weight connects: "input 1 to unit 3" for a kernel, "unit 3's bias"."""
    shape = step.shapes[variable]
    index = np.unravel_index(int(flat), shape) if shape else ()
    kind = step.kinds[variable]
    if kind == "kernel" and len(index) == 2:
        source = "input" if variable == 0 else "unit"
        return f"from {source} {int(index[0])} of the layer below to unit {int(index[1])}"
    if kind == "bias" and len(index) == 1:
        return f"unit {int(index[0])}'s bias"
    return ""


class StepThroughDialog(QDialog):
    """Step Through's window: Next batch (N), Start again, the boundary with the batch, the
    loss, the picked weight's numbers and the bars.

    It knows the training panel only by its public face (`ensure_session`, `has_weights`,
    `blocked_reason`, `background`, `controller`, `training`), never the window.

    Attributes:
        step: the last step's `BatchStep` (None before one).
        message: the text of the status line (for tests and screenshots).
        steps_shown: how many steps the dialog has drawn.
    """

    def __init__(self, panel: TrainingPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        from .boundary_view import BoundaryView

        self._pg = pg
        self.setObjectName("stepThroughDialog")
        self.setWindowTitle("Step Through: the training loop, one batch at a time")
        # the window waits while stepping: a Train pressed meanwhile would start from the
        # stepped weights, and the steps would no longer follow one pass of the data
        self.setWindowModality(Qt.WindowModality.WindowModal)
        self.panel = panel
        self.controller = panel.controller
        self.training = panel.training
        self.step: BatchStep | None = None
        self.message = ""
        self.steps_shown = 0
        self._busy = False
        self._pending = 0
        self._restart = True  # the next step begins a new pass
        self._session: Any = None  # the session the steps were taken in
        self._fresh = False  # its weights were fresh before the first step
        self._stepped = False
        self._closing_reset = False  # closed while a step ran: reset after it

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(6)
        intro = QLabel(say.STEP_INTRO)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        head = QHBoxLayout()
        self.counter = QLabel("Pass 1, no batch yet")
        self.counter.setObjectName("stepCounter")
        self.counter.setToolTip("Where the step is: the pass over the training data, the "
                                "batch within it, and the steps taken")
        bold = QFont(self.counter.font())
        bold.setBold(True)
        bold.setPointSizeF(bold.pointSizeF() * 1.1)
        self.counter.setFont(bold)
        self.loss_label = QLabel("")
        self.loss_label.setObjectName("stepLoss")
        self.loss_label.setToolTip("The loss on this batch alone, at the weights before the "
                                   "step: the number the step's gradient is taken of")
        self.loss_label.setFont(bold)
        head.addWidget(self.counter)
        head.addSpacing(24)
        head.addWidget(self.loss_label)
        head.addStretch(1)
        layout.addLayout(head)

        body = QHBoxLayout()
        body.setSpacing(10)
        left = QVBoxLayout()
        left.setSpacing(2)
        self.boundary = BoundaryView()
        self.boundary.setObjectName("stepBoundary")
        self.boundary.setToolTip(say.STEP_BOUNDARY_TIP)
        self.boundary.slider.hide()  # one step, no run to scrub
        self.boundary.slider_label.hide()
        self.boundary.clicked.connect(lambda *_args: self.boundary.hide_click())
        self.boundary.plot.setMinimumSize(300, 260)
        left.addWidget(self.boundary, 1)
        self.before_box = QCheckBox("Show the boundary before the step")
        self.before_box.setObjectName("stepShowBefore")
        self.before_box.setToolTip(say.STEP_BEFORE_TIP)
        self.before_box.toggled.connect(self._draw_boundary)
        left.addWidget(self.before_box)
        self.highlight = pg.ScatterPlotItem(size=RING, symbol="o", brush=None,
                                            pen=pg.mkPen(colors.BLACK, width=2.2))
        self.highlight.setZValue(20)
        self.boundary.plot.addItem(self.highlight)
        body.addLayout(left, 5)

        right = QVBoxLayout()
        right.setSpacing(4)
        self.rule = QLabel("")
        self.rule.setObjectName("stepRule")
        self.rule.setWordWrap(True)
        self.rule.setToolTip("How the optimizer turns the gradient into the update")
        right.addWidget(self.rule)

        pick = QHBoxLayout()
        pick_label = QLabel("Weight:")
        pick_label.setToolTip(say.STEP_VARIABLE_TIP)
        self.variable = QComboBox()
        self.variable.setObjectName("stepVariable")
        self.variable.setToolTip(say.STEP_VARIABLE_TIP)
        self.variable.setMinimumContentsLength(14)
        self.index = QSpinBox()
        self.index.setObjectName("stepIndex")
        self.index.setToolTip(say.STEP_INDEX_TIP)
        self.index.setPrefix("index ")
        self.index.setMinimumWidth(96)
        self.index.installEventFilter(self)
        self.index.lineEdit().installEventFilter(self)
        self.scope = QComboBox()
        self.scope.setObjectName("stepScope")
        self.scope.addItem("Bars: this kernel or bias", "variable")
        self.scope.addItem("Bars: all weights", "all")
        self.scope.setToolTip(say.STEP_SCOPE_TIP)
        pick.addWidget(pick_label)
        pick.addWidget(self.variable, 1)
        pick.addWidget(self.index)
        pick.addWidget(self.scope)
        right.addLayout(pick)

        grid = QGridLayout()
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(1)
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self.weight_name = QLabel("")
        self.weight_name.setObjectName("stepWeightName")
        self.weight_name.setToolTip("The picked weight, and what it connects")
        grid.addWidget(self.weight_name, 0, 0, 1, 3)
        rows = (("before", "w before", "The weight's value before the step"),
                ("gradient", "gradient g", "d(loss on the batch) / d(w), at the weights "
                                           "before the step"),
                ("rate", "lr * g", "The learning rate times the gradient: what plain SGD "
                                   "subtracts"),
                ("update", "update", "The real change of the weight: after - before"),
                ("after", "w after", "The weight's value after the step"))
        self.value_labels: dict[str, QLabel] = {}
        self.row_titles: dict[str, QLabel] = {}
        for r, (key, title, tip) in enumerate(rows, start=1):
            name = QLabel(title)
            name.setToolTip(tip)
            value = QLabel("")
            value.setObjectName(f"step_{key}")
            value.setFont(mono)
            value.setToolTip(tip)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(name, r, 0)
            grid.addWidget(value, r, 1)
            self.value_labels[key] = value
            self.row_titles[key] = name
        self.check = QLabel("")
        self.check.setObjectName("stepCheck")
        self.check.setToolTip("The rule, checked on this weight's numbers")
        grid.addWidget(self.check, 5, 2)
        grid.setColumnStretch(2, 1)
        right.addLayout(grid)

        self.grad_plot = self._bar_plot("gradient g")
        self.update_plot = self._bar_plot("update")
        self.update_plot.setXLink(self.grad_plot)
        self.update_plot.getPlotItem().setLabel("bottom", "weight")
        self.grad_bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.8,
                                         brush=colors.BLUE, pen=pg.mkPen(None))
        self.update_bars = pg.BarGraphItem(x=[0.0], height=[0.0], width=0.8,
                                           brush=colors.VERMILLION, pen=pg.mkPen(None))
        self.grad_plot.addItem(self.grad_bars)
        self.update_plot.addItem(self.update_bars)
        self.marks = []
        for plot in (self.grad_plot, self.update_plot):
            mark = pg.InfiniteLine(angle=90, movable=False,
                                   pen=pg.mkPen(colors.INK, width=1, style=Qt.PenStyle.DashLine))
            mark.setVisible(False)
            plot.addItem(mark, ignoreBounds=True)
            self.marks.append(mark)
            plot.scene().sigMouseClicked.connect(
                lambda event, p=plot: self._on_bar_click(p, event))
        right.addWidget(self.grad_plot, 1)
        right.addWidget(self.update_plot, 1)
        self.separators: list[tuple[Any, Any]] = []
        body.addLayout(right, 6)
        layout.addLayout(body, 1)

        self.status = QLabel("")
        self.status.setObjectName("stepStatus")
        self.status.setWordWrap(True)
        self.status.setToolTip("What the last press did, or why it could not")
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.next_button = QPushButton("Next batch (N)")
        self.next_button.setObjectName("stepNext")
        self.next_button.setToolTip(say.STEP_NEXT_TIP)
        self.next_button.setDefault(True)
        self.restart_button = QPushButton("Start again")
        self.restart_button.setObjectName("stepRestart")
        self.restart_button.setToolTip(say.STEP_RESTART_TIP)
        self.close_button = QPushButton("Close")
        self.close_button.setObjectName("stepClose")
        self.close_button.setToolTip(say.STEP_CLOSE_TIP)
        self.close_button.setAutoDefault(False)
        self.restart_button.setAutoDefault(False)
        buttons.addWidget(self.next_button)
        buttons.addWidget(self.restart_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        self.next_button.clicked.connect(self.next_batch)
        self.restart_button.clicked.connect(self.start_again)
        self.close_button.clicked.connect(self.close)
        self.shortcut = QShortcut(QKeySequence(Qt.Key.Key_N), self)
        self.shortcut.activated.connect(self.next_batch)

        self.variable.currentIndexChanged.connect(self._on_variable)
        self.index.valueChanged.connect(self._on_index)
        self.scope.currentIndexChanged.connect(self._draw_bars)
        self.controller.projectChanged.connect(self._on_project_changed)
        self.controller.replaced.connect(self._on_replaced)
        self.controller.datasetChanged.connect(self._on_dataset)
        self.controller.derivedChanged.connect(self._update)
        self.training.stateChanged.connect(self._update)
        self.training.link.ready.connect(self._on_engine_ready)
        self.resize(1040, 600)
        self._on_dataset()
        self._say(say.STEP_READY)
        self._update()

    def _bar_plot(self, title: str) -> Any:
        pg = self._pg
        widget = pg.PlotWidget(background="w", enableMenu=False)
        widget.setObjectName(f"stepBars_{title.split()[0]}")
        widget.setToolTip(say.STEP_BARS_TIP)
        widget.setMinimumHeight(110)
        item = widget.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.showGrid(x=False, y=True, alpha=0.2)
        item.setLabel("left", title)
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("left").setWidth(64)
        item.addLine(y=0, pen=pg.mkPen("#808080", width=1))
        return widget

    # -- state ---------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """True while a step is being computed in the engine."""
        return self._busy

    @property
    def highlighted(self) -> int:
        """How many of the batch's points are ringed on the boundary."""
        return len(self.highlight.data)

    def _say(self, text: str, error: bool = False) -> None:
        self.message = text
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else "")

    def _blocked(self) -> str:
        if self.training.running:
            return say.STEP_RUN_GOING
        blocked = self.panel.blocked_reason()
        if blocked:
            return blocked
        c = self.controller
        return step_through_problem(c.project, c.dataset, c.summary.total_params,
                                    self.training.device_choice)

    @Slot()
    def _update(self, *_args: Any) -> None:
        blocked = self._blocked()
        self.next_button.setEnabled(not blocked)
        self.next_button.setToolTip(say.step_unavailable(blocked) if blocked
                                    else say.STEP_NEXT_TIP)
        self.restart_button.setEnabled(not blocked and not self._busy
                                       and self.step is not None)
        has = self.step is not None
        for widget in (self.variable, self.index, self.scope, self.before_box):
            widget.setEnabled(has)

    # -- stepping --------------------------------------------------------------------------------
    @Slot()
    def next_batch(self) -> bool:
        """Trains on the next batch (in the engine, off the GUI thread); a press while a
        step is computed is remembered and taken after it."""
        if self._busy:
            self._pending = min(MAX_PENDING, self._pending + 1)
            return True
        blocked = self._blocked()
        if blocked:
            self._say(say.step_unavailable(blocked), error=True)
            return False
        if not self.training.link.is_ready:  # taken when it says hello (_on_engine_ready)
            self._pending = min(MAX_PENDING, self._pending + 1)
            self._say(say.STEP_ENGINE_LOADING)
            self.training.link.start()  # the running engine, or a new one
            return False
        try:
            session = self.panel.ensure_session()
        except Exception as exc:  # noqa: BLE001 - a session that cannot open, in words
            self._say(say.step_failed(exc), error=True)
            return False
        if session is not self._session:
            self._session = session
            self._fresh = not self.panel.has_weights()
            self._stepped = False
            self._restart = True
        if not hasattr(session, "step_batch"):
            self._say(say.step_failed("this session runs no engine"), error=True)
            return False
        project = self.controller.project
        restart = self._restart
        self._busy = True
        self._update()
        self._say(say.STEP_WORKING)

        def work() -> BatchStep:
            if session.project != project:  # a changed optimizer or rate, say
                session.set_project(project)
            return session.step_batch(restart=restart)

        self.panel.background.call(work, lambda step: self._on_step(session, step),
                                   lambda exc: self._on_failed(session, exc))
        return True

    @Slot()
    def start_again(self) -> bool:
        """The next step begins a new pass from its first batch."""
        self._restart = True
        self._pending = 0
        return self.next_batch()

    def _after_step(self, session: Any) -> bool:
        """A step in `session` ended: whether the dialog still shows it."""
        assert QThread.currentThread() is self.thread(), "answers are handled on the GUI thread"
        self._busy = False
        if self._closing_reset:
            self._closing_reset = False
            self._reset(session)
            self._pending = 0
            return False
        return session is self._session

    def _on_step(self, session: Any, step: BatchStep) -> None:
        self._stepped = True
        if not self._after_step(session):
            return
        self._restart = False
        self.step = step
        self.steps_shown += 1
        self._show(step)
        self._say(say.step_done(len(step.indices), step.batch == 0 and self.steps_shown > 1))
        self._update()
        if self._pending and self.isVisible():
            self._pending -= 1
            self.next_batch()

    def _on_failed(self, session: Any, exc: BaseException) -> None:
        if not self._after_step(session):
            return
        self._pending = 0
        self._say(say.step_failed(exc), error=True)
        self._update()

    @Slot(dict)
    def _on_engine_ready(self, _hello: Any = None) -> None:
        if self._pending and self.isVisible() and not self._busy:
            self._pending -= 1
            self.next_batch()

    # -- drawing ---------------------------------------------------------------------------------
    def _show(self, step: BatchStep) -> None:
        self.counter.setText(say.step_counter(step.epoch, step.batch, step.batches, step.step))
        self.loss_label.setText(say.step_loss(step.loss, len(step.indices)))
        self.rule.setText(say.step_rule(step.optimizer, step.learning_rate, step.plain_sgd,
                                        step.optimizer_notes))
        names = list(step.names)
        current = [self.variable.itemText(i) for i in range(self.variable.count())]
        if names != current:
            keep = self.variable.currentText()
            self.variable.blockSignals(True)
            self.variable.clear()
            self.variable.addItems(names)
            self.variable.setCurrentIndex(names.index(keep) if keep in names else 0)
            self.variable.blockSignals(False)
            self._set_index_range()
        has_rate = step.learning_rate is not None
        self.row_titles["rate"].setVisible(has_rate)
        self.value_labels["rate"].setVisible(has_rate)
        self._draw_boundary()
        self._draw_numbers()
        self._draw_bars()

    def _set_index_range(self) -> None:
        step = self.step
        i = self.variable.currentIndex()
        size = int(np.size(step.before[i])) if step is not None and i >= 0 else 1
        self.index.blockSignals(True)
        self.index.setRange(0, max(0, size - 1))
        self.index.blockSignals(False)

    @Slot(int)
    def _on_variable(self, _i: int) -> None:
        self._set_index_range()
        self._draw_numbers()
        self._draw_bars()

    @Slot(int)
    def _on_index(self, _value: int) -> None:
        self._draw_numbers()
        self._draw_bars()

    @Slot()
    def _draw_boundary(self, *_args: Any) -> None:
        step = self.step
        if step is None:
            return
        grid = step.boundary_before if self.before_box.isChecked() else step.boundary
        self.boundary.show_grid(grid)
        ds = self.controller.dataset
        if ds is None or ds.x_train is None:
            self.highlight.setData([], [])
            return
        rows = step.indices[(step.indices >= 0) & (step.indices < len(ds.x_train))]
        coords = np.asarray(ds.x_train[rows], np.float64).reshape(len(rows), -1)
        if coords.shape[1] >= 2:
            self.highlight.setData(coords[:, 0], coords[:, 1])
        when = "before" if self.before_box.isChecked() else "after"
        self.boundary.header.setText(f"The boundary {when} the step; the batch's "
                                     f"{len(rows)} points are ringed in black.")

    def picked(self) -> tuple[int, int]:
        """(variable, index within it) of the picked weight."""
        return max(0, self.variable.currentIndex()), int(self.index.value())

    def picked_numbers(self) -> dict[str, float]:
        """The picked weight's numbers: before, gradient, after, update, and lr * g."""
        step = self.step
        if step is None:
            return {}
        v, k = self.picked()
        before = float(np.ravel(step.before[v])[k])
        grad = float(np.ravel(step.gradients[v])[k])
        after = float(np.ravel(step.after[v])[k])
        out = {"before": before, "gradient": grad, "after": after, "update": after - before}
        if step.learning_rate is not None:
            out["rate"] = step.learning_rate * grad
        return out

    @Slot()
    def _draw_numbers(self, *_args: Any) -> None:
        step = self.step
        if step is None:
            return
        v, k = self.picked()
        if k >= np.size(step.before[v]):
            return
        values = self.picked_numbers()
        words = weight_words(step, v, k)
        self.weight_name.setText(f"<b>{weight_label(step, v, k)}</b>"
                                 + (f" &nbsp;({words})" if words else ""))
        labels = self.value_labels
        labels["before"].setText(number(values["before"]))
        labels["gradient"].setText(number(values["gradient"]))
        labels["after"].setText(number(values["after"]))
        labels["update"].setText(number(values["update"]))
        rate = step.learning_rate
        if rate is not None:
            labels["rate"].setText(f"{rate:g} * {number(values['gradient'])} = "
                                   f"{number(values['rate'])}")
        if step.plain_sgd and rate is not None:
            expected = values["before"] - values["rate"]
            ok = abs(expected - values["after"]) <= 1e-6 + 1e-5 * abs(values["rate"])
            self.check.setText("= w before - lr * g" + ("  \u2713" if ok else "  (differs)"))
        elif rate is not None:
            self.check.setText(f"{step.optimizer}: the update is not lr * g")
        else:
            self.check.setText("")
        for mark in self.marks:
            mark.setPos(self._picked_x())
            mark.setVisible(True)

    def _picked_x(self) -> float:
        step = self.step
        v, k = self.picked()
        if step is None or self.scope.currentData() != "all":
            return float(k)
        return float(sum(int(np.size(b)) for b in step.before[:v]) + k)

    @Slot()
    def _draw_bars(self, *_args: Any) -> None:
        step = self.step
        if step is None:
            return
        pg = self._pg
        whole = self.scope.currentData() == "all"
        v, _k = self.picked()
        _before, grads, after, _labels = flat_weights(step, None if whole else v)
        update = after.astype(np.float64) - _before.astype(np.float64)
        x = np.arange(len(grads), dtype=np.float64)
        picked = int(self._picked_x())
        for bars, values, color in ((self.grad_bars, grads, colors.BLUE),
                                    (self.update_bars, update, colors.VERMILLION)):
            brushes = [pg.mkBrush(color)] * len(values)
            if 0 <= picked < len(values):
                brushes = list(brushes)
                brushes[picked] = pg.mkBrush(colors.INK)
            bars.setOpts(x=x, height=np.asarray(values, np.float64), width=0.8,
                         brushes=brushes, pens=None, pen=pg.mkPen(None))
        for plot, values in ((self.grad_plot, grads), (self.update_plot, update)):
            top = float(np.nanmax(np.abs(values))) if len(values) else 1.0
            top = top if np.isfinite(top) and top > 0 else 1.0
            plot.getPlotItem().setYRange(-1.1 * top, 1.1 * top, padding=0)
        self.grad_plot.getPlotItem().setXRange(-0.6, max(0.6, len(grads) - 0.4), padding=0)
        for plot, line in self.separators:
            plot.removeItem(line)
        self.separators = []
        if whole:
            edge = 0
            for b in step.before[:-1]:
                edge += int(np.size(b))
                for plot in (self.grad_plot, self.update_plot):
                    line = pg.InfiniteLine(pos=edge - 0.5, angle=90, movable=False,
                                           pen=pg.mkPen("#b0b0b0", width=1))
                    plot.addItem(line, ignoreBounds=True)
                    self.separators.append((plot, line))
            self.update_plot.getPlotItem().setLabel(
                "bottom", "every weight, layer by layer")
        else:
            self.update_plot.getPlotItem().setLabel("bottom", f"weight of {step.names[v]}")
        for mark in self.marks:
            mark.setPos(self._picked_x())

    def _on_bar_click(self, plot: Any, event: Any) -> None:
        """A click on a bar picks its weight."""
        step = self.step
        if step is None or event.button() != Qt.MouseButton.LeftButton:
            return
        vb = plot.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        self.pick_bar(int(round(vb.mapSceneToView(event.scenePos()).x())))

    def pick_bar(self, x: int) -> None:
        """Picks the weight drawn as bar `x` (of the bars shown)."""
        step = self.step
        if step is None:
            return
        if self.scope.currentData() != "all":
            v = self.variable.currentIndex()
            if 0 <= x < np.size(step.before[v]):
                self.index.setValue(x)
            return
        for v, b in enumerate(step.before):
            size = int(np.size(b))
            if 0 <= x < size:
                self.variable.setCurrentIndex(v)
                self.index.setValue(x)
                return
            x -= size

    # -- the project and the window --------------------------------------------------------------
    @Slot()
    def _on_dataset(self) -> None:
        ds = self.controller.dataset
        problem = step_through_problem(self.controller.project, ds) if ds is not None else ""
        self.boundary.set_dataset(ds if ds is not None and not problem else None)
        self.highlight.setData([], [])
        self._update()

    @Slot(object, object)
    def _on_project_changed(self, old: Any, new: Any) -> None:
        if old is not None and new is not None and (old.model != new.model
                                                    or old.data != new.data):
            self._forget(say.STEP_PROJECT_CHANGED)
        self._update()

    @Slot()
    def _on_replaced(self) -> None:
        self._session = None
        self._forget(say.STEP_READY)
        self._on_dataset()

    def _forget(self, text: str) -> None:
        """Drops the steps shown: the next one begins a new pass."""
        self._restart = True
        self._pending = 0
        self.step = None
        self.highlight.setData([], [])
        self.boundary.show_grid(None)
        self.counter.setText("Pass 1, no batch yet")
        self.loss_label.setText("")
        self.rule.setText("")
        for label in self.value_labels.values():
            label.setText("")
        self.weight_name.setText("")
        self.check.setText("")
        for bars in (self.grad_bars, self.update_bars):
            bars.setOpts(x=[0.0], height=[0.0], brushes=None)
        for mark in self.marks:
            mark.setVisible(False)
        self._say(text)
        self._update()

    def _reset(self, session: Any) -> None:
        """Fresh weights stay fresh: the steps are undone by new weights from the seed."""
        if session is None or not self._stepped or not self._fresh:
            return
        self._stepped = False
        # not after a run that trained these weights since (Train while this was open)
        if session is self.panel.session and not self.training.running \
                and not self.panel.has_weights():
            self.panel.background.call(session.reset_weights, lambda _r: None,
                                       lambda _e: None)

    def _end(self) -> None:
        """Closing: a press waiting is dropped, fresh weights are made fresh again, and the
        panel's picture shows trained weights as the steps left them."""
        self._pending = 0
        session = self._session
        if self._busy:
            self._closing_reset = True  # after the step in flight
        elif self._fresh:
            self._reset(session)
        elif self._stepped and session is self.panel.session:
            self.panel._snapshot_now()  # noqa: SLF001 - the panel's own picture refresh
        self._session = None
        self._restart = True
        self.step = None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """N means Next batch in the index box too (it takes digits only)."""
        if event.type() in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and \
                event.key() == Qt.Key.Key_N and not event.modifiers():
            if event.type() == QEvent.Type.KeyPress:
                self.next_batch()
            return True
        return super().eventFilter(watched, event)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._end()
        self._forget(say.STEP_READY)
        super().closeEvent(event)

    def reject(self) -> None:  # Esc
        self._end()
        self._forget(say.STEP_READY)
        super().reject()


class StepThroughLauncher(DialogLauncher):
    """The Training menu's "Step Through..." and the one dialog it opens. The action is
    off, with a tooltip that says why, for projects that cannot be stepped through (see
    `core.step_through.step_through_problem`) and while a run goes.

    Args:
        panel: the training panel (its session, background and controllers).
        menu: where the action goes.
        parent: the window (the dialog's parent).
    """

    def __init__(self, panel: TrainingPanel, menu: QMenu, parent: QWidget) -> None:
        super().__init__(parent, menu, "Step &Through...", "actStepThrough",
                         say.STEP_ACTION_TIP, lambda: StepThroughDialog(panel, parent))
        self.panel = panel
        controller, training = panel.controller, panel.training
        controller.derivedChanged.connect(self._update)
        controller.datasetChanged.connect(self._update)
        controller.projectChanged.connect(self._update)
        training.stateChanged.connect(self._update)
        training.deviceChanged.connect(self._update)
        self._update()

    def reason(self) -> str:
        """Why Step Through is off now ("" when it is on)."""
        training, c = self.panel.training, self.panel.controller
        if training.running:
            return say.STEP_RUN_GOING
        blocked = self.panel.blocked_reason()
        if blocked:
            return blocked
        return step_through_problem(c.project, c.dataset, c.summary.total_params,
                                    training.device_choice)

    @Slot()
    def _update(self, *_args: Any) -> None:
        reason = self.reason()
        self.action.setEnabled(not reason)
        tip = say.step_unavailable(reason) if reason else say.STEP_ACTION_TIP
        self.action.setToolTip(tip)
        self.action.setStatusTip(tip)

