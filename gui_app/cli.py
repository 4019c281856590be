"""The headless `layerlab` commands, over the same core as the window.

Exit codes: 0 success; 1 the command ran and found a problem (a check error, a failed
training); 2 the input is unusable (missing file, invalid project or data), with a one-line
message on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE = 0, 1, 2
COMMANDS = ("summary", "check", "train", "export", "import")


class UsageError(Exception):
    """An unusable input; main() prints it as one line and exits 2."""


def _load(path: str):
    from .core.project import ProjectError, load_project

    try:
        return load_project(path)
    except ProjectError as exc:
        problems = exc.problems
        more = f" (and {len(problems) - 1} more problem(s); `layerlab check` lists them)" \
            if len(problems) > 1 else ""
        raise UsageError(f"{path}: {problems[0]}{more}") from None


def _data_info(project, path: str):
    """DataInfo for the project's data, or None when it has no data section."""
    if not project.data:
        return None
    from .core.data import DataError, load_dataset

    try:
        return load_dataset(project.data, base_dir=Path(path).resolve().parent).info()
    except DataError as exc:
        raise UsageError(f"{path}: data: {exc.problems[0] if exc.problems else exc}") from None


def cmd_summary(args: argparse.Namespace) -> int:
    from .core.summary import format_table, summarize

    project = _load(args.project)
    summary = summarize(project.model)
    if args.json:
        doc = summary.to_json()
        doc.pop("input_shape", None)
        doc["input_shape"] = list(project.model.input_shape)
        print(json.dumps(doc, indent=2))
    else:
        print(format_table(summary, project.name))
    return EXIT_OK if summary.ok else EXIT_PROBLEM


def cmd_check(args: argparse.Namespace) -> int:
    from .core.checks import has_errors, run_checks

    project = _load(args.project)
    info = None if args.no_data else _data_info(project, args.project)
    findings = run_checks(project, info)
    if args.json:
        print(json.dumps([f.to_json() for f in findings], indent=2))
    elif not findings:
        print("No problems found." + ("" if info else " (The data was not checked.)"))
    else:
        for f in findings:
            print(f"{f.severity.upper():7} {f.where}: {f.message}")
            for fix in f.fixes:
                print(f"        fix: {fix.label}")
    return EXIT_PROBLEM if has_errors(findings) else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerlab",
        description="Build, inspect and train Keras Sequential networks. With no command, "
                    "opens the window (on PROJECT when given).",
    )
    parser.add_argument("--version", action="version", version=f"LayerLab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("summary", help="print the layer table and parameter counts")
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=cmd_summary)
    p = sub.add_parser("check", help="run the pre-flight checks; exit 1 if there is an error")
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--no-data", action="store_true", help="do not load the data")
    p.set_defaults(func=cmd_check)
    _add_engine_commands(sub)
    return parser


def _add_engine_commands(sub) -> None:
    """Commands provided by the training engine and the importer, when present."""
    try:
        from .cli_engine import add_commands
    except ImportError as exc:
        if exc.name != f"{__package__}.cli_engine":  # a bug inside it must not hide it
            raise
    else:
        add_commands(sub)
    from .cli_import import add_commands as add_import_commands

    add_import_commands(sub)


def run_cli(argv: Sequence[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as exc:  # argparse prints its own message; usage errors are exit 2
        return int(exc.code or 0)
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"layerlab: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    except BrokenPipeError:  # `layerlab summary X | head` closes the pipe early
        return EXIT_OK
    except KeyboardInterrupt:
        print("layerlab: interrupted", file=sys.stderr)
        return 130
