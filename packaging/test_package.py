"""`make package-test`: installs the built packages into scratch folders and runs them.

    build/bundle-venv/bin/python packaging/test_package.py [--runs 5]

What a person installing LayerLab depends on, checked on the real artefacts in dist/:

1. The .deb's metadata and file list: the bundle under /opt/layerlab, the launcher, the
   desktop entry (opens `application/x-layerlab-project` with `layerlab %f`), the MIME
   type (glob `*.layerlab.json`), the icons, and postinst/postrm that parse as sh; and
   `ldd` on the bundled Qt xcb plugin: every library it loads is either shipped in the
   bundle or provided by a package in the .deb's Depends (a fresh Debian/Ubuntu lacks
   some of Qt's X11 helper libraries, and Qt aborts without them).
2. `dpkg -x` into a temporary root, then that root's `usr/bin/layerlab --self-test`: the
   launcher finds its bundle, and the bundle opens the window, trains two epochs, draws
   the plots and the boundary, and saves and reopens a project.
3. The bundle's start-up: launch to window shown (`LAYERLAB_EXIT_AFTER_SHOWN=1`), the
   median of `--runs` warm starts, against the 2 s goal.
4. The .tar.gz unpacked into another temporary folder, and its `layerlab --self-test`.

The environment is scrubbed of this checkout (no PYTHONPATH, a fresh HOME), so the
bundle cannot lean on the source tree or the build venv. Exits 1 on the first failure.
"""

from __future__ import annotations

import argparse
import configparser
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "packaging") not in sys.path:
    sys.path.insert(0, str(ROOT / "packaging"))
from build_linux import (  # noqa: E402 - the same soname -> package mapping as the build
    bundle_ldd,
    dpkg_owner,
    package_of,
    parse_ldd,
    system_libraries,
    xcb_plugin_files,
)

DIST = ROOT / "dist"
MIME_TYPE = "application/x-layerlab-project"
LAUNCH_GOAL_S = 2.0
REQUIRED = (
    "./opt/layerlab/layerlab",
    "./usr/bin/layerlab",
    "./usr/share/applications/layerlab.desktop",
    "./usr/share/mime/packages/layerlab.xml",
    "./usr/share/icons/hicolor/scalable/apps/layerlab.svg",
    "./usr/share/icons/hicolor/256x256/apps/layerlab.png",
)


class PackageTestFailure(Exception):
    """A check failed; the message says which and what was found."""


def clean_env(home: Path) -> dict[str, str]:
    """The environment a person's desktop gives the app: nothing from this checkout."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "LAYERLAB_", "QT_"))}
    env.update(HOME=str(home), TF_CPP_MIN_LOG_LEVEL="3", XDG_CONFIG_HOME=str(home / ".config"),
               XDG_DATA_HOME=str(home / ".local/share"))
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if ".venv" not in p and "bundle-venv" not in p)
    return env


def report() -> dict:
    path = DIST / "package-report.json"
    if not path.exists():
        raise PackageTestFailure("expected dist/package-report.json from `make package`; "
                                 "run `make package` first")
    return json.loads(path.read_text())


def check_deb(deb: Path) -> dict[str, str]:
    info = subprocess.run(["dpkg-deb", "--field", str(deb)], capture_output=True, text=True,
                          check=True).stdout
    fields = dict(line.split(": ", 1) for line in info.splitlines() if ": " in line)
    for key in ("Package", "Version", "Architecture", "Depends", "Installed-Size"):
        if not fields.get(key):
            raise PackageTestFailure(f"{deb.name}: expected a {key} field in DEBIAN/control")
    listing = subprocess.run(["dpkg-deb", "--contents", str(deb)], capture_output=True,
                             text=True, check=True).stdout
    paths = {line.split()[-1] if " -> " not in line else line.split()[-3]
             for line in listing.splitlines()}
    missing = [p for p in REQUIRED if p not in paths]
    if missing:
        raise PackageTestFailure(f"{deb.name}: expected {', '.join(missing)} in the package")
    tests = [p for p in paths if "/tests/" in p]
    if tests:
        raise PackageTestFailure(f"{deb.name}: expected no test folders, found {len(tests)} "
                                 f"files such as {sorted(tests)[0]}")
    print(f"  control and {len(paths):,} files: OK ({fields['Package']} {fields['Version']} "
          f"{fields['Architecture']}, Depends: {fields['Depends']})")
    return fields


def depends_names(depends: str) -> set[str]:
    """The package names in a Depends field (versions and alternatives included)."""
    return {alternative.split()[0] for group in depends.split(",")
            for alternative in group.split("|") if alternative.strip()}


def uncovered(system: dict[str, str | None], depends: str,
              owner: Callable[[str], str | None] = dpkg_owner) -> list[str]:
    """The libraries in `system` (soname -> path; see build_linux.system_libraries) whose
    package is not in `depends`, as "soname (package)"."""
    names = depends_names(depends)
    out = []
    for name, path in system.items():
        package = package_of(name, path, owner)
        if package not in names:
            out.append(f"{name} ({package or 'no known Debian package'})")
    return out


def check_bundle_libraries(bundle: Path, depends: str) -> None:
    """`ldd` on the bundle's xcb plugin: each library is shipped or covered by Depends."""
    files = xcb_plugin_files(bundle)
    if not files:
        raise PackageTestFailure(f"expected Qt's xcb plugin (libqxcb.so) in {bundle}")
    try:
        linked = parse_ldd(bundle_ldd(bundle, files))
    except SystemExit as exc:
        raise PackageTestFailure(str(exc)) from None
    system = system_libraries(linked, bundle)
    missing = uncovered(system, depends)
    if missing:
        raise PackageTestFailure(
            f"the bundled xcb plugin loads {', '.join(missing)} from the system, but the "
            "package's Depends does not list it (build_linux.bundle_depends derives Depends "
            "from gui_app/ui/platform_check.py's DEBIAN_PACKAGES)")
    absent = [name for name, path in system.items() if path is None]
    print(f"  xcb plugin: {len(linked)} libraries, {len(linked) - len(system)} shipped, "
          f"{len(system)} from Depends: OK"
          + (f" (not installed on this machine: {', '.join(absent)})" if absent else ""))


def check_unpacked(root: Path) -> None:
    """The desktop integration files, as unpacked from the .deb."""
    desktop = configparser.ConfigParser(interpolation=None)
    desktop.optionxform = str  # keys are case-sensitive
    desktop.read(root / "usr/share/applications/layerlab.desktop", encoding="utf-8")
    entry = desktop["Desktop Entry"]
    if MIME_TYPE not in entry.get("MimeType", "").split(";"):
        raise PackageTestFailure(f"layerlab.desktop: expected MimeType to list {MIME_TYPE}, "
                                 f"got {entry.get('MimeType')!r}")
    if not entry.get("Exec", "").startswith("layerlab ") or "%f" not in entry.get("Exec", ""):
        raise PackageTestFailure(f"layerlab.desktop: expected Exec=layerlab %f, got "
                                 f"{entry.get('Exec')!r}")
    if entry.get("Icon") != "layerlab":
        raise PackageTestFailure(f"layerlab.desktop: expected Icon=layerlab, got "
                                 f"{entry.get('Icon')!r}")
    validator = shutil.which("desktop-file-validate")
    if validator:
        done = subprocess.run([validator, str(root / "usr/share/applications/layerlab.desktop")],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise PackageTestFailure(f"desktop-file-validate: {done.stdout}{done.stderr}")
    ns = {"m": "http://www.freedesktop.org/standards/shared-mime-info"}
    mime = ET.parse(root / "usr/share/mime/packages/layerlab.xml").getroot()
    kind = mime.find(f"m:mime-type[@type='{MIME_TYPE}']", ns)
    globs = [g.get("pattern") for g in kind.findall("m:glob", ns)] if kind is not None else []
    if "*.layerlab.json" not in globs:
        raise PackageTestFailure(f"layerlab.xml: expected {MIME_TYPE} with the glob "
                                 f"*.layerlab.json, got {globs}")
    for script in ("postinst", "postrm"):
        path = ROOT / "packaging/linux" / script
        done = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True)
        if done.returncode != 0:
            raise PackageTestFailure(f"{script}: not valid sh: {done.stderr}")
    print("  desktop entry, MIME type, maintainer scripts: OK"
          + ("" if validator else " (desktop-file-validate not installed: not run)"))


def self_test(command: Path, env: dict[str, str], where: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([str(command), "--self-test"], env=env, capture_output=True,
                          text=True, timeout=600, cwd=env["HOME"])
    seconds = time.perf_counter() - start
    last = (done.stdout.strip().splitlines() or [""])[-1]
    if done.returncode != 0 or "self-test passed" not in last:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        raise PackageTestFailure(f"{where}: `{command} --self-test` exited {done.returncode}: "
                                 f"{last or '(no output)'}\n{tail}")
    print(f"  {where}: {last} ({seconds:.1f} s with the process)")
    return seconds


def headless_commands(command: Path, bundle: Path, env: dict[str, str]) -> None:
    """`--version` and `export`: the export copies data generators' source code into the
    script (inspect.getsource), which only works if the bundle carries LayerLab's .py files."""
    version = subprocess.run([str(command), "--version"], env=env, capture_output=True,
                             text=True, timeout=120)
    if version.returncode != 0 or not version.stdout.startswith("LayerLab "):
        raise PackageTestFailure(f"`{command} --version` exited {version.returncode}: "
                                 f"{version.stdout}{version.stderr[-1000:]}")
    lesson = next(bundle.glob("**/resources/examples/02a_*.layerlab.json"), None)
    if lesson is None:
        raise PackageTestFailure(f"expected the circle lesson in {bundle}; it is missing")
    script = Path(env["HOME"]) / "exported.py"
    done = subprocess.run([str(command), "export", str(lesson), "-o", str(script)], env=env,
                          capture_output=True, text=True, timeout=300)
    text = script.read_text() if script.exists() else ""
    if done.returncode != 0 or "def make_circle" not in text or "model.fit(" not in text:
        raise PackageTestFailure(f"`{command} export {lesson.name}` exited {done.returncode} "
                                 f"without a complete script: {done.stderr[-1500:]}")
    print(f"  {version.stdout.strip()}; `export {lesson.name}` wrote a {len(text):,}-character "
          "script: OK")


def launch_times(command: Path, env: dict[str, str], runs: int) -> list[float]:
    """Spawn to first shown and painted window, in seconds, for `runs` warm starts."""
    times = []
    run_env = dict(env, QT_QPA_PLATFORM=env.get("QT_QPA_PLATFORM", "offscreen"),
                   LAYERLAB_EXIT_AFTER_SHOWN="1",
                   LAYERLAB_SETTINGS_DIR=str(Path(env["HOME"]) / "settings"))
    for i in range(runs + 1):  # the first run warms the file cache and is not counted
        start = time.time()
        done = subprocess.run([str(command)], env=run_env, capture_output=True, text=True,
                              timeout=120)
        line = next((x for x in done.stdout.splitlines() if x.startswith("LAYERLAB_SHOWN")),
                    None)
        if line is None:
            raise PackageTestFailure(f"`{command}` did not report its window (exit "
                                     f"{done.returncode}): {done.stderr[-2000:]}")
        fields = dict(item.split("=", 1) for item in line.split()[1:])
        if i:
            times.append(float(fields["wall"]) - start)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="warm starts to time")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folders")
    args = parser.parse_args(argv)
    try:
        built = report()
        deb, tarball = ROOT / built["files"]["deb"], ROOT / built["files"]["tarball"]
        for path in (deb, tarball):
            if not path.exists():
                raise PackageTestFailure(f"expected {path.relative_to(ROOT)}; run `make "
                                         "package`")
        scratch = Path(tempfile.mkdtemp(prefix="layerlab-package-test-"))
        try:
            home = scratch / "home"
            home.mkdir()
            env = clean_env(home)
            print(f"== {deb.name} ({deb.stat().st_size / 1e6:,.0f} MB)")
            fields = check_deb(deb)
            root = scratch / "root"
            subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
            check_unpacked(root)
            check_bundle_libraries(root / "opt/layerlab", fields["Depends"])
            self_test(root / "usr/bin/layerlab", env, "installed root, /usr/bin/layerlab")
            headless_commands(root / "usr/bin/layerlab", root / "opt/layerlab", env)
            times = launch_times(root / "usr/bin/layerlab", env, args.runs)
            median = statistics.median(times)
            verdict = "OK" if median < LAUNCH_GOAL_S else "SLOWER than the goal"
            print(f"  launch to visible window: median {median:.2f} s of {args.runs} warm "
                  f"starts ({' '.join(f'{t:.2f}' for t in times)}); goal < "
                  f"{LAUNCH_GOAL_S:.0f} s: {verdict}")
            print(f"== {tarball.name} ({tarball.stat().st_size / 1e6:,.0f} MB)")
            unpacked = scratch / "tarball"
            with tarfile.open(tarball) as archive:
                if hasattr(tarfile, "tar_filter"):  # Python 3.10.12+, 3.11.4+
                    archive.extractall(unpacked, filter="tar")
                else:  # our own archive, just built
                    archive.extractall(unpacked)
            self_test(unpacked / "layerlab" / "layerlab", env, "unpacked tarball")
        finally:
            if args.keep:
                print(f"(kept {scratch})")
            else:
                shutil.rmtree(scratch, ignore_errors=True)
    except PackageTestFailure as exc:
        print(f"package-test FAILED: {exc}")
        return 1
    print("package-test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
