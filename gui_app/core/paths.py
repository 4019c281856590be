"""Where a project may write: under its own folder, or where its owner said it may.

A shared project once overwrote `~/notes.txt` with a CSV log and replaced a user's
`~/important_model.keras` during `train`, through callback paths (CSVLogger `filename`,
ModelCheckpoint `filepath`, TensorBoard `log_dir`). So every path a project writes to is
resolved relative to the project's folder, and one that is absolute, starts with `~`, or
climbs out with `..` is refused, unless the person confirmed it.

The confirmation is part of the project (its `allow_outside` list), but a file cannot grant
it to itself: the list is saved with an HMAC made with a key that never leaves this computer
(`approval.key` in LayerLab's configuration folder). A project mailed by a stranger carries
a list that does not verify here, so it is ignored and the person is asked again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sys
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from .safeio import FileReadError, check_path_text

#: The callback arguments that name a file or folder to write.
WRITE_ARGS = {"ModelCheckpoint": "filepath", "TensorBoard": "log_dir", "CSVLogger": "filename"}

_KEY_FILE = "approval.key"


class PathError(ValueError):
    """A path a project may not write to; the message says why and what to do."""


@dataclass(frozen=True)
class WritePath:
    """One path a project writes to: its JSON path, its text, and why it leaves the folder."""

    where: str
    value: str
    outside: str | None  # None when it stays inside the project's folder


def leaves_folder(value: str) -> str | None:
    """Why a relative-path text would write outside the project's folder, or None.

    Only the text is looked at (no file system): absolute paths (POSIX or Windows, drive
    letters and UNC included), `~` and `..` that climbs above the folder.
    """
    try:
        check_path_text(value) if not value.startswith("~") else None
    except FileReadError as exc:
        return str(exc)
    if value.startswith("~"):
        return "it starts with ~ (a home folder)"
    win = PureWindowsPath(value)
    if PurePosixPath(value).is_absolute() or win.drive or win.root:
        return "it is an absolute path"
    depth = 0
    for part in value.replace("\\", "/").split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return "it climbs out of the project's folder with '..'"
        elif part not in ("", "."):
            depth += 1
    return None


def write_paths(fit: Mapping[str, Any] | None) -> list[WritePath]:
    """Every path the fit section's callbacks write to."""
    found: list[WritePath] = []
    callbacks = (fit or {}).get("callbacks") or []
    if not isinstance(callbacks, list):
        return found
    for i, item in enumerate(callbacks):
        if not isinstance(item, Mapping):
            continue
        key = WRITE_ARGS.get(item.get("type"))  # type: ignore[arg-type]
        value = item.get(key) if key else None
        if isinstance(value, str):
            found.append(WritePath(f"fit.callbacks[{i}].{key}", value, leaves_folder(value)))
    return found


def unapproved(fit: Mapping[str, Any] | None, allowed: Collection[str]) -> list[WritePath]:
    """The paths that leave the project's folder and were not confirmed."""
    return [w for w in write_paths(fit) if w.outside and w.value not in allowed]


def describe(paths: Iterable[WritePath]) -> list[str]:
    """One message per path, with its JSON path, for ProjectError and the checks."""
    return [f"{w.where}: {w.value[:80]!r} would write outside the project's folder ({w.outside}). "
            "Use a path inside the folder, such as 'logs/run.csv', or confirm it in the window "
            "(`layerlab train --allow-outside` on the command line)" for w in paths]


def resolve_write(value: str, base_dir: Path | None, allowed: Collection[str]) -> Path:
    """The file or folder a callback writes to; raises PathError when it may not.

    Relative paths are taken from the project's folder, and must stay in it after links
    are followed (a link inside the folder that points out counts as outside).
    """
    reason = leaves_folder(value)
    confirmed = value in allowed
    if reason and not confirmed:
        raise PathError(describe([WritePath("path", value, reason)])[0])
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    path = Path(os.path.expanduser(value)) if confirmed else base / value
    if not path.is_absolute():
        path = base / path
    if not confirmed:
        real_base = Path(os.path.realpath(base))
        real = Path(os.path.realpath(path))
        if real != real_base and real_base not in real.parents:
            raise PathError(f"{value[:80]!r} leads outside the project's folder through a link "
                            f"(to {real}); use a path inside the folder")
    return path


# -- approvals that a file cannot forge --------------------------------------------------------

def config_dir() -> Path:
    """LayerLab's configuration folder (LAYERLAB_CONFIG_DIR overrides it, for tests)."""
    override = os.environ.get("LAYERLAB_CONFIG_DIR")
    if override:
        return Path(override)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "LayerLab"


def data_dir() -> Path:
    """LayerLab's folder for data it makes itself (the shapes lesson's images): one per
    user, never the installation's folder, which may be read-only and is shared.
    LAYERLAB_DATA_DIR overrides it (tests)."""
    override = os.environ.get("LAYERLAB_DATA_DIR")
    if override:
        return Path(override)
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
    elif sys.platform == "darwin":
        base = os.path.join(home, "Library", "Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME") or os.path.join(home, ".local", "share")
    return Path(base) / "LayerLab"


def _key(create: bool) -> bytes | None:
    path = config_dir() / _KEY_FILE
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    if not create:
        return None
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
    except OSError:
        return None  # no place to keep a key: approvals last only for this session
    return key


def _mac(key: bytes, paths: Iterable[str]) -> str:
    message = json.dumps(sorted(set(paths)), ensure_ascii=True).encode("ascii")
    return hmac.new(key, b"layerlab-allow-outside\0" + message, hashlib.sha256).hexdigest()


def sign_approval(paths: Iterable[str]) -> str:
    """The approval stamp saved with a project's `allow_outside` list ("" without a key)."""
    key = _key(create=True)
    return _mac(key, paths) if key else ""


def verify_approval(paths: Iterable[str], stamp: Any) -> bool:
    """True when this computer's key made `stamp` for exactly these paths."""
    key = _key(create=False)
    if key is None or not isinstance(stamp, str):
        return False
    return hmac.compare_digest(_mac(key, paths), stamp)
