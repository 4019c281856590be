"""The probe's forward and backward pass in NumPy, for small Dense networks.

Why: the compiled probe (`stats._tensorflow_probe`) costs a quarter to half a second of
tracing before its first sample, which is 3 to 5 % of a whole 60-epoch run of the circle
lesson, and about a millisecond per call for arithmetic NumPy does in a tenth of that. For the
Dense networks that LayerLab's lessons train (Dense layers with plain activations, up to
the 784-300-100-10 MLP), the pass below is written out by hand: the same numbers as
Keras's (tests/core/test_diagnostics.py compares them), no tracing, a fraction of a
millisecond for the Playground-sized ones. Any other model, loss or
regulariser takes the compiled path.

Only NumPy is imported; the model's variables are read through `to_numpy`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Up to this many parameters the NumPy pass is the cheaper one. Measured on two shared
#: cores with one BLAS thread (`training.hygiene.quiet_blas`, as the session runs): the
#: 784-300-100-10 MLP (266,610 parameters) costs 2.6 ms a sample here against 2.1 ms
#: compiled, plus 0.24 s of tracing before the compiled one's first sample, so NumPy is
#: cheaper for any run of fewer than about 500 samples; a training batch of that MLP
#: takes 8.6 ms. Bigger models (and every non-Dense one) take the compiled path.
NUMPY_MAX_PARAMS = 300_000
#: Layers that do nothing at inference, as the probe runs.
PASS_THROUGH = frozenset({"Dropout", "GaussianNoise", "GaussianDropout", "AlphaDropout",
                          "ActivityRegularization", "InputLayer", "Flatten"})
#: (x, y) -> ([loss, gradient norms..., unit shares...], kernels read, outputs of the
#: weighted layers on x), the last two by layer index; the compiled probes read no kernels
#: (an empty dict) and give each output flattened and thinned (`stats._thinned`).
ProbeFunction = Callable[[np.ndarray, np.ndarray],
                         tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]]
#: Keras clips probabilities to [EPSILON, 1 - EPSILON] before taking their log.
EPSILON = 1e-7


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * z))  # no overflow warning for large |z|


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


#: name -> (the function, its derivative from (z, output)).
_ACTS: dict[str, tuple[Callable[[np.ndarray], np.ndarray],
                       Callable[[np.ndarray, np.ndarray], np.ndarray]]] = {
    "linear": (lambda z: z, lambda z, a: np.ones_like(z)),
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "relu6": (lambda z: np.clip(z, 0.0, 6.0),
              lambda z, a: ((z > 0) & (z < 6)).astype(z.dtype)),
    "leaky_relu": (lambda z: np.where(z > 0, z, 0.2 * z),
                   lambda z, a: np.where(z > 0, 1.0, 0.2).astype(z.dtype)),
    "sigmoid": (_sigmoid, lambda z, a: a * (1.0 - a)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
}
#: Losses written out below, by Keras's function or class name.
_LOSSES = {"binary_crossentropy": "bce", "BinaryCrossentropy": "bce",
           "sparse_categorical_crossentropy": "sparse", "SparseCategoricalCrossentropy": "sparse",
           "categorical_crossentropy": "categorical", "CategoricalCrossentropy": "categorical",
           "mean_squared_error": "mse", "MeanSquaredError": "mse", "mse": "mse",
           "mean_absolute_error": "mae", "MeanAbsoluteError": "mae", "mae": "mae"}


def _loss_kind(loss: Any) -> tuple[str, bool] | None:
    """("bce" | "sparse" | "categorical" | "mse" | "mae", from_logits), or None."""
    if isinstance(loss, str):
        kind = _LOSSES.get(loss)
        return (kind, False) if kind else None
    kind = _LOSSES.get(type(loss).__name__)
    if kind is None:
        return None
    config = loss.get_config() if hasattr(loss, "get_config") else {}
    if config.get("label_smoothing") or config.get("reduction") not in (None, "sum_over_batch_size"):
        return None
    return kind, bool(config.get("from_logits", False))


class _Step:
    """One Dense layer (with its activation) or an Activation layer, as the pass sees it."""

    __slots__ = ("index", "kernel", "bias", "act")

    def __init__(self, index: int, kernel: Any, bias: Any, act: str) -> None:
        self.index = index
        self.kernel = kernel
        self.bias = bias
        self.act = act


def numpy_probe(model: Any, kernel_order: list[int], activation_order: list[tuple[int, str, str]],
                flat_ends: dict[str, tuple[float, float]], saturated_share: float,
                to_numpy: Callable[[Any], np.ndarray]) -> ProbeFunction | None:
    """The probe function for a small Dense model, or None when the model is not one.

    Returns a function of (x, y) giving what the compiled probe gives (the loss, the
    kernel gradient norms in `kernel_order`, the unit shares in `activation_order`, the
    outputs of the layers in `kernel_order`) and the kernels it read, by layer index, which
    the caller reuses for the weight norms.
    """
    try:
        if model.count_params() > NUMPY_MAX_PARAMS or len(model.input_shape) != 2:
            return None
        loss = _loss_kind(model.loss)
        if loss is None or getattr(model, "losses", None):
            return None
        steps: list[_Step] = []
        for i, layer in enumerate(model.layers):
            kind = type(layer).__name__
            if kind in PASS_THROUGH:
                continue
            act = getattr(getattr(layer, "activation", None), "__name__", None)
            if kind == "Activation":
                if act not in _ACTS and not (act == "softmax" and i == len(model.layers) - 1):
                    return None
                steps.append(_Step(i, None, None, act))
                continue
            if kind != "Dense" or getattr(layer, "lora_enabled", False) \
                    or getattr(layer, "quantization_mode", None):
                return None
            if any(getattr(layer, f"{r}_regularizer", None) is not None
                   for r in ("kernel", "bias", "activity")):
                return None
            if act not in _ACTS and not (act == "softmax" and i == len(model.layers) - 1):
                return None
            steps.append(_Step(i, layer.kernel, layer.bias if layer.use_bias else None, act))
    except Exception:  # noqa: BLE001 - an unusual model: the compiled path handles it
        return None
    kind, from_logits = loss
    last = steps[-1].act if steps else "linear"
    if kind in ("bce",) and not (last == "sigmoid" or (last == "linear" and from_logits)):
        return None
    if kind in ("sparse", "categorical") and not (
            last == "softmax" or (last == "linear" and from_logits)):
        return None
    if kind in ("mse", "mae") and (from_logits or last == "softmax"):
        return None
    position = {index: k for k, index in enumerate(kernel_order)}
    shares_at = {index: (k, what, act) for k, (index, what, act) in enumerate(activation_order)}

    def probe(x: np.ndarray, y: np.ndarray
              ) -> tuple[np.ndarray, dict[int, np.ndarray], dict[int, np.ndarray]]:
        # Each variable is read once: a read costs 20 to 200 microseconds (an eager op),
        # more than the arithmetic of a Playground network.
        kernels = {step.index: to_numpy(step.kernel) for step in steps if step.kernel is not None}
        biases = {step.index: to_numpy(step.bias) for step in steps if step.bias is not None}
        h = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
        n = len(h)
        trail: list[tuple[_Step, np.ndarray, np.ndarray, np.ndarray]] = []  # (step, in, z, out)
        shares = [0.0] * len(activation_order)
        for step in steps:
            z = h
            if step.kernel is not None:
                z = h @ kernels[step.index]
                if step.bias is not None:
                    z = z + biases[step.index]
            out = _softmax(z) if step.act == "softmax" else _ACTS[step.act][0](z)
            trail.append((step, h, z, out))
            if step.index in shares_at:
                k, what, act = shares_at[step.index]
                shares[k] = _share(out, what, act, flat_ends, saturated_share)
            h = out
        value, grad = _loss_and_gradient(kind, from_logits, trail[-1][2], h, np.asarray(y), n)
        norms = [float("nan")] * len(kernel_order)
        first = next((i for i, item in enumerate(trail) if item[0].kernel is not None), 0)
        for k, (step, x_in, z, out) in enumerate(reversed(trail)):
            if len(trail) - 1 - k < first:
                break  # below the first kernel nothing needs a gradient
            folded = k == 0 and kind in ("bce", "sparse", "categorical")
            if not folded:  # the output's sigmoid or softmax is folded into `grad`
                grad = grad * _ACTS[step.act][1](z, out)
            if step.kernel is not None:
                if step.index in position:
                    norms[position[step.index]] = float(np.linalg.norm(x_in.T @ grad))
                grad = grad @ kernels[step.index].T
        outputs = {step.index: out for step, _, _, out in trail if step.index in position}
        return np.asarray([value, *norms, *shares], dtype=np.float64), kernels, outputs

    return probe


def _share(out: np.ndarray, what: str, act: str, flat_ends: dict[str, tuple[float, float]],
           saturated_share: float) -> float:
    """Share of dead (never positive) or saturated units of one layer's output."""
    if what == "dead":
        return float(1.0 - np.mean(out.max(axis=0) > 0))
    low, high = flat_ends[act]
    flat = ((out <= low) | (out >= high)).mean(axis=0)
    return float(np.mean(flat >= saturated_share))


def _loss_and_gradient(kind: str, from_logits: bool, z: np.ndarray, out: np.ndarray,
                       y: np.ndarray, n: int) -> tuple[float, np.ndarray]:
    """The mean loss and its gradient: with respect to the last pre-activation `z` for
    the crossentropies (sigmoid and softmax folded in, as Keras computes them from the
    logits), with respect to the output for the regression losses."""
    if kind == "bce":
        target = y.reshape(out.shape).astype(np.float64)
        p = _sigmoid(z) if from_logits else out
        clipped = np.clip(p, EPSILON, 1 - EPSILON)
        value = float(np.mean(-(target * np.log(clipped) + (1 - target) * np.log(1 - clipped))))
        return value, (p - target) / (n * out.shape[-1])
    if kind in ("sparse", "categorical"):
        p = _softmax(z) if from_logits else out
        if kind == "sparse":
            target = np.zeros_like(p)
            target[np.arange(n), y.reshape(n).astype(int)] = 1.0
        else:
            target = y.reshape(p.shape).astype(np.float64)
        clipped = np.clip(p, EPSILON, 1 - EPSILON)
        value = float(np.mean(-np.sum(target * np.log(clipped), axis=-1)))
        return value, (p - target) / n
    target = y.reshape(out.shape).astype(np.float64)
    diff = out - target
    k = out.shape[-1]
    if kind == "mse":
        return float(np.mean(diff * diff)), 2.0 * diff / (n * k)
    return float(np.mean(np.abs(diff))), np.sign(diff) / (n * k)
