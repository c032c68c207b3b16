"""The ``deepsad`` command line: thin wrappers that parse options and call ``experiments``.

The lists of data sets and methods in the help come from their registries; the commands
import the engine (torch) only when they run, so ``--help`` and ``deepsad report`` stay light.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import click
import numpy as np

from deepsad._version import __version__
from deepsad.data.datasets import DATASETS
from deepsad.experiments.methods import METHODS, SAVABLE_METHODS, TUNABLE_METHODS
from deepsad.experiments.spec import PREPROCESSINGS, SELECTION_PROTOCOLS

DEMO_CLASSES = len(DATASETS["digits"].classes)


DEBUG_VARIABLE = "DEEPSAD_DEBUG"
"""Set to 1 to see the traceback of an error instead of its one-line message."""


def one_line(error: BaseException) -> str:
    """An error as one line: its message (its type's name where that says more, e.g.
    ``TrainingDiverged``), with line breaks folded."""
    message = " ".join(str(error).split()) or type(error).__name__
    if not isinstance(error, (ValueError, TypeError, OSError, KeyError)):
        message = f"{type(error).__name__}: {message}"
    return message


class CommandGroup(click.Group):
    """Every failure of a command is one ``Error:`` line and exit status 1, never a
    traceback (unless $DEEPSAD_DEBUG is set)."""

    def invoke(self, ctx):
        # Warnings are shown as one line each too, without the source line that raised them.
        format_warning, warnings.formatwarning = warnings.formatwarning, _warning_line
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as error:
            if os.environ.get(DEBUG_VARIABLE):
                raise
            raise click.ClickException(one_line(error)) from error
        finally:
            warnings.formatwarning = format_warning


def _warning_line(message, category, filename, lineno, line=None) -> str:
    return f"Warning ({category.__name__}): {message}\n"


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="deepsad")
def main() -> None:
    """Deep semi-supervised anomaly detection: Deep SAD, Deep SVDD, HSC and baselines.

    Errors are reported as one line; set DEEPSAD_DEBUG=1 to see the traceback.
    """
    from deepsad.allocator import retain_freed_memory

    # A command owns its process, so it may tune the allocator for training speed.
    retain_freed_memory()


@main.command()
@click.option("--normal-class", "normal_classes", type=click.IntRange(0, DEMO_CLASSES - 1), multiple=True,
              help="Digit(s) used as the normal class, one run each; default: all ten.")
@click.option("--seeds", type=click.IntRange(1), default=1, help="Number of seeds (0, 1, ...) per class.")
@click.option("--ratio-known-anomaly", type=click.FloatRange(0, 1, max_open=True), default=0.05,
              help="Fraction γl of the training set that are labeled anomalies (Deep SAD only).")
@click.option("--device", default="auto", help="'auto' (CUDA when present), 'cpu' or 'cuda[:N]'.")
def demo(normal_classes, seeds, ratio_known_anomaly, device) -> None:
    """Deep SVDD vs Deep SAD on scikit-learn's bundled digits (no download needed).

    One digit is normal, the other nine are anomalies; Deep SAD also sees labeled anomalies
    (a fraction --ratio-known-anomaly of its training set). Prints the test AUROC of both.
    """
    from deepsad.experiments.demo import run_demo

    classes = normal_classes or tuple(range(DEMO_CLASSES))
    click.echo(f"digits one-vs-rest, γl = {ratio_known_anomaly}, {seeds} seed(s), classes {list(classes)}")
    started = time.perf_counter()

    def show(result):
        click.echo(f"  class {result.normal_class}  seed {result.seed}  {result.method:<9}  "
                   f"AUROC {100 * result.auroc:5.1f}  ({result.seconds:.1f} s)")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        results = run_demo(classes, range(seeds), ratio_known_anomaly, device, on_result=show)
    click.echo("mean test AUROC over classes and seeds:")
    for method in ("Deep SVDD", "Deep SAD"):
        aurocs = [100 * r.auroc for r in results if r.method == method]
        click.echo(f"  {method:<9}  {np.mean(aurocs):5.1f} ± {np.std(aurocs):.1f}")
    click.echo(f"total time {time.perf_counter() - started:.1f} s")


class AutoOrPositiveInt(click.ParamType):
    """'auto' or an integer of at least 1."""

    name = "'auto' or integer"

    def convert(self, value, param, ctx):
        if value == "auto":
            return value
        try:
            number = int(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is neither 'auto' nor an integer", param, ctx)
        if number < 1:
            self.fail(f"{number} is not 'auto' or at least 1", param, ctx)
        return number


AUTO_OR_POSITIVE_INT = AutoOrPositiveInt()


def _set_torch_threads(threads) -> None:
    """``--threads`` of a single process: a number is set; "auto" leaves torch's default (all
    cores), and fit itself trains small fully connected networks on one thread."""
    if threads != "auto":
        import torch

        torch.set_num_threads(threads)


def _data_options(function):
    """Options shared by every command that reads data and trains models."""
    options = [
        click.option("--data-root", type=click.Path(file_okay=False), envvar="DEEPSAD_DATA", default=None,
                     help="Folder with the datasets (downloaded there when missing). "
                          "Default: $DEEPSAD_DATA, else the user cache folder."),
        click.option("--download/--no-download", default=True,
                     help="Download missing dataset files from their official sources."),
        click.option("--device", default=None,
                     help="Device of the deep methods: 'auto' (CUDA when present), 'cpu', 'cuda[:N]'. "
                          "Default: the method's own setting ('auto')."),
        click.option("--threads", type=AUTO_OR_POSITIVE_INT, default="auto", show_default=True, metavar="auto|N",
                     help="Torch threads per process. 'auto': in a sweep, the usable cores shared among its "
                          "workers; for one run, torch's default (fit trains small fully connected networks "
                          "on one thread itself)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def _fail(error: Exception) -> None:
    raise click.ClickException(one_line(error))


@main.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="TOML or YAML file in the sweep format describing one experiment; flags override it.")
@click.option("--dataset", default=None, help=f"One of: {', '.join(DATASETS)}.")
@click.option("--method", default=None, help=f"One of: {', '.join(METHODS)}.")
@click.option("--seed", type=click.IntRange(0), default=None, help="Seed of the split, scenario and model. [default: 0]")
@click.option("--normal-class", type=click.IntRange(0), default=None,
              help="Normal class of a one-vs-rest dataset (the other classes are anomalies).")
@click.option("--known-anomaly-class", "known_classes", type=click.IntRange(0), multiple=True,
              help="Class the labeled anomalies come from (repeatable). Default: drawn at random.")
@click.option("--n-known-classes", type=click.IntRange(0), default=None,
              help="Number of known anomaly classes drawn at random (kl). [default: 1]")
@click.option("--ratio-known-normal", type=float, default=None, help="Fraction of the training set labeled normal. [default: 0]")
@click.option("--ratio-known-anomaly", type=float, default=None, help="γl: fraction of the training set that are labeled anomalies. [default: 0]")
@click.option("--ratio-pollution", type=float, default=None, help="γp: fraction of the unlabeled training data that are anomalies. [default: 0]")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Estimator parameter, e.g. --param epochs=30 --param hidden_sizes=[64,32] (repeatable).")
@click.option("--selection", type=click.Choice(SELECTION_PROTOCOLS), default=None,
              help=f"Choose the kernel γ (and ν) of {', '.join(TUNABLE_METHODS)}: "
                   "'paper' tunes on 10% of the "
                   "test set and reports on the other 90%; 'honest' uses the training set only. "
                   "Default: the method's parameters as given.")
@click.option("--preprocessing", type=click.Choice(PREPROCESSINGS), default=None,
              help="Image datasets: 'gcn' is Deep SVDD's (ICML 2018) global contrast normalization with "
                   "min-max scaling. Default: pixels scaled to [0, 1], as in the Deep SAD paper.")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Write the JSON record here instead of standard output.")
@click.option("--model-out", type=click.Path(dir_okay=False), default=None,
              help="Save the fitted model (deep methods) to this file.")
@_data_options
def run(config_path, dataset, method, seed, normal_class, known_classes, n_known_classes, ratio_known_normal,
        ratio_known_anomaly, ratio_pollution, params, selection, preprocessing, output, model_out, data_root, download,
        device, threads) -> None:
    """Run one experiment and print its JSON record (AUROC, AUPRC, F1, threshold, sizes,
    train/test times, per-epoch losses).

    Example: deepsad run --dataset cardio --method deepsad --ratio-known-anomaly 0.01 --seed 0
    """
    import json

    from deepsad.cli.single_run import single_experiment
    from deepsad.experiments.runner import run_experiment
    from deepsad.files import check_writable, write_atomically

    flags = dict(dataset=dataset, method=method, normal_class=normal_class, n_known_classes=n_known_classes,
                 ratio_known_normal=ratio_known_normal, ratio_known_anomaly=ratio_known_anomaly,
                 ratio_pollution=ratio_pollution, selection=selection, preprocessing=preprocessing)
    _set_torch_threads(threads)
    try:
        experiment = single_experiment(config_path, flags, seed, known_classes, params)
        for destination in (output, model_out):  # before the training, not after it
            if destination is not None:
                check_writable(destination)
        click.echo(f"running {experiment.describe()}", err=True)
        record, _ = run_experiment(experiment, root=data_root, download=download, device=device, model_path=model_out)
    except (ValueError, FileNotFoundError, OSError) as error:
        _fail(error)
    metrics = record.metrics
    click.echo(f"AUROC {100 * metrics['auroc']:.2f}  AUPRC {100 * metrics['auprc']:.2f}  F1 {100 * metrics['f1']:.2f}  "
               f"train {record.seconds['train']:.1f} s", err=True)
    if record.selection is not None:
        chosen = ", ".join(f"{name}={value:g}" for name, value in record.selection["chosen"].items())
        click.echo(f"selected {chosen} ({record.selection['protocol']} protocol; metrics on "
                   f"{record.selection['evaluated_on']})", err=True)
    text = json.dumps(record.to_dict(), indent=2)
    if output:
        write_atomically(output, text + "\n")
        click.echo(f"record written to {output}", err=True)
    else:
        click.echo(text)


@main.command()
@click.argument("config_path", metavar="CONFIG", type=click.Path(dir_okay=False, exists=True))
@click.option("--store", type=click.Path(dir_okay=False), default="results.sqlite",
              help="SQLite results store; experiments already in it are skipped (resume).")
@click.option("--workers", type=AUTO_OR_POSITIVE_INT, default="auto", show_default=True, metavar="auto|N",
              help="Experiments run in parallel, one process each. 'auto': one per usable CPU core, at most one "
                   "per experiment left.")
@click.option("--retry-failed/--skip-failed", default=True,
              help="Run experiments again that failed in an earlier sweep, or leave them failed.")
@click.option("--dry-run", is_flag=True,
              help="List how many experiments the grid has, how many are left and the estimated time; run none "
                   "of them (only --calibrate's short runs) and store nothing.")
@click.option("--share-autoencoders/--no-share-autoencoders", default=True,
              help="Train the autoencoder of the hybrids once per training set, parameters and seed, kept in a "
                   "folder beside the store (STORE with the suffix .pretrained), and load it in the other "
                   "hybrid runs (or a deep method's pretraining that was the same training); or let every "
                   "hybrid run train its own.")
@click.option("--share-pretraining/--no-share-pretraining", default=True,
              help="Keep the deep methods' autoencoder pretraining in a folder beside the store (STORE with the "
                   "suffix .pretrained) and load it in the runs that would repeat it exactly (with pretrain_on = "
                   "'unlabeled', the runs that differ only in their labels); results are unchanged. The hybrids' "
                   "autoencoders use that folder as --share-autoencoders says.")
@click.option("--pack-size", type=click.IntRange(1), default=10,
              help="Experiments that differ only in their seed run in one worker, their models trained together "
                   "as one stacked model (on a GPU, or the CPU for networks without convolutions), in packs of "
                   "at most this many; 1 runs each experiment on its own.")
@click.option("--calibrate/--no-calibrate", default=True,
              help="Before a sweep whose store has no timings of an experiment's kind (data set, method, "
                   "parameters), time two short runs of each such kind of deep method (1 and 3 epochs per "
                   "training stage) and print the estimated wall time from them; nothing of those runs is stored.")
@_data_options
def sweep(config_path, store, workers, retry_failed, dry_run, share_autoencoders, share_pretraining, pack_size,
          calibrate, data_root, download, device, threads) -> None:
    """Run the grid of experiments in CONFIG (TOML or YAML) and store every result.

    Each finished experiment is committed to the store at once; a killed sweep resumes where
    it stopped when run again; a failing experiment is stored with its error and the others
    go on. See docs/results.md for the configurations of the paper's tables.
    """
    from deepsad.experiments.config import ConfigError, expand, read_config
    from deepsad.experiments.packing import pack
    from deepsad.experiments.parallelism import split_cores
    from deepsad.experiments.store import ResultsStore
    from deepsad.experiments.sweep import (
        LEASE_SECONDS,
        RunSettings,
        calibrated_estimate,
        on_gpu,
        pending,
        run_sweep,
        stored_estimate,
    )

    try:
        experiments = expand(read_config(config_path))
        if dry_run:  # a dry run writes nothing: it reads an existing store, and creates none
            exists = Path(store).exists() and Path(store).stat().st_size > 0
            results = ResultsStore(store, readonly=True) if exists else None
        else:
            results = ResultsStore(store)
    except (ConfigError, ValueError) as error:
        _fail(error)
    left = experiments if results is None else pending(experiments, results, retry_failed)
    workers, threads = split_cores(len(left), workers, threads)
    settings = RunSettings(root=data_root, download=download, device=device, threads=threads, pack_size=pack_size,
                           stored_trainings=str(Path(store).with_suffix(".pretrained")),
                           share_pretraining=share_pretraining, share_autoencoders=share_autoencoders)
    packs = pack(left, pack_size=pack_size, workers=workers, on_gpu=on_gpu(settings))
    failed_before = 0 if results is None or retry_failed else len(
        {e.key for e in experiments} & results.keys(status="failed"))
    click.echo(f"{len(experiments)} experiments in the grid, {len(experiments) - len(left)} already in {store}"
               + (f" ({failed_before} of them failed earlier and are skipped: --retry-failed runs them)"
                  if failed_before else "")
               + f", {len(left)} to run in {len(packs)} pack(s) on {workers} worker(s) × {threads} thread(s)")
    if left:
        seconds, untimed = stored_estimate(left, results, workers)
        unknown = len(untimed)
        timed = len(left) - unknown
        if timed:
            click.echo(f"estimated time for the {timed} with recorded timings of their kind: {seconds / 60:.1f} min"
                       + (f"; {unknown} of a kind not run yet" if unknown else ""))
        if unknown and calibrate:
            started = time.perf_counter()
            extra, still_unknown, kinds = calibrated_estimate(
                untimed, settings, workers,
                on_failure=lambda experiment, error: click.echo(
                    f"calibration of {experiment.describe()} failed: {one_line(error)}", err=True))
            if kinds:
                click.echo(f"estimated time for the {unknown - still_unknown} of a kind not run yet, from short runs "
                           f"of {kinds} kind(s) ({time.perf_counter() - started:.0f} s): {extra / 60:.1f} min"
                           + (f"; {still_unknown} without an estimate" if still_unknown else ""))
    if dry_run:
        return

    def report_failure(experiment, error):
        tqdm_write(f"FAILED {experiment.describe()}: {error.splitlines()[0]}")

    summary = run_sweep(experiments, results, workers=workers, settings=settings, retry_failed=retry_failed,
                        on_failure=report_failure)
    click.echo(f"done: {summary.succeeded} succeeded, {summary.failed} failed, {summary.skipped} skipped, "
               f"wall time {summary.seconds:.0f} s")
    if summary.claimed_elsewhere:
        click.echo(f"{summary.claimed_elsewhere} not run here: another sweep on {store} is running them (if it "
                   f"was killed, run again: its claims end at once on its host, {LEASE_SECONDS / 60:.0f} min later "
                   f"on others)")
    if summary.failed:
        click.echo("errors are stored with the experiments (deepsad report lists them)", err=True)
        raise SystemExit(1)


def tqdm_write(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(message)


@main.command()
@click.argument("sources", metavar="SOURCE...", nargs=-1, required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--output-dir", type=click.Path(file_okay=False), default="report",
              help="Folder for summary.md, summary.csv, records.csv, decisions.md, novelty.md, scenarios.md, "
                   "failures.md and figures/ (created if missing).")
@click.option("--group-by", default="dataset,normal_class,method",
              help="Comma-separated experiment fields that form the groups (dataset, method, seed, normal_class, "
                   "known_anomaly_classes, n_known_classes, ratio_known_normal, ratio_known_anomaly, ratio_pollution, "
                   "selection, preprocessing, params); runs differing only in other fields are averaged together. Fields empty for every "
                   "experiment, like normal_class when only ODDS sets ran, are left out.")
@click.option("--metric", type=click.Choice(["auroc", "auprc", "f1"]), default="auroc",
              help="Metric summarised, in percent.")
@click.option("--pivot", default=None, metavar="COLUMN",
              help="Group column whose values become the table's columns, e.g. method for the ODDS table. "
                   "Default: none, one row per group.")
@click.option("--plots/--no-plots", default=True,
              help="Also draw the metric against γl, γp and kl, ROC curves, and image grids of the most normal and "
                   "most anomalous test images.")
@click.option("--data-root", type=click.Path(file_okay=False), envvar="DEEPSAD_DATA", default=None,
              help="Folder with the class datasets, read for the image grids and for each run's AUROC against "
                   "its known and its novel anomaly classes (never downloaded; what needs a missing dataset is "
                   "skipped). Default: $DEEPSAD_DATA, else the user cache folder.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="Report only the experiments of this sweep configuration's grid; the sources may hold others "
                   "(other grids, or points since dropped from this one). Default: every experiment in the sources.")
def report(sources, output_dir, group_by, metric, pivot, plots, data_root, config_path) -> None:
    """Tables and figures from a results store of 'deepsad sweep', or from several SOURCEs
    reported as one: stores, and records files (the records.csv an earlier report wrote, such as
    committed records) for runs whose store is gone. An experiment held by two is read from a
    store before a records file, else from the first named. Records files have no test scores:
    their runs are in the tables and the metric figures, not in the ROC, calibration or
    image figures.

    Prints the summary table (mean ± std of the metric over the runs of each group, in percent)
    and writes it with the full records and the figures to --output-dir.

    Example: deepsad report results.sqlite --group-by dataset,method --pivot method
    """
    from pathlib import Path

    from deepsad.experiments.report import write_report

    columns = [column.strip() for column in group_by.split(",") if column.strip()]
    pivot = (pivot or "").strip() or None  # read as --group-by's columns are
    try:
        only = None
        if config_path is not None:
            from deepsad.experiments.config import expand, read_config

            only = {experiment.key for experiment in expand(read_config(config_path))}
        paths = write_report(list(sources), output_dir, columns, metric, pivot, plots, data_root,
                             notify=lambda note: click.echo(note, err=True), only=only)
    except (ValueError, OSError) as error:
        _fail(error)
    click.echo(Path(output_dir, "summary.md").read_text(encoding="utf-8"))
    click.echo(f"{len(paths)} files written to {output_dir}:", err=True)
    for path in paths:
        click.echo(f"  {path}", err=True)



def _label_options(function):
    """Where a data file's labels are: a column of a table, or a file beside an array."""
    options = [
        click.option("--label-column", default=None, metavar="COLUMN",
                     help="Tables: the column holding the labels (+1 known normal, 0 or empty unlabeled, "
                          "-1 known anomaly); every other column is a feature. Default: no labels."),
        click.option("--labels", "labels_path", type=click.Path(dir_okay=False, exists=True), default=None,
                     help=".npy/.npz arrays: a file with one label per sample (.npy, .npz or one integer per line)."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@main.command()
@click.argument("data_path", metavar="DATA", type=click.Path(dir_okay=False, exists=True))
@click.option("--model-out", type=click.Path(dir_okay=False), required=True,
              help="Where to save the fitted model (a safetensors file; load it with deepsad.load or 'deepsad score').")
@click.option("--method", type=click.Choice(SAVABLE_METHODS), default="deepsad", help="Detector to fit.")
@_label_options
@click.option("--anomaly-label", default=None, metavar="VALUE",
              help="The labels are binary in another convention (e.g. 0/1 with 1 = anomaly, as in PyOD and "
                   "ADBench): VALUE marks the anomalies (known anomaly, -1); every other sample is unlabeled.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="Estimator parameter, e.g. --param epochs=30 --param contamination=0.01 (repeatable).")
@click.option("--seed", type=click.IntRange(0), default=0, help="Seed of the network's initialisation and minibatches.")
@click.option("--threshold", "threshold", default=None, metavar="STRATEGY",
              help="Choose the threshold on held-out calibration data: fpr:ALPHA (a false-alarm rate of at most "
                   "ALPHA on new normal data, guaranteed), contamination:F, percentile:Q, mean+std:K, recall:R, "
                   "precision@recall:R or f1 (these three need labeled anomalies), or soft-boundary (the sphere of "
                   "--method deepsvdd-soft); 'deepsad score' then also writes conformal p-values. "
                   "Default: the detector's own threshold (its contamination parameter), no calibration.")
@click.option("--calibration-size", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=0.2,
              show_default=True, help="With --threshold: the fraction of the data set aside for calibration.")
@click.option("--probability", is_flag=True,
              help="With --threshold: also calibrate anomaly probabilities on the held-out labeled anomalies "
                   "(Platt scaling; needs at least two -1 labels); 'deepsad score --prevalence P' then writes them.")
@click.option("--device", default=None, help="'auto' (CUDA when present), 'cpu', 'cuda[:N]'. Default: 'auto'.")
@click.option("--threads", type=AUTO_OR_POSITIVE_INT, default="auto", show_default=True, metavar="auto|N",
              help="Torch threads. 'auto': torch's default (all cores); fit trains small fully connected "
                   "networks on one thread itself.")
def fit(data_path, model_out, method, label_column, labels_path, anomaly_label, params, seed, threshold,
        calibration_size, probability, device, threads) -> None:
    """Fit a detector on your own DATA file and save it.

    DATA is a table (.csv, .tsv, optionally compressed, or .parquet; numeric feature columns),
    an array (.npy/.npz of shape (n, d) or (n, c, h, w); uint8 images are scaled to [0, 1]) or an
    ODDS-style .mat file. Tables are standardized and min-max scaled with the training
    statistics, which the model keeps. Labels follow the Deep SAD paper and are optional:
    +1 known normal, 0 or empty unlabeled, -1 known anomaly; for 0/1 labels with 1 = anomaly
    give --anomaly-label 1.

    Example: deepsad fit sensors.csv --label-column label --model-out sensors.safetensors
    """
    from deepsad.cli.single_run import parse_param
    from deepsad.cli.user_data import fit_model, label_summary, read_data_file, semi_supervised_labels
    from deepsad.experiments.config import ConfigError
    from deepsad.files import check_writable
    from deepsad.labels import LabelConventionWarning

    _set_torch_threads(threads)
    started = time.perf_counter()
    if probability and threshold is None:
        _fail(ValueError("--probability calibrates on held-out data: give --threshold too (e.g. --threshold fpr:0.05)"))
    try:
        check_writable(model_out)  # before the training, not after it
        settings = dict(parse_param(p) for p in params)
        data = read_data_file(data_path, label_column=label_column, labels_path=labels_path)
        where = f"label column {label_column!r}" if label_column else f"labels file {labels_path}"
        labels = semi_supervised_labels(data, where, anomaly_label)
        click.echo(f"{data_path}: {label_summary(labels, len(data.features))}", err=True)
        if labels is not None and anomaly_label is None and np.any(labels == 1) and not np.any(labels == -1):
            click.echo(f"Warning: the {where} marks known normals (1) but no known anomaly (-1); if 1 marks "
                       "the anomalies (0/1 labels as in PyOD and ADBench), rerun with --anomaly-label 1", err=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", LabelConventionWarning)  # said above, in the CLI's terms
            model = fit_model(method, data, labels, settings, seed, device, threshold, calibration_size, probability)
        model.save(model_out)
    except (ConfigError, ValueError, TypeError, FileNotFoundError, OSError) as error:
        _fail(error)
    click.echo(f"fitted {type(model).__name__} in {time.perf_counter() - started:.1f} s; "
               f"threshold {model.threshold_:.6g} (anomaly score above it: predicted anomaly)", err=True)
    if threshold is not None:
        click.echo(f"calibrated on {len(model.calibration_scores_)} held-out samples: "
                   f"{model.threshold_info_.describe()}", err=True)
        model = model.detector_
    if model.history_.get("collapsed"):
        click.echo("warning: the embedding collapsed; the scores carry no information (see the warning above)", err=True)
    click.echo(f"model saved to {model_out}", err=True)


@main.command()
@click.argument("root", metavar="FOLDER", type=click.Path(file_okay=False, exists=True))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Folder for the results.")
@click.option("--image-size", type=click.IntRange(8), default=None,
              help="Resize every image to SIZE × SIZE pixels. Default: the first training image's size.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="FCDD parameter, e.g. --param epochs=50 --param lr=1e-3 (repeatable).")
@click.option("--heatmaps", type=click.IntRange(0), default=16, show_default=True,
              help="Heatmap overlays of this many of the most anomalous test images.")
@click.option("--auxiliary", type=click.Path(file_okay=False, exists=True), default=None,
              help="A folder of images unlike the normal ones (any other image set), drawn into every minibatch as "
                   "anomalies (Outlier Exposure) instead of synthetic confetti noise.")
@click.option("--seed", type=click.IntRange(0), default=0, help="Seed of the initialisation and minibatches.")
@click.option("--device", default=None, help="'auto' (CUDA when present), 'cpu', 'cuda[:N]'. Default: 'auto'.")
def inspect(root, out_dir, image_size, params, heatmaps, auxiliary, seed, device) -> None:
    """Fit FCDD on an image FOLDER and evaluate it, in one command.

    FOLDER has the common industrial-inspection layout: train/good (normal training images),
    test/good and test/<defect> (test images), and optionally ground_truth/<defect>/<name>_mask.png
    (defect masks). Without anomalies to train on, FCDD trains against synthetic confetti noise.
    Writes OUT/model.safetensors, OUT/metrics.json (image AUROC, and pixel AUROC where there are
    masks), OUT/test_scores.csv and heatmap overlays under OUT/heatmaps.

    Example: deepsad inspect bottle/ --out bottle-results --image-size 64
    """
    from deepsad.cli.image_inspection import inspect_folder
    from deepsad.cli.single_run import parse_param

    try:
        settings = dict(parse_param(p) for p in params)
        metrics = inspect_folder(root, Path(out_dir), image_size, settings, seed, device, heatmaps, auxiliary)
    except (ValueError, TypeError, FileNotFoundError, OSError) as error:
        _fail(error)
    shown = ", ".join(f"{key} {value:.4f}" if isinstance(value, float) else f"{key} {value}"
                      for key, value in metrics.items())
    click.echo(f"{shown}; written to {out_dir}", err=True)


def _label_output_name(label_column: str | None, taken) -> str:
    """The output column of the labels: the input's name, unless one of the output's own
    columns has it (then "label:<name>")."""
    name = label_column or "label"
    return f"label:{name}" if name in set(taken) else name


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, exists=True))
@click.argument("data_path", metavar="DATA", type=click.Path(dir_okay=False, exists=True))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Folder for the explanations.")
@_label_options
@click.option("--steps", type=click.IntRange(1), default=64, show_default=True,
              help="Points of the integrated-gradients path integral.")
@click.option("--images", "image_count", type=click.IntRange(1), default=16, show_default=True,
              help="Images: how many of the most anomalous to explain.")
@click.option("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda[:N]'.")
def explain(model_path, data_path, out_dir, label_column, labels_path, steps, image_count, device) -> None:
    """Explain the anomaly scores of DATA under the model in MODEL.

    Tables: OUT/attributions.csv, one row per sample in the file's order, with anomaly_score,
    prediction and one attribution:<column> per feature: how much of the sample's score (above
    that of the training mean) the feature accounts for (integrated gradients; the row's
    attributions add up to that difference). Images: a heatmap overlay (PNG) of each of the
    most anomalous images, and OUT/images.csv listing them.

    Example: deepsad explain sensors.safetensors new_readings.csv --out explanations
    """
    from deepsad.cli.explain_files import image_overlays, table_attributions
    from deepsad.cli.user_data import read_data_file
    from deepsad.decisions.saving import load as load_model
    from deepsad.files import write_atomically

    try:
        model = load_model(model_path, device=device)
        detector = getattr(model, "detector_", model)  # a calibrated model explains with its detector
        data = read_data_file(data_path, label_column=label_column, labels_path=labels_path)
        out = Path(out_dir)
        if np.ndim(data.features) == 4:
            written = image_overlays(detector, np.asarray(data.features), steps, image_count, out)
        else:
            table = table_attributions(detector, data.features, steps, threshold=model.threshold_)
            if data.labels is not None:  # as score does: the labels beside the explanations
                table.insert(2, _label_output_name(label_column, table.columns), data.labels)
            written = [write_atomically(out / "attributions.csv", table.to_csv(index=False))]
    except (ValueError, TypeError, FileNotFoundError, OSError) as error:
        _fail(error)
    click.echo(f"{len(written)} file(s) written to {out_dir}", err=True)


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(dir_okay=False, exists=True))
@click.argument("data_path", metavar="DATA", type=click.Path(dir_okay=False, exists=True))
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="CSV file for the scores. Default: standard output.")
@_label_options
@click.option("--prevalence", type=click.FloatRange(0, 1, min_open=True, max_open=True), default=None,
              help="For a model fitted with --probability: the expected fraction of anomalies in DATA; adds the "
                   "column anomaly_probability.")
@click.option("--device", default="auto", help="'auto' (CUDA when present), 'cpu', 'cuda[:N]'.")
def score(model_path, data_path, output, label_column, labels_path, prevalence, device) -> None:
    """Score DATA with the model in MODEL (written by 'deepsad fit' or model.save).

    Writes CSV with one row per sample, in the file's order: anomaly_score (higher = more
    anomalous) and prediction (+1 normal, -1 anomaly, at the model's threshold), and for a
    model fitted with --threshold the conformal p_value (small = unusual among normal data; a
    normal sample gets p ≤ α with probability at most α); for a model fitted with --probability,
    given --prevalence, the anomaly_probability (Platt scaling on the held-out labeled anomalies,
    at that prevalence; no guarantee). A label column
    is left out of the features and copied to the output. A table must have the feature columns
    the model was fitted on.

    Example: deepsad score sensors.safetensors new_readings.csv --output scores.csv
    """
    from deepsad.cli.user_data import read_data_file, score_data
    from deepsad.decisions.saving import load as load_model
    from deepsad.files import check_writable, write_atomically

    try:
        if output:
            check_writable(output)
        model = load_model(model_path, device=device)
        data = read_data_file(data_path, label_column=label_column, labels_path=labels_path)
        table = score_data(model, data, prevalence)
    except (ValueError, TypeError, FileNotFoundError, OSError) as error:
        _fail(error)
    if data.labels is not None:
        table[_label_output_name(label_column, table.columns)] = data.labels
    text = table.to_csv(index=False)
    if output:
        write_atomically(output, text)
        n_anomalies = int((table["prediction"] == -1).sum())
        click.echo(f"{len(table)} samples scored, {n_anomalies} predicted anomalous; written to {output}", err=True)
    else:
        click.echo(text, nl=False)
