"""The engine process: the protocol, a session driven from another process, and deaths.

No Qt here. Starting an engine imports Keras in a child process (about 5 s), so one engine
serves the tests that leave it alive, and the tests that kill one start their own.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gui_app.core.boundary import BoundaryGrid
from gui_app.core.spec import default_project
from gui_app.core.training import (
    BatchProgress,
    BoundarySnapshot,
    EpochEnd,
    Failed,
    Finished,
    SessionError,
    Started,
)
from gui_app.engine import protocol
from gui_app.engine.client import Engine, EngineDied, describe_exit

ROOT = Path(__file__).resolve().parents[2]

PROJECT = default_project().replace(
    data={"source": "circle", "samples": 200, "noise": 0.1, "seed": 0, "validation_split": 0.2},
    fit={"epochs": 2, "batch_size": 32})


# -- the protocol ----------------------------------------------------------------------------

def test_frames_carry_events_with_arrays_as_buffers():
    grid = BoundaryGrid(np.linspace(-1, 1, 5), np.linspace(-2, 2, 4),
                        np.arange(20, dtype=np.float32).reshape(4, 5, 1), "binary", (0, 1))
    events = [Started(1, 10, 0, 5, 100, 32, "CPU"),
              BatchProgress(1, 0, 3, 5, {"loss": 0.5}, 1000.0, 0.2),
              EpochEnd(1, 0, {"loss": float("nan"), "accuracy": float("inf")}, 0.5),
              BoundarySnapshot(1, 0, 3, grid),
              Finished(1, {"loss": [0.5, 0.4]}, "completed", "done", 2),
              Failed(1, "boom", "trace")]
    for event in events:
        frame = protocol.encode({"kind": "event", "session": 1, "event": event,
                                 "pair": (1, 2)})
        back = protocol.decode(frame)
        assert type(back["event"]) is type(event)
        assert back["pair"] == (1, 2)
    back = protocol.decode(protocol.encode({"kind": "event", "event": events[3]}))["event"]
    assert back.grid.values.dtype == np.float32
    np.testing.assert_array_equal(back.grid.values, grid.values)
    logs = protocol.decode(protocol.encode({"kind": "x", "e": events[2]}))["e"].logs
    assert np.isnan(logs["loss"]) and logs["accuracy"] == float("inf")
    # The picture travels as raw bytes, not as 20 numbers in JSON.
    frame = protocol.encode({"kind": "x", "a": np.zeros(10_000, dtype=np.float32)})
    assert 40_000 <= len(frame) < 40_400


def test_frames_name_only_known_types():
    with pytest.raises(protocol.ProtocolError, match="wrong magic"):
        protocol.decode(b"XXXX" + b"\0" * 20)
    frame = protocol.encode({"kind": "event", "event": Failed(1, "a", "b")})
    forged = frame.replace(b'"Failed"', b'"Popen" ')
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(forged)
    with pytest.raises(protocol.ProtocolError, match="cannot travel"):
        protocol.encode({"kind": "x", "f": open})
    with pytest.raises(protocol.ProtocolError):
        protocol.decode(frame[:12])


def test_another_version_is_refused_in_words():
    assert protocol.check_hello(protocol.hello(1, "3", "tensorflow"))["version"] == \
        protocol.VERSION
    with pytest.raises(protocol.VersionError, match="different LayerLab installs"):
        protocol.check_hello({**protocol.hello(1, "3", "tensorflow"), "version": 999})


def test_describe_exit():
    assert describe_exit(-9) == "killed by signal 9 (SIGKILL)"
    assert describe_exit(1) == "exited with code 1"


def test_an_engine_of_another_version_is_refused():
    script = (
        "import os\n"
        "from multiprocessing.connection import Client\n"
        "from gui_app.engine import protocol\n"
        "host, _, port = os.environ['LAYERLAB_ENGINE_ADDRESS'].rpartition(':')\n"
        "c = Client((host, int(port)), authkey=bytes.fromhex(os.environ['LAYERLAB_ENGINE_KEY']))\n"
        "c.send_bytes(protocol.encode({**protocol.hello(os.getpid(), '0', 'x'), 'version': 99}))\n"
        "import time; time.sleep(30)\n"
    )
    engine = Engine(command=[sys.executable, "-c", script]).start()
    try:
        assert not engine.wait_ready(20)
        deadline = time.monotonic() + 10
        while engine.alive and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "protocol version 99" in (engine.death or "")
        assert not engine.alive
    finally:
        engine.close()


# -- a live engine -----------------------------------------------------------------------------

def _run(session, epochs=None, timeout=60):
    events = []
    session.subscribe(events.append)
    session.start(epochs)
    assert session.running
    assert session.wait(timeout)
    session.unsubscribe(events.append)
    return events


def test_the_link_sends_short_frames_at_once(engine):
    """Nagle's algorithm is off on the window's end of the link (the engine turns it off
    on its own end the same way): a reply sent while events stream out is not held for
    an acknowledgement (40 ms on Linux)."""
    with socket.socket(fileno=os.dup(engine._connection.fileno())) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


def test_the_engine_runs_at_a_lower_priority_than_the_window(engine):
    """When both want the CPU the window goes first (gui_app.__main__.ENGINE_NICE)."""
    from gui_app.__main__ import ENGINE_NICE

    ours = os.getpriority(os.PRIO_PROCESS, 0)
    theirs = os.getpriority(os.PRIO_PROCESS, engine.pid)
    assert theirs == min(19, ours + ENGINE_NICE)


def test_the_engine_imports_keras_without_scikit_learn():
    """Keras imports scikit-learn only for its own wrappers (0.6-0.9 s of every engine
    start): the engine hides it for that import, and scikit-learn still imports after."""
    code = ("import sys\n"
            "from gui_app.engine.server import import_keras\n"
            "keras = import_keras()\n"
            "print('sklearn' in sys.modules, 'keras' in sys.modules)\n"
            "from sklearn import datasets\n"
            "print(callable(datasets.load_iris), keras.Sequential.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=240, cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["False", "True", "True", "Sequential"]


def test_no_delay_is_turned_on_for_tcp_and_left_alone_for_pipes():
    from multiprocessing.connection import Client, Listener, Pipe

    with Listener(("127.0.0.1", 0)) as listener:
        accepted: list = []
        waiter = threading.Thread(target=lambda: accepted.append(listener.accept()))
        waiter.start()
        client = Client(listener.address)
        waiter.join(10)
        for connection in (client, accepted[0]):
            with socket.socket(fileno=os.dup(connection.fileno())) as sock:
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
            protocol.no_delay(connection)
            with socket.socket(fileno=os.dup(connection.fileno())) as sock:
                assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            connection.close()
    one, two = Pipe()
    protocol.no_delay(one)  # not a socket: nothing happens, nothing raised
    one.send_bytes(b"x")
    assert two.recv_bytes() == b"x"


def test_a_session_trains_in_the_engine(engine):
    session = engine.session(PROJECT)
    events = _run(session)
    kinds = [type(e) for e in events]
    assert kinds[0] is Started and kinds[-1] is Finished
    assert kinds.count(EpochEnd) == 2
    assert any(isinstance(e, BoundarySnapshot) for e in events)
    assert not session.running and session.epoch == 2
    assert len(session.history["loss"]) == 2 and "val_loss" in session.history
    out = session.predict(np.zeros((3, 2)))
    assert out.shape == (3, 1) and np.all((out >= 0) & (out <= 1))
    assert set(session.evaluate("val")) >= {"loss", "accuracy"}
    assert session.device == "CPU"
    # Continue goes on from the same weights and history.
    events = _run(session, epochs=1)
    assert events[0].initial_epoch == 2 and session.epoch == 3
    session.reset_weights()
    assert session.epoch == 0 and session.history == {}
    with pytest.raises(ValueError, match="split"):
        session.evaluate("nope")
    session.close()
    with pytest.raises(SessionError, match="closed"):
        session.predict(np.zeros((1, 2)))


def test_stop_reaches_a_run_within_a_batch(engine):
    project = PROJECT.replace(fit={"epochs": 500, "batch_size": 8})
    session = engine.session(project)
    events = []
    session.subscribe(events.append)
    session.start()
    deadline = time.monotonic() + 60
    while not any(isinstance(e, EpochEnd) for e in events) and time.monotonic() < deadline:
        time.sleep(0.02)
    session.stop()
    assert session.wait(30)
    assert isinstance(events[-1], Finished) and events[-1].reason == "stopped"
    assert events[-1].epochs_done < 500
    session.close()


def test_the_project_and_compile_can_change_between_runs(engine):
    session = engine.session(PROJECT)
    _run(session)
    session.set_compile(PROJECT.compile.__class__(
        PROJECT.compile.optimizer.with_args(learning_rate=0.01), PROJECT.compile.loss,
        PROJECT.compile.metrics))
    assert session.epoch == 2  # the weights and history are kept
    bigger = PROJECT.replace(model=PROJECT.model.set_layer(
        0, PROJECT.model.layers[0].with_args(units=4)))
    session.set_project(bigger)
    assert session.epoch == 0  # a new model starts afresh
    session.start(50)
    with pytest.raises(SessionError, match="already going"):
        session.start()
    session.stop()
    session.wait(30)
    session.close()


# -- deaths ------------------------------------------------------------------------------------

def _fresh_engine():
    made = Engine().start()
    assert made.wait_ready(120), made.death
    return made


def test_a_killed_engine_ends_the_run_in_words_and_a_fresh_one_trains():
    engine = _fresh_engine()
    deaths = []
    engine.on_death.append(deaths.append)
    session = engine.session(PROJECT.replace(fit={"epochs": 500, "batch_size": 8}))
    events = []
    session.subscribe(events.append)
    session.start()
    deadline = time.monotonic() + 60
    while sum(isinstance(e, EpochEnd) for e in events) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(engine.pid, 9)
    assert session.wait(15)
    last = events[-1]
    assert isinstance(last, Failed)
    assert "ended unexpectedly (killed by signal 9 (SIGKILL))" in last.message
    assert "of 500" in last.message and "curves so far and your project are kept" in last.message
    assert deaths and "signal 9" in deaths[0]
    assert len(session.history["loss"]) >= 2  # the curves received so far are kept
    with pytest.raises(SessionError, match="fresh training process"):
        session.start()
    fresh = _fresh_engine()
    try:
        assert isinstance(_run(fresh.session(PROJECT))[-1], Finished)
    finally:
        fresh.close()


def test_a_killed_idle_engine_fails_the_next_call_and_calls_back():
    engine = _fresh_engine()
    deaths = []
    engine.on_death.append(deaths.append)
    session = engine.session(PROJECT)
    os.kill(engine.pid, 9)
    deadline = time.monotonic() + 10
    while not deaths and time.monotonic() < deadline:
        time.sleep(0.02)
    assert deaths
    with pytest.raises((SessionError, EngineDied)):
        session.predict(np.zeros((1, 2)))


def test_a_kill_during_evaluate_fails_the_waiting_call():
    engine = _fresh_engine()
    big = default_project().replace(
        data={"source": "circle", "samples": 200_000, "seed": 0, "validation_split": 0.5},
        fit={"epochs": 1, "batch_size": 4})
    session = engine.session(big)
    result = {}

    def evaluate():
        try:
            result["value"] = session.evaluate("val", timeout=120)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            result["error"] = exc

    thread = threading.Thread(target=evaluate)
    thread.start()
    time.sleep(3.0)
    os.kill(engine.pid, 9)
    thread.join(20)
    assert not thread.is_alive()
    assert isinstance(result.get("error"), (EngineDied, SessionError)), result


def test_closing_ends_the_engine_within_two_seconds():
    engine = _fresh_engine()
    pid = engine.pid
    start = time.monotonic()
    engine.close()
    assert time.monotonic() - start < 2.5
    assert engine.process.poll() is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
