"""The methods an experiment can name: which estimator each name builds, with which fixed
parameters, and which of its parameters a selection protocol may choose.

This is a table of names, importable without torch (the command line's help and the report
read it); ``deepsad.experiments.estimators`` turns a name into an estimator.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PAPER_GAMMAS = tuple(2.0**exponent for exponent in range(-7, 3))
"""γ ∈ {2^-7, …, 2^2} of the RBF kernel exp(−γ‖x − x'‖²), the paper's grid."""
PAPER_NUS = (0.01, 0.05, 0.1, 0.2, 0.5)
"""ν of the OC-SVM, the paper's grid."""


@dataclass(frozen=True)
class Method:
    """One method name.

    ``estimator`` names the class in ``deepsad.models`` (deep) or ``deepsad.baselines``;
    ``fixed`` are parameters the name sets (``deepsvdd-soft``: the soft-boundary objective).
    A hybrid names its shallow ``detector`` and runs it on an ``Autoencoder``'s codes; its
    parameters are ``detector__*`` and ``autoencoder__*``. ``grid`` is what a selection
    protocol chooses (empty: nothing; KDE cross-validates its own bandwidth, Isolation Forest
    keeps the paper's setting, and the paper does not tune the deep methods).
    ``needs_labeled_anomalies``: the method learns the anomaly class from labeled anomalies
    and has nothing to learn without them (the paper leaves its γl = 0 points empty).
    ``ignores_labels``: the method is unsupervised; it leaves labeled anomalies out of training,
    so without pollution its training data are the same at every γl.
    ``images_only``: the method needs samples that are images (FCDD's fully convolutional
    network); experiments on tables are refused.
    ``auto_schedule`` and ``defaults_revision``: the schedule parameters whose "auto" default
    resolves per kind of input, and how often their meaning on tables changed (an experiment
    key includes it where the experiment relies on them; ``Experiment.key``).
    """

    name: str
    estimator: str
    deep: bool
    fixed: dict = field(default_factory=dict)
    detector: str | None = None
    grid: dict[str, tuple[float, ...]] = field(default_factory=dict)
    needs_labeled_anomalies: bool = False
    ignores_labels: bool = False
    images_only: bool = False
    auto_schedule: tuple[str, ...] = ()
    defaults_revision: int = 0

    @property
    def scaler_parameter(self) -> str | None:
        """The parameter that lets the estimator standardize tables itself (fitted on the
        samples it trains on): ``scaler`` of a deep estimator, ``autoencoder__scaler`` of a
        hybrid; None for the shallow baselines, which have none."""
        if self.detector is not None:
            return "autoencoder__scaler"
        return "scaler" if self.deep else None

    @property
    def savable(self) -> bool:
        """Whether a fitted estimator of this method can be saved to a model file."""
        return self.deep


# SSAD's κ = η_u = η_l = 1 are fixed by the paper (they are SSAD's defaults C, C_labeled,
# kappa); only its kernel width is tuned.
_OCSVM_GRID = {"gamma": PAPER_GAMMAS, "nu": PAPER_NUS}
_SSAD_GRID = {"gamma": PAPER_GAMMAS}


def _hybrid(name: str, detector: str, grid: dict | None = None, ignores_labels: bool = True) -> Method:
    return Method(
        name=name,
        estimator="Hybrid",
        deep=False,
        detector=detector,
        grid={f"detector__{name}": values for name, values in (grid or {}).items()},
        ignores_labels=ignores_labels,
    )


METHODS: dict[str, Method] = {
    method.name: method
    for method in (
        Method("deepsad", "DeepSAD", deep=True, auto_schedule=("lr", "batch_size", "ae_lr", "ae_batch_size"),
               defaults_revision=1),
        Method("deepsvdd", "DeepSVDD", deep=True, ignores_labels=True),
        Method("deepsvdd-soft", "DeepSVDD", deep=True, fixed={"objective": "soft-boundary"}, ignores_labels=True),
        Method("hsc", "HSC", deep=True),
        Method("ae", "Autoencoder", deep=True, ignores_labels=True),
        Method("fcdd", "FCDD", deep=True, images_only=True),
        Method("supervised", "SupervisedClassifier", deep=True, needs_labeled_anomalies=True),
        Method("ssdgm", "SSDGM", deep=True, needs_labeled_anomalies=True),
        Method("ocsvm", "OCSVM", deep=False, grid=_OCSVM_GRID, ignores_labels=True),
        Method("iforest", "IsolationForest", deep=False, ignores_labels=True),
        Method("kde", "KDE", deep=False, ignores_labels=True),
        Method("ssad", "SSAD", deep=False, grid=_SSAD_GRID),
        _hybrid("hybrid-ocsvm", "OCSVM", _OCSVM_GRID),
        _hybrid("hybrid-iforest", "IsolationForest"),
        _hybrid("hybrid-kde", "KDE"),
        _hybrid("hybrid-ssad", "SSAD", _SSAD_GRID, ignores_labels=False),
    )
}
"""The methods by name."""

SAVABLE_METHODS = tuple(name for name, method in METHODS.items() if method.savable)
"""The names whose fitted estimators can be saved to a model file."""

TUNABLE_METHODS = tuple(name for name, method in METHODS.items() if method.grid)
"""The names with parameters a selection protocol chooses."""


def method(name: str) -> Method:
    """The method of a name, or a ValueError listing the names."""
    if name not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; got {name!r}")
    return METHODS[name]
