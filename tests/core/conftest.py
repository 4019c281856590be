"""Fixtures shared by the core training tests (test_training, test_training_fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def make_session(tmp_path: Path):
    """Sessions with a Recorder listening to their events, closed after the test."""
    from gui_app.core.training import TrainingSession

    from .test_training import Recorder

    sessions: list[Any] = []

    def make(proj: Any, **kwargs: Any) -> tuple[Any, Recorder]:
        kwargs.setdefault("base_dir", tmp_path)
        session = TrainingSession(proj, **kwargs)
        sessions.append(session)
        recorder = Recorder()
        session.subscribe(recorder)
        return session, recorder

    yield make
    for session in sessions:
        session.close()
