"""Exports from the File menu: script, History (CSV, JSON), plots (PNG, SVG), summary text.

The History exports carry the run's findings (the live diagnostics' `FindingEvent`s,
active and resolved): the JSON under "findings", the CSV in a second file beside it,
`<name>-findings.csv` (written when there are findings), so that the History CSV stays
one table that any spreadsheet or `csv` reader takes as it is. In both, epochs count from
1, as in the window and the History CSV's `epoch` column (the event stream counts from 0),
and `layer_index` is the layer's position in the project's `model.layers` (from 0).

Each `write_*` function writes one file atomically (`project.write_atomic`), so a failed
export never leaves half a file over a good one, and raises `ExportError` with a message a
person can act on when there is nothing to export. The plot functions take what the
training view draws into: a pyqtgraph PlotItem (or any QGraphicsItem), a PlotWidget or
QGraphicsView, or a whole QGraphicsScene.

SVG is written with Qt's own QSvgGenerator rather than pyqtgraph's SVGExporter: with
pyqtgraph 0.14.0 on Qt 6.11 the latter fails on the path syntax Qt now writes
("ValueError: not enough values to unpack" in correctCoordinates).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene, QGraphicsView

from ..core.project import write_atomic
from ..core.spec import Project
from ..core.summary import Summary, format_table

if TYPE_CHECKING:
    from ..core.diagnostics.events import FindingEvent

HISTORY_FORMAT = "layerlab-history"


class ExportError(Exception):
    """Nothing to export, or the export cannot be written; `str()` says what to do."""


# -- History ---------------------------------------------------------------------------------


def history_columns(history: Mapping[str, Sequence[float]]) -> list[str]:
    """The History's keys in reading order: each training metric, then its `val_` twin."""
    train = [k for k in history if not k.startswith("val_")]
    ordered: list[str] = []
    for key in train:
        ordered.append(key)
        if f"val_{key}" in history:
            ordered.append(f"val_{key}")
    ordered += [k for k in history if k not in ordered]
    return ordered


def _epochs(history: Mapping[str, Sequence[float]]) -> int:
    return max((len(v) for v in history.values()), default=0)


def _require_history(history: Mapping[str, Sequence[float]] | None) -> Mapping[str, Sequence[float]]:
    if not history or _epochs(history) == 0:
        raise ExportError("Expected a History with at least one epoch, got none: train the "
                          "model first, then export its History.")
    return history


def _number(value: Any) -> float | None:
    """A JSON-safe number: NaN and infinities (a diverged run) become null."""
    number = float(value)
    return number if math.isfinite(number) else None


def history_csv(history: Mapping[str, Sequence[float]]) -> str:
    """The History as CSV: an `epoch` column (from 1), then one column per metric."""
    history = _require_history(history)
    columns = history_columns(history)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["epoch", *columns])
    for i in range(_epochs(history)):
        row: list[Any] = [i + 1]
        for key in columns:
            values = history[key]
            row.append(repr(float(values[i])) if i < len(values) else "")
        writer.writerow(row)
    return out.getvalue()


def history_json(history: Mapping[str, Sequence[float]], project_name: str = "",
                 findings: Iterable[FindingEvent] = ()) -> str:
    """The History as JSON: Keras's `History.history` under "history", with a header,
    and the run's findings under "findings" (`finding_json`; an empty list when none)."""
    history = _require_history(history)
    doc = {
        "format": HISTORY_FORMAT,
        "version": 1,
        "project": project_name,
        "epochs": _epochs(history),
        "history": {key: [_number(v) for v in history[key]] for key in history_columns(history)},
        "findings": [finding_json(f) for f in findings],
    }
    return json.dumps(doc, indent=2) + "\n"


def finding_json(finding: FindingEvent) -> dict[str, Any]:
    """One finding as the History exports hold it: {"code", "epoch", "first_epoch",
    "layer_index", "message", "fixes" [{"id", "label", "params"}], "resolved", "state",
    "severity", "run"}, epochs from 1 (the epoch it reached its state, and the one it was
    first reported in)."""
    from ..core.diagnostics.events import RESOLVED  # loaded with the run's findings

    return {"code": finding.code, "epoch": finding.epoch + 1,
            "first_epoch": finding.since + 1, "layer_index": finding.layer,
            "message": finding.message, "fixes": [dict(f) for f in finding.fixes],
            "resolved": finding.state == RESOLVED, "state": finding.state,
            "severity": finding.severity, "run": finding.run}


FINDINGS_COLUMNS = ("code", "resolved", "first_epoch", "epoch", "layer_index", "severity",
                    "message", "fixes")


def findings_csv(findings: Iterable[FindingEvent]) -> str:
    """The findings as CSV, one row each (`FINDINGS_COLUMNS`); `resolved` is true or
    false, `layer_index` empty for a finding about no layer, `fixes` the fixes' labels
    joined by "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FINDINGS_COLUMNS)
    for f in findings:
        item = finding_json(f)
        writer.writerow([item["code"], "true" if item["resolved"] else "false",
                         item["first_epoch"], item["epoch"],
                         "" if item["layer_index"] is None else item["layer_index"],
                         item["severity"], item["message"],
                         "; ".join(str(x.get("label", x.get("id", ""))) for x in item["fixes"])])
    return out.getvalue()


def findings_path(history_path: str | os.PathLike) -> Path:
    """Where the CSV export puts the findings: `<name>-findings.csv` beside the History."""
    target = Path(history_path)
    return target.with_name(f"{target.stem}-findings.csv")


def write_history_csv(history: Mapping[str, Sequence[float]], path: str | os.PathLike,
                      findings: Sequence[FindingEvent] = ()) -> Path:
    """Writes the History CSV, and the findings beside it (`findings_path`) when there
    are any."""
    target = Path(path)
    write_atomic(target, history_csv(history).encode("utf-8"))
    if findings:
        write_atomic(findings_path(target), findings_csv(findings).encode("utf-8"))
    return target


def write_history_json(history: Mapping[str, Sequence[float]], path: str | os.PathLike,
                       project_name: str = "", findings: Iterable[FindingEvent] = ()) -> Path:
    target = Path(path)
    write_atomic(target, history_json(history, project_name, findings).encode("utf-8"))
    return target


# -- summary and script ----------------------------------------------------------------------


def summary_text(summary: Summary, title: str) -> str:
    """The summary table as `model.summary()` prints it, ending with a newline."""
    return format_table(summary, title) + "\n"


def write_summary_text(summary: Summary, title: str, path: str | os.PathLike) -> Path:
    target = Path(path)
    write_atomic(target, summary_text(summary, title).encode("utf-8"))
    return target


def write_script(project: Project, path: str | os.PathLike, base_dir: Path | None = None,
                 dataset: Any = None, device: str = "auto", loop: bool = False) -> Path:
    """The project as a standalone Keras script (the engine's `export_script`); with `loop`,
    its training as a tf.GradientTape loop written out (one device: no strategy).

    Raises:
        ExportError: the data or fit settings keep the script from being written.
    """
    from ..core.codegen import UnsafeCodeError
    from ..core.codegen_loop import LoopExportError
    from ..core.data import DataError
    from ..core.devices import with_strategy
    from ..core.export import export_script
    from ..core.project import ProjectError

    target = Path(path)
    try:
        text = export_script(project, base_dir, script_path=target, dataset=dataset, loop=loop)
        if not loop:
            text = with_strategy(text, device)
    except LoopExportError as exc:
        raise ExportError(f"The training loop cannot be written out: {exc}") from None
    except DataError as exc:
        raise ExportError("The script needs facts from the data, which cannot be loaded: "
                          + " ".join(exc.problems) + " Fix the Data settings, then export "
                          "again.") from None
    except ProjectError as exc:
        raise ExportError("The fit settings are not valid: " + " ".join(exc.problems)
                          + " Fix them in the Fit settings, then export again.") from None
    except UnsafeCodeError as exc:
        raise ExportError(f"The project cannot be written as code safely: {exc}") from None
    write_atomic(target, text.encode("utf-8"))
    return target


# -- plots -----------------------------------------------------------------------------------


def _scene_and_rect(target: Any) -> tuple[QGraphicsScene, QRectF]:
    """The scene to draw and the part of it that is the plot, for any accepted target."""
    if isinstance(target, QGraphicsView):
        scene = target.scene()
        rect = target.mapToScene(target.viewport().rect()).boundingRect()
    elif isinstance(target, QGraphicsScene):
        scene, rect = target, target.itemsBoundingRect()
    elif isinstance(target, QGraphicsItem):
        scene, rect = target.scene(), target.sceneBoundingRect()
    else:
        raise ExportError(f"Expected a plot (a pyqtgraph PlotItem, PlotWidget or graphics "
                          f"scene), got {type(target).__name__}.")
    if scene is None or rect.width() < 1 or rect.height() < 1:
        raise ExportError("Expected a plot that is on screen with a size, got an empty one: "
                          "show the plot, then export it.")
    return scene, rect


def _paint(scene: QGraphicsScene, painter: QPainter, out: QRectF, rect: QRectF) -> None:
    """Draws the view's background (pyqtgraph keeps it on the view, not the scene), then
    the plot, so the file looks like the window."""
    brush = scene.backgroundBrush()
    for view in scene.views():
        if view.backgroundBrush().style() != Qt.BrushStyle.NoBrush:
            brush = view.backgroundBrush()
            break
    painter.fillRect(out, brush if brush.style() != Qt.BrushStyle.NoBrush else QColor("white"))
    scene.render(painter, out, rect)


def plot_png(target: Any, scale: float = 2.0) -> bytes:
    """The plot as PNG bytes, `scale` times its size on screen (sharp on slides)."""
    scene, rect = _scene_and_rect(target)
    size = QSize(max(1, round(rect.width() * scale)), max(1, round(rect.height() * scale)))
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(0xFFFFFFFF)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    try:
        _paint(scene, painter, QRectF(0, 0, size.width(), size.height()), rect)
    finally:
        painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise ExportError("Qt could not encode the plot as PNG; export it as SVG instead.")
    buffer.close()
    return bytes(data.data())


def plot_svg(target: Any, title: str = "") -> bytes:
    """The plot as SVG bytes (vector: lines and text stay sharp at any size)."""
    from PySide6.QtSvg import QSvgGenerator

    scene, rect = _scene_and_rect(target)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(round(rect.width()), round(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    # At the screen's resolution: pyqtgraph sizes its axes and text in device pixels, and
    # QSvgGenerator's default of 72 dpi would draw them at 3/4 of the curves' scale.
    views = scene.views()
    generator.setResolution(views[0].logicalDpiX() if views else 96)
    generator.setTitle(title or "LayerLab plot")
    generator.setDescription("Exported from LayerLab")
    painter = QPainter(generator)
    try:
        _paint(scene, painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()
    buffer.close()
    return bytes(data.data())


def write_plot(target: Any, path: str | os.PathLike, title: str = "") -> Path:
    """Writes a plot as PNG or SVG, chosen by the file name's extension."""
    out = Path(path)
    suffix = out.suffix.lower()
    if suffix == ".png":
        payload = plot_png(target)
    elif suffix == ".svg":
        payload = plot_svg(target, title)
    else:
        raise ExportError(f"Expected a file name ending in .png or .svg, got {out.name!r}; "
                          "add one of those extensions.")
    write_atomic(out, payload)
    return out


__all__ = [
    "ExportError", "finding_json", "findings_csv", "findings_path", "history_columns",
    "history_csv", "history_json", "plot_png", "plot_svg", "summary_text",
    "write_history_csv", "write_history_json", "write_plot", "write_script",
    "write_summary_text",
]
