"""The engine's side of the X-ray: every layer's output for one input, on the session's
worker thread (the one thread that owns the Keras model), as `unit_pictures` does.

The sub-model with an output per layer (`core.xray.XRayProbe`) is built once per model
and kept until the session's model changes (a new project, new weights from a file), so a
click on the boundary picture costs one forward pass of one row.

Runs in the engine process only; Keras is imported when the first X-ray is made.
"""

from __future__ import annotations

from typing import Any

from ..core.xray import LayerOutputs, XRayProbe
from .units import on_worker


class SessionXRay:
    """The X-ray of one session (made on its worker thread only, so unlocked).

    Args:
        session: the `TrainingSession`.
        keras: the `keras` module (imported here when None).
    """

    def __init__(self, session: Any, keras: Any = None) -> None:
        self.session = session
        self._keras = keras
        self._probe: XRayProbe | None = None

    def outputs(self, x: Any, timeout: float | None = 30) -> LayerOutputs:
        """Every layer's output for the one input `x` (already standardised, as `predict`
        takes it), with the current weights; outputs with a `note` and no layers when the
        model has none to show.

        Raises:
            ValueError: when `x` is not one input of the model's shape.
        """
        return on_worker(self.session, lambda model: self._make(model, x), timeout)

    def _make(self, model: Any, x: Any) -> LayerOutputs:
        probe = self._probe
        if probe is None or probe.model is not model:
            if self._keras is None:
                import keras

                self._keras = keras
            try:
                probe = XRayProbe(model, self._keras)
            except ValueError as exc:
                self._probe = None
                return LayerOutputs(note=str(exc))
            self._probe = probe
        return probe.run(x)
