"""The ``deepsad`` command line: thin wrappers that parse options and call ``experiments``."""

from __future__ import annotations

import time
import warnings

import click
import numpy as np

from deepsad._version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "show_default": True})
@click.version_option(__version__, prog_name="deepsad")
def main() -> None:
    """Deep semi-supervised anomaly detection: Deep SAD, Deep SVDD, HSC and baselines."""


@main.command()
@click.option("--normal-class", "normal_classes", type=click.IntRange(0, 9), multiple=True,
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

    classes = normal_classes or tuple(range(10))
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
