"""The device picker: where training runs (CPU, one GPU, all GPUs), in the status bar and
the Training menu, with "CPU only, and why" when TensorFlow sees no GPU.

The devices are listed once Keras has loaded (listing imports TensorFlow, which the
window must not wait for), on a pool thread: with a broken driver, asking CUDA can take
seconds. The choice is remembered in the settings; a remembered GPU that is gone falls
back to the default (the first GPU, else the CPU).

The choice reaches training through the training panel's session factory: every session
the panel makes from then on is created with `device=engine_device(choice)`. Changing
the device between runs replaces the session, so the next Train builds the model on the
new device (weights are not carried across devices). The picker is disabled while a run
is going. "All GPUs" is offered only when the training engine accepts it
(`engine_accepts_all()`), since the model must then be built inside the
MirroredStrategy's scope (`core.devices.strategy_scope`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QWidget

from ..core.devices import ALL_GPUS, DeviceReport, default_choice, engine_device, list_devices
from .session_bridge import Background

if TYPE_CHECKING:
    from .main_window import MainWindow

SETTINGS_KEY = "training/device"


def engine_accepts_all() -> bool:
    """Whether the training engine can train on all GPUs (`device="all"`).

    The engine builds and compiles the model; for MirroredStrategy that must happen inside
    the strategy's scope, which only the engine can arrange.
    """
    try:
        from ..core import training

        training._check_device(ALL_GPUS)  # noqa: SLF001 - the engine's own validation
    except (ValueError, AttributeError, ImportError):
        return False
    return True


class DevicePicker(QWidget):
    """"Device:" and a combo box, for the status bar.

    Signals:
        choiceChanged(str): the person picked another device ("cpu", "gpu:N", "all").
        listed(object): the DeviceReport, once the devices were listed.
    """

    choiceChanged = Signal(str)
    listed = Signal(object)

    def __init__(self, saved: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("devicePicker")
        self.report: DeviceReport | None = None
        self._choice = saved
        self._background = Background(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.setSpacing(4)
        self.caption = QLabel("Device:")
        self.combo = QComboBox()
        self.combo.setObjectName("deviceCombo")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.combo.addItem("detecting...", "")
        self.combo.setEnabled(False)
        self.combo.setToolTip("The devices are listed once TensorFlow has loaded.")
        self.caption.setBuddy(self.combo)
        layout.addWidget(self.caption)
        layout.addWidget(self.combo)
        self.combo.activated.connect(self._on_activated)

    @property
    def choice(self) -> str:
        """"cpu", "gpu:N" or "all"; "" until the devices are known and nothing was saved."""
        return self._choice

    def start_listing(self, lister: Any = list_devices) -> None:
        """Lists the devices on a pool thread; `set_report` runs with the answer."""
        self._background.call(lister, self.set_report, self._on_list_failed)

    def wait(self, msecs: int = 30_000) -> bool:
        return self._background.wait(msecs)

    @Slot(object)
    def set_report(self, report: DeviceReport) -> None:
        """Fills the combo box from a report and settles on a valid choice."""
        self.report = report
        choices = report.choices()
        allowed = engine_accepts_all()
        self.combo.clear()
        for item in choices:
            self.combo.addItem(item.label, item.key)
            index = self.combo.count() - 1
            tip = item.tip
            if item.key == ALL_GPUS and not allowed:
                tip += " (Not available yet: this version trains on one device.)"
                self.combo.model().item(index).setEnabled(False)
            self.combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        keys = [c.key for c in choices if c.key != ALL_GPUS or allowed]
        previous = self._choice
        if self._choice not in keys:
            self._choice = default_choice(report)
        self.combo.setCurrentIndex(max(0, self.combo.findData(self._choice)))
        self.combo.setEnabled(len(keys) > 1)
        tip = report.headline()
        if report.problems:
            tip += "\n" + "\n".join(report.problems)
        if report.cpu_only:
            tip += "\nTraining runs on the processor; small models train fast there too."
        self.combo.setToolTip(tip)
        self.caption.setToolTip(tip)
        self.listed.emit(report)
        if previous and previous != self._choice:
            self.choiceChanged.emit(self._choice)  # a saved GPU that is gone

    def _on_list_failed(self, exc: BaseException) -> None:
        self.combo.clear()
        self.combo.addItem("CPU", "cpu")
        self.combo.setToolTip(f"Could not list the devices ({type(exc).__name__}: {exc}); "
                              "training uses TensorFlow's default device.")

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        key = str(self.combo.itemData(index) or "")
        self.select(key)

    def select(self, key: str) -> bool:
        """Picks a device by key, as the person would; False when it is not offered."""
        index = self.combo.findData(key)
        if not key or index < 0 or not self.combo.model().item(index).isEnabled():
            return False
        self.combo.setCurrentIndex(index)
        if key != self._choice:
            self._choice = key
            self.choiceChanged.emit(key)
        return True


class DeviceBinding(QObject):
    """Connects the picker to the window: settings, the Training menu, the panel."""

    def __init__(self, window: MainWindow, picker: DevicePicker) -> None:
        super().__init__(window)
        self.window = window
        self.picker = picker
        self.menu: QMenu | None = None
        self.group: QActionGroup | None = None
        picker.choiceChanged.connect(self._on_choice)
        picker.listed.connect(self._fill_menu)
        panel = getattr(window, "training_panel", None)
        if panel is not None:
            panel._session_factory = self.make_session  # noqa: SLF001 - the panel's hook
            panel.stateChanged.connect(self._on_training_state)

    def make_session(self, project: Any, base_dir: Any = None, dataset: Any = None) -> Any:
        """A training session on the chosen device (the panel's session factory)."""
        from .training_panel import PROGRESS_INTERVAL

        choice = self.picker.choice
        device = engine_device(choice) if choice else "auto"  # "all": only when accepted
        return self.window.engine_link.session(project, base_dir=base_dir, dataset=dataset,
                                               device=device,
                                               progress_interval=PROGRESS_INTERVAL)

    def list_devices(self) -> DeviceReport:
        """The engine's devices (asked on a pool thread: the engine may still be loading)."""
        return self.window.engine_link.call("devices", timeout=120)

    @Slot()
    def start_listing(self) -> None:
        self.picker.start_listing(self.list_devices)

    @Slot(str)
    def _on_choice(self, key: str) -> None:
        settings = self.window.settings
        settings.setValue(SETTINGS_KEY, key)
        settings.sync()
        label = self.picker.combo.currentText()
        if self.group is not None:
            for action in self.group.actions():
                action.setChecked(action.data() == key)
        panel = getattr(self.window, "training_panel", None)
        if panel is None or panel.running:
            return
        if panel.session is not None:
            trained = panel.has_weights()
            panel._close_session()  # noqa: SLF001 - the next Train makes one on the device
            panel._update_actions()  # noqa: SLF001
            if trained:
                panel._say(f"Device: {label}. The next Train builds the model there, from "  # noqa: SLF001
                           "new weights (trained weights are not moved between devices).")
        self.window.statusBar().showMessage(f"Training will run on {label}.", 5000)

    @Slot(str)
    def _on_training_state(self, state: str) -> None:
        idle = state == "idle"
        report = self.picker.report
        self.picker.combo.setEnabled(idle and report is not None and len(report.choices()) > 1)
        if self.menu is not None:
            self.menu.setEnabled(idle)

    @Slot()
    def _on_menu_action(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.picker.select(str(action.data()))

    @Slot(object)
    def _fill_menu(self, report: DeviceReport) -> None:
        """A Device submenu in the Training menu, mirroring the combo box."""
        bar = self.window.menuBar()
        training = bar.findChild(QMenu, "trainingMenu")
        if training is None:
            return
        if self.menu is None:
            training.addSeparator()
            self.menu = training.addMenu("&Device")
            self.menu.setObjectName("deviceMenu")
            self.menu.setToolTipsVisible(True)
        self.menu.clear()
        self.group = QActionGroup(self.menu)
        self.group.setExclusive(True)
        combo = self.picker.combo
        for i in range(combo.count()):
            action = QAction(combo.itemText(i), self.menu)
            action.setData(combo.itemData(i))
            action.setCheckable(True)
            action.setChecked(combo.itemData(i) == self.picker.choice)
            action.setEnabled(combo.model().item(i).isEnabled())
            action.setToolTip(str(combo.itemData(i, Qt.ItemDataRole.ToolTipRole) or ""))
            action.triggered.connect(self._on_menu_action)
            self.group.addAction(action)
            self.menu.addAction(action)
        if report.cpu_only:
            self.menu.addSeparator()
            why = self.menu.addAction(f"Why CPU only: {report.reason}")
            why.setEnabled(False)


def install_device_picker(window: MainWindow) -> DevicePicker:
    """Puts the picker into the status bar and lists the devices when Keras has loaded."""
    saved = window.settings.value(SETTINGS_KEY, "")
    picker = DevicePicker(str(saved or ""))
    window.statusBar().addPermanentWidget(picker)
    window.device_binding = DeviceBinding(window, picker)
    window.kerasReady.connect(window.device_binding.start_listing)
    if getattr(window, "keras_ready", False):
        window.device_binding.start_listing()
    return picker
