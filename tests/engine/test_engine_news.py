"""An engine started before the window: its hello and its death reach the window once each,
whether they come before or after the window takes the engine."""

from __future__ import annotations

import threading

from gui_app.engine import client


def test_a_prestarted_engine_is_taken_once_and_its_news_arrives_exactly_once():
    client.prestart()
    engine = client.take_prestarted()
    assert engine is not None and client.take_prestarted() is None  # taken once
    try:
        early: list[tuple[str, object]] = []
        hello0, death0 = engine.watch(lambda h: early.append(("ready", h)),
                                      lambda r: early.append(("died", r)))
        assert death0 is None
        assert engine.wait_ready(120), engine.death
        # a watcher added after the hello is handed it, and is not called for it again
        late: list[tuple[str, object]] = []
        hello, death = engine.watch(lambda h: late.append(("ready", h)),
                                    lambda r: late.append(("died", r)))
        assert hello is engine.hello and death is None and late == []
        ended = threading.Event()
        engine.on_death.append(lambda _r: ended.set())
        engine.kill()
        assert ended.wait(30)
        assert [kind for kind, _ in late] == ["died"]
        # the first watcher heard the hello once: by callback, or from watch when the hello
        # came first; and the death once
        kinds = [kind for kind, _ in early]
        assert kinds.count("ready") + (hello0 is not None) == 1
        assert kinds.count("died") == 1
        # a watcher added after the death is handed it
        after, reason = engine.watch(lambda h: None, lambda r: None)
        assert after is engine.hello and reason == engine.death and "SIGKILL" in reason
    finally:
        engine.close()
