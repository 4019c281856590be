"""The pre-flight check for Qt's X11 plugin (gui_app/ui/platform_check.py) and the .deb
Depends derived from the same soname -> package table (packaging/build_linux.py,
packaging/test_package.py).

`ldd` is injected with canned output, except in the tests marked as running the real one
on this machine's PySide6 files."""

from __future__ import annotations

import importlib.util
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gui_app.ui import platform_check as pc

ROOT = Path(__file__).resolve().parents[2]
X11 = {"DISPLAY": ":0"}

#: What ldd prints for libqxcb.so and libQt6XcbQpa.so.6 on a Debian 12 without
#: libxcb-icccm4 and libxcb-keysyms1 (cut down).
LDD_MISSING = """\
/opt/x/PySide6/Qt/plugins/platforms/libqxcb.so:
\tlinux-vdso.so.1 (0x00007ffd5a1e5000)
\tlibQt6XcbQpa.so.6 => /opt/x/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f9fc123d000)
\tlibGL.so.1 => /lib/x86_64-linux-gnu/libGL.so.1 (0x00007f9fc11ad000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f9fc1153000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f9fbf41e000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f9fc130d000)
/opt/x/PySide6/Qt/lib/libQt6XcbQpa.so.6:
\tlinux-vdso.so.1 (0x00007ffd5a1e5000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f16f4535000)
"""
LDD_COMPLETE = LDD_MISSING.replace(
    "libxcb-icccm.so.4 => not found",
    "libxcb-icccm.so.4 => /lib/x86_64-linux-gnu/libxcb-icccm.so.4 (0x00007f16f4a00000)",
).replace(
    "libxcb-keysyms.so.1 => not found",
    "libxcb-keysyms.so.1 => /lib/x86_64-linux-gnu/libxcb-keysyms.so.1 (0x00007f16f4a10000)",
)
FILES = [Path("/opt/x/PySide6/Qt/plugins/platforms/libqxcb.so"),
         Path("/opt/x/PySide6/Qt/lib/libQt6XcbQpa.so.6")]


class FakeLdd:
    def __init__(self, output: str | None) -> None:
        self.output = output
        self.calls: list[list[str]] = []

    def __call__(self, paths):  # noqa: ANN001, ANN204
        self.calls.append(list(paths))
        return self.output


def check(env: dict[str, str], output: str | None, platform: str = "linux"):  # noqa: ANN201
    ldd, stream = FakeLdd(output), io.StringIO()
    code = pc.check_platform(env=env, ldd=ldd, files=FILES, stream=stream, platform=platform)
    return code, stream.getvalue(), ldd


# -- parsing ldd --------------------------------------------------------------------------


def test_parse_ldd_merges_files_and_keeps_not_found() -> None:
    linked = pc.parse_ldd(LDD_MISSING)
    assert linked["libxcb-icccm.so.4"] is None and linked["libxcb-keysyms.so.1"] is None
    assert linked["libGL.so.1"] == "/lib/x86_64-linux-gnu/libGL.so.1"
    assert linked["ld-linux-x86-64.so.2"] == "/lib64/ld-linux-x86-64.so.2"
    assert "linux-vdso.so.1" not in linked  # in the kernel, no file
    assert not any(name.endswith(":") for name in linked)  # the per-file headers
    assert pc.missing_libraries(LDD_MISSING) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert pc.missing_libraries(LDD_COMPLETE) == []


def test_parse_ldd_ignores_what_is_not_a_library_line() -> None:
    output = "\tnot a dynamic executable\n\tstatically linked\n\n/some/file:\n"
    assert pc.parse_ldd(output) == {}


def test_packages_come_from_the_table_or_debians_naming_rule() -> None:
    assert pc.debian_package("libxcb-icccm.so.4") == "libxcb-icccm4"
    assert pc.debian_package("libxkbcommon-x11.so.0") == "libxkbcommon-x11-0"
    assert pc.debian_package("libz.so.1") == "zlib1g"  # where the rule would be wrong
    assert pc.debian_package("libxcb-frob.so.3") == "libxcb-frob3"  # not in the table
    assert pc.debian_package("libfrob-2.so.0") == "libfrob-2-0"
    assert pc.debian_package("libxcb-frob.so.3", guess=False) is None
    assert pc.packages_for(["libglib-2.0.so.0", "libgthread-2.0.so.0"]) == ["libglib2.0-0"]


def test_the_table_has_the_x11_helpers_under_their_debian_names() -> None:
    expected = {
        "libxcb-icccm.so.4": "libxcb-icccm4", "libxcb-keysyms.so.1": "libxcb-keysyms1",
        "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-image.so.0": "libxcb-image0",
        "libxcb-render-util.so.0": "libxcb-render-util0",
        "libxcb-xinerama.so.0": "libxcb-xinerama0", "libxcb-xkb.so.1": "libxcb-xkb1",
        "libxkbcommon-x11.so.0": "libxkbcommon-x11-0", "libxkbcommon.so.0": "libxkbcommon0",
        "libxcb-randr.so.0": "libxcb-randr0", "libxcb-shape.so.0": "libxcb-shape0",
        "libxcb-sync.so.1": "libxcb-sync1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
        "libxcb-shm.so.0": "libxcb-shm0", "libxcb-util.so.1": "libxcb-util1",
        "libX11-xcb.so.1": "libx11-xcb1", "libEGL.so.1": "libegl1", "libGL.so.1": "libgl1",
        "libfontconfig.so.1": "libfontconfig1", "libdbus-1.so.3": "libdbus-1-3",
    }
    for soname, package in expected.items():
        assert pc.DEBIAN_PACKAGES[soname] == package
    for package in pc.DEBIAN_PACKAGES.values():  # Debian package names: lower case
        assert package == package.lower() and " " not in package


# -- the check ----------------------------------------------------------------------------


def test_missing_libraries_print_one_apt_line_and_exit_2() -> None:
    code, text, ldd = check(X11, LDD_MISSING)
    assert code == 2 == pc.EXIT_CODE
    assert len(ldd.calls) == 1 and ldd.calls[0] == [str(p) for p in FILES]  # one ldd call
    assert "libxcb-icccm.so.4" in text and "libxcb-keysyms.so.1" in text
    assert "xcb" in text and "not installed" in text
    lines = [line.strip() for line in text.splitlines() if "apt-get" in line]
    assert lines == ["sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1"]
    assert "no display" not in text


def test_nothing_missing_goes_on_silently() -> None:
    code, text, ldd = check(X11, LDD_COMPLETE)
    assert code is None and text == "" and len(ldd.calls) == 1


@pytest.mark.parametrize("env", [
    {"DISPLAY": ":0", "QT_QPA_PLATFORM": "offscreen"},
    {"QT_QPA_PLATFORM": "offscreen"},
    {"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland"},
    {"DISPLAY": ":0", "QT_QPA_PLATFORM": "wayland;xcb"},
    {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"},  # Qt tries Wayland first
    {"DISPLAY": ":0", "XDG_SESSION_TYPE": "wayland"},
])
def test_no_check_when_qt_will_not_use_xcb(env: dict[str, str]) -> None:
    code, text, ldd = check(env, LDD_MISSING)
    assert code is None and text == "" and ldd.calls == []


def test_an_explicit_xcb_platform_is_checked() -> None:
    for platform in ("xcb", "xcb:foo=1"):
        code, text, _ = check({"DISPLAY": ":1", "QT_QPA_PLATFORM": platform}, LDD_MISSING)
        assert code == 2 and "libxcb-icccm4" in text


def test_not_on_linux_nothing_is_checked() -> None:
    code, text, ldd = check(X11, LDD_MISSING, platform="darwin")
    assert code is None and text == "" and ldd.calls == []


def test_no_display_says_so_and_suggests_offscreen() -> None:
    code, text, _ = check({}, LDD_COMPLETE)
    assert code == 2
    assert "no display" in text and "QT_QPA_PLATFORM=offscreen" in text
    assert "apt-get" not in text
    # ... and with libraries missing as well, both
    code, text, _ = check({"QT_QPA_PLATFORM": "xcb"}, LDD_MISSING)
    assert code == 2 and "no display" in text
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in text
    code, text, _ = check({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"}, LDD_COMPLETE)
    assert code == 2 and "DISPLAY is not set" in text and "neither" not in text


def test_failures_of_the_check_itself_let_the_app_go_on() -> None:
    assert check(X11, None)[0] is None  # no ldd on this machine
    assert check(X11, "")[0] is None
    assert check(X11, "garbage\n\x00 => ???")[0] is None

    def broken(paths):  # noqa: ANN001, ANN202
        raise RuntimeError("ldd exploded")

    assert pc.check_platform(env=X11, ldd=broken, files=FILES, stream=io.StringIO(),
                             platform="linux") is None
    assert pc.check_platform(env=X11, ldd=FakeLdd(LDD_MISSING), files=[],
                             stream=io.StringIO(), platform="linux") is None  # no plugin


def test_run_app_stops_before_qt_when_the_check_says_so(monkeypatch) -> None:
    from gui_app.ui import app

    def no_window(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("run_app went on to make the window")

    monkeypatch.setattr(pc, "check_platform", lambda: 2)
    monkeypatch.setattr(app, "make_window", no_window)
    assert app.run_app([]) == 2


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a fake ldd on the PATH")
def test_the_layerlab_command_exits_2_with_the_message(tmp_path: Path) -> None:
    """End to end: `python -m gui_app` with a fake ldd that reports the libraries missing
    exits 2 with the apt line, before Qt could abort."""
    if not pc.xcb_files():
        pytest.skip("this PySide6 has no xcb plugin to check")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "ldd"
    (tmp_path / "ldd.txt").write_text(LDD_MISSING)
    fake.write_text(f"#!/bin/sh\ncat '{tmp_path / 'ldd.txt'}'\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items()
           if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE")}
    env.update(DISPLAY=":97", PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               LAYERLAB_NO_KERAS="1")
    done = subprocess.run([sys.executable, "-m", "gui_app"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "sudo apt-get install -y libxcb-icccm4 libxcb-keysyms1" in done.stderr
    assert "could not load the Qt platform plugin" not in done.stderr


# -- the real ldd on this machine ----------------------------------------------------------


def test_the_real_check_on_this_machines_plugin_does_not_raise() -> None:
    stream = io.StringIO()
    code = pc.check_platform(env=X11, stream=stream)  # the real ldd, the real files
    assert code in (None, 2)
    text = stream.getvalue()
    if code == 2:  # this machine lacks some: the message names them and the fix
        assert "sudo apt-get install -y " in text
    else:
        assert text == ""


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_the_table_knows_every_x11_library_ldd_lists_here() -> None:
    files = pc.xcb_files()
    if not files:
        pytest.skip("this PySide6 has no xcb plugin")
    linked = pc.parse_ldd(pc.run_ldd([str(p) for p in files]) or "")
    x11 = [name for name in linked
           if name.startswith(("libxcb", "libxkb", "libX11", "libXau", "libXdmcp"))]
    assert x11, "expected ldd to list the xcb libraries"
    assert [name for name in x11 if name not in pc.DEBIAN_PACKAGES] == []


# -- packaging: the .deb's Depends from the same table ------------------------------------


def _load(name: str):  # noqa: ANN202
    spec = importlib.util.spec_from_file_location(f"layerlab_{name}",
                                                  ROOT / "packaging" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def build_linux():  # noqa: ANN201
    return _load("build_linux")


@pytest.fixture(scope="module")
def package_test():  # noqa: ANN201
    return _load("test_package")


def _fake_bundle(tmp_path: Path) -> tuple[Path, str]:
    """A bundle that ships libxcb-icccm and Qt; the output ldd gives for its plugin."""
    bundle = tmp_path / "layerlab"
    internal = bundle / "_internal"
    plugin = internal / "PySide6/Qt/plugins/platforms/libqxcb.so"
    qpa = internal / "PySide6/Qt/lib/libQt6XcbQpa.so.6"
    shipped = internal / "libxcb-icccm.so.4"
    for path in (plugin, qpa, shipped):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    output = (
        f"{plugin}:\n"
        "\tlinux-vdso.so.1 (0x00007ffd5a1e5000)\n"
        f"\tlibQt6XcbQpa.so.6 => {plugin.parent}/../../lib/libQt6XcbQpa.so.6 (0x1)\n"
        f"\tlibxcb-icccm.so.4 => {shipped} (0x2)\n"
        "\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x3)\n"
        "\tlibxcb-keysyms.so.1 => not found\n"
        "\tlibfrob.so.3 => /usr/lib/x86_64-linux-gnu/libfrob.so.3 (0x4)\n"
        "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x5)\n"
        "\t/lib64/ld-linux-x86-64.so.2 (0x6)\n"
    )
    return bundle, output


def test_depends_lists_what_the_bundle_does_not_ship(tmp_path: Path, build_linux) -> None:
    bundle, output = _fake_bundle(tmp_path)
    assert {p.name for p in build_linux.xcb_plugin_files(bundle)} == {
        "libqxcb.so", "libQt6XcbQpa.so.6"}
    system = build_linux.system_libraries(pc.parse_ldd(output), bundle)
    assert set(system) == {"libxcb-cursor.so.0", "libxcb-keysyms.so.1", "libfrob.so.3",
                           "libc.so.6", "ld-linux-x86-64.so.2"}  # not Qt, not icccm
    owners = {"/usr/lib/x86_64-linux-gnu/libfrob.so.3": "libfrob3"}
    depends, unknown = build_linux.depends_for(system, owner=owners.get)
    assert unknown == []
    entries = depends.split(", ")
    assert entries[:4] == ["libc6 (>= 2.28)", "libgl1", "libegl1", "libxcb1"]
    assert set(entries[4:]) == {"libxcb-cursor0", "libxcb-keysyms1", "libfrob3"}
    assert "libxcb-icccm4" not in depends  # shipped in the bundle
    assert depends.count("libc6") == 1
    # a library no table and no dpkg knows stops the build
    _, unknown = build_linux.depends_for(system, owner=lambda path: None)
    assert unknown == ["libfrob.so.3"]


def test_bundle_depends_runs_ldd_once_on_the_bundled_plugin(tmp_path: Path, build_linux,
                                                            monkeypatch) -> None:
    bundle, output = _fake_bundle(tmp_path)
    output = output.replace("libfrob.so.3", "libxcb-shape.so.0")
    calls = []
    monkeypatch.setattr(build_linux, "bundle_ldd",
                        lambda b, files: calls.append((b, files)) or output)
    depends = build_linux.bundle_depends(bundle)
    assert len(calls) == 1 and calls[0][0] == bundle
    assert "libxcb-keysyms1" in depends and "libxcb-shape0" in depends
    with pytest.raises(SystemExit, match="xcb plugin"):
        build_linux.bundle_depends(tmp_path / "empty")


def test_package_test_finds_libraries_the_depends_misses(tmp_path: Path, build_linux,
                                                         package_test) -> None:
    bundle, output = _fake_bundle(tmp_path)
    system = build_linux.system_libraries(pc.parse_ldd(output), bundle)
    owners = {"/usr/lib/x86_64-linux-gnu/libfrob.so.3": "libfrob3"}
    depends, _ = build_linux.depends_for(system, owner=owners.get)
    assert package_test.uncovered(system, depends, owner=owners.get) == []
    short = depends.replace(", libxcb-keysyms1", "")
    assert package_test.uncovered(system, short, owner=owners.get) == [
        "libxcb-keysyms.so.1 (libxcb-keysyms1)"]
    assert package_test.depends_names("libc6 (>= 2.28), libgcc-s1 | libgcc1") == {
        "libc6", "libgcc-s1", "libgcc1"}


@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_qt_libraries_count_as_shipped_with_the_real_ldd(build_linux) -> None:
    """This venv's PySide6 folder taken as the bundle: Qt's own libraries resolve inside
    it (its RUNPATH), the X11 ones outside."""
    files = pc.xcb_files()
    if not files:
        pytest.skip("this PySide6 has no xcb plugin")
    pyside = files[0].parents[3] if files[0].name == "libqxcb.so" else files[0].parents[2]
    linked = pc.parse_ldd(build_linux.bundle_ldd(pyside, files))
    system = build_linux.system_libraries(linked, pyside)
    assert "libQt6Core.so.6" in linked and "libQt6Core.so.6" not in system
    assert "libxcb.so.1" in system
