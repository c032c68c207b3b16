import numpy as np
import pandas as pd
import pytest

from deepsad.experiments.paper_values import paper_value
from deepsad.experiments.report import results_frame, write_report
from deepsad.experiments.scenarios import curves_markdown, scenario_curves
from deepsad.experiments.store import ResultsStore
from tests.experiments.test_report import PNG_SIGNATURE, add


def scenario_one(store, gammas=(0.0, 0.05), seeds=(0, 1), normal_classes=(0, 1), known=(2, 3), methods=None):
    """Scenario (i) by hand: AUROC = 0.80 + γl + normal class / 100 + known class / 1000 + seed / 10000
    for deepsad; supervised 0.1 lower and only where γl > 0."""
    methods = methods or {"deepsad": 0.0, "supervised": -0.1}
    for method, offset in methods.items():
        for normal_class in normal_classes:
            for gamma in gammas:
                if gamma == 0 and method == "supervised":
                    continue
                for known_class in (known if gamma > 0 else (None,)):
                    for seed in seeds:
                        auroc = 0.80 + offset + gamma + normal_class / 100 + (known_class or 0) / 1000 + seed / 10000
                        add(store, dataset="mnist", method=method, seed=seed, auroc=auroc, normal_class=normal_class,
                            known=() if gamma == 0 else (known_class,), n_test=40, ratio_known_anomaly=gamma,
                            n_known_classes=0 if gamma == 0 else 1,
                            **({} if gamma == 0 else {"known_anomaly_classes": (known_class,)}))


def test_a_point_is_mean_and_std_over_experiments_with_seeds_averaged_first(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    scenario_one(store)
    (curves,) = list(scenario_curves(results_frame(store)))
    assert curves.axis == "ratio_known_anomaly" and curves.settings["n_known_classes"] == 1
    points = curves.points.set_index(["line", "ratio_known_anomaly"])
    labeled = points.loc[("deepsad", 0.05)]
    # experiments: normal 0/1 × known 2/3, each the mean of seeds 0 and 1
    means = [0.85 + c / 100 + k / 1000 + 0.5 / 10000 for c in (0, 1) for k in (2, 3)]
    assert labeled["mean"] == pytest.approx(100 * np.mean(means))
    assert labeled["std"] == pytest.approx(100 * np.std(means, ddof=1))
    assert (labeled["experiments"], labeled["runs"]) == (4, 8)
    assert labeled["seed_std"] == pytest.approx(100 * np.std([0, 1 / 10000], ddof=1))
    # γl = 0 runs have kl = 0 recorded, yet they are the first point of the kl = 1 curve
    unlabeled = points.loc[("deepsad", 0.0)]
    assert unlabeled["experiments"] == 2 and unlabeled["mean"] == pytest.approx(100 * (0.805 + 0.5 / 10000))
    assert ("supervised", 0.0) not in points.index


def test_paper_values_sit_beside_ours():
    assert paper_value("mnist", "deepsad", {"ratio_known_anomaly": 0.05, "ratio_pollution": 0.0, "n_known_classes": 1}) == (96.7, 2.3)
    assert paper_value("cifar10", "deepsad", {"ratio_known_anomaly": 0.0, "n_known_classes": 0}) == (60.9, 9.4)
    assert paper_value("cifar10", "supervised", {"ratio_known_anomaly": 0.0}) is None
    assert paper_value("mnist", "deepsad", {"ratio_known_anomaly": 0.05, "ratio_pollution": 0.1}) is None
    assert paper_value("mnist", "deepsad", {"ratio_known_anomaly": 0.05, "n_known_classes": 2}) is None
    assert paper_value("mnist", "deepsvdd", {"ratio_known_anomaly": 0.05}) is None


def test_the_best_two_lines_are_compared_by_a_paired_wilcoxon_test(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    scenario_one(store, normal_classes=tuple(range(4)), known=(5, 6))
    (curves,) = list(scenario_curves(results_frame(store)))
    test = curves.tests.set_index("ratio_known_anomaly").loc[0.05]
    # deepsad beats supervised by 10 points in all 8 paired experiments: the smallest exact p
    assert (test["best"], test["second"], test["pairs"]) == ("deepsad", "supervised", 8)
    assert test["p_value"] == pytest.approx(2 / 2**8) and test["significant"]
    assert 0.0 not in curves.tests["ratio_known_anomaly"].tolist()  # one line only at γl = 0
    markdown = curves_markdown(curves)
    assert "| γl | deepsad | supervised | best two: paired Wilcoxon p |" in markdown
    assert "**deepsad** better: deepsad vs supervised, p = 0.0078 (8 pairs)" in markdown
    assert "Seed-to-seed std on mnist" in markdown


def test_mnist_cells_carry_the_paper_value(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    scenario_one(store, seeds=(0,))
    (curves,) = list(scenario_curves(results_frame(store)))
    points = curves.points.set_index(["line", "ratio_known_anomaly"])
    assert points.loc[("deepsad", 0.05), "paper_mean"] == 96.7
    assert points.loc[("supervised", 0.05), "paper_std"] == 4.6
    markdown = curves_markdown(curves)
    assert "(96.7 ± 2.3)" in markdown and "(92.8 ± 4.9)" in markdown
    assert "Seed-to-seed" not in markdown  # one seed per experiment


def test_report_writes_the_scenario_tables_figure_and_side_by_side_images(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    scenario_one(store, gammas=(0.0, 0.05), seeds=(0,), normal_classes=(3,), known=(1,))
    # digits images exist without a download; reuse the hand-made MNIST runs' shape on digits
    for gamma in (0.0, 0.05):
        add(store, dataset="digits", normal_class=3, seed=0, n_test=40, ratio_known_anomaly=gamma,
            known=() if gamma == 0 else (1,), n_known_classes=0 if gamma == 0 else 1,
            **({} if gamma == 0 else {"known_anomaly_classes": (1,)}))
    paths = write_report(store.path, tmp_path / "out", ["dataset", "method"], data_root=tmp_path / "none",
                         notify=lambda note: None)
    names = {p.name for p in paths}
    assert "scenarios.md" in names and "auroc_vs_ratio_known_anomaly.png" in names
    assert "images_digits_class3_deepsad_gamma_l_0_vs_0.05.png" in names
    grid = (tmp_path / "out" / "figures" / "images_digits_class3_deepsad_gamma_l_0_vs_0.05.png").read_bytes()
    assert grid.startswith(PNG_SIGNATURE)
    text = (tmp_path / "out" / "scenarios.md").read_text()
    assert "**digits**" in text and "**mnist**" in text and "(92.8 ± 4.9)" in text


def test_deep_svdd_stands_in_for_deep_sad_at_gamma_l_0_in_the_side_by_side_images(tmp_path):
    # a sweep that ran one-class Deep SVDD for the γl = 0 point (as the CIFAR-10 configs do)
    store = ResultsStore(tmp_path / "r.sqlite")
    add(store, dataset="digits", method="deepsvdd", normal_class=3, seed=0, n_test=40, known=(), n_known_classes=0,
        params={"objective": "one-class"})
    add(store, dataset="digits", method="deepsvdd", normal_class=4, seed=0, n_test=40, known=(), n_known_classes=0,
        params={"objective": "soft-boundary"})
    for normal_class in (3, 4):
        add(store, dataset="digits", normal_class=normal_class, seed=0, n_test=40, ratio_known_anomaly=0.05,
            known=(1,), n_known_classes=1, known_anomaly_classes=(1,))
    paths = write_report(store.path, tmp_path / "out", ["dataset", "method"], data_root=tmp_path / "none",
                         notify=lambda note: None)
    names = {p.name for p in paths}
    assert "images_digits_class3_deepsad_gamma_l_0_vs_0.05.png" in names
    assert "images_digits_class4_deepsad_gamma_l_0_vs_0.05.png" not in names  # soft-boundary is another loss


def test_no_scenario_table_without_a_varying_setting(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    add(store, ratio_known_anomaly=0.01)
    add(store, ratio_known_anomaly=0.01, seed=1)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "scenarios.md").write_text("stale")
    paths = write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=False)
    assert "scenarios.md" not in {p.name for p in paths} and not (tmp_path / "out" / "scenarios.md").exists()
    assert pd.read_csv(tmp_path / "out" / "records.csv").shape[0] == 2


def test_a_varying_estimator_parameter_gets_its_curve_and_figure(tmp_path):
    from deepsad.experiments.scenarios import parameter_curves

    store = ResultsStore(tmp_path / "r.sqlite")
    for eta in (0.01, 1.0, 100.0):
        for normal_class in (0, 1):
            add(store, dataset="mnist", normal_class=normal_class, auroc=0.9 + eta / 1000, n_test=40,
                ratio_known_anomaly=0.05, ratio_pollution=0.1, params={"eta": eta, "epochs": 3})
    add(store, dataset="mnist", method="deepsvdd", normal_class=0, n_test=40, ratio_known_anomaly=0.05,
        ratio_pollution=0.1, params={"epochs": 3})
    frame = results_frame(store)
    (curves,) = list(parameter_curves(frame))
    assert curves.axis == "eta" and curves.settings["ratio_pollution"] == 0.1
    points = curves.points.set_index(["line", "eta"])
    assert sorted(points.index) == [("deepsad", 0.01), ("deepsad", 1.0), ("deepsad", 100.0)]
    assert points.loc[("deepsad", 100.0), "mean"] == pytest.approx(100 * 1.0)
    assert points.loc[("deepsad", 1.0), "experiments"] == 2
    paths = write_report(store.path, tmp_path / "out", ["dataset", "method"], plots=True, data_root=tmp_path,
                         notify=lambda note: None)
    assert "auroc_vs_eta.png" in {p.name for p in paths}
    assert "### eta varies; known normals = 0, γl = 0.05, γp = 0.1, kl = 1" in (tmp_path / "out" / "scenarios.md").read_text()


def test_unsupervised_runs_at_gamma_zero_stand_for_every_gamma_only_without_pollution():
    from deepsad.experiments.plots import _same_at_every_gamma
    from deepsad.experiments.scenarios import Curves

    only_zero = pd.DataFrame({"ratio_known_anomaly": [0.0]})
    curves = Curves("ratio_known_anomaly", {"ratio_pollution": 0.0}, pd.DataFrame(), pd.DataFrame())
    assert _same_at_every_gamma(curves, "deepsvdd", only_zero)
    assert not _same_at_every_gamma(curves, "deepsad", only_zero)  # learns from the labels
    assert not _same_at_every_gamma(curves, "deepsvdd", pd.DataFrame({"ratio_known_anomaly": [0.0, 0.05]}))
    polluted = Curves("ratio_known_anomaly", {"ratio_pollution": 0.1}, pd.DataFrame(), pd.DataFrame())
    assert not _same_at_every_gamma(polluted, "deepsvdd", only_zero)
