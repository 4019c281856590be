"""Output shapes and parameter counts of a model spec, equal to Keras's, without Keras.

The editor recomputes this on every edit, so it is plain arithmetic: Keras itself is only
used by the tests, which compare these numbers with a built model on many stacks. A stack
that Keras could not build still gets a summary: the rows up to the first bad layer, and a
message on that layer saying what it needs, what it got and how to fix it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .catalog import (
    IMAGE_PREPROCESSING_LAYERS,
    LAYERS,
    RECURRENT_FOR_BIDIRECTIONAL,
    check_args,
    expand,
)
from .spec import LayerSpec, ModelSpec, Shape, layer_names

BYTES_PER_PARAM = 4  # float32, Keras's default dtype


class ShapeError(ValueError):
    """A layer cannot take the shape it is given; the message says how to fix it."""


@dataclass(frozen=True)
class LayerRow:
    """One line of the summary.

    `output_shape` includes the batch axis as None, as Keras prints it. When the layer (or
    one before it) cannot be built, `output_shape` and the counts are None, and `error`
    holds the message on the first bad layer.
    """

    index: int
    name: str
    type: str
    output_shape: Shape | None
    params: int | None
    trainable: int | None
    non_trainable: int | None
    explanation: str = ""
    error: str | None = None
    arg_errors: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Summary:
    input_shape: Shape
    rows: tuple[LayerRow, ...]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    error_index: int | None = None
    input_error: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.error_index is None and self.input_error is None

    @property
    def weight_bytes(self) -> int:
        return self.total_params * BYTES_PER_PARAM

    @property
    def output_shape(self) -> Shape | None:
        if not self.ok:
            return None
        return self.rows[-1].output_shape if self.rows else self.input_shape

    def to_json(self) -> dict[str, Any]:
        """The `layerlab summary --json` document."""
        return {
            "input_shape": list(self.input_shape),
            "layers": [
                {
                    "name": r.name,
                    "type": r.type,
                    "output_shape": list(r.output_shape) if r.output_shape is not None else None,
                    "params": r.params,
                    **({"error": r.error} if r.error else {}),
                }
                for r in self.rows
            ],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "weight_bytes": self.weight_bytes,
            "ok": self.ok,
        }


def format_shape(shape: Shape | None) -> str:
    """(None, 28, 28, 1) as Keras prints it; a 1-tuple keeps its comma."""
    if shape is None:
        return "?"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def format_bytes(n: int) -> str:
    if n >= 1024**5:  # also keeps n / size below float's range for absurd models
        return f"{n // 1024**4:,} TB" if n < 10**30 else "more than 10^30 B"
    for unit, size in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n} B"


def _n(count: int, word: str) -> str:
    """'1 unit', '8 units', '1 bias', '3 biases': the counts read as a sentence."""
    if count == 1:
        return f"1 {word}"
    plural = word + "es" if word.endswith(("s", "x")) else word + "s"
    return f"{count:,} {plural}"


def _prod(dims: tuple[int | None, ...]) -> int | None:
    if any(d is None for d in dims):
        return None
    return math.prod(dims)  # type: ignore[arg-type]


def _need_rank(layer: LayerSpec, shape: Shape, hint_fix: str) -> None:
    definition = LAYERS[layer.type]
    rank = len(shape)
    low, high = definition.min_rank, definition.max_rank
    if (low is not None and rank < low) or (high is not None and rank > high):
        if definition.rank_hint:
            needs = f"inputs shaped {definition.rank_hint}"
        else:
            needs = f"inputs with at least {low - 1} dimension(s) besides the batch"
        raise ShapeError(f"{layer.type} needs {needs}; it gets {format_shape(shape)}. {hint_fix}")


def _rank_fix(layer_type: str, rank: int) -> str:
    if layer_type in IMAGE_PREPROCESSING_LAYERS:
        return ("It works on images, one (height, width, channels) array per sample: give the "
                "model an image input shape such as [28, 28, 1] (or put a Reshape to one "
                "before it), or remove the layer.")
    if layer_type.endswith("2D"):
        if rank < 4:
            return "Add a Reshape layer to make (height, width, channels), or use a 1D or Dense layer."
        return "Add a Reshape layer, or use a 3D layer."
    if layer_type.endswith("1D") or layer_type in RECURRENT_FOR_BIDIRECTIONAL + ("Bidirectional",):
        if rank < 3:
            return "Add a Reshape layer to make (steps, features), e.g. target_shape [-1, 1]."
        return "Add a Flatten or a Reshape layer before it, or use a 2D layer."
    return "Add a Reshape layer before it."


def _known_last(layer: LayerSpec, shape: Shape, what: str) -> int:
    last = shape[-1]
    if last is None:
        raise ShapeError(
            f"{layer.type} needs the size of its input's last axis ({what}) to be known; it gets "
            f"{format_shape(shape)}. Give the input shape a fixed size there."
        )
    return last


def _conv_like(layer: LayerSpec, a: Mapping[str, Any], shape: Shape, dims: int,
               window: tuple[int, ...], strides: tuple[int, ...], dilation: tuple[int, ...],
               what: str) -> Shape:
    padding = a["padding"]
    out = []
    for i in range(dims):
        size = shape[1 + i]
        if size is None:
            out.append(None)
            continue
        if padding == "valid":
            effective = dilation[i] * (window[i] - 1) + 1
            n = math.floor((size - effective) / strides[i]) + 1
            if n <= 0:
                raise ShapeError(
                    f"{layer.type}'s {what} ({'x'.join(map(str, window))}"
                    + (f", dilation {dilation[i]}" if dilation[i] > 1 else "")
                    + f") is larger than its input {format_shape(shape)} with padding 'valid'. "
                    "Use a smaller window, padding 'same', or remove a pooling layer before it."
                )
        else:
            n = math.floor((size - 1) / strides[i]) + 1
        out.append(n)
    return (shape[0], *out)


def _infer(layer: LayerSpec, shape: Shape) -> tuple[Shape, int, int, str]:
    """Output shape, trainable and non-trainable counts, and the count in words."""
    kind = layer.type
    definition = LAYERS[kind]
    a = definition.resolved(layer.args)
    _need_rank(layer, shape, _rank_fix(kind, len(shape)))

    if kind == "Dense":
        n_in = _known_last(layer, shape, "features")
        units = a["units"]
        bias = units if a["use_bias"] else 0
        words = f"{_n(n_in, 'input')} x {_n(units, 'unit')}" + (f" + {_n(units, 'bias')}" if bias else "")
        return (*shape[:-1], units), n_in * units + bias, 0, f"{words} = {n_in * units + bias:,}"

    if kind in ("Activation", "Dropout", "GaussianNoise", "Rescaling",
                "SpatialDropout1D", "SpatialDropout2D"):
        return shape, 0, 0, "no weights: the values change, the shape does not"

    if kind == "Flatten":
        if len(shape) == 2:
            return shape, 0, 0, "no weights: the input is already flat"
        flat = _prod(shape[1:])
        words = " x ".join(map(str, shape[1:])) + (f" = {flat:,} values" if flat else "")
        return (shape[0], flat), 0, 0, f"no weights: {words} in one row"

    if kind == "Reshape":
        target = [int(v) for v in a["target_shape"]]
        total = _prod(shape[1:])
        if -1 in target:
            known = math.prod(v for v in target if v != -1)
            if total is None:
                out = tuple(None if v == -1 else v for v in target)
            elif known == 0 or total % known:
                raise ShapeError(
                    f"Reshape cannot turn {format_shape(shape)} ({total:,} values per sample) into "
                    f"{format_shape(tuple(target))}: {total:,} is not a multiple of {known:,}. "
                    "Choose a target shape whose sizes divide the number of values."
                )
            else:
                out = tuple(total // known if v == -1 else v for v in target)
        else:
            if total is not None and math.prod(target) != total:
                raise ShapeError(
                    f"Reshape cannot turn {format_shape(shape)} ({total:,} values per sample) into "
                    f"{format_shape(tuple(target))} ({math.prod(target):,} values). The number of "
                    "values must stay the same; use -1 for one axis to let it be computed."
                )
            out = tuple(target)
        return (shape[0], *out), 0, 0, "no weights: the same values in a new shape"

    if kind in ("BatchNormalization", "LayerNormalization"):
        axis = a["axis"]
        if not -len(shape) <= axis < len(shape) or axis % len(shape) == 0:
            raise ShapeError(
                f"{kind}'s axis {axis} is not a feature axis of {format_shape(shape)}. "
                "Use -1 (the last axis, the usual choice)."
            )
        channels = shape[axis]
        if channels is None:
            raise ShapeError(
                f"{kind} needs the size of axis {axis} to be known; it gets {format_shape(shape)}."
            )
        learned = channels * (int(a["center"]) + int(a["scale"]))
        if kind == "BatchNormalization":
            words = (f"{_n(channels, 'channel')} x ({int(a['scale']) + int(a['center'])} learned: "
                     f"gamma, beta + 2 running: mean, variance) = {learned + 2 * channels:,}; "
                     f"the {2 * channels:,} running statistics are not trained")
            return shape, learned, 2 * channels, words
        return shape, learned, 0, f"{_n(channels, 'feature')} x {int(a['scale']) + int(a['center'])} (gamma, beta) = {learned:,}"

    if kind in ("Conv1D", "Conv2D"):
        dims = 1 if kind == "Conv1D" else 2
        channels = _known_last(layer, shape, "channels")
        window = expand(a["kernel_size"], dims)
        strides = expand(a["strides"], dims)
        dilation = expand(a["dilation_rate"], dims)
        filters, groups = a["filters"], a["groups"]
        if max(strides) > 1 and max(dilation) > 1:
            raise ShapeError(f"{kind} cannot use strides above 1 together with dilation_rate above 1. "
                             "Set one of them to 1.")
        if filters % groups or channels % groups:
            raise ShapeError(
                f"{kind}'s groups ({groups}) must divide both the filters ({filters}) and the input "
                f"channels ({channels}); it gets {format_shape(shape)}. Set groups to 1."
            )
        out = _conv_like(layer, a, shape, dims, window, strides, dilation, "kernel")
        per_filter = math.prod(window) * (channels // groups)
        weights = per_filter * filters
        bias = filters if a["use_bias"] else 0
        words = (f"{'x'.join(map(str, window))} kernel x {_n(channels // groups, 'input channel')} x "
                 f"{_n(filters, 'filter')}" + (f" + {_n(filters, 'bias')}" if bias else "")
                 + f" = {weights + bias:,}")
        return (*out, filters), weights + bias, 0, words

    if "Pooling" in kind and not kind.startswith("Global"):
        dims = 1 if kind.endswith("1D") else 2
        window = expand(a["pool_size"], dims)
        strides = expand(a["strides"] if a["strides"] is not None else a["pool_size"], dims)
        out = _conv_like(layer, a, shape, dims, window, strides, (1,) * dims, "pool size")
        return (*out, shape[-1]), 0, 0, "no weights: each window is summarised by one number"

    if kind.startswith("Global"):
        keep = a["keepdims"]
        out = (shape[0], *([1] * (len(shape) - 2)), shape[-1]) if keep else (shape[0], shape[-1])
        return out, 0, 0, "no weights: one number per channel"

    if kind == "Embedding":
        n = a["input_dim"] * a["output_dim"]
        return (*shape, a["output_dim"]), n, 0, (
            f"{a['input_dim']:,} tokens x {a['output_dim']} numbers each = {n:,}")

    if kind in RECURRENT_FOR_BIDIRECTIONAL:
        return _recurrent(layer, a, shape)

    if kind == "Bidirectional":
        inner = LayerSpec.from_json(a["layer"])
        if inner.type not in RECURRENT_FOR_BIDIRECTIONAL:
            raise ShapeError(
                f"Bidirectional wraps a recurrent layer (LSTM, GRU or SimpleRNN); it gets "
                f"{inner.type}. Choose LSTM or GRU as its layer."
            )
        problems = check_args(LAYERS[inner.type], inner.args)
        if problems:
            raise ShapeError(f"Bidirectional's {inner.type}: {problems[0][0]}: {problems[0][1]}.")
        out, trainable, _, words = _recurrent(inner, LAYERS[inner.type].resolved(inner.args), shape)
        units = out[-1]
        if a["merge_mode"] == "concat":
            out = (*out[:-1], 2 * units)
        return out, 2 * trainable, 0, f"2 directions x ({words})"

    if kind == "UpSampling2D":
        size = expand(a["size"], 2)
        h, w = shape[1], shape[2]
        out = (shape[0], None if h is None else h * size[0], None if w is None else w * size[1],
               shape[3])
        return out, 0, 0, "no weights: rows and columns repeated"

    if kind == "ZeroPadding2D":
        p = a["padding"]
        if isinstance(p, int):
            pads = ((p, p), (p, p))
        elif all(isinstance(v, int) for v in p):
            pads = ((p[0], p[0]), (p[1], p[1]))
        else:
            pads = (tuple(p[0]), tuple(p[1]))
        h, w = shape[1], shape[2]
        out = (shape[0], None if h is None else h + sum(pads[0]),
               None if w is None else w + sum(pads[1]), shape[3])
        return out, 0, 0, "no weights: a border of zeros"

    if kind in IMAGE_PREPROCESSING_LAYERS:
        return _image_layer(layer, a, shape)

    raise ShapeError(f"LayerLab does not know how to size a {kind} layer.")


def _spread(factor: Any, unit: str, what: str = "", either: str = " either way") -> str:
    """'up to 10% either way' for 0.1, 'between -10% and 20%' for [-0.1, 0.2]; `what` goes
    after the amount ('of the height')."""
    def amount(v: float) -> str:
        return f"{v * 360:g} degrees" if unit == "turn" else f"{v * 100:g}%"
    if isinstance(factor, (list, tuple)):
        low, high = sorted(factor)
        return f"between {amount(low)} and {amount(high)}{what}"
    return f"up to {amount(abs(factor))}{what}{either}"


def _image_layer(layer: LayerSpec, a: Mapping[str, Any], shape: Shape
                 ) -> tuple[Shape, int, int, str]:
    """Resizing, CenterCrop and the Random* augmentations: no weights, images in and out.

    Keras builds the Random* layers on any input, but calling them on anything other than
    a batch of (height, width, channels) images fails in `fit` ("Expected image tensor to
    have rank 3 (single image) or 4 (batch of images)") or, for (steps, features), treats
    the whole batch as one image; `_need_rank` refuses both here, in words.
    """
    kind = layer.type
    training = ", in training only (predict and evaluate see the images unchanged)"
    if kind == "Resizing":
        if a["crop_to_aspect_ratio"] and a["pad_to_aspect_ratio"]:
            raise ShapeError("Resizing can crop to the new aspect ratio or pad to it, not both; "
                             "it gets crop_to_aspect_ratio and pad_to_aspect_ratio both true. "
                             "Set one of them to false.")
        out = (shape[0], a["height"], a["width"], shape[3])
        return out, 0, 0, f"no weights: every image resized to {a['height']}x{a['width']}"
    if kind == "CenterCrop":
        out = (shape[0], a["height"], a["width"], shape[3])
        h, w = shape[1], shape[2]
        if h is not None and w is not None and (a["height"] > h or a["width"] > w):
            words = (f"no weights: the crop {a['height']}x{a['width']} is larger than the "
                     f"image {h}x{w}, so Keras resizes the image instead of cropping it")
        else:
            words = f"no weights: the middle {a['height']}x{a['width']} of every image"
        return out, 0, 0, words
    if kind == "RandomFlip":
        flips = {"horizontal": "mirrored left-right", "vertical": "turned upside down",
                 "horizontal_and_vertical": "mirrored left-right and upside down"}[a["mode"]]
        words = f"no weights: {flips} at random{training}"
    elif kind == "RandomRotation":
        words = f"no weights: turned by {_spread(a['factor'], 'turn')}{training}"
    elif kind == "RandomZoom":
        width = a["width_factor"]
        also = "" if width is None else f" (the width {_spread(width, 'fraction')})"
        words = (f"no weights: zoomed by {_spread(a['height_factor'], 'fraction')}{also}"
                 f"{training}")
    elif kind == "RandomTranslation":
        up = _spread(a["height_factor"], "fraction", " of the height", "")
        side = _spread(a["width_factor"], "fraction", " of the width", "")
        words = (f"no weights: shifted up or down by {up} and left or right by {side}"
                 f"{training}")
    elif kind == "RandomContrast":
        # Keras 3 reads one number f as [0, f] (contrast times 1 to 1 + f) and a pair
        # [a, b] as times 1 - a to 1 + b (tests/core/test_summary_keras.py measures it).
        factor = a["factor"]
        low, high = sorted(factor) if isinstance(factor, (list, tuple)) else (0, factor)
        words = (f"no weights: contrast times a random {1 - low:g} to {1 + high:g}"
                 f"{training}")
    else:  # RandomBrightness
        shift = _spread(a["factor"], "fraction", " of value_range")
        words = f"no weights: brightness shifted by {shift}{training}"
    return shape, 0, 0, words


def _recurrent(layer: LayerSpec, a: Mapping[str, Any], shape: Shape) -> tuple[Shape, int, int, str]:
    kind = layer.type
    if len(shape) != 3:
        raise ShapeError(
            f"{kind} needs inputs shaped (steps, features); it gets {format_shape(shape)}. "
            + _rank_fix(kind, len(shape))
        )
    n_in = _known_last(layer, shape, "features")
    units = a["units"]
    gates = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}[kind]
    biases = 0
    if a["use_bias"]:
        biases = 2 if kind == "GRU" and a.get("reset_after", True) else 1
    n = gates * units * (n_in + units + biases)
    gate_words = f"{gates} gates x " if gates > 1 else ""
    bias_words = {0: "", 1: " + 1 bias", 2: " + 2 biases"}[biases]
    words = f"{gate_words}{_n(units, 'unit')} x ({_n(n_in, 'input')} + {units} recurrent{bias_words}) = {n:,}"
    out = (shape[0], shape[1], units) if a["return_sequences"] else (shape[0], units)
    return out, n, 0, words


def check_input_shape(input_shape: Any) -> str | None:
    """A message when the model's input shape is unusable, else None."""
    if not isinstance(input_shape, (list, tuple)) or not input_shape:
        return f"The input shape must list at least one size, e.g. [2] or [28, 28, 1]; it is {input_shape!r}."
    for d in input_shape:
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 1):
            return (f"Every input size must be a whole number >= 1 (or null for 'any length'); "
                    f"the input shape is {list(input_shape)}.")
    return None


def summarize(model: ModelSpec) -> Summary:
    """The summary of a model spec; never raises for a bad stack."""
    problem = check_input_shape(model.input_shape)
    names = layer_names(model.layers)
    if problem:
        rows = tuple(LayerRow(i, names[i], layer.type, None, None, None, None)
                     for i, layer in enumerate(model.layers))
        return Summary(tuple(model.input_shape), rows, 0, 0, 0, input_error=problem)
    shape: Shape = (None, *model.input_shape)
    rows: list[LayerRow] = []
    trainable = non_trainable = 0
    error_index: int | None = None
    for i, layer in enumerate(model.layers):
        name = names[i]
        if error_index is not None:
            rows.append(LayerRow(i, name, layer.type, None, None, None, None,
                                 "not computed: a layer above has an error"))
            continue
        definition = LAYERS.get(layer.type)
        if definition is None:
            error_index = i
            rows.append(LayerRow(i, name, layer.type, None, None, None, None, error=(
                f"LayerLab has no layer called '{layer.type}'. Pick one from the palette.")))
            continue
        problems = tuple(check_args(definition, layer.args))
        if problems:
            error_index = i
            arg, message = problems[0]
            rows.append(LayerRow(i, name, layer.type, None, None, None, None,
                                 error=f"{layer.type} '{name}': {arg}: {message}.",
                                 arg_errors=problems))
            continue
        try:
            shape, t, nt, words = _infer(layer, shape)
        except ShapeError as exc:
            error_index = i
            rows.append(LayerRow(i, name, layer.type, None, None, None, None, error=str(exc)))
            continue
        trainable += t
        non_trainable += nt
        rows.append(LayerRow(i, name, layer.type, shape, t + nt, t, nt, words))
    return Summary(tuple(model.input_shape), tuple(rows), trainable + non_trainable, trainable,
                   non_trainable, error_index)


def format_table(summary: Summary, title: str = "Model") -> str:
    """A text table like `model.summary()` prints."""
    header = ("Layer (type)", "Output Shape", "Param #")
    lines = [(f"{r.name} ({r.type})", format_shape(r.output_shape),
              "?" if r.params is None else f"{r.params:,}") for r in summary.rows]
    widths = [max(len(header[c]), *(len(line[c]) for line in lines)) if lines else len(header[c])
              for c in range(3)]
    rule = "-" * (sum(widths) + 6)
    out = [f'Model: "{title}"', rule,
           f"{header[0]:<{widths[0]}}   {header[1]:<{widths[1]}}   {header[2]:>{widths[2]}}", rule]
    for r, line in zip(summary.rows, lines):
        out.append(f"{line[0]:<{widths[0]}}   {line[1]:<{widths[1]}}   {line[2]:>{widths[2]}}")
        if r.error:
            out.append(f"  ! {r.error}")
    out.append(rule)
    if summary.input_error:
        out.append(f"! {summary.input_error}")
    size = format_bytes(summary.weight_bytes)
    out.append(f" Total params: {summary.total_params:,} ({size})")
    out.append(f" Trainable params: {summary.trainable_params:,} "
               f"({format_bytes(summary.trainable_params * BYTES_PER_PARAM)})")
    out.append(f" Non-trainable params: {summary.non_trainable_params:,} "
               f"({format_bytes(summary.non_trainable_params * BYTES_PER_PARAM)})")
    if not summary.ok:
        out.append(" (totals cover the layers above the first error)")
    return "\n".join(out)
