"""What the engine tests share: a live engine process per test module."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def engine():
    """A started engine, ready (Keras imported), closed after the module's tests."""
    from gui_app.engine.client import Engine

    made = Engine().start()
    assert made.wait_ready(120), made.death
    yield made
    made.close()
