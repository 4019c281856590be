"""The window fits a classroom's small screens: 1024x768 and 1280x720.

A teacher found a window that would not shrink below about 1171x768, that grew to
1350 px wide when a check quoted a long path, and a model table squeezed to a row and a
half while training. These tests hold the window to the small sizes, with the training
view's plots made (they have minimum sizes of their own) and the data loaded.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtWidgets import QApplication, QToolButton, QWidget

from gui_app.core.spec import ObjectSpec
from gui_app.ui.stack_model import MIN_VISIBLE_ROWS

SMALL_SCREENS = [(1024, 768), (1280, 720)]
#: What a window may ask for at least: under both small screens with room to spare.
MAX_MINIMUM = QSize(1000, 700)


def ready(qtbot, window) -> None:
    """The window as a person sees it after a moment: data loaded, plots made."""
    window.controller.wait_for_data()
    window.training_panel.ensure_views()
    qtbot.wait(30)


def fits(window) -> None:
    for hint in (window.minimumSizeHint(), window.minimumSize()):
        assert hint.width() <= MAX_MINIMUM.width() and hint.height() <= MAX_MINIMUM.height(), \
            f"expected a minimum within {MAX_MINIMUM.toTuple()}, got {hint.toTuple()}"


def visible_rows(window) -> float:
    table = window.table
    return table.viewport().height() / table.verticalHeader().defaultSectionSize()


@pytest.mark.parametrize("size", SMALL_SCREENS)
def test_the_window_takes_a_small_screen_size(qtbot, window, size):
    ready(qtbot, window)
    fits(window)
    window.resize(*size)
    qtbot.wait(30)
    assert window.size() == QSize(*size)  # no minimum forced it bigger
    for tab in range(3):  # the Compile, Data and Fit forms have minimum widths
        window.show_setup_tab(tab)
        qtbot.wait(10)
        fits(window)
        assert window.size() == QSize(*size)


def test_a_long_finding_wraps_instead_of_widening_the_window(qtbot, window):
    ready(qtbot, window)
    window.resize(1024, 768)
    qtbot.wait(30)
    path = "/home/teacher/" + "a_rather_long_folder_name/" * 6 + "best_model_so_far.keras"
    spec = ObjectSpec("ModelCheckpoint", {"filepath": path})
    window.controller.set_fit({"callbacks": [spec.to_json()]}, "Add a checkpoint")
    assert any(f.code == "writes-outside" for f in window.controller.findings)
    window.show_setup_tab(2)  # the Fit panel lists the finding too
    qtbot.wait(50)
    fits(window)
    assert window.size() == QSize(1024, 768)
    # The Fit panel's forms keep the panel's width; they are not pushed out of view.
    panel = window.fit_panel
    assert panel.widget().width() <= panel.viewport().width()
    # The message wraps onto several lines in the checks below the model.
    card = window.all_findings.cards[-1]
    message = next(w for w in card.findChildren(type(window.totals))
                   if w.objectName() == "findingMessage")
    assert message.height() >= 2 * message.fontMetrics().lineSpacing()
    # The checks area grew for it (up to its share), the table kept its five rows.
    assert window.checks_area.height() > window.checks_area.minimumSizeHint().height()
    assert visible_rows(window) >= MIN_VISIBLE_ROWS


@pytest.mark.parametrize("size", SMALL_SCREENS)
def test_the_table_keeps_five_rows_during_a_run(qtbot, window, size):
    ready(qtbot, window)
    window.resize(*size)
    qtbot.wait(30)
    window.training.set_state("running")
    try:
        window._make_room_for_training()  # what the panel asks for as a run starts
        qtbot.wait(50)
        assert window.size() == QSize(*size)
        assert visible_rows(window) >= MIN_VISIBLE_ROWS
        # The training view got the room it needs: no scroll bar over the plots.
        scroll = window.training_scroll
        assert scroll.viewport().height() >= window.training_area.minimumSizeHint().height()
        assert not scroll.verticalScrollBar().isVisible()
        # No findings: "No problems found" gives its lines to the run (a run only starts
        # without errors), where it took half the centre before.
        assert not window.controller.findings and window.checks_area.isHidden()
    finally:
        window.training.set_state("idle")
    qtbot.wait(50)
    assert window.checks_area.isVisible()
    assert window.checks_area.height() <= window.checks_area.wanted_height() + 2


class _Resizes(QObject):
    """Records the resize events one widget receives: the size, and whether its dock was
    off-screen (behind another tab) then."""

    def __init__(self, widget, dock) -> None:
        super().__init__(widget)
        self.dock = dock
        self.seen: list[tuple[tuple[int, int], bool]] = []
        widget.installEventFilter(self)

    def eventFilter(self, _obj, event) -> bool:  # noqa: N802 - Qt's name
        if event.type() == QEvent.Type.Resize:
            self.seen.append((event.size().toTuple(), self.dock.visibleRegion().isEmpty()))
        return False


def test_a_new_persons_first_run_lays_the_training_view_out_once(qtbot, window):
    """The Training tab starts behind the Code tab. At the first Train the bottom area
    grows with the code in front; the training view is then laid out off-screen at the
    size it will show at, and only painted when its tab comes forward: laid out at the
    old size and again at the new one, in one frame, it froze the window for 40-80 ms."""
    ready(qtbot, window)
    dock = window.training_dock
    assert dock.visibleRegion().isEmpty()  # behind the Code tab
    view = window.training_area.findChild(QWidget, "metricPlotsView")
    resizes = _Resizes(view, dock)
    settings_at_raise: list[bool] = []
    dock.visibilityChanged.connect(
        lambda shown: shown and settings_at_raise.append(window.setup_tabs.isEnabled()))
    try:
        window.training_panel.wantsRoom.emit()  # what Train asks for, then it locks
        window.training.set_state("running")
        # Not yet: the tab comes forward after the area has grown.
        assert dock.visibleRegion().isEmpty() and not resizes.seen
        assert not window.table.isEnabled()  # the model greys at once
        qtbot.waitUntil(lambda: not window.setup_tabs.isEnabled(), timeout=2000)
        qtbot.wait(50)
        assert settings_at_raise == [True]  # the settings grey on the frame after
        # One layout, off-screen, at the size the view shows at.
        assert resizes.seen == [(view.size().toTuple(), True)]
        assert dock.height() >= 0.45 * window.height()
        assert not window.training_scroll.verticalScrollBar().isVisible()
    finally:
        window.training.set_state("idle")
    assert window.setup_tabs.isEnabled()  # the unlock is immediate


def test_the_checks_area_is_sized_to_its_findings(qtbot, window):
    ready(qtbot, window)
    window.resize(1280, 720)
    qtbot.wait(50)
    area = window.checks_area
    assert not window.controller.findings
    assert area.height() <= area.wanted_height() + 2
    assert window.table.height() > area.height()  # the table has the rest


def test_reset_layout_puts_every_dock_back_sized_for_1280x720(qtbot, window):
    ready(qtbot, window)
    window.resize(1280, 720)
    qtbot.wait(30)
    window.palette_dock.setFloating(True)
    window.code_dock.hide()
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.training_dock)
    window.center_splitter.setSizes([40, 600])
    window.act_reset_layout.trigger()
    qtbot.wait(50)
    assert window.size() == QSize(1280, 720)
    areas = {window.palette_dock: Qt.DockWidgetArea.LeftDockWidgetArea,
             window.inspector_dock: Qt.DockWidgetArea.RightDockWidgetArea,
             window.setup_dock: Qt.DockWidgetArea.RightDockWidgetArea,
             window.code_dock: Qt.DockWidgetArea.BottomDockWidgetArea,
             window.training_dock: Qt.DockWidgetArea.BottomDockWidgetArea}
    for dock, area in areas.items():
        assert not dock.isFloating() and not dock.isHidden(), dock.objectName()
        assert window.dockWidgetArea(dock) == area, dock.objectName()
    assert window.tabifiedDockWidgets(window.code_dock) == [window.training_dock]
    assert visible_rows(window) >= MIN_VISIBLE_ROWS
    assert window.palette_dock.width() <= 0.2 * 1280
    # The training tab has the width for its whole tool bar: nothing in the overflow menu.
    window.training_dock.raise_()
    qtbot.wait(30)
    toolbar = window.training_panel.toolbar
    extension = toolbar.findChild(QToolButton, "qt_toolbar_ext_button")
    assert extension is None or not extension.isVisible()
    assert window.training_panel.runs_button.isVisible()


def test_text_scale_changes_the_app_font_and_is_remembered(qtbot, window, isolated_settings):
    from gui_app.ui.main_window import MainWindow
    from gui_app.ui.text_scale import text_scale

    scale = text_scale()
    normal = QApplication.font().pointSizeF()
    seen: list[float] = []
    scale.scaleChanged.connect(seen.append)
    try:
        window.act_larger_text.trigger()
        window.act_larger_text.trigger()
        assert scale.factor == pytest.approx(1.3)
        assert seen == [pytest.approx(1.15), pytest.approx(1.3)]
        assert QApplication.font().pointSizeF() == pytest.approx(normal * 1.3, abs=0.01)
        qtbot.wait(10)  # the new font reaches the widgets through the event loop
        assert window.table.font().pointSizeF() == pytest.approx(normal * 1.3, abs=0.01)
        title = window.findChild(type(window.totals), "modelTitle")
        assert title.font().pointSizeF() == pytest.approx(normal * 1.3 * 1.15, abs=0.05)
        for _ in range(10):
            window.act_larger_text.trigger()
        assert scale.factor == 2.0 and not window.act_larger_text.isEnabled()
        window.act_smaller_text.trigger()
        assert scale.factor == pytest.approx(1.75)
        # Remembered: a new window starts at the same size.
        again = MainWindow(load_keras=False)
        qtbot.addWidget(again)
        assert again.text_scale.factor == pytest.approx(1.75)
        assert QApplication.font().pointSizeF() == pytest.approx(normal * 1.75, abs=0.01)
        again.act_normal_text.trigger()
        assert QApplication.font().pointSizeF() == pytest.approx(normal, abs=0.01)
        assert not again.act_smaller_text.isEnabled()
    finally:
        scale.scaleChanged.disconnect(seen.append)
        scale.reset()  # the application outlives the test


@pytest.mark.parametrize("size", SMALL_SCREENS)
def test_the_boundary_plot_stays_above_its_slider_row(qtbot, window, size):
    """At 1024x768 the header wraps to three lines; the plot, held to a tall minimum,
    was drawn under the slider row there, which hid its x-axis title."""
    ready(qtbot, window)
    window.resize(*size)
    window.training.set_state("running")
    try:
        window._make_room_for_training()
        boundary = window.training_panel.boundary
        boundary.header.setText(
            "P(class 'inner disk') over the two inputs, P = 0.5 as a line; filled: "
            "training, hollow: validation. Click to predict a point.")
        qtbot.wait(50)
        assert boundary.plot.geometry().bottom() < boundary.slider.geometry().top()
        assert boundary.header.geometry().bottom() < boundary.plot.geometry().top()
    finally:
        window.training.set_state("idle")


@pytest.mark.parametrize("size", SMALL_SCREENS)
def test_a_guided_lesson_fits_and_keeps_the_tables_rows(qtbot, window, size):
    """A guided lesson's banner (text, step, buttons, locks) at the small sizes: the
    window keeps its size and the model table its five rows, before and during a run,
    with the step and its buttons on screen throughout."""
    from gui_app.resources import examples_dir

    assert window.files.open_example(examples_dir() / "02a_circle.layerlab.json",
                                     confirm=False)
    ready(qtbot, window)
    window.resize(*size)
    qtbot.wait(50)
    fits(window)
    assert window.size() == QSize(*size)
    panel = window.files.lesson_panel
    steps = panel.steps
    assert panel.text.isVisible() and steps.isVisible() and steps.next_button.isVisible()
    assert visible_rows(window) >= MIN_VISIBLE_ROWS
    steps.next_button.click()  # the longest step text of the lesson wraps: still fits
    qtbot.wait(30)
    assert window.size() == QSize(*size) and visible_rows(window) >= MIN_VISIBLE_ROWS
    window.training.set_state("running")
    try:
        window._make_room_for_training()
        qtbot.wait(50)
        assert window.size() == QSize(*size)
        assert visible_rows(window) >= MIN_VISIBLE_ROWS
        assert not panel.text.isVisible() and steps.isVisible()  # folded: the step stays
        bottom = steps.next_button.mapTo(window, steps.next_button.rect().bottomLeft()).y()
        assert bottom < window.table.mapTo(window, window.table.rect().topLeft()).y()
    finally:
        window.training.set_state("idle")


def test_a_label_with_a_style_sheet_follows_the_text_scale(qtbot):
    """Qt resolves a style-sheeted widget's font once; the scale makes it resolve again."""
    from PySide6.QtWidgets import QLabel

    from gui_app.ui.text_scale import text_scale

    label = QLabel("coloured")
    label.setStyleSheet("color: #b00020; font-weight: bold")
    qtbot.addWidget(label)
    label.show()
    scale = text_scale()
    normal = scale.base_point_size
    try:
        scale.set_factor(1.5)
        qtbot.wait(10)
        assert label.font().pointSizeF() == pytest.approx(normal * 1.5, abs=0.05)
        assert label.font().bold()  # the sheet's own rules stay
    finally:
        scale.set_factor(1.0)
    qtbot.wait(10)
    assert label.font().pointSizeF() == pytest.approx(normal, abs=0.05)
