"""The training written out as an explicit `tf.GradientTape` loop (`layerlab export --loop`).

`model.fit` hides one loop: for each epoch, for each batch, run the model, measure the
loss, take its gradient and let the optimizer step; then measure the validation data.
`training_loop_lines()` writes that loop for a project, as a lesson would: the same model
(`codegen.sequential_code`), the same epochs, batch size, steps per epoch and virtual-epoch
lines (`codegen.schedule_code`) and the same callbacks (`codegen.callbacks_code`) as the
fit export, so the two scripts train the same network the same way; only the order of the
shuffled batches differs (fit draws it from Keras's seeded generator, the loop from NumPy's).

What `model.compile` would resolve by itself is written out as objects the loop calls:
the optimizer, the loss and the metrics are the catalog's classes (`codegen.object_code`
with `instance=True`), named as `compile` names them ("mae" stays "mae"), and "accuracy"
becomes the accuracy `compile` picks for the model's output and labels. The project's
callbacks are the same Keras objects as in the fit export, driven through
`keras.callbacks.CallbackList` at the points where fit calls them; class weights become
one weight per example of each batch, as fit turns them into sample weights.

As in codegen, project values reach the text only through `literal()`, `identifier()`
(inside `object_code` and `callback_code`) and `comment_text()`; no f-string here puts
project text into the code by itself.
"""

from __future__ import annotations

from typing import Any

from .catalog import loss_def, metric_def, optimizer_def
from .codegen import (
    INDENT,
    Schedule,
    callbacks_code,
    literal,
    object_code,
    project_callbacks,
    schedule_code,
    sequential_code,
)
from .spec import FitSpec, ObjectSpec, Project

__all__ = ["LoopExportError", "training_loop_code", "training_loop_lines"]

# The metric names for which `compile` picks binary, sparse or categorical accuracy.
_ACCURACY_NAMES = ("accuracy", "acc")


class LoopExportError(ValueError):
    """A project the loop export cannot write (its message says what, why and the fix)."""


def training_loop_code(project: Project) -> str:
    """The model and the loop as one text, as `codegen.model_code` is the model and fit.

    Raises:
        LoopExportError: for an optimizer, loss or metric LayerLab does not know.
        UnsafeCodeError: for a project part that cannot be written as code safely.
    """
    return "\n".join(sequential_code(project) + [""] + training_loop_lines(project)) + "\n"


def training_loop_lines(project: Project) -> list[str]:
    """The lines after `model = keras.Sequential(...)`: the compile pieces, one training
    step and one evaluation step, and the epochs.

    The script around them defines SEED, the data (`x_train`, `y_train`, `x_val`, `y_val`
    and `x_test`, `y_test`; or `train_ds`, `val_ds`, `test_ds`, `y_train` and
    `train_files` for a folder of images) and, with class weights, `class_weight`; it
    prints `history` at the end (see `export.export_script`).

    Raises:
        LoopExportError: for an optimizer, loss or metric LayerLab does not know.
        UnsafeCodeError: for a project part that cannot be written as code safely.
    """
    fit = project.fit
    images = project.data.source == "images"
    weighted = bool(fit.class_weight)
    validation = bool(project.data.validation_split)
    callbacks = project_callbacks(project)
    plan = schedule_code(project)
    w_arg = ", wb" if weighted else ""
    w_kw = ", sample_weight=wb" if weighted else ""

    lines = _compile_pieces(project) + [""] + _schedule_lines(plan, images, fit)
    lines += [
        "",
        '# "loss" as fit reports it: the mean of the batch losses, each counting as many',
        "# times as its batch has examples.",
        'loss_mean = keras.metrics.Mean(name="loss")',
        "",
        "",
        "@tf.function  # traced into a TensorFlow graph, as fit does; remove it to debug "
        "step by step",
        f"def train_step(xb, yb{w_arg}):",
        '    """One step of gradient descent on one batch of examples."""',
        "    # The forward pass, recorded on a tape so that TensorFlow can differentiate it.",
        "    with tf.GradientTape() as tape:",
        "        pred = model(xb, training=True)  # training=True: dropout and the like are on",
        "        # How wrong the batch is, plus the layers' weight penalties (regularizers).",
        f"        loss = loss_fn(yb, pred{w_kw}) + sum(model.losses)",
        "    # How the loss changes with each trainable weight ...",
        "    grads = tape.gradient(loss, model.trainable_variables)",
        "    # ... and one optimizer step: every weight moves a little downhill.",
        "    optimizer.apply_gradients(zip(grads, model.trainable_variables))",
        "    loss_mean.update_state(loss, sample_weight=tf.shape(xb)[0])",
        "    for metric in metrics:",
        f"        metric.update_state(yb, pred{w_kw})",
        "",
        "",
        "@tf.function",
        "def test_step(xb, yb):",
        '    """One batch of examples the model does not learn from: predict and measure."""',
        "    pred = model(xb, training=False)",
        "    loss = loss_fn(yb, pred) + sum(model.losses)",
        "    loss_mean.update_state(loss, sample_weight=tf.shape(xb)[0])",
        "    for metric in metrics:",
        "        metric.update_state(yb, pred)",
        "",
        "",
        'def results(prefix=""):',
        '    """The loss and the metrics since the last call, by name ("loss", "val_accuracy",',
        '    ...); then they start again from nothing."""',
        "    logs = {}",
        "    for metric in [loss_mean, *metrics]:",
        '        logs[f"{prefix}{metric.name}"] = float(metric.result())',
        "        metric.reset_state()",
        "    return logs",
        "",
        "",
    ]
    if images:
        lines += [
            'def evaluate(batches, prefix=""):',
            '    """The loss and the metrics on a whole pipeline of batches."""',
            "    for xb, yb in batches:",
            "        test_step(xb, yb)",
            "    return results(prefix)",
        ]
    else:
        lines += [
            'def evaluate(x, y, prefix=""):',
            '    """The loss and the metrics on whole arrays, one batch at a time."""',
            "    for start in range(0, len(x), BATCH_SIZE):",
            "        test_step(x[start:start + BATCH_SIZE], y[start:start + BATCH_SIZE])",
            "    return results(prefix)",
        ]
    if weighted:
        lines += [
            "",
            "",
            "def example_weights(labels):",
            '    """fit\'s class_weight, one weight per example: each weighs what its class '
            'weighs."""',
            "    labels = np.asarray(labels)",
            "    if labels.ndim > 1:  # one-hot rows, or a column of class numbers",
            "        labels = labels.argmax(axis=-1) if labels.shape[-1] != 1 else labels[:, 0]",
            "    return np.array([class_weight.get(int(c), 1.0) for c in np.round(labels)],",
            "                    dtype=np.float32)",
        ]
    lines += ["", ""]
    lines += _loop_lines(plan, images, weighted, validation, callbacks)
    return lines


def _compile_pieces(project: Project) -> list[str]:
    """`optimizer = ...`, `loss_fn = ...` and `metrics = [...]`: what `model.compile`
    would be given, as the objects it would make of them.

    Raises:
        LoopExportError: for an optimizer, loss or metric the catalog does not list.
    """
    c = project.compile
    optimizer = _instance(c.optimizer, "optimizers", optimizer_def, "compile.optimizer")
    loss = _instance(c.loss, "losses", loss_def, "compile.loss")
    metrics = []
    accuracy = False
    for i, spec in enumerate(c.metrics):
        definition = metric_def(spec.type) if isinstance(spec.type, str) else None
        if definition is not None and not spec.args:
            # compile names a metric it was given by name after that name ("mae")
            name = literal(definition.alias)
            if definition.alias.lower() in _ACCURACY_NAMES:
                accuracy = True
                metrics.append(f"accuracy_metric({name})")
                continue
            spec = ObjectSpec(spec.type, {"name": definition.alias})
        metrics.append(_instance(spec, "metrics", metric_def, f"compile.metrics[{i}]"))
    lines = []
    if accuracy:
        lines += [
            "",
            "def accuracy_metric(name):",
            '    """The accuracy model.compile picks for "accuracy": binary for one output '
            "unit,",
            '    sparse categorical for labels that are class numbers, categorical for one-hot."""',
            "    if model.output_shape[-1] == 1:",
            "        return keras.metrics.BinaryAccuracy(name=name)",
            "    if y_train.ndim < len(model.output_shape) or y_train.shape[-1] == 1:",
            "        return keras.metrics.SparseCategoricalAccuracy(name=name)",
            "    return keras.metrics.CategoricalAccuracy(name=name)",
            "",
            "",
        ]
    lines += [
        "# What model.compile would be given, made into the objects the loop calls itself.",
        f"optimizer = {optimizer}",
        f"loss_fn = {loss}",
    ]
    if len(", ".join(metrics)) <= 70:
        lines.append(f"metrics = [{', '.join(metrics)}]")
    else:
        lines += ["metrics = [", *(f"{INDENT}{m}," for m in metrics), "]"]
    return lines


def _instance(spec: ObjectSpec, namespace: str, lookup: Any, where: str) -> str:
    """`keras.<namespace>.<Class>(...)` for a catalog object, or a refusal that says why."""
    if not isinstance(spec.type, str) or lookup(spec.type) is None:
        kind = {"optimizers": "optimizer", "losses": "loss", "metrics": "metric"}[namespace]
        raise LoopExportError(
            f"{where}: LayerLab has no {kind} called {ascii(spec.type)[:60]}, and the --loop "
            f"script calls the {kind} itself, so it must be one LayerLab knows; pick one "
            "from the list (layerlab check shows the problem), or export without --loop")
    return object_code(spec, namespace, lookup, instance=True)


def _schedule_lines(plan: Schedule, images: bool, fit: FitSpec) -> list[str]:
    """EPOCHS, BATCH_SIZE and STEPS_PER_EPOCH (after the virtual-epoch lines, if any)."""
    lines = list(plan.lines)
    if plan.lines:
        lines.append("")
    lines.append(f"EPOCHS = {plan.epochs}")
    if not images:  # a folder's pipelines are batched already (BATCH_SIZE is set above)
        lines.append(f"BATCH_SIZE = {literal(fit.batch_size)}")
    if plan.steps is not None:
        lines.append(f"STEPS_PER_EPOCH = {plan.steps}")
    return lines


def _loop_lines(plan: Schedule, images: bool, weighted: bool, validation: bool,
                callbacks: list[Any]) -> list[str]:
    """The epochs: the batches of each, the validation, the logs, the callbacks."""
    steps = plan.steps is not None
    lines = []
    if images and steps:
        lines.append("# The pipeline repeats: like fit, the loop keeps drawing batches from it "
                     "across epochs.")
        lines.append("train_batches = iter(train_ds)")
    elif images:
        lines.append("# The training pipeline gives its batches in a new order on each pass."
                     if plan.shuffle else
                     "# No shuffling: the pipeline gives its batches in the same order each pass.")
    elif plan.shuffle:
        lines.append("# fit's shuffle, written out: the training examples in a new order "
                     "on each pass.")
        lines.append("shuffle_rng = np.random.default_rng(SEED)")
    else:
        lines.append("# No shuffling: the batches follow the order of the training data.")
        lines.append("order = np.arange(len(x_train))")
    if steps and not images:
        lines += [
            "batches_per_pass = -(-len(x_train) // BATCH_SIZE)  # the last one may be smaller",
            "batch = 0  # the next batch of the current pass (a pass runs on across epochs, "
            "as in fit)",
        ]
    if callbacks:
        lines += [
            "",
            "# The project's callbacks: the same objects fit would get, called where fit "
            "calls them.",
            *callbacks_code(callbacks),
            "callbacks = keras.callbacks.CallbackList(callbacks, model=model)",
            "model.optimizer = optimizer  # callbacks such as ReduceLROnPlateau look for it "
            "here",
            "model.stop_training = False  # EarlyStopping sets this to end the training early",
        ]
    lines += [
        "",
        "history = {}  # every logged number, epoch by epoch, like fit's History.history",
    ]
    if callbacks:
        lines.append("callbacks.on_train_begin()")
    lines.append("for epoch in range(EPOCHS):")
    body = []
    if callbacks:
        body.append("callbacks.on_epoch_begin(epoch)")
    wb = ", example_weights(yb)" if weighted else ""
    step = ["train_step(xb, yb" + wb + ")"]
    if callbacks:
        step = ["callbacks.on_train_batch_begin(step)", *step,
                'callbacks.on_train_batch_end(step, {"loss": float(loss_mean.result())})']
    if images and steps:
        body += ["for step in range(STEPS_PER_EPOCH):",
                 f"{INDENT}xb, yb = next(train_batches)"]
        body += [INDENT + s for s in step]
    elif images:
        body.append("for step, (xb, yb) in enumerate(train_ds):" if callbacks
                    else "for xb, yb in train_ds:")
        body += [INDENT + s for s in step]
    elif steps:
        body.append("for step in range(STEPS_PER_EPOCH):")
        if plan.shuffle:
            body += [f"{INDENT}if batch == 0:  # a new pass over the training data",
                     f"{INDENT}{INDENT}order = shuffle_rng.permutation(len(x_train))"]
        body += [f"{INDENT}rows = order[batch * BATCH_SIZE:(batch + 1) * BATCH_SIZE]",
                 f"{INDENT}xb, yb = x_train[rows], y_train[rows]"]
        body += [INDENT + s for s in step]
        body += [f"{INDENT}batch += 1",
                 f"{INDENT}if batch == batches_per_pass:  # the pass is over: fit ends the "
                 "epoch here too",
                 f"{INDENT}{INDENT}batch = 0",
                 f"{INDENT}{INDENT}break"]
    else:
        if plan.shuffle:
            body.append("order = shuffle_rng.permutation(len(x_train))")
        body.append("for step, start in enumerate(range(0, len(x_train), BATCH_SIZE)):"
                    if callbacks else "for start in range(0, len(x_train), BATCH_SIZE):")
        body += [f"{INDENT}rows = order[start:start + BATCH_SIZE]  # this batch's examples",
                 f"{INDENT}xb, yb = x_train[rows], y_train[rows]"]
        body += [INDENT + s for s in step]
    body.append("logs = results()  # the epoch's training loss and metrics")
    if validation:
        if images:
            body += ["if val_ds is not None:",
                     f'{INDENT}logs.update(evaluate(val_ds, prefix="val_"))']
        else:
            body += ["if x_val is not None:",
                     f'{INDENT}logs.update(evaluate(x_val, y_val, prefix="val_"))']
    if any(ObjectSpec.from_json(c).type == "ReduceLROnPlateau" for c in callbacks):
        body.append('logs["learning_rate"] = float(optimizer.learning_rate)  # fit logs it too')
    if callbacks:
        body.append("callbacks.on_epoch_end(epoch, logs)")
    body += [
        "for key, value in logs.items():",
        f"{INDENT}history.setdefault(key, []).append(value)",
        'shown = " - ".join(f"{key}: {value:.4f}" for key, value in logs.items())',
        'print(f"Epoch {epoch + 1}/{EPOCHS} - {shown}")',
    ]
    if callbacks:
        body += ["if model.stop_training:  # a callback (EarlyStopping, TerminateOnNaN) "
                 "said stop",
                 f"{INDENT}break"]
    lines += [INDENT + line for line in body]
    if callbacks:
        lines.append("callbacks.on_train_end()")
    return lines
