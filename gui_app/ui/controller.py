"""The one place that holds the open project; every view observes it and edits through it.

Specs are frozen, so an edit is "the old project, the new project": each undo command keeps
both and undo simply puts the old one back. After every change the controller derives the
summary and the pre-flight findings (well under a millisecond for normal models) and tells
the views, which update their widgets in place.

The data are loaded here too, because the checks need to know what the data look like
(classes, label kind, shape). The 2-D and sine sets are generated in about a millisecond
and are loaded at once, so the findings never lag behind an edit; real sets (scikit-learn,
Keras, files) load on a worker thread and arrive by signal.
"""

from __future__ import annotations

import itertools
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThread, Signal, Slot
from PySide6.QtGui import QUndoCommand, QUndoStack

from ..core.catalog import LAYERS
from ..core.checks import Finding, Fix, run_checks
from ..core.data import GENERATED_SOURCES, DataError, Dataset, load_dataset, switch_source
from ..core.lesson_locks import refusal as lesson_refusal
from ..core.search import follow_edit
from ..core.spec import CompileSpec, DataInfo, LayerSpec, ModelSpec, Project
from ..core.summary import Summary, summarize
from . import mailbox

#: Sources generated in about a millisecond: loaded on the GUI thread so checks are instant.
QUICK_SOURCES = frozenset(GENERATED_SOURCES) | {"sine"}
#: Every merging command shares this id; `merge_key` decides whether two really merge.
_MERGE_ID = 4242


class ProjectCommand(QUndoCommand):
    """One undoable edit: the whole project before and after.

    Commands with the same `merge_key` in the same editing session merge, so dragging a
    slider or typing "128" into a spin box is one undo step, not one per keystroke.
    """

    def __init__(self, controller: ProjectController, old: Project, new: Project, text: str,
                 merge_key: str | None, session: int) -> None:
        super().__init__(text)
        # weakly: the stack (a child of the controller) owns the command, and a command that
        # held its controller made a cycle whose collection deleted the commands twice (a
        # segmentation fault at exit, in QUndoStack::clear)
        self._controller = weakref.ref(controller)
        self.old, self.new = old, new
        self.merge_key, self.session = merge_key, session

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _MERGE_ID if self.merge_key else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, ProjectCommand) or other.merge_key != self.merge_key \
                or other.session != self.session or other.old != self.new:
            return False
        self.new = other.new
        if self.new == self.old:  # edited back to where it started: nothing to undo
            self.setObsolete(True)
        return True

    def redo(self) -> None:
        controller = self._controller()
        if controller is not None:
            controller._set(self.new)

    def undo(self) -> None:
        controller = self._controller()
        if controller is not None:
            controller._set(self.old)


#: Every controller alive, for `clear_undo_stacks`.
_LIVE: weakref.WeakSet[ProjectController] = weakref.WeakSet()


def clear_undo_stacks(controllers: Iterable[ProjectController] | None = None) -> None:
    """Empties every controller's undo stack, before the process ends.

    The commands are Python objects owned by a C++ stack; when the garbage collector breaks
    the reference cycles of a finished window, it may free a command before the stack's
    destructor deletes it again (a segmentation fault at exit, in QUndoStack::clear). An
    empty stack deletes nothing. `controllers`: these only (default: all).
    """
    for controller in list(_LIVE if controllers is None else controllers):
        if shiboken6.isValid(controller):
            controller.undo_stack.clear()


class ProjectController(QObject):
    """Holds the current Project, its undo stack and everything derived from it.

    Signals:
        projectChanged(old, new): after every change of the project (edit, undo, open).
        derivedChanged(): the summary or findings were recomputed (after projectChanged,
            and when the data finished loading).
        datasetChanged(): a dataset finished loading or failed (see `dataset`, `data_error`).
        fileChanged(): the project's path or saved state changed.
        replaced(): a different project took this one's place (New, Open, a lesson, an
            import, a recovery): what belonged to the old one (runs, plots, predictions)
            goes. Emitted after projectChanged.
        editRefused(str): an edit was refused by the open lesson's locks; the text says
            which setting is locked and what may be changed (the window shows it in the
            status bar).
    """

    projectChanged = Signal(object, object)
    replaced = Signal()
    derivedChanged = Signal()
    datasetChanged = Signal()
    fileChanged = Signal()
    editRefused = Signal(str)

    def __init__(self, project: Project, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._project = project
        self.path: Path | None = None
        #: Set by the training panel while a run is going: edits are refused, so the model
        #: cannot change under a running fit.
        self.locked = False
        self.undo_stack = QUndoStack(self)
        _LIVE.add(self)
        self.undo_stack.cleanChanged.connect(self._on_clean_changed)
        self._session = itertools.count()
        self._current_session = next(self._session)
        self.summary: Summary = summarize(project.model)
        self.findings: list[Finding] = []
        self.dataset: Dataset | None = None
        self._info: DataInfo | None = None
        self._info_for: Dataset | None = None
        self.data_error: list[str] | None = None
        self.data_loading = False
        self._generation = 0
        self._workers = mailbox.Workers(1, "layerlab-data")
        self.derive_seconds = 0.0
        self._load_data()
        self._derive()

    # -- reading ---------------------------------------------------------------------------

    @property
    def project(self) -> Project:
        return self._project

    @property
    def data_info(self) -> DataInfo | None:
        """What the checks need to know about the loaded data (cached: it counts classes)."""
        if self.dataset is None:
            return None
        if self._info_for is not self.dataset:
            self._info, self._info_for = self.dataset.info(), self.dataset
        return self._info

    @property
    def is_clean(self) -> bool:
        return self.undo_stack.isClean()

    # -- editing ---------------------------------------------------------------------------

    def edit(self, new: Project, text: str, merge_key: str | None = None) -> bool:
        """Makes `new` the current project as one undoable step; False when nothing changed,
        while training has the editor locked, or when the open lesson's locks refuse it
        (`editRefused` then says why)."""
        new = follow_edit(self._project, new)  # the search follows moved and deleted layers
        if new == self._project or self.locked:
            return False
        refused = lesson_refusal(self._project, new)  # the lesson's locks, for every panel
        if refused:
            self.editRefused.emit(refused)
            return False
        self.undo_stack.push(ProjectCommand(self, self._project, new, text, merge_key,
                                            self._current_session))
        return True

    def end_merge(self) -> None:
        """Ends the editing session: the next edit of the same field is a new undo step."""
        self._current_session = next(self._session)

    def insert_layers(self, index: int, layers: Iterable[LayerSpec], text: str) -> list[int]:
        model = self._project.model
        index = max(0, min(index, len(model.layers)))
        added = list(layers)
        for offset, layer in enumerate(added):
            model = model.insert(index + offset, layer)
        self._edit_model(model, text)
        return list(range(index, index + len(added)))

    def add_layer(self, type_name: str, index: int | None = None) -> int:
        """Inserts a fresh layer of a palette type (with its suggested arguments)."""
        definition = LAYERS[type_name]
        at = len(self._project.model.layers) if index is None else index
        return self.insert_layers(at, [LayerSpec(type_name, dict(definition.suggested))],
                                  f"Add {type_name}")[0]

    def remove_layers(self, indices: Iterable[int]) -> None:
        chosen = sorted(set(indices), reverse=True)
        if not chosen:
            return
        model = self._project.model
        for i in chosen:
            model = model.remove(i)
        names = "layer" if len(chosen) == 1 else f"{len(chosen)} layers"
        self._edit_model(model, f"Delete {names}")

    def duplicate_layers(self, indices: Iterable[int]) -> list[int]:
        """Copies the layers just after the last one; copies drop their name (names are unique)."""
        chosen = sorted(set(indices))
        if not chosen:
            return []
        layers = self._project.model.layers
        copies = [layers[i].with_args(name=...) for i in chosen]
        return self.insert_layers(chosen[-1] + 1, copies, "Duplicate")

    def move_layers(self, indices: Iterable[int], dest: int, text: str = "Move layers") -> list[int]:
        """Moves the layers (kept in their order) to sit before the layer now at `dest`.

        Returns the new indices of the moved layers.
        """
        chosen = sorted(set(indices))
        layers = list(self._project.model.layers)
        if not chosen:
            return []
        dest = max(0, min(dest, len(layers)))
        moving = [layers[i] for i in chosen]
        rest = [layer for i, layer in enumerate(layers) if i not in set(chosen)]
        at = dest - sum(1 for i in chosen if i < dest)
        new_layers = rest[:at] + moving + rest[at:]
        self._edit_model(replace(self._project.model, layers=tuple(new_layers)), text)
        return list(range(at, at + len(moving)))

    def shift_layers(self, indices: Iterable[int], step: int) -> list[int]:
        """Moves each chosen layer one place up (-1) or down (+1); a block moves as one."""
        chosen = sorted(set(indices))
        layers = list(self._project.model.layers)
        if not chosen:
            return []
        if (step < 0 and chosen[0] == 0) or (step > 0 and chosen[-1] == len(layers) - 1):
            return chosen
        order = list(range(len(layers)))
        for i in (chosen if step < 0 else reversed(chosen)):
            j = order.index(i)
            order[j], order[j + step] = order[j + step], order[j]
        new_layers = tuple(layers[i] for i in order)
        self._edit_model(replace(self._project.model, layers=new_layers),
                         "Move up" if step < 0 else "Move down")
        return [order.index(i) for i in chosen]

    def set_layer_arg(self, index: int, name: str, value: Any) -> None:
        """Sets one argument; a value equal to Keras's default is dropped from the spec."""
        layer = self._project.model.layers[index]
        definition = LAYERS.get(layer.type)
        param = definition.param(name) if definition else None
        drop = param is not None and param.same_as_default(value) and not param.required
        new_layer = layer.with_args(**{name: ... if drop else value})
        self._edit_model(self._project.model.set_layer(index, new_layer),
                         f"Set {name} of layer {index + 1}", merge_key=f"layer{index}.{name}")

    def set_input_shape(self, shape: tuple[int | None, ...]) -> None:
        self._edit_model(replace(self._project.model, input_shape=tuple(shape)),
                         "Set input shape", merge_key="input_shape")

    def set_compile(self, compile_spec: CompileSpec, text: str,
                    merge_key: str | None = None) -> None:
        self.edit(replace(self._project, compile=compile_spec), text, merge_key)

    def set_data(self, changes: Mapping[str, Any], text: str = "Change data",
                 merge_key: str | None = None) -> None:
        """Changes data settings; a change of source drops the old source's settings."""
        self.edit(replace(self._project, data=switch_source(self._project.data, changes)), text,
                  merge_key)

    def set_fit(self, changes: Mapping[str, Any], text: str = "Change fit settings",
                merge_key: str | None = None) -> None:
        fit = dict(self._project.fit)
        for key, value in changes.items():
            if value is ...:
                fit.pop(key, None)
            else:
                fit[key] = value
        self.edit(replace(self._project, fit=fit), text, merge_key)

    def apply_fix(self, fix: Fix) -> None:
        self.edit(fix.apply(self._project), f"Fix: {fix.label}")

    def _edit_model(self, model: ModelSpec, text: str, merge_key: str | None = None) -> None:
        self.edit(replace(self._project, model=model), text, merge_key)

    # -- files -----------------------------------------------------------------------------

    def reset(self, project: Project, path: Path | None = None) -> None:
        """Replaces the project (New, Open): a fresh undo history, marked as saved."""
        self.path = Path(path) if path is not None else None
        self.undo_stack.clear()
        self._set(project, force_data=True)
        self.undo_stack.setClean()
        self.replaced.emit()
        self.fileChanged.emit()

    def mark_saved(self, path: Path) -> None:
        self.path = Path(path)
        self.undo_stack.setClean()
        self.fileChanged.emit()

    def mark_unsaved(self) -> None:
        """Marks the project as not saved (restored or imported work): the title shows "*",
        closing asks first, and autosave keeps a copy."""
        self.undo_stack.resetClean()

    def refresh(self) -> None:
        """Recomputes everything derived, e.g. after the catalog learned Keras's defaults."""
        self.summary = summarize(self._project.model)
        self._derive()
        self.derivedChanged.emit()

    # -- internals -------------------------------------------------------------------------

    @Slot(bool)
    def _on_clean_changed(self, _clean: bool) -> None:
        self.fileChanged.emit()

    def _set(self, project: Project, force_data: bool = False) -> None:
        old, self._project = self._project, project
        if project.model is not old.model and project.model != old.model:
            self.summary = summarize(project.model)
        if force_data or project.data != old.data:
            self._load_data()
        self._derive()
        self.projectChanged.emit(old, project)
        self.derivedChanged.emit()

    def _derive(self) -> None:
        start = time.perf_counter()
        self.findings = run_checks(self._project, self.data_info, self.summary)
        self.derive_seconds = time.perf_counter() - start

    def _base_dir(self) -> Path | None:
        return self.path.parent if self.path is not None else None

    def _load_data(self) -> None:
        """Loads the project's data: at once for the quick sets, else on the pool thread."""
        self._generation += 1
        data = self._project.data
        self.dataset, self.data_error = None, None
        if not data:
            self.data_loading = False
            self.datasetChanged.emit()
            return
        if data.source in QUICK_SOURCES:
            self.data_loading = False
            try:
                self.dataset = load_dataset(data, self._base_dir())
            except DataError as exc:
                self.data_error = list(exc.problems)
            self.datasetChanged.emit()
            return
        self.data_loading = True
        generation, data, base_dir = self._generation, dict(data), self._base_dir()
        self._workers.submit(self, lambda: load_dataset(data, base_dir),
                             lambda dataset: self._on_loaded(generation, dataset),
                             lambda exc: self._on_load_failed(generation, exc))
        self.datasetChanged.emit()

    def _on_loaded(self, generation: int, dataset: Dataset) -> None:
        assert QThread.currentThread() is self.thread(), "data results are handled on the GUI thread"
        if generation != self._generation:
            return  # the settings changed while this was loading
        self.dataset, self.data_error, self.data_loading = dataset, None, False
        self._derive()
        self.datasetChanged.emit()
        self.derivedChanged.emit()

    def _on_load_failed(self, generation: int, exc: BaseException) -> None:
        assert QThread.currentThread() is self.thread(), "data results are handled on the GUI thread"
        if generation != self._generation:
            return
        problems = list(exc.problems) if isinstance(exc, DataError) else [  # never a crash
            f"data: expected a loadable dataset, got {type(exc).__name__}: {exc}. "
            "Check the file or pick another source."]
        self.dataset, self.data_error, self.data_loading = None, problems, False
        self._derive()
        self.datasetChanged.emit()
        self.derivedChanged.emit()

    def wait_for_data(self, msecs: int = 30_000) -> bool:
        """Blocks until background loading is done (closing the window, tests)."""
        return self._workers.wait(msecs)
