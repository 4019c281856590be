"""Every catalog entry gets a working form, and typed values are read as Keras means them."""

from __future__ import annotations

import pytest

from gui_app.core.catalog import CALLBACKS, LAYERS, LOSSES, METRICS, OPTIMIZERS, Param
from gui_app.ui.fields import ChoiceField, NumberField, ParamForm, parse_text


@pytest.mark.parametrize("definition", list(LAYERS.values()), ids=lambda d: d.type)
def test_every_layer_form_shows_its_values(qtbot, definition):
    form = ParamForm(definition.params)
    qtbot.addWidget(form)
    form.set_values(definition.suggested)
    for param in definition.params:
        expected = definition.suggested.get(param.name, None if param.required else param.default)
        shown = form.fields[param.name].value()
        if isinstance(expected, (list, tuple)):
            expected = list(expected)
            shown = list(shown) if isinstance(shown, (list, tuple)) else shown
        if param.required and param.name not in definition.suggested:
            continue
        assert shown == expected or (isinstance(shown, float) and shown == pytest.approx(expected)), \
            param.name


@pytest.mark.parametrize("definition",
                         [*OPTIMIZERS.values(), *LOSSES.values(), *METRICS.values(),
                          *CALLBACKS.values()], ids=lambda d: d.type)
def test_every_object_form_builds(qtbot, definition):
    form = ParamForm(definition.params)
    qtbot.addWidget(form)
    form.set_values({})
    assert set(form.fields) == {p.name for p in definition.params}


def test_parse_text_for_sizes_shapes_and_paddings():
    size2 = Param("kernel_size", "size", (3, 3), rank=2)
    assert parse_text(size2, "3") == (3, None)
    assert parse_text(size2, "3, 5") == ([3, 5], None)
    assert parse_text(size2, "(3, 5)") == ([3, 5], None)
    value, problem = parse_text(size2, "3, 5, 7")
    assert value is None and "got [3, 5, 7]" in problem
    shape = Param("target_shape", "shape")
    assert parse_text(shape, "-1, 1") == ([-1, 1], None)
    assert parse_text(shape, "[4, 4, 1]") == ([4, 4, 1], None)
    pad = Param("padding", "padding2d", (1, 1))
    assert parse_text(pad, "(1, 2), (3, 4)") == ([[1, 2], [3, 4]], None)
    assert parse_text(pad, "2") == (2, None)
    strides = Param("strides", "size", None, rank=2, nullable=True)
    assert parse_text(strides, "") == (None, None)
    value, problem = parse_text(strides, "import os")
    assert value is None and problem.startswith("Expected")


def test_nullable_number_switches_between_empty_and_a_value(qtbot):
    param = Param("seed", "int", None, "Random seed.", min=0, nullable=True)
    field = NumberField(param)
    qtbot.addWidget(field)
    values: list = []
    field.committed.connect(values.append)
    field.set_value(None)
    assert field.value() is None and not field.spin.isEnabled()
    field.enabled_box.setChecked(True)
    assert values == [0] and field.value() == 0
    field.spin.setValue(7)
    field.enabled_box.setChecked(False)
    assert values == [0, 7, None]


def test_choice_field_marks_default_and_keeps_unknown_values(qtbot):
    param = Param("padding", "choice", "valid", choices=["valid", "same"])
    field = ChoiceField(param)
    qtbot.addWidget(field)
    assert field.combo.itemText(0) == "valid (default)"
    field.set_value("reflect")  # e.g. from a hand-written project file
    assert field.value() == "reflect" and "not a known choice" in field.combo.currentText()
