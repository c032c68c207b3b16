"""``deepsad run``: its options, with an optional configuration file, as one experiment."""

from __future__ import annotations

import json

from deepsad.data.datasets import DATASETS
from deepsad.experiments.config import ConfigError, expand, read_config
from deepsad.experiments.spec import Experiment

RUN_FLAGS = {
    "dataset": "datasets",
    "method": "methods",
    "normal_class": "normal_classes",
    "n_known_classes": "n_known_classes",
    "ratio_known_normal": "ratio_known_normal",
    "ratio_known_anomaly": "ratio_known_anomaly",
    "ratio_pollution": "ratio_pollution",
    "selection": "selection",
    "preprocessing": "preprocessing",
}


def parse_param(text: str) -> tuple[str, object]:
    """``KEY=VALUE``; VALUE is read as JSON when it parses (numbers, true, null, lists), else
    kept as a string, so ``epochs=10``, ``hidden_sizes=[64,32]`` and ``network=mlp`` all work."""
    key, separator, value = text.partition("=")
    if not separator or not key:
        raise ConfigError(f"--param expects KEY=VALUE; got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        pass
    try:  # inf, nan, 1e-4 and other numbers JSON does not spell
        return key.strip(), float(value)
    except ValueError:
        return key.strip(), value


def single_experiment(config_path, flags: dict, seed: int | None, known_classes: tuple, params: tuple[str, ...]) -> Experiment:
    """The one experiment described by an optional configuration file overridden by flags."""
    config = read_config(config_path) if config_path else {}
    for flag, key in RUN_FLAGS.items():
        if flags.get(flag) is not None:
            config[key] = flags[flag]
    if seed is not None:
        config["seeds"] = [seed]
    config.setdefault("seeds", [0])
    if known_classes:
        config["known_anomaly_classes"] = list(known_classes)
    if config.get("normal_classes", "all") == "all":
        config.pop("normal_classes", None)
        datasets = config.get("datasets")
        if datasets not in (None, [], "") and _is_class_dataset(datasets):
            raise ConfigError("this dataset is used one-vs-rest: give --normal-class")
    if params:
        methods = config.get("methods")
        method = methods[0] if isinstance(methods, list) and len(methods) == 1 else methods
        if not isinstance(method, str):
            raise ConfigError("--param needs exactly one method")
        table = config.setdefault("method_params", {}).setdefault(method, {})
        table.update(parse_param(p) for p in params)
        grid = config.get("param_grid", {}).get(method)
        if isinstance(grid, dict):  # a flag overrides the file, its grid of the same parameter too
            for key in set(grid) & set(table):
                del grid[key]
            if not grid:
                del config["param_grid"][method]
    experiments = expand(config)
    if len(experiments) != 1:
        raise ConfigError(
            f"'deepsad run' runs one experiment, but the settings describe {len(experiments)}; "
            "use 'deepsad sweep' for a grid"
        )
    return experiments[0]


def _is_class_dataset(datasets) -> bool:
    names = datasets if isinstance(datasets, list) else [datasets]
    return any(name in DATASETS and DATASETS[name].one_vs_rest for name in names)
