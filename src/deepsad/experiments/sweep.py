"""Run many experiments with a pool of worker processes, storing each result as it finishes.

Re-running a sweep skips the experiments already in the store, so a killed sweep resumes where
it stopped. An experiment that raises is stored with its error and the others go on; a worker
that dies outright (e.g. killed for memory) fails only the experiments it had in hand.

Sweeps started on the same store share its work: the parent claims each experiment in the
store before handing it to a worker (a lease, renewed while it runs) and skips the experiments
another sweep has claimed. The lease ends with the stored result, or when the sweep stops; a
killed sweep's leases are freed by the next sweep on the same host, and expire for the others
``LEASE_SECONDS`` after their last renewal.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import socket
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

import numpy as np

from deepsad.experiments.packing import DEFAULT_PACK_SIZE, pack
from deepsad.experiments.records import RunRecord
from deepsad.experiments.runner import run_experiments
from deepsad.experiments.shared_autoencoders import SharedAutoencoders
from deepsad.experiments.spec import Experiment
from deepsad.experiments.store import Claim, ResultsStore
from deepsad.experiments.worker_lifetime import start_worker
from deepsad.models import PretrainingCache
from deepsad.progress import progress

MAX_WORKER_DEATHS = 2
LEASE_SECONDS = 15 * 60.0
"""How long a claimed experiment stays claimed when its sweep stops renewing the lease (killed);
a running sweep renews its leases every third of it."""
WORKER_DIED = (
    "WorkerDied: the worker process running this experiment died without an error "
    "(killed, out of memory, or a crash in native code)"
)


@dataclass
class SweepSummary:
    """What a sweep did: of ``total`` experiments, ``skipped`` were already in the store (or
    were stored by another sweep meanwhile), ``claimed_elsewhere`` were left to another sweep
    that was running them, and the rest ``succeeded`` or ``failed`` here."""

    total: int
    skipped: int
    succeeded: int
    failed: int
    seconds: float
    claimed_elsewhere: int = 0


@dataclass(frozen=True)
class RunSettings:
    """How experiments run (not what they compute): data location, device, threads, and the
    folder of autoencoder trainings the runs share."""

    root: str | None = None
    download: bool = False
    device: str | None = None
    threads: int = 1
    stored_trainings: str | None = None
    """Folder of autoencoder trainings (``deepsad.PretrainingCache``) kept for the runs that
    would repeat one exactly (None: every run trains its own)."""
    share_pretraining: bool = True
    """Whether the deep methods' pretraining (and ``ae``'s training) is kept there and loaded."""
    share_autoencoders: bool = True
    """Whether the hybrids' autoencoders are kept there and loaded."""
    pack_size: int = DEFAULT_PACK_SIZE
    """Experiments that differ only in their seed are run by one worker, their models trained
    together, in packs of at most this many (``deepsad.experiments.packing``); 1 runs each
    experiment on its own."""


Result = tuple[str, RunRecord | None, bytes | None, str | None]
"""What a worker returns per experiment: (key, record, test outcome as bytes, error text)."""


def run_pack(experiment_dicts: list[dict], settings: RunSettings) -> list[Result]:
    """Worker entry point: run a pack of experiments, their deep models fitted together, and
    return one ``Result`` each. Never raises for a failing experiment, so one failure cannot
    stop a sweep."""
    experiments = [Experiment.from_dict(d) for d in experiment_dicts]
    cache = None if settings.stored_trainings is None else PretrainingCache(settings.stored_trainings)
    pretrained = cache if settings.share_pretraining else None
    shared = SharedAutoencoders(cache) if cache is not None and settings.share_autoencoders else None
    try:
        outcomes = run_experiments(experiments, root=settings.root, download=settings.download,
                                   device=settings.device, autoencoders=shared, pretrained=pretrained)
    except Exception as error:  # noqa: BLE001 - recorded in the store for each, shown in the summary
        outcomes = [error] * len(experiments)
    results = []
    for experiment, outcome in zip(experiments, outcomes):
        if isinstance(outcome, BaseException):
            details = "".join(traceback.format_exception(outcome, limit=-8))
            results.append((experiment.key, None, None, f"{type(outcome).__name__}: {outcome}\n{details}"))
        else:
            record, test_outcome = outcome
            results.append((experiment.key, record, test_outcome.to_bytes(), None))
    return results


def run_one(experiment_dict: dict, settings: RunSettings) -> Result:
    """``run_pack`` of one experiment."""
    [result] = run_pack([experiment_dict], settings)
    return result


def on_gpu(settings: RunSettings) -> bool:
    """Whether the deep models of this sweep train on a GPU (``device`` None or "auto": CUDA when present)."""
    device = settings.device or "auto"
    if device == "auto":
        import torch

        return torch.cuda.is_available()
    return str(device).startswith("cuda")


def sweep_owner() -> str:
    """The name of this sweep in the leases of a store: host, process and a random token."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"


def release_stopped_sweeps(store: ResultsStore) -> None:
    """Free the leases of the sweeps on this host whose process is gone (killed), so a sweep run
    again at once resumes them; the leases of other hosts' sweeps can only expire."""
    for owner in store.lease_owners():
        if _stopped_here(owner):
            store.release_leases(owner)


def _stopped_here(owner: str) -> bool:
    """Whether ``owner`` (``sweep_owner``) names a process of this host that no longer exists."""
    parts = owner.split(":")
    if len(parts) != 3 or parts[0] != socket.gethostname() or not parts[1].isdecimal() or os.name != "posix":
        return False  # on Windows, os.kill(pid, 0) would end the process
    try:
        os.kill(int(parts[1]), 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's process
        pass
    return False


def estimate_seconds(experiments: Sequence[Experiment], store: ResultsStore | None, workers: int) -> tuple[float, int]:
    """The wall time the experiments are expected to take on ``workers`` processes, from the
    seconds the store recorded for finished experiments of the same data set, method and
    parameters (the median; packed runs record their share of their pack), and how many
    experiments have no such timing (left out of the estimate)."""
    seconds, untimed = stored_estimate(experiments, store, workers)
    return seconds, len(untimed)


def stored_estimate(experiments: Sequence[Experiment], store: ResultsStore | None,
                    workers: int) -> tuple[float, list[Experiment]]:
    """``estimate_seconds``, with the experiments that have no timing of their kind in ``store``
    themselves instead of their number."""
    recorded: dict[str, list[float]] = {}
    for record in store.records() if store is not None else ():
        recorded.setdefault(_timing_key(record["experiment"]), []).append(sum(record.get("seconds", {}).values()))
    total, untimed = 0.0, []
    for experiment in experiments:
        seconds = recorded.get(_timing_key(experiment.to_dict()))
        if seconds:
            total += float(np.median(seconds))
        else:
            untimed.append(experiment)
    return total / workers, untimed


def calibrated_estimate(experiments: Sequence[Experiment], settings: RunSettings, workers: int,
                        on_failure: Callable[[Experiment, Exception], None] | None = None) -> tuple[float, int, int]:
    """The wall time of ``experiments`` on ``workers`` processes from short runs of each kind
    (``deepsad.experiments.calibration``), run here with the workers' threads and device, and
    nothing stored. Returns the seconds, how many experiments have no estimate (not calibrated,
    or their calibration failed: ``on_failure`` is told) and how many kinds were timed."""
    from deepsad.experiments.calibration import calibrate, calibrated, calibration_key, estimate_packs
    from deepsad.models.device import torch_threads

    def record_of(short: Experiment) -> dict:
        [outcome] = run_experiments([short], root=settings.root, download=settings.download, device=settings.device)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome[0].to_dict()

    calibrations = {}
    for experiment in experiments:
        key = calibration_key(experiment)
        if not calibrated(experiment) or key in calibrations:
            continue
        try:
            with torch_threads(settings.threads):
                calibrations[key] = calibrate(record_of, experiment)
        except Exception as error:  # noqa: BLE001 - an estimate fewer; the sweep itself reports real failures
            calibrations[key] = None
            if on_failure is not None:
                on_failure(experiment, error)
    known = {key: value for key, value in calibrations.items() if value is not None}
    packs = pack(experiments, pack_size=settings.pack_size, workers=workers, on_gpu=on_gpu(settings))
    seconds, unknown = estimate_packs(packs, known, workers)
    return seconds, unknown, len(calibrations)


def _timing_key(experiment: dict) -> str:
    """What an experiment's time depends on: data set, method, parameters and selection."""
    fields = {name: experiment.get(name) for name in ("dataset", "method", "params", "selection", "preprocessing")}
    return json.dumps(fields, sort_keys=True, default=str)


def pending(experiments: Sequence[Experiment], store: ResultsStore, retry_failed: bool = True) -> list[Experiment]:
    """The experiments not yet in the store (failed ones count as not done when ``retry_failed``)."""
    done = store.keys(status="ok") if retry_failed else store.keys()
    return [e for e in experiments if e.key not in done]


def run_sweep(
    experiments: Sequence[Experiment],
    store: ResultsStore,
    *,
    workers: int = 1,
    settings: RunSettings = RunSettings(),
    retry_failed: bool = True,
    show_progress: bool = True,
    on_failure: Callable[[Experiment, str], None] | None = None,
    worker: Callable = run_pack,
    lease_seconds: float = LEASE_SECONDS,
) -> SweepSummary:
    """Run every experiment that is not yet in ``store`` on ``workers`` processes.

    Each experiment is claimed in the store before it is handed to a worker; one that another
    sweep has claimed (an unexpired lease) is left to it. ``lease_seconds`` is how long a
    claim outlives this sweep when it is killed (``LEASE_SECONDS``). ``on_failure(experiment,
    error)`` is called for each failure; ``worker`` is the function run in the worker processes
    (``run_one``; replaceable for testing).
    """
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive integer; got {workers!r}")
    if not lease_seconds > 0:
        raise ValueError(f"lease_seconds must be positive; got {lease_seconds!r}")
    started = time.perf_counter()
    release_stopped_sweeps(store)
    todo = pending(experiments, store, retry_failed)
    # Retried are the failures found now; one stored by another sweep meanwhile counts as done.
    retry = store.keys(status="failed") if retry_failed else set()
    owner, renew_every = sweep_owner(), lease_seconds / 3
    summary = SweepSummary(total=len(experiments), skipped=len(experiments) - len(todo), succeeded=0, failed=0, seconds=0.0)
    bar = progress(total=len(experiments), initial=summary.skipped, description="sweep", enabled=show_progress, leave=True)

    def claim(experiment: Experiment) -> bool:
        claimed = store.claim(experiment.key, owner, seconds=lease_seconds, retry_failed=experiment.key in retry)
        if claimed is Claim.FINISHED:
            summary.skipped += 1
        elif claimed is Claim.TAKEN:
            summary.claimed_elsewhere += 1
        else:
            return True
        bar.update(1)
        return False

    def finish(experiment: Experiment, record, outcome, error) -> None:
        if error is None:
            store.add_result(record, outcome)
            summary.succeeded += 1
        else:
            store.add_failure(experiment.key, experiment.to_dict(), error)
            summary.failed += 1
            if on_failure is not None:
                on_failure(experiment, error)
        bar.update(1)
        bar.set_postfix(failed=summary.failed)

    queue = list(reversed(pack(todo, pack_size=settings.pack_size, workers=workers, on_gpu=on_gpu(settings))))
    crashes: dict[str, int] = {}
    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch threads
    renew_at = time.monotonic() + renew_every
    try:
        while queue:
            with ProcessPoolExecutor(
                workers, mp_context=context, initializer=start_worker, initargs=(settings.threads, os.getpid())
            ) as pool:
                running: dict[Future, list[Experiment]] = {}
                broken = False
                while (queue or running) and not broken:
                    while queue and len(running) < workers and not broken:
                        claimed = [experiment for experiment in queue.pop() if claim(experiment)]
                        if not claimed:
                            continue
                        try:
                            running[pool.submit(worker, [e.to_dict() for e in claimed], settings)] = claimed
                        except BrokenProcessPool:
                            queue.append(claimed)
                            broken = True
                    if not running:
                        break
                    done, _ = wait(running, timeout=renew_every, return_when=FIRST_COMPLETED)
                    if time.monotonic() >= renew_at:
                        store.renew_leases(owner, lease_seconds)
                        renew_at = time.monotonic() + renew_every
                    for future in done:
                        claimed = running.pop(future)
                        try:
                            results = future.result()
                        except BrokenProcessPool:
                            running[future] = claimed
                            broken = True
                            continue
                        except Exception as error:  # noqa: BLE001 - e.g. a result that cannot be sent back
                            results = [(e.key, None, None, f"{type(error).__name__}: {error}") for e in claimed]
                        for experiment, result in zip(claimed, results):
                            finish(experiment, *result[1:])
                # A worker died without raising (killed for memory, a native crash): the pool is
                # unusable and any experiment in it may be the cause. The experiments of a pack are
                # tried again one by one; one that was alone gets one more try in a fresh pool (its
                # lease kept), and at a second death while alone it is recorded as failed.
                for claimed in running.values():
                    for experiment in claimed:
                        if len(claimed) > 1:  # a pack: which of them died is unknown; each is tried alone
                            queue.append([experiment])
                            continue
                        crashes[experiment.key] = crashes.get(experiment.key, 0) + 1
                        if crashes[experiment.key] >= MAX_WORKER_DEATHS:
                            finish(experiment, None, None, WORKER_DIED)
                        else:
                            queue.append([experiment])
    finally:
        # Stopped by an error or an interrupt: what this sweep had claimed is free again at once.
        bar.close()
        store.release_leases(owner)
    summary.seconds = time.perf_counter() - started
    return summary
