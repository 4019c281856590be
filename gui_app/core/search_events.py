"""What a hyperparameter search tells its listeners: one event per trial, and one at the end.

Plain data, like the training events (`core.training.events`), and part of the same
stream: the window, the engine's protocol and `layerlab tune --json` read them without
Keras or Keras Tuner. The engine's search (`gui_app.engine.tuning`) makes them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

#: A trial's states: running, then completed (it has a score), failed (an error, or a loss
#: that stopped being a number) or stopped (the person stopped the search during it; a
#: continued search runs it again).
TRIAL_STATUSES = ("running", "completed", "failed", "stopped")
#: How a search ended: every trial ran, the person stopped it, or it could not go on.
DONE_STATUSES = ("completed", "stopped", "failed")


def _number(value: Any) -> float | None:
    """A finite float, else None (JSON has no NaN)."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class TrialEvent:
    """A trial began or ended.

    Attributes:
        number: the trial's number, from 1, in the order the trials began.
        values: each searched setting's value, by its JSON path.
        score: the objective's best value in this trial (the mean over its trainings), or
            None while it runs or when it failed.
        status: one of `TRIAL_STATUSES`.
        seconds: how long the trial took (so far, while it runs).
        history: each logged quantity by epoch, of the trial's last training (empty while
            it runs, and for a trial that another machine ran).
        message: why a trial failed, in words ("" otherwise).
        worker: which tuner ran it ("tuner0" on one machine; "tuner1"... for workers).
        earlier: True for a trial of an earlier session of a continued search.
    """

    number: int
    values: dict[str, Any]
    score: float | None
    status: str
    seconds: float
    history: dict[str, list[float]] = field(default_factory=dict)
    message: str = ""
    worker: str = ""
    earlier: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: {"type": "trial", "number", "values", "score", "status",
        "seconds", "history", ...}; every value is a JSON type (NaN becomes None)."""
        return {"type": "trial", "number": self.number, "values": dict(self.values),
                "score": _number(self.score), "status": self.status,
                "seconds": round(float(self.seconds), 3),
                "history": {k: [_number(v) for v in vs] for k, vs in self.history.items()},
                "message": self.message, "worker": self.worker, "earlier": self.earlier}

    def summary(self) -> dict[str, Any]:
        """{"values", "score", "status"}: the trial as `layerlab tune --json` lists it."""
        return {"number": self.number, "values": dict(self.values),
                "score": _number(self.score), "status": self.status}


@dataclass(frozen=True)
class SearchDone:
    """The search ended (every trial ran, it was stopped, or it could not go on).

    Attributes:
        status: one of `DONE_STATUSES`.
        message: one sentence for people.
        objective: what picks the best trial ("val_loss").
        direction: "min" or "max": which way the objective is better.
        best: the best trial's values by JSON path, or None when no trial completed.
        best_score: the best trial's score, or None.
        trials: every trial so far (earlier sessions included), as `TrialEvent.summary`.
        directory: the folder that keeps the trials (a continued search reads it).
        seconds: how long this session of the search took.
    """

    status: str
    message: str
    objective: str
    direction: str
    best: dict[str, Any] | None
    best_score: float | None
    trials: tuple[dict[str, Any], ...] = ()
    directory: str = ""
    seconds: float = 0.0

    def result(self) -> dict[str, Any]:
        """`layerlab tune --json`'s last line: {"best", "best_score", "objective", "trials"}."""
        return {"best": dict(self.best) if self.best is not None else None,
                "best_score": _number(self.best_score), "objective": self.objective,
                "trials": [{"values": dict(t["values"]), "score": _number(t.get("score")),
                            "status": t["status"]} for t in self.trials]}

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: {"type": "search_done", "status", "message", "best", ...}."""
        return {"type": "search_done", "status": self.status, "message": self.message,
                "direction": self.direction, "directory": self.directory,
                "seconds": round(float(self.seconds), 3), **self.result()}


def best_trial(trials: list[TrialEvent] | tuple[TrialEvent, ...], direction: str
               ) -> TrialEvent | None:
    """The completed trial with the best score (the earliest of equals), or None."""
    done = [t for t in trials if t.status == "completed" and _number(t.score) is not None]
    if not done:
        return None
    sign = 1.0 if direction == "min" else -1.0
    return min(done, key=lambda t: (sign * float(t.score), t.number))  # type: ignore[arg-type]


def best_so_far(trials: list[TrialEvent] | tuple[TrialEvent, ...], direction: str
                ) -> list[tuple[int, float]]:
    """(trial number, best score up to it) for each completed trial, in trial order: the
    curve of the best-so-far plot."""
    points: list[tuple[int, float]] = []
    best: float | None = None
    for trial in sorted(trials, key=lambda t: t.number):
        score = _number(trial.score)
        if trial.status != "completed" or score is None:
            continue
        if best is None or (score < best if direction == "min" else score > best):
            best = score
        points.append((trial.number, best))
    return points
