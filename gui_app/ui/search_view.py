"""Training > Search...: the project's hyperparameter search, run by Keras Tuner in the engine.

`SearchRunner` (a QObject) owns the search in the engine (`engine.search_client`): it
starts and stops it, keeps the trials as they come, and applies the best one to the
project as one undoable edit. `SearchWindow` shows it: what is searched, the tuner, the
objective and the number of trials (each an undoable edit of the project's `search`
section), a live table of the trials (values, score, status, time), a plot of the best
score so far by trial, and Start / Continue, Stop and Apply Best. The trials are kept
beside the project (`<name>.search/`), so Continue goes on where a stopped search, or
one of an earlier session, ended. pyqtgraph is imported when the window is first made.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QAction, QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.search import (
    MAX_TRIALS,
    TUNERS,
    SearchError,
    apply_values,
    check_search,
    fmt_value,
    objective_direction,
    objective_names,
)
from ..core.search_events import SearchDone, TrialEvent, best_so_far, best_trial
from ..core.search_text import describe_space
from ..core.spec import SearchSpec
from . import mailbox
from .controller import ProjectController
from .fields import ERROR_STYLE

NO_SEARCH = ("Nothing is searched yet. Press Search... beside a setting in the inspector, "
             "or in the Compile or Fit panel (units, learning rate, activation, batch size), "
             "then come back here.")
EARLIER = QColor("#757575")


class SearchRunner(QObject):
    """The window's search: one at a time, in the engine of the training controller.

    Signals:
        trialChanged(TrialEvent): a trial began or ended (on the GUI thread).
        finished(SearchDone): the search ended; `result` holds it.
        runningChanged(bool): a search started or ended.
    """

    trialChanged = Signal(object)
    finished = Signal(object)
    runningChanged = Signal(bool)

    def __init__(self, controller: ProjectController, training: Any,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.training = training
        self.trials: dict[int, TrialEvent] = {}
        self.result: SearchDone | None = None
        self.search: SearchSpec | None = None  # the search as it was started
        self._remote: Any = None
        mailbox.install()
        controller.replaced.connect(self._on_replaced)

    @property
    def running(self) -> bool:
        return self._remote is not None

    def problem(self) -> str | None:
        """Why a search cannot start now, in words, or None."""
        project = self.controller.project
        if project.search is None:
            return NO_SEARCH
        problems = check_search(project)
        if problems:
            return f"The search cannot run: {problems[0]}"
        if self.training.running:
            return "A training run is going; stop it first, then search."
        if self.running:
            return "The search is running."
        return None

    def start(self) -> str | None:
        """Starts (or continues) the project's search; returns why not, or None."""
        from ..engine.search_client import RemoteSearch

        reason = self.problem()
        if reason is not None:
            return reason
        project = self.controller.project
        path = self.controller.path
        self.search = project.search
        self.trials = {}
        self.result = None
        engine = self.training.link.start()
        self._remote = RemoteSearch(engine, project, path,
                                    path.resolve().parent if path is not None else None)
        self._remote.subscribe(lambda event: mailbox.post(self, self._on_event, event))
        self._remote.start()
        # Train, Step and editing wait for the search (the trials share the engine)
        self.training.set_state("searching")
        self.runningChanged.emit(True)
        return None

    def stop(self) -> None:
        if self._remote is not None:
            self._remote.stop()

    def close(self) -> None:
        if self._remote is not None:
            self._remote.close()
            self._remote = None
        self._release()

    def best(self) -> TrialEvent | None:
        if self.search is None:
            return None
        return best_trial(list(self.trials.values()), objective_direction(self.search.objective))

    def apply_best(self) -> str:
        """Sets the best trial's values in the project (one undoable edit); says what it did."""
        best = self.best()
        if best is None:
            return "No trial has a score yet."
        try:
            applied = apply_values(self.controller.project, best.values)
        except SearchError as exc:
            return f"The best trial no longer fits the project: {exc}"
        if not self.controller.edit(applied, f"Apply the best trial (#{best.number})"):
            return "The project has these values already."
        return f"Applied trial {best.number}: " + ", ".join(
            f"{k.rsplit('.', 1)[-1]} {fmt_value(v)}" for k, v in best.values.items())

    @Slot(object)
    def _on_event(self, event: Any) -> None:
        assert QThread.currentThread() is self.thread(), "search news is handled on the GUI thread"
        if isinstance(event, TrialEvent):
            self.trials[event.number] = event
            self.trialChanged.emit(event)
        elif isinstance(event, SearchDone):
            self.result = event
            if self._remote is not None:
                self._remote.close()
                self._remote = None
            self._release()
            self.runningChanged.emit(False)
            self.finished.emit(event)

    @Slot()
    def _on_replaced(self) -> None:
        """Another project took this one's place: its search and its trials go."""
        self.stop()
        self.close()
        self._release()
        self.trials, self.result, self.search = {}, None, None
        self.runningChanged.emit(False)

    def _release(self) -> None:
        """Training and editing again, once the search is over."""
        if self.training.state == "searching":
            self.training.set_state("idle")


class SearchWindow(QDialog):
    """The search's window: settings, Start / Continue, Stop, Apply Best, Curves on the
    Plots, the trials table and the best-so-far plot.

    Signals:
        curvesRequested(list): [(label, History dict), ...] of finished trials to draw on
            the Training plots as earlier runs.
    """

    curvesRequested = Signal(list)

    def __init__(self, runner: SearchRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._drawn: set[int] = set()  # trials whose curves went to the plots
        self.setObjectName("searchWindow")
        self.setWindowTitle("Hyperparameter Search")
        self.runner = runner
        self.controller = runner.controller
        self._updating = False
        self._paths: list[str] = []
        layout = QVBoxLayout(self)
        self.space = QLabel()
        self.space.setObjectName("searchSpace")
        self.space.setWordWrap(True)
        self.space.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.space)
        row = QHBoxLayout()
        self.tuner = QComboBox()
        self.tuner.setObjectName("searchTuner")
        for name in TUNERS:
            self.tuner.addItem(name, name)
        self.tuner.setToolTip("random: values drawn at random; hyperband: many short trials, "
                              "the best trained longer; bayesian: each trial learns from the "
                              "scores so far.")
        self.objective = QComboBox()
        self.objective.setObjectName("searchObjective")
        self.objective.setToolTip("What picks the best trial: losses lower, the rest higher.")
        self.max_trials = QSpinBox()
        self.max_trials.setObjectName("searchTrials")
        self.max_trials.setRange(1, MAX_TRIALS)
        self.max_trials.setToolTip("Trials in all: Continue goes on up to this many.")
        for text, widget in (("Tuner", self.tuner), ("Best by", self.objective),
                             ("Trials", self.max_trials)):
            row.addWidget(QLabel(text))
            row.addWidget(widget)
        row.addStretch(1)
        layout.addLayout(row)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start")
        self.start_button.setObjectName("searchStart")
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("searchStop")
        self.stop_button.setToolTip("Stop after the current batch; the trials are kept, and "
                                    "Continue runs the interrupted one again.")
        self.apply_button = QPushButton("Apply Best")
        self.apply_button.setObjectName("searchApply")
        self.apply_button.setToolTip("Set the best trial's values in the project (Undo "
                                     "takes them back).")
        self.curves_button = QPushButton("Curves on the Plots")
        self.curves_button.setObjectName("searchCurves")
        self.curves_button.setToolTip("Draw each finished trial's curves on the Training "
                                      "plots, faint, like earlier runs (Earlier runs lists "
                                      "them).")
        for button in (self.start_button, self.stop_button, self.apply_button,
                       self.curves_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableWidget(0, 0)
        self.table.setObjectName("searchTrialsTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setAlternatingRowColors(True)
        splitter.addWidget(self.table)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setObjectName("searchPlot")
        self.plot.setMinimumHeight(120)
        self.plot.setLabel("bottom", "trial")
        self.plot.getAxis("left").enableAutoSIPrefix(False)  # accuracy 0.9, not 900 x 0.001
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.addLegend(offset=(-10, -10), labelTextColor="#424242")
        self.scores = pg.ScatterPlotItem(size=8, brush=pg.mkBrush("#90a4ae"), pen=None,
                                         name="each trial")
        self.best_line = pg.PlotDataItem(pen=pg.mkPen("#1565c0", width=2),
                                         name="best so far")
        self.plot.addItem(self.scores)
        self.plot.addItem(self.best_line)
        splitter.addWidget(self.plot)
        splitter.setSizes([330, 220])  # the table shows about ten trials
        layout.addWidget(splitter, 1)
        self.status = QLabel()
        self.status.setObjectName("searchStatus")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.resize(720, 560)

        self.start_button.clicked.connect(self._on_start)
        self.stop_button.clicked.connect(runner.stop)
        self.apply_button.clicked.connect(self._on_apply)
        self.curves_button.clicked.connect(self._on_curves)
        self.tuner.currentIndexChanged.connect(self._on_settings)
        self.objective.currentIndexChanged.connect(self._on_settings)
        self.max_trials.valueChanged.connect(self._on_settings)
        self.max_trials.editingFinished.connect(self.controller.end_merge)
        runner.trialChanged.connect(self._on_trial)
        runner.finished.connect(self._on_finished)
        runner.runningChanged.connect(self._refresh_buttons)
        self.controller.projectChanged.connect(self._on_project_changed)
        self.refresh()

    # -- the project's search section ----------------------------------------------------------
    @Slot(object, object)
    def _on_project_changed(self, old: Any, new: Any) -> None:
        if old.search != new.search or old.compile != new.compile or old.data != new.data:
            self.refresh()
        else:
            self._refresh_buttons()

    def refresh(self) -> None:
        project = self.controller.project
        search = project.search
        self._updating = True
        try:
            self.space.setText(NO_SEARCH if search is None else
                               "<br>".join(describe_space(search)))
            for widget in (self.tuner, self.objective, self.max_trials):
                widget.setEnabled(search is not None)
            if search is not None:
                self.tuner.setCurrentIndex(max(0, self.tuner.findData(search.tuner)))
                self.objective.clear()
                for name in objective_names(project):
                    self.objective.addItem(name, name)
                self.objective.setCurrentIndex(max(0, self.objective.findData(search.objective)))
                self.max_trials.setValue(search.max_trials)
        finally:
            self._updating = False
        if not self.runner.running and not self.runner.trials:
            self._set_columns(search)
        self._refresh_buttons()

    @Slot()
    def _on_settings(self) -> None:
        search = self.controller.project.search
        if self._updating or search is None:
            return
        new = replace(search, tuner=self.tuner.currentData() or search.tuner,
                      objective=self.objective.currentData() or search.objective,
                      max_trials=int(self.max_trials.value()))
        if new.tuner == "hyperband" and "fit.epochs" in new.paths():
            self.status.setText("Hyperband sets each trial's epochs itself: stop searching "
                                "fit.epochs first.")
            self.refresh()
            return
        self.controller.edit(self.controller.project.replace(search=new), "Change the search",
                             merge_key="search.settings")

    # -- running -----------------------------------------------------------------------------
    @Slot()
    def _on_start(self) -> None:
        reason = self.runner.start()
        if reason is not None:
            self.status.setText(reason)
            return
        self._set_columns(self.runner.search)
        self._redraw()
        self.status.setText("Starting the search in the training engine...")

    @Slot()
    def _on_apply(self) -> None:
        self.status.setText(self.runner.apply_best())

    @Slot()
    def _on_curves(self) -> None:
        """Each finished trial's History, not drawn yet, to the Training plots."""
        curves = []
        for number in sorted(self.runner.trials):
            trial = self.runner.trials[number]
            if number in self._drawn or not trial.history:
                continue
            self._drawn.add(number)
            values = ", ".join(f"{k.rsplit('.', 1)[-1]} {fmt_value(v)}"
                               for k, v in trial.values.items())
            curves.append((f"Trial {number}: {values}", dict(trial.history)))
        if curves:
            self.curvesRequested.emit(curves)
        self.status.setText(f"{len(curves)} trial(s) drawn on the Training plots."
                            if curves else "Every finished trial is on the plots already.")

    @Slot(bool)
    def _refresh_buttons(self, _running: bool = False) -> None:
        running = self.runner.running
        self.start_button.setText("Continue" if self.runner.trials and not running
                                  else "Start")
        reason = None if running else self.runner.problem()
        self.start_button.setEnabled(not running and reason is None)
        self.start_button.setToolTip(reason or "Run the search in the training engine; the "
                                     "trials are kept beside the project.")
        self.stop_button.setEnabled(running)
        self.apply_button.setEnabled(self.runner.best() is not None)
        self.curves_button.setEnabled(any(t.history for t in self.runner.trials.values()))

    @Slot(object)
    def _on_trial(self, event: TrialEvent) -> None:
        self._put_row(event)
        self._redraw()
        self._refresh_buttons()
        if event.status == "running":
            self.status.setText(f"Trial {event.number} of {self._total()} is running...")

    @Slot(object)
    def _on_finished(self, done: SearchDone) -> None:
        best = self.runner.best()
        text = done.message
        if best is not None:
            text += (f". Best: trial {best.number}, {done.objective} "
                     f"{fmt_value(best.score)}")
        self.status.setText(text[:1].upper() + text[1:] + ".")
        self.status.setStyleSheet(ERROR_STYLE if done.status == "failed" else "")
        self._mark_best()
        self._refresh_buttons()
        self.table.scrollToTop()

    def _total(self) -> int:
        search = self.controller.project.search or self.runner.search
        return search.max_trials if search is not None else 0

    # -- the table and the plot ------------------------------------------------------------------
    def _set_columns(self, search: SearchSpec | None) -> None:
        self.table.setRowCount(0)
        paths = list(search.paths()) if search is not None else []
        objective = search.objective if search is not None else "score"
        heads = ["#", *(p.rsplit(".", 1)[-1] if not p.startswith("compile.optimizer")
                        or p.count(".") > 1 else "optimizer" for p in paths),
                 objective, "status", "time"]
        self.table.setColumnCount(len(heads))
        self.table.setHorizontalHeaderLabels(heads)
        for column, path in enumerate(paths, start=1):
            self.table.horizontalHeaderItem(column).setToolTip(path)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self._paths = paths
        self.scores.setData([], [])
        self.best_line.setData([], [])
        self.plot.setLabel("left", objective)

    def _row_of(self, number: int) -> int:
        for row in range(self.table.rowCount()):
            item = self.table.item(row, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == number:
                return row
        row = self.table.rowCount()
        self.table.insertRow(row)
        return row

    def _put_row(self, event: TrialEvent) -> None:
        row = self._row_of(event.number)
        seconds = "" if event.status == "running" else f"{event.seconds:.1f} s"
        score = "" if event.score is None else fmt_value(event.score)
        status = event.status + (" (earlier)" if event.earlier else "")
        cells = [str(event.number), *(fmt_value(event.values.get(p, "")) for p in self._paths),
                 score, status, seconds]
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if column == 0:
                item.setData(Qt.ItemDataRole.UserRole, event.number)
            if event.message:
                item.setToolTip(event.message)
            if event.earlier:
                item.setForeground(QBrush(EARLIER))
            if column and column <= len(self._paths) + 1:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, column, item)
        self._mark_best()
        if event.status == "running":
            self.table.scrollToItem(self.table.item(row, 0))

    def _mark_best(self) -> None:
        best = self.runner.best()
        bold, plain = QFont(self.table.font()), QFont(self.table.font())
        bold.setBold(True)
        for row in range(self.table.rowCount()):
            first = self.table.item(row, 0)
            is_best = best is not None and first is not None and \
                first.data(Qt.ItemDataRole.UserRole) == best.number
            for column in range(self.table.columnCount()):
                item = self.table.item(row, column)
                if item is not None:
                    item.setFont(bold if is_best else plain)

    def _redraw(self) -> None:
        search = self.runner.search
        if search is None:
            return
        trials = list(self.runner.trials.values())
        done = [t for t in trials if t.status == "completed" and t.score is not None
                and math.isfinite(t.score)]
        self.scores.setData([t.number for t in done], [t.score for t in done])
        points = best_so_far(trials, objective_direction(search.objective))
        xs: list[float] = []
        ys: list[float] = []
        for number, best in points:  # a staircase: the best only changes at a trial
            if ys:
                xs.append(number)
                ys.append(ys[-1])
            xs.append(number)
            ys.append(best)
        self.best_line.setData(xs, ys)


class SearchLauncher(QObject):
    """Training > Search...: the menu action, the runner and the window (made on first use)."""

    def __init__(self, controller: ProjectController, training: Any, menu: QMenu,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.parent_widget = parent
        self.runner = SearchRunner(controller, training, self)
        self.window: SearchWindow | None = None
        #: Draws a finished History on the Training plots as an earlier run (label, history)
        #: (the training panel's `add_overlay_run`, set by the window).
        self.overlay: Callable[[str, dict], None] | None = None
        self.action = QAction("&Search...", parent)
        self.action.setObjectName("searchAction")
        self.action.setToolTip("Search the settings marked for search (units, learning "
                               "rate, ...) with Keras Tuner, and apply the best.")
        self.action.triggered.connect(self.open)
        menu.addAction(self.action)

    @Slot(list)
    def _on_curves(self, curves: list) -> None:
        if self.overlay is not None:
            for label, history in curves:
                self.overlay(label, history)

    @Slot()
    def open(self) -> SearchWindow:
        if self.window is None:
            self.window = SearchWindow(self.runner, self.parent_widget)
            self.window.curvesRequested.connect(self._on_curves)
        self.window.refresh()
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()
        return self.window
