"""Decision-boundary refresh rate: how many grids per second the session can compute.

Times one boundary snapshot exactly as the training session takes it (one compiled
forward pass, `predict_on_batch`, on the fixed grid, plus the conversion to a
BoundaryGrid) for the 2-8-8-1 circle network and a wider 2-64-64-3 softmax network, at
several resolutions. The session takes at most one snapshot per `progress_interval`
(0.1 s by default, so 10 per second); the figure here says how much of a second that
costs.

Run (from the repository root):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/boundary_refresh.py

Goal: at least 10 refreshes per second for the small network at 100 x 100.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from gui_app.core.boundary import make_probe  # noqa: E402
from gui_app.core.build import build_model, compile_model  # noqa: E402
from gui_app.core.spec import CompileSpec, LayerSpec, ModelSpec, ObjectSpec  # noqa: E402


def network(hidden: int, outputs: int) -> object:
    activation = "sigmoid" if outputs == 1 else "softmax"
    loss = "binary_crossentropy" if outputs == 1 else "sparse_categorical_crossentropy"
    spec = ModelSpec((2,), (LayerSpec("Dense", {"units": hidden, "activation": "relu"}),
                            LayerSpec("Dense", {"units": hidden, "activation": "relu"}),
                            LayerSpec("Dense", {"units": outputs, "activation": activation})))
    model = build_model(spec)
    compile_model(model, CompileSpec(ObjectSpec("Adam"), ObjectSpec(loss), ()))
    return model


def main() -> int:
    import keras

    x = np.random.default_rng(0).normal(size=(500, 2)).astype(np.float32)
    print(f"| network | grid | snapshot (ms, median) | refreshes per second |  "
          f"(Keras {keras.__version__}, {keras.backend.backend()})")
    print("| --- | --- | --- | --- |")
    for hidden, outputs in ((8, 1), (64, 3)):
        model = network(hidden, outputs)
        for resolution in (50, 100, 200):
            probe = make_probe(x, outputs, "binary" if outputs == 1 else "multiclass",
                               resolution)
            probe.snapshot(model.predict_on_batch)  # the first call traces the function
            times = []
            for _ in range(50):
                start = time.perf_counter()
                probe.snapshot(model.predict_on_batch)
                times.append(time.perf_counter() - start)
            median = statistics.median(times)
            print(f"| 2-{hidden}-{hidden}-{outputs} | {resolution} x {resolution} | "
                  f"{median * 1e3:.2f} | {1 / median:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
