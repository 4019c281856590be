"""Pre-flight checks for the image layers: augmentation (Random*), Resizing and CenterCrop.

Keras is lenient with these where it hurts. It builds a RandomFlip on a row of 8 numbers
and fails only when `fit` calls it ("Expected image tensor to have rank 3 (single image)
or 4 (batch of images)"); it takes a CenterCrop larger than the image and quietly resizes
the image up instead; and it answers a rotation of 30 (meant as degrees) with "The
`factor` argument should be a number (or a list of two numbers) in the range [-1, 1]".
The summary already words the first and the last (`summary._rank_fix`, the catalog's
"factor" kind); here they get fixes, and the crop and a misplaced augmentation become
findings of their own.

`checks.run_checks` uses this module; it imports `checks` for the finding types, so
`checks` imports it where it is used.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

from .catalog import AUGMENTATION_LAYERS, IMAGE_PREPROCESSING_LAYERS, LAYERS
from .checks import ERROR, WARNING, Finding, Fix
from .spec import LayerSpec, Project, Shape
from .summary import LayerRow, Summary, format_shape


def _edit_layer(index: int, layer: LayerSpec) -> Callable[[Project], Project]:
    return lambda p: replace(p, model=p.model.set_layer(index, layer))


def _insert(index: int, layer: LayerSpec) -> Callable[[Project], Project]:
    return lambda p: replace(p, model=p.model.insert(index, layer))


def _remove(index: int) -> Callable[[Project], Project]:
    return lambda p: replace(p, model=p.model.remove(index))


def _move(source: int, dest: int) -> Callable[[Project], Project]:
    return lambda p: replace(p, model=p.model.move(source, dest))


def _shape_before(project: Project, summary: Summary, index: int) -> Shape | None:
    if index == 0:
        return None if summary.input_error else (None, *project.model.input_shape)
    return summary.rows[index - 1].output_shape


def _image_shapes(shape: Shape) -> list[list[int]]:
    """Image shapes a flat row or a (height, width) grid could be: 64 -> [8, 8, 1];
    (28, 28) -> [28, 28, 1]; 3,072 -> [32, 32, 3] and [..., 1] when both fit."""
    if len(shape) == 3 and shape[1] is not None and shape[2] is not None:
        return [[shape[1], shape[2], 1]]
    if len(shape) != 2 or shape[1] is None:
        return []
    out = []
    for channels in (3, 1):
        if shape[1] % channels:
            continue
        side = math.isqrt(shape[1] // channels)
        if side > 1 and side * side * channels == shape[1]:
            out.append([side, side, channels])
    return out


def row_fixes(project: Project, summary: Summary, row: LayerRow) -> tuple[Fix, ...]:
    """Fixes for the summary's error on an image layer's row (none for other rows).

    A factor given in degrees or percent gets the fraction that was meant; a layer that
    gets no images gets a Reshape to the image its input could be, or its removal.
    """
    layer = project.model.layers[row.index]
    if layer.type not in IMAGE_PREPROCESSING_LAYERS:
        return ()
    definition = LAYERS[layer.type]
    fixes: list[Fix] = []
    for name, _message in row.arg_errors:
        param = definition.param(name)
        meant = param.meant(layer.args.get(name)) if param is not None else None
        if meant is not None:
            fixes.append(Fix(f"Set {name} to {meant}",
                             _edit_layer(row.index, layer.with_args(**{name: meant}))))
    if row.arg_errors:
        return tuple(fixes)
    shape = _shape_before(project, summary, row.index)
    if shape is not None and len(shape) != 4:
        for target in _image_shapes(shape):
            fixes.append(Fix(f"Insert Reshape to {target} before it",
                             _insert(row.index, LayerSpec("Reshape", {"target_shape": target}))))
        fixes.append(Fix(f"Remove {layer.type}", _remove(row.index)))
    return tuple(fixes)


def augmentation_findings(project: Project, summary: Summary) -> list[Finding]:
    """A CenterCrop larger than its images, and augmentation placed after a layer with
    weights (it would change feature maps, not the images)."""
    found: list[Finding] = []
    shape = _shape_before(project, summary, 0)
    first_weighted: tuple[int, LayerRow] | None = None
    for i, layer in enumerate(project.model.layers):
        row = summary.rows[i]
        if shape is None or row.output_shape is None:
            break
        where = f"model.layers[{i}]"
        if layer.type == "CenterCrop":
            found += _crop_findings(layer, row, shape, where)
        if layer.type in AUGMENTATION_LAYERS and first_weighted is not None:
            at, before = first_weighted
            found.append(Finding(
                WARNING, "augmentation-late",
                f"{layer.type} {row.name} comes after {before.type} {before.name}, so it "
                "changes that layer's feature maps, not the images, and the augmentation "
                "preview cannot show it. Augmentation belongs at the front of the model, "
                "before the first layer with weights.",
                where, i, (Fix(f"Move it before {before.name}", _move(i, at)),)))
        if first_weighted is None and row.params:
            first_weighted = (i, row)
        shape = row.output_shape
    return found


def _crop_findings(layer: LayerSpec, row: LayerRow, shape: Shape, where: str) -> list[Finding]:
    height, width = layer.args.get("height"), layer.args.get("width")
    h, w = shape[1], shape[2]
    if h is None or w is None or (height <= h and width <= w):
        return []
    index = row.index
    fitted = layer.with_args(height=min(height, h), width=min(width, w))
    resize = LayerSpec("Resizing", {k: v for k, v in layer.args.items()
                                    if k in ("height", "width")})
    return [Finding(
        ERROR, "crop-larger-than-input",
        f"CenterCrop {row.name} keeps the middle {height}x{width} of images that are only "
        f"{h}x{w} (it gets {format_shape(shape)}): Keras then resizes each image up instead "
        f"of cropping it. Crop to at most {h}x{w}, or use Resizing if you meant to enlarge "
        "the images.",
        where, index,
        (Fix(f"Crop to {min(height, h)}x{min(width, w)}", _edit_layer(index, fitted)),
         Fix("Use Resizing instead", _edit_layer(index, resize))))]
