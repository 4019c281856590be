"""A healthy run reports nothing: every bundled lesson, trained at its own settings the way
the window trains it (a `TrainingSession`, diagnostics on, the compiled loop where it
applies, tf.data for a folder of images), raises no live-diagnostics finding that the
lesson does not mark as intended (lesson 6a overfits on purpose)."""

from __future__ import annotations

import threading

import pytest

from gui_app.core.lessons import list_examples, load_example

pytest.importorskip("keras")

LESSONS = list_examples()


@pytest.mark.slow
@pytest.mark.parametrize("lesson", LESSONS, ids=[x.path.name.split(".")[0] for x in LESSONS])
def test_the_lesson_raises_no_finding_it_does_not_intend(lesson) -> None:
    from gui_app.core.diagnostics.events import FindingEvent
    from gui_app.core.training import Failed, Finished, TrainingSession

    project, _ = load_example(lesson.path)
    session = TrainingSession(project, base_dir=lesson.path.parent, progress_interval=0.05)
    assert session.diagnostics  # as in the window
    findings: dict[str, FindingEvent] = {}
    ended: list = []
    done = threading.Event()

    def listen(event) -> None:  # noqa: ANN001 - any event
        if isinstance(event, FindingEvent):
            findings[event.code] = event  # its latest state
        elif isinstance(event, (Finished, Failed)):
            ended.append(event)
            done.set()

    session.subscribe(listen)
    try:
        session.start()
        assert done.wait(600), f"{lesson.path.name} did not finish"
    finally:
        session.close()
    assert isinstance(ended[0], Finished), getattr(ended[0], "message", ended[0])
    assert ended[0].epochs_done >= 1
    intended = {item.code for item in project.intended}
    raised = {code for code, f in findings.items() if f.state != "resolved"}
    assert raised <= intended, (
        f"{lesson.path.name} raised {sorted(raised - intended)}: "
        + " | ".join(findings[c].message for c in sorted(raised - intended)))
