"""A search on several processes or machines: Keras Tuner's own distributed mode.

Keras Tuner runs one *chief* that holds the oracle (which values to try next, every trial's
score) and any number of *workers* that ask it for a trial, train it and report the score,
over gRPC. Each process learns its role from three environment variables:

    KERASTUNER_TUNER_ID     "chief" for the chief; a name of its own for each worker
    KERASTUNER_ORACLE_IP    the chief's address (the address it listens on, for the chief)
    KERASTUNER_ORACLE_PORT  the chief's port

`layerlab tune` reads them as Keras Tuner does, so the same project searches on a cluster
with nothing but LayerLab installed on each machine (README: "Searching on many
machines"). `layerlab tune --workers N` is the same on one computer: this process is the
chief, listening on 127.0.0.1 only (a free port), and N worker processes run
`layerlab tune` with the variables set.

Why not Keras Tuner's own chief loop (`oracle_chief.start_server`): it checks for the end
every 20 seconds, and a local search would wait for that; here the chief serves the same
`OracleServicer` and ends as soon as every worker has been told to stop and no trial is
running (or, locally, every worker process has ended). The servicer is Keras Tuner 1.4's;
pyproject.toml bounds the version for it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ..core.search_events import SearchDone, TrialEvent
from ..core.spec import Project
from .tuning import (
    Listener,
    done_event,
    ended_trials,
    make_hypermodel,
    make_tuner,
    number_of,
    read_record,
    trial_event,
    trial_values,
)

#: Seconds between two looks at whether the search is over.
POLL_S = 0.1
#: Seconds a worker gets to end by itself when the search is stopped, before it is ended.
WORKER_GRACE_S = 10.0


def role() -> str:
    """"chief", "worker" or "local", from Keras Tuner's environment variables."""
    if not os.environ.get("KERASTUNER_ORACLE_IP"):
        return "local"
    return "chief" if "chief" in os.environ.get("KERASTUNER_TUNER_ID", "") else "worker"


def cluster_problem() -> str | None:
    """What is missing from the environment of a chief or a worker, in words, or None."""
    if role() == "local":
        return None
    missing = [name for name in ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_PORT")
               if not os.environ.get(name)]
    if missing:
        return (f"KERASTUNER_ORACLE_IP is set, but {' and '.join(missing)} not; set all "
                "three (README: 'Searching on many machines')")
    port = os.environ["KERASTUNER_ORACLE_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        return f"KERASTUNER_ORACLE_PORT: expected a port from 1 to 65535, got {port!r}"
    return None


class Chief:
    """The chief: the project's oracle, served over gRPC to the workers.

    Args:
        project: the project, with its `search` section.
        directory: the search's folder (prepared by the caller).
        host: the address to listen on ("127.0.0.1" for local workers).
        port: the port (0: a free one; `port` then says which).
        max_trials: trials in all (None: the project's).
        emit: called with a TrialEvent as each trial begins and ends, on the server's thread.
    """

    def __init__(self, project: Project, directory: Path, host: str, port: int,
                 max_trials: int | None, emit: Listener) -> None:
        import grpc
        from keras_tuner.src import protos

        self.project = project
        self.search = project.search
        assert self.search is not None
        self.emit = emit
        self.stop_flag = threading.Event()
        hypermodel = make_hypermodel(project, None, self.stop_flag)
        self.tuner = make_tuner(project, hypermodel, directory, emit, self.stop_flag, max_trials)
        self.tuner.save()  # so that a continued search reloads this oracle's state
        self.oracle = self.tuner.oracle
        self.oracle.verbose = 0  # its trial tables on standard output: the printer says it
        self.project_dir = Path(self.tuner.project_dir)
        self.directory = Path(directory)
        self.servicer = _servicer_class()(self)
        self.server = grpc.server(_executor())
        protos.get_service_grpc().add_OracleServicer_to_server(self.servicer, self.server)
        self.host = host
        self.port = self.server.add_insecure_port(f"{host}:{int(port)}")
        if not self.port:
            raise OSError(f"cannot listen on {host}:{port} (in use, or not this machine's "
                          "address)")
        self.earlier = ended_trials(self.oracle, self.search, self.project_dir, True)
        self.trials: dict[int, TrialEvent] = {t.number: t for t in self.earlier}

    def serve(self, workers: list[subprocess.Popen] | None = None) -> SearchDone:
        """Serves until the search is over; returns its end.

        Over means: every worker has been told there are no more trials and none is
        running; or, with local `workers`, every one of them has ended; or `stop_flag`.
        """
        started = time.perf_counter()
        for event in self.earlier:
            self.emit(event)
        self.server.start()
        status, message = "completed", ""
        try:
            while True:
                if self.stop_flag.wait(POLL_S):
                    status, message = "stopped", "stopped; the trials are kept: run " \
                        "the search again to continue"
                    break
                if self.servicer.stop_triggered and _all_told(self.oracle):
                    break
                if workers is not None and all(w.poll() is not None for w in workers):
                    failed = [w for w in workers if w.returncode not in (0, None)]
                    if failed and not self.servicer.stop_triggered:
                        status = "failed"
                        message = (f"{len(failed)} worker(s) ended with an error before the "
                                   f"search was over; see the worker-N.log files in "
                                   f"{self.directory}")
                    break
        finally:
            self.server.stop(grace=1.0)
            self.tuner.save()
        ran = [t for t in self.trials.values() if not t.earlier]
        if not message:
            message = f"{len(ran)} trial(s) ran on {len(set(t.worker for t in ran))} worker(s)"
        trials = {t.number: t for t in ended_trials(self.oracle, self.search,
                                                    self.project_dir, True)}
        trials.update({n: t for n, t in self.trials.items() if not t.earlier})
        return done_event(self.search, list(trials.values()), status, message,
                          self.directory, time.perf_counter() - started)

    # -- what the servicer reports --------------------------------------------------------
    def began(self, tuner_id: str, trial: Any) -> None:
        event = TrialEvent(number_of(trial), trial_values(self.search,
                                                          trial.hyperparameters.values),
                           None, "running", 0.0, worker=tuner_id)
        self._report(event)

    def ended(self, trial_id: str) -> None:
        trial = self.oracle.get_trial(trial_id)
        record = read_record(self.project_dir / f"trial_{trial_id}")
        seconds = float(record.get("seconds") or 0.0)
        self._report(trial_event(self.search, trial, seconds, record,
                                 str(record.get("worker", ""))))

    def _report(self, event: TrialEvent) -> None:
        self.trials[event.number] = event
        try:
            self.emit(event)
        except Exception:  # noqa: BLE001 - a broken printer must not fail a worker's call
            pass


def _executor() -> Any:
    from concurrent import futures

    # One thread, as Keras Tuner's own chief: the oracle's calls are taken in turn.
    return futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="layerlab-chief")


def _all_told(oracle: Any) -> bool:
    """Every worker that asked has been told to stop, and no trial is running."""
    return not oracle.ongoing_trials and not oracle.tuner_ids


def _servicer_class() -> type:
    from keras_tuner.src.distribute.oracle_chief import OracleServicer

    class Servicer(OracleServicer):
        """Keras Tuner's servicer, telling the chief as each trial begins and ends."""

        def __init__(self, chief: Chief) -> None:
            super().__init__(chief.oracle)
            self.chief = chief
            self.ended_count: Counter[str] = Counter()

        def CreateTrial(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC's name
            response = super().CreateTrial(request, context)
            trial = self.oracle.ongoing_trials.get(request.tuner_id)
            if trial is not None:
                self.chief.began(request.tuner_id, trial)
            return response

        def EndTrial(self, request: Any, context: Any) -> Any:  # noqa: N802 - gRPC's name
            response = super().EndTrial(request, context)
            trial_id = request.trial.trial_id
            self.ended_count[trial_id] += 1
            self.chief.ended(trial_id)
            return response

    return Servicer


# -- local workers -------------------------------------------------------------------------------

def worker_command(project_path: Path) -> list[str]:
    """How a worker runs: `layerlab tune PROJECT --json` (its trials, one JSON line each, go
    to its log), through this Python (or the bundle's own executable)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "tune", str(project_path), "--json"]
    return [sys.executable, "-m", "gui_app", "tune", str(project_path), "--json"]


def start_workers(project_path: Path, count: int, port: int, directory: Path
                  ) -> list[subprocess.Popen]:
    """`count` worker processes against the chief on 127.0.0.1:`port`; each writes what it
    prints to `worker-N.log` in the search's folder."""
    workers = []
    for i in range(1, count + 1):
        env = {**os.environ, "KERASTUNER_TUNER_ID": f"tuner{i}",
               "KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": str(port),
               "TF_CPP_MIN_LOG_LEVEL": os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2")}
        log = open(directory / f"worker-{i}.log", "w", encoding="utf-8")  # noqa: SIM115
        try:
            workers.append(subprocess.Popen(worker_command(project_path), env=env,
                                            stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT))
        finally:
            log.close()  # the child has its own copy
    return workers


def end_workers(workers: list[subprocess.Popen], grace: float = WORKER_GRACE_S) -> None:
    """Asks each worker to stop (SIGTERM: after its current batch), then ends it."""
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
    deadline = time.monotonic() + grace
    for worker in workers:
        try:
            worker.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
