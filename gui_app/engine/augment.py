"""The engine's side of the augmentation preview: the model's leading image layers run on a
few samples, once as predict runs them and once as training does.

The layers are built afresh from the spec for each call, not taken from a session's
model: they have no weights, so nothing is lost, the preview works before any training,
and it never waits for (or disturbs) a run on the training thread. Each Random* layer
gets its own seed from the call's seed, so a call with a new seed is a re-roll and a
call with the same seed draws the same images.

Runs in the engine process only; Keras is imported on the first call.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..core.augment import MAX_PREVIEW_SAMPLES, AugmentedSamples, leading_layers, preview_problem
from ..core.build import build_layer
from ..core.catalog import LAYERS
from ..core.spec import ModelSpec, layer_names

#: Seeds are kept below this, so `seed + layer index` is still a valid Keras seed.
MAX_SEED = 2**31 - 1024


def fresh_seed() -> int:
    return secrets.randbelow(MAX_SEED)


def augment_samples(model: ModelSpec | Mapping[str, Any], x: Any, seed: int | None = None,
                    keras: Any = None) -> AugmentedSamples:
    """The samples `x` through the model's leading layers (`core.augment.leading_layers`),
    without and with training.

    Args:
        model: the model spec (or its JSON form, as the window sends it).
        x: (n, *input_shape) samples as the model gets them (after any standardisation),
            1 to MAX_PREVIEW_SAMPLES of them.
        seed: the draw's seed; None draws a fresh one (a re-roll).
        keras: the `keras` module (imported here when None).

    Raises:
        ValueError: when the model does not start with augmentation layers that give
            images, or `x` is not a few finite samples of the model's input shape; the
            message says which and how to fix it.
    """
    spec = model if isinstance(model, ModelSpec) else ModelSpec.from_json(model)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 2 or not 1 <= len(x) <= MAX_PREVIEW_SAMPLES:
        raise ValueError(f"x: expected 1 to {MAX_PREVIEW_SAMPLES} samples with a batch axis, "
                         f"got an array shaped {list(x.shape)}")
    problem = preview_problem(spec, x.shape[1:])
    if problem:
        raise ValueError(problem)
    if not np.all(np.isfinite(x)):
        raise ValueError("x: expected finite numbers, got NaN or infinity in the samples")
    if seed is None:
        seed = fresh_seed()
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < MAX_SEED:
        raise ValueError(f"seed: expected an integer from 0 to {MAX_SEED - 1}, got {seed!r}")
    if keras is None:
        import keras

    count = leading_layers(spec)
    names = layer_names(spec.layers)[:count]
    original = augmented = keras.ops.convert_to_tensor(x)
    for i, layer in enumerate(spec.layers[:count]):
        if LAYERS[layer.type].param("seed") is not None:
            layer = layer.with_args(seed=seed + i)
        built = build_layer(layer, f"preview_{names[i]}")
        original = built(original, training=False)
        augmented = built(augmented, training=True)
    return AugmentedSamples(
        original=np.asarray(keras.ops.convert_to_numpy(original), dtype=np.float32),
        augmented=np.asarray(keras.ops.convert_to_numpy(augmented), dtype=np.float32),
        seed=int(seed), layers=tuple(names))
