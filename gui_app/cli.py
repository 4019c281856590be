"""The headless `layerlab` commands, over the same core as the window.

Exit codes:
  0    success (also when the reader of the output went away: `layerlab summary X | head`);
  1    the command ran and found a problem (a check error, a failed training, a result
       that could not be written after training);
  2    the command could not do its work: unusable input (missing file, invalid project or
       data, a project that writes outside its folder without `--allow-outside`), an output
       that cannot be written (a full disk or standard output), or an unexpected error;
  130  interrupted with Ctrl+C; 143 `train` stopped by SIGTERM (what was trained is still
       written).
Every failure is one line on stderr, never a traceback (`--debug` or LAYERLAB_DEBUG=1 adds
the traceback of an unexpected error).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__

EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE = 0, 1, 2
EXIT_INTERRUPTED = 130
COMMANDS = ("summary", "check", "train", "export", "import")
DEBUG_ENV = "LAYERLAB_DEBUG"


class UsageError(Exception):
    """An unusable input; main() prints it as one line and exits 2."""


class OutputError(Exception):
    """Standard output could not be written (a closed pipe, a full device)."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.errno = cause.errno


class _GuardedStdout:
    """Standard output while a command runs: a failed write raises OutputError, so the
    guard in run_cli tells it apart from an OSError of any file the command writes."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except OSError as exc:
            raise OutputError(exc) from None

    def flush(self) -> None:
        try:
            self._stream.flush()
        except OSError as exc:
            raise OutputError(exc) from None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _load(path: str, allow_outside: bool | None = None):
    """The project at `path`, or UsageError.

    A project whose callbacks write outside its folder to unconfirmed paths: with
    `allow_outside` None the command goes on with it (summary, check: the checks report
    it); False refuses it (train, export); True confirms those paths for this run.
    """
    from .core.project import OutsidePathsError, ProjectError, load_project

    try:
        return load_project(path)
    except OutsidePathsError as exc:
        if allow_outside is None:
            return exc.project
        if allow_outside:
            return exc.approved()
        problems = exc.problems
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
    add_debug_flag(p)
    p.set_defaults(func=cmd_summary)
    p = sub.add_parser("check", help="run the pre-flight checks; exit 1 if there is an error")
    p.add_argument("project", help="a .layerlab.json project file")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--no-data", action="store_true", help="do not load the data")
    add_debug_flag(p)
    p.set_defaults(func=cmd_check)
    _add_engine_commands(sub)
    return parser


def add_debug_flag(parser: argparse.ArgumentParser,
                   help: str = "print the full traceback of an unexpected error") -> None:
    parser.add_argument("--debug", action="store_true", help=help)


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
    """Runs one command; every way it can end is an exit code (see the module docstring)."""
    stdout = sys.stdout
    if stdout is not None:  # None: no console at all (pythonw), and print() skips it
        sys.stdout = _GuardedStdout(stdout)
    debug = os.environ.get(DEBUG_ENV, "") not in ("", "0")
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(list(argv))
        except SystemExit as exc:  # argparse prints its own message; usage errors are exit 2
            _flush_stdout()
            return int(exc.code or 0)
        debug = debug or getattr(args, "debug", False)
        code = args.func(args)
        _flush_stdout()  # a full device says so now, not at interpreter exit
        return code
    except UsageError as exc:
        _say(str(exc))
        return EXIT_UNUSABLE
    except OutputError as exc:
        _silence(stdout)
        if exc.errno == errno.EPIPE:  # the reader went away (`| head`): nothing to say
            return EXIT_OK
        _say(f"cannot write the output: {exc}")
        return EXIT_UNUSABLE
    except BrokenPipeError:  # stderr's reader went away
        return EXIT_OK
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:
        lines = str(exc).strip().splitlines()
        detail = f": {lines[0][:300]}" if lines else ""
        _say(f"unexpected error: {type(exc).__name__}{detail}; please report it")
        if debug:
            _say(traceback.format_exc().rstrip(), prefix="")
        return EXIT_UNUSABLE
    finally:
        if isinstance(sys.stdout, _GuardedStdout):
            sys.stdout = stdout
        try:
            if stdout is not None:
                stdout.flush()
        except (OSError, ValueError):  # after an error of another kind: say nothing more
            _silence(stdout)


def _flush_stdout() -> None:
    if sys.stdout is not None:
        sys.stdout.flush()


def _say(message: str, prefix: str = "layerlab: ") -> None:
    """One message on stderr; a stderr that cannot be written is not an error of its own."""
    try:
        print(f"{prefix}{message}", file=sys.stderr, flush=True)
    except (OSError, ValueError):
        pass


def _silence(stream: Any) -> None:
    """Points a failed standard output at the null device, so the flush at interpreter
    exit does not fail again (with a traceback) on what is still buffered."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a real file (a test's capture)
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(null, fd)
        finally:
            os.close(null)
    except OSError:
        pass
