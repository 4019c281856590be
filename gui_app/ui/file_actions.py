"""The window's file side: lessons, trained models in and out, exports, drops, recovery.

`FileActions` is created by the main window and adds to its File menu:

    Open Example >         the lessons in resources/examples, by name
    Import Keras Model...  a .keras / .h5 file through the safe importer (core/modelfile.py)
    Save Trained Model...  the trained model as .keras
    Export >               Python script, summary text, History CSV / JSON, plots PNG / SVG

It also keeps the last trained weights with the project (`<stem>.weights.h5` beside
`<stem>.layerlab.json`, written on Save when there are trained weights), accepts project
and model files dropped on the window, shows the lesson banner, runs the autosave and
offers recovered work after a crash.

The training view is another module; it links in with two calls (and nothing here reaches
into its widgets):

    window.files.connect_training(session=lambda: panel.session,
                                  plots=lambda: {"Loss": plot_item, ...})
    note = window.files.apply_pending_weights(session)   # before a new session's first run

Nothing in a model file is ever run: imports go through `modelfile.load_model_file`, which
checks the file's description itself and builds the model from LayerLab's own spec.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QFileDialog, QMenu, QMessageBox, QWidget

from ..core.lessons import list_examples, load_example, prepare_lesson
from ..core.project import (
    SUFFIX,
    OutsidePathsError,
    ProjectError,
    load_project,
    project_from_json,
    project_to_json,
)
from ..core.spec import CompileSpec, ModelSpec, Project
from . import lesson_dialog, lesson_panel
from .autosave import Autosaver, OrphanClaim, RecoveryEntry, claim_orphans
from .exports import (
    ExportError,
    write_history_csv,
    write_history_json,
    write_plot,
    write_script,
    write_summary_text,
)
from .guard import consent, guarded, preflight, show_unexpected

MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
MODEL_FILTER = "Keras models (*.keras *.h5 *.hdf5);;All files (*)"
_DEFAULT_MODEL_NAME = re.compile(r"^sequential(_\d+)?$")
_PRINTABLE_NAME = re.compile(r"^[\w .\-]{1,100}$")


def weights_path_for(project_path: str | os.PathLike) -> Path:
    """Where a project's trained weights live: `<stem>.weights.h5` beside the project file.

    The rule is `core.modelfile.weights_path_for`, so `layerlab import` and the window
    agree; imported here only when asked (that module is large and the window starts fast).
    """
    from ..core.modelfile import weights_path_for as rule

    return rule(project_path)


def dropped_file(urls: list[QUrl]) -> Path | None:
    """The one local project or model file in a drop, else None (folders, several files,
    web links and other kinds are not taken)."""
    locals_ = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    if len(locals_) != 1:
        return None
    path = locals_[0]
    name = path.name.lower()
    if name.endswith(".json") or name.endswith(MODEL_SUFFIXES):
        return path
    return None


def _replace_atomically(produce: Callable[[Path], Any], target: Path, suffix: str) -> None:
    """Lets `produce` write a temporary file beside `target` (ending in `suffix`, which
    Keras insists on), then renames it over `target`: the old file survives any failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        tmp.unlink()  # Keras writes the file itself; it only needs the name
        produce(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class FileActions(QObject):
    """Lessons, model import/export, trained weights, exports, drops, autosave, recovery.

    Signals:
        pendingWeightsChanged(): trained weights for the open project became available
            (a project opened with its `.weights.h5`, or a model was imported); the training
            view may make a session now and `apply_pending_weights` to it, so that Continue
            is on at once.
    """

    pendingWeightsChanged = Signal()

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.controller = window.controller
        self.lesson_panel = lesson_panel.install(window, self.controller)
        self.autosaver = Autosaver(self.controller, self)
        self.autosaver.failed.connect(self._on_autosave_failed)
        self._session_getter: Callable[[], Any] = lambda: None
        self._plots_getter: Callable[[], Mapping[str, Any]] = dict
        self._findings_getter: Callable[[], Sequence[Any]] = list
        #: Trained weights waiting for a training session: the file beside an opened
        #: project, or an imported model's weights in a private folder.
        self.pending_weights: Path | None = None
        #: The model those weights were trained for (edits to the stack make them stale).
        self.pending_model: ModelSpec | None = None
        self._weights_session: Any = None  # the session that holds them once applied
        self._private_dir: Path | None = None
        self._claims: list[OrphanClaim] = []
        self.recovery_dialog: QMessageBox | None = None
        self.last_info: QMessageBox | None = None

        self._build_actions()
        self._install_menus()
        self.act_save_lesson = lesson_dialog.install(window)  # File > Save as Lesson...
        # Drops reach `accept_drag` / `accept_drop` through the window's own drag handlers,
        # not through an event filter: a Python filter on the window would run for every
        # event the window gets, repaints included, which during training costs the
        # training thread a GIL hand-over each time.
        window.setAcceptDrops(True)
        window.firstShown.connect(self._after_first_show)
        self.project_opened(self.controller.path)

    # -- menus -----------------------------------------------------------------------------

    def _action(self, text: str, slot: Callable[[], Any], tip: str, name: str) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(name)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        self.act_import = self._action(
            "&Import Keras Model...", self.import_model_dialog,
            "Open a trained .keras or .h5 Sequential model as an editable stack with its "
            "weights (nothing stored in the file is run)", "actImportModel")
        self.act_save_model = self._action(
            "Save &Trained Model...", self.save_trained_model,
            "Save the trained model (layers and weights) as a .keras file", "actSaveModel")
        self.act_export_script = self._action(
            "&Python Script...", self.export_script,
            "A standalone Keras script that trains this project without LayerLab",
            "actExportScript")
        self.act_export_loop = self._action(
            "Python Script with the Training &Loop...", self.export_loop_script,
            "The same script with model.fit written out as a tf.GradientTape loop: the "
            "forward pass, the loss, the gradients and the optimizer step, batch by batch",
            "actExportLoopScript")
        self.act_export_summary = self._action(
            "&Summary as Text...", self.export_summary,
            "The layer table with output shapes and parameter counts", "actExportSummary")
        self.act_export_csv = self._action(
            "History as &CSV...", self.export_history_csv,
            "Loss and metrics per epoch, one row per epoch", "actExportHistoryCsv")
        self.act_export_json = self._action(
            "History as &JSON...", self.export_history_json,
            "Loss and metrics per epoch, as Keras's History.history", "actExportHistoryJson")

    def _file_menu(self) -> QMenu | None:
        for action in self.window.menuBar().actions():
            menu = action.menu()
            if isinstance(menu, QMenu) and self.window.act_save in menu.actions():
                return menu
        return None

    def _install_menus(self) -> None:
        menu = self._file_menu()
        self.examples_menu = QMenu("Open &Example", self.window)
        self.examples_menu.setObjectName("examplesMenu")
        self.examples_menu.setToolTipsVisible(True)
        self.examples_menu.aboutToShow.connect(self.fill_examples_menu)
        self.export_menu = QMenu("E&xport", self.window)
        self.export_menu.setObjectName("exportMenu")
        self.export_menu.setToolTipsVisible(True)
        for action in (self.act_export_script, self.act_export_loop, self.act_export_summary):
            self.export_menu.addAction(action)
        self.export_menu.addSeparator()
        self.export_menu.addAction(self.act_export_csv)
        self.export_menu.addAction(self.act_export_json)
        self.export_menu.addSeparator()
        self.plots_menu = self.export_menu.addMenu("&Plot")
        self.plots_menu.setObjectName("exportPlotsMenu")
        self.plots_menu.aboutToShow.connect(self.fill_plots_menu)
        # The examples are listed when the menu opens (aboutToShow): reading and checking
        # every lesson file took 12 ms of the window's start.
        if menu is None:  # the window changed shape: still reachable from the menu bar
            extra = self.window.menuBar().addMenu("&Lessons")
            extra.addMenu(self.examples_menu)
            for action in (self.act_import, self.act_save_model):
                extra.addAction(action)
            extra.addMenu(self.export_menu)
            return
        actions = menu.actions()
        recent = self.window.recent_menu.menuAction()
        after_recent = actions[actions.index(recent) + 1] if recent in actions[:-1] else None
        menu.insertMenu(after_recent, self.examples_menu) if after_recent \
            else menu.addMenu(self.examples_menu)
        quit_action = self.window.act_quit
        menu.insertAction(quit_action, self.act_import)
        menu.insertAction(quit_action, self.act_save_model)
        menu.insertMenu(quit_action, self.export_menu)
        menu.insertSeparator(quit_action)

    @Slot()
    def fill_examples_menu(self) -> None:
        """One entry per lesson, named as the lesson names itself."""
        self.examples_menu.clear()
        lessons = list_examples()
        if not lessons:
            empty = self.examples_menu.addAction("No examples found")
            empty.setEnabled(False)
            return
        for lesson in lessons:
            action = self.examples_menu.addAction(lesson.name)
            action.setToolTip(lesson.summary)
            action.setData(str(lesson.path))
            action.triggered.connect(lambda _c=False, p=lesson.path: self.open_example(p))

    @Slot()
    def fill_plots_menu(self) -> None:
        """A PNG and an SVG entry for each plot the training view offers right now."""
        self.plots_menu.clear()
        plots = dict(self._plots_getter() or {})
        if not plots:
            empty = self.plots_menu.addAction("No plots yet: train the model first")
            empty.setEnabled(False)
            return
        for name in plots:
            for ext in ("png", "svg"):
                action = self.plots_menu.addAction(f"{name} as {ext.upper()}...")
                action.triggered.connect(lambda _c=False, n=name, e=ext: self.export_plot(n, e))

    # -- links to the training view ----------------------------------------------------------

    def connect_training(self, session: Callable[[], Any] | None = None,
                         plots: Callable[[], Mapping[str, Any]] | None = None,
                         findings: Callable[[], Sequence[Any]] | None = None) -> None:
        """How the training view tells the file side about its session and its plots.

        Args:
            session: returns the current `TrainingSession` (or None); used for Save
                Trained Model, the weights saved with the project, and the History exports.
            plots: returns the plots by name ("Loss", "Accuracy", "Decision boundary"),
                each a pyqtgraph PlotItem / PlotWidget or a QGraphicsScene.
            findings: returns the run's findings (`FindingEvent`s, active and resolved),
                which the History exports carry.
        """
        if session is not None:
            self._session_getter = session
        if plots is not None:
            self._plots_getter = plots
        if findings is not None:
            self._findings_getter = findings

    def session(self) -> Any:
        try:
            return self._session_getter()
        except Exception:  # noqa: BLE001 - a view being torn down must not break a save
            return None

    def weights_are_current(self) -> bool:
        """True when the pending weights belong to the model as it is now."""
        return self.pending_weights is not None and self.pending_weights.is_file() \
            and self.pending_model == self.controller.project.model

    def pending_weights_loader(self) -> Callable[[Any], str | None] | None:
        """`apply_pending_weights` while weights wait to be loaded, else None (the training
        panel asks this before a new session's first run)."""
        return self.apply_pending_weights if self.pending_weights is not None else None

    def apply_pending_weights(self, session: Any) -> str | None:
        """Loads the project's saved (or imported) trained weights into a new session.

        Call before the session's first run so that Continue goes on from where the saved
        project was. Returns a sentence for the status bar, or None when there was nothing
        to load. A file that does not fit (the model was edited) is reported, not fatal.
        """
        if self.pending_weights is None or session is self._weights_session:
            return None
        if not self.weights_are_current():
            return (f"The trained weights in {self.pending_weights.name} belong to the model "
                    "as it was saved; the layers have changed since, so training starts from "
                    "fresh weights.")
        try:
            session.load_weights(self.pending_weights)
        except Exception as exc:  # noqa: BLE001 - Keras says many things; one line for people
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            return (f"Expected {self.pending_weights.name} to hold weights for this model, "
                    f"got an error: {first}. Training starts from fresh weights; save the "
                    "project after training to replace the file.")
        self._weights_session = session
        return f"Loaded the trained weights from {self.pending_weights.name}: Continue goes " \
               "on from them."

    def _trained_session(self) -> Any:
        """The session whose model holds trained weights for the current stack, if any."""
        session = self.session()
        if session is None:
            return None
        project = getattr(session, "project", None)
        if project is not None and project.model != self.controller.project.model:
            return None
        if getattr(session, "epoch", 0) > 0 or session is self._weights_session:
            return session
        return None

    # -- opening, saving, new (called by the main window) ------------------------------------

    def project_opened(self, path: Path | None, saved_model: ModelSpec | None = None) -> None:
        """A project replaced the open one (Open, New, command line, recovery).

        Args:
            path: the project file, whose `.weights.h5` neighbour (if any) is kept pending.
            saved_model: the model those weights were saved with, when it differs from the
                open project (recovered work with unsaved edits); the open model otherwise.
        """
        self.lesson_panel.set_note("")
        self._weights_session = None
        self.pending_weights, self.pending_model = None, None
        if path is not None:
            beside = weights_path_for(path)
            if beside.is_file():
                self.pending_weights = beside
                self.pending_model = saved_model or self.controller.project.model
                self.window.statusBar().showMessage(
                    f"Trained weights found: {beside.name}. Continue goes on from them.", 6000)
                self.pendingWeightsChanged.emit()

    def project_saved(self, path: Path) -> bool:
        """Writes the trained weights beside the just-saved project; False if that failed."""
        target = weights_path_for(path)
        try:
            session = self._trained_session()
            if session is not None:
                _replace_atomically(lambda tmp: session.save_weights(tmp), target, ".weights.h5")
            elif self.weights_are_current() and self.pending_weights != target:
                source = self.pending_weights
                _replace_atomically(lambda tmp: shutil.copyfile(source, tmp), target,
                                    ".weights.h5")
            else:
                return True
        except Exception as exc:  # noqa: BLE001 - disk full, permissions, Keras: same for people
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0] or type(exc)
            self.window.show_error(
                "Trained weights not saved",
                f"The project was saved to {path}, but its trained weights could not be "
                f"written to {target}: {reason}.\nThe weights are still in memory: free some "
                "space or choose another folder with Save As, then save again.")
            return False
        self.pending_weights, self.pending_model = target, self.controller.project.model
        return True

    def closing(self) -> None:
        """The window closes after the unsaved-changes prompt: nothing is left to recover."""
        self.autosaver.discard()

    def shutdown(self) -> None:
        """The application ends: keep any unsaved work on disk, drop private files."""
        self.autosaver.shutdown()
        for claim in self._claims:
            claim.release()
        self._claims = []
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None

    # -- lessons -----------------------------------------------------------------------------

    def open_example(self, path: str | os.PathLike, confirm: bool = True) -> bool:
        """Opens a lesson as a new, unsaved project (Save asks where to keep a copy)."""
        with guarded(self.window, path, "Cannot open example"):
            if confirm and not self.window.confirm_discard():
                return False
            source = Path(path)
            try:
                lesson: tuple[Project, str] | None = load_example(source)
            except OutsidePathsError as exc:  # a lesson edited to log outside its folder
                chosen = consent(self.window, exc)
                lesson = prepare_lesson(chosen, source.parent) if chosen is not None else None
            if lesson is None:
                return False
            project, note = lesson
            preflight(project)
            self.controller.reset(project, None)
            self.project_opened(None)
            self.lesson_panel.set_note(note)
            self.window.table.select_layers([])
            QTimer.singleShot(0, self._make_room_for_lesson)
            self.window.statusBar().showMessage(f"Opened the lesson {project.name}", 5000)
            return True
        return False

    @Slot()
    def _make_room_for_lesson(self) -> None:
        """Moves the model/checks divider down by the banner's height, so the banner does
        not squeeze the layer table (the checks below are short for a ready lesson)."""
        splitter = self.window.center_splitter
        if splitter.count() != 2 or not self.lesson_panel.isVisible():
            return
        top, bottom = splitter.sizes()
        shift = min(self.lesson_panel.height(), max(0, bottom - 120))
        splitter.setSizes([top + shift, bottom - shift])

    # -- model files -------------------------------------------------------------------------

    @Slot()
    def import_model_dialog(self) -> None:
        if not self.window.confirm_discard():
            return
        start = str(self.controller.path.parent) if self.controller.path else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Import Keras model", start,
                                              MODEL_FILTER)
        if path:
            self.import_model(path, confirm=False)

    def _private_weights(self) -> Path:
        if self._private_dir is None or not self._private_dir.is_dir():
            self._private_dir = Path(tempfile.mkdtemp(prefix="layerlab-weights-"))
        fd, name = tempfile.mkstemp(prefix="imported-", suffix=".weights.h5",
                                    dir=self._private_dir)
        os.close(fd)
        return Path(name)

    def import_model(self, path: str | os.PathLike, confirm: bool = True) -> bool:
        """Opens a trained Sequential model as an editable, unsaved project with its weights.

        A refused or unreadable file is explained in a dialog; the open project, its
        trained weights and the file itself are left untouched. Never raises.
        """
        with guarded(self.window, path, "Model not opened"):
            if confirm and not self.window.confirm_discard():
                return False
            source = Path(path)
            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # Keras may load first
            try:
                return self._import_model(source)
            finally:
                QApplication.restoreOverrideCursor()
        self.window.statusBar().clearMessage()
        return False

    def _import_model(self, source: Path) -> bool:
        from ..core.modelfile import ModelFileError

        self.window.statusBar().showMessage(f"Checking {source.name}...")
        try:
            # The engine reads the file through the safe importer (Keras lives there) and
            # writes the trained weights; this process gets the checked spec as plain data.
            weights = self._private_weights()
            imported = self.window.training.call(
                "import_model", {"path": str(source), "weights": str(weights)}, timeout=300)
            compile_doc = imported["compile"]
            project = Project(name=self._model_name(imported["name"], source),
                              model=ModelSpec.from_json(imported["model"]),
                              compile=CompileSpec.from_json(compile_doc) if compile_doc
                              else CompileSpec())
            project = project_from_json(project_to_json(project))
        except ModelFileError as exc:
            self._refuse(source, exc.message)
            return False
        except ProjectError as exc:
            self._refuse(source, "the model is not a valid LayerLab project: "
                         + "; ".join(exc.problems))
            return False
        # Anything else goes to import_model's guard: the error dialog with its traceback.
        preflight(project)
        self.controller.reset(project, None)
        self.controller.mark_unsaved()
        self.project_opened(None)
        self.pending_weights, self.pending_model = weights, project.model
        self.pendingWeightsChanged.emit()
        self.window.table.select_layers([])
        notes = list(imported["notes"])
        if imported["compile"] is None:
            notes.append("The optimizer, loss and metrics are LayerLab's defaults: check them "
                         "in the Compile settings.")
        notes.append("Choose the data it was trained on in the Data settings, then Continue "
                     "goes on from the trained weights. Save to keep the project and weights.")
        self.window.statusBar().showMessage(f"Imported {source.name}", 6000)
        self.last_info = self._info("Model imported",
                                    f"{source.name} is open as an editable stack of "
                                    f"{len(project.model.layers)} layers with its trained "
                                    "weights.", "\n".join(f"\u2022 {n}" for n in notes))
        return True

    @staticmethod
    def _model_name(name: str, source: Path) -> str:
        if _PRINTABLE_NAME.match(name) and not _DEFAULT_MODEL_NAME.match(name):
            return name
        stem = source.name[: -len(source.suffix)] if source.suffix else source.name
        return stem if _PRINTABLE_NAME.match(stem) else "Imported model"

    def _refuse(self, source: Path, message: str) -> None:
        self.window.statusBar().clearMessage()
        text = message[:1].upper() + message[1:]
        box = self.window.show_error(
            "Model not opened",
            f"LayerLab did not open {source}:\n\n{text}\n\nThe open project is unchanged.")
        box.setTextFormat(Qt.TextFormat.PlainText)  # a file name is shown, never rendered

    def _info(self, title: str, text: str, details: str = "") -> QMessageBox:
        box = QMessageBox(QMessageBox.Icon.Information, title, text,
                          QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("infoDialog")
        box.setTextFormat(Qt.TextFormat.PlainText)
        if details:
            box.setInformativeText(details)
        box.open()
        return box

    @Slot()
    def save_trained_model(self, path: str | os.PathLike | None = None) -> bool:
        """Saves the trained model (architecture, weights, optimizer state) as `.keras`."""
        session = self._trained_session()
        if session is None and not self.weights_are_current():
            self.window.show_error(
                "No trained model",
                "Expected a trained model to save, got none: the model has not been trained "
                "since it was opened or changed. Train it (or open a project saved with its "
                "trained weights), then choose Save Trained Model again.")
            return False
        if path is None:
            name = self.controller.path.name[: -len(SUFFIX)] if self.controller.path \
                and self.controller.path.name.endswith(SUFFIX) else self.controller.project.name
            start = str((self.controller.path.parent if self.controller.path else Path.cwd())
                        / f"{name}.keras")
            chosen, _ = QFileDialog.getSaveFileName(self.window, "Save trained model", start,
                                                    "Keras models (*.keras)")
            if not chosen:
                return False
            path = chosen
        target = Path(path)
        if target.suffix.lower() != ".keras":
            target = target.with_name(target.name + ".keras")
        try:
            if session is not None:
                _replace_atomically(lambda tmp: session.save_model(tmp), target, ".keras")
            else:
                self._save_model_from_weights(target)
        except Exception as exc:  # noqa: BLE001 - disk, permissions, Keras
            reason = getattr(exc, "strerror", None) or str(exc).splitlines()[0] or type(exc)
            self.window.show_error("Model not saved",
                                   f"Expected to write {target}, got an error: {reason}. "
                                   "Choose another folder or free some space, then try again.")
            return False
        self.window.statusBar().showMessage(f"Saved the trained model to {target}", 5000)
        return True

    def _save_model_from_weights(self, target: Path) -> None:
        """No live session yet (a reopened project): build one just to write the file."""
        base = self.controller.path.parent if self.controller.path else None
        session = self.window.training.link.session(self.controller.project, base_dir=base,
                                                  device="cpu")
        try:
            session.load_weights(self.pending_weights)
            _replace_atomically(lambda tmp: session.save_model(tmp), target, ".keras")
        finally:
            session.close()

    # -- exports -----------------------------------------------------------------------------

    def ask_export_path(self, title: str, suffix: str, filter_text: str, tag: str = "",
                        parent: QWidget | None = None) -> Path | None:
        """Asks where to export, starting beside the project with its name, `tag` and
        `suffix` (added to the answer when missing); None when cancelled."""
        c = self.controller
        stem = c.path.name[: -len(SUFFIX)] if c.path and c.path.name.endswith(SUFFIX) \
            else re.sub(r"[^\w.\- ]+", "_", c.project.name).strip() or "project"
        folder = c.path.parent if c.path else Path.cwd()
        start = str(folder / f"{stem}{tag}{suffix}")
        chosen, _ = QFileDialog.getSaveFileName(parent or self.window, title, start, filter_text)
        if not chosen:
            return None
        out = Path(chosen)
        return out if out.name.lower().endswith(suffix) else out.with_name(out.name + suffix)

    def _export(self, what: str, write: Callable[[Path], Any], path: str | os.PathLike | None,
                title: str, suffix: str, filter_text: str, tag: str = "") -> bool:
        target = Path(path) if path is not None else self.ask_export_path(title, suffix,
                                                                             filter_text, tag)
        if target is None:
            return False
        try:
            write(target)
        except ExportError as exc:
            self.window.show_error(f"Cannot export the {what}", str(exc))
            return False
        except OSError as exc:
            self.window.show_error(f"Cannot export the {what}",
                                   f"Expected to write {target}, got an error: "
                                   f"{exc.strerror or exc}. Choose another folder.")
            return False
        except Exception as exc:  # noqa: BLE001 - the boundary: never a traceback in the UI
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.window.show_error(f"Cannot export the {what}",
                                   f"Expected to write {target}, got {type(exc).__name__}: "
                                   f"{first}. Nothing was written; please report this.")
            return False
        self.window.statusBar().showMessage(f"Exported the {what} to {target}", 5000)
        return True

    def _history(self) -> dict[str, list[float]]:
        session = self.session()
        history = getattr(session, "history", None) if session is not None else None
        if not history:
            raise ExportError("Expected a History with at least one epoch, got none: train "
                              "the model first, then export its History.")
        return dict(history)

    @Slot()
    def export_script(self, path: str | os.PathLike | None = None) -> bool:
        c = self.controller
        base = c.path.parent if c.path else None
        device = self.window.training.device_choice or "auto"
        return self._export("Python script",
                            lambda p: write_script(c.project, p, base, c.dataset, device), path,
                            "Export Python script", ".py", "Python scripts (*.py)")

    @Slot()
    def export_loop_script(self, path: str | os.PathLike | None = None) -> bool:
        c = self.controller
        base = c.path.parent if c.path else None
        return self._export("training loop script",
                            lambda p: write_script(c.project, p, base, c.dataset, loop=True),
                            path, "Export Python script with the training loop", ".py",
                            "Python scripts (*.py)", "-loop")

    @Slot()
    def export_summary(self, path: str | os.PathLike | None = None) -> bool:
        c = self.controller
        return self._export("summary",
                            lambda p: write_summary_text(c.summary, c.project.name, p), path,
                            "Export summary", ".txt", "Text files (*.txt)", "-summary")

    def _findings(self) -> list[Any]:
        """The run's findings, oldest first (none when the view cannot say)."""
        try:
            return list(self._findings_getter() or ())
        except Exception:  # noqa: BLE001 - a view being torn down must not break an export
            return []

    @Slot()
    def export_history_csv(self, path: str | os.PathLike | None = None) -> bool:
        findings = self._findings()
        what = "History and its findings" if findings else "History"
        return self._export(what, lambda p: write_history_csv(self._history(), p, findings),
                            path, "Export History as CSV", ".csv", "CSV files (*.csv)",
                            "-history")

    @Slot()
    def export_history_json(self, path: str | os.PathLike | None = None) -> bool:
        name = self.controller.project.name
        findings = self._findings()
        return self._export("History",
                            lambda p: write_history_json(self._history(), p, name, findings),
                            path, "Export History as JSON", ".json", "JSON files (*.json)",
                            "-history")

    def export_plot(self, name: str, ext: str, path: str | os.PathLike | None = None) -> bool:
        """Writes the training view's plot `name` as PNG or SVG."""
        def write(target: Path) -> None:
            plots = dict(self._plots_getter() or {})
            if name not in plots:
                raise ExportError(f"Expected a plot called {name!r}, got "
                                  f"{', '.join(plots) or 'no plots'}: train the model first.")
            write_plot(plots[name], target, f"{self.controller.project.name}: {name}")

        tag = "-" + re.sub(r"\W+", "-", name.lower()).strip("-")
        return self._export(f"{name} plot", write, path, f"Export {name} as {ext.upper()}",
                            f".{ext}", f"{ext.upper()} images (*.{ext})", tag)

    # -- drops -------------------------------------------------------------------------------

    def accept_drag(self, event: QDragEnterEvent | QDragMoveEvent) -> bool:
        """Accepts a drag that carries a project or model file (the window's drag handlers)."""
        if event.mimeData().hasUrls() and dropped_file(event.mimeData().urls()):
            event.acceptProposedAction()
            return True
        return False

    def accept_drop(self, event: QDropEvent) -> bool:
        """Opens a dropped project or model file, after the drop has returned."""
        try:
            path = dropped_file(event.mimeData().urls()) if event.mimeData().hasUrls() \
                else None
        except Exception:  # noqa: BLE001 - an odd URL is not a file to open
            path = None
        if path is None:
            return False
        event.acceptProposedAction()
        # After the drop returns: a dialog inside a drop handler blocks the source.
        QTimer.singleShot(0, lambda: self.open_dropped(path))
        return True

    def open_dropped(self, path: Path) -> bool:
        """Opens a dropped project (or imports a dropped model) after the usual prompt.

        Never raises (it runs from the event loop): failures end in a dialog."""
        with guarded(self.window, path):
            if not self.window.confirm_discard():
                return False
            if path.name.lower().endswith(MODEL_SUFFIXES):
                return self.import_model(path, confirm=False)
            return self.window.open_path(path)
        return False

    # -- autosave and recovery ---------------------------------------------------------------

    @Slot(str)
    def _on_autosave_failed(self, message: str) -> None:
        self.window.statusBar().showMessage(message, 15000)

    @Slot()
    def _after_first_show(self) -> None:
        QTimer.singleShot(0, self.offer_recovery)

    @Slot()
    def offer_recovery(self) -> QMessageBox | None:
        """Offers the newest unsaved work left by a window that ended without saving.

        Never raises (it runs from the event loop): a recovery file that fails to load in
        a way nobody foresaw is left on disk and reported in the error dialog."""
        if self.recovery_dialog is not None:
            return self.recovery_dialog
        folder = self.autosaver.folder
        with guarded(self.window, lambda: folder, "Cannot recover unsaved work"):
            return self._offer_recovery()
        return None

    def _offer_recovery(self) -> QMessageBox | None:
        errors: list[tuple[Path, Exception]] = []
        claims = claim_orphans(self.autosaver.folder, own=self.autosaver.file, errors=errors)
        if errors:
            file, exc = errors[0]
            show_unexpected(self.window, file, exc, "Cannot recover unsaved work")
        if not claims:
            return None
        chosen, rest = claims[0], claims[1:]
        for claim in rest:  # offered at the next launch; another window may take them
            claim.release()
        self._claims = [chosen]
        entry = chosen.entry
        box = QMessageBox(QMessageBox.Icon.Question, "Recover unsaved work",
                          f"LayerLab ended without saving {entry.describe()}.\n\n"
                          "Restore it?", QMessageBox.StandardButton.NoButton, self.window)
        box.setObjectName("recoveryDialog")
        box.setTextFormat(Qt.TextFormat.PlainText)  # the name comes from a file: never HTML
        restore = box.addButton("Restore", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Discard", QMessageBox.ButtonRole.DestructiveRole)
        restore.setObjectName("restoreButton")
        discard.setObjectName("discardButton")
        box.setDefaultButton(restore)
        more = f"\n\n{len(rest)} more unsaved project(s) will be offered next time." \
            if rest else ""
        box.setInformativeText(
            "Restore opens the unsaved copy in this window; save it to keep it. Discard "
            "deletes the copy. Trained weights are not part of the copy: train again, or "
            "reopen the saved project to use its weights." + more)
        box.buttonClicked.connect(lambda button: self._recovery_answer(chosen, button is restore))
        box.open()
        self.recovery_dialog = box
        return box

    def _recovery_answer(self, claim: OrphanClaim, restore: bool) -> bool:
        """Restores the claimed work (or discards it); True when it was restored.

        Never raises: a failure is reported and the recovery copy stays on disk, offered
        again at the next launch; so does Cancel on the outside-paths question."""
        keep = True
        with guarded(self.window, claim.entry.file, "Cannot recover unsaved work"):
            keep = restore and not self._restore(claim.entry)
        if keep:
            claim.release()
        else:
            claim.discard()
        self._claims = [c for c in self._claims if c is not claim]
        return restore and not keep

    def _restore(self, entry: RecoveryEntry) -> bool:
        """Opens the recovered project; False when the person cancelled."""
        project: Project | None = entry.project
        if entry.outside is not None:
            project = consent(self.window, entry.outside)
            if project is None:
                return False
        preflight(project)
        saved = None
        if entry.project_path is not None:
            try:  # the weights beside it belong to the saved model, not the edited one
                saved = load_project(entry.project_path).model
            except OutsidePathsError as exc:
                saved = exc.project.model
            except Exception:  # noqa: BLE001 - the saved file only tells which weights fit
                saved = None
        self.controller.reset(project, entry.project_path)
        self.controller.mark_unsaved()
        self.project_opened(entry.project_path, saved)
        if saved is None:
            self.pending_weights = self.pending_model = None
        self.window.table.select_layers([])
        self.window.statusBar().showMessage(
            f"Restored {project.name}: save it to keep it.", 8000)
        return True
