"""What more than one `layerlab` command uses: the exit codes, the errors the guard in
`run_cli` turns into one line (`UsageError`, `OutputError`), the guarded standard output,
loading the project and its data from the command line, and the `--debug` flag. The
command modules import only from here, so none of them depends on the package or on
another command.
"""

from __future__ import annotations

import argparse
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_PROBLEM, EXIT_UNUSABLE = 0, 1, 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM  # 143, as a shell reports a process ended by SIGTERM
DEBUG_ENV = "LAYERLAB_DEBUG"
ALLOW_OUTSIDE_HELP = ("let the project's callbacks write outside its folder (to the paths it "
                      "names)")


class UsageError(Exception):
    """An unusable input; main() prints it as one line and exits 2."""


class OutputError(Exception):
    """Standard output could not be written (a closed pipe, a full device)."""

    def __init__(self, cause: OSError) -> None:
        super().__init__(cause.strerror or str(cause))
        self.errno = cause.errno


class GuardedStdout:
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


def add_debug_flag(parser: argparse.ArgumentParser,
                   help: str = "print the full traceback of an unexpected error") -> None:
    parser.add_argument("--debug", action="store_true", help=help)


def _with_lesson_data(project, path: str):
    """A bundled lesson whose data LayerLab generates (the shapes pictures of lessons 8a
    and 8b): written on first use, as File > Open Example does, so that `layerlab train`
    runs the lesson file as it is shipped."""
    from ..core.lessons import default_examples_dir, generated_lesson_data

    try:
        bundled = Path(path).resolve().parent == default_examples_dir().resolve()
    except OSError:
        return project
    if not bundled:
        return project
    made, note = generated_lesson_data(project, default_examples_dir())
    if note:
        raise UsageError(f"{path}: {note}")
    return made


def load_project_arg(path: str, allow_outside: bool | None = None):
    """The project at `path`, or UsageError.

    A project whose callbacks write outside its folder to unconfirmed paths: with
    `allow_outside` None the command goes on with it (summary, check: the checks report
    it); False refuses it (train, export); True confirms those paths for this run.
    """
    from ..core.project import OutsidePathsError, ProjectError, load_project

    try:
        return _with_lesson_data(load_project(path), path)
    except OutsidePathsError as exc:
        if allow_outside is None:
            return _with_lesson_data(exc.project, path)
        if allow_outside:
            return _with_lesson_data(exc.approved(), path)
        problems = exc.problems
    except ProjectError as exc:
        problems = exc.problems
    more = f" (and {len(problems) - 1} more problem(s); `layerlab check` lists them)" \
        if len(problems) > 1 else ""
    raise UsageError(f"{path}: {problems[0]}{more}") from None


def _data_info(project, path: str, raw: bool = False):
    """DataInfo for the project's data, or None when it has no data section.

    A DataError becomes a one-line UsageError, or is raised as it is (every problem)
    with `raw`."""
    if not project.data:
        return None
    from ..core.data import DataError, load_dataset

    try:
        return load_dataset(project.data, base_dir=Path(path).resolve().parent).info()
    except DataError as exc:
        if raw:
            raise
        raise UsageError(f"{path}: data: {exc.problems[0] if exc.problems else exc}") from None


def _load_data(project: Any, path: str) -> Any:
    from ..core.data import DataError, load_dataset

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


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse `type` for a whole number of at least `minimum`, with a clear message."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected a number >= {minimum}, got {value}")
        return value

    return parse
