"""The device picker: where training runs (CPU, one GPU, all GPUs), in the status bar and
the Training menu, with "CPU only, and why" when TensorFlow sees no GPU.

The devices are listed once Keras has loaded (listing imports TensorFlow, which the
window must not wait for), on a pool thread: with a broken driver, asking CUDA can take
seconds. The choice is remembered in the settings; a remembered GPU that is gone falls
back to the default (the first GPU, else the CPU).

The choice reaches training through `TrainingController.set_device`: every session made
from then on is created with `device=engine_device(choice)`. Changing
the device between runs replaces the session, so the next Train builds the model on the
new device (weights are not carried across devices). The picker is disabled while a run
is going. "All GPUs" is offered only when the training engine accepts it
(`engine_accepts_all()`), since the model must then be built inside the
MirroredStrategy's scope (`core.devices.strategy_scope`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, Qt, Signal, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QMenu, QWidget

from ..core.devices import ALL_GPUS, DeviceReport, default_choice, list_devices
from . import messages as say
from .mailbox import Background

if TYPE_CHECKING:
    from .training_controller import TrainingController

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
    """Connects the picker to the run's owner (`TrainingController`), the settings and the
    Training menu. It knows neither the window nor the training panel: the panel hears of
    a new device through `TrainingController.deviceChanged`."""

    def __init__(self, picker: DevicePicker, training: TrainingController, settings: QSettings,
                 menu: QMenu | None = None) -> None:
        super().__init__(picker)
        self.picker = picker
        self.training = training
        self.settings = settings
        self.training_menu = menu
        self.menu: QMenu | None = None
        self.group: QActionGroup | None = None
        training.device_choice = picker.choice
        picker.choiceChanged.connect(self._on_choice)
        picker.listed.connect(self._on_listed)
        training.stateChanged.connect(self._on_training_state)

    def list_devices(self) -> DeviceReport:
        """The engine's devices (asked on a pool thread: the engine may still be loading)."""
        return self.training.call("devices", timeout=120)

    @Slot()
    def start_listing(self) -> None:
        self.picker.start_listing(self.list_devices)

    @Slot(object)
    def _on_listed(self, report: DeviceReport) -> None:
        # the picker settled on a default when nothing valid was saved: sessions made from
        # now on name it (it is the device the engine picks by itself)
        self.training.device_choice = self.picker.choice
        self._fill_menu(report)

    @Slot(str)
    def _on_choice(self, key: str) -> None:
        self.settings.setValue(SETTINGS_KEY, key)
        self.settings.sync()
        label = self.picker.combo.currentText()
        if self.group is not None:
            for action in self.group.actions():
                action.setChecked(action.data() == key)
        if self.training.running:
            return
        self.training.set_device(key, label)
        self.training.say(say.device_chosen(label), 5000)

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
        training = self.training_menu
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
