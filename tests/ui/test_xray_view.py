"""The X-ray view draws a `LayerOutputs`: bars per unit with the dead ones marked,
feature maps per channel (then "+N more"), the output layer as named probabilities, a
left-out layer's note, and a clear state. No Keras: the results are made by hand."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QLabel

from gui_app.core.xray import LayerOutputs
from gui_app.ui.xray_view import MAX_CHANNELS, FeatureMaps, ProbabilityBars, UnitBars, XRayView


def _dense_result() -> LayerOutputs:
    hidden = np.array([0.5, 0.0, 1.2, 0.0, 0.3, 0.7, 0.0, 2.0], np.float32)
    return LayerOutputs(("dense", "dense_1", "dense_2"), ("Dense", "Dense", "Dense"),
                        ("relu", "tanh", "sigmoid"), ((8,), (4,), (1,)),
                        (hidden, np.array([-0.5, 0.25, 0.9, -0.1], np.float32),
                         np.array([0.8], np.float32)), ("", "", ""))


def test_dense_layers_are_bars_per_unit_with_the_dead_ones_marked(qtbot) -> None:
    view = XRayView()
    qtbot.addWidget(view)
    view.set_class_names(["outer ring", "inner disk"])
    view.show_outputs(_dense_result(), "At (0.3, -0.7)")
    view.resize(1024, 600)
    view.show()
    assert view.title.text() == "At (0.3, -0.7)" and len(view.rows) == 3
    bars = view.rows[0].body
    assert isinstance(bars, UnitBars) and len(bars.values) == 8
    assert bars.dead == [1, 3, 6]
    assert "3 of 8 units output 0" in view.rows[0].head.text()
    slot = bars._slot()
    assert "dead for this input" in bars.tip_at(4 + 1.5 * slot)
    assert bars.tip_at(4 + 0.5 * slot) == "unit 0: 0.5"
    assert view.rows[1].body.dead == []  # negative outputs are not dead
    out = view.rows[2].body
    assert isinstance(out, ProbabilityBars) and out.probabilities
    assert out.labels == ["outer ring", "inner disk"]
    np.testing.assert_allclose(out.values, [0.2, 0.8], atol=1e-6)
    assert out.text_of(1) == "80.0 %"
    view.grab()  # paints every row without error


def test_feature_maps_are_pictures_per_channel_then_counted(qtbot) -> None:
    maps = np.random.default_rng(0).random((6, 6, 20)).astype(np.float32)
    maps[..., 2] = 0.0
    result = LayerOutputs(("conv2d", "dense"), ("Conv2D", "Dense"), ("relu", "softmax"),
                          ((6, 6, 20), (3,)), (maps, np.array([0.1, 0.7, 0.2], np.float32)),
                          ("", ""))
    view = XRayView()
    qtbot.addWidget(view)
    view.show_outputs(result, "Digit")
    view.resize(420, 700)
    view.show()
    fm = view.rows[0].body
    assert isinstance(fm, FeatureMaps) and len(fm.tiles) == MAX_CHANNELS
    assert fm.more is not None and fm.more.text() == "+4 more"
    assert fm.dead == [2] and "dead for this input" in fm.tiles[2].toolTip()
    pixmap = fm.tiles[0].pixmap()
    assert not pixmap.isNull() and pixmap.width() >= 6
    assert view.scroll.horizontalScrollBar().maximum() == 0  # no sideways scrolling
    out = view.rows[1].body
    assert out.labels == ["class 0", "class 1", "class 2"] and out.text_of(1) == "70.0 %"
    view.grab()


def test_logits_become_probabilities_and_left_out_layers_say_why(qtbot) -> None:
    result = LayerOutputs(("flat", "logits"), ("Flatten", "Dense"), ("", ""),
                          ((200_000,), (2,)), (np.empty(0, np.float32),
                                               np.array([0.0, np.log(3.0)], np.float32)),
                          ("200,000 numbers: too many to show", ""))
    view = XRayView()
    qtbot.addWidget(view)
    view.set_class_names(["a", "b"], from_logits=True)
    view.show_outputs(result)
    note = view.rows[0].body
    assert isinstance(note, QLabel) and "too many" in note.text()
    np.testing.assert_allclose(view.rows[1].body.values, [0.25, 0.75], atol=1e-6)


def test_clear_and_a_result_without_layers_show_a_sentence(qtbot) -> None:
    view = XRayView()
    qtbot.addWidget(view)
    view.show_outputs(_dense_result())
    view.clear("Train the model first.")
    assert view.rows == [] and view.result is None
    assert view.message.text() == "Train the model first." and view.scroll.isHidden()
    view.show_outputs(LayerOutputs(note="The model has no layers to show."))
    assert "no layers" in view.message.text() and view.rows == []
