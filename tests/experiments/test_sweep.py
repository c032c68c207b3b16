import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import ResultsStore
from deepsad.experiments.sweep import WORKER_DIED, RunSettings, pending, run_one, run_sweep
from tests.conftest import TINY


def digits_grid(seeds=(0, 1), method="deepsvdd"):
    return [Experiment("digits", method, seed=s, normal_class=c, params=TINY) for c in (0, 1) for s in seeds]


def die_on_seed_7(experiment_dict, settings):
    """A worker that dies outright (as when killed for memory) on seed 7."""
    if experiment_dict["seed"] == 7:
        os._exit(1)
    return run_one(experiment_dict, settings)


def test_sweep_stores_every_result_and_resumes(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    experiments = digits_grid()
    summary = run_sweep(experiments[:3], store, workers=2, show_progress=False)
    assert (summary.total, summary.succeeded, summary.failed, summary.skipped) == (3, 3, 0, 0)
    # A sweep stopped after three experiments picks up the fourth only.
    assert pending(experiments, store) == experiments[3:]
    summary = run_sweep(experiments, store, workers=2, show_progress=False)
    assert (summary.succeeded, summary.skipped) == (1, 3)
    assert store.keys(status="ok") == {e.key for e in experiments}
    aurocs = [r["metrics"]["auroc"] for r in store.records()]
    assert len(aurocs) == 4 and min(aurocs) > 0.7


def test_a_failing_experiment_is_recorded_and_the_others_go_on(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    broken = Experiment("thyroid", "deepsad", params=TINY)  # no data file and no download
    good = digits_grid(seeds=(0,))
    failures = []
    summary = run_sweep([broken, *good], store, workers=2, settings=RunSettings(root=str(tmp_path / "empty"), download=False),
                        show_progress=False, on_failure=lambda e, error: failures.append((e, error)))
    assert (summary.succeeded, summary.failed) == (2, 1)
    assert failures[0][0] == broken and failures[0][1].startswith("FileNotFoundError")
    [(experiment, error)] = store.failures()
    assert experiment == broken.to_dict() and "thyroid.mat" in error
    # Failed experiments are retried by default, or left alone when asked.
    assert pending([broken, *good], store) == [broken]
    assert pending([broken, *good], store, retry_failed=False) == []


def test_a_dying_worker_fails_only_its_experiment(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    doomed = Experiment("digits", "deepsvdd", seed=7, normal_class=0, params=TINY)
    good = digits_grid(seeds=(0,))
    summary = run_sweep([doomed, *good], store, workers=1, show_progress=False, worker=die_on_seed_7)
    assert (summary.succeeded, summary.failed) == (2, 1)
    [(experiment, error)] = store.failures()
    assert experiment == doomed.to_dict() and error == WORKER_DIED


def test_run_one_turns_exceptions_into_error_text(tmp_path):
    experiment = Experiment("shuttle", "deepsad", params=TINY)
    key, record, outcome, error = run_one(experiment.to_dict(), RunSettings(root=str(tmp_path), download=False))
    assert (key, record, outcome) == (experiment.key, None, None)
    assert error.startswith("FileNotFoundError: ") and "shuttle.mat" in error and "Traceback" in error


@pytest.mark.parametrize("workers", [0, -1])
def test_workers_must_be_positive(tmp_path, workers):
    with pytest.raises(ValueError, match="workers"):
        run_sweep(digits_grid(), ResultsStore(tmp_path / "r.sqlite"), workers=workers, show_progress=False)


def test_killing_a_sweep_stops_its_workers(tmp_path):
    config = tmp_path / "grid.toml"
    config.write_text('datasets = ["digits"]\nmethods = ["deepsvdd"]\nnormal_classes = [0, 1]\n'
                      "[params]\nepochs = 100000\npretrain = false\n")  # runs until killed
    sweep = subprocess.Popen([sys.executable, "-m", "deepsad", "sweep", str(config), "--store",
                              str(tmp_path / "r.sqlite"), "--workers", "2", "--device", "cpu"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers = []
    deadline = time.monotonic() + 60
    while len(workers) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        workers = children_of(sweep.pid)
    assert len(workers) == 2, "the sweep did not start its workers"
    sweep.kill()
    sweep.wait()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not any(alive(pid) for pid in workers)


def children_of(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if not children.exists():
        pytest.skip("needs Linux /proc to find the worker processes")
    return [int(p) for p in children.read_text().split() if "spawn_main" in Path(f"/proc/{p}/cmdline").read_text()]


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status
