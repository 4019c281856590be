"""What a person reads when training cannot start, breaks off or stops early.

Kept apart from the session: turning Keras's and TensorFlow's errors into a sentence that
says what to change is its own concern, tested on its own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..spec import FitSpec, ObjectSpec


class SessionError(RuntimeError):
    """A session command that cannot run now; the message says why and what to do."""


def nan_message(epoch: int, batch: int, loss: float, learning_rate: Any = None) -> str:
    """The sentence for a loss that is no longer a number (epoch and batch count from 1)."""
    what = "NaN" if math.isnan(loss) else "infinite"
    rate = f" (it is {learning_rate})" if learning_rate is not None else ""
    return (
        f"the loss became {what} at epoch {epoch} batch {batch}; lower the learning rate"
        f"{rate}, or standardise the inputs, then reset the weights and train again"
    )


_BOILERPLATE = ("graph execution error", "detected at node", "file ", "traceback",
                "stack trace", "[[", "{{", "node:", "arguments received")


def _first_line(exc: BaseException, limit: int = 300) -> str:
    """The line of an error message that says what went wrong.

    TensorFlow wraps the real reason in "Graph execution error:" and a stack of the traced
    code, so boilerplate and code lines are skipped and a line that states a fact
    ("Received...", "Incompatible...", "expected...") is preferred.
    """
    lines = []
    for raw in str(exc).splitlines():
        line = raw.strip()
        if not line or line.lower().startswith(_BOILERPLATE) or raw.startswith("    "):
            continue
        lines.append(line.split("  Label values:")[0].strip())
    telling = [line for line in lines if any(
        word in line.lower() for word in ("received", "incompatible", "expected", "must",
                                          "invalid", "cannot", "out of"))]
    line = (telling or lines or [type(exc).__name__])[0]
    return line if len(line) <= limit else line[: limit - 3] + "..."


def explain_error(exc: BaseException, context: Mapping[str, Any] | None = None) -> str:
    """A message a person can act on for an exception raised while building or training.

    Args:
        exc: the exception.
        context: what is known about the run: "batch_size", "device", "input_shape",
            "label_shape".
    """
    from ..data import DataError
    from ..project import ProjectError

    ctx = dict(context or {})
    if isinstance(exc, ProjectError):
        return "; ".join(exc.problems)
    if isinstance(exc, (DataError, SessionError)):
        return str(exc)
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    device = ctx.get("device", "this device")
    if (
        isinstance(exc, MemoryError)
        or "resource_exhausted" in low
        or "resourceexhausted" in low
        or "out of memory" in low
        or " oom " in f" {low} "
    ):
        batch = ctx.get("batch_size")
        shown = f" ({batch})" if batch else ""
        cpu = "" if str(device).startswith("CPU") else ", or train on the CPU"
        return (
            f"out of memory on {device}: lower the batch size{shown}, make the layers "
            f"smaller{cpu}"
        )
    if "valid range" in low or "label value" in low:
        classes = ctx.get("num_classes")
        have = f" (the data has {classes} classes)" if classes else ""
        return (
            f"the labels do not fit the output layer: {_first_line(exc)} The last layer needs "
            f"one unit per class{have}; set its units to the number of classes"
        )
    if "shape" in low or "incompatible" in low or "rank" in low:
        given = ""
        if ctx.get("input_shape") is not None:
            given = (
                f" The data gives inputs of shape {tuple(ctx['input_shape'])} and labels of "
                f"shape {tuple(ctx.get('label_shape') or ())} per sample;"
            )
        return (
            f"the model does not fit the data: {_first_line(exc)}.{given} check the model's "
            "input shape, its last layer's units and the loss against the data (the "
            "pre-flight checks point at the usual mistakes)"
        )
    return f"training failed: {type(exc).__name__}: {_first_line(exc)}"


def _early_stop_detail(fit: FitSpec) -> str:
    for item in fit.callbacks or []:
        spec = ObjectSpec.from_json(item)
        if spec.type == "EarlyStopping":
            monitor = spec.args.get("monitor", "val_loss")
            patience = spec.args.get("patience", 0)
            restored = "; the best weights were restored" if spec.args.get(
                "restore_best_weights") else ""
            return f"{monitor} did not improve for {patience} epoch(s){restored}"
    return "a callback stopped it"
