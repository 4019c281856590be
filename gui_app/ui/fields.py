"""Editors generated from the catalog: one widget per parameter, right for its kind.

The rule for every field: a value the catalog's `Param.check` refuses never reaches the
project. The widget keeps its last good value and the reason ("expected an integer >= 1,
got 0") is shown beside it in red, so a mistake is explained where it is made instead of
surfacing later as a Keras traceback.

Fields emit `committed(value)` for each accepted value, `problem(text)` when they refuse
one, and `finished()` when an editing gesture ends (focus out, Enter, slider released),
which closes the undo merge window.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QLocale, QObject, QSize, Qt, Signal, Slot
from PySide6.QtGui import QShowEvent, QValidator
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStackedWidget,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.catalog import RECURRENT_FOR_BIDIRECTIONAL, Param

ERROR_STYLE = "color: #c62828;"
INT_LIMIT = 2**31 - 1
FLOAT_LIMIT = 1e12
STEPS_PER_DECADE = 20


def sentence(message: str) -> str:
    """The catalog's "expected ..., got ..." as a sentence for a label."""
    message = message.strip()
    if not message:
        return ""
    text = message[0].upper() + message[1:]
    return text if text.endswith(".") else text + "."


def show_value(value: Any) -> str:
    """A value as a person reads it in tooltips: none, on/off, 0.001, (3, 3)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(show_value(v) for v in value) + ")"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={show_value(v)}" for k, v in value.items())
    return str(value)


def param_tooltip(param: Param) -> str:
    lines = [param.help] if param.help else []
    lines.append(f"Accepts {param.expected()}.")
    lines.append("Required." if param.required else f"Keras's default: {show_value(param.default)}.")
    return "\n".join(lines)


def clean_float(value: float) -> float:
    """Strips binary noise (0.30000000000000004) that spin boxes add."""
    return float(f"{value:.12g}")


class PanelScroll(QScrollArea):
    """A vertically scrolling panel that is never narrower than its forms.

    Without this a dock can be made narrower than a form's fields, and the reset buttons
    and the end of the help lines are cut off with no way to scroll to them.

    The width it holds is capped at `MAX_MIN_CHARS` characters, though: a finding that
    quotes a long file path, or a fix button naming it, cannot wrap, and a panel that took
    their width would widen the whole window past a 1024-pixel screen (or, scrolling
    sideways, push every form half out of view). Content wider than the cap is laid out
    at the panel's width instead; only that long line is cut, and the same finding is
    listed in full under "Checks before training".
    """

    #: The widest minimum a panel asks for, in average characters (about 290 px at 10 pt,
    #: more than any form needs; it grows with the text size).
    MAX_MIN_CHARS = 42

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)

    def setWidget(self, widget: QWidget) -> None:  # noqa: N802
        super().setWidget(widget)
        widget.installEventFilter(self)
        self._cap_body()

    def _cap(self) -> int:
        return self.fontMetrics().averageCharWidth() * self.MAX_MIN_CHARS

    def _cap_body(self) -> None:
        """Holds the content no wider than the cap (an explicit minimum overrides the
        layout's, and the scroll area then fits the content to its own width)."""
        body = self.widget()
        if body is None:
            return
        wanted = body.minimumSizeHint().width()
        cap = self._cap()
        least = cap if wanted > cap else 0  # 0: no explicit minimum, the layout's counts
        if body.minimumWidth() != least:
            body.setMinimumWidth(least)
            self.setWidgetResizable(True)  # fits the content to the new minimum now

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        # Content that changed while the panel was hidden (another tab) is capped as it
        # shows, before it can hold the dock wide.
        self._cap_body()
        super().showEvent(event)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        # A new form inside (another layer type, another optimizer) can need more width,
        # a new finding can bring a long unbreakable line: tell the dock layout to ask again.
        if obj is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._cap_body()
            self.updateGeometry()
        return super().eventFilter(obj, event)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        hint = super().minimumSizeHint()
        body = self.widget()
        if body is None:
            return hint
        width = min(body.minimumSizeHint().width(), self._cap())
        width += self.verticalScrollBar().sizeHint().width() + 4
        return QSize(max(hint.width(), width), hint.height())


class FittedStack(QStackedWidget):
    """A stacked widget as tall as its current page, not as tall as its tallest page.

    QStackedWidget reserves room for the largest page, which leaves a big gap under a
    short form (Flatten) once a long one (Conv2D) has been shown.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.currentChanged.connect(self._fit)

    @Slot(int)
    def _fit(self, index: int) -> None:
        for i in range(self.count()):
            policy = QSizePolicy.Policy.Preferred if i == index else QSizePolicy.Policy.Ignored
            self.widget(i).setSizePolicy(policy, policy)
        self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802
        current = self.currentWidget()
        return current.sizeHint() if current is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        current = self.currentWidget()
        return current.minimumSizeHint() if current is not None else super().minimumSizeHint()


class WheelGuard(QObject):
    """Stops the mouse wheel from changing a field the pointer merely passes over.

    Scrolling a long inspector must scroll it, not silently edit whatever spin box or combo
    box happens to be under the pointer.
    """

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Wheel and isinstance(obj, QWidget) and not obj.hasFocus():
            event.ignore()
            return True
        return False


_WHEEL_GUARD: WheelGuard | None = None


def guard_wheel(widget: QWidget) -> None:
    global _WHEEL_GUARD
    if _WHEEL_GUARD is None:
        _WHEEL_GUARD = WheelGuard(QApplication.instance())
    widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    widget.installEventFilter(_WHEEL_GUARD)


def _bounds(param: Param, integer: bool) -> tuple[float, float]:
    limit = INT_LIMIT if integer else FLOAT_LIMIT
    lo = -limit if param.min is None else param.min
    hi = limit if param.max is None else param.max
    if integer and param.min is not None and param.min_exclusive:
        lo = math.floor(param.min) + 1
    if integer and param.max is not None and param.max_exclusive:
        hi = math.ceil(param.max) - 1
    return lo, hi


def _float_step(param: Param) -> float:
    """A step that suits the value's scale: 0.05 for rates, 0.001 for 0.999, 1 for counts."""
    default = param.default if isinstance(param.default, (int, float)) and \
        not isinstance(param.default, bool) else None
    if param.max is not None and param.min is not None and param.max - param.min <= 1:
        if default:
            text = f"{default:g}"
            decimals = len(text.split(".")[1]) if "." in text else 0
            return min(0.05, 10.0 ** -max(decimals, 1))
        return 0.05
    if default:
        return 10.0 ** math.floor(math.log10(abs(default)))
    return 0.1


INT32_MAX = 2**31 - 1


class CheckedSpinBox(QSpinBox):
    """A QSpinBox whose typed text is checked by the Param, with the reason on refusal."""

    refused = Signal(str)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        lo, hi = _bounds(param, integer=True)
        # A QSpinBox holds a C int: a seed may go to 2**32 - 1, the box to 2**31 - 1.
        self.setRange(max(int(lo), -INT32_MAX), min(int(hi), INT32_MAX))
        self.setLocale(QLocale.c())
        self.setAccelerated(True)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)

    def validate(self, text: str, pos: int) -> QValidator.State:
        body = text.strip()
        if body in ("", "-", "+"):
            return QValidator.State.Intermediate
        try:
            value = int(body)
        except ValueError:
            self.refused.emit(sentence(f"expected {self.param.expected()}, got {body!r}"))
            return QValidator.State.Invalid
        problem = self.param.check(value)
        if problem:
            self.refused.emit(sentence(problem))
            return QValidator.State.Intermediate
        return QValidator.State.Acceptable

    def stepBy(self, steps: int) -> None:  # noqa: N802
        problem = self.param.check(self.value() + steps * self.singleStep())
        if problem:
            self.refused.emit(sentence(problem))
            return
        super().stepBy(steps)


class CheckedDoubleSpinBox(QDoubleSpinBox):
    """A QDoubleSpinBox showing values as typed (0.001, 1e-07) and checked by the Param."""

    refused = Signal(str)

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setLocale(QLocale.c())
        self.setDecimals(12)
        lo, hi = _bounds(param, integer=False)
        self.setRange(lo, hi)
        self.setSingleStep(_float_step(param))
        self.setAccelerated(True)
        self.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)

    def textFromValue(self, value: float) -> str:  # noqa: N802
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> QValidator.State:
        body = text.strip()
        if body in ("", "-", "+", ".", "-.", "+."):
            return QValidator.State.Intermediate
        if body.lower().endswith(("e", "e-", "e+")):  # typing an exponent: 1e-
            return QValidator.State.Intermediate
        try:
            value = float(body)
        except ValueError:
            self.refused.emit(sentence(f"expected {self.param.expected()}, got {body!r}"))
            return QValidator.State.Invalid
        problem = self.param.check(value)
        if problem:
            self.refused.emit(sentence(problem))
            return QValidator.State.Intermediate
        return QValidator.State.Acceptable

    def stepBy(self, steps: int) -> None:  # noqa: N802
        if self.param.log and self.value() > 0:
            target = float(f"{self.value() * 2.0 ** steps:.3g}")
        else:
            target = clean_float(self.value() + steps * self.singleStep())
        problem = self.param.check(target)
        if problem:
            self.refused.emit(sentence(problem))
            return
        self.setValue(target)
        self.editingFinished.emit()


class FieldBase(QWidget):
    """A parameter's editor. Subclasses implement `value` and `set_value`."""

    committed = Signal(object)
    problem = Signal(str)
    finished = Signal()

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.param = param
        self.setToolTip(param_tooltip(param))

    def value(self) -> Any:
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        raise NotImplementedError

    def focus_widget(self) -> QWidget:
        return self


class NumberField(FieldBase):
    """int or float: a spin box; nullable adds a check box, log scale adds a slider."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.integer = param.kind == "int"
        self.spin: QSpinBox | QDoubleSpinBox = (
            CheckedSpinBox(param) if self.integer else CheckedDoubleSpinBox(param))
        self.spin.setToolTip(self.toolTip())
        self.spin.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._fit_spin()
        guard_wheel(self.spin)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        self.enabled_box: QCheckBox | None = None
        if param.nullable:
            self.enabled_box = QCheckBox()
            self.enabled_box.setToolTip(
                f"Set {param.name}; unchecked leaves it empty ({param.help})")
            self.enabled_box.toggled.connect(self._on_enabled)
            layout.addWidget(self.enabled_box)
        self.slider: QSlider | None = None
        if param.log and not self.integer:
            self.slider = self._make_slider(param)
            layout.addWidget(self.slider, 3)
        layout.addWidget(self.spin, 2)
        self._last: Any = None
        self._updating = False
        self._refusal = ""
        self.spin.valueChanged.connect(self._on_spin)
        self.spin.refused.connect(self._on_refused)
        self.spin.editingFinished.connect(self._on_editing_finished)

    def _fit_spin(self) -> None:
        """Room for "0.0001" and the arrows (70 px at 10 pt), at any text size: a fixed
        70 px cut a learning rate to "0.00" once the text was scaled up."""
        self.spin.setMinimumWidth(max(70, self.spin.fontMetrics().averageCharWidth() * 10))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_spin()  # the text was scaled (View > Larger Text)

    def _make_slider(self, param: Param) -> QSlider:
        base = param.default if isinstance(param.default, (int, float)) and param.default else 1e-3
        exponent = math.floor(math.log10(abs(base)))
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange((exponent - 4) * STEPS_PER_DECADE, (exponent + 3) * STEPS_PER_DECADE)
        slider.setSingleStep(1)
        slider.setPageStep(STEPS_PER_DECADE)
        slider.setToolTip(f"{param.name} on a log scale: each notch x10 "
                          f"(from 1e{exponent - 4} to 1e{exponent + 3}).\n{param.help}")
        slider.setMinimumWidth(50)
        guard_wheel(slider)
        slider.valueChanged.connect(self._on_slider)
        slider.sliderReleased.connect(self.finished)
        return slider

    def focus_widget(self) -> QWidget:
        return self.spin

    def value(self) -> Any:
        if self.enabled_box is not None and not self.enabled_box.isChecked():
            return None
        return self._number(self.spin.value())

    def _number(self, raw: float) -> int | float:
        return int(raw) if self.integer else clean_float(raw)

    def set_value(self, value: Any) -> None:
        self._updating = True
        try:
            if self.enabled_box is not None:
                self.enabled_box.setChecked(value is not None)
                self.spin.setEnabled(value is not None)
            if value is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
                self.spin.setValue(value)
                self._sync_slider(float(value))
            self._last = value
        finally:
            self._updating = False

    def _sync_slider(self, value: float) -> None:
        if self.slider is not None and value > 0:
            self.slider.blockSignals(True)
            self.slider.setValue(round(math.log10(value) * STEPS_PER_DECADE))
            self.slider.blockSignals(False)

    @Slot(bool)
    def _on_enabled(self, on: bool) -> None:
        self.spin.setEnabled(on)
        if self._updating:
            return
        value = self._number(self.spin.value()) if on else None
        if value is not None and self.param.check(value):
            value = self._first_valid()
            self._updating = True
            self.spin.setValue(value)
            self._updating = False
        self._last = value
        self.committed.emit(value)
        self.finished.emit()

    def _first_valid(self) -> int | float:
        """A starting value when a nullable number is switched on: the lowest allowed."""
        if self.param.min is None:
            return 0 if self.integer else 0.0
        if not self.param.min_exclusive:
            return self._number(self.param.min)
        return self.param.min + (1 if self.integer else _float_step(self.param))

    @Slot(float)
    @Slot(int)
    def _on_spin(self, raw: float) -> None:
        if self._updating:
            return
        value = self._number(raw)
        if value == self._last:  # Qt re-announces the old value when it rejects typed text
            return
        problem = self.param.check(value)
        if problem:  # an arrow step or clamp landed on a refused value: put the old one back
            self.problem.emit(sentence(problem))
            if self._last is not None:
                self._updating = True
                self.spin.setValue(self._last)
                self._updating = False
            return
        self._sync_slider(float(value))
        self._last = value
        self._refusal = ""
        self.committed.emit(value)

    @Slot(str)
    def _on_refused(self, text: str) -> None:
        self._refusal = text
        self.problem.emit(text)

    @Slot()
    def _on_editing_finished(self) -> None:
        if self._refusal and self._last is not None:  # the typed text was thrown away: say so
            self.problem.emit(f"{self._refusal} Kept {show_value(self._last)}.")
        self._refusal = ""
        self.finished.emit()

    @Slot(int)
    def _on_slider(self, position: int) -> None:
        if self._updating:
            return
        value = float(f"{10 ** (position / STEPS_PER_DECADE):.3g}")
        if self.enabled_box is not None and not self.enabled_box.isChecked():
            self.enabled_box.setChecked(True)
        self.spin.setValue(value)


class BoolField(FieldBase):
    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.box = QCheckBox()
        self.box.setToolTip(self.toolTip())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addStretch(1)
        self.box.toggled.connect(self._on_toggled)
        self._updating = False

    def focus_widget(self) -> QWidget:
        return self.box

    def value(self) -> bool:
        return self.box.isChecked()

    def set_value(self, value: Any) -> None:
        self._updating = True
        self.box.setChecked(bool(value))
        self._updating = False

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        if not self._updating:
            self.committed.emit(on)
            self.finished.emit()


def choice_label(param: Param, choice: Any) -> str:
    if choice is None:
        text = "none (linear)" if param.name.endswith("activation") else "none"
    else:
        text = str(choice)
    if not param.required and choice == param.default and \
            isinstance(choice, bool) == isinstance(param.default, bool):
        text += " (default)"
    return text


class ChoiceField(FieldBase):
    """A combo box of Keras's choices, the default marked "(default)"."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.combo = QComboBox()
        self.combo.setToolTip(self.toolTip())
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(8)
        self.combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.combo.setMaxVisibleItems(16)
        guard_wheel(self.combo)
        self.choices: list[Any] = list(param.choices)
        for choice in self.choices:
            self.combo.addItem(choice_label(param, choice))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo)
        self._updating = False
        self.combo.currentIndexChanged.connect(self._on_index)

    def focus_widget(self) -> QWidget:
        return self.combo

    def value(self) -> Any:
        i = self.combo.currentIndex()
        return self.choices[i] if 0 <= i < len(self.choices) else None

    def set_value(self, value: Any) -> None:
        self._updating = True
        try:
            for i, choice in enumerate(self.choices):
                if choice == value and isinstance(choice, bool) == isinstance(value, bool):
                    self.combo.setCurrentIndex(i)
                    return
            # a value the catalog does not list (from a hand-edited file): show it, flagged
            self.choices.append(value)
            self.combo.addItem(f"{value}  (not a known choice)")
            self.combo.setCurrentIndex(len(self.choices) - 1)
        finally:
            self._updating = False

    @Slot(int)
    def _on_index(self, index: int) -> None:
        if self._updating or index < 0:
            return
        value = self.choices[index]
        problem = self.param.check(value)
        if problem:
            self.problem.emit(sentence(problem))
            return
        self.committed.emit(value)
        self.finished.emit()


def parse_text(param: Param, text: str) -> tuple[Any, str | None]:
    """Reads a typed value for text-edited kinds (size, shape, padding2d, str)."""
    body = text.strip()
    if not body:
        if param.nullable:
            return None, None
        return None, sentence(f"expected {param.expected()}, got nothing")
    if param.kind == "str":
        value: Any = body
    else:
        try:
            literal = ast.literal_eval("(" + body.replace("[", "(").replace("]", ")") + ",)")
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None, sentence(f"expected {param.expected()}, got {body!r}")
        value = _listify(literal)
        while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
            value = value[0]  # "(3, 5)" was read as ((3, 5),)
        if isinstance(value, list) and len(value) == 1 and param.kind in ("size", "padding2d",
                                                                          "factor"):
            value = value[0]  # "3" means 3, not [3]
    problem = param.check(value)
    return (None, sentence(problem)) if problem else (value, None)


def _listify(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value


def format_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(f"({format_text(v)})" if isinstance(v, (list, tuple)) else str(v)
                         for v in value)
    return str(value)


class TextField(FieldBase):
    """A line edit for sizes ("3" or "3, 5"), shapes, paddings and names."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.edit = QLineEdit()
        self.edit.setToolTip(self.toolTip())
        if param.nullable:
            self.edit.setPlaceholderText("empty: " + (param.help.split(";")[-1].strip()
                                                      if "empty" in param.help else "default"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        self._value: Any = None
        self.edit.textEdited.connect(self._on_edited)
        self.edit.editingFinished.connect(self._on_finished)

    def focus_widget(self) -> QWidget:
        return self.edit

    def set_placeholder(self, text: str) -> None:
        self.edit.setPlaceholderText(text)

    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any) -> None:
        self._value = value
        self.edit.setText(format_text(value))

    @Slot(str)
    def _on_edited(self, text: str) -> None:
        _, problem = parse_text(self.param, text)
        self.problem.emit(problem or "")

    @Slot()
    def _on_finished(self) -> None:
        value, problem = parse_text(self.param, self.edit.text())
        if problem:
            self.problem.emit(problem)
            self.edit.setText(format_text(self._value))  # refused: keep the last good value
            return
        if value != self._value:
            self._value = value
            self.edit.setText(format_text(value))
            self.committed.emit(value)
        self.finished.emit()


class WrappedLayerField(FieldBase):
    """Bidirectional's wrapped layer: which recurrent layer, its units, return_sequences."""

    def __init__(self, param: Param, parent: QWidget | None = None) -> None:
        super().__init__(param, parent)
        self.kind = QComboBox()
        self.kind.addItems(list(RECURRENT_FOR_BIDIRECTIONAL))
        self.kind.setToolTip("The recurrent layer run in both directions.")
        self.units = QSpinBox()
        self.units.setRange(1, 65536)
        self.units.setToolTip("Units of each direction; concat merging doubles the output.")
        self.sequences = QCheckBox("sequences")
        self.sequences.setToolTip("return_sequences: output every time step, not just the last.")
        for widget in (self.kind, self.units):
            guard_wheel(widget)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.kind, 2)
        layout.addWidget(self.units, 1)
        layout.addWidget(self.sequences)
        self._value: dict[str, Any] = {}
        self._updating = False
        self.kind.currentIndexChanged.connect(self._changed)
        self.units.valueChanged.connect(self._changed)
        self.sequences.toggled.connect(self._changed)
        self.units.editingFinished.connect(self.finished)

    def value(self) -> dict[str, Any]:
        return dict(self._value)

    def set_value(self, value: Any) -> None:
        self._value = dict(value) if isinstance(value, Mapping) else {"type": "LSTM", "units": 32}
        self._updating = True
        self.kind.setCurrentText(str(self._value.get("type", "LSTM")))
        self.units.setValue(int(self._value.get("units", 32)))
        self.sequences.setChecked(bool(self._value.get("return_sequences", False)))
        self._updating = False

    @Slot()
    def _changed(self) -> None:
        if self._updating:
            return
        value = {**self._value, "type": self.kind.currentText(), "units": self.units.value()}
        if self.sequences.isChecked():
            value["return_sequences"] = True
        else:
            value.pop("return_sequences", None)
        self._value = value
        self.committed.emit(dict(value))


def _same(a: Any, b: Any) -> bool:
    return isinstance(a, bool) == isinstance(b, bool) and _listify(a) == _listify(b)


def make_field(param: Param) -> FieldBase:
    if param.kind in ("int", "float"):
        return NumberField(param)
    if param.kind == "bool":
        return BoolField(param)
    if param.kind == "choice":
        return ChoiceField(param)
    if param.kind == "layer":
        return WrappedLayerField(param)
    return TextField(param)


class ParamForm(QWidget):
    """A form for a list of Params: label, field, reset button and a red reason line each.

    Advanced parameters sit in a collapsed section so a beginner sees only what matters.
    `set_values` updates the widgets in place (no rebuild), so editing one value elsewhere
    does not reset the others or the focus.
    """

    edited = Signal(str, object)
    finished = Signal(str)
    advanced_open = False  # shared: opening "Advanced" once keeps it open for every form

    def __init__(self, params: Sequence[Param], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.params = {p.name: p for p in params}
        self.fields: dict[str, FieldBase] = {}
        self.labels: dict[str, QLabel] = {}
        self.problems: dict[str, QLabel] = {}
        self.resets: dict[str, QToolButton] = {}
        self._values: dict[str, Any] = {}
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)
        basic = [p for p in params if not p.advanced]
        advanced = [p for p in params if p.advanced]
        self.basic_grid = self._grid(basic)
        outer.addWidget(self.basic_grid)
        self.advanced_button: QToolButton | None = None
        self.advanced_box: QWidget | None = None
        if advanced:
            button = QToolButton()
            button.setText(f"Advanced ({len(advanced)})")
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip("Initialisers, regularisers, names and other settings that "
                              "rarely need changing.")
            self.advanced_button = button
            self.advanced_box = self._grid(advanced)
            outer.addWidget(button)
            outer.addWidget(self.advanced_box)
            button.toggled.connect(self._on_advanced)
            button.setChecked(ParamForm.advanced_open)
            self._on_advanced(ParamForm.advanced_open)

    def _grid(self, params: Sequence[Param]) -> QWidget:
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(3)
        grid.setColumnStretch(1, 1)
        row = 0
        reset_icon = self.style().standardIcon(QStyle.StandardPixmap.SP_BrowserReload)
        for param in params:
            label = QLabel(param.name)
            label.setToolTip(param_tooltip(param))
            field = make_field(param)
            reset = QToolButton()
            reset.setIcon(reset_icon)
            reset.setAutoRaise(True)
            reset.setEnabled(False)
            reset.setToolTip("Required: no default" if param.required
                             else f"Reset to Keras's default ({show_value(param.default)})")
            problem = QLabel()
            problem.setStyleSheet(ERROR_STYLE)
            problem.setWordWrap(True)
            problem.setVisible(False)
            problem.setObjectName(f"problem_{param.name}")
            label.setBuddy(field.focus_widget())
            grid.addWidget(label, row, 0)
            grid.addWidget(field, row, 1)
            grid.addWidget(reset, row, 2)
            grid.addWidget(problem, row + 1, 0, 1, 3)
            row += 2
            self.fields[param.name] = field
            self.labels[param.name] = label
            self.problems[param.name] = problem
            self.resets[param.name] = reset
            field.committed.connect(self._on_committed)
            field.problem.connect(self._on_problem)
            field.finished.connect(self._on_finished)
            reset.clicked.connect(self._on_reset)
            field.setProperty("param", param.name)
            reset.setProperty("param", param.name)
        return box

    @Slot(bool)
    def _on_advanced(self, on: bool) -> None:
        ParamForm.advanced_open = on
        if self.advanced_box is not None:
            self.advanced_box.setVisible(on)
        if self.advanced_button is not None:
            self.advanced_button.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)

    def _name_of(self, sender: QObject | None) -> str | None:
        return sender.property("param") if sender is not None else None

    @Slot(object)
    def _on_committed(self, value: Any) -> None:
        name = self._name_of(self.sender())
        if name is None:
            return
        self.show_problem(name, "")
        self.edited.emit(name, value)

    @Slot(str)
    def _on_problem(self, text: str) -> None:
        name = self._name_of(self.sender())
        if name is not None:
            self.show_problem(name, text)

    @Slot()
    def _on_finished(self) -> None:
        name = self._name_of(self.sender())
        if name is not None:
            self.finished.emit(name)

    @Slot()
    def _on_reset(self) -> None:
        name = self._name_of(self.sender())
        if name is None or self.params[name].required:
            return
        self.show_problem(name, "")
        self.edited.emit(name, self.params[name].default)
        self.finished.emit(name)

    def show_problem(self, name: str, text: str) -> None:
        label = self.problems[name]
        if label.text() != text:
            label.setText(text)
        label.setVisible(bool(text))

    def set_values(self, args: Mapping[str, Any]) -> None:
        """Shows `args` (missing ones at their defaults), marking the non-default ones."""
        for name, param in self.params.items():
            value = args[name] if name in args else (None if param.required else param.default)
            field = self.fields[name]
            # Leave a field alone when it already shows the value: it may be the one being
            # typed into, and rewriting "0." as "0" would fight the person typing.
            if name not in self._values or not _same(field.value(), value):
                field.set_value(value)
                if name in self._values:
                    self.show_problem(name, "")
            self._values[name] = value
            non_default = name in args and not param.same_as_default(args[name])
            font = self.labels[name].font()
            if font.bold() != non_default:
                font.setBold(non_default)
                self.labels[name].setFont(font)
            self.resets[name].setEnabled(non_default and not param.required)

    def field(self, name: str) -> FieldBase:
        return self.fields[name]


class SteadyLabel(QLabel):
    """A one-line label sized once, for text that changes many times a second.

    A plain QLabel asks its parent layouts to recompute on every `setText`; during
    training that relayout climbs to the main window and repaints all of it several
    times a second, which costs the training thread GIL time. This one is fixed at the
    size of `sample` (its widest expected text), so a new text repaints the label only.
    It also paints its own background: a see-through label is repainted by painting every
    widget under it first, from the main window down.
    """

    def __init__(self, sample: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sample = sample
        self.setAutoFillBackground(True)
        self._pin()

    def _pin(self) -> None:
        metrics = self.fontMetrics()
        margins = self.contentsMargins()
        self.setFixedSize(metrics.horizontalAdvance(self.sample) + 6 + margins.left()
                          + margins.right(), metrics.height() + 4)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._pin()
