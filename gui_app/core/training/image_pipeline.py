"""Image files to batches: the `tf.data` pipeline of the "images" data source.

The files stream from disk: their paths and labels are the only thing held for the whole
folder; each batch is read, decoded, resized and batched by `tf.data` in parallel with the
training step (`prefetch`), so memory does not grow with the number of images and a folder
larger than memory trains. A folder whose decoded images fit in `limits.IMAGE_CACHE_MAX_BYTES`
(`ImageDataset.cache`) is decoded once: after the first epoch its images come from memory.

`load_image` and `image_batches` are written to stand alone (no type hints, TensorFlow
imported inside): `layerlab export` copies their source into the script it writes
(core/export.py), so the exported script reads the folder with exactly this pipeline. Each image is read as Keras's `image_dataset_from_directory`
reads it: `decode_image` with 1 or 3 channels (the first frame of a GIF), `resize` to
`image_size` (bilinear), float32 from 0 to 255.

A file whose header looked whole (`image_headers`) can still hold damaged pixel data;
TensorFlow finds that only when it decodes the file, and a run stops there with an error
that names no file. `undecodable` then decodes the files one by one to name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["decode_files", "image_batches", "load_image", "part_batches", "undecodable"]

#: Files `undecodable` decodes one by one to find the damaged ones, at most.
MAX_CHECKED_FILES = 20_000


def load_image(path, image_size, channels):
    """One image file as float32 pixels of shape (height, width, channels), 0 to 255."""
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(path), channels=channels,
                               expand_animations=False)
    image = tf.image.resize(image, image_size)
    image.set_shape((image_size[0], image_size[1], channels))
    return image


def image_batches(paths, labels, image_size, channels, batch_size, shuffle=False, seed=None,
                  cache=False, repeat=False):
    """A tf.data pipeline of (images, labels) batches read from image files.

    Args:
        paths: the image files.
        labels: one label (a class index or a one-hot row) per file.
        image_size: (height, width) to resize to.
        channels: 1 (grey) or 3 (colour).
        batch_size: images per batch (the last batch of a pass may be smaller).
        shuffle: a new order every pass (the whole list, not a window of it).
        seed: the shuffle's seed.
        cache: keep the decoded images in memory after the first pass.
        repeat: pass over the files again and again (for steps_per_epoch).
    """
    import tensorflow as tf

    files = tf.data.Dataset.from_tensor_slices((list(paths), labels))

    def load(path, label):
        return load_image(path, image_size, channels), label

    if cache:  # decode once; shuffle the decoded images each pass
        images = files.map(load, num_parallel_calls=tf.data.AUTOTUNE).cache()
        if shuffle:
            images = images.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    else:  # shuffle the file names, then read only what each batch needs
        if shuffle:
            files = files.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
        images = files.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    if repeat:
        images = images.repeat()
    return images.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def part_batches(dataset: Any, split: str, batch_size: int, shuffle: bool = False,
                 seed: int | None = None, repeat: bool = False) -> Any:
    """`image_batches` for one part ("train", "val", "test") of an `ImageDataset`; None
    when the part is empty."""
    part = dataset.part(split)
    if part is None:
        return None
    files, labels = part
    return image_batches(files.paths, labels, tuple(dataset.image_size), dataset.channels,
                         int(batch_size), shuffle=shuffle, seed=seed, cache=dataset.cache,
                         repeat=repeat)


def decode_files(paths: Sequence[str], image_size: Sequence[int], channels: int,
                 batch_size: int = 64) -> np.ndarray:
    """A few image files as one float32 array (n, height, width, channels), as the model
    sees them: for a probe batch, a gallery, or Predict on a file."""
    if not len(paths):
        return np.zeros((0, *image_size, channels), np.float32)
    labels = np.zeros(len(paths), np.int64)
    batches = image_batches(list(paths), labels, tuple(image_size), channels, batch_size)
    return np.concatenate([np.asarray(images) for images, _ in batches])


def undecodable(paths: Sequence[str], channels: int, limit: int = MAX_CHECKED_FILES
                ) -> list[tuple[str, str]]:
    """The files TensorFlow cannot decode, each with the first line of its error.

    Decodes the files one by one (eagerly; about 0.2 ms for a small PNG), the first
    `limit` of them.
    """
    import tensorflow as tf

    bad = []
    for path in list(paths)[:limit]:
        try:
            tf.io.decode_image(tf.io.read_file(path), channels=channels,
                               expand_animations=False)
        except (tf.errors.OpError, ValueError) as exc:
            text = getattr(exc, "message", None) or str(exc)
            bad.append((path, text.strip().splitlines()[0][:120] if text.strip() else
                        type(exc).__name__))
    return bad


def decode_problem(dataset: Any, exc: BaseException) -> str | None:
    """The message for a run that TensorFlow stopped while reading the images: the files
    it cannot decode, named; None when the error came from elsewhere."""
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - another backend without TensorFlow
        return None
    if not isinstance(exc, (tf.errors.InvalidArgumentError, tf.errors.DataLossError,
                            tf.errors.NotFoundError, tf.errors.UnknownError)):
        return None
    paths: list[str] = []
    for split in ("train", "val", "test"):
        part = dataset.part(split)
        if part is not None:
            paths += part[0].paths
    bad = undecodable(paths, dataset.channels)
    if not bad:
        return None
    from ..images import listed

    root = str(dataset.root).rstrip("/\\") + "/"
    shown = [p[len(root):] if p.startswith(root) else p for p, _ in bad]
    checked = "" if len(paths) <= MAX_CHECKED_FILES else \
        f" (of the first {MAX_CHECKED_FILES:,} files; the rest were not checked)"
    return (f"training stopped: {len(bad):,} image file(s) could not be decoded by "
            f"TensorFlow although their headers looked whole{checked}: "
            f"{listed(shown, [reason for _, reason in bad])}. Replace or delete them, then "
            "train again.")
