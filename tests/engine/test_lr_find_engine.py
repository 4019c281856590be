"""The learning-rate sweep in the engine process, driven from this one as the window drives
it (`RemoteSession.lr_find`): the answer and the streamed curve cross the protocol, Stop
reaches the sweep, a run is refused while it goes, and the session trains afterwards."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from gui_app.core.lr_find import LRFindEvent
from gui_app.core.spec import default_project
from gui_app.core.training import SessionError

PROJECT = default_project().replace(
    data={"source": "circle", "samples": 200, "noise": 0.1, "seed": 0, "validation_split": 0.2},
    fit={"epochs": 2, "batch_size": 32, "seed": 0})


def test_the_sweep_answers_with_its_curve_and_streams_it(engine):
    session = engine.session(PROJECT, progress_interval=0.02)
    events: list[Any] = []
    session.subscribe(events.append)
    try:
        result = session.lr_find(steps=150)
        assert isinstance(result, LRFindEvent) and result.done
        assert result.suggested_lr is not None and result.rule, result.message
        assert len(result.lrs) == len(result.losses) > 5
        # the last event came too (its listeners may hear it just after the answer)
        deadline = time.monotonic() + 10
        while not (events and getattr(events[-1], "done", False)) \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        curves = [e for e in events if isinstance(e, LRFindEvent)]
        assert len(curves) >= 2 and not curves[0].done and curves[-1].done
        assert not session.running
        session.start()  # and the session trains afterwards
        assert session.wait(60) and session.epoch == 2
    finally:
        session.close()


def test_stop_reaches_the_sweep_and_a_run_waits_for_it(engine):
    session = engine.session(PROJECT, progress_interval=0.02)
    first = threading.Event()
    session.subscribe(lambda e: first.set() if isinstance(e, LRFindEvent) else None)
    answer: list[Any] = []
    sweep = threading.Thread(target=lambda: answer.append(session.lr_find(steps=300)))
    sweep.start()
    try:
        assert first.wait(60), "no curve came"
        with pytest.raises(SessionError, match="a run is already going"):
            session.lr_find()
        with pytest.raises(SessionError, match="a run is already going"):
            session.start()
        session.stop()
        sweep.join(60)
        assert answer and answer[0].reason in ("stopped", "diverged", "end")
        assert answer[0].reason == "stopped" or len(answer[0].lrs) > 250  # stopped, or done first
    finally:
        sweep.join(5)
        session.close()
