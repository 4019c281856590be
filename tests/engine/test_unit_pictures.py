"""What each neuron sees, made by the engine: unit pictures on the session's worker, their
frames, and the engine's grids following the range a zoomed-out view asks for.

No Qt here. The in-process session checks the pictures against Keras; one engine process
checks that the commands and events travel.
"""

from __future__ import annotations

import numpy as np
import pytest

from gui_app.core.boundary import make_probe
from gui_app.core.boundary.units import UnitPictures, UnitSnapshot, unit_grid
from gui_app.core.spec import default_project
from gui_app.core.training import BoundarySnapshot, Finished, TrainingSession
from gui_app.engine import protocol
from gui_app.engine.client import Engine
from gui_app.engine.units import SessionUnits, as_extent, on_worker

PROJECT = default_project().replace(
    data={"source": "circle", "samples": 200, "noise": 0.1, "seed": 0, "validation_split": 0.2},
    fit={"epochs": 2, "batch_size": 32, "seed": 1})


def test_unit_pictures_travel_as_raw_buffers() -> None:
    values = (np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3),
              np.ones((5, 3, 3), np.float32))
    pictures = UnitPictures(np.linspace(-1, 1, 3, dtype=np.float32),
                            np.linspace(0, 2, 3, dtype=np.float32), (0, 1),
                            ("dense (relu)", "dense_1 (relu)"), values)
    for message in ({"kind": "reply", "id": 1, "ok": True, "value": pictures},
                    {"kind": "event", "session": 1, "event": UnitSnapshot(1, 2, 3, pictures)}):
        back = protocol.decode(protocol.encode(message))
        got = back["value"] if "value" in back else back["event"].pictures
        assert isinstance(got, UnitPictures) and got.names == pictures.names
        assert got.layers == (0, 1) and got.units == 7
        for a, b in zip(got.values, values):
            assert a.dtype == np.float32
            np.testing.assert_array_equal(a, b)
    empty = UnitPictures(np.empty(0, np.float32), np.empty(0, np.float32), note="why")
    assert protocol.decode(protocol.encode({"kind": "x", "v": empty}))["v"].note == "why"
    frame = protocol.encode({"kind": "x", "v": UnitPictures(
        np.zeros(32, np.float32), np.zeros(32, np.float32), (0,), ("d",),
        (np.zeros((64, 32, 32), np.float32),))})
    assert len(frame) < 64 * 32 * 32 * 4 + 2000  # 256 KB of floats, not JSON numbers


def test_extents_from_messages_are_checked() -> None:
    assert as_extent([[0, 1], [2, 3]]) == ((0.0, 1.0), (2.0, 3.0))
    assert as_extent(None) is None
    for bad in ([[1, 0], [0, 1]], [[0, float("nan")], [0, 1]], [0, 1], "ab"):
        with pytest.raises(ValueError, match="extent"):
            as_extent(bad)


def test_the_sessions_unit_pictures_match_its_hidden_layers() -> None:
    import keras

    session = TrainingSession(PROJECT, device="cpu")
    probe: list = [None]
    try:
        units = SessionUnits(session, lambda: probe[0], lambda _event: None)
        pictures = units.pictures(resolution=12)
        assert pictures.names == ("dense (relu)", "dense_1 (relu)")
        assert [v.shape for v in pictures.values] == [(8, 12, 12), (8, 12, 12)]
        # by default, the data's range (as the boundary's grid)
        x = session.dataset.x_train
        assert pictures.xs[0] < x[:, 0].min() and pictures.ys[-1] > x[:, 1].max()
        extent = ((-4.0, 4.0), (-3.0, 5.0))
        pictures = units.pictures(extent, 10)
        _, _, points = unit_grid(extent, 10)

        def direct(model):
            return [keras.Model(model.inputs[0], model.layers[i].output).predict(
                points, verbose=0) for i in (0, 1)]

        for values, expected in zip(pictures.values, on_worker(session, direct)):
            np.testing.assert_allclose(values.reshape(len(values), -1).T, expected,
                                       atol=1e-5)
        # a probe set by the view (a zoomed-out picture): the units' grid follows it
        probe[0] = make_probe(x, 1, "binary", resolution=5, extent=((-9.0, 9.0),
                                                                    (-7.0, 7.0)))
        followed = units.pictures()
        assert (followed.xs[0], followed.xs[-1], followed.ys[0]) == (-9.0, 9.0, -7.0)
    finally:
        session.close()


def test_a_model_without_unit_pictures_says_why() -> None:
    project = PROJECT.replace(model=PROJECT.model.__class__(
        (2,), (PROJECT.model.layers[-1],)))
    session = TrainingSession(project, device="cpu")
    try:
        pictures = SessionUnits(session, lambda: None, lambda _e: None).pictures()
        assert pictures.layers == () and "no hidden Dense" in pictures.note
    finally:
        session.close()


# -- through the engine process ------------------------------------------------------------------

def test_the_engine_sends_unit_pictures_and_follows_the_asked_range() -> None:
    engine = Engine().start()
    try:
        assert engine.wait_ready(120), engine.death
        session = engine.session(PROJECT)
        pictures = session.unit_pictures(extent=((-3, 3), (-2, 2)), resolution=16)
        assert isinstance(pictures, UnitPictures) and pictures.units == 16
        assert pictures.values[0].shape == (8, 16, 16) and pictures.xs[0] == -3.0
        # the view asks for a grid over a zoomed-out range; the run's pictures follow it
        x = session.dataset.x_train
        session.set_probe(make_probe(x, 1, "binary", resolution=20,
                                     extent=((-10.0, 10.0), (-8.0, 8.0))))
        session.watch_units(True, interval=0.05)
        events: list = []
        session.subscribe(events.append)
        session.start(2)
        assert session.wait(120)
        grids = [e.grid for e in events if isinstance(e, BoundarySnapshot)]
        assert grids and all(g.xs[0] == -10.0 and g.ys[-1] == 8.0 for g in grids)
        assert all(g.values.shape == (20, 20, 1) for g in grids)
        snaps = [e for e in events if isinstance(e, UnitSnapshot)]
        assert snaps and snaps[0].pictures.xs[0] == -10.0  # the units' grid too
        assert events.index(snaps[-1]) < events.index(
            next(e for e in events if isinstance(e, Finished)))
        # unwatched: a run sends none
        session.watch_units(False)
        events.clear()
        session.start(1)
        assert session.wait(120)
        assert not any(isinstance(e, UnitSnapshot) for e in events)
        session.close()
    finally:
        engine.close()
