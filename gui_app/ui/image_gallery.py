"""Galleries of image files: small pictures read off the GUI thread and painted in a grid.

The Data tab shows a few images of each class of a folder, and the Evaluate dialog the test
images the model got wrong. Both read the files with Qt's own decoders (PNG, JPEG, BMP
and GIF, the formats Keras reads; the window has no TensorFlow) into thumbnails on a pool
thread, so a folder on a slow disk or of large photographs never freezes the window: the
grid is drawn at once with grey placeholders, and each picture appears as it arrives.

A JPEG is decoded straight at a reduced size (`QImageReader.setScaledSize`), so a
4,000-pixel photograph costs a fraction of its full decode. Small pictures (a 28x28
shape) are enlarged without smoothing, so their pixels stay sharp, as in the X-ray.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QEvent, QObject, QRectF, QSize, Qt, Signal, Slot
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QMouseEvent, QPainter
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from .session_bridge import Background

__all__ = ["ImageGrid", "ThumbnailLoader", "Tile", "read_thumbnail"]

#: Thumbnails kept in memory (a 96-pixel one is at most 36 KB): enough for a gallery of
#: every class and a page of mistakes, and no growth with the size of the folder.
CACHE_LIMIT = 600
#: Files read per pool job: the first pictures show quickly, and a job never holds the
#: pool for long.
CHUNK = 8


def read_thumbnail(path: str, size: int, gray: bool = False) -> QImage:
    """The picture in `path` fitted into `size` x `size` pixels (a null QImage when Qt
    cannot read it); in 8-bit gray when `gray`, as a grayscale model reads it.

    Safe on any thread: it makes a QImage, never a QPixmap.
    """
    reader = QImageReader(path)
    reader.setAutoTransform(False)  # Keras ignores the EXIF turn: show what it reads
    full = reader.size()
    if full.isValid() and (full.width() > 2 * size or full.height() > 2 * size):
        # decode at about twice the thumbnail (a JPEG decodes that much faster); the last
        # step below smooths it down
        reader.setScaledSize(full.scaled(2 * size, 2 * size,
                                         Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return QImage()
    if gray:
        image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    if image.width() == size and image.height() == size:
        return image
    smaller = image.width() > size or image.height() > size
    mode = Qt.TransformationMode.SmoothTransformation if smaller \
        else Qt.TransformationMode.FastTransformation  # enlarged: keep the pixels sharp
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, mode)


class ThumbnailLoader(QObject):
    """Reads thumbnails of image files on a pool thread and keeps the latest few hundred.

    Signals:
        loaded(): some asked-for thumbnails arrived (grids repaint).

    Args:
        size: the longest side of a thumbnail, in pixels.
        gray: read every picture in gray (the data's color_mode is "grayscale").
    """

    loaded = Signal()

    def __init__(self, size: int = 48, gray: bool = False, parent: QObject | None = None
                 ) -> None:
        super().__init__(parent)
        self.size = size
        self.gray = gray
        self.background = Background(self, threads=1)  # the disk, not the cores, sets the pace
        self._images: OrderedDict[str, QImage] = OrderedDict()
        self._pending: set[str] = set()
        self._generation = 0

    def configure(self, size: int, gray: bool) -> None:
        """Changes the thumbnails' size or colour; what was read before is read again."""
        if (size, gray) != (self.size, self.gray):
            self.size, self.gray = size, gray
            self.forget()

    def forget(self) -> None:
        """Drops every thumbnail, and the results of reads still under way."""
        self._generation += 1
        self._images.clear()
        self._pending.clear()

    def image(self, path: str) -> QImage | None:
        """The thumbnail when it has arrived (a null QImage for a file Qt cannot read),
        else None."""
        image = self._images.get(path)
        if image is not None:
            self._images.move_to_end(path)
        return image

    def request(self, paths: Sequence[str]) -> None:
        """Reads the thumbnails of `paths` that are neither here nor on their way."""
        wanted = [p for p in dict.fromkeys(paths) if p not in self._images
                  and p not in self._pending]
        if not wanted:
            return
        self._pending.update(wanted)
        generation, size, gray = self._generation, self.size, self.gray
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start:start + CHUNK]
            self.background.call(
                lambda chunk=chunk: [(p, read_thumbnail(p, size, gray)) for p in chunk],
                lambda read, generation=generation: self._arrived(generation, read),
                lambda _exc, generation=generation, chunk=chunk:
                    self._arrived(generation, [(p, QImage()) for p in chunk]))

    def _arrived(self, generation: int, read: list[tuple[str, QImage]]) -> None:
        if generation != self._generation:
            return  # forgotten meanwhile (another folder, another size)
        for path, image in read:
            self._pending.discard(path)
            self._images[path] = image
            self._images.move_to_end(path)
        while len(self._images) > CACHE_LIMIT:
            self._images.popitem(last=False)
        self.loaded.emit()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def wait(self, msecs: int = 5000) -> bool:
        """Blocks until the reads under way are done (tests, closing)."""
        return self.background.wait(msecs)


@dataclass(frozen=True)
class Tile:
    """One picture of a grid.

    Attributes:
        path: the image file.
        caption: lines under the picture (may be empty).
        tip: the tooltip (the file's name, what the model said).
        color: the colour of the caption's first line, in bold ("" for plain text).
    """

    path: str
    caption: tuple[str, ...] = ()
    tip: str = ""
    color: str = ""


class ImageGrid(QWidget):
    """Tiles of pictures, as many a row as fit, each with its caption; its height follows
    its width. Clicking a tile emits `clicked(index)`.

    Args:
        loader: reads the pictures (shared between the grids of one view).
        tile_width: the width of a tile; the picture is `loader.size` wide within it.
        caption_lines: lines of caption under each picture.
    """

    clicked = Signal(int)
    GAP = 6

    def __init__(self, loader: ThumbnailLoader, tile_width: int | None = None,
                 caption_lines: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.tile_width = tile_width
        self.caption_lines = caption_lines
        self.tiles: list[Tile] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMouseTracking(False)
        loader.loaded.connect(self.update)

    def set_tiles(self, tiles: Sequence[Tile]) -> None:
        self.tiles = list(tiles)
        self.loader.request([t.path for t in self.tiles])
        self._fit_height(self.width())
        self.updateGeometry()
        self.update()

    # -- geometry ---------------------------------------------------------------------------

    def _tile_w(self) -> int:
        return max(self.loader.size, self.tile_width or 0)

    def _tile_h(self) -> int:
        lines = self.caption_lines
        return self.loader.size + (2 + lines * self.fontMetrics().height() if lines else 0)

    def columns(self, width: int) -> int:
        """Tiles a row: as many as fit, spread evenly over the rows (8 pictures where 5
        fit make two rows of 4, not 5 and 3)."""
        fit = max(1, (width + self.GAP) // (self._tile_w() + self.GAP))
        rows = -(-len(self.tiles) // fit) if self.tiles else 1
        return max(1, -(-len(self.tiles) // rows)) if self.tiles else fit

    def height_for(self, width: int) -> int:
        if not self.tiles:
            return 0
        rows = -(-len(self.tiles) // self.columns(width))
        return rows * self._tile_h() + (rows - 1) * self.GAP

    def _fit_height(self, width: int) -> None:
        self.setFixedHeight(max(1, self.height_for(max(width, self._tile_w()))))

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt's name
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt's name
        return self.height_for(width)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        width = min(len(self.tiles), 8) * (self._tile_w() + self.GAP) or self._tile_w()
        return QSize(width, self.height_for(width))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return QSize(self._tile_w(), 1)

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._fit_height(event.size().width())

    def tile_rect(self, index: int) -> QRectF:
        """Where tile `index` is drawn (picture and caption)."""
        row, col = divmod(index, self.columns(self.width()))
        return QRectF(col * (self._tile_w() + self.GAP), row * (self._tile_h() + self.GAP),
                      self._tile_w(), self._tile_h())

    def tile_at(self, x: float, y: float) -> int | None:
        for i in range(len(self.tiles)):
            if self.tile_rect(i).contains(x, y):
                return i
        return None

    # -- painting and the mouse -------------------------------------------------------------

    def paintEvent(self, _event: Any) -> None:  # noqa: N802 - Qt's name
        p = QPainter(self)
        size = self.loader.size
        line_h = self.fontMetrics().height()
        text = self.palette().color(self.foregroundRole())
        for i, tile in enumerate(self.tiles):
            rect = self.tile_rect(i)
            box = QRectF(rect.x() + (rect.width() - size) / 2, rect.y(), size, size)
            image = self.loader.image(tile.path)
            if image is None:
                p.fillRect(box, QColor("#e4e4e4"))  # on its way
            elif image.isNull():
                p.fillRect(box, QColor("#fbe9e7"))
                p.setPen(QColor("#c62828"))
                p.drawText(box, Qt.AlignmentFlag.AlignCenter, "?")
            else:
                w, h = image.width(), image.height()
                p.drawImage(QRectF(box.x() + (size - w) / 2, box.y() + (size - h) / 2, w, h),
                            image)
            p.setPen(QColor("#b0b0b0"))
            p.drawRect(box.adjusted(0, 0, -1, -1))
            if not self.caption_lines:
                continue
            for k, line in enumerate(tile.caption[:self.caption_lines]):
                first = k == 0 and bool(tile.color)
                p.setPen(QColor(tile.color) if first else text)
                font = QFont(self.font())
                font.setBold(first)
                p.setFont(font)
                shown = p.fontMetrics().elidedText(line, Qt.TextElideMode.ElideRight,
                                                   int(rect.width()))
                p.drawText(QRectF(rect.x(), box.bottom() + 2 + k * line_h, rect.width(),
                                  line_h), Qt.AlignmentFlag.AlignHCenter
                           | Qt.AlignmentFlag.AlignVCenter, shown)
            p.setFont(self.font())
        p.end()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton:
            index = self.tile_at(event.position().x(), event.position().y())
            if index is not None:
                self.clicked.emit(index)
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            pos = event.pos()  # type: ignore[attr-defined]
            index = self.tile_at(pos.x(), pos.y())
            if index is not None and self.tiles[index].tip:
                QToolTip.showText(event.globalPos(),  # type: ignore[attr-defined]
                                  self.tiles[index].tip, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    @Slot()
    def refresh(self) -> None:
        self.update()
