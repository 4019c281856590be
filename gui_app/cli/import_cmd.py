"""`layerlab import MODEL.keras -o PROJECT.layerlab.json`: a trained model becomes a project.
It is the headless face of `core.modelfile` (the same checks, the same refusals: a refused
or unreadable file exits 2 with one line, never a traceback), and it writes the project and
its weights all or nothing: both go to temporary names beside the targets and are renamed
into place at the end, so no weights file is ever left without its project.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, add_debug_flag

EPILOG = (
    "Only Sequential models made of LayerLab's layers are opened. Nothing stored in the file "
    "is run: Lambda layers, custom objects, nested models and file paths are refused."
)


def add_commands(subparsers: Any) -> None:
    """Registers `import` on the `layerlab` command's subparsers."""
    parser = subparsers.add_parser(
        "import",
        help="turn a trained Sequential .keras (or legacy .h5) model into a project",
        description="Reads a trained Keras Sequential model without running anything stored "
                    "in it, and writes a LayerLab project with its trained weights beside it "
                    "(PROJECT.weights.h5).",
        epilog=EPILOG,
    )
    parser.add_argument("model", help="a .keras file (or a legacy .h5 file)")
    parser.add_argument("-o", "--output", required=True, metavar="PROJECT.layerlab.json",
                        help="the project file to write; the weights go beside it")
    parser.add_argument("--force", action="store_true",
                        help="replace the project and weights files if they exist")
    add_debug_flag(parser)
    parser.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    """Writes the project and its weights; prints what it wrote and any notes."""
    from ..core.modelfile import ModelFileError, import_model_file, weights_path_for
    from ..core.project import SUFFIX

    out = Path(args.output)
    if not out.name.endswith(SUFFIX) or out.name == SUFFIX:
        raise UsageError(f"-o {out}: expected a project file name ending in {SUFFIX}, "
                         f"e.g. -o model{SUFFIX}")
    weights = weights_path_for(out)
    for target in (out, weights):  # before anything is written
        if target.is_dir():
            raise UsageError(f"{target} is a folder; choose another -o name")
        if not args.force and (target.exists() or target.is_symlink()):
            raise UsageError(f"{target} already exists; pass --force to replace it, or "
                             "choose another -o name")
    # Both files go to temporary names first (the weights' name follows the project's).
    stem = out.name[: -len(SUFFIX)]
    tmp_out = out.with_name(f".{stem}.tmp-{secrets.token_hex(6)}{SUFFIX}")
    tmp_weights = weights_path_for(tmp_out)
    try:
        result = import_model_file(args.model, tmp_out)
        _move_into_place(tmp_weights, weights, tmp_out, out)
    except ModelFileError as exc:
        raise UsageError(f"{args.model}: {exc}") from None
    except OSError as exc:
        name = str(exc.filename or "")
        where = out if not name or ".tmp-" in Path(name).name else name  # not our temp names
        raise UsageError(f"cannot write {where}: {exc.strerror or exc}") from None
    finally:
        for tmp in (tmp_out, tmp_weights):
            with contextlib.suppress(OSError):
                tmp.unlink()
    imported = result.imported
    spec = result.project.model
    shape = "(" + ", ".join("None" if d is None else str(d) for d in spec.input_shape) + ")"
    count = sum(_prod(s) for s in imported.weight_shapes)
    print(f"Wrote {out} (project {result.project.name!r}: {len(spec.layers)} "
          f"layers, input {shape}, from a Keras {imported.keras_version or 'unknown'} "
          f".{imported.format} file)")
    print(f"Wrote {weights} (trained weights: {count:,} numbers)")
    for note in imported.notes:
        print(f"note: {note}")
    return EXIT_OK


def _move_into_place(tmp_weights: Path, weights: Path, tmp_out: Path, out: Path) -> None:
    """Renames the weights, then the project, into place (a project on disk always has its
    weights beside it). A project that is a symbolic link keeps the link and gets its target
    replaced, as `save_project` does. When the project cannot be moved, weights that did
    not exist before are removed again."""
    existed = weights.exists() or weights.is_symlink()
    os.replace(tmp_weights, weights)
    try:
        os.replace(tmp_out, Path(os.path.realpath(out)) if out.is_symlink() else out)
    except BaseException:
        if not existed:
            with contextlib.suppress(OSError):
                weights.unlink()
        raise


def _prod(shape: tuple[int, ...]) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total
