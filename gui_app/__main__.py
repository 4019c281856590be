"""The `layerlab` entry point: a headless command, or the window."""

from __future__ import annotations

import sys
from collections.abc import Sequence

#: How much lower the engine process's CPU priority is than the window's (`nice`). When
#: both want the CPU (Keras loading while the window starts, a run while the window
#: redraws), the window goes first; an idle window leaves all of it to training.
ENGINE_NICE = 10


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--engine":
        _yield_to_window()
    from .cli import COMMANDS, run_cli  # no TensorFlow, no Qt: cheap, and imports nothing else

    if args and (args[0] in COMMANDS or args[0] in ("-h", "--help", "--version")):
        try:
            from .core.devices import request_memory_growth

            request_memory_growth()  # before TensorFlow is imported: never take a whole GPU
        except Exception:  # only a hint to TensorFlow: the command works without it
            pass
        return run_cli(args)  # every way a command ends is an exit code, never a traceback
    from .core.devices import request_memory_growth

    request_memory_growth()  # before TensorFlow is imported: never take a whole GPU
    if args and args[0] == "--engine":  # the window's engine process (engine/server.py)
        from .engine.server import run_engine

        return run_engine()
    if args and args[0] == "--self-test":  # before Qt is imported: it picks the platform
        from .selftest import run_self_test

        return run_self_test(args[1:])
    from .ui.app import run_app

    return run_app(args)



def _yield_to_window() -> None:
    """Lowers this engine process's priority by ENGINE_NICE (LAYERLAB_ENGINE_NICE
    overrides it; 0 keeps it), first thing, so that every thread it starts inherits it."""
    import os

    try:
        step = int(os.environ.get("LAYERLAB_ENGINE_NICE", ENGINE_NICE))
    except ValueError:
        step = ENGINE_NICE
    if step > 0 and hasattr(os, "nice"):
        try:
            os.nice(step)
        except OSError:
            pass  # not allowed here: the engine runs as it is


if __name__ == "__main__":
    sys.exit(main())
