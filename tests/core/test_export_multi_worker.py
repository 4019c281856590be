"""`layerlab export --strategy multi-worker`: a script that trains on several workers with
tf.distribute.MultiWorkerMirroredStrategy (configured by TF_CONFIG), run here as two
worker processes on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys

import pytest

from gui_app.__main__ import main
from gui_app.core.devices import with_strategy
from gui_app.core.export import export_script
from gui_app.core.project import save_project
from gui_app.core.spec import default_project


def small_project():
    project = default_project()
    return project.replace(fit=dict(project.fit, epochs=2),
                           data=dict(project.data, samples=160))


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def test_the_multi_worker_script_chooses_its_strategy_when_it_runs():
    script = with_strategy(export_script(small_project()), "multi-worker")
    compile(script, "train.py", "exec")
    assert 'parser.add_argument("--strategy", choices=["one-device", "all-gpus", ' \
           '"multi-worker"], default="multi-worker")' in script
    assert "tf.distribute.MultiWorkerMirroredStrategy()" in script
    assert "tf.distribute.MirroredStrategy()" in script  # --strategy all-gpus
    lines = script.splitlines()
    scope = lines.index("with strategy.scope():")
    assert lines[scope + 1] == "    model = keras.Sequential(["
    fit_at = next(i for i, line in enumerate(lines) if line.startswith("history = model.fit("))
    assert lines.index("    allow_multi_worker_fit(model, strategy)") < fit_at
    # today's choices are as they were
    plain = export_script(small_project())
    assert with_strategy(plain, "cpu") == plain
    assert "--strategy" not in with_strategy(plain, "all")


def test_export_command_takes_the_strategy(tmp_path, capsys):
    path = save_project(small_project(), tmp_path / "circle.layerlab.json")
    assert main(["export", str(path), "-o", "-", "--strategy", "multi-worker"]) == 0
    assert "MultiWorkerMirroredStrategy" in capsys.readouterr().out
    assert main(["export", str(path), "-o", "-", "--strategy", "all-gpus"]) == 0
    out = capsys.readouterr().out
    assert "tf.distribute.MirroredStrategy()" in out and "MultiWorker" not in out


@pytest.mark.slow
def test_two_workers_train_in_step_and_finish(tmp_path):
    project = small_project()
    path = tmp_path / "train.py"
    path.write_text(with_strategy(export_script(project, script_path=path), "multi-worker"))
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    workers = []
    for index in range(2):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="",
                   TF_CONFIG=json.dumps({"cluster": cluster,
                                         "task": {"type": "worker", "index": index}}))
        workers.append(subprocess.Popen([sys.executable, str(path)], cwd=tmp_path, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True))
    outputs = []
    try:
        for worker in workers:
            out, err = worker.communicate(timeout=240)
            assert worker.returncode == 0, err[-3000:]
            outputs.append(out)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
    for index, out in enumerate(outputs):
        assert f"Worker {index} of 2 replica(s)." in out
        assert "Training on 2 replica(s)." in out

    def last(out: str, key: str) -> str:
        return re.findall(rf"^{key}: (.*)$", out, re.M)[-1]

    # in step: the same logs and the same weights on both workers
    assert last(outputs[0], "final") == last(outputs[1], "final")
    assert last(outputs[0], "weights checksum") == last(outputs[1], "weights checksum")
    assert "'loss'" in last(outputs[0], "final")
