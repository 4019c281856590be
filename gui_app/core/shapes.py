"""A folder of generated images for the shapes lesson: circles, squares and triangles.

Each picture is one outlined or filled shape of random size at a random place, on a
background of random brightness with pixel noise, drawn with NumPy and written as a PNG
file with the standard library (zlib and struct: LayerLab does not depend on PIL). The
classes differ only in form, never in where the shape is, how large it is or how much ink
it has, so a network of Dense layers, which sees each pixel as a separate input, has to
learn every shape at every place; a small CNN, whose filters slide over the image, learns
an edge once and finds it anywhere. On 28 x 28 pictures, 300 of each shape, that difference
is the lesson (`resources/examples/08*_shapes_*.layerlab.json`): a small CNN reaches
about 88 % on validation where Dense layers stay near 67 % (15 epochs, Keras directly).

The folder is made once per user in LayerLab's data folder (`paths.data_dir()`), never in
the installation, which may be read-only: `lesson_folder()`. It is written under a
temporary name and renamed when complete, so a folder that exists is whole.

    python -m gui_app.core.shapes OUT_DIR [--per-class N] [--size S] [--seed K]

writes one anywhere.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["SHAPES", "draw_shapes", "lesson_folder", "png_bytes", "write_folder"]

SHAPES: tuple[str, ...] = ("circle", "square", "triangle")
#: The lesson's folder: its name carries the generator's version and settings, so a
#: changed generator writes a new folder instead of training on an old one.
LESSON_FOLDER = "shapes-v1-28px"
LESSON_PER_CLASS = 300
LESSON_SIZE = 28
LESSON_SEED = 2024


def png_bytes(pixels: np.ndarray) -> bytes:
    """A PNG file holding `pixels`: uint8, (height, width) grey or (height, width, 3) colour.

    Each row gets filter type 0 (none); zlib does the compressing.
    """
    image = np.ascontiguousarray(pixels, dtype=np.uint8)
    if image.ndim == 2:
        color_type = 0
    elif image.ndim == 3 and image.shape[2] == 3:
        color_type = 2
    else:
        raise ValueError(f"pixels: expected (height, width) or (height, width, 3), got "
                         f"{image.shape}.")
    height, width = image.shape[:2]
    rows = image.reshape(height, -1)
    raw = np.concatenate([np.zeros((height, 1), np.uint8), rows], axis=1).tobytes()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))


def _inside_triangle(x: np.ndarray, y: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """Pixels inside the triangle (by the signs of the three edge functions)."""
    signs = []
    for i in range(3):
        (x0, y0), (x1, y1) = corners[i], corners[(i + 1) % 3]
        signs.append((x1 - x0) * (y - y0) - (y1 - y0) * (x - x0))
    s = np.stack(signs)
    return np.all(s >= 0, axis=0) | np.all(s <= 0, axis=0)


def _mask(shape: str, size: int, cx: float, cy: float, r: float, angle: float
          ) -> np.ndarray:
    """A filled shape of "radius" r centred at (cx, cy) as a boolean (size, size) mask."""
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    if shape == "circle":
        return (x - cx) ** 2 + (y - cy) ** 2 <= r * r
    if shape == "square":
        c, s = np.cos(angle), np.sin(angle)
        u, v = (x - cx) * c + (y - cy) * s, -(x - cx) * s + (y - cy) * c
        half = r * 0.85  # about the circle's area, so ink does not tell them apart
        return (np.abs(u) <= half) & (np.abs(v) <= half)
    turns = angle - np.pi / 2 + np.array([0.0, 2 * np.pi / 3, 4 * np.pi / 3])  # point up
    corners = np.stack([cx + 1.5 * r * np.cos(turns), cy + 1.5 * r * np.sin(turns)], axis=1)
    return _inside_triangle(x, y, corners)


def draw_shapes(per_class: int, size: int = LESSON_SIZE, seed: int = LESSON_SEED,
                noise: float = 20.0, outlines: float = 0.5, turn: float = 15.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """`per_class` grey pictures of each shape, in class order.

    Each shape gets a random radius (a fifth to two sevenths of the picture), a random
    centre that keeps it inside, a random turn of up to `turn` degrees (triangles point
    up), an outline (with probability `outlines`) or a fill, a random background and ink
    level, and Gaussian pixel noise of `noise` grey levels.

    Returns:
        (images uint8 of shape (3 * per_class, size, size), labels int64 0..2).
    """
    rng = np.random.default_rng(seed)
    images = np.empty((len(SHAPES) * per_class, size, size), np.uint8)
    labels = np.repeat(np.arange(len(SHAPES), dtype=np.int64), per_class)
    for i, label in enumerate(labels):
        shape = SHAPES[label]
        r = rng.uniform(size / 5, size / 3.5)
        margin = r * 1.5 if shape == "triangle" else r * 1.2
        cx, cy = rng.uniform(margin, size - margin, 2) if size > 2 * margin else (size / 2,) * 2
        mask = _mask(shape, size, cx, cy, r, rng.uniform(-turn, turn) * np.pi / 180)
        if rng.random() < outlines:  # an outline: the shape less its inside
            mask = mask & ~_shrunk(mask, int(rng.integers(2, 4)))
        background = rng.uniform(0, 90)
        ink = rng.uniform(150, 255)
        picture = np.where(mask, ink, background) + rng.normal(0, noise, (size, size))
        images[i] = np.clip(np.round(picture), 0, 255).astype(np.uint8)
    return images, labels


def _shrunk(mask: np.ndarray, steps: int = 2) -> np.ndarray:
    """The mask eroded by `steps` pixels (a pixel stays when its 4 neighbours are in)."""
    inner = mask.copy()
    for _ in range(steps):
        padded = np.pad(inner, 1)
        inner = inner & padded[:-2, 1:-1] & padded[2:, 1:-1] & padded[1:-1, :-2] \
            & padded[1:-1, 2:]
    return inner


def write_folder(out: str | os.PathLike, per_class: int = LESSON_PER_CLASS,
                 size: int = LESSON_SIZE, seed: int = LESSON_SEED,
                 names: Sequence[str] = SHAPES) -> Path:
    """Writes the pictures as `out/<shape>/<shape>_0000.png` files; returns `out`."""
    folder = Path(out)
    images, labels = draw_shapes(per_class, size, seed)
    counters = dict.fromkeys(range(len(names)), 0)
    for name in names:
        (folder / name).mkdir(parents=True, exist_ok=True)
    for image, label in zip(images, labels):
        name = names[int(label)]
        n = counters[int(label)]
        counters[int(label)] = n + 1
        (folder / name / f"{name}_{n:04d}.png").write_bytes(png_bytes(image))
    return folder


def lesson_folder(data_dir: str | os.PathLike | None = None) -> Path:
    """The shapes lesson's folder, written on first use; returns its path.

    Args:
        data_dir: where LayerLab keeps data it makes (`paths.data_dir()` when None).

    Raises:
        OSError: when the folder cannot be written.
    """
    if data_dir is None:
        from .paths import data_dir as default_dir

        data_dir = default_dir()
    final = Path(data_dir) / "lessons" / LESSON_FOLDER
    if final.is_dir():
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.with_name(f"{final.name}.tmp-{os.getpid()}")
    shutil.rmtree(temporary, ignore_errors=True)
    write_folder(temporary)
    try:
        os.replace(temporary, final)
    except OSError:
        shutil.rmtree(temporary, ignore_errors=True)
        if not final.is_dir():  # not another process that finished first
            raise
    return final


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gui_app.core.shapes",
                                     description="Write a folder of shape pictures.")
    parser.add_argument("out", help="the folder to write (one subfolder per shape)")
    parser.add_argument("--per-class", type=int, default=LESSON_PER_CLASS)
    parser.add_argument("--size", type=int, default=LESSON_SIZE)
    parser.add_argument("--seed", type=int, default=LESSON_SEED)
    args = parser.parse_args(argv)
    write_folder(args.out, args.per_class, args.size, args.seed)
    print(f"wrote {len(SHAPES) * args.per_class} pictures to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
