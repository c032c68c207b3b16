import subprocess
import sys

import pytest

from deepsad.experiments.spec import MAX_SEED, Experiment


def test_key_is_stable_and_covers_every_field():
    base = Experiment("cardio", "deepsad", seed=1, ratio_known_anomaly=0.01, params={"epochs": 3})
    assert base.key == Experiment("cardio", "deepsad", seed=1, ratio_known_anomaly=0.01, params={"epochs": 3}).key
    assert len(base.key) == 16
    variants = [
        Experiment("cardio", "deepsad", seed=2, ratio_known_anomaly=0.01, params={"epochs": 3}),
        Experiment("cardio", "deepsvdd", seed=1, ratio_known_anomaly=0.01, params={"epochs": 3}),
        Experiment("cardio", "deepsad", seed=1, ratio_known_anomaly=0.05, params={"epochs": 3}),
        Experiment("cardio", "deepsad", seed=1, ratio_known_anomaly=0.01, params={"epochs": 4}),
        Experiment("thyroid", "deepsad", seed=1, ratio_known_anomaly=0.01, params={"epochs": 3}),
    ]
    assert len({base.key, *(v.key for v in variants)}) == 6


def test_integer_ratios_and_float_ratios_give_the_same_key():
    assert Experiment("cardio", "deepsad", ratio_pollution=0).key == Experiment("cardio", "deepsad", ratio_pollution=0.0).key


def test_dict_round_trip():
    experiment = Experiment("mnist", "deepsad", seed=3, normal_class=2, known_anomaly_classes=(1, 7),
                            ratio_known_anomaly=0.05, ratio_pollution=0.1, params={"eta": 2.0})
    values = experiment.to_dict()
    assert values["known_anomaly_classes"] == [1, 7]
    assert Experiment.from_dict(values) == experiment
    assert Experiment.from_dict(values).key == experiment.key


@pytest.mark.parametrize(
    "fields, message",
    [
        (dict(dataset="imagenet", method="deepsad"), "dataset must be one of"),
        (dict(dataset="cardio", method="svm"), "method must be one of"),
        (dict(dataset="cardio", method="deepsad", params=[("epochs", 3)]), "params must be a dictionary"),
        (dict(dataset="cardio", method="deepsad", seed=-1), "seed must be"),
        # The seed is the estimators' random_state, which NumPy takes below 2**32.
        (dict(dataset="cardio", method="deepsad", seed=2**32), "seed must be an integer in [0, 2"),
        (dict(dataset="mnist", method="deepsad"), "normal_class must be one of 0..9"),
        (dict(dataset="mnist", method="deepsad", normal_class=10), "normal_class must be one of 0..9"),
        (dict(dataset="mnist", method="deepsad", normal_class=1, known_anomaly_classes=(1,)), "other than the normal class"),
        (dict(dataset="cardio", method="deepsad", normal_class=0), "leave normal_class"),
        (dict(dataset="cardio", method="deepsad", ratio_known_anomaly=1.0), "ratio_known_anomaly must be a number in [0, 1)"),
        (dict(dataset="cardio", method="deepsad", ratio_pollution=-0.1), "ratio_pollution must be"),
        (dict(dataset="cardio", method="deepsad", n_known_classes=-1), "n_known_classes must be"),
        (dict(dataset="mnist", method="deepsad", normal_class=0, preprocessing="zca"), "preprocessing must be one of ['gcn']"),
        (dict(dataset="cardio", method="deepsad", preprocessing="gcn"), "applies to the image datasets"),
        (dict(dataset="digits", method="deepsad", normal_class=0, preprocessing="gcn"), "the dataset is 'digits'"),
    ],
)
def test_invalid_definitions_are_refused_with_the_reason(fields, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        Experiment(**fields)


def test_the_largest_seed_is_accepted():
    assert Experiment("cardio", "deepsad", seed=MAX_SEED).seed == 2**32 - 1


def test_preprocessing_is_part_of_the_key_only_when_set():
    default = Experiment("mnist", "deepsvdd", normal_class=0)
    gcn = Experiment("mnist", "deepsvdd", normal_class=0, preprocessing="gcn")
    assert "preprocessing" not in default.to_dict() and gcn.to_dict()["preprocessing"] == "gcn"
    assert default.key != gcn.key and Experiment.from_dict(gcn.to_dict()) == gcn
    assert gcn.describe().endswith("preprocessing=gcn")


def test_from_dict_names_unknown_fields():
    with pytest.raises(ValueError, match="unknown experiment field"):
        Experiment.from_dict({"dataset": "cardio", "method": "deepsad", "colour": "red"})


def test_an_experiment_is_a_value_that_needs_no_model():
    # Parameter names are checked once per configuration, by the method
    # (deepsad.experiments.config); an experiment takes them as they are.
    experiment = Experiment("cardio", "deepsad", params={"epoch": 3})
    assert experiment.params == {"epoch": 3}
    code = "import sys; from deepsad.experiments.spec import Experiment; Experiment('cardio', 'ocsvm'); print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_a_key_says_when_deep_sad_relies_on_its_changed_table_defaults():
    from deepsad.presets import PAPER

    relying = Experiment("cardio", "deepsad", ratio_known_anomaly=0.01)
    explicit = Experiment("cardio", "deepsad", ratio_known_anomaly=0.01, params=dict(PAPER))
    # an old store's runs at the paper's schedule, keyed before the defaults changed, are not
    # taken for runs at the new defaults
    assert relying.key == "4b46a10fe6819a89" and relying.key != "1331af0897b5a10e"
    assert explicit.key == Experiment.from_dict(explicit.to_dict()).key
    assert "defaults_revision" not in relying.to_dict()  # records are unchanged
    # images and the other methods keep their keys
    assert Experiment("mnist", "deepsad", normal_class=0).key == "8f0913074d9cef9c"


def test_the_description_tells_apart_runs_of_other_known_classes_and_parameters():
    base = dict(seed=0, normal_class=1, ratio_known_anomaly=0.05, n_known_classes=1)
    one = Experiment("mnist", "deepsad", known_anomaly_classes=(3,), params={"eta": 0.1}, **base)
    other = Experiment("mnist", "deepsad", known_anomaly_classes=(4,), params={"eta": 0.1}, **base)
    third = Experiment("mnist", "deepsad", known_anomaly_classes=(3,), params={"eta": 10.0}, **base)
    assert len({e.describe() for e in (one, other, third)}) == 3
    assert one.describe() == "mnist normal=1 deepsad γl=0.05 γp=0 seed=0 known=[3] {eta=0.1}"
    assert Experiment("cardio", "deepsad", seed=0, ratio_known_anomaly=0.01).describe() == "cardio deepsad γl=0.01 γp=0 seed=0"
