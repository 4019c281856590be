"""A lesson's steps: what to do next, how LayerLab sees that it was done, and a hint.

A lesson file may hold, beside its `description`,

    "steps": [
      {"text": "Delete both hidden layers and train again.",
       "check": {"ran": {"model_has": {"hidden_layers": 0}}},
       "hint": "Select a hidden layer and press Delete; then press Train."}
    ]

and its `locks` (`lesson_locks`). The window ticks a step when its check passes; the
checks are data, never code (`lesson_checks` lists the kinds). Checked steps are ticked in
order, and a step's runs are those that finished once every checked step before it was
ticked (the run that ticked the one before included), so "train again" means again
(`LessonProgress`); a step without a check is ticked when the person moves past it with
Next. A lesson file is written by a stranger: every size here is bounded and every
problem is reported with its JSON path, as the project loader does. No Qt here.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .lesson_checks import (
    CHECK_KINDS,
    MAX_NODES,
    FinishedRun,
    _show,
    _type_name,
    check_passes,
    check_problems,
    hidden_layer_count,
)
from .lesson_locks import Locks, locks_from_json
from .spec import Project

#: Steps in one lesson: a lesson is a page of work, not a course.
MAX_STEPS = 40
#: Characters of a step's text and of its hint: a few sentences each.
MAX_TEXT_CHARS = 800
MAX_HINT_CHARS = 600


@dataclass(frozen=True)
class Step:
    """One step of a lesson.

    Attributes:
        text: what to do, in a sentence or two.
        check: the declarative check that the step was done (`lesson_checks` lists the kinds), or
            None: the step is ticked when the person moves past it.
        hint: a further sentence shown on request ("" for none).
    """

    text: str
    check: Mapping[str, Any] | None = None
    hint: str = ""

    def __post_init__(self) -> None:
        if self.check is not None:
            object.__setattr__(self, "check", copy.deepcopy(dict(self.check)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.check is not None:
            out["check"] = copy.deepcopy(dict(self.check))
        if self.hint:
            out["hint"] = self.hint
        return out


@dataclass(frozen=True)
class LessonSpec:
    """A lesson's steps and locks (its text is the project's `description`)."""

    steps: tuple[Step, ...] = ()
    locks: Locks | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "steps", tuple(
            s if isinstance(s, Step) else Step(**s) for s in self.steps))

    @property
    def empty(self) -> bool:
        return not self.steps and (self.locks is None or
                                   (not self.locks.restricts and not self.locks.hidden))


# -- reading a lesson's steps -----------------------------------------------------------------

def steps_from_json(value: Any, problems: list[str]) -> tuple[Step, ...]:
    """The `steps` section, checked; each problem goes to `problems` with its JSON path."""
    if value is None:
        return ()
    if not isinstance(value, list):
        problems.append('steps: expected a list of steps such as [{"text": "Press Train.", '
                        f'"check": {{"runs_finished": 1}}}}], got {_type_name(value)}')
        return ()
    if len(value) > MAX_STEPS:
        problems.append(f"steps: expected at most {MAX_STEPS} steps, got {len(value):,}; "
                        "split the lesson in two")
        return ()
    steps = []
    for i, item in enumerate(value):
        step = _step(item, f"steps[{i}]", problems)
        if step is not None:
            steps.append(step)
    return tuple(steps)


def _step(item: Any, where: str, problems: list[str]) -> Step | None:
    if not isinstance(item, Mapping):
        problems.append(f'{where}: expected an object like {{"text": "...", "check": {{...}}, '
                        f'"hint": "..."}}, got {_type_name(item)}')
        return None
    before = len(problems)
    for key in item:
        if key not in ("text", "check", "hint"):
            problems.append(f"{where}.{key}: unknown key (expected text, check and hint)")
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{where}.text: expected a sentence saying what to do, got "
                        f"{_show(text)}")
    elif len(text) > MAX_TEXT_CHARS:
        problems.append(f"{where}.text: expected at most {MAX_TEXT_CHARS} characters, got "
                        f"{len(text):,}; split the step in two")
    hint = item.get("hint", "")
    if not isinstance(hint, str):
        problems.append(f"{where}.hint: expected text, got {_type_name(hint)}")
    elif len(hint) > MAX_HINT_CHARS:
        problems.append(f"{where}.hint: expected at most {MAX_HINT_CHARS} characters, got "
                        f"{len(hint):,}; shorten the hint")
    check = item.get("check")
    if check is not None:
        problems.extend(check_problems(check, f"{where}.check"))
    if len(problems) > before:
        return None
    return Step(text, check, hint)


def evaluate(steps: Sequence[Step], project: Project, runs: Sequence[FinishedRun],
             since: Sequence[int | None] | None = None) -> tuple[bool, ...]:
    """Which steps' checks pass now: for each step, True when its check passes for the
    project as it is and the runs since `since[i]` (all runs when None); a step without
    a check never passes here (it is ticked by moving past it, `LessonProgress`).

    Args:
        steps: the lesson's steps.
        project: the project as it is now.
        runs: the runs finished since the lesson was opened, oldest first; the last one
            is what `metric` reads, and `len(runs)` is what `runs_finished` counts.
        since: per step, how many of `runs` came before the step could be done (they do
            not count for it), or None for all of them.
    """
    out = []
    for i, step in enumerate(steps):
        start = since[i] if since is not None and i < len(since) else None
        window = runs[start or 0:]
        out.append(step.check is not None and check_passes(step.check, project, window))
    return tuple(out)


class LessonProgress:
    """Which steps are ticked, and which one the person is reading.

    Steps with a check are ticked in order: one can be ticked once every checked step
    before it is, and only the runs from then on count for it, so "train again" means
    again. "From then on" includes the run that ticked the step before, so one run can
    tick "train it" and "reach 95 %" together. A ticked step stays ticked (a later step
    may ask to undo what an earlier one did). A step without a check (something LayerLab
    cannot see, such as reading a number) is ticked when the person presses Next on it,
    and holds no other step back. Pure Python: the lesson panel feeds it the project after
    each edit and the runs after each finished run.
    """

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = tuple(steps)
        self.done = [False] * len(self.steps)
        #: Per step: how many runs had finished before it could be ticked (None: not yet).
        self.since: list[int | None] = [None] * len(self.steps)
        self.current = 0
        self._seen = 0  # runs seen by the last update

    @property
    def ticked(self) -> int:
        return sum(self.done)

    @property
    def complete(self) -> bool:
        return bool(self.steps) and all(self.done)

    def first_open(self) -> int | None:
        """The first checked step not yet ticked (None when there is none)."""
        return next((i for i, (s, d) in enumerate(zip(self.steps, self.done, strict=True))
                     if s.check is not None and not d), None)

    def update(self, project: Project, runs: Sequence[FinishedRun]) -> list[int]:
        """Ticks what passes now, in order; returns the steps ticked by this call.

        Args:
            project: the project as it is now.
            runs: every run finished since the lesson opened, oldest first.
        """
        fresh = len(runs) > self._seen  # a run just ended: it may tick a step and the next
        self._seen = len(runs)
        newly: list[int] = []
        while (i := self.first_open()) is not None:
            if self.since[i] is None:
                self.since[i] = len(runs) - 1 if fresh and newly else len(runs)
            check = self.steps[i].check
            if check is None or not check_passes(check, project, runs[self.since[i]:]):
                break
            self.done[i] = True
            newly.append(i)
        return newly

    def next(self) -> list[int]:
        """Moves to the next step; the step left is ticked when it has no check. Returns
        the steps ticked ([] or [that step])."""
        newly: list[int] = []
        i = self.current
        if self.steps and self.steps[i].check is None and not self.done[i]:
            self.done[i] = True
            newly.append(i)
        self.current = min(self.current + 1, max(0, len(self.steps) - 1))
        return newly

    def back(self) -> None:
        self.current = max(0, self.current - 1)


def lesson_from_json(steps: Any, locks: Any, problems: list[str]) -> LessonSpec | None:
    """A project file's `steps` and `locks` sections as a LessonSpec (None when it has
    neither, or both empty); each problem goes to `problems` with its JSON path."""
    if steps is None and locks is None:
        return None
    lesson = LessonSpec(steps_from_json(steps, problems), locks_from_json(locks, problems))
    return None if lesson.empty else lesson  # `"steps": []` is no lesson: saved without it


def lesson_to_json(lesson: LessonSpec | None) -> dict[str, Any]:
    """The `steps` and `locks` keys a project file gets ({} for none)."""
    if lesson is None:
        return {}
    out: dict[str, Any] = {}
    if lesson.steps:
        out["steps"] = [step.to_json() for step in lesson.steps]
    if lesson.locks is not None and lesson.locks.to_json():
        out["locks"] = lesson.locks.to_json()
    return out


__all__ = [
    "CHECK_KINDS", "MAX_NODES", "MAX_STEPS", "FinishedRun", "LessonProgress", "LessonSpec",
    "Step", "check_passes", "check_problems", "evaluate", "hidden_layer_count",
    "lesson_from_json", "lesson_to_json", "steps_from_json",
]
