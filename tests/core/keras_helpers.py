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


def sigmoid_stack():
    """Issue 13's student case: ten sigmoid layers of 16 on the circle, Adam at 0.01; its
    first layers barely learn (vanishing gradients)."""
    from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project

    layers = tuple(LayerSpec("Dense", {"units": 16, "activation": "sigmoid"})
                   for _ in range(10))
    return Project(
        name="Ten sigmoid layers",
        model=ModelSpec((2,), (*layers, LayerSpec("Dense", {"units": 1,
                                                            "activation": "sigmoid"}))),
        compile=CompileSpec(ObjectSpec("Adam", {"learning_rate": 0.01}),
                            ObjectSpec("binary_crossentropy"), (ObjectSpec("accuracy"),)),
        data={"source": "circle", "samples": 500, "noise": 0.1, "seed": 0,
              "validation_split": 0.2},
        fit={"epochs": 30, "batch_size": 32, "seed": 0})
