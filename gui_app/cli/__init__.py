"""The headless `layerlab` commands, over the same core as the window: one module per
group of commands (`inspect_cmds`, `train_cmd`, `lr_find_cmd`, `export_cmd`, `import_cmd`),
what they share in `common`, and here the parser and the one guard, `run_cli`.

Exit codes:
  0    success (also when the reader of the output went away: `layerlab summary X | head`);
  1    the command ran and found a problem (a check error, a failed training, a result
       that could not be written after training, a learning-rate sweep whose loss never
       fell);
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
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

from .. import __version__
from . import export_cmd, import_cmd, inspect_cmds, lr_find_cmd, train_cmd, tune_cmd
from .common import (
    DEBUG_ENV,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_TERMINATED,
    EXIT_UNUSABLE,
    GuardedStdout,
    OutputError,
    UsageError,
)

COMMANDS = ("summary", "check", "train", "lr-find", "tune", "export", "import")
# in the order `--help` lists them
GROUPS = (inspect_cmds, train_cmd, lr_find_cmd, tune_cmd, export_cmd, import_cmd)

__all__ = [
    "COMMANDS", "DEBUG_ENV", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_PROBLEM", "EXIT_TERMINATED",
    "EXIT_UNUSABLE", "OutputError", "UsageError", "build_parser", "run_cli",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="layerlab",
        description="Build, inspect and train Keras Sequential networks. With no command, "
                    "opens the window (on PROJECT when given).",
    )
    parser.add_argument("--version", action="version", version=f"LayerLab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for group in GROUPS:
        group.add_commands(sub)
    return parser


def run_cli(argv: Sequence[str]) -> int:
    """Runs one command; every way it can end is an exit code (see the module docstring)."""
    stdout = sys.stdout
    if stdout is not None:  # None: no console at all (pythonw), and print() skips it
        sys.stdout = GuardedStdout(stdout)
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
        if isinstance(sys.stdout, GuardedStdout):
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
