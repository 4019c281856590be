"""`layerlab tune`: the project's hyperparameter search (its `search` section), headless.

It prints one line per trial and a last line with the best values; with `--json` every
line is JSON (each trial's event, then {"best", "best_score", "objective", "trials"}).
The trials are kept in `<project>.search/` beside the project, so running it again
continues the search (to `--trials` in all). Ctrl+C and SIGTERM stop after the current
batch; the trial in progress is run again next time.

`--workers N` runs the search in N worker processes on this computer, against a chief
(this process) listening on 127.0.0.1 only: Keras Tuner's distributed mode. With Keras
Tuner's environment variables set (KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP,
KERASTUNER_ORACLE_PORT) the command is the chief or a worker of a search across machines
(README: "Searching on many machines").
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .common import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEM,
    OutputError,
    UsageError,
    _load_data,
    add_debug_flag,
    load_project_arg,
)


def _bounded(low: int, high: int, what: str):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected {what} from {low} to {high}, got "
                                             f"{value}")
        return value

    return parse


def add_commands(subparsers: Any) -> None:
    """Adds `tune` to the `layerlab` argument parser."""
    from ..core.search import MAX_TRIALS, MAX_WORKERS

    p = subparsers.add_parser(
        "tune",
        help="search the project's hyperparameters with Keras Tuner (its search section)",
        description="Runs the search the project's \"search\" section describes, one line "
                    "per trial. The trials are kept beside the project in NAME.search/; "
                    "running the command again continues the search.",
    )
    p.add_argument("project", help="a .layerlab.json project file with a search section")
    p.add_argument("--trials", type=_bounded(1, MAX_TRIALS, "a number of trials"), metavar="N",
                   help="trials in all, earlier ones included (default: the project's "
                        "search.max_trials)")
    p.add_argument("--workers", type=_bounded(1, MAX_WORKERS, "a number of workers"),
                   metavar="N",
                   help="run the trials in N worker processes on this computer, against a "
                        "chief listening on 127.0.0.1 only")
    p.add_argument("--json", action="store_true",
                   help="print JSON lines: each trial, then {\"best\", \"best_score\", "
                        "\"objective\", \"trials\"}")
    p.add_argument("--quiet", action="store_true", help="print only the last line")
    add_debug_flag(p, "print the full traceback when the search fails")
    p.set_defaults(func=cmd_tune)


class _Printer:
    """One line per ended trial (and per trial of an earlier session, marked so); it runs
    on the search's thread, so it never raises."""

    def __init__(self, as_json: bool, quiet: bool, total: int, objective: str) -> None:
        self.as_json = as_json
        self.quiet = quiet
        self.total = total
        self.objective = objective
        self.failed = False

    def __call__(self, event: Any) -> None:
        from ..core.search_events import TrialEvent

        if not isinstance(event, TrialEvent) or event.status == "running":
            return
        if self.as_json:
            doc = event.to_dict()
            doc.pop("history", None)
            self._print(json.dumps(doc))
            return
        from ..core.search import fmt_value

        values = "  ".join(f"{_short(k)}={fmt_value(v)}" for k, v in event.values.items())
        score = f"{self.objective} {event.score:.4g}" if event.score is not None else \
            event.message or "no score"
        where = f" on {event.worker}" if event.worker.startswith("tuner") and \
            event.worker != "tuner0" else ""
        when = " (earlier)" if event.earlier else f" ({event.seconds:.1f} s{where})"
        width = len(str(self.total))
        self._print(f"trial {event.number:>{width}}/{self.total}  {values}  {score}  "
                    f"{event.status}{when}")

    def _print(self, line: str) -> None:
        if self.quiet or self.failed:
            return
        try:
            print(line, flush=True)
        except (OutputError, OSError):
            self.failed = True


def _short(path: str) -> str:
    """`model.layers[0].units` -> `layers[0].units`; `compile.optimizer.x` -> `optimizer.x`."""
    for prefix in ("model.", "compile."):
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


@contextlib.contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM acts like Ctrl+C while the search runs (a worker told to end stops after
    its current batch); the previous handler comes back afterwards."""
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError, AttributeError):  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def cmd_tune(args: argparse.Namespace) -> int:
    from ..core.search import SearchError
    from ..core.search_folder import prepare_folder, search_folder
    from ..engine.tuning_cluster import cluster_problem, role

    project = load_project_arg(args.project)  # callbacks that write are left out of trials
    if project.search is None:
        raise UsageError(f"{args.project}: search: expected a search section saying what to "
                         "search, e.g. {\"space\": [{\"path\": \"model.layers[0].units\", "
                         "\"kind\": \"int\", \"min\": 4, \"max\": 64}]}, got none; add one, or "
                         "turn a setting into a search in the window")
    problem = cluster_problem()
    if problem:
        raise UsageError(problem)
    mode = role()
    if args.workers and mode != "local":
        raise UsageError(f"--workers: expected no Keras Tuner environment variables with it "
                         f"(this process is a {mode} already); unset KERASTUNER_ORACLE_IP, "
                         "or leave out --workers")
    path = Path(args.project)
    base_dir = path.resolve().parent
    try:
        folder = prepare_folder(search_folder(path), base_dir)
    except SearchError as exc:
        raise UsageError(str(exc)) from None
    total = args.trials or project.search.max_trials
    printer = _Printer(args.json, args.quiet, total, project.search.objective)
    with _sigterm_interrupts():
        if mode == "chief" or args.workers:
            done, stopped = _run_chief(project, path, folder, args, printer)
        else:
            dataset = _load_data(project, args.project)
            _preflight(project, dataset, args.project)
            done, stopped = _run_here(project, folder, base_dir, dataset, args, printer)
    return _finish(done, stopped, args, printer, mode)


def _preflight(project: Any, dataset: Any, where: str) -> None:
    from ..core.checks import ERROR, run_checks

    errors = [f for f in run_checks(project, dataset.info()) if f.severity == ERROR]
    if errors:
        first = errors[0]
        raise UsageError(f"{where}: the pre-flight checks found {len(errors)} error(s); "
                         f"nothing was searched: {first.where}: {first.message}")


def _run_here(project: Any, folder: Path, base_dir: Path, dataset: Any,
              args: argparse.Namespace, printer: _Printer) -> tuple[Any, bool]:
    """The search in this process (alone, or as a worker of a chief)."""
    from ..engine.tuning import SearchRun

    run = SearchRun(project, folder, base_dir, dataset, args.trials)
    run.subscribe(printer)
    run.start()
    stopped = False
    while True:
        try:
            if run.wait(0.25):
                break
        except KeyboardInterrupt:
            stopped = True
            print("layerlab: stopping after this batch...", file=sys.stderr)
            run.stop()
    return run.done, stopped


def _run_chief(project: Any, path: Path, folder: Path, args: argparse.Namespace,
               printer: _Printer) -> tuple[Any, bool]:
    """The chief: this computer's workers (`--workers`), or a cluster's (the environment)."""
    import os

    from ..engine.tuning_cluster import Chief, end_workers, start_workers

    if args.workers:
        host, port = "127.0.0.1", 0
    else:
        host, port = os.environ["KERASTUNER_ORACLE_IP"], int(os.environ["KERASTUNER_ORACLE_PORT"])
    try:
        chief = Chief(project, folder, host, port, args.trials, printer)
    except OSError as exc:
        raise UsageError(f"the chief cannot listen: {exc}") from None
    workers = start_workers(path.resolve(), args.workers, chief.port, folder) \
        if args.workers else None
    if not args.json and not args.quiet:
        who = f"{args.workers} local worker(s)" if workers else "the workers"
        print(f"chief listening on {host}:{chief.port}; waiting for {who}", flush=True)
    stopped = False
    try:
        while True:
            try:
                return chief.serve(workers), stopped
            except KeyboardInterrupt:
                stopped = True
                print("layerlab: stopping the workers...", file=sys.stderr)
                chief.stop_flag.set()
                if workers:
                    end_workers(workers)
    finally:
        if workers:
            end_workers(workers)


def _finish(done: Any, stopped: bool, args: argparse.Namespace, printer: _Printer,
            mode: str) -> int:
    from ..core.search import fmt_value

    if args.json:
        print(json.dumps(done.result()), flush=True)
    else:
        if done.best is not None:
            values = "  ".join(f"{_short(k)}={fmt_value(v)}" for k, v in done.best.items())
            print(f"best: {done.objective} {done.best_score:.4g}: {values}")
        print(f"{done.status}: {done.message}" + (f"; trials kept in {done.directory}"
                                                  if mode != "worker" else ""), flush=True)
    if stopped or done.status == "stopped":
        return EXIT_INTERRUPTED
    if done.status == "failed" or (done.best is None and mode != "worker"):
        print(f"layerlab: the search failed: {done.message}", file=sys.stderr)
        return EXIT_PROBLEM
    return EXIT_OK
