"""Builds LayerLab for Linux: the PyInstaller bundle, a Debian package and a .tar.gz.

    build/bundle-venv/bin/python packaging/build_linux.py [--skip-bundle]

`make package` runs this in build/bundle-venv (CPU TensorFlow, PyInstaller; see
requirements.py). Outputs, in dist/:

- layerlab/                              the one-folder bundle (run layerlab/layerlab)
- layerlab_<version>_<arch>.deb          installs the bundle under /opt/layerlab, the
                                         `layerlab` launcher in /usr/bin, the desktop
                                         entry, the icon and the project MIME type
- layerlab-<version>-linux-<machine>.tar.gz   the bundle, to unpack anywhere
- package-report.json                    sizes and build times (the README quotes them)

It prints the size of the bundle and of each package. `--skip-bundle` reuses
dist/layerlab (to iterate on the Debian packaging alone).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from gui_app.ui.platform_check import DEBIAN_PACKAGES, parse_ldd  # noqa: E402 - no Qt

HERE = ROOT / "packaging"
LINUX = HERE / "linux"
DIST = ROOT / "dist"
BUILD = ROOT / "build"
APP = "layerlab"
MIME_TYPE = "application/x-layerlab-project"
#: The .deb's goal (the issue): a teacher's machine downloads it.
DEB_GOAL_MB = 600
#: System libraries the bundle loads from the OS rather than carrying: the C library and
#: the graphics stack (libGL/libEGL/libxcb must match the machine's X server and drivers,
#: so PyInstaller never bundles them). Wayland and GTK are used when present. To these,
#: `bundle_depends` adds the packages of every library the bundled Qt xcb plugin loads
#: from the system (its X11 helper libraries, which a fresh install may lack).
BASE_DEPENDS = ("libc6 (>= 2.28)", "libgl1", "libegl1", "libxcb1")
#: Qt's X11 platform plugin and its integration library, as PyInstaller bundles them.
XCB_PLUGIN_FILES = ("libqxcb.so", "libQt6XcbQpa.so.6")
RECOMMENDS = ("libwayland-client0, libwayland-cursor0, libwayland-egl1, shared-mime-info, "
              "desktop-file-utils")


def version() -> str:
    from gui_app import __version__

    return __version__


def deb_arch() -> str:
    try:
        return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def tree_size(path: Path) -> int:
    """Bytes in files under `path` (symlinks not followed: they are links in the package)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            p = Path(folder) / name
            if not p.is_symlink():
                total += p.stat().st_size
    return total


def mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def step(title: str) -> float:
    print(f"\n== {title}", flush=True)
    return time.perf_counter()


def xcb_plugin_files(bundle: Path) -> list[Path]:
    """The bundle's Qt xcb plugin and libQt6XcbQpa (what the X11 window loads)."""
    return sorted(p for name in XCB_PLUGIN_FILES for p in bundle.rglob(name) if p.is_file())


def bundle_ldd(bundle: Path, files: list[Path]) -> str:
    """`ldd files...` as the bundle's loader resolves them: PyInstaller's bootloader puts
    the bundle's library folder (`_internal`) on LD_LIBRARY_PATH before it starts Python."""
    libdir = bundle / "_internal" if (bundle / "_internal").is_dir() else bundle
    env = dict(os.environ, LD_LIBRARY_PATH=str(libdir))
    done = subprocess.run(["ldd", *map(str, files)], capture_output=True, text=True, env=env,
                          timeout=60)
    if not done.stdout.strip():
        raise SystemExit(f"ldd listed nothing for {', '.join(map(str, files))}: "
                         f"{done.stderr.strip()}")
    return done.stdout


def system_libraries(linked: dict[str, str | None], bundle: Path) -> dict[str, str | None]:
    """The libraries in `linked` (soname -> path, None where not found) that do not come
    from the bundle: those the OS must provide."""
    inside = bundle.resolve()
    out = {}
    for name, path in linked.items():
        if path is not None and Path(path).resolve().is_relative_to(inside):
            continue  # shipped
        out[name] = path
    return out


def dpkg_owner(path: str) -> str | None:
    """The installed package that owns `path` (`dpkg -S`; usr-merged paths tried both ways)."""
    candidates = [path, os.path.realpath(path)]
    candidates += [c[4:] if c.startswith("/usr/") else "/usr" + c for c in list(candidates)]
    for candidate in dict.fromkeys(candidates):
        try:
            done = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True,
                                  timeout=30)
        except (OSError, subprocess.SubprocessError):
            return None
        for line in done.stdout.splitlines() if done.returncode == 0 else ():
            if not line.startswith("diversion "):  # "libfoo1:amd64: /usr/lib/.../libfoo.so.1"
                return line.split(":", 1)[0].split(",")[0].strip()
    return None


def package_of(name: str, path: str | None,
               owner: Callable[[str], str | None] = dpkg_owner) -> str | None:
    """The Debian package that provides library `name`: platform_check's table, else the
    package that owns it on this (build) machine."""
    return DEBIAN_PACKAGES.get(name) or (owner(path) if path else None)


def depends_for(system: dict[str, str | None],
                owner: Callable[[str], str | None] = dpkg_owner) -> tuple[str, list[str]]:
    """The Depends field for the libraries the OS must provide (see `system_libraries`),
    and those with no known package (sonames; the build stops on them)."""
    fields = list(BASE_DEPENDS)
    names = {entry.split()[0] for entry in fields}
    extra, unknown = set(), []
    for name, path in system.items():
        package = package_of(name, path, owner)
        if package is None:
            unknown.append(name)
        elif package not in names:
            extra.add(package)
    return ", ".join(fields + sorted(extra)), unknown


def bundle_depends(bundle: Path) -> str:
    """The .deb's Depends: BASE_DEPENDS plus the package of every library the bundled xcb
    plugin loads from the system (the bundle ships the rest)."""
    files = xcb_plugin_files(bundle)
    if not files:
        raise SystemExit(f"expected Qt's xcb plugin ({XCB_PLUGIN_FILES[0]}) in {bundle}: "
                         "without it the window cannot open on X11")
    system = system_libraries(parse_ldd(bundle_ldd(bundle, files)), bundle)
    depends, unknown = depends_for(system)
    if unknown:
        raise SystemExit(
            "the bundled xcb plugin needs system libraries with no known Debian package: "
            f"{', '.join(unknown)}; add them to DEBIAN_PACKAGES in "
            "gui_app/ui/platform_check.py (or install them here, for dpkg -S to name them)")
    return depends


def build_bundle() -> float:
    """Runs PyInstaller on packaging/layerlab.spec; returns the seconds it took."""
    start = step("PyInstaller bundle (dist/layerlab)")
    command = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
               "--log-level", "WARN", "--distpath", str(DIST),
               "--workpath", str(BUILD / "pyinstaller"), str(HERE / "layerlab.spec")]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", QT_QPA_PLATFORM="offscreen",
               CUDA_VISIBLE_DEVICES="")
    done = subprocess.run(command, cwd=ROOT, env=env)
    if done.returncode != 0:
        raise SystemExit(f"PyInstaller failed (exit {done.returncode}); its messages are above")
    return time.perf_counter() - start


def _copy_tree(source: Path, target: Path) -> None:
    """Copies with hard links where the file system allows (the bundle is 1 GB)."""
    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    shutil.copytree(source, target, symlinks=True, copy_function=link_or_copy)


def stage_deb(bundle: Path, ver: str, arch: str) -> Path:
    """Lays out the package's files and DEBIAN/ control files under build/deb/."""
    root = BUILD / "deb" / f"{APP}_{ver}_{arch}"
    if root.exists():
        shutil.rmtree(root)
    _copy_tree(bundle, root / "opt" / APP)
    install = [
        (LINUX / "launcher.sh", "usr/bin/layerlab", 0o755),
        (LINUX / "layerlab.desktop", "usr/share/applications/layerlab.desktop", 0o644),
        (LINUX / "layerlab-mime.xml", "usr/share/mime/packages/layerlab.xml", 0o644),
        (ROOT / "resources/icons/layerlab.svg",
         "usr/share/icons/hicolor/scalable/apps/layerlab.svg", 0o644),
        (ROOT / "resources/icons/layerlab.svg",
         f"usr/share/icons/hicolor/scalable/mimetypes/{MIME_TYPE.replace('/', '-')}.svg",
         0o644),
    ]
    icons = BUILD / "icons"
    for size in (16, 24, 32, 48, 64, 128, 256, 512):
        png = icons / f"layerlab-{size}.png"
        if png.exists():  # rendered by the spec (make_icons.py)
            install.append((png, f"usr/share/icons/hicolor/{size}x{size}/apps/layerlab.png",
                            0o644))
    for source, dest, mode in install:
        target = root / dest
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        target.chmod(mode)
    doc = root / "usr/share/doc" / APP
    doc.mkdir(parents=True, exist_ok=True)
    (doc / "copyright").write_text(
        "LayerLab: MIT license (see the project's pyproject.toml).\n"
        "The bundle under /opt/layerlab carries Python, Qt (PySide6, LGPLv3), TensorFlow and\n"
        "Keras (Apache 2.0), NumPy, SciPy and scikit-learn (BSD), pyqtgraph (MIT) and their\n"
        "dependencies, each under its own license; their license files are in the bundle's\n"
        "_internal/*.dist-info folders.\n", encoding="utf-8")
    control = root / "DEBIAN"
    control.mkdir()
    depends = bundle_depends(bundle)
    print(f"  Depends: {depends}")
    installed_kb = tree_size(root) // 1024
    (control / "control").write_text(
        f"Package: {APP}\n"
        f"Version: {ver}\n"
        "Section: education\n"
        "Priority: optional\n"
        f"Architecture: {arch}\n"
        f"Installed-Size: {installed_kb}\n"
        f"Depends: {depends}\n"
        f"Recommends: {RECOMMENDS}\n"
        "Maintainer: LayerLab developers <layerlab@example.org>\n"
        "Homepage: https://example.org/layerlab\n"
        "Description: build a Keras network as a stack of layers and watch it learn\n"
        " LayerLab is a desktop application in which you build a Keras Sequential\n"
        " network as a stack of layers, see its parameter count live, pick the\n"
        " optimizer, loss and metrics, and train it while live plots and a\n"
        " decision-boundary view show what the network learns.\n"
        " .\n"
        " This package carries its own Python, Qt and CPU TensorFlow under\n"
        " /opt/layerlab. Double-clicking a *.layerlab.json file opens it in LayerLab.\n",
        encoding="utf-8")
    for script in ("postinst", "postrm"):
        shutil.copyfile(LINUX / script, control / script)
        (control / script).chmod(0o755)
    return root


def build_deb(root: Path, out: Path, level: int) -> float:
    start = step(f"Debian package ({out.name}, xz level {level})")
    if shutil.which("dpkg-deb") is None:
        raise SystemExit("dpkg-deb not found: expected it on the PATH to build the .deb "
                         "(Debian and Ubuntu have it in the dpkg package; on other systems "
                         "use the .tar.gz)")
    if out.exists():
        out.unlink()
    # xz, which every dpkg reads (zstd needs dpkg 1.21.18+). Level 1 by default: on two
    # cores it packs the 1.4 GB bundle in about 1.5 minutes instead of 9 at level 6, for a
    # package about 12 % larger (300 MB instead of 265 MB); release builds can pass 6.
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", f"-z{level}", "--build",
                    str(root), str(out)], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def build_tarball(bundle: Path, out: Path) -> float:
    start = step(f"Tarball ({out.name})")
    if out.exists():
        out.unlink()
    tar = shutil.which("tar")
    if tar:  # GNU tar + gzip is several times faster than tarfile
        gzip = "pigz" if shutil.which("pigz") else "gzip"
        subprocess.run([tar, "--owner=0", "--group=0", "-I", gzip, "-cf", str(out),
                        "-C", str(bundle.parent), bundle.name], check=True)
    else:
        with tarfile.open(out, "w:gz", compresslevel=6) as archive:
            archive.add(bundle, arcname=bundle.name)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-bundle", action="store_true",
                        help="reuse dist/layerlab instead of running PyInstaller")
    parser.add_argument("--deb-level", type=int, default=1, choices=range(0, 10),
                        metavar="0-9", help="xz level of the .deb (default 1: fast; 6 is "
                        "dpkg's default, 12 %% smaller and six times slower)")
    args = parser.parse_args(argv)
    if not sys.platform.startswith("linux"):
        raise SystemExit("packaging/build_linux.py builds the Linux packages; on Windows and "
                         "macOS run PyInstaller on packaging/layerlab.spec (see "
                         ".github/workflows/package.yml)")
    started = time.perf_counter()
    ver, arch = version(), deb_arch()
    DIST.mkdir(exist_ok=True)
    bundle = DIST / APP
    seconds: dict[str, float] = {}
    if args.skip_bundle:
        if not (bundle / APP).exists():
            raise SystemExit(f"--skip-bundle: expected a bundle in {bundle}; run without it")
    else:
        seconds["bundle"] = build_bundle()
    deb = DIST / f"{APP}_{ver}_{arch}.deb"
    tarball = DIST / f"{APP}-{ver}-linux-{platform.machine()}.tar.gz"
    root = stage_deb(bundle, ver, arch)
    seconds["deb"] = build_deb(root, deb, args.deb_level)
    seconds["tarball"] = build_tarball(bundle, tarball)
    shutil.rmtree(root.parent, ignore_errors=True)  # hard links; the bundle stays
    seconds["total"] = time.perf_counter() - started
    sizes = {"bundle": tree_size(bundle), "deb": deb.stat().st_size,
             "tarball": tarball.stat().st_size}
    report = {"version": ver, "arch": arch, "bytes": sizes, "seconds": seconds,
              "files": {"bundle": str(bundle.relative_to(ROOT)),
                        "deb": str(deb.relative_to(ROOT)),
                        "tarball": str(tarball.relative_to(ROOT))},
              "python": platform.python_version(), "cores": os.cpu_count()}
    (DIST / "package-report.json").write_text(json.dumps(report, indent=2) + "\n")
    goal = "OK" if sizes["deb"] < DEB_GOAL_MB * 1e6 else f"OVER the {DEB_GOAL_MB} MB goal"
    print("\n== Sizes")
    print(f"  bundle   {mb(sizes['bundle']):>9}  {bundle.relative_to(ROOT)}/")
    print(f"  .deb     {mb(sizes['deb']):>9}  {deb.relative_to(ROOT)}  (goal < {DEB_GOAL_MB} "
          f"MB: {goal})")
    print(f"  .tar.gz  {mb(sizes['tarball']):>9}  {tarball.relative_to(ROOT)}")
    times = ", ".join(f"{k} {v:.0f} s" for k, v in seconds.items())
    print(f"== Build time: {times} ({os.cpu_count()} cores)")
    return 0 if sizes["deb"] < DEB_GOAL_MB * 1e6 else 1


if __name__ == "__main__":
    sys.exit(main())
