"""A seeded generator of layer stacks, valid and invalid, for comparing with Keras."""

from __future__ import annotations

import random

from gui_app.core.spec import LayerSpec, ModelSpec


def _act(r: random.Random) -> dict:
    return {"activation": r.choice(["relu", "tanh", "sigmoid", "softmax", "gelu"])} if r.random() < 0.7 else {}


def _dense(r):
    a = {"units": r.choice([1, 3, 8, 16, 33])} | _act(r)
    if r.random() < 0.2:
        a["use_bias"] = False
    return LayerSpec("Dense", a)


def _flat_layer(r):
    c = r.random()
    if c < 0.5:
        return _dense(r)
    if c < 0.6:
        return LayerSpec("Dropout", {"rate": r.choice([0.0, 0.1, 0.5])})
    if c < 0.7:
        return LayerSpec("BatchNormalization", {"center": r.random() < 0.8, "scale": r.random() < 0.8})
    if c < 0.8:
        return LayerSpec("LayerNormalization", {"scale": r.random() < 0.7})
    if c < 0.9:
        return LayerSpec("Activation", {"activation": "relu"})
    return LayerSpec("GaussianNoise", {"stddev": 0.1})


def _image_layer(r):
    c = r.random()
    if c < 0.35:
        a = {"filters": r.choice([1, 4, 8]), "kernel_size": r.choice([1, 2, 3, [3, 2], 5])}
        if r.random() < 0.3:
            a["padding"] = "same"
        if r.random() < 0.3:
            a["strides"] = r.choice([2, [1, 2]])
        elif r.random() < 0.2:
            a["dilation_rate"] = 2
        if r.random() < 0.1:
            a["groups"] = 2
        if r.random() < 0.2:
            a["use_bias"] = False
        return LayerSpec("Conv2D", a | _act(r))
    if c < 0.5:
        t = r.choice(["MaxPooling2D", "AveragePooling2D"])
        a = {"pool_size": r.choice([2, 3, [2, 1]])}
        if r.random() < 0.3:
            a["strides"] = r.choice([1, 2])
        if r.random() < 0.3:
            a["padding"] = "same"
        return LayerSpec(t, a)
    if c < 0.6:
        return LayerSpec("UpSampling2D", {"size": r.choice([2, [1, 2]])} if r.random() < 0.5 else {})
    if c < 0.7:
        return LayerSpec("ZeroPadding2D", {"padding": r.choice([1, 2, [1, 0], [[1, 0], [2, 3]]])})
    if c < 0.78:
        return LayerSpec("SpatialDropout2D", {"rate": 0.2})
    if c < 0.86:
        return LayerSpec("BatchNormalization", {})
    if c < 0.92:
        return LayerSpec("Rescaling", {"scale": 0.5, "offset": 1.0})
    return LayerSpec("Activation", {"activation": "relu"})


def _seq_layer(r):
    c = r.random()
    if c < 0.3:
        t = r.choice(["SimpleRNN", "LSTM", "GRU"])
        a = {"units": r.choice([2, 5, 8])}
        if r.random() < 0.7:
            a["return_sequences"] = True
        if t == "GRU" and r.random() < 0.3:
            a["reset_after"] = False
        if r.random() < 0.15:
            a["use_bias"] = False
        return LayerSpec(t, a)
    if c < 0.4:
        inner = {"type": r.choice(["LSTM", "GRU"]), "units": r.choice([3, 4])}
        if r.random() < 0.6:
            inner["return_sequences"] = True
        a = {"layer": inner}
        if r.random() < 0.4:
            a["merge_mode"] = r.choice(["sum", "ave", "mul"])
        return LayerSpec("Bidirectional", a)
    if c < 0.6:
        a = {"filters": r.choice([2, 6]), "kernel_size": r.choice([1, 2, 3, 5])}
        if r.random() < 0.4:
            a["padding"] = r.choice(["same", "causal"])
        if r.random() < 0.3:
            a["strides"] = 2
        return LayerSpec("Conv1D", a | _act(r))
    if c < 0.72:
        t = r.choice(["MaxPooling1D", "AveragePooling1D"])
        return LayerSpec(t, {"pool_size": r.choice([2, 3])} | ({"padding": "same"} if r.random() < 0.3 else {}))
    if c < 0.8:
        return LayerSpec("SpatialDropout1D", {"rate": 0.3})
    if c < 0.9:
        return LayerSpec("LayerNormalization", {})
    return _dense(r)


def _wrong_layer(r, rank):
    """Something that may not fit: used to make invalid stacks."""
    c = r.random()
    if c < 0.2:
        return LayerSpec("Conv2D", {"filters": 4, "kernel_size": r.choice([3, 9, 40])})
    if c < 0.35:
        return LayerSpec("LSTM", {"units": 4})
    if c < 0.5:
        return LayerSpec("Reshape", {"target_shape": r.choice([[-1, 1], [4, -1], [3, 3], [-1, 7]])})
    if c < 0.6:
        return LayerSpec("Conv1D", {"filters": 2, "kernel_size": r.choice([3, 30])})
    if c < 0.7:
        return LayerSpec("MaxPooling2D", {"pool_size": r.choice([2, 20])})
    if c < 0.8:
        return LayerSpec("GlobalAveragePooling1D", {})
    if c < 0.9:
        return LayerSpec("Dense", {"units": 0} if r.random() < 0.3 else {"units": 4})
    return LayerSpec("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 4})


def random_stack(seed: int) -> ModelSpec:
    r = random.Random(seed)
    family = r.choice(["mlp", "image", "sequence", "tokens"])
    layers = []
    if family == "mlp":
        shape = [r.choice([1, 2, 7, 64])] if r.random() < 0.8 else [r.choice([3, 4]), 5]
        for _ in range(r.randint(1, 6)):
            layers.append(_flat_layer(r))
    elif family == "image":
        shape = [r.choice([8, 12, 28]), r.choice([8, 10, 28]), r.choice([1, 2, 3])]
        for _ in range(r.randint(1, 6)):
            layers.append(_image_layer(r))
        tail = r.random()
        if tail < 0.5:
            layers.append(LayerSpec("Flatten"))
        elif tail < 0.8:
            layers.append(LayerSpec(r.choice(["GlobalAveragePooling2D", "GlobalMaxPooling2D"]),
                                    {"keepdims": r.random() < 0.2}))
        layers.append(_dense(r))
    elif family == "sequence":
        shape = [r.choice([6, 10, 20]), r.choice([1, 3])]
        for _ in range(r.randint(1, 5)):
            layers.append(_seq_layer(r))
        if r.random() < 0.5:
            layers.append(LayerSpec(r.choice(["GlobalAveragePooling1D", "GlobalMaxPooling1D", "Flatten"])))
        layers.append(_dense(r))
    else:
        shape = [r.choice([5, 12])]
        layers.append(LayerSpec("Embedding", {"input_dim": r.choice([10, 100]), "output_dim": r.choice([4, 8])}))
        for _ in range(r.randint(1, 4)):
            layers.append(_seq_layer(r))
        layers.append(LayerSpec("Flatten"))
        layers.append(_dense(r))
    if r.random() < 0.3:
        layers.insert(r.randint(0, len(layers)), _wrong_layer(r, len(shape) + 1))
    return ModelSpec(tuple(shape), tuple(layers))
