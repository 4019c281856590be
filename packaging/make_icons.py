"""Renders resources/icons/layerlab.svg to the PNG and ICO files installers want.

    python packaging/make_icons.py [OUT_DIR]     (default: build/icons)

Qt renders the SVG (QtSvg ships with PySide6-Essentials), so no image tool is needed:
PNGs at the hicolor sizes for Linux desktops that do not draw SVG icons, a multi-size
ICO for Windows, and a 1024 px PNG that PyInstaller turns into the macOS .icns (it does
that with Pillow, which the macOS CI job installs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "layerlab.svg"
#: The hicolor theme's usual sizes; 1024 for the macOS .icns.
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
#: Windows uses 16-256 px inside one .ico.
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_icons(out_dir: Path, svg: Path = SVG) -> dict[str, Path]:
    """Writes layerlab-<size>.png for every size and layerlab.ico; returns them by name."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([sys.argv[0]])  # noqa: F841
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: expected a valid SVG icon; Qt could not read it")
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    images: dict[int, QImage] = {}
    for size in PNG_SIZES:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        images[size] = image
        path = out_dir / f"layerlab-{size}.png"
        if not image.save(str(path), "PNG"):
            raise SystemExit(f"could not write {path}")
        written[f"png{size}"] = path
    ico = out_dir / "layerlab.ico"
    ico.write_bytes(_ico_bytes({s: images[s] for s in ICO_SIZES}, QBuffer, QByteArray,
                               QIODevice))
    written["ico"] = ico
    return written


def _ico_bytes(images: dict, buffer_type, bytes_type, io_type) -> bytes:
    """A .ico file holding one PNG-compressed image per size (valid since Windows Vista).

    Written by hand because Qt's ICO writer keeps only one size.
    """
    import struct

    payloads = []
    for size, image in sorted(images.items()):
        data = bytes_type()
        buf = buffer_type(data)
        buf.open(io_type.OpenModeFlag.WriteOnly)
        image.save(buf, "PNG")
        buf.close()
        payloads.append((size, bytes(data.data())))
    header = struct.pack("<HHH", 0, 1, len(payloads))
    offset = 6 + 16 * len(payloads)
    entries, blobs = b"", b""
    for size, blob in payloads:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICO directory entry
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(blob), offset)
        blobs += blob
        offset += len(blob)
    return header + entries + blobs


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else ROOT / "build" / "icons"
    for name, path in render_icons(out).items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
