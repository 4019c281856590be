"""The engine process's figures, side by side: start-up, restart after a crash, the
round trip of a prediction, the event stream, and the cost of training through it.

LayerLab trains in a separate engine process (`gui_app.engine`): the window never imports
Keras, and a crash in native code cannot take the window down. That split costs time in
a few places a person notices; this benchmark measures each of them in one run, on one
machine, so they can be read together:

1. Engine ready: `Engine().start()` to its hello (the engine has imported Keras), the
   first start of this run ("cold": whatever the page cache held) and the median of
   `--repeats` warm starts. Also the time `close()` takes.
2. Engine ready after a crash: a ready engine is killed (SIGKILL); as the window does
   (`ui/engine_link.py`: `_on_died` -> `start()`), a fresh `Engine()` starts once the old
   one's death is noticed. Time from the kill to the fresh engine's hello (goal < 5 s,
   warm file cache), split into kill -> death noticed and start -> hello.
3. Click-to-predict: a session of the default circle project trained for 2 epochs; the
   round trip of `session.predict(one_row)` (what the Predict panel sends), median and
   p95 of 200 calls, idle and while a long run (500 epochs, batch 8) is going (goal
   < 50 ms; the GUI's own part of a click is small, so this is the engine round trip).
4. Events: frames per second the client receives during a run (the events reaching the
   session's listeners, counted per kind), the size of a BoundarySnapshot frame for a
   100 x 100 grid (`protocol.encode`; a real one from the run) and the median time to
   encode + decode it in this process.
5. Plain fit vs engine run, the circle lesson (default project, 50 epochs): plain Keras
   (`build_model`, `compile_model`, `load_dataset`, `model.fit(verbose=0)`, same seed,
   batch size and epochs) in a fresh child process, against the same project trained
   through `Engine().session(project)` in a fresh engine; each side is timed from its
   start to the end of the run (data + build + compile + fit; the engine side from
   `session.start()` until `Finished` arrives, engine start-up excluded), interleaved,
   `--repeats` times. Reported: the median of engine / plain (goal <= 1.03).

The machine's noise only adds time: figures are medians of repeats, never asserted.
Leaks are checked on the way: this process's open file descriptors, threads and child
processes before and after.

Run (from the repository root):

    TF_CPP_MIN_LOG_LEVEL=3 .venv/bin/python benchmarks/engine_figures.py \\
        [--repeats 5] [--json /tmp/engine_figures.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from gui_app.engine import protocol  # noqa: E402
from gui_app.engine.client import Engine  # noqa: E402

CRASH_GOAL_S = 5.0
PREDICT_GOAL_MS = 50.0
RATIO_GOAL = 1.03
PREDICT_CALLS = 200

PLAIN_SCRIPT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import keras
from gui_app.core.build import build_model, compile_model
from gui_app.core.data import load_dataset
from gui_app.core.project import resolve_fit
from gui_app.core.spec import default_project

project = default_project()
fit = resolve_fit(project.fit)
epochs = int(sys.argv[2])
# What an engine session has done before its run starts (and the engine side does not
# time): find the device, which starts TensorFlow's runtime.
from gui_app.core.devices import resolve_device
resolve_device("auto", keras.backend.backend())
start = time.perf_counter()
data = load_dataset(project.data)
if fit["seed"] is not None:
    keras.utils.set_random_seed(int(fit["seed"]))
model = build_model(project.model)
compile_model(model, project.compile)
kwargs = {}
if data.x_val is not None:
    kwargs["validation_data"] = (data.x_val, data.y_val)
history = model.fit(data.x_train, data.y_train, epochs=epochs,
                    batch_size=int(fit["batch_size"]), shuffle=bool(fit["shuffle"]),
                    verbose=0, **kwargs)
seconds = time.perf_counter() - start
print("PLAIN " + json.dumps({"seconds": seconds,
                             "loss": float(history.history["loss"][-1])}), flush=True)
"""


# -- helpers ---------------------------------------------------------------------------------
def log(text: str) -> None:
    print(text, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    return float(np.percentile(np.asarray(values), 95))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def open_fds() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return -1


def child_pids() -> list[int]:
    """Live (and zombie) processes whose parent is this one."""
    me, found = os.getpid(), []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == me:
            found.append(int(name))
    return found


def resources() -> dict[str, Any]:
    return {"fds": open_fds(), "threads": threading.active_count(),
            "thread_names": sorted(t.name for t in threading.enumerate()),
            "children": child_pids()}


def start_ready(timeout: float = 180.0) -> tuple[Engine, float]:
    """A started engine that has said hello, and seconds from start() to the hello."""
    engine = Engine()
    t0 = time.monotonic()
    engine.start()
    if not engine.wait_ready(timeout):
        reason = engine.death or "no hello"
        engine.close()
        raise RuntimeError(f"the engine did not become ready: {reason}")
    assert engine.ready_at is not None
    return engine, engine.ready_at - t0


def close_timed(engine: Engine) -> float:
    t0 = time.perf_counter()
    engine.close(timeout=5.0)
    seconds = time.perf_counter() - t0
    if engine.process is not None and engine.process.poll() is None:
        log(f"  ! engine {engine.pid} still running after close()")
    return seconds


class Recorder:
    """A session listener: counts events by kind with arrival times; keeps one snapshot."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: list[tuple[float, str]] = []
        self.snapshot: Any = None
        self.finished: Any = None
        self.first_epoch = threading.Event()

    def __call__(self, event: Any) -> None:
        name = type(event).__name__
        now = time.perf_counter()
        with self.lock:
            self.times.append((now, name))
        if name == "BoundarySnapshot" and self.snapshot is None:
            self.snapshot = event
        elif name == "EpochEnd":
            self.first_epoch.set()
        elif name in ("Finished", "Failed"):
            self.finished = event

    def counts(self, since: float = 0.0, until: float = float("inf")) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.lock:
            for t, name in self.times:
                if since <= t <= until:
                    out[name] = out.get(name, 0) + 1
        return out


def check_finished(recorder: Recorder) -> Any:
    event = recorder.finished
    if event is None:
        raise RuntimeError("the run did not end with Finished or Failed")
    if type(event).__name__ == "Failed":
        raise RuntimeError(f"the run failed: {event.message}\n{event.detail}")
    return event


# -- 1. engine ready -------------------------------------------------------------------------
def figure_ready(repeats: int) -> dict[str, Any]:
    log("1. engine ready: start() -> hello")
    cold_s = 0.0
    warm: list[float] = []
    inside: list[float] = []
    closes: list[float] = []
    hello: dict[str, Any] = {}
    for i in range(repeats + 1):
        engine, seconds = start_ready()
        hello = dict(engine.hello or {})
        inside.append(float(hello.get("seconds", float("nan"))))
        closes.append(close_timed(engine))
        if i == 0:
            cold_s = seconds
        else:
            warm.append(seconds)
        log(f"  {'cold' if i == 0 else 'warm'} {seconds:.2f} s (engine's own Keras load "
            f"{inside[-1]:.2f} s), close {closes[-1]:.2f} s")
    return {"cold_s": cold_s, "warm_s": warm, "warm_median_s": median(warm),
            "engine_keras_load_s": inside, "close_s": closes, "close_median_s": median(closes),
            "keras": hello.get("keras"), "backend": hello.get("backend")}


# -- 2. engine ready after a crash -----------------------------------------------------------
def figure_crash(repeats: int) -> dict[str, Any]:
    log("2. kill -9 a ready engine -> a fresh engine's hello")
    totals: list[float] = []
    noticed: list[float] = []
    restart: list[float] = []
    reasons: list[str] = []
    for _ in range(repeats):
        old, _ = start_ready()
        died = threading.Event()
        when: list[float] = []

        def on_death(reason: str, when: list[float] = when, died: threading.Event = died
                     ) -> None:
            when.append(time.monotonic())
            reasons.append(reason)
            died.set()

        old.on_death.append(on_death)
        assert old.pid is not None
        t_kill = time.monotonic()
        os.kill(old.pid, signal.SIGKILL)
        if not died.wait(30):
            raise RuntimeError("the killed engine's death was not noticed within 30 s")
        t_start = time.monotonic()
        fresh = Engine().start()  # what EngineLink._on_died -> start() does
        if not fresh.wait_ready(180):
            raise RuntimeError(f"the fresh engine did not become ready: {fresh.death}")
        assert fresh.ready_at is not None
        totals.append(fresh.ready_at - t_kill)
        noticed.append(when[0] - t_kill)
        restart.append(fresh.ready_at - t_start)
        log(f"  kill -> hello {totals[-1]:.2f} s (death noticed {noticed[-1] * 1000:.0f} ms, "
            f"start -> hello {restart[-1]:.2f} s)")
        old.close(timeout=2.0)
        close_timed(fresh)
    return {"kill_to_hello_s": totals, "kill_to_hello_median_s": median(totals),
            "death_noticed_s": noticed, "death_noticed_median_s": median(noticed),
            "start_to_hello_s": restart, "reasons": sorted(set(reasons))}


# -- 3. click-to-predict (and a real snapshot for 4.) ------------------------------------
def time_predicts(session: Any, row: np.ndarray, calls: int,
                  spans: list[tuple[float, float]] | None = None) -> list[float]:
    out = []
    for _ in range(calls):
        t0 = time.perf_counter()
        session.predict(row)
        t1 = time.perf_counter()
        out.append((t1 - t0) * 1000.0)
        if spans is not None:
            spans.append((t0, t1))
    return out


def slow_at_epoch_ends(spans: list[tuple[float, float]], recorder: Recorder,
                       limit_ms: float) -> tuple[int, int]:
    """(slow predicts, how many of them saw an EpochEnd arrive while they waited): a
    command waits for the next batch, and there is none during validation."""
    with recorder.lock:
        ends = [t for t, name in recorder.times if name == "EpochEnd"]
    slow = [(a, b) for a, b in spans if (b - a) * 1000.0 > limit_ms]
    spanning = sum(1 for a, b in slow if any(a <= t <= b for t in ends))
    return len(slow), spanning


def figure_predict() -> dict[str, Any]:
    from gui_app.core.data import load_dataset
    from gui_app.core.spec import default_project

    log("3. click-to-predict: session.predict(one row) round trips")
    project = default_project()
    row = np.asarray(load_dataset(project.data).x_train[:1], np.float32)
    engine, _ = start_ready()
    recorder = Recorder()
    try:
        session = engine.session(project)
        session.subscribe(recorder)
        device = session.device
        session.start(epochs=2)
        if not session.wait(300):
            raise RuntimeError("the 2-epoch run did not end within 300 s")
        check_finished(recorder)
        first = session.predict(row)
        time_predicts(session, row, 5)  # warm-up
        idle = time_predicts(session, row, PREDICT_CALLS)
        log(f"  idle: median {median(idle):.2f} ms, p95 {p95(idle):.2f} ms "
            f"(output {np.asarray(first).ravel()[:1]})")

        session.set_project(project.replace(fit={**project.fit, "epochs": 500,
                                                 "batch_size": 8}))
        recorder.first_epoch.clear()
        recorder.finished = None
        session.start(epochs=500)
        if not recorder.first_epoch.wait(120):
            raise RuntimeError("the long run ended no epoch within 120 s")
        epoch_before = session.epoch
        t_busy = time.perf_counter()
        spans: list[tuple[float, float]] = []
        busy = time_predicts(session, row, PREDICT_CALLS, spans)
        t_end = time.perf_counter()
        slow, spanning = slow_at_epoch_ends(spans, recorder, PREDICT_GOAL_MS)
        epochs_during = session.epoch - epoch_before
        still_running = session.running
        # The stream alone for a few seconds, without predicts in between.
        time.sleep(3.0)
        t_quiet_end = time.perf_counter()
        quiet_counts = recorder.counts(t_end, t_quiet_end)
        busy_counts = recorder.counts(t_busy, t_end)
        t_stop = time.perf_counter()
        session.stop()
        stopped = session.wait(60)
        stop_s = time.perf_counter() - t_stop
        log(f"  during a run: median {median(busy):.2f} ms, p95 {p95(busy):.2f} ms "
            f"({epochs_during} epochs went by, running to the end: {still_running}); "
            f"{slow} over {PREDICT_GOAL_MS:.0f} ms, {spanning} of them across an epoch end")
        log(f"  stop -> run ended {stop_s:.2f} s (ended: {stopped})")
        session.close()
    finally:
        close_timed(engine)
    return {"device": device, "idle_ms": idle, "idle_median_ms": median(idle),
            "idle_p95_ms": p95(idle), "busy_ms": busy, "busy_median_ms": median(busy),
            "busy_p95_ms": p95(busy), "busy_epochs": epochs_during,
            "busy_run_still_going": still_running, "stop_s": stop_s,
            "busy_slow": slow, "busy_slow_across_epoch_end": spanning,
            "long_run_quiet_fps": {k: v / (t_quiet_end - t_end) for k, v in
                                   quiet_counts.items()},
            "long_run_with_predicts_fps": {k: v / (t_end - t_busy) for k, v in
                                           busy_counts.items()},
            "snapshot": recorder.snapshot}


# -- 4. frames ------------------------------------------------------------------------------
def synthetic_snapshot() -> Any:
    from gui_app.core.boundary import BoundaryGrid
    from gui_app.core.training import BoundarySnapshot

    xs = np.linspace(-2, 2, 100, dtype=np.float32)
    values = np.random.default_rng(0).random((100, 100, 1), dtype=np.float32)
    return BoundarySnapshot(1, 0, 1, BoundaryGrid(xs, xs, values, "binary", (0, 1)))


def figure_frames(snapshot: Any, loops: int = 300) -> dict[str, Any]:
    log("4. BoundarySnapshot frame: size, encode + decode")
    real = snapshot is not None
    if snapshot is None:
        snapshot = synthetic_snapshot()
    message = {"kind": "event", "session": 1, "event": snapshot}
    frame = protocol.encode(message)
    back = protocol.decode(frame)["event"]
    same = np.array_equal(back.grid.values, snapshot.grid.values)
    encode_us, decode_us, both_us = [], [], []
    for _ in range(loops):
        t0 = time.perf_counter()
        f = protocol.encode(message)
        t1 = time.perf_counter()
        protocol.decode(f)
        t2 = time.perf_counter()
        encode_us.append((t1 - t0) * 1e6)
        decode_us.append((t2 - t1) * 1e6)
        both_us.append((t2 - t0) * 1e6)
    grid = snapshot.grid
    log(f"  {len(frame)} bytes (values {grid.values.dtype} {grid.values.shape}, "
        f"{'from the run' if real else 'synthetic'}); encode {median(encode_us):.0f} us, "
        f"decode {median(decode_us):.0f} us, both {median(both_us):.0f} us")
    return {"from_run": real, "bytes": len(frame),
            "values": f"{grid.values.dtype} {tuple(grid.values.shape)}",
            "xs": f"{grid.xs.dtype} {tuple(grid.xs.shape)}", "round_trip_equal": bool(same),
            "encode_median_us": median(encode_us), "decode_median_us": median(decode_us),
            "encode_decode_median_us": median(both_us)}


# -- 5. plain fit vs engine run ----------------------------------------------------------------
def plain_run(epochs: int) -> dict[str, float]:
    env = dict(os.environ, TF_FORCE_GPU_ALLOW_GROWTH="true")
    done = subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(ROOT), str(epochs)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    for line in done.stdout.splitlines():
        if line.startswith("PLAIN "):
            return json.loads(line[len("PLAIN "):])
    raise RuntimeError(f"plain fit failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def engine_run(epochs: int) -> dict[str, Any]:
    from gui_app.core.spec import default_project

    project = default_project()
    project = project.replace(fit={**project.fit, "epochs": epochs})
    engine, _ = start_ready()
    recorder = Recorder()
    try:
        session = engine.session(project)
        session.subscribe(recorder)
        _ = session.device  # the session's worker is up: its start-up is not the run
        t0 = time.perf_counter()
        session.start()
        if not session.wait(600):
            raise RuntimeError("the engine run did not end within 600 s")
        seconds = time.perf_counter() - t0
        event = check_finished(recorder)
        counts = recorder.counts(t0)
        session.close()
    finally:
        close_timed(engine)
    return {"seconds": seconds, "loss": float(event.history["loss"][-1]), "counts": counts,
            "fps": sum(counts.values()) / seconds,
            "snapshots_per_s": counts.get("BoundarySnapshot", 0) / seconds}


def figure_overhead(repeats: int, epochs: int) -> dict[str, Any]:
    log(f"5. plain fit (child process) vs engine run, circle, {epochs} epochs")
    plain: list[dict[str, float]] = []
    eng: list[dict[str, Any]] = []
    ratios: list[float] = []
    for i in range(repeats):
        order = ("plain", "engine") if i % 2 == 0 else ("engine", "plain")
        for side in order:
            if side == "plain":
                plain.append(plain_run(epochs))
            else:
                eng.append(engine_run(epochs))
        ratios.append(eng[-1]["seconds"] / plain[-1]["seconds"])
        log(f"  repeat {i + 1} ({order[0]} first): plain {plain[-1]['seconds']:.2f} s, engine "
            f"{eng[-1]['seconds']:.2f} s, ratio {ratios[-1]:.3f}; engine events "
            f"{eng[-1]['counts']}")
    plain_s = [p["seconds"] for p in plain]
    eng_s = [e["seconds"] for e in eng]
    same_loss = all(abs(p["loss"] - e["loss"]) <= 1e-4 * max(1.0, abs(p["loss"]))
                    for p, e in zip(plain, eng, strict=True))
    return {"epochs": epochs, "plain_s": plain_s, "engine_s": eng_s,
            "plain_median_s": median(plain_s), "engine_median_s": median(eng_s),
            "ratio_of_medians": median(eng_s) / median(plain_s),
            "median_of_ratios": median(ratios), "ratio_of_minimums": min(eng_s) / min(plain_s),
            "plain_loss": [p["loss"] for p in plain], "engine_loss": [e["loss"] for e in eng],
            "same_loss": same_loss, "fps": [e["fps"] for e in eng],
            "fps_median": median([e["fps"] for e in eng]),
            "snapshots_per_s_median": median([e["snapshots_per_s"] for e in eng]),
            "events_per_run": eng[-1]["counts"]}


# -- report -----------------------------------------------------------------------------------
def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def table(results: dict[str, Any], repeats: int) -> str:
    r1, r2, r3 = results["ready"], results["crash"], results["predict"]
    r4, r5 = results["frames"], results["overhead"]
    fps_quiet = sum(r3["long_run_quiet_fps"].values())
    rows = [
        ("1. engine ready, first start (cold-ish)", f"{r1['cold_s']:.2f} s", "-", "-"),
        (f"1. engine ready, warm (median of {repeats})", f"{r1['warm_median_s']:.2f} s", "-",
         "-"),
        ("1. of which the engine's own Keras import (median)",
         f"{median(r1['engine_keras_load_s']):.2f} s", "-", "-"),
        ("1. engine close() (median)", f"{r1['close_median_s']:.2f} s", "-", "-"),
        (f"2. SIGKILL -> fresh engine's hello (median of {repeats})",
         f"{r2['kill_to_hello_median_s']:.2f} s", f"< {CRASH_GOAL_S:.0f} s",
         verdict(r2["kill_to_hello_median_s"] < CRASH_GOAL_S)),
        ("2. of which the death is noticed (median)",
         f"{r2['death_noticed_median_s'] * 1000:.0f} ms", "-", "-"),
        (f"3. predict(1 row), idle: median / p95 ({PREDICT_CALLS} calls)",
         f"{r3['idle_median_ms']:.2f} / {r3['idle_p95_ms']:.2f} ms",
         f"< {PREDICT_GOAL_MS:.0f} ms", verdict(r3["idle_p95_ms"] < PREDICT_GOAL_MS)),
        ("3. predict(1 row), during a 500-epoch batch-8 run: median / p95",
         f"{r3['busy_median_ms']:.2f} / {r3['busy_p95_ms']:.2f} ms",
         f"< {PREDICT_GOAL_MS:.0f} ms", verdict(r3["busy_p95_ms"] < PREDICT_GOAL_MS)),
        (f"3. of those, over {PREDICT_GOAL_MS:.0f} ms / of which across an epoch end",
         f"{r3['busy_slow']} / {r3['busy_slow_across_epoch_end']}", "-", "-"),
        ("3. Stop during the long run -> run ended", f"{r3['stop_s']:.2f} s", "-", "-"),
        (f"4. frames/s received, 50-epoch circle run (median of {repeats})",
         f"{r5['fps_median']:.1f} /s (snapshots {r5['snapshots_per_s_median']:.1f} /s)", "-",
         "-"),
        ("4. frames/s received, batch-8 run (3 s, no predicts)", f"{fps_quiet:.1f} /s "
         f"(snapshots {r3['long_run_quiet_fps'].get('BoundarySnapshot', 0):.1f} /s)", "-",
         "-"),
        ("4. BoundarySnapshot frame, 100x100 grid", f"{r4['bytes']:,} bytes", "-", "-"),
        ("4. encode + decode of that frame (median)",
         f"{r4['encode_decode_median_us']:.0f} us (enc {r4['encode_median_us']:.0f}, "
         f"dec {r4['decode_median_us']:.0f})", "-", "-"),
        (f"5. plain fit, child process (median of {repeats})", f"{r5['plain_median_s']:.2f} s",
         "-", "-"),
        (f"5. engine run, start() -> Finished (median of {repeats})",
         f"{r5['engine_median_s']:.2f} s", "-", "-"),
        ("5. engine / plain (median of per-repeat ratios)", f"{r5['median_of_ratios']:.3f}",
         f"<= {RATIO_GOAL}", verdict(r5["median_of_ratios"] <= RATIO_GOAL)),
        ("5. engine / plain (ratio of medians; of fastest)",
         f"{r5['ratio_of_medians']:.3f}; {r5['ratio_of_minimums']:.3f}", "-", "-"),
    ]
    lines = ["| figure | value | goal | |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50,
                        help="epochs of the circle lesson in figure 5 (default 50)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    repeats = max(1, args.repeats)

    before = resources()
    machine = {"cores": os.cpu_count(), "cpu": cpu_model(),
               "python": platform.python_version(), "platform": platform.platform()}
    log(f"{machine['cores']} cores, {machine['cpu']}, Python {machine['python']}")
    t_all = time.perf_counter()
    results: dict[str, Any] = {"machine": machine, "repeats": repeats}
    results["ready"] = figure_ready(repeats)
    results["crash"] = figure_crash(repeats)
    results["predict"] = figure_predict()
    results["frames"] = figure_frames(results["predict"].pop("snapshot"))
    results["overhead"] = figure_overhead(repeats, args.epochs)
    time.sleep(1.0)  # let the reader and watch threads of closed engines end
    after = resources()
    results["resources"] = {"before": before, "after": after}
    results["seconds"] = time.perf_counter() - t_all

    print()
    print(f"Engine figures: {machine['cores']} cores, {machine['cpu']}; Python "
          f"{machine['python']}, Keras {results['ready']['keras']} "
          f"({results['ready']['backend']}), device {results['predict']['device']}; "
          f"--repeats {repeats}, {results['seconds']:.0f} s in all")
    print()
    print(table(results, repeats))
    print()
    o = results["overhead"]
    if not o["same_loss"]:
        print(f"note: plain and engine ended with different losses: plain {o['plain_loss']}, "
              f"engine {o['engine_loss']}")
    print(f"resources of this process: fds {before['fds']} -> {after['fds']}, threads "
          f"{before['threads']} -> {after['threads']}, child processes "
          f"{len(before['children'])} -> {len(after['children'])}")
    extra = sorted((Counter(after["thread_names"]) - Counter(before["thread_names"])).elements())
    if extra:
        print(f"threads left over: {extra}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
