"""Which devices TensorFlow can train on, why there is no GPU when there is none, and the
distribution strategy for training on every GPU at once.

Qt-free, and TensorFlow is imported only inside the functions that need it (importing it
takes seconds; the window must be up before that).

Three facts shape this module:

- TensorFlow takes all the memory of every GPU it touches unless told otherwise, which
  starves every other program (a second LayerLab, a browser's compositor, a notebook). So
  memory growth is switched on for every GPU before anything uses one: through the
  `TF_FORCE_GPU_ALLOW_GROWTH` environment variable, which `request_memory_growth()` sets
  at start-up before TensorFlow is imported, and again through
  `tf.config.experimental.set_memory_growth` in `enable_memory_growth()`.
- "CPU only" has different fixes depending on its cause, so `cpu_only_reason` tells them
  apart: a CPU-only TensorFlow build (install `layerlab[gpu]`), no NVIDIA driver, GPUs
  hidden by `CUDA_VISIBLE_DEVICES`, a driver that fails to start, CUDA libraries missing,
  macOS without tensorflow-metal, or native Windows (no GPU TensorFlow since 2.11).
- Training on all GPUs uses `tf.distribute.MirroredStrategy`: one copy of the model per
  GPU, each batch split between them, gradients averaged. Keras needs the model to be
  built and compiled inside `strategy.scope()`; `fit` then uses the strategy by itself.
  The batch size stays the global one, so the numbers mean what they meant on one device.

Device choices, as strings kept in settings and passed around: "cpu", "gpu:N" (one GPU)
and "all" (every GPU, mirrored). `engine_device(choice)` maps one to the training
session's `device` argument.
`resolve_device(device, backend)` is where the training session turns its `device`
argument ("auto", "cpu", "gpu", "gpu:N", "all") into a `keras.device` name and a label.
"""

from __future__ import annotations

import ast
import contextlib
import ctypes
import ctypes.util
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ALL_GPUS",
    "CPU",
    "DEVICES_HELP",
    "DeviceChoice",
    "DeviceReport",
    "DriverProbe",
    "GpuInfo",
    "MULTI_WORKER",
    "SCRIPT_STRATEGIES",
    "batch_predictor",
    "cpu_only_reason",
    "default_choice",
    "enable_memory_growth",
    "engine_device",
    "list_devices",
    "make_strategy",
    "multi_worker_script_lines",
    "probe_cuda_driver",
    "replica_devices",
    "request_memory_growth",
    "resolve_device",
    "split_cpu",
    "strategy_scope",
    "strategy_script_lines",
    "with_strategy",
]

log = logging.getLogger(__name__)

CPU = "cpu"
DEVICES_HELP = ("'auto' (the GPU when there is one), 'cpu', 'gpu', 'gpu:N' or 'all' (every "
                "GPU, mirrored; TensorFlow only)")
ALL_GPUS = "all"
#: The exported script's strategy across machines (`with_strategy`): each machine runs the
#: script with its own TF_CONFIG, and MultiWorkerMirroredStrategy trains them in step.
MULTI_WORKER = "multi-worker"
#: The exported multi-worker script's `--strategy` choices: today's one device and every
#: GPU of one machine, and several machines.
SCRIPT_STRATEGIES = ("one-device", "all-gpus", MULTI_WORKER)
GROWTH_ENV = "TF_FORCE_GPU_ALLOW_GROWTH"
GIB = 1024 ** 3


def request_memory_growth() -> None:
    """Asks TensorFlow, before it is imported, to grow GPU memory on demand.

    TensorFlow reads `TF_FORCE_GPU_ALLOW_GROWTH` when it first initialises a GPU, so this
    covers every thread and every code path (the training worker may touch the GPU before
    the device list is ever shown). A value the user set is left alone.
    """
    os.environ.setdefault(GROWTH_ENV, "true")


# --------------------------------------------------------------------------------------
# What is there


@dataclass(frozen=True)
class GpuInfo:
    """One GPU as TensorFlow numbers it.

    Attributes:
        index: TensorFlow's GPU number (`/GPU:index`).
        name: the product name, e.g. "NVIDIA GeForce RTX 4090".
        memory_bytes: total memory, when the driver could tell (None otherwise).
        compute_capability: e.g. "8.9", when TensorFlow could tell.
    """

    index: int
    name: str
    memory_bytes: int | None = None
    compute_capability: str | None = None

    @property
    def label(self) -> str:
        memory = f" ({self.memory_bytes / GIB:.0f} GB)" if self.memory_bytes else ""
        return f"GPU {self.index}: {self.name}{memory}"


@dataclass(frozen=True)
class DriverProbe:
    """What the NVIDIA driver itself says, without TensorFlow (for the reasons and memory).

    Attributes:
        library: the driver library that was loaded ("libcuda.so.1"), "" when none is
            installed.
        init_error: cuInit's error ("CUDA_ERROR_NO_DEVICE (100)"), "" when it worked.
        gpus: (name, total memory in bytes) per device, in CUDA's order.
    """

    library: str = ""
    init_error: str = ""
    gpus: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class DeviceChoice:
    """One entry of the device picker."""

    key: str  # "cpu", "gpu:N" or "all"
    label: str
    tip: str


@dataclass(frozen=True)
class DeviceReport:
    """The devices TensorFlow sees and, when it sees no GPU, why.

    Attributes:
        gpus: the GPUs TensorFlow can train on.
        reason: why training is CPU only, in words with the fix; "" when there is a GPU.
        tensorflow: TensorFlow's version ("" when it could not be imported).
        cuda_build: whether this TensorFlow was built with CUDA.
        problems: what went wrong along the way (memory growth that could not be set...).
    """

    gpus: tuple[GpuInfo, ...] = ()
    reason: str = ""
    tensorflow: str = ""
    cuda_build: bool = False
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def cpu_only(self) -> bool:
        return not self.gpus

    def headline(self) -> str:
        """One line for a status bar: the GPU(s), or "CPU only: <reason>"."""
        if self.cpu_only:
            return f"CPU only: {self.reason}"
        if len(self.gpus) == 1:
            return self.gpus[0].label
        return f"{len(self.gpus)} GPUs: " + "; ".join(g.label for g in self.gpus)

    def choices(self) -> list[DeviceChoice]:
        """CPU, each GPU, and "All GPUs" when there are two or more."""
        cpu_tip = ("Train on the processor. " + (f"No GPU: {self.reason}" if self.cpu_only
                                                  else "Often as fast as a GPU for the small "
                                                       "models of the lessons."))
        out = [DeviceChoice(CPU, "CPU" if self.gpus else "CPU only", cpu_tip)]
        for gpu in self.gpus:
            cc = f", compute capability {gpu.compute_capability}" if gpu.compute_capability \
                else ""
            out.append(DeviceChoice(f"gpu:{gpu.index}", gpu.label,
                                    f"Train on {gpu.name}{cc}. Memory is taken as needed, "
                                    "not all at once."))
        if len(self.gpus) >= 2:
            out.append(DeviceChoice(
                ALL_GPUS, f"All GPUs ({len(self.gpus)})",
                f"Train on all {len(self.gpus)} GPUs with MirroredStrategy: each batch is "
                "split between them and the gradients averaged. Pays off for big models and "
                "big batches; small ones train faster on one GPU."))
        return out


def default_choice(report: DeviceReport) -> str:
    """The first GPU when there is one (what a person with a GPU expects), else the CPU."""
    return "gpu:0" if report.gpus else CPU


def engine_device(choice: str) -> str:
    """The training session's `device` argument for a picker choice (validated).

    "cpu" and "gpu:N" are what the session takes already; "all" is passed as "all" for the
    session to build the model inside `strategy_scope("all")` (see the module notes).
    """
    low = choice.strip().lower()
    if low in (CPU, ALL_GPUS) or (low.startswith("gpu:") and low[4:].isdigit()):
        return low
    raise ValueError(f"device: expected 'cpu', 'gpu:N' or 'all', got {choice!r}.")


# --------------------------------------------------------------------------------------
# The NVIDIA driver, asked directly (ctypes; no TensorFlow, no extra package)

_CUDA_ERRORS = {
    3: "CUDA_ERROR_NOT_INITIALIZED", 100: "CUDA_ERROR_NO_DEVICE",
    101: "CUDA_ERROR_INVALID_DEVICE", 304: "CUDA_ERROR_OPERATING_SYSTEM",
    303: "CUDA_ERROR_SHARED_OBJECT_INIT_FAILED", 999: "CUDA_ERROR_UNKNOWN",
    35: "CUDA_ERROR_INSUFFICIENT_DRIVER", 34: "CUDA_ERROR_STUB_LIBRARY",
    46: "CUDA_ERROR_DEVICE_UNAVAILABLE", 802: "CUDA_ERROR_SYSTEM_NOT_READY",
    803: "CUDA_ERROR_SYSTEM_DRIVER_MISMATCH",
}


def _driver_library_names() -> list[str]:
    if sys.platform.startswith("win"):
        return ["nvcuda.dll"]
    if sys.platform == "darwin":
        return []  # no NVIDIA driver on current macOS
    found = ctypes.util.find_library("cuda")
    return ["libcuda.so.1", "libcuda.so"] + ([found] if found else [])


def probe_cuda_driver(names: Sequence[str] | None = None) -> DriverProbe:
    """Loads the NVIDIA driver library and asks it for its GPUs and their memory.

    cuInit creates no context and takes no GPU memory, so this is safe before TensorFlow
    starts. Every failure is an answer (no library, an init error), never an exception.
    """
    lib, loaded = None, ""
    for name in names if names is not None else _driver_library_names():
        try:
            lib = ctypes.CDLL(name)
            loaded = name
            break
        except OSError:
            continue
    if lib is None:
        return DriverProbe()
    try:
        code = lib.cuInit(0)
        if code != 0:
            return DriverProbe(loaded, f"{_CUDA_ERRORS.get(code, 'CUDA error')} ({code})")
        count = ctypes.c_int(0)
        if lib.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return DriverProbe(loaded, "cuDeviceGetCount failed")
        total_mem = getattr(lib, "cuDeviceTotalMem_v2", None) or lib.cuDeviceTotalMem
        gpus = []
        for i in range(count.value):
            device = ctypes.c_int(0)
            if lib.cuDeviceGet(ctypes.byref(device), i) != 0:
                continue
            name = ctypes.create_string_buffer(256)
            lib.cuDeviceGetName(name, 256, device)
            memory = ctypes.c_size_t(0)
            total_mem(ctypes.byref(memory), device)
            gpus.append((name.value.decode("utf-8", "replace"), int(memory.value)))
        return DriverProbe(loaded, "", tuple(gpus))
    except (AttributeError, OSError) as exc:  # a stub or an unusual library
        return DriverProbe(loaded, f"the driver library could not be queried: {exc}")


# --------------------------------------------------------------------------------------
# Why CPU only


def cpu_only_reason(cuda_build: bool, driver: DriverProbe, platform: str | None = None,
                    visible_devices: str | None = None, tensorflow: str = "x",
                    import_error: str = "") -> str:
    """Why TensorFlow sees no GPU, in words with what to do about it.

    Args:
        cuda_build: `tf.test.is_built_with_cuda()`.
        driver: what the NVIDIA driver says (`probe_cuda_driver()`).
        platform: `sys.platform` (a parameter so that every branch can be tested).
        visible_devices: `CUDA_VISIBLE_DEVICES`, None when unset.
        tensorflow: TensorFlow's version, for the messages.
        import_error: why TensorFlow could not be imported, when it could not.
    """
    platform = sys.platform if platform is None else platform
    if import_error:
        return f"TensorFlow could not be loaded ({import_error}); reinstall LayerLab"
    if platform == "darwin":
        return ("no GPU found: on a Mac, TensorFlow uses the Apple GPU only with the "
                "tensorflow-metal plug-in (pip install tensorflow-metal)")
    if platform.startswith("win"):
        return ("no GPU on native Windows: TensorFlow dropped GPU support there after 2.10; "
                "use WSL2 with layerlab[gpu] to train on an NVIDIA GPU")
    seen = f" (the driver sees {len(driver.gpus)} GPU(s))" if driver.gpus else ""
    if not cuda_build:
        return (f"this TensorFlow {tensorflow} is a CPU-only build{seen}; for an NVIDIA GPU, "
                "install LayerLab with pip install 'layerlab[gpu]'")
    if not driver.library:
        return "no GPU found (no NVIDIA driver is installed)"
    if visible_devices is not None and visible_devices.strip() in ("", "-1"):
        return (f"GPUs are hidden by CUDA_VISIBLE_DEVICES={visible_devices!r}; unset it to "
                "use them")
    if driver.init_error:
        return (f"driver problem: the NVIDIA driver ({driver.library}) is installed but does "
                f"not start: {driver.init_error}. Check `nvidia-smi`; a reboot after a driver "
                "update often fixes it")
    if not driver.gpus:
        return "no GPU found (the NVIDIA driver reports none)"
    return (f"driver problem: the driver sees {len(driver.gpus)} GPU(s) but TensorFlow "
            f"{tensorflow} cannot use them: its CUDA libraries are missing (pip install "
            "'layerlab[gpu]') or the driver is older than TensorFlow needs")


# --------------------------------------------------------------------------------------
# TensorFlow


def _tf() -> Any:
    import tensorflow as tf

    return tf


def enable_memory_growth(tf: Any | None = None) -> list[str]:
    """Turns memory growth on for every GPU; returns problems (empty when all went well).

    `set_memory_growth` must run before a GPU is initialised; when it is too late the
    environment variable set by `request_memory_growth()` has already done the job, and
    the problem is reported rather than raised.
    """
    tf = tf or _tf()
    problems = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            if tf.config.experimental.get_memory_growth(gpu):
                continue
            tf.config.experimental.set_memory_growth(gpu, True)
        except (RuntimeError, ValueError) as exc:
            if os.environ.get(GROWTH_ENV, "").lower() != "true":
                problems.append(f"memory growth could not be set on {gpu.name}: {exc}")
    return problems


def list_devices(tf: Any | None = None, driver: DriverProbe | None = None) -> DeviceReport:
    """The devices TensorFlow sees, with memory growth switched on first.

    Args:
        tf: the tensorflow module (a stand-in in tests); imported when None.
        driver: the driver's answer (a stand-in in tests); probed when None and needed.
    """
    if tf is None:
        try:
            tf = _tf()
        except Exception as exc:  # noqa: BLE001 - a broken install is an answer too
            reason = cpu_only_reason(False, DriverProbe(),
                                     import_error=f"{type(exc).__name__}: {exc}")
            return DeviceReport(reason=reason)
    version = str(getattr(tf, "__version__", "?"))
    try:
        cuda_build = bool(tf.test.is_built_with_cuda())
    except Exception:  # noqa: BLE001
        cuda_build = False
    problems: list[str] = []
    try:
        physical = list(tf.config.list_physical_devices("GPU"))
        problems += enable_memory_growth(tf)
    except Exception as exc:  # noqa: BLE001 - a driver that crashes on listing
        physical = []
        problems.append(f"listing GPUs failed: {type(exc).__name__}: {exc}")
    if driver is None and (physical or cuda_build):
        driver = probe_cuda_driver()
    driver = driver or DriverProbe()
    gpus = []
    for index, device in enumerate(physical):
        name, capability = device.name, None
        try:
            details = tf.config.experimental.get_device_details(device)
            name = str(details.get("device_name", name))
            cc = details.get("compute_capability")
            capability = f"{cc[0]}.{cc[1]}" if isinstance(cc, tuple) and len(cc) == 2 else None
        except Exception:  # noqa: BLE001 - details are a nicety
            pass
        memory = None
        # The driver numbers GPUs as CUDA does, which is TensorFlow's order too; the name
        # check guards against a GPU TensorFlow skipped (too old a compute capability).
        if index < len(driver.gpus) and driver.gpus[index][0] == name:
            memory = driver.gpus[index][1]
        gpus.append(GpuInfo(index, name, memory, capability))
    reason = "" if gpus else cpu_only_reason(cuda_build, driver,
                                             visible_devices=os.environ.get(
                                                 "CUDA_VISIBLE_DEVICES"),
                                             tensorflow=version)
    return DeviceReport(tuple(gpus), reason, version, cuda_build, tuple(problems))


def split_cpu(replicas: int, tf: Any | None = None) -> list[str]:
    """Splits the CPU into `replicas` logical devices; returns their names.

    What Keras's own distribution tests do to exercise MirroredStrategy without GPUs. It
    must run before TensorFlow initialises its devices (before any tensor is made).
    """
    tf = tf or _tf()
    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        cpus[0], [tf.config.LogicalDeviceConfiguration()] * replicas)
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def replica_devices(choice: str, tf: Any | None = None) -> list[str]:
    """The devices one model is replicated on for a choice.

    "all": every GPU; on a machine with none, every logical CPU when the CPU was split
    (`split_cpu`, tests), else the one CPU. "gpu:N" and "cpu": that one device.
    """
    tf = tf or _tf()
    low = choice.strip().lower()
    if low == CPU:
        return ["/cpu:0"]
    if low.startswith("gpu:"):
        return [f"/gpu:{int(low[4:])}"]
    if low != ALL_GPUS:
        raise ValueError(f"device: expected 'cpu', 'gpu:N' or 'all', got {choice!r}.")
    enable_memory_growth(tf)
    gpus = tf.config.list_logical_devices("GPU")
    if gpus:
        return [d.name for d in gpus]
    return [d.name for d in tf.config.list_logical_devices("CPU")] or ["/cpu:0"]


def make_strategy(choice: str, tf: Any | None = None) -> Any | None:
    """MirroredStrategy over `replica_devices("all")` for "all"; None for one device.

    Raises:
        RuntimeError: when Keras does not run on TensorFlow (tf.distribute needs it).
    """
    if choice.strip().lower() != ALL_GPUS:
        return None
    import keras

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(f"all GPUs: expected the TensorFlow backend for MirroredStrategy, "
                           f"got {keras.backend.backend()!r}; set KERAS_BACKEND=tensorflow")
    tf = tf or _tf()
    return tf.distribute.MirroredStrategy(devices=replica_devices(ALL_GPUS, tf))


@contextlib.contextmanager
def strategy_scope(choice: str, tf: Any | None = None) -> Iterator[Any | None]:
    """Build and compile the model inside this; yields the strategy (None for one device).

    For "all" it enters a MirroredStrategy's scope, so the variables Keras creates are
    mirrored on every replica and `fit` splits each batch between them. For one device
    it does nothing: the session places the model with `keras.device`.
    """
    strategy = make_strategy(choice, tf)
    if strategy is None:
        yield None
        return
    with strategy.scope():
        yield strategy


def batch_predictor(model: Any) -> Callable[[Any], Any]:
    """`model.predict_on_batch`, or, under a strategy with several replicas, a plain call.

    Keras 3.15's `predict_on_batch` under MirroredStrategy runs the whole batch on every
    replica and concatenates the results: two replicas give twice the rows, which breaks
    the boundary grid and every prediction. Calling the model reads the mirrored weights
    once and is as fast for the small batches this is used for (1 ms for 10,000 rows).
    """
    strategy = getattr(model, "distribute_strategy", None)
    if strategy is None or getattr(strategy, "num_replicas_in_sync", 1) <= 1:
        return model.predict_on_batch

    def predict(x: Any) -> Any:
        import numpy as np

        return np.asarray(model(x, training=False))

    return predict


# --------------------------------------------------------------------------------------
# Exported scripts


def strategy_script_lines() -> list[str]:
    """The lines an exported script puts before the model: the same strategy as "all".

    Portable on purpose: on a machine with two or more GPUs the script trains on all of
    them; with one or none it trains as a plain script would. So the script that a
    person exports from a laptop runs unchanged on a bigger machine.
    """
    return [
        "# --- Devices: every GPU of the machine that runs this script ---",
        "# LayerLab trained this project on all GPUs. MirroredStrategy keeps one copy of the",
        "# model per GPU, splits each batch between them and averages the gradients; the",
        "# batch size below is the global one. With one GPU or none it trains as usual.",
        "# Memory growth: take GPU memory as needed, not all of it at once.",
        "import tensorflow as tf",
        "",
        'GPUS = tf.config.list_physical_devices("GPU")',
        "for gpu in GPUS:",
        "    tf.config.experimental.set_memory_growth(gpu, True)",
        'if len(GPUS) > 1 and keras.backend.backend() == "tensorflow":',
        "    strategy = tf.distribute.MirroredStrategy()",
        "else:",
        "    strategy = tf.distribute.get_strategy()  # the default: one device",
        'print(f"Training on {strategy.num_replicas_in_sync} replica(s).")',
        "",
    ]


def multi_worker_script_lines() -> list[str]:
    """The lines an exported script puts before the model for "multi-worker": the strategy
    is the script's own `--strategy` argument, multi-worker by default.

    MultiWorkerMirroredStrategy keeps one copy of the model on every worker (each a
    machine, or a process), splits each batch between them and all-reduces the gradients,
    so the copies stay the same: the workers train in step. Each worker learns the cluster
    and its own place in it from TF_CONFIG; the first (index 0) is the chief.
    """
    return [
        "# --- Devices: the strategy, chosen when this script runs (--strategy) ---",
        "#   one-device    the first GPU of this machine, or its CPU",
        "#   all-gpus      every GPU of this machine (MirroredStrategy)",
        "#   multi-worker  several machines or processes in step (MultiWorkerMirroredStrategy):",
        "#                 start this script on each, with the same cluster and its own index:",
        "#     TF_CONFIG='{\"cluster\": {\"worker\": [\"host1:12345\", \"host2:12345\"]}, "
        "\"task\": {\"type\": \"worker\", \"index\": 0}}' python this_script.py",
        "#                 The batch size below is the global one, split between the workers.",
        "import argparse",
        "import json",
        "import os",
        "",
        "import tensorflow as tf",
        "",
        "parser = argparse.ArgumentParser(description=\"Train the model (see the comments above).\")",
        f"parser.add_argument(\"--strategy\", choices={json.dumps(list(SCRIPT_STRATEGIES))}, "
        f"default={json.dumps(MULTI_WORKER)})",
        "ARGS, _ = parser.parse_known_args()",
        'GPUS = tf.config.list_physical_devices("GPU")',
        "for gpu in GPUS:",
        "    tf.config.experimental.set_memory_growth(gpu, True)",
        f"if ARGS.strategy == {json.dumps(MULTI_WORKER)}:",
        '    if "TF_CONFIG" not in os.environ:',
        "        raise SystemExit(\"--strategy multi-worker: expected TF_CONFIG to name the "
        "cluster and this worker's place in it (see the comments above), got none\")",
        "    strategy = tf.distribute.MultiWorkerMirroredStrategy()",
        '    TASK = json.loads(os.environ["TF_CONFIG"]).get("task", {})',
        "    print(f\"Worker {TASK.get('index')} of {strategy.num_replicas_in_sync} replica(s).\")",
        'elif ARGS.strategy == "all-gpus":',
        "    strategy = tf.distribute.MirroredStrategy()",
        "else:",
        "    strategy = tf.distribute.get_strategy()  # the default: one device",
        'print(f"Training on {strategy.num_replicas_in_sync} replica(s).")',
        "",
        "",
        "def allow_multi_worker_fit(model, strategy):",
        '    """Lets Keras 3 fit under MultiWorkerMirroredStrategy (keras-team/keras#20585).',
        "",
        "    Keras 3.15 builds the model from one batch averaged across the workers, and",
        "    averages each step's logs across them along an axis that scalars lack; both fail",
        "    under this strategy. Here the model is built from this worker's own part of the",
        "    batch, and the logs are taken as the strategy keeps them. The gradients are still",
        "    averaged across the workers, so the weights stay the same on every worker.",
        '    """',
        "    from keras.src.backend.tensorflow import trainer as tf_trainer",
        "",
        '    if hasattr(tf_trainer, "_collective_all_reduce_multi_worker"):',
        "        tf_trainer._collective_all_reduce_multi_worker = lambda strategy: False",
        "",
        "    def build_from_local_batch(iterator=None, data_batch=None):",
        "        if iterator is not None:",
        "            for _, _, it in iterator:",
        "                data_batch = tf.nest.map_structure(",
        "                    lambda v: strategy.experimental_local_results(v)[0], next(it))",
        "                break",
        "        with strategy.scope():",
        "            model._symbolic_build(data_batch=data_batch)",
        "",
        "    model._maybe_symbolic_build = build_from_local_batch",
        "",
        "",
    ]


def with_strategy(script: str, choice: str) -> str:
    """An exported script (`export.export_script`) that trains with the chosen strategy.

    For "all", the model and its compile call move into `with strategy.scope():`, after
    the lines of `strategy_script_lines()`; `fit` stays outside, as Keras wants. For
    "multi-worker" the same, after `multi_worker_script_lines()`: the script then takes
    `--strategy one-device|all-gpus|multi-worker` (multi-worker by default, configured by
    TF_CONFIG). Other choices return the script unchanged (one device is what the script
    does anyway).

    Raises:
        ValueError: when the script has no `model = keras.Sequential(` ... `model.compile(`
            block to wrap (it was not made by `export_script`).
    """
    choice = choice.strip().lower()
    if choice not in (ALL_GPUS, MULTI_WORKER):
        return script
    lines = script.split("\n")
    start, end = _model_block(script, lines)
    block = ["with strategy.scope():"] + [("    " + line) if line else line
                                          for line in lines[start:end + 1]]
    if choice == ALL_GPUS:
        return "\n".join(lines[:start] + strategy_script_lines() + block + lines[end + 1:])
    after = ["", f"if ARGS.strategy == {json.dumps(MULTI_WORKER)}:",
             "    allow_multi_worker_fit(model, strategy)"]
    tail = ["", f"if ARGS.strategy == {json.dumps(MULTI_WORKER)}:",
            "    # the workers trained in step: the same weights on each of them",
            '    print("weights checksum:", float(sum(abs(w).sum() for w in model.get_weights())))',
            ""]
    body = lines[:start] + multi_worker_script_lines() + block + after + lines[end + 1:]
    while body and not body[-1]:
        body.pop()
    return "\n".join(body + tail)


def _model_block(script: str, lines: list[str]) -> tuple[int, int]:
    """The first and last line index of the model and compile statements of a script.

    They are found in the parsed script, not by matching text: the script holds project
    text (names, paths), and a docstring or string that looked like the model must never
    be taken for it. The block is also refused when a string in it spans lines, because
    indenting such a line would change the string (generated code writes every string on
    one line).

    Raises:
        ValueError: when the script has no top-level `model = keras.Sequential([` followed
            by a `model.compile(` call, each in the layout `export_script` writes.
    """
    refusal = ValueError("expected an exported LayerLab script with a `model = "
                         "keras.Sequential([` block and a `model.compile(` call; got a "
                         "script without them")
    try:
        body = ast.parse(script).body
    except (SyntaxError, ValueError):
        raise refusal from None
    start = next((i for i, node in enumerate(body) if _is_model_assignment(node)), None)
    stop = None if start is None else next(
        (j for j in range(start + 1, len(body)) if _is_compile_call(body[j])), None)
    if start is None or stop is None:
        raise refusal
    first, last = body[start].lineno - 1, (body[stop].end_lineno or 0) - 1
    if not (0 <= first < last < len(lines) and lines[first] == "model = keras.Sequential(["
            and lines[last] == ")"):
        raise refusal  # line numbers that do not match the text: a stray line break
    for node in body[start:stop + 1]:
        for inner in ast.walk(node):
            if isinstance(inner, (ast.Constant, ast.JoinedStr)) and \
                    inner.lineno != inner.end_lineno:
                raise refusal
    return first, last


def _is_model_assignment(node: ast.stmt) -> bool:
    """`model = keras.Sequential(...)` at the top level."""
    return (isinstance(node, ast.Assign) and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "model"
            and isinstance(node.value, ast.Call) and ast.unparse(node.value.func)
            == "keras.Sequential")


def _is_compile_call(node: ast.stmt) -> bool:
    """`model.compile(...)` at the top level."""
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
            and ast.unparse(node.value.func) == "model.compile")


# --------------------------------------------------------------------------------------
# The training session's device


def _gpu_names(backend: str) -> list[str]:
    """Names of the GPUs the backend can use; empty when there are none or it cannot tell."""
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            names = []
            for gpu in tf.config.list_physical_devices("GPU"):
                details = tf.config.experimental.get_device_details(gpu)
                names.append(str(details.get("device_name", gpu.name)))
            return names
        if backend == "jax":
            import jax

            try:
                return [str(d.device_kind) for d in jax.devices("gpu")]
            except RuntimeError:  # no GPU backend
                return []
        if backend == "torch":
            import torch

            return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    except Exception:  # a broken driver must not stop training on the CPU
        log.debug("could not list GPUs", exc_info=True)
    return []


def _check_device(choice: str) -> str:
    low = str(choice).strip().lower()
    if low in ("auto", "cpu", "gpu", "all"):
        return low
    if low.startswith("gpu:") and low[4:].isdigit():
        return low
    raise ValueError(f"device: expected {DEVICES_HELP}, got {choice!r}.")


def resolve_device(choice: str, backend: str) -> tuple[str | None, str]:
    """(name for `keras.device`, or None for the backend's default; label for people)."""
    from .training.messages import SessionError  # not at the top: training imports this

    choice = _check_device(choice)
    if choice == "cpu":
        return "cpu:0", "CPU"
    gpus = _gpu_names(backend)
    if choice == "all":
        if backend != "tensorflow":
            raise SessionError(
                f"device: 'all' (every GPU, mirrored) expected the TensorFlow backend, got "
                f"{backend!r}; choose one GPU, or set KERAS_BACKEND=tensorflow"
            )
        if not gpus:
            return None, "CPU"
        return None, f"{len(gpus)} GPU{'s' if len(gpus) > 1 else ''} (mirrored): " + ", ".join(
            dict.fromkeys(gpus))
    if choice == "auto":
        return (None, f"GPU 0: {gpus[0]}") if gpus else (None, "CPU")
    index = int(choice[4:]) if ":" in choice else 0
    if index >= len(gpus):
        found = f"{len(gpus)} GPU(s)" if gpus else "no GPU"
        raise SessionError(
            f"device: expected GPU {index}, found {found} for the {backend} backend; "
            "choose 'auto' or 'cpu', or check the GPU driver"
        )
    return f"gpu:{index}", f"GPU {index}: {gpus[index]}"
