"""`layerlab import MODEL.keras -o PROJECT.layerlab.json`: a trained model becomes a project.

The command is the headless face of `core.modelfile`: the same checks, the same refusals.
A refused or unreadable model file exits 2 with the one-line reason on stderr (through
`cli.UsageError`), never a traceback, so scripts can tell "LayerLab said no" from a crash.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

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
    parser.set_defaults(func=cmd_import)


def cmd_import(args: argparse.Namespace) -> int:
    """Writes the project and its weights; prints what it wrote and any notes."""
    from .cli import EXIT_OK, UsageError
    from .core.modelfile import ModelFileError, import_model_file, weights_path_for
    from .core.project import SUFFIX

    out = Path(args.output)
    if not out.name.endswith(SUFFIX) or out.name == SUFFIX:
        raise UsageError(f"-o {out}: expected a project file name ending in {SUFFIX}, "
                         f"e.g. -o model{SUFFIX}")
    weights = weights_path_for(out)
    if not args.force:
        for target in (out, weights):
            if target.exists():
                raise UsageError(f"{target} already exists; pass --force to replace it, or "
                                 "choose another -o name")
    try:
        result = import_model_file(args.model, out)
    except ModelFileError as exc:
        raise UsageError(f"{args.model}: {exc}") from None
    except OSError as exc:
        where = exc.filename or out
        raise UsageError(f"cannot write {where}: {exc.strerror or exc}") from None
    imported = result.imported
    spec = result.project.model
    shape = "(" + ", ".join("None" if d is None else str(d) for d in spec.input_shape) + ")"
    count = sum(_prod(s) for s in imported.weight_shapes)
    print(f"Wrote {result.project_path} (project {result.project.name!r}: {len(spec.layers)} "
          f"layers, input {shape}, from a Keras {imported.keras_version or 'unknown'} "
          f".{imported.format} file)")
    print(f"Wrote {result.weights_path} (trained weights: {count:,} numbers)")
    for note in imported.notes:
        print(f"note: {note}")
    return EXIT_OK


def _prod(shape: tuple[int, ...]) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total
