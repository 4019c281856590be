"""What an image file is, from its first and last bytes: PNG, JPEG, BMP and GIF headers read
with the standard library only (no PIL, no TensorFlow), so the window can list a folder of
images without decoding one.

`read_header` answers three questions about a file named like an image: is it one of the
four formats TensorFlow decodes (by its magic bytes, not its name), how large is it (width,
height, channels, as its header says), and does it look whole. "Whole" is checked at both
ends: a header that parses and checksums (PNG's IHDR has a CRC), and the end marker each
format has (PNG's IEND chunk, JPEG's EOI, GIF's trailer; for BMP the file must be long
enough for the pixel rows its header promises). A download cut short, the commonest
damage, fails there. Damage in the middle of the pixel data does not; TensorFlow finds it
when it decodes, and the training session then names the file (core/training/image_pipeline).

Only small pieces are read (the header, a JPEG's segment lengths to its frame header, and
the last 4 KB), so a folder of 20,000 images is checked in under a second.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["HeaderError", "ImageHeader", "content_kind", "parse_header"]

#: How a reader gives the bytes at an offset: `read(offset, count)`, fewer at the end.
Reader = Callable[[int, int], bytes]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_IEND = b"IEND\xaeB`\x82"
#: PNG colour types: (bit depths allowed, channels stored).
_PNG_TYPES = {0: ((1, 2, 4, 8, 16), 1), 2: ((8, 16), 3), 3: ((1, 2, 4, 8), 3),
              4: ((8, 16), 2), 6: ((8, 16), 4)}
#: JPEG start-of-frame markers (C4 is a Huffman table, C8 reserved, CC arithmetic tables).
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: Segments a JPEG may have before its frame header (EXIF, ICC profiles, thumbnails...).
_MAX_JPEG_SEGMENTS = 1024
#: Bytes read from the end of a file to look for its end marker: cameras and editors
#: append a little after PNG's IEND or JPEG's EOI at times.
TAIL_BYTES = 4096
#: BMP information headers that TensorFlow's decoder reads (BITMAPINFOHEADER and later;
#: it reads the width at the offset these share, so the old 12-byte core header fails).
_BMP_INFO_SIZES = (40, 52, 56, 64, 108, 124)


class HeaderError(ValueError):
    """A file that cannot be used as an image; `kind` says which way.

    Attributes:
        kind: "not-image" (no image format's magic bytes), "corrupt" (the format's header
            or end is damaged) or "unsupported" (a variant TensorFlow cannot decode).
        reason: a few words for a person ("truncated: no end-of-image marker").
    """

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


@dataclass(frozen=True)
class ImageHeader:
    """An image as its header describes it.

    Attributes:
        format: "png", "jpeg", "bmp" or "gif" (from the content, whatever the file's name).
        width: pixels across.
        height: pixels down.
        channels: channels stored: 1 grey, 2 grey and alpha, 3 colour, 4 colour and alpha
            (or CMYK for a JPEG).
    """

    format: str
    width: int
    height: int
    channels: int

    @property
    def pixels(self) -> int:
        return self.width * self.height


def content_kind(head: bytes) -> str:
    """What a file that is none of the four formats holds, in words for a message."""
    if not head:
        return "an empty file"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image, which TensorFlow's decoder does not read here"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image, which TensorFlow's decoder does not read"
    if head[4:8] == b"ftyp":
        return "an HEIC/AVIF image or a video, which TensorFlow's decoder does not read"
    if head[:4] == b"%PDF":
        return "a PDF document"
    if head[:4] == b"PK\x03\x04":
        return "a zip archive"
    if head[:2] == b"\x1f\x8b":
        return "a gzip archive"
    sample = head[:512]
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in sample)
    if printable >= 0.95 * len(sample):
        return "text (HTML or SVG)" if sample.lstrip()[:1] == b"<" else "text"
    return "data in no image format TensorFlow reads"


def parse_header(read: Reader, size: int) -> ImageHeader:
    """The header of the image `read` gives, checked at both ends.

    Args:
        read: gives the bytes at an offset, `read(offset, count)`.
        size: the file's size in bytes.

    Raises:
        HeaderError: when the file is no image, is damaged, or is a variant TensorFlow
            cannot decode.
    """
    head = read(0, 64)
    if head[:8] == PNG_SIGNATURE:
        return _png(read, head, size)
    if head[:3] == b"\xff\xd8\xff":
        return _jpeg(read, size)
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return _gif(read, head, size)
    if head[:2] == b"BM":
        return _bmp(read, size)
    raise HeaderError("not-image", content_kind(head))


def _tail(read: Reader, size: int) -> bytes:
    start = max(0, size - TAIL_BYTES)
    return read(start, size - start)


def _png(read: Reader, head: bytes, size: int) -> ImageHeader:
    if len(head) < 33:
        raise HeaderError("corrupt", "truncated: it ends inside its header")
    length, kind = struct.unpack(">I4s", head[8:16])
    if kind != b"IHDR" or length != 13:
        raise HeaderError("corrupt", "its first chunk is not the 13-byte IHDR header")
    width, height, depth, color, compression, filtering, interlace = \
        struct.unpack(">IIBBBBB", head[16:29])
    (crc,) = struct.unpack(">I", head[29:33])
    if zlib.crc32(head[12:29]) != crc:
        raise HeaderError("corrupt", "its header's checksum does not match")
    if not (0 < width < 2**31 and 0 < height < 2**31):
        raise HeaderError("corrupt", f"its header gives a size of {width} x {height}")
    depths, channels = _PNG_TYPES.get(color, ((), 0))
    if depth not in depths or compression or filtering or interlace > 1:
        raise HeaderError("corrupt", f"its header gives colour type {color} with bit depth "
                          f"{depth}, which PNG does not have")
    if _PNG_IEND not in _tail(read, size):
        raise HeaderError("corrupt", "truncated: no IEND end chunk")
    return ImageHeader("png", width, height, channels)


def _jpeg(read: Reader, size: int) -> ImageHeader:
    pos = 2
    for _ in range(_MAX_JPEG_SEGMENTS):
        chunk = read(pos, 16)
        skip = 0
        while skip < len(chunk) and chunk[skip] == 0xFF:  # a marker, after fill bytes
            skip += 1
        if skip == 0 or skip >= len(chunk) - 2:
            raise HeaderError("corrupt", "truncated or damaged before its frame header")
        marker = chunk[skip]
        pos += skip + 1
        if marker == 0xD8 or marker == 0x01 or 0xD0 <= marker <= 0xD7:
            continue  # markers without a length
        if marker in (0xD9, 0xDA):
            raise HeaderError("corrupt", "its image data starts before a frame header")
        (length,) = struct.unpack(">H", chunk[skip + 1:skip + 3])
        if length < 2:
            raise HeaderError("corrupt", "a segment of its header has a length below 2")
        if marker in _JPEG_SOF:
            frame = read(pos + 2, 6)
            if len(frame) < 6:
                raise HeaderError("corrupt", "truncated: it ends inside its frame header")
            _precision, height, width, components = struct.unpack(">BHHB", frame)
            if width == 0 or height == 0:
                raise HeaderError("unsupported", "its frame header leaves the height to "
                                  "the end of the image data (a DNL marker)")
            if components not in (1, 3, 4):
                raise HeaderError("unsupported", f"it has {components} colour components")
            if b"\xff\xd9" not in _tail(read, size):
                raise HeaderError("corrupt", "truncated: no end-of-image marker")
            return ImageHeader("jpeg", width, height, components)
        pos += length
        if pos >= size:
            break
    raise HeaderError("corrupt", "no frame header (the part that gives the size)")


def _gif(read: Reader, head: bytes, size: int) -> ImageHeader:
    if len(head) < 13:
        raise HeaderError("corrupt", "truncated: it ends inside its header")
    width, height = struct.unpack("<HH", head[6:10])
    if width == 0 or height == 0:
        raise HeaderError("corrupt", f"its header gives a size of {width} x {height}")
    if not _tail(read, size).rstrip(b"\x00").endswith(b";"):
        raise HeaderError("corrupt", "truncated: no GIF trailer at its end")
    return ImageHeader("gif", width, height, 3)


def _bmp(read: Reader, size: int) -> ImageHeader:
    head = read(0, 14 + 124)
    if len(head) < 18:
        raise HeaderError("corrupt", "truncated: it ends inside its header")
    offset, info = struct.unpack("<II", head[10:18])
    if info == 12:
        raise HeaderError("unsupported", "it has the old OS/2 header, which TensorFlow "
                          "cannot read")
    if info not in _BMP_INFO_SIZES:
        raise HeaderError("corrupt", f"its information header is {info} bytes long, which "
                          "BMP does not have")
    if len(head) < 14 + 40:
        raise HeaderError("corrupt", "truncated: it ends inside its header")
    width, height, _planes, bits, compression = struct.unpack("<iiHHI", head[18:34])
    (colors,) = struct.unpack("<I", head[46:50])
    if width <= 0 or height == 0 or abs(height) >= 2**31 - 1:
        raise HeaderError("corrupt", f"its header gives a size of {width} x {height}")
    height = abs(height)  # a negative height means rows stored top-down
    if bits in (24, 32) and (compression == 0 or (bits == 32 and compression == 3)):
        channels = bits // 8
    elif bits == 8 and compression == 0:
        _grey_palette(read, 14 + info, colors or 256)
        channels = 1
    else:
        raise HeaderError("unsupported", f"it has {bits} bits per pixel and compression "
                          f"{compression}; TensorFlow reads uncompressed 24- and 32-bit BMPs "
                          "(and 8-bit grey ones)")
    row = (bits * width + 31) // 32 * 4
    if offset + row * height > size:
        raise HeaderError("corrupt", f"truncated: {size:,} bytes, but its header promises "
                          f"{offset + row * height:,}")
    return ImageHeader("bmp", width, height, channels)


def _grey_palette(read: Reader, at: int, colors: int) -> None:
    """An 8-bit BMP is decoded by TensorFlow as grey levels (colour number i as grey i),
    which is right only when its palette is exactly that grey ramp."""
    colors = min(int(colors), 256)
    palette = read(at, 4 * colors)
    if len(palette) < 4 * colors:
        raise HeaderError("corrupt", "truncated: it ends inside its colour palette")
    for i in range(colors):
        blue, green, red = palette[4 * i:4 * i + 3]
        if not blue == green == red == i:
            raise HeaderError("unsupported", "it is an 8-bit BMP with a colour palette, "
                              "which TensorFlow would read as grey levels")
