import pytest

from deepsad.experiments.config import ConfigError, expand, method_params, read_config


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
    ],
)
def test_bad_configurations_name_the_setting(config, message):
    with pytest.raises(ConfigError, match=message):
        expand(config)


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
    sizes = {path.name: len(expand(read_config(path))) for path in sorted(root.glob("*.toml"))}
    assert sizes["odds.toml"] == 6 * 2 * 10
    assert sizes["mnist_deepsvdd.toml"] == 10 * 3
    assert sizes["mnist_deepsvdd_gcn.toml"] == 10 * 3
    # 4 methods with a kernel to select, each under two protocols, and 7 others.
    assert sizes["odds_baselines.toml"] == 6 * 10 * (4 * 2 + 7)


def test_preprocessing_is_an_axis_of_image_grids():
    experiments = expand(grid(datasets=["mnist"], normal_classes=[0], methods=["deepsvdd"], preprocessing=[None, "gcn"]))
    assert sorted(str(e.preprocessing) for e in experiments) == ["None", "gcn"]
    with pytest.raises(ConfigError, match="applies to the image datasets"):
        expand(grid(preprocessing="gcn"))
