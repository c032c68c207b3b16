"""The published numbers that reports put beside ours.

Scenario (i) of the Deep SAD paper (Ruff et al., ICLR 2020, appendix): mean AUROC ± std in %
over 90 experiments (10 normal classes × 9 known anomaly classes), γp = 0, kl = 1. Quoted from
the paper by a later paper (AGAD, its Table 2) — a secondary source; the paper's other methods
and its scenarios (ii), (iii) and η are printed only as plots in the copies at hand, so they are
not here. The paper leaves the γl = 0 points of the methods that need labeled anomalies empty.
"""

from __future__ import annotations

_GAMMAS = (0.0, 0.01, 0.05, 0.1, 0.2)

_SCENARIO_I = {
    ("mnist", "supervised"): (None, (83.6, 8.2), (90.3, 4.6), (93.9, 2.8), (96.9, 1.7)),
    ("mnist", "ssdgm"): (None, (89.9, 9.2), (92.2, 5.6), (91.6, 5.5), (91.2, 5.6)),
    ("mnist", "hybrid-ssad"): ((96.3, 2.5), (96.8, 2.3), (97.4, 2.0), (97.6, 1.7), (97.8, 1.5)),
    ("mnist", "deepsad"): ((92.8, 4.9), (96.4, 2.7), (96.7, 2.3), (96.9, 2.3), (96.9, 2.4)),
    ("fashion-mnist", "supervised"): (None, (74.4, 13.6), (76.8, 13.2), (79.0, 12.3), (81.4, 12.0)),
    ("fashion-mnist", "ssdgm"): (None, (65.1, 16.3), (71.4, 12.7), (72.9, 12.2), (74.7, 13.5)),
    ("fashion-mnist", "hybrid-ssad"): ((91.2, 4.7), (89.4, 6.0), (90.5, 5.9), (91.0, 5.6), (89.7, 6.6)),
    ("fashion-mnist", "deepsad"): ((89.2, 6.2), (90.0, 6.4), (90.5, 6.5), (91.3, 6.0), (91.0, 5.5)),
    ("cifar10", "supervised"): (None, (55.6, 5.0), (63.5, 8.0), (67.7, 9.6), (80.5, 5.9)),
    ("cifar10", "ssdgm"): (None, (49.7, 1.7), (50.8, 4.7), (52.0, 5.5), (53.2, 6.7)),
    ("cifar10", "hybrid-ssad"): ((63.8, 9.0), (70.5, 8.3), (73.3, 8.4), (74.0, 8.1), (74.5, 8.0)),
    ("cifar10", "deepsad"): ((60.9, 9.4), (72.6, 7.4), (77.9, 7.2), (79.8, 7.1), (81.9, 7.0)),
}

DEEP_SVDD_ONE_CLASS = {
    "mnist": (98.0, 99.7, 91.7, 91.9, 94.9, 88.5, 98.3, 94.6, 93.9, 96.5),
    "cifar10": (61.7, 65.9, 50.8, 59.1, 60.9, 65.7, 67.7, 67.3, 75.9, 73.1),
}
"""Deep SVDD (One-Class), unsupervised one-vs-rest, mean AUROC % over 10 seeds per normal class
(Ruff et al., ICML 2018, Table 1; the thesis' Table 2.1 for CIFAR-10)."""


def paper_value(dataset: str, method: str, settings: dict) -> tuple[float, float] | None:
    """The paper's (mean, std) AUROC % of ``method`` on ``dataset`` at the scenario
    ``settings`` (``ratio_known_anomaly``, ``ratio_pollution``, ``n_known_classes``,
    ``ratio_known_normal``), or None where the paper printed none."""
    if settings.get("ratio_pollution", 0) != 0 or settings.get("ratio_known_normal", 0) != 0:
        return None
    gamma = settings.get("ratio_known_anomaly", 0)
    if gamma != 0 and settings.get("n_known_classes", 1) != 1:
        return None
    values = _SCENARIO_I.get((dataset, method))
    if values is None or gamma not in _GAMMAS:
        return None
    return values[_GAMMAS.index(gamma)]
