"""Live History plots: one pyqtgraph plot per quantity (loss, each metric).

Each plot holds, for the run being trained, four curves made once and updated in place
from the growing arrays of a `views.RunRecord`:

- recent batches (faint): the mean of the batches since the previous progress report,
- the same, smoothed (thin, solid),
- training per epoch (thick, with points up to MAX_SYMBOLS epochs),
- validation per epoch (thick, other colour, with points).

With `qt_painting.QT_PAINTING` on (the default) the curves are `qt_painting.LineCurve`s,
Qt path items with no Python in their paint, fed by `views.PeakDecimator` (batch curves
keep at most about 2 x BATCH_POINTS points, minimum and maximum per bucket), and axes and
epoch curves are cached as pixmaps; off, they are stock pyqtgraph `Curve`s (`setData`,
pyqtgraph's own clipping and peak downsampling). Training runs in the engine process, but
on a small machine the window's CPU time is taken from it all the same: the Qt painting
costs the GUI thread less than half of the stock one (benchmarks/gui_training_overhead.py).
A curve is only handed new data when its series grew, so a redraw with nothing new costs
next to nothing.

Earlier runs since the project was opened stay as faint overlays (one colour per run,
training solid, validation dashed) that can be switched on and off, so Adam and SGD, or
batch 32 and 256, sit on the same axes.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import (
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..core.history_views import PeakDecimator, RunRecord, Series, split_key
from . import colors, qt_painting

#: The live run: Okabe-Ito blue and vermillion, told apart with any colour vision and on a
#: washed-out projector (`colors.py`).
TRAIN_COLOR = colors.BLUE
VAL_COLOR = colors.VERMILLION
#: Colours of earlier runs: the rest of the palette, never the live run's two.
RUN_COLORS = (colors.BLUISH_GREEN, colors.REDDISH_PURPLE, colors.SKY_BLUE, colors.ORANGE,
              colors.BLACK, "#8C8C8C")
#: Points a batch curve draws at most (about twice this: a minimum and a maximum per
#: bucket); a plot is well under a thousand pixels wide.
BATCH_POINTS = 512
#: Above this many epochs the per-epoch points are drawn as lines only: pyqtgraph
#: rebuilds every symbol on each update, and beyond this the points merge into the line.
MAX_SYMBOLS = 40
#: The diameter of those points, in pixels.
SYMBOL_PIXELS = 5.0


def run_color(number: int) -> str:
    return RUN_COLORS[(number - 1) % len(RUN_COLORS)]


def _pen(color: str, width: float = 1.0, alpha: int = 255,
         style: Qt.PenStyle = Qt.PenStyle.SolidLine) -> pg.QtGui.QPen:
    c = QColor(color)
    c.setAlpha(alpha)
    pen = pg.mkPen(c, width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


class Curve:
    """A stock pyqtgraph curve (`PlotDataItem`, QT_PAINTING off), updated with `setData`,
    with optional points on it. Long batch series are clipped to the view and peak-downsampled by
    pyqtgraph itself; on a log axis pyqtgraph takes the log10 of the values."""

    decimated = False  # batch series are handed over whole
    factor = 1.0  # the text scale its points are drawn at (`scale_curve`)

    def __init__(self, plot: pg.PlotItem, pen: QPen, z: float,
                 symbol_color: str | None = None) -> None:
        self.item = pg.PlotDataItem(pen=pen)
        self.item.setZValue(z)
        plot.addItem(self.item, ignoreBounds=True)  # takes the plot's clipping, downsampling
        self.symbol_color = symbol_color
        self.count = 0

    def set_data(self, x: np.ndarray, y: np.ndarray, log: bool = False,
                 symbols: bool = False) -> None:
        del log  # pyqtgraph follows the plot's log mode
        self.count = len(x)
        if symbols and self.symbol_color is not None:
            self.item.setData(x, y, symbol="o", symbolSize=SYMBOL_PIXELS * self.factor,
                              symbolBrush=self.symbol_color, symbolPen=None)
        else:
            self.item.setData(x, y, symbol=None)


def make_curve(plot: pg.PlotItem, pen: QPen, z: float, symbol_color: str | None = None,
               factor: float = 1.0) -> Curve | qt_painting.LineCurve:
    """A curve drawn at the text scale `factor` (its plot's)."""
    cls = qt_painting.LineCurve if qt_painting.QT_PAINTING else Curve
    curve = cls(plot, pen, z, symbol_color)
    curve.base_pen = QPen(pen)  # its 1x width: `scale_curve` thickens it with the text
    if factor != 1.0:
        scale_curve(curve, factor)
    return curve


def scale_curve(curve: Curve | qt_painting.LineCurve, factor: float) -> None:
    curve.factor = factor
    pen = QPen(curve.base_pen)
    pen.setWidthF(curve.base_pen.widthF() * factor)
    curve.item.setPen(pen)
    points = getattr(curve, "points", None)
    if points is not None:  # the Qt-painted curve's dots are a pen's round caps
        dot = QPen(points.pen())
        dot.setWidthF(SYMBOL_PIXELS * factor)
        points.setPen(dot)


def _bounds(series: list[Series | None], log: bool) -> tuple[float, float] | None:
    """The y extent of some series (log10 of the positive values for a log axis)."""
    lo, hi = math.inf, -math.inf
    for s in series:
        if s is None or not len(s):
            continue
        low = s.pos_lo if log else s.lo
        if math.isfinite(low) and math.isfinite(s.hi) and s.hi >= low:
            lo, hi = min(lo, low), max(hi, s.hi)
    if not math.isfinite(lo):
        return None
    if log:
        lo, hi = math.log10(lo), math.log10(max(hi, lo))
    return lo, hi


class QuantityPlot:
    """One plot (loss or a metric) and its curves."""

    def __init__(self, name: str, plot: pg.PlotItem) -> None:
        self.name = name
        self.plot = plot
        plot.setTitle(name, size="9pt")
        if qt_painting.QT_PAINTING:
            self.grid = qt_painting.TickGrid(plot)
        else:
            plot.showGrid(x=True, y=True, alpha=0.12)
            # long curves: only what is in view, at most a few points per pixel column
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
        plot.setLabel("bottom", "epoch")
        plot.getAxis("bottom").setHeight(28)
        plot.setMenuEnabled(False)
        plot.hideButtons()
        # The view follows the data by our own rule (fit_view), not pyqtgraph's auto-range:
        # that one moves the axes on every update, and re-rendering the axes is the most
        # expensive part of a redraw. Ours changes the range only when the data leaves it
        # or fills too little of it; the epoch axis spans the whole run from its start.
        self.vb = plot.getViewBox()
        self.vb.disableAutoRange()
        self.vb.sigRangeChangedManually.connect(self._on_manual_range)
        #: Made ahead of a run (MetricPlots.prepare) and not drawn on yet.
        self.ahead = False
        self.follow = True
        self.log = False
        self._x_end = -1.0
        self.factor = 1.0  # the text scale it draws at (`set_scale`)
        self.batch_raw = make_curve(plot, _pen(TRAIN_COLOR, 1.0, 70), 1)
        self.batch_smooth = make_curve(plot, _pen(TRAIN_COLOR, 1.0, 220), 2)
        # One point per epoch (points drawn up to MAX_SYMBOLS epochs).
        self.train = make_curve(plot, _pen(TRAIN_COLOR, 2.0), 3, TRAIN_COLOR)
        self.val = make_curve(plot, _pen(VAL_COLOR, 2.0), 4, VAL_COLOR)
        # The curves are not cached as pixmaps: a cached path item that changes while the
        # view's range moves kept stale pieces of its old picture (gaps in the lines, seen
        # in a fast run whose flat loss moved the axis); a path of a few hundred points
        # draws in well under a millisecond anyway.
        for side in ("left", "bottom"):
            qt_painting.cache(plot.getAxis(side))
        self._lengths: dict[int, int] = {}
        self._decimators: dict[int, PeakDecimator] = {}
        #: Earlier runs by number: their curves' items.
        self.overlays: dict[int, list] = {}
        self._overlay_curves: list[tuple[Curve, Series]] = []
        self.markers: list[pg.InfiniteLine] = []
        self.cursor = pg.InfiniteLine(angle=90, movable=False,
                                      pen=_pen("#444444", 1.0, 160, Qt.PenStyle.DashLine))
        self.cursor.setZValue(20)
        self.cursor.setVisible(False)
        plot.addItem(self.cursor, ignoreBounds=True)

    def _on_manual_range(self, *_args: object) -> None:
        self.follow = False  # the person zoomed or panned: leave the view to them

    def fit_view(self, record: RunRecord | None, x_end: float,
                 overlays: list[RunRecord]) -> None:
        """Moves the view to the data when it left it (or fills under half of it)."""
        if not self.follow:
            return
        if x_end != self._x_end:  # the linked plots follow the first one's x range
            self._x_end = x_end
            self.vb.setXRange(0.0, x_end * 1.02, padding=0.0)  # the last point in full
        vy0, vy1 = self.vb.viewRange()[1]
        series: list[Series | None] = []
        if record is not None:
            series += [record.batches.get(self.name), record.epochs.get(self.name),
                       record.epochs.get("val_" + self.name)]
        for earlier in overlays:
            series += [earlier.epochs.get(self.name), earlier.epochs.get("val_" + self.name)]
        bounds = _bounds(series, self.log)
        if bounds is None:
            return
        lo, hi = bounds
        span = hi - lo if hi > lo else max(abs(hi), 1.0) * 0.1
        inside = vy0 <= lo and hi <= vy1
        if inside and span >= 0.4 * (vy1 - vy0):
            return
        # Room to grow in the direction the data went: a falling loss moves the axis every
        # few epochs, not on every update.
        low = lo - (0.3 if lo < vy0 and inside is False and vy1 > vy0 else 0.06) * span
        high = hi + (0.3 if hi > vy1 and inside is False and vy1 > vy0 else 0.06) * span
        self.vb.setYRange(low, high, padding=0.0)

    def reset_view(self) -> None:
        self.follow = True
        self._x_end = -1.0

    def _set(self, curve: Curve, series: Series | None, batches: bool) -> None:
        """Hands a curve its series when the series grew (batch series decimated)."""
        n = len(series) if series is not None else 0
        key = id(curve)
        if self._lengths.get(key, -1) == n:
            return
        self._lengths[key] = n
        if series is None or not n:
            curve.set_data(np.empty(0), np.empty(0))
        elif batches and not curve.decimated:
            curve.set_data(series.x, series.y, log=self.log)
        elif batches:
            decimator = self._decimators.get(key)
            if decimator is None or decimator.series is not series:
                decimator = self._decimators[key] = PeakDecimator(series, BATCH_POINTS)
            curve.set_data(*decimator.view(), log=self.log)
        else:  # per epoch: points up to MAX_SYMBOLS epochs, not on a series that diverged
            curve.set_data(series.x, series.y, log=self.log,
                           symbols=n <= MAX_SYMBOLS and series.nonfinite == 0)

    def update(self, record: RunRecord) -> None:
        batches, epochs = record.batches.get(self.name), record.epochs.get(self.name)
        # Reports that each span more than an epoch (a fast run, many epochs per report)
        # say less than the per-epoch points and draw a long straight line under them:
        # the recent-batch curves are left out then.
        sparse = batches is not None and epochs is not None and len(batches) < len(epochs)
        self._set(self.batch_raw, None if sparse else batches, batches=True)
        self._set(self.batch_smooth, None if sparse else record.smooth.get(self.name),
                  batches=True)
        self._set(self.train, record.epochs.get(self.name), batches=False)
        self._set(self.val, record.epochs.get("val_" + self.name), batches=False)
        while len(self.markers) < len(record.markers):
            position, text = record.markers[len(self.markers)]
            line = pg.InfiniteLine(position, angle=90, movable=False,
                                   pen=_pen("#555555", 1.0, 200, Qt.PenStyle.DotLine),
                                   label=text,
                                   labelOpts={"position": 0.9, "color": "#444444",
                                              "anchors": [(0, 0), (0, 0)]})
            line.setToolTip(text)
            self.plot.addItem(line, ignoreBounds=True)
            self.markers.append(line)

    def clear_live(self) -> None:
        for curve in (self.batch_raw, self.batch_smooth, self.train, self.val):
            curve.set_data(np.empty(0), np.empty(0))
        self._lengths.clear()
        for line in self.markers:
            self.plot.removeItem(line)
        self.markers.clear()
        self.reset_view()

    def add_overlay(self, record: RunRecord, visible: bool) -> None:
        if record.number in self.overlays:
            return
        color = run_color(record.number)
        items = []
        for key, style in ((self.name, Qt.PenStyle.SolidLine),
                           ("val_" + self.name, Qt.PenStyle.DashLine)):
            series = record.epochs.get(key)
            if series is None or not len(series):
                continue
            curve = make_curve(self.plot, _pen(color, 1.0, 160, style), -5, factor=self.factor)
            curve.set_data(series.x, series.y, log=self.log)
            curve.item.setVisible(visible)
            self._overlay_curves.append((curve, series))
            items.append(curve.item)
        self.overlays[record.number] = items

    def set_overlay_visible(self, number: int, visible: bool) -> None:
        for item in self.overlays.get(number, []):
            item.setVisible(visible)

    def set_scale(self, factor: float) -> None:
        """Lines, points, title and tick labels at `factor` times their normal size."""
        self.factor = factor
        curves = [self.batch_raw, self.batch_smooth, self.train, self.val]
        curves += [curve for curve, _series in self._overlay_curves]
        for curve in curves:
            scale_curve(curve, factor)
        self._lengths.clear()  # points are sized when the data is handed over
        self.plot.setTitle(self.name, size=f"{9 * factor:.1f}pt")
        font = QFont()
        font.setPointSizeF(8.0 * factor)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setStyle(tickFont=font)
            axis.label.setFont(font)
        self.plot.getAxis("bottom").setHeight(int(28 * factor))

    def set_log(self, on: bool) -> None:
        """Log10 values on the y axis (the loss): curves are handed log10 values."""
        self.log = on
        self.plot.setLogMode(y=on)
        self.reset_view()
        self._lengths.clear()  # the live curves are handed their data again
        for curve, series in self._overlay_curves:
            curve.set_data(series.x, series.y, log=on)


class MetricPlots(QWidget):
    """The plots of the live run and the overlays of earlier runs.

    Signals:
        hovered(str): what is under the mouse, in words ("" when it left the plots).
    """

    hovered = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("metricPlots")
        #: The text scale the plots draw at (View > Larger Text): lines, points and tick
        #: labels grow with it, so a projected plot stays readable from the back of the room.
        self.factor = 1.0
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.legend = QLabel(
            f"<span style='color:{TRAIN_COLOR}'>&#9644; training</span> &nbsp; "
            f"<span style='color:{VAL_COLOR}'>&#9644; validation</span> &nbsp; "
            f"<span style='color:#B9D8EA'>&#9644; recent batches</span> &nbsp; "
            "<span style='color:#888'>(earlier runs: faint)</span>")
        self.legend.setObjectName("plotsLegend")
        self.legend.setWordWrap(True)
        self.legend.setToolTip("Per-epoch values are points joined by lines; the recent-batch "
                               "values are the mean loss of the batches since the previous "
                               "report, drawn faint, with a smoothed line over them.")
        layout.addWidget(self.legend)
        self.view = qt_painting.layout_widget()
        self.view.setObjectName("metricPlotsView")
        self.view.setBackground("w")
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.view.ci.setSpacing(2)
        self.view.setMinimumSize(260, 180)
        layout.addWidget(self.view)
        self.plots: dict[str, QuantityPlot] = {}
        self.record: RunRecord | None = None
        self.earlier: list[RunRecord] = []
        self.hidden_runs: set[int] = set()
        self.log_loss = False
        self.redraws = 0
        self.run_end = 1.0  # the epoch the live run ends at: the epoch axis reaches it
        self._proxy = pg.SignalProxy(self.view.scene().sigMouseMoved, rateLimit=30,
                                     slot=self._on_mouse)
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.view.setToolTip("Drag to pan, wheel to zoom; double-click to follow the "
                             "data again.")

    # -- runs -------------------------------------------------------------------------------

    def set_record(self, record: RunRecord) -> None:
        """Makes `record` the live run; the previous one becomes an overlay."""
        if self.record is not None and self.record is not record:
            previous = self.record
            if previous.epochs_done and previous not in self.earlier:
                self.earlier.append(previous)
                for plot in self.plots.values():
                    plot.add_overlay(previous, previous.number not in self.hidden_runs)
        for plot in self.plots.values():
            plot.clear_live()
        self.record = record
        self.refresh()

    def set_scale(self, factor: float) -> None:
        """Draws every plot, and those made later, at the text scale `factor` (1x-2x)."""
        self.factor = factor
        for plot in self.plots.values():
            plot.set_scale(factor)
        self.refresh()

    def clear_all(self) -> None:
        """Forgets every run and plot (another project was opened): the next run starts
        on empty plots whose axes know nothing of the runs before (`prepare` makes fresh
        plot items ahead of the next run)."""
        self.view.ci.clear()
        self.plots.clear()
        self.record = None
        self.earlier.clear()
        self.hidden_runs.clear()
        self.run_end = 1.0

    def add_earlier(self, record: RunRecord) -> None:
        """Draws `record` faintly, as an earlier run (a search trial's curves, say)."""
        self.earlier.append(record)
        added = False
        for name in record.quantities():
            if name in self.plots:
                self.plots[name].add_overlay(record, record.number not in self.hidden_runs)
            else:
                self.plots[name] = self._make(name)  # with every earlier run, this one too
                added = True
        if added:
            self._layout()
        if self.record is not None:
            self.refresh()
            return
        shown = [r for r in self.earlier if r.number not in self.hidden_runs]
        x_end = max([float(r.epochs_done) for r in shown] + [1.0])
        for plot in self.plots.values():
            plot.fit_view(None, x_end, shown)

    def forget_earlier(self) -> None:
        """Removes the overlays of earlier runs (Earlier runs > Clear)."""
        for plot in self.plots.values():
            for items in plot.overlays.values():
                for item in items:
                    plot.plot.removeItem(item)
            plot.overlays.clear()
            plot._overlay_curves.clear()  # noqa: SLF001 - the plot's own bookkeeping
            plot.reset_view()
        self.earlier.clear()
        self.hidden_runs.clear()
        self.refresh()

    def set_all_runs_visible(self, visible: bool) -> None:
        """Earlier runs > Show all / Hide all."""
        self.hidden_runs = set() if visible else {r.number for r in self.earlier}
        for plot in self.plots.values():
            for number in plot.overlays:
                plot.set_overlay_visible(number, visible)
            plot.reset_view()
        self.refresh()

    def set_run_visible(self, number: int, visible: bool) -> None:
        (self.hidden_runs.discard if visible else self.hidden_runs.add)(number)
        for plot in self.plots.values():
            plot.set_overlay_visible(number, visible)
            plot.reset_view()
        self.refresh()

    # -- drawing ----------------------------------------------------------------------------

    def _layout(self) -> None:
        """One plot per quantity: stacked when two or fewer, else a grid of two columns."""
        self.view.ci.clear()
        names = list(self.plots)
        columns = 1 if len(names) <= 2 else 2
        rows = -(-len(names) // columns)
        for i, name in enumerate(names):
            row = i // columns
            self.view.ci.addItem(self.plots[name].plot, row=row, col=i % columns)
            # the epoch axis is shared: only the bottom row says what it is
            self.plots[name].plot.setLabel("bottom", "epoch" if row == rows - 1 else None)
        first = self.plots[names[0]].plot if names else None
        for name in names[1:]:
            self.plots[name].plot.setXLink(first)

    def _ensure(self, names: list[str]) -> None:
        added = False
        # Plots made ahead for a quantity the run does not log (a guessed metric name)
        # go, unless an earlier run drew on them; not before the run has logged anything.
        unused = [n for n, p in self.plots.items() if p.ahead and n not in names]
        for name in unused if names else []:
            plot = self.plots.pop(name)
            if plot.overlays:
                self.plots[name] = plot
            else:
                added = True
        for name in names:
            if name in self.plots:
                self.plots[name].ahead = False
                continue
            self.plots[name] = self._make(name)
            added = True
        if added:
            self._layout()

    def _make(self, name: str) -> QuantityPlot:
        plot = QuantityPlot(name, qt_painting.plot_item())
        if self.factor != 1.0:
            plot.set_scale(self.factor)
        for record in self.earlier:
            plot.add_overlay(record, record.number not in self.hidden_runs)
        if name == "loss" and self.log_loss:
            plot.set_log(True)
        return plot

    def prepare(self, names: list[str], gap_ms: int = 120) -> None:
        """Makes and lays out the plots of the quantities `names` ahead of a run, one per
        idle moment: making them at the run's first delivery held the GUI thread for
        35-50 ms (a pyqtgraph plot item, its curves, and the layout)."""
        missing = [n for n in names if n not in self.plots]
        if not missing:
            return
        if self.record is not None:
            return  # a run is live: its own quantities decide (refresh)
        name = missing[0]
        plot = self._make(name)
        plot.ahead = True
        self.plots[name] = plot
        if len(missing) == 1:
            QTimer.singleShot(gap_ms, self._layout_ahead)
        else:
            QTimer.singleShot(gap_ms, lambda: self.prepare(names, gap_ms))

    def _layout_ahead(self) -> None:
        if self.record is None:
            self._layout()

    def refresh(self) -> None:
        """Hands the live run's new values to the curves (unchanged curves are skipped)."""
        record = self.record
        if record is None:
            return
        self._ensure(record.quantities())
        x_end = max(self.run_end, record.epochs_done, 1.0)
        batches = record.batches.get("loss")
        if batches is not None and len(batches):
            x_end = max(x_end, float(batches.x[-1]))
        shown = [r for r in self.earlier if r.number not in self.hidden_runs]
        for r in shown:
            x_end = max(x_end, float(r.epochs_done))
        for plot in self.plots.values():
            plot.update(record)
            plot.fit_view(record, x_end, shown)
        self.redraws += 1

    def set_run_end(self, epoch: float) -> None:
        """The epoch the live run will end at: the epoch axis spans it from the start."""
        self.run_end = float(epoch)

    def _on_click(self, event) -> None:  # noqa: ANN001 - pyqtgraph's MouseClickEvent
        if event.double():
            for plot in self.plots.values():
                plot.reset_view()
            self.refresh()

    def set_log_loss(self, on: bool) -> None:
        self.log_loss = on
        plot = self.plots.get("loss")
        if plot is not None:
            plot.set_log(on)
            self.refresh()

    def set_cursor(self, position: float | None) -> None:
        """A vertical line at `position` (epochs) in every plot; None hides it."""
        for plot in self.plots.values():
            if position is None:
                plot.cursor.setVisible(False)
            else:
                plot.cursor.setValue(position)
                plot.cursor.setVisible(True)

    def curve_lengths(self, name: str) -> dict[str, int]:
        """Points held by each curve of one plot (tests, benchmarks)."""
        plot = self.plots.get(name)
        if plot is None:
            return {}
        return {"batches": plot.batch_raw.count, "smooth": plot.batch_smooth.count,
                "train": plot.train.count, "val": plot.val.count}

    # -- hover ------------------------------------------------------------------------------

    def _on_mouse(self, args: tuple) -> None:
        pos: QPointF = args[0]
        for plot in self.plots.values():
            vb = plot.plot.getViewBox()
            if vb.sceneBoundingRect().contains(pos):
                x = vb.mapSceneToView(pos).x()
                self.hovered.emit(self.describe(x, plot.name))
                return
        self.hovered.emit("")

    def describe(self, x: float, name: str | None = None) -> str:
        """The values at epoch position `x`, in words (the nearest finished epoch)."""
        record = self.record
        if record is None or not math.isfinite(x):
            return ""
        parts = []
        if record.epochs_done:
            epoch = int(min(max(round(x), 1), record.epochs_done))
            logs = record.epoch_logs[epoch - 1]
            shown = sorted(logs, key=lambda k: (split_key(k)[1] != (name or "loss"),
                                                split_key(k)[1], k.startswith("val_")))
            values = ", ".join(f"{k} {logs[k]:.4g}" for k in shown)
            parts.append(f"Epoch {epoch}: {values}")
        series = record.smooth.get(name or "loss")
        if series is not None and len(series):
            i = int(np.clip(np.searchsorted(series.x, x), 0, len(series) - 1))
            parts.append(f"recent batches at {series.x[i]:.2f}: {name or 'loss'} "
                         f"{record.batches[name or 'loss'].y[i]:.4g} "
                         f"(smoothed {series.y[i]:.4g})")
        for earlier in self.earlier:
            if earlier.number in self.hidden_runs or not earlier.epochs_done:
                continue
            epoch = int(min(max(round(x), 1), earlier.epochs_done))
            value = earlier.epoch_logs[epoch - 1].get(name or "loss")
            if value is not None:
                parts.append(f"run {earlier.number}: {value:.4g}")
        return " | ".join(parts)
