"""The augmentation preview's plain half: which layers it runs, on which samples, and what
comes back.

The Data tab shows a few training samples as the model's leading image layers change them
in training (RandomFlip, RandomRotation, ...), next to the same samples as predict sees
them. The engine runs those layers (`engine/augment.py`, the `augment_samples` command);
this module decides, without Keras, whether a model has such layers at its front and
whether the data fit them, so the window can hide the preview without asking the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .catalog import AUGMENTATION_LAYERS, IMAGE_PREPROCESSING_LAYERS
from .spec import ModelSpec, Shape
from .summary import format_shape, summarize

#: Samples the Data tab shows: one row of originals and one of augmented images.
PREVIEW_SAMPLES = 8
#: The most samples one `augment_samples` command takes (a preview, not a data pipeline).
MAX_PREVIEW_SAMPLES = 64
#: Layers the preview runs when they lead the model: those that only reshape or rescale
#: (the digits arrive as rows of 64 and become 8x8 images through a Reshape) and the
#: image layers; the first layer of any other kind ends the run.
LEADING_LAYERS = frozenset({"Reshape", "Rescaling", *IMAGE_PREPROCESSING_LAYERS})


@dataclass(frozen=True, eq=False)
class AugmentedSamples:
    """A few samples before and after the model's leading image layers.

    `eq=False` because arrays have no single truth value; compare the arrays instead.

    Attributes:
        original: (n, height, width, channels) float32: the samples through the leading
            layers as predict and evaluate run them (Random* layers pass them unchanged;
            Reshape, Rescaling, Resizing and CenterCrop apply).
        augmented: the same samples as one training step sees them, same shape.
        seed: the seed this draw used; the same seed gives the same draw.
        layers: the names of the layers that ran, in order.
    """

    original: np.ndarray
    augmented: np.ndarray
    seed: int
    layers: tuple[str, ...] = ()


def leading_layers(model: ModelSpec) -> int:
    """How many layers at the model's front the preview runs (see LEADING_LAYERS)."""
    count = 0
    for layer in model.layers:
        if layer.type not in LEADING_LAYERS:
            break
        count += 1
    return count


def preview_problem(model: ModelSpec, sample_shape: Shape | None = None) -> str | None:
    """Why the preview does not apply to this model and data, or None when it does.

    It applies when the layers at the model's front include an augmentation layer, they
    give images (height, width, channels) without an error, and each sample of the data
    (`sample_shape`, without the batch axis; None when unknown) fits the input shape.
    """
    count = leading_layers(model)
    front = model.layers[:count]
    if not any(layer.type in AUGMENTATION_LAYERS for layer in front):
        later = [layer.type for layer in model.layers[count:] if layer.type in AUGMENTATION_LAYERS]
        if later:
            return (f"The model's {later[0]} comes after a layer with weights; the preview "
                    "shows augmentation layers at the front of the model only.")
        return ("The model starts with no augmentation layer (RandomFlip, RandomRotation, "
                "RandomZoom, ...).")
    summary = summarize(ModelSpec(model.input_shape, front))
    if not summary.ok:
        bad = next((row.error for row in summary.rows if row.error), summary.input_error)
        return f"The layers at the model's front cannot run: {bad}"
    shape = summary.output_shape or ()
    if len(shape) != 4:
        return (f"The layers at the model's front give {format_shape(shape)}, not images "
                "(height, width, channels).")
    if sample_shape is not None:
        wanted = tuple(model.input_shape)
        got = tuple(int(d) for d in sample_shape)
        if len(got) != len(wanted) or any(w is not None and w != g for w, g in zip(wanted, got)):
            return (f"The model expects inputs shaped {format_shape(wanted)}, but each sample "
                    f"of the data is {format_shape(got)}; set the input shape to {list(got)}.")
    return None


def pick_samples(y: np.ndarray | None, n_samples: int, count: int = PREVIEW_SAMPLES
                 ) -> np.ndarray:
    """Indices of the samples to show: the first of each class in turn (class 0, 1, 2, ...,
    then the second of each), so the preview shows the variety of the data; evenly spread
    ones for regression or unknown labels. The same data give the same samples, so a
    re-roll changes the augmentation only."""
    count = max(0, min(count, n_samples))
    if y is None or count == 0:
        return np.linspace(0, max(n_samples - 1, 0), count).astype(np.int64)
    labels = np.asarray(y)
    if labels.ndim == 2:
        labels = labels.argmax(axis=1)
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        return np.linspace(0, n_samples - 1, count).astype(np.int64)
    per_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    chosen: list[int] = []
    for rank in range(n_samples):
        for members in per_class:
            if rank < len(members):
                chosen.append(int(members[rank]))
                if len(chosen) == count:
                    return np.asarray(chosen, dtype=np.int64)
    return np.asarray(chosen, dtype=np.int64)


def sample_labels(y: np.ndarray | None, indices: Sequence[int],
                  class_names: Sequence[str] | None) -> list[str]:
    """A caption for each chosen sample: its class name, or its target value."""
    if y is None:
        return ["" for _ in indices]
    labels = np.asarray(y)
    out = []
    for i in indices:
        value = labels[int(i)]
        if labels.ndim == 2:
            value = int(np.argmax(value))
        if class_names is not None and float(value).is_integer() \
                and 0 <= int(value) < len(class_names):
            out.append(str(class_names[int(value)]))
        else:
            out.append(f"{float(value):.3g}")
    return out
