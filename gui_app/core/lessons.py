"""The example lessons (`resources/examples/*.layerlab.json`): listing them and opening one.

A lesson is an ordinary project file with a `description`. Opening one as a lesson differs
from opening a project in two ways, both so that the lesson is ready to train wherever
LayerLab runs:

* relative data paths (lesson 5's CSV) are made absolute, because the opened lesson has no
  project file of its own until it is saved somewhere else;
* a lesson on a Keras dataset (lesson 3: Fashion-MNIST) that is not in Keras's download
  cache opens on the bundled 8x8 digits set instead, with the input shape set to match,
  because classroom machines often have no network. The returned note says so, and gives
  the parameter counts of the smaller model, since the lesson's text counts them for the
  original images;
* a lesson on a folder of images that LayerLab draws itself (lessons 8a and 8b: the
  folder "shapes", `GENERATED_FOLDERS`) gets the folder written on first use into the
  user's data folder (`paths.data_dir()`), never the installation's, and its path set
  to it.

No Qt here: the window, the CLI and the tests share these functions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .project import SUFFIX, ProjectError, load_project
from .spec import Project
from .summary import LayerRow, Summary, summarize

#: Keras datasets that fall back to the bundled digits when they are not cached.
FALLBACK_SOURCES: dict[str, str] = {
    "keras:fashion_mnist": "Fashion-MNIST",
    "keras:mnist": "MNIST",
}
#: The set used instead: 1,797 handwritten digits of 8x8 pixels, ten classes, no download.
FALLBACK_DATA: dict[str, Any] = {"source": "digits", "standardize": True}
FALLBACK_INPUT_SHAPE: tuple[int, ...] = (64,)
#: Settings of the original data section that still apply to the bundled set.
_KEPT_DATA_KEYS = ("seed", "validation_split", "test_split", "labels")


def _shapes_folder() -> Path:
    from .shapes import lesson_folder

    return lesson_folder()


#: Image folders a lesson names by a relative path that LayerLab writes on first use.
GENERATED_FOLDERS: dict[str, Any] = {"shapes": _shapes_folder}


@dataclass(frozen=True)
class Lesson:
    """One example project as the File > Open Example menu lists it.

    Attributes:
        path: the project file.
        name: the project's name ("2a. Circle: why hidden layers are needed").
        description: the lesson's explanation (empty when the file has none).
    """

    path: Path
    name: str
    description: str

    @property
    def summary(self) -> str:
        """The description's first sentence: short enough for a tooltip or a list."""
        text = " ".join(self.description.split())
        end = text.find(". ")
        return text if end < 0 else text[: end + 1]


def default_examples_dir() -> Path:
    """The bundled examples folder (source checkout, installed copy or packaged bundle)."""
    from ..resources import examples_dir

    return examples_dir()


def list_examples(folder: str | os.PathLike | None = None) -> list[Lesson]:
    """Every readable lesson in `folder` (the bundled examples by default), by file name.

    A damaged example file is left out rather than failing the whole list: the menu must
    open even if one file of an installation was edited by hand.
    """
    where = Path(folder) if folder is not None else default_examples_dir()
    if not where.is_dir():
        return []
    lessons = []
    for path in sorted(where.glob(f"*{SUFFIX}")):
        try:
            project = load_project(path)
        except ProjectError:
            continue
        lessons.append(Lesson(path, project.name, project.description))
    return lessons


def keras_dataset_cached(source: str) -> bool:
    """True when Keras's download cache already holds every file of `source`.

    Looks where `data._load_keras` looks (`$KERAS_HOME/datasets`, `~/.keras/datasets`,
    `/tmp/.keras/datasets`), so "cached" here means "loads without a download" there.
    """
    from . import data

    if source == "keras:mnist":
        return data._find("mnist.npz") is not None
    if source == "keras:fashion_mnist":
        return all(data._find(f"fashion-mnist/{name}") is not None
                   for name in data._FASHION_FILES)
    if source == "keras:cifar10":
        return data._cifar_location() is not None
    return False


def _absolute_paths(project: Project, base_dir: Path) -> Project:
    path = project.data.path
    if not isinstance(path, str) or not path or Path(path).is_absolute():
        return project
    return replace(project, data={**project.data, "path": str((base_dir / path).resolve())})


def _generated_folder(project: Project, folder: Path) -> tuple[Project, str]:
    """The project with its generated image folder written and its path set to it, and a
    note when the folder could not be written ("" otherwise)."""
    path = project.data.path
    if project.data.source != "images" or path not in GENERATED_FOLDERS \
            or (folder / str(path)).exists():
        return project, ""
    try:
        made = GENERATED_FOLDERS[str(path)]()
    except OSError as exc:
        return project, (f"LayerLab could not write this lesson's pictures into its data "
                         f"folder ({exc.strerror or exc}); set LAYERLAB_DATA_DIR to a folder "
                         "you may write to, or write them with python -m gui_app.core.shapes "
                         "DIR and choose DIR as the data.")
    return replace(project, data={**project.data, "path": str(made)}), ""


def generated_lesson_data(project: Project, folder: str | os.PathLike) -> tuple[Project, str]:
    """The lesson with the image folder LayerLab generates for it written (on first use)
    and its data path set there; with a note instead when it could not be written."""
    return _generated_folder(project, Path(folder))


def prepare_lesson(project: Project, base_dir: str | os.PathLike | None = None,
                   cached: bool | None = None) -> tuple[Project, str]:
    """Makes a lesson ready to train here; returns it with a note for the person ("" if none).

    Args:
        project: the lesson as loaded from its file.
        base_dir: the lesson file's folder, to make a relative data path absolute (the
            bundled examples folder when None).
        cached: whether the lesson's Keras dataset is in the cache; looked up when None
            (tests pass it to cover both branches on any machine).

    Returns:
        (the project to open, a sentence saying what was changed and why, or "").
    """
    folder = Path(base_dir) if base_dir is not None else default_examples_dir()
    project, made = _generated_folder(project, folder)
    project = _absolute_paths(project, folder)
    source = project.data.source
    if source not in FALLBACK_SOURCES:
        return project, made
    if cached is None:
        cached = keras_dataset_cached(str(source))
    title = FALLBACK_SOURCES[str(source)]
    if cached:
        return project, f"Training on {title} from Keras's cache."
    data: dict[str, Any] = dict(FALLBACK_DATA)
    data.update({k: v for k, v in project.data.items() if k in _KEPT_DATA_KEYS})
    model = replace(project.model, input_shape=FALLBACK_INPUT_SHAPE)
    prepared = replace(project, model=model, data=data)
    from .data import keras_datasets_dir

    cache = keras_datasets_dir() / ("fashion-mnist" if source == "keras:fashion_mnist" else "")
    note = (f"{title} is not in Keras's cache here, so this lesson uses the bundled digits: "
            "1,797 images of 8x8 pixels in 10 classes, each 64 numbers (input shape (64,))."
            f"{_parameter_change(project, prepared)} For {title}, choose it as the data "
            f"source while online (Keras downloads it once), or copy its files into {cache}.")
    return prepared, note


def _first_weights(summary: Summary) -> tuple[int, LayerRow] | None:
    """The first layer that has parameters, with the number of inputs it gets per sample."""
    shape = summary.input_shape
    for row in summary.rows:
        if row.params:
            last = shape[-1] if shape else None
            return (last if isinstance(last, int) else 0), row
        shape = row.output_shape or ()
    return None


def _parameter_change(original: Project, fallback: Project) -> str:
    """How the smaller input changes the parameter counts, worked out from both models.

    The lesson's text gives the counts for its own dataset (lesson 3: 266,610, of which the
    first Dense layer holds 784 x 300 + 300); on the digits every image is 64 numbers, so
    the note gives the counts the summary will really show. They come from
    `summarize` (no Keras), so they stay right if the lesson's layers are edited. Returns
    "" when either model has no valid summary (there is then nothing true to say).
    """
    before, after = summarize(original.model), summarize(fallback.model)
    first_before, first_after = _first_weights(before), _first_weights(after)
    if not (before.ok and after.ok) or first_before is None or first_after is None:
        return ""
    inputs, row = first_after
    units = row.output_shape[-1] if row.output_shape else None
    worked = (f"{inputs} x {units} + {units} = "
              if row.type == "Dense" and isinstance(units, int) and inputs
              and inputs * units + units == row.params else "")
    return (f" The first {row.type} layer then has {worked}{row.params:,} parameters (not "
            f"{first_before[1].params:,}) and the model {after.total_params:,} (not "
            f"{before.total_params:,}).")


def load_example(path: str | os.PathLike) -> tuple[Project, str]:
    """Loads a lesson file and prepares it (see `prepare_lesson`); raises ProjectError."""
    source = Path(path)
    return prepare_lesson(load_project(source), source.parent)


def description_of(project: Project) -> str:
    """The lesson text as shown in the window: whitespace folded, empty for a plain project."""
    return " ".join(project.description.split())


__all__ = [
    "FALLBACK_SOURCES", "Lesson", "description_of", "generated_lesson_data",
    "keras_dataset_cached",
    "list_examples", "load_example", "prepare_lesson",
]
