"""A hyperparameter search in words: lines that describe it, a first search for a setting
(the window's editor starts there), and the marks that show which settings are searched
(the model table, the code pane). Plain Python, like `core.search`, whose section it reads.
"""

from __future__ import annotations

from .search import (
    _LAYER_PATH,
    _OPTIMIZER_PATHS,
    SearchError,
    _is_int,
    _is_number,
    _kind_words,
    _plain,
    _target,
    current_value,
    fmt_value,
    objective_direction,
)
from .spec import Project, SearchDim, SearchSpec


def describe_dim(dim: SearchDim) -> str:
    """One line: 'model.layers[0].units: 4 to 64 in steps of 4'."""
    if dim.kind == "choice":
        return f"{dim.path}: one of {', '.join(fmt_value(v) for v in dim.values)}"
    text = f"{dim.path}: {fmt_value(dim.min)} to {fmt_value(dim.max)}"
    if dim.kind == "int" and dim.step not in (None, 1):
        text += f" in steps of {fmt_value(dim.step)}"
    elif dim.kind == "float" and dim.step is not None:
        text += f" in steps of {fmt_value(dim.step)}"
    if dim.sampling == "log":
        text += ", log scale"
    return text


def describe_space(search: SearchSpec) -> list[str]:
    """The search in lines: the tuner and objective, then one line per setting."""
    runs = f", {search.executions_per_trial} trainings each" \
        if search.executions_per_trial > 1 else ""
    head = (f"{search.tuner} search, up to {search.max_trials} trials{runs}, best by "
            f"{search.objective} ({'lowest' if objective_direction(search.objective) == 'min' else 'highest'})")
    return [head, *(describe_dim(d) for d in search.space)]


def suggest_dim(path: str, project: Project) -> SearchDim:
    """A first search for a setting, around its current value (the editor's starting
    point): a range from a quarter to four times a whole number, a decade either side of
    a rate (log scale), or the catalog's choices.

    Raises:
        SearchError: when the path names nothing searchable in this project.
    """
    target = _target(project, path, [])
    param = target.param
    value = _plain(current_value(target, project))
    if target.section == "optimizer_type":
        return SearchDim(path, "choice", values=("Adam", "SGD", "RMSprop"))
    if target.path == "fit.batch_size" and _is_int(value):
        sizes = [16, 32, 64, 128] if value in (16, 32, 64, 128) or value < 16 else \
            [max(1, value // 2), value, value * 2]
        return SearchDim(path, "choice", values=tuple(sizes))
    if param.kind in ("int", "size") and _is_int(value):
        lo = max(int(param.min) if param.min is not None else 1, int(value) // 4 or 1)
        hi = max(lo + 1, int(value) * 4)
        if param.max is not None:
            hi = min(hi, int(param.max))
        step = 1
        while (hi - lo) / (step * 2) >= 8:  # a power of two: about 8 to 16 values
            step *= 2
        hi = lo + step * max(1, (hi - lo) // step)
        return SearchDim(path, "int", lo, hi, step)
    if param.kind in ("float", "factor") and _is_number(value) and value > 0 and param.log:
        return SearchDim(path, "float", float(f"{value / 10:.3g}"),
                         float(f"{value * 10:.3g}"), None, "log")
    if param.kind in ("float", "factor"):
        lo = param.min if param.min is not None else 0.0
        hi = param.max if param.max is not None else max(1.0, float(value or 0) * 2)
        if param.max_exclusive:
            hi = hi * 0.9 if hi > 0 else hi - 0.1
        if param.min_exclusive:
            lo = lo + (hi - lo) * 0.01
        return SearchDim(path, "float", float(lo), float(hi))
    if param.kind == "bool":
        return SearchDim(path, "choice", values=(True, False))
    if param.kind == "choice":
        choices = [c for c in param.choices if c is not None]
        if param.name == "activation":  # the usual four, not Keras's 32
            choices = [c for c in ("relu", "tanh", "elu", "sigmoid") if c in choices]
        first = [value] if value is not None and value in param.choices else []
        rest = [c for c in choices if c not in first]
        return SearchDim(path, "choice", values=tuple((first + rest)[:4]))
    raise SearchError(f"{path}: {_kind_words(param)} cannot be searched")


def short_dim(dim: SearchDim) -> str:
    """A few words for a table cell: 'units 8–128', 'activation relu/tanh'."""
    name = dim.path.rsplit(".", 1)[-1] if dim.path not in _OPTIMIZER_PATHS else "optimizer"
    if dim.kind == "choice":
        return f"{name} {'/'.join(fmt_value(v) for v in dim.values)}"
    return f"{name} {fmt_value(dim.min)}–{fmt_value(dim.max)}"


def layer_dims(search: SearchSpec | None, index: int) -> list[SearchDim]:
    """The searched settings of layer `index` (model.layers[index].*)."""
    if search is None:
        return []
    prefix = f"model.layers[{index}]."
    return [d for d in search.space if d.path.startswith(prefix)]


def annotate_code(text: str, search: SearchSpec | None) -> tuple[str, list[int]]:
    """The model code (`codegen.model_code`) with the searched settings marked: a comment
    at the top, and `# searched: ...` at the end of each line that holds one (the code
    shows the current values, which a search replaces trial by trial). Returns the text and
    the 0-based numbers of the marked lines.

    A line is found by the code's own layout (one layer a line in the Sequential block,
    one argument a line in compile and fit); where it is not found, the comment at the
    top still names the setting.
    """
    if search is None or not search.space:
        return text, []
    lines = text.split("\n")
    marks: dict[int, list[str]] = {}
    layer_lines = _layer_lines(lines)
    for dim in search.space:
        at = None
        match = _LAYER_PATH.fullmatch(dim.path)
        if match and int(match.group(1)) < len(layer_lines):
            at = layer_lines[int(match.group(1))]
        elif dim.path.startswith("compile.optimizer"):
            at = _line_starting(lines, "    optimizer=")
        elif dim.path.startswith("compile.loss."):
            at = _line_starting(lines, "    loss=")
        elif dim.path.startswith("fit."):
            at = _line_starting(lines, f"    {dim.path[4:]}=")
        if at is not None:
            marks.setdefault(at, []).append(short_dim(dim))
    for at, words in marks.items():
        lines[at] = f"{lines[at]}  # searched: {', '.join(words)}"
    head = ["# Searched (Training > Search): each trial sets these; the code shows the",
            "# project's current values.",
            *(f"#   {describe_dim(d)}" for d in search.space), ""]
    shift = len(head)
    return "\n".join(head + lines), sorted(at + shift for at in marks)


def _layer_lines(lines: list[str]) -> list[int]:
    """The line of each layer in `model = keras.Sequential([` ... `])`, in order."""
    try:
        start = lines.index("model = keras.Sequential([")
    except ValueError:
        return []
    found = []
    for number in range(start + 1, len(lines)):
        line = lines[number]
        if line.startswith("]"):
            break
        if line.startswith("    ") and not line.startswith(("     ", "    )", "    ]")) \
                and not line.startswith("    keras.Input("):
            found.append(number)
    return found


def _line_starting(lines: list[str], prefix: str) -> int | None:
    return next((i for i, line in enumerate(lines) if line.startswith(prefix)), None)
