"""Boundary grids as pictures: coloured class regions and contour lines.

Class probabilities become a coloured image (confident = saturated, unsure = pale), the
same for 2 and for 10 classes, with a lookup table for drawing many frames quickly; the
0.5 line is traced as segments. Only NumPy is imported.
"""

from __future__ import annotations

import numpy as np


def region_rgb(values: np.ndarray, kind: str, colors: np.ndarray) -> np.ndarray:
    """Class regions as an RGB image: each pixel the probability-weighted class colour,
    faded to white where the model is unsure (near the boundary).

    Args:
        values: (rows, cols, k): P(class 1) for "binary" (k = 1), probabilities otherwise.
        kind: "binary" or "multiclass".
        colors: (classes, 3) RGB in 0..255 (at least 2 rows; repeated when too few).

    Returns:
        uint8 array (rows, cols, 3).
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.5, posinf=1.0, neginf=0.0)
    if kind == "binary":
        p = np.clip(v[..., 0], 0.0, 1.0)
        probs = np.stack([1.0 - p, p], axis=-1)
    else:
        probs = np.clip(v, 0.0, 1.0)
        total = probs.sum(axis=-1, keepdims=True)
        probs = np.where(total > 0, probs / np.maximum(total, 1e-12), 1.0 / probs.shape[-1])
    k = probs.shape[-1]
    table = np.asarray(colors, dtype=np.float32)
    table = table[np.arange(k) % len(table)]
    mix = probs @ table
    top = probs.max(axis=-1, keepdims=True)
    confidence = (top - 1.0 / k) / (1.0 - 1.0 / k) if k > 1 else np.ones_like(top)
    alpha = 0.12 + 0.63 * np.clip(confidence, 0.0, 1.0)
    rgb = 255.0 * (1.0 - alpha) + mix * alpha
    return np.clip(rgb + 0.5, 0, 255).astype(np.uint8)


def contour_segments(values: np.ndarray, xs: np.ndarray, ys: np.ndarray,
                     level: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """The line where a grid crosses `level`, as line segments (marching squares).

    Only the cells the line passes through are worked on (a few hundred of 10,000), so a
    100 x 100 grid takes a fraction of a millisecond; pyqtgraph's IsocurveItem traces it
    in Python in about ten, and this runs for every snapshot while training.

    Args:
        values: (rows, cols) with `values[iy, ix]` at `(xs[ix], ys[iy])`.
        xs, ys: the grid's coordinates.
        level: the value the line marks (0.5: the decision boundary).

    Returns:
        (x, y): segment end points, pairs in order (draw with connect="pairs").
    """
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=level)
    if v.ndim != 2 or min(v.shape) < 2:
        return np.empty(0), np.empty(0)
    above = v > level
    corner = above[:-1, :-1]
    crossed = (corner != above[:-1, 1:]) | (corner != above[1:, 1:]) | (corner != above[1:, :-1])
    rows, cols = np.nonzero(crossed)
    if rows.size == 0:
        return np.empty(0), np.empty(0)
    xs = np.asarray(xs, np.float64)
    ys = np.asarray(ys, np.float64)
    # corners of each crossed cell: a (x0, y0), b (x1, y0), c (x1, y1), d (x0, y1)
    a = v[rows, cols] - level
    b = v[rows, cols + 1] - level
    c = v[rows + 1, cols + 1] - level
    d = v[rows + 1, cols] - level
    x0, x1, y0, y1 = xs[cols], xs[cols + 1], ys[rows], ys[rows + 1]

    def cross(p: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        hit = (p > 0) != (q > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(hit, p / (p - q), 0.0)
        return hit, np.clip(t, 0.0, 1.0)

    h0, t0 = cross(a, b)  # bottom edge
    h1, t1 = cross(b, c)  # right edge
    h2, t2 = cross(d, c)  # top edge
    h3, t3 = cross(a, d)  # left edge
    hits = np.stack([h0, h1, h2, h3])
    ex = np.stack([x0 + t0 * (x1 - x0), x1, x0 + t2 * (x1 - x0), x0])
    ey = np.stack([y0, y0 + t1 * (y1 - y0), y1, y0 + t3 * (y1 - y0)])
    count = hits.sum(axis=0)
    cells = np.arange(rows.size)
    out_x, out_y = [], []
    two = count == 2
    if two.any():
        order = np.argsort(~hits[:, two], axis=0, kind="stable")[:2]  # the crossed edges
        idx = cells[two]
        out_x.append(np.stack([ex[order[0], idx], ex[order[1], idx]], axis=1).reshape(-1))
        out_y.append(np.stack([ey[order[0], idx], ey[order[1], idx]], axis=1).reshape(-1))
    four = count == 4
    if four.any():  # a saddle: join bottom-left and top-right (either pairing is a line)
        idx = cells[four]
        for first, second in ((0, 3), (1, 2)):
            out_x.append(np.stack([ex[first, idx], ex[second, idx]], axis=1).reshape(-1))
            out_y.append(np.stack([ey[first, idx], ey[second, idx]], axis=1).reshape(-1))
    if not out_x:
        return np.empty(0), np.empty(0)
    return np.concatenate(out_x), np.concatenate(out_y)


def region_lut(kind: str, colors: np.ndarray, steps: int = 32) -> np.ndarray:
    """A colour table for `region_index`: the same colours as `region_rgb`, looked up.

    An indexed image costs the GUI thread a fraction of what mixing RGB per pixel does
    (the view redraws it ten times a second while training). For "binary" the table has
    256 entries along P(class 1); for "multiclass" `steps` per class, from unsure (pale)
    to sure.
    """
    table = np.asarray(colors, dtype=np.float32)
    if kind == "binary":
        p = np.linspace(0.0, 1.0, 256, dtype=np.float32).reshape(1, -1, 1)
        return region_rgb(p, "binary", table)[0]
    k = len(table)
    rows = []
    for c in range(k):
        for q in np.linspace(0.0, 1.0, steps, dtype=np.float32):
            top = 1.0 / k + q * (1.0 - 1.0 / k)  # the winning class's probability
            probs = np.full(k, (1.0 - top) / max(1, k - 1), np.float32)
            probs[c] = top
            rows.append(probs)
    probs = np.array(rows, np.float32).reshape(1, -1, k)
    return region_rgb(probs, "multiclass", table)[0]


def region_index(values: np.ndarray, kind: str, steps: int = 32) -> np.ndarray:
    """Indices into `region_lut` for a grid of predictions (uint16, shape (rows, cols))."""
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.5, posinf=1.0, neginf=0.0)
    if kind == "binary":
        return np.clip(np.rint(v[..., 0] * 255.0), 0, 255).astype(np.uint16)
    k = v.shape[-1]
    best = v.argmax(axis=-1)
    top = np.take_along_axis(v, best[..., None], axis=-1)[..., 0]
    total = v.sum(axis=-1)
    top = np.where(total > 0, top / np.maximum(total, 1e-12), 1.0 / k)
    q = np.clip((top - 1.0 / k) / (1.0 - 1.0 / k), 0.0, 1.0)
    return (best * steps + np.rint(q * (steps - 1))).astype(np.uint16)
