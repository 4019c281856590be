"""The finding event: what the engine sends when a training problem appears or goes away.

Plain data, like the training events (`core.training.events`): the window, the engine's
JSON protocol and the command line read it without Keras. It is defined here, next to the
detector that makes it, and joins the training's event stream through the session (see the
package docstring for the lines that wire it in).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: The states a finding goes through: reported, then (maybe) no longer holding. A
#: resolved finding is kept and shown as such, so a person sees that a fix worked.
ACTIVE, RESOLVED = "active", "resolved"
STATES: tuple[str, ...] = (ACTIVE, RESOLVED)


@dataclass(frozen=True)
class FindingEvent:
    """A finding appeared, changed state or was resolved during a run.

    Attributes:
        code: one of `detect.CODES` ("vanishing_gradients").
        epoch: the epoch (from 0) in which this state was reached.
        layer: the project's layer index the evidence points at, or None.
        message: plain words with the evidence (numbers, the layer, the epoch).
        fixes: each fix as {"id", "label", "params"} (`fixes.FixRef.to_json`).
        state: "active" or "resolved".
        severity: "error" for a run that cannot recover (NaN), else "warning"; "info"
            for a problem the project shows on purpose (`Project.intended`).
        since: the epoch in which the finding was first reported.
        run: the session's run number, when the session knows it (0 outside a session).
    """

    code: str
    epoch: int
    layer: int | None
    message: str
    fixes: tuple[dict[str, Any], ...] = field(default_factory=tuple)
    state: str = ACTIVE
    severity: str = "warning"
    since: int = 0
    run: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape: {"type": "finding", "code", "epoch", "layer", "message",
        "fixes", "state", ...}; every value is a JSON type."""
        return {"type": "finding", "code": self.code, "epoch": self.epoch,
                "layer": self.layer, "message": self.message,
                "fixes": [dict(f) for f in self.fixes], "state": self.state,
                "severity": self.severity, "since": self.since, "run": self.run}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FindingEvent:
        """Reads `to_dict`'s shape back (the window's side of the engine protocol)."""
        return cls(str(data["code"]), int(data["epoch"]),
                   None if data.get("layer") is None else int(data["layer"]),
                   str(data["message"]), tuple(dict(f) for f in data.get("fixes") or ()),
                   str(data.get("state", ACTIVE)), str(data.get("severity", "warning")),
                   int(data.get("since", data["epoch"])), int(data.get("run", 0)))
