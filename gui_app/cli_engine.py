"""`layerlab train` and `layerlab export`: the training engine on the command line.

`cli.py` adds these commands when this module is present. Exit codes follow `cli.py`:
0 success; 1 the command ran and found a problem (a pre-flight check error, a failed
training, a loss that became NaN); 2 unusable input (a one-line message, nothing trained);
130 interrupted with Ctrl+C (what was trained so far is still written).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import IO, Any

from .cli import EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE, UsageError, _load

EXIT_INTERRUPTED = 130
SUFFIX = ".layerlab.json"


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_commands(subparsers: Any) -> None:
    """Adds `train` and `export` to the `layerlab` argument parser."""
    p = subparsers.add_parser(
        "train",
        help="train the project headless; write the history and the model",
        description="Loads the project and its data, runs the pre-flight checks, trains, and "
                    "writes DIR/history.json and DIR/model.keras.",
    )
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("--epochs", type=_positive_int, metavar="N",
                   help="epochs to train (default: the project's fit.epochs)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="where to write history.json and model.keras (default: a folder "
                        "named after the project, beside it)")
    p.add_argument("--events", type=Path, metavar="FILE",
                   help="also write every training event as JSON lines to FILE")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "gpu"),
                   help="where to train (default: the GPU when there is one)")
    p.add_argument("--quiet", action="store_true", help="print only the final line")
    p.add_argument("--debug", action="store_true",
                   help="print the full traceback when training fails")
    p.set_defaults(func=cmd_train)

    p = subparsers.add_parser(
        "export",
        help="write a standalone Python script that trains the project",
        description="Writes a readable script (keras + numpy) that rebuilds the data, the "
                    "model, compile and fit with the same seed.",
    )
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("-o", "--output", required=True, metavar="SCRIPT",
                   help="the .py file to write, or - for standard output")
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "gpu", "all"],
                   help="'all' wraps the model in tf.distribute.MirroredStrategy so the script "
                        "trains on every GPU of a bigger machine")
    p.set_defaults(func=cmd_export)


def _default_out(project_path: Path) -> Path:
    name = project_path.name
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else project_path.stem
    return project_path.resolve().parent / f"{stem}_run"


def _load_data(project: Any, path: str) -> Any:
    from .core.data import DataError, load_dataset

    if not project.data:
        raise UsageError(
            f"{path}: data: expected a data section saying what to train on, e.g. "
            '{"source": "circle"}, got none; add one (or pick data in the window)'
        )
    try:
        return load_dataset(project.data, base_dir=Path(path).resolve().parent)
    except DataError as exc:
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise UsageError(f"{path}: {exc.problems[0] if exc.problems else exc}{more}") from None


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4g}"


class _Printer:
    """Prints one line per epoch and writes the event stream."""

    def __init__(self, quiet: bool, events: IO[str] | None) -> None:
        self.quiet = quiet
        self.events = events
        self.end: Any = None
        self.total = 0

    def __call__(self, event: Any) -> None:
        from .core.training import EpochEnd, Failed, Finished, Started, event_to_dict

        if self.events is not None:
            self.events.write(json.dumps(event_to_dict(event), allow_nan=False) + "\n")
        if isinstance(event, Started):
            self.total = event.epochs
            if not self.quiet:
                print(f"training on {event.device}: {event.samples} samples, batch "
                      f"{event.batch_size}, {event.steps_per_epoch} steps per epoch, epochs "
                      f"{event.initial_epoch + 1}-{event.epochs}", flush=True)
        elif isinstance(event, EpochEnd) and not self.quiet:
            logs = "  ".join(f"{k} {_fmt(v)}" for k, v in event.logs.items())
            width = len(str(self.total))
            print(f"epoch {event.epoch + 1:>{width}}/{self.total}  {logs}  "
                  f"({event.elapsed:.1f} s)", flush=True)
        elif isinstance(event, (Finished, Failed)):
            self.end = event


def cmd_train(args: argparse.Namespace) -> int:
    from .core.checks import ERROR, run_checks
    from .core.training import Failed, TrainingSession

    project = _load(args.project)
    dataset = _load_data(project, args.project)
    findings = run_checks(project, dataset.info())
    errors = [f for f in findings if f.severity == ERROR]
    if errors:
        print(f"layerlab: {args.project}: the pre-flight checks found "
              f"{len(errors)} error(s); nothing was trained:", file=sys.stderr)
        for f in errors:
            print(f"  {f.where}: {f.message}", file=sys.stderr)
            for fix in f.fixes:
                print(f"      fix: {fix.label}", file=sys.stderr)
        return EXIT_PROBLEM
    if not args.quiet:
        for f in findings:
            print(f"{f.severity}: {f.where}: {f.message}")
        print(dataset.description)

    out = args.out if args.out is not None else _default_out(Path(args.project))
    try:
        out.mkdir(parents=True, exist_ok=True)
        events = open(args.events, "w", encoding="utf-8") if args.events else None  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot write the output: {exc.strerror or exc} "
                         f"({exc.filename or out})") from None
    printer = _Printer(args.quiet, events)
    session = TrainingSession(project, base_dir=Path(args.project).resolve().parent,
                              dataset=dataset, device=args.device)
    session.subscribe(printer)
    interrupted = False
    try:
        session.start(args.epochs)
        while True:
            try:
                if session.wait(0.25):
                    break
            except KeyboardInterrupt:
                # Stop cleanly and still write what was trained.
                interrupted = True
                print("layerlab: stopping after this batch...", file=sys.stderr)
                session.stop()
        end = printer.end
        if isinstance(end, Failed):
            print(f"layerlab: training failed: {end.message}", file=sys.stderr)
            if args.debug:
                print(end.detail, file=sys.stderr)
            return EXIT_PROBLEM
        _write_json(out / "history.json", end.history)
        wrote = [out / "history.json"]
        if end.reason != "nan":
            try:
                session.save_model(out / "model.keras")
            except Exception as exc:  # a full disk, a folder without write access
                print(f"layerlab: trained, but the model could not be saved to {out}: "
                      f"{type(exc).__name__}: {exc}", file=sys.stderr)
                return EXIT_PROBLEM
            wrote.append(out / "model.keras")
    finally:
        session.close()
        if events is not None:
            events.close()
    print(f"{end.reason.replace('_', ' ')}: {end.message}", flush=True)
    print("wrote " + ", ".join(str(p) for p in wrote))
    if interrupted:
        return EXIT_INTERRUPTED
    return EXIT_PROBLEM if end.reason == "nan" else EXIT_OK


def _write_json(path: Path, doc: Any) -> None:
    from .core.project import write_atomic

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    write_atomic(path, (json.dumps(clean(doc), indent=2) + "\n").encode("utf-8"))


def cmd_export(args: argparse.Namespace) -> int:
    from .core.data import DataError
    from .core.devices import with_strategy
    from .core.export import export_script
    from .core.project import write_atomic

    project = _load(args.project)
    base_dir = Path(args.project).resolve().parent
    to_stdout = args.output == "-"
    target = None if to_stdout else Path(args.output)
    if target is not None and target.suffix != ".py":
        raise UsageError(f"-o: expected a .py file name, got {args.output!r}; add .py")
    try:
        script = with_strategy(export_script(project, base_dir, script_path=target), args.device)
    except DataError as exc:
        raise UsageError(f"{args.project}: {exc.problems[0] if exc.problems else exc}") from None
    if target is None:
        sys.stdout.write(script)
        return EXIT_OK
    try:
        write_atomic(target, script.encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"wrote {target}")
    return EXIT_OK


__all__ = ["EXIT_INTERRUPTED", "EXIT_UNUSABLE", "add_commands", "cmd_export", "cmd_train"]
