"""The main window driven through its real widgets: add, move, edit, delete, undo, redo,
refused values, live summary and code, fixes, files and settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QModelIndex, Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from gui_app.core.codegen import model_code
from gui_app.core.project import load_project
from gui_app.ui.stack_model import COL_PARAMS, COL_SHAPE, MIME_LAYER_ROWS, MIME_LAYER_TYPE


def layer_args(window) -> list[dict]:
    return [dict(layer.args) for layer in window.controller.project.model.layers]


def layer_types(window) -> list[str]:
    return [layer.type for layer in window.controller.project.model.layers]


def cell(window, row: int, col: int) -> str:
    model = window.stack_model
    return model.data(model.index(row, col), Qt.ItemDataRole.DisplayRole)


def double_click_palette(qtbot, window, type_name: str) -> None:
    tree = window.palette.tree
    item = window.palette.items[type_name]
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    # What a real double-click delivers: a click, then the second press as a double-click
    # (QTest's mouseDClick alone skips the first press, which item views need).
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def type_into_spin(qtbot, spin, text: str, finish: bool = True) -> None:
    spin.setFocus()
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    if finish:
        qtbot.keyClick(spin, Qt.Key.Key_Return)


def code(window) -> str:
    return window.code_pane.editor.toPlainText()


def test_default_project_summary_and_code(window):
    assert window.stack_model.rowCount() == 4  # input + 3 layers
    assert [cell(window, r, COL_PARAMS) for r in range(1, 4)] == ["24", "72", "9"]
    assert cell(window, 2, COL_SHAPE) == "(None, 8)"
    assert "Total params: 105" in window.totals.text()
    assert "Trainable: 105" in window.totals.text()
    assert "Non-trainable: 0" in window.totals.text()
    assert code(window) == model_code(window.controller.project)
    assert 'layers.Dense(1, activation="sigmoid")' in code(window)
    assert "Circle" in window.windowTitle() and "*" not in window.windowTitle()
    assert window.all_findings.empty_label.isVisible()


def test_add_from_palette_then_edit_units(qtbot, window):
    window.table.select_layers([1])  # dense_1: the new layer goes after it
    double_click_palette(qtbot, window, "Dense")
    assert layer_types(window) == ["Dense"] * 4
    assert layer_args(window)[2] == {"units": 32, "activation": "relu"}  # the suggested args
    assert window.selected_layers() == [2]
    form = window.inspector.form()
    assert form is not None and form.objectName() == "form_Dense"
    type_into_spin(qtbot, form.fields["units"].spin, "4")
    assert layer_args(window)[2]["units"] == 4
    # 2-8-8-4-1: 24 + 72 + (8*4 + 4) + (4*1 + 1) = 137
    assert [cell(window, r, COL_PARAMS) for r in range(1, 5)] == ["24", "72", "36", "5"]
    assert "Total params: 137" in window.totals.text()
    assert 'layers.Dense(4, activation="relu")' in code(window)
    assert code(window) == model_code(window.controller.project)
    assert window.windowTitle().startswith("Circle*")
    # typing "4" was one undo step on top of the add
    window.act_undo.trigger()
    assert layer_args(window)[2]["units"] == 32
    window.act_undo.trigger()
    assert len(layer_types(window)) == 3
    assert "Total params: 105" in window.totals.text()
    window.act_redo.trigger()
    window.act_redo.trigger()
    assert layer_args(window)[2]["units"] == 4 and "Total params: 137" in window.totals.text()


def test_palette_search_filters_and_enter_adds(qtbot, window):
    qtbot.keyClicks(window.palette.search, "conv")
    assert set(window.palette.visible_types()) == {"Conv1D", "Conv2D"}
    window.palette.search.clear()
    qtbot.keyClicks(window.palette.search, "dropout")
    visible = window.palette.visible_types()
    assert "Dropout" in visible and "Dense" not in visible
    qtbot.keyClick(window.palette.search, Qt.Key.Key_Return)
    assert layer_types(window)[1] == visible[0]  # after the selected first layer
    assert window.selected_layers() == [1]


def test_move_with_alt_arrows_and_model_move(qtbot, window):
    window.table.select_layers([2])  # the sigmoid output
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert [a["activation"] for a in layer_args(window)] == ["relu", "sigmoid", "relu"]
    assert window.selected_layers() == [1]  # the selection follows the layer
    qtbot.keyClick(window.table, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert [a["activation"] for a in layer_args(window)] == ["sigmoid", "relu", "relu"]
    assert "sigmoid" in cell(window, 1, 1)
    qtbot.keyClick(window.table, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert [a["activation"] for a in layer_args(window)] == ["relu", "sigmoid", "relu"]
    window.act_undo.trigger()
    window.act_undo.trigger()
    window.act_undo.trigger()
    assert [a["activation"] for a in layer_args(window)] == ["relu", "relu", "sigmoid"]
    # a drop of row data (what a drag carries) moves through the model too
    mime = QMimeData()
    mime.setData(MIME_LAYER_ROWS, json.dumps([2]).encode())
    assert window.stack_model.dropMimeData(mime, Qt.DropAction.MoveAction, 1, 0, QModelIndex())
    assert [a["activation"] for a in layer_args(window)] == ["sigmoid", "relu", "relu"]
    assert code(window).index("sigmoid") < code(window).index("relu")


def test_drop_from_palette_at_a_position(window):
    mime = QMimeData()
    mime.setData(MIME_LAYER_TYPE, b"Dropout")
    # table row 2 is layer 1: dropping before it puts the new layer at index 1
    assert window.stack_model.dropMimeData(mime, Qt.DropAction.CopyAction, 2, 0, QModelIndex())
    assert layer_types(window) == ["Dense", "Dropout", "Dense", "Dense"]
    assert "layers.Dropout(0.2)" in code(window)
    mime.setData(MIME_LAYER_TYPE, b"NoSuchLayer")
    assert not window.stack_model.dropMimeData(mime, Qt.DropAction.CopyAction, 1, 0, QModelIndex())


def test_delete_duplicate_multiselect_undo_redo(qtbot, window):
    window.table.select_layers([0, 1])
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert len(layer_types(window)) == 5
    assert window.selected_layers() == [2, 3]  # the copies, right after the originals
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert len(layer_types(window)) == 3
    window.table.select_layers([0])
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert [a["units"] for a in layer_args(window)] == [8, 1]
    assert "Total params: 33" in window.totals.text()  # 2*8+8 + 8*1+1
    window.act_undo.trigger()
    assert [a["units"] for a in layer_args(window)] == [8, 8, 1]
    assert "Total params: 105" in window.totals.text()
    window.act_redo.trigger()
    assert [a["units"] for a in layer_args(window)] == [8, 1]
    assert code(window) == model_code(window.controller.project)


def test_undo_redo_keyboard_shortcuts(qtbot, window):
    window.activateWindow()
    window.table.select_layers([0])
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert len(layer_types(window)) == 2
    qtbot.keyClick(window.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(layer_types(window)) == 3
    qtbot.keyClick(window.table, Qt.Key.Key_Z,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(layer_types(window)) == 2


def test_edit_activation_in_inspector_follows_everywhere(window):
    window.table.select_layers([0])
    field = window.inspector.form().fields["activation"]
    assert "(default)" in field.combo.itemText(field.choices.index(None))
    field.combo.setCurrentIndex(field.choices.index("tanh"))
    assert layer_args(window)[0]["activation"] == "tanh"
    assert cell(window, 1, 1) == "8, tanh"
    assert 'layers.Dense(8, activation="tanh")' in code(window)
    assert window.inspector.form().labels["activation"].font().bold()  # marked non-default
    # the reset button goes back to Keras's default (none), which the spec then omits
    window.inspector.form().resets["activation"].click()
    assert "activation" not in layer_args(window)[0]
    assert "layers.Dense(8)," in code(window)


def test_units_zero_is_refused_with_the_reason(qtbot, window):
    window.table.select_layers([0])
    form = window.inspector.form()
    type_into_spin(qtbot, form.fields["units"].spin, "0", finish=False)
    problem = form.problems["units"]
    assert problem.isVisible()
    assert "expected an integer >= 1, got 0" in problem.text().lower()
    assert layer_args(window)[0]["units"] == 8  # never reached the project
    qtbot.keyClick(form.fields["units"].spin, Qt.Key.Key_Return)
    assert form.fields["units"].spin.value() == 8
    assert problem.isVisible() and "Kept 8" in problem.text()
    assert window.controller.undo_stack.count() == 0
    type_into_spin(qtbot, form.fields["units"].spin, "12")
    assert layer_args(window)[0]["units"] == 12 and not problem.isVisible()


def test_dropout_rate_above_one_is_refused(qtbot, window):
    window.table.select_layers([0])
    double_click_palette(qtbot, window, "Dropout")
    assert layer_types(window)[1] == "Dropout"
    form = window.inspector.form()
    spin = form.fields["rate"].spin
    type_into_spin(qtbot, spin, "1.5", finish=False)
    assert "expected a number >= 0 and < 1, got 1.5" in form.problems["rate"].text().lower()
    assert layer_args(window)[1]["rate"] == 0.2
    type_into_spin(qtbot, spin, "1", finish=False)  # exactly 1 is out too (exclusive bound)
    assert "got 1" in form.problems["rate"].text() and layer_args(window)[1]["rate"] == 0.2
    type_into_spin(qtbot, spin, "0.5")
    assert layer_args(window)[1]["rate"] == 0.5 and not form.problems["rate"].isVisible()
    assert "layers.Dropout(0.5)" in code(window)


def test_kernel_size_text_field_refuses_bad_sizes(qtbot, window):
    window.controller.set_input_shape((28, 28, 1))
    window.table.select_rows([1])
    double_click_palette(qtbot, window, "Conv2D")
    assert layer_types(window)[1] == "Conv2D"
    form = window.inspector.form()
    edit = form.fields["kernel_size"].edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "3, 0")
    assert form.problems["kernel_size"].isVisible()
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert layer_args(window)[1]["kernel_size"] == 3 and edit.text() == "3"
    edit.selectAll()
    qtbot.keyClicks(edit, "5, 3")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert layer_args(window)[1]["kernel_size"] == [5, 3]
    assert "(None, 24, 26, 16)" in [cell(window, 2, COL_SHAPE)]


def test_softmax_on_one_unit_fix_button(window):
    window.table.select_layers([2])
    field = window.inspector.form().fields["activation"]
    field.combo.setCurrentIndex(field.choices.index("softmax"))
    model = window.stack_model
    assert model.data(model.index(3, 0), Qt.ItemDataRole.DecorationRole) is not None
    assert "Softmax on a single output" in model.data(model.index(3, 0), Qt.ItemDataRole.ToolTipRole)
    buttons = [b for b in window.inspector.findings.fix_buttons() if b.text() == "Use sigmoid"]
    assert buttons, "the inspector shows the finding with its fix"
    buttons[0].click()
    assert layer_args(window)[2]["activation"] == "sigmoid"
    assert model.data(model.index(3, 0), Qt.ItemDataRole.DecorationRole) is None
    assert window.all_findings.empty_label.isVisible()
    window.act_undo.trigger()  # the fix is an ordinary undo step
    assert layer_args(window)[2]["activation"] == "softmax"


def test_categorical_loss_on_integer_labels_fix_under_loss_picker(window):
    window.controller.set_data({"source": "blobs", "classes": 3})
    window.table.select_layers([2])
    form = window.inspector.form()
    form.fields["units"].spin.setValue(3)
    form.fields["activation"].combo.setCurrentIndex(form.fields["activation"].choices.index("softmax"))
    combo = window.compile_panel.loss.combo
    combo.setCurrentIndex(combo.findText("categorical_crossentropy"))
    assert window.controller.project.compile.loss.type == "categorical_crossentropy"
    assert window.compile_panel.loss.help.text().startswith("Use when: Several classes")
    view = window.compile_panel.loss_findings
    assert view.isVisibleTo(window.compile_panel)
    labels = [b.text() for b in view.fix_buttons()]
    assert "Use sparse_categorical_crossentropy" in labels
    view.fix_buttons()[labels.index("Use sparse_categorical_crossentropy")].click()
    assert window.controller.project.compile.loss.type == "sparse_categorical_crossentropy"
    assert combo.currentText() == "sparse_categorical_crossentropy"
    assert 'loss="sparse_categorical_crossentropy"' in code(window)
    assert not window.compile_panel.loss_findings.findings


def test_input_shape_row_is_editable(qtbot, window):
    model = window.stack_model
    index = model.index(0, COL_SHAPE)
    assert model.flags(index) & Qt.ItemFlag.ItemIsEditable
    window.table.edit(index)
    editor = window.table.findChild(QLineEdit)
    assert editor is not None and editor.text() == "2"
    editor.selectAll()
    qtbot.keyClicks(editor, "3")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    qtbot.waitUntil(lambda: window.controller.project.model.input_shape == (3,), timeout=2000)
    assert cell(window, 0, COL_SHAPE) == "(None, 3)"
    assert cell(window, 1, COL_PARAMS) == "32"  # 3*8 + 8
    assert "keras.Input(shape=(3,))" in code(window)
    assert not model.setData(index, "0", Qt.ItemDataRole.EditRole)
    assert "whole number >= 1" in (model.last_problem or "")
    # and through the inspector's editor, with the reason for a refusal shown
    window.table.select_rows([0])
    edit = window.inspector.input_editor.edit
    edit.setFocus()
    edit.selectAll()
    qtbot.keyClicks(edit, "2, a")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.inspector.input_editor.problem.isVisible()
    assert window.controller.project.model.input_shape == (3,)
    edit.selectAll()
    qtbot.keyClicks(edit, "2")
    qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert window.controller.project.model.input_shape == (2,)
    assert "Total params: 105" in window.totals.text()


def test_shape_mismatch_with_data_offers_fix(window):
    window.controller.set_input_shape((4,))
    buttons = [b for b in window.all_findings.fix_buttons() if "input shape" in b.text()]
    assert buttons
    buttons[0].click()
    assert window.controller.project.model.input_shape == (2,)


def test_row_explanation_in_words(window):
    window.table.select_rows([2])
    assert "8 inputs x 8 units + 8 biases = 72" in window.row_explain.text()
    assert "72" in window.inspector.explain.text()


def test_optimizer_learning_rate_and_metrics(qtbot, window):
    panel = window.compile_panel
    panel.optimizer.combo.setCurrentIndex(panel.optimizer.combo.findData("SGD"))
    assert window.controller.project.compile.optimizer.type == "SGD"
    assert 'optimizer="sgd"' in code(window)
    field = panel.optimizer.form_for("SGD").fields["learning_rate"]
    assert field.slider is not None
    field.slider.setValue(-40)  # 10 ** (-40 / 20) = 0.01, the default: nothing stored
    assert window.controller.project.compile.optimizer.args == {}
    field.slider.setValue(-50)
    assert window.controller.project.compile.optimizer.args == {"learning_rate": 0.00316}
    assert "keras.optimizers.SGD(learning_rate=0.00316)" in code(window)
    assert field.spin.value() == pytest.approx(0.00316)
    type_into_spin(qtbot, field.spin, "-1", finish=False)
    problem = panel.optimizer.form_for("SGD").problems["learning_rate"].text().lower()
    assert "expected a number > 0, got -1" in problem
    metrics = panel.metrics
    auc = next(metrics.item(i) for i in range(metrics.count()) if metrics.item(i).text() == "auc")
    auc.setCheckState(Qt.CheckState.Checked)
    assert [m.type for m in window.controller.project.compile.metrics] == ["accuracy", "auc"]
    assert 'metrics=["accuracy", "auc"]' in code(window)
    window.act_undo.trigger()
    assert [m.type for m in window.controller.project.compile.metrics] == ["accuracy"]
    assert auc.checkState() == Qt.CheckState.Unchecked
    window.act_undo.trigger()
    window.act_undo.trigger()
    assert window.controller.project.compile.optimizer.type == "Adam"
    assert panel.optimizer.combo.currentData() == "Adam"


def test_data_panel_source_and_split(qtbot, window):
    panel = window.data_panel
    panel.source.setCurrentIndex(panel.source.findData("spiral"))
    assert window.controller.project.data["source"] == "spiral"
    assert "spiral" in panel.status.text()
    assert panel.form.fields["classes"].isEnabled()
    type_into_spin(qtbot, panel.form.fields["validation_split"].spin, "0.3")
    assert window.controller.project.data["validation_split"] == 0.3
    type_into_spin(qtbot, panel.form.fields["noise"].spin, "9", finish=False)
    assert "expected a number >= 0 and <= 5, got 9" in panel.form.problems["noise"].text().lower()
    panel.source.setCurrentIndex(panel.source.findData("circle"))
    assert not panel.form.fields["classes"].isEnabled()
    window.act_undo.trigger()
    assert window.controller.project.data["source"] == "spiral"


def test_data_preview_scatter(qtbot, window):
    qtbot.waitUntil(lambda: window.data_panel.plot is not None, timeout=5000)
    points = window.data_panel.scatter.data
    assert len(points) == len(window.controller.dataset.x_train) == 400
    window.controller.set_data({"source": "digits"})
    window.controller.wait_for_data()
    qtbot.waitUntil(lambda: not window.controller.data_loading, timeout=10000)
    assert "No preview" in window.data_panel.preview_note.text()


def test_csv_file_with_column_choice(qtbot, window, tmp_path, monkeypatch):
    path = tmp_path / "points.csv"
    rows = ["a,b,noise,label"] + [f"{i % 7},{i % 5},{i % 3},{'yes' if i % 2 else 'no'}"
                                  for i in range(40)]
    path.write_text("\n".join(rows) + "\n")
    window.show_setup_tab(1)
    panel = window.data_panel
    monkeypatch.setattr(panel, "choose_file", lambda kind: str(path))
    panel.source.setCurrentIndex(panel.source.findData("csv"))
    window.controller.wait_for_data()
    qtbot.waitUntil(lambda: window.controller.dataset is not None, timeout=10000)
    assert panel.columns.isVisible()
    assert panel.target.currentText() == "label"
    assert [panel.features.item(i).text() for i in range(panel.features.count())] == ["a", "b", "noise"]
    panel.features.item(2).setCheckState(Qt.CheckState.Unchecked)
    assert window.controller.project.data["features"] == ["a", "b"]
    window.controller.wait_for_data()
    qtbot.waitUntil(lambda: window.controller.dataset is not None, timeout=10000)
    assert window.controller.dataset.x_train.shape[1] == 2


def test_fit_panel_epochs_callbacks_class_weight(qtbot, window):
    panel = window.fit_panel
    type_into_spin(qtbot, panel.form.fields["epochs"].spin, "20")
    assert window.controller.project.fit["epochs"] == 20
    assert "epochs=20" in code(window)
    panel.add_callback("EarlyStopping")
    assert "keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)" in code(window)
    form = panel._forms["EarlyStopping"]
    type_into_spin(qtbot, form.fields["patience"].spin, "3")
    assert "EarlyStopping(patience=3" in code(window)
    panel.class_weight.setCurrentIndex(panel.class_weight.findData("balanced"))
    assert window.controller.project.fit["class_weight"] == "balanced"
    assert "class_weight=class_weight" in code(window)
    panel.virtual.setChecked(True)
    assert window.controller.project.fit["virtual_epochs"] == {"stop_point": 1.0, "checkpoints": 10}
    assert "steps_per_epoch=steps_per_epoch" in code(window)
    panel.remove_button.click()
    assert "EarlyStopping" not in code(window)


def test_code_pane_copy_and_marks_changed_lines(window):
    window.table.select_layers([0])
    window.inspector.form().fields["units"].spin.setValue(16)
    assert window.code_pane.editor.extraSelections()  # the changed line is highlighted
    window.code_pane.copy_button.click()
    assert QApplication.clipboard().text() == model_code(window.controller.project)


def test_open_bad_file_keeps_project(window, tmp_path):
    bad = tmp_path / "broken.layerlab.json"
    bad.write_text('{"format": "layerlab-project", "version": 1, "model": ')
    before = window.controller.project
    assert not window.open_path(bad)
    assert window.controller.project == before
    assert window.last_dialog is not None and "not valid JSON" in window.last_dialog.text()
    window.last_dialog.close()


def test_save_open_title_and_recent(window, tmp_path, isolated_settings):
    window.table.select_layers([0])
    window.inspector.form().fields["units"].spin.setValue(16)
    assert "*" in window.windowTitle()
    target = tmp_path / "mine.layerlab.json"
    assert window.save_to(target)
    assert "*" not in window.windowTitle() and "mine.layerlab.json" in window.windowTitle()
    assert load_project(target) == window.controller.project
    window.new_project()
    assert window.controller.project.name == "Untitled"
    assert window.open_path(target)
    assert window.controller.project.model.layers[0].args["units"] == 16
    assert not window.act_undo.isEnabled()  # opening starts a fresh history
    window._fill_recent()
    assert [a.data() for a in window.recent_menu.actions()] == [str(target.resolve())]
    assert (isolated_settings / "layerlab.ini").exists()


def test_settings_are_isolated_and_restore_layout(qtbot, isolated_settings, monkeypatch):
    from gui_app.ui.main_window import MainWindow
    from gui_app.ui.settings import app_settings

    assert Path(app_settings().fileName()).parent == isolated_settings
    first = MainWindow(load_keras=False)
    qtbot.addWidget(first)
    first.show()
    qtbot.waitExposed(first)
    first.resize(first.width(), 613)  # the offscreen screen is small: change the height
    first.code_dock.hide()
    first.close()
    ini = (isolated_settings / "layerlab.ini").read_text()
    assert "geometry" in ini and "windowState" in ini
    second = MainWindow(load_keras=False)
    qtbot.addWidget(second)
    assert second.size().height() == 613
    second.show()
    qtbot.waitExposed(second)
    assert not second.code_dock.isVisible()
    second.reset_layout()
    assert second.code_dock.isVisible()


def test_keras_loads_in_background_and_reports(qtbot, window):
    synced = []

    def fake_import() -> str:
        return "9.9.9"

    def fake_sync() -> list[str]:
        synced.append(True)
        return []

    # The stand-in importer replaces the engine: keep the real engine's hello out of it.
    window.engine_link.ready.disconnect(window._on_engine_ready)
    window.start_keras_loading(importer=fake_import, sync=fake_sync)
    assert window.keras_label.text() in ("Loading Keras...", "Keras 9.9.9 ready")
    with qtbot.waitSignal(window.kerasReady, timeout=5000):
        pass
    assert window.keras_label.text() == "Keras 9.9.9 ready"
    assert synced == [True] and window.keras_ready
    assert window.wait_for_keras(5000)


def test_keras_failure_is_explained(qtbot, window):
    def broken() -> str:
        raise ImportError("No module named 'tensorflow'")

    window.start_keras_loading(importer=broken, sync=list)
    qtbot.waitUntil(lambda: window.keras_label.text() == "Keras could not be loaded", timeout=20_000)
    assert "Expected Keras and TensorFlow to import" in window.keras_label.toolTip()
    assert window.wait_for_keras(20_000)


def test_drag_moves_rows_in_the_view(qtbot, window):
    # The view's own drop path: a drop event carrying rows lands where it is released.
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDropEvent

    table = window.table
    mime = QMimeData()
    mime.setData(MIME_LAYER_ROWS, json.dumps([2]).encode())
    rect = table.visualRect(window.stack_model.index(1, 0))
    pos = QPointF(rect.center().x(), rect.top() + 1)  # the top edge of layer 0's row
    event = QDropEvent(pos, Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    table.dropEvent(event)
    assert [a["activation"] for a in layer_args(window)] == ["sigmoid", "relu", "relu"]
    assert window.selected_layers() == [0]


def test_closing_while_keras_loads_waits_cleanly(qtbot, isolated_settings):
    import threading

    from gui_app.ui.main_window import MainWindow

    release = threading.Event()

    def slow_import() -> str:
        release.wait(5)
        return "9.9.9"

    win = MainWindow(load_keras=False)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitExposed(win)
    win.start_keras_loading(importer=slow_import, sync=list, plotting=lambda: None)
    assert win.keras_label.text() == "Loading Keras..." and win.keras_busy.isVisible()
    threading.Timer(0.2, release.set).start()
    win.close()  # waits for the import: its results must not reach a torn-down window
    assert win._keras_thread is not None and not win._keras_thread.thread.is_alive()
