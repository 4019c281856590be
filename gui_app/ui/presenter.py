"""Present mode (View > Present, F5): the training view fills the screen for a class.

On a projector the editing panels are noise and the plots are too small to read from the
back of the room. Presenting

* puts the window full screen and hides the menu bar, the status bar and every dock but
  Training, whose title bar goes too: the plots and the decision boundary take the screen;
* replaces the model table with a one-line strip, e.g.
  ``2 → Dense 8 tanh → Dense 1 sigmoid · 105 parameters``, built from the project and its
  summary, so the class still sees what is being trained;
* leaves every lesson control on the keyboard: the training actions are window shortcuts
  (Ctrl+Return train, Space pause, Esc stop, F10 step, Ctrl+Shift+Return continue), and
  so are F5 and the text size keys (Ctrl++ / Ctrl+- / Ctrl+0).

Esc has two jobs, split by the run state: while a run is going it stops the run (the
training panel's Stop), otherwise it leaves present mode. A second Esc after stopping
therefore leaves, and a run is never left running unseen. F5 always leaves.

Leaving restores the exact previous layout: docks, their sizes, the window's size and
full-screen state, the model/checks divider (saveState / restoreState).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QRect, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from ..core.spec import Project
from ..core.summary import Summary
from .stack_model import layer_settings_text
from .text_scale import relative_font

if TYPE_CHECKING:  # the window imports this module
    from .main_window import MainWindow

ARROW = " \u2192 "
#: Restoring the layout again this long after leaving: a window manager resizes a window
#: that leaves full screen some time after it is asked to, and docks sized before that
#: would be sized for the full screen.
SETTLE_MS = 250


def shape_text(shape: Sequence[int | None]) -> str:
    """An input shape as a person says it: 2, 28×28×1, ?×8 (None is any length)."""
    return "\u00d7".join("?" if d is None else str(d) for d in shape) or "?"


def model_line(project: Project, summary: Summary) -> str:
    """The model on one line: ``2 → Dense 8 tanh → Dense 1 sigmoid · 105 parameters``."""
    parts = [shape_text(project.model.input_shape)]
    for layer in project.model.layers:
        settings = layer_settings_text(layer).replace(", ", " ")
        parts.append(f"{layer.type} {settings}".strip())
    if summary.ok:
        count = f"{summary.total_params:,} parameter" + ("" if summary.total_params == 1 else "s")
    else:
        count = "parameters not counted (a layer has an error)"
    return ARROW.join(parts) + " \u00b7 " + count


class ModelStrip(QFrame):
    """The model as one line above the training view, with a way out for the mouse."""

    leaveRequested = Signal()

    def __init__(self, controller: QObject, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelStrip")
        self.controller = controller
        self.label = QLabel()
        self.label.setObjectName("modelStripText")
        self.label.setWordWrap(True)  # a long model takes two lines, never the window's width
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        relative_font(self.label, 1.2, bold=True)
        self.leave_button = QPushButton("Leave (F5)")
        self.leave_button.setObjectName("leavePresentation")
        self.leave_button.setToolTip("Back to the editor, every panel where it was (F5; Esc "
                                     "when no run is going).")
        self.leave_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space must reach Pause
        self.leave_button.clicked.connect(self.leaveRequested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.leave_button, 0, Qt.AlignmentFlag.AlignTop)
        # As tall as its text: the training view below takes all the rest of the screen.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        controller.derivedChanged.connect(self.refresh)  # type: ignore[attr-defined]
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        c = self.controller
        self.label.setText(f"{c.project.name}:  "  # type: ignore[attr-defined]
                           + model_line(c.project, c.summary))  # type: ignore[attr-defined]

    @property
    def text(self) -> str:
        return self.label.text()


@dataclass
class _SavedLayout:
    """What present mode changes, as it was before."""

    state: QByteArray
    geometry: QRect  # the normal (not maximised, not full screen) geometry
    window_state: Qt.WindowState
    splitter: QByteArray
    menu_bar: bool
    status_bar: bool
    focus: QWidget | None


class Presenter(QObject):
    """Enters and leaves present mode for a MainWindow (see the module's docstring).

    Signals:
        activeChanged(bool): present mode was entered (True) or left (False).
    """

    activeChanged = Signal(bool)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.active = False
        self._saved: _SavedLayout | None = None
        self._center: QWidget | None = None
        self._no_title: QWidget | None = None
        self.strip = ModelStrip(window.controller)
        self.strip.hide()
        self.strip.leaveRequested.connect(self.leave)

        self.act_present = QAction("&Present", window)
        self.act_present.setObjectName("actPresent")
        self.act_present.setCheckable(True)
        self.act_present.setShortcut(QKeySequence("F5"))
        self.act_present.setToolTip("Show the training view full screen, for a class (F5; "
                                    "F5 again or Esc leaves)")
        self.act_present.setStatusTip("Show the training view full screen, for a class")
        self.act_present.triggered.connect(self.toggle)
        # Esc leaves only while no run is going: then the Stop action (also Esc) is
        # disabled, so the two never compete for the key.
        self.act_leave = QAction("Leave Presentation", window)
        self.act_leave.setObjectName("actLeavePresentation")
        self.act_leave.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.act_leave.setEnabled(False)
        self.act_leave.triggered.connect(self.leave)
        # On the window, not only in a menu: the menu bar is hidden while presenting, and
        # a hidden menu bar's shortcuts stop working.
        window.addAction(self.act_present)
        window.addAction(self.act_leave)
        window.training.stateChanged.connect(self._update_leave)

    # -- public ------------------------------------------------------------------------------

    @Slot()
    def toggle(self) -> None:
        if self.active:
            self.leave()
        else:
            self.enter()

    def enter(self, full_screen: bool = True) -> None:
        """Shows the training view alone (full screen unless `full_screen` is False)."""
        if self.active:
            return
        w = self.window
        self._saved = _SavedLayout(
            state=w.saveState(), geometry=w.normalGeometry(), window_state=w.windowState(),
            splitter=w.center_splitter.saveState(), menu_bar=not w.menuBar().isHidden(),
            status_bar=not w.statusBar().isHidden(), focus=QApplication.focusWidget())
        # The model and the checks step aside for the strip; taken, not deleted, they come
        # back as they were.
        self._center = w.takeCentralWidget()
        w.setCentralWidget(self.strip)
        self.strip.refresh()
        self.strip.show()
        for dock in w.docks:
            if dock is not w.training_dock:
                dock.hide()
        dock = w.training_dock
        if dock.isFloating():
            dock.setFloating(False)
        if w.dockWidgetArea(dock) != Qt.DockWidgetArea.BottomDockWidgetArea:
            w.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        dock.show()
        dock.raise_()
        # No title bar: a class needs no close button, and it gives the plots a line.
        self._no_title = QWidget()
        dock.setTitleBarWidget(self._no_title)
        w.menuBar().hide()
        w.statusBar().hide()
        self.active = True
        self.act_present.setChecked(True)
        self._update_leave()
        if full_screen:
            w.showFullScreen()
        self._fill()
        QTimer.singleShot(0, self._fill)
        QTimer.singleShot(SETTLE_MS, self._fill)
        w.training_area.setFocus()  # Space, Esc and the other keys reach the window
        self.activeChanged.emit(True)

    @Slot()
    def leave(self) -> None:
        """Puts every panel, the window's size and its full-screen state back."""
        if not self.active or self._saved is None:
            return
        w, saved = self.window, self._saved
        self.active = False
        self.act_present.setChecked(False)
        self._update_leave()
        w.training_dock.setTitleBarWidget(None)
        if self._no_title is not None:
            self._no_title.deleteLater()
            self._no_title = None
        w.takeCentralWidget()  # the strip, kept for next time
        self.strip.hide()
        if self._center is not None:
            w.setCentralWidget(self._center)
            self._center = None
        w.menuBar().setVisible(saved.menu_bar)
        w.statusBar().setVisible(saved.status_bar)
        # The state first (out of full screen), then the exact normal geometry: unlike
        # restoreGeometry, setGeometry does not move a window that is partly off screen.
        w.setWindowState(saved.window_state)
        if not saved.window_state & (Qt.WindowState.WindowMaximized
                                     | Qt.WindowState.WindowFullScreen):
            w.setGeometry(saved.geometry)
        self._restore_layout()
        QTimer.singleShot(0, self._restore_layout)
        QTimer.singleShot(SETTLE_MS, self._restore_layout)
        try:
            if saved.focus is not None and saved.focus.isVisible():
                saved.focus.setFocus()
        except RuntimeError:  # the widget that had the focus is gone (a form rebuilt)
            pass
        self.activeChanged.emit(False)

    # -- internals ---------------------------------------------------------------------------

    @Slot()
    def _fill(self) -> None:
        """All the height to the training view (the strip is only as tall as its text)."""
        if self.active:
            w = self.window
            w.resizeDocks([w.training_dock], [w.height()], Qt.Orientation.Vertical)

    @Slot()
    def _restore_layout(self) -> None:
        if self.active or self._saved is None:
            return  # entered again meanwhile
        w = self.window
        w.restoreState(self._saved.state)
        w.center_splitter.restoreState(self._saved.splitter)

    @Slot()
    def _update_leave(self, _state: str = "") -> None:
        self.act_leave.setEnabled(self.active and not self.window.training.running)
