"""Tests for gui_app.core.devices: what TensorFlow sees, why "CPU only", and MirroredStrategy.

No GPU is needed: GPUs are played by a stand-in `tf` module where the branch depends on
them, and MirroredStrategy is exercised on two logical CPU devices in a subprocess, the
way Keras's own distribution tests do (the split must happen before TensorFlow creates
its devices, so it cannot share a process with other tests).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import pytest

from gui_app.core import devices
from gui_app.core.devices import (
    DeviceReport,
    DriverProbe,
    GpuInfo,
    cpu_only_reason,
    default_choice,
    engine_device,
    list_devices,
    probe_cuda_driver,
    with_strategy,
)

ROOT = Path(__file__).resolve().parents[2]


class FakeGpu:
    def __init__(self, index: int) -> None:
        self.name = f"/physical_device:GPU:{index}"
        self.device_type = "GPU"


class FakeTf:
    """The parts of `tensorflow` that list_devices touches, with `n` GPUs."""

    def __init__(self, names: list[str], cuda_build: bool = True,
                 growth_error: Exception | None = None) -> None:
        self.__version__ = "2.99.0"
        self.gpus = [FakeGpu(i) for i in range(len(names))]
        self.names = names
        self.growth: dict[str, bool] = {}
        self.growth_error = growth_error
        self.test = SimpleNamespace(is_built_with_cuda=lambda: cuda_build)
        self.config = SimpleNamespace(
            list_physical_devices=lambda kind: list(self.gpus) if kind == "GPU" else [],
            experimental=SimpleNamespace(
                get_memory_growth=lambda gpu: self.growth.get(gpu.name, False),
                set_memory_growth=self._set_growth,
                get_device_details=lambda gpu: {
                    "device_name": self.names[self.gpus.index(gpu)],
                    "compute_capability": (8, 9)},
            ),
        )

    def _set_growth(self, gpu: FakeGpu, on: bool) -> None:
        if self.growth_error is not None:
            raise self.growth_error
        self.growth[gpu.name] = on


# -- why CPU only -----------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, expected", [
    (dict(cuda_build=False, driver=DriverProbe()), "CPU-only build"),
    (dict(cuda_build=False, driver=DriverProbe("libcuda.so.1", "", (("RTX", 8 << 30),))),
     "the driver sees 1 GPU"),
    (dict(cuda_build=True, driver=DriverProbe()), "no NVIDIA driver is installed"),
    (dict(cuda_build=True, driver=DriverProbe("libcuda.so.1", "", (("RTX", 1),)),
          visible_devices=""), "hidden by CUDA_VISIBLE_DEVICES"),
    (dict(cuda_build=True, driver=DriverProbe("libcuda.so.1", "CUDA_ERROR_UNKNOWN (999)")),
     "driver problem"),
    (dict(cuda_build=True, driver=DriverProbe("libcuda.so.1", "", ())),
     "the NVIDIA driver reports none"),
    (dict(cuda_build=True, driver=DriverProbe("libcuda.so.1", "", (("A100", 1),))),
     "CUDA libraries are missing"),
    (dict(cuda_build=True, driver=DriverProbe(), platform="darwin"), "tensorflow-metal"),
    (dict(cuda_build=False, driver=DriverProbe(), platform="win32"), "WSL2"),
    (dict(cuda_build=False, driver=DriverProbe(), import_error="ImportError: libfoo"),
     "TensorFlow could not be loaded"),
])
def test_each_cause_of_cpu_only_has_its_own_reason(kwargs, expected):
    kwargs.setdefault("platform", "linux")
    reason = cpu_only_reason(**kwargs)
    assert expected in reason


def test_reasons_for_fixable_causes_say_what_to_do():
    assert "layerlab[gpu]" in cpu_only_reason(False, DriverProbe(), platform="linux")
    hidden = cpu_only_reason(True, DriverProbe("libcuda.so.1", "", (("X", 1),)),
                             platform="linux", visible_devices="-1")
    assert "unset it" in hidden


# -- listing ------------------------------------------------------------------------------


def test_list_devices_reports_each_gpu_with_memory_and_turns_on_memory_growth():
    tf = FakeTf(["NVIDIA A100", "NVIDIA A100"])
    driver = DriverProbe("libcuda.so.1", "", (("NVIDIA A100", 80 << 30),
                                              ("NVIDIA A100", 40 << 30)))
    report = list_devices(tf, driver)
    assert not report.cpu_only and report.reason == ""
    assert [g.label for g in report.gpus] == ["GPU 0: NVIDIA A100 (80 GB)",
                                              "GPU 1: NVIDIA A100 (40 GB)"]
    assert report.gpus[0].compute_capability == "8.9"
    assert tf.growth == {"/physical_device:GPU:0": True, "/physical_device:GPU:1": True}
    assert [c.key for c in report.choices()] == ["cpu", "gpu:0", "gpu:1", "all"]
    assert default_choice(report) == "gpu:0"
    assert report.headline().startswith("2 GPUs: GPU 0: NVIDIA A100")


def test_memory_is_left_out_when_the_driver_names_another_gpu():
    report = list_devices(FakeTf(["Tesla T4"]), DriverProbe("libcuda.so.1", "",
                                                            (("Other GPU", 16 << 30),)))
    assert report.gpus == (GpuInfo(0, "Tesla T4", None, "8.9"),)
    assert report.gpus[0].label == "GPU 0: Tesla T4"


def test_one_gpu_offers_no_all_gpus_choice():
    report = list_devices(FakeTf(["RTX 4090"]), DriverProbe())
    assert [c.key for c in report.choices()] == ["cpu", "gpu:0"]


def test_growth_that_cannot_be_set_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv(devices.GROWTH_ENV, "false")
    tf = FakeTf(["RTX 4090"], growth_error=RuntimeError("Physical devices cannot be "
                                                        "modified after being initialized"))
    report = list_devices(tf, DriverProbe())
    assert report.gpus and "memory growth could not be set" in report.problems[0]


def test_growth_already_requested_by_the_environment_is_not_a_problem(monkeypatch):
    monkeypatch.setenv(devices.GROWTH_ENV, "true")
    tf = FakeTf(["RTX 4090"], growth_error=RuntimeError("too late"))
    assert list_devices(tf, DriverProbe()).problems == ()


def test_cpu_only_report_says_why_and_offers_the_cpu():
    report = list_devices(FakeTf([], cuda_build=False), DriverProbe())
    assert report.cpu_only
    assert "CPU-only build" in report.reason
    assert report.headline().startswith("CPU only: this TensorFlow 2.99.0 is a CPU-only build")
    assert [(c.key, c.label) for c in report.choices()] == [("cpu", "CPU only")]
    assert default_choice(report) == "cpu"


def test_real_tensorflow_here_is_listed_as_cpu_only_with_a_reason():
    report = list_devices()  # this machine and CI have no GPU
    assert report.cpu_only and report.reason
    assert report.tensorflow


def test_request_memory_growth_sets_the_variable_without_overriding(monkeypatch):
    monkeypatch.delenv(devices.GROWTH_ENV, raising=False)
    devices.request_memory_growth()
    assert os.environ[devices.GROWTH_ENV] == "true"
    monkeypatch.setenv(devices.GROWTH_ENV, "false")
    devices.request_memory_growth()
    assert os.environ[devices.GROWTH_ENV] == "false"


def test_driver_probe_without_a_driver_library_is_an_empty_answer():
    assert probe_cuda_driver(["libdoes-not-exist-layerlab.so"]) == DriverProbe()


# -- choices ------------------------------------------------------------------------------


def test_engine_device_maps_choices_and_refuses_others():
    assert engine_device("cpu") == "cpu"
    assert engine_device("GPU:1") == "gpu:1"
    assert engine_device("all") == "all"
    with pytest.raises(ValueError, match="expected 'cpu', 'gpu:N' or 'all'"):
        engine_device("tpu")


def test_one_device_choices_need_no_strategy():
    assert devices.make_strategy("cpu") is None
    with devices.strategy_scope("gpu:0") as strategy:
        assert strategy is None


# -- MirroredStrategy on two logical CPUs --------------------------------------------------

STRATEGY_SCRIPT = textwrap.dedent("""
    import json, os
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    from gui_app.core import devices
    replicas = devices.split_cpu(2)
    import numpy as np
    from gui_app.core.build import build_model, compile_model
    from gui_app.core.data import load_dataset
    from gui_app.core.spec import default_project

    project = default_project()
    data = load_dataset(dict(project.data, samples=256))
    with devices.strategy_scope("all") as strategy:
        model = build_model(project.model)
        compile_model(model, project.compile)
    history = model.fit(data.x_train, data.y_train, epochs=2, batch_size=32, verbose=0,
                        validation_data=(data.x_val, data.y_val))
    print(json.dumps({
        "logical": replicas,
        "replicas": strategy.num_replicas_in_sync,
        "devices": list(strategy.extended.worker_devices),
        "variable": type(model.weights[0].value).__name__,
        "loss": history.history["loss"],
        "val_loss": history.history["val_loss"],
        "predict": model.predict(data.x_val[:4], verbose=0).shape,
    }))
""")


def test_mirrored_strategy_trains_a_model_on_two_logical_cpus():
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    done = subprocess.run([sys.executable, "-c", STRATEGY_SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert len(result["logical"]) == 2
    assert result["replicas"] == 2
    assert [d.split("/")[-1] for d in result["devices"]] == ["device:CPU:0", "device:CPU:1"]
    assert result["variable"] == "MirroredVariable"  # built inside the strategy's scope
    assert len(result["loss"]) == 2 and all(v == v for v in result["loss"])
    assert len(result["val_loss"]) == 2
    assert result["predict"] == [4, 1]


SESSION_SCRIPT = textwrap.dedent("""
    import json, os
    os.environ["CUDA_VISIBLE_DEVICES"] = ""
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    from gui_app.core import devices
    devices.split_cpu(2)
    from gui_app.core.spec import default_project
    import numpy as np
    from gui_app.core.training import BoundarySnapshot, Finished, TrainingSession

    project = default_project()
    project = project.replace(data=dict(project.data, samples=256),
                              fit=dict(project.fit, epochs=2, seed=0))
    events = []
    with TrainingSession(project, device=devices.engine_device("all"),
                         progress_interval=0.001) as session:
        session.subscribe(events.append)
        session.start()
        session.wait(240)
        model = session._model  # noqa: SLF001 - the test looks at how it was built
        strategy = model.distribute_strategy
        print(json.dumps({
            "finished": [e.reason for e in events if isinstance(e, Finished)],
            "epochs": session.epoch,
            "replicas": strategy.num_replicas_in_sync,
            "variable": type(model.weights[0].value).__name__,
            "predict": list(session.predict(np.zeros((3, 2), "float32")).shape),
            "grids": [list(e.grid.values.shape) for e in events
                      if isinstance(e, BoundarySnapshot)],
        }))
""")


def test_training_session_on_all_devices_trains_mirrored():
    """The engine's "all" device builds the model inside `strategy_scope("all")`."""
    env = dict(os.environ, KERAS_BACKEND="tensorflow")
    done = subprocess.run([sys.executable, "-c", SESSION_SCRIPT], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["finished"] == ["completed"]
    assert result["epochs"] == 2
    assert result["replicas"] == 2
    assert result["variable"] == "MirroredVariable"
    assert result["predict"] == [3, 1]  # not one copy per replica (Keras's predict_on_batch)
    assert result["grids"] and all(shape[:2] == [100, 100] for shape in result["grids"])


# -- exported scripts ---------------------------------------------------------------------


def test_exported_script_for_all_gpus_builds_the_model_inside_the_strategy():
    from gui_app.core.export import export_script
    from gui_app.core.spec import default_project

    script = export_script(default_project())
    assert with_strategy(script, "cpu") == script
    mirrored = with_strategy(script, "all")
    compile(mirrored, "exported.py", "exec")
    lines = mirrored.splitlines()
    scope = lines.index("with strategy.scope():")
    assert lines[scope + 1] == "    model = keras.Sequential(["
    compile_at = lines.index("    model.compile(")
    assert compile_at > scope
    fit_at = next(i for i, line in enumerate(lines) if line.startswith("history = model.fit("))
    assert fit_at > compile_at  # fit stays outside the scope, as Keras wants
    assert "tf.distribute.MirroredStrategy()" in mirrored
    assert "set_memory_growth(gpu, True)" in mirrored


def test_with_strategy_refuses_a_script_it_did_not_make():
    with pytest.raises(ValueError, match="expected an exported LayerLab script"):
        with_strategy("print('hello')\n", "all")


@pytest.mark.slow
def test_exported_mirrored_script_runs(tmp_path):
    from gui_app.core.export import export_script
    from gui_app.core.spec import default_project

    project = default_project()
    project = project.replace(fit=dict(project.fit, epochs=2),
                              data=dict(project.data, samples=200))
    path = tmp_path / "train.py"
    path.write_text(with_strategy(export_script(project, script_path=path), "all"))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, str(path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Training on 1 replica(s)." in done.stdout  # no GPU here: the default strategy
    assert "final:" in done.stdout


def test_device_report_defaults_are_empty_and_cpu_only():
    assert DeviceReport().cpu_only
