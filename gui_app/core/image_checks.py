"""Pre-flight checks for a folder of images (data source "images"), joined to `checks`.

* `dense-on-images`: a Dense layer that gets the images themselves, (height, width,
  channels), acts on the channels of each pixel and keeps the image's axes, so the model
  ends in one prediction per pixel instead of one class per image; Keras then fails on the
  loss with "Arguments `target` and `output` must have the same shape". An error when the
  model's output is not flat; it needs a Flatten (a network of Dense layers) or Conv2D
  layers and then Flatten or a global pooling (a CNN) before it.
* `images-not-rescaled`: pixels arrive as 0 to 255, and a network whose first layer is
  not a Rescaling (or Normalization) trains slowly or not at all on them.
* `image-files-left-out` and `image-folder-note`: what the folder's scan found that does
  not stop training (files left out, images resized), one finding each, so that
  `layerlab check` and the window show them with the other findings.

Output units that differ from the number of classes are `checks`' own `output-units`.
"""

from __future__ import annotations

from dataclasses import replace

from .catalog import IMAGE_PREPROCESSING_LAYERS
from .checks import ERROR, INFO, WARNING, Finding, Fix
from .spec import DataInfo, LayerSpec, Project
from .summary import Summary, format_shape

#: Layers that scale pixels to a small range when they come first.
SCALING_LAYERS = frozenset({"Rescaling", "Normalization", "BatchNormalization"})
#: Layers that turn an image into one vector per sample.
FLATTENING_LAYERS = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D")


def image_findings(project: Project, data: DataInfo | None, summary: Summary
                   ) -> list[Finding]:
    """The findings above, for image data only (none without data or for other data)."""
    if data is None or not data.images:
        return []
    found = []
    for severity, message in data.notes:
        if severity == "warning":
            found.append(Finding(WARNING, "image-files-left-out", message, "data.path"))
        else:
            found.append(Finding(INFO, "image-folder-note", message, "data.path"))
    dense = _dense_on_images(project, summary)
    if dense is not None:
        found.append(dense)
    if project.model.layers and not _scaled(project):
        found.append(Finding(
            INFO, "images-not-rescaled",
            "The images arrive as pixel values from 0 to 255, and no layer scales them before "
            "the first one that learns; networks learn faster on values near 0 to 1. Put a "
            "Rescaling layer with scale 1/255 first.", "model.layers[0]", 0,
            (Fix("Insert Rescaling(1/255) first",
                 lambda p: replace(p, model=p.model.insert(
                     0, LayerSpec("Rescaling", {"scale": 1 / 255})))),)))
    return found


def _scaled(project: Project) -> bool:
    """Whether a scaling layer comes before the first layer that learns (resizing, cropping
    and augmentation layers may come first)."""
    for layer in project.model.layers:
        if layer.type in SCALING_LAYERS:
            return True
        if layer.type not in IMAGE_PREPROCESSING_LAYERS:
            return False
    return False


def _dense_on_images(project: Project, summary: Summary) -> Finding | None:
    """The first Dense layer that gets images, when the model's output is not flat."""
    if summary.input_error or not summary.ok:
        return None
    output = summary.output_shape or ()
    if len(output) <= 2:
        return None  # a Flatten later makes one output per image: the general warning
    shape = (None, *project.model.input_shape)
    for i, layer in enumerate(project.model.layers):
        row = summary.rows[i]
        if layer.type == "Dense" and len(shape) >= 4:
            fixes = [Fix("Insert Flatten before it",
                         lambda p, i=i: replace(p, model=p.model.insert(i, LayerSpec("Flatten"))))]
            if len(shape) == 4:
                fixes.append(Fix("Insert GlobalAveragePooling2D before it",
                                 lambda p, i=i: replace(p, model=p.model.insert(
                                     i, LayerSpec("GlobalAveragePooling2D")))))
            return Finding(
                ERROR, "dense-on-images",
                f"Dense layer {row.name} gets images shaped {format_shape(shape)}: it acts on "
                f"each pixel's channels and keeps the image's axes, so the model outputs "
                f"{format_shape(output)}, a prediction per pixel instead of one class per "
                "image. Put a Flatten before it (a network of Dense layers), or Conv2D layers "
                "and then Flatten or GlobalAveragePooling2D (a CNN).",
                f"model.layers[{i}]", i, tuple(fixes))
        if row.output_shape is None:
            return None
        shape = row.output_shape
    return None
