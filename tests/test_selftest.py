"""`layerlab --self-test`: the whole program, end to end, in a subprocess as a person runs it.

The subprocess run trains two epochs of the default project through the window (about
10 s on two cores; CI allows it well under a minute). The failure paths are checked in
process with a step made to fail, so they need neither Qt nor Keras.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui_app import selftest
from gui_app.selftest import SelfTest, SelfTestFailure, run_self_test

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def keep_environment(monkeypatch):
    """In-process runs must not leave the self-test's environment to the other tests."""
    monkeypatch.setattr(selftest, "prepare_environment", lambda folder: None)


@pytest.mark.slow
def test_self_test_passes_from_the_source_checkout(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path), TF_CPP_MIN_LOG_LEVEL="3",
               CUDA_VISIBLE_DEVICES="")
    env.pop("LAYERLAB_SETTINGS_DIR", None)
    done = subprocess.run([sys.executable, "-m", "gui_app", "--self-test"], cwd=tmp_path,
                          env=dict(env, PYTHONPATH=str(ROOT)), capture_output=True,
                          text=True, timeout=180)
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-3000:]}"
    assert len(lines) == 1, lines  # one line, as promised
    report = lines[0]
    assert report.startswith("LayerLab self-test passed: window")
    for part in ("2 epochs (loss ", "plots", "boundary", "save/reopen", " s on "):
        assert part in report
    # It used a temporary settings folder: nothing was written to the person's own.
    assert not (tmp_path / ".config" / "LayerLab").exists()


def test_a_failing_step_is_named_with_its_reason_and_exits_1(monkeypatch, keep_environment):
    def fail(self: SelfTest) -> None:
        raise SelfTestFailure("window", "expected the main window to be shown within 30 s")

    monkeypatch.setattr(SelfTest, "open_window", fail)
    lines: list[str] = []
    assert run_self_test([], out=lines.append) == selftest.EXIT_FAILED
    assert len(lines) == 1
    assert lines[0].startswith("LayerLab self-test FAILED at window: expected the main "
                               "window to be shown within 30 s")
    assert "passed before it: nothing" in lines[0]


def test_an_unexpected_error_is_a_failure_not_a_traceback(monkeypatch, keep_environment):
    monkeypatch.setattr(SelfTest, "open_window", lambda self: None)
    monkeypatch.setattr(SelfTest, "check_lessons",
                        lambda self: (_ for _ in ()).throw(KeyError("icons")))
    lines: list[str] = []
    assert run_self_test([], out=lines.append) == selftest.EXIT_FAILED
    assert lines == ["LayerLab self-test FAILED at resources: unexpected KeyError: 'icons'"]


def test_unknown_arguments_are_refused():
    lines: list[str] = []
    assert run_self_test(["--bogus"], out=lines.append) == 2
    assert "expected no arguments or --verbose" in lines[0]


def test_environment_is_offscreen_without_a_display_and_keeps_settings_apart(monkeypatch,
                                                                           tmp_path):
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY", "LAYERLAB_EXIT_AFTER_SHOWN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LAYERLAB_EXIT_AFTER_SHOWN", "1")
    monkeypatch.setattr(sys, "platform", "linux")
    selftest.prepare_environment(tmp_path)
    assert os.environ["QT_QPA_PLATFORM"] == "offscreen"
    assert os.environ["LAYERLAB_SETTINGS_DIR"] == str(tmp_path)
    assert "LAYERLAB_EXIT_AFTER_SHOWN" not in os.environ  # it would quit the window early


def test_a_chosen_platform_is_kept(monkeypatch, tmp_path):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.delenv("DISPLAY", raising=False)
    selftest.prepare_environment(tmp_path)
    assert os.environ["QT_QPA_PLATFORM"] == "xcb"


def test_first_difference_names_the_json_path():
    a = {"fit": {"epochs": 2, "batch_size": 32}, "layers": [{"units": 8}]}
    b = {"fit": {"epochs": 2, "batch_size": 32}, "layers": [{"units": 9}]}
    assert selftest._first_difference(a, b) == "layers[0].units: saved 8, read back 9"
