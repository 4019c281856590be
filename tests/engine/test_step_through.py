"""Step Through's numbers are real: N steps on the session's worker leave the weights where
`fit` leaves them after the same N batches (plain SGD, the same seed and order), the
reported gradients are the update divided by the rate, and other optimizers show their
real update. Also the batch order, the words for projects that cannot be stepped, the
frame, and the command through one engine process.

No Qt here.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from gui_app.core.lessons import load_example
from gui_app.core.spec import CompileSpec, ObjectSpec
from gui_app.core.step_through import (
    MAX_WEIGHTS,
    BatchStep,
    batch_order,
    flat_weights,
    step_through_problem,
    weight_label,
)
from gui_app.core.templates import template
from gui_app.core.training import SessionError, TrainingSession
from gui_app.engine import protocol
from gui_app.engine.step_through import SessionStepper
from gui_app.engine.units import on_worker
from gui_app.resources import examples_dir

pytest.importorskip("keras")

RATE = 0.1
STEPS = 5


def circle_lesson(optimizer: ObjectSpec | None = None):
    """Lesson 2a (two inputs, 8-8-1), with plain SGD at RATE unless told otherwise."""
    project, _ = load_example(examples_dir() / "02a_circle.layerlab.json")
    optimizer = optimizer or ObjectSpec("SGD", {"learning_rate": RATE})
    return project.replace(compile=replace(project.compile, optimizer=optimizer))


def _weights(session: TrainingSession) -> list[np.ndarray]:
    return on_worker(session, lambda model: [np.array(w) for w in model.get_weights()],
                     timeout=120)


# -- Qt-free helpers ---------------------------------------------------------------------------

def test_the_order_is_a_seeded_permutation_per_pass() -> None:
    a = batch_order(100, 3, 0)
    assert sorted(a.tolist()) == list(range(100)) and a.dtype == np.int64
    np.testing.assert_array_equal(a, batch_order(100, 3, 0))
    assert not np.array_equal(a, batch_order(100, 3, 1))  # the next pass: a new order
    assert not np.array_equal(a, batch_order(100, 4, 0))
    np.testing.assert_array_equal(batch_order(7, 3, 0, shuffle=False), np.arange(7))
    assert sorted(batch_order(10, None, 0).tolist()) == list(range(10))


def test_projects_that_cannot_be_stepped_say_why() -> None:
    project = circle_lesson()
    from gui_app.core.data import load_dataset

    ds = load_dataset(project.data)
    assert step_through_problem(project, ds) == ""
    assert "load" in step_through_problem(project, None)
    cnn = template("cnn").project()
    cnn_ds = load_dataset(cnn.data)
    words = step_through_problem(cnn, cnn_ds)
    assert "two features" in words, words
    assert "Conv2D" in step_through_problem(cnn, ds)
    wide = project.model.layers[0].with_args(units=400)
    big = project.replace(model=replace(project.model, layers=(wide, *project.model.layers[1:])))
    assert f"{MAX_WEIGHTS:,}" in step_through_problem(big, ds)
    assert "one device" in step_through_problem(project, ds, device="all")


def test_a_step_travels_as_plain_data() -> None:
    from gui_app.core.boundary import BoundaryGrid

    grid = BoundaryGrid(np.linspace(0, 1, 3, dtype=np.float32),
                        np.linspace(0, 1, 3, dtype=np.float32),
                        np.zeros((3, 3, 1), np.float32), "binary", (0, 1))
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    step = BatchStep(1, 0, 0, 13, np.array([4, 1, 7]), 0.69, 0.1, "SGD", True, (),
                     ("dense", "dense"), ("kernel", "bias"),
                     (kernel, np.zeros(3, np.float32)), (kernel / 10, np.ones(3, np.float32)),
                     (kernel - kernel / 100, -0.1 * np.ones(3, np.float32)), grid, grid)
    frame = protocol.encode({"kind": "reply", "id": 1, "ok": True, "value": step.to_message()})
    back = BatchStep.from_message(protocol.decode(frame)["value"])
    assert back.names == ("dense/kernel", "dense/bias") and back.shapes == ((2, 3), (3,))
    np.testing.assert_array_equal(back.indices, [4, 1, 7])
    np.testing.assert_array_equal(back.after[0], step.after[0])
    assert isinstance(back.boundary, BoundaryGrid) and back.boundary.kind == "binary"
    assert back.weights == 9 and back.loss == pytest.approx(0.69)
    before, grads, after, labels = flat_weights(back, None)
    assert len(before) == len(grads) == len(after) == len(labels) == 9
    assert labels[5] == "dense/kernel[1, 2]" and labels[6] == "dense/bias[0]"
    assert weight_label(back, 0, 4) == "dense/kernel[1, 1]"
    assert len(flat_weights(back, 1)[0]) == 3


# -- the numbers, against fit ------------------------------------------------------------------

def test_five_steps_give_fits_weights_with_plain_sgd() -> None:
    import keras

    from gui_app.core.build import build_model, compile_model

    project = circle_lesson()
    session = TrainingSession(project, device="cpu")
    try:
        stepper = SessionStepper(session)
        initial = _weights(session)
        steps = [stepper.step(timeout=120) for _ in range(STEPS)]
        stepped = _weights(session)
        ds = session.dataset
    finally:
        session.close()

    size = project.fit.batch_size
    order = batch_order(len(ds.x_train), project.fit.seed, 0)
    assert [s.step for s in steps] == list(range(1, STEPS + 1))
    assert [s.batch for s in steps] == list(range(STEPS)) and steps[0].restarted
    assert steps[0].batches == -(-len(ds.x_train) // size)
    for k, s in enumerate(steps):
        np.testing.assert_array_equal(s.indices, order[k * size:(k + 1) * size])
        assert len(s.indices) == size and s.plain_sgd and s.optimizer == "SGD"
        assert s.learning_rate == pytest.approx(RATE) and np.isfinite(s.loss)
        assert s.names == ("dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                           "dense_2/kernel", "dense_2/bias")
        for before, grad, after in zip(s.before, s.gradients, s.after, strict=True):
            # w <- w - lr * g, read back from the numbers themselves
            np.testing.assert_allclose((before - after) / RATE, grad, rtol=1e-4, atol=2e-5)
        assert s.boundary is not None and s.boundary.kind == "binary"
        assert not np.array_equal(s.boundary.values, s.boundary_before.values)
    for a, b in zip(steps[:-1], steps[1:]):  # each step starts where the last one ended
        for after, before in zip(a.after, b.before, strict=True):
            np.testing.assert_array_equal(after, before)
    np.testing.assert_allclose(steps[0].before[0], initial[0])
    for got, want in zip(steps[-1].after, stepped, strict=True):
        np.testing.assert_array_equal(got, want)

    # the same model, the same first weights, fit on the same five batches in that order
    model = build_model(project.model)
    compile_model(model, project.compile)
    model.set_weights(initial)
    rows = np.concatenate([s.indices for s in steps])
    history = model.fit(ds.x_train[rows], ds.y_train[rows], batch_size=size, epochs=1,
                        shuffle=False, verbose=0)
    for got, want in zip(stepped, model.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    # fit logs the mean of its batch losses: the steps' losses, averaged
    assert history.history["loss"][0] == pytest.approx(np.mean([s.loss for s in steps]),
                                                       abs=1e-5)
    # the loss on a batch is the loss at the weights before its step
    first = build_model(project.model)
    compile_model(first, project.compile)
    first.set_weights(initial)
    x0, y0 = ds.x_train[steps[0].indices], ds.y_train[steps[0].indices]
    expected = float(keras.losses.binary_crossentropy(y0.reshape(-1, 1).astype(np.float32),
                                                      first.predict(x0, verbose=0)).numpy().mean())
    assert steps[0].loss == pytest.approx(expected, abs=1e-5)


def test_a_pass_ends_and_the_next_one_reads_a_new_order() -> None:
    project = circle_lesson()
    project = project.replace(data={**project.data.to_json(), "samples": 100},
                              fit={**project.fit.to_json(), "batch_size": 32})
    session = TrainingSession(project, device="cpu")
    try:
        stepper = SessionStepper(session)
        steps = [stepper.step(timeout=120) for _ in range(4)]
        n = len(session.dataset.x_train)  # 80 rows: batches of 32, 32 and 16
        assert [len(s.indices) for s in steps[:3]] == [32, 32, n - 64]
        assert steps[3].epoch == 1 and steps[3].batch == 0 and not steps[3].restarted
        np.testing.assert_array_equal(steps[3].indices, batch_order(n, 0, 1)[:32])
        again = stepper.step(restart=True, timeout=120)
        assert again.restarted and again.step == 1 and again.epoch == 0
        np.testing.assert_array_equal(again.indices, batch_order(n, 0, 0)[:32])
        session.start(1)  # a run in between: the next step begins the pass after it
        assert session.wait(120)
        after_run = stepper.step(timeout=120)
        assert after_run.restarted and after_run.epoch == 1 == session.epoch
        np.testing.assert_array_equal(after_run.indices, batch_order(n, 0, 1)[:32])
        session.reset_weights()  # a new model: the pass starts again
        fresh = stepper.step(timeout=120)
        assert fresh.restarted and fresh.batch == 0
    finally:
        session.close()


def test_other_optimizers_show_their_real_update() -> None:
    project = circle_lesson(ObjectSpec("Adam", {"learning_rate": 0.03}))
    session = TrainingSession(project, device="cpu")
    try:
        step = SessionStepper(session).step(timeout=120)
        assert step.optimizer == "Adam" and not step.plain_sgd
        assert step.learning_rate == pytest.approx(0.03)
        update = step.updates[0]
        # Adam's first step moves each weight by about lr * sign(g), not lr * g
        moved = np.abs(step.gradients[0]) > 1e-3  # far above Adam's epsilon
        np.testing.assert_allclose(np.abs(update[moved]), 0.03, rtol=5e-2)
        assert not np.allclose(update, -0.03 * step.gradients[0], atol=1e-4)
        session.set_compile(CompileSpec(ObjectSpec("SGD", {"learning_rate": 0.1,
                                                           "momentum": 0.9}),
                                        project.compile.loss, project.compile.metrics))
        step = SessionStepper(session).step(timeout=120)
        assert not step.plain_sgd and step.optimizer_notes == ("momentum 0.9",)
    finally:
        session.close()


def test_a_model_that_cannot_be_stepped_is_refused_in_words() -> None:
    project = template("cnn").project()
    session = TrainingSession(project, device="cpu")
    try:
        with pytest.raises(SessionError, match="two features"):
            SessionStepper(session).step(timeout=120)
    finally:
        session.close()


# -- through the engine process ------------------------------------------------------------------

def test_the_engine_steps_a_batch(engine) -> None:
    from gui_app.core.boundary import BoundaryGrid

    session = engine.session(circle_lesson())
    try:
        first = session.step_batch(restart=True, timeout=120)
        assert isinstance(first, BatchStep) and first.restarted and first.step == 1
        assert len(first.indices) == 32 and first.indices.dtype == np.int64
        assert first.before[0].dtype == np.float32 and first.shapes[0] == (2, 8)
        assert isinstance(first.boundary, BoundaryGrid)
        second = session.step_batch(timeout=120)
        assert second.step == 2 and second.batch == 1
        np.testing.assert_array_equal(second.before[0], first.after[0])
        expected = session.predict(np.array([[0.1, 0.2]], np.float32))
        assert expected.shape == (1, 1)
    finally:
        session.close()
    cnn = engine.session(template("cnn").project())
    try:
        with pytest.raises(SessionError, match="two features"):
            cnn.step_batch(timeout=120)
    finally:
        cnn.close()
