"""Where a hyperparameter search keeps its trials: `<name>.search/` beside the project.

Keras Tuner writes its state there (the oracle, each trial, the best weights) and reads it
back when a search continues; LayerLab writes each trial's record beside it
(`engine.tuning`). The folder is always inside the project's folder, never a link, and
stamped with this computer's key, so state that came with a shared project is not read.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .search import SearchError
from .spec import Project

SUFFIX = ".layerlab.json"
#: The file that marks a folder as made by LayerLab on this computer (`prepare_folder`).
STAMP_FILE = "layerlab-search.json"


def search_folder(project_path: str | Path) -> Path:
    """`<folder>/<name>.search` beside `<folder>/<name>.layerlab.json`: always inside the
    project's folder, whatever the project holds (the name comes from the file's name)."""
    path = Path(project_path).absolute()
    name = path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem
    return path.parent / f"{name or 'project'}.search"


def search_key(project: Project) -> str:
    """A name for the trials of this search: the same for the same model, data, compile,
    fit and search (trial counts aside), so a continued search finds its trials, and a
    changed project or space starts afresh instead of mixing results."""
    from .project import project_to_json

    doc = project_to_json(project)
    for key in ("name", "description", "intended", "allow_outside", "format", "version"):
        doc.pop(key, None)
    search = dict(doc.get("search") or {})
    search.pop("max_trials", None)
    doc["search"] = search
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode("utf-8")).hexdigest()
    tuner = project.search.tuner if project.search else "search"
    return f"{tuner}-{digest[:12]}"


def prepare_folder(folder: Path, project_folder: Path) -> Path:
    """Creates (or checks) the search folder: inside the project's folder, not a link, and
    made by LayerLab on this computer.

    Keras Tuner reads its state back from this folder when a search continues; a folder
    that came with a shared project (a zip file, a download) could hold state crafted to
    mislead that reader, so a folder without this computer's stamp is refused, in words.

    Raises:
        SearchError: for a link, a folder outside the project's, a file in the way, or a
            folder LayerLab did not make here.
    """
    from .paths import sign_approval, verify_approval

    folder = Path(folder)
    base = Path(project_folder).resolve()
    if folder.is_symlink():
        raise SearchError(f"{folder}: expected a folder for the search's trials, got a link; "
                          "remove the link, then search again")
    resolved = folder.resolve()
    if resolved.parent != base:
        raise SearchError(f"{folder}: expected the search folder inside {base}, got "
                          f"{resolved}; searches keep their trials beside the project")
    marker = folder / STAMP_FILE
    token = ["layerlab-search", str(resolved)]
    if folder.exists():
        if not folder.is_dir():
            raise SearchError(f"{folder}: expected a folder for the search's trials, got a "
                              "file; rename or remove it")
        stamp = None
        try:
            if marker.is_file() and not marker.is_symlink():
                stamp = json.loads(marker.read_text(encoding="utf-8")).get("stamp")
        except (OSError, ValueError, AttributeError):
            stamp = None
        if not verify_approval(token, stamp):
            raise SearchError(f"{folder}: this search folder was not made by LayerLab on "
                              "this computer (it may have come with a shared project); "
                              "delete or rename it to start the search afresh")
        return folder
    try:
        folder.mkdir()
        marker.write_text(json.dumps({"made_by": "LayerLab", "stamp": sign_approval(token)})
                          + "\n", encoding="utf-8")
    except OSError as exc:
        raise SearchError(f"{folder}: cannot make the search folder "
                          f"({exc.strerror or exc}); check the project folder's "
                          "permissions") from None
    return folder
