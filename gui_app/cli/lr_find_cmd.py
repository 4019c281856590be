"""`layerlab lr-find`: the learning-rate range test on the command line (`core.lr_find`, run
by the same training session as `layerlab train`). It prints one line with the suggested
rate, or with `--json` the whole curve; it exits 1, saying why and what to try, when the
loss never fell.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .common import (
    EXIT_OK,
    EXIT_PROBLEM,
    UsageError,
    _load_data,
    add_debug_flag,
    int_at_least,
    load_project_arg,
)

_steps = int_at_least(2)


def add_commands(subparsers: Any) -> None:
    """Adds `lr-find` to the `layerlab` argument parser."""
    p = subparsers.add_parser(
        "lr-find",
        help="suggest a learning rate: train with a growing rate and read the loss curve",
        description="Trains a copy of the project's model with the learning rate growing "
                    "exponentially from 1e-7 to 10 over 100 to 300 batches, stops when the "
                    "smoothed loss passes 4 times its minimum, and suggests a rate from the "
                    "curve (fastai's 'valley' rule, else the steepest fall, else a tenth of "
                    "the rate at the lowest loss). Nothing is written. Exit 1 when the loss "
                    "never fell.",
    )
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("--json", action="store_true",
                   help='print {"suggested_lr", "rule", "lrs", "losses", ...} instead of one '
                        "line")
    p.add_argument("--trained", metavar="WEIGHTS", nargs="?", const="",
                   help="start from trained weights instead of fresh ones: a .weights.h5 "
                        "file, or with no file the project's own (<stem>.weights.h5 beside "
                        "it, as the window and `layerlab import` save them)")
    p.add_argument("--steps", type=_steps, metavar="N",
                   help="batches in the sweep (default: 20 epochs' worth, within 100-300)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"),
                   help="where to train (default: the GPU when there is one)")
    add_debug_flag(p, "print the full traceback when the sweep fails")
    p.set_defaults(func=cmd_lr_find)


def _json_doc(result: Any) -> dict[str, Any]:
    doc = result.to_dict()
    return {"suggested_lr": doc["suggested_lr"], "rule": doc["rule"], "lrs": doc["lrs"],
            "losses": doc["losses"], "reason": doc["reason"], "message": doc["message"],
            "steps": doc["steps"], "start": doc["start"]}


def _line(result: Any) -> str:
    from ..core.lr_find import REASONS

    lrs = result.lrs
    return (f"suggested learning rate: {result.suggested_lr:g} (rule: {result.rule}; "
            f"{len(lrs)} batches from {lrs[0]:.2g} to {lrs[-1]:.2g}, "
            f"{REASONS.get(result.reason, result.reason)})")


def _weights(trained: str | None, project_path: str) -> Path | None:
    """The weights file `--trained` names (None without the option), or UsageError."""
    if trained is None:
        return None
    if trained:
        path = Path(trained)
    else:
        from ..core.modelfile import weights_path_for

        path = weights_path_for(project_path)
    if not path.is_file():
        where = "" if trained else " (the project's own, beside it)"
        raise UsageError(f"--trained: expected a .weights.h5 file{where}, got {path}, which "
                         "does not exist; train and save the project first, or name the file")
    return path


def cmd_lr_find(args: argparse.Namespace) -> int:
    from ..core.checks import ERROR, run_checks
    from ..core.training import SessionError, TrainingSession

    project = load_project_arg(args.project)
    dataset = _load_data(project, args.project)
    errors = [f for f in run_checks(project, dataset.info()) if f.severity == ERROR]
    if errors:
        print(f"layerlab: {args.project}: the pre-flight checks found {len(errors)} "
              "error(s); no rate was tried:", file=sys.stderr)
        for f in errors:
            print(f"  {f.where}: {f.message}", file=sys.stderr)
        return EXIT_PROBLEM
    weights = _weights(args.trained, args.project)
    session = TrainingSession(project, base_dir=Path(args.project).resolve().parent,
                              dataset=dataset, device=args.device, progress_interval=3600)
    session.diagnostics = False
    try:
        if weights is not None:
            try:
                session.load_weights(weights)
            except Exception as exc:  # noqa: BLE001 - Keras's words, on one line
                text = str(exc).strip().splitlines()
                raise UsageError(f"--trained: {weights} does not fit this project's "
                                 f"model ({text[0][:200] if text else type(exc).__name__}); "
                                 "give the weights saved for it") from None
        try:
            result = session.lr_find(trained=weights is not None, steps=args.steps)
        except SessionError as exc:
            print(f"layerlab: the learning-rate sweep failed: {exc}", file=sys.stderr)
            return EXIT_PROBLEM
    finally:
        session.close()
    if args.json:
        print(json.dumps(_json_doc(result), allow_nan=False))
    if result.suggested_lr is None:
        print(f"layerlab: no learning rate to suggest: {result.message}", file=sys.stderr)
        return EXIT_PROBLEM
    if not args.json:
        print(_line(result))
    return EXIT_OK
