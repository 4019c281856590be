"""A lesson's locks: which settings its audience may change, and which panels it hides.

TensorFlow Playground shows a class only the controls a lesson is about. A LayerLab lesson
does the same with

    "locks": {"editable": ["compile.optimizer.learning_rate", "model.layers[*].units"],
              "hidden": ["code"]}

* `editable`: the only settings that can change, as JSON paths (`[*]` for every layer,
  a section or object for everything in it: `fit`, `compile.optimizer`, `model.layers`
  for adding, deleting and moving layers). Everything else in the model, compile, data
  and fit sections is read-only. Left out (or null), everything is editable.
* `hidden`: panels the lesson does not need, hidden when it opens: `palette`,
  `inspector`, `code`, `compile`, `data`, `fit`. View shows them again: hiding tidies the
  screen, the editable list is what is enforced.

The project controller asks `refusal` before every edit, so a locked setting cannot be
changed from any panel, a check's fix or a keyboard shortcut; the widgets are greyed too,
but only as a courtesy. The lesson's own text, steps and locks, the project's name and
the hyperparameter search are not settings the locks cover. No Qt here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .lesson_checks import _show, _type_name
from .lesson_paths import (
    PathError,
    Token,
    changed_paths,
    covers,
    effective_tree,
    format_path,
    parse_path,
)
from .spec import Project

#: Panels a lesson may hide, each with what it holds (for messages and menus).
PANELS: dict[str, str] = {
    "palette": "the layer palette",
    "inspector": "the layer inspector",
    "code": "the Keras code",
    "compile": "the Compile settings",
    "data": "the Data settings",
    "fit": "the Fit settings",
}
#: At most this many editable paths: a lesson unlocks a few settings, not hundreds.
MAX_EDITABLE = 32


@dataclass(frozen=True)
class Locks:
    """What a lesson lets its audience change and see.

    Attributes:
        editable: the settings that may change, as JSON paths (`[*]` for any position);
            None when every setting may change.
        hidden: panels hidden while the lesson is open (keys of `PANELS`).
    """

    editable: tuple[str, ...] | None = None
    hidden: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.editable is not None:
            object.__setattr__(self, "editable", tuple(self.editable))
        object.__setattr__(self, "hidden", tuple(self.hidden))

    @property
    def restricts(self) -> bool:
        """True when some setting is read-only."""
        return self.editable is not None

    def patterns(self) -> list[tuple[Token, ...]]:
        return [parse_path(p, wildcards=True) for p in self.editable or ()]

    def allows(self, path: str | tuple[Token, ...]) -> bool:
        """Whether the setting at `path` (text or parsed) may change."""
        if self.editable is None:
            return True
        tokens = parse_path(path, wildcards=True) if isinstance(path, str) else path
        return any(covers(p, tokens) for p in self.patterns())

    def allows_any(self, prefix: str) -> bool:
        """Whether anything under `prefix` (a section or an object) may change: a panel
        with no editable setting is greyed whole."""
        if self.editable is None:
            return True
        tokens = parse_path(prefix, wildcards=True)
        return any(covers(p, tokens) or covers(tokens, p) for p in self.patterns())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.editable is not None:
            out["editable"] = list(self.editable)
        if self.hidden:
            out["hidden"] = list(self.hidden)
        return out

    def describe(self) -> str:
        """The editable settings in a few words, for messages."""
        if self.editable is None:
            return "every setting"
        if not self.editable:
            return "no setting"
        shown = ", ".join(self.editable[:4])
        more = len(self.editable) - 4
        return shown + (f" and {more} more" if more > 0 else "")


def locks_from_json(value: Any, problems: list[str], where: str = "locks") -> Locks | None:
    """The `locks` section, checked; each problem goes to `problems` with its JSON path."""
    if value is None:
        return None
    example = '{"editable": ["compile.optimizer.learning_rate"], "hidden": ["code"]}'
    if not isinstance(value, Mapping):
        problems.append(f"{where}: expected an object such as {example}, got "
                        f"{_type_name(value)}")
        return None
    before = len(problems)
    for key in value:
        if key not in ("editable", "hidden"):
            problems.append(f"{where}.{key}: unknown key (expected editable and hidden)")
    editable = value.get("editable")
    if editable is not None:
        if not isinstance(editable, list):
            problems.append(f"{where}.editable: expected a list of settings' JSON paths, "
                            f"such as [\"model.layers[*].units\"], got {_type_name(editable)}")
            editable = None
        elif len(editable) > MAX_EDITABLE:
            problems.append(f"{where}.editable: expected at most {MAX_EDITABLE} paths, got "
                            f"{len(editable):,}; unlock a section (\"fit\") instead of each "
                            "of its settings")
            editable = None
        else:
            for i, path in enumerate(editable):
                try:
                    parse_path(path, wildcards=True)
                except PathError as exc:
                    problems.append(f"{where}.editable[{i}]: {exc}")
    hidden = value.get("hidden", [])
    if not isinstance(hidden, list) or len(hidden) > len(PANELS):
        got = f"{len(hidden)} names" if isinstance(hidden, list) else _type_name(hidden)
        problems.append(f"{where}.hidden: expected a list of up to {len(PANELS)} panel "
                        f"names ({', '.join(PANELS)}), got {got}")
        hidden = []
    else:
        for i, name in enumerate(hidden):
            if not isinstance(name, str) or name not in PANELS:
                problems.append(f"{where}.hidden[{i}]: expected one of "
                                f"{', '.join(PANELS)}, got {_show(name)}")
    if len(problems) > before:
        return None
    return Locks(tuple(editable) if editable is not None else None,
                 tuple(dict.fromkeys(hidden)))


def refusal(old: Project, new: Project) -> str | None:
    """Why an edit from `old` to `new` is refused by `old`'s lesson locks, or None.

    Only the settings sections are compared (model, compile, data, fit), by their
    effective values, so setting a value to its default is not a change of another
    setting. The message names the first locked setting and what may be changed.
    """
    locks = getattr(old.lesson, "locks", None) if old.lesson is not None else None
    if locks is None or not locks.restricts:
        return None
    before, after = effective_tree(old), effective_tree(new)
    patterns = locks.patterns()
    locked: list[tuple[Token, ...]] = []
    for section in ("model", "compile", "data", "fit"):
        for path in changed_paths(before[section], after[section], (section,)):
            if not any(covers(p, path) for p in patterns):
                locked.append(path)
    if not locked:
        return None
    first = format_path(locked[0])
    what = "adding, deleting or moving layers" if locked[0] == ("model", "layers") else first
    more = f" (and {len(locked) - 1} more)" if len(locked) > 1 else ""
    return (f"This lesson keeps {what}{more} as it is: it lets you change only "
            f"{locks.describe()}.")


__all__ = ["Locks", "PANELS", "locks_from_json", "refusal"]
