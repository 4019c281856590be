"""The layer-stack adapter: minimal row notifications that keep Qt's model contract."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gui_app.core.spec import LayerSpec, default_project
from gui_app.ui.controller import ProjectController
from gui_app.ui.stack_model import (
    LayerStackModel,
    RowOp,
    diff_layers,
    layer_settings_text,
    parse_shape,
)


def L(units: int) -> LayerSpec:  # noqa: N802 - reads like a constructor in the tables below
    return LayerSpec("Dense", {"units": units})


def apply(old: list, new: list, ops: list[RowOp]) -> list:
    """Replays the notifications the way the model does, to check they reach `new`."""
    current = list(old)
    for op in ops:
        if op.kind == "insert":
            current[op.first:op.first] = new[op.first:op.first + op.count]
        elif op.kind == "remove":
            del current[op.first:op.first + op.count]
        elif op.kind == "move":
            item = current.pop(op.first)
            current.insert(op.dest - 1 if op.dest > op.first else op.dest, item)
        else:
            current[op.first:op.first + op.count] = new[op.first:op.first + op.count]
    return current


def test_diff_recognises_the_editor_edits():
    a, b, c, d = L(1), L(2), L(3), L(4)
    assert diff_layers([a, b, c], [a, b, c]) == []
    assert diff_layers([a, c], [a, b, c]) == [RowOp("insert", 1, 1)]
    assert diff_layers([a, b, c], [a, c]) == [RowOp("remove", 1, 1)]
    assert diff_layers([a, b, c, d], [b, c, a, d]) == [RowOp("move", 0, 1, 3)]
    assert diff_layers([a, b, c, d], [a, d, b, c]) == [RowOp("move", 3, 1, 1)]
    assert diff_layers([a, b, c], [a, d, c]) == [RowOp("change", 1, 1)]


@given(st.lists(st.integers(1, 4), max_size=7), st.lists(st.integers(1, 4), max_size=7))
def test_diff_always_reaches_the_new_stack(old_units, new_units):
    old, new = [L(u) for u in old_units], [L(u) for u in new_units]
    assert apply(old, new, diff_layers(old, new)) == new


edits = st.lists(st.tuples(st.sampled_from(["add", "remove", "up", "down", "dup", "move"]),
                           st.integers(0, 6), st.integers(0, 6)), min_size=1, max_size=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits)
def test_model_follows_any_edit_sequence_and_undo(qtmodeltester, steps):
    controller = ProjectController(default_project())
    model = LayerStackModel(controller)
    qtmodeltester.check(model, force_py=True)  # keeps checking on every change below
    for kind, i, j in steps:
        n = len(controller.project.model.layers)
        if kind == "add":
            controller.add_layer("Dropout", min(i, n))
        elif n and kind == "remove":
            controller.remove_layers([i % n])
        elif n and kind == "up":
            controller.shift_layers([i % n], -1)
        elif n and kind == "down":
            controller.shift_layers([i % n], 1)
        elif n and kind == "dup":
            controller.duplicate_layers([i % n])
        elif n and kind == "move":
            controller.move_layers([i % n, j % n], j % (n + 1))
        assert model._layers == controller.project.model.layers
        assert model.rowCount() == len(controller.project.model.layers) + 1
    while controller.undo_stack.canUndo():
        controller.undo_stack.undo()
        assert model._layers == controller.project.model.layers
    assert controller.project == default_project()


def test_settings_text_and_shape_parsing():
    assert layer_settings_text(LayerSpec("Dense", {"units": 8, "activation": "relu"})) == "8, relu"
    assert layer_settings_text(LayerSpec("Dense", {"units": 4})) == "4, linear"
    assert layer_settings_text(LayerSpec("Conv2D", {"filters": 16, "kernel_size": 3,
                                                    "strides": 2})) == "16, 3, strides=2, linear"
    assert layer_settings_text(LayerSpec("Dropout", {"rate": 0.25})) == "0.25"
    assert parse_shape("28, 28, 1") == ((28, 28, 1), None)
    assert parse_shape("28x28x1") == ((28, 28, 1), None)
    assert parse_shape("None, 8") == ((None, 8), None)
    shape, problem = parse_shape("")
    assert shape is None and problem.startswith("Expected")
    shape, problem = parse_shape("2, a")
    assert shape is None and "'a'" in problem
