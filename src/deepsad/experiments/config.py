"""Sweep configuration files (TOML or YAML) and their expansion into experiments.

A configuration names the grid; every list is one axis, a single value is a one-point axis::

    datasets = ["cardio", "thyroid"]          # or "mnist", "digits", ...
    methods = ["deepsad", "deepsvdd"]
    seeds = 10                                # 0..9, or a list of seeds
    ratio_known_anomaly = [0.0, 0.01, 0.05]   # γl
    ratio_pollution = 0.0                     # γp
    ratio_known_normal = 0.0
    normal_classes = "all"                    # class datasets: "all" or a list of classes
    known_anomaly_classes = "random"          # "random": n_known_classes drawn per seed;
                                              # "each": every other class in turn (scenario i);
                                              # or a list of classes
    n_known_classes = 1                       # kl
    selection = ["paper", "honest"]           # how the shallow methods' γ (and ν) are chosen
                                              # (deepsad.experiments.selection); default: not at
                                              # all, the parameters are taken as given
    preprocessing = "gcn"                     # images: Deep SVDD's global contrast normalization
                                              # (default: pixels scaled to [0, 1])

    [params]                  # every method that has the parameter (a hybrid's autoencoder
    epochs = 150              # takes the autoencoder's: hidden_sizes → autoencoder__hidden_sizes)
    [method_params.deepsad]   # one method (an unknown key is an error)
    eta = 1.0
    [dataset_params.thyroid]  # one dataset, every method that has the parameter
    rep_dim = 4

A key in ``params`` or ``dataset_params`` that no selected method has is an error, so a typo
cannot silently change nothing. ``selection`` applies to the methods with parameters to select
(OC-SVM, SSAD and their hybrids); the others run once without it, and a selection none of the
methods can use is an error. A configuration is checked once, here: the experiments it expands
into are values that are not checked again.
"""

from __future__ import annotations

import itertools
import tomllib
from pathlib import Path

import yaml

from deepsad.data.datasets import DATASETS
from deepsad.experiments.estimators import accepted_params, check_params
from deepsad.experiments.methods import METHODS, TUNABLE_METHODS
from deepsad.experiments.spec import Experiment

GRID_KEYS = {
    "datasets", "methods", "seeds", "ratio_known_anomaly", "ratio_pollution", "ratio_known_normal",
    "normal_classes", "known_anomaly_classes", "n_known_classes", "selection", "preprocessing",
}  # fmt: skip
PARAM_KEYS = {"params", "method_params", "dataset_params"}


class ConfigError(ValueError):
    """A sweep configuration that cannot be expanded; the message names the file and key."""


def read_config(path: str | Path) -> dict:
    """Parse a ``.toml``, ``.yaml`` or ``.yml`` file into a dictionary."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        if path.suffix == ".toml":
            with open(path, "rb") as file:
                config = tomllib.load(file)
        elif path.suffix in (".yaml", ".yml"):
            with open(path, encoding="utf-8") as file:
                config = yaml.safe_load(file)
        else:
            raise ConfigError(f"configuration file {path} must end in .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot parse {path}: {error}") from error
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a table of settings at its top level")
    return config


def _axis(config: dict, key: str, default) -> list:
    value = config.get(key, default)
    return list(value) if isinstance(value, list | tuple) else [value]


def _seeds(config: dict) -> list[int]:
    seeds = config.get("seeds", 1)
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ConfigError(f"seeds must be a positive count or a list of seeds; got {seeds}")
        return list(range(seeds))
    if isinstance(seeds, list) and all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        return seeds
    raise ConfigError(f"seeds must be a positive count or a list of integers; got {seeds!r}")


def _check_tables(config: dict, datasets: list, methods: list) -> None:
    unknown = sorted(set(config) - GRID_KEYS - PARAM_KEYS)
    if unknown:
        raise ConfigError(f"unknown setting(s) {unknown}; expected some of {sorted(GRID_KEYS | PARAM_KEYS)}")
    for name in PARAM_KEYS:
        if not isinstance(config.get(name, {}), dict):
            raise ConfigError(f"{name} must be a table")
    # Tables of known methods and datasets that are not selected stay allowed, so a grid can be
    # narrowed by editing its axes alone; unknown names are typos.
    for method, params in config.get("method_params", {}).items():
        if method not in METHODS:
            raise ConfigError(f"method_params.{method}: {method!r} is not one of {sorted(METHODS)}")
        try:
            check_params(method, params)
        except ValueError as error:
            raise ConfigError(f"method_params.{method}: {error}") from None
    shared = [("params", config.get("params", {}))]
    for dataset, params in config.get("dataset_params", {}).items():
        if dataset not in DATASETS:
            raise ConfigError(f"dataset_params.{dataset}: {dataset!r} is not one of {list(DATASETS)}")
        if dataset in datasets:
            shared.append((f"dataset_params.{dataset}", params))
    for table, params in shared:
        for key in params:
            if not any(_parameter_name(key, accepted_params(m)) for m in methods):
                raise ConfigError(f"{table}: no selected method {methods} has a parameter {key!r}")


def method_params(config: dict, dataset: str, method: str) -> dict:
    """The parameters of ``method`` on ``dataset``: shared, then per dataset, then per method.

    A shared or per-dataset key the method lacks but its autoencoder has (a hybrid's) goes to
    the autoencoder, so one ``hidden_sizes`` shapes the deep methods' networks and the
    hybrids' autoencoders alike."""
    accepted = accepted_params(method)
    params = {}
    for table in (config.get("params", {}), config.get("dataset_params", {}).get(dataset, {})):
        for key, value in table.items():
            name = _parameter_name(key, accepted)
            if name is not None:
                params[name] = value
    params.update(config.get("method_params", {}).get(method, {}))
    return params


def _parameter_name(key: str, accepted: dict) -> str | None:
    """``key`` if the method has it, else its autoencoder's ``autoencoder__key``, else None."""
    for name in (key, f"autoencoder__{key}"):
        if name in accepted:
            return name
    return None


def expand(config: dict) -> list[Experiment]:
    """Every experiment of the grid, in a stable order (dataset, class, scenario, seed, method)."""
    datasets = _axis(config, "datasets", None)
    methods = _axis(config, "methods", None)
    if datasets == [None] or methods == [None]:
        raise ConfigError("a configuration needs at least 'datasets' and 'methods'")
    for dataset in datasets:
        if dataset not in DATASETS:
            raise ConfigError(f"datasets: {dataset!r} is not one of {list(DATASETS)}")
    for method in methods:
        if method not in METHODS:
            raise ConfigError(f"methods: {method!r} is not one of {sorted(METHODS)}")
    _check_tables(config, datasets, methods)
    seeds = _seeds(config)
    ratios = list(itertools.product(
        _axis(config, "ratio_known_normal", 0.0),
        _axis(config, "ratio_known_anomaly", 0.0),
        _axis(config, "ratio_pollution", 0.0),
        _axis(config, "n_known_classes", 1),
    ))  # fmt: skip
    known_setting = config.get("known_anomaly_classes", "random")
    selections = _selections(config, methods)
    preprocessings = _axis(config, "preprocessing", None)
    experiments = []
    for dataset in datasets:
        normal_classes = _normal_classes(config, dataset)
        for normal_class in normal_classes:
            for known_choice in _known_choices(known_setting, dataset, normal_class):
                for rkn, rka, rp, kl in ratios:
                    known = known_choice
                    if rka == 0:  # no labeled anomalies: which classes they would come from is moot
                        known, kl = None, 0
                    for seed, method, preprocessing in itertools.product(seeds, methods, preprocessings):
                        for selection in selections if method in TUNABLE_METHODS else [None]:
                            experiments.append(_experiment(
                                dataset=dataset, method=method, seed=seed, normal_class=normal_class,
                                known_anomaly_classes=known, n_known_classes=kl,
                                ratio_known_normal=rkn, ratio_known_anomaly=rka, ratio_pollution=rp,
                                params=method_params(config, dataset, method), selection=selection,
                                preprocessing=preprocessing,
                            ))  # fmt: skip
    # e.g. γl = 0 under several known-class settings, or a method with nothing to select
    unique = {e.key: e for e in experiments}
    return list(unique.values())


def _selections(config: dict, methods: list) -> list:
    selections = _axis(config, "selection", None)
    if selections != [None] and not set(methods) & set(TUNABLE_METHODS):
        raise ConfigError(
            f"selection {selections} needs a method with parameters to select ({list(TUNABLE_METHODS)}); "
            f"the methods are {methods}"
        )
    return selections


def _experiment(**fields) -> Experiment:
    try:
        return Experiment(**fields)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _normal_classes(config: dict, dataset: str) -> list:
    if not DATASETS[dataset].one_vs_rest:
        return [None]
    setting = config.get("normal_classes", "all")
    if setting == "all":
        return list(range(len(DATASETS[dataset].classes)))
    return _axis(config, "normal_classes", None)


def _known_choices(setting, dataset: str, normal_class) -> list:
    """None means: draw n_known_classes classes at random with the experiment's seed."""
    if setting == "random" or not DATASETS[dataset].one_vs_rest:
        return [None]
    if setting == "each":
        return [(c,) for c in range(len(DATASETS[dataset].classes)) if c != normal_class]
    if isinstance(setting, list):
        return [tuple(setting)]
    raise ConfigError(f"known_anomaly_classes must be 'random', 'each' or a list of classes; got {setting!r}")
