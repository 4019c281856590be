"""A folder of images, one subfolder per class: what it holds and what is wrong with it.

`scan_folder` lists the classes (the subfolders, sorted by name, as Keras's
`image_dataset_from_directory` does) and their image files (PNG, JPEG, BMP and GIF, in
sub-folders of a class too), reads each file's header (`image_headers`), and reports every
problem it meets as a `FolderProblem`: an error stops training (no class subfolders, one
class, a class with no images, too many files), a warning says which files are left out
and why (named as images but not images, damaged, too large, links that leave the folder,
named pipes), a note says what happens that the person may not expect (files that are not
images by their extension, images resized). Nothing is left out silently: each problem
carries every path it is about, and its message names the first few and counts the rest.

The folder may come from a stranger, so the scan follows the rules of `safeio`: it reads
regular files only (a named pipe is never opened for reading, so it cannot hang the scan),
never follows a link out of the folder or into another folder, and stops at the limits in
`limits.py` (files, entries, classes, depth, file size, pixels) before they cost memory
or minutes. No Qt, no Keras: the window lists a folder with it, the engine trains on its
list, and `layerlab check` prints its problems.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .image_headers import HeaderError, ImageHeader, parse_header
from .limits import (
    MAX_IMAGE_CLASSES,
    MAX_IMAGE_FILE_BYTES,
    MAX_IMAGE_FILES,
    MAX_IMAGE_FOLDER_DEPTH,
    MAX_IMAGE_FOLDER_ENTRIES,
    MAX_IMAGE_PIXELS,
    format_bytes,
)

__all__ = ["ERROR", "IMAGE_EXTENSIONS", "NOTE", "WARNING", "FolderProblem", "FolderScan",
           "is_hidden", "scan_folder"]

ERROR, WARNING, NOTE = "error", "warning", "note"
#: The extensions Keras's `image_dataset_from_directory` reads (compared in lower case).
IMAGE_EXTENSIONS: tuple[str, ...] = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
#: Folders that zip tools and systems add, which are never classes.
SYSTEM_FOLDERS = frozenset({"__MACOSX"})
#: Paths a message names before counting the rest (the problem keeps them all).
LISTED_PATHS = 10
#: Characters of one path shown in a message.
_SHOWN_PATH_CHARS = 80


def is_hidden(name: str) -> bool:
    """Names that are no one's images: hidden files and folders (".DS_Store", macOS's
    "._photo.png" shadow files, ".git") and the folders zip tools add ("__MACOSX")."""
    return name.startswith(".") or name in SYSTEM_FOLDERS


@dataclass(frozen=True)
class FolderProblem:
    """One kind of problem in a folder of images, with every path it concerns.

    Attributes:
        severity: "error" (nothing trains), "warning" (files are left out) or "note".
        code: what kind, for programs: "no-folder", "no-classes", "one-class",
            "empty-class", "too-many-files", "too-many-entries", "too-many-classes",
            "not-image", "named-image-not-image", "corrupt", "unsupported", "too-large",
            "too-many-pixels", "special-file", "unreadable", "link-outside",
            "linked-folder", "too-deep", "bad-name", "hidden", "no-class",
            "mixed-sizes", "resized", "colour".
        message: a whole sentence for a person: what was expected, what was found, what to do.
        paths: every file or folder concerned, relative to the folder (POSIX separators).
    """

    severity: str
    code: str
    message: str
    paths: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class FolderScan:
    """What `scan_folder` found.

    Attributes:
        root: the folder (as given, made absolute).
        classes: the class names: the subfolders, sorted.
        files: every usable image, relative to `root` with "/" separators, class by
            class, each class's files sorted.
        labels: each file's class index (int64, aligned with `files`).
        heights: each file's height in pixels, from its header (aligned with `files`).
        widths: each file's width in pixels.
        channels: each file's stored channels (1 grey, 2 grey+alpha, 3 colour, 4 with alpha).
        skipped: files named as images (by their extension) that were left out; an exported
            script leaves out the same ones.
        problems: what is wrong, errors first.
    """

    root: Path
    classes: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    labels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    heights: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    widths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    channels: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    skipped: tuple[str, ...] = ()
    problems: tuple[FolderProblem, ...] = ()

    @property
    def errors(self) -> list[FolderProblem]:
        return [p for p in self.problems if p.severity == ERROR]

    @property
    def ok(self) -> bool:
        """True when the folder can be trained on (there may still be warnings and notes)."""
        return not self.errors

    @property
    def counts(self) -> tuple[int, ...]:
        """Usable images per class."""
        return tuple(int(c) for c in np.bincount(self.labels, minlength=len(self.classes)))

    def class_files(self, index: int) -> tuple[str, ...]:
        """The usable images of class `index`, relative to `root`."""
        return tuple(f for f, label in zip(self.files, self.labels) if label == index)

    def samples(self, index: int, count: int = 8) -> list[Path]:
        """Up to `count` images of class `index` as absolute paths, spread over the class
        (first, last and evenly between), for a gallery."""
        files = self.class_files(index)
        if len(files) <= count:
            picked = files
        else:
            picked = tuple(files[round(i * (len(files) - 1) / (count - 1))] if count > 1
                           else files[0] for i in range(count))
        return [self.root / f for f in picked]


# -- messages -----------------------------------------------------------------------------------

def shown_path(path: str) -> str:
    """A path for a message: quoted, cut short, unprintable characters escaped."""
    if len(path) > _SHOWN_PATH_CHARS:
        return repr(path[:_SHOWN_PATH_CHARS]) + "..."
    return repr(path)


def listed(paths: Sequence[str], reasons: Sequence[str] | None = None) -> str:
    """'a.png, b.png and 3 more' (with each reason in brackets when given)."""
    parts = []
    for i, path in enumerate(paths[:LISTED_PATHS]):
        reason = f" ({reasons[i]})" if reasons is not None else ""
        parts.append(shown_path(path) + reason)
    more = len(paths) - LISTED_PATHS
    return ", ".join(parts) + (f" and {more:,} more" if more > 0 else "")


def _files(n: int, what: str = "file") -> str:
    return f"{n:,} {what}{'' if n == 1 else 's'}"


# -- the scan ---------------------------------------------------------------------------------

class _Found:
    """Everything the walk collects, before it becomes a FolderScan."""

    def __init__(self) -> None:
        self.files: list[str] = []
        self.labels: list[int] = []
        self.sizes: list[tuple[int, int, int]] = []  # height, width, channels
        self.left_out: dict[str, list[tuple[str, str]]] = {}  # code -> [(path, reason)]
        self.named_images_left_out: list[str] = []
        self.entries = 0
        self.stopped: str | None = None  # the limit the walk stopped at

    def leave_out(self, code: str, path: str, reason: str = "", image_named: bool = False
                  ) -> None:
        self.left_out.setdefault(code, []).append((path, reason))
        if image_named:
            self.named_images_left_out.append(path)


def scan_folder(root: str | os.PathLike, image_size: Sequence[int] | None = None,
                color_mode: str | None = None) -> FolderScan:
    """Lists a folder of images (one subfolder per class) and everything wrong with it.

    Args:
        root: the folder; it should exist (a missing one gives a "no-folder" error).
        image_size: [height, width] every image is resized to, for the notes on resizing.
        color_mode: "grayscale" or "rgb", for the note on colour conversion.

    Returns:
        The FolderScan; `scan.ok` is False when its problems include an error.
    """
    root = Path(os.path.abspath(os.fspath(root)))
    try:
        is_dir = root.is_dir()
    except OSError:
        is_dir = False
    if not is_dir:
        what = "does not exist" if not os.path.lexists(root) else "is not a folder"
        return FolderScan(root, problems=(FolderProblem(
            ERROR, "no-folder",
            f"expected a folder of images with one subfolder per class, got {root}, which "
            f"{what}. Choose the folder that holds the class subfolders."),))
    found = _Found()
    real_root = os.path.realpath(root)
    classes, loose = _top_level(root, real_root, found)
    if len(classes) > MAX_IMAGE_CLASSES:
        return FolderScan(root, problems=(FolderProblem(
            ERROR, "too-many-classes",
            f"expected at most {MAX_IMAGE_CLASSES:,} class subfolders in {root}, got "
            f"{len(classes):,}. Each subfolder is one class; check that this is the folder "
            "of classes and not a folder above it."),))
    for index, name in enumerate(classes):
        start = len(found.files)
        _walk_class(root, real_root, name, index, found)
        if found.stopped:
            break
        # A class's files in the order of their paths ("a/x.png" before "b.png"), as an
        # exported script sorts them.
        order = sorted(range(start, len(found.files)), key=found.files.__getitem__)
        found.files[start:] = [found.files[i] for i in order]
        found.sizes[start:] = [found.sizes[i] for i in order]
    return _assemble(root, classes, loose, found, image_size, color_mode)


def _scandir(path: Path | str, found: _Found) -> list[os.DirEntry] | None:
    """A folder's entries sorted by name, counted against the entry limit; None (and the
    limit noted) when the folder alone would pass it."""
    entries = []
    try:
        with os.scandir(path) as iterator:
            for entry in iterator:
                found.entries += 1
                if found.entries > MAX_IMAGE_FOLDER_ENTRIES:
                    found.stopped = "entries"
                    return None
                entries.append(entry)
    except OSError as exc:
        found.leave_out("unreadable", str(path), exc.strerror or type(exc).__name__)
        return []
    return sorted(entries, key=lambda e: e.name)


def _relative(root: Path, path: str) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def _good_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are no UTF-8 (os.fsdecode's surrogates)
        return False
    return True


def _top_level(root: Path, real_root: str, found: _Found) -> tuple[list[str], list[str]]:
    """The class folders, and the files lying directly in the folder."""
    classes: list[str] = []
    loose: list[str] = []
    for entry in _scandir(root, found) or []:
        name = entry.name
        try:
            if is_hidden(name):
                found.leave_out("hidden", name)
            elif not _good_name(name):
                found.leave_out("bad-name", ascii(name))
            elif entry.is_symlink():
                if os.path.isdir(entry.path):
                    found.leave_out("linked-folder", name)
                else:
                    loose.append(name)
            elif entry.is_dir(follow_symlinks=False):
                classes.append(name)
            else:
                loose.append(name)
        except OSError as exc:
            found.leave_out("unreadable", name, exc.strerror or type(exc).__name__)
    return classes, loose


def _walk_class(root: Path, real_root: str, name: str, index: int, found: _Found) -> None:
    """Adds class `index`'s images (its folder and the folders inside it) to `found`."""
    stack = [(root / name, 0)]
    while stack:
        folder, depth = stack.pop()
        entries = _scandir(folder, found)
        if entries is None:
            return
        subfolders = []
        for entry in entries:
            rel = _relative(root, entry.path)
            if is_hidden(entry.name):
                found.leave_out("hidden", rel)
                continue
            if not _good_name(entry.name):
                found.leave_out("bad-name", ascii(rel))
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    if depth + 1 > MAX_IMAGE_FOLDER_DEPTH:
                        found.leave_out("too-deep", rel)
                    else:
                        subfolders.append(Path(entry.path))
                    continue
                if entry.is_symlink() and os.path.isdir(entry.path):
                    found.leave_out("linked-folder", rel)
                    continue
            except OSError as exc:
                found.leave_out("unreadable", rel, exc.strerror or type(exc).__name__)
                continue
            _add_file(entry, rel, real_root, index, found)
            if found.stopped:
                return
        stack.extend((sub, depth + 1) for sub in reversed(subfolders))


def _add_file(entry: os.DirEntry, rel: str, real_root: str, index: int, found: _Found
              ) -> None:
    if not entry.name.lower().endswith(IMAGE_EXTENSIONS):
        found.leave_out("not-image", rel)
        return
    if len(found.files) >= MAX_IMAGE_FILES:
        found.stopped = "files"
        return
    try:
        if entry.is_symlink():
            real = os.path.realpath(entry.path)
            if not (real == real_root or real.startswith(real_root.rstrip(os.sep) + os.sep)):
                found.leave_out("link-outside", rel, "", image_named=True)
                return
        header = _read_header(entry.path)
    except _LeftOut as out:
        found.leave_out(out.code, rel, out.reason, image_named=True)
        return
    if header.pixels > MAX_IMAGE_PIXELS:
        found.leave_out("too-many-pixels", rel, f"{header.width:,} x {header.height:,}",
                        image_named=True)
        return
    found.files.append(rel)
    found.labels.append(index)
    found.sizes.append((header.height, header.width, header.channels))


class _LeftOut(Exception):
    def __init__(self, code: str, reason: str = "") -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason


_KINDS = ((stat.S_ISFIFO, "a named pipe"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))


def _read_header(path: str) -> ImageHeader:
    """The header of a regular file of at most MAX_IMAGE_FILE_BYTES, or _LeftOut.

    Opened without blocking and checked with fstat on the open descriptor, as
    `safeio.open_regular` does: a named pipe never hangs the scan.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise _LeftOut("unreadable", "a broken link or a file that went away") from None
    except OSError as exc:
        raise _LeftOut("unreadable", exc.strerror or type(exc).__name__) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = next((name for test, name in _KINDS if test(info.st_mode)), "not a file")
            raise _LeftOut("special-file", kind)
        if info.st_size > MAX_IMAGE_FILE_BYTES:
            raise _LeftOut("too-large", format_bytes(info.st_size))
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        def read(offset: int, count: int) -> bytes:
            handle.seek(offset)
            return handle.read(max(0, count))

        try:
            return parse_header(read, info.st_size)
        except HeaderError as exc:
            code = "named-image-not-image" if exc.kind == "not-image" else exc.kind
            raise _LeftOut(code, exc.reason) from None
        except OSError as exc:
            raise _LeftOut("unreadable", exc.strerror or type(exc).__name__) from None


# -- from what was found to problems ---------------------------------------------------------

#: For each code of left-out files: its severity, then what is said of one file and of
#: several: {n} is the count with its noun, {list} the paths (with reasons).
_LEFT_OUT: dict[str, tuple[str, str, str]] = {
    "named-image-not-image": (
        WARNING,
        "{n} named as an image is not an image and is left out: {list}. Delete it, or "
        "replace it with a PNG, JPEG, BMP or GIF image.",
        "{n} named as images are not images and are left out: {list}. Delete them, or "
        "replace them with PNG, JPEG, BMP or GIF images."),
    "corrupt": (
        WARNING,
        "{n} is damaged (found by checking each file's header and end before training) and "
        "is left out: {list}. Replace it with a whole copy, or delete it.",
        "{n} are damaged (found by checking each file's header and end before training) and "
        "are left out: {list}. Replace them with whole copies, or delete them."),
    "unsupported": (
        WARNING,
        "{n} uses a variant of its format that TensorFlow cannot decode and is left out: "
        "{list}. Save it again as PNG.",
        "{n} use a variant of their format that TensorFlow cannot decode and are left out: "
        "{list}. Save them again as PNG."),
    "too-large": (
        WARNING,
        "{n} is larger than " + format_bytes(MAX_IMAGE_FILE_BYTES) + " and is left out: "
        "{list}. Make it smaller; images are resized to a few dozen pixels anyway.",
        "{n} are larger than " + format_bytes(MAX_IMAGE_FILE_BYTES) + " and are left out: "
        "{list}. Make them smaller; images are resized to a few dozen pixels anyway."),
    "too-many-pixels": (
        WARNING,
        "{n} has more than " + f"{MAX_IMAGE_PIXELS:,}" + " pixels by its header and is left "
        "out unread: {list}. Make it smaller.",
        "{n} have more than " + f"{MAX_IMAGE_PIXELS:,}" + " pixels by their headers and are "
        "left out unread: {list}. Make them smaller."),
    "special-file": (
        WARNING,
        "{n} is not a regular file and is not read: {list}. Replace it with an image file.",
        "{n} are not regular files and are not read: {list}. Replace them with image "
        "files."),
    "unreadable": (
        WARNING,
        "{n} cannot be read and is left out: {list}. Check its permissions, or remove it.",
        "{n} cannot be read and are left out: {list}. Check their permissions, or remove "
        "them."),
    "link-outside": (
        WARNING,
        "{n} is a link to a file outside the folder and is not followed: {list}. Copy the "
        "file into the folder instead.",
        "{n} are links to files outside the folder and are not followed: {list}. Copy the "
        "files into the folder instead."),
    "linked-folder": (
        NOTE,
        "{n} is a link to a folder and is not followed: {list}. Copy the folder in instead.",
        "{n} are links to folders and are not followed: {list}. Copy the folders in "
        "instead."),
    "too-deep": (
        WARNING,
        "{n} is nested more than " + str(MAX_IMAGE_FOLDER_DEPTH) + " folders deep inside a "
        "class and is not read: {list}. Move its images up.",
        "{n} are nested more than " + str(MAX_IMAGE_FOLDER_DEPTH) + " folders deep inside a "
        "class and are not read: {list}. Move their images up."),
    "bad-name": (
        WARNING,
        "{n} has a name that is not valid UTF-8 text and is left out: {list}. Rename it.",
        "{n} have names that are not valid UTF-8 text and are left out: {list}. Rename "
        "them."),
    "hidden": (
        NOTE,
        "{n} is hidden (its name starts with '.', or is __MACOSX) and is left out: {list}.",
        "{n} are hidden (names starting with '.', or __MACOSX) and are left out: {list}."),
    "not-image": (
        NOTE,
        "{n} is not an image by its extension (Keras reads .png, .jpg, .jpeg, .bmp and "
        ".gif) and is left out: {list}.",
        "{n} are not images by their extension (Keras reads .png, .jpg, .jpeg, .bmp and "
        ".gif) and are left out: {list}."),
}
#: The noun (singular, plural) each code counts; "file" otherwise.
_NOUNS = {"linked-folder": ("folder", "folders"), "too-deep": ("folder", "folders"),
          "hidden": ("file or folder", "files and folders"),
          "unreadable": ("file or folder", "files and folders"),
          "bad-name": ("file or folder", "files and folders")}


def _left_out_problems(found: _Found) -> list[FolderProblem]:
    problems = []
    for code, (severity, one, several) in _LEFT_OUT.items():
        items = found.left_out.get(code)
        if not items:
            continue
        paths = [p for p, _ in items]
        reasons = [r for _, r in items] if any(r for _, r in items) else None
        singular, plural = _NOUNS.get(code, ("file", "files"))
        if len(paths) == 1:
            message = one.format(n=f"1 {singular}", list=listed(paths, reasons))
        else:
            message = several.format(n=f"{len(paths):,} {plural}", list=listed(paths, reasons))
        problems.append(FolderProblem(severity, code, message, tuple(paths)))
    return problems


def _assemble(root: Path, classes: list[str], loose: list[str], found: _Found,
              image_size: Sequence[int] | None, color_mode: str | None) -> FolderScan:
    problems: list[FolderProblem] = []
    if found.stopped == "entries":
        problems.append(FolderProblem(
            ERROR, "too-many-entries",
            f"expected at most {MAX_IMAGE_FOLDER_ENTRIES:,} files and folders in {root}, got "
            "more (the scan stopped there). Train on a smaller folder, or from a script."))
    elif found.stopped == "files":
        problems.append(FolderProblem(
            ERROR, "too-many-files",
            f"expected at most {MAX_IMAGE_FILES:,} images in {root}, got more (the scan "
            "stopped there). Train on a part of them, or from a script."))
    counts = np.bincount(np.asarray(found.labels, np.int64), minlength=len(classes))
    loose_images = [n for n in loose if n.lower().endswith(IMAGE_EXTENSIONS)]
    if not classes:
        there = (f", but {_files(len(loose_images), 'image')} directly in it"
                 if loose_images else "")
        problems.append(FolderProblem(
            ERROR, "no-classes",
            f"expected one subfolder per class in {root} (such as {root / 'cats'} and "
            f"{root / 'dogs'}), got no subfolders{there}. Put each class's images in a "
            "subfolder named after the class.", tuple(loose)))
    elif len(classes) == 1:
        problems.append(FolderProblem(
            ERROR, "one-class",
            f"expected at least 2 class subfolders in {root}, got one, {shown_path(classes[0])} "
            f"({_files(int(counts[0]), 'image')}). A classifier learns to tell classes apart: "
            "add a subfolder of images for each other class.", (classes[0],)))
    elif not found.stopped:
        for index, name in enumerate(classes):
            if counts[index] == 0:
                dropped = [p for p in found.named_images_left_out
                           if p.startswith(name + "/")]
                why = (f"; its {_files(len(dropped))} named as images were left out (see "
                       "above)" if dropped else "")
                problems.append(FolderProblem(
                    ERROR, "empty-class",
                    f"expected images (PNG, JPEG, BMP or GIF) in the class folder "
                    f"{shown_path(name)}, got none{why}. Add images to it, or remove the "
                    "folder.", (name,)))
    if classes and loose:
        problems.append(FolderProblem(
            NOTE, "no-class",
            f"{_files(len(loose))} lie directly in {root}, in no class subfolder, and are "
            f"left out: {listed(loose)}.", tuple(loose)))
    problems += _left_out_problems(found)
    sizes = np.asarray(found.sizes, np.int64).reshape(-1, 3)
    if len(sizes) and image_size is not None:
        problems += _size_notes(sizes, tuple(int(s) for s in image_size))
    if len(sizes) and color_mode is not None:
        problems += _colour_notes(sizes[:, 2], color_mode)
    order = {ERROR: 0, WARNING: 1, NOTE: 2}
    problems.sort(key=lambda p: order[p.severity])
    skipped = tuple(found.named_images_left_out)
    return FolderScan(root, tuple(classes), tuple(found.files),
                      np.asarray(found.labels, np.int64), sizes[:, 0].copy(),
                      sizes[:, 1].copy(), sizes[:, 2].copy(), skipped, tuple(problems))


def _size_notes(sizes: np.ndarray, target: tuple[int, int]) -> list[FolderProblem]:
    shapes = Counter((int(h), int(w)) for h, w in sizes[:, :2])
    h, w = target
    if len(shapes) == 1:
        (only,) = shapes
        if only == target:
            return []
        stretch = _stretch(only, target)
        return [FolderProblem(
            NOTE, "resized",
            f"Every image is {only[1]}x{only[0]} (width x height) and is resized to {w}x{h} "
            f"(bilinear){stretch}. Set data.image_size to [{only[0]}, {only[1]}] to keep "
            "every pixel.")]
    common = ", ".join(f"{sw}x{sh}: {n:,}" for (sh, sw), n in shapes.most_common(5))
    more = f", and {len(shapes) - 5:,} other sizes" if len(shapes) > 5 else ""
    other = sum(1 for shape in shapes if shape[0] * w != shape[1] * h)
    stretch = (f"; images of another shape than {w}x{h} are stretched ({other:,} of the "
               f"{len(shapes):,} sizes)" if other else "")
    return [FolderProblem(
        NOTE, "mixed-sizes",
        f"The images come in {len(shapes):,} sizes (width x height: {common}{more}); each is "
        f"resized to {w}x{h} (bilinear){stretch}.")]


def _stretch(shape: tuple[int, int], target: tuple[int, int]) -> str:
    if shape[0] * target[1] == shape[1] * target[0]:
        return ""
    return ", which stretches it to another shape"


def _colour_notes(channels: np.ndarray, color_mode: str) -> list[FolderProblem]:
    colour = int(np.sum(channels >= 3))
    if color_mode == "grayscale" and colour:
        return [FolderProblem(
            NOTE, "colour",
            f"{_files(colour, 'image')} {'is' if colour == 1 else 'are'} in colour and "
            "read as grey (data.color_mode is 'grayscale').")]
    if color_mode == "rgb" and not colour:
        return [FolderProblem(
            NOTE, "colour",
            "Every image is grey, and each is read as 3 identical colour channels (data."
            "color_mode is 'rgb'); 'grayscale' gives the model a third of the inputs.")]
    return []
