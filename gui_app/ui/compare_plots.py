"""The compare window's curves: A's and B's History on shared axes, one plot per quantity.

Loss always, then each metric both runs log (accuracy, for a classifier), stacked with one
epoch axis. A is blue and B vermillion (Okabe-Ito: told apart with any colour vision and on
a washed-out projector); training solid with points, validation dashed. The legend above
the plots names each colour with its model ("A: 2-1 sigmoid, Adam 0.03"), so an exported
picture says what was compared. Epoch values only: two runs side by side read better
without the batch curves' noise. pyqtgraph is imported with this module, when the compare
window is first made.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from . import colors

#: Each side's colour.
SIDE_COLORS = {"A": colors.BLUE, "B": colors.VERMILLION}
#: Per-epoch points are drawn up to this many epochs (beyond, lines only).
MAX_SYMBOLS = 40
#: Metric plots at most besides the loss (the window must fit one screen).
MAX_METRICS = 2
SPLITS = (("train", "training", Qt.PenStyle.SolidLine), ("val", "validation",
                                                          Qt.PenStyle.DashLine))


def shared_quantities(histories: Mapping[str, Mapping[str, Sequence[float]]]) -> list[str]:
    """ "loss", then the metrics every run that has logged something logs (at most
    MAX_METRICS), in the first run's order."""
    logged = [h for h in histories.values() if any(len(v) for v in h.values())]
    names = ["loss"]
    if not logged:
        return names
    for key in logged[0]:
        if key.startswith("val_") or key == "loss" or key in names:
            continue
        if all(key in h for h in logged[1:]):
            names.append(key)
    return names[:1 + MAX_METRICS]


def _pen(color: str, style: Qt.PenStyle, width: float = 2.0) -> pg.QtGui.QPen:
    pen = pg.mkPen(QColor(color), width=width)
    pen.setStyle(style)
    pen.setCosmetic(True)
    return pen


class CompareCurves(QWidget):
    """The legend and the plots. `draw(histories)` draws {"A": history, "B": history}."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compareCurves")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.legend = QLabel()
        self.legend.setObjectName("compareLegend")
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.legend)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("comparePlots")
        self.view.setBackground("w")
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.view.ci.setSpacing(4)
        self.view.setMinimumSize(240, 200)
        layout.addWidget(self.view, 1)
        self.plots: dict[str, pg.PlotItem] = {}
        #: (quantity, side, "train" or "val") -> the curve
        self.curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}
        self.labels = {"A": "A", "B": "B"}
        self.set_labels("A", "B")

    # -- the legend -------------------------------------------------------------------------
    def set_labels(self, a: str, b: str) -> None:
        """The legend's names for the two runs ("A: 2-1 sigmoid, Adam 0.03")."""
        self.labels = {"A": a, "B": b}
        items = " &nbsp;&nbsp; ".join(
            f"<span style='color:{SIDE_COLORS[side]}; font-size:14pt'>&#9644;</span> "
            f"<b>{html.escape(text)}</b>" for side, text in self.labels.items())
        self.legend.setText(f"{items}<br><span style='color:#444'>solid with points: "
                            "training, dashed: validation; one point per epoch</span>")

    # -- the plots --------------------------------------------------------------------------
    def clear(self) -> None:
        """No plots (a new comparison starts); `prepare` or `draw` makes them again."""
        self.view.ci.clear()
        self.plots.clear()
        self.curves.clear()

    def prepare(self, names: Sequence[str]) -> None:
        """Makes the plots of these quantities ahead of the runs (loss first)."""
        names = list(dict.fromkeys(["loss", *names]))[:1 + MAX_METRICS]
        if names == list(self.plots):
            return
        self.clear()
        for row, name in enumerate(names):
            plot = pg.PlotItem(enableMenu=False)
            plot.setTitle(name.replace("_", " "), size="10pt")
            plot.showGrid(x=True, y=True, alpha=0.15)
            plot.setMenuEnabled(False)
            plot.hideButtons()
            plot.getAxis("left").enableAutoSIPrefix(False)
            plot.getAxis("bottom").setHeight(30)
            plot.setLabel("bottom", "epoch" if row == len(names) - 1 else None)
            if row:
                plot.setXLink(self.plots[names[0]])
            self.view.ci.addItem(plot, row=row, col=0)
            self.plots[name] = plot
            for side in ("A", "B"):
                for split, words, style in SPLITS:
                    curve = pg.PlotDataItem(pen=_pen(SIDE_COLORS[side], style),
                                            name=f"{side} {words}")
                    curve.setZValue(2 if split == "train" else 1)
                    plot.addItem(curve)
                    self.curves[(name, side, split)] = curve

    def draw(self, histories: Mapping[str, Mapping[str, Sequence[float]]]) -> None:
        """Draws each side's History (epoch values, x = 1, 2, ...)."""
        self.prepare(shared_quantities(histories))
        epochs = max((len(v) for h in histories.values() for v in h.values()), default=0)
        for plot in self.plots.values():  # whole epochs on the axis, not 1.2, 1.4, ...
            axis = plot.getAxis("bottom")
            if epochs <= 12:
                axis.setTickSpacing(1, 1)
            elif epochs <= 40:
                axis.setTickSpacing(5, 1)
            else:
                axis.setTickSpacing()  # pyqtgraph's own choice
        for (name, side, split), curve in self.curves.items():
            history = histories.get(side) or {}
            values = history.get(name if split == "train" else f"val_{name}") or []
            y = np.array([np.nan if v is None else float(v) for v in values], dtype=float)
            x = np.arange(1, len(y) + 1, dtype=float)
            if len(y) <= MAX_SYMBOLS and split == "train":
                color = SIDE_COLORS[side]
                curve.setData(x, y, symbol="o", symbolSize=5, symbolBrush=color,
                              symbolPen=None, connect="finite")
            else:
                curve.setData(x, y, symbol=None, connect="finite")

    def points(self, name: str, side: str, split: str = "train") -> int:
        """How many epochs a curve holds (tests)."""
        curve = self.curves.get((name, side, split))
        if curve is None or curve.xData is None:
            return 0
        return len(curve.xData)
