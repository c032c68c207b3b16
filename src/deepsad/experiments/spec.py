"""One experiment: which data, which scenario, which method with which parameters, which seed.

An experiment's ``key`` is a hash of everything that determines its result, so a results
store can tell what has already been run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields

from deepsad.data.datasets import DATASETS, PIXELS, dataset_info
from deepsad.experiments.methods import METHODS, TUNABLE_METHODS

SELECTION_PROTOCOLS = ("paper", "honest")
"""How a method's ``grid`` parameters are chosen (``deepsad.experiments.selection``): "paper"
tunes on 10% of the test set and reports on the rest, "honest" uses the training set only."""

MAX_SEED = 2**32 - 1
"""The largest seed: an experiment's seed is its estimators' ``random_state``, which NumPy's
``RandomState`` (and so scikit-learn) takes in [0, 2**32 - 1]."""

PREPROCESSINGS = ("gcn",)
"""Non-default image preprocessing (``deepsad.experiments.tasks``): "gcn" is Deep SVDD's (ICML
2018) global contrast normalization with min-max scaling; the default (None) scales pixels to
[0, 1] as the Deep SAD paper does."""


@dataclass(frozen=True)
class Experiment:
    """The full definition of one run.

    A plain value: it imports no model and checks only its own values. The parameter names
    in ``params`` are the method's to check (``deepsad.experiments.estimators``), once per
    configuration.

    ``normal_class`` (one-vs-rest datasets only) is the normal class; the other classes are
    the anomalies. ``known_anomaly_classes`` are the classes labeled anomalies come from;
    when left as None, ``n_known_classes`` of them are drawn at random with the seed. The
    ODDS sets have one anomaly class (their outliers) and no ``normal_class``. The ratios are
    the paper's: known normals and known anomalies (γl) as fractions of the training set,
    pollution (γp) as a fraction of the unlabeled data. ``selection`` (one of
    ``SELECTION_PROTOCOLS``) chooses a shallow method's kernel parameters instead of taking
    them from ``params``; None runs ``params`` as they are. ``preprocessing`` ("gcn", image
    datasets only) replaces the default [0, 1] pixel scaling by Deep SVDD's global contrast
    normalization (see ``PREPROCESSINGS``).
    """

    dataset: str
    method: str
    seed: int = 0
    normal_class: int | None = None
    known_anomaly_classes: tuple[int, ...] | None = None
    n_known_classes: int = 1
    ratio_known_normal: float = 0.0
    ratio_known_anomaly: float = 0.0
    ratio_pollution: float = 0.0
    params: dict = field(default_factory=dict, hash=False)
    selection: str | None = None
    preprocessing: str | None = None

    def __post_init__(self) -> None:
        info = dataset_info(self.dataset)
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}; got {self.method!r}")
        if not isinstance(self.params, dict):
            raise ValueError(f"params must be a dictionary of estimator parameters; got {self.params!r}")
        if METHODS[self.method].images_only and info.image_shape is None:
            images = [name for name, other in DATASETS.items() if other.image_shape is not None]
            raise ValueError(f"method {self.method!r} needs images; {self.dataset!r} is a table (image datasets: {images})")
        if self.selection is not None:
            self._check_selection()
        if self.preprocessing is not None:
            if self.preprocessing not in PREPROCESSINGS:
                raise ValueError(f"preprocessing must be one of {list(PREPROCESSINGS)} or None; got {self.preprocessing!r}")
            if info.preprocessing != PIXELS:
                images = [name for name, other in DATASETS.items() if other.preprocessing == PIXELS]
                raise ValueError(
                    f"preprocessing={self.preprocessing!r} applies to the image datasets {images}; "
                    f"the dataset is {self.dataset!r}"
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= MAX_SEED:
            raise ValueError(f"seed must be an integer in [0, 2**32 - 1]; got {self.seed!r}")
        if info.one_vs_rest:
            n_classes = len(info.classes)
            if self.normal_class not in range(n_classes):
                raise ValueError(
                    f"dataset {self.dataset!r} is used one-vs-rest: normal_class must be one of "
                    f"0..{n_classes - 1}; got {self.normal_class!r}"
                )
            if self.known_anomaly_classes is not None:
                wrong = [c for c in self.known_anomaly_classes if c not in range(n_classes) or c == self.normal_class]
                if wrong:
                    raise ValueError(
                        f"known_anomaly_classes must be classes 0..{n_classes - 1} other than the normal class "
                        f"{self.normal_class}; got {list(self.known_anomaly_classes)}"
                    )
                object.__setattr__(self, "known_anomaly_classes", tuple(int(c) for c in self.known_anomaly_classes))
        elif self.normal_class is not None or self.known_anomaly_classes is not None:
            raise ValueError(
                f"dataset {self.dataset!r} has one normal and one anomaly class; leave "
                "normal_class and known_anomaly_classes unset"
            )
        for name in ("ratio_known_normal", "ratio_known_anomaly", "ratio_pollution"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be a number in [0, 1); got {value!r}")
            object.__setattr__(self, name, float(value))
        if isinstance(self.n_known_classes, bool) or not isinstance(self.n_known_classes, int) or self.n_known_classes < 0:
            raise ValueError(f"n_known_classes must be a non-negative integer; got {self.n_known_classes!r}")

    def _check_selection(self) -> None:
        if self.selection not in SELECTION_PROTOCOLS:
            raise ValueError(f"selection must be one of {list(SELECTION_PROTOCOLS)} or None; got {self.selection!r}")
        if self.method not in TUNABLE_METHODS:
            raise ValueError(
                f"method {self.method!r} has no parameters to select; selection applies to {list(TUNABLE_METHODS)}"
            )
        fixed = sorted(set(self.params) & set(METHODS[self.method].grid))
        if fixed:
            raise ValueError(
                f"params fix {fixed}, which selection={self.selection!r} chooses for method {self.method!r}; "
                "leave them out of params"
            )

    def to_dict(self) -> dict:
        values = asdict(self)
        if values["known_anomaly_classes"] is not None:
            values["known_anomaly_classes"] = list(values["known_anomaly_classes"])
        # Left out when unset, so the keys (and records) of experiments defined before the
        # field existed stay what they were.
        for name in ("selection", "preprocessing"):
            if values[name] is None:
                del values[name]
        return values

    @classmethod
    def from_dict(cls, values: dict) -> Experiment:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown experiment field(s) {unknown}; expected some of {sorted(known)}")
        values = dict(values)
        if values.get("known_anomaly_classes") is not None:
            values["known_anomaly_classes"] = tuple(values["known_anomaly_classes"])
        return cls(**values)

    @property
    def key(self) -> str:
        """A stable 16-hex-digit id of everything that determines the result."""
        values = self.to_dict()
        revision = self._defaults_revision()
        if revision:
            values["defaults_revision"] = revision
        canonical = json.dumps(values, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def _defaults_revision(self) -> int:
        """Which defaults the result rests on, where they changed: Deep SAD on a table with an
        "auto" schedule (lr, batch_size, ae_lr or ae_batch_size left unset) trains at 1e-3 and
        64 since revision 1, at the paper's 1e-4 and 128 before. The key then differs from the
        old one, so a store never mixes the two under one key; unchanged keys elsewhere."""
        method = METHODS[self.method]
        on_table = dataset_info(self.dataset).preprocessing != PIXELS and not method.images_only
        relies_on_auto = any(name not in self.params for name in method.auto_schedule)
        return method.defaults_revision if on_table and relies_on_auto else 0

    def describe(self) -> str:
        parts = [self.dataset]
        if self.normal_class is not None:
            parts.append(f"normal={self.normal_class}")
        parts += [self.method, f"γl={self.ratio_known_anomaly:g}", f"γp={self.ratio_pollution:g}", f"seed={self.seed}"]
        if self.ratio_known_normal:
            parts.append(f"γn={self.ratio_known_normal:g}")
        if self.known_anomaly_classes:
            parts.append(f"known={list(self.known_anomaly_classes)}")
        elif self.ratio_known_anomaly and self.normal_class is not None:
            parts.append(f"kl={self.n_known_classes}")
        if self.selection is not None:
            parts.append(f"selection={self.selection}")
        if self.preprocessing is not None:
            parts.append(f"preprocessing={self.preprocessing}")
        if self.params:  # two runs of a parameter grid must not read the same
            parts.append(json.dumps(dict(self.params), sort_keys=True, separators=(",", "=")).replace('"', ""))
        return " ".join(parts)
