import time

import pytest

from deepsad.experiments import config as config_module
from deepsad.experiments.config import (
    GRID_KEYS,
    MAX_EXPERIMENTS,
    ConfigError,
    count_experiments,
    expand,
    method_params,
    read_config,
)


def grid(**overrides):
    config = {"datasets": ["cardio"], "methods": ["deepsad"]}
    config.update(overrides)
    return config


def test_grid_is_the_product_of_its_axes():
    experiments = expand(grid(datasets=["cardio", "thyroid"], methods=["deepsad", "deepsvdd"], seeds=3,
                              ratio_known_anomaly=[0.01, 0.05]))
    assert len(experiments) == 2 * 2 * 3 * 2
    assert {e.seed for e in experiments} == {0, 1, 2}
    assert len({e.key for e in experiments}) == len(experiments)


def test_seeds_as_count_or_list():
    assert [e.seed for e in expand(grid(seeds=2))] == [0, 1]
    assert [e.seed for e in expand(grid(seeds=[5, 9]))] == [5, 9]
    with pytest.raises(ConfigError, match="seeds"):
        expand(grid(seeds=0))
    with pytest.raises(ConfigError, match="seeds"):
        expand(grid(seeds=["a"]))


def test_seeds_are_bounded_by_what_random_state_takes():
    with pytest.raises(ConfigError, match="seeds must be a count in"):
        expand(grid(seeds=2**32 + 1))
    with pytest.raises(ConfigError, match="seeds must be a count or a list of integers in"):
        expand(grid(seeds=[0, 2**32]))
    assert [e.seed for e in expand(grid(seeds=[2**32 - 1]))] == [2**32 - 1]


@pytest.mark.parametrize("key", sorted(GRID_KEYS))
def test_an_empty_list_is_refused_naming_it(key):
    """Every axis, and the list of known anomaly classes: an empty one would run nothing."""
    config = grid(datasets=["mnist"], methods=["deepsad", "ocsvm"], ratio_known_anomaly=0.05)
    config[key] = []
    with pytest.raises(ConfigError, match=f"^{key} is an empty list: nothing to run"):
        expand(config)
    with pytest.raises(ConfigError, match=f"^{key} is an empty list"):
        count_experiments(config)


@pytest.mark.parametrize("seeds", [10**6, 10**9])
def test_a_huge_grid_is_refused_at_once_with_its_size_and_largest_axis(seeds):
    config = grid(methods=["deepsad", "deepsvdd"], seeds=seeds)
    start = time.perf_counter()
    with pytest.raises(ConfigError) as error:
        expand(config)
    assert time.perf_counter() - start < 1.0
    message = str(error.value)
    assert f"the grid has {2 * seeds:,} experiments" in message and f"limit of {MAX_EXPERIMENTS:,}" in message
    assert f"its axes: seeds {seeds:,}, methods 2." in message
    assert count_experiments(config) == 2 * seeds


def test_a_grid_at_the_limit_is_expanded_and_one_more_is_not(monkeypatch):
    monkeypatch.setattr(config_module, "MAX_EXPERIMENTS", 6)
    assert len(expand(grid(seeds=3, ratio_known_anomaly=[0.0, 0.01]))) == 6
    # γl = 0 collapses the n_known_classes axis: 1 + 5 scenarios, then 1 + 6.
    one_class = {"datasets": ["mnist"], "normal_classes": [0]}
    assert len(expand(grid(**one_class, ratio_known_anomaly=[0.0, 0.01], n_known_classes=[1, 2, 3, 4, 5]))) == 6
    with pytest.raises(ConfigError, match="the grid has 7 experiments, more than the limit of 6"):
        expand(grid(**one_class, ratio_known_anomaly=[0.0, 0.01], n_known_classes=[1, 2, 3, 4, 5, 6]))


@pytest.mark.parametrize(
    "config",
    [
        grid(datasets=["cardio", "thyroid"], methods=["deepsad", "ocsvm", "ssad"], seeds=3,
             selection=["paper", "honest"], ratio_known_anomaly=[0.0, 0.01, 0.05]),
        grid(datasets=["mnist", "cardio"], normal_classes=[0, 4], known_anomaly_classes="random",
             ratio_known_anomaly=[0.0, 0.05], ratio_pollution=[0.0, 0.1], n_known_classes=[1, 2]),
        grid(datasets=["mnist", "cardio"], normal_classes=[0, 4], known_anomaly_classes="each",
             ratio_known_anomaly=[0.0, 0.05], ratio_pollution=[0.0, 0.1]),
        grid(datasets=["mnist"], known_anomaly_classes=[1, 2], ratio_known_anomaly=[0.0, 0.05],
             normal_classes=[0], preprocessing=[None, "gcn"]),
        grid(datasets=["mnist", "cardio"], methods=["deepsad", "supervised", "ssdgm", "hybrid-ssad"],
             normal_classes=[0, 3], known_anomaly_classes="each", ratio_known_anomaly=[0.0, 0.05],
             ratio_pollution=[0.0, 0.1], selection=["paper", "honest"], seeds=2),
    ],
)
def test_the_count_is_the_number_of_experiments_expanded(config):
    assert count_experiments(config) == len(expand(config))


def test_methods_that_need_labeled_anomalies_are_left_out_where_there_are_none():
    experiments = expand(grid(datasets=["mnist"], normal_classes=[0], methods=["deepsad", "supervised", "ssdgm"],
                              ratio_known_anomaly=[0.0, 0.05], ratio_pollution=[0.0, 0.1]))
    unlabeled = sorted(e.method for e in experiments if e.ratio_known_anomaly == 0)
    assert unlabeled == ["deepsad", "deepsad"]
    assert sorted(e.method for e in experiments if e.ratio_known_anomaly > 0) == sorted(["deepsad", "supervised", "ssdgm"] * 2)
    with pytest.raises(ConfigError, match=r"the grid is empty: \['supervised'\] need labeled anomalies"):
        expand(grid(datasets=["mnist"], methods=["supervised"], ratio_known_anomaly=0.0))


def test_class_datasets_expand_normal_classes_and_each_known_class():
    experiments = expand(grid(datasets=["mnist"], ratio_known_anomaly=0.05, known_anomaly_classes="each"))
    assert len(experiments) == 10 * 9
    for e in experiments:
        assert len(e.known_anomaly_classes) == 1 and e.known_anomaly_classes[0] != e.normal_class
    chosen = expand(grid(datasets=["mnist"], normal_classes=[3], ratio_known_anomaly=0.05))
    assert [(e.normal_class, e.known_anomaly_classes, e.n_known_classes) for e in chosen] == [(3, None, 1)]


def test_without_labeled_anomalies_known_class_settings_collapse_to_one_experiment():
    experiments = expand(grid(datasets=["mnist"], normal_classes=[0], ratio_known_anomaly=[0.0, 0.05],
                              known_anomaly_classes="each"))
    unlabeled = [e for e in experiments if e.ratio_known_anomaly == 0.0]
    assert len(unlabeled) == 1 and unlabeled[0].known_anomaly_classes is None
    assert len(experiments) == 1 + 9


def test_parameters_layer_shared_then_dataset_then_method():
    config = grid(
        datasets=["cardio", "thyroid"], methods=["deepsad", "iforest"],
        params={"epochs": 7, "contamination": 0.1},
        dataset_params={"thyroid": {"rep_dim": 4, "contamination": 0.2}},
        method_params={"deepsad": {"eta": 3.0, "contamination": 0.3}},
    )
    expand(config)
    assert method_params(config, "cardio", "deepsad") == {"epochs": 7, "contamination": 0.3, "eta": 3.0}
    assert method_params(config, "thyroid", "deepsad") == {"epochs": 7, "contamination": 0.3, "rep_dim": 4, "eta": 3.0}
    # iforest has neither epochs nor rep_dim: shared settings apply only where they exist.
    assert method_params(config, "thyroid", "iforest") == {"contamination": 0.2}


def test_tables_of_unselected_methods_and_datasets_are_allowed():
    """One file can be narrowed to fewer datasets or methods by editing its axes alone."""
    config = grid(
        datasets=["cardio"], methods=["deepsad"],
        method_params={"deepsvdd": {"nu": 0.1}}, dataset_params={"thyroid": {"rep_dim": 4}},
    )  # fmt: skip
    assert [e.params for e in expand(config)] == [{}]


def test_hybrids_autoencoders_take_the_shared_network_parameters():
    config = grid(
        datasets=["thyroid"], methods=["ae", "hybrid-ocsvm"],
        params={"ae_epochs": 7, "contamination": 0.1},
        dataset_params={"thyroid": {"hidden_sizes": [32, 16], "rep_dim": 4}},
    )  # fmt: skip
    experiments = expand(config)
    assert method_params(config, "thyroid", "ae") == {
        "ae_epochs": 7, "contamination": 0.1, "hidden_sizes": [32, 16], "rep_dim": 4,
    }  # fmt: skip
    hybrid = method_params(config, "thyroid", "hybrid-ocsvm")
    assert hybrid == {
        "autoencoder__ae_epochs": 7, "contamination": 0.1,
        "autoencoder__hidden_sizes": [32, 16], "autoencoder__rep_dim": 4,
    }  # fmt: skip
    assert next(e for e in experiments if e.method == "hybrid-ocsvm").params == hybrid
    # A key only a hybrid's autoencoder has is not a typo.
    expand(grid(datasets=["thyroid"], methods=["hybrid-kde"], params={"hidden_sizes": [8]}))


@pytest.mark.parametrize(
    "config, message",
    [
        ({"methods": ["deepsad"]}, "needs at least 'datasets' and 'methods'"),
        (grid(datasets=["imagenet"]), "datasets: 'imagenet'"),
        (grid(methods=["svm"]), "methods: 'svm'"),
        (grid(epochs=3), "unknown setting"),
        (grid(params={"epoch": 3}), "params: no selected method"),
        (grid(method_params={"deepsad": {"epoch": 3}}), "method_params.deepsad"),
        (grid(method_params={"deepsvd": {"nu": 0.1}}), "method_params.deepsvd: 'deepsvd' is not one of"),
        (grid(dataset_params={"thyroids": {"rep_dim": 4}}), "dataset_params.thyroids: 'thyroids' is not one of"),
        (grid(ratio_known_anomaly=1.5), "ratio_known_anomaly"),
        (grid(datasets=["mnist"], known_anomaly_classes="some"), "known_anomaly_classes must be"),
        (grid(params=[1]), "params must be a table"),
        (grid(datasets=["mnist"], known_anomaly_classes=[]), "known_anomaly_classes is an empty list"),
    ],
)
def test_bad_configurations_name_the_setting(config, message):
    with pytest.raises(ConfigError, match=message):
        expand(config)


@pytest.mark.parametrize(
    "config, message",
    [
        (grid(params={"epochs": "ten"}),
         "params: method 'deepsad': The 'epochs' parameter of DeepSAD must be an int .* Got 'ten'"),
        (grid(method_params={"deepsad": {"eta": -1.0}}), "method_params.deepsad: method 'deepsad': The 'eta' parameter"),
        # A table of a method that is not selected is checked as well, like its keys.
        (grid(method_params={"ocsvm": {"nu": 2.0}}), "method_params.ocsvm: method 'ocsvm': The 'nu' parameter"),
        (grid(datasets=["cardio", "thyroid"], dataset_params={"thyroid": {"rep_dim": 0}}),
         "dataset_params.thyroid: method 'deepsad': The 'rep_dim' parameter"),
        # A shared key is checked by each selected method that has it: DeepSAD, not Isolation Forest.
        (grid(methods=["iforest", "deepsad"], params={"ae_epochs": 1.5}),
         "params: method 'deepsad': The 'ae_epochs' parameter of DeepSAD must be an int"),
        # A hybrid's autoencoder takes the shared network parameters: its estimator checks them.
        (grid(methods=["hybrid-ocsvm"], params={"hidden_sizes": ["a"]}),
         r"params: method 'hybrid-ocsvm': The 'hidden_sizes' parameter of Autoencoder must be .* Got \['a'\]"),
    ],
)
def test_parameter_values_are_checked_by_the_methods_estimators(config, message):
    with pytest.raises(ConfigError, match=message):
        expand(config)


@pytest.mark.parametrize(
    "line, message",
    [
        ('epochs = "ten"', "The 'epochs' parameter of DeepSAD must be an int in the range \\[0, inf\\). Got 'ten'"),
        ("hidden_sizes = ['a']", "The 'hidden_sizes' parameter of DeepSAD must be .*sequence of positive ints"),
        ("lr_milestones = ['x']", "The 'lr_milestones' parameter of DeepSAD must be a sequence of non-negative ints"),
        ("ae_lr_milestones = [-1]", "The 'ae_lr_milestones' parameter of DeepSAD must be a sequence of non-negative"),
        ("hidden_sizes = []", "The 'hidden_sizes' parameter of DeepSAD must be .*non-empty sequence"),
    ],
)
def test_a_wrong_value_in_a_file_is_refused_before_anything_runs(tmp_path, line, message):
    path = tmp_path / "grid.toml"
    path.write_text(f'datasets = ["cardio"]\nmethods = ["deepsad"]\n[method_params.deepsad]\n{line}\n')
    with pytest.raises(ConfigError, match=f"method_params.deepsad: method 'deepsad': {message}"):
        expand(read_config(path))


def test_no_training_is_a_valid_setting():
    """``epochs = 0`` trains nothing of that stage (``ae_epochs = 0``: no pretraining)."""
    [experiment] = expand(grid(params={"epochs": 0, "ae_epochs": 0}))
    assert experiment.params == {"epochs": 0, "ae_epochs": 0}


TOML = """
datasets = ["cardio"]
methods = ["deepsad", "deepsvdd"]
seeds = 2
ratio_known_anomaly = 0.01
[params]
epochs = 5
lr_milestones = [2]
"""

YAML = """
datasets: [cardio]
methods: [deepsad, deepsvdd]
seeds: 2
ratio_known_anomaly: 0.01
params:
  epochs: 5
  lr_milestones: [2]
"""


def test_toml_and_yaml_describe_the_same_grid(tmp_path):
    (tmp_path / "grid.toml").write_text(TOML)
    (tmp_path / "grid.yaml").write_text(YAML)
    from_toml = expand(read_config(tmp_path / "grid.toml"))
    from_yaml = expand(read_config(tmp_path / "grid.yaml"))
    assert [e.key for e in from_toml] == [e.key for e in from_yaml]
    assert len(from_toml) == 4 and from_toml[0].params == {"epochs": 5, "lr_milestones": [2]}


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("grid.json", "{}", "must end in .toml, .yaml or .yml"),
        ("grid.toml", "datasets = [", "cannot parse"),
        ("grid.yaml", "datasets: [cardio", "cannot parse"),
        ("grid.yaml", "- cardio", "table of settings"),
    ],
)
def test_unreadable_files_are_named(tmp_path, name, content, message):
    (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError, match=message):
        read_config(tmp_path / name)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_config(tmp_path / "absent.toml")


def test_repository_configurations_expand():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "configs"
    paths = sorted([*root.glob("*.toml"), *root.glob("images/*.toml")])
    sizes = {str(path.relative_to(root)): len(expand(read_config(path))) for path in paths}
    assert sizes["odds.toml"] == 6 * 2 * 10
    assert sizes["mnist_deepsvdd.toml"] == 10 * 3
    assert sizes["mnist_deepsvdd_gcn.toml"] == 10 * 3
    # 4 methods with a kernel to select, each under two protocols, and 7 others.
    assert sizes["odds_baselines.toml"] == 6 * 10 * (4 * 2 + 7)
    # The paper's image grids: 3 datasets × 10 normal classes; γl = 0 has no known class and
    # no run of the methods that need labeled anomalies (supervised, SS-DGM).
    scenario_points = 3 * 10 * (2 * 1 + 4 * 9 * 4)
    assert sizes["images/scenario_i.toml"] == scenario_points
    assert sizes["images/scenario_i_unsupervised.toml"] == 3 * 10 * 2
    assert sizes["images/scenario_ii.toml"] == 3 * 10 * 9 * 5 * 6
    assert sizes["images/scenario_iii.toml"] == 3 * 10 * 4 * 3 * 6
    # Deep SAD and the hybrid SSAD at five γl, the supervised classifier and SS-DGM at the four above 0.
    assert sizes["images/scenario_i_subset.toml"] == 10 * (2 * 5 + 2 * 4)
    assert sizes["images/scenario_i_subset_deepsvdd.toml"] == 10 * 2  # Deep SVDD and the autoencoder
    assert sizes["images/eta.toml"] == 3 * 10 * 9 * 5
    assert sizes["images/scenario_i_known_class_1.toml"] == 4 * 2
    # Deep SAD and the supervised classifier, four normal classes, their next class known
    assert sizes["images/scenario_i_cifar10_known_next.toml"] == 4 * 2
    for path in paths:
        name = str(path.relative_to(root))
        assert count_experiments(read_config(path)) == sizes[name], name


def test_preprocessing_is_an_axis_of_image_grids():
    experiments = expand(grid(datasets=["mnist"], normal_classes=[0], methods=["deepsvdd"], preprocessing=[None, "gcn"]))
    assert sorted(str(e.preprocessing) for e in experiments) == ["None", "gcn"]
    with pytest.raises(ConfigError, match="applies to the image datasets"):
        expand(grid(preprocessing="gcn"))


def test_a_yaml_exponent_read_as_text_gets_a_hint(tmp_path):
    (tmp_path / "grid.yaml").write_text("datasets: [cardio]\nmethods: [deepsad]\nseeds: 1\nparams:\n  lr: 1e-4\n")
    with pytest.raises(ConfigError, match=r"'lr' parameter.*1\.0e-4"):
        expand(read_config(tmp_path / "grid.yaml"))


def test_param_grid_makes_axes_of_one_methods_parameters():
    config = grid(datasets=["cardio"], methods=["deepsad", "deepsvdd"], seeds=2,
                  method_params={"deepsad": {"epochs": 3}},
                  param_grid={"deepsad": {"eta": [0.1, 1.0, 10.0], "rep_dim": [4, 8]}})
    experiments = expand(config)
    assert count_experiments(config) == len(experiments) == 2 * (3 * 2 + 1)
    variants = sorted((e.params["eta"], e.params["rep_dim"]) for e in experiments if e.method == "deepsad" and e.seed == 0)
    assert variants == [(0.1, 4), (0.1, 8), (1.0, 4), (1.0, 8), (10.0, 4), (10.0, 8)]
    assert all(e.params["epochs"] == 3 for e in experiments if e.method == "deepsad")
    assert all("eta" not in e.params for e in experiments if e.method == "deepsvdd")


@pytest.mark.parametrize(
    "param_grid, message",
    [
        ({"deepsadd": {"eta": [1.0]}}, r"param_grid.deepsadd: 'deepsadd' is not one of"),
        ({"deepsad": {"eta": 1.0}}, r"param_grid.deepsad.eta must be a non-empty list of values; got 1.0"),
        ({"deepsad": {"eta": []}}, r"param_grid.deepsad.eta must be a non-empty list"),
        ({"deepsad": {"eta": [1.0, -1.0]}}, r"param_grid.deepsad.eta: .*eta"),
        ({"deepsad": {"colour": [1]}}, r"param_grid.deepsad.colour: "),
        ({"deepsad": {}}, r"param_grid.deepsad must be a table of parameters"),
    ],
)
def test_param_grid_errors_name_the_key(param_grid, message):
    with pytest.raises(ConfigError, match=message):
        expand(grid(datasets=["cardio"], methods=["deepsad"], param_grid=param_grid))


def test_param_grid_counts_toward_the_size_limit(monkeypatch):
    import deepsad.experiments.config as config_module

    monkeypatch.setattr(config_module, "MAX_EXPERIMENTS", 4)
    with pytest.raises(ConfigError, match="param_grid 5"):
        expand(grid(datasets=["cardio"], methods=["deepsad"], param_grid={"deepsad": {"eta": [0.01, 0.1, 1.0, 10.0, 100.0]}}))


def test_a_preset_gives_its_parameters_to_every_method_that_has_them_and_tables_override_it():
    from deepsad.presets import PAPER

    base = {"datasets": ["cardio"], "methods": ["deepsad", "iforest", "hybrid-ocsvm"], "ratio_known_anomaly": 0.01}
    spelled_out = expand({**base, "params": dict(PAPER)})
    named = expand({**base, "preset": "paper"})
    # the same experiments, the same keys: a preset is a shorthand
    assert [e.key for e in named] == [e.key for e in spelled_out]
    deepsad = next(e for e in named if e.method == "deepsad")
    assert {k: deepsad.params[k] for k in PAPER} == dict(PAPER)
    assert next(e for e in named if e.method == "iforest").params == {}
    assert next(e for e in named if e.method == "hybrid-ocsvm").params["autoencoder__ae_lr"] == 1e-4
    overridden = expand({**base, "preset": "paper", "params": {"lr": 1e-3}})
    assert next(e for e in overridden if e.method == "deepsad").params["lr"] == 1e-3
    with pytest.raises(ConfigError, match=r"preset must be one of \['paper'\]; got 'fast'"):
        expand({**base, "preset": "fast"})


@pytest.mark.parametrize("value", [["paper"], {"a": 1}, 3])
def test_a_preset_that_is_not_a_name_is_a_config_error(value):
    with pytest.raises(ConfigError, match="preset must be one of"):
        expand({"datasets": ["cardio"], "methods": ["deepsad"], "preset": value})


@pytest.mark.parametrize("config, message", [
    (grid(known_anomaly_classes=[1], n_known_classes=[1, 2]), "apply to data sets with classes"),
    (grid(datasets=["mnist"], known_anomaly_classes=[1, 2], n_known_classes=1, ratio_known_anomaly=0.05),
     r"n_known_classes 1 contradicts known_anomaly_classes \[1, 2\], which names 2 class\(es\)"),
    (grid(datasets=["mnist"], known_anomaly_classes="each", n_known_classes=[1, 2], ratio_known_anomaly=0.05),
     "runs one known class at a time"),
    (grid(datasets=["mnist"], n_known_classes=0, ratio_known_anomaly=0.05), "n_known_classes must be an integer from 1 to the 9"),
    (grid(datasets=["mnist"], n_known_classes=20, ratio_known_anomaly=0.05), "got 20"),
    (grid(ratio_known_normal=0.6, ratio_known_anomaly=0.6), "leaves no unlabeled training data"),
    (grid(method_params={"deepsad": None}), r"method_params.deepsad must be a table of parameters; got None .*write \{\}"),
    (grid(dataset_params={"cardio": 5}), "dataset_params.cardio must be a table of parameters; got 5"),
    (grid(methods=["deepsvdd-soft"], method_params={"deepsvdd-soft": {"objective": "one-class"}}),
     "'deepsvdd-soft' fixes objective='soft-boundary'"),
    (grid(param_grid={"deepsad": {"eta": [1.0, 10.0]}}, method_params={"deepsad": {"eta": 5.0}}),
     r"param_grid.deepsad and method_params.deepsad both set \['eta'\]"),
])
def test_settings_that_would_be_ignored_contradict_or_fail_every_run_are_refused(config, message):
    with pytest.raises(ConfigError, match=message):
        expand(config)


def test_a_listed_known_class_set_records_its_own_size_and_tables_ignore_kl():
    (experiment,) = expand(grid(datasets=["mnist"], normal_classes=[0], known_anomaly_classes=[1, 2],
                                ratio_known_anomaly=0.05))
    assert experiment.n_known_classes == 2
    mixed = expand(grid(datasets=["mnist", "cardio"], normal_classes=[0], n_known_classes=[1, 2],
                        ratio_known_anomaly=0.05))
    assert sorted(e.n_known_classes for e in mixed if e.dataset == "cardio") == [1]
    assert sorted(e.n_known_classes for e in mixed if e.dataset == "mnist") == [1, 2]


def test_shared_keys_reach_a_hybrids_detector_and_leave_fixed_parameters_alone():
    config = grid(methods=["ocsvm", "hybrid-ocsvm", "deepsvdd", "deepsvdd-soft"],
                  params={"nu": 0.2, "objective": "one-class"})
    assert method_params(config, "cardio", "hybrid-ocsvm")["detector__nu"] == 0.2
    assert method_params(config, "cardio", "ocsvm")["nu"] == 0.2
    assert "objective" not in method_params(config, "cardio", "deepsvdd-soft")


def test_a_key_twice_in_one_yaml_table_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("datasets: cardio\nmethods: deepsad\nparams: {epochs: 1}\nparams: {ae_epochs: 1}\n")
    with pytest.raises(ConfigError, match="the key 'params' is given twice in one table"):
        read_config(path)


def test_each_counts_on_from_the_normal_class_and_can_stop_after_a_few():
    experiments = expand(grid(datasets=["mnist"], ratio_known_anomaly=0.05, known_anomaly_classes="each"))
    assert [e.known_anomaly_classes[0] for e in experiments if e.normal_class == 7] == [8, 9, 0, 1, 2, 3, 4, 5, 6]
    config = grid(datasets=["mnist"], ratio_known_anomaly=[0.0, 0.05], known_anomaly_classes="each",
                  known_classes_per_normal=3)
    limited = expand(config)
    assert count_experiments(config) == len(limited) == 10 * (1 + 3)
    labeled = [e for e in limited if e.ratio_known_anomaly > 0]
    assert [e.known_anomaly_classes[0] for e in labeled if e.normal_class == 8] == [9, 0, 1]
    # A balanced design: every class is the known one three times over the ten normal classes.
    known = [e.known_anomaly_classes[0] for e in labeled]
    assert sorted(known) == sorted(list(range(10)) * 3)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"known_anomaly_classes": "random", "known_classes_per_normal": 2}, "limits known_anomaly_classes = 'each'"),
        ({"known_anomaly_classes": "each", "known_classes_per_normal": 10}, r"integer from 1 to 9 .*got 10"),
        ({"known_anomaly_classes": "each", "known_classes_per_normal": 0}, r"integer from 1 to 9 .*got 0"),
        ({"known_anomaly_classes": "each", "known_classes_per_normal": True}, r"integer from 1 to 9 .*got True"),
    ],
)
def test_known_classes_per_normal_is_refused_where_it_means_nothing(settings, message):
    with pytest.raises(ConfigError, match=message):
        expand(grid(datasets=["mnist"], ratio_known_anomaly=0.05, **settings))
    with pytest.raises(ConfigError, match="apply to data sets with classes"):
        expand(grid(datasets=["cardio"], ratio_known_anomaly=0.05, known_classes_per_normal=2))


@pytest.mark.parametrize("normal", ["3", 12, -1, 1.0, True])
def test_normal_classes_must_be_classes_of_the_data_set(normal):
    with pytest.raises(ConfigError, match=rf"normal_classes must be 'all' or integers from 0 to 9 .*got {normal!r}"):
        count_experiments(grid(datasets=["mnist"], normal_classes=[normal], known_anomaly_classes="each",
                               ratio_known_anomaly=0.05))
