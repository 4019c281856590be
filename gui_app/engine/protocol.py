"""The one protocol between the window and the engine process: versioned frames of plain
data with NumPy arrays as raw buffers.

A frame is `MAGIC`, a 4-byte little-endian header length, a UTF-8 JSON header, then the
raw bytes of every array the message holds, one after the other. In the header an array
is `{"__nd__": i, "dtype": "<f4", "shape": [100, 100]}`, where `i` indexes the buffer list;
a boundary picture of 100 x 100 floats then costs 40 KB and one copy, not 10,000 Python
floats in JSON. Dataclasses travel as `{"__dc__": "EpochEnd", ...fields}` and are rebuilt
only from the `DATACLASSES` table below (nothing else can be named), tuples as
`{"__tuple__": [...]}`.

Messages (every message is a dict with a "kind"):

| kind | direction | fields |
| --- | --- | --- |
| hello | engine -> window | version, pid, keras, backend, catalog, seconds: the first message, once Keras has loaded |
| call | window -> engine | id, method, args: a command (see `engine.server.Server` for the methods) |
| reply | engine -> window | id, ok, value or error {type, message} |
| event | engine -> window | session, event: a training event (`core.training` dataclasses, `core.diagnostics.events.FindingEvent` when the live diagnostics find a problem or see it go, `core.diagnostics.layers.LayerStatsEvent` (with its `LayerSnapshot` rows: each weighted layer's gradient norm, dead and saturated shares, and histograms of its activations on the probe batch and of its weights) at most four times a second while they watch a run, `core.boundary.units.UnitSnapshot` while the window watches the units, and `core.lr_find.LRFindEvent` while a learning-rate sweep runs: the curve so far, at most every progress interval, then its last one with `done`, the suggestion and the rule) |
| state | engine -> window | session, running, paused, epoch, history, device: sent before each run's last event |
| beat | engine -> window | t: a heartbeat, once a second |
| bye | both | the other side is closing |

Commands added within version 1 (an engine without them answers "the engine has no
command", so an older engine is refused in words, not in a broken frame):

| method | args | value |
| --- | --- | --- |
| unit_pictures | session, extent ((x0, x1), (y0, y1)) or None, resolution or None, timeout | `UnitPictures`: every hidden Dense unit's output over the plane, arrays (units, r, r) per layer; `note` says why when there are none |
| watch_units | session, on, interval (s) or None | None; while on, `UnitSnapshot` events come during runs |
| layer_outputs | session, x (one input: a row, or a batch of one), timeout | `LayerOutputs` (`core.xray`): every layer's output for that input, float32 arrays without the batch axis; a layer over 100,000 numbers is left out with a note in `notes`; `note` says why when there are no layers |
| augment_samples | model (a model spec's JSON), x (1 to 64 samples as the model gets them), seed or None (None: a fresh one, a re-roll) | `AugmentedSamples` (`core.augment`): the samples through the model's leading image layers as predict runs them (`original`) and as training does (`augmented`), float32 (n, h, w, c), and the seed used; no session needed. A model that does not start with augmentation layers giving images is a ValueError in words |
| predict_split | session, split ("test", "val", "train"), timeout | the model's outputs for every sample of that part, in its order (float32 array) |
| read_images | session, paths (image files), timeout | the images as the model gets them, float32 (n, h, w, c), decoded in the engine (a folder-of-images project only) |
| predict_files | session, paths, timeout | (images as `read_images` gives them, the model's outputs) |
| search_start | search (a number the window picks, like a session's), project, allow_outside, base_dir, project_path (the saved project file: its `<name>.search` folder keeps the trials; None for a temporary folder), trials (max trials, or None for the project's) | None at once; the search runs on its own thread (`engine.tuning`), and its events come as `event` messages whose `session` is the search's number: a `core.search_events.TrialEvent` as each trial begins and ends ({"type": "trial", "number", "values", "score", "status", "seconds", "history", ...}), then one `SearchDone` ({"type": "search_done", "status", "best", "best_score", "objective", "trials", ...}) |
| search_stop | search | None; the trial in progress is abandoned (a continued search runs it again) and `SearchDone` follows with status "stopped" |
| lr_find | session, trained (start from the session's weights, not fresh ones), steps or None (100 to 300 from the data), timeout | `LRFindEvent` (`core.lr_find`), the sweep's last one: its curve, `suggested_lr` and `rule`, or None and "" with the reason in `message`. It answers when the sweep ends; `stop` ends it after the current batch, and its curve comes meanwhile as `LRFindEvent` events. While it runs the session is busy (a `start` is refused) |
| step_batch | session, restart (begin a new pass from its first batch), timeout | Step Through (`engine.step_through`): one training step on the next batch of the pass, on the session's worker between runs, as `core.step_through.BatchStep.to_message()`: step, epoch, batch, batches, indices (int64 rows), loss, learning_rate, optimizer, plain_sgd, optimizer_notes, layers, kinds, before, gradients, after (float32 arrays per trainable variable), boundary_before, boundary (`BoundaryGrid`s), restarted. Refused in words during a run and for models or data it cannot step (not two features, not Dense only, over 2,000 weights) |

A peer whose hello carries another `VERSION` is refused with a message that says which
versions met (`VersionError`).
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np

VERSION = 1
MAGIC = b"LLE1"
_HEADER = struct.Struct("<I")
#: A header above this is not ours (a stray writer on the channel, a corrupt frame).
MAX_HEADER_BYTES = 64 * 1024 * 1024


class ProtocolError(ValueError):
    """A frame that does not follow this protocol."""


class VersionError(ProtocolError):
    """The other side speaks another protocol version."""


def _dataclasses() -> dict[str, type]:
    from ..core.augment import AugmentedSamples
    from ..core.boundary import BoundaryGrid
    from ..core.boundary.units import UnitPictures, UnitSnapshot
    from ..core.devices import DeviceReport, GpuInfo
    from ..core.diagnostics.events import FindingEvent
    from ..core.diagnostics.layers import LayerSnapshot, LayerStatsEvent
    from ..core.lr_find import LRFindEvent
    from ..core.search_events import SearchDone, TrialEvent
    from ..core.training import (
        BatchProgress,
        BoundarySnapshot,
        EpochEnd,
        Failed,
        Finished,
        Started,
    )
    from ..core.xray import LayerOutputs

    table = {cls.__name__: cls for cls in (Started, BatchProgress, EpochEnd, BoundarySnapshot,
                                           Finished, Failed, BoundaryGrid, DeviceReport,
                                           GpuInfo, UnitPictures, UnitSnapshot, FindingEvent,
                                           LayerOutputs, LayerStatsEvent, LayerSnapshot,
                                           AugmentedSamples, LRFindEvent, TrialEvent,
                                           SearchDone)}
    return table


_TABLE: dict[str, type] | None = None


def dataclass_table() -> dict[str, type]:
    """The only classes a frame may name (loaded lazily: the core imports NumPy only)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = _dataclasses()
    return _TABLE


def _encode(value: Any, buffers: list[memoryview]) -> Any:
    if isinstance(value, np.ndarray):
        array = np.ascontiguousarray(value)
        if array.dtype.hasobject:
            raise ProtocolError("object arrays cannot travel; send numbers")
        buffers.append(memoryview(array).cast("B"))
        return {"__nd__": len(buffers) - 1, "dtype": array.dtype.str, "shape": list(array.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if is_dataclass(value) and not isinstance(value, type):
        name = type(value).__name__
        if name not in dataclass_table():
            raise ProtocolError(f"{name} is not a message type")
        out = {"__dc__": name}
        for f in fields(value):
            out[f.name] = _encode(getattr(value, f.name), buffers)
        return out
    if isinstance(value, dict):
        return {str(k): _encode(v, buffers) for k, v in value.items()}
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v, buffers) for v in value]}
    if isinstance(value, list):
        return [_encode(v, buffers) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"__float__": repr(value)}
    raise ProtocolError(f"a {type(value).__name__} cannot travel between the processes")


def encode(message: dict[str, Any]) -> bytes:
    """One frame for a message (a dict with a "kind")."""
    buffers: list[memoryview] = []
    header = json.dumps(_encode(message, buffers), separators=(",", ":"),
                        allow_nan=False).encode("utf-8")
    sizes = [b.nbytes for b in buffers]
    head = json.dumps(sizes).encode("ascii")
    parts = [MAGIC, _HEADER.pack(len(header)), header, _HEADER.pack(len(head)), head, *buffers]
    return b"".join(parts)


def _decode(value: Any, buffers: list[bytes]) -> Any:
    if isinstance(value, list):
        return [_decode(v, buffers) for v in value]
    if not isinstance(value, dict):
        return value
    if "__nd__" in value:
        raw = buffers[int(value["__nd__"])]
        array = np.frombuffer(raw, dtype=np.dtype(value["dtype"]))
        return array.reshape(value["shape"]).copy()
    if "__tuple__" in value:
        return tuple(_decode(v, buffers) for v in value["__tuple__"])
    if "__float__" in value:
        return float(value["__float__"])
    if "__dc__" in value:
        cls = dataclass_table().get(value["__dc__"])
        if cls is None:
            raise ProtocolError(f"unknown message type {value['__dc__']!r}")
        kwargs = {k: _decode(v, buffers) for k, v in value.items() if k != "__dc__"}
        return cls(**kwargs)
    return {k: _decode(v, buffers) for k, v in value.items()}


def decode(frame: bytes) -> dict[str, Any]:
    """The message in a frame; raises ProtocolError for anything else."""
    view = memoryview(frame)
    if bytes(view[:4]) != MAGIC:
        raise ProtocolError("not a LayerLab engine frame (wrong magic)")
    at = 4
    try:
        (size,) = _HEADER.unpack_from(view, at)
        if size > MAX_HEADER_BYTES:
            raise ProtocolError("header too large")
        at += 4
        header = json.loads(bytes(view[at:at + size]).decode("utf-8"))
        at += size
        (size,) = _HEADER.unpack_from(view, at)
        at += 4
        sizes = json.loads(bytes(view[at:at + size]).decode("ascii"))
        at += size
        buffers = []
        for n in sizes:
            buffers.append(bytes(view[at:at + int(n)]))
            at += int(n)
    except (struct.error, UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise ProtocolError(f"a damaged frame ({exc})") from None
    message = _decode(header, buffers)
    if not isinstance(message, dict) or "kind" not in message:
        raise ProtocolError("a frame without a message kind")
    return message


def no_delay(connection: Any) -> None:
    """Turns off Nagle's algorithm on a connection's TCP socket (the engine's link is
    one, on 127.0.0.1). With it on, a short frame sent while earlier ones waited for
    their acknowledgement was held until it came, and Linux delays acknowledgements by
    up to 40 ms: during a run, with events streaming out, a one-row prediction's reply
    took 44 ms instead of 9."""
    import socket

    try:
        sock = socket.socket(fileno=os.dup(connection.fileno()))
    except (OSError, AttributeError, ValueError):
        return  # not a socket (a pipe in tests): nothing to turn off
    try:
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    finally:
        sock.close()


def hello(pid: int, keras_version: str, backend: str, catalog: dict[str, Any] | None = None,
          seconds: float = 0.0) -> dict[str, Any]:
    """The engine's first message: who it is, and what the catalog takes from its Keras
    (`core.catalog.read_keras_facts`), so the window never imports Keras to learn it."""
    return {"kind": "hello", "version": VERSION, "pid": pid, "keras": keras_version,
            "backend": backend, "catalog": catalog or {}, "seconds": seconds}


def check_hello(message: dict[str, Any]) -> dict[str, Any]:
    """The engine's hello, or VersionError when it speaks another protocol version."""
    if message.get("kind") != "hello":
        raise ProtocolError(f"expected the engine's hello first, got {message.get('kind')!r}")
    if message.get("version") != VERSION:
        raise VersionError(
            f"the training engine speaks protocol version {message.get('version')!r} and this "
            f"window version {VERSION}; they come from different LayerLab installs. Reinstall "
            "LayerLab so that both are the same version"
        )
    return message
