"""The device picker in the real window: what it lists, what it says, where the choice goes.

Reports are made by hand (GPUs cannot be conjured here); the listing itself is tested in
tests/core/test_devices.py. Keras is not loaded: the window fixture never starts it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from gui_app.core.devices import DeviceReport, GpuInfo
from gui_app.ui.device_picker import SETTINGS_KEY

TWO_GPUS = DeviceReport(gpus=(GpuInfo(0, "NVIDIA A100", 80 << 30, "8.0"),
                              GpuInfo(1, "NVIDIA A100", 80 << 30, "8.0")),
                        tensorflow="2.21.0", cuda_build=True)
CPU_ONLY = DeviceReport(reason="no GPU found (no NVIDIA driver is installed)",
                        tensorflow="2.21.0", cuda_build=True)


def test_picker_sits_in_the_status_bar_and_waits_for_tensorflow(window):
    picker = window.device_picker
    assert picker.parent() is not None and window.statusBar().isAncestorOf(picker)
    assert picker.combo.currentText() == "detecting..."
    assert not picker.combo.isEnabled()


def test_cpu_only_says_why(window):
    picker = window.device_picker
    picker.set_report(CPU_ONLY)
    assert picker.combo.count() == 1 and picker.combo.currentText() == "CPU only"
    assert picker.choice == "cpu"
    assert picker.combo.toolTip().startswith(
        "CPU only: no GPU found (no NVIDIA driver is installed)")
    menu = window.menuBar().findChild(QMenu, "deviceMenu")
    texts = [a.text() for a in menu.actions()]
    assert "Why CPU only: no GPU found (no NVIDIA driver is installed)" in texts


def test_gpus_are_listed_with_memory_and_the_first_is_the_default(window):
    picker = window.device_picker
    picker.set_report(TWO_GPUS)
    labels = [picker.combo.itemText(i) for i in range(picker.combo.count())]
    assert labels == ["CPU", "GPU 0: NVIDIA A100 (80 GB)", "GPU 1: NVIDIA A100 (80 GB)",
                      "All GPUs (2)"]
    assert picker.choice == "gpu:0"
    assert picker.combo.isEnabled()
    tip = picker.combo.itemData(3, Qt.ItemDataRole.ToolTipRole)
    assert "MirroredStrategy" in tip


def test_choosing_a_gpu_is_remembered_and_reaches_new_sessions(window, monkeypatch):
    made = []
    # Sessions live in the engine process; the picker's choice travels with the request.
    monkeypatch.setattr(window.engine_link, "session",
                        lambda project, **kwargs: made.append(kwargs))
    picker = window.device_picker
    picker.set_report(TWO_GPUS)
    assert picker.select("gpu:1")
    assert window.settings.value(SETTINGS_KEY) == "gpu:1"
    window.training.new_session(window.controller.project, base_dir=None, dataset=None)
    assert made[-1]["device"] == "gpu:1"
    menu = window.menuBar().findChild(QMenu, "deviceMenu")
    checked = [a.text() for a in menu.actions() if a.isChecked()]
    assert checked == ["GPU 1: NVIDIA A100 (80 GB)"]
    assert picker.select("cpu")
    window.training.new_session(window.controller.project)
    assert made[-1]["device"] == "cpu"


def test_a_remembered_gpu_that_is_gone_falls_back_to_the_default(window):
    picker = window.device_picker
    picker.set_report(TWO_GPUS)
    picker.select("gpu:1")
    changed = []
    picker.choiceChanged.connect(changed.append)
    picker.set_report(CPU_ONLY)
    assert picker.choice == "cpu"
    assert changed == ["cpu"]


def test_all_gpus_is_offered_only_when_the_engine_accepts_it(window, monkeypatch):
    import gui_app.ui.device_picker as module

    picker = window.device_picker
    monkeypatch.setattr(module, "engine_accepts_all", lambda: False)
    picker.set_report(TWO_GPUS)
    assert not picker.combo.model().item(3).isEnabled()
    assert not picker.select("all")
    monkeypatch.setattr(module, "engine_accepts_all", lambda: True)
    picker.set_report(TWO_GPUS)
    assert picker.select("all")
    assert picker.choice == "all"


def test_picker_is_locked_while_training(window):
    picker = window.device_picker
    picker.set_report(TWO_GPUS)
    window.training.set_state("running")
    assert not picker.combo.isEnabled()
    assert not window.menuBar().findChild(QMenu, "deviceMenu").isEnabled()
    window.training.set_state("idle")
    assert picker.combo.isEnabled()


def test_a_new_device_drops_the_trained_session_and_says_so(window, monkeypatch):
    """The panel hears of the device through the controller, not through the window."""
    panel = window.training_panel
    picker = window.device_picker
    picker.set_report(TWO_GPUS)
    closed = []

    class Stub:
        epoch = 3

        def stop(self) -> None:
            pass

        def close(self, timeout: float = 0.0) -> None:
            closed.append(timeout)

    panel.session = Stub()
    panel._session_key = panel._key_now()
    assert panel.has_weights()
    lines = []
    window.training.message.connect(lambda text, _ms: lines.append(text))
    assert picker.select("gpu:1")
    assert panel.session is None and closed
    assert "GPU 1" in panel.message_text and "new weights" in panel.message_text
    assert lines == ["Training will run on GPU 1: NVIDIA A100 (80 GB)."]
    assert window.statusBar().currentMessage() == lines[-1]
