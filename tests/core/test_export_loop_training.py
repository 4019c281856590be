"""`layerlab export --loop` trains like `layerlab export`: the circle lesson exported both
ways with the same seed, each script run in its own process, reach the same final loss."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from gui_app.core.export import export_script
from gui_app.core.project import load_project
from gui_app.resources import examples_dir

EPOCHS = 8

# Why 0.05: the two scripts build the same weights from the same seed and take the same
# number of Adam steps of the same loss on the same 400 training points, but fit shuffles
# the batches with Keras's generator and the loop with NumPy's, so the batches differ and
# the runs are two samples of the same training. On this lesson (Adam at 0.03, batches of
# 32) both have settled by epoch 8: the final training loss is about 0.07, and over seeds
# 0 to 3, at 8 and at 15 epochs, the two scripts differed by at most 0.013, so 0.05 leaves
# room for another CPU's rounding. A loop that does not train (apply_gradients left out)
# stays at 0.71 and misses by more than ten times the tolerance.
TOLERANCE = 0.05

FINAL = re.compile(r"^final: (\{.*\})$", re.M)
EPOCH_LINE = re.compile(rf"^Epoch (\d+)/{EPOCHS} - loss: (\d+\.\d+) - accuracy: \d+\.\d+ - "
                        r"val_loss: \d+\.\d+ - val_accuracy: \d+\.\d+$", re.M)


def final_logs(stdout: str) -> dict[str, float]:
    found = FINAL.findall(stdout)
    assert len(found) == 1, stdout[-2000:]
    return ast.literal_eval(found[0])


@pytest.mark.slow
def test_the_circle_lesson_trains_to_the_same_loss_with_fit_and_with_the_loop(tmp_path: Path):
    lesson = load_project(examples_dir() / "02a_circle.layerlab.json")
    assert lesson.model.input_shape == (2,)  # the lesson with two inputs
    project = lesson.replace(fit={**lesson.fit, "epochs": EPOCHS})
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": "",
           "KERAS_BACKEND": "tensorflow"}
    runs = {}
    for kind, loop in (("fit", False), ("loop", True)):
        path = tmp_path / f"{kind}.py"
        path.write_text(export_script(project, script_path=path, loop=loop), encoding="utf-8")
        runs[kind] = subprocess.Popen([sys.executable, str(path)], cwd=tmp_path, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True)
    outputs = {}
    try:
        for kind, child in runs.items():
            out, err = child.communicate(timeout=300)
            assert child.returncode == 0, f"{kind}: {err[-3000:]}"
            outputs[kind] = out
    finally:
        for child in runs.values():
            if child.poll() is None:
                child.kill()

    fit, loop = final_logs(outputs["fit"]), final_logs(outputs["loop"])
    assert set(loop) == set(fit) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    # The loop prints one line per epoch, as fit does.
    epochs = EPOCH_LINE.findall(outputs["loop"])
    assert [int(n) for n, _ in epochs] == list(range(1, EPOCHS + 1))
    assert float(epochs[-1][1]) == pytest.approx(loop["loss"], abs=5e-5)
    # The loop really trains: its loss falls far more than the tolerance ...
    assert float(epochs[0][1]) - loop["loss"] > 6 * TOLERANCE
    # ... and ends where fit's does.
    assert abs(loop["loss"] - fit["loss"]) < TOLERANCE, (fit, loop)
