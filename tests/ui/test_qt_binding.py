"""The Qt binding must not corrupt Python's reference counts.

PySide6 6.12.0 on Python 3.11 drops a reference to None on every call of a Qt method that
returns nothing (setText, setValue, setFormat, ...). None is not immortal before Python
3.12, so after a few thousand such calls, minutes of normal use of the window, the
interpreter aborts with "Fatal Python error: none_dealloc". PySide6 6.11.3 is fine. This
test fails on a broken binding so that it is never shipped: pin PySide6-Essentials < 6.12.
"""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QLabel


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_void_qt_calls_keep_none_alive(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for i in range(500):
        label.setText(str(i))
    lost = before - sys.getrefcount(None)
    assert lost < 50, (
        f"expected Qt calls to leave None's reference count alone, got {lost} references "
        f"lost in 500 calls of QLabel.setText (PySide6 {__import__('PySide6').__version__}). "
        "The app would abort after a few thousand calls: install PySide6-Essentials < 6.12.")
