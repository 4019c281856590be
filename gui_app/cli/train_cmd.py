"""`layerlab train`: the training engine on the command line, for scripts, CI and remote
machines. It checks, trains, prints one line per epoch and writes DIR/history.json and
DIR/model.keras (renamed into place, never half a file); Ctrl+C and SIGTERM stop after the
current batch and still write what was trained.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .common import (
    ALLOW_OUTSIDE_HELP,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PROBLEM,
    EXIT_TERMINATED,
    OutputError,
    UsageError,
    _load_data,
    add_debug_flag,
    int_at_least,
    load_project_arg,
)

SUFFIX = ".layerlab.json"


_positive_int = int_at_least(1)


def add_commands(subparsers: Any) -> None:
    """Adds `train` to the `layerlab` argument parser."""
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
    p.add_argument("--diagnose", action="store_true",
                   help="watch the training for problems (vanishing gradients, dead ReLUs, "
                        "overfitting...) and print each finding as a line that starts with "
                        "its code; --events carries them too, with each layer's gradient "
                        "norms and histograms (layer_stats)")
    p.add_argument("--allow-outside", action="store_true", help=ALLOW_OUTSIDE_HELP)
    add_debug_flag(p, "print the full traceback when training fails")
    p.set_defaults(func=cmd_train)


def _default_out(project_path: Path) -> Path:
    name = project_path.name
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else project_path.stem
    return project_path.resolve().parent / f"{stem}_run"


def _fmt(value: float) -> str:
    return "nan" if math.isnan(value) else f"{value:.4g}"


class _Printer:
    """Prints one line per epoch and writes the event stream.

    It runs on the training thread, so it never raises: an event file that cannot be
    written (a full disk) is remembered in `events_error` and no longer written; a standard
    output that cannot be written is no longer written (the main thread reports it).
    """

    def __init__(self, quiet: bool, events: IO[str] | None, diagnose: bool = False) -> None:
        self.quiet = quiet
        self.diagnose = diagnose
        self.events = events
        self.events_error: OSError | None = None
        self.stdout_failed = False
        self.end: Any = None
        self.total = 0

    def __call__(self, event: Any) -> None:
        from ..core.diagnostics.events import FindingEvent
        from ..core.training import EpochEnd, Failed, Finished, Started, event_to_dict

        if isinstance(event, (Finished, Failed)):
            self.end = event
        if self.events is not None and self.events_error is None:
            try:
                self.events.write(json.dumps(event_to_dict(event), allow_nan=False) + "\n")
                self.events.flush()
            except OSError as exc:
                self.events_error = exc
        if isinstance(event, Started):
            self.total = event.epochs
            self._print(f"training on {event.device}: {event.samples} samples, batch "
                        f"{event.batch_size}, {event.steps_per_epoch} steps per epoch, epochs "
                        f"{event.initial_epoch + 1}-{event.epochs}")
        elif isinstance(event, FindingEvent) and self.diagnose:
            fixes = "; ".join(str(f.get("label", "")) for f in event.fixes)
            fixes = f" Try: {fixes}." if fixes and event.state != "resolved" else ""
            state = " (resolved)" if event.state == "resolved" else ""
            self._print(f"{event.code}{state}: epoch {event.epoch + 1}: {event.message}{fixes}")
        elif isinstance(event, EpochEnd):
            logs = "  ".join(f"{k} {_fmt(v)}" for k, v in event.logs.items())
            width = len(str(self.total))
            self._print(f"epoch {event.epoch + 1:>{width}}/{self.total}  {logs}  "
                        f"({event.elapsed:.1f} s)")

    def _print(self, line: str) -> None:
        if self.quiet or self.stdout_failed:
            return
        try:
            print(line, flush=True)
        except (OutputError, OSError):
            self.stdout_failed = True

    def close_events(self) -> None:
        """Closes the event file; a failure to flush the last events counts as an error."""
        if self.events is None:
            return
        try:
            self.events.close()
        except OSError as exc:
            self.events_error = self.events_error or exc


@contextlib.contextmanager
def _sigterm_stops() -> Iterator[dict[str, bool]]:
    """While training, SIGTERM acts like Ctrl+C: it raises `_Terminated` in the main thread,
    which the wait loop turns into "stop after this batch". Once the loop is over the caller
    sets `state["raise"] = False`, so a SIGTERM during the final writes is only noted and
    the writes finish. The previous handler comes back afterwards."""
    state = {"raise": True, "received": False}

    def handler(signum: int, frame: Any) -> None:
        state["received"] = True
        if state["raise"]:
            raise _Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except (ValueError, OSError, AttributeError):  # not the main thread (an embedding app)
        yield state
        return
    try:
        yield state
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


class _Terminated(KeyboardInterrupt):
    """SIGTERM during training, raised like Ctrl+C's KeyboardInterrupt."""


def _check_writable(out: Path) -> None:
    """Creates the --out folder and a file in it, so a read-only folder, a full quota or a
    path under a file is found before training, not after."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".layerlab-probe-"):
            pass
    except OSError as exc:
        raise UsageError(f"cannot write to {out}: {exc.strerror or exc}; choose another "
                         "--out folder") from None


def cmd_train(args: argparse.Namespace) -> int:
    from ..core.checks import ERROR, run_checks
    from ..core.training import Failed, TrainingSession

    project = load_project_arg(args.project, args.allow_outside)
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

    out = args.out if args.out is not None else _default_out(Path(args.project))
    _check_writable(out)
    try:
        events = open(args.events, "w", encoding="utf-8") if args.events else None  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot write the events to {args.events}: "
                         f"{exc.strerror or exc}") from None
    if not args.quiet:
        for f in findings:
            print(f"{f.severity}: {f.where}: {f.message}")
        print(dataset.description)
    printer = _Printer(args.quiet, events, args.diagnose)
    session = TrainingSession(project, base_dir=Path(args.project).resolve().parent,
                              dataset=dataset, device=args.device)
    session.diagnostics = bool(args.diagnose)  # off unless asked: the numbers stay fit's
    session.subscribe(printer)
    stopped_by = None
    failures: list[str] = []
    wrote: list[Path] = []
    try:
        with _sigterm_stops() as sigterm:
            session.start(args.epochs)
            while True:
                try:
                    if session.wait(0.25):
                        break
                except KeyboardInterrupt as exc:  # Ctrl+C, or SIGTERM through _sigterm_stops
                    # Stop cleanly and still write what was trained.
                    stopped_by = EXIT_TERMINATED if isinstance(exc, _Terminated) \
                        else EXIT_INTERRUPTED
                    print("layerlab: stopping after this batch...", file=sys.stderr)
                    session.stop()
            sigterm["raise"] = False  # from here on, a SIGTERM lets the writes finish
            end = printer.end
            if isinstance(end, Failed):
                print(f"layerlab: training failed: {end.message}", file=sys.stderr)
                if args.debug:
                    print(end.detail, file=sys.stderr)
                return EXIT_PROBLEM
            try:
                _write_json(out / "history.json", end.history)
                wrote.append(out / "history.json")
            except OSError as exc:  # a full disk: the model may still fit
                failures.append(f"trained, but the history could not be written to "
                                f"{out / 'history.json'}: {exc.strerror or exc}")
            if end.reason != "nan":
                try:
                    wrote.append(_save_model_atomic(session, out / "model.keras"))
                except Exception as exc:  # a full disk, a folder without write access
                    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror \
                        else f"{type(exc).__name__}: {exc}"
                    failures.append(f"trained, but the model could not be saved to "
                                    f"{out / 'model.keras'}: {reason}")
            if sigterm["received"] and stopped_by is None:
                stopped_by = EXIT_TERMINATED
    finally:
        session.close()
        printer.close_events()
    if printer.events_error is not None:
        exc = printer.events_error
        failures.append(f"could not write the events to {args.events}: {exc.strerror or exc}")
    for message in failures:
        print(f"layerlab: {message}", file=sys.stderr)
    print(f"{end.reason.replace('_', ' ')}: {end.message}", flush=True)
    if wrote:
        print("wrote " + ", ".join(str(p) for p in wrote))
    if stopped_by is not None:
        return stopped_by
    return EXIT_PROBLEM if failures or end.reason == "nan" else EXIT_OK


def _save_model_atomic(session: Any, target: Path) -> Path:
    """Saves the model beside `target` under a temporary `.keras` name (Keras checks the
    suffix), flushes it to disk and renames it over `target`; the temporary file goes on
    failure. A symbolic link is followed, as `write_atomic` does."""
    if target.is_symlink():
        target = Path(os.path.realpath(target))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.tmp-", suffix=".keras", dir=target.parent)
    os.close(fd)
    try:
        os.unlink(tmp)  # Keras creates the file itself (with the usual permissions)
        session.save_model(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return target


def _write_json(path: Path, doc: Any) -> None:
    from ..core.project import write_atomic

    def clean(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    write_atomic(path, (json.dumps(clean(doc), indent=2) + "\n").encode("utf-8"))
