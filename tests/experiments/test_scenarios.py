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


def test_whether_a_parameter_changes_a_line_is_a_friedman_test_paired_over_experiments(tmp_path):
    from deepsad.experiments.scenarios import parameter_curves

    store = ResultsStore(tmp_path / "r.sqlite")
    rng = np.random.default_rng(0)
    etas = (0.01, 1.0, 100.0)
    for normal_class in range(8):
        known = (normal_class + 1) % 10
        # deepsad rises with η in every experiment; deepsvdd's η order is shuffled per experiment
        shuffled = rng.permutation(len(etas))
        for rank, eta in enumerate(etas):
            for method, step in (("deepsad", rank), ("deepsvdd", shuffled[rank])):
                add(store, dataset="mnist", method=method, normal_class=normal_class, n_test=40,
                    auroc=0.8 + normal_class / 100 + step / 1000, ratio_known_anomaly=0.05, n_known_classes=1,
                    known_anomaly_classes=(known,), known=(known,), params={"eta": eta})
    (curves,) = list(parameter_curves(results_frame(store)))
    effects = curves.effects.set_index("line")
    rising, shuffled_line = effects.loc["deepsad"], effects.loc["deepsvdd"]
    assert (rising["test"], rising["paired_over"], rising["blocks"], rising["values"]) == ("Friedman", "experiments", 8, 3)
    assert rising["p_value"] == pytest.approx(np.exp(-8), rel=1e-6)  # χ² = 16 on 2 degrees of freedom
    assert rising["spread"] == pytest.approx(0.2) and (rising["lowest_at"], rising["highest_at"]) == (0.01, 100.0)
    assert shuffled_line["p_value"] > 0.05
    markdown = curves_markdown(curves)
    assert ("Does eta change deepsad? yes: Friedman test over 8 experiments paired across 3 values of eta, "
            "p = 0.00034; the means span 0.2 points (lowest at eta = 0.01, highest at 100).") in markdown
    assert "Does eta change deepsvdd? no significant change" in markdown


def test_where_the_experiments_differ_between_values_the_effect_test_pairs_the_normal_classes(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    # scenario (iii): the known classes are drawn anew for each kl, so no experiment repeats
    for normal_class in range(6):
        for kl in (1, 2):
            known = tuple((normal_class + kl + i) % 10 for i in range(kl))
            add(store, dataset="mnist", normal_class=normal_class, n_test=40, auroc=0.9 + kl / 100,
                ratio_known_anomaly=0.05, ratio_pollution=0.1, n_known_classes=kl, known_anomaly_classes=known,
                known=known)
    (curves,) = list(scenario_curves(results_frame(store)))
    assert curves.axis == "n_known_classes"
    (effect,) = curves.effects.itertuples(index=False)
    assert (effect.test, effect.paired_over, effect.blocks) == ("Wilcoxon signed-rank", "normal classes", 6)
    assert effect.p_value == pytest.approx(2 / 2**6)  # kl = 2 higher for all six normal classes
    # on the γl axis, γl = 0 has no known class: paired over normal classes as well
    store = ResultsStore(tmp_path / "gamma.sqlite")
    scenario_one(store, seeds=(0,), normal_classes=(0, 1, 2), known=(5, 6), methods={"deepsad": 0.0})
    (curves,) = list(scenario_curves(results_frame(store)))
    (effect,) = curves.effects.itertuples(index=False)
    assert (effect.paired_over, effect.blocks, effect.p_value) == ("normal classes", 3, pytest.approx(0.25))
    assert "Not testable" not in curves_markdown(curves)


def test_an_effect_test_needs_two_blocks(tmp_path):
    store = ResultsStore(tmp_path / "r.sqlite")
    for kl in (1, 2, 3):
        add(store, dataset="mnist", normal_class=0, n_test=40, auroc=0.9, ratio_known_anomaly=0.05,
            n_known_classes=kl, known_anomaly_classes=tuple(range(1, kl + 1)), known=tuple(range(1, kl + 1)))
    (curves,) = list(scenario_curves(results_frame(store)))
    (effect,) = curves.effects.itertuples(index=False)
    assert effect.blocks == 1 and np.isnan(effect.p_value)
    assert "Does kl change deepsad? Not testable: Friedman test over 1 normal class paired" in curves_markdown(curves)


def test_the_kl_curve_gets_its_figure(tmp_path):
    from deepsad.experiments.plots import metric_vs_setting_figures

    store = ResultsStore(tmp_path / "r.sqlite")
    for normal_class in range(2):
        for kl in (1, 5):
            known = tuple((normal_class + 1 + i) % 10 for i in range(kl))
            add(store, dataset="mnist", normal_class=normal_class, n_test=40, auroc=0.9 + kl / 100,
                ratio_known_anomaly=0.05, ratio_pollution=0.1, n_known_classes=kl, known_anomaly_classes=known,
                known=known)
    figures = metric_vs_setting_figures(results_frame(store))
    assert list(figures) == ["auroc_vs_n_known_classes.png"]
    assert figures["auroc_vs_n_known_classes.png"].startswith(PNG_SIGNATURE)


def test_a_point_over_fewer_experiments_says_how_many(tmp_path, monkeypatch):
    import matplotlib.axes

    from deepsad.experiments.plots import metric_vs_setting_figures

    store = ResultsStore(tmp_path / "r.sqlite")
    scenario_one(store, seeds=(0,), normal_classes=(0, 1, 2), known=(5,))
    # γl = .2 ran for normal class 0 only: its mean is over one experiment, the others' over three
    add(store, dataset="mnist", method="deepsad", normal_class=0, n_test=40, auroc=0.95, ratio_known_anomaly=0.2,
        n_known_classes=1, known_anomaly_classes=(5,), known=(5,))
    (curves,) = list(scenario_curves(results_frame(store)))
    markdown = curves_markdown(curves)
    assert "in brackets the number of experiments of a point with fewer than 3" in markdown
    assert "| 0.2 | 95.0 ± – (96.9 ± 2.4) [1 experiment] |" in markdown
    assert markdown.count("experiment]") == 1  # the points over three experiments carry no count

    marks = []
    original = matplotlib.axes.Axes.annotate
    monkeypatch.setattr(matplotlib.axes.Axes, "annotate",
                        lambda self, text, xy, **kw: marks.append((text, xy, kw["ha"])) or original(self, text, xy, **kw))
    metric_vs_setting_figures(results_frame(store))
    # the axis's last point: its mark goes to the left, inside the axes
    assert marks == [("n = 1", (0.2, pytest.approx(95.0)), "right")]
