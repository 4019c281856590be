"""Pre-flight checks: the mistakes people make before training, each with a fix.

Keras reports most of these late and cryptically ("Arguments `target` and `output` must have
the same shape"), or not at all (softmax on one unit trains to nothing). Here each becomes a
finding with a message in plain words and, where one exists, a fix that can be applied to
the project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from .catalog import (
    IMAGE_PREPROCESSING_LAYERS,
    LAYERS,
    check_args,
    loss_def,
    metric_def,
    optimizer_def,
)
from .limits import model_problem
from .paths import unapproved
from .spec import CompileSpec, DataInfo, LayerSpec, ObjectSpec, Project
from .summary import Summary, format_shape, summarize

ERROR, WARNING, INFO = "error", "warning", "info"

CROSSENTROPY = {
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy", "CategoricalFocalCrossentropy",
}
SOFT_LAYERS = {"Dropout", "GaussianNoise", "SpatialDropout1D", "SpatialDropout2D", "Flatten",
               "Reshape", "BatchNormalization", "LayerNormalization", "Rescaling",
               *IMAGE_PREPROCESSING_LAYERS}
IMBALANCE_RATIO = 3.0

#: Every code `run_checks` gives, with the severity it has when the project does not mark
#: it intended. A project's `intended` list may only name these (`project.py` checks), so
#: a misspelt code is reported instead of silently marking nothing.
CODES: dict[str, str] = {
    "input-shape": ERROR, "empty-model": ERROR, "layer": ERROR, "unknown-optimizer": ERROR,
    "unknown-loss": ERROR, "unknown-metric": ERROR, "invalid-argument": ERROR,
    "too-big": ERROR, "writes-outside": ERROR, "softmax-one-unit": ERROR,
    "input-shape-mismatch": ERROR, "classification-loss-on-regression": ERROR,
    "categorical-with-integer-labels": ERROR, "sparse-with-one-hot-labels": ERROR,
    "binary-with-many-classes": ERROR, "output-units": ERROR,
    "dense-on-sequence": WARNING, "logits-without-from-logits": WARNING,
    "odd-output-activation": WARNING, "accuracy-on-regression": WARNING,
    "softmax-with-binary-loss": WARNING, "output-not-flat": WARNING,
    "regression-loss-on-classes": WARNING, "unbalanced-classes": INFO,
    "crop-larger-than-input": ERROR, "augmentation-late": WARNING,  # augment_checks.py
    "dense-on-images": ERROR, "images-not-rescaled": INFO,  # image_checks.py
    "image-files-left-out": WARNING, "image-folder-note": INFO,
}
#: The codes a project may mark intended: every warning and note, and the one error that
#: still trains (softmax on one unit learns nothing, which a lesson may want to show). The
#: other errors stay errors whatever a file says: Keras would fail on them, or they guard
#: this computer (`too-big`, `writes-outside`), which a shared file must not switch off.
INTENDABLE: frozenset[str] = frozenset(
    {code for code, severity in CODES.items() if severity != ERROR} | {"softmax-one-unit"})


@dataclass(frozen=True)
class Fix:
    """A change that resolves a finding; `apply` returns the corrected project."""

    label: str
    apply: Callable[[Project], Project] = field(compare=False, repr=False)


@dataclass(frozen=True)
class Finding:
    """One problem found before training.

    `where` is a JSON-style path ("model.layers[3]", "compile.loss", "data.labels") so the
    window can show the finding next to the control it is about.
    """

    severity: str
    code: str
    message: str
    where: str
    layer_index: int | None = None
    fixes: tuple[Fix, ...] = ()
    #: The project's reason when it marks this finding intended ("" for an ordinary one);
    #: the finding is then a note and `message` says it is intentional and why.
    intended: str = ""

    def to_json(self) -> dict:
        out = {"severity": self.severity, "code": self.code, "message": self.message,
               "where": self.where, "fixes": [f.label for f in self.fixes]}
        if self.intended:
            out["intended"] = self.intended
        return out


# -- small helpers that return edited projects -----------------------------------------------

def _set_loss(loss: ObjectSpec) -> Callable[[Project], Project]:
    return lambda p: replace(p, compile=replace(p.compile, loss=loss))


def _set_layer(index: int, **changes) -> Callable[[Project], Project]:
    def apply(p: Project) -> Project:
        layer = p.model.layers[index]
        return replace(p, model=p.model.set_layer(index, layer.with_args(**changes)))
    return apply


def _set_data(**changes) -> Callable[[Project], Project]:
    return lambda p: replace(p, data={**p.data, **changes})


def _chain(*steps: Callable[[Project], Project]) -> Callable[[Project], Project]:
    def apply(p: Project) -> Project:
        for step in steps:
            p = step(p)
        return p
    return apply


def _renamed_loss(loss: ObjectSpec, new_type: str, alias: str) -> ObjectSpec:
    """Keeps from_logits when switching between crossentropies."""
    keep = {k: v for k, v in loss.args.items() if k == "from_logits"}
    return ObjectSpec(new_type, keep) if keep else ObjectSpec(alias)


@dataclass(frozen=True)
class _Output:
    """The model's last weighted layer: where the output's units and activation come from."""

    index: int | None  # index of the layer that sets the units
    units: int | None
    activation: str  # the final activation, "linear" when none
    activation_index: int | None  # the layer whose activation argument decides it


def _output(project: Project, summary: Summary) -> _Output:
    layers = project.model.layers
    activation, activation_index = None, None
    unit_index = None
    for i in range(len(layers) - 1, -1, -1):
        layer = layers[i]
        if layer.type in SOFT_LAYERS:
            continue
        if layer.type == "Activation":
            if activation is None:
                activation, activation_index = layer.args.get("activation"), i
            continue
        unit_index = i
        if activation is None:
            default = LAYERS[layer.type].resolved({}).get("activation") if layer.type in LAYERS else None
            activation = layer.args.get("activation", default)
            activation_index = i
        break
    shape = summary.output_shape
    units = shape[-1] if shape else None
    return _Output(unit_index, units, activation or "linear", activation_index)


def _compile_findings(compile_spec: CompileSpec) -> list[Finding]:
    found = []
    for what, spec, lookup in (("optimizer", compile_spec.optimizer, optimizer_def),
                               ("loss", compile_spec.loss, loss_def)):
        definition = lookup(spec.type)
        if definition is None:
            found.append(Finding(ERROR, f"unknown-{what}",
                                 f"Keras has no {what} called '{spec.type}'. Pick one from the list.",
                                 f"compile.{what}"))
            continue
        for arg, message in check_args(definition, spec.args):
            found.append(Finding(ERROR, "invalid-argument", f"{definition.type} {arg}: {message}.",
                                 f"compile.{what}.{arg}"))
    for i, metric in enumerate(compile_spec.metrics):
        definition = metric_def(metric.type)
        if definition is None:
            found.append(Finding(ERROR, "unknown-metric",
                                 f"Keras has no metric called '{metric.type}'. Pick one from the list.",
                                 f"compile.metrics[{i}]"))
            continue
        for arg, message in check_args(definition, metric.args):
            found.append(Finding(ERROR, "invalid-argument", f"{definition.type} {arg}: {message}.",
                                 f"compile.metrics[{i}].{arg}"))
    return found


def _allow(value: str) -> Callable[[Project], Project]:
    return lambda p: replace(p, allow_outside=tuple(dict.fromkeys([*p.allow_outside, value])))


def _limit_findings(project: Project, summary: Summary) -> list[Finding]:
    """A model too big for this computer, and callbacks that would write outside the
    project's folder without the person's say-so (a shared project once overwrote
    `~/important_model.keras` this way)."""
    found = []
    problem = model_problem(summary.total_params, len(project.model.layers))
    if problem:
        found.append(Finding(ERROR, "too-big", f"The model is too big: {problem}.",
                             "model.layers"))
    for w in unapproved(project.fit, project.allow_outside):
        found.append(Finding(
            ERROR, "writes-outside",
            f"{w.where.split('.')[-1]} {w.value[:80]!r} would write outside the project's "
            f"folder ({w.outside}). Use a path inside the folder, such as 'logs/run.csv', or "
            "allow it if you trust this project.",
            w.where, None, (Fix(f"Allow writing to {w.value[:60]!r}", _allow(w.value)),)))
    return found


def run_checks(project: Project, data: DataInfo | None = None,
               summary: Summary | None = None) -> list[Finding]:
    """Every finding for a project, errors first.

    A finding the project marks intended (`Project.intended`, for a code in INTENDABLE)
    becomes a note that gives the project's reason: it neither warns nor blocks training.

    Args:
        project: the project to check.
        data: what is known about the data (shapes, label kind, classes); several checks
            only run when it is given.
        summary: the project's summary when the caller already has it (the window does).
    """
    found = _findings(project, data, summary or summarize(project.model))
    return _sorted(_mark_intended(found, project))


def _mark_intended(found: list[Finding], project: Project) -> list[Finding]:
    """The findings, those the project makes on purpose turned into notes with its reason.

    The check's own words stay at the end of the message: the person sees both the
    lesson's reason and what LayerLab would advise in an ordinary project, and the fixes
    stay too, to try the usual way.
    """
    reasons = {mark.code: mark.why for mark in project.intended if mark.code in INTENDABLE}
    if not reasons:
        return found
    marked = []
    for finding in found:
        why = reasons.get(finding.code)
        if why is None:
            marked.append(finding)
            continue
        reason = " ".join(why.split())
        marked.append(replace(
            finding, severity=INFO, intended=reason,
            message=f"Intended in this project: {reason} (Otherwise the check would say: "
                    f"{finding.message})"))
    return marked


def _findings(project: Project, data: DataInfo | None, summary: Summary) -> list[Finding]:
    """Every finding as the checks word it, before the project's intended marks."""
    found: list[Finding] = []
    model = project.model

    if summary.input_error:
        found.append(Finding(ERROR, "input-shape", summary.input_error, "model.input_shape"))
    if not model.layers:
        found.append(Finding(ERROR, "empty-model",
                             "The model has no layers. Add at least one (a Dense layer for the output).",
                             "model.layers"))
    # Imported here: augment_checks builds on this module's Finding and Fix.
    from .augment_checks import augmentation_findings, row_fixes

    for row in summary.rows:
        if row.error:
            found.append(Finding(ERROR, "layer", row.error, f"model.layers[{row.index}]", row.index,
                                 row_fixes(project, summary, row)))
    found += augmentation_findings(project, summary)
    found += _compile_findings(project.compile)
    found += _limit_findings(project, summary)
    from .image_checks import image_findings  # it builds on Finding and Fix, as above

    found += image_findings(project, data, summary)
    # A Dense layer on a folder's images that leaves the output unflat is an error there;
    # the general warnings below would only repeat it.
    on_images = any(f.code == "dense-on-images" for f in found)

    # Dense on rank-3+ input: Keras allows it (it acts on the last axis), but it is rarely meant.
    shape = (None, *model.input_shape) if not summary.input_error else None
    for i, layer in enumerate(model.layers):
        row = summary.rows[i]
        if layer.type == "Dense" and shape is not None and len(shape) >= 3 and not on_images:
            found.append(Finding(
                WARNING, "dense-on-sequence",
                f"Dense layer {row.name} gets {format_shape(shape)}: it will act on the last axis "
                f"only and keep the other axes, so its output is {format_shape(row.output_shape)}. "
                "Add a Flatten (or a global pooling) layer before it if you meant one output per sample.",
                f"model.layers[{i}]", i,
                (Fix("Insert Flatten before it",
                     lambda p, i=i: replace(p, model=p.model.insert(i, LayerSpec("Flatten")))),),
            ))
        shape = row.output_shape
        if shape is None:
            break

    loss = loss_def(project.compile.loss.type)
    if loss is None or not summary.ok or not model.layers:
        return found
    out = _output(project, summary)
    from_logits = bool(project.compile.loss.args.get("from_logits", False))
    act_where = f"model.layers[{out.activation_index}]" if out.activation_index is not None else "model.layers"
    units_where = f"model.layers[{out.index}]" if out.index is not None else "model.layers"
    output_shape = summary.output_shape or ()

    if out.activation == "softmax" and out.units == 1:
        fixes = []
        if out.activation_index is not None:
            fixes.append(Fix("Use sigmoid", _set_layer(out.activation_index, activation="sigmoid")))
        found.append(Finding(
            ERROR, "softmax-one-unit",
            "Softmax on a single output always gives 1.0, so the model cannot learn anything. "
            "Use sigmoid for one output (two classes), or as many outputs as classes with softmax.",
            act_where, out.activation_index, tuple(fixes)))

    if loss.type in CROSSENTROPY and out.activation == "linear" and not from_logits:
        fixes = [Fix("Set from_logits=True", _set_loss(project.compile.loss.with_args(from_logits=True)))]
        wanted = "sigmoid" if loss.type.startswith("Binary") else "softmax"
        if out.activation_index is not None:
            fixes.append(Fix(f"Use {wanted} on the last layer",
                             _set_layer(out.activation_index, activation=wanted)))
        found.append(Finding(
            WARNING, "logits-without-from-logits",
            f"The last layer has no activation, so it outputs raw scores, but {loss.alias} expects "
            f"probabilities. Set from_logits=True on the loss, or give the last layer a {wanted} activation.",
            "compile.loss", out.activation_index, tuple(fixes)))

    if loss.type in CROSSENTROPY and out.activation in ("relu", "tanh"):
        found.append(Finding(
            WARNING, "odd-output-activation",
            f"The last layer uses {out.activation}, which does not give probabilities; {loss.alias} "
            f"expects {'sigmoid' if loss.type.startswith('Binary') else 'softmax'} outputs.",
            act_where, out.activation_index))

    regression_loss = "regression" in loss.tasks and not set(loss.tasks) - {"regression"}
    # With classification data, MSE on 0/1 labels is a deliberate (if unusual) choice and
    # accuracy is meaningful; the data check below says so more precisely.
    if regression_loss and (data is None or data.task == "regression"):
        for i, metric in enumerate(project.compile.metrics):
            definition = metric_def(metric.type)
            if definition and "regression" not in definition.tasks:
                found.append(Finding(
                    WARNING, "accuracy-on-regression",
                    f"'{metric.type}' counts exact class matches, which means nothing for "
                    f"{loss.alias} (a regression loss). Use mae or root_mean_squared_error.",
                    f"compile.metrics[{i}]", None,
                    (Fix("Use mae instead", lambda p, i=i: replace(p, compile=replace(
                        p.compile, metrics=tuple(ObjectSpec("mae") if j == i else m
                                                 for j, m in enumerate(p.compile.metrics))))),)))

    if loss.type in ("BinaryCrossentropy", "BinaryFocalCrossentropy") and out.activation == "softmax" \
            and (out.units or 0) > 1:
        found.append(Finding(
            WARNING, "softmax-with-binary-loss",
            f"{loss.alias} treats each of the {out.units} outputs as its own yes/no question, but "
            "softmax makes them compete. For one class per sample use sparse_categorical_crossentropy.",
            "compile.loss", None,
            (Fix("Use sparse_categorical_crossentropy", _set_loss(
                _renamed_loss(project.compile.loss, "SparseCategoricalCrossentropy",
                              "sparse_categorical_crossentropy"))),)))

    if len(output_shape) > 2 and loss.type in CROSSENTROPY and not on_images:
        found.append(Finding(
            WARNING, "output-not-flat",
            f"The model outputs {format_shape(summary.output_shape)} per batch, one prediction per "
            "step or pixel. For one prediction per sample, add Flatten or a global pooling layer "
            "before the last Dense.", units_where, out.index))

    if data is not None:
        found += _data_findings(project, data, loss, out, summary)
    return found


def _data_findings(project: Project, data: DataInfo, loss, out: _Output,
                   summary: Summary) -> list[Finding]:
    found: list[Finding] = []
    model_shape = tuple(project.model.input_shape)
    data_shape = tuple(data.input_shape)
    if len(model_shape) != len(data_shape) or any(
        m is not None and m != d for m, d in zip(model_shape, data_shape)
    ):
        found.append(Finding(
            ERROR, "input-shape-mismatch",
            f"The model expects inputs shaped {format_shape(model_shape)}, but each sample of the "
            f"data is {format_shape(data_shape)}. Set the input shape to {list(data_shape)}.",
            "model.input_shape", None,
            (Fix(f"Set input shape to {list(data_shape)}",
                 lambda p: replace(p, model=replace(p.model, input_shape=data_shape))),)))

    k = data.num_classes
    units = out.units
    if data.task == "regression":
        if "regression" not in loss.tasks:
            found.append(Finding(
                ERROR, "classification-loss-on-regression",
                f"The data's targets are numbers to predict (regression), but {loss.alias} is a "
                "classification loss. Use mean_squared_error, and a linear last layer.",
                "compile.loss", None,
                (Fix("Use mean_squared_error", _set_loss(ObjectSpec("mean_squared_error"))),)))
        return found

    if "regression" in loss.tasks and not set(loss.tasks) - {"regression"}:
        found.append(Finding(
            INFO if k == 2 and out.units == 1 else WARNING, "regression-loss-on-classes",
            f"The data has {k} classes, but {loss.alias} is a regression loss. "
            + ("Use binary_crossentropy with a sigmoid output." if k == 2 else
               "Use sparse_categorical_crossentropy with a softmax output."),
            "compile.loss", None,
            (Fix("Use " + ("binary_crossentropy" if k == 2 else "sparse_categorical_crossentropy"),
                 _set_loss(ObjectSpec("binary_crossentropy" if k == 2
                                      else "sparse_categorical_crossentropy"))),)))
        return found

    one_hot_loss = "one_hot" in loss.labels and "integer" not in loss.labels
    integer_loss = loss.type == "SparseCategoricalCrossentropy"
    if one_hot_loss and data.label_kind in ("integer", "binary"):
        found.append(Finding(
            ERROR, "categorical-with-integer-labels",
            f"{loss.alias} needs one-hot labels (one column per class), but the labels are class "
            f"numbers shaped {format_shape((None, *data.label_shape))}. Keras would only say that "
            "'target and output must have the same shape'. Use sparse_categorical_crossentropy, "
            "or switch the data to one-hot labels.",
            "compile.loss", None,
            (Fix("Use sparse_categorical_crossentropy", _set_loss(_renamed_loss(
                project.compile.loss, "SparseCategoricalCrossentropy",
                "sparse_categorical_crossentropy"))),
             Fix("Use one-hot labels", _set_data(labels="one_hot")))))
    if integer_loss and data.label_kind == "one_hot":
        found.append(Finding(
            ERROR, "sparse-with-one-hot-labels",
            f"{loss.alias} needs class numbers (0..{(k or 2) - 1}), but the labels are one-hot "
            "rows. Use categorical_crossentropy, or switch the data to integer labels.",
            "compile.loss", None,
            (Fix("Use categorical_crossentropy", _set_loss(_renamed_loss(
                project.compile.loss, "CategoricalCrossentropy", "categorical_crossentropy"))),
             Fix("Use integer labels", _set_data(labels="integer")))))
    binary_loss = loss.type in ("BinaryCrossentropy", "BinaryFocalCrossentropy", "Hinge", "SquaredHinge")
    if k is not None and k > 2 and (binary_loss or out.activation == "sigmoid"):
        fixes = [Fix("Use softmax with one output per class",
                     _chain(*([_set_layer(out.index, units=k)] if out.index is not None else []),
                            *([_set_layer(out.activation_index, activation="softmax")]
                              if out.activation_index is not None else []),
                            _set_loss(ObjectSpec("sparse_categorical_crossentropy"
                                                 if data.label_kind == "integer"
                                                 else "categorical_crossentropy"))))]
        found.append(Finding(
            ERROR, "binary-with-many-classes",
            f"The data has {k} classes, but "
            + (f"{loss.alias} and " if binary_loss else "")
            + f"a {out.activation} output only separate two. Use {k} outputs with softmax and "
            + ("sparse_categorical_crossentropy." if data.label_kind == "integer"
               else "categorical_crossentropy."),
            "compile.loss" if binary_loss else f"model.layers[{out.activation_index}]",
            out.activation_index, tuple(fixes)))
    elif k is not None and units is not None:
        wanted = 1 if (binary_loss or (k == 2 and out.activation == "sigmoid")) else k
        if units != wanted:
            fixes = []
            if out.index is not None and project.model.layers[out.index].type == "Dense":
                fixes.append(Fix(f"Set units to {wanted}", _set_layer(out.index, units=wanted)))
            reason = ("one output for the probability of class 1" if wanted == 1
                      else f"one output per class ({k} classes)")
            found.append(Finding(
                ERROR, "output-units",
                f"The last layer has {units} output(s), but {loss.alias} on this data needs "
                f"{wanted}: {reason}.",
                f"model.layers[{out.index}]" if out.index is not None else "model.layers",
                out.index, tuple(fixes)))

    counts = [c for c in data.class_counts if c > 0]
    if len(counts) >= 2 and max(counts) >= IMBALANCE_RATIO * min(counts) \
            and not project.fit.class_weight:
        found.append(Finding(
            INFO, "unbalanced-classes",
            f"The classes are unbalanced (largest {max(counts):,} vs smallest {min(counts):,} "
            "samples): the model can score well by ignoring the small class. Consider "
            "class_weight 'balanced', which weights each class by how rare it is.",
            "fit.class_weight", None,
            (Fix("Use class_weight 'balanced'",
                 lambda p: replace(p, fit={**p.fit, "class_weight": "balanced"})),)))
    return found


def _sorted(found: list[Finding]) -> list[Finding]:
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    return sorted(found, key=lambda f: order[f.severity])


def has_errors(findings: list[Finding]) -> bool:
    return any(f.severity == ERROR for f in findings)
