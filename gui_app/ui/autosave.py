"""Autosave and crash recovery: unsaved work survives a crash, a kill or a power cut.

Every window writes its unsaved project, a couple of seconds after each change, to its own
recovery file in the recovery folder (atomically, with `project.write_atomic`, so a kill in
the middle leaves the previous copy). The file is removed once the project is saved, or
when the person closes the window and chooses Discard. A file left behind therefore means
the process ended without either, and the next launch offers it back.

Which files are left behind is decided with a `QLockFile` beside each recovery file: the
running window holds it; Qt recognises a lock whose process is gone (killed, crashed) as
stale, so a second window never offers the first window's live work, and two windows
starting together never both take the same orphan.

The folder is `<app data>/recovery`, or `$LAYERLAB_SETTINGS_DIR/recovery` when the settings
are redirected (tests, benchmarks). `LAYERLAB_AUTOSAVE_MS` changes the delay (tests).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QLockFile, QObject, QStandardPaths, QTimer, Signal, Slot

from ..core.limits import MAX_PROJECT_BYTES, LimitError
from ..core.project import (
    OutsidePathsError,
    ProjectError,
    project_from_json,
    project_to_json,
    write_atomic,
)
from ..core.safeio import FileReadError, check_path_text, parse_json, read_regular, text_problems
from ..core.spec import Project
from .settings import SETTINGS_DIR_ENV

AUTOSAVE_DELAY_ENV = "LAYERLAB_AUTOSAVE_MS"
DEFAULT_DELAY_MS = 2000
RECOVERY_FORMAT = "layerlab-recovery"
RECOVERY_VERSION = 1
RECOVERY_SUFFIX = ".recovery.json"
MAX_RECOVERY_BYTES = MAX_PROJECT_BYTES
#: saved_at must lie between these (seconds since the epoch), else the file's time is used:
#: a made-up 10**24 would make the dialog's date fail.
_EARLIEST, _LATEST = 0.0, 32_503_680_000.0  # 1970 to 3000


def recovery_dir() -> Path:
    """The recovery folder: beside redirected settings, else in the per-user app data."""
    redirected = os.environ.get(SETTINGS_DIR_ENV)
    if redirected:
        return Path(redirected) / "recovery"
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not base:  # no home folder (a locked-down account): still somewhere writable
        import tempfile

        base = str(Path(tempfile.gettempdir()) / "LayerLab")
    return Path(base) / "recovery"


def autosave_delay_ms() -> int:
    """Milliseconds from a change to its recovery copy (`LAYERLAB_AUTOSAVE_MS`, else 2 s)."""
    text = os.environ.get(AUTOSAVE_DELAY_ENV, "")
    try:
        value = int(text)
    except ValueError:
        return DEFAULT_DELAY_MS
    return value if 0 <= value <= 60_000 else DEFAULT_DELAY_MS


@dataclass(frozen=True)
class RecoveryEntry:
    """One recovery file: the unsaved project and where it came from.

    Attributes:
        file: the recovery file itself.
        project: the unsaved project, validated like any project file.
        project_path: the project file it was opened from or saved to, None if never saved.
        saved_at: when the copy was written (seconds since the epoch).
        outside: set when the project writes outside its folder to paths not confirmed on
            this computer (`project` is then `outside.project`); Restore asks first.
    """

    file: Path
    project: Project
    project_path: Path | None
    saved_at: float
    outside: OutsidePathsError | None = None

    @property
    def lock_path(self) -> Path:
        return lock_path_for(self.file)

    def describe(self) -> str:
        """One sentence for the restore dialog."""
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.saved_at))
        where = f" ({self.project_path})" if self.project_path else " (never saved)"
        return f"\u201c{self.project.name}\u201d{where}, last changed {when}"


def lock_path_for(recovery_file: Path) -> Path:
    return recovery_file.with_name(recovery_file.name[: -len(RECOVERY_SUFFIX)] + ".lock")


def recovery_document(project: Project, project_path: Path | None,
                      saved_at: float | None = None) -> dict[str, Any]:
    """The JSON written to a recovery file: the project document plus where it belongs."""
    return {
        "format": RECOVERY_FORMAT,
        "version": RECOVERY_VERSION,
        "saved_at": time.time() if saved_at is None else saved_at,
        "pid": os.getpid(),
        "project_path": str(project_path) if project_path is not None else None,
        "project": project_to_json(project),
    }


def write_recovery(target: Path, project: Project, project_path: Path | None) -> None:
    """Writes the recovery copy atomically (the old copy stays if this is interrupted)."""
    text = json.dumps(recovery_document(project, project_path), indent=1) + "\n"
    write_atomic(target, text.encode("utf-8"))


def read_recovery(path: Path) -> RecoveryEntry:
    """Reads and validates a recovery file; raises ProjectError naming what is wrong.

    Read like a project file (`safeio`): a regular file of at most MAX_RECOVERY_BYTES (a
    FIFO or a device is refused at once), JSON within `parse_json`'s limits, valid text.
    """
    try:
        raw = read_regular(path, MAX_RECOVERY_BYTES, "recovery file")
    except FileReadError as exc:
        raise ProjectError([str(exc)], path) from None
    try:
        doc = parse_json(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProjectError([f"the recovery file is damaged ({exc})"], path) from None
    except (LimitError, RecursionError, ValueError) as exc:
        raise ProjectError([str(exc)], path) from None
    problems = text_problems(doc)
    if problems:
        raise ProjectError(problems, path)
    if not isinstance(doc, dict) or doc.get("format") != RECOVERY_FORMAT:
        raise ProjectError([f"expected a {RECOVERY_FORMAT!r} document"], path)
    outside = None
    try:
        project = project_from_json(doc.get("project"), path)
    except OutsidePathsError as exc:  # still offered: Restore asks about the paths
        project, outside = exc.project, exc
    where = doc.get("project_path")
    project_path = None
    if isinstance(where, str) and where:
        try:
            project_path = check_path_text(where)
        except FileReadError:
            project_path = None  # no file system has that name: treat it as never saved
    saved_at = doc.get("saved_at")
    if not isinstance(saved_at, (int, float)) or isinstance(saved_at, bool) \
            or not _EARLIEST <= saved_at <= _LATEST:
        try:
            saved_at = os.stat(path).st_mtime
        except OSError:
            saved_at = time.time()
    return RecoveryEntry(path, project, project_path, float(saved_at), outside)


class OrphanClaim:
    """A recovery file left by a process that is gone, locked by us while it is offered."""

    def __init__(self, entry: RecoveryEntry, lock: QLockFile) -> None:
        self.entry = entry
        self._lock = lock

    def discard(self) -> None:
        """Deletes the recovery copy (restored into this window, or the person said so)."""
        try:
            self.entry.file.unlink(missing_ok=True)
        except OSError:
            pass
        self.release()

    def release(self) -> None:
        """Keeps the file for the next launch and lets other windows claim it."""
        if self._lock.isLocked():
            self._lock.unlock()


def claim_orphans(folder: Path, own: Path | None = None,
                  errors: list[tuple[Path, Exception]] | None = None) -> list[OrphanClaim]:
    """The recovery files in `folder` whose windows are gone, newest first, each locked.

    A file that cannot be read is left where it is (it is not offered, and not deleted:
    a person can still open it in a text editor). A file whose reading failed in a way
    nobody foresaw is skipped the same way and, when `errors` is a list, added to it with
    its exception (else the exception is raised, with every lock taken here released).
    """
    if not folder.is_dir():
        return []
    claims = []
    for file in folder.glob(f"*{RECOVERY_SUFFIX}"):
        if own is not None and file == own:
            continue
        lock = QLockFile(str(lock_path_for(file)))
        lock.setStaleLockTime(0)  # only a dead owner makes a lock stale, never its age
        if not lock.tryLock(0):
            continue  # a live window owns it
        try:
            entry = read_recovery(file)
        except ProjectError:
            lock.unlock()
            continue
        except Exception as exc:  # noqa: BLE001 - reported by the caller, never a lock leak
            lock.unlock()
            if errors is None:
                for claim in claims:
                    claim.release()
                raise
            errors.append((file, exc))
            continue
        claims.append(OrphanClaim(entry, lock))
    for stale in folder.glob("*.lock"):  # locks of killed windows that had nothing unsaved
        if not stale.with_name(stale.name[:-len(".lock")] + RECOVERY_SUFFIX).exists():
            lock = QLockFile(str(stale))
            lock.setStaleLockTime(0)
            if lock.tryLock(0):
                lock.unlock()  # removes the file
    claims.sort(key=lambda claim: claim.entry.saved_at, reverse=True)
    return claims


class Autosaver(QObject):
    """Keeps one window's recovery copy up to date with its unsaved project.

    Signals:
        written(str): a recovery copy was written (its path).
        failed(str): writing failed; the message says what and how to fix it.
    """

    written = Signal(str)
    failed = Signal(str)

    def __init__(self, controller: Any, parent: QObject | None = None,
                 folder: Path | None = None, delay_ms: int | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.folder = folder if folder is not None else recovery_dir()
        stamp = f"{os.getpid()}-{int(time.time() * 1000)}"
        self.file = self.folder / f"session-{stamp}{RECOVERY_SUFFIX}"
        self._lock = QLockFile(str(lock_path_for(self.file)))
        self._lock.setStaleLockTime(0)
        self._locked = False
        self._stopped = False
        self._reported_failure = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(autosave_delay_ms() if delay_ms is None else delay_ms)
        self.timer.timeout.connect(self.write_now)
        controller.projectChanged.connect(self._on_change)
        controller.fileChanged.connect(self._on_change)

    @Slot()
    def _on_change(self, *_args: Any) -> None:
        """Schedules a write; a burst of edits is written at most `delay` after its first."""
        if self._stopped:
            return
        if self.controller.is_clean:
            self.timer.stop()
            self._remove_file()
        elif not self.timer.isActive():
            self.timer.start()

    def _ensure_lock(self) -> bool:
        if not self._locked:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._locked = self._lock.tryLock(0)
        return self._locked

    @Slot()
    def write_now(self) -> bool:
        """Writes the recovery copy now (or removes it when nothing is unsaved)."""
        if self._stopped:
            return False
        if self.controller.is_clean:
            self._remove_file()
            return True
        try:
            if not self._ensure_lock():
                raise OSError(f"cannot lock {lock_path_for(self.file)}")
            write_recovery(self.file, self.controller.project, self.controller.path)
        except OSError as exc:
            if not self._reported_failure:  # once: a full disk must not flood the person
                self._reported_failure = True
                self.failed.emit(
                    f"Autosave expected to write a recovery copy to {self.folder}, got an "
                    f"error: {getattr(exc, 'strerror', None) or exc}. Unsaved changes are not "
                    "protected against a crash: save the project, or free space there.")
            return False
        self._reported_failure = False
        self.written.emit(str(self.file))
        return True

    def _remove_file(self) -> None:
        try:
            self.file.unlink(missing_ok=True)
        except OSError:
            pass

    def discard(self) -> None:
        """The person discarded the unsaved work (or saved it): no recovery copy remains."""
        self._stopped = True
        self.timer.stop()
        self._remove_file()
        self._unlock()

    def shutdown(self) -> None:
        """The window goes away without a decision: the latest unsaved work stays on disk.

        Used when the application quits without the close prompt (a session ending); the
        next launch then offers it back.
        """
        if self._stopped:
            return
        self.timer.stop()
        self.write_now()
        self._stopped = True
        self._unlock()

    def _unlock(self) -> None:
        if self._locked:
            self._lock.unlock()
            self._locked = False


__all__ = [
    "AUTOSAVE_DELAY_ENV", "Autosaver", "OrphanClaim", "RecoveryEntry", "autosave_delay_ms",
    "claim_orphans", "read_recovery", "recovery_dir", "recovery_document", "write_recovery",
]
