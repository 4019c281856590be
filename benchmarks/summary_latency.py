"""Median time to recompute the summary (and checks) of a 50-layer stack after one edit.

The window recomputes both on every edit, so this must stay far below a frame budget.
Goal: summary < 30 ms on a 2-core machine, with Keras already imported (as in the window
once it has loaded). For comparison it also times Keras building the same model, which is
what a naive implementation would do on every edit.

    .venv/bin/python benchmarks/summary_latency.py
"""

from __future__ import annotations

import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from gui_app.core.checks import run_checks  # noqa: E402
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec, Project  # noqa: E402
from gui_app.core.summary import summarize  # noqa: E402


def fifty_layers() -> ModelSpec:
    """A realistic mixed stack: conv blocks, then a dense head; 50 layers in all."""
    layers = []
    for block in range(8):
        layers += [
            LayerSpec("Conv2D", {"filters": 16 * (1 + block % 3), "kernel_size": 3, "padding": "same",
                                 "activation": "relu"}),
            LayerSpec("BatchNormalization"),
            LayerSpec("Dropout", {"rate": 0.1}),
        ]
        if block % 3 == 2:
            layers.append(LayerSpec("MaxPooling2D"))
    layers.append(LayerSpec("Flatten"))
    while len(layers) < 49:
        layers.append(LayerSpec("Dense", {"units": 64, "activation": "relu"}))
    layers.append(LayerSpec("Dense", {"units": 10, "activation": "softmax"}))
    return ModelSpec((64, 64, 3), tuple(layers))


def main(repeats: int = 300) -> None:
    import keras  # the window has Keras loaded by the time people edit

    model = fifty_layers()
    assert len(model.layers) == 50 and summarize(model).ok
    project = Project("bench", model, CompileSpec(ObjectSpec("adam"),
                                                  ObjectSpec("sparse_categorical_crossentropy"),
                                                  (ObjectSpec("accuracy"),)))
    summary_times, check_times = [], []
    for i in range(repeats):
        # One edit: change the units of a Dense layer in the head.
        edited = model.set_layer(45, LayerSpec("Dense", {"units": 32 + i % 64, "activation": "relu"}))
        start = time.perf_counter()
        summary = summarize(edited)
        summary_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        run_checks(project.replace(model=edited), summary=summary)
        check_times.append(time.perf_counter() - start)

    from gui_app.core.build import build_model

    build_times = []
    for _ in range(3):
        start = time.perf_counter()
        build_model(model)
        build_times.append(time.perf_counter() - start)
        keras.backend.clear_session()

    med = statistics.median
    print(f"50-layer summary after one edit: median {med(summary_times) * 1e3:.2f} ms, "
          f"p95 {sorted(summary_times)[int(0.95 * repeats)] * 1e3:.2f} ms ({repeats} edits)")
    print(f"summary + pre-flight checks:     median {(med(summary_times) + med(check_times)) * 1e3:.2f} ms")
    print(f"for comparison, Keras building the same model: median {med(build_times) * 1e3:.0f} ms")
    print(f"total params {summary.total_params:,}; goal < 30 ms: "
          f"{'met' if med(summary_times) < 0.030 else 'NOT met'}")


if __name__ == "__main__":
    main()
