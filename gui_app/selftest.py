"""`layerlab --self-test`: proves that an installed LayerLab works, end to end, in ~15 s.

A packaged app fails in ways a unit test never sees: a Qt plugin left out of the bundle, a
TensorFlow module that PyInstaller did not collect, a resource folder in the wrong place.
So the self-test drives the real program the way a person would, through the real window:

1. the main window opens (offscreen when there is no display) on the default project;
2. Keras loads in the engine process, as it does for a person, and the data loads;
3. the window's own Train action trains the model for two epochs
   (`TrainingPanel.train`, the path the Train button takes);
4. the loss and metric plots hold two epochs of points, and the decision-boundary view
   received at least one image;
5. the window's own process has not imported Keras or TensorFlow (they live in the engine);
6. the project is saved through the window (`MainWindow.save_to`) into a temporary
   folder, reloaded with `core.project.load_project`, compared with what the window holds,
   and opened again in the window.

It prints one line and exits 0 when all of it worked, or prints the step that failed and
why and exits 1. Settings, recent files and autosave go to a temporary folder, so running
it never touches the person's own (`LAYERLAB_SETTINGS_DIR`). Run it from a checkout
(`python -m gui_app --self-test`), an installed copy or the bundle
(`/opt/layerlab/layerlab --self-test`).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .resources import examples_dir, resources_dir

EXIT_PASSED, EXIT_FAILED = 0, 1
#: Epochs the self-test trains: two give a loss that moved and a curve with two points.
EPOCHS = 2
#: Seconds each step may take at most. Keras on a cold disk (a first start after
#: installing) takes the longest: TensorFlow's shared library is over 700 MB.
TIMEOUTS = {"window": 30.0, "keras": 180.0, "data": 60.0, "train": 180.0, "views": 30.0}


class SelfTestFailure(Exception):
    """One step of the self-test failed; the message says which and why."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


def _has_display() -> bool:
    """Whether a windowing system is there to show a real window on.

    Only Linux and the BSDs can lack one (a server, CI, an SSH session); Windows and macOS
    always have a desktop when a person can run LayerLab at all.
    """
    if sys.platform.startswith(("win", "darwin")):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def prepare_environment(settings_dir: str | os.PathLike) -> None:
    """Environment the self-test needs, set before Qt or TensorFlow is imported.

    Values the caller set explicitly win: `QT_QPA_PLATFORM=xcb layerlab --self-test`
    checks the real X11 plugin on a desktop.
    """
    if not _has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up chatter
    os.environ["LAYERLAB_SETTINGS_DIR"] = str(settings_dir)
    os.environ.pop("LAYERLAB_EXIT_AFTER_SHOWN", None)
    os.environ.pop("LAYERLAB_NO_KERAS", None)


def wait_until(app: Any, done: Callable[[], bool], timeout: float, step: str,
               what: str, failed: Callable[[], str | None] | None = None) -> float:
    """Runs the Qt event loop until `done()` is true; returns the seconds it took.

    Raises:
        SelfTestFailure: when `failed()` returns a reason, or after `timeout` seconds.
    """
    from PySide6.QtCore import QEventLoop

    start = time.perf_counter()
    while not done():
        reason = failed() if failed is not None else None
        if reason:
            raise SelfTestFailure(step, reason)
        if time.perf_counter() - start > timeout:
            raise SelfTestFailure(step, f"expected {what} within {timeout:.0f} s; it did not "
                                        "happen")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return time.perf_counter() - start


class SelfTest:
    """The steps, in order, sharing the application, the window and what they found."""

    def __init__(self, workdir: Path, log: Callable[[str], None]) -> None:
        self.workdir = workdir
        self.log = log
        self.app: Any = None
        self.window: Any = None
        self.losses: list[float] = []
        self.device = ""
        self.findings: list[str] = []

    # -- steps -------------------------------------------------------------------------------

    def open_window(self) -> None:
        from PySide6.QtCore import qInstallMessageHandler
        from PySide6.QtWidgets import QApplication

        from .core.spec import default_project
        from .ui.app import set_app_icon
        from .ui.main_window import MainWindow

        qInstallMessageHandler(_quiet_qt_messages)
        self.app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else
                                                             "layerlab"])
        self.app.setApplicationName("LayerLab")
        self.app.setOrganizationName("LayerLab")
        set_app_icon(self.app)  # as run_app does: the bundle must carry the icon
        if self.app.windowIcon().isNull():
            raise SelfTestFailure("resources", "expected the app icon at "
                                  f"{resources_dir() / 'icons' / 'layerlab.svg'}; it is missing "
                                  "or Qt cannot read SVG (the qsvg plug-in)")
        shown: list[bool] = []
        window = MainWindow(default_project(), load_keras=True)
        window.firstShown.connect(lambda: shown.append(True))
        self.window = window
        window.show()
        wait_until(self.app, lambda: bool(shown), TIMEOUTS["window"], "window",
                   "the main window to be shown")
        if not window.isVisible():
            raise SelfTestFailure("window", "the main window was created but is not visible")
        self.findings.append(f"window ({self.app.platformName()})")

    def check_lessons(self) -> None:
        """The example lessons ship with the app and every one of them is a valid project."""
        from .core.project import ProjectError, load_project

        lessons = sorted(examples_dir().glob("*.layerlab.json"))
        if not lessons:
            raise SelfTestFailure("resources", f"expected the example lessons in "
                                  f"{examples_dir()}; found none")
        for path in lessons:
            try:
                load_project(path)
            except ProjectError as exc:
                raise SelfTestFailure("resources", f"lesson {path.name} does not load: "
                                      f"{exc.report()}") from None
        self.log(f"{len(lessons)} lessons in {examples_dir()}")

    def load_keras(self) -> None:
        window = self.window
        label = window.keras_label

        def failed() -> str | None:
            text = label.text()
            if "could not" in text.lower():
                return f"{text}: {label.toolTip()}"
            return None

        seconds = wait_until(self.app, lambda: window.keras_ready, TIMEOUTS["keras"], "keras",
                             "Keras and TensorFlow to load in the background", failed)
        self.log(f"Keras {window.keras_version} loaded in {seconds:.1f} s")
        picker = window.device_picker  # the device list is informative; training does not
        try:                           # need it
            wait_until(self.app, lambda: picker.report is not None, 30.0, "devices",
                       "the device list")
            self.log(f"devices: {picker.report.headline()}")
        except SelfTestFailure as exc:
            self.log(f"devices: not listed ({exc.reason})")

    def check_processes(self) -> None:
        """Keras trained in the engine process; the window's process never imported it."""
        heavy = sorted(m for m in ("tensorflow", "keras", "jax", "torch") if m in sys.modules)
        if heavy:
            raise SelfTestFailure("processes", f"the window's process imported {', '.join(heavy)}"
                                  "; it must leave Keras to the engine process")
        pid = self.window.engine_link.pid
        self.log(f"Keras runs in the engine process (pid {pid}); the window's process "
                 f"(pid {os.getpid()}) has no Keras or TensorFlow")
        self.findings.append("Keras in its own process")

    def load_data(self) -> None:
        controller = self.window.controller

        def failed() -> str | None:
            if controller.data_error:
                return f"the default data could not be loaded: {controller.data_error[0]}"
            return None

        wait_until(self.app, lambda: controller.dataset is not None and
                   not controller.data_loading, TIMEOUTS["data"], "data",
                   "the default data set (circle) to load", failed)

    def train(self) -> None:
        window = self.window
        panel = window.training_panel
        window.controller.set_fit({"epochs": EPOCHS}, "Self-test: two epochs")
        # The Train action is enabled only when nothing blocks training; say why if not.
        reason = panel.blocked_reason()
        if reason:
            raise SelfTestFailure("train", f"the window refuses to train: {reason}")
        ended: list[Any] = []
        panel.runEnded.connect(ended.append)
        if not panel.train():
            raise SelfTestFailure("train", f"Train did not start: {panel.message_text}")
        wait_until(self.app, lambda: bool(ended), TIMEOUTS["train"], "train",
                   f"{EPOCHS} epochs of training to finish")
        from .core.training import Failed, Finished

        event = ended[0]
        if isinstance(event, Failed):
            raise SelfTestFailure("train", f"training failed: {event.message}")
        if not isinstance(event, Finished) or event.reason != "completed":
            raise SelfTestFailure("train", f"expected a completed run, got "
                                  f"{getattr(event, 'reason', event)!r}: "
                                  f"{getattr(event, 'message', '')}")
        losses = [float(x) for x in event.history.get("loss", [])]
        if len(losses) != EPOCHS:
            raise SelfTestFailure("train", f"expected {EPOCHS} epochs of loss, got {losses}")
        if not all(v == v and v < 1e6 for v in losses):  # NaN != NaN
            raise SelfTestFailure("train", f"expected finite losses, got {losses}")
        self.losses = losses
        self.device = panel.device or "unknown device"
        self.findings.append(f"{EPOCHS} epochs (loss {losses[0]:.2f} -> {losses[-1]:.2f})")

    def check_views(self) -> None:
        panel = self.window.training_panel

        def plots_ready() -> str | None:
            plots = panel.plots
            if plots is None:
                return "the plots were never created"
            lengths = plots.curve_lengths("loss")
            if lengths.get("train") != EPOCHS or lengths.get("val") != EPOCHS:
                return (f"expected {EPOCHS} training and {EPOCHS} validation points on the "
                        f"loss plot, got {lengths or 'no loss plot'}")
            accuracy = plots.curve_lengths("accuracy")
            if accuracy.get("train") != EPOCHS:
                return (f"expected {EPOCHS} points on the accuracy plot, got "
                        f"{accuracy or 'no accuracy plot'}")
            return None

        def boundary_ready() -> str | None:
            boundary = panel.boundary
            if boundary is None:
                return "the boundary view was never created"
            image = getattr(boundary.image, "image", None)
            if boundary.images_shown < 1 or image is None:
                return "expected the boundary view to show an image; it shows none"
            if min(image.shape[:2]) < 2:
                return f"expected a boundary image of at least 2 x 2, got {image.shape}"
            return None

        # The last events reach the views at the bridge's next delivery (25 a second).
        problems: dict[str, str | None] = {}

        def settled() -> bool:
            problems["plots"], problems["boundary"] = plots_ready(), boundary_ready()
            return not any(problems.values())

        try:
            wait_until(self.app, settled, TIMEOUTS["views"], "views", "plots and boundary data")
        except SelfTestFailure:
            step = "plots" if problems.get("plots") else "boundary"
            raise SelfTestFailure(step, str(problems[step])) from None
        shape = panel.boundary.image.image.shape
        self.findings.append("plots")
        self.findings.append("boundary")
        self.log(f"loss plot: {panel.plots.curve_lengths('loss')}; boundary image "
                 f"{shape[1]} x {shape[0]}")

    def save_and_reopen(self) -> None:
        from .core.project import load_project, project_to_json

        window = self.window
        held = window.controller.project
        path = self.workdir / "self-test.layerlab.json"
        if not window.save_to(path):
            dialog = window.last_dialog
            raise SelfTestFailure("save", dialog.text() if dialog is not None
                                  else f"could not save {path}")
        if not path.is_file() or path.stat().st_size == 0:
            raise SelfTestFailure("save", f"expected {path} to exist and hold the project")
        loaded = load_project(path)
        if loaded != held or project_to_json(loaded) != project_to_json(held):
            raise SelfTestFailure("reopen", f"the reloaded project differs from the saved one: "
                                  f"{_first_difference(project_to_json(held), project_to_json(loaded))}")
        if loaded.fit.get("epochs") != EPOCHS:
            raise SelfTestFailure("reopen", f"expected the saved project to keep epochs = "
                                  f"{EPOCHS}, got {loaded.fit.get('epochs')!r}")
        if not window.open_path(path):
            raise SelfTestFailure("reopen", "the window could not open the saved project")
        if window.controller.project != held:
            raise SelfTestFailure("reopen", "the window shows a different project after "
                                  "opening the saved file")
        self.findings.append("save/reopen")

    def close(self) -> None:
        """Stops the training worker and the loaders; never raises (used after a failure)."""
        window = self.window
        if window is None:
            return
        try:
            window.controller.undo_stack.setClean()  # nothing to ask about on close
            window.shutdown()
            window.hide()
            window.deleteLater()
            if self.app is not None:
                self.app.processEvents()
        except Exception as exc:  # noqa: BLE001 - the verdict is already made
            self.log(f"(closing the window raised {type(exc).__name__}: {exc})")


def _quiet_qt_messages(_kind: Any, _context: Any, message: str) -> None:
    """Qt's messages on stderr, less the offscreen plug-in's notes that it cannot do what
    only a real window manager does (they say nothing about LayerLab)."""
    if "does not support propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def _first_difference(a: Any, b: Any, where: str = "") -> str:
    """Where two JSON values first differ, as a JSON path (for the failure message)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                return _first_difference(a.get(key), b.get(key), f"{where}.{key}")
    elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b)):
            if x != y:
                return _first_difference(x, y, f"{where}[{i}]")
    return f"{where.lstrip('.') or 'the document'}: saved {a!r}, read back {b!r}"


def run_self_test(args: Sequence[str] = (), out: Callable[[str], None] = print) -> int:
    """Runs every step and prints the verdict; returns the exit code (0 passed, 1 failed).

    Args:
        args: `--verbose` prints each step's details as it goes.
        out: where the lines go (stdout).
    """
    verbose = "--verbose" in args or "-v" in args
    unknown = [a for a in args if a not in ("--verbose", "-v")]
    if unknown:
        out(f"layerlab --self-test: expected no arguments or --verbose, got {' '.join(unknown)}")
        return 2
    start = time.perf_counter()

    def log(line: str) -> None:
        if verbose:
            out(f"  [{time.perf_counter() - start:5.1f} s] {line}")

    with tempfile.TemporaryDirectory(prefix="layerlab-selftest-") as tmp:
        workdir = Path(tmp)
        prepare_environment(workdir / "settings")
        test = SelfTest(workdir, log)
        steps = (("window", test.open_window), ("resources", test.check_lessons),
                 ("keras", test.load_keras),
                 ("data", test.load_data), ("train", test.train),
                 ("views", test.check_views), ("processes", test.check_processes),
                 ("save", test.save_and_reopen))
        try:
            for name, step in steps:
                log(f"{name}...")
                step()
        except SelfTestFailure as exc:
            test.close()
            passed = ", ".join(test.findings) or "nothing"
            out(f"LayerLab self-test FAILED at {exc.step}: {exc.reason} "
                f"(passed before it: {passed}; {time.perf_counter() - start:.1f} s)")
            return EXIT_FAILED
        except Exception as exc:  # noqa: BLE001 - an unexpected error is a failure too
            test.close()
            import traceback

            out(f"LayerLab self-test FAILED at {name}: unexpected {type(exc).__name__}: "
                f"{exc}")
            if verbose:
                out(traceback.format_exc())
            return EXIT_FAILED
        test.close()
    seconds = time.perf_counter() - start
    out(f"LayerLab self-test passed: {', '.join(test.findings)} in {seconds:.1f} s on "
        f"{test.device}")
    return EXIT_PASSED


def main(argv: Sequence[str] | None = None) -> int:
    return run_self_test(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
