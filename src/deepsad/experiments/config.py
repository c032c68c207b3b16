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
                                              # "each": every other class in turn (scenario i),
                                              # counting on from the normal class (c+1, c+2, ...);
                                              # or a list of classes
    known_classes_per_normal = 3              # with "each": only the first 3 of those (with
                                              # normal_classes = "all", every class is then the
                                              # known one equally often)
    n_known_classes = 1                       # kl
    selection = ["paper", "honest"]           # how the shallow methods' γ (and ν) are chosen
                                              # (deepsad.experiments.selection); default: not at
                                              # all, the parameters are taken as given
    preprocessing = "gcn"                     # images: Deep SVDD's global contrast normalization
                                              # (default: pixels scaled to [0, 1])
    preset = "paper"                          # a named set of parameters (deepsad.presets), for
                                              # every method that has them; the tables below
                                              # override it

    [params]                  # every method that has the parameter (a hybrid's autoencoder
    epochs = 150              # takes the autoencoder's: hidden_sizes → autoencoder__hidden_sizes)
    [method_params.deepsad]   # one method (an unknown key is an error)
    eta = 1.0
    [dataset_params.thyroid]  # one dataset, every method that has the parameter
    rep_dim = 4
    [param_grid.deepsad]      # one method: every list is an axis of its runs (the paper's η
    eta = [0.1, 1.0, 10.0]    # sensitivity); a list-valued parameter takes a list of lists

A key in ``params`` or ``dataset_params`` that no selected method has is an error, so a typo
cannot silently change nothing; so is a value the method's estimator refuses (``epochs =
"ten"``), which then fails here and not when its experiment runs. ``selection`` applies to the
methods with parameters to select (OC-SVM, SSAD and their hybrids); the others run once without
it, and a selection none of the methods can use is an error. An empty list is an error (there
would be nothing to run), and so is a grid of more than ``MAX_EXPERIMENTS`` experiments, counted
from the lengths of its axes before any is listed. A configuration is checked once, here: the
experiments it expands into are values that are not checked again.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Sequence
from pathlib import Path

import yaml

from deepsad.data.datasets import DATASETS
from deepsad.experiments.estimators import accepted_params, check_params
from deepsad.experiments.methods import METHODS, TUNABLE_METHODS
from deepsad.experiments.spec import MAX_SEED, Experiment
from deepsad.presets import PRESETS

GRID_KEYS = {
    "datasets", "methods", "seeds", "ratio_known_anomaly", "ratio_pollution", "ratio_known_normal",
    "normal_classes", "known_anomaly_classes", "known_classes_per_normal", "n_known_classes", "selection",
    "preprocessing",
}  # fmt: skip
PARAM_KEYS = {"params", "method_params", "dataset_params", "param_grid"}
PRESET_KEY = "preset"

MAX_EXPERIMENTS = 100_000
"""The most experiments one configuration may expand into. Listing them takes about 15 µs
each (1.5 s at the limit) and running them takes seconds to hours each, so a larger grid is a
slip (``seeds = 1000000``) or work to split over several files."""


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
                config = yaml.load(file, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader)
        else:
            raise ConfigError(f"configuration file {path} must end in .toml, .yaml or .yml")
    except (tomllib.TOMLDecodeError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot parse {path}: {error}") from error
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a table of settings at its top level")
    return config


class _UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (TOML refuses it too;
    YAML's own rule, the last one wins, would drop the first silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice in one table", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _axis(config: dict, key: str, default) -> list:
    value = config.get(key, default)
    return list(value) if isinstance(value, list | tuple) else [value]


def _seeds(config: dict) -> Sequence[int]:
    """The seeds; a count is a ``range``, whose length is known without listing it."""
    seeds = config.get("seeds", 1)
    if _is_int(seeds):
        if not 1 <= seeds <= MAX_SEED + 1:
            raise ConfigError(f"seeds must be a count in [1, 2**32] or a list of seeds; got {seeds}")
        return range(seeds)
    if isinstance(seeds, list) and all(_is_int(s) and 0 <= s <= MAX_SEED for s in seeds):
        return seeds
    raise ConfigError(f"seeds must be a count or a list of integers in [0, 2**32 - 1]; got {seeds!r}")


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_no_empty_list(config: dict) -> None:
    for key in sorted(GRID_KEYS):
        if isinstance(config.get(key), list | tuple) and not config[key]:
            raise ConfigError(f"{key} is an empty list: nothing to run")


def _check_tables(config: dict, datasets: list, methods: list) -> None:
    unknown = sorted(set(config) - GRID_KEYS - PARAM_KEYS - {PRESET_KEY})
    if unknown:
        raise ConfigError(
            f"unknown setting(s) {unknown}; expected some of {sorted(GRID_KEYS | PARAM_KEYS | {PRESET_KEY})}"
        )
    if PRESET_KEY in config and (not isinstance(config[PRESET_KEY], str) or config[PRESET_KEY] not in PRESETS):
        raise ConfigError(f"preset must be one of {list(PRESETS)}; got {config[PRESET_KEY]!r}")
    for name in PARAM_KEYS:
        if not isinstance(config.get(name, {}), dict):
            raise ConfigError(f"{name} must be a table")
        if name in ("method_params", "dataset_params"):
            for entry, table in config.get(name, {}).items():
                if not isinstance(table, dict):
                    raise ConfigError(f"{name}.{entry} must be a table of parameters; got {table!r}"
                                      + (" (a YAML table whose keys are all commented out is empty: write {})"
                                         if table is None else ""))
    # Tables of known methods and datasets that are not selected stay allowed, so a grid can be
    # narrowed by editing its axes alone; unknown names are typos.
    for method, params in config.get("method_params", {}).items():
        if method not in METHODS:
            raise ConfigError(f"method_params.{method}: {method!r} is not one of {sorted(METHODS)}")
        try:
            check_params(method, params)
        except ValueError as error:
            raise ConfigError(f"method_params.{method}: {error}") from None
        _check_not_fixed(f"method_params.{method}", method, params)
    for method, grid in config.get("param_grid", {}).items():
        _check_param_grid(method, grid)
        _check_not_fixed(f"param_grid.{method}", method, grid)
        both = sorted(set(grid) & set(config.get("method_params", {}).get(method, {})))
        if both:
            raise ConfigError(f"param_grid.{method} and method_params.{method} both set {both}: the grid would "
                              "override the fixed value; keep one")
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
        # The values, once per table and method (the estimator's constraints are per
        # parameter, so checking the tables apart checks every merge of them).
        for method in dict.fromkeys(methods):
            accepted = accepted_params(method)
            names = {key: _parameter_name(key, accepted) for key in params}
            try:
                check_params(method, {name: params[key] for key, name in names.items() if name is not None})
            except ValueError as error:
                raise ConfigError(f"{table}: {error}") from None


def _check_not_fixed(where: str, method: str, params: dict) -> None:
    fixed = sorted(set(params) & set(METHODS[method].fixed))
    if fixed:
        raise ConfigError(f"{where}: {method!r} fixes {', '.join(f'{k}={METHODS[method].fixed[k]!r}' for k in fixed)} "
                          "(that is what the name means); use another method name for other values")


def _check_param_grid(method: str, grid) -> None:
    where = f"param_grid.{method}"
    if method not in METHODS:
        raise ConfigError(f"{where}: {method!r} is not one of {sorted(METHODS)}")
    if not isinstance(grid, dict) or not grid:
        raise ConfigError(f"{where} must be a table of parameters, each with a list of values")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.{key} must be a non-empty list of values; got {values!r}")
        for value in values:
            try:
                check_params(method, {key: value})
            except ValueError as error:
                raise ConfigError(f"{where}.{key}: {error}") from None


def _param_variants(config: dict, method: str) -> list[dict]:
    """The parameter sets of ``method``'s runs from ``param_grid``: one empty set without one."""
    grid = config.get("param_grid", {}).get(method, {})
    keys = sorted(grid)
    return [dict(zip(keys, values)) for values in itertools.product(*(grid[key] for key in keys))]


def method_params(config: dict, dataset: str, method: str) -> dict:
    """The parameters of ``method`` on ``dataset``: the preset's, then shared, then per dataset,
    then per method.

    A shared or per-dataset key the method lacks but a hybrid's detector or autoencoder has
    goes to that part (``nu`` → ``detector__nu``, ``hidden_sizes`` → ``autoencoder__hidden_sizes``),
    so one ``nu`` sets OC-SVM's and the hybrid OC-SVM's alike, and one ``hidden_sizes`` shapes
    the deep methods' networks and the hybrids' autoencoders. Shared keys leave the parameters
    a method's name fixes alone (``deepsvdd-soft`` stays soft-boundary)."""
    accepted = accepted_params(method)
    params = {}
    named = PRESETS[config[PRESET_KEY]] if PRESET_KEY in config else {}
    for table in (named, config.get("params", {}), config.get("dataset_params", {}).get(dataset, {})):
        for key, value in table.items():
            name = _parameter_name(key, accepted)
            if name is not None and name not in METHODS[method].fixed:
                params[name] = value
    params.update(config.get("method_params", {}).get(method, {}))
    return params


def _parameter_name(key: str, accepted: dict) -> str | None:
    """``key`` if the method has it, else a hybrid's ``detector__key`` or
    ``autoencoder__key``, else None."""
    for name in (key, f"detector__{key}", f"autoencoder__{key}"):
        if name in accepted:
            return name
    return None


def expand(config: dict) -> list[Experiment]:
    """Every experiment of the grid, in a stable order (dataset, class, scenario, seed, method).

    Raises a ConfigError naming the setting when the configuration is wrong, has an empty
    list, or has more than ``MAX_EXPERIMENTS`` experiments (refused before any is listed)."""
    axes = _checked_axes(config)
    _check_size(config, axes)
    datasets, methods, seeds = axes["datasets"], axes["methods"], axes["seeds"]
    ratios = list(itertools.product(
        axes["ratio_known_normal"], axes["ratio_known_anomaly"], axes["ratio_pollution"], axes["n_known_classes"],
    ))  # fmt: skip
    experiments = []
    for dataset in datasets:
        normal_classes = _normal_classes(config, dataset)
        for normal_class in normal_classes:
            for known_choice in _known_choices(config, dataset, normal_class):
                for rkn, rka, rp, kl in ratios:
                    known = known_choice
                    if rka == 0:  # no labeled anomalies: which classes they would come from is moot
                        known, kl = None, 0
                    elif not DATASETS[dataset].one_vs_rest:
                        kl = 1  # a table's anomalies have no classes: kl is moot (its runs' key has 1)
                    for seed, method, preprocessing in itertools.product(seeds, methods, axes["preprocessing"]):
                        if rka == 0 and METHODS[method].needs_labeled_anomalies:
                            continue  # nothing to learn from: the paper leaves these points empty
                        for selection, variant in itertools.product(
                            _method_selections(method, axes["selection"]), _param_variants(config, method)
                        ):
                            experiments.append(_experiment(
                                dataset=dataset, method=method, seed=seed, normal_class=normal_class,
                                known_anomaly_classes=known, n_known_classes=kl,
                                ratio_known_normal=rkn, ratio_known_anomaly=rka, ratio_pollution=rp,
                                params={**method_params(config, dataset, method), **variant}, selection=selection,
                                preprocessing=preprocessing,
                            ))  # fmt: skip
    # e.g. γl = 0 under several known-class settings, or a method with nothing to select
    unique = {e.key: e for e in experiments}
    return list(unique.values())


def count_experiments(config: dict) -> int:
    """How many experiments ``expand`` lists, from the lengths of the axes alone (instant for
    ``seeds = 10**9``); more where an axis repeats a value, which ``expand`` lists once."""
    return _size(config, _checked_axes(config))


def _checked_axes(config: dict) -> dict[str, Sequence]:
    """The checked values of each axis of the grid by key, but the per-dataset classes."""
    _check_no_empty_list(config)
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
        tables = [dataset for dataset in datasets if METHODS[method].images_only and DATASETS[dataset].image_shape is None]
        if tables:
            raise ConfigError(f"methods: {method!r} needs images, and {tables} are tables; run it on image datasets only")
    _check_tables(config, datasets, methods)
    _check_class_settings(config, datasets)
    return {
        "datasets": datasets,
        "methods": methods,
        "seeds": _seeds(config),
        "ratio_known_normal": _axis(config, "ratio_known_normal", 0.0),
        "ratio_known_anomaly": _axis(config, "ratio_known_anomaly", 0.0),
        "ratio_pollution": _axis(config, "ratio_pollution", 0.0),
        "n_known_classes": _axis(config, "n_known_classes", _default_n_known(config)),
        "selection": _selections(config, methods),
        "preprocessing": _axis(config, "preprocessing", None),
    }


def _size(config: dict, axes: dict[str, Sequence]) -> int:
    """The number of experiments, the collapse of γl = 0 included and the methods that need
    labeled anomalies left out there (see ``expand``)."""
    per_method = {
        method: len(_method_selections(method, axes["selection"])) * len(_param_variants(config, method))
        for method in axes["methods"]
    }
    runs = len(axes["seeds"]) * len(axes["preprocessing"]) * sum(per_method.values())
    runs_unlabeled = (
        len(axes["seeds"])
        * len(axes["preprocessing"])
        * sum(n for method, n in per_method.items() if not METHODS[method].needs_labeled_anomalies)
    )
    ratios = len(axes["ratio_known_normal"]) * len(axes["ratio_pollution"])
    unlabeled = any(ratio == 0 for ratio in axes["ratio_known_anomaly"])
    labeled_ratios = sum(ratio != 0 for ratio in axes["ratio_known_anomaly"])
    return sum(
        ratios
        * (unlabeled * runs_unlabeled
           + labeled_ratios * (len(axes["n_known_classes"]) if DATASETS[dataset].one_vs_rest else 1)
           * len(_known_choices(config, dataset, normal_class)) * runs)
        for dataset in axes["datasets"]
        for normal_class in _normal_classes(config, dataset)
    )


def _check_size(config: dict, axes: dict[str, Sequence]) -> None:
    size = _size(config, axes)
    if size == 0:
        needing = [m for m in axes["methods"] if METHODS[m].needs_labeled_anomalies]
        raise ConfigError(
            f"the grid is empty: {needing} need labeled anomalies and ratio_known_anomaly is 0 everywhere; "
            "set ratio_known_anomaly > 0 or add a method that learns without them (deepsad, deepsvdd)"
        )
    if size > MAX_EXPERIMENTS:
        sizes = sorted(((n, key) for key, n in _axis_sizes(config, axes).items() if n > 1), reverse=True)
        raise ConfigError(
            f"the grid has {size:,} experiments, more than the limit of {MAX_EXPERIMENTS:,} (MAX_EXPERIMENTS); "
            f"its axes: {', '.join(f'{key} {n:,}' for n, key in sizes)}. Narrow the largest axes or split the "
            "grid over several configuration files"
        )


def _axis_sizes(config: dict, axes: dict[str, Sequence]) -> dict[str, int]:
    """The length of every axis; of the class axes, the longest over the datasets."""
    sizes = {key: len(values) for key, values in axes.items()}
    sizes["param_grid"] = max(len(_param_variants(config, method)) for method in axes["methods"])
    sizes["normal_classes"] = max(len(_normal_classes(config, dataset)) for dataset in axes["datasets"])
    sizes["known_anomaly_classes"] = max(
        len(_known_choices(config, dataset, normal_class))
        for dataset in axes["datasets"]
        for normal_class in _normal_classes(config, dataset)
    )
    return sizes


def _default_n_known(config: dict) -> int:
    """kl: the number of classes named, else one."""
    known = config.get("known_anomaly_classes", "random")
    return len(known) if isinstance(known, list) else 1


def _check_class_settings(config: dict, datasets: list) -> None:
    """Class settings that fit together and fit the data sets: they would otherwise be ignored
    (tables have no classes), recorded wrongly (kl beside a list of another length) or fail
    every experiment when it runs."""
    class_datasets = [d for d in datasets if DATASETS[d].one_vs_rest]
    given = [key for key in ("normal_classes", "known_anomaly_classes", "known_classes_per_normal", "n_known_classes")
             if key in config]
    if given and not class_datasets:
        raise ConfigError(f"{given} apply to data sets with classes (one-vs-rest); {datasets} have none: remove them")
    normal_setting = config.get("normal_classes", "all")
    if normal_setting != "all":
        for normal in _axis(config, "normal_classes", None):
            for dataset in class_datasets:
                n_classes = len(DATASETS[dataset].classes)
                if not (_is_int(normal) and 0 <= normal < n_classes):
                    raise ConfigError(f"normal_classes must be 'all' or integers from 0 to {n_classes - 1} (the "
                                      f"classes of {dataset}); got {normal!r}")
    known = config.get("known_anomaly_classes", "random")
    kls = _axis(config, "n_known_classes", _default_n_known(config))
    labeled = any(ratio > 0 for ratio in _axis(config, "ratio_known_anomaly", 0.0) if isinstance(ratio, int | float))
    if isinstance(known, list) and "n_known_classes" in config and kls != [len(known)]:
        raise ConfigError(f"n_known_classes {config['n_known_classes']!r} contradicts known_anomaly_classes {known}, "
                          f"which names {len(known)} class(es): leave n_known_classes out")
    if known == "each" and "n_known_classes" in config and kls != [1]:
        raise ConfigError(f"known_anomaly_classes = 'each' runs one known class at a time; n_known_classes "
                          f"{config['n_known_classes']!r} would repeat each run: leave it out or list the classes")
    if "known_classes_per_normal" in config:
        per_normal = config["known_classes_per_normal"]
        if known != "each":
            raise ConfigError(f"known_classes_per_normal limits known_anomaly_classes = 'each'; it is {known!r}: "
                              "set known_anomaly_classes = 'each' or remove known_classes_per_normal")
        fewest = min(len(DATASETS[d].classes) - 1 for d in class_datasets)
        if not (_is_int(per_normal) and 1 <= per_normal <= fewest):
            raise ConfigError(f"known_classes_per_normal must be an integer from 1 to {fewest} (the anomaly classes "
                              f"of {class_datasets}); got {per_normal!r}")
    for kl in kls if labeled else []:
        for dataset in class_datasets:
            anomaly_classes = len(DATASETS[dataset].classes) - 1
            if not (_is_int(kl) and 1 <= kl <= anomaly_classes):
                raise ConfigError(f"n_known_classes must be an integer from 1 to the {anomaly_classes} anomaly classes "
                                  f"of {dataset} where ratio_known_anomaly > 0; got {kl!r}")
    for normal in _axis(config, "ratio_known_normal", 0.0):
        for anomalous in _axis(config, "ratio_known_anomaly", 0.0):
            if isinstance(normal, int | float) and isinstance(anomalous, int | float) and normal + anomalous >= 1:
                raise ConfigError(f"ratio_known_normal {normal} + ratio_known_anomaly {anomalous} ≥ 1 leaves no "
                                  "unlabeled training data")


def _method_selections(method: str, selections: list) -> list:
    return selections if method in TUNABLE_METHODS else [None]


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


def _known_choices(config: dict, dataset: str, normal_class) -> list:
    """The known-class choices of one normal class; None means: draw n_known_classes classes at
    random with the experiment's seed. "each" counts on from the normal class (c+1, c+2, ...,
    modulo the number of classes), so that the first ``known_classes_per_normal`` of every
    normal class make every class the known one equally often (a balanced design)."""
    setting = config.get("known_anomaly_classes", "random")
    if setting == "random" or not DATASETS[dataset].one_vs_rest:
        return [None]
    if setting == "each":
        n_classes = len(DATASETS[dataset].classes)
        others = [((normal_class + step) % n_classes,) for step in range(1, n_classes)]
        return others[:config.get("known_classes_per_normal", len(others))]
    if isinstance(setting, list):
        return [tuple(setting)]
    raise ConfigError(f"known_anomaly_classes must be 'random', 'each' or a list of classes; got {setting!r}")
