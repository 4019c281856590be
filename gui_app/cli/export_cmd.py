"""`layerlab export`: writes a standalone, readable Python script (keras + numpy) that
rebuilds the project's data and model and trains it with the same seed, so a project can be
trained where LayerLab is not installed (`--device all` for every GPU of a bigger machine;
`--loop` for the training written out as a tf.GradientTape loop instead of `model.fit`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from .common import ALLOW_OUTSIDE_HELP, EXIT_OK, UsageError, add_debug_flag, load_project_arg


def add_commands(subparsers: Any) -> None:
    """Adds `export` to the `layerlab` argument parser."""
    p = subparsers.add_parser(
        "export",
        help="write a standalone Python script that trains the project",
        description="Writes a readable script (keras + numpy) that rebuilds the data, the "
                    "model, compile and fit with the same seed. With --loop, the script "
                    "trains with an explicit tf.GradientTape loop instead of model.fit.",
    )
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("-o", "--output", required=True, metavar="SCRIPT",
                   help="the .py file to write, or - for standard output")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu", "all"],
                   help="'all' wraps the model in tf.distribute.MirroredStrategy so the script "
                        "trains on every GPU of a bigger machine")
    p.add_argument("--strategy", choices=["one-device", "all-gpus", "multi-worker"],
                   help="the script's distribution strategy: 'all-gpus' is --device all; "
                        "'multi-worker' trains on several machines in step "
                        "(tf.distribute.MultiWorkerMirroredStrategy, configured by TF_CONFIG "
                        "on each), and the script then takes --strategy itself to choose "
                        "again when it runs")
    p.add_argument("--loop", action="store_true",
                   help="train with an explicit tf.GradientTape loop instead of model.fit "
                        "(needs tensorflow): the same data, model, optimizer, loss, metrics, "
                        "seed, epochs, batch size, class weights and callbacks, one line per "
                        "epoch as fit prints. One device only: not with --device all or "
                        "--strategy all-gpus/multi-worker")
    p.add_argument("--allow-outside", action="store_true", help=ALLOW_OUTSIDE_HELP)
    add_debug_flag(p)
    p.set_defaults(func=cmd_export)


def _strategy(args: argparse.Namespace) -> str:
    """The strategy the options choose: --strategy, else (and for one-device) --device."""
    return {"all-gpus": "all", "multi-worker": "multi-worker"}.get(args.strategy or "",
                                                                    args.device)


def _loop_refusal(args: argparse.Namespace) -> str | None:
    """Why --loop cannot go with the other options given, as what/why/fix; None if it can."""
    if not args.loop or _strategy(args) not in ("all", "multi-worker"):
        return None
    chosen = (f"--strategy {args.strategy}" if args.strategy in ("all-gpus", "multi-worker")
              else "--device all")
    return (f"--loop cannot be combined with {chosen}: the written-out loop trains on one "
            "device (it has no strategy.run and no gradient all-reduce across replicas); "
            f"export without --loop to train on several GPUs or machines, or drop {chosen}")


def cmd_export(args: argparse.Namespace) -> int:
    from ..core.codegen import UnsafeCodeError
    from ..core.codegen_loop import LoopExportError
    from ..core.data import DataError
    from ..core.devices import with_strategy
    from ..core.export import export_script
    from ..core.project import ProjectError, write_atomic

    refusal = _loop_refusal(args)
    if refusal:
        raise UsageError(refusal)
    project = load_project_arg(args.project, args.allow_outside)
    base_dir = Path(args.project).resolve().parent
    to_stdout = args.output == "-"
    target = None if to_stdout else Path(args.output)
    if target is not None and target.suffix != ".py":
        raise UsageError(f"-o: expected a .py file name, got {args.output!r}; add .py")
    try:
        strategy = _strategy(args)
        script = export_script(project, base_dir, script_path=target, loop=args.loop)
        script = script if args.loop else with_strategy(script, strategy)
    except LoopExportError as exc:
        raise UsageError(f"{args.project}: {exc}") from None
    except (DataError, ProjectError) as exc:
        raise UsageError(f"{args.project}: {exc.problems[0] if exc.problems else exc}") from None
    except UnsafeCodeError as exc:
        raise UsageError(f"{args.project}: cannot be written as code safely: {exc}") from None
    if target is None:
        sys.stdout.write(script)
        return EXIT_OK
    try:
        write_atomic(target, script.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}")
    return EXIT_OK
