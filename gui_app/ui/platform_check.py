"""Before the window: can Qt's X11 platform plugin (xcb) load on this machine?

Qt's xcb plugin links a dozen small X11 helper libraries that a fresh Debian or Ubuntu
machine may lack (libxcb-cursor0 on Ubuntu, libxcb-icccm4 and libxcb-keysyms1 on a minimal
Debian). Without them Qt prints "could not load the Qt platform plugin xcb" and aborts the
process. `check_platform` runs before the QApplication is made: when Qt will pick xcb it
runs `ldd` once on the plugin and on Qt's xcb integration library, and if a library is
missing it prints which ones and the one `apt-get install` line that adds them, and
returns exit code 2. With no display at all it says so and points at
`QT_QPA_PLATFORM=offscreen`. Anything that goes wrong in the check itself is ignored: the
app goes on as it would have without it.

`DEBIAN_PACKAGES` (library soname -> Debian/Ubuntu package) is also what
packaging/build_linux.py derives the .deb's Depends from, and what packaging/test_package.py
checks the bundle against. No Qt import here: packaging imports this module.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

#: Exit code when the window cannot open (missing libraries, no display).
EXIT_CODE = 2

#: Every library that `ldd` lists for PySide6's xcb plugin and libQt6XcbQpa (the whole
#: closure, outside Qt's own libraries) -> the Debian/Ubuntu package that ships it. The
#: t64-renamed packages of Ubuntu 24.04 (libglib2.0-0t64, libpng16-16t64) provide these
#: names on 64-bit architectures, and apt picks them for `apt-get install`.
DEBIAN_PACKAGES: dict[str, str] = {
    # X11 helper libraries of the xcb plugin (the ones a fresh install may lack)
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb.so.1": "libxcb1",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libXau.so.6": "libxau6",
    "libXdmcp.so.6": "libxdmcp6",
    # graphics
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libGLX.so.0": "libglx0",
    "libGLdispatch.so.0": "libglvnd0",
    "libOpenGL.so.0": "libopengl0",
    # fonts, D-Bus, GLib and what they link
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libpng16.so.16": "libpng16-16",
    "libbrotlidec.so.1": "libbrotli1",
    "libbrotlicommon.so.1": "libbrotli1",
    "libexpat.so.1": "libexpat1",
    "libdbus-1.so.3": "libdbus-1-3",
    "libsystemd.so.0": "libsystemd0",
    "libcap.so.2": "libcap2",
    "libgcrypt.so.20": "libgcrypt20",
    "libgpg-error.so.0": "libgpg-error0",
    "liblzma.so.5": "liblzma5",
    "liblz4.so.1": "liblz4-1",
    "libzstd.so.1": "libzstd1",
    "libz.so.1": "zlib1g",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libpcre2-8.so.0": "libpcre2-8-0",
    "libbsd.so.0": "libbsd0",
    "libmd.so.0": "libmd0",
    "libffi.so.8": "libffi8",
    # the C and C++ runtimes
    "libstdc++.so.6": "libstdc++6",
    "libgcc_s.so.1": "libgcc-s1",
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libutil.so.1": "libc6",
    "ld-linux-x86-64.so.2": "libc6",
    "ld-linux-aarch64.so.1": "libc6",
    "ld-linux-armhf.so.3": "libc6",
}

#: The plugin and Qt's xcb integration library, relative to PySide6's folder.
XCB_FILES = ("Qt/plugins/platforms/libqxcb.so", "Qt/lib/libQt6XcbQpa.so.6")

#: `ldd`'s lines: "name => /path (0x...)", "name => not found", "/path/name (0x...)".
_LINKED = re.compile(r"^\s+(\S+)(?:\s+=>\s+(.*?))?(?:\s+\(0x[0-9a-fA-F]+\))?\s*$")

LddRunner = Callable[[Sequence[str]], "str | None"]


def parse_ldd(output: str) -> dict[str, str | None]:
    """The libraries in `ldd` output: soname -> resolved path, or None where "not found".

    Several files in one output (with "file:" headers) are merged; a library not found for
    any of them counts as not found. The kernel's vDSO has no file and is left out.
    """
    linked: dict[str, str | None] = {}
    for line in output.splitlines():
        match = _LINKED.match(line)
        if match is None:
            continue  # "file:" headers, "statically linked", blank lines
        name, target = match.group(1), match.group(2)
        if target is None:  # "/lib64/ld-linux-x86-64.so.2 (0x...)" or the vDSO
            if "/" not in name:
                continue  # linux-vdso.so.1, linux-gate.so.1: in the kernel
            path: str | None = name
            name = name.rsplit("/", 1)[1]
        elif target.strip() == "not found":
            path = None
        else:
            path = target.strip() or None
        if name in linked and linked[name] is None:
            continue  # not found somewhere stays not found
        if path is None or name not in linked:
            linked[name] = path
    return linked


def missing_libraries(output: str) -> list[str]:
    """The sonames `ldd` could not find, in the order it listed them."""
    return [name for name, path in parse_ldd(output).items() if path is None]


def debian_package(soname: str, guess: bool = True) -> str | None:
    """The Debian/Ubuntu package that ships `soname`: from the table; otherwise, with
    `guess`, by Debian's naming rule (libfoo.so.1 -> libfoo1, libfoo-2.so.0 -> libfoo-2-0)."""
    known = DEBIAN_PACKAGES.get(soname)
    if known is not None or not guess:
        return known
    match = re.match(r"^(.+?)\.so\.(\d+)", soname)
    if match is None:
        return None
    stem, major = match.group(1).lower(), match.group(2)
    return f"{stem}-{major}" if stem[-1].isdigit() else f"{stem}{major}"


def packages_for(sonames: Iterable[str]) -> list[str]:
    """The packages for `sonames`, each once, in order (guessed where the table has none)."""
    out: list[str] = []
    for name in sonames:
        package = debian_package(name)
        if package is not None and package not in out:
            out.append(package)
    return out


def apt_line(packages: Iterable[str]) -> str:
    return "sudo apt-get install -y " + " ".join(packages)


def will_use_xcb(env: Mapping[str, str]) -> bool | None:
    """True when Qt will pick its xcb plugin, None when there is no display for it (and no
    Wayland one either), False otherwise (another platform, or Wayland may be used)."""
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    if platform and platform.split(":", 1)[0].strip() != "xcb":
        return False  # offscreen, wayland, "wayland;xcb", vnc ...: not our concern
    if not platform and (env.get("WAYLAND_DISPLAY")
                         or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"):
        return False  # Qt tries Wayland first there; xcb may never be loaded
    return True if env.get("DISPLAY") else None


def xcb_files() -> list[Path]:
    """PySide6's xcb plugin and libQt6XcbQpa, those that exist (in a venv or the bundle)."""
    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return []
    found = []
    for root in spec.submodule_search_locations:
        for relative in XCB_FILES:
            path = Path(root) / relative
            if path.is_file():
                found.append(path)
        if found:
            break
    return found


def run_ldd(paths: Sequence[str]) -> str | None:
    """`ldd paths...`'s standard output; None when there is no ldd."""
    try:
        done = subprocess.run(["ldd", *paths], capture_output=True, text=True, timeout=10,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout  # exit 1 when one file is not dynamic: the rest is still listed


def message(missing: Sequence[str], display: bool = True,
            no_display: str = "neither DISPLAY nor WAYLAND_DISPLAY is set") -> str:
    """What is printed: the display problem (`no_display` says why) and/or the missing
    libraries with the one line that installs them."""
    lines = []
    if not display:
        lines += [
            f"LayerLab cannot open its window: there is no display ({no_display}).",
            "Start it from a desktop session, or for headless use (a server, CI, tests) "
            "run it with Qt's offscreen platform:",
            "    QT_QPA_PLATFORM=offscreen layerlab ...",
        ]
    if missing:
        packages = packages_for(missing)
        lead = ("LayerLab cannot open its window: " if display else
                "Also, ")
        lines.append(lead + "Qt's X11 platform plugin (xcb) needs system libraries that "
                     "are not installed:")
        lines += [f"    {name}  (Debian/Ubuntu package {debian_package(name)})"
                  for name in missing]
        lines += ["On Debian or Ubuntu, install them with:", f"    {apt_line(packages)}",
                  "(On other distributions, install the packages that provide these files.)"]
    return "\n".join(lines) + "\n"


def check_platform(env: Mapping[str, str] | None = None, ldd: LddRunner = run_ldd,
                   files: Sequence[Path] | None = None, stream: TextIO | None = None,
                   platform: str | None = None) -> int | None:
    """`EXIT_CODE` after printing why the window cannot open; None to go on.

    Runs before the QApplication is made. Only on Linux, and only when Qt will use xcb
    (see `will_use_xcb`): one `ldd` call on `files` (PySide6's xcb plugin and
    libQt6XcbQpa by default). A failure of the check itself returns None.
    """
    try:
        if not (platform or sys.platform).startswith("linux"):
            return None
        env = os.environ if env is None else env
        xcb = will_use_xcb(env)
        if xcb is False:
            return None
        paths = xcb_files() if files is None else list(files)
        output = ldd([str(p) for p in paths]) if paths else None
        missing = missing_libraries(output) if output else []
        if xcb and not missing:
            return None
        why = ("DISPLAY is not set, and QT_QPA_PLATFORM asks for X11"
               if env.get("WAYLAND_DISPLAY") else "neither DISPLAY nor WAYLAND_DISPLAY is set")
        (sys.stderr if stream is None else stream).write(
            message(missing, display=bool(xcb), no_display=why))
        return EXIT_CODE
    except Exception:  # noqa: BLE001 - the check must never stop a start that would work
        return None
