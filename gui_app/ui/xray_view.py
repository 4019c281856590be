"""The X-ray: the forward pass of one input, layer by layer.

After a click on the boundary picture or a prediction from the form, this view shows what
every layer made of that one input: a Dense layer as one bar per unit (a unit whose output
is exactly 0 is grey, "dead for this input", which is how a person sees ReLU units die);
a convolution as one small grayscale picture per filter; the output layer as the classes'
probabilities. It only draws a `core.xray.LayerOutputs` that the engine made
(`RemoteSession.layer_outputs`); it never touches a model.

Painted with QPainter, not pyqtgraph: a few dozen bars per row need no plot, and painted
rows stay light when the X-ray is redrawn on every click.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

__all__ = ["FeatureMaps", "ProbabilityBars", "UnitBars", "XRayView"]

#: Feature maps drawn per layer; the rest are counted ("+N more"), as a wall of tiny
#: pictures teaches nothing.
MAX_CHANNELS = 16
#: Pictures per row of feature maps: 8 tiles of 40 px fit a side panel of 400 px.
CHANNEL_COLUMNS = 8
#: Units drawn as bars at most; a wider 1-D output (a Flatten of a big image) is drawn as
#: its first units and says so.
MAX_BARS = 512
#: The widest a unit's bar slot gets, in pixels.
MAX_SLOT = 28.0

_POSITIVE = QColor("#3b7dd8")
_NEGATIVE = QColor("#e07b39")
_DEAD = QColor("#b4b4b4")
_AXIS = QColor("#808080")
_DEAD_TIP = "dead for this input"
_GAP = 4


def _describe(name: str, kind: str, activation: str, shape: Sequence[int]) -> str:
    """A row's title: "dense_1 · Dense (relu) · 8 units" or "… · 8×8×8"."""
    act = f" ({activation})" if activation else ""
    if len(shape) == 1:
        size = f"{shape[0]} unit{'s' if shape[0] != 1 else ''}"
    else:
        size = "×".join(str(s) for s in shape)
    return f"<b>{name}</b> · {kind}{act} · {size}"


class UnitBars(QWidget):
    """One bar per unit of a 1-D output: up for positive, down for negative, and a grey
    stub for a unit that outputs exactly 0 (dead for this input).

    `tip_at(x)` is the tooltip under a horizontal position (used on hover and in tests).
    """

    def __init__(self, values: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = np.asarray(values, np.float32).ravel()[:MAX_BARS]
        self.dead = [int(i) for i in np.flatnonzero(self.values == 0.0)]
        self.setMinimumHeight(56)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(max(120, 14 * len(self.values)), 56)

    def _slot(self) -> float:
        """A unit's width: the row shared out, but at most `MAX_SLOT` px (a wide panel
        with eight units would otherwise draw slabs)."""
        return min(MAX_SLOT, max(1.0, self.width() - 8) / max(1, len(self.values)))

    def unit_at(self, x: float) -> int | None:
        """The unit under a horizontal position in the widget, or None."""
        i = int((x - 4) // self._slot())
        return i if 0 <= i < len(self.values) else None

    def tip_at(self, x: float) -> str:
        """What the tooltip says over `x`: the unit and its output, or that it is dead."""
        i = self.unit_at(x)
        if i is None:
            return ""
        value = float(self.values[i])
        if value == 0.0:
            return f"unit {i}: 0, {_DEAD_TIP}"
        return f"unit {i}: {value:.4g}"

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            text = self.tip_at(event.position().x() if hasattr(event, "position")
                               else event.pos().x())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        values = self.values
        if not len(values):
            return
        top, bottom = 4.0, float(self.height() - 4)
        low, high = min(0.0, float(values.min())), max(0.0, float(values.max()))
        span = (high - low) or 1.0
        zero = top + (bottom - top) * high / span
        slot = self._slot()
        gap = 1.0 if slot >= 4 else 0.0
        for i, v in enumerate(values):
            x = 4 + i * slot
            if v == 0.0:
                p.fillRect(QRectF(x + gap, zero - 2, slot - 2 * gap, 4), _DEAD)
                continue
            y = top + (bottom - top) * (high - float(v)) / span
            rect = QRectF(x + gap, min(y, zero), slot - 2 * gap, max(1.0, abs(zero - y)))
            p.fillRect(rect, _POSITIVE if v > 0 else _NEGATIVE)
        p.setPen(QPen(_AXIS, 1))
        p.drawLine(QPointF(4, zero), QPointF(4 + slot * len(values), zero))
        p.end()


class ProbabilityBars(QWidget):
    """The output layer: one horizontal bar per class with its name and probability (or
    its raw value, for outputs that are not probabilities), the most likely in bold."""

    def __init__(self, labels: Sequence[str], values: np.ndarray, probabilities: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = [str(label) for label in labels]
        self.values = np.asarray(values, np.float32).ravel()
        self.probabilities = probabilities
        self._row = 18
        self.setMinimumHeight(self._row * len(self.values) + 6)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(260, self._row * len(self.values) + 6)

    def text_of(self, i: int) -> str:
        """A bar's number: "93.1 %" for a probability, else the value."""
        v = float(self.values[i])
        return f"{100 * v:.1f} %" if self.probabilities else f"{v:.4g}"

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        bold = QFont(self.font())
        bold.setBold(True)
        p.setFont(bold)
        metrics = p.fontMetrics()  # the bold one: the widest a label gets
        label_w = min(self.width() // 3, max((metrics.horizontalAdvance(t)
                                              for t in self.labels), default=0) + 10)
        number_w = metrics.horizontalAdvance("100.0 %") + 8
        bar_w = max(10, min(self.width() - label_w - number_w - 4, 480))
        best = int(np.argmax(self.values)) if len(self.values) else -1
        scale = 1.0 if self.probabilities else float(np.abs(self.values).max() or 1.0)
        for i, v in enumerate(self.values):
            y = 3 + i * self._row
            p.setFont(bold if i == best else self.font())
            p.setPen(self.palette().windowText().color())
            p.drawText(QRectF(0, y, label_w - 6, self._row),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       metrics.elidedText(self.labels[i], Qt.TextElideMode.ElideRight,
                                          label_w - 6))
            length = bar_w * min(1.0, abs(float(v)) / scale)
            p.fillRect(QRectF(label_w, y + 3, bar_w, self._row - 6), QColor("#ececec"))
            p.fillRect(QRectF(label_w, y + 3, length, self._row - 6),
                       _POSITIVE if v >= 0 else _NEGATIVE)
            p.drawText(QRectF(label_w + bar_w + 4, y, number_w, self._row),
                       Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                       self.text_of(i))
        p.end()


def _gray(image: np.ndarray, low: float, high: float) -> QImage:
    """A (h, w) array as an 8-bit grayscale picture, `low` black and `high` white."""
    span = (high - low) or 1.0
    a = np.clip((np.asarray(image, np.float32) - low) / span * 255.0, 0, 255)
    a = np.ascontiguousarray(a.astype(np.uint8))
    h, w = a.shape
    return QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8).copy()


class FeatureMaps(QWidget):
    """An (h, w, channels) output as one small grayscale picture per channel (the first
    `MAX_CHANNELS`, then "+N more"), black for the layer's lowest value and white for its
    highest, so that the channels compare; an all-zero channel has a grey frame and says
    it is dead for this input."""

    def __init__(self, maps: np.ndarray, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        maps = np.asarray(maps, np.float32)
        if maps.ndim == 2:
            maps = maps[..., None]
        self.maps = maps
        channels = maps.shape[-1]
        shown = maps[..., :MAX_CHANNELS]
        low, high = float(shown.min()), float(shown.max())
        h, w = maps.shape[:2]
        zoom = max(1, min(8, 48 // max(h, w))) if max(h, w) < 48 else 1
        size = QSize(w * zoom, h * zoom)
        if size.width() > 96 or size.height() > 96:  # a big map, shown smaller
            size = size.scaled(96, 96, Qt.AspectRatioMode.KeepAspectRatio)
        self._tile = QSize(size.width() + 4, size.height() + 4)  # with the 2 px border
        self.tiles: list[QLabel] = []
        self.dead: list[int] = []
        for c in range(min(channels, MAX_CHANNELS)):
            tile = QLabel(self)
            picture = QPixmap.fromImage(_gray(maps[..., c], low, high)).scaled(
                size, Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.FastTransformation)
            tile.setPixmap(picture)
            channel = maps[..., c]
            if not np.any(channel):
                self.dead.append(c)
                tile.setStyleSheet(f"border: 2px solid {_DEAD.name()};")
                tile.setToolTip(f"channel {c}: all 0, {_DEAD_TIP}")
            else:
                tile.setStyleSheet("border: 2px solid transparent;")
                tile.setToolTip(f"channel {c}: from {float(channel.min()):.3g} to "
                                f"{float(channel.max()):.3g}")
            tile.resize(self._tile)
            self.tiles.append(tile)
        self.more: QLabel | None = None
        if channels > MAX_CHANNELS:
            self.more = QLabel(f"+{channels - MAX_CHANNELS} more", self)
            self.more.setToolTip(f"Only the first {MAX_CHANNELS} of {channels} channels "
                                 "are drawn.")
            self.more.adjustSize()
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(self._tile.width())
        self._place(CHANNEL_COLUMNS * (self._tile.width() + _GAP))

    def _place(self, width: int) -> None:
        """Puts the tiles in rows that fit `width` (at most `CHANNEL_COLUMNS` a row), the
        "+N more" after them, and takes the height that needs: a narrow side panel gets
        two rows of pictures rather than a sideways scroll bar."""
        step_x, step_y = self._tile.width() + _GAP, self._tile.height() + _GAP
        columns = max(1, min(CHANNEL_COLUMNS, (width + _GAP) // step_x))
        items: list[QWidget] = [*self.tiles, *([self.more] if self.more else [])]
        x = y = 0
        for k, item in enumerate(items):
            if k and k % columns == 0 and item is not self.more:
                x, y = 0, y + step_y
            elif item is self.more and x + item.width() > width and x:
                x, y = 0, y + step_y
            item.move(x, y + (0 if item is not self.more
                              else (self._tile.height() - item.height()) // 2))
            x += step_x
        self.setFixedHeight(y + self._tile.height())

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(CHANNEL_COLUMNS * (self._tile.width() + _GAP), self.height())

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._place(self.width())


class XRayView(QWidget):
    """The forward pass of one input, layer by layer, in a scrolling column.

    `show_outputs(result, title)` draws a `LayerOutputs` (one row per layer, the output
    layer last as the classes' probabilities); `clear(message)` empties it with a sentence
    in its place; `set_class_names(names, from_logits)` names the output bars (and says
    whether the last layer gives logits, which are turned into probabilities here).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.class_names: list[str] = []
        self.from_logits = False
        self.result: Any = None
        self.rows: list[QFrame] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        bold = QFont(self.title.font())
        bold.setBold(True)
        self.title.setFont(bold)
        layout.addWidget(self.title)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.message)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        # every row fits the width (feature maps flow into more rows): no sideways scroll
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.scroll, 1)
        self._content: QWidget | None = None
        self.clear()

    # -- what the panel calls -----------------------------------------------------------------
    def set_class_names(self, names: Sequence[str] | None, from_logits: bool = False) -> None:
        """The output classes' names (None: "class 0", ...) and whether the last layer
        gives logits; the next `show_outputs` uses them."""
        self.class_names = [str(n) for n in names or ()]
        self.from_logits = bool(from_logits)

    def clear(self, message: str = "Click the boundary picture or predict an input to see "
                                   "what every layer makes of it.") -> None:
        """Empties the view and says `message` in its place."""
        self.result = None
        self.rows = []
        self.title.setText("")
        self.title.hide()
        self.message.setText(message)
        self.message.show()
        self._set_content(QWidget())
        self.scroll.hide()

    def show_outputs(self, result: Any, title: str = "") -> None:
        """Draws every layer's output of a `LayerOutputs` for one input; `title` says which
        input ("At (0.31, -0.52)"). A result without layers shows its note instead."""
        if result is None or not len(result.names):
            self.clear(getattr(result, "note", "") or "There are no layers to show.")
            return
        self.result = result
        self.title.setText(title or "The forward pass, layer by layer")
        self.title.show()
        self.message.hide()
        content = QWidget()
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(6)
        self.rows = []
        last = len(result.names) - 1
        for i in range(len(result.names)):
            row = self._row(result, i, i == last)
            column.addWidget(row)
            self.rows.append(row)
        column.addStretch(1)
        self._set_content(content)
        self.scroll.show()

    # -- the rows ---------------------------------------------------------------------------
    def _set_content(self, content: QWidget) -> None:
        old = self.scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self.scroll.setWidget(content)
        self._content = content

    def _row(self, result: Any, i: int, is_output: bool) -> QFrame:
        shape = tuple(result.shapes[i]) if i < len(result.shapes) else \
            tuple(np.shape(result.outputs[i]))
        values = np.asarray(result.outputs[i], np.float32)
        activation = result.activations[i] if i < len(result.activations) else ""
        note = result.notes[i] if i < len(result.notes) else ""
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        box = QVBoxLayout(frame)
        box.setContentsMargins(6, 4, 6, 6)
        box.setSpacing(3)
        head = QLabel(_describe(result.names[i], result.types[i], activation, shape))
        head.setTextFormat(Qt.TextFormat.RichText)
        head.setWordWrap(True)
        box.addWidget(head)
        frame.head = head  # type: ignore[attr-defined]
        frame.body = None  # type: ignore[attr-defined]
        frame.index = i  # type: ignore[attr-defined]
        if note or values.size == 0:
            body: QWidget = QLabel(note or "Nothing to show for this layer.")
            body.setWordWrap(True)
            body.setStyleSheet("color: palette(mid);")
        elif is_output and values.ndim == 1:
            body = self._output_bars(values, activation)
        elif values.ndim == 1:
            body = UnitBars(values)
            dead = len(body.dead)
            summary = f"{dead} of {values.size} units output 0 ({_DEAD_TIP})" if dead \
                else f"all {values.size} units active"
            if values.size > MAX_BARS:
                summary += f"; the first {MAX_BARS} drawn"
            head.setText(f"{head.text()} · <span style='color:gray'>{summary}</span>")
        elif values.ndim in (2, 3):
            body = FeatureMaps(values)
            if body.dead:
                head.setText(f"{head.text()} · <span style='color:gray'>{len(body.dead)} "
                             f"of {len(body.tiles)} channels all 0</span>")
        else:
            body = QLabel(f"An output of shape {shape} is not drawn.")
        box.addWidget(body)
        frame.body = body  # type: ignore[attr-defined]
        return frame

    def _output_bars(self, values: np.ndarray, activation: str) -> ProbabilityBars:
        """The output layer's bars: probabilities for softmax and sigmoid outputs (and for
        logits when the loss says so), raw values otherwise."""
        if self.from_logits and activation == "":
            if values.size == 1:
                values = 1.0 / (1.0 + np.exp(-values))
                activation = "sigmoid"
            else:
                e = np.exp(values - values.max())
                values = e / e.sum()
                activation = "softmax"
        probabilities = activation in ("softmax", "sigmoid")
        names = self.class_names
        if probabilities and activation == "sigmoid" and values.size == 1:
            # one sigmoid unit: the probability of the second class; both are shown
            p1 = float(values[0])
            labels = names[:2] if len(names) >= 2 else ["class 0", "class 1"]
            return ProbabilityBars(labels, np.array([1.0 - p1, p1], np.float32), True)
        if len(names) == values.size:
            labels = names
        elif probabilities:
            labels = [f"class {k}" for k in range(values.size)]
        else:
            labels = [f"output {k}" for k in range(values.size)]
        return ProbabilityBars(labels, values, probabilities)
