"""The hyperparameter search in the engine (engine.tuning): a real, small Keras Tuner search
on a tiny Dense model, stopped and continued, and the same through the engine process."""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import pytest

from gui_app.core.project import loads, save_project
from gui_app.core.search_events import SearchDone, TrialEvent
from gui_app.core.search_folder import prepare_folder, search_folder

from ..search_support import tiny_project_json

if importlib.util.find_spec("keras_tuner") is None:  # looked for, not imported yet
    pytest.skip("keras-tuner is not installed", allow_module_level=True)

TINY = tiny_project_json(max_trials=3)


def tiny(epochs=1, **search) -> object:
    doc = json.loads(json.dumps(TINY))
    doc["fit"]["epochs"] = epochs
    doc["search"].update(search)
    return loads(json.dumps(doc))


def run_search(project, tmp_path: Path, max_trials=None, on_event=None):
    from gui_app.engine.tuning import SearchRun

    folder = prepare_folder(search_folder(tmp_path / "tiny.layerlab.json"), tmp_path)
    run = SearchRun(project, folder, tmp_path, max_trials=max_trials)
    events: list = []
    run.subscribe(events.append)
    if on_event is not None:
        run.subscribe(lambda e: on_event(run, e))
    run.start()
    assert run.wait(120), "the search did not end"
    return run.done, events


def ended(events):
    return [e for e in events if isinstance(e, TrialEvent) and e.status != "running"
            and not e.earlier]


def test_a_small_search_reports_each_trial_and_the_best(tmp_path):
    done, events = run_search(tiny(), tmp_path)
    assert isinstance(events[-1], SearchDone) and events[-1] is done
    assert done.status == "completed", done.message
    trials = ended(events)
    assert [t.number for t in trials] == [1, 2, 3]
    running = [e for e in events if isinstance(e, TrialEvent) and e.status == "running"]
    assert [e.number for e in running] == [1, 2, 3]  # each trial began, then ended
    for trial in trials:
        assert trial.status == "completed" and trial.seconds > 0
        assert set(trial.values) == {"model.layers[0].units", "compile.optimizer.learning_rate"}
        assert 2 <= trial.values["model.layers[0].units"] <= 32
        assert 1e-3 <= trial.values["compile.optimizer.learning_rate"] <= 0.1
        assert len(trial.history["val_loss"]) == 1
        assert trial.score == pytest.approx(min(trial.history["val_loss"]))
    best = min(trials, key=lambda t: t.score)
    assert done.best == best.values and done.best_score == pytest.approx(best.score)
    assert done.objective == "val_loss" and done.direction == "min"
    assert len(done.trials) == 3
    assert Path(done.directory) == tmp_path / "tiny.search"
    assert list((tmp_path / "tiny.search").glob("random-*/trial_*/layerlab_trial.json"))
    # continued: the earlier trials come back as they were, and one more runs
    again, events2 = run_search(tiny(), tmp_path, max_trials=4)
    earlier = [e for e in events2 if isinstance(e, TrialEvent) and e.earlier]
    assert [(e.number, e.values, e.score) for e in earlier] == \
        [(t.number, t.values, t.score) for t in trials]
    assert [t.number for t in ended(events2)] == [4]
    assert len(again.trials) == 4 and again.status == "completed"


def test_stop_abandons_the_trial_in_progress_and_continue_runs_it_again(tmp_path):
    def stop_on_second(run, event):
        if isinstance(event, TrialEvent) and event.number == 2 and event.status == "running":
            run.stop()

    done, events = run_search(tiny(), tmp_path, on_event=stop_on_second)
    assert done.status == "stopped" and "Continue" in done.message
    statuses = {t.number: t.status for t in ended(events)}
    assert statuses == {1: "completed", 2: "stopped"}
    second = next(t for t in ended(events) if t.number == 2)
    again, events2 = run_search(tiny(), tmp_path)
    assert again.status == "completed"
    rerun = [t for t in ended(events2)]
    assert [t.number for t in rerun] == [2, 3]
    assert rerun[0].values == second.values  # the abandoned trial, with its values
    assert [t["status"] for t in again.trials] == ["completed"] * 3


def test_a_failing_trial_is_reported_in_words_and_the_search_goes_on(tmp_path):
    # 10**8 units is a valid number, but a model beyond this computer's limits: that
    # trial fails before Keras allocates anything; the other one scores
    project = tiny(max_trials=2, space=[
        {"path": "model.layers[0].units", "kind": "choice", "values": [100_000_000, 4]}])
    done, events = run_search(project, tmp_path)
    failed = [t for t in ended(events) if t.status == "failed"]
    assert len(failed) == 1 and "too big" in failed[0].message, failed
    assert failed[0].values == {"model.layers[0].units": 100_000_000}
    assert done.status == "completed" and done.best == {"model.layers[0].units": 4}


@pytest.mark.parametrize("tuner", ["hyperband", "bayesian"])
def test_the_other_tuners_run(tmp_path, tuner):
    # Hyperband starts with short trials of up to fit.epochs: with 1 there is only one
    done, events = run_search(tiny(epochs=3, tuner=tuner, max_trials=2), tmp_path)
    assert done.status == "completed", done.message
    assert len(ended(events)) == 2 and done.best is not None


def test_the_search_runs_in_the_engine_process(tmp_path):
    from gui_app.engine.client import Engine
    from gui_app.engine.search_client import RemoteSearch

    path = save_project(tiny(max_trials=2), tmp_path / "tiny.layerlab.json")
    engine = Engine().start()
    try:
        assert engine.wait_ready(120), engine.death
        search = RemoteSearch(engine, tiny(max_trials=2), path, tmp_path)
        events: list = []
        got_done = threading.Event()
        search.subscribe(lambda e: (events.append(e),
                                    got_done.set() if isinstance(e, SearchDone) else None))
        search.start()
        assert got_done.wait(120)
        done = search.result
        assert done.status == "completed", done.message
        assert [t.number for t in ended(events)] == [1, 2]
        assert (tmp_path / "tiny.search").is_dir()
        # a bad request comes back as a SearchDone in words, not as a hang
        bad = RemoteSearch(engine, tiny(max_trials=2), tmp_path / "elsewhere" / "x.layerlab.json",
                           tmp_path)
        bad.start()
        assert bad.wait(30) and bad.result.status == "failed"
        assert "search folder" in bad.result.message
    finally:
        engine.close()
