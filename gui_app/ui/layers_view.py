"""The Layers tab: what each weighted layer does during a run, one row per layer.

Each row has the layer's name (with its share of dead or saturated units, when it has an
activation that can die or saturate) and three small plots: its gradient norm over the run
(log scale: a vanishing gradient is orders of magnitude below the others, an exploding one
climbs by orders), the histogram of its outputs on the diagnostics' probe batch (a spike at
0 is ReLU units gone silent; two humps at the ends are saturated sigmoids), and the
histogram of its weights (how far training has moved them from their initialisation).

It only draws `core.diagnostics.layers.LayerStatsEvent`s, which the engine makes from the
arrays its live diagnostics already hold; the window computes nothing with Keras. The
engine sends at most four a second, and this view redraws at most `MAX_RATE` times a
second, only while it is on screen: one pyqtgraph canvas for all rows, its plot items made
once per model and updated with `setData`.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor, QFont, QShowEvent
from PySide6.QtWidgets import QFrame, QLabel, QScrollArea, QVBoxLayout, QWidget

from ..core.diagnostics.detect import Thresholds
from ..core.diagnostics.layers import LayerSnapshot, LayerStatsEvent
from . import colors

__all__ = ["LayersView"]

#: Redraws per second at most: the histograms are read at a glance, not frame by frame.
MAX_RATE = 4.0
#: A row's plots' height in pixels at 1x text, and its title's: two rows and a half fit
#: the training dock of a 1280 x 720 window.
PLOT_HEIGHT = 80
TITLE_HEIGHT = 22
#: The columns' headings.
COLUMNS = ("Gradient norm (log)", "Activations", "Weights")
EMPTY = ("Train the model to see each layer here: how big its gradient is over the run, "
         "what its units output on a fixed batch of training samples, and how its weights "
         "are spread.")
TIP = ("Per layer with weights: its gradient norm over the run (log scale; far below the "
       "other layers' means it barely learns), the histogram of its outputs on a fixed "
       "batch of training samples (a spike at 0: ReLU units gone silent; piles at the "
       "ends: saturated sigmoid or tanh units), and the histogram of its weights.")
#: Shares of dead or saturated units drawn as a warning: where the Diagnostics tab
#: reports them (`Thresholds`), so the two tabs never disagree.
WARN_DEAD = Thresholds().dead_share
WARN_SATURATED = Thresholds().saturated_share
_INK = colors.INK
_GRAD_PEN = colors.BLUE
_ACT_COLOR = colors.SKY_BLUE
_WEIGHT_COLOR = colors.ORANGE


def _brush(color: str, alpha: int = 150) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def _share(value: float | None) -> str:
    return f"{100 * value:.0f} %" if value is not None and math.isfinite(value) else ""


def row_title(layer: LayerSnapshot) -> str:
    """A row's heading: "dense_1 · Dense, relu · 8 units · 25 % dead"."""
    act = f", {layer.activation}" if layer.activation and layer.activation != "linear" else ""
    word = "filter" if layer.kind.startswith("Conv") else "unit"
    units = f" · {layer.units} {word}{'s' if layer.units != 1 else ''}" if layer.units else ""
    text = f"<b>{layer.name}</b> · {layer.kind}{act}{units}"
    if layer.dead is not None:
        warn = layer.dead >= WARN_DEAD
        text += " · " + _tinted(f"{_share(layer.dead)} dead", warn)
    elif layer.saturated is not None:
        warn = layer.saturated >= WARN_SATURATED
        text += " · " + _tinted(f"{_share(layer.saturated)} saturated", warn)
    return text


def _tinted(text: str, warn: bool) -> str:
    return f"<span style='color:{colors.VERMILLION if warn else '#555555'}'>{text}</span>"


def short_number(value: float) -> str:
    """A tick label of two digits at most: "0.065", "1", "1e-5"."""
    if not math.isfinite(value) or value == 0:
        return ""
    text = f"{value:.2g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}e{int(exponent)}"
    return text


class LogAxis(pg.AxisItem):
    """A log axis with two or three labels: the powers of ten in view (every second or
    third when there are many), or its two ends when less than two decades are shown.
    pyqtgraph's own labels every multiple from 2 to 9 within a decade, and in a plot 90
    pixels high they overlap into an unreadable column."""

    def logTickValues(self, minVal: float, maxVal: float, size: float,  # noqa: N802, N803
                      stdTicks: list) -> list:  # noqa: N803 - pyqtgraph's names
        low, high = sorted((float(minVal), float(maxVal)))
        decades = list(range(math.ceil(low), math.floor(high) + 1))
        if len(decades) >= 2:
            step = -(-len(decades) // 3)
            return [(float(step), [float(d) for d in decades[::step]])]
        span = high - low
        if not span > 0:
            return [(1.0, [low])]
        return [(span, [low + 0.12 * span, high - 0.12 * span])]

    def logTickStrings(self, values: list[float], scale: float,  # noqa: N802
                       spacing: float) -> list[str]:
        return [short_number(10.0 ** float(v) * scale) for v in values]


class _Row:
    """One layer's title and three plots on the shared canvas, made once per model."""

    def __init__(self, canvas: pg.GraphicsLayout, row: int, scale: float) -> None:
        points = 8.0 * scale
        self.title = canvas.addLabel("", row=row, col=0, colspan=3, justify="left",
                                     size=f"{9.0 * scale:.1f}pt", color=_INK)
        self.title.setMaximumHeight(TITLE_HEIGHT * scale)
        self.grad = canvas.addPlot(row=row + 1, col=0,
                                   axisItems={"left": LogAxis("left")})
        self.act = canvas.addPlot(row=row + 1, col=1)
        self.weight = canvas.addPlot(row=row + 1, col=2)
        font = QFont()
        font.setPointSizeF(points)
        for plot in (self.grad, self.act, self.weight):
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.setMouseEnabled(x=False, y=False)
            height = PLOT_HEIGHT * scale
            plot.setMinimumHeight(height)
            plot.setMaximumHeight(height)
            for side in ("left", "bottom"):
                plot.getAxis(side).setStyle(tickFont=font, tickTextOffset=2)
            plot.getAxis("bottom").setHeight(int(20 * scale))
        self.grad.setLogMode(y=True)
        self.grad.showGrid(x=False, y=True, alpha=0.15)
        self.grad.setClipToView(True)  # a long run: a few points per pixel column
        self.grad.setDownsampling(auto=True, mode="peak")
        self.grad.getAxis("left").setWidth(int(34 * scale))
        self.grad.getAxis("bottom").setStyle(maxTextLevel=0)  # "0 5 10", not "0 1 2 ... 10"
        for plot in (self.act, self.weight):
            plot.hideAxis("left")  # the counts' scale says little; the shape says it all
            plot.getAxis("bottom").setStyle(maxTickLevel=0)
        self.grad_curve = self.grad.plot(pen=pg.mkPen(_GRAD_PEN, width=1.5 * scale))
        self.act_bars = self.act.plot(stepMode="center", fillLevel=0,
                                      brush=_brush(_ACT_COLOR), pen=pg.mkPen(colors.BLUE))
        self.weight_bars = self.weight.plot(stepMode="center", fillLevel=0,
                                            brush=_brush(_WEIGHT_COLOR),
                                            pen=pg.mkPen(colors.VERMILLION))
        self.layer: LayerSnapshot | None = None

    def show(self, layer: LayerSnapshot, at: np.ndarray, norms: np.ndarray) -> None:
        self.layer = layer
        self.title.setText(row_title(layer))
        keep = np.isfinite(norms) & (norms > 0)  # log scale: no zeros, no gaps
        self.grad_curve.setData(at[keep], norms[keep])
        _bars(self.act_bars, layer.act_edges, layer.act_hist)
        _bars(self.weight_bars, layer.weight_edges, layer.weight_hist)


def _bars(item: pg.PlotDataItem, edges: tuple[float, ...], counts: tuple[int, ...]) -> None:
    """A histogram item shows these bars, or nothing when there are none."""
    if len(counts) and len(edges) == len(counts) + 1:
        item.setData(np.asarray(edges, np.float64), np.asarray(counts, np.float64))
        item.setVisible(True)
    else:
        item.setVisible(False)


class LayersView(QWidget):
    """Every weighted layer's gradient norm over the run and the histograms of its
    activations and weights, from the run's `LayerStatsEvent`s.

    `add(event)` takes an event (cheap: the drawing waits for the next redraw, at most
    `max_rate` a second, only while the view is shown); `refresh()` draws now if anything
    changed; `clear()` empties it (another project, a new run). The last event's values
    stay after a run ends.
    """

    def __init__(self, parent: QWidget | None = None, max_rate: float = MAX_RATE) -> None:
        super().__init__(parent)
        self.setObjectName("layersView")
        self.latest: LayerStatsEvent | None = None
        self.rows: list[_Row] = []
        self.scale = 1.0
        self._shape: tuple[tuple[int, str], ...] = ()
        self._at: list[float] = []
        self._norms: dict[int, list[float]] = {}
        self._dirty = False
        self.draws = 0  # redraws so far (tests check the rate)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.setToolTip(TIP)
        self.header = QLabel()
        self.header.setObjectName("layersHeader")
        self.header.setWordWrap(True)
        self.header.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.header)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setObjectName("layersCanvas")
        self.canvas.setBackground("w")
        self.canvas.ci.setContentsMargins(2, 2, 2, 2)
        self.canvas.ci.setSpacing(2)
        self.scroll.setWidget(self.canvas)
        layout.addWidget(self.scroll, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(max(1, int(1000 / max_rate)))
        self._timer.timeout.connect(self.refresh)
        self.clear()

    # -- what the panel calls ----------------------------------------------------------------

    def add(self, event: LayerStatsEvent) -> None:
        """Takes one event; it is drawn at the next redraw."""
        shape = tuple((row.index, row.name) for row in event.layers)
        if shape != self._shape:
            self._forget()
            self._shape = shape
        moments = event.grad_at or (event.at,)
        self._at.extend(float(t) for t in moments)
        for row in event.layers:
            norms = row.grad_norms if len(row.grad_norms) == len(moments) else (
                (math.nan,) * (len(moments) - 1)
                + (row.grad_norm if row.grad_norm is not None else math.nan,))
            self._norms.setdefault(row.index, []).extend(float(v) for v in norms)
        self.latest = event
        self._dirty = True
        if not self._timer.isActive():
            self._timer.start()

    def refresh(self) -> None:
        """Draws the newest event now, if there is one not drawn (and the view is shown;
        a hidden view draws when it is shown)."""
        if not self._dirty or not self.isVisible():
            return
        self._dirty = False
        event = self.latest
        if event is None:
            return
        if len(self.rows) != len(event.layers):
            self._build(len(event.layers))
        at = np.asarray(self._at, np.float64)
        for row, layer in zip(self.rows, event.layers, strict=True):
            row.show(layer, at, np.asarray(self._norms.get(layer.index, []), np.float64))
        when = f"{event.at:.0f}" if float(event.at).is_integer() else f"{event.at:.1f}"
        count = len(event.layers)
        probe = f"{event.probe_size} " if event.probe_size else ""
        self.header.setText(
            f"<b>Epoch {when}</b> · {count} layer{'s' if count != 1 else ''} with weights · "
            f"activations on the same {probe}training samples each time"
            if count else "This model has no layers with weights to show.")
        self.draws += 1

    def clear(self) -> None:
        """Empties the view (another project, or a new run)."""
        self._timer.stop()
        self._forget()
        self.latest = None
        self._dirty = False
        self._build(0)
        self.header.setText(EMPTY)

    def set_scale(self, factor: float) -> None:
        """Text and lines `factor` times their normal size (View > Larger Text)."""
        self.scale = float(factor)
        rows = len(self.rows)
        self._build(0)
        if rows and self.latest is not None:
            self._dirty = True
            self.refresh()

    @property
    def layer_names(self) -> list[str]:
        """The names of the layers shown, top to bottom."""
        return [row.layer.name for row in self.rows if row.layer is not None]

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        self.refresh()  # what came while it was hidden

    # -- drawing -----------------------------------------------------------------------------

    def _forget(self) -> None:
        self._shape = ()
        self._at = []
        self._norms = {}

    def _build(self, count: int) -> None:
        """Makes the column headings and `count` rows (none: the canvas is hidden)."""
        self.canvas.ci.clear()
        self.rows = []
        if not count:
            self.scroll.hide()
            return
        size = f"{8.5 * self.scale:.1f}pt"
        for col, text in enumerate(COLUMNS):
            heading = self.canvas.ci.addLabel(f"<b>{text}</b>", row=0, col=col, size=size,
                                              color="#444444")
            heading.setMaximumHeight(TITLE_HEIGHT * self.scale)
        for k in range(count):
            self.rows.append(_Row(self.canvas.ci, 1 + 2 * k, self.scale))
        height = int(TITLE_HEIGHT * self.scale + count * (TITLE_HEIGHT + PLOT_HEIGHT + 8)
                     * self.scale)
        self.canvas.setMinimumHeight(height)
        self.scroll.show()

