"""Process-level workarounds that keep training fast and the process from growing.

TensorFlow and NumPy's BLAS share the process with the window: BLAS threads are kept to
one, the training thread can be held on a core (and the window's thread off it), and the
gradient functions TensorFlow registers for each traced model are dropped with the model.
None of this changes what is trained; it is kept apart from the session for that reason.
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)


def quiet_blas() -> bool:
    """Keeps NumPy's BLAS to one thread in this process (True when it could).

    OpenBLAS hands a matrix product above about 65,000 multiply-adds to a second thread,
    which then spins for a while waiting for more work. The boundary pictures' forward
    pass (10,000 x 2 by 2 x 8, twelve times a second) kept that thread spinning on the
    second core, 3.5 % of it, against 0.8 % for the same work on one thread, and those
    cycles are taken from TensorFlow's own threads: training ran about 3 % slower for it.
    Nothing NumPy does here is big enough to gain from a second thread. TensorFlow's
    threads are its own and are not limited. Called as each session starts: a BLAS
    loaded since (SciPy's, say) is limited too.
    """
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - a speed setting; training works without it
        log.debug("could not limit BLAS threads", exc_info=True)
        return False
    return True


def current_core() -> int | None:
    """The CPU core the calling thread runs on now (Linux), else None."""
    try:
        import ctypes

        core = int(ctypes.CDLL(None).sched_getcpu())
    except (OSError, AttributeError, TypeError):
        return None
    return core if core >= 0 else None


def hold_on_core() -> tuple[int, set[int]] | None:
    """Keeps the calling thread on the CPU core it is on.

    Returns (the core, the cores it was allowed before), for `allow_cores`, or None where
    the system cannot (not Linux) or there is a single core. Threads the caller starts
    afterwards inherit the one core: call it after those that should not.
    """
    if not hasattr(os, "sched_setaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        if len(allowed) < 2:
            return None
        core = current_core()
        if core not in allowed:
            core = min(allowed)
        os.sched_setaffinity(0, {core})
    except OSError:
        return None
    return core, allowed


def allow_cores(cores: set[int]) -> None:
    """Lets the calling thread run on `cores` again (after `hold_on_core`)."""
    try:
        os.sched_setaffinity(0, cores)
    except (OSError, AttributeError):
        log.debug("could not set the thread's cores", exc_info=True)


#: Models up to this many parameters train paced by the Python thread (see `pin_core`).
PIN_MAX_PARAMS = 20_000


def _count_params(model: Any) -> int:
    try:
        return int(model.count_params())
    except Exception:  # noqa: BLE001 - not built: treated as big
        return PIN_MAX_PARAMS + 1


def keep_off_core(core: int) -> set[int] | None:
    """Keeps the calling thread off one CPU core (the training thread's, see `pin_core`).

    Returns the cores it was allowed before, for `allow_cores`; None where the system
    cannot or no other core is left.
    """
    if not hasattr(os, "sched_getaffinity"):
        return None
    try:
        allowed = os.sched_getaffinity(0)
        others = allowed - {core}
        if not others:
            return None
        os.sched_setaffinity(0, others)
    except OSError:
        return None
    return allowed


def _gradient_keys(keras: Any) -> set[str] | None:
    """TensorFlow only: the names in its gradient registry now (None on other backends)."""
    if keras is None or keras.backend.backend() != "tensorflow":
        return None
    try:
        from tensorflow.python.framework import ops

        return set(ops._gradient_registry._registry)
    except Exception:  # a TensorFlow without this internal: nothing to tidy
        return None


def _forget_custom_gradients(before: set[str] | None) -> None:
    """Drops the gradient functions TensorFlow registered while a discarded model was traced.

    Keras's TensorFlow optimizer sums gradients through `tf.distribute`, which wraps the sum
    in `tf.custom_gradient`; in a traced train step that registers a "CustomGradient-N"
    function in TensorFlow's global gradient registry, whose closure holds the step's whole
    graph. Nothing ever removes it, so every model built in one process leaks its training
    graphs (about 6 MB for a small network: 100 models leaked 570 MB). Those functions
    are only used while that graph is being traced, so once the model is gone they can go.
    """
    if before is None:
        return
    try:
        from tensorflow.python.framework import ops

        registry = ops._gradient_registry._registry
        for key in [k for k in registry if k.startswith("CustomGradient-") and k not in before]:
            registry.pop(key, None)
    except Exception:
        log.debug("could not tidy TensorFlow's gradient registry", exc_info=True)
