import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from click.testing import CliRunner

from deepsad.cli import main
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import Claim, ResultsStore
from deepsad.experiments.sweep import LEASE_SECONDS, WORKER_DIED, RunSettings, pending, run_one, run_pack, run_sweep
from tests.conftest import TINY


def digits_grid(seeds=(0, 1), method="deepsvdd"):
    return [Experiment("digits", method, seed=s, normal_class=c, params=TINY) for c in (0, 1) for s in seeds]


def die_on_seed_7(experiment_dicts, settings):
    """A worker that dies outright (as when killed for memory) on a pack with seed 7."""
    if any(d["seed"] == 7 for d in experiment_dicts):
        os._exit(1)
    return run_pack(experiment_dicts, settings)


def fail_after(experiment_dicts, settings):
    """A worker that fails each experiment after ``seed`` seconds, without training."""
    results = []
    for experiment_dict in experiment_dicts:
        time.sleep(experiment_dict["seed"])
        results.append((Experiment.from_dict(experiment_dict).key, None, None, "Boom"))
    return results


def report_the_lease(experiment_dicts, settings):
    """A worker that waits past the first expiry of its experiments' leases, then fails each
    with whether its lease (in the store at ``settings.root``) was renewed."""
    time.sleep(3.0)
    results = []
    for experiment_dict in experiment_dicts:
        key = Experiment.from_dict(experiment_dict).key
        with closing(sqlite3.connect(settings.root)) as db:
            [(expires_at,)] = db.execute("SELECT expires_at FROM leases WHERE key = ?", (key,))
        results.append((key, None, None, "lease renewed" if expires_at > time.time() else "lease expired"))
    return results


def leases(store: ResultsStore) -> list[tuple[str, str]]:
    with closing(sqlite3.connect(store.path)) as db:
        return db.execute("SELECT key, owner FROM leases ORDER BY key").fetchall()


def expire_leases(store: ResultsStore) -> None:
    with closing(sqlite3.connect(store.path)) as db, db:
        db.execute("UPDATE leases SET expires_at = 0")


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
    # The watch starts before the worker imports torch, but a loaded machine can be slow to
    # schedule it.
    deadline = time.monotonic() + 90
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


def test_a_sweep_leaves_what_another_sweep_claimed_and_takes_it_over_when_the_claim_expires(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    claimed, free = digits_grid(seeds=(0,))
    assert store.claim(claimed.key, "other-host:1:cafe", seconds=3600) is Claim.CLAIMED
    summary = run_sweep([claimed, free], store, workers=2, show_progress=False)
    assert (summary.succeeded, summary.failed, summary.skipped, summary.claimed_elsewhere) == (1, 0, 0, 1)
    assert store.keys() == {free.key}
    assert leases(store) == [(claimed.key, "other-host:1:cafe")]  # its own ended with its result
    expire_leases(store)  # the other sweep was killed long ago
    summary = run_sweep([claimed, free], store, workers=2, show_progress=False)
    assert (summary.succeeded, summary.skipped, summary.claimed_elsewhere) == (1, 1, 0)
    assert store.keys(status="ok") == {claimed.key, free.key} and leases(store) == []


def test_the_claims_of_a_stopped_sweep_on_this_host_are_freed_at_once(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    of_a_live_sweep, of_a_killed_sweep = digits_grid(seeds=(0,))
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()  # its pid is free now
    host = socket.gethostname()
    store.claim(of_a_live_sweep.key, f"{host}:{os.getpid()}:cafe", seconds=3600)
    store.claim(of_a_killed_sweep.key, f"{host}:{killed.pid}:beef", seconds=3600)
    summary = run_sweep([of_a_live_sweep, of_a_killed_sweep], store, show_progress=False, worker=fail_after)
    assert (summary.failed, summary.claimed_elsewhere) == (1, 1)
    assert store.keys() == {of_a_killed_sweep.key}


def test_a_sweep_renews_its_claims_while_they_run(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    summary = run_sweep(digits_grid(seeds=(0,))[:1], store, show_progress=False, worker=report_the_lease,
                        settings=RunSettings(root=str(store.path)), lease_seconds=1.2)
    assert summary.failed == 1 and [error for _, error in store.failures()] == ["lease renewed"]


def test_a_sweep_that_stops_on_an_error_frees_its_claims(tmp_path):
    store = ResultsStore(tmp_path / "results.sqlite")
    fast, slow = (Experiment("digits", "deepsvdd", seed=s, normal_class=0, params=TINY) for s in (0, 2))

    def stop(experiment, error):
        raise RuntimeError("stopped by the caller")

    with pytest.raises(RuntimeError, match="stopped by the caller"):
        run_sweep([fast, slow], store, workers=2, show_progress=False, worker=fail_after, on_failure=stop)
    assert store.keys() == {fast.key} and leases(store) == []


def test_the_cli_says_how_many_experiments_another_sweep_is_running(tmp_path):
    from deepsad.experiments.config import expand, read_config

    config = tmp_path / "grid.toml"
    config.write_text('datasets = ["digits"]\nmethods = ["deepsvdd"]\nnormal_classes = [0, 1]\n')
    store = ResultsStore(tmp_path / "results.sqlite")
    for experiment in expand(read_config(config)):
        store.claim(experiment.key, "other-host:1:cafe", seconds=3600)
    result = CliRunner().invoke(main, ["sweep", str(config), "--store", str(store.path)])
    assert result.exit_code == 0, result.output
    assert "0 succeeded, 0 failed, 0 skipped" in result.output
    assert f"2 not run here: another sweep on {store.path} is running them" in result.output
    assert f"{LEASE_SECONDS / 60:.0f} min later on others" in result.output


def test_the_time_left_is_estimated_from_the_timings_of_finished_experiments_of_the_same_kind(tmp_path):
    from deepsad.experiments.runner import run_experiment
    from deepsad.experiments.sweep import estimate_seconds

    store = ResultsStore(tmp_path / "results.sqlite")
    done, same_kind, other_kind = digits_grid(seeds=(0, 1, 2))[:3]
    record, outcome = run_experiment(done)
    store.add_result(record, outcome)
    other = Experiment("digits", "iforest", seed=0, normal_class=0)
    seconds, unknown = estimate_seconds([same_kind, other_kind, other], store, workers=2)
    assert unknown == 1 and seconds == pytest.approx(2 * sum(record.seconds.values()) / 2)
    assert estimate_seconds([other], None, workers=1) == (0.0, 1)
