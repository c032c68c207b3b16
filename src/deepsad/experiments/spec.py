"""One experiment: which data, which scenario, which method with which parameters, which seed.

An experiment's ``key`` is a hash of everything that determines its result, so a results
store can tell what has already been run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields

from deepsad.data.datasets import DATASETS, IMAGE_DATASETS, ODDS_DATASETS
from deepsad.experiments.methods import check_method_params
from deepsad.experiments.selection import check_selection

BUNDLED_DATASETS = ("digits",)
"""Datasets that ship with a dependency (scikit-learn's 8×8 digits) and need no download."""

PREPROCESSINGS = ("gcn",)
"""Non-default image preprocessing (``deepsad.experiments.tasks``): "gcn" is Deep SVDD's (ICML
2018) global contrast normalization with min-max scaling; the default (None) scales pixels to
[0, 1] as the Deep SAD paper does."""

ALL_DATASETS = BUNDLED_DATASETS + DATASETS
CLASS_DATASETS = BUNDLED_DATASETS + IMAGE_DATASETS
"""Datasets with ten classes, used one-vs-rest: one class normal, the others anomalies."""


@dataclass(frozen=True)
class Experiment:
    """The full definition of one run.

    ``normal_class`` (class datasets only) is the normal class; the other classes are the
    anomalies. ``known_anomaly_classes`` are the classes labeled anomalies come from; when
    left as None, ``n_known_classes`` of them are drawn at random with the seed. ODDS sets
    have one anomaly class (their outliers) and no ``normal_class``. The ratios are the
    paper's: known normals and known anomalies (γl) as fractions of the training set,
    pollution (γp) as a fraction of the unlabeled data. ``selection`` ("paper" or "honest",
    see ``deepsad.experiments.selection``) chooses a shallow method's kernel parameters
    instead of taking them from ``params``; None runs ``params`` as they are.
    ``preprocessing`` ("gcn", image datasets only) replaces the default [0, 1] pixel scaling
    by Deep SVDD's global contrast normalization (see ``PREPROCESSINGS``).
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
        if self.dataset not in ALL_DATASETS:
            raise ValueError(f"dataset must be one of {list(ALL_DATASETS)}; got {self.dataset!r}")
        check_method_params(self.method, self.params)
        if self.selection is not None:
            check_selection(self.method, self.selection, self.params)
        if self.preprocessing is not None:
            if self.preprocessing not in PREPROCESSINGS:
                raise ValueError(f"preprocessing must be one of {list(PREPROCESSINGS)} or None; got {self.preprocessing!r}")
            if self.dataset not in IMAGE_DATASETS:
                raise ValueError(
                    f"preprocessing={self.preprocessing!r} applies to the image datasets {list(IMAGE_DATASETS)}; "
                    f"the dataset is {self.dataset!r}"
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise ValueError(f"seed must be a non-negative integer; got {self.seed!r}")
        if self.dataset in CLASS_DATASETS:
            if self.normal_class not in range(10):
                raise ValueError(
                    f"dataset {self.dataset!r} is used one-vs-rest: normal_class must be one of "
                    f"0..9; got {self.normal_class!r}"
                )
            if self.known_anomaly_classes is not None:
                wrong = [c for c in self.known_anomaly_classes if c not in range(10) or c == self.normal_class]
                if wrong:
                    raise ValueError(
                        f"known_anomaly_classes must be classes 0..9 other than the normal class "
                        f"{self.normal_class}; got {list(self.known_anomaly_classes)}"
                    )
                object.__setattr__(self, "known_anomaly_classes", tuple(int(c) for c in self.known_anomaly_classes))
        elif self.normal_class is not None or self.known_anomaly_classes is not None:
            raise ValueError(
                f"dataset {self.dataset!r} (ODDS) has one normal and one anomaly class; leave "
                "normal_class and known_anomaly_classes unset"
            )
        for name in ("ratio_known_normal", "ratio_known_anomaly", "ratio_pollution"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value < 1.0:
                raise ValueError(f"{name} must be a number in [0, 1); got {value!r}")
            object.__setattr__(self, name, float(value))
        if isinstance(self.n_known_classes, bool) or not isinstance(self.n_known_classes, int) or self.n_known_classes < 0:
            raise ValueError(f"n_known_classes must be a non-negative integer; got {self.n_known_classes!r}")

    @property
    def is_odds(self) -> bool:
        return self.dataset in ODDS_DATASETS

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
        canonical = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def describe(self) -> str:
        parts = [self.dataset]
        if self.normal_class is not None:
            parts.append(f"normal={self.normal_class}")
        parts += [self.method, f"γl={self.ratio_known_anomaly:g}", f"γp={self.ratio_pollution:g}", f"seed={self.seed}"]
        if self.selection is not None:
            parts.append(f"selection={self.selection}")
        if self.preprocessing is not None:
            parts.append(f"preprocessing={self.preprocessing}")
        return " ".join(parts)
