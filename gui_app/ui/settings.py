"""Where the window keeps what it remembers between runs: geometry, dock layout, recent
files, and the text size (View > Larger Text).

Tests and benchmarks must never write to the user's real settings, so the location can be
redirected with the LAYERLAB_SETTINGS_DIR environment variable (an INI file in that folder).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

SETTINGS_DIR_ENV = "LAYERLAB_SETTINGS_DIR"
MAX_RECENT = 8
TEXT_SCALE_KEY = "textScale"


def app_settings() -> QSettings:
    """The settings store: an INI file under $LAYERLAB_SETTINGS_DIR, else Qt's native place."""
    folder = os.environ.get(SETTINGS_DIR_ENV)
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        return QSettings(str(Path(folder) / "layerlab.ini"), QSettings.Format.IniFormat)
    return QSettings("LayerLab", "LayerLab")


def recent_files(settings: QSettings) -> list[str]:
    """Recent project paths, newest first, without the ones that no longer exist."""
    value = settings.value("recentFiles", [])
    if isinstance(value, str):  # QSettings returns a bare string for a one-item list
        value = [value]
    return [str(p) for p in (value or []) if p and Path(str(p)).exists()]


def add_recent_file(settings: QSettings, path: str | os.PathLike) -> list[str]:
    """Puts `path` first in the recent list and returns the new list."""
    text = str(Path(path).resolve())
    items = [text] + [p for p in recent_files(settings) if p != text]
    items = items[:MAX_RECENT]
    settings.setValue("recentFiles", items)
    settings.sync()
    return items


def text_scale_setting(settings: QSettings) -> float:
    """The remembered text size factor (1.0 when none was kept or the value is damaged;
    text_scale.clamp_scale keeps it within 1x..2x)."""
    value = settings.value(TEXT_SCALE_KEY, 1.0)
    try:
        return float(value)  # an INI file gives the number back as a string
    except (TypeError, ValueError):
        return 1.0


def set_text_scale_setting(settings: QSettings, factor: float) -> None:
    """Remembers the text size factor at once: a crash must not lose a teacher's choice."""
    settings.setValue(TEXT_SCALE_KEY, float(factor))
    settings.sync()
