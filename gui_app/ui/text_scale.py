"""How large the text is, from the normal size (1x) to twice that (2x).

A classroom reads the window from the back of the room, so View > Larger Text (Ctrl++),
Smaller Text (Ctrl+-) and Normal Size (Ctrl+0) scale the application font. Widgets that
follow the application font grow by themselves; what Qt cannot scale (a title drawn 15 %
larger, pyqtgraph's line widths and marker sizes) reads the factor here instead:

    scale = text_scale()
    scale.factor                  # 1.0 .. 2.0
    scale.scaleChanged.connect(on_scale)   # on_scale(factor: float)
    scale.px(2)                   # a 2 px line at the current size, for pens and markers

One `TextScale` serves the whole application (the font is the application's), made on
first use. The factor is remembered in the settings (`settings.text_scale_setting`).
"""

from __future__ import annotations

import re

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QWidget

MIN_SCALE = 1.0
MAX_SCALE = 2.0
#: Fonts Qt keeps per class apart from the application font: a dock's title bar reads
#: its font from here, so it would keep its size while the rest of the window grew.
CLASS_FONTS = ("QDockWidgetTitle",)
#: The sizes Larger / Smaller step through: small steps first, where a step is noticed.
STEPS = (1.0, 1.15, 1.3, 1.5, 1.75, 2.0)


def clamp_scale(value: float) -> float:
    """`value` within 1x..2x, rounded to 2 decimals (a remembered 1.2999 stays 1.3)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return MIN_SCALE
    if number != number:  # NaN from a damaged settings file
        return MIN_SCALE
    return round(min(MAX_SCALE, max(MIN_SCALE, number)), 2)


class TextScale(QObject):
    """The application's text size as a factor of the size it started with.

    Signals:
        scaleChanged(float): the factor changed (the application font already has the new
            size when this is emitted). Plots use it to thicken lines and points.
    """

    scaleChanged = Signal(float)

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self.setObjectName("textScale")
        self._app = app
        font = app.font()
        # The normal size is the font the application started with (at least 10 pt after
        # app.readable_font); everything scales from it, never from a scaled font.
        self._base_points = font.pointSizeF() if font.pointSizeF() > 0 else 10.0
        self._class_points = {name: QApplication.font(name).pointSizeF() for name in CLASS_FONTS}
        self._factor = 1.0

    @property
    def factor(self) -> float:
        return self._factor

    @property
    def base_point_size(self) -> float:
        """The normal (1x) point size of the application font."""
        return self._base_points

    def point_size(self, relative: float = 1.0) -> float:
        """The point size of text `relative` times the body text, at the current scale."""
        return self._base_points * self._factor * relative

    def px(self, pixels: float) -> float:
        """`pixels` at 1x, grown with the text (line widths, marker sizes)."""
        return pixels * self._factor

    def set_factor(self, value: float) -> float:
        """Scales the application font to `value` (clamped to 1x..2x); returns the factor."""
        factor = clamp_scale(value)
        font = self._app.font()
        wanted = round(self._base_points * factor, 2)
        if factor == self._factor and abs(font.pointSizeF() - wanted) < 0.01:
            return factor
        self._factor = factor
        font.setPointSizeF(wanted)
        self._app.setFont(font)
        for name, points in self._class_points.items():
            if points > 0:
                class_font = QFont(font)
                class_font.setPointSizeF(round(points * factor, 2))
                self._app.setFont(class_font, name)
        _refresh_style_sheets()
        self.scaleChanged.emit(factor)
        return factor

    def larger(self) -> float:
        """The next step up (stays at 2x)."""
        bigger = [s for s in STEPS if s > self._factor + 1e-6]
        return self.set_factor(bigger[0] if bigger else MAX_SCALE)

    def smaller(self) -> float:
        """The next step down (stays at 1x)."""
        lower = [s for s in STEPS if s < self._factor - 1e-6]
        return self.set_factor(lower[-1] if lower else MIN_SCALE)

    def reset(self) -> float:
        return self.set_factor(1.0)


def text_scale() -> TextScale:
    """The application's TextScale, made on first use (a QApplication must exist)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("expected a QApplication before the text scale is used, got none")
    found = app.findChild(TextScale, "textScale")
    if found is None:
        found = TextScale(app)
    return found


def _refresh_style_sheets() -> None:
    """Makes widgets with a style sheet take the new application font.

    Qt resolves such a widget's font once, from its style sheet, and does not redo it when
    the application font changes: a coloured label would keep the old size. A new
    application style sheet (a comment naming the size, so the text differs) makes Qt
    repolish every widget and resolve their fonts anew, in C++. Setting each widget's
    sheet again from Python, over `QApplication.allWidgets()`, crashed now and then
    (a segmentation fault in the tests) on widgets of windows being torn down.
    """
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    sheet = _FONT_MARK.sub("", app.styleSheet())
    app.setStyleSheet(f"{sheet}/* text {app.font().pointSizeF():.2f}pt */")


#: The comment `_refresh_style_sheets` adds to the application style sheet.
_FONT_MARK = re.compile(r"/\* text [0-9.]+pt \*/")


class _RelativeFont(QObject):
    """Keeps a widget's font a fixed factor of the application font as the text scales.

    A font given a point size with setFont no longer follows the application font (Qt
    sends such a widget no event when the application font changes), so a title made 15 %
    larger would keep its first size when the text is scaled.
    """

    def __init__(self, widget: QWidget, relative: float, bold: bool) -> None:
        super().__init__(widget)
        self.widget, self.relative, self.bold = widget, relative, bold
        text_scale().scaleChanged.connect(self.apply)
        self.apply()

    def apply(self, _factor: float = 1.0) -> None:
        font = QFont(self.widget.font())
        font.setBold(self.bold)
        font.setPointSizeF(QApplication.font().pointSizeF() * self.relative)
        self.widget.setFont(font)


def relative_font(widget: QWidget, relative: float = 1.15, bold: bool = True) -> None:
    """Gives `widget` a font `relative` times the application font that keeps that ratio
    when the text is scaled (titles)."""
    _RelativeFont(widget, relative, bold)
