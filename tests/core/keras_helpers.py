"""Reading Keras's own numbers off a built model, for comparison with the summary."""

from __future__ import annotations

import math


def keras_rows(model) -> list[tuple[tuple, int, int]]:
    """(output shape, params, trainable params) for each layer of a built Sequential."""
    rows = []
    for layer in model.layers:
        trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
        rows.append((tuple(layer.output.shape), layer.count_params(), trainable))
    return rows
