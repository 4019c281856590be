"""What LayerLab supports: every layer, optimizer, loss and metric, with its parameters.

Each parameter has a kind, a range or choices, a default and a one-line explanation. The
defaults written here are a snapshot of Keras's own; `sync_with_keras()` replaces them with
the installed Keras's signature defaults (and the activation list with `keras.activations`),
and the test suite fails if the snapshot and Keras disagree, so the catalog cannot drift.
The snapshot exists so that the window can show the palette before Keras has loaded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .limits import MAX_INT_ARG

REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()

# Snapshot of `keras.activations` (refreshed by sync_with_keras()).
ACTIVATIONS: list[str] = [
    "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "gelu", "silu", "swish",
    "softplus", "softsign", "leaky_relu", "relu6", "mish", "exponential", "hard_sigmoid",
    "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "log_softmax", "celu", "glu",
    "hard_shrink", "soft_shrink", "tanh_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax",
    "squareplus", "threshold",
]
INITIALIZERS = [
    "glorot_uniform", "glorot_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "random_uniform", "random_normal", "truncated_normal", "uniform",
    "normal", "orthogonal", "zeros", "ones",
]
REGULARIZERS = [None, "l1", "l2"]


@dataclass
class Param:
    """One keyword argument of a layer, optimizer, loss or metric.

    Kinds: "int", "float", "bool", "choice", "size" (an int or a tuple of `rank` ints, as
    Keras accepts for kernel_size), "shape" (a tuple of ints, -1 allowed once), "padding2d"
    (ZeroPadding2D's int / pair / pair of pairs), "layer" (a wrapped layer spec), "str",
    "factor" (an augmentation's strength: a number within min..max, or a [lower, upper] pair
    of such numbers, as Keras's Random* layers take it) and "range" (a [low, high] pair of
    numbers, such as the pixel values' value_range).

    `unit` says what a "factor" counts ("turn": a fraction of a full circle; "fraction": a
    fraction of the size or range), so a value given in degrees or percent is answered
    with the number that was meant instead of only "out of range".
    """

    name: str
    kind: str
    default: Any = REQUIRED
    help: str = ""
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    choices: Sequence[Any] = ()
    nullable: bool = False
    rank: int = 1
    log: bool = False
    advanced: bool = False
    unit: str = ""

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def expected(self) -> str:
        """The accepted values, in words, for error messages and tooltips."""
        if self.kind == "choice":
            names = [repr(c) for c in self.choices if c is not None]
            if len(names) > 8:  # Keras's 32 activations would bury the message
                text = f"one of {len(names)} names such as " + ", ".join(names[:6])
            else:
                text = "one of " + ", ".join(names)
        elif self.kind in ("int", "float"):
            noun = "an integer" if self.kind == "int" else "a number"
            bounds = []
            if self.min is not None:
                bounds.append(("> " if self.min_exclusive else ">= ") + _fmt(self.min))
            if self.max is not None:
                bounds.append(("< " if self.max_exclusive else "<= ") + _fmt(self.max))
            text = noun + (" " + " and ".join(bounds) if bounds else "")
        elif self.kind == "bool":
            text = "true or false"
        elif self.kind == "size":
            lo = _fmt(self.min if self.min is not None else 1)
            text = (
                f"an integer >= {lo}" if self.rank == 1
                else f"an integer >= {lo} or a list of {self.rank} such integers"
            )
        elif self.kind == "shape":
            text = "a list of positive integers (one of them may be -1)"
        elif self.kind == "padding2d":
            text = "an integer >= 0, a list of 2 such integers, or a list of 2 pairs"
        elif self.kind == "layer":
            text = "a layer object such as {\"type\": \"LSTM\", \"units\": 32}"
        elif self.kind == "factor":
            bounds = Param(self.name, "float", min=self.min, max=self.max,
                           min_exclusive=self.min_exclusive, max_exclusive=self.max_exclusive)
            text = f"{bounds.expected()}, or a list of 2 such numbers [lower, upper]"
        elif self.kind == "range":
            text = "a list of 2 numbers [low, high], low first"
        else:
            text = "a string"
        if self.nullable and self.kind != "choice":
            text += " or null"
        elif self.nullable:
            text += " or null"
        return text

    def check(self, value: Any) -> str | None:
        """None when `value` is acceptable, else "expected ..., got ...".

        The messages are what a person sees in the inspector and in the project loader.
        """
        bad = f"expected {self.expected()}, got {_show(value)}"
        if value is None:
            return None if self.nullable else bad
        kind = self.kind
        if kind == "bool":
            return None if isinstance(value, bool) else bad
        if kind == "choice":
            if value in self.choices:
                return None
            return bad + _did_you_mean(value, [c for c in self.choices if isinstance(c, str)])
        if kind == "str":
            return None if isinstance(value, str) and value else bad
        if kind in ("int", "float"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                return bad
            if kind == "int" and not isinstance(value, int):
                # Keras refuses 8.0 units at build time; say so while the file is read.
                whole = math.isfinite(value) and float(value).is_integer()
                return bad + ("; write it without a decimal point" if whole else "")
            if isinstance(value, float) and not math.isfinite(value):
                return bad
            cap = MAX_INT_ARG if self.max is None else max(MAX_INT_ARG, self.max)
            if isinstance(value, int) and abs(value) > cap:
                return f"expected {self.expected()} and at most {cap:,}, got {_show(value)}"
            return None if self._in_range(value) else bad
        if kind == "size":
            items = [value] if not isinstance(value, (list, tuple)) else list(value)
            if isinstance(value, (list, tuple)) and len(items) != self.rank:
                return bad
            lo = self.min if self.min is not None else 1
            ok = all(_is_int(v) and v >= lo for v in items)
            return None if ok else bad
        if kind == "shape":
            if not isinstance(value, (list, tuple)) or not value:
                return bad
            if not all(_is_int(v) and (v >= 1 or v == -1) for v in value):
                return bad
            return None if list(value).count(-1) <= 1 else bad
        if kind == "padding2d":
            if _is_int(value):
                return None if value >= 0 else bad
            if isinstance(value, (list, tuple)) and len(value) == 2:
                if all(_is_int(v) and v >= 0 for v in value):
                    return None
                if all(
                    isinstance(v, (list, tuple)) and len(v) == 2
                    and all(_is_int(w) and w >= 0 for w in v)
                    for v in value
                ):
                    return None
            return bad
        if kind == "layer":
            return None if isinstance(value, Mapping) and "type" in value else bad
        if kind == "factor":
            items = list(value) if isinstance(value, (list, tuple)) else [value]
            if len(items) != (2 if isinstance(value, (list, tuple)) else 1):
                return bad
            if all(_is_real(v) and self._in_range(v) for v in items):
                return None
            return bad + self._factor_hint(items)
        if kind == "range":
            ok = (isinstance(value, (list, tuple)) and len(value) == 2
                  and all(_is_real(v) for v in value) and value[0] < value[1])
            return None if ok else bad
        return bad

    def meant(self, value: Any) -> Any:
        """The factor a person meant by a value in degrees or percent (30 -> 0.0833 for a
        turn, 20 -> 0.2 for a fraction), or None when the value does not read as one."""
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        # From 2 up a fraction is unlikely (1.5 may mean one and a half turns): say nothing.
        if (self.kind != "factor" or not all(_is_real(v) for v in items)
                or not any(abs(v) >= 2 for v in items)):
            return None
        scale = {"turn": 360, "fraction": 100}.get(self.unit)
        if scale is None or not all(abs(v) <= scale for v in items):
            return None
        meant = [round(v / scale, 4) for v in items]
        if not all(self._in_range(v) for v in meant):
            return None
        return meant[0] if len(meant) == 1 else meant

    def _factor_hint(self, items: Sequence[Any]) -> str:
        """'; ... for 30 degrees write 0.0833' when a factor was given in degrees or percent."""
        meant = self.meant(items if len(items) > 1 else items[0])
        if meant is None:
            return ""
        if self.unit == "turn":
            what = " to ".join(f"{v:g}" for v in items)
            return (f"; {self.name} is a fraction of a full turn: for {what} degrees write "
                    f"{_show(meant)}")
        what = " to ".join(f"{v:g}%" for v in items)
        return f"; {self.name} is a fraction, not a percentage: for {what} write {_show(meant)}"

    def _in_range(self, value: float) -> bool:
        if self.min is not None and (value < self.min or (self.min_exclusive and value == self.min)):
            return False
        if self.max is not None and (value > self.max or (self.max_exclusive and value == self.max)):
            return False
        return True

    def same_as_default(self, value: Any) -> bool:
        """True when `value` means the same as the default (1 and (1, 1) for a 2-D stride)."""
        if self.required:
            return False
        if self.kind == "size" and value is not None and self.default is not None:
            return expand(value, self.rank) == expand(self.default, self.rank)
        if isinstance(value, (list, tuple)) and isinstance(self.default, (list, tuple)):
            return _listify(value) == _listify(self.default)
        if isinstance(value, bool) != isinstance(self.default, bool):
            return False
        return value == self.default


def _did_you_mean(value: Any, names: Sequence[str]) -> str:
    """'; did you mean 'sigmoid'?' for a near miss, else nothing."""
    import difflib

    if not isinstance(value, str):
        return ""
    close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _listify(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_listify(v) for v in value]
    return value


def _is_real(value: Any) -> bool:
    """A finite number (not a bool): what a float argument of Keras can take."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and abs(value) <= MAX_INT_ARG and math.isfinite(value))


def _is_int(value: Any) -> bool:
    """An integer a Keras layer can take (int32): not a bool, not 10**400."""
    return isinstance(value, int) and not isinstance(value, bool) and abs(value) <= MAX_INT_ARG


def _digits(value: int) -> str:
    """'an integer of about 401 digits': str() of 4,300 digits or more raises in Python 3.11."""
    return f"an integer of about {int(abs(value).bit_length() * 0.30103) + 1:,} digits"


def _fmt(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else repr(value[:57]) + "..."
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**24:
        return _digits(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        value = list(value)
    return str(value)


def expand(value: Any, rank: int) -> tuple[int, ...]:
    """Keras's rule for sizes: an int means the same size along every axis."""
    if isinstance(value, (list, tuple)):
        return tuple(int(v) for v in value)
    return (int(value),) * rank


@dataclass
class LayerDef:
    """A supported layer: its group in the palette, what it does, and its parameters."""

    type: str
    group: str
    help: str
    params: list[Param]
    suggested: dict[str, Any] = field(default_factory=dict)
    min_rank: int | None = None  # input rank (with the batch axis) the layer needs
    max_rank: int | None = None
    rank_hint: str = ""

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def resolved(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """Every parameter's value: the given ones, the rest at their defaults."""
        out = {p.name: (None if p.required else p.default) for p in self.params}
        out.update(args)
        return out


@dataclass
class ObjectDef:
    """A supported optimizer, loss or metric."""

    type: str  # Keras class name, e.g. "Adam"
    alias: str  # the string Keras accepts, e.g. "adam"
    help: str
    params: list[Param] = field(default_factory=list)
    tasks: tuple[str, ...] = ()  # for losses and metrics: "binary", "multiclass", "regression"
    labels: tuple[str, ...] = ()  # label kinds a loss/metric expects: "integer", "one_hot", ...

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if p.name == name:
                return p
        return None


# -- parameter shorthands ---------------------------------------------------------------

def _activation(default: Any = None, required: bool = False) -> Param:
    return Param(
        "activation", "choice", REQUIRED if required else default,
        "The function applied to each output; none (linear) leaves values as they are.",
        choices=([] if required else [None]) + ACTIVATIONS, nullable=not required,
    )


def _use_bias() -> Param:
    return Param("use_bias", "bool", True, "Add a learned constant (bias) to each output.")


def _init(name: str, default: str, what: str) -> Param:
    return Param(name, "choice", default, f"How the {what} are set before training starts.",
                 choices=INITIALIZERS, advanced=True)


def _reg(name: str, what: str) -> Param:
    return Param(name, "choice", None, f"Penalty on large {what}, added to the loss.",
                 choices=REGULARIZERS, nullable=True, advanced=True)


def _rate(help_text: str) -> Param:
    return Param("rate", "float", REQUIRED, help_text, min=0.0, max=1.0, max_exclusive=True)


def _seed() -> Param:
    return Param("seed", "int", None, "Random seed for reproducible noise; empty for random.",
                 min=0, nullable=True, advanced=True)


def _padding(causal: bool = False) -> Param:
    choices = ["valid", "same"] + (["causal"] if causal else [])
    return Param(
        "padding", "choice", "valid",
        "valid: no padding, the output shrinks; same: pad so the output keeps the size"
        + ("; causal: pad only on the left (for time series)" if causal else "") + ".",
        choices=choices,
    )


def _pool(dims: int, required_size: bool) -> list[Param]:
    default_size = REQUIRED if required_size else (2 if dims == 1 else (2, 2))
    return [
        Param("pool_size", "size", default_size, "Size of the window each output summarises.",
              rank=dims),
        Param("strides", "size", None, "Step between windows; empty means the pool size.",
              rank=dims, nullable=True),
        _padding(),
    ]


def _conv(dims: int) -> list[Param]:
    one = 1 if dims == 1 else (1, 1)
    return [
        Param("filters", "int", REQUIRED, "Number of filters: the channels of the output.", min=1),
        Param("kernel_size", "size", REQUIRED, "Size of each filter's window.", rank=dims),
        Param("strides", "size", one, "Step of the window; above 1 shrinks the output.", rank=dims),
        _padding(causal=dims == 1),
        Param("dilation_rate", "size", one,
              "Spacing between the filter's taps; above 1 sees further with the same weights.",
              rank=dims, advanced=True),
        Param("groups", "int", 1,
              "Split channels into groups convolved separately; must divide input and filters.",
              min=1, advanced=True),
        _activation(),
        _use_bias(),
        _init("kernel_initializer", "glorot_uniform", "filter weights"),
        _init("bias_initializer", "zeros", "biases"),
        _reg("kernel_regularizer", "filter weights"),
        _reg("bias_regularizer", "biases"),
        _reg("activity_regularizer", "outputs"),
    ]


def _rnn(kind: str) -> list[Param]:
    params = [
        Param("units", "int", REQUIRED, "Size of the hidden state and of each output step.", min=1),
        Param("activation", "choice", "tanh", "Activation of the hidden state.",
              choices=[None] + ACTIVATIONS, nullable=True),
    ]
    if kind in ("LSTM", "GRU"):
        params.append(Param("recurrent_activation", "choice", "sigmoid",
                            "Activation of the gates.", choices=[None] + ACTIVATIONS,
                            nullable=True, advanced=True))
    params += [
        _use_bias(),
        Param("return_sequences", "bool", False,
              "Output every time step (needed before another recurrent layer), not just the last."),
        Param("go_backwards", "bool", False, "Read the sequence from the end.", advanced=True),
        Param("dropout", "float", 0.0, "Fraction of inputs dropped during training.",
              min=0.0, max=1.0, max_exclusive=True),
        Param("recurrent_dropout", "float", 0.0,
              "Fraction of the recurrent state dropped during training.",
              min=0.0, max=1.0, max_exclusive=True, advanced=True),
        _init("kernel_initializer", "glorot_uniform", "input weights"),
        _init("recurrent_initializer", "orthogonal", "recurrent weights"),
        _init("bias_initializer", "zeros", "biases"),
        _reg("kernel_regularizer", "input weights"),
        _reg("recurrent_regularizer", "recurrent weights"),
        _reg("bias_regularizer", "biases"),
        _seed(),
    ]
    if kind == "LSTM":
        params.append(Param("unit_forget_bias", "bool", True,
                            "Start the forget gate's bias at 1 so the cell remembers at first.",
                            advanced=True))
    if kind == "GRU":
        params.append(Param("reset_after", "bool", True,
                            "Apply the reset gate after the matrix product (the cuDNN form; "
                            "adds a second bias).", advanced=True))
    return params


_TRAINING_ONLY = (" Active only while training (fit); predict and evaluate see the images "
                  "unchanged.")


def _fill() -> list[Param]:
    """How a turned, zoomed or shifted image's new corners are filled."""
    return [
        Param("fill_mode", "choice", "reflect",
              "How the pixels that come in from outside are filled: reflect mirrors the "
              "image, wrap repeats it, nearest stretches the edge, constant uses fill_value "
              "(0 suits digits on a black background).",
              choices=["reflect", "wrap", "constant", "nearest"]),
        Param("interpolation", "choice", "bilinear",
              "How pixels between the grid points are read: bilinear blends, nearest copies.",
              choices=["bilinear", "nearest"], advanced=True),
        _seed(),
        Param("fill_value", "float", 0.0, "The value used when fill_mode is constant.",
              advanced=True),
    ]


def _value_range() -> Param:
    return Param("value_range", "range", (0, 255),
                 "The range of the incoming pixel values: [0, 255] for 8-bit pixels, [0, 1] "
                 "for LayerLab's image sets; results are clipped to it.")


def _size(name: str, what: str) -> Param:
    return Param(name, "int", REQUIRED, what, min=1)


def _name() -> Param:
    return Param("name", "str", None, "The layer's name in summaries and saved models.",
                 nullable=True, advanced=True)


GROUPS = ("core", "convolution", "pooling", "recurrent", "normalisation", "regularisation",
          "reshaping", "preprocessing", "augmentation")

_LAYERS: list[LayerDef] = [
    LayerDef("Dense", "core",
             "Fully connected: every output is a weighted sum of all inputs plus a bias.",
             [Param("units", "int", REQUIRED, "Number of neurons (outputs) of the layer.", min=1),
              _activation(), _use_bias(),
              _init("kernel_initializer", "glorot_uniform", "weights"),
              _init("bias_initializer", "zeros", "biases"),
              _reg("kernel_regularizer", "weights"), _reg("bias_regularizer", "biases"),
              _reg("activity_regularizer", "outputs")],
             suggested={"units": 32, "activation": "relu"}, min_rank=2),
    LayerDef("Activation", "core", "Applies an activation function to its input; no weights.",
             [_activation(required=True)], suggested={"activation": "relu"}),
    LayerDef("Embedding", "core",
             "Turns integer tokens (0 .. input_dim-1) into learned vectors of output_dim numbers.",
             [Param("input_dim", "int", REQUIRED, "Vocabulary size: largest token + 1.", min=1),
              Param("output_dim", "int", REQUIRED, "Length of each token's vector.", min=1),
              _init("embeddings_initializer", "uniform", "vectors"),
              _reg("embeddings_regularizer", "vectors"),
              Param("mask_zero", "bool", False,
                    "Treat token 0 as padding that later layers ignore.", advanced=True)],
             suggested={"input_dim": 1000, "output_dim": 16}),
    LayerDef("Rescaling", "preprocessing", "Multiplies inputs by scale and adds offset (e.g. 1/255 for pixels).",
             [Param("scale", "float", REQUIRED, "Factor each input is multiplied by."),
              Param("offset", "float", 0.0, "Value added after scaling.")],
             suggested={"scale": 1 / 255}),
    LayerDef("Conv1D", "convolution",
             "Slides filters along a sequence: input (steps, channels).", _conv(1),
             suggested={"filters": 16, "kernel_size": 3, "activation": "relu"},
             min_rank=3, max_rank=3, rank_hint="(steps, channels)"),
    LayerDef("Conv2D", "convolution",
             "Slides filters over an image: input (height, width, channels).", _conv(2),
             suggested={"filters": 16, "kernel_size": 3, "activation": "relu"},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("MaxPooling1D", "pooling", "Keeps the largest value of each window along a sequence.",
             _pool(1, False), min_rank=3, max_rank=3, rank_hint="(steps, channels)"),
    LayerDef("MaxPooling2D", "pooling", "Keeps the largest value of each window of an image.",
             _pool(2, False), min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("AveragePooling1D", "pooling", "Averages each window along a sequence.",
             _pool(1, True), suggested={"pool_size": 2},
             min_rank=3, max_rank=3, rank_hint="(steps, channels)"),
    LayerDef("AveragePooling2D", "pooling", "Averages each window of an image.",
             _pool(2, True), suggested={"pool_size": 2},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("GlobalAveragePooling1D", "pooling",
             "Averages over all steps: (steps, channels) becomes (channels).",
             [Param("keepdims", "bool", False, "Keep the pooled axis with length 1.", advanced=True)],
             min_rank=3, max_rank=3, rank_hint="(steps, channels)"),
    LayerDef("GlobalAveragePooling2D", "pooling",
             "Averages over the whole image: (height, width, channels) becomes (channels).",
             [Param("keepdims", "bool", False, "Keep the pooled axes with length 1.", advanced=True)],
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("GlobalMaxPooling1D", "pooling",
             "Takes the maximum over all steps: (steps, channels) becomes (channels).",
             [Param("keepdims", "bool", False, "Keep the pooled axis with length 1.", advanced=True)],
             min_rank=3, max_rank=3, rank_hint="(steps, channels)"),
    LayerDef("GlobalMaxPooling2D", "pooling",
             "Takes the maximum over the whole image: (height, width, channels) becomes (channels).",
             [Param("keepdims", "bool", False, "Keep the pooled axes with length 1.", advanced=True)],
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("SimpleRNN", "recurrent", "The plainest recurrent layer: reads a sequence step by step.",
             _rnn("SimpleRNN"), suggested={"units": 32},
             min_rank=3, max_rank=3, rank_hint="(steps, features)"),
    LayerDef("LSTM", "recurrent",
             "Long short-term memory: a recurrent layer with gates that keep long-range memory.",
             _rnn("LSTM"), suggested={"units": 32},
             min_rank=3, max_rank=3, rank_hint="(steps, features)"),
    LayerDef("GRU", "recurrent", "Gated recurrent unit: like LSTM with fewer weights.",
             _rnn("GRU"), suggested={"units": 32},
             min_rank=3, max_rank=3, rank_hint="(steps, features)"),
    LayerDef("Bidirectional", "recurrent",
             "Runs a recurrent layer forwards and backwards and merges the two outputs.",
             [Param("layer", "layer", REQUIRED, "The recurrent layer (LSTM or GRU) to run both ways."),
              Param("merge_mode", "choice", "concat",
                    "How the two directions are combined: concat doubles the size.",
                    choices=["concat", "sum", "mul", "ave"])],
             suggested={"layer": {"type": "LSTM", "units": 32}},
             min_rank=3, max_rank=3, rank_hint="(steps, features)"),
    LayerDef("BatchNormalization", "normalisation",
             "Normalises each channel with the batch's mean and variance, then scales and shifts.",
             [Param("axis", "int", -1, "The axis of the features (channels) to normalise.",
                    advanced=True),
              Param("momentum", "float", 0.99, "How slowly the running mean and variance move.",
                    min=0.0, max=1.0),
              Param("epsilon", "float", 0.001, "Small number added to the variance to avoid /0.",
                    min=0.0, min_exclusive=True),
              Param("center", "bool", True, "Learn an offset (beta) per channel."),
              Param("scale", "bool", True, "Learn a factor (gamma) per channel.")],
             min_rank=2),
    LayerDef("LayerNormalization", "normalisation",
             "Normalises each sample's features to mean 0 and variance 1, then scales and shifts.",
             [Param("axis", "int", -1, "The axis to normalise over.", advanced=True),
              Param("epsilon", "float", 0.001, "Small number added to the variance to avoid /0.",
                    min=0.0, min_exclusive=True),
              Param("center", "bool", True, "Learn an offset (beta) per feature."),
              Param("scale", "bool", True, "Learn a factor (gamma) per feature.")],
             min_rank=2),
    LayerDef("Dropout", "regularisation",
             "During training, sets a random fraction of inputs to 0 so no neuron is relied on alone.",
             [_rate("Fraction of the inputs dropped during training (0 to just under 1)."), _seed()],
             suggested={"rate": 0.2}),
    LayerDef("SpatialDropout1D", "regularisation",
             "Drops whole channels of a sequence during training, not single values.",
             [_rate("Fraction of the channels dropped during training."), _seed()],
             suggested={"rate": 0.2}, min_rank=3, max_rank=3, rank_hint="(steps, channels)"),
    LayerDef("SpatialDropout2D", "regularisation",
             "Drops whole feature maps of an image during training, not single pixels.",
             [_rate("Fraction of the feature maps dropped during training."), _seed()],
             suggested={"rate": 0.2}, min_rank=4, max_rank=4,
             rank_hint="(height, width, channels)"),
    LayerDef("GaussianNoise", "regularisation",
             "During training, adds random noise to the inputs; a regulariser and augmenter.",
             [Param("stddev", "float", REQUIRED, "Standard deviation of the noise.", min=0.0),
              _seed()],
             suggested={"stddev": 0.1}),
    LayerDef("Flatten", "reshaping", "Turns each sample into one long vector; no weights.", []),
    LayerDef("Reshape", "reshaping",
             "Gives each sample a new shape with the same number of values; -1 means 'the rest'.",
             [Param("target_shape", "shape", REQUIRED, "The new shape, without the batch axis.")],
             suggested={"target_shape": [-1, 1]}),
    LayerDef("UpSampling2D", "reshaping", "Repeats rows and columns to enlarge an image.",
             [Param("size", "size", (2, 2), "How many times each row and column is repeated.",
                    rank=2),
              Param("interpolation", "choice", "nearest", "How new pixels are filled in.",
                    choices=["nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"])],
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("ZeroPadding2D", "reshaping", "Adds rows and columns of zeros around an image.",
             [Param("padding", "padding2d", (1, 1),
                    "Zeros added: n on every side, (rows, cols), or ((top, bottom), (left, right)).")],
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("Resizing", "preprocessing",
             "Resizes every image to height x width (in training and in predict); no weights.",
             [_size("height", "Height of the output images, in pixels."),
              _size("width", "Width of the output images, in pixels."),
              Param("interpolation", "choice", "bilinear",
                    "How the new pixels are computed from the old ones.",
                    choices=["bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5"]),
              Param("crop_to_aspect_ratio", "bool", False,
                    "Crop the middle to the new aspect ratio first, so nothing is squashed."),
              Param("pad_to_aspect_ratio", "bool", False,
                    "Pad with fill_value to the new aspect ratio first, so nothing is squashed "
                    "or cut.", advanced=True),
              Param("fill_value", "float", 0.0, "The padding's value (pad_to_aspect_ratio).",
                    advanced=True),
              Param("antialias", "bool", False,
                    "Smooth before shrinking, so thin lines do not break up.", advanced=True)],
             suggested={"height": 32, "width": 32},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("CenterCrop", "preprocessing",
             "Keeps the middle height x width of every image (in training and in predict); "
             "no weights.",
             [_size("height", "Height of the middle part kept, in pixels."),
              _size("width", "Width of the middle part kept, in pixels.")],
             suggested={"height": 24, "width": 24},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("RandomFlip", "augmentation",
             "Flips images at random: left-right, upside down, or both." + _TRAINING_ONLY,
             [Param("mode", "choice", "horizontal_and_vertical",
                    "Which flips: horizontal mirrors left-right (not for digits or text), "
                    "vertical upside down.",
                    choices=["horizontal_and_vertical", "horizontal", "vertical"]),
              _seed()],
             suggested={"mode": "horizontal"},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("RandomRotation", "augmentation",
             "Turns images by a random angle." + _TRAINING_ONLY,
             [Param("factor", "factor", REQUIRED,
                    "Largest turn, as a fraction of a full circle: 0.1 turns by up to 36 degrees "
                    "either way; [lower, upper] sets each side (positive is counter-clockwise).",
                    min=-1.0, max=1.0, unit="turn"),
              *_fill()],
             suggested={"factor": 0.1},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("RandomZoom", "augmentation",
             "Zooms images in or out by a random amount." + _TRAINING_ONLY,
             [Param("height_factor", "factor", REQUIRED,
                    "Zoom of the height, as a fraction: 0.2 zooms in or out by up to 20%; "
                    "[lower, upper] sets the range (negative zooms in, positive out).",
                    min=-1.0, max=1.0, min_exclusive=True, unit="fraction"),
              Param("width_factor", "factor", None,
                    "Zoom of the width, as a fraction; empty: the same as the height's, which "
                    "keeps the aspect ratio.",
                    min=-1.0, max=1.0, min_exclusive=True, nullable=True, unit="fraction"),
              *_fill()],
             suggested={"height_factor": 0.1},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("RandomTranslation", "augmentation",
             "Shifts images up or down and left or right by a random amount." + _TRAINING_ONLY,
             [Param("height_factor", "factor", REQUIRED,
                    "Vertical shift, as a fraction of the height: 0.1 shifts by up to 10% up or "
                    "down; [lower, upper] sets each side (negative is up).",
                    min=-1.0, max=1.0, unit="fraction"),
              Param("width_factor", "factor", REQUIRED,
                    "Horizontal shift, as a fraction of the width: 0.1 shifts by up to 10% left "
                    "or right; [lower, upper] sets each side (negative is left).",
                    min=-1.0, max=1.0, unit="fraction"),
              *_fill()],
             suggested={"height_factor": 0.1, "width_factor": 0.1},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("RandomContrast", "augmentation",
             "Raises or lowers each image's contrast by a random amount." + _TRAINING_ONLY,
             [Param("factor", "factor", REQUIRED,
                    "Contrast change: 0.2 raises each image's contrast by up to 20% (one "
                    "number never lowers it in Keras 3); [0.2, 0.2] lowers or raises it by up "
                    "to 20% (the spread around the mean times 0.8 to 1.2).",
                    min=0.0, max=1.0, unit="fraction"),
              _value_range(), _seed()],
             suggested={"factor": 0.2, "value_range": [0, 1]},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
    LayerDef("RandomBrightness", "augmentation",
             "Brightens or darkens images by a random amount." + _TRAINING_ONLY,
             [Param("factor", "factor", REQUIRED,
                    "Brightness change, as a fraction of value_range: 0.2 adds up to 20% of it "
                    "or takes it away; [lower, upper] sets the range (negative darkens).",
                    min=-1.0, max=1.0, unit="fraction"),
              _value_range(), _seed()],
             suggested={"factor": 0.2, "value_range": [0, 1]},
             min_rank=4, max_rank=4, rank_hint="(height, width, channels)"),
]
for _layer in _LAYERS:
    _layer.params.append(_name())

LAYERS: dict[str, LayerDef] = {layer.type: layer for layer in _LAYERS}
RECURRENT_FOR_BIDIRECTIONAL = ("LSTM", "GRU", "SimpleRNN")
#: Layers that change images at random while training and pass them unchanged otherwise.
AUGMENTATION_LAYERS = tuple(d.type for d in _LAYERS if d.group == "augmentation")
#: Layers that take images shaped (height, width, channels) and give images back, with no
#: weights: the augmentations, and resizing and cropping (which act in predict too).
IMAGE_PREPROCESSING_LAYERS = ("Resizing", "CenterCrop", *AUGMENTATION_LAYERS)

# -- optimizers ---------------------------------------------------------------------------

def _lr(default: float) -> Param:
    return Param("learning_rate", "float", default,
                 "Step size of each update: too high diverges, too low crawls.",
                 min=0.0, min_exclusive=True, log=True)


def _beta(name: str, default: float, what: str) -> Param:
    return Param(name, "float", default, what, min=0.0, max=1.0, max_exclusive=True)


def _eps() -> Param:
    return Param("epsilon", "float", 1e-07, "Small constant that keeps divisions stable.",
                 min=0.0, min_exclusive=True, log=True, advanced=True)


def _common_opt(weight_decay: Any = None) -> list[Param]:
    return [
        Param("weight_decay", "float", weight_decay,
              "Shrinks the weights a little at every step (decoupled L2).",
              min=0.0, nullable=True, advanced=weight_decay is None),
        Param("clipnorm", "float", None, "Clip each weight's gradient to this norm.",
              min=0.0, min_exclusive=True, nullable=True, advanced=True),
        Param("clipvalue", "float", None, "Clip each gradient value to +/- this.",
              min=0.0, min_exclusive=True, nullable=True, advanced=True),
        Param("global_clipnorm", "float", None, "Clip all gradients together to this norm.",
              min=0.0, min_exclusive=True, nullable=True, advanced=True),
    ]


_OPTIMIZERS: list[ObjectDef] = [
    ObjectDef("SGD", "sgd", "Plain gradient descent, optionally with momentum; simple and robust.",
              [_lr(0.01),
               Param("momentum", "float", 0.0, "Keeps a fraction of the previous step (0 = none).",
                     min=0.0, max=1.0),
               Param("nesterov", "bool", False, "Use Nesterov momentum (looks ahead before stepping).")]
              + _common_opt()),
    ObjectDef("RMSprop", "rmsprop", "Divides each step by a running average of recent gradient sizes.",
              [_lr(0.001), _beta("rho", 0.9, "How slowly the average of squared gradients moves."),
               Param("momentum", "float", 0.0, "Keeps a fraction of the previous step.",
                     min=0.0, max=1.0),
               _eps(),
               Param("centered", "bool", False, "Normalise by the gradient's variance too.",
                     advanced=True)]
              + _common_opt()),
    ObjectDef("Adam", "adam", "Momentum plus per-weight step sizes; a good default for most models.",
              [_lr(0.001), _beta("beta_1", 0.9, "Decay of the running mean of gradients."),
               _beta("beta_2", 0.999, "Decay of the running mean of squared gradients."), _eps(),
               Param("amsgrad", "bool", False, "Use the AMSGrad variant.", advanced=True)]
              + _common_opt()),
    ObjectDef("AdamW", "adamw", "Adam with decoupled weight decay; often generalises better.",
              [_lr(0.001), _beta("beta_1", 0.9, "Decay of the running mean of gradients."),
               _beta("beta_2", 0.999, "Decay of the running mean of squared gradients."), _eps(),
               Param("amsgrad", "bool", False, "Use the AMSGrad variant.", advanced=True)]
              + _common_opt(weight_decay=0.004)),
    ObjectDef("Adagrad", "adagrad", "Per-weight steps that shrink for often-updated weights; sparse data.",
              [_lr(0.001),
               Param("initial_accumulator_value", "float", 0.1,
                     "Starting value of the per-weight sums.", min=0.0, advanced=True), _eps()]
              + _common_opt()),
    ObjectDef("Adadelta", "adadelta", "Adagrad with a moving window, less sensitive to the learning rate.",
              [_lr(0.001), _beta("rho", 0.95, "Decay rate of the running averages."), _eps()]
              + _common_opt()),
    ObjectDef("Adamax", "adamax", "Adam with the infinity norm; steady on embeddings.",
              [_lr(0.001), _beta("beta_1", 0.9, "Decay of the running mean of gradients."),
               _beta("beta_2", 0.999, "Decay of the running maximum of gradients."), _eps()]
              + _common_opt()),
    ObjectDef("Nadam", "nadam", "Adam with Nesterov momentum.",
              [_lr(0.001), _beta("beta_1", 0.9, "Decay of the running mean of gradients."),
               _beta("beta_2", 0.999, "Decay of the running mean of squared gradients."), _eps()]
              + _common_opt()),
    ObjectDef("Ftrl", "ftrl", "Follow-the-regularized-leader; for wide, sparse linear models.",
              [_lr(0.001),
               Param("learning_rate_power", "float", -0.5, "How the step shrinks over time.",
                     max=0.0, advanced=True),
               Param("initial_accumulator_value", "float", 0.1, "Starting value of the sums.",
                     min=0.0, advanced=True),
               Param("l1_regularization_strength", "float", 0.0, "L1 penalty.", min=0.0),
               Param("l2_regularization_strength", "float", 0.0, "L2 penalty.", min=0.0),
               Param("l2_shrinkage_regularization_strength", "float", 0.0, "L2 shrinkage penalty.",
                     min=0.0, advanced=True),
               Param("beta", "float", 0.0, "Smoothing term of the step size.", min=0.0,
                     advanced=True)]
              + _common_opt()),
    ObjectDef("Lion", "lion", "Sign-based momentum; use a 3-10x smaller learning rate than Adam.",
              [_lr(0.001), _beta("beta_1", 0.9, "Interpolation factor of the update."),
               _beta("beta_2", 0.99, "Decay of the momentum.")]
              + _common_opt()),
]
OPTIMIZERS: dict[str, ObjectDef] = {o.type: o for o in _OPTIMIZERS}

# -- losses -------------------------------------------------------------------------------

def _from_logits() -> Param:
    return Param("from_logits", "bool", False,
                 "The last layer outputs raw scores (no sigmoid/softmax); the loss applies it.")


def _smoothing() -> Param:
    return Param("label_smoothing", "float", 0.0, "Soften the 0/1 targets by this much.",
                 min=0.0, max=1.0)


_LOSSES: list[ObjectDef] = [
    ObjectDef("BinaryCrossentropy", "binary_crossentropy",
              "Two classes, one sigmoid output, labels 0 or 1.",
              [_from_logits(), _smoothing()], tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("BinaryFocalCrossentropy", "binary_focal_crossentropy",
              "Two classes with many easy examples: focuses training on the hard ones.",
              [_from_logits(), _smoothing(),
               Param("gamma", "float", 2.0, "How strongly easy examples are down-weighted.", min=0.0),
               Param("apply_class_balancing", "bool", False, "Weight classes by alpha."),
               Param("alpha", "float", 0.25, "Weight of the positive class when balancing.",
                     min=0.0, max=1.0)],
              tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("CategoricalCrossentropy", "categorical_crossentropy",
              "Several classes, softmax output, labels one-hot encoded.",
              [_from_logits(), _smoothing()], tasks=("multiclass", "binary"), labels=("one_hot",)),
    ObjectDef("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy",
              "Several classes, softmax output, labels as class numbers 0..K-1.",
              [_from_logits(),
               Param("ignore_class", "int", None, "A label value to leave out of the loss.",
                     nullable=True, advanced=True)],
              tasks=("multiclass", "binary"), labels=("integer", "binary")),
    ObjectDef("CategoricalFocalCrossentropy", "categorical_focal_crossentropy",
              "Several unbalanced classes, one-hot labels: focuses on the hard examples.",
              [_from_logits(), _smoothing(),
               Param("alpha", "float", 0.25, "Weighting factor.", min=0.0, max=1.0),
               Param("gamma", "float", 2.0, "How strongly easy examples are down-weighted.", min=0.0)],
              tasks=("multiclass", "binary"), labels=("one_hot",)),
    ObjectDef("MeanSquaredError", "mean_squared_error",
              "Regression: the average squared difference; punishes big errors.",
              [], tasks=("regression",), labels=("float",)),
    ObjectDef("MeanAbsoluteError", "mean_absolute_error",
              "Regression: the average absolute difference; robust to outliers.",
              [], tasks=("regression",), labels=("float",)),
    ObjectDef("MeanAbsolutePercentageError", "mean_absolute_percentage_error",
              "Regression: the error as a percentage of the target (targets far from 0).",
              [], tasks=("regression",), labels=("float",)),
    ObjectDef("MeanSquaredLogarithmicError", "mean_squared_logarithmic_error",
              "Regression on positive targets spanning orders of magnitude.",
              [], tasks=("regression",), labels=("float",)),
    ObjectDef("Huber", "huber", "Regression: squared for small errors, linear for big ones.",
              [Param("delta", "float", 1.0, "Error size where squared turns into linear.",
                     min=0.0, min_exclusive=True)],
              tasks=("regression",), labels=("float",)),
    ObjectDef("LogCosh", "log_cosh", "Regression: like Huber, smooth everywhere.",
              [], tasks=("regression",), labels=("float",)),
    ObjectDef("Poisson", "poisson", "Regression of counts (targets >= 0).",
              [], tasks=("regression",), labels=("float",)),
    ObjectDef("Hinge", "hinge", "Two classes, margin loss as in SVMs; labels -1/1 or 0/1.",
              [], tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("SquaredHinge", "squared_hinge", "Two classes, squared margin loss.",
              [], tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("CategoricalHinge", "categorical_hinge", "Several classes, margin loss, one-hot labels.",
              [], tasks=("multiclass",), labels=("one_hot",)),
    ObjectDef("KLDivergence", "kl_divergence",
              "Compare predicted and target probability distributions.",
              [], tasks=("multiclass",), labels=("one_hot",)),
    ObjectDef("CosineSimilarity", "cosine_similarity",
              "Match the direction of output vectors (embeddings).",
              [Param("axis", "int", -1, "Axis along which similarity is measured.", advanced=True)],
              tasks=("regression",), labels=("float",)),
]
LOSSES: dict[str, ObjectDef] = {o.type: o for o in _LOSSES}

# -- metrics ------------------------------------------------------------------------------

_METRICS: list[ObjectDef] = [
    ObjectDef("Accuracy", "accuracy",
              "Share of correct predictions; Keras picks the right kind for the loss.",
              tasks=("binary", "multiclass"), labels=("integer", "one_hot", "binary")),
    ObjectDef("BinaryAccuracy", "binary_accuracy", "Share correct, output thresholded at 0.5.",
              [Param("threshold", "float", 0.5, "Outputs above this count as class 1.",
                     min=0.0, max=1.0)],
              tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("CategoricalAccuracy", "categorical_accuracy",
              "Share correct for one-hot labels.", tasks=("multiclass",), labels=("one_hot",)),
    ObjectDef("SparseCategoricalAccuracy", "sparse_categorical_accuracy",
              "Share correct for integer labels.", tasks=("multiclass",), labels=("integer",)),
    ObjectDef("TopKCategoricalAccuracy", "top_k_categorical_accuracy",
              "Share whose true class is among the k most likely (one-hot labels).",
              [Param("k", "int", 5, "How many top guesses count.", min=1)],
              tasks=("multiclass",), labels=("one_hot",)),
    ObjectDef("SparseTopKCategoricalAccuracy", "sparse_top_k_categorical_accuracy",
              "Share whose true class is among the k most likely (integer labels).",
              [Param("k", "int", 5, "How many top guesses count.", min=1)],
              tasks=("multiclass",), labels=("integer",)),
    ObjectDef("AUC", "auc", "Area under the ROC curve: ranking quality, 0.5 is chance.",
              [Param("num_thresholds", "int", 200, "Thresholds used to draw the curve.", min=2,
                     advanced=True),
               Param("curve", "choice", "ROC", "ROC or precision-recall curve.",
                     choices=["ROC", "PR"])],
              tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("Precision", "precision", "Of the predicted positives, the share truly positive.",
              [Param("thresholds", "float", None, "Decision threshold (0.5 when empty).",
                     min=0.0, max=1.0, nullable=True)],
              tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("Recall", "recall", "Of the true positives, the share found.",
              [Param("thresholds", "float", None, "Decision threshold (0.5 when empty).",
                     min=0.0, max=1.0, nullable=True)],
              tasks=("binary",), labels=("binary", "integer")),
    ObjectDef("MeanAbsoluteError", "mae", "Regression: average absolute error.",
              tasks=("regression",), labels=("float",)),
    ObjectDef("MeanSquaredError", "mse", "Regression: average squared error.",
              tasks=("regression",), labels=("float",)),
    ObjectDef("RootMeanSquaredError", "root_mean_squared_error",
              "Regression: square root of MSE, in the target's units.",
              tasks=("regression",), labels=("float",)),
    ObjectDef("R2Score", "r2_score", "Regression: 1 is perfect, 0 is as good as predicting the mean.",
              tasks=("regression",), labels=("float",)),
]
METRICS: dict[str, ObjectDef] = {o.type: o for o in _METRICS}


# -- callbacks ----------------------------------------------------------------------------

def _monitor(default: str = "val_loss") -> Param:
    return Param("monitor", "str", default, "The logged quantity to watch, e.g. val_loss or val_accuracy.")


def _mode() -> Param:
    return Param("mode", "choice", "auto",
                 "Whether the monitored quantity should go down (min) or up (max); auto guesses.",
                 choices=["auto", "min", "max"], advanced=True)


_CALLBACKS: list[ObjectDef] = [
    ObjectDef("EarlyStopping", "early_stopping",
              "Stops training when the monitored quantity stops improving.",
              [_monitor(),
               Param("patience", "int", 0, "Epochs without improvement before stopping.", min=0),
               Param("min_delta", "float", 0, "Smallest change that counts as improvement.", min=0.0),
               _mode(),
               Param("restore_best_weights", "bool", False,
                     "When stopping, go back to the weights of the best epoch."),
               Param("start_from_epoch", "int", 0, "Epochs to wait before watching.", min=0,
                     advanced=True)]),
    ObjectDef("ModelCheckpoint", "model_checkpoint",
              "Saves the model (or only its weights) during training.",
              [Param("filepath", "str", REQUIRED,
                     "Where to save; may contain {epoch}. Relative to the project's folder."),
               _monitor(),
               Param("save_best_only", "bool", False, "Only save when the monitored value improves."),
               Param("save_weights_only", "bool", False, "Save only the weights (.weights.h5)."),
               _mode()]),
    ObjectDef("ReduceLROnPlateau", "reduce_lr_on_plateau",
              "Lowers the learning rate when the monitored quantity stops improving.",
              [_monitor(),
               Param("factor", "float", 0.1, "Multiply the learning rate by this.", min=0.0,
                     max=1.0, min_exclusive=True, max_exclusive=True),
               Param("patience", "int", 10, "Epochs without improvement before lowering.", min=0),
               Param("min_delta", "float", 0.0001, "Smallest change that counts as improvement.",
                     min=0.0),
               Param("cooldown", "int", 0, "Epochs to wait after a change.", min=0, advanced=True),
               Param("min_lr", "float", 0.0, "Never go below this learning rate.", min=0.0),
               _mode()]),
    ObjectDef("TensorBoard", "tensorboard", "Writes logs that TensorBoard can show.",
              [Param("log_dir", "str", "logs", "Folder for the logs, relative to the project."),
               Param("histogram_freq", "int", 0, "Every how many epochs to log weight histograms.",
                     min=0, advanced=True),
               Param("update_freq", "choice", "epoch", "Log every epoch or every batch.",
                     choices=["epoch", "batch"], advanced=True)]),
    ObjectDef("CSVLogger", "csv_logger", "Appends each epoch's logs to a CSV file.",
              [Param("filename", "str", REQUIRED, "The CSV file, relative to the project."),
               Param("separator", "str", ",", "Column separator.", advanced=True),
               Param("append", "bool", False, "Add to an existing file instead of replacing it.")]),
    ObjectDef("TerminateOnNaN", "terminate_on_nan",
              "Stops training as soon as the loss becomes NaN (not a number).", []),
]
CALLBACKS: dict[str, ObjectDef] = {o.type: o for o in _CALLBACKS}


def _alias_index(defs: Iterable[ObjectDef], extra: Mapping[str, str]) -> dict[str, str]:
    index = {d.alias: d.type for d in defs}
    index.update({d.type.lower(): d.type for d in defs})
    index.update(extra)
    return index


_LOSS_ALIASES = _alias_index(_LOSSES, {"mse": "MeanSquaredError", "mae": "MeanAbsoluteError",
                                       "mape": "MeanAbsolutePercentageError",
                                       "msle": "MeanSquaredLogarithmicError",
                                       "kld": "KLDivergence", "huber_loss": "Huber"})
_METRIC_ALIASES = _alias_index(_METRICS, {"acc": "Accuracy", "mean_absolute_error": "MeanAbsoluteError",
                                          "mean_squared_error": "MeanSquaredError",
                                          "rmse": "RootMeanSquaredError", "r2": "R2Score"})
_OPTIMIZER_ALIASES = _alias_index(_OPTIMIZERS, {})


def optimizer_def(name: str) -> ObjectDef | None:
    """The optimizer for a class name or Keras string ("adam", "Adam")."""
    key = _OPTIMIZER_ALIASES.get(name) or _OPTIMIZER_ALIASES.get(name.lower())
    return OPTIMIZERS.get(key) if key else None


def loss_def(name: str) -> ObjectDef | None:
    """The loss for a class name or Keras string ("binary_crossentropy", "mse")."""
    key = _LOSS_ALIASES.get(name) or _LOSS_ALIASES.get(name.lower())
    return LOSSES.get(key) if key else None


def metric_def(name: str) -> ObjectDef | None:
    """The metric for a class name or Keras string ("accuracy", "AUC", "mae")."""
    key = _METRIC_ALIASES.get(name) or _METRIC_ALIASES.get(name.lower())
    return METRICS.get(key) if key else None


def layer_def(type_name: str) -> LayerDef | None:
    return LAYERS.get(type_name)


def layers_by_group() -> dict[str, list[LayerDef]]:
    """Layers in palette order, grouped."""
    groups: dict[str, list[LayerDef]] = {g: [] for g in GROUPS}
    for layer in _LAYERS:
        groups[layer.group].append(layer)
    return groups


def check_args(definition: LayerDef | ObjectDef, args: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every problem with a set of arguments, as (argument name, message) pairs.

    Unknown arguments, missing required ones and values out of range are all reported at
    once, so a person fixes them in one go.
    """
    problems: list[tuple[str, str]] = []
    known = {p.name for p in definition.params}
    for key in args:
        if key not in known:
            names = ", ".join(sorted(known)) or "none"
            problems.append((key, f"{definition.type} has no argument '{key}' (it takes: {names})"))
    for p in definition.params:
        if p.name not in args:
            if p.required:
                problems.append((p.name, f"{definition.type} needs '{p.name}': {p.expected()}"))
            continue
        message = p.check(args[p.name])
        if message:
            problems.append((p.name, message))
    return problems


def non_default_args(definition: LayerDef | ObjectDef, args: Mapping[str, Any]) -> dict[str, Any]:
    """Drops arguments equal to Keras's defaults, as the spec stores only the differences."""
    out = {}
    for key, value in args.items():
        p = definition.param(key)
        if p is None or not p.same_as_default(value):
            out[key] = value
    return out


# -- keeping the snapshot honest ------------------------------------------------------------

_SKIP_SIGNATURE = {"self", "kwargs", "args", "name", "dtype"}


def _keras_default(value: Any) -> Any:
    return _listify(value) if isinstance(value, tuple) else value


_REQUIRED_MARK = "__required__"
_SECTIONS = ("layers", "optimizers", "losses", "metrics", "callbacks")


def _plain_default(value: Any) -> Any:
    """A Keras default as plain data for the engine's hello (JSON-able, or a marker)."""
    value = _keras_default(value)
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list) and all(isinstance(v, (int, float, str, type(None))) for v in value):
        return value
    return {"__repr__": repr(value)}  # compared as text; never applied


def read_keras_facts() -> dict[str, Any]:
    """What the catalog takes from the installed Keras, as plain data.

    Runs in the engine process (it imports Keras); the window applies the result with
    `apply_keras_facts`, so it never imports Keras itself.
    """
    import inspect

    import keras

    activations = sorted(
        n for n in dir(keras.activations)
        if not n.startswith("_") and n not in ("get", "serialize", "deserialize")
    )
    signatures: dict[str, dict[str, Any]] = {}
    for section, defs in zip(_SECTIONS, (_LAYERS, _OPTIMIZERS, _LOSSES, _METRICS, _CALLBACKS)):
        namespace = getattr(keras, section)
        for definition in defs:
            cls = getattr(namespace, definition.type, None)
            if cls is None:
                continue
            sig = inspect.signature(cls.__init__).parameters
            signatures[f"{section}.{definition.type}"] = {
                name: _REQUIRED_MARK if param.default is inspect.Parameter.empty
                else _plain_default(param.default)
                for name, param in sig.items()
            }
    return {"activations": activations, "signatures": signatures}


def apply_keras_facts(facts: dict[str, Any]) -> list[str]:
    """Takes the activation names and defaults of `read_keras_facts` into the catalog.

    Returns the differences it found between the snapshot and Keras, in words. The test
    suite asserts this list is empty; at run time the catalog simply takes Keras's values.
    """
    drift: list[str] = []
    names = list(facts.get("activations") or [])
    missing = sorted(set(ACTIVATIONS) ^ set(names))
    if missing:
        drift.append(f"activations differ: {missing}")
    ACTIVATIONS[:] = [a for a in ACTIVATIONS if a in names] + [a for a in names if a not in ACTIVATIONS]
    for definition in _LAYERS:
        for p in definition.params:
            if p.name == "activation" or p.name.endswith("_activation"):
                p.choices = ([None] if p.nullable else []) + list(ACTIVATIONS)
    signatures = facts.get("signatures") or {}
    for section, defs in zip(_SECTIONS, (_LAYERS, _OPTIMIZERS, _LOSSES, _METRICS, _CALLBACKS)):
        for definition in defs:
            sig = signatures.get(f"{section}.{definition.type}")
            if sig is None:
                drift.append(f"keras has no {definition.type}")
                continue
            for p in list(definition.params):
                if p.name in _SKIP_SIGNATURE:
                    continue
                if p.name not in sig:
                    drift.append(f"{definition.type}.{p.name} is not an argument in this Keras")
                    definition.params.remove(p)
                    continue
                theirs = sig[p.name]
                if isinstance(theirs, dict):
                    continue  # a default that is not plain data: nothing to take
                theirs = REQUIRED if theirs == _REQUIRED_MARK else theirs
                ours = _keras_default(p.default)
                if theirs != ours and not (
                    theirs is not REQUIRED and ours is not REQUIRED and p.kind == "size"
                    and theirs is not None and ours is not None
                    and expand(theirs, p.rank) == expand(ours, p.rank)
                ):
                    drift.append(f"{definition.type}.{p.name}: LayerLab says {ours!r}, Keras {theirs!r}")
                    p.default = theirs
    return drift


def sync_with_keras() -> list[str]:
    """Reads defaults and activation names from the installed Keras, in this process."""
    return apply_keras_facts(read_keras_facts())
