"""The learning-rate sweep on a real Keras model, through `TrainingSession.lr_find` (the
engine's worker thread): its suggestion trains the circle lesson and a rate 100 times
larger does not; it leaves the session's model, optimizer and history as they were; it
streams its curve, stops on request, and says in words why it cannot run.

The circle lesson as shipped (Adam at 0.03, 60 epochs) reaches 0.96 validation accuracy.
By hand, on this machine: the sweep (260 batches) suggested 0.022 (valley); 60 epochs at
0.022 gave 0.97 validation accuracy, at 2.2 it stayed at 0.54, the share of the larger
class. The bounds below leave room to those numbers.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from gui_app.core.lessons import load_example
from gui_app.core.lr_find import LRFindEvent
from gui_app.core.spec import Project
from gui_app.resources import examples_dir

pytest.importorskip("keras")

from gui_app.core.training import Failed, Finished, SessionError, TrainingSession  # noqa: E402

CIRCLE = examples_dir() / "02a_circle.layerlab.json"


def circle() -> Project:
    return load_example(CIRCLE)[0]


def with_rate(project: Project, rate: float) -> Project:
    optimizer = project.compile.optimizer.with_args(learning_rate=rate)
    return project.replace(compile=replace(project.compile, optimizer=optimizer))


def session_for(project: Project, **kwargs: Any) -> TrainingSession:
    kwargs.setdefault("progress_interval", 0.05)
    session = TrainingSession(project, base_dir=examples_dir(), device="cpu",
                              boundary_resolution=4, **kwargs)
    session.diagnostics = False
    return session


def train(project: Project) -> dict[str, list[float]]:
    """Trains `project` for its own epochs (the compiled loop: a second or two)."""
    session = session_for(project, progress_interval=3600)
    ended: list[Any] = []
    session.subscribe(lambda e: ended.append(e) if isinstance(e, (Finished, Failed)) else None)
    try:
        session.start()
        assert session.wait(120), "the run did not end"
        assert isinstance(ended[0], Finished), ended[0]
        return session.history
    finally:
        session.close()


@pytest.fixture
def sweeping():
    made: list[TrainingSession] = []

    def make(project: Project, **kwargs: Any) -> tuple[TrainingSession, list[Any]]:
        session = session_for(project, **kwargs)
        made.append(session)
        events: list[Any] = []
        session.subscribe(events.append)
        return session, events

    yield make
    for session in made:
        session.close()


def test_the_suggestion_trains_the_circle_and_100_times_it_does_not(sweeping):
    lesson = circle()
    session, events = sweeping(lesson)
    result = session.lr_find()
    assert isinstance(result, LRFindEvent) and result.done
    assert result.suggested_lr is not None, result.message
    assert result.rule == "valley", result.message
    assert 1e-3 <= result.suggested_lr <= 0.3, result.message
    assert result.steps == 260 and result.start == "fresh"
    # the curve streamed while the sweep ran, and its last event is the answer
    curves = [e for e in events if isinstance(e, LRFindEvent)]
    assert len(curves) >= 2 and not curves[0].done and curves[-1] is result
    assert len(curves[0].lrs) < len(result.lrs)

    good = train(with_rate(lesson, result.suggested_lr))
    assert len(good["val_accuracy"]) == lesson.fit.epochs == 60
    assert good["val_accuracy"][-1] >= 0.9, good["val_accuracy"][-5:]
    too_big = train(with_rate(lesson, 100 * result.suggested_lr))
    assert max(too_big["val_accuracy"]) < 0.8, too_big["val_accuracy"][-5:]


def weights_and_optimizer(session: TrainingSession) -> list[np.ndarray]:
    """The session's model's weights and optimizer state (read on its worker thread)."""
    def read() -> list[np.ndarray]:
        model = session._model
        return [np.array(w) for w in model.get_weights()] + \
            [np.array(v.numpy()) for v in model.optimizer.variables]
    return session._call(read, 30)


def test_the_sessions_model_optimizer_and_history_stay_as_they_were(sweeping):
    session, _ = sweeping(circle().replace(fit={**circle().fit, "epochs": 3}))
    session.start()
    assert session.wait(60)
    before = weights_and_optimizer(session)
    history = session.history
    for trained in (False, True):
        result = session.lr_find(trained=trained, steps=60)
        assert result.start == ("trained" if trained else "fresh")
        assert len(result.lrs) > 5
    after = weights_and_optimizer(session)
    assert len(before) == len(after)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert session.history == history and session.epoch == 3
    assert not session.running
    session.start(1)  # Continue goes on from the same weights
    assert session.wait(60) and session.epoch == 4


def test_from_the_trained_weights_the_curve_starts_lower(sweeping):
    session, _ = sweeping(circle().replace(fit={**circle().fit, "epochs": 30}))
    session.start()
    assert session.wait(60)
    fresh = session.lr_find(steps=60)
    trained = session.lr_find(trained=True, steps=60)
    assert trained.losses[0] < 0.5 * fresh.losses[0]  # 0.69 fresh, about 0.1 trained


def test_stop_ends_the_sweep_after_a_batch(sweeping):
    session, _ = sweeping(circle())
    asked = threading.Event()

    def stop_at_first_curve(event: Any) -> None:
        if isinstance(event, LRFindEvent) and not event.done and not asked.is_set():
            asked.set()
            session.stop()

    session.subscribe(stop_at_first_curve)
    result = session.lr_find(steps=300)
    assert asked.is_set() and result.reason == "stopped"
    assert 0 < len(result.lrs) < 300
    assert not session.running
    session.start(1)  # the session trains afterwards
    assert session.wait(60) and session.epoch == 1


def test_without_trained_weights_the_trained_start_is_refused_in_words(sweeping):
    session, events = sweeping(circle())
    with pytest.raises(SessionError, match="no trained weights .* train the model first"):
        session.lr_find(trained=True)
    assert not session.running
    last = events[-1]
    assert isinstance(last, LRFindEvent) and last.done and last.reason == "failed"
    assert "no trained weights" in last.message


def test_a_sweep_waits_for_no_run(sweeping):
    session, _ = sweeping(circle())
    session.start()
    try:
        with pytest.raises(SessionError, match="a run is already going"):
            session.lr_find()
    finally:
        session.stop()
        assert session.wait(60)


def test_a_bad_step_count_is_refused(sweeping):
    session, _ = sweeping(circle())
    with pytest.raises(ValueError, match="steps: expected an integer >= 2"):
        session.lr_find(steps=1)


def test_fresh_means_the_weights_train_starts_from(sweeping):
    """The copy a fresh sweep trains starts from the weights Train builds (same seed)."""
    from gui_app.core.project import checked_fit
    from gui_app.core.training import lr_range

    session, _ = sweeping(circle())

    def both() -> bool:
        copy, _ = lr_range._copy_model(session, session._keras, session._project,
                                       checked_fit(session._project.fit), False)
        return all(np.array_equal(a, b) for a, b in
                   zip(copy.get_weights(), session._ensure_model().get_weights(), strict=True))

    assert session._call(both, 60)
